/* safety.h — the test-range guard.
 *
 * When MAILCENSUS_SAFE_RANGE is set (every script and test in this repo sets
 * it, to 198.18.0.0/15), any target outside the listed CIDRs is a hard error
 * before a single packet or connection is made. A real census leaves it
 * unset. */
#ifndef MC_SAFETY_H
#define MC_SAFETY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_SAFE_RANGE_ENV "MAILCENSUS_SAFE_RANGE"

/* True when [first, last] (host byte order, inclusive) lies entirely inside
 * the safe range, or when no safe range is set. On false, `why` says which
 * address is outside (or that the variable does not parse). */
bool mc_safe_allows(uint32_t first, uint32_t last, char *why, size_t whylen);

#endif
