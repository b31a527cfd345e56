/* test_writer.c - segment cutting on a simulated clock: cuts fall on the
 * first keyframe after segment_seconds and at local midnight, files are named
 * by the wall time of their first frame (also when the wall clock steps),
 * every file plays alone, and motion rows land in the sidecar of their
 * second's segment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libavformat/avformat.h>

#include "util/clock.h"
#include "config.h"
#include "stream/fragment.h"
#include "stream/fragmenter.h"
#include "ingest/source.h"
#include "record/writer.h"
#include "testutil.h"

/* Simulated time: both clocks read the same settable value. */
static int64_t sim_now_us;
static int64_t sim_us(const struct clock *c) { (void)c; return sim_now_us; }
static const struct clock sim_clock = { .wall_us = sim_us, .monotonic_us = sim_us };

/* The wall clock's step at each frame (NULL: none), where the monotonic
 * clock goes on: what a camera's frames are stamped with when NTP moves the
 * clock. */
static int64_t (*wall_step_at)(int frame);

struct run {
	struct writer *writer;
};

static void to_writer(struct fragment *frag, void *opaque)
{
	struct run *r = opaque;

	writer_push(r->writer, 0, frag);
}

/* Records `seconds` of the demo camera, whose first frame is shown at the
 * local time start_local (TZ=UTC in the tests), into a fresh store. Each
 * second's motion score (its index, to tell rows apart) is pushed when the
 * next second's first frame has been, as the motion detector does. */
static void record(struct config *cfg, const char *url, int seconds, time_t start_local)
{
	struct source_opts opts = {
		.url = url, .timeout_us = 5000000, .realtime = false,
		.clock = &clock_system, .tag = "test",
	};
	struct source *src;
	struct fragmenter *frag;
	struct run r;
	AVPacket *pkt = av_packet_alloc();

	assert_int_equal(writer_new(&r.writer, cfg, &sim_clock), 0);
	assert_int_equal(writer_start(r.writer), 0);
	assert_int_equal(source_open(&src, &opts), 0);
	assert_int_equal(fragmenter_open(&frag, src, 1, to_writer, &r), 0);
	int fps = 15;
	for (int i = 0; i < seconds * fps; i++) {
		assert_int_equal(source_read(src, pkt), 0);
		sim_now_us = (int64_t)start_local * 1000000 + (int64_t)i * 1000000 / fps;
		assert_int_equal(fragmenter_write(frag, pkt,
						  sim_now_us + (wall_step_at ? wall_step_at(i) : 0)), 0);
		if (i > 0 && i % fps == 0)
			writer_push_score(r.writer, 0, sim_now_us - 1000000 +
					  (wall_step_at ? wall_step_at(i - fps) : 0), i / fps - 1);
	}
	assert_int_equal(fragmenter_flush(frag), 0);
	writer_push_score(r.writer, 0, (int64_t)(start_local + seconds - 1) * 1000000 +
			  (wall_step_at ? wall_step_at(seconds * fps - 1) : 0), seconds - 1);
	writer_end_session(r.writer, 0);
	writer_stop(r.writer);
	writer_free(r.writer);
	fragmenter_close(frag);
	source_close(src);
	av_packet_free(&pkt);
}

/* Frames in a file, and whether it opened and started with a keyframe. */
static int frames_in(const char *path)
{
	AVFormatContext *in = NULL;
	AVPacket *pkt = av_packet_alloc();
	int n = 0;

	if (avformat_open_input(&in, path, NULL, NULL) < 0)
		return -1;
	while (av_read_frame(in, pkt) >= 0) {
		if (n == 0 && !(pkt->flags & AV_PKT_FLAG_KEY))
			n = -1000;
		n++;
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	avformat_close_input(&in);
	return n;
}

static char store[64];

static void make_config(struct config *cfg, int segment_seconds)
{
	testutil_temp_dir(store, sizeof(store), "writer");
	config_init(cfg);
	free(cfg->store);
	cfg->store = strdup(store);
	cfg->segment_seconds = segment_seconds;
	cfg->retain_days = 0;
	assert_non_null(config_add_camera(cfg, "cam", "demo:moving"));
}

static void expect(const char *rel, int frames)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/cam/%s", store, rel);
	assert_int_equal(access(path, R_OK), 0);
	assert_int_equal(frames_in(path), frames);
}

static void cleanup(struct config *cfg)
{
	assert_int_equal(testutil_remove_tree(store), 0);
	config_free(cfg);
}

