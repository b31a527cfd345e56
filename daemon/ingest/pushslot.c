/* pushslot.c - one device's frames through an inbox that lives as long as
 * the slot: a detach ends it. A JPEG slot's new feed session restarts it
 * (any frame starts a picture); a stream slot's new connection does, since
 * a stream is only readable from its start. */
#include "ingest/pushslot.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/esp32/wire.h"
#include "ingest/inbox.h"
#include "util/deadline.h"
#include "util/stop.h"

struct pushslot {
	struct stop *stop;
	enum pushslot_kind kind;           /* immutable */
	struct inbox *inbox;               /* immutable pointer */
	pthread_mutex_t lock;
	pthread_cond_t cond;               /* CLOCK_MONOTONIC: a device attached */
	struct stop_link link;
	/* guarded by lock: */
	bool attached;
	char peer[48];
	void (*wake)(void *);
	void *wake_opaque;
	json_t *fields;                    /* what the device said of itself */
	bool has_command;
	char command[PUSHSLOT_COMMAND_MAX];
	/* stream slots: the attached connection's stream is unread; a feed
	 * session reads one. */
	bool fresh, reading;
};

int pushslot_new(struct pushslot **out, struct stop *stop, enum pushslot_kind kind)
{
	struct pushslot *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->stop = stop;
	s->kind = kind;
	pthread_mutex_init(&s->lock, NULL);
	if ((ret = deadline_cond_init(&s->cond)) < 0 ||
	    (ret = inbox_new(&s->inbox, PUSHSLOT_QUEUE, stop)) < 0 ||
	    !(s->fields = json_object())) {
		if (ret == 0)
			ret = -ENOMEM;
		inbox_free(s->inbox);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return ret;
	}
	stop_link(stop, &s->link, &s->lock, &s->cond);
	*out = s;
	return 0;
}

