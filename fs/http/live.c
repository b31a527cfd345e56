/* live.c - live streams on the event loop: hub readers that park the
 * connection and are woken from the camera's thread, keyframe JPEGs made on
 * a worker and shared, and the multiplexed WebSocket. */
#include "fs/http/live.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <libavutil/buffer.h>
#include <libavutil/intreadwrite.h>

#include "config.h"
#include "fs/http/http_internal.h"
#include "ingest/camera.h"
#include "stream/hub.h"
#include "stream/snapshot.h"
#include "util/log.h"

#define MJPEG_MAX_FPS 30
/* A camera's JPEG is asked for at most this often: a keyframe's decode and
 * encode costs; an MJPEG camera's own JPEG costs a reference, so it is
 * asked for at up to MJPEG_MAX_FPS. */
#define MJPEG_JOB_GAP_US 250000
#define MJPEG_OWN_GAP_US (1000000 / MJPEG_MAX_FPS)
#define DRAIN_SIZE 65536

/* One camera stream a connection follows. Its hub reader's wake gets the
 * sub as opaque and the conn as waiter. */
struct sub {
	struct http_conn *conn;
	int cam;
	struct hub_reader *reader;
	atomic_bool parked;          /* a read parked conn on reader; cleared by the wake */
	/* /ws/live: where the stream is among its top-level boxes. */
	uint8_t box_head[16];
	int box_head_len;            /* bytes of the next box's header seen */
	uint64_t box_left;           /* bytes of the current box still to come */
	bool box_ends_unit;          /* the current box is a moov or an mdat */
	bool msg_open;               /* a message of this camera is being sent */
	bool ended;                  /* end of stream: a new reader is due */
	bool dropped;                /* /ws/live: no longer wanted; closes after its message */
	bool got_data;               /* the reader gave bytes (else an end is the hub's) */
};

struct http_live_conn {
	/* live.mp4: subs[0]; /ws/live: subs[i] is camera i, followed while it
	 * has a reader. Never moved: a parked reader's wake points at its sub. */
	struct sub *subs;
	int n_subs;
	int current;                 /* /ws/live: the sub whose message is open, or -1 */
	int next;                    /* /ws/live: round robin */
	char *rx;                    /* /ws/live: a control message being reassembled */
	size_t rx_len;
	char *tx_text;               /* /ws/live: a control message to send */
	/* live.mjpeg */
	int cam;
	struct http_conn *mjpeg_next;/* in the camera's list of clients */
	AVBufferRef *jpeg;           /* the picture being sent */
	size_t jpeg_size;
	const uint8_t *sent;         /* data of the last picture sent: its identity */
	size_t jpeg_off;
	int64_t gap_us;              /* 1/fps */
	int64_t due_us;              /* the next picture may go from then */
	bool waiting_timer;
};

/* A camera's keyframe JPEG for its MJPEG clients. */
struct mjpeg_cam {
	struct http_live *l;
	int cam;
	struct hub_reader *tick;     /* wakes when the camera publishes */
	atomic_bool woken;
	bool job_running;
	bool own;                    /* the last JPEG was the camera's own */
	int64_t job_at_us;
	struct http_conn *clients;
	AVBufferRef *jpeg;           /* the newest picture */
	size_t jpeg_size;
};

struct mjpeg_job {
	struct http_job job;
	struct mjpeg_cam *mc;
	struct snapshot_jpeg out;
	int ret;
};