/* 2 s segments, keyframes every 2 s: a cut at every keyframe. */
static void test_cuts_at_keyframe_after_length(void **state)
{
	struct config cfg;
	time_t t0 = 1795168800;   /* 2026-11-20 10:00:00 UTC */

	(void)state;
	make_config(&cfg, 2);
	record(&cfg, "demo:moving?fps=15&gop=30", 8, t0);
	expect("2026-11-20/10-00-00.mp4", 30);
	expect("2026-11-20/10-00-02.mp4", 30);
	expect("2026-11-20/10-00-04.mp4", 30);
	expect("2026-11-20/10-00-06.mp4", 30);
	assert_int_equal(testutil_count_files(store, ".mp4"), 4);
	/* Each segment's sidecar has the rows of its own seconds, even those
	 * pushed after the next segment began. */
	for (int seg = 0; seg < 4; seg++) {
		char path[256], want[128], got[128] = "";
		FILE *f;

		snprintf(path, sizeof(path), "%s/cam/2026-11-20/10-00-%02d.motion.csv", store, 2 * seg);
		snprintf(want, sizeof(want), "time,score\n2026-11-20 10:00:%02d,%d\n2026-11-20 10:00:%02d,%d\n",
			 2 * seg, 2 * seg, 2 * seg + 1, 2 * seg + 1);
		f = fopen(path, "r");
		assert_non_null(f);
		got[fread(got, 1, sizeof(got) - 1, f)] = '\0';
		fclose(f);
		assert_string_equal(got, want);
	}
	cleanup(&cfg);
}

/* Keyframes every 3 s and 2 s segments: the cut waits for the keyframe. */
static void test_cut_waits_for_keyframe(void **state)
{
	struct config cfg;
	time_t t0 = 1795168800;

	(void)state;
	make_config(&cfg, 2);
	record(&cfg, "demo:moving?fps=15&gop=45", 9, t0);
	expect("2026-11-20/10-00-00.mp4", 45);
	expect("2026-11-20/10-00-03.mp4", 45);
	expect("2026-11-20/10-00-06.mp4", 45);
	assert_int_equal(testutil_count_files(store, ".mp4"), 3);
	cleanup(&cfg);
}

/* Long segments still end at the first keyframe of a new day. */
static void test_cut_at_midnight(void **state)
{
	struct config cfg;
	time_t t0 = 1795219195;   /* 2026-11-20 23:59:55 UTC */

	(void)state;
	make_config(&cfg, 60);
	record(&cfg, "demo:moving?fps=15&gop=45", 12, t0);
	/* Keyframes at 23:59:55, :58, 00:00:01, :04: the day changes at the
	 * third one. */
	expect("2026-11-20/23-59-55.mp4", 90);
	expect("2026-11-21/00-00-01.mp4", 90);
	assert_int_equal(testutil_count_files(store, ".mp4"), 2);
	cleanup(&cfg);
}

/* A camera that sends no keyframe for 40 s: the segment, due at 2 s, waits
 * 20 s for one and is cut without it; recording resumes at the keyframe. */
static void test_cut_without_keyframe(void **state)
{
	struct config cfg;
	time_t t0 = 1795168800;

	(void)state;
	make_config(&cfg, 2);
	record(&cfg, "demo:moving?fps=15&gop=600", 45, t0);
	expect("2026-11-20/10-00-00.mp4", 22 * 15);
	expect("2026-11-20/10-00-40.mp4", 5 * 15);
	assert_int_equal(testutil_count_files(store, ".mp4"), 2);
	cleanup(&cfg);
}

/* A camera whose keyframes come every 30 s: its first GOP is not known, so
 * the first segment is cut after 20 s, as for any camera; from then on its
 * GOP is waited for (up to three of them) and nothing more is lost. */
static void test_long_gop_waited_for(void **state)
{
	struct config cfg;
	time_t t0 = 1795168800;

	(void)state;
	make_config(&cfg, 2);
	record(&cfg, "demo:moving?fps=15&gop=450", 120, t0);
	expect("2026-11-20/10-00-00.mp4", 22 * 15);
	expect("2026-11-20/10-00-30.mp4", 450);
	expect("2026-11-20/10-01-00.mp4", 450);
	expect("2026-11-20/10-01-30.mp4", 450);
	assert_int_equal(testutil_count_files(store, ".mp4"), 4);
	cleanup(&cfg);
}

/* Nor past midnight by more than that wait. */
static void test_midnight_without_keyframe(void **state)
{
	struct config cfg;
	time_t t0 = 1795219190;   /* 2026-11-20 23:59:50 UTC */

	(void)state;
	make_config(&cfg, 60);
	record(&cfg, "demo:moving?fps=15&gop=1000", 45, t0);
	expect("2026-11-20/23-59-50.mp4", 30 * 15);
	assert_int_equal(testutil_count_files(store, ".mp4"), 1);
	cleanup(&cfg);
}

/* At 15 fps: an hour back at 10 s, then an hour ahead of true at 20 s. */
static int64_t ntp_steps(int frame)
{
	return frame < 150 ? 0 : frame < 300 ? -3600 * INT64_C(1000000) : 3600 * INT64_C(1000000);
}

/* The wall clock steps back an hour, then forward two, while the camera
 * records (NTP correcting a clock; the monotonic clock goes on). Segments
 * are still cut by media time, each named by its first frame's wall time,
 * so the stepped ones sit an hour earlier or later: nothing is lost,
 * merged or overwritten, and every file plays from a keyframe. */