void pushslot_free(struct pushslot *s)
{
	if (!s)
		return;
	stop_unlink(s->stop, &s->link);
	inbox_free(s->inbox);
	json_decref(s->fields);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int pushslot_attach(struct pushslot *s, const char *peer, void (*wake)(void *), void *opaque,
		    char holder[48])
{
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	if (s->attached) {
		snprintf(holder, 48, "%s", s->peer);
		ret = -EBUSY;
	} else if (s->kind == PUSHSLOT_STREAM && s->reading) {
		ret = -EAGAIN;
	} else {
		if (s->kind == PUSHSLOT_STREAM) {
			/* What the last connection left unread is not this stream's. */
			inbox_restart(s->inbox);
			s->fresh = true;
		}
		s->attached = true;
		snprintf(s->peer, sizeof(s->peer), "%s", peer);
		s->wake = wake;
		s->wake_opaque = opaque;
		s->has_command = false;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* A new packet holding a copy of data; NULL when out of memory. */
static AVPacket *packet_of(const uint8_t *data, size_t size)
{
	AVPacket *pkt = av_packet_alloc();

	if (!pkt || size > INT32_MAX || av_new_packet(pkt, (int)size) < 0) {
		av_packet_free(&pkt);
		return NULL;
	}
	memcpy(pkt->data, data, size);
	return pkt;
}

int pushslot_put_jpeg(struct pushslot *s, const uint8_t *jpeg, size_t size, int64_t wall_us)
{
	AVPacket *pkt = packet_of(jpeg, size);
	int ret;

	if (!pkt)
		return -ENOMEM;
	pkt->pts = pkt->dts = wall_us;
	pkt->flags |= AV_PKT_FLAG_KEY;
	pkt->stream_index = SOURCE_VIDEO;
	ret = inbox_put(s->inbox, pkt);
	av_packet_free(&pkt);
	return ret;
}

int pushslot_put_bytes(struct pushslot *s, const uint8_t *data, size_t size)
{
	AVPacket *pkt = packet_of(data, size);
	int ret;

	if (!pkt)
		return -ENOMEM;
	ret = inbox_put(s->inbox, pkt);
	av_packet_free(&pkt);
	return ret;
}

void pushslot_detach(struct pushslot *s)
{
	pthread_mutex_lock(&s->lock);
	s->attached = false;
	s->wake = NULL;
	s->has_command = false;
	inbox_end(s->inbox, AVERROR_EOF);
	pthread_mutex_unlock(&s->lock);
}

void pushslot_set_fields(struct pushslot *s, json_t *fields, bool replace, size_t max)
{
	const char *key;
	json_t *v;

	pthread_mutex_lock(&s->lock);
	if (replace)
		json_object_clear(s->fields);
	json_object_foreach(fields, key, v)
		if (json_object_get(s->fields, key) || json_object_size(s->fields) < max)
			json_object_set(s->fields, key, v);
	pthread_mutex_unlock(&s->lock);
	json_decref(fields);
}

bool pushslot_take_command(struct pushslot *s, char out[PUSHSLOT_COMMAND_MAX])
{
	bool any;

	pthread_mutex_lock(&s->lock);
	any = s->has_command;
	if (any)
		memcpy(out, s->command, PUSHSLOT_COMMAND_MAX);
	s->has_command = false;
	pthread_mutex_unlock(&s->lock);
	return any;
}

json_t *pushslot_fields(struct pushslot *s)
{
	json_t *out;

	pthread_mutex_lock(&s->lock);
	out = json_deep_copy(s->fields);
	if (out) {
		json_object_set_new(out, "connected", json_boolean(s->attached));
		json_object_set_new(out, "address", s->peer[0] ? json_string(s->peer) : json_null());
	}
	pthread_mutex_unlock(&s->lock);
	return out;
}

int pushslot_command(struct pushslot *s, const char *cmd, size_t len)
{
	void (*wake)(void *) = NULL;
	void *opaque = NULL;
	int ret = 0;

	if (len >= PUSHSLOT_COMMAND_MAX)
		return -EMSGSIZE;
	pthread_mutex_lock(&s->lock);
	if (!s->attached) {
		ret = -ENOTCONN;
	} else if (s->has_command) {
		ret = -EBUSY;
	} else {
		memcpy(s->command, cmd, len);
		s->command[len] = '\0';
		s->has_command = true;
		wake = s->wake;
		opaque = s->wake_opaque;
	}
	pthread_mutex_unlock(&s->lock);
	if (wake)
		wake(opaque);
	return ret;
}

/* A stream slot's feed side. */

/* A device this session can read: any attached board (any JPEG starts a
 * picture); a stream only from its first byte, so a connection nobody
 * read yet. */
static bool readable(const struct pushslot *s)
{
	return s->attached && (s->kind == PUSHSLOT_JPEG || s->fresh);
}

/* A feed session starts: waits for a readable device. */
static int session_begin(struct pushslot *s, int64_t deadline_us)
{
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	/* A connection whose stream a session already began cannot be read
	 * again from its start: ending its inbox makes its next put fail, and
	 * the device connects anew. */
	if (s->attached && !readable(s))
		inbox_end(s->inbox, AVERROR_EOF);
	while (!readable(s) && !stop_requested(s->stop))
		if (deadline_wait_until(&s->cond, &s->lock, deadline_us) == ETIMEDOUT &&
		    !readable(s)) {
			ret = SOURCE_ERROR_NO_DEVICE;
			break;
		}
	if (stop_requested(s->stop))
		ret = AVERROR_EXIT;
	if (ret == 0 && s->kind == PUSHSLOT_JPEG) {
		/* Frames queued while no session read them are old now. */
		inbox_restart(s->inbox);
	} else if (ret == 0) {
		s->fresh = false;
		s->reading = true;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int pushslot_stream_begin(struct pushslot *s, int64_t deadline_us)
{
	return session_begin(s, deadline_us);
}

int pushslot_stream_read(struct pushslot *s, AVPacket *pkt, int64_t deadline_us)
{
	return inbox_take(s->inbox, pkt, deadline_us);
}

void pushslot_stream_end(struct pushslot *s)
{
	pthread_mutex_lock(&s->lock);
	s->reading = false;
	pthread_mutex_unlock(&s->lock);
}

/* The source of a JPEG slot. */

struct pushsource {
	struct pushslot *slot;
	AVCodecParameters *par;
	AVPacket *first;                   /* taken by open, returned by the first read */
};

static int push_open(struct source *src, const struct source_opts *opts)
{
	struct pushsource *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return AVERROR(ENOMEM);
	src->priv = p;
	p->slot = opts->push;
	if (!(p->first = av_packet_alloc()) || !(p->par = avcodec_parameters_alloc()))
		return AVERROR(ENOMEM);
	if ((ret = session_begin(p->slot, source_wait_deadline_us(src))) < 0)
		return ret;
	ret = inbox_take(p->slot->inbox, p->first, source_wait_deadline_us(src));
	if (ret == AVERROR(ETIMEDOUT))
		return SOURCE_ERROR_NO_MEDIA;
	if (ret < 0)
		return ret;
	if (esp32_jpeg_size(p->first->data, (size_t)p->first->size, &p->par->width,
			    &p->par->height) < 0)
		return AVERROR_INVALIDDATA;
	p->par->codec_type = AVMEDIA_TYPE_VIDEO;
	p->par->codec_id = AV_CODEC_ID_MJPEG;
	p->par->format = AV_PIX_FMT_YUVJ422P;
	src->video.par = p->par;
	src->video.time_base = (AVRational){ 1, 1000000 };
	return 0;
}

static int push_read(struct source *src, AVPacket *pkt)
{
	struct pushsource *p = src->priv;
	int ret;

	if (p->first->size) {
		av_packet_move_ref(pkt, p->first);
		ret = 0;
	} else {
		ret = inbox_take(p->slot->inbox, pkt, source_wait_deadline_us(src));
	}
	if (ret == 0)
		src->packet_wall_us = pkt->pts;
	return ret;
}

static void push_close(struct source *src)
{
	struct pushsource *p = src->priv;

	if (!p)
		return;
	av_packet_free(&p->first);
	avcodec_parameters_free(&p->par);
	free(p);
	src->priv = NULL;
}

const struct source_ops pushslot_source_ops = {
	.name = "push",
	.open = push_open,
	.read = push_read,
	.close = push_close,
};
