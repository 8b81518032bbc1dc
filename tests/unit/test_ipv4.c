/* test_ipv4.c — IPv4 text in one place: strict parse, CIDR, format. */
#include <errno.h>
#include <string.h>

#include "base/ipv4.h"
#include "tests/unit/test.h"

static void test_parse(void)
{
	static const char *const bad[] = {"",	      "1.2.3",	   "1.2.3.4.5", "256.1.1.1",
					  "1.2.3.-4", "0x1.2.3.4", " 1.2.3.4",	"1.2.3.4 ",
					  "1..2.3",   "a.b.c.d",   "1.2.3.4/8", "01.2.3.4"};
	uint32_t ip = 7;

	CHECK_INT_EQ(mc_ipv4_parse("198.18.0.2", 10, &ip), 0);
	CHECK_UINT_EQ(ip, 0xC6120002u);
	CHECK_INT_EQ(mc_ipv4_parse("0.0.0.0", 7, &ip), 0);
	CHECK_UINT_EQ(ip, 0);
	CHECK_INT_EQ(mc_ipv4_parse("255.255.255.255", 15, &ip), 0);
	CHECK_UINT_EQ(ip, 0xffffffffu);
	/* only len bytes are read: "1.2.3.4" of a longer buffer */
	CHECK_INT_EQ(mc_ipv4_parse("1.2.3.4:143", 7, &ip), 0);
	CHECK_UINT_EQ(ip, 0x01020304u);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ip = 7;
		CHECK_INT_EQ(mc_ipv4_parse(bad[i], strlen(bad[i]), &ip), -EINVAL);
		CHECK_UINT_EQ(ip, 7);
	}
	CHECK_INT_EQ(mc_ipv4_parse("1.2.3.4", 0, &ip), -EINVAL);
	CHECK_INT_EQ(mc_ipv4_parse("111.222.233.244.5", 17, &ip), -EINVAL);
}

static void test_cidr(void)
{
	static const char *const bad[] = {"1.2.3.4/",	"1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/123",
					  "1.2.3.4/8x", "/8",	      "1.2.3/8",    "1.2.3.4/ 8"};
	uint32_t f = 0, l = 0;

	CHECK_INT_EQ(mc_cidr_parse("198.18.16.77/20", &f, &l), 0);
	CHECK_UINT_EQ(f, 0xC6121000u);
	CHECK_UINT_EQ(l, 0xC6121FFFu);
	CHECK_INT_EQ(mc_cidr_parse("10.1.2.3", &f, &l), 0);
	CHECK_UINT_EQ(f, 0x0A010203u);
	CHECK_UINT_EQ(l, 0x0A010203u);
	CHECK_INT_EQ(mc_cidr_parse("1.2.3.4/0", &f, &l), 0);
	CHECK_UINT_EQ(f, 0);
	CHECK_UINT_EQ(l, 0xffffffffu);
	CHECK_INT_EQ(mc_cidr_parse("1.2.3.4/32", &f, &l), 0);
	CHECK_UINT_EQ(f, l);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT_EQ(mc_cidr_parse(bad[i], &f, &l), -EINVAL);
}

static void test_format_round_trip(void)
{
	char buf[MC_IPV4_STRLEN];
	uint64_t rnd = 3, bad = 0;

	CHECK_STR_EQ(mc_ipv4_format(0xC6120002u, buf), "198.18.0.2");
	CHECK_STR_EQ(mc_ipv4_format(0xffffffffu, buf), "255.255.255.255");
	CHECK_STR_EQ(mc_ipv4_format(0, buf), "0.0.0.0");
	for (int i = 0; i < 100000; i++) {
		uint32_t ip, back = 0;
		rnd = rnd * UINT64_C(6364136223846793005) + 1442695040888963407u;
		ip = (uint32_t)(rnd >> 32);
		mc_ipv4_format(ip, buf);
		bad += mc_ipv4_parse(buf, strlen(buf), &back) != 0 || back != ip;
	}
	CHECK_UINT_EQ(bad, 0);
}

int main(void)
{
	RUN(test_parse);
	RUN(test_cidr);
	RUN(test_format_round_trip);
	return test_summary();
}
