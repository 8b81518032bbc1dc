/* diff.h — compare two censuses service by service (internal to output/).
 *
 * Each record of a results directory becomes a fixed-size struct diff_svc
 * (address, port, posture, the yes/no answers that matter, country, ASN).
 * Both censuses are sorted by (address, port) with a bounded external sort
 * (diff_sort.c) and walked in lockstep (diff.c); every service and every
 * host is classified by out_diff_classify(), the one rule for "better" and
 * "worse". */
#ifndef MC_OUT_DIFF_H
#define MC_OUT_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "output/report.h"

struct diff_svc {
	uint32_t ip; /* host byte order */
	uint32_t asn;
	uint16_t port;
	uint8_t proto;			 /* enum mc_proto */
	uint8_t posture;		 /* enum mc_posture */
	uint8_t cleartext, tls10, tls11; /* enum mc_tri */
	char cc[2];			 /* ISO alpha-2, "\0\0" when unknown */
	uint32_t seq; /* arrival order: of duplicate (address, port) records the first is kept */
};

enum diff_change {
	DIFF_UNCHANGED = 0,
	DIFF_IMPROVED,	  /* something got better, nothing worse */
	DIFF_REGRESSED,	  /* something got worse, nothing better */
	DIFF_MIXED,	  /* both */
	DIFF_APPEARED,	  /* only in the new census */
	DIFF_DISAPPEARED, /* only in the old census */
	DIFF_CHANGES
};

/* Why a service or host changed (bits). */
enum diff_reason {
	DIFF_R_POSTURE_UP = 1u << 0,	   /* e.g. no_tls -> starttls_required */
	DIFF_R_POSTURE_DOWN = 1u << 1,	   /* e.g. starttls_required -> starttls_optional */
	DIFF_R_CLEARTEXT_CLOSED = 1u << 2, /* cleartext login yes -> no */
	DIFF_R_CLEARTEXT_OPENED = 1u << 3, /* no -> yes */
	DIFF_R_TLS10_DROPPED = 1u << 4,	   /* TLS 1.0 accepted -> refused */
	DIFF_R_TLS10_ADDED = 1u << 5,	   /* refused -> accepted */
	DIFF_R_TLS11_DROPPED = 1u << 6,
	DIFF_R_TLS11_ADDED = 1u << 7,
};
#define DIFF_REASONS 8

const char *out_diff_change_name(enum diff_change c);
const char *out_diff_reason_name(unsigned bit_index);

/* Compare one service (or host summary) measured twice. Only answers that
 * were measured both times count; `unknown` postures are not ranked.
 * Returns UNCHANGED, IMPROVED, REGRESSED or MIXED; *reasons gets the bits. */
enum diff_change out_diff_classify(const struct diff_svc *old, const struct diff_svc *new,
				   unsigned *reasons);

/* Fold one service into its host's summary (first: start a new summary):
 * the weakest ranked posture, cleartext/TLS 1.0/1.1 yes when any service says
 * yes (no when one says no and none yes), the first country and ASN. */
void out_diff_fold(struct diff_svc *host, const struct diff_svc *svc, bool first);

/* Turn a parsed record into a service; -1 for a line that is not a record,
 * 1 for a target that never answered (error "connect: ..."), 0 otherwise. */
struct out_json;
int out_diff_svc_from_json(const struct out_json *rec, struct diff_svc *svc);

/* --- external sort (diff_sort.c) --- */
struct diff_sorter;

/* Runs go to workdir/<tag>-run-N; at most mem_bytes of records in memory. */
int diff_sorter_new(struct diff_sorter **out, const char *workdir, const char *tag,
		    size_t mem_bytes, char *err, size_t errlen);
int diff_sorter_put(struct diff_sorter *s, const struct diff_svc *v, char *err, size_t errlen);
/* Seal the input: write the last run, merge until one pass can read them all. */
int diff_sorter_finish(struct diff_sorter *s, char *err, size_t errlen);
/* Next record in (ip, port) order: 1, 0 at the end, -errno. */
int diff_sorter_next(struct diff_sorter *s, struct diff_svc *v);
void diff_sorter_stats(const struct diff_sorter *s, uint64_t *records, unsigned *runs,
		       unsigned *passes);
void diff_sorter_free(struct diff_sorter *s); /* unlinks its runs */

/* --- the comparison (diff.c) and its outputs (diff_out.c) --- */
#define DIFF_NET_TOP 20

struct diff_side {
	uint64_t services, hosts, hosts_no_tls, hosts_cleartext, hosts_obsolete, duplicates;
	uint64_t unreachable, bad_lines;
	unsigned runs, passes;
};

struct diff_net {
	uint32_t asn;
	char org[64];
	uint64_t n[DIFF_CHANGES]; /* hosts per change */
};

struct diff_stats {
	char old_dir[REP_PATH_LEN], new_dir[REP_PATH_LEN];
	struct diff_side old, new;
	uint64_t svc[DIFF_CHANGES], hosts[DIFF_CHANGES];
	uint64_t svc_reason[DIFF_REASONS], host_reason[DIFF_REASONS];
	/* services from posture (row) to posture (column); index 0 = absent, 1 + enum mc_posture */
	uint64_t posture[1 + REP_POSTURES][1 + REP_POSTURES];
	uint64_t host_posture[1 + REP_POSTURES][1 + REP_POSTURES]; /* hosts' weakest postures */
	uint64_t cc[REP_CC][DIFF_CHANGES]; /* hosts per country (new country, else old) */
	uint64_t no_cc[DIFF_CHANGES];
	struct diff_net nets[DIFF_NET_TOP]; /* networks with the most changed hosts */
	size_t nnets;
	uint64_t networks; /* distinct ASNs seen */
	size_t mem_bytes;
};

struct out_diff_opts {
	const char *workdir; /* NULL: a mkdtemp directory under $TMPDIR (or /tmp) */
	size_t mem_bytes;    /* sort memory per census (0 = 16 MiB) */
	FILE *list;	     /* NULL, or NDJSON of every changed service and host */
};

int out_diff_run(const char *old_dir, const char *new_dir, const struct out_diff_opts *opts,
		 struct diff_stats *st, char *err, size_t errlen);

void out_diff_text(const struct diff_stats *st, FILE *out);
char *out_diff_json(const struct diff_stats *st); /* malloc'd */
void out_diff_html(const struct diff_stats *st, FILE *out);

#endif
