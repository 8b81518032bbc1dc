/* census_resume.h — what a resumed census takes over from its killed
 * sessions: their hit logs and the engine's checkpoint.
 *
 * A resumed census restarts each TX queue from the checkpoint
 * (engine/checkpoint.h), so the hits found before it are not found again:
 * they are in the earlier sessions' hit logs (hits.log.N). Every hit there
 * without a record is grabbed first; every hit there (recorded or not) is
 * not grabbed a second time when the re-sent window of the new session
 * finds it again. */
#ifndef MC_CLI_CENSUS_RESUME_H
#define MC_CLI_CENSUS_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hit.h"
#include "base/hitlog.h"
#include "engine/checkpoint.h"

struct census_resume {
	uint64_t *seen; /* addr << 16 | port of every hit in the old logs, sorted, distinct */
	size_t nseen;
	uint64_t *todo; /* of them, those without a record: grabbed first */
	size_t ntodo, next;
	uint64_t old_hits;    /* whole records read from the old logs */
	uint64_t old_corrupt; /* records with a bad checksum (a torn end) */
	unsigned logs;	      /* old hit logs read */
};

/* Read every hits.log.N in dirfd (each must name the run `id`; one cut
 * before its header holds no hit) and split their hits by `recorded`
 * (out_sink_recorded in the census). 0, or -errno with a reason in err. */
int census_resume_load(struct census_resume *cr, int dirfd, const struct mc_hitlog_id *id,
		       bool (*recorded)(const void *ctx, uint32_t addr, uint16_t port),
		       const void *ctx, char *err, size_t errlen);

/* The next old hit without a record (address and port only); false when
 * none is left. */
bool census_resume_next(struct census_resume *cr, struct mc_hit *out);

/* Was (addr, port) a hit of an earlier session? */
bool census_resume_seen(const struct census_resume *cr, uint32_t addr, uint16_t port);

void census_resume_free(struct census_resume *cr);

/* The engine's side: checkpoint to dirfd, and with `resume` start each TX
 * queue from the checkpoint there (none: from the start, said in *note).
 * ck is where the loaded checkpoint lives (as long as cfg is used). 0, or
 * -EINVAL with a reason when the checkpoint is damaged or another scan's. */
int census_resume_engine(struct engine_config *cfg, int dirfd, bool resume, struct engine_ckpt *ck,
			 char *note, size_t notelen, char *err, size_t errlen);

#endif
