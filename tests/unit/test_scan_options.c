/* scan_options: defaults, every flag's parsing, overlapping and missing
 * flags, EAL passthrough, and the EAL argument vector built from them. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test.h"
#include "engine/engine.h"
#include "cli/scan_options.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

static struct scan_options *opts;

/* Parse a NULL-terminated word list; returns the parser's result. */
static int parse(char *err, size_t errlen, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;

	va_start(ap, errlen);
	for (char *w = va_arg(ap, char *); w != NULL && argc < 63; w = va_arg(ap, char *))
		argv[argc++] = w;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return scan_options_parse(opts, argc, argv, err, errlen);
}

static void test_defaults(void)
{
	char err[256];

	CHECK_INT_EQ(parse(err, sizeof(err), "scan", "-S", "198.18.0.2", "--gateway-ip",
			   "198.18.0.254", "198.18.1.0/24", NULL),
		     0);
	CHECK_UINT_EQ(opts->nports, 4);
	CHECK_UINT_EQ(opts->ports[0], 110);
	CHECK_UINT_EQ(opts->ports[3], 995);
	CHECK(opts->rate_pps == 10000);
	CHECK_UINT_EQ(opts->probes, 1);
	CHECK_UINT_EQ(opts->cooldown_s, 8);
	CHECK_UINT_EQ(opts->shards, 1);
	CHECK_UINT_EQ(opts->tx_queues, 1);
	CHECK_UINT_EQ(opts->sport_first, 32768);
	CHECK_UINT_EQ(opts->sport_count, 61000 - 32768 + 1);
	CHECK_UINT_EQ(opts->ttl, 255);
	CHECK_UINT_EQ(opts->ncidrs, 1);
	CHECK_STR_EQ(opts->cidrs[0], "198.18.1.0/24");
	CHECK_UINT_EQ(opts->gw_ip, IP(198, 18, 0, 254));
	CHECK_INT_EQ(opts->npass, 0);
}

static void test_flags(void)
{
	char err[256];

	CHECK_INT_EQ(parse(err, sizeof(err), "scan", "-S", "198.18.0.2-198.18.0.4,198.18.0.9", "-G",
			   "02:00:00:0a:0b:ff", "-p", "143,993-995", "-B", "84k", "-P", "3", "-c",
			   "0", "--seed", "42", "--shards", "3", "--shard", "2", "--source-ports",
			   "40000-40009", "-n", "1k", "-t", "5", "--probe-ttl", "64", "-o",
			   "out.csv", "--output-format", "ndjson", "-m", "m.json", "--tx-queues",
			   "2", "-q", "10.0.0.0/8", "-w", "allow.txt", "--", "--vdev=net_null0",
			   "-l", "0-3", NULL),
		     0);
	CHECK_STR_EQ(err, "");
	CHECK_UINT_EQ(opts->nsrc_ips, 4);
	CHECK_UINT_EQ(opts->src_ips[2], IP(198, 18, 0, 4));
	CHECK_UINT_EQ(opts->src_ips[3], IP(198, 18, 0, 9));
	CHECK(opts->have_gw_mac && opts->gw_mac[3] == 0x0a && opts->gw_mac[5] == 0xff);
	CHECK_UINT_EQ(opts->nports, 4);
	CHECK(opts->rate_pps > 124.9 && opts->rate_pps < 125.1); /* 84 kbit/s of 84-byte frames */
	CHECK_UINT_EQ(opts->probes, 3);
	CHECK_UINT_EQ(opts->cooldown_s, 0);
	CHECK(opts->seed_set && opts->seed == 42);
	CHECK_UINT_EQ(opts->shard, 2);
	CHECK_UINT_EQ(opts->sport_first, 40000);
	CHECK_UINT_EQ(opts->sport_count, 10);
	CHECK_UINT_EQ(opts->max_targets, 1000);
	CHECK_UINT_EQ(opts->max_runtime_s, 5);
	CHECK_UINT_EQ(opts->ttl, 64);
	CHECK_INT_EQ(opts->format, SCAN_OUT_NDJSON);
	CHECK_UINT_EQ(opts->tx_queues, 2);
	CHECK(opts->quiet);
	CHECK_STR_EQ(opts->allow_file, "allow.txt");
	CHECK_INT_EQ(opts->npass, 3);
	CHECK_STR_EQ(opts->pass[0], "--vdev=net_null0");
}

static void expect_error(const char *what, int rc, const char *err)
{
	CHECK_INT_EQ(rc, -22);
	if (strstr(err, what) == NULL)
		TEST_FAIL_AT("error '%s' does not mention '%s'", err, what);
}

