/* diff.c — two censuses compared service by service and host by host.
 *
 * Method: each census is read once (out_results_each), every record turned
 * into a 24-byte struct diff_svc and fed to a bounded external sort
 * (diff_sort.c) in a work directory. The two sorted streams are then walked
 * in lockstep by (address, port), one address at a time: a port only in the
 * new census appeared, only in the old one disappeared, in both it is
 * classified by out_diff_classify(). The ports of one address are folded
 * into a host summary on each side (out_diff_fold) and the host is
 * classified by the same rule. Memory: the sort buffer while reading, then
 * two merge streams; the only other index is the per-ASN table (distinct
 * networks, bounded by DIFF_NETS_MAX) and fixed per-country arrays. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/ipv4.h"
#include "output/diff.h"
#include "output/json.h"
#include "output/record.h"
#include "output/results.h"

#define DIFF_NETS_MAX (1u << 20) /* distinct ASNs tracked; more count as "other" */
#define DIFF_MEM_DFLT (16u << 20)

static const char *const change_names[DIFF_CHANGES] = {"unchanged", "improved", "regressed",
						       "mixed",	    "appeared", "disappeared"};
static const char *const reason_names[DIFF_REASONS] = {
    "posture_up",     "posture_down", "cleartext_closed", "cleartext_opened",
    "tls1_0_dropped", "tls1_0_added", "tls1_1_dropped",	  "tls1_1_added"};

const char *out_diff_change_name(enum diff_change c)
{
	return (unsigned)c < DIFF_CHANGES ? change_names[c] : "?";
}

const char *out_diff_reason_name(unsigned bit_index)
{
	return bit_index < DIFF_REASONS ? reason_names[bit_index] : "?";
}

/* Rank of a posture, higher is safer; -1 when unknown (not compared). */
static int posture_rank(uint8_t p)
{
	switch (p) {
	case MC_POSTURE_NO_TLS:
		return 0;
	case MC_POSTURE_STARTTLS_OPTIONAL:
		return 1;
	case MC_POSTURE_STARTTLS_REQUIRED:
	case MC_POSTURE_IMPLICIT_TLS:
		return 2;
	default:
		return -1;
	}
}

/* A yes/no that is bad when yes: measured twice and changed. */
static void tri_change(uint8_t old, uint8_t new, unsigned fixed, unsigned broke, unsigned *r)
{
	if (old == MC_TRI_YES && new == MC_TRI_NO)
		*r |= fixed;
	else if (old == MC_TRI_NO && new == MC_TRI_YES)
		*r |= broke;
}

enum diff_change out_diff_classify(const struct diff_svc *old, const struct diff_svc *new,
				   unsigned *reasons)
{
	int a = posture_rank(old->posture), b = posture_rank(new->posture);
	unsigned r = 0;

	if (a >= 0 && b >= 0 && a != b)
		r |= b > a ? DIFF_R_POSTURE_UP : DIFF_R_POSTURE_DOWN;
	tri_change(old->cleartext, new->cleartext, DIFF_R_CLEARTEXT_CLOSED, DIFF_R_CLEARTEXT_OPENED,
		   &r);
	tri_change(old->tls10, new->tls10, DIFF_R_TLS10_DROPPED, DIFF_R_TLS10_ADDED, &r);
	tri_change(old->tls11, new->tls11, DIFF_R_TLS11_DROPPED, DIFF_R_TLS11_ADDED, &r);
	*reasons = r;
	unsigned better = r & (DIFF_R_POSTURE_UP | DIFF_R_CLEARTEXT_CLOSED | DIFF_R_TLS10_DROPPED |
			       DIFF_R_TLS11_DROPPED);
	unsigned worse = r & ~better;
	return better && worse ? DIFF_MIXED
	       : better	       ? DIFF_IMPROVED
	       : worse	       ? DIFF_REGRESSED
			       : DIFF_UNCHANGED;
}

