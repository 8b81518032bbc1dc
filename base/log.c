#include "log.h"

#include <stdio.h>
#include <stdlib.h>

/* Written once by the command-line parser before any thread starts. */
static enum mc_log_level log_level = MC_LOG_INFO;

static const char *const level_names[] = {
    [MC_LOG_ERROR] = "error",
    [MC_LOG_WARN] = "warning",
    [MC_LOG_INFO] = "info",
    [MC_LOG_DEBUG] = "debug",
};

void mc_log_set_level(enum mc_log_level level)
{
	log_level = level;
}

enum mc_log_level mc_log_get_level(void)
{
	return log_level;
}

void mc_log(enum mc_log_level level, const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mailcensus: %s: %s\n", level_names[level], line);
}

noreturn void mc_fatal(const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mailcensus: %s\n", line);
	exit(2);
}
