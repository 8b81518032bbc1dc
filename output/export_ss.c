/* export_ss.c — records as Shadowserver's IMAP and POP3 scan reports.
 *
 * Four CSV files with the report names, column names and column order of
 * Shadowserver's published report schema (The-Shadowserver-Foundation/
 * report_schema, reports.json: scan_imap "Accessible-IMAP", scan_pop3
 * "Accessible-POP3", scan_imap_vulnerable "Vulnerable-IMAP",
 * scan_pop3_vulnerable "Vulnerable-POP3"; all four share one 60-column
 * list), so CERT tooling that ingests those reports (IntelMQ's Shadowserver
 * parser) reads ours unchanged. Every service that answered goes to the
 * accessible report of its protocol, severity `low` (Shadowserver's default
 * for it); a service that takes a cleartext login, accepts TLS 1.0/1.1 or
 * executes STARTTLS-injected commands also goes to the vulnerable report,
 * severity `medium` (their default; their severity guide puts "unencrypted
 * services requiring login" and "vulnerabilities requiring MITM" there).
 * Columns we cannot fill (reverse DNS, region, city, NAICS, sector,
 * MD5/SHA-1/SHA-512 fingerprints, validation level) stay empty; JARM only
 * with grab --jarm, SSLv3 only where the hello plan measured it; booleans
 * are Y/N as in their SSL reports. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "output/export.h"

#define SS_CELL_MAX (64u * 1024)

enum ss_kind {
	SS_EMPTY,    /* a column we have no data for */
	SS_TIME,     /* a record time (path a[/b]) as "YYYY-MM-DD HH:MM:SS" */
	SS_SEVERITY, /* low / medium */
	SS_TCP,	     /* protocol: always tcp */
	SS_TAG,	     /* imap|pop3 plus ;cleartext-login ;tls-obsolete ;starttls-injection */
	SS_VALUE,    /* the JSON value at a[/b[/c]] */
	SS_YN,	     /* a boolean at tls/cert/a as Y/N */
	SS_DN,	     /* attribute b of the tls/cert/a distinguished name */
};

struct ss_col {
	const char *name;
	enum ss_kind kind;
	const char *a, *b, *c;
};

#define DN(side, field, attr)                                                                      \
	{                                                                                          \
		side "_" field, SS_DN, side, attr, NULL                                            \
	}

static const struct ss_col ss_cols[] = {
    {"timestamp", SS_TIME, "time", NULL, NULL},
    {"severity", SS_SEVERITY, NULL, NULL, NULL},
    {"ip", SS_VALUE, "ip", NULL, NULL},
    {"protocol", SS_TCP, NULL, NULL, NULL},
    {"port", SS_VALUE, "port", NULL, NULL},
    {"hostname", SS_EMPTY, NULL, NULL, NULL},
    {"tag", SS_TAG, NULL, NULL, NULL},
    {"asn", SS_VALUE, "asn", "number", NULL},
    {"geo", SS_VALUE, "geo", "country", NULL},
    {"region", SS_EMPTY, NULL, NULL, NULL},
    {"city", SS_EMPTY, NULL, NULL, NULL},
    {"naics", SS_EMPTY, NULL, NULL, NULL},
    {"hostname_source", SS_EMPTY, NULL, NULL, NULL},
    {"sector", SS_EMPTY, NULL, NULL, NULL},
    {"banner", SS_VALUE, "banner", NULL, NULL},
    {"cert_expiration_date", SS_TIME, "not_after", "cert", NULL},
    {"cert_expired", SS_YN, "expired", NULL, NULL},
    {"cert_issue_date", SS_TIME, "not_before", "cert", NULL},
    {"cert_length", SS_VALUE, "tls", "cert", "key_bits"},
    {"cert_serial_number", SS_VALUE, "tls", "cert", "serial"},
    {"cert_valid", SS_YN, "chain_valid", NULL, NULL},
    {"cipher_suite", SS_VALUE, "tls", "cipher", NULL},
    {"handshake", SS_VALUE, "tls", "version", NULL},
    DN("issuer", "business_category", "businessCategory"),
    DN("issuer", "common_name", "CN"),
    DN("issuer", "country", "C"),
    DN("issuer", "email_address", "emailAddress"),
    DN("issuer", "given_name", "GN"),
    DN("issuer", "locality_name", "L"),
    DN("issuer", "organization_name", "O"),
    DN("issuer", "organization_unit_name", "OU"),
    DN("issuer", "postal_code", "postalCode"),
    DN("issuer", "serial_number", "serialNumber"),
    DN("issuer", "state_or_province_name", "ST"),
    DN("issuer", "street_address", "street"),
    DN("issuer", "surname", "SN"),
    {"jarm", SS_VALUE, "tls", "jarm", NULL},
    {"key_algorithm", SS_VALUE, "tls", "cert", "key_type"},
    {"md5_fingerprint", SS_EMPTY, NULL, NULL, NULL},
    {"self_signed", SS_YN, "self_signed", NULL, NULL},
    {"sha1_fingerprint", SS_EMPTY, NULL, NULL, NULL},
    {"sha256_fingerprint", SS_VALUE, "tls", "cert", "sha256"},
    {"sha512_fingerprint", SS_EMPTY, NULL, NULL, NULL},
    {"signature_algorithm", SS_VALUE, "tls", "cert", "sig_alg"},
    {"ssl_version", SS_EMPTY, NULL, NULL, NULL},
    {"sslv3_supported", SS_VALUE, "tls", "versions", "ssl3"},
    DN("subject", "business_category", "businessCategory"),
    DN("subject", "common_name", "CN"),
    DN("subject", "country", "C"),
    DN("subject", "email_address", "emailAddress"),
    DN("subject", "given_name", "GN"),
    DN("subject", "locality_name", "L"),
    DN("subject", "organization_name", "O"),
    DN("subject", "organization_unit_name", "OU"),
    DN("subject", "postal_code", "postalCode"),
    DN("subject", "serial_number", "serialNumber"),
    DN("subject", "state_or_province_name", "ST"),
    DN("subject", "street_address", "street"),
    DN("subject", "surname", "SN"),
    {"validation_level", SS_EMPTY, NULL, NULL, NULL},
};

