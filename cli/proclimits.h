/* proclimits.h — process limits, decided by the command, not by the stages. */
#ifndef MC_CLI_PROCLIMITS_H
#define MC_CLI_PROCLIMITS_H

#include <stddef.h>

#include "probes/grabber.h"

/* Every connection is a descriptor: fit concurrency x workers (plus
 * GRAB_FD_SPARE) under RLIMIT_NOFILE. The soft limit is raised to what is
 * needed; the hard one too where allowed (it needs CAP_SYS_RESOURCE, which
 * a container may lack); otherwise cfg->concurrency is lowered and warn
 * says so (warn is "" when nothing changed). */
void cli_fit_fd_limit(struct grab_config *cfg, unsigned workers, char *warn, size_t warnlen);

#endif
