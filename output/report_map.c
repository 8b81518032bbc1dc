/* report_map.c — the world map section of the HTML report.
 *
 * A choropleth of cleartext-login hosts per country, drawn from a map file
 * that scripts/fetch-geo-data converts from the world-atlas npm package
 * (Natural Earth shapes) at fetch time:
 *
 *     # viewBox 0 0 960 500
 *     # source: world-atlas 2.0.2 (ISC), Natural Earth (public domain) ...
 *     DE<TAB>M480,120L...Z
 *
 * one line per country, alpha-2 code then an SVG path already projected
 * into the viewBox. The page embeds the paths inline (no script, no URL),
 * so its size is the map's (~100 KB) plus aggregates, whatever the census
 * size. Colour classes are powers of ten of the host count, so one big
 * country does not wash out the rest. Without a map file the section says
 * where to get one and still shows the tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "output/report.h"

#define MAP_LINE_MAX (512u * 1024) /* a country's path; longer lines are skipped */
#define MAP_TOP	     20

static const char *const map_colours[] = {"#eeeeee", "#fde0c5", "#facba6", "#f59e72",
					  "#e4694a", "#c23b22", "#8a1e12"};

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Colour class: 0 none, then 1, 10, 100, ... hosts. */
static int colour_class(uint64_t n)
{
	int c = 0;

	while (n > 0 && c < (int)(sizeof(map_colours) / sizeof(map_colours[0])) - 1) {
		c++;
		n /= 10;
	}
	return c;
}

static void esc(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '&')
			fputs("&amp;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else if (c < 0x20 || c == 0x7f)
			fputc('?', out);
		else
			fputc(c, out);
	}
}

/* A path's d attribute may only hold path syntax. */
static bool path_ok(const char *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strchr("MLHVZCQmlhvzcq0123456789.,- ", d[i]) == NULL)
			return false;
	return n > 0;
}

static void map_country(FILE *out, const struct rep_stats *st, const char *cc, const char *d,
			size_t dlen)
{
	int i = out_cc_index(cc);
	uint64_t n = i >= 0 ? st->cc_cleartext[i] : 0, all = i >= 0 ? st->cc_hosts[i] : 0;

	fprintf(out, "<path class=\"country c%d\" id=\"cc-%s\" data-hosts=\"%llu\" d=\"",
		colour_class(n), cc, (unsigned long long)n);
	fwrite(d, 1, dlen, out);
	fprintf(out, "\"><title>%s: %llu cleartext-login hosts of %llu (%.1f%%)</title></path>\n",
		cc, (unsigned long long)n, (unsigned long long)all, share(n, all));
}

/* The SVG from the map file; 0, or -errno when there is none. */
static int map_svg(FILE *out, const struct rep_stats *st, size_t *drawn)
{
	FILE *f = st->map_path[0] ? fopen(st->map_path, "r") : NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool opened = false;
	char source[512] = "";

	if (f == NULL)
		return -ENOENT;
	*drawn = 0;
	fprintf(out, "<style>.country{stroke:#999;stroke-width:.3}.sw{display:inline-block;"
		     "width:1.4em;height:.9em;margin:0 .2em 0 .8em;border:1px solid #999}");
	for (size_t c = 0; c < sizeof(map_colours) / sizeof(map_colours[0]); c++)
		fprintf(out, ".c%zu{fill:%s;background:%s}", c, map_colours[c], map_colours[c]);
	fprintf(out, "</style>\n");
	while ((len = getline(&line, &cap, f)) > 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		unsigned w, h;
		if (!opened && sscanf(line, "# viewBox 0 0 %u %u", &w, &h) == 2 && w <= 4000 &&
		    h <= 4000) {
			fprintf(out,
				"<svg class=\"map\" id=\"world-map\" "
				"xmlns=\"http://www.w3.org/2000/svg\" "
				"viewBox=\"0 0 %u %u\" width=\"100%%\" role=\"img\" "
				"aria-label=\"cleartext-login hosts per country\">\n",
				w, h);
			opened = true;
			continue;
		}
		if (strncmp(line, "# source: ", 10) == 0)
			snprintf(source, sizeof(source), "%s", line + 10);
		if (!opened || line[0] == '#' || (size_t)len > MAP_LINE_MAX || len < 4 ||
		    line[2] != '\t' || out_cc_index((char[3]){line[0], line[1], 0}) < 0 ||
		    !path_ok(line + 3, (size_t)len - 3))
			continue;
		line[2] = '\0';
		map_country(out, st, line, line + 3, (size_t)len - 3);
		(*drawn)++;
	}
	free(line);
	fclose(f);
	if (!opened)
		return -EINVAL;
	fprintf(out, "</svg>\n<p class=\"legend\">");
	for (size_t c = 0; c < sizeof(map_colours) / sizeof(map_colours[0]); c++)
		fprintf(out, "<span class=\"sw c%zu\"></span>%s%s ", c, c == 0 ? "0" : "&ge;",
			c == 0	 ? ""
			: c == 1 ? "1"
			: c == 2 ? "10"
			: c == 3 ? "100"
			: c == 4 ? "1k"
			: c == 5 ? "10k"
				 : "100k");
	fprintf(out, " cleartext-login hosts</p>\n<p class=\"attrib\" id=\"map-source\">Map: ");
	esc(out, source, sizeof(source));
	fprintf(out, "</p>\n");
	return 0;
}

