/* imap.c — the IMAP probe as an explicit state machine.
 *
 * Plaintext (143): greeting (* OK / * PREAUTH / * BYE; dovecot's cold start
 * may send "* OK Waiting for authentication process to respond.." before
 * the real greeting) -> capabilities (from [CAPABILITY ...] in the greeting,
 * else "a1 CAPABILITY") -> login probe -> "a2 STARTTLS" -> TLS handshake ->
 * "a4 CAPABILITY" over TLS. STARTTLS is tried whether or not it was
 * advertised. Where a capability list advertises ID (RFC 2971), "a7 ID
 * (...)" (before TLS) and "a8 ID (...)" (after) follow it: our name,
 * version and the operator's contact; the server's name and version feed
 * software.c.
 *
 * The login probe (login.h; off with --no-login-probe): "a5 AUTHENTICATE
 * PLAIN", then "a6 AUTHENTICATE LOGIN", both without an initial response.
 * A "+" continuation means the server would take the credentials now; we
 * answer "*", which RFC 3501 makes the server end with a tagged BAD. A
 * tagged NO [PRIVACYREQUIRED] (or a refusal naming TLS) says TLS comes
 * first. It stops at the first step accepted. LOGIN itself carries the
 * password and is never sent: it is recorded as not_probed.
 *
 * STARTTLS injection (own connection, PROBE_MODE_INJECT; see pop3.c for
 * why): greeting -> "T1 STARTTLS\r\nT2 NOOP\r\n" in one write (T1, T2
 * random per connection, starttls.c) -> handshake -> "a4 CAPABILITY". IMAP
 * replies are tagged, so a vulnerable server that kept the pipelined NOOP
 * betrays itself with a "T2 ..." reply over TLS. Lines before TLS also feed
 * the STARTTLS flags (PREAUTH, [ALERT], stray untagged responses).
 *
 * Literals: a line ending in {n} announces n raw bytes. We never allocate
 * for them: up to PROBE_LITERAL_MAX bytes are skipped as they stream past,
 * a larger announcement (e.g. {4294967295}) ends the probe at once with
 * "literal-too-large".
 *
 * Implicit (993): started after the TLS handshake; greeting and
 * capabilities are recorded as post-TLS. Matrix mode: greeting ->
 * STARTTLS -> handshake -> done. */
#include <string.h>

#include "probes/login.h"
#include "probes/session.h"
#include "probes/software.h"
#include "probes/starttls.h"

/* The login probe's steps, in order, each with its own tag (aN). */
static const struct {
	enum mc_login_cmd cmd;
	const char *text;
	int tag;
} imap_login_steps[] = {
    {MC_LOGIN_CMD_IMAP_AUTH_PLAIN, "a5 AUTHENTICATE PLAIN\r\n", 5},
    {MC_LOGIN_CMD_IMAP_AUTH_LOGIN, "a6 AUTHENTICATE LOGIN\r\n", 6},
};
#define IMAP_LOGIN_NSTEPS (sizeof(imap_login_steps) / sizeof(imap_login_steps[0]))

enum imap_state {
	IMAP_GREETING,
	IMAP_CAPA,
	IMAP_ID,	   /* "a7 ID (...)" before TLS, "a8 ID (...)" after (software.c) */
	IMAP_LOGIN_REPLY,  /* login probe: "+" or the tagged answer to AUTHENTICATE */
	IMAP_LOGIN_CANCEL, /* login probe: "*" sent, the tagged end of the exchange is due */
	IMAP_STARTTLS_REPLY,
	IMAP_TLS_HANDSHAKE,
	IMAP_DONE,
};

/* Debug names of the states (tests, fuzzing); not output. */
static const char *imap_state_name(const struct probe_sess *s)
{
	switch ((enum imap_state)s->state) {
	case IMAP_GREETING:
		return "greeting";
	case IMAP_CAPA:
		return "capa";
	case IMAP_ID:
		return "id";
	case IMAP_LOGIN_REPLY:
		return "login-reply";
	case IMAP_LOGIN_CANCEL:
		return "login-cancel";
	case IMAP_STARTTLS_REPLY:
		return "starttls-reply";
	case IMAP_TLS_HANDSHAKE:
		return "tls-handshake";
	case IMAP_DONE:
		return "done";
	}
	return "unknown";
}

