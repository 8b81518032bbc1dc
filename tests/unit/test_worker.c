/* test_worker.c — the grab workers' sandbox (cli/sandbox.c) and the
 * root/worker protocol (cli/worker.c), without a network: forked children
 * give up root and load the filter, and two workers write shards that the
 * root renames and lists in the manifest. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/sandbox.h"
#include "cli/worker.h"
#include "output/sink.h"
#include "tests/unit/out_test_util.h"
#include "tests/unit/test.h"

/* A /proc/self/status field's value ("" when absent). */
static void status_field(const char *status, const char *key, char *out, size_t cap)
{
	const char *p = strstr(status, key);

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strcspn(p, "\n");
	snprintf(out, cap, "%.*s", (int)n, p);
}

/* In a child: give up root, check the status, load the filter, try what it
 * forbids. The exit status is the number of the first failed step. */
static int sandboxed_child(void)
{
	struct cli_sandbox_user u;
	char err[256], status[4096], v[64];
	int fd, keep = -1;
	ssize_t n;

	if (cli_sandbox_user("nobody", &u, err, sizeof(err)) != 0)
		return 10;
	if (cli_sandbox_close_fds(&keep, 0) != 0)
		return 11;
	if (cli_sandbox_drop(&u, getppid(), err, sizeof(err)) != 0)
		return 12;
	fd = open("/proc/self/status", O_RDONLY);
	n = fd >= 0 ? read(fd, status, sizeof(status) - 1) : -1;
	if (n <= 0)
		return 13;
	status[n] = '\0';
	close(fd);
	status_field(status, "CapEff:", v, sizeof(v));
	if (strcmp(v, "0000000000000000") != 0)
		return 14;
	status_field(status, "CapPrm:", v, sizeof(v));
	if (strcmp(v, "0000000000000000") != 0)
		return 15;
	status_field(status, "CapBnd:", v, sizeof(v));
	if (u.switch_user && strcmp(v, "0000000000000000") != 0)
		return 16;
	status_field(status, "NoNewPrivs:", v, sizeof(v));
	if (strcmp(v, "1") != 0)
		return 17;
	if (u.switch_user && (geteuid() == 0 || setresuid(0, 0, 0) == 0))
		return 18;
	if (cli_sandbox_seccomp(-1, err, sizeof(err)) != 0)
		return 19;
	if (socket(AF_UNIX, SOCK_STREAM, 0) >= 0 || errno != EPERM)
		return 20;
	if (open("/etc/hostname", O_RDONLY) >= 0 || errno != EPERM)
		return 21;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0); /* the grabber's */
	if (fd < 0)
		return 22;
	close(fd);
	if (fork() >= 0 || errno != EPERM) /* clone without CLONE_THREAD */
		return 23;
	return 0;
}

