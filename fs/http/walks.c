/* walks.c - a small LRU of tree walks ending at clips, so that the range
 * requests of one player reuse one clip build. */
#include "fs/http/walks.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/http/urlpath.h"

struct held {
	char path[URLPATH_MAX + 1];
	uint64_t ino;                    /* 0: a free slot */
	int64_t used_us;
};

struct http_walks {
	void (*release)(void *opaque, uint64_t ino);
	void *opaque;
	pthread_mutex_t lock;
	struct held held[HTTP_WALKS_MAX];   /* guarded by lock */
};

int http_walks_new(struct http_walks **out, void (*release)(void *opaque, uint64_t ino),
		   void *opaque)
{
	struct http_walks *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->release = release;
	w->opaque = opaque;
	pthread_mutex_init(&w->lock, NULL);
	*out = w;
	return 0;
}

void http_walks_free(struct http_walks *w)
{
	if (!w)
		return;
	for (int i = 0; i < HTTP_WALKS_MAX; i++)
		if (w->held[i].ino)
			w->release(w->opaque, w->held[i].ino);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

void http_walks_hold(struct http_walks *w, const char *path, uint64_t ino, int64_t now_us)
{
	struct held *slot = NULL;
	uint64_t drop = 0;

	pthread_mutex_lock(&w->lock);
	for (int i = 0; i < HTTP_WALKS_MAX && !slot; i++)
		if (w->held[i].ino && strcmp(w->held[i].path, path) == 0)
			slot = &w->held[i];
	if (slot) {
		drop = ino;
	} else {
		slot = &w->held[0];
		for (int i = 1; i < HTTP_WALKS_MAX && slot->ino; i++)
			if (!w->held[i].ino || w->held[i].used_us < slot->used_us)
				slot = &w->held[i];
		drop = slot->ino;
		slot->ino = ino;
		snprintf(slot->path, sizeof(slot->path), "%s", path);
	}
	slot->used_us = now_us;
	pthread_mutex_unlock(&w->lock);
	/* Outside the lock: a release frees a clip's build. */
	if (drop)
		w->release(w->opaque, drop);
}

void http_walks_expire(struct http_walks *w, int64_t now_us)
{
	uint64_t drop[HTTP_WALKS_MAX];
	int n = 0;

	pthread_mutex_lock(&w->lock);
	for (int i = 0; i < HTTP_WALKS_MAX; i++)
		if (w->held[i].ino && now_us - w->held[i].used_us >= HTTP_WALKS_IDLE_US) {
			drop[n++] = w->held[i].ino;
			w->held[i].ino = 0;
		}
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < n; i++)
		w->release(w->opaque, drop[i]);
}
