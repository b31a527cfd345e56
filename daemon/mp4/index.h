/* index.h - a segment's sample index, derived from the file's own boxes (no
 * second source of truth): its tracks from the init segment, and for every
 * sample its place in the file, size, timing and keyframe flag, with the
 * wall clock of every fragment from its prft box. */
#ifndef CAMFS_INDEX_H
#define CAMFS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INDEX_MAX_TRACKS 2

struct index_sample {
	uint64_t offset;       /* of its bytes in the segment file */
	uint32_t size;
	uint32_t duration;     /* in the track's timescale */
	int32_t cts_offset;    /* composition minus decode time */
	bool keyframe;
	uint64_t dts;          /* decode time, track timescale (tfdt-based) */
	uint32_t fragment;     /* which fragment (0-based) it came in */
};

struct index_track {
	uint32_t track_id;
	uint32_t timescale;
	uint32_t handler;          /* 'vide' or 'soun' (fourcc as in mp4box.h) */
	uint16_t width, height;    /* video */
	uint8_t *stsd;             /* the whole stsd box, copied from the moov */
	size_t stsd_size;
	struct index_sample *samples;
	size_t n_samples;
};

struct index_fragment {
	uint64_t moof_offset;      /* where the fragment starts in the file */
	int64_t wall_us;           /* prft wall clock of its first sample, µs since
				    * the Unix epoch; 0 if the fragment has no prft */
	uint64_t prft_media_time;  /* the media time (track timescale) prft refers to:
				    * the presentation time of the fragment's first
				    * sample of that track, on this file's timeline */
	uint32_t prft_track_id;
};

struct index {
	struct index_track tracks[INDEX_MAX_TRACKS];
	int n_tracks;
	struct index_fragment *fragments;
	size_t n_fragments;
	uint64_t indexed_size;     /* bytes covered: the end of the last whole fragment */
};

/* Indexes the segment file open at fd, reading only box headers and moov,
 * moof contents (never sample data), up to file_size bytes; a torn last
 * fragment is left out. Fills *out (freed with index_clear). 0, -EBADMSG for
 * a file that is not a camfs segment, or negative errno. */
int index_read(int fd, uint64_t file_size, struct index *out);
void index_clear(struct index *ix);   /* accepts a zeroed or half-filled index */

/* The wall clock (µs since the Unix epoch) of decode time dts of track t,
 * from the nearest fragment's prft at or before it; 0 if none is known. */
int64_t index_wall_us(const struct index *ix, int t, uint64_t dts);

/* The video track's number, or -1. */
int index_video_track(const struct index *ix);

#endif
