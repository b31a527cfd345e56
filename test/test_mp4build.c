/* test_mp4build.c - the moov builder, checked by real players: libavformat
 * reads our files back packet for packet, decodes through the edit list, and
 * ffprobe agrees on the duration; plus exact tables and a day-long track. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <math.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/intreadwrite.h>

#include "util/clock.h"
#include "mp4/mp4box.h"
#include "mp4/mp4build.h"
#include "ingest/source.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#define FOURCC(s) MP4BOX_FOURCC((s)[0], (s)[1], (s)[2], (s)[3])
#define FPS 15
#define GOP 15
#define FRAMES 60        /* 4 s of video */
#define AUDIO_RATE 48000

/* ---- reading boxes ---- */

struct box {
	const uint8_t *p;      /* the header */
	uint64_t size;         /* whole box; 0: not found */
	uint32_t hdr;
};

/* The nth child of type in the payload of parent (a file: hdr 0). */
static struct box child(struct box parent, const char *type, int nth)
{
	const uint8_t *p = parent.p + parent.hdr, *end = parent.p + parent.size;

	while (end - p >= 8) {
		struct box b = { .p = p, .size = AV_RB32(p), .hdr = 8 };

		if (b.size == 1) {
			assert_true(end - p >= 16);
			b.size = AV_RB64(p + 8);
			b.hdr = 16;
		} else if (b.size == 0) {
			b.size = end - p;
		}
		assert_true(b.size >= b.hdr && b.size <= (uint64_t)(end - p));
		if (AV_RB32(p + 4) == FOURCC(type) && nth-- == 0)
			return b;
		p += b.size;
	}
	return (struct box){ 0 };
}

/* "moov/trak/mdia/..." from root, taking trak number trak. */
static struct box path(struct box root, const char *spec, int trak)
{
	struct box b = root;

	for (const char *s = spec; b.size && *s; s += s[4] == '/' ? 5 : 4) {
		char type[5] = { 0 };

		memcpy(type, s, 4);
		b = child(b, type, strcmp(type, "trak") ? 0 : trak);
	}
	return b;
}

static struct box file_root(const uint8_t *p, size_t len)
{
	return (struct box){ .p = p, .size = len, .hdr = 0 };
}

/* The payload after a full box's version and flags. */
static const uint8_t *full(struct box b, int *version, uint32_t *flags)
{
	assert_true(b.size >= b.hdr + 4);
	if (version)
		*version = b.p[b.hdr];
	if (flags)
		*flags = AV_RB32(b.p + b.hdr) & 0xffffff;
	return b.p + b.hdr + 4;
}

/* ---- files read back by libavformat ---- */

struct stream {
	enum AVMediaType type;
	AVRational tb;
	AVPacket **pkts;
	int n;
	int width, height;
	const uint8_t *stsd;   /* in the file's bytes */
	size_t stsd_size;
};

struct file {
	uint8_t *bytes;
	size_t len;
	struct stream s[2];
	int n_streams;
	int64_t duration;      /* AV_TIME_BASE, as libavformat says */
};

static void read_whole(const char *name, uint8_t **bytes, size_t *len)
{
	FILE *f = fopen(name, "rb");
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	*bytes = malloc(n);
	assert_non_null(*bytes);
	assert_int_equal(fread(*bytes, 1, n, f), (size_t)n);
	fclose(f);
	*len = n;
}

static void file_load(const char *name, struct file *f)
{
	AVFormatContext *ic = NULL;
	AVPacket *pkt = av_packet_alloc();

	memset(f, 0, sizeof(*f));
	assert_non_null(pkt);
	read_whole(name, &f->bytes, &f->len);
	assert_int_equal(avformat_open_input(&ic, name, NULL, NULL), 0);
	assert_true(avformat_find_stream_info(ic, NULL) >= 0);
	assert_true(ic->nb_streams <= 2);
	f->n_streams = ic->nb_streams;
	f->duration = ic->duration;
	for (int i = 0; i < f->n_streams; i++) {
		struct stream *s = &f->s[i];
		struct box stsd = path(file_root(f->bytes, f->len), "moov/trak/mdia/minf/stbl/stsd", i);

		s->type = ic->streams[i]->codecpar->codec_type;
		s->tb = ic->streams[i]->time_base;
		s->width = ic->streams[i]->codecpar->width;
		s->height = ic->streams[i]->codecpar->height;
		assert_true(stsd.size > 0);
		s->stsd = stsd.p;
		s->stsd_size = stsd.size;
		s->pkts = calloc(4096, sizeof(*s->pkts));
		assert_non_null(s->pkts);
	}
	while (av_read_frame(ic, pkt) == 0) {
		struct stream *s = &f->s[pkt->stream_index];

		assert_true(s->n < 4096);
		s->pkts[s->n++] = av_packet_clone(pkt);
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	avformat_close_input(&ic);
}

static void file_free(struct file *f)
{
	for (int i = 0; i < f->n_streams; i++) {
		for (int j = 0; j < f->s[i].n; j++)
			av_packet_free(&f->s[i].pkts[j]);
		free(f->s[i].pkts);
	}
	free(f->bytes);
	memset(f, 0, sizeof(*f));
}

/* What `ffprobe` (the real binary) says the duration of name is, in s. */
static double ffprobe_duration(const char *name)
{
	char cmd[PATH_MAX + 128], out[64] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 '%s' "
		 "2>/dev/null", name);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof(out), p));
	assert_int_equal(pclose(p), 0);
	return strtod(out, NULL);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* Decodes stream 0 of name as a player would (libavformat applies the
 * edit list, libavcodec drops what it marks to discard): each frame's pts
 * and a hash of its luma. Returns the number of frames. */
