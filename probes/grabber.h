/* grabber.h — the POP3/IMAP/TLS grabber: targets in, one mc_record each out.
 *
 * One grabber is one epoll loop on the calling thread with a preallocated
 * table of `concurrency` slots. Each target runs its main probe (see
 * pop3.c / imap.c) and the later phases of its plan (grab_plan.c,
 * docs/grabber.md): login step, injection test, the version matrix's
 * hand-built hellos, JARM. Every target ends in exactly one call of the record callback,
 * whatever the server did. */
#ifndef PROBE_GRABBER_H
#define PROBE_GRABBER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hit.h"
#include "output/record.h"

#define GRAB_PORTS_MAX	 16
#define GRAB_SOURCES_MAX 64

struct grab_port_proto {
	uint16_t port;
	enum mc_proto proto;
};

struct grab_config {
	uint32_t concurrency;	     /* open targets at once (slots); default 1000 */
	uint32_t connect_timeout_ms; /* TCP connect; default 5000 */
	uint32_t read_timeout_ms;  /* each wait for server bytes (incl. handshakes); default 5000 */
	uint32_t total_timeout_ms; /* whole target incl. the matrix; default 30000 */
	uint32_t rate;		   /* new targets per second, 0 = unlimited */
	const char *ca_file;	   /* extra trust anchors for chain verification, or NULL */
	const char
	    *contact;	 /* operator contact sent in IMAP ID (probe_sw_contact_valid), or NULL */
	bool tls_matrix; /* run the hand-built hellos (version matrix, legacy suites) */
	bool injection_test;	/* run the STARTTLS injection test (110/143) */
	bool jarm;		/* JARM fingerprint (10 more connections per TLS target) */
	bool login_probe;	/* pre-TLS login probe on 110/143 (login.h); default on */
	uint32_t max_dh_bits;	/* longest finite-field DH prime accepted (tls_dhguard.h); 4096 */
	uint32_t cpu_budget_ms; /* CPU time one target may cost (grab_budget.h); 1000 */
	uint16_t nports;	/* 0 = defaults: 110 pop3, 143 imap, 993 imaps, 995 pop3s */
	struct grab_port_proto ports[GRAB_PORTS_MAX];
	/* Source addresses (host order): each connection to addr is bound to
	 * source_ips[addr % nsource_ips], the address the SYN scan used for that
	 * target (the engine's kernel path routes by source). 0: the kernel
	 * picks. */
	uint32_t source_ips[GRAB_SOURCES_MAX];
	uint32_t nsource_ips;
	/* The process's quit flag (base/quit.h) is read, not configured: at
	 * MC_QUIT_STOP no new target starts, open ones run to their end
	 * (bounded by the timeouts) and queued ones get no record; at
	 * MC_QUIT_ABANDON open ones are dropped too. */
	/* A resumed census: hits for which skip() says true already have their
	 * record and are not grabbed again (called on the grabber's thread).
	 * NULL = grab every hit. */
	bool (*skip)(void *ctx, uint32_t addr, uint16_t port);
	void *skip_ctx;
	/* Debug trace of each target's plan: one line per phase transition,
	 * "slot 3 198.18.0.5:143 MAIN -> INJECT" (grab_plan.c), called on the
	 * grabber's thread. NULL = no trace. */
	void (*trace)(void *ctx, const char *line);
	void *trace_ctx;
};

/* Fill the defaults above. */
void grab_config_defaults(struct grab_config *cfg);

/* The protocol configured for a port, MC_PROTO_UNKNOWN when none. */
enum mc_proto grab_port_proto(const struct grab_config *cfg, uint16_t port);

/* Called from the grabber's thread for every finished target. The record is
 * the grabber's; the callee may modify it (enrichment) but not keep it. */
typedef void (*grab_record_fn)(void *ctx, struct mc_record *rec);

struct grab_stats {
	uint64_t targets_done;
	uint64_t targets_failed; /* records with a non-empty error */
	uint64_t connections;
	uint32_t open_peak; /* most slots busy at once */
	uint64_t skipped;   /* hits not grabbed: skip() said they have a record */
};

struct grabber;

/* NULL with a reason in err on failure (bad config, OpenSSL, epoll, memory). */
struct grabber *grabber_new(const struct grab_config *cfg, grab_record_fn fn, void *ctx, char *err,
			    size_t errlen);

/* Queue a target; runs the loop while the queue is full. 0, or -errno. A
 * port with no configured protocol still yields a record (error "config:
 * unknown-port"). */
int grabber_add(struct grabber *g, uint32_t addr, uint16_t port);

/* grabber_add() for an IPv6 target (16 bytes, network order; grab only:
 * the engine is IPv4). The record carries ipv6/ip6. */
int grabber_add6(struct grabber *g, const uint8_t addr6[16], uint16_t port);

/* The same with the target's DNS name (NULL or "" for none; at most
 * MC_NAME_MAX - 1 bytes, else -EINVAL): sent as SNI on every TLS
 * connection of the target and checked against the certificate. */
int grabber_add_named(struct grabber *g, uint32_t addr, uint16_t port, const char *name);

/* Where the hits to grab come from (the census: the hit log, read as it
 * grows). next: 1 with a hit, 0 when none is ready now, -errno. done: true
 * once no hit will ever come again (asked only after next returned 0). */
struct grab_source {
	void *ctx;
	int (*next)(void *ctx, struct mc_hit *out);
	bool (*done)(void *ctx);
};

/* Grab every hit of src until it is done, then drain. 0 or -errno. Returns
 * early (after the open targets end) when the quit flag is set. */
int grabber_run_source(struct grabber *g, const struct grab_source *src);

/* Run until every queued target has a record. 0 or -errno. */
int grabber_finish(struct grabber *g);

/* Stop taking new targets, as if the quit flag were set: open targets run
 * to their end, queued ones get no record. Callable from the record
 * callback or from another thread. */
void grabber_stop(struct grabber *g);

/* Every connection is a descriptor: grabber_new() fails unless the soft
 * RLIMIT_NOFILE covers concurrency plus a small reserve; the command sets
 * the limit (cli/proclimits.c). GRAB_FD_SPARE descriptors per process stay free
 * for stdio, epoll, shards and databases. */
#define GRAB_FD_SPARE 32

void grabber_get_stats(const struct grabber *g, struct grab_stats *out);

/* Grabber state per connection (issue 11): at most GRAB_STATE_MAX per slot,
 * whatever the targets do (from concurrency 4 up; below, the one side
 * state the pool always allows is more than the slots' share). Every slot is slot_bytes; a target's
 * extra connections add one side state of side_bytes (grab_side.h), from a pool of at most
 * sides_cap = concurrency * (GRAB_STATE_MAX - slot_bytes) / side_bytes; a target that finds the
 * pool exhausted waits for one (side_waits counts those waits). sides_peak were in use at once. */
#define GRAB_STATE_MAX (16 * 1024)

struct grab_mem {
	size_t slot_bytes, side_bytes;
	uint32_t sides_peak, sides_allocated, sides_cap;
	uint64_t side_waits;
};

void grabber_get_mem(const struct grabber *g, struct grab_mem *out);

void grabber_free(struct grabber *g);

#endif
