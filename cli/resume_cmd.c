/* resume_cmd.c — `mailcensus resume DIR`: continue an unfinished run.
 *
 * The results directory's manifest says which command made the run, from
 * which working directory, with which words; this file reads it, refuses
 * what cannot be resumed, and hands over to that command's resume (grab:
 * probes/cmd_grab.c, scan --grab: scan_cmd.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "output/sink.h"

static const char resume_usage[] =
    "usage: mailcensus resume DIR [OPTIONS]\n"
    "Continue an interrupted, failed or killed run (grab -o, scan --grab -O) in\n"
    "results directory DIR with the words, working directory and (grab) targets\n"
    "file its manifest names; a grab's targets file must still have the same\n"
    "SHA-256. Targets that already have a record are not grabbed again, so the\n"
    "finished directory holds one record per target. A grab resume may add\n"
    "options that cannot change the target set: --grab-workers (-w) --user\n"
    "--concurrency --rate --connect-timeout --read-timeout --timeout --seal-every\n"
    "-v -q. A census\n"
    "(scan --grab; also `mailcensus scan --resume DIR`) restarts each TX queue from\n"
    "its checkpoint (DIR/scan.checkpoint) with the same seed, shard, targets and\n"
    "ports, grabs the earlier sessions' hits that have no record first, and may\n"
    "add -r -B -c -t -q -v --seal-every --grab-concurrency --grab-rate\n"
    "--grab-connect-timeout --grab-read-timeout --grab-timeout --grab-workers --user.\n"
    "A directory without a manifest (killed before its first one: nothing was\n"
    "recorded) only has its leftover temporary files removed; start the run again.\n"
    "Exit status: 0 complete (or nothing to resume), 1 failed or interrupted\n"
    "again (or leftovers removed), 2 refused.\n";

/* No manifest: the run was killed before it wrote its first one, so it
 * recorded nothing and its options are unknown. Its leftovers are removed
 * so that the run can be started again (exit 1: it is not done). */
static int clear_leftovers(const char *dir)
{
	char err[512];
	size_t removed = 0;

	if (out_resume_clear_leftovers(dir, &removed, err, sizeof(err)) != 0) {
		fprintf(stderr, "mailcensus resume: %s: no manifest.json, and %s\n", dir, err);
		return 2;
	}
	fprintf(stderr,
		"mailcensus resume: %s: no manifest.json: the run was killed before it recorded "
		"anything; %zu leftover file%s removed: start the run again\n",
		dir, removed, removed == 1 ? "" : "s");
	return 1;
}

int resume_check_extras(const struct resume_extra *ok, size_t n, const char *allowed, int argc,
			char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		size_t len = eq ? (size_t)(eq - a) : strlen(a);
		int found = -1;

		for (size_t k = 0; a[0] == '-' && k < n; k++) {
			const char *name = ok[k].name;
			if ((a[1] == '-' && len == strlen(name) + 2 &&
			     strncmp(a + 2, name, len - 2) == 0) ||
			    (a[1] != '-' && ok[k].letter != 0 && a[1] == ok[k].letter &&
			     a[2] == '\0'))
				found = (int)k;
		}
		if (found < 0) {
			fprintf(
			    stderr,
			    "mailcensus resume: %s would change the target set or the records "
			    "of this run (its targets, ports, seed, shard and record options come "
			    "from the manifest); refused. Allowed: %s\n",
			    a, allowed);
			return 2;
		}
		if (ok[found].value && eq == NULL)
			i++;
	}
	return 0;
}

static int resume_main(int argc, char **argv, const char *want);

int cmd_resume(int argc, char **argv)
{
	return resume_main(argc, argv, NULL);
}

int cmd_resume_as(int argc, char **argv, const char *command)
{
	return resume_main(argc, argv, command);
}

static int resume_main(int argc, char **argv, const char *want)
{
	struct out_resume r;
	char dir[PATH_MAX], err[512];
	int rc = 2;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(resume_usage, stdout);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-') {
		fputs(resume_usage, stderr);
		return 2;
	}
	if (realpath(argv[1], dir) == NULL) {
		fprintf(stderr, "mailcensus resume: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	rc = out_resume_load(dir, &r, err, sizeof(err));
	if (rc == -ENOENT)
		return clear_leftovers(dir);
	if (rc != 0) {
		fprintf(stderr, "mailcensus resume: %s: %s\n", dir, err);
		return 2;
	}
	rc = 2;
	if (r.state == OUT_RUN_COMPLETE) {
		fprintf(stderr, "mailcensus resume: %s: the run is complete: nothing to resume\n",
			dir);
		rc = 0;
	} else if (r.command == NULL || r.cwd == NULL) {
		fprintf(stderr,
			"mailcensus resume: %s: the run cannot be resumed (%s): its records went "
			"to a directory but its targets came from stdin, or it predates resume\n",
			dir, r.describe);
	} else if (want != NULL && strcmp(r.command, want) != 0) {
		fprintf(stderr,
			"mailcensus resume: %s: the run was made by `%s`, not `%s`: use "
			"`mailcensus resume %s`\n",
			dir, r.command, want, argv[1]);
	} else if (chdir(r.cwd) != 0) {
		fprintf(stderr, "mailcensus resume: the run's working directory %s: %s\n", r.cwd,
			strerror(errno));
	} else if (strcmp(r.command, "grab") == 0) {
		fprintf(stderr, "mailcensus resume: %s: the run is %s\n", dir, r.describe);
		rc = cmd_grab_resume(dir, &r, argc - 2, argv + 2);
	} else if (strcmp(r.command, "scan") == 0) {
		fprintf(stderr, "mailcensus resume: %s: the run is %s\n", dir, r.describe);
		rc = cmd_scan_resume(dir, &r, argc - 2, argv + 2);
	} else {
		fprintf(stderr, "mailcensus resume: %s: unknown command '%s' in the manifest\n",
			dir, r.command);
	}
	out_resume_free(&r);
	return rc;
}
