/* jarm.h — the JARM TLS server fingerprint (Salesforce, 2020), on --jarm.
 *
 * Ten crafted ClientHellos (probe_jarm_build), one connection each; each
 * answer becomes "cipher|version|alpn|extensions" (probe_jarm_part), the
 * ten parts joined by ',' are the raw JARM, and probe_jarm_hash() turns
 * them into the published 62-character fingerprint. Byte for byte the
 * method of github.com/salesforce/jarm jarm.py (version 1.0). */
#ifndef PROBE_JARM_H
#define PROBE_JARM_H

#include <stddef.h>
#include <stdint.h>

#include "probes/tlshello.h"

#define PROBE_JARM_HELLOS    10
#define PROBE_JARM_HELLO_MAX 640
#define PROBE_JARM_PART_MAX  (4 + 1 + 4 + 1 + 32 + 1 + PROBE_HELLO_EXT_MAX * 5 + 1)
#define PROBE_JARM_RAW_MAX   (PROBE_JARM_HELLOS * PROBE_JARM_PART_MAX)
#define PROBE_JARM_HASH_LEN  62

/* Randomness of one hello: client random, session id, key share, and the
 * four GREASE picks (cipher list, extension, key share, versions; the low
 * 4 bits choose one of the 16 GREASE values). */
struct probe_jarm_rand {
	uint8_t random[32], session_id[32], share[32];
	uint8_t grease[4];
};

/* Hello i (0..9) for a server named `host` (jarm.py sends the target as
 * SNI: its name, or the dotted address). Length, or -EINVAL / -ENOBUFS. */
int probe_jarm_build(unsigned i, const char *host, const struct probe_jarm_rand *rnd, uint8_t *out,
		     size_t cap);

/* The part of the raw JARM for one answer ("|||" for none, an alert or
 * anything that is not a ServerHello). res may be NULL. Returns the
 * length written (NUL-terminated, fits PROBE_JARM_PART_MAX). */
size_t probe_jarm_part(const struct probe_hello_result *res, char *out, size_t cap);

/* The fingerprint of a raw JARM (ten parts joined by ','): 62 characters
 * plus NUL in out. All-empty answers give 62 zeros. 0 or -EINVAL. */
int probe_jarm_hash(const char *raw, char out[PROBE_JARM_HASH_LEN + 1]);

#endif
