/* diff_out.c — a census diff as text, JSON and one self-contained HTML page.
 *
 * All three show the same numbers of struct diff_stats: both sides' totals
 * (services, hosts, hosts without TLS, cleartext-login hosts, hosts taking
 * TLS 1.0/1.1), services and hosts per change, the reasons, the posture
 * transition matrix, changes per country and the networks with the most
 * changed hosts. */
#include <stdlib.h>
#include <string.h>

#include "output/diff.h"
#include "output/jw.h"
#include "output/record.h"
#include "output/report.h"

static const char *posture_col(int i)
{
	return i == 0 ? "absent" : mc_posture_name((enum mc_posture)(i - 1));
}

static long long delta(uint64_t a, uint64_t b)
{
	return (long long)b - (long long)a;
}

/* The totals both pages show, old against new. */
struct side_row {
	const char *what;
	uint64_t o, n;
};
#define SIDE_ROWS 5

static void side_rows(const struct diff_stats *st, struct side_row rows[SIDE_ROWS])
{
	const struct side_row r[SIDE_ROWS] = {
	    {"services", st->old.services, st->new.services},
	    {"hosts", st->old.hosts, st->new.hosts},
	    {"hosts without TLS", st->old.hosts_no_tls, st->new.hosts_no_tls},
	    {"cleartext-login hosts", st->old.hosts_cleartext, st->new.hosts_cleartext},
	    {"hosts taking TLS 1.0/1.1", st->old.hosts_obsolete, st->new.hosts_obsolete},
	};

	memcpy(rows, r, sizeof(r));
}

static void text_side_rows(const struct diff_stats *st, FILE *out)
{
	struct side_row rows[SIDE_ROWS];

	side_rows(st, rows);
	fprintf(out, "%-26s %12s %12s %12s\n", "", "old", "new", "change");
	for (size_t i = 0; i < SIDE_ROWS; i++)
		fprintf(out, "%-26s %12llu %12llu %+12lld\n", rows[i].what,
			(unsigned long long)rows[i].o, (unsigned long long)rows[i].n,
			delta(rows[i].o, rows[i].n));
}

void out_diff_text(const struct diff_stats *st, FILE *out)
{
	fprintf(out, "mailcensus diff\nold: %s\nnew: %s\n\n", st->old_dir, st->new_dir);
	text_side_rows(st, out);
	fprintf(out, "\n%-14s %12s %12s\n", "change", "services", "hosts");
	for (int c = 0; c < DIFF_CHANGES; c++)
		fprintf(out, "%-14s %12llu %12llu\n", out_diff_change_name((enum diff_change)c),
			(unsigned long long)st->svc[c], (unsigned long long)st->hosts[c]);
	fprintf(out, "\n%-18s %12s %12s\n", "reason", "services", "hosts");
	for (unsigned r = 0; r < DIFF_REASONS; r++)
		fprintf(out, "%-18s %12llu %12llu\n", out_diff_reason_name(r),
			(unsigned long long)st->svc_reason[r],
			(unsigned long long)st->host_reason[r]);
	fprintf(out, "\nServices by posture (old -> new)\n");
	for (int a = 0; a <= REP_POSTURES; a++)
		for (int b = 0; b <= REP_POSTURES; b++)
			if (st->posture[a][b] && a != b)
				fprintf(out, "  %-18s -> %-18s %12llu\n", posture_col(a),
					posture_col(b), (unsigned long long)st->posture[a][b]);
	fprintf(out, "\nHosts by country   appeared disappeared  improved regressed  mixed\n");
	for (int i = 0; i < REP_CC; i++) {
		const uint64_t *c = st->cc[i];
		if (c[DIFF_APPEARED] + c[DIFF_DISAPPEARED] + c[DIFF_IMPROVED] + c[DIFF_REGRESSED] +
			c[DIFF_MIXED] ==
		    0)
			continue;
		fprintf(out, "  %c%c %20llu %11llu %9llu %9llu %6llu\n", 'A' + i / 26, 'A' + i % 26,
			(unsigned long long)c[DIFF_APPEARED],
			(unsigned long long)c[DIFF_DISAPPEARED],
			(unsigned long long)c[DIFF_IMPROVED], (unsigned long long)c[DIFF_REGRESSED],
			(unsigned long long)c[DIFF_MIXED]);
	}
	fprintf(out, "\nNetworks with the most changed hosts (of %llu networks)\n",
		(unsigned long long)st->networks);
	for (size_t i = 0; i < st->nnets; i++) {
		const struct diff_net *n = &st->nets[i];
		char org[sizeof(n->org)];
		size_t k = 0;
		for (; n->org[k] != '\0' && k + 1 < sizeof(org); k++)
			org[k] = (unsigned char)n->org[k] < 0x20 ? '?' : n->org[k];
		org[k] = '\0';
		fprintf(out,
			"  AS%-10u appeared %llu, disappeared %llu, improved %llu, regressed %llu, "
			"mixed %llu  %s\n",
			n->asn, (unsigned long long)n->n[DIFF_APPEARED],
			(unsigned long long)n->n[DIFF_DISAPPEARED],
			(unsigned long long)n->n[DIFF_IMPROVED],
			(unsigned long long)n->n[DIFF_REGRESSED],
			(unsigned long long)n->n[DIFF_MIXED], org);
	}
	if (st->old.duplicates + st->new.duplicates + st->old.bad_lines + st->new.bad_lines)
		fprintf(
		    out,
		    "\nduplicate (address, port) records dropped: old %llu, new %llu; "
		    "unreadable lines: old %llu, new %llu\n",
		    (unsigned long long)st->old.duplicates, (unsigned long long)st->new.duplicates,
		    (unsigned long long)st->old.bad_lines, (unsigned long long)st->new.bad_lines);
}

