/* test_pop3.c — the POP3 state machine fed scripted server bytes. */
#include "tests/unit/test.h"
#include "probe_drive.h"
#include "probes/classify.h"
#include "probes/login.h"

static const char dovecot_plain[] =
    "+OK Dovecot (Debian) ready.\r\n"
    "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\n"
    "USER\r\nSASL PLAIN LOGIN\r\n..stuffed\r\n.\r\n"
    "+ \r\n-ERR [AUTH] Authentication aborted by client.\r\n" /* AUTH PLAIN, "*" */
    "+OK Begin TLS negotiation now.\r\n";
#define DOVECOT_SENT "CAPA\r\nAUTH PLAIN\r\n*\r\nSTLS\r\nCAPA\r\n"
static const char dovecot_tls[] = "+OK\r\nCAPA\r\nTOP\r\nUSER\r\nSASL PLAIN\r\n.\r\n";

static void check_dovecot(const struct drive *d, size_t cut, size_t tcut)
{
	char caps[1024];

	if (!d->s.done || strcmp(d->sent, DOVECOT_SENT) != 0 || d->rec.caps_pre_tls.count != 10 ||
	    d->rec.caps_post_tls.count != 4)
		fprintf(stderr, "split at %zu/%zu:\n", cut, tcut);
	CHECK(d->s.done);
	CHECK_STR_EQ(d->rec.error, "");
	CHECK_STR_EQ(d->sent, DOVECOT_SENT);
	CHECK_STR_EQ(drive_login(&d->rec, caps, sizeof(caps)), "accepted");
	CHECK_INT_EQ(d->rec.login[0].cmd, MC_LOGIN_CMD_POP3_AUTH_PLAIN);
	CHECK_UINT_EQ(d->rec.login[0].reply_len, 2);
	CHECK_STR_EQ(drive_caps(&d->rec.caps_pre_tls, caps, sizeof(caps)),
		     "CAPA|TOP|UIDL|RESP-CODES|PIPELINING|AUTH-RESP-CODE|STLS|USER|SASL PLAIN "
		     "LOGIN|.stuffed");
	CHECK_STR_EQ(drive_caps(&d->rec.caps_post_tls, caps, sizeof(caps)),
		     "CAPA|TOP|USER|SASL PLAIN");
	CHECK_UINT_EQ(d->rec.banner_len, strlen("+OK Dovecot (Debian) ready."));
	CHECK_INT_EQ(d->rec.starttls_advertised, MC_TRI_YES);
	CHECK_INT_EQ(d->rec.starttls_accepted, MC_TRI_YES);
	CHECK_INT_EQ(d->rec.starttls_injection, MC_TRI_UNKNOWN); /* measured in INJECT mode */
	CHECK_INT_EQ(d->handshakes, 1);
}

static void test_dovecot_every_split(void)
{
	struct drive d;
	int before = test_failures;

	for (size_t cut = 0; cut <= strlen(dovecot_plain) && test_failures == before; cut++) {
		drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
		drive_script(&d, dovecot_plain, cut, dovecot_tls, 0);
		check_dovecot(&d, cut, 0);
	}
	for (size_t t = 0; t <= strlen(dovecot_tls) && test_failures == before; t++) {
		drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
		drive_script(&d, dovecot_plain, 7, dovecot_tls, t);
		check_dovecot(&d, 7, t);
	}
}

static void test_one_byte_segments(void)
{
	struct drive d;

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	for (size_t i = 0; dovecot_plain[i] && !d.s.tls_up; i++)
		drive_feed(&d, dovecot_plain + i, 1);
	for (size_t i = 0; dovecot_tls[i]; i++)
		drive_feed(&d, dovecot_tls + i, 1);
	check_dovecot(&d, 1, 1);
}

static void test_no_tls(void)
{
	struct drive d;

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	drive_script(
	    &d,
	    "+OK hi\r\n+OK\r\nUSER\r\n.\r\n-ERR Unknown command\r\n-ERR Unknown command\r\n"
	    "-ERR Unknown command\r\n+OK\r\n",
	    0, NULL, 0);
	CHECK(d.s.done);
	/* USER after the refused STLS, on the same connection; QUIT not waited for */
	CHECK_STR_EQ(d.sent, "CAPA\r\nAUTH PLAIN\r\nAUTH LOGIN\r\nSTLS\r\nUSER " MC_LOGIN_PROBE_USER
			     "\r\nQUIT\r\n");
	CHECK(!probe_login_wants_connection(&d.rec));
	CHECK_STR_EQ(d.rec.error, ""); /* STLS not advertised: refusal is no failure */
	CHECK_INT_EQ(d.rec.starttls_advertised, MC_TRI_NO);
	CHECK_INT_EQ(d.rec.starttls_accepted, MC_TRI_NO);
	CHECK_INT_EQ(d.rec.starttls_injection, MC_TRI_UNKNOWN);
	CHECK_INT_EQ(d.handshakes, 0);
}

