/* snapshot.c - live.jpg: the camera thread parks a reference to each keyframe;
 * the first reader after it decodes that one packet and encodes a JPEG (an
 * MJPEG camera's keyframe is a JPEG already, and is handed out as it is). */
#include "stream/snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <libavutil/frame.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "ingest/source.h"

#define JPEG_QSCALE 4   /* as ffmpeg -q:v 4: no visible blocking; 40-370 KB at 1080p */

/* Two locks so that snapshot_update never waits for an encode: lock is held
 * only for pointer swaps, reference counts and (when the stream changes) a
 * parameter copy; encode_lock serialises the encoders, so that concurrent
 * readers of one keyframe share one encode. Order: encode_lock, then lock. */
struct snapshot {
	pthread_mutex_t lock;
	AVPacket *pkt;              /* guarded by lock; the newest keyframe, NULL before */
	AVCodecParameters *par;     /* guarded by lock; describes pkt */
	uint64_t par_gen;           /* guarded by lock; bumped when par changes */
	uint64_t seq;               /* guarded by lock; bumped per keyframe, 0: none yet */
	struct snapshot_jpeg jpeg;  /* guarded by lock; the cache's own reference */
	uint64_t jpeg_seq;          /* guarded by lock; the keyframe jpeg/jpeg_err is of */
	int jpeg_err;               /* guarded by lock; that keyframe's failure, or 0 */

	pthread_mutex_t encode_lock;
	AVCodecParameters *dec_par; /* guarded by encode_lock; copy of par at dec_par_gen */
	uint64_t dec_par_gen;       /* guarded by encode_lock */
	AVCodecContext *dec;        /* guarded by encode_lock; opened from dec_par at dec_gen */
	uint64_t dec_gen;           /* guarded by encode_lock */
	struct SwsContext *sws;     /* guarded by encode_lock; for the sws_* below */
	int sws_width, sws_height, sws_format, sws_full;   /* guarded by encode_lock */
	AVCodecContext *enc;        /* guarded by encode_lock; mjpeg at the last size */
};

int snapshot_new(struct snapshot **out)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return AVERROR(ENOMEM);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->encode_lock, NULL);
	s->par = avcodec_parameters_alloc();
	s->dec_par = avcodec_parameters_alloc();
	if (!s->par || !s->dec_par) {
		snapshot_free(s);
		return AVERROR(ENOMEM);
	}
	*out = s;
	return 0;
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	av_packet_free(&s->pkt);
	avcodec_parameters_free(&s->par);
	av_buffer_unref(&s->jpeg.buf);
	avcodec_parameters_free(&s->dec_par);
	avcodec_free_context(&s->dec);
	sws_freeContext(s->sws);
	avcodec_free_context(&s->enc);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->encode_lock);
	free(s);
}

int snapshot_update(struct snapshot *s, const AVCodecParameters *par, const AVPacket *pkt)
{
	AVPacket *fresh = av_packet_alloc();
	int ret;

	if (!fresh)
		return AVERROR(ENOMEM);
	ret = av_packet_ref(fresh, pkt);   /* outside the lock: it may copy */
	if (ret < 0)
		goto out;
	pthread_mutex_lock(&s->lock);
	if (!source_same_stream(s->par, par)) {
		s->par_gen++;
		ret = avcodec_parameters_copy(s->par, par);
		if (ret < 0)   /* half copied: make sure it never matches or decodes */
			s->par->codec_id = AV_CODEC_ID_NONE;
	}
	if (ret >= 0) {
		AVPacket *old = s->pkt;

		s->pkt = fresh;
		fresh = old;
		s->seq++;
	}
	pthread_mutex_unlock(&s->lock);
out:
	av_packet_free(&fresh);   /* the previous keyframe, freed outside the lock */
	return ret;
}

/* With s->lock held. 1: *out is a new reference to the newest keyframe's
 * JPEG; 0: that JPEG is not made yet; negative: -EAGAIN before any keyframe,
 * or the error that keyframe gave. */
static int take_cached(struct snapshot *s, struct snapshot_jpeg *out)
{
	if (!s->seq)
		return -EAGAIN;
	if (s->jpeg_seq != s->seq)
		return 0;
	if (s->jpeg_err)
		return s->jpeg_err;
	*out = s->jpeg;
	out->buf = av_buffer_ref(s->jpeg.buf);
	if (!out->buf) {
		memset(out, 0, sizeof(*out));
		return AVERROR(ENOMEM);
	}
	return 1;
}

