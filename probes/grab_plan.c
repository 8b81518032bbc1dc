/* grab_plan.c — the per-target plan as a named phase machine.
 *
 * A target is a sequence of connections, one at a time, each a phase:
 *
 *   FREE -> MAIN -> [RETRY] -> [LOGIN] -> [INJECT] -> HELLO* -> JARM* -> DONE
 *
 * MAIN runs the protocol probe with the login probe. When the connection
 * ended inside the login probe (a server that stalls or drops it on AUTH),
 * RETRY runs the probe once more without it, keeping the steps so far. On
 * 110, when the server took STLS and the login probe still needs its USER
 * step, LOGIN is a connection of its own (greeting, USER, QUIT; pop3.c says
 * why USER cannot precede STLS). On 110/143, when STARTTLS and the
 * capability command over TLS worked, INJECT pipelines a NOOP behind
 * STARTTLS (starttls.c). When a TLS handshake was tried on the main
 * connection, HELLO sends the hand-built hellos of the version matrix
 * (tlsplan.c decides which, within GRAB_EXTRA_CONN_MAX connections beyond
 * the main one) and JARM the ten JARM hellos (--jarm). DONE classifies the
 * record and hands it to the callback. Every phase after MAIN is optional
 * and skipped when its condition does not hold or the target's time is up.
 *
 * grab_enter_phase() is the only place a phase changes: it traces the
 * transition (grab_config.trace: "slot 3 198.18.0.5:143 MAIN -> INJECT",
 * as OpenSMTPD's mta_enter_state does under its trace flag) and runs the
 * new phase's entry action. grab_conn_end() is the only place that picks
 * the next phase. Connection failures never re-enter here synchronously:
 * the io loop reports them as events (io.h). */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "base/ipv4.h"
#include "base/ipv6.h"
#include "probes/classify.h"
#include "probes/grab_slot.h"
#include "probes/login.h"
#include "probes/software.h"
#include "probes/starttls.h"
#include "probes/tls.h"
#include "probes/tls_dhguard.h"

#define GRAB_TRACE_MAX 160

static int64_t real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *grab_phase_name(enum grab_phase p)
{
	switch (p) {
	case GRAB_PH_FREE:
		return "FREE";
	case GRAB_PH_MAIN:
		return "MAIN";
	case GRAB_PH_RETRY:
		return "RETRY";
	case GRAB_PH_LOGIN:
		return "LOGIN";
	case GRAB_PH_INJECT:
		return "INJECT";
	case GRAB_PH_HELLO:
		return "HELLO";
	case GRAB_PH_JARM:
		return "JARM";
	case GRAB_PH_DONE:
		return "DONE";
	}
	return "UNKNOWN";
}

bool grab_phase_is_main(enum grab_phase p)
{
	return p == GRAB_PH_MAIN || p == GRAB_PH_RETRY;
}

/* "slot N ADDR:PORT FROM -> TO" to the configured trace callback. */
static void plan_trace(const struct grab_slot *s, enum grab_phase from, enum grab_phase to)
{
	const struct grab_config *cfg = &s->g->cfg;
	char addr[MC_IPV6_STRLEN], line[GRAB_TRACE_MAX];
	struct mc_ipv6 a6;

	if (cfg->trace == NULL)
		return;
	if (s->v6) {
		memcpy(a6.b, s->addr6, sizeof(a6.b));
		mc_ipv6_format(&a6, addr);
	} else {
		mc_ipv4_format(s->addr, addr);
	}
	snprintf(line, sizeof(line), s->v6 ? "slot %u [%s]:%u %s -> %s" : "slot %u %s:%u %s -> %s",
		 s->index, addr, s->port, grab_phase_name(from), grab_phase_name(to));
	cfg->trace(cfg->trace_ctx, line);
}

/* ---- entry actions ------------------------------------------------------- */

static void target_done(struct grab_slot *s)
{
	struct grabber *g = s->g;

	probe_classify(&s->rec, s->main_tls || probe_plan_any_accepted(&s->rec.tls));
	probe_software_identify(&s->rec);
	probe_stls_finish(&s->rec);
	s->rec.time_us = real_us();
	g->stats.targets_done++;
	if (s->rec.error[0] != '\0')
		g->stats.targets_failed++;
	g->fn(g->ctx, &s->rec);
	grab_side_put(&g->sides, s->side);
	s->side = NULL;
	s->busy = false;
	s->phase = GRAB_PH_FREE;
	s->gen++;
	g->free_list[g->nfree++] = s->index;
	g->active--;
}

/* A TLS handshake was tried on the main connection: it came up, or it
 * failed in a way a server that speaks only what OpenSSL 3 cannot offer
 * would make it fail. The hellos and JARM run only then. */
static bool tls_tried(const struct grab_slot *s)
{
	return s->main_tls || s->main_tls_failed;
}

