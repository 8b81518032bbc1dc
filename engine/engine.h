/* engine.h — the DPDK SYN-scan engine as one call.
 *
 * The caller (cmd_scan, or the lead's `scan --grab`) builds a target set
 * (targets.h) and an engine_config, and plugs in a consumer of the hit ring.
 * engine_run() initialises DPDK's EAL, sets up the one port, resolves the
 * gateway, runs one TX lcore per queue plus one RX lcore, prints a progress
 * line per second, waits the cooldown, and tears everything down again
 * (including EAL's runtime directory). No DPDK type appears in this header. */
#ifndef MC_ENGINE_H
#define MC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/spsc_ring.h"
#include "engine/packet.h"

#define ENGINE_MAX_SRC_IPS   64
#define ENGINE_MAX_TX_QUEUES 16
#define ENGINE_KPATH_IFACE   "mctap0" /* the kernel path's interface */

struct targets;
struct engine_result;

/* Whoever drains the hit ring: the responder writer of `scan -o`, or the
 * grabber. The engine is the ring's only producer; the consumer its only
 * reader. */
struct engine_consumer {
	void *ctx;
	/* Called once before the first probe: start a thread that pops `ring`
	 * until mc_spsc_finished(ring). 0 or -errno (the scan is not started). */
	int (*start)(void *ctx, struct mc_spsc *ring);
	/* Called once after the engine closed the ring: wait until the consumer
	 * has drained it and finished its output. 0 or -errno. */
	int (*finish)(void *ctx);
	/* For the checkpoint (engine_config.checkpoint): how many hits of this
	 * run the consumer has stored durably so far, counted in ring order.
	 * Called on the main lcore; NULL = none stored (no checkpoint moves). */
	uint64_t (*durable)(void *ctx);
	/* Optional: about once a second on the main lcore, the totals so far
	 * (the census keeps its manifest's session counters with it). */
	void (*tick)(void *ctx, const struct engine_result *now);
};

struct engine_ckpt;

struct engine_config {
	const struct targets *targets;
	uint64_t seed;			      /* permutation and validation key */
	uint32_t shard;			      /* 0..shards-1 */
	uint32_t shards;		      /* >= 1 */
	uint32_t tx_queues;		      /* TX lcores, 1..ENGINE_MAX_TX_QUEUES */
	uint32_t probes;		      /* SYNs per target, >= 1 */
	double rate_pps;		      /* total over all queues; 0 = unlimited */
	uint32_t cooldown_ms;		      /* RX keeps listening this long after TX ends */
	uint64_t max_targets;		      /* per shard; 0 = all */
	uint32_t max_runtime_ms;	      /* TX stops after this long; 0 = no limit */
	uint32_t src_ips[ENGINE_MAX_SRC_IPS]; /* host order */
	uint32_t nsrc_ips;
	uint16_t sport_first, sport_count;
	bool have_gw_mac; /* else resolve gw_ip by ARP */
	uint8_t gw_mac[6];
	uint32_t gw_ip; /* host order, used when !have_gw_mac */
	uint8_t ttl;
	enum pkt_tcp_opts tcp_opts; /* TCP options of our SYNs (default PKT_OPTS_MSS) */
	bool no_rst;		    /* do not close SYN-ACKed half-open connections with a RST */
	bool dry_run;		    /* no RX lcore, no ARP: build and send to the (pcap) port */
	/* Called on the main lcore about once a second while the scan runs,
	 * with the totals so far (a snapshot: the engine prints nothing), the
	 * seconds since TX began and the targets this shard expects; NULL for
	 * none. */
	void (*progress)(void *ctx, const struct engine_result *now, double elapsed_s,
			 uint64_t expected);
	void *progress_ctx;
	uint32_t ring_size; /* hit ring slots */
	const char *iface;  /* af_packet's kernel interface, for its drop counter; or NULL */
	/* --kernel-path tap: a kernel interface (net_tap, ENGINE_KPATH_IFACE)
	 * with our source addresses, bridged to the port (engine/kpath.h);
	 * needs gw_ip, not dry_run */
	bool kernel_path;
	/* Checkpoint (engine/checkpoint.h): with `checkpoint`, each TX queue's
	 * position is written to checkpoint_dirfd at least once a second, lagging
	 * by the cooldown (the reply window) and by what the consumer has stored
	 * durably; resume_from (or NULL) is where each queue starts. */
	bool checkpoint;
	int checkpoint_dirfd;
	const struct engine_ckpt *resume_from;
	int eal_argc; /* full EAL argv, argv[0] included (see engine_eal_args) */
	char **eal_argv;
};

