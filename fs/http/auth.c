/* auth.c - htpasswd users, password checks through libcrypt's crypt_r, a
 * cache of good Authorization headers and HMAC-SHA256 session cookies. */
#include "fs/http/auth.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "util/array.h"
#include "util/log.h"

#define CACHE_SIZE 32
#define CACHE_S 600          /* a good header is trusted again for this long */
#define MAC_SIZE 32

struct user {
	char name[HTTP_AUTH_USER_MAX];
	char hash[HTTP_AUTH_HASH_MAX];
};

struct cached {
	uint8_t mac[MAC_SIZE];   /* HMAC of the header: the header is never kept */
	char user[HTTP_AUTH_USER_MAX];
	int64_t until_s;         /* 0: empty */
};

struct http_auth {
	char *path;
	struct user *users;
	size_t n_users;
	uint8_t key[32];         /* cookies and the cache; random per run */
	char dummy[HTTP_AUTH_HASH_MAX]; /* bcrypt of a random password: unknown users cost a check too */
	struct cached cache[CACHE_SIZE];
};


static bool good_name(const char *s, size_t len)
{
	return len > 0 && len < HTTP_AUTH_USER_MAX &&
		strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") >= len;
}

/* Hashes crypt_r checks that are worth a password: bcrypt, SHA-512, yescrypt. */
static bool good_hash(const char *s)
{
	return strncmp(s, "$2b$", 4) == 0 || strncmp(s, "$2y$", 4) == 0 ||
		strncmp(s, "$2a$", 4) == 0 || strncmp(s, "$6$", 3) == 0 ||
		strncmp(s, "$y$", 3) == 0;
}

static int load(const char *path, struct user **out, size_t *n_out)
{
	FILE *f = fopen(path, "re");
	struct user *users = NULL;
	size_t n = 0, cap = 0, size = 0;
	char *line = NULL;
	int lineno = 0, ret = 0;

	if (!f) {
		ret = -errno;
		log_error("http", "http_users %s: %s", path, strerror(-ret));
		return ret;
	}
	while (getline(&line, &size, f) >= 0) {
		char *colon, *hash;
		size_t len;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		colon = strchr(line, ':');
		hash = colon ? colon + 1 : NULL;
		if (hash)
			hash[strcspn(hash, ":")] = '\0';   /* htpasswd may add fields */
		if (!colon || !good_name(line, (size_t)(colon - line))) {
			log_warning("http", "http_users %s:%d: not \"user:hash\" with a user of "
				    "A-Z a-z 0-9 . _ @ -: skipped", path, lineno);
			continue;
		}
		len = strlen(hash);
		if (!good_hash(hash) || len >= HTTP_AUTH_HASH_MAX) {
			log_warning("http", "http_users %s:%d: not a bcrypt, SHA-512 or yescrypt "
				    "hash (htpasswd -B makes one): skipped", path, lineno);
			continue;
		}
		if (array_grow(&users, &cap, n, sizeof(*users)) < 0) {
			ret = -ENOMEM;
			break;
		}
		snprintf(users[n].name, sizeof(users[n].name), "%.*s", (int)(colon - line), line);
		memcpy(users[n].hash, hash, len + 1);
		n++;
	}
	if (line)
		explicit_bzero(line, size);
	free(line);
	fclose(f);
	if (ret == 0 && n == 0) {
		log_error("http", "http_users %s: no usable user", path);
		ret = -EINVAL;
	}
	if (ret < 0) {
		if (users)
			explicit_bzero(users, n * sizeof(*users));
		free(users);
		return ret;
	}
	*out = users;
	*n_out = n;
	return 0;
}

static int make_dummy(char hash[HTTP_AUTH_HASH_MAX])
{
	struct crypt_data *data = calloc(1, sizeof(*data));
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], password[17];
	uint8_t r[8];
	const char *out = NULL;

	if (!data)
		return -ENOMEM;
	if (RAND_bytes(r, sizeof(r)) == 1 && crypt_gensalt_rn("$2b$", 10, NULL, 0, salt,
							      sizeof(salt))) {
		for (int i = 0; i < 8; i++)
			snprintf(password + 2 * i, 3, "%02x", r[i]);
		out = crypt_r(password, salt, data);
	}
	/* out is in data: judge and copy it before data goes. */
	bool ok = out && out[0] != '*';

	if (ok)
		snprintf(hash, HTTP_AUTH_HASH_MAX, "%s", out);
	explicit_bzero(data, sizeof(*data));
	free(data);
	return ok ? 0 : -EIO;
}

