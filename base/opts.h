/* opts.h — the one command-line parser and --help printer.
 *
 * Every command describes its options as table rows (name, letter, value
 * placeholder, setter, help line) in one or more groups, each group with
 * the struct its setters fill; the parser walks argv once (GNU getopt_long
 * underneath: "--name VAL", "--name=VAL", "-x VAL", "-xVAL", bundled
 * flags), calls each row's setter in command-line order, hands every other
 * word to the command's word callback, and stops at "--" when the command
 * passes the rest on (the scan's EAL options); its reasons are one line
 * (control characters of a quoted word shown as '?'). The same rows print --help,
 * so the help cannot drift from what is parsed. (DPDK's and ZMap's option
 * tables; not masscan's positional init.) */
#ifndef MC_BASE_OPTS_H
#define MC_BASE_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct mc_opt {
	const char *name;    /* long name, without "--" */
	char letter;	     /* short letter, or 0 */
	const char *metavar; /* value placeholder; NULL: a flag without a value */
	/* Apply the option to ctx (the group's struct); val is NULL for a flag.
	 * 0, or -EINVAL with a one-line reason in err. */
	int (*set)(void *ctx, const char *val, char *err, size_t errlen);
	const char *help;
};

struct mc_opt_group {
	const char *title; /* heading in --help, or NULL */
	const struct mc_opt *opts;
	size_t nopts;
	void *ctx;		/* what the setters fill */
	const char *first_used; /* out: the argv word of this group's first option */
};

struct mc_cmd {
	const char *name;   /* "scan": messages say "see mailcensus scan --help" */
	const char *usage;  /* synopsis and description, printed before the options */
	const char *epilog; /* printed after them (notes, exit status), or NULL */
	/* A word that is not an option (a CIDR, a file); NULL: none allowed.
	 * 0, or -EINVAL with a reason in err. */
	int (*word)(void *ctx, const char *word, char *err, size_t errlen);
	void *word_ctx;
	bool pass_after_dashdash; /* "--" ends parsing; the rest is the caller's */
};

/* Parse argv[1..]. *rest (may be NULL) is set to the index of the first
 * word after "--" (argc when there is none) when pass_after_dashdash is
 * set. 0, or -EINVAL with a one-line reason in err. A table with a name or
 * letter twice, or more than MC_OPTS_MAX rows, is a broken invariant. */
#define MC_OPTS_MAX 128
int mc_opts_parse(const struct mc_cmd *cmd, struct mc_opt_group *groups, size_t ngroups, int argc,
		  char **argv, int *rest, char *err, size_t errlen);

/* The --help text: usage, then each group's rows, then the epilog. */
void mc_opts_usage(const struct mc_cmd *cmd, const struct mc_opt_group *groups, size_t ngroups,
		   FILE *out);

#endif
