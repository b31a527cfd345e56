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

#include "fs/file.h"
#include "fs/http/http_internal.h"
#include "fs/http/walks.h"
#include "fs/tree.h"
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

/* ---- the tree ---- */

/* A request for the tree, walked and opened on a worker. */
struct tree_job {
	struct http_conn_job base;
	struct http_server *srv;
	char path[URLPATH_MAX + 1];      /* in the tree: "door/2026-12-05" ("" the root) */
	bool slash;                      /* the URL ended in "/": a directory only */
	bool html;                       /* a directory as an HTML listing */
	int ret;                         /* of the walk and open */
	struct file *file;               /* what to send, with attr */
	struct file_attr attr;
	char *html_body;                 /* or this listing */
	size_t html_len;
};

static bool is_dir_kind(enum tree_kind kind)
{
	return kind == TREE_ROOT || kind == TREE_CAMERA || kind == TREE_DAY ||
	       kind == TREE_CLIPS || kind == TREE_EVENTS || kind == TREE_EVENT_DAY;
}

static bool is_clip_kind(enum tree_kind kind)
{
	return kind == TREE_CLIP || kind == TREE_DAY_MP4 || kind == TREE_EVENT_CLIP;
}

/* Quality of the media range that matches type/subtype most closely in an
 * Accept header, 0 when none does. */
static double accept_q(const char *accept, const char *type)
{
	size_t tlen = strcspn(type, "/");
	double q = 0;
	int best = 0;

	for (const char *p = accept; *p;) {
		size_t len, rlen;
		const char *param;
		double rq = 1;
		int spec = 0;

		p += strspn(p, " \t");
		len = strcspn(p, ",");
		param = memchr(p, ';', len);
		rlen = param ? (size_t)(param - p) : len;
		while (rlen && (p[rlen - 1] == ' ' || p[rlen - 1] == '\t'))
			rlen--;
		if (rlen == strlen(type) && strncasecmp(p, type, rlen) == 0)
			spec = 3;
		else if (rlen == tlen + 2 && strncasecmp(p, type, tlen + 1) == 0 && p[tlen + 1] == '*')
			spec = 2;
		else if (rlen == 3 && strncmp(p, "*/*", 3) == 0)
			spec = 1;
		for (const char *a = param; a && a < p + len; a = memchr(a + 1, ';', (size_t)(p + len - a - 1))) {
			const char *v = a + 1 + strspn(a + 1, " \t");

			if ((v[0] == 'q' || v[0] == 'Q') && v[1] == '=')
				rq = strtod(v + 2, NULL);
		}
		if (spec > best) {
			best = spec;
			q = rq;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return q;
}

bool http_prefers_html(const char *accept)
{
	return accept_q(accept, "text/html") > accept_q(accept, "application/json");
}

/* name as a URL path component: what is not plain percent-encoded. */
static void put_url_name(FILE *out, const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (isalnum(*p) || strchr("-._~+:", *p))
			fputc(*p, out);
		else
			fprintf(out, "%%%02X", *p);
}

static void put_html(FILE *out, const char *text)
{
	for (; *text; text++)
		switch (*text) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*text, out);
		}
}

/* The URL of tree path (a directory), "/cams/door/2026-12-05/". */
static void put_dir_url(FILE *out, const char *path)
{
	char name[URLPATH_MAX + 1];

	fputs("/cams/", out);
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, "/");

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		put_url_name(out, name);
		fputc('/', out);
		p += len + (p[len] == '/');
	}
}

/* A page a person can click through: the directory's entries, each a
 * link, with size and time. */
