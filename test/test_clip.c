/* test_clip.c - clips and day.mp4 over a store recorded through the real
 * fragmenter and writer on a simulated clock, across the DST changes of
 * Europe/Berlin: the 25-hour 2026-10-25 and the 23-hour 2026-03-29. At one
 * frame a second with a keyframe (and a segment) every minute, a clip
 * starting on a minute has exactly one frame per second of its range, and a
 * segment listed twice or a date left out shows in the count. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#include <libavformat/avformat.h>

#include "record/clip.h"
#include "util/clock.h"
#include "config.h"
#include "stream/fragment.h"
#include "stream/fragmenter.h"
#include "util/log.h"
#include "ingest/source.h"
#include "record/store.h"
#include "record/vfile.h"
#include "record/writer.h"
#include "simclock.h"
#include "testutil.h"
#include "writerfeed.h"

#define FPS 1
#define SEGMENT_SECONDS 60

struct fixture {
	char store[64];
	struct config cfg;
	struct writer *writer;      /* stopped; clip_build asks it what is committed */
	struct clip_source src;
};

#define DEMO_URL "demo:static?size=128x96&fps=1&gop=60"

/* A fresh store in the time zone tz, with its writer running. */
static void open_store(struct fixture *f, const char *tz)
{
	testutil_set_tz(tz);
	testutil_temp_dir(f->store, sizeof(f->store), "clip");
	config_init(&f->cfg);
	free(f->cfg.store);
	f->cfg.store = strdup(f->store);
	assert_non_null(f->cfg.store);
	f->cfg.segment_seconds = SEGMENT_SECONDS;
	f->cfg.retain_days = 0;
	f->cfg.max_store_size = 0;
	f->cfg.min_free = (struct config_free){ .bytes = 0 };   /* never delete */
	assert_non_null(config_add_camera(&f->cfg, "cam", DEMO_URL));

	log_set_level(LOG_WARNING);
	assert_int_equal(writer_new(&f->writer, &f->cfg, &sim_clock), 0);
	assert_int_equal(writer_start(f->writer), 0);
}

/* Records `seconds` of demo camera `url` (a session) whose first frame is at
 * Unix time start_s; from frame jump_at on (if > 0), the camera's
 * timestamps are jump_s seconds off (its clock was stepped). Timestamps
 * that go back are held at the last one plus one, as the source does. */
static void record_jumping(struct fixture *f, const char *url, time_t start_s, int seconds,
			   int jump_at, int jump_s)
{
	struct source_opts opts = {
		.url = url, .timeout_us = 5000000,
		.realtime = false, .clock = &clock_system, .tag = "test",
	};
	struct source *src;
	struct fragmenter *frag;
	struct writer_feed feed = { .writer = f->writer };
	AVPacket *pkt = av_packet_alloc();
	int64_t last = INT64_MIN;

	assert_int_equal(source_open(&src, &opts), 0);
	assert_int_equal(fragmenter_open(&frag, src, 1, writer_feed_fragment, &feed), 0);
	for (int i = 0; i < seconds * FPS; i++) {
		assert_int_equal(source_read(src, pkt), 0);
		if (jump_s < 0 && i == jump_at) {
			/* A step back of over a second starts a new timeline
			 * (feed.c): the session ends and the next one carries
			 * on where its media time ended. */
			assert_int_equal(fragmenter_flush(frag), 0);
			writer_feed_end(&feed);
			writer_end_session(f->writer, 0);
			fragmenter_close(frag);
			assert_int_equal(fragmenter_open(&frag, src, 2, writer_feed_fragment, &feed), 0);
			fragmenter_set_start(frag, (int64_t)jump_at * 1000000 / FPS);
			last = INT64_MIN;
		}
		if (jump_at > 0 && i >= jump_at) {
			int64_t d = av_rescale_q(jump_s, (AVRational){ 1, 1 }, src->video.time_base);

			pkt->pts += d;
			pkt->dts += d;
		}
		if (last != INT64_MIN && pkt->dts <= last)
			pkt->pts = pkt->dts = last + 1;
		last = pkt->dts;
		atomic_store(&sim_wall_us, (int64_t)start_s * 1000000 + (int64_t)i * 1000000 / FPS);
		assert_int_equal(fragmenter_write(frag, pkt, atomic_load(&sim_wall_us)), 0);
		av_packet_unref(pkt);
	}
	assert_int_equal(fragmenter_flush(frag), 0);
	writer_feed_end(&feed);
	writer_end_session(f->writer, 0);
	fragmenter_close(frag);
	source_close(src);
	av_packet_free(&pkt);
}

