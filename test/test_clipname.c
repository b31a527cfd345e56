/* test_clipname.c - clip names parse to exact µs ranges in UTC and across
 * Berlin's DST changes, and every malformed or impossible name is -EINVAL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <time.h>

#include "fs/clipname.h"
#include "testutil.h"

/* name must parse to [start_s, end_s) in seconds since the epoch. */
static void ok(const char *name, int64_t start_s, int64_t end_s)
{
	int64_t start_us = -7, end_us = -7;

	print_message("ok  %s\n", name);
	assert_int_equal(clipname_parse(name, &start_us, &end_us), 0);
	assert_int_equal(start_us, start_s * 1000000);
	assert_int_equal(end_us, end_s * 1000000);
}

/* name must be refused and leave the outputs alone. */
static void bad(const char *name)
{
	int64_t start_us = -7, end_us = -7;

	print_message("bad %s\n", name);
	assert_int_equal(clipname_parse(name, &start_us, &end_us), -EINVAL);
	assert_int_equal(start_us, -7);
	assert_int_equal(end_us, -7);
}

#define T0 1795168980   /* 2026-11-20T10:03:00Z */

static void test_valid_utc(void **state)
{
	(void)state;
	testutil_set_tz("UTC");
	ok("2026-11-20T10-03-00+90s.mp4", T0, T0 + 90);
	ok("2026-11-20T10-03-00+5m.mp4", T0, T0 + 300);
	ok("2026-11-20T10-03-00+2h.mp4", T0, T0 + 7200);
	ok("2026-11-20T10-03-00+1h30m.mp4", T0, T0 + 5400);
	ok("2026-11-20T10-03-00+1h0m5s.mp4", T0, T0 + 3605);
	ok("2026-11-20T10-03-00+1h5s.mp4", T0, T0 + 3605);
	ok("2026-11-20T10-03-00+0h0m1s.mp4", T0, T0 + 1);
	ok("2026-11-20T10-03-00+05m.mp4", T0, T0 + 300);          /* leading zero */
	ok("2026-11-20T10-03-00+0000090s.mp4", T0, T0 + 90);      /* 7 digits */
	ok("2026-11-20T10-03-00+2678400s.mp4", T0, T0 + CLIPNAME_MAX_SECONDS);
	ok("2026-11-20T10-03-00+744h.mp4", T0, T0 + CLIPNAME_MAX_SECONDS);
	ok("2026-11-20T10-03-00--2026-11-20T10-04-30.mp4", T0, T0 + 90);
	ok("2026-11-20T10-03-00--2026-12-21T10-03-00.mp4", T0, T0 + CLIPNAME_MAX_SECONDS);
	/* Across midnight, both forms. */
	ok("2026-11-20T23-30-00+1h30m.mp4", 1795217400, 1795217400 + 5400);
	ok("2026-11-20T23-59-00--2026-11-21T00-01-00.mp4", 1795219140, 1795219140 + 120);
	/* Leap days: every 4 years, and 2000 by the 400-year rule. */
	ok("2028-02-29T12-00-00+5m.mp4", 1835438400, 1835438400 + 300);
	ok("2028-02-28T23-59-00--2028-02-29T00-01-00.mp4", 1835438400 - 43260,
	   1835438400 - 43140);
	ok("2000-02-29T00-00-00+1s.mp4", 951782400, 951782401);
	/* The ends of the year range. */
	ok("1970-01-01T00-00-00+1s.mp4", 0, 1);
	ok("9999-12-31T23-59-58+1s.mp4", 253402300798, 253402300799);
}

