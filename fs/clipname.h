/* clipname.h - the names of virtual clips: <start>+<duration>.mp4 or
 * <start>--<end>.mp4, times as YYYY-MM-DDTHH-MM-SS in local time, durations
 * like 90s, 5m, 1h30m. */
#ifndef CAMFS_CLIPNAME_H
#define CAMFS_CLIPNAME_H

#include <stdint.h>

#define CLIPNAME_MAX_SECONDS (31 * 24 * 3600)   /* a longer range is refused */

/* Parses name into [*start_us, *end_us) (µs since the Unix epoch, local time
 * of the process TZ). -EINVAL for a malformed name, an impossible time (Feb
 * 30, 25:00, a local time skipped by DST), an empty or negative range, or one
 * longer than CLIPNAME_MAX_SECONDS. Never reads past the NUL. */
int clipname_parse(const char *name, int64_t *start_us, int64_t *end_us);

#endif
