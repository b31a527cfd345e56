/* tree.c - names to nodes. Directories and segments come from the store on
 * every lookup (the store is the truth); nodes only remember what the
 * kernel holds a reference to, keyed by inode and by (parent, name). */
#include "fs/tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "ingest/camera.h"
#include "ingest/pushslot.h"
#include "record/clip.h"
#include "util/array.h"
#include "util/log.h"
#include "fs/clipname.h"
#include "fs/nodeid.h"
#include "config.h"
#include "events/events.h"
#include "record/sidecar.h"
#include "stream/snapshot.h"
#include "record/store.h"
#include "record/vfile.h"
#include "record/writer.h"

#define BUCKETS 4096

struct node {
	uint64_t ino;
	uint64_t parent;
	enum tree_kind kind;
	int cam;
	char *name;
	uint64_t nlookup;
	struct vfile *vf;       /* CLIP, DAY_MP4, EVENT_CLIP: what lookups and new opens get */
	int64_t built_us;       /* when vf was built */
	int64_t range_end_us;   /* the end of its range: past built_us, it grows */
	/* Lookups of each directory above it that this node holds: taken
	 * by lookups by id (tree_lookup_id), which walk from the root, and
	 * given back when the node goes. */
	uint64_t parent_pins;
	struct node *by_ino_next;
	struct node *by_name_next;
};

/* A clip built this long after its range ended is never built again: the
 * frames before the end are committed by then (the writer syncs about once
 * a second). One built sooner is built again at a later lookup. A store
 * file last written this long ago is fixed too: a sidecar's last rows come
 * a second or two after its segment ends. */
#define SETTLE_US (5 * INT64_C(1000000))

static bool is_fixed(const struct node *n)
{
	return n->vf && n->built_us - n->range_end_us >= SETTLE_US;
}

struct tree {
	const struct config *cfg;
	struct camera **cams;
	struct writer *writer;
	pthread_mutex_t lock;
	struct node *by_ino[BUCKETS];    /* guarded by lock */
	struct node *by_name[BUCKETS];   /* guarded by lock */
	struct node root;
	time_t started;
};

/* Ids keep their variety in the high bits (fs/nodeid.c): mixed. */
static size_t ino_bucket(uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 52) % BUCKETS;
}

static size_t name_hash(uint64_t parent, const char *name)
{
	uint64_t h = parent * 0x9e3779b97f4a7c15ull;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ull;
	return h % BUCKETS;
}

/* Caller holds t->lock. */
static struct node *find_ino(struct tree *t, uint64_t ino)
{
	if (ino == TREE_ROOT_INO)
		return &t->root;
	for (struct node *n = t->by_ino[ino_bucket(ino)]; n; n = n->by_ino_next)
		if (n->ino == ino)
			return n;
	return NULL;
}

/* Caller holds t->lock. */
static struct node *find_name(struct tree *t, uint64_t parent, const char *name)
{
	for (struct node *n = t->by_name[name_hash(parent, name)]; n; n = n->by_name_next)
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

int tree_new(struct tree **out, const struct config *cfg, struct camera **cams,
	     struct writer *writer)
{
	struct tree *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->cfg = cfg;
	t->cams = cams;
	t->writer = writer;
	t->root = (struct node){ .ino = TREE_ROOT_INO, .kind = TREE_ROOT, .cam = -1, .name = "" };
	t->started = time(NULL);
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return 0;
}

void tree_free(struct tree *t)
{
	if (!t)
		return;
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct node *n = t->by_ino[b], *next; n; n = next) {
			next = n->by_ino_next;
			vfile_unref(&n->vf);
			free(n->name);
			free(n);
		}
	pthread_mutex_destroy(&t->lock);
	free(t);
}

struct writer *tree_writer(struct tree *t)
{
	return t->writer;
}

struct camera *tree_camera(struct tree *t, int cam)
{
	return t->cams[cam];
}

static bool is_date_name(const char *s)
{
	struct tm tm;

	return store_parse_date(s, &tm);
}

/* The segment name or path of a sidecar's (a sidecar is named as its
 * segment, with another suffix); false if s is not a sidecar's. */
static bool sidecar_segment(const char *s, char *segment, size_t size)
{
	size_t n = strlen(s), k = strlen(SIDECAR_SUFFIX);

	if (n <= k || n - k + 4 >= size || strcmp(s + n - k, SIDECAR_SUFFIX) != 0)
		return false;
	snprintf(segment, size, "%.*s.mp4", (int)(n - k), s);
	return true;
}

/* Segments (HH-MM-SS.mp4, HH-MM-SS_N.mp4) and their sidecars. */
static bool is_store_file_name(const char *s)
{
	char segment[NAME_MAX + 1];
	unsigned long seq;
	struct tm tm;

	if (sidecar_segment(s, segment, sizeof(segment)))
		s = segment;
	return store_parse_segment_name(s, &tm, &seq);
}

/* <HH-MM-SS>-<kind>[_N].mp4, an event clip's name (every event has one: a
 * camera's own around its moment); stem gets its stem. */
static bool is_event_clip_name(const char *name, char stem_out[EVENTS_STEM_MAX])
{
	char jpg[EVENTS_STEM_MAX + 8], stem[EVENTS_STEM_MAX];
	size_t len = strlen(name);

	if (len < 4 || len >= EVENTS_STEM_MAX || strcmp(name + len - 4, ".mp4") != 0)
		return false;
	snprintf(jpg, sizeof(jpg), "%.*s.jpg", (int)(len - 4), name);
	if (!events_is_snapshot_name(jpg, stem))
		return false;
	if (stem_out)
		memcpy(stem_out, stem, EVENTS_STEM_MAX);
	return true;
}

