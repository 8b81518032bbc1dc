/* test_cookie.c — the validation cookie: right replies accepted, forged
 * ones (wrong ack, port, address, destination) rejected, seeds differ. */
#include <stdlib.h>

#include "tests/unit/test.h"
#include "engine/validate.h"

#define OUR_IP	   0xC6120002u /* 198.18.0.2 */
#define TARGET	   0xC612010Au /* 198.18.1.10 */
#define SPORT_BASE 32768
#define SPORT_N	   28000

/* A reply frame from (src, sport) to (dst, dport) acknowledging ack, built
 * with the module's own SYN template and rewritten into a SYN-ACK or RST. */
static void reply_view(struct pkt_view *v, uint8_t flags, uint32_t src, uint16_t sport,
		       uint32_t dst, uint16_t dport, uint32_t ack)
{
	memset(v, 0, sizeof(*v));
	v->kind = (flags & PKT_F_RST) ? PKT_TCP_RST : PKT_TCP_SYNACK;
	v->tcp_flags = flags;
	v->src_ip = src;
	v->sport = sport;
	v->dst_ip = dst;
	v->dport = dport;
	v->ack = ack;
}

static void test_make_is_keyed_and_in_range(void)
{
	struct cookie_key k1, k2;
	uint32_t same_seq = 0, same_port = 0, out_of_range = 0;

	cookie_key_from_seed(&k1, 1);
	cookie_key_from_seed(&k2, 2);
	CHECK(k1.k0 != k2.k0 || k1.k1 != k2.k1);
	for (uint32_t i = 0; i < 10000; i++) {
		struct cookie a = cookie_make(&k1, OUR_IP, TARGET + i, 143, SPORT_BASE, SPORT_N);
		struct cookie b = cookie_make(&k2, OUR_IP, TARGET + i, 143, SPORT_BASE, SPORT_N);
		struct cookie again =
		    cookie_make(&k1, OUR_IP, TARGET + i, 143, SPORT_BASE, SPORT_N);

		same_seq += a.seq == b.seq;
		same_port += a.sport == b.sport;
		out_of_range += a.sport < SPORT_BASE || a.sport >= SPORT_BASE + SPORT_N;
		CHECK_UINT_EQ(again.seq, a.seq); /* deterministic: every shard validates alike */
	}
	CHECK(same_seq < 3);
	CHECK(same_port < 10); /* about 10000 / 28000 expected by chance */
	CHECK_UINT_EQ(out_of_range, 0);
	/* every input byte matters */
	struct cookie base = cookie_make(&k1, OUR_IP, TARGET, 143, SPORT_BASE, SPORT_N);
	CHECK(cookie_make(&k1, OUR_IP + 1, TARGET, 143, SPORT_BASE, SPORT_N).seq != base.seq);
	CHECK(cookie_make(&k1, OUR_IP, TARGET ^ 0x01000000u, 143, SPORT_BASE, SPORT_N).seq !=
	      base.seq);
	CHECK(cookie_make(&k1, OUR_IP, TARGET, 110, SPORT_BASE, SPORT_N).seq != base.seq);
	/* a single source port is always that port */
	CHECK_UINT_EQ(cookie_make(&k1, OUR_IP, TARGET, 143, 40000, 1).sport, 40000);
}

