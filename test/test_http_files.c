/* test_http_files.c - the HTTP rules of files: Range headers give 206 ranges,
 * 416 or the whole body; conditional requests give 304 exactly when the
 * validators match; dates are RFC 7231 whatever the locale. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "fs/http/files.h"

static void range(const char *h, int64_t size, int want, int64_t want_start, int64_t want_end)
{
	int64_t start = -7, end = -7;

	print_message("%s of %lld\n", h, (long long)size);
	assert_int_equal(http_range_parse(h, size, &start, &end), want);
	if (want == 1) {
		assert_int_equal(start, want_start);
		assert_int_equal(end, want_end);
	}
}

static void test_ranges(void **state)
{
	(void)state;
	range("bytes=0-99", 1000, 1, 0, 100);
	range("bytes=100-", 1000, 1, 100, 1000);
	range("bytes=-100", 1000, 1, 900, 1000);
	range("bytes=-5000", 1000, 1, 0, 1000);        /* more than all: all */
	range("bytes=900-5000", 1000, 1, 900, 1000);   /* past the end: cut */
	range("bytes=999-999", 1000, 1, 999, 1000);
	range("BYTES=1-2", 1000, 1, 1, 3);
	/* Not satisfiable: 416. */
	range("bytes=1000-", 1000, -1, 0, 0);
	range("bytes=5000-6000", 1000, -1, 0, 0);
	range("bytes=-0", 1000, -1, 0, 0);
	range("bytes=0-", 0, -1, 0, 0);
	/* Not applicable: the whole body, 200. */
	range("", 1000, 0, 0, 0);
	range("items=0-1", 1000, 0, 0, 0);
	range("bytes=0-1,5-6", 1000, 0, 0, 0);
	range("bytes=5-1", 1000, 0, 0, 0);
	range("bytes=a-b", 1000, 0, 0, 0);
	range("bytes=-", 1000, 0, 0, 0);
	range("bytes=1-2x", 1000, 0, 0, 0);
	range("bytes=99999999999999999999-", 1000, 0, 0, 0);
}

static void test_conditional(void **state)
{
	const char *etag = "\"5f3-1a\"";
	time_t mtime = 1795168980;   /* Fri, 20 Nov 2026 10:03:00 GMT */

	(void)state;
	assert_false(http_not_modified("", "", etag, mtime));
	assert_true(http_not_modified("\"5f3-1a\"", "", etag, mtime));
	assert_true(http_not_modified("W/\"5f3-1a\"", "", etag, mtime));
	assert_true(http_not_modified("\"x\", \"5f3-1a\"", "", etag, mtime));
	assert_true(http_not_modified("*", "", etag, mtime));
	assert_false(http_not_modified("\"5f3-1b\"", "", etag, mtime));
	assert_false(http_not_modified("\"5f3-1a", "", etag, mtime));
	/* If-None-Match wins over If-Modified-Since. */
	assert_false(http_not_modified("\"other\"", "Fri, 20 Nov 2026 10:03:00 GMT", etag, mtime));
	assert_true(http_not_modified("", "Fri, 20 Nov 2026 10:03:00 GMT", etag, mtime));
	assert_true(http_not_modified("", "Sat, 21 Nov 2026 10:03:00 GMT", etag, mtime));
	assert_false(http_not_modified("", "Fri, 20 Nov 2026 10:02:59 GMT", etag, mtime));
	assert_false(http_not_modified("", "yesterday", etag, mtime));
}

static void test_date(void **state)
{
	char out[40];

	(void)state;
	http_date(1795168980, out);
	assert_string_equal(out, "Fri, 20 Nov 2026 10:03:00 GMT");
	http_date(0, out);
	assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_conditional),
		cmocka_unit_test(test_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
