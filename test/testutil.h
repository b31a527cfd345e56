/* testutil.h - file-system, time-zone and NAL-unit helpers the unit tests share:
 * temp dirs, whole files, removal and counting of trees, TZ. */
#ifndef CAMFS_TESTUTIL_H
#define CAMFS_TESTUTIL_H

/* Include after <cmocka.h> (and its prerequisites): the helpers assert. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/intreadwrite.h>

#include "record/vfile.h"

/* Makes a fresh dir /tmp/camfs-<name>-XXXXXX; dir (n bytes) receives its path. */
static inline void testutil_temp_dir(char *dir, size_t n, const char *name)
{
	int len = snprintf(dir, n, "/tmp/camfs-%s-XXXXXX", name);

	assert_true(len > 0 && (size_t)len < n);
	assert_non_null(mkdtemp(dir));
}

static inline int testutil_remove_entry(const char *path, const struct stat *st, int flag,
					struct FTW *ftw)
{
	return remove(path);
}

/* rm -rf dir, without following links; 0 or nftw's failure. */
static inline int testutil_remove_tree(const char *dir)
{
	return nftw(dir, testutil_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p for the parents of path below root (path starts with root and
 * a slash; root itself must exist). */
static inline void testutil_make_parents(char *path, const char *root)
{
	for (char *p = strchr(path + strlen(root) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
}

#define TESTUTIL_REPLACE 0   /* truncate what is there */
#define TESTUTIL_NEW     1   /* the file must not exist yet (O_EXCL) */
#define TESTUTIL_SYNC    2   /* fsync it before closing */

/* Writes data[0, len) as the whole file at path (mode 0644); how is
 * TESTUTIL_REPLACE or TESTUTIL_NEW, or'ed with TESTUTIL_SYNC if wanted. */
static inline void testutil_write_file(const char *path, const void *data, size_t len, int how)
{
	int fd = open(path, O_WRONLY | O_CREAT | (how & TESTUTIL_NEW ? O_EXCL : O_TRUNC), 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	if (how & TESTUTIL_SYNC)
		assert_int_equal(fsync(fd), 0);
	close(fd);
}

/* How many entries below dir (at any depth, links not followed) have a
 * name ending in suffix. */
static inline int testutil_count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t slen = strlen(suffix);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		size_t len = strlen(e->d_name);
		struct stat st;
		int plen;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (len >= slen && strcmp(e->d_name + len - slen, suffix) == 0)
			n++;
		plen = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		assert_true(plen > 0 && (size_t)plen < sizeof(path));
		assert_int_equal(lstat(path, &st), 0);
		if (S_ISDIR(st.st_mode))
			n += testutil_count_files(path, suffix);
	}
	closedir(d);
	return n;
}

/* Sets the local time zone for this process. */
static inline void testutil_set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* The NAL units of a packet as length-prefixed payloads: the muxer stores
 * Annex B start codes as lengths, so the bytes differ but the NALs must not. */
static inline size_t testutil_canonical_nals(const uint8_t *p, size_t size, bool annexb, uint8_t *out)
{
	size_t o = 0, i = 0;

	while (i < size) {
		size_t start, end;

		if (annexb) {
			while (i + 3 <= size && !(p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1))
				i++;
			start = i += 3;
			while (i + 3 <= size && !(p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1))
				i++;
			end = i + 3 <= size ? i : size;
			while (end > start && p[end - 1] == 0)
				end--;
			i = end == size ? size : i;
		} else {
			start = i + 4;
			end = start + AV_RB32(p + i);
			assert_true(end <= size);
			i = end;
		}
		if (start >= size)
			break;
		AV_WB32(out + o, (uint32_t)(end - start));
		o += 4;
		memcpy(out + o, p + start, end - start);
		o += end - start;
	}
	return o;
}

/* pread of source src of vfile v, pinned for the read as the mount does. */
static inline ssize_t testutil_vfile_pread(struct vfile *v, int src, void *buf, size_t len,
					   uint64_t pos)
{
	int fd = vfile_pin(v, src);
	ssize_t r;

	assert_true(fd >= 0);
	r = pread(fd, buf, len, (off_t)pos);
	vfile_unpin(v, src);
	return r;
}

#endif
