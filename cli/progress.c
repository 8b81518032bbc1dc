/* progress.c — the scan's progress line (progress.h). */
#include "cli/progress.h"

#include <inttypes.h>
#include <stdio.h>

static void fmt_eta(char *buf, size_t len, double secs)
{
	if (secs < 0 || secs > 1e8)
		snprintf(buf, len, "-");
	else if (secs >= 3600)
		snprintf(buf, len, "%.0fh%02.0fm", secs / 3600,
			 (double)((uint64_t)secs % 3600 / 60));
	else if (secs >= 60)
		snprintf(buf, len, "%.0fm%02.0fs", (double)((uint64_t)secs / 60),
			 (double)((uint64_t)secs % 60));
	else
		snprintf(buf, len, "%.0fs", secs);
}

void scan_progress_print(void *ctx, const struct engine_result *now, double elapsed_s,
			 uint64_t expected)
{
	struct scan_progress *p = ctx;
	double dt = elapsed_s - p->prev_s, pct, eta;
	char etas[32], kpath[160] = "";

	if (dt <= 0)
		dt = 1e-9;
	pct = expected > 0 ? 100.0 * (double)now->targets / (double)expected : 100.0;
	if (pct > 100.0)
		pct = 100.0;
	eta = now->targets > 0 ? elapsed_s * (100.0 - pct) / pct : -1;
	fmt_eta(etas, sizeof(etas), eta);
	if (p->kernel_path)
		snprintf(kpath, sizeof(kpath),
			 "; kernel in %" PRIu64 " (%" PRIu64 " B) out %" PRIu64 " (%" PRIu64
			 " B) drops %" PRIu64,
			 now->to_kernel, now->to_kernel_bytes, now->from_kernel,
			 now->from_kernel_bytes, now->to_kernel_drops + now->from_kernel_drops);
	fprintf(stderr,
		"scan %5.1fs: sent %" PRIu64 " (%.0f p/s); hits %" PRIu64
		" (%.0f h/s); rst %" PRIu64 "; dup %" PRIu64 "; invalid %" PRIu64
		"; drops ring %" PRIu64 " missed %" PRIu64 " nombuf %" PRIu64 " oerr %" PRIu64
		" kernel %" PRIu64 " txfull %" PRIu64 "%s; %.1f%% ETA %s\n",
		elapsed_s, now->sent, (double)(now->sent - p->prev.sent) / dt, now->hits,
		(double)(now->hits - p->prev.hits) / dt, now->rsts, now->dup_hits + now->dup_rsts,
		now->invalid, now->ring_drops, now->imissed, now->rx_nombuf, now->oerrors,
		now->iface_rx_dropped, now->tx_full, kpath, pct, etas);
	p->prev = *now;
	p->prev_s = elapsed_s;
}
