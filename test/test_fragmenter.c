/* test_fragmenter.c - the muxer output is split into an init segment and one
 * whole moof+mdat fragment per frame, and the pieces concatenate to a file
 * libavformat reads back with every packet intact. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libavformat/avformat.h>
#include <libavutil/intreadwrite.h>

#include "util/clock.h"
#include "stream/fragment.h"
#include "stream/fragmenter.h"
#include "ingest/source.h"
#include "testutil.h"

#define FRAMES 75   /* 5 s at 15 fps: keyframes at 0, 30, 60 */

struct collected {
	struct fragment *frags[FRAMES + 4];
	int n;
};

static void collect(struct fragment *frag, void *opaque)
{
	struct collected *c = opaque;

	assert_true(c->n < FRAMES + 4);
	c->frags[c->n++] = frag;
}

/* Walks the top-level boxes of a unit; returns how many, with their types. */
static int boxes(const struct fragment *f, char types[][5], int max)
{
	size_t off = 0;
	int n = 0;

	while (off < f->size) {
		assert_true(off + 8 <= f->size);
		uint32_t size = AV_RB32(f->data + off);
		assert_true(size >= 8 && off + size <= f->size);
		assert_true(n < max);
		memcpy(types[n], f->data + off + 4, 4);
		types[n++][4] = '\0';
		off += size;
	}
	assert_int_equal(off, f->size);
	return n;
}

struct demo_packets {
	AVPacket *pkts[FRAMES];
	struct source *src;
};

static void read_demo(struct demo_packets *d)
{
	static const struct source_opts opts = {
		.url = "demo:moving?fps=15&gop=30", .timeout_us = 5000000,
		.realtime = false, .clock = &clock_system, .tag = "test",
	};

	assert_int_equal(source_open(&d->src, &opts), 0);
	for (int i = 0; i < FRAMES; i++) {
		d->pkts[i] = av_packet_alloc();
		assert_int_equal(source_read(d->src, d->pkts[i]), 0);
	}
}

static void free_demo(struct demo_packets *d)
{
	for (int i = 0; i < FRAMES; i++)
		av_packet_free(&d->pkts[i]);
	source_close(d->src);
}

