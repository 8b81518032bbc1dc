/* Placeholder until the output/ issue lands: says plainly that it is not built. */
#include <stdio.h>

#include "common/commands.h"

int cmd_report(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "mailcensus report: not built yet (the output/ issue is open)\n");
	return 2;
}

int cmd_verify(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "mailcensus verify: not built yet (the output/ issue is open)\n");
	return 2;
}
