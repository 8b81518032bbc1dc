/* grabber.c — the connection loop: slots, events, timeouts, version matrix.
 *
 * Method. A grabber owns `concurrency` slots allocated once. A slot holds
 * one target from start to record: its io connection (socket, SSL, line
 * buffer), its protocol session and its mc_record. Targets wait in a
 * bounded FIFO until a slot is free and the rate limiter (a token bucket in
 * targets per second) lets them start. Each epoll event carries the slot
 * index and a generation number: a slot reuses its index for the matrix
 * connections and the next target, and an event for a connection that has
 * since been closed must not reach its successor.
 *
 * Life of a target: MAIN connection (protocol probe; when it ends inside
 * the login probe - a server that stalls or drops the connection on AUTH -
 * once more without the login probe, keeping the steps so far) -> on 110,
 * when the server took STLS and the login probe still needs its USER step,
 * a LOGIN connection (greeting, USER, QUIT; see pop3.c for why USER cannot
 * precede STLS) -> on 110/143, if STARTTLS worked, an INJECT connection
 * (STARTTLS with a pipelined NOOP; see pop3.c for why it cannot share the
 * main connection) -> if a TLS handshake was tried and the matrix is on,
 * HELLO connections: each sends one hand-built ClientHello (after STARTTLS
 * on 110/143), reads only the answer and closes; tlsplan.c decides which
 * hellos and what the answers mean, within GRAB_EXTRA_CONN_MAX connections
 * beyond the main one -> on --jarm, the ten JARM hellos (jarm.c) ->
 * classify -> record callback -> slot free.
 *
 * Timeouts are checked by a sweep over the busy slots every
 * GRAB_SWEEP_MS: each slot has a step deadline (connect, or the next server
 * bytes) and a target deadline. A sweep over 20,000 slots costs tens of
 * microseconds, far less than a timer structure per connection would. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/quit.h"
#include "probes/classify.h"
#include "probes/grab_budget.h"
#include "probes/grab_side.h"
#include "probes/grabber.h"
#include "probes/io.h"
#include "probes/jarm.h"
#include "probes/login.h"
#include "probes/session.h"
#include "probes/software.h"
#include "probes/starttls.h"
#include "probes/tls.h"
#include "probes/tlsplan.h"
#include "probes/tls_dhguard.h"

#define GRAB_SWEEP_MS	 50
#define GRAB_EVENTS	 512
#define GRAB_FD_RESERVE	 16
#define GRAB_CONC_MAX	 200000
#define GRAB_START_BATCH 64 /* targets started between two looks at epoll */
/* Connections a target may cost beyond the main one (injection test and
 * hand-built hellos together), without --jarm. */
#define GRAB_EXTRA_CONN_MAX 4

enum grab_phase {
	GRAB_MAIN,   /* the protocol probe */
	GRAB_LOGIN,  /* POP3 login probe's USER step (after the main connection took STLS) */
	GRAB_INJECT, /* STARTTLS injection test (plaintext ports, after TLS worked) */
	GRAB_HELLO,  /* one hand-built ClientHello (tlsplan.c): ServerHello or refusal */
	GRAB_JARM,   /* one of the ten JARM hellos (--jarm) */
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
	bool login_retry;      /* main probe running again without the login probe */
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
	struct grab_side *side; /* from the first extra connection to the record (grab_side.h) */
	void (*resume)(struct grab_slot *s); /* waiting for a side state: where to go on */
};

/* A hello's answer lands in the connection's line buffer: unused once the
 * connection is raw (io_start_raw resets it), and as large as an answer we
 * keep. */
#define GRAB_HELLO_RX 4096
_Static_assert(sizeof(((struct io_conn *)0)->lb.buf) >= GRAB_HELLO_RX, "hello answer room");
_Static_assert(sizeof(struct grab_slot) < GRAB_STATE_MAX, "a slot fits the state bound");

static uint8_t *slot_rx(struct grab_slot *s)
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
	int epfd;
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
	int64_t last_refill, last_sweep;
	struct grab_stats stats;
	atomic_bool stopped; /* grabber_stop() */
	uint64_t rng;	     /* grab_random() state, never 0 */
};

/* xorshift64* over the grabber's own state (seeded from getrandom at
 * start): tags for the injection test, not secrets. */