static void test_split(void **state)
{
	struct demo_packets d;
	struct collected c = { 0 };
	struct fragmenter *f;
	char types[8][5];

	(void)state;
	read_demo(&d);
	assert_int_equal(fragmenter_open(&f, d.src, 7, collect, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.frags[0]->kind, FRAGMENT_INIT);
	assert_int_equal(boxes(c.frags[0], types, 8), 2);
	assert_string_equal(types[0], "ftyp");
	assert_string_equal(types[1], "moov");

	for (int i = 0; i < FRAMES; i++) {
		AVPacket *p = av_packet_clone(d.pkts[i]);
		assert_int_equal(fragmenter_write(f, p, 1000000 + i), 0);
		av_packet_free(&p);
	}
	assert_int_equal(fragmenter_flush(f), 0);
	fragmenter_close(f);

	/* One fragment per frame, cut so each keyframe starts its own. */
	assert_int_equal(c.n, 1 + FRAMES);
	int64_t frame_us = 1000000 / 15;
	for (int i = 0; i < FRAMES; i++) {
		struct fragment *m = c.frags[1 + i];
		int n = boxes(m, types, 8);

		assert_int_equal(m->kind, FRAGMENT_MEDIA);
		assert_int_equal(m->generation, 7);
		assert_int_equal(m->keyframe, !!(d.pkts[i]->flags & AV_PKT_FLAG_KEY));
		assert_int_equal(m->keyframe, i % 30 == 0);
		assert_true(llabs(m->media_us - (int64_t)i * 1000000 / 15) <= 1);
		assert_int_equal(m->wall_us, 1000000 + i);
		assert_true(llabs(m->duration_us - frame_us) <= 1);
		assert_string_equal(types[n - 2], "moof");
		assert_string_equal(types[n - 1], "mdat");
		for (int b = 0; b < n - 2; b++)
			assert_string_equal(types[b], "prft");
	}

	/* The pieces concatenated are one valid file holding every packet. */
	char path[] = "/tmp/camfs-fragXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	for (int i = 0; i < c.n; i++)
		assert_int_equal(write(fd, c.frags[i]->data, c.frags[i]->size), (ssize_t)c.frags[i]->size);
	close(fd);

	AVFormatContext *in = NULL;
	AVPacket *pkt = av_packet_alloc();
	assert_int_equal(avformat_open_input(&in, path, NULL, NULL), 0);
	assert_int_equal(avformat_find_stream_info(in, NULL) >= 0, 1);
	assert_int_equal(in->streams[0]->codecpar->codec_id, AV_CODEC_ID_H264);
	int n = 0;
	while (av_read_frame(in, pkt) >= 0) {
		assert_true(n < FRAMES);
		uint8_t *got = malloc(pkt->size * 2 + 64), *want = malloc(d.pkts[n]->size * 2 + 64);
		size_t got_len = testutil_canonical_nals(pkt->data, pkt->size, false, got);
		size_t want_len = testutil_canonical_nals(d.pkts[n]->data, d.pkts[n]->size, true, want);
		assert_true(want_len > 0);
		assert_int_equal(got_len, want_len);
		assert_memory_equal(got, want, got_len);
		free(got);
		free(want);
		assert_int_equal(!!(pkt->flags & AV_PKT_FLAG_KEY), !!(d.pkts[n]->flags & AV_PKT_FLAG_KEY));
		n++;
		av_packet_unref(pkt);
	}
	assert_int_equal(n, FRAMES);
	av_packet_free(&pkt);
	avformat_close_input(&in);
	unlink(path);

	for (int i = 0; i < c.n; i++)
		fragment_unref(&c.frags[i]);
	free_demo(&d);
}

/* One session of packets [from, to) of d, its first keyframe placed at
 * start_us, collected into c; packet i arrives at wall time i. */
static void run_session(struct demo_packets *d, int from, int to, uint32_t generation,
			int64_t start_us, struct collected *c)
{
	struct fragmenter *f;

	assert_int_equal(fragmenter_open(&f, d->src, generation, collect, c), 0);
	fragmenter_set_start(f, start_us);
	for (int i = from; i < to; i++) {
		AVPacket *p = av_packet_clone(d->pkts[i]);
		assert_int_equal(fragmenter_write(f, p, i), 0);
		av_packet_free(&p);
	}
	assert_int_equal(fragmenter_flush(f), 0);
	fragmenter_close(f);
}

/* Packets before the first keyframe cannot be decoded: they are dropped and
 * the session's time starts at that keyframe, placed at the given start. */
static void test_starts_at_keyframe(void **state)
{
	struct demo_packets d;
	struct collected c = { 0 };

	(void)state;
	read_demo(&d);
	run_session(&d, 20, FRAMES, 1, 5000000, &c);
	assert_int_equal(c.n, 1 + FRAMES - 30);
	assert_true(c.frags[1]->keyframe);
	assert_int_equal(c.frags[1]->media_us, 5000000);
	assert_true(llabs(c.frags[2]->media_us - 5000000 - 1000000 / 15) <= 1);
	assert_int_equal(c.frags[1]->wall_us, 30);
	for (int i = 0; i < c.n; i++)
		fragment_unref(&c.frags[i]);
	free_demo(&d);
}

/* Writes the fragments of each collection to a temp file as one stream
 * (the init of the first only, as a live reader gets them) and reads back
 * every packet's dts in µs; returns how many, at most max. */
static int read_back(struct collected *const *cs, int n_cs, int64_t *dts_us, int max)
{
	char path[] = "/tmp/camfs-fragXXXXXX";
	int fd = mkstemp(path), n = 0;
	AVFormatContext *in = NULL;
	AVPacket *pkt = av_packet_alloc();

	assert_true(fd >= 0);
	for (int k = 0; k < n_cs; k++)
		for (int i = k ? 1 : 0; i < cs[k]->n; i++)
			assert_int_equal(write(fd, cs[k]->frags[i]->data, cs[k]->frags[i]->size),
					 (ssize_t)cs[k]->frags[i]->size);
	close(fd);
	assert_int_equal(avformat_open_input(&in, path, NULL, NULL), 0);
	while (av_read_frame(in, pkt) >= 0) {
		assert_true(n < max);
		dts_us[n++] = av_rescale_q(pkt->dts, in->streams[0]->time_base, AV_TIME_BASE_Q);
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	avformat_close_input(&in);
	unlink(path);
	return n;
}

static void unref_all(struct collected *c)
{
	for (int i = 0; i < c->n; i++)
		fragment_unref(&c->frags[i]);
}

/* A live reader across a reconnect with unchanged settings: the hub keeps
 * the first init (the second is the same bytes) and appends the second
 * session's fragments, which set_start placed after the first's. Read back
 * as one stream, time never goes back and the gap is where it was put. */
static void test_reconnect_goes_on(void **state)
{
	struct demo_packets d;
	struct collected a = { 0 }, b = { 0 };
	struct collected *both[] = { &a, &b };
	int64_t dts[FRAMES];
	int n;

	(void)state;
	read_demo(&d);
	run_session(&d, 0, 30, 1, 0, &a);
	/* Two seconds of media and 3 s of outage later, from the keyframe
	 * at packet 60 (whose own dts says 4 s). */
	run_session(&d, 60, FRAMES, 2, 5000000, &b);
	assert_int_equal(a.frags[0]->size, b.frags[0]->size);
	assert_memory_equal(a.frags[0]->data, b.frags[0]->data, a.frags[0]->size);

	n = read_back(both, 2, dts, FRAMES);
	assert_int_equal(n, 30 + FRAMES - 60);
	for (int i = 1; i < n; i++)
		if (dts[i] <= dts[i - 1])
			fail_msg("packet %d: dts %lld us after %lld us", i, (long long)dts[i],
				 (long long)dts[i - 1]);
	assert_true(llabs(dts[30] - 5000000) <= 1);
	unref_all(&a);
	unref_all(&b);
	free_demo(&d);
}

/* Pushed frames (a browser's, a board's) come without a duration: each
 * frame's is the time to the next, the first's too, and the last frame
 * lasts as long as the one before it. Read back, every frame is where its
 * dts put it. */
static void test_frames_without_duration(void **state)
{
	struct demo_packets d;
	struct collected c = { 0 }, *one[] = { &c };
	int64_t dts[FRAMES], frame_us = 1000000 / 15;
	int n;

	(void)state;
	read_demo(&d);
	for (int i = 0; i < FRAMES; i++)
		d.pkts[i]->duration = 0;
	run_session(&d, 0, FRAMES, 1, 0, &c);
	assert_int_equal(c.n, 1 + FRAMES);
	for (int i = 1; i < c.n; i++)
		assert_true(llabs(c.frags[i]->duration_us - frame_us) <= 1);
	n = read_back(one, 1, dts, FRAMES);
	assert_int_equal(n, FRAMES);
	for (int i = 0; i < n; i++)
		if (llabs(dts[i] - i * 1000000LL / 15) > 1)
			fail_msg("frame %d at %lld us, not %lld", i, (long long)dts[i],
				 (long long)(i * 1000000LL / 15));
	unref_all(&c);
	free_demo(&d);
}

static void test_refcount(void **state)
{
	struct fragment *f = fragment_new(FRAGMENT_MEDIA, 16);
	struct fragment *g = fragment_ref(f);

	(void)state;
	fragment_unref(&f);
	assert_null(f);
	assert_int_equal(atomic_load(&g->refs), 1);
	fragment_unref(&g);
	fragment_unref(&g);   /* NULL is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_starts_at_keyframe),
		cmocka_unit_test(test_reconnect_goes_on),
		cmocka_unit_test(test_frames_without_duration),
		cmocka_unit_test(test_refcount),
	};

	av_log_set_level(AV_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
