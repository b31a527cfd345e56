/* auth.h - the HTTP export's users: an htpasswd file checked with libcrypt
 * (bcrypt, SHA-512 crypt, yescrypt), and a signed session cookie so a
 * browser logs in once. Passwords and hashes never reach a log. */
#ifndef CAMFS_HTTP_AUTH_H
#define CAMFS_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_AUTH_USER_MAX 64
#define HTTP_AUTH_HASH_MAX 160
#define HTTP_AUTH_COOKIE "camfs_session"
#define HTTP_AUTH_SESSION_S (12 * 3600)   /* a cookie's life */

struct http_auth;

/* Reads the users of path (lines "user:hash"; '#' comments). A line with
 * an unknown hash or a bad name is skipped with a warning naming its line;
 * a file with no usable user is -EINVAL. The cookie key is random, so
 * sessions end when camfs stops. */
int http_auth_new(struct http_auth **out, const char *path);
/* Reads the file again (SIGHUP); on failure the old users stay. */
int http_auth_reload(struct http_auth *a);
void http_auth_free(struct http_auth *a);   /* accepts NULL */

/* Splits an Authorization header value "Basic base64(user:password)" into
 * user and password (NUL-terminated). -EINVAL when it is not Basic or not
 * well formed. */
int http_auth_parse_basic(const char *header, char user[HTTP_AUTH_USER_MAX],
			  char *password, size_t password_size);
/* The hash of user into hash, 0; -ENOENT for an unknown user, when hash
 * gets a dummy bcrypt hash so that checking it costs the same time. */
int http_auth_user_hash(const struct http_auth *a, const char *user,
			char hash[HTTP_AUTH_HASH_MAX]);
/* Whether password matches hash (crypt_r; ~50 ms for bcrypt: call it off the
 * event loop). Thread-safe, pure. */
bool http_auth_verify(const char *password, const char *hash);

/* A recent good Authorization header is remembered (as a keyed hash, never
 * the header) for a few minutes, so a browser that sends it with every
 * request costs one crypt_r, not one per request. */
bool http_auth_cached(struct http_auth *a, const char *header, int64_t now_s,
		      char user[HTTP_AUTH_USER_MAX]);
void http_auth_remember(struct http_auth *a, const char *header, const char *user,
			int64_t now_s);

/* The value of a Set-Cookie header starting a session for user. */
int http_auth_cookie(const struct http_auth *a, const char *user, int64_t now_s, bool secure,
		     char *out, size_t size);
/* Looks for a valid, unexpired session cookie of a known user in a Cookie
 * header value; 0 and its user, or -EACCES. */
int http_auth_check_cookie(const struct http_auth *a, const char *cookie_header, int64_t now_s,
			   char user[HTTP_AUTH_USER_MAX]);

#endif
