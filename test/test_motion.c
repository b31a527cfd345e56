/* test_motion.c - motion scores on real demo packets (moving vs static) for
 * both methods, one row per second, the event rule, and per-packet cost. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"
#include "events/motion.h"
#include "ingest/source.h"

#define START_US INT64_C(1700000000000000)   /* a whole second */
#define SECONDS 20
#define MAX_ROWS 4096
#define MAX_EVENTS 16

struct rec {
	int rows;
	int64_t second[MAX_ROWS];
	int score[MAX_ROWS];
	int events;
	bool ev_start[MAX_EVENTS];
	int64_t ev_us[MAX_EVENTS];
};

static void on_score(int64_t second_start_us, int score, void *opaque)
{
	struct rec *r = opaque;

	assert_true(r->rows < MAX_ROWS);
	assert_int_equal(second_start_us % 1000000, 0);
	assert_true(score >= 0 && score <= 100);
	r->second[r->rows] = second_start_us;
	r->score[r->rows++] = score;
}

static void on_event(bool start, int64_t wall_us, void *opaque)
{
	struct rec *r = opaque;

	assert_true(r->events < MAX_EVENTS);
	/* strictly alternating, starting with a start */
	assert_int_equal(start, r->events % 2 == 0);
	r->ev_start[r->events] = start;
	r->ev_us[r->events++] = wall_us;
}

/* Exactly one row per second, consecutive, from first_us. */
static void assert_rows(const struct rec *r, int64_t first_us, int n)
{
	assert_int_equal(r->rows, n);
	for (int i = 0; i < r->rows; i++)
		assert_int_equal(r->second[i], first_us + i * INT64_C(1000000));
}

/* A scorer with options o that records into r. */
static struct motion *new_motion_opts(struct motion_opts o, struct rec *r)
{
	struct motion *m;

	o.on_score = on_score;
	o.on_event = on_event;
	o.opaque = r;
	o.tag = "t";
	memset(r, 0, sizeof(*r));
	assert_int_equal(motion_new(&m, &o), 0);
	return m;
}

static struct motion *new_motion_fps(enum motion_method method, int frame_fps, struct rec *r)
{
	return new_motion_opts((struct motion_opts){ .method = method, .frame_fps = frame_fps }, r);
}

static struct motion *new_motion(enum motion_method method, struct rec *r)
{
	return new_motion_fps(method, 0, r);
}

static void print_scores(const char *what, const struct rec *r)
{
	printf("%-22s", what);
	for (int i = 0; i < r->rows; i++)
		printf(" %3d", r->score[i]);
	printf("\n");
}

static double mean_score(const struct rec *r, int from)
{
	double sum = 0;

	for (int i = from; i < r->rows; i++)
		sum += r->score[i];
	return r->rows > from ? sum / (r->rows - from) : 0;
}

static int max_score(const struct rec *r, int from)
{
	int best = 0;

	for (int i = from; i < r->rows; i++)
		best = r->score[i] > best ? r->score[i] : best;
	return best;
}

static int64_t now_ns(void);
static int64_t key_ns, key_count;   /* time in motion_packet for keyframes */

/* Feeds `seconds` of the demo stream at url into m, wall = start + pts.
 * Returns the wall time just past the last packet. */
