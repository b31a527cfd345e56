/* avsource.c - the libavformat source behind rtsp:// and file URLs, and
 * behind a browser's pushed stream: every blocking call runs under an
 * interrupt callback with a deadline (a pushed stream's reads wait on the
 * deadline themselves). */
#include "ingest/avsource.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
#include <libavutil/intreadwrite.h>

#include "ingest/pushslot.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stop.h"

/* How long past PUSHED_MP4_MAX_US a renewal waits for a keyframe. */
#define RENEW_GRACE_US (30 * INT64_C(1000000))

struct av_source {
	AVFormatContext *in;
	int video_index, audio_index;   /* in the input, -1 if none */
	bool timed_out;                 /* interrupt_cb fired on src->deadline_us */
	bool video_timed;               /* a timed video packet went out */
	int64_t pace_start_us;          /* realtime files: monotonic at first packet */
	int64_t pace_first_dts;
	bool told_dropped_audio;
	/* RTSP hands over the first keyframe before it can time it: it waits
	 * in untimed until the next video packet's time tells its own, and
	 * that packet waits in held, so a connection does not lose a GOP. */
	AVPacket *untimed, *held;       /* empty unless waiting */
	/* A pushed stream: libavformat reads piece from piece_off on. */
	AVIOContext *pb;
	AVPacket *piece;
	int piece_off;
	bool pushed_begun;              /* pushslot_stream_begin succeeded */
	/* A pushed MP4's end (monotonic): libavformat's mp4 reader keeps an
	 * entry for every sample it has seen, so the session ends there, at a
	 * keyframe, and the browser starts a new recording. 0: no end. */
	int64_t renew_at_us;
	/* A pushed stream's H.264/H.265 comes length-prefixed (MP4, WebM):
	 * made Annex B with its parameter sets, as RTSP gives it and the rest
	 * of camfs reads it. NULL: not needed. */
	AVBSFContext *annexb;
};

/* FFmpeg polls this during every blocking call: a call still waiting at the
 * source's deadline, or a stop request, makes it return AVERROR_EXIT. */
static int interrupt_cb(void *opaque)
{
	struct source *src = opaque;
	struct av_source *av = src->priv;

	if (stop_requested(src->opts->stop))
		return 1;
	if (clock_monotonic_us(src->opts->clock) > src->deadline_us)
		av->timed_out = true;
	return av->timed_out;
}

/* Whatever FFmpeg made of an interrupted call, the cause was the deadline. */
static int deadline_error(struct source *src, int ret)
{
	struct av_source *av = src->priv;

	return ret < 0 && av->timed_out ? AVERROR(ETIMEDOUT) : ret;
}

/* A new step of the open gets its own timeout. */
static void arm_deadline(struct source *src)
{
	struct av_source *av = src->priv;

	if (src->opts->timeout_us > 0)
		src->deadline_us = clock_monotonic_us(src->opts->clock) + src->opts->timeout_us;
	av->timed_out = false;
}

static bool is_rtsp(const char *url)
{
	return strncmp(url, "rtsp://", 7) == 0 || strncmp(url, "rtsps://", 8) == 0;
}