static int decode(const char *name, int64_t *pts, uint64_t *hash, int max)
{
	AVFormatContext *ic = NULL;
	AVCodecContext *dec;
	const AVCodec *codec;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *fr = av_frame_alloc();
	int n = 0, ret;
	bool eof = false;

	assert_non_null(pkt);
	assert_non_null(fr);
	assert_int_equal(avformat_open_input(&ic, name, NULL, NULL), 0);
	codec = avcodec_find_decoder(ic->streams[0]->codecpar->codec_id);
	assert_non_null(codec);
	dec = avcodec_alloc_context3(codec);
	assert_non_null(dec);
	assert_int_equal(avcodec_parameters_to_context(dec, ic->streams[0]->codecpar), 0);
	dec->thread_count = 1;
	dec->pkt_timebase = ic->streams[0]->time_base;
	assert_int_equal(avcodec_open2(dec, codec, NULL), 0);
	while (!eof) {
		ret = av_read_frame(ic, pkt);
		if (ret < 0)
			eof = true;
		else if (pkt->stream_index != 0) {
			av_packet_unref(pkt);
			continue;
		}
		assert_int_equal(avcodec_send_packet(dec, eof ? NULL : pkt), 0);
		av_packet_unref(pkt);
		while ((ret = avcodec_receive_frame(dec, fr)) == 0) {
			uint64_t h = 0xcbf29ce484222325ULL;

			for (int y = 0; y < fr->height; y++)
				h = fnv(h, fr->data[0] + (size_t)y * fr->linesize[0], fr->width);
			assert_true(n < max);
			pts[n] = fr->best_effort_timestamp;
			hash[n++] = h;
			av_frame_unref(fr);
		}
		assert_true(ret == AVERROR(EAGAIN) || ret == AVERROR_EOF);
	}
	avcodec_free_context(&dec);
	avformat_close_input(&ic);
	av_frame_free(&fr);
	av_packet_free(&pkt);
	return n;
}

/* ---- the reference: demo H.264 (+ AAC) muxed by libavformat ---- */

struct fixture {
	char dir[256];
	char ref[PATH_MAX];
	struct file r;         /* stream 0 video, 1 audio */
	int64_t ref_pts[FRAMES];
	uint64_t ref_hash[FRAMES];
};

static void demo_video(AVPacket **pkts, AVCodecParameters *par)
{
	static const struct source_opts opts = {
		.url = "demo:moving?fps=15&gop=15", .timeout_us = 5000000,
		.realtime = false, .clock = &clock_system, .tag = "t",
	};
	struct source *src;

	assert_int_equal(source_open(&src, &opts), 0);
	assert_int_equal(src->video.time_base.den, 90000);
	assert_int_equal(avcodec_parameters_copy(par, src->video.par), 0);
	for (int i = 0; i < FRAMES; i++) {
		pkts[i] = av_packet_alloc();
		assert_non_null(pkts[i]);
		assert_int_equal(source_read(src, pkts[i]), 0);
		assert_int_equal(pkts[i]->stream_index, SOURCE_VIDEO);
	}
	source_close(src);
}

/* 4 s of a 440 Hz tone through FFmpeg's own AAC encoder. */
static int demo_audio(AVPacket **pkts, int max, AVCodecParameters *par)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
	AVCodecContext *enc;
	AVFrame *fr = av_frame_alloc();
	AVPacket *pkt = av_packet_alloc();
	int n = 0, ret;

	assert_non_null(codec);
	enc = avcodec_alloc_context3(codec);
	assert_non_null(enc);
	enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
	enc->sample_rate = AUDIO_RATE;
	av_channel_layout_default(&enc->ch_layout, 1);
	enc->bit_rate = 64000;
	enc->time_base = (AVRational){ 1, AUDIO_RATE };
	enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	assert_int_equal(avcodec_open2(enc, codec, NULL), 0);
	fr->format = enc->sample_fmt;
	fr->nb_samples = enc->frame_size;
	fr->sample_rate = AUDIO_RATE;
	assert_int_equal(av_channel_layout_copy(&fr->ch_layout, &enc->ch_layout), 0);
	assert_int_equal(av_frame_get_buffer(fr, 0), 0);
	for (int64_t t = 0;; t += enc->frame_size) {
		bool last = t >= 4 * AUDIO_RATE;

		if (!last) {
			float *x = (float *)fr->data[0];

			assert_int_equal(av_frame_make_writable(fr), 0);
			for (int i = 0; i < fr->nb_samples; i++)
				x[i] = 0.3f * sinf(2 * (float)M_PI * 440 * (t + i) / AUDIO_RATE);
			fr->pts = t;
		}
		assert_int_equal(avcodec_send_frame(enc, last ? NULL : fr), 0);
		while ((ret = avcodec_receive_packet(enc, pkt)) == 0) {
			assert_true(n < max);
			pkts[n++] = av_packet_clone(pkt);
			av_packet_unref(pkt);
		}
		assert_true(ret == AVERROR(EAGAIN) || ret == AVERROR_EOF);
		if (ret == AVERROR_EOF)
			break;
	}
	assert_int_equal(avcodec_parameters_from_context(par, enc), 0);
	av_packet_free(&pkt);
	av_frame_free(&fr);
	avcodec_free_context(&enc);
	return n;
}

