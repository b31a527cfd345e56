/* test_feed.c - the loop every source runs in: sessions reach the consumer
 * whole (start, packets, end), each distinct failure is reported once,
 * backoff waits between attempts but not after new codec parameters, a
 * stop ends any wait, and a push source (packets from another thread
 * through an inbox) runs in the same loop with the same deadline. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <libavformat/avformat.h>

#include "ingest/feed.h"
#include "ingest/inbox.h"
#include "ingest/source.h"
#include "util/clock.h"
#include "util/deadline.h"
#include "util/stop.h"

#define MS 1000
#define EVENTS_MAX 64

/* What the consumer was told, in order, as short lines. */
struct record {
	pthread_mutex_t lock;
	pthread_cond_t cond;               /* CLOCK_MONOTONIC */
	char events[EVENTS_MAX][96];       /* guarded by lock */
	int n;                             /* guarded by lock */
	int again_at_packet;               /* packet() returns EAGAIN on this one (1-based); 0: never */
	int packets;                       /* feed thread only */
};

static void add(struct record *r, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&r->lock);
	if (r->n < EVENTS_MAX) {
		va_start(ap, fmt);
		vsnprintf(r->events[r->n++], sizeof(r->events[0]), fmt, ap);
		va_end(ap);
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static int on_start(void *opaque, const struct source *src)
{
	assert_non_null(src->video.par);
	add(opaque, "start");
	return 0;
}

static int on_packet(void *opaque, const struct source *src, AVPacket *pkt, int64_t wall_us)
{
	struct record *r = opaque;

	(void)src;
	(void)wall_us;
	add(r, "packet %lld%s", (long long)pkt->dts, pkt->flags & AV_PKT_FLAG_KEY ? " key" : "");
	return ++r->packets == r->again_at_packet ? AVERROR(EAGAIN) : 0;
}

static void on_end(void *opaque, const struct source *src, int err)
{
	(void)src;
	add(opaque, "end %s", err == AVERROR(EAGAIN) ? "again" : err == AVERROR_EXIT ? "stop" :
	    err == FEED_NEW_TIMELINE ? "timeline" : "error");
}

static void on_online(void *opaque, const struct source *src)
{
	(void)src;
	add(opaque, "online");
}

static void on_offline(void *opaque, const char *reason, bool repeated)
{
	add(opaque, "offline %s%s", reason, repeated ? " (again)" : "");
}

static const struct feed_consumer consumer = {
	.start = on_start, .packet = on_packet, .end = on_end, .online = on_online,
	.offline = on_offline,
};

static void record_init(struct record *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	assert_int_equal(deadline_cond_init(&r->cond), 0);
}

static void record_destroy(struct record *r)
{
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
}

/* Waits (at most timeout_us) until the consumer has been told n things. */
static bool wait_events(struct record *r, int n, int64_t timeout_us)
{
	int64_t deadline = deadline_now_us() + timeout_us;
	bool got;

	pthread_mutex_lock(&r->lock);
	while (r->n < n && deadline_wait_until(&r->cond, &r->lock, deadline) != ETIMEDOUT)
		;
	got = r->n >= n;
	pthread_mutex_unlock(&r->lock);
	return got;
}

/* After wait_events and the feed's end: the first n events are want. */
static void expect_events(struct record *r, const char *const *want, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(r->events[i], want[i]) != 0)
			fail_msg("event %d: \"%s\", want \"%s\"", i, r->events[i], want[i]);
}

/* A scripted pull source: attempt i opens with script[i].open and then
 * gives script[i].packets packets (the first a keyframe) before failing
 * with script[i].end. Packet n has dts n * 6000 (15 fps at 90 kHz), plus
 * jump_by from packet jump_at on (0: none); key_every > 0 makes every such
 * packet a keyframe too. Attempts past the script are refused. */
struct attempt {
	int open, packets, end;
	int jump_at, key_every;
	int64_t jump_by;
};

static const struct attempt *script;
static int script_len, attempts;   /* feed thread only while a feed runs */

struct scripted {
	struct attempt a;
	int given;
};

