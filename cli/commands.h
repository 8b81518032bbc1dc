/* commands.h — the subcommands of the mailcensus binary.
 *
 * Each takes the arguments after its own name (argv[0] is the subcommand
 * name) and returns the process exit status: 0 success, 1 the run failed,
 * 2 a usage or start-up error. */
#ifndef MC_COMMANDS_H
#define MC_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

int cmd_scan(int argc, char **argv);   /* scan_cmd.c: SYN scan, with --grab the census */
int cmd_grab(int argc, char **argv);   /* cmd_grab.c: grab a list of targets */
int cmd_report(int argc, char **argv); /* cmd_report.c: census report from shards */
int cmd_verify(int argc, char **argv); /* cmd_report.c: recheck a manifest */
int cmd_diff(int argc, char **argv);   /* cmd_diff.c: compare two censuses */
int cmd_export(int argc, char **argv); /* cmd_export.c: CSV, Shadowserver CSV, schemas */
int cmd_resume(int argc, char **argv); /* resume_cmd.c: continue an unfinished run */

/* The resumes of one kind of run, called by cmd_resume from the run's
 * working directory with the absolute results directory, the manifest's
 * resume object and the options given after DIR. Exit status. */
struct out_resume;
int cmd_grab_resume(const char *dir, const struct out_resume *r, int argc, char **argv);
int cmd_scan_resume(const char *dir, const struct out_resume *r, int argc, char **argv);

/* `scan --resume DIR [OPTIONS]`: cmd_resume for a run made by `command`
 * only (argv[0] is the option word, argv[1] DIR). */
int cmd_resume_as(int argc, char **argv, const char *command);

/* An option a resume may add after DIR: it changes how fast or how
 * patiently, never which targets or what a record holds. */
struct resume_extra {
	const char *name;
	char letter;
	bool value; /* takes a value */
};

/* Check the words after `resume DIR` against `ok`. 0, or 2 after a message
 * naming the word and `allowed` (the list for people). */
int resume_check_extras(const struct resume_extra *ok, size_t n, const char *allowed, int argc,
			char **argv);

#endif
