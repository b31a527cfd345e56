/* sidecar.h - motion-score sidecars: next to each segment HH-MM-SS.mp4 a
 * HH-MM-SS.motion.csv, a header line then one row per second,
 * "YYYY-MM-DD HH:MM:SS,SCORE" in local time, score 0..100. Plain enough
 * for a spreadsheet or gnuplot; every row is one write of a whole line. */
#ifndef CAMFS_SIDECAR_H
#define CAMFS_SIDECAR_H

#include <stddef.h>
#include <stdint.h>

#define SIDECAR_SUFFIX ".motion.csv"
#define SIDECAR_HEADER "time,score\n"
#define SIDECAR_ROW_MAX 32

/* The sidecar path of a segment path (its .mp4 replaced). */
void sidecar_path(const char *segment_path, char *out, size_t n);

/* Unlinks segment_path's sidecar, if it has one; says how many bytes it
 * held on disk (st_blocks), 0 when there was none. A failure is logged, not
 * returned: it must not stop the segment's own removal. Does not fsync. */
int64_t sidecar_remove(const char *segment_path);

/* One row as text: "2026-11-21 10:03:12,37\n". Returns its length. */
int sidecar_row(int64_t second_us, int score, char row[SIDECAR_ROW_MAX]);

/* Appends the row of second_us to segment_path's sidecar, creating it with
 * the header first. 0 or negative errno. */
int sidecar_append(const char *segment_path, int64_t second_us, int score);

#endif
