/* retention.c - chooses the oldest segments to delete (age, store size with
 * the events counted, free space, an ENOSPC request) and deletes them durably. */
#include "record/retention.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "config.h"
#include "util/array.h"
#include "events/events.h"
#include "util/log.h"
#include "record/sidecar.h"
#include "record/store.h"

#define TAG "retention"

enum why { KEEP, WHY_AGE, WHY_SIZE, WHY_FREE, WHY_NEED, N_WHY };

static const char *const why_names[N_WHY] = {
	[WHY_AGE] = "age", [WHY_SIZE] = "max_store_size",
	[WHY_FREE] = "min_free", [WHY_NEED] = "out of space",
};

static bool is_busy(const char *path, const char *const *busy, size_t n_busy)
{
	for (size_t i = 0; i < n_busy; i++)
		if (busy[i] && strcmp(busy[i], path) == 0)
			return true;
	return false;
}

static int retain_days(const struct config *cfg, const char *camera)
{
	for (int i = 0; i < cfg->n_cameras; i++)
		if (strcmp(cfg->cameras[i].name, camera) == 0)
			return config_camera_retain_days(cfg, &cfg->cameras[i]);
	return cfg->retain_days;   /* a camera no longer configured */
}

static int64_t min_free_bytes(const struct config *cfg, const struct retention_disk *disk)
{
	double pct = cfg->min_free.percent;

	if (pct > 0 && pct < 100)
		return (int64_t)((double)disk->total * pct / 100.0);
	return cfg->min_free.bytes;
}

/* Marks survivors oldest first until freed reaches goal; returns bytes.
 * With now, a held segment's bytes do not count: they come free later. */
static int64_t take_oldest(const struct store_segment *segs, size_t n,
			   const char *const *busy, size_t n_busy, int64_t goal,
			   enum why why, bool now, enum why *out)
{
	int64_t freed = 0;

	for (size_t i = 0; i < n && freed < goal; i++) {
		if (out[i] != KEEP || is_busy(segs[i].path, busy, n_busy))
			continue;
		out[i] = why;
		if (!now || !segs[i].held)
			freed += segs[i].size;
	}
	return freed;
}

/* retention_plan, with the reason for each victim (KEEP for the rest). */
static size_t plan(const struct config *cfg, const struct store_segment *segs, size_t n,
		   int64_t now_s, const struct retention_disk *disk,
		   const char *const *busy, size_t n_busy, int64_t need_bytes,
		   enum why *out)
{
	int64_t kept = disk ? disk->events : 0, freed = 0, need;
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		int days = retain_days(cfg, segs[i].camera);

		out[i] = KEEP;
		if (days > 0 && segs[i].start_s < now_s - (int64_t)days * 86400 &&
		    !is_busy(segs[i].path, busy, n_busy)) {
			out[i] = WHY_AGE;
			freed += segs[i].size;
		} else {
			kept += segs[i].size;   /* busy ones count: they fill the disk */
		}
	}

	if (cfg->max_store_size > 0 && kept > cfg->max_store_size) {
		int64_t f = take_oldest(segs, n, busy, n_busy, kept - cfg->max_store_size,
					WHY_SIZE, false, out);
		kept -= f;
		freed += f;
	}

	/* The disk numbers are from before this plan: what the limits above
	 * already free counts towards the free space, and so do deleted files
	 * still held open (they come free when their readers close them). */
	need = disk ? min_free_bytes(cfg, disk) - (disk->avail + disk->held_deleted + freed) : 0;
	if (need > 0)
		freed += take_oldest(segs, n, busy, n_busy, need, WHY_FREE, false, out);

	if (need_bytes > 0)
		take_oldest(segs, n, busy, n_busy, need_bytes, WHY_NEED, true, out);

	for (size_t i = 0; i < n; i++)
		count += out[i] != KEEP;
	return count;
}

