/* avsource.h - the libavformat source: RTSP cameras (rtsp://, rtsps://, TCP
 * or UDP), MJPEG over HTTP, files (replays and tests), and the streams
 * browsers push (MP4 or WebM from a push slot). H.264/H.265, MJPEG and
 * (from browsers) VP9 video, AAC audio. */
#ifndef CAMFS_AVSOURCE_H
#define CAMFS_AVSOURCE_H

#include "ingest/source.h"

/* A browser's MP4 stream is read for at most this long: libavformat's mp4
 * reader keeps an entry (~32 bytes) for every sample it has seen, ~20 MB
 * at 30 fps over it. The session then ends at a keyframe and the page
 * starts a new recording (a gap of its reconnect, ~2 s). WebM's reader
 * keeps a bounded index. */
#define PUSHED_MP4_MAX_US (6 * 3600 * INT64_C(1000000))

/* For every URL no other source claims. */
extern const struct source_ops avsource_ops;

#endif
