/* ratelimit.h — a token bucket on a cycle counter (the TSC in the engine).
 *
 * Credit accumulates in fixed point (cycles x 2^16) so fractional tokens
 * carry over from call to call and the long-run rate is exact to about one
 * part in 2^16 x cycles-per-token; it is capped at `burst` tokens so a stall
 * never turns into a flood. No floating point after init, no division but
 * one 64-bit one per take. Single owner (one TX lcore), no locking. */
#ifndef MC_ENGINE_RATELIMIT_H
#define MC_ENGINE_RATELIMIT_H

#include <stdint.h>

struct tbucket {
	uint64_t last;	 /* cycle counter at the previous take */
	uint64_t credit; /* accumulated credit, cycles << 16 */
	uint64_t cost;	 /* credit one token costs: (hz << 16) / rate; 0 = unlimited */
	uint64_t cap;	 /* most credit held: burst x cost */
};

/* Set up for rate_per_sec tokens a second on a counter ticking hz times a
 * second, holding at most burst (>= 1) tokens; starts empty at time 0.
 * rate_per_sec <= 0 means unlimited (every take is granted in full). */
void tbucket_init(struct tbucket *b, double rate_per_sec, uint64_t hz, uint32_t burst);

/* Restart the clock at `now` with an empty bucket (call before the first take
 * when the counter does not start at 0). */
void tbucket_reset(struct tbucket *b, uint64_t now);

/* Take up to `want` tokens at time `now` (non-decreasing); returns the number
 * granted, 0..want. */
uint32_t tbucket_take(struct tbucket *b, uint64_t now, uint32_t want);

#endif
