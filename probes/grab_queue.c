/* grab_queue.c — targets waiting for a slot: a bounded FIFO, the rate
 * limit (a token bucket in targets per second, refilled from the loop's
 * clock) and the calls that feed it (grabber_add*, grabber_run_source) or
 * drain it (grabber_finish). A full queue runs the loop until a slot frees
 * up; targets start in batches of GRAB_START_BATCH between two looks at
 * epoll, so the first answers come in before the next batch. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/quit.h"
#include "probes/grab_slot.h"

#define GRAB_WAIT_MS 50 /* longest epoll wait while targets are queued */

/* Start queued targets while slots and rate tokens allow. */
void grab_start_pending(struct grabber *g)
{
	int64_t now = io_now_ms();

	if (g->cfg.rate > 0) {
		double cap = g->cfg.rate / 10.0 > 1.0 ? g->cfg.rate / 10.0 : 1.0;

		g->tokens += (double)(now - g->last_refill) * g->cfg.rate / 1000.0;
		if (g->tokens > cap)
			g->tokens = cap;
		g->last_refill = now;
	}
	while (g->qlen > 0 && grab_have_slot(g) && g->started_since_poll < GRAB_START_BATCH &&
	       !grab_quitting(g)) {
		if (g->cfg.rate > 0) {
			if (g->tokens < 1.0)
				break;
			g->tokens -= 1.0;
		}
		grab_target_start(g, &g->queue[g->qhead]);
		g->qhead = (g->qhead + 1) % g->qcap;
		g->qlen--;
		g->started_since_poll++;
	}
}

/* Queue a target: IPv4 addr, or IPv6 addr6 when not NULL. */
static int grab_enqueue(struct grabber *g, uint32_t addr, const uint8_t *addr6, uint16_t port,
			const char *name)
{
	struct grab_target *t;

	if (name != NULL && strlen(name) >= sizeof(t->name))
		return -EINVAL;
	while (g->qlen == g->qcap) {
		int r = grab_poll(g, GRAB_WAIT_MS);

		if (r < 0)
			return r;
		if (grab_quitting(g))
			return -EINTR;
	}
	t = &g->queue[(g->qhead + g->qlen) % g->qcap];
	t->addr = addr;
	t->port = port;
	snprintf(t->name, sizeof(t->name), "%s", name ? name : "");
	t->v6 = addr6 != NULL;
	if (addr6 != NULL)
		memcpy(t->addr6, addr6, sizeof(t->addr6));
	g->qlen++;
	if (grab_have_slot(g))
		grab_start_pending(g);
	if (g->started_since_poll >= GRAB_START_BATCH)
		return grab_poll(g, 0); /* let the first answers in before the next batch */
	return 0;
}

int grabber_add(struct grabber *g, uint32_t addr, uint16_t port)
{
	return grab_enqueue(g, addr, NULL, port, NULL);
}

int grabber_add_named(struct grabber *g, uint32_t addr, uint16_t port, const char *name)
{
	return grab_enqueue(g, addr, NULL, port, name);
}

int grabber_add6(struct grabber *g, const uint8_t addr6[16], uint16_t port)
{
	return grab_enqueue(g, 0, addr6, port, NULL);
}

int grabber_finish(struct grabber *g)
{
	while ((g->qlen > 0 && !grab_quitting(g)) ||
	       (g->active > 0 && mc_quit_level() < MC_QUIT_ABANDON)) {
		int r = grab_poll(g, GRAB_WAIT_MS);

		if (r < 0)
			return r;
	}
	return 0;
}

int grabber_run_source(struct grabber *g, const struct grab_source *src)
{
	struct mc_hit hit;

	while (!grab_quitting(g)) {
		bool got = false;
		int r = 0;

		while (g->qlen < g->qcap && (r = src->next(src->ctx, &hit)) == 1) {
			if (g->cfg.skip != NULL &&
			    g->cfg.skip(g->cfg.skip_ctx, hit.addr, hit.port)) {
				g->stats.skipped++;
				continue;
			}
			struct grab_target *t = &g->queue[(g->qhead + g->qlen) % g->qcap];

			t->addr = hit.addr;
			t->port = hit.port;
			t->name[0] = '\0';
			t->v6 = false;
			g->qlen++;
			got = true;
		}
		if (r < 0)
			return r;
		if (!got && g->qlen == 0 && g->active == 0 && src->done(src->ctx))
			break;
		r = grab_poll(g, got || g->active > 0 ? 5 : 1);
		if (r < 0)
			return r;
	}
	return grabber_finish(g);
}
