/* cmd_report.c — the `report` and `verify` subcommands (option parsing and exit codes only). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "output/report.h"
#include "output/verify.h"

static const char verify_usage[] =
    "usage: mailcensus verify [--partial] DIR\n"
    "Recheck a results directory: every shard listed in DIR/manifest.json must\n"
    "have the recorded size, SHA-256 and record count, every line must be a JSON\n"
    "object, and no shard may be missing from the manifest. The first line says\n"
    "how the run ended (complete, interrupted by a signal, failed, or running /\n"
    "killed).\n"
    "  --partial   accept a run that did not complete (killed, interrupted,\n"
    "              failed) when what it left is intact\n"
    "Exit status: 0 all match and the run is complete (or --partial), 1 a\n"
    "mismatch, 2 usage error or no readable manifest, 3 intact but the run is\n"
    "not complete.\n";

int cmd_verify(int argc, char **argv)
{
	bool partial = false, complete = false;
	const char *dir = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(verify_usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--partial") == 0) {
			partial = true;
		} else if (argv[i][0] == '-' || dir != NULL) {
			fputs(verify_usage, stderr);
			return 2;
		} else {
			dir = argv[i];
		}
	}
	if (dir == NULL) {
		fputs(verify_usage, stderr);
		return 2;
	}
	int rc = out_verify_dir(dir, &complete, stdout);
	if (rc < 0)
		return 2;
	if (rc > 0)
		return 1;
	return complete || partial ? 0 : 3;
}

static const char report_usage[] =
    "usage: mailcensus report DIR... [--format text|json|html] [-o FILE]\n"
    "Summarise one or more results directories (e.g. one per shard of a census)\n"
    "from their shards alone: services and hosts per port and protocol, posture,\n"
    "cleartext logins, the TLS version matrix, certificate problems, STARTTLS\n"
    "injection, and the top countries and networks of hosts that accept a\n"
    "cleartext login. An address found in several directories is one host.\n"
    "  --format FMT   text (default), json, or html (one self-contained page)\n"
    "  -o FILE        write to FILE instead of standard output\n";

static const struct option report_options[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_report(int argc, char **argv)
{
	enum out_report_format fmt = OUT_REPORT_TEXT;
	const char *outfile = NULL;
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
				outfile, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "mailcensus report: %s\n", err);
		return 1;
	}
	return 0;
}
