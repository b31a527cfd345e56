/* http_internal.h - what the HTTP export's modules share and nothing else
 * may touch: the server, one connection's state, and server.c's response
 * helpers. Everything here belongs to the event loop thread unless a field
 * says otherwise. */
#ifndef CAMFS_HTTP_INTERNAL_H
#define CAMFS_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <libwebsockets.h>

#include "fs/http/pool.h"
#include "fs/http/urlpath.h"

struct camera;
struct config;
struct http_auth;
struct http_conn;
struct http_feed;
struct http_live;
struct http_walks;
struct file;
struct tree;

/* One lws_write at most on h2 and WebSockets: on h2 a larger write breaks
 * the stream (FRAME_SIZE_ERROR). */
#define HTTP_CHUNK 16384
/* One write of an endless HTTP/1.1 body at most, and the protocol's
 * tx_packet_size: a 4 Mbit/s camera's frame (about 20 KiB) goes out in one
 * write, not two (measured: 30 % less CPU per plain client, 20 % with
 * TLS, where it makes two records, sent as one segment). */
#define HTTP_H1_CHUNK 32768
/* A write of an endless HTTP/1.1 body is one chunk: its size in 4 hex
 * digits and CRLF before it, CRLF after it. The bytes go between, where
 * http_endless_buffer says, so framing them copies nothing. */
#define HTTP_CHUNK_HEAD 6
#define HTTP_CHUNK_FRAMING (HTTP_CHUNK_HEAD + 2)
/* A body write's buffer: lws writes its framing into the LWS_PRE bytes
 * before the data, so shared bytes are always copied into one of these. */
#define HTTP_BUF_SIZE (LWS_PRE + HTTP_H1_CHUNK)
/* A body's lws timeout is set again this often while it is written, or
 * at half http_stall_seconds if that is shorter. */
#define HTTP_REARM_US (5 * 1000000LL)
/* The socket send buffer of an endless HTTP/1.1 response (the kernel
 * doubles it): ~0.5 s of a 4 Mbit/s camera. */
#define HTTP_ENDLESS_SNDBUF (128 * 1024)

struct http_server {
	const struct config *cfg;        /* immutable, like cams and tree */
	struct camera **cams;
	struct tree *tree;
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	bool tls;                        /* immutable: the vhost speaks TLS */
	char webview[4096];              /* immutable: the viewer's folder */

	pthread_t thread;
	bool started;
	atomic_bool stop;
	atomic_bool reload;              /* set by SIGHUP */
	struct http_pool *pool;
	struct http_auth *auth;          /* NULL: nobody logs in */
	struct http_live *live;
	struct http_feed *feed;
	struct http_walks *walks;        /* clips recently served */

	pthread_mutex_t wake_lock;
	struct http_conn *woken;         /* guarded by wake_lock: to be made writable */
	bool wake_pending;               /* guarded by wake_lock: lws_cancel_service sent */

	int n_conns;                     /* wsis bound to the protocol */
	struct http_conn *busy;          /* with a response or stream in progress */
	int n_busy;
	lws_sorted_usec_list_t tick;     /* once a second: stalls, the feed */
	int64_t hup_checked_us;          /* answering connections last polled */
	struct http_rate *rate;          /* requests per client address */
	struct http_conn **pushers;      /* per camera: the browser pushing to it, or NULL */
};

/* A job run for one request: conn is set to NULL (on the loop) when the
 * request goes away first, and done() then only frees. */
struct http_conn_job {
	struct http_job job;
	struct http_conn *conn;
};

/* Who asked what, copied out of lws's header table once. */
struct http_request {
	bool head;                       /* HEAD: the headers of GET only */
	bool tls;
	bool loopback;                   /* the peer is 127.0.0.0/8 or ::1 */
	char peer[48];                   /* address, for logs */
	char user[64];                   /* logged in as; "" when nobody needs to */
	bool new_session;                /* logged in with a password: send the cookie */
	struct urlpath path;
	char query_fps[8];
	char range[96];
	char if_none_match[160];
	char if_modified_since[40];
	char if_range[160];
	char accept[160];
	char origin[160];                /* sent by browsers on cross-site requests */
	/* POST /cams/NAME/command (command.h): */
	bool post;
	bool confirm_reset;              /* ?confirm=reset */
	char command[128];               /* the body, as it comes */
	size_t command_len;
	bool command_over;               /* the body was longer: not kept */
	bool command_done;               /* the whole body came */
	bool command_routed;             /* the checks and the login passed */
};

/* A body of known length: memory, a range of an fd, or of a tree file. */
struct http_body {
	struct file *file;               /* a tree file's pieces (then no mem or fd) */
	const uint8_t *mem;              /* NULL: from fd */
	void *owner;                     /* freed by release(owner) when done */
	void (*release)(void *owner);
	int fd;                          /* -1: none */
	off_t pos, end;                  /* what is still to send, in mem or fd */
};

