/* grab_opts.c — one table row per option of `mailcensus grab`: its name,
 * whether it takes a value, how to apply it, and its --help line. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/opts.h"
#include "cli/grab_opts.h"
#include "cli/sandbox.h"
#include "base/ipv6.h"
#include "probes/grab_budget.h"
#include "probes/software.h"
#include "probes/tls_dhguard.h"

#define GRAB_WORKERS_MAX 64

static int parse_uint(const char *val, unsigned long max, unsigned long *out, char *err,
		      size_t errlen)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || val[0] == '-' || v > max) {
		snprintf(err, errlen, "'%s' is not a number in 0..%lu", val, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Seconds, decimals allowed, to milliseconds (1 ms .. 1 h). */
static int parse_secs(const char *val, uint32_t *ms, char *err, size_t errlen)
{
	char *end;
	double s = strtod(val, &end);

	if (end == val || *end != '\0' || !(s >= 0.001 && s <= 3600.0)) {
		snprintf(err, errlen, "'%s' is not a duration in seconds (0.001..3600)", val);
		return -EINVAL;
	}
	*ms = (uint32_t)(s * 1000.0 + 0.5);
	return 0;
}

static int opt_output(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)e, (void)n;
	o->sink.dir = v;
	return 0;
}

static int opt_geo(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)e, (void)n;
	o->sink.geo_db = v;
	return 0;
}

static int opt_asn(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)e, (void)n;
	o->sink.asn_db = v;
	return 0;
}

static int opt_no_enrich(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)v, (void)e, (void)n;
	o->no_enrich_flag = true;
	return 0;
}

static int opt_compress(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)v, (void)e, (void)n;
	o->sink.compress = true;
	return 0;
}

/* A count with an optional k/M/G suffix (powers of 1000 for records,
 * 1024 for bytes). */
static int parse_size(const char *val, uint64_t unit, uint64_t *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	v = strtoull(val, &end, 10);
	if (*end == 'k' || *end == 'K')
		mul = unit, end++;
	else if (*end == 'M')
		mul = unit * unit, end++;
	else if (*end == 'G')
		mul = unit * unit * unit, end++;
	if (errno != 0 || end == val || *end != '\0' || val[0] == '-' || v == 0 ||
	    v > UINT64_MAX / mul) {
		snprintf(err, errlen, "'%s' is not a positive count (k/M/G suffix allowed)", val);
		return -EINVAL;
	}
	*out = v * mul;
	return 0;
}

static int opt_shard_records(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	return parse_size(v, 1000, &o->sink.rotate_records, e, n);
}

static int opt_shard_bytes(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	return parse_size(v, 1024, &o->sink.rotate_bytes, e, n);
}

/* A whole number in min..max into a 32-bit field; below min, msg is the
 * error. (The field is set only on success.) */
static int parse_bounded(const char *v, unsigned long min, unsigned long max, const char *msg,
			 uint32_t *out, char *e, size_t n)
{
	unsigned long x;
	int r = parse_uint(v, max, &x, e, n);

	if (r != 0)
		return r;
	if (x < min) {
		snprintf(e, n, "%s", msg);
		return -EINVAL;
	}
	*out = (uint32_t)x;
	return 0;
}

static int opt_seal_every(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;

	return parse_bounded(v, 1, 86400, "--seal-every must be at least 1 second",
			     &o->sink.seal_every_s, e, n);
}

static int opt_concurrency(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;

	return parse_bounded(v, 1, 200000, "--concurrency must be at least 1", &o->grab.concurrency,
			     e, n);
}

static int opt_connect_timeout(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	return parse_secs(v, &o->grab.connect_timeout_ms, e, n);
}

static int opt_read_timeout(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	return parse_secs(v, &o->grab.read_timeout_ms, e, n);
}

static int opt_timeout(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	return parse_secs(v, &o->grab.total_timeout_ms, e, n);
}

static int opt_max_dh_bits(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;

	return parse_bounded(v, 1024, 16384, "--max-dh-bits must be 1024..16384",
			     &o->grab.max_dh_bits, e, n);
}

static int opt_cpu_budget(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;

	return parse_bounded(v, 1, 600000, "--cpu-budget must be at least 1 ms",
			     &o->grab.cpu_budget_ms, e, n);
}

static int opt_rate(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	unsigned long x;
	int r = parse_uint(v, 10000000, &x, e, n);

	if (r != 0)
		return r;
	o->grab.rate = (uint32_t)x;
	return 0;
}

static int opt_ca_file(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)e, (void)n;
	o->grab.ca_file = v;
	return 0;
}

