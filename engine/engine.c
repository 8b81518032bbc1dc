/* engine.c — engine_run(): the order of a scan, and its teardown.
 *
 * EAL up, port up, gateway resolved, consumer started, then lcores: TX lcores
 * on the first workers, the RX lcore on the next; the main lcore prints the
 * progress line every second until every TX lcore is done (or -t / a quit
 * request stops them), keeps RX running for the cooldown, stops it, closes
 * the ring and waits for the consumer. Every exit path goes through one
 * cleanup ladder that ends with EAL's runtime directory removed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "base/quit.h"
#include "engine/runtime.h"
#include "engine/targets.h"

#define ENG_TICK_US 100000 /* main lcore wakes every 100 ms */

bool eng_quit_requested(void)
{
	return mc_quit_level() != MC_QUIT_NONE;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int prepare(struct eng_run *r, char *err, size_t errlen)
{
	const struct engine_config *cfg = r->cfg;
	unsigned need = cfg->tx_queues + (cfg->dry_run ? 1u : 2u);
	uint64_t pairs = targets_pairs(cfg->targets);
	struct cookie_key key;

	if (rte_lcore_count() < need) {
		snprintf(err, errlen,
			 "EAL has %u lcores, the scan needs %u (main, %u TX, RX): fix -l/--lcores "
			 "after --",
			 rte_lcore_count(), need, cfg->tx_queues);
		return -EINVAL;
	}
	r->tsc_hz = rte_get_tsc_hz();
	if (cyclic_group_init(&r->group, pairs, cfg->seed) != 0) {
		snprintf(err, errlen, "target space of %llu pairs is too large",
			 (unsigned long long)pairs);
		return -EINVAL;
	}
	/* One key per (seed, shard, shard count): cookie.h says why. */
	cookie_key_for_shard(&key, cfg->seed, cfg->shard, cfg->shards);
	if (!validate_ctx_init(&r->vctx, cfg->targets, &key, cfg->src_ips, cfg->nsrc_ips,
			       cfg->sport_first, cfg->sport_count)) {
		snprintf(err, errlen, "%u source addresses (1 to %d)", cfg->nsrc_ips,
			 VALIDATE_MAX_SRC_IPS);
		return -EINVAL;
	}
	r->ring = mc_spsc_new(cfg->ring_size);
	r->rx.backlog_cap = ENG_BACKLOG;
	r->rx.backlog = malloc((size_t)r->rx.backlog_cap * sizeof(*r->rx.backlog));
	r->seen = r->ring != NULL && r->rx.backlog != NULL ? dedup_new(pairs) : NULL;
	if (r->seen == NULL) {
		snprintf(err, errlen, "out of memory for the hit ring, backlog or dedup bitmap");
		return -ENOMEM;
	}
	for (uint32_t q = 0; q < cfg->tx_queues; q++) {
		r->tx[q].run = r;
		r->tx[q].queue = (uint16_t)q;
	}
	r->rx.run = r;
	return eng_ckpt_open(r, err, errlen);
}

static int gateway(struct eng_run *r, struct engine_result *res, char *err, size_t errlen)
{
	if (r->cfg->have_gw_mac)
		memcpy(r->gw_mac, r->cfg->gw_mac, 6);
	else if (!r->cfg->dry_run)
		return eng_arp_resolve_gateway(r, &res->arp_replies_setup, err, errlen);
	return 0;
}

static void launch(struct eng_run *r)
{
	unsigned lc = rte_get_next_lcore(-1, 1, 0);

	for (uint32_t q = 0; q < r->cfg->tx_queues; q++) {
		r->tx_lcore[q] = lc;
		rte_eal_remote_launch(eng_tx_main, &r->tx[q], lc);
		lc = rte_get_next_lcore(lc, 1, 0);
	}
	if (!r->cfg->dry_run)
		r->rx_running = rte_eal_remote_launch(eng_rx_main, &r->rx, lc) == 0;
}

/* Stop the RX lcore and wait for every worker. */
static void stop_rx(struct eng_run *r)
{
	atomic_store_explicit(&r->stop_rx, true, memory_order_release);
	rte_eal_mp_wait_lcore();
	r->rx_running = false;
}

/* With the kernel path the RX lcore keeps bridging after the scan: wait for
 * the TX lcores, then until RX has stopped handling scan replies. */
static void stop_scan_keep_bridge(struct eng_run *r)
{
	for (uint32_t q = 0; q < r->cfg->tx_queues; q++)
		rte_eal_wait_lcore(r->tx_lcore[q]);
	atomic_store_explicit(&r->bridge_only, true, memory_order_release);
	while (r->rx_running && !atomic_load_explicit(&r->rx.bridge_ack, memory_order_acquire))
		rte_delay_us_sleep(1000);
}

static bool tx_all_done(const struct eng_run *r)
{
	for (uint32_t q = 0; q < r->cfg->tx_queues; q++)
		if (!atomic_load_explicit(&r->tx[q].done, memory_order_acquire))
			return false;
	return true;
}

/* Main lcore: progress lines while TX runs, then the cooldown. */
static void supervise(struct eng_run *r, const struct engine_consumer *consumer,
		      struct engine_result *res)
{
	const struct engine_config *cfg = r->cfg;
	uint64_t expected = targets_pairs(cfg->targets) / cfg->shards;
	uint64_t t0 = wall_ns(), next_line = 1000000000u, until = 0;

	if (cfg->max_targets != 0 && cfg->max_targets < expected)
		expected = cfg->max_targets;
	if (cfg->resume_from != NULL) { /* this session probes what the checkpoint left */
		res->resumed_taken = engine_ckpt_taken(cfg->resume_from);
		expected = expected > res->resumed_taken ? expected - res->resumed_taken : 0;
	}
	for (;;) {
		uint64_t el;
		rte_delay_us_sleep(ENG_TICK_US);
		el = wall_ns() - t0;
		eng_ckpt_tick(r, consumer, res, false);
		if (eng_quit_requested()) {
			res->interrupted = true;
			atomic_store(&r->stop_tx, true);
		}
		if (until == 0 && tx_all_done(r)) {
			res->tx_end_ns = wall_ns();
			until = cfg->dry_run || res->interrupted
				    ? el
				    : el + (uint64_t)cfg->cooldown_ms * 1000000u;
		}
		if ((cfg->progress != NULL || (consumer != NULL && consumer->tick != NULL)) &&
		    el >= next_line) {
			struct engine_result now = {0};

			eng_stats_collect(r, &now);
			eng_port_counters(r, &now);
			if (cfg->progress != NULL)
				cfg->progress(cfg->progress_ctx, &now, (double)el / 1e9, expected);
			if (consumer != NULL && consumer->tick != NULL)
				consumer->tick(consumer->ctx, &now);
			next_line += 1000000000u;
		}
		if (until != 0 && (el >= until || eng_quit_requested()))
			break;
	}
}

static void finish(struct eng_run *r, const struct engine_consumer *consumer,
		   struct engine_result *res)
{
	uint64_t end_tsc = 0;
	double secs;

	atomic_store_explicit(&r->stop_tx, true, memory_order_release);
	if (r->cfg->kernel_path)
		stop_scan_keep_bridge(r);
	else
		stop_rx(r);
	mc_spsc_close(r->ring);
	eng_ckpt_final(r, consumer, res, !res->interrupted);
	eng_stats_collect(r, res);
	eng_port_counters(r, res);
	memcpy(res->src_mac, r->src_mac, 6);
	memcpy(res->gw_mac, r->gw_mac, 6);
	if (res->tx_end_ns == 0)
		res->tx_end_ns = wall_ns();
	for (uint32_t q = 0; q < r->cfg->tx_queues; q++)
		if (eng_load(&r->tx[q].end_tsc) > end_tsc)
			end_tsc = eng_load(&r->tx[q].end_tsc);
	secs = end_tsc > r->start_tsc ? (double)(end_tsc - r->start_tsc) / (double)r->tsc_hz : 0;
	res->send_rate = secs > 0 ? (double)res->sent / secs : 0;
}

int engine_run(const struct engine_config *cfg, const struct engine_consumer *consumer,
	       struct engine_result *res, char *err, size_t errlen)
{
	struct eng_run *r = aligned_alloc(64, sizeof(*r));
	char rundir[PATH_MAX] = "";
	bool eal = false, port = false, kpath = false, consuming = false;
	int rc;

	memset(res, 0, sizeof(*res));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	rc = cfg->kernel_path ? eng_kpath_check(cfg, err, errlen) : 0;
	if (rc == 0)
		rc = eng_eal_init(cfg, rundir, sizeof(rundir), r->eal_log, sizeof(r->eal_log), err,
				  errlen);
	eal = rc == 0;
	if (rc == 0)
		rc = prepare(r, err, errlen);
	if (rc == 0)
		rc = eng_port_setup(r, err, errlen);
	port = r->pool != NULL;
	if (rc == 0) /* the port note, then EAL's warnings of a good start */
		snprintf(res->notes, sizeof(res->notes), "%s%s", r->notes, r->eal_log);
	if (rc == 0)
		rc = gateway(r, res, err, errlen);
	if (rc == 0 && cfg->kernel_path) {
		kpath = true;
		rc = eng_kpath_open(r, err, errlen);
	}
	if (rc == 0 && consumer != NULL) {
		rc = consumer->start(consumer->ctx, r->ring);
		if (rc != 0)
			snprintf(err, errlen, "cannot start the hit consumer: %s", strerror(-rc));
		consuming = rc == 0;
	}
	if (rc != 0)
		goto cleanup;
	res->started = true;
	res->start_ns = wall_ns();
	r->start_tsc = rte_rdtsc();
	if (cfg->iface != NULL)
		r->iface_dropped0 = eng_iface_rx_dropped(cfg->iface);
	if (cfg->max_runtime_ms != 0)
		r->tx_deadline_tsc = r->start_tsc + r->tsc_hz / 1000 * cfg->max_runtime_ms;
	launch(r);
	supervise(r, consumer, res);
	finish(r, consumer, res);
	res->end_ns = wall_ns();
cleanup:
	if (consuming) {
		mc_spsc_close(r->ring);
		int frc = consumer->finish(consumer->ctx);
		if (frc != 0 && rc == 0) {
			rc = frc;
			snprintf(err, errlen, "hit consumer failed: %s", strerror(-frc));
		}
	}
	if (r->rx_running) { /* the kernel path's bridge: its final counters */
		stop_rx(r);
		eng_stats_collect(r, res);
	}
	if (kpath)
		eng_kpath_close(r);
	if (port)
		eng_port_close(r);
	if (eal)
		eng_eal_cleanup(rundir);
	eng_ckpt_close(r);
	if (r->seen != NULL)
		dedup_free(r->seen);
	mc_spsc_free(r->ring);
	free(r->rx.backlog);
	free(r);
	return rc;
}
