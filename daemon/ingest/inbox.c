/* inbox.c - a ring of packet references between a connection thread and a
 * feed thread, on one mutex and a monotonic condition linked to the stop
 * token. */
#include "ingest/inbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "util/deadline.h"
#include "util/stop.h"

struct inbox {
	pthread_mutex_t lock;
	pthread_cond_t cond;          /* CLOCK_MONOTONIC: a packet, an end or a stop */
	struct stop *stop;            /* immutable; NULL: none */
	struct stop_link link;
	AVPacket **ring;              /* guarded by lock; cap slots, allocated */
	size_t cap, head, count;      /* guarded by lock */
	int end;                      /* guarded by lock: 0, or what takes return once empty */
};

int inbox_new(struct inbox **out, size_t max_packets, struct stop *stop)
{
	struct inbox *q = calloc(1, sizeof(*q));
	int ret = -ENOMEM;

	*out = NULL;
	if (!q)
		return -ENOMEM;
	q->cap = max_packets ? max_packets : 1;
	q->ring = calloc(q->cap, sizeof(*q->ring));
	if (!q->ring)
		goto fail;
	for (size_t i = 0; i < q->cap; i++)
		if (!(q->ring[i] = av_packet_alloc()))
			goto fail;
	pthread_mutex_init(&q->lock, NULL);
	if ((ret = deadline_cond_init(&q->cond)) < 0) {
		pthread_mutex_destroy(&q->lock);
		goto fail;
	}
	q->stop = stop;
	if (stop)
		stop_link(stop, &q->link, &q->lock, &q->cond);
	*out = q;
	return 0;
fail:
	for (size_t i = 0; q->ring && i < q->cap; i++)
		av_packet_free(&q->ring[i]);
	free(q->ring);
	free(q);
	return ret;
}

void inbox_free(struct inbox *q)
{
	if (!q)
		return;
	if (q->stop)
		stop_unlink(q->stop, &q->link);
	for (size_t i = 0; i < q->cap; i++)
		av_packet_free(&q->ring[i]);
	free(q->ring);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

int inbox_put(struct inbox *q, const AVPacket *pkt)
{
	int ret = 0;

	pthread_mutex_lock(&q->lock);
	if (q->end) {
		ret = -EPIPE;
	} else if (q->count == q->cap) {
		q->end = AVERROR(ENOBUFS);
		ret = -ENOBUFS;
	} else {
		ret = av_packet_ref(q->ring[(q->head + q->count) % q->cap], pkt);
		if (ret == 0)
			q->count++;
	}
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return ret;
}

void inbox_end(struct inbox *q, int err)
{
	pthread_mutex_lock(&q->lock);
	if (!q->end)
		q->end = err < 0 ? err : AVERROR_EOF;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void inbox_restart(struct inbox *q)
{
	pthread_mutex_lock(&q->lock);
	for (; q->count; q->count--, q->head = (q->head + 1) % q->cap)
		av_packet_unref(q->ring[q->head]);
	q->end = 0;
	pthread_mutex_unlock(&q->lock);
}

int inbox_take(struct inbox *q, AVPacket *pkt, int64_t deadline_us)
{
	int ret;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		if (stop_requested(q->stop)) {
			ret = AVERROR_EXIT;
			break;
		}
		if (q->count) {
			av_packet_move_ref(pkt, q->ring[q->head]);
			q->head = (q->head + 1) % q->cap;
			q->count--;
			ret = 0;
			break;
		}
		if (q->end) {
			ret = q->end;
			break;
		}
		/* What came as the time ran out is still taken. */
		if (deadline_wait_until(&q->cond, &q->lock, deadline_us) == ETIMEDOUT &&
		    !q->count && !q->end && !stop_requested(q->stop)) {
			ret = AVERROR(ETIMEDOUT);
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}
