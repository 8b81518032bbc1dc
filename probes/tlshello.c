/* tlshello.c — ClientHello builder and strict ServerHello parser (see
 * tlshello.h).
 *
 * Builder. One table lists every suite we may offer with its families; a
 * hello offers the suites whose families meet the spec's mask, ordinary
 * ones first (a server that honours the client's order then picks what a
 * real client would get), plus TLS_EMPTY_RENEGOTIATION_INFO_SCSV. Never
 * TLS_FALLBACK_SCSV: a hello pinned below the server's best version would
 * then be refused for the wrong reason.
 *
 * Parser. The answer is a byte stream of records; the ServerHello may be
 * split over several handshake records, and an alert may come instead. The
 * parser walks the records with an explicit state machine (record header ->
 * fragment -> message), copies handshake bytes into a bounded buffer until
 * the ServerHello is complete, and then reads the message field by field,
 * checking the length before every read. Bytes after the ServerHello (the
 * certificate flight) are never looked at, so a big certificate does not
 * need a big buffer. An SSLv2 answer (first byte with the high bit set) is
 * judged from its 2-byte header and the 11 fixed bytes of SERVER-HELLO. */
#include <errno.h>
#include <string.h>

#include "probes/tlshello.h"

#define F(x) PROBE_FAM_BIT(PROBE_FAM_##x)

struct hello_suite {
	uint16_t id;
	uint32_t fams;
};

