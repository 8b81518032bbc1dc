/* report.c — aggregate a results directory into the census numbers.
 *
 * One pass over every shard the manifest lists (or, without a manifest,
 * every shard-*.ndjson[.zst] in the directory). Services (address+port)
 * are counted as records arrive; hosts need de-duplication, so each
 * distinct address gets one slot in an open-addressing hash table holding
 * the bit set of (port, proto) rows it answered on, the postures it showed,
 * and whether any of its ports took a cleartext login (and whether the login
 * probe measured it, or only the capability list said so) or TLS 1.0/1.1. Host
 * counts per row, per posture and the top countries and networks of
 * cleartext-login hosts are read off that table at the end; countries are
 * counted in a 26x26 array, networks in a second small hash table keyed by
 * ASN that also keeps the first organisation name seen.
 *
 * Several directories (one per shard of a census run as a Slurm array)
 * feed the same collector, so an address seen in two of them is still one
 * host; their manifests merge into one run: the earliest start, the latest
 * finish, complete only when every directory is, the first error, and each
 * database's attribution once. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/ipv4.h"
#include "output/json.h"
#include "output/manifest.h"
#include "output/record.h"
#include "output/report.h"
#include "output/results.h"

struct host {
	uint32_t ip;
	bool used, cleartext, cleartext_behaviour, tls10, tls11, ssl2, ssl3;
	uint8_t legacy;	  /* bit per mc_legacy family accepted by a service */
	uint8_t postures; /* bit per enum mc_posture */
	char cc[3];
	uint32_t asn;
	uint64_t rows; /* bit per st->rows index */
};

struct network {
	uint32_t asn; /* 0 = free slot */
	uint64_t hosts, total;
	char org[REP_ORG_LEN];
};

struct collector {
	struct rep_stats *st;
	struct host *hosts;
	size_t hcap, hused;
	struct network *nets;
	size_t ncap, nused;
	bool no_manifest; /* a directory without manifest.json */
};

static size_t hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return x;
}

static int hosts_grow(struct collector *c)
{
	size_t ncap = c->hcap ? 2 * c->hcap : 4096;
	struct host *n = calloc(ncap, sizeof(*n));

	if (n == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->hcap; i++) {
		if (!c->hosts[i].used)
			continue;
		size_t j = hash32(c->hosts[i].ip) & (ncap - 1);
		while (n[j].used)
			j = (j + 1) & (ncap - 1);
		n[j] = c->hosts[i];
	}
	free(c->hosts);
	c->hosts = n;
	c->hcap = ncap;
	return 0;
}

static struct host *host_get(struct collector *c, uint32_t ip)
{
	if (2 * (c->hused + 1) > c->hcap && hosts_grow(c) != 0)
		return NULL;
	size_t j = hash32(ip) & (c->hcap - 1);
	while (c->hosts[j].used && c->hosts[j].ip != ip)
		j = (j + 1) & (c->hcap - 1);
	if (!c->hosts[j].used) {
		c->hosts[j].used = true;
		c->hosts[j].ip = ip;
		c->hused++;
	}
	return &c->hosts[j];
}

static struct network *net_get(struct collector *c, uint32_t asn)
{
	if (2 * (c->nused + 1) > c->ncap) {
		size_t ncap = c->ncap ? 2 * c->ncap : 1024;
		struct network *n = calloc(ncap, sizeof(*n));
		if (n == NULL)
			return NULL;
		for (size_t i = 0; i < c->ncap; i++) {
			if (c->nets[i].asn == 0)
				continue;
			size_t j = hash32(c->nets[i].asn) & (ncap - 1);
			while (n[j].asn != 0)
				j = (j + 1) & (ncap - 1);
			n[j] = c->nets[i];
		}
		free(c->nets);
		c->nets = n;
		c->ncap = ncap;
	}
	size_t j = hash32(asn) & (c->ncap - 1);
	while (c->nets[j].asn != 0 && c->nets[j].asn != asn)
		j = (j + 1) & (c->ncap - 1);
	if (c->nets[j].asn == 0) {
		c->nets[j].asn = asn;
		c->nused++;
	}
	return &c->nets[j];
}

