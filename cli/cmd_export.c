/* cmd_export.c — the `export` subcommand: its option rows (base/opts.h) and
 * exit codes; the work is output/'s (output/export.c, export_schema.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/opts.h"
#include "cli/commands.h"
#include "output/export.h"

#define EXPORT_MAX_DIRS 4096

enum export_what { WHAT_NONE, WHAT_CSV, WHAT_SS, WHAT_BIGQUERY, WHAT_DUCKDB, WHAT_COLUMNS };

struct export_cli {
	const char *dirs[EXPORT_MAX_DIRS];
	size_t ndirs;
	enum export_what what;
	const char *out;
	struct export_filter filter;
	bool help;
};

static int add_dir(void *ctx, const char *w, char *err, size_t errlen)
{
	struct export_cli *o = ctx;

	if (o->ndirs == EXPORT_MAX_DIRS) {
		snprintf(err, errlen, "more than %d directories", EXPORT_MAX_DIRS);
		return -EINVAL;
	}
	o->dirs[o->ndirs++] = w;
	return 0;
}

static int set_format(void *ctx, const char *v, char *e, size_t n)
{
	static const char *const names[] = {
	    "", "csv", "shadowserver-csv", "bigquery-schema", "duckdb", "columns"};

	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i]) == 0) {
			((struct export_cli *)ctx)->what = (enum export_what)i;
			return 0;
		}
	snprintf(e, n, "unknown format '%s'", v);
	return -EINVAL;
}

static int set_output(void *ctx, const char *v, char *e, size_t n)
{
	(void)e, (void)n;
	((struct export_cli *)ctx)->out = v;
	return 0;
}

static int set_asn(void *ctx, const char *v, char *e, size_t n)
{
	if (out_export_filter_add(&((struct export_cli *)ctx)->filter, "asn", v) != 0) {
		snprintf(e, n, "bad --asn '%s' (numbers, e.g. 64500,AS64501; at most 64)", v);
		return -EINVAL;
	}
	return 0;
}

static int set_country(void *ctx, const char *v, char *e, size_t n)
{
	if (out_export_filter_add(&((struct export_cli *)ctx)->filter, "country", v) != 0) {
		snprintf(e, n, "bad --country '%s' (ISO codes, e.g. DE,FR; at most 64)", v);
		return -EINVAL;
	}
	return 0;
}

static int set_help(void *ctx, const char *v, char *e, size_t n)
{
	(void)v, (void)e, (void)n;
	((struct export_cli *)ctx)->help = true;
	return 0;
}

static const struct mc_opt export_rows[] = {
    {"format", 'f', "FMT", set_format, "csv, shadowserver-csv, bigquery-schema, duckdb, columns"},
    {"output", 'o', "PATH", set_output, "file (default stdout); directory for shadowserver-csv"},
    {"asn", 0, "N,...", set_asn, "only records of these networks (repeatable)"},
    {"country", 0, "CC,...", set_country, "only records of these countries (repeatable)"},
    {"help", 'h', NULL, set_help, "this text"},
};

static const struct mc_cmd export_cmd = {
    .name = "export",
    .usage = "usage: mailcensus export --format FMT [DIR...] [-o PATH] [--asn N,...] [--country "
	     "CC,...]\n"
	     "Export the records of results directories, or the record schema:\n"
	     "  csv               one flat CSV of every record (the columns: --format columns)\n"
	     "  shadowserver-csv  Shadowserver's Accessible/Vulnerable IMAP and POP3 reports\n"
	     "                    (scan_imap.csv, ..._vulnerable.csv) in the -o directory\n"
	     "  bigquery-schema   BigQuery JSON schema of the records\n"
	     "  duckdb            DuckDB SQL that loads DIR's shards with typed columns\n"
	     "  columns           the flat CSV columns with types and descriptions\n"
	     "The schemas come from output/schema/record.schema.json (built in).\n",
    .epilog = "Exit status: 0 written, 1 a directory could not be read or the output not\n"
	      "written, 2 usage error.\n",
    .word = add_dir,
};

/* Parse into o; -1 usage error, 1 --help printed, 0 go on. */
static int parse(struct export_cli *o, int argc, char **argv)
{
	struct mc_cmd cmd = export_cmd;
	struct mc_opt_group g = {
	    .opts = export_rows, .nopts = sizeof(export_rows) / sizeof(export_rows[0]), .ctx = o};
	char err[256];

	cmd.word_ctx = o;
	if (mc_opts_parse(&cmd, &g, 1, argc, argv, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailcensus export: %s\n", err);
		return -1;
	}
	if (o->help) {
		mc_opts_usage(&cmd, &g, 1, stdout);
		return 1;
	}
	const char *why = o->what == WHAT_NONE ? "--format is required"
			  : (o->what == WHAT_CSV || o->what == WHAT_SS) && o->ndirs == 0
			      ? "name at least one results directory"
			  : o->what == WHAT_SS && o->out == NULL
			      ? "shadowserver-csv writes a directory: give -o DIR"
			      : NULL;
	if (why != NULL) {
		fprintf(stderr, "mailcensus export: %s (see --help)\n", why);
		return -1;
	}
	return 0;
}

static int run(const struct export_cli *o, FILE *out)
{
	char err[640];

	if (o->what == WHAT_CSV || o->what == WHAT_SS) {
		uint64_t n = 0;
		enum export_format f = o->what == WHAT_CSV ? EXPORT_CSV : EXPORT_SHADOWSERVER;
		if (out_export_records(o->dirs, o->ndirs, f, &o->filter, out, o->out, &n, err,
				       sizeof(err)) != 0) {
			fprintf(stderr, "mailcensus export: %s\n", err);
			return 1;
		}
		if (f == EXPORT_SHADOWSERVER)
			fprintf(stderr,
				"mailcensus export: %llu services to %s/scan_imap.csv and "
				"scan_pop3.csv\n",
				(unsigned long long)n, o->out);
		return 0;
	}
	struct export_schema *s = malloc(sizeof(*s));
	if (s == NULL || out_export_schema_load(s, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailcensus export: %s\n", s ? err : "out of memory");
		free(s);
		return 1;
	}
	if (o->what == WHAT_BIGQUERY)
		out_export_bigquery(s, out);
	else if (o->what == WHAT_DUCKDB)
		out_export_duckdb(s, o->dirs, o->ndirs, out);
	else
		out_export_columns(s, out);
	out_export_schema_free(s);
	free(s);
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct export_cli *o = calloc(1, sizeof(*o));
	int rc;

	if (o == NULL)
		return 2;
	rc = parse(o, argc, argv);
	if (rc != 0) {
		free(o);
		return rc > 0 ? 0 : 2;
	}
	bool to_file = o->out != NULL && o->what != WHAT_SS;
	FILE *out = to_file ? fopen(o->out, "w") : stdout;
	if (out == NULL) {
		fprintf(stderr, "mailcensus export: %s: %s\n", o->out, strerror(errno));
		free(o);
		return 2;
	}
	rc = run(o, out);
	if ((to_file ? fclose(out) : fflush(out)) != 0 && rc == 0) {
		fprintf(stderr, "mailcensus export: %s: %s\n", to_file ? o->out : "stdout",
			strerror(errno));
		rc = 1;
	}
	free(o);
	return rc;
}
