/* hub.c - a camera's live fan-out: the kept fragments in a ring numbered by
 * sequence, and readers that follow those numbers or park until they grow. */
#include "stream/hub.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mp4/mp4build.h"
#include "util/array.h"
#include "stream/fragment.h"

/*
 * A reader never points into the ring: it holds a reference to the fragment
 * it is in the middle of, and otherwise only the sequence number it wants
 * next. Eviction therefore never touches readers, and a reader at a boundary
 * decides for itself: the next number if the ring still has it, the newest
 * GOP's keyframe if it does not (a skip), end of stream if the hub closed or
 * moved to another generation. Only readers with parked waiters are linked
 * into the hub, so publishing costs the parked readers, not all of them.
 *
 * Invariant, true whenever the lock is free: a reader with parked waiters
 * has nothing to read. So a new read on it parks behind them, and waiters
 * are answered in the order they came.
 */

#define RING_MIN 64               /* slots; grows by doubling, a power of two */
#define NEXT_KEY UINT64_MAX       /* a reader's next: the newest GOP's keyframe */
/* Players probe about 20 frames (ffmpeg's frame-rate guess) before they show
 * the first: a new reader gets at least this much media at once. */
#define START_MIN_US 1000000
/* A positioned reader keeps the fragments it took, this many bytes of them
 * (at least the newest), and waits for bytes at most this far ahead of what
 * it took: reads further on are past its end. */
#define KEEP_BYTES ((size_t)4 << 20)
/* The fragmenter adds the video stream first. */
#define VIDEO_TRACK_ID 1

/* A fragment a positioned reader took, and where it lies in its stream. */
struct kept {
	uint64_t at;
	struct fragment *f;
};

/* A parked waiter, and for a positioned reader the offset it reads at. */
struct waiting {
	void *waiter;
	uint64_t at;
};

struct hub {
	pthread_mutex_t lock;
	size_t max_bytes;                /* immutable */

	struct fragment *init;           /* guarded by lock; NULL before the first */
	uint32_t gen;                    /* guarded by lock; bumps with each new init */
	bool closed;                     /* guarded by lock */

	/* Kept media fragments, numbers first_seq .. first_seq + count - 1,
	 * the oldest at ring[head]. Numbers go on across generations. */
	struct fragment **ring;          /* guarded by lock */
	size_t cap, head, count;         /* guarded by lock */
	uint64_t first_seq;              /* guarded by lock */
	size_t bytes;                    /* guarded by lock: sizes of the kept */
	bool has_key;                    /* guarded by lock: the ring holds a GOP */
	/* guarded by lock: a keyframe came since the ring was last emptied, so
	 * what follows decodes for readers following it (even once max_bytes
	 * took that keyframe: has_key false) */
	bool in_gop;
	uint64_t newest_key;             /* guarded by lock: its keyframe, if has_key */

	struct hub_reader *parked;       /* guarded by lock: readers with waiters */
};

struct hub_reader {
	struct hub *h;                   /* immutable, like wake and opaque */
	hub_wake_fn *wake;
	void *opaque;

	bool started;                    /* guarded by h->lock: gen and next are set */
	uint32_t gen;                    /* guarded by h->lock */
	struct fragment *cur;            /* guarded by h->lock: being given, or NULL */
	size_t off;                      /* guarded by h->lock: bytes of cur given */
	uint64_t next;                   /* guarded by h->lock: after cur, or NEXT_KEY */
	uint64_t skips;                  /* guarded by h->lock */
	struct waiting *waiters;         /* guarded by h->lock: parked, oldest first */
	size_t n_waiters, waiters_cap;   /* guarded by h->lock */
	/* guarded by h->lock: links in h->parked while n_waiters > 0 */
	struct hub_reader *park_prev, *park_next;

	/* A positioned reader's (claimed > 0), guarded by h->lock: its stream
	 * starts with head (the init segment and a sidx), then each fragment
	 * taken lies at the offset after the one before, up to taken. */
	uint64_t claimed;                /* immutable: the size its file claims */
	struct fragment *head;           /* NULL until the init came */
	struct kept *kept;               /* kept[first .. n_kept - 1], oldest first */
	size_t first, n_kept, kept_cap, kept_bytes;
	uint64_t taken;
	uint64_t pos;                    /* after the last bytes read: for poll */
};

int hub_new(struct hub **out, size_t max_bytes)
{
	struct hub *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->ring = calloc(RING_MIN, sizeof(*h->ring));
	if (!h->ring) {
		free(h);
		return -ENOMEM;
	}
	h->cap = RING_MIN;
	h->max_bytes = max_bytes;
	pthread_mutex_init(&h->lock, NULL);
	*out = h;
	return 0;
}