static void mux_reference(const char *name)
{
	AVFormatContext *oc = NULL;
	AVPacket *v[FRAMES], *a[256];
	AVCodecParameters *vpar = avcodec_parameters_alloc(), *apar = avcodec_parameters_alloc();
	AVRational tb[2] = { { 1, 90000 }, { 1, AUDIO_RATE } };
	int na;

	assert_non_null(vpar);
	assert_non_null(apar);
	demo_video(v, vpar);
	na = demo_audio(a, 256, apar);
	assert_int_equal(avformat_alloc_output_context2(&oc, NULL, "mp4", name), 0);
	for (int i = 0; i < 2; i++) {
		AVStream *st = avformat_new_stream(oc, NULL);

		assert_non_null(st);
		assert_int_equal(avcodec_parameters_copy(st->codecpar, i ? apar : vpar), 0);
		st->codecpar->codec_tag = 0;
		st->time_base = tb[i];
	}
	assert_int_equal(avio_open(&oc->pb, name, AVIO_FLAG_WRITE), 0);
	assert_true(avformat_write_header(oc, NULL) >= 0);
	for (int i = 0, j = 0; i < FRAMES || j < na;) {
		/* in time order, as a recorder would write them */
		bool video = j >= na || (i < FRAMES && av_compare_ts(v[i]->dts, tb[0],
								     a[j]->dts, tb[1]) <= 0);
		AVPacket *p = video ? v[i++] : a[j++];

		p->stream_index = video ? 0 : 1;
		av_packet_rescale_ts(p, tb[!video], oc->streams[!video]->time_base);
		assert_int_equal(av_interleaved_write_frame(oc, p), 0);
	}
	assert_int_equal(av_write_trailer(oc), 0);
	avio_closep(&oc->pb);
	avformat_free_context(oc);
	for (int i = 0; i < FRAMES; i++)
		av_packet_free(&v[i]);
	for (int j = 0; j < na; j++)
		av_packet_free(&a[j]);
	avcodec_parameters_free(&vpar);
	avcodec_parameters_free(&apar);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	testutil_temp_dir(fx->dir, sizeof(fx->dir), "mp4build");
	snprintf(fx->ref, sizeof(fx->ref), "%s/ref.mp4", fx->dir);
	mux_reference(fx->ref);
	file_load(fx->ref, &fx->r);
	assert_int_equal(fx->r.n_streams, 2);
	assert_int_equal(fx->r.s[0].type, AVMEDIA_TYPE_VIDEO);
	assert_int_equal(fx->r.s[0].n, FRAMES);
	assert_int_equal(fx->r.s[1].type, AVMEDIA_TYPE_AUDIO);
	assert_true(fx->r.s[1].n > 150);
	assert_int_equal(decode(fx->ref, fx->ref_pts, fx->ref_hash, FRAMES), FRAMES);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	file_free(&fx->r);
	assert_int_equal(testutil_remove_tree(fx->dir), 0);
	free(fx);
	return 0;
}

/* ---- our files ---- */

/* One track of a clip: samples [first, first + n) of a reference stream, in
 * chunks of per_chunk, with optional composition offsets. */
struct plan {
	const struct stream *s;
	int first, n, per_chunk;
	uint32_t track_id;
	int64_t media_time;
	uint64_t edit_duration;
	const int32_t *cts;
	/* filled by build() */
	struct mp4build_sample *samples;
	struct mp4build_chunk *chunks;
	struct mp4build_track t;
};

struct clip {
	uint8_t *bytes;
	size_t len;
	struct box moov;
};

static void plan_tables(struct plan *pl)
{
	const struct stream *s = pl->s;
	size_t nc = (pl->n + pl->per_chunk - 1) / pl->per_chunk;

	pl->samples = calloc(pl->n, sizeof(*pl->samples));
	pl->chunks = calloc(nc, sizeof(*pl->chunks));
	assert_non_null(pl->samples);
	assert_non_null(pl->chunks);
	for (int i = 0; i < pl->n; i++) {
		const AVPacket *p = s->pkts[pl->first + i];

		assert_true(p->duration > 0);
		pl->samples[i] = (struct mp4build_sample){
			.size = p->size, .duration = p->duration,
			.cts_offset = pl->cts ? pl->cts[i] : 0,
			.keyframe = p->flags & AV_PKT_FLAG_KEY,
		};
	}
	for (size_t c = 0; c < nc; c++) {
		pl->chunks[c].first_sample = c * pl->per_chunk;
		pl->chunks[c].n_samples = FFMIN(pl->per_chunk, pl->n - (int)c * pl->per_chunk);
	}
	assert_int_equal(s->tb.num, 1);
	pl->t = (struct mp4build_track){
		.track_id = pl->track_id, .timescale = s->tb.den,
		.handler = s->type == AVMEDIA_TYPE_VIDEO ? FOURCC("vide") : FOURCC("soun"),
		.width = s->width, .height = s->height,
		.stsd = s->stsd, .stsd_size = s->stsd_size,
		.samples = pl->samples, .n_samples = pl->n,
		.chunks = pl->chunks, .n_chunks = nc,
		.edit_media_time = pl->media_time, .edit_duration = pl->edit_duration,
	};
}

