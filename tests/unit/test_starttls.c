/* test_starttls.c — the injection verdicts (random tags, four outcomes) and
 * the STARTTLS flags, fed scripted server bytes as the grabber would. */
#include "tests/unit/test.h"
#include "probe_drive.h"
#include "probes/starttls.h"

static const char *flags_of(const struct mc_record *r, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned b = 0; b < 16; b++) {
		const char *n = mc_starttls_flag_name((uint16_t)(1u << b));

		if ((r->starttls_flags & (1u << b)) && n != NULL)
			o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? "|" : "", n);
	}
	return buf;
}

/* Run the IMAP injection test with a nonce; the server's bytes after the
 * handshake are `tls` (NULL: none). Returns the main record's verdict. */
static enum mc_inject_verdict imap_inject(uint64_t nonce, const char *tls, struct drive *d,
					  struct mc_record *main_rec)
{
	drive_start(d, MC_PROTO_IMAP, PROBE_MODE_INJECT);
	d->s.nonce = nonce;
	drive_feed(d, "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n", 41);
	/* the server answers our STARTTLS with its tag */
	char ok[64];
	snprintf(ok, sizeof(ok), "%s OK begin TLS\r\n", d->s.tag_stls);
	drive_feed(d, ok, strlen(ok));
	if (tls != NULL)
		drive_feed(d, tls, strlen(tls));
	memset(main_rec, 0, sizeof(*main_rec));
	probe_inject_conclude(main_rec, &d->rec, d->s.tls_up ? PROBE_INJ_TLS : PROBE_INJ_PLAIN,
			      false, NULL);
	return main_rec->injection_verdict;
}

static void test_random_tags(void)
{
	struct drive d;
	struct mc_record m;
	char want[128], noop_reply[160];

	imap_inject(0x123456789abcdefull, NULL, &d, &m);
	CHECK(strlen(d.s.tag_stls) == 6 && strlen(d.s.tag_noop) == 6);
	CHECK(strcmp(d.s.tag_stls, d.s.tag_noop) != 0);
	CHECK(d.s.tag_stls[0] != 'a' && d.s.tag_noop[0] != 'a');
	snprintf(want, sizeof(want), "%s STARTTLS\r\n%s NOOP\r\n", d.s.tag_stls, d.s.tag_noop);
	CHECK(strncmp(d.sent, want, strlen(want)) == 0);
	/* another nonce, other tags */
	char first[8];
	memcpy(first, d.s.tag_stls, sizeof(first));
	imap_inject(0xfedcba9876543210ull, NULL, &d, &m);
	CHECK(strcmp(first, d.s.tag_stls) != 0);

	/* vulnerable: the NOOP's tag answered over TLS */
	imap_inject(42, NULL, &d, &m);
	snprintf(noop_reply, sizeof(noop_reply),
		 "%s OK NOOP completed\r\n* CAPABILITY IMAP4rev1\r\na4 OK done\r\n", d.s.tag_noop);
	CHECK_INT_EQ(imap_inject(42, noop_reply, &d, &m), MC_INJ_VULNERABLE);
	CHECK_INT_EQ(m.starttls_injection, MC_TRI_YES);
	CHECK_STR_EQ(m.injection_reason, "pipelined command answered inside TLS");

	/* the old fixed tag a3 is no answer to a random-tag test */
	CHECK_INT_EQ(imap_inject(42, "a3 OK NOOP\r\n* CAPABILITY IMAP4rev1\r\na4 OK\r\n", &d, &m),
		     MC_INJ_NOT_VULNERABLE);
	CHECK_INT_EQ(m.starttls_injection, MC_TRI_NO);

	/* not vulnerable: capabilities over TLS, nothing else */
	CHECK_INT_EQ(imap_inject(7, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na4 OK\r\n", &d, &m),
		     MC_INJ_NOT_VULNERABLE);
	/* nonce 0 keeps the historical tags (unit tests, fuzz harnesses) */
	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_INJECT);
	drive_feed(&d, "* OK hi\r\n", 9);
	CHECK_STR_EQ(d.sent, "a2 STARTTLS\r\na3 NOOP\r\n");
}

