/* quit.h — the process's one quit flag, its only mutable global.
 *
 * One quit path for every command: the first SIGINT, SIGTERM or SIGHUP
 * asks for an orderly stop (level 1: stop sending, start no new probe,
 * let open probes end within their timeouts, seal what was written, mark
 * the run interrupted); a second one abandons at once (level 2: open
 * probes are dropped, the run is sealed as it is). Internal stops (a full
 * disk, say) raise the level without a signal. Readers poll; the handler
 * only stores. */
#ifndef MC_BASE_QUIT_H
#define MC_BASE_QUIT_H

enum mc_quit_level {
	MC_QUIT_NONE = 0,
	MC_QUIT_STOP = 1,    /* orderly: finish what is open, start nothing new */
	MC_QUIT_ABANDON = 2, /* at once: drop what is open */
};

/* Install the handler for SIGINT, SIGTERM and SIGHUP. 0 or -errno. */
int mc_quit_install(void);

/* Raise the level by one step, as a signal would; sig is the signal number
 * (0 for an internal stop). Async-signal-safe. */
void mc_quit_request(int sig);

/* The current level (enum mc_quit_level). */
int mc_quit_level(void);

/* The first signal that raised the level, 0 if none did. */
int mc_quit_signal(void);

/* "SIGINT", "SIGTERM", "SIGHUP", or "signal N"; buf holds at least 16 bytes
 * and is used only for the last form. */
const char *mc_quit_signal_name(int sig, char *buf, unsigned buflen);

/* Back to MC_QUIT_NONE (tests, and a process that runs two jobs). */
void mc_quit_reset(void);

#endif