/* After the matrix (or without it): JARM when asked for, else the end. */
static enum grab_phase after_hellos(const struct grab_slot *s)
{
	return s->g->cfg.jarm && tls_tried(s) ? GRAB_PH_JARM : GRAB_PH_DONE;
}

/* Open the next JARM hello's connection, or fingerprint and end. */
static void jarm_enter(struct grab_slot *s)
{
	struct probe_jarm_rand r;
	char host[MC_IPV4_STRLEN];
	int n;

	if (io_now_ms() >= s->target_deadline) {
		grab_enter_phase(s, GRAB_PH_DONE);
		return;
	}
	if (!probe_jarm_run_more(&s->side->jarm)) {
		probe_jarm_run_finish(&s->side->jarm, s->rec.tls.jarm);
		grab_enter_phase(s, GRAB_PH_DONE);
		return;
	}
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		memset(&r, 0x5a, sizeof(r));
	if (s->rec.name[0] == '\0') /* jarm.py sends the address as SNI */
		mc_ipv4_format(s->addr, host);
	n = probe_jarm_build(s->side->jarm.next, s->rec.name[0] ? s->rec.name : host, &r,
			     s->side->hello, sizeof(s->side->hello));
	if (n <= 0) {
		grab_enter_phase(s, GRAB_PH_DONE);
		return;
	}
	s->side->hello_len = (uint16_t)n;
	s->hello_answered = false;
	grab_slot_open(s);
}

/* Open the next hand-built hello's connection, or go on after the plan. */
static void hello_enter(struct grab_slot *s)
{
	struct probe_hello_spec spec = {0};
	uint8_t rnd[96];
	int n;

	if (io_now_ms() >= s->target_deadline || !probe_plan_next(&s->plan, &s->rec.tls, &spec)) {
		grab_enter_phase(s, after_hellos(s));
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
		grab_enter_phase(s, GRAB_PH_DONE);
		return;
	}
	s->side->hello_len = (uint16_t)n;
	s->hello_answered = false;
	grab_slot_open(s);
}

void grab_enter_phase(struct grab_slot *s, enum grab_phase next)
{
	enum grab_phase prev = s->phase;

	plan_trace(s, prev, next);
	s->phase = next;
	if ((next == GRAB_PH_LOGIN || next == GRAB_PH_INJECT || next == GRAB_PH_HELLO ||
	     next == GRAB_PH_JARM) &&
	    !grab_slot_side(s, prev))
		return; /* waits for a side state (or ended) */
	switch (next) {
	case GRAB_PH_RETRY:
		probe_login_restart(&s->rec); /* keep the steps so far, run no more */
		grab_slot_open(s);
		return;
	case GRAB_PH_INJECT:
		s->injected = true;
		grab_slot_open(s);
		return;
	case GRAB_PH_MAIN:
	case GRAB_PH_LOGIN:
		grab_slot_open(s);
		return;
	case GRAB_PH_HELLO:
		if (prev != GRAB_PH_HELLO)
			probe_plan_init(&s->plan, &s->rec.tls, s->main_tls ? s->main_version : 0,
					GRAB_EXTRA_CONN_MAX - (s->injected ? 1 : 0));
		hello_enter(s);
		return;
	case GRAB_PH_JARM:
		if (prev != GRAB_PH_JARM)
			probe_jarm_run_init(&s->side->jarm);
		jarm_enter(s);
		return;
	case GRAB_PH_DONE:
		target_done(s);
		return;
	case GRAB_PH_FREE:
		return;
	}
}

/* ---- the next phase ------------------------------------------------------ */

/* The injection test is worth a connection: STARTTLS worked and so did
 * the capability command over TLS (the POP3 heuristic relies on it). */
static bool want_inject(const struct grab_slot *s)
{
	const struct mc_record *r = &s->rec;

	return s->g->cfg.injection_test && s->main_tls &&
	       (r->proto == MC_PROTO_POP3 || r->proto == MC_PROTO_IMAP) &&
	       r->caps_post_tls.count > 0 && io_now_ms() < s->target_deadline;
}

/* The POP3 login probe's USER step on a connection of its own (pop3.c). */
static bool want_login(const struct grab_slot *s)
{
	return s->g->cfg.login_probe && probe_login_wants_connection(&s->rec) &&
	       io_now_ms() < s->target_deadline;
}

/* What follows the phase whose connection just ended. */
static enum grab_phase plan_next(const struct grab_slot *s)
{
	switch (s->phase) {
	case GRAB_PH_MAIN:
		if (probe_login_broke(&s->rec) && io_now_ms() < s->target_deadline)
			return GRAB_PH_RETRY;
		/* fall through */
	case GRAB_PH_RETRY:
		if (want_login(s))
			return GRAB_PH_LOGIN;
		/* fall through */
	case GRAB_PH_LOGIN:
		if (want_inject(s))
			return GRAB_PH_INJECT;
		/* fall through */
	case GRAB_PH_INJECT:
		if (!tls_tried(s))
			return GRAB_PH_DONE;
		return s->g->cfg.tls_matrix ? GRAB_PH_HELLO : after_hellos(s);
	case GRAB_PH_HELLO: /* the next hello, or on (hello_enter) */
		return GRAB_PH_HELLO;
	case GRAB_PH_JARM:
		return GRAB_PH_JARM;
	case GRAB_PH_FREE:
	case GRAB_PH_DONE:
		break;
	}
	return GRAB_PH_DONE;
}

