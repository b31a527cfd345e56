/* test_recovery.c - box headers, and the start-up pass on hand-made segments
 * cut at every byte: trimmed to the last whole fragment or removed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/intreadwrite.h>

#include "util/log.h"
#include "mp4/mp4box.h"
#include "record/recovery.h"
#include "testutil.h"

struct buf {
	uint8_t *data;
	size_t len;
	size_t ends[16];   /* where each complete fragment ends */
	size_t n_ends;
	size_t init_end;
};

static void grow(struct buf *b, size_t more)
{
	b->data = realloc(b->data, b->len + more);
	assert_non_null(b->data);
}

/* Appends a box of payload bytes; large: with a 64-bit size. */
static void box(struct buf *b, const char *type, size_t payload, int large)
{
	size_t head = large ? 16 : 8, size = head + payload;
	uint8_t *p;

	grow(b, size);
	p = b->data + b->len;
	AV_WB32(p, large ? 1 : (uint32_t)size);
	memcpy(p + 4, type, 4);
	if (large)
		AV_WB64(p + 8, size);
	memset(p + head, 0x5a, payload);
	b->len += size;
}

static void raw(struct buf *b, const void *bytes, size_t len)
{
	grow(b, len);
	memcpy(b->data + b->len, bytes, len);
	b->len += len;
}

static void init_segment(struct buf *b, int large_moov)
{
	box(b, "ftyp", 16, 0);
	box(b, "moov", 200, large_moov);
	b->init_end = b->len;
}

static void fragment(struct buf *b, int prft, size_t mdat, int large_mdat)
{
	if (prft)
		box(b, "prft", 24, 0);
	box(b, "moof", 100, 0);
	box(b, "mdat", mdat, large_mdat);
	b->ends[b->n_ends++] = b->len;
}

/* ftyp moov | moof mdat | emsg | prft moof mdat | styp sidx | prft moof mdat64 */
static void sample(struct buf *b)
{
	memset(b, 0, sizeof(*b));
	init_segment(b, 0);
	fragment(b, 0, 1000, 0);
	box(b, "emsg", 20, 0);
	fragment(b, 1, 500, 0);
	box(b, "styp", 16, 0);
	box(b, "sidx", 36, 0);
	fragment(b, 1, 700, 1);
}

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	testutil_temp_dir(f->dir, sizeof(f->dir), "test-recovery");
	snprintf(f->path, sizeof(f->path), "%s/10-00-00.mp4", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	testutil_remove_tree(f->dir);
	free(f);
	return 0;
}

static off_t file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return st.st_size;
}

/* The file holds data[0, len) untouched up to want bytes. */
static void assert_prefix(const char *path, const uint8_t *data, size_t want)
{
	uint8_t *got = malloc(want + 1);
	int fd = open(path, O_RDONLY);

	assert_non_null(got);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, got, want + 1), (ssize_t)want);
	assert_memory_equal(got, data, want);
	close(fd);
	free(got);
}