static int opt_contact(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;

	if (!probe_sw_contact_valid(v)) {
		snprintf(e, n, "--contact: 1..%d printable ASCII characters without '\"' or '\\'",
			 PROBE_CONTACT_MAX);
		return -EINVAL;
	}
	o->grab.contact = v;
	return 0;
}

static int opt_no_matrix(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)v, (void)e, (void)n;
	o->grab.tls_matrix = false;
	return 0;
}

static int opt_no_injection(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)v, (void)e, (void)n;
	o->grab.injection_test = false;
	return 0;
}

static int opt_jarm(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)v, (void)e, (void)n;
	o->grab.jarm = true;
	return 0;
}

static int opt_no_login_probe(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)v, (void)e, (void)n;
	o->grab.login_probe = false;
	return 0;
}

static int opt_workers(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	unsigned long x;
	int r = parse_uint(v, GRAB_WORKERS_MAX, &x, e, n);

	if (r != 0)
		return r;
	if (x == 0) {
		snprintf(e, n, "--grab-workers must be at least 1");
		return -EINVAL;
	}
	o->workers = (unsigned)x;
	return 0;
}

static int opt_user(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;

	if (v[0] == '\0') {
		snprintf(e, n, "--user: empty name");
		return -EINVAL;
	}
	o->user = v;
	return 0;
}

/* PORT=PROTO, e.g. 2143=imap; the first --port replaces the default map. */
static int opt_port(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	static const char *const names[] = {"", "pop3", "imap", "pop3s", "imaps"};
	const char *eq = strchr(v, '=');
	char num[8];
	unsigned long port;

	if (eq == NULL || eq == v || (size_t)(eq - v) >= sizeof(num)) {
		snprintf(e, n, "--port wants PORT=PROTO (pop3, imap, pop3s, imaps), got '%s'", v);
		return -EINVAL;
	}
	memcpy(num, v, (size_t)(eq - v));
	num[eq - v] = '\0';
	if (parse_uint(num, 65535, &port, e, n) < 0)
		return -EINVAL;
	if (port == 0) { /* fuzz_opts: this refusal had no reason */
		snprintf(e, n, "port 0 cannot be probed (--port %s)", v);
		return -EINVAL;
	}
	if (o->grab.nports == GRAB_PORTS_MAX) {
		snprintf(e, n, "at most %d --port options", GRAB_PORTS_MAX);
		return -EINVAL;
	}
	for (int p = MC_PROTO_POP3; p <= MC_PROTO_IMAPS; p++) {
		if (strcasecmp(eq + 1, names[p]) == 0) {
			o->grab.ports[o->grab.nports].port = (uint16_t)port;
			o->grab.ports[o->grab.nports++].proto = (enum mc_proto)p;
			return 0;
		}
	}
	snprintf(e, n, "unknown protocol '%s' (pop3, imap, pop3s, imaps)", eq + 1);
	return -EINVAL;
}

static int opt_verbose(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)v, (void)e, (void)n;
	o->verbosity = 1;
	return 0;
}

static int opt_quiet(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)v, (void)e, (void)n;
	o->verbosity = -1;
	return 0;
}

static int opt_help(void *ctx, const char *v, char *e, size_t n)
{
	struct grab_opts *o = ctx;
	(void)v, (void)e, (void)n;
	o->help = true;
	return 0;
}

