/* test_imap.c — the IMAP state machine fed scripted server bytes. */
#include "tests/unit/test.h"
#include "probe_drive.h"
#include "probes/classify.h"

static const char greet_caps[] =
    "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
    "AUTH=PLAIN] Dovecot (Debian) ready.\r\n"
    "+ \r\na5 BAD Authentication aborted by client.\r\n" /* AUTHENTICATE PLAIN, "*" */
    "a2 OK Begin TLS negotiation now.\r\n";
static const char tls_caps[] = "* CAPABILITY IMAP4rev1 SASL-IR ID AUTH=PLAIN\r\n"
			       "a4 OK Pre-login capabilities listed, post-login capabilities have "
			       "more.\r\n";

static void check_greet_caps(const struct drive *d, size_t cut, size_t tcut)
{
	char caps[1024];

	if (!d->s.done || d->rec.caps_pre_tls.count != 9)
		fprintf(stderr, "split at %zu/%zu:\n", cut, tcut);
	CHECK(d->s.done);
	CHECK_STR_EQ(d->rec.error, "");
	CHECK_STR_EQ(d->sent, "a5 AUTHENTICATE PLAIN\r\n*\r\na2 STARTTLS\r\na4 CAPABILITY\r\n");
	CHECK_STR_EQ(drive_login(&d->rec, caps, sizeof(caps)), "accepted,not_probed");
	CHECK_INT_EQ(d->rec.login[1].cmd, MC_LOGIN_CMD_IMAP_LOGIN);
	CHECK_STR_EQ(
	    drive_caps(&d->rec.caps_pre_tls, caps, sizeof(caps)),
	    "IMAP4rev1|SASL-IR|LOGIN-REFERRALS|ID|ENABLE|IDLE|LITERAL+|STARTTLS|AUTH=PLAIN");
	CHECK_STR_EQ(drive_caps(&d->rec.caps_post_tls, caps, sizeof(caps)),
		     "IMAP4rev1|SASL-IR|ID|AUTH=PLAIN");
	CHECK_INT_EQ(d->rec.starttls_advertised, MC_TRI_YES);
	CHECK_INT_EQ(d->rec.starttls_accepted, MC_TRI_YES);
	CHECK_INT_EQ(d->rec.starttls_injection, MC_TRI_UNKNOWN);
	CHECK_UINT_EQ(d->rec.banner_len, strchr(greet_caps, '\r') - greet_caps);
}

static void test_greeting_caps_every_split(void)
{
	struct drive d;
	int before = test_failures;

	for (size_t cut = 0; cut <= strlen(greet_caps) && test_failures == before; cut++) {
		drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
		drive_script(&d, greet_caps, cut, tls_caps, 0);
		check_greet_caps(&d, cut, 0);
	}
	for (size_t t = 0; t <= strlen(tls_caps) && test_failures == before; t++) {
		drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
		drive_script(&d, greet_caps, 5, tls_caps, t);
		check_greet_caps(&d, 5, t);
	}
}

static const char plain_capability[] =
    "* OK IMAP ready\r\n"
    "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n"
    "a1 OK CAPABILITY completed\r\n"
    "a5 NO [PRIVACYREQUIRED] Plaintext authentication disallowed\r\n"
    "* OK still here\r\n"
    "a6 BAD Unsupported authentication mechanism.\r\n"
    "a2 OK go\r\n"
    "a3 BAD should never be seen (plaintext after STARTTLS is dropped)\r\n";

static void test_capability_command_every_split(void)
{
	struct drive d;
	char caps[256];
	int before = test_failures;

	for (size_t cut = 0; cut <= strlen(plain_capability) && test_failures == before; cut++) {
		drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
		drive_script(&d, plain_capability, cut, "* CAPABILITY IMAP4rev1\r\na4 OK\r\n", 0);
		if (!d.s.done)
			fprintf(stderr, "split at %zu\n", cut);
		CHECK(d.s.done);
		CHECK_STR_EQ(d.sent, "a1 CAPABILITY\r\na5 AUTHENTICATE PLAIN\r\na6 AUTHENTICATE "
				     "LOGIN\r\na2 STARTTLS\r\na4 CAPABILITY\r\n");
		CHECK_STR_EQ(drive_caps(&d.rec.caps_pre_tls, caps, sizeof(caps)),
			     "IMAP4rev1|STARTTLS|LOGINDISABLED");
		CHECK_STR_EQ(drive_login(&d.rec, caps, sizeof(caps)), "refused_tls,bad,not_probed");
		CHECK_INT_EQ(d.rec.starttls_injection, MC_TRI_UNKNOWN);
	}
}

