/* verify.h — recheck a results directory against its manifest (internal to output/). */
#ifndef MC_OUT_VERIFY_H
#define MC_OUT_VERIFY_H

#include <stdbool.h>
#include <stdio.h>

/* Recheck every shard listed in DIR/manifest.json (size, SHA-256, record
 * count, each line a JSON object) and look for unlisted shards (in a run
 * that did not finish, a whole shard newer than every listed one is a note:
 * it was sealed after the last manifest write). Prints the run's state,
 * one line per problem and a summary to `out`. Returns the number of
 * problems (0 = everything matches), or -errno when the manifest cannot be
 * read or is not a manifest; *complete says whether the run finished. */
int out_verify_dir(const char *dir, bool *complete, FILE *out);

#endif