struct http_live {
	struct http_server *s;
	struct mjpeg_cam *mjpeg;     /* one per camera */
	uint8_t *drain;              /* DRAIN_SIZE: bytes of tick readers go here */
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

int http_live_new(struct http_live **out, struct http_server *s)
{
	struct http_live *l = calloc(1, sizeof(*l));
	int n = s->cfg->n_cameras;

	*out = NULL;
	if (!l || !(l->mjpeg = calloc(n ? n : 1, sizeof(*l->mjpeg))) ||
	    !(l->drain = malloc(DRAIN_SIZE))) {
		if (l)
			free(l->mjpeg);
		free(l);
		return -ENOMEM;
	}
	l->s = s;
	for (int i = 0; i < n; i++) {
		l->mjpeg[i].l = l;
		l->mjpeg[i].cam = i;
	}
	*out = l;
	return 0;
}

static void tick_free(struct mjpeg_cam *mc)
{
	if (mc->tick) {
		hub_reader_unpark_any(mc->tick);
		hub_reader_free(mc->tick);
		mc->tick = NULL;
	}
	av_buffer_unref(&mc->jpeg);
}

void http_live_free(struct http_live *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->s->cfg->n_cameras; i++)
		tick_free(&l->mjpeg[i]);
	free(l->mjpeg);
	free(l->drain);
	free(l);
}

/* Camera thread, hub lock held: a parked read can go on. */
static void sub_wake(struct hub_reader *r, void *waiter, void *opaque)
{
	struct sub *sub = opaque;

	(void)r;
	atomic_store(&sub->parked, false);
	http_wake(waiter);
}

static int sub_open(struct sub *sub, struct http_conn *c, int cam)
{
	sub->conn = c;
	sub->cam = cam;
	sub->box_head_len = 0;
	sub->box_left = 0;
	sub->msg_open = false;
	sub->ended = false;
	sub->dropped = false;
	sub->got_data = false;
	atomic_store(&sub->parked, false);
	sub->reader = hub_reader_new(camera_hub(c->srv->cams[cam]), sub_wake, sub);
	return sub->reader ? 0 : -ENOMEM;
}

static void sub_close(struct sub *sub)
{
	if (!sub->reader)
		return;
	/* After this, no wake for it runs or will run. */
	hub_reader_unpark(sub->reader, sub->conn);
	hub_reader_free(sub->reader);
	sub->reader = NULL;
}

/* The next bytes of sub's stream into buf: > 0, 0 at its end, -EAGAIN when
 * parked (a wake will come). */
static ssize_t sub_read(struct sub *sub, void *buf, size_t size)
{
	ssize_t n;

	if (atomic_load(&sub->parked))
		return -EAGAIN;
	/* Set before reading: the wake may run the moment the read parks. */
	atomic_store(&sub->parked, true);
	n = hub_reader_read(sub->reader, buf, size, sub->conn);
	if (n != -EAGAIN)
		atomic_store(&sub->parked, false);
	return n;
}

/* Parks sub's conn unless a read would not park: -EAGAIN when parked. */
static int sub_park(struct sub *sub)
{
	int ret;

	atomic_store(&sub->parked, true);
	ret = hub_reader_park(sub->reader, sub->conn);
	if (ret != -EAGAIN)
		atomic_store(&sub->parked, false);
	return ret;
}

static struct http_live_conn *live_conn_new(struct http_conn *c, int n_subs)
{
	struct http_live_conn *lc = calloc(1, sizeof(*lc));

	if (!lc || (n_subs && !(lc->subs = calloc(n_subs, sizeof(*lc->subs))))) {
		free(lc);
		return NULL;
	}
	lc->current = -1;
	lc->cam = -1;
	c->live = lc;
	return lc;
}

/* ---- live.mjpeg ---- */

static void mjpeg_job_done(struct http_job *job);

static void mjpeg_job_run(struct http_job *job)
{
	struct mjpeg_job *j = (struct mjpeg_job *)job;
	struct http_server *s = j->mc->l->s;

	j->ret = snapshot_get_jpeg(camera_snapshot(s->cams[j->mc->cam]), &j->out);
}

