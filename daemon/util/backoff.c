/* backoff.c - exponential reconnect delays with +/-20% jitter. */
#include "util/backoff.h"

void backoff_init(struct backoff *b, int64_t min_us, int64_t max_us, uint64_t seed)
{
	b->min_us = min_us;
	b->max_us = max_us;
	b->next_us = min_us;
	b->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int64_t backoff_next(struct backoff *b)
{
	int64_t base = b->next_us;
	int64_t span = base / 5;   /* 20% either way */
	int64_t jitter = span ? (int64_t)(xorshift(&b->rng) % (uint64_t)(2 * span + 1)) - span : 0;

	b->next_us = base * 2 > b->max_us ? b->max_us : base * 2;
	return base + jitter;
}

void backoff_reset(struct backoff *b)
{
	b->next_us = b->min_us;
}
