/* classify.c — posture, cleartext-login exposure and obsolete TLS.
 *
 * The rules (issue 4):
 *   posture: implicit_tls on 993/995 once TLS is up; on 110/143 no_tls
 *     unless STARTTLS was accepted and the handshake completed; then
 *     starttls_required when no password may cross before TLS, else
 *     starttls_optional.
 *   cleartext_login (110/143, from the pre-TLS capabilities): IMAP yes
 *     unless LOGINDISABLED; POP3 yes when USER, or SASL PLAIN / LOGIN, is
 *     advertised. Without a capability list (CAPA refused, or we never got
 *     that far) it is unknown. On 993/995 nothing is sent before TLS: no.
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

static enum mc_tri cleartext_login(const struct mc_record *rec)
{
	const struct mc_caps *caps = &rec->caps_pre_tls;

	if (caps->count == 0)
		return MC_TRI_UNKNOWN;
	if (rec->proto == MC_PROTO_IMAP)
		return probe_caps_has(caps, "LOGINDISABLED") ? MC_TRI_NO : MC_TRI_YES;
	if (probe_caps_has(caps, "USER") || pop3_sasl_cleartext(caps))
		return MC_TRI_YES;
	return MC_TRI_NO;
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
		return;
	}
	rec->cleartext_login = cleartext_login(rec);
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
