/* fuzz_hello_build.c — the ClientHello builder (probe_hello_build() in
 * probes/tlshello.c) on any spec: version (the seven the plan uses, or any
 * 16 bits), suite families (any mask), random, session id, key share and
 * SNI (any bytes; the builder sees them up to the first NUL) from the input.
 *
 * Invariants, checked by a strict ClientHello reader written here from RFC
 * 5246 / 8446 / 6101 and the SSLv2 draft:
 *   - -EINVAL exactly for a version outside SSLv2..TLS 1.3, an SNI over 253
 *     bytes, or a spec that selects no suite; otherwise a hello, and it fits
 *     PROBE_HELLO_MAX (the grabber's buffer): a spec the plan can make
 *     (every family, any version, a target name of up to 253 bytes) must
 *     never fail for want of room;
 *   - built into a buffer of exactly its size it is the same bytes, and one
 *     byte less is -ENOBUFS without a write past the end (ASan);
 *   - every declared length matches what follows: record, handshake,
 *     session id, suites, compression, extensions and each extension's
 *     inner lists; the record and client versions are the ones the header
 *     documents; random, session id, key share and SNI are the spec's;
 *   - the suites are exactly those of probe_suite_families() with a family
 *     in the mask (TLS 1.3-only suites only in a 1.3 hello), each once,
 *     then TLS_EMPTY_RENEGOTIATION_INFO_SCSV; compression is null only;
 *   - SSLv3: no extensions; TLS: no extension twice, signature_algorithms
 *     from TLS 1.2, supported_versions {1.3,1.2,1.1,1.0}, an X25519 key
 *     share and psk_dhe_ke only in 1.3, padding all zero and only to move a
 *     handshake message of 256..511 bytes out of that range (RFC 7685);
 *   - SSLv2: a 2-byte header with the length, CLIENT-HELLO, version 2,
 *     whole 3-byte cipher specs, no session id, the first 16 bytes of the
 *     random as challenge. */
#include <errno.h>

#include "probes/tlshello.h"
#include "tests/fuzz/fuzz_util.h"

/* Every suite id the builder knows, with its families (from
 * probe_suite_families(), so the table order is not assumed). */
static uint16_t known_ids[256];
static uint32_t known_fams[256];
static size_t nknown;

static void load_known(void)
{
	for (uint32_t id = 0; id < 65536; id++) {
		uint32_t f = probe_suite_families((uint16_t)id);
		if (f == 0)
			continue;
		FUZZ_CHECK(nknown < 256, "more than 256 suites");
		known_ids[nknown] = (uint16_t)id;
		known_fams[nknown++] = f;
	}
	FUZZ_CHECK(nknown > 0, "no suites");
}

static bool offered(uint32_t fams, uint32_t mask, uint16_t version)
{
	if (!(fams & mask))
		return false;
	return !(fams == PROBE_FAM_BIT(PROBE_FAM_TLS13) && version < PROBE_TLS13);
}

struct rd {
	const uint8_t *p;
	size_t left;
};

static uint32_t get(struct rd *r, size_t n)
{
	uint32_t v = 0;

	FUZZ_CHECK(r->left >= n, "a field runs past its length (%zu of %zu bytes)", n, r->left);
	for (size_t i = 0; i < n; i++)
		v = v << 8 | r->p[i];
	r->p += n;
	r->left -= n;
	return v;
}

/* A sub-reader of `len` bytes (len itself read as `width` bytes). */
static struct rd sub(struct rd *r, size_t width)
{
	size_t len = get(r, width);
	struct rd s = {r->p, len};

	FUZZ_CHECK(r->left >= len, "declared length %zu, %zu bytes left", len, r->left);
	r->p += len;
	r->left -= len;
	return s;
}

static void check_sslv2(const struct probe_hello_spec *spec, const uint8_t *h, size_t n)
{
	struct rd r = {h, n};
	uint32_t hdr = get(&r, 2);

	FUZZ_CHECK((hdr & 0x8000) && (hdr & 0x7fff) == n - 2, "SSLv2 header %04x, %zu bytes", hdr,
		   n);
	FUZZ_CHECK(get(&r, 1) == 1 && get(&r, 2) == PROBE_SSL2, "SSLv2 CLIENT-HELLO");
	size_t specs = get(&r, 2), sid = get(&r, 2), chal = get(&r, 2);
	FUZZ_CHECK(specs > 0 && specs % 3 == 0 && sid == 0 && chal == 16,
		   "SSLv2 lengths %zu %zu %zu", specs, sid, chal);
	FUZZ_CHECK(r.left == specs + chal, "SSLv2 body %zu, lengths say %zu", r.left, specs + chal);
	FUZZ_CHECK(memcmp(r.p + specs, spec->random, 16) == 0, "SSLv2 challenge");
}

static void check_sni(const struct probe_hello_spec *spec, struct rd x)
{
	struct rd list = sub(&x, 2);
	size_t want = spec->sni ? strlen(spec->sni) : 0;

	FUZZ_CHECK(x.left == 0 && get(&list, 1) == 0, "server_name");
	struct rd name = sub(&list, 2);
	FUZZ_CHECK(list.left == 0 && name.left == want && memcmp(name.p, spec->sni, want) == 0,
		   "SNI differs");
}

