/* avsource.h - the libavformat source: RTSP cameras (rtsp://, rtsps://, TCP
 * or UDP) and files (replays and tests), H.264/H.265 video and AAC audio. */
#ifndef CAMFS_AVSOURCE_H
#define CAMFS_AVSOURCE_H

#include "ingest/source.h"

/* For every URL no other source claims. */
extern const struct source_ops avsource_ops;

#endif