static void mdat_header(uint8_t *p, uint64_t data)
{
	assert_true(8 + data <= UINT32_MAX);
	for (int i = 0; i < 4; i++)
		p[i] = (8 + data) >> (24 - 8 * i);
	memcpy(p + 4, "mdat", 4);
}

/* ftyp + moov + mdat, the chunks interleaved across tracks and, if
 * backwards, stored last chunk first: players must follow the offsets. */
static void build(const char *name, struct plan *pl, int n, uint32_t movie_ts, bool backwards,
		  struct clip *c)
{
	struct mp4build_track t[2];
	size_t ftyp, moov, data = 0, at, rounds = 0;
	uint8_t *p;

	assert_true(n <= 2);
	for (int k = 0; k < n; k++) {
		plan_tables(&pl[k]);
		t[k] = pl[k].t;
		rounds = FFMAX(rounds, t[k].n_chunks);
		for (int i = 0; i < pl[k].n; i++)
			data += pl[k].samples[i].size;
	}
	ftyp = mp4build_ftyp(NULL, 0);
	moov = mp4build_moov(t, n, movie_ts, NULL, 0);
	assert_true(moov > 0);
	c->len = ftyp + moov + 8 + data;
	c->bytes = p = malloc(c->len);
	assert_non_null(p);

	at = ftyp + moov + 8;
	for (size_t r = 0; r < rounds; r++) {
		size_t round = backwards ? rounds - 1 - r : r;

		for (int k = 0; k < n; k++) {
			struct mp4build_chunk *ch = &pl[k].chunks[round];

			if (round >= t[k].n_chunks)
				continue;
			ch->offset = at;
			for (uint32_t i = 0; i < ch->n_samples; i++) {
				const AVPacket *pk = pl[k].s->pkts[pl[k].first + ch->first_sample + i];

				memcpy(p + at, pk->data, pk->size);
				at += pk->size;
			}
		}
	}
	assert_int_equal(at, c->len);

	assert_int_equal(mp4build_ftyp(p, ftyp), ftyp);
	/* one byte short: nothing written */
	memset(p + ftyp, 0xa5, moov);
	assert_int_equal(mp4build_moov(t, n, movie_ts, p + ftyp, moov - 1), moov);
	for (size_t i = 0; i < moov; i++)
		assert_int_equal(p[ftyp + i], 0xa5);
	assert_int_equal(mp4build_moov(t, n, movie_ts, p + ftyp, moov), moov);
	mdat_header(p + ftyp + moov, data);
	testutil_write_file(name, p, c->len, TESTUTIL_REPLACE);
	c->moov = child(file_root(p, c->len), "moov", 0);
	assert_int_equal(c->moov.size, moov);
	assert_ptr_equal(c->moov.p, p + ftyp);
}

static void plans_free(struct plan *pl, int n)
{
	for (int k = 0; k < n; k++) {
		free(pl[k].samples);
		free(pl[k].chunks);
	}
}

/* Every sample comes back from libavformat: same bytes, keyframe flags,
 * durations, and timestamps as the tables say. */
static void check_packets(const struct stream *got, const struct plan *pl)
{
	int64_t dts = 0;
	int64_t pts_minus_dts = got->pkts[0]->pts - got->pkts[0]->dts - pl->samples[0].cts_offset;

	assert_int_equal(got->n, pl->n);
	assert_int_equal(got->tb.den, pl->t.timescale);
	for (int i = 0; i < pl->n; i++) {
		const AVPacket *g = got->pkts[i], *want = pl->s->pkts[pl->first + i];

		assert_int_equal(g->size, want->size);
		assert_memory_equal(g->data, want->data, want->size);
		assert_int_equal(!!(g->flags & AV_PKT_FLAG_KEY), !!(want->flags & AV_PKT_FLAG_KEY));
		assert_int_equal(g->duration, want->duration);
		/* libavformat may shift all of them (edit list, negative ctts) */
		assert_int_equal(g->dts - got->pkts[0]->dts, dts);
		assert_int_equal(g->pts - g->dts, pl->samples[i].cts_offset + pts_minus_dts);
		dts += want->duration;
	}
}

/* ---- tests ---- */

