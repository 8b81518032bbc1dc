/* cyclic.h — a random permutation of [0, n) from a cyclic group (ZMap's method).
 *
 * The target space (address index x port index) is numbered 0..n-1. The
 * multiplicative group of integers modulo the smallest prime p > n is cyclic;
 * walking it from a seeded start by a seeded generator visits 1..p-1 once
 * each, and element e stands for index e-1 (elements with e-1 >= n are
 * skipped). The walk is split among shards x TX queues by position residue,
 * so every index is produced by exactly one part. See cyclic.c for the essay. */
#ifndef MC_ENGINE_CYCLIC_H
#define MC_ENGINE_CYCLIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CYCLIC_MAX_N (UINT64_C(1) << 48) /* n must be below this */

struct cyclic_group {
	uint64_t n;	    /* size of the index space */
	uint64_t prime;	    /* smallest prime > n */
	uint64_t generator; /* a primitive root mod prime, chosen from the seed */
	uint64_t start;	    /* first element of the cycle, in [1, prime-1], from the seed */
	uint64_t mont_ninv; /* -prime^-1 mod 2^64 for Montgomery steps; 0 when prime == 2 */
	uint64_t mont_r;    /* 2^64 mod prime */
};

/* A part's position: a few words, save and restore it by plain assignment. */
struct cyclic_iter {
	uint64_t elem;	    /* next element to look at */
	uint64_t mult;	    /* generator^nparts mod prime: one step of this part */
	uint64_t left;	    /* cycle positions this part has still to visit */
	uint64_t mult_mont; /* mult * 2^64 mod prime: one Montgomery reduction per step */
};

/* Build the group for n indexes; the same (n, seed) always gives the same
 * order. 0, or -EINVAL when n == 0 or n >= CYCLIC_MAX_N. */
int cyclic_group_init(struct cyclic_group *g, uint64_t n, uint64_t seed);

/* Position `it` at the start of part `part` of `nparts` (part = shard *
 * queues + queue, nparts = shards * queues >= 1, part < nparts). The union
 * of all parts is every index in [0, n) exactly once. */
void cyclic_iter_init(struct cyclic_iter *it, const struct cyclic_group *g, uint32_t part,
		      uint32_t nparts);

/* Move an iterator fresh from cyclic_iter_init() forward to where `left`
 * cycle positions remain (a checkpoint's position): the next index is the
 * one cyclic_next() would give after that many steps. One modular power,
 * not a walk. false (it unchanged) when left exceeds the part's positions. */
bool cyclic_iter_seek(struct cyclic_iter *it, const struct cyclic_group *g, uint64_t left);

/* Store the next index of this part in *index and return true; false when
 * the part is exhausted. */
bool cyclic_next(struct cyclic_iter *it, const struct cyclic_group *g, uint64_t *index);

/* Up to max next indexes of this part into index[0..); returns how many
 * (fewer than max only when the part is exhausted; 0 then). The same
 * sequence as repeated cyclic_next(), in one call per burst. index[] must
 * hold max entries. */
size_t cyclic_next_bulk(struct cyclic_iter *it, const struct cyclic_group *g, uint64_t *index,
			size_t max);

/* Number of cycle positions (visited elements, including skipped ones >= n)
 * part `part` of `nparts` walks: ceil((prime - 1 - part) / nparts). */
uint64_t cyclic_part_positions(const struct cyclic_group *g, uint32_t part, uint32_t nparts);

/* Helpers the group is built from, exported for tests and the benchmark. */
uint64_t cyclic_mulmod(uint64_t a, uint64_t b, uint64_t m); /* a*b mod m, 128-bit product */
uint64_t cyclic_powmod(uint64_t a, uint64_t e, uint64_t m); /* a^e mod m */
bool cyclic_is_prime(uint64_t x); /* deterministic Miller-Rabin, exact for all 64-bit x */

#endif
