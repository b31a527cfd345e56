/* test_store.c - store names in several zones (midnight, DST both ways),
 * segment paths that never reuse a name, and the listing's order and filter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "record/store.h"
#include "testutil.h"

#define US 1000000LL

/* Unix µs of a UTC date and time. */
static int64_t utc_us(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };

	return (int64_t)timegm(&tm) * US;
}

#define STORE_DIR_LEN 64

static int setup_store(void **state)
{
	char *dir = malloc(STORE_DIR_LEN);

	assert_non_null(dir);
	testutil_temp_dir(dir, STORE_DIR_LEN, "test-store");
	*state = dir;
	return 0;
}

static int teardown_store(void **state)
{
	testutil_remove_tree(*state);
	free(*state);
	testutil_set_tz("UTC");
	return 0;
}

static void put(const char *store, const char *rel, size_t len)
{
	char path[512], *buf = calloc(1, len + 1);

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/%s", store, rel);
	testutil_make_parents(path, store);
	testutil_write_file(path, buf, len, TESTUTIL_NEW);
	free(buf);
}

static void read_back(const char *path, const char *want)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) >= 0);
	close(fd);
	assert_string_equal(buf, want);
}

static void is_dir(const char *store, const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", store, rel);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void expect_path(const char *store, const char *cam, int64_t wall_us,
			const char *rel)
{
	char got[512], want[512];

	assert_int_equal(store_new_segment_path(store, cam, wall_us, got, sizeof(got)), 0);
	snprintf(want, sizeof(want), "%s/%s", store, rel);
	assert_string_equal(got, want);
}

static void test_names(void **state)
{
	char date[STORE_DATE_LEN], t[STORE_TIME_LEN];
	int64_t at = utc_us(2026, 11, 20, 10, 0, 0);

	testutil_set_tz("UTC");
	store_date_name(at + 999999, date);
	store_time_name(at + 999999, t);
	assert_string_equal(date, "2026-11-20");
	assert_string_equal(t, "10-00-00");

	testutil_set_tz("America/New_York");   /* EST, UTC-5 */
	store_date_name(at, date);
	store_time_name(at, t);
	assert_string_equal(date, "2026-11-20");
	assert_string_equal(t, "05-00-00");
	store_date_name(utc_us(2026, 11, 21, 3, 15, 7), date);
	store_time_name(utc_us(2026, 11, 21, 3, 15, 7), t);
	assert_string_equal(date, "2026-11-20");
	assert_string_equal(t, "22-15-07");

	testutil_set_tz("UTC");   /* the second before the epoch, not the one after */
	store_date_name(-1, date);
	store_time_name(-1, t);
	assert_string_equal(date, "1969-12-31");
	assert_string_equal(t, "23-59-59");
}

/* Walking dates a calendar date at a time: 24 h after 00:30 on the 25-hour
 * 2026-10-25 in Berlin is still the 25th, and 24 h after 23:30 on 03-28 is
 * already the 30th (03-29 has 23 hours). */
static void test_date_step(void **state)
{
	char date[STORE_DATE_LEN];
	int64_t t = utc_us(2026, 10, 24, 22, 30, 0);   /* 2026-10-25 00:30 CEST */

	(void)state;
	testutil_set_tz("Europe/Berlin");
	store_date_name(t + 86400 * US, date);
	assert_string_equal(date, "2026-10-25");
	store_date_name(store_date_step_us(t, 1), date);
	assert_string_equal(date, "2026-10-26");
	assert_int_equal(store_date_step_us(t, 1), utc_us(2026, 10, 26, 11, 0, 0));   /* 12:00 CET */
	assert_int_equal(store_date_step_us(t, 0), utc_us(2026, 10, 25, 11, 0, 0));
	store_date_name(store_date_step_us(t, -1), date);
	assert_string_equal(date, "2026-10-24");

	t = utc_us(2026, 3, 28, 22, 30, 0);   /* 2026-03-28 23:30 CET */
	store_date_name(t + 86400 * US, date);
	assert_string_equal(date, "2026-03-30");
	store_date_name(store_date_step_us(t, 1), date);
	assert_string_equal(date, "2026-03-29");
	store_date_name(store_date_step_us(t, 2), date);
	assert_string_equal(date, "2026-03-30");
	store_date_name(store_date_step_us(utc_us(2026, 3, 30, 0, 30, 0), -1), date);
	assert_string_equal(date, "2026-03-29");   /* 02:30 CEST on the 30th, back one */

	testutil_set_tz("UTC");   /* months and years carry */
	store_date_name(store_date_step_us(utc_us(2026, 12, 31, 23, 59, 59), 1), date);
	assert_string_equal(date, "2027-01-01");
	store_date_name(store_date_step_us(utc_us(2028, 3, 1, 0, 0, 0), -1), date);
	assert_string_equal(date, "2028-02-29");
}