static int scripted_open(struct source *src, const struct source_opts *opts)
{
	struct scripted *s = calloc(1, sizeof(*s));

	(void)opts;
	if (!s)
		return AVERROR(ENOMEM);
	src->priv = s;
	s->a = attempts < script_len ? script[attempts] :
		(struct attempt){ .open = AVERROR(ECONNREFUSED) };
	attempts++;
	if (s->a.open < 0)
		return s->a.open;
	src->video.par = avcodec_parameters_alloc();
	if (!src->video.par)
		return AVERROR(ENOMEM);
	src->video.par->codec_type = AVMEDIA_TYPE_VIDEO;
	src->video.par->codec_id = AV_CODEC_ID_H264;
	src->video.time_base = (AVRational){ 1, 90000 };
	return 0;
}

static int scripted_read(struct source *src, AVPacket *pkt)
{
	struct scripted *s = src->priv;
	int ret;

	if (s->given == s->a.packets)
		return s->a.end;
	if ((ret = av_new_packet(pkt, 16)) < 0)
		return ret;
	pkt->stream_index = SOURCE_VIDEO;
	pkt->dts = pkt->pts = s->given * 6000 +
		(s->a.jump_at && s->given >= s->a.jump_at ? s->a.jump_by : 0);
	pkt->flags = s->given == 0 || (s->a.key_every && s->given % s->a.key_every == 0) ?
		AV_PKT_FLAG_KEY : 0;
	s->given++;
	return 0;
}

static void scripted_close(struct source *src)
{
	avcodec_parameters_free(&src->video.par);
	free(src->priv);
	src->priv = NULL;
}

static const struct source_ops scripted_ops = {
	.name = "scripted", .open = scripted_open, .read = scripted_read, .close = scripted_close,
};

static void run_script(struct record *r, const struct attempt *s, int n, int64_t backoff_us,
		       int events)
{
	struct stop stop;
	struct feed *f;
	struct feed_opts fo = {
		.source = {
			.url = "scripted:", .timeout_us = 1000 * MS, .clock = &clock_system,
			.tag = "t", .stop = &stop, .ops = &scripted_ops,
		},
		.thread = "feed-test",
		.backoff_min_us = backoff_us, .backoff_max_us = backoff_us,
	};

	script = s;
	script_len = n;
	attempts = 0;
	assert_int_equal(stop_init(&stop), 0);
	assert_int_equal(feed_start(&f, &fo, &consumer, r), 0);
	if (!wait_events(r, events, 10000 * MS))
		fail_msg("only %d events of %d", r->n, events);
	stop_request(&stop);
	feed_free(f);
	stop_destroy(&stop);
}

/* A failure repeating is told as such, also when the connection opens each
 * time but delivers nothing; footage in between makes the next failure
 * news again. */
static void test_reports_once(void **state)
{
	static const struct attempt s[] = {
		{ .open = AVERROR(ECONNREFUSED) },
		{ .open = AVERROR(ECONNREFUSED) },
		{ .open = 0, .packets = 0, .end = AVERROR_EOF },
		{ .open = 0, .packets = 0, .end = AVERROR_EOF },
		{ .open = 0, .packets = 2, .end = AVERROR_EOF },
		{ .open = AVERROR_HTTP_UNAUTHORIZED },
	};
	static const char *const want[] = {
		"offline cannot connect: connection refused",
		"offline cannot connect: connection refused (again)",
		"start", "end error", "offline lost: stream ended",
		"start", "end error", "offline lost: stream ended (again)",
		"start", "online", "packet 0 key", "packet 6000", "end error",
		"offline lost: stream ended",
		"offline cannot connect: authentication failed",
		"offline cannot connect: connection refused",
		"offline cannot connect: connection refused (again)",
	};
	struct record r;

	(void)state;
	record_init(&r);
	run_script(&r, s, 6, 1 * MS, 17);
	expect_events(&r, want, 17);
	record_destroy(&r);
}

/* New codec parameters (EAGAIN from the consumer) start a new session at
 * once, with no report and no backoff (here 30 s). */
static void test_again_reconnects_at_once(void **state)
{
	static const struct attempt s[] = {
		{ .open = 0, .packets = 5, .end = AVERROR_EOF },
		{ .open = 0, .packets = 1, .end = AVERROR_EOF },
	};
	static const char *const want[] = {
		"start", "online", "packet 0 key", "packet 6000", "end again",
		"start", "online", "packet 0 key", "end error", "offline lost: stream ended",
	};
	struct record r;
	int64_t t0 = deadline_now_us();

	(void)state;
	record_init(&r);
	r.again_at_packet = 2;
	run_script(&r, s, 2, 30000 * MS, 10);
	assert_true(deadline_now_us() - t0 < 5000 * MS);
	expect_events(&r, want, 10);
	record_destroy(&r);
}

