/* server.c - the HTTP export's event loop: the lws context and its one
 * protocol, request checks (limits, paths, origin, login), routing, the
 * writer of fixed-length responses, wakeups from other threads. */
#include "fs/http/server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config.h"
#include "fs/http/auth.h"
#include "fs/http/command.h"
#include "fs/http/feed.h"
#include "fs/http/files.h"
#include "fs/http/http_internal.h"
#include "fs/http/live.h"
#include "fs/http/push.h"
#include "fs/http/walks.h"
#include "fs/file.h"
#include "fs/tree.h"
#include "util/log.h"

#ifndef CAMFS_WEBVIEW_DIR
#define CAMFS_WEBVIEW_DIR "/usr/local/share/camfs/webview"
#endif

#define WORKERS 2
#define WORKER_QUEUE 32           /* waiting jobs; past it 503 */
#define HEADER_BYTES 8192         /* all of one request's headers */
#define RATE_SLOTS 256            /* client addresses remembered for the rate limit */
#define RATE_BURST 4              /* a burst may be this many seconds' worth */
#define TICK_US 1000000
#define H2_STREAMS 128            /* at once on one h2 connection */
#define BODY_WRITES 16            /* body pieces written in one turn at most */
#define HUP_CHECK_US 50000        /* answering connections polled at most this often */
#define TLS13_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define TLS12_SUITES "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
		     "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
		     "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* A token bucket per client address, least recently seen replaced first. */
struct rate_slot {
	char addr[48];
	double tokens;
	int64_t at_us;                /* last refill; 0: empty */
};

struct http_rate {
	struct rate_slot slot[RATE_SLOTS];
};

/* A login waiting for crypt_r on a worker. */
struct auth_job {
	struct http_conn_job base;
	char header[512];             /* the Authorization value, to remember it */
	char user[HTTP_AUTH_USER_MAX];
	char password[256];
	char hash[HTTP_AUTH_HASH_MAX];
	bool known, ok;
};

static struct http_server *sighup_server;   /* the one that takes SIGHUP */

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

int http_camera_index(const struct http_server *s, const char *name)
{
	for (int i = 0; i < s->cfg->n_cameras; i++)
		if (strcmp(s->cfg->cameras[i].name, name) == 0)
			return i;
	return -1;
}

/* ---- responses ---- */

void http_conn_busy(struct http_conn *c, enum http_conn_kind kind)
{
	struct http_server *s = c->srv;

	if (c->kind == CONN_IDLE) {
		c->busy_next = s->busy;
		c->busy_prev = NULL;
		if (s->busy)
			s->busy->busy_prev = c;
		s->busy = c;
		s->n_busy++;
	}
	c->kind = kind;
}

static void conn_idle(struct http_conn *c)
{
	struct http_server *s = c->srv;

	if (c->kind == CONN_IDLE)
		return;
	if (c->busy_prev)
		c->busy_prev->busy_next = c->busy_next;
	else
		s->busy = c->busy_next;
	if (c->busy_next)
		c->busy_next->busy_prev = c->busy_prev;
	c->busy_prev = c->busy_next = NULL;
	s->n_busy--;
	c->kind = CONN_IDLE;
}

void http_want_write(struct http_conn *c)
{
	if (!c->want_since_us)
		c->want_since_us = now_us();
	lws_callback_on_writable(c->wsi);
}

void http_signal(struct http_server *s)
{
	bool signal;

	pthread_mutex_lock(&s->wake_lock);
	signal = !s->wake_pending;
	s->wake_pending = true;
	pthread_mutex_unlock(&s->wake_lock);
	if (signal)
		lws_cancel_service(s->ctx);
}

void http_wake(struct http_conn *c)
{
	struct http_server *s = c->srv;
	bool signal;

	pthread_mutex_lock(&s->wake_lock);
	if (!c->in_woken) {
		c->in_woken = true;
		c->woken_next = s->woken;
		s->woken = c;
	}
	/* One wakeup of the loop per batch: a frame wakes every live reader. */
	signal = !s->wake_pending;
	s->wake_pending = true;
	pthread_mutex_unlock(&s->wake_lock);
	if (signal)
		lws_cancel_service(s->ctx);
}

bool http_submit(struct http_conn *c, struct http_conn_job *job)
{
	job->conn = c;
	if (http_pool_submit(c->srv->pool, &job->job) < 0) {
		job->conn = NULL;
		http_add_header(c, "retry-after:", "1");
		http_error(c, 503, "503 Busy: try again\n");
		return false;
	}
	c->job = job;
	http_conn_busy(c, CONN_WAIT);
	return true;
}

static void unwake(struct http_conn *c)
{
	struct http_server *s = c->srv;

	pthread_mutex_lock(&s->wake_lock);
	if (c->in_woken) {
		for (struct http_conn **p = &s->woken; *p; p = &(*p)->woken_next)
			if (*p == c) {
				*p = c->woken_next;
				break;
			}
		c->in_woken = false;
	}
	pthread_mutex_unlock(&s->wake_lock);
}

void http_respond(struct http_conn *c, unsigned status, const char *type, int64_t length)
{
	c->status = status;
	c->type = type;
	c->length = length;
	c->head_sent = false;
	c->no_body = c->req.head || status == 304 || length == 0;
	if (c->kind == CONN_IDLE || c->kind == CONN_WAIT)
		http_conn_busy(c, CONN_REPLY);
	http_want_write(c);
}

void http_add_header(struct http_conn *c, const char *name, const char *value)
{
	size_t n = strlen(name) + 1, v = strlen(value) + 1;

	if (c->extra_len + n + v > sizeof(c->extra)) {
		log_warning("http", "response headers do not fit: %s dropped", name);
		return;
	}
	memcpy(c->extra + c->extra_len, name, n);
	memcpy(c->extra + c->extra_len + n, value, v);
	c->extra_len += n + v;
}

static void body_release(struct http_body *b)
{
	if (b->release)
		b->release(b->owner);
	b->release = NULL;
	b->owner = NULL;
	b->file = NULL;
	b->mem = NULL;
	b->fd = -1;
	b->pos = b->end = 0;
}

void http_error(struct http_conn *c, unsigned status, const char *text)
{
	body_release(&c->body);
	c->body.mem = (const uint8_t *)text;
	c->body.pos = 0;
	c->body.end = (off_t)strlen(text);
	http_respond(c, status, "text/plain; charset=utf-8", c->body.end);
}