static void test_forged_replies_rejected(void)
{
	const char *cidrs[] = {"198.18.1.10", "198.18.1.11"};
	const uint16_t ports[] = {110, 143};
	struct targets_spec spec = {
	    .cidrs = cidrs, .ncidrs = 2, .ports = ports, .nports = 2, .ignore_safe_range = true};
	struct validate_ctx c = {
	    .src_ips = {OUR_IP}, .nsrc_ips = 1, .sport_first = SPORT_BASE, .sport_count = SPORT_N};
	struct targets *t;
	struct pkt_view v;
	struct cookie ck;
	uint64_t idx = 99, want;
	char err[256];

	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), 0);
	c.targets = t;
	cookie_key_from_seed(&c.key, 7);
	ck = cookie_make(&c.key, OUR_IP, TARGET, 143, SPORT_BASE, SPORT_N);
	CHECK(targets_index_of(t, TARGET, 143, &want));

	reply_view(&v, 0x12, TARGET, 143, OUR_IP, ck.sport, ck.seq + 1);
	CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_SYNACK);
	CHECK_UINT_EQ(idx, want);
	reply_view(&v, 0x14, TARGET, 143, OUR_IP, ck.sport, ck.seq + 1);
	CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_RST);

	/* wrong ack: off by one either way, zero, the raw seq */
	const uint32_t bad_acks[] = {ck.seq, ck.seq + 2, 0, ck.seq ^ 0x80000000u};
	for (size_t i = 0; i < 4; i++) {
		reply_view(&v, 0x12, TARGET, 143, OUR_IP, ck.sport, bad_acks[i]);
		CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_INVALID);
		reply_view(&v, 0x14, TARGET, 143, OUR_IP, ck.sport, bad_acks[i]);
		CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_INVALID);
	}
	/* wrong destination port (ours), wrong source port (theirs; 110 is probed too) */
	reply_view(&v, 0x12, TARGET, 143, OUR_IP, (uint16_t)(ck.sport + 1), ck.seq + 1);
	CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_INVALID);
	reply_view(&v, 0x12, TARGET, 110, OUR_IP, ck.sport, ck.seq + 1);
	CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_INVALID);
	reply_view(&v, 0x12, TARGET, 993, OUR_IP, ck.sport, ck.seq + 1);
	CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_INVALID);
	/* wrong source address: a probed neighbour, and an unprobed one */
	reply_view(&v, 0x12, TARGET + 1, 143, OUR_IP, ck.sport, ck.seq + 1);
	CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_INVALID);
	reply_view(&v, 0x12, TARGET + 2, 143, OUR_IP, ck.sport, ck.seq + 1);
	CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_INVALID);
	/* wrong destination address (not ours) */
	reply_view(&v, 0x12, TARGET, 143, OUR_IP + 1, ck.sport, ck.seq + 1);
	CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_INVALID);
	/* a valid cookie for an unprobed pair is still rejected */
	ck = cookie_make(&c.key, OUR_IP, TARGET + 2, 143, SPORT_BASE, SPORT_N);
	reply_view(&v, 0x12, TARGET + 2, 143, OUR_IP, ck.sport, ck.seq + 1);
	CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_INVALID);
	/* a different scan key rejects the first key's replies */
	ck = cookie_make(&c.key, OUR_IP, TARGET, 143, SPORT_BASE, SPORT_N);
	cookie_key_from_seed(&c.key, 8);
	reply_view(&v, 0x12, TARGET, 143, OUR_IP, ck.sport, ck.seq + 1);
	CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_INVALID);
	/* non-SYN-ACK kinds */
	cookie_key_from_seed(&c.key, 7);
	reply_view(&v, 0x10, TARGET, 143, OUR_IP, ck.sport, ck.seq + 1);
	v.kind = PKT_TCP_OTHER;
	CHECK_INT_EQ(validate_reply(&c, &v, &idx), VALIDATE_INVALID);
	targets_free(t);
}

