/* sink.h — where finished records go.
 *
 * One thread calls out_sink_put(); callers serialise. With cfg->dir == NULL
 * every record becomes one NDJSON line on stdout. With a directory, records
 * go to shard-NNNNN.ndjson[.zst] files, each written under a temporary name,
 * fsynced and renamed when full (rotate_records / rotate_bytes), when its
 * first record is seal_every seconds old, or at close. Sealing happens on
 * the sink's own sealer thread: out_sink_put() hands a full shard over and
 * returns; it waits only when several shards are already waiting. manifest.json is written
 * at open and rewritten atomically after every seal, listing every sealed
 * shard with its record count, bytes and SHA-256 plus the run's metadata
 * and state ("running" until out_sink_close() says complete, interrupted
 * or failed). So after a kill -9 the directory holds a manifest that lists
 * every whole shard and says the run did not finish.
 *
 * Before encoding, put() fills rec->country / asn / asn_org from the
 * configured mmdb databases (unless no_enrich). */
#ifndef MC_OUT_SINK_H
#define MC_OUT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output/record.h"

struct out_sink;
struct out_meta;

struct out_sink_config {
	const char *dir; /* results directory (shards + manifest); NULL = NDJSON lines on stdout */
	const char *geo_db;	 /* country mmdb path, NULL = none */
	const char *asn_db;	 /* ASN mmdb path, NULL = none */
	bool no_enrich;		 /* when false, a NULL or unreadable db is an error at open */
	uint64_t rotate_records; /* 0 = default (1,000,000) */
	uint64_t rotate_bytes;	 /* 0 = default (256 MiB) */
	bool compress;		 /* zstd shards */
	uint32_t seal_every_s;	 /* 0 = default (60): longest a record waits for its seal */
	bool resume;		 /* continue the unfinished run in dir (see out_sink_open) */
	bool seal_inline; /* seal on out_sink_put()'s thread, as before issue 11 (benchmarks) */
	const struct out_meta *meta; /* for the first manifest (copied), or NULL */
};

#define OUT_SEAL_EVERY_DEFAULT 60

enum out_run_state {
	OUT_RUN_RUNNING,     /* not finished (or killed before it could say so) */
	OUT_RUN_COMPLETE,    /* every target has its record */
	OUT_RUN_INTERRUPTED, /* stopped by a signal (SIGINT, SIGTERM, SIGHUP) */
	OUT_RUN_FAILED,	     /* stopped by an error (e.g. ENOSPC), named in "error" */
};

const char *out_run_state_name(enum out_run_state st);

struct out_meta { /* goes into manifest.json */
	const char *command_line;
	uint64_t seed;
	uint32_t shard, shards;
	const char *engine_json; /* the engine's metadata object as JSON text, or NULL */
	const char *hits_json;	 /* the census's hit accounting object as JSON text, or NULL */
	/* What `mailcensus resume` needs; command NULL = the run cannot be resumed. */
	const char *command; /* "grab" */
	const char *cwd;     /* relative paths in argv are relative to it */
	int argc;	     /* the command's words after its name */
	char *const *argv;
	const char *targets_path;   /* the targets file (absolute), or NULL */
	const char *targets_sha256; /* its SHA-256 (hex) */
	/* Other files that define the target set (scan: the allow- and
	 * blocklist), absolute, with their SHA-256 (hex): resume refuses a
	 * changed one. */
	int nfiles;
	const char *const *file_paths;
	const char *const *file_sha256;
};

/* The manifest's command_line: "mailcensus" and argv[0..argc) joined by
 * spaces, truncated to cap. */
void out_command_line(char *out, size_t cap, int argc, char **argv);

/* Open a sink: opens the databases, creates the directory if needed and
 * writes a first manifest (state running), so that an unwritable directory
 * fails here, before any packet. A fresh run refuses a directory that holds
 * anything of a run (manifest, shards, leftover temporary files): -EEXIST,
 * the reason names `mailcensus resume`. With cfg->resume the directory must
 * hold an unfinished run: leftover temporary files are removed, every
 * listed shard is re-read against the manifest (and a whole shard sealed
 * after the last manifest write is adopted), and the (address, port) of
 * every record is remembered for out_sink_recorded(). 0, or -errno with a
 * reason in err (-EALREADY: the run is complete, nothing to resume). */
int out_sink_open(struct out_sink **out, const struct out_sink_config *cfg, char *err,
		  size_t errlen);

/* One session of a run (the first, and one per resume) in the manifest's
 * "history"; "totals" sums them. A session killed before its final
 * manifest keeps what its last manifest said, with state "killed". */
#define OUT_SESSIONS_MAX 10000
struct out_session {
	char started[40], ended[40]; /* RFC 3339; ended "" while running */
	char state[16];		     /* running, complete, interrupted, failed, killed */
	double seconds;
	uint64_t records; /* sealed during the session */
	bool scan;	  /* a census session: sent and hits are known */
	uint64_t sent, hits;
};

/* A census: the engine's counters of this session so far (SYNs sent,
 * validated hits), for the manifest's history (any thread). */
void out_sink_set_counts(struct out_sink *s, uint64_t sent, uint64_t hits);

