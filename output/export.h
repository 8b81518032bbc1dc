/* export.h — records as CSV (flat and Shadowserver-style) and the record
 * schema as BigQuery / DuckDB types (internal to output/). */
#ifndef MC_OUT_EXPORT_H
#define MC_OUT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "output/json.h"

extern const char out_record_schema_json[]; /* output/schema/record.schema.json, embedded */
extern const size_t out_record_schema_json_len;

#define EXPORT_PATH_MAX 4 /* nesting depth of a schema leaf */
#define EXPORT_COLS_MAX 128

enum export_type { EXPORT_STRING, EXPORT_INT, EXPORT_BOOL, EXPORT_TIMESTAMP };

/* One leaf of the schema: a flat CSV column. */
struct export_col {
	char name[64];			   /* path joined with '_', e.g. tls_cert_subject */
	const char *path[EXPORT_PATH_MAX]; /* member names from the record's root */
	int depth;
	enum export_type type;
	bool repeated; /* an array: its cell is the JSON array text */
	const char *description;
};

struct export_schema {
	struct out_json_arena arena;
	const struct out_json *root;
	struct export_col cols[EXPORT_COLS_MAX];
	size_t ncols;
};

/* Parse the embedded schema and list its leaves. 0 or -errno with reason. */
int out_export_schema_load(struct export_schema *s, char *err, size_t errlen);
void out_export_schema_free(struct export_schema *s);
/* BigQuery JSON schema (nested RECORD/REPEATED fields, descriptions). */
void out_export_bigquery(const struct export_schema *s, FILE *out);
/* DuckDB: CREATE TABLE ... AS SELECT * FROM read_json(files, columns = {...}). */
void out_export_duckdb(const struct export_schema *s, const char *const *dirs, size_t ndirs,
		       FILE *out);
/* The flat CSV column list as Markdown-free text (name, type, description). */
void out_export_columns(const struct export_schema *s, FILE *out);

/* RFC 4180 field: quoted when it holds , " CR LF or starts/ends with a space,
 * quotes doubled; a NUL byte becomes U+FFFD. Writes at most cap bytes (no
 * terminator) and returns the length the field needs. */
size_t out_csv_escape(char *dst, size_t cap, const char *s, size_t n);

/* Which records to export. */
struct export_filter {
	uint32_t asns[64];
	size_t nasns;
	char countries[64][3];
	size_t ncountries;
};
int out_export_filter_add(struct export_filter *f, const char *what, const char *list);

/* Shadowserver IMAP/POP3 reports (export_ss.c): scan_imap.csv, scan_pop3.csv
 * (every service that answered, severity low) and scan_imap_vulnerable.csv,
 * scan_pop3_vulnerable.csv (those out_ss_vulnerable() picks, severity medium)
 * in a directory, with the column list of Shadowserver's report schema. */
struct ss_writer;
/* A service is "vulnerable" when a password can cross in clear (cleartext
 * login), its TLS accepts 1.0/1.1, or it runs STARTTLS-injected commands. */
bool out_ss_vulnerable(const char *posture, bool cleartext, bool obsolete, bool injection);
int out_ss_open(struct ss_writer **w, const char *dir, char *err, size_t errlen);
/* 1 written, 0 not a service of these reports, -errno. */
int out_ss_put(struct ss_writer *w, const struct out_json *rec);
/* Close the four files (w may be NULL); returns rc or the first close error. */
int out_ss_close(struct ss_writer *w, int rc, char *err, size_t errlen);

enum export_format { EXPORT_CSV, EXPORT_SHADOWSERVER, EXPORT_BIGQUERY, EXPORT_DUCKDB };

/* Records of dirs as CSV to `out` (EXPORT_CSV) or Shadowserver CSVs into the
 * directory outdir (EXPORT_SHADOWSERVER). 0 or -errno with reason. */
int out_export_records(const char *const *dirs, size_t ndirs, enum export_format fmt,
		       const struct export_filter *filter, FILE *out, const char *outdir,
		       uint64_t *written, char *err, size_t errlen);

#endif