static int cc_cmp(const void *a, const void *b, void *arg)
{
	const struct rep_stats *st = arg;
	int x = *(const int *)a, y = *(const int *)b;

	if (st->cc_cleartext[x] != st->cc_cleartext[y])
		return st->cc_cleartext[x] < st->cc_cleartext[y] ? 1 : -1;
	return x - y;
}

static void country_table(FILE *out, const struct rep_stats *st)
{
	int idx[REP_CC], n = 0;

	for (int i = 0; i < REP_CC; i++)
		if (st->cc_cleartext[i] > 0)
			idx[n++] = i;
	qsort_r(idx, (size_t)n, sizeof(idx[0]), cc_cmp, (void *)st);
	fprintf(out, "<table id=\"country-shares\"><tr><th>Country</th><th>Cleartext-login "
		     "hosts</th><th>Share of all such hosts</th><th>Mail hosts</th><th>%% of "
		     "the country's mail hosts</th></tr>\n");
	for (int k = 0; k < n && k < MAP_TOP; k++) {
		int i = idx[k];
		fprintf(out,
			"<tr><td>%c%c</td><td>%llu</td><td>%.1f%%</td><td>%llu</td><td>%.1f%%</td>"
			"</tr>\n",
			'A' + i / 26, 'A' + i % 26, (unsigned long long)st->cc_cleartext[i],
			share(st->cc_cleartext[i], st->hosts_cleartext),
			(unsigned long long)st->cc_hosts[i],
			share(st->cc_cleartext[i], st->cc_hosts[i]));
	}
	if (n == 0)
		fprintf(out,
			"<tr><td colspan=\"5\">no cleartext-login host has a country</td></tr>\n");
	fprintf(out, "</table>\n");
}

static void network_table(FILE *out, const struct rep_stats *st)
{
	fprintf(out, "<h2>Top networks of cleartext-login hosts</h2>\n<table id=\"asn-shares\"><tr>"
		     "<th>Network</th><th>Cleartext-login hosts</th><th>Share of all such "
		     "hosts</th><th>Mail hosts</th><th>%% of the network's mail hosts</th></tr>\n");
	for (size_t i = 0; i < st->ntop_networks; i++) {
		const struct rep_top *t = &st->top_networks[i];
		fprintf(out, "<tr><td>AS%u ", t->asn);
		esc(out, t->org, sizeof(t->org));
		fprintf(out, "</td><td>%llu</td><td>%.1f%%</td><td>%llu</td><td>%.1f%%</td></tr>\n",
			(unsigned long long)t->hosts, share(t->hosts, st->hosts_cleartext),
			(unsigned long long)t->total, share(t->hosts, t->total));
	}
	fprintf(out, "</table>\n");
}

void out_report_html_map(const struct rep_stats *st, FILE *out)
{
	size_t drawn = 0;

	fprintf(out, "<h2>Cleartext-login hosts per country</h2>\n");
	if (map_svg(out, st, &drawn) != 0)
		fprintf(out,
			"<p class=\"meta\" id=\"no-map\">No world map: no map data found "
			"(scripts/fetch-geo-data writes world-map.tsv beside the geo database; "
			"<code>report --map FILE</code> names one).</p>\n");
	if (st->demo_geo)
		fprintf(
		    out,
		    "<p class=\"meta\" id=\"demo-geo\">Demo data: the test network's "
		    "198.18.0.0/15 addresses were given countries and networks by a demo "
		    "database (scripts/gen-mmdb demo); no real database places that range.</p>\n");
	country_table(out, st);
	network_table(out, st);
}
