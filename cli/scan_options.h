/* scan_options.h — the command line of `mailcensus scan`, parsed from one
 * table (scan_options.c) that also prints --help. Flags follow ZMap's where
 * ZMap has one. Words after `--` are DPDK EAL options, passed through. */
#ifndef MC_ENGINE_SCAN_OPTIONS_H
#define MC_ENGINE_SCAN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/opts.h"
#include "engine/engine.h"
#include "engine/targets.h"

#define SCAN_MAX_CIDRS 256

enum scan_output_format {
	SCAN_OUT_CSV,	 /* saddr,sport,ttl,window,isn,time */
	SCAN_OUT_NDJSON, /* one JSON object a line, same fields */
};

struct scan_options {
	const char *cidrs[SCAN_MAX_CIDRS];
	size_t ncidrs;
	const char *allow_file, *block_file;
	uint16_t ports[TARGETS_MAX_PORTS];
	size_t nports;
	double rate_pps;      /* -r; 0 = unlimited */
	double bandwidth_bps; /* -B; converted to rate_pps after parsing */
	bool rate_set, bandwidth_set;
	uint32_t probes;
	uint32_t cooldown_s;
	uint64_t seed;
	bool seed_set;
	uint32_t shards, shard;
	bool shards_set, shard_set;
	uint32_t src_ips[ENGINE_MAX_SRC_IPS];
	uint32_t nsrc_ips;
	uint16_t sport_first, sport_count;
	bool have_gw_mac, have_gw_ip;
	uint8_t gw_mac[6];
	uint32_t gw_ip;
	uint64_t max_targets;
	uint32_t max_runtime_s;
	uint8_t ttl;
	const char *dry_run; /* pcap path */
	const char *output, *metadata;
	enum scan_output_format format;
	uint32_t tx_queues;
	uint32_t ring_size; /* hit ring slots, a power of two */
	const char *iface;
	bool quiet, verbose, help;
	bool no_rst;
	bool kernel_path; /* --kernel-path tap */
	int npass;	  /* EAL words after -- */
	char **pass;
};

/* Parse argv (argv[0] = "scan") into *o, fill defaults and check that the
 * flags fit together. 0, or -EINVAL with a one-line reason in err. */
int scan_options_parse(struct scan_options *o, int argc, char **argv, char *err, size_t errlen);

/* The parse alone, with more option groups in the same pass (scan --grab's
 * census options; each extra group's first_used is set); then the checks
 * and defaults of scan_options_parse. 0, or -EINVAL with a reason. */
int scan_options_parse_groups(struct scan_options *o, struct mc_opt_group *extra, size_t nextra,
			      int argc, char **argv, char *err, size_t errlen);
int scan_options_check(struct scan_options *o, char *err, size_t errlen);

/* The scan's own rows as a group filling o. */
struct mc_opt_group scan_options_group(struct scan_options *o);

/* Print --help, generated from the option table. */
void scan_options_usage(FILE *out);

/* --help with extra groups after the scan's own, and another epilog (NULL:
 * the scan's). */
void scan_options_usage_with(const struct mc_opt_group *extra, size_t nextra, const char *epilog,
			     FILE *out);

#endif
