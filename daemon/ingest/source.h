/* source.h - the packet source seam: where a camera's compressed packets come
 * from (RTSP or a file through libavformat, the built-in demo encoder, a
 * push connection through an inbox, or a test's script). The feed loop
 * (feed.h) is its only caller in the recorder. */
#ifndef CAMFS_SOURCE_H
#define CAMFS_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>

struct clock;
struct stop;

/* Packets come out with stream_index SOURCE_VIDEO or SOURCE_AUDIO, timestamps
 * in that stream's time_base, dts set (as the camera sent it: the feed keeps
 * it increasing and notices jumps). */
enum { SOURCE_VIDEO = 0, SOURCE_AUDIO = 1 };

struct source_stream {
	AVCodecParameters *par;  /* owned by the source; NULL: no such stream */
	AVRational time_base;
};

struct source_opts {
	const char *url;          /* rtsp://, a file path, or demo:<pattern> */
	bool udp;                 /* RTSP over UDP instead of TCP */
	int64_t timeout_us;       /* an open step, or a read, that waits longer than
	                           * this fails; a read's wait counts from the last
	                           * packet received. <= 0: no deadline */
	bool realtime;            /* files: pace packets at their timestamps */
	struct stop *stop;        /* raised: the pending open/read returns AVERROR_EXIT;
	                           * NULL: never */
	const struct clock *clock;
	const char *tag;          /* camera name for log lines */
	const struct source_ops *ops;  /* NULL: chosen by url; else this one */
	void *push;               /* a push source's rendezvous (pushslot.h) */
};

struct source;

/* One kind of source. A pull source reads from the network or a file; a
 * push source's packets arrive on another thread (a WebSocket connection)
 * and its read takes them from an inbox (inbox.h). Either way:
 * - open fills in video (and audio, if any) or fails, by deadline_us (it may
 *   give each step of its own a timeout anew);
 * - read waits for the next packet no later than deadline_us and returns
 *   AVERROR(ETIMEDOUT) when it passed, AVERROR_EXIT on a stop, or the
 *   source's own error; it never blocks without a deadline;
 * - close accepts a half-opened source (priv NULL or partly made). */
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
	/* Monotonic time (opts->clock) by which the pending open or read must
	 * end: set by source_open and source_read. A read's deadline is the
	 * last packet's arrival plus the timeout, not the read call's time. */
	int64_t deadline_us;
	int64_t last_packet_us;   /* source.c: when the last packet came */
	/* Set by a read whose source knows when the packet was taken by the
	 * camera's own clock (wall µs); 0: the feed uses its arrival. */
	int64_t packet_wall_us;
	bool expired;             /* source.c: one came after its deadline */
	/* source.c: H.264/H.265 parameter sets (SPS/PPS, SEI) that came as a
	 * packet of their own, waiting for the picture they belong to. */
	AVPacket *no_picture;
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
 * AVERROR_EXIT when stopped, AVERROR(ETIMEDOUT) when none came within the
 * timeout of the previous one, or another negative AVERROR. A packet the
 * source returns only after its deadline (a parser's leftover once the
 * connection went quiet) is handed on, and the next read says ETIMEDOUT at
 * once: the stall is found timeout_us after the last packet, not later. */
int source_read(struct source *src, AVPacket *pkt);
/* What is left of the pending wait, in µs (>= 0). */
int64_t source_remaining_us(const struct source *src);
/* The pending wait's deadline as CLOCK_MONOTONIC µs (deadline.h): for
 * implementations that wait on a real clock (a push source's inbox). */
int64_t source_wait_deadline_us(const struct source *src);
/* Accepts NULL and half-opened sources. */
void source_close(struct source *src);

/* The largest single allocation libav* may make in this process. Sources
 * are parsed by libavformat, which sizes some arrays by the counts a stream
 * claims: an MP4 fragment claiming 84 million samples made the mp4 demuxer
 * ask for 2.7 GB (fuzz_pushed). camfs needs no more at once than a frame
 * of 8K video (50 MB). Call once, before any source opens. */
#define SOURCE_MAX_ALLOC (64 << 20)
void source_bound_memory(void);

/* The source connected but no media came within the timeout. */
#define SOURCE_ERROR_NO_MEDIA FFERRTAG('N', 'M', 'D', 'A')
/* A push source: no device connected within the timeout. */
#define SOURCE_ERROR_NO_DEVICE FFERRTAG('N', 'D', 'E', 'V')
/* A browser's stream that is neither MP4 nor WebM/Matroska. */
#define SOURCE_ERROR_NOT_RECORDER FFERRTAG('N', 'R', 'E', 'C')
/* Video in a codec MP4 segments do not hold without transcoding. */
#define SOURCE_ERROR_CODEC FFERRTAG('N', 'C', 'O', 'D')

/* A short, credential-free reason for a source's error ("authentication
 * failed", "connection refused", "camera error (5xx)", ...). */
void source_describe_error(int err, char *buf, size_t n);

#endif
