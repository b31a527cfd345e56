/* vfile.c - extent lists: append while building, binary-search on read;
 * the store files they read held through one pool bounded in fds. */
#include "record/vfile.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/array.h"
#include "util/log.h"
#include "record/store.h"

struct vfile_source {
	struct vfile *owner;
	char *store, *path;      /* NULL for a file held for good (vfile_add_fd) */
	uint64_t id[4];          /* the file it must be when opened again */
	int fd;                  /* -1 while closed; guarded by pool.lock */
	int pins;                /* reads using fd now; guarded by pool.lock */
	bool gone_logged;        /* guarded by pool.lock */
	struct vfile_source *prev, *next; /* pool.lru while fd >= 0; guarded by pool.lock */
};

/* Every pooled fd, least recently used first. Opens happen with the lock
 * held, so two reads never open the same source twice. */
static struct {
	pthread_mutex_t lock;
	struct vfile_source *head, *tail;   /* guarded by lock */
	size_t open, budget;                /* guarded by lock */
} pool = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, SIZE_MAX };

/* Caller holds pool.lock (all the LRU helpers). */
static void lru_unlink(struct vfile_source *s)
{
	*(s->prev ? &s->prev->next : &pool.head) = s->next;
	*(s->next ? &s->next->prev : &pool.tail) = s->prev;
	s->prev = s->next = NULL;
}

static void lru_append(struct vfile_source *s)
{
	s->prev = pool.tail;
	s->next = NULL;
	*(pool.tail ? &pool.tail->next : &pool.head) = s;
	pool.tail = s;
}

static void close_pooled(struct vfile_source *s)
{
	lru_unlink(s);
	close(s->fd);
	s->fd = -1;
	pool.open--;
}

/* Closes the least recently used fd nobody reads, one of a vfile without
 * handles before one an open file may read soon (or only such a one). */
static bool evict(bool idle_only)
{
	struct vfile_source *any = NULL;

	for (struct vfile_source *s = pool.head; s; s = s->next) {
		if (s->pins)
			continue;
		if (s->owner->handles == 0) {
			close_pooled(s);
			return true;
		}
		if (!any)
			any = s;
	}
	if (any && !idle_only)
		close_pooled(any);
	return any != NULL && !idle_only;
}

static bool evict_one(void)
{
	return evict(false);
}

void vfile_set_fd_budget(size_t n)
{
	pthread_mutex_lock(&pool.lock);
	pool.budget = n;
	while (pool.open > pool.budget && evict_one())
		;
	pthread_mutex_unlock(&pool.lock);
}

size_t vfile_fds_budget(void)
{
	size_t n;

	pthread_mutex_lock(&pool.lock);
	n = pool.budget;
	pthread_mutex_unlock(&pool.lock);
	return n;
}

size_t vfile_fds_open(void)
{
	size_t n;

	pthread_mutex_lock(&pool.lock);
	n = pool.open;
	pthread_mutex_unlock(&pool.lock);
	return n;
}

size_t vfile_shed_fds(size_t n)
{
	size_t done = 0;

	pthread_mutex_lock(&pool.lock);
	while (done < n && evict_one())
		done++;
	pthread_mutex_unlock(&pool.lock);
	return done;
}

/* Caller holds pool.lock. */
static int open_in_pool(const char *store, const char *path)
{
	int fd;

	while (pool.open >= pool.budget)
		if (!evict_one())
			return -EMFILE;   /* every pooled fd is being read */
	for (;;) {
		fd = store_open_file(store, path);
		if ((fd != -EMFILE && fd != -ENFILE) || !evict_one())
			return fd;
	}
}

int vfile_open_file(const char *store, const char *path)
{
	int fd;

	pthread_mutex_lock(&pool.lock);
	fd = open_in_pool(store, path);
	pthread_mutex_unlock(&pool.lock);
	return fd;
}

struct vfile *vfile_new(void)
{
	struct vfile *v = calloc(1, sizeof(*v));

	if (v)
		atomic_init(&v->refs, 1);
	return v;
}

struct vfile *vfile_ref(struct vfile *v)
{
	atomic_fetch_add(&v->refs, 1);
	return v;
}

