/* grabber.c — the connection loop: slots, io events, construction.
 *
 * Method. A grabber owns `concurrency` slots allocated once. A slot holds
 * one target from start to record: its io connection (socket, SSL, line
 * buffer), its protocol session and its mc_record. Targets wait in a
 * bounded FIFO (grab_queue.c) until a slot is free and the rate limiter
 * lets them start. Each epoll event carries the slot index and a
 * generation number: a slot reuses its index for the later connections of
 * its target and for the next target, and an event for a connection that
 * has since been closed must not reach its successor (slot_resolve).
 *
 * A target's connections follow its plan, the phase machine in
 * grab_plan.c (MAIN, RETRY, LOGIN, INJECT, HELLO, JARM, DONE). This file
 * opens the current phase's connection and turns io events into protocol
 * events (start, line, tls-ready) and the session's requests into io
 * requests (send, start TLS); when a connection ends, the plan decides.
 *
 * Timeouts are io events: each slot has a step deadline (connect, or the
 * next server bytes) and a target deadline, and its connection carries the
 * earlier of the two (io_set_deadline); the io loop's deadline heap
 * delivers IO_EV_TIMEOUT, and the slot tells the two apart by the clock.
 * A connect that fails at once also arrives from the loop (IO_EV_ERROR),
 * so the next connection of a target never opens inside the previous
 * one's failure.
 *
 * Cost per target (issue 11). CPU: the thread's CPU clock is read around
 * every event a slot handles and charged to its target; past the budget
 * the target's time is up (grab_budget.h). Memory: a slot is ~13 KiB; a
 * target's extra connections take a side state (grab_side.h) from a pool
 * capped so that slots and side states stay within GRAB_STATE_MAX per
 * slot; a target that finds the pool exhausted waits, without a
 * connection, in a FIFO, and the loop resumes it when one is given back. */
#include <errno.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/quit.h"
#include "probes/grab_budget.h"
#include "probes/grab_slot.h"
#include "probes/tls.h"
#include "probes/tls_dhguard.h"

#define GRAB_FD_RESERVE 16
#define GRAB_CONC_MAX	200000

/* xorshift64* over the grabber's own state (seeded from getrandom at
 * start): tags for the injection test, not secrets. */
uint64_t grab_random(struct grabber *g)
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
	return io_now_ms();
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

bool grab_quitting(const struct grabber *g)
{
	return mc_quit_level() != MC_QUIT_NONE ||
	       atomic_load_explicit(&g->stopped, memory_order_relaxed);
}

void grabber_stop(struct grabber *g)
{
	atomic_store_explicit(&g->stopped, true, memory_order_relaxed);
}

/* ---- events from the io layer ------------------------------------------- */

/* TLS now (after STARTTLS, or at once on 993/995): OpenSSL on the main and
 * injection connections, our own hello on a plan connection. */
static int start_secure(struct grab_slot *s)
{
	if (s->phase == GRAB_PH_HELLO || s->phase == GRAB_PH_JARM)
		return io_start_raw(&s->io, s->side->hello, s->side->hello_len, grab_slot_rx(s),
				    GRAB_HELLO_RX);
	if (io_start_tls(&s->io, s->phase == GRAB_PH_INJECT ? s->g->ctx_inject : s->g->ctx_main) <
		0 ||
	    probe_dhguard_attach(s->g->dhguard, s->io.ssl) < 0)
		return -ENOMEM;
	return probe_tls_prepare(s->io.ssl, s->rec.proto, s->rec.name);
}

/* Carry out what the session asked for. false when the connection ended or
 * switched to TLS (no more plaintext lines for it). */
static bool apply_requests(struct grab_slot *s)
{
	if (s->sess.tx_len > 0) {
		if (io_send(&s->io, s->sess.tx, s->sess.tx_len) < 0)
			probe_sess_fail(&s->sess, PROBE_STAGE_INTERNAL, "tx-overflow");
		s->sess.tx_len = 0;
	}
	if (s->sess.done) {
		grab_conn_end(s);
		return false;
	}
	if (s->sess.want_tls && s->io.state == IO_PLAIN) {
		if (start_secure(s) < 0) {
			grab_conn_failed(s, s->io.err, false);
			return false;
		}
		return false;
	}
	return true;
}

