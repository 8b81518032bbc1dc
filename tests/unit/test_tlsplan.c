/* test_tlsplan.c — the hello plan against modelled servers: which hellos
 * are sent, what the record ends up saying, and that the connection budget
 * holds. A model server answers like a real stack: the highest version it
 * shares with the hello, then its first preferred suite that was offered
 * for that version, else a refusal. */
#include "tests/unit/test.h"
#include "probes/tlsplan.h"

struct model {
	const char *name;
	uint16_t versions[6]; /* accepted wire versions, 0-terminated */
	uint16_t suites[8];   /* server preference, 0-terminated */
	bool hrr;	      /* TLS 1.3 via HelloRetryRequest */
	bool ssl2;
	uint16_t main_version; /* what the main OpenSSL session got (0: failed) */
	unsigned budget;
	/* expected cells: ssl2, ssl3, 1.0, 1.1, 1.2, 1.3; then rc4 3des des export null anon */
	enum mc_tri want_ver[6];
	enum mc_tri want_fam[MC_LEGACY_COUNT];
	unsigned want_probes;
};

#define Y MC_TRI_YES
#define N MC_TRI_NO
#define U MC_TRI_UNKNOWN

static const struct model models[] = {
    {"modern 1.2-1.3, main 1.3, STARTTLS (inject used one)",
     {PROBE_TLS12, PROBE_TLS13},
     {0x1301, 0xc02f, 0x009c},
     false,
     false,
     PROBE_TLS13,
     3,
     {U, N, N, N, Y, Y},
     {N, N, N, N, N, N},
     3},
    {"dovecot legacy 1.0-1.2, main 1.2, budget 3",
     {PROBE_TLS10, PROBE_TLS11, PROBE_TLS12},
     {0xc02f, 0xc013},
     false,
     false,
     PROBE_TLS12,
     3,
     {U, U, Y, Y, Y, N},
     {N, N, N, N, N, N},
     3},
    {"dovecot legacy 1.0-1.2, main 1.2, budget 4",
     {PROBE_TLS10, PROBE_TLS11, PROBE_TLS12},
     {0xc02f, 0xc013},
     false,
     false,
     PROBE_TLS12,
     4,
     {U, N, Y, Y, Y, N},
     {N, N, N, N, N, N},
     4},
    {"SSLv3 + RC4 only, main failed",
     {PROBE_SSL3},
     {0x0005, 0x0004},
     false,
     false,
     0,
     4,
     {N, Y, N, N, N, N},
     {Y, N, N, N, N, N},
     3},
    {"SSLv2 and SSLv3 + RC4, main failed",
     {PROBE_SSL3},
     {0x0005},
     false,
     true,
     0,
     4,
     {Y, Y, N, N, N, N},
     {Y, N, N, N, N, N},
     3},
    {"TLS 1.0 + 3DES only, main failed",
     {PROBE_TLS10},
     {0x000a},
     false,
     false,
     0,
     4,
     {U, N, Y, N, N, N},
     {N, Y, N, N, N, N},
     3},
    {"TLS 1.3 only, main 1.3",
     {PROBE_TLS13},
     {0x1301},
     false,
     false,
     PROBE_TLS13,
     3,
     {U, N, N, N, N, Y},
     {N, N, N, N, N, N},
     1},
    {"TLS 1.3 by HelloRetryRequest only, main failed",
     {PROBE_TLS13},
     {0x1302},
     true,
     false,
     0,
     4,
     {U, N, N, N, N, Y},
     {N, N, N, N, N, N},
     2},
    {"1.0 and 1.2 without 1.1, main 1.2",
     {PROBE_TLS10, PROBE_TLS12},
     {0xc02f, 0x002f},
     false,
     false,
     PROBE_TLS12,
     3,
     {U, N, Y, N, Y, N},
     {N, N, N, N, N, N},
     3},
    {"many legacy families at 1.0, budget runs out",
     {PROBE_TLS10},
     {0x0005, 0x000a, 0x0003, 0x0034},
     false,
     false,
     0,
     4,
     {U, N, Y, N, N, N},
     {Y, Y, U, Y, U, U},
     4},
    {"NULL and anonymous at 1.2 only, main failed",
     {PROBE_TLS12},
     {0x003b, 0xc018},
     false,
     false,
     0,
     4,
     {U, N, N, N, Y, N},
     {N, N, N, N, Y, Y},
     4},
};

static bool has_version(const struct model *m, uint16_t v)
{
	for (int i = 0; m->versions[i]; i++)
		if (m->versions[i] == v)
			return true;
	return false;
}

/* The model's answer to a hello. */
static enum probe_plan_outcome
model_answer(const struct model *m, const struct probe_hello_spec *sp, struct probe_hello_result *r)
{
	uint16_t v = 0;

	memset(r, 0, sizeof(*r));
	if (sp->version == PROBE_SSL2) {
		if (!m->ssl2)
			return PLAN_REFUSED;
		r->kind = PROBE_HELLO_SSL2;
		r->version = PROBE_SSL2;
		r->ssl2_ciphers = 1;
		return PLAN_ANSWERED;
	}
	for (uint16_t x = PROBE_SSL3; x <= sp->version; x++)
		if (has_version(m, x))
			v = x;
	if (v == 0)
		return PLAN_REFUSED;
	for (int i = 0; m->suites[i]; i++) {
		uint32_t f = probe_suite_families(m->suites[i]);
		bool s13 = f == PROBE_FAM_BIT(PROBE_FAM_TLS13);

		if ((f & sp->families) && s13 == (v == PROBE_TLS13)) {
			r->kind = v == PROBE_TLS13 && m->hrr ? PROBE_HELLO_RETRY
							     : PROBE_HELLO_SERVER_HELLO;
			r->version = v;
			r->suite = m->suites[i];
			return PLAN_ANSWERED;
		}
	}
	r->kind = PROBE_HELLO_ALERT;
	r->alert_level = 2;
	r->alert_desc = 40;
	return PLAN_ANSWERED;
}

