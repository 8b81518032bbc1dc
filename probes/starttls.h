/* starttls.h — the STARTTLS story beyond "accepted" (issue 16; EAST,
 * Poddebniak et al., "Why TLS is better without STARTTLS", USENIX Security
 * 2021): the injection test's verdict and reason, and flags for behaviour
 * that makes STARTTLS fragile (rec->starttls_flags, MC_STLS_*). The protocol
 * machines and the grabber call these hooks; the rules live here. */
#ifndef PROBE_STARTTLS_H
#define PROBE_STARTTLS_H

#include <stdbool.h>
#include <stddef.h>

#include "output/record.h"
#include "probes/session.h"

/* IMAP injection test: fill s->tag_stls / s->tag_noop from s->nonce (random
 * tags, so no reply can match by accident or from a cache; nonce 0 gives
 * "a2" / "a3") and queue "TAG STARTTLS\r\nTAG2 NOOP\r\n" in one write. */
void probe_stls_imap_inject_request(struct probe_sess *s);

/* Queue the protocol's STARTTLS command (s->desc): alone, or in the
 * injection test with a pipelined NOOP in the same write (IMAP: random
 * tags, probe_stls_imap_inject_request). */
void probe_stls_request(struct probe_sess *s);

/* Does line start with "TAG " (case-sensitive, as tags are)? */
bool probe_stls_tagged(const char *line, size_t len, const char *tag);

/* An IMAP line on the main connection before TLS: flags PREAUTH (in the
 * greeting), [ALERT], and untagged responses that do not belong to the
 * exchange (anything untagged while STARTTLS's answer is due; elsewhere
 * anything but OK/CAPABILITY/ID/PREAUTH). */
void probe_stls_imap_pre_tls(struct probe_sess *s, const char *line, size_t len, bool greeting,
			     bool awaiting_starttls);

/* Keep the answer line to STARTTLS/STLS (main connection; bounded). */
void probe_stls_reply(struct probe_sess *s, const char *line, size_t len);

/* After the probe: flags from the capability lists (STARTTLS/STLS or
 * LOGINDISABLED advertised over TLS on 110/143). */
void probe_stls_finish(struct mc_record *rec);

/* Where the injection test's connection was when it ended. */
enum probe_inject_stage {
	PROBE_INJ_CONNECT,   /* before TCP was up */
	PROBE_INJ_PLAIN,     /* waiting for the greeting or the STARTTLS answer */
	PROBE_INJ_HANDSHAKE, /* in the TLS handshake */
	PROBE_INJ_TLS,	     /* TLS up (or the session finished by itself) */
};

/* The injection test's connection ended: set rec's injection_verdict,
 * injection_reason and starttls_injection from what the test session
 * recorded in `test` (its scratch record) and how the connection ended
 * (`reason` is the io or timeout reason, NULL when the session finished by
 * itself). Idempotent: the first conclusion stands. */
void probe_inject_conclude(struct mc_record *rec, const struct mc_record *test,
			   enum probe_inject_stage stage, bool timeout, const char *reason);

#endif
