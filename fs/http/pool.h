/* pool.h - the HTTP export's few worker threads: what may block (tree
 * walks, clip builds, renders, JPEG encodes, password hashes) runs here, off
 * the event loop, and comes back to it finished. */
#ifndef CAMFS_HTTP_POOL_H
#define CAMFS_HTTP_POOL_H

#include <stddef.h>

struct http_pool;

/* One piece of work. The submitter owns it again when http_pool_done()
 * hands it back; embed it in a larger struct. */
struct http_job {
	void (*run)(struct http_job *job);   /* on a worker thread */
	void (*done)(struct http_job *job);  /* back on the event loop; may free job */
	struct http_job *next;               /* the pool's */
};

/* done(opaque) is called on a worker each time a job has finished, to wake
 * the loop (it calls lws_cancel_service). threads workers named
 * "camfs-http-wN" start at once; at most queue_max jobs wait. */
int http_pool_new(struct http_pool **out, int threads, int queue_max,
		  void (*done)(void *opaque), void *opaque);
/* Runs the jobs still queued, joins the workers; then every job is in the
 * done list: take them with http_pool_done(). Accepts NULL. */
void http_pool_stop(struct http_pool *p);
/* After http_pool_stop and with the done list emptied. Accepts NULL. */
void http_pool_free(struct http_pool *p);

/* Queues job: 0, or -EBUSY when queue_max jobs already wait (the caller
 * answers 503), or -ESHUTDOWN once stopping. Thread-safe. */
int http_pool_submit(struct http_pool *p, struct http_job *job);
/* The next finished job, or NULL. Thread-safe. */
struct http_job *http_pool_done(struct http_pool *p);

#endif
