/* session.h — what the POP3 and IMAP state machines share.
 *
 * Protocol code never touches a socket. The grabber hands it events
 * (start, tls-ready, line, eof/timeout via probe_sess_fail) and reads back
 * the session's requests: bytes to send (tx), "start TLS now" (want_tls,
 * set after the server accepted STARTTLS; the io layer drops any plaintext
 * that followed), and "finished" (done). Results go straight into the
 * mc_record. This keeps the state machines pure and unit-testable with
 * scripted server bytes. */
#ifndef PROBE_SESSION_H
#define PROBE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output/record.h"

#define PROBE_TX_MAX	  192  /* longest request we ever send (IMAP ID with a contact) */
#define PROBE_LITERAL_MAX 8192 /* IMAP literal bytes we are willing to skip */
#define PROBE_LINES_MAX	  2048 /* server lines on one connection before "too-many-lines" */

enum probe_mode {
	PROBE_MODE_MAIN,   /* full probe: greeting, caps, STARTTLS, caps over TLS */
	PROBE_MODE_INJECT, /* injection test: greeting, STARTTLS+NOOP in one write, handshake,
			      caps over TLS: is the NOOP answered? (starttls_injection) */
	PROBE_MODE_MATRIX, /* version matrix: greeting, STARTTLS, handshake, stop */
	PROBE_MODE_LOGIN,  /* POP3 login probe's USER step on its own plaintext connection
			      (the server took STLS on the main one): greeting, USER, QUIT */
};

struct probe_proto_desc;

struct probe_sess {
	struct mc_record *rec;
	const struct probe_proto_desc *desc; /* the protocol's (probe_sess_init) */
	enum mc_proto proto;
	enum probe_mode mode;
	bool implicit; /* TLS from the first byte (993/995) */
	int state;     /* the protocol's own enum (pop3_state / imap_state) */

	/* requests back to the io layer */
	char tx[PROBE_TX_MAX];
	size_t tx_len;
	bool want_tls;
	bool done;
	bool tls_up;	  /* set by the caller once the handshake completed */
	bool login_probe; /* run the pre-TLS login probe (MAIN mode, plaintext ports);
			     probe_sess_init sets it, the grabber copies its config */

	/* protocol scratch */
	uint32_t literal_left; /* IMAP: literal bytes still to skip */
	uint16_t capa_lines;   /* POP3: lines of the current CAPA list */
	uint16_t lines;	       /* lines seen on this connection */
	bool saw_tagged;       /* IMAP: a tagged reply ended the current command */
	uint8_t login_next;    /* login probe: index of the next step to run */
	uint8_t login_cancels; /* "*" lines sent for the current step */

	/* software identification (software.c) */
	const char *contact; /* operator contact for IMAP ID, or NULL; set after init */
	bool id_asked;	     /* IMAP: ID already sent on this side of TLS */

	/* STARTTLS depth (starttls.c) */
	uint64_t nonce;	  /* injection test: random tags from it; 0 gives a2 / a3 */
	char tag_stls[8]; /* IMAP injection test: the STARTTLS tag */
	char tag_noop[8]; /* and the pipelined NOOP's */
};

/* Where a target's probe stood when it failed: the "stage" of rec->error
 * ("stage: reason"). These names are output (record.schema.json's error)
 * and stay stable; the state machines' debug names (state_name) are free to
 * change. */
enum probe_stage {
	PROBE_STAGE_CONFIG,	    /* "config": no protocol for the port */
	PROBE_STAGE_CONNECT,	    /* "connect": TCP did not come up */
	PROBE_STAGE_GREETING,	    /* "greeting" */
	PROBE_STAGE_CAPA,	    /* "capa": POP3 CAPA before TLS */
	PROBE_STAGE_CAPA_TLS,	    /* "capa-tls": POP3 CAPA over TLS */
	PROBE_STAGE_CAPABILITY,	    /* "capability": IMAP CAPABILITY before TLS */
	PROBE_STAGE_CAPABILITY_TLS, /* "capability-tls" */
	PROBE_STAGE_ID,		    /* "id": IMAP ID before TLS */
	PROBE_STAGE_ID_TLS,	    /* "id-tls" */
	PROBE_STAGE_LOGIN,	    /* "login": the login probe's command */
	PROBE_STAGE_LOGIN_CANCEL,   /* "login-cancel": its "*" */
	PROBE_STAGE_QUIT,	    /* "quit" */
	PROBE_STAGE_STARTTLS,	    /* "starttls": the STARTTLS/STLS exchange */
	PROBE_STAGE_TLS_HANDSHAKE,  /* "tls-handshake": after STARTTLS was accepted */
	PROBE_STAGE_TLS,	    /* "tls": the handshake failed */
	PROBE_STAGE_DONE,	    /* "done": the session had finished */
	PROBE_STAGE_INTERNAL,	    /* "internal": our own request did not fit */
};

