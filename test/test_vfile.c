/* test_vfile.c - extent lists: sizes add up, contiguous file ranges merge,
 * and any slice of any size at any offset gives back exactly those bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "record/vfile.h"
#include "testutil.h"

/* Reads [off, off+n) of v: slice (up to 64 pieces), then copy each piece
 * from memory or with pread, as the mount's reply does. */
static size_t read_at(struct vfile *v, uint64_t off, size_t n, uint8_t *out)
{
	struct vfile_extent p[64];
	size_t k = vfile_slice(v, off, n, p, 64), got = 0;

	for (size_t i = 0; i < k; i++) {
		assert_int_equal(p[i].start, off + got);
		if (p[i].data)
			memcpy(out + got, p[i].data, p[i].len);
		else
			assert_int_equal(testutil_vfile_pread(v, p[i].src, out + got, p[i].len, p[i].pos),
					 (ssize_t)p[i].len);
		got += p[i].len;
	}
	return got;
}

static void test_slices(void **state)
{
	uint8_t file[10000], want[20000];
	int fd = memfd_create("seg", 0);
	struct vfile *v = vfile_new();
	size_t w = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(file); i++)
		file[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(write(fd, file, sizeof(file)), (ssize_t)sizeof(file));

	/* header (memory) + two ranges that merge + a gap + memory + range */
	uint8_t *head = malloc(100);
	memset(head, 0xAA, 100);
	assert_int_equal(vfile_add_owned(v, head, 100), 0);
	memset(want + w, 0xAA, 100); w += 100;
	int slot = vfile_add_fd(v, fd);
	assert_true(slot >= 0);
	assert_int_equal(vfile_add_range(v, slot, 1000, 500), 0);
	assert_int_equal(vfile_add_range(v, slot, 1500, 700), 0);   /* continues: merged */
	memcpy(want + w, file + 1000, 1200); w += 1200;
	assert_int_equal(vfile_add_range(v, slot, 5000, 3000), 0);
	memcpy(want + w, file + 5000, 3000); w += 3000;
	uint8_t *mid = malloc(10);
	memset(mid, 0x55, 10);
	assert_int_equal(vfile_add_owned(v, mid, 10), 0);
	memset(want + w, 0x55, 10); w += 10;
	assert_int_equal(vfile_add_range(v, slot, 0, 17), 0);
	memcpy(want + w, file, 17); w += 17;

	assert_int_equal(v->size, w);
	assert_int_equal(v->n_ext, 5);   /* the two adjacent ranges became one */

	uint8_t got[20000];
	srand(1);
	for (int i = 0; i < 5000; i++) {
		uint64_t off = rand() % (w + 50);
		size_t n = 1 + rand() % 5000;
		size_t g = read_at(v, off, n, got);
		size_t expect = off >= w ? 0 : (off + n > w ? w - off : n);

		assert_int_equal(g, expect);
		assert_memory_equal(got, want + off, g);
	}
	assert_int_equal(read_at(v, 0, w, got), w);
	assert_memory_equal(got, want, w);

	struct vfile *r = vfile_ref(v);
	vfile_unref(&v);
	assert_null(v);
	assert_int_equal(read_at(r, 100, 10, got), 10);   /* still alive */
	vfile_unref(&r);
}

/* A read can span any number of extents (many short segments, or a header
 * and a vfile made of small pieces): with out NULL vfile_slice counts every
 * piece of the range, and an array of that size is filled whole, with no
 * cap but the caller's. */
static void test_many_extents(void **state)
{
	enum { N = 1000, LEN = 3 };   /* ranges 3 bytes long with gaps: no merging */
	uint8_t file[N * 5], want[8 + N * LEN], got[sizeof(want)];
	int fd = memfd_create("frames", 0);
	struct vfile *v = vfile_new();
	size_t w = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(file); i++)
		file[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(write(fd, file, sizeof(file)), (ssize_t)sizeof(file));
	uint8_t *head = malloc(8);
	memset(head, 0xEE, 8);
	assert_int_equal(vfile_add_owned(v, head, 8), 0);
	memset(want, 0xEE, 8); w = 8;
	int slot = vfile_add_fd(v, fd);
	assert_true(slot >= 0);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(vfile_add_range(v, slot, i * 5, LEN), 0);
		memcpy(want + w, file + i * 5, LEN); w += LEN;
	}
	assert_int_equal(v->n_ext, 1 + N);

	/* From inside the header to inside range 599: the header's tail, ranges
	 * 0..598 whole and the first byte of 599, 601 pieces in 1806 bytes. */
	uint64_t off = 5;
	size_t size = 8 - 5 + 599 * LEN + 1;
	size_t n = vfile_slice(v, off, size, NULL, 0);
	assert_int_equal(n, 601);
	struct vfile_extent *p = calloc(n, sizeof(*p));
	assert_int_equal(vfile_slice(v, off, size, p, n), n);
	size_t g = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(p[i].start, off + g);
		if (p[i].data)
			memcpy(got + g, p[i].data, p[i].len);
		else
			assert_int_equal(testutil_vfile_pread(v, p[i].src, got + g, p[i].len, p[i].pos),
					 (ssize_t)p[i].len);
		g += p[i].len;
	}
	assert_int_equal(g, size);
	assert_memory_equal(got, want + off, size);
	/* A smaller array gets its first max pieces, as before. */
	assert_int_equal(vfile_slice(v, off, size, p, 10), 10);
	assert_int_equal(p[9].start + p[9].len, off + 3 + 9 * LEN);
	free(p);

	/* The whole file, and a range past the end clipped to it. */
	assert_int_equal(vfile_slice(v, 0, w, NULL, 0), 1 + N);
	assert_int_equal(vfile_slice(v, w - 1, 100, NULL, 0), 1);
	assert_int_equal(vfile_slice(v, w, 100, NULL, 0), 0);
	assert_int_equal(vfile_slice(v, 0, 0, NULL, 0), 0);
	vfile_unref(&v);
}

