/* worker.h — grab workers: one process each, without privileges.
 *
 * The root process (DPDK, the AF_PACKET socket, the hit log writer, the
 * manifest) forks N workers before the engine starts. Each closes every
 * descriptor but its control socket, the results directory and (census)
 * a read-only descriptor of the hit log; builds its grabber while still
 * root (trust anchors, OpenSSL); then gives up root (cli/sandbox.h), opens
 * its own sink (its own shards; sink.h, "grab workers") and loads the
 * seccomp allowlist. From then on it runs its own epoll loop over its share
 * of the targets and talks to the root only through its control socket
 * (SOCK_SEQPACKET, one message per datagram):
 *
 *   worker -> root   READY | FAIL reason | SHARD info | LINE ndjson | REPORT
 *   root -> worker   FINAL logged (census: the hit log is complete)
 *
 * The root lists every reported shard in the manifest, relays NDJSON lines
 * to stdout when there is no results directory, forwards the quit flag
 * (one SIGTERM per level: stop, then abandon; the workers are in a process
 * group of their own, so a terminal's Ctrl-C reaches the root only), and
 * reaps. A worker that dies without its REPORT fails the run. */
#ifndef MC_CLI_WORKER_H
#define MC_CLI_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli/sandbox.h"
#include "output/sink.h"
#include "probes/grabber.h"

#define CLI_WORKERS_MAX 64

/* A worker's last word. */
struct cli_worker_report {
	struct grab_stats stats;
	uint64_t records;	/* accepted by its sink */
	uint64_t refused;	/* records its sink could not take */
	uint64_t records_lost;	/* its sink's */
	uint64_t lookup_errors; /* its sink's */
	uint64_t hits_mine;	/* census: hits of its share it read from the log */
	uint64_t hits_refound;	/* census resume: of them, found by an earlier session */
	uint64_t hits_old;	/* census resume: earlier sessions' hits it took */
	uint64_t hits_read;	/* census: whole records it read (every share) */
	uint64_t hits_corrupt;	/* census: records with a bad checksum */
	int32_t run_rc;		/* grabber result, 0 or -errno */
	int32_t sink_rc;	/* first sink failure, 0 or -errno */
	char reason[256];	/* why, when either is not 0 */
};

/* What a worker's code gets. */
struct cli_worker_env {
	unsigned index, count;
	int ctl;	       /* its control socket */
	int hitlog_fd;	       /* census: the hit log, read-only; else -1 */
	struct out_sink *sink; /* its own (shards, or lines relayed to the root) */
	uint64_t final_logged; /* census: set once FINAL came */
	bool final;
};

struct cli_worker_spec {
	unsigned count;
	struct cli_sandbox_user user;
	struct out_sink *parent; /* the root's sink: configuration, databases, shard index */
	int dirfd;		 /* the results directory, -1 without one */
	int hitlog_fd;		 /* census: the hit log, opened read-only for them; else -1 */
	/* In the worker, still root, after the descriptors were closed: build
	 * what needs files (the grabber). 0, or -errno with a reason. */
	int (*prepare)(void *ctx, struct cli_worker_env *env, char *err, size_t errlen);
	/* In the worker, sandboxed: the work. Fills rep (its sink is closed
	 * after it returns). */
	void (*run)(void *ctx, struct cli_worker_env *env, struct cli_worker_report *rep);
	void *ctx;
};

struct cli_workers;

/* The default worker count: the cores not used by the engine
 * (engine_cores, 0 for grab), at least 1. */
unsigned cli_workers_default(unsigned engine_cores);

/* Fork the workers and wait until each is sandboxed and ready (or failed:
 * then every worker is stopped, -errno with the reason). */
int cli_workers_spawn(struct cli_workers **out, const struct cli_worker_spec *spec, char *err,
		      size_t errlen);

/* Root: serve the workers until each has reported and ended. tick (may be
 * NULL) runs every 50 ms on the same thread. 0, or -errno with a reason
 * (a worker failed, died, or a shard could not be listed). */
int cli_workers_wait(struct cli_workers *w, void (*tick)(void *ctx, struct cli_workers *w),
		     void *ctx, char *err, size_t errlen);

/* Census: the hit log is complete with `logged` records. */
void cli_workers_final(struct cli_workers *w, uint64_t logged);

/* Sum of the reports (after cli_workers_wait). */
void cli_workers_totals(const struct cli_workers *w, struct cli_worker_report *sum);

unsigned cli_workers_count(const struct cli_workers *w);
pid_t cli_workers_pid(const struct cli_workers *w, unsigned k);

/* Stop (SIGKILL) whatever still runs, reap, free. */
void cli_workers_free(struct cli_workers *w);

/* Worker side: did FINAL come? Reads the control socket without blocking;
 * false when the root is gone (the worker should stop). */
bool cli_worker_poll_ctl(struct cli_worker_env *env);

#endif
