/* fuzz_hello.c — the ServerHello parser of the hand-built hellos
 * (probe_hello_parse() in probes/tlshello.c): a server's first answer to
 * our ClientHello, arbitrary bytes.
 *
 * Invariants: the parser reads the answer as it arrives, so its verdict
 * must not depend on how much of the stream is there once it has one:
 * over every prefix of the input, the first verdict other than NEED_MORE is
 * the verdict (kind and every field) of every longer prefix too; the empty
 * input needs more; MALFORMED always says why; a HelloRetryRequest is TLS
 * 1.3; the extension list and the ALPN fit their arrays.
 *
 * Speed: the input is copied once into a buffer of its exact size, and the
 * bytes past the prefix being parsed are poisoned for AddressSanitizer
 * (ASAN_POISON_MEMORY_REGION), one byte unpoisoned per step: a read past
 * the prefix is caught as it was with a malloc'd exact-size copy per
 * prefix, without size+1 allocations and copies per input. */
#include <sanitizer/asan_interface.h>

#include "probes/tlshello.h"
#include "tests/fuzz/fuzz_util.h"

#define HELLO_INPUT_MAX 4096

static bool same(const struct probe_hello_result *a, const struct probe_hello_result *b)
{
	return a->kind == b->kind && a->version == b->version &&
	       a->legacy_version == b->legacy_version && a->suite == b->suite &&
	       a->compression == b->compression && a->alert_level == b->alert_level &&
	       a->alert_desc == b->alert_desc && a->group == b->group &&
	       a->ssl2_ciphers == b->ssl2_ciphers && a->n_ext == b->n_ext &&
	       memcmp(a->ext, b->ext, sizeof(a->ext[0]) * a->n_ext) == 0 &&
	       a->secure_reneg == b->secure_reneg && a->ems == b->ems &&
	       a->alpn_len == b->alpn_len && memcmp(a->alpn, b->alpn, a->alpn_len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_hello_result first, r;
	bool have = false;
	size_t at = 0;

	if (size > HELLO_INPUT_MAX)
		size = HELLO_INPUT_MAX;
	uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees any over-read */
	FUZZ_CHECK(copy != NULL, "out of memory");
	memcpy(copy, data, size);
	ASAN_POISON_MEMORY_REGION(copy, size);
	for (size_t k = 0; k <= size; k++) {
		enum probe_hello_kind kind;

		if (k > 0)
			ASAN_UNPOISON_MEMORY_REGION(copy + k - 1, 1); /* the prefix is copy[0..k) */
		memset(&r, 0, sizeof(r));
		kind = probe_hello_parse(copy, k, &r);
		FUZZ_CHECK(kind == r.kind, "return value %d, result %d", kind, r.kind);
		FUZZ_CHECK(k > 0 || kind == PROBE_HELLO_NEED_MORE, "empty input: %d", kind);
		FUZZ_CHECK(kind != PROBE_HELLO_MALFORMED || r.why != NULL, "malformed without why");
		FUZZ_CHECK(kind != PROBE_HELLO_RETRY || r.version == PROBE_TLS13,
			   "HelloRetryRequest with version %04x", r.version);
		FUZZ_CHECK(r.n_ext <= PROBE_HELLO_EXT_MAX && r.alpn_len <= sizeof(r.alpn),
			   "n_ext %u, alpn_len %u", r.n_ext, r.alpn_len);
		if (!have && kind != PROBE_HELLO_NEED_MORE) {
			first = r;
			have = true;
			at = k;
		} else if (have) {
			FUZZ_CHECK(same(&first, &r),
				   "verdict changed: %s after %zu bytes, %s after %zu (%s)",
				   probe_hello_kind_name(first.kind), at,
				   probe_hello_kind_name(kind), k, r.why ? r.why : "");
		}
	}
	free(copy);
	return 0;
}
