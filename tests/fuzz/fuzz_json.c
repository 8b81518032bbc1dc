/* fuzz_json.c — the JSON reader of verify/report (output/json.c) against a
 * strict RFC 8259 reference (fuzz_util.h).
 *
 * Invariants: out_json_parse() accepts a document exactly when the
 * reference does (so it rejects invalid UTF-8, leading zeros, "1.", lone
 * surrogates, trailing commas, ...); an accepted document's tree, written
 * in the reference's canonical form, equals the reference's (strings byte
 * for byte after unescaping, integers that fit u64 exactly, other numbers
 * as the double strtod gives); counts match the children; a rejection
 * carries "offset N: reason" with N within the text; a member name keeps
 * every byte (an escaped NUL included) and out_json_get() by the name of
 * any member returns the first member whose whole name equals it (so
 * "a\u0000b" never answers "a"). The arena is reused across inputs as
 * verify does. */
#include <errno.h>

#include "output/json.h"
#include "tests/fuzz/fuzz_util.h"

static void canon_tree(struct fuzz_json *j, const struct out_json *v)
{
	char num[64];
	size_t count = 0;

	switch (v->type) {
	case OUT_JSON_NULL:
		fj_put(j, "null;", 5);
		return;
	case OUT_JSON_BOOL:
		if (v->b)
			fj_put(j, "true;", 5);
		else
			fj_put(j, "false;", 6);
		return;
	case OUT_JSON_NUMBER:
		if (v->is_uint)
			snprintf(num, sizeof(num), "u%llu;", (unsigned long long)v->u);
		else
			snprintf(num, sizeof(num), "n%a;", v->num);
		fj_put(j, num, strlen(num));
		return;
	case OUT_JSON_STRING:
		FUZZ_CHECK(v->str[v->len] == '\0', "string not NUL-terminated");
		fj_put(j, "s", 1);
		fj_put_hexbytes(j, (const uint8_t *)v->str, v->len);
		fj_put(j, ";", 1);
		return;
	case OUT_JSON_ARRAY:
	case OUT_JSON_OBJECT:
		break;
	}
	fj_put(j, v->type == OUT_JSON_OBJECT ? "{" : "[", 1);
	for (const struct out_json *c = v->child; c != NULL; c = c->next) {
		if (c != v->child)
			fj_put(j, ",", 1);
		if (v->type == OUT_JSON_OBJECT) {
			FUZZ_CHECK(c->key != NULL, "object member without a key");
			fj_put(j, "s", 1);
			FUZZ_CHECK(c->key[c->keylen] == '\0', "key not NUL-terminated");
			fj_put_hexbytes(j, (const uint8_t *)c->key, c->keylen);
			fj_put(j, ";", 1);
		} else {
			FUZZ_CHECK(c->key == NULL, "array item with a key");
		}
		canon_tree(j, c);
		count++;
	}
	FUZZ_CHECK(count == v->count, "count %zu, %zu children", v->count, count);
	fj_put(j, v->type == OUT_JSON_OBJECT ? "}" : "]", 1);
}

/* out_json_get() by the name (as a C string) of each of the first 32 members
 * of every object: the first member whose whole name is that string. */
static void check_lookup(const struct out_json *v)
{
	size_t i = 0;

	if (v->type != OUT_JSON_OBJECT && v->type != OUT_JSON_ARRAY)
		return;
	for (const struct out_json *c = v->child; c != NULL; c = c->next) {
		check_lookup(c);
		if (v->type != OUT_JSON_OBJECT || i++ >= 32)
			continue;
		size_t n = strlen(c->key);
		const struct out_json *want = NULL;
		for (const struct out_json *m = v->child; m != NULL && want == NULL; m = m->next)
			if (m->keylen == n && memcmp(m->key, c->key, n) == 0)
				want = m;
		const struct out_json *got = out_json_get(v, c->key);
		FUZZ_CHECK(got == want, "lookup of '%s' (%zu bytes) gave member '%.*s' (%zu bytes)",
			   c->key, n, got ? (int)got->keylen : 0, got ? got->key : "",
			   got ? got->keylen : 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct out_json_arena arena; /* reused like verify's, reset per document */
	struct out_json *root = NULL;
	char err[128], *ref = NULL;
	size_t ref_len = 0;
	bool want = fuzz_json_check(data, size, &ref, &ref_len);
	int rc;

	out_json_arena_reset(&arena);
	rc = out_json_parse(&arena, (const char *)data, size, &root, err, sizeof(err));
	FUZZ_CHECK((rc == 0) == want, "reader says %d (%s), reference says %s", rc, rc ? err : "ok",
		   want ? "valid" : "invalid");
	if (rc != 0) {
		unsigned long off;
		FUZZ_CHECK(rc == -EINVAL, "rc %d", rc);
		FUZZ_CHECK(sscanf(err, "offset %lu:", &off) == 1 && off <= size, "err '%s'", err);
		return 0;
	}
	struct fuzz_json j = {.out = malloc(64), .out_cap = 64};

	FUZZ_CHECK(j.out != NULL, "out of memory");
	canon_tree(&j, root);
	FUZZ_CHECK(j.out_len == ref_len && memcmp(j.out, ref, ref_len) == 0,
		   "tree differs from the reference: '%.*s' vs '%.*s'", (int)j.out_len, j.out,
		   (int)ref_len, ref);
	free(j.out);
	check_lookup(root);
	/* the accessors verify and report use */
	(void)out_json_get(root, "name");
	(void)out_json_u64(out_json_get(root, "records"), 7);
	(void)out_json_str(out_json_get(root, "sha256"));
	FUZZ_CHECK(!(out_json_true(root) && out_json_false(root)), "true and false at once");
	free(ref);
	return 0;
}
