/* census.h — `scan --grab`: the grabber as the engine's hit consumer.
 *
 * The one place where the three stages meet: the engine's receive lcore
 * pushes validated hits into the SPSC ring, a grabber thread pops them and
 * probes each responder (probes/), and every finished record goes through
 * the output sink (output/: enrichment, shards, manifest). No temp file sits
 * between scan and grab. */
#ifndef MC_CENSUS_H
#define MC_CENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "output/sink.h"
#include "probes/grabber.h"

struct census_grab;

/* Open the sink and build the grabber before any packet is sent, so that a
 * bad results directory or database fails the command up front. With
 * scfg->resume the sink takes over an unfinished census and the grabber
 * skips every hit that already has a record. 0, or -errno with a reason. */
int census_grab_open(struct census_grab **out, const struct grab_config *gcfg,
		     const struct out_sink_config *scfg, char *err, size_t errlen);

/* The scan was stopped by a signal: the manifest will say interrupted. */
void census_grab_set_interrupted(struct census_grab *c, int signo);

/* No progress line from the census (scan -q). */
void census_grab_set_quiet(struct census_grab *c, bool quiet);

/* The engine_consumer that runs the grabber on its own thread. */
struct engine_consumer census_grab_consumer(struct census_grab *c);

/* Records written so far, and of all targets those whose record has an
 * error (refused, timed out, ...). Call after the consumer finished. */
void census_grab_counts(const struct census_grab *c, uint64_t *records, uint64_t *failed);

/* Seal the shards, write the manifest (with `meta`), free everything.
 * 0, or -errno with a reason in err (a sink failure during the run, such as
 * ENOSPC, is reported here too). */
/* The scan never started: free everything, write no manifest, remove the
 * results directory if it was created for this run and is empty. */
void census_grab_discard(struct census_grab *c);

int census_grab_close(struct census_grab *c, const struct out_meta *meta, char *err, size_t errlen);

#endif
