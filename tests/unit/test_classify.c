/* test_classify.c — the posture / cleartext-login / obsolete-TLS rules table. */
#include "tests/unit/test.h"
#include "probes/classify.h"
#include "probes/session.h"

/* Rows may leave the trailing SSL cells out: they are unknown (0). */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct row {
	const char *what;
	enum mc_proto proto;
	const char *caps; /* space-free items separated by ',' */
	enum mc_tri accepted;
	bool tls_up;
	enum mc_tri v10, v11;
	enum mc_posture posture;
	enum mc_tri cleartext;
	enum mc_tri obsolete;
	const char *login; /* login-probe outcomes, ',' separated ("" = not run) */
	enum mc_evidence evidence;
	enum mc_tri v3; /* SSLv3 cell (hand-built hello) */
	enum mc_tri v2; /* SSLv2 cell */
};

#define CAP  MC_EVIDENCE_CAPABILITY
#define BEH  MC_EVIDENCE_BEHAVIOUR
#define NONE MC_EVIDENCE_NONE

static const struct row rows[] = {
    {"imap no tls", MC_PROTO_IMAP, "IMAP4rev1,AUTH=PLAIN", MC_TRI_NO, false, 0, 0,
     MC_POSTURE_NO_TLS, MC_TRI_YES, MC_TRI_UNKNOWN, "", CAP},
    {"imap optional", MC_PROTO_IMAP, "IMAP4rev1,STARTTLS", MC_TRI_YES, true, MC_TRI_NO, MC_TRI_NO,
     MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_NO, "", CAP, MC_TRI_NO},
    {"ssl3 not measured", MC_PROTO_IMAP, "IMAP4rev1,STARTTLS", MC_TRI_YES, true, MC_TRI_NO,
     MC_TRI_NO, MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_UNKNOWN, "", CAP},
    {"ssl3 only, found by a hello", MC_PROTO_IMAP, "IMAP4rev1,STARTTLS,LOGINDISABLED", MC_TRI_YES,
     true, MC_TRI_NO, MC_TRI_NO, MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_YES, "", CAP,
     MC_TRI_YES},
    {"ssl2 accepted", MC_PROTO_POP3S, "", MC_TRI_UNKNOWN, true, MC_TRI_NO, MC_TRI_NO,
     MC_POSTURE_IMPLICIT_TLS, MC_TRI_NO, MC_TRI_YES, "", BEH, MC_TRI_NO, MC_TRI_YES},
    {"imap required", MC_PROTO_IMAP, "IMAP4rev1,STARTTLS,LOGINDISABLED", MC_TRI_YES, true,
     MC_TRI_YES, MC_TRI_NO, MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_YES, "", CAP},
    {"imap logindisabled lowercase", MC_PROTO_IMAP, "imap4rev1,logindisabled", MC_TRI_YES, true,
     MC_TRI_NO, MC_TRI_YES, MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_YES, "", CAP},
    {"pop3 user", MC_PROTO_POP3, "TOP,USER,STLS", MC_TRI_YES, true, MC_TRI_NO, MC_TRI_UNKNOWN,
     MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_UNKNOWN, "", CAP},
    {"pop3 sasl plain", MC_PROTO_POP3, "TOP,SASL PLAIN,STLS", MC_TRI_YES, true, 0, 0,
     MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_UNKNOWN, "", CAP},
    {"pop3 sasl login", MC_PROTO_POP3, "SASL CRAM-MD5 LOGIN", MC_TRI_YES, true, 0, 0,
     MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_UNKNOWN, "", CAP},
    {"pop3 sasl only strong", MC_PROTO_POP3, "TOP,SASL CRAM-MD5 SCRAM-SHA-1,STLS", MC_TRI_YES, true,
     0, 0, MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_UNKNOWN, "", CAP},
    {"pop3 required", MC_PROTO_POP3, "TOP,UIDL,STLS", MC_TRI_YES, true, 0, 0,
     MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_UNKNOWN, "", CAP},
    {"pop3 no tls", MC_PROTO_POP3, "USER", MC_TRI_NO, false, 0, 0, MC_POSTURE_NO_TLS, MC_TRI_YES,
     MC_TRI_UNKNOWN, "", CAP},
    {"pop3 no capa", MC_PROTO_POP3, "", MC_TRI_NO, false, 0, 0, MC_POSTURE_NO_TLS, MC_TRI_UNKNOWN,
     MC_TRI_UNKNOWN, "", NONE},
    {"pop3 capa refused, tls", MC_PROTO_POP3, "", MC_TRI_YES, true, 0, 0, MC_POSTURE_UNKNOWN,
     MC_TRI_UNKNOWN, MC_TRI_UNKNOWN, "", NONE},
    {"handshake failed", MC_PROTO_IMAP, "IMAP4rev1", MC_TRI_YES, false, 0, 0, MC_POSTURE_UNKNOWN,
     MC_TRI_YES, MC_TRI_UNKNOWN, "", CAP},
    {"never got to starttls", MC_PROTO_IMAP, "", MC_TRI_UNKNOWN, false, 0, 0, MC_POSTURE_UNKNOWN,
     MC_TRI_UNKNOWN, MC_TRI_UNKNOWN, "", NONE},
    {"imaps", MC_PROTO_IMAPS, "", MC_TRI_UNKNOWN, true, MC_TRI_NO, MC_TRI_NO,
     MC_POSTURE_IMPLICIT_TLS, MC_TRI_NO, MC_TRI_NO, "", BEH, MC_TRI_NO},
    {"pop3s legacy", MC_PROTO_POP3S, "", MC_TRI_UNKNOWN, true, MC_TRI_YES, MC_TRI_YES,
     MC_POSTURE_IMPLICIT_TLS, MC_TRI_NO, MC_TRI_YES, "", BEH},
    {"pop3s failed", MC_PROTO_POP3S, "", MC_TRI_UNKNOWN, false, 0, 0, MC_POSTURE_UNKNOWN,
     MC_TRI_UNKNOWN, MC_TRI_UNKNOWN, "", NONE},
    /* issue 18: behaviour first */
    {"pop3 advertises USER, refuses it for TLS", MC_PROTO_POP3, "USER,STLS", MC_TRI_YES, true, 0, 0,
     MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_UNKNOWN, "refused,refused,refused_tls", BEH},
    {"pop3 no capa, accepts USER", MC_PROTO_POP3, "", MC_TRI_NO, false, 0, 0, MC_POSTURE_NO_TLS,
     MC_TRI_YES, MC_TRI_UNKNOWN, "refused,refused,accepted", BEH},
    {"pop3 no capa, refusals without reason", MC_PROTO_POP3, "", MC_TRI_NO, false, 0, 0,
     MC_POSTURE_NO_TLS, MC_TRI_UNKNOWN, MC_TRI_UNKNOWN, "refused,refused,refused", NONE},
    {"pop3 caps say no USER, AUTH PLAIN continues", MC_PROTO_POP3, "TOP,STLS", MC_TRI_YES, true, 0,
     0, MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_UNKNOWN, "accepted", BEH},
    {"pop3 XTLSREQUIRED", MC_PROTO_POP3, "TOP,STLS,XTLSREQUIRED,SASL PLAIN", MC_TRI_YES, true, 0, 0,
     MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_UNKNOWN, "", CAP},
    {"pop3 probe cut short, no reply", MC_PROTO_POP3, "USER", MC_TRI_UNKNOWN, false, 0, 0,
     MC_POSTURE_UNKNOWN, MC_TRI_YES, MC_TRI_UNKNOWN, "no_reply", CAP},
    {"imap XTLSREQUIRED", MC_PROTO_IMAP, "IMAP4rev1,STARTTLS,XTLSREQUIRED", MC_TRI_YES, true, 0, 0,
     MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_UNKNOWN, "bad,bad,not_probed", CAP},
    {"imap front end: caps allow, behaviour refuses", MC_PROTO_IMAP,
     "IMAP4rev1,STARTTLS,AUTH=PLAIN", MC_TRI_YES, true, 0, 0, MC_POSTURE_STARTTLS_REQUIRED,
     MC_TRI_NO, MC_TRI_UNKNOWN, "refused_tls,refused_tls,not_probed", BEH},
    {"imap LOGINDISABLED but AUTHENTICATE continues", MC_PROTO_IMAP,
     "IMAP4rev1,STARTTLS,LOGINDISABLED", MC_TRI_YES, true, 0, 0, MC_POSTURE_STARTTLS_OPTIONAL,
     MC_TRI_YES, MC_TRI_UNKNOWN, "accepted,not_probed", BEH},
    {"imap mechanisms refused, LOGIN by caps", MC_PROTO_IMAP, "IMAP4rev1,STARTTLS", MC_TRI_YES,
     true, 0, 0, MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_UNKNOWN, "refused,bad,not_probed",
     CAP},
};