unsigned char *http_buffer(struct http_conn *c)
{
	if (!c->buf)
		c->buf = malloc(HTTP_BUF_SIZE);
	return c->buf;
}

/* Headers every response carries. */
int http_common_headers(struct http_conn *c, unsigned char **p, unsigned char *end)
{
	struct lws *wsi = c->wsi;
	const struct config *cfg = c->srv->cfg;

	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
					(const unsigned char *)"nosniff", 7, p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"referrer-policy:",
					(const unsigned char *)"same-origin", 11, p, end))
		return -1;
	if (cfg->http_cors && strcmp(c->req.origin, cfg->http_cors) == 0) {
		static const char expose[] = "Content-Length, Content-Range, ETag";

		if (lws_add_http_header_by_name(wsi, (const unsigned char *)
						"access-control-allow-origin:",
						(const unsigned char *)cfg->http_cors,
						(int)strlen(cfg->http_cors), p, end) ||
		    lws_add_http_header_by_name(wsi, (const unsigned char *)
						"access-control-allow-credentials:",
						(const unsigned char *)"true", 4, p, end) ||
		    lws_add_http_header_by_name(wsi, (const unsigned char *)
						"access-control-expose-headers:",
						(const unsigned char *)expose, sizeof(expose) - 1,
						p, end))
			return -1;
	}
	if (cfg->http_cors &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"vary:",
					(const unsigned char *)"Origin", 6, p, end))
		return -1;
	if (c->req.new_session && c->srv->auth) {
		char cookie[256];

		if (http_auth_cookie(c->srv->auth, c->req.user, time(NULL), c->req.tls, cookie,
				     sizeof(cookie)) == 0 &&
		    lws_add_http_header_by_name(wsi, (const unsigned char *)"set-cookie:",
						(const unsigned char *)cookie, (int)strlen(cookie),
						p, end))
			return -1;
	}
	return 0;
}

/* The request line said HTTP/1.1 (as lws reads it for keep-alive). */
static bool is_http11(struct lws *wsi)
{
	char v[10];

	return lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_HTTP) >= 8 && strcmp(v, "HTTP/1.1") == 0;
}

int http_write_head(struct http_conn *c, bool *done)
{
	unsigned char head[LWS_PRE + 2048], *start = head + LWS_PRE, *p = start,
		*end = head + sizeof(head) - 1;
	struct lws *wsi = c->wsi;
	int flags = LWS_WRITE_HTTP_HEADERS;

	*done = false;
	if (c->head_sent)
		return 0;
	/* lws marks a body without a length "connection: close"; an endless
	 * HTTP/1.1 body goes in chunks instead, so that its end (a codec
	 * change) is told apart from a failure and the connection lives on. */
	c->chunked = c->length < 0 && !c->no_body && lws_get_network_wsi(wsi) == wsi &&
		     is_http11(wsi);
	if (c->chunked) {
		if (lws_add_http_header_status(wsi, c->status, &p, end) ||
		    (c->type && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
							    (const unsigned char *)c->type,
							    (int)strlen(c->type), &p, end)) ||
		    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING,
						 (const unsigned char *)"chunked", 7, &p, end))
			return -1;
	} else if (lws_add_http_common_headers(wsi, c->status, c->type,
					       c->length < 0 ? LWS_ILLEGAL_HTTP_CONTENT_LEN :
					       (lws_filepos_t)c->length, &p, end)) {
		return -1;
	}
	if (http_common_headers(c, &p, end))
		return -1;
	for (size_t i = 0; i < c->extra_len;) {
		const char *name = c->extra + i, *value = name + strlen(name) + 1;

		if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
						(const unsigned char *)value, (int)strlen(value),
						&p, end))
			return -1;
		i += strlen(name) + strlen(value) + 2;
	}
	if (lws_finalize_http_header(wsi, &p, end))
		return -1;
	if (c->no_body)
		flags |= LWS_WRITE_H2_STREAM_END;
	if (lws_write(wsi, start, lws_ptr_diff(p, start), flags) < 0)
		return -1;
	c->head_sent = true;
	*done = c->no_body;
	return 0;
}

