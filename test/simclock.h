/* simclock.h - a clock whose wall time the test or benchmark sets (footage
 * "recorded" at any date, faster than real time) and whose monotonic time is
 * the system's, so the writer still syncs about once a real second. */
#ifndef CAMFS_SIMCLOCK_H
#define CAMFS_SIMCLOCK_H

#include <stdatomic.h>
#include <stdint.h>

#include "util/clock.h"

static _Atomic int64_t sim_wall_us;
static int64_t sim_wall(const struct clock *c) { (void)c; return atomic_load(&sim_wall_us); }
static int64_t real_monotonic(const struct clock *c) { (void)c; return clock_monotonic_us(&clock_system); }
static const struct clock sim_clock = { .wall_us = sim_wall, .monotonic_us = real_monotonic };

#endif