static void test_capa_refused(void)
{
	struct drive d;

	drive_start_no_login(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	drive_script(&d, "+OK hi\r\n-ERR no CAPA\r\n+OK go\r\n", 0, "-ERR no\r\n", 0);
	CHECK(d.s.done);
	CHECK_STR_EQ(d.sent, "CAPA\r\nSTLS\r\nCAPA\r\n");
	CHECK_UINT_EQ(d.rec.caps_pre_tls.count, 0);
	CHECK_INT_EQ(d.rec.starttls_accepted, MC_TRI_YES);
	CHECK_INT_EQ(d.rec.starttls_injection, MC_TRI_UNKNOWN);
}

/* ---- the pre-TLS login probe: every reply form, split at every byte ---- */

#define P_USER "USER " MC_LOGIN_PROBE_USER "\r\n"

struct login_case {
	const char *what;
	const char *script; /* main connection: greeting to the end of the plaintext part */
	const char *tls;    /* CAPA answer over TLS, or NULL */
	const char *sent;
	const char *login;	/* the USER step's own connection (greeting, reply), or NULL */
	const char *login_sent; /* what that connection must carry */
	const char *outcomes;
	enum mc_tri verdict; /* after probe_classify */
	enum mc_evidence evidence;
	const char *posture;
	const char *error;
};

#define GREET_CAPA "+OK hi\r\n+OK\r\nUSER\r\nSASL PLAIN LOGIN\r\nSTLS\r\n.\r\n"
#define TLS_CAPA   "+OK\r\nUSER\r\n.\r\n"
#define SENT_AUTH  "CAPA\r\nAUTH PLAIN\r\nAUTH LOGIN\r\n"
#define SENT_TLS   SENT_AUTH "STLS\r\nCAPA\r\n"
#define SENT_USER  P_USER "QUIT\r\n"

static const struct login_case login_cases[] = {
    {"AUTH PLAIN continuation '+ ', cancelled", GREET_CAPA "+ \r\n-ERR aborted\r\n+OK go\r\n",
     TLS_CAPA, "CAPA\r\nAUTH PLAIN\r\n*\r\nSTLS\r\nCAPA\r\n", NULL, NULL, "accepted", MC_TRI_YES,
     MC_EVIDENCE_BEHAVIOUR, "starttls_optional", ""},
    {"bare '+' continuation", GREET_CAPA "+\r\n-ERR aborted\r\n+OK go\r\n", TLS_CAPA,
     "CAPA\r\nAUTH PLAIN\r\n*\r\nSTLS\r\nCAPA\r\n", NULL, NULL, "accepted", MC_TRI_YES,
     MC_EVIDENCE_BEHAVIOUR, "starttls_optional", ""},
    {"AUTH LOGIN challenge after AUTH PLAIN refused",
     GREET_CAPA "-ERR unsupported mechanism\r\n+ VXNlcm5hbWU6\r\n-ERR aborted\r\n+OK go\r\n",
     TLS_CAPA, SENT_AUTH "*\r\nSTLS\r\nCAPA\r\n", NULL, NULL, "refused,accepted", MC_TRI_YES,
     MC_EVIDENCE_BEHAVIOUR, "starttls_optional", ""},
    {"USER +OK on its own connection after both AUTH refused",
     GREET_CAPA "-ERR no\r\n-ERR no\r\n+OK go\r\n", TLS_CAPA, SENT_TLS,
     "+OK hi\r\n+OK send PASS\r\n", SENT_USER, "refused,refused,accepted", MC_TRI_YES,
     MC_EVIDENCE_BEHAVIOUR, "starttls_optional", ""},
    {"GNU Mailutils pop3d ondemand (no SASL; STLS refused after USER)",
     GREET_CAPA "-ERR Not implemented\r\n-ERR Not implemented\r\n+OK go\r\n", TLS_CAPA, SENT_TLS,
     "+OK hi\r\n+OK\r\n", SENT_USER, "refused,refused,accepted", MC_TRI_YES, MC_EVIDENCE_BEHAVIOUR,
     "starttls_optional", ""},
    {"advertises USER, refuses it: TLS required",
     GREET_CAPA "-ERR unknown command\r\n-ERR unknown command\r\n+OK go\r\n", TLS_CAPA, SENT_TLS,
     "+OK hi\r\n-ERR TLS required to log in\r\n", SENT_USER, "refused,refused,refused_tls",
     MC_TRI_NO, MC_EVIDENCE_BEHAVIOUR, "starttls_required", ""},
    {"dovecot disable_plaintext_auth",
     "+OK hi\r\n+OK\r\nCAPA\r\nSTLS\r\nSASL\r\n.\r\n"
     "-ERR [AUTH] Authentication not allowed until SSL/TLS is enabled.\r\n"
     "-ERR [AUTH] Authentication not allowed until SSL/TLS is enabled.\r\n+OK go\r\n",
     TLS_CAPA, SENT_TLS,
     "+OK hi\r\n"
     "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n",
     SENT_USER, "refused_tls,refused_tls,refused_tls", MC_TRI_NO, MC_EVIDENCE_BEHAVIOUR,
     "starttls_required", ""},
    {"refusals without a reason: capabilities decide",
     GREET_CAPA "-ERR no\r\n-ERR no\r\n+OK go\r\n", TLS_CAPA, SENT_TLS,
     "+OK hi\r\n-ERR no such mailbox\r\n", SENT_USER, "refused,refused,refused", MC_TRI_YES,
     MC_EVIDENCE_CAPABILITY, "starttls_optional", ""},
    {"no CAPA, accepts USER, no STLS",
     "+OK hi\r\n-ERR unknown command\r\n-ERR unknown command\r\n-ERR unknown command\r\n"
     "-ERR unknown command\r\n+OK\r\n",
     NULL, SENT_AUTH "STLS\r\n" SENT_USER, NULL, NULL, "refused,refused,accepted", MC_TRI_YES,
     MC_EVIDENCE_BEHAVIOUR, "no_tls", ""},
    {"garbage reply", GREET_CAPA "hello there\r\n-ERR\r\n+OK go\r\n", TLS_CAPA, SENT_TLS,
     "+OK\r\n-ERR\r\n", SENT_USER, "bad,refused,refused", MC_TRI_YES, MC_EVIDENCE_CAPABILITY,
     "starttls_optional", ""},
    {"GNU Mailutils pop3d required: XTLSREQUIRED instead of USER",
     "+OK hi\r\n+OK\r\nTOP\r\nXTLSREQUIRED\r\nSTLS\r\n.\r\n-ERR Incorrect state\r\n"
     "-ERR Incorrect state\r\n+OK go\r\n",
     TLS_CAPA, SENT_TLS, "+OK hi\r\n-ERR Incorrect state\r\n", SENT_USER, "refused,refused,refused",
     MC_TRI_NO, MC_EVIDENCE_CAPABILITY, "starttls_required", ""},
    {"cancel ignored", GREET_CAPA "+ \r\n+ \r\n+ \r\n", NULL, "CAPA\r\nAUTH PLAIN\r\n*\r\n*\r\n",
     NULL, NULL, "accepted", MC_TRI_YES, MC_EVIDENCE_BEHAVIOUR, "unknown",
     "login-cancel: cancel-ignored"},
};

static void check_login_case(const struct login_case *c, const struct drive *d,
			     const struct drive *l, size_t cut)
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
	if (c->login != NULL) {
		CHECK(l->s.done);
		CHECK_STR_EQ(l->sent, c->login_sent);
		CHECK_STR_EQ(l->rec.error, "");
	}
	CHECK(d->rec.banner_len == 6 && memcmp(d->rec.banner, "+OK hi", 6) == 0); /* main's */
	if (test_failures != before)
		fprintf(stderr, "  in \"%s\", split at %zu\n", c->what, cut);
}

