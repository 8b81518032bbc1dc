/* scan_engine.h — the engine half of `mailcensus scan`, as a plan.
 *
 * The command line is parsed once (scan_options), a seed drawn when none
 * was given, targets built and checked against the safe range, and the
 * EAL argument vector and engine configuration filled — all before DPDK
 * starts, so that every mistake on the command line is refused before a
 * packet is sent. `scan` runs the plan with the responder writer of -o;
 * `scan --grab` runs the same plan with the census as its hit consumer.
 * Nothing is written to a temporary file and no argument is added. */
#ifndef MC_CLI_SCAN_ENGINE_H
#define MC_CLI_SCAN_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/scan_options.h"
#include "engine/engine.h"

struct scan_plan {
	struct scan_options *opts; /* parsed once */
	struct engine_eal_args *eal;
	struct targets *targets;
	struct engine_config cfg;
};

/* Build the plan from parsed options (scan_options_parse; the plan owns
 * opts from here, also on failure). 0 with *out set, or -errno with a
 * reason in err. */
int scan_plan_open(struct scan_plan **out, struct scan_options *opts, char *err, size_t errlen);

/* Run the plan. consumer NULL: the -o responder writer, if -o was given.
 * The scan's metadata is built in memory from (argc, argv), the command
 * line as the user gave it, written to -m if given, and handed back in
 * *meta (malloc'd; NULL when not wanted). Prints the progress line (unless
 * -q) and the summary. Returns the exit status: 0 done, 1 the run failed
 * or was interrupted, 2 nothing was sent. */
int scan_plan_run(struct scan_plan *p, const struct engine_consumer *consumer, int argc,
		  char **argv, struct engine_result *res, char **meta, char *err, size_t errlen);

void scan_plan_free(struct scan_plan *p);

/* `mailcensus scan` without --grab: the plan run with -o's writer (owns
 * opts). Returns the exit status. */
int scan_engine_command(struct scan_options *opts, int argc, char **argv);

#endif
