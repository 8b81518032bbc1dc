/* cmd_grab.c — `mailcensus grab` and `mailcensus resume`: targets from a
 * file or stdin, records to the output sink. Reads and checks every target
 * first (a target outside the safe range is a start-up error, before any
 * connection), then forks the grab workers (cli/worker.h: unprivileged
 * processes, each with its own grabber, epoll loop and shards) over
 * interleaved shares of the list; the root writes the manifest.
 *
 * Resume: the manifest of a grab run names its words, its working
 * directory and its targets file with the file's SHA-256. `resume DIR`
 * parses the same words again (plus options that cannot change the target
 * set), refuses a targets file whose bytes changed, lets the sink take the
 * directory over, and grabs only the targets that have no record yet. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/log.h"
#include "base/quit.h"
#include "base/ipv6.h"
#include "base/safety.h"
#include "cli/commands.h"
#include "cli/grab_opts.h"
#include "cli/proclimits.h"
#include "cli/worker.h"
#include "output/sink.h"
#include "probes/grabber.h"

struct grab_target_list {
	uint32_t *addr;
	uint16_t *port;
	uint32_t *name_at; /* offset+1 of the target's name in names, 0 for none */
	size_t n, cap;
	char *names; /* NUL-terminated names, back to back */
	size_t names_len, names_cap;
	char sha256[65];      /* of the file's bytes */
	uint8_t (*addr6)[16]; /* IPv6 targets ("[ADDR]:PORT"), after the IPv4 ones */
	uint16_t *port6;
	size_t n6, cap6;
};

/* What a resumed run brings along. */
struct grab_resume {
	const char *sha256; /* of the targets file the run started with */
};

/* The command's state; each worker process has its own copy after the
 * fork and fills in its grabber. */
struct grab_run {
	const struct grab_opts *opts;
	const struct grab_target_list *targets;
	struct out_sink *sink; /* the root's: the manifest */
	/* in a worker */
	struct grabber *g;
	struct cli_worker_env *env;
	struct cli_worker_report *rep;
};

static int list_push(struct grab_target_list *l, uint32_t addr, uint16_t port)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		uint32_t *a = realloc(l->addr, cap * sizeof(*a));
		uint16_t *p;

		if (a == NULL)
			return -ENOMEM;
		l->addr = a;
		p = realloc(l->port, cap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		l->port = p;
		uint32_t *na = realloc(l->name_at, cap * sizeof(*na));
		if (na == NULL)
			return -ENOMEM;
		l->name_at = na;
		l->cap = cap;
	}
	l->addr[l->n] = addr;
	l->name_at[l->n] = 0;
	l->port[l->n++] = port;
	return 0;
}

/* Keep the last pushed target's name; 0 or -ENOMEM. */
static int list_name(struct grab_target_list *l, const char *name)
{
	size_t n = strlen(name) + 1;

	if (name[0] == '\0')
		return 0;
	if (l->names_len + n > l->names_cap) {
		size_t cap = l->names_cap ? l->names_cap * 2 : 65536;
		char *p = cap > UINT32_MAX - 1 ? NULL : realloc(l->names, cap);

		if (p == NULL)
			return -ENOMEM;
		l->names = p;
		l->names_cap = cap;
	}
	memcpy(l->names + l->names_len, name, n);
	l->name_at[l->n - 1] = (uint32_t)l->names_len + 1;
	l->names_len += n;
	return 0;
}

