/* test_retention.c - the retention plan on a simulated clock and disk (age
 * with per-camera overrides, size, free space, ENOSPC, busy), then one run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "util/log.h"
#include "record/retention.h"
#include "record/store.h"
#include "testutil.h"

#define DAY 86400
#define NOW ((int64_t)1795000000)   /* 2026-11-18, any fixed instant will do */
#define MAX_SEGS 64

struct sim {
	struct config cfg;
	struct store_segment segs[MAX_SEGS];
	char paths[MAX_SEGS][64];
	bool victim[MAX_SEGS];
	size_t n;
	struct retention_disk disk;
};

/* A config with no limit at all; each test sets the one it is about. */
static int setup(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	config_init(&s->cfg);
	s->cfg.retain_days = 0;
	s->cfg.max_store_size = 0;
	s->cfg.min_free.bytes = 0;
	s->cfg.min_free.percent = 0;
	s->disk.total = 1000000;
	s->disk.avail = 900000;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct sim *s = *state;

	config_free(&s->cfg);
	free(s);
	return 0;
}

static void add_camera(struct sim *s, const char *name, int retain_days)
{
	struct camera_config *cam = config_add_camera(&s->cfg, name, "rtsp://127.0.0.1/x");

	assert_non_null(cam);
	cam->retain_days = retain_days;
}

/* Segments must be added oldest first, as the store lists them. */
static size_t seg(struct sim *s, const char *camera, int64_t start_s, int64_t size)
{
	size_t i = s->n++;

	assert_true(i < MAX_SEGS);
	snprintf(s->paths[i], sizeof(s->paths[i]), "/store/%s/%zu.mp4", camera, i);
	s->segs[i].path = s->paths[i];
	snprintf(s->segs[i].camera, sizeof(s->segs[i].camera), "%s", camera);
	s->segs[i].start_s = start_s;
	s->segs[i].size = size;
	return i;
}

/* n segments of 100 bytes, one a minute, an hour ago. */
static void fill(struct sim *s, const char *camera, size_t n)
{
	for (size_t i = 0; i < n; i++)
		seg(s, camera, NOW - 3600 + (int64_t)s->n * 60, 100);
}

static size_t plan(struct sim *s, const char *const *busy, size_t n_busy, int64_t need)
{
	memset(s->victim, 0xff, sizeof(s->victim));   /* plan must clear them */
	return retention_plan(&s->cfg, s->segs, s->n, NOW, &s->disk, busy, n_busy,
			      need, s->victim);
}

/* Victims are exactly the first k segments. */
static void assert_oldest(const struct sim *s, size_t k)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->victim[i] != (i < k))
			fail_msg("segment %zu: victim %d, expected %d", i, s->victim[i], i < k);
}

static void test_nothing_to_do(void **state)
{
	struct sim *s = *state;

	assert_int_equal(plan(s, NULL, 0, 0), 0);   /* empty store */
	s->cfg.retain_days = 30;
	s->cfg.max_store_size = 100000;
	s->cfg.min_free.bytes = 1000;
	add_camera(s, "a", 1);
	fill(s, "a", 10);
	fill(s, "b", 10);
	assert_int_equal(plan(s, NULL, 0, 0), 0);
	assert_oldest(s, 0);
}

static void test_age(void **state)
{
	struct sim *s = *state;
	size_t i;

	s->cfg.retain_days = 10;
	add_camera(s, "short", 2);
	add_camera(s, "forever", 0);
	add_camera(s, "global", -1);
	/* "gone" is not in the config: the global value applies. */
	for (int k = 15; k >= 0; k--) {
		seg(s, "short", NOW - k * DAY, 100);
		seg(s, "forever", NOW - k * DAY, 100);
		seg(s, "global", NOW - k * DAY, 100);
		seg(s, "gone", NOW - k * DAY - 1, 100);
	}
	assert_int_equal(plan(s, NULL, 0, 0), 13 + 5 + 6);
	for (i = 0; i < s->n; i++) {
		const struct store_segment *g = &s->segs[i];
		int64_t age = NOW - g->start_s;
		bool want;

		if (strcmp(g->camera, "short") == 0)
			want = age > 2 * DAY;    /* exactly 2 days old stays */
		else if (strcmp(g->camera, "forever") == 0)
			want = false;
		else
			want = age > 10 * DAY;
		if (s->victim[i] != want)
			fail_msg("%s aged %lld s: victim %d", g->camera, (long long)age,
				 s->victim[i]);
	}

	/* No global limit, one camera with its own. */
	s->cfg.retain_days = 0;
	assert_int_equal(plan(s, NULL, 0, 0), 13);
}