static void record_session(struct fixture *f, const char *url, time_t start_s, int seconds)
{
	record_jumping(f, url, start_s, seconds, 0, 0);
}

/* Stops the writer; clips of the store can be built from then on. */
static void close_store(struct fixture *f)
{
	writer_stop(f->writer);
	log_set_level(LOG_INFO);
	f->src = (struct clip_source){
		.store = f->store, .camera = "cam", .cam = 0, .writer = f->writer,
	};
}

/* Records `seconds` of the demo camera whose first frame is at Unix time
 * start_s into a fresh store, in the time zone tz. */
static void record(struct fixture *f, const char *tz, time_t start_s, int seconds)
{
	open_store(f, tz);
	record_session(f, DEMO_URL, start_s, seconds);
	close_store(f);
}

static void cleanup(struct fixture *f)
{
	clip_cache_clear();
	writer_free(f->writer);
	assert_int_equal(testutil_remove_tree(f->store), 0);
	config_free(&f->cfg);
	testutil_set_tz("UTC");
}

/* Unix time of a local date and time (not in a DST gap or overlap). */
static int64_t local_us(int year, int mon, int mday, int hour, int min)
{
	struct tm tm = { .tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = mday,
			 .tm_hour = hour, .tm_min = min, .tm_isdst = -1 };

	return (int64_t)mktime(&tm) * 1000000;
}

struct played {
	int frames;
	double seconds;   /* the clip's duration, edit list applied */
};

/* Builds the clip of [start_us, end_us), writes it out and reads it back
 * with libavformat. */
static struct played play_built(struct fixture *f, struct vfile *v);

static struct played play(struct fixture *f, int64_t start_us, int64_t end_us)
{
	struct vfile *v = NULL;

	assert_int_equal(clip_build(&f->src, start_us, end_us, &v), 0);
	return play_built(f, v);
}

/* Writes out clip v (dropping its reference) and reads it back. */
static struct played play_built(struct fixture *f, struct vfile *v)
{
	struct vfile_extent p[64];
	char path[96];
	AVFormatContext *in = NULL;
	AVPacket *pkt = av_packet_alloc();
	struct played r = { 0, 0 };
	FILE *out;

	vfile_handle_open(v);
	snprintf(path, sizeof(path), "%s/clip.mp4", f->store);
	out = fopen(path, "wb");
	assert_non_null(out);
	for (uint64_t off = 0; off < v->size;) {
		size_t k = vfile_slice(v, off, 1 << 20, p, 64);

		assert_true(k > 0);
		for (size_t i = 0; i < k; i++) {
			uint8_t *buf = malloc(p[i].len);

			assert_non_null(buf);
			if (p[i].data)
				memcpy(buf, p[i].data, p[i].len);
			else
				assert_int_equal(testutil_vfile_pread(v, p[i].src, buf, p[i].len, p[i].pos),
						 (ssize_t)p[i].len);
			assert_int_equal(fwrite(buf, 1, p[i].len, out), p[i].len);
			off += p[i].len;
			free(buf);
		}
	}
	assert_int_equal(fclose(out), 0);
	vfile_handle_close(v);
	assert_int_equal(vfile_fds_open(), 0);   /* the last handle closed them */
	vfile_unref(&v);

	assert_int_equal(avformat_open_input(&in, path, NULL, NULL), 0);
	assert_true(avformat_find_stream_info(in, NULL) >= 0);
	r.seconds = (double)in->duration / AV_TIME_BASE;
	while (av_read_frame(in, pkt) >= 0) {
		r.frames++;
		av_packet_unref(pkt);
	}
	avformat_close_input(&in);
	av_packet_free(&pkt);
	unlink(path);
	return r;
}

static void expect(struct fixture *f, int64_t start_us, int64_t end_us, int seconds)
{
	struct played r = play(f, start_us, end_us);

	print_message("clip of %.0f s: %d frames, %.1f s\n", (end_us - start_us) / 1e6, r.frames,
		      r.seconds);
	assert_int_equal(r.frames, seconds * FPS);
	assert_true(r.seconds > seconds - 1.5 && r.seconds < seconds + 1.5);
}

