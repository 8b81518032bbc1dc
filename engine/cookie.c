/* cookie.c — the per-scan key, and the hash over a batch of messages; the
 * single hash is inline in cookie.h.
 *
 * Batches: SipHash is four 64-bit words of state mixed by additions, xors
 * and rotations, so eight independent messages run as eight lanes of GCC
 * vector types with exactly the scalar code's operations (the message is
 * 10 bytes: one full word and one final word holding dport and the length).
 * The same code is compiled three times, for AVX-512 (a 512-bit register
 * holds the eight lanes, a rotation is one instruction), AVX2 and the
 * baseline, and each call takes the best the CPU has (a test of a word
 * libgcc fills at start-up; no ifunc, which sanitizers dislike). The tail of
 * fewer than eight goes through cookie_hash(). test_cookie checks every
 * variant the CPU runs against cookie_hash(). */
#include "cookie.h"

#include <errno.h>
#include <string.h>

#include "base/splitmix.h"

void cookie_key_from_seed(struct cookie_key *k, uint64_t seed)
{
	/* a different stream from the permutation's, which draws from the plain seed */
	uint64_t state = seed ^ UINT64_C(0x636f6f6b69656b79);

	k->k0 = mc_splitmix64(&state);
	k->k1 = mc_splitmix64(&state);
}

/* SplitMix64's finaliser of (shards, shard): a bijection of the pair. */
static uint64_t shard_tweak(uint32_t shard, uint32_t shards)
{
	uint64_t state = (uint64_t)shards << 32 | shard;

	return mc_splitmix64(&state);
}

void cookie_key_for_shard(struct cookie_key *k, uint64_t seed, uint32_t shard, uint32_t shards)
{
	cookie_key_from_seed(k, seed ^ shard_tweak(shard, shards));
}

typedef uint64_t lanes64 __attribute__((vector_size(64)));
typedef uint32_t lanes32 __attribute__((vector_size(32)));
typedef uint16_t lanes16 __attribute__((vector_size(16)));

#define LANES		 8
#define LANES_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

/* One SipRound on lanes64 v0..v3. */
#define SIPROUND_LANES(v0, v1, v2, v3)                                                             \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = LANES_ROTL(v1, 13);                                                           \
		v1 ^= v0;                                                                          \
		v0 = LANES_ROTL(v0, 32);                                                           \
		v2 += v3;                                                                          \
		v3 = LANES_ROTL(v3, 16);                                                           \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = LANES_ROTL(v3, 21);                                                           \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = LANES_ROTL(v1, 17);                                                           \
		v1 ^= v2;                                                                          \
		v2 = LANES_ROTL(v2, 32);                                                           \
	} while (0)

/* cookie_hash() of src[0..8), dst[0..8), dport[0..8) into h[0..8). Always
 * inlined, so that it is compiled for the instruction set of each caller. */
static inline __attribute__((always_inline)) void hash_lanes(const struct cookie_key *k,
							     const uint32_t *src,
							     const uint32_t *dst,
							     const uint16_t *dport, uint64_t *h)
{
	lanes32 s, d;
	lanes16 p;
	lanes64 v0, v1, v2, v3, m0, m1, out;

	memcpy(&s, src, sizeof(s));
	memcpy(&d, dst, sizeof(d));
	memcpy(&p, dport, sizeof(p));
	m0 = __builtin_convertvector(s, lanes64) | (__builtin_convertvector(d, lanes64) << 32);
	m1 = __builtin_convertvector(p, lanes64) | (UINT64_C(10) << 56);
	v0 = (lanes64){0} + (k->k0 ^ UINT64_C(0x736f6d6570736575));
	v1 = (lanes64){0} + (k->k1 ^ UINT64_C(0x646f72616e646f6d));
	v2 = (lanes64){0} + (k->k0 ^ UINT64_C(0x6c7967656e657261));
	v3 = (lanes64){0} + (k->k1 ^ UINT64_C(0x7465646279746573));
	v3 ^= m0;
	SIPROUND_LANES(v0, v1, v2, v3);
	v0 ^= m0;
	v3 ^= m1;
	SIPROUND_LANES(v0, v1, v2, v3);
	v0 ^= m1;
	v2 ^= 0xff;
	SIPROUND_LANES(v0, v1, v2, v3);
	SIPROUND_LANES(v0, v1, v2, v3);
	SIPROUND_LANES(v0, v1, v2, v3);
	out = v0 ^ v1 ^ v2 ^ v3;
	memcpy(h, &out, sizeof(out));
}

#define HASH_BULK_ARGS                                                                             \
	const struct cookie_key *k, const uint32_t *src, const uint32_t *dst,                      \
	    const uint16_t *dport, size_t n, uint64_t *h
#define HASH_BULK_BODY                                                                             \
	do {                                                                                       \
		size_t i = 0;                                                                      \
		for (; i + LANES <= n; i += LANES)                                                 \
			hash_lanes(k, src + i, dst + i, dport + i, h + i);                         \
		for (; i < n; i++)                                                                 \
			h[i] = cookie_hash(k, src[i], dst[i], dport[i]);                           \
	} while (0)

static void hash_bulk_base(HASH_BULK_ARGS)
{
	HASH_BULK_BODY;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_X86_VARIANTS 1
__attribute__((target("avx2"))) static void hash_bulk_avx2(HASH_BULK_ARGS)
{
	HASH_BULK_BODY;
}

__attribute__((target("avx512f"))) static void hash_bulk_avx512(HASH_BULK_ARGS)
{
	HASH_BULK_BODY;
}
#endif

int cookie_hash_bulk_isa(enum cookie_isa isa, HASH_BULK_ARGS)
{
	switch (isa) {
	case COOKIE_ISA_BASE:
		hash_bulk_base(k, src, dst, dport, n, h);
		return 0;
#ifdef HAVE_X86_VARIANTS
	case COOKIE_ISA_AVX2:
		if (!__builtin_cpu_supports("avx2"))
			return -ENOTSUP;
		hash_bulk_avx2(k, src, dst, dport, n, h);
		return 0;
	case COOKIE_ISA_AVX512:
		if (!__builtin_cpu_supports("avx512f"))
			return -ENOTSUP;
		hash_bulk_avx512(k, src, dst, dport, n, h);
		return 0;
#endif
	default:
		return -ENOTSUP;
	}
}

void cookie_hash_bulk(HASH_BULK_ARGS)
{
#ifdef HAVE_X86_VARIANTS
	if (__builtin_cpu_supports("avx512f"))
		hash_bulk_avx512(k, src, dst, dport, n, h);
	else if (__builtin_cpu_supports("avx2"))
		hash_bulk_avx2(k, src, dst, dport, n, h);
	else
#endif
		hash_bulk_base(k, src, dst, dport, n, h);
}
