/* writer.c - the writer thread. Fragments cross from the camera threads in a
 * bounded ring; everything after that (files, syncs, retention) happens on
 * this thread alone, so segment state needs no lock. */
#include "record/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "config.h"
#include "util/deadline.h"
#include "events/events.h"
#include "stream/fragment.h"
#include "util/log.h"
#include "record/retention.h"
#include "record/segment.h"
#include "record/sidecar.h"
#include "record/store.h"
#include "record/vfile.h"

#define QUEUE_ITEMS 8192
#define QUEUE_BYTES (64 << 20)      /* ~2 min of 4 Mbit/s behind a stalled disk */
#define SYNC_INTERVAL_US 1000000    /* the most a crash may lose */
/* The writer wakes on this period and drains the queue, rather than being
 * woken for every frame of every camera: per-frame wake-ups cost more than
 * the writes. Live readers never wait on the writer. */
#define DRAIN_INTERVAL_US 50000
#define RETENTION_INTERVAL_US 5000000
/* A segment due for a cut (long enough, or a new day) waits for a keyframe
 * at least this long, then is cut without one: a camera that never sends
 * another keyframe must not grow one file forever, nor one past midnight
 * by more. A camera with a long GOP is waited for three of its GOPs (what
 * follows such a cut is lost until the next keyframe), up to the most. */
#define KEYFRAME_WAIT_US (20 * 1000000LL)
#define KEYFRAME_WAIT_MAX_US (300 * 1000000LL)
#define SEGMENT_MAX_BYTES (1ULL << 30)   /* likewise, by size */
#define EVENTS_EXPIRY_INTERVAL_US (3600 * 1000000LL)

struct item {
	int cam;
	struct fragment *frag;   /* NULL: a score, or the camera's session ended */
	int64_t second_us;       /* a score's second; -1: the session ended */
	int score;
};

/* A segment that motion-score rows may go to: the second of its name up to
 * its end. Rows come a second late, so they may belong to the segment just
 * closed. */
struct row_target {
	char path[PATH_MAX];     /* "" when none */
	int64_t first_us;        /* the second it starts in */
	int64_t end_us;          /* 0 while being written */
};

struct cam_state {
	struct fragment *init;       /* writer thread only */
	struct segment *seg;         /* writer thread only */
	struct row_target rows[2];   /* writer thread only: seg's, then the one before */
	atomic_bool dropped;         /* set by writer_push when the queue was full */
	/* What readers of the tree may see of seg, copied from the writer
	 * thread after every change. */
	pthread_mutex_t shown_lock;
	char shown_path[PATH_MAX];   /* guarded by shown_lock; "" when none */
	uint64_t shown_size;         /* guarded by shown_lock */
	/* Written on the writer thread with shown_lock held, read there without. */
	int error;                   /* guarded by shown_lock: the last write error */
	int64_t error_wall_us;       /* guarded by shown_lock */
	int failing;                 /* writer thread only: why segments cannot start */
	/* Writer thread only. Counted in fragment durations, not timestamps,
	 * so a camera whose clock jumps neither cuts early nor waits forever. */
	int64_t due_waited_us;       /* media since seg became due for a cut, -1 if
				      * not yet */
	int64_t since_key_us;        /* media since the last keyframe */
	int64_t gop_us;              /* between the last two keyframes; 0 if unknown */
	int64_t cut_wall_us;         /* writer thread only: when a segment was cut
				      * without a keyframe; 0 if not */
};

struct writer {
	const struct config *cfg;
	const struct clock *clock;
	pthread_t thread;
	bool running;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item ring[QUEUE_ITEMS];   /* guarded by lock */
	size_t head, count;              /* guarded by lock */
	size_t bytes;                    /* guarded by lock */
	bool stop;                       /* guarded by lock */

	struct cam_state *cams;
	int64_t last_sync_us, last_retention_us, last_events_expiry_us;
	/* Held while the callback runs, so clearing it waits for a call in
	 * progress: its opaque may be freed right after. */
	pthread_mutex_t on_segment_lock;
	writer_segment_fn *on_segment;   /* guarded by on_segment_lock */
	void *on_segment_opaque;         /* guarded by on_segment_lock */
	int spare_fd;                /* writer thread: given up when fds run out */
	_Atomic int64_t turn_us;     /* monotonic: the loop's last turn */
	/* CAMFS_TEST_WEDGE_WRITER=S: a test hook (test/integration/notify.sh)
	 * that makes the loop hang S seconds after it started, as on a hung
	 * disk; 0: never. */
	int64_t wedge_at_us;
};