/* The store path of a camera, day, events or event day directory, or of
 * a store file in one. */
static void store_path(struct tree *t, const struct node *dir, const char *name,
		       char *out, size_t n)
{
	const char *cam = t->cfg->cameras[dir->cam].name;
	const char *sep = name ? "/" : "";

	if (!name)
		name = "";
	if (dir->kind == TREE_CAMERA)
		snprintf(out, n, "%s/%s%s%s", t->cfg->store, cam, sep, name);
	else if (dir->kind == TREE_EVENTS)
		snprintf(out, n, "%s/%s/" EVENTS_DIR "%s%s", t->cfg->store, cam, sep, name);
	else if (dir->kind == TREE_EVENT_DAY)
		snprintf(out, n, "%s/%s/" EVENTS_DIR "/%s%s%s", t->cfg->store, cam, dir->name, sep,
			 name);
	else
		snprintf(out, n, "%s/%s/%s%s%s", t->cfg->store, cam, dir->name, sep, name);
}

/* 0 and *st if path in the store is a directory (dir) or a regular file,
 * reached through no symbolic link (store_open); else -ENOENT. */
static int store_stat(struct tree *t, const char *path, bool dir, struct stat *st)
{
	int fd = store_open(t->cfg->store, path, O_PATH);
	int ret = fd >= 0 && fstat(fd, st) == 0 && (dir ? S_ISDIR(st->st_mode) : S_ISREG(st->st_mode));

	if (fd >= 0)
		close(fd);
	return ret ? 0 : -ENOENT;
}

static int store_has(struct tree *t, const char *path, bool dir)
{
	struct stat st;

	return store_stat(t, path, dir, &st);
}

int tree_open_store_file(struct tree *t, const char *path)
{
	return store_open_file(t->cfg->store, path);
}

static void dir_stat(struct tree *t, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
	st->st_mtime = st->st_ctime = st->st_atime = t->started;
}

static void file_stat(struct tree *t, struct stat *st, off_t size)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = size;
	st->st_blocks = (size + 511) / 512;
	st->st_mtime = st->st_ctime = st->st_atime = time(NULL);
	(void)t;
}

enum tree_life tree_store_file_life(struct tree *t, int cam, const char *path, struct stat *st)
{
	int64_t committed = writer_committed_size(t->writer, cam, path);
	int64_t now = (int64_t)time(NULL) * 1000000;
	char segment[4096];

	if (committed >= 0) {
		st->st_size = committed;
		return TREE_GROWING;
	}
	/* A sidecar grows with its segment. */
	if (sidecar_segment(path, segment, sizeof(segment)) &&
	    writer_committed_size(t->writer, cam, segment) >= 0)
		return TREE_GROWING;
	return now - ((int64_t)st->st_mtim.tv_sec * 1000000 + st->st_mtim.tv_nsec / 1000) >= SETTLE_US ?
	       TREE_FIXED : TREE_GROWING;
}

/* What a name in dir is, without touching the node table; in_store: and
 * that a store name is there. Caller holds t->lock (dir stays valid). */
static int resolve(struct tree *t, const struct node *dir, const char *name,
		   enum tree_kind *kind, int *cam, bool in_store)
{
	char path[4096];

	*cam = dir->cam;
	if (strcmp(name, TREE_LISTING_NAME) == 0) {
		*kind = TREE_LISTING;
		return 0;
	}
	switch (dir->kind) {
	case TREE_ROOT:
		if (strcmp(name, "status.json") == 0) {
			*kind = TREE_STATUS;
			return 0;
		}
		for (int i = 0; i < t->cfg->n_cameras; i++)
			if (strcmp(name, t->cfg->cameras[i].name) == 0) {
				*kind = TREE_CAMERA;
				*cam = i;
				return 0;
			}
		return -ENOENT;
	case TREE_CAMERA:
		if (strcmp(name, "status.json") == 0)
			*kind = TREE_STATUS;
		else if (strcmp(name, "live.mp4") == 0)
			*kind = TREE_LIVE_MP4;
		else if (strcmp(name, "live.jpg") == 0)
			*kind = TREE_LIVE_JPG;
		else if (strcmp(name, "clips") == 0)
			*kind = TREE_CLIPS;
		else if (strcmp(name, EVENTS_DIR) == 0)
			*kind = TREE_EVENTS;
		else if (is_date_name(name)) {
			store_path(t, dir, name, path, sizeof(path));
			*kind = TREE_DAY;
			return in_store ? store_has(t, path, true) : 0;
		} else
			return -ENOENT;
		return 0;
	case TREE_EVENTS:
		if (!is_date_name(name))
			return -ENOENT;
		store_path(t, dir, name, path, sizeof(path));
		*kind = TREE_EVENT_DAY;
		return in_store ? store_has(t, path, true) : 0;
	case TREE_EVENT_DAY:
		if (is_event_clip_name(name, NULL)) {
			*kind = TREE_EVENT_CLIP;   /* exists if it has a span: known when built */
			return 0;
		}
		if (!events_is_snapshot_name(name, NULL))
			return -ENOENT;
		store_path(t, dir, name, path, sizeof(path));
		*kind = TREE_STORE_FILE;
		return in_store ? store_has(t, path, false) : 0;
	case TREE_CLIPS: {
		int64_t a, b;

		if (strcmp(name, "README.txt") == 0)
			*kind = TREE_CLIPS_README;
		else if (clipname_parse(name, &a, &b) == 0)
			*kind = TREE_CLIP;
		else
			return -ENOENT;
		return 0;
	}
	case TREE_DAY:
		if (strcmp(name, "day.mp4") == 0) {
			*kind = TREE_DAY_MP4;
			return 0;
		}
		if (strcmp(name, "motion.csv") == 0) {
			*kind = TREE_DAY_MOTION;
			return 0;
		}
		if (!is_store_file_name(name))
			return -ENOENT;
		store_path(t, dir, name, path, sizeof(path));
		*kind = TREE_STORE_FILE;
		return in_store ? store_has(t, path, false) : 0;
	default:
		return -ENOTDIR;
	}
}