static void test_box_read(void **state)
{
	struct fixture *f = *state;
	struct mp4box bx;
	struct buf b = {0};
	int fd;

	box(&b, "ftyp", 16, 0);                 /* 0: 24 bytes */
	box(&b, "mdat", 100, 1);                /* 24: 116 bytes, 64-bit */
	raw(&b, "\0\0\0\0free", 8);             /* 140: size 0, to the end */
	raw(&b, "xxxx", 4);
	testutil_write_file(f->path, b.data, b.len, TESTUTIL_REPLACE);
	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);

	assert_int_equal(mp4box_read(fd, 0, b.len, &bx), 0);
	assert_int_equal(bx.type, MP4BOX_FOURCC('f', 't', 'y', 'p'));
	assert_int_equal(bx.size, 24);
	assert_int_equal(bx.header_size, 8);
	assert_int_equal(mp4box_read(fd, 24, b.len, &bx), 0);
	assert_int_equal(bx.type, MP4BOX_FOURCC('m', 'd', 'a', 't'));
	assert_int_equal(bx.offset, 24);
	assert_int_equal(bx.size, 116);
	assert_int_equal(bx.header_size, 16);
	assert_int_equal(mp4box_read(fd, 140, b.len, &bx), 0);
	assert_int_equal(bx.size, 12);
	assert_int_equal(mp4box_read(fd, b.len, b.len, &bx), -ENODATA);

	/* Cut headers, and a box past the end (filled all the same). */
	assert_int_equal(mp4box_read(fd, 0, 7, &bx), -EBADMSG);
	assert_int_equal(mp4box_read(fd, 24, 24 + 12, &bx), -EBADMSG);
	assert_int_equal(mp4box_read(fd, 0, 23, &bx), -EBADMSG);
	assert_int_equal(bx.type, MP4BOX_FOURCC('f', 't', 'y', 'p'));
	assert_int_equal(bx.size, 24);
	assert_int_equal(mp4box_read(fd, 24, 139, &bx), -EBADMSG);
	assert_int_equal(bx.size, 116);
	assert_int_equal(mp4box_read(fd, b.len + 1, b.len, &bx), -EBADMSG);
	/* The file is shorter than the caller thinks. */
	assert_int_equal(mp4box_read(fd, b.len - 4, b.len + 100, &bx), -EBADMSG);
	close(fd);

	/* Sizes too small for their own header. */
	b.len = 0;
	raw(&b, "\0\0\0\7moof", 8);
	raw(&b, "\0\0\0\1mdat\0\0\0\0\0\0\0\x0f", 16);
	testutil_write_file(f->path, b.data, b.len, TESTUTIL_REPLACE);
	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(mp4box_read(fd, 0, b.len, &bx), -EBADMSG);
	assert_int_equal(bx.type, MP4BOX_FOURCC('m', 'o', 'o', 'f'));
	assert_int_equal(mp4box_read(fd, 8, b.len, &bx), -EBADMSG);
	assert_int_equal(bx.type, MP4BOX_FOURCC('m', 'd', 'a', 't'));
	assert_int_equal(bx.header_size, 16);
	close(fd);
	free(b.data);
}

/* What a file cut at len must become: the last fragment end at or before it. */
static void check_cut(const char *path, const struct buf *b, size_t len)
{
	size_t want = 0;
	int expect;

	for (size_t i = 0; i < b->n_ends; i++)
		if (b->ends[i] <= len)
			want = b->ends[i];
	expect = want == 0 ? RECOVERY_REMOVED :
		 want == len ? RECOVERY_INTACT : RECOVERY_TRIMMED;

	testutil_write_file(path, b->data, len, TESTUTIL_REPLACE);
	if (recovery_check_segment(path) != expect)
		fail_msg("cut at %zu: got other than %d", len, expect);
	if (expect == RECOVERY_REMOVED) {
		assert_int_equal(access(path, F_OK), -1);
	} else {
		assert_int_equal(file_size(path), (off_t)want);
		assert_prefix(path, b->data, want);
	}
}

static void test_every_cut(void **state)
{
	struct fixture *f = *state;
	struct buf b;

	sample(&b);
	/* Every byte offset of the file, so every fragment's every byte. */
	for (size_t len = 0; len <= b.len; len++)
		check_cut(f->path, &b, len);
	free(b.data);
}

static void test_last_fragment(void **state)
{
	struct fixture *f = *state;
	struct buf b;

	sample(&b);
	assert_int_equal(b.n_ends, 3);
	for (size_t len = b.ends[1] + 1; len < b.len; len++) {
		testutil_write_file(f->path, b.data, len, TESTUTIL_REPLACE);
		assert_int_equal(recovery_check_segment(f->path), RECOVERY_TRIMMED);
		assert_int_equal(file_size(f->path), (off_t)b.ends[1]);
	}
	free(b.data);
}

static void test_intact(void **state)
{
	struct fixture *f = *state;
	struct stat before, after;
	struct buf b;

	sample(&b);
	testutil_write_file(f->path, b.data, b.len, TESTUTIL_REPLACE);
	assert_int_equal(stat(f->path, &before), 0);
	assert_int_equal(recovery_check_segment(f->path), RECOVERY_INTACT);
	assert_int_equal(stat(f->path, &after), 0);
	assert_int_equal(after.st_size, b.len);
	assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	assert_prefix(f->path, b.data, b.len);

	/* The muxer's mfra trailer right after the last fragment is no tear. */
	box(&b, "mfra", 40, 0);
	testutil_write_file(f->path, b.data, b.len, TESTUTIL_REPLACE);
	assert_int_equal(recovery_check_segment(f->path), RECOVERY_INTACT);
	assert_int_equal(file_size(f->path), (off_t)b.len);
	free(b.data);
}

