/* arp.c — the engine's own ARP: answer for our source addresses, resolve
 * the gateway.
 *
 * The engine's source address belongs to no kernel, so nothing else on the
 * link answers "who has 198.18.0.2": without these replies the server's
 * SYN-ACKs never leave its kernel. The gateway is resolved once, on the main
 * lcore before any TX lcore starts, so queue 0 is ours to send on then. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "base/ipv4.h"
#include "engine/runtime.h"

#define ARP_RETRY_MS 250
#define ARP_TRIES    12

bool eng_is_our_ip(const struct engine_config *cfg, uint32_t ip)
{
	for (uint32_t i = 0; i < cfg->nsrc_ips; i++)
		if (cfg->src_ips[i] == ip)
			return true;
	return false;
}

static bool send_frame(const struct eng_run *r, uint16_t txq, const uint8_t *frame, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(r->pool);

	if (m == NULL)
		return false;
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), frame, len);
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	if (rte_eth_tx_burst(r->port_id, txq, &m, 1) == 1)
		return true;
	rte_pktmbuf_free(m);
	return false;
}

bool eng_arp_answer(const struct eng_run *r, uint16_t txq, const struct pkt_view *v)
{
	uint8_t frame[PKT_ARP_LEN];
	size_t len;

	if (v->kind != PKT_ARP_REQUEST || !eng_is_our_ip(r->cfg, v->arp_target_ip))
		return false;
	len = pkt_arp_build(frame, true, r->src_mac, v->arp_target_ip, v->arp_sender_mac,
			    v->arp_sender_ip);
	return send_frame(r, txq, frame, len);
}

/* Poll every RX queue once; true when the gateway's reply was seen. */
static bool poll_for_gateway(struct eng_run *r, uint64_t *answered)
{
	struct rte_mbuf *pkts[ENG_BURST];
	struct pkt_view v;
	bool found = false;

	for (uint16_t q = 0; q < r->nb_rxq; q++) {
		uint16_t n = rte_eth_rx_burst(r->port_id, q, pkts, ENG_BURST);
		for (uint16_t i = 0; i < n; i++) {
			pkt_parse(rte_pktmbuf_mtod(pkts[i], const uint8_t *),
				  rte_pktmbuf_data_len(pkts[i]), &v);
			if (v.kind == PKT_ARP_REPLY && v.arp_sender_ip == r->cfg->gw_ip) {
				memcpy(r->gw_mac, v.arp_sender_mac, 6);
				found = true;
			} else if (eng_arp_answer(r, 0, &v)) {
				(*answered)++;
			}
			rte_pktmbuf_free(pkts[i]);
		}
	}
	return found;
}

int eng_arp_resolve_gateway(struct eng_run *r, uint64_t *answered, char *err, size_t errlen)
{
	uint8_t frame[PKT_ARP_LEN];
	size_t len =
	    pkt_arp_build(frame, false, r->src_mac, r->cfg->src_ips[0], NULL, r->cfg->gw_ip);
	uint64_t step = r->tsc_hz / 1000 * ARP_RETRY_MS;

	for (int t = 0; t < ARP_TRIES && !eng_quit_requested(); t++) {
		uint64_t until = rte_rdtsc() + step;
		send_frame(r, 0, frame, len);
		while (rte_rdtsc() < until) {
			if (poll_for_gateway(r, answered))
				return 0;
			rte_delay_us_sleep(1000);
		}
	}
	char gw[MC_IPV4_STRLEN];

	snprintf(err, errlen,
		 "gateway %s did not answer ARP within %d ms (check --gateway-ip and "
		 "-S, or give its MAC with -G)",
		 mc_ipv4_format(r->cfg->gw_ip, gw), ARP_TRIES * ARP_RETRY_MS);
	return -EHOSTUNREACH;
}
