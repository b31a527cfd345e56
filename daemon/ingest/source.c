/* source.c - the packet source seam: picks a source's implementation by
 * URL, and says in plain words why a source failed. */
#include "ingest/source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libavformat/avformat.h>

#include "ingest/avsource.h"
#include "ingest/demo.h"
#include "util/clock.h"
#include "util/deadline.h"
#include "util/log.h"

/* Parameter sets waiting for a picture beyond this are not parameter sets. */
#define NO_PICTURE_MAX_BYTES (64 * 1024)

static int64_t deadline_from(const struct source_opts *opts, int64_t start_us)
{
	return opts->timeout_us > 0 ? start_us + opts->timeout_us : INT64_MAX;
}

int source_open(struct source **out, const struct source_opts *opts)
{
	struct source *src = calloc(1, sizeof(*src));
	int ret;

	*out = NULL;
	if (!src)
		return AVERROR(ENOMEM);
	src->opts = opts;
	src->no_picture = av_packet_alloc();
	if (!src->no_picture) {
		free(src);
		return AVERROR(ENOMEM);
	}
	src->deadline_us = deadline_from(opts, clock_monotonic_us(opts->clock));
	if (opts->ops)
		src->ops = opts->ops;
	else if (strncmp(opts->url, DEMO_URL_PREFIX, strlen(DEMO_URL_PREFIX)) == 0)
		src->ops = &demo_source_ops;
	else
		src->ops = &avsource_ops;
	ret = src->ops->open(src, opts);
	if (ret < 0) {
		source_close(src);
		return ret;
	}
	src->last_packet_us = clock_monotonic_us(opts->clock);
	*out = src;
	return 0;
}

static int read_one(struct source *src, AVPacket *pkt)
{
	int64_t now;
	int ret;

	if (src->expired)
		return AVERROR(ETIMEDOUT);
	src->deadline_us = deadline_from(src->opts, src->last_packet_us);
	ret = src->ops->read(src, pkt);
	if (ret < 0)
		return ret;
	now = clock_monotonic_us(src->opts->clock);
	src->expired = now > src->deadline_us;
	src->last_packet_us = now;
	return 0;
}

/* Whether an H.264/H.265 packet holds a picture (a VCL NAL unit). Only the
 * Annex B form (start codes, as RTSP gives) is looked into; any other
 * packet counts as a picture. */
static bool has_picture(enum AVCodecID codec, const uint8_t *p, int n)
{
	bool annex_b = n >= 4 && !p[0] && !p[1] && (p[2] == 1 || (!p[2] && p[3] == 1));

	if (!annex_b || (codec != AV_CODEC_ID_H264 && codec != AV_CODEC_ID_HEVC))
		return true;
	for (int i = 0; i + 3 < n; i++) {
		if (p[i] || p[i + 1] || p[i + 2] != 1)
			continue;
		if (codec == AV_CODEC_ID_H264 ? (p[i + 3] & 0x1f) >= 1 && (p[i + 3] & 0x1f) <= 5 :
						(p[i + 3] >> 1 & 0x3f) < 32)
			return true;
	}
	return false;
}

/* Puts parameter sets that waited before pkt's own data. */
static int join_waiting(struct source *src, AVPacket *pkt)
{
	AVPacket *w = src->no_picture;
	int n = pkt->size, ret = av_grow_packet(pkt, w->size);

	if (ret < 0)
		return ret;
	memmove(pkt->data + w->size, pkt->data, n);
	memcpy(pkt->data, w->data, w->size);
	av_packet_unref(w);
	return 0;
}

/* A video packet without a picture is no sample of its own: some cameras
 * (and RTSP's first, untimed keyframe) send the parameter sets apart, and a
 * file with such a sample does not play. They go before the next picture. */
int source_read(struct source *src, AVPacket *pkt)
{
	const AVCodecParameters *par = src->video.par;
	int ret;

	for (;;) {
		ret = read_one(src, pkt);
		if (ret < 0 || pkt->stream_index != SOURCE_VIDEO || !par)
			return ret;
		if (has_picture(par->codec_id, pkt->data, pkt->size))
			return src->no_picture->size ? join_waiting(src, pkt) : 0;
		if (src->no_picture->size + pkt->size > NO_PICTURE_MAX_BYTES) {
			log_warning(src->opts->tag, "%d bytes of video without a picture: dropped",
				    src->no_picture->size + pkt->size);
			av_packet_unref(src->no_picture);
			av_packet_unref(pkt);
		} else if (!src->no_picture->size) {
			av_packet_move_ref(src->no_picture, pkt);
		} else {
			int n = src->no_picture->size;

			ret = av_grow_packet(src->no_picture, pkt->size);
			if (ret < 0)
				return ret;
			memcpy(src->no_picture->data + n, pkt->data, pkt->size);
			av_packet_unref(pkt);
		}
	}
}

int64_t source_remaining_us(const struct source *src)
{
	int64_t left = src->deadline_us - clock_monotonic_us(src->opts->clock);

	return left > 0 ? left : 0;
}

int64_t source_wait_deadline_us(const struct source *src)
{
	return deadline_now_us() + source_remaining_us(src);
}

void source_bound_memory(void)
{
	av_max_alloc(SOURCE_MAX_ALLOC);
}

void source_close(struct source *src)
{
	if (!src)
		return;
	src->ops->close(src);
	av_packet_free(&src->no_picture);
	free(src);
}

/* Plain words for the errors a camera gives; FFmpeg's own text otherwise. */
static const struct {
	int err;
	const char *text;
} reasons[] = {
	{ AVERROR_HTTP_UNAUTHORIZED, "authentication failed" },
	{ AVERROR(EACCES), "authentication failed" },
	{ AVERROR_HTTP_FORBIDDEN, "access forbidden" },
	{ AVERROR_HTTP_NOT_FOUND, "stream not found" },
	{ AVERROR_HTTP_BAD_REQUEST, "request refused (400)" },
	{ AVERROR_HTTP_OTHER_4XX, "request refused (4xx)" },
	{ AVERROR_HTTP_SERVER_ERROR, "camera error (5xx)" },
	{ AVERROR(ECONNREFUSED), "connection refused" },
	{ AVERROR(EHOSTUNREACH), "host unreachable" },
	{ AVERROR(ENETUNREACH), "host unreachable" },
	{ AVERROR(ETIMEDOUT), "no answer in time" },
	{ SOURCE_ERROR_NO_MEDIA, "no media in time" },
	{ SOURCE_ERROR_NO_DEVICE, "waiting for the camera to connect" },
	{ SOURCE_ERROR_NOT_RECORDER, "the browser sent neither MP4 nor WebM" },
	{ SOURCE_ERROR_CODEC, "video in a codec camfs does not record (H.264, H.265, VP9 and MJPEG)" },
	{ AVERROR_EOF, "stream ended" },
	{ AVERROR(EINVAL), "bad URL or unusable stream" },
	{ AVERROR_INVALIDDATA, "bad URL or unusable stream" },
};

void source_describe_error(int err, char *buf, size_t n)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].err == err) {
			snprintf(buf, n, "%s", reasons[i].text);
			return;
		}
	av_strerror(err, buf, n);
}
