/* pop3.c — the POP3 probe as an explicit state machine.
 *
 * Plaintext (110):  greeting -> CAPA -> login probe -> STLS -> TLS handshake
 * -> CAPA again over TLS. STLS is tried whether or not CAPA advertised it;
 * advertised and accepted are recorded separately.
 *
 * The login probe (login.h; off with --no-login-probe) asks whether a
 * password could cross in clear text, without sending one: "AUTH PLAIN",
 * then "AUTH LOGIN" before STLS (a "+" continuation is answered with "*",
 * which RFC 5034 makes the server refuse with -ERR: no state is left), then
 * "USER <fixed non-account>" (never PASS) followed by a QUIT we do not wait
 * for. It stops at the first step accepted. USER cannot go before STLS:
 * its +OK leaves the server waiting for PASS, and GNU Mailutils pop3d then
 * refuses STLS. So USER runs after a refused STLS on the main connection,
 * or, when the server took STLS, on its own short plaintext connection
 * (PROBE_MODE_LOGIN: greeting -> USER -> QUIT), which the grabber opens.
 *
 * STARTTLS injection (Poddebniak et al., USENIX Security 2021) runs on its
 * own connection (PROBE_MODE_INJECT): greeting -> "STLS\r\nNOOP\r\n" in one
 * write -> handshake -> CAPA. It cannot share the main connection: dovecot,
 * correctly, hands the pipelined bytes to its TLS layer, so the handshake
 * fails ("wrong version number") and we would lose the TLS facts. A correct
 * server drops the NOOP (or fails the handshake, which the grabber records
 * as "no"). A vulnerable one answers it over TLS, before the answer to our
 * CAPA. POP3 replies carry no tag, so we recognise the stray reply by shape:
 * -ERR where CAPA's status was due (the grabber only runs this test when CAPA
 * worked over TLS on the main connection; NOOP is -ERR before login), or a
 * second status line where the CAPA list should start (+OK NOOP). A list
 * that itself begins with "+OK..." or "-ERR..." (legal capability names)
 * looks the same here; probe_inject_conclude() (starttls.c) tells them
 * apart with the main connection's list over TLS.
 *
 * Implicit (995): the grabber starts us after the TLS handshake: greeting ->
 * CAPA (recorded as post-TLS capabilities) -> done.
 * Matrix mode: greeting -> STLS -> handshake -> done (the grabber records
 * whether the pinned version was accepted). */
#include <string.h>

#include "probes/login.h"
#include "probes/session.h"
#include "probes/starttls.h"

#define POP3_CAPA_LINES_MAX 256 /* a CAPA list longer than this is hostile */

/* The login probe's steps, in order. */
static const struct {
	enum mc_login_cmd cmd;
	const char *text;
} pop3_login_steps[] = {
    {MC_LOGIN_CMD_POP3_AUTH_PLAIN, "AUTH PLAIN\r\n"},
    {MC_LOGIN_CMD_POP3_AUTH_LOGIN, "AUTH LOGIN\r\n"},
    {MC_LOGIN_CMD_POP3_USER, "USER " MC_LOGIN_PROBE_USER "\r\n"},
};
#define POP3_LOGIN_NSTEPS (sizeof(pop3_login_steps) / sizeof(pop3_login_steps[0]))

enum pop3_state {
	POP3_GREETING,
	POP3_CAPA_STATUS,
	POP3_CAPA_LIST,
	POP3_LOGIN_REPLY,  /* login probe: the answer to AUTH PLAIN / AUTH LOGIN / USER */
	POP3_LOGIN_CANCEL, /* login probe: "*" sent, the -ERR that ends the AUTH is due */
	POP3_QUIT,	   /* login probe over: QUIT sent, not waited for */
	POP3_STLS_REPLY,
	POP3_TLS_HANDSHAKE,
	POP3_DONE,
};

/* Debug names of the states (tests, fuzzing); not output. */
static const char *pop3_state_name(const struct probe_sess *s)
{
	switch ((enum pop3_state)s->state) {
	case POP3_GREETING:
		return "greeting";
	case POP3_CAPA_STATUS:
		return "capa-status";
	case POP3_CAPA_LIST:
		return "capa-list";
	case POP3_LOGIN_REPLY:
		return "login-reply";
	case POP3_LOGIN_CANCEL:
		return "login-cancel";
	case POP3_QUIT:
		return "quit";
	case POP3_STLS_REPLY:
		return "stls-reply";
	case POP3_TLS_HANDSHAKE:
		return "tls-handshake";
	case POP3_DONE:
		return "done";
	}
	return "unknown";
}

