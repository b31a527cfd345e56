/* test_uploads.c - the upload watcher on real inotify in a temp dir, filing
 * into real event stores: real JPEGs from libavcodec's mjpeg encoder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <libavcodec/avcodec.h>

#include "config.h"
#include "events/events.h"
#include "events/uploads.h"
#include "util/log.h"
#include "record/store.h"
#include "testutil.h"

#define WAIT_MS 5000
#define FMT(buf, ...) assert_true(fits(snprintf(buf, sizeof(buf), __VA_ARGS__), sizeof(buf)))

static bool fits(int n, size_t size)
{
	return n >= 0 && (size_t)n < size;
}

/* ---- what the watcher reports: filed uploads and log lines ---- */

struct filed {
	int cam;
	char stem[EVENTS_STEM_MAX];
	char path[4096];
	int64_t wall_us;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static struct filed filed[64];        /* guarded by lock: the first 64 */
static int n_filed;                   /* guarded by lock: all of them */
static char log_buf[65536];           /* guarded by lock */
static size_t log_len;                /* guarded by lock */

static void on_event(int cam, const char *stem, const char *path, int64_t wall_us, void *opaque)
{
	pthread_mutex_lock(&lock);
	if (n_filed < (int)(sizeof(filed) / sizeof(filed[0]))) {
		filed[n_filed].cam = cam;
		snprintf(filed[n_filed].stem, sizeof(filed[n_filed].stem), "%s", stem);
		snprintf(filed[n_filed].path, sizeof(filed[n_filed].path), "%s", path);
		filed[n_filed].wall_us = wall_us;
	}
	n_filed++;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

static void sink(int level, const char *line, void *opaque)
{
	size_t n = strlen(line);

	pthread_mutex_lock(&lock);
	if (log_len + n + 2 < sizeof(log_buf)) {
		memcpy(log_buf + log_len, line, n);
		log_len += n;
		log_buf[log_len++] = '\n';
		log_buf[log_len] = '\0';
	}
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

static int count_log_locked(const char *needle)
{
	int n = 0;

	for (const char *p = log_buf; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static int count_log(const char *needle)
{
	int n;

	pthread_mutex_lock(&lock);
	n = count_log_locked(needle);
	pthread_mutex_unlock(&lock);
	return n;
}

static int filed_count(void)
{
	int n;

	pthread_mutex_lock(&lock);
	n = n_filed;
	pthread_mutex_unlock(&lock);
	return n;
}

/* Waits (on the condition, not by sleeping) until n uploads were filed, or
 * the log has needle (when not NULL); false on timeout. */
static bool wait_for(int n, const char *needle)
{
	struct timespec deadline;
	bool done;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&lock);
	while (!(done = needle ? count_log_locked(needle) > 0 : n_filed >= n))
		if (pthread_cond_timedwait(&changed, &lock, &deadline) == ETIMEDOUT)
			break;
	done = needle ? count_log_locked(needle) > 0 : n_filed >= n;
	pthread_mutex_unlock(&lock);
	return done;
}

static struct filed get_filed(int i)
{
	struct filed f;

	pthread_mutex_lock(&lock);
	assert_true(i < n_filed && i < (int)(sizeof(filed) / sizeof(filed[0])));
	f = filed[i];
	pthread_mutex_unlock(&lock);
	return f;
}

/* ---- real JPEGs ---- */

struct jpeg {
	uint8_t *data;
	size_t size;
};

/* A w x h JPEG from libavcodec's mjpeg encoder; seed varies the picture. */
static struct jpeg make_jpeg(int w, int h, int seed)
{
	const AVCodec *codec = avcodec_find_encoder_by_name("mjpeg");
	AVCodecContext *enc = avcodec_alloc_context3(codec);
	AVFrame *frame = av_frame_alloc();
	AVPacket *pkt = av_packet_alloc();
	struct jpeg j;

	assert_non_null(codec);
	assert_non_null(enc);
	enc->width = w;
	enc->height = h;
	enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
	enc->time_base = (AVRational){ 1, 25 };
	assert_int_equal(avcodec_open2(enc, codec, NULL), 0);
	frame->format = enc->pix_fmt;
	frame->width = w;
	frame->height = h;
	assert_int_equal(av_frame_get_buffer(frame, 0), 0);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			frame->data[0][y * frame->linesize[0] + x] = (uint8_t)(x * 3 + y * 7 + seed * 31 + (x ^ y));
	for (int p = 1; p < 3; p++)
		for (int y = 0; y < h / 2; y++)
			memset(frame->data[p] + y * frame->linesize[p], 128 + seed * p, (size_t)w / 2);
	assert_int_equal(avcodec_send_frame(enc, frame), 0);
	assert_int_equal(avcodec_receive_packet(enc, pkt), 0);
	j.size = (size_t)pkt->size;
	j.data = malloc(j.size);
	assert_non_null(j.data);
	memcpy(j.data, pkt->data, j.size);
	av_packet_free(&pkt);
	av_frame_free(&frame);
	avcodec_free_context(&enc);
	return j;
}

/* ---- fixture: cameras 0 (no uploads) and 1 (uploads in DIR/up) ---- */

struct fx {
	char dir[PATH_MAX], store[PATH_MAX], up[PATH_MAX];
	struct config cfg;
	struct events *events[2];
	struct uploads *in;
	struct jpeg jpeg;   /* a picture to upload */
};

static void reset_reports(void)
{
	pthread_mutex_lock(&lock);
	n_filed = 0;
	log_len = 0;
	log_buf[0] = '\0';
	pthread_mutex_unlock(&lock);
}

/* Everything but the watcher, which the test starts (after putting files
 * in place, if it wants some there at start). */
static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct camera_config *cam;

	assert_non_null(fx);
	reset_reports();
	log_set_sink(sink, NULL);
	testutil_temp_dir(fx->dir, sizeof(fx->dir), "incoming");
	FMT(fx->store, "%s/store", fx->dir);
	FMT(fx->up, "%s/up", fx->dir);
	assert_int_equal(mkdir(fx->store, 0755), 0);
	config_init(&fx->cfg);
	free(fx->cfg.store);
	fx->cfg.store = strdup(fx->store);
	assert_non_null(config_add_camera(&fx->cfg, "cam0", "rtsp://127.0.0.1/0"));
	cam = config_add_camera(&fx->cfg, "cam1", "rtsp://127.0.0.1/1");
	assert_non_null(cam);
	cam->events_incoming = strdup(fx->up);
	assert_int_equal(events_new(&fx->events[0], fx->store, "cam0"), 0);
	assert_int_equal(events_new(&fx->events[1], fx->store, "cam1"), 0);
	fx->jpeg = make_jpeg(64, 48, 1);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	uploads_free(fx->in);
	events_free(fx->events[0]);
	events_free(fx->events[1]);
	config_free(&fx->cfg);
	free(fx->jpeg.data);
	assert_int_equal(testutil_remove_tree(fx->dir), 0);
	log_set_sink(NULL, NULL);
	free(fx);
	return 0;
}

static void start(struct fx *fx)
{
	assert_int_equal(uploads_new(&fx->in, &fx->cfg, fx->events, on_event, NULL), 0);
	assert_non_null(fx->in);
}

/* DIR/up/rel */
static void up_path(struct fx *fx, const char *rel, char path[PATH_MAX])
{
	assert_true(fits(snprintf(path, PATH_MAX, "%s/%s", fx->up, rel), PATH_MAX));
}

/* An upload written and closed at DIR/up/rel (its folders made first). */
static void upload(struct fx *fx, const char *rel, const void *data, size_t size)
{
	char path[PATH_MAX];

	up_path(fx, rel, path);
	testutil_make_parents(path, fx->up);
	testutil_write_file(path, data, size, TESTUTIL_NEW);
}

/* Everything that happened before it has been handled once upload number
 * n (counting from 1) is filed: the watcher reads events in order. */
static void barrier(struct fx *fx, int n)
{
	char name[32];
	struct jpeg j = make_jpeg(32, 32, 100 + n);

	FMT(name, "barrier-%d.jpg", n);
	upload(fx, name, j.data, j.size);
	assert_true(wait_for(n, NULL));
	free(j.data);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static bool up_exists(struct fx *fx, const char *rel)
{
	char path[PATH_MAX];

	up_path(fx, rel, path);
	return exists(path);
}

/* How many of this process's threads are named camfs-uploads. */
static int watcher_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[PATH_MAX], name[32] = { 0 };
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;   /* the thread just ended */
		if (read(fd, name, sizeof(name) - 1) > 0 && strcmp(name, "camfs-uploads\n") == 0)
			n++;
		close(fd);
	}
	closedir(d);
	return n;
}

/* The filed upload i is at STORE/cam1/events/<date>/<HH-MM-SS>-camera[_N].jpg
 * for its time, and holds exactly data. */
static void assert_filed(struct fx *fx, int i, const void *data, size_t size)
{
	struct filed f = get_filed(i);
	char date[STORE_DATE_LEN], time_name[STORE_TIME_LEN], want[PATH_MAX], prefix[64];
	uint8_t *buf = malloc(size + 1);
	int fd;

	assert_int_equal(f.cam, 1);
	store_date_name(f.wall_us, date);
	store_time_name(f.wall_us, time_name);
	FMT(prefix, "%s-camera", time_name);
	assert_memory_equal(f.stem, prefix, strlen(prefix));
	assert_true(events_is_snapshot_name(strrchr(f.path, '/') + 1, NULL));
	FMT(want, "%s/cam1/" EVENTS_DIR "/%s/%s.jpg", fx->store, date, f.stem);
	assert_string_equal(f.path, want);
	fd = open(f.path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, size + 1), (ssize_t)size);
	assert_memory_equal(buf, data, size);
	close(fd);
	free(buf);
}

/* Makes openat2 fail with ENOSYS in this process from now on. */
static int deny_openat2(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0 ? -errno : 0;
}

/* ---- tests ---- */

static void test_closed_jpeg_is_filed_once(void **state)
{
	struct fx *fx = *state;
	char events_dir[PATH_MAX];

	start(fx);
	upload(fx, "snap.jpg", fx->jpeg.data, fx->jpeg.size);
	assert_true(wait_for(1, NULL));
	assert_filed(fx, 0, fx->jpeg.data, fx->jpeg.size);
	assert_false(up_exists(fx, "snap.jpg"));
	barrier(fx, 2);
	assert_int_equal(filed_count(), 2);
	FMT(events_dir, "%s/cam1/" EVENTS_DIR, fx->store);
	assert_int_equal(testutil_count_files(events_dir, ".jpg"), 2);
	assert_int_equal(count_log("warning"), 0);
}

/* An upload still being written (open, part written) is left alone; its
 * close brings it in. */
static void test_open_upload_waits_for_close(void **state)
{
	struct fx *fx = *state;
	char path[PATH_MAX];
	size_t half = fx->jpeg.size / 2;
	int fd;

	start(fx);
	up_path(fx, "slow.jpg", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, fx->jpeg.data, half), (ssize_t)half);
	barrier(fx, 1);
	assert_true(up_exists(fx, "slow.jpg"));
	assert_int_equal(filed_count(), 1);
	assert_int_equal(write(fd, fx->jpeg.data + half, fx->jpeg.size - half),
			 (ssize_t)(fx->jpeg.size - half));
	close(fd);
	assert_true(wait_for(2, NULL));
	assert_filed(fx, 1, fx->jpeg.data, fx->jpeg.size);
	assert_false(up_exists(fx, "slow.jpg"));
}