/* A camera clock that jumps back 10 s, or on 20 s within a moment, starts
 * a new timeline on the same connection (end, start; no report, no
 * reconnect) instead of squashing frames onto one-tick steps after the
 * last time. A step back within the bound is only nudged forward. */
static void test_time_jumps(void **state)
{
	static const struct attempt s[] = {
		{ .open = 0, .packets = 6, .end = AVERROR_EOF, .jump_at = 3, .jump_by = -900000 },
		{ .open = 0, .packets = 5, .end = AVERROR_EOF, .jump_at = 3, .jump_by = 1800000,
		  .key_every = 3 },
		{ .open = 0, .packets = 3, .end = AVERROR_EOF, .jump_at = 2, .jump_by = -12000 },
	};
	static const char *const want[] = {
		"start", "online", "packet 0 key", "packet 6000", "packet 12000",
		"end timeline", "start", "packet -882000", "packet -876000", "packet -870000",
		"end error", "offline lost: stream ended",
		"start", "online", "packet 0 key", "packet 6000", "packet 12000",
		"end timeline", "start", "packet 1818000 key", "packet 1824000",
		"end error", "offline lost: stream ended",
		"start", "online", "packet 0 key", "packet 6000", "packet 6001",
		"end error",
	};
	int n = sizeof(want) / sizeof(want[0]);
	struct record r;

	(void)state;
	record_init(&r);
	run_script(&r, s, 3, 1 * MS, n);
	expect_events(&r, want, n);
	record_destroy(&r);
}

/* A stop ends a backoff of 30 s at once, and is not a failure to report. */
static void test_stop_ends_backoff(void **state)
{
	static const struct attempt s[] = { { .open = AVERROR(ECONNREFUSED) } };
	struct record r;
	int64_t t0 = deadline_now_us();

	(void)state;
	record_init(&r);
	run_script(&r, s, 1, 30000 * MS, 1);
	assert_true(deadline_now_us() - t0 < 5000 * MS);
	assert_int_equal(r.n, 1);
	assert_int_equal(attempts, 1);
	record_destroy(&r);
}

/* A push source: packets come from another thread through an inbox. */
static struct inbox *pushed;   /* made by push_open, for the producer */
static pthread_mutex_t pushed_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pushed_cond = PTHREAD_COND_INITIALIZER;

static int push_open(struct source *src, const struct source_opts *opts)
{
	struct inbox *q;
	int ret = inbox_new(&q, 8, opts->stop);

	if (ret < 0)
		return AVERROR(-ret);
	src->priv = q;
	src->video.par = avcodec_parameters_alloc();
	if (!src->video.par)
		return AVERROR(ENOMEM);
	src->video.par->codec_id = AV_CODEC_ID_H264;
	src->video.time_base = (AVRational){ 1, 90000 };
	pthread_mutex_lock(&pushed_lock);
	pushed = q;
	pthread_cond_broadcast(&pushed_cond);
	pthread_mutex_unlock(&pushed_lock);
	return 0;
}

static int push_read(struct source *src, AVPacket *pkt)
{
	return inbox_take(src->priv, pkt, source_wait_deadline_us(src));
}

static void push_close(struct source *src)
{
	pthread_mutex_lock(&pushed_lock);
	if (pushed == src->priv)
		pushed = NULL;
	pthread_mutex_unlock(&pushed_lock);
	inbox_free(src->priv);
	src->priv = NULL;
	avcodec_parameters_free(&src->video.par);
}

static const struct source_ops push_ops = {
	.name = "push", .open = push_open, .read = push_read, .close = push_close,
};