/* Ordinary suites first, in the order a modern client prefers them. */
static const struct hello_suite hello_suites[] = {
    {0x1301, F(TLS13)},
    {0x1302, F(TLS13)},
    {0x1303, F(TLS13)},
    {0xc02b, F(MODERN)}, /* ECDHE-ECDSA-AES128-GCM-SHA256 */
    {0xc02f, F(MODERN)}, /* ECDHE-RSA-AES128-GCM-SHA256 */
    {0xc02c, F(MODERN)},
    {0xc030, F(MODERN)},
    {0xcca9, F(MODERN)}, /* ECDHE-ECDSA-CHACHA20-POLY1305 */
    {0xcca8, F(MODERN)},
    {0x009e, F(MODERN)}, /* DHE-RSA-AES128-GCM-SHA256 */
    {0x009f, F(MODERN)},
    {0xccaa, F(MODERN)},
    {0xc023, F(MODERN)},
    {0xc027, F(MODERN)},
    {0xc024, F(MODERN)},
    {0xc028, F(MODERN)},
    {0xc009, F(MODERN)}, /* ECDHE-ECDSA-AES128-SHA */
    {0xc013, F(MODERN)}, /* ECDHE-RSA-AES128-SHA */
    {0xc00a, F(MODERN)},
    {0xc014, F(MODERN)},
    {0x0067, F(MODERN)},
    {0x006b, F(MODERN)},
    {0x0033, F(MODERN)}, /* DHE-RSA-AES128-SHA */
    {0x0039, F(MODERN)},
    {0x0032, F(MODERN)}, /* DHE-DSS-AES128-SHA */
    {0x0038, F(MODERN)},
    {0x009c, F(MODERN)}, /* AES128-GCM-SHA256 */
    {0x009d, F(MODERN)},
    {0x003c, F(MODERN)},
    {0x003d, F(MODERN)},
    {0x002f, F(MODERN)}, /* AES128-SHA */
    {0x0035, F(MODERN)}, /* AES256-SHA */
    {0x0045, F(MODERN)}, /* DHE-RSA-CAMELLIA128-SHA */
    {0x0088, F(MODERN)},
    {0x0041, F(MODERN)}, /* CAMELLIA128-SHA */
    {0x0084, F(MODERN)},
    {0x0096, F(MODERN)}, /* SEED-SHA */
    {0x0007, F(MODERN)}, /* IDEA-CBC-SHA */
    /* legacy families */
    {0x0005, F(RC4)},			    /* RC4-SHA */
    {0x0004, F(RC4)},			    /* RC4-MD5 */
    {0xc011, F(RC4)},			    /* ECDHE-RSA-RC4-SHA */
    {0xc007, F(RC4)},			    /* ECDHE-ECDSA-RC4-SHA */
    {0x0066, F(RC4)},			    /* DHE-DSS-RC4-SHA */
    {0x000a, F(3DES)},			    /* DES-CBC3-SHA */
    {0x0016, F(3DES)},			    /* EDH-RSA-DES-CBC3-SHA */
    {0x0013, F(3DES)},			    /* EDH-DSS-DES-CBC3-SHA */
    {0xc012, F(3DES)},			    /* ECDHE-RSA-DES-CBC3-SHA */
    {0xc008, F(3DES)},			    /* ECDHE-ECDSA-DES-CBC3-SHA */
    {0x0009, F(DES)},			    /* DES-CBC-SHA */
    {0x0015, F(DES)},			    /* EDH-RSA-DES-CBC-SHA */
    {0x0012, F(DES)},			    /* EDH-DSS-DES-CBC-SHA */
    {0x0003, F(EXPORT) | F(RC4)},	    /* EXP-RC4-MD5 */
    {0x0006, F(EXPORT)},		    /* EXP-RC2-CBC-MD5 */
    {0x0008, F(EXPORT)},		    /* EXP-DES-CBC-SHA */
    {0x0014, F(EXPORT)},		    /* EXP-EDH-RSA-DES-CBC-SHA */
    {0x0011, F(EXPORT)},		    /* EXP-EDH-DSS-DES-CBC-SHA */
    {0x0062, F(EXPORT)},		    /* EXP1024-DES-CBC-SHA */
    {0x0064, F(EXPORT) | F(RC4)},	    /* EXP1024-RC4-SHA */
    {0x0063, F(EXPORT)},		    /* EXP1024-DHE-DSS-DES-CBC-SHA */
    {0x0065, F(EXPORT) | F(RC4)},	    /* EXP1024-DHE-DSS-RC4-SHA */
    {0x0002, F(NULL)},			    /* NULL-SHA */
    {0x0001, F(NULL)},			    /* NULL-MD5 */
    {0x003b, F(NULL)},			    /* NULL-SHA256 */
    {0xc010, F(NULL)},			    /* ECDHE-RSA-NULL-SHA */
    {0xc006, F(NULL)},			    /* ECDHE-ECDSA-NULL-SHA */
    {0xc018, F(ANON)},			    /* AECDH-AES128-SHA */
    {0xc019, F(ANON)},			    /* AECDH-AES256-SHA */
    {0x0034, F(ANON)},			    /* ADH-AES128-SHA */
    {0x003a, F(ANON)},			    /* ADH-AES256-SHA */
    {0x00a6, F(ANON)},			    /* ADH-AES128-GCM-SHA256 */
    {0x00a7, F(ANON)},			    /* ADH-AES256-GCM-SHA384 */
    {0x006c, F(ANON)},			    /* ADH-AES128-SHA256 */
    {0x006d, F(ANON)},			    /* ADH-AES256-SHA256 */
    {0x0046, F(ANON)},			    /* ADH-CAMELLIA128-SHA */
    {0x0018, F(ANON) | F(RC4)},		    /* ADH-RC4-MD5 */
    {0x001b, F(ANON) | F(3DES)},	    /* ADH-DES-CBC3-SHA */
    {0x001a, F(ANON) | F(DES)},		    /* ADH-DES-CBC-SHA */
    {0x0017, F(ANON) | F(EXPORT) | F(RC4)}, /* EXP-ADH-RC4-MD5 */
    {0x0019, F(ANON) | F(EXPORT)},	    /* EXP-ADH-DES-CBC-SHA */
    {0xc016, F(ANON) | F(RC4)},		    /* AECDH-RC4-SHA */
    {0xc017, F(ANON) | F(3DES)},	    /* AECDH-DES-CBC3-SHA */
    {0xc015, F(ANON) | F(NULL)},	    /* AECDH-NULL-SHA */
};

