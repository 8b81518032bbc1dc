/* scan_cmd.c — `mailcensus scan`, the whole census in one command.
 *
 * Without --grab this is the engine's scan (scan_engine.c: responders to
 * -o). With --grab the engine's hits go straight to the grabber (census.c)
 * and the records to a results directory (-O) or stdout. The grab flags
 * are taken out of argv by a table that maps each to the `mailcensus grab`
 * option it stands for, so both commands validate them alike; the rest is
 * the engine's. Each half is parsed once into its configuration; the
 * metadata is built in memory and goes into the manifest (and to -m if
 * asked); no argument is added and no temporary file is made. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/quit.h"
#include "cli/census.h"
#include "cli/commands.h"
#include "cli/grab_opts.h"
#include "cli/proclimits.h"
#include "cli/scan_engine.h"
#include "output/sink.h"

struct grab_flag {
	const char *scan_name; /* as given to scan, without "--" */
	char short_name;       /* 0 when none */
	const char *grab_name; /* the `grab` option it becomes; NULL: --grab itself */
	const char *arg;       /* value placeholder, NULL for a flag */
	const char *help;
};

static const struct grab_flag grab_flags[] = {
    {"grab", 0, NULL, NULL,
     "probe every responder (banner, STARTTLS, TLS, certificate, posture) as hits arrive"},
    {"results", 'O', "--output", "DIR",
     "results directory: shards + manifest.json (default: NDJSON records on stdout)"},
    {"geo-db", 0, "--geo-db", "FILE", "country mmdb for enrichment (with --asn-db)"},
    {"asn-db", 0, "--asn-db", "FILE", "ASN mmdb for enrichment (with --geo-db)"},
    {"no-enrich", 0, "--no-enrich", NULL, "no enrichment even if databases are named"},
    {"compress", 0, "--compress", NULL, "zstd-compress shards"},
    {"shard-records", 0, "--shard-records", "N",
     "new output shard after N records (k/M suffix; default 1M)"},
    {"shard-bytes", 0, "--shard-bytes", "SIZE",
     "new output shard after SIZE bytes (k/M/G suffix; default 256M)"},
    {"seal-every", 0, "--seal-every", "SEC",
     "seal the open shard when its first record is SEC old (default 60)"},
    {"grab-concurrency", 0, "--concurrency", "N", "targets probed at once (default 1000)"},
    {"grab-rate", 0, "--rate", "N", "new probes per second, 0 = unlimited (default 0)"},
    {"grab-connect-timeout", 0, "--connect-timeout", "SEC", "TCP connect timeout (default 5)"},
    {"grab-read-timeout", 0, "--read-timeout", "SEC",
     "longest wait for server bytes, incl. TLS handshakes (default 5)"},
    {"grab-timeout", 0, "--timeout", "SEC", "whole target incl. the version matrix (default 30)"},
    {"ca-file", 0, "--ca-file", "FILE", "extra trust anchors (PEM) for chain verification"},
    {"no-tls-matrix", 0, "--no-tls-matrix", NULL, "skip the TLS 1.0-1.3 version matrix"},
    {"grab-port", 0, "--port", "PORT=PROTO",
     "protocol of a port (pop3|imap|pop3s|imaps), repeatable; default 110=pop3 143=imap "
     "993=imaps 995=pop3s"},
};
#define NGRAB_FLAGS (sizeof(grab_flags) / sizeof(grab_flags[0]))

static void usage(FILE *out)
{
	scan_options_usage(out);
	fprintf(out, "\ncensus (grab every responder while scanning):\n");
	for (size_t i = 0; i < NGRAB_FLAGS; i++) {
		const struct grab_flag *f = &grab_flags[i];
		char left[48];

		snprintf(left, sizeof(left), "%c%c%s--%s%s%s", f->short_name ? '-' : ' ',
			 f->short_name ? f->short_name : ' ', f->short_name ? ", " : "  ",
			 f->scan_name, f->arg ? " " : "", f->arg ? f->arg : "");
		fprintf(out, "  %-30s %s\n", left, f->help);
	}
	fprintf(out, "\nWith --grab, -o is refused (records replace the responder list), and the\n"
		     "manifest in -O DIR carries the scan's metadata (seed, shard, counters).\n");
}

