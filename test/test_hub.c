/* test_hub.c - live fan-out: init, newest GOP, then live fragments, whole and
 * in order; parking and waking; skips, generations, close; under threads;
 * positioned readers (reads by offset). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/intreadwrite.h>

#include "mp4/mp4build.h"
#include "stream/fragment.h"
#include "stream/hub.h"

/* Every test fragment starts with this header, then a pattern of its seq. */
#define HDR 9        /* be32 seq (media) or id (init), be32 size, kind/key byte */
#define BIG 65536
#define NO_WAKE ((hub_wake_fn *)NULL)

static uint8_t pattern(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 7 + i);
}

static struct fragment *make(enum fragment_kind kind, uint32_t seq, bool key, size_t size)
{
	struct fragment *f = fragment_new(kind, size);

	assert_non_null(f);
	assert_true(size >= HDR);
	f->keyframe = key;
	f->media_us = (int64_t)seq * 1000000;   /* a second of media each */
	AV_WB32(f->data, seq);
	AV_WB32(f->data + 4, (uint32_t)size);
	f->data[8] = kind == FRAGMENT_INIT ? 'I' : key ? 'K' : 'P';
	for (size_t i = HDR; i < size; i++)
		f->data[i] = pattern(seq, i);
	return f;
}

/* True if data is the whole fragment make() built for these. */
static bool is_frag(const uint8_t *data, size_t n, char kind, uint32_t seq)
{
	if (n < HDR || AV_RB32(data) != seq || AV_RB32(data + 4) != n || data[8] != kind)
		return false;
	for (size_t i = HDR; i < n; i++)
		if (data[i] != pattern(seq, i))
			return false;
	return true;
}

static void pub_init(struct hub *h, uint32_t id)
{
	hub_publish(h, make(FRAGMENT_INIT, id, false, 40 + id));
}

static void pub(struct hub *h, uint32_t seq, bool key)
{
	hub_publish(h, make(FRAGMENT_MEDIA, seq, key, 100 + seq % 50));
}

/* Publishes and keeps a reference, to see when the hub lets go. */
static struct fragment *pub_kept(struct hub *h, uint32_t seq, bool key, size_t size)
{
	struct fragment *f = make(FRAGMENT_MEDIA, seq, key, size);

	hub_publish(h, fragment_ref(f));
	return f;
}

static int refs(struct fragment *f)
{
	return atomic_load(&f->refs);
}

/* The next read is exactly one whole fragment. */
static void expect_unit(struct hub_reader *r, char kind, uint32_t seq)
{
	static uint8_t buf[BIG];
	ssize_t n = hub_reader_read(r, buf, sizeof(buf), NULL);

	assert_true(n > 0);
	assert_true(is_frag(buf, n, kind, seq));
}

static void expect_init(struct hub_reader *r, uint32_t id)
{
	expect_unit(r, 'I', id);
}

static void expect_media(struct hub_reader *r, uint32_t seq, bool key)
{
	expect_unit(r, key ? 'K' : 'P', seq);
}

static void expect_nothing(struct hub_reader *r)
{
	uint8_t buf[16];

	assert_false(hub_reader_ready(r));
	assert_int_equal(hub_reader_read(r, buf, sizeof(buf), NULL), -EAGAIN);
}

static void expect_eof(struct hub_reader *r)
{
	uint8_t buf[16];

	assert_true(hub_reader_ready(r));
	assert_int_equal(hub_reader_read(r, buf, sizeof(buf), NULL), 0);
	assert_int_equal(hub_reader_read(r, buf, sizeof(buf), NULL), 0);
}

/* A parked read, as the FUSE layer would hold one: wake() reads into it. */
struct req {
	size_t size;
	ssize_t got;
	int woken;
	uint8_t buf[BIG];
};

struct wake_log {
	struct req *order[16];
	int n;
};

static void record_wake(struct hub_reader *r, void *waiter, void *opaque)
{
	struct req *q = waiter;
	struct wake_log *log = opaque;

	q->woken++;
	q->got = hub_reader_read_locked(r, q->buf, q->size);
	assert_true(log->n < 16);
	log->order[log->n++] = q;
}

static struct req *new_req(size_t size)
{
	struct req *q = calloc(1, sizeof(*q));

	assert_non_null(q);
	q->size = size;
	return q;
}

static struct hub *new_hub(size_t max_bytes)
{
	struct hub *h;

	assert_int_equal(hub_new(&h, max_bytes), 0);
	return h;
}

static void test_stream_order(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct hub_reader *early = hub_reader_new(h, NO_WAKE, NULL), *r;

	(void)state;
	pub_init(h, 1);
	pub(h, 0, true);
	pub(h, 1, false);
	pub(h, 2, false);
	pub(h, 3, true);
	pub(h, 4, false);
	r = hub_reader_new(h, NO_WAKE, NULL);
	assert_non_null(r);
	expect_init(r, 1);
	expect_media(r, 3, true);
	expect_media(r, 4, false);
	expect_nothing(r);
	pub(h, 5, false);
	pub(h, 6, true);
	expect_media(r, 5, false);
	expect_media(r, 6, true);
	expect_nothing(r);
	/* Created before anything came, read only now: like a new reader. The
	 * newest GOP (6) is younger than a second, so from the keyframe before. */
	expect_init(early, 1);
	expect_media(early, 3, true);
	expect_media(early, 4, false);
	expect_media(early, 5, false);
	expect_media(early, 6, true);
	assert_int_equal(hub_reader_skips(r), 0);
	assert_int_equal(hub_reader_skips(early), 0);
	hub_reader_free(r);
	hub_reader_free(early);
	hub_free(h);
	hub_reader_free(NULL);
	hub_free(NULL);
}

