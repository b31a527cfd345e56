/* listener.c - one lws context on its own thread: a board is a WebSocket
 * connection whose messages are reassembled (boards fragment everything
 * past 10 KiB), identified by the hostName of their status JSON, and
 * attached to their camera's push slot. */
#include "ingest/esp32/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libwebsockets.h>

#include "config.h"
#include "ingest/camera.h"
#include "ingest/esp32/motionq.h"
#include "ingest/esp32/wire.h"
#include "ingest/pushslot.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/netlist.h"

#define TAG "esp32"
#define TICK_US 1000000
/* A board's time further than this from ours is not a clock but noise
 * (a board not synced yet sends its boot time). */
#define WILD_US (600 * 1000000LL)
/* Boards and hostNames already warned about: a board that is turned away
 * comes back every 10 s, and must not fill the log. */
#define WARNED_MAX 64
/* Frames that arrive in a burst (Wi-Fi, or our loop busy a moment) are
 * spaced this far apart, ahead of their arrival by at most SPREAD_MAX_US:
 * two frames a microsecond apart make players and ffmpeg stumble. */
#define MIN_GAP_US 40000
#define SPREAD_MAX_US 1000000

struct board {
	struct esp32_listener *l;
	struct lws *wsi;
	struct board *next;            /* in l->boards */
	char peer[48];
	char host[ESP32_HOST_MAX];     /* "" until its status came */
	int cam;                       /* attached to cams[cam]; -1: not */
	uint8_t *msg, *last;           /* the message coming in; the last frame */
	size_t len, cap, last_len, last_cap;
	bool binary;
	int64_t last_message_us;       /* monotonic */
	/* Board time minus ours, µs: the largest lower bound seen (its
	 * digits are whole seconds, so each frame bounds it from below). */
	int64_t offset_us;
	bool have_offset, warned_time, paused;
	int64_t last_frame_us;         /* the last frame's wall time */
	/* A close asked for outside the board's own callback. */
	enum lws_close_status close_status;
	char close_reason[100];
};

struct esp32_listener {
	const struct config *cfg;
	struct camera **cams;
	const struct clock *clock;
	struct netlist allow;
	struct lws_context *ctx;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	lws_sorted_usec_list_t tick;
	struct motionq *motions;       /* the boards' motion reports, filed apart */
	struct board *boards;          /* loop thread only */
	int n_boards;
	char warned[WARNED_MAX][ESP32_HOST_MAX + 8];
	int n_warned;
};

/* True the first time key is seen (then remembered, oldest forgotten). */
static bool first_time(struct esp32_listener *l, const char *key)
{
	for (int i = 0; i < l->n_warned && i < WARNED_MAX; i++)
		if (strcmp(l->warned[i], key) == 0)
			return false;
	snprintf(l->warned[l->n_warned++ % WARNED_MAX], sizeof(l->warned[0]), "%s", key);
	return true;
}

static struct pushslot *slot_of(struct board *b)
{
	return b->cam >= 0 ? camera_pushslot(b->l->cams[b->cam]) : NULL;
}

static const char *name_of(struct board *b)
{
	return b->cam >= 0 ? b->l->cfg->cameras[b->cam].name : TAG;
}

