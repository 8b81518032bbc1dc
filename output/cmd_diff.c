/* cmd_diff.c — the `diff` subcommand (option parsing and exit codes only). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/commands.h"
#include "output/diff.h"

static const char diff_usage[] =
    "usage: mailcensus diff OLD NEW [--format text|json|html] [-o FILE] [--list FILE]\n"
    "                      [--work-dir DIR] [--sort-mem MIB]\n"
    "Compare two results directories service by service (address+port) and host by\n"
    "host: what appeared, disappeared, improved (e.g. no_tls -> starttls_required,\n"
    "TLS 1.0 dropped), regressed or both, by posture, country and network.\n"
    "Both censuses are sorted externally in a temporary work directory, so memory\n"
    "stays bounded whatever their size.\n"
    "  --format FMT    text (default), json, or html (one self-contained page)\n"
    "  -o FILE         write to FILE instead of standard output\n"
    "  --list FILE     also write every changed service and host as NDJSON\n"
    "  --work-dir DIR  where the sorted runs go (default $TMPDIR or /tmp)\n"
    "  --sort-mem MIB  records held in memory per sort run (default 16)\n";

static const struct option diff_options[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"list", required_argument, NULL, 'l'},
    {"work-dir", required_argument, NULL, 'w'},
    {"sort-mem", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int write_result(const struct diff_stats *st, enum out_report_format fmt,
			const char *outfile)
{
	FILE *out = outfile ? fopen(outfile, "w") : stdout;

	if (out == NULL) {
		perror(outfile);
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
		perror(outfile ? outfile : "stdout");
		return 1;
	}
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	enum out_report_format fmt = OUT_REPORT_TEXT;
	struct out_diff_opts opts = {0};
	const char *outfile = NULL, *listfile = NULL;
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:h", diff_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (out_report_format_parse(optarg, &fmt) != 0) {
				fprintf(stderr, "mailcensus diff: unknown format '%s'\n", optarg);
				return 2;
			}
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'l':
			listfile = optarg;
			break;
		case 'w':
			opts.workdir = optarg;
			break;
		case 'm':
			opts.mem_bytes = (size_t)strtoul(optarg, &end, 10) << 20;
			if (*end != '\0' || opts.mem_bytes == 0 || opts.mem_bytes > (64ull << 30)) {
				fprintf(stderr, "mailcensus diff: bad --sort-mem '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(diff_usage, stdout);
			return 0;
		default:
			fputs(diff_usage, stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fputs(diff_usage, stderr);
		return 2;
	}
	if (listfile != NULL && (opts.list = fopen(listfile, "w")) == NULL) {
		perror(listfile);
		return 2;
	}
	struct diff_stats *st = malloc(sizeof(*st));
	char err[640];
	int rc =
	    st ? out_diff_run(argv[optind], argv[optind + 1], &opts, st, err, sizeof(err)) : -1;
	if (opts.list != NULL && fclose(opts.list) != 0 && rc == 0) {
		perror(listfile);
		rc = -1;
		snprintf(err, sizeof(err), "%s: write failed", listfile);
	}
	if (rc != 0) {
		fprintf(stderr, "mailcensus diff: %s\n", st ? err : "out of memory");
		free(st);
		return 1;
	}
	rc = write_result(st, fmt, outfile);
	free(st);
	return rc;
}
