/* splitmix.h — SplitMix64 (Steele, Lea, Flood 2014), the one copy.
 *
 * Expands a 64-bit seed into a stream of well-mixed 64-bit draws: used for
 * the permutation's parameters, the cookie key and benchmark data. Not a
 * cryptographic generator; the cookie's secrecy rests on the seed. */
#ifndef MC_BASE_SPLITMIX_H
#define MC_BASE_SPLITMIX_H

#include <stdint.h>

static inline uint64_t mc_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

#endif
