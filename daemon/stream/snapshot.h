/* snapshot.h - a camera's newest keyframe as a JPEG, for live.jpg: the camera
 * thread hands over each keyframe packet (cheap, a reference), and a JPEG is
 * encoded only when someone asks, at most once per keyframe. */
#ifndef CAMFS_SNAPSHOT_H
#define CAMFS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libavcodec/avcodec.h>

struct snapshot;

/* A refcounted, immutable JPEG: the same bytes for as long as it is held. */
struct snapshot_jpeg {
	AVBufferRef *buf;      /* holder's reference; av_buffer_unref to drop */
	const uint8_t *data;
	size_t size;
	int width, height;
	bool own;              /* the camera's own JPEG (MJPEG), not encoded here */
};

int snapshot_new(struct snapshot **out);
void snapshot_free(struct snapshot *s);   /* accepts NULL */

/* Camera thread: pkt is a keyframe of a stream described by par (H.264,
 * H.265, or MJPEG, whose pictures are JPEGs already). Takes a new reference
 * to pkt's data and copies par only when it changed. Thread-safe. 0 or
 * negative AVERROR. */
int snapshot_update(struct snapshot *s, const AVCodecParameters *par, const AVPacket *pkt);

/* The newest keyframe as JPEG: an MJPEG camera's own bytes, else encoded
 * now if it was not yet. Fills *out with a new reference the caller drops
 * with av_buffer_unref(&out->buf).
 * -EAGAIN if no keyframe has come yet. Thread-safe; concurrent callers for
 * the same keyframe share one encode. */
int snapshot_get_jpeg(struct snapshot *s, struct snapshot_jpeg *out);

#endif