int writer_new(struct writer **out, const struct config *cfg, const struct clock *clock)
{
	struct writer *w = calloc(1, sizeof(*w));
	int ret = -ENOMEM;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->cams = calloc(cfg->n_cameras ? cfg->n_cameras : 1, sizeof(*w->cams));
	/* The drain wait must not stretch when the wall clock steps back. */
	if (!w->cams || (ret = deadline_cond_init(&w->cond)) < 0) {
		free(w->cams);
		free(w);
		return ret;
	}
	w->cfg = cfg;
	w->clock = clock;
	w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (int i = 0; i < cfg->n_cameras; i++)
		pthread_mutex_init(&w->cams[i].shown_lock, NULL);
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->on_segment_lock, NULL);
	*out = w;
	return 0;
}

static bool enqueue(struct writer *w, struct item it)
{
	size_t size = it.frag ? it.frag->size : 0;
	bool ok;

	pthread_mutex_lock(&w->lock);
	ok = w->count < QUEUE_ITEMS && (!it.frag || w->bytes + size <= QUEUE_BYTES);
	if (ok) {
		w->ring[(w->head + w->count) % QUEUE_ITEMS] = it;
		w->count++;
		w->bytes += size;
		if (w->count == QUEUE_ITEMS / 2 || w->bytes > QUEUE_BYTES / 2)
			pthread_cond_signal(&w->cond);   /* filling up: drain now */
	}
	pthread_mutex_unlock(&w->lock);
	return ok;
}

void writer_push(struct writer *w, int cam, struct fragment *frag)
{
	if (!enqueue(w, (struct item){ .cam = cam, .frag = frag })) {
		if (!atomic_exchange(&w->cams[cam].dropped, true))
			log_warning(w->cfg->cameras[cam].name,
				    "disk too slow: dropping footage until the writer catches up");
		fragment_unref(&frag);
	}
}

void writer_end_session(struct writer *w, int cam)
{
	/* Needs a ring slot only; if even that is full the next init closes
	 * the segment instead. */
	enqueue(w, (struct item){ .cam = cam, .second_us = -1 });
}

void writer_push_score(struct writer *w, int cam, int64_t second_us, int score)
{
	/* A row lost to a full queue is not worth a log line: footage is
	 * being dropped then too, and that is logged. */
	enqueue(w, (struct item){ .cam = cam, .second_us = second_us, .score = score });
}

void writer_on_segment(struct writer *w, writer_segment_fn *fn, void *opaque)
{
	pthread_mutex_lock(&w->on_segment_lock);
	w->on_segment = fn;
	w->on_segment_opaque = opaque;
	pthread_mutex_unlock(&w->on_segment_lock);
}

int64_t writer_committed_size(struct writer *w, int cam, const char *path)
{
	struct cam_state *cs = &w->cams[cam];
	int64_t size = -1;

	pthread_mutex_lock(&cs->shown_lock);
	if (strcmp(cs->shown_path, path) == 0)
		size = cs->shown_size;
	pthread_mutex_unlock(&cs->shown_lock);
	return size;
}

void writer_state(struct writer *w, int cam, struct writer_state *out)
{
	struct cam_state *cs = &w->cams[cam];

	pthread_mutex_lock(&cs->shown_lock);
	*out = (struct writer_state){
		.recording = cs->shown_path[0] != '\0',
		.error = cs->error, .error_wall_us = cs->error_wall_us,
	};
	pthread_mutex_unlock(&cs->shown_lock);
}

/* Keeps a write failure for status. */
static void show_error(struct writer *w, struct cam_state *cs, int err)
{
	pthread_mutex_lock(&cs->shown_lock);
	cs->error = err;
	cs->error_wall_us = clock_wall_us(w->clock);
	pthread_mutex_unlock(&cs->shown_lock);
}

/* After an open failed for want of fds: closes fds clips hold and nobody
 * reads, else gives up the spare, and says whether to try once more. Clips
 * are bounded to leave a reserve, but other readers (HTTP, store files
 * opened through the mount) are not: recording comes first. */
static bool made_fds(struct writer *w, int ret)
{
	if (ret != -EMFILE && ret != -ENFILE)
		return false;
	if (vfile_shed_fds(16) > 0)
		return true;
	if (w->spare_fd < 0)
		return false;
	close(w->spare_fd);
	w->spare_fd = -1;
	return true;
}

/* Publishes the camera's current segment (or none) to writer_committed_size. */
static void show(struct cam_state *cs)
{
	pthread_mutex_lock(&cs->shown_lock);
	if (cs->seg) {
		snprintf(cs->shown_path, sizeof(cs->shown_path), "%s", cs->seg->path);
		cs->shown_size = cs->seg->size;
	} else {
		cs->shown_path[0] = '\0';
	}
	pthread_mutex_unlock(&cs->shown_lock);
}