static uint64_t grab_random(struct grabber *g)
{
	uint64_t x = g->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	g->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_us_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void grab_config_defaults(struct grab_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->concurrency = 1000;
	cfg->connect_timeout_ms = 5000;
	cfg->read_timeout_ms = 5000;
	cfg->total_timeout_ms = 30000;
	cfg->tls_matrix = true;
	cfg->login_probe = true;
	cfg->injection_test = true;
	cfg->max_dh_bits = PROBE_DH_BITS_DEFAULT;
	cfg->cpu_budget_ms = GRAB_CPU_BUDGET_MS_DEFAULT;
}

enum mc_proto grab_port_proto(const struct grab_config *cfg, uint16_t port)
{
	static const struct grab_port_proto defaults[] = {{110, MC_PROTO_POP3},
							  {143, MC_PROTO_IMAP},
							  {993, MC_PROTO_IMAPS},
							  {995, MC_PROTO_POP3S}};
	const struct grab_port_proto *map = cfg->nports ? cfg->ports : defaults;
	size_t n = cfg->nports ? cfg->nports : sizeof(defaults) / sizeof(defaults[0]);

	for (size_t i = 0; i < n; i++)
		if (map[i].port == port)
			return map[i].proto;
	return MC_PROTO_UNKNOWN;
}

static bool quitting(const struct grabber *g)
{
	return mc_quit_level() != MC_QUIT_NONE ||
	       atomic_load_explicit(&g->stopped, memory_order_relaxed);
}

void grabber_stop(struct grabber *g)
{
	atomic_store_explicit(&g->stopped, true, memory_order_relaxed);
}

/* ---- end of a target ---------------------------------------------------- */

static void target_done(struct grab_slot *s)
{
	struct grabber *g = s->g;

	probe_classify(&s->rec, s->main_tls || probe_plan_any_accepted(&s->rec.tls));
	probe_software_identify(&s->rec);
	probe_stls_finish(&s->rec);
	s->rec.time_us = now_us_real();
	g->stats.targets_done++;
	if (s->rec.error[0] != '\0')
		g->stats.targets_failed++;
	g->fn(g->ctx, &s->rec);
	grab_side_put(&g->sides, s->side);
	s->side = NULL;
	s->busy = false;
	s->gen++;
	g->free_list[g->nfree++] = s->index;
	g->active--;
}

static void slot_open(struct grab_slot *s);

/* The target's side state for an extra connection. When every side state
 * the pool may hold is in use, the target waits (no connection open) in a
 * FIFO and `resume` runs once one is free (resume_waiting); false then, and
 * false with the target ended (its record says so) when memory ran out. */
static bool need_side(struct grab_slot *s, void (*resume)(struct grab_slot *s))
{
	struct grabber *g = s->g;

	if (s->side == NULL && g->wait_len == 0) /* no overtaking the ones waiting */
		s->side = grab_side_get(&g->sides);
	if (s->side != NULL)
		return true;
	if (g->wait_len > 0 || g->sides.allocated == g->sides.cap) {
		s->resume = resume;
		g->side_wait[(g->wait_head + g->wait_len++) % g->cfg.concurrency] = s->index;
		g->side_waits++;
		return false;
	}
	if (s->rec.error[0] == '\0')
		snprintf(s->rec.error, sizeof(s->rec.error), "internal: out-of-memory");
	target_done(s);
	return false;
}

/* Hand freed side states to the targets waiting for one, in order (from
 * the loop, never from inside another target's event). */
static void resume_waiting(struct grabber *g)
{
	while (g->wait_len > 0 && (g->sides.nfree > 0 || g->sides.allocated < g->sides.cap)) {
		struct grab_slot *s = &g->slots[g->side_wait[g->wait_head]];
		void (*resume)(struct grab_slot * s) = s->resume;

		g->wait_head = (g->wait_head + 1) % g->cfg.concurrency;
		g->wait_len--;
		s->resume = NULL;
		s->side = grab_side_get(&g->sides);
		if (s->side != NULL) {
			resume(s);
			continue;
		}
		if (s->rec.error[0] == '\0')
			snprintf(s->rec.error, sizeof(s->rec.error), "internal: out-of-memory");
		target_done(s);
	}
}

/* Next JARM hello (--jarm, when a TLS handshake was tried), or the
 * fingerprint and the end of the target. */
static void next_jarm(struct grab_slot *s)
{
	struct probe_jarm_rand r;
	char host[MC_NAME_MAX];
	uint32_t a = s->addr;
	int n = -1;

	if (!s->g->cfg.jarm || !(s->main_tls || s->main_tls_failed) ||
	    now_ms() >= s->target_deadline) {
		target_done(s);
		return;
	}
	if (!probe_jarm_run_more(&s->side->jarm)) {
		probe_jarm_run_finish(&s->side->jarm, s->rec.tls.jarm);
		target_done(s);
		return;
	}
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		memset(&r, 0x5a, sizeof(r));
	if (s->rec.name[0] == '\0') /* jarm.py sends the address as SNI */
		snprintf(host, sizeof(host), "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255,
			 a & 255);
	n = probe_jarm_build(s->side->jarm.next, s->rec.name[0] ? s->rec.name : host, &r,
			     s->side->hello, sizeof(s->side->hello));
	if (n <= 0) {
		target_done(s);
		return;
	}
	s->side->hello_len = (uint16_t)n;
	s->hello_answered = false;
	s->phase = GRAB_JARM;
	slot_open(s);
}

/* After the hellos: JARM from its first hello. */
static void start_jarm(struct grab_slot *s)
{
	if (s->g->cfg.jarm && (s->main_tls || s->main_tls_failed) && !need_side(s, start_jarm))
		return;
	if (s->side != NULL)
		probe_jarm_run_init(&s->side->jarm);
	next_jarm(s);
}

/* Next hand-built hello of the plan, or done with the target. */
static void next_hello(struct grab_slot *s)
{
	struct probe_hello_spec spec = {0};
	uint8_t rnd[96];
	int n;

	if (now_ms() < s->target_deadline && !need_side(s, next_hello))
		return; /* before probe_plan_next: a waiting target asks again */
	if (now_ms() >= s->target_deadline || !probe_plan_next(&s->plan, &s->rec.tls, &spec)) {
		start_jarm(s);
		return;
	}
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd)); /* no handshake completes: any bytes do */
	memcpy(spec.random, rnd, 32);
	memcpy(spec.session_id, rnd + 32, 32);
	memcpy(spec.share, rnd + 64, 32);
	spec.sni = s->rec.name[0] != '\0' ? s->rec.name : NULL;
	n = probe_hello_build(&spec, s->side->hello, sizeof(s->side->hello));
	if (n <= 0) {
		probe_plan_answer(&s->plan, &s->rec.tls, PLAN_LOST, NULL);
		target_done(s);
		return;
	}
	s->side->hello_len = (uint16_t)n;
	s->hello_answered = false;
	s->phase = GRAB_HELLO;
	slot_open(s);
}