static void json_side(struct out_jw *w, const char *name, const char *dir,
		      const struct diff_side *s)
{
	out_jw_lit(w, "\"");
	out_jw_raw(w, name, strlen(name));
	out_jw_lit(w, "\":{\"dir\":");
	out_jw_bytes(w, dir, strlen(dir));
	out_jw_lit(w, ",");
	out_jw_member_u64(w, "services", s->services, true);
	out_jw_member_u64(w, "hosts", s->hosts, true);
	out_jw_member_u64(w, "hosts_no_tls", s->hosts_no_tls, true);
	out_jw_member_u64(w, "hosts_cleartext", s->hosts_cleartext, true);
	out_jw_member_u64(w, "hosts_obsolete_tls", s->hosts_obsolete, true);
	out_jw_member_u64(w, "unreachable", s->unreachable, true);
	out_jw_member_u64(w, "duplicates", s->duplicates, true);
	out_jw_member_u64(w, "unreadable_lines", s->bad_lines, true);
	out_jw_member_u64(w, "sort_runs", s->runs, true);
	out_jw_member_u64(w, "merge_passes", s->passes, false);
	out_jw_lit(w, "},");
}

static void json_changes(struct out_jw *w, const char *name, const uint64_t *v)
{
	out_jw_lit(w, "\"");
	out_jw_raw(w, name, strlen(name));
	out_jw_lit(w, "\":{");
	for (int c = 0; c < DIFF_CHANGES; c++)
		out_jw_member_u64(w, out_diff_change_name((enum diff_change)c), v[c],
				  c + 1 < DIFF_CHANGES);
	out_jw_lit(w, "},");
}

static void json_reasons(struct out_jw *w, const char *name, const uint64_t *v)
{
	out_jw_lit(w, "\"");
	out_jw_raw(w, name, strlen(name));
	out_jw_lit(w, "\":{");
	for (unsigned r = 0; r < DIFF_REASONS; r++)
		out_jw_member_u64(w, out_diff_reason_name(r), v[r], r + 1 < DIFF_REASONS);
	out_jw_lit(w, "},");
}

