/* sim_server.h — mcsim's DPDK side: one memif server port, one lcore. */
#ifndef MC_SIM_SERVER_H
#define MC_SIM_SERVER_H

#include <signal.h>
#include <stdint.h>

#include "sim_frame.h"
#include "sim_options.h"

/* Everything mcsim saw and did; written as JSON at exit. */
struct sim_counters {
	uint64_t rx_frames;
	uint64_t in[SIM_IN_KINDS];    /* received frames by kind */
	uint64_t syn_lost;	      /* probes dropped by --loss-in */
	uint64_t answer_open;	      /* probes (after loss) to an open pair */
	uint64_t answer_rst;	      /* ... to a pair that answers RST */
	uint64_t answer_silent;	      /* ... to a silent pair */
	uint64_t reply_lost;	      /* replies dropped by --loss-out */
	uint64_t duplicated;	      /* extra copies made by --dup */
	uint64_t delayed;	      /* replies put on the delay line */
	uint64_t late;		      /* of those, held --late-ms */
	uint64_t delay_overflow;      /* delay line full: sent at once */
	uint64_t pending_at_exit;     /* still on the delay line at exit (never sent) */
	uint64_t sent[SIM_OUT_KINDS]; /* frames transmitted, by kind */
	uint64_t arp_replies;
	uint64_t tx_retries;  /* tx_burst calls that took nothing (client's ring full) */
	uint64_t tx_dropped;  /* frames given up after the retry budget */
	uint64_t tx_nombuf;   /* frames not built for lack of mbufs */
	uint64_t connects;    /* link-up transitions (client connections) */
	uint64_t elapsed_ns;  /* serving time */
	uint64_t syn_span_ns; /* from the first to the last SYN received */
};

/* Run EAL, serve until *quit, --max-runtime or (with --exit-on-disconnect)
 * the client's departure; tear EAL down and remove its runtime directory.
 * 0, or -errno with a reason in err. Counters are filled either way. */
int sim_serve(const struct sim_options *o, volatile sig_atomic_t *quit, struct sim_counters *c,
	      char *err, size_t errlen);

#endif
