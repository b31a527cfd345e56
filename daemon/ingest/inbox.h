/* inbox.h - how a push source gets its packets: the thread that receives
 * them (a WebSocket connection, an HTTP upload) puts them in, and the
 * source's read takes them out, waiting no longer than the feed's deadline
 * and waking at once on the feed's stop token. A bounded queue. */
#ifndef CAMFS_INBOX_H
#define CAMFS_INBOX_H

#include <stddef.h>
#include <stdint.h>
#include <libavcodec/avcodec.h>

struct inbox;
struct stop;

/* Holds at most max_packets; stop (may be NULL) wakes a waiting take. 0 or
 * negative errno. */
int inbox_new(struct inbox **out, size_t max_packets, struct stop *stop);
/* No thread may use it any more. Accepts NULL. */
void inbox_free(struct inbox *q);

/* Producer: queues a new reference to pkt. -ENOBUFS when full: the packet
 * is not taken, and the inbox ends with AVERROR(ENOBUFS) after what it
 * holds (a gap in the packets would break decoding until a keyframe, so
 * the session starts again). -EPIPE once ended. */
int inbox_put(struct inbox *q, const AVPacket *pkt);
/* Producer: the connection is over; after the queued packets, takes
 * return err (a negative AVERROR, e.g. AVERROR_EOF). The first end wins. */
void inbox_end(struct inbox *q, int err);

/* Consumer: a new session: what is queued is dropped and the end is
 * forgotten, so puts are taken again. */
void inbox_restart(struct inbox *q);

/* Consumer: moves the oldest packet into pkt, waiting until deadline_us
 * (CLOCK_MONOTONIC µs). 0, AVERROR(ETIMEDOUT), AVERROR_EXIT on a stop, or
 * the end's error. */
int inbox_take(struct inbox *q, AVPacket *pkt, int64_t deadline_us);

#endif
