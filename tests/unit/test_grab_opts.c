/* test_grab_opts.c — `mailcensus grab`'s option table and target lines (cli/grab_opts.c). */
#include <errno.h>
#include <stdio.h>

#include "cli/grab_opts.h"
#include "base/ipv6.h"
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

/* Targets may carry a DNS name: "ADDR:PORT NAME" or a third CSV column. */
static void test_parse_target_named(void)
{
	uint32_t a = 0;
	uint16_t p = 0;
	char name[MC_NAME_MAX], longname[300];

	CHECK_INT_EQ(grab_parse_target_named("198.18.1.10:993 mail.example.org  # c\n", &a, &p,
					     name, sizeof(name)),
		     1);
	CHECK_UINT_EQ(p, 993);
	CHECK_STR_EQ(name, "mail.example.org");
	CHECK_INT_EQ(grab_parse_target_named("198.18.1.10,110,pop.example.org\n", &a, &p, name,
					     sizeof(name)),
		     1);
	CHECK_STR_EQ(name, "pop.example.org");
	/* scan -o's numeric fields are not a name */
	CHECK_INT_EQ(
	    grab_parse_target_named("198.18.1.12,993,64,65160,1,x\n", &a, &p, name, sizeof(name)),
	    1);
	CHECK_STR_EQ(name, "");
	CHECK_INT_EQ(grab_parse_target_named("198.18.1.10:143\n", &a, &p, name, sizeof(name)), 1);
	CHECK_STR_EQ(name, "");
	CHECK_INT_EQ(
	    grab_parse_target_named("198.18.1.10:993 bad name\n", &a, &p, name, sizeof(name)),
	    -EINVAL);
	CHECK_INT_EQ(grab_parse_target_named("198.18.1.10:993 1234\n", &a, &p, name, sizeof(name)),
		     -EINVAL);
	CHECK_INT_EQ(grab_parse_target_named("198.18.1.10:993 a/b\n", &a, &p, name, sizeof(name)),
		     -EINVAL);
	memcpy(longname, "198.18.1.10:993 ", 16);
	memset(longname + 16, 'a', 260);
	longname[276] = '\0';
	CHECK_INT_EQ(grab_parse_target_named(longname, &a, &p, name, sizeof(name)), -EINVAL);
	longname[16 + 253] = '\0'; /* 253 bytes: the longest DNS name */
	CHECK_INT_EQ(grab_parse_target_named(longname, &a, &p, name, sizeof(name)), 1);
	CHECK_UINT_EQ(strlen(name), 253);
	/* the plain parser accepts a named line and drops the name */
	CHECK_INT_EQ(grab_parse_target("198.18.1.10:993 mail.example.org\n", &a, &p), 1);
}

/* IPv6 targets: "[ADDR]:PORT" (grab only). */
static void test_parse_target6(void)
{
	struct mc_ipv6 a, want;
	uint16_t p = 0;
	char text[MC_IPV6_STRLEN];

	CHECK_INT_EQ(grab_parse_target6("[2001:db8:1::2]:143\n", &a, &p), 1);
	CHECK_STR_EQ(mc_ipv6_format(&a, text), "2001:db8:1::2");
	CHECK_UINT_EQ(p, 143);
	CHECK_INT_EQ(grab_parse_target6("  [2001:DB8::A]:993  # comment\r\n", &a, &p), 1);
	CHECK_INT_EQ(mc_ipv6_parse("2001:db8::a", 11, &want), 0);
	CHECK(memcmp(a.b, want.b, 16) == 0);
	CHECK_UINT_EQ(p, 993);
	CHECK_INT_EQ(grab_parse_target6("[::ffff:198.18.1.1]:110", &a, &p), 1);
	/* not bracketed: the IPv4 parser's line */
	CHECK_INT_EQ(grab_parse_target6("198.18.1.10:143", &a, &p), 0);
	CHECK_INT_EQ(grab_parse_target6("", &a, &p), 0);
	/* broken */
	CHECK_INT_EQ(grab_parse_target6("[2001:db8::1]143", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target6("[2001:db8::1]:0", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target6("[2001:db8::1]:65536", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target6("[2001:db8::1]:143x", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target6("[2001:db8::g]:143", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target6("[198.18.1.1]:143", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target6("[fe80::1%eth0]:143", &a, &p), -EINVAL);
	CHECK_INT_EQ(grab_parse_target6("[2001:db8::1:143", &a, &p), -EINVAL);
	/* the IPv4 parser refuses a bracketed line (so read_targets tries IPv6) */
	uint32_t a4;
	CHECK(grab_parse_target("[2001:db8::1]:143", &a4, &p) < 0);
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
	/* fuzz_opts: "--port 0=imap" was refused with an empty reason (the
	 * CLI printed "mailcensus: " and nothing). Minimised input: grab --port 0=imap */
	char *port0[] = {"grab", "--port", "0=imap"};
	CHECK_INT_EQ(grab_opts_parse(&o, 3, port0, err, sizeof(err)), -EINVAL);
	CHECK_STR_EQ(err, "port 0 cannot be probed (--port 0=imap)");
}

/* Found while writing fuzz_targets (docs/fuzzing.md, bug 8): `grab` read
 * its list with fgets() into 256 bytes, so the tail of a longer line came
 * back as a line of its own: a commented-out target after a long comment
 * became a target. grab now reads whole lines (getline, cli/cmd_grab.c);
 * the minimised line, whole, is a comment, and an over-long target line is
 * refused as one. */
static void test_long_line_is_one_line(void)
{
	char text[700];
	uint32_t a = 0;
	uint16_t p = 0;

	snprintf(text, sizeof(text), "#%0254d8.8.8.8:110\n", 0);
	CHECK_INT_EQ(grab_parse_target(text, &a, &p), 0);
	snprintf(text, sizeof(text), "198.18.1.11:143 %0600d\n", 0);
	CHECK_INT_EQ(grab_parse_target(text, &a, &p), -EINVAL);
}

int main(void)
{
	RUN(test_parse_target);
	RUN(test_parse_target_named);
	RUN(test_parse_target6);
	RUN(test_options);
	RUN(test_long_line_is_one_line);
	return test_summary();
}