static void test_errors(void)
{
	char e[256];
	const char *gw = "--gateway-ip", *gwip = "198.18.0.254";

	expect_error("no targets", parse(e, sizeof(e), "scan", "-S", "1.2.3.4", gw, gwip, NULL), e);
	expect_error("0.0.0.0/0", parse(e, sizeof(e), "scan", "-S", "1.2.3.4", gw, gwip, NULL), e);
	expect_error("-S", parse(e, sizeof(e), "scan", gw, gwip, "198.18.1.1", NULL), e);
	expect_error("no gateway", parse(e, sizeof(e), "scan", "-S", "1.2.3.4", "198.18.1.1", NULL),
		     e);
	expect_error("overlap",
		     parse(e, sizeof(e), "scan", "-S", "1.2.3.4", gw, gwip, "-r", "1", "-B", "1M",
			   "198.18.1.1", NULL),
		     e);
	expect_error("overlap",
		     parse(e, sizeof(e), "scan", "-S", "1.2.3.4", gw, gwip, "-G",
			   "02:00:00:00:00:01", "198.18.1.1", NULL),
		     e);
	expect_error("--seed",
		     parse(e, sizeof(e), "scan", "-S", "1.2.3.4", gw, gwip, "--shards", "2",
			   "198.18.1.1", NULL),
		     e);
	expect_error("--shard 2",
		     parse(e, sizeof(e), "scan", "-S", "1.2.3.4", gw, gwip, "--seed", "1",
			   "--shards", "2", "--shard", "2", "198.18.1.1", NULL),
		     e);
	expect_error("unknown option '--nope'",
		     parse(e, sizeof(e), "scan", "--nope", "198.18.1.1", NULL), e);
	expect_error("missing value", parse(e, sizeof(e), "scan", "198.18.1.1", "-r", NULL), e);
	expect_error("bad rate", parse(e, sizeof(e), "scan", "-r", "fast", NULL), e);
	expect_error("bad source address",
		     parse(e, sizeof(e), "scan", "-S", "1.2.3.9-1.2.3.1", NULL), e);
	expect_error("bad gateway MAC", parse(e, sizeof(e), "scan", "-G", "02:00:00:00:00", NULL),
		     e);
	expect_error("bad source port range",
		     parse(e, sizeof(e), "scan", "--source-ports", "0-10", NULL), e);
	expect_error("TX queue count", parse(e, sizeof(e), "scan", "--tx-queues", "17", NULL), e);
	expect_error("--tx-queues 1",
		     parse(e, sizeof(e), "scan", "-S", "1.2.3.4", "--dry-run", "x.pcap",
			   "--tx-queues", "2", "198.18.1.1", NULL),
		     e);
	expect_error("overlaps with -o",
		     parse(e, sizeof(e), "scan", "-S", "1.2.3.4", "--dry-run", "x.pcap", "-o",
			   "x.csv", "198.18.1.1", NULL),
		     e);
}

static void test_eal_args(void)
{
	struct engine_eal_args *a = malloc(sizeof(*a));
	char err[256] = "";
	char *pass[] = {"--vdev=net_null0", "--file-prefix=mine", "-l", "0-2"};
	bool prefix = false, lcores = false, nohuge = false;

	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK_INT_EQ(engine_eal_args(a, NULL, NULL, 2, false, 4, pass, err, sizeof(err)), 0);
	for (int i = 0; i < a->argc; i++) {
		prefix |= strncmp(a->argv[i], "--file-prefix", 13) == 0;
		lcores |= strncmp(a->argv[i], "--lcores", 8) == 0;
		nohuge |= strcmp(a->argv[i], "--no-huge") == 0;
	}
	CHECK(nohuge);
	CHECK(prefix);	/* the passthrough one only: */
	CHECK(!lcores); /* -l given, so no default map */
	CHECK_STR_EQ(a->argv[a->argc - 1], "0-2");
	CHECK(a->argv[a->argc] == NULL);
	CHECK_INT_EQ(engine_eal_args(a, NULL, "x.pcap", 1, false, 0, NULL, err, sizeof(err)), 0);
	CHECK_STR_EQ(a->argv[a->argc - 1], "--vdev=net_pcap0,tx_pcap=x.pcap");
	CHECK_INT_EQ(engine_eal_args(a, "no-such-if0", NULL, 1, false, 0, NULL, err, sizeof(err)),
		     -19);
	CHECK(strstr(err, "unknown interface 'no-such-if0'") != NULL);
	CHECK_INT_EQ(engine_eal_args(a, "lo", NULL, 1, false, 1, pass, err, sizeof(err)), -22);
	CHECK(strstr(err, "overlaps") != NULL);
	free(a);
}

int main(void)
{
	unsetenv("MAILCENSUS_SAFE_RANGE");
	opts = malloc(sizeof(*opts));
	if (opts == NULL)
		return 1;
	RUN(test_defaults);
	RUN(test_flags);
	RUN(test_errors);
	RUN(test_eal_args);
	free(opts);
	return test_summary();
}
