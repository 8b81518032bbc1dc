/* fuzz_schema.h — validate a record line against output/schema/record.schema.json.
 *
 * The schema file is read once (path compiled in as MC_FUZZ_SCHEMA) with the
 * project's JSON reader and applied with the subset of JSON Schema 2020-12
 * it uses: type (one or a list), required, properties,
 * additionalProperties: false, items, maxItems, minimum, maximum, enum,
 * oneOf, pattern (POSIX extended regular expressions, which the schema's
 * patterns are) and $ref to #/$defs/NAME. Any other keyword in the schema
 * fails the harness, so the check cannot silently weaken when the schema
 * grows. */
#ifndef MC_FUZZ_SCHEMA_H
#define MC_FUZZ_SCHEMA_H

#include <fcntl.h>
#include <regex.h>

#include "output/json.h"
#include "tests/fuzz/fuzz_util.h"

static const struct out_json *fuzz_schema_root(void)
{
	static struct out_json_arena arena;
	static struct out_json *root;
	char err[256];

	if (root == NULL)
		FUZZ_CHECK(
		    out_json_load(AT_FDCWD, MC_FUZZ_SCHEMA, &arena, &root, err, sizeof(err)) == 0,
		    "%s", err);
	return root;
}

static bool fs_type_is(const struct out_json *v, const char *t)
{
	switch (v->type) {
	case OUT_JSON_NULL:
		return strcmp(t, "null") == 0;
	case OUT_JSON_BOOL:
		return strcmp(t, "boolean") == 0;
	case OUT_JSON_NUMBER:
		return strcmp(t, "number") == 0 ||
		       (strcmp(t, "integer") == 0 && v->num == (double)(int64_t)v->num);
	case OUT_JSON_STRING:
		return strcmp(t, "string") == 0;
	case OUT_JSON_ARRAY:
		return strcmp(t, "array") == 0;
	case OUT_JSON_OBJECT:
		return strcmp(t, "object") == 0;
	}
	return false;
}

static bool fs_equal(const struct out_json *a, const struct out_json *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case OUT_JSON_NULL:
		return true;
	case OUT_JSON_BOOL:
		return a->b == b->b;
	case OUT_JSON_NUMBER:
		return a->num == b->num;
	case OUT_JSON_STRING:
		return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
	default:
		return false; /* the schema's enums hold scalars only */
	}
}

static bool fs_pattern(const char *re, const struct out_json *v)
{
	static struct {
		const char *re; /* the schema's string: lives as long as the schema */
		regex_t rx;
	} cache[16];
	size_t i;

	if (v->type != OUT_JSON_STRING)
		return true;
	for (i = 0; i < 16 && cache[i].re != NULL && cache[i].re != re; i++)
		;
	FUZZ_CHECK(i < 16, "more than 16 patterns in the schema");
	if (cache[i].re == NULL) {
		FUZZ_CHECK(regcomp(&cache[i].rx, re, REG_EXTENDED | REG_NOSUB) == 0,
			   "bad pattern %s", re);
		cache[i].re = re;
	}
	return regexec(&cache[i].rx, v->str, 0, NULL, 0) == 0 && strlen(v->str) == v->len;
}

