/* mount.c - libfuse low-level operations over the tree. Footage is answered
 * zero-copy from store fds; live.mp4 reads that must wait are parked in the
 * camera's hub and answered from the camera's thread when data comes. */
#include "fs/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fuse_lowlevel.h>

#include "ingest/camera.h"
#include "config.h"
#include "stream/hub.h"
#include "util/log.h"
#include "stream/snapshot.h"
#include "fs/tree.h"
#include "record/vfile.h"
#include "record/writer.h"

#define REAP_INTERVAL_NS 100000000   /* how soon an interrupted read returns */

struct mount {
	struct fuse_session *se;
	struct tree *tree;
	const struct config *cfg;
	struct camera **cams;
	char *mountpoint;
	bool mounted;
	pthread_t reaper;
	bool reaper_started;
	atomic_bool stop;
	pthread_mutex_t handles_lock;
	struct handle *handles;    /* guarded by handles_lock: open files */
};

/* One open file or directory. */
struct handle {
	enum tree_kind kind;
	int cam;
	int fd;                    /* store files */
	char path[4096];           /* store files */
	off_t size;                /* finished store files; rendered files */
	bool growing;              /* the segment being written when opened */
	char *data;                /* rendered files */
	struct snapshot_jpeg jpeg; /* live.jpg */
	struct hub_reader *reader; /* live.mp4 */
	struct vfile *vf;          /* clips and day.mp4 */
	struct tree_entry *entries;/* directories */
	size_t n_entries;
	struct handle *prev, *next;/* in mount->handles while open */
	/* The open file's reference, and one per read being answered: the
	 * kernel may release the file as soon as a reply's bytes are in, while
	 * the replying thread is still inside writev with them. */
	atomic_int refs;
};

/* A live.mp4 read or poll waiting in the hub. */
struct waiter {
	fuse_req_t req;            /* a read; NULL for a poll */
	size_t size;
	struct fuse_pollhandle *ph;
};

