/* detector.c - motion scores to sidecars, motion events to snapshots, spans
 * and hooks. The scorer calls back on the thread that feeds it (the camera's
 * ingest); an event's start and end are handed to the detector's own thread,
 * since the snapshot's decode and JPEG encode and the files' fsyncs must not
 * hold up ingest. Keyframes for snapshots may come from another thread (the
 * main stream, when motion is scored on a substream), hence the lock. */
#include "events/detector.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "events/events.h"
#include "events/hook.h"
#include "util/log.h"
#include "events/motion.h"
#include "stream/snapshot.h"
#include "ingest/source.h"
#include "record/store.h"
#include "record/writer.h"

#define KEYFRAMES 16   /* at most this many kept, for min_seconds + KEYFRAME_SLACK_S */
/* An event is reported min_seconds after its start and a second later
 * (its last second must end first); a keyframe older than that plus a GOP
 * is never picked. 1080p keyframes are ~100 KB: keep no more. */
#define KEYFRAME_SLACK_S 4
/* A substream is decoded whole; this many of its frames a second are scored. */
#define SUBSTREAM_SCORED_FPS 5
/* Event starts and ends waiting for the detector's thread: an event lasts
 * at least min_seconds, so a few are many. */
#define JOBS 16

struct job {
	bool start;
	int64_t wall_us;
};

struct keyframe {
	AVPacket *pkt;
	int64_t wall_us;
};

struct detector {
	struct detector_opts o;
	const char *name;
	struct motion *motion;
	struct snapshot *snap;          /* encodes the chosen keyframe */
	atomic_int last_score;
	atomic_bool in_event;

	/* The detector's thread, which handles event starts and ends. */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t jobs_lock;
	pthread_cond_t jobs_cond;
	struct job jobs[JOBS];          /* guarded by jobs_lock: oldest first */
	int n_jobs;                     /* guarded by jobs_lock */
	bool stop;                      /* guarded by jobs_lock */

	/* The open event, for its end's hook run. The detector's thread only. */
	char stem[EVENTS_STEM_MAX];
	char snapshot_path[4096];
	char clip_path[4096];

	pthread_mutex_t lock;
	AVCodecParameters *par;         /* guarded by lock: of the keyframes */
	struct keyframe keys[KEYFRAMES]; /* guarded by lock: oldest first */
	int64_t keep_us;                /* how long keyframes are kept */
	int n_keys;                     /* guarded by lock */
};

static void on_score(int64_t second_us, int score, void *opaque)
{
	struct detector *d = opaque;

	atomic_store(&d->last_score, score);
	writer_push_score(d->o.writer, d->o.cam, second_us, score);
}

/* The keyframe an event starting at start_us is shown by: the first at or
 * after it, else the newest. A new reference into *out; false if none. */
static bool pick_keyframe(struct detector *d, int64_t start_us, AVPacket *out,
			  AVCodecParameters *par)
{
	int pick = -1;

	pthread_mutex_lock(&d->lock);
	for (int i = 0; i < d->n_keys && pick < 0; i++)
		if (d->keys[i].wall_us >= start_us)
			pick = i;
	if (pick < 0)
		pick = d->n_keys - 1;
	if (pick >= 0 && (av_packet_ref(out, d->keys[pick].pkt) < 0 ||
			  avcodec_parameters_copy(par, d->par) < 0))
		pick = -1;
	if (pick >= 0)
		log_debug(d->name, "motion event at %.3f: snapshot of the keyframe at %.3f (%d kept)",
			  start_us / 1e6, d->keys[pick].wall_us / 1e6, d->n_keys);
	pthread_mutex_unlock(&d->lock);
	return pick >= 0;
}

/* The JPEG of the event's keyframe: a reference in *jpeg, or false. */
static bool event_jpeg(struct detector *d, int64_t start_us, struct snapshot_jpeg *jpeg)
{
	AVPacket *pkt = av_packet_alloc();
	AVCodecParameters *par = avcodec_parameters_alloc();
	bool ok = pkt && par && pick_keyframe(d, start_us, pkt, par) &&
		  snapshot_update(d->snap, par, pkt) == 0 && snapshot_get_jpeg(d->snap, jpeg) == 0;

	av_packet_free(&pkt);
	avcodec_parameters_free(&par);
	return ok;
}