static void test_max_size(void **state)
{
	struct sim *s = *state;

	fill(s, "a", 5);
	fill(s, "b", 5);   /* all of b is newer than all of a */
	s->cfg.max_store_size = 550;
	assert_int_equal(plan(s, NULL, 0, 0), 5);   /* 1000 -> 500 */
	assert_oldest(s, 5);
	s->cfg.max_store_size = 1000;
	assert_int_equal(plan(s, NULL, 0, 0), 0);

	/* Age goes first; its victims count towards the size. */
	s->n = 0;
	for (int k = 9; k >= 0; k--)
		seg(s, k % 2 ? "a" : "b", NOW - k * DAY - 60, 100);
	s->cfg.retain_days = 7;
	s->cfg.max_store_size = 550;
	assert_int_equal(plan(s, NULL, 0, 0), 5);   /* 3 by age, 2 by size */
	assert_oldest(s, 5);
}

/* Events are part of the store's size but never deleted here: the
 * footage makes room for them. */
static void test_max_size_counts_events(void **state)
{
	struct sim *s = *state;

	fill(s, "a", 10);
	s->cfg.max_store_size = 550;
	s->disk.events = 300;
	assert_int_equal(plan(s, NULL, 0, 0), 8);   /* 1000 + 300 -> 200 + 300 */
	assert_oldest(s, 8);
	s->disk.events = 600;   /* more than the limit: all footage but the busy goes */
	assert_int_equal(plan(s, NULL, 0, 0), 10);
	s->cfg.max_store_size = 0;
	assert_int_equal(plan(s, NULL, 0, 0), 0);
}

static void test_min_free_bytes(void **state)
{
	struct sim *s = *state;

	fill(s, "a", 10);
	s->disk.total = 10000;
	s->disk.avail = 300;
	s->cfg.min_free.bytes = 1000;
	assert_int_equal(plan(s, NULL, 0, 0), 7);   /* 300 + 700 */
	assert_oldest(s, 7);

	s->disk.avail = 1000;   /* met exactly */
	assert_int_equal(plan(s, NULL, 0, 0), 0);

	/* Bytes freed by the size limit count towards the free space. */
	s->disk.avail = 300;
	s->cfg.max_store_size = 800;
	assert_int_equal(plan(s, NULL, 0, 0), 7);   /* 2 by size, 5 more */
	assert_oldest(s, 7);

	/* The whole store is not enough: everything goes, and no more. */
	s->cfg.max_store_size = 0;
	s->cfg.min_free.bytes = 5000;
	assert_int_equal(plan(s, NULL, 0, 0), 10);
}

static void test_min_free_percent(void **state)
{
	struct sim *s = *state;

	fill(s, "a", 10);
	s->disk.total = 10000;
	s->disk.avail = 750;
	s->cfg.min_free.bytes = 1;   /* unused when percent is set */
	s->cfg.min_free.percent = 10;
	assert_int_equal(plan(s, NULL, 0, 0), 3);   /* 750 + 300 >= 1000 */
	assert_oldest(s, 3);
	s->disk.avail = 1000;
	assert_int_equal(plan(s, NULL, 0, 0), 0);
	s->cfg.min_free.percent = 12.5;
	assert_int_equal(plan(s, NULL, 0, 0), 3);   /* 1000 + 300 >= 1250 */
	assert_oldest(s, 3);
}