static const struct mc_opt opt_table[] = {
    {"output", 'o', "DIR", opt_output,
     "results directory (shards + manifest.json); default: NDJSON on stdout"},
    {"geo-db", 0, "FILE", opt_geo, "country mmdb for enrichment"},
    {"asn-db", 0, "FILE", opt_asn, "ASN mmdb for enrichment"},
    {"no-enrich", 0, NULL, opt_no_enrich,
     "never enrich (default: enrich only when both --geo-db and --asn-db are given)"},
    {"compress", 0, NULL, opt_compress, "zstd-compress shards (with -o)"},
    {"shard-records", 0, "N", opt_shard_records,
     "start a new shard after N records (k/M suffix; default 1M)"},
    {"shard-bytes", 0, "SIZE", opt_shard_bytes,
     "start a new shard after SIZE bytes (k/M/G suffix; default 256M)"},
    {"seal-every", 0, "SEC", opt_seal_every,
     "seal the open shard when its first record is SEC old (default 60): "
     "the most a kill -9 loses"},
    {"concurrency", 'c', "N", opt_concurrency, "targets open at once per worker (default 1000)"},
    {"connect-timeout", 0, "SEC", opt_connect_timeout, "TCP connect timeout (default 5)"},
    {"read-timeout", 0, "SEC", opt_read_timeout,
     "longest wait for server bytes, incl. TLS handshakes (default 5)"},
    {"timeout", 0, "SEC", opt_timeout, "whole target incl. the version matrix (default 30)"},
    {"rate", 'r', "N", opt_rate, "new targets per second per worker, 0 = unlimited (default 0)"},
    {"ca-file", 0, "FILE", opt_ca_file,
     "extra trust anchors (PEM) for chain verification, besides the system store"},
    {"max-dh-bits", 0, "N", opt_max_dh_bits,
     "refuse finite-field DH groups over N bits before paying for them (default 4096; "
     "record error 'tls: " PROBE_DH_REFUSED "')"},
    {"cpu-budget", 0, "MS", opt_cpu_budget,
     "CPU time one target may cost (default 1000; record error '" GRAB_CPU_REASON "')"},
    {"contact", 0, "TEXT", opt_contact,
     "operator contact (URL, mail) sent in IMAP ID (docs/software.md)"},
    {"no-tls-matrix", 0, NULL, opt_no_matrix,
     "skip the hand-built hellos (version matrix, SSLv3, legacy suites)"},
    {"no-injection-test", 0, NULL, opt_no_injection,
     "skip the STARTTLS injection test (one extra connection per STARTTLS target)"},
    {"jarm", 0, NULL, opt_jarm,
     "JARM fingerprint per TLS target (10 more connections, via STARTTLS)"},
    {"no-login-probe", 0, NULL, opt_no_login_probe,
     "skip the login probe; cleartext_login then from capabilities alone"},
    {"grab-workers", 0, "N", opt_workers,
     "worker processes, each unprivileged with its own epoll loop and shards (default: "
     "one per CPU)"},
    {"workers", 'w', "N", opt_workers, "the same as --grab-workers"},
    {"user", 0, "NAME", opt_user,
     "the workers run as this user, without capabilities, under seccomp (default nobody)"},
    {"port", 'p', "PORT=PROTO", opt_port,
     "protocol of a port (pop3|imap|pop3s|imaps); repeatable; default 110=pop3 "
     "143=imap 993=imaps 995=pop3s"},
    {"verbose", 'v', NULL, opt_verbose, "a summary line on stderr"},
    {"quiet", 'q', NULL, opt_quiet, "errors only on stderr"},
    {"help", 'h', NULL, opt_help, "this text"},
};

#define OPT_ROWS (sizeof(opt_table) / sizeof(opt_table[0]))

/* The census flags of `scan --grab`: the same setters under the names a
 * scan command line uses (grab-concurrency for grab's --concurrency, ...). */
static const struct mc_opt census_table[] = {
    {"results", 'O', "DIR", opt_output,
     "results directory: shards + manifest.json (default: NDJSON records on stdout)"},
    {"geo-db", 0, "FILE", opt_geo, "country mmdb for enrichment (with --asn-db)"},
    {"asn-db", 0, "FILE", opt_asn, "ASN mmdb for enrichment (with --geo-db)"},
    {"no-enrich", 0, NULL, opt_no_enrich, "no enrichment even if databases are named"},
    {"compress", 0, NULL, opt_compress, "zstd-compress shards"},
    {"shard-records", 0, "N", opt_shard_records,
     "new output shard after N records (k/M suffix; default 1M)"},
    {"shard-bytes", 0, "SIZE", opt_shard_bytes,
     "new output shard after SIZE bytes (k/M/G suffix; default 256M)"},
    {"seal-every", 0, "SEC", opt_seal_every,
     "seal the open shard when its first record is SEC old (default 60)"},
    {"grab-concurrency", 0, "N", opt_concurrency,
     "targets probed at once per worker (default 1000)"},
    {"grab-rate", 0, "N", opt_rate, "new probes per second per worker, 0 = unlimited (default 0)"},
    {"grab-connect-timeout", 0, "SEC", opt_connect_timeout, "TCP connect timeout (default 5)"},
    {"grab-read-timeout", 0, "SEC", opt_read_timeout,
     "longest wait for server bytes, incl. TLS handshakes (default 5)"},
    {"grab-timeout", 0, "SEC", opt_timeout, "whole target incl. the version matrix (default 30)"},
    {"ca-file", 0, "FILE", opt_ca_file, "extra trust anchors (PEM) for chain verification"},
    {"max-dh-bits", 0, "N", opt_max_dh_bits,
     "refuse finite-field DH groups over N bits (default 4096)"},
    {"grab-cpu-budget", 0, "MS", opt_cpu_budget, "CPU time one target may cost (default 1000)"},
    {"no-tls-matrix", 0, NULL, opt_no_matrix, "skip the hand-built hellos (version matrix)"},
    {"no-injection-test", 0, NULL, opt_no_injection, "skip the STARTTLS injection test"},
    {"jarm", 0, NULL, opt_jarm, "JARM fingerprint of every TLS target (10 extra connections)"},
    {"contact", 0, "TEXT", opt_contact, "operator contact sent in IMAP ID (docs/software.md)"},
    {"no-login-probe", 0, NULL, opt_no_login_probe,
     "skip the pre-TLS login probe (no password is ever sent; see grab --help)"},
    {"grab-workers", 0, "N", opt_workers,
     "grab worker processes, unprivileged, each with its own shards (default: the CPUs the "
     "engine does not use, at least 1)"},
    {"user", 0, "NAME", opt_user,
     "the grab workers run as this user, without capabilities, under seccomp (default "
     "nobody)"},
    {"grab-port", 0, "PORT=PROTO", opt_port,
     "protocol of a port (pop3|imap|pop3s|imaps), repeatable; default 110=pop3 143=imap "
     "993=imaps 995=pop3s"},
};

