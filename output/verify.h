/* verify.h — recheck a results directory against its manifest (internal to output/). */
#ifndef MC_OUT_VERIFY_H
#define MC_OUT_VERIFY_H

#include <stdio.h>

/* Recheck every shard listed in DIR/manifest.json (size, SHA-256, record
 * count, each line a JSON object) and look for unlisted shards. Prints one
 * line per problem (and a summary) to `out`. Returns the number of problems
 * (0 = everything matches), or -errno when the manifest cannot be read. */
int out_verify_dir(const char *dir, FILE *out);

#endif