static int parse_ip(const char *s, uint32_t *ip)
{
	return s == NULL ? -1 : mc_ipv4_parse(s, strlen(s), ip);
}

static int posture_index(const char *p)
{
	for (int i = 0; i < REP_POSTURES; i++)
		if (p != NULL && strcmp(p, mc_posture_name((enum mc_posture)i)) == 0)
			return i;
	return 0;
}

/* Index of the (port, proto) row, adding it; -1 when the table is full. */
static int row_index(struct rep_stats *st, uint16_t port, const char *proto)
{
	for (size_t i = 0; i < st->nrows; i++)
		if (st->rows[i].port == port && strcmp(st->rows[i].proto, proto) == 0)
			return (int)i;
	if (st->nrows == REP_ROWS_MAX)
		return -1;
	struct rep_row *r = &st->rows[st->nrows];
	r->port = port;
	snprintf(r->proto, sizeof(r->proto), "%s", proto);
	return (int)st->nrows++;
}

static void count_tls(struct rep_stats *st, struct host *h, const struct out_json *rec)
{
	static const char *const names[REP_VERSIONS] = {"tls1_0", "tls1_1", "tls1_2", "tls1_3"};
	const struct out_json *tls = out_json_get(rec, "tls");
	const struct out_json *vers = out_json_get(tls, "versions");
	const struct out_json *cert = out_json_get(tls, "cert");

	for (int i = 0; i < REP_VERSIONS; i++) {
		const struct out_json *v = out_json_get(vers, names[i]);
		if (out_json_true(v))
			st->ver_yes[i]++;
		else if (out_json_false(v))
			st->ver_no[i]++;
		else
			st->ver_unknown[i]++;
	}
	if (out_json_true(out_json_get(vers, "tls1_0")))
		h->tls10 = true;
	if (out_json_true(out_json_get(vers, "tls1_1")))
		h->tls11 = true;
	if (out_json_true(out_json_get(vers, "ssl2")))
		h->ssl2 = true;
	if (out_json_true(out_json_get(vers, "ssl3")))
		h->ssl3 = true;
	for (int f = 0; f < MC_LEGACY_COUNT; f++)
		if (out_json_true(out_json_get(out_json_get(tls, "legacy"),
					       mc_legacy_name((enum mc_legacy)f))))
			h->legacy |= (uint8_t)(1u << f);
	if (out_json_true(out_json_get(rec, "tls_obsolete")))
		st->svc_obsolete++;
	if (cert == NULL || cert->type != OUT_JSON_OBJECT)
		return;
	st->certs++;
	st->cert_expired += out_json_true(out_json_get(cert, "expired"));
	st->cert_self_signed += out_json_true(out_json_get(cert, "self_signed"));
	st->cert_invalid_chain += out_json_false(out_json_get(cert, "chain_valid"));
}

