/* test_file.c - the file layer over a tree of a real store: footage recorded
 * through the real fragmenter and writer on a simulated clock, one segment
 * finished and one being written. Store files, generated files, clips and
 * live.mp4 opened as files; the path walk; links planted in the store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <libavformat/avformat.h>

#include "config.h"
#include "fs/file.h"
#include "fs/tree.h"
#include "ingest/camera.h"
#include "ingest/source.h"
#include "record/clip.h"
#include "record/writer.h"
#include "stream/fragment.h"
#include "stream/fragmenter.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stop.h"
#include "simclock.h"
#include "testutil.h"
#include "writerfeed.h"

#define DEMO_URL "demo:static?size=128x96&fps=1&gop=60"
#define DAY "2025-03-10"
#define FINISHED "cam/" DAY "/10-00-00.mp4"
#define GROWING "cam/" DAY "/10-01-00.mp4"

struct fixture {
	char store[64];
	char outside[64];        /* a directory out of the store */
	struct config cfg;
	struct writer *writer;
	struct camera *cams[1];
	struct tree *tree;
	struct source_opts opts; /* the source keeps a pointer to them */
	struct source *src;
	struct fragmenter *frag;
	struct fragment *last;   /* the newest fragment pushed, to wait for */
	struct stop stop;
	int64_t start_us;
	int frames;              /* fed so far */
};

static void push_fragment(struct fragment *frag, void *opaque)
{
	struct fixture *f = opaque;

	if (f->last)
		fragment_unref(&f->last);
	f->last = fragment_ref(frag);
	writer_push(f->writer, 0, frag);
}

/* Feeds n more frames, one a second, each second's motion score with it,
 * and waits until the writer has written all it was given. */