static bool on_tls_ready(struct grab_slot *s)
{
	if (s->phase == GRAB_PH_INJECT) {
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

/* The connection's deadline: the step's or the target's, whichever is first. */
static void slot_arm(struct grab_slot *s)
{
	io_set_deadline(&s->io, s->step_deadline < s->target_deadline ? s->step_deadline
								      : s->target_deadline);
}

/* Why the deadline passed: the whole target's time, or this step's. */
static const char *timeout_reason(struct grab_slot *s)
{
	int64_t now = now_ms();

	if (now >= s->target_deadline) {
		s->target_deadline = now; /* no matrix after this */
		return "target-timeout";
	}
	if (s->io.state == IO_TLS_HANDSHAKE || s->io.state == IO_RAW)
		return "timeout";
	return s->ops->stage(&s->sess) == PROBE_STAGE_GREETING ? "greeting-timeout"
							       : "read-timeout";
}

static bool slot_event(void *owner, struct io_conn *c, enum io_event ev, const char *line,
		       size_t len)
{
	struct grab_slot *s = owner;

	(void)c;
	if (ev != IO_EV_TIMEOUT && ev != IO_EV_ERROR && ev != IO_EV_EOF) {
		s->step_deadline = now_ms() + s->g->cfg.read_timeout_ms;
		slot_arm(s);
	}
	switch (ev) {
	case IO_EV_TIMEOUT:
		grab_conn_failed(s, timeout_reason(s), true);
		return false;
	case IO_EV_CONNECTED:
		if (s->sess.implicit) {
			if (start_secure(s) < 0) {
				grab_conn_failed(s, s->io.err, false);
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
			probe_sess_fail(&s->sess, s->ops->stage(&s->sess), "too-many-lines");
		else
			s->ops->on_line(&s->sess, line, len);
		return apply_requests(s);
	case IO_EV_LINE_TOO_LONG:
		probe_sess_fail(&s->sess, s->ops->stage(&s->sess), "line-too-long");
		return apply_requests(s);
	case IO_EV_EOF:
		grab_conn_failed(s, s->io.state == IO_TLS_HANDSHAKE ? "eof" : "closed", false);
		return false;
	case IO_EV_ERROR:
		grab_conn_failed(s, s->io.err, false);
		return false;
	case IO_EV_RAW:
		return grab_on_raw(s);
	}
	return false;
}

/* The CPU time one socket event cost (io_loop.charge: TLS steps and
 * callbacks together), charged to the slot's target. Past the budget the
 * target's time is up: its record says GRAB_CPU_REASON and the loop ends
 * its connection at once (the deadline is now), as for a total timeout. */
static void slot_charge(void *ctx, struct io_conn *c, int64_t cpu_ns)
{
	struct grab_slot *s = (struct grab_slot *)((char *)c - offsetof(struct grab_slot, io));

	(void)ctx;
	s->cpu_ns += cpu_ns;
	if (!s->busy || s->waiting || s->cpu_ns <= (int64_t)s->g->cfg.cpu_budget_ms * 1000000 ||
	    s->target_deadline <= now_ms())
		return;		     /* within budget, or already cut off */
	if (s->rec.error[0] == '\0') /* the first error stays (probe_sess_fail's rule) */
		snprintf(s->rec.error, sizeof(s->rec.error), "%s", GRAB_CPU_REASON);
	s->target_deadline = now_ms();
	if (s->io.fd >= 0)
		slot_arm(s);
}

/* ---- side states --------------------------------------------------------- */

bool grab_slot_side(struct grab_slot *s, enum grab_phase prev)
{
	struct grabber *g = s->g;

	if (s->side == NULL && g->wait_len == 0) /* no overtaking the ones waiting */
		s->side = grab_side_get(&g->sides);
	if (s->side != NULL)
		return true;
	if (g->wait_len > 0 || g->sides.allocated == g->sides.cap) {
		s->waiting = true;
		s->wait_prev = prev;
		g->side_wait[(g->wait_head + g->wait_len++) % g->cfg.concurrency] = s->index;
		g->side_waits++;
		return false;
	}
	if (s->rec.error[0] == '\0')
		snprintf(s->rec.error, sizeof(s->rec.error), "%s: out-of-memory",
			 probe_stage_name(PROBE_STAGE_INTERNAL));
	grab_enter_phase(s, GRAB_PH_DONE);
	return false;
}

/* Hand given-back side states to the targets waiting for one, in order,
 * from the loop: each enters the phase it was waiting to enter. */
static void resume_waiting(struct grabber *g)
{
	while (g->wait_len > 0 && (g->sides.nfree > 0 || g->sides.allocated < g->sides.cap)) {
		struct grab_slot *s = &g->slots[g->side_wait[g->wait_head]];
		enum grab_phase next = s->phase;

		g->wait_head = (g->wait_head + 1) % g->cfg.concurrency;
		g->wait_len--;
		s->waiting = false;
		s->side = grab_side_get(&g->sides);
		s->phase = s->wait_prev;
		if (s->side == NULL && s->rec.error[0] == '\0')
			snprintf(s->rec.error, sizeof(s->rec.error), "%s: out-of-memory",
				 probe_stage_name(PROBE_STAGE_INTERNAL));
		grab_enter_phase(s, s->side != NULL ? next : GRAB_PH_DONE);
	}
}

/* Side states the pool may hold: as many as fit beside the slots within
 * GRAB_STATE_MAX per slot (about a quarter of the slots), at least one. */
static uint32_t side_cap(uint32_t concurrency)
{
	uint64_t n = (uint64_t)concurrency * (GRAB_STATE_MAX - sizeof(struct grab_slot)) /
		     sizeof(struct grab_side);

	return n > 0 ? (uint32_t)n : 1;
}

_Static_assert(sizeof(struct grab_slot) < GRAB_STATE_MAX, "a slot fits the state bound");

/* ---- starting connections and targets ----------------------------------- */

/* The source address of a connection to addr (grab_config.source_ips). */
static uint32_t slot_source(const struct grabber *g, uint32_t addr)
{
	return g->cfg.nsource_ips > 0 ? g->cfg.source_ips[addr % g->cfg.nsource_ips] : 0;
}

void grab_slot_open(struct grab_slot *s)
{
	struct grabber *g = s->g;
	uint64_t tag = (uint64_t)s->gen << 32 | s->index;

	if (grab_phase_is_main(s->phase)) {
		probe_sess_init(&s->sess, &s->rec, s->rec.proto, PROBE_MODE_MAIN);
		s->sess.login_probe = g->cfg.login_probe && s->phase != GRAB_PH_RETRY;
		s->sess.contact = g->cfg.contact;
	} else {
		memset(&s->side->scratch, 0, sizeof(s->side->scratch));
		probe_sess_init(&s->sess, &s->side->scratch, s->rec.proto,
				s->phase == GRAB_PH_INJECT  ? PROBE_MODE_INJECT
				: s->phase == GRAB_PH_LOGIN ? PROBE_MODE_LOGIN
							    : PROBE_MODE_MATRIX);
		s->sess.nonce = grab_random(g); /* the injection test's tags */
	}
	s->step_deadline = now_ms() + g->cfg.connect_timeout_ms;
	g->stats.connections++;
	/* A failure arrives as IO_EV_ERROR from the loop, never from here. */
	if (s->v6)
		io_connect6(&s->io, &g->loop, s->addr6, s->port, tag, slot_event, s);
	else
		io_connect(&s->io, &g->loop, slot_source(g, s->addr), s->addr, s->port, tag,
			   slot_event, s);
	slot_arm(s);
}

bool grab_have_slot(const struct grabber *g)
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

void grab_target_start(struct grabber *g, const struct grab_target *t)
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
	s->main_tls = false;
	s->main_tls_failed = false;
	s->injected = false;
	s->main_version = 0;
	memset(&s->rec, 0, sizeof(s->rec));
	s->rec.ip = t->addr;
	s->rec.ipv6 = t->v6;
	memcpy(s->rec.ip6, t->addr6, sizeof(s->rec.ip6));
	s->rec.port = t->port;
	s->rec.proto = grab_port_proto(&g->cfg, t->port);
	memcpy(s->rec.name, t->name, sizeof(s->rec.name));
	s->target_deadline = now_ms() + g->cfg.total_timeout_ms;
	s->cpu_ns = 0;
	s->waiting = false;
	s->ops = probe_proto_lookup(s->rec.proto);
	if (s->ops == NULL) {
		snprintf(s->rec.error, sizeof(s->rec.error), "%s: unknown-port",
			 probe_stage_name(PROBE_STAGE_CONFIG));
		grab_enter_phase(s, GRAB_PH_DONE);
		return;
	}
	grab_enter_phase(s, GRAB_PH_MAIN);
}

/* ---- the loop ----------------------------------------------------------- */

/* The slot an epoll tag names, or NULL when that connection has since
 * ended (the slot reuses its index; the generation tells them apart). */
static struct io_conn *slot_resolve(void *ctx, uint64_t tag)
{
	struct grabber *g = ctx;
	uint32_t idx = (uint32_t)tag, gen = (uint32_t)(tag >> 32);
	struct grab_slot *s = &g->slots[idx];

	return idx < g->fresh && s->busy && s->gen == gen ? &s->io : NULL;
}

int grab_poll(struct grabber *g, int timeout_ms)
{
	grab_start_pending(g);
	if (g->qlen > 0 && grab_have_slot(g)) {
		if (g->cfg.rate == 0)
			timeout_ms = 0; /* a batch started, more to start: just look at events */
		else if (timeout_ms > 2)
			timeout_ms = 2; /* waiting for tokens, not for sockets */
	}
	g->started_since_poll = 0;
	int rc = io_loop_poll(&g->loop, timeout_ms);
	resume_waiting(g);
	return rc;
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

struct grabber *grabber_new(const struct grab_config *cfg, grab_record_fn fn, void *ctx, char *err,
			    size_t errlen)
{
	struct grabber *g = calloc(1, sizeof(*g));
	int rc;

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
	g->loop.epfd = -1;
	if (cfg->concurrency == 0 || cfg->concurrency > GRAB_CONC_MAX) {
		snprintf(err, errlen, "concurrency must be 1..%u", GRAB_CONC_MAX);
		goto fail;
	}
	if (check_nofile(cfg->concurrency + GRAB_FD_RESERVE, err, errlen) < 0)
		goto fail;
	g->qcap = cfg->concurrency * 2 < 1024 ? 1024 : cfg->concurrency * 2;
	g->slots = calloc(cfg->concurrency, sizeof(*g->slots));
	g->free_list = calloc(cfg->concurrency, sizeof(*g->free_list));
	g->queue = calloc(g->qcap, sizeof(*g->queue));
	g->side_wait = calloc(cfg->concurrency, sizeof(*g->side_wait));
	if (g->slots == NULL || g->free_list == NULL || g->queue == NULL || g->side_wait == NULL ||
	    grab_side_pool_init(&g->sides, side_cap(cfg->concurrency)) != 0) {
		snprintf(err, errlen, "out of memory for %u slots", cfg->concurrency);
		goto fail;
	}
	rc = io_loop_init(&g->loop, cfg->concurrency, slot_resolve, g);
	g->loop.charge = slot_charge;
	if (rc < 0) {
		snprintf(err, errlen, "io loop: %s", strerror(-rc));
		goto fail;
	}
	if (make_contexts(g, err, errlen) < 0)
		goto fail;
	if (getrandom(&g->rng, sizeof(g->rng), 0) != (ssize_t)sizeof(g->rng) || g->rng == 0)
		g->rng = (uint64_t)now_us_real() | 1;
	g->last_refill = now_ms();
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
		grab_side_put(&g->sides, g->slots[i].side);
	}
	grab_side_pool_free(&g->sides);
	free(g->side_wait);
	SSL_CTX_free(g->ctx_main);
	SSL_CTX_free(g->ctx_inject);
	probe_dhguard_free(g->dhguard);
	io_loop_free(&g->loop);
	free(g->slots);
	free(g->free_list);
	free(g->queue);
	free(g);
}
