/* validate.h — is a parsed reply an answer to one of our probes?
 *
 * The receive-side rule in one place, shared by the RX lcore and the
 * benchmark: a SYN-ACK or RST is ours only if it comes from a probed
 * (address, port) pair, is addressed to our source address, and its
 * destination port and acknowledgement match the cookie of the SYN we would
 * have sent to that pair. Everything else is counted as invalid. */
#ifndef MC_ENGINE_VALIDATE_H
#define MC_ENGINE_VALIDATE_H

#include "cookie.h"
#include "packet.h"
#include "targets.h"

enum validate_result {
	VALIDATE_INVALID, /* not an answer to our probe: count it, drop it */
	VALIDATE_SYNACK,  /* an open port; *index is its target index */
	VALIDATE_RST,	  /* a closed port; *index is its target index */
};

struct validate_ctx {
	const struct targets *targets;
	struct cookie_key key;
	uint32_t our_ip; /* the engine's source address */
	uint16_t sport_first, sport_count;
};

/* Classify a reply that pkt_parse() returned as PKT_TCP_SYNACK or
 * PKT_TCP_RST (anything else is VALIDATE_INVALID). */
static inline enum validate_result validate_reply(const struct validate_ctx *c,
						  const struct pkt_view *v, uint64_t *index)
{
	if (v->kind != PKT_TCP_SYNACK && v->kind != PKT_TCP_RST)
		return VALIDATE_INVALID;
	if (v->dst_ip != c->our_ip)
		return VALIDATE_INVALID;
	if (!cookie_matches(&c->key, c->our_ip, v->src_ip, v->sport, v->dport, v->ack,
			    c->sport_first, c->sport_count))
		return VALIDATE_INVALID;
	if (!targets_index_of(c->targets, v->src_ip, v->sport, index))
		return VALIDATE_INVALID;
	return v->kind == PKT_TCP_SYNACK ? VALIDATE_SYNACK : VALIDATE_RST;
}

#endif
