/* test_cyclic.c — the permutation visits every index exactly once across all
 * parts, iterators save and restore by value, the order depends on the
 * seed, and a 2^34-pair space is sound without enumerating it. */
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/test.h"
#include "engine/cyclic.h"

/* Enumerate all parts of (n, seed, nparts), by cyclic_next() when batch is 0,
 * else by cyclic_next_bulk() batch indexes at a time (as the TX lcores do);
 * true when every index in [0, n) came exactly once. */
static bool covers_exactly_once_by(uint64_t n, uint64_t seed, uint32_t nparts, size_t batch)
{
	struct cyclic_group g;
	uint8_t *seen = calloc(n, 1);
	uint64_t idx[64], total = 0;
	bool ok = true;

	if (seen == NULL || batch > 64 || cyclic_group_init(&g, n, seed) != 0) {
		free(seen);
		return false;
	}
	for (uint32_t part = 0; part < nparts; part++) {
		struct cyclic_iter it;
		size_t k;

		cyclic_iter_init(&it, &g, part, nparts);
		for (;;) {
			if (batch == 0)
				k = cyclic_next(&it, &g, &idx[0]) ? 1 : 0;
			else
				k = cyclic_next_bulk(&it, &g, idx, batch);
			if (k == 0)
				break;
			if (batch != 0 && k < batch && cyclic_next_bulk(&it, &g, idx + k, 1) != 0)
				ok = false; /* a short batch must mean the part is done */
			for (size_t j = 0; j < k; j++) {
				if (idx[j] >= n || seen[idx[j]]++ != 0)
					ok = false;
				total++;
			}
		}
	}
	if (total != n) {
		fprintf(stderr, "n=%" PRIu64 " nparts=%u: %" PRIu64 " indexes\n", n, nparts, total);
		ok = false;
	}
	free(seen);
	return ok;
}

static bool covers_exactly_once(uint64_t n, uint64_t seed, uint32_t nparts)
{
	return covers_exactly_once_by(n, seed, nparts, 0) &&
	       covers_exactly_once_by(n, seed, nparts, 32) &&
	       covers_exactly_once_by(n, seed, nparts, 7);
}

static void test_coverage_by_enumeration(void)
{
	/* addresses x ports for several port counts, small primes, powers of two and neighbours */
	static const uint64_t sizes[] = {
	    1,	    2,	  3,	    5,	      7,    11,	  13,	    4,	       6,	  12,
	    97 * 4, 1000, 1000 * 2, 1000 * 4, 4093, 4096, 4096 * 4, 65536 + 1, 65536 * 3, 1000003};
	/* shards x queues */
	static const uint32_t nparts[] = {1, 2, 3, 4, 2 * 2, 3 * 2, 7, 8, 16};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (size_t j = 0; j < sizeof(nparts) / sizeof(nparts[0]); j++)
			for (uint64_t seed = 1; seed <= 2; seed++) {
				bool ok = covers_exactly_once(sizes[i], seed * 7919, nparts[j]);

				if (!ok)
					fprintf(stderr, "n=%" PRIu64 " parts=%u seed=%" PRIu64 "\n",
						sizes[i], nparts[j], seed);
				CHECK(ok);
			}
	/* more parts than elements: the extra parts are simply empty */
	CHECK(covers_exactly_once(3, 5, 10));
}

static void test_save_restore(void)
{
	struct cyclic_group g;
	struct cyclic_iter a, saved;
	uint64_t x, y;
	int i;

	CHECK_INT_EQ(cyclic_group_init(&g, 100000, 42), 0);
	cyclic_iter_init(&a, &g, 1, 3);
	for (i = 0; i < 12345; i++)
		CHECK(cyclic_next(&a, &g, &x));
	saved = a; /* by value */
	for (;;) {
		bool more_a = cyclic_next(&a, &g, &x);
		bool more_s = cyclic_next(&saved, &g, &y);

		CHECK_INT_EQ(more_a, more_s);
		if (!more_a || !more_s)
			break;
		if (x != y) {
			CHECK_UINT_EQ(x, y);
			break;
		}
	}
}

/* cyclic_iter_seek() to a walked iterator's `left` continues exactly as the
 * walked one (a checkpoint's restart), for every part, after any number of
 * steps including none and all; beyond the part's positions it refuses. */
