/* cmd_diff.c — the `diff` subcommand: its option rows (base/opts.h) and exit
 * codes; the work is output/'s (output/diff.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/opts.h"
#include "cli/commands.h"
#include "output/diff.h"

struct diff_cli {
	const char *dirs[2];
	size_t ndirs;
	enum out_report_format fmt;
	const char *outfile, *listfile;
	struct out_diff_opts opts;
	bool help;
};

static int add_dir(void *ctx, const char *w, char *err, size_t errlen)
{
	struct diff_cli *o = ctx;

	if (o->ndirs == 2) {
		snprintf(err, errlen, "give exactly two results directories, OLD and NEW");
		return -EINVAL;
	}
	o->dirs[o->ndirs++] = w;
	return 0;
}

static int set_format(void *ctx, const char *v, char *e, size_t n)
{
	if (out_report_format_parse(v, &((struct diff_cli *)ctx)->fmt) != 0) {
		snprintf(e, n, "unknown format '%s'", v);
		return -EINVAL;
	}
	return 0;
}

static int set_output(void *ctx, const char *v, char *e, size_t n)
{
	(void)e, (void)n;
	((struct diff_cli *)ctx)->outfile = v;
	return 0;
}

static int set_list(void *ctx, const char *v, char *e, size_t n)
{
	(void)e, (void)n;
	((struct diff_cli *)ctx)->listfile = v;
	return 0;
}

static int set_workdir(void *ctx, const char *v, char *e, size_t n)
{
	(void)e, (void)n;
	((struct diff_cli *)ctx)->opts.workdir = v;
	return 0;
}

static int set_mem(void *ctx, const char *v, char *e, size_t n)
{
	char *end;
	unsigned long mib = strtoul(v, &end, 10);

	if (*end != '\0' || mib == 0 || mib > 65536) {
		snprintf(e, n, "--sort-mem wants MiB, 1..65536 (got '%s')", v);
		return -EINVAL;
	}
	((struct diff_cli *)ctx)->opts.mem_bytes = (size_t)mib << 20;
	return 0;
}

static int set_help(void *ctx, const char *v, char *e, size_t n)
{
	(void)v, (void)e, (void)n;
	((struct diff_cli *)ctx)->help = true;
	return 0;
}

static const struct mc_opt diff_rows[] = {
    {"format", 'f', "FMT", set_format, "text (default), json, or html (one self-contained page)"},
    {"output", 'o', "FILE", set_output, "write to FILE instead of standard output"},
    {"list", 0, "FILE", set_list, "also write every changed service and host as NDJSON"},
    {"work-dir", 0, "DIR", set_workdir, "where the sorted runs go (default $TMPDIR or /tmp)"},
    {"sort-mem", 0, "MIB", set_mem, "MiB of records sorted in memory per run (default 16)"},
    {"help", 'h', NULL, set_help, "this text"},
};

static const struct mc_cmd diff_cmd = {
    .name = "diff",
    .usage = "usage: mailcensus diff OLD NEW [--format text|json|html] [-o FILE] [--list FILE]\n"
	     "Compare two results directories service by service (address+port) and host by\n"
	     "host: what appeared, disappeared, improved (e.g. no_tls -> starttls_required,\n"
	     "TLS 1.0 dropped), regressed, or both, by posture, country and network. Both\n"
	     "censuses are sorted externally in a temporary work directory, so memory stays\n"
	     "bounded whatever their size (docs/output.md).\n",
    .epilog = "Exit status: 0 written, 1 a directory could not be read or the result not\n"
	      "written, 2 usage error.\n",
    .word = add_dir,
};

static int write_result(const struct diff_stats *st, enum out_report_format fmt,
			const char *outfile)
{
	FILE *out = outfile ? fopen(outfile, "w") : stdout;

	if (out == NULL) {
		fprintf(stderr, "mailcensus diff: %s: %s\n", outfile, strerror(errno));
		return 1;
	}
	if (fmt == OUT_REPORT_TEXT) {
		out_diff_text(st, out);
	} else if (fmt == OUT_REPORT_HTML) {
		out_diff_html(st, out);
	} else {
		char *json = out_diff_json(st);
		if (json != NULL)
			fputs(json, out);
		free(json);
	}
	if ((out != stdout ? fclose(out) : fflush(out)) != 0) {
		fprintf(stderr, "mailcensus diff: %s: %s\n", outfile ? outfile : "stdout",
			strerror(errno));
		return 1;
	}
	return 0;
}

/* Parse into o; -1 usage error, 1 --help printed, 0 go on. */
static int parse(struct diff_cli *o, int argc, char **argv)
{
	struct mc_cmd cmd = diff_cmd;
	struct mc_opt_group g = {
	    .opts = diff_rows, .nopts = sizeof(diff_rows) / sizeof(diff_rows[0]), .ctx = o};
	char err[256];

	cmd.word_ctx = o;
	if (mc_opts_parse(&cmd, &g, 1, argc, argv, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailcensus diff: %s\n", err);
		return -1;
	}
	if (o->help) {
		mc_opts_usage(&cmd, &g, 1, stdout);
		return 1;
	}
	if (o->ndirs != 2) {
		fprintf(stderr, "mailcensus diff: give two results directories, OLD and NEW (see "
				"--help)\n");
		return -1;
	}
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	struct diff_cli o = {.fmt = OUT_REPORT_TEXT};
	char err[640];
	int rc = parse(&o, argc, argv);

	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (o.listfile != NULL && (o.opts.list = fopen(o.listfile, "w")) == NULL) {
		fprintf(stderr, "mailcensus diff: %s: %s\n", o.listfile, strerror(errno));
		return 2;
	}
	struct diff_stats *st = malloc(sizeof(*st));
	rc = st ? out_diff_run(o.dirs[0], o.dirs[1], &o.opts, st, err, sizeof(err)) : -ENOMEM;
	if (st == NULL)
		snprintf(err, sizeof(err), "out of memory");
	if (o.opts.list != NULL && fclose(o.opts.list) != 0 && rc == 0) {
		rc = -EIO;
		snprintf(err, sizeof(err), "%s: %s", o.listfile, strerror(errno));
	}
	if (rc != 0) {
		fprintf(stderr, "mailcensus diff: %s\n", err);
		free(st);
		return 1;
	}
	rc = write_result(st, o.fmt, o.outfile);
	free(st);
	return rc;
}