static void test_need_bytes(void **state)
{
	struct sim *s = *state;

	fill(s, "a", 10);
	assert_int_equal(plan(s, NULL, 0, 250), 3);
	assert_oldest(s, 3);
	assert_int_equal(plan(s, NULL, 0, 1), 1);
	assert_int_equal(plan(s, NULL, 0, -5), 0);

	/* On top of what the limits already chose. */
	s->cfg.max_store_size = 800;
	assert_int_equal(plan(s, NULL, 0, 250), 5);
	assert_oldest(s, 5);
	assert_int_equal(plan(s, NULL, 0, 1 << 20), 10);
}

static void test_busy(void **state)
{
	struct sim *s = *state;
	char oldest[64], third[64];
	const char *busy[] = { oldest, "/store/elsewhere.mp4", third };

	fill(s, "a", 10);
	/* Copies: busy paths compare by content, not by pointer. */
	strcpy(oldest, s->segs[0].path);
	strcpy(third, s->segs[2].path);
	s->cfg.retain_days = 1;
	for (size_t i = 0; i < 4; i++)
		s->segs[i].start_s -= 2 * DAY;
	assert_int_equal(plan(s, busy, 3, 0), 2);
	assert_false(s->victim[0]);
	assert_true(s->victim[1]);
	assert_false(s->victim[2]);
	assert_true(s->victim[3]);

	/* Busy bytes still count against the size limit. */
	s->cfg.retain_days = 0;
	s->cfg.max_store_size = 750;
	assert_int_equal(plan(s, busy, 3, 0), 3);   /* 1, 3, 4 */
	assert_true(s->victim[1] && s->victim[3] && s->victim[4]);
	assert_false(s->victim[0] || s->victim[2] || s->victim[5]);

	s->cfg.max_store_size = 0;
	s->disk.avail = 0;
	s->cfg.min_free.bytes = 1 << 20;
	assert_int_equal(plan(s, busy, 3, 1 << 20), 8);
	assert_false(s->victim[0] || s->victim[2]);
}

/* The real thing on a temp dir. */

static int64_t make(const char *store, const char *rel, size_t len)
{
	char path[256], *buf = calloc(1, len ? len : 1);
	struct stat st;

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/%s", store, rel);
	testutil_make_parents(path, store);
	testutil_write_file(path, buf, len, TESTUTIL_SYNC);   /* settle st_blocks */
	free(buf);
	assert_int_equal(stat(path, &st), 0);
	return (int64_t)st.st_blocks * 512;
}

static bool there(const char *store, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", store, rel);
	return access(path, F_OK) == 0;
}

struct log_capture {
	char line[256];
	int n;
};

static void capture(int level, const char *line, void *opaque)
{
	struct log_capture *c = opaque;

	if (level <= LOG_INFO) {
		snprintf(c->line, sizeof(c->line), "%s", line);
		c->n++;
	}
}

/* A fresh temp store (its path in store) as s's store, in UTC; returns
 * the now the runs use: 2026-11-25 12:00. */
static int64_t real_store(struct sim *s, char store[64])
{
	struct tm now_tm = { .tm_year = 126, .tm_mon = 10, .tm_mday = 25, .tm_hour = 12 };

	testutil_set_tz("UTC");
	testutil_temp_dir(store, 64, "test-retention");
	free(s->cfg.store);
	s->cfg.store = strdup(store);
	assert_non_null(s->cfg.store);
	return (int64_t)timegm(&now_tm) * 1000000;
}