/* The main connection, then (as the grabber does) the USER step's own
 * connection when probe_login_wants_connection() says so, merged. Both
 * split at `cut` (0: every byte in its own segment). */
static void run_login_case(const struct login_case *c, struct drive *d, struct drive *l, size_t cut)
{
	drive_start(d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	drive_start(l, MC_PROTO_POP3, PROBE_MODE_LOGIN);
	if (cut > 0) {
		drive_script(d, c->script, cut, c->tls, 0);
	} else {
		for (size_t k = 0; c->script[k] && !d->s.tls_up; k++)
			drive_feed(d, c->script + k, 1);
		for (size_t k = 0; c->tls && d->s.tls_up && c->tls[k]; k++)
			drive_feed(d, c->tls + k, 1);
	}
	CHECK_INT_EQ(probe_login_wants_connection(&d->rec), c->login != NULL);
	if (c->login != NULL && probe_login_wants_connection(&d->rec)) {
		if (cut > 0) {
			drive_script(l, c->login, cut, NULL, 0);
		} else {
			for (size_t k = 0; c->login[k]; k++)
				drive_feed(l, c->login + k, 1);
		}
		probe_login_merge(&d->rec, &l->rec);
	}
	probe_classify(&d->rec, d->s.tls_up);
}

static void test_login_forms_every_split(void)
{
	static struct drive d, l;

	for (size_t i = 0; i < sizeof(login_cases) / sizeof(login_cases[0]); i++) {
		const struct login_case *c = &login_cases[i];
		int before = test_failures;

		for (size_t cut = 0; cut <= strlen(c->script) && test_failures == before; cut++) {
			run_login_case(c, &d, &l, cut);
			check_login_case(c, &d, &l, cut);
		}
	}
}

static void test_login_probe_off(void)
{
	struct drive d;

	drive_start_no_login(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	drive_script(&d, GREET_CAPA "+OK go\r\n", 0, TLS_CAPA, 0);
	probe_classify(&d.rec, d.s.tls_up);
	CHECK_STR_EQ(d.sent, "CAPA\r\nSTLS\r\nCAPA\r\n");
	CHECK_UINT_EQ(d.rec.login_steps, 0);
	CHECK_INT_EQ(d.rec.cleartext_login, MC_TRI_YES);
	CHECK_INT_EQ(d.rec.cleartext_login_evidence, MC_EVIDENCE_CAPABILITY);

	/* no probe in the injection and matrix connections */
	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MATRIX);
	drive_script(&d, "+OK ready\r\n+OK begin\r\n", 0, NULL, 0);
	CHECK_STR_EQ(d.sent, "STLS\r\n");
}

static void test_login_reply_bounded(void)
{
	static char script[PROBE_LINE_MAX + 64];
	struct drive d;
	size_t n;

	/* A refusal longer than MC_LOGIN_REPLY_MAX is kept truncated. */
	n = (size_t)snprintf(script, sizeof(script), "%s-ERR ", GREET_CAPA);
	memset(script + n, 'x', 1000);
	memcpy(script + n + 1000, " TLS\r\n", 7);
	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	drive_feed(&d, script, n + 1007);
	CHECK_UINT_EQ(d.rec.login_steps, 2);
	CHECK_UINT_EQ(d.rec.login[0].reply_len, MC_LOGIN_REPLY_MAX);
	CHECK(d.rec.login[0].reply_truncated);
	CHECK_INT_EQ(d.rec.login[0].outcome,
		     MC_LOGIN_REFUSED_TLS); /* reason read from the whole line */
	CHECK_STR_EQ(d.sent, "CAPA\r\nAUTH PLAIN\r\nAUTH LOGIN\r\n");
}

static void test_injection(void)
{
	struct drive d;
	char caps[256];

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_INJECT);
	drive_script(&d, "+OK hi\r\n+OK\r\n", 0, "-ERR unknown command\r\n+OK\r\nUSER\r\n.\r\n", 0);
	CHECK_STR_EQ(d.sent, "STLS\r\nNOOP\r\nCAPA\r\n");
	CHECK_INT_EQ(d.rec.starttls_injection, MC_TRI_YES);
	CHECK_STR_EQ(drive_caps(&d.rec.caps_post_tls, caps, sizeof(caps)), "USER");

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_INJECT);
	drive_script(&d, "+OK hi\r\n+OK\r\n", 0, "+OK noop\r\n+OK capa\r\nUSER\r\n.\r\n", 0);
	CHECK_INT_EQ(d.rec.starttls_injection, MC_TRI_YES);
	CHECK_STR_EQ(drive_caps(&d.rec.caps_post_tls, caps, sizeof(caps)), "USER");
	CHECK(d.s.done);

	/* A correct server drops the NOOP: only CAPA is answered. */
	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_INJECT);
	drive_script(&d, "+OK hi\r\n+OK\r\n", 0, "+OK\r\nUSER\r\n.\r\n", 0);
	CHECK_INT_EQ(d.rec.starttls_injection, MC_TRI_NO);
	CHECK(d.s.done);
}