static void test_push_source(void **state)
{
	static const char *const want[] = {
		"start", "online", "packet 0 key", "packet 6000", "packet 12000",
		"end error", "offline stalled: no answer in time",
	};
	struct stop stop;
	struct record r;
	struct feed *f;
	struct feed_opts fo = {
		.source = {
			.url = "push:", .timeout_us = 300 * MS, .clock = &clock_system,
			.tag = "t", .stop = &stop, .ops = &push_ops,
		},
		.thread = "push-test",
		.backoff_min_us = 30000 * MS, .backoff_max_us = 30000 * MS,
	};
	AVPacket *pkt = av_packet_alloc();
	int64_t t0;

	(void)state;
	record_init(&r);
	assert_non_null(pkt);
	assert_int_equal(stop_init(&stop), 0);
	assert_int_equal(feed_start(&f, &fo, &consumer, &r), 0);
	pthread_mutex_lock(&pushed_lock);
	while (!pushed)
		pthread_cond_wait(&pushed_cond, &pushed_lock);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(av_new_packet(pkt, 16), 0);
		pkt->stream_index = SOURCE_VIDEO;
		pkt->dts = pkt->pts = i * 6000;
		pkt->flags = i == 0 ? AV_PKT_FLAG_KEY : 0;
		assert_int_equal(inbox_put(pushed, pkt), 0);
		av_packet_unref(pkt);
	}
	pthread_mutex_unlock(&pushed_lock);
	/* Then the connection goes quiet: the feed's deadline ends the
	 * session as a stall, like a pulled camera's. */
	t0 = deadline_now_us();
	assert_true(wait_events(&r, 7, 5000 * MS));
	assert_true(deadline_now_us() - t0 >= 300 * MS - 50 * MS);
	expect_events(&r, want, 7);
	/* In a 30 s backoff now: the stop ends it at once. */
	t0 = deadline_now_us();
	stop_request(&stop);
	feed_free(f);
	assert_true(deadline_now_us() - t0 < 2000 * MS);
	assert_int_equal(r.n, 7);
	stop_destroy(&stop);
	av_packet_free(&pkt);
	record_destroy(&r);
}

/* The inbox alone: order, the deadline, an end after the queued packets,
 * a full inbox ending the stream, and a stop waking a waiting take. */
static void test_inbox(void **state)
{
	struct stop stop;
	struct inbox *q;
	AVPacket *pkt = av_packet_alloc();
	int64_t t0;

	(void)state;
	assert_int_equal(stop_init(&stop), 0);
	assert_int_equal(inbox_new(&q, 2, &stop), 0);
	t0 = deadline_now_us();
	assert_int_equal(inbox_take(q, pkt, t0 + 100 * MS), AVERROR(ETIMEDOUT));
	assert_true(deadline_now_us() - t0 >= 100 * MS);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(av_new_packet(pkt, 4), 0);
		pkt->dts = i;
		assert_int_equal(inbox_put(q, pkt), 0);
		av_packet_unref(pkt);
	}
	assert_int_equal(av_new_packet(pkt, 4), 0);
	assert_int_equal(inbox_put(q, pkt), -ENOBUFS);
	assert_int_equal(inbox_put(q, pkt), -EPIPE);
	av_packet_unref(pkt);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(inbox_take(q, pkt, deadline_now_us()), 0);
		assert_int_equal(pkt->dts, i);
		av_packet_unref(pkt);
	}
	assert_int_equal(inbox_take(q, pkt, deadline_now_us()), AVERROR(ENOBUFS));
	inbox_free(q);

	assert_int_equal(inbox_new(&q, 2, &stop), 0);
	inbox_end(q, AVERROR_EOF);
	inbox_end(q, AVERROR(EIO));   /* the first end wins */
	assert_int_equal(inbox_take(q, pkt, deadline_now_us() + 1000 * MS), AVERROR_EOF);
	inbox_free(q);

	assert_int_equal(inbox_new(&q, 2, &stop), 0);
	stop_request(&stop);
	t0 = deadline_now_us();
	assert_int_equal(inbox_take(q, pkt, t0 + 30000 * MS), AVERROR_EXIT);
	assert_true(deadline_now_us() - t0 < 1000 * MS);
	inbox_free(q);
	assert_null(stop.links);
	stop_destroy(&stop);
	av_packet_free(&pkt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reports_once),
		cmocka_unit_test(test_again_reconnects_at_once),
		cmocka_unit_test(test_stop_ends_backoff),
		cmocka_unit_test(test_time_jumps),
		cmocka_unit_test(test_push_source),
		cmocka_unit_test(test_inbox),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
