/* backoff.h - reconnect delays: exponential from 1 s to a 30 s cap, with
 * jitter so cameras that failed together do not retry together. */
#ifndef CAMFS_BACKOFF_H
#define CAMFS_BACKOFF_H

#include <stdint.h>

struct backoff {
	int64_t min_us, max_us;
	int64_t next_us;  /* the un-jittered delay the next failure waits */
	uint64_t rng;     /* xorshift state for the jitter */
};

void backoff_init(struct backoff *b, int64_t min_us, int64_t max_us, uint64_t seed);
/* The delay to wait after one more failure: next_us +/- 20%, then doubles. */
int64_t backoff_next(struct backoff *b);
/* The source worked again: start from min_us next time. */
void backoff_reset(struct backoff *b);

#endif