static int run_child(int (*fn)(void))
{
	int st = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

static void test_sandbox(void)
{
	int st = run_child(sandboxed_child);

	CHECK(WIFEXITED(st));
	CHECK_INT_EQ(WEXITSTATUS(st), 0);
}

static int exec_child(void)
{
	char err[256];
	char *const argv[] = {"true", NULL};

	if (cli_sandbox_seccomp(-1, err, sizeof(err)) != 0)
		return 1;
	execve("/bin/true", argv, NULL);
	return 2; /* not reached while the filter holds */
}

static void test_exec_kills(void)
{
	int st = run_child(exec_child);

	CHECK(WIFSIGNALED(st));
	CHECK_INT_EQ(WIFSIGNALED(st) ? WTERMSIG(st) : 0, SIGSYS);
}

/* ---- two workers write shards, the root lists them -------------------------- */

#define RECORDS_EACH 5

static int no_prepare(void *ctx, struct cli_worker_env *env, char *err, size_t errlen)
{
	(void)ctx, (void)env, (void)err, (void)errlen;
	return 0;
}

static void put_some(void *ctx, struct cli_worker_env *env, struct cli_worker_report *rep)
{
	struct mc_record r;

	(void)ctx;
	for (unsigned i = 0; i < RECORDS_EACH; i++) {
		memset(&r, 0, sizeof(r));
		r.ip = 0xc6120100u + env->index * 16 + i;
		r.port = 143;
		r.proto = MC_PROTO_IMAP;
		if (out_sink_put(env->sink, &r) == 0)
			rep->records++;
	}
}

static void test_workers_shards(void)
{
	char dir[PATH_MAX], res[PATH_MAX + 8], err[512], path[PATH_MAX + 64];
	struct out_sink_config cfg = {.no_enrich = true, .rotate_records = 3};
	struct cli_worker_spec spec = {
	    .count = 2, .dirfd = -1, .hitlog_fd = -1, .prepare = no_prepare, .run = put_some};
	struct cli_workers *ws = NULL;
	struct cli_worker_report sum;
	struct out_sink *s = NULL;
	struct stat st;

	CHECK_INT_EQ(out_test_tmpdir(dir, sizeof(dir)), 0);
	snprintf(res, sizeof(res), "%s/res", dir);
	cfg.dir = res;
	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), 0);
	if (s == NULL)
		return;
	spec.parent = s;
	spec.dirfd = open(res, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK_INT_EQ(cli_sandbox_user("nobody", &spec.user, err, sizeof(err)), 0);
	CHECK_INT_EQ(cli_workers_spawn(&ws, &spec, err, sizeof(err)), 0);
	if (ws == NULL)
		return;
	CHECK(cli_workers_pid(ws, 0) > 0 && cli_workers_pid(ws, 1) > 0);
	CHECK_INT_EQ(cli_workers_wait(ws, NULL, NULL, err, sizeof(err)), 0);
	cli_workers_totals(ws, &sum);
	cli_workers_free(ws);
	CHECK_UINT_EQ(sum.records, 2 * RECORDS_EACH);
	CHECK_INT_EQ(out_sink_close(s, NULL, err, sizeof(err)), 0);
	/* 5 records at 3 a shard: 2 shards per worker, renamed by the root in
	 * order, none left under a temporary name */
	for (unsigned i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/shard-%05u.ndjson", res, i);
		CHECK_INT_EQ(stat(path, &st), 0);
		CHECK_UINT_EQ(st.st_uid, geteuid());
		snprintf(path, sizeof(path), "%s/shard-%05u.ndjson.tmp", res, i);
		CHECK(stat(path, &st) != 0);
	}
	snprintf(path, sizeof(path), "%s/shard-00004.ndjson", res);
	CHECK(stat(path, &st) != 0);
	CHECK_INT_EQ(stat(res, &st), 0);
	CHECK_UINT_EQ(st.st_mode & 07777, 0755); /* shared with the workers only while they ran */
	CHECK_UINT_EQ(st.st_gid, getegid());
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK_INT_EQ(system(path), 0);
	close(spec.dirfd);
}

/* A worker that cannot start fails the spawn with its reason. */
static int bad_prepare(void *ctx, struct cli_worker_env *env, char *err, size_t errlen)
{
	(void)ctx, (void)env;
	snprintf(err, errlen, "no trust anchors");
	return -EINVAL;
}

static void test_worker_start_failure(void)
{
	char err[512] = "";
	struct out_sink_config cfg = {.no_enrich = true};
	struct out_sink *s = NULL;
	struct cli_worker_spec spec = {
	    .count = 2, .dirfd = -1, .hitlog_fd = -1, .prepare = bad_prepare, .run = put_some};
	struct cli_workers *ws = NULL;

	CHECK_INT_EQ(out_sink_open(&s, &cfg, err, sizeof(err)), 0);
	spec.parent = s;
	CHECK_INT_EQ(cli_sandbox_user("nobody", &spec.user, err, sizeof(err)), 0);
	CHECK(cli_workers_spawn(&ws, &spec, err, sizeof(err)) != 0);
	CHECK(ws == NULL);
	CHECK(strstr(err, "no trust anchors") != NULL);
	out_sink_discard(s);
}

int main(void)
{
	RUN(test_sandbox);
	RUN(test_exec_kills);
	RUN(test_workers_shards);
	RUN(test_worker_start_failure);
	return test_summary();
}
