/* fuzz_record.c — the record encoder (output/record_json.c) on records of
 * arbitrary content: the fuzzer's bytes laid over a struct mc_record
 * (enums out of range, strings without terminators, lengths beyond their
 * arrays, any times); only the bools (a byte other than 0/1 is undefined
 * behaviour), the hex fields the program writes (digests,
 * serial, JARM: hex or empty), the hello count and the country (from the
 * geo database) are kept in shape.
 *
 * Invariants: the line fits MC_RECORD_JSON_MAX; it is exactly one line of
 * strict UTF-8 JSON that validates against record.schema.json
 * (fuzz_schema.h); the bounded writer writes it into a buffer of exactly
 * its size and refuses one byte less; and the banner reads back as its raw
 * bytes with each byte outside a well-formed UTF-8 sequence replaced by
 * U+FFFD. */
#include "output/record.h"
#include "tests/fuzz/fuzz_escape.h"
#include "tests/fuzz/fuzz_schema.h"

/* A bool holding a byte other than 0 or 1 is undefined behaviour before
 * the encoder sees it: keep the fuzzer's low bit. */
static void fix_bool(bool *b)
{
	uint8_t raw;

	memcpy(&raw, b, 1);
	raw &= 1;
	memcpy(b, &raw, 1);
}

static void fix_bools(struct mc_record *r)
{
	bool *const all[] = {
	    &r->banner_truncated,     &r->caps_pre_tls.truncated,    &r->caps_post_tls.truncated,
	    &r->tls.present,	      &r->tls.cert.present,	     &r->tls.cert.expired,
	    &r->tls.cert.self_signed, &r->tls.cert.chain_valid,	     &r->tls.cert.sans_truncated,
	    &r->tls.cert.san_nul,     &r->tls.cert.serial_truncated, &r->ipv6};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		fix_bool(all[i]);
	for (size_t i = 0; i < MC_LOGIN_STEPS; i++)
		fix_bool(&r->login[i].reply_truncated);
}

/* A hex field: `len` lowercase hex digits from the fuzzer's bytes, or empty. */
static void shape_hex(char *f, size_t cap, size_t len)
{
	bool empty = (uint8_t)f[0] & 0x80;

	if (len > cap - 1)
		len = cap - 1;
	for (size_t i = 0; i < len; i++)
		f[i] = "0123456789abcdef"[(uint8_t)f[i] & 15];
	f[empty ? 0 : len] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mc_record rec;
	static char buf[MC_RECORD_JSON_MAX];
	static uint8_t want[3 * MC_BANNER_MAX];
	const struct out_json *v;
	char *exact;
	size_t len, blen, wlen;
	const struct out_json *banner;

	memset(&rec, 0, sizeof(rec));
	memcpy(&rec, data, size < sizeof(rec) ? size : sizeof(rec));
	fix_bools(&rec);
	/* digests and the serial are hex the program writes, not server text */
	shape_hex(rec.tls.cert.sha256, sizeof(rec.tls.cert.sha256), 64);
	shape_hex(rec.tls.cert.spki_sha256, sizeof(rec.tls.cert.spki_sha256), 64);
	for (size_t i = 0; i < MC_CERT_CHAIN_MAX; i++)
		shape_hex(rec.tls.cert.chain_sha256[i], sizeof(rec.tls.cert.chain_sha256[i]), 64);
	shape_hex(rec.tls.jarm, sizeof(rec.tls.jarm), 62);
	shape_hex(rec.tls.cert.serial, sizeof(rec.tls.cert.serial),
		  (uint8_t)rec.tls.cert.serial[1] % sizeof(rec.tls.cert.serial));
	/* a count of connections the grabber made (at most 4), not server bytes */
	rec.tls.hello_probes %= 5;
	/* the country comes from the geo database (enrich.c), not from a server;
	 * enrich.c takes any 2-byte code from it (docs/fuzzing.md, open finding) */
	for (size_t i = 0; i < 2; i++)
		rec.country[i] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[(uint8_t)rec.country[i] % 36];
	rec.country[rec.country[2] & 1 ? 2 : 0] = '\0';
	len = mc_record_to_json(&rec, buf, sizeof(buf));
	FUZZ_CHECK(len > 0, "record does not fit MC_RECORD_JSON_MAX");
	v = fuzz_check_record_line(buf, len);

	exact = malloc(len); /* ASan catches a write past the end */
	FUZZ_CHECK(exact != NULL, "out of memory");
	FUZZ_CHECK(mc_record_to_json(&rec, exact, len) == len && memcmp(exact, buf, len) == 0,
		   "exact-size buffer");
	FUZZ_CHECK(mc_record_to_json(&rec, exact, len - 1) == 0, "one byte short accepted");
	free(exact);

	blen = rec.banner_len <= MC_BANNER_MAX ? rec.banner_len : MC_BANNER_MAX;
	wlen = fuzz_expect_text(rec.banner, blen, want);
	banner = out_json_get(v, "banner");
	FUZZ_CHECK(banner != NULL && banner->len == wlen && memcmp(banner->str, want, wlen) == 0,
		   "banner does not read back");
	return 0;
}