#define SS_NCOLS (sizeof(ss_cols) / sizeof(ss_cols[0]))

static const char *const ss_files[4] = {"scan_imap.csv", "scan_imap_vulnerable.csv",
					"scan_pop3.csv", "scan_pop3_vulnerable.csv"};

struct ss_writer {
	FILE *f[4]; /* index: 2 * pop3 + vulnerable */
	char *cell;
	char names[4][1024];
};

bool out_ss_vulnerable(const char *posture, bool cleartext, bool obsolete, bool injection)
{
	(void)posture;
	return cleartext || obsolete || injection;
}

static void field(struct ss_writer *w, FILE *out, const char *s, size_t n)
{
	size_t need = out_csv_escape(w->cell, SS_CELL_MAX, s, n);
	fwrite(w->cell, 1, need < SS_CELL_MAX ? need : SS_CELL_MAX, out);
}

static void value(struct ss_writer *w, FILE *out, const struct out_json *v)
{
	char buf[32];

	if (v == NULL || v->type == OUT_JSON_NULL)
		return;
	if (v->type == OUT_JSON_STRING) {
		field(w, out, v->str, v->len);
	} else if (v->type == OUT_JSON_NUMBER && v->is_uint) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v->u);
		fputs(buf, out);
	} else if (v->type == OUT_JSON_BOOL) {
		fputc(v->b ? 'Y' : 'N', out);
	}
}

/* "2026-11-29T05:00:00[.000000]Z" as Shadowserver's "2026-11-29 05:00:00". */
static void put_time(FILE *out, const char *t)
{
	if (t != NULL && strlen(t) >= 19)
		fprintf(out, "%.10s %.8s", t, t + 11);
}

/* Attribute `key` of an RFC 2253 name: the first comma-separated part (a
 * comma after a backslash does not separate) that starts with "key=". */
static void put_dn(struct ss_writer *w, FILE *out, const struct out_json *dn, const char *key)
{
	size_t klen = strlen(key);

	if (dn == NULL || dn->type != OUT_JSON_STRING)
		return;
	for (size_t start = 0, i = 0; i <= dn->len; i++) {
		if (i < dn->len && !(dn->str[i] == ',' && (i == 0 || dn->str[i - 1] != '\\')))
			continue;
		const char *part = dn->str + start;
		size_t len = i - start;
		if (len > klen && memcmp(part, key, klen) == 0 && part[klen] == '=') {
			field(w, out, part + klen + 1, len - klen - 1);
			return;
		}
		start = i + 1;
	}
}