static void test_run(void **state)
{
	struct sim *s = *state;
	char store[64];
	struct log_capture logs = {0};
	int64_t freed = 0, keep, now_us = real_store(s, store);
	char busy_path[256];
	const char *busy[] = { busy_path };

	freed += make(store, "a/2026-11-18/10-00-00.mp4", 65536);
	freed += make(store, "a/2026-11-18/10-00-00.motion.csv", 3000);
	freed += make(store, "b/2026-11-18/11-00-00.mp4", 65536);
	freed += make(store, "a/2026-11-19/10-00-00.mp4", 65536);
	freed += make(store, "a/2026-11-19/10-00-00.motion.csv", 3000);
	keep = make(store, "b/2026-11-19/12-00-00.mp4", 65536);
	keep += make(store, "a/2026-11-20/10-00-00.mp4", 65536);
	keep += make(store, "a/2026-11-20/11-00-00.mp4", 65536);
	make(store, "a/2026-11-19/notes.txt", 10);   /* not ours: keeps its dir */

	/* Room for the newest three: the oldest three go, across cameras. */
	s->cfg.max_store_size = keep + 100;
	log_set_sink(capture, &logs);
	assert_int_equal(retention_run(&s->cfg, now_us, NULL, 0, 0), freed);
	log_set_sink(NULL, NULL);

	assert_false(there(store, "a/2026-11-18"));
	assert_false(there(store, "b/2026-11-18"));
	assert_false(there(store, "a/2026-11-19/10-00-00.mp4"));
	assert_false(there(store, "a/2026-11-19/10-00-00.motion.csv"));
	assert_true(there(store, "a/2026-11-19/notes.txt"));
	assert_true(there(store, "b/2026-11-19/12-00-00.mp4"));
	assert_true(there(store, "a/2026-11-20/10-00-00.mp4"));
	assert_true(there(store, "a/2026-11-20/11-00-00.mp4"));
	assert_true(there(store, "a"));
	assert_true(there(store, "b"));
	assert_int_equal(logs.n, 1);
	assert_non_null(strstr(logs.line, "info: [retention] deleted 3 segments"));
	assert_non_null(strstr(logs.line, "max_store_size: 3"));

	/* Limits met: nothing more goes. */
	assert_int_equal(retention_run(&s->cfg, now_us, NULL, 0, 0), 0);

	/* After ENOSPC: all but the busy segment go. The two newest day dirs
	 * stay even when empty (the writer may be about to create in them). */
	make(store, "a/2026-11-24/23-00-00.mp4", 4096);
	make(store, "a/2026-11-25/11-00-00.mp4", 4096);
	snprintf(busy_path, sizeof(busy_path), "%s/a/2026-11-25/11-00-00.mp4", store);
	log_set_level(LOG_NOTICE);
	assert_true(retention_run(&s->cfg, now_us, busy, 1, INT64_C(1) << 40) >= keep);
	log_set_level(LOG_INFO);
	assert_true(there(store, "a/2026-11-25/11-00-00.mp4"));
	assert_false(there(store, "a/2026-11-24/23-00-00.mp4"));
	assert_true(there(store, "a/2026-11-24"));
	assert_false(there(store, "a/2026-11-20"));
	assert_false(there(store, "b/2026-11-19"));
	assert_true(there(store, "a/2026-11-19/notes.txt"));

	testutil_remove_tree(store);
	log_set_level(LOG_EMERG);
	assert_int_equal(retention_run(&s->cfg, now_us, NULL, 0, 0), -ENOENT);
	log_set_level(LOG_INFO);
}

/* Footage held open by readers: deleted, it frees nothing until they close
 * it. Already deleted, it counts as free space for min_free (else every run
 * deletes more for it); not yet deleted, its bytes do not meet an ENOSPC
 * need, which takes the next oldest too. */
static void test_held(void **state)
{
	struct sim *s = *state;

	fill(s, "a", 10);
	s->disk.total = 10000;
	s->disk.avail = 300;
	s->cfg.min_free.bytes = 1000;
	s->disk.held_deleted = 400;
	assert_int_equal(plan(s, NULL, 0, 0), 3);   /* 300 + 400 + 300 */
	assert_oldest(s, 3);

	s->cfg.min_free.bytes = 0;
	s->segs[0].held = s->segs[1].held = true;
	assert_int_equal(plan(s, NULL, 0, 250), 5);   /* 2 held, then 3 */
	assert_oldest(s, 5);
}

/* retention_run finds the segments camfs holds open itself, and counts
 * their bytes apart: not freed yet. */