static void source_free(struct vfile_source *s)
{
	if (s->fd >= 0) {
		if (s->path) {
			pthread_mutex_lock(&pool.lock);
			close_pooled(s);
			pthread_mutex_unlock(&pool.lock);
		} else {
			close(s->fd);
		}
	}
	free(s->store);
	free(s->path);
	free(s);
}

void vfile_unref(struct vfile **vp)
{
	struct vfile *v = *vp;

	*vp = NULL;
	if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
		return;
	for (size_t i = 0; i < v->n_owned; i++)
		free(v->owned[i]);
	for (size_t i = 0; i < v->n_src; i++)
		source_free(v->src[i]);
	free(v->owned);
	free(v->src);
	free(v->ext);
	free(v);
}

static int add_extent(struct vfile *v, const uint8_t *data, int src, uint64_t pos, uint64_t len)
{
	struct vfile_extent *last = v->n_ext ? &v->ext[v->n_ext - 1] : NULL;

	if (len == 0)
		return 0;
	if (last && !data && !last->data && last->src == src && last->pos + last->len == pos) {
		last->len += len;
	} else {
		if (array_grow(&v->ext, &v->cap_ext, v->n_ext, sizeof(*v->ext)) < 0)
			return -ENOMEM;
		v->ext[v->n_ext++] = (struct vfile_extent){
			.start = v->size, .len = len, .data = data, .src = src, .pos = pos,
		};
	}
	v->size += len;
	return 0;
}

int vfile_add_owned(struct vfile *v, uint8_t *data, size_t len)
{
	if (array_grow(&v->owned, &v->cap_owned, v->n_owned, sizeof(*v->owned)) < 0) {
		free(data);
		return -ENOMEM;
	}
	v->owned[v->n_owned++] = data;
	return add_extent(v, data, -1, 0, len);
}

/* fd's file told apart from any other: device and inode, and its birth
 * time, because a deleted segment's inode number is soon given to a new
 * file (ctime would not do: a growing segment's changes with each write).
 * Where the filesystem keeps no birth time, inode alone. */
static int identify(int fd, uint64_t id[4])
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &sx) < 0)
		return -errno;
	id[0] = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	id[1] = sx.stx_ino;
	id[2] = sx.stx_mask & STATX_BTIME ? (uint64_t)sx.stx_btime.tv_sec : 0;
	id[3] = sx.stx_mask & STATX_BTIME ? sx.stx_btime.tv_nsec : 0;
	return 0;
}

/* A new source holding fd (closed on failure). */
static int add_source(struct vfile *v, const char *store, const char *path, int fd)
{
	struct vfile_source *s = NULL;
	uint64_t id[4];
	int ret;

	if ((ret = identify(fd, id)) < 0)
		goto fail;
	ret = -ENOMEM;
	if (array_grow(&v->src, &v->cap_src, v->n_src, sizeof(*v->src)) < 0 ||
	    !(s = calloc(1, sizeof(*s))))
		goto fail;
	*s = (struct vfile_source){ .owner = v, .fd = fd };
	memcpy(s->id, id, sizeof(id));
	if (path && (!(s->store = strdup(store)) || !(s->path = strdup(path)))) {
		free(s->store);
		goto fail;
	}
	if (path) {
		pthread_mutex_lock(&pool.lock);
		lru_append(s);
		pool.open++;
		pthread_mutex_unlock(&pool.lock);
	}
	v->src[v->n_src] = s;
	return (int)v->n_src++;
fail:
	free(s);
	close(fd);
	return ret;
}

int vfile_add_fd(struct vfile *v, int fd)
{
	return add_source(v, NULL, NULL, fd);
}

int vfile_add_file(struct vfile *v, const char *store, const char *path, int fd)
{
	return add_source(v, store, path, fd);
}

int vfile_add_range(struct vfile *v, int slot, uint64_t pos, uint64_t len)
{
	return add_extent(v, NULL, slot, pos, len);
}

/* Source s's file opened again, if it is the same file. Caller holds
 * pool.lock and has made room. */
static int reopen(struct vfile_source *s)
{
	uint64_t id[4];
	int fd = store_open_file(s->store, s->path);

	if (fd >= 0 && (identify(fd, id) < 0 || memcmp(id, s->id, sizeof(id)) != 0)) {
		close(fd);
		fd = -ENOENT;   /* another file has its name now */
	}
	if (fd >= 0) {
		s->fd = fd;
		lru_append(s);
		pool.open++;
	}
	return fd;
}

