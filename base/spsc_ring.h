/* spsc_ring.h — a bounded single-producer/single-consumer ring of mc_hit.
 *
 * The engine's receive lcore is the only producer and the grabber's feeder
 * thread the only consumer. The producer never blocks: when the ring is full
 * mc_spsc_push() fails and the caller counts a drop. Head and tail live on
 * separate cache lines; each side caches the other's index so that the
 * common case touches no shared line (the DPDK rte_ring idea, minus the
 * multi-producer machinery and without a DPDK header, so probes/ can use it). */
#ifndef MC_SPSC_RING_H
#define MC_SPSC_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "hit.h"

struct mc_spsc {
	_Alignas(64) _Atomic uint64_t head; /* next slot to write; written by producer */
	uint64_t cached_tail;		    /* producer's view of tail */
	_Alignas(64) _Atomic uint64_t tail; /* next slot to read; written by consumer */
	uint64_t cached_head;		    /* consumer's view of head */
	_Alignas(64) _Atomic bool closed;   /* producer has finished */
	uint64_t mask;
	struct mc_hit *slots;
};

/* Create a ring of `size` slots (rounded up to a power of two). NULL+errno on failure. */
static inline struct mc_spsc *mc_spsc_new(uint64_t size)
{
	struct mc_spsc *r;
	uint64_t n = 1;

	while (n < size)
		n <<= 1;
	r = aligned_alloc(64, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->slots = calloc(n, sizeof(*r->slots));
	if (r->slots == NULL) {
		free(r);
		return NULL;
	}
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->closed, false);
	r->cached_tail = 0;
	r->cached_head = 0;
	r->mask = n - 1;
	return r;
}

static inline void mc_spsc_free(struct mc_spsc *r)
{
	if (r == NULL)
		return;
	free(r->slots);
	free(r);
}

/* Producer only. Returns false (and stores nothing) when the ring is full. */
static inline bool mc_spsc_push(struct mc_spsc *r, const struct mc_hit *h)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (head - r->cached_tail > r->mask) {
		r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head - r->cached_tail > r->mask)
			return false;
	}
	r->slots[head & r->mask] = *h;
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return true;
}

/* Consumer only. Returns false when the ring is empty. */
static inline bool mc_spsc_pop(struct mc_spsc *r, struct mc_hit *out)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (tail == r->cached_head) {
		r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail == r->cached_head)
			return false;
	}
	*out = r->slots[tail & r->mask];
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return true;
}

/* Producer marks the end of the stream; the consumer drains, then sees it. */
static inline void mc_spsc_close(struct mc_spsc *r)
{
	atomic_store_explicit(&r->closed, true, memory_order_release);
}

/* Consumer: true once the producer closed and every hit was popped. */
static inline bool mc_spsc_finished(struct mc_spsc *r)
{
	return atomic_load_explicit(&r->closed, memory_order_acquire) &&
	       atomic_load_explicit(&r->tail, memory_order_relaxed) ==
		   atomic_load_explicit(&r->head, memory_order_acquire);
}

#endif
