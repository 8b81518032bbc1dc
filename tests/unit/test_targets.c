/* test_targets.c — CIDR sets, the default and user blocklists, explicit
 * allow overrides, excluded counts, index <-> pair mapping, bad input. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/unit/test.h"
#include "engine/targets.h"

static const uint16_t port143[] = {143};
static const uint16_t port4[] = {110, 143, 993, 995};

static int build(struct targets **t, const char *const *cidrs, size_t n, const uint16_t *ports,
		 size_t nports, char *err)
{
	struct targets_spec spec = {.cidrs = cidrs,
				    .ncidrs = n,
				    .ports = ports,
				    .nports = nports,
				    .ignore_safe_range = true};

	return targets_build(t, &spec, err, 256);
}

static uint64_t reason_count(const struct targets *t, const char *name)
{
	const char *names[TARGETS_MAX_REASONS];
	uint64_t counts[TARGETS_MAX_REASONS];
	size_t n = targets_excluded(t, names, counts, TARGETS_MAX_REASONS);

	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return counts[i];
	return 0;
}

static void test_full_internet(void)
{
	const char *all[] = {"0.0.0.0/0"};
	struct targets *t;
	char err[256] = "";
	uint32_t addr;
	uint16_t port;

	CHECK_INT_EQ(build(&t, all, 1, port143, 1, err), 0);
	/* 2^32 minus the IANA special-purpose ranges (240/4 already holds 255.255.255.255) */
	CHECK_UINT_EQ(targets_addresses(t), UINT64_C(3702258432));
	CHECK_UINT_EQ(targets_pairs(t), UINT64_C(3702258432));
	CHECK_UINT_EQ(targets_excluded_total(t), UINT64_C(592708864));
	CHECK_UINT_EQ(reason_count(t, "default:10.0.0.0/8"), 16777216);
	CHECK_UINT_EQ(reason_count(t, "default:198.18.0.0/15"), 131072);
	CHECK_UINT_EQ(reason_count(t, "default:240.0.0.0/4"), 268435456);
	CHECK_UINT_EQ(reason_count(t, "default:255.255.255.255/32"), 0); /* counted under 240/4 */
	CHECK(!targets_index_of(t, 0xC6120101u, 143, &(uint64_t){0}));	 /* 198.18.1.1 */
	CHECK(!targets_index_of(t, 0x0A000001u, 143, &(uint64_t){0}));	 /* 10.0.0.1 */
	CHECK(targets_index_of(t, 0x01010101u, 143, &(uint64_t){0}));
	targets_pair(t, 0, &addr, &port);
	CHECK_UINT_EQ(addr, 0x01000000u);
	CHECK_UINT_EQ(port, 143);
	targets_pair(t, targets_pairs(t) - 1, &addr, &port);
	CHECK_UINT_EQ(addr, 0xDFFFFFFFu); /* 223.255.255.255 */
	targets_free(t);

	/* 4 ports: more than 2^32 pairs, and the mapping still round-trips */
	CHECK_INT_EQ(build(&t, all, 1, port4, 4, err), 0);
	CHECK_UINT_EQ(targets_pairs(t), UINT64_C(3702258432) * 4);
	for (uint64_t i = 0; i < targets_pairs(t); i += UINT64_C(1234567891)) {
		uint64_t back = ~UINT64_C(0);

		targets_pair(t, i, &addr, &port);
		CHECK(targets_index_of(t, addr, port, &back));
		CHECK_UINT_EQ(back, i);
	}
	targets_free(t);
}