/* Uploaders that write a hidden temp name and rename it when done. */
static void test_rename_in(void **state)
{
	struct fx *fx = *state;
	char from[PATH_MAX], to[PATH_MAX];

	start(fx);
	upload(fx, ".pureftpd-upload.5f3a1b2c.15.1234.abcd", fx->jpeg.data, fx->jpeg.size);
	upload(fx, ".tmp-img.jpg", fx->jpeg.data, fx->jpeg.size);
	barrier(fx, 1);
	assert_true(up_exists(fx, ".pureftpd-upload.5f3a1b2c.15.1234.abcd"));
	assert_true(up_exists(fx, ".tmp-img.jpg"));
	up_path(fx, ".pureftpd-upload.5f3a1b2c.15.1234.abcd", from);
	up_path(fx, "a.jpg", to);
	assert_int_equal(rename(from, to), 0);
	assert_true(wait_for(2, NULL));
	assert_filed(fx, 1, fx->jpeg.data, fx->jpeg.size);
	up_path(fx, ".tmp-img.jpg", from);
	up_path(fx, "b.jpg", to);
	assert_int_equal(rename(from, to), 0);
	assert_true(wait_for(3, NULL));
	assert_filed(fx, 2, fx->jpeg.data, fx->jpeg.size);
	assert_false(up_exists(fx, "a.jpg"));
	assert_false(up_exists(fx, "b.jpg"));
}

