/* jarm.c — JARM hellos and fingerprint (see jarm.h).
 *
 * Method (jarm.py 1.0): ten hellos differing in version (TLS 1.1, 1.2,
 * 1.3), cipher list (69 suites, or 64 without TLS 1.3's) and its order
 * (forward, reverse, top half, bottom half, middle out), GREASE, ALPN list
 * (all, or "rare" without h2 and http/1.1) and the order of the ALPN and
 * supported_versions lists. The fingerprint: for each answer the index of
 * the chosen suite in a fixed list (two hex digits, 00 for none) and a
 * letter for the version byte, then the first 32 hex digits of SHA-256 over
 * every answer's ALPN and extension list. Orders are index permutations
 * (jarm.py's cipher_mung) applied to suites, ALPN names and versions. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "probes/jarm.h"

enum jarm_order { J_FORWARD, J_REVERSE, J_TOP_HALF, J_BOTTOM_HALF, J_MIDDLE_OUT };

struct jarm_spec {
	uint16_t version; /* 0x0302 TLS 1.1, 0x0303 TLS 1.2, 0x0304 TLS 1.3 */
	bool all_suites;  /* else NO1.3 */
	enum jarm_order suite_order;
	bool grease, rare_alpn;
	int versions_ext; /* 0 none, 2 "1.2_SUPPORT", 3 "1.3_SUPPORT" */
	enum jarm_order ext_order;
};

static const struct jarm_spec jarm_specs[PROBE_JARM_HELLOS] = {
    {0x0303, true, J_FORWARD, false, false, 2, J_REVERSE},
    {0x0303, true, J_REVERSE, false, false, 2, J_FORWARD},
    {0x0303, true, J_TOP_HALF, false, false, 0, J_FORWARD},
    {0x0303, true, J_BOTTOM_HALF, false, true, 0, J_FORWARD},
    {0x0303, true, J_MIDDLE_OUT, true, true, 0, J_REVERSE},
    {0x0302, true, J_FORWARD, false, false, 0, J_FORWARD},
    {0x0304, true, J_FORWARD, false, false, 3, J_REVERSE},
    {0x0304, true, J_REVERSE, false, false, 3, J_FORWARD},
    {0x0304, false, J_FORWARD, false, false, 3, J_FORWARD},
    {0x0304, true, J_MIDDLE_OUT, true, false, 3, J_REVERSE},
};

static const uint16_t jarm_all[] = {
    0x0016, 0x0033, 0x0067, 0xc09e, 0xc0a2, 0x009e, 0x0039, 0x006b, 0xc09f, 0xc0a3, 0x009f, 0x0045,
    0x00be, 0x0088, 0x00c4, 0x009a, 0xc008, 0xc009, 0xc023, 0xc0ac, 0xc0ae, 0xc02b, 0xc00a, 0xc024,
    0xc0ad, 0xc0af, 0xc02c, 0xc072, 0xc073, 0xcca9, 0x1302, 0x1301, 0xcc14, 0xc007, 0xc012, 0xc013,
    0xc027, 0xc02f, 0xc014, 0xc028, 0xc030, 0xc060, 0xc061, 0xc076, 0xc077, 0xcca8, 0x1305, 0x1304,
    0x1303, 0xcc13, 0xc011, 0x000a, 0x002f, 0x003c, 0xc09c, 0xc0a0, 0x009c, 0x0035, 0x003d, 0xc09d,
    0xc0a1, 0x009d, 0x0041, 0x00ba, 0x0084, 0x00c0, 0x0007, 0x0004, 0x0005};
#define JARM_NALL (sizeof(jarm_all) / sizeof(jarm_all[0]))

/* The fingerprint's suite index list (jarm.py cipher_bytes). */
static const uint16_t jarm_index[] = {
    0x0004, 0x0005, 0x0007, 0x000a, 0x0016, 0x002f, 0x0033, 0x0035, 0x0039, 0x003c, 0x003d, 0x0041,
    0x0045, 0x0067, 0x006b, 0x0084, 0x0088, 0x009a, 0x009c, 0x009d, 0x009e, 0x009f, 0x00ba, 0x00be,
    0x00c0, 0x00c4, 0xc007, 0xc008, 0xc009, 0xc00a, 0xc011, 0xc012, 0xc013, 0xc014, 0xc023, 0xc024,
    0xc027, 0xc028, 0xc02b, 0xc02c, 0xc02f, 0xc030, 0xc060, 0xc061, 0xc072, 0xc073, 0xc076, 0xc077,
    0xc09c, 0xc09d, 0xc09e, 0xc09f, 0xc0a0, 0xc0a1, 0xc0a2, 0xc0a3, 0xc0ac, 0xc0ad, 0xc0ae, 0xc0af,
    0xcc13, 0xcc14, 0xcca8, 0xcca9, 0x1301, 0x1302, 0x1303, 0x1304, 0x1305};