int http_endless_head(struct http_conn *c)
{
	bool done;

	if (c->head_sent)
		return 0;
	if (http_write_head(c, &done) < 0 || done)
		return -1;
	/* lws's own body timeout would cut the stream (h1: timeout_secs after
	 * the head; h2: the stream's); the stall scan watches it instead. */
	if (lws_get_network_wsi(c->wsi) != c->wsi) {
		lws_http_mark_sse(c->wsi);
	} else {
		int size = HTTP_ENDLESS_SNDBUF;

		lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
		/* Autotuning would let the kernel queue up to 4 MB for a client
		 * that does not read: bounded, it falls behind in a second and
		 * the hub skips it forward, as it would a FUSE reader. */
		setsockopt(lws_get_socket_fd(c->wsi), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	return 0;
}

/* The request is answered: ready for the next on this connection. */
static void conn_reset(struct http_conn *c)
{
	body_release(&c->body);
	if (c->live)
		http_live_end(c);
	if (c->kind == CONN_EVENTS)
		http_feed_end(c);
	if (c->job) {
		/* The worker still has it: its done() only frees it. */
		c->job->conn = NULL;
		c->job = NULL;
	}
	conn_idle(c);
	c->extra_len = 0;
	c->head_sent = false;
	c->chunked = false;
	c->want_since_us = 0;
	c->armed_us = 0;
}

static int finish(struct http_conn *c)
{
	conn_reset(c);
	return lws_http_transaction_completed(c->wsi) ? -1 : 0;
}

unsigned char *http_endless_buffer(struct http_conn *c, size_t *max)
{
	unsigned char *buf = http_buffer(c);

	if (lws_get_network_wsi(c->wsi) != c->wsi)
		*max = HTTP_CHUNK;   /* h2 */
	else
		*max = c->chunked ? HTTP_H1_CHUNK - HTTP_CHUNK_FRAMING : HTTP_H1_CHUNK;
	return buf ? buf + LWS_PRE + (c->chunked ? HTTP_CHUNK_HEAD : 0) : NULL;
}

/* Over TLS a write of more than one record (HTTP_CHUNK, a record's most
 * bytes) is a send per record; corked, they leave as one segment and wake
 * the reader once (measured: 7 % less CPU per HTTP/1.1 TLS live client,
 * for two more syscalls). */
static int write_corked(struct lws *wsi, unsigned char *data, size_t n)
{
	int fd = lws_get_socket_fd(wsi), on = 1, off = 0, r;

	setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
	r = lws_write(wsi, data, n, LWS_WRITE_HTTP);
	setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
	return r < (int)n ? -1 : 0;
}

int http_write_endless(struct http_conn *c, size_t n)
{
	unsigned char *data = c->buf + LWS_PRE;

	if (n == 0)
		return 0;   /* a chunk of 0 bytes would be the body's last */
	if (c->chunked) {
		static const char hex[] = "0123456789abcdef";

		/* Four hex digits, leading zeros kept (n < 0x8000): the head is
		 * always one size, and a chunk size may have them. */
		for (int i = 0; i < 4; i++)
			data[i] = (unsigned char)hex[(n >> (12 - 4 * i)) & 0xf];
		memcpy(data + 4, "\r\n", 2);
		memcpy(data + HTTP_CHUNK_HEAD + n, "\r\n", 2);
		n += HTTP_CHUNK_FRAMING;
	}
	if (n > HTTP_CHUNK && lws_is_ssl(c->wsi))
		return write_corked(c->wsi, data, n);
	return lws_write(c->wsi, data, n, LWS_WRITE_HTTP) < (int)n ? -1 : 0;
}

int http_end_endless(struct http_conn *c)
{
	unsigned char *buf = http_buffer(c);
	static const char last[] = "0\r\n\r\n";

	if (!buf)
		return -1;
	if (c->chunked) {
		memcpy(buf + LWS_PRE, last, sizeof(last) - 1);
		if (lws_write(c->wsi, buf + LWS_PRE, sizeof(last) - 1, LWS_WRITE_HTTP) <
		    (int)sizeof(last) - 1)
			return -1;
		return finish(c);
	}
	if (lws_get_network_wsi(c->wsi) == c->wsi)
		return -1;   /* HTTP/1.0: closing ends the body */
	lws_write(c->wsi, buf + LWS_PRE, 0, LWS_WRITE_HTTP_FINAL);
	return lws_http_transaction_completed(c->wsi) ? -1 : 0;
}

/* The body's next bytes at b->pos, at most max: memory, or a range of an
 * fd (a tree file's pieces: a clip's header, then its segments' ranges).
 * False when a tree file has none there. */
static bool body_piece(struct http_body *b, size_t max, struct file_piece *p)
{
	size_t n = (size_t)(b->end - b->pos) < max ? (size_t)(b->end - b->pos) : max;

	if (b->file)
		return file_pieces(b->file, (uint64_t)b->pos, n, p, 1) > 0;
	*p = (struct file_piece){
		.data = b->mem ? b->mem + b->pos : NULL, .fd = b->fd, .pos = (uint64_t)b->pos,
		.len = n,
	};
	return true;
}

/* Writes one piece of the body: up to HTTP_CHUNK copied through the
 * connection's buffer, or, on plain HTTP/1.1 (kernel), a range of a file
 * sent by the kernel. 1 when the socket took all it was given, 0 when it
 * is full, -1 to close. */
static int send_piece(struct http_conn *c, bool kernel, struct file_piece p)
{
	struct http_body *b = &c->body;
	struct lws *wsi = c->wsi;
	unsigned char *buf;
	size_t n;

	if (!p.data && kernel) {
		/* Only bytes of the body follow a head on h1: no framing. */
		off_t pos = (off_t)p.pos;
		ssize_t sent = sendfile(lws_get_socket_fd(wsi), p.fd, &pos, p.len);

		if (sent < 0 && errno == EAGAIN)
			return 0;
		if (sent <= 0)
			return -1;
		b->pos += sent;
		return (size_t)sent == p.len;
	}
	if (!(buf = http_buffer(c)))
		return -1;
	n = p.len < HTTP_CHUNK ? p.len : HTTP_CHUNK;
	if (p.data) {
		memcpy(buf + LWS_PRE, p.data, n);
	} else {
		ssize_t r = pread(p.fd, buf + LWS_PRE, n, (off_t)p.pos);

		if (r <= 0) {
			/* The file shrank under us: the length promised cannot be kept. */
			log_warning("http", "%s: read: %s", c->req.peer,
				    r < 0 ? strerror(errno) : "file ended early");
			return -1;
		}
		n = (size_t)r;
	}
	b->pos += (off_t)n;
	if (lws_write(wsi, buf + LWS_PRE, n, b->pos == b->end ? LWS_WRITE_HTTP_FINAL :
		      LWS_WRITE_HTTP) < (int)n)
		return -1;
	return 1;
}

/* Writes the body's next piece (send_piece), its fd held meanwhile. */
static int write_piece(struct http_conn *c, bool kernel)
{
	struct http_body *b = &c->body;
	struct file_piece p;
	int ret;

	if (!body_piece(b, kernel ? (1 << 20) : HTTP_CHUNK, &p)) {
		log_warning("http", "%s: a file ended before its length", c->req.peer);
		return -1;
	}
	/* A clip's segment is opened for the piece (within the fd bound). */
	if (b->file && (ret = file_pieces_hold(b->file, &p, 1)) < 0) {
		log_warning("http", "%s: %s", c->req.peer, strerror(-ret));
		return -1;
	}
	ret = send_piece(c, kernel, p);
	if (b->file)
		file_pieces_release(b->file, &p, 1);
	return ret;
}

/* How often a body's lws timeout is set again: every few seconds, and
 * well within http_stall_seconds, which it is set to. */
static int64_t rearm_us(const struct http_server *s)
{
	int64_t half = s->cfg->http_stall_seconds * 1000000LL / 2;

	return half < HTTP_REARM_US ? half : HTTP_REARM_US;
}

/* Writes the body on while the socket takes it, up to BODY_WRITES pieces
 * a turn of the loop (one piece a turn was a poll per 16 KiB). */
static int write_body(struct http_conn *c)
{
	struct lws *wsi = c->wsi;
	bool h2 = lws_get_network_wsi(wsi) != wsi, kernel = !c->req.tls && !h2;
	int64_t now = now_us();
	int ret = 1;

	/* lws may cut a body still going timeout_secs after its request (it
	 * cut endless ones; 15 s file bodies were measured uncut on 4.1.6):
	 * set again every few seconds (not at each write: that costs), it
	 * closes only a client that stopped reading. */
	if (now - c->armed_us >= rearm_us(c->srv)) {
		lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, c->srv->cfg->http_stall_seconds);
		c->armed_us = now;
	}
	for (int k = 0; ret == 1 && c->body.pos < c->body.end; k++) {
		/* A write more only where it cannot block or buffer: the
		 * socket has room, and an h2 stream the peer's credit. */
		if (k > 0 && (k == BODY_WRITES || lws_send_pipe_choked(wsi) ||
			      (h2 && lws_get_peer_write_allowance(wsi) < HTTP_CHUNK)))
			break;
		ret = write_piece(c, kernel);
	}
	if (ret < 0)
		return -1;
	if (c->body.pos == c->body.end)
		return finish(c);
	http_want_write(c);
	return 0;
}

static int on_writeable(struct http_conn *c)
{
	bool done;

	c->want_since_us = 0;
	switch (c->kind) {
	case CONN_REPLY:
		if (http_write_head(c, &done) < 0)
			return -1;
		if (done)
			return finish(c);
		if (!c->head_sent)
			return 0;
		return write_body(c);
	case CONN_LIVE:
	case CONN_MJPEG:
		return http_live_writeable(c);
	case CONN_EVENTS:
		return http_feed_writeable(c);
	default:
		return 0;
	}
}

/* ---- requests ---- */

static void copy_header(struct lws *wsi, enum lws_token_indexes t, char *out, size_t size)
{
	out[0] = '\0';
	if (lws_hdr_total_length(wsi, t) >= (int)size || lws_hdr_copy(wsi, out, (int)size, t) < 0)
		out[0] = '\0';   /* too long to be one we answer to */
}

static bool addr_is_loopback(const char *addr)
{
	struct in6_addr a6;

	if (strncmp(addr, "127.", 4) == 0 || strncmp(addr, "::ffff:127.", 11) == 0)
		return true;
	return inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* True if the client at addr may make one more request now. */
static bool rate_ok(struct http_server *s, const char *addr)
{
	struct rate_slot *slot = NULL, *oldest = &s->rate->slot[0];
	double rate = s->cfg->http_rate, burst = rate * RATE_BURST;
	int64_t now = now_us();

	if (s->cfg->http_rate == 0)
		return true;
	for (int i = 0; i < RATE_SLOTS && !slot; i++) {
		struct rate_slot *r = &s->rate->slot[i];

		if (r->at_us && strcmp(r->addr, addr) == 0)
			slot = r;
		else if (r->at_us < oldest->at_us)
			oldest = r;
	}
	if (!slot) {
		slot = oldest;
		snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
		slot->tokens = burst;
		slot->at_us = now;
	}
	slot->tokens += (double)(now - slot->at_us) * rate / 1e6;
	if (slot->tokens > burst)
		slot->tokens = burst;
	slot->at_us = now;
	if (slot->tokens < 1)
		return false;
	slot->tokens -= 1;
	return true;
}

/* "scheme://host[:port]" of the request's own site matches origin. */
static bool same_origin(struct lws *wsi, const char *origin)
{
	char host[160];
	const char *o = strstr(origin, "://");

	copy_header(wsi, WSI_TOKEN_HOST, host, sizeof(host));
	if (!host[0])
		copy_header(wsi, WSI_TOKEN_HTTP_COLON_AUTHORITY, host, sizeof(host));
	return o && host[0] && strcasecmp(o + 3, host) == 0;
}

/* A browser's request from another site may not change state or open a
 * WebSocket (which a page of any site could otherwise do with our cookie). */
static bool origin_allowed(struct http_server *s, struct lws *wsi, const char *origin)
{
	return !origin[0] || same_origin(wsi, origin) ||
		(s->cfg->http_cors && strcmp(origin, s->cfg->http_cors) == 0);
}

static void route(struct http_conn *c)
{
	const struct urlpath *u = &c->req.path;

	if (c->req.post) {
		http_command_route(c);
		return;
	}
	if (u->n >= 1 && strcmp(u->part[0], "cams") == 0) {
		int cam = u->n == 3 ? http_camera_index(c->srv, u->part[1]) : -1;

		if (cam >= 0 && strcmp(u->part[2], "live.mp4") == 0)
			http_live_start(c, cam, false);
		else if (cam >= 0 && strcmp(u->part[2], "live.mjpeg") == 0)
			http_live_start(c, cam, true);
		else
			http_files_tree(c);
	} else if (u->n == 1 && strcmp(u->part[0], "events") == 0) {
		http_feed_start(c);
	} else if (u->n >= 1 && strcmp(u->part[0], "ws") == 0) {
		http_add_header(c, "upgrade:", "websocket");
		http_error(c, 426, "426 WebSocket only\n");
	} else {
		http_files_viewer(c);
	}
}

static void auth_done(struct http_job *job);

static void auth_run(struct http_job *job)
{
	struct auth_job *a = (struct auth_job *)job;

	a->ok = http_auth_verify(a->password, a->hash) && a->known;
	explicit_bzero(a->password, sizeof(a->password));
}

static void auth_free(struct auth_job *a)
{
	explicit_bzero(a, sizeof(*a));
	free(a);
}

static void unauthorized(struct http_conn *c)
{
	http_add_header(c, "www-authenticate:", "Basic realm=\"camfs\", charset=\"UTF-8\"");
	http_error(c, 401, "401 Log in to watch\n");
}

/* Back on the loop from crypt_r. */
static void auth_done(struct http_job *job)
{
	struct auth_job *a = (struct auth_job *)job;
	struct http_conn *c = a->base.conn;

	if (!c) {
		auth_free(a);
		return;
	}
	c->job = NULL;
	if (!a->ok) {
		/* The user, never the password. */
		log_warning("http", "%s: %s \"%s\"", c->req.peer,
			    a->known ? "wrong password for user" : "unknown user", a->user);
		unauthorized(c);
	} else {
		http_auth_remember(c->srv->auth, a->header, a->user, time(NULL));
		snprintf(c->req.user, sizeof(c->req.user), "%s", a->user);
		c->req.new_session = true;
		route(c);
	}
	auth_free(a);
}

/* Who is asking: 0 to go on (maybe after a worker checked a password:
 * then c is CONN_WAIT and route() runs later), or an answer was given. */
static int authenticate(struct http_conn *c)
{
	struct http_server *s = c->srv;
	char header[512], cookie[1024];
	struct auth_job *a;

	if (!s->auth)
		return 0;
	copy_header(c->wsi, WSI_TOKEN_HTTP_COOKIE, cookie, sizeof(cookie));
	if (cookie[0] && http_auth_check_cookie(s->auth, cookie, time(NULL), c->req.user) == 0)
		return 0;
	copy_header(c->wsi, WSI_TOKEN_HTTP_AUTHORIZATION, header, sizeof(header));
	if (!header[0]) {
		unauthorized(c);
		return 1;
	}
	if (!c->req.tls && !c->req.loopback) {
		/* A password in the clear over the network: never looked at. */
		explicit_bzero(header, sizeof(header));
		http_error(c, 403, "403 Log in over HTTPS: this connection would show the "
			   "password to the network\n");
		return 1;
	}
	if (http_auth_cached(s->auth, header, time(NULL), c->req.user)) {
		explicit_bzero(header, sizeof(header));
		c->req.new_session = true;   /* a password, not a cookie: offer one */
		return 0;
	}
	if (!(a = calloc(1, sizeof(*a)))) {
		http_error(c, 503, "503 Out of memory\n");
		return 1;
	}
	if (http_auth_parse_basic(header, a->user, a->password, sizeof(a->password)) < 0) {
		explicit_bzero(header, sizeof(header));
		auth_free(a);
		unauthorized(c);
		return 1;
	}
	a->known = http_auth_user_hash(s->auth, a->user, a->hash) == 0;
	memcpy(a->header, header, sizeof(a->header));
	explicit_bzero(header, sizeof(header));
	a->base.job.run = auth_run;
	a->base.job.done = auth_done;
	if (!http_submit(c, &a->base))
		auth_free(a);
	return 1;
}

/* The method as a name: h2's :method, or h1's request line. */
static const char *method_of(struct lws *wsi, char *buf, size_t size)
{
	static const struct { enum lws_token_indexes t; const char *name; } h1[] = {
		{ WSI_TOKEN_GET_URI, "GET" }, { WSI_TOKEN_HEAD_URI, "HEAD" },
		{ WSI_TOKEN_POST_URI, "POST" }, { WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
		{ WSI_TOKEN_PUT_URI, "PUT" }, { WSI_TOKEN_PATCH_URI, "PATCH" },
		{ WSI_TOKEN_DELETE_URI, "DELETE" },
	};

	copy_header(wsi, WSI_TOKEN_HTTP_COLON_METHOD, buf, size);
	if (buf[0])
		return buf;
	for (size_t i = 0; i < sizeof(h1) / sizeof(h1[0]); i++)
		if (lws_hdr_total_length(wsi, h1[i].t))
			return h1[i].name;
	return "";
}

/* Fills c->req from the request; the checks every request passes. 0: go on
 * to routing; 1: answered. */
static int take_request(struct http_conn *c, const char *uri, size_t len)
{
	struct http_server *s = c->srv;
	struct http_request *r = &c->req;
	struct lws *wsi = c->wsi;
	char method_buf[16];
	const char *method = method_of(wsi, method_buf, sizeof(method_buf));
	int ret;

	memset(r, 0, sizeof(*r));
	r->tls = lws_is_ssl(wsi);
	r->head = strcmp(method, "HEAD") == 0;
	lws_get_peer_simple(wsi, r->peer, sizeof(r->peer));
	r->loopback = addr_is_loopback(r->peer);
	copy_header(wsi, WSI_TOKEN_ORIGIN, r->origin, sizeof(r->origin));
	if (s->n_busy >= s->cfg->http_max_clients) {
		http_add_header(c, "retry-after:", "5");
		http_error(c, 503, "503 Too many clients\n");
		return 1;
	}
	if (!rate_ok(s, r->peer)) {
		http_add_header(c, "retry-after:", "1");
		http_error(c, 429, "429 Too many requests\n");
		return 1;
	}
	ret = urlpath_parse(&r->path, uri, len);
	if (ret < 0) {
		http_error(c, ret == -ENAMETOOLONG ? 414 : ret == -EINVAL ? 400 : 404,
			   ret == -ENAMETOOLONG ? "414 Path too long\n" : ret == -EINVAL ?
			   "400 Bad path\n" : "404 Not found\n");
		return 1;
	}
	if (strcmp(method, "GET") != 0 && !r->head) {
		if (!origin_allowed(s, wsi, r->origin)) {
			http_error(c, 403, "403 Not from this site\n");
			return 1;
		}
		if (strcmp(method, "POST") == 0 && http_command_path(c)) {
			/* lws copies "confirm=VALUE" here; value points past the name. */
			char confirm[32], length[32];
			const char *value;

			/* A command changes a camera: only who logs in, or
			 * this machine when nobody needs to. */
			if (!s->auth && !r->loopback) {
				http_error(c, 403, "403 Commands need http_users\n");
				return 1;
			}
			copy_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, length, sizeof(length));
			if (!length[0]) {
				http_error(c, 411, "411 Send the command with a Content-Length\n");
				return 1;
			}
			r->post = true;
			/* No body: no body callbacks either. */
			r->command_done = strcmp(length, "0") == 0;
			value = lws_get_urlarg_by_name(wsi, "confirm=", confirm, sizeof(confirm));
			r->confirm_reset = value && strcmp(value, "reset") == 0;
			return authenticate(c);
		}
		if (strcmp(method, "OPTIONS") == 0 && s->cfg->http_cors &&
		    strcmp(r->origin, s->cfg->http_cors) == 0) {
			http_add_header(c, "access-control-allow-methods:", "GET, HEAD");
			http_add_header(c, "access-control-allow-headers:", "Range, Authorization");
			http_add_header(c, "access-control-max-age:", "600");
			http_respond(c, 204, NULL, 0);
			return 1;
		}
		http_add_header(c, "allow:", "GET, HEAD");
		http_error(c, 405, "405 Read only: GET and HEAD\n");
		return 1;
	}
	copy_header(wsi, WSI_TOKEN_HTTP_RANGE, r->range, sizeof(r->range));
	copy_header(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH, r->if_none_match, sizeof(r->if_none_match));
	copy_header(wsi, WSI_TOKEN_HTTP_IF_MODIFIED_SINCE, r->if_modified_since,
		    sizeof(r->if_modified_since));
	copy_header(wsi, WSI_TOKEN_HTTP_IF_RANGE, r->if_range, sizeof(r->if_range));
	copy_header(wsi, WSI_TOKEN_HTTP_ACCEPT, r->accept, sizeof(r->accept));
	{
		/* lws leaves "fps=N" in the buffer and points past the name. */
		char arg[sizeof(r->query_fps) + 4];
		const char *fps = lws_get_urlarg_by_name(wsi, "fps=", arg, sizeof(arg));

		snprintf(r->query_fps, sizeof(r->query_fps), "%s", fps ? fps : "");
	}
	return authenticate(c);
}

static int on_http(struct http_conn *c, const char *uri, size_t len)
{
	conn_reset(c);
	if (take_request(c, uri, len) == 0)
		route(c);
	return 0;
}

/* A WebSocket request's path, without its query (h1 or h2). */
static void ws_path(struct lws *wsi, char *uri, size_t size)
{
	copy_header(wsi, WSI_TOKEN_GET_URI, uri, size);
	if (!uri[0])
		copy_header(wsi, WSI_TOKEN_HTTP_COLON_PATH, uri, size);
	uri[strcspn(uri, "?")] = '\0';
}

/* A WebSocket upgrade: the path, the origin, the login, the limits. 0 to
 * accept. */
static int filter_ws(struct http_server *s, struct lws *wsi)
{
	char uri[64], origin[160], peer[48];

	ws_path(wsi, uri, sizeof(uri));
	copy_header(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	if ((strcmp(uri, "/ws/live") != 0 && http_push_camera(s, uri) < 0) ||
	    !origin_allowed(s, wsi, origin) || s->n_busy >= s->cfg->http_max_clients ||
	    !rate_ok(s, peer))
		return 1;
	/* A browser camera proves itself with its token, its first message. */
	if (s->auth && strcmp(uri, "/ws/live") == 0) {
		char cookie[1024], header[512], user[HTTP_AUTH_USER_MAX];
		bool ok;

		/* Only a session cookie or a remembered login: a WebSocket
		 * handshake cannot wait for crypt_r. */
		copy_header(wsi, WSI_TOKEN_HTTP_COOKIE, cookie, sizeof(cookie));
		copy_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, header, sizeof(header));
		ok = (cookie[0] && http_auth_check_cookie(s->auth, cookie, time(NULL), user) == 0) ||
			(header[0] && (lws_is_ssl(wsi) || addr_is_loopback(peer)) &&
			 http_auth_cached(s->auth, header, time(NULL), user));
		explicit_bzero(header, sizeof(header));
		if (!ok)
			return 1;
	}
	return 0;
}

/* ---- the loop ---- */

/* Jobs back from the workers, conns woken by camera threads, SIGHUP. */
static void on_cancelled(struct http_server *s)
{
	struct http_conn *woken;
	struct http_job *job;

	while ((job = http_pool_done(s->pool)))
		job->done(job);
	/* Under the lock: a camera thread may push a conn again at once. */
	pthread_mutex_lock(&s->wake_lock);
	woken = s->woken;
	s->woken = NULL;
	s->wake_pending = false;
	for (struct http_conn *c = woken, *next; c; c = next) {
		next = c->woken_next;
		c->in_woken = false;
		http_want_write(c);
	}
	pthread_mutex_unlock(&s->wake_lock);
	http_live_service(s->live);
	if (atomic_exchange(&s->reload, false)) {
		if (s->tls) {
			SSL_CTX *check = SSL_CTX_new(TLS_server_method());
			bool ok = check &&
				SSL_CTX_use_certificate_chain_file(check, s->cfg->http_tls_cert) == 1 &&
				SSL_CTX_use_PrivateKey_file(check, s->cfg->http_tls_key,
							    SSL_FILETYPE_PEM) == 1 &&
				SSL_CTX_check_private_key(check) == 1;

			SSL_CTX_free(check);
			ERR_clear_error();
			if (ok && lws_tls_cert_updated(s->ctx, s->cfg->http_tls_cert,
						       s->cfg->http_tls_key, NULL, 0, NULL, 0) == 0)
				log_notice("http", "SIGHUP: TLS certificate %s read again",
					   s->cfg->http_tls_cert);
			else
				log_error("http", "SIGHUP: %s or %s is not a usable certificate "
					  "and key: the old ones stay", s->cfg->http_tls_cert,
					  s->cfg->http_tls_key);
		}
		if (s->auth)
			http_auth_reload(s->auth);
	}
}

/* Once a second: close stalled connections, let the feed look for news. */
static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct http_server *s = lws_container_of(sul, struct http_server, tick);
	int64_t now = now_us();

	for (struct http_conn *c = s->busy; c; c = c->busy_next)
		if (c->kind == CONN_WS_PUSH)
			http_push_tick(c, now);
		else if (c->want_since_us &&
			 now - c->want_since_us > s->cfg->http_stall_seconds * 1000000LL) {
			log_info("http", "%s: not reading for %d s: closed", c->req.peer,
				 s->cfg->http_stall_seconds);
			c->want_since_us = 0;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		}
	http_feed_tick(s->feed);
	http_walks_expire(s->walks, now);
	lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, TICK_US);
}

