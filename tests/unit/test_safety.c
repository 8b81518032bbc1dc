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

int main(void)
{
	RUN(test_unset_allows);
	RUN(test_range);
	RUN(test_two_ranges_and_garbage);
	return test_summary();
}