static void check_list16(struct rd x)
{
	struct rd l = sub(&x, 2);

	FUZZ_CHECK(x.left == 0 && l.left > 0 && l.left % 2 == 0, "a 16-bit list");
}

/* The extensions of a TLS hello; hs_len is the handshake message's length. */
static void check_extensions(const struct probe_hello_spec *spec, struct rd *r, size_t hs_len)
{
	struct rd exts = sub(r, 2);
	bool seen[64] = {false};
	bool sni = false, sigalgs = false, sv = false, ks = false, psk = false, pad = false;
	size_t sni_len = spec->sni ? strlen(spec->sni) : 0, pad_len = 0;

	FUZZ_CHECK(r->left == 0, "%zu bytes after the extensions", r->left);
	while (exts.left > 0) {
		uint16_t type = (uint16_t)get(&exts, 2);
		struct rd x = sub(&exts, 2);

		FUZZ_CHECK(type < 64 && !seen[type], "extension %04x unknown or twice", type);
		seen[type] = true;
		switch (type) {
		case 0x0000:
			sni = true;
			check_sni(spec, x);
			break;
		case 0x000a: /* supported_groups */
		case 0x000d: /* signature_algorithms */
			sigalgs |= type == 0x000d;
			check_list16(x);
			break;
		case 0x000b: /* ec_point_formats: uncompressed */
			FUZZ_CHECK(x.left == 2 && x.p[0] == 1 && x.p[1] == 0, "point formats");
			break;
		case 0x002b:
			sv = true;
			FUZZ_CHECK(x.left == 9 &&
				       memcmp(x.p, "\x08\x03\x04\x03\x03\x03\x02\x03\x01", 9) == 0,
				   "supported_versions");
			break;
		case 0x0033: {
			struct rd shares = sub(&x, 2);
			ks = true;
			FUZZ_CHECK(x.left == 0 && get(&shares, 2) == 0x001d, "key_share X25519");
			struct rd key = sub(&shares, 2);
			FUZZ_CHECK(shares.left == 0 && key.left == 32 &&
				       memcmp(key.p, spec->share, 32) == 0,
				   "key share");
			break;
		}
		case 0x002d:
			psk = true;
			FUZZ_CHECK(x.left == 2 && x.p[0] == 1 && x.p[1] == 1,
				   "psk_key_exchange_modes");
			break;
		case 0x0015:
			pad = true;
			pad_len = x.left;
			for (size_t i = 0; i < x.left; i++)
				FUZZ_CHECK(x.p[i] == 0, "padding byte %zu is %02x", i, x.p[i]);
			FUZZ_CHECK(exts.left == 0, "padding is not the last extension");
			break;
		default:
			FUZZ_CHECK(false, "extension %04x", type);
		}
	}
	FUZZ_CHECK(sni == (sni_len > 0), "SNI present %d, name of %zu bytes", sni, sni_len);
	FUZZ_CHECK(sigalgs == (spec->version >= PROBE_TLS12), "signature_algorithms %d", sigalgs);
	bool v13 = spec->version >= PROBE_TLS13;
	FUZZ_CHECK(sv == v13 && ks == v13 && psk == v13, "1.3 extensions %d %d %d", sv, ks, psk);
	FUZZ_CHECK(hs_len < 256 || hs_len >= 512, "handshake message of %zu bytes (RFC 7685)",
		   hs_len);
	size_t unpadded = pad ? hs_len - 4 - pad_len : hs_len;
	FUZZ_CHECK(pad == (unpadded >= 256 && unpadded < 512), "padding %d at %zu bytes unpadded",
		   pad, unpadded);
}

