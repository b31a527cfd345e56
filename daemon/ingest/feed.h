/* feed.h - a source kept connected: the one loop that opens a source with a
 * deadline, reads it until it stalls or fails, backs off with jitter and
 * tries again, until its stop token is raised. Pull sources (RTSP, files,
 * the demo) and push sources (packets handed over by a connection thread)
 * plug in alike through source.h; what the packets are for is the
 * consumer's business (the recorded stream, the motion substream). */
#ifndef CAMFS_FEED_H
#define CAMFS_FEED_H

#include <stdbool.h>
#include <stdint.h>
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>

#include "ingest/source.h"

struct feed;

/* end()'s err when the source's timestamps jumped: the session's timeline
 * ends and start() begins a new one on the same connection. */
#define FEED_NEW_TIMELINE FFERRTAG('T', 'I', 'M', 'E')

/* Called on the feed's thread, one session at a time: start, then packets,
 * then end. */
struct feed_consumer {
	/* A session opened; src's streams are known. A negative AVERROR ends
	 * it at once (reported as "cannot record this stream"). */
	int (*start)(void *opaque, const struct source *src);
	/* The session's next packet, received at wall_us (the clock seam), its
	 * dts increasing per stream (a step back within a second is nudged to
	 * one tick on; a bigger jump starts a new timeline, see
	 * FEED_NEW_TIMELINE) and pts not before dts. The callee may take its
	 * data. A negative AVERROR ends the session: AVERROR(EAGAIN) to start
	 * a new one at once, unreported (new codec parameters); anything else
	 * is reported and backed off. */
	int (*packet)(void *opaque, const struct source *src, AVPacket *pkt, int64_t wall_us);
	/* The session start() opened is over (err: why; AVERROR_EXIT on stop). */
	void (*end)(void *opaque, const struct source *src, int err);
	/* The connection delivered its first video keyframe: footage again.
	 * Called before that packet's packet(). */
	void (*online)(void *opaque, const struct source *src);
	/* The source is not delivering: reason is short and credential-free
	 * ("stalled: no answer in time"). repeated: the same reason as the last
	 * one reported since footage last came, so a log line would repeat.
	 * Never called for a stop. */
	void (*offline)(void *opaque, const char *reason, bool repeated);
};

struct feed_opts {
	/* What to open; stop is required and ends the feed. The pointers in it
	 * must outlive the feed. timeout_us is the stall deadline. */
	struct source_opts source;
	const char *thread;       /* thread name, at most 15 characters; read at start */
	/* Delays after failed sessions double from min to max, +/-20% jitter;
	 * 0: 1 s and 30 s. */
	int64_t backoff_min_us, backoff_max_us;
};

/* Whether the feed's thread came by its loop lately enough for a feed that
 * works (now_us on the source clock's monotonic time): an open of a few
 * steps, each with its own deadline, a read, then the longest backoff. Always
 * true when the source has no deadline. For the service watchdog. */
bool feed_alive(struct feed *f, int64_t now_us);

/* Starts the feed's thread. 0 or negative errno. */
int feed_start(struct feed **out, const struct feed_opts *opts,
	       const struct feed_consumer *consumer, void *opaque);
/* Joins the thread, which ends once opts->source.stop is raised. Accepts
 * NULL. */
void feed_free(struct feed *f);

#endif