static int64_t feed_demo(struct motion *m, const char *url, int seconds, int64_t start_us)
{
	struct source_opts opts = {
		.url = url, .realtime = false, .clock = &clock_system, .timeout_us = 5000000,
		.tag = "t",
	};
	struct source *src;
	AVPacket *pkt = av_packet_alloc();
	int64_t wall = start_us;

	assert_non_null(pkt);
	assert_int_equal(source_open(&src, &opts), 0);
	for (;;) {
		assert_int_equal(source_read(src, pkt), 0);
		if (pkt->stream_index != SOURCE_VIDEO) {
			av_packet_unref(pkt);
			continue;
		}
		wall = start_us + av_rescale_q(pkt->pts, src->video.time_base, (AVRational){ 1, 1000000 });
		if (wall >= start_us + seconds * INT64_C(1000000)) {
			av_packet_unref(pkt);
			break;
		}
		{
			int64_t t0 = now_ns();

			assert_int_equal(motion_packet(m, src->video.par, pkt, wall), 0);
			if (pkt->flags & AV_PKT_FLAG_KEY) {
				key_ns += now_ns() - t0;
				key_count++;
			}
		}
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	source_close(src);
	return wall;
}

static void test_pixels_demo(void **state)
{
	struct rec mov, sta;
	struct motion *m;

	m = new_motion(MOTION_PIXELS, &mov);
	feed_demo(m, "demo:moving?fps=15&gop=15", SECONDS, START_US);
	motion_finish(m);
	motion_free(m);
	m = new_motion(MOTION_PIXELS, &sta);
	feed_demo(m, "demo:static?fps=15&gop=15", SECONDS, START_US);
	motion_finish(m);
	motion_free(m);
	print_scores("pixels demo:moving", &mov);
	print_scores("pixels demo:static", &sta);

	assert_rows(&mov, START_US, SECONDS);
	assert_rows(&sta, START_US, SECONDS);
	/* The first keyframe seeds the background; after it the box shows. */
	assert_int_equal(mov.score[0], 0);
	/* The demo box is 2.8% of the picture (about 1.7% counted, its edges
	 * blurred by scaling): a score of 1-4. The static scene's clock digits
	 * are mostly dropped as thin; rarely they reach 1. */
	assert_true(max_score(&sta, 0) <= 1);
	assert_true(mean_score(&sta, 1) <= 0.4);
	/* The box moves for the first 10 s (DEMO_MOVE_S), then rests; the
	 * background takes it in within a few keyframes. */
	double moving = 0;
	for (int i = 1; i < 10; i++) {
		assert_true(mov.score[i] >= 1);
		moving += mov.score[i] / 9.0;
	}
	assert_true(moving >= 1.5);
	assert_true(moving >= mean_score(&sta, 1) + 1.2);
	assert_true(max_score(&mov, 15) <= 1);   /* the clock's digits, as static */
	/* Default event rule (>= 2 for 2 s, ends after 5 s below): moving has
	 * one, which ends while the box rests; static none. */
	assert_int_equal(mov.events, 2);
	assert_true(mov.ev_start[0]);
	assert_true(mov.ev_us[0] >= START_US + 1000000);
	assert_false(mov.ev_start[1]);
	assert_true(mov.ev_us[1] >= START_US + 10 * INT64_C(1000000));
	assert_true(mov.ev_us[1] < START_US + SECONDS * INT64_C(1000000));
	assert_int_equal(sta.events, 0);
}

/* A substream decoded frame by frame: GOP 10 s, so keyframes alone would
 * score once in the moving phase; frames scored 5 times a second see it
 * all along. */
static void test_pixels_every_frame(void **state)
{
	struct rec mov, sta;
	struct motion *m;

	m = new_motion_fps(MOTION_PIXELS, 5, &mov);
	feed_demo(m, "demo:moving?size=320x180&fps=15&gop=150", SECONDS, START_US);
	motion_finish(m);
	motion_free(m);
	m = new_motion_fps(MOTION_PIXELS, 5, &sta);
	feed_demo(m, "demo:static?size=320x180&fps=15&gop=150", SECONDS, START_US);
	motion_finish(m);
	motion_free(m);
	print_scores("pixels 5 fps moving", &mov);
	print_scores("pixels 5 fps static", &sta);

	assert_rows(&mov, START_US, SECONDS);
	for (int i = 1; i < 10; i++)
		assert_true(mov.score[i] >= 1);
	assert_true(max_score(&mov, 15) <= 1);
	assert_true(max_score(&sta, 0) <= 1);
	assert_true(mov.events >= 1 && mov.ev_start[0]);
	assert_int_equal(sta.events, 0);
}

/* A keyframe that does not decode scores nothing, and the background
 * stays: the next keyframe of the moving box scores as it would have,
 * rather than only seeding a new background. */
static void test_pixels_bad_keyframe_keeps_background(void **state)
{
	struct source_opts opts = {
		.url = "demo:moving?fps=15&gop=15", .realtime = false, .clock = &clock_system,
		.timeout_us = 5000000, .tag = "t",
	};
	AVPacket *pkt = av_packet_alloc(), *bad = av_packet_alloc();
	struct source *src;
	struct rec r;
	struct motion *m = new_motion(MOTION_PIXELS, &r);
	int keys = 0;

	assert_non_null(pkt);
	assert_non_null(bad);
	assert_int_equal(av_new_packet(bad, 64), 0);   /* zeros: no picture in it */
	bad->flags = AV_PKT_FLAG_KEY;
	assert_int_equal(source_open(&src, &opts), 0);
	for (;;) {
		int64_t wall;

		assert_int_equal(source_read(src, pkt), 0);
		wall = START_US + av_rescale_q(pkt->pts, src->video.time_base, AV_TIME_BASE_Q);
		if (pkt->stream_index != SOURCE_VIDEO || wall >= START_US + 8 * INT64_C(1000000)) {
			av_packet_unref(pkt);
			if (wall >= START_US + 8 * INT64_C(1000000))
				break;
			continue;
		}
		/* The keyframe of second 3 (the 4th) arrives broken. */
		if ((pkt->flags & AV_PKT_FLAG_KEY) && ++keys == 4)
			assert_true(motion_packet(m, src->video.par, bad, wall) < 0);
		else
			assert_int_equal(motion_packet(m, src->video.par, pkt, wall), 0);
		av_packet_unref(pkt);
	}
	motion_finish(m);
	motion_free(m);
	source_close(src);
	av_packet_free(&pkt);
	av_packet_free(&bad);
	print_scores("pixels, bad keyframe 3", &r);

	assert_rows(&r, START_US, 8);
	for (int i = 1; i < 8; i++)
		assert_true(r.score[i] >= 1);
}

static void test_bitrate_demo(void **state)
{
	struct rec mov, sta, both;
	struct motion *m;
	int64_t t;

	m = new_motion(MOTION_BITRATE, &mov);
	feed_demo(m, "demo:moving?fps=15&gop=15", SECONDS, START_US);
	motion_finish(m);
	motion_free(m);
	m = new_motion(MOTION_BITRATE, &sta);
	feed_demo(m, "demo:static?fps=15&gop=15", SECONDS, START_US);
	motion_finish(m);
	motion_free(m);
	/* A still scene that starts moving: the same scorer sees static, then
	 * moving packets, as a camera would. An event from one second at or
	 * over the threshold: the box's later seconds straddle it (46, 66, 48,
	 * 62 in one run), so two in a row (the default) came or not by run. */
	m = new_motion_opts((struct motion_opts){ .method = MOTION_BITRATE, .min_seconds = 1 },
			    &both);
	t = START_US + 10 * INT64_C(1000000);
	feed_demo(m, "demo:static?fps=15&gop=15", 10, START_US);
	feed_demo(m, "demo:moving?fps=15&gop=15", SECONDS, t);
	motion_finish(m);
	motion_free(m);
	print_scores("bitrate demo:moving", &mov);
	print_scores("bitrate demo:static", &sta);
	print_scores("bitrate static>moving", &both);

	assert_rows(&mov, START_US, SECONDS);
	assert_rows(&sta, START_US, SECONDS);
	assert_rows(&both, START_US, 10 + SECONDS);
	/* The drawn clock's digits change frame sizes a little, by run: far
	 * below the event threshold (50) is what matters. */
	assert_true(max_score(&sta, 0) <= 25);
	assert_int_equal(sta.events, 0);
	/* Static: quiet. Then the box: high, and an event from its first second. */
	for (int i = 0; i < 10; i++)
		assert_true(both.score[i] <= 25);
	/* The box's first second always stands out; later ones mostly do (the
	 * mean learns some of them), so the event starts within a few seconds.
	 * Their mean varies by run with the drawn clock (49..96 seen in twelve
	 * runs), so it is held to a bound above the still scores, not to the
	 * threshold. */
	assert_true(both.score[10] >= 50);
	double moving = 0;
	for (int i = 10; i < 20; i++)
		moving += both.score[i] / 10.0;
	assert_true(moving >= 30);
	assert_true(both.events >= 1);
	assert_true(both.ev_us[0] >= t && both.ev_us[0] <= t + 3 * INT64_C(1000000));
}

/* Synthetic sizes: still frames ~1000 bytes, then a burst of large ones. */
static void feed_sizes(struct motion *m, int64_t from_s, int to_s, int size, int fps)
{
	AVPacket *pkt = av_packet_alloc();

	assert_non_null(pkt);
	for (int64_t f = from_s * fps; f < (int64_t)to_s * fps; f++) {
		pkt->size = size + (int)(f * 37 % 101) - 50;   /* a little noise */
		pkt->flags = f % (2 * fps) ? 0 : AV_PKT_FLAG_KEY;
		if (pkt->flags)
			pkt->size = 20 * size;
		assert_int_equal(motion_packet(m, NULL, pkt, START_US + f * 1000000 / fps), 0);
	}
	av_packet_free(&pkt);
}

static void test_bitrate_burst_event(void **state)
{
	struct rec r;
	struct motion *m = new_motion(MOTION_BITRATE, &r);

	feed_sizes(m, 0, 30, 1000, 25);
	feed_sizes(m, 30, 36, 4000, 25);   /* 6 s of motion */
	feed_sizes(m, 36, 50, 1000, 25);
	motion_finish(m);
	motion_free(m);
	print_scores("bitrate synthetic", &r);

	assert_rows(&r, START_US, 50);
	for (int i = 0; i < 30; i++)
		assert_int_equal(r.score[i], 0);
	for (int i = 30; i < 36; i++)
		assert_int_equal(r.score[i], 100);
	for (int i = 36; i < 50; i++)
		assert_int_equal(r.score[i], 0);
	/* min_seconds 2: the event starts at the first high second, known at
	 * the end of the second; end_seconds 5: ends where motion ended. */
	assert_int_equal(r.events, 2);
	assert_true(r.ev_start[0]);
	assert_int_equal(r.ev_us[0], START_US + 30 * INT64_C(1000000));
	assert_false(r.ev_start[1]);
	assert_int_equal(r.ev_us[1], START_US + 36 * INT64_C(1000000));
}

static void test_short_burst_no_event(void **state)
{
	struct rec r;
	struct motion *m = new_motion(MOTION_BITRATE, &r);

	feed_sizes(m, 0, 30, 1000, 25);
	feed_sizes(m, 30, 31, 4000, 25);   /* 1 s: under min_seconds */
	feed_sizes(m, 31, 40, 1000, 25);
	motion_finish(m);
	motion_free(m);
	assert_rows(&r, START_US, 40);
	assert_int_equal(r.score[30], 100);
	assert_int_equal(r.events, 0);
}

/* Seconds without packets are rows of 0; motion_advance reports them
 * without a packet; a gap longer than an event's end rule ends it. */
static void test_gaps(void **state)
{
	struct rec r;
	struct motion *m = new_motion(MOTION_BITRATE, &r);

	feed_sizes(m, 0, 30, 1000, 25);
	feed_sizes(m, 30, 33, 4000, 25);
	assert_int_equal(r.rows, 32);      /* second 32 still collecting */
	motion_advance(m, START_US + 40 * INT64_C(1000000) + 5);
	assert_rows(&r, START_US, 40);
	assert_int_equal(r.score[32], 100);
	for (int i = 33; i < 40; i++)
		assert_int_equal(r.score[i], 0);
	assert_int_equal(r.events, 2);
	assert_int_equal(r.ev_us[0], START_US + 30 * INT64_C(1000000));
	assert_int_equal(r.ev_us[1], START_US + 33 * INT64_C(1000000));
	motion_advance(m, START_US);       /* the past: nothing */
	assert_int_equal(r.rows, 40);
	feed_sizes(m, 41, 43, 1000, 25);
	assert_rows(&r, START_US, 42);
	motion_finish(m);
	assert_rows(&r, START_US, 43);
	assert_false(motion_in_event(m));
	motion_free(m);
}

static void test_bad_opts(void **state)
{
	struct motion_opts o = { .method = MOTION_BITRATE, .sensitivity = 0.5 };
	struct motion *m = (struct motion *)&o;

	assert_int_equal(motion_new(&m, &o), -EINVAL);
	assert_null(m);
	o.sensitivity = 0;
	o.window = MOTION_BITRATE_WINDOW_MAX + 1;
	assert_int_equal(motion_new(&m, &o), -EINVAL);
	o.window = 0;
	o.threshold = 101;
	assert_int_equal(motion_new(&m, &o), -EINVAL);
	motion_free(NULL);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

static void test_bitrate_cost(void **state)
{
	const int n = 2000000, fps = 25;
	struct motion_opts o = { .method = MOTION_BITRATE };
	struct motion *m;
	AVPacket *pkt = av_packet_alloc();
	int64_t t0, ns;

	assert_non_null(pkt);
	/* rows overflow MAX_ROWS: count only */
	assert_int_equal(motion_new(&m, &o), 0);
	t0 = now_ns();
	for (int f = 0; f < n; f++) {
		pkt->size = 1000 + (int)((unsigned)f * 7919u % 997u) + (f % 500 < 50 ? 4000 : 0);
		pkt->flags = f % 50 ? 0 : AV_PKT_FLAG_KEY;
		motion_packet(m, NULL, pkt, START_US + (int64_t)f * 1000000 / fps);
	}
	ns = now_ns() - t0;
	motion_free(m);
	av_packet_free(&pkt);
	printf("bitrate: %.1f ns/packet (%.5f%% of a core at 25 fps)\n", (double)ns / n,
	       (double)ns / n * 25 / 1e9 * 100);
	assert_true(ns / n < 2000);   /* generous: valgrind and sanitizers */
}

static void test_pixels_cost(void **state)
{
	struct rec r;
	struct motion *m = new_motion(MOTION_PIXELS, &r);

	key_ns = key_count = 0;
	feed_demo(m, "demo:moving?fps=15&gop=15", SECONDS, START_US);
	motion_free(m);
	assert_int_equal(key_count, SECONDS);
	/* decode + scale + compare; the first includes opening the decoder */
	printf("pixels: %.3f ms per 640x360 H.264 keyframe (%" PRId64 " keyframes)\n",
	       (double)key_ns / key_count / 1e6, key_count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_opts),
		cmocka_unit_test(test_bitrate_burst_event),
		cmocka_unit_test(test_short_burst_no_event),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_pixels_demo),
		cmocka_unit_test(test_pixels_every_frame),
		cmocka_unit_test(test_pixels_bad_keyframe_keeps_background),
		cmocka_unit_test(test_bitrate_demo),
		cmocka_unit_test(test_bitrate_cost),
		cmocka_unit_test(test_pixels_cost),
	};

	log_set_level(LOG_WARNING);
	av_log_set_level(AV_LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
