/* test_index.c - the index read back from real segments made by the project's
 * own fragmenter matches the packets that went in; torn and hostile files too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libavcodec/avcodec.h>
#include <libavutil/intreadwrite.h>

#include "util/clock.h"
#include "stream/fragment.h"
#include "stream/fragmenter.h"
#include "mp4/index.h"
#include "mp4/mp4box.h"
#include "ingest/source.h"
#include "testutil.h"

#define FRAMES 40   /* keyframes at 0, 15, 30 */
#define FPS 15
#define WALL0_US 1700000000123456LL

struct segment {
	char path[64];
	int fd;
	uint8_t *bytes;                    /* the whole file */
	uint64_t size;
	uint64_t unit_offset[FRAMES + 1];  /* where each emitted unit starts */
	int n_units;
	AVPacket *pkts[FRAMES];            /* what went in, before the muxer saw it */
};

static struct segment plain;   /* as the fragmenter makes it */

static void to_file(struct fragment *frag, void *opaque)
{
	struct segment *s = opaque;

	assert_true(s->n_units <= FRAMES);
	s->unit_offset[s->n_units++] = s->size;
	assert_int_equal(write(s->fd, frag->data, frag->size), (ssize_t)frag->size);
	s->size += frag->size;
	fragment_unref(&frag);
}

/* Frame i arrives at wall time WALL0 + i/FPS. */
static int64_t arrival_us(int i)
{
	return WALL0_US + (int64_t)i * 1000000 / FPS;
}

/* The segment of FRAMES demo frames, frame i given to the fragmenter as
 * arriving at arrival_us(i). */
static void make_segment(struct segment *s)
{
	static const struct source_opts opts = {
		.url = "demo:moving?fps=15&gop=15", .timeout_us = 5000000,
		.realtime = false, .clock = &clock_system, .tag = "t",
	};
	struct source *src;
	struct fragmenter *f;
	AVPacket *pkt = av_packet_alloc();

	memset(s, 0, sizeof(*s));
	strcpy(s->path, "/tmp/camfs-index-XXXXXX");
	s->fd = mkstemp(s->path);
	assert_true(s->fd >= 0);
	assert_int_equal(source_open(&src, &opts), 0);
	assert_int_equal(fragmenter_open(&f, src, 1, to_file, s), 0);
	assert_int_equal(s->n_units, 1);

	for (int i = 0; i < FRAMES;) {
		assert_int_equal(source_read(src, pkt), 0);
		if (pkt->stream_index != SOURCE_VIDEO) {
			av_packet_unref(pkt);
			continue;
		}
		s->pkts[i] = av_packet_clone(pkt);
		assert_int_equal(fragmenter_write(f, pkt, arrival_us(i)), 0);
		i++;
	}
	assert_int_equal(fragmenter_flush(f), 0);
	fragmenter_close(f);
	source_close(src);
	av_packet_free(&pkt);
	assert_int_equal(s->n_units, 1 + FRAMES);

	s->bytes = malloc(s->size);
	assert_non_null(s->bytes);
	assert_int_equal(pread(s->fd, s->bytes, s->size, 0), (ssize_t)s->size);
}

static void free_segment(struct segment *s)
{
	for (int i = 0; i < FRAMES; i++)
		av_packet_free(&s->pkts[i]);
	free(s->bytes);
	if (s->fd >= 0) {
		close(s->fd);
		unlink(s->path);
	}
}

static int setup(void **state)
{
	(void)state;
	make_segment(&plain);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free_segment(&plain);
	return 0;
}

/* index_read of bytes[0, len) as a file of its own (a real short file, so a
 * read past len would show). */
static int index_bytes(const uint8_t *bytes, size_t len, struct index *ix)
{
	char path[] = "/tmp/camfs-index-cut-XXXXXX";
	int fd = mkstemp(path), ret;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	ret = index_read(fd, len, ix);
	close(fd);
	unlink(path);
	return ret;
}

