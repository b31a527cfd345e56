/* test_http_files.c - the HTTP rules of files: Range headers give 206 ranges,
 * 416 or the whole body; conditional requests give 304 exactly when the
 * validators match; dates are RFC 7231 whatever the locale; Accept picks
 * the HTML or the JSON listing; recent clip walks are held, then let go. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fs/http/files.h"
#include "fs/http/walks.h"

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

static void test_accept(void **state)
{
	(void)state;
	/* Browsers navigating. */
	assert_true(http_prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,"
				      "image/avif,image/webp,*/*;q=0.8"));
	assert_true(http_prefers_html("text/html"));
	assert_true(http_prefers_html("TEXT/HTML ; level=1, application/json;q=0.5"));
	/* curl, fetch(), scripts. */
	assert_false(http_prefers_html(""));
	assert_false(http_prefers_html("*/*"));
	assert_false(http_prefers_html("application/json"));
	assert_false(http_prefers_html("application/json, text/html;q=0.5"));
	assert_false(http_prefers_html("text/html;q=0.5, application/*"));
	assert_false(http_prefers_html("text/html;q=0, */*"));
	assert_true(http_prefers_html("text/*, application/json;q=0.2"));
	assert_false(http_prefers_html("text/plain"));
}

struct released {
	uint64_t ino[32];
	int n;
};

static void release(void *opaque, uint64_t ino)
{
	struct released *r = opaque;

	r->ino[r->n++] = ino;
}

static void test_walks(void **state)
{
	struct released r = { .n = 0 };
	struct http_walks *w;
	char path[32];

	(void)state;
	assert_int_equal(http_walks_new(&w, release, &r), 0);
	/* A second walk of a held path is let go at once; the held one stays. */
	http_walks_hold(w, "door/clips/a.mp4", 10, 0);
	http_walks_hold(w, "door/clips/a.mp4", 11, 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ino[0], 11);
	/* Past the limit, the least recently used goes: b.mp4 (used at 0),
	 * then a.mp4 (at 1). */
	http_walks_hold(w, "door/clips/b.mp4", 20, 0);
	for (int i = 0; i < HTTP_WALKS_MAX - 2; i++) {
		snprintf(path, sizeof(path), "c%d.mp4", i);
		http_walks_hold(w, path, 100 + (uint64_t)i, 2 + i);
	}
	assert_int_equal(r.n, 1);
	http_walks_hold(w, "d.mp4", 200, 50);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ino[1], 20);
	http_walks_hold(w, "e.mp4", 201, 51);
	assert_int_equal(r.ino[2], 10);
	/* Idle ones are let go, used ones stay. */
	http_walks_expire(w, 50 + HTTP_WALKS_IDLE_US - 1);
	assert_int_equal(r.n, 3 + HTTP_WALKS_MAX - 2);
	http_walks_expire(w, 50 + HTTP_WALKS_IDLE_US);
	assert_int_equal(r.n, 3 + HTTP_WALKS_MAX - 1);
	assert_int_equal(r.ino[r.n - 1], 200);
	/* The rest go with the cache. */
	http_walks_hold(w, "f.mp4", 300, 1000);
	http_walks_free(w);
	assert_int_equal(r.n, 3 + HTTP_WALKS_MAX + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_conditional),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_walks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
