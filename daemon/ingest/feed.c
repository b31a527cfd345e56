/* feed.c - the loop behind every camera connection: open, read, notice a
 * stall, report, back off, again; the consumer only sees sessions. */
#include "ingest/feed.h"

#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/backoff.h"
#include "util/log.h"
#include "util/clock.h"
#include "util/stop.h"

#define BACKOFF_MIN_US 1000000
#define BACKOFF_MAX_US 30000000
#define REASON_MAX 160
/* A timestamp further back than this, or further on than the time since
 * the last packet plus this, is another timeline: a camera clock stepped. */
#define JUMP_US 1000000

struct feed {
	struct feed_opts opts;
	const struct feed_consumer *consumer;
	void *opaque;
	pthread_t thread;
	struct backoff backoff;           /* feed thread only */
	char last_reason[REASON_MAX];     /* feed thread only: "" once footage came */
	_Atomic int64_t beat_us;          /* monotonic: the thread last came by */
};

static void beat(struct feed *f)
{
	atomic_store(&f->beat_us, clock_monotonic_us(f->opts.source.clock));
}

/* Deadlines an open may take one after another (connect, DESCRIBE, SETUP,
 * PLAY, the first packets), with room to spare. */
#define OPEN_STEPS 8

bool feed_alive(struct feed *f, int64_t now_us)
{
	int64_t timeout = f->opts.source.timeout_us;
	int64_t backoff = f->opts.backoff_max_us ? f->opts.backoff_max_us : BACKOFF_MAX_US;

	return timeout <= 0 ||
	       now_us - atomic_load(&f->beat_us) <= OPEN_STEPS * timeout + backoff * 5 / 4 + 10000000;
}

/* The last timestamp per stream of the current timeline. */
struct timeline {
	int64_t dts[2];       /* stream time base; AV_NOPTS_VALUE: none yet */
	int64_t mono_us[2];   /* when it came */
};

static void timeline_reset(struct timeline *t)
{
	t->dts[SOURCE_VIDEO] = t->dts[SOURCE_AUDIO] = AV_NOPTS_VALUE;
}

/* Places pkt on the timeline: its dts made to increase (the muxer needs
 * that; cameras repeat a time now and then) and its pts not before it.
 * Returns 0, or how far its time jumped (µs) past the bound, leaving pkt
 * and the timeline as they were. */
static int64_t timeline_place(struct timeline *t, const struct source *src, AVPacket *pkt,
			      int64_t mono_us)
{
	int s = pkt->stream_index;
	AVRational tb = s == SOURCE_VIDEO ? src->video.time_base : src->audio.time_base;

	if (pkt->dts == AV_NOPTS_VALUE)
		pkt->dts = pkt->pts;
	if (t->dts[s] != AV_NOPTS_VALUE) {
		int64_t step = av_rescale_q(pkt->dts - t->dts[s], tb, AV_TIME_BASE_Q);

		if (step < -JUMP_US || step > mono_us - t->mono_us[s] + JUMP_US)
			return step;
		if (pkt->dts <= t->dts[s])
			pkt->dts = t->dts[s] + 1;
	}
	if (pkt->pts != AV_NOPTS_VALUE && pkt->pts < pkt->dts)
		pkt->pts = pkt->dts;
	t->dts[s] = pkt->dts;
	t->mono_us[s] = mono_us;
	return 0;
}

/* Tells the consumer, unless the failure is the stop itself. what: the
 * stage that failed, NULL where the reason says it all. */
static void report(struct feed *f, int err, const char *what)
{
	char reason[REASON_MAX], desc[96];
	bool repeated;

	if (stop_requested(f->opts.source.stop))
		return;
	source_describe_error(err, desc, sizeof(desc));
	if (what)
		snprintf(reason, sizeof(reason), "%s: %s", what, desc);
	else
		snprintf(reason, sizeof(reason), "%s", desc);
	repeated = strcmp(reason, f->last_reason) == 0;
	snprintf(f->last_reason, sizeof(f->last_reason), "%s", reason);
	f->consumer->offline(f->opaque, reason, repeated);
}

/* pkt's time jumped by jump_us: squashing a lagging clock onto one-tick
 * steps would last as long as the lag, so the consumer's timeline ends
 * cleanly and a new one starts with pkt. 0, or start()'s error (then no
 * session is open). */
