/* main.c — dispatch to a subcommand; nothing else happens here. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
    {.name = "scan",
     .run = cmd_scan,
     .summary = "SYN-scan address ranges; with --grab, the whole census"},
    {.name = "grab", .run = cmd_grab, .summary = "probe POP3/IMAP/TLS posture of listed targets"},
    {.name = "resume",
     .run = cmd_resume,
     .summary = "continue an interrupted or killed run in its results directory"},
    {.name = "report", .run = cmd_report, .summary = "summarise a results directory"},
    {.name = "verify", .run = cmd_verify, .summary = "recheck a results directory's manifest"},
    {.name = "diff", .run = cmd_diff, .summary = "compare two results directories"},
    {.name = "export", .run = cmd_export, .summary = "records as CSV / Shadowserver CSV; schemas"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: mailcensus COMMAND [OPTIONS]\n"
		     "       mailcensus COMMAND --help\n"
		     "       mailcensus --version\n\n"
		     "A census of POP3/IMAP servers: who lets a password cross the network in\n"
		     "clear text, and how good their TLS is.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("mailcensus %s\n", MC_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "mailcensus: unknown command '%s' (try: mailcensus --help)\n", argv[1]);
	return 2;
}
