/* targets.h — the set of (address, port) pairs a scan may probe.
 *
 * Built once from CIDR arguments, an allowlist file and a blocklist file;
 * held as sorted disjoint address intervals with prefix sums, times a port
 * list. Index i in [0, targets_pairs()) names address number i / nports and
 * port number i % nports. The IANA special-purpose blocklist always applies
 * except to an allowlist entry that lies wholly inside one of its ranges
 * (that is how the test network's 198.18.0.0/15 is scanned); the user
 * blocklist always applies. All addresses and ports are host byte order. */
#ifndef MC_ENGINE_TARGETS_H
#define MC_ENGINE_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TARGETS_MAX_PORTS   65535
#define TARGETS_MAX_REASONS 24 /* default blocklist entries + "blocklist-file" */

struct targets; /* allowed address intervals x ports */

struct targets_spec {
	const char *const *cidrs; /* CIDR or address arguments, may be NULL when ncidrs == 0 */
	size_t ncidrs;
	const char *allow_file; /* -w: one CIDR or address a line (at most 255 bytes, no NUL byte),
				   '#' comments; or NULL */
	const char *block_file; /* -b: same format; or NULL */
	const uint16_t *ports;	/* ports to probe, 1..65535; duplicates are dropped */
	size_t nports;
	bool no_default_blocklist; /* tests and benchmarks only */
	bool ignore_safe_range;	   /* skip the MAILCENSUS_SAFE_RANGE check: only for code that sends
				      nothing */
};

/* Build the target set. 0, or -EINVAL / -ENOENT / -ENOMEM / -EPERM with a
 * one-line reason in err ("bad CIDR '1.2.3/40' in FILE:LINE", "NUL byte in
 * FILE:LINE", "line too long in FILE:LINE (...)", "no targets
 * given", "cannot open FILE: ...", "every target is excluded by the
 * blocklists"; -EPERM: an allowed address lies outside $MAILCENSUS_SAFE_RANGE,
 * checked here with mc_safe_allows() unless ignore_safe_range). */
int targets_build(struct targets **out, const struct targets_spec *spec, char *err, size_t errlen);

/* Number of (address, port) pairs: targets_addresses() x number of ports. */
uint64_t targets_pairs(const struct targets *t);

/* Number of allowed addresses. */
uint64_t targets_addresses(const struct targets *t);

/* Number of distinct ports, and the i-th (i < targets_nports()). */
size_t targets_nports(const struct targets *t);
uint16_t targets_port(const struct targets *t, size_t i);

/* The pair with index `index` (< targets_pairs()). */
void targets_pair(const struct targets *t, uint64_t index, uint32_t *addr, uint16_t *port);

/* targets_pair() for index[0..n): addr[i], port[i]. One call per burst, so
 * the per-set branches are taken once and the lookups of a burst overlap. */
void targets_pair_bulk(const struct targets *t, const uint64_t *index, size_t n, uint32_t *addr,
		       uint16_t *port);

/* True and *index set when (addr, port) is a probed pair; false otherwise. */
bool targets_index_of(const struct targets *t, uint32_t addr, uint16_t port, uint64_t *index);

/* Addresses requested but excluded, by reason ("default:10.0.0.0/8", ...,
 * "blocklist-file"): fills up to max entries (only reasons with a non-zero
 * count), returns how many were filled. Each excluded address is counted
 * once, under the first reason in that order. Names live as long as t. */
size_t targets_excluded(const struct targets *t, const char **names, uint64_t *counts, size_t max);

/* Total addresses requested but excluded (sum over all reasons). */
uint64_t targets_excluded_total(const struct targets *t);

/* Number of disjoint address intervals, and the i-th as [*first, *last]. */
size_t targets_nintervals(const struct targets *t);
void targets_interval(const struct targets *t, size_t i, uint32_t *first, uint32_t *last);

void targets_free(struct targets *t);

/* Parse a port list like "110,143,993-995" into ports[] (at most max, in
 * order, duplicates dropped). 0, or -EINVAL with a reason in err. */
int targets_parse_ports(const char *s, uint16_t *ports, size_t max, size_t *nports, char *err,
			size_t errlen);

#endif