static void fill_caps(struct mc_caps *caps, const char *list)
{
	while (*list) {
		const char *end = strchr(list, ',');
		size_t n = end ? (size_t)(end - list) : strlen(list);

		mc_caps_add(caps, list, n);
		list += n + (end ? 1 : 0);
	}
}

static enum mc_login_outcome outcome_named(const char *name, size_t n)
{
	for (int o = MC_LOGIN_NOT_PROBED; o <= MC_LOGIN_BAD; o++)
		if (strlen(mc_login_outcome_name((enum mc_login_outcome)o)) == n &&
		    strncmp(mc_login_outcome_name((enum mc_login_outcome)o), name, n) == 0)
			return (enum mc_login_outcome)o;
	fprintf(stderr, "unknown outcome %.*s\n", (int)n, name);
	test_failures++;
	return MC_LOGIN_NOT_PROBED;
}

static void fill_login(struct mc_record *rec, const char *list)
{
	while (*list && rec->login_steps < MC_LOGIN_STEPS) {
		const char *end = strchr(list, ',');
		size_t n = end ? (size_t)(end - list) : strlen(list);

		rec->login[rec->login_steps++].outcome = outcome_named(list, n);
		list += n + (end ? 1 : 0);
	}
}

static void test_rules_table(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		static struct mc_record rec;
		const struct row *r = &rows[i];
		int before = test_failures;

		memset(&rec, 0, sizeof(rec));
		rec.proto = r->proto;
		fill_caps(&rec.caps_pre_tls, r->caps);
		fill_login(&rec, r->login);
		rec.starttls_accepted = r->accepted;
		rec.tls.tls1_0 = r->v10;
		rec.tls.tls1_1 = r->v11;
		rec.tls.ssl3 = r->v3;
		rec.tls.ssl2 = r->v2;
		probe_classify(&rec, r->tls_up);
		CHECK_STR_EQ(mc_posture_name(rec.posture), mc_posture_name(r->posture));
		CHECK_INT_EQ(rec.cleartext_login, r->cleartext);
		CHECK_INT_EQ(rec.tls_obsolete, r->obsolete);
		CHECK_STR_EQ(mc_evidence_name(rec.cleartext_login_evidence),
			     mc_evidence_name(r->evidence));
		if (test_failures != before)
			fprintf(stderr, "  in row \"%s\"\n", r->what);
	}
}

int main(void)
{
	RUN(test_rules_table);
	return test_summary();
}
