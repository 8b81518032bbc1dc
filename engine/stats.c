/* stats.c — counters summed from the lcores.
 *
 * The main lcore reads each lcore's counter block with relaxed loads; the
 * owners store their running totals once per burst, so reading never
 * disturbs a fast path. The engine prints nothing: its caller gets these
 * totals as a progress snapshot (engine_config.progress) and as the
 * result, and writes the line and the metadata itself (cli/). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/runtime.h"
#include "engine/targets.h"

void eng_stats_collect(const struct eng_run *r, struct engine_result *res)
{
	const struct eng_rx_ctx *rx = &r->rx;

	res->sent = res->targets = res->tx_full = 0;
	for (uint32_t q = 0; q < r->cfg->tx_queues; q++) {
		res->sent += eng_load(&r->tx[q].sent);
		res->targets += eng_load(&r->tx[q].targets);
		res->tx_full += eng_load(&r->tx[q].tx_full);
	}
	res->hits = eng_load(&rx->hits);
	res->dup_hits = eng_load(&rx->dup_hits);
	res->rsts = eng_load(&rx->rsts);
	res->dup_rsts = eng_load(&rx->dup_rsts);
	res->invalid = eng_load(&rx->invalid);
	res->other = eng_load(&rx->other);
	res->arp_replies = eng_load(&rx->arp_replies) + res->arp_replies_setup;
	res->ring_drops = eng_load(&rx->ring_drops);
	res->rsts_sent = eng_load(&rx->rsts_sent);
	res->to_kernel = eng_load(&rx->to_kernel);
	res->to_kernel_bytes = eng_load(&rx->to_kernel_bytes);
	res->to_kernel_drops = eng_load(&rx->to_kernel_drops);
	res->from_kernel = eng_load(&rx->from_kernel);
	res->from_kernel_bytes = eng_load(&rx->from_kernel_bytes);
	res->from_kernel_drops = eng_load(&rx->from_kernel_drops);
	res->backlog_peak = eng_load(&rx->backlog_peak);
	res->held_s = 0;
	for (uint32_t q = 0; q < r->cfg->tx_queues; q++) {
		double held = (double)eng_load(&r->tx[q].held_tsc) / (double)r->tsc_hz;
		if (held > res->held_s)
			res->held_s = held;
	}
}
