/* manifest.h — manifest.json of a results directory (internal to output/).
 *
 * The manifest is the run's one statement of truth: its state (running,
 * complete, interrupted by a signal, failed with an error), the metadata
 * `resume` needs, and every sealed shard with its size and SHA-256. The
 * sink rewrites it atomically after every seal, so after a crash it lists
 * exactly the shards that are whole. Readers (verify, report, resume) load
 * it through one bounded, symlink-refusing path and one shape check. */
#ifndef MC_OUT_MANIFEST_H
#define MC_OUT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output/enrich.h"
#include "output/json.h"
#include "output/shard.h"
#include "output/sink.h"

#define OUT_MANIFEST_NAME "manifest.json"
#define OUT_MANIFEST_TMP  "manifest.json.tmp" /* prefix of the writer's temporaries */
#define OUT_MANIFEST_MAX  (16u << 20)	      /* bytes; ~70,000 shards */
#define OUT_RESERVE_NAME  "manifest.json.reserve"
#define OUT_RESERVE_BYTES (256u << 10)

/* What the sink hands the writer. */
struct out_manifest {
	enum out_run_state state;
	int signo;	     /* OUT_RUN_INTERRUPTED: the signal */
	const char *error;   /* OUT_RUN_FAILED: the reason */
	const char *started; /* RFC 3339 of the first session's start */
	uint32_t sessions;   /* 1 + the times the run was resumed */
	const char *command_line;
	uint64_t seed;
	uint32_t shard, shards;
	const char *engine_json; /* verbatim when valid JSON, else as a string; NULL = null */
	const char *hits_json;	 /* the census's hit accounting, the same way */
	const char *resume_json; /* an object made by out_manifest_resume_json(), or NULL */
	uint64_t records_lost, lookup_errors;
	bool compress, enriched;
	const struct out_db *geo, *asn;
	const struct out_shard_info *files;
	size_t nfiles;
	/* earlier sessions, then this one (its records: listed minus records_before) */
	const struct out_session *history;
	size_t nhistory;
	struct out_session current;
	uint64_t records_before; /* records listed when this session began */
};

/* Write DIR/manifest.json atomically (mc_file_write_atomic: a temporary
 * created O_EXCL|O_NOFOLLOW, fsync, rename, fsync the directory). 0, or
 * -errno with a reason. */
int out_manifest_write(int dirfd, const struct out_manifest *m, char *err, size_t errlen);

/* Disk kept free for the last manifest: a file of OUT_RESERVE_BYTES
 * (allocated, created O_EXCL|O_NOFOLLOW; a leftover is replaced) that is
 * removed when a manifest write finds the disk full, so the run can still
 * say how it ended. 0 / -errno (callers go on without a reserve). */
int out_manifest_reserve(int dirfd);
void out_manifest_unreserve(int dirfd);

/* The manifest's "resume" object for `meta` (malloc'd), NULL when the meta
 * names no resumable command or on ENOMEM. */
char *out_manifest_resume_json(const struct out_meta *meta);

/* A shard name a manifest may list: shard-*, no '/', no leading '.', short. */
bool out_manifest_name_ok(const char *name);

/* Load and check DIR/manifest.json: a regular file of at most
 * OUT_MANIFEST_MAX bytes, a JSON object of format mailcensus-results/1 with
 * a files[] array whose every entry has a valid name. 0, or -errno with a
 * reason ("manifest.json: ..."). */
int out_manifest_load(int dirfd, struct out_json_arena *a, struct out_json **m, char *err,
		      size_t errlen);

/* The state of a loaded manifest ("state"; manifests older than it: from
 * "complete"), and a one-line description for people: "complete",
 * "interrupted by SIGTERM", "failed: REASON", "running (or killed: ...)". */
enum out_run_state out_manifest_state(const struct out_json *m);
void out_manifest_describe(const struct out_json *m, char *buf, size_t cap);

/* CLOCK_REALTIME in microseconds. */
int64_t out_now_us(void);

#endif
