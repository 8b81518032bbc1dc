/* cmd_export.c — the `export` subcommand (option parsing and exit codes only). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/commands.h"
#include "output/export.h"

static const char export_usage[] =
    "usage: mailcensus export --format FMT [DIR...] [-o FILE|DIR] [--asn N,...] [--country "
    "CC,...]\n"
    "Export the records of results directories, or the record schema.\n"
    "  --format csv               one flat CSV of every record (columns: --format columns)\n"
    "  --format shadowserver-csv  scan_imap.csv and scan_pop3.csv in DIR (-o, required)\n"
    "                             with Shadowserver's IMAP/POP3 report columns\n"
    "  --format bigquery-schema   BigQuery JSON schema of the records\n"
    "  --format duckdb            DuckDB SQL loading DIR's shards with typed columns\n"
    "  --format columns           the flat CSV columns with types and descriptions\n"
    "  --asn N,...                only records of these networks (repeatable)\n"
    "  --country CC,...           only records of these countries (repeatable)\n"
    "  -o PATH                    output file (csv, schemas) or directory (shadowserver-csv)\n"
    "The schemas are generated from output/schema/record.schema.json (built in).\n";

static const struct option export_options[] = {
    {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
    {"asn", required_argument, NULL, 'a'},    {"country", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
};

static int schema_out(const char *fmt, const char *const *dirs, size_t ndirs, FILE *out)
{
	struct export_schema s;
	char err[256];

	if (out_export_schema_load(&s, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailcensus export: %s\n", err);
		return 1;
	}
	if (strcmp(fmt, "bigquery-schema") == 0)
		out_export_bigquery(&s, out);
	else if (strcmp(fmt, "duckdb") == 0)
		out_export_duckdb(&s, dirs, ndirs, out);
	else
		out_export_columns(&s, out);
	out_export_schema_free(&s);
	return 0;
}

int cmd_export(int argc, char **argv)
{
	static struct export_filter filter; /* 3 KB: not on the stack of main */
	const char *fmt = NULL, *outpath = NULL;
	int c;

	memset(&filter, 0, sizeof(filter));
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:h", export_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			fmt = optarg;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'a':
		case 'c':
			if (out_export_filter_add(&filter, c == 'a' ? "asn" : "country", optarg) !=
			    0) {
				fprintf(stderr, "mailcensus export: bad --%s '%s'\n",
					c == 'a' ? "asn" : "country", optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(export_usage, stdout);
			return 0;
		default:
			fputs(export_usage, stderr);
			return 2;
		}
	}
	bool records = fmt && (strcmp(fmt, "csv") == 0 || strcmp(fmt, "shadowserver-csv") == 0);
	bool schema = fmt && (strcmp(fmt, "bigquery-schema") == 0 || strcmp(fmt, "duckdb") == 0 ||
			      strcmp(fmt, "columns") == 0);
	if ((!records && !schema) || (records && optind >= argc) ||
	    (fmt && strcmp(fmt, "shadowserver-csv") == 0 && outpath == NULL)) {
		fputs(export_usage, stderr);
		return 2;
	}
	bool to_file = outpath != NULL && strcmp(fmt, "shadowserver-csv") != 0;
	FILE *out = to_file ? fopen(outpath, "w") : stdout;
	if (out == NULL) {
		perror(outpath);
		return 2;
	}
	const char *const *dirs = (const char *const *)&argv[optind];
	size_t ndirs = (size_t)(argc - optind);
	int rc = 0;
	if (schema) {
		rc = schema_out(fmt, dirs, ndirs, out);
	} else {
		char err[640];
		uint64_t n = 0;
		enum export_format f = strcmp(fmt, "csv") == 0 ? EXPORT_CSV : EXPORT_SHADOWSERVER;
		if (out_export_records(dirs, ndirs, f, &filter, out, outpath, &n, err,
				       sizeof(err)) != 0) {
			fprintf(stderr, "mailcensus export: %s\n", err);
			rc = 1;
		} else if (f == EXPORT_SHADOWSERVER) {
			fprintf(stderr,
				"mailcensus export: %llu records to %s/scan_imap.csv and "
				"scan_pop3.csv\n",
				(unsigned long long)n, outpath);
		}
	}
	if ((to_file ? fclose(out) : fflush(out)) != 0 && rc == 0) {
		perror(outpath ? outpath : "stdout");
		rc = 1;
	}
	return rc;
}
