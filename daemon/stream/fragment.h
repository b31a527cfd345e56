/* fragment.h - one unit of muxer output, shared read-only between threads:
 * the init segment (ftyp+moov) or one moof+mdat media fragment. */
#ifndef CAMFS_FRAGMENT_H
#define CAMFS_FRAGMENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fragment_kind { FRAGMENT_INIT, FRAGMENT_MEDIA };

struct fragment {
	atomic_int refs;
	enum fragment_kind kind;
	bool keyframe;          /* media: starts with a video keyframe */
	int64_t media_us;       /* media: dts of the first sample, µs since session start */
	int64_t duration_us;    /* media: sum of its video sample durations */
	int64_t wall_us;        /* when its first packet arrived (clock seam) */
	uint32_t generation;    /* bumps with every init: a new session or codec */
	size_t size;
	uint8_t data[];
};

/* A new fragment with refs = 1 and size bytes of room, or NULL. */
struct fragment *fragment_new(enum fragment_kind kind, size_t size);
/* Returns f with one more reference. */
struct fragment *fragment_ref(struct fragment *f);
/* Drops one reference and sets *f to NULL; frees on the last. NULL ok. */
void fragment_unref(struct fragment **f);

#endif
