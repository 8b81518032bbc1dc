/* starttls.c — injection verdicts and suspicious STARTTLS behaviour.
 *
 * The injection test (pop3.c / imap.c, PROBE_MODE_INJECT) pipelines a
 * command behind STARTTLS in one write. A correct server either discards
 * what followed STARTTLS or hands it to its TLS layer (dovecot; the
 * handshake then fails); a vulnerable one (CVE-2011-0411 and the EAST
 * findings) executes it and answers inside TLS. Like the reference tester,
 * we tell four outcomes apart: vulnerable, not vulnerable, unresponsive
 * (the server went silent: it may be waiting for more, which says nothing
 * about injection), and inconclusive (anything else, e.g. STARTTLS refused
 * on the second connection). IMAP tags are random per test connection, so
 * an answer can only match the command we sent on it.
 *
 * The flags (MC_STLS_*) mark what makes STARTTLS fragile even where the
 * injection test passes (EAST sections 4-5):
 *   preauth                         an IMAP PREAUTH greeting in plaintext: the
 *                                   session is authenticated, STARTTLS is no
 *                                   longer allowed (RFC 3501), so TLS never comes;
 *   untagged_before_tls             untagged responses that do not belong to the
 *                                   exchange (any while STARTTLS's answer is due) -
 *                                   what response injection looks like on the wire;
 *   alert_before_tls                an [ALERT] in plaintext (a client must show it
 *                                   to the user: an attacker's text);
 *   plaintext_after_starttls_reply  bytes after the "OK, begin TLS" line that a
 *                                   client must drop (the io layer counts them);
 *   starttls_advertised_after_tls   STARTTLS/STLS still offered inside TLS: the
 *                                   server (or a proxy in front of it) does not
 *                                   track the TLS state;
 *   logindisabled_after_tls         login still disabled inside TLS: same
 *                                   confusion. (LOGINDISABLED disappearing after
 *                                   TLS is the normal change and is not flagged.) */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probes/starttls.h"

/* A tag from 33 random bits: a letter b-z (never 'a', the main probe's
 * tags), then five base-36 characters. */
static void stls_tag(char out[8], uint64_t x)
{
	static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	out[0] = (char)('b' + x % 25);
	x /= 25;
	for (int i = 1; i < 6; i++) {
		out[i] = digits[x % 36];
		x /= 36;
	}
	out[6] = '\0';
}

void probe_stls_imap_inject_request(struct probe_sess *s)
{
	char req[PROBE_TX_MAX];

	if (s->nonce == 0) {
		snprintf(s->tag_stls, sizeof(s->tag_stls), "a2");
		snprintf(s->tag_noop, sizeof(s->tag_noop), "a3");
	} else {
		stls_tag(s->tag_stls, s->nonce);
		stls_tag(s->tag_noop, s->nonce >> 32 ^ s->nonce * 0x9e3779b97f4a7c15ull);
		if (strcmp(s->tag_stls, s->tag_noop) == 0)
			s->tag_noop[5] = s->tag_noop[5] == 'z' ? 'y' : 'z';
	}
	snprintf(req, sizeof(req), "%s STARTTLS\r\n%s NOOP\r\n", s->tag_stls, s->tag_noop);
	probe_sess_send(s, req);
}

void probe_stls_request(struct probe_sess *s)
{
	char req[PROBE_TX_MAX];

	if (s->mode != PROBE_MODE_INJECT) {
		probe_sess_send(s, s->desc->stls_cmd);
	} else if (s->desc->tagged) {
		probe_stls_imap_inject_request(s); /* random tags */
	} else {
		snprintf(req, sizeof(req), "%sNOOP\r\n", s->desc->stls_cmd);
		probe_sess_send(s, req);
	}
}

bool probe_stls_tagged(const char *line, size_t len, const char *tag)
{
	size_t n = strlen(tag);

	return n > 0 && len > n && memcmp(line, tag, n) == 0 && line[n] == ' ';
}

static bool stls_contains(const char *line, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (strncasecmp(line + i, needle, n) == 0)
			return true;
	return false;
}

void probe_stls_imap_pre_tls(struct probe_sess *s, const char *line, size_t len, bool greeting,
			     bool awaiting_starttls)
{
	uint16_t *flags = &s->rec->starttls_flags;

	if (s->mode != PROBE_MODE_MAIN || s->tls_up || s->implicit)
		return;
	if (greeting && probe_starts_with(line, len, "* PREAUTH"))
		*flags |= MC_STLS_PREAUTH;
	if (stls_contains(line, len, "[ALERT]"))
		*flags |= MC_STLS_ALERT_PRE_TLS;
	if (greeting || len < 2 || line[0] != '*' || line[1] != ' ' ||
	    probe_starts_with(line, len, "* BYE"))
		return;
	if (awaiting_starttls ||
	    !(probe_starts_with(line, len, "* OK") ||
	      probe_starts_with(line, len, "* CAPABILITY ") ||
	      probe_starts_with(line, len, "* ID ") || probe_starts_with(line, len, "* PREAUTH")))
		*flags |= MC_STLS_UNTAGGED_PRE_TLS;
}

void probe_stls_reply(struct probe_sess *s, const char *line, size_t len)
{
	struct mc_record *r = s->rec;

	if (s->mode != PROBE_MODE_MAIN)
		return;
	if (len > sizeof(r->starttls_reply))
		len = sizeof(r->starttls_reply);
	memcpy(r->starttls_reply, line, len);
	r->starttls_reply_len = (uint16_t)len;
}

