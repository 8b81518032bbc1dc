/* runtime.h — internal to the DPDK half of engine/ (eal, port, tx, rx, arp,
 * stats, engine). Not for other modules: they use engine.h.
 *
 * One struct eng_run holds everything a scan shares. It is written by the
 * main lcore before the workers start and is read-only afterwards, except
 * for the per-lcore counter blocks (each written only by its owner lcore,
 * read by the main lcore with relaxed atomics) and the two stop flags. */
#ifndef MC_ENGINE_RUNTIME_H
#define MC_ENGINE_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "engine/cookie.h"
#include "engine/checkpoint.h"
#include "engine/cyclic.h"
#include "engine/dedup.h"
#include "engine/engine.h"
#include "engine/packet.h"
#include "engine/validate.h"

#define ENG_BURST	  32
#define ENG_BACKLOG	  (1u << 20) /* hits held while the ring is full (24 MiB) */
#define ENG_MAX_RX_QUEUES (ENGINE_MAX_TX_QUEUES + 1)

struct eng_run;

/* One TX lcore: its queue and its counters. */
struct eng_tx_ctx {
	_Alignas(64) const struct eng_run *run;
	uint16_t queue;
	_Atomic uint64_t sent;	   /* frames accepted by the NIC */
	_Atomic uint64_t targets;  /* pairs probed (each -P times) */
	_Atomic uint64_t tx_full;  /* tx_burst calls that left frames unsent */
	_Atomic uint64_t end_tsc;  /* when this lcore stopped sending */
	_Atomic uint64_t held_tsc; /* TSC cycles spent held back by the RX backlog */
	_Atomic bool done;
	/* Where this queue is, for the checkpoint (checkpoint.h): every target
	 * before it has been handed to the NIC. A sequence lock: the TX lcore
	 * makes pos_seq odd, writes, makes it even; readers retry on a change. */
	_Atomic uint32_t pos_seq;
	_Atomic uint64_t pos_left, pos_taken;
};

/* The RX lcore's counters. */
struct eng_rx_ctx {
	_Alignas(64) const struct eng_run *run;
	_Atomic uint64_t hits, dup_hits, rsts, dup_rsts, invalid, other, arp_replies, ring_drops;
	_Atomic uint64_t rsts_sent;
	_Atomic uint64_t to_kernel, to_kernel_bytes, to_kernel_drops;
	_Atomic uint64_t from_kernel, from_kernel_bytes, from_kernel_drops;
	_Atomic bool bridge_ack;       /* saw run->bridge_only: no scan reply is counted any more */
	_Atomic uint64_t backlog_peak; /* most hits waiting in the backlog at once */
	/* Hits the ring could not take yet, in order (RX-owned). While it is
	 * not empty tx_hold is set and the TX lcores pause: the scan slows
	 * down instead of losing a validated hit. */
	struct mc_hit *backlog;
	uint32_t backlog_cap;
	_Atomic bool tx_hold;
};

struct eng_run {
	const struct engine_config *cfg;
	uint16_t port_id;
	uint16_t nb_rxq, nb_txq; /* nb_txq = tx_queues (+1 for the RX lcore's ARP replies) */
	uint16_t arp_txq;	 /* the queue the RX lcore may send on */
	struct rte_mempool *pool;
	uint8_t src_mac[6], gw_mac[6];
	struct validate_ctx vctx; /* the cookie key, sources and the receive rule */
	struct cyclic_group group;
	struct mc_spsc *ring;
	struct dedup *seen;
	uint64_t tsc_hz;
	uint64_t start_tsc;	  /* TX lcores launched */
	uint64_t tx_deadline_tsc; /* 0 = none */
	_Atomic bool stop_tx, stop_rx;
	/* The kernel path outlives the scan: after the cooldown the RX lcore
	 * only bridges (no scan replies counted or handed on) until the
	 * consumer is done; it acknowledges the switch in rx.bridge_ack. */
	_Atomic bool bridge_only;
	bool rx_running;
	unsigned tx_lcore[ENGINE_MAX_TX_QUEUES];
	char eal_log[4096];
	char notes[128];	 /* port choice, for engine_result.notes */
	uint64_t iface_dropped0; /* cfg->iface's rx_dropped when TX began */
	/* the kernel path (kpath.c), when cfg->kernel_path */
	uint16_t tap_port;
	bool tap_made, tap_started;
	struct rte_mempool *kpool; /* the tap's receive buffers */
	uint32_t nrules;	   /* source rules added (cfg->src_ips[0..nrules)) */
	struct eng_tx_ctx tx[ENGINE_MAX_TX_QUEUES];
	struct eng_rx_ctx rx;
	/* the checkpoint (cfg->checkpoint), main lcore only */
	struct engine_ckpt_tracker *ckpt;
	struct engine_ckpt ckpt_file;
	uint64_t ckpt_written_ns;
	bool ckpt_dirty; /* the tracker's best is newer than the file */
};

