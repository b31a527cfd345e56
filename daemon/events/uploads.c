/* uploads.c - the camera-upload watcher: one thread follows every camera's
 * upload tree with libinotifytools and files each finished JPEG as an event.
 *
 * A file is looked at when the kernel says it was closed after writing, or
 * renamed into the tree, and when a walk finds it: at start, for a folder
 * that appeared (a camera may write into it before the watch is there), and
 * after the kernel's event queue overflowed. A folder is always watched
 * before its files are listed, so a file closed meanwhile is seen by the
 * walk or by its event, or both (the second finds it gone).
 *
 * Uploaders own their folder: between two system calls they can replace a
 * file by a symlink or a hard link, or a folder by a link to any other.
 * So no path is followed. Each camera's folder is opened once; everything
 * below is reached from that fd without following a link or leaving it
 * (util/beneath.h). An upload is checked on the fd it is read from, a copy of the
 * checked bytes is filed, and a name is only moved or removed inside the
 * camera's folder, after checking it still is the file that was read. */
#include "events/uploads.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inotifytools/inotifytools.h>
#include <inttypes.h>
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

#include "util/beneath.h"
#include "util/clock.h"
#include "config.h"
#include "events/events.h"
#include "util/log.h"
#include "record/store.h"

#define REJECTED "rejected"
#define MAX_SUFFIX 1000          /* rejected/name_2.ext .. name_999.ext */
#define MAX_REJECTED 100         /* files kept in rejected/; more rejects are deleted */
#define MAX_DEPTH 16             /* folders below an incoming folder */
/* Folders watched per camera: inotify watches are kernel memory, and count
 * against a limit every process of root shares. */
#define MAX_FOLDERS 4096
/* The end-of-image marker is looked for here: after at most this much
 * zero padding, so checking a file never reads more. */
#define TAIL_BYTES 65536
/* A file a walk finds that is not (yet) a whole JPEG, written to this
 * recently, may still be uploading: its close will bring it back. */
#define SETTLE_US (30 * 1000000LL)
#define FALLBACK_POLL_MS 1000    /* without the library's fd, look this often */
/* IN_CREATE and IN_MOVED_FROM are for folders: new ones, renamed ones.
 * IN_MASK_CREATE: a folder already watched keeps its watch (EEXIST) rather
 * than being added to the library's bookkeeping twice. IN_DONT_FOLLOW: a
 * folder swapped for a link is not watched through it. */
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_ONLYDIR | \
		    IN_MASK_CREATE | IN_DONT_FOLLOW)

struct root {                    /* one camera's upload folder */
	int cam;
	char *name;              /* camera name, the log tag */
	char *dir;               /* canonical, no trailing slash; the library's names start so */
	char *rejected;          /* dir/rejected */
	int fd;                  /* dir, opened at start: all below is reached from it */
	int wd;                  /* the folder's own watch */
	int n_folders;           /* folders watched, dir included */
	bool folders_full;       /* MAX_FOLDERS reached, logged */
	char day[STORE_DATE_LEN];/* the local date day_bytes counts; "" before the first */
	int64_t day_bytes;       /* bytes filed on day */
	bool day_full;           /* upload_max_per_day reached on day, logged */
	bool rejected_full;      /* rejected/ had MAX_REJECTED files, logged */
	struct events *events;
};

