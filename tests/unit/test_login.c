/* test_login.c — the login probe's bookkeeping (probes/login.c): steps and
 * their bound, refusal reasons, the POP3 login connection's rules, the
 * restart after a server broke the probe. */
#include "tests/unit/test.h"
#include "probes/login.h"

static void test_tls_reason(void)
{
	static const struct {
		const char *line;
		bool tls;
	} rows[] = {
	    {"a5 NO [PRIVACYREQUIRED] Authentication not allowed until SSL/TLS is enabled.", true},
	    {"-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
	     true},
	    {"-ERR TLS required to log in", true},
	    {"a5 NO AUTHENTICATE Command disabled: Use STARTTLS first", true},
	    {"-ERR use STLS first", true},
	    {"a6 BAD encryption needed", true},
	    {"-ERR cleartext logins not allowed", true},
	    {"-ERR Unknown command", false},
	    {"-ERR Incorrect state", false},
	    {"a5 BAD Unsupported authentication mechanism.", false},
	    {"-ERR no such mailbox", false},
	    {"", false},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool got = probe_login_tls_reason(rows[i].line, strlen(rows[i].line));

		if (got != rows[i].tls)
			fprintf(stderr, "  line \"%s\"\n", rows[i].line);
		CHECK_INT_EQ(got, rows[i].tls);
	}
	/* a NUL byte stops nothing: the line is raw bytes with a length */
	CHECK(probe_login_tls_reason("-ERR \0 TLS", 10));
	CHECK(!probe_login_tls_reason("-ERR TL", 7)); /* no read past the length */
	CHECK_INT_EQ(probe_login_refusal("-ERR x", 6, MC_LOGIN_REFUSED), MC_LOGIN_REFUSED);
	CHECK_INT_EQ(probe_login_refusal("a5 BAD", 6, MC_LOGIN_BAD), MC_LOGIN_BAD);
	CHECK_INT_EQ(probe_login_refusal("a5 BAD ssl", 10, MC_LOGIN_BAD), MC_LOGIN_REFUSED_TLS);
}

static void test_steps_bounded(void)
{
	static struct mc_record rec;
	static char big[1000];
	struct probe_sess s;

	probe_sess_init(&s, &rec, MC_PROTO_POP3, PROBE_MODE_MAIN);
	CHECK_INT_EQ(probe_login_current(&s), MC_LOGIN_CMD_NONE);
	for (int i = 0; i < MC_LOGIN_STEPS; i++)
		CHECK(probe_login_begin(&s, MC_LOGIN_CMD_POP3_AUTH_PLAIN));
	CHECK(!probe_login_begin(&s, MC_LOGIN_CMD_POP3_USER)); /* full: not run */
	CHECK_UINT_EQ(rec.login_steps, MC_LOGIN_STEPS);
	CHECK_INT_EQ(rec.login[0].outcome, MC_LOGIN_NO_REPLY);
	memset(big, 'x', sizeof(big));
	probe_login_answer(&s, MC_LOGIN_REFUSED, big, sizeof(big));
	CHECK_UINT_EQ(rec.login[MC_LOGIN_STEPS - 1].reply_len, MC_LOGIN_REPLY_MAX);
	CHECK(rec.login[MC_LOGIN_STEPS - 1].reply_truncated);
	CHECK(!probe_login_accepted(&s));
	probe_login_answer(&s, MC_LOGIN_ACCEPTED, "+ ", 2);
	CHECK(probe_login_accepted(&s));
	CHECK_UINT_EQ(rec.login[MC_LOGIN_STEPS - 1].reply_len, 2);
	CHECK(!rec.login[MC_LOGIN_STEPS - 1].reply_truncated);
}

static void test_login_connection_rules(void)
{
	static struct mc_record main, login;
	struct probe_sess s;

	probe_sess_init(&s, &main, MC_PROTO_POP3, PROBE_MODE_MAIN);
	main.proto = MC_PROTO_POP3;
	main.starttls_accepted = MC_TRI_YES;
	CHECK(probe_login_wants_connection(&main)); /* no step yet */
	probe_login_begin(&s, MC_LOGIN_CMD_POP3_AUTH_PLAIN);
	probe_login_answer(&s, MC_LOGIN_REFUSED, "-ERR", 4);
	CHECK(probe_login_wants_connection(&main));
	main.starttls_accepted = MC_TRI_NO; /* USER ran on the main connection */
	CHECK(!probe_login_wants_connection(&main));
	main.starttls_accepted = MC_TRI_YES;
	main.proto = MC_PROTO_IMAP;
	CHECK(!probe_login_wants_connection(&main));
	main.proto = MC_PROTO_POP3;

	/* the login connection's USER joins the main steps */
	probe_sess_init(&s, &login, MC_PROTO_POP3, PROBE_MODE_LOGIN);
	probe_login_begin(&s, MC_LOGIN_CMD_POP3_USER);
	probe_login_answer(&s, MC_LOGIN_ACCEPTED, "+OK", 3);
	probe_login_merge(&main, &login);
	CHECK_UINT_EQ(main.login_steps, 2);
	CHECK_INT_EQ(main.login[1].cmd, MC_LOGIN_CMD_POP3_USER);
	CHECK(!probe_login_wants_connection(&main)); /* USER ran, and was accepted */
	for (int i = 0; i < 5; i++)
		probe_login_merge(&main, &login);
	CHECK_UINT_EQ(main.login_steps, MC_LOGIN_STEPS); /* never past the array */
}

static void test_restart(void)
{
	static struct mc_record rec;
	struct probe_sess s;

	probe_sess_init(&s, &rec, MC_PROTO_IMAP, PROBE_MODE_MAIN);
	rec.ip = 0xc6120102;
	rec.port = 143;
	rec.proto = MC_PROTO_IMAP;
	rec.banner_len = 4;
	mc_caps_add(&rec.caps_pre_tls, "IMAP4rev1", 9);
	probe_login_begin(&s, MC_LOGIN_CMD_IMAP_AUTH_PLAIN);
	CHECK(!probe_login_broke(&rec));
	probe_sess_fail(&s, PROBE_STAGE_LOGIN, "read-timeout");
	CHECK(probe_login_broke(&rec));
	probe_login_restart(&rec);
	CHECK_STR_EQ(rec.error, "");
	CHECK_UINT_EQ(rec.ip, 0xc6120102);
	CHECK_UINT_EQ(rec.port, 143);
	CHECK_INT_EQ(rec.proto, MC_PROTO_IMAP);
	CHECK_UINT_EQ(rec.banner_len, 0);
	CHECK_UINT_EQ(rec.caps_pre_tls.count, 0); /* measured again: no duplicates */
	CHECK_UINT_EQ(rec.login_steps, 1);
	CHECK_INT_EQ(rec.login[0].outcome, MC_LOGIN_NO_REPLY);

	memset(rec.error, 0, sizeof(rec.error));
	snprintf(rec.error, sizeof(rec.error), "login-cancel: cancel-ignored");
	CHECK(probe_login_broke(&rec));
	snprintf(rec.error, sizeof(rec.error), "starttls: starttls-refused");
	CHECK(!probe_login_broke(&rec));
	snprintf(rec.error, sizeof(rec.error), "loginx: y");
	CHECK(!probe_login_broke(&rec));
}

int main(void)
{
	RUN(test_tls_reason);
	RUN(test_steps_bounded);
	RUN(test_login_connection_rules);
	RUN(test_restart);
	return test_summary();
}