/* The first box of type among the boxes in [start, end) of d (8-byte headers,
 * as the muxer writes them): its offset. */
static size_t find(const uint8_t *d, size_t start, size_t end, const char *type)
{
	for (size_t o = start; o + 8 <= end; o += AV_RB32(d + o)) {
		assert_true(AV_RB32(d + o) >= 8);
		if (memcmp(d + o + 4, type, 4) == 0)
			return o;
	}
	fail_msg("no %s box", type);
	return 0;
}

static size_t find_in(const uint8_t *d, size_t parent, const char *type)
{
	return find(d, parent + 8, parent + AV_RB32(d + parent), type);
}

static void test_tracks(void **state)
{
	struct index ix;
	size_t moov, stsd;

	(void)state;
	assert_int_equal(index_read(plain.fd, plain.size, &ix), 0);
	assert_int_equal(ix.n_tracks, 1);
	assert_int_equal(index_video_track(&ix), 0);
	const struct index_track *tr = &ix.tracks[0];
	assert_int_equal(tr->handler, MP4BOX_FOURCC('v', 'i', 'd', 'e'));
	assert_int_equal(tr->track_id, 1);
	assert_int_equal(tr->width, 640);
	assert_int_equal(tr->height, 360);
	assert_true(tr->timescale > 0 && tr->timescale % FPS == 0);

	/* The stsd is the moov's own, byte for byte. */
	moov = find(plain.bytes, 0, plain.size, "moov");
	stsd = find_in(plain.bytes, find_in(plain.bytes, find_in(plain.bytes, find_in(plain.bytes,
		find_in(plain.bytes, moov, "trak"), "mdia"), "minf"), "stbl"), "stsd");
	assert_int_equal(tr->stsd_size, AV_RB32(plain.bytes + stsd));
	assert_int_equal(AV_RB32(tr->stsd), tr->stsd_size);
	assert_memory_equal(tr->stsd + 4, "stsd", 4);
	assert_memory_equal(tr->stsd, plain.bytes + stsd, tr->stsd_size);
	assert_non_null(memmem(tr->stsd, tr->stsd_size, "avc1", 4));
	index_clear(&ix);
	index_clear(&ix);   /* cleared twice is fine */
}

static void test_samples(void **state)
{
	struct index ix;

	(void)state;
	assert_int_equal(index_read(plain.fd, plain.size, &ix), 0);
	const struct index_track *tr = &ix.tracks[0];
	uint32_t frame = tr->timescale / FPS;

	assert_int_equal(tr->n_samples, FRAMES);
	assert_int_equal(ix.n_fragments, FRAMES);
	assert_int_equal(ix.indexed_size, plain.size);
	for (int i = 0; i < FRAMES; i++) {
		const struct index_sample *s = &tr->samples[i];
		const AVPacket *p = plain.pkts[i];
		uint8_t *data = malloc(s->size), *got = malloc(s->size * 2 + 64),
			*want = malloc(p->size * 2 + 64);

		/* Fragments start where the fragmenter's units did (at the prft). */
		assert_int_equal(ix.fragments[i].moof_offset, plain.unit_offset[1 + i]);
		assert_int_equal(s->fragment, i);
		assert_true(s->offset > ix.fragments[i].moof_offset);
		assert_true(s->offset + s->size <= (i + 1 < FRAMES ? plain.unit_offset[2 + i] : plain.size));

		assert_int_equal(pread(plain.fd, data, s->size, s->offset), (ssize_t)s->size);
		size_t got_len = testutil_canonical_nals(data, s->size, false, got);
		size_t want_len = testutil_canonical_nals(p->data, p->size, true, want);
		assert_true(want_len > 0);
		assert_int_equal(got_len, want_len);
		assert_memory_equal(got, want, got_len);
		free(data);
		free(got);
		free(want);

		assert_int_equal(s->keyframe, !!(p->flags & AV_PKT_FLAG_KEY));
		assert_int_equal(s->keyframe, i % 15 == 0);
		assert_int_equal(s->dts, (uint64_t)i * frame);
		assert_int_equal(s->duration, frame);
		assert_int_equal(s->cts_offset, 0);
	}
	index_clear(&ix);
}

