/* mp4build.h - writes the moov box of a progressive (non-fragmented) MP4
 * whose sample data lies elsewhere: the tables (stts, ctts, stss, stsc, stsz,
 * co64) for samples laid out in chunks, and an edit list so playback starts
 * exactly where asked. Used for virtual clips; writes no sample data. Also
 * the boxes that follow the moov of live.mp4 (mp4build_live_index). */
#ifndef CAMFS_MP4BUILD_H
#define CAMFS_MP4BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mp4build_sample {
	uint32_t size;
	uint32_t duration;     /* track timescale */
	int32_t cts_offset;
	bool keyframe;
};

/* A run of consecutive samples stored contiguously at one offset of the
 * output file (one fragment's samples of one track). */
struct mp4build_chunk {
	uint64_t offset;       /* in the output file */
	uint32_t first_sample; /* index into the track's samples */
	uint32_t n_samples;
};

struct mp4build_track {
	uint32_t track_id;
	uint32_t timescale;
	uint32_t handler;                 /* 'vide' or 'soun' */
	uint16_t width, height;
	const uint8_t *stsd;              /* copied verbatim */
	size_t stsd_size;
	const struct mp4build_sample *samples;
	size_t n_samples;
	const struct mp4build_chunk *chunks;
	size_t n_chunks;
	/* Edit list: play media from edit_media_time (track timescale, a
	 * composition time) for edit_duration (movie timescale). */
	int64_t edit_media_time;
	uint64_t edit_duration;
};

/* The ftyp box (isom, compatible iso2 avc1 mp41); its size is fixed, so
 * offsets can be planned before the moov is built. */
size_t mp4build_ftyp(uint8_t *out, size_t cap);

/* The moov box for tracks, with movie timescale movie_timescale. Returns
 * its size; writes into out if cap is enough (call with out NULL, cap 0 to
 * learn the size first; the size does not depend on the chunk offsets'
 * values, so a caller may size, then lay out, then write). */
size_t mp4build_moov(const struct mp4build_track *tracks, int n_tracks,
		     uint32_t movie_timescale, uint8_t *out, size_t cap);

/* What follows the moov of an endless live stream read as a file that
 * claims file_size bytes, written at offset at: a sidx whose one reference
 * ends at that size, so demuxers that scan a seekable file's fragments to
 * its end before they play (FFmpeg's, VLC's) take the index as complete and
 * read on as the stream comes; then boxes that demuxers step over and that
 * stop tools which would otherwise walk every box to the end: a udta with
 * a child too short to be a box, which TagLib (VLC's tag reader, file
 * managers' extractors) takes for damage, and an empty REDA, at which
 * MediaInfo reports what it has read. Returns MP4BUILD_LIVE_INDEX_SIZE. */
#define MP4BUILD_LIVE_INDEX_SIZE 76
size_t mp4build_live_index(uint8_t out[MP4BUILD_LIVE_INDEX_SIZE], uint32_t track_id, uint64_t at,
			   uint64_t file_size);

#endif
