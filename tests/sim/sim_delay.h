/* sim_delay.h — randomness for faults and the delay line of held replies.
 *
 * Fault decisions (loss, duplicates, delay, junk) must differ between two
 * probes of the same pair, so they come from a per-process generator rather
 * than the model's keyed hash. Held replies wait in a binary min-heap keyed
 * by their release time (TSC cycles); a reply is a few words, so a heap of a
 * million costs 32 MB of ordinary memory and no mbufs. */
#ifndef MC_SIM_DELAY_H
#define MC_SIM_DELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_frame.h"
#include "sim_model.h"

struct sim_rng {
	uint64_t state;
};

static inline uint64_t sim_rng_next(struct sim_rng *r)
{
	r->state += 0x9e3779b97f4a7c15ULL;
	return sim_mix64(r->state);
}

/* A probability as a threshold on 32 random bits: 0 never, 1 << 32 always. */
static inline uint64_t sim_chance_thresh(double p)
{
	if (!(p > 0.0))
		return 0;
	if (p >= 1.0)
		return 1ULL << 32;
	return (uint64_t)(p * 4294967296.0);
}

static inline bool sim_rng_chance(struct sim_rng *r, uint64_t thresh)
{
	return thresh != 0 && (sim_rng_next(r) >> 32) < thresh;
}

struct sim_delayed {
	uint64_t due; /* TSC cycle count at which the reply may leave */
	struct sim_reply reply;
};

struct sim_delay_line {
	struct sim_delayed *heap;
	size_t n, cap;
};

/* 0 or -ENOMEM. */
int sim_delay_init(struct sim_delay_line *d, size_t cap);
void sim_delay_free(struct sim_delay_line *d);

/* False when the line is full (the caller sends the reply at once). */
bool sim_delay_push(struct sim_delay_line *d, uint64_t due, const struct sim_reply *r);

/* Pop the earliest reply if it is due at `now`. */
bool sim_delay_pop_due(struct sim_delay_line *d, uint64_t now, struct sim_reply *out);

#endif
