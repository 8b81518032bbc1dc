/* bench_output.c — drive the output stage with synthetic records.
 *
 * A benchmark (records/s through enrichment + JSON encoding + shard writing
 * on one core, and lookups/s alone) and the test suite's way to make a
 * results directory without a network. Records are built once into a small
 * pool of realistic shapes (each port's posture, banners, capability lists,
 * certificates); only the address changes per record, so the figure is the
 * output stage's, not the generator's. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/splitmix.h"

#include "output/enrich.h"
#include "output/sink.h"

#define POOL 64

struct bench_opts {
	struct out_sink_config sink;
	uint64_t records, lookups, seed, variant;
	bool stdout_sink, whole_space, hostile, encode_only;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of this process: the figure that a loaded machine does not distort.
 */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void fill_tls(struct mc_record *r, int i)
{
	r->tls.present = true;
	strcpy(r->tls.version, i % 3 ? "TLSv1.3" : "TLSv1.2");
	strcpy(r->tls.cipher, i % 3 ? "TLS_AES_256_GCM_SHA384" : "ECDHE-RSA-AES128-GCM-SHA256");
	r->tls.tls1_0 = i % 5 == 0 ? MC_TRI_YES : MC_TRI_NO;
	r->tls.tls1_1 = i % 5 == 0 ? MC_TRI_YES : MC_TRI_NO;
	r->tls.tls1_2 = MC_TRI_YES;
	r->tls.tls1_3 = i % 3 ? MC_TRI_YES : MC_TRI_NO;
	r->tls_obsolete = i % 5 == 0 ? MC_TRI_YES : MC_TRI_NO;
	struct mc_cert *c = &r->tls.cert;
	c->present = true;
	snprintf(c->subject, sizeof(c->subject), "CN=mail%d.example.net", i);
	strcpy(c->issuer, i % 4 ? "CN=Example Issuing CA,O=Example" : c->subject);
	c->self_signed = i % 4 == 0;
	c->san_count = 2;
	snprintf(c->sans[0], sizeof(c->sans[0]), "DNS:mail%d.example.net", i);
	snprintf(c->sans[1], sizeof(c->sans[1]), "DNS:imap%d.example.net", i);
	c->not_before = 1767225600;
	c->not_after = i % 7 == 0 ? 1704067200 : 1798761600;
	c->expired = i % 7 == 0;
	strcpy(c->key_type, "RSA");
	c->key_bits = 2048;
	strcpy(c->sig_alg, "sha256WithRSAEncryption");
	for (int k = 0; k < 64; k++)
		c->sha256[k] = "0123456789abcdef"[(k * 7 + i) & 15];
	c->chain_len = 2;
	c->chain_valid = i % 4 != 0 && i % 7 != 0;
	if (!c->chain_valid)
		strcpy(c->chain_error,
		       i % 4 == 0 ? "self-signed certificate" : "certificate has expired");
}