static void test_reads_stay_in_fragment(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct hub_reader *r = hub_reader_new(h, NO_WAKE, NULL);
	uint8_t unit[BIG];
	size_t sizes[] = { 50, 3000, 9 };

	(void)state;
	hub_publish(h, make(FRAGMENT_INIT, 1, false, 50));
	hub_publish(h, make(FRAGMENT_MEDIA, 0, true, 3000));
	hub_publish(h, make(FRAGMENT_MEDIA, 1, false, 9));
	for (int u = 0; u < 3; u++) {
		size_t have = 0;

		/* 7-byte reads: the last piece of each unit is short, never
		 * a mix of two. */
		while (have < sizes[u]) {
			ssize_t n = hub_reader_read(r, unit + have, 7, NULL);

			assert_true(n > 0 && n <= 7);
			have += n;
			assert_true(have <= sizes[u]);
			assert_true(n == 7 || have == sizes[u]);
		}
		assert_true(is_frag(unit, have, u == 0 ? 'I' : u == 1 ? 'K' : 'P', u == 0 ? 1 : u - 1));
	}
	expect_nothing(r);
	/* A zero-size read is not end of stream and parks nothing. */
	assert_int_equal(hub_reader_read(r, unit, 0, unit), 0);
	assert_null(hub_reader_unpark_any(r));
	hub_reader_free(r);
	hub_free(h);
}

static void test_park_and_wake_once(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct wake_log log = { 0 };
	struct hub_reader *r = hub_reader_new(h, record_wake, &log);
	struct req *q = new_req(BIG);

	(void)state;
	assert_false(hub_reader_ready(r));
	assert_int_equal(hub_reader_read(r, q->buf, q->size, q), -EAGAIN);
	pub_init(h, 1);                  /* no keyframe yet: still nothing to read */
	assert_int_equal(log.n, 0);
	pub(h, 0, true);
	assert_int_equal(log.n, 1);
	assert_ptr_equal(log.order[0], q);
	assert_int_equal(q->woken, 1);
	assert_true(is_frag(q->buf, q->got, 'I', 1));
	pub(h, 1, false);
	pub(h, 2, false);
	assert_int_equal(q->woken, 1);   /* not parked any more */
	assert_false(hub_reader_unpark(r, q));
	expect_media(r, 0, true);
	expect_media(r, 1, false);
	expect_media(r, 2, false);

	/* Parked at the live edge: the next fragment wakes it. */
	assert_int_equal(hub_reader_read(r, q->buf, q->size, q), -EAGAIN);
	pub(h, 3, false);
	assert_int_equal(q->woken, 2);
	assert_true(is_frag(q->buf, q->got, 'P', 3));
	assert_int_equal(log.n, 2);
	hub_reader_free(r);
	hub_free(h);
	free(q);
}

static void test_unpark(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct wake_log log = { 0 };
	struct hub_reader *r = hub_reader_new(h, record_wake, &log);
	struct req *q = new_req(BIG), *other = new_req(BIG);

	(void)state;
	pub_init(h, 1);
	pub(h, 0, true);
	expect_init(r, 1);
	expect_media(r, 0, true);
	assert_int_equal(hub_reader_read(r, q->buf, q->size, q), -EAGAIN);
	assert_false(hub_reader_unpark(r, other));   /* never parked */
	assert_true(hub_reader_unpark(r, q));        /* an interrupt */
	assert_false(hub_reader_unpark(r, q));
	pub(h, 1, false);
	assert_int_equal(log.n, 0);
	assert_int_equal(q->woken, 0);
	expect_media(r, 1, false);                   /* the data waited */
	hub_reader_free(r);
	hub_free(h);
	free(q);
	free(other);
}

static void test_unpark_any(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct wake_log log = { 0 };
	struct hub_reader *r = hub_reader_new(h, record_wake, &log);
	struct req *q[3];
	bool seen[3] = { false };

	(void)state;
	for (int i = 0; i < 3; i++) {
		q[i] = new_req(BIG);
		assert_int_equal(hub_reader_read(r, q[i]->buf, q[i]->size, q[i]), -EAGAIN);
	}
	for (int i = 0; i < 3; i++) {
		struct req *w = hub_reader_unpark_any(r);
		int j = w == q[0] ? 0 : w == q[1] ? 1 : w == q[2] ? 2 : -1;

		assert_true(j >= 0 && !seen[j]);
		seen[j] = true;
	}
	assert_null(hub_reader_unpark_any(r));
	pub_init(h, 1);
	pub(h, 0, true);
	assert_int_equal(log.n, 0);
	hub_reader_free(r);          /* nothing parked: allowed */
	hub_free(h);
	for (int i = 0; i < 3; i++)
		free(q[i]);
}

/* poll(): a waiter parked without reading is woken like a read, in turn. */
static void test_park_for_poll(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct wake_log log = { 0 };
	struct hub_reader *r = hub_reader_new(h, record_wake, &log);
	struct req *poll = new_req(0), *read = new_req(BIG);

	(void)state;
	assert_int_equal(hub_reader_park(r, poll), -EAGAIN);
	assert_int_equal(hub_reader_read(r, read->buf, read->size, read), -EAGAIN);
	pub_init(h, 1);
	pub(h, 0, true);
	assert_int_equal(log.n, 2);
	assert_ptr_equal(log.order[0], poll);
	assert_int_equal(poll->got, 0);          /* a zero-size read: took nothing */
	assert_ptr_equal(log.order[1], read);
	assert_true(is_frag(read->buf, read->got, 'I', 1));
	assert_int_equal(hub_reader_park(r, poll), 0);   /* fragment 0 is there */
	assert_null(hub_reader_unpark_any(r));
	expect_media(r, 0, true);
	assert_int_equal(hub_reader_park(r, poll), -EAGAIN);
	assert_true(hub_reader_unpark(r, poll));
	hub_reader_free(r);
	hub_free(h);
	free(poll);
	free(read);
}

static bool cancel_marked(struct hub_reader *r, void *waiter, void *arg)
{
	struct req *q = waiter;
	int *cancelled = arg;

	(void)r;
	if (q->size != 1)
		return false;
	(*cancelled)++;
	return true;
}

