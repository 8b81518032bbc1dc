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

#include <openssl/evp.h>

#include "base/quit.h"
#include "cli/census.h"
#include "cli/worker.h"
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
    "\nexit status: 0 done, 1 the scan failed or was interrupted, 2 usage or start-up error\n";

/* The manifest's metadata from the first manifest on, with the words
 * `resume` needs: the scan's own (argv after "scan") plus the seed when it
 * was drawn here, so that a resume sends the same permutation. */
struct census_meta {
	char cmdline[4096], cwd[PATH_MAX], seed[24];
	char **words;
	char path[2][PATH_MAX], sha[2][65]; /* the allow- and blocklist */
	const char *paths[2], *shas[2];
	struct out_meta m;
};

/* Lowercase hex SHA-256 of a file's bytes. 0 or -errno. */
static int file_sha256(const char *path, char hex[65])
{
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[65536], md[32];
	unsigned mdlen = 0;
	size_t n;
	int rc = 0;

	if (f == NULL || ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		rc = f == NULL ? -errno : -ENOMEM;
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	if (rc == 0 && ferror(f))
		rc = -EIO;
	if (rc == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen))
		for (unsigned i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(ctx);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* The files that define the scan's target set, with their SHA-256. */
static int census_files(struct census_meta *cm, const struct scan_options *so, char *err,
			size_t errlen)
{
	const char *files[2] = {so->allow_file, so->block_file};
	int n = 0;

	for (int i = 0; i < 2; i++) {
		if (files[i] == NULL)
			continue;
		if (realpath(files[i], cm->path[n]) == NULL ||
		    file_sha256(cm->path[n], cm->sha[n]) != 0) {
			snprintf(err, errlen, "%s: %s", files[i], strerror(errno));
			return -EIO;
		}
		cm->paths[n] = cm->path[n];
		cm->shas[n] = cm->sha[n];
		n++;
	}
	return n;
}

static int census_meta_fill(struct census_meta *cm, const struct scan_options *so, int argc,
			    char **argv, char *err, size_t errlen)
{
	int n = 0;

	cm->words = calloc((size_t)argc + 3, sizeof(char *));
	if (cm->words == NULL || getcwd(cm->cwd, sizeof(cm->cwd)) == NULL) {
		snprintf(err, errlen, "cannot name the working directory for resume");
		return -ENOMEM;
	}
	for (int i = 1; i < argc; i++)
		cm->words[n++] = argv[i];
	snprintf(cm->seed, sizeof(cm->seed), "%llu", (unsigned long long)so->seed);
	if (!so->seed_set) {
		cm->words[n++] = "--seed";
		cm->words[n++] = cm->seed;
	}
	int nfiles = census_files(cm, so, err, errlen);
	if (nfiles < 0)
		return nfiles;
	out_command_line(cm->cmdline, sizeof(cm->cmdline), argc, argv);
	cm->m = (struct out_meta){.command_line = cm->cmdline,
				  .seed = so->seed,
				  .shard = so->shard,
				  .shards = so->shards,
				  .command = "scan",
				  .cwd = cm->cwd,
				  .argc = n,
				  .argv = cm->words,
				  .nfiles = nfiles,
				  .file_paths = cm->paths,
				  .file_sha256 = cm->shas};
	return 0;
}

/* The census: engine + grabber + sink. `resume_dir`: continue the
 * unfinished census there. Returns the exit status. */
static int census(struct scan_options *so, struct grab_opts *go, int argc, char **argv,
		  const char *resume_dir)
{
	struct scan_plan *plan = NULL;
	struct census_grab *c = NULL;
	struct engine_consumer consumer;
	struct engine_result res;
	char err[512] = "", warn[256], cmdline[4096];
	char *meta_json = NULL;
	struct census_meta *cm = calloc(1, sizeof(*cm));
	int status = 2;

	if (cm == NULL) {
		free(so);
		return 2;
	}
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
	if (resume_dir != NULL) {
		go->sink.dir = resume_dir;
		go->sink.resume = true;
	}
	if (census_meta_fill(cm, plan->opts, argc, argv, err, sizeof(err)) != 0)
		goto out;
	go->sink.meta = &cm->m;
	{
		struct mc_hitlog_id id = {.seed = plan->opts->seed,
					  .shard = plan->opts->shard,
					  .shards = plan->opts->shards};
		struct census_workers_cfg wc = {
		    .count =
			go->workers ? go->workers : cli_workers_default(plan->cfg.tx_queues + 1),
		    .user = go->user};
		if (census_grab_open(&c, &go->grab, &go->sink, &id, &wc, err, sizeof(err)) != 0)
			goto out;
	}
	census_grab_set_quiet(c, plan->opts->quiet);
	if (census_grab_engine(c, &plan->cfg, err, sizeof(err)) != 0) {
		census_grab_discard(c);
		goto out;
	}
	consumer = census_grab_consumer(c);
	status = scan_plan_run(plan, &consumer, argc, argv, &res, &meta_json, err, sizeof(err));
	if (mc_quit_signal() != 0 && status != 2) {
		census_grab_set_interrupted(c, mc_quit_signal());
		if (status == 0)
			status = 1; /* interrupted: not every responder has a record */
	}
	if (status != 2)
		census_grab_set_engine(c, &res);
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
		if (resume_dir != NULL)
			fprintf(stderr,
				"mailcensus scan: resume: %llu hits of earlier sessions (%llu "
				"grabbed now), %llu found again and not grabbed twice\n",
				(unsigned long long)n.old_hits, (unsigned long long)n.old_todo,
				(unsigned long long)n.refound);
	}
out:
	if (err[0] != '\0')
		fprintf(stderr, "mailcensus scan: %s\n", err);
	free(meta_json);
	free(cm->words);
	free(cm);
	scan_plan_free(plan);
	return status;
}

/* scan, or with resume_dir the resume of a census (its words must hold --grab). */
static int scan_main(int argc, char **argv, const char *resume_dir)
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
	if (!flag.grab && resume_dir != NULL) {
		fprintf(stderr, "mailcensus resume: the run's words are not a census (--grab)\n");
		free(so);
		return 2;
	}
	if (!flag.grab)
		return scan_engine_command(so, argc, argv);
	return census(so, &go, argc, argv, resume_dir);
}

