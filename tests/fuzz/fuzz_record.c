/* fuzz_record.c — the record encoder (output/record_json.c) on records of
 * arbitrary content: the fuzzer's bytes laid over a struct mc_record
 * (enums out of range, strings without terminators, lengths beyond their
 * arrays, any times); only the bools (a byte other than 0/1 is undefined
 * behaviour), the SHA-256 (hex the program writes, or empty) and the
 * country (from the geo database) are kept in shape.
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
	bool *const all[] = {&r->banner_truncated,	  &r->caps_pre_tls.truncated,
			     &r->caps_post_tls.truncated, &r->tls.present,
			     &r->tls.cert.present,	  &r->tls.cert.expired,
			     &r->tls.cert.self_signed,	  &r->tls.cert.chain_valid};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		fix_bool(all[i]);
	for (size_t i = 0; i < MC_LOGIN_STEPS; i++)
		fix_bool(&r->login[i].reply_truncated);
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
	/* the SHA-256 is ours (hex of a digest), not server text: keep it shaped */
	for (size_t i = 0; i < 64; i++)
		rec.tls.cert.sha256[i] = "0123456789abcdef"[(uint8_t)rec.tls.cert.sha256[i] & 15];
	rec.tls.cert.sha256[rec.tls.cert.sha256[64] & 1 ? 64 : 0] = '\0';
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
