/* report_out.c — the census report as text, JSON and one self-contained HTML page.
 *
 * All three show the same numbers from struct rep_stats. The HTML page has
 * inline CSS and inline SVG bar charts (rect + text, no script, no fonts,
 * no external fetches), so it renders the same from a file:// URL on an
 * air-gapped machine. Names that came from databases (network
 * organisations) are escaped for the medium: control bytes replaced in
 * text, entities in HTML, JSON escapes in JSON. */
#include <stdlib.h>
#include <string.h>

#include "output/jw.h"
#include "output/record.h"
#include "output/report.h"

static const char *const version_names[REP_VERSIONS] = {"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"};
static const char *const version_keys[REP_VERSIONS] = {"tls1_0", "tls1_1", "tls1_2", "tls1_3"};

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Text-safe copy: control bytes become '?'. */
static const char *plain(const char *s, char *buf, size_t cap)
{
	size_t i = 0;

	for (; s[i] != '\0' && i + 1 < cap; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

static void text_run(const struct rep_stats *st, FILE *out)
{
	if (!st->have_manifest) {
		fprintf(out, "run: no manifest.json (shards read from the directory listing)\n");
		return;
	}
	fprintf(out, "run: mailcensus %s, %s .. %s\n", st->version, st->started,
		st->finished[0] ? st->finished : "(not finished)");
	if (st->command_line[0] != '\0')
		fprintf(out, "command: %s\n", st->command_line);
}

static void text_tops(const struct rep_stats *st, FILE *out)
{
	char buf[REP_ORG_LEN];

	fprintf(out, "\nTop countries of cleartext-login hosts\n");
	for (size_t i = 0; i < st->ntop_countries; i++)
		fprintf(
		    out, "  %-4s %10llu  %5.1f%% of them, %5.1f%% of the country's %llu hosts\n",
		    st->top_countries[i].country, (unsigned long long)st->top_countries[i].hosts,
		    pct(st->top_countries[i].hosts, st->hosts_cleartext),
		    pct(st->top_countries[i].hosts, st->top_countries[i].total),
		    (unsigned long long)st->top_countries[i].total);
	if (st->cleartext_no_country)
		fprintf(out, "  %-4s %10llu\n", "??", (unsigned long long)st->cleartext_no_country);
	fprintf(out, "\nTop networks of cleartext-login hosts\n");
	for (size_t i = 0; i < st->ntop_networks; i++)
		fprintf(out, "  AS%-8u %10llu  %s\n", st->top_networks[i].asn,
			(unsigned long long)st->top_networks[i].hosts,
			plain(st->top_networks[i].org, buf, sizeof(buf)));
	if (st->cleartext_no_asn)
		fprintf(out, "  %-10s %10llu\n", "unknown",
			(unsigned long long)st->cleartext_no_asn);
}

void out_report_text(const struct rep_stats *st, FILE *out)
{
	char headline[256];

	/* the first line says how the run ended */
	if (!st->have_manifest)
		fprintf(out, "mailcensus report: no manifest.json\n");
	else
		fprintf(out, "mailcensus report: run %s%s\n", st->complete ? "" : "INCOMPLETE, ",
			st->state);
	text_run(st, out);
	out_report_headline(st, headline, sizeof(headline));
	fprintf(out, "%s\n", headline);
	fprintf(out,
		"targets: %llu probed, %llu unreachable (connect failed); %llu services on %llu "
		"hosts; from %llu shards%s\n",
		(unsigned long long)st->targets, (unsigned long long)st->unreachable,
		(unsigned long long)st->records, (unsigned long long)st->hosts,
		(unsigned long long)st->shards, st->bad_lines ? " (some lines unreadable)" : "");
	fprintf(out, "\nPort   Protocol   Services      Hosts\n");
	for (size_t i = 0; i < st->nrows; i++)
		fprintf(out, "%5u  %-8s %10llu %10llu\n", st->rows[i].port, st->rows[i].proto,
			(unsigned long long)st->rows[i].services,
			(unsigned long long)st->rows[i].hosts);
	fprintf(out, "\nPosture               Services      Hosts\n");
	for (int p = 0; p < REP_POSTURES; p++)
		fprintf(out, "%-20s %10llu %10llu\n", mc_posture_name((enum mc_posture)p),
			(unsigned long long)st->svc_posture[p],
			(unsigned long long)st->host_posture[p]);
	fprintf(out, "\nCleartext login accepted: %llu services on %llu hosts (%.1f%% of hosts)\n",
		(unsigned long long)st->svc_cleartext, (unsigned long long)st->hosts_cleartext,
		pct(st->hosts_cleartext, st->hosts));
	fprintf(out,
		"  measured by the login probe: %llu services on %llu hosts\n"
		"  from the capability list only: %llu services on %llu hosts\n",
		(unsigned long long)st->svc_cleartext_behaviour,
		(unsigned long long)st->hosts_cleartext_behaviour,
		(unsigned long long)(st->svc_cleartext - st->svc_cleartext_behaviour),
		(unsigned long long)(st->hosts_cleartext - st->hosts_cleartext_behaviour));
	fprintf(out, "\nTLS versions (services)  accepted    refused  not measured\n");
	for (int v = 0; v < REP_VERSIONS; v++)
		fprintf(out, "  %-20s %10llu %10llu %12llu\n", version_names[v],
			(unsigned long long)st->ver_yes[v], (unsigned long long)st->ver_no[v],
			(unsigned long long)st->ver_unknown[v]);
	fprintf(out,
		"  hosts accepting TLS 1.0: %llu, TLS 1.1: %llu; obsolete-TLS services: %llu\n",
		(unsigned long long)st->hosts_tls10, (unsigned long long)st->hosts_tls11,
		(unsigned long long)st->svc_obsolete);
	fprintf(out, "  hosts accepting SSLv2: %llu, SSLv3: %llu; a legacy suite: %llu (",
		(unsigned long long)st->hosts_ssl2, (unsigned long long)st->hosts_ssl3,
		(unsigned long long)st->hosts_legacy);
	for (int f = 0; f < MC_LEGACY_COUNT; f++)
		fprintf(out, "%s%s %llu", f ? ", " : "", mc_legacy_name((enum mc_legacy)f),
			(unsigned long long)st->hosts_legacy_fam[f]);
	fprintf(out, ")\n");
	fprintf(
	    out, "\nCertificates: %llu seen; expired %llu, self-signed %llu, invalid chain %llu\n",
	    (unsigned long long)st->certs, (unsigned long long)st->cert_expired,
	    (unsigned long long)st->cert_self_signed, (unsigned long long)st->cert_invalid_chain);
	fprintf(out, "STARTTLS: advertised %llu, accepted %llu, command injection %llu\n",
		(unsigned long long)st->starttls_advertised,
		(unsigned long long)st->starttls_accepted,
		(unsigned long long)st->starttls_injection);
	fprintf(out, "Probe errors after connecting: %llu services\n",
		(unsigned long long)st->errors);
	text_tops(st, out);
	rep_sw_text(&st->sw, out);
	fprintf(out, "\n");
	for (size_t i = 0; i < st->nattrib; i++)
		fprintf(out, "%s\n", st->attribution[i]);
	if (!st->enriched && st->have_manifest)
		fprintf(out, "No geo/ASN enrichment in this run (--no-enrich).\n");
	if (st->demo_geo)
		fprintf(out,
			"Countries and networks come from a demo database (scripts/gen-mmdb demo) "
			"that places the test network's 198.18.0.0/15 addresses; no real database "
			"places that range.\n");
}

static void jstr(struct out_jw *w, const char *key, const char *v)
{
	out_jw_key(w, key);
	out_jw_bytes(w, v, strlen(v));
	out_jw_lit(w, ",");
}

static void json_run(struct out_jw *w, const struct rep_stats *st)
{
	out_jw_lit(w, "\"run\":{");
	if (st->have_manifest) {
		jstr(w, "mailcensus_version", st->version);
		jstr(w, "started", st->started);
		jstr(w, "finished", st->finished);
		jstr(w, "command_line", st->command_line);
		out_jw_lit(w, "\"error\":");
		if (st->complete)
			out_jw_lit(w, "null,");
		else
			out_jw_bytes(w, st->error, strlen(st->error)), out_jw_lit(w, ",");
		out_jw_lit(w, "\"enriched\":");
		out_jw_bool(w, st->enriched);
		out_jw_lit(w, ",");
		jstr(w, "state", st->state);
	}
	out_jw_lit(w, "\"complete\":");
	out_jw_bool(w, st->have_manifest && st->complete);
	out_jw_lit(w, ",\"attribution\":[");
	for (size_t i = 0; i < st->nattrib; i++) {
		if (i)
			out_jw_lit(w, ",");
		out_jw_bytes(w, st->attribution[i], strlen(st->attribution[i]));
	}
	out_jw_lit(w, "]},");
}

static void json_tops(struct out_jw *w, const struct rep_stats *st)
{
	out_jw_lit(w, "\"top_countries_cleartext\":[");
	for (size_t i = 0; i < st->ntop_countries; i++) {
		if (i)
			out_jw_lit(w, ",");
		out_jw_lit(w, "{\"country\":");
		out_jw_bytes(w, st->top_countries[i].country, 2);
		out_jw_lit(w, ",");
		out_jw_member_u64(w, "hosts", st->top_countries[i].hosts, true);
		out_jw_member_u64(w, "hosts_total", st->top_countries[i].total, false);
		out_jw_lit(w, "}");
	}
	out_jw_lit(w, "],\"top_networks_cleartext\":[");
	for (size_t i = 0; i < st->ntop_networks; i++) {
		if (i)
			out_jw_lit(w, ",");
		out_jw_lit(w, "{");
		out_jw_member_u64(w, "asn", st->top_networks[i].asn, true);
		jstr(w, "org", st->top_networks[i].org);
		out_jw_member_u64(w, "hosts", st->top_networks[i].hosts, true);
		out_jw_member_u64(w, "hosts_total", st->top_networks[i].total, false);
		out_jw_lit(w, "}");
	}
	out_jw_lit(w, "],\"countries\":[");
	bool first = true;
	for (int i = 0; i < REP_CC; i++) {
		if (st->cc_hosts[i] == 0)
			continue;
		char cc[3] = {(char)('A' + i / 26), (char)('A' + i % 26), 0};
		if (!first)
			out_jw_lit(w, ",");
		out_jw_lit(w, "{\"country\":");
		first = false;
		out_jw_bytes(w, cc, 2);
		out_jw_lit(w, ",");
		out_jw_member_u64(w, "hosts", st->cc_hosts[i], true);
		out_jw_member_u64(w, "cleartext_hosts", st->cc_cleartext[i], false);
		out_jw_lit(w, "}");
	}
	out_jw_lit(w, "],");
	out_jw_member_u64(w, "cleartext_hosts_without_country", st->cleartext_no_country, true);
	out_jw_member_u64(w, "cleartext_hosts_without_asn", st->cleartext_no_asn, false);
}

static void json_body(struct out_jw *w, const void *ctx)
{
	const struct rep_stats *st = ctx;
	char headline[256];

	out_jw_lit(w, "{");
	json_run(w, st);
	out_report_headline(st, headline, sizeof(headline));
	jstr(w, "headline", headline);
	out_jw_member_u64(w, "shards", st->shards, true);
	out_jw_member_u64(w, "targets", st->targets, true);
	out_jw_member_u64(w, "unreachable", st->unreachable, true);
	out_jw_member_u64(w, "services", st->records, true);
	out_jw_member_u64(w, "hosts", st->hosts, true);
	out_jw_member_u64(w, "unreadable_lines", st->bad_lines, true);
	out_jw_member_u64(w, "errors", st->errors, true);
	out_jw_lit(w, "\"ports\":[");
	for (size_t i = 0; i < st->nrows; i++) {
		if (i)
			out_jw_lit(w, ",");
		out_jw_lit(w, "{");
		out_jw_member_u64(w, "port", st->rows[i].port, true);
		jstr(w, "proto", st->rows[i].proto);
		out_jw_member_u64(w, "services", st->rows[i].services, true);
		out_jw_member_u64(w, "hosts", st->rows[i].hosts, false);
		out_jw_lit(w, "}");
	}
	out_jw_lit(w, "],\"posture\":{");
	for (int p = 0; p < REP_POSTURES; p++) {
		if (p)
			out_jw_lit(w, ",");
		out_jw_lit(w, "\"");
		const char *name = mc_posture_name((enum mc_posture)p);
		out_jw_raw(w, name, strlen(name));
		out_jw_lit(w, "\":{");
		out_jw_member_u64(w, "services", st->svc_posture[p], true);
		out_jw_member_u64(w, "hosts", st->host_posture[p], false);
		out_jw_lit(w, "}");
	}
	out_jw_lit(w, "},\"cleartext_login\":{");
	out_jw_member_u64(w, "services", st->svc_cleartext, true);
	out_jw_member_u64(w, "hosts", st->hosts_cleartext, true);
	out_jw_lit(w, "\"behaviour\":{");
	out_jw_member_u64(w, "services", st->svc_cleartext_behaviour, true);
	out_jw_member_u64(w, "hosts", st->hosts_cleartext_behaviour, false);
	out_jw_lit(w, "},\"capability_only\":{");
	out_jw_member_u64(w, "services", st->svc_cleartext - st->svc_cleartext_behaviour, true);
	out_jw_member_u64(w, "hosts", st->hosts_cleartext - st->hosts_cleartext_behaviour, false);
	out_jw_lit(w, "}");
	out_jw_lit(w, "},\"tls_versions\":{");
	for (int v = 0; v < REP_VERSIONS; v++) {
		out_jw_lit(w, "\"");
		out_jw_raw(w, version_keys[v], strlen(version_keys[v]));
		out_jw_lit(w, "\":{");
		out_jw_member_u64(w, "accepted", st->ver_yes[v], true);
		out_jw_member_u64(w, "refused", st->ver_no[v], true);
		out_jw_member_u64(w, "unknown", st->ver_unknown[v], false);
		out_jw_lit(w, "},");
	}
	out_jw_member_u64(w, "hosts_tls1_0", st->hosts_tls10, true);
	out_jw_member_u64(w, "hosts_tls1_1", st->hosts_tls11, true);
	out_jw_member_u64(w, "hosts_obsolete", st->hosts_obsolete, true);
	out_jw_member_u64(w, "hosts_ssl2", st->hosts_ssl2, true);
	out_jw_member_u64(w, "hosts_ssl3", st->hosts_ssl3, true);
	out_jw_member_u64(w, "obsolete_services", st->svc_obsolete, false);
	out_jw_lit(w, "},\"legacy_suites\":{");
	out_jw_member_u64(w, "hosts", st->hosts_legacy, true);
	for (int f = 0; f < MC_LEGACY_COUNT; f++) {
		const char *name = mc_legacy_name((enum mc_legacy)f);

		out_jw_lit(w, "\"hosts_");
		out_jw_raw(w, name, strlen(name));
		out_jw_lit(w, "\":");
		out_jw_u64(w, st->hosts_legacy_fam[f]);
		if (f + 1 < MC_LEGACY_COUNT)
			out_jw_lit(w, ",");
	}
	out_jw_lit(w, "},\"certificates\":{");
	out_jw_member_u64(w, "seen", st->certs, true);
	out_jw_member_u64(w, "expired", st->cert_expired, true);
	out_jw_member_u64(w, "self_signed", st->cert_self_signed, true);
	out_jw_member_u64(w, "invalid_chain", st->cert_invalid_chain, false);
	out_jw_lit(w, "},\"starttls\":{");
	out_jw_member_u64(w, "advertised", st->starttls_advertised, true);
	out_jw_member_u64(w, "accepted", st->starttls_accepted, true);
	out_jw_member_u64(w, "injection", st->starttls_injection, false);
	out_jw_lit(w, "},");
	rep_sw_json(w, &st->sw);
	out_jw_lit(w, ",");
	json_tops(w, st);
	out_jw_lit(w, "}\n");
}

char *out_report_json(const struct rep_stats *st)
{
	return out_jw_document(OUT_JW_DOC_CAP, json_body, st, NULL);
}