static void mjpeg_ask(struct mjpeg_cam *mc)
{
	struct mjpeg_job *j;

	if (mc->job_running || !mc->clients ||
	    now_us() - mc->job_at_us < (mc->own ? MJPEG_OWN_GAP_US : MJPEG_JOB_GAP_US))
		return;
	if (!(j = calloc(1, sizeof(*j))))
		return;
	j->job.run = mjpeg_job_run;
	j->job.done = mjpeg_job_done;
	j->mc = mc;
	if (http_pool_submit(mc->l->s->pool, &j->job) < 0) {
		free(j);
		return;   /* the next frame asks again */
	}
	mc->job_running = true;
	mc->job_at_us = now_us();
}

static void mjpeg_job_done(struct http_job *job)
{
	struct mjpeg_job *j = (struct mjpeg_job *)job;
	struct mjpeg_cam *mc = j->mc;

	mc->job_running = false;
	mc->own = j->ret == 0 && j->out.own;
	if (j->ret == 0 && j->out.buf && (!mc->jpeg || mc->jpeg->data != j->out.buf->data)) {
		av_buffer_unref(&mc->jpeg);
		mc->jpeg = j->out.buf;
		j->out.buf = NULL;
		mc->jpeg_size = j->out.size;
		for (struct http_conn *c = mc->clients; c; c = c->live->mjpeg_next)
			if (!c->live->jpeg && !c->live->waiting_timer)
				http_want_write(c);
	}
	av_buffer_unref(&j->out.buf);
	free(j);
}

/* Camera thread: the camera published; its MJPEG clients may get news. */
static void tick_wake(struct hub_reader *r, void *waiter, void *opaque)
{
	struct mjpeg_cam *mc = opaque;

	(void)r;
	(void)waiter;
	atomic_store(&mc->woken, true);
	http_signal(mc->l->s);
}

/* Reads the tick reader dry, so that it parks again. */
static void tick_drain(struct http_live *l, struct mjpeg_cam *mc)
{
	for (int i = 0; i < 1024 && mc->tick; i++) {
		ssize_t n = hub_reader_read(mc->tick, l->drain, DRAIN_SIZE, mc);

		if (n == -EAGAIN)
			return;
		if (n == 0) {   /* a codec change: follow the new stream */
			hub_reader_free(mc->tick);
			mc->tick = hub_reader_new(camera_hub(l->s->cams[mc->cam]), tick_wake, mc);
		}
	}
}

void http_live_service(struct http_live *l)
{
	for (int i = 0; l && i < l->s->cfg->n_cameras; i++) {
		struct mjpeg_cam *mc = &l->mjpeg[i];

		if (!atomic_exchange(&mc->woken, false))
			continue;
		tick_drain(l, mc);
		mjpeg_ask(mc);
	}
}

static void mjpeg_start(struct http_conn *c, int cam)
{
	struct mjpeg_cam *mc = &c->srv->live->mjpeg[cam];
	struct http_live_conn *lc = live_conn_new(c, 0);
	int fps = c->req.query_fps[0] ? atoi(c->req.query_fps) : 0;

	if (!lc) {
		http_error(c, 503, "503 Out of memory\n");
		return;
	}
	lc->cam = cam;
	lc->gap_us = fps > 0 ? 1000000 / (fps > MJPEG_MAX_FPS ? MJPEG_MAX_FPS : fps) : 0;
	if (!mc->tick) {
		mc->tick = hub_reader_new(camera_hub(c->srv->cams[cam]), tick_wake, mc);
		if (!mc->tick) {
			http_error(c, 503, "503 Out of memory\n");
			return;
		}
		atomic_store(&mc->woken, true);
		http_signal(c->srv);
	}
	lc->mjpeg_next = mc->clients;
	mc->clients = c;
	http_add_header(c, "cache-control:", "no-store");
	http_respond(c, 200, "multipart/x-mixed-replace; boundary=" HTTP_MJPEG_BOUNDARY, -1);
	c->kind = CONN_MJPEG;
	/* A picture at once if one is there; else the first job brings it. */
	mc->job_at_us = 0;
	mjpeg_ask(mc);
}