#define HELLO_NSUITES (sizeof(hello_suites) / sizeof(hello_suites[0]))

/* SSLv2 cipher specs (3 bytes each): RC4-MD5, EXP-RC4, RC2, EXP-RC2, IDEA, DES, 3DES. */
static const uint8_t ssl2_specs[] = {0x01, 0x00, 0x80, 0x02, 0x00, 0x80, 0x03,
				     0x00, 0x80, 0x04, 0x00, 0x80, 0x05, 0x00,
				     0x80, 0x06, 0x00, 0x40, 0x07, 0x00, 0xc0};

static const uint16_t hello_groups[] = {0x001d, 0x0017, 0x0018, 0x0019, 0x001e,
					0x0016, 0x0015, 0x0100, 0x0101};
static const uint16_t hello_sigalgs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501,
					 0x0603, 0x0806, 0x0601, 0x0807, 0x0808, 0x0402,
					 0x0303, 0x0301, 0x0201, 0x0203, 0x0202};

/* SHA-256("HelloRetryRequest"): a ServerHello with this random is an HRR. */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

const char *probe_fam_name(enum probe_suite_family f)
{
	static const char *const names[PROBE_FAM_COUNT] = {"rc4",  "3des", "des",    "export",
							   "null", "anon", "modern", "tls13"};

	return (unsigned)f < PROBE_FAM_COUNT ? names[f] : "unknown";
}

uint32_t probe_suite_families(uint16_t suite)
{
	for (size_t i = 0; i < HELLO_NSUITES; i++)
		if (hello_suites[i].id == suite)
			return hello_suites[i].fams;
	return 0;
}

/* ---- builder ------------------------------------------------------------ */

struct hello_buf {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
};

static void put8(struct hello_buf *b, uint8_t v)
{
	if (b->len >= b->cap) {
		b->overflow = true;
		return;
	}
	b->p[b->len++] = v;
}

static void put16(struct hello_buf *b, uint16_t v)
{
	put8(b, (uint8_t)(v >> 8));
	put8(b, (uint8_t)v);
}

static void put_bytes(struct hello_buf *b, const void *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(b, ((const uint8_t *)src)[i]);
}

/* Write a big-endian length of `width` bytes at `at` covering up to the end. */
static void patch_len(struct hello_buf *b, size_t at, unsigned width)
{
	size_t n = b->len - at - width;

	if (b->overflow || at + width > b->len)
		return;
	for (unsigned i = 0; i < width; i++)
		b->p[at + i] = (uint8_t)(n >> (8 * (width - 1 - i)));
}

static size_t put_suites(struct hello_buf *b, uint32_t fams, uint16_t version)
{
	size_t n = 0;

	for (size_t i = 0; i < HELLO_NSUITES; i++) {
		if (!(hello_suites[i].fams & fams))
			continue;
		if (hello_suites[i].fams == F(TLS13) && version < PROBE_TLS13)
			continue;
		put16(b, hello_suites[i].id);
		n++;
	}
	put16(b, 0x00ff); /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV */
	return n;
}

static int put_sslv2(const struct probe_hello_spec *spec, struct hello_buf *b)
{
	const size_t body = 9 + sizeof(ssl2_specs) + 16;

	put8(b, (uint8_t)(0x80 | body >> 8));
	put8(b, (uint8_t)body);
	put8(b, 1); /* CLIENT-HELLO */
	put16(b, PROBE_SSL2);
	put16(b, sizeof(ssl2_specs));
	put16(b, 0);  /* session id */
	put16(b, 16); /* challenge */
	put_bytes(b, ssl2_specs, sizeof(ssl2_specs));
	put_bytes(b, spec->random, 16);
	return b->overflow ? -ENOBUFS : (int)b->len;
}

static void put_list16(struct hello_buf *b, uint16_t type, const uint16_t *v, size_t n)
{
	put16(b, type);
	put16(b, (uint16_t)(2 + 2 * n));
	put16(b, (uint16_t)(2 * n));
	for (size_t i = 0; i < n; i++)
		put16(b, v[i]);
}