static int render_html(struct tree_job *j, uint64_t ino)
{
	struct tree_entry *v;
	char date[40];
	size_t n;
	FILE *out;
	int ret = tree_list(j->srv->tree, ino, &v, &n);

	if (ret < 0)
		return ret;
	if (!(out = open_memstream(&j->html_body, &j->html_len))) {
		free(v);
		return -ENOMEM;
	}
	fputs("<!doctype html>\n<meta charset=\"utf-8\">\n<title>/cams/", out);
	put_html(out, j->path);
	fputs(j->path[0] ? "/</title>\n<h1>/cams/" : "</title>\n<h1>/cams/", out);
	put_html(out, j->path);
	fputs(j->path[0] ? "/</h1>\n" : "</h1>\n", out);
	fputs("<table>\n<tr><th>Name<th>Size<th>Modified (UTC)\n", out);
	if (j->path[0]) {
		char *up = strdup(j->path), *slash = up ? strrchr(up, '/') : NULL;

		if (up) {
			*(slash ? slash : up) = '\0';
			fputs("<tr><td><a href=\"", out);
			put_dir_url(out, up);
			fputs("\">../</a><td><td>\n", out);
		}
		free(up);
	}
	for (size_t i = 0; i < n; i++) {
		bool dir = S_ISDIR(v[i].st.st_mode);

		fputs("<tr><td><a href=\"", out);
		put_dir_url(out, j->path);
		put_url_name(out, v[i].name);
		fputs(dir ? "/\">" : "\">", out);
		put_html(out, v[i].name);
		fputs(dir ? "/</a><td>" : "</a><td>", out);
		if (!dir)
			fprintf(out, "%lld", (long long)v[i].st.st_size);
		http_date(v[i].st.st_mtime, date);
		fprintf(out, "<td>%s\n", date);
	}
	fputs("</table>\n", out);
	free(v);
	return fclose(out) == 0 ? 0 : -ENOMEM;
}