static void test_wall_clock_steps(void **state)
{
	struct config cfg;
	time_t t0 = 1795168800;   /* 2026-11-20 10:00:00 UTC */
	static const char *const hours[] = { "10", "09", "11" };

	(void)state;
	make_config(&cfg, 2);
	wall_step_at = ntp_steps;
	record(&cfg, "demo:moving?fps=15&gop=30", 30, t0);
	wall_step_at = NULL;
	for (int k = 0; k < 15; k++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "2026-11-20/%s-00-%02d.mp4", hours[k / 5], k * 2);
		expect(rel, 30);
	}
	assert_int_equal(testutil_count_files(store, ".mp4"), 15);
	cleanup(&cfg);
}

/* A segment callback held up in mid-call; clearing it must wait for it. */
struct slow_cb {
	struct writer *w;
	atomic_int entered, release, left;
	int left_when_cleared;
};

static void slow_segment(int cam, const char *path, void *opaque)
{
	struct slow_cb *c = opaque;
	struct timespec ms = { 0, 1000000 };

	(void)cam;
	(void)path;
	atomic_store(&c->entered, 1);
	while (!atomic_load(&c->release))
		nanosleep(&ms, NULL);
	atomic_store(&c->left, 1);
}

static void *clear_callback(void *arg)
{
	struct slow_cb *c = arg;

	writer_on_segment(c->w, NULL, NULL);
	c->left_when_cleared = atomic_load(&c->left);
	return NULL;
}

/* Shutdown clears the callback before freeing what its opaque points to:
 * writer_on_segment(NULL) returns only once a call in progress has left. */
static void test_clear_callback_waits(void **state)
{
	struct config cfg;
	struct source_opts opts = {
		.url = "demo:moving?fps=15&gop=15", .timeout_us = 5000000, .realtime = false,
		.clock = &clock_system, .tag = "test",
	};
	struct slow_cb c = { 0 };
	struct source *src;
	struct fragmenter *frag;
	struct run r;
	AVPacket *pkt = av_packet_alloc();
	struct timespec ms = { 0, 1000000 }, settle = { 0, 100000000 };
	pthread_t clearer;

	(void)state;
	make_config(&cfg, 2);
	assert_int_equal(writer_new(&r.writer, &cfg, &sim_clock), 0);
	c.w = r.writer;
	writer_on_segment(r.writer, slow_segment, &c);
	assert_int_equal(writer_start(r.writer), 0);
	assert_int_equal(source_open(&src, &opts), 0);
	assert_int_equal(fragmenter_open(&frag, src, 1, to_writer, &r), 0);
	for (int i = 0; !atomic_load(&c.entered); i++) {
		assert_true(i < 15 * 60);
		assert_int_equal(source_read(src, pkt), 0);
		sim_now_us = 1795168800LL * 1000000 + (int64_t)i * 1000000 / 15;
		assert_int_equal(fragmenter_write(frag, pkt, sim_now_us), 0);
		av_packet_unref(pkt);
		nanosleep(&ms, NULL);
	}
	assert_int_equal(pthread_create(&clearer, NULL, clear_callback, &c), 0);
	nanosleep(&settle, NULL);   /* the clearer is waiting by now */
	atomic_store(&c.release, 1);
	pthread_join(clearer, NULL);
	assert_int_equal(c.left_when_cleared, 1);
	assert_int_equal(fragmenter_flush(frag), 0);
	writer_stop(r.writer);
	writer_free(r.writer);
	fragmenter_close(frag);
	source_close(src);
	av_packet_free(&pkt);
	cleanup(&cfg);
}

/* The writer expires old event days of every camera, without any motion
 * detector (motion = off, uploads only). */
static void test_expires_old_event_days(void **state)
{
	struct config cfg;
	time_t t0 = 1795168800;   /* 2026-11-20 10:00:00 UTC */
	char old[256], recent[256];

	(void)state;
	make_config(&cfg, 2);   /* events_retain_days: the default, 30 */
	snprintf(old, sizeof(old), "%s/cam/events/2026-10-01/10-00-00-camera.jpg", store);
	snprintf(recent, sizeof(recent), "%s/cam/events/2026-11-19/10-00-00-camera.jpg", store);
	testutil_make_parents(old, store);
	testutil_make_parents(recent, store);
	testutil_write_file(old, "J", 1, TESTUTIL_NEW);
	testutil_write_file(recent, "J", 1, TESTUTIL_NEW);
	record(&cfg, "demo:moving?fps=15&gop=30", 2, t0);
	assert_int_equal(access(old, F_OK), -1);
	assert_int_equal(access(recent, F_OK), 0);
	cleanup(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expires_old_event_days),
		cmocka_unit_test(test_cuts_at_keyframe_after_length),
		cmocka_unit_test(test_cut_waits_for_keyframe),
		cmocka_unit_test(test_cut_at_midnight),
		cmocka_unit_test(test_cut_without_keyframe),
		cmocka_unit_test(test_long_gop_waited_for),
		cmocka_unit_test(test_midnight_without_keyframe),
		cmocka_unit_test(test_wall_clock_steps),
		cmocka_unit_test(test_clear_callback_waits),
	};

	av_log_set_level(AV_LOG_ERROR);
	testutil_set_tz("UTC");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
