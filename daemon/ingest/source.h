/* source.h - the packet source seam: where a camera's compressed packets come
 * from (RTSP or a file through libavformat, the built-in demo encoder, or a
 * test's replay). The recorder only ever sees this interface. */
#ifndef CAMFS_SOURCE_H
#define CAMFS_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <libavcodec/avcodec.h>

struct clock;
struct stop;

/* Packets come out with stream_index SOURCE_VIDEO or SOURCE_AUDIO, timestamps
 * in that stream's time_base, dts set and increasing. */
enum { SOURCE_VIDEO = 0, SOURCE_AUDIO = 1 };

struct source_stream {
	AVCodecParameters *par;  /* owned by the source; NULL: no such stream */
	AVRational time_base;
};

struct source_opts {
	const char *url;          /* rtsp://, a file path, or demo:<pattern> */
	bool udp;                 /* RTSP over UDP instead of TCP */
	int64_t timeout_us;       /* an open or a read that waits longer fails */
	bool realtime;            /* files: pace packets at their timestamps */
	struct stop *stop;        /* raised: the pending open/read returns AVERROR_EXIT;
	                           * NULL: never */
	const struct clock *clock;
	const char *tag;          /* camera name for log lines */
};

struct source;

struct source_ops {
	const char *name;
	int (*open)(struct source *src, const struct source_opts *opts);
	int (*read)(struct source *src, AVPacket *pkt);
	void (*close)(struct source *src);
};

struct source {
	const struct source_ops *ops;
	void *priv;
	struct source_stream video, audio;
	const struct source_opts *opts;
};

/* Whether two stream descriptions are the same stream for a decoder:
 * codec, size and extradata (SPS/PPS). */
static inline bool source_same_stream(const AVCodecParameters *a, const AVCodecParameters *b)
{
	return a->codec_id == b->codec_id && a->width == b->width && a->height == b->height &&
	       a->extradata_size == b->extradata_size &&
	       (!a->extradata_size || !memcmp(a->extradata, b->extradata, a->extradata_size));
}

/* Picks the implementation from the URL and opens it. On success *out is a
 * source the caller frees with source_close(). Errors: negative AVERROR. */
int source_open(struct source **out, const struct source_opts *opts);
/* Next packet into pkt (caller-owned, unref'd by the caller). 0, AVERROR_EOF,
 * AVERROR_EXIT when stopped, or another negative AVERROR. */
int source_read(struct source *src, AVPacket *pkt);
/* Accepts NULL and half-opened sources. */
void source_close(struct source *src);

/* Implementations. */
extern const struct source_ops source_ops_av;    /* source.c */
extern const struct source_ops source_ops_demo;  /* demo.c */

#endif
