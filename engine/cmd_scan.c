/* cmd_scan.c — `mailcensus scan`: options, targets, safety, engine, files.
 *
 * Order matters for "nothing half-written": every check that can fail on
 * the command line (flags, CIDRs, files, the safe range, the interface)
 * runs before DPDK starts, and the output files are written as *.tmp and
 * renamed only when the scan ended well. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/safety.h"
#include "engine/engine.h"
#include "engine/responders.h"
#include "engine/scan_options.h"
#include "engine/targets.h"

static void on_signal(int sig)
{
	(void)sig;
	engine_request_quit();
}

static int build_targets(const struct scan_options *o, struct targets **t, char *err, size_t errlen)
{
	struct targets_spec spec = {.cidrs = o->cidrs,
				    .ncidrs = o->ncidrs,
				    .allow_file = o->allow_file,
				    .block_file = o->block_file,
				    .ports = o->ports,
				    .nports = o->nports};
	int rc = targets_build(t, &spec, err, errlen);

	/* every allowed interval must lie inside MAILCENSUS_SAFE_RANGE, if set */
	for (size_t i = 0; rc == 0 && i < targets_nintervals(*t); i++) {
		uint32_t first, last;
		targets_interval(*t, i, &first, &last);
		if (!mc_safe_allows(first, last, err, errlen))
			rc = -EPERM;
	}
	if (rc != 0 && *t != NULL) {
		targets_free(*t);
		*t = NULL;
	}
	return rc;
}

static void fill_config(struct engine_config *cfg, const struct scan_options *o,
			const struct targets *t, const struct engine_eal_args *eal)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->targets = t;
	cfg->seed = o->seed;
	cfg->shard = o->shard;
	cfg->shards = o->shards;
	cfg->tx_queues = o->tx_queues;
	cfg->probes = o->probes;
	cfg->rate_pps = o->rate_pps;
	cfg->cooldown_ms = o->cooldown_s * 1000u;
	cfg->max_targets = o->max_targets;
	cfg->max_runtime_ms = o->max_runtime_s * 1000u;
	memcpy(cfg->src_ips, o->src_ips, sizeof(o->src_ips));
	cfg->nsrc_ips = o->nsrc_ips;
	cfg->sport_first = o->sport_first;
	cfg->sport_count = o->sport_count;
	cfg->have_gw_mac = o->have_gw_mac;
	memcpy(cfg->gw_mac, o->gw_mac, 6);
	cfg->gw_ip = o->gw_ip;
	cfg->ttl = o->ttl;
	cfg->no_rst = o->no_rst;
	cfg->dry_run = o->dry_run != NULL;
	cfg->quiet = o->quiet;
	cfg->ring_size = o->hit_ring;
	cfg->iface = o->iface;
	cfg->eal_argc = eal->argc;
	cfg->eal_argv = (char **)eal->argv;
}

/* Check before DPDK starts that the metadata file can be written. */
static int probe_writable(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (path == NULL)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL) {
		int rc = -errno;
		snprintf(err, errlen, "cannot write %.300s: %s", tmp, strerror(errno));
		return rc;
	}
	fclose(f);
	unlink(tmp);
	return 0;
}

static void summary(const struct engine_result *res)
{
	fprintf(stderr,
		"mailcensus scan: %s; probed %llu targets, sent %llu SYNs (%.0f p/s), %llu hits, "
		"%llu RSTs, %llu invalid, %llu duplicate, drops: ring %llu, NIC missed %llu, "
		"kernel %llu\n",
		res->interrupted ? "interrupted" : "done", (unsigned long long)res->targets,
		(unsigned long long)res->sent, res->send_rate, (unsigned long long)res->hits,
		(unsigned long long)res->rsts, (unsigned long long)res->invalid,
		(unsigned long long)(res->dup_hits + res->dup_rsts),
		(unsigned long long)res->ring_drops, (unsigned long long)res->imissed,
		(unsigned long long)res->iface_rx_dropped);
}

/* Everything after the options are known. Returns the exit status. */
static int run(const struct scan_options *o, const struct targets *t,
	       const struct engine_consumer *plugged, const struct engine_eal_args *eal, int argc,
	       char **argv, char *err, size_t errlen)
{
	struct engine_config cfg;
	struct engine_result res;
	struct responders w;
	struct engine_consumer consumer;
	bool have_out = o->output != NULL && plugged == NULL;
	int rc;

	fill_config(&cfg, o, t, eal);
	rc = probe_writable(o->metadata, err, errlen);
	if (rc == 0 && have_out)
		rc = responders_open(&w, o->output, o->format, err, errlen);
	if (rc != 0)
		return 2;
	consumer = have_out ? responders_consumer(&w) : (struct engine_consumer){0};
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = engine_run(&cfg, have_out ? &consumer : plugged, &res, err, errlen);
	if (have_out) {
		char werr[256];
		int wrc = responders_close(&w, rc == 0, werr, sizeof(werr));
		if (rc == 0 && wrc != 0) {
			rc = wrc;
			snprintf(err, errlen, "%s", werr);
		}
	}
	if (rc != 0)
		return res.started ? 1 : 2;
	summary(&res);
	if (o->metadata != NULL &&
	    engine_metadata_write(o->metadata, &cfg, &res, argc, argv, err, errlen) != 0)
		return 1;
	if (res.interrupted) {
		snprintf(err, errlen, "interrupted: partial results written");
		return 1;
	}
	return 0;
}

int engine_scan_command(int argc, char **argv, const struct engine_consumer *consumer)
{
	struct scan_options *o = malloc(sizeof(*o)); /* 128 KiB of ports: not on the stack */
	struct engine_eal_args *eal = malloc(sizeof(*eal));
	struct targets *t = NULL;
	char err[512] = "";
	int status = 2;

	if (o == NULL || eal == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	if (scan_options_parse(o, argc, argv, err, sizeof(err)) != 0)
		goto out;
	if (o->help) {
		scan_options_usage(stdout);
		status = 0;
		goto out;
	}
	if (!o->seed_set && getrandom(&o->seed, sizeof(o->seed), 0) != sizeof(o->seed)) {
		snprintf(err, sizeof(err), "cannot draw a random seed: %s", strerror(errno));
		goto out;
	}
	if (consumer != NULL && o->output != NULL) {
		snprintf(err, sizeof(err),
			 "-o writes the responders itself: not with a hit consumer");
		goto out;
	}
	if (build_targets(o, &t, err, sizeof(err)) != 0)
		goto out;
	if (engine_eal_args(eal, o->iface, o->dry_run, o->tx_queues, o->verbose, o->npass, o->pass,
			    err, sizeof(err)) != 0)
		goto out;
	status = run(o, t, consumer, eal, argc, argv, err, sizeof(err));
out:
	if (status != 0)
		fprintf(stderr, "mailcensus scan: %s\n", err);
	free(eal);
	free(o);
	if (t != NULL)
		targets_free(t);
	return status;
}
