/* sim_server.c — the simulated Internet's wire: a memif server port.
 *
 * One lcore polls the port. Each received frame is classified; ARP requests
 * for any address get our MAC (we are every host and the gateway), and each
 * SYN gets the stateless answer of sim_model.h. Faults are applied on the way
 * out, in this order: probe loss, answer, reply loss, duplicate, delay or
 * lateness, and, for probes that get no SYN-ACK, one junk reply (junk is
 * only injected where a real answer is not a SYN-ACK, so a scanner that
 * accepted junk shows an extra open pair). Every reply becomes a small
 * descriptor; those without delay go to the out batch, the rest to the delay
 * line, and frames are built only when they are transmitted. A full client
 * ring is retried for up to a second rather than dropped, so that a slow
 * scanner costs time, not answers. */
#include "sim_server.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "sim_delay.h"

#define RX_BURST  64
#define OUT_BATCH 256
#define NB_MBUFS  8191
#define NB_DESC	  1024

struct server {
	const struct sim_options *o;
	struct sim_counters *c;
	volatile sig_atomic_t *quit;
	uint16_t port;
	struct rte_mempool *pool;
	uint8_t our_mac[6], peer_mac[6];
	struct sim_rng rng;
	struct sim_delay_line line;
	uint64_t p_loss_in, p_loss_out, p_dup, p_late, p_junk;
	uint64_t hz, delay_cycles, late_cycles;
	uint32_t junk_next;
	bool link_up;
	struct sim_reply out[OUT_BATCH];
	unsigned nout;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Build, transmit and count the out batch; retry a full ring for up to 1 s. */
static void flush(struct server *s)
{
	struct rte_mbuf *pkts[OUT_BATCH];
	unsigned n = s->nout, sent = 0;
	uint64_t give_up;

	s->nout = 0;
	if (n == 0)
		return;
	if (rte_pktmbuf_alloc_bulk(s->pool, pkts, n) != 0) {
		s->c->tx_nombuf += n;
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *f = rte_pktmbuf_mtod(pkts[i], uint8_t *);
		size_t len = sim_frame_build(f, &s->out[i], &s->o->model, s->our_mac, s->peer_mac);
		pkts[i]->data_len = pkts[i]->pkt_len = (uint32_t)len;
	}
	give_up = rte_rdtsc() + s->hz;
	while (sent < n) {
		uint16_t k = rte_eth_tx_burst(s->port, 0, pkts + sent, (uint16_t)(n - sent));
		for (uint16_t i = 0; i < k; i++)
			s->c->sent[s->out[sent + i].kind]++;
		sent += k;
		if (k == 0) {
			s->c->tx_retries++;
			if (*s->quit || rte_rdtsc() > give_up)
				break;
			rte_pause();
		}
	}
	if (sent < n) {
		s->c->tx_dropped += n - sent;
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
}

static void to_batch(struct server *s, const struct sim_reply *r)
{
	if (s->nout == OUT_BATCH)
		flush(s);
	s->out[s->nout++] = *r;
}

/* Now, after a random delay, or --late-ms late (real replies only: junk
 * arriving after the scanner stopped listening would be counted by nobody). */
static void schedule(struct server *s, const struct sim_reply *r)
{
	uint64_t wait = 0;

	if (r->kind < SIM_OUT_FIRST_JUNK && sim_rng_chance(&s->rng, s->p_late)) {
		wait = s->late_cycles;
		s->c->late++;
	} else if (s->delay_cycles) {
		wait = sim_rng_next(&s->rng) % (s->delay_cycles + 1);
	}
	if (wait == 0) {
		to_batch(s, r);
		return;
	}
	s->c->delayed++;
	if (!sim_delay_push(&s->line, rte_rdtsc() + wait, r)) {
		s->c->delay_overflow++;
		to_batch(s, r);
	}
}

static void emit_reply(struct server *s, const struct sim_reply *r)
{
	int copies = 1 + sim_rng_chance(&s->rng, s->p_dup);

	s->c->duplicated += (uint64_t)(copies - 1);
	for (int i = 0; i < copies; i++) {
		if (sim_rng_chance(&s->rng, s->p_loss_out)) {
			s->c->reply_lost++;
			continue;
		}
		schedule(s, r);
	}
}

static void handle_syn(struct server *s, const struct sim_in *in)
{
	struct sim_reply r = {
	    .from_ip = in->dst_ip,
	    .to_ip = in->src_ip,
	    .from_port = in->dport,
	    .to_port = in->sport,
	    .ack = in->seq + 1,
	};
	enum sim_answer a;

	memcpy(s->peer_mac, in->src_mac, 6);
	if (sim_rng_chance(&s->rng, s->p_loss_in)) {
		s->c->syn_lost++;
		return;
	}
	a = sim_answer(&s->o->model, in->dst_ip, in->dport);
	if (a == SIM_OPEN) {
		s->c->answer_open++;
		r.kind = SIM_OUT_SYNACK;
		emit_reply(s, &r);
		return;
	}
	if (a == SIM_RST) {
		s->c->answer_rst++;
		r.kind = SIM_OUT_RST;
		emit_reply(s, &r);
	} else {
		s->c->answer_silent++;
	}
	if (sim_rng_chance(&s->rng, s->p_junk)) {
		r.kind = (uint8_t)(SIM_OUT_FIRST_JUNK + s->junk_next++ % SIM_JUNK_KINDS);
		r.noise = (uint32_t)sim_rng_next(&s->rng);
		schedule(s, &r);
	}
}

static void handle_frame(struct server *s, struct rte_mbuf *m)
{
	struct sim_in in;
	enum sim_in_kind k;

	s->c->rx_frames++;
	if (m->nb_segs != 1) {
		s->c->in[SIM_IN_MALFORMED]++;
		return;
	}
	k = sim_frame_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &in);
	s->c->in[k]++;
	if (k == SIM_IN_SYN) {
		handle_syn(s, &in);
	} else if (k == SIM_IN_ARP_REQUEST && in.arp_target_ip != in.arp_sender_ip) {
		/* Reuse the request's mbuf-less path: build into a fresh one. */
		struct rte_mbuf *r = rte_pktmbuf_alloc(s->pool);
		if (r == NULL) {
			s->c->tx_nombuf++;
			return;
		}
		r->data_len = r->pkt_len =
		    (uint32_t)sim_frame_arp_reply(rte_pktmbuf_mtod(r, uint8_t *), s->our_mac, &in);
		if (rte_eth_tx_burst(s->port, 0, &r, 1) == 1) {
			s->c->arp_replies++;
		} else {
			s->c->tx_dropped++;
			rte_pktmbuf_free(r);
		}
	}
}

static void release_due(struct server *s, uint64_t now)
{
	struct sim_reply r;

	while (s->nout < OUT_BATCH && sim_delay_pop_due(&s->line, now, &r))
		s->out[s->nout++] = r;
}

static void check_link(struct server *s)
{
	struct rte_eth_link link;

	if (rte_eth_link_get_nowait(s->port, &link) != 0)
		return;
	if (link.link_status && !s->link_up)
		s->c->connects++;
	if (!link.link_status && s->link_up && s->o->exit_on_disconnect)
		*s->quit = 1;
	s->link_up = link.link_status;
}

static void progress(const struct server *s, uint64_t secs)
{
	const struct sim_counters *c = s->c;

	fprintf(stderr,
		"mcsim: %4llus rx %llu syn %llu synack %llu rst %llu junk-held %zu lost %llu/%llu "
		"tx-drop %llu\n",
		(unsigned long long)secs, (unsigned long long)c->rx_frames,
		(unsigned long long)c->in[SIM_IN_SYN], (unsigned long long)c->sent[SIM_OUT_SYNACK],
		(unsigned long long)c->sent[SIM_OUT_RST], s->line.n,
		(unsigned long long)c->syn_lost, (unsigned long long)c->reply_lost,
		(unsigned long long)c->tx_dropped);
}

static void serve_loop(struct server *s)
{
	struct rte_mbuf *pkts[RX_BURST];
	uint64_t start = rte_rdtsc(), next_check = start, next_progress = start + s->hz;
	uint64_t deadline = s->o->max_runtime_s ? start + s->o->max_runtime_s * s->hz : 0;
	uint64_t first_syn = 0, last_syn = 0;
	unsigned idle = 0;
	uint16_t q = 0;

	while (!*s->quit) {
		q = (uint16_t)(q + 1 == s->o->queues ? 0 : q + 1);
		uint16_t n = rte_eth_rx_burst(s->port, q, pkts, RX_BURST);
		uint64_t syns = s->c->in[SIM_IN_SYN], now;

		for (uint16_t i = 0; i < n; i++)
			handle_frame(s, pkts[i]);
		if (n)
			rte_pktmbuf_free_bulk(pkts, n);
		now = rte_rdtsc();
		if (s->c->in[SIM_IN_SYN] != syns) {
			first_syn = first_syn ? first_syn : now;
			last_syn = now;
		}
		release_due(s, now);
		flush(s);
		if (now >= next_check) {
			next_check = now + s->hz / 100;
			check_link(s);
			if (deadline && now >= deadline)
				break;
			if (s->o->progress && now >= next_progress) {
				next_progress += s->hz;
				progress(s, (now - start) / s->hz);
			}
		}
		idle = n ? 0 : idle + 1;
		if (idle > 64 && s->o->idle_us)
			usleep(s->o->idle_us);
	}
	s->c->elapsed_ns = (uint64_t)((double)(rte_rdtsc() - start) * 1e9 / (double)s->hz);
	s->c->syn_span_ns = (uint64_t)((double)(last_syn - first_syn) * 1e9 / (double)s->hz);
	s->c->pending_at_exit = s->line.n;
}

#define EAL_MAX_ARGS 48

struct eal_args {
	int argc;
	char *argv[EAL_MAX_ARGS + 1];
	char store[2048];
	size_t used;
};

__attribute__((format(printf, 2, 3))) static int push(struct eal_args *a, const char *fmt, ...)
{
	size_t room = sizeof(a->store) - a->used;
	va_list ap;
	int n;

	if (a->argc >= EAL_MAX_ARGS)
		return -E2BIG;
	va_start(ap, fmt);
	n = vsnprintf(a->store + a->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -E2BIG;
	a->argv[a->argc++] = a->store + a->used;
	a->argv[a->argc] = NULL;
	a->used += (size_t)n + 1;
	return 0;
}

static int last_cpu(void)
{
	cpu_set_t set;
	int last = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			last = c;
	return last;
}

static int build_eal_args(struct eal_args *a, const struct sim_options *o)
{
	int rc = 0;

	rc |= push(a, "mcsim");
	rc |= push(a, "--no-huge");
	rc |= push(a, "-m");
	rc |= push(a, "256");
	rc |= push(a, "--no-pci");
	rc |= push(a, "--no-telemetry");
	rc |= push(a, "--log-level=warning");
	if (o->file_prefix)
		rc |= push(a, "--file-prefix=%s", o->file_prefix);
	else
		rc |= push(a, "--file-prefix=mcsim%d", (int)getpid());
	rc |= push(a, "--lcores=0@%d", o->cpu >= 0 ? o->cpu : last_cpu());
	rc |= push(a, "--vdev=net_memif0,role=server,socket=%s,socket-abstract=no", o->socket_path);
	for (int i = 0; i < o->npass; i++)
		rc |= push(a, "%s", o->pass[i]);
	return rc ? -E2BIG : 0;
}

static int port_setup(struct server *s, char *err, size_t errlen)
{
	struct rte_eth_conf conf = {0};
	struct rte_ether_addr mac;
	int rc;

	if (rte_eth_dev_count_avail() == 0) {
		snprintf(err, errlen, "no DPDK port (is net_memif built into this DPDK?)");
		return -ENODEV;
	}
	s->port = 0;
	s->pool = rte_pktmbuf_pool_create("mcsim_pool", NB_MBUFS, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (s->pool == NULL) {
		snprintf(err, errlen, "mbuf pool: %s", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	/* Exactly as many queues as the client has rings each way: the memif
	 * server refuses more client rings than it has queues, and a queue
	 * left without a ring would alias ring 0 when polled. */
	rc = rte_eth_dev_configure(s->port, s->o->queues, s->o->queues, &conf);
	for (uint16_t q = 0; rc == 0 && q < s->o->queues; q++)
		rc = rte_eth_rx_queue_setup(s->port, q, NB_DESC, (unsigned)rte_socket_id(), NULL,
					    s->pool);
	for (uint16_t q = 0; rc == 0 && q < s->o->queues; q++)
		rc = rte_eth_tx_queue_setup(s->port, q, NB_DESC, (unsigned)rte_socket_id(), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(s->port);
	if (rc == 0)
		rc = rte_eth_macaddr_get(s->port, &mac);
	if (rc != 0) {
		snprintf(err, errlen, "port setup: %s", rte_strerror(-rc));
		return rc;
	}
	memcpy(s->our_mac, mac.addr_bytes, 6);
	return 0;
}

/* EAL leaves its runtime directory behind; it holds only plain files. */
static void remove_runtime_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	(void)rmdir(dir);
}

static void server_init(struct server *s, const struct sim_options *o, struct sim_counters *c,
			volatile sig_atomic_t *quit)
{
	memset(s, 0, sizeof(*s));
	s->o = o;
	s->c = c;
	s->quit = quit;
	s->rng.state = o->seed ^ (uint64_t)mono_ns();
	s->p_loss_in = sim_chance_thresh(o->loss_in);
	s->p_loss_out = sim_chance_thresh(o->loss_out);
	s->p_dup = sim_chance_thresh(o->dup);
	s->p_late = sim_chance_thresh(o->late);
	s->p_junk = sim_chance_thresh(o->junk);
	s->hz = rte_get_tsc_hz();
	s->delay_cycles = (uint64_t)o->delay_ms * s->hz / 1000;
	s->late_cycles = (uint64_t)o->late_ms * s->hz / 1000;
}

int sim_serve(const struct sim_options *o, volatile sig_atomic_t *quit, struct sim_counters *c,
	      char *err, size_t errlen)
{
	struct server s;
	struct eal_args a = {0};
	char runtime_dir[PATH_MAX];
	int rc;

	memset(c, 0, sizeof(*c));
	rc = build_eal_args(&a, o);
	if (rc != 0) {
		snprintf(err, errlen, "EAL arguments too long");
		return rc;
	}
	if (rte_eal_init(a.argc, a.argv) < 0) {
		snprintf(err, errlen, "EAL init failed: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	server_init(&s, o, c, quit);
	rc = sim_delay_init(&s.line, o->delay_ms || o->late > 0 ? o->delay_slots : 0);
	if (rc != 0) {
		snprintf(err, errlen, "delay line: out of memory");
		goto out_eal;
	}
	rc = port_setup(&s, err, errlen);
	if (rc != 0)
		goto out_line;
	serve_loop(&s);
	rte_eth_dev_stop(s.port);
	rte_eth_dev_close(s.port);
out_line:
	sim_delay_free(&s.line);
out_eal:
	rte_eal_cleanup();
	remove_runtime_dir(runtime_dir);
	return rc;
}