/* The hello plan runs when the matrix is on and a TLS handshake was tried
 * on the main connection: it came up, or it failed in a way a server that
 * speaks only what OpenSSL 3 cannot offer would make it fail. */
static void start_hellos(struct grab_slot *s)
{
	unsigned budget = GRAB_EXTRA_CONN_MAX - (s->injected ? 1 : 0);

	if (!(s->main_tls || s->main_tls_failed)) {
		target_done(s);
		return;
	}
	if (!s->g->cfg.tls_matrix) {
		start_jarm(s);
		return;
	}
	probe_plan_init(&s->plan, &s->rec.tls, s->main_tls ? s->main_version : 0, budget);
	next_hello(s);
}

/* The injection test is worth a connection: STARTTLS worked and so did
 * the capability command over TLS (the POP3 heuristic relies on it). */
static bool want_inject(const struct grab_slot *s)
{
	const struct mc_record *r = &s->rec;

	return s->g->cfg.injection_test && s->main_tls &&
	       (r->proto == MC_PROTO_POP3 || r->proto == MC_PROTO_IMAP) &&
	       r->caps_post_tls.count > 0 && now_ms() < s->target_deadline;
}

/* The POP3 login probe's USER step on a connection of its own (pop3.c). */
static bool want_login(const struct grab_slot *s)
{
	return s->g->cfg.login_probe && probe_login_wants_connection(&s->rec) &&
	       now_ms() < s->target_deadline;
}

/* The current connection is over (the target may go on). */
static void conn_end(struct grab_slot *s)
{
	if (s->phase == GRAB_MAIN && s->io.ssl != NULL && s->main_tls)
		probe_tls_record_late(s->io.ssl, &s->rec.tls);
	if (s->phase == GRAB_MAIN && s->io.plain_dropped > 0)
		s->rec.starttls_flags |= MC_STLS_PLAIN_AFTER_REPLY;
	io_close(&s->io);
	s->gen++;
	if (s->phase ==
	    GRAB_INJECT) /* the session finished by itself (else conn_failed concluded) */
		probe_inject_conclude(&s->rec, &s->side->scratch,
				      s->sess.tls_up ? PROBE_INJ_TLS : PROBE_INJ_PLAIN, false,
				      NULL);
	if (s->phase == GRAB_LOGIN)
		probe_login_merge(&s->rec, &s->side->scratch);
	if (s->phase == GRAB_MAIN && !s->login_retry && probe_login_broke(&s->rec) &&
	    now_ms() < s->target_deadline) {
		probe_login_restart(&s->rec); /* again, without the login probe */
		s->login_retry = true;
		slot_open(s);
		return;
	}
	if (s->phase == GRAB_MAIN && want_login(s)) {
		s->phase = GRAB_LOGIN;
		slot_open(s);
		return;
	}
	if ((s->phase == GRAB_MAIN || s->phase == GRAB_LOGIN) && want_inject(s)) {
		s->phase = GRAB_INJECT;
		s->injected = true;
		slot_open(s);
		return;
	}
	if (s->phase == GRAB_JARM) {
		if (!s->hello_answered)
			probe_jarm_run_answer(&s->side->jarm, NULL, false);
		next_jarm(s);
		return;
	}
	if (s->phase != GRAB_HELLO) {
		start_hellos(s);
		return;
	}
	if (!s->hello_answered) /* greeting or STARTTLS failed on this connection */
		probe_plan_answer(&s->plan, &s->rec.tls, PLAN_LOST, NULL);
	next_hello(s);
}

