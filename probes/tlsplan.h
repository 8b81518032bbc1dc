/* tlsplan.h — which hand-built hellos a target gets, and what each answer
 * means for its record (pure: no sockets; the grabber runs the connections).
 *
 * The plan fills the version cells (SSLv3, TLS 1.0-1.3, SSLv2) and the
 * legacy families of a struct mc_tls within a budget of connections. See
 * tlsplan.c for the order and the inference rules. */
#ifndef PROBE_TLSPLAN_H
#define PROBE_TLSPLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "output/record.h"
#include "probes/tlshello.h"

enum probe_plan_state {
	PLAN_VERSIONS,	   /* TLS 1.0-1.3 cells (today's matrix), highest unknown first */
	PLAN_LEGACY_FIRST, /* one hello offering only the legacy families */
	PLAN_SSL3,	   /* SSLv3 cell, when the versions did not answer it */
	PLAN_LEGACY_MORE,  /* more legacy hellos, each without the families already seen */
	PLAN_SSL2,	   /* one SSLv2 CLIENT-HELLO, only where SSLv3 is accepted */
	PLAN_DONE,
};

/* How a hello connection ended. */
enum probe_plan_outcome {
	PLAN_ANSWERED, /* the parser returned a final verdict (result filled) */
	PLAN_REFUSED,  /* EOF or reset right after our hello: the version/suites are refused */
	PLAN_TIMEOUT,  /* no answer in time: leave the cells unknown, stop */
	PLAN_LOST,     /* never got to send the hello (connect, greeting, STARTTLS failed) */
};

struct probe_plan {
	enum probe_plan_state state;
	uint8_t budget;		     /* connections left */
	struct probe_hello_spec cur; /* the hello in flight (random bytes: the caller's) */
};

const char *probe_plan_state_name(enum probe_plan_state s);

/* Start a plan for a target. `main_version` is the wire version the main
 * OpenSSL session negotiated (0 when TLS did not come up): the server
 * picked it as the best it has, so it is accepted and every version above
 * it (up to 1.3) is not. */
void probe_plan_init(struct probe_plan *p, struct mc_tls *tls, uint16_t main_version,
		     unsigned budget);

/* The next hello to send, in *spec (version, families; the caller fills
 * random, session_id, share and sni). false when the plan is done. */
bool probe_plan_next(struct probe_plan *p, struct mc_tls *tls, struct probe_hello_spec *spec);

/* Record what the hello from the last probe_plan_next() got. `res` is read
 * only for PLAN_ANSWERED. */
void probe_plan_answer(struct probe_plan *p, struct mc_tls *tls, enum probe_plan_outcome how,
		       const struct probe_hello_result *res);

/* The cell of a wire version (SSLv2 .. TLS 1.3), NULL for others. */
enum mc_tri *probe_plan_cell(struct mc_tls *tls, uint16_t version);

/* Did any hello or the main session find a version accepted? */
bool probe_plan_any_accepted(const struct mc_tls *tls);

#endif
