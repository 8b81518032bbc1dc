/* test_diff.c — the diff's rule for better and worse, host folding, record
 * parsing and the bounded external sort (runs and merge passes). */
#include <stdlib.h>
#include <unistd.h>

#include "tests/unit/test.h"
#include "output/diff.h"
#include "output/json.h"
#include "output/record.h"

static struct diff_svc svc(enum mc_posture p, enum mc_tri ct, enum mc_tri t10, enum mc_tri t11)
{
	return (struct diff_svc){.ip = 1,
				 .port = 143,
				 .posture = (uint8_t)p,
				 .cleartext = (uint8_t)ct,
				 .tls10 = (uint8_t)t10,
				 .tls11 = (uint8_t)t11};
}

static void test_classify(void)
{
	unsigned r;
	struct diff_svc notls = svc(MC_POSTURE_NO_TLS, MC_TRI_YES, MC_TRI_UNKNOWN, MC_TRI_UNKNOWN);
	struct diff_svc req = svc(MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_NO, MC_TRI_NO);
	struct diff_svc opt10 =
	    svc(MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_YES, MC_TRI_NO);
	struct diff_svc opt = svc(MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_NO, MC_TRI_NO);
	struct diff_svc req10 = svc(MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_YES, MC_TRI_NO);
	struct diff_svc implicit = svc(MC_POSTURE_IMPLICIT_TLS, MC_TRI_NO, MC_TRI_NO, MC_TRI_NO);
	struct diff_svc unknown =
	    svc(MC_POSTURE_UNKNOWN, MC_TRI_UNKNOWN, MC_TRI_UNKNOWN, MC_TRI_UNKNOWN);

	/* no_tls -> starttls_required: posture up and cleartext closed */
	CHECK_INT_EQ(out_diff_classify(&notls, &req, &r), DIFF_IMPROVED);
	CHECK_UINT_EQ(r, DIFF_R_POSTURE_UP | DIFF_R_CLEARTEXT_CLOSED);
	CHECK_INT_EQ(out_diff_classify(&req, &notls, &r), DIFF_REGRESSED);
	CHECK_UINT_EQ(r, DIFF_R_POSTURE_DOWN | DIFF_R_CLEARTEXT_OPENED);
	/* TLS 1.0 dropped, nothing else */
	CHECK_INT_EQ(out_diff_classify(&opt10, &opt, &r), DIFF_IMPROVED);
	CHECK_UINT_EQ(r, DIFF_R_TLS10_DROPPED);
	CHECK_INT_EQ(out_diff_classify(&opt, &opt10, &r), DIFF_REGRESSED);
	CHECK_UINT_EQ(r, DIFF_R_TLS10_ADDED);
	/* TLS now required but TLS 1.0 came back: both */
	CHECK_INT_EQ(out_diff_classify(&opt, &req10, &r), DIFF_MIXED);
	CHECK_UINT_EQ(r, DIFF_R_POSTURE_UP | DIFF_R_CLEARTEXT_CLOSED | DIFF_R_TLS10_ADDED);
	/* required and implicit TLS rank the same */
	CHECK_INT_EQ(out_diff_classify(&req, &implicit, &r), DIFF_UNCHANGED);
	CHECK_UINT_EQ(r, 0);
	/* an answer measured only once is not a change; unknown postures are not ranked */
	CHECK_INT_EQ(out_diff_classify(&notls, &unknown, &r), DIFF_UNCHANGED);
	CHECK_INT_EQ(out_diff_classify(&unknown, &req, &r), DIFF_UNCHANGED);
	CHECK_UINT_EQ(r, 0);
	CHECK_STR_EQ(out_diff_change_name(DIFF_DISAPPEARED), "disappeared");
	CHECK_STR_EQ(out_diff_reason_name(4), "tls1_0_dropped");
}

static void test_fold(void)
{
	struct diff_svc h;
	struct diff_svc imaps = svc(MC_POSTURE_IMPLICIT_TLS, MC_TRI_NO, MC_TRI_YES, MC_TRI_NO);
	struct diff_svc pop = svc(MC_POSTURE_NO_TLS, MC_TRI_YES, MC_TRI_UNKNOWN, MC_TRI_UNKNOWN);
	struct diff_svc unk =
	    svc(MC_POSTURE_UNKNOWN, MC_TRI_UNKNOWN, MC_TRI_UNKNOWN, MC_TRI_UNKNOWN);

	unk.cc[0] = 'D', unk.cc[1] = 'E', unk.asn = 64500;
	out_diff_fold(&h, &unk, true);
	out_diff_fold(&h, &imaps, false);
	CHECK_INT_EQ(h.posture, MC_POSTURE_IMPLICIT_TLS); /* a ranked posture replaces unknown */
	CHECK_INT_EQ(h.tls10, MC_TRI_YES);
	CHECK_INT_EQ(h.cleartext, MC_TRI_NO);
	out_diff_fold(&h, &pop, false);
	CHECK_INT_EQ(h.posture, MC_POSTURE_NO_TLS); /* the weakest port decides */
	CHECK_INT_EQ(h.cleartext, MC_TRI_YES);	    /* any yes */
	CHECK_INT_EQ(h.tls10, MC_TRI_YES);
	CHECK_INT_EQ(h.tls11, MC_TRI_NO);
	CHECK(h.cc[0] == 'D' && h.cc[1] == 'E');
	CHECK_UINT_EQ(h.asn, 64500);
	/* the host lost its cleartext port: improved */
	struct diff_svc before = h, after;
	unsigned r;
	out_diff_fold(&after, &unk, true);
	out_diff_fold(&after, &imaps, false);
	CHECK_INT_EQ(out_diff_classify(&before, &after, &r), DIFF_IMPROVED);
	CHECK_UINT_EQ(r, DIFF_R_POSTURE_UP | DIFF_R_CLEARTEXT_CLOSED);
}