static void test_explicit_allow_override(void)
{
	const char *testnet[] = {"198.18.1.0/24"};
	const char *both[] = {"0.0.0.0/0", "198.18.1.0/24"};
	const char *wide[] = {"198.0.0.0/8"};
	const char *host[] = {"198.18.1.10"};
	struct targets *t;
	char err[256] = "";
	uint64_t idx;

	CHECK_INT_EQ(build(&t, testnet, 1, port4, 4, err), 0);
	CHECK_UINT_EQ(targets_addresses(t), 256);
	CHECK_UINT_EQ(targets_pairs(t), 1024);
	CHECK_UINT_EQ(targets_excluded_total(t), 0);
	CHECK(targets_index_of(t, 0xC612010Au, 993, &idx));
	targets_free(t);

	CHECK_INT_EQ(build(&t, both, 2, port143, 1, err), 0);
	CHECK_UINT_EQ(targets_addresses(t), UINT64_C(3702258432) + 256);
	CHECK_UINT_EQ(reason_count(t, "default:198.18.0.0/15"), 131072 - 256);
	targets_free(t);

	/* 198/8 contains 198.18/15 and 198.51.100/24: both still apply */
	CHECK_INT_EQ(build(&t, wide, 1, port143, 1, err), 0);
	CHECK_UINT_EQ(targets_addresses(t), 16777216 - 131072 - 256);
	CHECK_UINT_EQ(reason_count(t, "default:198.51.100.0/24"), 256);
	targets_free(t);

	CHECK_INT_EQ(build(&t, host, 1, port143, 1, err), 0);
	CHECK_UINT_EQ(targets_addresses(t), 1);
	targets_free(t);

	/* naming a default range exactly is also "inside" it */
	CHECK_INT_EQ(build(&t, (const char *[]){"10.0.0.0/8"}, 1, port143, 1, err), 0);
	CHECK_UINT_EQ(targets_addresses(t), 16777216);
	targets_free(t);
}

static void test_overlap_and_mapping(void)
{
	const char *cidrs[] = {"1.0.0.0/9", "1.2.0.0/16", "1.0.0.0/8",
			       "5.5.5.5",   "5.5.5.4/31", "9.9.9.0/30"};
	const uint16_t ports[] = {995, 110, 995, 143};
	struct targets *t;
	char err[256] = "";
	uint32_t addr, first, last;
	uint16_t port;
	uint64_t idx, bad = 0;

	CHECK_INT_EQ(build(&t, cidrs, 6, ports, 4, err), 0);
	CHECK_UINT_EQ(targets_nports(t), 3); /* duplicate 995 dropped, order kept */
	CHECK_UINT_EQ(targets_port(t, 0), 995);
	CHECK_UINT_EQ(targets_port(t, 2), 143);
	CHECK_UINT_EQ(targets_addresses(t), 16777216 + 2 + 4);
	CHECK_UINT_EQ(targets_nintervals(t), 3);
	targets_interval(t, 1, &first, &last);
	CHECK_UINT_EQ(first, 0x05050504u);
	CHECK_UINT_EQ(last, 0x05050505u);
	for (uint64_t i = 0; i < targets_pairs(t); i += (i < 100 ? 1 : 9973)) {
		targets_pair(t, i, &addr, &port);
		bad += !targets_index_of(t, addr, port, &idx) || idx != i;
	}
	for (uint64_t i = targets_pairs(t) - 30; i < targets_pairs(t); i++) {
		targets_pair(t, i, &addr, &port);
		bad += !targets_index_of(t, addr, port, &idx) || idx != i;
	}
	CHECK_UINT_EQ(bad, 0);
	targets_pair(t, targets_pairs(t) - 1, &addr, &port);
	CHECK_UINT_EQ(addr, 0x09090903u);
	CHECK_UINT_EQ(port, 143);
	CHECK(!targets_index_of(t, 0x05050506u, 143, &idx)); /* between intervals */
	CHECK(!targets_index_of(t, 0x00FFFFFFu, 143, &idx)); /* below the first */
	CHECK(!targets_index_of(t, 0x0A000000u, 143, &idx)); /* above the last */
	CHECK(!targets_index_of(t, 0x01000000u, 993, &idx)); /* port not probed */
	targets_free(t);
}

static void test_whole_space_4_ports(void)
{
	const char *all[] = {"0.0.0.0/0"};
	struct targets_spec spec = {.cidrs = all,
				    .ncidrs = 1,
				    .ports = port4,
				    .nports = 4,
				    .no_default_blocklist = true,
				    .ignore_safe_range = true};
	struct targets *t;
	char err[256];
	uint32_t addr;
	uint16_t port;

	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), 0);
	CHECK_UINT_EQ(targets_pairs(t), UINT64_C(1) << 34);
	CHECK_UINT_EQ(targets_excluded_total(t), 0);
	targets_pair(t, (UINT64_C(1) << 34) - 1, &addr, &port);
	CHECK_UINT_EQ(addr, 0xFFFFFFFFu);
	CHECK_UINT_EQ(port, 995);
	targets_free(t);
}

