/* Placeholder until the probes/ issue lands: says plainly that it is not built. */
#include <stdio.h>

#include "common/commands.h"

int cmd_grab(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "mailcensus grab: not built yet (the probes/ issue is open)\n");
	return 2;
}
