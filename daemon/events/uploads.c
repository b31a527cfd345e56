/* uploads.c - the camera-upload watcher: one thread follows every camera's
 * upload tree with libinotifytools and files each finished JPEG as an event.
 *
 * A file is looked at when the kernel says it was closed after writing, or
 * renamed into the tree, and when a walk finds it: at start, for a folder
 * that appeared (a camera may write into it before the watch is there), and
 * after the kernel's event queue overflowed. A folder is always watched
 * before its files are listed, so a file closed meanwhile is seen by the
 * walk or by its event, or both (the second finds it gone). */
#include "events/uploads.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inotifytools/inotifytools.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/clock.h"
#include "config.h"
#include "events/events.h"
#include "util/log.h"

#define REJECTED "rejected"
#define MAX_SUFFIX 1000          /* rejected/name_2.ext .. name_999.ext */
#define MAX_DEPTH 16             /* folders below an incoming folder */
/* A file a walk finds that is not (yet) a whole JPEG, written to this
 * recently, may still be uploading: its close will bring it back. */
#define SETTLE_US (30 * 1000000LL)
#define FALLBACK_POLL_MS 1000    /* without the library's fd, look this often */
/* IN_CREATE and IN_MOVED_FROM are for folders: new ones, renamed ones.
 * IN_MASK_CREATE: a folder already watched keeps its watch (EEXIST) rather
 * than being added to the library's bookkeeping twice. */
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_ONLYDIR | \
		    IN_MASK_CREATE)

struct root {                    /* one camera's upload folder */
	int cam;
	char *name;              /* camera name, the log tag */
	char *dir;               /* canonical, no trailing slash */
	char *rejected;          /* dir/rejected */
	int wd;                  /* the folder's own watch */
	struct events *events;
};

/* Everything but stop is the watcher thread's once it runs. */
struct uploads {
	struct root *roots;
	int n_roots;
	char *store;             /* never walked into, wherever it is */
	uploads_event_fn *on_event;
	void *opaque;

	char moved_from[PATH_MAX + 1]; /* a watched folder just renamed, until its IN_MOVED_TO */
	uint32_t moved_cookie;

	bool library_init;
	int library_fd;          /* the library's inotify fd, -1 if not found */
	int wake_fd;             /* eventfd: stop */
	atomic_bool stop;
	pthread_t thread;
	bool thread_started;
};

static atomic_bool library_taken;  /* libinotifytools is one per process */

/* Where a file or folder is: its root, or NULL outside them all. Roots may
 * nest; the deepest one owns the path. */
static struct root *root_of(struct uploads *in, const char *path)
{
	struct root *best = NULL;

	for (int i = 0; i < in->n_roots; i++) {
		size_t len = strlen(in->roots[i].dir);

		if (strncmp(path, in->roots[i].dir, len) == 0 && (path[len] == '/' || !path[len]) &&
		    (!best || len > strlen(best->dir)))
			best = &in->roots[i];
	}
	return best;
}

/* Folders a walk never enters: rejected/ (what is there stays there),
 * another camera's root (its own walk covers it), and the store. */
static bool excluded(const struct uploads *in, const char *path)
{
	if (in->store && strcmp(path, in->store) == 0)
		return true;
	for (int i = 0; i < in->n_roots; i++)
		if (strcmp(path, in->roots[i].dir) == 0 || strcmp(path, in->roots[i].rejected) == 0)
			return true;
	return false;
}

/* Offset of the last byte that is not zero padding, -1 if there is none,
 * or a negative errno - 1 on a read error. */
static off_t last_data_byte(int fd, off_t size)
{
	unsigned char buf[4096];
	off_t end = size;

	while (end > 0) {
		size_t n = end < (off_t)sizeof(buf) ? (size_t)end : sizeof(buf);

		if (pread(fd, buf, n, end - (off_t)n) != (ssize_t)n)
			return -1 - (errno ? errno : EIO);
		end -= (off_t)n;
		while (n > 0 && buf[n - 1] == 0)
			n--;
		if (n > 0)
			return end + (off_t)n - 1;
	}
	return -1;
}

/* Why fd is not a whole JPEG, or NULL if it is: it starts with SOI and a
 * marker (FF D8 FF) and ends with EOI (FF D9), which some cameras follow
 * with zero padding. An upload cut short lacks the EOI. */