/* The error stage of each state: the record's "stage: reason". */
static enum probe_stage pop3_stage(const struct probe_sess *s)
{
	switch ((enum pop3_state)s->state) {
	case POP3_GREETING:
		return PROBE_STAGE_GREETING;
	case POP3_CAPA_STATUS:
	case POP3_CAPA_LIST:
		return s->tls_up ? PROBE_STAGE_CAPA_TLS : PROBE_STAGE_CAPA;
	case POP3_LOGIN_REPLY:
		return PROBE_STAGE_LOGIN;
	case POP3_LOGIN_CANCEL:
		return PROBE_STAGE_LOGIN_CANCEL;
	case POP3_QUIT:
		return PROBE_STAGE_QUIT;
	case POP3_STLS_REPLY:
		return PROBE_STAGE_STARTTLS;
	case POP3_TLS_HANDSHAKE:
		return PROBE_STAGE_TLS_HANDSHAKE;
	case POP3_DONE:
		break;
	}
	return PROBE_STAGE_DONE;
}

static void enter_state(struct probe_sess *s, enum pop3_state next)
{
	s->state = next;
	switch (next) {
	case POP3_CAPA_STATUS:
		s->capa_lines = 0;
		probe_sess_send(s, s->desc->capa_cmd);
		break;
	case POP3_LOGIN_REPLY: /* the caller checked that a step is left and fits */
		probe_login_begin(s, pop3_login_steps[s->login_next].cmd);
		probe_sess_send(s, pop3_login_steps[s->login_next].text);
		s->login_next++;
		break;
	case POP3_LOGIN_CANCEL:
		s->login_cancels++;
		probe_sess_send(s, "*\r\n");
		break;
	case POP3_QUIT: /* courtesy only: the connection closes at once */
		probe_sess_send(s, "QUIT\r\n");
		s->done = true;
		break;
	case POP3_STLS_REPLY:
		probe_stls_request(s);
		break;
	case POP3_TLS_HANDSHAKE:
		s->want_tls = true;
		break;
	case POP3_DONE:
		s->done = true;
		break;
	case POP3_GREETING:
	case POP3_CAPA_LIST:
		break;
	}
}

static void pop3_start(struct probe_sess *s)
{
	enter_state(s, POP3_GREETING);
}

/* Is the next login step still to run? Not once a step was accepted. */
static bool pop3_login_more(const struct probe_sess *s)
{
	return s->login_next < POP3_LOGIN_NSTEPS && s->rec->login_steps < MC_LOGIN_STEPS &&
	       !probe_login_accepted(s);
}

/* The next login-probe step. Before STLS only the AUTH steps run, then
 * STLS; after a refused STLS (or on the login connection) USER, then QUIT. */
static void pop3_login_next(struct probe_sess *s)
{
	bool before_stls =
	    s->mode == PROBE_MODE_MAIN && s->rec->starttls_accepted == MC_TRI_UNKNOWN;

	if (pop3_login_more(s) &&
	    !(before_stls && pop3_login_steps[s->login_next].cmd == MC_LOGIN_CMD_POP3_USER))
		enter_state(s, POP3_LOGIN_REPLY);
	else if (before_stls)
		enter_state(s, POP3_STLS_REPLY);
	else if (s->rec->login_steps > 0 && probe_login_current(s) == MC_LOGIN_CMD_POP3_USER)
		enter_state(s, POP3_QUIT);
	else
		enter_state(s, POP3_DONE);
}

/* The status line answering a login-probe command. A "+" line is a SASL
 * continuation (AUTH) or +OK (USER): the server would take the credential
 * next. An AUTH continuation is cancelled; USER needs nothing more. */
static void pop3_login_line(struct probe_sess *s, const char *line, size_t len)
{
	if (len > 0 && line[0] == '+') {
		probe_login_answer(s, MC_LOGIN_ACCEPTED, line, len);
		if (probe_login_current(s) == MC_LOGIN_CMD_POP3_USER)
			pop3_login_next(s);
		else
			enter_state(s, POP3_LOGIN_CANCEL);
		return;
	}
	if (probe_starts_with(line, len, "-ERR"))
		probe_login_answer(s, probe_login_refusal(line, len, MC_LOGIN_REFUSED), line, len);
	else
		probe_login_answer(s, MC_LOGIN_BAD, line, len);
	pop3_login_next(s);
}

/* After "*": the -ERR that ends the exchange. A server that challenges
 * again gets one more "*", then the probe gives up on this connection. */
static void pop3_login_cancel_line(struct probe_sess *s, const char *line, size_t len)
{
	if (len > 0 && line[0] == '+' && !probe_starts_with(line, len, "+OK")) {
		if (s->login_cancels < PROBE_LOGIN_CANCELS_MAX) {
			enter_state(s, POP3_LOGIN_CANCEL);
			return;
		}
		probe_sess_fail(s, pop3_stage(s), "cancel-ignored");
		enter_state(s, POP3_DONE);
		return;
	}
	pop3_login_next(s);
}

