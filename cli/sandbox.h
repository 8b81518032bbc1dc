/* sandbox.h — what a grab worker gives up before it reads a hostile byte.
 *
 * A grab worker parses greetings, capabilities, TLS handshakes and X.509
 * from any server it reaches. It runs as a process that could not hurt the
 * machine if a server took it over (OpenSSH's preauth child, OpenSMTPD's
 * privsep): every descriptor it does not need is closed (the DPDK port,
 * the AF_PACKET socket, the hit log writer's descriptor, the manifest's
 * lock), it runs as an unprivileged user with no supplementary groups, an
 * empty capability bounding set and no capability left, no_new_privs set,
 * not dumpable, killed when its parent dies, and under a seccomp allowlist
 * (libseccomp): the system calls of an epoll loop with TCP sockets and of
 * writing shards in its results directory, and nothing else. */
#ifndef MC_CLI_SANDBOX_H
#define MC_CLI_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CLI_SANDBOX_USER "nobody"

struct cli_sandbox_user {
	uid_t uid;
	gid_t gid;
	bool switch_user; /* false when the command does not run as root */
};

/* Look the user up (before the fork, so that an unknown name is a start-up
 * error). 0, or -errno with a reason. A caller that is not root keeps its
 * own (unprivileged) user: switch_user false. */
int cli_sandbox_user(const char *name, struct cli_sandbox_user *u, char *err, size_t errlen);

/* Close every descriptor but 0, 1, 2 and keep[0..nkeep); stdin becomes
 * /dev/null. 0 or -errno. */
int cli_sandbox_close_fds(const int *keep, size_t nkeep);

/* Give up root: groups, gid, uid (checked: root cannot be regained),
 * every capability incl. the bounding set, no_new_privs, not dumpable,
 * SIGKILL when the parent dies; -ESRCH when `parent` (the pid that forked
 * us, taken before the fork) is already gone. 0, or -errno with a reason. */
int cli_sandbox_drop(const struct cli_sandbox_user *u, pid_t parent, char *err, size_t errlen);

/* Load the seccomp allowlist on every thread of the process. The only
 * file system calls allowed are relative to `dirfd` (the results
 * directory; -1: none); sockets only AF_INET and AF_INET6; execve,
 * execveat and ptrace kill the process (SIGSYS); every other call not on
 * the list fails with EPERM. 0, or -errno with a reason. */
int cli_sandbox_seccomp(int dirfd, char *err, size_t errlen);

/* The hidden test hook (MC_WORKER_SELFTEST, tests only): try what the
 * sandbox forbids and say what happened in out ("unix: EPERM"); "exec"
 * does not return when the sandbox holds (SIGSYS). */
void cli_sandbox_selftest(const char *what, char *out, size_t cap);

#endif