int vfile_pin(struct vfile *v, int src)
{
	struct vfile_source *s = v->src[src];
	int fd, ret;

	pthread_mutex_lock(&pool.lock);
	if (s->fd >= 0) {
		if (s->path) {   /* the most recently used now */
			lru_unlink(s);
			lru_append(s);
		}
		s->pins++;
		fd = s->fd;
		goto out;
	}
	fd = -EMFILE;
	while (pool.open >= pool.budget)
		if (!evict_one())
			break;
	if (pool.open < pool.budget)
		for (;;) {
			fd = reopen(s);
			if ((fd != -EMFILE && fd != -ENFILE) || !evict_one())
				break;
		}
	if (fd < 0) {
		ret = fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM ? fd : -EIO;
		/* Retention deleted it while no fd held it (the pool was full). */
		if (!s->gone_logged)
			log_warning("clip", "cannot open %s again: %s", s->path, strerror(-fd));
		s->gone_logged = ret == -EIO;
		fd = ret;
		goto out;
	}
	s->pins = 1;
out:
	pthread_mutex_unlock(&pool.lock);
	return fd;
}

void vfile_unpin(struct vfile *v, int src)
{
	pthread_mutex_lock(&pool.lock);
	v->src[src]->pins--;
	pthread_mutex_unlock(&pool.lock);
}

/* Closes v's pooled fds nobody reads. Caller holds pool.lock. */
static void close_all(struct vfile *v)
{
	for (size_t i = 0; i < v->n_src; i++) {
		struct vfile_source *s = v->src[i];

		if (s->path && s->fd >= 0 && s->pins == 0)
			close_pooled(s);
	}
}

void vfile_handle_open(struct vfile *v)
{
	pthread_mutex_lock(&pool.lock);
	/* The first handle opens every file now, as far as the pool allows
	 * without taking fds other open files hold: footage retention deletes
	 * after this open stays readable to the end. */
	if (v->handles++ == 0)
		for (size_t i = 0; i < v->n_src; i++) {
			struct vfile_source *s = v->src[i];

			if (!s->path || s->fd >= 0)
				continue;
			if (pool.open >= pool.budget && !evict(true))
				break;
			if (reopen(s) == -EMFILE)
				break;
		}
	pthread_mutex_unlock(&pool.lock);
}

void vfile_handle_close(struct vfile *v)
{
	pthread_mutex_lock(&pool.lock);
	if (--v->handles == 0)
		close_all(v);
	pthread_mutex_unlock(&pool.lock);
}

void vfile_close_fds(struct vfile *v)
{
	pthread_mutex_lock(&pool.lock);
	if (v->handles == 0)
		close_all(v);
	pthread_mutex_unlock(&pool.lock);
}

void vfile_source_id(const struct vfile *v, int src, uint64_t id[4])
{
	memcpy(id, v->src[src]->id, sizeof(v->src[src]->id));
}

/* The last extent starting at or before off (extents are sorted by start,
 * contiguous and never empty, so that is the one holding off). */
static size_t find(const struct vfile *v, uint64_t off)
{
	size_t lo = 0, hi = v->n_ext;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (v->ext[mid].start <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

size_t vfile_slice(const struct vfile *v, uint64_t off, size_t size,
		   struct vfile_extent *out, size_t max)
{
	size_t first, n;
	uint64_t end;

	if (off >= v->size || size == 0)
		return 0;
	end = off + size < v->size ? off + size : v->size;
	/* Two searches give the count without walking the range, so a caller
	 * can size its array for exactly this read first. */
	first = find(v, off);
	n = find(v, end - 1) - first + 1;
	if (!out)
		return n;
	if (n > max)
		n = max;
	for (size_t k = 0; k < n; k++) {
		const struct vfile_extent *e = &v->ext[first + k];
		uint64_t from = off > e->start ? off - e->start : 0;
		uint64_t to = end - e->start < e->len ? end - e->start : e->len;

		out[k] = *e;
		out[k].start = e->start + from;
		out[k].len = to - from;
		if (e->data)
			out[k].data = e->data + from;
		else
			out[k].pos = e->pos + from;
	}
	return n;
}
