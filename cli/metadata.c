/* metadata.c — the scan's metadata JSON, in memory (metadata.h). */
#include "cli/metadata.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ipv4.h"
#include "engine/targets.h"
#include "output/jw.h"

#define META_FIXED_BYTES 16384 /* everything but the arguments, with room */

static void key(struct out_jw *w, const char *k)
{
	out_jw_lit(w, ",");
	out_jw_key(w, k);
}

static void key_u64(struct out_jw *w, const char *k, uint64_t v)
{
	key(w, k);
	out_jw_u64(w, v);
}

static void key_bool(struct out_jw *w, const char *k, bool v)
{
	key(w, k);
	out_jw_bool(w, v);
}

static void key_time(struct out_jw *w, const char *k, uint64_t ns)
{
	key(w, k);
	out_jw_time(w, (int64_t)(ns / 1000u), true);
}

static void key_mac(struct out_jw *w, const char *k, const uint8_t m[6])
{
	static const char hex[] = "0123456789abcdef";
	char t[17];

	for (int i = 0; i < 6; i++) {
		t[i * 3] = hex[m[i] >> 4];
		t[i * 3 + 1] = hex[m[i] & 15];
		if (i < 5)
			t[i * 3 + 2] = ':';
	}
	key(w, k);
	out_jw_bytes(w, t, 17);
}

static void config(struct out_jw *w, const struct engine_config *cfg, int argc, char **argv)
{
	char ip[MC_IPV4_STRLEN], ports[16];

	out_jw_lit(w, "{\"version\":");
	out_jw_bytes(w, MC_VERSION, strlen(MC_VERSION));
	out_jw_lit(w, ",\"arguments\":[");
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			out_jw_lit(w, ",");
		out_jw_bytes(w, argv[i], strlen(argv[i]));
	}
	out_jw_lit(w, "]");
	key_u64(w, "seed", cfg->seed);
	key_u64(w, "shard", cfg->shard);
	key_u64(w, "shards", cfg->shards);
	key_u64(w, "tx_queues", cfg->tx_queues);
	key_u64(w, "rate_pps", (uint64_t)(cfg->rate_pps + 0.5));
	key_u64(w, "probes", cfg->probes);
	key_u64(w, "cooldown_ms", cfg->cooldown_ms);
	key_u64(w, "max_targets", cfg->max_targets);
	key_u64(w, "max_runtime_ms", cfg->max_runtime_ms);
	key_bool(w, "dry_run", cfg->dry_run);
	key(w, "source_ips");
	out_jw_lit(w, "[");
	for (uint32_t i = 0; i < cfg->nsrc_ips; i++) {
		if (i > 0)
			out_jw_lit(w, ",");
		mc_ipv4_format(cfg->src_ips[i], ip);
		out_jw_bytes(w, ip, strlen(ip));
	}
	out_jw_lit(w, "]");
	key(w, "source_ports");
	snprintf(ports, sizeof(ports), "%u-%u", cfg->sport_first,
		 cfg->sport_first + cfg->sport_count - 1u);
	out_jw_bytes(w, ports, strlen(ports));
	key_u64(w, "ttl", cfg->ttl);
	key(w, "tcp_options");
	if (cfg->tcp_opts == PKT_OPTS_OS)
		out_jw_lit(w, "\"os\"");
	else
		out_jw_lit(w, "\"mss\"");
}

static void targets(struct out_jw *w, const struct targets *t)
{
	const char *names[TARGETS_MAX_REASONS];
	uint64_t counts[TARGETS_MAX_REASONS];
	size_t n = targets_excluded(t, names, counts, TARGETS_MAX_REASONS);

	key(w, "targets");
	out_jw_lit(w, "{\"addresses\":");
	out_jw_u64(w, targets_addresses(t));
	key_u64(w, "pairs", targets_pairs(t));
	key(w, "ports");
	out_jw_lit(w, "[");
	for (size_t i = 0; i < targets_nports(t); i++) {
		if (i > 0)
			out_jw_lit(w, ",");
		out_jw_u64(w, targets_port(t, i));
	}
	out_jw_lit(w, "]}");
	key(w, "excluded");
	out_jw_lit(w, "{\"total\":");
	out_jw_u64(w, targets_excluded_total(t));
	out_jw_lit(w, ",\"by_reason\":{");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			out_jw_lit(w, ",");
		out_jw_bytes(w, names[i], strlen(names[i]));
		out_jw_lit(w, ":");
		out_jw_u64(w, counts[i]);
	}
	out_jw_lit(w, "}}");
}

