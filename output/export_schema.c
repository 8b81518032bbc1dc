/* export_schema.c — the record schema (output/schema/record.schema.json,
 * embedded at build time by output/schema/embed.py) as flat CSV columns, a
 * BigQuery schema and DuckDB column types. There is no second copy of the
 * schema: every export reads the one JSON Schema at run time.
 *
 * Mapping: an object's properties become nested fields (BigQuery RECORD,
 * DuckDB STRUCT) and, flattened with '_', CSV columns; "$ref" follows
 * #/$defs/NAME; a oneOf of null and an object is that object, nullable;
 * "boolean" or the tri-state definition is BOOL; "integer" INT64/BIGINT; a
 * string whose pattern starts with a date (^[0-9]{4}-) is a TIMESTAMP;
 * every other string or enum is STRING/VARCHAR; an array is REPEATED (of
 * STRING, or of RECORD when its items are objects) / a DuckDB list (VARCHAR[]
 * or STRUCT(...)[]), and one CSV cell holding its JSON text. */
#include <errno.h>
#include <string.h>

#include "output/export.h"

static const struct out_json *resolve(const struct export_schema *s, const struct out_json *v)
{
	const char *ref = out_json_str(out_json_get(v, "$ref"));

	if (ref != NULL && strncmp(ref, "#/$defs/", 8) == 0)
		return out_json_get(out_json_get(s->root, "$defs"), ref + 8);
	const struct out_json *one = out_json_get(v, "oneOf");
	for (const struct out_json *alt = one ? one->child : NULL; alt; alt = alt->next) {
		const char *t = out_json_str(out_json_get(alt, "type"));
		if (t == NULL || strcmp(t, "null") != 0)
			return resolve(s, alt);
	}
	return v;
}

/* The non-null type name of a (resolved) schema node, or NULL for an enum. */
static const char *type_of(const struct out_json *v)
{
	const struct out_json *t = out_json_get(v, "type");

	if (t != NULL && t->type == OUT_JSON_STRING)
		return t->str;
	for (const struct out_json *e = t && t->type == OUT_JSON_ARRAY ? t->child : NULL; e;
	     e = e->next)
		if (e->type == OUT_JSON_STRING && strcmp(e->str, "null") != 0)
			return e->str;
	return NULL;
}

static enum export_type leaf_type(const struct out_json *v)
{
	const char *t = type_of(v);
	const char *pattern = out_json_str(out_json_get(v, "pattern"));

	if (t != NULL && strcmp(t, "boolean") == 0)
		return EXPORT_BOOL;
	if (t != NULL && strcmp(t, "integer") == 0)
		return EXPORT_INT;
	if (pattern != NULL && strncmp(pattern, "^[0-9]{4}-", 10) == 0)
		return EXPORT_TIMESTAMP;
	return EXPORT_STRING;
}