/* Ends the connection from its own callback: the close frame says why. */
static int close_now(struct board *b, enum lws_close_status status, const char *fmt, ...)
{
	char reason[100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	log_warning(name_of(b), "board %s%s%s: closed: %s", b->peer, b->host[0] ? " " : "",
		    b->host, reason);
	/* A close frame's reason is at most 123 bytes. */
	lws_close_reason(b->wsi, status, (unsigned char *)reason, strlen(reason));
	return -1;
}

static void wake(void *opaque)
{
	struct esp32_listener *l = opaque;

	lws_cancel_service(l->ctx);
}

static int attach(struct board *b, int cam, const char *why)
{
	struct esp32_listener *l = b->l;
	char holder[48] = "";
	int ret = pushslot_attach(camera_pushslot(l->cams[cam]), b->peer, wake, l, holder);

	if (ret == -EBUSY)
		return close_now(b, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				 "hostName %s is connected already (from %s)",
				 b->host[0] ? b->host : "(none)", holder);
	b->cam = cam;
	log_info(l->cfg->cameras[cam].name, "board %s%s%s connected%s", b->peer,
		 b->host[0] ? " " : "", b->host, why);
	return 0;
}

static int find_camera(struct esp32_listener *l, const char *host)
{
	for (int i = 0; i < l->cfg->n_cameras; i++) {
		const struct camera_config *c = &l->cfg->cameras[i];

		if (c->push == CONFIG_PUSH_ESP32 &&
		    (host ? c->esp32_host && strcmp(c->esp32_host, host) == 0 :
		     l->cfg->esp32_accept_unknown && strcmp(c->name, l->cfg->esp32_accept_unknown) == 0))
			return i;
	}
	return -1;
}

/* A board that said who it is (host) or, host "", one that sends frames
 * without ever saying. */
static int identify(struct board *b)
{
	struct esp32_listener *l = b->l;
	int cam = b->host[0] ? find_camera(l, b->host) : -1;
	char key[ESP32_HOST_MAX + 8];
	const char *why;

	if (cam >= 0)
		return attach(b, cam, "");
	cam = find_camera(l, NULL);
	if (cam >= 0)
		return attach(b, cam, b->host[0] ? " (no camera names its hostName: "
			      "esp32_accept_unknown)" : " without a hostName (esp32_accept_unknown)");
	snprintf(key, sizeof(key), "?%s", b->host[0] ? b->host : b->peer);
	if (first_time(l, key))
		log_warning(TAG, b->host[0] ? "board %s from %s: no camera has esp32_host = %s; "
			    "kept out (or set esp32_accept_unknown)" : "board %s%s sends frames but "
			    "no hostName (is its clock synced?); kept out (or set esp32_accept_unknown)",
			    b->host, b->peer, b->host);
	why = b->host[0] ? "unknown hostName" : "no hostName";
	lws_close_reason(b->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, strlen(why));
	return -1;
}

/* The wall time of what the board stamped board_s and we got now. */
static int64_t board_time(struct board *b, int64_t board_s)
{
	int64_t now = clock_wall_us(b->l->clock);
	int64_t low = board_s * 1000000 - now;

	if (board_s < 0 || low > WILD_US || low < -WILD_US) {
		if (!b->warned_time)
			log_notice(name_of(b), board_s < 0 ? "board %s sends frames without its time; "
				   "using arrival times" : "board %s's clock is %+.0f s off ours; "
				   "using arrival times", b->peer, low / 1e6);
		b->warned_time = true;
		b->have_offset = false;
		return now;
	}
	/* The true offset lies in [low, low + 1 s): take the largest low; a
	 * bound above it that rules the estimate out means the clock stepped. */
	if (!b->have_offset || low > b->offset_us || low + 1000000 < b->offset_us)
		b->offset_us = low;
	b->have_offset = true;
	return now + b->offset_us;
}

static void set_field(struct board *b, const char *key, const char *value)
{
	json_t *f = json_pack("{s:s}", key, value);

	if (f && slot_of(b))
		pushslot_set_fields(slot_of(b), f, false, ESP32_FIELDS_MAX + 4);
	else
		json_decref(f);
}

static int on_frame(struct board *b)
{
	size_t jpeg_size;
	int64_t board_s, wall_us;
	struct pushslot *slot;
	uint8_t *swap;
	size_t swap_cap;

	if (esp32_split_frame(b->msg, b->len, &jpeg_size, &board_s) < 0)
		return close_now(b, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
				 "a binary message that is not a JPEG frame");
	if (b->cam < 0 && identify(b) < 0)
		return -1;
	slot = slot_of(b);
	if (b->paused) {
		b->paused = false;
		set_field(b, "paused", "no");
	}
	wall_us = board_time(b, board_s);
	if (b->last_frame_us && wall_us < b->last_frame_us + MIN_GAP_US &&
	    b->last_frame_us + MIN_GAP_US - wall_us <= SPREAD_MAX_US)
		wall_us = b->last_frame_us + MIN_GAP_US;
	b->last_frame_us = wall_us;
	pushslot_put_jpeg(slot, b->msg, jpeg_size, wall_us);
	/* Kept for the board's MotionStart: its snapshot. */
	swap = b->last;
	swap_cap = b->last_cap;
	b->last = b->msg;
	b->last_cap = b->cap;
	b->last_len = jpeg_size;
	b->msg = swap;
	b->cap = swap_cap;
	return 0;
}

static int on_status(struct board *b, const struct esp32_text *t)
{
	char host[ESP32_HOST_MAX];
	json_t *fields;
	char offset[32];

	if (esp32_parse_status(t->payload, t->payload_len, host, &fields) < 0)
		return close_now(b, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "a status that is not JSON");
	if (b->cam < 0) {
		snprintf(b->host, sizeof(b->host), "%s", host);
		if (identify(b) < 0) {
			json_decref(fields);
			return -1;
		}
	}
	if (b->have_offset) {
		snprintf(offset, sizeof(offset), "%.1f", b->offset_us / 1e6);
		json_object_set_new(fields, "clock_offset_s", json_string(offset));
	}
	pushslot_set_fields(slot_of(b), fields, true, ESP32_FIELDS_MAX + 4);
	return 0;
}

/* The board's own detector: an event of kind camera whose snapshot is the
 * board's last frame, filed by the motion queue's thread. */
static void motion(struct board *b, bool start, int64_t wall_us)
{
	char key[ESP32_HOST_MAX + 8];
	int ret;

	if (!start) {
		/* Only logged: no event, no queue slot. */
		camera_device_motion(b->l->cams[b->cam], false, wall_us, NULL, 0);
		set_field(b, "motion", "no");
		return;
	}
	ret = motionq_put(b->l->motions, b->l->cams[b->cam], wall_us,
			  b->last_len ? b->last : NULL, b->last_len);
	snprintf(key, sizeof(key), "busy:%s", b->host);
	if (ret < 0 && first_time(b->l, key))
		log_warning(name_of(b), "the board's motion reports come faster than they are "
			    "filed; dropped: %s", strerror(-ret));
	if (ret == 0)
		set_field(b, "motion", "yes");
}

static int on_text(struct board *b)
{
	struct esp32_text t;

	if (esp32_parse_text((const char *)b->msg, b->len, &t) < 0)
		return close_now(b, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
				 "a text message that is not the ESP32 protocol");
	if (t.kind == ESP32_TEXT_STATUS)
		return on_status(b, &t);
	if (b->cam < 0)
		return 0;        /* nothing of it is ours before the board is */
	switch (t.kind) {
	case ESP32_TEXT_MOTION_START:
	case ESP32_TEXT_MOTION_END:
		motion(b, t.kind == ESP32_TEXT_MOTION_START, board_time(b, t.board_s));
		break;
	case ESP32_TEXT_PAUSED:
		b->paused = true;
		set_field(b, "paused", "yes");
		break;
	case ESP32_TEXT_SETTING:
		set_field(b, t.key, t.value);
		break;
	default:
		break;
	}
	return 0;
}

/* A piece of a message; the whole message is handled once it is in. */
static int on_receive(struct board *b, const void *in, size_t len)
{
	if (lws_is_first_fragment(b->wsi)) {
		b->len = 0;
		b->binary = lws_frame_is_binary(b->wsi);
	}
	if (len > ESP32_MESSAGE_MAX - b->len)
		return close_now(b, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
				 "a message over %d bytes", ESP32_MESSAGE_MAX);
	/* Doubling from 16 stays within the bound, a power of two. */
	if (array_reserve(&b->msg, &b->cap, b->len + len, 1) < 0)
		return close_now(b, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
	memcpy(b->msg + b->len, in, len);
	b->len += len;
	if (!lws_is_final_fragment(b->wsi))
		return 0;
	b->last_message_us = clock_monotonic_us(b->l->clock);
	return b->binary ? on_frame(b) : on_text(b);
}

static int on_writeable(struct board *b)
{
	char cmd[PUSHSLOT_COMMAND_MAX];
	unsigned char buf[LWS_PRE + PUSHSLOT_COMMAND_MAX];
	size_t len;

	if (b->close_reason[0]) {
		lws_close_reason(b->wsi, b->close_status, (unsigned char *)b->close_reason,
				 strlen(b->close_reason));
		return -1;
	}
	if (!slot_of(b) || !pushslot_take_command(slot_of(b), cmd))
		return 0;
	len = strlen(cmd);
	memcpy(buf + LWS_PRE, cmd, len);
	log_info(name_of(b), "command to board %s: %s", b->peer, cmd);
	return lws_write(b->wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len ? -1 : 0;
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct esp32_listener *l = lws_container_of(sul, struct esp32_listener, tick);
	int64_t now = clock_monotonic_us(l->clock);

	for (struct board *b = l->boards; b; b = b->next)
		if (!b->close_reason[0] && now - b->last_message_us > ESP32_IDLE_S * 1000000LL) {
			b->close_status = LWS_CLOSE_STATUS_POLICY_VIOLATION;
			snprintf(b->close_reason, sizeof(b->close_reason),
				 "no complete message for %d s", ESP32_IDLE_S);
			log_warning(name_of(b), "board %s%s%s: closed: %s", b->peer,
				    b->host[0] ? " " : "", b->host, b->close_reason);
			lws_callback_on_writable(b->wsi);
		}
	lws_sul_schedule(l->ctx, 0, &l->tick, on_tick, TICK_US);
}

static int on_established(struct esp32_listener *l, struct board *b, struct lws *wsi)
{
	memset(b, 0, sizeof(*b));
	b->l = l;
	b->wsi = wsi;
	b->cam = -1;
	lws_get_peer_simple(wsi, b->peer, sizeof(b->peer));
	b->last_message_us = clock_monotonic_us(l->clock);
	b->next = l->boards;
	l->boards = b;
	l->n_boards++;
	if (l->n_boards > ESP32_BOARDS_MAX)
		return close_now(b, LWS_CLOSE_STATUS_POLICY_VIOLATION, "more than %d boards",
				 ESP32_BOARDS_MAX);
	return 0;
}

static void on_closed(struct board *b)
{
	struct board **p;

	if (!b->l)
		return;
	p = &b->l->boards;
	while (*p && *p != b)
		p = &(*p)->next;
	if (*p)
		*p = b->next;
	b->l->n_boards--;
	if (b->cam >= 0) {
		pushslot_detach(slot_of(b));
		log_info(name_of(b), "board %s disconnected", b->peer);
	}
	free(b->msg);
	free(b->last);
	b->l = NULL;
}

/* Only esp32_allow's networks, and only the board's one path. */
static int filter_peer(struct esp32_listener *l, struct lws *wsi)
{
	char text[INET6_ADDRSTRLEN] = "?", key[ESP32_HOST_MAX + 8], uri[16];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const struct sockaddr *sa = (const struct sockaddr *)&ss;

	if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (netlist_contains(&l->allow, sa))
		return lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
		       strcmp(uri, "/ws") != 0 ? -1 : 0;
	lws_get_peer_simple(wsi, text, sizeof(text));
	snprintf(key, sizeof(key), "!%s", text);
	if (first_time(l, key))
		log_warning(TAG, "refused a connection from %s: not in esp32_allow", text);
	return -1;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct lws_context *ctx = lws_get_context(wsi);
	struct esp32_listener *l = ctx ? lws_context_user(ctx) : NULL;
	struct board *b = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return filter_peer(l, wsi);
	case LWS_CALLBACK_HTTP:
		/* Nothing but the WebSocket here. */
		lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
		return -1;
	case LWS_CALLBACK_ESTABLISHED:
		return on_established(l, b, wsi);
	case LWS_CALLBACK_RECEIVE:
		return b && b->l ? on_receive(b, in, len) : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return b && b->l ? on_writeable(b) : 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		for (struct board *it = l ? l->boards : NULL; it; it = it->next)
			if (it->cam >= 0)
				lws_callback_on_writable(it->wsi);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (b)
			on_closed(b);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{
		.name = "esp32",
		.callback = callback,
		.per_session_data_size = sizeof(struct board),
		.rx_buffer_size = 16384,
	},
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

int esp32_listener_new(struct esp32_listener **out, const struct config *cfg,
		       struct camera **cams, const struct clock *clock)
{
	struct lws_context_creation_info info;
	struct esp32_listener *l;
	struct in6_addr a6;
	const char *bad;

	*out = NULL;
	if (!cfg->esp32_listen.port)
		return 0;
	if (!(l = calloc(1, sizeof(*l))))
		return -ENOMEM;
	l->cfg = cfg;
	l->cams = cams;
	l->clock = clock;
	if (netlist_parse(cfg->esp32_allow ? cfg->esp32_allow : "", &l->allow, &bad) < 0) {
		free(l);
		return -EINVAL;    /* config_load checked it */
	}
	lws_set_log_level(LLL_ERR | LLL_WARN, log_lws_line);
	memset(&info, 0, sizeof(info));
	info.port = cfg->esp32_listen.port;
	info.protocols = protocols;
	info.user = l;
	info.vhost_name = "esp32";
	info.timeout_secs = ESP32_IDLE_S;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.signal_cb = NULL;
	if (strcmp(cfg->esp32_listen.host, "0.0.0.0") == 0) {
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	} else if (strcmp(cfg->esp32_listen.host, "::") != 0) {
		info.iface = cfg->esp32_listen.host;
		if (inet_pton(AF_INET6, cfg->esp32_listen.host, &a6) != 1)
			info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	}
	/* Each board's fd, and the listener's own. */
	info.fd_limit_per_thread = ESP32_BOARDS_MAX * 2 + 16;
	l->ctx = lws_create_context(&info);
	if (!l->ctx || !lws_get_vhost_by_name(l->ctx, "esp32")) {
		log_error(TAG, "cannot listen on %s:%d: is the port in use? Set esp32_listen = "
			  "ADDRESS:PORT, or off", cfg->esp32_listen.host, cfg->esp32_listen.port);
		esp32_listener_free(l);
		return -EADDRNOTAVAIL;
	}
	log_notice(TAG, "boards connect to ws://%s:%d/ws", cfg->esp32_listen.host,
		   cfg->esp32_listen.port);
	*out = l;
	return 0;
}

static void *loop_main(void *arg)
{
	struct esp32_listener *l = arg;

	lws_sul_schedule(l->ctx, 0, &l->tick, on_tick, TICK_US);
	while (!atomic_load(&l->stop))
		if (lws_service(l->ctx, 0) < 0)
			break;
	return NULL;
}

int esp32_listener_start(struct esp32_listener *l)
{
	int ret;

	if (!l)
		return 0;
	if ((ret = motionq_new(&l->motions)) < 0)
		return ret;
	ret = -pthread_create(&l->thread, NULL, loop_main, l);
	if (ret < 0)
		return ret;
	pthread_setname_np(l->thread, "camfs-esp32");
	l->started = true;
	return 0;
}

void esp32_listener_free(struct esp32_listener *l)
{
	if (!l)
		return;
	atomic_store(&l->stop, true);
	if (l->started) {
		lws_cancel_service(l->ctx);
		pthread_join(l->thread, NULL);
	}
	if (l->ctx) {
		lws_sul_cancel(&l->tick);
		lws_context_destroy(l->ctx);   /* closes the boards: on_closed for each */
	}
	motionq_free(l->motions);          /* files what the boards reported */
	free(l);
}