/* Not a JPEG, cut short, or empty: to rejected/, never overwriting there,
 * one warning each naming the file and why. Zero padding after the end
 * marker is fine. */
static void test_rejects(void **state)
{
	struct fx *fx = *state;
	size_t padded_size = fx->jpeg.size + 300;
	uint8_t *padded = calloc(1, padded_size);
	char line[PATH_MAX + 64];

	start(fx);
	upload(fx, "notes.txt", "hello\n", 6);
	assert_true(wait_for(0, "notes.txt: not a JPEG"));
	upload(fx, "notes.txt", "hello again\n", 12);
	assert_true(wait_for(0, "notes_2.txt"));
	upload(fx, "cut.jpg", fx->jpeg.data, fx->jpeg.size - 100);
	assert_true(wait_for(0, "cut.jpg: truncated JPEG"));
	upload(fx, "empty.jpg", "", 0);
	assert_true(wait_for(0, "empty.jpg: empty file"));
	memcpy(padded, fx->jpeg.data, fx->jpeg.size);
	upload(fx, "padded.jpg", padded, padded_size);
	assert_true(wait_for(1, NULL));
	assert_filed(fx, 0, padded, padded_size);

	assert_true(up_exists(fx, "rejected/notes.txt"));
	assert_true(up_exists(fx, "rejected/notes_2.txt"));
	assert_true(up_exists(fx, "rejected/cut.jpg"));
	assert_true(up_exists(fx, "rejected/empty.jpg"));
	assert_false(up_exists(fx, "notes.txt"));
	assert_int_equal(count_log("warning: [cam1] rejected upload"), 4);
	FMT(line, "warning: [cam1] rejected upload %s/notes.txt: not a JPEG; moved to %s/rejected/notes_2.txt",
	    fx->up, fx->up);
	assert_int_equal(count_log(line), 1);
	/* what is in rejected/ stays there */
	barrier(fx, 2);
	assert_true(up_exists(fx, "rejected/cut.jpg"));
	assert_int_equal(count_log("warning"), 4);
	free(padded);
}

/* Cameras upload into folders they make, any depth; a folder that arrives
 * with files already in it (renamed in) is looked into. */