void probe_stls_finish(struct mc_record *rec)
{
	const struct mc_caps *post = &rec->caps_post_tls;

	if ((rec->proto != MC_PROTO_IMAP && rec->proto != MC_PROTO_POP3) || post->count == 0)
		return;
	if (probe_caps_has(post, probe_proto_lookup(rec->proto)->desc->stls_word))
		rec->starttls_flags |= MC_STLS_STARTTLS_AFTER_TLS;
	if (rec->proto == MC_PROTO_IMAP && probe_caps_has(post, "LOGINDISABLED"))
		rec->starttls_flags |= MC_STLS_LOGINDISABLED_TLS;
}

/* Append text to dst (cap bytes, NUL-terminated), cutting at the end. */
static void stls_append(char *dst, size_t cap, const char *text)
{
	size_t o = strnlen(dst, cap - 1), n = strlen(text);

	if (n > cap - 1 - o)
		n = cap - 1 - o;
	memcpy(dst + o, text, n);
	dst[o + n] = '\0';
}

static void inject_set(struct mc_record *rec, enum mc_inject_verdict v, const char *what,
		       const char *detail)
{
	rec->injection_verdict = v;
	rec->injection_reason[0] = '\0';
	stls_append(rec->injection_reason, sizeof(rec->injection_reason), what);
	if (detail != NULL && detail[0] != '\0') { /* server-derived: cut at the field's size */
		stls_append(rec->injection_reason, sizeof(rec->injection_reason), ": ");
		stls_append(rec->injection_reason, sizeof(rec->injection_reason), detail);
	}
	rec->starttls_injection = v == MC_INJ_VULNERABLE       ? MC_TRI_YES
				  : v == MC_INJ_NOT_VULNERABLE ? MC_TRI_NO
							       : MC_TRI_UNKNOWN;
}

/* The test session did not decide: judge by where and how the connection ended. */
static void inject_by_stage(struct mc_record *rec, const struct mc_record *test,
			    enum probe_inject_stage stage, bool timeout, const char *reason)
{
	switch (stage) {
	case PROBE_INJ_CONNECT:
		inject_set(rec, MC_INJ_INCONCLUSIVE, "connect failed", reason);
		return;
	case PROBE_INJ_PLAIN:
		if (timeout)
			inject_set(rec, MC_INJ_UNRESPONSIVE,
				   test->banner_len == 0 ? "no greeting" : "no answer to STARTTLS",
				   NULL);
		else if (test->starttls_accepted == MC_TRI_NO)
			inject_set(rec, MC_INJ_INCONCLUSIVE,
				   "STARTTLS refused on the test connection", NULL);
		else
			inject_set(rec, MC_INJ_INCONCLUSIVE, "ended before the STARTTLS answer",
				   test->error[0] != '\0' ? test->error : reason);
		return;
	case PROBE_INJ_HANDSHAKE:
		if (timeout)
			inject_set(rec, MC_INJ_UNRESPONSIVE, "TLS handshake timed out", NULL);
		else /* dovecot: the pipelined command reached the TLS layer, not the IMAP one */
			inject_set(rec, MC_INJ_NOT_VULNERABLE,
				   "handshake failed on the pipelined bytes", reason);
		return;
	case PROBE_INJ_TLS:
		if (timeout)
			inject_set(rec, MC_INJ_UNRESPONSIVE, "no answer over TLS", NULL);
		else
			inject_set(rec, MC_INJ_INCONCLUSIVE,
				   "ended over TLS before the capabilities",
				   test->error[0] != '\0' ? test->error : reason);
		return;
	}
}

/* POP3 replies carry no tag, so the test session (pop3.c) takes a status
 * line where its CAPA list should start for a second answer: the NOOP's.
 * But "+OK..." and "-ERR..." are legal capability names (RFC 2449 capa-tag),
 * and a server whose list over TLS begins with one shows it on the main
 * connection too. Then the test's list is exactly the main list without its
 * first item: the test connection got no line more than the main one, so
 * nothing answered the NOOP (the item itself may differ per connection,
 * "+OK <nonce>"). A vulnerable server's extra answer comes before CAPA's own
 * status line, so its test list is the whole main list. */
static bool pop3_status_was_capability(const struct mc_record *rec, const struct mc_record *test)
{
	const struct mc_caps *m = &rec->caps_post_tls, *t = &test->caps_post_tls;

	if (rec->proto != MC_PROTO_POP3 || m->count == 0 || m->truncated || t->truncated)
		return false;
	size_t first = strnlen(m->data, m->len); /* items are NUL-separated */
	if (first >= m->len || !(probe_starts_with(m->data, first, "+OK") ||
				 probe_starts_with(m->data, first, "-ERR")))
		return false;
	return t->count == m->count - 1 && t->len == m->len - (first + 1) &&
	       memcmp(t->data, m->data + first + 1, t->len) == 0;
}

void probe_inject_conclude(struct mc_record *rec, const struct mc_record *test,
			   enum probe_inject_stage stage, bool timeout, const char *reason)
{
	if (rec->injection_verdict != MC_INJ_NOT_TESTED)
		return;
	if (test->starttls_injection == MC_TRI_YES && pop3_status_was_capability(rec, test))
		inject_set(rec, MC_INJ_NOT_VULNERABLE,
			   "pipelined command not answered; the status-like line is its first "
			   "capability",
			   NULL);
	else if (test->starttls_injection == MC_TRI_YES)
		inject_set(rec, MC_INJ_VULNERABLE, "pipelined command answered inside TLS", NULL);
	else if (test->starttls_injection == MC_TRI_NO)
		inject_set(rec, MC_INJ_NOT_VULNERABLE,
			   "pipelined command not answered; capabilities over TLS were", NULL);
	else
		inject_by_stage(rec, test, stage, timeout, reason);
}
