/* fuzz_dhguard.c — the DH group guard's parser (probe_dhg_parse_feed(),
 * probes/tls_dhguard.c) on arbitrary server bytes: TLS records as they
 * arrive before OpenSSL sees them.
 *
 * Invariants: the verdict does not depend on how the stream is cut (the
 * whole input at once, byte by byte and in chunks of a size taken from the
 * input give the same refusal and prime length); a refusal names a prime
 * longer than the limit, an acceptance none; once done, more bytes change
 * nothing. Every suite counts as DHE (no SSL object), so the prime-length
 * path runs on every ServerKeyExchange. */
#include "probes/tls_dhguard.h"
#include "tests/fuzz/fuzz_util.h"

#define DHG_INPUT_MAX 8192
#define DHG_LIMIT     4096

static void feed(struct probe_dhg_parse *p, const uint8_t *data, size_t size, size_t step)
{
	probe_dhg_parse_init(p, NULL, DHG_LIMIT);
	for (size_t i = 0; i < size; i += step) {
		size_t n = size - i < step ? size - i : step;
		uint8_t *copy = malloc(n); /* exact size: ASan sees any over-read */

		FUZZ_CHECK(copy != NULL, "out of memory");
		memcpy(copy, data + i, n);
		probe_dhg_parse_feed(p, copy, n);
		free(copy);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_dhg_parse whole, bytes, chunks;
	size_t step = size > 0 ? (size_t)data[0] % 37 + 1 : 1;

	if (size > DHG_INPUT_MAX)
		size = DHG_INPUT_MAX;
	feed(&whole, data, size, size > 0 ? size : 1);
	feed(&bytes, data, size, 1);
	feed(&chunks, data, size, step);
	FUZZ_CHECK(whole.refused == bytes.refused && whole.bits == bytes.bits,
		   "whole %d/%u, bytewise %d/%u\n", whole.refused, whole.bits, bytes.refused,
		   bytes.bits);
	FUZZ_CHECK(whole.refused == chunks.refused && whole.bits == chunks.bits,
		   "whole %d/%u, chunks of %zu %d/%u\n", whole.refused, whole.bits, step,
		   chunks.refused, chunks.bits);
	FUZZ_CHECK(whole.refused == (whole.bits > DHG_LIMIT), "refused %d with %u bits\n",
		   whole.refused, whole.bits);
	if (whole.layer == PROBE_DHG_DONE) {
		struct probe_dhg_parse more = whole;
		probe_dhg_parse_feed(&more, data, size);
		FUZZ_CHECK(more.refused == whole.refused && more.bits == whole.bits,
			   "bytes after the verdict changed it\n");
	}
	return 0;
}