static const char *jpeg_problem(int fd, off_t size)
{
	unsigned char b[3];
	off_t last;

	if (size == 0)
		return "empty file";
	if (pread(fd, b, 3, 0) != 3 || memcmp(b, "\xff\xd8\xff", 3) != 0)
		return "not a JPEG";
	last = last_data_byte(fd, size);
	if (last < -1)
		return "unreadable";
	if (last < 4 || pread(fd, b, 2, last - 1) != 2 || b[0] != 0xff || b[1] != 0xd9)
		return "truncated JPEG (no end-of-image marker)";
	return NULL;
}

/* Moves path into rejected/ under its own name, or name_2.ext, name_3.ext
 * ... if taken: a rejected file is kept as evidence, never overwritten. */
static void reject(struct root *r, const char *path, const char *why)
{
	const char *base = strrchr(path, '/') + 1;
	const char *ext = strrchr(base, '.');
	char dst[PATH_MAX];
	int err = EEXIST;

	if (!ext || ext == base)
		ext = base + strlen(base);
	if (mkdir(r->rejected, 0755) < 0 && errno != EEXIST)
		err = errno;
	for (int i = 1; i < MAX_SUFFIX && err == EEXIST; i++) {
		if (i == 1)
			snprintf(dst, sizeof(dst), "%s/%s", r->rejected, base);
		else
			snprintf(dst, sizeof(dst), "%s/%.*s_%d%s", r->rejected, (int)(ext - base),
				 base, i, ext);
		err = renameat2(AT_FDCWD, path, AT_FDCWD, dst, RENAME_NOREPLACE) == 0 ? 0 : errno;
	}
	if (err == 0)
		log_warning(r->name, "rejected upload %s: %s; moved to %s", path, why, dst);
	else if (err != ENOENT)
		log_warning(r->name, "rejected upload %s: %s; cannot move it to %s/: %s", path,
			    why, r->rejected, strerror(err));
}

/* Files the upload at path, or rejects it. from_walk: nothing said it was
 * closed, so it may still be being written. */
static void take(struct uploads *in, struct root *r, const char *path, bool from_walk)
{
	char stem[EVENTS_STEM_MAX], stored[4096];
	const char *why = NULL;
	struct stat st;
	int64_t now = clock_wall_us(&clock_system);
	int fd, ret;

	/* Not opened unless regular: opening a device or FIFO could block or
	 * act. ENOENT: taken already, or renamed away meanwhile. */
	if (lstat(path, &st) < 0)
		return;
	if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
	} else {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			why = "not a regular file";
		else
			why = jpeg_problem(fd, st.st_size);
		close(fd);
	}
	if (why && from_walk && now - (st.st_mtim.tv_sec * 1000000LL + st.st_mtim.tv_nsec / 1000) <
	    SETTLE_US) {
		log_debug(r->name, "upload %s: %s; may still be uploading", path, why);
		return;
	}
	if (why) {
		reject(r, path, why);
		return;
	}
	ret = events_take_upload(r->events, path, now, stem, stored);
	if (ret < 0) {
		log_warning(r->name, "cannot file upload %s: %s; left there until the next start",
			    path, strerror(-ret));
		return;
	}
	log_info(r->name, "upload %s filed as %s", path, stem);
	if (in->on_event)
		in->on_event(r->cam, stem, stored, now, in->opaque);
}

/* Watches dir and every folder below it and takes the files there. */
static void walk(struct uploads *in, struct root *r, const char *dir, int depth)
{
	struct dirent *e;
	DIR *d;

	if (depth > MAX_DEPTH) {
		log_warning(r->name, "uploads in %s: more than %d folders deep, not watched", dir,
			    MAX_DEPTH);
		return;
	}
	/* Events come late: ENOENT, the folder was renamed or removed since. */
	if (!inotifytools_watch_file(dir, WATCH_MASK)) {
		if (inotifytools_error() == ENOENT)
			return;
		if (inotifytools_error() != EEXIST)
			log_warning(r->name, "cannot watch uploads in %s: %s", dir,
				    strerror(inotifytools_error()));
	}
	d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			log_warning(r->name, "cannot list uploads in %s: %s", dir, strerror(errno));
		return;
	}
	while (!atomic_load(&in->stop) && (e = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		/* Also ".", "..": hidden names are uploads still in progress. */
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
		    lstat(path, &st) < 0)
			continue;
		if (!S_ISDIR(st.st_mode))
			take(in, r, path, true);
		else if (!excluded(in, path))
			walk(in, r, path, depth + 1);
	}
	closedir(d);
}

static void walk_all(struct uploads *in)
{
	for (int i = 0; i < in->n_roots && !atomic_load(&in->stop); i++)
		walk(in, &in->roots[i], in->roots[i].dir, 0);
}

static int depth_of(const struct root *r, const char *path)
{
	int depth = 0;

	for (const char *p = path + strlen(r->dir); *p; p++)
		depth += *p == '/';
	return depth;
}