/* Hub lock held. */
static struct fragment *ring_at(struct hub *h, uint64_t seq)
{
	return h->ring[(h->head + (seq - h->first_seq)) & (h->cap - 1)];
}

/* Hub lock held; count > 0. */
static void drop_oldest(struct hub *h)
{
	struct fragment **slot = &h->ring[h->head];

	h->bytes -= (*slot)->size;
	fragment_unref(slot);
	h->head = (h->head + 1) & (h->cap - 1);
	h->count--;
	h->first_seq++;
}

/* Hub lock held. */
static void drop_all(struct hub *h)
{
	while (h->count)
		drop_oldest(h);
	h->has_key = false;
	h->in_gop = false;
}

/* Hub lock held. False on ENOMEM. */
static bool append(struct hub *h, struct fragment *f)
{
	if (h->count == h->cap) {
		struct fragment **ring = malloc(2 * h->cap * sizeof(*ring));

		if (!ring)
			return false;
		for (size_t i = 0; i < h->count; i++)
			ring[i] = h->ring[(h->head + i) & (h->cap - 1)];
		free(h->ring);
		h->ring = ring;
		h->cap *= 2;
		h->head = 0;
	}
	h->ring[(h->head + h->count) & (h->cap - 1)] = f;
	h->count++;
	h->bytes += f->size;
	return true;
}

/* Makes cur hold r's next bytes if there are any: 1 if it does, 0 at end of
 * stream, -EAGAIN if nothing is there yet. Hub lock held. */
/* Where a new reader starts: the newest GOP's keyframe, or the keyframe
 * before it (still kept) while the newest GOP holds under START_MIN_US of
 * media. A little older, but the first picture comes at once instead of
 * after the player waited for frames in real time. Hub lock held, has_key. */
static uint64_t start_seq(struct hub *h)
{
	const struct fragment *key = ring_at(h, h->newest_key);
	const struct fragment *last = ring_at(h, h->first_seq + h->count - 1);

	if (last->media_us - key->media_us >= START_MIN_US)
		return h->newest_key;
	for (uint64_t s = h->newest_key; s-- > h->first_seq;)
		if (ring_at(h, s)->keyframe)
			return s;
	return h->newest_key;
}

static int advance(struct hub_reader *r)
{
	struct hub *h = r->h;

	for (;;) {
		uint64_t seq;

		if (r->cur && r->cur->kind == FRAGMENT_INIT && r->off == 0 &&
		    (r->gen != h->gen || h->closed)) {
			/* Nothing given yet: join the new generation (or end
			 * empty) instead of giving a stream with no fragments. */
			fragment_unref(&r->cur);
			r->started = false;
		}
		if (r->cur) {
			if (r->off < r->cur->size)
				return 1;
			fragment_unref(&r->cur);
		}
		if (h->closed)
			return 0;
		if (!r->started) {
			if (!h->init || !h->has_key)
				return -EAGAIN;
			r->started = true;
			r->gen = h->gen;
			r->next = NEXT_KEY;
			r->cur = fragment_ref(h->init);
			r->off = 0;
			continue;
		}
		if (r->gen != h->gen)
			return 0;
		seq = r->next;
		if (seq != NEXT_KEY && seq >= h->first_seq + h->count)
			return -EAGAIN;
		if (seq == NEXT_KEY || seq < h->first_seq) {
			if (!h->has_key)
				return -EAGAIN;
			if (seq != NEXT_KEY)
				r->skips++;     /* fell behind: what it needs is gone */
			/* NEXT_KEY only starts a stream; a skip goes to the newest. */
			seq = seq == NEXT_KEY ? start_seq(h) : h->newest_key;
		}
		r->cur = fragment_ref(ring_at(h, seq));
		r->off = 0;
		r->next = seq + 1;
	}
}

/* Hub lock held. */
static void unlink_parked(struct hub_reader *r)
{
	if (r->park_prev)
		r->park_prev->park_next = r->park_next;
	else if (r->h->parked == r)
		r->h->parked = r->park_next;
	if (r->park_next)
		r->park_next->park_prev = r->park_prev;
	r->park_prev = r->park_next = NULL;
}

/* Removes waiter i of r. Hub lock held. */
static void *take_waiter(struct hub_reader *r, size_t i)
{
	void *w = r->waiters[i].waiter;

	memmove(r->waiters + i, r->waiters + i + 1,
		(r->n_waiters - i - 1) * sizeof(*r->waiters));
	if (--r->n_waiters == 0)
		unlink_parked(r);
	return w;
}