static void test_seek_matches_walk(void)
{
	struct cyclic_group g;
	const uint32_t nparts = 3;

	CHECK_INT_EQ(cyclic_group_init(&g, 5000, 7), 0);
	for (uint32_t part = 0; part < nparts; part++) {
		uint64_t total = cyclic_part_positions(&g, part, nparts);
		for (uint64_t steps = 0; steps <= total; steps += 1 + steps / 3) {
			struct cyclic_iter walked, sought;
			uint64_t x, y, dummy;
			bool same = true;

			cyclic_iter_init(&walked, &g, part, nparts);
			while (walked.left > total - steps && cyclic_next(&walked, &g, &dummy))
				;
			if (walked.left != total - steps)
				continue; /* the last steps were skipped elements: left jumped */
			cyclic_iter_init(&sought, &g, part, nparts);
			CHECK(cyclic_iter_seek(&sought, &g, walked.left));
			for (;;) {
				bool a = cyclic_next(&walked, &g, &x),
				     b = cyclic_next(&sought, &g, &y);
				if (a != b || (a && x != y))
					same = false;
				if (!a || !b)
					break;
			}
			if (!same) {
				TEST_FAIL_AT("part %u: seek after %llu steps differs", part,
					     (unsigned long long)steps);
				return;
			}
		}
		struct cyclic_iter it;
		cyclic_iter_init(&it, &g, part, nparts);
		CHECK(!cyclic_iter_seek(&it, &g, total + 1));
		CHECK_UINT_EQ(it.left, total);
	}
}

/* cyclic_next_bulk() yields exactly cyclic_next()'s sequence, whatever the
 * batch sizes and however the two are interleaved on one iterator. */
static void test_bulk_matches_single(void)
{
	static const uint64_t sizes[] = {1, 2, 3, 1000, 4096 * 4, 1000003, UINT64_C(1) << 34};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct cyclic_group g;
		struct cyclic_iter a, b;
		uint64_t x, y[64], steps = 0, bad = 0;
		bool done = false;

		CHECK_INT_EQ(cyclic_group_init(&g, sizes[i], 99), 0);
		cyclic_iter_init(&a, &g, 1, 3);
		b = a;
		while (!done && steps < 300000) {
			size_t want = 1 + steps % 64, k = cyclic_next_bulk(&b, &g, y, want);

			for (size_t j = 0; j < k; j++)
				bad += !cyclic_next(&a, &g, &x) || x != y[j];
			if (k < want) {
				bad += cyclic_next(&a, &g, &x); /* both exhausted */
				done = true;
			}
			if (steps % 5 == 0 &&
			    cyclic_next(&a, &g, &x)) { /* interleave a single step */
				bad += !cyclic_next_bulk(&b, &g, y, 1) || y[0] != x;
			}
			steps++;
		}
		CHECK_UINT_EQ(bad, 0);
		CHECK_UINT_EQ(a.elem, b.elem);
		CHECK_UINT_EQ(a.left, b.left);
	}
}

static void test_order_depends_on_seed(void)
{
	struct cyclic_group g1, g2;
	struct cyclic_iter i1, i2;
	uint64_t a, b, k = 0, identity = 0, same = 0;

	CHECK_INT_EQ(cyclic_group_init(&g1, 1000, 1), 0);
	CHECK_INT_EQ(cyclic_group_init(&g2, 1000, 2), 0);
	CHECK_UINT_EQ(g1.prime, 1009);
	cyclic_iter_init(&i1, &g1, 0, 1);
	cyclic_iter_init(&i2, &g2, 0, 1);
	while (cyclic_next(&i1, &g1, &a) && cyclic_next(&i2, &g2, &b)) {
		identity += (a == k);
		same += (a == b);
		k++;
	}
	CHECK(identity < 20); /* a random permutation has about one fixed point */
	CHECK(same < 20);
	CHECK(g1.generator != g2.generator || g1.start != g2.start);
	/* same seed, same order */
	CHECK_INT_EQ(cyclic_group_init(&g2, 1000, 1), 0);
	CHECK_UINT_EQ(g1.generator, g2.generator);
	CHECK_UINT_EQ(g1.start, g2.start);
}

static void test_bad_sizes(void)
{
	struct cyclic_group g;

	CHECK_INT_EQ(cyclic_group_init(&g, 0, 1), -EINVAL);
	CHECK_INT_EQ(cyclic_group_init(&g, CYCLIC_MAX_N, 1), -EINVAL);
	CHECK_INT_EQ(cyclic_group_init(&g, CYCLIC_MAX_N - 1, 1), 0);
	CHECK(g.prime > g.n);
}