/* 2026-10-25 in Berlin has 25 hours (03:00 CEST becomes 02:00 CET). Footage
 * from 23:50 the day before to 03:10 CET: its segments are listed once. */
static void test_25_hour_day(void **state)
{
	struct fixture f;
	int64_t start, day_start, day_end;

	(void)state;
	testutil_set_tz("Europe/Berlin");
	start = local_us(2026, 10, 24, 23, 50);
	record(&f, "Europe/Berlin", (time_t)(start / 1000000), 260 * 60);   /* to 03:10 CET */

	/* The control, across midnight; then a clip just after it. */
	expect(&f, local_us(2026, 10, 24, 23, 58), local_us(2026, 10, 25, 0, 1), 180);
	expect(&f, local_us(2026, 10, 25, 0, 0), local_us(2026, 10, 25, 0, 3), 180);
	/* Late in the 25-hour day, across the repeated hour. */
	expect(&f, local_us(2026, 10, 25, 1, 0), local_us(2026, 10, 25, 3, 0), 3 * 3600);
	/* Inside it: 02:00 CEST is an hour after 01:00 CEST, 02:00 CET two.
	 * Their segments share names; each clip takes its own hour's. */
	for (int h = 1; h <= 2; h++) {
		int64_t at = local_us(2026, 10, 25, 1, 0) + h * 3600 * INT64_C(1000000);

		expect(&f, at, at + 180 * INT64_C(1000000), 180);
		expect(&f, at + 1800 * INT64_C(1000000), at + 3600 * INT64_C(1000000), 1800);
	}
	/* day.mp4: midnight to midnight, of which 4 h 10 min were recorded. */
	day_start = local_us(2026, 10, 25, 0, 0);
	day_end = local_us(2026, 10, 26, 0, 0);
	assert_int_equal(day_end - day_start, 25 * 3600 * INT64_C(1000000));
	expect(&f, day_start, day_end, 250 * 60);
	cleanup(&f);
}

/* 2026-03-29 in Berlin has 23 hours (02:00 CET becomes 03:00 CEST). A clip
 * that starts late on the 28th lists the 29th too. */
static void test_23_hour_day(void **state)
{
	struct fixture f;
	int64_t start;

	(void)state;
	testutil_set_tz("Europe/Berlin");
	start = local_us(2026, 3, 28, 23, 20);
	record(&f, "Europe/Berlin", (time_t)(start / 1000000), 140 * 60);   /* to 01:40 CET */

	expect(&f, local_us(2026, 3, 28, 23, 30), local_us(2026, 3, 29, 1, 30), 2 * 3600);
	expect(&f, local_us(2026, 3, 29, 0, 0), local_us(2026, 3, 30, 0, 0), 100 * 60);
	cleanup(&f);
}

/* A clip over more segments than the index cache holds (512) still ends at
 * a format change: here at its 513th segment, whose index once took the
 * cache slot of the clip's first segment, so the two compared equal. A
 * build again over the same range finds all but a few in the cache. */
static void test_format_change_past_cache(void **state)
{
	struct fixture f;
	int64_t start = local_us(2026, 11, 2, 0, 0);
	struct played r;

	(void)state;
	open_store(&f, "UTC");
	record_session(&f, DEMO_URL, (time_t)(start / 1000000), 512 * 60);
	record_session(&f, "demo:static?size=160x96&fps=1&gop=60",
		       (time_t)(start / 1000000) + 512 * 60, 10 * 60);
	close_store(&f);

	expect(&f, start, start + 522 * 60 * INT64_C(1000000), 512 * 60);
	/* Built again with the cache full of this range: the same clip, from
	 * 511 cached indexes of the 513 it opens (plain LRU kept none). */
	uint64_t reads = clip_indexes_read();

	r = play(&f, start, start + 522 * 60 * INT64_C(1000000));
	assert_int_equal(r.frames, 512 * 60);
	print_message("built again: %d indexes read\n", (int)(clip_indexes_read() - reads));
	assert_true(clip_indexes_read() - reads <= 2);
	/* After the change, a clip of the new format. */
	expect(&f, start + 513 * 60 * INT64_C(1000000), start + 515 * 60 * INT64_C(1000000), 120);
	cleanup(&f);
}