static void test_subfolders(void **state)
{
	struct fx *fx = *state;
	char from[PATH_MAX], to[PATH_MAX], path[PATH_MAX];

	start(fx);
	upload(fx, "2026-11-21/10/img.jpg", fx->jpeg.data, fx->jpeg.size);
	assert_true(wait_for(1, NULL));
	assert_filed(fx, 0, fx->jpeg.data, fx->jpeg.size);

	FMT(from, "%s/outside", fx->dir);
	FMT(path, "%s/outside/deep/img.jpg", fx->dir);
	testutil_make_parents(path, fx->dir);
	testutil_write_file(path, fx->jpeg.data, fx->jpeg.size, TESTUTIL_NEW);
	up_path(fx, "2026-11-21/11", to);
	assert_int_equal(rename(from, to), 0);
	assert_true(wait_for(2, NULL));
	assert_filed(fx, 1, fx->jpeg.data, fx->jpeg.size);

	/* a folder renamed within the tree: its uploads are found at the new name */
	up_path(fx, "2026-11-21/11", from);
	up_path(fx, "2026-11-21/12", to);
	assert_int_equal(rename(from, to), 0);
	upload(fx, "2026-11-21/12/deep/after.jpg", fx->jpeg.data, fx->jpeg.size);
	assert_true(wait_for(3, NULL));
	assert_filed(fx, 2, fx->jpeg.data, fx->jpeg.size);

	/* a folder deleted and made again is watched again */
	up_path(fx, "2026-11-21/12/deep", path);
	assert_int_equal(rmdir(path), 0);
	upload(fx, "2026-11-21/12/deep/again.jpg", fx->jpeg.data, fx->jpeg.size);
	assert_true(wait_for(4, NULL));
	assert_filed(fx, 3, fx->jpeg.data, fx->jpeg.size);
	assert_int_equal(count_log("warning"), 0);
}

/* A file still open for writing when the start walk finds it is left for
 * its close event, even when what is written so far looks whole: here a
 * JPEG whose zero padding (past 64 KiB) is still to come. */
static void test_open_upload_left_for_close(void **state)
{
	struct fx *fx = *state;
	size_t pad = 70000;
	uint8_t *zeros = calloc(1, pad);
	char path[PATH_MAX];
	int fd;

	assert_non_null(zeros);
	assert_int_equal(mkdir(fx->up, 0755), 0);
	up_path(fx, "slow.jpg", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, fx->jpeg.data, fx->jpeg.size), (ssize_t)fx->jpeg.size);
	start(fx);
	barrier(fx, 1);   /* the walk is over */
	assert_int_equal(filed_count(), 1);
	assert_true(up_exists(fx, "slow.jpg"));
	assert_int_equal(write(fd, zeros, pad), (ssize_t)pad);
	close(fd);
	assert_true(wait_for(0, "slow.jpg: JPEG followed by more than 64 KiB of zeros"));
	assert_int_equal(filed_count(), 1);
	free(zeros);
}

/* Uploads that came while camfs was down are filed at start, in subfolders
 * too; rejected/ is left alone; an unfinished-looking file written just
 * now may still be uploading, one older is rejected. */
static void test_present_at_start(void **state)
{
	struct fx *fx = *state;
	struct timespec old[2] = { { time(NULL) - 3600, 0 }, { time(NULL) - 3600, 0 } };
	char path[PATH_MAX];

	assert_int_equal(mkdir(fx->up, 0755), 0);
	upload(fx, "early.jpg", fx->jpeg.data, fx->jpeg.size);
	upload(fx, "2026-11-21/09/early.jpg", fx->jpeg.data, fx->jpeg.size);
	upload(fx, "rejected/old.jpg", fx->jpeg.data, fx->jpeg.size);
	upload(fx, "stale-cut.jpg", fx->jpeg.data, fx->jpeg.size / 2);
	up_path(fx, "stale-cut.jpg", path);
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	upload(fx, "fresh-cut.jpg", fx->jpeg.data, fx->jpeg.size / 2);
	start(fx);
	assert_true(wait_for(2, NULL));
	assert_filed(fx, 0, fx->jpeg.data, fx->jpeg.size);
	assert_filed(fx, 1, fx->jpeg.data, fx->jpeg.size);
	barrier(fx, 3);
	assert_int_equal(filed_count(), 3);
	assert_false(up_exists(fx, "early.jpg"));
	assert_false(up_exists(fx, "2026-11-21/09/early.jpg"));
	assert_true(up_exists(fx, "rejected/old.jpg"));
	assert_true(up_exists(fx, "rejected/stale-cut.jpg"));
	assert_true(up_exists(fx, "fresh-cut.jpg"));
	assert_int_equal(count_log("warning"), 1);
}

/* Filing fails (here the store is a file, not a folder): logged, and the
 * upload stays, to be filed at the next start. */
