/* validate.h — is a parsed reply an answer to one of our probes?
 *
 * The receive-side rule, in the one function the RX lcore, the unit tests,
 * the fuzz harness and the benchmark all call (validate_reply), and the
 * source-address choice that the transmit side and this rule share
 * (validate_source_index):
 *
 *   A SYN-ACK or RST is ours only if it comes from a probed (address, port)
 *   pair, is addressed to the very source address the transmit side chose
 *   for that target address (with several source addresses, any other of
 *   ours is as wrong as a stranger's), and its destination port and
 *   acknowledgement match the cookie of the SYN we sent (cookie.h).
 *
 * The cheapest test runs first: a forged flood fails at the address or the
 * cookie before the target lookup. Everything else is VALIDATE_INVALID. */
#ifndef MC_ENGINE_VALIDATE_H
#define MC_ENGINE_VALIDATE_H

#include "cookie.h"
#include "packet.h"
#include "targets.h"

#define VALIDATE_MAX_SRC_IPS 64

enum validate_result {
	VALIDATE_INVALID, /* not an answer to our probe: count it, drop it */
	VALIDATE_SYNACK,  /* an open port; *index is its target index */
	VALIDATE_RST,	  /* a closed port; *index is its target index */
};

struct validate_ctx {
	const struct targets *targets;
	struct cookie_key key;
	uint32_t src_ips[VALIDATE_MAX_SRC_IPS]; /* our source addresses, host order */
	uint32_t nsrc_ips;			/* 1..VALIDATE_MAX_SRC_IPS */
	uint64_t src_magic;			/* see validate_source_index */
	uint16_t sport_first, sport_count;
};

/* Fill c; false when nsrc_ips is 0 or above VALIDATE_MAX_SRC_IPS. */
bool validate_ctx_init(struct validate_ctx *c, const struct targets *targets,
		       const struct cookie_key *key, const uint32_t *src_ips, uint32_t nsrc_ips,
		       uint16_t sport_first, uint16_t sport_count);

/* The index into c->src_ips of the source address used for target address
 * dst: dst % nsrc_ips, computed as (magic * dst) * n >> 64 with magic =
 * UINT64_MAX / n + 1 (Lemire, Kaser, Kurz 2019, "Faster remainder by direct
 * computation"): exact for every 32-bit dst, and magic = 0 for n = 1 gives
 * 0. Per target, so every port of one host sees the same source. */
static inline uint32_t validate_source_index(const struct validate_ctx *c, uint32_t dst)
{
	return (uint32_t)(((unsigned __int128)(c->src_magic * dst) * c->nsrc_ips) >> 64);
}

/* Classify a reply that pkt_parse() returned as PKT_TCP_SYNACK or
 * PKT_TCP_RST (anything else is VALIDATE_INVALID). */
static inline enum validate_result validate_reply(const struct validate_ctx *c,
						  const struct pkt_view *v, uint64_t *index)
{
	if (v->kind != PKT_TCP_SYNACK && v->kind != PKT_TCP_RST)
		return VALIDATE_INVALID;
	if (v->dst_ip != c->src_ips[validate_source_index(c, v->src_ip)])
		return VALIDATE_INVALID;
	if (!cookie_matches(&c->key, v->dst_ip, v->src_ip, v->sport, v->dport, v->ack,
			    c->sport_first, c->sport_count))
		return VALIDATE_INVALID;
	if (!targets_index_of(c->targets, v->src_ip, v->sport, index))
		return VALIDATE_INVALID;
	return v->kind == PKT_TCP_SYNACK ? VALIDATE_SYNACK : VALIDATE_RST;
}

#endif
