/* report.h — the census report from a results directory (internal to output/). */
#ifndef MC_OUT_REPORT_H
#define MC_OUT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "output/record.h"
#include "output/report_sw.h"

enum out_report_format {
	OUT_REPORT_TEXT,
	OUT_REPORT_JSON,
	OUT_REPORT_HTML,
};

#define REP_ROWS_MAX   64 /* distinct (port, proto) rows */
#define REP_TOP	       10 /* entries in the top-country / top-network lists */
#define REP_POSTURES   5  /* enum mc_posture values */
#define REP_VERSIONS   4  /* TLS 1.0 .. 1.3 */
#define REP_ATTRIB_MAX 4
#define REP_ATTRIB_LEN 512
#define REP_ORG_LEN    128
#define REP_CC	       (26 * 26) /* ISO 3166 alpha-2 codes, AA..ZZ */
#define REP_PATH_LEN   512

struct rep_row {
	uint16_t port;
	char proto[8];
	uint64_t services, hosts;
};

struct rep_top {
	char country[3]; /* top countries */
	uint32_t asn;	 /* top networks */
	char org[REP_ORG_LEN];
	uint64_t hosts; /* cleartext-login hosts */
	uint64_t total; /* every host of that country / network */
};

struct rep_stats {
	/* from the manifest (empty when absent) */
	char version[32], started[40], finished[40], command_line[256], error[256];
	char state[320]; /* how the run ended: "complete", "interrupted by SIGTERM", ... */
	bool have_manifest, complete, enriched;
	char attribution[REP_ATTRIB_MAX][REP_ATTRIB_LEN];
	size_t nattrib;
	/* from the shards */
	uint64_t shards, records, hosts, errors, bad_lines;
	uint64_t targets, unreachable; /* every record; those that failed at connect */
	struct rep_row rows[REP_ROWS_MAX];
	size_t nrows;
	uint64_t other_rows; /* services whose row did not fit */
	uint64_t svc_posture[REP_POSTURES], host_posture[REP_POSTURES];
	uint64_t svc_cleartext, hosts_cleartext;
	/* ... of which measured by the login probe (cleartext_login_evidence
	 * "behaviour"; a host: on at least one port), and the rest, from the
	 * capability list alone (records without the field count here) */
	uint64_t svc_cleartext_behaviour, hosts_cleartext_behaviour;
	uint64_t ver_yes[REP_VERSIONS], ver_no[REP_VERSIONS], ver_unknown[REP_VERSIONS];
	uint64_t svc_obsolete, hosts_tls10, hosts_tls11;
	uint64_t hosts_ssl2, hosts_ssl3;
	uint64_t hosts_legacy; /* a host with a service accepting any legacy suite */
	uint64_t hosts_legacy_fam[MC_LEGACY_COUNT]; /* by family (record.h mc_legacy) */
	uint64_t certs, cert_expired, cert_self_signed, cert_invalid_chain;
	uint64_t starttls_advertised, starttls_accepted, starttls_injection;
	struct rep_top top_countries[REP_TOP], top_networks[REP_TOP];
	size_t ntop_countries, ntop_networks;
	uint64_t cleartext_no_country, cleartext_no_asn;
	struct rep_sw sw; /* software of cleartext-login / injection-vulnerable hosts */
	/* per country (index (c0-'A')*26 + c1-'A'): every host, cleartext-login hosts */
	uint64_t cc_hosts[REP_CC], cc_cleartext[REP_CC];
	uint64_t hosts_obsolete;     /* hosts accepting SSLv2, SSLv3, TLS 1.0 or 1.1 */
	bool demo_geo;		     /* a database is scripts/gen-mmdb's demo data */
	char map_path[REP_PATH_LEN]; /* world map (scripts/fetch-geo-data), "" = none */
};

/* What the caller adds to the shards: a world map file (NULL = the
 * world-map.tsv beside the manifest's geo database, if there is one). */
struct out_report_opts {
	const char *map_path;
};

int out_report_format_parse(const char *name, enum out_report_format *fmt);

/* Aggregate every shard of the ndirs directories into st (an address found in
 * several counts as one host). 0, or -errno with a reason in err. */
int out_report_collect(const char *const *dirs, size_t ndirs, struct rep_stats *st, char *err,
		       size_t errlen);

void out_report_text(const struct rep_stats *st, FILE *out);
/* JSON text of the stats (malloc'd, NUL-terminated), or NULL. */
char *out_report_json(const struct rep_stats *st);
void out_report_html(const struct rep_stats *st, FILE *out);
/* The choropleth world map section of the HTML page (report_map.c). */
void out_report_html_map(const struct rep_stats *st, FILE *out);

/* Text into HTML: at most n bytes of s (up to a NUL); & < > " ' as
 * entities, control bytes as '?'. The one escaper of every HTML page
 * (report, software tables, diff). */
void out_html_escape(FILE *out, const char *s, size_t n);
/* "N hosts offer POP3/IMAP without TLS; M accept TLS 1.0/1.1." */
void out_report_headline(const struct rep_stats *st, char *buf, size_t cap);
/* Index of an alpha-2 code in cc_* arrays, or -1. */
int out_cc_index(const char *cc);

/* collect + write in the format to `outfile` (NULL = stdout). */
int out_report_run(const char *const *dirs, size_t ndirs, enum out_report_format fmt,
		   const struct out_report_opts *opts, const char *outfile, char *err,
		   size_t errlen);

#endif