/* Files whose size means making their content: sized outside the lock,
 * from a copy of the node's info. */
static bool sized_by_content(enum tree_kind kind)
{
	return kind == TREE_STATUS || kind == TREE_LISTING || kind == TREE_LIVE_JPG ||
	       kind == TREE_CLIPS_README || kind == TREE_DAY_MOTION;
}

/* Caller holds t->lock. */
static int fill_info(struct tree *t, const struct node *n, struct tree_node_info *out)
{
	struct node *dir;

	memset(out, 0, sizeof(*out));
	out->kind = n->kind;
	out->cam = n->cam;
	out->dir_ino = n->parent;
	switch (n->kind) {
	case TREE_STORE_FILE:
		dir = find_ino(t, n->parent);
		if (!dir)
			return -ENOENT;
		store_path(t, dir, n->name, out->path, sizeof(out->path));
		break;
	case TREE_CAMERA:
	case TREE_DAY:
	case TREE_EVENTS:
	case TREE_EVENT_DAY:
		store_path(t, n, NULL, out->path, sizeof(out->path));
		out->dir_ino = n->ino;
		break;
	case TREE_DAY_MOTION:   /* the day it joins */
		dir = find_ino(t, n->parent);
		if (!dir)
			return -ENOENT;
		store_path(t, dir, NULL, out->path, sizeof(out->path));
		break;
	case TREE_ROOT:
	case TREE_CLIPS:
		out->dir_ino = n->ino;
		break;
	default:
		break;
	}
	return 0;
}

/* Attributes of a node not sized by content. Caller holds t->lock. */
static int node_stat(struct tree *t, const struct node *n, struct tree_attr *attr)
{
	struct stat *st = &attr->st;

	attr->kind = n->kind;
	attr->life = TREE_CURRENT;
	switch (n->kind) {
	case TREE_ROOT:
	case TREE_CAMERA:
	case TREE_DAY:
	case TREE_CLIPS:
	case TREE_EVENTS:
	case TREE_EVENT_DAY:
		dir_stat(t, st);
		break;
	case TREE_LIVE_MP4:
		file_stat(t, st, TREE_LIVE_SIZE);
		st->st_blocks = 0;   /* a stream, not disk space (du) */
		attr->life = TREE_ENDLESS;
		break;
	case TREE_CLIP:
	case TREE_DAY_MP4:
	case TREE_EVENT_CLIP:
		file_stat(t, st, n->vf->size);
		attr->life = TREE_GROWING;
		/* A clip that is never built again keeps one mtime, its end, so
		 * its attributes and pages can stay cached. */
		if (is_fixed(n)) {
			st->st_mtime = st->st_ctime = st->st_atime = n->range_end_us / 1000000;
			attr->life = TREE_FIXED;
		}
		break;
	case TREE_STORE_FILE: {
		char path[4096];
		struct node *dir = find_ino(t, n->parent);

		if (!dir)
			return -ENOENT;
		store_path(t, dir, n->name, path, sizeof(path));
		if (store_stat(t, path, false, st) < 0)
			return -ENOENT;
		st->st_mode = S_IFREG | 0444;
		attr->life = tree_store_file_life(t, n->cam, path, st);
		break;
	}
	default:
		return -EINVAL;
	}
	st->st_ino = n->ino;
	return 0;
}

/* Attributes of a node sized by content (made at each open: TREE_CURRENT);
 * no lock held. */
static int content_stat(struct tree *t, const struct tree_node_info *info, uint64_t ino,
			struct tree_attr *attr)
{
	char *data;
	size_t size;
	int ret;

	if (info->kind == TREE_LIVE_JPG) {
		struct snapshot_jpeg jpeg;

		/* No keyframe yet: an empty file until there is one. */
		size = 0;
		if (snapshot_get_jpeg(camera_snapshot(t->cams[info->cam]), &jpeg) == 0) {
			size = jpeg.size;
			av_buffer_unref(&jpeg.buf);
		}
	} else {
		ret = tree_render(t, info, &data, &size);
		if (ret < 0)
			return ret;
		free(data);
	}
	file_stat(t, &attr->st, size);
	attr->st.st_ino = ino;
	attr->kind = info->kind;
	attr->life = TREE_CURRENT;
	return 0;
}

/* The range of an event clip: the event's span with its pre and post roll.
 * An event still open has no end yet: its clip grows as it goes on. */
static int event_range(struct tree *t, int cam, const char *name, const char *date,
		       int64_t *start, int64_t *end, int64_t *range_end)
{
	char stem[EVENTS_STEM_MAX];
	bool open;
	int ret;

	if (!is_event_clip_name(name, stem))
		return -ENOENT;
	ret = events_span(camera_events(t->cams[cam]), date, stem, (int64_t)time(NULL) * 1000000, start,
			  end, &open);
	if (ret < 0)
		return ret;
	*start -= (int64_t)t->cfg->event_pre_roll * 1000000;
	*end += (int64_t)t->cfg->event_post_roll * 1000000;
	*range_end = open ? INT64_MAX : *end;
	return 0;
}