static int add_leaves(struct export_schema *s, const struct out_json *node, const char **path,
		      int depth)
{
	const struct out_json *v = resolve(s, node);
	const char *t = type_of(v);

	if (t != NULL && strcmp(t, "object") == 0) {
		if (depth == EXPORT_PATH_MAX)
			return -E2BIG;
		const struct out_json *props = out_json_get(v, "properties");
		for (const struct out_json *p = props ? props->child : NULL; p; p = p->next) {
			path[depth] = p->key;
			int rc = add_leaves(s, p, path, depth + 1);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	if (s->ncols == EXPORT_COLS_MAX)
		return -E2BIG;
	struct export_col *c = &s->cols[s->ncols++];
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < depth; i++) {
		c->path[i] = path[i];
		size_t used = strlen(c->name);
		snprintf(c->name + used, sizeof(c->name) - used, "%s%s", i ? "_" : "", path[i]);
	}
	c->depth = depth;
	c->repeated = t != NULL && strcmp(t, "array") == 0;
	c->type = c->repeated ? EXPORT_STRING : leaf_type(v);
	c->description = out_json_str(out_json_get(node, "description"))
			     ?: out_json_str(out_json_get(v, "description"));
	return 0;
}

int out_export_schema_load(struct export_schema *s, char *err, size_t errlen)
{
	struct out_json *root;
	const char *path[EXPORT_PATH_MAX];

	memset(s, 0, sizeof(*s));
	int rc = out_json_parse(&s->arena, out_record_schema_json, out_record_schema_json_len,
				&root, err, errlen);
	if (rc != 0)
		return rc;
	s->root = root;
	rc = add_leaves(s, root, path, 0);
	if (rc != 0)
		snprintf(err, errlen, "record schema: too deep or too many columns");
	return rc;
}

void out_export_schema_free(struct export_schema *s)
{
	out_json_arena_free(&s->arena);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static const char *bq_type(enum export_type t)
{
	return t == EXPORT_BOOL	       ? "BOOL"
	       : t == EXPORT_INT       ? "INT64"
	       : t == EXPORT_TIMESTAMP ? "TIMESTAMP"
				       : "STRING";
}

static const char *duck_type(enum export_type t)
{
	return t == EXPORT_BOOL	       ? "BOOLEAN"
	       : t == EXPORT_INT       ? "BIGINT"
	       : t == EXPORT_TIMESTAMP ? "TIMESTAMP"
				       : "VARCHAR";
}

/* One field of the BigQuery schema (recursing into objects). */
static void bq_field(const struct export_schema *s, const char *name, const struct out_json *node,
		     FILE *out)
{
	const struct out_json *v = resolve(s, node);
	const char *t = type_of(v);
	const char *desc = out_json_str(out_json_get(node, "description"))
			       ?: out_json_str(out_json_get(v, "description"));
	bool array = t != NULL && strcmp(t, "array") == 0;
	if (array) { /* REPEATED: the items' type */
		const struct out_json *items = resolve(s, out_json_get(v, "items"));
		const char *it = type_of(items);
		if (it != NULL && strcmp(it, "object") == 0)
			v = items, t = it;
	}
	bool object = t != NULL && strcmp(t, "object") == 0;

	fprintf(out, "{\"name\":");
	json_str(out, name);
	fprintf(out, ",\"type\":\"%s\",\"mode\":\"%s\"",
		object ? "RECORD" : bq_type(array ? EXPORT_STRING : leaf_type(v)),
		array ? "REPEATED" : "NULLABLE");
	if (desc != NULL) {
		fprintf(out, ",\"description\":");
		json_str(out, desc);
	}
	if (object) {
		const struct out_json *props = out_json_get(v, "properties");
		fprintf(out, ",\"fields\":[");
		for (const struct out_json *p = props ? props->child : NULL; p; p = p->next) {
			bq_field(s, p->key, p, out);
			if (p->next)
				fputc(',', out);
		}
		fputc(']', out);
	}
	fputc('}', out);
}

void out_export_bigquery(const struct export_schema *s, FILE *out)
{
	const struct out_json *props = out_json_get(s->root, "properties");

	fprintf(out, "[\n");
	for (const struct out_json *p = props ? props->child : NULL; p; p = p->next) {
		fprintf(out, "  ");
		bq_field(s, p->key, p, out);
		fprintf(out, "%s\n", p->next ? "," : "");
	}
	fprintf(out, "]\n");
}

/* A DuckDB type for a schema node (STRUCT for objects). */
static void duck_node(const struct export_schema *s, const struct out_json *node, FILE *out)
{
	const struct out_json *v = resolve(s, node);
	const char *t = type_of(v);

	if (t != NULL && strcmp(t, "array") == 0) {
		const struct out_json *items = out_json_get(v, "items");
		const char *it = type_of(resolve(s, items));
		if (it != NULL && strcmp(it, "object") == 0)
			duck_node(s, items, out);
		else
			fprintf(out, "VARCHAR");
		fprintf(out, "[]");
		return;
	}
	if (t == NULL || strcmp(t, "object") != 0) {
		fprintf(out, "%s", duck_type(leaf_type(v)));
		return;
	}
	const struct out_json *props = out_json_get(v, "properties");
	fprintf(out, "STRUCT(");
	for (const struct out_json *p = props ? props->child : NULL; p; p = p->next) {
		fprintf(out, "\"%s\" ", p->key);
		duck_node(s, p, out);
		fprintf(out, "%s", p->next ? ", " : "");
	}
	fprintf(out, ")");
}

void out_export_duckdb(const struct export_schema *s, const char *const *dirs, size_t ndirs,
		       FILE *out)
{
	const struct out_json *props = out_json_get(s->root, "properties");

	fprintf(
	    out,
	    "-- mailcensus records for DuckDB, generated from output/schema/record.schema.json\n"
	    "-- run: duckdb census.duckdb < this-file.sql\n"
	    "CREATE OR REPLACE TABLE records AS\nSELECT * FROM read_json([");
	for (size_t i = 0; i < ndirs; i++) {
		fprintf(out, "%s'", i ? ", " : "");
		for (const char *c = dirs[i]; *c; c++) /* an SQL string literal: quotes doubled */
			fputs(*c == '\'' ? "''" : (char[2]){*c, 0}, out);
		fprintf(out, "/shard-*.ndjson*'");
	}
	if (ndirs == 0)
		fprintf(out, "'shard-*.ndjson*'");
	fprintf(out, "],\n  format = 'newline_delimited',\n  columns = {\n");
	for (const struct out_json *p = props ? props->child : NULL; p; p = p->next) {
		fprintf(out, "    '%s': '", p->key);
		duck_node(s, p, out);
		fprintf(out, "'%s\n", p->next ? "," : "");
	}
	fprintf(out, "  });\n");
}

void out_export_columns(const struct export_schema *s, FILE *out)
{
	static const char *const names[] = {"string", "integer", "boolean", "timestamp"};

	for (size_t i = 0; i < s->ncols; i++)
		fprintf(out, "%-28s %-10s %s\n", s->cols[i].name,
			s->cols[i].repeated ? "json-array" : names[s->cols[i].type],
			s->cols[i].description ?: "");
}