static const char **busy_paths(struct writer *w, size_t *n)
{
	const char **busy = calloc(w->cfg->n_cameras + 1, sizeof(*busy));

	*n = 0;
	for (int i = 0; busy && i < w->cfg->n_cameras; i++)
		if (w->cams[i].seg)
			busy[(*n)++] = w->cams[i].seg->path;
	return busy;
}

static int64_t run_retention(struct writer *w, int64_t need_bytes)
{
	size_t n_busy;
	const char **busy = busy_paths(w, &n_busy);
	int64_t freed = retention_run(w->cfg, clock_wall_us(w->clock), busy, n_busy, need_bytes);

	free(busy);
	w->last_retention_us = clock_monotonic_us(w->clock);
	return freed;
}

static void close_segment(struct writer *w, int cam)
{
	struct cam_state *cs = &w->cams[cam];

	if (!cs->seg)
		return;
	log_debug(w->cfg->cameras[cam].name, "segment %s closed: %.3f s, %llu bytes",
		  cs->seg->path, (cs->seg->end_media_us - cs->seg->start_media_us) / 1e6,
		  (unsigned long long)cs->seg->size);
	cs->rows[0].end_us = cs->seg->start_wall_us + cs->seg->end_media_us - cs->seg->start_media_us;
	segment_close(cs->seg);
	cs->seg = NULL;
	show(cs);
	if (clock_monotonic_us(w->clock) - w->last_retention_us >= RETENTION_INTERVAL_US)
		run_retention(w, 0);
}

/* After a write failed for lack of space: frees some (about need bytes) and
 * says whether it is worth trying once more. */
static bool made_room(struct writer *w, int ret, int64_t need)
{
	return (ret == -ENOSPC || ret == -EDQUOT) && run_retention(w, need) > 0;
}

/* Whether f, appended to seg, would make it due for a cut: long enough,
 * or of another day (a segment never spans midnight but by a GOP). */
static bool is_due(struct writer *w, const struct segment *seg, const struct fragment *f)
{
	char seg_date[STORE_DATE_LEN], frag_date[STORE_DATE_LEN];

	if (f->media_us - seg->start_media_us >= (int64_t)w->cfg->segment_seconds * 1000000)
		return true;
	/* Each day folder holds its own day. */
	store_date_name(seg->start_wall_us, seg_date);
	store_date_name(f->wall_us, frag_date);
	return strcmp(seg_date, frag_date) != 0;
}

enum cut { CUT_NONE, CUT_AT_KEYFRAME, CUT_WITHOUT_KEYFRAME };

/* Where camera cs's segment ends: before f if f is a keyframe and the
 * segment is due; before f too, without a keyframe, once it has waited
 * KEYFRAME_WAIT_US for one or grown past SEGMENT_MAX_BYTES. */
static enum cut cut_before(struct writer *w, struct cam_state *cs, const struct fragment *f)
{
	int64_t wait = 3 * cs->gop_us;

	wait = wait < KEYFRAME_WAIT_US ? KEYFRAME_WAIT_US :
	       wait > KEYFRAME_WAIT_MAX_US ? KEYFRAME_WAIT_MAX_US : wait;
	if (cs->due_waited_us < 0 && is_due(w, cs->seg, f))
		cs->due_waited_us = 0;
	if (cs->due_waited_us >= 0 && f->keyframe)
		return CUT_AT_KEYFRAME;
	if (cs->due_waited_us >= wait || cs->seg->size + f->size > SEGMENT_MAX_BYTES)
		return f->keyframe ? CUT_AT_KEYFRAME : CUT_WITHOUT_KEYFRAME;
	if (cs->due_waited_us >= 0)
		cs->due_waited_us += f->duration_us;
	return CUT_NONE;
}

/* Keeps the camera's GOP length, which sets how long a cut waits. */
static void count_gop(struct cam_state *cs, const struct fragment *f)
{
	if (f->keyframe) {
		if (cs->since_key_us > 0)
			cs->gop_us = cs->since_key_us;
		cs->since_key_us = 0;
	}
	cs->since_key_us += f->duration_us;
}

