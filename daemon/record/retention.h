/* retention.h - deletes the oldest footage when a limit is passed: age
 * (retain_days, per camera), total store size (events included), or free
 * space on the disk. */
#ifndef CAMFS_RETENTION_H
#define CAMFS_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct store_segment;

struct retention_disk {
	int64_t total;    /* bytes of the filesystem holding the store */
	int64_t avail;    /* bytes free for us */
	/* Bytes of the store's events (snapshots, motion and uploaded, and
	 * their spans): part of the store's size for max_store_size, but
	 * never deleted here (events_retain_days is their age limit). */
	int64_t events;
	/* Bytes of store files already deleted but still open in camfs (a
	 * clip, a reader): free once they close, so they count as free space
	 * for min_free; else each run would delete more footage for them. */
	int64_t held_deleted;
};

/* The pure decision, testable on a simulated clock and disk: marks victim[i]
 * for each segment (sorted oldest first) that must go at now_s. Segments
 * named in busy (the ones being written) are never chosen. need_bytes > 0
 * (after ENOSPC) deletes oldest-first at least that many more bytes even when
 * every limit is met; a held segment's bytes do not count towards it (they
 * come free only when its readers close it). Returns the number of victims. */
size_t retention_plan(const struct config *cfg, const struct store_segment *segs,
		      size_t n, int64_t now_s, const struct retention_disk *disk,
		      const char *const *busy, size_t n_busy, int64_t need_bytes,
		      bool *victim);

/* Lists the store and its events (their bytes count towards max_store_size),
 * plans with the real disk (statvfs, plus the deleted files camfs still
 * holds open; camfs's open files mark segments held), unlinks the victims
 * oldest first (each
 * with its sidecar), then fsyncs each day dir touched and removes it if
 * empty, except today's and yesterday's; camera dirs always stay
 * (docs/durability.md, Retention). Returns bytes freed (>= 0) or negative
 * errno. */
int64_t retention_run(const struct config *cfg, int64_t now_us,
		      const char *const *busy, size_t n_busy, int64_t need_bytes);
/* The bytes retention_run counted freed exclude held segments' bytes; it
 * logs what statvfs saw come free after the deletions. */

#endif