static void test_bad_greetings(void)
{
	static const char garbage[] = "\x00\x01\xff\xfe garbage\r\n";
	struct drive d;

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	drive_feed(&d, garbage, sizeof(garbage) - 1);
	CHECK(d.s.done);
	CHECK_STR_EQ(d.rec.error, "greeting: bad-greeting");
	CHECK_UINT_EQ(d.rec.banner_len, sizeof(garbage) - 3);

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	drive_script(&d, "-ERR go away\r\n", 0, NULL, 0);
	CHECK_STR_EQ(d.rec.error, "greeting: bad-greeting");
	CHECK_STR_EQ(d.sent, "");
}

static void test_long_line(void)
{
	static char big[PROBE_LINE_MAX * 3];
	struct drive d;

	memset(big, 'A', sizeof(big));
	memcpy(big, "+OK ", 4);
	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	drive_feed(&d, big, sizeof(big));
	CHECK(d.s.done);
	CHECK_STR_EQ(d.rec.error, "greeting: line-too-long");
}

static void test_too_many_capa_lines(void)
{
	struct drive d;

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	drive_script(&d, "+OK hi\r\n+OK\r\n", 0, NULL, 0);
	for (int i = 0; i < 1000 && !d.s.done; i++)
		drive_feed(&d, "X-CAPABILITY-PADDING-PADDING-PADDING\r\n", 38);
	CHECK(d.s.done);
	CHECK_STR_EQ(d.rec.error, "capa: too-many-capa-lines");
	CHECK(d.rec.caps_pre_tls.truncated);
}

