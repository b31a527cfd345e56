/* test_events.c - event snapshots and spans in a temp store: names never
 * reused, uploads filed once, spans read back, old days expired. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "events/events.h"
#include "testutil.h"

#define US 1000000LL
/* 2026-11-21 10:03:12 UTC (tests run with TZ=UTC). */
#define T0 (1795255392LL * US)

struct fixture {
	char store[64];
	struct events *ev;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	testutil_temp_dir(f->store, sizeof(f->store), "test-events");
	assert_int_equal(events_new(&f->ev, f->store, "cam"), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	events_free(f->ev);
	testutil_remove_tree(f->store);
	free(f);
	return 0;
}

static void read_file(const char *path, char *buf, size_t n, size_t *len)
{
	FILE *fp = fopen(path, "rb");

	assert_non_null(fp);
	*len = fread(buf, 1, n, fp);
	fclose(fp);
}

static void motion_event_writes_snapshot_and_span(void **state)
{
	struct fixture *f = *state;
	char stem[EVENTS_STEM_MAX], path[4096], want[4096], buf[64];
	int64_t start, end;
	size_t len;
	bool open;

	assert_int_equal(events_begin(f->ev, "motion", T0 + 400000, "JPEG", 4, stem, path), 0);
	assert_string_equal(stem, "10-03-12-motion");
	snprintf(want, sizeof(want), "%s/cam/events/2026-11-21/10-03-12-motion.jpg", f->store);
	assert_string_equal(path, want);
	read_file(path, buf, sizeof(buf), &len);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "JPEG", 4);

	/* Open: it grows with now. */
	assert_int_equal(events_span(f->ev, "2026-11-21", stem, T0 + 9 * US, &start, &end, &open), 0);
	assert_true(open);
	assert_int_equal(start, T0 + 400000);
	assert_int_equal(end, T0 + 9 * US);

	assert_int_equal(events_end(f->ev, T0 + 20 * US), 0);
	assert_int_equal(events_span(f->ev, "2026-11-21", stem, T0 + 99 * US, &start, &end, &open), 0);
	assert_false(open);
	assert_int_equal(start, T0 + 400000);
	assert_int_equal(end, T0 + 20 * US);

	/* A second event in the same second gets its own name. */
	assert_int_equal(events_begin(f->ev, "motion", T0 + 900000, "JPEG", 4, stem, path), 0);
	assert_string_equal(stem, "10-03-12-motion_2");
	/* A span the process never ended (camfs stopped) ends at its start. */
	events_free(f->ev);
	assert_int_equal(events_new(&f->ev, f->store, "cam"), 0);
	assert_int_equal(events_span(f->ev, "2026-11-21", stem, T0 + 99 * US, &start, &end, &open), 0);
	assert_false(open);
	assert_int_equal(end, start);
	assert_int_equal(events_span(f->ev, "2026-11-21", "10-00-00-motion", T0, &start, &end, &open),
			 -ENOENT);
}

/* An upload is copied from its fd, exactly the bytes asked for, never
 * replacing a name; the upload itself stays for the caller to remove. */
static void upload_is_copied_never_replacing(void **state)
{
	struct fixture *f = *state;
	char src[4096], stem[EVENTS_STEM_MAX], path[4096], buf[64];
	struct stat st;
	size_t len;
	int fd;

	for (int i = 0; i < 2; i++) {
		snprintf(src, sizeof(src), "%s/upload%d.jpg", f->store, i);
		testutil_write_file(src, i ? "second+more" : "first", i ? 11 : 5, TESTUTIL_NEW);
		fd = open(src, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(events_take_upload(f->ev, fd, i ? 6 : 5, T0, stem, path), 0);
		close(fd);
		assert_string_equal(stem, i ? "10-03-12-camera_2" : "10-03-12-camera");
		assert_int_equal(access(src, F_OK), 0);
		read_file(path, buf, sizeof(buf), &len);
		assert_int_equal(len, i ? 6 : 5);
		assert_memory_equal(buf, i ? "second" : "first", len);
		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0644);
	}
	assert_int_equal(testutil_count_files(f->store, ".jpg"), 4);
	/* Fewer bytes than asked (the upload shrank): nothing is filed. */
	fd = open(src, O_RDONLY | O_CLOEXEC);
	assert_int_equal(events_take_upload(f->ev, fd, 100, T0, stem, path), -ENODATA);
	assert_int_equal(events_take_upload(f->ev, -1, 5, T0, stem, path), -EBADF);
	close(fd);
	assert_int_equal(testutil_count_files(f->store, ".jpg"), 4);
}