static const struct grab_flag *find_flag(const char *name)
{
	for (size_t i = 0; i < NGRAB_FLAGS; i++) {
		if (name[1] == '-' && strcmp(name + 2, grab_flags[i].scan_name) == 0)
			return &grab_flags[i];
		if (name[1] != '-' && name[2] == '\0' && grab_flags[i].short_name == name[1])
			return &grab_flags[i];
	}
	return NULL;
}

/* The split command line. Both vectors point into argv. */
struct split {
	int eargc, gargc;
	char **eargv, **gargv;
	bool grab, help;
	const char *first_census_flag; /* for "add --grab" */
};

/* Take the grab flags out of argv (up to `--`; after it everything is the
 * engine's EAL). 0, or -EINVAL with a reason. */
static int split_args(struct split *s, int argc, char **argv, char *err, size_t errlen)
{
	s->eargv = calloc((size_t)argc + 1, sizeof(char *));
	s->gargv = calloc((size_t)argc + 1, sizeof(char *));
	if (s->eargv == NULL || s->gargv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->eargv[s->eargc++] = argv[0];
	s->gargv[s->gargc++] = "grab";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		char name[64];
		const struct grab_flag *f;

		if (strcmp(a, "--") == 0) {
			while (i < argc)
				s->eargv[s->eargc++] = argv[i++];
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			s->help = true;
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : 63, a);
		f = a[0] == '-' ? find_flag(name) : NULL;
		if (f == NULL) {
			s->eargv[s->eargc++] = argv[i];
			continue;
		}
		if (f->grab_name == NULL) {
			s->grab = true;
			continue;
		}
		if (s->first_census_flag == NULL)
			s->first_census_flag = a;
		s->gargv[s->gargc++] = (char *)f->grab_name;
		if (f->arg == NULL)
			continue;
		if (eq == NULL && i + 1 >= argc) {
			snprintf(err, errlen, "%s needs a value (%s)", name, f->arg);
			return -EINVAL;
		}
		s->gargv[s->gargc++] = eq ? (char *)eq + 1 : argv[++i];
	}
	return 0;
}

/* The manifest's metadata from the start, with the words `resume` needs:
 * the scan's own (argv after "scan") plus the seed when it was drawn here,
 * so that a resume sends the same permutation. */
static int census_meta(struct census_grab *c, const struct scan_options *so, int argc, char **argv,
		       char *err, size_t errlen)
{
	char cmdline[4096], cwd[PATH_MAX], seed[24];
	char **words = calloc((size_t)argc + 3, sizeof(char *));
	int n = 0, rc;

	if (words == NULL || getcwd(cwd, sizeof(cwd)) == NULL) {
		free(words);
		snprintf(err, errlen, "cannot name the working directory for resume");
		return -ENOMEM;
	}
	for (int i = 1; i < argc; i++)
		words[n++] = argv[i];
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)so->seed);
	if (!so->seed_set) {
		words[n++] = "--seed";
		words[n++] = seed;
	}
	out_command_line(cmdline, sizeof(cmdline), argc, argv);
	rc = census_grab_set_meta(c,
				  &(struct out_meta){.command_line = cmdline,
						     .seed = so->seed,
						     .shard = so->shard,
						     .shards = so->shards,
						     .command = "scan",
						     .cwd = cwd,
						     .argc = n,
						     .argv = words},
				  err, errlen);
	free(words);
	return rc;
}

/* The census: engine + grabber + sink. `resume_dir`: continue the
 * unfinished census there. Returns the exit status. */