static void test_removed(void **state)
{
	struct fixture *f = *state;
	char sidecar[160];
	struct buf b;

	sample(&b);
	/* Cut inside moov. */
	testutil_write_file(f->path, b.data, b.init_end - 50, TESTUTIL_REPLACE);
	assert_int_equal(recovery_check_segment(f->path), RECOVERY_REMOVED);
	assert_int_equal(access(f->path, F_OK), -1);

	/* Only the init segment, and its sidecar goes with it. */
	testutil_write_file(f->path, b.data, b.init_end, TESTUTIL_REPLACE);
	snprintf(sidecar, sizeof(sidecar), "%s/10-00-00.motion.csv", f->dir);
	testutil_write_file(sidecar, "t,score\n", 8, TESTUTIL_REPLACE);
	assert_int_equal(recovery_check_segment(f->path), RECOVERY_REMOVED);
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(access(sidecar, F_OK), -1);

	/* Empty (created, nothing written yet). */
	testutil_write_file(f->path, b.data, 0, TESTUTIL_REPLACE);
	assert_int_equal(recovery_check_segment(f->path), RECOVERY_REMOVED);

	/* Not starting with ftyp: a zero-filled file after a power cut. */
	memset(b.data, 0, 4096 < b.len ? 4096 : b.len);
	testutil_write_file(f->path, b.data, b.len, TESTUTIL_REPLACE);
	assert_int_equal(recovery_check_segment(f->path), RECOVERY_REMOVED);

	/* No ftyp first: not a segment we wrote. */
	b.len = 0;
	box(&b, "moov", 100, 0);
	fragment(&b, 0, 100, 0);
	testutil_write_file(f->path, b.data, b.len, TESTUTIL_REPLACE);
	assert_int_equal(recovery_check_segment(f->path), RECOVERY_REMOVED);

	/* mdat with no moof before it is not a fragment. */
	b.len = 0;
	init_segment(&b, 0);
	box(&b, "mdat", 100, 0);
	testutil_write_file(f->path, b.data, b.len, TESTUTIL_REPLACE);
	assert_int_equal(recovery_check_segment(f->path), RECOVERY_REMOVED);

	/* moof before moov: no init at all. */
	b.len = 0;
	box(&b, "ftyp", 16, 0);
	fragment(&b, 0, 100, 0);
	box(&b, "moov", 100, 0);
	fragment(&b, 0, 100, 0);
	testutil_write_file(f->path, b.data, b.len, TESTUTIL_REPLACE);
	assert_int_equal(recovery_check_segment(f->path), RECOVERY_REMOVED);

	assert_int_equal(recovery_check_segment(f->path), -ENOENT);
	free(b.data);
}

static void test_largesize(void **state)
{
	struct fixture *f = *state;
	struct buf b = {0};
	size_t whole;
	uint8_t huge[16] = { 0, 0, 0, 1, 'm', 'd', 'a', 't', 0, 0, 1, 0, 0, 0, 0, 0 };

	init_segment(&b, 1);
	fragment(&b, 1, 300, 1);
	fragment(&b, 0, 300, 1);
	whole = b.len;
	for (size_t len = b.ends[0]; len <= whole; len++)
		check_cut(f->path, &b, len);
	for (size_t len = 0; len < b.ends[0]; len++)
		check_cut(f->path, &b, len);

	/* An mdat claiming 2^40 bytes after its moof: torn. */
	box(&b, "moof", 100, 0);
	raw(&b, huge, sizeof(huge));
	raw(&b, "data", 4);
	testutil_write_file(f->path, b.data, b.len, TESTUTIL_REPLACE);
	assert_int_equal(recovery_check_segment(f->path), RECOVERY_TRIMMED);
	assert_int_equal(file_size(f->path), (off_t)whole);
	free(b.data);
}

