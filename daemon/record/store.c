/* store.c - names, directories and listing of the plain-file store:
 * STORE/<camera>/<YYYY-MM-DD>/<HH-MM-SS>[_N].mp4 in local time. */
#include "record/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/array.h"
#include "util/beneath.h"
#include "record/sidecar.h"

#define DIR_MODE 0755   /* umask (systemd UMask=) narrows it */

static time_t to_seconds(int64_t wall_us)
{
	/* Floor, so an instant just before the epoch names the second it is in. */
	int64_t s = wall_us / 1000000;

	if (wall_us % 1000000 < 0)
		s--;
	return (time_t)s;
}

static void local_tm(int64_t wall_us, struct tm *tm)
{
	time_t t = to_seconds(wall_us);

	if (!localtime_r(&t, tm))
		memset(tm, 0, sizeof(*tm));
}

void store_date_name(int64_t wall_us, char date[STORE_DATE_LEN])
{
	struct tm tm;

	local_tm(wall_us, &tm);
	/* The modulos only tell the compiler the fields fit. */
	snprintf(date, STORE_DATE_LEN, "%04u-%02u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
}

void store_time_name(int64_t wall_us, char time_name[STORE_TIME_LEN])
{
	struct tm tm;

	local_tm(wall_us, &tm);
	snprintf(time_name, STORE_TIME_LEN, "%02u-%02u-%02u", (unsigned)tm.tm_hour % 100u,
		 (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}

int64_t store_date_step_us(int64_t wall_us, int days)
{
	time_t t = to_seconds(wall_us);
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return wall_us + (int64_t)days * 86400 * 1000000;
	tm.tm_mday += days;     /* mktime carries it into the month and year */
	tm.tm_hour = 12;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return wall_us + (int64_t)days * 86400 * 1000000;
	return (int64_t)t * 1000000;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int store_sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int ret;

	if (!slash)
		return sync_dir(".");
	if (slash == path)
		return sync_dir("/");
	dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	ret = sync_dir(dir);
	free(dir);
	return ret;
}

int store_make_dir(const char *dir)
{
	if (mkdir(dir, DIR_MODE) < 0)
		return errno == EEXIST ? 0 : -errno;
	return store_sync_parent(dir);
}

/* 1 if anything has that name (even a dangling symlink), 0 if not, -errno. */
static int exists(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

int store_new_segment_path(const char *store, const char *camera, int64_t wall_us,
			   char *path, size_t n)
{
	char date[STORE_DATE_LEN], time_name[STORE_TIME_LEN];
	char name[STORE_TIME_LEN + 32], sidecar[STORE_TIME_LEN + 48];
	char *dir = NULL, *date_slash;
	int dfd = -1, ret;

	store_date_name(wall_us, date);
	store_time_name(wall_us, time_name);

	/* STORE itself is not created: a missing store is more likely an
	 * unmounted disk than a wish to fill the root filesystem. The camera
	 * dir is made first (dir cut at the date's slash), then the date dir. */
	if (asprintf(&dir, "%s/%s/%s", store, camera, date) < 0) {
		dir = NULL;
		ret = -ENOMEM;
		goto out;
	}
	date_slash = strrchr(dir, '/');
	*date_slash = '\0';
	ret = store_make_dir(dir);
	*date_slash = '/';
	if (ret >= 0)
		ret = store_make_dir(dir);
	if (ret < 0)
		goto out;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		ret = -errno;
		goto out;
	}
	/* A leftover sidecar also takes the stem, so a new segment never
	 * inherits someone else's motion scores. */
	for (unsigned k = 1; ; k++) {
		if (k == 1)
			snprintf(name, sizeof(name), "%s.mp4", time_name);
		else
			snprintf(name, sizeof(name), "%s_%u.mp4", time_name, k);
		sidecar_path(name, sidecar, sizeof(sidecar));
		ret = exists(dfd, name);
		if (ret == 0)
			ret = exists(dfd, sidecar);
		if (ret < 0)
			goto out;
		if (ret == 0)
			break;
		if (k == 100000) {
			ret = -EEXIST;
			goto out;
		}
	}
	if ((size_t)snprintf(path, n, "%s/%s", dir, name) >= n) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	ret = 0;
out:
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return ret;
}

static bool digits(const char *s, int count)
{
	for (int i = 0; i < count; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int num(const char *s, int count)
{
	int v = 0;

	for (int i = 0; i < count; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

bool store_parse_date(const char *s, struct tm *tm)
{
	if (strlen(s) != STORE_DATE_LEN - 1 || !digits(s, 4) || s[4] != '-' ||
	    !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
		return false;
	tm->tm_year = num(s, 4) - 1900;
	tm->tm_mon = num(s + 5, 2) - 1;
	tm->tm_mday = num(s + 8, 2);
	return tm->tm_mon >= 0 && tm->tm_mon < 12 && tm->tm_mday >= 1 && tm->tm_mday <= 31;
}

bool store_parse_segment_name(const char *s, struct tm *tm, unsigned long *seq)
{
	const char *p = s + STORE_TIME_LEN - 1;

	if (strlen(s) < STORE_TIME_LEN - 1 || !digits(s, 2) || s[2] != '-' ||
	    !digits(s + 3, 2) || s[5] != '-' || !digits(s + 6, 2))
		return false;
	*seq = 1;
	if (*p == '_') {
		char *end;

		p++;
		if (*p < '1' || *p > '9')
			return false;
		errno = 0;
		*seq = strtoul(p, &end, 10);
		if (errno || *seq < 2)
			return false;
		p = end;
	}
	if (strcmp(p, ".mp4") != 0)
		return false;
	tm->tm_hour = num(s, 2);
	tm->tm_min = num(s + 3, 2);
	tm->tm_sec = num(s + 6, 2);
	return tm->tm_hour < 24 && tm->tm_min < 60 && tm->tm_sec < 60;
}

struct seg_list {
	struct store_segment *v;
	size_t n, cap;
};

static int add_segment(struct seg_list *l, const char *store, const char *camera,
		       const char *date, const char *name, int64_t start_s, const struct stat *st)
{
	struct store_segment *s;

	if (array_grow(&l->v, &l->cap, l->n, sizeof(*l->v)) < 0)
		return -ENOMEM;
	s = &l->v[l->n];
	memset(s, 0, sizeof(*s));
	/* Same form as store_new_segment_path, so busy paths compare equal. */
	if (asprintf(&s->path, "%s/%s/%s/%s", store, camera, date, name) < 0)
		return -ENOMEM;
	snprintf(s->camera, sizeof(s->camera), "%s", camera);
	s->start_s = start_s;
	s->size = (int64_t)st->st_blocks * 512;
	s->ino = st->st_ino;
	l->n++;
	return 0;
}

int store_open(const char *store, const char *path, int flags)
{
	size_t n = strlen(store);
	int dir, fd;

	if (strncmp(path, store, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return -EINVAL;
	dir = open(store, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	fd = open_beneath(dir, path + n, flags);
	close(dir);
	return fd;
}

int store_open_file(const char *store, const char *path)
{
	/* O_NONBLOCK: opening a FIFO planted here must not wait for a writer. */
	int fd = store_open(store, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	struct stat st;

	if (fd < 0)
		return fd == -ELOOP || fd == -ENOTDIR ? -ENOENT : fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fcntl(fd, F_SETFL, 0) < 0) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

static DIR *open_subdir(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

/* Dirs that vanish while we walk (retention, a user) are skipped, not errors. */
static int list_date(struct seg_list *l, const char *store, const char *camera,
		     int cam_fd, const char *date)
{
	struct tm day = {0};
	struct dirent *e;
	DIR *d;
	int ret = 0;

	if (!store_parse_date(date, &day))
		return 0;
	d = open_subdir(cam_fd, date);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	while ((e = readdir(d))) {
		struct tm tm = day;
		unsigned long seq;
		struct stat st;

		if (e->d_name[0] == '.' || !store_parse_segment_name(e->d_name, &tm, &seq))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		tm.tm_isdst = -1;
		ret = add_segment(l, store, camera, date, e->d_name, (int64_t)mktime(&tm), &st);
		if (ret < 0)
			break;
	}
	closedir(d);
	return ret;
}

static int list_camera(struct seg_list *l, const char *store, int store_fd,
		       const char *camera)
{
	struct dirent *e;
	DIR *d;
	int ret = 0;

	if (strlen(camera) >= sizeof(((struct store_segment *)0)->camera))
		return 0;
	d = open_subdir(store_fd, camera);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		ret = list_date(l, store, camera, dirfd(d), e->d_name);
		if (ret < 0)
			break;
	}
	closedir(d);
	return ret;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static unsigned long name_seq(const char *path)
{
	struct tm tm;
	unsigned long seq;

	return store_parse_segment_name(base_name(path), &tm, &seq) ? seq : 1;
}

/* (start, name): the name compares as HH-MM-SS then its numeric suffix, so
 * _10 sorts after _2; the whole path breaks the remaining ties (cameras). */
static int cmp_segment(const void *pa, const void *pb)
{
	const struct store_segment *a = pa, *b = pb;
	unsigned long sa, sb;
	int c;

	if (a->start_s != b->start_s)
		return a->start_s < b->start_s ? -1 : 1;
	c = strncmp(base_name(a->path), base_name(b->path), STORE_TIME_LEN - 1);
	if (c)
		return c;
	sa = name_seq(a->path);
	sb = name_seq(b->path);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	return strcmp(a->path, b->path);
}

int store_list_segments(const char *store, struct store_segment **out, size_t *n)
{
	struct seg_list l = {0};
	struct dirent *e;
	DIR *d;
	int ret = 0;

	*out = NULL;
	*n = 0;
	d = opendir(store);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		ret = list_camera(&l, store, dirfd(d), e->d_name);
		if (ret < 0)
			goto out;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_segment);
	*out = l.v;
	*n = l.n;
	l.v = NULL;
	l.n = 0;
out:
	closedir(d);
	store_segments_free(l.v, l.n);
	return ret;
}

void store_segments_free(struct store_segment *segs, size_t n)
{
	if (!segs)
		return;
	for (size_t i = 0; i < n; i++)
		free(segs[i].path);
	free(segs);
}
