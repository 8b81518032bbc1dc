/* cyclic.c — a random permutation of [0, n) from a cyclic group.
 *
 * The method is ZMap's. Let p be the smallest prime greater than n. The
 * non-zero integers modulo p form a multiplicative group of order p - 1, and
 * that group is cyclic: some element g (a primitive root) has powers g^0,
 * g^1, ..., g^(p-2) that are exactly 1..p-1 in a scrambled order. Starting
 * from a seeded element s and multiplying by g at each step therefore walks
 * every element 1..p-1 exactly once before returning to s. Element e stands
 * for target index e - 1; elements with e - 1 >= n are skipped, and since p
 * is the next prime after n, by the prime gap bounds those are a vanishing
 * fraction of the walk.
 *
 * Finding p: candidates n+1, n+2, ... are tested with Miller-Rabin using the
 * first twelve prime bases, which is a proof (not a probability) for every
 * 64-bit integer. Finding g: p - 1 is factored by trial division (p < 2^48,
 * so at most 2^24 trial divisors, and we stop as soon as the cofactor is
 * prime); a candidate g drawn from the seed is a primitive root exactly when
 * g^((p-1)/q) != 1 for every prime factor q of p - 1, because the order of g
 * divides p - 1 and is smaller only if it divides some (p-1)/q.
 *
 * Arithmetic: products of two elements are taken in 128 bits (4 ports x
 * all of IPv4 is 2^34 pairs, beyond 32-bit elements). A hardware division
 * per step would cost more than the rest of a SYN, so the step multiplies
 * the plain element by the step kept in Montgomery form (g^k * 2^64 mod p):
 * one Montgomery reduction of that product yields the plain next element
 * directly, three multiplications and no division. Set-up uses plain
 * 128-bit remainders.
 *
 * Parts: shards x TX queues split the walk by position, not by value. Part j
 * of k starts at s * g^j and steps by g^k, so it visits positions j, j+k,
 * j+2k, ... of the single cycle; the residues 0..k-1 partition the positions
 * 0..p-2, so every index is produced by exactly one part, and no
 * coordination is needed between parts. An iterator is three words (next
 * element, step, positions left) and is saved and restored by value. */
#include "cyclic.h"

#include <errno.h>
#include <stddef.h>

#include "base/splitmix.h"

uint64_t cyclic_mulmod(uint64_t a, uint64_t b, uint64_t m)
{
	return (uint64_t)(((unsigned __int128)a * b) % m);
}

uint64_t cyclic_powmod(uint64_t a, uint64_t e, uint64_t m)
{
	uint64_t r = 1 % m;

	a %= m;
	while (e > 0) {
		if (e & 1)
			r = cyclic_mulmod(r, a, m);
		a = cyclic_mulmod(a, a, m);
		e >>= 1;
	}
	return r;
}

/* One Miller-Rabin round: false when base a proves x composite. x odd, d*2^s = x-1. */
static bool miller_rabin_round(uint64_t x, uint64_t a, uint64_t d, unsigned s)
{
	uint64_t y = cyclic_powmod(a, d, x);

	if (y == 1 || y == x - 1)
		return true;
	for (unsigned i = 1; i < s; i++) {
		y = cyclic_mulmod(y, y, x);
		if (y == x - 1)
			return true;
	}
	return false;
}

bool cyclic_is_prime(uint64_t x)
{
	static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
	uint64_t d;
	unsigned s = 0;

	if (x < 2)
		return false;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (x == bases[i])
			return true;
		if (x % bases[i] == 0)
			return false;
	}
	for (d = x - 1; (d & 1) == 0; d >>= 1)
		s++;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		if (!miller_rabin_round(x, bases[i], d, s))
			return false;
	return true;
}

#define MAX_FACTORS 16 /* distinct primes of a number < 2^48: at most 12 */

/* Distinct prime factors of x (x >= 1) into f[]; returns how many. */
static size_t distinct_prime_factors(uint64_t x, uint64_t *f)
{
	size_t nf = 0;
	bool rest_prime = cyclic_is_prime(x);

	for (uint64_t q = 2; !rest_prime && q * q <= x; q += (q == 2) ? 1 : 2) {
		if (x % q != 0)
			continue;
		f[nf++] = q;
		while (x % q == 0)
			x /= q;
		rest_prime = cyclic_is_prime(x);
	}
	if (x > 1)
		f[nf++] = x;
	return nf;
}

static bool is_primitive_root(uint64_t g, uint64_t p, const uint64_t *f, size_t nf)
{
	for (size_t i = 0; i < nf; i++)
		if (cyclic_powmod(g, (p - 1) / f[i], p) == 1)
			return false;
	return true;
}