/* A hello connection ended before the parser had a verdict. EOF or reset
 * right after our hello is a refusal (dovecot closes without an alert);
 * EOF after part of an answer is a truncated answer. */
static void hello_failed(struct grab_slot *s, enum io_state st, bool timeout)
{
	struct probe_hello_result res;

	if (st != IO_RAW || s->hello_answered)
		return; /* never sent the hello: conn_end records it as lost */
	if (s->phase == GRAB_JARM) {
		if (s->io.raw_rx_len > 0)
			probe_hello_parse(slot_rx(s), s->io.raw_rx_len, &res);
		probe_jarm_run_answer(&s->side->jarm, s->io.raw_rx_len > 0 ? &res : NULL, timeout);
		s->hello_answered = true;
		return;
	}
	s->hello_answered = true;
	if (timeout) {
		probe_plan_answer(&s->plan, &s->rec.tls, PLAN_TIMEOUT, NULL);
	} else if (s->io.raw_rx_len == 0) {
		probe_plan_answer(&s->plan, &s->rec.tls, PLAN_REFUSED, NULL);
	} else {
		probe_hello_parse(slot_rx(s), s->io.raw_rx_len, &res);
		probe_plan_answer(&s->plan, &s->rec.tls, PLAN_ANSWERED, &res);
	}
}

/* The connection failed, closed or timed out: record why. */
static enum probe_inject_stage inject_stage(enum io_state st)
{
	switch (st) {
	case IO_IDLE:
	case IO_CONNECTING:
		return PROBE_INJ_CONNECT;
	case IO_PLAIN:
		return PROBE_INJ_PLAIN;
	case IO_TLS_HANDSHAKE:
		return PROBE_INJ_HANDSHAKE;
	case IO_TLS:
	case IO_RAW:
	case IO_CLOSED:
		break;
	}
	return PROBE_INJ_TLS;
}

static void conn_failed(struct grab_slot *s, const char *reason, bool timeout)
{
	enum io_state st = s->io.state;
	char why[IO_ERR_MAX + 32];

	if (s->phase == GRAB_HELLO || s->phase == GRAB_JARM) {
		hello_failed(s, st, timeout);
	} else if (s->phase == GRAB_INJECT) {
		probe_inject_conclude(&s->rec, &s->side->scratch, inject_stage(st), timeout,
				      reason);
	} else if (st == IO_CONNECTING || st == IO_IDLE) {
		probe_sess_fail(&s->sess, "connect", timeout ? "connect-timeout" : reason);
	} else if (st == IO_TLS_HANDSHAKE && probe_dhguard_refused(s->g->dhguard, s->io.ssl)) {
		s->main_tls_failed = true; /* the hand-built hellos still measure versions */
		probe_sess_fail(&s->sess, "tls", PROBE_DH_REFUSED);
	} else if (st == IO_TLS_HANDSHAKE) {
		s->main_tls_failed = !timeout;
		snprintf(why, sizeof(why), "tls-handshake-failed: %s", reason);
		probe_sess_fail(&s->sess, "tls", why);
	} else if (!s->sess.done) {
		probe_sess_fail(&s->sess, s->ops->state_name(&s->sess), reason);
	}
	conn_end(s);
}

/* ---- events from the io layer ------------------------------------------- */

/* TLS now (after STARTTLS, or at once on 993/995): OpenSSL on the main and
 * injection connections, our own hello on a plan connection. */
static int start_secure(struct grab_slot *s)
{
	if (s->phase == GRAB_HELLO || s->phase == GRAB_JARM)
		return io_start_raw(&s->io, s->g->epfd, s->side->hello, s->side->hello_len,
				    slot_rx(s), GRAB_HELLO_RX);
	if (io_start_tls(&s->io, s->g->epfd,
			 s->phase == GRAB_INJECT ? s->g->ctx_inject : s->g->ctx_main) < 0 ||
	    probe_dhguard_attach(s->g->dhguard, s->io.ssl) < 0)
		return -ENOMEM;
	return probe_tls_prepare(s->io.ssl, s->rec.proto, s->rec.name);
}