static int mjpeg_writeable(struct http_conn *c)
{
	struct http_live_conn *lc = c->live;
	struct mjpeg_cam *mc = &c->srv->live->mjpeg[lc->cam];
	size_t max, n = 0;
	unsigned char *data = http_endless_buffer(c, &max);

	if (!data)
		return -1;
	if (!lc->jpeg) {
		int64_t now = now_us();

		if (!mc->jpeg || mc->jpeg->data == lc->sent)
			return 0;   /* the next picture wakes us */
		if (now < lc->due_us) {
			lc->waiting_timer = true;
			lws_set_timer_usecs(c->wsi, lc->due_us - now);
			return 0;
		}
		lc->jpeg = av_buffer_ref(mc->jpeg);
		if (!lc->jpeg)
			return -1;
		lc->jpeg_size = mc->jpeg_size;
		lc->jpeg_off = 0;
		lc->sent = lc->jpeg->data;
		lc->due_us = now + lc->gap_us;
		n = (size_t)snprintf((char *)data, 128, "--" HTTP_MJPEG_BOUNDARY "\r\n"
				     "Content-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n",
				     lc->jpeg_size);
	}
	{
		size_t room = max - n, left = lc->jpeg_size - lc->jpeg_off;
		size_t take = left < room ? left : room;

		memcpy(data + n, lc->jpeg->data + lc->jpeg_off, take);
		lc->jpeg_off += take;
		n += take;
		if (lc->jpeg_off == lc->jpeg_size && n + 2 <= max) {
			memcpy(data + n, "\r\n", 2);
			n += 2;
			av_buffer_unref(&lc->jpeg);
		}
	}
	if (http_write_endless(c, n) < 0)
		return -1;
	if (lc->jpeg || (mc->jpeg && mc->jpeg->data != lc->sent))
		http_want_write(c);
	return 0;
}

int http_live_timer(struct http_conn *c)
{
	if (c->kind == CONN_MJPEG) {
		c->live->waiting_timer = false;
		http_want_write(c);
	}
	return 0;
}

/* ---- live.mp4 ---- */

void http_live_start(struct http_conn *c, int cam, bool mjpeg)
{
	struct http_live_conn *lc;

	if (c->req.head) {
		http_add_header(c, "cache-control:", "no-store");
		http_respond(c, 200, mjpeg ? "multipart/x-mixed-replace; boundary="
			     HTTP_MJPEG_BOUNDARY : "video/mp4", -1);
		return;
	}
	if (mjpeg) {
		mjpeg_start(c, cam);
		return;
	}
	if (!(lc = live_conn_new(c, 1)) || sub_open(&lc->subs[0], c, cam) < 0) {
		http_error(c, 503, "503 Out of memory\n");
		return;
	}
	lc->n_subs = 1;
	/* Never cached, never ranged: it starts at the newest keyframe. */
	http_add_header(c, "cache-control:", "no-store");
	http_respond(c, 200, "video/mp4", -1);
	c->kind = CONN_LIVE;
}

int http_live_writeable(struct http_conn *c)
{
	struct sub *sub;
	unsigned char *data;
	size_t max;
	ssize_t n;

	if (http_endless_head(c) < 0)
		return -1;
	if (c->kind == CONN_MJPEG)
		return mjpeg_writeable(c);
	sub = &c->live->subs[0];
	if (!(data = http_endless_buffer(c, &max)))
		return -1;
	n = sub_read(sub, data, max);
	if (n == -EAGAIN)
		return 0;
	if (n <= 0)   /* the stream ended (codec change, shutdown): so does the body */
		return http_end_endless(c);
	if (http_write_endless(c, (size_t)n) < 0)
		return -1;
	/* Caught up (the usual case, a frame at a time): park now rather
	 * than take one more writable turn only to find nothing. */
	if (sub_park(sub) == -EAGAIN)
		return 0;
	http_want_write(c);
	return 0;
}