static void check_tls(const struct probe_hello_spec *spec, const uint8_t *h, size_t n)
{
	struct rd r = {h, n};

	FUZZ_CHECK(get(&r, 1) == 22, "not a handshake record");
	FUZZ_CHECK(get(&r, 2) == (spec->version == PROBE_SSL3 ? PROBE_SSL3 : PROBE_TLS10),
		   "record version");
	struct rd rec = sub(&r, 2);
	FUZZ_CHECK(r.left == 0, "%zu bytes after the record", r.left);
	FUZZ_CHECK(get(&rec, 1) == 1, "not a client_hello");
	struct rd hs = sub(&rec, 3);
	size_t hs_len = 4 + hs.left;
	FUZZ_CHECK(rec.left == 0, "%zu bytes after the handshake message", rec.left);
	FUZZ_CHECK(get(&hs, 2) == (spec->version >= PROBE_TLS13 ? PROBE_TLS12 : spec->version),
		   "client_version");
	FUZZ_CHECK(hs.left >= 32 && memcmp(hs.p, spec->random, 32) == 0, "random");
	get(&hs, 32);
	struct rd sid = sub(&hs, 1);
	if (spec->version >= PROBE_TLS13)
		FUZZ_CHECK(sid.left == 32 && memcmp(sid.p, spec->session_id, 32) == 0,
			   "session id");
	else
		FUZZ_CHECK(sid.left == 0, "a session id before 1.3");
	struct rd suites = sub(&hs, 2);
	FUZZ_CHECK(suites.left >= 4 && suites.left % 2 == 0, "suites of %zu bytes", suites.left);
	size_t count = suites.left / 2 - 1, want = 0;
	static uint8_t seen[65536];
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < count; i++) {
		uint16_t id = (uint16_t)get(&suites, 2);
		FUZZ_CHECK(!seen[id]++, "suite %04x twice", id);
		FUZZ_CHECK(offered(probe_suite_families(id), spec->families, spec->version),
			   "suite %04x (families %x) not in mask %x for %04x", id,
			   probe_suite_families(id), spec->families, spec->version);
	}
	FUZZ_CHECK(get(&suites, 2) == 0x00ff, "no renegotiation SCSV at the end");
	for (size_t i = 0; i < nknown; i++)
		want += offered(known_fams[i], spec->families, spec->version);
	FUZZ_CHECK(count == want, "%zu suites, the mask selects %zu", count, want);
	struct rd comp = sub(&hs, 1);
	FUZZ_CHECK(comp.left == 1 && comp.p[0] == 0, "compression");
	if (spec->version < PROBE_TLS10)
		FUZZ_CHECK(hs.left == 0, "SSLv3 hello with %zu bytes of extensions", hs.left);
	else
		check_extensions(spec, &hs, hs_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t versions[] = {PROBE_SSL2,	 PROBE_SSL3,  PROBE_TLS10,
					    PROBE_TLS11, PROBE_TLS12, PROBE_TLS13};
	static uint8_t out[PROBE_HELLO_MAX];
	struct fuzz_in in = {data, size};
	struct probe_hello_spec spec = {0};
	char sni[300];
	const uint8_t *b;
	uint8_t sel = fuzz_u8(&in);
	size_t n;
	int len;

	if (nknown == 0)
		load_known();
	spec.version = sel & 0x80 ? fuzz_u16(&in) : versions[sel % 6];
	spec.families = sel & 0x40 ? fuzz_u32(&in) : fuzz_u32(&in) & PROBE_FAMS_ALL;
	n = fuzz_take(&in, 32, &b);
	memcpy(spec.random, b, n);
	n = fuzz_take(&in, 32, &b);
	memcpy(spec.session_id, b, n);
	n = fuzz_take(&in, 32, &b);
	memcpy(spec.share, b, n);
	if (sel & 0x20) { /* the rest is the SNI; 0x10: a name of 200 + fuzz bytes */
		size_t pre = sel & 0x10 ? 200 : 0;
		memset(sni, 'a', pre);
		n = fuzz_take(&in, sizeof(sni) - 1 - pre, &b);
		memcpy(sni + pre, b, n);
		sni[pre + n] = '\0';
		spec.sni = sni;
	}

	bool bad_version =
	    spec.version != PROBE_SSL2 && (spec.version < PROBE_SSL3 || spec.version > PROBE_TLS13);
	bool long_sni = spec.version != PROBE_SSL2 && spec.sni != NULL && strlen(spec.sni) > 253;
	size_t suites = 0;
	for (size_t i = 0; i < nknown; i++)
		suites += offered(known_fams[i], spec.families, spec.version);
	bool no_suite = spec.version != PROBE_SSL2 && suites == 0;

	len = probe_hello_build(&spec, out, sizeof(out));
	if (bad_version || long_sni || no_suite) {
		FUZZ_CHECK(len == -EINVAL, "build %d for version %04x, SNI %zu bytes, %zu suites",
			   len, spec.version, spec.sni ? strlen(spec.sni) : 0, suites);
		return 0;
	}
	FUZZ_CHECK(len > 0,
		   "build %d for version %04x, families %x, SNI of %zu bytes: no room in "
		   "PROBE_HELLO_MAX (%d)",
		   len, spec.version, spec.families, spec.sni ? strlen(spec.sni) : 0,
		   PROBE_HELLO_MAX);
	FUZZ_CHECK((size_t)len <= sizeof(out), "length %d", len);

	uint8_t *exact = malloc((size_t)len); /* ASan sees a write past the end */
	FUZZ_CHECK(exact != NULL, "out of memory");
	FUZZ_CHECK(probe_hello_build(&spec, exact, (size_t)len) == len &&
		       memcmp(exact, out, (size_t)len) == 0,
		   "exact-size build differs");
	free(exact);
	exact = malloc((size_t)len - 1);
	FUZZ_CHECK(exact != NULL, "out of memory");
	FUZZ_CHECK(probe_hello_build(&spec, exact, (size_t)len - 1) == -ENOBUFS,
		   "one byte short accepted");
	free(exact);

	if (spec.version == PROBE_SSL2)
		check_sslv2(&spec, out, (size_t)len);
	else
		check_tls(&spec, out, (size_t)len);
	return 0;
}