/* More server bytes after our hello: a verdict ends the connection. */
static bool on_raw(struct grab_slot *s)
{
	struct probe_hello_result res;
	enum probe_hello_kind k = probe_hello_parse(slot_rx(s), s->io.raw_rx_len, &res);

	if (k == PROBE_HELLO_NEED_MORE && s->io.raw_rx_len < GRAB_HELLO_RX)
		return false;
	if (k == PROBE_HELLO_NEED_MORE) {
		res.kind = PROBE_HELLO_MALFORMED;
		res.why = "answer-too-long";
	}
	if (s->phase == GRAB_JARM)
		probe_jarm_run_answer(&s->side->jarm, &res, false);
	else
		probe_plan_answer(&s->plan, &s->rec.tls, PLAN_ANSWERED, &res);
	s->hello_answered = true;
	conn_end(s);
	return false;
}

/* Carry out what the session asked for. false when the connection ended or
 * switched to TLS (no more plaintext lines for it). */
static bool apply_requests(struct grab_slot *s)
{
	struct grabber *g = s->g;

	if (s->sess.tx_len > 0) {
		if (io_send(&s->io, g->epfd, s->sess.tx, s->sess.tx_len) < 0)
			probe_sess_fail(&s->sess, "internal", "tx-overflow");
		s->sess.tx_len = 0;
	}
	if (s->sess.done) {
		conn_end(s);
		return false;
	}
	if (s->sess.want_tls && s->io.state == IO_PLAIN) {
		if (start_secure(s) < 0) {
			conn_failed(s, s->io.err, false);
			return false;
		}
		return false;
	}
	return true;
}

static bool on_tls_ready(struct grab_slot *s)
{
	if (s->phase == GRAB_INJECT) {
		s->ops->on_tls_ready(&s->sess);
		return apply_requests(s);
	}
	s->main_tls = true;
	s->main_version = (uint16_t)SSL_version(s->io.ssl);
	probe_tls_record(s->io.ssl, &s->rec.tls);
	probe_tls_name_match(s->io.ssl, s->rec.name, &s->rec.tls);
	s->ops->on_tls_ready(&s->sess);
	return apply_requests(s);
}

static bool slot_event(void *owner, struct io_conn *c, enum io_event ev, const char *line,
		       size_t len)
{
	struct grab_slot *s = owner;

	(void)c;
	s->step_deadline = now_ms() + s->g->cfg.read_timeout_ms;
	switch (ev) {
	case IO_EV_CONNECTED:
		if (s->sess.implicit) {
			if (start_secure(s) < 0) {
				conn_failed(s, s->io.err, false);
				return false;
			}
			return false;
		}
		s->ops->start(&s->sess);
		return apply_requests(s);
	case IO_EV_TLS_READY:
		return on_tls_ready(s);
	case IO_EV_LINE:
		if (++s->sess.lines > PROBE_LINES_MAX)
			probe_sess_fail(&s->sess, s->ops->state_name(&s->sess), "too-many-lines");
		else
			s->ops->on_line(&s->sess, line, len);
		return apply_requests(s);
	case IO_EV_LINE_TOO_LONG:
		probe_sess_fail(&s->sess, s->ops->state_name(&s->sess), "line-too-long");
		return apply_requests(s);
	case IO_EV_EOF:
		conn_failed(s, s->io.state == IO_TLS_HANDSHAKE ? "eof" : "closed", false);
		return false;
	case IO_EV_ERROR:
		conn_failed(s, s->io.err, false);
		return false;
	case IO_EV_RAW:
		return on_raw(s);
	}
	return false;
}

/* ---- starting connections and targets ----------------------------------- */

/* The source address of a connection to addr (grab_config.source_ips). */
static uint32_t slot_source(const struct grabber *g, uint32_t addr)
{
	return g->cfg.nsource_ips > 0 ? g->cfg.source_ips[addr % g->cfg.nsource_ips] : 0;
}

static void slot_open(struct grab_slot *s)
{
	struct grabber *g = s->g;
	uint64_t tag = (uint64_t)s->gen << 32 | s->index;

	if (s->phase == GRAB_MAIN) {
		probe_sess_init(&s->sess, &s->rec, s->rec.proto, PROBE_MODE_MAIN);
		s->sess.login_probe = g->cfg.login_probe && !s->login_retry;
		s->sess.contact = g->cfg.contact;
	} else {
		if (!need_side(s, slot_open))
			return;
		memset(&s->side->scratch, 0, sizeof(s->side->scratch));
		probe_sess_init(&s->sess, &s->side->scratch, s->rec.proto,
				s->phase == GRAB_INJECT	 ? PROBE_MODE_INJECT
				: s->phase == GRAB_LOGIN ? PROBE_MODE_LOGIN
							 : PROBE_MODE_MATRIX);
		s->sess.nonce = grab_random(g); /* the injection test's tags */
	}
	s->step_deadline = now_ms() + g->cfg.connect_timeout_ms;
	g->stats.connections++;
	if ((s->v6 ? io_connect6(&s->io, g->epfd, s->addr6, s->port, tag)
		   : io_connect(&s->io, g->epfd, slot_source(g, s->addr), s->addr, s->port, tag)) <
	    0) {
		s->io.state = IO_CONNECTING; /* so the failure is recorded as a connect error */
		conn_failed(s, s->io.err, false);
	}
}

