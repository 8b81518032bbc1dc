/* fuzz_escape.h — what a server string must read back as from a record:
 * the bytes with every well-formed UTF-8 sequence kept and every other
 * byte replaced by U+FFFD (record_json.c's rule, decided here with
 * fuzz_util.h's own UTF-8 decoder). */
#ifndef MC_FUZZ_ESCAPE_H
#define MC_FUZZ_ESCAPE_H

#include "tests/fuzz/fuzz_util.h"

/* out (capacity >= 3 * n) gets the expected decoded string; returns its length. */
static inline size_t fuzz_expect_text(const uint8_t *b, size_t n, uint8_t *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t k;
		if (fj_utf8(b + i, n - i, &k) < 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, b + i, k);
			o += k;
			i += k;
		}
	}
	return o;
}

#endif