/* "kernel_path": null, or the tap and its counters both ways. */
static void kernel_path(struct out_jw *w, const struct engine_config *cfg,
			const struct engine_result *res)
{
	key(w, "kernel_path");
	if (!cfg->kernel_path) {
		out_jw_lit(w, "null");
		return;
	}
	out_jw_lit(w, "{\"mode\":\"tap\",\"iface\":");
	out_jw_bytes(w, ENGINE_KPATH_IFACE, strlen(ENGINE_KPATH_IFACE));
	key(w, "to_kernel");
	out_jw_lit(w, "{\"frames\":");
	out_jw_u64(w, res->to_kernel);
	key_u64(w, "bytes", res->to_kernel_bytes);
	key_u64(w, "drops", res->to_kernel_drops);
	out_jw_lit(w, "}");
	key(w, "from_kernel");
	out_jw_lit(w, "{\"frames\":");
	out_jw_u64(w, res->from_kernel);
	key_u64(w, "bytes", res->from_kernel_bytes);
	key_u64(w, "drops", res->from_kernel_drops);
	out_jw_lit(w, "}}");
}

static void result(struct out_jw *w, const struct engine_config *cfg,
		   const struct engine_result *res)
{
	char rate[32];

	key(w, "driver");
	out_jw_bytes(w, res->driver, strnlen(res->driver, sizeof(res->driver)));
	key_mac(w, "source_mac", res->src_mac);
	key_mac(w, "gateway_mac", res->gw_mac);
	key_u64(w, "probed", res->targets);
	key_u64(w, "sent", res->sent);
	key(w, "send_rate_pps");
	snprintf(rate, sizeof(rate), "%.1f", res->send_rate);
	out_jw_raw(w, rate, strlen(rate));
	key_u64(w, "hits", res->hits);
	key_u64(w, "rsts", res->rsts);
	key(w, "duplicates");
	out_jw_lit(w, "{\"hits\":");
	out_jw_u64(w, res->dup_hits);
	key_u64(w, "rsts", res->dup_rsts);
	out_jw_lit(w, "}");
	key_u64(w, "invalid", res->invalid);
	key_u64(w, "other", res->other);
	key_u64(w, "arp_replies", res->arp_replies);
	key_u64(w, "rsts_sent", res->rsts_sent);
	key(w, "drops");
	out_jw_lit(w, "{\"ring\":");
	out_jw_u64(w, res->ring_drops);
	key_u64(w, "tx_full", res->tx_full);
	key_u64(w, "imissed", res->imissed);
	key_u64(w, "rx_nombuf", res->rx_nombuf);
	key_u64(w, "oerrors", res->oerrors);
	key_u64(w, "ierrors", res->ierrors);
	key_u64(w, "iface_rx_dropped", res->iface_rx_dropped);
	out_jw_lit(w, "}");
	key(w, "backpressure");
	out_jw_lit(w, "{\"backlog_peak\":");
	out_jw_u64(w, res->backlog_peak);
	key(w, "held_s");
	snprintf(rate, sizeof(rate), "%.3f", res->held_s);
	out_jw_raw(w, rate, strlen(rate));
	out_jw_lit(w, "}");
	if (cfg->checkpoint) { /* docs/resume.md */
		key(w, "checkpoint");
		out_jw_lit(w, "{\"written\":");
		out_jw_u64(w, res->checkpoints);
		key_u64(w, "errors", res->checkpoint_errors);
		key(w, "first_error");
		if (res->checkpoint_errors != 0)
			out_jw_bytes(w, res->checkpoint_error,
				     strnlen(res->checkpoint_error, sizeof(res->checkpoint_error)));
		else
			out_jw_lit(w, "null");
		key_bool(w, "resumed", cfg->resume_from != NULL);
		key_u64(w, "probed_before", res->resumed_taken);
		out_jw_lit(w, "}");
	}
	key_bool(w, "interrupted", res->interrupted);
	key_time(w, "start_time", res->start_ns);
	key_time(w, "tx_end_time", res->tx_end_ns);
	key_time(w, "end_time", res->end_ns);
}

int scan_metadata_json(const struct engine_config *cfg, const struct engine_result *res, int argc,
		       char **argv, char **out, size_t *len)
{
	size_t cap = META_FIXED_BYTES;
	struct out_jw w;
	char *buf;

	for (int i = 0; i < argc; i++)
		cap += strlen(argv[i]) * 6 + 3; /* worst case: every byte \u00XX */
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	out_jw_init(&w, buf, cap - 1);
	config(&w, cfg, argc, argv);
	targets(&w, cfg->targets);
	kernel_path(&w, cfg, res);
	result(&w, cfg, res);
	out_jw_lit(&w, "}\n");
	if (w.overflow) { /* cannot happen with the sizing above; be safe */
		free(buf);
		return -ENOMEM;
	}
	*w.p = '\0';
	*len = (size_t)(w.p - buf);
	*out = buf;
	return 0;
}
