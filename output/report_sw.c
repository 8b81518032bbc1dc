/* report_sw.c — which software the exposed hosts run (issue 16).
 *
 * Three lists of labels with host counts: the product of cleartext-login
 * hosts, their (product, version), and the product of hosts whose STARTTLS
 * injection test said "vulnerable". Records without `software` count as
 * "(unidentified)", without a version as "(unknown)". A host with several
 * ports is counted once per label: a hash set of (host key, list, row)
 * remembers what was counted (open addressing, grown at half load). Labels are kept in arrival
 * order up to REP_SW_ROWS per list, later ones are summed as "other"; rep_sw_finish sorts by hosts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output/json.h"
#include "output/jw.h"
#include "output/report.h"
#include "output/report_sw.h"

#define SW_OTHER 0xffu /* row index of "other" in a seen key */

struct seen_key {
	uint64_t host;
	uint32_t tag; /* list << 8 | row, + 1; 0 = empty slot */
};

struct rep_sw_seen {
	struct seen_key *keys;
	size_t cap, used;
};

static size_t seen_hash(struct seen_key key)
{
	uint64_t k = key.host ^ (uint64_t)key.tag << 40;

	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k;
}

static bool seen_eq(struct seen_key a, struct seen_key b)
{
	return a.host == b.host && a.tag == b.tag;
}