static void test_verdict_by_stage(void)
{
	struct mc_record m, t;

	memset(&t, 0, sizeof(t));
	memset(&m, 0, sizeof(m));
	probe_inject_conclude(&m, &t, PROBE_INJ_HANDSHAKE, false, "eof");
	CHECK_INT_EQ(m.injection_verdict, MC_INJ_NOT_VULNERABLE);
	CHECK_STR_EQ(m.injection_reason, "handshake failed on the pipelined bytes: eof");
	/* the first conclusion stands */
	probe_inject_conclude(&m, &t, PROBE_INJ_PLAIN, true, "read-timeout");
	CHECK_INT_EQ(m.injection_verdict, MC_INJ_NOT_VULNERABLE);

	memset(&m, 0, sizeof(m));
	probe_inject_conclude(&m, &t, PROBE_INJ_HANDSHAKE, true, "timeout");
	CHECK_INT_EQ(m.injection_verdict, MC_INJ_UNRESPONSIVE);
	CHECK_INT_EQ(m.starttls_injection, MC_TRI_UNKNOWN);
	memset(&m, 0, sizeof(m));
	probe_inject_conclude(&m, &t, PROBE_INJ_PLAIN, true, "greeting-timeout");
	CHECK_INT_EQ(m.injection_verdict, MC_INJ_UNRESPONSIVE);
	CHECK_STR_EQ(m.injection_reason, "no greeting");
	t.banner_len = 4;
	memset(&m, 0, sizeof(m));
	probe_inject_conclude(&m, &t, PROBE_INJ_PLAIN, true, "read-timeout");
	CHECK_STR_EQ(m.injection_reason, "no answer to STARTTLS");
	memset(&m, 0, sizeof(m));
	probe_inject_conclude(&m, &t, PROBE_INJ_TLS, true, "read-timeout");
	CHECK_INT_EQ(m.injection_verdict, MC_INJ_UNRESPONSIVE);
	CHECK_STR_EQ(m.injection_reason, "no answer over TLS");
	t.starttls_accepted = MC_TRI_NO;
	memset(&m, 0, sizeof(m));
	probe_inject_conclude(&m, &t, PROBE_INJ_PLAIN, false, NULL);
	CHECK_INT_EQ(m.injection_verdict, MC_INJ_INCONCLUSIVE);
	CHECK_STR_EQ(m.injection_reason, "STARTTLS refused on the test connection");
	memset(&m, 0, sizeof(m));
	probe_inject_conclude(&m, &t, PROBE_INJ_CONNECT, false, "refused");
	CHECK_INT_EQ(m.injection_verdict, MC_INJ_INCONCLUSIVE);
	CHECK_STR_EQ(m.injection_reason, "connect failed: refused");
	memset(&t, 0, sizeof(t));
	snprintf(t.error, sizeof(t.error), "starttls: bye");
	memset(&m, 0, sizeof(m));
	probe_inject_conclude(&m, &t, PROBE_INJ_PLAIN, false, "closed");
	CHECK_STR_EQ(m.injection_reason, "ended before the STARTTLS answer: starttls: bye");
}

/* POP3: the existing shape heuristics feed the same verdicts. */
static void test_pop3_inject(void)
{
	struct drive d;
	struct mc_record m;

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_INJECT);
	drive_script(&d, "+OK hi\r\n+OK begin\r\n", 0,
		     "-ERR unknown command\r\n+OK caps\r\nUSER\r\n.\r\n", 0);
	memset(&m, 0, sizeof(m));
	probe_inject_conclude(&m, &d.rec, PROBE_INJ_TLS, false, NULL);
	CHECK_INT_EQ(m.injection_verdict, MC_INJ_VULNERABLE);
	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_INJECT);
	drive_script(&d, "+OK hi\r\n+OK begin\r\n", 0, "+OK caps\r\nUSER\r\n.\r\n", 0);
	memset(&m, 0, sizeof(m));
	probe_inject_conclude(&m, &d.rec, PROBE_INJ_TLS, false, NULL);
	CHECK_INT_EQ(m.injection_verdict, MC_INJ_NOT_VULNERABLE);
}

/* The POP3 test of `tls` (the server's bytes over TLS) concluded against a
 * main connection whose CAPA over TLS listed `main_caps` ('|'-separated). */
static enum mc_inject_verdict pop3_inject(const char *tls, const char *main_caps,
					  struct mc_record *m)
{
	struct drive d;
	char items[256];

	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_INJECT);
	drive_script(&d, "+OK hi\r\n+OK begin\r\n", 0, tls, 0);
	memset(m, 0, sizeof(*m));
	m->proto = MC_PROTO_POP3;
	snprintf(items, sizeof(items), "%s", main_caps);
	for (char *save = NULL, *w = strtok_r(items, "|", &save); w != NULL;
	     w = strtok_r(NULL, "|", &save))
		probe_caps_add(&m->caps_post_tls, w, strlen(w));
	probe_inject_conclude(m, &d.rec, PROBE_INJ_TLS, false, NULL);
	return m->injection_verdict;
}

/* Open finding 4 of docs/fuzzing.md (fuzz_caps): a correct POP3 server whose
 * CAPA list over TLS begins with an item starting "+OK" or "-ERR" (legal
 * capability names) was called vulnerable: the item looked like the answer
 * to the pipelined NOOP. Minimised input: the TLS stream "+OK\r\n+OK\r\n.\r\n"
 * from a server that lists "+OK" on every connection. */
