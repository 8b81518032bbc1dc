/* cmd_grab.c — `mailcensus grab`: targets from a file or stdin, records to
 * the output sink. Reads and checks every target first (a target outside
 * the safe range is a start-up error, before any connection), then runs
 * one grabber per worker thread over an interleaved share of the list. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/proclimits.h"
#include "base/log.h"
#include "base/quit.h"
#include "base/safety.h"
#include "output/sink.h"
#include "cli/grab_opts.h"
#include "probes/grabber.h"

struct grab_target_list {
	uint32_t *addr;
	uint16_t *port;
	size_t n, cap;
};

struct grab_run {
	const struct grab_opts *opts;
	const struct grab_target_list *targets;
	struct out_sink *sink;
	pthread_mutex_t sink_lock;
	int sink_err; /* first out_sink_put failure, 0 when none */
};

struct grab_worker {
	struct grab_run *run;
	struct grabber *g;
	unsigned index;
	pthread_t thread;
	int result;
	struct grab_stats stats;
	char err[256];
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
		l->cap = cap;
	}
	l->addr[l->n] = addr;
	l->port[l->n++] = port;
	return 0;
}

/* Read and check every target. 0, or an exit status (2) after a message. */
static int read_targets(const char *path, struct grab_target_list *l)
{
	FILE *in = (path == NULL || strcmp(path, "-") == 0) ? stdin : fopen(path, "r");
	char line[256], why[160];
	unsigned long lineno = 0;
	int rc = 0;

	if (in == NULL) {
		log_error("grab: cannot open %s: %s", path, strerror(errno));
		return 2;
	}
	for (;;) {
		uint32_t addr;
		uint16_t port;
		int r = grab_read_target(in, line, sizeof(line), &addr, &port);

		if (rc != 0 || r == -ENODATA)
			break;
		lineno++;
		if (r == -E2BIG) {
			log_error("grab: line %lu: longer than %zu bytes", lineno,
				  sizeof(line) - 1);
			rc = 2;
		} else if (r < 0) {
			log_error("grab: line %lu: not ADDR:PORT: %.60s", lineno, line);
			rc = 2;
		} else if (r > 0 && !mc_safe_allows(addr, addr, why, sizeof(why))) {
			log_error("grab: line %lu: refused: %s", lineno, why);
			rc = 2;
		} else if (r > 0 && list_push(l, addr, port) < 0) {
			log_error("grab: out of memory for targets");
			rc = 2;
		}
	}
	if (in != stdin)
		fclose(in);
	return rc;
}

static void put_record(void *ctx, struct mc_record *rec)
{
	struct grab_run *run = ctx;

	pthread_mutex_lock(&run->sink_lock);
	if (run->sink_err == 0) {
		run->sink_err = out_sink_put(run->sink, rec);
		if (run->sink_err != 0)
			mc_quit_request(0); /* nowhere to put records: stop starting targets */
	}
	pthread_mutex_unlock(&run->sink_lock);
}

static void *worker_main(void *arg)
{
	struct grab_worker *w = arg;
	struct grab_run *run = w->run;
	unsigned nw = run->opts->workers;
	struct grabber *g = w->g;

	for (size_t i = w->index; i < run->targets->n && mc_quit_level() == MC_QUIT_NONE; i += nw) {
		w->result = grabber_add(g, run->targets->addr[i], run->targets->port[i]);
		if (w->result < 0 && w->result != -EINTR)
			break;
	}
	if (w->result == 0 || w->result == -EINTR)
		w->result = grabber_finish(g);
	if (w->result < 0 && w->err[0] == '\0')
		snprintf(w->err, sizeof(w->err), "%s", strerror(-w->result));
	grabber_get_stats(g, &w->stats);
	return NULL;
}

