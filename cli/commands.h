/* commands.h — the subcommands of the mailcensus binary.
 *
 * Each takes the arguments after its own name (argv[0] is the subcommand
 * name) and returns the process exit status: 0 success, 1 the run failed,
 * 2 a usage or start-up error. */
#ifndef MC_COMMANDS_H
#define MC_COMMANDS_H

int cmd_scan(int argc, char **argv);   /* scan_cmd.c: SYN scan, with --grab the census */
int cmd_grab(int argc, char **argv);   /* cmd_grab.c: grab a list of targets */
int cmd_report(int argc, char **argv); /* cmd_report.c: census report from shards */
int cmd_verify(int argc, char **argv); /* cmd_report.c: recheck a manifest */
int cmd_diff(int argc, char **argv);   /* cmd_diff.c: compare two censuses */
int cmd_export(int argc, char **argv); /* cmd_export.c: CSV, Shadowserver CSV, schemas */

#endif
