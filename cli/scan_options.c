/* scan_options.c — table-driven parsing of `mailcensus scan` flags.
 *
 * One row per flag: long name, short letter, metavariable, setter, help.
 * getopt_long's tables and the --help text are both generated from it, so a
 * flag cannot exist without being documented. After the table, check() sees
 * the flags as a whole: overlapping flags, missing ones, defaults. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/ipv4.h"
#include "base/opts.h"
#include "cli/scan_options.h"

#define SYN_WIRE_BITS ((64 + 20) * 8) /* 60-byte frame + FCS, preamble and gap */

static int bad(char *err, size_t errlen, const char *what, const char *arg)
{
	snprintf(err, errlen, "bad %s '%s'", what, arg);
	return -EINVAL;
}

/* Unsigned integer in [lo, hi], with an optional k/M/G suffix when scaled. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, bool scaled, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '\0' || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	if (scaled && *end != '\0' && end[1] == '\0') {
		uint64_t mul = *end == 'k' || *end == 'K'   ? 1000u
			       : *end == 'M' || *end == 'm' ? 1000000u
			       : *end == 'G' || *end == 'g' ? 1000000000u
							    : 0;
		if (mul == 0 || v > UINT64_MAX / mul)
			return -EINVAL;
		v *= mul;
		end++;
	}
	if (*end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v;
	int rc = parse_u64(s, lo, hi, false, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

static int parse_ip(const char *s, uint32_t *ip)
{
	return mc_ipv4_parse(s, strlen(s), ip);
}

static int set_allow(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	(void)e, (void)el;
	o->allow_file = a;
	return 0;
}

static int set_block(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	(void)e, (void)el;
	o->block_file = a;
	return 0;
}

static int set_ports(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	return targets_parse_ports(a, o->ports, TARGETS_MAX_PORTS, &o->nports, e, el);
}

static int set_rate(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	uint64_t v;

	if (parse_u64(a, 0, 1000000000000u, true, &v) != 0)
		return bad(e, el, "rate (packets/s, 0 = unlimited)", a);
	o->rate_pps = (double)v;
	o->rate_set = true;
	return 0;
}

static int set_bandwidth(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	uint64_t v;

	if (parse_u64(a, 1, 1000000000000000u, true, &v) != 0)
		return bad(e, el, "bandwidth (bits/s, suffix k/M/G)", a);
	o->bandwidth_bps = (double)v;
	o->bandwidth_set = true;
	return 0;
}

static int set_probes(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	return parse_u32(a, 1, 1000, &o->probes) ? bad(e, el, "probe count (1..1000)", a) : 0;
}

static int set_cooldown(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	return parse_u32(a, 0, 3600, &o->cooldown_s) ? bad(e, el, "cooldown (0..3600 s)", a) : 0;
}

static int set_seed(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	o->seed_set = true;
	return parse_u64(a, 0, UINT64_MAX, false, &o->seed) ? bad(e, el, "seed", a) : 0;
}

static int set_shards(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	o->shards_set = true;
	return parse_u32(a, 1, 65535, &o->shards) ? bad(e, el, "shard count (1..65535)", a) : 0;
}

static int set_shard(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	o->shard_set = true;
	return parse_u32(a, 0, 65534, &o->shard) ? bad(e, el, "shard index", a) : 0;
}

/* "A", "A-B" or a comma list of those. */
static int set_source_ip(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	char buf[1024], *tok, *save = NULL;

	if (strlen(a) >= sizeof(buf))
		return bad(e, el, "source address list", a);
	strcpy(buf, a);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		uint32_t first, last;
		if (dash != NULL)
			*dash = '\0';
		if (parse_ip(tok, &first) != 0 ||
		    (dash != NULL ? parse_ip(dash + 1, &last) : (last = first, 0)) != 0 ||
		    last < first)
			return bad(e, el, "source address", a);
		for (uint64_t ip = first; ip <= last; ip++) {
			if (o->nsrc_ips == ENGINE_MAX_SRC_IPS) {
				snprintf(e, el, "more than %d source addresses in '%s'",
					 ENGINE_MAX_SRC_IPS, a);
				return -EINVAL;
			}
			o->src_ips[o->nsrc_ips++] = (uint32_t)ip;
		}
	}
	return o->nsrc_ips > 0 ? 0 : bad(e, el, "source address", a);
}

