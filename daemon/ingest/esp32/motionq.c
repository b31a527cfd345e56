/* motionq.c - a ring of MOTIONQ_MAX reports and the thread that files them. */
#include "ingest/esp32/motionq.h"

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/camera.h"

struct report {
	struct camera *cam;
	int64_t wall_us;
	void *jpeg;                /* NULL: none */
	size_t size;
};

struct motionq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	struct report ring[MOTIONQ_MAX];
	size_t head, n;            /* guarded by lock */
	bool stop;
};

static void *filer_main(void *arg)
{
	struct motionq *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->n && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		if (!q->n)
			break;          /* stopping, and all filed */
		struct report r = q->ring[q->head];

		q->head = (q->head + 1) % MOTIONQ_MAX;
		q->n--;
		pthread_mutex_unlock(&q->lock);
		camera_device_motion(r.cam, true, r.wall_us, r.jpeg, r.size);
		free(r.jpeg);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int motionq_new(struct motionq **out)
{
	struct motionq *q = calloc(1, sizeof(*q));
	int ret;

	*out = NULL;
	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	ret = -pthread_create(&q->thread, NULL, filer_main, q);
	if (ret < 0) {
		pthread_cond_destroy(&q->cond);
		pthread_mutex_destroy(&q->lock);
		free(q);
		return ret;
	}
	pthread_setname_np(q->thread, "camfs-esp32-ev");
	*out = q;
	return 0;
}

void motionq_free(struct motionq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

int motionq_put(struct motionq *q, struct camera *cam, int64_t wall_us, const void *jpeg,
		size_t size)
{
	void *copy = NULL;
	int ret = 0;

	if (jpeg && !(copy = malloc(size)))
		return -ENOMEM;
	if (copy)
		memcpy(copy, jpeg, size);
	pthread_mutex_lock(&q->lock);
	if (q->n == MOTIONQ_MAX) {
		ret = -ENOBUFS;
	} else {
		q->ring[(q->head + q->n) % MOTIONQ_MAX] = (struct report){
			.cam = cam, .wall_us = wall_us, .jpeg = copy, .size = size,
		};
		q->n++;
		copy = NULL;
		pthread_cond_signal(&q->cond);
	}
	pthread_mutex_unlock(&q->lock);
	free(copy);
	return ret;
}