size_t retention_plan(const struct config *cfg, const struct store_segment *segs,
		      size_t n, int64_t now_s, const struct retention_disk *disk,
		      const char *const *busy, size_t n_busy, int64_t need_bytes,
		      bool *victim)
{
	enum why *why = n ? calloc(n, sizeof(*why)) : NULL;
	size_t count;

	if (n && !why) {
		/* No memory to plan with: deleting nothing is the safe answer. */
		memset(victim, 0, n * sizeof(*victim));
		return 0;
	}
	count = plan(cfg, segs, n, now_s, disk, busy, n_busy, need_bytes, why);
	for (size_t i = 0; i < n; i++)
		victim[i] = why[i] != KEEP;
	free(why);
	return count;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Bytes allocated (st_blocks) to the files of folder dirfd, and to those
 * of its folders down to depth more levels. Closes dirfd. */
static int64_t tree_bytes(int dirfd, int depth)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;
	int64_t bytes = 0;

	if (!d) {
		close(dirfd);
		return 0;
	}
	while ((e = readdir(d))) {
		struct stat st;
		int fd;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode))
			bytes += (int64_t)st.st_blocks * 512;
		else if (S_ISDIR(st.st_mode) && depth > 0 &&
			 (fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				      O_CLOEXEC)) >= 0)
			bytes += tree_bytes(fd, depth - 1);
	}
	closedir(d);
	return bytes;
}

/* Bytes of STORE/<camera>/events/<date>/ for every camera folder. */
static int64_t events_bytes(const char *store)
{
	DIR *d = opendir(store);
	struct dirent *e;
	int64_t bytes = 0;

	while (d && (e = readdir(d))) {
		char events[4096];
		int fd;

		if (e->d_name[0] == '.' ||
		    snprintf(events, sizeof(events), "%s/" EVENTS_DIR, e->d_name) >=
		    (int)sizeof(events))
			continue;
		fd = openat(dirfd(d), events, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			bytes += tree_bytes(fd, 1);
	}
	if (d)
		closedir(d);
	return bytes;
}

/* The store's regular files camfs has open (clips' segments, readers'
 * files), as inodes of the store's filesystem dev in *ino (sorted), and the
 * bytes of those already deleted in *deleted. Read from /proc/self/fd: the
 * fds are camfs's own, so no one else's reader is counted (nor seen). */
static int held_files(dev_t dev, uint64_t **ino, size_t *n, int64_t *deleted)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t cap = 0;

	*ino = NULL;
	*n = 0;
	*deleted = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct stat st;
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &st) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_dev != dev)
			continue;
		if (st.st_nlink == 0)
			*deleted += (int64_t)st.st_blocks * 512;
		if (array_grow(ino, &cap, *n, sizeof(**ino)) < 0)
			break;
		(*ino)[(*n)++] = st.st_ino;
	}
	closedir(d);
	if (*n)   /* qsort's array must not be NULL, even when empty */
		qsort(*ino, *n, sizeof(**ino), cmp_u64);
	return 0;
}

/* unlink path; its bytes (st_blocks) when it went, 0 when it was gone. */
static int64_t unlink_counted(const char *path)
{
	struct stat st;
	int64_t bytes = 0;

	if (lstat(path, &st) == 0)
		bytes = (int64_t)st.st_blocks * 512;
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : -errno;
	return bytes;
}

static int64_t delete_segment(const char *path)
{
	int64_t bytes = unlink_counted(path);

	return bytes < 0 ? bytes : bytes + sidecar_remove(path);
}

/* Victims by path, so each day dir's victims are adjacent (strings that
 * share a prefix sort together). */
static int cmp_victim(const void *a, const void *b, void *segs)
{
	const struct store_segment *s = segs;

	return strcmp(s[*(const size_t *)a].path, s[*(const size_t *)b].path);
}

static size_t dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? (size_t)(slash - path) : 0;
}

/* After unlinking in each day dir: fsync it, then drop it if it is empty
 * (rmdir refuses otherwise) and fsync the camera dir. The two newest days
 * are left alone: the writer may be about to create a file in one of them
 * and must not find its dir gone between mkdir and open. */