/* lws 4.1 does not read an HTTP/1.1 connection while it answers, yet polls
 * it for input: a peer that closed or sent more made the loop spin at 100 %
 * until the answer ended, for live.mp4 never (docs/http.md). Nothing may
 * come on it once the head is out, so a readable one is over: closed. At
 * most every HUP_CHECK_US, after the loop's turns: nothing when idle. */
static void close_hung_up(struct http_server *s)
{
	enum { BATCH = 64 };
	struct pollfd fds[BATCH];
	struct http_conn *conns[BATCH];
	struct http_conn *c = s->busy;
	int64_t now = now_us();

	if (now - s->hup_checked_us < HUP_CHECK_US)
		return;
	s->hup_checked_us = now;
	while (c) {
		nfds_t n = 0;

		for (; c && n < BATCH; c = c->busy_next) {
			/* Not yet answering (a body may come), or read by lws. */
			if (!c->head_sent || c->kind == CONN_WS_LIVE || c->kind == CONN_WS_PUSH ||
			    lws_get_network_wsi(c->wsi) != c->wsi)
				continue;
			fds[n] = (struct pollfd){ lws_get_socket_fd(c->wsi), POLLIN | POLLRDHUP, 0 };
			conns[n++] = c;
		}
		if (n == 0 || poll(fds, n, 0) <= 0)
			continue;
		for (nfds_t i = 0; i < n; i++)
			if (fds[i].revents) {
				log_info("http", "%s: closed, or sent more, during an answer: closed",
					 conns[i]->req.peer);
				lws_set_timeout(conns[i]->wsi, PENDING_TIMEOUT_USER_OK,
						LWS_TO_KILL_ASYNC);
			}
	}
}