/* A watched folder was renamed (IN_MOVED_FROM, remembered in moved_from):
 * e, the next event, is its IN_MOVED_TO when it has the same cookie. Then
 * the library learns the new names of its watches there; renamed out of
 * the tree or to a name we skip (to is NULL), it is no longer watched. */
static void folder_moved(struct uploads *in, const struct inotify_event *e, const char *to)
{
	char dir[PATH_MAX + 1];

	if (to && (e->mask & IN_MOVED_TO) && e->cookie == in->moved_cookie) {
		snprintf(dir, sizeof(dir), "%s/", to);
		inotifytools_replace_filename(in->moved_from, dir);
	} else {
		inotifytools_remove_watch_by_filename(in->moved_from);
	}
	in->moved_from[0] = '\0';
}

static void handle(struct uploads *in, const struct inotify_event *e)
{
	const char *dir = inotifytools_filename_from_wd(e->wd);   /* "" or ending in '/' */
	char path[PATH_MAX];
	struct root *r = NULL;
	bool visible = false;   /* path is in a root, not hidden, not excluded */

	if (*dir && e->len && snprintf(path, sizeof(path), "%s%s", dir, e->name) < (int)sizeof(path)) {
		r = root_of(in, path);
		visible = r && e->name[0] != '.' && !excluded(in, path);
	}
	if (in->moved_from[0])
		folder_moved(in, e, visible && (e->mask & IN_ISDIR) ? path : NULL);
	if (e->mask & IN_Q_OVERFLOW) {
		log_notice("uploads", "too many upload events at once; looking at all folders");
		walk_all(in);
	} else if (e->mask & IN_IGNORED) {   /* its folder is gone */
		for (int i = 0; i < in->n_roots; i++)
			if (e->wd == in->roots[i].wd)
				log_warning(in->roots[i].name, "%s was removed: no more uploads "
					    "until camfs restarts", in->roots[i].dir);
	} else if (!visible) {
		return;
	} else if (!(e->mask & IN_ISDIR)) {
		if (e->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
			take(in, r, path, false);
	} else if (e->mask & IN_MOVED_FROM) {
		snprintf(in->moved_from, sizeof(in->moved_from), "%s/", path);
		in->moved_cookie = e->cookie;
		if (inotifytools_wd_from_filename(in->moved_from) < 0)   /* never watched */
			in->moved_from[0] = '\0';
	} else {   /* a folder made or renamed in: watch it, and take what is in it */
		walk(in, r, path, depth_of(r, path));
	}
}

static void *watch_main(void *opaque)
{
	struct uploads *in = opaque;
	struct pollfd fds[2] = {
		{ .fd = in->wake_fd, .events = POLLIN },
		{ .fd = in->library_fd, .events = POLLIN },   /* ignored when -1 */
	};

	walk_all(in);
	while (!atomic_load(&in->stop)) {
		struct inotify_event *e;

		if (poll(fds, 2, in->library_fd < 0 ? FALLBACK_POLL_MS : -1) < 0 && errno != EINTR) {
			log_error("uploads", "poll: %s; no more uploads", strerror(errno));
			break;
		}
		/* A timeout of 0 returns at once when nothing is queued. */
		while (!atomic_load(&in->stop) && (e = inotifytools_next_events(0, 1)))
			handle(in, e);
		if (inotifytools_error() && inotifytools_error() != EINTR)
			log_error("uploads", "reading upload events: %s",
				  strerror(inotifytools_error()));
	}
	return NULL;
}

/* libinotifytools keeps its inotify fd to itself (no getter, up to 4.x)
 * and waits on it only by itself, but stopping at once needs a poll on it
 * together with wake_fd. It is the inotify instance of this process whose
 * fdinfo lists watch wd on inode ino. -1 if not found. */
static int find_library_fd(int wd, ino_t ino)
{
	DIR *d = opendir("/proc/self/fdinfo");
	struct dirent *e;
	int found = -1;

	while (d && found < 0 && (e = readdir(d))) {
		char path[300], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", e->d_name);
		f = e->d_name[0] != '.' ? fopen(path, "re") : NULL;
		while (f && found < 0 && fgets(line, sizeof(line), f)) {
			unsigned int w;
			unsigned long i;

			if (sscanf(line, "inotify wd:%x ino:%lx", &w, &i) == 2 && (int)w == wd &&
			    i == ino)
				found = atoi(e->d_name);
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

/* mkdir -p. 0 or negative errno. */
static int make_dirs(const char *dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = '\0';
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = c;
		}
		if (!*p)
			return 0;
	}
}

/* Makes and watches camera c's folder as roots[n_roots]. */
static void add_root(struct uploads *in, const struct config *cfg, int c, struct events *ev)
{
	const struct camera_config *cam = &cfg->cameras[c];
	struct root *r = &in->roots[in->n_roots];
	char real[PATH_MAX], watched[PATH_MAX + 1];
	int ret = ev ? make_dirs(cam->events_incoming) : -EINVAL;   /* no event store */

	/* Canonical, so paths from events compare with it as text. */
	if (ret == 0 && !realpath(cam->events_incoming, real))
		ret = -errno;
	if (ret == 0 && !inotifytools_watch_file(real, WATCH_MASK))
		ret = -inotifytools_error();   /* EEXIST: another camera's too, by a symlink */
	if (ret < 0) {
		log_warning(cam->name, "cannot watch uploads in %s: %s", cam->events_incoming,
			    strerror(-ret));
		return;
	}
	snprintf(watched, sizeof(watched), "%s/", real);   /* as the library names it */
	r->cam = c;
	r->events = ev;
	r->wd = inotifytools_wd_from_filename(watched);
	r->name = strdup(cam->name);
	r->dir = strdup(real);
	if (asprintf(&r->rejected, "%s/" REJECTED, real) < 0)
		r->rejected = NULL;
	if (r->name && r->dir && r->rejected) {
		in->n_roots++;
	} else {
		log_error(cam->name, "cannot watch uploads in %s: %s", real, strerror(ENOMEM));
		free(r->name);
		free(r->dir);
		free(r->rejected);
	}
}

int uploads_new(struct uploads **out, const struct config *cfg, struct events **events,
		 uploads_event_fn *on_event, void *opaque)
{
	struct uploads *in = calloc(1, sizeof(*in));
	char store[PATH_MAX];
	struct stat st;
	int ret = 0;

	*out = NULL;
	if (!in)
		return -ENOMEM;
	in->on_event = on_event;
	in->opaque = opaque;
	in->library_fd = -1;
	in->wake_fd = -1;
	for (int c = 0; c < cfg->n_cameras; c++)
		in->n_roots += cfg->cameras[c].events_incoming != NULL;
	if (in->n_roots == 0) {   /* nothing to watch: no thread */
		*out = in;
		return 0;
	}
	if (atomic_exchange(&library_taken, true)) {
		free(in);
		return -EBUSY;
	}
	in->library_init = true;
	in->roots = calloc((size_t)in->n_roots, sizeof(*in->roots));
	in->n_roots = 0;
	if (cfg->store)
		in->store = strdup(realpath(cfg->store, store) ? store : cfg->store);
	if (!in->roots || (cfg->store && !in->store)) {
		ret = -ENOMEM;
		goto out;
	}
	if (!inotifytools_initialize()) {
		ret = -inotifytools_error();
		goto out;
	}
	for (int c = 0; c < cfg->n_cameras; c++)
		if (cfg->cameras[c].events_incoming)
			add_root(in, cfg, c, events[c]);
	if (in->n_roots == 0)     /* each failure is logged already */
		goto out;
	if (stat(in->roots[0].dir, &st) == 0)
		in->library_fd = find_library_fd(in->roots[0].wd, st.st_ino);
	if (in->library_fd < 0)
		log_notice("uploads", "inotify fd not found: looking for uploads every %d ms",
			   FALLBACK_POLL_MS);
	else   /* not inherited by hooks and other children */
		fcntl(in->library_fd, F_SETFD, FD_CLOEXEC);
	in->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (in->wake_fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = -pthread_create(&in->thread, NULL, watch_main, in);
	if (ret < 0)
		goto out;
	in->thread_started = true;
	pthread_setname_np(in->thread, "camfs-uploads");
out:
	if (ret < 0)
		uploads_free(in);
	else
		*out = in;
	return ret;
}

void uploads_free(struct uploads *in)
{
	if (!in)
		return;
	if (in->thread_started) {
		uint64_t one = 1;

		atomic_store(&in->stop, true);
		(void)!write(in->wake_fd, &one, sizeof(one));
		pthread_join(in->thread, NULL);
	}
	if (in->library_init) {
		inotifytools_cleanup();
		atomic_store(&library_taken, false);
	}
	if (in->wake_fd >= 0)
		close(in->wake_fd);
	for (int i = 0; i < in->n_roots; i++) {
		free(in->roots[i].name);
		free(in->roots[i].dir);
		free(in->roots[i].rejected);
	}
	free(in->roots);
	free(in->store);
	free(in);
}