static char *write_temp_n(const char *text, size_t n)
{
	static char paths[4][64];
	static int next;
	char *path = paths[next++ % 4];
	FILE *f;
	int fd;

	snprintf(path, 64, "/tmp/test_targets_XXXXXX");
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fwrite(text, 1, n, f);
	fclose(f);
	return path;
}

static char *write_temp(const char *text)
{
	return write_temp_n(text, strlen(text));
}

static void test_files(void)
{
	char *allow = write_temp("# test allowlist\n\n1.0.0.0/8\n  198.18.1.0/24   # testnet\n");
	char *block = write_temp("1.2.3.0/24 # comment\r\n1.2.4.5\n\t\n198.18.1.10\n");
	struct targets_spec spec = {.allow_file = allow,
				    .block_file = block,
				    .ports = port143,
				    .nports = 1,
				    .ignore_safe_range = true};
	struct targets *t;
	char err[256] = "";

	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), 0);
	CHECK_UINT_EQ(targets_addresses(t), 16777216 + 256 - 258);
	CHECK_UINT_EQ(reason_count(t, "blocklist-file"), 258);
	CHECK(!targets_index_of(t, 0xC612010Au, 143, &(uint64_t){0})); /* user block wins */
	CHECK(targets_index_of(t, 0xC612010Bu, 143, &(uint64_t){0}));
	targets_free(t);
	unlink(allow);
	unlink(block);
}

static void test_bad_input(void)
{
	const char *bad[] = {"1.2.3.4/33", "256.1.1.1",	 "1.2.3.4/", "",
			     "1.2.3",	   "1.2.3.4/8x", "1.2.3.4 "};
	const char *blocked[] = {"224.0.0.0/3", "240.0.0.0/3"}; /* both 224/3 = 224/4 + 240/4 */
	char *file = write_temp("1.0.0.0/8\n2.0.0.0/8\n1.2.3/40\n");
	struct targets_spec spec = {.allow_file = file, .ports = port143, .nports = 1};
	struct targets *t = NULL;
	char err[256] = "", want[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT_EQ(build(&t, &bad[i], 1, port143, 1, err), -EINVAL);
		CHECK(t == NULL);
		snprintf(want, sizeof(want), "bad CIDR '%s' (target argument 1)", bad[i]);
		CHECK_STR_EQ(err, want);
	}
	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "bad CIDR '1.2.3/40' in %s:3", file);
	CHECK_STR_EQ(err, want);
	unlink(file);
	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), -ENOENT);
	CHECK(strncmp(err, "cannot open /tmp/test_targets_", 30) == 0);
	CHECK_INT_EQ(build(&t, NULL, 0, port143, 1, err), -EINVAL);
	CHECK_STR_EQ(err, "no targets given (the whole Internet is 0.0.0.0/0)");
	CHECK_INT_EQ(build(&t, blocked, 2, port143, 1, err), -EINVAL);
	CHECK_STR_EQ(err, "every target is excluded by the blocklists");
	CHECK_INT_EQ(build(&t, blocked, 1, port143, 0, err), -EINVAL);
	CHECK_STR_EQ(err, "no ports given");
	CHECK_INT_EQ(build(&t, blocked, 1, (const uint16_t[]){0}, 1, err), -EINVAL);
	CHECK_STR_EQ(err, "port 0 cannot be probed");
}

static void test_safe_range(void)
{
	const char *outside[] = {"1.0.0.0/8"};
	const char *inside[] = {"198.18.1.0/24", "198.18.16.0/20"};
	struct targets_spec spec = {.ports = port143, .nports = 1};
	struct targets *t = NULL;
	char *old = getenv("MAILCENSUS_SAFE_RANGE");
	char saved[256] = "", err[256] = "";

	if (old != NULL)
		snprintf(saved, sizeof(saved), "%s", old);
	setenv("MAILCENSUS_SAFE_RANGE", "198.18.0.0/15", 1);
	spec.cidrs = outside;
	spec.ncidrs = 1;
	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), -EPERM);
	CHECK(t == NULL);
	CHECK(strstr(err, "1.0.0.0") != NULL);
	spec.cidrs = inside;
	spec.ncidrs = 2;
	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), 0);
	CHECK_UINT_EQ(targets_addresses(t), 256 + 4096);
	targets_free(t);
	if (old != NULL)
		setenv("MAILCENSUS_SAFE_RANGE", saved, 1);
	else
		unsetenv("MAILCENSUS_SAFE_RANGE");
}

