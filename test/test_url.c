/* test_url.c - credentials never survive url_redact, whatever surrounds the
 * URL, and text without credentials passes unchanged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/url.h"

static void check(const char *in, const char *want)
{
	char out[256];

	url_redact(in, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_single_urls(void **state)
{
	(void)state;
	check("rtsp://admin:secret@10.0.0.5:554/stream1", "rtsp://***@10.0.0.5:554/stream1");
	check("rtsp://admin@10.0.0.5/s", "rtsp://***@10.0.0.5/s");
	check("rtsp://10.0.0.5/s", "rtsp://10.0.0.5/s");
	check("http://u:p@host", "http://***@host");
	/* '@' inside a password (unescaped, as some cameras want it). */
	check("rtsp://admin:p@ss@cam/x", "rtsp://***@cam/x");
	/* '@' in the path is not userinfo. */
	check("rtsp://cam/a@b", "rtsp://cam/a@b");
	check("", "");
}

static void test_in_text(void **state)
{
	(void)state;
	check("cannot open 'rtsp://u:pw@h/x': refused; also rtsp://a:b@c",
	      "cannot open 'rtsp://***@h/x': refused; also rtsp://***@c");
	check("url \"rtsp://u:pw@h\" and more", "url \"rtsp://***@h\" and more");
}

static void test_truncation(void **state)
{
	char out[12];

	(void)state;
	url_redact("rtsp://user:password@host/path", out, sizeof(out));
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_null(strstr(out, "pass"));
	assert_null(strstr(out, "user"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_urls),
		cmocka_unit_test(test_in_text),
		cmocka_unit_test(test_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