/* The FUSE layer's sweep for interrupted reads across all readers. */
static void test_reap(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct wake_log log = { 0 };
	struct hub_reader *a = hub_reader_new(h, record_wake, &log);
	struct hub_reader *b = hub_reader_new(h, record_wake, &log);
	struct req *q[5];
	int cancelled = 0;

	(void)state;
	for (int i = 0; i < 5; i++) {
		q[i] = new_req(i % 2 ? 1 : BIG);     /* size 1 marks "interrupted" */
		assert_int_equal(hub_reader_read(i < 3 ? a : b, q[i]->buf, q[i]->size, q[i]),
				 -EAGAIN);
	}
	hub_reap(h, record_wake, cancel_marked, &cancelled);
	assert_int_equal(cancelled, 2);
	hub_reap(h, record_wake, cancel_marked, &cancelled);
	assert_int_equal(cancelled, 2);          /* gone from the hub */
	assert_false(hub_reader_unpark(a, q[1]));
	assert_false(hub_reader_unpark(b, q[3]));
	pub_init(h, 1);
	pub(h, 0, true);
	/* The rest: a's first takes the init, its second fragment 0; b's one
	 * takes the init. */
	assert_int_equal(log.n, 3);
	for (int i = 0; i < 5; i++)
		assert_int_equal(q[i]->woken, i % 2 ? 0 : 1);
	assert_true(is_frag(q[0]->buf, q[0]->got, 'I', 1));
	assert_true(is_frag(q[2]->buf, q[2]->got, 'K', 0));
	assert_true(is_frag(q[4]->buf, q[4]->got, 'I', 1));
	hub_reap(h, record_wake, cancel_marked, &cancelled);
	assert_int_equal(cancelled, 2);
	hub_reader_free(a);
	hub_reader_free(b);
	hub_free(h);
	for (int i = 0; i < 5; i++)
		free(q[i]);
}

/* The HTTP export's own wake: its waiters are connections. */
static void other_wake(struct hub_reader *r, void *waiter, void *opaque)
{
	record_wake(r, waiter, opaque);
}

/* Another export's waiters are never offered to the reaper's cancel, which
 * would take them for its own kind. */
static void test_unreaped(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct wake_log log = { 0 };
	struct hub_reader *fuse = hub_reader_new(h, record_wake, &log);
	struct hub_reader *http = hub_reader_new(h, other_wake, &log);
	struct req *q[2] = { new_req(1), new_req(1) };   /* both look interrupted */
	int cancelled = 0;

	(void)state;
	assert_int_equal(hub_reader_read(fuse, q[0]->buf, q[0]->size, q[0]), -EAGAIN);
	assert_int_equal(hub_reader_read(http, q[1]->buf, q[1]->size, q[1]), -EAGAIN);
	hub_reap(h, record_wake, cancel_marked, &cancelled);
	assert_int_equal(cancelled, 1);
	assert_false(hub_reader_unpark(fuse, q[0]));
	assert_true(hub_reader_unpark(http, q[1]));
	hub_reader_free(fuse);
	hub_reader_free(http);
	hub_free(h);
	free(q[0]);
	free(q[1]);
}

static void test_waiters_in_order(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct wake_log log = { 0 };
	struct hub_reader *r = hub_reader_new(h, record_wake, &log);
	struct req *q[3];
	uint8_t joined[BIG];
	size_t have = 0;

	(void)state;
	pub_init(h, 1);
	pub(h, 0, true);
	expect_init(r, 1);
	expect_media(r, 0, true);
	for (int i = 0; i < 3; i++) {
		q[i] = new_req(BIG);
		assert_int_equal(hub_reader_read(r, q[i]->buf, q[i]->size, q[i]), -EAGAIN);
	}
	/* Each whole-fragment read empties the reader: one wake per fragment. */
	for (int i = 0; i < 3; i++) {
		pub(h, 1 + i, false);
		assert_int_equal(log.n, i + 1);
		assert_ptr_equal(log.order[i], q[i]);
		assert_true(is_frag(q[i]->buf, q[i]->got, 'P', 1 + i));
	}

	/* Small reads: one fragment completes all three, in order. */
	log.n = 0;
	for (int i = 0; i < 3; i++) {
		q[i]->size = 40;
		assert_int_equal(hub_reader_read(r, q[i]->buf, q[i]->size, q[i]), -EAGAIN);
	}
	/* A read that comes while waiters are parked queues behind them. */
	assert_int_equal(hub_reader_read(r, joined, sizeof(joined), NULL), -EAGAIN);
	pub(h, 4, false);           /* 104 bytes: 40 + 40 + 24 */
	assert_int_equal(log.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_ptr_equal(log.order[i], q[i]);
		assert_int_equal(q[i]->woken, 2);
		memcpy(joined + have, q[i]->buf, q[i]->got);
		have += q[i]->got;
	}
	assert_true(is_frag(joined, have, 'P', 4));
	assert_int_equal(q[2]->got, 24);
	expect_nothing(r);
	hub_reader_free(r);
	hub_free(h);
	for (int i = 0; i < 3; i++)
		free(q[i]);
}

static void test_join_mid_gop(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct hub_reader *r;

	(void)state;
	pub_init(h, 1);
	pub(h, 0, true);
	pub(h, 1, false);
	pub(h, 2, true);
	pub(h, 3, false);
	pub(h, 4, false);
	r = hub_reader_new(h, NO_WAKE, NULL);
	expect_init(r, 1);
	expect_media(r, 2, true);
	expect_media(r, 3, false);
	expect_media(r, 4, false);
	expect_nothing(r);
	hub_reader_free(r);
	hub_free(h);
}

/* A GOP younger than a second: a new reader starts at the keyframe before
 * it, so a player's probe gets its frames at once. */
static void test_young_gop_starts_earlier(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct hub_reader *r;

	(void)state;
	pub_init(h, 1);
	pub(h, 0, true);
	pub(h, 1, false);
	pub(h, 2, true);        /* newest GOP: just this keyframe, no media time yet */
	r = hub_reader_new(h, NO_WAKE, NULL);
	expect_init(r, 1);
	expect_media(r, 0, true);
	expect_media(r, 1, false);
	expect_media(r, 2, true);
	expect_nothing(r);
	hub_reader_free(r);
	hub_free(h);
}