static void test_cold_start(void)
{
	struct drive d;
	char caps[256];
	static const char two[] = "* OK Waiting for authentication process to respond..\r\n"
				  "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot "
				  "ready.\r\n"
				  "a2 NO not now\r\n";

	drive_start_no_login(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	drive_script(&d, two, 0, NULL, 0);
	CHECK_STR_EQ(d.sent, "a2 STARTTLS\r\n");
	CHECK_STR_EQ(drive_caps(&d.rec.caps_pre_tls, caps, sizeof(caps)),
		     "IMAP4rev1|STARTTLS|LOGINDISABLED");
	CHECK(memcmp(d.rec.banner, "* OK [CAP", 9) == 0);
	CHECK_INT_EQ(d.rec.starttls_accepted, MC_TRI_NO);
	CHECK_STR_EQ(d.rec.error, "starttls: starttls-refused");
}

static void test_bye_and_garbage(void)
{
	struct drive d;

	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	drive_script(&d, "* BYE Connection queue full\r\n", 0, NULL, 0);
	CHECK_STR_EQ(d.rec.error, "greeting: bye");
	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	drive_feed(&d, "\x00\x00\xff garbage\n", 13);
	CHECK_STR_EQ(d.rec.error, "greeting: bad-greeting");
	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	drive_script(&d, "* OK hi\r\n* BYE shutting down\r\n", 0, NULL, 0);
	CHECK_STR_EQ(d.rec.error, "capability: bye");
}

static void test_preauth(void)
{
	struct drive d;

	drive_start_no_login(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	drive_script(&d, "* PREAUTH [CAPABILITY IMAP4rev1] logged in\r\na2 BAD no\r\n", 0, NULL, 0);
	CHECK_STR_EQ(d.sent, "a2 STARTTLS\r\n");
	CHECK_INT_EQ(d.rec.starttls_advertised, MC_TRI_NO);
}

static void test_literals(void)
{
	struct drive d;
	char caps[256];

	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	drive_script(&d, "* OK hi\r\n* CAPABILITY {4294967295}\r\n", 0, NULL, 0);
	CHECK(d.s.done);
	CHECK_STR_EQ(d.rec.error, "capability: literal-too-large");

	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	drive_script(&d, "* OK hi\r\n* CAPABILITY {99999999999999999999}\r\n", 0, NULL, 0);
	CHECK_STR_EQ(d.rec.error, "capability: literal-too-large");

	/* A small literal is skipped; "a1 OK" inside it must not end the command. */
	drive_start_no_login(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	drive_script(&d,
		     "* OK hi\r\n* ID {12}\r\na1 OK fake\r\n)\r\n* CAPABILITY IMAP4rev1 "
		     "STARTTLS\r\na1 OK\r\n",
		     0, NULL, 0);
	CHECK_STR_EQ(d.sent, "a1 CAPABILITY\r\na2 STARTTLS\r\n");
	CHECK_STR_EQ(drive_caps(&d.rec.caps_pre_tls, caps, sizeof(caps)), "IMAP4rev1|STARTTLS");
}

/* ---- the pre-TLS login probe: every reply form, split at every byte ---- */

struct login_case {
	const char *what;
	const char *script; /* greeting to the end of the plaintext part */
	const char *tls;    /* CAPABILITY answer over TLS, or NULL */
	const char *sent;
	const char *outcomes;
	enum mc_tri verdict; /* after probe_classify */
	enum mc_evidence evidence;
	const char *posture;
	const char *error;
};

#define GREET(caps) "* OK [CAPABILITY IMAP4rev1 " caps "] ready\r\n"
#define TLS_CAPS    "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na4 OK\r\n"
#define SENT_BOTH   "a5 AUTHENTICATE PLAIN\r\na6 AUTHENTICATE LOGIN\r\n"
#define SENT_TLS    "a2 STARTTLS\r\na4 CAPABILITY\r\n"

static const struct login_case login_cases[] = {
    {"AUTHENTICATE PLAIN '+ ', cancelled", GREET("STARTTLS") "+ \r\na5 BAD aborted\r\na2 OK\r\n",
     TLS_CAPS, "a5 AUTHENTICATE PLAIN\r\n*\r\n" SENT_TLS, "accepted,not_probed", MC_TRI_YES,
     MC_EVIDENCE_BEHAVIOUR, "starttls_optional", ""},
    {"bare '+', cancel answered NO", GREET("STARTTLS") "+\r\na5 NO cancelled\r\na2 OK\r\n",
     TLS_CAPS, "a5 AUTHENTICATE PLAIN\r\n*\r\n" SENT_TLS, "accepted,not_probed", MC_TRI_YES,
     MC_EVIDENCE_BEHAVIOUR, "starttls_optional", ""},
    {"LOGIN mechanism challenge",
     GREET("STARTTLS") "a5 NO unsupported\r\n+ VXNlcm5hbWU6\r\n* OK noise\r\na6 BAD "
		       "aborted\r\na2 OK\r\n",
     TLS_CAPS, SENT_BOTH "*\r\n" SENT_TLS, "refused,accepted,not_probed", MC_TRI_YES,
     MC_EVIDENCE_BEHAVIOUR, "starttls_optional", ""},
    {"front end: backend caps, refuses any login before TLS",
     GREET("STARTTLS AUTH=PLAIN AUTH=LOGIN") "a5 NO [PRIVACYREQUIRED] TLS first\r\n"
					     "a6 NO [PRIVACYREQUIRED] TLS first\r\na2 OK\r\n",
     TLS_CAPS, SENT_BOTH SENT_TLS, "refused_tls,refused_tls,not_probed", MC_TRI_NO,
     MC_EVIDENCE_BEHAVIOUR, "starttls_required", ""},
    {"XTLSREQUIRED, refused with BAD naming TLS",
     GREET("STARTTLS XTLSREQUIRED") "a5 BAD Command disabled: use STARTTLS first\r\n"
				    "a6 BAD Command disabled: use STARTTLS first\r\na2 OK\r\n",
     TLS_CAPS, SENT_BOTH SENT_TLS, "refused_tls,refused_tls,not_probed", MC_TRI_NO,
     MC_EVIDENCE_BEHAVIOUR, "starttls_required", ""},
    {"XTLSREQUIRED, refusals without reason: capabilities decide",
     GREET("STARTTLS XTLSREQUIRED") "a5 BAD\r\na6 NO\r\na2 OK\r\n", TLS_CAPS, SENT_BOTH SENT_TLS,
     "bad,refused,not_probed", MC_TRI_NO, MC_EVIDENCE_CAPABILITY, "starttls_required", ""},
    {"mechanisms unknown, LOGIN allowed: capabilities decide",
     GREET("STARTTLS") "a5 BAD unknown mechanism\r\na6 BAD unknown mechanism\r\na2 OK\r\n",
     TLS_CAPS, SENT_BOTH SENT_TLS, "bad,bad,not_probed", MC_TRI_YES, MC_EVIDENCE_CAPABILITY,
     "starttls_optional", ""},
    {"no TLS at all", GREET("AUTH=PLAIN") "+ \r\na5 BAD aborted\r\na2 BAD unknown command\r\n",
     NULL, "a5 AUTHENTICATE PLAIN\r\n*\r\na2 STARTTLS\r\n", "accepted,not_probed", MC_TRI_YES,
     MC_EVIDENCE_BEHAVIOUR, "no_tls", ""},
    {"cancel ignored", GREET("STARTTLS") "+ \r\n+ \r\n+ \r\n", NULL,
     "a5 AUTHENTICATE PLAIN\r\n*\r\n*\r\n", "accepted", MC_TRI_YES, MC_EVIDENCE_BEHAVIOUR,
     "unknown", "login-cancel: cancel-ignored"},
    {"BYE during the probe", GREET("STARTTLS") "* BYE go away\r\n", NULL,
     "a5 AUTHENTICATE PLAIN\r\n", "no_reply", MC_TRI_YES, MC_EVIDENCE_CAPABILITY, "unknown",
     "login: bye"},
};

static void check_login_case(const struct login_case *c, const struct drive *d, size_t cut)
{
	char buf[256];
	int before = test_failures;

	CHECK(d->s.done);
	CHECK_STR_EQ(d->sent, c->sent);
	CHECK_STR_EQ(drive_login(&d->rec, buf, sizeof(buf)), c->outcomes);
	CHECK_INT_EQ(d->rec.cleartext_login, c->verdict);
	CHECK_STR_EQ(mc_evidence_name(d->rec.cleartext_login_evidence),
		     mc_evidence_name(c->evidence));
	CHECK_STR_EQ(mc_posture_name(d->rec.posture), c->posture);
	CHECK_STR_EQ(d->rec.error, c->error);
	if (test_failures != before)
		fprintf(stderr, "  in \"%s\", split at %zu\n", c->what, cut);
}

static void test_login_forms_every_split(void)
{
	struct drive d;

	for (size_t i = 0; i < sizeof(login_cases) / sizeof(login_cases[0]); i++) {
		const struct login_case *c = &login_cases[i];
		int before = test_failures;

		for (size_t cut = 0; cut <= strlen(c->script) && test_failures == before; cut++) {
			drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
			drive_script(&d, c->script, cut, c->tls, 0);
			probe_classify(&d.rec, d.s.tls_up);
			check_login_case(c, &d, cut);
		}
		drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
		for (size_t k = 0; c->script[k] && !d.s.tls_up; k++)
			drive_feed(&d, c->script + k, 1);
		for (size_t k = 0; c->tls && d.s.tls_up && c->tls[k]; k++)
			drive_feed(&d, c->tls + k, 1);
		probe_classify(&d.rec, d.s.tls_up);
		check_login_case(c, &d, 1);
	}
}

static void test_injection(void)
{
	struct drive d;

	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_INJECT);
	drive_script(&d, "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\na2 OK go\r\n", 0,
		     "a3 OK NOOP completed\r\n* CAPABILITY IMAP4rev1\r\na4 OK\r\n", 0);
	CHECK(d.s.done);
	CHECK_STR_EQ(d.sent, "a2 STARTTLS\r\na3 NOOP\r\na4 CAPABILITY\r\n");
	CHECK_INT_EQ(d.rec.starttls_injection, MC_TRI_YES);
	CHECK_UINT_EQ(d.rec.caps_post_tls.count, 1);

	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_INJECT);
	drive_script(&d, "* OK hi\r\na2 OK go\r\n", 0, "* CAPABILITY IMAP4rev1\r\na4 OK\r\n", 0);
	CHECK(d.s.done);
	CHECK_INT_EQ(d.rec.starttls_injection, MC_TRI_NO);
}

static void test_implicit_and_matrix(void)
{
	struct drive d;
	char caps[256];

	drive_start(&d, MC_PROTO_IMAPS, PROBE_MODE_MAIN);
	drive_script(&d, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n", 0, NULL, 0);
	CHECK(d.s.done);
	CHECK_STR_EQ(d.sent, "");
	CHECK_STR_EQ(drive_caps(&d.rec.caps_post_tls, caps, sizeof(caps)), "IMAP4rev1|AUTH=PLAIN");

	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MATRIX);
	drive_script(&d, "* OK [CAPABILITY IMAP4rev1] ready\r\na2 OK go\r\n", 0, NULL, 0);
	CHECK(d.s.done);
	CHECK_STR_EQ(d.sent, "a2 STARTTLS\r\n");
	CHECK_INT_EQ(d.handshakes, 1);
}

int main(void)
{
	RUN(test_greeting_caps_every_split);
	RUN(test_capability_command_every_split);
	RUN(test_cold_start);
	RUN(test_bye_and_garbage);
	RUN(test_preauth);
	RUN(test_literals);
	RUN(test_login_forms_every_split);
	RUN(test_injection);
	RUN(test_implicit_and_matrix);
	return test_summary();
}
