/* classify.c — posture, cleartext-login exposure and obsolete TLS.
 *
 * The rules (issue 4):
 *   posture: implicit_tls on 993/995 once TLS is up; on 110/143 no_tls
 *     unless STARTTLS was accepted and the handshake completed; then
 *     starttls_required when no password may cross before TLS (the
 *     cleartext_login verdict below, behaviour before capabilities), else
 *     starttls_optional.
 *   cleartext_login (110/143), issue 18: behaviour first, capabilities
 *     second. Behaviour (the login probe, login.h): yes when any step was
 *     accepted (a "+" continuation, or +OK to USER: the server would take a
 *     password now); no when a step was refused with a reason that names
 *     TLS ([PRIVACYREQUIRED], "TLS required", dovecot's "Plaintext
 *     authentication disallowed on non-secure (SSL/TLS) connections") and
 *     none was accepted. A refusal without such a reason decides nothing: a
 *     POP3 server may refuse USER because our made-up name has no mailbox,
 *     an IMAP server may lack the SASL mechanism and still take LOGIN.
 *     Otherwise the capability rule: IMAP yes unless LOGINDISABLED (or a
 *     known non-standard "TLS required" word, XTLSREQUIRED); POP3 no on
 *     XTLSREQUIRED, else yes when USER, or SASL PLAIN / LOGIN, is
 *     advertised. Without a capability list it is unknown.
 *     cleartext_login_evidence says which rule decided. On 993/995 nothing
 *     is sent before TLS: no, by behaviour (TLS came first).
 *   tls_obsolete: yes when SSLv2, SSLv3, TLS 1.0 or 1.1 was accepted, no
 *     when SSLv3, TLS 1.0 and 1.1 were measured and refused (SSLv2 is only
 *     asked where SSLv3 is accepted), unknown otherwise.
 * "TLS up" for the posture means a session on the main connection, or a
 * hand-built hello that the server answered with a version: a server that
 * speaks only what OpenSSL 3 cannot offer is not "no_tls".
 * A probe that failed before the answer was known leaves the field unknown. */
#include <string.h>
#include <strings.h>

#include "probes/classify.h"
#include "probes/session.h"

/* POP3 "SASL PLAIN LOGIN ...": does the mechanism list hold PLAIN or LOGIN? */
static bool pop3_sasl_cleartext(const struct mc_caps *caps)
{
	size_t off = 0;

	for (uint16_t i = 0; i < caps->count && off < caps->len; i++) {
		const char *item = caps->data + off;
		size_t n = strnlen(item, caps->len - off);

		if (n > 5 && strncasecmp(item, "SASL ", 5) == 0) {
			char words[MC_CAPS_BYTES];
			char *save = NULL;

			memcpy(words, item + 5, n - 5);
			words[n - 5] = '\0';
			for (char *w = strtok_r(words, " \t", &save); w;
			     w = strtok_r(NULL, " \t", &save))
				if (strcasecmp(w, "PLAIN") == 0 || strcasecmp(w, "LOGIN") == 0)
					return true;
		}
		off += n + 1;
	}
	return false;
}

/* Capability words that say "no login before TLS": the standard one (RFC
 * 3501) and non-standard ones seen on real servers (GNU Mailutils imap4d
 * and pop3d in "tls required" mode: XTLSREQUIRED). */
static bool caps_tls_required(const struct mc_caps *caps)
{
	static const char *const words[] = {"LOGINDISABLED", "XTLSREQUIRED"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (probe_caps_has(caps, words[i]))
			return true;
	return false;
}

static enum mc_tri cleartext_by_caps(const struct mc_record *rec)
{
	const struct mc_caps *caps = &rec->caps_pre_tls;

	if (caps->count == 0)
		return MC_TRI_UNKNOWN;
	if (caps_tls_required(caps))
		return MC_TRI_NO;
	if (rec->proto == MC_PROTO_IMAP)
		return MC_TRI_YES; /* LOGIN is always there unless disabled */
	if (probe_caps_has(caps, "USER") || pop3_sasl_cleartext(caps))
		return MC_TRI_YES;
	return MC_TRI_NO;
}

static enum mc_tri cleartext_by_behaviour(const struct mc_record *rec)
{
	bool refused_tls = false;

	for (uint8_t i = 0; i < rec->login_steps && i < MC_LOGIN_STEPS; i++) {
		if (rec->login[i].outcome == MC_LOGIN_ACCEPTED)
			return MC_TRI_YES;
		if (rec->login[i].outcome == MC_LOGIN_REFUSED_TLS)
			refused_tls = true;
	}
	return refused_tls ? MC_TRI_NO : MC_TRI_UNKNOWN;
}

static void cleartext_login(struct mc_record *rec)
{
	enum mc_tri v = cleartext_by_behaviour(rec);

	if (v != MC_TRI_UNKNOWN) {
		rec->cleartext_login = v;
		rec->cleartext_login_evidence = MC_EVIDENCE_BEHAVIOUR;
		return;
	}
	rec->cleartext_login = cleartext_by_caps(rec);
	rec->cleartext_login_evidence =
	    rec->cleartext_login == MC_TRI_UNKNOWN ? MC_EVIDENCE_NONE : MC_EVIDENCE_CAPABILITY;
}

static enum mc_tri tls_obsolete(const struct mc_tls *tls)
{
	if (tls->ssl2 == MC_TRI_YES || tls->ssl3 == MC_TRI_YES || tls->tls1_0 == MC_TRI_YES ||
	    tls->tls1_1 == MC_TRI_YES)
		return MC_TRI_YES;
	if (tls->ssl3 == MC_TRI_NO && tls->tls1_0 == MC_TRI_NO && tls->tls1_1 == MC_TRI_NO)
		return MC_TRI_NO;
	return MC_TRI_UNKNOWN;
}

void probe_classify(struct mc_record *rec, bool tls_up)
{
	rec->tls_obsolete = tls_obsolete(&rec->tls);
	if (rec->proto == MC_PROTO_POP3S || rec->proto == MC_PROTO_IMAPS) {
		rec->posture = tls_up ? MC_POSTURE_IMPLICIT_TLS : MC_POSTURE_UNKNOWN;
		rec->cleartext_login = tls_up ? MC_TRI_NO : MC_TRI_UNKNOWN;
		rec->cleartext_login_evidence = tls_up ? MC_EVIDENCE_BEHAVIOUR : MC_EVIDENCE_NONE;
		return;
	}
	cleartext_login(rec);
	if (rec->starttls_accepted == MC_TRI_UNKNOWN) {
		rec->posture = MC_POSTURE_UNKNOWN;
		return;
	}
	if (rec->starttls_accepted == MC_TRI_NO) {
		rec->posture = MC_POSTURE_NO_TLS;
		return;
	}
	if (!tls_up) {
		rec->posture = MC_POSTURE_UNKNOWN; /* accepted, but the handshake failed */
		return;
	}
	if (rec->cleartext_login == MC_TRI_UNKNOWN)
		rec->posture = MC_POSTURE_UNKNOWN;
	else
		rec->posture = rec->cleartext_login == MC_TRI_YES ? MC_POSTURE_STARTTLS_OPTIONAL
								  : MC_POSTURE_STARTTLS_REQUIRED;
}