static void test_pop3_status_like_capability(void)
{
	struct mc_record m;

	CHECK_INT_EQ(pop3_inject("+OK\r\n+OK\r\n.\r\n", "+OK", &m), MC_INJ_NOT_VULNERABLE);
	CHECK_INT_EQ(m.starttls_injection, MC_TRI_NO);
	CHECK_STR_EQ(
	    m.injection_reason,
	    "pipelined command not answered; the status-like line is its first capability");
	CHECK_INT_EQ(pop3_inject("+OK caps\r\n+OK fine\r\nUSER\r\n.\r\n", "+OK fine|USER", &m),
		     MC_INJ_NOT_VULNERABLE);
	CHECK_INT_EQ(pop3_inject("+OK caps\r\n-ERRATA\r\nUSER\r\n.\r\n", "-ERRATA|USER", &m),
		     MC_INJ_NOT_VULNERABLE);
	/* the same servers, vulnerable: the NOOP's answer comes first */
	CHECK_INT_EQ(pop3_inject("+OK\r\n+OK\r\n+OK\r\n.\r\n", "+OK", &m), MC_INJ_VULNERABLE);
	CHECK_INT_EQ(m.starttls_injection, MC_TRI_YES);
	CHECK_INT_EQ(
	    pop3_inject("+OK noop\r\n+OK caps\r\n+OK fine\r\nUSER\r\n.\r\n", "+OK fine|USER", &m),
	    MC_INJ_VULNERABLE);
	CHECK_INT_EQ(
	    pop3_inject("-ERR no\r\n+OK caps\r\n-ERRATA\r\nUSER\r\n.\r\n", "-ERRATA|USER", &m),
	    MC_INJ_VULNERABLE);
	/* a status line the main connection did not list is still an answer */
	CHECK_INT_EQ(pop3_inject("+OK noop\r\n+OK caps\r\nUSER\r\n.\r\n", "USER", &m),
		     MC_INJ_VULNERABLE);
	/* a first item that changes per connection ("+OK <nonce>") is still one
	 * item: no line more than the main connection's list */
	CHECK_INT_EQ(
	    pop3_inject("+OK caps\r\n+OK <1.2@x>\r\nUSER\r\n.\r\n", "+OK <3.4@x>|USER", &m),
	    MC_INJ_NOT_VULNERABLE);
}