static uint8_t tri_or(uint8_t acc, uint8_t v)
{
	if (acc == MC_TRI_YES || v == MC_TRI_YES)
		return MC_TRI_YES;
	return acc == MC_TRI_NO || v == MC_TRI_NO ? MC_TRI_NO : MC_TRI_UNKNOWN;
}

void out_diff_fold(struct diff_svc *host, const struct diff_svc *svc, bool first)
{
	if (first) {
		*host = *svc;
		return;
	}
	int a = posture_rank(host->posture), b = posture_rank(svc->posture);
	if (a < 0 || (b >= 0 && b < a))
		host->posture = svc->posture;
	host->cleartext = tri_or(host->cleartext, svc->cleartext);
	host->tls10 = tri_or(host->tls10, svc->tls10);
	host->tls11 = tri_or(host->tls11, svc->tls11);
	if (host->cc[0] == '\0')
		memcpy(host->cc, svc->cc, 2);
	if (host->asn == 0)
		host->asn = svc->asn;
}

static uint8_t tri_of(const struct out_json *v)
{
	return out_json_true(v) ? MC_TRI_YES : out_json_false(v) ? MC_TRI_NO : MC_TRI_UNKNOWN;
}

int out_diff_svc_from_json(const struct out_json *rec, struct diff_svc *svc)
{
	uint64_t port = out_json_u64(out_json_get(rec, "port"), 70000);
	const char *proto = out_json_str(out_json_get(rec, "proto"));
	const char *posture = out_json_str(out_json_get(rec, "posture"));
	const char *error = out_json_str(out_json_get(rec, "error"));
	const char *ip = out_json_str(out_json_get(rec, "ip"));

	memset(svc, 0, sizeof(*svc));
	if (rec->type != OUT_JSON_OBJECT || ip == NULL ||
	    mc_ipv4_parse(ip, strlen(ip), &svc->ip) != 0 || port > 65535 || proto == NULL)
		return -1;
	if (error != NULL && strncmp(error, "connect:", 8) == 0)
		return 1;
	svc->port = (uint16_t)port;
	for (int p = MC_PROTO_POP3; p <= MC_PROTO_IMAPS; p++)
		if (strcmp(proto, mc_proto_name((enum mc_proto)p)) == 0)
			svc->proto = (uint8_t)p;
	for (int p = 0; p < REP_POSTURES && posture != NULL; p++)
		if (strcmp(posture, mc_posture_name((enum mc_posture)p)) == 0)
			svc->posture = (uint8_t)p;
	svc->cleartext = tri_of(out_json_get(rec, "cleartext_login"));
	const struct out_json *vers = out_json_get(out_json_get(rec, "tls"), "versions");
	svc->tls10 = tri_of(out_json_get(vers, "tls1_0"));
	svc->tls11 = tri_of(out_json_get(vers, "tls1_1"));
	const char *cc = out_json_str(out_json_get(out_json_get(rec, "geo"), "country"));
	if (out_cc_index(cc) >= 0)
		memcpy(svc->cc, cc, 2);
	uint64_t asn = out_json_u64(out_json_get(out_json_get(rec, "asn"), "number"), 0);
	svc->asn = asn <= UINT32_MAX ? (uint32_t)asn : 0;
	return 0;
}

/* The per-ASN index: counts of changed hosts and the first organisation name. */
struct net_index {
	struct diff_net *slots;
	size_t cap, used;
	uint64_t other[DIFF_CHANGES];
};

static size_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	return x ^ (x >> 16);
}

