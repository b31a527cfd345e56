/* push.c - a browser camera's connection: the token, then the stream in
 * pieces to the camera's slot. Until the slot takes it (the feed may still
 * be reading the last connection's stream for a moment), what comes is
 * held, bounded. */
#include "fs/http/push.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "config.h"
#include "fs/http/http_internal.h"
#include "ingest/camera.h"
#include "ingest/pushslot.h"
#include "util/deadline.h"
#include "util/array.h"
#include "util/log.h"

#define PUSH_PREFIX "/ws/push/"
/* A token message longer than this is not a token. */
#define TOKEN_MSG_MAX 256
/* RFC 6455 registry: "Try Again Later", which lws does not name. */
#define CLOSE_TRY_AGAIN_LATER ((enum lws_close_status)1013)

struct http_push_conn {
	int cam;
	bool authed, dropped;
	/* dropped: closed at the next writable with this status and reason */
	enum lws_close_status close_status;
	char close_why[96];
	int64_t opened_us, last_rx_us;
	char token[TOKEN_MSG_MAX];
	size_t token_len;
	uint8_t *buf;                  /* held, or the piece being filled */
	size_t len, cap;
};

int http_push_camera(const struct http_server *s, const char *uri)
{
	int cam;

	if (strncmp(uri, PUSH_PREFIX, strlen(PUSH_PREFIX)) != 0)
		return -1;
	cam = http_camera_index(s, uri + strlen(PUSH_PREFIX));
	return cam >= 0 && s->cfg->cameras[cam].push == CONFIG_PUSH_BROWSER ? cam : -1;
}

static const char *name_of(const struct http_conn *c)
{
	return c->srv->cfg->cameras[c->push->cam].name;
}

static struct pushslot *slot_of(const struct http_conn *c)
{
	return camera_pushslot(c->srv->cams[c->push->cam]);
}

/* This connection has the camera's slot. */
static bool attached(const struct http_conn *c)
{
	return c->srv->pushers[c->push->cam] == c;
}

/* Logs why and keeps it for the close frame: a callback returning -1
 * sends it now; close_later() has a writable callback send it. */
static int close_with(struct http_conn *c, enum lws_close_status status, const char *why)
{
	struct http_push_conn *p = c->push;

	log_warning(name_of(c), "browser %s: closed: %s", c->req.peer, why);
	p->close_status = status;
	snprintf(p->close_why, sizeof(p->close_why), "%s", why);
	lws_close_reason(c->wsi, status, (unsigned char *)why, strlen(why));
	return -1;
}

/* Closes from outside a callback of this connection, with the reason
 * close_with() kept, or anyway a few seconds later. */
static void close_later(struct http_conn *c)
{
	c->push->dropped = true;
	lws_callback_on_writable(c->wsi);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
}

int http_push_open(struct http_conn *c, int cam)
{
	struct http_push_conn *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	p->cam = cam;
	p->opened_us = p->last_rx_us = deadline_now_us();
	c->push = p;
	lws_get_peer_simple(c->wsi, c->req.peer, sizeof(c->req.peer));
	http_conn_busy(c, CONN_WS_PUSH);
	return 0;
}

