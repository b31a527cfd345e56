/* fragmenter.c - one mov muxer per camera session writing fragmented MP4
 * into memory; its data-type markers split the output into units. */
#include "stream/fragmenter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libavformat/avformat.h>

#include "stream/fragment.h"
#include "ingest/source.h"

#define IO_BUFFER_SIZE 65536

struct fragmenter {
	AVFormatContext *mux;
	AVRational in_tb[2];        /* source time bases, by SOURCE_VIDEO/AUDIO */
	int out_index[2];           /* muxer stream, -1 if none */
	fragmenter_emit_fn *emit;
	void *opaque;
	uint32_t generation;

	/* The unit being collected from the AVIO callback, straight into the
	 * fragment that will carry it (no second copy). */
	struct fragment *unit;      /* NULL between units; size = bytes so far */
	size_t cap;                 /* bytes of room in unit->data */
	int unit_type;              /* the first marker seen for this unit */
	int error;                  /* ENOMEM inside the callback */

	/* Source time (µs) that maps to media time 0: the first keyframe lands
	 * at start_us. */
	int64_t zero_us;
	int64_t start_us;
	bool started;
	/* The video frame held back until the next one says how long it
	 * lasts: the muxer writes a fragment's last sample with the packet's
	 * duration, and pushed frames come without one (the first frame of a
	 * session would last 0 and the second share its time). */
	AVPacket *held;             /* source time base; blank when none */
	bool pending;               /* held has a frame */
	int64_t pending_dts_us;     /* µs since zero */
	int64_t pending_wall_us;
	int64_t pending_duration_us;
	int64_t last_duration;      /* the frame before, source time base */
};

/* AVIO calls this for every chunk; a chunk that starts a new unit carries
 * its marker, the rest of the unit come as AVIO_DATA_MARKER_UNKNOWN. */
static int collect(void *opaque, uint8_t *data, int size,
		   enum AVIODataMarkerType type, int64_t time)
{
	struct fragmenter *f = opaque;

	(void)time;
	if (!f->unit || f->unit->size + size > f->cap) {
		size_t used = f->unit ? f->unit->size : 0;
		size_t cap = f->cap * 3 / 2 > used + size ? f->cap * 3 / 2 : used + size;
		struct fragment *grown;

		if (cap < 4096)
			cap = 4096;
		grown = f->unit ? realloc(f->unit, sizeof(*grown) + cap) : fragment_new(FRAGMENT_MEDIA, cap);
		if (!grown) {
			f->error = AVERROR(ENOMEM);
			return f->error;
		}
		grown->size = used;
		if (!f->unit)
			f->unit_type = type;
		f->unit = grown;
		f->cap = cap;
	}
	memcpy(f->unit->data + f->unit->size, data, size);
	f->unit->size += size;
	return size;
}

/* Hands the collected unit on as a fragment. */
static int emit_unit(struct fragmenter *f)
{
	struct fragment *frag;

	avio_flush(f->mux->pb);
	if (f->error)
		return f->error;
	frag = f->unit;
	if (!frag)
		return 0;
	f->unit = NULL;
	f->cap = 0;
	frag->kind = f->unit_type == AVIO_DATA_MARKER_HEADER ? FRAGMENT_INIT : FRAGMENT_MEDIA;
	frag->keyframe = f->unit_type == AVIO_DATA_MARKER_SYNC_POINT;
	frag->generation = f->generation;
	if (frag->kind == FRAGMENT_MEDIA) {
		frag->media_us = f->pending_dts_us;
		frag->duration_us = f->pending_duration_us;
		frag->wall_us = f->pending_wall_us;
	}
	f->emit(frag, f->opaque);   /* the callee takes our reference */
	return 0;
}

static int add_stream(struct fragmenter *f, const struct source_stream *in, int which)
{
	AVStream *st;
	int ret;

	f->out_index[which] = -1;
	if (!in->par)
		return 0;
	st = avformat_new_stream(f->mux, NULL);
	if (!st)
		return AVERROR(ENOMEM);
	ret = avcodec_parameters_copy(st->codecpar, in->par);
	if (ret < 0)
		return ret;
	st->codecpar->codec_tag = 0;
	st->time_base = in->time_base;
	f->in_tb[which] = in->time_base;
	f->out_index[which] = st->index;
	return 0;
}