/* Builds the virtual file of a clip name, of a date's day.mp4 or of an
 * event's clip. */
static int build_virtual(struct tree *t, enum tree_kind kind, int cam, const char *name,
			 const char *date, struct vfile **out, int64_t *range_end_us)
{
	struct clip_source src = {
		.store = t->cfg->store, .camera = t->cfg->cameras[cam].name,
		.cam = cam, .writer = t->writer,
	};
	int64_t start, end;
	int ret;

	if (kind == TREE_CLIP) {
		ret = clipname_parse(name, &start, &end);
		*range_end_us = end;
	} else if (kind == TREE_EVENT_CLIP) {
		ret = event_range(t, cam, name, date, &start, &end, range_end_us);
	} else {
		struct tm tm = { .tm_isdst = -1 };

		ret = store_parse_date(date, &tm) ? 0 : -EINVAL;
		start = (int64_t)mktime(&tm) * 1000000;
		tm.tm_mday++;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		end = (int64_t)mktime(&tm) * 1000000;
		*range_end_us = end;
	}
	if (ret == 0)
		ret = clip_build(&src, start, end, out);
	if (ret < 0)
		log_debug(src.camera, "%s/%s: no clip: %s", date ? date : "clips", name,
			  strerror(-ret));
	return ret < 0 ? -ENOENT : 0;
}

/* Caller holds t->lock. NULL when out of memory, or (never seen) when
 * both ids the name can have are taken. */
static struct node *add_node(struct tree *t, const struct node *dir, const char *name,
			     enum tree_kind kind, int cam)
{
	uint64_t ino = nodeid_child(dir->ino, dir->kind, kind,
				    cam >= 0 ? t->cfg->cameras[cam].name : NULL, name);
	struct node *n;

	/* Another node with this id: cameras whose names share a hash. */
	if (find_ino(t, ino) && find_ino(t, ino = nodeid_hashed(dir->ino, name)))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n || !(n->name = strdup(name))) {
		free(n);
		return NULL;
	}
	n->ino = ino;
	n->parent = dir->ino;
	n->kind = kind;
	n->cam = cam;
	n->by_ino_next = t->by_ino[ino_bucket(n->ino)];
	t->by_ino[ino_bucket(n->ino)] = n;
	size_t h = name_hash(dir->ino, name);
	n->by_name_next = t->by_name[h];
	t->by_name[h] = n;
	return n;
}

int tree_lookup(struct tree *t, uint64_t parent, const char *name, uint64_t *ino,
		struct tree_attr *attr)
{
	struct vfile *vf = NULL;
	struct node *dir, *n;
	enum tree_kind kind;
	int64_t now = (int64_t)time(NULL) * 1000000, range_end = 0;
	bool stale = false;
	int cam, ret;

	pthread_mutex_lock(&t->lock);
	dir = find_ino(t, parent);
	ret = dir ? resolve(t, dir, name, &kind, &cam, true) : -ENOENT;
	if (ret < 0)
		goto out;
	n = find_name(t, parent, name);
	if (kind == TREE_CLIP || kind == TREE_DAY_MP4 || kind == TREE_EVENT_CLIP) {
		/* A range not yet fixed (today's day.mp4, or one that ended
		 * less than SETTLE_US before its build) is built again at each
		 * lookup, a second apart at most: it covers what is recorded
		 * when it is looked up. Open files keep theirs. */
		stale = n && !is_fixed(n) && now - n->built_us >= 1000000;
		if (!n || stale) {
			/* Building reads indexes: not under the lock. The caller
			 * (the kernel, a walk) holds the directory, so it is
			 * still there after. */
			char date[16];

			snprintf(date, sizeof(date), "%s", dir->name);
			pthread_mutex_unlock(&t->lock);
			ret = build_virtual(t, kind, cam, name, kind == TREE_CLIP ? NULL : date,
					    &vf, &range_end);
			pthread_mutex_lock(&t->lock);
			if (ret < 0)
				goto out;
			n = find_name(t, parent, name);   /* a concurrent lookup may have won */
		}
	}
	if (!n && (!(dir = find_ino(t, parent)) || !(n = add_node(t, dir, name, kind, cam)))) {
		ret = -ENOMEM;
		goto out;
	}
	/* A build goes into a new node or over a stale one: of two lookups
	 * that built a new node the first build stays, of two that found it
	 * stale the later. An event that ended has its end now. */
	if (vf && (!n->vf || stale)) {
		vfile_unref(&n->vf);
		n->vf = vf;
		vf = NULL;
		n->built_us = now;
		n->range_end_us = range_end;
	}
	n->nlookup++;
	*ino = n->ino;
	if (!attr)
		goto out;
	if (sized_by_content(n->kind)) {
		struct tree_node_info info;

		fill_info(t, n, &info);
		pthread_mutex_unlock(&t->lock);
		ret = content_stat(t, &info, *ino, attr);
		if (ret < 0)
			tree_forget(t, *ino, 1);
		return ret;
	}
	ret = node_stat(t, n, attr);
	if (ret < 0)
		n->nlookup--;
out:
	pthread_mutex_unlock(&t->lock);
	vfile_unref(&vf);
	return ret;
}

struct vfile *tree_vfile(struct tree *t, uint64_t ino, struct tree_attr *attr)
{
	struct node *n;
	struct vfile *vf = NULL;

	pthread_mutex_lock(&t->lock);
	n = find_ino(t, ino);
	if (n && n->vf && node_stat(t, n, attr) == 0)
		vf = vfile_ref(n->vf);
	pthread_mutex_unlock(&t->lock);
	return vf;
}