static void test_from_json(void)
{
	static const char rec[] =
	    "{\"ip\":\"198.18.1.10\",\"port\":143,\"proto\":\"imap\",\"posture\":"
	    "\"starttls_optional\",\"cleartext_login\":true,\"tls\":{\"versions\":{\"tls1_0\":true,"
	    "\"tls1_1\":false}},\"geo\":{\"country\":\"FR\"},\"asn\":{\"number\":64501},\"error\":"
	    "null}";
	static const char down[] = "{\"ip\":\"198.18.1.20\",\"port\":110,\"proto\":\"pop3\","
				   "\"error\":\"connect: connection refused\"}";
	struct out_json_arena a = {0};
	struct out_json *v;
	struct diff_svc s;
	char err[64];

	CHECK_INT_EQ(out_json_parse(&a, rec, sizeof(rec) - 1, &v, err, sizeof(err)), 0);
	CHECK_INT_EQ(out_diff_svc_from_json(v, &s), 0);
	CHECK_UINT_EQ(s.ip, 0xc612010a);
	CHECK_UINT_EQ(s.port, 143);
	CHECK_INT_EQ(s.proto, MC_PROTO_IMAP);
	CHECK_INT_EQ(s.posture, MC_POSTURE_STARTTLS_OPTIONAL);
	CHECK_INT_EQ(s.cleartext, MC_TRI_YES);
	CHECK_INT_EQ(s.tls10, MC_TRI_YES);
	CHECK_INT_EQ(s.tls11, MC_TRI_NO);
	CHECK(s.cc[0] == 'F' && s.cc[1] == 'R');
	CHECK_UINT_EQ(s.asn, 64501);
	out_json_arena_reset(&a);
	CHECK_INT_EQ(out_json_parse(&a, down, sizeof(down) - 1, &v, err, sizeof(err)), 0);
	CHECK_INT_EQ(out_diff_svc_from_json(v, &s), 1);
	out_json_arena_reset(&a);
	CHECK_INT_EQ(out_json_parse(&a, "{\"ip\":\"1.2.3\"}", 14, &v, err, sizeof(err)), 0);
	CHECK_INT_EQ(out_diff_svc_from_json(v, &s), -1);
	out_json_arena_free(&a);
}

/* 200,000 records through a 1,024-record buffer: 196 runs, merge passes, every
 * record back exactly once, in (ip, port) order. */
static void test_sort(void)
{
	char dir[] = "/tmp/mc-test-diff-XXXXXX", err[256];
	struct diff_sorter *s;
	const uint32_t n = 200000;
	uint64_t x = 7, sum_in = 0, sum_out = 0, records;
	unsigned runs, passes;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_INT_EQ(diff_sorter_new(&s, dir, "t", 1, err, sizeof(err)), 0);
	for (uint32_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		struct diff_svc v = {.ip = (uint32_t)(x >> 40), .port = (uint16_t)(x >> 20)};
		sum_in += (uint64_t)v.ip * 65536 + v.port;
		CHECK(diff_sorter_put(s, &v, err, sizeof(err)) == 0);
	}
	CHECK_INT_EQ(diff_sorter_finish(s, err, sizeof(err)), 0);
	struct diff_svc prev = {0}, v;
	uint32_t got = 0, unordered = 0;
	while (diff_sorter_next(s, &v) == 1) {
		if (got && (v.ip < prev.ip || (v.ip == prev.ip && v.port < prev.port)))
			unordered++;
		sum_out += (uint64_t)v.ip * 65536 + v.port;
		prev = v;
		got++;
	}
	diff_sorter_stats(s, &records, &runs, &passes);
	CHECK_UINT_EQ(got, n);
	CHECK_UINT_EQ(unordered, 0);
	CHECK_UINT_EQ(sum_out, sum_in);
	CHECK_UINT_EQ(records, n);
	CHECK(runs >= 196);
	CHECK(passes >= 2);
	diff_sorter_free(s);
	CHECK_INT_EQ(rmdir(dir), 0); /* every run file was removed */
}

int main(void)
{
	RUN(test_classify);
	RUN(test_fold);
	RUN(test_from_json);
	RUN(test_sort);
	return test_summary();
}
