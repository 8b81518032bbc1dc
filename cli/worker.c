/* worker.c — forking, sandboxing and serving the grab workers (worker.h). */
#include "cli/worker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/quit.h"
#include "output/record.h"
#include "output/shard.h"

#define WORKER_MSG_MAX	  (MC_RECORD_JSON_MAX + 64)
#define WORKER_TICK_MS	  50
#define WORKER_ABANDON_MS 2000 /* after the abandon level, SIGKILL what still runs */
#define WORKER_SELFTEST	  "MC_WORKER_SELFTEST" /* tests only: see cli_sandbox_selftest */

enum worker_msg {
	MSG_READY = 1, /* sandboxed, about to work */
	MSG_FAIL,      /* could not start: reason */
	MSG_SHARD,     /* struct out_shard_info */
	MSG_LINE,      /* NDJSON bytes (no results directory) */
	MSG_REPORT,    /* struct cli_worker_report */
	MSG_FINAL,     /* root -> worker: uint64_t hits in the complete log */
};

struct worker_slot {
	pid_t pid;
	int sock; /* root's end, -1 after EOF */
	bool ready, reported, reaped;
	int status; /* waitpid's */
	struct cli_worker_report rep;
};

struct cli_workers {
	struct cli_worker_spec spec;
	unsigned n;
	int forwarded;	    /* quit levels passed on */
	int64_t abandon_ms; /* when the abandon level was passed on, 0 before */
	bool dir_shared;
	struct stat dir_was; /* the results directory before it was shared */
	int failed;
	char reason[512];
	uint8_t buf[WORKER_MSG_MAX];
	struct worker_slot w[CLI_WORKERS_MAX];
};

unsigned cli_workers_default(unsigned engine_cores)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus <= (long)engine_cores)
		return 1;
	return cpus - engine_cores > CLI_WORKERS_MAX ? CLI_WORKERS_MAX
						     : (unsigned)(cpus - engine_cores);
}

static int send_msg(int sock, uint32_t type, const void *p, size_t len)
{
	struct iovec iov[2] = {{.iov_base = &type, .iov_len = sizeof(type)},
			       {.iov_base = (void *)p, .iov_len = len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};

	if (len + sizeof(type) > WORKER_MSG_MAX)
		return -EMSGSIZE;
	for (;;) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* ---- the worker's side ---------------------------------------------------- */

static void on_seal(void *ctx, const struct out_shard_info *info)
{
	struct cli_worker_env *env = ctx;

	if (send_msg(env->ctl, MSG_SHARD, info, sizeof(*info)) != 0)
		mc_quit_request(0); /* the root is gone: nobody would list it */
}

static void on_line(void *ctx, const char *line, size_t len)
{
	struct cli_worker_env *env = ctx;

	if (send_msg(env->ctl, MSG_LINE, line, len) != 0)
		mc_quit_request(0);
}

bool cli_worker_poll_ctl(struct cli_worker_env *env)
{
	struct {
		uint32_t type;
		uint64_t logged;
	} __attribute__((packed)) m;

	for (;;) {
		ssize_t n = recv(env->ctl, &m, sizeof(m), MSG_DONTWAIT);
		if (n == (ssize_t)sizeof(m) && m.type == MSG_FINAL) {
			env->final = true;
			env->final_logged = m.logged;
			continue;
		}
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		return false; /* EOF or error: the root is gone */
	}
}

static _Noreturn void child_fail(int sock, const char *what, const char *why)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "%s: %s", what, why);
	send_msg(sock, MSG_FAIL, msg, strlen(msg));
	_exit(2);
}

