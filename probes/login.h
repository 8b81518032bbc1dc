/* login.h — the pre-TLS login probe's bookkeeping, shared by pop3.c and
 * imap.c (their states drive it; this file only records and classifies).
 *
 * The probe asks "would this server take a password now, before TLS?"
 * without ever sending one: POP3 `AUTH PLAIN`, `AUTH LOGIN` (no initial
 * response; a continuation is cancelled with "*") and `USER` with the
 * fixed non-account MC_LOGIN_PROBE_USER (never PASS); IMAP `AUTHENTICATE
 * PLAIN` and `AUTHENTICATE LOGIN`, cancelled the same way. IMAP `LOGIN`
 * carries the password in its only command and cannot be probed: it is
 * recorded as not_probed and judged by the capability list. */
#ifndef PROBE_LOGIN_H
#define PROBE_LOGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "probes/session.h"

#define PROBE_LOGIN_CANCELS_MAX 2 /* "*" lines sent for one step before we give up */

/* Append a step for `cmd` (outcome no_reply until an answer comes). false
 * when the record has no room left (the step is then not run). */
bool probe_login_begin(struct probe_sess *s, enum mc_login_cmd cmd);

/* The answer to the current step: its outcome and the raw line (bounded). */
void probe_login_answer(struct probe_sess *s, enum mc_login_outcome outcome, const char *line,
			size_t len);

/* Was any step accepted (the answer is known: stop probing)? */
bool probe_login_accepted(const struct probe_sess *s);

/* The command of the step being run (MC_LOGIN_CMD_NONE when none). */
enum mc_login_cmd probe_login_current(const struct probe_sess *s);

/* Append the IMAP LOGIN entry (not_probed: it needs a password). */
void probe_login_note_unprobed(struct probe_sess *s, enum mc_login_cmd cmd);

/* Does the POP3 probe still need its USER step on a connection of its own?
 * Yes when the main connection took STLS (USER cannot precede it, pop3.c),
 * no step was accepted and USER has not run. */
bool probe_login_wants_connection(const struct mc_record *rec);

/* Did the main connection end inside the login probe (error stage "login"
 * or "login-cancel": a server that stalled, closed or kept challenging)?
 * Then the grabber runs the main probe again without it, so the probe
 * never costs a target its STARTTLS and TLS facts. */
bool probe_login_broke(const struct mc_record *rec);

/* Clear the record for that second main connection: address, port,
 * protocol and the login steps so far stay; everything else is measured
 * again. */
void probe_login_restart(struct mc_record *rec);

/* Append the steps of the login connection's record to the main record's. */
void probe_login_merge(struct mc_record *into, const struct mc_record *from);

/* Does a refusal say that TLS is what is missing? IMAP's [PRIVACYREQUIRED]
 * response code, or words such as TLS, SSL, encrypt, secure, plaintext
 * (dovecot: "Plaintext authentication disallowed on non-secure (SSL/TLS)
 * connections"). Case-insensitive over the raw line. */
bool probe_login_tls_reason(const char *line, size_t len);

/* The outcome of a refusal line: refused_tls when it names TLS, else `other`. */
enum mc_login_outcome probe_login_refusal(const char *line, size_t len,
					  enum mc_login_outcome other);

#endif
