/* test_validate.c — the one receive rule with several source addresses
 * (validate.h), and the per-shard key derivation (cookie.c). */
#include <stdlib.h>

#include "engine/validate.h"
#include "tests/unit/test.h"

#define SPORT_BASE 32768
#define SPORT_N	   28000

static void reply_view(struct pkt_view *v, uint32_t src, uint16_t sport, uint32_t dst,
		       uint16_t dport, uint32_t ack)
{
	*v = (struct pkt_view){.kind = PKT_TCP_SYNACK,
			       .src_ip = src,
			       .dst_ip = dst,
			       .sport = sport,
			       .dport = dport,
			       .ack = ack};
}

/* validate_source_index() is dst % n for every n the engine allows, on
 * edge and pseudo-random addresses. */
static void test_source_index_is_modulo(void)
{
	static const uint32_t edges[] = {0,  1,		  2,	       63,	    64,
					 65, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
	uint32_t ips[VALIDATE_MAX_SRC_IPS];
	struct cookie_key k = {1, 2};
	uint64_t rnd = 99, bad = 0;

	for (uint32_t i = 0; i < VALIDATE_MAX_SRC_IPS; i++)
		ips[i] = 0xC6120000u + i;
	for (uint32_t n = 1; n <= VALIDATE_MAX_SRC_IPS; n++) {
		struct validate_ctx c;

		CHECK(validate_ctx_init(&c, NULL, &k, ips, n, SPORT_BASE, SPORT_N));
		for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
			bad += validate_source_index(&c, edges[i]) != edges[i] % n;
		for (int i = 0; i < 20000; i++) {
			rnd = rnd * UINT64_C(6364136223846793005) + 1442695040888963407u;
			uint32_t d = (uint32_t)(rnd >> 32);
			bad += validate_source_index(&c, d) != d % n;
		}
	}
	CHECK_UINT_EQ(bad, 0);
	{
		struct validate_ctx c;
		CHECK(!validate_ctx_init(&c, NULL, &k, ips, 0, SPORT_BASE, SPORT_N));
		CHECK(!validate_ctx_init(&c, NULL, &k, ips, VALIDATE_MAX_SRC_IPS + 1, SPORT_BASE,
					 SPORT_N));
	}
}

/* Three source addresses: a reply is accepted only at the address the TX
 * side chose for its target; the same cookie computed for, and sent to,
 * another of our addresses is invalid, as is a stranger's address. */
static void test_several_sources(void)
{
	const char *cidrs[] = {"198.18.16.0/24"};
	const uint16_t ports[] = {110, 143};
	struct targets_spec spec = {
	    .cidrs = cidrs, .ncidrs = 1, .ports = ports, .nports = 2, .ignore_safe_range = true};
	const uint32_t ips[3] = {0xC6120002u, 0xC6120003u, 0xC6120004u};
	struct cookie_key key;
	struct validate_ctx c;
	struct targets *t;
	uint64_t accepted = 0, wrong_src_accepted = 0, per_src[3] = {0};
	char err[256];

	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), 0);
	cookie_key_for_shard(&key, 5, 0, 1);
	CHECK(validate_ctx_init(&c, t, &key, ips, 3, SPORT_BASE, SPORT_N));
	for (uint64_t i = 0; i < targets_pairs(t); i++) {
		uint32_t addr, chosen;
		uint16_t port;
		uint64_t idx = UINT64_MAX;
		struct pkt_view v;

		targets_pair(t, i, &addr, &port);
		chosen = validate_source_index(&c, addr);
		per_src[chosen]++;
		for (uint32_t s = 0; s < 3; s++) {
			/* a reply that is right in every way for source s */
			struct cookie ck =
			    cookie_make(&key, ips[s], addr, port, SPORT_BASE, SPORT_N);

			reply_view(&v, addr, port, ips[s], ck.sport, ck.seq + 1);
			enum validate_result r = validate_reply(&c, &v, &idx);
			if (s == chosen) {
				accepted += r == VALIDATE_SYNACK && idx == i;
			} else {
				wrong_src_accepted += r != VALIDATE_INVALID;
			}
		}
		/* a stranger's address with a cookie made for it */
		struct cookie ck = cookie_make(&key, 0xC6120005u, addr, port, SPORT_BASE, SPORT_N);
		reply_view(&v, addr, port, 0xC6120005u, ck.sport, ck.seq + 1);
		wrong_src_accepted += validate_reply(&c, &v, &idx) != VALIDATE_INVALID;
	}
	CHECK_UINT_EQ(accepted, targets_pairs(t));
	CHECK_UINT_EQ(wrong_src_accepted, 0);
	/* every source gets its share of the /24: the addresses a with a % 3 == s,
	 * each with both ports */
	for (uint32_t s = 0; s < 3; s++) {
		uint64_t want = 0;
		for (uint32_t a = 0xC6121000u; a <= 0xC61210FFu; a++)
			want += a % 3 == s;
		CHECK_UINT_EQ(per_src[s], want * 2);
	}
	targets_free(t);
}

/* The key depends on the seed, the shard index and the shard count: a
 * reply valid in one split is invalid in every other, and one seed gives
 * the same key every time. */
static void test_shard_keys(void)
{
	const uint32_t splits[][2] = {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}, {1, 4}};
	const size_t n = sizeof(splits) / sizeof(splits[0]);
	struct cookie_key a, b;

	for (size_t i = 0; i < n; i++) {
		cookie_key_for_shard(&a, 42, splits[i][0], splits[i][1]);
		cookie_key_for_shard(&b, 42, splits[i][0], splits[i][1]);
		CHECK(a.k0 == b.k0 && a.k1 == b.k1);
		cookie_key_for_shard(&b, 43, splits[i][0], splits[i][1]);
		CHECK(a.k0 != b.k0 || a.k1 != b.k1);
		for (size_t j = 0; j < n; j++) {
			if (j == i)
				continue;
			cookie_key_for_shard(&b, 42, splits[j][0], splits[j][1]);
			CHECK(a.k0 != b.k0 || a.k1 != b.k1);
			struct cookie ca = cookie_make(&a, 1, 2, 143, SPORT_BASE, SPORT_N);
			struct cookie cb = cookie_make(&b, 1, 2, 143, SPORT_BASE, SPORT_N);
			CHECK(ca.seq != cb.seq || ca.sport != cb.sport);
		}
	}
}

int main(void)
{
	RUN(test_source_index_is_modulo);
	RUN(test_several_sources);
	RUN(test_shard_keys);
	return test_summary();
}