static _Noreturn void child_main(const struct cli_worker_spec *spec, unsigned k, int sock,
				 int lockfd, pid_t root)
{
	struct cli_worker_env env = {
	    .index = k, .count = spec->count, .ctl = sock, .hitlog_fd = spec->hitlog_fd};
	struct cli_worker_report rep;
	const char *selftest = getenv(WORKER_SELFTEST);
	int keep[4] = {sock, spec->dirfd, spec->hitlog_fd, lockfd};
	char err[256];

	memset(&rep, 0, sizeof(rep));
	/* killed with the root, also while still root (a credential change
	 * clears this; cli_sandbox_drop sets it again and checks the root) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != root)
		_exit(2);
	setpgid(0, 0); /* a terminal's Ctrl-C reaches the root, which passes it on */
	mc_quit_reset();
	if (mc_quit_install() != 0) /* the root may install its own only later */
		child_fail(sock, "signals", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	if (cli_sandbox_close_fds(keep, 4) != 0)
		child_fail(sock, "close descriptors", strerror(errno));
	if (spec->prepare(spec->ctx, &env, err, sizeof(err)) != 0)
		child_fail(sock, "start", err);
	if (cli_sandbox_drop(&spec->user, root, err, sizeof(err)) != 0)
		child_fail(sock, "sandbox", err);
	struct out_sink_worker sw = {.dirfd = spec->dirfd,
				     .first_index = k,
				     .stride = spec->count,
				     .on_seal = on_seal,
				     .on_line = on_line,
				     .ctx = &env};
	if (out_sink_open_worker(&env.sink, spec->parent, &sw, err, sizeof(err)) != 0)
		child_fail(sock, "results", err);
	if (cli_sandbox_seccomp(spec->dirfd, err, sizeof(err)) != 0)
		child_fail(sock, "sandbox", err);
	if (selftest != NULL) {
		cli_sandbox_selftest(selftest, err, sizeof(err));
		fprintf(stderr, "mailcensus worker %u: selftest %s\n", k, err);
	}
	send_msg(sock, MSG_READY, NULL, 0);
	spec->run(spec->ctx, &env, &rep);
	if (out_sink_close(env.sink, NULL, err, sizeof(err)) != 0 && rep.sink_rc == 0) {
		rep.sink_rc = -EIO;
		snprintf(rep.reason, sizeof(rep.reason), "%s", err);
	}
	send_msg(sock, MSG_REPORT, &rep, sizeof(rep));
	cli_worker_poll_ctl(&env); /* read what the root sent, so it sees no reset */
	_exit(0);		   /* no atexit handlers: they belong to the root */
}

/* ---- the root's side ------------------------------------------------------ */

static void set_failed(struct cli_workers *w, int rc, const char *fmt, const char *a, const char *b,
		       unsigned k)
{
	if (w->failed != 0)
		return;
	w->failed = rc;
	snprintf(w->reason, sizeof(w->reason), fmt, k, a, b);
}

/* The workers create their shards in the results directory: its group
 * becomes theirs (g+w) while they run. */
static int share_dir(struct cli_workers *w, char *err, size_t errlen)
{
	int fd = w->spec.dirfd;

	if (fd < 0 || !w->spec.user.switch_user)
		return 0;
	if (fstat(fd, &w->dir_was) != 0 || fchown(fd, (uid_t)-1, w->spec.user.gid) != 0 ||
	    fchmod(fd, (w->dir_was.st_mode & 07777) | S_IWGRP | S_IXGRP) != 0) {
		snprintf(err, errlen, "results directory: share with the workers: %s",
			 strerror(errno));
		return -errno;
	}
	w->dir_shared = true;
	return 0;
}

static void unshare_dir(struct cli_workers *w)
{
	if (!w->dir_shared)
		return;
	if (fchown(w->spec.dirfd, (uid_t)-1, w->dir_was.st_gid) != 0 ||
	    fchmod(w->spec.dirfd, w->dir_was.st_mode & 07777) != 0)
		fprintf(stderr, "mailcensus: results directory: restore owner and mode: %s\n",
			strerror(errno));
	w->dir_shared = false;
}

static void on_message(struct cli_workers *w, unsigned k, const uint8_t *m, size_t n)
{
	struct worker_slot *s = &w->w[k];
	uint32_t type;
	char err[256];

	if (n < sizeof(type))
		return;
	memcpy(&type, m, sizeof(type));
	m += sizeof(type);
	n -= sizeof(type);
	if (type == MSG_READY) {
		s->ready = true;
	} else if (type == MSG_FAIL) {
		char why[300];
		snprintf(why, sizeof(why), "%.*s", (int)(n < 299 ? n : 299), (const char *)m);
		set_failed(w, -EINVAL, "worker %u: %s%s", why, "", k);
	} else if (type == MSG_SHARD && n == sizeof(struct out_shard_info)) {
		struct out_shard_info info;
		memcpy(&info, m, sizeof(info));
		info.name[sizeof(info.name) - 1] = '\0';
		info.sha256[sizeof(info.sha256) - 1] = '\0';
		if (out_sink_add_shard(w->spec.parent, &info, err, sizeof(err)) != 0) {
			set_failed(w, -EIO, "worker %u: shard %s: %s", info.name, err, k);
			mc_quit_request(0); /* nowhere to list records: stop the run */
		}
	} else if (type == MSG_LINE) {
		while (n > 0) {
			ssize_t r = write(STDOUT_FILENO, m, n);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				set_failed(w, -errno, "worker %u: stdout: %s%s", strerror(errno),
					   "", k);
				mc_quit_request(0);
				break;
			}
			m += r;
			n -= (size_t)r;
		}
	} else if (type == MSG_REPORT && n == sizeof(struct cli_worker_report)) {
		memcpy(&s->rep, m, sizeof(s->rep));
		s->rep.reason[sizeof(s->rep.reason) - 1] = '\0';
		s->reported = true;
	}
}