static void test_midnight(void **state)
{
	const char *store = *state;
	int64_t last = utc_us(2026, 11, 20, 23, 59, 59);

	testutil_set_tz("UTC");
	expect_path(store, "cam", last, "cam/2026-11-20/23-59-59.mp4");
	expect_path(store, "cam", last + US, "cam/2026-11-21/00-00-00.mp4");
	is_dir(store, "cam/2026-11-20");
	is_dir(store, "cam/2026-11-21");
}

static void test_dirs_created(void **state)
{
	const char *store = *state;
	char path[512], missing[512];
	int64_t at = utc_us(2026, 11, 20, 10, 0, 0);

	testutil_set_tz("UTC");
	expect_path(store, "front", at, "front/2026-11-20/10-00-00.mp4");
	is_dir(store, "front");
	is_dir(store, "front/2026-11-20");
	/* Only the name is chosen; the writer creates the file. */
	assert_int_equal(store_new_segment_path(store, "front", at, path, sizeof(path)), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);

	/* A sidecar left behind takes the stem too. */
	put(store, "front/2026-11-20/10-00-00.motion.csv", 10);
	expect_path(store, "front", at, "front/2026-11-20/10-00-00_2.mp4");

	assert_int_equal(store_new_segment_path(store, "front", at, path, 20),
			 -ENAMETOOLONG);

	/* The store root is not made: it may be an unmounted disk. */
	snprintf(missing, sizeof(missing), "%s/nope", store);
	assert_int_equal(store_new_segment_path(missing, "front", at, path, sizeof(path)),
			 -ENOENT);

	snprintf(path, sizeof(path), "%s/front/2026-11-20/10-00-00.motion.csv", store);
	assert_int_equal(store_sync_parent(path), 0);
	assert_int_equal(store_sync_parent(missing), 0);   /* its parent exists */
	snprintf(path, sizeof(path), "%s/nope/x", store);
	assert_int_equal(store_sync_parent(path), -ENOENT);
}

/* Europe/Berlin 2026-10-25: 03:00 CEST goes back to 02:00 CET, so 02:30
 * happens at 00:30Z and again at 01:30Z. */
