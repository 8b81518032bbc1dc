/* cookie.c — the per-scan key; the hash itself is inline in cookie.h. */
#include "cookie.h"

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void cookie_key_from_seed(struct cookie_key *k, uint64_t seed)
{
	/* a different stream from the permutation's, which draws from the plain seed */
	uint64_t state = seed ^ UINT64_C(0x636f6f6b69656b79);

	k->k0 = splitmix64(&state);
	k->k1 = splitmix64(&state);
}
