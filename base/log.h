/* log.h — the one logging interface of mailcensus.
 *
 * Messages go to stderr, one line each, prefixed with the level. Libraries do
 * not call these on a per-packet or per-connection path: they bump counters or
 * return a reason string, and the command that called them decides what to
 * print. */
#ifndef MC_LOG_H
#define MC_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

enum mc_log_level {
	MC_LOG_ERROR = 0,
	MC_LOG_WARN,
	MC_LOG_INFO,
	MC_LOG_DEBUG,
};

/* Set once at start-up from the command line; read-only afterwards. */
void mc_log_set_level(enum mc_log_level level);
enum mc_log_level mc_log_get_level(void);

void mc_log(enum mc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) mc_log(MC_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  mc_log(MC_LOG_WARN, __VA_ARGS__)
#define log_info(...)  mc_log(MC_LOG_INFO, __VA_ARGS__)
#define log_debug(...) mc_log(MC_LOG_DEBUG, __VA_ARGS__)

/* For start-up errors and broken invariants only: prints "mailcensus: MSG"
 * and exits with status 2 (the command-line error status). */
noreturn void mc_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