static void json_where(struct out_jw *w, const struct diff_stats *st)
{
	bool first = true;

	out_jw_lit(w, "\"countries\":[");
	for (int i = 0; i < REP_CC; i++) {
		uint64_t any = 0;
		for (int c = DIFF_IMPROVED; c < DIFF_CHANGES; c++)
			any |= st->cc[i][c];
		if (any == 0)
			continue;
		char cc[2] = {(char)('A' + i / 26), (char)('A' + i % 26)};
		if (!first)
			out_jw_lit(w, ",");
		first = false;
		out_jw_lit(w, "{\"country\":");
		out_jw_bytes(w, cc, 2);
		out_jw_lit(w, ",");
		for (int c = 0; c < DIFF_CHANGES; c++)
			out_jw_member_u64(w, out_diff_change_name((enum diff_change)c),
					  st->cc[i][c], c + 1 < DIFF_CHANGES);
		out_jw_lit(w, "}");
	}
	out_jw_lit(w, "],\"networks\":[");
	for (size_t i = 0; i < st->nnets; i++) {
		if (i)
			out_jw_lit(w, ",");
		out_jw_lit(w, "{");
		out_jw_member_u64(w, "asn", st->nets[i].asn, true);
		out_jw_lit(w, "\"org\":");
		out_jw_bytes(w, st->nets[i].org, strnlen(st->nets[i].org, sizeof(st->nets[i].org)));
		out_jw_lit(w, ",");
		for (int c = 0; c < DIFF_CHANGES; c++)
			out_jw_member_u64(w, out_diff_change_name((enum diff_change)c),
					  st->nets[i].n[c], c + 1 < DIFF_CHANGES);
		out_jw_lit(w, "}");
	}
	out_jw_lit(w, "],");
	out_jw_member_u64(w, "networks_seen", st->networks, true);
}

/* The non-zero cells of a posture matrix as [{from, to, unit: n}]. */
static void json_matrix(struct out_jw *w, const char *name, const char *unit,
			const uint64_t m[1 + REP_POSTURES][1 + REP_POSTURES])
{
	bool first = true;

	out_jw_lit(w, "\"");
	out_jw_raw(w, name, strlen(name));
	out_jw_lit(w, "\":[");
	for (int a = 0; a <= REP_POSTURES; a++)
		for (int b = 0; b <= REP_POSTURES; b++) {
			if (m[a][b] == 0)
				continue;
			if (!first)
				out_jw_lit(w, ",");
			first = false;
			out_jw_lit(w, "{\"from\":");
			out_jw_bytes(w, posture_col(a), strlen(posture_col(a)));
			out_jw_lit(w, ",\"to\":");
			out_jw_bytes(w, posture_col(b), strlen(posture_col(b)));
			out_jw_lit(w, ",");
			out_jw_member_u64(w, unit, m[a][b], false);
			out_jw_lit(w, "}");
		}
	out_jw_lit(w, "],");
}

static void json_body(struct out_jw *w, const void *ctx)
{
	const struct diff_stats *st = ctx;

	out_jw_lit(w, "{");
	json_side(w, "old", st->old_dir, &st->old);
	json_side(w, "new", st->new_dir, &st->new);
	json_changes(w, "services", st->svc);
	json_changes(w, "hosts", st->hosts);
	json_reasons(w, "service_reasons", st->svc_reason);
	json_reasons(w, "host_reasons", st->host_reason);
	json_matrix(w, "posture", "services", st->posture);
	json_matrix(w, "host_posture", "hosts", st->host_posture);
	json_where(w, st);
	out_jw_member_u64(w, "sort_memory_bytes", st->mem_bytes, false);
	out_jw_lit(w, "}\n");
}

char *out_diff_json(const struct diff_stats *st)
{
	return out_jw_document(OUT_JW_DOC_CAP, json_body, st, NULL);
}

static void html_matrix(FILE *out, const char *id, const char *title,
			const uint64_t m[1 + REP_POSTURES][1 + REP_POSTURES])
{
	fprintf(out, "<h2>%s</h2>\n<table id=\"%s\"><tr><th></th>", title, id);
	for (int b = 0; b <= REP_POSTURES; b++)
		fprintf(out, "<th>%s</th>", posture_col(b));
	fprintf(out, "</tr>\n");
	for (int a = 0; a <= REP_POSTURES; a++) {
		fprintf(out, "<tr><td>%s</td>", posture_col(a));
		for (int b = 0; b <= REP_POSTURES; b++)
			fprintf(out, "<td>%llu</td>", (unsigned long long)m[a][b]);
		fprintf(out, "</tr>\n");
	}
	fprintf(out, "</table>\n");
}