static void test_port_lists(void)
{
	static const char *bad[] = {"", "0", "70000", "5-3", "1,,2", "abc", "1-", "-5", "143,"};
	uint16_t ports[8];
	size_t n = 0;
	char err[256] = "";

	CHECK_INT_EQ(targets_parse_ports("110,143,993-995", ports, 8, &n, err, sizeof(err)), 0);
	CHECK_UINT_EQ(n, 5);
	CHECK_UINT_EQ(ports[4], 995);
	CHECK_INT_EQ(targets_parse_ports("143,143,140-145", ports, 8, &n, err, sizeof(err)), 0);
	CHECK_UINT_EQ(n, 6);
	CHECK_UINT_EQ(ports[0], 143);
	CHECK_UINT_EQ(ports[1], 140);
	CHECK_INT_EQ(targets_parse_ports("1-9", ports, 8, &n, err, sizeof(err)), -EINVAL);
	CHECK_STR_EQ(err, "too many ports in '1-9' (at most 8)");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT_EQ(targets_parse_ports(bad[i], ports, 8, &n, err, sizeof(err)), -EINVAL);
	CHECK_STR_EQ(err, "bad port list '143,' (want e.g. 110,143,993-995; ports 1-65535)");
}

/* Random CIDRs: index_of and pair agree with a naive linear scan. Many
 * (3000: the 64 Ki-bucket rank table) and few (40: a small table, many
 * small intervals sharing a bucket). */
static void random_set_against_naive(int nc)
{
	enum { NC = 3000 };
	static char text[NC][24];
	const char *cidrs[NC];
	uint32_t rnd = 99, first[4096], last[4096];
	struct targets *t;
	char err[256] = "";
	uint64_t bad = 0;

	for (int i = 0; i < nc; i++) {
		uint32_t a = rnd = rnd * 1664525u + 1013904223u;
		unsigned len = 12 + (rnd >> 8) % 21; /* /12 .. /32 */

		snprintf(text[i], sizeof(text[i]), "%u.%u.%u.%u/%u", a >> 24, a >> 16 & 255,
			 a >> 8 & 255, a & 255, len);
		cidrs[i] = text[i];
	}
	struct targets_spec spec = {.cidrs = cidrs,
				    .ncidrs = (size_t)nc,
				    .ports = port4,
				    .nports = 4,
				    .no_default_blocklist = true,
				    .ignore_safe_range = true};
	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), 0);
	size_t niv = targets_nintervals(t);
	CHECK(niv > (size_t)nc / 30 && niv <= 4096);
	for (size_t i = 0; i < niv && i < 4096; i++)
		targets_interval(t, i, &first[i], &last[i]);
	for (int k = 0; k < 200000; k++) {
		uint32_t addr = rnd = rnd * 1664525u + 1013904223u, back;
		uint64_t idx, rank = 0;
		bool in = false;
		uint16_t port;

		if (k % 2) /* half of the probes near an interval edge */
			addr = (k % 4 == 1 ? first : last)[(rnd >> 5) % niv] + (rnd >> 30) - 1;
		for (size_t i = 0; i < niv && !in; i++) {
			if (addr >= first[i] && addr <= last[i]) {
				in = true;
				rank += addr - first[i];
			} else if (addr > last[i]) {
				rank += (uint64_t)last[i] - first[i] + 1;
			}
		}
		bad += targets_index_of(t, addr, 993, &idx) != in;
		if (in) {
			uint32_t bulk_addr;
			uint16_t bulk_port;

			bad += idx != rank * 4 + 2;
			targets_pair(t, idx, &back, &port);
			bad += back != addr || port != 993;
			targets_pair_bulk(t, &idx, 1, &bulk_addr, &bulk_port);
			bad += bulk_addr != addr || bulk_port != 993;
		}
	}
	CHECK_UINT_EQ(bad, 0);
	targets_free(t);
}