static void reap(struct cli_workers *w, unsigned k)
{
	struct worker_slot *s = &w->w[k];
	char sig[24];

	if (s->reaped)
		return;
	while (waitpid(s->pid, &s->status, 0) < 0 && errno == EINTR)
		;
	s->reaped = true;
	if (WIFSIGNALED(s->status)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(s->status));
		snprintf(sig, sizeof(sig), "SIG%s", abbrev ? abbrev : "?");
		set_failed(w, -ECHILD, "worker %u: killed by %s%s", sig,
			   WTERMSIG(s->status) == SIGSYS ? " (a system call outside its allowlist)"
							 : "",
			   k);
	} else if (!s->reported) {
		snprintf(sig, sizeof(sig), "%d", WEXITSTATUS(s->status));
		set_failed(w, -ECHILD, "worker %u: ended (status %s) without its report%s", sig, "",
			   k);
	}
}

/* Read what a worker sent; on EOF reap it. */
static void serve(struct cli_workers *w, unsigned k)
{
	struct worker_slot *s = &w->w[k];

	for (;;) {
		ssize_t n = recv(s->sock, w->buf, sizeof(w->buf), MSG_DONTWAIT);
		if (n > 0) {
			on_message(w, k, w->buf, (size_t)n);
			continue;
		}
		/* ECONNRESET: the worker ended with a message of ours unread; what
		 * it sent is still queued behind the error */
		if (n < 0 && (errno == EINTR || errno == ECONNRESET))
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close(s->sock);
		s->sock = -1;
		reap(w, k);
		return;
	}
}

/* One poll round over the workers' sockets; the number still connected. */
static unsigned poll_round(struct cli_workers *w, int timeout_ms)
{
	struct pollfd pfd[CLI_WORKERS_MAX];
	unsigned idx[CLI_WORKERS_MAX], n = 0;

	for (unsigned k = 0; k < w->n; k++)
		if (w->w[k].sock >= 0) {
			pfd[n] = (struct pollfd){.fd = w->w[k].sock, .events = POLLIN};
			idx[n++] = k;
		}
	if (n == 0)
		return 0;
	if (poll(pfd, n, timeout_ms) > 0)
		for (unsigned i = 0; i < n; i++)
			if (pfd[i].revents != 0)
				serve(w, idx[i]);
	return n;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Pass the quit flag on: one SIGTERM per level (stop, then abandon). A
 * worker still there WORKER_ABANDON_MS after the abandon is killed. */
static void forward_quit(struct cli_workers *w)
{
	while (w->forwarded < mc_quit_level()) {
		w->forwarded++;
		for (unsigned k = 0; k < w->n; k++)
			if (!w->w[k].reaped)
				kill(w->w[k].pid, SIGTERM);
		if (w->forwarded >= MC_QUIT_ABANDON)
			w->abandon_ms = mono_ms();
	}
	if (w->abandon_ms != 0 && mono_ms() - w->abandon_ms > WORKER_ABANDON_MS)
		for (unsigned k = 0; k < w->n; k++)
			if (!w->w[k].reaped)
				kill(w->w[k].pid, SIGKILL);
}

static void stop_all(struct cli_workers *w)
{
	for (unsigned k = 0; k < w->n; k++) {
		if (w->w[k].pid > 0 && !w->w[k].reaped) {
			kill(w->w[k].pid, SIGKILL);
			while (waitpid(w->w[k].pid, NULL, 0) < 0 && errno == EINTR)
				;
			w->w[k].reaped = true;
		}
		if (w->w[k].sock >= 0)
			close(w->w[k].sock);
		w->w[k].sock = -1;
	}
}

static int fork_one(struct cli_workers *w, unsigned k, int lockfd, char *err, size_t errlen)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "worker socket: %s", strerror(errno));
		return -errno;
	}
	fflush(NULL);
	pid_t root = getpid();
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0)
		child_main(&w->spec, k, sv[1], lockfd, root); /* closes every other descriptor */
	close(sv[1]);
	w->w[k].pid = pid;
	w->w[k].sock = sv[0];
	return 0;
}

