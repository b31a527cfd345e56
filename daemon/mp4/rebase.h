/* rebase.h - moves a segment's fragments onto a timeline of its own: the
 * decode times (tfdt) and prft media times less the segment's start, so
 * every segment file presents from 0 with its true duration. */
#ifndef CAMFS_REBASE_H
#define CAMFS_REBASE_H

#include <stddef.h>
#include <stdint.h>

#define REBASE_MAX_TRACKS 2

struct rebase {
	int n_tracks;
	uint32_t track_id[REBASE_MAX_TRACKS];
	uint32_t timescale[REBASE_MAX_TRACKS];
	uint64_t base[REBASE_MAX_TRACKS];   /* subtracted, per track timescale */
};

/* Reads the tracks (id, timescale) from an init segment (ftyp, moov).
 * 0 or -EBADMSG. */
int rebase_init(struct rebase *rb, const uint8_t *init, size_t size);

/* The size of the init segment rebase_header writes: init's and a mehd. */
size_t rebase_header_size(size_t init_size);

/* Writes init with a mehd box (fragment duration, 64-bit, 0 for now) in its
 * mvex, into out (rebase_header_size bytes). *duration_at is where in out
 * the duration lies, *timescale the movie timescale it counts in: a
 * segment closed writes its duration there, so players know it without
 * reading every fragment. 0 or -EBADMSG. */
int rebase_header(const uint8_t *init, size_t size, uint8_t *out, size_t *duration_at,
		  uint32_t *timescale);

/* Takes the segment's start from its first fragment: the earliest decode
 * time of its tracks, the same instant for every track so they stay in
 * sync. 0 or -EBADMSG. */
int rebase_start(struct rebase *rb, const uint8_t *frag, size_t size);

/* The length of a fragment's head: its boxes before the mdat (prft, moof),
 * the bytes rebase_head rewrites; 0 if the fragment has no mdat. */
size_t rebase_head_size(const uint8_t *frag, size_t size);

/* Copies the head of frag (head bytes, from rebase_head_size) into out with
 * its times rebased. A time before the start stays 0. 0 or -EBADMSG. */
int rebase_head(const struct rebase *rb, const uint8_t *frag, size_t head, uint8_t *out);

#endif
