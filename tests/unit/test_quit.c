/* test_quit.c — the one quit flag: levels, the first signal, real signals
 * through the installed handler. */
#include <signal.h>

#include "base/quit.h"
#include "tests/unit/test.h"

static void test_levels(void)
{
	char buf[16];

	mc_quit_reset();
	CHECK_INT_EQ(mc_quit_level(), MC_QUIT_NONE);
	CHECK_INT_EQ(mc_quit_signal(), 0);
	mc_quit_request(0); /* internal stop: no signal recorded */
	CHECK_INT_EQ(mc_quit_level(), MC_QUIT_STOP);
	CHECK_INT_EQ(mc_quit_signal(), 0);
	mc_quit_request(SIGTERM);
	CHECK_INT_EQ(mc_quit_level(), MC_QUIT_ABANDON);
	CHECK_INT_EQ(mc_quit_signal(), SIGTERM);
	mc_quit_request(SIGINT); /* saturates; the first signal stays */
	CHECK_INT_EQ(mc_quit_level(), MC_QUIT_ABANDON);
	CHECK_INT_EQ(mc_quit_signal(), SIGTERM);
	CHECK_STR_EQ(mc_quit_signal_name(SIGHUP, buf, sizeof(buf)), "SIGHUP");
	CHECK_STR_EQ(mc_quit_signal_name(SIGUSR1, buf, sizeof(buf)), "signal 10");
}

static void test_real_signals(void)
{
	mc_quit_reset();
	CHECK_INT_EQ(mc_quit_install(), 0);
	CHECK_INT_EQ(raise(SIGHUP), 0);
	CHECK_INT_EQ(mc_quit_level(), MC_QUIT_STOP);
	CHECK_INT_EQ(mc_quit_signal(), SIGHUP);
	CHECK_INT_EQ(raise(SIGINT), 0);
	CHECK_INT_EQ(mc_quit_level(), MC_QUIT_ABANDON);
	CHECK_INT_EQ(mc_quit_signal(), SIGHUP);
	mc_quit_reset();
}

int main(void)
{
	RUN(test_levels);
	RUN(test_real_signals);
	return test_summary();
}