/* End to end through real frames: fill a SYN, answer it, parse, validate. */
static void test_round_trip_frames(void)
{
	const char *cidrs[] = {"198.18.16.0/20"};
	const uint16_t ports[] = {143};
	struct targets_spec spec = {
	    .cidrs = cidrs, .ncidrs = 1, .ports = ports, .nports = 1, .ignore_safe_range = true};
	struct validate_ctx c = {
	    .src_ips = {OUR_IP}, .nsrc_ips = 1, .sport_first = SPORT_BASE, .sport_count = SPORT_N};
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	uint8_t syn[PKT_SYN_LEN], reply[PKT_SYN_LEN];
	struct targets *t;
	struct pkt_view v;
	uint64_t accepted = 0;
	char err[256];

	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), 0);
	c.targets = t;
	cookie_key_from_seed(&c.key, 42);
	pkt_syn_template(syn, mac, mac, OUR_IP, 64);
	for (uint64_t i = 0; i < targets_pairs(t); i++) {
		uint32_t addr;
		uint16_t port;
		uint64_t idx;

		targets_pair(t, i, &addr, &port);
		struct cookie ck = cookie_make(&c.key, OUR_IP, addr, port, SPORT_BASE, SPORT_N);
		pkt_syn_fill(syn, addr, port, ck.sport, ck.seq);
		/* the server's answer: swap ends, SYN+ACK, ack = seq + 1 */
		pkt_syn_template(reply, mac, mac, addr, 64);
		pkt_syn_fill(reply, OUR_IP, ck.sport, port, 0x5555);
		CHECK_INT_EQ(pkt_parse(syn, sizeof(syn), &v), PKT_TCP_OTHER);
		reply[PKT_ETH_LEN + PKT_IPV4_LEN + 13] = PKT_F_SYN | PKT_F_ACK;
		for (int b = 0; b < 4; b++)
			reply[PKT_ETH_LEN + PKT_IPV4_LEN + 8 + b] =
			    (uint8_t)((ck.seq + 1) >> (24 - 8 * b));
		/* fix the TCP checksum after the two edits */
		uint8_t *tcp = reply + PKT_ETH_LEN + PKT_IPV4_LEN;
		tcp[16] = tcp[17] = 0;
		uint32_t s = pkt_sum16(tcp, 24,
				       (addr >> 16) + (addr & 0xffff) + (OUR_IP >> 16) +
					   (OUR_IP & 0xffff) + 6 + 24);
		uint16_t cs = pkt_fold(s);
		tcp[16] = (uint8_t)(cs >> 8), tcp[17] = (uint8_t)cs;
		if (pkt_parse(reply, sizeof(reply), &v) == PKT_TCP_SYNACK &&
		    validate_reply(&c, &v, &idx) == VALIDATE_SYNACK && idx == i)
			accepted++;
	}
	CHECK_UINT_EQ(accepted, 4096);
	targets_free(t);
}

/* cookie_hash_bulk() and every variant this CPU runs give cookie_hash()'s
 * value in every lane, for every batch length 0..70 (full lanes and tails),
 * several keys and random messages. */
static void test_bulk_matches_scalar(void)
{
	static const char *const names[] = {"base", "avx2", "avx512"};
	static const enum cookie_isa isas[] = {COOKIE_ISA_BASE, COOKIE_ISA_AVX2, COOKIE_ISA_AVX512};
	uint32_t src[70], dst[70];
	uint16_t dport[70];
	uint64_t h[71], rnd = 5, bad = 0, ran = 0;

	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct cookie_key k;

		cookie_key_from_seed(&k, seed);
		for (size_t n = 0; n <= 70; n++) {
			for (size_t i = 0; i < n; i++) {
				rnd = rnd * UINT64_C(6364136223846793005) + 1442695040888963407u;
				src[i] = (uint32_t)(rnd >> 32);
				dst[i] = (uint32_t)rnd ^ (uint32_t)(rnd >> 17);
				dport[i] = (uint16_t)(rnd >> 7);
			}
			for (size_t v = 0; v <= 3; v++) {
				h[n] = 0x5a5a; /* one past the end: must stay untouched */
				if (v == 3)
					cookie_hash_bulk(&k, src, dst, dport, n, h);
				else if (cookie_hash_bulk_isa(isas[v], &k, src, dst, dport, n, h) !=
					 0)
					continue;
				ran++;
				for (size_t i = 0; i < n; i++) {
					if (h[i] == cookie_hash(&k, src[i], dst[i], dport[i]))
						continue;
					if (bad++ < 5)
						fprintf(stderr, "%s: n %zu lane %zu differs\n",
							v == 3 ? "best" : names[v], n, i);
				}
				bad += h[n] != 0x5a5a;
			}
		}
	}
	CHECK_UINT_EQ(bad, 0);
	CHECK(ran >= 4 * 71 * 2); /* at least the base variant and the dispatcher */
	if (cookie_hash_bulk_isa(COOKIE_ISA_AVX512, &(struct cookie_key){0}, src, dst, dport, 0,
				 h) != 0)
		fprintf(stderr, "note: no AVX-512 on this CPU, that variant not checked\n");
	if (cookie_hash_bulk_isa(COOKIE_ISA_AVX2, &(struct cookie_key){0}, src, dst, dport, 0, h) !=
	    0)
		fprintf(stderr, "note: no AVX2 on this CPU, that variant not checked\n");
}

int main(void)
{
	RUN(test_make_is_keyed_and_in_range);
	RUN(test_forged_replies_rejected);
	RUN(test_round_trip_frames);
	RUN(test_bulk_matches_scalar);
	return test_summary();
}
