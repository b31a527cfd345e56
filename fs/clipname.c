/* clipname.c - parses the names of virtual clips (docs/clips.md) into a range
 * of µs; strict, bounded by the name's length, fuzzed (test/fuzz). */
#include "fs/clipname.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#define SUFFIX ".mp4"
#define TIME_LEN 19       /* YYYY-MM-DDTHH-MM-SS */
#define GROUP_DIGITS 7    /* per duration group: 9999999h still fits easily */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The n digits at s (the caller has checked they are digits) as a number. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Whether t, in local time, shows exactly the fields of want. */
static bool shows(time_t t, const struct tm *want)
{
	struct tm got;

	return localtime_r(&t, &got) && got.tm_year == want->tm_year &&
	       got.tm_mon == want->tm_mon && got.tm_mday == want->tm_mday &&
	       got.tm_hour == want->tm_hour && got.tm_min == want->tm_min &&
	       got.tm_sec == want->tm_sec;
}

/* The TIME_LEN chars at s (the caller has checked they exist) as seconds
 * since the epoch, read as local time of the process TZ. A local time that a
 * DST change skips shows other fields after the round trip through
 * localtime_r and is refused. A local time that a DST change repeats is the
 * earlier of its two instants (still in summer time): glibc's mktime picks
 * one by the offset its previous call (from any thread) ended on, and a name
 * must mean the same clip every time. The offsets in force a day either side
 * give both readings. */
static int parse_time(const char *s, time_t *out)
{
	static const char pattern[TIME_LEN + 1] = "dddd-dd-ddTdd-dd-dd";
	struct tm want = { 0 }, tm;
	int year, mon, day;
	time_t t, wall;
	bool found = false;

	for (int i = 0; i < TIME_LEN; i++) {
		if (pattern[i] == 'd' ? !is_digit(s[i]) : s[i] != pattern[i])
			return -EINVAL;
	}
	year = digits(s, 4);
	mon = digits(s + 5, 2);
	day = digits(s + 8, 2);
	want.tm_year = year - 1900;
	want.tm_mon = mon - 1;
	want.tm_mday = day;
	want.tm_hour = digits(s + 11, 2);
	want.tm_min = digits(s + 14, 2);
	want.tm_sec = digits(s + 17, 2);
	/* No recording predates 1970; :60 leap seconds are not named. */
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) ||
	    want.tm_hour > 23 || want.tm_min > 59 || want.tm_sec > 59)
		return -EINVAL;

	tm = want;
	tm.tm_isdst = -1;
	t = mktime(&tm);   /* also rereads TZ; its -1 may be a real instant */
	tm = want;
	wall = timegm(&tm);   /* the fields as if they were UTC */
	for (int k = -1; k <= 1; k++) {
		time_t probe = t + k * 86400, c = t;
		struct tm at;

		if (k != 0) {
			if (!localtime_r(&probe, &at))
				continue;
			c = wall - at.tm_gmtoff;
		}
		if ((!found || c < *out) && shows(c, &want)) {
			*out = c;
			found = true;
		}
	}
	return found ? 0 : -EINVAL;
}

/* A duration of n chars at s: one or more <digits><unit> groups, units h, m,
 * s in that order, each at most once, at most GROUP_DIGITS digits each. It is
 * elapsed time: +1h across a DST change still ends 3600 s after the start. */
static int parse_duration(const char *s, size_t n, int64_t *out)
{
	static const char units[] = "hms";
	static const int64_t scale[] = { 3600, 60, 1 };
	int64_t total = 0;
	int next_unit = 0;      /* index into units of the least unit still allowed */
	size_t i = 0;

	if (n == 0)
		return -EINVAL;
	while (i < n) {
		int64_t v = 0;
		size_t first = i;
		const char *u;

		while (i < n && is_digit(s[i]) && i - first < GROUP_DIGITS)
			v = v * 10 + (s[i++] - '0');
		if (i == first || i == n || is_digit(s[i]))
			return -EINVAL;   /* no digits, no unit, or too many digits */
		u = memchr(units + next_unit, s[i], sizeof(units) - 1 - next_unit);
		if (!u)
			return -EINVAL;   /* unknown, repeated or out-of-order unit */
		next_unit = u - units + 1;
		total += v * scale[u - units];
		i++;
	}
	*out = total;
	return 0;
}

int clipname_parse(const char *name, int64_t *start_us, int64_t *end_us)
{
	size_t len = strlen(name), n;
	time_t start, end;
	int64_t seconds;
	const char *rest;

	if (len < TIME_LEN + strlen(SUFFIX) || strcmp(name + len - strlen(SUFFIX), SUFFIX) != 0)
		return -EINVAL;
	n = len - strlen(SUFFIX);   /* the name without .mp4 */
	if (n < TIME_LEN + 1 || parse_time(name, &start) < 0)
		return -EINVAL;
	rest = name + TIME_LEN;
	n -= TIME_LEN;

	if (rest[0] == '+') {
		if (parse_duration(rest + 1, n - 1, &seconds) < 0)
			return -EINVAL;
	} else if (n == 2 + TIME_LEN && rest[0] == '-' && rest[1] == '-') {
		if (parse_time(rest + 2, &end) < 0)
			return -EINVAL;
		seconds = (int64_t)end - (int64_t)start;
	} else {
		return -EINVAL;
	}
	if (seconds <= 0 || seconds > CLIPNAME_MAX_SECONDS)
		return -EINVAL;
	*start_us = (int64_t)start * 1000000;
	*end_us = *start_us + seconds * 1000000;
	return 0;
}