/* The stable output name of a stage. */
const char *probe_stage_name(enum probe_stage st);

/* What the half the POP3 and IMAP machines share (session.c, starttls.c)
 * needs to know of a protocol: its STARTTLS word and commands, and which of
 * its states stand for the shared steps. The protocol files keep only what
 * truly differs (greeting forms, tags, literals, ID, the login steps). */
struct probe_proto_desc {
	const char *stls_word;	  /* "STLS" / "STARTTLS": the capability and the command */
	const char *capa_cmd;	  /* capabilities before TLS (and on 993/995) */
	const char *capa_cmd_tls; /* capabilities after STARTTLS */
	const char *stls_cmd;	  /* STARTTLS on the main and matrix connections */
	bool tagged; /* IMAP: the injection test's commands get random tags (starttls.c) */
	bool login_after_refusal; /* POP3: USER runs on the connection after a refused STLS */
	int st_greeting, st_capa, st_starttls, st_tls_handshake, st_done;
	/* Enter one of the protocol's states (its enter_state). */
	void (*enter)(struct probe_sess *s, int state);
	/* The login probe's next step (or STARTTLS / done when none is left). */
	void (*login_next)(struct probe_sess *s);
};

/* A protocol's callbacks. Each returns nothing; results are in the session. */
struct probe_proto_ops {
	const char *name;
	/* The connection is ready for the protocol (TCP up, or TLS up when implicit). */
	void (*start)(struct probe_sess *s);
	/* One complete server line, CRLF stripped, raw bytes. */
	void (*on_line)(struct probe_sess *s, const char *line, size_t len);
	/* The TLS handshake asked for with want_tls completed. */
	void (*on_tls_ready)(struct probe_sess *s);
	/* Name of the current state, for debugging and tests (not output). */
	const char *(*state_name)(const struct probe_sess *s);
	/* The error stage of the current state (what rec->error names). */
	enum probe_stage (*stage)(const struct probe_sess *s);
	const struct probe_proto_desc *desc;
};

extern const struct probe_proto_ops probe_pop3_ops;
extern const struct probe_proto_ops probe_imap_ops;

/* The ops for a protocol, NULL for MC_PROTO_UNKNOWN. */
const struct probe_proto_ops *probe_proto_lookup(enum mc_proto proto);

void probe_sess_init(struct probe_sess *s, struct mc_record *rec, enum mc_proto proto,
		     enum probe_mode mode);

/* The capability list being filled: post-TLS once TLS is up. */
struct mc_caps *probe_sess_caps(struct probe_sess *s);

/* The capability exchange is over (list ended, or the command refused):
 * over TLS the session ends (the injection test's verdict "no" unless the
 * NOOP was answered; on 993/995 "advertised" from the post-TLS list); in
 * plaintext "advertised" is recorded and the login probe or STARTTLS runs. */
void probe_sess_after_capa(struct probe_sess *s);

/* The server answered STARTTLS/STLS: accepted -> the handshake; refused ->
 * "starttls: starttls-refused" if it was advertised (else the refusal is
 * the answer: posture no_tls), then the login probe's USER step (POP3) or
 * the end. */
void probe_sess_starttls_answer(struct probe_sess *s, bool accepted);

/* The TLS handshake asked for with want_tls completed (both protocols'
 * on_tls_ready): greeting on 993/995, the end in matrix mode, else the
 * capabilities again. */
void probe_sess_on_tls_ready(struct probe_sess *s);

/* Queue bytes to send (the caller flushes tx after every event). */
void probe_sess_send(struct probe_sess *s, const char *text);

/* End the session with "stage: reason" in rec->error (first error wins). */
void probe_sess_fail(struct probe_sess *s, enum probe_stage stage, const char *reason);

/* Keep the greeting line as the banner (bounded). */
void probe_sess_banner(struct probe_sess *s, const char *line, size_t len);

/* Case-insensitive prefix test on raw bytes. */
bool probe_starts_with(const char *line, size_t len, const char *prefix);

/* Append a capability word. NUL separates items in struct mc_caps, so a NUL
 * byte from the server is stored as 0xFF (invalid UTF-8, shown as U+FFFD). */
void probe_caps_add(struct mc_caps *caps, const char *word, size_t len);

/* Is `word` (case-insensitive, whole item) in the capability list? */
bool probe_caps_has(const struct mc_caps *caps, const char *word);

#endif