/* Hands what is held to the slot, in pieces. */
static int flush(struct http_conn *c)
{
	struct http_push_conn *p = c->push;
	size_t off = 0;
	int ret = 0;

	while (off < p->len && ret == 0) {
		size_t n = p->len - off < PUSHSLOT_PIECE ? p->len - off : PUSHSLOT_PIECE;

		ret = pushslot_put_bytes(slot_of(c), p->buf + off, n);
		off += n;
	}
	p->len = 0;
	if (ret == -ENOBUFS)
		return close_with(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
				  "camfs is not keeping up with this stream");
	if (ret == -EPIPE)
		return close_with(c, LWS_CLOSE_STATUS_GOINGAWAY,
				  "the recording restarted: connect again");
	return ret < 0 ? close_with(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory") : 0;
}

int http_push_writeable(struct http_conn *c)
{
	struct http_push_conn *p = c->push;

	if (!p || !p->dropped)
		return 0;
	lws_close_reason(c->wsi, p->close_status, (unsigned char *)p->close_why,
			 strlen(p->close_why));
	return -1;
}

/* Gives the camera's slot back, with what is still held. */
static void release(struct http_conn *c)
{
	if (c->push->len)
		flush(c);
	pushslot_detach(slot_of(c));
	c->srv->pushers[c->push->cam] = NULL;
}

/* The connection that held the camera gives way to a newer one. */
static void drop(struct http_conn *old, const char *by)
{
	char why[96];

	release(old);
	snprintf(why, sizeof(why), "%s took this camera over", by);
	close_with(old, LWS_CLOSE_STATUS_POLICY_VIOLATION, why);
	close_later(old);
}

/* Takes the camera's slot once it is free; until then the stream waits. */
static int try_attach(struct http_conn *c)
{
	struct http_push_conn *p = c->push;
	struct http_conn **holder = &c->srv->pushers[p->cam];
	char other[48];
	int ret = pushslot_attach(slot_of(c), c->req.peer, NULL, NULL, other);

	if (ret == -EBUSY && *holder && *holder != c) {
		drop(*holder, c->req.peer);
		ret = pushslot_attach(slot_of(c), c->req.peer, NULL, NULL, other);
	}
	if (ret == -EAGAIN)
		return 0;
	if (ret < 0)
		return close_with(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "the camera is taken");
	*holder = c;
	log_info(name_of(c), "browser %s connected", c->req.peer);
	return flush(c);
}

static int take_token(struct http_conn *c, const void *in, size_t len)
{
	struct http_push_conn *p = c->push;
	const char *want = c->srv->cfg->cameras[p->cam].token;
	bool ok;

	if (lws_frame_is_binary(c->wsi))
		return close_with(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				  "the first message must be the camera's token");
	if (len > sizeof(p->token) - p->token_len)
		return close_with(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "wrong token");
	memcpy(p->token + p->token_len, in, len);
	p->token_len += len;
	if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi))
		return 0;
	ok = want && p->token_len == strlen(want) && CRYPTO_memcmp(want, p->token, p->token_len) == 0;
	explicit_bzero(p->token, sizeof(p->token));
	if (!ok)
		return close_with(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "wrong token");
	p->authed = true;
	return try_attach(c);
}

/* Keeps bytes: a piece to hand on, or what waits for the slot. */
static int hold(struct http_conn *c, const void *in, size_t len)
{
	struct http_push_conn *p = c->push;

	if (p->len + len > HTTP_PUSH_PENDING_MAX)
		return close_with(c, CLOSE_TRY_AGAIN_LATER,
				  "the camera's last connection is still closing: try again");
	if (array_reserve(&p->buf, &p->cap, p->len + len, 1) < 0)
		return close_with(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
	memcpy(p->buf + p->len, in, len);
	p->len += len;
	return 0;
}

int http_push_receive(struct http_conn *c, const void *in, size_t len)
{
	struct http_push_conn *p = c->push;
	bool message_end;

	if (!p || p->dropped)
		return -1;
	p->last_rx_us = deadline_now_us();
	if (!p->authed)
		return take_token(c, in, len);
	if (!lws_frame_is_binary(c->wsi))
		return close_with(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
				  "after the token, only the stream (binary messages)");
	if (hold(c, in, len) < 0)
		return -1;
	message_end = lws_is_final_fragment(c->wsi) && !lws_remaining_packet_payload(c->wsi);
	if (!attached(c))
		return try_attach(c);
	/* A message is a MediaRecorder chunk: hand it on whole, so the feed
	 * sees a fragment as soon as it came. */
	return p->len >= PUSHSLOT_PIECE || message_end ? flush(c) : 0;
}

void http_push_tick(struct http_conn *c, int64_t now)
{
	struct http_push_conn *p = c->push;
	const struct config *cfg = c->srv->cfg;
	int64_t stall_us = (int64_t)config_camera_stall_seconds(cfg, &cfg->cameras[p->cam]) * 1000000;

	if (p->dropped)
		return;
	if (!p->authed) {
		if (now - p->opened_us <= HTTP_PUSH_TOKEN_S * 1000000LL)
			return;
		char why[40];

		snprintf(why, sizeof(why), "no token within %d s", HTTP_PUSH_TOKEN_S);
		close_with(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, why);
	} else if (now - p->last_rx_us > stall_us) {
		close_with(c, LWS_CLOSE_STATUS_GOINGAWAY, "the stream stalled");
	} else if (attached(c) || try_attach(c) == 0) {
		return;   /* recording, or still waiting for the slot */
	}
	/* close_with() or try_attach() said why. */
	close_later(c);
}

void http_push_closed(struct http_conn *c)
{
	struct http_push_conn *p = c->push;

	if (!p)
		return;
	if (attached(c)) {
		release(c);
		log_info(name_of(c), "browser %s disconnected", c->req.peer);
	}
	free(p->buf);
	free(p);
	c->push = NULL;
}