static void put_extensions(const struct probe_hello_spec *spec, struct hello_buf *b, size_t hs_at)
{
	size_t at = b->len, sni_len = spec->sni ? strlen(spec->sni) : 0;

	put16(b, 0);
	if (sni_len > 0) {
		put16(b, 0x0000);
		put16(b, (uint16_t)(sni_len + 5));
		put16(b, (uint16_t)(sni_len + 3));
		put8(b, 0); /* host_name */
		put16(b, (uint16_t)sni_len);
		put_bytes(b, spec->sni, sni_len);
	}
	put_list16(b, 0x000a, hello_groups, sizeof(hello_groups) / sizeof(hello_groups[0]));
	put_bytes(b, (const uint8_t[]){0x00, 0x0b, 0x00, 0x02, 0x01, 0x00}, 6); /* uncompressed */
	if (spec->version >= PROBE_TLS12)
		put_list16(b, 0x000d, hello_sigalgs,
			   sizeof(hello_sigalgs) / sizeof(hello_sigalgs[0]));
	if (spec->version >= PROBE_TLS13) {
		put_bytes(b,
			  (const uint8_t[]){0x00, 0x2b, 0x00, 0x09, 0x08, 0x03, 0x04, 0x03, 0x03,
					    0x03, 0x02, 0x03, 0x01},
			  13);
		put_bytes(
		    b,
		    (const uint8_t[]){0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20},
		    10);
		put_bytes(b, spec->share, 32);
		put_bytes(b, (const uint8_t[]){0x00, 0x2d, 0x00, 0x02, 0x01, 0x01},
			  6); /* psk_dhe_ke */
	}
	/* RFC 7685 padding: a handshake message of 256..511 bytes becomes 512. */
	if (b->len - hs_at >= 256 && b->len - hs_at < 512) {
		size_t pad = b->len - hs_at + 4 >= 512 ? 0 : 512 - (b->len - hs_at) - 4;

		put16(b, 0x0015);
		put16(b, (uint16_t)pad);
		for (size_t i = 0; i < pad; i++)
			put8(b, 0);
	}
	patch_len(b, at, 2);
}

int probe_hello_build(const struct probe_hello_spec *spec, uint8_t *out, size_t cap)
{
	struct hello_buf b = {.p = out, .cap = cap};
	size_t rec_at, hs_at, suites_at;

	if (spec->version == PROBE_SSL2)
		return put_sslv2(spec, &b);
	if (spec->version < PROBE_SSL3 || spec->version > PROBE_TLS13 ||
	    (spec->sni != NULL && strlen(spec->sni) > 253))
		return -EINVAL;
	put8(&b, 22);
	put16(&b, spec->version == PROBE_SSL3 ? PROBE_SSL3 : PROBE_TLS10);
	rec_at = b.len;
	put16(&b, 0);
	hs_at = b.len;
	put8(&b, 1); /* client_hello */
	put8(&b, 0);
	put16(&b, 0);
	put16(&b, spec->version >= PROBE_TLS13 ? PROBE_TLS12 : spec->version);
	put_bytes(&b, spec->random, 32);
	if (spec->version >= PROBE_TLS13) {
		put8(&b, 32);
		put_bytes(&b, spec->session_id, 32);
	} else {
		put8(&b, 0);
	}
	suites_at = b.len;
	put16(&b, 0);
	if (put_suites(&b, spec->families, spec->version) == 0)
		return -EINVAL;
	patch_len(&b, suites_at, 2);
	put8(&b, 1); /* compression methods: null only */
	put8(&b, 0);
	if (spec->version >= PROBE_TLS10)
		put_extensions(spec, &b, hs_at);
	patch_len(&b, hs_at + 1, 3);
	patch_len(&b, rec_at, 2);
	return b.overflow ? -ENOBUFS : (int)b.len;
}

/* ---- parser ------------------------------------------------------------- */