static void test_failed_filing_leaves_upload(void **state)
{
	struct fx *fx = *state;
	char bad_store[PATH_MAX];
	struct events *good = fx->events[1];

	FMT(bad_store, "%s/not-a-dir", fx->dir);
	testutil_write_file(bad_store, "x", 1, TESTUTIL_NEW);
	assert_int_equal(events_new(&fx->events[1], bad_store, "cam1"), 0);
	assert_int_equal(mkdir(fx->up, 0755), 0);
	upload(fx, "snap.jpg", fx->jpeg.data, fx->jpeg.size);
	start(fx);
	assert_true(wait_for(0, "cannot file upload"));
	assert_true(up_exists(fx, "snap.jpg"));
	assert_int_equal(filed_count(), 0);
	assert_int_equal(count_log("warning: [cam1] cannot file upload"), 1);

	uploads_free(fx->in);
	events_free(fx->events[1]);
	fx->events[1] = good;
	start(fx);
	assert_true(wait_for(1, NULL));
	assert_filed(fx, 0, fx->jpeg.data, fx->jpeg.size);
}

/* An upload folder inside another camera's: each file belongs to the
 * deepest one, and the outer camera's walk leaves the inner folder alone. */
static void test_nested_folders(void **state)
{
	struct fx *fx = *state;
	char inner[PATH_MAX];
	struct filed f;

	FMT(inner, "%s/cam0", fx->up);
	fx->cfg.cameras[0].events_incoming = strdup(inner);
	assert_int_equal(mkdir(fx->up, 0755), 0);
	upload(fx, "cam0/early.jpg", fx->jpeg.data, fx->jpeg.size);
	start(fx);
	assert_true(wait_for(1, NULL));
	upload(fx, "cam0/2026-11-21/later.jpg", fx->jpeg.data, fx->jpeg.size);
	assert_true(wait_for(2, NULL));
	upload(fx, "outer.jpg", fx->jpeg.data, fx->jpeg.size);
	assert_true(wait_for(3, NULL));
	for (int i = 0; i < 3; i++) {
		f = get_filed(i);
		assert_int_equal(f.cam, i < 2 ? 0 : 1);
		assert_non_null(strstr(f.path, i < 2 ? "/cam0/" EVENTS_DIR "/" : "/cam1/" EVENTS_DIR "/"));
	}
	assert_filed(fx, 2, fx->jpeg.data, fx->jpeg.size);
	assert_int_equal(count_log("warning"), 0);
}

/* One watcher per process (the library's state is global); freeing it is
 * prompt, and it can be made again; no camera with uploads, no thread. */
static void test_lifecycle(void **state)
{
	struct fx *fx = *state;
	struct uploads *other = (struct uploads *)1;
	struct timespec a, b;
	struct config none;

	start(fx);
	assert_int_equal(uploads_new(&other, &fx->cfg, fx->events, on_event, NULL), -EBUSY);
	assert_null(other);
	clock_gettime(CLOCK_MONOTONIC, &a);
	uploads_free(fx->in);
	clock_gettime(CLOCK_MONOTONIC, &b);
	fx->in = NULL;
	/* Generous: the thread waits in poll with the eventfd, not in 1 s naps. */
	assert_int_equal(count_log("inotify fd not found"), 0);
	assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 500);
	start(fx);
	upload(fx, "snap.jpg", fx->jpeg.data, fx->jpeg.size);
	assert_true(wait_for(1, NULL));

	config_init(&none);
	assert_non_null(config_add_camera(&none, "cam0", "rtsp://127.0.0.1/0"));
	assert_int_equal(watcher_threads(), 1);   /* fx's: the count sees it */
	assert_int_equal(uploads_new(&other, &none, fx->events, on_event, NULL), 0);
	assert_int_equal(watcher_threads(), 1);
	uploads_free(other);
	config_free(&none);
	uploads_free(NULL);
}

/* ---- uploaders that try to reach outside their folder ---- */

static void read_back(const char *path, uint8_t **data, size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*size = (size_t)st.st_size;
	*data = malloc(*size + 1);
	assert_non_null(*data);
	assert_int_equal(read(fd, *data, *size + 1), (ssize_t)*size);
	close(fd);
}

/* path is a regular file holding exactly data. */
static bool holds(const char *path, const void *data, size_t size)
{
	struct stat st;
	uint8_t *got;
	size_t n;
	bool same;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	read_back(path, &got, &n);
	same = n == size && memcmp(got, data, size) == 0;
	free(got);
	return same;
}

/* Every snapshot cam1 has in the store is a regular file holding data;
 * returns how many there are. */
static int assert_snapshots_are(struct fx *fx, const void *data, size_t size)
{
	char events_dir[PATH_MAX], day[PATH_MAX + 256], path[PATH_MAX * 2];
	struct dirent *d, *e;
	DIR *days, *snaps;
	int n = 0;

	FMT(events_dir, "%s/cam1/" EVENTS_DIR, fx->store);
	days = opendir(events_dir);
	if (!days)
		return 0;
	while ((d = readdir(days))) {
		if (d->d_name[0] == '.')
			continue;
		FMT(day, "%s/%s", events_dir, d->d_name);
		snaps = opendir(day);
		assert_non_null(snaps);
		while ((e = readdir(snaps))) {
			if (e->d_name[0] == '.')
				continue;
			FMT(path, "%s/%s", day, e->d_name);
			if (!holds(path, data, size))
				fail_msg("%s is not a regular file holding the upload", path);
			n++;
		}
		closedir(snaps);
	}
	closedir(days);
	return n;
}

