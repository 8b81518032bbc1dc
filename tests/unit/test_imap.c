/* test_imap.c — the IMAP state machine fed scripted server bytes. */
#include "tests/unit/test.h"
#include "probe_drive.h"

static const char greet_caps[] =
    "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
    "AUTH=PLAIN] Dovecot (Debian) ready.\r\n"
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
	CHECK_STR_EQ(d->sent, "a2 STARTTLS\r\na4 CAPABILITY\r\n");
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
    "* OK still here\r\n"
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
		CHECK_STR_EQ(d.sent, "a1 CAPABILITY\r\na2 STARTTLS\r\na4 CAPABILITY\r\n");
		CHECK_STR_EQ(drive_caps(&d.rec.caps_pre_tls, caps, sizeof(caps)),
			     "IMAP4rev1|STARTTLS|LOGINDISABLED");
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

	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
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

	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
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
	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	drive_script(&d,
		     "* OK hi\r\n* ID {12}\r\na1 OK fake\r\n)\r\n* CAPABILITY IMAP4rev1 "
		     "STARTTLS\r\na1 OK\r\n",
		     0, NULL, 0);
	CHECK_STR_EQ(d.sent, "a1 CAPABILITY\r\na2 STARTTLS\r\n");
	CHECK_STR_EQ(drive_caps(&d.rec.caps_pre_tls, caps, sizeof(caps)), "IMAP4rev1|STARTTLS");
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
	RUN(test_injection);
	RUN(test_implicit_and_matrix);
	return test_summary();
}
