/* motion.h - a camera's motion score, one per wall-clock second, and motion
 * events derived from it; fed one call per video packet by the camera thread. */
#ifndef CAMFS_MOTION_H
#define CAMFS_MOTION_H

#include <stdbool.h>
#include <stdint.h>
#include <libavcodec/avcodec.h>

/* How a score is made.
 *
 * MOTION_BITRATE decodes nothing; a packet costs two additions. Keyframes
 * are left out entirely (they are always large). At the end of each second
 * the mean size of its non-key frames is compared with the rolling mean of
 * that value over the last `window` seconds: ratio r = size / mean scores
 * 50 * (r - 1) / (sensitivity - 1), clamped to 0..100, so r = sensitivity
 * scores 50 and r = 2 * sensitivity - 1 scores 100. Seconds, not single
 * frames, are compared because in a still scene single P-frames vary by
 * 10x or more (an encoder refining after each keyframe, an on-screen clock
 * ticking once a second), which a per-frame rule mistakes for motion. The
 * mean learns every second scoring below 50 but only one in
 * MOTION_BITRATE_LEARN of the others, so a long movement keeps scoring
 * while a lasting change of scene (rain, night noise) is still learnt,
 * over about window * MOTION_BITRATE_LEARN seconds. The first
 * MOTION_BITRATE_WARMUP seconds with non-key frames score 0 (nothing to
 * compare with yet), so does a second with keyframes only. Limitation: a
 * GOP longer than a second makes the seconds holding a keyframe's first
 * refinement frames somewhat larger; keep sensitivity above that.
 *
 * MOTION_PIXELS decodes keyframes only (libavcodec, one thread), scales
 * the picture to MOTION_PIXELS_W x MOTION_PIXELS_H grey (libswscale) and
 * compares it with a background kept as a running average of keyframes
 * (each keyframe moves it 1/MOTION_PIXELS_LEARN of the way). The keyframe's
 * score is the changed share of the picture: the percentage of pixels whose
 * grey level differs from the background by more than pixel_threshold and
 * that lie in a blob (MOTION_PIXELS_NEIGHBOURS of 8 neighbours changed
 * too, which drops thin changes such as an on-screen clock), rounded to
 * the nearest percent (so changes under 0.5% of the picture score 0). The first keyframe (and
 * the first after the stream's size or codec changes) only seeds the
 * background and scores 0. A second's score is the highest keyframe score
 * in it; a second without a keyframe but with packets repeats the last
 * keyframe's score, since keyframes come only every GOP.
 *
 * With frame_fps > 0 (a low-resolution substream, motion_url), MOTION_PIXELS
 * decodes every frame instead, and scores at most frame_fps of them per
 * second, the same way as keyframes above. */
enum motion_method {
	MOTION_BITRATE,
	MOTION_PIXELS,
};

#define MOTION_BITRATE_WINDOW_MAX 1024
#define MOTION_BITRATE_WARMUP 3
#define MOTION_BITRATE_LEARN 8
#define MOTION_PIXELS_W 64
#define MOTION_PIXELS_H 36
#define MOTION_PIXELS_LEARN 4
#define MOTION_PIXELS_NEIGHBOURS 4
/* A wall-clock jump forward of more than this many seconds between packets
 * is not filled with rows: the seconds in between are skipped unreported
 * (and an open event ends at the last reported second's end). */
#define MOTION_MAX_GAP_S 3600

/* Called once for every whole wall-clock second, in order, without gaps
 * (but see MOTION_MAX_GAP_S): second_start_us is a multiple of 1 000 000.
 * A second in which no packet came scores 0. */
typedef void motion_score_fn(int64_t second_start_us, int score, void *opaque);
/* An event starts (start = true) at the first second of the run of
 * min_seconds scores >= threshold; it ends (start = false) at the start of
 * the first of end_seconds scores below threshold in a row, i.e. the end
 * of the last second with motion. Always start, end, start, end, ... */
typedef void motion_event_fn(bool start, int64_t wall_us, void *opaque);

struct motion_opts {
	enum motion_method method;
	double sensitivity;    /* bitrate: factor over the mean; 0: 1.5 */
	int window;            /* bitrate: seconds in the mean, 1..MAX; 0: 30 */
	int pixel_threshold;   /* pixels: grey difference 1..255; 0: 25 */
	int frame_fps;         /* pixels: 0: keyframes only; N: every frame decoded, N scored a second */
	int threshold;         /* event: score 1..100; 0: 50 (bitrate), 2 (pixels) */
	int min_seconds;       /* event: seconds >= threshold to start; 0: 2 */
	int end_seconds;       /* event: seconds below threshold to end; 0: 5 */
	motion_score_fn *on_score;   /* NULL: not told */
	motion_event_fn *on_event;   /* NULL: not told */
	void *opaque;                /* passed to both */
	const char *tag;             /* camera name for log lines; NULL: "motion" */
};

struct motion;

/* A scorer with opts copied (tag must outlive it). 0, -EINVAL for an
 * option out of range, -ENOMEM. *out is freed with motion_free(). */
int motion_new(struct motion **out, const struct motion_opts *opts);
/* Accepts NULL and half-built scorers. Calls no callback: an open event
 * stays open unless motion_finish() was called first. */
void motion_free(struct motion *m);

/* One video packet (pkt is only read, never kept), received at wall_us.
 * par describes its stream; MOTION_BITRATE ignores it (may be NULL),
 * MOTION_PIXELS needs it for keyframes and notices when it changes. First
 * reports, through the callbacks, every whole second before wall_us's
 * second that is not yet reported. A wall_us earlier than the second being
 * collected (clock stepped back) counts into that second. Returns 0, or a
 * negative AVERROR when a keyframe could not be decoded (that keyframe
 * scores nothing, the background is kept; the next call may succeed).
 * Not thread-safe: one camera thread owns a scorer. */
int motion_packet(struct motion *m, const AVCodecParameters *par, const AVPacket *pkt,
		  int64_t wall_us);

/* Reports every whole second before wall_us's second, as motion_packet
 * does, without a packet: for a camera thread whose stream has stalled,
 * so the rows keep coming (scoring 0). */
void motion_advance(struct motion *m, int64_t wall_us);

/* End of stream: reports the second being collected (even though it is
 * not over) and ends an open event at that second's end. The scorer can be
 * fed again afterwards, starting afresh at the next packet's second. */
void motion_finish(struct motion *m);

/* Whether an event is open now. */
bool motion_in_event(const struct motion *m);

#endif