/* Run the workers; 0 when every worker ran to its end, else 1. */
static int run_workers(struct grab_worker *ws, unsigned nw)
{
	struct grab_stats total = {0};
	struct timespec t0, t1;
	int rc = 0;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < nw; i++) {
		if (nw == 1)
			worker_main(&ws[i]);
		else if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0)
			mc_fatal("grab: cannot start worker thread %u", i);
	}
	for (unsigned i = 0; i < nw; i++) {
		if (nw > 1)
			pthread_join(ws[i].thread, NULL);
		if (ws[i].result < 0) {
			log_error("grab: worker %u: %s", i, ws[i].err);
			rc = 1;
		}
		total.targets_done += ws[i].stats.targets_done;
		total.targets_failed += ws[i].stats.targets_failed;
		total.connections += ws[i].stats.connections;
		total.open_peak += ws[i].stats.open_peak;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	log_info("grab: %llu targets (%llu with an error), %llu connections, peak %u open, "
		 "%.2f s, %.0f targets/s",
		 (unsigned long long)total.targets_done, (unsigned long long)total.targets_failed,
		 (unsigned long long)total.connections, total.open_peak, secs,
		 secs > 0 ? (double)total.targets_done / secs : 0.0);
	return rc;
}

/* One grabber per worker, made before any thread starts so that a start-up
 * failure is exit status 2. */
static int make_workers(struct grab_run *run, struct grab_worker *ws, unsigned nw)
{
	for (unsigned i = 0; i < nw; i++) {
		ws[i] = (struct grab_worker){.run = run, .index = i};
		ws[i].g =
		    grabber_new(&run->opts->grab, put_record, run, ws[i].err, sizeof(ws[i].err));
		if (ws[i].g == NULL) {
			log_error("grab: %s", ws[i].err);
			return -EINVAL;
		}
	}
	return 0;
}

int cmd_grab(int argc, char **argv)
{
	struct grab_opts opts;
	struct grab_target_list targets = {0};
	struct grab_run run = {.opts = &opts, .targets = &targets};
	struct grab_worker *ws = NULL;
	char err[256], cmdline[1024];
	int rc;

	if (grab_opts_parse(&opts, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "mailcensus grab: %s (try --help)\n", err);
		return 2;
	}
	if (opts.help) {
		grab_opts_usage(stdout);
		return 0;
	}
	mc_log_set_level(opts.verbosity > 0   ? MC_LOG_INFO
			 : opts.verbosity < 0 ? MC_LOG_ERROR
					      : MC_LOG_WARN);
	rc = read_targets(opts.input, &targets);
	if (rc != 0)
		goto out;
	if (out_sink_open(&run.sink, &opts.sink, err, sizeof(err)) < 0) {
		log_error("grab: %s", err);
		rc = 2;
		goto out;
	}
	pthread_mutex_init(&run.sink_lock, NULL);
	mc_quit_install();
	signal(SIGPIPE, SIG_IGN);
	{
		char warn[256];

		cli_fit_fd_limit(&opts.grab, opts.workers, warn, sizeof(warn));
		if (warn[0] != '\0')
			log_warn("grab: %s", warn);
	}
	ws = calloc(opts.workers, sizeof(*ws));
	if (ws == NULL)
		mc_fatal("grab: out of memory");
	if (make_workers(&run, ws, opts.workers) < 0) {
		rc = 2;
		goto close_sink;
	}
	rc = run_workers(ws, opts.workers);
	if (run.sink_err != 0) {
		log_error("grab: output: %s", out_sink_strerror(run.sink));
		rc = 1;
	}
close_sink:
	out_command_line(cmdline, sizeof(cmdline), argc, argv);
	if (out_sink_close(run.sink, &(struct out_meta){.command_line = cmdline, .shards = 1}, err,
			   sizeof(err)) < 0) {
		log_error("grab: output: %s", err);
		rc = 1;
	}
	if (mc_quit_level() != MC_QUIT_NONE && rc == 0 && run.sink_err == 0)
		rc = 1; /* interrupted: not every target has a record */
	pthread_mutex_destroy(&run.sink_lock);
out:
	for (unsigned i = 0; ws != NULL && i < opts.workers; i++)
		grabber_free(ws[i].g);
	free(ws);
	free(targets.addr);
	free(targets.port);
	return rc;
}