static void run_model(const struct model *m, struct mc_tls *tls)
{
	struct probe_plan p;
	struct probe_hello_spec sp;
	struct probe_hello_result r;
	unsigned sent = 0;

	memset(tls, 0, sizeof(*tls));
	if (m->main_version != 0)
		*probe_plan_cell(tls, m->main_version) = MC_TRI_YES; /* probe_tls_record */
	probe_plan_init(&p, tls, m->main_version, m->budget);
	while (probe_plan_next(&p, tls, &sp)) {
		enum probe_plan_outcome how = model_answer(m, &sp, &r);

		sent++;
		CHECK(sent <= m->budget);
		probe_plan_answer(&p, tls, how, &r);
	}
	CHECK_STR_EQ(probe_plan_state_name(p.state), "done");
	CHECK_UINT_EQ(tls->hello_probes, sent);
}

static void test_models(void)
{
	static const uint16_t cells[6] = {PROBE_SSL2,  PROBE_SSL3,  PROBE_TLS10,
					  PROBE_TLS11, PROBE_TLS12, PROBE_TLS13};

	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		const struct model *m = &models[i];
		struct mc_tls tls;
		int before = test_failures;

		run_model(m, &tls);
		for (int c = 0; c < 6; c++)
			CHECK_INT_EQ(*probe_plan_cell(&tls, cells[c]), m->want_ver[c]);
		for (int f = 0; f < MC_LEGACY_COUNT; f++)
			CHECK_INT_EQ(tls.legacy[f], m->want_fam[f]);
		CHECK_UINT_EQ(tls.hello_probes, m->want_probes);
		CHECK_STR_EQ(tls.hello_error, "");
		if (test_failures != before)
			fprintf(stderr, "  in model \"%s\"\n", m->name);
	}
}

/* A server that answers a version we did not offer is not asked again. */
static void test_violation_stops(void)
{
	struct mc_tls tls = {0};
	struct probe_plan p;
	struct probe_hello_spec sp;
	struct probe_hello_result r = {
	    .kind = PROBE_HELLO_SERVER_HELLO, .version = PROBE_TLS13, .suite = 0x1301};

	tls.tls1_3 = MC_TRI_YES;
	probe_plan_init(&p, &tls, PROBE_TLS13, 4);
	CHECK(probe_plan_next(&p, &tls, &sp));
	CHECK_UINT_EQ(sp.version, PROBE_TLS12);
	probe_plan_answer(&p, &tls, PLAN_ANSWERED, &r); /* 1.3 to a 1.2 hello */
	CHECK_STR_EQ(tls.hello_error, "version-not-offered");
	CHECK(!probe_plan_next(&p, &tls, &sp));
	CHECK_INT_EQ(tls.tls1_2, MC_TRI_UNKNOWN);

	/* a suite we did not offer */
	memset(&tls, 0, sizeof(tls));
	probe_plan_init(&p, &tls, 0, 4);
	CHECK(probe_plan_next(&p, &tls, &sp));
	r.version = PROBE_TLS12;
	r.suite = 0x1234;
	probe_plan_answer(&p, &tls, PLAN_ANSWERED, &r);
	CHECK_STR_EQ(tls.hello_error, "suite-not-offered");
	CHECK(!probe_plan_next(&p, &tls, &sp));

	/* malformed */
	memset(&tls, 0, sizeof(tls));
	probe_plan_init(&p, &tls, 0, 4);
	CHECK(probe_plan_next(&p, &tls, &sp));
	r.kind = PROBE_HELLO_MALFORMED;
	r.why = "bad-key-share";
	probe_plan_answer(&p, &tls, PLAN_ANSWERED, &r);
	CHECK_STR_EQ(tls.hello_error, "bad-key-share");
	CHECK(!probe_plan_next(&p, &tls, &sp));
}

/* A timeout leaves the cell unknown and ends the plan; so does a lost
 * connection (STARTTLS refused this time). */
static void test_timeout_and_lost(void)
{
	struct mc_tls tls = {0};
	struct probe_plan p;
	struct probe_hello_spec sp;

	tls.tls1_3 = MC_TRI_YES;
	probe_plan_init(&p, &tls, PROBE_TLS13, 4);
	CHECK(probe_plan_next(&p, &tls, &sp));
	probe_plan_answer(&p, &tls, PLAN_TIMEOUT, NULL);
	CHECK(!probe_plan_next(&p, &tls, &sp));
	CHECK_INT_EQ(tls.tls1_2, MC_TRI_UNKNOWN);
	CHECK_UINT_EQ(tls.hello_probes, 1);

	memset(&tls, 0, sizeof(tls));
	probe_plan_init(&p, &tls, 0, 4);
	CHECK(probe_plan_next(&p, &tls, &sp));
	CHECK_UINT_EQ(sp.version, PROBE_TLS13);
	CHECK_UINT_EQ(sp.families, PROBE_FAMS_ALL);
	probe_plan_answer(&p, &tls, PLAN_LOST, NULL);
	CHECK(!probe_plan_next(&p, &tls, &sp));
	CHECK(!probe_plan_any_accepted(&tls));
	/* budget 0: nothing at all */
	memset(&tls, 0, sizeof(tls));
	probe_plan_init(&p, &tls, 0, 0);
	CHECK(!probe_plan_next(&p, &tls, &sp));
}

int main(void)
{
	RUN(test_models);
	RUN(test_violation_stops);
	RUN(test_timeout_and_lost);
	return test_summary();
}
