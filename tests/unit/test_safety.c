/* The test-range guard refuses anything outside MAILCENSUS_SAFE_RANGE. */
#include <stdlib.h>

#include "base/safety.h"
#include "tests/unit/test.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

static void test_unset_allows(void)
{
	char why[128] = "";

	unsetenv(MC_SAFE_RANGE_ENV);
	CHECK(mc_safe_allows(0, UINT32_MAX, why, sizeof(why)));
}

static void test_range(void)
{
	char why[128] = "";

	setenv(MC_SAFE_RANGE_ENV, "198.18.0.0/15", 1);
	CHECK(mc_safe_allows(IP(198, 18, 0, 0), IP(198, 19, 255, 255), why, sizeof(why)));
	CHECK(mc_safe_allows(IP(198, 18, 1, 10), IP(198, 18, 1, 10), why, sizeof(why)));
	CHECK(!mc_safe_allows(IP(198, 17, 255, 255), IP(198, 18, 0, 5), why, sizeof(why)));
	CHECK_STR_EQ(why, "target 198.17.255.255 is outside MAILCENSUS_SAFE_RANGE=198.18.0.0/15");
	CHECK(!mc_safe_allows(IP(198, 19, 255, 255), IP(198, 20, 0, 0), why, sizeof(why)));
	CHECK(!mc_safe_allows(0, UINT32_MAX, why, sizeof(why)));
	CHECK(!mc_safe_allows(IP(8, 8, 8, 8), IP(8, 8, 8, 8), why, sizeof(why)));
}

static void test_two_ranges_and_garbage(void)
{
	char why[128] = "";

	setenv(MC_SAFE_RANGE_ENV, "127.0.0.0/8,198.18.0.0/15", 1);
	CHECK(mc_safe_allows(IP(127, 0, 0, 1), IP(127, 0, 0, 1), why, sizeof(why)));
	CHECK(!mc_safe_allows(IP(126, 255, 255, 255), IP(127, 0, 0, 1), why, sizeof(why)));
	setenv(MC_SAFE_RANGE_ENV, "198.18.0.0/33", 1);
	CHECK(!mc_safe_allows(IP(198, 18, 0, 1), IP(198, 18, 0, 1), why, sizeof(why)));
	setenv(MC_SAFE_RANGE_ENV, "nonsense", 1);
	CHECK(!mc_safe_allows(IP(198, 18, 0, 1), IP(198, 18, 0, 1), why, sizeof(why)));
}

/* fuzz_targets bug: strtol() took a sign after the slash, so a mistyped
 * "198.18.0.0/-0" parsed as /0 and the guard allowed every address.
 * Minimised reproducer (the variable's value): "198.18.0.0/-0". A prefix
 * length is digits only now; a list that does not parse refuses all. */
static void test_signed_prefix_refused(void)
{
	static const char *const bad[] = {"198.18.0.0/-0", "198.18.0.0/+15", "198.18.0.0/-15",
					  "0.0.0.0/+0"};
	char why[160] = "";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv(MC_SAFE_RANGE_ENV, bad[i], 1);
		CHECK(!mc_safe_allows(IP(8, 8, 8, 8), IP(8, 8, 8, 8), why, sizeof(why)));
		CHECK(!mc_safe_allows(IP(198, 18, 0, 1), IP(198, 18, 0, 1), why, sizeof(why)));
		CHECK(strstr(why, "does not parse") != NULL);
	}
	setenv(MC_SAFE_RANGE_ENV, "198.18.0.0/15", 1);
	CHECK(mc_safe_allows(IP(198, 18, 0, 1), IP(198, 18, 0, 1), why, sizeof(why)));
}

int main(void)
{
	RUN(test_unset_allows);
	RUN(test_range);
	RUN(test_two_ranges_and_garbage);
	RUN(test_signed_prefix_refused);
	return test_summary();
}
