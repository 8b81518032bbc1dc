/* stats.c — counters summed from the lcores, the per-second progress line,
 * and the metadata JSON written at the end of a scan.
 *
 * The main lcore reads each lcore's counter block with relaxed loads; the
 * owners store their running totals once per burst, so reading never
 * disturbs a fast path. The metadata file is written to FILE.tmp and renamed
 * into place: a reader never sees half of it. */
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
}

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

/* One line on stderr: sent, send rate, hits, hit rate, drops, percent, ETA.
 * `prev` and `prev_ns` carry the previous line's totals for the rates. */
void eng_stats_progress(const struct eng_run *r, uint64_t elapsed_ns, uint64_t expected,
			struct engine_result *prev, uint64_t *prev_ns)
{
	struct engine_result now = {0};
	double dt = (double)(elapsed_ns - *prev_ns) / 1e9;
	double pct, send_rate, hit_rate, eta;
	char etas[32], kpath[160] = "";

	eng_stats_collect(r, &now);
	if (r->cfg->kernel_path)
		snprintf(kpath, sizeof(kpath),
			 "; kernel in %" PRIu64 " (%" PRIu64 " B) out %" PRIu64 " (%" PRIu64
			 " B) drops %" PRIu64,
			 now.to_kernel, now.to_kernel_bytes, now.from_kernel, now.from_kernel_bytes,
			 now.to_kernel_drops + now.from_kernel_drops);
	eng_port_counters(r, &now);
	if (dt <= 0)
		dt = 1e-9;
	send_rate = (double)(now.sent - prev->sent) / dt;
	hit_rate = (double)(now.hits - prev->hits) / dt;
	pct = expected > 0 ? 100.0 * (double)now.targets / (double)expected : 100.0;
	if (pct > 100.0)
		pct = 100.0;
	eta = now.targets > 0 ? (double)elapsed_ns / 1e9 * (100.0 - pct) / pct : -1;
	fmt_eta(etas, sizeof(etas), eta);
	fprintf(stderr,
		"scan %5.1fs: sent %" PRIu64 " (%.0f p/s); hits %" PRIu64
		" (%.0f h/s); rst %" PRIu64 "; dup %" PRIu64 "; invalid %" PRIu64
		"; drops ring %" PRIu64 " missed %" PRIu64 " nombuf %" PRIu64 " oerr %" PRIu64
		" kernel %" PRIu64 " txfull %" PRIu64 "%s; %.1f%% ETA %s\n",
		(double)elapsed_ns / 1e9, now.sent, send_rate, now.hits, hit_rate, now.rsts,
		now.dup_hits + now.dup_rsts, now.invalid, now.ring_drops, now.imissed,
		now.rx_nombuf, now.oerrors, now.iface_rx_dropped, now.tx_full, kpath, pct, etas);
	*prev = now;
	*prev_ns = elapsed_ns;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_time(FILE *f, const char *key, uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;
	char buf[40];

	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "\"%s\":\"%s.%03uZ\"", key, buf, (unsigned)(ns / 1000000u % 1000u));
}