/* Independent of the module: trial division. */
static bool slow_is_prime(uint64_t x)
{
	if (x < 2)
		return false;
	for (uint64_t q = 2; q * q <= x; q++)
		if (x % q == 0)
			return false;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* 4 ports x 2^32 addresses = 2^34 pairs. Soundness without enumeration:
 * (1) p is prime and p > n, and no prime lies in (n, p);
 * (2) g is a primitive root: g^((p-1)/q) != 1 for each prime q | p-1,
 *     factored here by trial division, so start*g^k, k = 0..p-2, is a
 *     bijection onto 1..p-1;
 * (3) each part j of k starts at start*g^j, steps by g^k, and walks
 *     ceil((p-1-j)/k) positions: the parts partition positions 0..p-2, so
 *     the parts' outputs are exactly the elements e-1 < n, each once;
 * (4) the iterator really does that: after m steps part j holds
 *     start*g^(j+m*k) (checked at sampled m), and a sampled prefix of every
 *     part is distinct and < n. */
static void test_space_over_2_32(void)
{
	const uint64_t n = UINT64_C(4) << 32;
	static const uint32_t nparts[] = {1, 3, 8};
	struct cyclic_group g;
	uint64_t p, x, f[16];
	size_t nf = 0;

	CHECK_INT_EQ(cyclic_group_init(&g, n, 99), 0);
	p = g.prime;
	CHECK(p > n);
	CHECK(slow_is_prime(p));
	for (uint64_t c = n + 1; c < p; c++)
		CHECK(!slow_is_prime(c));
	CHECK(p - 1 - n < 1000); /* few skipped elements */
	x = p - 1;
	for (uint64_t q = 2; q * q <= x; q++) {
		if (x % q == 0)
			f[nf++] = q;
		while (x % q == 0)
			x /= q;
	}
	if (x > 1)
		f[nf++] = x;
	for (size_t i = 0; i < nf; i++)
		CHECK(cyclic_powmod(g.generator, (p - 1) / f[i], p) != 1);
	CHECK(g.start >= 1 && g.start < p);
	for (size_t j = 0; j < sizeof(nparts) / sizeof(nparts[0]); j++) {
		const uint32_t k = nparts[j];
		const size_t sample = 200000;
		uint64_t sum = 0, *got = malloc(sample * k * sizeof(*got));
		size_t ngot = 0;

		for (uint32_t part = 0; part < k; part++) {
			struct cyclic_iter it;
			uint64_t steps = 0;

			cyclic_iter_init(&it, &g, part, k);
			sum += it.left;
			CHECK_UINT_EQ(it.left, (p - 1 - part + k - 1) / k);
			CHECK_UINT_EQ(it.mult, cyclic_powmod(g.generator, k, p));
			while (ngot < sample * (part + 1) && it.left > 0) {
				uint64_t before = it.left, expect, idx;

				expect = cyclic_mulmod(
				    g.start, cyclic_powmod(g.generator, part + steps * k, p), p);
				if (steps % 9973 == 0)
					CHECK_UINT_EQ(it.elem, expect);
				CHECK(cyclic_next(&it, &g, &idx));
				steps += before - it.left;
				CHECK(idx < n);
				got[ngot++] = idx;
			}
		}
		CHECK_UINT_EQ(sum, p - 1);
		qsort(got, ngot, sizeof(*got), cmp_u64);
		for (size_t i = 1; i < ngot; i++)
			if (got[i] == got[i - 1]) {
				CHECK(got[i] != got[i - 1]);
				break;
			}
		free(got);
	}
}

static void test_primality(void)
{
	uint64_t count = 0;

	for (uint64_t x = 0; x < 100000; x++)
		CHECK_INT_EQ(cyclic_is_prime(x), slow_is_prime(x));
	/* strong pseudoprimes to several bases */
	CHECK(!cyclic_is_prime(UINT64_C(3215031751)));
	CHECK(!cyclic_is_prime(UINT64_C(3825123056546413051)));
	CHECK(cyclic_is_prime(UINT64_C(18446744073709551557))); /* largest 64-bit prime */
	for (uint64_t x = (UINT64_C(1) << 40); x < (UINT64_C(1) << 40) + 2000; x++)
		count += (cyclic_is_prime(x) != slow_is_prime(x));
	CHECK_UINT_EQ(count, 0);
}

int main(void)
{
	RUN(test_primality);
	RUN(test_bad_sizes);
	RUN(test_coverage_by_enumeration);
	RUN(test_save_restore);
	RUN(test_seek_matches_walk);
	RUN(test_bulk_matches_single);
	RUN(test_order_depends_on_seed);
	RUN(test_space_over_2_32);
	return test_summary();
}