static void pop3_greeting(struct probe_sess *s, const char *line, size_t len)
{
	probe_sess_banner(s, line, len);
	if (!probe_starts_with(line, len, "+OK")) {
		probe_sess_fail(s, PROBE_STAGE_GREETING, "bad-greeting");
		enter_state(s, POP3_DONE);
		return;
	}
	if (s->mode == PROBE_MODE_LOGIN) {
		s->login_next = POP3_LOGIN_NSTEPS - 1; /* USER only */
		pop3_login_next(s);
	} else if (s->mode != PROBE_MODE_MAIN && !s->tls_up) {
		enter_state(s, POP3_STLS_REPLY);
	} else {
		enter_state(s, POP3_CAPA_STATUS);
	}
}

static void pop3_capa_status(struct probe_sess *s, const char *line, size_t len)
{
	bool ok = probe_starts_with(line, len, "+OK");

	if (!ok && !probe_starts_with(line, len, "-ERR")) {
		probe_sess_fail(s, pop3_stage(s), "bad-reply");
		enter_state(s, POP3_DONE);
		return;
	}
	if (!ok && s->tls_up && s->mode == PROBE_MODE_INJECT &&
	    s->rec->starttls_injection == MC_TRI_UNKNOWN) {
		/* -ERR to the injected NOOP; the CAPA answer follows. */
		s->rec->starttls_injection = MC_TRI_YES;
		return;
	}
	if (ok)
		enter_state(s, POP3_CAPA_LIST);
	else
		probe_sess_after_capa(s);
}

static void pop3_capa_item(struct probe_sess *s, const char *line, size_t len)
{
	if (len == 1 && line[0] == '.') {
		probe_sess_after_capa(s);
		return;
	}
	if (s->tls_up && s->mode == PROBE_MODE_INJECT && s->capa_lines == 0 &&
	    s->rec->starttls_injection == MC_TRI_UNKNOWN &&
	    (probe_starts_with(line, len, "+OK") || probe_starts_with(line, len, "-ERR"))) {
		/* The status line we took for CAPA's answered the injected NOOP. */
		s->rec->starttls_injection = MC_TRI_YES;
		return;
	}
	if (++s->capa_lines > POP3_CAPA_LINES_MAX) {
		probe_sess_fail(s, pop3_stage(s), "too-many-capa-lines");
		enter_state(s, POP3_DONE);
		return;
	}
	if (len > 0 && line[0] == '.') { /* dot-unstuffing */
		line++;
		len--;
	}
	probe_caps_add(probe_sess_caps(s), line, len);
}

static void pop3_on_line(struct probe_sess *s, const char *line, size_t len)
{
	switch ((enum pop3_state)s->state) {
	case POP3_GREETING:
		pop3_greeting(s, line, len);
		break;
	case POP3_CAPA_STATUS:
		pop3_capa_status(s, line, len);
		break;
	case POP3_CAPA_LIST:
		pop3_capa_item(s, line, len);
		break;
	case POP3_LOGIN_REPLY:
		pop3_login_line(s, line, len);
		break;
	case POP3_LOGIN_CANCEL:
		pop3_login_cancel_line(s, line, len);
		break;
	case POP3_STLS_REPLY:
		probe_stls_reply(s, line, len);
		probe_sess_starttls_answer(s, probe_starts_with(line, len, "+OK"));
		break;
	case POP3_TLS_HANDSHAKE:
	case POP3_QUIT:
	case POP3_DONE:
		break; /* plaintext after +OK to STLS is dropped by the io layer */
	}
}

static void pop3_enter(struct probe_sess *s, int state)
{
	enter_state(s, (enum pop3_state)state);
}

static const struct probe_proto_desc pop3_desc = {
    .stls_word = "STLS",
    .capa_cmd = "CAPA\r\n",
    .capa_cmd_tls = "CAPA\r\n",
    .stls_cmd = "STLS\r\n",
    .tagged = false,
    .login_after_refusal = true,
    .st_greeting = POP3_GREETING,
    .st_capa = POP3_CAPA_STATUS,
    .st_starttls = POP3_STLS_REPLY,
    .st_tls_handshake = POP3_TLS_HANDSHAKE,
    .st_done = POP3_DONE,
    .enter = pop3_enter,
    .login_next = pop3_login_next,
};

const struct probe_proto_ops probe_pop3_ops = {
    .name = "pop3",
    .start = pop3_start,
    .on_line = pop3_on_line,
    .on_tls_ready = probe_sess_on_tls_ready,
    .state_name = pop3_state_name,
    .stage = pop3_stage,
    .desc = &pop3_desc,
};
