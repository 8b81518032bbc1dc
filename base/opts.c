/* opts.c — the one command-line parser and --help printer (opts.h). */
#include "base/opts.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "base/log.h"

struct row_ref {
	const struct mc_opt *opt;
	struct mc_opt_group *group;
};

/* Flatten the groups into getopt's tables; a name or letter given twice is
 * a bug in the tables, not a user error. */
static size_t build(struct mc_opt_group *groups, size_t ngroups, struct row_ref *refs,
		    struct option *lo, char *so)
{
	size_t n = 0, k = 0;

	so[k++] = ':'; /* report a missing value as ':' */
	for (size_t g = 0; g < ngroups; g++) {
		for (size_t i = 0; i < groups[g].nopts; i++) {
			const struct mc_opt *o = &groups[g].opts[i];

			if (n == MC_OPTS_MAX)
				mc_fatal("opts: more than %d options", MC_OPTS_MAX);
			for (size_t j = 0; j < n; j++)
				if (strcmp(refs[j].opt->name, o->name) == 0 ||
				    (o->letter != 0 && refs[j].opt->letter == o->letter))
					mc_fatal("opts: --%s clashes with --%s", o->name,
						 refs[j].opt->name);
			refs[n] = (struct row_ref){o, &groups[g]};
			lo[n] =
			    (struct option){o->name, o->metavar ? required_argument : no_argument,
					    NULL, (int)(256 + n)};
			if (o->letter != 0) {
				so[k++] = o->letter;
				if (o->metavar != NULL)
					so[k++] = ':';
			}
			n++;
		}
	}
	lo[n] = (struct option){0};
	so[k] = '\0';
	return n;
}

static const struct row_ref *ref_of(const struct row_ref *refs, size_t n, int c)
{
	if (c >= 256 && (size_t)(c - 256) < n)
		return &refs[c - 256];
	for (size_t i = 0; i < n; i++)
		if (c != 0 && refs[i].opt->letter == c)
			return &refs[i];
	return NULL;
}

/* The reason is one line: a word quoted in it may hold any byte
 * (fuzz_opts: "unknown option '--x<LF>...'"), so control characters
 * become '?'. Returns -EINVAL. */
static int refuse(char *err)
{
	for (char *p = err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -EINVAL;
}

static int parse(const struct mc_cmd *cmd, struct mc_opt_group *groups, size_t ngroups, int argc,
		 char **argv, int *rest, char *err, size_t errlen)
{
	struct row_ref refs[MC_OPTS_MAX];
	struct option lo[MC_OPTS_MAX + 1];
	char so[3 * MC_OPTS_MAX + 2];
	size_t n = build(groups, ngroups, refs, lo, so);
	int own = argc, c;

	for (size_t g = 0; g < ngroups; g++)
		groups[g].first_used = NULL;
	if (cmd->pass_after_dashdash)
		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--") == 0) {
				own = i;
				break;
			}
	if (rest != NULL)
		*rest = own < argc ? own + 1 : argc;
	optind = 0; /* glibc: start a fresh scan */
	opterr = 0;
	while ((c = getopt_long(own, argv, so, lo, NULL)) != -1) {
		const struct row_ref *r = ref_of(refs, n, c);
		/* the option's own word: before its value when that was separate */
		const char *word = optarg != NULL && optind >= 2 && optarg == argv[optind - 1]
				       ? argv[optind - 2]
				       : argv[optind - 1];

		if (c == '?' || c == ':' || r == NULL) {
			if (c == ':' || (c == '?' && optopt != 0 && ref_of(refs, n, optopt)))
				snprintf(err, errlen,
					 "missing value for option '%s' (see mailcensus %s --help)",
					 word, cmd->name);
			else
				snprintf(err, errlen,
					 "unknown option '%s' (see mailcensus %s --help)", word,
					 cmd->name);
			return -EINVAL;
		}
		if (r->group->first_used == NULL)
			r->group->first_used = word;
		if (r->opt->set(r->group->ctx, optarg, err, errlen) != 0)
			return -EINVAL;
	}
	for (int i = optind; i < own; i++) {
		if (cmd->word == NULL) {
			snprintf(err, errlen, "unexpected argument '%s' (see mailcensus %s --help)",
				 argv[i], cmd->name);
			return -EINVAL;
		}
		if (cmd->word(cmd->word_ctx, argv[i], err, errlen) != 0)
			return -EINVAL;
	}
	return 0;
}

int mc_opts_parse(const struct mc_cmd *cmd, struct mc_opt_group *groups, size_t ngroups, int argc,
		  char **argv, int *rest, char *err, size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	int rc = parse(cmd, groups, ngroups, argc, argv, rest, err, errlen);

	return rc == 0 ? 0 : refuse(err);
}

void mc_opts_usage(const struct mc_cmd *cmd, const struct mc_opt_group *groups, size_t ngroups,
		   FILE *out)
{
	fputs(cmd->usage, out);
	for (size_t g = 0; g < ngroups; g++) {
		if (groups[g].title != NULL)
			fprintf(out, "\n%s:\n", groups[g].title);
		for (size_t i = 0; i < groups[g].nopts; i++) {
			const struct mc_opt *o = &groups[g].opts[i];
			char left[64];

			snprintf(left, sizeof(left), "%c%c%s--%s%s%s", o->letter ? '-' : ' ',
				 o->letter ? o->letter : ' ', o->letter ? ", " : "  ", o->name,
				 o->metavar ? " " : "", o->metavar ? o->metavar : "");
			fprintf(out, "  %-30s %s\n", left, o->help);
		}
	}
	if (cmd->epilog != NULL)
		fprintf(out, "\n%s", cmd->epilog);
}
