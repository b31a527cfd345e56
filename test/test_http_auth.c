/* test_http_auth.c - HTTP users: htpasswd lines with bcrypt and SHA-512
 * hashes check the right password only; Basic headers parse; session cookies
 * are accepted until they expire or are changed or their user goes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/http/auth.h"

#define NOW 1795168980

static char path[64];

static void hash(const char *prefix, const char *password, char *out, size_t size)
{
	struct crypt_data data = { 0 };
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];

	/* Cost 4: the cheapest bcrypt, for a fast test. */
	assert_non_null(crypt_gensalt_rn(prefix, strcmp(prefix, "$2b$") == 0 ? 4 : 0, NULL, 0,
					 salt, sizeof(salt)));
	snprintf(out, size, "%s", crypt_r(password, salt, &data));
}

static void write_users(const char *alice_password, bool with_bob)
{
	char a[HTTP_AUTH_HASH_MAX], b[HTTP_AUTH_HASH_MAX];
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	hash("$2b$", alice_password, a, sizeof(a));
	hash("$6$", "bob-pw", b, sizeof(b));
	fprintf(f, "# users\n\nalice:%s\n", a);
	if (with_bob)
		fprintf(f, "bob:%s\n", b);
	fprintf(f, "mallory:$apr1$abc$def\nbad name:%s\nnocolon\n", a);
	fclose(f);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_http_auth-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void test_users_and_passwords(void **state)
{
	struct http_auth *a;
	char h[HTTP_AUTH_HASH_MAX];

	(void)state;
	write_users("alice-pw", true);
	assert_int_equal(http_auth_new(&a, path), 0);
	assert_int_equal(http_auth_user_hash(a, "alice", h), 0);
	assert_true(http_auth_verify("alice-pw", h));
	assert_false(http_auth_verify("alice-pw ", h));
	assert_false(http_auth_verify("", h));
	assert_int_equal(http_auth_user_hash(a, "bob", h), 0);
	assert_true(http_auth_verify("bob-pw", h));
	assert_false(http_auth_verify("alice-pw", h));
	/* Skipped lines are no users; an unknown user gets a real bcrypt hash
	 * that no password matches. */
	assert_int_equal(http_auth_user_hash(a, "mallory", h), -ENOENT);
	assert_int_equal(strncmp(h, "$2b$", 4), 0);
	assert_false(http_auth_verify("", h));
	assert_int_equal(http_auth_user_hash(a, "bad name", h), -ENOENT);
	http_auth_free(a);

	/* A file without one usable user is refused. */
	FILE *f = fopen(path, "w");
	fputs("mallory:$apr1$abc$def\n", f);
	fclose(f);
	assert_int_equal(http_auth_new(&a, path), -EINVAL);
	assert_int_equal(http_auth_new(&a, "/nonexistent/users"), -ENOENT);
}

static void test_basic(void **state)
{
	char user[HTTP_AUTH_USER_MAX], password[64];

	(void)state;
	/* alice:alice-pw */
	assert_int_equal(http_auth_parse_basic("Basic YWxpY2U6YWxpY2UtcHc=", user, password,
					       sizeof(password)), 0);
	assert_string_equal(user, "alice");
	assert_string_equal(password, "alice-pw");
	/* a:b:c: the password may hold ':' */
	assert_int_equal(http_auth_parse_basic("basic YTpiOmM=", user, password, sizeof(password)), 0);
	assert_string_equal(password, "b:c");
	/* alice (no colon), bearer, junk, a NUL inside, a bad user name */
	assert_int_equal(http_auth_parse_basic("Basic YWxpY2U=", user, password, sizeof(password)),
			 -EINVAL);
	assert_int_equal(http_auth_parse_basic("Bearer abc", user, password, sizeof(password)),
			 -EINVAL);
	assert_int_equal(http_auth_parse_basic("Basic !!!!", user, password, sizeof(password)),
			 -EINVAL);
	assert_int_equal(http_auth_parse_basic("Basic YQBiOmM=", user, password, sizeof(password)),
			 -EINVAL);
	assert_int_equal(http_auth_parse_basic("Basic YSBiOmM=", user, password, sizeof(password)),
			 -EINVAL);
}

static void test_cookies(void **state)
{
	struct http_auth *a, *other;
	char cookie[256], header[300], user[HTTP_AUTH_USER_MAX];
	char *value, *semi;

	(void)state;
	write_users("alice-pw", true);
	assert_int_equal(http_auth_new(&a, path), 0);
	assert_int_equal(http_auth_new(&other, path), 0);
	assert_int_equal(http_auth_cookie(a, "bob", NOW, true, cookie, sizeof(cookie)), 0);
	assert_non_null(strstr(cookie, "; HttpOnly"));
	assert_non_null(strstr(cookie, "; Secure"));
	assert_non_null(strstr(cookie, "SameSite=Strict"));
	/* What a browser sends back: name=value, among others. */
	semi = strchr(cookie, ';');
	snprintf(header, sizeof(header), "theme=dark; %.*s; x=1", (int)(semi - cookie), cookie);
	assert_int_equal(http_auth_check_cookie(a, header, NOW + 10, user), 0);
	assert_string_equal(user, "bob");
	/* Expired; from another run (another key); changed by a byte. */
	assert_int_equal(http_auth_check_cookie(a, header, NOW + HTTP_AUTH_SESSION_S, user), -EACCES);
	assert_int_equal(http_auth_check_cookie(other, header, NOW + 10, user), -EACCES);
	value = strstr(header, "bob:");
	value[0] = 'c';
	assert_int_equal(http_auth_check_cookie(a, header, NOW + 10, user), -EACCES);
	value[0] = 'b';
	assert_int_equal(http_auth_check_cookie(a, header, NOW + 10, user), 0);
	/* bob is removed from the file: his session ends at the reload. */
	write_users("alice-pw", false);
	assert_int_equal(http_auth_reload(a), 0);
	assert_int_equal(http_auth_check_cookie(a, header, NOW + 10, user), -EACCES);
	http_auth_free(a);
	http_auth_free(other);
}

static void test_cache(void **state)
{
	struct http_auth *a;
	char user[HTTP_AUTH_USER_MAX];
	const char *good = "Basic YWxpY2U6YWxpY2UtcHc=";

	(void)state;
	write_users("alice-pw", true);
	assert_int_equal(http_auth_new(&a, path), 0);
	assert_false(http_auth_cached(a, good, NOW, user));
	http_auth_remember(a, good, "alice", NOW);
	assert_true(http_auth_cached(a, good, NOW + 1, user));
	assert_string_equal(user, "alice");
	assert_false(http_auth_cached(a, "Basic YWxpY2U6b3RoZXI=", NOW + 1, user));
	assert_false(http_auth_cached(a, good, NOW + 3600, user));
	/* A reload forgets: a changed password is asked for again. */
	assert_int_equal(http_auth_reload(a), 0);
	assert_false(http_auth_cached(a, good, NOW + 1, user));
	http_auth_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_users_and_passwords),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