static void test_nul_in_capability(void)
{
	static const char script[] = "+OK hi\r\n+OK\r\nX\0Y\r\nUSER\r\n.\r\n";
	struct drive d;

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	drive_feed(&d, script, sizeof(script) - 1);
	CHECK_UINT_EQ(d.rec.caps_pre_tls.count, 2);
	CHECK(memcmp(d.rec.caps_pre_tls.data, "X\xffY\0USER\0", 9) == 0);
	CHECK(probe_caps_has(&d.rec.caps_pre_tls, "USER"));
}

static void test_implicit(void)
{
	struct drive d;
	char caps[256];

	drive_start(&d, MC_PROTO_POP3S, PROBE_MODE_MAIN);
	CHECK_INT_EQ(d.handshakes, 1);
	drive_script(&d, "+OK ready\r\n+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n", 0, NULL, 0);
	CHECK(d.s.done);
	CHECK_STR_EQ(d.sent, "CAPA\r\n");
	CHECK_STR_EQ(drive_caps(&d.rec.caps_post_tls, caps, sizeof(caps)), "USER|SASL PLAIN");
	CHECK_UINT_EQ(d.rec.caps_pre_tls.count, 0);
	CHECK_INT_EQ(d.rec.starttls_injection, MC_TRI_UNKNOWN);
}

static void test_matrix(void)
{
	struct drive d;

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MATRIX);
	drive_script(&d, "+OK ready\r\n+OK begin\r\n", 0, NULL, 0);
	CHECK(d.s.done);
	CHECK_STR_EQ(d.sent, "STLS\r\n");
	CHECK_INT_EQ(d.handshakes, 1);
	CHECK_STR_EQ(d.rec.error, "");
}

/* The error stage is an output name from one table, not the debug state
 * name: the CAPA list state is "capa-list" to a debugger and "capa" (then
 * "capa-tls" over TLS) in the record. */
static void test_stage_names(void)
{
	struct drive d;

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	drive_script(&d, "+OK hi\r\n+OK\r\nUSER\r\n", 0, NULL, 0);
	CHECK_STR_EQ(d.ops->state_name(&d.s), "capa-list");
	CHECK_INT_EQ(d.ops->stage(&d.s), PROBE_STAGE_CAPA);
	d.s.tls_up = true;
	CHECK_INT_EQ(d.ops->stage(&d.s), PROBE_STAGE_CAPA_TLS);
	d.s.tls_up = false;
	probe_sess_fail(&d.s, d.ops->stage(&d.s), "read-timeout");
	CHECK_STR_EQ(d.rec.error, "capa: read-timeout");
	CHECK_STR_EQ(probe_stage_name(PROBE_STAGE_CONNECT), "connect");
	CHECK_STR_EQ(probe_stage_name(PROBE_STAGE_TLS_HANDSHAKE), "tls-handshake");
	CHECK_STR_EQ(probe_stage_name(PROBE_STAGE_INTERNAL), "internal");
	CHECK_STR_EQ(probe_stage_name((enum probe_stage)99), "unknown");
}

int main(void)
{
	RUN(test_stage_names);
	RUN(test_dovecot_every_split);
	RUN(test_one_byte_segments);
	RUN(test_no_tls);
	RUN(test_capa_refused);
	RUN(test_login_forms_every_split);
	RUN(test_login_probe_off);
	RUN(test_login_reply_bounded);
	RUN(test_injection);
	RUN(test_bad_greetings);
	RUN(test_long_line);
	RUN(test_too_many_capa_lines);
	RUN(test_nul_in_capability);
	RUN(test_implicit);
	RUN(test_matrix);
	return test_summary();
}
