/* clip.h - a virtual MP4 of any time range of one camera's footage: a moov
 * built from the segments' indexes, then the sample data as byte ranges of
 * the segment files, which the clip holds open (retention cannot take them
 * from under a reader). */
#ifndef CAMFS_CLIP_H
#define CAMFS_CLIP_H

#include <stdint.h>

struct vfile;
struct writer;

struct clip_source {
	const char *store;
	const char *camera;       /* its name: STORE/<camera>/ */
	int cam;                  /* its index, for the writer */
	struct writer *writer;    /* the segment being written counts to its committed size */
};

/* Builds the clip of the wall-clock range [start_us, end_us). It starts at
 * the keyframe at or before start with an edit list so that playback begins
 * at start, skips gaps in recording, and ends early at a codec change.
 * *out gets a vfile with one reference. -ENOENT when no footage falls in the
 * range; other negative errno on failure. Thread-safe. */
int clip_build(const struct clip_source *src, int64_t start_us, int64_t end_us,
	       struct vfile **out);

/* When the segment file at path starts (the wall clock of its first video
 * frame) and how long its video lasts, from its index (the one clip builds
 * cache; the segment being written: what is committed so far). 0, -ENODATA
 * without frames or a wall clock, or negative errno. Thread-safe. */
int clip_segment_span(const struct clip_source *src, const char *path, int64_t *start_us,
		      int64_t *duration_us);

/* Drops every cached index (tests, shutdown). */
void clip_cache_clear(void);
/* How many segment indexes builds have read from their files so far, the
 * cache having missed (tests, benchmarks). */
uint64_t clip_indexes_read(void);

#endif
