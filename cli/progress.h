/* progress.h — the scan's once-a-second line on stderr, from the engine's
 * snapshots (the engine itself prints nothing). */
#ifndef MC_CLI_PROGRESS_H
#define MC_CLI_PROGRESS_H

#include "engine/engine.h"

struct scan_progress {
	struct engine_result prev; /* the previous snapshot, for rates */
	double prev_s;
	bool kernel_path; /* add the kernel path's counters (--kernel-path) */
};

/* engine_config.progress: ctx is a zeroed struct scan_progress (but for
 * kernel_path). */
void scan_progress_print(void *ctx, const struct engine_result *now, double elapsed_s,
			 uint64_t expected);

#endif