static void old_days_expire(void **state)
{
	struct fixture *f = *state;
	char stem[EVENTS_STEM_MAX], path[4096], day[4096];

	assert_int_equal(events_begin(f->ev, "motion", T0 - 40 * 86400 * US, "J", 1, stem, path), 0);
	assert_int_equal(events_end(f->ev, T0 - 40 * 86400 * US + US), 0);
	assert_int_equal(events_begin(f->ev, "motion", T0, "J", 1, stem, path), 0);
	assert_int_equal(events_expire(f->store, "cam", 0, T0), 0);   /* 0: keep forever */
	assert_int_equal(events_expire(f->store, "cam", 30, T0), 1);
	snprintf(day, sizeof(day), "%s/cam/events/2026-10-12", f->store);
	assert_int_equal(access(day, F_OK), -1);
	snprintf(day, sizeof(day), "%s/cam/events/2026-11-21", f->store);
	assert_int_equal(access(day, F_OK), 0);
}

/* STORE/cam/events/<date>, then file (if not NULL) inside it. */
static const char *day_path(const char *store, const char *date, const char *file)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/cam/events/%s%s%s", store, date, file ? "/" : "",
		 file ? file : "");
	return path;
}

/* An event day folder with one snapshot in it. */
static void make_day(const char *store, const char *date)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", day_path(store, date, "10-00-00-camera.jpg"));
	testutil_make_parents(path, store);
	testutil_write_file(path, "J", 1, TESTUTIL_NEW);
}

static bool day_there(const char *store, const char *date)
{
	return access(day_path(store, date, NULL), F_OK) == 0;
}

/* Days are calendar dates, not 24-hour steps: near midnight after a 25-hour
 * day, now - 24 h still falls on today's date and would drop yesterday;
 * after a 23-hour day it falls on the day before yesterday and would keep
 * it. Folders not named as dates are never deleted. */
static void expiry_counts_calendar_days(void **state)
{
	static const struct {
		int64_t now_s;
		const char *days[3];   /* the first goes */
	} cases[] = {
		/* 2026-10-25 23:30 CET, the end of the day the clocks went back. */
		{ 1792967400, { "2026-10-23", "2026-10-24", "2026-10-25" } },
		/* 2026-03-30 00:30 CEST, just after the day they went forward. */
		{ 1774823400, { "2026-03-28", "2026-03-29", "2026-03-30" } },
	};
	struct fixture *f = *state;

	testutil_set_tz("Europe/Berlin");
	make_day(f->store, "1999-xx-yy");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int d = 0; d < 3; d++)
			make_day(f->store, cases[i].days[d]);
		assert_int_equal(events_expire(f->store, "cam", 1, cases[i].now_s * US), 1);
		assert_false(day_there(f->store, cases[i].days[0]));
		assert_true(day_there(f->store, cases[i].days[1]));
		assert_true(day_there(f->store, cases[i].days[2]));
	}
	assert_true(day_there(f->store, "1999-xx-yy"));
	testutil_set_tz("UTC");
}

static void snapshot_names(void **state)
{
	char stem[EVENTS_STEM_MAX];

	(void)state;
	assert_true(events_is_snapshot_name("10-03-12-motion.jpg", stem));
	assert_string_equal(stem, "10-03-12-motion");
	assert_true(events_is_snapshot_name("10-03-12-camera_12.jpg", stem));
	assert_string_equal(stem, "10-03-12-camera_12");
	assert_false(events_is_snapshot_name("10-03-12-motion.mp4", NULL));
	assert_false(events_is_snapshot_name("10-03-12-other.jpg", NULL));
	assert_false(events_is_snapshot_name(".spans", NULL));
	assert_false(events_is_snapshot_name("10-03-12-motion_0.jpg", NULL));
	assert_false(events_is_snapshot_name("10-03-12-motion_.jpg", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(motion_event_writes_snapshot_and_span, setup, teardown),
		cmocka_unit_test_setup_teardown(upload_is_copied_never_replacing, setup, teardown),
		cmocka_unit_test_setup_teardown(old_days_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(expiry_counts_calendar_days, setup, teardown),
		cmocka_unit_test(snapshot_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
