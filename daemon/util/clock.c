/* clock.c - the real clock behind the time seam. */
#include "util/clock.h"

#include <time.h>

static int64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t system_wall_us(const struct clock *c) { (void)c; return read_clock(CLOCK_REALTIME); }
static int64_t system_monotonic_us(const struct clock *c) { (void)c; return read_clock(CLOCK_MONOTONIC); }

const struct clock clock_system = {
	.wall_us = system_wall_us,
	.monotonic_us = system_monotonic_us,
};
