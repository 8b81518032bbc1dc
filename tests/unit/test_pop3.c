/* test_pop3.c — the POP3 state machine fed scripted server bytes. */
#include "tests/unit/test.h"
#include "probe_drive.h"

static const char dovecot_plain[] =
    "+OK Dovecot (Debian) ready.\r\n"
    "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\n"
    "USER\r\nSASL PLAIN LOGIN\r\n..stuffed\r\n.\r\n"
    "+OK Begin TLS negotiation now.\r\n";
static const char dovecot_tls[] = "+OK\r\nCAPA\r\nTOP\r\nUSER\r\nSASL PLAIN\r\n.\r\n";

static void check_dovecot(const struct drive *d, size_t cut, size_t tcut)
{
	char caps[1024];

	if (!d->s.done || strcmp(d->sent, "CAPA\r\nSTLS\r\nCAPA\r\n") != 0 ||
	    d->rec.caps_pre_tls.count != 10 || d->rec.caps_post_tls.count != 4)
		fprintf(stderr, "split at %zu/%zu:\n", cut, tcut);
	CHECK(d->s.done);
	CHECK_STR_EQ(d->rec.error, "");
	CHECK_STR_EQ(d->sent, "CAPA\r\nSTLS\r\nCAPA\r\n");
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
	drive_script(&d, "+OK hi\r\n+OK\r\nUSER\r\n.\r\n-ERR Unknown command\r\n", 0, NULL, 0);
	CHECK(d.s.done);
	CHECK_STR_EQ(d.rec.error, ""); /* STLS not advertised: refusal is no failure */
	CHECK_INT_EQ(d.rec.starttls_advertised, MC_TRI_NO);
	CHECK_INT_EQ(d.rec.starttls_accepted, MC_TRI_NO);
	CHECK_INT_EQ(d.rec.starttls_injection, MC_TRI_UNKNOWN);
	CHECK_INT_EQ(d.handshakes, 0);
}

static void test_capa_refused(void)
{
	struct drive d;

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	drive_script(&d, "+OK hi\r\n-ERR no CAPA\r\n+OK go\r\n", 0, "-ERR no\r\n", 0);
	CHECK(d.s.done);
	CHECK_STR_EQ(d.sent, "CAPA\r\nSTLS\r\nCAPA\r\n");
	CHECK_UINT_EQ(d.rec.caps_pre_tls.count, 0);
	CHECK_INT_EQ(d.rec.starttls_accepted, MC_TRI_YES);
	CHECK_INT_EQ(d.rec.starttls_injection, MC_TRI_UNKNOWN);
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

int main(void)
{
	RUN(test_dovecot_every_split);
	RUN(test_one_byte_segments);
	RUN(test_no_tls);
	RUN(test_capa_refused);
	RUN(test_injection);
	RUN(test_bad_greetings);
	RUN(test_long_line);
	RUN(test_too_many_capa_lines);
	RUN(test_nul_in_capability);
	RUN(test_implicit);
	RUN(test_matrix);
	return test_summary();
}
