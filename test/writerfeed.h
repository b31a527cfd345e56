/* writerfeed.h - feeds a writer (camera 0) from a producer that can wait:
 * unit tests and benchmarks that write footage faster than real time. The
 * writer drops fragments when its queue is full, since a camera cannot
 * wait; this producer can, so every WRITER_FEED_MARK_EVERY fragments it
 * keeps a reference to one and, that many fragments later, waits until the
 * writer has let go of it (it is written) before going on. */
#ifndef CAMFS_WRITERFEED_H
#define CAMFS_WRITERFEED_H

#include <stdatomic.h>
#include <time.h>

#include "stream/fragment.h"
#include "record/writer.h"

#define WRITER_FEED_MARK_EVERY 1024

struct writer_feed {
	struct writer *writer;
	struct fragment *mark;
	long since_mark;
};

static inline void writer_feed_wait(struct fragment **mark)
{
	while (atomic_load(&(*mark)->refs) > 1) {
		struct timespec ts = { 0, 200000 };

		nanosleep(&ts, NULL);
	}
	fragment_unref(mark);
}

/* A fragmenter callback: opaque is the struct writer_feed. */
static inline void writer_feed_fragment(struct fragment *frag, void *opaque)
{
	struct writer_feed *f = opaque;

	if (frag->kind == FRAGMENT_MEDIA && ++f->since_mark >= WRITER_FEED_MARK_EVERY) {
		if (f->mark)
			writer_feed_wait(&f->mark);
		f->mark = fragment_ref(frag);
		f->since_mark = 0;
	}
	writer_push(f->writer, 0, frag);
}

/* Drops the mark still held (after the fragmenter is flushed). */
static inline void writer_feed_end(struct writer_feed *f)
{
	if (f->mark)
		fragment_unref(&f->mark);
}

#endif
