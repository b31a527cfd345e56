/* segment.h - one recording file being written: the init segment, then
 * whole media fragments, synced in batches, never left torn or empty. */
#ifndef CAMFS_SEGMENT_H
#define CAMFS_SEGMENT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct fragment;

struct segment {
	int fd;
	char path[PATH_MAX];
	uint32_t generation;    /* of the init it starts with */
	int64_t start_media_us; /* of its first fragment */
	int64_t end_media_us;   /* end of its last fragment */
	int64_t start_wall_us;
	uint64_t size;          /* bytes of whole units written */
	int fragments;
	bool dirty;             /* written since the last sync */
};

/* Creates a new file for camera in store, named after first->wall_us, and
 * writes init then first (a keyframe fragment). The directory entry is
 * synced before this returns. On failure nothing is left on disk.
 * Returns 0 or negative errno (-ENOSPC when the disk is full). */
int segment_open(struct segment **out, const char *store, const char *camera,
		 const struct fragment *init, const struct fragment *first);
/* Appends one fragment with a single write; a short or failed write is cut
 * back so the file still ends on a whole fragment. 0 or negative errno. */
int segment_append(struct segment *seg, const struct fragment *frag);
/* fdatasync if anything was written since the last sync. */
int segment_sync(struct segment *seg);
/* Syncs and closes. Accepts NULL. */
void segment_close(struct segment *seg);

#endif
