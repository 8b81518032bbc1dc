/* rx.c — the RX lcore: answer ARP, validate replies, hand hits on.
 *
 * A SYN-ACK or RST counts only if the one receive rule (validate_reply in
 * validate.h: from a probed pair, to the source address the TX side chose
 * for it, with a matching cookie) accepts it. Everything else is counted
 * as invalid (malformed frames and failed validation) or other (not a
 * reply at all, e.g. our own SYNs that af_packet echoes). The first
 * validated reply per pair wins (dedup bitmap); repeats are counted.
 *
 * A SYN-ACK becomes a 24-byte mc_hit pushed into the SPSC ring. When the
 * ring is full the hit waits, in order, in a preallocated backlog, and the
 * TX lcores pause until it is empty (backpressure, measured as time held):
 * the scan slows down rather than lose a validated hit. Only a full
 * backlog as well would lose one, and that is counted.
 *
 * Every validated SYN-ACK (first or repeated) is answered with a RST, as
 * the kernel of a scanner that owns its source address would: the server
 * drops the half-open connection instead of retransmitting its SYN-ACK for
 * a minute, and a later scan that happens to reuse the 4-tuple is not
 * answered from the old connection's state (--no-rst turns this off). The
 * RSTs of one burst go out together on the RX lcore's own TX queue. When
 * no frame arrives for a while the lcore naps, so on a 2-CPU machine it
 * leaves its CPU to the main lcore and a second TX lcore. */
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "engine/runtime.h"
#include "engine/targets.h"

#define RX_IDLE_POLLS	   256 /* empty polls before the lcore naps */
#define RX_NAP_US	   50
#define RX_BACKLOG_WAIT_MS 30000 /* at the end: how long the backlog may take to drain */

struct rx_counts {
	uint64_t hits, dup_hits, rsts, dup_rsts, invalid, other, arp_replies, ring_drops;
	uint64_t rsts_sent;
	uint32_t bl_head, bl_len; /* the backlog: ctx->backlog[bl_head .. +bl_len), circular */
	uint64_t backlog_peak;
	struct eng_rx_ctx *ctx;
};

/* Hand a hit on in order: into the ring when nothing waits before it,
 * else behind the backlog. Only when the backlog is full too is a hit
 * lost (counted): with the hit log consuming at disk speed and the TX
 * lcores held back while anything waits, that is not expected. */
static void hand_on(const struct eng_run *r, const struct mc_hit *h, struct rx_counts *c)
{
	struct eng_rx_ctx *x = c->ctx;

	if (c->bl_len == 0 && mc_spsc_push(r->ring, h))
		return;
	if (c->bl_len == x->backlog_cap) {
		c->ring_drops++;
		return;
	}
	x->backlog[(c->bl_head + c->bl_len) % x->backlog_cap] = *h;
	if (++c->bl_len > c->backlog_peak)
		c->backlog_peak = c->bl_len;
	atomic_store_explicit(&x->tx_hold, true, memory_order_relaxed);
}

/* Move what waits into the ring while it has room; release the TX lcores
 * once the backlog is empty. */
static void drain_backlog(const struct eng_run *r, struct rx_counts *c)
{
	struct eng_rx_ctx *x = c->ctx;

	while (c->bl_len > 0 && mc_spsc_push(r->ring, &x->backlog[c->bl_head])) {
		c->bl_head = (c->bl_head + 1) % x->backlog_cap;
		c->bl_len--;
	}
	if (c->bl_len == 0)
		atomic_store_explicit(&x->tx_hold, false, memory_order_relaxed);
}

/* RSTs built while a burst is processed, sent after it. */
struct rst_batch {
	struct rte_mbuf *m[ENG_BURST];
	uint16_t n;
};

static void rst_queue(const struct eng_run *r, const struct pkt_view *v, struct rst_batch *b)
{
	struct rte_mbuf *m;

	if (r->cfg->no_rst || b->n == ENG_BURST || (m = rte_pktmbuf_alloc(r->pool)) == NULL)
		return;
	m->data_len =
	    (uint16_t)pkt_rst_build(rte_pktmbuf_mtod(m, uint8_t *), r->src_mac, r->gw_mac,
				    v->dst_ip, v->src_ip, v->dport, v->sport, v->ack, r->cfg->ttl);
	m->pkt_len = m->data_len;
	b->m[b->n++] = m;
}