/* A WebSocket is up: the live view's, or a browser camera's. */
static int established(struct http_conn *c)
{
	char uri[64];
	int cam;

	ws_path(c->wsi, uri, sizeof(uri));
	cam = http_push_camera(c->srv, uri);
	return cam >= 0 ? http_push_open(c, cam) : http_live_ws_open(c);
}

static void conn_closed(struct http_conn *c)
{
	if (!c->srv)
		return;
	http_push_closed(c);
	conn_reset(c);
	unwake(c);
	free(c->buf);
	c->buf = NULL;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct lws_context *ctx = lws_get_context(wsi);
	struct http_server *s = ctx ? lws_context_user(ctx) : NULL;
	struct http_conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (s)
			on_cancelled(s);
		return 0;
	case LWS_CALLBACK_HTTP_BIND_PROTOCOL:
	case LWS_CALLBACK_ESTABLISHED:
		if (c && !c->srv) {
			c->srv = s;
			c->wsi = wsi;
			c->body.fd = -1;
			s->n_conns++;
		}
		if (reason == LWS_CALLBACK_ESTABLISHED && c)
			return established(c);
		return 0;
	case LWS_CALLBACK_HTTP:
		return on_http(c, in, len);
	case LWS_CALLBACK_HTTP_BODY:
		/* Only a command takes a body; anything else was answered 405. */
		if (c && c->srv && c->req.post)
			http_command_body(c, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (c && c->srv && c->req.post)
			http_command_body_done(c);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return c && c->srv ? on_writeable(c) : 0;
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		return finish(c);
	case LWS_CALLBACK_TIMER:
		return c && c->live ? http_live_timer(c) : 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return filter_ws(s, wsi);
	case LWS_CALLBACK_RECEIVE:
		if (c && c->kind == CONN_WS_PUSH)
			return http_push_receive(c, in, len);
		return http_live_ws_receive(c, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		c->want_since_us = 0;
		if (c->kind == CONN_WS_PUSH)
			return http_push_writeable(c);
		return http_live_ws_writeable(c);
	case LWS_CALLBACK_RAW_ADOPT:
		/* lws falls back to a raw socket on a request it cannot parse
		 * (two methods, say): nothing of ours speaks raw. */
		return -1;
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_RAW_CLOSE:
	case LWS_CALLBACK_RAW_SKT_DROP_PROTOCOL:
		if (c && c->srv) {
			conn_closed(c);
			c->srv->n_conns--;
			c->srv = NULL;
		}
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{
		.name = "camfs",
		.callback = callback,
		.per_session_data_size = sizeof(struct http_conn),
		/* lws would cut every send to 4 KiB otherwise (77 % CPU
		 * against 24 % measured with 300 live clients); the largest
		 * write is an HTTP/1.1 live one. */
		.tx_packet_size = HTTP_H1_CHUNK,
		.rx_buffer_size = 4096,
	},
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void *loop_main(void *arg)
{
	struct http_server *s = arg;

	lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, TICK_US);
	while (!atomic_load(&s->stop)) {
		if (lws_service(s->ctx, 0) < 0)
			break;
		close_hung_up(s);
	}
	return NULL;
}

static void pool_done(void *opaque)
{
	struct http_server *s = opaque;

	lws_cancel_service(s->ctx);
}

/* A signal handler: an atomic store and lws_cancel_service, which only
 * write()s to the loop's wakeup pipe. */
static void on_sighup(int sig)
{
	(void)sig;
	if (sighup_server) {
		atomic_store(&sighup_server->reload, true);
		lws_cancel_service(sighup_server->ctx);
	}
}

/* The viewer's folder: http_webview, or the installed one. */
static void find_webview(struct http_server *s)
{
	snprintf(s->webview, sizeof(s->webview), "%s",
		 s->cfg->http_webview ? s->cfg->http_webview : CAMFS_WEBVIEW_DIR);
	if (access(s->webview, R_OK | X_OK) == 0)
		return;
	/* A folder the user named is a mistake; the installed one missing is
	 * a build run from its tree. */
	if (s->cfg->http_webview)
		log_warning("http", "http_webview %s: %s: / will answer 404", s->webview,
			    strerror(errno));
	else
		log_notice("http", "no viewer at %s (%s): / will answer 404", s->webview,
			   strerror(errno));
}

/* Endless streams hold a descriptor each: take what the hard limit allows. */
static int raise_fd_limit(int want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < (rlim_t)want && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > INT_MAX ? INT_MAX : (int)rl.rlim_cur;
}

static void release_walk(void *opaque, uint64_t ino)
{
	struct http_server *s = opaque;

	tree_walk_release(s->tree, ino);
}

int http_server_new(struct http_server **out, const struct config *cfg, struct camera **cams,
		    struct tree *tree)
{
	struct lws_context_creation_info info;
	struct http_server *s;
	int ret = 0, fds;
	struct in6_addr a6;

	*out = NULL;
	if (!cfg->http.port)
		return 0;
	if (!(s = calloc(1, sizeof(*s))) || !(s->rate = calloc(1, sizeof(*s->rate))) ||
	    !(s->pushers = calloc(cfg->n_cameras ? (size_t)cfg->n_cameras : 1, sizeof(*s->pushers)))) {
		if (s)
			free(s->rate);
		free(s);
		return -ENOMEM;
	}
	s->cfg = cfg;
	s->cams = cams;
	s->tree = tree;
	pthread_mutex_init(&s->wake_lock, NULL);
	find_webview(s);
	if (cfg->http_users && (ret = http_auth_new(&s->auth, cfg->http_users)) < 0)
		goto out;
	if ((ret = http_live_new(&s->live, s)) < 0 || (ret = http_feed_new(&s->feed, s)) < 0 ||
	    (ret = http_walks_new(&s->walks, release_walk, s)) < 0)
		goto out;

	lws_set_log_level(LLL_ERR | LLL_WARN, log_lws_line);
	fds = raise_fd_limit(cfg->http_max_clients * 2 + 256);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.user = s;
	info.max_http_header_data = HEADER_BYTES;
	info.max_http_header_pool = cfg->http_max_clients + 16;
	info.fd_limit_per_thread = (unsigned int)fds;
	info.timeout_secs = (unsigned int)cfg->http_header_seconds;
	info.timeout_secs_ah_idle = (unsigned int)cfg->http_header_seconds;
	info.keepalive_timeout = cfg->http_idle_seconds;
	info.count_threads = 1;
	/* Our own protocol handles SIGHUP and the rest; lws must not. */
	info.signal_cb = NULL;
	s->ctx = lws_create_context(&info);
	if (!s->ctx) {
		ret = -ENOMEM;
		goto out;
	}

	memset(&info, 0, sizeof(info));
	info.port = cfg->http.port;
	info.protocols = protocols;
	info.vhost_name = "camfs";
	info.keepalive_timeout = cfg->http_idle_seconds;
	info.timeout_secs = (unsigned int)cfg->http_header_seconds;
	info.timeout_secs_ah_idle = (unsigned int)cfg->http_header_seconds;
	if (strcmp(cfg->http.host, "0.0.0.0") == 0) {
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	} else if (strcmp(cfg->http.host, "::") != 0) {
		info.iface = cfg->http.host;
		if (inet_pton(AF_INET6, cfg->http.host, &a6) != 1)
			info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	}
	if (cfg->http_tls_cert) {
		info.ssl_cert_filepath = cfg->http_tls_cert;
		info.ssl_private_key_filepath = cfg->http_tls_key;
		/* lws reads this on the vhost too: without it, no TLS. */
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		/* h2 by ALPN: many live streams on one connection; lws's own
		 * limit is 24 streams, too few for a big grid. Its other
		 * settings as lws has them. */
		info.alpn = "h2,http/1.1";
		/* lws picks suites in the server's order; OpenSSL's puts
		 * AES-256-GCM first. AES-128-GCM is as sound and costs a live
		 * stream's encryption about 30 % less; a client that asks for
		 * ChaCha20 first (no AES in hardware) still gets it. TLS 1.2:
		 * ECDHE and AEAD only (docs/http.md). */
		info.tls1_3_plus_cipher_list = TLS13_SUITES;
		info.ssl_cipher_list = TLS12_SUITES;
		info.ssl_options_set = SSL_OP_PRIORITIZE_CHACHA;
		info.http2_settings[0] = 1;
		info.http2_settings[H2SET_HEADER_TABLE_SIZE] = 65536;
		info.http2_settings[H2SET_ENABLE_PUSH] = 0;
		info.http2_settings[H2SET_MAX_CONCURRENT_STREAMS] = H2_STREAMS;
		info.http2_settings[H2SET_INITIAL_WINDOW_SIZE] = 0;
		info.http2_settings[H2SET_MAX_FRAME_SIZE] = HTTP_CHUNK;
		s->tls = true;
	}
	s->vhost = lws_create_vhost(s->ctx, &info);
	if (!s->vhost) {
		log_error("http", "cannot serve on %s%s%s:%d (%s): set http = ADDRESS:PORT, or "
			  "http = off", strchr(cfg->http.host, ':') ? "[" : "", cfg->http.host,
			  strchr(cfg->http.host, ':') ? "]" : "", cfg->http.port,
			  s->tls ? "the port is in use, or the TLS certificate or key is not "
			  "usable" : "is the port in use?");
		ret = -EADDRNOTAVAIL;
		goto out;
	}
	if (cfg->http_auth == CONFIG_HTTP_AUTH_NONE && !config_listen_is_loopback(&cfg->http))
		log_warning("http", "http_auth = none: anybody who reaches port %d may watch every "
			    "camera", cfg->http.port);
	log_notice("http", "serving %s://%s%s%s:%d/%s", s->tls ? "https" : "http",
		   strchr(cfg->http.host, ':') ? "[" : "", cfg->http.host,
		   strchr(cfg->http.host, ':') ? "]" : "", cfg->http.port,
		   s->auth ? " (users log in)" : "");
	for (int c = 0; c < cfg->n_cameras; c++)
		if (cfg->cameras[c].push == CONFIG_PUSH_BROWSER)
			log_notice(cfg->cameras[c].name, "record a phone or laptop as this camera: open "
				   "camera.html?cam=%s on it%s", cfg->cameras[c].name,
				   s->tls ? "" : " (its camera needs https://, or localhost)");
out:
	if (ret < 0)
		http_server_free(s);
	else
		*out = s;
	return ret;
}

int http_server_adopt(struct http_server *s, int fd)
{
	return lws_adopt_socket_vhost(s->vhost, fd) ? 0 : -EIO;
}

int http_server_start(struct http_server *s)
{
	struct sigaction sa = { .sa_handler = on_sighup };
	int ret;

	if (!s)
		return 0;
	if ((ret = http_pool_new(&s->pool, WORKERS, WORKER_QUEUE, pool_done, s)) < 0)
		return ret;
	sighup_server = s;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	ret = -pthread_create(&s->thread, NULL, loop_main, s);
	if (ret < 0)
		return ret;
	pthread_setname_np(s->thread, "camfs-http");
	s->started = true;
	return 0;
}

void http_server_free(struct http_server *s)
{
	struct http_job *job;

	if (!s)
		return;
	if (sighup_server == s) {
		signal(SIGHUP, SIG_DFL);
		sighup_server = NULL;
	}
	atomic_store(&s->stop, true);
	if (s->started) {
		lws_cancel_service(s->ctx);
		pthread_join(s->thread, NULL);
	}
	/* Every job back in the done list, then every connection closed
	 * (their callbacks run here, on this thread: the loop has ended). */
	http_pool_stop(s->pool);
	if (s->ctx) {
		lws_sul_cancel(&s->tick);
		lws_context_destroy(s->ctx);
	}
	while (s->pool && (job = http_pool_done(s->pool)))
		job->done(job);
	http_pool_free(s->pool);
	http_walks_free(s->walks);
	http_live_free(s->live);
	http_feed_free(s->feed);
	http_auth_free(s->auth);
	pthread_mutex_destroy(&s->wake_lock);
	free(s->rate);
	free(s->pushers);
	free(s);
}