/* Opens the directory's listing, .index.json: the same bytes as the mount's. */
static int open_listing(struct tree_job *j, uint64_t ino)
{
	struct tree *t = j->srv->tree;
	uint64_t listing;
	int ret = tree_lookup(t, ino, TREE_LISTING_NAME, &listing, NULL);

	if (ret < 0)
		return ret;
	ret = file_open(&j->file, t, listing, NULL, NULL);
	tree_forget(t, listing, 1);
	return ret;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* On a worker: walk, open, and what the response will say (a clip's
 * validator reads its header). */
static void tree_run(struct http_job *job)
{
	struct tree_job *j = (struct tree_job *)job;
	struct tree *t = j->srv->tree;
	struct tree_node_info info;
	uint64_t ino;

	j->ret = tree_walk(t, j->path, &ino, NULL);
	if (j->ret < 0)
		return;
	j->ret = tree_info(t, ino, &info);
	if (j->ret == 0 && is_dir_kind(info.kind))
		j->ret = j->html ? render_html(j, ino) : open_listing(j, ino);
	else if (j->ret == 0 && j->slash)
		j->ret = -ENOTDIR;
	else if (j->ret == 0 && info.kind == TREE_LIVE_MP4)
		j->ret = -ENOENT;   /* it has its own route */
	else if (j->ret == 0)
		j->ret = file_open(&j->file, t, ino, NULL, NULL);
	if (j->ret == 0 && j->file)
		j->ret = file_attr(j->file, &j->attr);
	if (j->ret == 0 && is_clip_kind(info.kind))
		http_walks_hold(j->srv->walks, j->path, ino, mono_us());
	else
		tree_walk_release(t, ino);
}

static void tree_job_free(struct tree_job *j)
{
	file_close(j->file);
	free(j->html_body);
	free(j);
}

static void close_file(void *owner)
{
	file_close(owner);
}

/* Whether If-Range lets the Range header apply: no If-Range, or the
 * validator of these very bytes (a strong ETag, or the exact date). */
static bool if_range_holds(const char *if_range, const char *etag, const char *date)
{
	return !if_range[0] || strcmp(if_range, etag) == 0 ||
	       (if_range[0] != '"' && strncmp(if_range, "W/", 2) != 0 && strcmp(if_range, date) == 0);
}

/* The answer for an open tree file: validators and caching from its
 * life, 304, a single range (206 or 416), then its bytes as its pieces. */
static void serve_file(struct http_conn *c, struct file *f, const struct file_attr *a)
{
	char date[40], range[96];
	int64_t start = 0, end = (int64_t)a->size;
	int r = 0;

	http_date(a->mtime, date);
	/* A fixed file's bytes never change under its name: any cache may
	 * keep them. The rest is asked again each time (the ETag makes it
	 * cheap). */
	http_add_header(c, "cache-control:", a->life != TREE_FIXED ? "no-cache" :
			c->srv->auth ? "private, max-age=31536000, immutable" :
			"max-age=31536000, immutable");
	http_add_header(c, "etag:", a->etag);
	http_add_header(c, "last-modified:", date);
	http_add_header(c, "accept-ranges:", "bytes");
	if (http_not_modified(c->req.if_none_match, c->req.if_modified_since, a->etag, a->mtime)) {
		file_close(f);
		http_respond(c, 304, NULL, (int64_t)a->size);
		return;
	}
	if (c->req.range[0] && if_range_holds(c->req.if_range, a->etag, date))
		r = http_range_parse(c->req.range, (int64_t)a->size, &start, &end);
	if (r < 0) {
		file_close(f);
		snprintf(range, sizeof(range), "bytes */%" PRIu64, a->size);
		http_add_header(c, "content-range:", range);
		http_error(c, 416, "416 Range not satisfiable\n");
		return;
	}
	if (r == 1) {
		snprintf(range, sizeof(range), "bytes %" PRId64 "-%" PRId64 "/%" PRIu64, start,
			 end - 1, a->size);
		http_add_header(c, "content-range:", range);
	}
	c->body.file = f;
	c->body.owner = f;
	c->body.release = close_file;
	c->body.pos = start;
	c->body.end = end;
	http_respond(c, r == 1 ? 206 : 200, a->type, end - start);
}

/* Back on the loop. */
static void tree_done(struct http_job *job)
{
	struct tree_job *j = (struct tree_job *)job;
	struct http_conn *c = j->base.conn;

	if (!c) {
		tree_job_free(j);
		return;
	}
	c->job = NULL;
	if (j->ret < 0) {
		int e = j->ret;

		http_error(c, e == -EINVAL ? 400 : e == -ENAMETOOLONG ? 414 :
			   e == -ENOMEM || e == -EMFILE || e == -ENFILE ? 503 :
			   e == -ENOENT || e == -ENOTDIR || e == -EISDIR ? 404 : 500,
			   e == -EINVAL ? "400 Bad path\n" : e == -ENAMETOOLONG ?
			   "414 Path too long\n" : e == -ENOMEM || e == -EMFILE || e == -ENFILE ?
			   "503 Out of resources\n" : e == -ENOENT || e == -ENOTDIR || e == -EISDIR ?
			   "404 Not found\n" : "500 Cannot read it\n");
		tree_job_free(j);
		return;
	}
	if (j->html_body) {
		c->body.mem = (const uint8_t *)j->html_body;
		c->body.owner = j->html_body;
		c->body.release = free;
		c->body.pos = 0;
		c->body.end = (off_t)j->html_len;
		j->html_body = NULL;
		http_add_header(c, "cache-control:", "no-cache");
		http_add_header(c, "vary:", "Accept");
		http_respond(c, 200, "text/html; charset=utf-8", c->body.end);
	} else {
		if (j->attr.kind == TREE_LISTING)
			http_add_header(c, "vary:", "Accept");
		serve_file(c, j->file, &j->attr);
		j->file = NULL;
	}
	tree_job_free(j);
}

void http_files_tree(struct http_conn *c)
{
	const struct urlpath *u = &c->req.path;
	struct tree_job *j = calloc(1, sizeof(*j));
	size_t o = 0;

	if (!j) {
		http_error(c, 503, "503 Out of memory\n");
		return;
	}
	j->srv = c->srv;
	for (int i = 1; i < u->n; i++)
		o += (size_t)snprintf(j->path + o, sizeof(j->path) - o, "%s%s", i > 1 ? "/" : "",
				      u->part[i]);
	j->slash = u->slash;
	j->html = http_prefers_html(c->req.accept);
	j->base.job.run = tree_run;
	j->base.job.done = tree_done;
	if (!http_submit(c, &j->base))
		tree_job_free(j);
}