static int new_timeline(struct feed *f, const struct source *src, struct timeline *tl,
			AVPacket *pkt, int64_t jump_us)
{
	const struct source_opts *so = &f->opts.source;

	log_notice(so->tag, "timestamps jumped %+.1f s: a new timeline starts", jump_us / 1e6);
	f->consumer->end(f->opaque, src, FEED_NEW_TIMELINE);
	timeline_reset(tl);
	timeline_place(tl, src, pkt, clock_monotonic_us(so->clock));
	return f->consumer->start(f->opaque, src);
}

/* One connection: open, then hand packets on until an error or a stop.
 * Returns the error that ended it. */
static int run_session(struct feed *f)
{
	const struct source_opts *so = &f->opts.source;
	struct source *src = NULL;
	AVPacket *pkt = av_packet_alloc();
	const char *what = "lost";
	int64_t wall_us = 0;      /* the last packet's arrival */
	struct timeline tl;
	bool footage = false, started = false;
	int ret;

	if (!pkt)
		return AVERROR(ENOMEM);
	ret = source_open(&src, so);
	if (ret < 0) {
		/* Connected, only the media never came. */
		report(f, ret, ret == SOURCE_ERROR_NO_MEDIA || ret == SOURCE_ERROR_NO_DEVICE ? NULL :
		       "cannot connect");
		goto out;
	}
	ret = f->consumer->start(f->opaque, src);
	if (ret < 0) {
		report(f, ret, "cannot record this stream");
		goto out;
	}
	started = true;
	timeline_reset(&tl);
	while (!stop_requested(so->stop)) {
		int64_t jump_us;

		ret = source_read(src, pkt);
		beat(f);
		if (ret < 0) {
			what = ret == AVERROR(ETIMEDOUT) ? "stalled" : "lost";
			break;
		}
		jump_us = timeline_place(&tl, src, pkt, clock_monotonic_us(so->clock));
		if (jump_us && (ret = new_timeline(f, src, &tl, pkt, jump_us)) < 0) {
			started = false;
			av_packet_unref(pkt);
			what = "cannot record this stream";
			break;
		}
		if (!footage && pkt->stream_index == SOURCE_VIDEO && (pkt->flags & AV_PKT_FLAG_KEY)) {
			/* Only a session that delivered a picture resets backoff
			 * and makes the next failure news. */
			footage = true;
			backoff_reset(&f->backoff);
			f->last_reason[0] = '\0';
			f->consumer->online(f->opaque, src);
		}
		/* A packet that came after its deadline was held back (by a
		 * parser) since before the stall: it arrived about when the one
		 * before it did, not now. */
		if (!src->expired || !wall_us)
			wall_us = src->packet_wall_us ? src->packet_wall_us :
				clock_wall_us(so->clock);
		ret = f->consumer->packet(f->opaque, src, pkt, wall_us);
		av_packet_unref(pkt);
		if (ret < 0) {
			what = "cannot record this stream";
			break;
		}
	}
	if (stop_requested(so->stop))
		ret = AVERROR_EXIT;
	if (started)
		f->consumer->end(f->opaque, src, ret);
	if (ret != AVERROR(EAGAIN))
		report(f, ret, what);
out:
	source_close(src);
	av_packet_free(&pkt);
	return ret;
}

static void *feed_main(void *arg)
{
	struct feed *f = arg;
	struct stop *stop = f->opts.source.stop;

	backoff_init(&f->backoff, f->opts.backoff_min_us ? f->opts.backoff_min_us : BACKOFF_MIN_US,
		     f->opts.backoff_max_us ? f->opts.backoff_max_us : BACKOFF_MAX_US,
		     (uint64_t)clock_monotonic_us(f->opts.source.clock) ^ (uint64_t)(uintptr_t)f);
	while (!stop_requested(stop)) {
		int ret = run_session(f);

		stop_sleep(stop, ret == AVERROR(EAGAIN) ? 0 : backoff_next(&f->backoff));
		beat(f);
	}
	return NULL;
}

int feed_start(struct feed **out, const struct feed_opts *opts,
	       const struct feed_consumer *consumer, void *opaque)
{
	struct feed *f = calloc(1, sizeof(*f));
	int ret;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->opts = *opts;
	f->consumer = consumer;
	f->opaque = opaque;
	beat(f);
	ret = pthread_create(&f->thread, NULL, feed_main, f);
	if (ret) {
		free(f);
		return -ret;
	}
	pthread_setname_np(f->thread, opts->thread);
	*out = f;
	return 0;
}

void feed_free(struct feed *f)
{
	if (!f)
		return;
	pthread_join(f->thread, NULL);
	free(f);
}