static int census(struct split *s, int argc, char **argv, const char *resume_dir)
{
	struct scan_plan *plan = NULL;
	struct grab_opts go;
	struct census_grab *c = NULL;
	struct engine_consumer consumer;
	struct engine_result res;
	char err[512] = "", warn[256], cmdline[4096];
	char *meta_json = NULL;
	int status = 2;

	if (grab_opts_parse(&go, s->gargc, s->gargv, err, sizeof(err)) != 0 ||
	    scan_plan_open(&plan, s->eargc, s->eargv, err, sizeof(err)) != 0)
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
	signal(SIGPIPE, SIG_IGN);
	cli_fit_fd_limit(&go.grab, 1, warn, sizeof(warn));
	if (warn[0] != '\0')
		fprintf(stderr, "mailcensus scan: %s\n", warn);
	if (resume_dir != NULL) {
		go.sink.dir = resume_dir;
		go.sink.resume = true;
	}
	if (census_grab_open(&c, &go.grab, &go.sink, err, sizeof(err)) != 0)
		goto out;
	if (go.sink.dir != NULL && census_meta(c, plan->opts, argc, argv, err, sizeof(err)) != 0) {
		census_grab_discard(c);
		goto out;
	}
	census_grab_set_quiet(c, plan->opts->quiet);
	consumer = census_grab_consumer(c);
	status = scan_plan_run(plan, &consumer, argc, argv, &res, &meta_json, err, sizeof(err));
	if (mc_quit_signal() != 0 && status != 2)
		census_grab_set_interrupted(c, mc_quit_signal());
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
		uint64_t records, failed;

		census_grab_counts(c, &records, &failed);
		if (census_grab_close(c, &m, err, sizeof(err)) != 0) {
			status = 1;
			goto out;
		}
		fprintf(stderr, "mailcensus scan: %llu records (%llu with an error) %s%s\n",
			(unsigned long long)records, (unsigned long long)failed,
			go.sink.dir ? "in " : "on stdout", go.sink.dir ? go.sink.dir : "");
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
	struct split *s = calloc(1, sizeof(*s));
	int status = 2;
	char err[256];

	if (s == NULL || split_args(s, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailcensus scan: %s (try --help)\n", s ? err : "out of memory");
	} else if (s->help) {
		usage(stdout);
		status = 0;
	} else if (!s->grab && s->gargc > 1) {
		fprintf(stderr, "mailcensus scan: %s is a census option: add --grab\n",
			s->first_census_flag);
	} else if (!s->grab) {
		status = scan_engine_command(s->eargc, s->eargv);
	} else {
		status = census(s, argc, argv, NULL);
	}
	if (s != NULL) {
		free(s->eargv);
		free(s->gargv);
	}
	free(s);
	return status;
}

int cmd_scan_resume(const char *dir, const struct out_resume *r, int argc, char **argv)
{
	struct split *s = calloc(1, sizeof(*s));
	char **words = calloc((size_t)r->argc + 2, sizeof(char *));
	int status = 2;
	char err[256];

	if (argc > 0) {
		fprintf(stderr,
			"mailcensus resume: a census resume takes no options (%s): the scan's "
			"words come from the manifest\n",
			argv[0]);
	} else if (s == NULL || words == NULL) {
		fprintf(stderr, "mailcensus resume: out of memory\n");
	} else {
		words[0] = "scan";
		memcpy(words + 1, r->argv, (size_t)r->argc * sizeof(char *));
		if (split_args(s, r->argc + 1, words, err, sizeof(err)) != 0 || !s->grab)
			fprintf(stderr, "mailcensus resume: the run's words: %s\n",
				s->grab ? err : "not a census (--grab)");
		else
			status = census(s, r->argc + 1, words, dir);
	}
	if (s != NULL) {
		free(s->eargv);
		free(s->gargv);
	}
	free(s);
	free(words);
	return status;
}