/* With both locks held: a reference to the newest keyframe into pkt, its
 * number into *seq, and dec_par brought up to date. */
static int take_keyframe(struct snapshot *s, AVPacket *pkt, uint64_t *seq)
{
	int ret;

	if (s->dec_par_gen != s->par_gen) {
		ret = avcodec_parameters_copy(s->dec_par, s->par);
		if (ret < 0)
			return ret;
		s->dec_par_gen = s->par_gen;
	}
	*seq = s->seq;
	return av_packet_ref(pkt, s->pkt);
}

/* With encode_lock held. A decoder is kept between keyframes of one set of
 * parameters; it is drained after each packet and flushed before the next. */
static int open_decoder(struct snapshot *s)
{
	const AVCodec *codec = avcodec_find_decoder(s->dec_par->codec_id);
	int ret;

	avcodec_free_context(&s->dec);
	if (!codec)
		return AVERROR_DECODER_NOT_FOUND;
	s->dec = avcodec_alloc_context3(codec);
	if (!s->dec)
		return AVERROR(ENOMEM);
	ret = avcodec_parameters_to_context(s->dec, s->dec_par);
	if (ret < 0)
		goto out;
	s->dec->thread_count = 1;
	/* An I-frame with a recovery point is a keyframe to the demuxer; the
	 * H.264 decoder would hold it back as not yet "recovered". */
	s->dec->flags2 |= AV_CODEC_FLAG2_SHOW_ALL;
	ret = avcodec_open2(s->dec, codec, NULL);
	if (ret >= 0)
		s->dec_gen = s->dec_par_gen;
out:
	if (ret < 0)
		avcodec_free_context(&s->dec);
	return ret;
}

/* With encode_lock held: the picture of one keyframe packet into frame. */
static int decode(struct snapshot *s, const AVPacket *pkt, AVFrame *frame)
{
	AVFrame *extra = NULL;
	bool got = false;
	int ret;

	if (!s->dec || s->dec_gen != s->dec_par_gen) {
		ret = open_decoder(s);
		if (ret < 0)
			return ret;
	}
	ret = avcodec_send_packet(s->dec, pkt);
	if (ret < 0)
		goto out;
	ret = avcodec_send_packet(s->dec, NULL);   /* drain: out comes the one picture */
	if (ret < 0)
		goto out;
	while ((ret = avcodec_receive_frame(s->dec, got ? extra : frame)) >= 0) {
		if (got)
			av_frame_unref(extra);
		else if (!(extra = av_frame_alloc()))
			ret = AVERROR(ENOMEM);
		if (ret < 0)
			break;
		got = true;
	}
	if (ret == AVERROR_EOF)
		ret = got ? 0 : AVERROR_INVALIDDATA;
out:
	av_frame_free(&extra);
	if (ret < 0)   /* a decoder that failed starts afresh next time */
		avcodec_free_context(&s->dec);
	else
		avcodec_flush_buffers(s->dec);
	return ret;
}

/* The "J" formats say full range in the format itself; swscale wants the
 * plain format and the range apart (and warns about the J ones). */
static enum AVPixelFormat plain_format(enum AVPixelFormat fmt, int *full)
{
	switch (fmt) {
	case AV_PIX_FMT_YUVJ420P: *full = 1; return AV_PIX_FMT_YUV420P;
	case AV_PIX_FMT_YUVJ422P: *full = 1; return AV_PIX_FMT_YUV422P;
	case AV_PIX_FMT_YUVJ444P: *full = 1; return AV_PIX_FMT_YUV444P;
	case AV_PIX_FMT_YUVJ440P: *full = 1; return AV_PIX_FMT_YUV440P;
	case AV_PIX_FMT_YUVJ411P: *full = 1; return AV_PIX_FMT_YUV411P;
	default: return fmt;
	}
}

/* With encode_lock held: a scaler from the picture's format to 8-bit
 * full-range 4:2:0, which every JPEG viewer reads (JFIF is full range). The
 * ranges go in before sws_init_context: swscale picks its plain-copy path
 * at init when they agree, and sws_setColorspaceDetails afterwards does not
 * leave that path (nor convert above 8 bits), so the range would be lost. */