static void test_run_held(void **state)
{
	struct sim *s = *state;
	char store[64], path[256];
	struct log_capture logs = {0};
	int64_t size, now_us = real_store(s, store);
	int fd;
	size = make(store, "a/2026-11-18/10-00-00.mp4", 65536);
	make(store, "a/2026-11-18/11-00-00.mp4", 65536);
	make(store, "a/2026-11-18/12-00-00.mp4", 65536);
	make(store, "a/2026-11-18/13-00-00.mp4", 65536);
	snprintf(path, sizeof(path), "%s/a/2026-11-18/10-00-00.mp4", store);
	fd = open(path, O_RDONLY);   /* a reader of the oldest */
	assert_true(fd >= 0);

	log_set_sink(capture, &logs);
	assert_int_equal(retention_run(&s->cfg, now_us, NULL, 0, 2 * size), 2 * size);
	log_set_sink(NULL, NULL);
	assert_false(there(store, "a/2026-11-18/10-00-00.mp4"));
	assert_false(there(store, "a/2026-11-18/11-00-00.mp4"));
	assert_false(there(store, "a/2026-11-18/12-00-00.mp4"));
	assert_true(there(store, "a/2026-11-18/13-00-00.mp4"));
	assert_non_null(strstr(logs.line, "deleted 3 segments"));
	assert_non_null(strstr(logs.line, "still open"));
	close(fd);
	testutil_remove_tree(store);
}

/* The events in the store count towards max_store_size: the oldest
 * segment makes room for them; they stay. */
static void test_run_counts_events(void **state)
{
	struct sim *s = *state;
	char store[64];
	int64_t first, now_us = (int64_t)1795600000 * 1000000, events;

	testutil_set_tz("UTC");
	testutil_temp_dir(store, sizeof(store), "test-retention");
	free(s->cfg.store);
	s->cfg.store = strdup(store);
	assert_non_null(s->cfg.store);
	first = make(store, "a/2026-11-18/10-00-00.mp4", 65536);
	s->cfg.max_store_size = first + make(store, "a/2026-11-19/10-00-00.mp4", 65536) + 100;
	assert_int_equal(retention_run(&s->cfg, now_us, NULL, 0, 0), 0);

	events = make(store, "a/events/2026-11-19/10-00-00-camera.jpg", 40000);
	events += make(store, "b/events/2026-11-19/.spans", 100);
	assert_true(events > 100);
	assert_int_equal(retention_run(&s->cfg, now_us, NULL, 0, 0), first);
	assert_false(there(store, "a/2026-11-18/10-00-00.mp4"));
	assert_true(there(store, "a/2026-11-19/10-00-00.mp4"));
	assert_true(there(store, "a/events/2026-11-19/10-00-00-camera.jpg"));
	assert_true(there(store, "b/events/2026-11-19/.spans"));
	testutil_remove_tree(store);
}

/* Just after midnight following the 23-hour day of a spring-forward, the
 * day before is still "yesterday" and its dir stays. */
static void test_run_dst(void **state)
{
	struct sim *s = *state;
	char store[64];
	struct tm now_tm = { .tm_year = 126, .tm_mon = 2, .tm_mday = 29, .tm_hour = 22,
			     .tm_sec = 30 };   /* 2026-03-30 00:00:30 CEST */
	int64_t now_us;

	testutil_set_tz("Europe/Berlin");
	now_us = (int64_t)timegm(&now_tm) * 1000000;
	testutil_temp_dir(store, sizeof(store), "test-retention");
	free(s->cfg.store);
	s->cfg.store = strdup(store);
	assert_non_null(s->cfg.store);
	make(store, "a/2026-03-28/23-00-00.mp4", 4096);
	make(store, "a/2026-03-29/23-00-00.mp4", 4096);

	log_set_level(LOG_NOTICE);
	assert_true(retention_run(&s->cfg, now_us, NULL, 0, 1) > 0);
	assert_true(retention_run(&s->cfg, now_us, NULL, 0, 1) > 0);
	log_set_level(LOG_INFO);
	assert_false(there(store, "a/2026-03-28"));
	assert_false(there(store, "a/2026-03-29/23-00-00.mp4"));
	assert_true(there(store, "a/2026-03-29"));

	testutil_remove_tree(store);
	testutil_set_tz("UTC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nothing_to_do, setup, teardown),
		cmocka_unit_test_setup_teardown(test_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_size_counts_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_free_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_free_percent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_need_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_counts_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_dst, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