/* eal.c */
/* EAL's start-up log is captured into log: a failure becomes one line in
 * err, and port.c quotes it when no port came up. */
int eng_eal_init(const struct engine_config *cfg, char *rundir, size_t rundirlen, char *log,
		 size_t loglen, char *err, size_t errlen);
void eng_eal_cleanup(const char *rundir);

/* port.c: pick the one port, configure queues and pool, start, wait for link. */
int eng_port_setup(struct eng_run *r, char *err, size_t errlen);
void eng_port_close(struct eng_run *r);
/* NIC counters: imissed, rx_nombuf, oerrors, ierrors. */
void eng_port_counters(const struct eng_run *r, struct engine_result *res);
/* rx_dropped of a kernel interface (af_packet's), 0 when unknown. */
uint64_t eng_iface_rx_dropped(const char *iface);

/* arp.c */
bool eng_is_our_ip(const struct engine_config *cfg, uint32_t ip);
/* Answer an ARP request for one of our addresses on queue txq; true if answered. */
bool eng_arp_answer(const struct eng_run *r, uint16_t txq, const struct pkt_view *v);
/* Main lcore, before the workers start: resolve cfg->gw_ip into r->gw_mac. */
int eng_arp_resolve_gateway(struct eng_run *r, uint64_t *answered, char *err, size_t errlen);

/* kpath.c: the kernel path (kpath.h). Open after the port is up (the tap
 * takes the port's MAC), before the consumer starts; close before the port. */
int eng_kpath_open(struct eng_run *r, char *err, size_t errlen);
/* The checks of eng_kpath_open that need no DPDK (safe range and named
 * namespace, a leftover interface, the port split): run before EAL too. */
int eng_kpath_check(const struct engine_config *cfg, char *err, size_t errlen);
void eng_kpath_close(struct eng_run *r);

/* eal.c: are we inside a named network namespace (/run/netns/NAME)? */
bool eng_in_named_netns(void);

/* tx.c / rx.c: lcore entry points; arg is the eng_tx_ctx / eng_rx_ctx. */
int eng_tx_main(void *arg);
int eng_rx_main(void *arg);

/* checkpoint_run.c: the main lcore's side of the checkpoint. */
int eng_ckpt_open(struct eng_run *r, char *err, size_t errlen);
/* Sample the queues, advance, write when due (force: now, if changed). */
void eng_ckpt_tick(struct eng_run *r, const struct engine_consumer *consumer,
		   struct engine_result *res, bool force);
/* After the ring is closed: wait (bounded) until the consumer stored every
 * hit, then write the last position the reply window allows (ran_to_end:
 * the cooldown passed, every sample may go). */
void eng_ckpt_final(struct eng_run *r, const struct engine_consumer *consumer,
		    struct engine_result *res, bool ran_to_end);
void eng_ckpt_close(struct eng_run *r);
/* tx.c: a queue's published position (consistent pair). */
void eng_tx_position(const struct eng_tx_ctx *ctx, struct engine_ckpt_queue *out);

/* stats.c */
void eng_stats_collect(const struct eng_run *r, struct engine_result *res);

/* engine.c: the process's quit flag (base/quit.h) is raised. */
bool eng_quit_requested(void);

static inline uint64_t eng_load(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static inline void eng_store(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

#endif
