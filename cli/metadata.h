/* metadata.h — the scan's metadata, built once in memory.
 *
 * One JSON object (version, arguments, seed, shard, targets, exclusions by
 * reason, counters, drops, times) serves both `scan -m FILE` and the
 * census manifest's "engine" member: no temporary file passes it between
 * the stages. Strings go through output's one escaper, so UTF-8 in the
 * arguments stays UTF-8. */
#ifndef MC_CLI_METADATA_H
#define MC_CLI_METADATA_H

#include <stddef.h>

#include "engine/engine.h"

/* The metadata as one NUL-terminated JSON line (newline included) in a
 * malloc'd buffer *out of *len bytes. 0, or -ENOMEM. */
int scan_metadata_json(const struct engine_config *cfg, const struct engine_result *res, int argc,
		       char **argv, char **out, size_t *len);

#endif