static void test_no_gop_no_media(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct wake_log log = { 0 };
	struct hub_reader *r = hub_reader_new(h, record_wake, &log);
	struct req *q = new_req(BIG);
	struct fragment *early;

	(void)state;
	assert_int_equal(hub_reader_read(r, q->buf, q->size, q), -EAGAIN);
	pub_init(h, 1);
	early = pub_kept(h, 0, false, 100);   /* before any keyframe */
	assert_int_equal(log.n, 0);
	assert_int_equal(refs(early), 1);      /* not kept */
	pub(h, 1, true);
	assert_int_equal(log.n, 1);
	assert_true(is_frag(q->buf, q->got, 'I', 1));
	expect_media(r, 1, true);
	hub_reader_free(r);
	hub_free(h);
	fragment_unref(&early);
	free(q);
}

static void test_slow_reader_skipped(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct hub_reader *r = hub_reader_new(h, NO_WAKE, NULL);
	struct hub_reader *mid = hub_reader_new(h, NO_WAKE, NULL);
	struct fragment *kept[9];
	uint8_t buf[BIG];
	ssize_t n;

	(void)state;
	pub_init(h, 1);
	for (int i = 0; i < 3; i++)
		kept[i] = pub_kept(h, i, i == 0, 200);
	expect_init(r, 1);
	expect_media(r, 0, true);       /* r stops after fragment 0 */
	expect_init(mid, 1);
	expect_media(mid, 0, true);
	n = hub_reader_read(mid, buf, 50, NULL);   /* mid stops inside fragment 1 */
	assert_int_equal(n, 50);
	for (int i = 3; i < 9; i++)
		kept[i] = pub_kept(h, i, i % 3 == 0, 200);
	/* GOPs 0-2, 3-5, 6-8: the first is gone, mid's part of it held by mid. */
	assert_int_equal(refs(kept[0]), 1);
	assert_int_equal(refs(kept[1]), 2);
	assert_int_equal(refs(kept[2]), 1);
	for (int i = 3; i < 9; i++)
		assert_int_equal(refs(kept[i]), 2);

	expect_media(r, 6, true);
	assert_int_equal(hub_reader_skips(r), 1);
	expect_media(r, 7, false);

	/* mid gets the rest of its fragment whole, then the newest GOP. */
	n = hub_reader_read(mid, buf + 50, sizeof(buf) - 50, NULL);
	assert_int_equal(n, 150);
	assert_true(is_frag(buf, 200, 'P', 1));
	assert_int_equal(refs(kept[1]), 1);
	assert_int_equal(hub_reader_skips(mid), 0);
	expect_media(mid, 6, true);
	assert_int_equal(hub_reader_skips(mid), 1);
	expect_media(mid, 7, false);
	expect_media(mid, 8, false);
	expect_nothing(mid);
	hub_reader_free(r);
	hub_reader_free(mid);
	hub_free(h);
	for (int i = 0; i < 9; i++)
		fragment_unref(&kept[i]);
}

static void test_identical_init_ignored(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct hub_reader *r = hub_reader_new(h, NO_WAKE, NULL);
	struct fragment *again = make(FRAGMENT_INIT, 1, false, 41);

	(void)state;
	pub_init(h, 1);
	pub(h, 0, true);
	pub(h, 1, false);
	expect_init(r, 1);
	expect_media(r, 0, true);
	hub_publish(h, fragment_ref(again));   /* a reconnect, same parameters */
	assert_int_equal(refs(again), 1);
	pub(h, 2, true);
	expect_media(r, 1, false);             /* kept across it */
	expect_media(r, 2, true);
	assert_int_equal(hub_reader_skips(r), 0);
	hub_reader_free(r);
	hub_free(h);
	fragment_unref(&again);
}

/* A session ended (the camera went offline): a reader that opens now gets
 * nothing stale and waits for the next session's keyframe; readers already
 * reading go on into the next session (same init) at its keyframe. */
static void test_session_end(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct hub_reader *live = hub_reader_new(h, NO_WAKE, NULL);
	struct hub_reader *behind = hub_reader_new(h, NO_WAKE, NULL);
	struct hub_reader *late;

	(void)state;
	pub_init(h, 1);
	pub(h, 0, true);
	pub(h, 1, false);
	expect_init(live, 1);
	expect_media(live, 0, true);
	expect_media(live, 1, false);
	expect_init(behind, 1);
	expect_media(behind, 0, true);
	hub_end_session(h);
	late = hub_reader_new(h, NO_WAKE, NULL);
	expect_nothing(late);
	expect_nothing(live);
	pub(h, 2, false);                  /* no keyframe to start from: dropped */
	expect_nothing(late);
	pub_init(h, 1);                    /* the next session, same parameters */
	pub(h, 3, true);
	pub(h, 4, false);
	expect_init(late, 1);
	expect_media(late, 3, true);
	expect_media(late, 4, false);
	expect_media(live, 3, true);
	expect_media(live, 4, false);
	assert_int_equal(hub_reader_skips(live), 0);
	expect_media(behind, 3, true);     /* what it missed is gone */
	assert_int_equal(hub_reader_skips(behind), 1);
	hub_reader_free(late);
	hub_reader_free(behind);
	hub_reader_free(live);
	hub_free(h);
}