static const struct mc_cmd grab_cmd = {
    .name = "grab",
    .usage = "usage: mailcensus grab [OPTIONS] [FILE|-]\n\n"
	     "Probe every target (lines 'ADDR:PORT' or 'ADDR,PORT', optionally followed by\n"
	     "a DNS name, ' NAME' or ',NAME', sent as SNI and checked against the\n"
	     "certificate; or '[IPV6]:PORT'; '#' starts a comment; the CSV of\n"
	     "`mailcensus scan -o` is read as is) from FILE or stdin:\n"
	     "greeting, capabilities, a login probe before STARTTLS that never sends a\n"
	     "credential (AUTH PLAIN/LOGIN cancelled with '*', USER " MC_LOGIN_PROBE_USER "\n"
	     "without PASS), STARTTLS, TLS version, cipher and certificate;\n"
	     "then, on extra connections, the STARTTLS injection test\n"
	     "(STARTTLS with a pipelined NOOP) and hand-built ClientHellos that read\n"
	     "only the ServerHello: the SSLv2/SSLv3/TLS 1.0-1.3 version matrix and the\n"
	     "legacy suites (RC4, 3DES, DES, EXPORT, NULL, anonymous); JARM on --jarm.\n"
	     "One JSON record per target; failures are records with \"error\".\n"
	     "Targets outside $MAILCENSUS_SAFE_RANGE (when set) are refused (exit 2).\n",
    .epilog = "An interrupted or killed run with -o continues with `mailcensus resume DIR`\n"
	      "(same options and targets file; targets already recorded are skipped).\n\n"
	      "exit status: 0 every target has a record, 1 the run failed (output) or was\n"
	      "interrupted, 2 usage or start-up error.\n",
};

void grab_opts_usage(FILE *out)
{
	struct mc_opt_group g = {.title = "options", .opts = opt_table, .nopts = OPT_ROWS};

	mc_opts_usage(&grab_cmd, &g, 1, out);
}

static int set_input(void *ctx, const char *w, char *err, size_t errlen)
{
	struct grab_opts *o = ctx;

	if (o->input != NULL) {
		snprintf(err, errlen, "more than one input file");
		return -EINVAL;
	}
	o->input = w;
	return 0;
}

void grab_opts_init(struct grab_opts *o)
{
	memset(o, 0, sizeof(*o));
	grab_config_defaults(&o->grab);
	o->workers = 0; /* the command's default (cli_workers_default) */
	o->user = CLI_SANDBOX_USER;
}

/* grab_config.trace under MAILCENSUS_TRACE=1: the plan's phase
 * transitions as info lines on stderr (docs/grabber.md). */
static void grab_trace_line(void *ctx, const char *line)
{
	(void)ctx;
	mc_log(MC_LOG_INFO, "trace: %s", line);
}

int grab_opts_finish(struct grab_opts *o, char *err, size_t errlen)
{
	const char *trace = getenv("MAILCENSUS_TRACE");

	if (trace != NULL && strcmp(trace, "1") == 0) {
		o->grab.trace = grab_trace_line;
		if (o->verbosity < 1)
			o->verbosity = 1; /* trace lines are info lines */
	}
	if ((o->sink.geo_db == NULL) != (o->sink.asn_db == NULL) && !o->no_enrich_flag) {
		snprintf(err, errlen, "give both --geo-db and --asn-db, or --no-enrich");
		return -EINVAL;
	}
	o->sink.no_enrich = o->no_enrich_flag || o->sink.geo_db == NULL;
	return 0;
}