void http_live_end(struct http_conn *c)
{
	struct http_live_conn *lc = c->live;

	if (!lc)
		return;
	for (int i = 0; i < lc->n_subs; i++)
		sub_close(&lc->subs[i]);
	if (lc->cam >= 0) {
		struct mjpeg_cam *mc = &c->srv->live->mjpeg[lc->cam];

		for (struct http_conn **p = &mc->clients; *p; p = &(*p)->live->mjpeg_next)
			if (*p == c) {
				*p = lc->mjpeg_next;
				break;
			}
		if (!mc->clients)
			tick_free(mc);
		av_buffer_unref(&lc->jpeg);
		if (lc->waiting_timer)
			lws_set_timer_usecs(c->wsi, -1);
	}
	free(lc->subs);
	free(lc->rx);
	free(lc->tx_text);
	free(lc);
	c->live = NULL;
}

/* ---- /ws/live ---- */

int http_live_ws_open(struct http_conn *c)
{
	struct http_live_conn *lc = live_conn_new(c, c->srv->cfg->n_cameras);

	if (!lc)
		return -1;
	lc->n_subs = c->srv->cfg->n_cameras;
	http_conn_busy(c, CONN_WS_LIVE);
	return 0;
}

/* Replaces the set of cameras followed by those named in msg. */
static int ws_subscribe(struct http_conn *c, const char *msg, size_t len)
{
	struct http_live_conn *lc = c->live;
	json_t *root = json_loadb(msg, len, 0, NULL), *cams = json_object_get(root, "cameras");
	bool *want = calloc(lc->n_subs ? lc->n_subs : 1, sizeof(*want));
	size_t i;
	json_t *v;
	int ret = 0;

	if (!want || !json_is_array(cams)) {
		json_decref(root);
		free(want);
		return want ? 0 : -1;   /* a message not for us is ignored */
	}
	json_array_foreach(cams, i, v) {
		int cam = json_is_string(v) ? http_camera_index(c->srv, json_string_value(v)) : -1;

		if (cam >= 0)
			want[cam] = true;
	}
	json_decref(root);
	for (int cam = 0; cam < lc->n_subs && ret == 0; cam++) {
		struct sub *sub = &lc->subs[cam];

		if (want[cam] && !sub->reader)
			ret = sub_open(sub, c, cam);
		else if (!want[cam] && sub->reader && lc->current != cam)
			sub_close(sub);
		/* A stream dropped mid-message ends after that message. */
		else if (!want[cam] && sub->reader)
			sub->dropped = true;
	}
	free(want);
	http_want_write(c);
	return ret;
}

int http_live_ws_receive(struct http_conn *c, const void *in, size_t len)
{
	struct http_live_conn *lc = c ? c->live : NULL;
	char *grown;
	int ret = 0;

	if (!lc)
		return -1;
	if (lws_is_first_fragment(c->wsi))
		lc->rx_len = 0;
	if (lc->rx_len + len > HTTP_LIVE_WS_MSG_MAX)
		return -1;   /* no control message is that long */
	if (!(grown = realloc(lc->rx, lc->rx_len + len + 1)))
		return -1;
	lc->rx = grown;
	memcpy(lc->rx + lc->rx_len, in, len);
	lc->rx_len += len;
	if (lws_is_final_fragment(c->wsi) && !lws_remaining_packet_payload(c->wsi)) {
		if (!lws_frame_is_binary(c->wsi))
			ret = ws_subscribe(c, lc->rx, lc->rx_len);
		lc->rx_len = 0;
	}
	return ret;
}

/* Follows sub's stream through its top-level boxes over the n bytes at p:
 * true if they end a unit (after a moov or an mdat). */