static void test_pre_tls_flags(void)
{
	struct drive d;
	char f[256];

	/* PREAUTH on 143 */
	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	d.s.login_probe = false; /* the login probe has its own tests (test_login) */
	drive_script(&d, "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] logged in\r\na2 BAD no\r\n", 0,
		     NULL, 0);
	CHECK_STR_EQ(flags_of(&d.rec, f, sizeof(f)), "preauth");
	/* an [ALERT] and untagged noise while STARTTLS's answer is due */
	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	d.s.login_probe = false; /* the login probe has its own tests (test_login) */
	drive_script(&d,
		     "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n"
		     "* OK [ALERT] system going down\r\n"
		     "* 1 EXISTS\r\n"
		     "a2 NO [ALERT] not now\r\n",
		     0, NULL, 0);
	CHECK_STR_EQ(flags_of(&d.rec, f, sizeof(f)), "untagged_before_tls|alert_before_tls");
	CHECK_STR_EQ((const char *)d.rec.starttls_reply, "a2 NO [ALERT] not now");
	CHECK_UINT_EQ(d.rec.starttls_reply_len, 21);
	/* an untagged EXISTS during the CAPABILITY exchange */
	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	d.s.login_probe = false; /* the login probe has its own tests (test_login) */
	drive_script(&d, "* OK hi\r\n* 3 EXISTS\r\n* CAPABILITY IMAP4rev1\r\na1 OK\r\na2 NO\r\n", 0,
		     NULL, 0);
	CHECK_STR_EQ(flags_of(&d.rec, f, sizeof(f)), "untagged_before_tls");
	/* a clean exchange (dovecot's cold start included) has no flags */
	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	d.s.login_probe = false; /* the login probe has its own tests (test_login) */
	drive_script(&d,
		     "* OK Waiting for authentication process to respond..\r\n"
		     "* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n"
		     "a2 OK Begin TLS negotiation now.\r\n",
		     0, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na4 OK\r\n", 0);
	probe_stls_finish(&d.rec);
	CHECK_STR_EQ(flags_of(&d.rec, f, sizeof(f)), "");
	CHECK_STR_EQ((const char *)d.rec.starttls_reply, "a2 OK Begin TLS negotiation now.");
	/* nothing is flagged over implicit TLS */
	drive_start(&d, MC_PROTO_IMAPS, PROBE_MODE_MAIN);
	d.s.login_probe = false; /* the login probe has its own tests (test_login) */
	drive_script(&d, "* PREAUTH [ALERT] hi\r\n* CAPABILITY IMAP4rev1\r\na1 OK\r\n", 0, NULL, 0);
	CHECK_UINT_EQ(d.rec.starttls_flags, 0);
	/* the reply is kept bounded */
	char longreply[400];
	int n = snprintf(longreply, sizeof(longreply),
			 "* OK hi\r\n* CAPABILITY IMAP4rev1\r\n"
			 "a1 OK\r\na2 NO %0300d\r\n",
			 1);
	drive_start(&d, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	d.s.login_probe = false; /* the login probe has its own tests (test_login) */
	drive_feed(&d, longreply, (size_t)n);
	CHECK_UINT_EQ(d.rec.starttls_reply_len, MC_STARTTLS_REPLY_MAX);
	/* POP3's STLS answer */
	drive_start(&d, MC_PROTO_POP3, PROBE_MODE_MAIN);
	d.s.login_probe = false; /* the login probe has its own tests (test_login) */
	drive_script(&d, "+OK hi\r\n+OK caps\r\nUSER\r\n.\r\n-ERR no TLS here\r\n", 0, NULL, 0);
	CHECK_STR_EQ((const char *)d.rec.starttls_reply, "-ERR no TLS here");
}

static void test_caps_after_tls(void)
{
	struct mc_record r;
	char f[256];

	memset(&r, 0, sizeof(r));
	r.proto = MC_PROTO_IMAP;
	mc_caps_add(&r.caps_pre_tls, "STARTTLS", 8);
	mc_caps_add(&r.caps_pre_tls, "LOGINDISABLED", 13);
	mc_caps_add(&r.caps_post_tls, "IMAP4rev1", 9);
	probe_stls_finish(&r);
	CHECK_STR_EQ(flags_of(&r, f, sizeof(f)), ""); /* LOGINDISABLED gone after TLS: normal */
	mc_caps_add(&r.caps_post_tls, "STARTTLS", 8);
	mc_caps_add(&r.caps_post_tls, "LOGINDISABLED", 13);
	probe_stls_finish(&r);
	CHECK_STR_EQ(flags_of(&r, f, sizeof(f)),
		     "starttls_advertised_after_tls|logindisabled_after_tls");
	memset(&r, 0, sizeof(r));
	r.proto = MC_PROTO_POP3;
	mc_caps_add(&r.caps_post_tls, "STLS", 4);
	probe_stls_finish(&r);
	CHECK_STR_EQ(flags_of(&r, f, sizeof(f)), "starttls_advertised_after_tls");
	memset(&r, 0, sizeof(r));
	r.proto = MC_PROTO_IMAPS; /* 993: STARTTLS over implicit TLS is not our business */
	mc_caps_add(&r.caps_post_tls, "STARTTLS", 8);
	probe_stls_finish(&r);
	CHECK_UINT_EQ(r.starttls_flags, 0);
}

static void test_json(void)
{
	static char buf[MC_RECORD_JSON_MAX];
	struct mc_record r;

	memset(&r, 0, sizeof(r));
	r.proto = MC_PROTO_IMAP;
	r.injection_verdict = MC_INJ_UNRESPONSIVE;
	snprintf(r.injection_reason, sizeof(r.injection_reason), "no answer \"over\" TLS");
	r.starttls_flags = MC_STLS_PREAUTH | MC_STLS_PLAIN_AFTER_REPLY;
	memcpy(r.starttls_reply, "a2 OK \x01go", 9);
	r.starttls_reply_len = 9;
	size_t n = mc_record_to_json(&r, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK(strstr(buf, "\"injection\":null,\"injection_result\":\"unresponsive\","
			  "\"injection_reason\":\"no answer \\\"over\\\" TLS\","
			  "\"reply\":\"a2 OK \\u0001go\",\"flags\":[\"preauth\","
			  "\"plaintext_after_starttls_reply\"]}") != NULL);
	memset(&r, 0, sizeof(r));
	n = mc_record_to_json(&r, buf, sizeof(buf));
	CHECK(strstr(buf, "\"injection_result\":null,\"injection_reason\":null,\"reply\":null,"
			  "\"flags\":[]}") != NULL);
}

int main(void)
{
	RUN(test_random_tags);
	RUN(test_verdict_by_stage);
	RUN(test_pop3_inject);
	RUN(test_pop3_status_like_capability);
	RUN(test_pre_tls_flags);
	RUN(test_caps_after_tls);
	RUN(test_json);
	return test_summary();
}