static struct mount *mount_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct handle *handle_of(struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

/* Attribute and entry cache times: a growing or generated file must be
 * asked every time; finished footage never changes. */
static double cache_seconds(enum tree_kind kind, const struct stat *st)
{
	switch (kind) {
	case TREE_LIVE_MP4:
		return 3600;
	case TREE_STORE_FILE:
	case TREE_CLIP:
	case TREE_DAY_MP4:
	case TREE_EVENT_CLIP:
		return time(NULL) - st->st_mtime > 5 ? 60 : 0;
	case TREE_ROOT:
	case TREE_CAMERA:
	case TREE_DAY:
	case TREE_EVENTS:
	case TREE_EVENT_DAY:
		return 1;
	default:
		return 0;
	}
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Footage is sent with splice from the store's fds. */
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;
	conn->max_readahead = 1 << 20;
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mount *m = mount_of(req);
	struct fuse_entry_param e = { 0 };
	struct tree_node_info info;
	uint64_t ino;
	int ret = tree_lookup(m->tree, parent, name, &ino, &e.attr);

	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	e.ino = ino;
	if (tree_info(m->tree, ino, &info) == 0)
		e.attr_timeout = e.entry_timeout = cache_seconds(info.kind, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	tree_forget(mount_of(req)->tree, ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *list)
{
	for (size_t i = 0; i < count; i++)
		tree_forget(mount_of(req)->tree, list[i].ino, list[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct tree_node_info info;
	struct handle *h = fi ? handle_of(fi) : NULL;
	struct stat st;
	double seconds;
	int ret = tree_getattr(m->tree, ino, &st);

	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	tree_info(m->tree, ino, &info);
	seconds = cache_seconds(info.kind, &st);
	/* An open generated file, snapshot or clip keeps its content's size;
	 * when that is not the inode's now, it is this open's alone. */
	if (h && (h->data || h->jpeg.buf || h->vf) && st.st_size != h->size) {
		st.st_size = h->size;
		seconds = 0;
	}
	fuse_reply_attr(req, &st, seconds);
}

static void handle_free(struct handle *h)
{
	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	free(h->data);
	av_buffer_unref(&h->jpeg.buf);
	vfile_unref(&h->vf);
	free(h->entries);
	free(h);
}

static struct handle *handle_new(const struct tree_node_info *info)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->fd = -1;
	atomic_init(&h->refs, 1);
	h->kind = info->kind;
	h->cam = info->cam;
	snprintf(h->path, sizeof(h->path), "%s", info->path);
	return h;
}

static void live_wake(struct hub_reader *r, void *waiter, void *opaque);

/* Open files are listed so that unmounting with files still open (the
 * kernel then sends no release) frees them all the same. */
static void track(struct mount *m, struct handle *h)
{
	pthread_mutex_lock(&m->handles_lock);
	h->next = m->handles;
	if (h->next)
		h->next->prev = h;
	m->handles = h;
	pthread_mutex_unlock(&m->handles_lock);
}

static void untrack(struct mount *m, struct handle *h)
{
	pthread_mutex_lock(&m->handles_lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		m->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&m->handles_lock);
}

/* Answers whatever is parked on a live file, then frees it. */
static void close_file(struct handle *h)
{
	struct waiter *w;

	if (h->reader) {
		while ((w = hub_reader_unpark_any(h->reader))) {
			if (w->ph)
				fuse_pollhandle_destroy(w->ph);
			else
				fuse_reply_err(w->req, EBADF);
			free(w);
		}
		hub_reader_free(h->reader);
	}
	handle_free(h);
}

static void handle_put(struct handle *h)
{
	if (atomic_fetch_sub(&h->refs, 1) == 1)
		close_file(h);
}

static int open_store_file(struct mount *m, struct handle *h, struct fuse_file_info *fi)
{
	struct stat st;
	int64_t committed;

	/* The fd keeps the footage readable even if retention deletes it. */
	h->fd = open(h->path, O_RDONLY | O_CLOEXEC);
	if (h->fd < 0 || fstat(h->fd, &st) < 0)
		return -errno;
	committed = writer_committed_size(tree_writer(m->tree), h->cam, h->path);
	h->growing = committed >= 0;
	h->size = h->growing ? committed : st.st_size;
	/* Finished footage stays in the page cache between opens; the
	 * growing segment goes past the cache so its size can grow. */
	fi->keep_cache = !h->growing;
	fi->direct_io = h->growing;
	return 0;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct tree_node_info info;
	struct handle *h = NULL;
	int ret;

	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	ret = tree_info(m->tree, ino, &info);
	if (ret < 0)
		goto out;
	if (!(h = handle_new(&info))) {
		ret = -ENOMEM;
		goto out;
	}
	switch (info.kind) {
	case TREE_STORE_FILE:
		ret = open_store_file(m, h, fi);
		break;
	case TREE_STATUS:
	case TREE_LISTING:
	case TREE_CLIPS_README:
	case TREE_DAY_MOTION: {
		size_t size;

		ret = tree_render(m->tree, &info, &h->data, &size);
		h->size = size;
		fi->direct_io = 1;
		break;
	}
	case TREE_LIVE_JPG:
		ret = snapshot_get_jpeg(camera_snapshot(m->cams[info.cam]), &h->jpeg);
		if (ret == -EAGAIN)
			ret = 0;    /* no keyframe yet: an empty file */
		h->size = h->jpeg.buf ? (off_t)h->jpeg.size : 0;
		fi->direct_io = 1;
		break;
	case TREE_CLIP:
	case TREE_DAY_MP4:
	case TREE_EVENT_CLIP: {
		bool fixed;

		h->vf = tree_vfile(m->tree, ino, &fixed);
		ret = h->vf ? 0 : -ENOENT;
		h->size = h->vf ? (off_t)h->vf->size : 0;
		/* A clip that is never built again keeps its bytes for the
		 * inode's life: the page cache may keep them too. A growing
		 * one's builds differ, and each open reads its own: its pages
		 * must not reach the cache, nor its size the inode. */
		fi->keep_cache = fixed;
		fi->direct_io = !fixed;
		break;
	}
	case TREE_LIVE_MP4:
		h->reader = hub_reader_new(camera_hub(m->cams[info.cam]), live_wake, h);
		ret = h->reader ? 0 : -ENOMEM;
		fi->direct_io = 1;
		fi->nonseekable = 1;
		break;
	default:
		ret = -EISDIR;
	}
out:
	if (ret < 0) {
		handle_free(h);
		fuse_reply_err(req, -ret);
		return;
	}
	fi->fh = (uintptr_t)h;
	track(m, h);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		/* The opener went away (interrupted) before the reply. */
		untrack(m, h);
		close_file(h);
	}
}

static void reply_slice(fuse_req_t req, const void *data, off_t len, off_t off, size_t size)
{
	if (off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, (const char *)data + off,
			       (size_t)(len - off) < size ? (size_t)(len - off) : size);
}

/* A buffer per thread for copying live data out of the hub: reads and wakes
 * happen on FUSE and camera threads, never nested. Freed when the thread
 * ends. */
struct thread_buffer {
	void *data;
	size_t cap;
};

static pthread_key_t buffer_key;
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;

static void buffer_free(void *p)
{
	struct thread_buffer *b = p;

	free(b->data);
	free(b);
}

static void buffer_key_create(void)
{
	pthread_key_create(&buffer_key, buffer_free);
}

static void *thread_buffer(size_t size)
{
	struct thread_buffer *b;

	pthread_once(&buffer_once, buffer_key_create);
	b = pthread_getspecific(buffer_key);
	if (!b) {
		if (!(b = calloc(1, sizeof(*b))) || pthread_setspecific(buffer_key, b) != 0) {
			free(b);
			return NULL;
		}
	}
	if (size > b->cap) {
		void *grown = realloc(b->data, size);

		if (!grown)
			return NULL;
		b->data = grown;
		b->cap = size;
	}
	return b->data;
}

static void reply_live(fuse_req_t req, ssize_t n, const void *buf)
{
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, n);
}

/* Called by the hub, with its lock held, on the camera's thread. */
static void live_wake(struct hub_reader *r, void *waiter, void *opaque)
{
	struct waiter *w = waiter;

	(void)opaque;
	if (w->ph) {
		fuse_lowlevel_notify_poll(w->ph);
		fuse_pollhandle_destroy(w->ph);
	} else {
		void *buf = thread_buffer(w->size);
		ssize_t n = buf ? hub_reader_read_locked(r, buf, w->size) : -ENOMEM;

		reply_live(w->req, n == -EAGAIN ? -EIO : n, buf);
	}
	free(w);
}

static void read_live(fuse_req_t req, struct handle *h, size_t size)
{
	struct waiter *w = calloc(1, sizeof(*w));
	void *buf = thread_buffer(size);
	ssize_t n;

	if (!w || !buf) {
		free(w);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	w->req = req;
	w->size = size;
	n = hub_reader_read(h->reader, buf, size, w);
	if (n == -EAGAIN)
		return;   /* parked: live_wake or the reaper answers */
	free(w);
	reply_live(req, n, buf);
}

/* A clip's bytes: its in-memory parts and zero-copy ranges of the segment
 * files it holds, in one reply. A read can span any number of extents; a
 * few fit on the stack, more get an array sized for them, because a short
 * reply would be taken for EOF (the kernel shrinks the file to it). */
static void read_vfile(fuse_req_t req, const struct vfile *vf, size_t size, off_t off)
{
	struct vfile_extent few[4], *pieces = few;
	size_t n = vfile_slice(vf, off, size, few, 4);
	struct fuse_bufvec *bv;

	if (n == 0) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (n == 4 && (n = vfile_slice(vf, off, size, NULL, 0)) > 4) {
		if (!(pieces = calloc(n, sizeof(*pieces)))) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		n = vfile_slice(vf, off, size, pieces, n);
	}
	if (!(bv = calloc(1, sizeof(*bv) + n * sizeof(bv->buf[0])))) {
		if (pieces != few)
			free(pieces);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	bv->count = n;
	for (size_t i = 0; i < n; i++) {
		bv->buf[i].size = pieces[i].len;
		if (pieces[i].data) {
			bv->buf[i].mem = (void *)pieces[i].data;
		} else {
			bv->buf[i].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
			bv->buf[i].fd = pieces[i].fd;
			bv->buf[i].pos = pieces[i].pos;
		}
	}
	if (pieces != few)
		free(pieces);
	fuse_reply_data(req, bv, FUSE_BUF_SPLICE_MOVE);
	free(bv);
}

/* A read of anything but live.mp4, answered at once from the handle. */
static void read_now(struct mount *m, fuse_req_t req, struct handle *h, size_t size, off_t off)
{
	switch (h->kind) {
	case TREE_STATUS:
	case TREE_LISTING:
	case TREE_CLIPS_README:
	case TREE_DAY_MOTION:
		reply_slice(req, h->data, h->size, off, size);
		return;
	case TREE_LIVE_JPG:
		reply_slice(req, h->jpeg.data, h->size, off, size);
		return;
	case TREE_CLIP:
	case TREE_DAY_MP4:
	case TREE_EVENT_CLIP:
		read_vfile(req, h->vf, size, off);
		return;
	case TREE_STORE_FILE: {
		off_t end = h->size;

		if (h->growing) {
			/* What is durable now, or all of it once it closed. */
			int64_t c = writer_committed_size(tree_writer(m->tree), h->cam, h->path);
			struct stat st;

			end = c >= 0 ? c : (fstat(h->fd, &st) == 0 ? st.st_size : h->size);
		}
		if (off >= end) {
			fuse_reply_buf(req, NULL, 0);
			return;
		}
		struct fuse_bufvec buf = FUSE_BUFVEC_INIT((size_t)(end - off) < size ? (size_t)(end - off) : size);
		buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		buf.buf[0].fd = h->fd;
		buf.buf[0].pos = off;
		fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
		return;
	}
	default:
		fuse_reply_err(req, EISDIR);
	}
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);

	(void)ino;
	if (h->kind == TREE_LIVE_MP4) {   /* answered from the hub, maybe later */
		read_live(req, h, size);
		return;
	}
	atomic_fetch_add(&h->refs, 1);
	read_now(mount_of(req), req, h, size, off);
	handle_put(h);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	untrack(mount_of(req), handle_of(fi));
	handle_put(handle_of(fi));
	fuse_reply_err(req, 0);
}

static void op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct handle *h = handle_of(fi);

	(void)ino;
	if (h->kind != TREE_LIVE_MP4 || hub_reader_ready(h->reader)) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		fuse_reply_poll(req, POLLIN | POLLRDNORM);
		return;
	}
	if (ph) {
		struct waiter *w = calloc(1, sizeof(*w));
		ssize_t n;

		if (!w) {
			fuse_pollhandle_destroy(ph);
			fuse_reply_err(req, ENOMEM);
			return;
		}
		w->ph = ph;
		n = hub_reader_park(h->reader, w);
		if (n != -EAGAIN) {
			fuse_pollhandle_destroy(ph);
			free(w);
			fuse_reply_poll(req, POLLIN | POLLRDNORM);
			return;
		}
	}
	fuse_reply_poll(req, 0);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct tree_node_info info;
	struct handle *h;
	int ret = tree_info(m->tree, ino, &info);

	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	h = handle_new(&info);
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Listed once per open, so readdir offsets stay stable. */
	ret = tree_list(m->tree, ino, &h->entries, &h->n_entries);
	if (ret < 0) {
		handle_free(h);
		fuse_reply_err(req, -ret);
		return;
	}
	fi->fh = (uintptr_t)h;
	if (fuse_reply_open(req, fi) == -ENOENT)
		handle_free(h);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	char *buf = malloc(size);
	size_t used = 0;

	(void)ino;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Offsets: 0 ".", 1 "..", 2 + i for entry i. */
	for (off_t i = off; i < (off_t)h->n_entries + 2; i++) {
		/* d_ino 0 reads as a deleted entry to readdir(3); the kernel
		 * ignores the value otherwise. */
		struct stat st = { .st_mode = S_IFDIR, .st_ino = i + 1 };
		const char *name = i == 0 ? "." : i == 1 ? ".." : h->entries[i - 2].name;
		size_t len;

		if (i >= 2)
			st.st_mode = h->entries[i - 2].st.st_mode;
		len = fuse_add_direntry(req, buf + used, size - used, name, &st, i + 1);
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	handle_free(handle_of(fi));
	fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	if (statvfs(mount_of(req)->cfg->store, &sv) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.poll = op_poll,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
};

/* Under the hub lock, for each parked read: one whose reader was
 * interrupted (Ctrl-C) is answered EINTR now, instead of when data comes. */
static bool cancel_interrupted(struct hub_reader *r, void *waiter, void *arg)
{
	struct waiter *w = waiter;

	(void)r;
	(void)arg;
	if (!w->req || !fuse_req_interrupted(w->req))
		return false;
	fuse_reply_err(w->req, EINTR);
	free(w);
	return true;
}

static void *reaper_main(void *arg)
{
	struct mount *m = arg;
	struct timespec ts = { 0, REAP_INTERVAL_NS };

	while (!atomic_load(&m->stop)) {
		nanosleep(&ts, NULL);
		for (int i = 0; i < m->cfg->n_cameras; i++)
			hub_reap(camera_hub(m->cams[i]), cancel_interrupted, NULL);
	}
	return NULL;
}

/* A mount left by a crashed daemon answers ENOTCONN; unmount it lazily. */
static int recover_stale(const char *mountpoint)
{
	struct stat st;
	pid_t pid;
	int status;

	if (stat(mountpoint, &st) == 0 || errno != ENOTCONN)
		return 0;
	log_warning("mount", "%s is a stale mount left by a stopped camfs; unmounting it", mountpoint);
	if (umount2(mountpoint, MNT_DETACH) == 0)
		return 0;
	pid = fork();
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", "-u", "-z", mountpoint, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -EBUSY;
	return 0;
}

int mount_new(struct mount **out, int argc, char **argv, const char *mountpoint,
	      const struct config *cfg, struct camera **cams, struct tree *tree)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct mount *m = calloc(1, sizeof(*m));
	int ret;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->cfg = cfg;
	m->cams = cams;
	m->tree = tree;
	m->mountpoint = strdup(mountpoint);
	pthread_mutex_init(&m->handles_lock, NULL);
	for (int i = 0; i < argc; i++)
		fuse_opt_add_arg(&args, argv[i]);
	/* Read-only, so the kernel refuses every write with EROFS itself;
	 * permissions checked by the kernel on our 0444/0555 modes. */
	fuse_opt_add_arg(&args, "-o");
	fuse_opt_add_arg(&args, "ro,default_permissions,fsname=camfs,subtype=camfs");
	ret = recover_stale(mountpoint);
	if (ret < 0) {
		log_error("mount", "cannot unmount the stale mount at %s", mountpoint);
		goto out;
	}
	m->se = fuse_session_new(&args, &ops, sizeof(ops), m);
	if (!m->se) {
		ret = -EINVAL;
		goto out;
	}
	if (fuse_session_mount(m->se, mountpoint) != 0) {
		ret = -EIO;
		goto out;
	}
	m->mounted = true;
	if (fuse_set_signal_handlers(m->se) != 0) {
		ret = -EIO;
		goto out;
	}
out:
	fuse_opt_free_args(&args);
	if (ret < 0)
		mount_free(m);
	else
		*out = m;
	return ret;
}

void mount_file_created(int cam, const char *path, void *opaque)
{
	struct mount *m = opaque;
	char date[16] = "";
	const char *slash = strrchr(path, '/');
	uint64_t cam_ino, day_ino = 0;

	/* path is STORE/<camera>/<date>/<file>: the date is before the file. */
	if (slash && slash - path > 10)
		snprintf(date, sizeof(date), "%.10s", slash - 10);
	cam_ino = tree_peek(m->tree, TREE_ROOT_INO, m->cfg->cameras[cam].name);
	if (cam_ino)
		day_ino = tree_peek(m->tree, cam_ino, date);
	if (day_ino)
		fuse_lowlevel_notify_inval_inode(m->se, day_ino, 0, 0);
	else if (cam_ino)
		fuse_lowlevel_notify_inval_inode(m->se, cam_ino, 0, 0);
}

int mount_run(struct mount *m)
{
	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	int ret;

	if (!lc)
		return -ENOMEM;
	/* Started here, not in mount_new: daemonizing forks in between, and
	 * a fork keeps only the calling thread. */
	ret = -pthread_create(&m->reaper, NULL, reaper_main, m);
	if (ret < 0) {
		fuse_loop_cfg_destroy(lc);
		return ret;
	}
	pthread_setname_np(m->reaper, "camfs-reaper");
	m->reaper_started = true;
	/* Parked reads hold no thread, so a few threads serve any number of
	 * readers. Idle ones are kept: every frame wakes all live readers at
	 * once, and with fewer kept libfuse would start and stop threads at
	 * each frame (measured: ~180 a second with 64 readers). */
	fuse_loop_cfg_set_max_threads(lc, 16);
	fuse_loop_cfg_set_idle_threads(lc, 16);
	log_notice("mount", "mounted at %s", m->mountpoint);
	ret = fuse_session_loop_mt(m->se, lc);
	fuse_loop_cfg_destroy(lc);
	return ret < 0 ? ret : 0;
}

void mount_free(struct mount *m)
{
	if (!m)
		return;
	atomic_store(&m->stop, true);
	if (m->reaper_started)
		pthread_join(m->reaper, NULL);
	/* The loop has ended: no operation runs now. */
	while (m->handles) {
		struct handle *h = m->handles;

		m->handles = h->next;
		close_file(h);
	}
	if (m->se) {
		fuse_remove_signal_handlers(m->se);
		if (m->mounted)
			fuse_session_unmount(m->se);
		fuse_session_destroy(m->se);
	}
	pthread_mutex_destroy(&m->handles_lock);
	free(m->mountpoint);
	free(m);
}