static bool have_slot(const struct grabber *g)
{
	return g->nfree > 0 || g->fresh < g->cfg.concurrency;
}

/* A free slot: a recycled one (warm in the cache) if any, else the next
 * never-used one, initialised now. Slots are ~16 KiB; at -c 10000 touching
 * them all up front cost 165 MB of RSS and a long pause before the first
 * connect. */
static struct grab_slot *take_slot(struct grabber *g)
{
	struct grab_slot *s;

	if (g->nfree > 0)
		return &g->slots[g->free_list[--g->nfree]];
	s = &g->slots[g->fresh];
	s->g = g;
	s->index = g->fresh++;
	s->io.fd = -1;
	return s;
}

static void target_start(struct grabber *g, const struct grab_target *t)
{
	struct grab_slot *s = take_slot(g);

	s->busy = true;
	g->active++;
	if (g->active > g->stats.open_peak)
		g->stats.open_peak = g->active;
	s->addr = t->addr;
	s->port = t->port;
	s->v6 = t->v6;
	memcpy(s->addr6, t->addr6, sizeof(s->addr6));
	s->phase = GRAB_MAIN;
	s->main_tls = false;
	s->main_tls_failed = false;
	s->injected = false;
	s->main_version = 0;
	s->login_retry = false;
	memset(&s->rec, 0, sizeof(s->rec));
	s->rec.ip = t->addr;
	s->rec.ipv6 = t->v6;
	memcpy(s->rec.ip6, t->addr6, sizeof(s->rec.ip6));
	s->rec.port = t->port;
	s->rec.proto = grab_port_proto(&g->cfg, t->port);
	memcpy(s->rec.name, t->name, sizeof(s->rec.name));
	s->target_deadline = now_ms() + g->cfg.total_timeout_ms;
	s->cpu_ns = 0;
	s->resume = NULL;
	s->ops = probe_proto_lookup(s->rec.proto);
	if (s->ops == NULL) {
		snprintf(s->rec.error, sizeof(s->rec.error), "config: unknown-port");
		target_done(s);
		return;
	}
	slot_open(s);
}

/* Start queued targets while slots and rate tokens allow. */
static void start_pending(struct grabber *g)
{
	int64_t now = now_ms();

	if (g->cfg.rate > 0) {
		double cap = g->cfg.rate / 10.0 > 1.0 ? g->cfg.rate / 10.0 : 1.0;

		g->tokens += (double)(now - g->last_refill) * g->cfg.rate / 1000.0;
		if (g->tokens > cap)
			g->tokens = cap;
		g->last_refill = now;
	}
	while (g->qlen > 0 && have_slot(g) && g->started_since_poll < GRAB_START_BATCH &&
	       !quitting(g)) {
		if (g->cfg.rate > 0) {
			if (g->tokens < 1.0)
				break;
			g->tokens -= 1.0;
		}
		target_start(g, &g->queue[g->qhead]);
		g->qhead = (g->qhead + 1) % g->qcap;
		g->qlen--;
		g->started_since_poll++;
	}
}

/* ---- the loop ----------------------------------------------------------- */

static void sweep(struct grabber *g, int64_t now)
{
	for (uint32_t i = 0; i < g->fresh; i++) {
		struct grab_slot *s = &g->slots[i];
		const char *why;

		if (!s->busy || s->resume != NULL) /* waiting for a side state: no connection */
			continue;
		if (now >= s->target_deadline) {
			why = "target-timeout";
			s->target_deadline = now; /* no matrix after this */
		} else if (now >= s->step_deadline) {
			why = s->io.state == IO_TLS_HANDSHAKE || s->io.state == IO_RAW ? "timeout"
			      : strcmp(s->ops->state_name(&s->sess), "greeting") == 0
				  ? "greeting-timeout"
				  : "read-timeout";
		} else {
			continue;
		}
		conn_failed(s, why, true);
	}
}

/* One event for a slot's connection, its CPU time charged to the target;
 * a target over its budget ends now (as past its total timeout: no more
 * connections) with GRAB_CPU_REASON. */
static void handle_charged(struct grabber *g, struct grab_slot *s, uint32_t events)
{
	int64_t t0 = grab_cpu_ns();
	io_handle(&s->io, g->epfd, events, slot_event, s);
	s->cpu_ns += grab_cpu_ns() - t0;
	if (!s->busy || s->cpu_ns <= (int64_t)g->cfg.cpu_budget_ms * 1000000)
		return;
	snprintf(s->rec.error, sizeof(s->rec.error), "%s", GRAB_CPU_REASON);
	s->target_deadline = now_ms();
	conn_failed(s, "cpu-budget-exceeded", true); /* every busy slot has a connection */
}

