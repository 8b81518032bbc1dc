/* export.c — records as CSV: the flat column set of the record schema, and
 * Shadowserver-style IMAP/POP3 scan reports for CERTs.
 *
 * Flat CSV (--format csv): one column per leaf of the record schema
 * (export_schema.c), named by its path joined with '_' (tls_cert_subject).
 * Cells: null or absent -> empty; booleans true/false; integers in decimal;
 * strings are the record's decoded JSON string (so the UTF-8 the record
 * holds, U+FFFD where the server sent invalid bytes), NUL -> U+FFFD; arrays
 * (capabilities, SANs) are their JSON array text. RFC 4180 quoting.
 *
 * Shadowserver CSV (--format shadowserver-csv): their Accessible and
 * Vulnerable IMAP/POP3 reports (export_ss.c). Both formats obey --asn and
 * --country so a network operator or CERT gets only its networks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "output/export.h"
#include "output/jw.h"
#include "output/results.h"

#define CELL_MAX (64u * 1024)

size_t out_csv_escape(char *dst, size_t cap, const char *s, size_t n)
{
	bool quote = n > 0 && (s[0] == ' ' || s[n - 1] == ' ');
	size_t need = 0;

	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
#define PUT(c)                                                                                     \
	do {                                                                                       \
		if (need < cap)                                                                    \
			dst[need] = (char)(c);                                                     \
		need++;                                                                            \
	} while (0)
	if (quote)
		PUT('"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0') { /* U+FFFD */
			PUT(0xef);
			PUT(0xbf);
			PUT(0xbd);
			continue;
		}
		if (s[i] == '"')
			PUT('"');
		PUT(s[i]);
	}
	if (quote)
		PUT('"');
#undef PUT
	return need;
}

struct exporter {
	const struct export_schema *schema;
	const struct export_filter *filter;
	enum export_format fmt;
	FILE *out;
	struct ss_writer *ss;
	char *cell;
	uint64_t written;
};

static void put_field(struct exporter *x, FILE *out, const char *s, size_t n)
{
	size_t need = out_csv_escape(x->cell, CELL_MAX, s, n);
	fwrite(x->cell, 1, need < CELL_MAX ? need : CELL_MAX, out);
}

/* A parsed value back as compact JSON (arrays and objects in a CSV cell);
 * strings escaped as the records escape them. Nesting is bounded by the schema. */
static void json_text(struct out_jw *w, const struct out_json *v, int depth)
{
	char num[32];

	switch (v->type) {
	case OUT_JSON_NULL:
		out_jw_lit(w, "null");
		break;
	case OUT_JSON_BOOL:
		out_jw_bool(w, v->b);
		break;
	case OUT_JSON_NUMBER:
		if (v->is_uint)
			out_jw_u64(w, v->u);
		else
			out_jw_raw(w, num, (size_t)snprintf(num, sizeof(num), "%.17g", v->num));
		break;
	case OUT_JSON_STRING:
		out_jw_bytes(w, v->str, v->len);
		break;
	case OUT_JSON_ARRAY:
	case OUT_JSON_OBJECT:
		if (depth > 8) {
			out_jw_lit(w, "null");
			break;
		}
		out_jw_raw(w, v->type == OUT_JSON_ARRAY ? "[" : "{", 1);
		for (const struct out_json *e = v->child; e; e = e->next) {
			if (e != v->child)
				out_jw_lit(w, ",");
			if (v->type == OUT_JSON_OBJECT) {
				out_jw_bytes(w, e->key, e->keylen);
				out_jw_lit(w, ":");
			}
			json_text(w, e, depth + 1);
		}
		out_jw_raw(w, v->type == OUT_JSON_ARRAY ? "]" : "}", 1);
		break;
	}
}

/* A JSON value as a flat cell. */
static void put_value(struct exporter *x, FILE *out, const struct out_json *v)
{
	char buf[32];

	if (v == NULL || v->type == OUT_JSON_NULL)
		return;
	if (v->type == OUT_JSON_BOOL) {
		fputs(v->b ? "true" : "false", out);
	} else if (v->type == OUT_JSON_NUMBER) {
		if (v->is_uint)
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v->u);
		else
			snprintf(buf, sizeof(buf), "%.17g", v->num);
		fputs(buf, out);
	} else if (v->type == OUT_JSON_STRING) {
		put_field(x, out, v->str, v->len);
	} else if (v->type == OUT_JSON_ARRAY || v->type == OUT_JSON_OBJECT) {
		char *json = malloc(CELL_MAX);
		struct out_jw w;
		if (json == NULL)
			return;
		out_jw_init(&w, json, CELL_MAX);
		json_text(&w, v, 0);
		if (!w.overflow)
			put_field(x, out, json, (size_t)(w.p - json));
		free(json);
	}
}