static void test_random_sets_against_naive(void)
{
	random_set_against_naive(3000);
	random_set_against_naive(40);
}

/* Check index -> pair for one index against plain division by nports in
 * the single interval 0.0.0.0/0 (address == index / nports), through
 * targets_pair() and targets_pair_bulk(); returns the number of mismatches. */
static uint64_t div_mismatches(const struct targets *t, const uint16_t *ports, uint64_t nports,
			       const uint64_t *idx, size_t n)
{
	uint32_t addr[64];
	uint16_t port[64];
	uint64_t bad = 0;

	targets_pair_bulk(t, idx, n, addr, port);
	for (size_t i = 0; i < n; i++) {
		uint32_t a1;
		uint16_t p1;

		targets_pair(t, idx[i], &a1, &p1);
		if (a1 != idx[i] / nports || p1 != ports[idx[i] % nports] || addr[i] != a1 ||
		    port[i] != p1) {
			if (bad++ < 5)
				fprintf(stderr,
					"nports %" PRIu64 " index %" PRIu64
					": %08x/%u bulk %08x/%u, want %08x/%u\n",
					nports, idx[i], a1, p1, addr[i], port[i],
					(unsigned)(idx[i] / nports), ports[idx[i] % nports]);
		}
	}
	return bad;
}

/* The reciprocal for index / nports against the plain division, for many
 * port counts (powers of two, neighbours, primes, random) and indexes up to
 * 2^32 x 65535 (about 2^48): quotient edges, 2^32 multiples, random. */
static void test_division_against_plain(void)
{
	static uint16_t ports[65535];
	static const uint16_t fixed[] = {1,    2,     3,     4,	    5,	   6,	  7,	 8,
					 10,   12,    100,   127,   128,   129,	  255,	 256,
					 257,  1000,  1023,  1024,  1025,  4095,  4096,	 4097,
					 9973, 28246, 32767, 32768, 32769, 65521, 65534, 65535};
	const char *all[] = {"0.0.0.0/0"};
	uint64_t bad = 0, rnd = 12345, tried = 0;

	for (uint32_t i = 0; i < 65535; i++)
		ports[i] = (uint16_t)(65535 - (i * 7919u) % 65535); /* distinct, not in order */
	for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]) + 64; k++) {
		uint64_t d = k < sizeof(fixed) / sizeof(fixed[0]) ? fixed[k] : 0, pairs, idx[64];
		struct targets_spec spec = {.cidrs = all,
					    .ncidrs = 1,
					    .ports = ports,
					    .no_default_blocklist = true,
					    .ignore_safe_range = true};
		struct targets *t;
		char err[256] = "";
		size_t n = 0;

		rnd = rnd * UINT64_C(6364136223846793005) + 1442695040888963407u;
		if (d == 0)
			d = 1 + (rnd >> 33) % 65535;
		spec.nports = d;
		CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), 0);
		if (t == NULL)
			continue;
		pairs = targets_pairs(t);
		CHECK_UINT_EQ(pairs, d << 32);
		/* edges: first, last, around quotient boundaries low and high, 2^32 multiples */
		for (uint64_t q = 0; q < 3; q++) {
			idx[n++] = q * d;
			idx[n++] = q * d + d - 1;
			idx[n++] = pairs - 1 - q * d;
			idx[n++] = pairs - q * d - d;
			idx[n++] = ((UINT64_C(1) << 32) + q - 1) % pairs;
			idx[n++] = (((q + 1) << 32) * 7 + d / 2) % pairs;
		}
		CHECK_INT_EQ(n, 18);
		bad += div_mismatches(t, ports, d, idx, n);
		for (int round = 0; round < 40; round++) {
			for (n = 0; n < 64; n++) {
				rnd = rnd * UINT64_C(6364136223846793005) + 1442695040888963407u;
				idx[n] = (rnd >> 11) % pairs; /* 53 random bits, beyond 2^48 */
			}
			bad += div_mismatches(t, ports, d, idx, n);
		}
		tried++;
		targets_free(t);
	}
	CHECK_UINT_EQ(tried, 96);
	CHECK_UINT_EQ(bad, 0);
}

/* A multi-interval space over 2^32 (0.0.0.0/0 minus the default blocklist x
 * 1000 ports, 3.7e12 pairs): bulk and single agree, port == ports[i % 1000]
 * by plain division, and the pair maps back to its index. */