/* Each fragment's wall time is its prft's, which carries the arrival time
 * the fragmenter was given (ms-rounded by the muxer), not the time of
 * muxing; within a fragment time runs at media speed. */
static void test_wall_clock(void **state)
{
	struct index ix;
	int64_t prev = 0;

	(void)state;
	assert_int_equal(index_read(plain.fd, plain.size, &ix), 0);
	const struct index_track *tr = &ix.tracks[0];
	for (int i = 0; i < FRAMES; i++) {
		const struct index_sample *s = &tr->samples[i];
		int64_t wall = index_wall_us(&ix, 0, s->dts);

		assert_int_equal(wall, ix.fragments[i].wall_us);
		assert_int_equal(ix.fragments[i].prft_track_id, 1);
		assert_int_equal(ix.fragments[i].prft_media_time, s->dts);
		assert_true(llabs(wall - arrival_us(i)) <= 1000);
		/* consecutive samples are a frame apart */
		if (i > 0)
			assert_true(llabs(wall - prev - 1000000 / FPS) <= 1000);
		assert_true(wall >= prev);
		prev = wall;
		assert_int_equal(index_wall_us(&ix, 0, s->dts + s->duration / 2),
				 wall + (int64_t)s->duration / 2 * 1000000 / tr->timescale);
	}
	assert_int_equal(index_wall_us(&ix, 1, 0), 0);    /* no such track */
	assert_int_equal(index_wall_us(&ix, -1, 0), 0);
	index_clear(&ix);
}

/* A cut anywhere in the last fragment leaves it out; a cut in the moov is
 * not a segment at all. */
static void test_truncated(void **state)
{
	const uint64_t *u = plain.unit_offset;
	uint64_t moov_end = u[1], last = u[FRAMES];
	size_t last_moof = find(plain.bytes, last, plain.size, "moof");
	size_t last_mdat = find(plain.bytes, last, plain.size, "mdat");
	struct {
		uint64_t len;
		int fragments;
	} cuts[] = {
		{ plain.size, FRAMES },
		{ plain.size - 1, FRAMES - 1 },           /* inside the last mdat */
		{ last_mdat + 8, FRAMES - 1 },            /* the last mdat's header only */
		{ last_mdat + 4, FRAMES - 1 },            /* inside the last mdat's header */
		{ last_moof + 40, FRAMES - 1 },           /* inside the last moof */
		{ last_moof, FRAMES - 1 },                /* after the last prft */
		{ last + 10, FRAMES - 1 },                /* inside the last prft */
		{ last, FRAMES - 1 },                     /* on the fragment boundary */
		{ u[4] + (u[5] - u[4]) / 2, 3 },          /* halfway into the fourth */
		{ moov_end + 1, 0 },
		{ moov_end, 0 },
	};
	struct index ix;

	(void)state;
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		int n = cuts[c].fragments;

		assert_int_equal(index_bytes(plain.bytes, cuts[c].len, &ix), 0);
		assert_int_equal(ix.n_tracks, 1);
		assert_int_equal(ix.n_fragments, n);
		assert_int_equal(ix.tracks[0].n_samples, n);
		assert_int_equal(ix.indexed_size, n == FRAMES ? plain.size : u[1 + n]);
		index_clear(&ix);
	}

	/* Cut inside the moov (its header, its middle, one byte short), at its
	 * start, inside the ftyp. */
	uint64_t moov = find(plain.bytes, 0, plain.size, "moov");
	uint64_t moov_cuts[] = { moov + 4, moov + 8, moov_end / 2, moov_end - 1, moov, moov - 1, 8, 0 };
	for (size_t c = 0; c < sizeof(moov_cuts) / sizeof(moov_cuts[0]); c++) {
		assert_int_equal(index_bytes(plain.bytes, moov_cuts[c], &ix), -EBADMSG);
		assert_int_equal(ix.n_tracks, 0);
		assert_null(ix.fragments);
	}

	/* A file_size beyond the end (the file shrank under us) reads as torn. */
	assert_int_equal(index_read(plain.fd, plain.size + 100, &ix), 0);
	assert_int_equal(ix.n_fragments, FRAMES);
	assert_int_equal(ix.indexed_size, plain.size);
	index_clear(&ix);
}

