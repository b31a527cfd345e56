/* clock.h - the time seam: wall and monotonic microseconds, so segmenting
 * and retention can be tested on a simulated clock without waiting. */
#ifndef CAMFS_CLOCK_H
#define CAMFS_CLOCK_H

#include <stdint.h>

struct clock {
	int64_t (*wall_us)(const struct clock *c);      /* µs since the Unix epoch */
	int64_t (*monotonic_us)(const struct clock *c); /* µs, never goes back */
	void *opaque;
};

extern const struct clock clock_system;

static inline int64_t clock_wall_us(const struct clock *c) { return c->wall_us(c); }
static inline int64_t clock_monotonic_us(const struct clock *c) { return c->monotonic_us(c); }

#endif