static int count_entries_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* Everything that happened before it has been handled: a JPEG uploaded
 * under name is filed (the watcher reads events in order). */
static void barrier_named(struct fx *fx, const char *name)
{
	char line[PATH_MAX + 64];

	upload(fx, name, fx->jpeg.data, fx->jpeg.size);
	FMT(line, "upload %s/%s filed as", fx->up, name);
	assert_true(wait_for(0, line));
}

/* What the racer needs, all made before the fork: the child of a process
 * with threads may only make system calls. */
struct race {
	char tmp[PATH_MAX], a[PATH_MAX], lnk[PATH_MAX];       /* a.jpg and its stand-ins */
	char d[PATH_MAX], dtmp[PATH_MAX], dlnk[PATH_MAX];     /* d/ and its stand-ins */
	char secret[PATH_MAX], outside[PATH_MAX];
	const struct jpeg *jpeg;
};

/* Busy-waits about us µs: a swap must land anywhere in the watcher's
 * steps of a few µs, which a sleep cannot aim at. */
static void spin_us(int us)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + b.tv_nsec - a.tv_nsec < us * 1000L);
}

static bool absent(const char *path)
{
	struct stat st;

	return lstat(path, &st) < 0;
}

/* The racer: each round uploads a JPEG as a.jpg and 0-255 µs later renames
 * a link to the secret over it; renames a new folder in as d/ and as soon
 * after swaps it (RENAME_EXCHANGE) for a link to outside/. Then it waits
 * (at most 200 ms) for the watcher to clear both names. 0, or the step
 * that failed. */
