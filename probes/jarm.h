/* jarm.h — the JARM TLS server fingerprint (Salesforce, 2020), on --jarm.
 *
 * Ten crafted ClientHellos (probe_jarm_build), one connection each; each
 * answer becomes "cipher|version|alpn|extensions" (probe_jarm_part), the
 * ten parts joined by ',' are the raw JARM, and probe_jarm_hash() turns
 * them into the published 62-character fingerprint. Byte for byte the
 * method of github.com/salesforce/jarm jarm.py (version 1.0). */
#ifndef PROBE_JARM_H
#define PROBE_JARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/tlshello.h"

#define PROBE_JARM_HELLOS 10
/* the longest of the ten hellos with a 253-byte name is 682 bytes (640 was
 * too short from a 212-byte name on) */
#define PROBE_JARM_HELLO_MAX 704
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

/* One target's JARM in progress: the raw parts so far. */
struct probe_jarm_run {
	uint8_t next; /* hello to send next, 0..PROBE_JARM_HELLOS */
	bool timeout; /* jarm.py: a timeout voids the whole fingerprint */
	uint16_t len;
	char raw[PROBE_JARM_RAW_MAX];
};

void probe_jarm_run_init(struct probe_jarm_run *r);

/* The answer to hello r->next (res NULL: none, or refused; timeout: no
 * answer in time); moves on to the next hello. */
void probe_jarm_run_answer(struct probe_jarm_run *r, const struct probe_hello_result *res,
			   bool timeout);

/* Is another hello due? */
bool probe_jarm_run_more(const struct probe_jarm_run *r);

/* The fingerprint once no hello is due (62 zeros after a timeout). */
void probe_jarm_run_finish(const struct probe_jarm_run *r, char out[PROBE_JARM_HASH_LEN + 1]);

#endif
