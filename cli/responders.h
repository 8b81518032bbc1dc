/* responders.h — the consumer of the hit ring used by `scan -o FILE`:
 * one line per responder, CSV (saddr,sport,ttl,window,isn,time) or NDJSON.
 * The file is written as FILE.tmp and renamed into place only when the scan
 * ends well, so a failed scan leaves nothing half-written. */
#ifndef MC_ENGINE_RESPONDERS_H
#define MC_ENGINE_RESPONDERS_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"
#include "cli/scan_options.h"

struct responders {
	FILE *f;
	bool to_stdout;
	enum scan_output_format format;
	char path[PATH_MAX], tmp[PATH_MAX];
	struct mc_spsc *ring;
	pthread_t thread;
	bool running;
	uint64_t written;
	int error; /* -errno of the first write error */
};

/* Open path.tmp (or stdout for "-"). 0 or -errno with a reason in err. */
int responders_open(struct responders *w, const char *path, enum scan_output_format format,
		    char *err, size_t errlen);

/* The engine_consumer whose start/finish run the writer thread. */
struct engine_consumer responders_consumer(struct responders *w);

/* Rename path.tmp to path (keep = true) or remove it. 0 or -errno. */
int responders_close(struct responders *w, bool keep, char *err, size_t errlen);

#endif
