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

int source_read(struct source *src, AVPacket *pkt)
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

int64_t source_remaining_us(const struct source *src)
{
	int64_t left = src->deadline_us - clock_monotonic_us(src->opts->clock);

	return left > 0 ? left : 0;
}

void source_close(struct source *src)
{
	if (!src)
		return;
	src->ops->close(src);
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