static void test_dst_fall_back(void **state)
{
	const char *store = *state;
	int64_t first = utc_us(2026, 10, 25, 0, 30, 0), second = first + 3600 * US;
	char p1[512], p2[512], p3[512];
	struct store_segment *segs;
	size_t n;

	testutil_set_tz("Europe/Berlin");
	assert_int_equal(store_new_segment_path(store, "cam", first, p1, sizeof(p1)), 0);
	testutil_write_file(p1, "first", 5, TESTUTIL_NEW);
	assert_int_equal(store_new_segment_path(store, "cam", second, p2, sizeof(p2)), 0);
	assert_string_not_equal(p1, p2);
	assert_non_null(strstr(p2, "/cam/2026-10-25/02-30-00_2.mp4"));
	testutil_write_file(p2, "second", 6, TESTUTIL_NEW);
	/* A clock stepped back onto the same second: a third name. */
	assert_int_equal(store_new_segment_path(store, "cam", first, p3, sizeof(p3)), 0);
	assert_non_null(strstr(p3, "/cam/2026-10-25/02-30-00_3.mp4"));
	testutil_write_file(p3, "third", 5, TESTUTIL_NEW);
	read_back(p1, "first");
	read_back(p2, "second");

	assert_int_equal(store_list_segments(store, &segs, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(segs[0].path, p1);
	assert_string_equal(segs[1].path, p2);
	assert_string_equal(segs[2].path, p3);
	/* The name alone cannot say which 02:30 it was: mktime picks one. */
	assert_true(segs[0].start_s == first / US || segs[0].start_s == second / US);
	assert_int_equal(segs[1].start_s, segs[0].start_s);
	store_segments_free(segs, n);
}

/* Europe/Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST. */
static void test_dst_spring_forward(void **state)
{
	const char *store = *state;
	int64_t before = utc_us(2026, 3, 29, 0, 59, 59), after = before + US;
	char date[STORE_DATE_LEN], t[STORE_TIME_LEN], p[512];
	struct store_segment *segs;
	size_t n;

	testutil_set_tz("Europe/Berlin");
	store_date_name(before, date);
	store_time_name(before, t);
	assert_string_equal(date, "2026-03-29");
	assert_string_equal(t, "01-59-59");
	store_time_name(after, t);
	assert_string_equal(t, "03-00-00");

	assert_int_equal(store_new_segment_path(store, "cam", after, p, sizeof(p)), 0);
	testutil_write_file(p, "x", 1, TESTUTIL_NEW);
	assert_int_equal(store_new_segment_path(store, "cam", before, p, sizeof(p)), 0);
	testutil_write_file(p, "x", 1, TESTUTIL_NEW);
	assert_int_equal(store_list_segments(store, &segs, &n), 0);
	assert_int_equal(n, 2);
	assert_non_null(strstr(segs[0].path, "/01-59-59.mp4"));
	assert_int_equal(segs[0].start_s, before / US);
	assert_non_null(strstr(segs[1].path, "/03-00-00.mp4"));
	assert_int_equal(segs[1].start_s, after / US);
	store_segments_free(segs, n);
}

static void test_list(void **state)
{
	static const char *const noise[] = {
		"camA/2026-11-20/.10-00-00.mp4",
		"camA/2026-11-20/10-00-00.motion.csv",
		"camA/2026-11-20/10-00-00.mp4.part",
		"camA/2026-11-20/1-00-00.mp4",
		"camA/2026-11-20/25-00-00.mp4",
		"camA/2026-11-20/10-60-00.mp4",
		"camA/2026-11-20/10-00-00_1.mp4",
		"camA/2026-11-20/10-00-00_02.mp4",
		"camA/2026-11-20/10-00-00_.mp4",
		"camA/2026-11-20/10-00-00_x.mp4",
		"camA/2026-11-20/10-00-00.MP4",
		"camA/2026-11-20/day.mp4",
		"camA/2026-11-20/11-00-00.mp4/inside.mp4",   /* a dir by a segment's name */
		"camA/events/2026-11-20/10-03-12-motion.mp4",
		"camA/events/10-00-00.mp4",
		"camA/2026-13-01/10-00-00.mp4",
		"camA/2026-11-2/10-00-00.mp4",
		"camA/10-00-00.mp4",
		".trash/2026-11-20/10-00-00.mp4",
		"top.mp4",
	};
	const char *store = *state;
	const char *want[] = {
		"camB/2026-11-19/23-00-00.mp4",
		"camA/2026-11-20/09-00-00.mp4",
		"camA/2026-11-20/10-00-00.mp4",
		"camB/2026-11-20/10-00-00.mp4",
		"camA/2026-11-20/10-00-00_2.mp4",
		"camA/2026-11-20/10-00-00_10.mp4",
	};
	struct store_segment *segs;
	char link[512];
	size_t n;

	testutil_set_tz("UTC");
	assert_int_equal(store_list_segments(store, &segs, &n), 0);
	assert_int_equal(n, 0);
	assert_null(segs);
	store_segments_free(segs, n);

	put(store, "camA/2026-11-20/10-00-00_10.mp4", 100);
	put(store, "camA/2026-11-20/10-00-00.mp4", 9000);
	put(store, "camB/2026-11-20/10-00-00.mp4", 100);
	put(store, "camA/2026-11-20/10-00-00_2.mp4", 100);
	put(store, "camA/2026-11-20/09-00-00.mp4", 100);
	put(store, "camB/2026-11-19/23-00-00.mp4", 100);
	for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
		put(store, noise[i], 10);
	snprintf(link, sizeof(link), "%s/camA/2026-11-20/12-00-00.mp4", store);
	assert_int_equal(symlink("10-00-00.mp4", link), 0);

	assert_int_equal(store_list_segments(store, &segs, &n), 0);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++) {
		char path[512];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", store, want[i]);
		assert_string_equal(segs[i].path, path);
		assert_string_equal(segs[i].camera, want[i][3] == 'A' ? "camA" : "camB");
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(segs[i].size, (int64_t)st.st_blocks * 512);
	}
	assert_int_equal(segs[0].start_s, utc_us(2026, 11, 19, 23, 0, 0) / US);
	assert_int_equal(segs[2].start_s, utc_us(2026, 11, 20, 10, 0, 0) / US);
	assert_true(segs[2].size >= 9000);
	store_segments_free(segs, n);

	assert_int_equal(store_list_segments("/nonexistent/camfs", &segs, &n), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_date_step),
		cmocka_unit_test_setup_teardown(test_midnight, setup_store, teardown_store),
		cmocka_unit_test_setup_teardown(test_dirs_created, setup_store, teardown_store),
		cmocka_unit_test_setup_teardown(test_dst_fall_back, setup_store, teardown_store),
		cmocka_unit_test_setup_teardown(test_dst_spring_forward, setup_store, teardown_store),
		cmocka_unit_test_setup_teardown(test_list, setup_store, teardown_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