/* Everything but stop is the watcher thread's once it runs. */
struct uploads {
	struct root *roots;
	int n_roots;
	char *store;             /* never walked into, wherever it is */
	int64_t max_size;        /* upload_max_size */
	int64_t max_per_day;     /* upload_max_per_day, 0: none */
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

/* s with control characters as '?', for log lines: names are the uploader's. */
static const char *printable(const char *s, char out[PATH_MAX])
{
	size_t i;

	for (i = 0; s[i] && i < PATH_MAX - 1; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
	return out;
}

/* r's folder, or rel below it ("a/b.jpg"), as the library names it (no
 * trailing '/'). False if it does not fit. */
static bool full_path(const struct root *r, const char *rel, char out[PATH_MAX])
{
	return snprintf(out, PATH_MAX, "%s%s%s", r->dir, *rel ? "/" : "", rel) < PATH_MAX;
}

/* Whether name in folder dfd still is the file st describes (the entry
 * itself: a link is not followed). */
static bool same_entry(int dfd, const char *name, const struct stat *st)
{
	struct stat now;

	return fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st->st_dev &&
	       now.st_ino == st->st_ino;
}

/* Removes name (the file st) from folder dfd. 0, -ESTALE when the name is
 * now another file (a new upload: its own event comes), or negative errno. */
static int drop(int dfd, const char *name, const struct stat *st)
{
	if (!same_entry(dfd, name, st))
		return -ESTALE;
	return unlinkat(dfd, name, 0) == 0 ? 0 : -errno;
}

/* Why fd (size bytes) is not a whole JPEG, or NULL if it is: it starts
 * with SOI and a marker (FF D8 FF) and ends with EOI (FF D9), which some
 * cameras follow with zero padding. Reads the first 3 and the last
 * TAIL_BYTES bytes only. An upload cut short lacks the EOI. */
static const char *jpeg_problem(int fd, off_t size)
{
	unsigned char head[3], tail[TAIL_BYTES];
	off_t from = size > TAIL_BYTES ? size - TAIL_BYTES : 0;
	ssize_t n;

	if (size == 0)
		return "empty file";
	if (pread(fd, head, 3, 0) != 3 || memcmp(head, "\xff\xd8\xff", 3) != 0)
		return "not a JPEG";
	n = pread(fd, tail, (size_t)(size - from), from);
	if (n != size - from)
		return "shorter than it was";   /* truncated while read */
	while (n > 0 && tail[n - 1] == 0)
		n--;
	if (n == 0)
		return "JPEG followed by more than 64 KiB of zeros";
	if (from + n < 5 || tail[n - 2] != 0xff || tail[n - 1] != 0xd9)
		return "truncated JPEG (no end-of-image marker)";
	return NULL;
}

/* Entries in folder fd, counting up to at most limit. */
static int count_entries(int fd, int limit)
{
	int lfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
	struct dirent *e;
	int n = 0;

	if (!d) {
		if (lfd >= 0)
			close(lfd);
		return 0;
	}
	while (n < limit && (e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* Moves name (in folder dfd, the file st; shown: its path for messages)
 * into rejected/ under its own name, or name_2.ext, name_3.ext ... if
 * taken: kept as evidence, never overwritten. rejected/ keeps at most
 * MAX_REJECTED files; a reject beyond that, or when rejected/ is not a
 * folder, is deleted. Both folders are fds: nothing leaves r's folder. */
static void reject(struct root *r, int dfd, const char *name, const struct stat *st,
		   const char *shown, const char *why)
{
	const char *ext = strrchr(name, '.');
	char dst[NAME_MAX + 1], dst_shown[PATH_MAX];
	int rfd, ret = -EEXIST;

	if (!ext || ext == name)
		ext = name + strlen(name);
	if (mkdirat(r->fd, REJECTED, 0755) < 0 && errno != EEXIST)
		ret = -errno;
	rfd = openat(r->fd, REJECTED, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rfd < 0 || count_entries(rfd, MAX_REJECTED) >= MAX_REJECTED) {
		ret = drop(dfd, name, st);
		if (ret == 0 && rfd < 0)
			log_warning(r->name, "rejected upload %s: %s; deleted: rejected/ is not a "
				    "folder", shown, why);
		else if (ret == 0 && !r->rejected_full)
			log_warning(r->name, "rejected upload %s: %s; deleted: rejected/ has %d "
				    "files, further rejected uploads are deleted until there is room",
				    shown, why, MAX_REJECTED);
		else if (ret == 0)
			log_debug(r->name, "rejected upload %s: %s; deleted", shown, why);
		r->rejected_full = rfd >= 0;
		if (rfd >= 0)
			close(rfd);
		return;
	}
	r->rejected_full = false;
	/* A name now of another file: that one's own event decides. */
	for (int i = 1; i < MAX_SUFFIX && ret == -EEXIST && same_entry(dfd, name, st); i++) {
		if (i == 1)
			snprintf(dst, sizeof(dst), "%s", name);
		else if (snprintf(dst, sizeof(dst), "%.*s_%d%s", (int)(ext - name), name, i, ext) >=
			 (int)sizeof(dst))
			break;
		ret = renameat2(dfd, name, rfd, dst, RENAME_NOREPLACE) == 0 ? 0 : -errno;
	}
	close(rfd);
	if (ret == 0)
		log_warning(r->name, "rejected upload %s: %s; moved to %s/%s", shown, why,
			    r->rejected, printable(dst, dst_shown));
	else if (ret != -ENOENT && ret != -EEXIST)
		log_warning(r->name, "rejected upload %s: %s; cannot move it to %s/: %s", shown,
			    why, r->rejected, strerror(-ret));
}

/* Bytes of camera uploads filed on day in the store. */
static int64_t filed_bytes(const struct uploads *in, const struct root *r, const char *day)
{
	char dir[PATH_MAX], stem[EVENTS_STEM_MAX];
	int64_t bytes = 0;
	struct dirent *e;
	DIR *d;

	if (!in->store || snprintf(dir, sizeof(dir), "%s/%s/" EVENTS_DIR "/%s", in->store,
				   r->name, day) >= (int)sizeof(dir) || !(d = opendir(dir)))
		return 0;
	while ((e = readdir(d))) {
		struct stat st;

		if (events_is_snapshot_name(e->d_name, stem) && strstr(stem, "-camera") &&
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			bytes += st.st_size;
	}
	closedir(d);
	return bytes;
}

/* Whether filing size more bytes at now passes upload_max_per_day. A
 * day's count starts from what the store has of it, so a restart does not
 * reset it. */
static bool over_quota(const struct uploads *in, struct root *r, int64_t now, off_t size)
{
	char day[STORE_DATE_LEN];

	if (in->max_per_day <= 0)
		return false;
	store_date_name(now, day);
	if (strcmp(day, r->day) != 0) {
		memcpy(r->day, day, sizeof(day));
		r->day_bytes = filed_bytes(in, r, day);
		r->day_full = false;
	}
	if (r->day_bytes + size <= in->max_per_day)
		return false;
	if (!r->day_full)
		log_warning(r->name, "%" PRId64 " bytes of uploads filed today; upload_max_per_day "
			    "is %" PRId64 ": further uploads are deleted until tomorrow",
			    r->day_bytes, in->max_per_day);
	r->day_full = true;
	return true;
}

/* Whether some process has fd's file open for writing: a read lease is
 * refused then (EAGAIN). Where leases cannot be taken (no CAP_LEASE, a
 * filesystem without them) nothing is known: false. */
static bool open_for_writing(int fd)
{
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		fcntl(fd, F_SETLEASE, F_UNLCK);
		return false;
	}
	return errno == EAGAIN;
}

/* Files the upload name in folder dfd (rel: its path below r's folder), or
 * rejects it. from_walk: nothing said it was closed, so it may still be
 * being written. */
static void take(struct uploads *in, struct root *r, int dfd, const char *name, const char *rel,
		 bool from_walk)
{
	char stem[EVENTS_STEM_MAX], stored[4096], path[PATH_MAX], shown[PATH_MAX];
	const char *why = NULL;
	struct stat st;
	int64_t now = clock_wall_us(&clock_system);
	int fd = -1, ret;

	/* Not opened unless regular: opening a device or FIFO could block or
	 * act. ENOENT: taken already, or renamed away meanwhile. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
		return;
	/* O_NOFOLLOW: a link swapped in since is not opened; the rename that
	 * put it there brings its own event. */
	if (S_ISREG(st.st_mode) &&
	    ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0 ||
	     fstat(fd, &st) < 0))
		goto out;
	printable(full_path(r, rel, path) ? path : rel, shown);
	if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
	} else if (st.st_nlink != 1) {
		why = "has other hard links";   /* maybe to a file anywhere on this filesystem */
	} else if (st.st_size > in->max_size) {
		/* Not even kept in rejected/: disk use stays bounded. */
		if (drop(dfd, name, &st) == 0)
			log_warning(r->name, "upload %s: %" PRId64 " bytes, more than upload_max_size "
				    "(%" PRId64 "): deleted", shown, (int64_t)st.st_size,
				    in->max_size);
		goto out;
	} else if (from_walk && open_for_writing(fd)) {
		/* Its close event comes and files it then. What a walk would read
		 * now may be a prefix that looks whole (a JPEG and part of its
		 * zero padding). */
		log_debug(r->name, "upload %s: still being written; filed when closed", shown);
		goto out;
	} else {
		why = jpeg_problem(fd, st.st_size);
	}
	if (why && from_walk && now - (st.st_mtim.tv_sec * 1000000LL + st.st_mtim.tv_nsec / 1000) <
	    SETTLE_US) {
		log_debug(r->name, "upload %s: %s; may still be uploading", shown, why);
		goto out;
	}
	if (why) {
		reject(r, dfd, name, &st, shown, why);
		goto out;
	}
	if (over_quota(in, r, now, st.st_size)) {
		if (drop(dfd, name, &st) == 0)
			log_debug(r->name, "upload %s deleted: upload_max_per_day reached", shown);
		goto out;
	}
	ret = events_take_upload(r->events, fd, (size_t)st.st_size, now, stem, stored);
	if (ret < 0) {
		log_warning(r->name, "cannot file upload %s: %s; left there until the next start",
			    shown, strerror(-ret));
		goto out;
	}
	r->day_bytes += st.st_size;
	ret = drop(dfd, name, &st);
	if (ret < 0 && ret != -ESTALE && ret != -ENOENT)
		log_warning(r->name, "upload %s filed as %s, but cannot be removed: %s", shown, stem,
			    strerror(-ret));
	log_info(r->name, "upload %s filed as %s", shown, stem);
	if (in->on_event)
		in->on_event(r->cam, stem, stored, now, in->opaque);
out:
	if (fd >= 0)
		close(fd);
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

/* Watches folder rel below r's (dfd, opened by the caller) and every
 * folder below it, and takes the files there. */
static void walk(struct uploads *in, struct root *r, int dfd, const char *rel, int depth)
{
	char path[PATH_MAX], shown[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int lfd;

	if (!full_path(r, rel, path))
		return;
	printable(path, shown);
	if (depth > MAX_DEPTH) {
		log_warning(r->name, "uploads in %s: more than %d folders deep, not watched", shown,
			    MAX_DEPTH);
		return;
	}
	if (r->n_folders >= MAX_FOLDERS) {
		if (!r->folders_full)
			log_warning(r->name, "uploads in %s: more than %d folders, not watched until "
				    "some are removed", shown, MAX_FOLDERS);
		r->folders_full = true;
		return;
	}
	/* Events come late: ENOENT, ENOTDIR, ELOOP, the folder was renamed
	 * or replaced since. */
	if (inotifytools_watch_file(path, WATCH_MASK)) {
		r->n_folders++;
	} else if (inotifytools_error() == ENOENT || inotifytools_error() == ENOTDIR ||
		   inotifytools_error() == ELOOP) {
		return;
	} else if (inotifytools_error() != EEXIST) {
		log_warning(r->name, "cannot watch uploads in %s: %s", shown,
			    strerror(inotifytools_error()));
	}
	lfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);   /* its own offset */
	d = lfd >= 0 ? fdopendir(lfd) : NULL;
	if (!d) {
		log_warning(r->name, "cannot list uploads in %s: %s", shown, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return;
	}
	while (!atomic_load(&in->stop) && (e = readdir(d))) {
		char child[PATH_MAX], child_path[PATH_MAX];
		int sub;

		/* Also ".", "..": hidden names are uploads still in progress. */
		if (e->d_name[0] == '.' ||
		    snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
		    (int)sizeof(child))
			continue;
		if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) {
			sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				if (full_path(r, child, child_path) && !excluded(in, child_path))
					walk(in, r, sub, child, depth + 1);
				close(sub);
				continue;
			}
			if (errno != ENOTDIR && errno != ELOOP)   /* gone, or a file or link now */
				continue;
		}
		take(in, r, dfd, e->d_name, child, true);
	}
	closedir(d);
}

static void walk_all(struct uploads *in)
{
	for (int i = 0; i < in->n_roots && !atomic_load(&in->stop); i++)
		walk(in, &in->roots[i], in->roots[i].fd, "", 0);
}

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

static int depth_of(const char *rel)
{
	int depth = 1;

	for (const char *p = rel; *p; p++)
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
		struct root *r = root_of(in, in->moved_from);

		if (inotifytools_remove_watch_by_filename(in->moved_from) && r)
			r->n_folders--;   /* its IN_IGNORED will not name it any more */
	}
	in->moved_from[0] = '\0';
}

/* An event's file (or, is_dir, folder) rel below r's folder: taken (or
 * walked) from its folder's fd. */
static void in_folder(struct uploads *in, struct root *r, const char *rel, bool is_dir)
{
	const char *slash = strrchr(rel, '/');
	char folder[PATH_MAX];
	int dfd;

	snprintf(folder, sizeof(folder), "%.*s", is_dir ? (int)strlen(rel) :
		 slash ? (int)(slash - rel) : 0, rel);
	/* Without following a link or leaving r's folder. */
	dfd = open_beneath(r->fd, folder, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)   /* gone, or a link now: nothing of ours */
		return;
	if (is_dir)
		walk(in, r, dfd, rel, depth_of(rel));
	else
		take(in, r, dfd, slash ? slash + 1 : rel, rel, false);
	close(dfd);
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
		r = *dir ? root_of(in, dir) : NULL;
		if (r && e->wd == r->wd)
			log_warning(r->name, "%s was removed: no more uploads until camfs restarts",
				    r->dir);
		else if (r && --r->n_folders < MAX_FOLDERS)
			r->folders_full = false;
	} else if (!visible) {
		return;
	} else if (!(e->mask & IN_ISDIR)) {
		if (e->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
			in_folder(in, r, path + strlen(r->dir) + 1, false);
	} else if (e->mask & IN_MOVED_FROM) {
		snprintf(in->moved_from, sizeof(in->moved_from), "%s/", path);
		in->moved_cookie = e->cookie;
		if (inotifytools_wd_from_filename(in->moved_from) < 0)   /* never watched */
			in->moved_from[0] = '\0';
	} else {   /* a folder made or renamed in: watch it, and take what is in it */
		in_folder(in, r, path + strlen(r->dir) + 1, true);
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

	/* Canonical, so paths from events compare with it as text. The
	 * folder itself is the config's: only what is in it is the uploader's. */
	r->fd = -1;
	if (ret == 0 && !realpath(cam->events_incoming, real))
		ret = -errno;
	if (ret == 0 && (r->fd = open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		ret = -errno;
	if (ret == 0 && !inotifytools_watch_file(real, WATCH_MASK))
		ret = -inotifytools_error();   /* EEXIST: another camera's too, by a symlink */
	if (ret < 0) {
		log_warning(cam->name, "cannot watch uploads in %s: %s", cam->events_incoming,
			    strerror(-ret));
		if (r->fd >= 0)
			close(r->fd);
		return;
	}
	snprintf(watched, sizeof(watched), "%s/", real);   /* as the library names it */
	r->cam = c;
	r->events = ev;
	r->wd = inotifytools_wd_from_filename(watched);
	r->n_folders = 1;
	r->name = strdup(cam->name);
	r->dir = strdup(real);
	if (asprintf(&r->rejected, "%s/" REJECTED, real) < 0)
		r->rejected = NULL;
	if (r->name && r->dir && r->rejected) {
		in->n_roots++;
	} else {
		log_error(cam->name, "cannot watch uploads in %s: %s", real, strerror(ENOMEM));
		close(r->fd);
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
	in->max_size = cfg->upload_max_size;
	in->max_per_day = cfg->upload_max_per_day;
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
		close(in->roots[i].fd);
		free(in->roots[i].name);
		free(in->roots[i].dir);
		free(in->roots[i].rejected);
	}
	free(in->roots);
	free(in->store);
	free(in);
}