static void test_ftyp(void **state)
{
	static const uint8_t want[32] = {
		0, 0, 0, 32, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0,
		'i', 's', 'o', 'm', 'i', 's', 'o', '2', 'a', 'v', 'c', '1', 'm', 'p', '4', '1',
	};
	uint8_t buf[40];

	(void)state;
	assert_int_equal(mp4build_ftyp(NULL, 0), 32);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(mp4build_ftyp(buf, 31), 32);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
	assert_int_equal(mp4build_ftyp(buf, sizeof(buf)), 32);
	assert_memory_equal(buf, want, 32);
	assert_int_equal(buf[32], 0xee);
}

/* All 60 frames, chunks of 3 stored backwards; played start to end. */
static void test_video(void **state)
{
	struct fixture *fx = *state;
	struct plan pl = {
		.s = &fx->r.s[0], .first = 0, .n = FRAMES, .per_chunk = 3, .track_id = 1,
		.media_time = 0, .edit_duration = FRAMES * 1000 / FPS,
	};
	char name[PATH_MAX];
	struct clip c;
	struct file got;
	struct box b;
	const uint8_t *q;
	int v;
	uint32_t flags;

	snprintf(name, sizeof(name), "%s/video.mp4", fx->dir);
	build(name, &pl, 1, 1000, true, &c);

	/* the tables, as written */
	q = full(path(c.moov, "mvhd", 0), &v, NULL);
	assert_int_equal(v, 0);
	assert_int_equal(AV_RB32(q + 8), 1000);
	assert_int_equal(AV_RB32(q + 12), 4000);
	assert_int_equal(AV_RB32(q + 92), 2);                     /* next_track_ID */
	q = full(path(c.moov, "trak/tkhd", 0), &v, &flags);
	assert_int_equal(flags, 3);
	assert_int_equal(AV_RB32(q + 8), 1);
	assert_int_equal(AV_RB32(q + 16), 4000);
	assert_int_equal(AV_RB32(q + 72), (uint32_t)fx->r.s[0].width << 16);
	q = full(path(c.moov, "trak/mdia/mdhd", 0), &v, NULL);
	assert_int_equal(AV_RB32(q + 8), 90000);
	assert_int_equal(AV_RB32(q + 12), FRAMES * 6000);
	assert_int_equal(AV_RB32(q + 16) >> 16, 0x55c4);          /* 'und' */
	assert_int_equal(path(c.moov, "trak/mdia/minf/stbl/ctts", 0).size, 0);
	b = path(c.moov, "trak/mdia/minf/stbl/stss", 0);
	q = full(b, NULL, NULL);
	assert_int_equal(AV_RB32(q), FRAMES / GOP);
	for (int i = 0; i < FRAMES / GOP; i++)
		assert_int_equal(AV_RB32(q + 4 + 4 * i), 1 + GOP * i);
	q = full(path(c.moov, "trak/mdia/minf/stbl/stsc", 0), NULL, NULL);
	assert_int_equal(AV_RB32(q), 1);
	assert_int_equal(AV_RB32(q + 4), 1);
	assert_int_equal(AV_RB32(q + 8), 3);
	assert_int_equal(AV_RB32(q + 12), 1);
	q = full(path(c.moov, "trak/mdia/minf/stbl/stts", 0), NULL, NULL);
	assert_int_equal(AV_RB32(q), 1);
	assert_int_equal(AV_RB32(q + 4), FRAMES);
	assert_int_equal(AV_RB32(q + 8), 6000);
	b = path(c.moov, "trak/mdia/minf/stbl/co64", 0);
	assert_int_equal(b.size, 16 + 8 * FRAMES / 3);

	file_load(name, &got);
	assert_int_equal(got.n_streams, 1);
	assert_int_equal(got.duration, 4 * AV_TIME_BASE);
	check_packets(&got.s[0], &pl);
	assert_int_equal(got.s[0].pkts[0]->dts, 0);
	file_free(&got);
	assert_true(fabs(ffprobe_duration(name) - 4.0) < 1.0 / FPS);
	free(c.bytes);
	plans_free(&pl, 1);
}

/* The clip starts at the keyframe before frame 20 (frame 15); the edit list
 * makes players begin at frame 20 exactly. */
static void test_edit_list(void **state)
{
	struct fixture *fx = *state;
	int64_t start = 5 * 6000;          /* frame 20 in this track's media time */
	struct plan pl = {
		.s = &fx->r.s[0], .first = 15, .n = FRAMES - 15, .per_chunk = 3, .track_id = 1,
		.media_time = start, .edit_duration = (FRAMES - 20) * 6000,
	};
	char name[PATH_MAX];
	int64_t pts[FRAMES];
	uint64_t hash[FRAMES];
	struct clip c;
	struct file got;
	const uint8_t *q;
	int n;

	snprintf(name, sizeof(name), "%s/edit.mp4", fx->dir);
	build(name, &pl, 1, 90000, false, &c);
	q = full(path(c.moov, "trak/edts/elst", 0), NULL, NULL);
	assert_int_equal(AV_RB32(q), 1);
	assert_int_equal(AV_RB32(q + 4), (FRAMES - 20) * 6000);
	assert_int_equal(AV_RB32(q + 8), start);
	assert_int_equal(AV_RB32(q + 12), 0x00010000);

	file_load(name, &got);
	check_packets(&got.s[0], &pl);
	assert_int_equal(got.duration, av_rescale(FRAMES - 20, AV_TIME_BASE, FPS));
	file_free(&got);

	n = decode(name, pts, hash, FRAMES);
	assert_int_equal(n, FRAMES - 20);
	for (int i = 0; i < n; i++) {
		assert_int_equal(pts[i], i * 6000);
		assert_true(hash[i] == fx->ref_hash[20 + i]);
	}
	assert_true(hash[0] != fx->ref_hash[15]);
	assert_true(fabs(ffprobe_duration(name) - (FRAMES - 20) / (double)FPS) < 1.0 / FPS);
	free(c.bytes);
	plans_free(&pl, 1);
}