static int count_record(struct collector *c, const struct out_json *rec)
{
	struct rep_stats *st = c->st;
	uint32_t ip;
	uint64_t port = out_json_u64(out_json_get(rec, "port"), 70000);
	const char *proto = out_json_str(out_json_get(rec, "proto"));

	if (rec->type != OUT_JSON_OBJECT || parse_ip(out_json_str(out_json_get(rec, "ip")), &ip) ||
	    port > 65535 || proto == NULL) {
		st->bad_lines++;
		return 0;
	}
	st->targets++;
	const char *error = out_json_str(out_json_get(rec, "error"));
	if (error != NULL && strncmp(error, "connect:", 8) == 0) {
		st->unreachable++;
		return 0;
	}
	struct host *h = host_get(c, ip);
	if (h == NULL)
		return -ENOMEM;
	st->records++;
	int row = row_index(st, (uint16_t)port, proto);
	if (row < 0)
		st->other_rows++;
	else
		st->rows[row].services++, h->rows |= 1ull << row;
	int p = posture_index(out_json_str(out_json_get(rec, "posture")));
	st->svc_posture[p]++;
	h->postures |= (uint8_t)(1u << p);
	if (out_json_true(out_json_get(rec, "cleartext_login"))) {
		const char *ev = out_json_str(out_json_get(rec, "cleartext_login_evidence"));

		st->svc_cleartext++;
		h->cleartext = true;
		if (ev != NULL && strcmp(ev, "behaviour") == 0) {
			st->svc_cleartext_behaviour++;
			h->cleartext_behaviour = true;
		}
	}
	const struct out_json *stls = out_json_get(rec, "starttls");
	st->starttls_advertised += out_json_true(out_json_get(stls, "advertised"));
	st->starttls_accepted += out_json_true(out_json_get(stls, "accepted"));
	st->starttls_injection += out_json_true(out_json_get(stls, "injection"));
	count_tls(st, h, rec);
	if (error != NULL)
		st->errors++;
	const char *cc = out_json_str(out_json_get(out_json_get(rec, "geo"), "country"));
	if (cc != NULL && strlen(cc) == 2)
		memcpy(h->cc, cc, 3);
	const struct out_json *asn = out_json_get(rec, "asn");
	uint64_t num = out_json_u64(out_json_get(asn, "number"), 0);
	if (num > 0 && num <= UINT32_MAX) {
		h->asn = (uint32_t)num;
		struct network *n = net_get(c, h->asn);
		const char *org = out_json_str(out_json_get(asn, "org"));
		if (n == NULL)
			return -ENOMEM;
		if (n->org[0] == '\0' && org != NULL)
			snprintf(n->org, sizeof(n->org), "%s", org);
	}
	return 0;
}

/* Attribution of one database: its SOURCES.json entry (scripts/fetch-geo-data),
 * else its type and build date from the manifest. */
static void add_attribution(struct rep_stats *st, const struct out_json *db)
{
	const char *path = out_json_str(out_json_get(db, "path"));
	const char *type = out_json_str(out_json_get(db, "database_type"));
	const char *built = out_json_str(out_json_get(db, "build_date"));
	char *line = st->attribution[st->nattrib];

	if (st->nattrib == REP_ATTRIB_MAX || path == NULL)
		return;
	snprintf(line, REP_ATTRIB_LEN, "%s data: %s, built %s",
		 out_json_str(out_json_get(db, "role")) ?: "?", type ?: "unknown database",
		 built ?: "?");
	const char *slash = strrchr(path, '/');
	char dir[512];
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct out_json_arena a = {0};
	struct out_json *src;
	char err[128];
	if (dirfd >= 0 && out_json_load(dirfd, "SOURCES.json", &a, &src, err, sizeof(err)) == 0) {
		const struct out_json *files = out_json_get(src, "files");
		for (const struct out_json *f = files ? files->child : NULL; f; f = f->next) {
			const char *file = out_json_str(out_json_get(f, "file"));
			const char *text = out_json_str(out_json_get(f, "attribution"));
			if (file && text && strcmp(file, slash ? slash + 1 : path) == 0)
				snprintf(line, REP_ATTRIB_LEN, "%s (version %s, built %s)", text,
					 out_json_str(out_json_get(f, "version")) ?: "?",
					 built ?: "?");
		}
	}
	if (dirfd >= 0 && st->map_path[0] == '\0' &&
	    faccessat(dirfd, "world-map.tsv", R_OK, 0) == 0)
		if (snprintf(st->map_path, sizeof(st->map_path), "%s/world-map.tsv", dir) >=
		    (int)sizeof(st->map_path))
			st->map_path[0] = '\0';
	if (type != NULL && strncmp(type, "mailcensus-demo", 15) == 0)
		st->demo_geo = true;
	if (dirfd >= 0)
		close(dirfd);
	out_json_arena_free(&a);
	for (size_t i = 0; i < st->nattrib; i++)
		if (strcmp(st->attribution[i], line) == 0)
			return; /* the same database named by another directory */
	st->nattrib++;
}

static void copy_str(char *dst, size_t cap, const struct out_json *v)
{
	snprintf(dst, cap, "%s", out_json_str(v) ?: "");
}

/* Read the manifest's metadata, merged with any read before; the shard list
 * stays in `m` for the caller. */
