/* segment.h - one recording file being written: the init segment, then
 * whole media fragments, synced in batches, never left torn or empty. */
#ifndef CAMFS_SEGMENT_H
#define CAMFS_SEGMENT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "mp4/rebase.h"

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
	/* Its fragments' times less its start, so the file presents from 0;
	 * no tracks: written as they came (an init it could not read). */
	struct rebase rebase;
	size_t duration_at;     /* where its mehd's duration lies; 0: it has none */
	uint32_t timescale;     /* the movie timescale that duration counts in */
};

/* Creates a new file for camera in store, named after first->wall_us, and
 * writes init then first (a keyframe fragment), on a timeline that starts
 * at first's decode time (docs/recording.md). The directory entry is
 * synced before this returns. On failure nothing is left on disk.
 * Returns 0 or negative errno (-ENOSPC when the disk is full). */
int segment_open(struct segment **out, const char *store, const char *camera,
		 const struct fragment *init, const struct fragment *first);
/* Appends one fragment with a single write; a short or failed write is cut
 * back so the file still ends on a whole fragment. 0 or negative errno. */
int segment_append(struct segment *seg, const struct fragment *frag);
/* fdatasync if anything was written since the last sync. */
int segment_sync(struct segment *seg);
/* Writes the segment's duration into its header, syncs and closes.
 * Accepts NULL. */
void segment_close(struct segment *seg);

#endif