static void test_invalid_utc(void **state)
{
	(void)state;
	testutil_set_tz("UTC");
	/* Impossible times. */
	bad("2026-02-30T10-00-00+90s.mp4");
	bad("2026-02-29T10-00-00+90s.mp4");   /* not a leap year */
	bad("2100-02-29T10-00-00+90s.mp4");   /* nor is 2100 */
	bad("2026-04-31T10-00-00+90s.mp4");
	bad("2026-00-10T10-00-00+90s.mp4");
	bad("2026-13-10T10-00-00+90s.mp4");
	bad("2026-11-00T10-00-00+90s.mp4");
	bad("2026-11-20T24-00-00+90s.mp4");
	bad("2026-11-20T10-60-00+90s.mp4");
	bad("2026-11-20T10-03-60+90s.mp4");
	bad("1969-12-31T23-59-59+90s.mp4");
	bad("2026-11-20T10-03-00--2026-02-30T10-00-00.mp4");
	/* Durations. */
	bad("2026-11-20T10-03-00+0s.mp4");
	bad("2026-11-20T10-03-00+0h0m0s.mp4");
	bad("2026-11-20T10-03-00+60.mp4");
	bad("2026-11-20T10-03-00+s.mp4");
	bad("2026-11-20T10-03-00+.mp4");
	bad("2026-11-20T10-03-00+1h30.mp4");
	bad("2026-11-20T10-03-00+30m1h.mp4");   /* out of order */
	bad("2026-11-20T10-03-00+1m1m.mp4");    /* repeated */
	bad("2026-11-20T10-03-00+1h1h.mp4");
	bad("2026-11-20T10-03-00+1d.mp4");
	bad("2026-11-20T10-03-00+1H.mp4");
	bad("2026-11-20T10-03-00+99999999s.mp4");   /* 8 digits */
	bad("2026-11-20T10-03-00+00000001s.mp4");
	bad("2026-11-20T10-03-00+9999999h.mp4");    /* 7 digits, too long */
	bad("2026-11-20T10-03-00+2678401s.mp4");    /* 31 days and a second */
	bad("2026-11-20T10-03-00+744h1s.mp4");
	bad("2026-11-20T10-03-00+768h.mp4");        /* 32 days */
	bad("2026-11-20T10-03-00++90s.mp4");
	bad("2026-11-20T10-03-00+-90s.mp4");
	bad("2026-11-20T10-03-00+ 90s.mp4");
	bad("2026-11-20T10-03-00+90s .mp4");
	/* End form. */
	bad("2026-11-20T10-03-00--2026-11-20T10-03-00.mp4");   /* empty */
	bad("2026-11-20T10-03-00--2026-11-20T10-02-59.mp4");   /* end before start */
	bad("2026-11-20T10-03-00--2026-12-21T10-03-01.mp4");   /* 31 days and a second */
	bad("2026-11-20T10-03-00--2026-12-22T10-03-00.mp4");   /* 32 days */
	bad("2026-11-20T10-03-00--2026-11-20T10-04-0.mp4");
	bad("2026-11-20T10-03-00--2026-11-20T10-04-000.mp4");
	bad("2026-11-20T10-03-00---2026-11-20T10-04-00.mp4");
	bad("2026-11-20T10-03-00-2026-11-20T10-04-00.mp4");
	bad("2026-11-20T10-03-00--.mp4");
	bad("2026-11-20T10-03-00--2026-11-20T10-04-00+90s.mp4");
	/* Shape of the start. */
	bad("2026-11-20 10-03-00+90s.mp4");
	bad("2026-11-20t10-03-00+90s.mp4");
	bad("2026-11-20T10:03:00+90s.mp4");
	bad("26-11-20T10-03-00+90s.mp4");
	bad("02026-11-20T10-03-00+90s.mp4");
	bad("2026-1-20T10-03-00+90s.mp4");
	bad("2026-11-20T10-03+90s.mp4");
	bad("+2026-11-20T10-03-00+90s.mp4");
	bad(" 2026-11-20T10-03-00+90s.mp4");
	bad("2026-11-20T10-03-0a+90s.mp4");
	/* Suffix, junk, and nothing. */
	bad("2026-11-20T10-03-00+90s");
	bad("2026-11-20T10-03-00+90s.MP4");
	bad("2026-11-20T10-03-00+90s.mp");
	bad("2026-11-20T10-03-00+90s.mp4x");
	bad("2026-11-20T10-03-00+90s.mp4 ");
	bad("2026-11-20T10-03-00+90s.mp4.mp4");
	bad("2026-11-20T10-03-00+90sx.mp4");
	bad("2026-11-20T10-03-00+90s\xc3\xa9.mp4");   /* é */
	bad("2026-11-20T10-03-00+\xe2\x81\xb9\xe2\x81\xb0s.mp4");   /* superscript 9 0 */
	bad("2026-11-20T10-03-00\xe2\x80\x93\xe2\x80\x93" "2026-11-20T10-04-00.mp4");
	bad("\xef\xbb\xbf" "2026-11-20T10-03-00+90s.mp4");   /* BOM */
	bad("2026-11-20T10-03-00.mp4");
	bad("2026-11-20T10-03-00+.mp4");
	bad(".mp4");
	bad("+");
	bad("+.mp4");
	bad("--");
	bad("");
	bad("README.txt");
}