static int grab_poll(struct grabber *g, int timeout_ms)
{
	struct epoll_event evs[GRAB_EVENTS];
	int64_t now;
	int n;

	start_pending(g);
	if (g->qlen > 0 && have_slot(g)) {
		if (g->cfg.rate == 0)
			timeout_ms = 0; /* a batch started, more to start: just look at events */
		else if (timeout_ms > 2)
			timeout_ms = 2; /* waiting for tokens, not for sockets */
	}
	n = epoll_wait(g->epfd, evs, GRAB_EVENTS, timeout_ms);
	g->started_since_poll = 0;
	if (n < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < n; i++) {
		uint32_t idx = (uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		struct grab_slot *s = &g->slots[idx];

		if (idx < g->fresh && s->busy && s->gen == gen)
			handle_charged(g, s, evs[i].events);
	}
	now = now_ms();
	if (now - g->last_sweep >= GRAB_SWEEP_MS) {
		g->last_sweep = now;
		sweep(g, now);
	}
	resume_waiting(g);
	return 0;
}

/* Queue a target: IPv4 addr, or IPv6 addr6 when not NULL. */
static int grab_enqueue(struct grabber *g, uint32_t addr, const uint8_t *addr6, uint16_t port,
			const char *name)
{
	struct grab_target *t;

	if (name != NULL && strlen(name) >= sizeof(t->name))
		return -EINVAL;
	while (g->qlen == g->qcap) {
		int r = grab_poll(g, GRAB_SWEEP_MS);

		if (r < 0)
			return r;
		if (quitting(g))
			return -EINTR;
	}
	t = &g->queue[(g->qhead + g->qlen) % g->qcap];
	t->addr = addr;
	t->port = port;
	snprintf(t->name, sizeof(t->name), "%s", name ? name : "");
	t->v6 = addr6 != NULL;
	if (addr6 != NULL)
		memcpy(t->addr6, addr6, sizeof(t->addr6));
	g->qlen++;
	if (have_slot(g))
		start_pending(g);
	if (g->started_since_poll >= GRAB_START_BATCH)
		return grab_poll(g, 0); /* let the first answers in before the next batch */
	return 0;
}

int grabber_add(struct grabber *g, uint32_t addr, uint16_t port)
{
	return grab_enqueue(g, addr, NULL, port, NULL);
}

int grabber_add_named(struct grabber *g, uint32_t addr, uint16_t port, const char *name)
{
	return grab_enqueue(g, addr, NULL, port, name);
}

int grabber_add6(struct grabber *g, const uint8_t addr6[16], uint16_t port)
{
	return grab_enqueue(g, 0, addr6, port, NULL);
}

int grabber_finish(struct grabber *g)
{
	while ((g->qlen > 0 && !quitting(g)) ||
	       (g->active > 0 && mc_quit_level() < MC_QUIT_ABANDON)) {
		int r = grab_poll(g, GRAB_SWEEP_MS);

		if (r < 0)
			return r;
	}
	return 0;
}

int grabber_run_source(struct grabber *g, const struct grab_source *src)
{
	struct mc_hit hit;

	while (!quitting(g)) {
		bool got = false;
		int r = 0;

		while (g->qlen < g->qcap && (r = src->next(src->ctx, &hit)) == 1) {
			if (g->cfg.skip != NULL &&
			    g->cfg.skip(g->cfg.skip_ctx, hit.addr, hit.port)) {
				g->stats.skipped++;
				continue;
			}
			struct grab_target *t = &g->queue[(g->qhead + g->qlen) % g->qcap];

			t->addr = hit.addr;
			t->port = hit.port;
			t->name[0] = '\0';
			t->v6 = false;
			g->qlen++;
			got = true;
		}
		if (r < 0)
			return r;
		if (!got && g->qlen == 0 && g->active == 0 && src->done(src->ctx))
			break;
		r = grab_poll(g, got || g->active > 0 ? 5 : 1);
		if (r < 0)
			return r;
	}
	return grabber_finish(g);
}

void grabber_get_stats(const struct grabber *g, struct grab_stats *out)
{
	*out = g->stats;
}

void grabber_get_mem(const struct grabber *g, struct grab_mem *out)
{
	out->slot_bytes = sizeof(struct grab_slot);
	out->side_bytes = sizeof(struct grab_side);
	out->sides_peak = g->sides.peak;
	out->sides_allocated = g->sides.allocated;
	out->sides_cap = g->sides.cap;
	out->side_waits = g->side_waits;
}

/* ---- construction ------------------------------------------------------- */

/* Process limits are the caller's (cli/proclimits.c): the grabber only checks
 * that every slot can have its descriptor. */
static int check_nofile(uint32_t need, char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		snprintf(err, errlen,
			 "descriptor limit %llu is below the %u this grabber needs (concurrency + "
			 "%u): raise RLIMIT_NOFILE or lower the concurrency",
			 (unsigned long long)rl.rlim_cur, need, GRAB_FD_RESERVE);
		return -EMFILE;
	}
	return 0;
}

