/* test_urlpath.c - request paths split into tree names; every path that
 * could leave the tree, alias a name or carry a bad byte is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "fs/http/urlpath.h"

static int parse(struct urlpath *u, const char *path)
{
	print_message("%s\n", path);
	return urlpath_parse(u, path, strlen(path));
}

static void test_components(void **state)
{
	struct urlpath u;

	(void)state;
	assert_int_equal(parse(&u, "/"), 0);
	assert_int_equal(u.n, 0);
	assert_true(u.slash);

	assert_int_equal(parse(&u, "/cams"), 0);
	assert_int_equal(u.n, 1);
	assert_string_equal(u.part[0], "cams");
	assert_false(u.slash);

	assert_int_equal(parse(&u, "/cams/door/2026-12-05/"), 0);
	assert_int_equal(u.n, 3);
	assert_string_equal(u.part[1], "door");
	assert_string_equal(u.part[2], "2026-12-05");
	assert_true(u.slash);

	/* Hidden names pass: whether the tree offers one is the tree's call. */
	assert_int_equal(parse(&u, "/cams/door/.index.json"), 0);
	assert_string_equal(u.part[2], ".index.json");
	assert_int_equal(parse(&u, "/cams/.../x"), 0);
	assert_string_equal(u.part[1], "...");

	/* Non-ASCII names in shortest-form UTF-8 are names like any other. */
	assert_int_equal(parse(&u, "/cams/t\xc3\xbcr/\xe2\x82\xac/\xf0\x9f\x93\xb7"), 0);
	assert_string_equal(u.part[1], "t\xc3\xbcr");
	assert_int_equal(u.n, 4);
}

/* libwebsockets reads a literal '+' as a space; clip names hold '+'. */
static void test_space_is_plus(void **state)
{
	struct urlpath u;

	(void)state;
	assert_int_equal(parse(&u, "/cams/door/clips/2026-12-05T10-00-00 5m.mp4"), 0);
	assert_string_equal(u.part[3], "2026-12-05T10-00-00+5m.mp4");
}

static void test_not_found(void **state)
{
	static const char *const paths[] = {
		"/cams/..", "/cams/../etc/passwd", "/..", "/.", "/cams/./door",
		"/cams//door", "//", "/cams/door//", "/a/b/c/d/e/f/g/h/i",
	};
	struct urlpath u;
	char long_name[300];

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(parse(&u, paths[i]), -ENOENT);
	/* Eight deep is the limit, not past it. */
	assert_int_equal(parse(&u, "/a/b/c/d/e/f/g/h"), 0);
	long_name[0] = '/';
	memset(long_name + 1, 'x', 256);
	long_name[257] = '\0';
	assert_int_equal(parse(&u, long_name), -ENOENT);
	long_name[256] = '\0';
	assert_int_equal(parse(&u, long_name), 0);
}

static void test_bad_bytes(void **state)
{
	static const char *const paths[] = {
		"", "cams", "cams/door", "\\cams", "/cams\\..\\x", "/cams/\x01", "/cams/a\tb",
		"/cams/\x7f", "/cams/a\nb",
		"/\xc0\xaf", "/\xc0\xae\xc0\xae/x",       /* overlong "/" and ".." */
		"/\xe0\x80\xaf", "/\xf0\x80\x80\xaf",     /* longer overlong "/" */
		"/\xc1\xbf", "/\xed\xa0\x80",             /* overlong; a surrogate */
		"/\xf4\x90\x80\x80", "/\xf8\x88\x80\x80\x80", /* past U+10FFFF */
		"/\x80", "/a\xc3", "/a\xe2\x82", "/\xc3(",  /* stray or cut short */
	};
	struct urlpath u;

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(parse(&u, paths[i]), -EINVAL);
	/* A NUL inside the given length is a control byte too. */
	assert_int_equal(urlpath_parse(&u, "/a\0b", 4), -EINVAL);
}

static void test_too_long(void **state)
{
	char path[URLPATH_MAX + 2];
	struct urlpath u;

	(void)state;
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	for (size_t i = 200; i < sizeof(path); i += 200)
		path[i] = '/';
	assert_int_equal(urlpath_parse(&u, path, URLPATH_MAX + 1), -ENAMETOOLONG);
	assert_int_equal(urlpath_parse(&u, path, URLPATH_MAX), 0);
	assert_int_equal(u.n, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_components),
		cmocka_unit_test(test_space_is_plus),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