uint64_t tree_peek(struct tree *t, uint64_t parent, const char *name)
{
	struct node *n;
	uint64_t ino;

	pthread_mutex_lock(&t->lock);
	n = find_name(t, parent, name);
	ino = n ? n->ino : 0;
	pthread_mutex_unlock(&t->lock);
	return ino;
}

/* Caller holds t->lock. */
static void unlink_node(struct tree *t, struct node *n)
{
	struct node **p;

	for (p = &t->by_ino[ino_bucket(n->ino)]; *p != n; p = &(*p)->by_ino_next)
		;
	*p = n->by_ino_next;
	for (p = &t->by_name[name_hash(n->parent, n->name)]; *p != n; p = &(*p)->by_name_next)
		;
	*p = n->by_name_next;
	vfile_unref(&n->vf);
	free(n->name);
	free(n);
}

static void release_chain(struct tree *t, uint64_t ino, uint64_t count);

/* Caller holds t->lock. */
static void forget_locked(struct tree *t, struct node *n, uint64_t count)
{
	uint64_t parent = n->parent, pins = n->parent_pins;

	n->nlookup = count >= n->nlookup ? 0 : n->nlookup - count;
	/* Children find their parent through it, so a parent must be
	 * forgotten after its children: the kernel does so, and so does
	 * release_chain. */
	if (n->nlookup)
		return;
	unlink_node(t, n);
	if (pins)
		release_chain(t, parent, pins);
}

/* Caller holds t->lock. Gives back count lookups of ino and of every
 * directory above it. */
static void release_chain(struct tree *t, uint64_t ino, uint64_t count)
{
	struct node *n;

	while (ino != TREE_ROOT_INO && (n = find_ino(t, ino))) {
		ino = n->parent;
		forget_locked(t, n, count);
	}
}

void tree_walk_release(struct tree *t, uint64_t ino)
{
	pthread_mutex_lock(&t->lock);
	release_chain(t, ino, 1);
	pthread_mutex_unlock(&t->lock);
}

/* The path from the root of node ino: from the nodes when the tree holds
 * it, else read back from the id. 0 or -ESTALE. */
static int node_path(struct tree *t, uint64_t ino, char *path, size_t size)
{
	const char *names[8];
	struct node *n;
	int depth = 0, ret = 0;
	size_t used = 0;

	pthread_mutex_lock(&t->lock);
	for (n = find_ino(t, ino); n && n->ino != TREE_ROOT_INO && depth < 8; n = find_ino(t, n->parent))
		names[depth++] = n->name;
	if (n && n->ino == TREE_ROOT_INO) {
		path[0] = '\0';
		while (depth-- > 0 && ret == 0) {
			int len = snprintf(path + used, size - used, "%s%s", used ? "/" : "", names[depth]);

			if (len < 0 || (size_t)len >= size - used)
				ret = -ESTALE;
			used += (size_t)len;
		}
		pthread_mutex_unlock(&t->lock);
		return ret;
	}
	pthread_mutex_unlock(&t->lock);
	{
		const char *cams[t->cfg->n_cameras ? t->cfg->n_cameras : 1];

		for (int i = 0; i < t->cfg->n_cameras; i++)
			cams[i] = t->cfg->cameras[i].name;
		return nodeid_path(ino, cams, t->cfg->n_cameras, path, size);
	}
}

/* Looks up path from the root as one more lookup of its node, which holds
 * the lookups the walk took of the directories above. */
static int lookup_path(struct tree *t, const char *path, uint64_t *ino, struct tree_attr *attr)
{
	struct node *n;
	int ret = tree_walk(t, path, ino, attr);

	if (ret < 0 || *ino == TREE_ROOT_INO)
		return ret;
	pthread_mutex_lock(&t->lock);
	n = find_ino(t, *ino);
	if (n && n->parent != TREE_ROOT_INO)
		n->parent_pins++;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int tree_lookup_id(struct tree *t, uint64_t ino, struct tree_attr *attr)
{
	char path[PATH_MAX];
	uint64_t found;
	int ret = node_path(t, ino, path, sizeof(path));

	if (ret < 0 || (ret = lookup_path(t, path, &found, attr)) < 0)
		return -ESTALE;
	if (found != ino) {   /* the name's id was taken: it reads back as another */
		tree_forget(t, found, 1);
		return -ESTALE;
	}
	return 0;
}

int tree_lookup_parent(struct tree *t, uint64_t ino, uint64_t *parent, struct tree_attr *attr)
{
	char path[PATH_MAX], *slash;
	int ret = node_path(t, ino, path, sizeof(path));

	if (ret < 0)
		return -ESTALE;
	slash = strrchr(path, '/');
	if (slash)
		*slash = '\0';
	else
		path[0] = '\0';
	return lookup_path(t, path, parent, attr) < 0 ? -ESTALE : 0;
}

void tree_forget(struct tree *t, uint64_t ino, uint64_t count)
{
	struct node *n;

	if (ino == TREE_ROOT_INO)
		return;
	pthread_mutex_lock(&t->lock);
	n = find_ino(t, ino);
	if (n)
		forget_locked(t, n, count);
	pthread_mutex_unlock(&t->lock);
}

int tree_walk(struct tree *t, const char *path, uint64_t *ino, struct tree_attr *attr)
{
	uint64_t dir = TREE_ROOT_INO;
	char name[NAME_MAX + 1];
	int ret = 0;

	*ino = 0;
	if (!*path) {
		*ino = TREE_ROOT_INO;
		return attr ? tree_getattr(t, TREE_ROOT_INO, attr) : 0;
	}
	for (const char *p = path;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		uint64_t next;

		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
			ret = -EINVAL;
			break;
		}
		if (len > NAME_MAX) {
			ret = -ENAMETOOLONG;
			break;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		/* Directories on the way need no attributes. */
		ret = tree_lookup(t, dir, name, &next, slash ? NULL : attr);
		if (ret < 0)
			break;
		dir = next;
		if (!slash) {
			*ino = next;
			return 0;
		}
		p = slash + 1;
	}
	tree_walk_release(t, dir);
	return ret;
}

int tree_getattr(struct tree *t, uint64_t ino, struct tree_attr *attr)
{
	struct tree_node_info info;
	struct node *n;
	int ret;

	pthread_mutex_lock(&t->lock);
	n = find_ino(t, ino);
	if (!n)
		ret = -ENOENT;
	else if (sized_by_content(n->kind))
		ret = fill_info(t, n, &info) == 0 ? 1 : -ENOENT;
	else
		ret = node_stat(t, n, attr);
	pthread_mutex_unlock(&t->lock);
	return ret == 1 ? content_stat(t, &info, ino, attr) : ret;
}

int tree_info(struct tree *t, uint64_t ino, struct tree_node_info *out)
{
	struct node *n;
	int ret;

	pthread_mutex_lock(&t->lock);
	n = find_ino(t, ino);
	ret = n ? fill_info(t, n, out) : -ENOENT;
	pthread_mutex_unlock(&t->lock);
	return ret;
}

static int add_entry(struct tree_entry **v, size_t *n, size_t *cap, const char *name,
		     const struct stat *st)
{
	if (array_grow(v, cap, *n, sizeof(**v)) < 0)
		return -ENOMEM;
	snprintf((*v)[*n].name, sizeof((*v)[*n].name), "%s", name);
	(*v)[*n].st = *st;
	(*n)++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct tree_entry *)a)->name, ((const struct tree_entry *)b)->name);
}