int cyclic_group_init(struct cyclic_group *g, uint64_t n, uint64_t seed)
{
	uint64_t factors[MAX_FACTORS];
	uint64_t state = seed, p = n + 1, cand;
	size_t nf;

	if (n == 0 || n >= CYCLIC_MAX_N)
		return -EINVAL;
	while (!cyclic_is_prime(p))
		p++;
	g->n = n;
	g->prime = p;
	g->mont_r = (uint64_t)(((unsigned __int128)1 << 64) % p);
	g->mont_ninv = 0;
	if (p & 1) {
		uint64_t inv =
		    p; /* Newton: each step doubles the correct low bits (3, 6, ..., 96) */

		for (int i = 0; i < 5; i++)
			inv *= 2 - p * inv;
		g->mont_ninv = (uint64_t)0 - inv;
	}
	if (p <= 3) { /* groups of order 1 and 2: the only generator is p - 1 */
		g->generator = p - 1;
		g->start = 1 + mc_splitmix64(&state) % (p - 1);
		return 0;
	}
	nf = distinct_prime_factors(p - 1, factors);
	do
		cand = 2 + mc_splitmix64(&state) % (p - 3); /* in [2, p-2] */
	while (!is_primitive_root(cand, p, factors, nf));
	g->generator = cand;
	g->start = 1 + mc_splitmix64(&state) % (p - 1);
	return 0;
}

uint64_t cyclic_part_positions(const struct cyclic_group *g, uint32_t part, uint32_t nparts)
{
	uint64_t cycle = g->prime - 1;

	if (nparts == 0 || part >= cycle)
		return 0;
	return (cycle - part + nparts - 1) / nparts;
}

void cyclic_iter_init(struct cyclic_iter *it, const struct cyclic_group *g, uint32_t part,
		      uint32_t nparts)
{
	uint64_t p = g->prime;

	it->elem = cyclic_mulmod(g->start, cyclic_powmod(g->generator, part, p), p);
	it->mult = cyclic_powmod(g->generator, nparts, p);
	it->left = cyclic_part_positions(g, part, nparts);
	it->mult_mont = cyclic_mulmod(it->mult, g->mont_r, p);
}

bool cyclic_iter_seek(struct cyclic_iter *it, const struct cyclic_group *g, uint64_t left)
{
	if (left > it->left)
		return false;
	it->elem =
	    cyclic_mulmod(it->elem, cyclic_powmod(it->mult, it->left - left, g->prime), g->prime);
	it->left = left;
	return true;
}

/* a * b * 2^-64 mod p for a, b < p, p odd < 2^63 (Montgomery reduction, REDC). */
static inline uint64_t mont_mul(uint64_t a, uint64_t b, uint64_t p, uint64_t ninv)
{
	unsigned __int128 t = (unsigned __int128)a * b;
	uint64_t lo = (uint64_t)t, hi = (uint64_t)(t >> 64);
	uint64_t m = lo * ninv; /* lo + m*p == 0 mod 2^64 */
	unsigned __int128 mp = (unsigned __int128)m * p;
	uint64_t r = hi + (uint64_t)(mp >> 64) + (lo != 0); /* (t + m*p) / 2^64, < 2p */

	return r >= p ? r - p : r;
}

bool cyclic_next(struct cyclic_iter *it, const struct cyclic_group *g, uint64_t *index)
{
	const uint64_t p = g->prime, n = g->n;

	while (it->left > 0) {
		uint64_t e = it->elem;

		if (g->mont_ninv != 0)
			it->elem = mont_mul(e, it->mult_mont, p, g->mont_ninv);
		else /* p == 2: the group {1} */
			it->elem = cyclic_mulmod(e, it->mult, p);
		it->left--;
		if (e - 1 < n) {
			*index = e - 1;
			return true;
		}
	}
	return false;
}

size_t cyclic_next_bulk(struct cyclic_iter *it, const struct cyclic_group *g, uint64_t *index,
			size_t max)
{
	const uint64_t p = g->prime, n = g->n, ninv = g->mont_ninv, mult = it->mult_mont;
	uint64_t e = it->elem, left = it->left;
	size_t k = 0;

	if (ninv == 0) { /* p == 2: the group {1}, one index at most */
		while (k < max && cyclic_next(it, g, &index[k]))
			k++;
		return k;
	}
	/* Each step waits for the previous product (about 14 cycles), so walk
	 * four interleaved chains: positions j, j+1, j+2, j+3 step by mult^4
	 * independently and are emitted in order, the same sequence as
	 * cyclic_next(). Stores are unconditional; the count advances only for
	 * e - 1 < n. The tail (fewer than four left or wanted) goes one by one. */
	if (left >= 8 && max >= 8) {
		const uint64_t m2 = mont_mul(mult, mult, p, ninv); /* mult^2 in Montgomery form */
		const uint64_t m4 = mont_mul(m2, m2, p, ninv);
		uint64_t e1 = mont_mul(e, mult, p, ninv), e2 = mont_mul(e, m2, p, ninv);
		uint64_t e3 = mont_mul(e1, m2, p, ninv);

		while (left >= 4 && max - k >= 4) {
			index[k] = e - 1;
			k += e - 1 < n;
			index[k] = e1 - 1;
			k += e1 - 1 < n;
			index[k] = e2 - 1;
			k += e2 - 1 < n;
			index[k] = e3 - 1;
			k += e3 - 1 < n;
			e = mont_mul(e, m4, p, ninv);
			e1 = mont_mul(e1, m4, p, ninv);
			e2 = mont_mul(e2, m4, p, ninv);
			e3 = mont_mul(e3, m4, p, ninv);
			left -= 4;
		}
	}
	while (k < max && left > 0) {
		index[k] = e - 1;
		k += e - 1 < n;
		e = mont_mul(e, mult, p, ninv);
		left--;
	}
	it->elem = e;
	it->left = left;
	return k;
}