static struct diff_net *net_get(struct net_index *ni, uint32_t asn)
{
	if (2 * (ni->used + 1) > ni->cap) {
		size_t ncap = ni->cap ? 2 * ni->cap : 1024;
		struct diff_net *n = ni->used >= DIFF_NETS_MAX ? NULL : calloc(ncap, sizeof(*n));
		if (n == NULL)
			return NULL;
		for (size_t i = 0; i < ni->cap; i++) {
			if (ni->slots[i].asn == 0)
				continue;
			size_t j = hash32(ni->slots[i].asn) & (ncap - 1);
			while (n[j].asn != 0)
				j = (j + 1) & (ncap - 1);
			n[j] = ni->slots[i];
		}
		free(ni->slots);
		ni->slots = n;
		ni->cap = ncap;
	}
	size_t j = hash32(asn) & (ni->cap - 1);
	while (ni->slots[j].asn != 0 && ni->slots[j].asn != asn)
		j = (j + 1) & (ni->cap - 1);
	if (ni->slots[j].asn == 0) {
		ni->slots[j].asn = asn;
		ni->used++;
	}
	return &ni->slots[j];
}

/* Reading one census into its sorter. */
struct reader {
	struct diff_sorter *sorter;
	struct diff_side *side;
	struct net_index *nets;
	char *err;
	size_t errlen;
};

static int on_record(void *ctx, const struct out_json *rec)
{
	struct reader *r = ctx;
	struct diff_svc svc;
	int kind = out_diff_svc_from_json(rec, &svc);

	if (kind < 0) {
		r->side->bad_lines++;
		return 0;
	}
	if (kind > 0) {
		r->side->unreachable++;
		return 0;
	}
	if (svc.asn != 0) {
		struct diff_net *n = net_get(r->nets, svc.asn);
		const char *org = out_json_str(out_json_get(out_json_get(rec, "asn"), "org"));
		if (n != NULL && n->org[0] == '\0' && org != NULL)
			snprintf(n->org, sizeof(n->org), "%s", org);
	}
	return diff_sorter_put(r->sorter, &svc, r->err, r->errlen) == 0 ? 0 : -EIO;
}

static void on_bad_line(void *ctx)
{
	((struct reader *)ctx)->side->bad_lines++;
}

static int read_census(const char *dir, struct reader *r, char *err, size_t errlen)
{
	static const struct out_results_cb cb = {.record = on_record, .bad_line = on_bad_line};
	char why[512] = "";
	r->err = why;
	r->errlen = sizeof(why);
	int rc = out_results_each(dir, &cb, r, NULL, err, errlen);
	if (rc == 0)
		rc = diff_sorter_finish(r->sorter, err, errlen);
	else if (why[0] != '\0')
		snprintf(err, errlen, "%s: %s", dir, why);
	return rc;
}

/* One sorted census, duplicates of an (address, port) dropped. */
struct stream {
	struct diff_sorter *sorter;
	struct diff_side *side;
	struct diff_svc head;
	bool live;
	int error;
};

static void stream_next(struct stream *s)
{
	struct diff_svc prev = s->head;
	bool had = s->live;

	for (;;) {
		int rc = diff_sorter_next(s->sorter, &s->head);
		if (rc < 0)
			s->error = rc;
		s->live = rc == 1;
		if (s->live && had && s->head.ip == prev.ip && s->head.port == prev.port) {
			s->side->duplicates++;
			continue;
		}
		return;
	}
}

struct walker {
	struct diff_stats *st;
	struct net_index *nets;
	FILE *list;
};