static int set_source_ports(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	unsigned first, last;
	int n = 0;

	if (sscanf(a, "%5u-%5u%n", &first, &last, &n) != 2 || a[n] != '\0' || first == 0 ||
	    last > 65535 || last < first)
		return bad(e, el, "source port range (A-B)", a);
	o->sport_first = (uint16_t)first;
	o->sport_count = (uint16_t)(last - first + 1 > 65535 ? 65535 : last - first + 1);
	return 0;
}

static int set_gw_mac(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	unsigned m[6];
	int n = 0;

	if (sscanf(a, "%2x:%2x:%2x:%2x:%2x:%2x%n", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &n) !=
		6 ||
	    a[n] != '\0')
		return bad(e, el, "gateway MAC (aa:bb:cc:dd:ee:ff)", a);
	for (int i = 0; i < 6; i++)
		o->gw_mac[i] = (uint8_t)m[i];
	o->have_gw_mac = true;
	return 0;
}

static int set_gw_ip(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	o->have_gw_ip = true;
	return parse_ip(a, &o->gw_ip) ? bad(e, el, "gateway address", a) : 0;
}

static int set_max_targets(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	return parse_u64(a, 1, UINT64_MAX, true, &o->max_targets) ? bad(e, el, "target limit", a)
								  : 0;
}

static int set_max_runtime(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	return parse_u32(a, 1, 4000000, &o->max_runtime_s) ? bad(e, el, "runtime (seconds)", a) : 0;
}

static int set_ttl(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	uint32_t v;

	if (parse_u32(a, 1, 255, &v) != 0)
		return bad(e, el, "TTL (1..255)", a);
	o->ttl = (uint8_t)v;
	return 0;
}

static int set_dry_run(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	(void)e, (void)el;
	o->dry_run = a;
	return 0;
}

static int set_output(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	(void)e, (void)el;
	o->output = a;
	return 0;
}

static int set_format(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	if (strcmp(a, "csv") == 0)
		o->format = SCAN_OUT_CSV;
	else if (strcmp(a, "ndjson") == 0 || strcmp(a, "json") == 0)
		o->format = SCAN_OUT_NDJSON;
	else
		return bad(e, el, "output format (csv or ndjson)", a);
	return 0;
}

static int set_metadata(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	(void)e, (void)el;
	o->metadata = a;
	return 0;
}

static int set_tx_queues(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	return parse_u32(a, 1, ENGINE_MAX_TX_QUEUES, &o->tx_queues)
		   ? bad(e, el, "TX queue count (1..16)", a)
		   : 0;
}

static int set_ring_size(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	uint32_t v;

	if (parse_u32(a, 16, 1u << 24, &v) != 0 || (v & (v - 1)) != 0)
		return bad(e, el, "ring size (a power of two, 16..16777216)", a);
	o->ring_size = v;
	return 0;
}

static int set_iface(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	(void)e, (void)el;
	o->iface = a;
	return 0;
}

static int set_no_rst(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	(void)a, (void)e, (void)el;
	o->no_rst = true;
	return 0;
}

static int set_kernel_path(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	if (strcmp(a, "tap") == 0)
		o->kernel_path = true;
	else if (strcmp(a, "none") == 0)
		o->kernel_path = false;
	else
		return bad(e, el, "kernel path (tap or none)", a);
	return 0;
}

static int set_quiet(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	(void)a, (void)e, (void)el;
	o->quiet = true;
	return 0;
}

static int set_verbose(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	(void)a, (void)e, (void)el;
	o->verbose = true;
	return 0;
}

static int set_help(void *ctx, const char *a, char *e, size_t el)
{
	struct scan_options *o = ctx;
	(void)a, (void)e, (void)el;
	o->help = true;
	return 0;
}