/* Hub lock held. -EAGAIN once parked, or -ENOMEM. */
static int park(struct hub_reader *r, void *waiter, uint64_t at)
{
	struct hub *h = r->h;

	if (array_grow(&r->waiters, &r->waiters_cap, r->n_waiters, sizeof(*r->waiters)) < 0)
		return -ENOMEM;
	r->waiters[r->n_waiters++] = (struct waiting){ waiter, at };
	if (r->n_waiters == 1) {
		r->park_prev = NULL;
		r->park_next = h->parked;
		if (h->parked)
			h->parked->park_prev = r;
		h->parked = r;
	}
	return -EAGAIN;
}

/* Adds f at r->taken to what positioned reader r keeps, dropping the oldest
 * past KEEP_BYTES. False on ENOMEM. Hub lock held. */
static bool keep(struct hub_reader *r, struct fragment *f)
{
	if (r->first && r->n_kept == r->kept_cap) {
		r->n_kept -= r->first;
		memmove(r->kept, r->kept + r->first, r->n_kept * sizeof(*r->kept));
		r->first = 0;
	}
	if (array_grow(&r->kept, &r->kept_cap, r->n_kept, sizeof(*r->kept)) < 0)
		return false;
	r->kept[r->n_kept++] = (struct kept){ r->taken, fragment_ref(f) };
	r->taken += f->size;
	r->kept_bytes += f->size;
	while (r->kept_bytes > KEEP_BYTES && r->n_kept - r->first > 1) {
		r->kept_bytes -= r->kept[r->first].f->size;
		fragment_unref(&r->kept[r->first++].f);
	}
	return true;
}

/* The head of a positioned reader's stream: the init segment, then the
 * boxes that keep demuxers and tag readers from scanning to the end of the
 * size the file claims (mp4build_live_index). NULL on ENOMEM. */
static struct fragment *head_of(const struct fragment *init, uint64_t claimed)
{
	struct fragment *head = fragment_new(FRAGMENT_INIT, init->size + MP4BUILD_LIVE_INDEX_SIZE);

	if (!head)
		return NULL;
	head->generation = init->generation;
	memcpy(head->data, init->data, init->size);
	mp4build_live_index(head->data + init->size, VIDEO_TRACK_ID, init->size, claimed);
	return head;
}

/* Takes positioned reader r's next fragment whole into what it keeps: 1 if
 * it did, 0 at end of stream, -EAGAIN, -ENOMEM. Hub lock held. */
static int take(struct hub_reader *r)
{
	int ret = advance(r);

	if (ret <= 0)
		return ret;
	if (r->cur->kind == FRAGMENT_INIT) {
		if (r->head)
			return 0;      /* not within one generation */
		if (!(r->head = head_of(r->cur, r->claimed)))
			return -ENOMEM;
		r->taken = r->head->size;
	} else if (!keep(r, r->cur)) {
		return -ENOMEM;
	}
	r->off = r->cur->size;
	return 1;
}

/* The kept fragment holding offset at (< r->taken), by binary search: 1
 * with *f and *in set, -EIO if it is no longer kept. Hub lock held. */