enum listed { LIST_DATES, LIST_SEGMENTS, LIST_SNAPSHOTS };

/* A store directory opened for listing, through no link (store_open);
 * NULL with errno set. */
static DIR *open_store_dir(struct tree *t, const char *path)
{
	int fd = store_open(t->cfg->store, path, O_RDONLY | O_DIRECTORY);
	DIR *d;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	if (!(d = fdopendir(fd)))
		close(fd);
	return d;
}

/* Adds the store entries of a camera or events directory (dates), a day
 * (segments and sidecars) or an event day (snapshots, and motion events'
 * clips, sized when looked up). Only real directories and regular files:
 * a link planted in the store is not listed. */
static int list_store(struct tree *t, const struct tree_node_info *info, enum listed what,
		      struct tree_entry **v, size_t *n, size_t *cap)
{
	DIR *d = open_store_dir(t, info->path);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (ret == 0 && (e = readdir(d))) {
		char path[4096 + 256], stem[EVENTS_STEM_MAX];
		struct stat st;
		bool dir = what == LIST_DATES;

		if (what == LIST_DATES ? !is_date_name(e->d_name) :
		    what == LIST_SEGMENTS ? !is_store_file_name(e->d_name) :
		    !events_is_snapshot_name(e->d_name, stem))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", info->path, e->d_name);
		if (dir)
			dir_stat(t, &st);
		else {
			st.st_mode = S_IFREG | 0444;
			tree_store_file_life(t, info->cam, path, &st);
		}
		ret = add_entry(v, n, cap, e->d_name, &st);
		if (ret == 0 && what == LIST_SNAPSHOTS) {
			char clip[EVENTS_STEM_MAX + 8];

			snprintf(clip, sizeof(clip), "%s.mp4", stem);
			file_stat(t, &st, 0);
			ret = add_entry(v, n, cap, clip, &st);
		}
	}
	closedir(d);
	return ret;
}

int tree_list(struct tree *t, uint64_t ino, struct tree_entry **out, size_t *n_out)
{
	struct tree_node_info info;
	struct tree_entry *v = NULL;
	size_t n = 0, cap = 0;
	struct stat st;
	int ret = tree_info(t, ino, &info);

	if (ret < 0)
		return ret;
	switch (info.kind) {
	case TREE_ROOT:
		file_stat(t, &st, 0);
		ret = add_entry(&v, &n, &cap, "status.json", &st);
		dir_stat(t, &st);
		for (int i = 0; ret == 0 && i < t->cfg->n_cameras; i++)
			ret = add_entry(&v, &n, &cap, t->cfg->cameras[i].name, &st);
		break;
	case TREE_CAMERA:
		file_stat(t, &st, TREE_LIVE_SIZE);
		ret = add_entry(&v, &n, &cap, "live.mp4", &st);
		file_stat(t, &st, 0);
		if (ret == 0)
			ret = add_entry(&v, &n, &cap, "live.jpg", &st);
		if (ret == 0)
			ret = add_entry(&v, &n, &cap, "status.json", &st);
		dir_stat(t, &st);
		if (ret == 0)
			ret = add_entry(&v, &n, &cap, "clips", &st);
		if (ret == 0)
			ret = add_entry(&v, &n, &cap, EVENTS_DIR, &st);
		if (ret == 0)
			ret = list_store(t, &info, LIST_DATES, &v, &n, &cap);
		break;
	case TREE_DAY:
		/* day.mp4 and motion.csv are listed without making them: their
		 * sizes come with their lookup. */
		file_stat(t, &st, 0);
		ret = add_entry(&v, &n, &cap, "day.mp4", &st);
		if (ret == 0)
			ret = add_entry(&v, &n, &cap, "motion.csv", &st);
		if (ret == 0)
			ret = list_store(t, &info, LIST_SEGMENTS, &v, &n, &cap);
		break;
	case TREE_EVENTS:
		ret = list_store(t, &info, LIST_DATES, &v, &n, &cap);
		break;
	case TREE_EVENT_DAY:
		ret = list_store(t, &info, LIST_SNAPSHOTS, &v, &n, &cap);
		break;
	case TREE_CLIPS:
		file_stat(t, &st, 0);
		ret = add_entry(&v, &n, &cap, "README.txt", &st);
		break;
	default:
		ret = -ENOTDIR;
	}
	if (ret < 0) {
		free(v);
		return ret;
	}
	/* Each entry's inode number is the id a lookup gives it: the kernel
	 * matches them when it reconnects a directory's NFS handle. */
	{
		struct node dir = { .ino = ino, .kind = info.kind, .cam = info.cam };

		for (size_t i = 0; i < n; i++) {
			enum tree_kind kind;
			int cam;

			if (resolve(t, &dir, v[i].name, &kind, &cam, false) == 0)
				v[i].st.st_ino = nodeid_child(ino, info.kind, kind,
							      cam >= 0 ? t->cfg->cameras[cam].name : NULL,
							      v[i].name);
		}
	}
	if (n)   /* v is NULL when empty: not for qsort */
		qsort(v, n, sizeof(*v), by_name);
	*out = v;
	*n_out = n;
	return 0;
}