static int race(const struct race *r, int rounds)
{
	unsigned seed = 12345;

	for (int i = 0; i < rounds; i++) {
		int fd = open(r->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		struct timespec ms = { 0, 1000000 };

		if (fd < 0 || write(fd, r->jpeg->data, r->jpeg->size) != (ssize_t)r->jpeg->size)
			return 1;
		close(fd);
		unlink(r->lnk);
		if (symlink(r->secret, r->lnk) < 0 ||
		    (symlink(r->outside, r->dlnk) < 0 && errno != EEXIST) ||
		    (mkdir(r->dtmp, 0755) < 0 && errno != EEXIST))
			return 2;
		seed = seed * 1103515245 + 12345;
		if (rename(r->tmp, r->a) < 0)
			return 3;
		spin_us((int)(seed >> 16) & 255);
		rename(r->lnk, r->a);
		if (rename(r->dtmp, r->d) < 0)
			return 4;
		spin_us((int)(seed >> 8) & 255);
		renameat2(AT_FDCWD, r->d, AT_FDCWD, r->dlnk, RENAME_EXCHANGE);
		rmdir(r->dlnk);   /* the folder, once swapped out */
		for (int t = 0; t < 200 && !(absent(r->a) && absent(r->d)); t++)
			nanosleep(&ms, NULL);
		unlink(r->a);
		if (unlink(r->d) < 0)
			rmdir(r->d);
	}
	return 0;
}

#define RACE_ROUNDS 400

/* An uploader swaps links in for an upload and for a folder while the
 * watcher works on them, in a loop: the store gets nothing but copies of
 * the upload; no file outside the folder is read, moved or filed. */
static void test_symlink_race(void **state)
{
	struct fx *fx = *state;
	struct jpeg secret_jpeg = make_jpeg(48, 32, 2), victim_jpeg = make_jpeg(40, 40, 3);
	struct timespec old[2] = { { time(NULL) - 3600, 0 }, { time(NULL) - 3600, 0 } };
	char victim[PATH_MAX], notes[PATH_MAX], line[PATH_MAX + 64];
	struct race r = { .jpeg = &fx->jpeg };
	bool settled;
	struct timespec t0, t1;
	int status, n;
	pid_t pid;

	/* A root-only file, valid as a JPEG, and a folder of files. */
	FMT(r.secret, "%s/secret.jpg", fx->dir);
	testutil_write_file(r.secret, secret_jpeg.data, secret_jpeg.size, TESTUTIL_NEW);
	assert_int_equal(chmod(r.secret, 0600), 0);
	FMT(r.outside, "%s/outside", fx->dir);
	assert_int_equal(mkdir(r.outside, 0755), 0);
	FMT(victim, "%s/victim.jpg", r.outside);
	testutil_write_file(victim, victim_jpeg.data, victim_jpeg.size, TESTUTIL_NEW);
	FMT(notes, "%s/victim.txt", r.outside);
	testutil_write_file(notes, "notes\n", 6, TESTUTIL_NEW);
	assert_int_equal(utimensat(AT_FDCWD, victim, old, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, notes, old, 0), 0);

	up_path(fx, ".tmp", r.tmp);
	up_path(fx, "a.jpg", r.a);
	up_path(fx, ".lnk", r.lnk);
	up_path(fx, "d", r.d);
	up_path(fx, ".d", r.dtmp);
	up_path(fx, ".dl", r.dlnk);
	start(fx);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(race(&r, RACE_ROUNDS));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	upload(fx, "barrier-race.jpg", fx->jpeg.data, fx->jpeg.size);
	FMT(line, "upload %s/barrier-race.jpg filed as", fx->up);
	settled = wait_for(0, line);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	n = assert_snapshots_are(fx, fx->jpeg.data, fx->jpeg.size);
	print_message("%d rounds in %.2f s: %d uploads filed, all copies of the upload\n",
		      RACE_ROUNDS, (double)(t1.tv_sec - t0.tv_sec) +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, n);
	assert_true(n >= 1);
	assert_true(holds(r.secret, secret_jpeg.data, secret_jpeg.size));
	assert_true(holds(victim, victim_jpeg.data, victim_jpeg.size));
	assert_true(holds(notes, "notes\n", 6));
	assert_int_equal(count_entries_in(r.outside), 2);
	assert_int_equal(count_log("cannot file upload"), 0);
	assert_true(settled);   /* after the checks: they say more */
	free(secret_jpeg.data);
	free(victim_jpeg.data);
}

/* rejected/ replaced by a link to another folder: nothing is moved there. */
static void test_rejected_link_not_followed(void **state)
{
	struct fx *fx = *state;
	char outside[PATH_MAX], link_path[PATH_MAX], line[PATH_MAX + 128];

	FMT(outside, "%s/outside", fx->dir);
	assert_int_equal(mkdir(outside, 0755), 0);
	assert_int_equal(mkdir(fx->up, 0755), 0);
	up_path(fx, "rejected", link_path);
	assert_int_equal(symlink(outside, link_path), 0);
	start(fx);
	upload(fx, "notes.txt", "hello\n", 6);
	FMT(line, "rejected upload %s/notes.txt: not a JPEG; deleted: rejected/ is not a folder",
	    fx->up);
	assert_true(wait_for(0, line));
	assert_int_equal(count_entries_in(outside), 0);
	assert_false(up_exists(fx, "notes.txt"));
}

/* A hard link to a file elsewhere on the filesystem is never read. */
static void test_hard_link_not_read(void **state)
{
	struct fx *fx = *state;
	struct jpeg other = make_jpeg(40, 40, 4);
	char outside[PATH_MAX], link_path[PATH_MAX];

	FMT(outside, "%s/private.jpg", fx->dir);
	testutil_write_file(outside, other.data, other.size, TESTUTIL_NEW);
	assert_int_equal(chmod(outside, 0600), 0);
	start(fx);
	up_path(fx, ".hl", link_path);
	assert_int_equal(link(outside, link_path), 0);
	up_path(fx, "hl.jpg", outside);   /* renamed in: as an uploader would */
	assert_int_equal(rename(link_path, outside), 0);
	assert_true(wait_for(0, "hl.jpg: has other hard links"));
	barrier_named(fx, "after.jpg");
	assert_int_equal(assert_snapshots_are(fx, fx->jpeg.data, fx->jpeg.size), 1);
	FMT(outside, "%s/private.jpg", fx->dir);
	assert_true(holds(outside, other.data, other.size));
	free(other.data);
}

/* ---- bounded work and disk ---- */

/* A 64 GiB sparse "JPEG" is deleted unread, at once: the uploads after it
 * are not held up. */
static void test_oversize_deleted_unread(void **state)
{
	struct fx *fx = *state;
	char path[PATH_MAX], line[PATH_MAX + 128];
	int fd;

	start(fx);
	up_path(fx, "huge.jpg", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, fx->jpeg.data, fx->jpeg.size), (ssize_t)fx->jpeg.size);
	assert_int_equal(ftruncate(fd, (off_t)64 << 30), 0);
	close(fd);
	FMT(line, "warning: [cam1] upload %s: 68719476736 bytes, more than upload_max_size "
	    "(10485760): deleted", path);
	assert_true(wait_for(0, line));
	barrier(fx, 1);
	assert_false(up_exists(fx, "huge.jpg"));
	assert_false(up_exists(fx, "rejected/huge.jpg"));

	/* Just at the limit is fine. */
	fx->cfg.upload_max_size = (int64_t)fx->jpeg.size;
	uploads_free(fx->in);
	start(fx);
	barrier(fx, 2);
	assert_int_equal(count_log("warning"), 1);
}

/* The end marker is looked for in the last 64 KiB only: a JPEG followed
 * by more zeros than that is rejected without reading them all. */
static void test_end_marker_in_tail_only(void **state)
{
	struct fx *fx = *state;
	size_t size = fx->jpeg.size + 70000;
	uint8_t *padded = calloc(1, size);

	assert_non_null(padded);
	memcpy(padded, fx->jpeg.data, fx->jpeg.size);
	start(fx);
	upload(fx, "padded.jpg", padded, size);
	assert_true(wait_for(0, "padded.jpg: JPEG followed by more than 64 KiB of zeros"));
	assert_true(up_exists(fx, "rejected/padded.jpg"));
	assert_int_equal(filed_count(), 0);
	free(padded);
}

