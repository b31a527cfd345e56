/* fragment.c - refcounted muxer output. */
#include "stream/fragment.h"

#include <stdlib.h>

struct fragment *fragment_new(enum fragment_kind kind, size_t size)
{
	struct fragment *f = calloc(1, sizeof(*f) + size);

	if (!f)
		return NULL;
	atomic_init(&f->refs, 1);
	f->kind = kind;
	f->size = size;
	return f;
}

struct fragment *fragment_ref(struct fragment *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	return f;
}

void fragment_unref(struct fragment **fp)
{
	struct fragment *f = *fp;

	*fp = NULL;
	if (f && atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1)
		free(f);
}