static void write_media(struct writer *w, int cam, struct fragment *f)
{
	struct cam_state *cs = &w->cams[cam];
	const char *name = w->cfg->cameras[cam].name;
	/* At ENOSPC, free about one segment's worth: enough to go on, without
	 * emptying a small disk. */
	int64_t need = (int64_t)f->size + (cs->seg ? (int64_t)cs->seg->size : (1 << 20));
	int ret;

	enum cut cut = cs->seg ? cut_before(w, cs, f) : CUT_NONE;

	if (cut == CUT_WITHOUT_KEYFRAME) {
		log_warning(name, "no keyframe for %.0f s: %s cut at %llu bytes; recording "
			    "resumes at the next keyframe",
			    cs->since_key_us / 1e6, cs->seg->path,
			    (unsigned long long)cs->seg->size);
		cs->cut_wall_us = f->wall_us;
	}
	count_gop(cs, f);
	if (cut != CUT_NONE)
		close_segment(w, cam);
	if (!cs->seg) {
		if (!f->keyframe || !cs->init)
			return;   /* a segment must start decodable */
		ret = segment_open(&cs->seg, w->cfg->store, name, cs->init, f);
		if (made_room(w, ret, need) || made_fds(w, ret))
			ret = segment_open(&cs->seg, w->cfg->store, name, cs->init, f);
		if (w->spare_fd < 0)
			w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (ret < 0) {
			/* Once per error: a segment is tried at every keyframe. */
			if (ret != cs->failing)
				log_error(name, "cannot start a segment in %s: %s", w->cfg->store,
					  strerror(-ret));
			cs->failing = ret;
			show_error(w, cs, ret);
			return;
		}
		if (cs->failing)
			log_notice(name, "recording again to %s", cs->seg->path);
		if (cs->cut_wall_us)
			log_notice(name, "a keyframe at last: recording resumes; %.1f s not recorded",
				   (f->wall_us - cs->cut_wall_us) / 1e6);
		cs->failing = 0;
		cs->cut_wall_us = 0;
		cs->due_waited_us = -1;
		log_debug(name, "recording to %s from %.3f", cs->seg->path, f->wall_us / 1e6);
		show(cs);
		cs->rows[1] = cs->rows[0];
		snprintf(cs->rows[0].path, sizeof(cs->rows[0].path), "%s", cs->seg->path);
		cs->rows[0].first_us = cs->seg->start_wall_us - cs->seg->start_wall_us % 1000000;
		cs->rows[0].end_us = 0;
		pthread_mutex_lock(&w->on_segment_lock);
		if (w->on_segment)
			w->on_segment(cam, cs->seg->path, w->on_segment_opaque);
		pthread_mutex_unlock(&w->on_segment_lock);
		return;
	}
	ret = segment_append(cs->seg, f);
	if (made_room(w, ret, need))
		ret = segment_append(cs->seg, f);
	if (ret == 0) {   /* once per frame: the path is shown already */
		pthread_mutex_lock(&cs->shown_lock);
		cs->shown_size = cs->seg->size;
		pthread_mutex_unlock(&cs->shown_lock);
	}
	if (ret < 0) {
		log_error(name, "cannot write %s: %s; starting a new segment at the next keyframe",
			  cs->seg->path, strerror(-ret));
		show_error(w, cs, ret);
		close_segment(w, cam);
	}
}

/* A motion-score row goes to the sidecar of the segment its second is in;
 * a second with no footage has no row. */
static void write_score(struct writer *w, int cam, int64_t second_us, int score)
{
	for (int i = 0; i < 2; i++) {
		const struct row_target *t = &w->cams[cam].rows[i];
		int ret;

		if (!t->path[0] || second_us < t->first_us || (t->end_us && second_us >= t->end_us))
			continue;
		ret = sidecar_append(t->path, second_us, score);
		if (ret < 0 && ret != -ENOENT)
			log_warning(w->cfg->cameras[cam].name, "cannot add to the sidecar of %s: %s",
				    t->path, strerror(-ret));
		return;
	}
}

static void handle(struct writer *w, struct item *it)
{
	struct cam_state *cs = &w->cams[it->cam];

	if (atomic_exchange(&cs->dropped, false)) {
		close_segment(w, it->cam);
		log_notice(w->cfg->cameras[it->cam].name, "writer caught up; recording resumes");
	}
	if (!it->frag && it->second_us >= 0) {
		write_score(w, it->cam, it->second_us, it->score);
		return;
	}
	if (!it->frag) {
		close_segment(w, it->cam);
		return;
	}
	if (it->frag->kind == FRAGMENT_INIT) {
		/* A new session or new codec parameters: a new file. */
		close_segment(w, it->cam);
		fragment_unref(&cs->init);
		cs->init = it->frag;
		return;
	}
	write_media(w, it->cam, it->frag);
	fragment_unref(&it->frag);
}

