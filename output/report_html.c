/* report_html.c — the census report as one self-contained HTML page.
 *
 * Inline CSS and inline SVG bar charts only: no script, no web fonts, no
 * external URL, so the page renders identically offline and from file://.
 * Each chart is an <svg class="chart" id="chart-..."> of <rect class="bar">
 * elements with their values as text, sized to the largest value. */
#include <string.h>

#include "output/record.h"
#include "output/report.h"

#define CHART_W	  720
#define LABEL_W	  230
#define BAR_H	  22
#define VALUE_PAD 70

struct bar {
	char label[REP_ORG_LEN + 16];
	uint64_t value;
};

void out_html_escape(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '&')
			fputs("&amp;", out);
		else if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else if (c == '\'')
			fputs("&#39;", out);
		else if (c < 0x20 || c == 0x7f)
			fputc('?', out);
		else
			fputc(c, out);
	}
}

static void chart(FILE *out, const char *id, const char *title, const struct bar *bars, size_t n,
		  const char *color)
{
	uint64_t max = 1;
	int height = (int)n * (BAR_H + 6) + 10;

	for (size_t i = 0; i < n; i++)
		if (bars[i].value > max)
			max = bars[i].value;
	fprintf(out, "<h2>");
	out_html_escape(out, title, SIZE_MAX);
	fprintf(out,
		"</h2>\n<svg class=\"chart\" id=\"chart-%s\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"",
		id, CHART_W, height < 40 ? 40 : height);
	out_html_escape(out, title, SIZE_MAX);
	fprintf(out, "\">\n");
	if (n == 0)
		fprintf(out, "<text x=\"4\" y=\"24\" class=\"none\">none</text>\n");
	for (size_t i = 0; i < n; i++) {
		int y = 6 + (int)i * (BAR_H + 6);
		double w =
		    (double)(CHART_W - LABEL_W - VALUE_PAD) * (double)bars[i].value / (double)max;
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL_W - 8,
			y + BAR_H - 6);
		out_html_escape(out, bars[i].label, SIZE_MAX);
		fprintf(out,
			"</text><rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%.1f\" "
			"height=\"%d\" fill=\"%s\"/><text x=\"%.1f\" y=\"%d\">%llu</text>\n",
			LABEL_W, y, w < 1 && bars[i].value ? 1.0 : w, BAR_H, color, LABEL_W + w + 6,
			y + BAR_H - 6, (unsigned long long)bars[i].value);
	}
	fprintf(out, "</svg>\n");
}

static void head(FILE *out, const struct rep_stats *st)
{
	fprintf(
	    out,
	    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	    "<title>mailcensus report</title>\n<style>\n"
	    "body{font-family:sans-serif;margin:2em;color:#222;background:#fff;max-width:60em}\n"
	    "h1{font-size:1.6em}h2{font-size:1.15em;margin-top:1.6em}\n"
	    "table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;"
	    "text-align:right}th:first-child,td:first-child{text-align:left}\n"
	    ".big{font-size:1.3em;font-weight:bold;color:#b00}\n"
	    "svg text{font-size:13px;font-family:sans-serif;fill:#222}\n"
	    ".meta,.attrib{color:#555;font-size:.9em}\n</style></head>\n<body>\n"
	    "<h1>mailcensus report</h1>\n<p class=\"meta\">");
	if (st->have_manifest) {
		fprintf(out, "mailcensus ");
		out_html_escape(out, st->version, SIZE_MAX);
		fprintf(out, ", run ");
		out_html_escape(out, st->started, SIZE_MAX);
		fprintf(out, " &ndash; ");
		out_html_escape(out, st->finished, SIZE_MAX);
		if (!st->complete) {
			fprintf(out, ", <b>incomplete</b>: ");
			out_html_escape(out, st->state, SIZE_MAX);
		}
	} else {
		fprintf(out, "no manifest.json: shards read from the directory listing");
	}
	char headline[256];
	out_report_headline(st, headline, sizeof(headline));
	fprintf(out, "</p>\n<p class=\"big\" id=\"headline\">");
	out_html_escape(out, headline, SIZE_MAX);
	fprintf(out,
		"</p>\n<p><span class=\"big\" id=\"cleartext-hosts\">%llu</span> of %llu hosts "
		"(%llu of %llu services) accept a password in clear text: "
		"<span id=\"cleartext-behaviour\">%llu</span> measured by the login probe, "
		"<span id=\"cleartext-capability\">%llu</span> from their capability list only."
		"</p>\n",
		(unsigned long long)st->hosts_cleartext, (unsigned long long)st->hosts,
		(unsigned long long)st->svc_cleartext, (unsigned long long)st->records,
		(unsigned long long)st->hosts_cleartext_behaviour,
		(unsigned long long)(st->hosts_cleartext - st->hosts_cleartext_behaviour));
}

