/* grab_budget.c — the per-target CPU clock (see grab_budget.h). */
#include <time.h>

#include "probes/grab_budget.h"

int64_t grab_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