/* Insert key; 1 when new, 0 when present, -ENOMEM. */
static int seen_add(struct rep_sw *sw, struct seen_key key)
{
	struct rep_sw_seen *s = sw->seen;

	if (s == NULL && (s = sw->seen = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	if ((s->used + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		struct seen_key *nk = calloc(ncap, sizeof(*nk));

		if (nk == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++) {
			if (s->keys[i].tag == 0)
				continue;
			size_t j = seen_hash(s->keys[i]) & (ncap - 1);
			while (nk[j].tag != 0)
				j = (j + 1) & (ncap - 1);
			nk[j] = s->keys[i];
		}
		free(s->keys);
		s->keys = nk;
		s->cap = ncap;
	}
	for (size_t j = seen_hash(key) & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
		if (seen_eq(s->keys[j], key))
			return 0;
		if (s->keys[j].tag == 0) {
			s->keys[j] = key;
			s->used++;
			return 1;
		}
	}
}

static void label(char *dst, const char *src, const char *dflt)
{
	snprintf(dst, REP_SW_LEN, "%s", src != NULL && src[0] != '\0' ? src : dflt);
}

/* Count host ip once under (product, version) in list number id (1..3). */
static int list_add(struct rep_sw *sw, struct rep_sw_list *l, unsigned id, uint64_t host,
		    const char *product, const char *version)
{
	size_t i;
	int r;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->rows[i].product, product) == 0 &&
		    strcmp(l->rows[i].version, version) == 0)
			break;
	if (i == l->n && l->n < REP_SW_ROWS) {
		snprintf(l->rows[i].product, REP_SW_LEN, "%s", product);
		snprintf(l->rows[i].version, REP_SW_LEN, "%s", version);
		l->rows[i].hosts = 0;
		l->n++;
	}
	r = seen_add(sw,
		     (struct seen_key){host, (id << 8 | (i < l->n ? (unsigned)i : SW_OTHER)) + 1});
	if (r <= 0)
		return r;
	if (i < l->n)
		l->rows[i].hosts++;
	else
		l->other++;
	return 0;
}

int rep_sw_count(struct rep_sw *sw, uint64_t host, const struct out_json *rec)
{
	const struct out_json *s = out_json_get(rec, "software");
	const char *inj =
	    out_json_str(out_json_get(out_json_get(rec, "starttls"), "injection_result"));
	char product[REP_SW_LEN], version[REP_SW_LEN];
	int r = 0;

	label(product, out_json_str(out_json_get(s, "product")), "(unidentified)");
	label(version, out_json_str(out_json_get(s, "version")), "(unknown)");
	if (out_json_true(out_json_get(rec, "cleartext_login"))) {
		r = list_add(sw, &sw->clear_product, 1, host, product, "");
		if (r == 0)
			r = list_add(sw, &sw->clear_version, 2, host, product, version);
	}
	if (r == 0 && inj != NULL && strcmp(inj, "vulnerable") == 0)
		r = list_add(sw, &sw->inject_product, 3, host, product, "");
	return r;
}

static int row_cmp(const void *a, const void *b)
{
	const struct rep_sw_row *x = a, *y = b;
	int c;

	if (x->hosts != y->hosts)
		return x->hosts > y->hosts ? -1 : 1;
	c = strcmp(x->product, y->product);
	return c != 0 ? c : strcmp(x->version, y->version);
}

void rep_sw_finish(struct rep_sw *sw)
{
	struct rep_sw_list *lists[] = {&sw->clear_product, &sw->clear_version, &sw->inject_product};

	for (size_t i = 0; i < 3; i++)
		qsort(lists[i]->rows, lists[i]->n, sizeof(lists[i]->rows[0]), row_cmp);
	if (sw->seen != NULL)
		free(sw->seen->keys);
	free(sw->seen);
	sw->seen = NULL;
}

static void text_list(FILE *out, const char *title, const struct rep_sw_list *l, bool ver)
{
	fprintf(out, "\n%s\n", title);
	if (ver)
		fprintf(out, "  %-40s %-20s %10s\n", "product", "version", "hosts");
	else
		fprintf(out, "  %-40s %10s\n", "product", "hosts");
	if (l->n == 0)
		fprintf(out, "  (none)\n");
	for (size_t i = 0; i < l->n; i++) {
		if (ver)
			fprintf(out, "  %-40s %-20s %10llu\n", l->rows[i].product,
				l->rows[i].version, (unsigned long long)l->rows[i].hosts);
		else
			fprintf(out, "  %-40s %10llu\n", l->rows[i].product,
				(unsigned long long)l->rows[i].hosts);
	}
	if (l->other > 0)
		fprintf(out, "  %-*s %10llu\n", ver ? 61 : 40, "(other)",
			(unsigned long long)l->other);
}

void rep_sw_text(const struct rep_sw *sw, FILE *out)
{
	text_list(out, "Cleartext-login hosts by software", &sw->clear_product, false);
	text_list(out, "Cleartext-login hosts by software version", &sw->clear_version, true);
	text_list(out, "STARTTLS-injection-vulnerable hosts by software", &sw->inject_product,
		  false);
}

static void json_list(struct out_jw *w, const char *key, const struct rep_sw_list *l, bool ver)
{
	out_jw_lit(w, "\"");
	out_jw_raw(w, key, strlen(key));
	out_jw_lit(w, "\":{\"rows\":[");
	for (size_t i = 0; i < l->n; i++) {
		if (i > 0)
			out_jw_lit(w, ",");
		out_jw_lit(w, "{\"product\":");
		out_jw_cstr(w, l->rows[i].product, REP_SW_LEN);
		if (ver) {
			out_jw_lit(w, ",\"version\":");
			out_jw_cstr(w, l->rows[i].version, REP_SW_LEN);
		}
		out_jw_lit(w, ",\"hosts\":");
		out_jw_u64(w, l->rows[i].hosts);
		out_jw_lit(w, "}");
	}
	out_jw_lit(w, "],\"other_hosts\":");
	out_jw_u64(w, l->other);
	out_jw_lit(w, "}");
}

void rep_sw_json(struct out_jw *w, const struct rep_sw *sw)
{
	out_jw_lit(w, "\"software\":{");
	json_list(w, "cleartext_login_by_product", &sw->clear_product, false);
	out_jw_lit(w, ",");
	json_list(w, "cleartext_login_by_version", &sw->clear_version, true);
	out_jw_lit(w, ",");
	json_list(w, "injection_vulnerable_by_product", &sw->inject_product, false);
	out_jw_lit(w, "}");
}

static void html_list(FILE *out, const char *title, const struct rep_sw_list *l, bool ver)
{
	fprintf(out, "<h2>%s</h2>\n<table><tr><th>product</th>%s<th>hosts</th></tr>\n", title,
		ver ? "<th>version</th>" : "");
	for (size_t i = 0; i < l->n; i++) {
		fputs("<tr><td>", out);
		out_html_escape(out, l->rows[i].product, SIZE_MAX);
		if (ver) {
			fputs("</td><td>", out);
			out_html_escape(out, l->rows[i].version, SIZE_MAX);
		}
		fprintf(out, "</td><td>%llu</td></tr>\n", (unsigned long long)l->rows[i].hosts);
	}
	if (l->other > 0)
		fprintf(out, "<tr><td>(other)</td>%s<td>%llu</td></tr>\n", ver ? "<td></td>" : "",
			(unsigned long long)l->other);
	fputs("</table>\n", out);
}

void rep_sw_html(const struct rep_sw *sw, FILE *out)
{
	html_list(out, "Cleartext-login hosts by software", &sw->clear_product, false);
	html_list(out, "Cleartext-login hosts by software version", &sw->clear_version, true);
	html_list(out, "STARTTLS-injection-vulnerable hosts by software", &sw->inject_product,
		  false);
}