/* Does v satisfy schema s? On false, *why names the failing path. */
static bool fuzz_schema_ok(const struct out_json *s, const struct out_json *v, const char **why)
{
	for (const struct out_json *k = s->child; k != NULL; k = k->next) {
		const char *key = k->key;

		if (strcmp(key, "$ref") == 0) {
			const char *ref = out_json_str(k);
			FUZZ_CHECK(ref != NULL && strncmp(ref, "#/$defs/", 8) == 0, "ref %s", ref);
			const struct out_json *d =
			    out_json_get(out_json_get(fuzz_schema_root(), "$defs"), ref + 8);
			FUZZ_CHECK(d != NULL, "no $defs for %s", ref);
			if (!fuzz_schema_ok(d, v, why))
				return false;
		} else if (strcmp(key, "type") == 0) {
			bool any = false;
			if (k->type == OUT_JSON_STRING)
				any = fs_type_is(v, k->str);
			for (const struct out_json *t = k->type == OUT_JSON_ARRAY ? k->child : NULL;
			     t != NULL; t = t->next)
				any |= fs_type_is(v, t->str);
			if (!any)
				return *why = "type", false;
		} else if (strcmp(key, "required") == 0) {
			for (const struct out_json *r = k->child; r != NULL; r = r->next)
				if (v->type == OUT_JSON_OBJECT && out_json_get(v, r->str) == NULL)
					return *why = r->str, false;
		} else if (strcmp(key, "properties") == 0) {
			for (const struct out_json *m = v->type == OUT_JSON_OBJECT ? v->child
										   : NULL;
			     m != NULL; m = m->next) {
				const struct out_json *ps = out_json_get(k, m->key);
				if (ps != NULL && !fuzz_schema_ok(ps, m, why))
					return false;
			}
		} else if (strcmp(key, "additionalProperties") == 0) {
			const struct out_json *props = out_json_get(s, "properties");
			FUZZ_CHECK(out_json_false(k), "additionalProperties must be false");
			for (const struct out_json *m = v->type == OUT_JSON_OBJECT ? v->child
										   : NULL;
			     m != NULL; m = m->next)
				if (out_json_get(props, m->key) == NULL)
					return *why = m->key, false;
		} else if (strcmp(key, "items") == 0) {
			for (const struct out_json *i = v->type == OUT_JSON_ARRAY ? v->child : NULL;
			     i != NULL; i = i->next)
				if (!fuzz_schema_ok(k, i, why))
					return false;
		} else if (strcmp(key, "maxItems") == 0) {
			if (v->type == OUT_JSON_ARRAY && v->count > out_json_u64(k, 0))
				return *why = "maxItems", false;
		} else if (strcmp(key, "minimum") == 0) {
			if (v->type == OUT_JSON_NUMBER && v->num < k->num)
				return *why = "minimum", false;
		} else if (strcmp(key, "maximum") == 0) {
			if (v->type == OUT_JSON_NUMBER && v->num > k->num)
				return *why = "maximum", false;
		} else if (strcmp(key, "enum") == 0) {
			bool any = false;
			for (const struct out_json *e = k->child; e != NULL; e = e->next)
				any |= fs_equal(e, v);
			if (!any)
				return *why = "enum", false;
		} else if (strcmp(key, "oneOf") == 0) {
			int n = 0;
			const char *w = NULL;
			for (const struct out_json *o = k->child; o != NULL; o = o->next)
				n += fuzz_schema_ok(o, v, &w);
			if (n != 1)
				return *why = "oneOf", false;
		} else if (strcmp(key, "pattern") == 0) {
			if (!fs_pattern(k->str, v))
				return *why = "pattern", false;
		} else {
			FUZZ_CHECK(strcmp(key, "description") == 0 || strcmp(key, "title") == 0 ||
				       strcmp(key, "$schema") == 0 || strcmp(key, "$id") == 0 ||
				       strcmp(key, "$defs") == 0,
				   "schema keyword %s not handled by fuzz_schema.h", key);
		}
	}
	return true;
}

/* One encoded record line (with its '\n'): strict JSON, valid per the
 * schema. Returns the parsed record (valid until the next call). */
static const struct out_json *fuzz_check_record_line(const char *line, size_t len)
{
	static struct out_json_arena arena;
	struct out_json *v;
	const char *why = "?";
	char err[128];

	FUZZ_CHECK(len > 0 && line[len - 1] == '\n' && memchr(line, '\n', len - 1) == NULL,
		   "not one line");
	FUZZ_CHECK(fuzz_json_check(line, len - 1, NULL, NULL), "not strict JSON: %.*s", (int)len,
		   line);
	out_json_arena_reset(&arena);
	FUZZ_CHECK(out_json_parse(&arena, line, len - 1, &v, err, sizeof(err)) == 0, "%s", err);
	FUZZ_CHECK(fuzz_schema_ok(fuzz_schema_root(), v, &why), "schema violated at %s: %.*s", why,
		   (int)len, line);
	return v;
}

#endif