static void test_garbage(void **state)
{
	static const uint8_t ftyp[] = { 0, 0, 0, 16, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0 };
	uint8_t *junk = calloc(1, 65536);
	struct index ix;

	(void)state;
	assert_int_equal(index_bytes(junk, 0, &ix), -EBADMSG);
	assert_int_equal(index_bytes(junk, 7, &ix), -EBADMSG);
	assert_int_equal(index_bytes(junk, 65536, &ix), -EBADMSG);   /* zeros */
	assert_int_equal(index_bytes(ftyp, sizeof(ftyp), &ix), -EBADMSG);
	srand(7);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 65536; i++)
			junk[i] = rand();
		assert_int_equal(index_bytes(junk, 4096 + round * 3000, &ix), -EBADMSG);
		/* A real ftyp and moov followed by junk: the junk is a torn tail
		 * (or a malformed fragment), never a crash. */
		memcpy(junk, plain.bytes, plain.unit_offset[1]);
		int ret = index_bytes(junk, 65536, &ix);
		assert_true(ret == 0 || ret == -EBADMSG);
		index_clear(&ix);
	}
	free(junk);
}

/* Valid framing, lying contents: each is -EBADMSG, and a count the file
 * cannot hold is never allocated. */
static void test_corrupt(void **state)
{
	const uint8_t *d = plain.bytes;
	size_t moov = find(d, 0, plain.size, "moov");
	size_t mdhd = find_in(d, find_in(d, find_in(d, moov, "trak"), "mdia"), "mdhd");
	size_t moof = find(d, plain.unit_offset[1], plain.size, "moof");
	size_t traf = find_in(d, moof, "traf");
	size_t tfhd = find_in(d, traf, "tfhd"), trun = find_in(d, traf, "trun");
	size_t prft = find(d, plain.unit_offset[1], plain.size, "prft");
	struct {
		size_t at;
		uint32_t value;
	} patches[] = {
		{ trun + 12, 0xffffffff },           /* sample_count */
		{ trun + 12, 1000 },
		{ trun + 16, 0x7fffffff },           /* data_offset past the mdat */
		{ trun + 16, 0x80000000 },           /* before the file */
		{ trun + 16, 8 },                    /* inside the moof */
		{ tfhd + 12, 9 },                    /* no such track */
		{ mdhd + 20, 0 },                    /* timescale 0 */
		{ prft + 12, 5 },                    /* prft of no such track */
		{ traf, 0xffff },                    /* traf longer than its moof */
		{ traf, 4 },                         /* shorter than a header */
		{ tfhd, 12 },                        /* tfhd cut short */
		{ moov + 4, MP4BOX_FOURCC('f', 'r', 'e', 'e') },   /* no moov */
		{ 4, MP4BOX_FOURCC('f', 'r', 'e', 'e') },          /* no ftyp */
	};
	uint8_t *copy = malloc(plain.size);
	struct index ix;

	(void)state;
	for (size_t p = 0; p < sizeof(patches) / sizeof(patches[0]); p++) {
		memcpy(copy, d, plain.size);
		AV_WB32(copy + patches[p].at, patches[p].value);
		assert_int_equal(index_bytes(copy, plain.size, &ix), -EBADMSG);
		assert_int_equal(ix.n_fragments, 0);
	}
	free(copy);
}