static const struct out_json *at_path(const struct out_json *rec, const struct export_col *c)
{
	const struct out_json *v = rec;

	for (int i = 0; i < c->depth && v != NULL; i++)
		v = out_json_get(v, c->path[i]);
	return v;
}

static void flat_header(const struct export_schema *s, FILE *out)
{
	for (size_t i = 0; i < s->ncols; i++)
		fprintf(out, "%s%s", i ? "," : "", s->cols[i].name);
	fputs("\r\n", out);
}

static void flat_row(struct exporter *x, const struct out_json *rec)
{
	for (size_t i = 0; i < x->schema->ncols; i++) {
		if (i)
			fputc(',', x->out);
		put_value(x, x->out, at_path(rec, &x->schema->cols[i]));
	}
	fputs("\r\n", x->out);
}

int out_export_filter_add(struct export_filter *f, const char *what, const char *list)
{
	char buf[512], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (strcmp(what, "asn") == 0) {
			char *end;
			unsigned long v =
			    strtoul(tok + (strncasecmp(tok, "AS", 2) == 0 ? 2 : 0), &end, 10);
			if (*end != '\0' || v == 0 || v > UINT32_MAX || f->nasns == 64)
				return -EINVAL;
			f->asns[f->nasns++] = (uint32_t)v;
		} else {
			if (strlen(tok) != 2 || f->ncountries == 64)
				return -EINVAL;
			f->countries[f->ncountries][0] = (char)(tok[0] & ~0x20);
			f->countries[f->ncountries][1] = (char)(tok[1] & ~0x20);
			f->countries[f->ncountries++][2] = '\0';
		}
	}
	return 0;
}

/* A record passes when it matches one listed ASN (if any) and one listed
 * country (if any). */
static bool filter_pass(const struct export_filter *f, const struct out_json *rec)
{
	uint64_t asn = out_json_u64(out_json_get(out_json_get(rec, "asn"), "number"), 0);
	const char *cc = out_json_str(out_json_get(out_json_get(rec, "geo"), "country"));
	bool ok_asn = f->nasns == 0, ok_cc = f->ncountries == 0;

	for (size_t i = 0; i < f->nasns && !ok_asn; i++)
		ok_asn = asn == f->asns[i];
	for (size_t i = 0; i < f->ncountries && !ok_cc && cc; i++)
		ok_cc = strcmp(cc, f->countries[i]) == 0;
	return ok_asn && ok_cc;
}

static int on_record(void *ctx, const struct out_json *rec)
{
	struct exporter *x = ctx;
	if (rec->type != OUT_JSON_OBJECT || !filter_pass(x->filter, rec))
		return 0;
	if (x->fmt == EXPORT_CSV) {
		flat_row(x, rec);
		x->written++;
		return ferror(x->out) ? -EIO : 0;
	}
	int rc = out_ss_put(x->ss, rec);
	x->written += rc > 0;
	return rc < 0 ? rc : 0;
}

int out_export_records(const char *const *dirs, size_t ndirs, enum export_format fmt,
		       const struct export_filter *filter, FILE *out, const char *outdir,
		       uint64_t *written, char *err, size_t errlen)
{
	static const struct out_results_cb cb = {.record = on_record};
	struct export_schema *schema = calloc(1, sizeof(*schema));
	struct exporter x = {.schema = schema, .filter = filter, .fmt = fmt, .out = out};
	int rc = -ENOMEM;

	x.cell = malloc(CELL_MAX);
	if (schema == NULL || x.cell == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	rc = out_export_schema_load(schema, err, errlen);
	if (rc != 0)
		goto done;
	if (fmt == EXPORT_CSV) {
		flat_header(schema, out);
	} else if ((rc = out_ss_open(&x.ss, outdir, err, errlen)) != 0) {
		goto done;
	}
	for (size_t i = 0; i < ndirs && rc == 0; i++)
		rc = out_results_each(dirs[i], &cb, &x, NULL, err, errlen);
done:
	rc = out_ss_close(x.ss, rc, err, errlen);
	*written = x.written;
	if (schema != NULL)
		out_export_schema_free(schema);
	free(schema);
	free(x.cell);
	return rc;
}