static void test_new_init_ends_old_readers(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct wake_log log = { 0 };
	struct hub_reader *mid = hub_reader_new(h, NO_WAKE, NULL);
	struct hub_reader *parked = hub_reader_new(h, record_wake, &log);
	struct hub_reader *behind = hub_reader_new(h, NO_WAKE, NULL);
	struct hub_reader *unread = hub_reader_new(h, NO_WAKE, NULL);
	struct hub_reader *later;
	struct req *q = new_req(BIG);
	struct fragment *old;
	uint8_t buf[BIG];

	(void)state;
	pub_init(h, 1);
	pub(h, 0, true);
	old = pub_kept(h, 1, false, 120);
	expect_init(mid, 1);
	expect_media(mid, 0, true);
	assert_int_equal(hub_reader_read(mid, buf, 20, NULL), 20);
	expect_init(parked, 1);
	expect_media(parked, 0, true);
	expect_media(parked, 1, false);
	assert_int_equal(hub_reader_read(parked, q->buf, q->size, q), -EAGAIN);
	expect_init(behind, 1);
	assert_true(hub_reader_ready(unread));   /* bound, but given nothing */

	pub_init(h, 2);                          /* new codec parameters */
	assert_int_equal(log.n, 1);              /* the parked one: end of stream */
	assert_int_equal(q->got, 0);
	assert_int_equal(refs(old), 2);          /* dropped by the hub, held by mid */
	expect_eof(parked);
	expect_eof(behind);                      /* at the boundary after its init */
	assert_int_equal(hub_reader_read(mid, buf + 20, sizeof(buf) - 20, NULL), 100);
	assert_true(is_frag(buf, 120, 'P', 1));  /* its fragment whole, then the end */
	assert_int_equal(refs(old), 1);
	expect_eof(mid);

	later = hub_reader_new(h, NO_WAKE, NULL);
	expect_nothing(later);                   /* the new session has no GOP yet */
	expect_nothing(unread);
	pub(h, 2, false);                        /* no keyframe: dropped */
	expect_nothing(later);
	pub(h, 3, true);
	pub(h, 4, false);
	expect_init(later, 2);
	expect_media(later, 3, true);
	expect_media(later, 4, false);
	expect_init(unread, 2);
	expect_media(unread, 3, true);
	pub(h, 5, false);
	expect_eof(parked);                      /* stays ended */
	hub_reader_free(mid);
	hub_reader_free(parked);
	hub_reader_free(behind);
	hub_reader_free(unread);
	hub_reader_free(later);
	hub_free(h);
	fragment_unref(&old);
	free(q);
}

static void test_close(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct wake_log log = { 0 };
	struct hub_reader *parked = hub_reader_new(h, record_wake, &log);
	struct hub_reader *mid = hub_reader_new(h, NO_WAKE, NULL);
	struct hub_reader *behind = hub_reader_new(h, NO_WAKE, NULL);
	struct hub *empty = new_hub(1 << 20);
	struct wake_log log2 = { 0 };
	struct hub_reader *never = hub_reader_new(empty, record_wake, &log2);
	struct req *q = new_req(BIG), *q2 = new_req(BIG);
	uint8_t buf[BIG];

	(void)state;
	pub_init(h, 1);
	pub(h, 0, true);
	pub(h, 1, false);
	expect_init(parked, 1);
	expect_media(parked, 0, true);
	expect_media(parked, 1, false);
	assert_int_equal(hub_reader_read(parked, q->buf, q->size, q), -EAGAIN);
	expect_init(mid, 1);
	assert_int_equal(hub_reader_read(mid, buf, 10, NULL), 10);
	expect_init(behind, 1);
	expect_media(behind, 0, true);
	assert_false(hub_reader_ready(parked));

	hub_close(h);
	assert_int_equal(log.n, 1);
	assert_int_equal(q->got, 0);
	assert_true(hub_reader_ready(parked));
	expect_eof(parked);
	expect_eof(behind);
	assert_int_equal(hub_reader_read(mid, buf + 10, sizeof(buf) - 10, NULL), 90);
	assert_true(is_frag(buf, 100, 'K', 0));   /* its fragment whole, then the end */
	expect_eof(mid);
	pub(h, 2, true);                 /* late: dropped */
	expect_eof(behind);

	assert_int_equal(hub_reader_read(never, q2->buf, q2->size, q2), -EAGAIN);
	hub_close(empty);
	assert_int_equal(log2.n, 1);
	assert_int_equal(q2->got, 0);
	expect_eof(never);

	hub_reader_free(parked);
	hub_reader_free(mid);
	hub_reader_free(behind);
	hub_reader_free(never);
	hub_free(h);
	hub_free(empty);
	free(q);
	free(q2);
}

static void test_ready(void **state)
{
	struct hub *h = new_hub(1 << 20);
	struct hub_reader *r = hub_reader_new(h, NO_WAKE, NULL);

	(void)state;
	assert_false(hub_reader_ready(r));
	pub_init(h, 1);
	assert_false(hub_reader_ready(r));
	pub(h, 0, true);
	assert_true(hub_reader_ready(r));
	assert_true(hub_reader_ready(r));   /* asking twice takes nothing */
	expect_init(r, 1);
	assert_true(hub_reader_ready(r));
	expect_media(r, 0, true);
	assert_false(hub_reader_ready(r));
	pub(h, 1, false);
	assert_true(hub_reader_ready(r));
	expect_media(r, 1, false);
	assert_false(hub_reader_ready(r));
	hub_close(h);
	assert_true(hub_reader_ready(r));
	hub_reader_free(r);
	hub_free(h);
}

static void test_max_bytes(void **state)
{
	struct hub *h = new_hub(500);
	struct hub_reader *r = hub_reader_new(h, NO_WAKE, NULL);
	struct fragment *kept[12];

	(void)state;
	pub_init(h, 1);
	/* GOPs of 4 fragments of 100 bytes: two GOPs are 800 > 500. */
	for (int i = 0; i < 4; i++)
		kept[i] = pub_kept(h, i, i == 0, 100);
	expect_init(r, 1);
	expect_media(r, 0, true);
	for (int i = 4; i < 8; i++)
		kept[i] = pub_kept(h, i, i == 4, 100);
	for (int i = 0; i < 3; i++)
		assert_int_equal(refs(kept[i]), 1);
	for (int i = 3; i < 8; i++)
		assert_int_equal(refs(kept[i]), 2);
	expect_media(r, 4, true);            /* 1 went to the byte bound */
	assert_int_equal(hub_reader_skips(r), 1);

	/* A GOP bigger than the bound (a camera that sends no more
	 * keyframes) loses its start: never more than the bound is kept. A
	 * reader following it goes on; one behind it, and a new one, wait
	 * for the next keyframe. */
	struct hub_reader *follow = hub_reader_new(h, NO_WAKE, NULL);
	kept[8] = pub_kept(h, 8, true, 200);
	expect_init(follow, 1);
	expect_media(follow, 8, true);
	for (int i = 9; i < 12; i++) {
		kept[i] = pub_kept(h, i, false, 200);
		expect_media(follow, i, false);
	}
	for (int i = 0; i < 10; i++)
		assert_int_equal(refs(kept[i]), 1);
	for (int i = 10; i < 12; i++)
		assert_int_equal(refs(kept[i]), 2);
	expect_nothing(r);
	hub_reader_free(r);
	r = hub_reader_new(h, NO_WAKE, NULL);
	expect_nothing(r);
	struct fragment *key = pub_kept(h, 12, true, 200);
	expect_media(follow, 12, true);
	expect_init(r, 1);
	expect_media(r, 12, true);
	hub_reader_free(r);
	hub_reader_free(follow);
	hub_free(h);                         /* lets go of what it kept */
	for (int i = 10; i < 12; i++)
		assert_int_equal(refs(kept[i]), 1);
	for (int i = 0; i < 12; i++)
		fragment_unref(&kept[i]);
	fragment_unref(&key);
}

