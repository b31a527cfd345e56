/* camera.h - one camera: its feed (one connection to the source, kept up by
 * ingest/feed.c) muxes the packets once and hands the fragments on to live
 * readers and the writer; keeps the camera's status, motion and events. */
#ifndef CAMFS_CAMERA_H
#define CAMFS_CAMERA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct camera;
struct clock;
struct config;
struct events;
struct hook;
struct hub;
struct pushslot;
struct snapshot;
struct writer;

#define CAMERA_REASON_MAX 160

/* A copy of what status.json shows; never holds a credential. */
struct camera_status {
	bool online;
	char codec[16];            /* "h264", "hevc" */
	int width, height;
	double fps;
	int64_t bitrate;           /* bits/s over the last few seconds */
	int64_t since_us;          /* online: since footage came; offline: since it stopped */
	int reconnects;            /* connections after the first that delivered footage */
	char last_error[CAMERA_REASON_MAX];
	int motion_score;          /* the last second's, 0..100; -1: none (off) */
	bool in_event;             /* a motion event is open */
};

int camera_new(struct camera **out, const struct config *cfg, int index,
	       struct writer *writer, const struct clock *clock);
/* Makes the motion detector, whose events run hook (NULL: none) with clip
 * paths under mountpoint (NULL: not mounted; must outlive the camera), and
 * starts the feeds: the recorded stream, and the motion substream if
 * motion_url is set. */
int camera_start(struct camera *cam, struct hook *hook, const char *mountpoint);
/* Raises the camera's stop token, which ends both its feeds; returns at
 * once. */
void camera_request_stop(struct camera *cam);
/* Stops (if needed) and joins; accepts NULL. */
void camera_free(struct camera *cam);
void camera_get_status(struct camera *cam, struct camera_status *out);
/* Whether its feeds' threads go round their loops (feed_alive); true
 * before it started. now_us: monotonic, the recorder's clock. */
bool camera_alive(struct camera *cam, int64_t now_us);

/* What the tree and its exports read of a camera; owned by the camera. */
struct hub *camera_hub(struct camera *cam);
struct snapshot *camera_snapshot(struct camera *cam);
struct events *camera_events(struct camera *cam);
/* The slot its pushing device attaches to; NULL when it pulls from url. */
struct pushslot *camera_pushslot(struct camera *cam);

/* The camera's own motion detector said start (or end) at wall_us, with
 * the frame it saw then (jpeg may be NULL): a start becomes an event of
 * kind camera with that frame as its snapshot, and runs on_event. Any
 * thread. */
void camera_device_motion(struct camera *cam, bool start, int64_t wall_us, const void *jpeg,
			  size_t size);

#endif