int cmd_scan(int argc, char **argv)
{
	if (argc >= 2 && strncmp(argv[1], "--resume", 8) == 0 &&
	    (argv[1][8] == '\0' || argv[1][8] == '=')) {
		char *words[argc + 1];
		int n = 0;

		words[n++] = "resume";
		if (argv[1][8] == '=')
			words[n++] = argv[1] + 9;
		for (int i = 2; i < argc; i++)
			words[n++] = argv[i];
		words[n] = NULL;
		return cmd_resume_as(n, words, "scan");
	}
	return scan_main(argc, argv, NULL);
}

/* Options a census resume may add: pace, patience and output cadence,
 * never the target set (addresses, ports, seed, shard, queues, -n) or what
 * a record holds. */
static const struct resume_extra census_extras[] = {
    {"rate", 'r', true},
    {"bandwidth", 'B', true},
    {"cooldown-time", 'c', true},
    {"max-runtime", 't', true},
    {"quiet", 'q', false},
    {"verbose", 'v', false},
    {"seal-every", 0, true},
    {"grab-concurrency", 0, true},
    {"grab-rate", 0, true},
    {"grab-connect-timeout", 0, true},
    {"grab-read-timeout", 0, true},
    {"grab-timeout", 0, true},
    {"grab-workers", 0, true},
    {"user", 0, true},
};

/* The run's words with the extras before its "--" (EAL options follow it). */
static char **census_words(const struct out_resume *r, int argc, char **argv, int *n)
{
	char **words = calloc((size_t)r->argc + (size_t)argc + 2, sizeof(char *));
	int dashdash = r->argc;

	if (words == NULL)
		return NULL;
	for (int i = 0; i < r->argc; i++)
		if (strcmp(r->argv[i], "--") == 0) {
			dashdash = i;
			break;
		}
	*n = 0;
	words[(*n)++] = "scan";
	for (int i = 0; i < dashdash; i++)
		words[(*n)++] = r->argv[i];
	for (int i = 0; i < argc; i++)
		words[(*n)++] = argv[i];
	for (int i = dashdash; i < r->argc; i++)
		words[(*n)++] = r->argv[i];
	return words;
}

int cmd_scan_resume(const char *dir, const struct out_resume *r, int argc, char **argv)
{
	char **words;
	int status, n = 0;

	if (resume_check_extras(census_extras, sizeof(census_extras) / sizeof(census_extras[0]),
				"-r -B -c -t -q -v --seal-every --grab-concurrency --grab-rate "
				"--grab-connect-timeout --grab-read-timeout --grab-timeout "
				"--grab-workers --user",
				argc, argv) != 0)
		return 2;
	for (int i = 0; i < r->nfiles; i++) {
		char sha[65] = "";
		if (file_sha256(r->file_paths[i], sha) != 0 ||
		    strcmp(sha, r->file_sha256[i]) != 0) {
			fprintf(stderr,
				"mailcensus resume: %s changed since the run started (SHA-256 %s, "
				"the run's %s): that would change the target set; refused\n",
				r->file_paths[i], sha[0] ? sha : "unreadable", r->file_sha256[i]);
			return 2;
		}
	}
	words = census_words(r, argc, argv, &n);
	if (words == NULL) {
		fprintf(stderr, "mailcensus resume: out of memory\n");
		return 2;
	}
	status = scan_main(n, words, dir);
	free(words);
	return status;
}