static int open_scaler(struct snapshot *s, int width, int height, int fmt, int full)
{
	int ret;

	if (s->sws && s->sws_width == width && s->sws_height == height &&
	    s->sws_format == fmt && s->sws_full == full)
		return 0;
	sws_freeContext(s->sws);
	s->sws = sws_alloc_context();
	if (!s->sws)
		return AVERROR(ENOMEM);
	if ((ret = av_opt_set_int(s->sws, "srcw", width, 0)) < 0 ||
	    (ret = av_opt_set_int(s->sws, "srch", height, 0)) < 0 ||
	    (ret = av_opt_set_int(s->sws, "src_format", fmt, 0)) < 0 ||
	    (ret = av_opt_set_int(s->sws, "src_range", full, 0)) < 0 ||
	    (ret = av_opt_set_int(s->sws, "dstw", width, 0)) < 0 ||
	    (ret = av_opt_set_int(s->sws, "dsth", height, 0)) < 0 ||
	    (ret = av_opt_set_int(s->sws, "dst_format", AV_PIX_FMT_YUV420P, 0)) < 0 ||
	    (ret = av_opt_set_int(s->sws, "dst_range", 1, 0)) < 0 ||
	    (ret = av_opt_set_int(s->sws, "sws_flags", SWS_BICUBIC, 0)) < 0)
		goto out;
	ret = sws_init_context(s->sws, NULL, NULL);   /* fails on formats it cannot read */
	s->sws_width = width;
	s->sws_height = height;
	s->sws_format = fmt;
	s->sws_full = full;
out:
	if (ret < 0) {
		sws_freeContext(s->sws);
		s->sws = NULL;
	}
	return ret;
}

/* With encode_lock held: any decoded picture to what open_scaler says. Only
 * the range changes; the matrix stays the stream's (swscale does not
 * convert between YUV matrices; BT.709 in a JPEG shifts hues slightly). */
static int convert(struct snapshot *s, const AVFrame *in, AVFrame *out)
{
	int full = in->color_range == AVCOL_RANGE_JPEG;
	enum AVPixelFormat fmt = plain_format(in->format, &full);
	int ret;

	ret = open_scaler(s, in->width, in->height, fmt, full);
	if (ret < 0)
		return ret;
	out->format = AV_PIX_FMT_YUV420P;
	out->width = in->width;
	out->height = in->height;
	out->color_range = AVCOL_RANGE_JPEG;
	ret = av_frame_get_buffer(out, 0);
	if (ret < 0)
		return ret;
	ret = sws_scale(s->sws, (const uint8_t *const *)in->data, in->linesize, 0, in->height,
			out->data, out->linesize);
	return ret < 0 ? ret : 0;
}

/* With encode_lock held. The encoder is kept while the size stays. */
static int open_encoder(struct snapshot *s, int width, int height)
{
	const AVCodec *codec = avcodec_find_encoder_by_name("mjpeg");
	int ret;

	avcodec_free_context(&s->enc);
	if (!codec)
		return AVERROR_ENCODER_NOT_FOUND;
	s->enc = avcodec_alloc_context3(codec);
	if (!s->enc)
		return AVERROR(ENOMEM);
	s->enc->width = width;
	s->enc->height = height;
	s->enc->pix_fmt = AV_PIX_FMT_YUV420P;
	s->enc->color_range = AVCOL_RANGE_JPEG;
	s->enc->time_base = (AVRational){ 1, 25 };   /* required, meaningless here */
	s->enc->thread_count = 1;
	s->enc->flags |= AV_CODEC_FLAG_QSCALE;
	s->enc->global_quality = FF_QP2LAMBDA * JPEG_QSCALE;
	ret = avcodec_open2(s->enc, codec, NULL);
	if (ret < 0)
		avcodec_free_context(&s->enc);
	return ret;
}

/* With encode_lock held: pic as one JPEG into jpeg (refcounted). */
static int encode(struct snapshot *s, AVFrame *pic, AVPacket *jpeg)
{
	int ret;

	if (!s->enc || s->enc->width != pic->width || s->enc->height != pic->height) {
		ret = open_encoder(s, pic->width, pic->height);
		if (ret < 0)
			return ret;
	}
	pic->quality = s->enc->global_quality;   /* QSCALE takes it per picture */
	pic->pts = AV_NOPTS_VALUE;               /* a reused encoder numbers them itself */
	ret = avcodec_send_frame(s->enc, pic);
	if (ret >= 0)
		ret = avcodec_receive_packet(s->enc, jpeg);
	if (ret == AVERROR(EAGAIN))   /* mjpeg has no delay; -EAGAIN means "no keyframe" */
		ret = AVERROR_BUG;
	if (ret < 0)
		avcodec_free_context(&s->enc);
	return ret;
}