#define JARM_NINDEX (sizeof(jarm_index) / sizeof(jarm_index[0]))

static const char *const jarm_alpn_all[] = {"http/0.9", "http/1.0", "http/1.1", "spdy/1", "spdy/2",
					    "spdy/3",	"h2",	    "h2c",	"hq"};
static const char *const jarm_alpn_rare[] = {"http/0.9", "http/1.0", "spdy/1", "spdy/2",
					     "spdy/3",	 "h2c",	     "hq"};

static const uint8_t jarm_grease[16] = {0x0a, 0x1a, 0x2a, 0x3a, 0x4a, 0x5a, 0x6a, 0x7a,
					0x8a, 0x9a, 0xaa, 0xba, 0xca, 0xda, 0xea, 0xfa};

#define JARM_LIST_MAX 72

/* jarm.py cipher_mung as a permutation: idx[0..*n) of a list of n. */
static void jarm_mung(enum jarm_order o, size_t n, size_t *idx, size_t *nout)
{
	size_t k = 0, half = n / 2;

	switch (o) {
	case J_FORWARD:
		for (size_t i = 0; i < n; i++)
			idx[k++] = i;
		break;
	case J_REVERSE:
		for (size_t i = n; i-- > 0;)
			idx[k++] = i;
		break;
	case J_BOTTOM_HALF:
		for (size_t i = n % 2 ? half + 1 : half; i < n; i++)
			idx[k++] = i;
		break;
	case J_TOP_HALF: /* the middle one (odd n), then the bottom half of the reverse */
		if (n % 2)
			idx[k++] = half;
		for (size_t j = n % 2 ? half + 1 : half; j < n; j++)
			idx[k++] = n - 1 - j;
		break;
	case J_MIDDLE_OUT:
		if (n % 2) {
			idx[k++] = half;
			for (size_t i = 1; i <= half; i++) {
				idx[k++] = half + i;
				idx[k++] = half - i;
			}
		} else {
			for (size_t i = 1; i <= half; i++) {
				idx[k++] = half - 1 + i;
				idx[k++] = half - i;
			}
		}
		break;
	}
	*nout = k;
}

struct jbuf {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
};

static void j8(struct jbuf *b, unsigned v)
{
	if (b->len >= b->cap) {
		b->overflow = true;
		return;
	}
	b->p[b->len++] = (uint8_t)v;
}

static void j16(struct jbuf *b, unsigned v)
{
	j8(b, v >> 8);
	j8(b, v & 0xff);
}

static void jbytes(struct jbuf *b, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		j8(b, ((const uint8_t *)p)[i]);
}

static void jpatch16(struct jbuf *b, size_t at)
{
	size_t n = b->len - at - 2;

	if (!b->overflow && at + 2 <= b->len) {
		b->p[at] = (uint8_t)(n >> 8);
		b->p[at + 1] = (uint8_t)n;
	}
}

static unsigned grease(const struct probe_jarm_rand *r, int which)
{
	uint8_t g = jarm_grease[r->grease[which] & 15];

	return (unsigned)g << 8 | g;
}

static void jarm_suites(const struct jarm_spec *s, const struct probe_jarm_rand *r, struct jbuf *b)
{
	uint16_t list[JARM_LIST_MAX];
	size_t n = 0, idx[JARM_LIST_MAX], k;
	size_t at = b->len;

	for (size_t i = 0; i < JARM_NALL; i++)
		if (s->all_suites || (jarm_all[i] >> 8) != 0x13)
			list[n++] = jarm_all[i];
	jarm_mung(s->suite_order, n, idx, &k);
	j16(b, 0);
	if (s->grease)
		j16(b, grease(r, 0));
	for (size_t i = 0; i < k; i++)
		j16(b, list[idx[i]]);
	jpatch16(b, at);
}

static void jarm_alpn(const struct jarm_spec *s, struct jbuf *b)
{
	const char *const *names = s->rare_alpn ? jarm_alpn_rare : jarm_alpn_all;
	size_t n = s->rare_alpn ? 7 : 9, idx[9], k, at;

	jarm_mung(s->ext_order, n, idx, &k);
	j16(b, 0x0010);
	at = b->len;
	j16(b, 0);
	j16(b, 0);
	for (size_t i = 0; i < k; i++) {
		j8(b, (unsigned)strlen(names[idx[i]]));
		jbytes(b, names[idx[i]], strlen(names[idx[i]]));
	}
	jpatch16(b, at + 2);
	jpatch16(b, at);
}