static void sync_all(struct writer *w)
{
	for (int i = 0; i < w->cfg->n_cameras; i++) {
		int ret = w->cams[i].seg ? segment_sync(w->cams[i].seg) : 0;

		if (ret < 0) {
			log_error(w->cfg->cameras[i].name, "fdatasync %s: %s",
				  w->cams[i].seg->path, strerror(-ret));
			show_error(w, &w->cams[i], ret);
		}
	}
	w->last_sync_us = clock_monotonic_us(w->clock);
}

/* Takes up to max queued items in order. Caller holds w->lock. */
static size_t take_batch(struct writer *w, struct item *batch, size_t max)
{
	size_t n = 0;

	while (w->count > 0 && n < max) {
		batch[n] = w->ring[w->head];
		w->head = (w->head + 1) % QUEUE_ITEMS;
		w->count--;
		w->bytes -= batch[n].frag ? batch[n].frag->size : 0;
		n++;
	}
	return n;
}

/* Event days past events_retain_days, for every camera (also one that
 * does not score motion or is offline: uploads still arrive): at start,
 * then hourly. */
static void expire_events(struct writer *w)
{
	int64_t now = clock_monotonic_us(w->clock);

	if (now - w->last_events_expiry_us < EVENTS_EXPIRY_INTERVAL_US)
		return;
	w->last_events_expiry_us = now;
	for (int i = 0; i < w->cfg->n_cameras; i++)
		events_expire(w->cfg->store, w->cfg->cameras[i].name,
			      config_camera_events_retain_days(w->cfg, &w->cfg->cameras[i]),
			      clock_wall_us(w->clock));
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct item batch[256];
	bool stopping;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		if (w->count == 0 && w->stop)
			break;
		atomic_store(&w->turn_us, clock_monotonic_us(w->clock));
		if (w->wedge_at_us && atomic_load(&w->turn_us) >= w->wedge_at_us) {
			log_warning("writer", "CAMFS_TEST_WEDGE_WRITER: hanging, as on a hung disk");
			while (!w->stop)
				pthread_cond_wait(&w->cond, &w->lock);
		}
		if (!w->stop) {
			struct timespec ts = deadline_after_us(DRAIN_INTERVAL_US);

			pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		}
		do {
			size_t n = take_batch(w, batch, sizeof(batch) / sizeof(batch[0]));

			stopping = w->stop;
			pthread_mutex_unlock(&w->lock);
			for (size_t i = 0; i < n; i++)
				handle(w, &batch[i]);
			pthread_mutex_lock(&w->lock);
		} while (w->count > 0 && !stopping);
		if (clock_monotonic_us(w->clock) - w->last_sync_us >= SYNC_INTERVAL_US) {
			pthread_mutex_unlock(&w->lock);
			sync_all(w);
			expire_events(w);
			pthread_mutex_lock(&w->lock);
		}
	}
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->cfg->n_cameras; i++)
		close_segment(w, i);
	return NULL;
}

int writer_start(struct writer *w)
{
	int ret;

	w->last_sync_us = clock_monotonic_us(w->clock);
	atomic_store(&w->turn_us, w->last_sync_us);
	if (getenv("CAMFS_TEST_WEDGE_WRITER"))
		w->wedge_at_us = w->last_sync_us + atoll(getenv("CAMFS_TEST_WEDGE_WRITER")) * 1000000;
	/* Event days are due at the first sync, then hourly. */
	w->last_events_expiry_us = w->last_sync_us - EVENTS_EXPIRY_INTERVAL_US;
	ret = pthread_create(&w->thread, NULL, writer_main, w);
	if (ret)
		return -ret;
	pthread_setname_np(w->thread, "camfs-writer");
	w->running = true;
	return 0;
}

bool writer_alive(struct writer *w, int64_t now_us)
{
	return !w->running || now_us - atomic_load(&w->turn_us) <= WRITER_STUCK_US;
}

void writer_stop(struct writer *w)
{
	if (!w->running)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->running = false;
}

void writer_free(struct writer *w)
{
	if (!w)
		return;
	writer_stop(w);
	while (w->count > 0) {
		fragment_unref(&w->ring[w->head].frag);
		w->head = (w->head + 1) % QUEUE_ITEMS;
		w->count--;
	}
	for (int i = 0; i < w->cfg->n_cameras; i++) {
		segment_close(w->cams[i].seg);
		fragment_unref(&w->cams[i].init);
	}
	for (int i = 0; i < w->cfg->n_cameras; i++)
		pthread_mutex_destroy(&w->cams[i].shown_lock);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->on_segment_lock);
	pthread_cond_destroy(&w->cond);
	if (w->spare_fd >= 0)
		close(w->spare_fd);
	free(w->cams);
	free(w);
}