static bool is_http(const char *url)
{
	return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

/* The protocols a source may reach, the ones it names and any its demuxer
 * opens on its own (an HLS playlist's segments, an RTSP camera's RTP):
 * network protocols for a camera, the file alone for a local file. A
 * camera's data never makes FFmpeg read local files or run other
 * protocols (concat, subfile, data, pipes). */
#define NETWORK_PROTOCOLS "rtsp,rtsps,rtp,srtp,udp,tcp,tls,http,https,httpproxy,crypto"

static const char *protocols_for(const char *url)
{
	return strstr(url, "://") && strncmp(url, "file:", 5) != 0 ? NETWORK_PROTOCOLS : "file";
}

/* What MP4 segments hold without transcoding: cameras' H.264, H.265 and
 * MJPEG, and VP9, which browsers record where they offer no H.264. */
static bool recordable(enum AVCodecID id)
{
	return id == AV_CODEC_ID_H264 || id == AV_CODEC_ID_HEVC || id == AV_CODEC_ID_MJPEG ||
	       id == AV_CODEC_ID_VP9;
}

static int pick_streams(struct source *src)
{
	struct av_source *av = src->priv;

	av->video_index = av_find_best_stream(av->in, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (av->video_index < 0)
		return AVERROR_STREAM_NOT_FOUND;
	AVStream *v = av->in->streams[av->video_index];
	if (!recordable(v->codecpar->codec_id)) {
		/* VP8 is what some browsers record: MP4 has no place for it. */
		log_warning(src->opts->tag, "video codec %s is not recorded (H.264, H.265, VP9 and MJPEG are%s)",
			    avcodec_get_name(v->codecpar->codec_id),
			    v->codecpar->codec_id == AV_CODEC_ID_VP8 ? "; MP4 cannot hold VP8" : "");
		return SOURCE_ERROR_CODEC;
	}
	/* A probe that saw no VP9 frame: the segments' vpcC would be empty. */
	if (v->codecpar->codec_id == AV_CODEC_ID_VP9 && v->codecpar->format < 0)
		return SOURCE_ERROR_NO_MEDIA;
	src->video.par = v->codecpar;
	src->video.time_base = v->time_base;

	av->audio_index = -1;
	for (unsigned i = 0; i < av->in->nb_streams; i++) {
		AVCodecParameters *par = av->in->streams[i]->codecpar;

		if (par->codec_type != AVMEDIA_TYPE_AUDIO)
			continue;
		if (par->codec_id == AV_CODEC_ID_AAC && av->audio_index < 0) {
			av->audio_index = i;
			src->audio.par = par;
			src->audio.time_base = av->in->streams[i]->time_base;
		} else if (!av->told_dropped_audio) {
			log_notice(src->opts->tag, "audio %s is not recorded (only AAC is kept)",
				   avcodec_get_name(par->codec_id));
			av->told_dropped_audio = true;
		}
	}
	return 0;
}

/* The pushed stream's next piece into av->piece, waiting no longer than
 * the source's deadline. */
static int next_piece(struct source *src)
{
	struct av_source *av = src->priv;

	av_packet_unref(av->piece);
	av->piece_off = 0;
	return pushslot_stream_read(src->opts->push, av->piece, source_wait_deadline_us(src));
}

/* libavformat's read of a pushed stream: the next bytes the connection
 * queued. */
static int read_pushed(void *opaque, uint8_t *buf, int size)
{
	struct source *src = opaque;
	struct av_source *av = src->priv;
	int n, ret;

	while (av->piece_off >= av->piece->size)
		if ((ret = next_piece(src)) < 0) {
			/* libavformat may make its own error of it. */
			if (ret == AVERROR(ETIMEDOUT))
				av->timed_out = true;
			return ret;
		}
	n = FFMIN(size, av->piece->size - av->piece_off);
	memcpy(buf, av->piece->data + av->piece_off, (size_t)n);
	av->piece_off += n;
	return n;
}

/* Sets up annexb when the video is length-prefixed (avcC/hvcC extradata,
 * which starts with 1); src->video.par becomes the filter's output. */
static int to_annexb(struct source *src)
{
	struct av_source *av = src->priv;
	const AVCodecParameters *par = src->video.par;
	const char *name = par->codec_id == AV_CODEC_ID_H264 ? "h264_mp4toannexb" :
		par->codec_id == AV_CODEC_ID_HEVC ? "hevc_mp4toannexb" : NULL;
	int ret;

	if (!name || par->extradata_size < 1 || par->extradata[0] != 1)
		return 0;
	if ((ret = av_bsf_alloc(av_bsf_get_by_name(name), &av->annexb)) < 0 ||
	    (ret = avcodec_parameters_copy(av->annexb->par_in, par)) < 0)
		return ret;
	av->annexb->time_base_in = src->video.time_base;
	if ((ret = av_bsf_init(av->annexb)) < 0)
		return ret;
	src->video.par = av->annexb->par_out;
	src->video.time_base = av->annexb->time_base_out;
	return 0;
}

/* Every video stream has its size and decoder setup already. VP9's
 * profile and pixel format, which MP4's vpcC box needs, come from its first
 * frames (extradata, if a WebM has any, does not give them), so it is
 * probed. */
static bool described(const AVFormatContext *in)
{
	for (unsigned i = 0; i < in->nb_streams; i++) {
		const AVCodecParameters *par = in->streams[i]->codecpar;

		if (par->codec_type == AVMEDIA_TYPE_VIDEO &&
		    (par->width <= 0 || par->height <= 0 || !par->extradata_size ||
		     (par->codec_id == AV_CODEC_ID_VP9 && par->format < 0)))
			return false;
	}
	return in->nb_streams > 0;
}

/* What MediaRecorder writes: MP4 (its ftyp box first) or WebM/Matroska
 * (the EBML magic first). Naming it spares a probe, and a page's garbage
 * reaches no demuxer. */
static const AVInputFormat *pushed_format(const AVPacket *first)
{
	if (first->size >= 8 && memcmp(first->data + 4, "ftyp", 4) == 0)
		return av_find_input_format("mp4");
	if (first->size >= 4 && AV_RB32(first->data) == 0x1A45DFA3)
		return av_find_input_format("matroska");
	return NULL;
}

/* A browser's MediaRecorder output, from the stream's first byte. */
static int open_pushed(struct source *src)
{
	struct av_source *av = src->priv;
	const AVInputFormat *format;
	uint8_t *buffer;
	int ret;

	if (!(av->piece = av_packet_alloc()))
		return AVERROR(ENOMEM);
	ret = pushslot_stream_begin(src->opts->push, source_wait_deadline_us(src));
	if (ret < 0)
		return ret;
	av->pushed_begun = true;
	arm_deadline(src);
	/* The first piece stays in av->piece: read_pushed hands it on. */
	ret = next_piece(src);
	if (ret == AVERROR(ETIMEDOUT))
		return SOURCE_ERROR_NO_MEDIA;
	if (ret < 0)
		return ret;
	if (!(format = pushed_format(av->piece)))
		return SOURCE_ERROR_NOT_RECORDER;
	if (!(buffer = av_malloc(PUSHSLOT_PIECE)))
		return AVERROR(ENOMEM);
	av->pb = avio_alloc_context(buffer, PUSHSLOT_PIECE, 0, src, read_pushed, NULL, NULL);
	if (!av->pb) {
		av_free(buffer);
		return AVERROR(ENOMEM);
	}
	av->in->pb = av->pb;
	arm_deadline(src);
	return avformat_open_input(&av->in, "", format, NULL);
}

/* A camera's or a file's URL, through the protocols it may use. */
static int open_url(struct source *src, const struct source_opts *opts)
{
	struct av_source *av = src->priv;
	AVDictionary *dict = NULL;
	int ret;

	av_dict_set(&dict, "protocol_whitelist", protocols_for(opts->url), 0);
	if (is_rtsp(opts->url)) {
		av_dict_set(&dict, "rtsp_transport", opts->udp ? "udp" : "tcp", 0);
		/* Reordering buffer for UDP; a no-op over TCP. */
		av_dict_set_int(&dict, "max_delay", 500000, 0);
	} else if (is_http(opts->url)) {
		/* MJPEG over HTTP (multipart/x-mixed-replace) carries no
		 * timestamps: a frame's time is when it came. */
		av_dict_set(&dict, "use_wallclock_as_timestamps", "1", 0);
	}
	arm_deadline(src);
	ret = avformat_open_input(&av->in, opts->url, NULL, &dict);
	av_dict_free(&dict);
	return ret;
}

static int av_open(struct source *src, const struct source_opts *opts)
{
	struct av_source *av = calloc(1, sizeof(*av));
	int ret;

	if (!av)
		return AVERROR(ENOMEM);
	src->priv = av;
	av->untimed = av_packet_alloc();
	av->held = av_packet_alloc();
	if (!av->untimed || !av->held)
		return AVERROR(ENOMEM);
	av->pace_first_dts = AV_NOPTS_VALUE;

	av->in = avformat_alloc_context();
	if (!av->in)
		return AVERROR(ENOMEM);
	av->in->interrupt_callback = (AVIOInterruptCB){ interrupt_cb, src };
	/* Probe little: cameras announce their parameters in the SDP, and a
	 * long probe is latency before the first recorded frame. */
	av->in->max_analyze_duration = AV_TIME_BASE;
	ret = opts->push ? open_pushed(src) : open_url(src, opts);
	if (ret < 0)
		return deadline_error(src, ret);
	arm_deadline(src);
	/* A recorder's stream says all in its header (avcC): a probe would
	 * only wait for more of it, and the gap of a reconnect grows. */
	ret = opts->push && described(av->in) ? 0 : avformat_find_stream_info(av->in, NULL);
	if (ret < 0)
		return deadline_error(src, ret);
	/* Interrupted, it still returns success with whatever it had: a
	 * camera that answered PLAY and sent nothing. */
	if (av->timed_out)
		return SOURCE_ERROR_NO_MEDIA;
	if ((ret = pick_streams(src)) < 0)
		return ret;
	if (opts->push && strcmp(av->in->iformat->name, "matroska,webm") != 0)
		av->renew_at_us = clock_monotonic_us(opts->clock) + PUSHED_MP4_MAX_US;
	return opts->push ? to_annexb(src) : 0;
}

/* Sleeps until a file's packet is due, or until a stop. */
static int pace(struct source *src, const AVPacket *pkt)
{
	struct av_source *av = src->priv;
	AVRational tb = src->video.time_base;

	if (pkt->stream_index != SOURCE_VIDEO)
		return 0;
	if (av->pace_first_dts == AV_NOPTS_VALUE) {
		av->pace_first_dts = pkt->dts;
		av->pace_start_us = clock_monotonic_us(src->opts->clock);
	}
	int64_t due = av->pace_start_us + av_rescale_q(pkt->dts - av->pace_first_dts, tb, AV_TIME_BASE_Q);
	for (;;) {
		int64_t wait = due - clock_monotonic_us(src->opts->clock);

		if (stop_requested(src->opts->stop))
			return AVERROR_EXIT;
		if (wait <= 0)
			return 0;
		/* In slices: the clock seam's time may run apart from real time. */
		stop_sleep(src->opts->stop, FFMIN(wait, 50000));
	}
}

/* One frame's duration in the video time base, at least 1. */
static int64_t frame_ticks(const struct source *src, const struct av_source *av)
{
	AVRational rate = av->in->streams[av->video_index]->avg_frame_rate;

	if (rate.num <= 0 || rate.den <= 0)
		rate = av->in->streams[av->video_index]->r_frame_rate;
	if (rate.num <= 0 || rate.den <= 0)
		return 1;
	return FFMAX(1, av_rescale_q(1, av_inv_q(rate), src->video.time_base));
}

/* The next packet of ours with a timestamp, mapped to SOURCE_VIDEO or
 * SOURCE_AUDIO. */
static int next_timed(struct source *src, AVPacket *pkt)
{
	struct av_source *av = src->priv;
	int ret;

	if (av->held->data) {
		av_packet_move_ref(pkt, av->held);
		return 0;
	}
	av->timed_out = false;
	for (;;) {
		ret = av_read_frame(av->in, pkt);
		if (ret < 0)
			return deadline_error(src, ret);
		if (pkt->stream_index == av->video_index)
			pkt->stream_index = SOURCE_VIDEO;
		else if (pkt->stream_index == av->audio_index && av->audio_index >= 0)
			pkt->stream_index = SOURCE_AUDIO;
		else {
			av_packet_unref(pkt);
			continue;
		}
		/* The filter gives one packet for each it takes. */
		if (av->annexb && pkt->stream_index == SOURCE_VIDEO &&
		    ((ret = av_bsf_send_packet(av->annexb, pkt)) < 0 ||
		     (ret = av_bsf_receive_packet(av->annexb, pkt)) < 0)) {
			av_packet_unref(pkt);
			if (ret == AVERROR(EAGAIN))
				continue;
			return ret;
		}
		if (pkt->dts == AV_NOPTS_VALUE)
			pkt->dts = pkt->pts;
		if (pkt->dts == AV_NOPTS_VALUE) {
			if (pkt->stream_index == SOURCE_VIDEO && (pkt->flags & AV_PKT_FLAG_KEY) &&
			    !av->video_timed) {
				av_packet_unref(av->untimed);
				av_packet_move_ref(av->untimed, pkt);
			} else {
				av_packet_unref(pkt);
			}
			continue;
		}
		if (pkt->stream_index == SOURCE_VIDEO && av->untimed->data) {
			int64_t t = pkt->pts != AV_NOPTS_VALUE ? FFMIN(pkt->pts, pkt->dts) : pkt->dts;

			av->untimed->dts = av->untimed->pts = t - frame_ticks(src, av);
			av_packet_move_ref(av->held, pkt);
			av_packet_move_ref(pkt, av->untimed);
		}
		return 0;
	}
}

/* A pushed MP4's session ends before pkt: past renew_at_us, at a keyframe
 * so the last segment ends whole, or at any frame RENEW_GRACE_US later. */
static bool renewal_due(const struct source *src, const AVPacket *pkt)
{
	const struct av_source *av = src->priv;
	int64_t now;

	if (!av->renew_at_us || pkt->stream_index != SOURCE_VIDEO)
		return false;
	now = clock_monotonic_us(src->opts->clock);
	return now >= av->renew_at_us &&
	       ((pkt->flags & AV_PKT_FLAG_KEY) || now >= av->renew_at_us + RENEW_GRACE_US);
}

static int av_read(struct source *src, AVPacket *pkt)
{
	struct av_source *av = src->priv;
	int ret = next_timed(src, pkt);

	if (ret < 0)
		return ret;
	if (renewal_due(src, pkt)) {
		log_notice(src->opts->tag, "the browser's recording is renewed after %d h (camfs's "
			   "MP4 reader keeps an entry for every frame)", (int)(PUSHED_MP4_MAX_US / 3600000000));
		av_packet_unref(pkt);
		return AVERROR(EAGAIN);
	}
	/* Whether time goes on is the feed's to judge (feed.c, timeline). */
	if (pkt->stream_index == SOURCE_VIDEO)
		av->video_timed = true;
	if (src->opts->realtime && !src->opts->push && !is_rtsp(src->opts->url)) {
		ret = pace(src, pkt);
		if (ret < 0) {
			av_packet_unref(pkt);
			return ret;
		}
	}
	return 0;
}

static void av_close(struct source *src)
{
	struct av_source *av = src->priv;

	if (!av)
		return;
	avformat_close_input(&av->in);
	/* Ours, not libavformat's, when we gave it. */
	if (av->pb)
		av_freep(&av->pb->buffer);
	avio_context_free(&av->pb);
	av_packet_free(&av->piece);
	av_bsf_free(&av->annexb);
	if (av->pushed_begun)
		pushslot_stream_end(src->opts->push);
	av_packet_free(&av->untimed);
	av_packet_free(&av->held);
	free(av);
	src->priv = NULL;
}

const struct source_ops avsource_ops = {
	.name = "libavformat",
	.open = av_open,
	.read = av_read,
	.close = av_close,
};