/* Past upload_max_per_day a camera's uploads are deleted, said once; the
 * day's count survives a restart (it is read from the store). */
static void test_daily_limit(void **state)
{
	struct fx *fx = *state;

	log_set_level(LOG_DEBUG);
	fx->cfg.upload_max_per_day = (int64_t)(fx->jpeg.size * 5 / 2);
	start(fx);
	upload(fx, "1.jpg", fx->jpeg.data, fx->jpeg.size);
	upload(fx, "2.jpg", fx->jpeg.data, fx->jpeg.size);
	assert_true(wait_for(2, NULL));
	upload(fx, "3.jpg", fx->jpeg.data, fx->jpeg.size);
	assert_true(wait_for(0, "3.jpg deleted: upload_max_per_day reached"));
	upload(fx, "4.jpg", fx->jpeg.data, fx->jpeg.size);
	assert_true(wait_for(0, "4.jpg deleted: upload_max_per_day reached"));
	assert_int_equal(count_log("further uploads are deleted until tomorrow"), 1);
	assert_int_equal(count_log("warning"), 1);

	uploads_free(fx->in);
	start(fx);
	upload(fx, "5.jpg", fx->jpeg.data, fx->jpeg.size);
	assert_true(wait_for(0, "5.jpg deleted: upload_max_per_day reached"));
	assert_int_equal(filed_count(), 2);
	assert_false(up_exists(fx, "3.jpg"));
	assert_false(up_exists(fx, "5.jpg"));
	assert_int_equal(assert_snapshots_are(fx, fx->jpeg.data, fx->jpeg.size), 2);
	log_set_level(LOG_INFO);
}

/* rejected/ keeps 100 files; further rejects are deleted (said once until
 * there is room again). */
static void test_rejected_bounded(void **state)
{
	struct fx *fx = *state;
	char name[64], path[PATH_MAX];

	assert_int_equal(mkdir(fx->up, 0755), 0);
	for (int i = 0; i < 100; i++) {
		FMT(name, "rejected/old-%d.txt", i);
		upload(fx, name, "x", 1);
	}
	start(fx);
	upload(fx, "a.txt", "a", 1);
	assert_true(wait_for(0, "a.txt: not a JPEG; deleted: rejected/ has 100 files"));
	upload(fx, "b.txt", "b", 1);
	barrier(fx, 1);
	assert_false(up_exists(fx, "b.txt"));
	assert_int_equal(count_log("rejected/ has 100 files"), 1);

	up_path(fx, "rejected/old-0.txt", path);
	assert_int_equal(unlink(path), 0);
	upload(fx, "c.txt", "c", 1);
	assert_true(wait_for(0, "c.txt: not a JPEG; moved to"));
	upload(fx, "d.txt", "d", 1);
	assert_true(wait_for(0, "d.txt: not a JPEG; deleted: rejected/ has 100 files"));
	assert_int_equal(count_log("rejected/ has 100 files"), 2);
	FMT(path, "%s/rejected", fx->up);
	assert_int_equal(count_entries_in(path), 100);
}

/* At most 4096 folders per camera are watched (inotify watches are the
 * kernel's); removed ones make room. */
static void test_folder_limit(void **state)
{
	struct fx *fx = *state;
	char path[PATH_MAX], name[32];

	assert_int_equal(mkdir(fx->up, 0755), 0);
	for (int i = 0; i < 4100; i++) {
		FMT(name, "f%04d", i);
		up_path(fx, name, path);
		assert_int_equal(mkdir(path, 0755), 0);
	}
	start(fx);
	assert_true(wait_for(0, "more than 4096 folders, not watched until some are removed"));
	for (int i = 0; i < 4100; i++) {
		FMT(name, "f%04d", i);
		up_path(fx, name, path);
		assert_int_equal(rmdir(path), 0);
	}
	upload(fx, "new/x.jpg", fx->jpeg.data, fx->jpeg.size);
	assert_true(wait_for(1, NULL));
	assert_filed(fx, 0, fx->jpeg.data, fx->jpeg.size);
	assert_int_equal(count_log("warning"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_closed_jpeg_is_filed_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_upload_waits_for_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subfolders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_present_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_upload_left_for_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_filing_leaves_upload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_link_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_link_not_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversize_deleted_unread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_marker_in_tail_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_daily_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_limit, setup, teardown),
	};
	int ret, status;
	pid_t pid;

	ret = cmocka_run_group_tests(tests, NULL, NULL);
	/* Again as on a kernel without openat2 (before 5.6): a seccomp filter
	 * makes it fail with ENOSYS, so folders are opened one name at a time. */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (deny_openat2() < 0 || syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0) != -1 ||
		    errno != ENOSYS) {
			fprintf(stderr, "cannot hide openat2: %s\n", strerror(errno));
			_exit(1);
		}
		print_message("again without openat2\n");
		_exit(cmocka_run_group_tests(tests, NULL, NULL));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 1;
	return ret ? ret : WEXITSTATUS(status);
}