static void rst_flush(const struct eng_run *r, struct rst_batch *b, struct rx_counts *c)
{
	uint16_t sent = b->n > 0 ? rte_eth_tx_burst(r->port_id, r->arp_txq, b->m, b->n) : 0;

	c->rsts_sent += sent;
	if (sent < b->n)
		rte_pktmbuf_free_bulk(b->m + sent, b->n - sent);
	b->n = 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_reply(const struct eng_run *r, const struct pkt_view *v, uint64_t t_ns,
		     struct rx_counts *c, struct rst_batch *rst)
{
	uint64_t index;
	bool synack = v->kind == PKT_TCP_SYNACK;
	struct mc_hit hit;

	if (validate_reply(&r->vctx, v, &index) == VALIDATE_INVALID) {
		c->invalid++;
		return;
	}
	if (synack)
		rst_queue(r, v, rst);
	if (dedup_test_and_set(r->seen, index)) {
		(*(synack ? &c->dup_hits : &c->dup_rsts))++;
		return;
	}
	if (!synack) {
		c->rsts++;
		return;
	}
	c->hits++;
	hit = (struct mc_hit){.addr = v->src_ip,
			      .port = v->sport,
			      .ttl = v->ttl,
			      .isn = v->seq,
			      .window = v->window,
			      .mss = v->mss,
			      .time_ns = t_ns};
	hand_on(r, &hit, c);
}

static void on_frame(const struct eng_run *r, struct rte_mbuf *m, uint64_t t_ns,
		     struct rx_counts *c, struct rst_batch *rst)
{
	struct pkt_view v;

	switch (pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &v)) {
	case PKT_TCP_SYNACK:
	case PKT_TCP_RST:
		on_reply(r, &v, t_ns, c, rst);
		break;
	case PKT_ARP_REQUEST:
		if (eng_arp_answer(r, r->arp_txq, &v))
			c->arp_replies++;
		else
			c->other++;
		break;
	case PKT_MALFORMED:
		c->invalid++;
		break;
	case PKT_OTHER:
	case PKT_ARP_REPLY:
	case PKT_TCP_OTHER:
		c->other++;
		break;
	}
}

static void publish(struct eng_rx_ctx *ctx, const struct rx_counts *c)
{
	eng_store(&ctx->hits, c->hits);
	eng_store(&ctx->dup_hits, c->dup_hits);
	eng_store(&ctx->rsts, c->rsts);
	eng_store(&ctx->dup_rsts, c->dup_rsts);
	eng_store(&ctx->invalid, c->invalid);
	eng_store(&ctx->other, c->other);
	eng_store(&ctx->arp_replies, c->arp_replies);
	eng_store(&ctx->ring_drops, c->ring_drops);
	eng_store(&ctx->rsts_sent, c->rsts_sent);
	eng_store(&ctx->backlog_peak, c->backlog_peak);
}

int eng_rx_main(void *arg)
{
	struct eng_rx_ctx *ctx = arg;
	const struct eng_run *r = ctx->run;
	struct rte_mbuf *pkts[ENG_BURST];
	struct rx_counts c = {.ctx = ctx};
	struct rst_batch rst = {.n = 0};
	unsigned idle = 0;

	while (!atomic_load_explicit(&r->stop_rx, memory_order_acquire)) {
		uint32_t got = 0;

		if (c.bl_len > 0)
			drain_backlog(r, &c);
		for (uint16_t q = 0; q < r->nb_rxq; q++) {
			uint16_t n = rte_eth_rx_burst(r->port_id, q, pkts, ENG_BURST);
			uint64_t t_ns = n > 0 ? now_ns() : 0;
			for (uint16_t i = 0; i < n; i++)
				on_frame(r, pkts[i], t_ns, &c, &rst);
			if (n > 0)
				rte_pktmbuf_free_bulk(pkts, n);
			rst_flush(r, &rst, &c);
			got += n;
		}
		if (got > 0) {
			idle = 0;
			publish(ctx, &c);
		} else if (++idle >= RX_IDLE_POLLS) {
			rte_delay_us_sleep(RX_NAP_US);
		}
	}
	/* What still waits goes to the ring before it is closed: the consumer
	 * is still draining it. Bounded, so that a consumer that stopped (an
	 * abandoned run) cannot hold the engine; what is left then is counted. */
	for (unsigned waited = 0; c.bl_len > 0 && waited < RX_BACKLOG_WAIT_MS * 10; waited++) {
		drain_backlog(r, &c);
		if (c.bl_len > 0)
			rte_delay_us_sleep(100);
	}
	c.ring_drops += c.bl_len;
	c.bl_len = 0;
	atomic_store_explicit(&ctx->tx_hold, false, memory_order_relaxed);
	publish(ctx, &c);
	return 0;
}