static bool walk_boxes(struct sub *sub, const uint8_t *p, size_t n)
{
	bool ends = false;

	while (n > 0) {
		if (sub->box_left == 0) {
			size_t need = 8, take;
			uint64_t size;

			if (sub->box_head_len >= 8 && AV_RB32(sub->box_head) == 1)
				need = 16;
			take = need - (size_t)sub->box_head_len;
			if (take > n)
				take = n;
			memcpy(sub->box_head + sub->box_head_len, p, take);
			sub->box_head_len += (int)take;
			p += take;
			n -= take;
			if (sub->box_head_len == 8 && AV_RB32(sub->box_head) == 1)
				continue;   /* a 64-bit size follows */
			if ((size_t)sub->box_head_len < need)
				break;
			size = AV_RB32(sub->box_head);
			if (size == 1)
				size = AV_RB64(sub->box_head + 8);
			sub->box_ends_unit = memcmp(sub->box_head + 4, "moov", 4) == 0 ||
				memcmp(sub->box_head + 4, "mdat", 4) == 0;
			sub->box_left = size > need ? size - need : 0;
			sub->box_head_len = 0;
			ends = false;
			if (sub->box_left == 0 && sub->box_ends_unit)
				ends = true;
			continue;
		}
		{
			size_t take = n < sub->box_left ? n : (size_t)sub->box_left;

			sub->box_left -= take;
			p += take;
			n -= take;
			ends = sub->box_left == 0 && sub->box_ends_unit;
		}
	}
	return ends && sub->box_head_len == 0;
}

static int ws_send_text(struct http_conn *c, const char *text)
{
	unsigned char *buf = http_buffer(c);
	size_t n = strlen(text);

	if (!buf || n > HTTP_CHUNK)
		return -1;
	memcpy(buf + LWS_PRE, text, n);
	return lws_write(c->wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n ? -1 : 0;
}

int http_live_ws_writeable(struct http_conn *c)
{
	struct http_live_conn *lc = c ? c->live : NULL;
	unsigned char *buf;

	if (!lc || !(buf = http_buffer(c)))
		return -1;
	for (int tries = 0; tries < lc->n_subs; tries++) {
		int k = lc->current >= 0 ? lc->current : (lc->next + tries) % lc->n_subs;
		struct sub *sub = &lc->subs[k];
		const char *name = c->srv->cfg->cameras[k].name;
		size_t head = 0, name_len = strlen(name);
		bool start = !sub->msg_open, end;
		ssize_t n;

		if (!sub->reader)
			continue;
		if (sub->ended && !sub->msg_open) {
			char msg[128];

			snprintf(msg, sizeof(msg), "{\"camera\":\"%s\",\"end\":true}", name);
			/* A new stream after a codec change; none from a closed hub. */
			bool again = sub->got_data && !sub->dropped;

			sub_close(sub);
			if ((again && sub_open(sub, c, k) < 0) || ws_send_text(c, msg) < 0)
				return -1;
			http_want_write(c);
			return 0;
		}
		if (start) {
			buf[LWS_PRE] = (unsigned char)name_len;
			memcpy(buf + LWS_PRE + 1, name, name_len);
			head = 1 + name_len;
		}
		n = sub_read(sub, buf + LWS_PRE + head, HTTP_CHUNK - head);
		if (n == -EAGAIN) {
			if (lc->current >= 0)
				return 0;   /* cannot happen: fragments are published whole */
			continue;
		}
		if (n <= 0) {
			sub->ended = true;
			if (sub->msg_open) {
				/* Close the message the stream left open. */
				lws_write(c->wsi, buf + LWS_PRE, 0, LWS_WRITE_CONTINUATION);
				sub->msg_open = false;
				lc->current = -1;
			}
			http_want_write(c);
			return 0;
		}
		sub->got_data = true;
		end = walk_boxes(sub, buf + LWS_PRE + head, (size_t)n);
		if (lws_write(c->wsi, buf + LWS_PRE, head + (size_t)n,
			      lws_write_ws_flags(LWS_WRITE_BINARY, start, end)) < (int)(head + (size_t)n))
			return -1;
		sub->msg_open = !end;
		lc->current = end ? -1 : k;
		if (end && sub->dropped)
			sub_close(sub);
		if (end)
			lc->next = (k + 1) % lc->n_subs;
		http_want_write(c);
		return 0;
	}
	return 0;
}