static void test_gop_eviction_and_ring_growth(void **state)
{
	struct hub *h = new_hub(SIZE_MAX);
	struct hub_reader *r = hub_reader_new(h, NO_WAKE, NULL);
	enum { GOP = 300 };                  /* longer than the ring's first size */
	struct fragment *first = NULL, *prev_key = NULL;

	(void)state;
	pub_init(h, 1);
	for (uint32_t i = 0; i < 3 * GOP; i++) {
		struct fragment *f = pub_kept(h, i, i % GOP == 0, HDR + i % 13);

		if (i == 0)
			first = fragment_ref(f);
		if (i == GOP)
			prev_key = fragment_ref(f);
		fragment_unref(&f);
	}
	/* GOPs at 0, 300, 600: only the first is dropped. */
	assert_int_equal(refs(first), 1);
	assert_int_equal(refs(prev_key), 2);
	expect_init(r, 1);
	for (uint32_t i = 2 * GOP; i < 3 * GOP; i++)
		expect_unit(r, i % GOP == 0 ? 'K' : 'P', i);
	expect_nothing(r);
	hub_reader_free(r);
	hub_free(h);
	assert_int_equal(refs(prev_key), 1);
	fragment_unref(&first);
	fragment_unref(&prev_key);
}

/* Threads: one publisher; readers that park, or wait for a tick as poll()
 * would. Each checks that its stream is the init and then whole fragments,
 * consecutive except for skips that land on keyframes. Failures are
 * recorded, and asserted on the main thread. */

#define T_FRAGS 2000
#define T_GOP 25
#define T_READERS 8
#define T_INIT_SIZE 77

struct twaiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	ssize_t got;
	uint8_t *buf;
	size_t size;
};

/* What poll() would give a reader that does not park: a tick per publish. */
struct ticker {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t n;
};

struct treader {
	struct hub *h;
	struct ticker *tick;
	int index;
	size_t bufsize;
	bool parks;
	bool interrupts;        /* takes every other parked read back */
	bool take_back;
	struct twaiter w;
	const char *failed;     /* first failure, NULL if none */
	int failed_line;
	uint64_t frags, jumps, skips;
};

#define CHECK(t, cond) do { \
	if (!(cond)) { (t)->failed = #cond; (t)->failed_line = __LINE__; goto out; } \
} while (0)