static void jarm_versions(const struct jarm_spec *s, const struct probe_jarm_rand *r,
			  struct jbuf *b)
{
	static const uint16_t v[] = {0x0301, 0x0302, 0x0303, 0x0304};
	size_t n = s->versions_ext == 2 ? 3 : 4, idx[4], k, at;

	jarm_mung(s->ext_order, n, idx, &k);
	j16(b, 0x002b);
	at = b->len;
	j16(b, 0);
	j8(b, (unsigned)(2 * k + (s->grease ? 2 : 0)));
	if (s->grease)
		j16(b, grease(r, 3));
	for (size_t i = 0; i < k; i++)
		j16(b, v[idx[i]]);
	jpatch16(b, at);
}

static void jarm_extensions(const struct jarm_spec *s, const char *host,
			    const struct probe_jarm_rand *r, struct jbuf *b)
{
	static const uint8_t fixed1[] = {0x00, 0x17, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xff,
					 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x08,
					 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19, 0x00, 0x0b,
					 0x00, 0x02, 0x01, 0x00, 0x00, 0x23, 0x00, 0x00};
	static const uint8_t sigalgs[] = {0x00, 0x0d, 0x00, 0x14, 0x00, 0x12, 0x04, 0x03,
					  0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05,
					  0x05, 0x01, 0x08, 0x06, 0x06, 0x01, 0x02, 0x01};
	size_t at = b->len, hl = strlen(host);

	j16(b, 0);
	if (s->grease) {
		j16(b, grease(r, 1));
		j16(b, 0);
	}
	j16(b, 0x0000); /* server_name */
	j16(b, (unsigned)hl + 5);
	j16(b, (unsigned)hl + 3);
	j8(b, 0);
	j16(b, (unsigned)hl);
	jbytes(b, host, hl);
	jbytes(b, fixed1, sizeof(fixed1));
	jarm_alpn(s, b);
	jbytes(b, sigalgs, sizeof(sigalgs));
	j16(b, 0x0033); /* key_share */
	j16(b, s->grease ? 2 + 5 + 36 : 2 + 36);
	j16(b, s->grease ? 5 + 36 : 36);
	if (s->grease) {
		j16(b, grease(r, 2));
		jbytes(b, (const uint8_t[]){0x00, 0x01, 0x00}, 3);
	}
	jbytes(b, (const uint8_t[]){0x00, 0x1d, 0x00, 0x20}, 4);
	jbytes(b, r->share, 32);
	jbytes(b, (const uint8_t[]){0x00, 0x2d, 0x00, 0x02, 0x01, 0x01}, 6);
	if (s->version == 0x0304 || s->versions_ext == 2)
		jarm_versions(s, r, b);
	jpatch16(b, at);
}

int probe_jarm_build(unsigned i, const char *host, const struct probe_jarm_rand *rnd, uint8_t *out,
		     size_t cap)
{
	const struct jarm_spec *s;
	struct jbuf b = {.p = out, .cap = cap};
	size_t hs_at;

	if (i >= PROBE_JARM_HELLOS || host == NULL || strlen(host) > 253)
		return -EINVAL;
	s = &jarm_specs[i];
	j8(&b, 22);
	j16(&b, s->version == 0x0304 ? 0x0301 : s->version);
	j16(&b, 0);
	j8(&b, 1);
	hs_at = b.len;
	j8(&b, 0);
	j16(&b, 0);
	j16(&b, s->version == 0x0304 ? 0x0303 : s->version);
	jbytes(&b, rnd->random, 32);
	j8(&b, 32);
	jbytes(&b, rnd->session_id, 32);
	jarm_suites(s, rnd, &b);
	j8(&b, 1);
	j8(&b, 0);
	jarm_extensions(s, host, rnd, &b);
	if (b.overflow)
		return -ENOBUFS;
	jpatch16(&b, 3);
	out[hs_at] = 0;
	out[hs_at + 1] = (uint8_t)((b.len - hs_at - 3) >> 8);
	out[hs_at + 2] = (uint8_t)(b.len - hs_at - 3);
	return (int)b.len;
}