int cli_workers_spawn(struct cli_workers **out, const struct cli_worker_spec *spec, char *err,
		      size_t errlen)
{
	struct cli_workers *w = calloc(1, sizeof(*w));
	int rc;

	if (w == NULL || spec->count == 0 || spec->count > CLI_WORKERS_MAX) {
		free(w);
		snprintf(err, errlen, w ? "1 to %u grab workers" : "out of memory",
			 CLI_WORKERS_MAX);
		return w ? -EINVAL : -ENOMEM;
	}
	w->spec = *spec;
	w->n = spec->count;
	for (unsigned k = 0; k < w->n; k++)
		w->w[k].sock = -1;
	rc = share_dir(w, err, errlen);
	/* the directory's lock, held by every worker until it ends */
	int lockfd = out_sink_dup_dirfd(spec->parent);
	for (unsigned k = 0; rc == 0 && k < w->n; k++)
		rc = fork_one(w, k, lockfd, err, errlen);
	if (lockfd >= 0)
		close(lockfd);
	/* every worker sandboxed and ready, or the first failure */
	for (bool all = false; rc == 0 && !all && w->failed == 0;) {
		all = true;
		for (unsigned k = 0; k < w->n; k++)
			all = all && w->w[k].ready;
		if (!all && poll_round(w, 1000) == 0 && w->failed == 0)
			set_failed(w, -ECHILD, "worker %u: gone before it was ready%s%s", "", "",
				   0);
	}
	if (rc == 0 && w->failed != 0) {
		rc = w->failed;
		snprintf(err, errlen, "%s", w->reason);
	}
	if (rc != 0) {
		stop_all(w);
		unshare_dir(w);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* Every worker has ended: a shard temporary left in the directory (a
 * worker that failed or died before its seal was listed) is no longer
 * anyone's; the run is failed or interrupted and its records are counted
 * as lost or never were written. */
static void sweep_tmp(struct cli_workers *w)
{
	int fd = w->spec.dirfd >= 0 ? dup(w->spec.dirfd) : -1;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (strncmp(e->d_name, "shard-", 6) == 0 && n > 4 &&
		    strcmp(e->d_name + n - 4, ".tmp") == 0)
			unlinkat(w->spec.dirfd, e->d_name, 0);
	}
	closedir(d);
}

int cli_workers_wait(struct cli_workers *w, void (*tick)(void *ctx, struct cli_workers *w),
		     void *ctx, char *err, size_t errlen)
{
	for (;;) {
		forward_quit(w);
		if (tick != NULL)
			tick(ctx, w);
		if (poll_round(w, WORKER_TICK_MS) == 0)
			break;
	}
	unshare_dir(w);
	sweep_tmp(w);
	for (unsigned k = 0; k < w->n && w->failed == 0; k++)
		if (w->w[k].rep.run_rc != 0 || w->w[k].rep.sink_rc != 0) {
			const struct cli_worker_report *r = &w->w[k].rep;
			set_failed(w, r->sink_rc ? r->sink_rc : r->run_rc, "worker %u: %s%s",
				   r->reason[0] ? r->reason
						: strerror(-(r->sink_rc ? r->sink_rc : r->run_rc)),
				   "", k);
		}
	if (w->failed != 0)
		snprintf(err, errlen, "%s", w->reason);
	return w->failed;
}

void cli_workers_final(struct cli_workers *w, uint64_t logged)
{
	struct {
		uint32_t type;
		uint64_t logged;
	} __attribute__((packed)) m = {MSG_FINAL, logged};

	for (unsigned k = 0; k < w->n; k++)
		if (w->w[k].sock >= 0)
			(void)!send(w->w[k].sock, &m, sizeof(m), MSG_NOSIGNAL);
}

void cli_workers_totals(const struct cli_workers *w, struct cli_worker_report *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned k = 0; k < w->n; k++) {
		const struct cli_worker_report *r = &w->w[k].rep;

		sum->stats.targets_done += r->stats.targets_done;
		sum->stats.targets_failed += r->stats.targets_failed;
		sum->stats.connections += r->stats.connections;
		sum->stats.open_peak += r->stats.open_peak;
		sum->stats.skipped += r->stats.skipped;
		sum->records += r->records;
		sum->refused += r->refused;
		sum->records_lost += r->records_lost;
		sum->lookup_errors += r->lookup_errors;
		sum->hits_mine += r->hits_mine;
		sum->hits_refound += r->hits_refound;
		sum->hits_old += r->hits_old;
		if (k == 0 || r->hits_read > sum->hits_read)
			sum->hits_read = r->hits_read;
		if (k == 0 || r->hits_corrupt > sum->hits_corrupt)
			sum->hits_corrupt = r->hits_corrupt;
	}
}

unsigned cli_workers_count(const struct cli_workers *w)
{
	return w->n;
}

pid_t cli_workers_pid(const struct cli_workers *w, unsigned k)
{
	return k < w->n ? w->w[k].pid : -1;
}

void cli_workers_free(struct cli_workers *w)
{
	if (w == NULL)
		return;
	stop_all(w);
	unshare_dir(w);
	free(w);
}