/* The error stage of each state: the record's "stage: reason". */
static enum probe_stage imap_stage(const struct probe_sess *s)
{
	switch ((enum imap_state)s->state) {
	case IMAP_GREETING:
		return PROBE_STAGE_GREETING;
	case IMAP_CAPA:
		return s->tls_up ? PROBE_STAGE_CAPABILITY_TLS : PROBE_STAGE_CAPABILITY;
	case IMAP_ID:
		return s->tls_up ? PROBE_STAGE_ID_TLS : PROBE_STAGE_ID;
	case IMAP_LOGIN_REPLY:
		return PROBE_STAGE_LOGIN;
	case IMAP_LOGIN_CANCEL:
		return PROBE_STAGE_LOGIN_CANCEL;
	case IMAP_STARTTLS_REPLY:
		return PROBE_STAGE_STARTTLS;
	case IMAP_TLS_HANDSHAKE:
		return PROBE_STAGE_TLS_HANDSHAKE;
	case IMAP_DONE:
		break;
	}
	return PROBE_STAGE_DONE;
}

static void enter_state(struct probe_sess *s, enum imap_state next)
{
	s->state = next;
	switch (next) {
	case IMAP_CAPA:
		probe_sess_send(s, s->tls_up && !s->implicit ? s->desc->capa_cmd_tls
							     : s->desc->capa_cmd);
		break;
	case IMAP_ID: {
		char req[PROBE_TX_MAX];

		s->id_asked = true;
		if (probe_sw_id_request(req, sizeof(req), s->tls_up ? "a8" : "a7", s->contact) == 0)
			probe_sw_id_request(req, sizeof(req), s->tls_up ? "a8" : "a7", NULL);
		probe_sess_send(s, req);
		break;
	}
	case IMAP_LOGIN_REPLY: /* the caller checked that a step is left and fits */
		probe_login_begin(s, imap_login_steps[s->login_next].cmd);
		probe_sess_send(s, imap_login_steps[s->login_next].text);
		s->login_next++;
		break;
	case IMAP_LOGIN_CANCEL:
		s->login_cancels++;
		probe_sess_send(s, "*\r\n");
		break;
	case IMAP_STARTTLS_REPLY:
		probe_stls_request(s); /* the injection test's tags are random (starttls.c) */
		break;
	case IMAP_TLS_HANDSHAKE:
		s->want_tls = true;
		break;
	case IMAP_DONE:
		s->done = true;
		break;
	case IMAP_GREETING:
		break;
	}
}

/* Add the space-separated atoms of text[0..len) to the current list. */
static void imap_add_atoms(struct probe_sess *s, const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start;

		while (i < len && text[i] == ' ')
			i++;
		start = i;
		while (i < len && text[i] != ' ')
			i++;
		if (i > start)
			probe_caps_add(probe_sess_caps(s), text + start, i - start);
	}
}

/* "[CAPABILITY a b c]" anywhere in a response text: record the atoms. */
static bool imap_bracket_caps(struct probe_sess *s, const char *line, size_t len)
{
	static const char key[] = "[CAPABILITY ";
	const size_t klen = sizeof(key) - 1;

	for (size_t i = 0; i + klen <= len; i++) {
		if (probe_starts_with(line + i, len - i, key)) {
			const char *p = line + i + klen;
			const char *end = memchr(p, ']', len - i - klen);

			imap_add_atoms(s, p, end ? (size_t)(end - p) : len - i - klen);
			return true;
		}
	}
	return false;
}

/* A trailing {n} or {n+}: set literal_left. false when n is too large. */
static bool imap_literal(struct probe_sess *s, const char *line, size_t len)
{
	size_t i, digits = 0;
	uint64_t n = 0;

	if (len < 3 || line[len - 1] != '}')
		return true;
	i = len - 2;
	if (line[i] == '+')
		i--;
	while (i > 0 && line[i] >= '0' && line[i] <= '9') {
		i--;
		digits++;
	}
	if (line[i] != '{' || digits == 0)
		return true;
	if (digits > 10)
		return false;
	for (size_t k = i + 1; k < i + 1 + digits; k++)
		n = n * 10 + (uint64_t)(line[k] - '0');
	if (n > PROBE_LITERAL_MAX)
		return false;
	s->literal_left = (uint32_t)n;
	return true;
}

static void imap_start(struct probe_sess *s)
{
	enter_state(s, IMAP_GREETING);
}

/* The next login-probe step; once a step was accepted or none is left,
 * note LOGIN (not probed) and go on to STARTTLS. */