int fragmenter_open(struct fragmenter **out, const struct source *src,
		    uint32_t generation, fragmenter_emit_fn *emit, void *opaque)
{
	struct fragmenter *f = calloc(1, sizeof(*f));
	AVDictionary *opts = NULL;
	uint8_t *iobuf = NULL;
	int ret;

	*out = NULL;
	if (!f)
		return AVERROR(ENOMEM);
	f->emit = emit;
	f->opaque = opaque;
	f->generation = generation;
	f->held = av_packet_alloc();
	if (!f->held) {
		ret = AVERROR(ENOMEM);
		goto out;
	}

	ret = avformat_alloc_output_context2(&f->mux, NULL, "mp4", NULL);
	if (ret < 0)
		goto out;
	if ((ret = add_stream(f, &src->video, SOURCE_VIDEO)) < 0 ||
	    (ret = add_stream(f, &src->audio, SOURCE_AUDIO)) < 0)
		goto out;

	iobuf = av_malloc(IO_BUFFER_SIZE);
	f->mux->pb = iobuf ? avio_alloc_context(iobuf, IO_BUFFER_SIZE, 1, f, NULL, NULL, NULL) : NULL;
	if (!f->mux->pb) {
		av_free(iobuf);
		ret = AVERROR(ENOMEM);
		goto out;
	}
	f->mux->pb->write_data_type = collect;
	f->mux->pb->seekable = 0;
	f->mux->flags |= AVFMT_FLAG_CUSTOM_IO;

	/* Fragments only when we say (one per video frame), moof-relative
	 * offsets as MSE wants, and a producer reference time in every
	 * fragment so the wall clock of any fragment can be read back.
	 * frag_discont and no shifting of negative timestamps: the first
	 * fragment's tfdt is the dts we give (fragmenter_set_start), where by
	 * default the muxer would start every session at 0 again. */
	av_dict_set(&opts, "movflags", "frag_custom+empty_moov+default_base_moof+frag_discont", 0);
	av_dict_set(&opts, "avoid_negative_ts", "disabled", 0);
	av_dict_set(&opts, "write_prft", "wallclock", 0);
	ret = avformat_write_header(f->mux, &opts);
	av_dict_free(&opts);
	if (ret < 0)
		goto out;
	ret = emit_unit(f);
out:
	if (ret < 0)
		fragmenter_close(f);
	else
		*out = f;
	return ret;
}

/* Muxes pkt (source time) into the fragment being built. */
static int mux(struct fragmenter *f, AVPacket *pkt, int which)
{
	AVStream *st = f->mux->streams[f->out_index[which]];
	int64_t offset = av_rescale_q(f->zero_us, AV_TIME_BASE_Q, f->in_tb[which]);

	pkt->dts -= offset;
	if (pkt->pts != AV_NOPTS_VALUE)
		pkt->pts -= offset;
	av_packet_rescale_ts(pkt, f->in_tb[which], st->time_base);
	pkt->stream_index = st->index;
	pkt->pos = -1;
	return av_write_frame(f->mux, pkt);
}

/* Muxes the held frame, lasting until next_dts (source time base), and cuts
 * it, with the audio that came with it, into a fragment of its own. With no
 * next frame (AV_NOPTS_VALUE), it lasts its own duration or its
 * predecessor's. */
static int cut(struct fragmenter *f, int64_t next_dts)
{
	AVPacket *held = f->held;
	int ret;

	if (!f->pending)
		return 0;
	f->pending = false;
	if (next_dts != AV_NOPTS_VALUE)
		held->duration = next_dts - held->dts;
	else if (held->duration <= 0)
		held->duration = f->last_duration;
	f->last_duration = held->duration;
	f->pending_duration_us = av_rescale_q(held->duration, f->in_tb[SOURCE_VIDEO], AV_TIME_BASE_Q);
	ret = mux(f, held, SOURCE_VIDEO);
	av_packet_unref(held);
	if (ret >= 0)
		ret = av_write_frame(f->mux, NULL);
	return ret < 0 ? ret : emit_unit(f);
}

int fragmenter_write(struct fragmenter *f, AVPacket *pkt, int64_t wall_us)
{
	int which = pkt->stream_index;
	int64_t dts_us;
	int ret = 0;

	if (which < 0 || which > SOURCE_AUDIO || f->out_index[which] < 0)
		goto out;
	dts_us = av_rescale_q(pkt->dts, f->in_tb[which], AV_TIME_BASE_Q);
	if (!f->started) {
		/* A recording starts at a keyframe; what came before it cannot
		 * be decoded. */
		if (which != SOURCE_VIDEO || !(pkt->flags & AV_PKT_FLAG_KEY))
			goto out;
		f->started = true;
		f->zero_us = dts_us - f->start_us;
	}
	dts_us -= f->zero_us;
	if (dts_us < 0)
		goto out;   /* audio from before the first keyframe */
	if (which == SOURCE_AUDIO) {
		/* Audio belongs with a frame. */
		ret = f->pending ? mux(f, pkt, which) : 0;
		goto out;
	}

	if ((ret = cut(f, pkt->dts)) < 0)
		goto out;
	/* The fragment's prft carries when the frame arrived (the clock seam),
	 * not when it was muxed a frame later: clips cut by wall time. */
	AVProducerReferenceTime *prft = (AVProducerReferenceTime *)
		av_packet_new_side_data(pkt, AV_PKT_DATA_PRFT, sizeof(*prft));

	if (prft) {
		prft->wallclock = wall_us;
		prft->flags = 24;   /* ISO 14496-12: time of capture */
	}
	av_packet_move_ref(f->held, pkt);
	f->pending = true;
	f->pending_dts_us = dts_us;
	f->pending_wall_us = wall_us;
out:
	av_packet_unref(pkt);
	return ret;
}

void fragmenter_set_start(struct fragmenter *f, int64_t start_us)
{
	f->start_us = start_us;
}

int fragmenter_flush(struct fragmenter *f)
{
	return cut(f, AV_NOPTS_VALUE);
}

void fragmenter_close(struct fragmenter *f)
{
	if (!f)
		return;
	if (f->mux) {
		if (f->mux->pb) {
			av_freep(&f->mux->pb->buffer);
			avio_context_free(&f->mux->pb);
		}
		avformat_free_context(f->mux);
	}
	fragment_unref(&f->unit);
	av_packet_free(&f->held);
	free(f);
}
