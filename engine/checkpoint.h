/* checkpoint.h — where each TX queue is in the permutation, on disk.
 *
 * A census is resumed (docs/resume.md) by restarting every TX queue from a
 * checkpointed position instead of from the start. A position is two
 * numbers per queue: the cycle positions the queue still has to walk
 * (cyclic_iter.left; cyclic_iter_seek() restores the iterator from it) and
 * the targets it had taken by then (for -n). The file is a few lines of
 * text, versioned, at most ENGINE_CKPT_MAX bytes, with an FNV-1a checksum
 * over everything before its last line, written with base/fileio's atomic
 * writer (temporary, fsync, rename, directory fsync).
 *
 * A checkpoint may only claim targets whose replies are already durable:
 * the tracker below keeps timed samples of the queues' positions and lets
 * one through only when (1) the scan's reply window (its cooldown) has
 * passed since the sample, and (2) the consumer says every hit validated
 * by then is stored. So a resume re-sends the probes of the last window
 * (and at most one batch per queue), never misses one. Pure logic: no
 * DPDK, no thread; the engine's main lcore drives it. */
#ifndef MC_ENGINE_CHECKPOINT_H
#define MC_ENGINE_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

#define ENGINE_CKPT_NAME    "scan.checkpoint"
#define ENGINE_CKPT_VERSION 1
#define ENGINE_CKPT_MAX	    4096 /* bytes; 16 queues need ~900 */

struct engine_ckpt_queue {
	uint64_t left;	/* cycle positions still to walk */
	uint64_t taken; /* targets taken before them (counted against -n) */
};

struct engine_ckpt {
	uint64_t seed;
	uint32_t shard, shards, queues;
	uint64_t pairs;	      /* size of the target space */
	uint64_t max_targets; /* -n of this shard, 0 = all */
	uint64_t written_ns;  /* CLOCK_REALTIME of the write (for people) */
	struct engine_ckpt_queue q[ENGINE_MAX_TX_QUEUES];
};

/* The file's text; returns its length (0 when cap is too small). */
size_t engine_ckpt_format(const struct engine_ckpt *c, char *buf, size_t cap);

/* Parse len bytes (untrusted). 0, or -EINVAL / -EBADMSG (checksum) with a
 * reason in err. Checks the shape only: engine_ckpt_check() checks it
 * against a configuration. */
int engine_ckpt_parse(const char *buf, size_t len, struct engine_ckpt *c, char *err, size_t errlen);

/* Read and parse dirfd/ENGINE_CKPT_NAME (a regular file, no symlink, at most
 * ENGINE_CKPT_MAX bytes). 0; -ENOENT when there is none; -errno with a
 * reason otherwise. */
int engine_ckpt_load(int dirfd, struct engine_ckpt *c, char *err, size_t errlen);

/* Write it atomically and durably. 0, or -errno with a reason. */
int engine_ckpt_write(int dirfd, const struct engine_ckpt *c, char *err, size_t errlen);

/* The identity of a scan as a checkpoint names it (positions at the start). */
void engine_ckpt_init(struct engine_ckpt *c, const struct engine_config *cfg, uint64_t pairs);

/* Does c belong to this scan (seed, shard, shards, queues, target space,
 * -n), and is every position one its queue can be at? 0, or -EINVAL with a
 * reason naming what differs. */
int engine_ckpt_check(const struct engine_ckpt *c, const struct engine_config *cfg, uint64_t pairs,
		      char *err, size_t errlen);

/* Targets this shard still has to probe from c (for the progress line). */
uint64_t engine_ckpt_taken(const struct engine_ckpt *c);

/* ---- the tracker: which sample may be written ---------------------------- */

#define ENGINE_CKPT_SAMPLES 512

struct engine_ckpt_sample {
	uint64_t t_ns; /* when the positions were read */
	uint64_t need; /* hits that must be durable; valid once marked */
	bool marked;   /* the reply window has passed: need is set */
	struct engine_ckpt_queue q[ENGINE_MAX_TX_QUEUES];
};

struct engine_ckpt_tracker {
	uint64_t window_ns; /* replies arrive within this long (the cooldown, >= 1 s) */
	uint64_t every_ns;  /* a sample at most this often */
	uint32_t queues;
	uint32_t head, len; /* FIFO of samples, oldest first */
	uint64_t last_t_ns; /* of the newest sample */
	bool have_best;	    /* best holds an eligible sample */
	uint64_t best_t_ns;
	struct engine_ckpt_queue best[ENGINE_MAX_TX_QUEUES];
	struct engine_ckpt_sample s[ENGINE_CKPT_SAMPLES];
};

void engine_ckpt_tracker_init(struct engine_ckpt_tracker *t, uint32_t queues, uint64_t window_ns);

/* Offer the queues' positions read at now_ns. Taken when every_ns has passed
 * since the last sample and there is room (a full FIFO drops the new
 * sample, never an old one, so the oldest still becomes eligible). */
void engine_ckpt_tracker_sample(struct engine_ckpt_tracker *t, uint64_t now_ns,
				const struct engine_ckpt_queue *q);

/* Advance at now_ns: samples whose window has passed are marked with
 * `validated` - `dropped` (hits validated so far, less those the ring could
 * not take; read dropped first); marked samples with need <= `durable`
 * become eligible, the newest of them the best. True when the best changed. */
bool engine_ckpt_tracker_advance(struct engine_ckpt_tracker *t, uint64_t now_ns, uint64_t validated,
				 uint64_t dropped, uint64_t durable);

#endif
