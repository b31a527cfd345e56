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

int source_open(struct source **out, const struct source_opts *opts)
{
	struct source *src = calloc(1, sizeof(*src));
	int ret;

	*out = NULL;
	if (!src)
		return AVERROR(ENOMEM);
	src->opts = opts;
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
	*out = src;
	return 0;
}

int source_read(struct source *src, AVPacket *pkt)
{
	return src->ops->read(src, pkt);
}

void source_close(struct source *src)
{
	if (!src)
		return;
	src->ops->close(src);
	free(src);
}

void source_describe_error(int err, char *buf, size_t n)
{
	switch (err) {
	case AVERROR_HTTP_UNAUTHORIZED:
	case AVERROR(EACCES):
		snprintf(buf, n, "authentication failed");
		return;
	case AVERROR_HTTP_FORBIDDEN:
		snprintf(buf, n, "access forbidden");
		return;
	case AVERROR_HTTP_NOT_FOUND:
		snprintf(buf, n, "stream not found");
		return;
	case AVERROR(ECONNREFUSED):
		snprintf(buf, n, "connection refused");
		return;
	case AVERROR(EHOSTUNREACH):
	case AVERROR(ENETUNREACH):
		snprintf(buf, n, "host unreachable");
		return;
	case AVERROR(ETIMEDOUT):
		snprintf(buf, n, "no answer in time");
		return;
	case AVERROR_EOF:
		snprintf(buf, n, "stream ended");
		return;
	default:
		if (err == AVERROR(EINVAL) || err == AVERROR_INVALIDDATA) {
			snprintf(buf, n, "bad URL or unusable stream");
			return;
		}
		av_strerror(err, buf, n);
	}
}
