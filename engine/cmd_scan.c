/* Placeholder until the engine/ issue lands: says plainly that it is not built. */
#include <stdio.h>

#include "common/commands.h"

int cmd_scan(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "mailcensus scan: not built yet (the engine/ issue is open)\n");
	return 2;
}
