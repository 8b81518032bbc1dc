/* cmd_report.c — the `report` and `verify` subcommands (option parsing and exit codes only). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/commands.h"
#include "output/report.h"
#include "output/verify.h"

static const char verify_usage[] =
    "usage: mailcensus verify DIR\n"
    "Recheck a results directory: every shard listed in DIR/manifest.json must\n"
    "have the recorded size, SHA-256 and record count, every line must be a JSON\n"
    "object, and no shard may be missing from the manifest.\n"
    "Exit status: 0 all match, 1 a mismatch, 2 usage error or no readable manifest.\n";

int cmd_verify(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(verify_usage, stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fputs(verify_usage, stderr);
		return 2;
	}
	int rc = out_verify_dir(argv[1], stdout);
	return rc < 0 ? 2 : rc > 0 ? 1 : 0;
}

static const char report_usage[] =
    "usage: mailcensus report DIR... [--format text|json|html] [-o FILE]\n"
    "Summarise one or more results directories (e.g. one per shard of a census)\n"
    "from their shards alone: services and hosts per port and protocol, posture,\n"
    "cleartext logins, the TLS version matrix, certificate problems, STARTTLS\n"
    "injection, and the top countries and networks of hosts that accept a\n"
    "cleartext login. An address found in several directories is one host.\n"
    "  --format FMT   text (default), json, or html (one self-contained page)\n"
    "  --map FILE     world map for the HTML page (default: world-map.tsv beside the\n"
    "                 geo database the manifest names; scripts/fetch-geo-data)\n"
    "  -o FILE        write to FILE instead of standard output\n";

static const struct option report_options[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"map", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_report(int argc, char **argv)
{
	enum out_report_format fmt = OUT_REPORT_TEXT;
	const char *outfile = NULL;
	struct out_report_opts opts = {0};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:h", report_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (out_report_format_parse(optarg, &fmt) != 0) {
				fprintf(stderr, "mailcensus report: unknown format '%s'\n", optarg);
				return 2;
			}
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'm':
			opts.map_path = optarg;
			break;
		case 'h':
			fputs(report_usage, stdout);
			return 0;
		default:
			fputs(report_usage, stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs(report_usage, stderr);
		return 2;
	}
	char err[512];
	int rc = out_report_run((const char *const *)&argv[optind], (size_t)(argc - optind), fmt,
				&opts, outfile, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "mailcensus report: %s\n", err);
		return 1;
	}
	return 0;
}