/* What happened; filled even when the run fails half-way. */
struct engine_result {
	bool started;	   /* EAL and port were up and TX began */
	bool interrupted;  /* stopped early by the quit flag (base/quit.h) */
	uint64_t sent;	   /* SYN frames handed to the NIC */
	uint64_t targets;  /* (address, port) pairs probed */
	uint64_t tx_full;  /* frames the NIC refused (retried, counted once per refusal) */
	uint64_t hits;	   /* validated, deduplicated SYN-ACKs */
	uint64_t dup_hits; /* repeated SYN-ACKs (server retransmits) */
	uint64_t rsts;	   /* validated, deduplicated RSTs (closed ports) */
	uint64_t dup_rsts;
	uint64_t invalid;     /* SYN-ACK/RST that failed validation, or malformed frames */
	uint64_t other;	      /* frames that are not replies (other protocols, our own echo) */
	uint64_t arp_replies; /* ARP replies we sent for our source address(es) */
	uint64_t rsts_sent;   /* RSTs we sent to close SYN-ACKed half-open connections */
	uint64_t arp_replies_setup; /* of which while resolving the gateway */
	uint64_t ring_drops;	    /* hits lost: ring and backlog both full (never expected) */
	uint64_t backlog_peak;	    /* most hits held back at once while the ring was full */
	double held_s;		    /* seconds the TX lcores paused for the backlog (the most
				     * of any queue) */
	uint64_t imissed, rx_nombuf, oerrors, ierrors;
	uint64_t iface_rx_dropped; /* kernel drops on cfg->iface during the scan (af_packet) */
	/* the kernel path: frames (and bytes) handed to the kernel's tap, and
	 * sent for it on the port; drops are frames the tap or the port refused */
	uint64_t to_kernel, to_kernel_bytes, to_kernel_drops;
	uint64_t from_kernel, from_kernel_bytes, from_kernel_drops;
	uint64_t checkpoints;	    /* checkpoint files written */
	uint64_t checkpoint_errors; /* checkpoint writes that failed (the scan goes on) */
	char checkpoint_error[160]; /* the first failure's reason */
	uint64_t resumed_taken;	    /* targets the checkpoint resumed from had already probed */
	uint64_t start_ns, tx_end_ns, end_ns; /* CLOCK_REALTIME */
	double send_rate;		      /* sent / TX seconds */
	uint8_t src_mac[6], gw_mac[6];
	char driver[32];
	/* What the caller may want to show (EAL's warnings of a good start,
	 * which port of several was used); the engine prints nothing. */
	char notes[4224]; /* 128 for the port note + the 4096 of EAL's log */
};

/* Run one scan. 0 when the scan ran to the end (or was interrupted by
 * engine_request_quit); -errno with a one-line reason in err otherwise;
 * res->started says whether any probe went out. */
int engine_run(const struct engine_config *cfg, const struct engine_consumer *consumer,
	       struct engine_result *res, char *err, size_t errlen);

/* EAL argument vector. Defaults that work without hugepages in the test
 * network: --no-huge -m 256 --no-pci --file-prefix mc<pid> --no-telemetry, an
 * --lcores map that fits the CPUs we may use, and an af_packet vdev for
 * `iface` (or a net_pcap vdev writing `pcap_path` for --dry-run). Every
 * string in `pass` (the words after `--`) is appended and overrides the
 * default of the same option. */
#define ENGINE_EAL_MAX_ARGS 64
struct engine_eal_args {
	int argc;
	char *argv[ENGINE_EAL_MAX_ARGS + 1];
	char store[4096];
	size_t used;
};
int engine_eal_args(struct engine_eal_args *a, const char *iface, const char *pcap_path,
		    uint32_t tx_queues, bool verbose, int npass, char **pass, char *err,
		    size_t errlen);

#endif