/* A small byte writer for hand-made boxes in the forms the muxer does not
 * use: 64-bit times, signed offsets, several trafs and truns, no prft. */
struct buf {
	uint8_t d[4096];
	size_t n;
};

static void b_be(struct buf *b, uint64_t v, int bytes)
{
	assert_true(b->n + bytes <= sizeof(b->d));
	for (int i = bytes - 1; i >= 0; i--)
		b->d[b->n++] = v >> (8 * i);
}

static size_t b_box(struct buf *b, const char *type)
{
	size_t at = b->n;

	b_be(b, 0, 4);
	memcpy(b->d + b->n, type, 4);
	b->n += 4;
	return at;
}

static void b_end(struct buf *b, size_t at)
{
	AV_WB32(b->d + at, b->n - at);
}

static void b_full(struct buf *b, uint8_t version, uint32_t flags)
{
	b_be(b, version, 1);
	b_be(b, flags, 3);
}

static void b_trak(struct buf *b, uint32_t id, int version, uint32_t timescale,
		   const char *handler, uint16_t w, uint16_t h)
{
	size_t trak = b_box(b, "trak"), at, mdia, minf, stbl;

	at = b_box(b, "tkhd");
	b_full(b, version, 3);
	b_be(b, 0, version ? 16 : 8);
	b_be(b, id, 4);
	b_be(b, 0, 4 + (version ? 8 : 4) + 8 + 8 + 36);
	b_be(b, (uint32_t)w << 16, 4);
	b_be(b, (uint32_t)h << 16, 4);
	b_end(b, at);
	mdia = b_box(b, "mdia");
	at = b_box(b, "mdhd");
	b_full(b, version, 0);
	b_be(b, 0, version ? 16 : 8);
	b_be(b, timescale, 4);
	b_be(b, 0, version ? 8 : 4);
	b_be(b, 0, 4);
	b_end(b, at);
	at = b_box(b, "hdlr");
	b_full(b, 0, 0);
	b_be(b, 0, 4);
	memcpy(b->d + b->n, handler, 4);
	b->n += 4;
	b_be(b, 0, 13);
	b_end(b, at);
	minf = b_box(b, "minf");
	stbl = b_box(b, "stbl");
	at = b_box(b, "stsd");
	b_full(b, 0, 0);
	b_be(b, 0, 4);   /* no entries: the index copies, it does not parse */
	b_end(b, at);
	b_end(b, stbl);
	b_end(b, minf);
	b_end(b, mdia);
	b_end(b, trak);
}