static void imap_login_next(struct probe_sess *s)
{
	if (s->login_next < IMAP_LOGIN_NSTEPS && s->rec->login_steps < MC_LOGIN_STEPS &&
	    !probe_login_accepted(s)) {
		enter_state(s, IMAP_LOGIN_REPLY);
		return;
	}
	probe_login_note_unprobed(s, MC_LOGIN_CMD_IMAP_LOGIN);
	enter_state(s, IMAP_STARTTLS_REPLY);
}

/* IMAP's own step after a capability list: ID where it is advertised
 * (once on each side of TLS, main connection only), then the shared rest. */
static void imap_after_capa(struct probe_sess *s)
{
	if (s->mode == PROBE_MODE_MAIN && !s->id_asked &&
	    probe_caps_has(probe_sess_caps(s), "ID")) {
		enter_state(s, IMAP_ID); /* back here when it is answered */
		return;
	}
	probe_sess_after_capa(s);
}

static void imap_greeting(struct probe_sess *s, const char *line, size_t len)
{
	bool have_caps;

	probe_sess_banner(s, line, len);
	if (probe_starts_with(line, len, "* BYE")) {
		probe_sess_fail(s, PROBE_STAGE_GREETING, "bye");
		enter_state(s, IMAP_DONE);
		return;
	}
	if (!probe_starts_with(line, len, "* OK") && !probe_starts_with(line, len, "* PREAUTH")) {
		probe_sess_fail(s, PROBE_STAGE_GREETING, "bad-greeting");
		enter_state(s, IMAP_DONE);
		return;
	}
	have_caps = imap_bracket_caps(s, line, len);
	if (!have_caps && memmem(line, len, "Waiting for authentication", 26) != NULL)
		return; /* dovecot cold start: the real greeting follows */
	if (s->mode != PROBE_MODE_MAIN && !s->tls_up)
		enter_state(s, IMAP_STARTTLS_REPLY);
	else if (have_caps)
		imap_after_capa(s);
	else
		enter_state(s, IMAP_CAPA);
}

/* A tagged reply "aN OK|NO|BAD ...": the tag number, or -1 if untagged. */
static int imap_tag(const char *line, size_t len)
{
	if (len >= 3 && line[0] == 'a' && line[1] >= '1' && line[1] <= '9' && line[2] == ' ')
		return line[1] - '0';
	return -1;
}

static void imap_capa_line(struct probe_sess *s, const char *line, size_t len)
{
	int tag = imap_tag(line, len);

	if (s->tls_up && s->mode == PROBE_MODE_INJECT &&
	    probe_stls_tagged(line, len, s->tag_noop)) {
		s->rec->starttls_injection = MC_TRI_YES; /* the pipelined NOOP, answered over TLS */
		return;
	}
	if (tag == (s->tls_up && !s->implicit ? 4 : 1)) {
		imap_after_capa(s);
		return;
	}
	if (probe_starts_with(line, len, "* CAPABILITY "))
		imap_add_atoms(s, line + 13, len - 13);
	else if (probe_starts_with(line, len, "* OK"))
		imap_bracket_caps(s, line, len); /* e.g. the late real greeting */
}

/* The tag of the login step being run. */
static int imap_login_tag(const struct probe_sess *s)
{
	return s->login_next > 0 ? imap_login_steps[s->login_next - 1].tag : -1;
}

/* The answer to AUTHENTICATE: a "+" continuation (the server would take the
 * credentials now: cancel it), or the tagged OK/NO/BAD. Untagged lines and
 * other tags are noise. */
static void imap_login_line(struct probe_sess *s, const char *line, size_t len)
{
	if (len > 0 && line[0] == '+') {
		probe_login_answer(s, MC_LOGIN_ACCEPTED, line, len);
		enter_state(s, IMAP_LOGIN_CANCEL);
		return;
	}
	if (imap_tag(line, len) != imap_login_tag(s))
		return;
	if (probe_starts_with(line + 3, len - 3, "OK"))
		probe_login_answer(s, MC_LOGIN_ACCEPTED, line,
				   len); /* no credential asked at all */
	else if (probe_starts_with(line + 3, len - 3, "NO"))
		probe_login_answer(s, probe_login_refusal(line, len, MC_LOGIN_REFUSED), line, len);
	else
		probe_login_answer(s, probe_login_refusal(line, len, MC_LOGIN_BAD), line, len);
	imap_login_next(s);
}

/* After "*": the tagged reply that ends the exchange. A server that
 * challenges again gets one more "*", then the probe gives up. */