static const struct mc_opt rows[] = {
    {"allowlist-file", 'w', "FILE", set_allow, "scan only these CIDRs (one a line, # comments)"},
    {"blocklist-file", 'b', "FILE", set_block, "never scan these CIDRs (added to the default)"},
    {"target-ports", 'p', "LIST", set_ports,
     "ports, e.g. 110,143,993-995 (default 110,143,993,995)"},
    {"rate", 'r', "PPS", set_rate, "send rate, packets/s, k/M suffix (default 10000; 0 = max)"},
    {"bandwidth", 'B', "BPS", set_bandwidth, "send rate as bits/s, k/M/G suffix (instead of -r)"},
    {"probes", 'P', "N", set_probes, "SYNs per target (default 1)"},
    {"cooldown-time", 'c', "SECS", set_cooldown, "keep receiving after the last SYN (default 8)"},
    {"seed", 0, "N", set_seed, "permutation and cookie seed (required with --shards)"},
    {"shards", 0, "N", set_shards, "split the scan into N shards (default 1)"},
    {"shard", 0, "I", set_shard, "run shard I, 0..N-1 (default 0)"},
    {"source-ip", 'S', "ADDRS", set_source_ip, "source address(es): A, A-B or a list"},
    {"source-ports", 0, "A-B", set_source_ports, "source port range (default 32768-61000)"},
    {"gateway-mac", 'G', "MAC", set_gw_mac, "next hop's MAC (else resolved by ARP)"},
    {"gateway-ip", 0, "ADDR", set_gw_ip, "next hop's address, resolved by the engine's ARP"},
    {"max-targets", 'n', "N", set_max_targets, "stop after N targets (this shard)"},
    {"max-runtime", 't', "SECS", set_max_runtime, "stop sending after SECS seconds"},
    {"probe-ttl", 0, "N", set_ttl, "IP TTL of our SYNs (default 255)"},
    {"no-rst", 0, NULL, set_no_rst,
     "do not RST SYN-ACKed connections (servers then hold them half-open ~1 min)"},
    {"dry-run", 0, "FILE", set_dry_run, "build every probe, send nothing, write them to a pcap"},
    {"output-file", 'o', "FILE", set_output, "write responders here ('-' = stdout)"},
    {"output-format", 0, "FMT", set_format, "csv (saddr,sport,ttl,window,isn,time) or ndjson"},
    {"metadata-file", 'm', "FILE", set_metadata, "write the scan's metadata JSON here"},
    {"tx-queues", 0, "N", set_tx_queues, "TX lcores/queues, 1..16 (default 1)"},
    {"ring-size", 0, "N", set_ring_size,
     "hit ring slots, a power of two (default 65536; hits that do not fit wait while "
     "sending pauses)"},
    {"iface", 'i', "IF", set_iface, "send on IF via net_af_packet (else name a device after --)"},
    {"kernel-path", 0, "MODE", set_kernel_path,
     "tap: the grab leaves via the DPDK port from -S (docs/deploy.md)"},
    {"quiet", 'q', NULL, set_quiet, "no progress line"},
    {"verbose", 'v', NULL, set_verbose, "DPDK's own log at info level"},
    {"help", 'h', NULL, set_help, "this help"},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static const struct mc_cmd scan_cmd = {
    .name = "scan",
    .usage = "usage: mailcensus scan [OPTIONS] CIDR... [-- EAL-OPTIONS]\n\n"
	     "SYN-scan (address, port) pairs with the DPDK engine. Targets are CIDR\n"
	     "arguments and/or -w FILE; the IANA special-purpose ranges are never\n"
	     "scanned unless named explicitly. The whole Internet is 0.0.0.0/0.\n",
    .epilog =
	"After --, DPDK EAL options, added to the defaults (--no-huge -m 256 --no-pci\n"
	"--file-prefix mcPID --lcores 0@cpu0,TX@cpu1..,RX@cpu0); the same option given\n"
	"there replaces its default. Devices: --iface IF (af_packet, qpairs = tx-queues+1),\n"
	"or e.g. -- --vdev=net_null0,no-rx=1 (throughput), --vdev=net_memif0,role=client,...\n"
	"\nexit status: 0 done, 1 the scan failed, 2 usage or start-up error\n",
    .pass_after_dashdash = true,
};

struct mc_opt_group scan_options_group(struct scan_options *o)
{
	return (struct mc_opt_group){.title = "options", .opts = rows, .nopts = NROWS, .ctx = o};
}

void scan_options_usage_with(const struct mc_opt_group *extra, size_t nextra, const char *epilog,
			     FILE *out)
{
	struct mc_opt_group groups[4] = {scan_options_group(NULL)};
	struct mc_cmd cmd = scan_cmd;
	size_t n = 1;

	for (size_t i = 0; i < nextra && n < 4; i++)
		groups[n++] = extra[i];
	if (epilog != NULL)
		cmd.epilog = epilog;
	mc_opts_usage(&cmd, groups, n, out);
}

void scan_options_usage(FILE *out)
{
	scan_options_usage_with(NULL, 0, NULL, out);
}

static void defaults(struct scan_options *o)
{
	memset(o, 0, sizeof(*o));
	o->rate_pps = 10000;
	o->probes = 1;
	o->cooldown_s = 8;
	o->shards = 1;
	o->sport_first = 32768;
	o->sport_count = 61000 - 32768 + 1;
	o->ttl = 255;
	o->tx_queues = 1;
	o->format = SCAN_OUT_CSV;
	o->ring_size = 1u << 16;
}

static int fill_defaults(struct scan_options *o);

/* Flags that only make sense together, or not at all together. */
static int check(struct scan_options *o, char *err, size_t errlen)
{
	if (o->rate_set && o->bandwidth_set)
		snprintf(err, errlen, "-r and -B overlap: give a rate in packets/s or in bits/s");
	else if (o->have_gw_mac && o->have_gw_ip)
		snprintf(err, errlen, "-G and --gateway-ip overlap: give the MAC or the address");
	else if (o->shard_set && o->shard >= o->shards)
		snprintf(err, errlen, "--shard %u is not below --shards %u", o->shard, o->shards);
	else if (o->shards > 1 && !o->seed_set)
		snprintf(err, errlen,
			 "--shards needs --seed: every shard must walk one permutation");
	else if (o->ncidrs == 0 && o->allow_file == NULL)
		snprintf(err, errlen,
			 "no targets: name CIDRs or -w FILE (the whole Internet is 0.0.0.0/0)");
	else if (o->nsrc_ips == 0)
		snprintf(err, errlen,
			 "no source address: give -S ADDR (one no kernel on the link owns)");
	else if (o->dry_run != NULL && (o->output != NULL || o->iface != NULL))
		snprintf(err, errlen, "--dry-run sends nothing: it overlaps with %s",
			 o->output != NULL ? "-o" : "--iface");
	else if (o->dry_run != NULL && o->tx_queues != 1)
		snprintf(err, errlen, "--dry-run writes one pcap: use --tx-queues 1");
	else if (o->kernel_path && (o->dry_run != NULL || !o->have_gw_ip))
		snprintf(err, errlen, "--kernel-path tap %s",
			 o->dry_run != NULL
			     ? "sends the kernel's frames: not with --dry-run"
			     : "needs --gateway-ip ADDR (the kernel routes through it)");
	else if (o->dry_run == NULL && !o->have_gw_mac && !o->have_gw_ip)
		snprintf(err, errlen,
			 "no gateway: give --gateway-ip ADDR (resolved by ARP) or -G MAC");
	else
		return fill_defaults(o);
	return -EINVAL;
}

static int fill_defaults(struct scan_options *o)
{
	if (o->nports == 0) {
		static const uint16_t census[] = {110, 143, 993, 995};
		memcpy(o->ports, census, sizeof(census));
		o->nports = 4;
	}
	if (o->bandwidth_set)
		o->rate_pps = o->bandwidth_bps / SYN_WIRE_BITS;
	return 0;
}

static int add_cidr(void *ctx, const char *w, char *err, size_t errlen)
{
	struct scan_options *o = ctx;

	if (o->ncidrs == SCAN_MAX_CIDRS) {
		snprintf(err, errlen, "more than %d CIDR arguments: use -w FILE", SCAN_MAX_CIDRS);
		return -EINVAL;
	}
	o->cidrs[o->ncidrs++] = w;
	return 0;
}

int scan_options_parse_groups(struct scan_options *o, struct mc_opt_group *extra, size_t nextra,
			      int argc, char **argv, char *err, size_t errlen)
{
	struct mc_opt_group groups[4];
	struct mc_cmd cmd = scan_cmd;
	size_t n = 1;
	int rest, rc;

	defaults(o);
	groups[0] = scan_options_group(o);
	for (size_t i = 0; i < nextra && n < 4; i++)
		groups[n++] = extra[i];
	cmd.word = add_cidr;
	cmd.word_ctx = o;
	rc = mc_opts_parse(&cmd, groups, n, argc, argv, &rest, err, errlen);
	for (size_t i = 1; i < n; i++)
		extra[i - 1].first_used = groups[i].first_used;
	if (rc != 0)
		return rc;
	o->pass = argv + rest;
	o->npass = argc - rest;
	return 0;
}

int scan_options_check(struct scan_options *o, char *err, size_t errlen)
{
	return o->help ? 0 : check(o, err, errlen);
}

int scan_options_parse(struct scan_options *o, int argc, char **argv, char *err, size_t errlen)
{
	int rc = scan_options_parse_groups(o, NULL, 0, argc, argv, err, errlen);

	return rc != 0 ? rc : scan_options_check(o, err, errlen);
}
