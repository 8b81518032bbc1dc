/* test_opts.c — the one option parser: forms of values, flags, words,
 * "--", groups, first_used, errors, and the --help text from the rows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/opts.h"
#include "tests/unit/test.h"

struct a_ctx {
	const char *name;
	int verbose;
	const char *words[8];
	int nwords;
};
struct b_ctx {
	const char *level;
	int quick;
};

static int set_name(void *c, const char *v, char *e, size_t n)
{
	if (strncmp(v, "bad", 3) == 0) {
		snprintf(e, n, "bad name '%s'", v);
		return -EINVAL;
	}
	((struct a_ctx *)c)->name = v;
	return 0;
}
static int set_verbose(void *c, const char *v, char *e, size_t n)
{
	(void)v, (void)e, (void)n;
	((struct a_ctx *)c)->verbose++;
	return 0;
}
static int set_level(void *c, const char *v, char *e, size_t n)
{
	(void)e, (void)n;
	((struct b_ctx *)c)->level = v;
	return 0;
}
static int set_quick(void *c, const char *v, char *e, size_t n)
{
	(void)v, (void)e, (void)n;
	((struct b_ctx *)c)->quick = 1;
	return 0;
}
static int add_word(void *c, const char *w, char *e, size_t n)
{
	struct a_ctx *a = c;
	if (a->nwords == 8) {
		snprintf(e, n, "too many");
		return -EINVAL;
	}
	a->words[a->nwords++] = w;
	return 0;
}

static const struct mc_opt a_rows[] = {
    {"name", 'n', "NAME", set_name, "the name"},
    {"verbose", 'v', NULL, set_verbose, "more"},
};
static const struct mc_opt b_rows[] = {
    {"level", 0, "L", set_level, "a level"},
    {"quick", 'k', NULL, set_quick, "fast"},
};

static int run(struct a_ctx *a, struct b_ctx *b, int argc, char **argv, int *rest, char *err,
	       bool pass)
{
	struct mc_cmd cmd = {.name = "t",
			     .usage = "usage: t\n",
			     .word = add_word,
			     .word_ctx = a,
			     .pass_after_dashdash = pass};
	struct mc_opt_group g[2] = {{.opts = a_rows, .nopts = 2, .ctx = a},
				    {.title = "b", .opts = b_rows, .nopts = 2, .ctx = b}};
	int rc;

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	rc = mc_opts_parse(&cmd, g, 2, argc, argv, rest, err, 256);
	if (rc == 0 && b->level != NULL)
		CHECK(g[1].first_used != NULL && strncmp(g[1].first_used, "--level", 7) == 0);
	if (rc == 0 && b->level == NULL && !b->quick)
		CHECK(g[1].first_used == NULL);
	return rc;
}

static void test_forms(void)
{
	struct a_ctx a;
	struct b_ctx b;
	char err[256];
	int rest = -1;
	char *v1[] = {"t",  "-n",	 "x",  "w1", "--level=3", "-vvk",
		      "w2", "--verbose", "--", "-n", "y"};
	char *v2[] = {"t", "-nfoo", "--name", "bar", "--level", "9"};

	CHECK_INT_EQ(run(&a, &b, 11, v1, &rest, err, true), 0);
	CHECK_STR_EQ(a.name, "x");
	CHECK_INT_EQ(a.verbose, 3);
	CHECK_INT_EQ(b.quick, 1);
	CHECK_STR_EQ(b.level, "3");
	CHECK_INT_EQ(a.nwords, 2);
	CHECK_STR_EQ(a.words[0], "w1");
	CHECK_STR_EQ(a.words[1], "w2");
	CHECK_INT_EQ(rest, 9); /* "-n" "y" after -- are the caller's */
	CHECK_INT_EQ(run(&a, &b, 6, v2, &rest, err, true), 0);
	CHECK_STR_EQ(a.name, "bar"); /* the later one wins, in order */
	CHECK_STR_EQ(b.level, "9");
	CHECK_INT_EQ(rest, 6);
}

