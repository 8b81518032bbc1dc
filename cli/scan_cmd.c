/* scan_cmd.c — `mailcensus scan`, the whole census in one command.
 *
 * Without --grab this is the engine's scan (scan_engine.c: responders to
 * -o). With --grab the engine's hits go straight to the grabber (census.c)
 * and the records to a results directory (-O) or stdout. One pass of the
 * one option parser (base/opts.h) fills both configurations: the scan's
 * rows fill the scan options, the census rows (grab's own setters under
 * scan's names, cli/grab_opts.c) fill the grab options. The metadata is
 * built in memory and goes into the manifest (and to -m if asked); no
 * argument is added and no temporary file is made. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli/census.h"
#include "cli/commands.h"
#include "cli/grab_opts.h"
#include "cli/proclimits.h"
#include "cli/scan_engine.h"
#include "output/sink.h"

_Static_assert(GRAB_SOURCES_MAX >= ENGINE_MAX_SRC_IPS, "every scan source can be a grab source");

/* The one flag that turns a scan into a census. */
struct census_flag {
	bool grab;
};

static int set_grab(void *ctx, const char *v, char *e, size_t n)
{
	(void)v, (void)e, (void)n;
	((struct census_flag *)ctx)->grab = true;
	return 0;
}

static const struct mc_opt grab_row[] = {
    {"grab", 0, NULL, set_grab,
     "probe every responder (banner, STARTTLS, TLS, certificate, posture) as hits arrive"},
};

static const char census_epilog[] =
    "With --grab, -o is refused (records replace the responder list), and the\n"
    "manifest in -O DIR carries the scan's metadata (seed, shard, counters).\n\n"
    "After --, DPDK EAL options, added to the defaults (--no-huge -m 256 --no-pci\n"
    "--file-prefix mcPID --lcores 0@cpu0,TX@cpu1..,RX@cpu0); the same option given\n"
    "there replaces its default. Devices: --iface IF (af_packet, qpairs = tx-queues+1),\n"
    "or e.g. -- --vdev=net_null0,no-rx=1 (throughput), --vdev=net_memif0,role=client,...\n"
    "\nexit status: 0 done, 1 the scan failed, 2 usage or start-up error\n";

/* The census: engine + grabber + sink. Returns the exit status. */
static int census(struct scan_options *so, struct grab_opts *go, int argc, char **argv)
{
	struct scan_plan *plan = NULL;
	struct census_grab *c = NULL;
	struct engine_consumer consumer;
	struct engine_result res;
	char err[512] = "", warn[256], cmdline[4096];
	char *meta_json = NULL;
	int status = 2;

	if (grab_opts_finish(go, err, sizeof(err)) != 0) {
		free(so);
		goto out;
	}
	if (scan_plan_open(&plan, so, err, sizeof(err)) != 0)
		goto out;
	if (plan->opts->output != NULL) {
		snprintf(err, sizeof(err),
			 "-o is the responder list of a scan without --grab; "
			 "with --grab the records go to -O DIR");
		goto out;
	}
	if (plan->opts->dry_run != NULL) {
		snprintf(err, sizeof(err), "--dry-run sends nothing: nothing to grab");
		goto out;
	}
	if (plan->opts->kernel_path) { /* the grab leaves from the scan's addresses, via the tap */
		memcpy(go->grab.source_ips, plan->opts->src_ips,
		       plan->opts->nsrc_ips * sizeof(plan->opts->src_ips[0]));
		go->grab.nsource_ips = plan->opts->nsrc_ips;
	}
	signal(SIGPIPE, SIG_IGN);
	cli_fit_fd_limit(&go->grab, 1, warn, sizeof(warn));
	if (warn[0] != '\0')
		fprintf(stderr, "mailcensus scan: %s\n", warn);
	{
		struct mc_hitlog_id id = {.seed = plan->opts->seed,
					  .shard = plan->opts->shard,
					  .shards = plan->opts->shards};
		if (census_grab_open(&c, &go->grab, &go->sink, &id, err, sizeof(err)) != 0)
			goto out;
	}
	census_grab_set_quiet(c, plan->opts->quiet);
	consumer = census_grab_consumer(c);
	status = scan_plan_run(plan, &consumer, argc, argv, &res, &meta_json, err, sizeof(err));
	if (status == 2) { /* nothing was sent: leave nothing behind */
		census_grab_discard(c);
		goto out;
	}
	if (status != 0 && err[0] != '\0')
		fprintf(stderr, "mailcensus scan: %s\n", err);
	err[0] = '\0';
	out_command_line(cmdline, sizeof(cmdline), argc, argv);
	{
		struct out_meta m = {.command_line = cmdline,
				     .seed = plan->opts->seed,
				     .shard = plan->opts->shard,
				     .shards = plan->opts->shards,
				     .engine_json = meta_json};
		struct census_counts n;

		census_grab_counts(c, &n);
		if (census_grab_close(c, &m, err, sizeof(err)) != 0) {
			status = 1;
			goto out;
		}
		fprintf(stderr,
			"mailcensus scan: %llu records (%llu with an error) %s%s; hit log %llu "
			"hits, %llu grabbed\n",
			(unsigned long long)n.records, (unsigned long long)n.failed,
			go->sink.dir ? "in " : "on stdout", go->sink.dir ? go->sink.dir : "",
			(unsigned long long)n.hits_logged, (unsigned long long)n.hits_read);
	}
out:
	if (err[0] != '\0')
		fprintf(stderr, "mailcensus scan: %s\n", err);
	free(meta_json);
	scan_plan_free(plan);
	return status;
}

int cmd_scan(int argc, char **argv)
{
	struct scan_options *so = malloc(sizeof(*so)); /* 128 KiB of ports */
	struct grab_opts go;
	struct census_flag flag = {false};
	struct mc_opt_group extra[2] = {
	    {.title = "census (grab every responder while scanning)",
	     .opts = grab_row,
	     .nopts = 1,
	     .ctx = &flag},
	    grab_census_group(&go),
	};
	char err[512];

	if (so == NULL) {
		fprintf(stderr, "mailcensus scan: out of memory\n");
		return 2;
	}
	extra[1].title = NULL;
	grab_opts_init(&go);
	if (scan_options_parse_groups(so, extra, 2, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailcensus scan: %s\n", err);
		free(so);
		return 2;
	}
	if (so->help) {
		scan_options_usage_with(extra, 2, census_epilog, stdout);
		free(so);
		return 0;
	}
	if (!flag.grab && extra[1].first_used != NULL) {
		fprintf(stderr, "mailcensus scan: %s is a census option: add --grab\n",
			extra[1].first_used);
		free(so);
		return 2;
	}
	if (scan_options_check(so, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailcensus scan: %s\n", err);
		free(so);
		return 2;
	}
	if (!flag.grab)
		return scan_engine_command(so, argc, argv);
	return census(so, &go, argc, argv);
}