static void test_synthetic(void **state)
{
	/* NTP as writers make it, the µs floored into a binary fraction. */
	const int64_t wall = 1700000000123457LL;
	const uint64_t ntp = (uint64_t)(wall / 1000000 + 2208988800u) << 32 |
			     ((uint64_t)(wall % 1000000) << 32) / 1000000;
	struct buf b = { .n = 0 };
	size_t at, moov, mvex, moof1, traf, mdat1, data1, moof2, mdat2, data2;
	size_t trun_off1, trun_off2;
	struct index ix;

	(void)state;
	at = b_box(&b, "ftyp");
	b_be(&b, MP4BOX_FOURCC('i', 's', 'o', '6'), 4);
	b_be(&b, 0, 4);
	b_end(&b, at);
	moov = b_box(&b, "moov");
	b_trak(&b, 1, 1, 90000, "vide", 320, 240);
	b_trak(&b, 2, 0, 48000, "soun", 0, 0);
	mvex = b_box(&b, "mvex");
	for (uint32_t id = 1; id <= 2; id++) {
		at = b_box(&b, "trex");
		b_full(&b, 0, 0);
		b_be(&b, id, 4);
		b_be(&b, 1, 4);
		b_be(&b, id == 1 ? 3000 : 1024, 4);   /* duration */
		b_be(&b, id == 1 ? 100 : 10, 4);      /* size */
		b_be(&b, id == 1 ? 0x00010000 : 0, 4);
		b_end(&b, at);
	}
	b_end(&b, mvex);
	b_end(&b, moov);

	/* Fragment 1: prft v0; two trafs with no base (the audio's data follows
	 * the video's); video trun v1 with every field and a negative cts
	 * offset; audio in two runs, the second with no data_offset. */
	at = b_box(&b, "prft");
	b_full(&b, 0, 0);
	b_be(&b, 1, 4);
	b_be(&b, ntp, 8);
	b_be(&b, 0, 4);
	b_end(&b, at);
	moof1 = b_box(&b, "moof");
	at = b_box(&b, "mfhd");
	b_full(&b, 0, 0);
	b_be(&b, 1, 4);
	b_end(&b, at);
	traf = b_box(&b, "traf");
	at = b_box(&b, "tfhd");
	b_full(&b, 0, 0);
	b_be(&b, 1, 4);
	b_end(&b, at);
	at = b_box(&b, "tfdt");
	b_full(&b, 0, 0);
	b_be(&b, 0, 4);
	b_end(&b, at);
	at = b_box(&b, "trun");
	b_full(&b, 1, 0x000f01);
	b_be(&b, 2, 4);
	trun_off1 = b.n;
	b_be(&b, 0, 4);   /* data_offset, patched below */
	b_be(&b, 3000, 4); b_be(&b, 50, 4); b_be(&b, 0x02000000, 4); b_be(&b, (uint32_t)-3000, 4);
	b_be(&b, 3000, 4); b_be(&b, 60, 4); b_be(&b, 0x01010000, 4); b_be(&b, 3000, 4);
	b_end(&b, at);
	b_end(&b, traf);
	traf = b_box(&b, "traf");
	at = b_box(&b, "tfhd");
	b_full(&b, 0, 0);
	b_be(&b, 2, 4);
	b_end(&b, at);
	at = b_box(&b, "tfdt");
	b_full(&b, 1, 0);
	b_be(&b, 48000, 8);
	b_end(&b, at);
	at = b_box(&b, "trun");
	b_full(&b, 0, 0);
	b_be(&b, 2, 4);
	b_end(&b, at);
	at = b_box(&b, "trun");
	b_full(&b, 0, 0x000200);
	b_be(&b, 1, 4);
	b_be(&b, 7, 4);
	b_end(&b, at);
	b_end(&b, traf);
	b_end(&b, moof1);
	mdat1 = b_box(&b, "mdat");
	data1 = b.n;
	b_be(&b, 0, 50 + 60 + 10 + 10 + 7);
	b_end(&b, mdat1);
	AV_WB32(b.d + trun_off1, data1 - moof1);

	/* Fragment 2: no prft, no tfdt (time runs on), an explicit base. */
	moof2 = b_box(&b, "moof");
	at = b_box(&b, "mfhd");
	b_full(&b, 0, 0);
	b_be(&b, 2, 4);
	b_end(&b, at);
	traf = b_box(&b, "traf");
	at = b_box(&b, "tfhd");
	b_full(&b, 0, 0x000001 | 0x000002 | 0x000008 | 0x000010 | 0x000020);
	b_be(&b, 1, 4);
	trun_off2 = b.n;
	b_be(&b, 0, 8);   /* base_data_offset, patched below */
	b_be(&b, 1, 4);
	b_be(&b, 2500, 4);
	b_be(&b, 30, 4);
	b_be(&b, 0x02000000, 4);
	b_end(&b, at);
	at = b_box(&b, "trun");
	b_full(&b, 0, 0x000001);
	b_be(&b, 2, 4);
	b_be(&b, 0, 4);
	b_end(&b, at);
	b_end(&b, traf);
	b_end(&b, moof2);
	mdat2 = b_box(&b, "mdat");
	data2 = b.n;
	b_be(&b, 0, 60);
	b_end(&b, mdat2);
	for (int i = 0; i < 8; i++)
		b.d[trun_off2 + i] = (uint64_t)data2 >> (8 * (7 - i));

	assert_int_equal(index_bytes(b.d, b.n, &ix), 0);
	assert_int_equal(ix.n_tracks, 2);
	assert_int_equal(ix.n_fragments, 2);
	assert_int_equal(ix.indexed_size, b.n);
	assert_int_equal(index_video_track(&ix), 0);
	const struct index_track *v = &ix.tracks[0], *a = &ix.tracks[1];
	assert_int_equal(v->timescale, 90000);
	assert_int_equal(v->width, 320);
	assert_int_equal(v->height, 240);
	assert_int_equal(a->timescale, 48000);
	assert_int_equal(a->handler, MP4BOX_FOURCC('s', 'o', 'u', 'n'));
	assert_int_equal(a->stsd_size, 16);

	assert_int_equal(v->n_samples, 4);
	assert_int_equal(v->samples[0].offset, data1);
	assert_int_equal(v->samples[0].cts_offset, -3000);
	assert_true(v->samples[0].keyframe);
	assert_int_equal(v->samples[1].offset, data1 + 50);
	assert_int_equal(v->samples[1].dts, 3000);
	assert_int_equal(v->samples[1].cts_offset, 3000);
	assert_false(v->samples[1].keyframe);
	assert_int_equal(v->samples[2].offset, data2);
	assert_int_equal(v->samples[2].dts, 6000);
	assert_int_equal(v->samples[2].size, 30);
	assert_int_equal(v->samples[2].duration, 2500);
	assert_int_equal(v->samples[2].fragment, 1);
	assert_true(v->samples[2].keyframe);
	assert_int_equal(v->samples[3].offset, data2 + 30);
	assert_int_equal(v->samples[3].dts, 8500);

	assert_int_equal(a->n_samples, 3);
	assert_int_equal(a->samples[0].offset, data1 + 110);
	assert_int_equal(a->samples[0].dts, 48000);
	assert_int_equal(a->samples[1].offset, data1 + 120);
	assert_int_equal(a->samples[1].dts, 49024);
	assert_true(a->samples[1].keyframe);
	assert_int_equal(a->samples[2].offset, data1 + 130);
	assert_int_equal(a->samples[2].size, 7);
	assert_int_equal(a->samples[2].duration, 1024);

	/* One prft, referenced to the video track, serves both tracks and the
	 * fragment after it. */
	assert_int_equal(ix.fragments[0].moof_offset, moof1 - 28);
	assert_int_equal(ix.fragments[0].wall_us, wall);
	assert_int_equal(ix.fragments[1].moof_offset, moof2);
	assert_int_equal(ix.fragments[1].wall_us, 0);
	assert_int_equal(index_wall_us(&ix, 0, 0), wall);
	assert_int_equal(index_wall_us(&ix, 0, 8500), wall + 94444);
	assert_int_equal(index_wall_us(&ix, 1, 48000), wall + 1000000);
	assert_int_equal(index_wall_us(&ix, 1, 49024), wall + 1021333);
	index_clear(&ix);

	/* The same with data offsets that leave the mdat. */
	AV_WB32(b.d + trun_off1, data1 - moof1 + 100);
	assert_int_equal(index_bytes(b.d, b.n, &ix), -EBADMSG);
}

