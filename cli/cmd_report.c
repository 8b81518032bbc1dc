/* cmd_report.c — the `report` and `verify` subcommands: their option rows
 * (base/opts.h) and exit codes; the work is output/'s. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/opts.h"
#include "cli/commands.h"
#include "output/report.h"
#include "output/verify.h"

#define REPORT_MAX_DIRS 4096

struct dirs_opts {
	const char *dirs[REPORT_MAX_DIRS];
	size_t ndirs;
	enum out_report_format fmt;
	const char *outfile;
	struct out_report_opts report;
	bool help;
	bool partial; /* verify: accept an intact run that did not complete */
};

static int add_dir(void *ctx, const char *w, char *err, size_t errlen)
{
	struct dirs_opts *o = ctx;

	if (o->ndirs == REPORT_MAX_DIRS) {
		snprintf(err, errlen, "more than %d directories", REPORT_MAX_DIRS);
		return -EINVAL;
	}
	o->dirs[o->ndirs++] = w;
	return 0;
}

static int set_help(void *ctx, const char *v, char *e, size_t n)
{
	(void)v, (void)e, (void)n;
	((struct dirs_opts *)ctx)->help = true;
	return 0;
}

static int set_format(void *ctx, const char *v, char *e, size_t n)
{
	if (out_report_format_parse(v, &((struct dirs_opts *)ctx)->fmt) != 0) {
		snprintf(e, n, "unknown format '%s'", v);
		return -EINVAL;
	}
	return 0;
}

static int set_output(void *ctx, const char *v, char *e, size_t n)
{
	(void)e, (void)n;
	((struct dirs_opts *)ctx)->outfile = v;
	return 0;
}

static int set_map(void *ctx, const char *v, char *e, size_t n)
{
	(void)e, (void)n;
	((struct dirs_opts *)ctx)->report.map_path = v;
	return 0;
}

static int set_partial(void *ctx, const char *v, char *e, size_t n)
{
	(void)v, (void)e, (void)n;
	((struct dirs_opts *)ctx)->partial = true;
	return 0;
}

static const struct mc_opt verify_rows[] = {
    {"partial", 0, NULL, set_partial,
     "accept a run that did not complete (killed, interrupted, failed) when what it left is "
     "intact"},
    {"help", 'h', NULL, set_help, "this text"},
};

static const struct mc_cmd verify_cmd = {
    .name = "verify",
    .usage = "usage: mailcensus verify [--partial] DIR\n"
	     "Recheck a results directory: every shard listed in DIR/manifest.json must\n"
	     "have the recorded size, SHA-256 and record count, every line must be a JSON\n"
	     "object, and no shard may be missing from the manifest. The first line says\n"
	     "how the run ended (complete, interrupted by a signal, failed, or running /\n"
	     "killed).\n",
    .epilog = "Exit status: 0 all match and the run is complete (or --partial), 1 a\n"
	      "mismatch, 2 usage error or no readable manifest, 3 intact but the run is\n"
	      "not complete.\n",
    .word = add_dir,
};

static const struct mc_opt report_rows[] = {
    {"format", 'f', "FMT", set_format, "text (default), json, or html (one self-contained page)"},
    {"output", 'o', "FILE", set_output, "write to FILE instead of standard output"},
    {"map", 0, "FILE", set_map,
     "world map for the HTML page (default: world-map.tsv beside the manifest's geo database; "
     "scripts/fetch-geo-data)"},
    {"help", 'h', NULL, set_help, "this text"},
};

static const struct mc_cmd report_cmd = {
    .name = "report",
    .usage = "usage: mailcensus report DIR... [--format text|json|html] [-o FILE]\n"
	     "Summarise one or more results directories (e.g. one per shard of a census)\n"
	     "from their shards alone: services and hosts per port and protocol, posture,\n"
	     "cleartext logins, the TLS version matrix, certificate problems, STARTTLS\n"
	     "injection, the top countries and networks of hosts that accept a\n"
	     "cleartext login (HTML: a world map and country shares, docs/output.md).\n"
	     "An address found in several directories is one host.\n",
    .epilog = "Exit status: 0 written, 1 a directory could not be read or the report\n"
	      "not written, 2 usage error.\n",
    .word = add_dir,
};

/* Parse with cmd and rows into o; prints usage or the error. -1 on a usage
 * error, 1 when --help was printed, 0 to go on. */
static int parse(const struct mc_cmd *cmd0, const struct mc_opt *rows, size_t nrows,
		 struct dirs_opts *o, int argc, char **argv)
{
	struct mc_cmd cmd = *cmd0;
	struct mc_opt_group g = {.opts = rows, .nopts = nrows, .ctx = o};
	char err[256];

	memset(o, 0, sizeof(*o));
	o->fmt = OUT_REPORT_TEXT;
	cmd.word_ctx = o;
	if (mc_opts_parse(&cmd, &g, 1, argc, argv, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailcensus %s: %s\n", cmd.name, err);
		return -1;
	}
	if (o->help) {
		mc_opts_usage(&cmd, &g, 1, stdout);
		return 1;
	}
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	struct dirs_opts *o = malloc(sizeof(*o));
	int rc;

	if (o == NULL)
		return 2;
	rc = parse(&verify_cmd, verify_rows, sizeof(verify_rows) / sizeof(verify_rows[0]), o, argc,
		   argv);
	if (rc == 0 && o->ndirs != 1) {
		fprintf(stderr, "mailcensus verify: give one results directory (see --help)\n");
		rc = -1;
	}
	if (rc == 0) {
		bool complete = false;
		int vr = out_verify_dir(o->dirs[0], &complete, stdout);
		rc = vr < 0 ? 2 : vr > 0 ? 1 : complete || o->partial ? 0 : 3;
	} else {
		rc = rc > 0 ? 0 : 2;
	}
	free(o);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	struct dirs_opts *o = malloc(sizeof(*o));
	char err[512];
	int rc;

	if (o == NULL)
		return 2;
	rc = parse(&report_cmd, report_rows, sizeof(report_rows) / sizeof(report_rows[0]), o, argc,
		   argv);
	if (rc == 0 && o->ndirs == 0) {
		fprintf(stderr, "mailcensus report: name at least one results directory (see "
				"--help)\n");
		rc = -1;
	}
	if (rc == 0) {
		rc = out_report_run(o->dirs, o->ndirs, o->fmt, &o->report, o->outfile, err,
				    sizeof(err));
		if (rc != 0)
			fprintf(stderr, "mailcensus report: %s\n", err);
		rc = rc != 0 ? 1 : 0;
	} else {
		rc = rc > 0 ? 0 : 2;
	}
	free(o);
	return rc;
}
