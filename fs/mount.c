/* mount.c - the FUSE export of the tree and its files (libfuse low-level):
 * attributes and their cache times, zero-copy replies of a file's pieces, and
 * live.mp4 reads parked in the camera's hub, answered from its thread. */
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
#include "fs/file.h"
#include "fs/tree.h"
#include "stream/hub.h"
#include "util/log.h"

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

/* One open file or directory. A read takes its own reference to the file:
 * the kernel may release the file as soon as a reply's bytes are in, while
 * the replying thread is still inside writev with them. */
struct handle {
	struct file *file;         /* files */
	struct tree_entry *entries;/* directories */
	size_t n_entries;
	struct handle *prev, *next;/* files, in mount->handles while open */
	uint64_t ino;              /* files: what was opened, by which thread */
	pid_t opener;
};

/* A live.mp4 read or poll waiting in the hub. */
struct waiter {
	fuse_req_t req;            /* a read; NULL for a poll */
	size_t size;
	off_t off;
	bool whole;                /* the read waits for all of its bytes */
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

/* Attribute and entry cache times: a file that is not fixed must be asked
 * every time; a fixed one never changes; live.mp4's size never does. */
static double cache_seconds(const struct tree_attr *attr)
{
	if (attr->life == TREE_ENDLESS)
		return 3600;
	if (S_ISDIR(attr->st.st_mode))
		return 1;
	return attr->life == TREE_FIXED ? 60 : 0;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Footage is sent with splice from the store's fds. */
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;
	conn->max_readahead = 1 << 20;
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	/* NFS (nfs-ganesha, the kernel's nfsd) opens files by handle: node
	 * ids that stay valid (fs/nodeid.c), lookups of "." and "..". */
	if (conn->capable & FUSE_CAP_EXPORT_SUPPORT)
		conn->want |= FUSE_CAP_EXPORT_SUPPORT;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct tree *tree = mount_of(req)->tree;
	struct fuse_entry_param e = { 0 };
	struct tree_attr attr;
	uint64_t ino = parent;
	int ret;

	/* "." and "..": the kernel opening an NFS file handle it holds no
	 * inode for; ids are stable, so generation stays 0. */
	if (strcmp(name, ".") == 0)
		ret = tree_lookup_id(tree, parent, &attr);
	else if (strcmp(name, "..") == 0)
		ret = tree_lookup_parent(tree, parent, &ino, &attr);
	else
		ret = tree_lookup(tree, parent, name, &ino, &attr);

	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	e.ino = ino;
	e.attr = attr.st;
	e.attr_timeout = e.entry_timeout = cache_seconds(&attr);
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

/* The size of the newest open of ino by the thread asking, or -1. fstat
 * sends no file handle (the kernel's getattr has only the inode), yet the
 * size must be the one that open reads: nginx and smbd open, fstat, then
 * read that many bytes. */
static off_t opener_size(struct mount *m, uint64_t ino, pid_t tid)
{
	off_t size = -1;

	if (tid == 0)
		return -1;   /* a caller outside our pid namespace: not told apart */
	pthread_mutex_lock(&m->handles_lock);
	for (struct handle *h = m->handles; h; h = h->next)
		if (h->ino == ino && h->opener == tid) {
			size = (off_t)file_size(h->file);
			break;
		}
	pthread_mutex_unlock(&m->handles_lock);
	return size;
}

/* An open of this keeps bytes of its own that the inode may no longer have:
 * a generated file, a snapshot, a clip's build. A store file's open reads
 * through to the store, as its inode does. */
static bool open_has_own_size(const struct tree_attr *attr)
{
	if (attr->life == TREE_CURRENT)
		return !S_ISDIR(attr->st.st_mode);
	return attr->life == TREE_GROWING && attr->kind != TREE_STORE_FILE;
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct tree_attr attr;
	double seconds;
	off_t size = -1;
	int ret = tree_getattr(m->tree, ino, &attr);

	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	seconds = cache_seconds(&attr);
	/* An open file has its own size (a generated file, a snapshot or a
	 * clip keeps the one it was made with); when that is not the inode's
	 * now, it is this open's alone. */
	if (fi && handle_of(fi)->file)
		size = (off_t)file_size(handle_of(fi)->file);   /* a growing one: an fstat */
	else if (open_has_own_size(&attr))
		size = opener_size(m, ino, fuse_req_ctx(req)->pid);
	if (size >= 0 && size != attr.st.st_size) {
		attr.st.st_size = size;
		seconds = 0;
	}
	fuse_reply_attr(req, &attr.st, seconds);
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

/* Answers whatever is parked on a live file, then drops the open's
 * reference (a read being answered may hold the file a moment longer). */
static void handle_close(struct handle *h)
{
	struct hub_reader *r = h->file ? file_reader(h->file) : NULL;
	struct waiter *w;

	while (r && (w = hub_reader_unpark_any(r))) {
		if (w->ph)
			fuse_pollhandle_destroy(w->ph);
		else
			fuse_reply_err(w->req, EBADF);
		free(w);
	}
	file_close(h->file);
	free(h->entries);
	free(h);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mount_of(req);
	struct handle *h;
	enum tree_life life;
	int ret;

	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (!(h = calloc(1, sizeof(*h)))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ret = file_open(&h->file, m->tree, ino, live_wake, NULL);
	if (ret < 0) {
		handle_close(h);
		fuse_reply_err(req, -ret);
		return;
	}
	/* A fixed file's pages stay in the page cache between opens; any
	 * other's bytes are this open's (or grow), so they go past it. */
	life = file_life(h->file);
	fi->keep_cache = life == TREE_FIXED;
	fi->direct_io = life != TREE_FIXED;
	fi->fh = (uintptr_t)h;
	h->ino = ino;
	h->opener = fuse_req_ctx(req)->pid;
	track(m, h);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		/* The opener went away (interrupted) before the reply. */
		untrack(m, h);
		handle_close(h);
	}
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
		ssize_t n = buf ? hub_reader_pread_locked(r, buf, w->size, w->off, w->whole) : -ENOMEM;

		reply_live(w->req, n == -EAGAIN ? -EIO : n, buf);
	}
	free(w);
}

static void read_live(fuse_req_t req, struct hub_reader *r, size_t size, off_t off,
		      bool whole, uint64_t lock_owner)
{
	struct waiter *w;
	void *buf;
	ssize_t n;

	/* A read with no lock owner comes from the page cache (readahead,
	 * fadvise(WILLNEED): VLC advises on open; sendfile, splice, a private
	 * mmap), not from a reader. The kernel takes a short answer there for
	 * the end of the file and shrinks the inode's size to it, which every
	 * later stat would report; and the page cache is the inode's, shared
	 * by opens whose streams differ. An error leaves both alone. */
	if (!lock_owner) {
		fuse_reply_err(req, EIO);
		return;
	}
	w = calloc(1, sizeof(*w));
	buf = thread_buffer(size);
	if (!w || !buf) {
		free(w);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	w->req = req;
	w->size = size;
	w->off = off;
	w->whole = whole;
	n = hub_reader_pread(r, buf, size, off, whole, w);
	if (n == -EAGAIN)
		return;   /* parked: live_wake or the reaper answers */
	free(w);
	reply_live(req, n, buf);
}

/* A read of anything but live.mp4, answered at once: the file's pieces in
 * memory and zero-copy ranges of store files, in one reply. A read can span
 * any number of a clip's extents; a few fit on the stack, more get an array
 * sized for them, because a short reply would be taken for EOF (the kernel
 * shrinks the file to it). */
static void read_file(fuse_req_t req, struct file *f, size_t size, off_t off)
{
	struct file_piece few[4], *pieces = few;
	size_t n = file_pieces(f, off, size, few, 4);
	struct fuse_bufvec one, *bv = &one;
	int ret = 0;

	if (n > 4) {
		size_t room = n;

		if (!(pieces = calloc(room, sizeof(*pieces)))) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		n = file_pieces(f, off, size, pieces, room);
		n = n < room ? n : room;
	}
	if ((ret = file_pieces_hold(f, pieces, n)) < 0 ||
	    (n > 1 && !(bv = calloc(1, sizeof(*bv) + n * sizeof(bv->buf[0]))))) {
		if (ret == 0)
			file_pieces_release(f, pieces, n);
		if (pieces != few)
			free(pieces);
		fuse_reply_err(req, ret < 0 ? -ret : ENOMEM);
		return;
	}
	*bv = (struct fuse_bufvec){ .count = n };
	for (size_t i = 0; i < n; i++) {
		bv->buf[i] = (struct fuse_buf){ .size = pieces[i].len };
		if (pieces[i].data) {
			bv->buf[i].mem = (void *)pieces[i].data;
		} else {
			bv->buf[i].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
			bv->buf[i].fd = pieces[i].fd;
			bv->buf[i].pos = pieces[i].pos;
		}
	}
	if (n == 0)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_data(req, bv, FUSE_BUF_SPLICE_MOVE);
	file_pieces_release(f, pieces, n);
	if (pieces != few)
		free(pieces);
	if (bv != &one)
		free(bv);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	struct hub_reader *r = file_reader(h->file);
	struct file *f;

	(void)ino;
	if (r) {   /* live.mp4: answered from the hub, maybe later */
		/* A live read gives what has come, so players see each
		 * fragment at once; O_DIRECT (the file's flags as of this read:
		 * nginx's `directio` sets it with fcntl) asks for whole reads
		 * instead, for programs that take a short read for the end. */
		read_live(req, r, size, off, fi->flags & O_DIRECT, fi->lock_owner);
		return;
	}
	f = file_ref(h->file);
	read_file(req, f, size, off);
	file_close(f);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	untrack(mount_of(req), handle_of(fi));
	handle_close(handle_of(fi));
	fuse_reply_err(req, 0);
}

static void op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct hub_reader *r = file_reader(handle_of(fi)->file);

	(void)ino;
	if (!r || hub_reader_ready(r)) {
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
		n = hub_reader_park(r, w);
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
	struct handle *h = calloc(1, sizeof(*h));
	int ret;

	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Listed once per open, so readdir offsets stay stable. */
	ret = tree_list(mount_of(req)->tree, ino, &h->entries, &h->n_entries);
	if (ret < 0) {
		handle_close(h);
		fuse_reply_err(req, -ret);
		return;
	}
	fi->fh = (uintptr_t)h;
	if (fuse_reply_open(req, fi) == -ENOENT)
		handle_close(h);
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

		/* An entry's number is its node id (tree_list): exportfs finds
		 * a directory's name in its parent by it. */
		if (i >= 2 && h->entries[i - 2].st.st_ino)
			st = h->entries[i - 2].st;
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
	handle_close(handle_of(fi));
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
			hub_reap(camera_hub(m->cams[i]), live_wake, cancel_interrupted, NULL);
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
		handle_close(h);
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