size_t probe_jarm_part(const struct probe_hello_result *res, char *out, size_t cap)
{
	size_t n;

	if (cap < PROBE_JARM_PART_MAX)
		return 0;
	if (res == NULL ||
	    (res->kind != PROBE_HELLO_SERVER_HELLO && res->kind != PROBE_HELLO_RETRY))
		return (size_t)snprintf(out, cap, "|||");
	n = (size_t)snprintf(out, cap, "%04x|%04x|", res->suite, res->legacy_version);
	if (res->n_ext == 0)
		return n + (size_t)snprintf(out + n, cap - n, "|");
	memcpy(out + n, res->alpn, res->alpn_len);
	n += res->alpn_len;
	out[n++] = '|';
	for (unsigned i = 0; i < res->n_ext; i++)
		n += (size_t)snprintf(out + n, cap - n, i ? "-%04x" : "%04x", res->ext[i]);
	return n;
}

static unsigned cipher_index(const char *hex, size_t len)
{
	char want[5];

	if (len == 0)
		return 0;
	for (size_t i = 0; i < JARM_NINDEX; i++) {
		snprintf(want, sizeof(want), "%04x", jarm_index[i]);
		if (len == 4 && memcmp(hex, want, 4) == 0)
			return (unsigned)i + 1;
	}
	return JARM_NINDEX + 1;
}

int probe_jarm_hash(const char *raw, char out[PROBE_JARM_HASH_LEN + 1])
{
	char tail[PROBE_JARM_RAW_MAX];
	size_t tl = 0, o = 0;
	const char *p = raw;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	bool empty = true;

	for (int h = 0; h < PROBE_JARM_HELLOS; h++) {
		const char *end = strchr(p, ','), *f[4];
		size_t flen[4], partlen = end ? (size_t)(end - p) : strlen(p);
		const char *q = p;

		if ((end == NULL) != (h == PROBE_JARM_HELLOS - 1))
			return -EINVAL;
		for (int k = 0; k < 4; k++) { /* four '|'-separated fields */
			const char *bar = memchr(q, '|', (size_t)(p + partlen - q));

			if ((bar == NULL) != (k == 3))
				return -EINVAL;
			f[k] = q;
			flen[k] = bar ? (size_t)(bar - q) : (size_t)(p + partlen - q);
			q = bar ? bar + 1 : q;
		}
		empty = empty && flen[0] + flen[1] + flen[2] + flen[3] == 0;
		o += (size_t)snprintf(out + o, 3, "%02x", cipher_index(f[0], flen[0]));
		out[o++] = flen[1] < 4				? '0'
			   : (f[1][3] >= '0' && f[1][3] <= '5') ? "abcdef"[f[1][3] - '0']
								: '0';
		if (tl + flen[2] + flen[3] > sizeof(tail))
			return -EINVAL;
		memcpy(tail + tl, f[2], flen[2]);
		tl += flen[2];
		memcpy(tail + tl, f[3], flen[3]);
		tl += flen[3];
		p = end ? end + 1 : p + partlen;
	}
	if (empty) {
		memset(out, '0', PROBE_JARM_HASH_LEN);
		out[PROBE_JARM_HASH_LEN] = '\0';
		return 0;
	}
	if (!EVP_Digest(tail, tl, md, &mdlen, EVP_sha256(), NULL))
		return -EINVAL;
	for (int i = 0; i < 16; i++)
		o += (size_t)snprintf(out + o, 3, "%02x", md[i]);
	out[o] = '\0';
	return 0;
}

void probe_jarm_run_init(struct probe_jarm_run *r)
{
	r->next = 0;
	r->timeout = false;
	r->len = 0;
	r->raw[0] = '\0';
}

void probe_jarm_run_answer(struct probe_jarm_run *r, const struct probe_hello_result *res,
			   bool timeout)
{
	size_t room = sizeof(r->raw) - r->len;

	if (r->next >= PROBE_JARM_HELLOS)
		return;
	if (r->next > 0 && room > 1) {
		r->raw[r->len++] = ',';
		room--;
	}
	r->len = (uint16_t)(r->len + probe_jarm_part(res, r->raw + r->len, room));
	r->timeout = r->timeout || timeout;
	r->next++;
}

bool probe_jarm_run_more(const struct probe_jarm_run *r)
{
	return r->next < PROBE_JARM_HELLOS && !r->timeout;
}

void probe_jarm_run_finish(const struct probe_jarm_run *r, char out[PROBE_JARM_HASH_LEN + 1])
{
	if (r->timeout || probe_jarm_hash(r->raw, out) != 0)
		probe_jarm_hash("|||,|||,|||,|||,|||,|||,|||,|||,|||,|||", out);
}