int http_auth_new(struct http_auth **out, const char *path)
{
	struct http_auth *a = calloc(1, sizeof(*a));
	int ret;

	*out = NULL;
	if (!a || !(a->path = strdup(path))) {
		free(a);
		return -ENOMEM;
	}
	if (RAND_bytes(a->key, sizeof(a->key)) != 1) {
		http_auth_free(a);
		return -EIO;
	}
	if ((ret = make_dummy(a->dummy)) < 0 || (ret = load(path, &a->users, &a->n_users)) < 0) {
		http_auth_free(a);
		return ret;
	}
	*out = a;
	return 0;
}

int http_auth_reload(struct http_auth *a)
{
	struct user *users;
	size_t n;
	int ret = load(a->path, &users, &n);

	if (ret < 0)
		return ret;
	explicit_bzero(a->users, a->n_users * sizeof(*a->users));
	free(a->users);
	a->users = users;
	a->n_users = n;
	/* A changed password must be asked for again. */
	memset(a->cache, 0, sizeof(a->cache));
	log_notice("http", "http_users %s: %zu user%s", a->path, n, n == 1 ? "" : "s");
	return 0;
}

void http_auth_free(struct http_auth *a)
{
	if (!a)
		return;
	if (a->users)
		explicit_bzero(a->users, a->n_users * sizeof(*a->users));
	free(a->users);
	free(a->path);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

int http_auth_parse_basic(const char *header, char user[HTTP_AUTH_USER_MAX],
			  char *password, size_t password_size)
{
	unsigned char decoded[256];
	const char *b64;
	char *colon;
	int n;

	if (strncasecmp(header, "Basic ", 6) != 0)
		return -EINVAL;
	b64 = header + 6;
	b64 += strspn(b64, " ");
	if (strlen(b64) > 4 * (sizeof(decoded) - 1) / 3)
		return -EINVAL;
	n = EVP_DecodeBlock(decoded, (const unsigned char *)b64, (int)strlen(b64));
	if (n < 0)
		return -EINVAL;
	/* EVP_DecodeBlock counts the padding's zero bytes. */
	for (const char *p = b64 + strlen(b64); p > b64 && p[-1] == '='; p--)
		n--;
	decoded[n] = '\0';
	colon = memchr(decoded, ':', (size_t)n);
	if (!colon || memchr(decoded, '\0', (size_t)n) ||
	    !good_name((char *)decoded, (size_t)(colon - (char *)decoded)) ||
	    strlen(colon + 1) >= password_size) {
		explicit_bzero(decoded, sizeof(decoded));
		return -EINVAL;
	}
	snprintf(user, HTTP_AUTH_USER_MAX, "%.*s", (int)(colon - (char *)decoded),
		 (char *)decoded);
	strcpy(password, colon + 1);
	explicit_bzero(decoded, sizeof(decoded));
	return 0;
}

int http_auth_user_hash(const struct http_auth *a, const char *user,
			char hash[HTTP_AUTH_HASH_MAX])
{
	for (size_t i = 0; i < a->n_users; i++)
		if (strcmp(a->users[i].name, user) == 0) {
			memcpy(hash, a->users[i].hash, HTTP_AUTH_HASH_MAX);
			return 0;
		}
	memcpy(hash, a->dummy, HTTP_AUTH_HASH_MAX);
	return -ENOENT;
}

bool http_auth_verify(const char *password, const char *hash)
{
	struct crypt_data *data = calloc(1, sizeof(*data));
	const char *out;
	bool ok;

	if (!data)
		return false;
	out = crypt_r(password, hash, data);
	ok = out && out[0] != '*' && strlen(out) == strlen(hash) &&
		CRYPTO_memcmp(out, hash, strlen(hash)) == 0;
	explicit_bzero(data, sizeof(*data));
	free(data);
	return ok;
}

static void mac(const struct http_auth *a, const void *data, size_t len, uint8_t out[MAC_SIZE])
{
	unsigned int n = MAC_SIZE;

	HMAC(EVP_sha256(), a->key, sizeof(a->key), data, len, out, &n);
}

static bool known(const struct http_auth *a, const char *user)
{
	for (size_t i = 0; i < a->n_users; i++)
		if (strcmp(a->users[i].name, user) == 0)
			return true;
	return false;
}

bool http_auth_cached(struct http_auth *a, const char *header, int64_t now_s,
		      char user[HTTP_AUTH_USER_MAX])
{
	uint8_t m[MAC_SIZE];

	mac(a, header, strlen(header), m);
	for (int i = 0; i < CACHE_SIZE; i++) {
		struct cached *c = &a->cache[i];

		if (c->until_s > now_s && CRYPTO_memcmp(c->mac, m, MAC_SIZE) == 0 &&
		    known(a, c->user)) {
			memcpy(user, c->user, HTTP_AUTH_USER_MAX);
			return true;
		}
	}
	return false;
}

void http_auth_remember(struct http_auth *a, const char *header, const char *user, int64_t now_s)
{
	struct cached *slot = &a->cache[0];

	for (int i = 1; i < CACHE_SIZE; i++)   /* the emptiest or oldest */
		if (a->cache[i].until_s < slot->until_s)
			slot = &a->cache[i];
	mac(a, header, strlen(header), slot->mac);
	snprintf(slot->user, sizeof(slot->user), "%s", user);
	slot->until_s = now_s + CACHE_S;
}

/* "user:expiry:hex(hmac(user:expiry))" */
static void sign(const struct http_auth *a, const char *user, int64_t until_s, char *out,
		 size_t size)
{
	char msg[HTTP_AUTH_USER_MAX + 24];
	uint8_t m[MAC_SIZE];
	int len = snprintf(msg, sizeof(msg), "%s:%lld", user, (long long)until_s);
	size_t o;

	mac(a, msg, (size_t)len, m);
	o = (size_t)snprintf(out, size, "%s:", msg);
	for (int i = 0; i < MAC_SIZE && o + 2 < size; i++, o += 2)
		snprintf(out + o, size - o, "%02x", m[i]);
}

int http_auth_cookie(const struct http_auth *a, const char *user, int64_t now_s, bool secure,
		     char *out, size_t size)
{
	char value[HTTP_AUTH_USER_MAX + 24 + 2 * MAC_SIZE + 2];
	int n;

	sign(a, user, now_s + HTTP_AUTH_SESSION_S, value, sizeof(value));
	n = snprintf(out, size, HTTP_AUTH_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; "
		     "SameSite=Strict%s", value, HTTP_AUTH_SESSION_S, secure ? "; Secure" : "");
	return n > 0 && (size_t)n < size ? 0 : -ENOSPC;
}

int http_auth_check_cookie(const struct http_auth *a, const char *cookie_header, int64_t now_s,
			   char user[HTTP_AUTH_USER_MAX])
{
	const char *p = cookie_header;
	const size_t name_len = strlen(HTTP_AUTH_COOKIE);

	/* "a=b; camfs_session=value; c=d": every cookie of ours is tried. */
	while (p && *p) {
		char value[HTTP_AUTH_USER_MAX + 24 + 2 * MAC_SIZE + 2], want[sizeof(value)];
		size_t len;

		p += strspn(p, " ;");
		len = strcspn(p, ";");
		if (len > name_len + 1 && strncmp(p, HTTP_AUTH_COOKIE "=", name_len + 1) == 0 &&
		    len - name_len - 1 < sizeof(value)) {
			char *c1, *c2;
			long long until;

			snprintf(value, sizeof(value), "%.*s", (int)(len - name_len - 1),
				 p + name_len + 1);
			c1 = strchr(value, ':');
			c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			if (c2 && c1 - value < HTTP_AUTH_USER_MAX) {
				char name[HTTP_AUTH_USER_MAX];

				snprintf(name, sizeof(name), "%.*s", (int)(c1 - value), value);
				until = strtoll(c1 + 1, NULL, 10);
				sign(a, name, until, want, sizeof(want));
				if (until > now_s && until <= now_s + HTTP_AUTH_SESSION_S &&
				    strlen(want) == strlen(value) &&
				    CRYPTO_memcmp(want, value, strlen(value)) == 0 && known(a, name)) {
					memcpy(user, name, HTTP_AUTH_USER_MAX);
					return 0;
				}
			}
		}
		p += len;
	}
	return -EACCES;
}