static int list_push6(struct grab_target_list *l, const struct mc_ipv6 *a, uint16_t port)
{
	if (l->n6 == l->cap6) {
		size_t cap = l->cap6 ? l->cap6 * 2 : 64;
		uint8_t(*na)[16] = realloc(l->addr6, cap * sizeof(*na));
		uint16_t *p;

		if (na == NULL)
			return -ENOMEM;
		l->addr6 = na;
		p = realloc(l->port6, cap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		l->port6 = p;
		l->cap6 = cap;
	}
	memcpy(l->addr6[l->n6], a->b, 16);
	l->port6[l->n6++] = port;
	return 0;
}

/* One IPv6 line "[ADDR]:PORT": 1 pushed, 0 not such a line, 2 refused. */
static int parse_line6(const char *line, unsigned long lineno, struct grab_target_list *l)
{
	struct mc_ipv6 a;
	uint16_t port;
	char why[160];
	int r = grab_parse_target6(line, &a, &port);

	if (r == 0)
		return 0;
	if (r < 0) {
		log_error("grab: line %lu: not [ADDR]:PORT: %.60s", lineno, line);
		return 2;
	}
	if (!mc_safe_allows6(&a, why, sizeof(why))) {
		log_error("grab: line %lu: refused: %s", lineno, why);
		return 2;
	}
	if (list_push6(l, &a, port) < 0) {
		log_error("grab: out of memory for targets");
		return 2;
	}
	return 1;
}

/* One line (getline: any length); NUL bytes are an error, not a line end. */
static int parse_line(const char *line, size_t len, unsigned long lineno,
		      struct grab_target_list *l)
{
	uint32_t addr;
	uint16_t port;
	char why[160], name[MC_NAME_MAX];

	if (strlen(line) != len) {
		log_error("grab: line %lu: a NUL byte (a target file is text)", lineno);
		return 2;
	}
	int r6 = parse_line6(line, lineno, l);
	if (r6 != 0)
		return r6 == 2 ? 2 : 0;
	int r = grab_parse_target_named(line, &addr, &port, name, sizeof(name));
	if (r < 0) {
		log_error("grab: line %lu: not ADDR:PORT: %.60s", lineno, line);
		return 2;
	}
	if (r > 0 && !mc_safe_allows(addr, addr, why, sizeof(why))) {
		log_error("grab: line %lu: refused: %s", lineno, why);
		return 2;
	}
	if (r > 0 && (list_push(l, addr, port) < 0 || list_name(l, name) < 0)) {
		log_error("grab: out of memory for targets");
		return 2;
	}
	return 0;
}

/* Read and check every target, hashing the file's bytes. 0, or an exit
 * status (2) after a message. */
static int read_targets(const char *path, struct grab_target_list *l)
{
	FILE *in = (path == NULL || strcmp(path, "-") == 0) ? stdin : fopen(path, "r");
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	unsigned char md[32];
	unsigned mdlen = 0;
	int rc = 0;

	if (in == NULL || sha == NULL || !EVP_DigestInit_ex(sha, EVP_sha256(), NULL)) {
		log_error("grab: cannot open %s: %s", path, in ? "out of memory" : strerror(errno));
		rc = 2;
	}
	while (rc == 0 && (len = getline(&line, &cap, in)) >= 0) {
		EVP_DigestUpdate(sha, line, (size_t)len);
		rc = parse_line(line, (size_t)len, ++lineno, l);
	}
	if (rc == 0 && ferror(in)) {
		log_error("grab: reading %s: %s", path ? path : "stdin", strerror(errno));
		rc = 2;
	}
	if (rc == 0) {
		EVP_DigestFinal_ex(sha, md, &mdlen);
		for (unsigned i = 0; i < 32; i++)
			snprintf(l->sha256 + 2 * i, 3, "%02x", md[i]);
	}
	free(line);
	EVP_MD_CTX_free(sha);
	if (in != NULL && in != stdin)
		fclose(in);
	return rc;
}

/* Resume: drop the targets that already have a record. */
static void drop_recorded(struct grab_target_list *l, const struct out_sink *sink)
{
	size_t o = 0, n = l->n, o6 = 0, n6 = l->n6;

	for (size_t i = 0; i < n; i++) {
		if (out_sink_recorded(sink, l->addr[i], l->port[i]))
			continue;
		l->addr[o] = l->addr[i];
		l->name_at[o] = l->name_at[i];
		l->port[o++] = l->port[i];
	}
	l->n = o;
	for (size_t i = 0; i < n6; i++) {
		if (out_sink_recorded6(sink, l->addr6[i], l->port6[i]))
			continue;
		memmove(l->addr6[o6], l->addr6[i], sizeof(l->addr6[0]));
		l->port6[o6++] = l->port6[i];
	}
	l->n6 = o6;
	log_info("grab: resume: %zu of %zu targets already have a record, %zu to grab",
		 n + n6 - o - o6, n + n6, o + o6);
}

/* In a worker: every finished target goes to its own sink. */
static void put_record(void *ctx, struct mc_record *rec)
{
	struct grab_run *run = ctx;
	int rc;

	if (run->rep->sink_rc != 0) {
		run->rep->refused++;
		return;
	}
	rc = out_sink_put(run->env->sink, rec);
	if (rc == 0) {
		run->rep->records++;
		return;
	}
	run->rep->refused++;
	run->rep->sink_rc = rc;
	snprintf(run->rep->reason, sizeof(run->rep->reason), "output: %s",
		 out_sink_strerror(run->env->sink));
	mc_quit_request(0); /* nowhere to put records: stop starting targets */
}

/* In a worker, still root: the grabber (trust anchors, OpenSSL). */
static int worker_prepare(void *ctx, struct cli_worker_env *env, char *err, size_t errlen)
{
	struct grab_run *run = ctx;

	run->env = env;
	run->g = grabber_new(&run->opts->grab, put_record, run, err, errlen);
	return run->g == NULL ? -EINVAL : 0;
}

/* In a worker, sandboxed: every count-th target from its index on. */
static void worker_run(void *ctx, struct cli_worker_env *env, struct cli_worker_report *rep)
{
	struct grab_run *run = ctx;
	const struct grab_target_list *t = run->targets;
	struct grabber *g = run->g;
	int rc = 0;

	run->env = env;
	run->rep = rep;
	for (size_t i = env->index; i < t->n + t->n6 && mc_quit_level() == MC_QUIT_NONE;
	     i += env->count) {
		if (i >= t->n) /* IPv6 targets, after the IPv4 ones */
			rc = grabber_add6(g, t->addr6[i - t->n], t->port6[i - t->n]);
		else
			rc = grabber_add_named(g, t->addr[i], t->port[i],
					       t->name_at[i] ? t->names + t->name_at[i] - 1 : NULL);
		if (rc < 0 && rc != -EINTR)
			break;
	}
	if (rc == 0 || rc == -EINTR)
		rc = grabber_finish(g);
	rep->run_rc = rc < 0 ? rc : 0;
	if (rep->run_rc != 0 && rep->reason[0] == '\0')
		snprintf(rep->reason, sizeof(rep->reason), "grabber: %s", strerror(-rc));
	grabber_get_stats(g, &rep->stats);
	out_sink_worker_counts(env->sink, &rep->records_lost, &rep->lookup_errors);
}

/* Fork the workers, serve them until they end, log the summary. 0 when
 * every worker ran to its end, 1 after a failure, 2 when they could not
 * start. */
static int run_workers(struct grab_run *run, struct grab_opts *opts)
{
	struct cli_worker_spec spec = {.count = opts->workers,
				       .parent = run->sink,
				       .dirfd = -1,
				       .hitlog_fd = -1,
				       .prepare = worker_prepare,
				       .run = worker_run,
				       .ctx = run};
	struct cli_workers *ws = NULL;
	struct cli_worker_report total;
	struct timespec t0, t1;
	char err[512];
	int rc = cli_sandbox_user(opts->user, &spec.user, err, sizeof(err));
	double secs;

	if (rc == 0 && opts->sink.dir != NULL &&
	    (spec.dirfd = open(opts->sink.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = -errno;
		snprintf(err, sizeof(err), "%s: %s", opts->sink.dir, strerror(errno));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (rc == 0)
		rc = cli_workers_spawn(&ws, &spec, err, sizeof(err));
	if (rc != 0) {
		log_error("grab: %s", err);
		if (spec.dirfd >= 0)
			close(spec.dirfd);
		return 2;
	}
	rc = cli_workers_wait(ws, NULL, NULL, err, sizeof(err));
	cli_workers_totals(ws, &total);
	cli_workers_free(ws);
	if (spec.dirfd >= 0)
		close(spec.dirfd);
	out_sink_add_counts(run->sink, total.records_lost, total.lookup_errors);
	if (rc != 0) {
		log_error("grab: %s", err);
		out_sink_fail(run->sink, rc, err);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	log_info("grab: %llu targets (%llu with an error), %llu connections, peak %u open, "
		 "%.2f s, %.0f targets/s, %u worker processes",
		 (unsigned long long)total.stats.targets_done,
		 (unsigned long long)total.stats.targets_failed,
		 (unsigned long long)total.stats.connections, total.stats.open_peak, secs,
		 secs > 0 ? (double)total.stats.targets_done / secs : 0.0, opts->workers);
	return rc != 0 ? 1 : 0;
}

/* The manifest's metadata, with what `resume` needs when the targets came
 * from a file; it goes into the very first manifest, so that a run killed
 * at any moment after it can be resumed. */
struct grab_meta {
	char cmdline[1024], cwd[PATH_MAX], abs[PATH_MAX];
	struct out_meta m;
};

static void fill_meta(struct grab_meta *gm, const struct grab_opts *opts, int argc, char **argv,
		      const char *sha256)
{
	bool resumable = opts->input != NULL && strcmp(opts->input, "-") != 0 &&
			 getcwd(gm->cwd, sizeof(gm->cwd)) != NULL &&
			 realpath(opts->input, gm->abs) != NULL;

	out_command_line(gm->cmdline, sizeof(gm->cmdline), argc, argv);
	gm->m = (struct out_meta){.command_line = gm->cmdline,
				  .shards = 1,
				  .command = resumable ? "grab" : NULL,
				  .cwd = gm->cwd,
				  .argc = argc - 1,
				  .argv = argv + 1,
				  .targets_path = gm->abs,
				  .targets_sha256 = sha256};
}

/* Open the sink; on resume, check the targets file and drop what is recorded. */
static int open_sink(struct grab_run *run, struct grab_opts *opts, struct grab_target_list *targets,
		     const struct grab_meta *meta, const struct grab_resume *res)
{
	char err[512];

	if (res != NULL && strcmp(targets->sha256, res->sha256) != 0) {
		log_error("grab: resume: the targets file %s changed since the run started "
			  "(SHA-256 %s, the run's %s): that would change the target set; refused",
			  opts->input, targets->sha256, res->sha256);
		return 2;
	}
	opts->sink.meta = &meta->m;
	if (out_sink_open(&run->sink, &opts->sink, err, sizeof(err)) < 0) {
		log_error("grab: %s", err);
		return 2;
	}
	if (res != NULL)
		drop_recorded(targets, run->sink);
	return 0;
}

/* The command after option parsing: grab (res NULL) or resume. argv[0] is
 * "grab"; on resume argc/argv are the run's own words, without the options
 * the resume added. */
static int grab_main(struct grab_opts *opts, const struct grab_resume *res, int argc, char **argv)
{
	struct grab_target_list targets = {0};
	struct grab_run run = {.opts = opts, .targets = &targets};
	struct grab_meta *meta = malloc(sizeof(*meta));
	char err[256];
	int rc;

	if (meta == NULL)
		mc_fatal("grab: out of memory");
	mc_log_set_level(opts->verbosity > 0   ? MC_LOG_INFO
			 : opts->verbosity < 0 ? MC_LOG_ERROR
					       : MC_LOG_WARN);
	if (opts->workers == 0)
		opts->workers = cli_workers_default(0);
	rc = read_targets(opts->input, &targets);
	fill_meta(meta, opts, argc, argv, targets.sha256);
	if (rc == 0)
		rc = open_sink(&run, opts, &targets, meta, res);
	if (rc != 0)
		goto out;
	mc_quit_install();
	signal(SIGPIPE, SIG_IGN);
	{
		char warn[256];

		cli_fit_fd_limit(&opts->grab, 1, warn, sizeof(warn)); /* per worker process */
		if (warn[0] != '\0')
			log_warn("grab: %s", warn);
	}
	rc = run_workers(&run, opts);
	if (rc == 2) {
		out_sink_discard(run.sink);
		goto out;
	}
	if (mc_quit_signal() != 0) {
		out_sink_set_interrupted(run.sink, mc_quit_signal());
		rc = 1; /* interrupted: not every target has a record */
	} else if (mc_quit_level() != MC_QUIT_NONE && rc == 0) {
		rc = 1;
	}
	if (out_sink_close(run.sink, NULL, err, sizeof(err)) < 0) {
		log_error("grab: output: %s", err);
		rc = 1;
	}
out:
	free(meta);
	free(targets.addr);
	free(targets.port);
	free(targets.name_at);
	free(targets.names);
	free(targets.addr6);
	free(targets.port6);
	return rc;
}

int cmd_grab(int argc, char **argv)
{
	struct grab_opts opts;
	char err[256];

	if (grab_opts_parse(&opts, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "mailcensus grab: %s (try --help)\n", err);
		return 2;
	}
	if (opts.help) {
		grab_opts_usage(stdout);
		return 0;
	}
	return grab_main(&opts, NULL, argc, argv);
}

/* Options a grab resume may add (resume_check_extras). */
static const struct resume_extra resume_extras[] = {
    {"workers", 'w', true},	{"grab-workers", 0, true}, {"user", 0, true},
    {"concurrency", 'c', true}, {"rate", 'r', true},	   {"connect-timeout", 0, true},
    {"read-timeout", 0, true},	{"timeout", 0, true},	   {"seal-every", 0, true},
    {"verbose", 'v', false},	{"quiet", 'q', false},
};

static int check_extras(int argc, char **argv)
{
	return resume_check_extras(resume_extras, sizeof(resume_extras) / sizeof(resume_extras[0]),
				   "--grab-workers --user --concurrency --rate --connect-timeout "
				   "--read-timeout --timeout --seal-every -v -q",
				   argc, argv);
}

/* ["grab"] + the run's words + the extras; NULL-terminated. */
static char **resume_argv(const struct out_resume *r, int argc, char **argv)
{
	char **v = calloc((size_t)(r->argc + argc + 2), sizeof(char *));

	if (v == NULL)
		return NULL;
	v[0] = "grab";
	memcpy(v + 1, r->argv, (size_t)r->argc * sizeof(char *));
	memcpy(v + 1 + r->argc, argv, (size_t)argc * sizeof(char *));
	return v;
}

int cmd_grab_resume(const char *dir, const struct out_resume *r, int argc, char **argv)
{
	struct grab_opts opts;
	char err[256];
	char **full = NULL;
	int rc = check_extras(argc, argv);

	if (rc != 0)
		return rc;
	if (r->targets_sha256 == NULL) {
		log_error("resume: %s: the run's targets came from stdin: cannot be resumed", dir);
		return 2;
	}
	full = resume_argv(r, argc, argv);
	if (full == NULL) {
		log_error("resume: out of memory");
		return 2;
	}
	if (grab_opts_parse(&opts, r->argc + argc + 1, full, err, sizeof(err)) < 0) {
		log_error("resume: the run's options: %s", err);
		free(full);
		return 2;
	}
	opts.sink.dir = dir;
	opts.sink.resume = true;
	rc =
	    grab_main(&opts, &(struct grab_resume){.sha256 = r->targets_sha256}, r->argc + 1, full);
	free(full);
	return rc;
}