static void run_hook(struct detector *d, bool start, int64_t wall_us)
{
	struct hook_event hev = {
		.camera = d->name,
		.kind = "motion",
		.phase = start ? "start" : "end",
		.wall_us = wall_us,
		.snapshot = d->snapshot_path[0] ? d->snapshot_path : NULL,
		.clip = d->clip_path[0] ? d->clip_path : NULL,
	};

	if (d->o.hook)
		hook_run(d->o.hook, &hev);
}

static void event_started(struct detector *d, int64_t start_us)
{
	struct snapshot_jpeg jpeg = { 0 };
	bool have_jpeg = event_jpeg(d, start_us, &jpeg);
	char date[STORE_DATE_LEN];
	int ret;

	ret = events_begin(d->o.events, "motion", start_us, have_jpeg ? jpeg.data : NULL,
			   have_jpeg ? jpeg.size : 0, d->stem, d->snapshot_path);
	av_buffer_unref(&jpeg.buf);
	if (ret < 0 && ret != -ENODATA) {
		log_error(d->name, "motion event: cannot save it: %s", strerror(-ret));
		d->stem[0] = '\0';
	}
	d->clip_path[0] = '\0';
	if (d->stem[0] && d->o.mountpoint) {
		store_date_name(start_us, date);
		snprintf(d->clip_path, sizeof(d->clip_path), "%s/%s/" EVENTS_DIR "/%s/%s.mp4",
			 d->o.mountpoint, d->name, date, d->stem);
	}
	log_info(d->name, "motion event %s started%s", d->stem[0] ? d->stem : "(not saved)",
		 have_jpeg ? "" : " (no picture yet)");
	atomic_store(&d->in_event, true);
	run_hook(d, true, start_us);
}

static void event_ended(struct detector *d, int64_t wall_us)
{
	int ret = events_end(d->o.events, wall_us);

	if (ret < 0)
		log_warning(d->name, "motion event %s: cannot record its end: %s", d->stem,
			    strerror(-ret));
	log_info(d->name, "motion event %s ended", d->stem);
	atomic_store(&d->in_event, false);
	run_hook(d, false, wall_us);
}

/* The scorer's callback, on the ingest thread: queued for the detector's
 * thread. A start that finds the queue full is dropped (logged); an end
 * never is lost for good: the next start ends the open event first
 * (events_begin). */
static void on_event(bool start, int64_t wall_us, void *opaque)
{
	struct detector *d = opaque;
	bool queued;

	pthread_mutex_lock(&d->jobs_lock);
	queued = d->n_jobs < JOBS;
	if (queued) {
		d->jobs[d->n_jobs++] = (struct job){ start, wall_us };
		pthread_cond_signal(&d->jobs_cond);
	}
	pthread_mutex_unlock(&d->jobs_lock);
	if (!queued)
		log_warning(d->name, "motion event %s at %.3f dropped: events are being saved too "
			    "slowly", start ? "start" : "end", wall_us / 1e6);
}

static void *detector_main(void *arg)
{
	struct detector *d = arg;

	pthread_mutex_lock(&d->jobs_lock);
	for (;;) {
		struct job job;

		while (d->n_jobs == 0 && !d->stop)
			pthread_cond_wait(&d->jobs_cond, &d->jobs_lock);
		if (d->n_jobs == 0)
			break;   /* stopping, and every job done */
		job = d->jobs[0];
		memmove(d->jobs, d->jobs + 1, (size_t)(--d->n_jobs) * sizeof(d->jobs[0]));
		pthread_mutex_unlock(&d->jobs_lock);
		if (job.start)
			event_started(d, job.wall_us);
		else
			event_ended(d, job.wall_us);
		pthread_mutex_lock(&d->jobs_lock);
	}
	pthread_mutex_unlock(&d->jobs_lock);
	return NULL;
}

