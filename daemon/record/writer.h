/* writer.h - the one writer thread: takes every camera's fragments from a
 * bounded queue, cuts them into segment files, syncs them about once a
 * second and runs retention when a segment closes or the disk is full. */
#ifndef CAMFS_WRITER_H
#define CAMFS_WRITER_H

#include <stdbool.h>
#include <stdint.h>

struct clock;
struct config;
struct fragment;
struct writer;

/* cfg must outlive the writer; camera i of cfg is addressed as i below. */
int writer_new(struct writer **out, const struct config *cfg, const struct clock *clock);
int writer_start(struct writer *w);
/* Queues frag for camera cam and takes the caller's reference. Never
 * blocks: past the queue's limit the fragment is dropped, counted, and that
 * camera's recording resumes in a new segment at its next keyframe.
 * Thread-safe. */
void writer_push(struct writer *w, int cam, struct fragment *frag);
/* The camera's session ended (connection lost, stopping): its current
 * segment is closed once what was queued before is written. Thread-safe. */
void writer_end_session(struct writer *w, int cam);
/* The motion score of the second starting at second_us: a row in the
 * sidecar of the segment that second is in (see sidecar.h), written in
 * order with the camera's fragments. Never blocks; thread-safe. */
void writer_push_score(struct writer *w, int cam, int64_t second_us, int score);
/* The committed size (whole fragments written) of the segment camera cam
 * is writing, if that is path; -1 if path is not being written. Thread-safe. */
int64_t writer_committed_size(struct writer *w, int cam, const char *path);
/* Called on the writer thread whenever camera cam starts a segment at path
 * (so a mounted tree can drop cached listings). May be set or cleared at
 * any time: once writer_on_segment returns, no call of the old fn is in
 * progress, so its opaque may be freed. */
typedef void writer_segment_fn(int cam, const char *path, void *opaque);
void writer_on_segment(struct writer *w, writer_segment_fn *fn, void *opaque);
/* Writes everything queued, closes every segment and joins the thread. */
/* What the writer is doing for camera cam, for status: whether a segment
 * is open, and its last failure to write (0 if none yet) and when. */
struct writer_state {
	bool recording;
	int error;               /* negative errno */
	int64_t error_wall_us;
};
void writer_state(struct writer *w, int cam, struct writer_state *out);

/* Whether the writer's thread went round its loop (at least every 50 ms
 * when well) in the last WRITER_STUCK_US: a write or sync that blocks
 * longer (a hung disk or network store) counts as stuck. True when not
 * running. now_us: monotonic, the writer's clock. */
#define WRITER_STUCK_US 20000000
bool writer_alive(struct writer *w, int64_t now_us);

void writer_stop(struct writer *w);
/* Accepts NULL; stops first if still running. */
void writer_free(struct writer *w);

#endif
