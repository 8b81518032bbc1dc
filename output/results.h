/* results.h — walk the records of a results directory (internal to output/).
 *
 * One rule for which files hold a directory's records, shared by report,
 * diff and export: the shards its manifest.json lists, in order, or, without
 * a manifest, every shard-*.ndjson[.zst] in name order. Each line is parsed
 * and handed to the caller; a line that is not JSON is counted, not fatal. */
#ifndef MC_OUT_RESULTS_H
#define MC_OUT_RESULTS_H

#include <stdbool.h>
#include <stddef.h>

#include "output/json.h"

struct out_results_cb {
	/* The parsed manifest, before any shard (not called without one). 0 or -errno. */
	int (*manifest)(void *ctx, const struct out_json *manifest);
	/* One parsed line; the tree is valid until the callback returns. 0 or -errno. */
	int (*record)(void *ctx, const struct out_json *rec);
	/* A line that is not JSON (may be NULL). */
	void (*bad_line)(void *ctx);
	/* A shard was opened (may be NULL). */
	void (*shard)(void *ctx);
};

/* Every record of DIR. Sets *no_manifest when DIR has no manifest.json.
 * 0, or -errno with a reason in err (a callback's error stops the walk). */
int out_results_each(const char *dir, const struct out_results_cb *cb, void *ctx, bool *no_manifest,
		     char *err, size_t errlen);

#endif
