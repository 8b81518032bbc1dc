/* sink.h — where finished records go.
 *
 * One thread calls out_sink_put(); callers serialise. With cfg->dir == NULL
 * every record becomes one NDJSON line on stdout. With a directory, records
 * go to shard-NNNNN.ndjson[.zst] files, each written under a temporary name,
 * fsynced and renamed when full (rotate_records / rotate_bytes) or at close,
 * and out_sink_close() writes manifest.json (atomically) listing every shard
 * with its record count, bytes and SHA-256 plus the scan metadata.
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

struct out_sink_config {
	const char *dir; /* results directory (shards + manifest); NULL = NDJSON lines on stdout */
	const char *geo_db;	 /* country mmdb path, NULL = none */
	const char *asn_db;	 /* ASN mmdb path, NULL = none */
	bool no_enrich;		 /* when false, a NULL or unreadable db is an error at open */
	uint64_t rotate_records; /* 0 = default (1,000,000) */
	uint64_t rotate_bytes;	 /* 0 = default (256 MiB) */
	bool compress;		 /* zstd shards */
};

struct out_meta { /* goes into manifest.json */
	const char *command_line;
	uint64_t seed;
	uint32_t shard, shards;
	const char *engine_json; /* the engine's metadata object as JSON text, or NULL */
};

/* The manifest's command_line: "mailcensus" and argv[0..argc) joined by
 * spaces, truncated to cap. */
void out_command_line(char *out, size_t cap, int argc, char **argv);

/* Open a sink: opens the databases, creates the directory if needed (it must
 * not already hold a manifest.json). 0, or -errno with a reason in err. */
int out_sink_open(struct out_sink **out, const struct out_sink_config *cfg, char *err,
		  size_t errlen);

/* Enrich, encode and append one record. 0, or -errno (e.g. -ENOSPC); after a
 * failure the sink refuses further records and out_sink_strerror() says why. */
int out_sink_put(struct out_sink *s, struct mc_record *rec);

/* Reason of the last failure ("" when none). */
const char *out_sink_strerror(const struct out_sink *s);

/* Seal the last shard, write the manifest, free the sink (always freed, even
 * on error). 0, or -errno with a reason in err. */
int out_sink_close(struct out_sink *s, const struct out_meta *meta, char *err, size_t errlen);

/* Throw a sink away before anything was meant to be written (the command
 * failed to start): no manifest; an open shard is removed under its
 * temporary name, and a results directory the sink created is removed when
 * no shard was sealed in it. */
void out_sink_discard(struct out_sink *s);

#endif
