/* dedup.h — one bit per target index: has this responder been seen yet?
 *
 * The bitmap covers the whole target-index space and is mapped with
 * MAP_NORESERVE, so an IPv4-wide scan (2^32 x ports bits) costs address
 * space, and memory only for the pages responders land on. Single owner
 * (the RX lcore), no locking. */
#ifndef MC_ENGINE_DEDUP_H
#define MC_ENGINE_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dedup;

/* A bitmap for indexes [0, n), all clear. NULL + errno (EINVAL for n == 0,
 * ENOMEM) on failure. */
struct dedup *dedup_new(uint64_t n);

/* Mark index as seen; return true if it was already seen. An index >= n
 * counts as already seen (so the caller drops it). */
bool dedup_test_and_set(struct dedup *d, uint64_t index);

/* Bytes of address space the bitmap maps (for tests and statistics). */
size_t dedup_mapped_bytes(const struct dedup *d);

/* The bitmap's base address, so tests can ask mincore() what is resident. */
const void *dedup_bits(const struct dedup *d);

void dedup_free(struct dedup *d);

#endif
