/* sandbox.c — privilege drop and the seccomp allowlist of a grab worker
 * (sandbox.h).
 *
 * Order matters: descriptors first (nothing of the root process survives),
 * then the capability bounding set (needs CAP_SETPCAP, i.e. still root),
 * then groups, gid and uid (setresuid from 0 clears the permitted and
 * effective sets), then the inheritable and ambient sets, then
 * no_new_privs, then the parent-death signal (a credential change clears
 * it), and last the filter, loaded with TSYNC so that a thread started
 * before it (the sink's seal timer) is bound too. */
#include "cli/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int cli_sandbox_user(const char *name, struct cli_sandbox_user *u, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0) { /* nothing to give up but what the filter takes */
		u->uid = geteuid();
		u->gid = getegid();
		return 0;
	}
	rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		snprintf(err, errlen, "--user %s: %s", name, rc ? strerror(rc) : "no such user");
		return rc ? -rc : -ENOENT;
	}
	if (pw.pw_uid == 0 || pw.pw_gid == 0) {
		snprintf(err, errlen, "--user %s: uid or gid 0; a grab worker never runs as root",
			 name);
		return -EINVAL;
	}
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	u->switch_user = true;
	return 0;
}

static bool kept(int fd, const int *keep, size_t nkeep)
{
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

int cli_sandbox_close_fds(const int *keep, size_t nkeep)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int maxfd = (int)sysconf(_SC_OPEN_MAX);

	if (null < 0)
		return -errno;
	if (dup2(null, STDIN_FILENO) < 0)
		return -errno;
	close(null);
	if (maxfd < 0 || maxfd > (1 << 20))
		maxfd = 1 << 20;
	/* descriptors in ranges between the kept ones (close_range: one call each) */
	for (int lo = 3; lo < maxfd;) {
		int hi = lo;

		while (hi < maxfd && !kept(hi, keep, nkeep))
			hi++;
		if (hi > lo && syscall(SYS_close_range, (unsigned)lo, (unsigned)(hi - 1), 0) != 0)
			for (int fd = lo; fd < hi; fd++)
				close(fd);
		lo = hi + 1;
	}
	return 0;
}

static int drop_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) != 0) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -errno;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
		snprintf(err, errlen, "clear ambient capabilities: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int switch_user(const struct cli_sandbox_user *u, char *err, size_t errlen)
{
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
			snprintf(err, errlen, "drop capability %d from the bounding set: %s", cap,
				 strerror(errno));
			return -errno;
		}
	if (setgroups(0, NULL) != 0 || setresgid(u->gid, u->gid, u->gid) != 0 ||
	    setresuid(u->uid, u->uid, u->uid) != 0) {
		snprintf(err, errlen, "switch to uid %u gid %u: %s", (unsigned)u->uid,
			 (unsigned)u->gid, strerror(errno));
		return -errno;
	}
	if (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0 || geteuid() == 0 ||
	    getegid() == 0) {
		snprintf(err, errlen, "root could be regained after the switch");
		return -EPERM;
	}
	return 0;
}

int cli_sandbox_drop(const struct cli_sandbox_user *u, pid_t parent, char *err, size_t errlen)
{
	int rc = u->switch_user ? switch_user(u, err, errlen) : 0;

	if (rc == 0)
		rc = drop_caps(err, errlen);
	if (rc != 0)
		return rc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
		snprintf(err, errlen, "prctl: %s", strerror(errno));
		return -errno;
	}
	if (getppid() != parent) { /* the root died before PDEATHSIG was armed */
		snprintf(err, errlen, "the root process is gone");
		return -ESRCH;
	}
	return 0;
}

/* The calls a worker makes: its epoll loop and TCP sockets, OpenSSL,
 * zstd and the shard files, malloc and threads (glibc), the sanitizers'
 * run time (ASan tree). */
static const int allowed[] = {
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(close),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(lseek),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mprotect),
    SCMP_SYS(mremap),
    SCMP_SYS(brk),
    SCMP_SYS(madvise),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(connect),
    SCMP_SYS(bind),
    SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),
    SCMP_SYS(shutdown),
    SCMP_SYS(fcntl),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(getpid),
    SCMP_SYS(getppid),
    SCMP_SYS(gettid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(getrandom),
    SCMP_SYS(futex),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(fallocate),
    SCMP_SYS(ftruncate),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(get_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(prlimit64),
    SCMP_SYS(getrlimit),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(getrusage),
    SCMP_SYS(times),
    SCMP_SYS(membarrier),
    SCMP_SYS(uname),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(dup),
    SCMP_SYS(getdents64),
};

/* Calls relative to a directory: only in the results directory. */
static const int in_dir[] = {
    SCMP_SYS(openat),
    SCMP_SYS(unlinkat),
};

static int add_rules(scmp_filter_ctx f, int dirfd)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
	for (size_t i = 0; rc == 0 && dirfd >= 0 && i < sizeof(in_dir) / sizeof(in_dir[0]); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, in_dir[i], 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)dirfd, 0));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_EQ, AF_INET, 0));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_EQ, AF_INET6, 0));
	/* threads only (glibc's pthread_create), never a new process or namespace */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (rc == 0) /* clone3's flags are out of the filter's reach: glibc falls back */
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* a signal to itself (abort(), raise()) */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				      SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME, 0));
	/* what only an attacker would do: end the process at once */
	static const int fatal[] = {SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(ptrace),
				    SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev)};
	for (size_t i = 0; rc == 0 && i < sizeof(fatal) / sizeof(fatal[0]); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS, fatal[i], 0);
	return rc;
}

int cli_sandbox_seccomp(int dirfd, char *err, size_t errlen)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int rc;

	if (f == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return -ENOMEM;
	}
	rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = add_rules(f, dirfd);
	if (rc == 0)
		rc = seccomp_load(f);
	if (rc != 0)
		snprintf(err, errlen, "seccomp filter: %s", strerror(-rc));
	seccomp_release(f);
	return rc;
}

static void say(char *out, size_t cap, const char *what, int rc)
{
	snprintf(out, cap, "%s: %s", what, rc >= 0 ? "allowed" : strerrorname_np(errno));
}

void cli_sandbox_selftest(const char *what, char *out, size_t cap)
{
	if (strcmp(what, "unix") == 0) { /* the kernel allows it; the filter does not */
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		say(out, cap, what, fd);
	} else if (strcmp(what, "packet") == 0) {
		int fd = socket(AF_PACKET, SOCK_RAW, 0);
		say(out, cap, what, fd);
	} else if (strcmp(what, "open") == 0) { /* world-readable, outside the directory */
		int fd = open("/etc/hostname", O_RDONLY);
		say(out, cap, what, fd);
	} else if (strcmp(what, "setuid") == 0) {
		int rc = setresuid(0, 0, 0);
		say(out, cap, what, rc);
	} else if (strcmp(what, "exec") == 0) {
		char *const argv[] = {"true", NULL};
		int rc = execve("/bin/true", argv, NULL);
		say(out, cap, what, rc); /* not reached while the filter holds */
	} else {
		snprintf(out, cap, "%s: unknown test", what);
	}
}