static void feed(struct fixture *f, int n)
{
	AVPacket *pkt = av_packet_alloc();

	for (int i = 0; i < n; i++, f->frames++) {
		int64_t wall = f->start_us + (int64_t)f->frames * 1000000;

		/* The score goes ahead of the fragment this write pushes, so
		 * waiting for that fragment waits for the score too. */
		writer_push_score(f->writer, 0, wall, f->frames % 100);
		assert_int_equal(source_read(f->src, pkt), 0);
		atomic_store(&sim_wall_us, wall);
		assert_int_equal(fragmenter_write(f->frag, pkt, wall), 0);
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	if (f->last)
		writer_feed_wait(&f->last);   /* written, and the scores before it */
}

static int setup(void **state)
{
	static struct fixture f;
	struct tm tm = { .tm_year = 125, .tm_mon = 2, .tm_mday = 10, .tm_hour = 10 };

	testutil_set_tz("UTC");
	log_set_level(LOG_WARNING);
	testutil_temp_dir(f.store, sizeof(f.store), "file");
	testutil_temp_dir(f.outside, sizeof(f.outside), "file-outside");
	config_init(&f.cfg);
	free(f.cfg.store);
	f.cfg.store = strdup(f.store);
	f.cfg.segment_seconds = 60;
	f.cfg.retain_days = 0;
	f.cfg.max_store_size = 0;
	f.cfg.min_free = (struct config_free){ .bytes = 0 };
	assert_non_null(config_add_camera(&f.cfg, "cam", DEMO_URL));
	f.start_us = (int64_t)timegm(&tm) * 1000000;
	atomic_store(&sim_wall_us, f.start_us);

	assert_int_equal(writer_new(&f.writer, &f.cfg, &sim_clock), 0);
	assert_int_equal(writer_start(f.writer), 0);
	/* A camera that is never started: its hub, snapshot and events. */
	assert_int_equal(camera_new(&f.cams[0], &f.cfg, 0, f.writer, &sim_clock), 0);
	assert_int_equal(tree_new(&f.tree, &f.cfg, f.cams, f.writer), 0);
	assert_int_equal(stop_init(&f.stop), 0);
	f.opts = (struct source_opts){
		.url = DEMO_URL, .timeout_us = 5000000, .stop = &f.stop,
		.clock = &clock_system, .tag = "test",
	};
	assert_int_equal(source_open(&f.src, &f.opts), 0);
	assert_int_equal(fragmenter_open(&f.frag, f.src, 1, push_fragment, &f), 0);
	/* 10:00:00 to 10:01:29: a keyframe at 10:01:00 cut the first segment. */
	feed(&f, 90);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fragmenter_close(f->frag);
	source_close(f->src);
	stop_destroy(&f->stop);
	if (f->last)
		fragment_unref(&f->last);
	writer_end_session(f->writer, 0);
	writer_stop(f->writer);
	tree_free(f->tree);
	camera_free(f->cams[0]);
	writer_free(f->writer);
	clip_cache_clear();
	assert_int_equal(testutil_remove_tree(f->store), 0);
	assert_int_equal(testutil_remove_tree(f->outside), 0);
	config_free(&f->cfg);
	log_set_level(LOG_INFO);
	return 0;
}

static void store_path(struct fixture *f, const char *rel, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", f->store, rel);
}

/* Walks path and opens it; the walk is released at once: the file needs
 * no node. */
static struct file *open_path(struct fixture *f, const char *path, struct tree_attr *attr)
{
	struct file *file;
	uint64_t ino;

	assert_int_equal(tree_walk(f->tree, path, &ino, attr), 0);
	assert_int_equal(file_open(&file, f->tree, ino, NULL, NULL), 0);
	tree_walk_release(f->tree, ino);
	return file;
}

/* All of a file's bytes through file_read; checks that its pieces cover
 * exactly [0, size): contiguous, none empty, none past the end. */
static uint8_t *read_all(struct file *file, uint64_t size)
{
	uint8_t *buf = malloc(size + 1);
	struct file_piece p[64];
	size_t n = file_pieces(file, 0, size + 4096, p, 64);
	uint64_t covered = 0;

	assert_non_null(buf);
	assert_true(n >= 1 && n <= 64);
	assert_int_equal(file_pieces_hold(file, p, n), 0);
	for (size_t i = 0; i < n; i++) {
		assert_true(p[i].len > 0);
		assert_true(p[i].data || p[i].fd >= 0);
		covered += p[i].len;
	}
	file_pieces_release(file, p, n);
	assert_int_equal(covered, size);
	assert_int_equal(file_pieces(file, size, 4096, p, 64), 0);
	assert_int_equal(file_read(file, buf, size + 1, 0), (ssize_t)size);
	return buf;
}

static void assert_same_as_store(struct fixture *f, const char *rel, const uint8_t *data,
				 uint64_t off, uint64_t len)
{
	char path[256];
	uint8_t *want = malloc(len);
	int fd;

	store_path(f, rel, path, sizeof(path));
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0 && want);
	assert_int_equal(pread(fd, want, len, (off_t)off), (ssize_t)len);
	assert_memory_equal(data, want, len);
	close(fd);
	free(want);
}