static int make_contexts(struct grabber *g, char *err, size_t errlen)
{
	g->ctx_main = probe_tls_ctx_new(g->cfg.ca_file, err, errlen);
	if (g->ctx_main == NULL)
		return -EINVAL;
	g->ctx_inject = probe_tls_ctx_new_unverified(err, errlen);
	if (g->ctx_inject == NULL)
		return -EINVAL;
	g->dhguard = probe_dhguard_new(g->cfg.max_dh_bits);
	if (g->dhguard == NULL || probe_dhguard_ctx(g->ctx_main, g->cfg.max_dh_bits) < 0 ||
	    probe_dhguard_ctx(g->ctx_inject, g->cfg.max_dh_bits) < 0) {
		snprintf(err, errlen, "cannot set up the DH group guard");
		return -EINVAL;
	}
	return 0;
}

/* Side states the pool may hold: as many as fit beside the slots within
 * GRAB_STATE_MAX per slot (about a quarter of the slots), at least one. */
static uint32_t side_cap(uint32_t concurrency)
{
	uint64_t n = (uint64_t)concurrency * (GRAB_STATE_MAX - sizeof(struct grab_slot)) /
		     sizeof(struct grab_side);

	return n > 0 ? (uint32_t)n : 1;
}

struct grabber *grabber_new(const struct grab_config *cfg, grab_record_fn fn, void *ctx, char *err,
			    size_t errlen)
{
	struct grabber *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->cfg = *cfg;
	if (g->cfg.max_dh_bits == 0)
		g->cfg.max_dh_bits = PROBE_DH_BITS_DEFAULT;
	if (g->cfg.cpu_budget_ms == 0)
		g->cfg.cpu_budget_ms = GRAB_CPU_BUDGET_MS_DEFAULT;
	g->fn = fn;
	g->ctx = ctx;
	g->epfd = -1;
	if (cfg->concurrency == 0 || cfg->concurrency > GRAB_CONC_MAX) {
		snprintf(err, errlen, "concurrency must be 1..%u", GRAB_CONC_MAX);
		goto fail;
	}
	if (check_nofile(cfg->concurrency + GRAB_FD_RESERVE, err, errlen) < 0)
		goto fail;
	g->qcap = cfg->concurrency * 2 < 1024 ? 1024 : cfg->concurrency * 2;
	g->slots = calloc(cfg->concurrency, sizeof(*g->slots));
	g->free_list = calloc(cfg->concurrency, sizeof(*g->free_list));
	g->side_wait = calloc(cfg->concurrency, sizeof(*g->side_wait));
	if (g->side_wait == NULL ||
	    grab_side_pool_init(&g->sides, side_cap(cfg->concurrency)) != 0) {
		snprintf(err, errlen, "out of memory for %u slots", cfg->concurrency);
		goto fail;
	}
	g->queue = calloc(g->qcap, sizeof(*g->queue));
	if (g->slots == NULL || g->free_list == NULL || g->queue == NULL) {
		snprintf(err, errlen, "out of memory for %u slots", cfg->concurrency);
		goto fail;
	}
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g->epfd < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		goto fail;
	}
	if (make_contexts(g, err, errlen) < 0)
		goto fail;
	if (getrandom(&g->rng, sizeof(g->rng), 0) != (ssize_t)sizeof(g->rng) || g->rng == 0)
		g->rng = (uint64_t)now_us_real() | 1;
	g->last_refill = g->last_sweep = now_ms();
	return g;
fail:
	grabber_free(g);
	return NULL;
}

void grabber_free(struct grabber *g)
{
	if (g == NULL)
		return;
	for (uint32_t i = 0; g->slots != NULL && i < g->fresh; i++) {
		if (g->slots[i].busy)
			io_close(&g->slots[i].io);
		if (g->slots[i].side != NULL)
			grab_side_put(&g->sides, g->slots[i].side);
	}
	grab_side_pool_free(&g->sides);
	free(g->side_wait);
	SSL_CTX_free(g->ctx_main);
	SSL_CTX_free(g->ctx_inject);
	probe_dhguard_free(g->dhguard);
	if (g->epfd >= 0)
		close(g->epfd);
	free(g->slots);
	free(g->free_list);
	free(g->queue);
	free(g);
}