/* Deletes path and puts a new file (data) under its name, made until one
 * gets the deleted file's inode number as filesystems soon give it again
 * (up to 64 tries; the last one is used if none does). */
static void replace_reusing_inode(const char *dir, const char *path, const void *data, size_t len)
{
	struct stat old, st;
	char spare[160], keep[200];

	assert_int_equal(stat(path, &old), 0);
	unlink(path);
	snprintf(spare, sizeof(spare), "%s/spare", dir);
	for (int i = 0; i < 64; i++) {
		testutil_write_file(spare, data, len, TESTUTIL_REPLACE);
		assert_int_equal(stat(spare, &st), 0);
		if (st.st_ino == old.st_ino || i == 63)
			break;   /* the last try is used as it is */
		/* Kept, so that the next try gets another number. */
		snprintf(keep, sizeof(keep), "%s/spare%d", dir, i);
		assert_int_equal(rename(spare, keep), 0);
	}
	if (st.st_ino != old.st_ino)
		print_message("inode %llu was not given again; replaced anyway\n",
			      (unsigned long long)old.st_ino);
	assert_int_equal(rename(spare, path), 0);
}

/* Store files through the pool: never more fds than its budget, each
 * opened again (the same file) when read; a file gone meanwhile reads as
 * EIO, and so does another file under its name; a pool full of fds being
 * read refuses with EMFILE; the last handle closes them all. */
static void test_fd_pool(void **state)
{
	enum { N = 6, LEN = 4096 };
	char store[64], path[N][128];
	uint8_t want[N * LEN], got[N * LEN];
	struct vfile *v = vfile_new();

	(void)state;
	testutil_temp_dir(store, sizeof(store), "vfile");
	vfile_set_fd_budget(2);
	for (int i = 0; i < N; i++) {
		memset(want + i * LEN, 'a' + i, LEN);
		snprintf(path[i], sizeof(path[i]), "%s/%d.mp4", store, i);
		testutil_write_file(path[i], want + i * LEN, LEN, TESTUTIL_REPLACE);
		int fd = vfile_open_file(store, path[i]);
		assert_true(fd >= 0);
		int slot = vfile_add_file(v, store, path[i], fd);
		assert_int_equal(slot, i);
		assert_int_equal(vfile_add_range(v, slot, 0, LEN), 0);
		assert_true(vfile_fds_open() <= 2);
	}
	vfile_handle_open(v);
	assert_int_equal(read_at(v, 0, N * LEN, got), N * LEN);
	assert_memory_equal(got, want, N * LEN);
	assert_true(vfile_fds_open() <= 2);

	/* 0 and 1 are closed now (5 was read last); 1 is replaced by a file
	 * that, where the filesystem gives it, has 1's old inode number. */
	unlink(path[0]);
	replace_reusing_inode(store, path[1], want, LEN);
	assert_int_equal(vfile_pin(v, 0), -EIO);
	assert_int_equal(vfile_pin(v, 1), -EIO);
	/* Two being read fill the pool. */
	assert_true(vfile_pin(v, 2) >= 0);
	assert_true(vfile_pin(v, 3) >= 0);
	assert_int_equal(vfile_pin(v, 4), -EMFILE);
	vfile_unpin(v, 2);
	assert_true(vfile_pin(v, 4) >= 0);   /* 2 made room */
	vfile_unpin(v, 3);
	vfile_unpin(v, 4);

	vfile_handle_close(v);
	assert_int_equal(vfile_fds_open(), 0);
	vfile_set_fd_budget(SIZE_MAX);
	vfile_unref(&v);
	assert_int_equal(testutil_remove_tree(store), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slices),
		cmocka_unit_test(test_many_extents),
		cmocka_unit_test(test_fd_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
