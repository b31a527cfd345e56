/* detector.h - a camera's motion detector: scores its video packets
 * (motion.h), sends each second's score to the writer for the sidecars, and
 * turns motion events into a snapshot, a span (events.h) and on_event hook
 * runs (hook.h). */
#ifndef CAMFS_DETECTOR_H
#define CAMFS_DETECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <libavcodec/avcodec.h>

struct config;
struct events;
struct hook;
struct writer;

struct detector_opts {
	const struct config *cfg;
	int cam;                   /* index in cfg->cameras, and for the writer */
	struct writer *writer;
	struct events *events;     /* the camera's event store */
	struct hook *hook;         /* NULL: no on_event */
	const char *mountpoint;    /* for the clip path given to the hook; NULL: none */
};

struct detector;

/* A detector for camera opts->cam with its configured method; motion = off
 * gives *out = NULL and 0 (every call below accepts NULL). 0, -EINVAL for
 * a setting the scorer refuses, -ENOMEM. opts' pointers must outlive it. */
int detector_new(struct detector **out, const struct detector_opts *opts);
void detector_free(struct detector *d);   /* accepts NULL */

/* A video packet of the stream motion is scored on, received at wall_us.
 * Called by one thread at a time. */
void detector_packet(struct detector *d, const AVCodecParameters *par, const AVPacket *pkt,
		     int64_t wall_us);
/* A keyframe of the recorded stream: an event's snapshot is taken from the
 * first keyframe at or after its start (kept for a few seconds, since an
 * event is known only min_seconds after it starts). Thread-safe. */
void detector_keyframe(struct detector *d, const AVCodecParameters *par, const AVPacket *pkt,
		       int64_t wall_us);
/* The scored stream ended: the last second is reported, an open event ends. */
void detector_finish(struct detector *d);

/* The last second's score (0..100), -1 if none yet or off. Thread-safe. */
int detector_last_score(const struct detector *d);
/* Whether a motion event is open. Thread-safe. */
bool detector_in_event(const struct detector *d);

#endif