static int find_kept(const struct hub_reader *r, uint64_t at, const struct fragment **f,
		     size_t *in)
{
	size_t lo = r->first, hi = r->n_kept;

	/* The last kept fragment that starts at or before at. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->kept[mid].at <= at)
			lo = mid;
		else
			hi = mid;
	}
	if (lo == r->n_kept || r->kept[lo].at > at)
		return -EIO;
	*f = r->kept[lo].f;
	*in = at - r->kept[lo].at;
	return 1;
}

/* Finds the byte at offset at of positioned reader r's stream, taking
 * fragments up to it: 1 with *f and *in set; 0 past the end of the stream,
 * or beyond KEEP_BYTES ahead of what it took (a reader that looks for a
 * file's end: there is none to wait for); -EIO for bytes it no longer
 * keeps; -EAGAIN; -ENOMEM. Hub lock held. */
static int locate(struct hub_reader *r, uint64_t at, const struct fragment **f, size_t *in)
{
	for (;;) {
		int ret;

		if (r->head) {   /* else nothing is taken yet */
			if (at < r->head->size) {
				*f = r->head;
				*in = at;
				return 1;
			}
			if (at < r->taken)
				return find_kept(r, at, f, in);
			if (at - r->taken >= KEEP_BYTES)
				return 0;
		}
		if ((ret = take(r)) <= 0)
			return ret;
	}
}

/* True if a read at offset at of positioned reader r would not park. Hub
 * lock held. */
static bool ready_at(struct hub_reader *r, uint64_t at)
{
	const struct fragment *f;
	size_t in;

	return locate(r, at, &f, &in) != -EAGAIN;
}

/* Answers every parked waiter that can now complete. Hub lock held. */
static void wake_parked(struct hub *h)
{
	struct hub_reader *r, *next;

	for (r = h->parked; r; r = next) {
		next = r->park_next;    /* wake() touches only r */
		if (r->claimed) {
			/* Each waits for its own bytes. */
			for (size_t i = 0; i < r->n_waiters;)
				if (ready_at(r, r->waiters[i].at))
					r->wake(r, take_waiter(r, i), r->opaque);
				else
					i++;
			continue;
		}
		while (r->n_waiters && advance(r) != -EAGAIN)
			r->wake(r, take_waiter(r, 0), r->opaque);
	}
}

static bool same_bytes(const struct fragment *a, const struct fragment *b)
{
	return a->size == b->size && memcmp(a->data, b->data, a->size) == 0;
}

void hub_publish(struct hub *h, struct fragment *frag)
{
	pthread_mutex_lock(&h->lock);
	if (h->closed)
		goto drop;
	if (frag->kind == FRAGMENT_INIT) {
		if (h->init && same_bytes(h->init, frag))
			goto drop;      /* same codec parameters: the stream goes on */
		fragment_unref(&h->init);
		h->init = frag;
		h->gen++;
		drop_all(h);
	} else {
		uint64_t seq = h->first_seq + h->count;

		if (!frag->keyframe && !h->in_gop)
			goto drop;      /* undecodable without a GOP to start from */
		if (frag->keyframe)
			while (h->has_key && h->first_seq < h->newest_key)
				drop_oldest(h);   /* older than the GOP before this one */
		if (!append(h, frag)) {
			/* Out of memory: lose this fragment's GOP too, and its
			 * number, so nobody continues across the hole. */
			drop_all(h);
			h->first_seq++;
			goto drop;
		}
		if (frag->keyframe) {
			h->has_key = h->in_gop = true;
			h->newest_key = seq;
		}
		/* Older GOPs go first. A GOP that alone outgrows max_bytes (a
		 * camera that sends no more keyframes) loses its start: readers
		 * following it go on, new ones wait for the next keyframe. */
		while (h->bytes > h->max_bytes && h->count > 1) {
			if (h->has_key && h->first_seq == h->newest_key)
				h->has_key = false;
			drop_oldest(h);
		}
	}
	wake_parked(h);
	pthread_mutex_unlock(&h->lock);
	return;
drop:
	pthread_mutex_unlock(&h->lock);
	fragment_unref(&frag);
}

void hub_end_session(struct hub *h)
{
	pthread_mutex_lock(&h->lock);
	drop_all(h);    /* readers hold what they are in the middle of */
	pthread_mutex_unlock(&h->lock);
}

void hub_close(struct hub *h)
{
	pthread_mutex_lock(&h->lock);
	h->closed = true;
	drop_all(h);    /* readers hold what they are in the middle of */
	fragment_unref(&h->init);
	wake_parked(h);
	pthread_mutex_unlock(&h->lock);
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	drop_all(h);
	fragment_unref(&h->init);
	free(h->ring);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

struct hub_reader *hub_reader_new(struct hub *h, hub_wake_fn *wake, void *opaque)
{
	struct hub_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->h = h;
	r->wake = wake;
	r->opaque = opaque;
	return r;
}

void hub_reader_free(struct hub_reader *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->h->lock);
	if (r->n_waiters)
		unlink_parked(r);   /* a caller's bug, but keep the hub's list sound */
	fragment_unref(&r->cur);
	fragment_unref(&r->head);
	for (size_t i = r->first; i < r->n_kept; i++)
		fragment_unref(&r->kept[i].f);
	pthread_mutex_unlock(&r->h->lock);
	free(r->kept);
	free(r->waiters);
	free(r);
}

ssize_t hub_reader_read_locked(struct hub_reader *r, void *buf, size_t size)
{
	size_t n;
	int ret;

	if (size == 0)
		return 0;       /* as read(2) does */
	ret = advance(r);
	if (ret <= 0)
		return ret;
	n = r->cur->size - r->off;
	if (n > size)
		n = size;
	memcpy(buf, r->cur->data + r->off, n);
	r->off += n;
	if (r->off == r->cur->size)
		fragment_unref(&r->cur);   /* don't pin it while parked */
	return n;
}

ssize_t hub_reader_read(struct hub_reader *r, void *buf, size_t size, void *waiter)
{
	ssize_t n;

	pthread_mutex_lock(&r->h->lock);
	n = hub_reader_read_locked(r, buf, size);
	if (n == -EAGAIN && waiter)
		n = park(r, waiter, 0);
	pthread_mutex_unlock(&r->h->lock);
	return n;
}

struct hub_reader *hub_reader_new_positioned(struct hub *h, hub_wake_fn *wake, void *opaque,
					     uint64_t claimed)
{
	struct hub_reader *r = hub_reader_new(h, wake, opaque);

	if (r)
		r->claimed = claimed;
	return r;
}

/* The bytes at offset at, within one fragment. Hub lock held. */
static ssize_t copy_at(struct hub_reader *r, void *buf, size_t size, uint64_t at)
{
	const struct fragment *f;
	size_t in, n;
	int ret;

	if ((ret = locate(r, at, &f, &in)) <= 0)
		return ret;
	n = f->size - in < size ? f->size - in : size;
	memcpy(buf, f->data + in, n);
	r->pos = at + n;
	return n;
}

ssize_t hub_reader_pread_locked(struct hub_reader *r, void *buf, size_t size, uint64_t at,
				bool whole)
{
	const struct fragment *f;
	size_t in, done = 0;

	if (size == 0)
		return 0;
	if (!whole)
		return copy_at(r, buf, size, at);
	if (locate(r, at + size - 1, &f, &in) == -EAGAIN)
		return -EAGAIN;
	/* Its last byte is there, or past the end of the stream or of what
	 * may be waited for: either way the read ends where the bytes do. */
	while (done < size) {
		ssize_t n = copy_at(r, (uint8_t *)buf + done, size - done, at + done);

		if (n == -EAGAIN)
			n = 0;
		if (n <= 0)
			return done ? (ssize_t)done : n;
		done += n;
	}
	return done;
}

ssize_t hub_reader_pread(struct hub_reader *r, void *buf, size_t size, uint64_t at, bool whole,
			 void *waiter)
{
	ssize_t n;

	pthread_mutex_lock(&r->h->lock);
	n = hub_reader_pread_locked(r, buf, size, at, whole);
	if (n == -EAGAIN && waiter)   /* a whole read waits for its last byte */
		n = park(r, waiter, whole ? at + size - 1 : at);
	pthread_mutex_unlock(&r->h->lock);
	return n;
}

bool hub_reader_unpark(struct hub_reader *r, void *waiter)
{
	bool found = false;

	pthread_mutex_lock(&r->h->lock);
	for (size_t i = 0; i < r->n_waiters; i++)
		if (r->waiters[i].waiter == waiter) {
			take_waiter(r, i);
			found = true;
			break;
		}
	pthread_mutex_unlock(&r->h->lock);
	return found;
}

void *hub_reader_unpark_any(struct hub_reader *r)
{
	void *w = NULL;

	pthread_mutex_lock(&r->h->lock);
	if (r->n_waiters)
		w = take_waiter(r, r->n_waiters - 1);
	pthread_mutex_unlock(&r->h->lock);
	return w;
}

bool hub_reader_ready(struct hub_reader *r)
{
	bool ready;

	pthread_mutex_lock(&r->h->lock);
	ready = r->claimed ? ready_at(r, r->pos) : advance(r) != -EAGAIN;
	pthread_mutex_unlock(&r->h->lock);
	return ready;
}

uint64_t hub_reader_skips(struct hub_reader *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->h->lock);
	n = r->skips;
	pthread_mutex_unlock(&r->h->lock);
	return n;
}

int hub_reader_park(struct hub_reader *r, void *waiter)
{
	int ret;

	pthread_mutex_lock(&r->h->lock);
	if (r->claimed)   /* where the last read ended */
		ret = ready_at(r, r->pos) ? 0 : park(r, waiter, r->pos);
	else
		ret = advance(r) == -EAGAIN ? park(r, waiter, 0) : 0;
	pthread_mutex_unlock(&r->h->lock);
	return ret;
}

void hub_reap(struct hub *h, hub_wake_fn *owner, hub_cancel_fn *cancel, void *arg)
{
	pthread_mutex_lock(&h->lock);
	for (struct hub_reader *r = h->parked, *next; r; r = next) {
		next = r->park_next;    /* take_waiter may unlink r */
		for (size_t i = 0; r->wake == owner && i < r->n_waiters;)
			if (cancel(r, r->waiters[i].waiter, arg))
				take_waiter(r, i);
			else
				i++;
	}
	pthread_mutex_unlock(&h->lock);
}