static void test_garbage_sizes(void **state)
{
	struct fixture *f = *state;
	struct buf b;
	size_t good;

	sample(&b);
	good = b.len;
	for (uint32_t size = 1; size < 8; size++) {
		uint8_t h[16] = { 0, 0, 0, 0, 'm', 'o', 'o', 'f' };

		b.len = good;
		AV_WB32(h, size);
		/* size 1 reads a largesize next: make it garbage too. */
		AV_WB32(h + 12, size == 1 ? 9 : 0);
		raw(&b, h, sizeof(h));
		box(&b, "moof", 100, 0);   /* would-be fragment after the garbage */
		box(&b, "mdat", 100, 0);
		testutil_write_file(f->path, b.data, b.len, TESTUTIL_REPLACE);
		assert_int_equal(recovery_check_segment(f->path), RECOVERY_TRIMMED);
		assert_int_equal(file_size(f->path), (off_t)good);
	}

	/* A zero-filled tail: the file grew but the data never reached disk. */
	b.len = good;
	grow(&b, 4096);
	memset(b.data + good, 0, 4096);
	b.len += 4096;
	testutil_write_file(f->path, b.data, b.len, TESTUTIL_REPLACE);
	assert_int_equal(recovery_check_segment(f->path), RECOVERY_TRIMMED);
	assert_int_equal(file_size(f->path), (off_t)good);
	free(b.data);
}

struct log_capture {
	char lines[8][256];
	int n;
};

static void capture(int level, const char *line, void *opaque)
{
	struct log_capture *c = opaque;

	if (level == LOG_NOTICE && c->n < 8)
		snprintf(c->lines[c->n++], sizeof(c->lines[0]), "%s", line);
}

static void make(const char *dir, const char *rel, const struct buf *b, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	testutil_make_parents(path, dir);
	testutil_write_file(path, b->data, len, TESTUTIL_REPLACE);
}

static off_t size_of(const char *dir, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return file_size(path);
}

static void test_run(void **state)
{
	struct fixture *f = *state;
	struct log_capture logs = {0};
	struct buf b;
	char missing[128];

	sample(&b);
	/* cam1: an old torn segment (not looked at), then only an init (the
	 * cut was interrupted), then the one open at the crash. */
	make(f->dir, "cam1/2026-11-20/09-59-00.mp4", &b, b.len - 1);
	make(f->dir, "cam1/2026-11-20/10-00-00.mp4", &b, b.init_end);
	make(f->dir, "cam1/2026-11-20/10-01-00.mp4", &b, b.len - 10);
	make(f->dir, "cam2/2026-11-19/23-59-00.mp4", &b, b.len);
	make(f->dir, "cam2/2026-11-20/00-00-00.mp4", &b, b.len);

	log_set_sink(capture, &logs);
	assert_int_equal(recovery_run(f->dir), 0);
	log_set_sink(NULL, NULL);

	assert_int_equal(size_of(f->dir, "cam1/2026-11-20/09-59-00.mp4"), (off_t)b.len - 1);
	assert_int_equal(size_of(f->dir, "cam1/2026-11-20/10-00-00.mp4"), -1);
	assert_int_equal(size_of(f->dir, "cam1/2026-11-20/10-01-00.mp4"), (off_t)b.ends[1]);
	assert_int_equal(size_of(f->dir, "cam2/2026-11-19/23-59-00.mp4"), (off_t)b.len);
	assert_int_equal(size_of(f->dir, "cam2/2026-11-20/00-00-00.mp4"), (off_t)b.len);

	assert_int_equal(logs.n, 2);
	assert_non_null(strstr(logs.lines[0], "[recovery]"));
	assert_non_null(strstr(logs.lines[0], "10-01-00.mp4: trimmed"));
	assert_non_null(strstr(logs.lines[1], "10-00-00.mp4: removed"));

	snprintf(missing, sizeof(missing), "%s/nope", f->dir);
	log_set_level(LOG_EMERG);   /* the expected error stays quiet */
	assert_int_equal(recovery_run(missing), -ENOENT);
	log_set_level(LOG_INFO);
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_box_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_fragment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_largesize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
