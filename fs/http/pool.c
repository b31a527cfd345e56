/* pool.c - a fixed set of worker threads over one bounded FIFO of jobs, and
 * the list of finished jobs the event loop collects. */
#include "fs/http/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct http_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;             /* signalled when a job is queued or on stop */
	struct http_job *head, *tail;    /* guarded by lock: queued, oldest first */
	int queued;                      /* guarded by lock */
	int queue_max;                   /* immutable */
	bool stopping;                   /* guarded by lock */
	struct http_job *done_head, *done_tail;   /* guarded by lock */
	void (*done)(void *opaque);      /* immutable, like opaque */
	void *opaque;
	pthread_t *threads;
	int n_threads;                   /* started */
};

/* Appends job to the list head..tail. */
static void append(struct http_job **head, struct http_job **tail, struct http_job *job)
{
	job->next = NULL;
	if (*tail)
		(*tail)->next = job;
	else
		*head = job;
	*tail = job;
}

static void *worker_main(void *arg)
{
	struct http_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct http_job *job;

		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->work, &p->lock);
		if (!p->head)
			break;   /* stopping, and the queue is empty */
		job = p->head;
		p->head = job->next;
		if (!p->head)
			p->tail = NULL;
		p->queued--;
		pthread_mutex_unlock(&p->lock);

		job->run(job);

		pthread_mutex_lock(&p->lock);
		append(&p->done_head, &p->done_tail, job);
		pthread_mutex_unlock(&p->lock);
		p->done(p->opaque);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int http_pool_new(struct http_pool **out, int threads, int queue_max,
		  void (*done)(void *opaque), void *opaque)
{
	struct http_pool *p = calloc(1, sizeof(*p));
	int ret = 0;

	*out = NULL;
	if (!p || !(p->threads = calloc(threads, sizeof(*p->threads)))) {
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	p->queue_max = queue_max;
	p->done = done;
	p->opaque = opaque;
	for (int i = 0; i < threads; i++) {
		char name[32];

		ret = -pthread_create(&p->threads[i], NULL, worker_main, p);
		if (ret < 0)
			break;
		snprintf(name, sizeof(name), "camfs-http-w%d", i);
		pthread_setname_np(p->threads[i], name);
		p->n_threads++;
	}
	if (ret < 0) {
		http_pool_stop(p);
		http_pool_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

void http_pool_stop(struct http_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	p->n_threads = 0;
}

void http_pool_free(struct http_pool *p)
{
	if (!p)
		return;
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}

int http_pool_submit(struct http_pool *p, struct http_job *job)
{
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	if (p->stopping)
		ret = -ESHUTDOWN;
	else if (p->queued >= p->queue_max)
		ret = -EBUSY;
	if (ret == 0) {
		append(&p->head, &p->tail, job);
		p->queued++;
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

struct http_job *http_pool_done(struct http_pool *p)
{
	struct http_job *job;

	pthread_mutex_lock(&p->lock);
	job = p->done_head;
	if (job) {
		p->done_head = job->next;
		if (!p->done_head)
			p->done_tail = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return job;
}
