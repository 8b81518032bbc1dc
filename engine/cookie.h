/* cookie.h — stateless validation of replies to our SYNs.
 *
 * A SYN's sequence number and source port are a keyed hash of (our source
 * address, the target address, the target port): SipHash-1-3 over those 10
 * bytes with a 128-bit per-scan key. A reply is ours only if it comes from a
 * probed pair to our address and port and acknowledges seq + 1; nobody who
 * does not know the key can forge that except by guessing 32 + log2(ports)
 * bits. The key is derived from --seed, the shard index and the shard count
 * (cookie_key_for_shard): whoever knows the seed can derive and check any
 * shard's key, but a SYN-ACK to one shard (or to an earlier run split
 * differently; servers retransmit for a minute) does not validate in
 * another. Inline: it is paid once per packet sent and received. */
#ifndef MC_ENGINE_COOKIE_H
#define MC_ENGINE_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cookie_key {
	uint64_t k0, k1;
};

struct cookie {
	uint32_t seq;	/* TCP sequence number of our SYN */
	uint16_t sport; /* TCP source port of our SYN */
};

/* Derive a key from a 64-bit seed (splitmix64 expansion). */
void cookie_key_from_seed(struct cookie_key *k, uint64_t seed);

/* The scan's key: the seed tweaked by a bijection of (shard, shards), so no
 * two splits of a run share a key, then expanded as cookie_key_from_seed. */
void cookie_key_for_shard(struct cookie_key *k, uint64_t seed, uint32_t shard, uint32_t shards);

#define COOKIE_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline void cookie_sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = COOKIE_ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = COOKIE_ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = COOKIE_ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = COOKIE_ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = COOKIE_ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = COOKIE_ROTL(v[2], 32);
}

/* SipHash-1-3 of the 10-byte message src(4) dst(4) dport(2), little-endian
 * packing of the host-order values. */
static inline uint64_t cookie_hash(const struct cookie_key *k, uint32_t src, uint32_t dst,
				   uint16_t dport)
{
	uint64_t v[4] = {k->k0 ^ UINT64_C(0x736f6d6570736575), k->k1 ^ UINT64_C(0x646f72616e646f6d),
			 k->k0 ^ UINT64_C(0x6c7967656e657261),
			 k->k1 ^ UINT64_C(0x7465646279746573)};
	uint64_t m0 = (uint64_t)src | ((uint64_t)dst << 32);
	uint64_t m1 = (uint64_t)dport | (UINT64_C(10) << 56);

	v[3] ^= m0;
	cookie_sipround(v);
	v[0] ^= m0;
	v[3] ^= m1;
	cookie_sipround(v);
	v[0] ^= m1;
	v[2] ^= 0xff;
	cookie_sipround(v);
	cookie_sipround(v);
	cookie_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* cookie_hash() of n messages: h[i] = cookie_hash(k, src[i], dst[i],
 * dport[i]). Eight lanes at a time in vector registers (SipHash's adds,
 * xors and rotations are lane-wise), with AVX-512 or AVX2 when the CPU has
 * them; bit-identical to cookie_hash(). For the TX lcores' batches. */
void cookie_hash_bulk(const struct cookie_key *k, const uint32_t *src, const uint32_t *dst,
		      const uint16_t *dport, size_t n, uint64_t *h);

/* cookie_hash_bulk() with a given variant, for tests and the benchmark: 0,
 * or -ENOTSUP when this CPU or build lacks it. */
enum cookie_isa { COOKIE_ISA_BASE, COOKIE_ISA_AVX2, COOKIE_ISA_AVX512 };
int cookie_hash_bulk_isa(enum cookie_isa isa, const struct cookie_key *k, const uint32_t *src,
			 const uint32_t *dst, const uint16_t *dport, size_t n, uint64_t *h);

/* The cookie a hash value stands for: sequence number the low 32 bits,
 * source port the high 32 bits mapped onto [sport_first, sport_first +
 * sport_count) by multiply-shift (no division); sport_count >= 1. */
static inline struct cookie cookie_from_hash(uint64_t h, uint16_t sport_first, uint16_t sport_count)
{
	struct cookie c;

	c.seq = (uint32_t)h;
	c.sport = (uint16_t)(sport_first + (((h >> 32) * sport_count) >> 32));
	return c;
}

/* Sequence number and source port of our SYN from src to (dst, dport); the
 * source port lies in [sport_first, sport_first + sport_count), sport_count >= 1. */
static inline struct cookie cookie_make(const struct cookie_key *k, uint32_t src, uint32_t dst,
					uint16_t dport, uint16_t sport_first, uint16_t sport_count)
{
	return cookie_from_hash(cookie_hash(k, src, dst, dport), sport_first, sport_count);
}

/* True when a reply from (their_ip, their_port) to (our_ip, our_port)
 * acknowledging `ack` answers a SYN we sent: our_port == cookie.sport and
 * ack - 1 == cookie.seq. Used for SYN-ACKs and RSTs alike (an RST answering
 * a SYN acknowledges seq + 1 too). The caller checks separately that
 * (their_ip, their_port) is a probed pair and our_ip is one of ours. */
static inline bool cookie_matches(const struct cookie_key *k, uint32_t our_ip, uint32_t their_ip,
				  uint16_t their_port, uint16_t our_port, uint32_t ack,
				  uint16_t sport_first, uint16_t sport_count)
{
	struct cookie c = cookie_make(k, our_ip, their_ip, their_port, sport_first, sport_count);

	return c.sport == our_port && (uint32_t)(ack - 1u) == c.seq;
}

#endif
