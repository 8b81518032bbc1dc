/* ratelimit.c — token bucket in fixed point; see ratelimit.h. */
#include "ratelimit.h"

#define FRAC_BITS 16

void tbucket_init(struct tbucket *b, double rate_per_sec, uint64_t hz, uint32_t burst)
{
	double cost, cap;

	b->last = 0;
	b->credit = 0;
	if (rate_per_sec <= 0 || hz == 0) {
		b->cost = 0;
		b->cap = 0;
		return;
	}
	cost = (double)hz * (double)(1u << FRAC_BITS) / rate_per_sec;
	if (cost < 1)
		cost = 1; /* faster than one token per tick: as fast as the arithmetic allows */
	if (cost > (double)(UINT64_MAX >> 2))
		cost = (double)(UINT64_MAX >> 2);
	b->cost = (uint64_t)(cost + 0.5);
	cap = (double)b->cost * (burst ? burst : 1);
	b->cap = cap > (double)(UINT64_MAX >> 1) ? UINT64_MAX >> 1 : b->cost * (burst ? burst : 1);
}

void tbucket_reset(struct tbucket *b, uint64_t now)
{
	b->last = now;
	b->credit = 0;
}

uint32_t tbucket_take(struct tbucket *b, uint64_t now, uint32_t want)
{
	uint64_t elapsed, tokens;

	if (b->cost == 0)
		return want;
	if (now > b->last) {
		elapsed = now - b->last;
		b->last = now;
		if (elapsed >= (b->cap >> FRAC_BITS) + 1 ||
		    b->credit + (elapsed << FRAC_BITS) > b->cap)
			b->credit = b->cap;
		else
			b->credit += elapsed << FRAC_BITS;
	}
	if (b->credit < b->cost)
		return 0;
	tokens = b->credit / b->cost;
	if (tokens > want)
		tokens = want;
	b->credit -= tokens * b->cost;
	return (uint32_t)tokens;
}
