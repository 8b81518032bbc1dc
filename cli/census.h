/* census.h — `scan --grab`: the grab workers as the engine's hit consumer.
 *
 * The one place where the three stages meet: the engine's receive lcore
 * pushes validated hits into the SPSC ring, a writer thread appends them to
 * the durable hit log (base/hitlog.h), N unprivileged worker processes
 * (cli/worker.h) read the log as it grows and probe each responder of
 * their share (probes/), each writing its own shards (output/), and the
 * root lists them in the manifest. See census.c for why no hit is lost
 * when the grab stage falls behind. */
#ifndef MC_CENSUS_H
#define MC_CENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hitlog.h"
#include "engine/engine.h"
#include "output/sink.h"
#include "probes/grabber.h"

struct census_grab;

struct census_workers_cfg {
	unsigned count;	  /* grab worker processes, 1..CLI_WORKERS_MAX */
	const char *user; /* they run as this user (when the command runs as root) */
};

/* Open the sink, create the hit log (in the results directory, or an
 * unnamed temporary without one) and fork the grab workers (each builds
 * its grabber, then gives up root) before any packet is sent and before
 * the engine exists, so that a bad results directory, database or user
 * fails the command up front and no worker ever holds the port. With scfg->resume the sink takes
 * over an unfinished census, the last session's hit log is kept as hits.log.N, and the grabber
 * skips every hit that already has a record. 0, or -errno with a reason in err. */
int census_grab_open(struct census_grab **out, const struct grab_config *gcfg,
		     const struct out_sink_config *scfg, const struct mc_hitlog_id *id,
		     const struct census_workers_cfg *wc, char *err, size_t errlen);

/* The scan was stopped by a signal: the manifest will say interrupted. */
void census_grab_set_interrupted(struct census_grab *c, int signo);

/* The engine's checkpoint: written into the results directory (if any);
 * a resume restarts each TX queue from it (cli/census_resume.h). Call after
 * census_grab_open, before the scan. 0, or -EINVAL with a reason (the
 * checkpoint is damaged or belongs to another scan: refuse the resume). */
int census_grab_engine(struct census_grab *c, struct engine_config *cfg, char *err, size_t errlen);

/* The engine's final counters of this session, for the manifest's history. */
void census_grab_set_engine(struct census_grab *c, const struct engine_result *res);

/* No progress line from the census (scan -q). */
void census_grab_set_quiet(struct census_grab *c, bool quiet);

/* The engine_consumer that runs the hit log writer and the serving of the
 * workers (manifest, stdout, quit flag) on threads of their own. */
struct engine_consumer census_grab_consumer(struct census_grab *c);

struct census_counts {
	uint64_t records;      /* written to the sink */
	uint64_t failed;       /* of the targets, those whose record has an error */
	uint64_t hits_logged;  /* hits in the hit log */
	uint64_t hits_read;    /* hits the grab stage read from it */
	uint64_t hits_corrupt; /* records of the log with a bad checksum (never expected) */
	uint64_t old_hits;     /* resume: distinct hits of the earlier sessions' logs */
	uint64_t old_todo;     /* of them, taken by the workers now (they had no record) */
	uint64_t refound;      /* new hits an earlier session had found already (not grabbed) */
	/* logged + old_todo = records + skipped + refound + abandoned + unread + corrupt */
	uint64_t hits_skipped;	 /* resume: already had a record */
	uint64_t hits_abandoned; /* read by their worker, not grabbed (quit) */
	uint64_t hits_unread;	 /* never read by their worker (quit) */
	unsigned workers;
};

/* Call after the consumer finished. */
void census_grab_counts(const struct census_grab *c, struct census_counts *out);

/* The scan never started: free everything, write no manifest, remove the
 * hit log and the results directory if it was created for this run and is
 * empty. */
void census_grab_discard(struct census_grab *c);

/* Seal the shards, write the manifest (with `meta`), close the hit log,
 * free everything. 0, or -errno with a reason in err (a sink or hit log
 * failure during the run, such as ENOSPC, is reported here too). */
int census_grab_close(struct census_grab *c, const struct out_meta *meta, char *err, size_t errlen);

#endif
