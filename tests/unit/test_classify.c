/* test_classify.c — the posture / cleartext-login / obsolete-TLS rules table. */
#include "tests/unit/test.h"
#include "probes/classify.h"
#include "probes/session.h"

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
};

static const struct row rows[] = {
    {"imap no tls", MC_PROTO_IMAP, "IMAP4rev1,AUTH=PLAIN", MC_TRI_NO, false, 0, 0,
     MC_POSTURE_NO_TLS, MC_TRI_YES, MC_TRI_UNKNOWN},
    {"imap optional", MC_PROTO_IMAP, "IMAP4rev1,STARTTLS", MC_TRI_YES, true, MC_TRI_NO, MC_TRI_NO,
     MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_NO},
    {"imap required", MC_PROTO_IMAP, "IMAP4rev1,STARTTLS,LOGINDISABLED", MC_TRI_YES, true,
     MC_TRI_YES, MC_TRI_NO, MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_YES},
    {"imap logindisabled lowercase", MC_PROTO_IMAP, "imap4rev1,logindisabled", MC_TRI_YES, true,
     MC_TRI_NO, MC_TRI_YES, MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_YES},
    {"pop3 user", MC_PROTO_POP3, "TOP,USER,STLS", MC_TRI_YES, true, MC_TRI_NO, MC_TRI_UNKNOWN,
     MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_UNKNOWN},
    {"pop3 sasl plain", MC_PROTO_POP3, "TOP,SASL PLAIN,STLS", MC_TRI_YES, true, 0, 0,
     MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_UNKNOWN},
    {"pop3 sasl login", MC_PROTO_POP3, "SASL CRAM-MD5 LOGIN", MC_TRI_YES, true, 0, 0,
     MC_POSTURE_STARTTLS_OPTIONAL, MC_TRI_YES, MC_TRI_UNKNOWN},
    {"pop3 sasl only strong", MC_PROTO_POP3, "TOP,SASL CRAM-MD5 SCRAM-SHA-1,STLS", MC_TRI_YES, true,
     0, 0, MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_UNKNOWN},
    {"pop3 required", MC_PROTO_POP3, "TOP,UIDL,STLS", MC_TRI_YES, true, 0, 0,
     MC_POSTURE_STARTTLS_REQUIRED, MC_TRI_NO, MC_TRI_UNKNOWN},
    {"pop3 no tls", MC_PROTO_POP3, "USER", MC_TRI_NO, false, 0, 0, MC_POSTURE_NO_TLS, MC_TRI_YES,
     MC_TRI_UNKNOWN},
    {"pop3 no capa", MC_PROTO_POP3, "", MC_TRI_NO, false, 0, 0, MC_POSTURE_NO_TLS, MC_TRI_UNKNOWN,
     MC_TRI_UNKNOWN},
    {"pop3 capa refused, tls", MC_PROTO_POP3, "", MC_TRI_YES, true, 0, 0, MC_POSTURE_UNKNOWN,
     MC_TRI_UNKNOWN, MC_TRI_UNKNOWN},
    {"handshake failed", MC_PROTO_IMAP, "IMAP4rev1", MC_TRI_YES, false, 0, 0, MC_POSTURE_UNKNOWN,
     MC_TRI_YES, MC_TRI_UNKNOWN},
    {"never got to starttls", MC_PROTO_IMAP, "", MC_TRI_UNKNOWN, false, 0, 0, MC_POSTURE_UNKNOWN,
     MC_TRI_UNKNOWN, MC_TRI_UNKNOWN},
    {"imaps", MC_PROTO_IMAPS, "", MC_TRI_UNKNOWN, true, MC_TRI_NO, MC_TRI_NO,
     MC_POSTURE_IMPLICIT_TLS, MC_TRI_NO, MC_TRI_NO},
    {"pop3s legacy", MC_PROTO_POP3S, "", MC_TRI_UNKNOWN, true, MC_TRI_YES, MC_TRI_YES,
     MC_POSTURE_IMPLICIT_TLS, MC_TRI_NO, MC_TRI_YES},
    {"pop3s failed", MC_PROTO_POP3S, "", MC_TRI_UNKNOWN, false, 0, 0, MC_POSTURE_UNKNOWN,
     MC_TRI_UNKNOWN, MC_TRI_UNKNOWN},
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

static void test_rules_table(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		static struct mc_record rec;
		const struct row *r = &rows[i];
		int before = test_failures;

		memset(&rec, 0, sizeof(rec));
		rec.proto = r->proto;
		fill_caps(&rec.caps_pre_tls, r->caps);
		rec.starttls_accepted = r->accepted;
		rec.tls.tls1_0 = r->v10;
		rec.tls.tls1_1 = r->v11;
		probe_classify(&rec, r->tls_up);
		CHECK_STR_EQ(mc_posture_name(rec.posture), mc_posture_name(r->posture));
		CHECK_INT_EQ(rec.cleartext_login, r->cleartext);
		CHECK_INT_EQ(rec.tls_obsolete, r->obsolete);
		if (test_failures != before)
			fprintf(stderr, "  in row \"%s\"\n", r->what);
	}
}

int main(void)
{
	RUN(test_rules_table);
	return test_summary();
}
