/* feed.c - the event feed: a ring of recent Server-Sent Events, filled by a
 * once-a-second look at every camera's status, and the clients following
 * it at their own pace. */
#include "fs/http/feed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "config.h"
#include "fs/http/http_internal.h"
#include "ingest/camera.h"
#include "util/log.h"

struct http_feed {
	struct http_server *s;
	struct camera_status *last;     /* per camera: as last looked at */
	char *ring[HTTP_FEED_KEPT];     /* event seq is in ring[seq % KEPT] */
	int64_t next_seq;               /* the next event's number */
	int ticks;                      /* for pings */
};

int http_feed_new(struct http_feed **out, struct http_server *s)
{
	struct http_feed *f = calloc(1, sizeof(*f));
	int n = s->cfg->n_cameras;

	*out = NULL;
	if (!f || !(f->last = calloc(n ? n : 1, sizeof(*f->last)))) {
		free(f);
		return -ENOMEM;
	}
	f->s = s;
	*out = f;
	return 0;
}

void http_feed_free(struct http_feed *f)
{
	if (!f)
		return;
	for (int i = 0; i < HTTP_FEED_KEPT; i++)
		free(f->ring[i]);
	free(f->last);
	free(f);
}

/* Local ISO 8601 with offset, from µs since the epoch. */
static void iso_time(int64_t wall_us, char out[40])
{
	time_t t = (time_t)(wall_us / 1000000);
	struct tm tm;
	char zone[8];

	localtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	/* +0100 -> +01:00 */
	snprintf(out + strlen(out), 8, "%.3s:%.2s", zone, zone + 3);
}

/* "event: NAME\ndata: JSON\n\n", malloc'd; takes obj. */
static char *sse(const char *name, json_t *obj)
{
	char *json = obj ? json_dumps(obj, JSON_COMPACT) : NULL, *out = NULL;

	json_decref(obj);
	if (json && asprintf(&out, "event: %s\ndata: %s\n\n", name, json) < 0)
		out = NULL;
	free(json);
	return out;
}

static char *status_event(struct http_feed *f, int cam, const struct camera_status *st)
{
	char since[40];

	iso_time(st->since_us, since);
	return sse("status", json_pack("{s:s, s:b, s:s, s:i, s:i, s:f, s:s, s:s}",
				       "camera", f->s->cfg->cameras[cam].name,
				       "online", st->online, "codec", st->codec,
				       "width", st->width, "height", st->height, "fps", st->fps,
				       "since", since, "error", st->last_error));
}

static void push(struct http_feed *f, char *text)
{
	char **slot = &f->ring[f->next_seq % HTTP_FEED_KEPT];

	if (!text)
		return;
	free(*slot);
	*slot = text;
	f->next_seq++;
}

void http_feed_tick(struct http_feed *f)
{
	struct http_server *s = f->s;
	int64_t before = f->next_seq;

	for (int i = 0; i < s->cfg->n_cameras; i++) {
		struct camera_status st, *old = &f->last[i];

		camera_get_status(s->cams[i], &st);
		if (st.online != old->online || strcmp(st.codec, old->codec) != 0 ||
		    st.width != old->width || st.height != old->height ||
		    strcmp(st.last_error, old->last_error) != 0)
			push(f, status_event(f, i, &st));
		if (st.in_event != old->in_event) {
			char when[40];
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			iso_time(now.tv_sec * 1000000LL, when);
			push(f, sse("motion", json_pack("{s:s, s:s, s:s}", "camera",
							s->cfg->cameras[i].name, "phase",
							st.in_event ? "start" : "end", "time", when)));
		}
		*old = st;
	}
	if (++f->ticks % HTTP_FEED_PING_S == 0)
		push(f, strdup(": ping\n\n"));
	if (f->next_seq == before)
		return;
	for (struct http_conn *c = s->busy; c; c = c->busy_next)
		if (c->kind == CONN_EVENTS)
			http_want_write(c);
}

void http_feed_start(struct http_conn *c)
{
	struct http_feed *f = c->srv->feed;

	http_add_header(c, "cache-control:", "no-store");
	if (c->req.head) {
		http_respond(c, 200, "text/event-stream", -1);
		return;
	}
	http_respond(c, 200, "text/event-stream", -1);
	c->kind = CONN_EVENTS;
	c->events_seq = f->next_seq;
	c->events_hello = c->srv->cfg->n_cameras;
}

static int send_text(struct http_conn *c, const char *text)
{
	size_t max, n = strlen(text);
	unsigned char *data = http_endless_buffer(c, &max);

	if (!data)
		return -1;
	if (n > max)
		n = max;   /* no event is that long: ~300 bytes */
	memcpy(data, text, n);
	return http_write_endless(c, n);
}

int http_feed_writeable(struct http_conn *c)
{
	struct http_feed *f = c->srv->feed;
	char *text = NULL;
	int ret;

	if (http_endless_head(c) < 0)
		return -1;
	if (c->events_hello > 0) {
		int cam = c->srv->cfg->n_cameras - c->events_hello--;
		struct camera_status st;

		camera_get_status(c->srv->cams[cam], &st);
		text = status_event(f, cam, &st);
		ret = text ? send_text(c, text) : -1;
		free(text);
		http_want_write(c);
		return ret;
	}
	/* A client that fell behind by more than is kept loses the oldest. */
	if (c->events_seq < f->next_seq - HTTP_FEED_KEPT)
		c->events_seq = f->next_seq - HTTP_FEED_KEPT;
	if (c->events_seq >= f->next_seq)
		return 0;
	ret = send_text(c, f->ring[c->events_seq++ % HTTP_FEED_KEPT]);
	if (c->events_seq < f->next_seq)
		http_want_write(c);
	return ret;
}

void http_feed_end(struct http_conn *c)
{
	c->events_seq = 0;
	c->events_hello = 0;
}