static void row(struct ss_writer *w, FILE *out, const struct out_json *rec, bool imap,
		bool vulnerable)
{
	const struct out_json *tls = out_json_get(rec, "tls");
	const struct out_json *cert = out_json_get(tls, "cert");

	if (cert != NULL && cert->type != OUT_JSON_OBJECT)
		cert = NULL;
	for (size_t i = 0; i < SS_NCOLS; i++) {
		const struct ss_col *c = &ss_cols[i];
		if (i)
			fputc(',', out);
		switch (c->kind) {
		case SS_EMPTY:
			break;
		case SS_TIME:
			put_time(out, out_json_str(out_json_get(c->b ? cert : rec, c->a)));
			break;
		case SS_SEVERITY:
			fputs(vulnerable ? "medium" : "low", out);
			break;
		case SS_TCP:
			fputs("tcp", out);
			break;
		case SS_TAG:
			fprintf(
			    out, "%s%s%s%s", imap ? "imap" : "pop3",
			    out_json_true(out_json_get(rec, "cleartext_login")) ? ";cleartext-login"
										: "",
			    out_json_true(out_json_get(rec, "tls_obsolete")) ? ";tls-obsolete" : "",
			    out_json_true(out_json_get(out_json_get(rec, "starttls"), "injection"))
				? ";starttls-injection"
				: "");
			break;
		case SS_VALUE: {
			const struct out_json *v = out_json_get(rec, c->a);
			if (c->b != NULL)
				v = out_json_get(v, c->b);
			if (c->c != NULL)
				v = out_json_get(v, c->c);
			value(w, out, v);
			break;
		}
		case SS_YN:
			value(w, out, out_json_get(cert, c->a));
			break;
		case SS_DN:
			put_dn(w, out, out_json_get(cert, c->a), c->b);
			break;
		}
	}
	fputs("\r\n", out);
}

int out_ss_put(struct ss_writer *w, const struct out_json *rec)
{
	const char *error = out_json_str(out_json_get(rec, "error"));
	const char *proto = out_json_str(out_json_get(rec, "proto"));

	if (proto == NULL || (error != NULL && strncmp(error, "connect:", 8) == 0))
		return 0; /* the reports list services that answered */
	bool imap = strncmp(proto, "imap", 4) == 0;
	if (!imap && strncmp(proto, "pop3", 4) != 0)
		return 0;
	bool vulnerable = out_ss_vulnerable(
	    out_json_str(out_json_get(rec, "posture")),
	    out_json_true(out_json_get(rec, "cleartext_login")),
	    out_json_true(out_json_get(rec, "tls_obsolete")),
	    out_json_true(out_json_get(out_json_get(rec, "starttls"), "injection")));
	FILE *acc = w->f[imap ? 0 : 2], *vul = w->f[imap ? 1 : 3];
	row(w, acc, rec, imap, false);
	if (vulnerable)
		row(w, vul, rec, imap, true);
	return ferror(acc) || ferror(vul) ? -EIO : 1;
}

int out_ss_open(struct ss_writer **out, const char *dir, char *err, size_t errlen)
{
	struct ss_writer *w = calloc(1, sizeof(*w));

	if (w == NULL || (w->cell = malloc(SS_CELL_MAX)) == NULL) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*out = w;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < 4; i++) {
		snprintf(w->names[i], sizeof(w->names[i]), "%s/%s", dir, ss_files[i]);
		w->f[i] = fopen(w->names[i], "w");
		if (w->f[i] == NULL) {
			snprintf(err, errlen, "%s: %s", w->names[i], strerror(errno));
			return -errno;
		}
		for (size_t c = 0; c < SS_NCOLS; c++)
			fprintf(w->f[i], "%s%s", c ? "," : "", ss_cols[c].name);
		fputs("\r\n", w->f[i]);
	}
	return 0;
}

int out_ss_close(struct ss_writer *w, int rc, char *err, size_t errlen)
{
	if (w == NULL)
		return rc;
	for (int i = 0; i < 4; i++) {
		if (w->f[i] != NULL && fclose(w->f[i]) != 0 && rc == 0) {
			snprintf(err, errlen, "%s: %s", w->names[i], strerror(errno));
			rc = -EIO;
		}
	}
	free(w->cell);
	free(w);
	return rc;
}
