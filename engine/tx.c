/* tx.c — one TX lcore: walk its part of the permutation, send SYNs.
 *
 * Per burst: take tokens from this queue's share of the rate, allocate that
 * many mbufs in one call, fill them, hand the burst to the NIC (retrying
 * what it refuses, never dropping). Filling runs in stages over a batch of
 * up to ENG_BURST targets, each stage a short loop over independent work so
 * the CPU overlaps what one target at a time would serialise: the next
 * indexes of the permutation (one call, four interleaved chains), their
 * (address, port) pairs (one call), the source address of each, the SipHash
 * cookies of all (one call, eight in vector lanes; a cookie is sequence
 * number, source port and IP ID); then per frame a copy of the template of
 * its source address (58 bytes, 74 with --tcp-options os) and the fill of
 * IP ID, destination, ports, sequence and both checksums (packet.c). Clock, rate limiter, stop
 * flags and counters are touched once per burst, never per frame. (Bursts
 * of 64 instead of ENG_BURST's 32 measured no faster on net_null.) With -P N
 * a target's frame is written N times in a row (same cookie), which is what
 * ZMap does. */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "engine/ratelimit.h"
#include "engine/runtime.h"
#include "engine/targets.h"

#define TX_HOLD_NAP_US 50 /* a held TX lcore checks again this often */