static void settle_dirs(const struct store_segment *segs, size_t *idx, size_t count,
			int64_t now_us)
{
	char today[STORE_DATE_LEN], yesterday[STORE_DATE_LEN];

	store_date_name(now_us, today);
	store_date_name(store_date_step_us(now_us, -1), yesterday);   /* not now - 24 h */
	qsort_r(idx, count, sizeof(*idx), cmp_victim, (void *)segs);
	for (size_t i = 0; i < count; i++) {
		const char *path = segs[idx[i]].path;
		size_t len = dir_len(path);
		const char *day;
		char *dir;
		int ret;

		if (i + 1 < count && dir_len(segs[idx[i + 1]].path) == len &&
		    strncmp(segs[idx[i + 1]].path, path, len) == 0)
			continue;   /* settle each dir once, at its last victim */
		ret = store_sync_parent(path);
		if (ret < 0)
			log_warning(TAG, "fsync of the dir of %s: %s", path, strerror(-ret));
		dir = strndup(path, len);
		if (!dir)
			continue;
		day = strrchr(dir, '/');
		day = day ? day + 1 : dir;
		if (strcmp(day, today) != 0 && strcmp(day, yesterday) != 0 &&
		    rmdir(dir) == 0) {
			ret = store_sync_parent(dir);
			if (ret < 0)
				log_warning(TAG, "fsync of the dir of %s: %s", dir, strerror(-ret));
		}
		free(dir);
	}
}

int64_t retention_run(const struct config *cfg, int64_t now_us,
		      const char *const *busy, size_t n_busy, int64_t need_bytes)
{
	struct store_segment *segs = NULL;
	struct retention_disk disk;
	struct statvfs vfs;
	struct stat st;
	uint64_t *held = NULL;
	size_t n_held = 0;
	int64_t held_bytes = 0;
	enum why *why = NULL;
	size_t *idx = NULL, n = 0, count = 0;
	int64_t freed = 0, by_why[N_WHY] = {0}, now_s;
	char reasons[256] = "";
	int ret;

	ret = store_list_segments(cfg->store, &segs, &n);
	if (ret < 0)
		goto out;
	if (statvfs(cfg->store, &vfs) < 0) {
		ret = -errno;
		goto out;
	}
	disk.total = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
	disk.avail = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
	disk.events = events_bytes(cfg->store);
	if (stat(cfg->store, &st) == 0 &&
	    held_files(st.st_dev, &held, &n_held, &disk.held_deleted) == 0 && n_held)
		for (size_t i = 0; i < n; i++)
			segs[i].held = bsearch(&segs[i].ino, held, n_held, sizeof(*held), cmp_u64);
	now_s = now_us / 1000000 - (now_us % 1000000 < 0);

	why = calloc(n ? n : 1, sizeof(*why));
	idx = calloc(n ? n : 1, sizeof(*idx));
	if (!why || !idx) {
		ret = -ENOMEM;
		goto out;
	}
	plan(cfg, segs, n, now_s, &disk, busy, n_busy, need_bytes, why);

	/* Oldest first, so a crash midway still leaves a store without holes. */
	for (size_t i = 0; i < n; i++) {
		int64_t bytes;

		if (why[i] == KEEP)
			continue;
		bytes = delete_segment(segs[i].path);
		if (bytes < 0) {
			log_warning(TAG, "%s: %s", segs[i].path, strerror((int)-bytes));
			continue;
		}
		if (segs[i].held)
			held_bytes += bytes;   /* free when its readers close it */
		else
			freed += bytes;
		by_why[why[i]]++;
		idx[count++] = i;
	}
	settle_dirs(segs, idx, count, now_us);

	for (int w = WHY_AGE; w < N_WHY; w++) {
		size_t used = strlen(reasons);

		if (by_why[w])
			snprintf(reasons + used, sizeof(reasons) - used, "%s%s: %" PRId64,
				 used ? ", " : "", why_names[w], by_why[w]);
	}
	if (count) {
		int64_t avail = disk.avail;

		/* What the disk says came free, beside what was counted. */
		if (statvfs(cfg->store, &vfs) == 0)
			avail = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
		log_info(TAG, "deleted %zu segments, %" PRId64 " bytes (%s)%s; %" PRId64
			 " bytes free now", count, freed + held_bytes, reasons,
			 held_bytes ? ", some still open: free when their readers close them" : "",
			 avail);
	} else
		log_debug(TAG, "nothing to delete");
	ret = 0;
out:
	if (ret < 0)
		log_error(TAG, "%s: %s", cfg->store, strerror(-ret));
	free(idx);
	free(why);
	free(held);
	store_segments_free(segs, n);
	return ret < 0 ? ret : freed;
}