/* A segment much bigger than index_read's read window (256 KiB): a moov
 * bigger than the window (a free box inside), mdats padded to sizes around
 * and above it, so boxes fall on every side of a window's edge. The index is
 * plain's, moved by the padding; cut anywhere, it is the fragments before. */
static void test_large(void **state)
{
	const uint64_t *u = plain.unit_offset;
	size_t moov = find(plain.bytes, 0, u[1], "moov"), moov_end = moov + AV_RB32(plain.bytes + moov);
	const size_t moov_pad = 300 << 10;
	uint64_t shift[FRAMES], frag_start[FRAMES + 1];
	size_t cap = plain.size + moov_pad + 8 + (size_t)FRAMES * (320 << 10), len = 0;
	uint8_t *big = calloc(1, cap);
	struct index want, ix;

	(void)state;
	assert_non_null(big);
	assert_int_equal(moov_end, u[1]);
	/* ftyp and moov, then a free box of moov_pad at the moov's end. */
	memcpy(big, plain.bytes, moov_end);
	AV_WB32(big + moov, AV_RB32(plain.bytes + moov) + moov_pad + 8);
	AV_WB32(big + moov_end, moov_pad + 8);
	memcpy(big + moov_end + 4, "free", 4);
	len = moov_end + 8 + moov_pad;
	for (int i = 0; i < FRAMES; i++) {
		uint64_t start = u[1 + i], end = i + 1 < FRAMES ? u[2 + i] : plain.size;
		size_t mdat = find(plain.bytes, start, end, "mdat");
		size_t pad = (size_t)((uint64_t)(i + 1) * 52361 % (300 << 10));

		assert_int_equal(mdat + AV_RB32(plain.bytes + mdat), end);
		frag_start[i] = len;
		shift[i] = len - start;
		memcpy(big + len, plain.bytes + start, end - start);
		AV_WB32(big + len + (mdat - start), AV_RB32(plain.bytes + mdat) + pad);
		len += end - start + pad;   /* zeros after the samples */
		assert_true(len <= cap);
	}
	frag_start[FRAMES] = len;

	assert_int_equal(index_read(plain.fd, plain.size, &want), 0);
	assert_int_equal(index_bytes(big, len, &ix), 0);
	assert_int_equal(ix.n_tracks, want.n_tracks);
	assert_int_equal(ix.tracks[0].stsd_size, want.tracks[0].stsd_size);
	assert_memory_equal(ix.tracks[0].stsd, want.tracks[0].stsd, want.tracks[0].stsd_size);
	assert_int_equal(ix.tracks[0].timescale, want.tracks[0].timescale);
	assert_int_equal(ix.n_fragments, FRAMES);
	assert_int_equal(ix.indexed_size, len);
	assert_int_equal(ix.tracks[0].n_samples, want.tracks[0].n_samples);
	for (size_t i = 0; i < want.tracks[0].n_samples; i++) {
		const struct index_sample *a = &ix.tracks[0].samples[i], *b = &want.tracks[0].samples[i];

		assert_int_equal(a->offset, b->offset + shift[b->fragment]);
		assert_int_equal(a->size, b->size);
		assert_int_equal(a->dts, b->dts);
		assert_int_equal(a->duration, b->duration);
		assert_int_equal(a->keyframe, b->keyframe);
		assert_int_equal(a->fragment, b->fragment);
		assert_memory_equal(big + a->offset, plain.bytes + b->offset, b->size);
	}
	for (int i = 0; i < FRAMES; i++)
		assert_int_equal(ix.fragments[i].moof_offset, want.fragments[i].moof_offset + shift[i]);
	index_clear(&ix);

	/* Cut inside fragments (and on their starts): only those before. */
	for (int i = 0; i < FRAMES; i += 7) {
		uint64_t cuts[] = { frag_start[i], frag_start[i] + 5, frag_start[i] + 200,
				    (frag_start[i] + frag_start[i + 1]) / 2, frag_start[i + 1] - 1 };

		for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
			assert_int_equal(index_bytes(big, cuts[c], &ix), 0);
			assert_int_equal(ix.n_fragments, i);
			assert_int_equal(ix.indexed_size, i ? frag_start[i] : moov_end + 8 + moov_pad);
			index_clear(&ix);
		}
	}
	index_clear(&want);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tracks),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_wall_clock),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_synthetic),
		cmocka_unit_test(test_large),
	};

	av_log_set_level(AV_LOG_ERROR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