static void test_errors(void)
{
	struct a_ctx a;
	struct b_ctx b;
	char err[256];
	char *unknown[] = {"t", "--nope"};
	char *missing[] = {"t", "--name"};
	char *missing_short[] = {"t", "-n"};
	char *bad[] = {"t", "-n", "bad"};
	char *dashdash[] = {"t", "--", "w"};

	CHECK_INT_EQ(run(&a, &b, 2, unknown, NULL, err, false), -EINVAL);
	CHECK(strstr(err, "unknown option '--nope'") != NULL);
	CHECK(strstr(err, "mailcensus t --help") != NULL);
	CHECK_INT_EQ(run(&a, &b, 2, missing, NULL, err, false), -EINVAL);
	CHECK(strstr(err, "missing value") != NULL);
	CHECK_INT_EQ(run(&a, &b, 2, missing_short, NULL, err, false), -EINVAL);
	CHECK(strstr(err, "missing value") != NULL);
	CHECK_INT_EQ(run(&a, &b, 3, bad, NULL, err, false), -EINVAL);
	CHECK_STR_EQ(err, "bad name 'bad'");
	/* fuzz_opts: a quoted word with a line feed made a two-line reason.
	 * Minimised input: argv {"t", "--x\ny"}; a setter's reason too. */
	char *nl_unknown[] = {"t", "--x\ny"};
	char *nl_value[] = {"t", "-n", "bad\r\nname\x7f"};
	CHECK_INT_EQ(run(&a, &b, 2, nl_unknown, NULL, err, false), -EINVAL);
	CHECK(strstr(err, "unknown option '--x?y'") != NULL);
	CHECK_INT_EQ(run(&a, &b, 3, nl_value, NULL, err, false), -EINVAL);
	CHECK_STR_EQ(err, "bad name 'bad??name?'");
	/* without pass_after_dashdash, "--" only ends the options */
	CHECK_INT_EQ(run(&a, &b, 3, dashdash, NULL, err, false), 0);
	CHECK_INT_EQ(a.nwords, 1);
}

static void test_usage_from_rows(void)
{
	struct mc_cmd cmd = {.name = "t", .usage = "usage: t [OPTIONS]\n", .epilog = "bye\n"};
	struct mc_opt_group g[2] = {{.title = "a", .opts = a_rows, .nopts = 2},
				    {.title = "b", .opts = b_rows, .nopts = 2}};
	char buf[2048] = {0};
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	mc_opts_usage(&cmd, g, 2, f);
	fclose(f);
	CHECK(strncmp(buf, "usage: t [OPTIONS]\n", 19) == 0);
	CHECK(strstr(buf, "-n, --name NAME") != NULL);
	CHECK(strstr(buf, "    --level L") != NULL);
	CHECK(strstr(buf, "-k, --quick") != NULL);
	CHECK(strstr(buf, "\nb:\n") != NULL);
	CHECK(strstr(buf, "\nbye\n") != NULL);
}

/* Two rows with one letter are a broken table: the parser stops the
 * process (a programming error, caught by any test of the command). */
static void test_clash_is_fatal(void)
{
	static const struct mc_opt clash[] = {{"name", 'n', "N", set_name, ""},
					      {"number", 'n', "N", set_name, ""}};
	pid_t pid = fork();

	if (pid == 0) {
		struct a_ctx a = {0};
		struct mc_cmd cmd = {.name = "t", .usage = ""};
		struct mc_opt_group g = {.opts = clash, .nopts = 2, .ctx = &a};
		char *v[] = {"t"};
		char err[64];
		freopen("/dev/null", "w", stderr);
		mc_opts_parse(&cmd, &g, 1, 1, v, NULL, err, sizeof(err));
		_exit(0);
	}
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(!(WIFEXITED(st) && WEXITSTATUS(st) == 0));
}

int main(void)
{
	RUN(test_forms);
	RUN(test_errors);
	RUN(test_usage_from_rows);
	RUN(test_clash_is_fatal);
	return test_summary();
}