/* Composition offsets: non-negative ones in a version 0 ctts, negative
 * ones need version 1; libavformat gives pts - dts = the offset. */
static void test_ctts(void **state)
{
	struct fixture *fx = *state;
	int32_t cts[FRAMES];

	for (int neg = 0; neg < 2; neg++) {
		struct plan pl = {
			.s = &fx->r.s[0], .first = 0, .n = FRAMES, .per_chunk = 4, .track_id = 1,
			.edit_duration = 4000, .cts = cts,
		};
		char name[PATH_MAX];
		struct clip c;
		struct file got;
		struct box b;
		const uint8_t *q;
		int v;

		for (int i = 0; i < FRAMES; i++)
			cts[i] = (i % 3 - neg) * 6000;
		snprintf(name, sizeof(name), "%s/ctts%d.mp4", fx->dir, neg);
		build(name, &pl, 1, 1000, false, &c);
		b = path(c.moov, "trak/mdia/minf/stbl/ctts", 0);
		q = full(b, &v, NULL);
		assert_int_equal(v, neg);
		assert_int_equal(AV_RB32(q), FRAMES);          /* no two neighbours alike */
		assert_int_equal((int32_t)AV_RB32(q + 8 + 8), (1 - neg) * 6000);
		file_load(name, &got);
		check_packets(&got.s[0], &pl);
		file_free(&got);
		free(c.bytes);
		plans_free(&pl, 1);
	}
}

/* Video and AAC, chunks interleaved as a recorder's fragments would be. */
static void test_audio_video(void **state)
{
	struct fixture *fx = *state;
	const struct stream *a = &fx->r.s[1];
	uint64_t adur = 0;
	struct plan pl[2] = {
		{ .s = &fx->r.s[0], .first = 0, .n = FRAMES, .per_chunk = 15, .track_id = 1,
		  .edit_duration = 4 * AUDIO_RATE },
		{ .s = a, .first = 0, .n = a->n, .per_chunk = 47, .track_id = 2 },
	};
	char name[PATH_MAX];
	struct clip c;
	struct file got;
	const uint8_t *q;

	/* movie time in audio samples, so that the edits end exactly */
	for (int i = 0; i < a->n; i++)
		adur += a->pkts[i]->duration;
	pl[1].edit_duration = adur;
	snprintf(name, sizeof(name), "%s/av.mp4", fx->dir);
	build(name, pl, 2, AUDIO_RATE, false, &c);
	assert_non_null(path(c.moov, "trak/mdia/minf/vmhd", 0).p);
	assert_non_null(path(c.moov, "trak/mdia/minf/smhd", 1).p);
	assert_null(path(c.moov, "trak/mdia/minf/stbl/stss", 1).p);
	q = full(path(c.moov, "trak/tkhd", 1), NULL, NULL);
	assert_int_equal(AV_RB32(q + 32) >> 16, 0x0100);        /* volume */
	assert_int_equal(AV_RB32(q + 72), 0);                   /* width */
	q = full(path(c.moov, "mvhd", 0), NULL, NULL);
	assert_int_equal(AV_RB32(q + 12), FFMAX(4 * AUDIO_RATE, adur));
	assert_int_equal(AV_RB32(q + 92), 3);

	file_load(name, &got);
	assert_int_equal(got.n_streams, 2);
	assert_int_equal(got.s[0].type, AVMEDIA_TYPE_VIDEO);
	assert_int_equal(got.s[1].type, AVMEDIA_TYPE_AUDIO);
	check_packets(&got.s[0], &pl[0]);
	check_packets(&got.s[1], &pl[1]);
	assert_int_equal(got.duration, av_rescale(FFMAX(4 * AUDIO_RATE, adur), AV_TIME_BASE,
						  AUDIO_RATE));
	file_free(&got);
	assert_true(fabs(ffprobe_duration(name) - FFMAX(4 * AUDIO_RATE, adur) / (double)AUDIO_RATE) <
		    1.0 / FPS);
	free(c.bytes);
	plans_free(pl, 2);
}

static const uint8_t tiny_stsd[16] = { 0, 0, 0, 16, 's', 't', 's', 'd' };

/* Exact tables from hand-made samples: runs, empty chunks left out, a
 * constant sample size, no stss when all are sync; what it refuses. */