/* The run was stopped by signal `signo`: close writes state interrupted. */
void out_sink_set_interrupted(struct out_sink *s, int signo);

/* Resume: does the directory already hold a record of (addr, port)? */
bool out_sink_recorded(const struct out_sink *s, uint32_t addr, uint16_t port);
/* The same for an IPv6 target (16 bytes, network order). */
bool out_sink_recorded6(const struct out_sink *s, const uint8_t addr6[16], uint16_t port);
/* Resume: how many distinct (addr, port) the directory held at open. */
uint64_t out_sink_recorded_count(const struct out_sink *s);

/* Enrich, encode and append one record. 0, or -errno (e.g. -ENOSPC); after a
 * failure the sink refuses further records and out_sink_strerror() says why. */
int out_sink_put(struct out_sink *s, struct mc_record *rec);

/* Wait until every shard handed to the sealer is sealed and listed in the
 * manifest (the open shard stays open). 0, or the sink's failure. */
int out_sink_sync(struct out_sink *s);

/* Reason of the last failure ("" when none). */
const char *out_sink_strerror(const struct out_sink *s);

/* Seal the last shard, write the final manifest (complete, interrupted or
 * failed; `meta` replaces the metadata when not NULL), free the sink
 * (always freed, even on error). 0, or -errno with a reason in err. */
int out_sink_close(struct out_sink *s, const struct out_meta *meta, char *err, size_t errlen);

/* Throw a sink away before anything was meant to be written (the command
 * failed to start): a fresh run's first manifest is removed, a resumed
 * run's manifest gets its previous state back; an open shard is removed
 * under its temporary name, and a results directory the sink created is
 * removed when no shard was sealed in it. */
void out_sink_discard(struct out_sink *s);

/* What a results directory says about resuming it (manifest "resume"). */
struct out_resume {
	enum out_run_state state;
	char describe[320]; /* out of the manifest, for people */
	char *command;	    /* "grab"; NULL when the run cannot be resumed */
	char *cwd;
	int argc;
	char **argv;
	char *targets_path, *targets_sha256;
	int nfiles; /* other target-defining files and their SHA-256 */
	char **file_paths, **file_sha256;
};

/* Read DIR/manifest.json for `mailcensus resume`. 0, or -errno with reason
 * (-ENOENT: no manifest; see out_resume_clear_leftovers). */
int out_resume_load(const char *dir, struct out_resume *r, char *err, size_t errlen);

/* A directory without a manifest (the run was killed before its first one
 * was written, so nothing was recorded): remove the run's temporary files
 * so that a fresh run may use it. *removed counts them. 0; -EEXIST when the
 * directory holds a sealed shard (not ours to remove without a manifest);
 * -errno otherwise; a reason in err. */
int out_resume_clear_leftovers(const char *dir, size_t *removed, char *err, size_t errlen);
void out_resume_free(struct out_resume *r);

/* ---- grab workers (cli/worker.c) ----------------------------------------
 *
 * A grab worker is a process of its own that writes its own shards; the
 * root process keeps the one sink that owns the manifest. The worker's sink
 * is made from the root's (inherited across fork: same configuration, the
 * same open databases) and writes no manifest: every shard it seals is made
 * durable under its temporary name (interleaved indices, first_index +
 * n * stride, so workers never collide) and handed to on_seal; the root
 * renames it to the next final name and lists it (out_sink_add_shard), so
 * final names are written by one process in order, as resume expects. */
struct out_shard_info;

struct out_sink_worker {
	int dirfd;	      /* the results directory (the sink owns it), -1 without one */
	uint32_t first_index; /* this worker's first shard index */
	uint32_t stride;      /* the number of workers */
	/* A shard was sealed (called on the sealing thread). */
	void (*on_seal)(void *ctx, const struct out_shard_info *info);
	/* Without a directory: one encoded NDJSON line (with its newline). */
	void (*on_line)(void *ctx, const char *line, size_t len);
	void *ctx;
};

int out_sink_open_worker(struct out_sink **out, const struct out_sink *parent,
			 const struct out_sink_worker *w, char *err, size_t errlen);

/* A descriptor of the results directory that shares the sink's lock (one
 * writer per directory): a grab worker keeps it open, so that a new session
 * cannot take the directory over while a worker of this one still runs.
 * -1 without a directory (or on error). */
int out_sink_dup_dirfd(const struct out_sink *s);

/* The next final shard index (a resumed run continues). */
uint32_t out_sink_next_index(const struct out_sink *s);

/* Root: rename a shard a worker sealed (info->name: its temporary name) to
 * the next final name, fsync the directory, list it and rewrite the
 * manifest. 0 or -errno (the sink then counts as failed). */
int out_sink_add_shard(struct out_sink *s, const struct out_shard_info *info, char *err,
		       size_t errlen);

/* Root: add a worker's lost records and lookup errors. */
void out_sink_add_counts(struct out_sink *s, uint64_t records_lost, uint64_t lookup_errors);

/* Worker: its lost records and lookup errors, for its report. */
void out_sink_worker_counts(const struct out_sink *s, uint64_t *records_lost,
			    uint64_t *lookup_errors);

/* Root: a worker failed (its reason): the run ends failed. */
void out_sink_fail(struct out_sink *s, int rc, const char *reason);

#endif