/* With encode_lock held: the JPEG of pkt into *out (a new reference). */
static int make_jpeg(struct snapshot *s, const AVPacket *pkt, struct snapshot_jpeg *out)
{
	AVFrame *pic = av_frame_alloc(), *yuv = av_frame_alloc();
	AVPacket *jpeg = av_packet_alloc();
	int ret = AVERROR(ENOMEM);

	if (!pic || !yuv || !jpeg)
		goto out;
	ret = decode(s, pkt, pic);
	if (ret < 0)
		goto out;
	ret = convert(s, pic, yuv);
	if (ret < 0)
		goto out;
	ret = encode(s, yuv, jpeg);
	if (ret < 0)
		goto out;
	out->buf = av_buffer_ref(jpeg->buf);   /* encoder output is always refcounted */
	if (!out->buf) {
		ret = AVERROR(ENOMEM);
		goto out;
	}
	out->data = jpeg->data;
	out->size = jpeg->size;
	out->width = yuv->width;
	out->height = yuv->height;
out:
	av_frame_free(&pic);
	av_frame_free(&yuv);
	av_packet_free(&jpeg);
	return ret;
}

/* With s->lock held. 1: the newest keyframe is the camera's own JPEG (an
 * MJPEG camera's picture starts with SOI) and *out is a new reference to
 * it: passed on as it came, never decoded and encoded again; 0: it is not. */
static int take_own(struct snapshot *s, struct snapshot_jpeg *out)
{
	const AVPacket *pkt = s->pkt;

	if (!s->seq || s->par->codec_id != AV_CODEC_ID_MJPEG || pkt->size < 4 ||
	    pkt->data[0] != 0xff || pkt->data[1] != 0xd8)
		return 0;
	if (!(out->buf = av_buffer_ref(pkt->buf)))
		return AVERROR(ENOMEM);
	out->data = pkt->data;
	out->size = (size_t)pkt->size;
	out->width = s->par->width;
	out->height = s->par->height;
	out->own = true;
	return 1;
}

int snapshot_get_jpeg(struct snapshot *s, struct snapshot_jpeg *out)
{
	struct snapshot_jpeg made = { 0 };
	AVBufferRef *old = NULL;
	AVPacket *pkt = NULL;
	uint64_t seq = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	ret = take_own(s, out);
	if (!ret)
		ret = take_cached(s, out);
	pthread_mutex_unlock(&s->lock);
	if (ret)
		return ret < 0 ? ret : 0;

	pthread_mutex_lock(&s->encode_lock);
	pkt = av_packet_alloc();
	pthread_mutex_lock(&s->lock);
	ret = take_cached(s, out);   /* whoever held encode_lock may have made it */
	if (!ret)
		ret = pkt ? take_keyframe(s, pkt, &seq) : AVERROR(ENOMEM);
	pthread_mutex_unlock(&s->lock);
	if (ret)
		goto out;

	ret = make_jpeg(s, pkt, &made);
	if (ret >= 0 && !(out->buf = av_buffer_ref(made.buf)))
		ret = AVERROR(ENOMEM);
	if (ret >= 0) {
		out->data = made.data;
		out->size = made.size;
		out->width = made.width;
		out->height = made.height;
	}
	/* Cache the outcome for seq; a failure too, so that a bad keyframe is
	 * tried once, not at every open (unless memory ran short). seq is at
	 * least jpeg_seq: encoders take turns and each takes the newest. */
	if (ret != AVERROR(ENOMEM)) {
		pthread_mutex_lock(&s->lock);
		old = s->jpeg.buf;
		s->jpeg = made;
		made.buf = NULL;
		s->jpeg_seq = seq;
		s->jpeg_err = ret < 0 ? ret : 0;
		pthread_mutex_unlock(&s->lock);
	}
out:
	pthread_mutex_unlock(&s->encode_lock);
	av_buffer_unref(&old);
	av_buffer_unref(&made.buf);
	av_packet_free(&pkt);
	if (ret < 0) {
		av_buffer_unref(&out->buf);
		memset(out, 0, sizeof(*out));
	}
	return ret < 0 ? ret : 0;
}