enum hp_state {
	HP_START,    /* first byte: SSLv2 or TLS records */
	HP_RECORD,   /* at a record header */
	HP_FRAGMENT, /* inside a handshake record: copy into the message buffer */
	HP_MESSAGE,  /* the ServerHello is complete: read its fields */
	HP_DONE,
};

struct hp {
	enum hp_state state;
	const uint8_t *in;
	size_t len, off;
	size_t frag_left; /* bytes of the current handshake record not yet consumed */
	uint8_t msg[4 + PROBE_HELLO_SH_MAX];
	size_t msg_len;
	struct probe_hello_result *res;
};

/* A bounded reader over the ServerHello body. */
struct hp_reader {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static uint32_t rd(struct hp_reader *r, size_t n)
{
	uint32_t v = 0;

	if (r->bad || n > r->left || n > 4) {
		r->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v = v << 8 | r->p[i];
	r->p += n;
	r->left -= n;
	return v;
}

static const uint8_t *rd_bytes(struct hp_reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static enum probe_hello_kind hp_fail(struct hp *h, const char *why)
{
	h->res->kind = PROBE_HELLO_MALFORMED;
	h->res->why = why;
	h->state = HP_DONE;
	return PROBE_HELLO_MALFORMED;
}

static enum probe_hello_kind hp_ssl2(struct hp *h)
{
	const uint8_t *p = h->in;
	size_t reclen, certlen, speclen, idlen;

	if (h->len < 3)
		return PROBE_HELLO_NEED_MORE;
	reclen = (size_t)(p[0] & 0x7f) << 8 | p[1];
	if (p[2] == 0) { /* ERROR: 2-byte code */
		if (reclen != 3)
			return hp_fail(h, "ssl2-bad-error");
		if (h->len < 5)
			return PROBE_HELLO_NEED_MORE;
		h->res->kind = PROBE_HELLO_ALERT;
		h->res->alert_level = 0;
		h->res->alert_desc = p[4];
		return PROBE_HELLO_ALERT;
	}
	if (p[2] != 4)
		return hp_fail(h, "ssl2-unexpected-message");
	if (reclen < 11)
		return hp_fail(h, "ssl2-short");
	if (h->len < 13)
		return PROBE_HELLO_NEED_MORE;
	certlen = (size_t)p[7] << 8 | p[8];
	speclen = (size_t)p[9] << 8 | p[10];
	idlen = (size_t)p[11] << 8 | p[12];
	if (11 + certlen + speclen + idlen != reclen || speclen % 3 != 0 || idlen < 16 ||
	    idlen > 32)
		return hp_fail(h, "ssl2-bad-lengths");
	h->res->kind = PROBE_HELLO_SSL2;
	h->res->legacy_version = h->res->version = (uint16_t)(p[5] << 8 | p[6]);
	h->res->ssl2_ciphers = (uint16_t)(speclen / 3);
	return PROBE_HELLO_SSL2;
}

/* One record header at h->off. */
static enum probe_hello_kind hp_record(struct hp *h)
{
	const uint8_t *p = h->in + h->off;
	size_t reclen;

	if (h->len - h->off < 5)
		return PROBE_HELLO_NEED_MORE;
	reclen = (size_t)p[3] << 8 | p[4];
	if (p[0] < 20 || p[0] > 24)
		return hp_fail(h, "not-tls");
	if (p[1] != 3 || p[2] > 4)
		return hp_fail(h, "bad-record-version");
	if (reclen == 0 || reclen > 16384 + 2048)
		return hp_fail(h, "bad-record-length");
	if (p[0] == 21) { /* alert */
		if (h->msg_len > 0)
			return hp_fail(h, "alert-inside-handshake");
		if (reclen != 2)
			return hp_fail(h, "bad-alert-length");
		if (h->len - h->off < 7)
			return PROBE_HELLO_NEED_MORE;
		h->res->kind = PROBE_HELLO_ALERT;
		h->res->alert_level = p[5];
		h->res->alert_desc = p[6];
		h->state = HP_DONE;
		return PROBE_HELLO_ALERT;
	}
	if (p[0] != 22)
		return hp_fail(h, "unexpected-record");
	h->off += 5;
	h->frag_left = reclen;
	h->state = HP_FRAGMENT;
	return PROBE_HELLO_NEED_MORE;
}

/* Copy handshake bytes until the message is whole. */
static enum probe_hello_kind hp_fragment(struct hp *h)
{
	while (h->frag_left > 0) {
		size_t want;

		if (h->off >= h->len)
			return PROBE_HELLO_NEED_MORE;
		if (h->msg_len < 4) {
			want = 4 - h->msg_len;
		} else {
			size_t body = (size_t)h->msg[1] << 16 | (size_t)h->msg[2] << 8 | h->msg[3];

			if (h->msg[0] != 2)
				return hp_fail(h, "not-server-hello");
			if (body > PROBE_HELLO_SH_MAX)
				return hp_fail(h, "server-hello-too-large");
			if (h->msg_len == 4 + body) {
				h->state = HP_MESSAGE;
				return PROBE_HELLO_NEED_MORE;
			}
			want = 4 + body - h->msg_len;
		}
		if (want > h->frag_left)
			want = h->frag_left;
		if (want > h->len - h->off)
			want = h->len - h->off;
		memcpy(h->msg + h->msg_len, h->in + h->off, want);
		h->msg_len += want;
		h->off += want;
		h->frag_left -= want;
	}
	/* record consumed: is the message complete now? */
	if (h->msg_len >= 4) {
		size_t body = (size_t)h->msg[1] << 16 | (size_t)h->msg[2] << 8 | h->msg[3];

		if (h->msg[0] != 2)
			return hp_fail(h, "not-server-hello");
		if (body > PROBE_HELLO_SH_MAX)
			return hp_fail(h, "server-hello-too-large");
		if (h->msg_len == 4 + body) {
			h->state = HP_MESSAGE;
			return PROBE_HELLO_NEED_MORE;
		}
	}
	h->state = HP_RECORD;
	return PROBE_HELLO_NEED_MORE;
}

static const char *hp_alpn(struct probe_hello_result *res, struct hp_reader *x)
{
	size_t total = x->left, list, name;

	if (total < 4 || total > 3 + sizeof(res->alpn) - 1)
		return "bad-alpn";
	list = rd(x, 2);
	name = rd(x, 1);
	if (list != total - 2 || name != total - 3)
		return "bad-alpn";
	res->alpn_len = (uint8_t)name;
	memcpy(res->alpn, rd_bytes(x, name), name);
	return NULL;
}

/* One extension of a ServerHello or HRR. */
static const char *hp_extension(struct probe_hello_result *res, uint16_t type, struct hp_reader *x,
				bool hrr)
{
	for (unsigned i = 0; i < res->n_ext; i++)
		if (res->ext[i] == type)
			return "duplicate-extension";
	if (res->n_ext >= PROBE_HELLO_EXT_MAX)
		return "too-many-extensions";
	res->ext[res->n_ext++] = type;
	switch (type) {
	case 0x002b: /* supported_versions */
		if (x->left != 2)
			return "bad-supported-versions";
		res->version = (uint16_t)rd(x, 2);
		if (res->version != PROBE_TLS13 || res->legacy_version != PROBE_TLS12)
			return "bad-supported-versions";
		return NULL;
	case 0x0033: /* key_share: group (HRR), or group + key_exchange */
		res->group = (uint16_t)rd(x, 2);
		if (!hrr) {
			size_t klen = rd(x, 2);

			if (klen == 0 || klen != x->left)
				return "bad-key-share";
			rd_bytes(x, klen);
		}
		return x->bad || x->left != 0 ? "bad-key-share" : NULL;
	case 0xff01: /* renegotiation_info: empty on an initial handshake */
		if (x->left != 1 || rd(x, 1) != 0)
			return "bad-renegotiation-info";
		res->secure_reneg = true;
		return NULL;
	case 0x0017: /* extended_master_secret */
		if (x->left != 0)
			return "bad-extended-master-secret";
		res->ems = true;
		return NULL;
	case 0x0010: /* ALPN: exactly one protocol name (RFC 7301 3.1) */
		return hp_alpn(res, x);
	default:
		rd_bytes(x, x->left);
		return NULL;
	}
}

static enum probe_hello_kind hp_message(struct hp *h)
{
	struct probe_hello_result *res = h->res;
	struct hp_reader r = {.p = h->msg + 4, .left = h->msg_len - 4};
	const uint8_t *random;
	size_t sid;
	bool hrr;

	res->legacy_version = (uint16_t)rd(&r, 2);
	random = rd_bytes(&r, 32);
	sid = rd(&r, 1);
	rd_bytes(&r, sid);
	res->suite = (uint16_t)rd(&r, 2);
	res->compression = (uint8_t)rd(&r, 1);
	if (r.bad)
		return hp_fail(h, "short-server-hello");
	if (res->legacy_version < PROBE_SSL3 || res->legacy_version > PROBE_TLS12)
		return hp_fail(h, "bad-version");
	if (sid > 32)
		return hp_fail(h, "bad-session-id");
	if (res->compression > 1)
		return hp_fail(h, "bad-compression");
	res->version = res->legacy_version;
	hrr = memcmp(random, hrr_random, 32) == 0;
	if (r.left > 0) {
		size_t total = rd(&r, 2);

		if (r.bad || total != r.left)
			return hp_fail(h, "bad-extensions-length");
		while (r.left > 0) {
			uint16_t type = (uint16_t)rd(&r, 2);
			size_t elen = rd(&r, 2);
			const uint8_t *data = rd_bytes(&r, elen);
			struct hp_reader x = {.p = data, .left = elen};
			const char *why;

			if (r.bad)
				return hp_fail(h, "bad-extension-length");
			why = hp_extension(res, type, &x, hrr);
			if (why != NULL)
				return hp_fail(h, why);
		}
	}
	if (res->version == PROBE_TLS13 && res->compression != 0)
		return hp_fail(h, "bad-compression");
	if (hrr && res->version != PROBE_TLS13)
		return hp_fail(h, "retry-without-tls13");
	res->kind = hrr ? PROBE_HELLO_RETRY : PROBE_HELLO_SERVER_HELLO;
	h->state = HP_DONE;
	return res->kind;
}

enum probe_hello_kind probe_hello_parse(const uint8_t *buf, size_t len,
					struct probe_hello_result *res)
{
	struct hp h = {.state = HP_START, .in = buf, .len = len, .res = res};
	enum probe_hello_kind k = PROBE_HELLO_NEED_MORE;

	memset(res, 0, sizeof(*res));
	while (h.state != HP_DONE) {
		switch (h.state) {
		case HP_START:
			if (len == 0)
				return PROBE_HELLO_NEED_MORE;
			if (buf[0] & 0x80)
				return hp_ssl2(&h);
			h.state = HP_RECORD;
			break;
		case HP_RECORD:
			k = hp_record(&h);
			if (h.state == HP_RECORD || h.state == HP_DONE)
				return k;
			break;
		case HP_FRAGMENT:
			k = hp_fragment(&h);
			if (h.state == HP_FRAGMENT || h.state == HP_DONE)
				return k;
			break;
		case HP_MESSAGE:
			return hp_message(&h);
		case HP_DONE:
			break;
		}
	}
	return res->kind;
}

const char *probe_hello_kind_name(enum probe_hello_kind k)
{
	switch (k) {
	case PROBE_HELLO_NEED_MORE:
		return "need-more";
	case PROBE_HELLO_SERVER_HELLO:
		return "server-hello";
	case PROBE_HELLO_RETRY:
		return "hello-retry-request";
	case PROBE_HELLO_ALERT:
		return "alert";
	case PROBE_HELLO_SSL2:
		return "ssl2-server-hello";
	case PROBE_HELLO_MALFORMED:
		return "malformed";
	}
	return "unknown";
}