static void read_manifest(struct rep_stats *st, const struct out_json *m)
{
	const char *started = out_json_str(out_json_get(m, "started")) ?: "";
	const char *finished = out_json_str(out_json_get(m, "finished")) ?: "";
	bool first = !st->have_manifest;

	if (first) {
		copy_str(st->version, sizeof(st->version), out_json_get(m, "mailcensus_version"));
		copy_str(st->command_line, sizeof(st->command_line),
			 out_json_get(m, "command_line"));
	}
	if (first || strcmp(started, st->started) < 0)
		snprintf(st->started, sizeof(st->started), "%s", started);
	if (first || strcmp(finished, st->finished) > 0)
		snprintf(st->finished, sizeof(st->finished), "%s", finished);
	if (st->error[0] == '\0')
		copy_str(st->error, sizeof(st->error), out_json_get(m, "error"));
	bool complete = out_manifest_state(m) == OUT_RUN_COMPLETE;
	if (first || (st->complete && !complete))
		out_manifest_describe(m, st->state, sizeof(st->state));
	st->complete = (first || st->complete) && complete;
	st->enriched = (first || st->enriched) && out_json_true(out_json_get(m, "enriched"));
	st->have_manifest = true;
	const struct out_json *dbs = out_json_get(m, "databases");
	for (const struct out_json *d = dbs ? dbs->child : NULL; d != NULL; d = d->next)
		add_attribution(st, d);
}

static int top_cmp(const void *a, const void *b)
{
	const struct rep_top *x = a, *y = b;

	if (x->hosts != y->hosts)
		return x->hosts < y->hosts ? 1 : -1;
	return x->asn != y->asn ? (x->asn < y->asn ? -1 : 1) : strcmp(x->country, y->country);
}

/* Insert into a top-N list kept sorted (descending). */
static void top_insert(struct rep_top *top, size_t *n, const struct rep_top *e)
{
	if (*n == REP_TOP && top_cmp(e, &top[REP_TOP - 1]) >= 0)
		return;
	size_t i = *n < REP_TOP ? (*n)++ : REP_TOP - 1;
	while (i > 0 && top_cmp(e, &top[i - 1]) < 0) {
		top[i] = top[i - 1];
		i--;
	}
	top[i] = *e;
}

/* Host-level numbers and the top lists from the host table. */
static void finish(struct collector *c)
{
	struct rep_stats *st = c->st;

	st->hosts = c->hused;
	for (size_t i = 0; i < c->ncap; i++)
		c->nets[i].hosts = c->nets[i].total = 0;
	for (size_t i = 0; i < c->hcap; i++) {
		const struct host *h = &c->hosts[i];
		if (!h->used)
			continue;
		for (size_t r = 0; r < st->nrows; r++)
			st->rows[r].hosts += (h->rows >> r) & 1;
		for (int p = 0; p < REP_POSTURES; p++)
			st->host_posture[p] += (h->postures >> p) & 1;
		st->hosts_tls10 += h->tls10;
		st->hosts_tls11 += h->tls11;
		st->hosts_ssl2 += h->ssl2;
		st->hosts_ssl3 += h->ssl3;
		st->hosts_legacy += h->legacy != 0;
		for (int f = 0; f < MC_LEGACY_COUNT; f++)
			st->hosts_legacy_fam[f] += (h->legacy >> f) & 1;
		st->hosts_obsolete += h->tls10 || h->tls11 || h->ssl2 || h->ssl3;
		int cc = out_cc_index(h->cc);
		struct network *n = h->asn ? net_get(c, h->asn) : NULL;
		if (cc >= 0)
			st->cc_hosts[cc]++;
		if (n != NULL)
			n->total++;
		if (!h->cleartext)
			continue;
		st->hosts_cleartext++;
		st->hosts_cleartext_behaviour += h->cleartext_behaviour;
		if (cc >= 0)
			st->cc_cleartext[cc]++;
		else
			st->cleartext_no_country++;
		if (n != NULL)
			n->hosts++;
		else
			st->cleartext_no_asn++;
	}
	for (int i = 0; i < REP_CC; i++) {
		struct rep_top e = {.country = {(char)('A' + i / 26), (char)('A' + i % 26), 0},
				    .hosts = st->cc_cleartext[i],
				    .total = st->cc_hosts[i]};
		if (e.hosts != 0)
			top_insert(st->top_countries, &st->ntop_countries, &e);
	}
	for (size_t i = 0; i < c->ncap; i++) {
		if (c->nets[i].asn == 0 || c->nets[i].hosts == 0)
			continue;
		struct rep_top e = {
		    .asn = c->nets[i].asn, .hosts = c->nets[i].hosts, .total = c->nets[i].total};
		snprintf(e.org, sizeof(e.org), "%s", c->nets[i].org);
		top_insert(st->top_networks, &st->ntop_networks, &e);
	}
}

