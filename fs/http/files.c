/* files.c - files over HTTP: ranges, validators and conditional requests,
 * the viewer's static files, and the tree's files and directories. */
#include "fs/http/files.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/http/http_internal.h"
#include "util/log.h"

/* Types lws does not know (it would answer 415); the rest are its own. */
static const struct lws_protocol_vhost_options mime_mp4 = {
	NULL, NULL, ".mp4", "video/mp4"
};
static const struct lws_protocol_vhost_options mime_webmanifest = {
	&mime_mp4, NULL, ".webmanifest", "application/manifest+json"
};
static const struct lws_protocol_vhost_options mime_mjs = {
	&mime_webmanifest, NULL, ".mjs", "text/javascript"
};
static const struct lws_protocol_vhost_options mime_csv = {
	&mime_mjs, NULL, ".csv", "text/csv"
};
static const struct lws_http_mount viewer_mount = {
	.extra_mimetypes = &mime_csv,
	.mountpoint = "/",
	.origin_protocol = LWSMPRO_FILE,
	.mountpoint_len = 1,
};

/* A whole number of up to 18 digits at *p; advances p. -1 if none. */
static int64_t digits(const char **p)
{
	int64_t v = 0;
	int n = 0;

	while (isdigit((unsigned char)**p) && n < 18) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n == 0 || isdigit((unsigned char)**p) ? -1 : v;
}

int http_range_parse(const char *header, int64_t size, int64_t *start, int64_t *end)
{
	const char *p = header;
	int64_t a = -1, b = -1;

	if (strncasecmp(p, "bytes=", 6) != 0)
		return 0;
	p += 6;
	p += strspn(p, " ");
	if (*p == '-') {
		p++;
		if ((b = digits(&p)) < 0)
			return 0;
	} else {
		if ((a = digits(&p)) < 0 || *p++ != '-')
			return 0;
		if (isdigit((unsigned char)*p) && (b = digits(&p)) < 0)
			return 0;
	}
	p += strspn(p, " ");
	if (*p)
		return 0;   /* several ranges, or junk: the whole body */
	if (a < 0) {        /* the last b bytes */
		if (b == 0 || size == 0)
			return -1;
		*start = b >= size ? 0 : size - b;
		*end = size;
		return 1;
	}
	if (b >= 0 && b < a)
		return 0;   /* invalid: ignored, as RFC 9110 says */
	if (a >= size)
		return -1;
	*start = a;
	*end = b < 0 || b >= size ? size : b + 1;
	return 1;
}

/* Whether etag is among the tags of an If-None-Match list, weakly. */
static bool etag_listed(const char *list, const char *etag)
{
	const char *mine = strncmp(etag, "W/", 2) == 0 ? etag + 2 : etag;
	size_t mine_len = strlen(mine);

	for (const char *p = list; *p;) {
		size_t len;

		p += strspn(p, " ,\t");
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		len = strcspn(p, ",");
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == mine_len && memcmp(p, mine, len) == 0)
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

bool http_not_modified(const char *if_none_match, const char *if_modified_since,
		       const char *etag, time_t mtime)
{
	struct tm tm = { 0 };
	const char *end;

	if (if_none_match[0])
		return etag && etag[0] && etag_listed(if_none_match, etag);
	if (!if_modified_since[0])
		return false;
	end = strptime(if_modified_since, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return false;
	return mtime <= timegm(&tm);
}

void http_date(time_t t, char out[40])
{
	struct tm tm;
	static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
					  "Aug", "Sep", "Oct", "Nov", "Dec" };

	/* By hand, not strftime: %a and %b follow the locale. */
	gmtime_r(&t, &tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void release_fd(void *owner)
{
	close((int)(intptr_t)owner);
}

void http_files_viewer(struct http_conn *c)
{
	const struct urlpath *u = &c->req.path;
	char path[4096 + URLPATH_MAX + 16], etag[64], date[40];
	const char *type;
	struct stat st;
	size_t o;
	int fd;

	o = (size_t)snprintf(path, sizeof(path), "%s", c->srv->webview);
	for (int i = 0; i < u->n; i++) {
		/* The viewer has no hidden files to offer. */
		if (u->part[i][0] == '.') {
			http_error(c, 404, "404 Not found\n");
			return;
		}
		o += (size_t)snprintf(path + o, sizeof(path) - o, "/%s", u->part[i]);
	}
	if (u->slash)
		snprintf(path + o, sizeof(path) - o, "/index.html");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		http_error(c, 404, "404 Not found\n");
		return;
	}
	type = lws_get_mimetype(path, &viewer_mount);
	snprintf(etag, sizeof(etag), "\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_mtime,
		 (uint64_t)st.st_size);
	http_date(st.st_mtime, date);
	/* The viewer changes with camfs: asked again each time, cheaply. */
	http_add_header(c, "cache-control:", "no-cache");
	http_add_header(c, "etag:", etag);
	http_add_header(c, "last-modified:", date);
	if (http_not_modified(c->req.if_none_match, c->req.if_modified_since, etag, st.st_mtime)) {
		close(fd);
		http_respond(c, 304, NULL, st.st_size);
		return;
	}
	c->body.fd = fd;
	c->body.owner = (void *)(intptr_t)fd;
	c->body.release = release_fd;
	c->body.pos = 0;
	c->body.end = st.st_size;
	http_respond(c, 200, type ? type : "application/octet-stream", st.st_size);
}

void http_files_tree(struct http_conn *c)
{
	/* The tree is served through the file layer; until then, nothing. */
	http_error(c, 404, "404 Not found\n");
}