/* Fds the process has open now. */
static int fds_open(void)
{
	return testutil_count_files("/proc/self/fd", "") - 1;   /* less the listing's own */
}

/* A clip over more segments than fds allowed: built whole by closing its
 * earlier segments' fds (opened again to read), never by leaving segments
 * out; with no fd to be had at all, the build fails with EMFILE. */
static void test_fd_bound(void **state)
{
	struct fixture f;
	int64_t start = local_us(2026, 11, 3, 0, 0), end = start + 30 * 60 * INT64_C(1000000);
	struct rlimit old, low;
	struct vfile *v = NULL;

	(void)state;
	open_store(&f, "UTC");
	record_session(&f, DEMO_URL, (time_t)(start / 1000000), 30 * 60);
	close_store(&f);

	/* Within the pool's budget: a lookup holds at most 4. */
	vfile_set_fd_budget(4);
	assert_int_equal(clip_build(&f.src, start, end, &v), 0);
	assert_true(vfile_fds_open() <= 4);
	assert_int_equal(play_built(&f, v).frames, 30 * 60);
	vfile_set_fd_budget(SIZE_MAX);

	/* Within the process's limit: 6 fds to spare for 30 segments. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)fds_open() + 6;
	clip_cache_clear();   /* every index read again, from its file */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	int ret = clip_build(&f.src, start, end, &v);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(ret, 0);
	assert_int_equal(play_built(&f, v).frames, 30 * 60);

	/* No fd to spare: an error, not a clip missing its segments. */
	low.rlim_cur = (rlim_t)fds_open();
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	ret = clip_build(&f.src, start, end, &v);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(ret, -EMFILE);
	assert_null(v);
	cleanup(&f);
}

/* Camera timestamps that jump do not end day.mp4 there: the rest of the day
 * is in it. An hour forward inside a segment (as recordings older than the
 * feed's timelines hold); an hour back at a keyframe, as the feed records
 * it: a new session. */
static void test_timestamp_jump(void **state)
{
	struct fixture f;
	int64_t day = local_us(2026, 11, 3, 0, 0), start = local_us(2026, 11, 3, 10, 0);

	(void)state;
	for (int k = 0; k < 2; k++) {
		int jump = k == 0 ? 3600 : -3600, at = k == 0 ? 90 : 120;

		open_store(&f, "UTC");
		record_jumping(&f, DEMO_URL, (time_t)(start / 1000000), 5 * 60, at, jump);
		close_store(&f);
		print_message("timestamps %+d s at %d s:\n", jump, at);
		expect(&f, day, day + 24 * 3600 * INT64_C(1000000), 5 * 60);
		cleanup(&f);
	}
}

/* Every segment presents from 0 with its own duration, the one that starts
 * two minutes into its session too (its times once continued the
 * session's: start 120 s, duration 180 s); clips across them stay exact. */
static void test_segment_timeline(void **state)
{
	struct fixture f;
	int64_t start = local_us(2026, 11, 4, 10, 0);
	const char *names[] = { "10-00-00.mp4", "10-02-00.mp4" };

	(void)state;
	record(&f, "UTC", (time_t)(start / 1000000), 3 * 60);
	for (int i = 0; i < 2; i++) {
		AVFormatContext *in = NULL;
		char path[160];
		double t0, d;

		snprintf(path, sizeof(path), "%s/cam/2026-11-04/%s", f.store, names[i]);
		assert_int_equal(avformat_open_input(&in, path, NULL, NULL), 0);
		assert_true(avformat_find_stream_info(in, NULL) >= 0);
		t0 = (double)in->start_time / AV_TIME_BASE;
		d = (double)in->duration / AV_TIME_BASE;
		print_message("%s: start %.3f s, duration %.3f s\n", names[i], t0, d);
		assert_true(t0 >= 0 && t0 < 0.01);
		assert_true(d > 59.5 && d < 60.5);
		avformat_close_input(&in);
	}
	expect(&f, start + 60 * INT64_C(1000000), start + 180 * INT64_C(1000000), 120);
	cleanup(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_25_hour_day),
		cmocka_unit_test(test_23_hour_day),
		cmocka_unit_test(test_format_change_past_cache),
		cmocka_unit_test(test_fd_bound),
		cmocka_unit_test(test_timestamp_jump),
		cmocka_unit_test(test_segment_timeline),
	};

	av_log_set_level(AV_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
