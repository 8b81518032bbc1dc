/* tx.c — one TX lcore: walk its part of the permutation, send SYNs.
 *
 * Per burst: take tokens from this queue's share of the rate, allocate that
 * many mbufs in one call, and for each frame copy the 58-byte template of its
 * source address, write destination, ports and cookie sequence (packet.c
 * fixes both checksums incrementally), then hand the burst to the NIC. Each
 * of those costs is paid once per frame; nothing is rebuilt per burst. With
 * -P N a target's frame is written N times in a row (same cookie), which is
 * what ZMap does. Frames the NIC refuses are retried, never dropped. */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "engine/ratelimit.h"
#include "engine/runtime.h"
#include "engine/targets.h"

/* The target being probed and how many more frames it gets. */
struct tx_cursor {
	struct cyclic_iter it;
	uint64_t limit; /* targets left before -n stops this queue */
	uint32_t dst;
	uint16_t dport, sport;
	uint32_t seq;
	uint32_t src_i;
	uint32_t left; /* frames still to send for this target */
	bool exhausted;
};

static uint64_t queue_limit(const struct engine_config *cfg, uint16_t q)
{
	uint64_t per, extra;

	if (cfg->max_targets == 0)
		return UINT64_MAX;
	per = cfg->max_targets / cfg->tx_queues;
	extra = cfg->max_targets % cfg->tx_queues;
	return per + (q < extra ? 1 : 0);
}

/* Advance to the next target; false when this queue's part is done. */
static bool next_target(const struct eng_run *r, struct tx_cursor *c)
{
	const struct engine_config *cfg = r->cfg;
	uint64_t index;
	uint32_t src;
	struct cookie ck;

	if (c->limit == 0 || !cyclic_next(&c->it, &r->group, &index)) {
		c->exhausted = true;
		return false;
	}
	c->limit--;
	targets_pair(cfg->targets, index, &c->dst, &c->dport);
	c->src_i = cfg->nsrc_ips > 1 ? c->dst % cfg->nsrc_ips : 0;
	src = cfg->src_ips[c->src_i];
	ck = cookie_make(&r->key, src, c->dst, c->dport, cfg->sport_first, cfg->sport_count);
	c->seq = ck.seq;
	c->sport = ck.sport;
	c->left = cfg->probes;
	return true;
}

/* Fill up to n mbufs; returns how many were filled (fewer at the end). */
static uint16_t fill_burst(const struct eng_run *r, struct tx_cursor *c,
			   uint8_t (*tmpl)[PKT_SYN_LEN], struct rte_mbuf **pkts, uint16_t n,
			   uint64_t *targets)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		uint8_t *f;
		if (c->left == 0) {
			if (!next_target(r, c))
				break;
			(*targets)++;
		}
		c->left--;
		f = rte_pktmbuf_mtod(pkts[i], uint8_t *);
		memcpy(f, tmpl[c->src_i], PKT_SYN_LEN);
		pkt_syn_fill(f, c->dst, c->dport, c->sport, c->seq);
		pkts[i]->data_len = PKT_SYN_LEN;
		pkts[i]->pkt_len = PKT_SYN_LEN;
	}
	return i;
}

/* Hand all n frames to the NIC, retrying while it is full. Returns sent. */
static uint16_t send_all(const struct eng_run *r, uint16_t q, struct rte_mbuf **pkts, uint16_t n,
			 uint64_t *tx_full)
{
	uint16_t sent = rte_eth_tx_burst(r->port_id, q, pkts, n);

	while (sent < n) {
		(*tx_full)++;
		if (atomic_load_explicit(&r->stop_tx, memory_order_relaxed) ||
		    eng_quit_requested()) {
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
			break;
		}
		rte_pause();
		sent += rte_eth_tx_burst(r->port_id, q, pkts + sent, n - sent);
	}
	return sent;
}

/* Below ~20k frames/s per queue a token is 50 us or more away: sleep for
 * half the gap instead of spinning, so a slow scan leaves its CPU to the
 * servers, the grabber and the other lcores (the bucket keeps the credit). */
static unsigned nap_for_rate(double rate_per_queue)
{
	double gap_us = rate_per_queue > 0 ? 1e6 / rate_per_queue : 0;

	if (gap_us < 50)
		return 0;
	return gap_us / 2 > 1000 ? 1000 : (unsigned)(gap_us / 2);
}

static void tx_wait(unsigned nap_us)
{
	if (nap_us == 0)
		rte_pause();
	else
		rte_delay_us_sleep(nap_us);
}

static bool should_stop(const struct eng_run *r, uint64_t now)
{
	return atomic_load_explicit(&r->stop_tx, memory_order_relaxed) || eng_quit_requested() ||
	       (r->tx_deadline_tsc != 0 && now >= r->tx_deadline_tsc);
}

int eng_tx_main(void *arg)
{
	struct eng_tx_ctx *ctx = arg;
	const struct eng_run *r = ctx->run;
	const struct engine_config *cfg = r->cfg;
	uint8_t tmpl[ENGINE_MAX_SRC_IPS][PKT_SYN_LEN];
	struct rte_mbuf *pkts[ENG_BURST];
	struct tx_cursor cur = {.limit = queue_limit(cfg, ctx->queue)};
	struct tbucket tb;
	uint64_t sent = 0, targets = 0, tx_full = 0, now;
	unsigned nap_us;

	for (uint32_t i = 0; i < cfg->nsrc_ips; i++)
		pkt_syn_template(tmpl[i], r->src_mac, r->gw_mac, cfg->src_ips[i], cfg->ttl);
	cyclic_iter_init(&cur.it, &r->group, cfg->shard * cfg->tx_queues + ctx->queue,
			 cfg->shards * cfg->tx_queues);
	tbucket_init(&tb, cfg->rate_pps / cfg->tx_queues, r->tsc_hz, ENG_BURST);
	nap_us = nap_for_rate(cfg->rate_pps / cfg->tx_queues);
	tbucket_reset(&tb, rte_rdtsc());
	while (!cur.exhausted && !should_stop(r, now = rte_rdtsc())) {
		uint32_t want = tbucket_take(&tb, now, ENG_BURST);
		uint16_t n;
		if (want == 0) {
			tx_wait(nap_us);
			continue;
		}
		if (rte_pktmbuf_alloc_bulk(r->pool, pkts, want) != 0) {
			tx_full++;
			continue;
		}
		n = fill_burst(r, &cur, tmpl, pkts, (uint16_t)want, &targets);
		if (n < want)
			rte_pktmbuf_free_bulk(pkts + n, want - n);
		sent += send_all(r, ctx->queue, pkts, n, &tx_full);
		eng_store(&ctx->sent, sent);
		eng_store(&ctx->targets, targets);
		eng_store(&ctx->tx_full, tx_full);
	}
	eng_store(&ctx->sent, sent);
	eng_store(&ctx->targets, targets);
	eng_store(&ctx->tx_full, tx_full);
	eng_store(&ctx->end_tsc, rte_rdtsc());
	atomic_store_explicit(&ctx->done, true, memory_order_release);
	return 0;
}
