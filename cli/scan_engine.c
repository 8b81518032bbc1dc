/* scan_engine.c — the engine half of `mailcensus scan` as a plan
 * (scan_engine.h).
 *
 * Order matters for "nothing half-written": every check that can fail on
 * the command line (flags, CIDRs, files, the safe range, the interface,
 * where -m and -o go) runs before DPDK starts; -o is written as a
 * temporary renamed only when the scan ended well, and -m atomically. */
#include "cli/scan_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/quit.h"
#include "base/safety.h"
#include "cli/metadata.h"
#include "cli/progress.h"
#include "cli/responders.h"
#include "engine/targets.h"

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
	cfg->ring_size = o->ring_size;
	cfg->iface = o->iface;
	cfg->kernel_path = o->kernel_path;
	cfg->eal_argc = eal->argc;
	cfg->eal_argv = (char **)eal->argv;
}

/* Before DPDK starts: the directory of path exists and is writable, and
 * path is not a directory. */
static int check_writable(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash;
	struct stat st;

	if (path == NULL)
		return 0;
	slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (access(dir, W_OK | X_OK) != 0 || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
		int rc = errno != 0 ? -errno : -EISDIR;
		snprintf(err, errlen, "cannot write %.300s: %s", path,
			 rc == -EISDIR ? "is a directory" : strerror(-rc));
		return rc;
	}
	return 0;
}

static void summary(const struct engine_result *res, bool kernel_path)
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
	if (kernel_path)
		fprintf(stderr,
			"mailcensus scan: kernel path %s: to the kernel %llu frames (%llu bytes, "
			"%llu dropped), from the kernel %llu frames (%llu bytes, %llu dropped)\n",
			ENGINE_KPATH_IFACE, (unsigned long long)res->to_kernel,
			(unsigned long long)res->to_kernel_bytes,
			(unsigned long long)res->to_kernel_drops,
			(unsigned long long)res->from_kernel,
			(unsigned long long)res->from_kernel_bytes,
			(unsigned long long)res->from_kernel_drops);
}

int scan_plan_open(struct scan_plan **out, struct scan_options *opts, char *err, size_t errlen)
{
	struct scan_plan *p = calloc(1, sizeof(*p));
	int rc = -ENOMEM;

	*out = NULL;
	if (p == NULL || (p->eal = malloc(sizeof(*p->eal))) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(p);
		free(opts);
		return rc;
	}
	p->opts = opts;
	if (!p->opts->seed_set &&
	    getrandom(&p->opts->seed, sizeof(p->opts->seed), 0) != sizeof(p->opts->seed)) {
		rc = -errno;
		snprintf(err, errlen, "cannot draw a random seed: %s", strerror(errno));
		goto fail;
	}
	rc = build_targets(p->opts, &p->targets, err, errlen);
	if (rc == 0)
		rc = engine_eal_args(p->eal, p->opts->iface, p->opts->dry_run, p->opts->tx_queues,
				     p->opts->verbose, p->opts->npass, p->opts->pass, err, errlen);
	if (rc == 0)
		rc = check_writable(p->opts->metadata, err, errlen);
	if (rc != 0)
		goto fail;
	fill_config(&p->cfg, p->opts, p->targets, p->eal);
	*out = p;
	return 0;
fail:
	scan_plan_free(p);
	return rc < 0 ? rc : -EINVAL;
}

void scan_plan_free(struct scan_plan *p)
{
	if (p == NULL)
		return;
	if (p->targets != NULL)
		targets_free(p->targets);
	free(p->eal);
	free(p->opts);
	free(p);
}

/* The metadata: built in memory, written to -m, handed back if wanted. */
static int metadata(const struct scan_plan *p, const struct engine_result *res, int argc,
		    char **argv, char **meta, char *err, size_t errlen)
{
	char *json = NULL;
	size_t len = 0;
	int rc = scan_metadata_json(&p->cfg, res, argc, argv, &json, &len);

	if (rc != 0) {
		snprintf(err, errlen, "out of memory for the metadata");
		return rc;
	}
	if (p->opts->metadata != NULL)
		rc = mc_file_write_atomic(AT_FDCWD, p->opts->metadata, json, len, err, errlen);
	if (rc == 0 && meta != NULL)
		*meta = json;
	else
		free(json);
	return rc;
}

int scan_plan_run(struct scan_plan *p, const struct engine_consumer *consumer, int argc,
		  char **argv, struct engine_result *res, char **meta, char *err, size_t errlen)
{
	const struct scan_options *o = p->opts;
	struct scan_progress progress = {.kernel_path = o->kernel_path};
	struct responders w;
	struct engine_consumer writer;
	bool have_out = o->output != NULL && consumer == NULL;
	int rc;

	if (meta != NULL)
		*meta = NULL;
	if (consumer != NULL && o->output != NULL) {
		snprintf(err, errlen, "-o writes the responders itself: not with a hit consumer");
		return 2;
	}
	if (have_out && responders_open(&w, o->output, o->format, err, errlen) != 0)
		return 2;
	writer = have_out ? responders_consumer(&w) : (struct engine_consumer){0};
	if (!o->quiet) {
		p->cfg.progress = scan_progress_print;
		p->cfg.progress_ctx = &progress;
	}
	mc_quit_install();
	rc = engine_run(&p->cfg, have_out ? &writer : consumer, res, err, errlen);
	p->cfg.progress = NULL;
	if (res->notes[0] != '\0' && !o->quiet)
		fputs(res->notes, stderr);
	if (have_out) {
		char werr[256];
		int wrc = responders_close(&w, rc == 0, werr, sizeof(werr));
		if (rc == 0 && wrc != 0) {
			rc = wrc;
			snprintf(err, errlen, "%s", werr);
		}
	}
	if (rc != 0)
		return res->started ? 1 : 2;
	summary(res, o->kernel_path);
	if (metadata(p, res, argc, argv, meta, err, errlen) != 0)
		return 1;
	if (res->interrupted) {
		snprintf(err, errlen, "interrupted: partial results written");
		return 1;
	}
	return 0;
}

int scan_engine_command(struct scan_options *opts, int argc, char **argv)
{
	struct scan_plan *p = NULL;
	struct engine_result res;
	char err[512] = "";
	int status = 2;

	if (scan_plan_open(&p, opts, err, sizeof(err)) == 0)
		status = scan_plan_run(p, NULL, argc, argv, &res, NULL, err, sizeof(err));
	if (status != 0)
		fprintf(stderr, "mailcensus scan: %s\n", err);
	scan_plan_free(p);
	return status;
}
