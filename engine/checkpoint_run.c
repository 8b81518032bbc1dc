/* checkpoint_run.c — the main lcore's side of the checkpoint (checkpoint.h).
 *
 * Every tick of the supervisor the TX queues' published positions are
 * offered to the tracker together with the receive counters and what the
 * consumer has stored durably; when the tracker lets a newer sample
 * through, the file is rewritten, at most once a second. At the end of a
 * scan that ran to its end the cooldown has passed for every sample, so
 * once the consumer has stored every hit the final positions (every queue
 * at its end) are written; after an interruption only what the reply
 * window allows. A failed write is counted and named in the result; the
 * scan goes on (a resume then re-sends more, never less). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "engine/runtime.h"
#include "engine/targets.h"

#define CKPT_WRITE_EVERY_NS 1000000000u
#define CKPT_FINAL_WAIT_MS  10000 /* how long the end waits for the consumer's sync */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void write_best(struct eng_run *r, struct engine_result *res)
{
	char err[160];

	memcpy(r->ckpt_file.q, r->ckpt->best, r->cfg->tx_queues * sizeof(r->ckpt->best[0]));
	r->ckpt_file.written_ns = real_ns();
	if (engine_ckpt_write(r->cfg->checkpoint_dirfd, &r->ckpt_file, err, sizeof(err)) == 0) {
		res->checkpoints++;
	} else if (res->checkpoint_errors++ == 0) {
		snprintf(res->checkpoint_error, sizeof(res->checkpoint_error), "%s", err);
	}
	r->ckpt_written_ns = mono_ns();
}

int eng_ckpt_open(struct eng_run *r, char *err, size_t errlen)
{
	const struct engine_config *cfg = r->cfg;
	uint64_t pairs = targets_pairs(cfg->targets);
	int rc;

	if (!cfg->checkpoint)
		return 0;
	r->ckpt = malloc(sizeof(*r->ckpt));
	if (r->ckpt == NULL) {
		snprintf(err, errlen, "out of memory for the checkpoint");
		return -ENOMEM;
	}
	engine_ckpt_tracker_init(r->ckpt, cfg->tx_queues, (uint64_t)cfg->cooldown_ms * 1000000u);
	engine_ckpt_init(&r->ckpt_file, cfg, pairs);
	if (cfg->resume_from != NULL) {
		rc = engine_ckpt_check(cfg->resume_from, cfg, pairs, err, errlen);
		if (rc != 0)
			return rc;
		memcpy(r->ckpt->best, cfg->resume_from->q, sizeof(r->ckpt->best));
	} else {
		for (uint32_t q = 0; q < cfg->tx_queues; q++)
			r->ckpt->best[q] = (struct engine_ckpt_queue){
			    .left =
				cyclic_part_positions(&r->group, cfg->shard * cfg->tx_queues + q,
						      cfg->shards * cfg->tx_queues),
			    .taken = 0};
	}
	r->ckpt->have_best = true;
	r->ckpt_dirty = true; /* the first tick writes where the scan starts */
	return 0;
}

static void sample(struct eng_run *r, uint64_t now)
{
	struct engine_ckpt_queue q[ENGINE_MAX_TX_QUEUES];

	for (uint32_t i = 0; i < r->cfg->tx_queues; i++)
		eng_tx_position(&r->tx[i], &q[i]);
	engine_ckpt_tracker_sample(r->ckpt, now, q);
}

static bool advance(struct eng_run *r, const struct engine_consumer *consumer, uint64_t now)
{
	/* drops first: a later, larger count only makes the need smaller */
	uint64_t dropped = eng_load(&r->rx.ring_drops);
	uint64_t validated = eng_load(&r->rx.hits);
	uint64_t durable =
	    consumer != NULL && consumer->durable != NULL ? consumer->durable(consumer->ctx) : 0;

	return engine_ckpt_tracker_advance(r->ckpt, now, validated, dropped, durable);
}

void eng_ckpt_tick(struct eng_run *r, const struct engine_consumer *consumer,
		   struct engine_result *res, bool force)
{
	uint64_t now;

	if (r->ckpt == NULL)
		return;
	now = mono_ns();
	sample(r, now);
	if (advance(r, consumer, now))
		r->ckpt_dirty = true;
	if (r->ckpt_dirty && (force || now - r->ckpt_written_ns >= CKPT_WRITE_EVERY_NS)) {
		write_best(r, res);
		r->ckpt_dirty = false;
	}
}

void eng_ckpt_final(struct eng_run *r, const struct engine_consumer *consumer,
		    struct engine_result *res, bool ran_to_end)
{
	uint64_t now, need;

	if (r->ckpt == NULL)
		return;
	now = mono_ns();
	sample(r, now);
	need = eng_load(&r->rx.hits) - eng_load(&r->rx.ring_drops);
	for (unsigned ms = 0; ms < CKPT_FINAL_WAIT_MS && consumer != NULL &&
			      consumer->durable != NULL && consumer->durable(consumer->ctx) < need;
	     ms += 10)
		rte_delay_us_sleep(10000);
	/* a scan that ran to its end listened for the whole cooldown after its
	 * last probe: every sample's reply window has passed */
	if (advance(r, consumer, ran_to_end ? now + r->ckpt->window_ns : mono_ns()))
		r->ckpt_dirty = true;
	if (r->ckpt_dirty)
		write_best(r, res);
	r->ckpt_dirty = false;
}

void eng_ckpt_close(struct eng_run *r)
{
	free(r->ckpt);
	r->ckpt = NULL;
}