#define BERLIN_SPRING 1774746000   /* 2026-03-29T01:00Z: 02:00 CET became 03:00 CEST */
#define BERLIN_AUTUMN 1792890000   /* 2026-10-25T01:00Z: 03:00 CEST became 02:00 CET */

static void test_berlin_dst(void **state)
{
	struct tm winter = { .tm_year = 126, .tm_mon = 11, .tm_mday = 1, .tm_isdst = -1 };

	(void)state;
	testutil_set_tz("Europe/Berlin");
	ok("2026-11-20T11-03-00+90s.mp4", T0, T0 + 90);   /* CET is UTC+1 */
	ok("2026-07-01T14-00-00+1s.mp4", 1782907200, 1782907201);   /* CEST, UTC+2 */

	/* Spring: 02:00..02:59:59 local does not exist. */
	ok("2026-03-29T01-59-59+1s.mp4", BERLIN_SPRING - 1, BERLIN_SPRING);
	bad("2026-03-29T02-00-00+1s.mp4");
	bad("2026-03-29T02-30-00+90s.mp4");
	bad("2026-03-29T02-59-59+1s.mp4");
	bad("2026-03-29T01-00-00--2026-03-29T02-30-00.mp4");
	ok("2026-03-29T03-00-00+1s.mp4", BERLIN_SPRING, BERLIN_SPRING + 1);
	/* Durations are elapsed time; the end form measures real time too. */
	ok("2026-03-29T01-30-00+1h.mp4", BERLIN_SPRING - 1800, BERLIN_SPRING + 1800);
	ok("2026-03-29T01-30-00--2026-03-29T03-30-00.mp4", BERLIN_SPRING - 1800,
	   BERLIN_SPRING + 1800);

	/* Autumn: 02:00..02:59:59 local happens twice; a name means the first
	 * (CEST) one, whatever mktime was last asked. */
	ok("2026-10-25T02-30-00+90s.mp4", BERLIN_AUTUMN - 1800, BERLIN_AUTUMN - 1800 + 90);
	mktime(&winter);
	ok("2026-10-25T02-30-00+90s.mp4", BERLIN_AUTUMN - 1800, BERLIN_AUTUMN - 1800 + 90);
	ok("2026-10-25T02-00-00--2026-10-25T03-00-00.mp4", BERLIN_AUTUMN - 3600,
	   BERLIN_AUTUMN + 3600);
	ok("2026-10-25T03-00-00+1s.mp4", BERLIN_AUTUMN + 3600, BERLIN_AUTUMN + 3601);
	ok("2026-10-25T01-59-59+1s.mp4", BERLIN_AUTUMN - 3601, BERLIN_AUTUMN - 3600);

	/* 00:59:59 on 1 Jan 1970 in Berlin is the instant -1, mktime's error value. */
	ok("1970-01-01T00-59-59+1s.mp4", -1, 0);
	ok("1970-01-01T00-00-00+1h.mp4", -3600, 0);
	testutil_set_tz("UTC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_utc),
		cmocka_unit_test(test_invalid_utc),
		cmocka_unit_test(test_berlin_dst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
