/* quit.c — the one quit flag (quit.h). Lock-free atomics only: the
 * handler runs in signal context. */
#include "base/quit.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static _Atomic int quit_level;	/* enum mc_quit_level */
static _Atomic int quit_signal; /* first signal, 0 if none */

void mc_quit_request(int sig)
{
	int level = atomic_load_explicit(&quit_level, memory_order_relaxed);
	int none = 0;

	if (sig != 0)
		atomic_compare_exchange_strong(&quit_signal, &none, sig);
	while (level < MC_QUIT_ABANDON &&
	       !atomic_compare_exchange_weak(&quit_level, &level, level + 1))
		;
}

static void on_signal(int sig)
{
	mc_quit_request(sig);
}

int mc_quit_install(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return -errno;
	return 0;
}

int mc_quit_level(void)
{
	return atomic_load_explicit(&quit_level, memory_order_relaxed);
}

int mc_quit_signal(void)
{
	return atomic_load_explicit(&quit_signal, memory_order_relaxed);
}

const char *mc_quit_signal_name(int sig, char *buf, unsigned buflen)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	default:
		snprintf(buf, buflen, "signal %d", sig);
		return buf;
	}
}

void mc_quit_reset(void)
{
	atomic_store(&quit_level, MC_QUIT_NONE);
	atomic_store(&quit_signal, 0);
}