enum http_conn_kind {
	CONN_IDLE,       /* no request, or one not answered yet */
	CONN_WAIT,       /* a worker has the request */
	CONN_REPLY,      /* headers, then a body of known length (maybe none) */
	CONN_VIEWER,     /* a viewer file, written by lws_serve_http_file */
	CONN_LIVE,       /* live.mp4: endless */
	CONN_MJPEG,      /* live.mjpeg: endless */
	CONN_EVENTS,     /* /events: endless */
	CONN_WS_LIVE,    /* /ws/live: a WebSocket */
	CONN_WS_PUSH,    /* /ws/push/NAME: a browser camera's stream (push.h) */
};

struct http_live_conn;
struct http_push_conn;

/* One wsi's state (lws's per-session data; zeroed by lws). On an h1
 * keep-alive connection it serves one request after another. */
struct http_conn {
	struct http_server *srv;
	struct lws *wsi;
	enum http_conn_kind kind;
	struct http_request req;
	struct http_conn_job *job;       /* CONN_WAIT: with a worker; its conn is us */

	/* The response's head, written at the first writable. */
	bool head_sent;
	bool no_body;                    /* HEAD, 304, 1xx: the head ends the stream */
	bool chunked;                    /* an endless body on HTTP/1.1: in chunks */
	unsigned status;
	const char *type;                /* static */
	int64_t length;                  /* -1: endless */
	char extra[1024];                /* more headers: "name:" NUL value NUL, ... */
	size_t extra_len;
	struct http_body body;
	unsigned char *buf;              /* HTTP_BUF_SIZE bytes once a body is written */

	int64_t want_since_us;           /* waiting to write since; 0: not */
	int64_t armed_us;                /* a body's lws timeout last set */
	struct http_conn *busy_prev, *busy_next;   /* in srv->busy while kind != IDLE */
	struct http_conn *woken_next;    /* guarded by srv->wake_lock */
	bool in_woken;                   /* guarded by srv->wake_lock */
	struct http_live_conn *live;     /* CONN_LIVE, CONN_MJPEG, CONN_WS_LIVE */
	struct http_push_conn *push;     /* CONN_WS_PUSH */
	int64_t events_seq;              /* CONN_EVENTS: the next event to send */
	int events_hello;                /* CONN_EVENTS: cameras whose state is still to send */
};

/* Starts a response: head at the next writable, then body. length -1 is an
 * endless body (HTTP/1.1: chunked; HTTP/1.0: ended by closing; h2: a
 * stream). type is a static string. */
void http_respond(struct http_conn *c, unsigned status, const char *type, int64_t length);
/* Adds a header to the response being made ("ETag:", "\"abc\""). */
void http_add_header(struct http_conn *c, const char *name, const char *value);
/* A complete short answer with a text body (or none for HEAD). */
void http_error(struct http_conn *c, unsigned status, const char *text);
/* c is busy (kind != CONN_IDLE) from now on: counted, scanned for stalls. */
void http_conn_busy(struct http_conn *c, enum http_conn_kind kind);
/* Asks for a writable callback, remembering since when for the stall scan. */
void http_want_write(struct http_conn *c);
/* From any thread: wakes the loop (EVENT_WAIT_CANCELLED) once for a batch. */
void http_signal(struct http_server *s);
/* From any thread: c is to be asked for a writable callback on the loop.
 * The caller keeps c alive (see http_live). */
void http_wake(struct http_conn *c);
/* The headers every response carries (security, CORS, a new session's
 * cookie), added at *p. */
int http_common_headers(struct http_conn *c, unsigned char **p, unsigned char *end);
/* Writes the response head if not yet; -1 when the connection must close.
 * Sets *done when the head ended the response. */
int http_write_head(struct http_conn *c, bool *done);
/* The same for an endless body, taking it from lws's timeouts to the
 * stall scan. */
int http_endless_head(struct http_conn *c);
/* Where the next write of c's endless body is put, in the connection's
 * buffer, and at most how many bytes (*max: HTTP_CHUNK on h2, HTTP_H1_CHUNK
 * less the chunk's framing on HTTP/1.1). NULL when out of memory. */
unsigned char *http_endless_buffer(struct http_conn *c, size_t *max);
/* Writes the n bytes put at http_endless_buffer: one chunk on HTTP/1.1.
 * 0, or -1 to close. */
int http_write_endless(struct http_conn *c, size_t n);
/* An endless body ends (a codec change): its last chunk on HTTP/1.1 and the
 * connection is ready for another request; h2 ends the stream; HTTP/1.0
 * closes (-1). */
int http_end_endless(struct http_conn *c);
/* The connection's body buffer (HTTP_BUF_SIZE), or NULL. */
unsigned char *http_buffer(struct http_conn *c);
/* Hands job to a worker for c, which waits (CONN_WAIT); job->job.done
 * runs on the loop. False when the workers are full: c got a 503. */
bool http_submit(struct http_conn *c, struct http_conn_job *job);
/* Serves a connected socket as if accepted (tests and the fuzzer, which
 * then run lws_service themselves). */
int http_server_adopt(struct http_server *s, int fd);
/* The camera of that name, or -1. */
int http_camera_index(const struct http_server *s, const char *name);

#endif
