/* camera.h - one camera: its feed (one connection to the source, kept up by
 * ingest/feed.c) muxes the packets once and hands the fragments on to live
 * readers and the writer; keeps the camera's status, motion and events. */
#ifndef CAMFS_CAMERA_H
#define CAMFS_CAMERA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ingest/source.h"
#include "util/stop.h"

struct camera_config;
struct clock;
struct config;
struct detector;
struct events;
struct feed;
struct fragmenter;
struct hook;
struct hub;
struct snapshot;
struct substream;
struct writer;

#define CAMERA_REASON_MAX 160

/* A copy of what status.json shows; never holds a credential. */
struct camera_status {
	bool online;
	char codec[16];            /* "h264", "hevc" */
	int width, height;
	double fps;
	int64_t bitrate;           /* bits/s over the last few seconds */
	int64_t since_us;          /* wall time of the last online/offline change */
	int reconnects;
	char last_error[CAMERA_REASON_MAX];
	int motion_score;          /* the last second's, 0..100; -1: none (off) */
	bool in_event;             /* a motion event is open */
};

struct camera {
	const struct config *cfg;
	int index;                 /* in cfg->cameras, and for the writer */
	const struct camera_config *conf;
	struct writer *writer;
	struct hub *hub;           /* live readers; owned */
	struct snapshot *snapshot; /* newest keyframe for live.jpg; owned */
	const struct clock *clock;
	struct events *events;     /* its event store; owned */
	struct hook *hook;         /* on_event; NULL: none. Set before camera_start */
	const char *mountpoint;    /* for the hook's clip paths; NULL: not mounted */
	struct detector *detector; /* made by camera_start; NULL: motion = off; owned */
	struct substream *substream; /* feeds detector when motion_url is set; owned */
	struct source_opts main_opts, sub_opts;  /* what the feeds open */
	struct feed *feed;         /* the recorded stream; NULL until started */
	struct stop stop;          /* the camera's and its substream's */
	pthread_mutex_t lock;
	struct camera_status status;   /* guarded by lock */
	/* Feed thread only: the session being recorded, and the timeline. */
	struct fragmenter *frag;
	int64_t window_start_us, window_bytes, window_frames;
	uint32_t generation;
	int64_t media_end_us;      /* end of the last fragment */
	int64_t media_end_wall_us; /* when that was */
};

int camera_new(struct camera **out, const struct config *cfg, int index,
	       struct writer *writer, const struct clock *clock);
/* Makes the motion detector (with cam->hook and cam->mountpoint as they
 * are now) and starts the thread. */
int camera_start(struct camera *cam);
/* Asks the thread (and its motion substream's) to stop; returns at once. */
void camera_request_stop(struct camera *cam);
/* Stops (if needed) and joins; accepts NULL. */
void camera_free(struct camera *cam);
void camera_get_status(struct camera *cam, struct camera_status *out);

/* What the tree and its exports read of a camera; owned by the camera. */
struct hub *camera_hub(struct camera *cam);
struct snapshot *camera_snapshot(struct camera *cam);
struct events *camera_events(struct camera *cam);

#endif