static void json_ip(FILE *f, uint32_t ip)
{
	fprintf(f, "\"%u.%u.%u.%u\"", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static void json_mac(FILE *f, const char *key, const uint8_t m[6])
{
	fprintf(f, "\"%s\":\"%02x:%02x:%02x:%02x:%02x:%02x\"", key, m[0], m[1], m[2], m[3], m[4],
		m[5]);
}

static void meta_config(FILE *f, const struct engine_config *cfg, int argc, char **argv)
{
	fprintf(f, "{\"version\":");
	json_str(f, MC_VERSION);
	fprintf(f, ",\"arguments\":[");
	for (int i = 0; i < argc; i++) {
		fputs(i ? "," : "", f);
		json_str(f, argv[i]);
	}
	fprintf(f,
		"],\"seed\":%" PRIu64 ",\"shard\":%u,\"shards\":%u,\"tx_queues\":%u,"
		"\"rate_pps\":%.0f,\"probes\":%u,\"cooldown_ms\":%u,\"max_targets\":%" PRIu64
		",\"max_runtime_ms\":%u,\"dry_run\":%s,\"source_ips\":[",
		cfg->seed, cfg->shard, cfg->shards, cfg->tx_queues, cfg->rate_pps, cfg->probes,
		cfg->cooldown_ms, cfg->max_targets, cfg->max_runtime_ms,
		cfg->dry_run ? "true" : "false");
	for (uint32_t i = 0; i < cfg->nsrc_ips; i++) {
		fputs(i ? "," : "", f);
		json_ip(f, cfg->src_ips[i]);
	}
	fprintf(f, "],\"source_ports\":\"%u-%u\",\"ttl\":%u", cfg->sport_first,
		cfg->sport_first + cfg->sport_count - 1u, cfg->ttl);
}

static void meta_targets(FILE *f, const struct targets *t)
{
	const char *names[TARGETS_MAX_REASONS];
	uint64_t counts[TARGETS_MAX_REASONS];
	size_t n = targets_excluded(t, names, counts, TARGETS_MAX_REASONS);

	fprintf(f, ",\"targets\":{\"addresses\":%" PRIu64 ",\"pairs\":%" PRIu64 ",\"ports\":[",
		targets_addresses(t), targets_pairs(t));
	for (size_t i = 0; i < targets_nports(t); i++)
		fprintf(f, "%s%u", i ? "," : "", targets_port(t, i));
	fprintf(f, "]},\"excluded\":{\"total\":%" PRIu64 ",\"by_reason\":{",
		targets_excluded_total(t));
	for (size_t i = 0; i < n; i++) {
		fputs(i ? "," : "", f);
		json_str(f, names[i]);
		fprintf(f, ":%" PRIu64, counts[i]);
	}
	fputs("}}", f);
}

/* "kernel_path": null, or the tap and its counters both ways. */
static void meta_kpath(FILE *f, const struct engine_config *cfg, const struct engine_result *res)
{
	if (!cfg->kernel_path) {
		fputs(",\"kernel_path\":null", f);
		return;
	}
	fprintf(
	    f,
	    ",\"kernel_path\":{\"mode\":\"tap\",\"iface\":\"%s\",\"to_kernel\":{\"frames\":%" PRIu64
	    ",\"bytes\":%" PRIu64 ",\"drops\":%" PRIu64 "},\"from_kernel\":{\"frames\":%" PRIu64
	    ",\"bytes\":%" PRIu64 ",\"drops\":%" PRIu64 "}}",
	    ENGINE_KPATH_IFACE, res->to_kernel, res->to_kernel_bytes, res->to_kernel_drops,
	    res->from_kernel, res->from_kernel_bytes, res->from_kernel_drops);
}

static void meta_result(FILE *f, const struct engine_result *res)
{
	fprintf(f, ",\"driver\":");
	json_str(f, res->driver);
	fputc(',', f);
	json_mac(f, "source_mac", res->src_mac);
	fputc(',', f);
	json_mac(f, "gateway_mac", res->gw_mac);
	fprintf(f,
		",\"probed\":%" PRIu64 ",\"sent\":%" PRIu64
		",\"send_rate_pps\":%.1f,\"hits\":%" PRIu64 ",\"rsts\":%" PRIu64
		",\"duplicates\":{\"hits\":%" PRIu64 ",\"rsts\":%" PRIu64 "},\"invalid\":%" PRIu64
		",\"other\":%" PRIu64 ",\"arp_replies\":%" PRIu64 ",\"rsts_sent\":%" PRIu64
		",\"drops\":{\"ring\":%" PRIu64 ",\"tx_full\":%" PRIu64 ",\"imissed\":%" PRIu64
		",\"rx_nombuf\":%" PRIu64 ",\"oerrors\":%" PRIu64 ",\"ierrors\":%" PRIu64
		",\"iface_rx_dropped\":%" PRIu64 "},\"interrupted\":%s,",
		res->targets, res->sent, res->send_rate, res->hits, res->rsts, res->dup_hits,
		res->dup_rsts, res->invalid, res->other, res->arp_replies, res->rsts_sent,
		res->ring_drops, res->tx_full, res->imissed, res->rx_nombuf, res->oerrors,
		res->ierrors, res->iface_rx_dropped, res->interrupted ? "true" : "false");
	json_time(f, "start_time", res->start_ns);
	fputc(',', f);
	json_time(f, "tx_end_time", res->tx_end_ns);
	fputc(',', f);
	json_time(f, "end_time", res->end_ns);
	fputs("}\n", f);
}

int engine_metadata_write(const char *path, const struct engine_config *cfg,
			  const struct engine_result *res, int argc, char **argv, char *err,
			  size_t errlen)
{
	char tmp[PATH_MAX];
	FILE *f;
	int rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "metadata path too long");
		return -ENAMETOOLONG;
	}
	f = fopen(tmp, "w");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		return rc;
	}
	meta_config(f, cfg, argc, argv);
	meta_targets(f, cfg->targets);
	meta_kpath(f, cfg, res);
	meta_result(f, res);
	if (ferror(f) | (fclose(f) != 0)) {
		rc = -EIO;
		snprintf(err, errlen, "cannot write %s", tmp);
	} else if (rename(tmp, path) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
	}
	if (rc != 0)
		unlink(tmp);
	return rc;
}