static void test_bulk_multi_interval(void)
{
	static uint16_t ports[1000];
	const char *all[] = {"0.0.0.0/0"};
	struct targets *t;
	char err[256] = "";
	uint64_t rnd = 777, bad = 0, idx[64];
	uint32_t addr[64];
	uint16_t port[64];

	for (int i = 0; i < 1000; i++)
		ports[i] = (uint16_t)(1000 - i);
	CHECK_INT_EQ(build(&t, all, 1, ports, 1000, err), 0);
	CHECK_UINT_EQ(targets_pairs(t), UINT64_C(3702258432) * 1000);
	for (int round = 0; round < 2000; round++) {
		for (int i = 0; i < 64; i++) {
			rnd = rnd * UINT64_C(6364136223846793005) + 1442695040888963407u;
			idx[i] = (rnd >> 11) % targets_pairs(t);
		}
		targets_pair_bulk(t, idx, 64, addr, port);
		for (int i = 0; i < 64; i++) {
			uint32_t a1;
			uint16_t p1;
			uint64_t back = UINT64_MAX;

			targets_pair(t, idx[i], &a1, &p1);
			bad += a1 != addr[i] || p1 != port[i] || p1 != ports[idx[i] % 1000];
			bad += !targets_index_of(t, a1, p1, &back) || back != idx[i];
		}
	}
	CHECK_UINT_EQ(bad, 0);
	targets_free(t);
}

/* Builds spec with allow file text[0..n) and expects err == want ("%s" is the path). */
static void check_file_error(const char *text, size_t n, const char *want_fmt)
{
	char *file = write_temp_n(text, n);
	struct targets_spec spec = {
	    .allow_file = file, .ports = port143, .nports = 1, .ignore_safe_range = true};
	struct targets *t = NULL;
	char err[512] = "", want[512];

	snprintf(want, sizeof(want), want_fmt, file);
	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), -EINVAL);
	CHECK(t == NULL);
	CHECK_STR_EQ(err, want);
	unlink(file);
}

/* Open finding 2 of docs/fuzzing.md (fuzz_targets): a NUL byte in an
 * allow/block list was reported as "line too long" (fgets() hid the newline
 * after it), and text after a NUL in a last line without a newline was
 * ignored ("198.18.0.1\0junk" read as 198.18.0.1). Minimised input: "\0\n". */
static void test_nul_and_long_lines(void)
{
	char line[300];
	struct targets *t = NULL;
	char err[256] = "";

	check_file_error("\0\n", 2, "NUL byte in %s:1");
	check_file_error("198.18.0.0/24\n198.18.0.1\0junk", 30, "NUL byte in %s:2");
	check_file_error("# x\n\n198.18.1.0/24 #\0\n", 23, "NUL byte in %s:3");
	/* 255 bytes is a line, 256 is too long (last line with or without newline) */
	memset(line, '#', 255);
	memcpy(line + 255, "\n198.18.0.1\n", 12);
	char *file = write_temp_n(line, 267);
	struct targets_spec spec = {
	    .allow_file = file, .ports = port143, .nports = 1, .ignore_safe_range = true};
	CHECK_INT_EQ(targets_build(&t, &spec, err, sizeof(err)), 0);
	CHECK(t != NULL && targets_addresses(t) == 1);
	targets_free(t);
	unlink(file);
	memcpy(line, "198.18.0.1\n", 11);
	memset(line + 11, ' ', 256);
	check_file_error(line, 267, "line too long in %s:2 (at most 255 bytes)");
	line[267] = '\n';
	check_file_error(line, 268, "line too long in %s:2 (at most 255 bytes)");
}

int main(void)
{
	RUN(test_full_internet);
	RUN(test_explicit_allow_override);
	RUN(test_overlap_and_mapping);
	RUN(test_whole_space_4_ports);
	RUN(test_files);
	RUN(test_bad_input);
	RUN(test_safe_range);
	RUN(test_port_lists);
	RUN(test_random_sets_against_naive);
	RUN(test_division_against_plain);
	RUN(test_bulk_multi_interval);
	RUN(test_nul_and_long_lines);
	return test_summary();
}