static void thread_wake(struct hub_reader *r, void *waiter, void *opaque)
{
	struct twaiter *w = waiter;

	(void)opaque;
	pthread_mutex_lock(&w->lock);
	w->got = hub_reader_read_locked(r, w->buf, w->size);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static ssize_t thread_read(struct treader *t, struct hub_reader *r, uint8_t *buf,
			   size_t size)
{
	ssize_t n;

	if (!t->parks) {
		while ((n = hub_reader_read(r, buf, size, NULL)) == -EAGAIN) {
			pthread_mutex_lock(&t->tick->lock);
			uint64_t seen = t->tick->n;

			if (!hub_reader_ready(r))
				while (t->tick->n == seen)
					pthread_cond_wait(&t->tick->cond, &t->tick->lock);
			pthread_mutex_unlock(&t->tick->lock);
		}
		return n;
	}
	for (;;) {
		t->w.done = false;
		t->w.buf = buf;
		t->w.size = size;
		n = hub_reader_read(r, buf, size, &t->w);
		if (n != -EAGAIN)
			return n;
		t->take_back = t->interrupts && !t->take_back;
		if (t->take_back && hub_reader_unpark(r, &t->w))
			continue;       /* taken back before wake(): ask again */
		pthread_mutex_lock(&t->w.lock);
		while (!t->w.done)
			pthread_cond_wait(&t->w.cond, &t->w.lock);
		pthread_mutex_unlock(&t->w.lock);
		return t->w.got;
	}
}

static void *reader_thread(void *arg)
{
	struct treader *t = arg;
	struct hub_reader *r = hub_reader_new(t->h, thread_wake, t);
	uint8_t *buf = malloc(t->bufsize), *unit = malloc(BIG);
	size_t have = 0, init_have = 0;
	int64_t prev = -1;

	CHECK(t, r && buf && unit);
	for (;;) {
		ssize_t n = thread_read(t, r, buf, t->bufsize);

		CHECK(t, n >= 0);
		if (n == 0)
			break;
		CHECK(t, (size_t)n <= t->bufsize);
		if (init_have < T_INIT_SIZE) {
			CHECK(t, init_have + n <= T_INIT_SIZE);
			memcpy(unit + init_have, buf, n);
			init_have += n;
			if (init_have == T_INIT_SIZE)
				CHECK(t, is_frag(unit, T_INIT_SIZE, 'I', 1));
			continue;
		}
		CHECK(t, have + n <= BIG);
		memcpy(unit + have, buf, n);
		have += n;
		if (have < HDR)
			continue;
		CHECK(t, have <= AV_RB32(unit + 4));   /* never into the next one */
		if (have < AV_RB32(unit + 4))
			continue;
		uint32_t seq = AV_RB32(unit);
		bool key = unit[8] == 'K';

		CHECK(t, is_frag(unit, have, key ? 'K' : 'P', seq));
		if (prev < 0)
			CHECK(t, key);
		else if (seq != prev + 1) {
			CHECK(t, key && seq > prev + 1);
			t->jumps++;
		}
		CHECK(t, key == (seq % T_GOP == 0));
		prev = seq;
		t->frags++;
		have = 0;
	}
	CHECK(t, have == 0 && init_have == T_INIT_SIZE);
	t->skips = hub_reader_skips(r);
out:
	hub_reader_free(r);
	free(buf);
	free(unit);
	return NULL;
}

struct tpublisher {
	struct hub *h;
	struct ticker *tick;
};

static void tick(struct ticker *t)
{
	pthread_mutex_lock(&t->lock);
	t->n++;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

static void *publisher_thread(void *arg)
{
	struct tpublisher *p = arg;

	hub_publish(p->h, make(FRAGMENT_INIT, 1, false, T_INIT_SIZE));
	for (uint32_t i = 0; i < T_FRAGS; i++) {
		if (i == T_FRAGS / 2)   /* a reconnect with the same parameters */
			hub_publish(p->h, make(FRAGMENT_INIT, 1, false, T_INIT_SIZE));
		hub_publish(p->h, make(FRAGMENT_MEDIA, i, i % T_GOP == 0, HDR + (i * 37) % 3000));
		tick(p->tick);
		if (i % 4 == 0)
			sched_yield();  /* let readers keep up now and then */
	}
	hub_close(p->h);
	tick(p->tick);
	return NULL;
}

static void test_threads(void **state)
{
	struct hub *h = new_hub(64 << 10);
	struct ticker ticker = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
	struct tpublisher p = { h, &ticker };
	struct treader t[T_READERS];
	pthread_t readers[T_READERS], publisher;
	size_t sizes[] = { 7, 100, 4096, BIG };

	(void)state;
	memset(t, 0, sizeof(t));
	for (int i = 0; i < T_READERS; i++) {
		t[i].h = h;
		t[i].tick = &ticker;
		t[i].index = i;
		t[i].bufsize = sizes[i % 4];
		t[i].parks = i < 5;
		t[i].interrupts = i == 4;
		pthread_mutex_init(&t[i].w.lock, NULL);
		pthread_cond_init(&t[i].w.cond, NULL);
		assert_int_equal(pthread_create(&readers[i], NULL, reader_thread, &t[i]), 0);
	}
	assert_int_equal(pthread_create(&publisher, NULL, publisher_thread, &p), 0);
	assert_int_equal(pthread_join(publisher, NULL), 0);
	for (int i = 0; i < T_READERS; i++) {
		assert_int_equal(pthread_join(readers[i], NULL), 0);
		if (t[i].failed)
			fail_msg("reader %d: line %d: %s", i, t[i].failed_line, t[i].failed);
		assert_true(t[i].frags > 0);
		assert_int_equal(t[i].jumps, t[i].skips);
		pthread_mutex_destroy(&t[i].w.lock);
		pthread_cond_destroy(&t[i].w.cond);
	}
	hub_free(h);
	pthread_mutex_destroy(&ticker.lock);
	pthread_cond_destroy(&ticker.cond);
}

/* Positioned readers: a parked read knows its offset. */
struct preq {
	uint64_t at;
	size_t size;
	ssize_t got;
	int woken;
	uint8_t buf[64];
};

static void record_pwake(struct hub_reader *r, void *waiter, void *opaque)
{
	struct preq *q = waiter;

	(void)opaque;
	q->woken++;
	q->got = hub_reader_pread_locked(r, q->buf, q->size, q->at, false);
}

#define CLAIMED ((uint64_t)1 << 40)
#define KEEP ((uint64_t)4 << 20)

static void test_positioned_reads(void **state)
{
	struct hub *h = new_hub(64 << 20);
	struct hub_reader *r = hub_reader_new_positioned(h, record_pwake, NULL, CLAIMED);
	static uint8_t buf[BIG];
	struct preq early = { .size = 64 }, later = { .size = 64 };
	uint64_t head, f0, f1, f2, f3;

	(void)state;
	assert_int_equal(hub_reader_pread(r, buf, sizeof(buf), 0, false, NULL), -EAGAIN);
	pub_init(h, 1);                                 /* 41 bytes */
	hub_publish(h, make(FRAGMENT_MEDIA, 0, true, 100));
	hub_publish(h, make(FRAGMENT_MEDIA, 1, false, 101));

	/* The head: the init segment, then a sidx that reaches the claimed
	 * size exactly, then the udta that stops TagLib and the REDA that
	 * stops MediaInfo. */
	head = 41 + MP4BUILD_LIVE_INDEX_SIZE;
	assert_int_equal(hub_reader_pread(r, buf, sizeof(buf), 0, false, NULL), head);
	assert_true(is_frag(buf, 41, 'I', 1));
	assert_memory_equal(buf + 41 + 4, "sidx", 4);
	assert_int_equal(AV_RB32(buf + 41), 52);
	assert_int_equal(41 + 52 + AV_RB64(buf + 41 + 28) + (AV_RB32(buf + 41 + 40) & 0x7fffffff),
			 CLAIMED);
	assert_memory_equal(buf + 41 + 52 + 4, "udta", 4);
	assert_int_equal(AV_RB32(buf + 41 + 52 + 8), 4);   /* shorter than a box */
	assert_memory_equal(buf + 41 + 52 + 16, "\0\0\0\x08REDA", 8);

	/* Fragments follow at the offsets after one another, one per read. */
	f0 = head;
	f1 = f0 + 100;
	f2 = f1 + 101;
	f3 = f2 + 102;
	assert_int_equal(hub_reader_pread(r, buf, sizeof(buf), f0, false, NULL), 100);
	assert_true(is_frag(buf, 100, 'K', 0));
	assert_int_equal(hub_reader_pread(r, buf, sizeof(buf), f1, false, NULL), 101);
	assert_true(is_frag(buf, 101, 'P', 1));
	/* Back again, into the middle of a fragment and of the head. */
	assert_int_equal(hub_reader_pread(r, buf, 10, f0 + 50, false, NULL), 10);
	assert_int_equal(buf[0], pattern(0, 50));
	assert_int_equal(hub_reader_pread(r, buf, 3, 5, false, NULL), 3);
	assert_memory_equal(buf, "\0\0\x29", 3);             /* the init's size, 41 */

	/* Poll: ready while a read where the last one ended would not park. */
	assert_int_equal(hub_reader_pread(r, buf, 40, f0, false, NULL), 40);
	assert_true(hub_reader_ready(r));
	assert_int_equal(hub_reader_pread(r, buf, 60, f0 + 40, false, NULL), 60);
	assert_true(hub_reader_ready(r));                   /* fragment 1 is there */
	assert_int_equal(hub_reader_pread(r, buf, sizeof(buf), f1, false, NULL), 101);
	assert_false(hub_reader_ready(r));

	/* Ahead of the stream: two reads park, the nearer is answered first. */
	later.at = f3 + 20;
	early.at = f2 + 10;
	assert_int_equal(hub_reader_pread(r, later.buf, later.size, later.at, false, &later), -EAGAIN);
	assert_int_equal(hub_reader_pread(r, early.buf, early.size, early.at, false, &early), -EAGAIN);
	hub_publish(h, make(FRAGMENT_MEDIA, 2, false, 102));
	assert_int_equal(early.woken, 1);
	assert_int_equal(early.got, 64);
	assert_int_equal(early.buf[0], pattern(2, 10));
	assert_int_equal(later.woken, 0);
	hub_publish(h, make(FRAGMENT_MEDIA, 3, false, 103));
	assert_int_equal(later.woken, 1);
	assert_int_equal(later.got, 64);
	assert_int_equal(later.buf[0], pattern(3, 20));

	/* Far past what came is the end of the file, not a wait. */
	assert_int_equal(hub_reader_pread(r, buf, 16, f3 + 103 + KEEP, false, NULL), 0);
	assert_int_equal(hub_reader_pread(r, buf, 16, CLAIMED - 16, false, NULL), 0);

	/* Past 4 MiB taken, the oldest fragments go; the head stays. */
	for (uint32_t seq = 4; seq < 10; seq++) {
		struct fragment *f = make(FRAGMENT_MEDIA, seq, seq == 4, 1 << 20);
		uint64_t at = f3 + 103 + (uint64_t)(seq - 4) * (1 << 20);

		hub_publish(h, f);
		assert_int_equal(hub_reader_pread(r, buf, 16, at, false, NULL), 16);
		assert_int_equal(AV_RB32(buf), seq);
	}
	assert_int_equal(hub_reader_pread(r, buf, 16, f0, false, NULL), -EIO);
	assert_int_equal(hub_reader_pread(r, buf, 16, 0, false, NULL), 16);
	assert_int_equal(hub_reader_pread(r, buf, 16, f3 + 103 + (5 << 20), false, NULL), 16);

	/* A new generation: what was kept still reads; beyond it, the end. */
	pub_init(h, 2);
	hub_publish(h, make(FRAGMENT_MEDIA, 10, true, 100));
	assert_int_equal(hub_reader_pread(r, buf, 16, f3 + 103 + (6 << 20), false, NULL), 0);
	assert_int_equal(hub_reader_pread(r, buf, 16, f3 + 103 + (5 << 20), false, NULL), 16);
	hub_reader_free(r);
	hub_free(h);
}

/* Whole reads: across fragments, waiting for the last byte; short only at
 * the end of the stream. */
static void test_positioned_whole_reads(void **state)
{
	struct hub *h = new_hub(64 << 20);
	struct hub_reader *r = hub_reader_new_positioned(h, NO_WAKE, NULL, CLAIMED);
	static uint8_t buf[BIG];
	uint64_t f0 = 41 + MP4BUILD_LIVE_INDEX_SIZE;

	(void)state;
	pub_init(h, 1);
	hub_publish(h, make(FRAGMENT_MEDIA, 0, true, 100));
	assert_int_equal(hub_reader_pread(r, buf, 150, f0 - 20, true, NULL), -EAGAIN);
	hub_publish(h, make(FRAGMENT_MEDIA, 1, false, 101));
	assert_int_equal(hub_reader_pread(r, buf, 150, f0 - 20, true, NULL), 150);
	assert_memory_equal(buf + 16, "REDA", 4);           /* the head's end */
	assert_true(is_frag(buf + 20, 100, 'K', 0));
	assert_int_equal(buf[120], 0);                       /* fragment 1's header */
	assert_int_equal(buf[123], 1);
	assert_int_equal(buf[149], pattern(1, 29));
	/* A whole read reaching past the 4 MiB that may be waited for ends
	 * there: the end of the file, not a wait answered later. */
	assert_int_equal(hub_reader_pread(r, buf, 1 << 16, f0 + 201 + KEEP - 100, true, NULL),
			 0);
	assert_int_equal(hub_reader_pread(r, buf, 150, f0 + 150, true, NULL), -EAGAIN);
	hub_close(h);
	assert_int_equal(hub_reader_pread(r, buf, 150, f0 + 150, true, NULL), 51);
	assert_int_equal(hub_reader_pread(r, buf, 150, f0 + 201, true, NULL), 0);
	hub_reader_free(r);
	hub_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_order),
		cmocka_unit_test(test_reads_stay_in_fragment),
		cmocka_unit_test(test_park_and_wake_once),
		cmocka_unit_test(test_unpark),
		cmocka_unit_test(test_unpark_any),
		cmocka_unit_test(test_park_for_poll),
		cmocka_unit_test(test_reap),
		cmocka_unit_test(test_waiters_in_order),
		cmocka_unit_test(test_join_mid_gop),
		cmocka_unit_test(test_young_gop_starts_earlier),
		cmocka_unit_test(test_no_gop_no_media),
		cmocka_unit_test(test_slow_reader_skipped),
		cmocka_unit_test(test_identical_init_ignored),
		cmocka_unit_test(test_session_end),
		cmocka_unit_test(test_new_init_ends_old_readers),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_unreaped),
		cmocka_unit_test(test_max_bytes),
		cmocka_unit_test(test_gop_eviction_and_ring_growth),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_positioned_reads),
		cmocka_unit_test(test_positioned_whole_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
