/* test_grab_opts.c — `mailcensus grab`'s option table, target lines and
 * whole target lists (cli/grab_opts.c). */
#include <errno.h>
#include <stdio.h>

#include "cli/grab_opts.h"
#include "tests/unit/test.h"

static void test_parse_target(void)
{
	uint32_t a = 0;
	uint16_t p = 0;

	CHECK_INT_EQ(grab_parse_target("198.18.1.10:143\n", &a, &p), 1);
	CHECK_UINT_EQ(a, 0xc612010au);
	CHECK_UINT_EQ(p, 143);
	CHECK_INT_EQ(grab_parse_target("  198.18.1.11,110  # comment\r\n", &a, &p), 1);
	CHECK_UINT_EQ(p, 110);
	CHECK_INT_EQ(grab_parse_target("# only a comment\n", &a, &p), 0);
	/* scan -o's CSV: header skipped, extra fields after ADDR,PORT allowed */
	CHECK_INT_EQ(grab_parse_target("saddr,sport,ttl,window,isn,time\n", &a, &p), 0);
	CHECK_INT_EQ(grab_parse_target("198.18.1.12,993,64,65160,3735928559,"
				       "2026-11-29T09:00:00.123456Z\n",
				       &a, &p),
		     1);
	CHECK_UINT_EQ(a, 0xC612010Cu);
	CHECK_UINT_EQ(p, 993);
	CHECK_INT_EQ(grab_parse_target("198.18.1.12:993:64\n", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target("198.18.1.12,993x\n", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target("   \n", &a, &p), 0);
	CHECK_INT_EQ(grab_parse_target("198.18.1.10\n", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target("198.18.1.10:0\n", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target("198.18.1.10:65536\n", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target("198.18.1:143\n", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target("198.18.1.10:14x\n", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target("198.18.1.10:-1\n", &a, &p), -EINVAL);
}

static void test_options(void)
{
	struct grab_opts o;
	char err[256];
	char *ok[] = {"grab",
		      "--concurrency",
		      "50",
		      "--read-timeout=0.5",
		      "--port",
		      "2143=imap",
		      "--no-tls-matrix",
		      "--no-login-probe",
		      "--workers",
		      "2",
		      "-"};
	char *bad1[] = {"grab", "--port", "2143=smtp"};
	char *bad2[] = {"grab", "--geo-db", "x.mmdb"};
	char *bad3[] = {"grab", "--timeout", "0"};
	char *rot[] = {"grab", "--shard-records", "2k", "--shard-bytes=64M"};
	char *bad4[] = {"grab", "--shard-records", "0"};
	char *bad5[] = {"grab", "--shard-bytes", "99999999999G"};

	CHECK_INT_EQ(grab_opts_parse(&o, 11, ok, err, sizeof(err)), 0);
	CHECK(!o.grab.login_probe);
	CHECK_UINT_EQ(o.grab.concurrency, 50);
	CHECK_UINT_EQ(o.grab.read_timeout_ms, 500);
	CHECK_INT_EQ(grab_port_proto(&o.grab, 2143), MC_PROTO_IMAP);
	CHECK_INT_EQ(grab_port_proto(&o.grab, 143), MC_PROTO_UNKNOWN);
	CHECK(!o.grab.tls_matrix);
	CHECK_UINT_EQ(o.workers, 2);
	CHECK_STR_EQ(o.input, "-");
	CHECK(o.sink.no_enrich);
	CHECK_INT_EQ(grab_opts_parse(&o, 3, bad1, err, sizeof(err)), -EINVAL);
	CHECK_INT_EQ(grab_opts_parse(&o, 3, bad2, err, sizeof(err)), -EINVAL);
	CHECK_INT_EQ(grab_opts_parse(&o, 3, bad3, err, sizeof(err)), -EINVAL);
	CHECK_INT_EQ(grab_opts_parse(&o, 4, rot, err, sizeof(err)), 0);
	CHECK(o.grab.login_probe); /* on by default */
	CHECK_UINT_EQ(o.sink.rotate_records, 2000);
	CHECK_UINT_EQ(o.sink.rotate_bytes, 64ull << 20);
	CHECK_INT_EQ(grab_opts_parse(&o, 3, bad4, err, sizeof(err)), -EINVAL);
	CHECK_INT_EQ(grab_opts_parse(&o, 3, bad5, err, sizeof(err)), -EINVAL);
}

/* Every result of a list, as "1:ADDR:PORT 0 -22 -7 ..." */
static const char *read_list(const char *text, size_t len)
{
	static char out[512];
	FILE *in = fmemopen((void *)text, len, "r");
	char line[256];
	size_t o = 0;
	uint32_t a;
	uint16_t p;
	int r;

	out[0] = '\0';
	while (in != NULL && (r = grab_read_target(in, line, sizeof(line), &a, &p)) != -ENODATA)
		o += (size_t)snprintf(out + o, sizeof(out) - o, r == 1 ? "%s1:%08x:%u" : "%s%d",
				      o ? " " : "", r == 1 ? a : (unsigned)r, p);
	if (in != NULL)
		fclose(in);
	return out;
}

/* Found while writing fuzz_targets (docs/fuzzing.md): `grab` read its list
 * with fgets() into 256 bytes, so the tail of a longer line came back as a
 * line of its own: a commented-out target after a long comment became a
 * target. Minimised input: '#', 254 'x', "8.8.8.8:110\n". Now the whole
 * line is one over-long line (-E2BIG) and the next line is read as itself. */
static void test_long_line_is_one_line(void)
{
	char text[600];
	int n = snprintf(text, sizeof(text), "#%0254d8.8.8.8:110\n198.18.1.11:143\n", 0);

	CHECK_STR_EQ(read_list(text, (size_t)n), "-7 1:c612010b:143");
	/* 254 bytes and the newline fit; one more does not */
	n = snprintf(text, sizeof(text), "%-254s\n%-255s\n", "198.18.1.10:110", "198.18.1.11:110");
	CHECK_STR_EQ(read_list(text, (size_t)n), "1:c612010a:110 -7");
}

static void test_lines(void)
{
	static const char text[] = "198.18.1.10:143\n"
				   "  198.18.1.11,110  # comment\r\n"
				   "\n"
				   "saddr,sport,ttl,window,isn,time\n"
				   "198.18.16.7,143,64,64240,1,2\n"
				   "not a target\n"
				   "198.18.1.12:993"; /* no newline at the end */

	CHECK_STR_EQ(read_list(text, sizeof(text) - 1),
		     "1:c612010a:143 1:c612010b:110 0 0 1:c6121007:143 -22 1:c612010c:993");
	/* a NUL byte inside a line refuses the line (it would cut the text) */
	CHECK_STR_EQ(read_list("198.18.1.10:143\0x\n198.18.1.10:110\n", 34), "-22 1:c612010a:110");
	CHECK_STR_EQ(read_list("", 0), "");
}

int main(void)
{
	RUN(test_parse_target);
	RUN(test_options);
	RUN(test_long_line_is_one_line);
	RUN(test_lines);
	return test_summary();
}
