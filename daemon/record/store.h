/* store.h - the plain-file store, laid out like the tree:
 * STORE/<camera>/<YYYY-MM-DD>/<HH-MM-SS>.mp4, dates and times in local time
 * (the process's TZ, which main sets from the config). */
#ifndef CAMFS_STORE_H
#define CAMFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STORE_DATE_LEN 11   /* "YYYY-MM-DD" + NUL */
#define STORE_TIME_LEN 9    /* "HH-MM-SS" + NUL */

/* Local date and time of wall_us as folder and file stems. */
void store_date_name(int64_t wall_us, char date[STORE_DATE_LEN]);
void store_time_name(int64_t wall_us, char time[STORE_TIME_LEN]);

/* "YYYY-MM-DD" -> tm_year, tm_mon, tm_mday; false for anything else. */
bool store_parse_date(const char *s, struct tm *tm);
/* "HH-MM-SS.mp4" or "HH-MM-SS_N.mp4" (N >= 2, no leading zero) -> tm_hour,
 * tm_min, tm_sec and *seq (1 without a suffix); false for anything else. */
bool store_parse_segment_name(const char *s, struct tm *tm, unsigned long *seq);

/* Noon, local time, of the calendar date `days` dates after (before, if
 * negative) the local date of wall_us: store_date_name() of it names that
 * date. For walking dates: adding multiples of 24 h instead repeats a date
 * after a 25-hour DST day and skips one after a 23-hour day. Noon keeps clear
 * of the changes, which happen at night. */
int64_t store_date_step_us(int64_t wall_us, int days);

/* Creates (if needed) STORE/camera/date for a segment starting at wall_us,
 * fsyncing each parent whose entries changed, and writes into path the name
 * of a segment file that does not exist yet: HH-MM-SS.mp4, or HH-MM-SS_2.mp4,
 * _3, ... when that name is taken (the repeated hour at a DST change, a clock
 * stepped back). Never returns an existing file. 0 or negative errno. */
int store_new_segment_path(const char *store, const char *camera, int64_t wall_us,
			   char *path, size_t n);

/* mkdir dir (its parent must exist); when it was new, fsync its parent so
 * the entry survives a power cut before the first file inside it is made
 * durable. 0 if it exists or was made, else negative errno. */
int store_make_dir(const char *dir);

/* fsyncs the directory holding path (after creating or unlinking in it). */
int store_sync_parent(const char *path);

/* Opens path, a file or directory below store ("STORE/cam/..."), following
 * no symbolic link at any step below store (store itself may be one): a
 * link planted in the store never leads camfs, running as root, to a file
 * elsewhere (open_beneath). flags as for open(2). An fd, or negative errno:
 * -ELOOP or -ENOTDIR at a link, -EXDEV for a ".." step, -EINVAL for a path
 * outside store. */
int store_open(const char *store, const char *path, int flags);
/* store_open of a regular file for reading; -ENOENT for anything else
 * there (a link, directory, FIFO or device). A FIFO's open does not wait
 * for a writer. */
int store_open_file(const char *store, const char *path);

struct store_segment {
	char *path;        /* malloc'd */
	char camera[64];
	int64_t start_s;   /* local date+time of the name, as Unix seconds */
	int64_t size;      /* bytes allocated on disk (st_blocks * 512) */
	uint64_t ino;      /* its inode, on the store's filesystem */
	bool held;         /* open in camfs (a clip, a reader): deleting it frees
			    * nothing until they close it; set by retention */
};

/* Every segment in the store, oldest first (by start, then name). The caller
 * frees with store_segments_free(). 0 or negative errno. */
int store_list_segments(const char *store, struct store_segment **out, size_t *n);
void store_segments_free(struct store_segment *segs, size_t n);

#endif