static void fill_pool(struct mc_record *pool)
{
	static const uint16_t ports[4] = {110, 143, 993, 995};
	static const enum mc_proto protos[4] = {MC_PROTO_POP3, MC_PROTO_IMAP, MC_PROTO_IMAPS,
						MC_PROTO_POP3S};
	for (int i = 0; i < POOL; i++) {
		struct mc_record *r = &pool[i];
		memset(r, 0, sizeof(*r));
		r->port = ports[i % 4];
		r->proto = protos[i % 4];
		r->time_us = 1795928673000000 + i;
		bool imap = r->proto == MC_PROTO_IMAP || r->proto == MC_PROTO_IMAPS;
		const char *b = imap ? "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID "
				       "ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready."
				     : "+OK Dovecot (Debian) ready.";
		r->banner_len = (uint16_t)strlen(b);
		memcpy(r->banner, b, r->banner_len);
		const char *caps[] = {"IMAP4rev1", "SASL-IR",  "ID",
				      "IDLE",	   "STARTTLS", "AUTH=PLAIN"};
		for (int k = 0; k < 6; k++)
			mc_caps_add(&r->caps_pre_tls, caps[k], strlen(caps[k]));
		int kind = i % 8;
		if (r->port >= 993) {
			r->posture = MC_POSTURE_IMPLICIT_TLS;
			r->cleartext_login = MC_TRI_NO;
			fill_tls(r, i);
		} else if (kind < 3) {
			r->posture = MC_POSTURE_NO_TLS;
			r->cleartext_login = MC_TRI_YES;
			r->starttls_advertised = MC_TRI_NO;
		} else {
			r->posture =
			    kind < 6 ? MC_POSTURE_STARTTLS_OPTIONAL : MC_POSTURE_STARTTLS_REQUIRED;
			r->cleartext_login = kind < 6 ? MC_TRI_YES : MC_TRI_NO;
			r->starttls_advertised = MC_TRI_YES;
			r->starttls_accepted = MC_TRI_YES;
			r->starttls_injection = kind == 5 ? MC_TRI_YES : MC_TRI_NO;
			fill_tls(r, i);
			r->caps_post_tls = r->caps_pre_tls;
		}
		/* two in three verdicts measured by the login probe, the rest from caps */
		r->cleartext_login_evidence =
		    r->port >= 993 || i % 3 != 0 ? MC_EVIDENCE_BEHAVIOUR : MC_EVIDENCE_CAPABILITY;
		if (r->port < 993 && i % 3 != 0) {
			r->login_steps = 1;
			r->login[0].cmd =
			    imap ? MC_LOGIN_CMD_IMAP_AUTH_PLAIN : MC_LOGIN_CMD_POP3_AUTH_PLAIN;
			r->login[0].outcome = r->cleartext_login == MC_TRI_YES
						  ? MC_LOGIN_ACCEPTED
						  : MC_LOGIN_REFUSED_TLS;
			const char *reply = r->cleartext_login == MC_TRI_YES
						? "+ "
						: "-ERR [AUTH] Authentication not allowed until "
						  "SSL/TLS is enabled.";
			r->login[0].reply_len = (uint16_t)strlen(reply);
			memcpy(r->login[0].reply, reply, r->login[0].reply_len);
		}
	}
}

/* Random bytes (any value but NUL) into a C string field. */
static void fill_random(uint64_t *st, char *dst, size_t cap)
{
	for (size_t i = 0; i + 1 < cap; i++)
		dst[i] = (char)(1 + mc_splitmix64(st) % 255);
	dst[cap - 1] = '\0';
}

/* Every server-supplied field of every pool record full of hostile bytes:
 * control characters, quotes, backslashes, invalid and truncated UTF-8. */
static void make_hostile(struct mc_record *pool)
{
	static const char nasty[] = "\"\\\x00\x01\x1f\x7f\xc0\xaf\xed\xa0\x80\xf4\x90\xe2\x82\xff";
	uint64_t st = 42;

	for (int i = 0; i < POOL; i++) {
		struct mc_record *r = &pool[i];
		for (size_t k = 0; k < MC_BANNER_MAX; k++)
			r->banner[k] = k % 3 ? (uint8_t)mc_splitmix64(&st)
					     : (uint8_t)nasty[k % (sizeof(nasty) - 1)];
		r->banner_len = MC_BANNER_MAX;
		r->banner_truncated = true;
		memset(&r->caps_pre_tls, 0, sizeof(r->caps_pre_tls));
		while (!r->caps_pre_tls.truncated) {
			char w[40];
			for (size_t k = 0; k < sizeof(w); k++)
				w[k] = (char)mc_splitmix64(&st);
			mc_caps_add(&r->caps_pre_tls, w, sizeof(w));
		}
		r->tls.present = true;
		fill_random(&st, r->tls.version, sizeof(r->tls.version));
		fill_random(&st, r->tls.cipher, sizeof(r->tls.cipher));
		r->tls.cert.present = true;
		fill_random(&st, r->tls.cert.subject, sizeof(r->tls.cert.subject));
		fill_random(&st, r->tls.cert.issuer, sizeof(r->tls.cert.issuer));
		r->tls.cert.san_count = MC_CERT_SANS_MAX;
		for (int k = 0; k < MC_CERT_SANS_MAX; k++)
			fill_random(&st, r->tls.cert.sans[k], sizeof(r->tls.cert.sans[k]));
		fill_random(&st, r->tls.cert.key_type, sizeof(r->tls.cert.key_type));
		fill_random(&st, r->tls.cert.sig_alg, sizeof(r->tls.cert.sig_alg));
		fill_random(&st, r->tls.cert.chain_error, sizeof(r->tls.cert.chain_error));
		fill_random(&st, r->error, sizeof(r->error));
	}
}