int detector_new(struct detector **out, const struct detector_opts *opts)
{
	const struct camera_config *conf = &opts->cfg->cameras[opts->cam];
	enum config_motion method = config_camera_motion(opts->cfg, conf);
	struct motion_opts mo = {
		.method = method == CONFIG_MOTION_PIXELS ? MOTION_PIXELS : MOTION_BITRATE,
		.threshold = config_camera_motion_threshold(opts->cfg, conf),
		.min_seconds = config_camera_motion_min_seconds(opts->cfg, conf),
		.frame_fps = conf->motion_url ? SUBSTREAM_SCORED_FPS : 0,
		.on_score = on_score,
		.on_event = on_event,
		.tag = conf->name,
	};
	struct detector *d;
	int ret;

	*out = NULL;
	if (method == CONFIG_MOTION_OFF)
		return 0;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->o = *opts;
	d->name = conf->name;
	atomic_init(&d->last_score, -1);
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->jobs_lock, NULL);
	pthread_cond_init(&d->jobs_cond, NULL);
	mo.opaque = d;
	d->keep_us = (int64_t)(mo.min_seconds + KEYFRAME_SLACK_S) * 1000000;
	ret = motion_new(&d->motion, &mo);
	if (ret == 0)
		ret = snapshot_new(&d->snap);
	if (ret == 0 && !(d->par = avcodec_parameters_alloc()))
		ret = -ENOMEM;
	if (ret == 0 && (ret = -pthread_create(&d->thread, NULL, detector_main, d)) == 0) {
		char name[16];

		snprintf(name, sizeof(name), "ev:%s", d->name);
		pthread_setname_np(d->thread, name);
		d->thread_started = true;
	}
	if (ret < 0)
		detector_free(d);
	else
		*out = d;
	return ret;
}

void detector_free(struct detector *d)
{
	if (!d)
		return;
	if (d->thread_started) {   /* after the events still queued */
		pthread_mutex_lock(&d->jobs_lock);
		d->stop = true;
		pthread_cond_signal(&d->jobs_cond);
		pthread_mutex_unlock(&d->jobs_lock);
		pthread_join(d->thread, NULL);
	}
	pthread_mutex_destroy(&d->jobs_lock);
	pthread_cond_destroy(&d->jobs_cond);
	motion_free(d->motion);
	snapshot_free(d->snap);
	for (int i = 0; i < d->n_keys; i++)
		av_packet_free(&d->keys[i].pkt);
	avcodec_parameters_free(&d->par);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void detector_packet(struct detector *d, const AVCodecParameters *par, const AVPacket *pkt,
		     int64_t wall_us)
{
	if (!d)
		return;
	motion_packet(d->motion, par, pkt, wall_us);
}

void detector_keyframe(struct detector *d, const AVCodecParameters *par, const AVPacket *pkt,
		       int64_t wall_us)
{
	AVPacket *ref;
	int drop = 0;

	if (!d || !(ref = av_packet_clone(pkt)))
		return;
	pthread_mutex_lock(&d->lock);
	if (!source_same_stream(d->par, par)) {   /* older keyframes no longer decode */
		drop = d->n_keys;
		if (avcodec_parameters_copy(d->par, par) < 0)
			d->par->codec_id = AV_CODEC_ID_NONE;
	}
	while (drop < d->n_keys &&
	       (d->n_keys - drop == KEYFRAMES || wall_us - d->keys[drop].wall_us > d->keep_us))
		drop++;
	for (int i = 0; i < drop; i++)
		av_packet_free(&d->keys[i].pkt);
	memmove(d->keys, d->keys + drop, (size_t)(d->n_keys - drop) * sizeof(d->keys[0]));
	d->n_keys -= drop;
	d->keys[d->n_keys++] = (struct keyframe){ ref, wall_us };
	pthread_mutex_unlock(&d->lock);
}

void detector_finish(struct detector *d)
{
	if (d)
		motion_finish(d->motion);
}

int detector_last_score(const struct detector *d)
{
	return d ? atomic_load(&d->last_score) : -1;
}

bool detector_in_event(const struct detector *d)
{
	return d && atomic_load(&d->in_event);
}