static int on_manifest(void *ctx, const struct out_json *m)
{
	read_manifest(((struct collector *)ctx)->st, m);
	return 0;
}

static int on_record(void *ctx, const struct out_json *rec)
{
	return count_record(ctx, rec);
}

static void on_bad_line(void *ctx)
{
	((struct collector *)ctx)->st->bad_lines++;
}

static void on_shard(void *ctx)
{
	((struct collector *)ctx)->st->shards++;
}

int out_report_collect(const char *const *dirs, size_t ndirs, struct rep_stats *st, char *err,
		       size_t errlen)
{
	struct collector c = {.st = st};
	int rc = 0;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < ndirs && rc == 0; i++) {
		static const struct out_results_cb cb = {.manifest = on_manifest,
							 .record = on_record,
							 .bad_line = on_bad_line,
							 .shard = on_shard};
		bool no_manifest = false;
		rc = out_results_each(dirs[i], &cb, &c, &no_manifest, err, errlen);
		c.no_manifest |= no_manifest;
		if (rc != 0 && ndirs > 1) {
			char why[384];
			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "%s: %s", dirs[i], why);
		}
	}
	if (rc == 0 && st->have_manifest && c.no_manifest) {
		st->complete = false;
		if (st->error[0] == '\0')
			snprintf(st->error, sizeof(st->error), "a directory has no manifest.json");
	}
	if (rc == 0)
		finish(&c);
	free(c.hosts);
	free(c.nets);
	return rc;
}

void out_report_headline(const struct rep_stats *st, char *buf, size_t cap)
{
	snprintf(buf, cap, "%llu hosts offer POP3/IMAP without TLS; %llu accept TLS 1.0/1.1.",
		 (unsigned long long)st->host_posture[MC_POSTURE_NO_TLS],
		 (unsigned long long)st->hosts_obsolete);
}

int out_cc_index(const char *cc)
{
	if (cc == NULL || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' || cc[2] != '\0')
		return -1;
	return (cc[0] - 'A') * 26 + (cc[1] - 'A');
}

int out_report_format_parse(const char *name, enum out_report_format *fmt)
{
	static const char *const names[] = {"text", "json", "html"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*fmt = (enum out_report_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

int out_report_run(const char *const *dirs, size_t ndirs, enum out_report_format fmt,
		   const struct out_report_opts *opts, const char *outfile, char *err,
		   size_t errlen)
{
	struct rep_stats *st = calloc(1, sizeof(*st));
	FILE *out = stdout;
	int rc = -ENOMEM;

	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	rc = out_report_collect(dirs, ndirs, st, err, errlen);
	if (rc == 0 && opts != NULL && opts->map_path != NULL)
		snprintf(st->map_path, sizeof(st->map_path), "%s", opts->map_path);
	if (rc == 0 && outfile != NULL && (out = fopen(outfile, "w")) == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", outfile, strerror(errno));
	}
	if (rc == 0) {
		if (fmt == OUT_REPORT_TEXT) {
			out_report_text(st, out);
		} else if (fmt == OUT_REPORT_HTML) {
			out_report_html(st, out);
		} else {
			char *json = out_report_json(st);
			if (json != NULL)
				fputs(json, out);
			free(json);
		}
		if ((out != stdout ? fclose(out) : fflush(out)) != 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", outfile ? outfile : "stdout",
				 strerror(errno));
		}
	}
	free(st);
	return rc;
}