int grab_opts_parse(struct grab_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	struct mc_opt_group g = {.opts = opt_table, .nopts = OPT_ROWS, .ctx = o};
	struct mc_cmd cmd = grab_cmd;

	grab_opts_init(o);
	cmd.word = set_input;
	cmd.word_ctx = o;
	if (mc_opts_parse(&cmd, &g, 1, argc, argv, NULL, err, errlen) != 0)
		return -EINVAL;
	return grab_opts_finish(o, err, errlen);
}

struct mc_opt_group grab_census_group(struct grab_opts *o)
{
	return (struct mc_opt_group){.title = "census (grab every responder while scanning)",
				     .opts = census_table,
				     .nopts = sizeof(census_table) / sizeof(census_table[0]),
				     .ctx = o};
}

/* A DNS name as a target may carry it: 1..253 bytes of letters, digits,
 * '-', '_' and '.', with at least one letter (a number is a CSV field of
 * `scan -o`, not a name). */
static bool target_name_ok(const char *s)
{
	bool letter = false;
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			letter = true;
		else if (!(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.')
			return false;
	}
	return letter && n > 0 && n < MC_NAME_MAX;
}

/* What follows the port: nothing, " NAME" (ADDR:PORT NAME), ",NAME" (a
 * third CSV column) or scan -o's numeric CSV fields. */
static int target_tail(char sepc, const char *end, char *name, size_t namecap)
{
	const char *field = end + 1, *comma;
	char tmp[MC_NAME_MAX];
	size_t n;

	if (*end == '\0')
		return 1;
	if (sepc == ':' && (*end == ' ' || *end == '\t')) {
		while (*field == ' ' || *field == '\t')
			field++;
		n = strlen(field);
	} else if (sepc == ',' && *end == ',') {
		comma = strchr(field, ',');
		n = comma ? (size_t)(comma - field) : strlen(field);
		if (n == 0 || strspn(field, "0123456789") == n)
			return 1; /* scan -o: saddr,sport,ttl,window,isn,time */
	} else {
		return -EINVAL;
	}
	if (n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, field, n);
	tmp[n] = '\0';
	if (!target_name_ok(tmp) || n >= namecap)
		return -EINVAL;
	memcpy(name, tmp, n + 1);
	return 1;
}

int grab_parse_target(const char *line, uint32_t *addr, uint16_t *port)
{
	char name[MC_NAME_MAX];

	return grab_parse_target_named(line, addr, port, name, sizeof(name));
}

int grab_parse_target_named(const char *line, uint32_t *addr, uint16_t *port, char *name,
			    size_t namecap)
{
	char buf[512], *p, *sep, *end;
	char sepc;
	const char *hash = strchr(line, '#');
	size_t n = hash ? (size_t)(hash - line) : strlen(line);
	struct in_addr ia;
	unsigned long v;

	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r' ||
			 line[n - 1] == '\n'))
		n--;
	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	if (n == 0 || strncmp(line, "saddr,", 6) == 0) /* blank, or `scan -o`'s CSV header */
		return 0;
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, line, n);
	buf[n] = '\0';
	sep = strpbrk(buf, ":,");
	if (sep == NULL)
		return -EINVAL;
	sepc = *sep;
	*sep = '\0';
	p = sep + 1;
	while (*p == ' ')
		p++;
	if (inet_pton(AF_INET, buf, &ia) != 1 || *p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(p, &end, 10);
	name[0] = '\0';
	/* ADDR,PORT may go on with more CSV fields: `scan -o` writes
	 * saddr,sport,ttl,window,isn,time; a name may follow either form */
	if (errno != 0 || v == 0 || v > 65535 || target_tail(sepc, end, name, namecap) < 0)
		return -EINVAL;
	*addr = ntohl(ia.s_addr);
	*port = (uint16_t)v;
	return 1;
}

int grab_parse_target6(const char *line, struct mc_ipv6 *a, uint16_t *port)
{
	const char *close, *p;
	char *end;
	unsigned long v;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line != '[')
		return 0;
	close = strchr(line, ']');
	if (close == NULL || close[1] != ':' ||
	    mc_ipv6_parse(line + 1, (size_t)(close - line - 1), a) != 0)
		return -EINVAL;
	p = close + 2;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(p, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (errno != 0 || (*end != '\0' && *end != '#') || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 1;
}
