/* events.c - event snapshots and spans in the store. A snapshot is written
 * (or an upload copied) under a temporary name and then renamed into place
 * with RENAME_NOREPLACE, so a name is taken atomically and never replaced. */
#include "events/events.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "record/store.h"

#define MAX_SUFFIX 1000   /* _2 .. _999 before giving up on a second */

struct events {
	char *store, *camera;
	pthread_mutex_t lock;
	bool open;                               /* guarded by lock */
	char open_stem[EVENTS_STEM_MAX];         /* guarded by lock */
	char open_date[STORE_DATE_LEN];          /* guarded by lock */
	int64_t open_start_us;                   /* guarded by lock */
};

int events_new(struct events **out, const char *store, const char *camera)
{
	struct events *ev = calloc(1, sizeof(*ev));

	*out = NULL;
	if (!ev)
		return -ENOMEM;
	ev->store = strdup(store);
	ev->camera = strdup(camera);
	if (!ev->store || !ev->camera) {
		events_free(ev);
		return -ENOMEM;
	}
	pthread_mutex_init(&ev->lock, NULL);
	*out = ev;
	return 0;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	free(ev->store);
	free(ev->camera);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

bool events_is_snapshot_name(const char *name, char stem[EVENTS_STEM_MAX])
{
	int h, m, s, n = 0;
	const char *p = name;

	if (sscanf(p, "%2d-%2d-%2d%n", &h, &m, &s, &n) != 3 || n != 8 || name[0] == '-')
		return false;
	p += 8;
	if (strncmp(p, "-motion", 7) == 0 || strncmp(p, "-camera", 7) == 0)
		p += 7;
	else
		return false;
	if (*p == '_') {
		if (p[1] < '1' || p[1] > '9')
			return false;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (strcmp(p, ".jpg") != 0 || p - name >= EVENTS_STEM_MAX)
		return false;
	if (stem)
		snprintf(stem, EVENTS_STEM_MAX, "%.*s", (int)(p - name), name);
	return true;
}

/* STORE/<camera>/events/<date> for wall_us, made if missing. */
static int day_dir(const struct events *ev, int64_t wall_us, char dir[4096],
		   char date[STORE_DATE_LEN])
{
	int ret;

	store_date_name(wall_us, date);
	snprintf(dir, 4096, "%s/%s", ev->store, ev->camera);
	ret = store_make_dir(dir);
	if (ret == 0) {
		snprintf(dir, 4096, "%s/%s/" EVENTS_DIR, ev->store, ev->camera);
		ret = store_make_dir(dir);
	}
	if (ret == 0) {
		snprintf(dir, 4096, "%s/%s/" EVENTS_DIR "/%s", ev->store, ev->camera, date);
		ret = store_make_dir(dir);
	}
	return ret;
}

/* Renames from into dir as the first free
 * <HH-MM-SS>-<kind>[_N].jpg of wall_us. */
static int rename_to_free_name(const char *from, const char *dir, int64_t wall_us,
			       const char *kind, char stem[EVENTS_STEM_MAX], char path[4096])
{
	char time_name[STORE_TIME_LEN];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = -EEXIST;

	if (dfd < 0)
		return -errno;
	store_time_name(wall_us, time_name);
	for (int i = 1; i < MAX_SUFFIX && ret == -EEXIST; i++) {
		char name[EVENTS_STEM_MAX + 8];

		if (i == 1)
			snprintf(stem, EVENTS_STEM_MAX, "%s-%s", time_name, kind);
		else
			snprintf(stem, EVENTS_STEM_MAX, "%s-%s_%d", time_name, kind, i);
		snprintf(name, sizeof(name), "%s.jpg", stem);
		ret = renameat2(AT_FDCWD, from, dfd, name, RENAME_NOREPLACE) == 0 ? 0 : -errno;
		if (ret == 0) {
			snprintf(path, 4096, "%s/%s", dir, name);
			if (fsync(dfd) < 0)
				ret = -errno;
		}
	}
	close(dfd);
	return ret;
}

static int write_all(int fd, const void *data, size_t size)
{
	const char *p = data;

	while (size) {
		ssize_t n = write(fd, p, size);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

/* A new durable file in dir holding the bytes of data (or, if data is NULL,
 * the first size bytes of the file src_fd) under a temporary name written
 * into tmp. -ENODATA if src_fd has fewer bytes. */
static int write_temp(const char *dir, const void *data, size_t size, int src_fd,
		      char tmp[4096])
{
	static atomic_uint counter;
	int fd, ret = 0;

	snprintf(tmp, 4096, "%s/.new-%d-%u.jpg", dir, (int)getpid(), atomic_fetch_add(&counter, 1));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (data) {
		ret = write_all(fd, data, size);
	} else {
		char buf[65536];
		off_t done = 0;

		/* Only the bytes the caller checked: the uploader may still be
		 * appending, and never decides how much is copied. */
		while (ret == 0 && (size_t)done < size) {
			size_t want = size - (size_t)done < sizeof(buf) ? size - (size_t)done
									: sizeof(buf);
			ssize_t n = pread(src_fd, buf, want, done);

			if (n < 0 && errno == EINTR)
				continue;
			ret = n < 0 ? -errno : n == 0 ? -ENODATA : write_all(fd, buf, (size_t)n);
			done += n > 0 ? n : 0;
		}
	}
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (ret < 0)
		unlink(tmp);
	return ret;
}

/* Adds one line to the date's span list: "<stem> <start_us> <end_us|->".
 * One write of a whole line, so a reader never sees half of one. */
static int add_span(const struct events *ev, const char *date, const char *stem, int64_t start_us,
		    int64_t end_us, bool has_end)
{
	char path[4096], line[128];
	int fd, len, ret;

	snprintf(path, sizeof(path), "%s/%s/" EVENTS_DIR "/%s/" EVENTS_SPANS, ev->store, ev->camera,
		 date);
	if (has_end)
		len = snprintf(line, sizeof(line), "%s %lld %lld\n", stem, (long long)start_us,
			       (long long)end_us);
	else
		len = snprintf(line, sizeof(line), "%s %lld -\n", stem, (long long)start_us);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, line, (size_t)len);
	close(fd);
	return ret;
}

/* Caller holds ev->lock. */
static int end_open(struct events *ev, int64_t wall_us)
{
	if (!ev->open)
		return 0;
	ev->open = false;
	return add_span(ev, ev->open_date, ev->open_stem, ev->open_start_us, wall_us, true);
}

int events_begin(struct events *ev, const char *kind, int64_t wall_us, const void *data,
		 size_t size, char *stem, char path[4096])
{
	char dir[4096], tmp[4096], date[STORE_DATE_LEN];
	int ret;

	path[0] = '\0';
	/* The lock guards the open event only: files are written outside it,
	 * so FUSE lookups (events_span) never wait on an fsync. */
	events_end(ev, wall_us);
	ret = day_dir(ev, wall_us, dir, date);
	if (ret < 0)
		return ret;
	if (data) {
		ret = write_temp(dir, data, size, -1, tmp);
		if (ret == 0) {
			ret = rename_to_free_name(tmp, dir, wall_us, kind, stem, path);
			if (ret < 0)
				unlink(tmp);
		}
	} else {
		/* No picture: the stem is still unique among the snapshots. */
		char time_name[STORE_TIME_LEN];

		store_time_name(wall_us, time_name);
		snprintf(stem, EVENTS_STEM_MAX, "%s-%s", time_name, kind);
		ret = -ENODATA;
	}
	if (ret == 0 || ret == -ENODATA) {
		int span;

		pthread_mutex_lock(&ev->lock);
		span = add_span(ev, date, stem, wall_us, 0, false);
		if (span < 0)
			ret = span;
		ev->open = true;
		snprintf(ev->open_stem, sizeof(ev->open_stem), "%s", stem);
		memcpy(ev->open_date, date, sizeof(date));
		ev->open_start_us = wall_us;
		pthread_mutex_unlock(&ev->lock);
	}
	return ret;
}

int events_end(struct events *ev, int64_t wall_us)
{
	int ret;

	pthread_mutex_lock(&ev->lock);
	ret = end_open(ev, wall_us);
	pthread_mutex_unlock(&ev->lock);
	return ret;
}

/* Files a camera event's snapshot (data, or size bytes of src_fd). */
static int file_camera_event(struct events *ev, const void *data, int src_fd, size_t size,
			     int64_t wall_us, char *stem, char path[4096])
{
	char dir[4096], tmp[4096], date[STORE_DATE_LEN];
	int ret;

	path[0] = '\0';
	ret = day_dir(ev, wall_us, dir, date);
	if (ret == 0)
		ret = write_temp(dir, data, size, src_fd, tmp);
	if (ret == 0) {
		ret = rename_to_free_name(tmp, dir, wall_us, "camera", stem, path);
		if (ret < 0)
			unlink(tmp);
	}
	if (ret == 0)
		add_span(ev, date, stem, wall_us, wall_us, true);
	return ret;
}

int events_take_upload(struct events *ev, int src_fd, size_t size, int64_t wall_us, char *stem,
		       char path[4096])
{
	/* A copy, never the upload's own inode: the uploader keeps no handle
	 * on what is filed (it cannot grow it, or swap it for a link). */
	return file_camera_event(ev, NULL, src_fd, size, wall_us, stem, path);
}

int events_add_camera(struct events *ev, const void *jpeg, size_t size, int64_t wall_us,
		      char *stem, char path[4096])
{
	return file_camera_event(ev, jpeg, -1, size, wall_us, stem, path);
}

int events_span(struct events *ev, const char *date, const char *stem, int64_t now_us,
		int64_t *start_us, int64_t *end_us, bool *open)
{
	char path[4096], line[128], name[EVENTS_STEM_MAX];
	bool found = false, ended = false;
	long long a, b;
	FILE *f;

	*open = false;
	pthread_mutex_lock(&ev->lock);
	if (ev->open && strcmp(ev->open_date, date) == 0 && strcmp(ev->open_stem, stem) == 0) {
		*start_us = ev->open_start_us;
		*end_us = now_us > ev->open_start_us ? now_us : ev->open_start_us;
		*open = true;
		pthread_mutex_unlock(&ev->lock);
		return 0;
	}
	pthread_mutex_unlock(&ev->lock);

	snprintf(path, sizeof(path), "%s/%s/" EVENTS_DIR "/%s/" EVENTS_SPANS, ev->store, ev->camera,
		 date);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (!ended && fgets(line, sizeof(line), f)) {
		int fields = sscanf(line, "%39s %lld %lld", name, &a, &b);

		if (fields < 2 || strcmp(name, stem) != 0)
			continue;
		*start_us = a;
		*end_us = fields == 3 && b >= a ? b : a;
		found = true;
		ended = fields == 3;
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

static int remove_day(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    unlinkat(dirfd(d), e->d_name, 0) < 0 && ret == 0)
			ret = -errno;
	closedir(d);
	if (ret == 0 && rmdir(dir) < 0)
		ret = -errno;
	return ret;
}

int events_expire(const char *store, const char *camera, int retain_days, int64_t now_us)
{
	char dir[4096], oldest_kept[STORE_DATE_LEN];
	struct dirent *e;
	int deleted = 0;
	DIR *d;

	if (retain_days <= 0)
		return 0;
	/* Calendar dates back from today's: retain_days × 24 h would keep a
	 * day too many, or too few, near midnight after a 23- or 25-hour day. */
	store_date_name(store_date_step_us(now_us, -retain_days), oldest_kept);
	snprintf(dir, sizeof(dir), "%s/%s/" EVENTS_DIR, store, camera);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		char day[4096 + 256];
		struct tm tm;
		int ret;

		/* Dates sort as text; anything else is not ours to delete. */
		if (!store_parse_date(e->d_name, &tm) || strcmp(e->d_name, oldest_kept) >= 0)
			continue;
		snprintf(day, sizeof(day), "%s/%s", dir, e->d_name);
		ret = remove_day(day);
		if (ret < 0)
			log_warning(camera, "events: cannot delete %s: %s", e->d_name, strerror(-ret));
		else
			deleted++;
	}
	closedir(d);
	if (deleted) {
		char entry[4096 + 8];

		snprintf(entry, sizeof(entry), "%s/.", dir);   /* syncs dir itself */
		store_sync_parent(entry);
		log_info(camera, "events: deleted %d day(s) older than %d days", deleted,
			 retain_days);
	}
	return deleted;
}