static const char usage[] =
    "usage: mc-bench-output [--records N] [--dir DIR | --stdout] [--geo-db F --asn-db F |\n"
    "                       --no-enrich] [--rotate-records N] [--rotate-bytes N] [--compress]\n"
    "                       [--lookups N] [--encode-only] [--whole-space] [--hostile] [--seed S]\n"
    "                       [--variant K]\n"
    "Writes N synthetic records (4 ports per host, addresses in 198.18.0.0/15, or\n"
    "anywhere with --whole-space) through the output sink and prints records/s;\n"
    "--lookups N also times N country+ASN lookups of random addresses; --hostile\n"
    "fills every server-supplied field with hostile bytes (for escaping tests);\n"
    "--encode-only times mc_record_to_json() alone; --variant K (K > 0) writes a later\n"
    "census of the same seed for `mailcensus diff`: 5%% of the hosts gone, 10%% with\n"
    "another shape (posture / TLS versions), and 5%% more hosts that are new.\n"
    "Exit status 1 when the sink fails (the reason is printed).\n";

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	static const struct option opts[] = {
	    {"records", required_argument, NULL, 'n'},
	    {"dir", required_argument, NULL, 'd'},
	    {"stdout", no_argument, NULL, 's'},
	    {"geo-db", required_argument, NULL, 'g'},
	    {"asn-db", required_argument, NULL, 'a'},
	    {"no-enrich", no_argument, NULL, 'N'},
	    {"rotate-records", required_argument, NULL, 'r'},
	    {"rotate-bytes", required_argument, NULL, 'b'},
	    {"compress", no_argument, NULL, 'z'},
	    {"lookups", required_argument, NULL, 'l'},
	    {"whole-space", no_argument, NULL, 'w'},
	    {"hostile", no_argument, NULL, 'H'},
	    {"encode-only", no_argument, NULL, 'E'},
	    {"seed", required_argument, NULL, 'S'},
	    {"variant", required_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	o->records = 1000000;
	o->seed = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->records = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			o->sink.dir = optarg;
			break;
		case 's':
			o->stdout_sink = true;
			break;
		case 'g':
			o->sink.geo_db = optarg;
			break;
		case 'a':
			o->sink.asn_db = optarg;
			break;
		case 'N':
			o->sink.no_enrich = true;
			break;
		case 'r':
			o->sink.rotate_records = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			o->sink.rotate_bytes = strtoull(optarg, NULL, 0);
			break;
		case 'z':
			o->sink.compress = true;
			break;
		case 'l':
			o->lookups = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			o->whole_space = true;
			break;
		case 'E':
			o->encode_only = true;
			break;
		case 'H':
			o->hostile = true;
			break;
		case 'S':
			o->seed = strtoull(optarg, NULL, 0);
			break;
		case 'V':
			o->variant = strtoull(optarg, NULL, 0);
			break;
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (optind != argc ||
	    (o->lookups == 0 && !o->encode_only && (o->sink.dir == NULL) == !o->stdout_sink)) {
		fputs(usage, stderr);
		return -1;
	}
	return 0;
}

static uint32_t rand_ip(uint64_t *st, bool whole)
{
	uint32_t r = (uint32_t)mc_splitmix64(st);

	return whole ? r : 0xc6120000u | (r & 0x1ffff);
}

static int bench_lookups(const struct bench_opts *o)
{
	struct out_db *geo = NULL, *asn = NULL;
	char err[512], cc[3], org[128];
	uint64_t st = o->seed, found = 0;
	uint32_t num;

	if (o->sink.geo_db == NULL || o->sink.asn_db == NULL) {
		fprintf(stderr, "--lookups needs --geo-db and --asn-db\n");
		return 2;
	}
	if (out_db_open(&geo, o->sink.geo_db, OUT_DB_GEO, err, sizeof(err)) != 0 ||
	    out_db_open(&asn, o->sink.asn_db, OUT_DB_ASN, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		out_db_close(geo);
		return 2;
	}
	double t0 = now_s(), c0 = cpu_s();
	for (uint64_t i = 0; i < o->lookups; i++) {
		uint32_t ip = rand_ip(&st, o->whole_space);
		out_db_country(geo, ip, cc);
		out_db_asn(asn, ip, &num, org, sizeof(org));
		found += cc[0] != '\0';
	}
	double dt = now_s() - t0, dc = cpu_s() - c0;
	printf("lookups: %" PRIu64 " country+ASN pairs in %.3f s = %.0f pairs/s (%.0f lookups/s); "
	       "%.3f CPU s = %.0f lookups per CPU second; %" PRIu64 " with a country\n",
	       o->lookups, dt, (double)o->lookups / dt, 2.0 * (double)o->lookups / dt, dc,
	       2.0 * (double)o->lookups / dc, found);
	out_db_close(geo);
	out_db_close(asn);
	return 0;
}

static int bench_encode(const struct bench_opts *o, struct mc_record *pool)
{
	static char line[MC_RECORD_JSON_MAX];
	uint64_t st = o->seed, bytes = 0;
	double t0 = now_s(), c0 = cpu_s();

	for (uint64_t i = 0; i < o->records; i++) {
		struct mc_record *r = &pool[i % POOL];
		r->ip = rand_ip(&st, o->whole_space);
		bytes += mc_record_to_json(r, line, sizeof(line));
	}
	double dt = now_s() - t0, dc = cpu_s() - c0;
	printf("encode: %" PRIu64 " records (%.0f bytes each) in %.3f s = %.0f records/s; %.3f CPU "
	       "s = %.0f records per CPU second\n",
	       o->records, (double)bytes / (double)o->records, dt, (double)o->records / dt, dc,
	       (double)o->records / dc);
	return 0;
}

int main(int argc, char **argv)
{
	static struct mc_record pool[POOL];
	struct bench_opts o = {0};
	struct out_sink *sink;
	char err[1024];
	uint64_t st;

	if (parse_opts(argc, argv, &o) != 0)
		return 2;
	if (o.lookups > 0)
		return bench_lookups(&o);
	fill_pool(pool);
	if (o.hostile)
		make_hostile(pool);
	if (o.encode_only)
		return bench_encode(&o, pool);
	if (out_sink_open(&sink, &o.sink, err, sizeof(err)) != 0) {
		fprintf(stderr, "mc-bench-output: %s\n", err);
		return 2;
	}
	st = o.seed;
	uint32_t ip = 0;
	int rc = 0;
	double t0 = now_s(), c0 = cpu_s();
	uint64_t extra = o.variant ? o.records / 20 / 4 * 4 : 0, vs = o.seed ^ 0xd1ff;
	for (uint64_t i = 0; i < o.records + extra && rc == 0; i++) {
		if (i % 4 == 0)
			ip = rand_ip(i < o.records ? &st : &vs, o.whole_space);
		unsigned shift = 0;
		if (o.variant != 0 && i < o.records) {
			uint64_t h = (i / 4) ^ (o.variant * 0x9e3779b97f4a7c15ull);
			unsigned roll = (unsigned)(mc_splitmix64(&h) % 100);
			if (roll < 5)
				continue; /* this host is gone */
			shift = roll < 15 ? 4 * (1 + roll % 3) : 0;
		}
		struct mc_record *r = &pool[(i / 4 * 4 + shift + i % 4) % POOL];
		r->ip = ip;
		rc = out_sink_put(sink, r);
	}
	if (rc != 0)
		fprintf(stderr, "mc-bench-output: %s\n", out_sink_strerror(sink));
	struct out_meta meta = {.command_line = "mc-bench-output", .seed = o.seed, .shards = 1};
	int crc = out_sink_close(sink, &meta, err, sizeof(err));
	double dt = now_s() - t0, dc = cpu_s() - c0;
	if (crc != 0) {
		fprintf(stderr, "mc-bench-output: %s\n", err);
		return 1;
	}
	if (!o.stdout_sink)
		printf("records: %" PRIu64 " in %.3f s = %.0f records/s; %.3f CPU s = %.0f records "
		       "per CPU second\n",
		       o.records, dt, (double)o.records / dt, dc, (double)o.records / dc);
	return 0;
}
