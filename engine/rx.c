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
 * leaves its CPU to the main lcore and a second TX lcore.
 *
 * With the kernel path (--kernel-path tap, kpath.h) the lcore is also the
 * bridge: frames kpath_classify() calls the kernel's are handed, mbuf and
 * all, to the tap's TX queue (no copy, no allocation), ARP requests for our
 * address are answered and handed on too, and the loop drains the tap's RX
 * queue onto the port's RX-lcore queue. After the scan's cooldown it hands
 * its backlog to the ring and keeps bridging (no scan reply counted) until
 * the grab stage is done. */
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "engine/kpath.h"
#include "engine/runtime.h"
#include "engine/targets.h"

#define RX_IDLE_POLLS	   256 /* empty polls before the lcore naps */
#define RX_NAP_US	   50
#define RX_BACKLOG_WAIT_MS 30000 /* at the end: how long the backlog may take to drain */
/* An empty poll of the tap is a read() system call, not a look at a ring:
 * while the kernel is quiet the tap is polled every RX_TAP_EVERY-th loop (a
 * frame waits a few microseconds longer), while it sends on every loop. */
#define RX_TAP_EVERY 16

struct rx_counts {
	uint64_t hits, dup_hits, rsts, dup_rsts, invalid, other, arp_replies, ring_drops;
	uint64_t rsts_sent;
	uint64_t to_kernel, to_kernel_bytes, to_kernel_drops;
	uint64_t from_kernel, from_kernel_bytes, from_kernel_drops;
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

/* Frames built (RSTs) or kept (for the kernel) while a burst is processed,
 * sent after it. */
struct batch {
	struct rte_mbuf *m[ENG_BURST];
	uint16_t n;
};

static void rst_queue(const struct eng_run *r, const struct pkt_view *v, struct batch *b)
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

static void rst_flush(const struct eng_run *r, struct batch *b, struct rx_counts *c)
{
	uint16_t sent = b->n > 0 ? rte_eth_tx_burst(r->port_id, r->arp_txq, b->m, b->n) : 0;

	c->rsts_sent += sent;
	if (sent < b->n)
		rte_pktmbuf_free_bulk(b->m + sent, b->n - sent);
	b->n = 0;
}

/* Hand the kept frames to the kernel's tap; what it refuses is a drop. */
static void kernel_flush(const struct eng_run *r, struct batch *b, struct rx_counts *c)
{
	uint16_t sent = b->n > 0 ? rte_eth_tx_burst(r->tap_port, 0, b->m, b->n) : 0;

	for (uint16_t i = 0; i < sent; i++)
		c->to_kernel_bytes += rte_pktmbuf_pkt_len(b->m[i]);
	c->to_kernel += sent;
	if (sent < b->n) {
		c->to_kernel_drops += b->n - sent;
		rte_pktmbuf_free_bulk(b->m + sent, b->n - sent);
	}
	b->n = 0;
}

/* What the kernel sent on its tap goes out on the port, from the RX lcore's
 * own queue. Returns the frames taken. */
static uint16_t kernel_drain(const struct eng_run *r, struct rx_counts *c)
{
	struct rte_mbuf *pkts[ENG_BURST];
	uint16_t n = rte_eth_rx_burst(r->tap_port, 0, pkts, ENG_BURST), sent;

	if (n == 0)
		return 0;
	sent = rte_eth_tx_burst(r->port_id, r->arp_txq, pkts, n);
	for (uint16_t i = 0; i < sent; i++)
		c->from_kernel_bytes += rte_pktmbuf_pkt_len(pkts[i]);
	c->from_kernel += sent;
	if (sent < n) {
		c->from_kernel_drops += n - sent;
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
	return n;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A reply validate_reply accepted (kpath_classify): target `index`. */
static void on_reply(const struct eng_run *r, const struct pkt_view *v, uint64_t index,
		     uint64_t t_ns, struct rx_counts *c, struct batch *rst)
{
	bool synack = v->kind == PKT_TCP_SYNACK;
	struct mc_hit hit;

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

/* One received frame. True when it was kept for the kernel (in `kern`);
 * the caller frees the others. After the scan (bridge) only the kernel
 * path and ARP are served. */
static bool on_frame(const struct eng_run *r, struct rte_mbuf *m, uint64_t t_ns, bool bridge,
		     struct rx_counts *c, struct batch *rst, struct batch *kern)
{
	struct pkt_view v;
	uint64_t index = 0;
	bool kpath = r->cfg->kernel_path;

	pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &v);
	switch (kpath_classify(&r->vctx, &v, &index)) {
	case KPATH_SCAN_SYNACK:
	case KPATH_SCAN_RST:
		if (!bridge)
			on_reply(r, &v, index, t_ns, c, rst);
		return false;
	case KPATH_ARP_REQUEST:
		if (eng_arp_answer(r, r->arp_txq, &v))
			c->arp_replies++;
		else
			c->other++;
		break; /* the kernel learns the asker's MAC from it too */
	case KPATH_KERNEL:
		if (kpath)
			break;
		/* without a kernel path: today's counting */
		(*(v.kind == PKT_TCP_SYNACK || v.kind == PKT_TCP_RST ? &c->invalid : &c->other))++;
		return false;
	case KPATH_INVALID:
		c->invalid++;
		return false;
	case KPATH_OTHER:
		c->other++;
		return false;
	}
	if (!kpath)
		return false;
	if (kern->n == ENG_BURST) { /* cannot happen: one burst fills at most one batch */
		c->to_kernel_drops++;
		return false;
	}
	kern->m[kern->n++] = m;
	return true;
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
	eng_store(&ctx->to_kernel, c->to_kernel);
	eng_store(&ctx->to_kernel_bytes, c->to_kernel_bytes);
	eng_store(&ctx->to_kernel_drops, c->to_kernel_drops);
	eng_store(&ctx->from_kernel, c->from_kernel);
	eng_store(&ctx->from_kernel_bytes, c->from_kernel_bytes);
	eng_store(&ctx->from_kernel_drops, c->from_kernel_drops);
}

/* One burst from RX queue q: classify, send RSTs and the kernel's frames,
 * free the rest. Returns the frames received. */
static uint16_t rx_queue(const struct eng_run *r, uint16_t q, bool bridge, struct rx_counts *c,
			 struct batch *rst)
{
	struct rte_mbuf *pkts[ENG_BURST];
	struct batch kern = {.n = 0};
	uint16_t n = rte_eth_rx_burst(r->port_id, q, pkts, ENG_BURST), nfree = 0;
	uint64_t t_ns;

	if (n == 0)
		return 0;
	t_ns = now_ns();
	for (uint16_t i = 0; i < n; i++)
		if (!on_frame(r, pkts[i], t_ns, bridge, c, rst, &kern))
			pkts[nfree++] = pkts[i];
	if (nfree > 0)
		rte_pktmbuf_free_bulk(pkts, nfree);
	rst_flush(r, rst, c);
	if (kern.n > 0)
		kernel_flush(r, &kern, c);
	return n;
}

/* What still waits goes to the ring before it is closed: the consumer is
 * still draining it. Bounded, so that a consumer that stopped (an
 * abandoned run) cannot hold the engine; what is left then is counted. */
static void backlog_to_ring(struct eng_rx_ctx *ctx, struct rx_counts *c)
{
	for (unsigned waited = 0; c->bl_len > 0 && waited < RX_BACKLOG_WAIT_MS * 10; waited++) {
		drain_backlog(ctx->run, c);
		if (c->bl_len > 0)
			rte_delay_us_sleep(100);
	}
	c->ring_drops += c->bl_len;
	c->bl_len = 0;
	atomic_store_explicit(&ctx->tx_hold, false, memory_order_relaxed);
}

int eng_rx_main(void *arg)
{
	struct eng_rx_ctx *ctx = arg;
	const struct eng_run *r = ctx->run;
	struct rx_counts c = {.ctx = ctx};
	struct batch rst = {.n = 0};
	unsigned idle = 0, tick = 0;
	bool bridge = false, tap_busy = false;

	while (!atomic_load_explicit(&r->stop_rx, memory_order_acquire)) {
		uint32_t got = 0;

		if (!bridge && atomic_load_explicit(&r->bridge_only, memory_order_acquire)) {
			bridge = true; /* the scan is over; the ring is closed after the ack */
			backlog_to_ring(ctx, &c);
			publish(ctx, &c);
			atomic_store_explicit(&ctx->bridge_ack, true, memory_order_release);
		}
		if (c.bl_len > 0)
			drain_backlog(r, &c);
		for (uint16_t q = 0; q < r->nb_rxq; q++)
			got += rx_queue(r, q, bridge, &c, &rst);
		if (r->cfg->kernel_path && (tap_busy || ++tick % RX_TAP_EVERY == 0)) {
			uint16_t k = kernel_drain(r, &c);
			tap_busy = k > 0;
			got += k;
		}
		if (got > 0) {
			idle = 0;
			publish(ctx, &c);
		} else if (++idle >= RX_IDLE_POLLS) {
			rte_delay_us_sleep(RX_NAP_US);
		}
	}
	backlog_to_ring(ctx, &c);
	publish(ctx, &c);
	return 0;
}