static void iso_time(int64_t us, char *buf, size_t n)
{
	time_t s = us / 1000000;
	struct tm tm;

	localtime_r(&s, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

/* Whether the camera's footage reaches the store, and the writer's last
 * failure: "online" says only that the camera sends. */
static json_t *write_error_json(struct tree *t, int cam, bool *recording)
{
	struct writer_state ws = { 0 };
	char at[40];

	if (t->writer)
		writer_state(t->writer, cam, &ws);
	*recording = ws.recording;
	if (!ws.error)
		return json_null();
	iso_time(ws.error_wall_us, at, sizeof(at));
	return json_pack("{s:s, s:s}", "error", strerror(-ws.error), "time", at);
}

static json_t *camera_json(struct tree *t, int cam)
{
	struct camera_status st;
	char since[40];
	bool recording;
	json_t *write_error = write_error_json(t, cam, &recording);

	camera_get_status(t->cams[cam], &st);
	iso_time(st.since_us, since, sizeof(since));
	struct pushslot *push = camera_pushslot(t->cams[cam]);

	/* "board": what a pushing board says of itself (its settings, its clock). */
	return json_pack("{s:s, s:b, s:b, s:o, s:s?, s:i, s:i, s:f, s:I, s:s, s:i, s:s?, s:o, s:b, "
			 "s:o?}",
			 "name", t->cfg->cameras[cam].name,
			 "online", st.online,
			 "recording", recording,
			 "write_error", write_error,
			 "codec", st.codec[0] ? st.codec : NULL,
			 "width", st.width, "height", st.height,
			 "fps", st.fps,
			 "bitrate", (json_int_t)st.bitrate,
			 "since", since,
			 "reconnects", st.reconnects,
			 "last_error", st.last_error[0] ? st.last_error : NULL,
			 "motion", st.motion_score >= 0 ? json_integer(st.motion_score) : json_null(),
			 "in_event", st.in_event,
			 "board", push ? pushslot_fields(push) : NULL);
}

/* The path of directory ino from the root as a listing names it: "/",
 * "/door/2026-12-05/". */
static void dir_path(struct tree *t, uint64_t ino, char *out, size_t size)
{
	const struct node *up[8];
	size_t n = 0, o = 0;

	pthread_mutex_lock(&t->lock);
	for (const struct node *d = find_ino(t, ino); d && d->ino != TREE_ROOT_INO && n < 8;
	     d = find_ino(t, d->parent))
		up[n++] = d;
	o += (size_t)snprintf(out, size, "/");
	while (n-- > 0 && o < size)
		o += (size_t)snprintf(out + o, size - o, "%s/", up[n]->name);
	pthread_mutex_unlock(&t->lock);
}

/* A listing entry: name, type, size (files), mtime, and for a recorded
 * segment of a day its start and duration (seconds, to the millisecond),
 * from its index: the segment being written, so far. */
static json_t *listing_entry(struct tree *t, const struct tree_node_info *dir,
			     const struct tree_entry *e)
{
	bool is_dir = S_ISDIR(e->st.st_mode);
	json_t *j = json_pack("{s:s, s:s}", "name", e->name, "type", is_dir ? "dir" : "file");
	struct clip_source src = { .store = t->cfg->store, .cam = dir->cam, .writer = t->writer };
	char path[4096 + 256];
	int64_t start, duration;
	unsigned long seq;
	struct tm tm;

	if (!j)
		return NULL;
	if (!is_dir)
		json_object_set_new(j, "size", json_integer((json_int_t)e->st.st_size));
	json_object_set_new(j, "mtime", json_integer((json_int_t)e->st.st_mtime));
	if (dir->kind != TREE_DAY || is_dir || !store_parse_segment_name(e->name, &tm, &seq))
		return j;
	src.camera = t->cfg->cameras[dir->cam].name;
	snprintf(path, sizeof(path), "%s/%s", dir->path, e->name);
	if (clip_segment_span(&src, path, &start, &duration) == 0) {
		json_object_set_new(j, "start", json_real((double)(start / 1000) / 1000));
		json_object_set_new(j, "duration", json_real((double)(duration / 1000) / 1000));
	}
	return j;
}

/* A directory's .index.json: {"path": ..., "entries": [...]}, without
 * itself (docs/tree-and-files.md, "Listings"). */
static json_t *listing_json(struct tree *t, uint64_t dir_ino)
{
	struct tree_node_info dir;
	struct tree_entry *v;
	char path[4096];
	size_t n;
	json_t *entries;

	if (tree_info(t, dir_ino, &dir) < 0 || tree_list(t, dir_ino, &v, &n) < 0)
		return NULL;
	dir_path(t, dir_ino, path, sizeof(path));
	entries = json_array();
	for (size_t i = 0; entries && i < n; i++)
		json_array_append_new(entries, listing_entry(t, &dir, &v[i]));
	free(v);
	return entries ? json_pack("{s:s, s:o}", "path", path, "entries", entries) : NULL;
}

static const char clips_readme[] =
	"Clips of any time range, made when you open them.\n"
	"\n"
	"This folder lists nothing but this file: ask for a name and the clip is\n"
	"there. Names are local times, YYYY-MM-DDTHH-MM-SS, and either a length\n"
	"or an end:\n"
	"\n"
	"  2026-11-20T10-03-00+90s.mp4                    90 seconds from 10:03:00\n"
	"  2026-11-20T10-03-00+5m.mp4                     five minutes\n"
	"  2026-11-20T22-30-00+1h30m.mp4                  an hour and a half, past midnight\n"
	"  2026-11-20T10-00-00--2026-11-20T10-15-00.mp4   from 10:00 to 10:15\n"
	"\n"
	"For example:  cp clips/2026-11-20T10-03-00+90s.mp4 ~/\n"
	"\n"
	"A clip starts exactly at its start time and ends at its end. Where the\n"
	"recording has a gap (the camera was offline), the clip leaves the gap out:\n"
	"the picture jumps from before the gap to after it, and the clip is that\n"
	"much shorter. If the camera's format changed within the range, the clip\n"
	"ends at the change. A name with no recording in its range does not exist.\n"
	"Each day also has a whole-day file: ../<YYYY-MM-DD>/day.mp4.\n";

static int is_sidecar(const struct dirent *e)
{
	char segment[NAME_MAX + 1];

	return is_store_file_name(e->d_name) && sidecar_segment(e->d_name, segment, sizeof(segment));
}

/* A sidecar in directory dir, if it is a regular file; NULL otherwise. */
static FILE *open_sidecar(int dir, const char *name)
{
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(f = fdopen(fd, "r"))) {
		close(fd);
		return NULL;
	}
	return f;
}

/* A day's motion.csv: one header, then every sidecar's rows in name (and
 * so time) order. */
static int render_day_motion(struct tree *t, const char *day_dir, char **data, size_t *size)
{
	const size_t header = sizeof(SIDECAR_HEADER) - 1;
	struct dirent **names;
	FILE *out = open_memstream(data, size);
	int dir = store_open(t->cfg->store, day_dir, O_RDONLY | O_DIRECTORY);
	int n = dir >= 0 ? scandirat(dir, ".", &names, is_sidecar, alphasort) : -1;

	if (!out) {
		if (dir >= 0)
			close(dir);
		return -ENOMEM;
	}
	fputs(SIDECAR_HEADER, out);
	for (int i = 0; i < n; i++) {
		char buf[65536];
		FILE *in = open_sidecar(dir, names[i]->d_name);
		size_t got, skip = header;

		free(names[i]);
		while (in && (got = fread(buf, 1, sizeof(buf), in)) > 0) {
			size_t from = skip < got ? skip : got;

			fwrite(buf + from, 1, got - from, out);
			skip -= from;
		}
		if (in)
			fclose(in);
	}
	if (n >= 0)
		free(names);
	if (dir >= 0)
		close(dir);
	return fclose(out) == 0 ? 0 : -ENOMEM;
}

int tree_render(struct tree *t, const struct tree_node_info *info, char **data, size_t *size)
{
	json_t *doc = NULL;

	if (info->kind == TREE_DAY_MOTION)
		return render_day_motion(t, info->path, data, size);

	if (info->kind == TREE_CLIPS_README) {
		*data = strdup(clips_readme);
		*size = sizeof(clips_readme) - 1;
		return *data ? 0 : -ENOMEM;
	}

	if (info->kind == TREE_LISTING) {
		doc = listing_json(t, info->dir_ino);
	} else if (info->kind == TREE_STATUS && info->cam >= 0) {
		doc = camera_json(t, info->cam);
	} else if (info->kind == TREE_STATUS) {
		json_t *cams = json_array();

		for (int i = 0; cams && i < t->cfg->n_cameras; i++)
			json_array_append_new(cams, camera_json(t, i));
		doc = cams ? json_pack("{s:o}", "cameras", cams) : NULL;
	} else {
		return -EINVAL;
	}
	if (!doc)
		return -ENOMEM;
	/* A listing is for programs: compact, times to the millisecond. */
	*data = json_dumps(doc, JSON_ENSURE_ASCII | (info->kind == TREE_LISTING ?
						     JSON_COMPACT | JSON_REAL_PRECISION(13) :
						     JSON_INDENT(2)));
	json_decref(doc);
	if (!*data)
		return -ENOMEM;
	*size = strlen(*data);
	/* A trailing newline, as text files have. */
	char *grown = realloc(*data, *size + 2);
	if (!grown) {
		free(*data);
		return -ENOMEM;
	}
	grown[(*size)++] = '\n';
	grown[*size] = '\0';
	*data = grown;
	return 0;
}
