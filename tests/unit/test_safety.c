/* The test-range guard refuses anything outside MAILCENSUS_SAFE_RANGE. */
#include <stdlib.h>
#include <string.h>

#include "base/ipv6.h"
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

static struct mc_ipv6 v6(const char *s)
{
	struct mc_ipv6 a = {{0}};

	CHECK_INT_EQ(mc_ipv6_parse(s, strlen(s), &a), 0);
	return a;
}

/* IPv6 (grab only): 2001:db8::/32 when the list names no IPv6 prefix. */
static void test_ipv6(void)
{
	char why[160] = "";
	struct mc_ipv6 a;

	unsetenv(MC_SAFE_RANGE_ENV);
	a = v6("2a00:1450::1");
	CHECK(mc_safe_allows6(&a, why, sizeof(why)));
	setenv(MC_SAFE_RANGE_ENV, "198.18.0.0/15", 1);
	a = v6("2001:db8:2::2");
	CHECK(mc_safe_allows6(&a, why, sizeof(why)));
	a = v6("2001:db9::1");
	CHECK(!mc_safe_allows6(&a, why, sizeof(why)));
	CHECK_STR_EQ(why, "target 2001:db9::1 is outside MAILCENSUS_SAFE_RANGE=198.18.0.0/15 "
			  "(IPv6: 2001:db8::/32)");
	a = v6("::ffff:198.18.1.1"); /* mapped IPv4 is not IPv4 here */
	CHECK(!mc_safe_allows6(&a, why, sizeof(why)));
	/* an explicit IPv6 prefix replaces the default; IPv4 checks skip it */
	setenv(MC_SAFE_RANGE_ENV, "198.18.0.0/15, fd00:1::/48", 1);
	a = v6("fd00:1:0:ffff::9");
	CHECK(mc_safe_allows6(&a, why, sizeof(why)));
	a = v6("2001:db8::1");
	CHECK(!mc_safe_allows6(&a, why, sizeof(why)));
	CHECK(mc_safe_allows(IP(198, 18, 1, 10), IP(198, 18, 1, 10), why, sizeof(why)));
	CHECK(!mc_safe_allows(IP(10, 0, 0, 1), IP(10, 0, 0, 1), why, sizeof(why)));
	setenv(MC_SAFE_RANGE_ENV, "198.18.0.0/15,2001:db8::/129", 1);
	a = v6("2001:db8::1");
	CHECK(!mc_safe_allows6(&a, why, sizeof(why)));
	/* prefixes that are not byte-aligned */
	struct mc_ipv6 net = v6("2001:db8:8000::");
	a = v6("2001:db8:bfff::1");
	CHECK(mc_ipv6_in(&a, &net, 34));
	a = v6("2001:db8:c000::1");
	CHECK(!mc_ipv6_in(&a, &net, 34));
	char text[MC_IPV6_STRLEN];
	a = v6("2001:0db8:0000:0000:0000:0000:0000:0001");
	CHECK_STR_EQ(mc_ipv6_format(&a, text), "2001:db8::1");
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
	RUN(test_ipv6);
	RUN(test_unset_allows);
	RUN(test_range);
	RUN(test_two_ranges_and_garbage);
	RUN(test_signed_prefix_refused);
	return test_summary();
}
