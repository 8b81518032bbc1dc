/* resume_dir.h — what a results directory already holds (internal to output/).
 *
 * The sink's list of sealed shards, the next shard index, and for a resumed
 * run the (address, port) of every record already written: loaded from the
 * manifest and re-read from the shards themselves, so a resumed run neither
 * loses a shard nor writes a second record for a target. */
#ifndef MC_OUT_RESUME_DIR_H
#define MC_OUT_RESUME_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output/shard.h"
#include "output/sink.h"

struct out_resume_dir {
	bool loaded; /* filled from an existing run */
	struct out_shard_info *infos;
	size_t ninfos, capinfos;
	uint32_t next_index;
	uint64_t *keys; /* addr << 16 | port, sorted, distinct */
	size_t nkeys;
	uint32_t sessions; /* 1 + times resumed */
	uint64_t lookup_errors;
	char started[40];
	size_t leftovers, adopted;   /* temporary files removed, unlisted whole shards adopted */
	struct out_session *history; /* earlier sessions (manifest "history") */
	size_t nhistory;
	uint64_t records_before; /* records listed when this session began */
	enum out_run_state prev_state;
	int prev_signo;
	char prev_error[256];
};

/* A new run: no shards, one session, started now. */
void out_resume_dir_fresh(struct out_resume_dir *rd);

/* An unfinished run in dirfd: manifest loaded and checked, leftover
 * temporary files removed, every listed shard re-read and compared with the
 * manifest, whole unlisted shards newer than the last listed one adopted,
 * record keys collected. 0, or -errno with a reason (-EALREADY: the run is
 * complete). */
int out_resume_dir_open(struct out_resume_dir *rd, int dirfd, bool compress, char *err,
			size_t errlen);

/* Append a sealed shard. 0 / -ENOMEM. */
int out_resume_dir_add(struct out_resume_dir *rd, const struct out_shard_info *info);

bool out_resume_dir_has(const struct out_resume_dir *rd, uint32_t addr, uint16_t port);

/* IPv6 records (grab's "[ADDR]:PORT" targets) are keyed by bit 63 and 47
 * bits of a hash of the address above the port: never an IPv4 key (those
 * stay below 2^48); two IPv6 targets share a key with odds 2^-47. */
uint64_t out_resume_key6(const uint8_t addr6[16], uint16_t port);
bool out_resume_dir_has6(const struct out_resume_dir *rd, const uint8_t addr6[16], uint16_t port);

void out_resume_dir_free(struct out_resume_dir *rd);

#endif