static void ports_table(FILE *out, const struct rep_stats *st)
{
	fprintf(out, "<h2>Services and hosts per port</h2>\n<table id=\"ports\"><tr><th>Port</th>"
		     "<th>Protocol</th><th>Services</th><th>Hosts</th></tr>\n");
	for (size_t i = 0; i < st->nrows; i++) {
		fprintf(out, "<tr><td>%u</td><td>", st->rows[i].port);
		out_html_escape(out, st->rows[i].proto, SIZE_MAX);
		fprintf(out, "</td><td>%llu</td><td>%llu</td></tr>\n",
			(unsigned long long)st->rows[i].services,
			(unsigned long long)st->rows[i].hosts);
	}
	fprintf(out, "</table>\n<h2>Findings</h2>\n<table id=\"problems\"><tr><th>Finding</th>"
		     "<th>Count</th></tr>\n");
	const struct {
		const char *what;
		uint64_t n;
	} rows[] = {
	    {"Hosts accepting TLS 1.0", st->hosts_tls10},
	    {"Hosts accepting TLS 1.1", st->hosts_tls11},
	    {"Hosts accepting SSLv3", st->hosts_ssl3},
	    {"Hosts accepting SSLv2", st->hosts_ssl2},
	    {"Hosts accepting a legacy suite (RC4, 3DES, DES, EXPORT, NULL, anon)",
	     st->hosts_legacy},
	    {"Certificates seen", st->certs},
	    {"Expired certificates", st->cert_expired},
	    {"Self-signed certificates", st->cert_self_signed},
	    {"Invalid certificate chains", st->cert_invalid_chain},
	    {"STARTTLS command injection", st->starttls_injection},
	    {"Targets probed", st->targets},
	    {"Unreachable targets (connect failed)", st->unreachable},
	    {"Probe errors after connecting", st->errors},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(out, "<tr><td>%s</td><td>%llu</td></tr>\n", rows[i].what,
			(unsigned long long)rows[i].n);
	fprintf(out, "</table>\n");
}

void out_report_html(const struct rep_stats *st, FILE *out)
{
	static const char *const vers[REP_VERSIONS] = {"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"};
	struct bar bars[REP_ROWS_MAX > REP_TOP ? REP_ROWS_MAX : REP_TOP];
	size_t n;

	head(out, st);
	ports_table(out, st);
	for (n = 0; n < st->nrows; n++) {
		snprintf(bars[n].label, sizeof(bars[n].label), "%u/%s", st->rows[n].port,
			 st->rows[n].proto);
		bars[n].value = st->rows[n].hosts;
	}
	chart(out, "ports", "Hosts per port", bars, n, "#4a7ab5");
	for (n = 0; n < REP_POSTURES; n++) {
		snprintf(bars[n].label, sizeof(bars[n].label), "%s",
			 mc_posture_name((enum mc_posture)n));
		bars[n].value = st->host_posture[n];
	}
	chart(out, "posture", "Hosts by posture", bars, n, "#7a5ab5");
	for (n = 0; n < REP_VERSIONS; n++) {
		snprintf(bars[n].label, sizeof(bars[n].label), "%s accepted", vers[n]);
		bars[n].value = st->ver_yes[n];
	}
	chart(out, "tls", "Services accepting each TLS version", bars, n, "#3a9a5a");
	for (n = 0; n < st->ntop_countries; n++) {
		snprintf(bars[n].label, sizeof(bars[n].label), "%s", st->top_countries[n].country);
		bars[n].value = st->top_countries[n].hosts;
	}
	chart(out, "countries", "Top countries of cleartext-login hosts", bars, n, "#c0504d");
	for (n = 0; n < st->ntop_networks; n++) {
		snprintf(bars[n].label, sizeof(bars[n].label), "AS%u %.24s",
			 st->top_networks[n].asn, st->top_networks[n].org);
		bars[n].value = st->top_networks[n].hosts;
	}
	chart(out, "networks", "Top networks of cleartext-login hosts", bars, n, "#d08040");
	out_report_html_map(st, out);
	rep_sw_html(&st->sw, out);
	fprintf(out, "<p class=\"attrib\">");
	for (size_t i = 0; i < st->nattrib; i++) {
		out_html_escape(out, st->attribution[i], SIZE_MAX);
		fprintf(out, "<br>\n");
	}
	if (!st->enriched && st->have_manifest)
		fprintf(out, "No geo/ASN enrichment in this run.");
	fprintf(out, "</p>\n</body></html>\n");
}