static void imap_login_cancel_line(struct probe_sess *s, const char *line, size_t len)
{
	if (len > 0 && line[0] == '+') {
		if (s->login_cancels < PROBE_LOGIN_CANCELS_MAX) {
			enter_state(s, IMAP_LOGIN_CANCEL);
			return;
		}
		probe_sess_fail(s, imap_stage(s), "cancel-ignored");
		enter_state(s, IMAP_DONE);
		return;
	}
	if (imap_tag(line, len) == imap_login_tag(s))
		imap_login_next(s);
}

/* The answer to ID: "* ID (...)" then "a7/a8 OK|NO|BAD"; a refusal is no error. */
static void imap_id_line(struct probe_sess *s, const char *line, size_t len)
{
	int tag = imap_tag(line, len);

	if (tag == (s->tls_up ? 8 : 7)) {
		imap_after_capa(s);
		return;
	}
	probe_sw_id_line(&s->rec->software, line, len);
}

static void imap_starttls_line(struct probe_sess *s, const char *line, size_t len)
{
	const char *tag = s->mode == PROBE_MODE_INJECT ? s->tag_stls : "a2";
	size_t tl = strlen(tag) + 1;

	if (!probe_stls_tagged(line, len, tag))
		return; /* untagged noise */
	probe_stls_reply(s, line, len);
	probe_sess_starttls_answer(s, probe_starts_with(line + tl, len - tl, "OK"));
}

static void imap_dispatch(struct probe_sess *s, const char *line, size_t len)
{
	probe_stls_imap_pre_tls(s, line, len, s->state == IMAP_GREETING,
				s->state == IMAP_STARTTLS_REPLY);
	if (s->state != IMAP_GREETING && probe_starts_with(line, len, "* BYE")) {
		probe_sess_fail(s, imap_stage(s), "bye");
		enter_state(s, IMAP_DONE);
		return;
	}
	switch ((enum imap_state)s->state) {
	case IMAP_GREETING:
		imap_greeting(s, line, len);
		break;
	case IMAP_CAPA:
		imap_capa_line(s, line, len);
		break;
	case IMAP_ID:
		imap_id_line(s, line, len);
		break;
	case IMAP_LOGIN_REPLY:
		imap_login_line(s, line, len);
		break;
	case IMAP_LOGIN_CANCEL:
		imap_login_cancel_line(s, line, len);
		break;
	case IMAP_STARTTLS_REPLY:
		imap_starttls_line(s, line, len);
		break;
	case IMAP_TLS_HANDSHAKE:
	case IMAP_DONE:
		break;
	}
}

static void imap_on_line(struct probe_sess *s, const char *line, size_t len)
{
	if (s->literal_left > 0) {
		size_t used = len + 2; /* the line's bytes and its CRLF */

		if (used <= s->literal_left) {
			s->literal_left -= (uint32_t)used;
			return;
		}
		if (s->literal_left >= len) { /* ended inside the CRLF */
			s->literal_left = 0;
			return;
		}
		line += s->literal_left;
		len -= s->literal_left;
		s->literal_left = 0;
	}
	if (!imap_literal(s, line, len)) {
		probe_sess_fail(s, imap_stage(s), "literal-too-large");
		enter_state(s, IMAP_DONE);
		return;
	}
	imap_dispatch(s, line, len);
}

static void imap_enter(struct probe_sess *s, int state)
{
	enter_state(s, (enum imap_state)state);
}

static const struct probe_proto_desc imap_desc = {
    .stls_word = "STARTTLS",
    .capa_cmd = "a1 CAPABILITY\r\n",
    .capa_cmd_tls = "a4 CAPABILITY\r\n",
    .stls_cmd = "a2 STARTTLS\r\n",
    .tagged = true,
    .login_after_refusal = false,
    .st_greeting = IMAP_GREETING,
    .st_capa = IMAP_CAPA,
    .st_starttls = IMAP_STARTTLS_REPLY,
    .st_tls_handshake = IMAP_TLS_HANDSHAKE,
    .st_done = IMAP_DONE,
    .enter = imap_enter,
    .login_next = imap_login_next,
};

const struct probe_proto_ops probe_imap_ops = {
    .name = "imap",
    .start = imap_start,
    .on_line = imap_on_line,
    .on_tls_ready = probe_sess_on_tls_ready,
    .state_name = imap_state_name,
    .stage = imap_stage,
    .desc = &imap_desc,
};