void grab_conn_end(struct grab_slot *s)
{
	bool main = grab_phase_is_main(s->phase);

	if (main && s->io.ssl != NULL && s->main_tls)
		probe_tls_record_late(s->io.ssl, &s->rec.tls);
	if (main && s->io.plain_dropped > 0)
		s->rec.starttls_flags |= MC_STLS_PLAIN_AFTER_REPLY;
	io_close(&s->io);
	s->gen++;
	switch (s->phase) {
	case GRAB_PH_INJECT: /* the session finished by itself (else conn_failed concluded) */
		probe_inject_conclude(&s->rec, &s->side->scratch,
				      s->sess.tls_up ? PROBE_INJ_TLS : PROBE_INJ_PLAIN, false,
				      NULL);
		break;
	case GRAB_PH_LOGIN:
		probe_login_merge(&s->rec, &s->side->scratch);
		break;
	case GRAB_PH_HELLO:
		if (!s->hello_answered) /* greeting or STARTTLS failed on this connection */
			probe_plan_answer(&s->plan, &s->rec.tls, PLAN_LOST, NULL);
		break;
	case GRAB_PH_JARM:
		if (!s->hello_answered)
			probe_jarm_run_answer(&s->side->jarm, NULL, false);
		break;
	case GRAB_PH_MAIN:
	case GRAB_PH_RETRY:
	case GRAB_PH_FREE:
	case GRAB_PH_DONE:
		break;
	}
	grab_enter_phase(s, plan_next(s));
}

/* ---- how a connection ended ----------------------------------------------- */

/* A hello connection ended before the parser had a verdict. EOF or reset
 * right after our hello is a refusal (dovecot closes without an alert);
 * EOF after part of an answer is a truncated answer. */
static void hello_failed(struct grab_slot *s, enum io_state st, bool timeout)
{
	struct probe_hello_result res;

	if (st != IO_RAW || s->hello_answered)
		return; /* never sent the hello: conn_end records it as lost */
	if (s->phase == GRAB_PH_JARM) {
		if (s->io.raw_rx_len > 0)
			probe_hello_parse(grab_slot_rx(s), s->io.raw_rx_len, &res);
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
		probe_hello_parse(grab_slot_rx(s), s->io.raw_rx_len, &res);
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

void grab_conn_failed(struct grab_slot *s, const char *reason, bool timeout)
{
	enum io_state st = s->io.state;
	char why[IO_ERR_MAX + 32];

	if (s->phase == GRAB_PH_HELLO || s->phase == GRAB_PH_JARM) {
		hello_failed(s, st, timeout);
	} else if (s->phase == GRAB_PH_INJECT) {
		probe_inject_conclude(&s->rec, &s->side->scratch, inject_stage(st), timeout,
				      reason);
	} else if (st == IO_CONNECTING || st == IO_IDLE) {
		probe_sess_fail(&s->sess, PROBE_STAGE_CONNECT,
				timeout ? "connect-timeout" : reason);
	} else if (st == IO_TLS_HANDSHAKE && probe_dhguard_refused(s->g->dhguard, s->io.ssl)) {
		s->main_tls_failed = true; /* the hand-built hellos still measure versions */
		probe_sess_fail(&s->sess, PROBE_STAGE_TLS, PROBE_DH_REFUSED);
	} else if (st == IO_TLS_HANDSHAKE) {
		s->main_tls_failed = !timeout;
		snprintf(why, sizeof(why), "tls-handshake-failed: %s", reason);
		probe_sess_fail(&s->sess, PROBE_STAGE_TLS, why);
	} else if (!s->sess.done) {
		probe_sess_fail(&s->sess, s->ops->stage(&s->sess), reason);
	}
	grab_conn_end(s);
}

/* More server bytes after our hello: a verdict ends the connection. */
bool grab_on_raw(struct grab_slot *s)
{
	struct probe_hello_result res;
	enum probe_hello_kind k = probe_hello_parse(grab_slot_rx(s), s->io.raw_rx_len, &res);

	if (k == PROBE_HELLO_NEED_MORE && s->io.raw_rx_len < GRAB_HELLO_RX)
		return false;
	if (k == PROBE_HELLO_NEED_MORE) {
		res.kind = PROBE_HELLO_MALFORMED;
		res.why = "answer-too-long";
	}
	if (s->phase == GRAB_PH_JARM)
		probe_jarm_run_answer(&s->side->jarm, &res, false);
	else
		probe_plan_answer(&s->plan, &s->rec.tls, PLAN_ANSWERED, &res);
	s->hello_answered = true;
	grab_conn_end(s);
	return false;
}
