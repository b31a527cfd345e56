/* substream.c - the motion substream as a feed consumer: video packets go
 * to the detector; a session's end ends the scored stream. */
#include "ingest/substream.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "events/detector.h"
#include "ingest/feed.h"
#include "util/log.h"

struct substream {
	struct detector *detector;
	const char *tag;
	bool failed;         /* feed thread only: a failure reported since footage came */
	struct feed *feed;
};

static int sub_start(void *opaque, const struct source *src)
{
	(void)opaque;
	(void)src;
	return 0;
}

static void sub_online(void *opaque, const struct source *src)
{
	struct substream *s = opaque;

	(void)src;
	if (s->failed)
		log_notice(s->tag, "motion substream back");
	s->failed = false;
}

static int sub_packet(void *opaque, const struct source *src, AVPacket *pkt, int64_t wall_us)
{
	struct substream *s = opaque;

	if (pkt->stream_index == SOURCE_VIDEO)
		detector_packet(s->detector, src->video.par, pkt, wall_us);
	return 0;
}

static void sub_end(void *opaque, const struct source *src, int err)
{
	struct substream *s = opaque;

	(void)src;
	(void)err;
	detector_finish(s->detector);
}

static void sub_offline(void *opaque, const char *reason, bool repeated)
{
	struct substream *s = opaque;

	s->failed = true;
	if (!repeated)
		log_warning(s->tag, "motion substream %s; still recording the main stream", reason);
}

static const struct feed_consumer substream_consumer = {
	.start = sub_start,
	.packet = sub_packet,
	.end = sub_end,
	.online = sub_online,
	.offline = sub_offline,
};

int substream_start(struct substream **out, const struct source_opts *opts, const char *thread,
		    struct detector *detector)
{
	struct substream *s = calloc(1, sizeof(*s));
	struct feed_opts fo = { .source = *opts, .thread = thread };
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->detector = detector;
	s->tag = opts->tag;
	ret = feed_start(&s->feed, &fo, &substream_consumer, s);
	if (ret < 0) {
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

bool substream_alive(struct substream *s, int64_t now_us)
{
	return feed_alive(s->feed, now_us);
}

void substream_free(struct substream *s)
{
	if (!s)
		return;
	feed_free(s->feed);
	free(s);
}