static void html_changes(FILE *out, const struct diff_stats *st)
{
	fprintf(out, "<h2>Changes</h2>\n<table id=\"changes\"><tr><th>Change</th><th>Services</th>"
		     "<th>Hosts</th></tr>\n");
	for (int c = 0; c < DIFF_CHANGES; c++)
		fprintf(out, "<tr><td>%s</td><td>%llu</td><td>%llu</td></tr>\n",
			out_diff_change_name((enum diff_change)c), (unsigned long long)st->svc[c],
			(unsigned long long)st->hosts[c]);
	fprintf(out, "</table>\n<h2>Reasons</h2>\n<table id=\"reasons\"><tr><th>Reason</th>"
		     "<th>Services</th><th>Hosts</th></tr>\n");
	for (unsigned r = 0; r < DIFF_REASONS; r++)
		fprintf(out, "<tr><td>%s</td><td>%llu</td><td>%llu</td></tr>\n",
			out_diff_reason_name(r), (unsigned long long)st->svc_reason[r],
			(unsigned long long)st->host_reason[r]);
	fprintf(out, "</table>\n");
	html_matrix(out, "posture", "Services by posture (rows old, columns new)", st->posture);
	html_matrix(out, "host-posture", "Hosts by weakest posture (rows old, columns new)",
		    st->host_posture);
}

static void html_where(FILE *out, const struct diff_stats *st)
{
	fprintf(out, "<h2>Hosts by country</h2>\n<table id=\"countries\"><tr><th>Country</th>");
	for (int c = DIFF_IMPROVED; c < DIFF_CHANGES; c++)
		fprintf(out, "<th>%s</th>", out_diff_change_name((enum diff_change)c));
	fprintf(out, "</tr>\n");
	for (int i = 0; i < REP_CC; i++) {
		uint64_t any = 0;
		for (int c = DIFF_IMPROVED; c < DIFF_CHANGES; c++)
			any |= st->cc[i][c];
		if (any == 0)
			continue;
		fprintf(out, "<tr><td>%c%c</td>", 'A' + i / 26, 'A' + i % 26);
		for (int c = DIFF_IMPROVED; c < DIFF_CHANGES; c++)
			fprintf(out, "<td>%llu</td>", (unsigned long long)st->cc[i][c]);
		fprintf(out, "</tr>\n");
	}
	fprintf(out, "</table>\n<h2>Networks with the most changed hosts</h2>\n<table "
		     "id=\"networks\"><tr><th>Network</th>");
	for (int c = DIFF_IMPROVED; c < DIFF_CHANGES; c++)
		fprintf(out, "<th>%s</th>", out_diff_change_name((enum diff_change)c));
	fprintf(out, "</tr>\n");
	for (size_t i = 0; i < st->nnets; i++) {
		fprintf(out, "<tr><td>AS%u ", st->nets[i].asn);
		out_html_escape(out, st->nets[i].org, sizeof(st->nets[i].org));
		fprintf(out, "</td>");
		for (int c = DIFF_IMPROVED; c < DIFF_CHANGES; c++)
			fprintf(out, "<td>%llu</td>", (unsigned long long)st->nets[i].n[c]);
		fprintf(out, "</tr>\n");
	}
	fprintf(out, "</table>\n");
}

void out_diff_html(const struct diff_stats *st, FILE *out)
{
	fprintf(out,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<title>mailcensus diff</title>\n<style>\n"
		"body{font-family:sans-serif;margin:2em;color:#222;background:#fff;max-width:60em}"
		"table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid "
		"#ddd;text-align:right}th:first-child,td:first-child{text-align:left}"
		".meta{color:#555;font-size:.9em}\n</style></head>\n<body>\n"
		"<h1>mailcensus diff</h1>\n<p class=\"meta\">old: ");
	out_html_escape(out, st->old_dir, sizeof(st->old_dir));
	fprintf(out, "<br>new: ");
	out_html_escape(out, st->new_dir, sizeof(st->new_dir));
	fprintf(out, "</p>\n<table id=\"totals\"><tr><th></th><th>old</th><th>new</th>"
		     "<th>change</th></tr>\n");
	struct side_row rows[SIDE_ROWS];

	side_rows(st, rows);
	for (size_t i = 0; i < SIDE_ROWS; i++)
		fprintf(out, "<tr><td>%s</td><td>%llu</td><td>%llu</td><td>%+lld</td></tr>\n",
			rows[i].what, (unsigned long long)rows[i].o, (unsigned long long)rows[i].n,
			delta(rows[i].o, rows[i].n));
	fprintf(out, "</table>\n");
	html_changes(out, st);
	html_where(out, st);
	fprintf(out, "</body></html>\n");
}