static void age(struct fixture *f, const char *rel, time_t seconds)
{
	char path[256];
	struct timespec ts[2] = { { time(NULL) - seconds, 0 }, { time(NULL) - seconds, 0 } };

	store_path(f, rel, path, sizeof(path));
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* A finished segment: growing while just written, fixed once settled; its
 * bytes are one range of the store file, identical to it. */
static void test_store_file(void **state)
{
	struct fixture *f = *state;
	struct tree_attr attr;
	struct file_attr a, again;
	struct file *file;
	struct stat st;
	char path[256];
	uint8_t *data;
	uint64_t ino;

	age(f, "cam/" DAY "/10-00-00.mp4", 0);
	assert_int_equal(tree_walk(f->tree, FINISHED, &ino, &attr), 0);
	assert_int_equal(attr.kind, TREE_STORE_FILE);
	assert_int_equal(attr.life, TREE_GROWING);   /* written a moment ago */
	tree_walk_release(f->tree, ino);
	age(f, "cam/" DAY "/10-00-00.mp4", 3600);

	file = open_path(f, FINISHED, &attr);
	assert_int_equal(attr.life, TREE_FIXED);
	store_path(f, "cam/" DAY "/10-00-00.mp4", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(file_attr(file, &a), 0);
	assert_int_equal(a.kind, TREE_STORE_FILE);
	assert_int_equal(a.life, TREE_FIXED);
	assert_string_equal(a.type, "video/mp4");
	assert_int_equal(a.size, st.st_size);
	assert_int_equal(attr.st.st_size, st.st_size);
	assert_int_equal(a.mtime, st.st_mtime);
	assert_int_equal(strlen(a.etag), FILE_ETAG_MAX - 1);
	assert_true(a.etag[0] == '"' && a.etag[FILE_ETAG_MAX - 2] == '"');
	assert_null(file_reader(file));

	data = read_all(file, a.size);
	assert_same_as_store(f, "cam/" DAY "/10-00-00.mp4", data, 0, a.size);
	free(data);
	file_close(file);

	/* Another open of the same bytes: the same validator. */
	file = open_path(f, FINISHED, NULL);
	file_attr(file, &again);
	assert_string_equal(again.etag, a.etag);
	file_close(file);
	/* Nothing stays held once the walks are released. */
	assert_int_equal(tree_peek(f->tree, TREE_ROOT_INO, "cam"), 0);
}

/* The segment being written: its size is what is committed, and an open
 * file's end moves on with it; what was read stays the same. */
static void test_growing_segment(void **state)
{
	struct fixture *f = *state;
	struct tree_attr attr;
	struct file_attr a, b;
	struct file *file;
	uint64_t s1, s2;
	uint8_t *data;
	char path[256];

	file = open_path(f, GROWING, &attr);
	store_path(f, "cam/" DAY "/10-01-00.mp4", path, sizeof(path));
	s1 = file_size(file);
	assert_true(s1 > 0);
	assert_int_equal(s1, writer_committed_size(f->writer, 0, path));
	assert_int_equal(attr.life, TREE_GROWING);
	assert_int_equal(attr.st.st_size, s1);
	assert_int_equal(file_attr(file, &a), 0);
	assert_int_equal(a.life, TREE_GROWING);
	assert_int_equal(a.size, s1);

	feed(f, 5);
	s2 = file_size(file);
	assert_int_equal(s2, writer_committed_size(f->writer, 0, path));
	assert_true(s2 > s1);
	/* The open file reads to the new end; its validator names the new
	 * bytes. */
	data = read_all(file, s2);
	assert_same_as_store(f, "cam/" DAY "/10-01-00.mp4", data, 0, s2);
	free(data);
	file_attr(file, &b);
	assert_int_equal(b.size, s2);
	assert_string_not_equal(b.etag, a.etag);
	file_close(file);

	/* Its sidecar grows with it. */
	file = open_path(f, "cam/" DAY "/10-01-00.motion.csv", &attr);
	assert_int_equal(attr.life, TREE_GROWING);
	assert_int_equal(file_attr(file, &a), 0);
	assert_string_equal(a.type, "text/csv");
	file_close(file);
}

static int count_lines(const char *text, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}

/* The rows (lines after the header) of a segment's sidecar in the store. */
static int sidecar_rows(struct fixture *f, const char *stem)
{
	char path[256], buf[8192];
	int fd, n;

	snprintf(path, sizeof(path), "%s/cam/" DAY "/%s.motion.csv", f->store, stem);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = (int)read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(n > 0 && n < (int)sizeof(buf));
	return count_lines(buf, n) - 1;
}

/* Files made at open: their bytes are one piece of memory, the same for
 * the whole open, with a validator of those bytes. */
static void test_generated(void **state)
{
	static const struct {
		const char *path, *type, *has;
		enum tree_kind kind;
	} cases[] = {
		{ "status.json", "application/json", "\"cameras\"", TREE_STATUS },
		{ "cam/status.json", "application/json", "\"online\"", TREE_STATUS },
		{ "cam/.index.json", "application/json", "\"" DAY "\"", TREE_LISTING },
		{ "cam/" DAY "/.index.json", "application/json", "10-01-00.mp4", TREE_LISTING },
		{ "cam/clips/README.txt", "text/plain", "YYYY-MM-DDTHH-MM-SS", TREE_CLIPS_README },
		{ "cam/" DAY "/motion.csv", "text/csv", "2025-03-10 10:01:00,60", TREE_DAY_MOTION },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct file *file = open_path(f, cases[i].path, NULL);
		struct file_piece p[2];
		struct file_attr a;
		char *text;

		assert_int_equal(file_attr(file, &a), 0);
		assert_int_equal(a.kind, cases[i].kind);
		assert_int_equal(a.life, TREE_CURRENT);
		assert_string_equal(a.type, cases[i].type);
		assert_true(a.size > 0);
		assert_int_equal(file_pieces(file, 0, a.size, p, 2), 1);
		assert_non_null(p[0].data);
		text = (char *)read_all(file, a.size);
		text[a.size] = '\0';
		if (!strstr(text, cases[i].has))
			fail_msg("%s has no %s:\n%s", cases[i].path, cases[i].has, text);
		free(text);
		file_close(file);
	}
	/* motion.csv: the header once, then both sidecars' rows. */
	struct file *file = open_path(f, "cam/" DAY "/motion.csv", NULL);
	char *text = (char *)read_all(file, file_size(file));

	assert_int_equal(count_lines(text, file_size(file)),
			 1 + sidecar_rows(f, "10-00-00") + sidecar_rows(f, "10-01-00"));
	assert_true(sidecar_rows(f, "10-00-00") >= 55 && sidecar_rows(f, "10-01-00") >= 25);
	free(text);
	file_close(file);

	/* The same bytes at two opens: the same validator. */
	struct file_attr a, b;

	file = open_path(f, "cam/clips/README.txt", NULL);
	assert_int_equal(file_attr(file, &a), 0);
	file_close(file);
	file = open_path(f, "cam/clips/README.txt", NULL);
	file_attr(file, &b);
	file_close(file);
	assert_string_equal(a.etag, b.etag);

	/* live.jpg before any keyframe: an empty JPEG. */
	file = open_path(f, "cam/live.jpg", NULL);
	assert_int_equal(file_attr(file, &a), 0);
	assert_string_equal(a.type, "image/jpeg");
	assert_int_equal(a.size, 0);
	assert_int_equal(file_pieces(file, 0, 4096, NULL, 0), 0);
	file_close(file);
}

static int count_frames(const char *path)
{
	AVFormatContext *in = NULL;
	AVPacket *pkt = av_packet_alloc();
	int frames = 0;

	assert_int_equal(avformat_open_input(&in, path, NULL, NULL), 0);
	assert_true(avformat_find_stream_info(in, NULL) >= 0);
	while (av_read_frame(in, pkt) >= 0) {
		frames++;
		av_packet_unref(pkt);
	}
	avformat_close_input(&in);
	av_packet_free(&pkt);
	return frames;
}

/* The entry of a listing named name, or NULL. */
static json_t *entry(json_t *doc, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(doc, "entries"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
			return e;
	return NULL;
}

/* A directory's listing, read whole; its size at the walk is exact. */
static json_t *listing(struct fixture *f, const char *path, char **text)
{
	struct tree_attr attr;
	struct file *file = open_path(f, path, &attr);
	uint64_t size = file_size(file);
	json_error_t err;
	json_t *doc;

	assert_int_equal(attr.st.st_size, size);
	*text = (char *)read_all(file, size);
	(*text)[size] = '\0';
	file_close(file);
	doc = json_loadb(*text, size, 0, &err);
	if (!doc)
		fail_msg("%s: %s:\n%s", path, err.text, *text);
	return doc;
}

/* .index.json: the directory's path and its entries, compact, in the
 * layout programs read; a recorded segment's start and duration from its
 * index (the one being written: so far, growing as it does); no size for
 * a directory, no times for what is not a segment, never itself. */
static void test_listing(void **state)
{
	struct fixture *f = *state;
	json_t *doc, *e;
	double grown;
	struct stat st;
	char path[256], *text;

	static const char layout[] = "{\"path\":\"/cam/" DAY "/\",\"entries\":[{\"name\":";

	doc = listing(f, "cam/" DAY "/.index.json", &text);
	if (strncmp(text, layout, sizeof(layout) - 1) != 0)
		fail_msg("not the listing's layout:\n%s", text);
	free(text);
	assert_null(entry(doc, ".index.json"));
	store_path(f, FINISHED, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_non_null(e = entry(doc, "10-00-00.mp4"));
	assert_string_equal(json_string_value(json_object_get(e, "type")), "file");
	assert_int_equal(json_integer_value(json_object_get(e, "size")), st.st_size);
	assert_int_equal(json_integer_value(json_object_get(e, "mtime")), st.st_mtime);
	assert_true(json_real_value(json_object_get(e, "start")) == (double)(f->start_us / 1000000));
	assert_true(json_real_value(json_object_get(e, "duration")) == 60.0);
	assert_non_null(e = entry(doc, "10-01-00.mp4"));
	assert_true(json_real_value(json_object_get(e, "start")) ==
		    (double)(f->start_us / 1000000 + 60));
	grown = json_real_value(json_object_get(e, "duration"));
	assert_true(grown >= 20.0);
	assert_non_null(e = entry(doc, "10-00-00.motion.csv"));
	assert_non_null(json_object_get(e, "size"));
	assert_null(json_object_get(e, "start"));
	assert_null(json_object_get(e, "duration"));
	assert_non_null(entry(doc, "day.mp4"));
	json_decref(doc);

	/* The growing segment's duration is what is recorded by now. */
	feed(f, 5);
	doc = listing(f, "cam/" DAY "/.index.json", &text);
	free(text);
	assert_true(json_real_value(json_object_get(entry(doc, "10-01-00.mp4"), "duration")) ==
		    grown + 5);
	json_decref(doc);

	/* The root lists the cameras; a directory has no size. */
	doc = listing(f, ".index.json", &text);
	free(text);
	assert_string_equal(json_string_value(json_object_get(doc, "path")), "/");
	assert_non_null(e = entry(doc, "cam"));
	assert_string_equal(json_string_value(json_object_get(e, "type")), "dir");
	assert_null(json_object_get(e, "size"));
	assert_true(json_is_integer(json_object_get(e, "mtime")));
	assert_null(entry(doc, ".index.json"));
	json_decref(doc);
}

/* A clip: its header in memory and its footage as ranges of the segment
 * files, covering exactly its size; it plays; a settled range is fixed,
 * and built again it has the same validator. */
static void test_clip(void **state)
{
	struct fixture *f = *state;
	const char *name = "cam/clips/" DAY "T10-00-00+30s.mp4";   /* from a keyframe */
	struct file_piece p[8];
	struct tree_attr attr;
	struct file_attr a, b;
	struct file *file;
	char out[128];
	uint8_t *data;
	size_t n;

	file = open_path(f, name, &attr);
	assert_int_equal(attr.kind, TREE_CLIP);
	assert_int_equal(attr.life, TREE_FIXED);
	assert_int_equal(file_attr(file, &a), 0);
	assert_int_equal(a.life, TREE_FIXED);
	assert_string_equal(a.type, "video/mp4");
	assert_int_equal(a.size, attr.st.st_size);
	assert_int_equal(a.mtime, f->start_us / 1000000 + 30);   /* its end */
	n = file_pieces(file, 0, a.size, p, 8);
	assert_true(n >= 2 && n <= 8);
	assert_non_null(p[0].data);   /* ftyp and moov */
	assert_null(p[n - 1].data);   /* footage, from the segment file */
	data = read_all(file, a.size);
	snprintf(out, sizeof(out), "%s/clip.mp4", f->outside);
	testutil_write_file(out, data, a.size, TESTUTIL_REPLACE);
	assert_int_equal(count_frames(out), 30);
	unlink(out);
	free(data);
	file_close(file);

	/* The walk held the clip only for itself: this is a new build. */
	file = open_path(f, name, NULL);
	file_attr(file, &b);
	assert_string_equal(b.etag, a.etag);
	assert_int_equal(b.size, a.size);
	file_close(file);

	/* day.mp4: both segments, covering its size. */
	file = open_path(f, "cam/" DAY "/day.mp4", &attr);
	assert_int_equal(attr.kind, TREE_DAY_MP4);
	data = read_all(file, file_size(file));
	free(data);
	file_close(file);
}

static void no_wake(struct hub_reader *r, void *waiter, void *opaque)
{
	(void)r;
	(void)waiter;
	(void)opaque;
	fail_msg("nothing is published: no waiter can be woken");
}

/* live.mp4: endless, no pieces; its reader parks until data comes. */
static void test_live(void **state)
{
	struct fixture *f = *state;
	struct tree_attr attr;
	struct file_attr a;
	struct file *file;
	char buf[64];
	int waiter;
	uint64_t ino;

	assert_int_equal(tree_walk(f->tree, "cam/live.mp4", &ino, &attr), 0);
	assert_int_equal(attr.life, TREE_ENDLESS);
	assert_int_equal(file_open(&file, f->tree, ino, no_wake, NULL), 0);
	tree_walk_release(f->tree, ino);
	assert_int_equal(file_attr(file, &a), 0);
	assert_int_equal(a.life, TREE_ENDLESS);
	assert_int_equal(a.size, TREE_LIVE_SIZE);
	assert_string_equal(a.type, "video/mp4");
	assert_string_equal(a.etag, "");
	assert_int_equal(file_pieces(file, 0, 4096, NULL, 0), 0);
	assert_int_equal(file_read(file, buf, sizeof(buf), 0), -ESPIPE);
	assert_non_null(file_reader(file));
	assert_int_equal(hub_reader_read(file_reader(file), buf, sizeof(buf), &waiter), -EAGAIN);
	assert_true(hub_reader_unpark(file_reader(file), &waiter));
	file_close(file);
}

/* The walk takes names, not paths: no dot steps, no empty names, nothing
 * the tree does not offer; and it leaves nothing held when it fails. */
static void test_walk(void **state)
{
	static const struct {
		const char *path;
		int err;
	} bad[] = {
		{ ".", -EINVAL }, { "..", -EINVAL }, { "cam/..", -EINVAL },
		{ "cam/./live.mp4", -EINVAL }, { "cam/" DAY "/../status.json", -EINVAL },
		{ "/cam", -EINVAL }, { "cam/", -EINVAL }, { "cam//live.mp4", -EINVAL },
		{ "nonsense", -ENOENT }, { "cam/.hidden", -ENOENT }, { "cam/" DAY "/.10-00-00.mp4", -ENOENT },
		{ "cam/2025-03-11", -ENOENT }, { "cam/clips/yesterday.mp4", -ENOENT },
		{ "cam/live.mp4/x", -ENOTDIR }, { "status.json/x", -ENOTDIR },
	};
	struct fixture *f = *state;
	char longname[300];
	struct tree_attr attr;
	struct file *file;
	uint64_t ino;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = tree_walk(f->tree, bad[i].path, &ino, &attr);

		if (ret != bad[i].err)
			fail_msg("walk %s: %d, not %d", bad[i].path, ret, bad[i].err);
		assert_int_equal(ino, 0);
	}
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "cam/", 4);
	longname[4 + NAME_MAX + 1] = '\0';
	assert_int_equal(tree_walk(f->tree, longname, &ino, NULL), -ENAMETOOLONG);
	assert_int_equal(tree_peek(f->tree, TREE_ROOT_INO, "cam"), 0);

	/* The root, a directory and a hidden listing the tree offers. */
	assert_int_equal(tree_walk(f->tree, "", &ino, &attr), 0);
	assert_int_equal(ino, TREE_ROOT_INO);
	assert_true(S_ISDIR(attr.st.st_mode));
	assert_int_equal(file_open(&file, f->tree, ino, NULL, NULL), -EISDIR);
	assert_int_equal(tree_walk(f->tree, "cam/" DAY, &ino, &attr), 0);
	assert_int_equal(attr.kind, TREE_DAY);
	assert_true(tree_peek(f->tree, TREE_ROOT_INO, "cam") != 0);
	tree_walk_release(f->tree, ino);
	assert_int_equal(tree_walk(f->tree, "cam/" DAY "/.index.json", &ino, &attr), 0);
	assert_int_equal(attr.kind, TREE_LISTING);
	tree_walk_release(f->tree, ino);
	assert_int_equal(tree_peek(f->tree, TREE_ROOT_INO, "cam"), 0);
}

/* Node ids come from what a node is: a second tree over the same store
 * (camfs restarted) gives every path the same id, and makes the node of
 * an id it never saw from the id alone (an NFS handle after a restart),
 * parents too; listings number entries by the same ids. A clip's id is a
 * hash of its name: the same, but it does not read back. */
static void test_ids_stable(void **state)
{
	static const char *const paths[] = {
		"", "status.json", "cam", "cam/status.json", "cam/live.mp4", "cam/live.jpg",
		"cam/clips", "cam/clips/README.txt", "cam/events", "cam/" DAY, "cam/" DAY "/day.mp4",
		"cam/" DAY "/motion.csv", FINISHED, GROWING, "cam/" DAY "/.index.json", "cam/.index.json",
		".index.json", "cam/clips/2025-03-10T10-00-10+20s.mp4",
	};
	enum { N = sizeof(paths) / sizeof(paths[0]) };
	struct fixture *f = *state;
	struct tree *again;
	struct tree_attr attr;
	struct tree_entry *v;
	uint64_t ids[N], ino, parent, day;
	size_t n;

	feed(f, 2);
	for (size_t i = 0; i < N; i++) {
		if (tree_walk(f->tree, paths[i], &ids[i], NULL) != 0)
			fail_msg("walk %s", paths[i]);
		for (size_t j = 0; j < i; j++)
			if (ids[j] == ids[i])
				fail_msg("%s and %s share id %#llx", paths[i], paths[j], (unsigned long long)ids[i]);
	}
	assert_int_equal(tree_new(&again, &f->cfg, f->cams, f->writer), 0);
	for (size_t i = 1; i < N - 1; i++) {   /* by id first: nothing walked in again */
		if (tree_lookup_id(again, ids[i], &attr) != 0)
			fail_msg("%s: its id does not read back", paths[i]);
		assert_int_equal(attr.st.st_ino, ids[i]);
	}
	assert_int_equal(tree_lookup_id(again, ids[N - 1], &attr), -ESTALE);   /* the clip */
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(tree_walk(again, paths[i], &ino, NULL), 0);
		if (ino != ids[i])
			fail_msg("%s: id %#llx, then %#llx", paths[i], (unsigned long long)ids[i],
				 (unsigned long long)ino);
	}
	/* ".." of a day folder and of a segment. */
	assert_int_equal(tree_walk(f->tree, "cam/" DAY, &day, NULL), 0);
	assert_int_equal(tree_lookup_parent(again, day, &parent, &attr), 0);
	assert_int_equal(parent, ids[2]);
	assert_int_equal(tree_lookup_parent(again, ids[12], &parent, &attr), 0);
	assert_int_equal(parent, day);
	/* The day's listing numbers its segment as the lookup does. */
	assert_int_equal(tree_list(again, day, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, "10-00-00.mp4") == 0)
			assert_int_equal(v[i].st.st_ino, ids[12]);
	free(v);
	tree_free(again);
	for (size_t i = 1; i < N; i++)
		tree_walk_release(f->tree, ids[i]);
	tree_walk_release(f->tree, day);
}

static bool listed(struct fixture *f, const char *dir, const char *name)
{
	struct tree_entry *v;
	bool found = false;
	uint64_t ino;
	size_t n;

	assert_int_equal(tree_walk(f->tree, dir, &ino, NULL), 0);
	assert_int_equal(tree_list(f->tree, ino, &v, &n), 0);
	tree_walk_release(f->tree, ino);
	for (size_t i = 0; i < n; i++)
		found |= strcmp(v[i].name, name) == 0;
	free(v);
	return found;
}

static uint64_t day_mp4_size(struct fixture *f)
{
	struct file *file = open_path(f, "cam/" DAY "/day.mp4", NULL);
	uint64_t size = file_size(file);

	file_close(file);
	return size;
}

static void plant_link(struct fixture *f, const char *target, const char *rel)
{
	char path[256];

	store_path(f, rel, path, sizeof(path));
	testutil_make_parents(path, f->store);
	assert_int_equal(symlink(target, path), 0);
}

/* Links planted in the store (by an uploader, by anyone who can write
 * there) to a root-only file, a directory or footage elsewhere: never
 * listed, looked up, read or taken into a clip. */
static void test_links(void **state)
{
	static const char *const planted[] = {
		"cam/" DAY "/10-02-00.mp4",              /* a segment's name */
		"cam/" DAY "/10-02-00.motion.csv",       /* a sidecar's */
		"cam/events/" DAY "/10-00-40-camera.jpg",/* a camera's snapshot */
		"cam/events/" DAY "/10-00-50-motion.jpg",/* a motion event's */
	};
	struct fixture *f = *state;
	char secret[128], jpg[256], fifo[256], swap[256], copy[128], dir[128];
	uint64_t before, ino;
	struct file *file;
	char *text;

	snprintf(secret, sizeof(secret), "%s/secret", f->outside);
	testutil_write_file(secret, "only root may read this\nSECRET\n", 31, TESTUTIL_NEW);
	assert_int_equal(chmod(secret, 0600), 0);
	/* A real snapshot beside the links. */
	store_path(f, "cam/events/" DAY "/10-00-30-camera.jpg", jpg, sizeof(jpg));
	testutil_make_parents(jpg, f->store);
	testutil_write_file(jpg, "\xff\xd8\xff\xd9", 4, TESTUTIL_NEW);
	before = day_mp4_size(f);

	for (size_t i = 0; i < sizeof(planted) / sizeof(planted[0]); i++)
		plant_link(f, secret, planted[i]);
	/* A day folder that is a link to footage elsewhere. */
	snprintf(dir, sizeof(dir), "%s/day", f->outside);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(copy, sizeof(copy), "%s/day/10-00-00.mp4", f->outside);
	store_path(f, FINISHED, jpg, sizeof(jpg));
	assert_int_equal(link(jpg, copy), 0);
	plant_link(f, dir, "cam/2025-03-11");
	/* Footage elsewhere, named as a segment of the day. */
	plant_link(f, copy, "cam/" DAY "/10-04-00.mp4");
	/* A FIFO named as a segment: an open would wait for a writer. */
	store_path(f, "cam/" DAY "/10-03-00.mp4", fifo, sizeof(fifo));
	assert_int_equal(mkfifo(fifo, 0644), 0);

	for (size_t i = 0; i < sizeof(planted) / sizeof(planted[0]); i++) {
		const char *slash = strrchr(planted[i], '/');
		char parent[128];

		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - planted[i]), planted[i]);
		if (listed(f, parent, slash + 1))
			fail_msg("%s is listed", planted[i]);
		assert_int_equal(tree_walk(f->tree, planted[i], &ino, NULL), -ENOENT);
	}
	assert_false(listed(f, "cam/events/" DAY, "10-00-50-motion.mp4"));
	assert_true(listed(f, "cam/events/" DAY, "10-00-30-camera.jpg"));
	assert_false(listed(f, "cam", "2025-03-11"));
	assert_false(listed(f, "cam/" DAY, "10-03-00.mp4"));
	assert_false(listed(f, "cam/" DAY, "10-04-00.mp4"));
	assert_int_equal(tree_walk(f->tree, "cam/2025-03-11/10-00-00.mp4", &ino, NULL), -ENOENT);
	assert_int_equal(tree_walk(f->tree, "cam/" DAY "/10-03-00.mp4", &ino, NULL), -ENOENT);
	assert_int_equal(tree_walk(f->tree, "cam/" DAY "/10-04-00.mp4", &ino, NULL), -ENOENT);

	/* Generated files and clips take nothing from them. */
	file = open_path(f, "cam/" DAY "/motion.csv", NULL);
	text = (char *)read_all(file, file_size(file));
	text[file_size(file)] = '\0';
	assert_null(strstr(text, "SECRET"));
	free(text);
	file_close(file);
	assert_int_equal(day_mp4_size(f), before);

	/* A real file looked up, then swapped for a link: its open fails. */
	assert_int_equal(tree_walk(f->tree, "cam/events/" DAY "/10-00-30-camera.jpg", &ino, NULL), 0);
	store_path(f, "cam/events/" DAY "/10-00-31-camera.jpg", swap, sizeof(swap));
	assert_int_equal(symlink(secret, swap), 0);
	store_path(f, "cam/events/" DAY "/10-00-30-camera.jpg", jpg, sizeof(jpg));
	assert_int_equal(rename(swap, jpg), 0);
	assert_int_equal(file_open(&file, f->tree, ino, NULL, NULL), -ENOENT);
	tree_walk_release(f->tree, ino);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_file),
		cmocka_unit_test(test_growing_segment),
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_clip),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_ids_stable),
		cmocka_unit_test(test_links),
	};

	av_log_set_level(AV_LOG_ERROR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