static void test_tables(void **state)
{
	struct mp4build_sample s[10];
	struct mp4build_chunk ch[] = {
		{ 100, 0, 3 }, { 999, 3, 0 }, { 200, 3, 3 }, { 300, 6, 3 }, { 400, 9, 1 },
	};
	struct mp4build_track t[2] = {
		{ .track_id = 7, .timescale = 1000, .handler = FOURCC("soun"),
		  .stsd = tiny_stsd, .stsd_size = 16, .samples = s, .n_samples = 10,
		  .chunks = ch, .n_chunks = 5, .edit_duration = 300, .edit_media_time = -1 },
		{ .track_id = 3, .timescale = 90000, .handler = FOURCC("vide"),
		  .width = 640, .height = 360, .stsd = tiny_stsd, .stsd_size = 16,
		  .samples = s, .n_samples = 10, .chunks = ch, .n_chunks = 5,
		  .edit_duration = 200 },
	};
	struct box moov, b;
	const uint8_t *q;
	uint8_t *buf;
	size_t size;
	uint32_t flags;

	(void)state;
	for (int i = 0; i < 10; i++)
		s[i] = (struct mp4build_sample){ .size = 100, .duration = i == 7 ? 512 : 1024,
						 .keyframe = true };
	size = mp4build_moov(t, 2, 1000, NULL, 0);
	assert_true(size > 0);
	buf = malloc(size + 64);
	assert_non_null(buf);
	assert_int_equal(mp4build_moov(t, 2, 1000, buf, size + 64), size);
	moov = child(file_root(buf, size), "moov", 0);
	assert_int_equal(moov.size, size);

	q = full(path(moov, "mvhd", 0), NULL, NULL);
	assert_int_equal(AV_RB32(q + 12), 300);
	assert_int_equal(AV_RB32(q + 92), 8);
	for (int k = 0; k < 2; k++) {
		q = full(path(moov, "trak/mdia/minf/stbl/stts", k), NULL, NULL);
		assert_int_equal(AV_RB32(q), 3);
		assert_int_equal(AV_RB32(q + 4), 7);
		assert_int_equal(AV_RB32(q + 8), 1024);
		assert_int_equal(AV_RB32(q + 12), 1);
		assert_int_equal(AV_RB32(q + 16), 512);
		assert_int_equal(AV_RB32(q + 20), 2);
		assert_int_equal(AV_RB32(q + 24), 1024);
		q = full(path(moov, "trak/mdia/minf/stbl/stsc", k), NULL, NULL);
		assert_int_equal(AV_RB32(q), 2);
		assert_memory_equal(q + 4, ((uint8_t[]){ 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 1,
							  0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1 }), 24);
		b = path(moov, "trak/mdia/minf/stbl/stsz", k);
		assert_int_equal(b.size, 20);
		q = full(b, NULL, NULL);
		assert_int_equal(AV_RB32(q), 100);
		assert_int_equal(AV_RB32(q + 4), 10);
		q = full(path(moov, "trak/mdia/minf/stbl/co64", k), NULL, NULL);
		assert_int_equal(AV_RB32(q), 4);
		for (int i = 0; i < 4; i++)
			assert_int_equal(AV_RB64(q + 4 + 8 * i), 100 * (i + 1));
		/* all sync: no stss, audio or video */
		assert_null(path(moov, "trak/mdia/minf/stbl/stss", k).p);
		q = full(path(moov, "trak/mdia/mdhd", k), NULL, NULL);
		assert_int_equal(AV_RB32(q + 12), 9 * 1024 + 512);
		b = path(moov, "trak/mdia/minf/dinf/dref", k);
		q = full(b, NULL, NULL);
		assert_int_equal(AV_RB32(q), 1);
		assert_memory_equal(q + 4, ((uint8_t[]){ 0, 0, 0, 12, 'u', 'r', 'l', ' ', 0, 0, 0, 1 }), 12);
	}
	q = full(path(moov, "trak/edts/elst", 0), NULL, NULL);
	assert_int_equal((int32_t)AV_RB32(q + 8), -1);
	b = path(moov, "trak/mdia/hdlr", 0);
	assert_memory_equal(b.p + 16, "soun", 4);
	assert_string_equal((const char *)b.p + 32, "SoundHandler");
	assert_int_equal(b.size, 32 + 13);
	full(path(moov, "trak/mdia/minf/vmhd", 1), NULL, &flags);
	assert_int_equal(flags, 1);
	q = full(path(moov, "trak/tkhd", 1), NULL, NULL);
	assert_int_equal(AV_RB32(q + 72), 640 << 16);
	assert_int_equal(AV_RB32(q + 76), 360 << 16);

	/* a non-keyframe brings a stss to video only, of 1-based numbers */
	s[4].keyframe = false;
	assert_int_equal(mp4build_moov(t, 2, 1000, buf, size + 64), size + 16 + 9 * 4);
	moov = child(file_root(buf, size + 64), "moov", 0);
	assert_null(path(moov, "trak/mdia/minf/stbl/stss", 0).p);
	q = full(path(moov, "trak/mdia/minf/stbl/stss", 1), NULL, NULL);
	assert_int_equal(AV_RB32(q), 9);
	assert_int_equal(AV_RB32(q + 4 * 4), 4);
	assert_int_equal(AV_RB32(q + 5 * 4), 6);
	s[4].keyframe = true;

	/* refused: 0, nothing written */
	memset(buf, 0x5a, size);
	ch[2].first_sample = 4;                      /* a gap */
	assert_int_equal(mp4build_moov(t, 2, 1000, buf, size), 0);
	ch[2].first_sample = 3;
	t[0].n_samples = 11;                         /* not all in chunks */
	assert_int_equal(mp4build_moov(t, 2, 1000, buf, size), 0);
	t[0].n_samples = 10;
	t[0].stsd_size = 15;                         /* not one whole stsd */
	assert_int_equal(mp4build_moov(t, 2, 1000, buf, size), 0);
	t[0].stsd_size = 16;
	for (size_t i = 0; i < size; i++)
		assert_int_equal(buf[i], 0x5a);
	assert_int_equal(mp4build_moov(t, 2, 1000, NULL, 0), size);
	/* no tracks: just the mvhd */
	assert_int_equal(mp4build_moov(NULL, 0, 1000, NULL, 0), 8 + 108);
	free(buf);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A day of 25 fps video at 90 kHz: 2.16M samples, 64-bit durations, in
 * linear time; ffprobe reads the day's length back. */
static void test_day(void **state)
{
	struct fixture *fx = *state;
	enum { N = 86400 * 25, PER = 25, NC = N / PER, KEY = 50 };
	struct mp4build_sample *s = malloc(N * sizeof(*s));
	struct mp4build_chunk *ch = malloc(NC * sizeof(*ch));
	uint64_t data = 0;
	struct mp4build_track t = {
		.track_id = 1, .timescale = 90000, .handler = FOURCC("vide"), .width = 640,
		.height = 360, .stsd = fx->r.s[0].stsd, .stsd_size = fx->r.s[0].stsd_size,
		.samples = s, .n_samples = N, .chunks = ch, .n_chunks = NC,
		.edit_duration = (uint64_t)N * 3600,
	};
	size_t ftyp = mp4build_ftyp(NULL, 0), size, want;
	double t0, t1, t2;
	uint8_t *buf;
	struct box moov;
	const uint8_t *q;
	char name[PATH_MAX];
	int v;

	assert_non_null(s);
	assert_non_null(ch);
	for (int i = 0; i < N; i++)
		s[i] = (struct mp4build_sample){ .size = 1 + (i % 7 == 0), .duration = 3600,
						 .keyframe = i % KEY == 0 };
	for (int c = 0; c < NC; c++)
		ch[c] = (struct mp4build_chunk){ .first_sample = c * PER, .n_samples = PER };
	t0 = now_s();
	size = mp4build_moov(&t, 1, 90000, NULL, 0);
	t1 = now_s() - t0;
	want = 8 + 120 + 8 + 104 + 8 + 36 + 8 + 44 + 45 + 8 + 20 + 36 + 8 + t.stsd_size +
	       24 + (16 + 4 * N / KEY) + 28 + (20 + 4 * N) + (16 + 8 * NC);
	assert_int_equal(size, want);
	/* laid out once the moov's size is known */
	for (int c = 0; c < NC; c++) {
		ch[c].offset = ftyp + size + 8 + data;
		for (int i = 0; i < PER; i++)
			data += s[c * PER + i].size;
	}
	buf = calloc(1, ftyp + size + 8 + data);
	assert_non_null(buf);
	t2 = now_s();
	assert_int_equal(mp4build_moov(&t, 1, 90000, buf + ftyp, size), size);
	t2 = now_s() - t2;
	print_message("day: %d samples, moov %zu bytes, sized in %.3f s, written in %.3f s\n",
		      N, size, t1, t2);
	/* valgrind runs it some 50 times slower; it checks the bytes there */
	if (!RUNNING_ON_VALGRIND)
		assert_true(t1 + t2 < 1.0);

	moov = child(file_root(buf + ftyp, size), "moov", 0);
	full(path(moov, "mvhd", 0), &v, NULL);
	assert_int_equal(v, 1);
	full(path(moov, "trak/tkhd", 0), &v, NULL);
	assert_int_equal(v, 1);
	full(path(moov, "trak/edts/elst", 0), &v, NULL);
	assert_int_equal(v, 1);
	q = full(path(moov, "trak/mdia/mdhd", 0), &v, NULL);
	assert_int_equal(v, 1);
	assert_int_equal(AV_RB64(q + 20), (uint64_t)N * 3600);

	mp4build_ftyp(buf, ftyp);
	mdat_header(buf + ftyp + size, data);
	snprintf(name, sizeof(name), "%s/day.mp4", fx->dir);
	testutil_write_file(name, buf, ftyp + size + 8 + data, TESTUTIL_REPLACE);
	assert_true(fabs(ffprobe_duration(name) - 86400) < 1.0 / 25);
	free(buf);
	free(ch);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ftyp),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_video),
		cmocka_unit_test(test_edit_list),
		cmocka_unit_test(test_ctts),
		cmocka_unit_test(test_audio_video),
		cmocka_unit_test(test_day),
	};

	av_log_set_level(AV_LOG_ERROR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