/* The prepared batch of targets and where this queue is in it. */
struct tx_cursor {
	struct cyclic_iter it;
	uint64_t limit;			  /* targets left before -n stops this queue */
	uint64_t taken;			  /* targets taken from the permutation so far */
	uint64_t batch_left, batch_taken; /* it.left and taken before the current batch */
	uint32_t pos, count;		  /* batch[pos..count) not started yet */
	uint32_t cur, left;		  /* the target being sent and its frames still to send */
	bool exhausted;
	uint64_t index[ENG_BURST];
	uint32_t dst[ENG_BURST], seq[ENG_BURST];
	uint16_t dport[ENG_BURST], sport[ENG_BURST], ip_id[ENG_BURST];
	uint8_t src_i[ENG_BURST];
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

/* Prepare the next batch of targets; false when this queue's part is done. */
static bool next_batch(const struct eng_run *r, struct tx_cursor *c)
{
	const struct engine_config *cfg = r->cfg;
	size_t want = c->limit < ENG_BURST ? (size_t)c->limit : ENG_BURST, k;
	uint32_t src[ENG_BURST];
	uint64_t hash[ENG_BURST];

	c->batch_left = c->it.left;
	c->batch_taken = c->taken;
	k = cyclic_next_bulk(&c->it, &r->group, c->index, want);
	c->limit -= k;
	c->taken += k;
	c->pos = 0;
	c->count = (uint32_t)k;
	if (k == 0) {
		c->exhausted = true;
		c->batch_left = c->it.left; /* nothing after it: the end */
		return false;
	}
	targets_pair_bulk(cfg->targets, c->index, k, c->dst, c->dport);
	for (size_t j = 0; j < k; j++) {
		c->src_i[j] = (uint8_t)validate_source_index(&r->vctx, c->dst[j]);
		src[j] = r->vctx.src_ips[c->src_i[j]];
	}
	cookie_hash_bulk(&r->vctx.key, src, c->dst, c->dport, k, hash);
	for (size_t j = 0; j < k; j++) {
		struct cookie ck = cookie_from_hash(hash[j], cfg->sport_first, cfg->sport_count);

		c->seq[j] = ck.seq;
		c->sport[j] = ck.sport;
		c->ip_id[j] = ck.ip_id;
	}
	return true;
}

/* The SYN templates of one TX lcore: one per source address, all of one
 * length (the scan's TCP option set). Copies are always PKT_SYN_MAX_LEN
 * bytes (a fixed-size memcpy the compiler inlines); len is what is sent. */
struct tx_templates {
	uint8_t frame[ENGINE_MAX_SRC_IPS][PKT_SYN_MAX_LEN];
	uint16_t len;
	bool ts;		  /* PKT_OPTS_OS: a TSval per destination (pkt_os_tsval) */
	uint32_t ts_base, ts_key; /* from the run's key */
};

static inline void write_frame(struct rte_mbuf *m, const struct tx_templates *tmpl,
			       const struct tx_cursor *c, uint32_t j)
{
	uint8_t *f;

	/* a raw mbuf from the pool: refcnt 1, one segment, next NULL (DPDK keeps
	 * freed mbufs so); the headroom is ours to set */
	rte_pktmbuf_reset_headroom(m);
	f = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(f, tmpl->frame[c->src_i[j]], PKT_SYN_MAX_LEN);
	pkt_syn_fill_fresh(f, c->dst[j], c->dport[j], c->sport[j], c->seq[j], c->ip_id[j]);
	if (tmpl->ts)
		pkt_syn_set_tsval_fresh(f, pkt_os_tsval(tmpl->ts_base, tmpl->ts_key, c->dst[j]));
	m->data_len = tmpl->len;
	m->pkt_len = tmpl->len;
	m->ol_flags = 0; /* no offload: an RX mbuf of the same pool may carry RX flags */
	m->packet_type = 0;
}

/* Fill up to n mbufs; returns how many were filled (fewer at the end). */
static uint16_t fill_burst(const struct eng_run *r, struct tx_cursor *c,
			   const struct tx_templates *tmpl, struct rte_mbuf **pkts, uint16_t n,
			   uint64_t *targets)
{
	const uint32_t probes = r->cfg->probes;
	uint16_t i = 0;

	while (i < n) {
		uint32_t k;

		if (c->left == 0) {
			if (c->pos == c->count && !next_batch(r, c))
				break;
			if (probes == 1) { /* one frame per target: straight through the batch */
				k = c->count - c->pos < (uint32_t)(n - i) ? c->count - c->pos
									  : (uint32_t)(n - i);
				for (uint32_t e = 0; e < k; e++)
					write_frame(pkts[i + e], tmpl, c, c->pos + e);
				c->pos += k;
				*targets += k;
				i = (uint16_t)(i + k);
				continue;
			}
			c->cur = c->pos++;
			c->left = probes;
			(*targets)++;
		}
		k = c->left < (uint32_t)(n - i) ? c->left : (uint32_t)(n - i);
		for (uint32_t e = 0; e < k; e++)
			write_frame(pkts[i + e], tmpl, c, c->cur);
		c->left -= k;
		i = (uint16_t)(i + k);
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

/* Every target before the current batch has been handed to the NIC. */
static void publish_position(struct eng_tx_ctx *ctx, const struct tx_cursor *c)
{
	uint32_t seq = atomic_load_explicit(&ctx->pos_seq, memory_order_relaxed);

	atomic_store_explicit(&ctx->pos_seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	eng_store(&ctx->pos_left, c->batch_left);
	eng_store(&ctx->pos_taken, c->batch_taken);
	atomic_store_explicit(&ctx->pos_seq, seq + 2, memory_order_release);
}

void eng_tx_position(const struct eng_tx_ctx *ctx, struct engine_ckpt_queue *out)
{
	for (;;) {
		uint32_t a = atomic_load_explicit(&ctx->pos_seq, memory_order_acquire);
		out->left = eng_load(&ctx->pos_left);
		out->taken = eng_load(&ctx->pos_taken);
		atomic_thread_fence(memory_order_acquire);
		if ((a & 1) == 0 && atomic_load_explicit(&ctx->pos_seq, memory_order_relaxed) == a)
			return;
		rte_pause();
	}
}

/* The queue's start: its part of the permutation, or a checkpoint's place
 * in it (checked against this scan by engine_ckpt_check before). */
static void cursor_start(const struct eng_run *r, struct eng_tx_ctx *ctx, struct tx_cursor *c)
{
	const struct engine_config *cfg = r->cfg;

	c->limit = queue_limit(cfg, ctx->queue);
	cyclic_iter_init(&c->it, &r->group, cfg->shard * cfg->tx_queues + ctx->queue,
			 cfg->shards * cfg->tx_queues);
	if (cfg->resume_from != NULL) {
		const struct engine_ckpt_queue *q = &cfg->resume_from->q[ctx->queue];
		cyclic_iter_seek(&c->it, &r->group, q->left);
		c->taken = q->taken;
		c->limit = c->limit > q->taken ? c->limit - q->taken : 0;
	}
	c->batch_left = c->it.left;
	c->batch_taken = c->taken;
	publish_position(ctx, c);
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
	struct tx_templates tmpl;
	struct rte_mbuf *pkts[ENG_BURST];
	struct tx_cursor cur = {.limit = 0};
	struct tbucket tb;
	uint64_t sent = 0, targets = 0, tx_full = 0, held = 0, now;
	unsigned nap_us;

	/* TSval: per destination from the run's key (pkt_os_tsval), as Linux's
	 * per-host offsets make it; the template carries 0 */
	for (uint32_t i = 0; i < cfg->nsrc_ips; i++)
		tmpl.len =
		    (uint16_t)pkt_syn_template_opts(tmpl.frame[i], r->src_mac, r->gw_mac,
						    cfg->src_ips[i], cfg->ttl, cfg->tcp_opts, 0);
	tmpl.ts = cfg->tcp_opts == PKT_OPTS_OS;
	tmpl.ts_base = (uint32_t)(r->vctx.key.k1 >> 17);
	tmpl.ts_key = (uint32_t)r->vctx.key.k0;
	cursor_start(r, ctx, &cur);
	tbucket_init(&tb, cfg->rate_pps / cfg->tx_queues, r->tsc_hz, ENG_BURST);
	nap_us = nap_for_rate(cfg->rate_pps / cfg->tx_queues);
	tbucket_reset(&tb, rte_rdtsc());
	while (!cur.exhausted && !should_stop(r, now = rte_rdtsc())) {
		uint32_t want;
		uint16_t n;

		if (atomic_load_explicit(&r->rx.tx_hold, memory_order_relaxed)) {
			/* the RX backlog is not empty: hold back (backpressure) */
			rte_delay_us_sleep(TX_HOLD_NAP_US);
			held += rte_rdtsc() - now;
			eng_store(&ctx->held_tsc, held);
			tbucket_reset(&tb, rte_rdtsc()); /* no burst of saved credit after */
			continue;
		}
		want = tbucket_take(&tb, now, ENG_BURST);
		if (want == 0) {
			tx_wait(nap_us);
			continue;
		}
		/* raw mbufs, as testpmd's txonly takes them: every field a
		 * SYN needs is set in write_frame(), nothing else is reset */
		if (rte_mempool_get_bulk(r->pool, (void **)pkts, want) != 0) {
			tx_full++;
			continue;
		}
		n = fill_burst(r, &cur, &tmpl, pkts, (uint16_t)want, &targets);
		if (n < want)
			rte_pktmbuf_free_bulk(pkts + n, want - n);
		uint16_t out = send_all(r, ctx->queue, pkts, n, &tx_full);
		sent += out;
		if (out == n) /* a stop may drop the rest of a burst: then no claim */
			publish_position(ctx, &cur);
		eng_store(&ctx->sent, sent);
		eng_store(&ctx->targets, targets);
		eng_store(&ctx->tx_full, tx_full);
	}
	eng_store(&ctx->sent, sent);
	eng_store(&ctx->targets, targets);
	eng_store(&ctx->tx_full, tx_full);
	eng_store(&ctx->held_tsc, held);
	eng_store(&ctx->end_tsc, rte_rdtsc());
	atomic_store_explicit(&ctx->done, true, memory_order_release);
	return 0;
}
