/* proclimits.c — process limits (proclimits.h). */
#include "cli/proclimits.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

void cli_fit_fd_limit(struct grab_config *cfg, unsigned workers, char *warn, size_t warnlen)
{
	uint64_t need = (uint64_t)cfg->concurrency * workers + GRAB_FD_SPARE;
	struct rlimit rl;

	warn[0] = '\0';
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		struct rlimit up = {.rlim_cur = need, .rlim_max = need};

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
		cfg->concurrency = (uint32_t)((rl.rlim_max - GRAB_FD_SPARE) / workers);
		need = (uint64_t)cfg->concurrency * workers + GRAB_FD_SPARE;
		snprintf(warn, warnlen,
			 "descriptor limit %llu: concurrency lowered to %u per worker",
			 (unsigned long long)rl.rlim_max, cfg->concurrency);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur = need;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}
