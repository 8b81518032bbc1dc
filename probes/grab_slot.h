/* grab_slot.h — the grabber's insides, shared by grabber.c (slots, events,
 * the loop), grab_plan.c (the per-target phase machine) and grab_queue.c
 * (the target queue and the rate limit). Not for use outside probes/. */
#ifndef PROBE_GRAB_SLOT_H
#define PROBE_GRAB_SLOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "output/record.h"
#include "probes/grab_side.h"
#include "probes/grabber.h"
#include "probes/io.h"
#include "probes/jarm.h"
#include "probes/session.h"
#include "probes/tlshello.h"
#include "probes/tlsplan.h"

#define GRAB_START_BATCH 64 /* targets started between two looks at epoll */
/* Connections a target may cost beyond the main one (injection test and
 * hand-built hellos together), without --jarm. */
#define GRAB_EXTRA_CONN_MAX 4
/* Server bytes kept while waiting for a ServerHello: they land in the
 * connection's line buffer, unused once the connection is raw
 * (io_start_raw resets it). */
#define GRAB_HELLO_RX 4096

/* The per-target plan (grab_plan.c; docs/grabber.md has the diagram). Every
 * phase but FREE and DONE is one connection at a time; HELLO and JARM
 * re-enter themselves once per hello. */
enum grab_phase {
	GRAB_PH_FREE,	/* the slot holds no target */
	GRAB_PH_MAIN,	/* the protocol probe, with the login probe */
	GRAB_PH_RETRY,	/* the protocol probe again without the login probe (it broke MAIN) */
	GRAB_PH_LOGIN,	/* POP3 login probe's USER step (after MAIN took STLS) */
	GRAB_PH_INJECT, /* STARTTLS injection test (plaintext ports, after TLS worked) */
	GRAB_PH_HELLO,	/* one hand-built ClientHello (tlsplan.c): ServerHello or refusal */
	GRAB_PH_JARM,	/* one of the ten JARM hellos (--jarm) */
	GRAB_PH_DONE,	/* classify, record callback, slot free */
};

struct grab_slot {
	struct grabber *g;
	bool busy;
	enum grab_phase phase;
	bool main_tls;	       /* TLS came up on the main connection */
	bool main_tls_failed;  /* the main handshake failed (not a timeout) */
	bool injected;	       /* the injection connection ran */
	bool hello_answered;   /* the current hello got its verdict */
	uint16_t main_version; /* wire version of the main session */
	uint32_t index, gen;
	uint32_t addr;
	uint16_t port;
	bool v6; /* an IPv6 target: addr6 */
	uint8_t addr6[16];
	int64_t target_deadline, step_deadline;
	int64_t cpu_ns; /* CPU time the target cost so far (grab_budget.h) */
	struct io_conn io;
	const struct probe_proto_ops *ops;
	struct probe_sess sess;
	struct mc_record rec;
	struct probe_plan plan;
	/* The extra connections' state (scratch record, hello, JARM run), from
	 * the first of them to the record (grab_side.h); NULL before. */
	struct grab_side *side;
	enum grab_phase wait_prev; /* waiting for a side state: the phase before */
	bool waiting;		   /* in the grabber's side_wait FIFO, no connection */
};

_Static_assert(sizeof(((struct io_conn *)0)->lb.buf) >= GRAB_HELLO_RX, "hello answer room");

static inline uint8_t *grab_slot_rx(struct grab_slot *s)
{
	return (uint8_t *)s->io.lb.buf;
}

struct grab_target {
	uint32_t addr;
	uint16_t port;
	char name[MC_NAME_MAX]; /* "" when the target has none */
	bool v6;		/* addr6 is the address (grabber_add6) */
	uint8_t addr6[16];
};

struct grabber {
	struct grab_config cfg;
	grab_record_fn fn;
	void *ctx;
	struct io_loop loop;
	SSL_CTX *ctx_main;
	SSL_CTX *ctx_inject; /* no trust store, no chain verification */
	struct probe_dhguard *dhguard;
	struct grab_slot *slots;
	struct grab_side_pool sides;
	uint32_t *side_wait; /* slots waiting for a side state, FIFO of concurrency entries */
	uint32_t wait_head, wait_len;
	uint64_t side_waits;
	uint32_t *free_list;
	uint32_t nfree, active;
	uint32_t fresh;		     /* slots [fresh, concurrency) never used: untouched memory */
	uint32_t started_since_poll; /* targets started since the last epoll_wait */
	struct grab_target *queue;
	uint32_t qcap, qhead, qlen;
	double tokens;
	int64_t last_refill;
	struct grab_stats stats;
	atomic_bool stopped; /* grabber_stop() */
	uint64_t rng;	     /* grab_random() state, never 0 */
};

/* grab_plan.c: the phase machine. */
const char *grab_phase_name(enum grab_phase p);
/* The one way a slot changes phase: trace (grab_config.trace), then the
 * new phase's entry action (open its connection, or end the target). */
void grab_enter_phase(struct grab_slot *s, enum grab_phase next);
/* The current connection is over; the plan picks the next phase. */
void grab_conn_end(struct grab_slot *s);
/* The connection failed, closed or timed out (reason): record why, end it. */
void grab_conn_failed(struct grab_slot *s, const char *reason, bool timeout);
/* IO_EV_RAW on a hello connection. false: no more events for this read. */
bool grab_on_raw(struct grab_slot *s);
/* The main probe's connection, or its retry. */
bool grab_phase_is_main(enum grab_phase p);

/* grabber.c: open the current phase's connection (never fails here: a
 * failure arrives from the loop). */
void grab_slot_open(struct grab_slot *s);
uint64_t grab_random(struct grabber *g);
bool grab_quitting(const struct grabber *g);
void grab_target_start(struct grabber *g, const struct grab_target *t);
bool grab_have_slot(const struct grabber *g);
/* The target's side state for an extra connection (entering phase
 * s->phase from prev). false: the pool is at its cap and the target waits
 * (grabber.c resumes it from the loop), or memory ran out and the target
 * has ended. */
bool grab_slot_side(struct grab_slot *s, enum grab_phase prev);
int grab_poll(struct grabber *g, int timeout_ms);

/* grab_queue.c: start queued targets while slots and rate tokens allow. */
void grab_start_pending(struct grabber *g);

#endif