static void list_change(FILE *list, const char *scope, uint32_t ip, int port, enum diff_change c,
			unsigned reasons, const struct diff_svc *o, const struct diff_svc *n)
{
	if (list == NULL || c == DIFF_UNCHANGED)
		return;
	fprintf(list, "{\"scope\":\"%s\",\"ip\":\"%u.%u.%u.%u\",", scope, ip >> 24,
		(ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	if (port >= 0)
		fprintf(list, "\"port\":%d,", port);
	fprintf(list, "\"change\":\"%s\",\"reasons\":[", out_diff_change_name(c));
	for (unsigned b = 0, first = 1; b < DIFF_REASONS; b++)
		if (reasons & (1u << b)) {
			fprintf(list, "%s\"%s\"", first ? "" : ",", out_diff_reason_name(b));
			first = 0;
		}
	fprintf(list, "],\"old_posture\":");
	fprintf(list, o ? "\"%s\"" : "null", o ? mc_posture_name((enum mc_posture)o->posture) : "");
	fprintf(list, ",\"new_posture\":");
	fprintf(list, n ? "\"%s\"" : "null", n ? mc_posture_name((enum mc_posture)n->posture) : "");
	fprintf(list, "}\n");
}

static void count_reasons(uint64_t *counts, unsigned reasons)
{
	for (unsigned b = 0; b < DIFF_REASONS; b++)
		counts[b] += (reasons >> b) & 1;
}

static void service_change(struct walker *w, const struct diff_svc *o, const struct diff_svc *n)
{
	unsigned reasons = 0;
	enum diff_change c = o == NULL	 ? DIFF_APPEARED
			     : n == NULL ? DIFF_DISAPPEARED
					 : out_diff_classify(o, n, &reasons);
	const struct diff_svc *any = n ? n : o;

	w->st->svc[c]++;
	count_reasons(w->st->svc_reason, reasons);
	w->st->posture[o ? 1 + o->posture % REP_POSTURES : 0]
		      [n ? 1 + n->posture % REP_POSTURES : 0]++;
	list_change(w->list, "service", any->ip, any->port, c, reasons, o, n);
}

static void side_host(struct diff_side *side, const struct diff_svc *h)
{
	side->hosts++;
	side->hosts_no_tls += h->posture == MC_POSTURE_NO_TLS;
	side->hosts_cleartext += h->cleartext == MC_TRI_YES;
	side->hosts_obsolete += h->tls10 == MC_TRI_YES || h->tls11 == MC_TRI_YES;
}

static void host_change(struct walker *w, const struct diff_svc *o, const struct diff_svc *n)
{
	unsigned reasons = 0;
	enum diff_change c = o == NULL	 ? DIFF_APPEARED
			     : n == NULL ? DIFF_DISAPPEARED
					 : out_diff_classify(o, n, &reasons);
	const struct diff_svc *where = n && n->cc[0] ? n : o && o->cc[0] ? o : n ? n : o;
	char cc[3] = {where->cc[0], where->cc[1], 0};
	int i = out_cc_index(cc);

	w->st->hosts[c]++;
	count_reasons(w->st->host_reason, reasons);
	w->st->host_posture[o ? 1 + o->posture % REP_POSTURES : 0]
			   [n ? 1 + n->posture % REP_POSTURES : 0]++;
	if (i >= 0)
		w->st->cc[i][c]++;
	else
		w->st->no_cc[c]++;
	uint32_t asn = n && n->asn ? n->asn : o ? o->asn : 0;
	struct diff_net *net = asn ? net_get(w->nets, asn) : NULL;
	if (net != NULL)
		net->n[c]++;
	else if (asn != 0)
		w->nets->other[c]++;
	list_change(w->list, "host", where->ip, -1, c, reasons, o, n);
}

/* Every port of the lowest address at the heads of the two streams. */
static void walk_host(struct walker *w, struct stream *o, struct stream *n)
{
	uint32_t ip = !o->live			? n->head.ip
		      : !n->live		? o->head.ip
		      : o->head.ip < n->head.ip ? o->head.ip
						: n->head.ip;
	struct diff_svc ho, hn;
	bool have_o = false, have_n = false;

	for (;;) {
		bool to = o->live && o->head.ip == ip, tn = n->live && n->head.ip == ip;
		if (!to && !tn)
			break;
		if (to && tn && o->head.port != n->head.port) {
			to = o->head.port < n->head.port;
			tn = !to;
		}
		service_change(w, to ? &o->head : NULL, tn ? &n->head : NULL);
		if (to) {
			out_diff_fold(&ho, &o->head, !have_o);
			have_o = true;
			o->side->services++;
			stream_next(o);
		}
		if (tn) {
			out_diff_fold(&hn, &n->head, !have_n);
			have_n = true;
			n->side->services++;
			stream_next(n);
		}
	}
	if (have_o)
		side_host(o->side, &ho);
	if (have_n)
		side_host(n->side, &hn);
	host_change(w, have_o ? &ho : NULL, have_n ? &hn : NULL);
}

static uint64_t net_changed(const struct diff_net *n)
{
	uint64_t sum = 0;

	for (int c = DIFF_IMPROVED; c < DIFF_CHANGES; c++)
		sum += n->n[c];
	return sum;
}

/* The DIFF_NET_TOP networks with the most changed hosts (then lowest ASN). */
static void top_networks(struct diff_stats *st, const struct net_index *ni)
{
	st->networks = ni->used;
	for (size_t i = 0; i < ni->cap; i++) {
		const struct diff_net *e = &ni->slots[i];
		uint64_t v = net_changed(e);
		if (e->asn == 0 || v == 0)
			continue;
		size_t k = st->nnets < DIFF_NET_TOP ? st->nnets++ : DIFF_NET_TOP;
		while (k > 0 &&
		       (net_changed(&st->nets[k - 1]) < v ||
			(net_changed(&st->nets[k - 1]) == v && st->nets[k - 1].asn > e->asn))) {
			if (k < DIFF_NET_TOP)
				st->nets[k] = st->nets[k - 1];
			k--;
		}
		if (k < DIFF_NET_TOP)
			st->nets[k] = *e;
	}
}

static int make_workdir(const struct out_diff_opts *opts, char *path, size_t cap, char *err,
			size_t errlen)
{
	const char *base = opts->workdir      ? opts->workdir
			   : getenv("TMPDIR") ? getenv("TMPDIR")
					      : "/tmp";

	snprintf(path, cap, "%s/mailcensus-diff-XXXXXX", base);
	if (mkdtemp(path) == NULL) {
		int e = errno;
		snprintf(err, errlen, "work directory %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

int out_diff_run(const char *old_dir, const char *new_dir, const struct out_diff_opts *opts,
		 struct diff_stats *st, char *err, size_t errlen)
{
	struct net_index nets = {0};
	struct stream o = {.side = &st->old}, n = {.side = &st->new};
	char work[REP_PATH_LEN];
	size_t mem = opts->mem_bytes ? opts->mem_bytes : DIFF_MEM_DFLT;
	int rc;

	memset(st, 0, sizeof(*st));
	snprintf(st->old_dir, sizeof(st->old_dir), "%s", old_dir);
	snprintf(st->new_dir, sizeof(st->new_dir), "%s", new_dir);
	st->mem_bytes = mem;
	rc = make_workdir(opts, work, sizeof(work), err, errlen);
	if (rc != 0)
		return rc;
	rc = diff_sorter_new(&o.sorter, work, "old", mem, err, errlen);
	if (rc == 0)
		rc = read_census(
		    old_dir, &(struct reader){.sorter = o.sorter, .side = &st->old, .nets = &nets},
		    err, errlen);
	if (rc == 0)
		rc = diff_sorter_new(&n.sorter, work, "new", mem, err, errlen);
	if (rc == 0)
		rc = read_census(
		    new_dir, &(struct reader){.sorter = n.sorter, .side = &st->new, .nets = &nets},
		    err, errlen);
	if (rc == 0) {
		struct walker w = {.st = st, .nets = &nets, .list = opts->list};
		uint64_t recs;
		stream_next(&o);
		stream_next(&n);
		while (o.live || n.live)
			walk_host(&w, &o, &n);
		if (o.error || n.error) {
			rc = o.error ? o.error : n.error;
			snprintf(err, errlen, "reading a sorted run: %s", strerror(-rc));
		}
		diff_sorter_stats(o.sorter, &recs, &st->old.runs, &st->old.passes);
		diff_sorter_stats(n.sorter, &recs, &st->new.runs, &st->new.passes);
		top_networks(st, &nets);
	}
	diff_sorter_free(o.sorter);
	diff_sorter_free(n.sorter);
	rmdir(work);
	free(nets.slots);
	return rc;
}
