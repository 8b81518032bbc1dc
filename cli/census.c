/* census.c — `scan --grab`: engine hits -> hit log -> grab workers -> shards.
 *
 * The engine's receive lcore pushes validated hits into the SPSC ring (and
 * holds them in its backlog while pausing the TX lcores when the ring is
 * full). A writer thread of the root process appends every hit to the
 * durable hit log in the results directory (base/hitlog.h: write()n as
 * soon as the ring runs dry, fdatasync()ed at least once a second), so the
 * ring drains at disk speed whatever the grab stage does.
 *
 * The grab stage is N worker processes (cli/worker.h), forked before the
 * engine starts and sandboxed (cli/sandbox.h). Each reads the hit log
 * itself, as it grows, through a read-only descriptor the root opened for
 * it, and takes the hits of its share (a hash of address and port): a slow
 * worker makes the log run ahead, never a hit disappear, and no hit passes
 * through a buffer that could fill. Each writes its own shards; the root
 * lists them in the manifest as they are reported. When the writer has
 * put the last hit in the log, the root tells the workers how many there
 * are (FINAL); a worker ends when it has read that many and grabbed its
 * share. Without a results directory the log is an unnamed temporary file
 * and the records come to the root as NDJSON lines for stdout. */
#include "census.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/hitlog.h"
#include "base/quit.h"
#include "base/splitmix.h"
#include "cli/census_resume.h"
#include "cli/worker.h"
#include "probes/grabber.h"

#define CENSUS_SYNC_MS 1000 /* the hit log is fdatasync()ed at least this often */
#define CENSUS_IDLE_US 1000 /* the writer's nap when the ring is empty */
#define CENSUS_TMP_DIR "/tmp"

struct census_grab {
	struct out_sink *sink;
	struct grab_config gcfg;
	struct mc_spsc *ring;
	int dirfd; /* the results directory, or -1 */
	struct mc_hitlog_writer *log;
	struct cli_workers *workers;
	pthread_t writer_thread, serve_thread;
	bool writer_started, serve_started;
	_Atomic uint64_t logged; /* records handed to the kernel */
	_Atomic uint64_t
	    synced; /* records known durable (the engine's checkpoint waits for them) */
	bool resumed;
	struct census_resume old; /* a resume: the earlier sessions' hits (each worker: a copy) */
	struct engine_ckpt ckpt;  /* a resume: where the engine restarts */
	_Atomic bool writer_done; /* every hit of the ring is in the log */
	bool final_sent;
	int writer_rc; /* first hit log failure, 0 if none */
	int serve_rc;  /* cli_workers_wait() result */
	bool quiet;    /* no "waiting for the grabber" line */
	struct cli_worker_report sum;
	char log_err[256], serve_err[512];
	/* in a worker (its own copy of this struct after the fork) */
	struct grabber *grabber;
	struct cli_worker_env *env;
	struct mc_hitlog_reader reader;
	struct cli_worker_report *rep;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- in a worker ---------------------------------------------------------- */

/* Every finished target goes to the worker's sink. After the first sink
 * failure the sink refuses the rest; they are counted, not lost silently,
 * and the failure ends the run with an error. */
static void on_record(void *ctx, struct mc_record *rec)
{
	struct census_grab *c = ctx;
	int rc = out_sink_put(c->env->sink, rec);

	if (rc == 0) {
		c->rep->records++;
		return;
	}
	c->rep->refused++;
	if (c->rep->sink_rc == 0) {
		c->rep->sink_rc = rc;
		snprintf(c->rep->reason, sizeof(c->rep->reason), "%s",
			 out_sink_strerror(c->env->sink));
		grabber_stop(c->grabber);
	}
}

/* A resumed census re-sends the last reply window before its checkpoint;
 * hits that already have a record are not grabbed twice (the root's sink
 * read them before the fork). */
static bool skip_recorded(void *ctx, uint32_t addr, uint16_t port)
{
	const struct census_grab *c = ctx;

	return out_sink_recorded(c->sink, addr, port);
}

/* Which worker grabs a hit. */
static unsigned share_of(uint32_t addr, uint16_t port, unsigned n)
{
	uint64_t x = ((uint64_t)addr << 16) | port;

	return (unsigned)(mc_splitmix64(&x) % n);
}

static bool mine(const struct census_grab *c, const struct mc_hit *h)
{
	return share_of(h->addr, h->port, c->env->count) == c->env->index;
}

/* The earlier sessions' hits without a record first, then this session's
 * log without what they had found; of each, this worker's share. */
static int source_next(void *ctx, struct mc_hit *out)
{
	struct census_grab *c = ctx;
	int r;

	while (census_resume_next(&c->old, out))
		if (mine(c, out)) {
			c->rep->hits_old++;
			return 1;
		}
	while ((r = mc_hitlog_next(&c->reader, out)) == 1) {
		if (!mine(c, out))
			continue;
		c->rep->hits_mine++;
		if (!census_resume_seen(&c->old, out->addr, out->port))
			return 1;
		c->rep->hits_refound++;
	}
	return r;
}

static bool source_done(void *ctx)
{
	struct census_grab *c = ctx;

	if (!cli_worker_poll_ctl(c->env)) { /* the root is gone: nobody to report to */
		mc_quit_request(0);
		mc_quit_request(0);
		return true;
	}
	return c->env->final && c->reader.records + c->reader.corrupt >= c->env->final_logged;
}

static int worker_prepare(void *ctx, struct cli_worker_env *env, char *err, size_t errlen)
{
	struct census_grab *c = ctx;

	c->env = env;
	c->grabber = grabber_new(&c->gcfg, on_record, c, err, errlen);
	if (c->grabber == NULL)
		return -EINVAL;
	return mc_hitlog_open_fd(&c->reader, env->hitlog_fd, err, errlen);
}

static void worker_run(void *ctx, struct cli_worker_env *env, struct cli_worker_report *rep)
{
	struct census_grab *c = ctx;
	struct grab_source src = {.ctx = c, .next = source_next, .done = source_done};

	c->env = env;
	c->rep = rep;
	rep->run_rc = grabber_run_source(c->grabber, &src);
	if (rep->run_rc != 0 && rep->reason[0] == '\0')
		snprintf(rep->reason, sizeof(rep->reason), "grabber: %s", strerror(-rep->run_rc));
	grabber_get_stats(c->grabber, &rep->stats);
	rep->hits_read = c->reader.records;
	rep->hits_corrupt = c->reader.corrupt;
	out_sink_worker_counts(env->sink, &rep->records_lost, &rep->lookup_errors);
}

/* ---- in the root process -------------------------------------------------- */

static bool sink_recorded(const void *sink, uint32_t addr, uint16_t port)
{
	return out_sink_recorded(sink, addr, port);
}

/* A resumed census starts a new hit log; the last session's is kept as
 * hits.log.N (the first free N) beside it, and read back by
 * census_resume_load(). */
static int keep_old_hitlog(int dirfd, char *err, size_t errlen)
{
	char name[32];

	for (unsigned n = 1; n < 100000; n++) {
		snprintf(name, sizeof(name), "%s.%u", MC_HITLOG_NAME, n);
		if (renameat2(dirfd, MC_HITLOG_NAME, dirfd, name, RENAME_NOREPLACE) == 0 ||
		    errno == ENOENT)
			return 0;
		if (errno != EEXIST) {
			snprintf(err, errlen, "keep the last hit log as %s: %s", name,
				 strerror(errno));
			return -errno;
		}
	}
	snprintf(err, errlen, "too many old hit logs");
	return -EEXIST;
}

/* Fork the workers, each with a read-only descriptor of the hit log. */
static int spawn_workers(struct census_grab *c, const struct census_workers_cfg *wc, char *err,
			 size_t errlen)
{
	struct cli_worker_spec spec = {.count = wc->count,
				       .parent = c->sink,
				       .dirfd = c->dirfd,
				       .prepare = worker_prepare,
				       .run = worker_run,
				       .ctx = c};
	char path[64];
	int rc = cli_sandbox_user(wc->user, &spec.user, err, errlen);

	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", c->log->fd);
	spec.hitlog_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (spec.hitlog_fd < 0) {
		snprintf(err, errlen, "hit log: reopen for the workers: %s", strerror(errno));
		return -errno;
	}
	rc = cli_workers_spawn(&c->workers, &spec, err, errlen);
	close(spec.hitlog_fd);
	return rc;
}

int census_grab_open(struct census_grab **out, const struct grab_config *gcfg,
		     const struct out_sink_config *scfg, const struct mc_hitlog_id *id,
		     const struct census_workers_cfg *wc, char *err, size_t errlen)
{
	struct census_grab *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL || (c->log = malloc(sizeof(*c->log))) == NULL) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->dirfd = -1;
	c->log->fd = -1;
	c->gcfg = *gcfg;
	rc = out_sink_open(&c->sink, scfg, err, errlen);
	if (rc != 0)
		goto fail;
	if (scfg->dir != NULL) {
		c->dirfd = open(scfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (c->dirfd < 0) {
			rc = -errno;
			snprintf(err, errlen, "cannot open %s: %s", scfg->dir, strerror(-rc));
			goto fail_sink;
		}
	}
	rc = scfg->resume && c->dirfd >= 0 ? keep_old_hitlog(c->dirfd, err, errlen) : 0;
	if (rc == 0 && scfg->resume && c->dirfd >= 0) {
		rc = census_resume_load(&c->old, c->dirfd, id, sink_recorded, c->sink, err, errlen);
		c->resumed = true;
	}
	if (rc != 0)
		goto fail_sink;
	rc = mc_hitlog_create(c->log, c->dirfd, c->dirfd >= 0 ? MC_HITLOG_NAME : CENSUS_TMP_DIR, id,
			      err, errlen);
	if (rc != 0)
		goto fail_sink;
	if (scfg->resume) {
		c->gcfg.skip = skip_recorded;
		c->gcfg.skip_ctx = c;
	}
	rc = spawn_workers(c, wc, err, errlen);
	if (rc != 0)
		goto fail_sink;
	*out = c;
	return 0;
fail_sink:
	census_resume_free(&c->old);
	if (c->log->fd >= 0) {
		mc_hitlog_close(c->log);
		if (c->dirfd >= 0)
			unlinkat(c->dirfd, MC_HITLOG_NAME, 0);
	}
	if (c->dirfd >= 0)
		close(c->dirfd);
	out_sink_discard(c->sink);
fail:
	free(c->log);
	free(c);
	return rc;
}

/* Writer thread: ring -> hit log, never waiting on the grab stage. */
static void *writer_main(void *arg)
{
	struct census_grab *c = arg;
	int64_t last_sync = mono_ms();
	struct mc_hit h;

	for (;;) {
		bool finished = mc_spsc_finished(c->ring);
		uint64_t n = 0;
		int rc = 0;

		while (rc == 0 && mc_spsc_pop(c->ring, &h)) {
			rc = mc_hitlog_append(c->log, &h);
			n++;
		}
		if (rc == 0 && (n > 0 || mono_ms() - last_sync >= CENSUS_SYNC_MS)) {
			bool sync = mono_ms() - last_sync >= CENSUS_SYNC_MS;
			rc = mc_hitlog_flush(c->log, sync);
			if (sync) {
				last_sync = mono_ms();
				atomic_store_explicit(&c->synced, c->log->synced,
						      memory_order_release);
			}
		}
		if (rc != 0) {
			c->writer_rc = rc;
			snprintf(c->log_err, sizeof(c->log_err), "hit log: %s", strerror(-rc));
			mc_quit_request(0); /* nowhere durable to put hits: stop the scan */
			break;
		}
		atomic_store_explicit(&c->logged, c->log->written, memory_order_release);
		if (finished)
			break;
		if (n == 0)
			usleep(CENSUS_IDLE_US);
	}
	if (c->writer_rc == 0 && (c->writer_rc = mc_hitlog_flush(c->log, true)) != 0)
		snprintf(c->log_err, sizeof(c->log_err), "hit log: %s", strerror(-c->writer_rc));
	atomic_store_explicit(&c->logged, c->log->written, memory_order_release);
	if (c->writer_rc == 0)
		atomic_store_explicit(&c->synced, c->log->synced, memory_order_release);
	atomic_store_explicit(&c->writer_done, true, memory_order_release);
	return NULL;
}

/* On the serving thread: once the log is complete, say so. */
static void serve_tick(void *ctx, struct cli_workers *w)
{
	struct census_grab *c = ctx;

	if (c->final_sent || !atomic_load_explicit(&c->writer_done, memory_order_acquire))
		return;
	cli_workers_final(w, atomic_load_explicit(&c->logged, memory_order_acquire));
	c->final_sent = true;
}

/* Serving thread: shards into the manifest, lines to stdout, the quit flag
 * to the workers, until every worker has reported and ended. */
static void *serve_main(void *arg)
{
	struct census_grab *c = arg;

	c->serve_rc =
	    cli_workers_wait(c->workers, serve_tick, c, c->serve_err, sizeof(c->serve_err));
	cli_workers_totals(c->workers, &c->sum);
	return NULL;
}

static int consumer_start(void *ctx, struct mc_spsc *ring)
{
	struct census_grab *c = ctx;
	int rc;

	c->ring = ring;
	rc = pthread_create(&c->writer_thread, NULL, writer_main, c);
	if (rc != 0)
		return -rc;
	c->writer_started = true;
	rc = pthread_create(&c->serve_thread, NULL, serve_main, c);
	if (rc != 0)
		return -rc;
	c->serve_started = true;
	return 0;
}

static void join_threads(struct census_grab *c)
{
	if (c->writer_started) {
		pthread_join(c->writer_thread, NULL);
		c->writer_started = false;
	}
	if (c->serve_started) {
		pthread_join(c->serve_thread, NULL);
		c->serve_started = false;
	}
}

static int consumer_finish(void *ctx)
{
	struct census_grab *c = ctx;

	if (c->serve_started && !c->quiet)
		fprintf(stderr, "mailcensus scan: sending and cooldown done; the grab workers "
				"finish the targets they hold (bounded by the grab timeouts)\n");
	join_threads(c);
	if (c->writer_rc != 0)
		return c->writer_rc;
	return c->serve_rc;
}

void census_grab_set_interrupted(struct census_grab *c, int signo)
{
	out_sink_set_interrupted(c->sink, signo);
}

void census_grab_set_quiet(struct census_grab *c, bool quiet)
{
	c->quiet = quiet;
}

static void consumer_tick(void *ctx, const struct engine_result *now)
{
	struct census_grab *c = ctx;

	out_sink_set_counts(c->sink, now->sent, now->hits);
}

void census_grab_set_engine(struct census_grab *c, const struct engine_result *res)
{
	out_sink_set_counts(c->sink, res->sent, res->hits);
}

static uint64_t consumer_durable(void *ctx)
{
	struct census_grab *c = ctx;

	return atomic_load_explicit(&c->synced, memory_order_acquire);
}

struct engine_consumer census_grab_consumer(struct census_grab *c)
{
	return (struct engine_consumer){.ctx = c,
					.start = consumer_start,
					.finish = consumer_finish,
					.durable = consumer_durable,
					.tick = consumer_tick};
}

int census_grab_engine(struct census_grab *c, struct engine_config *cfg, char *err, size_t errlen)
{
	char note[160];
	int rc = census_resume_engine(cfg, c->dirfd, c->resumed, &c->ckpt, note, sizeof(note), err,
				      errlen);

	if (rc == 0 && c->resumed && !c->quiet)
		fprintf(stderr,
			"mailcensus scan: resume: %s; %llu hits in %u earlier hit log%s, %zu of "
			"them without a record (grabbed first)\n",
			note, (unsigned long long)c->old.old_hits, c->old.logs,
			c->old.logs == 1 ? "" : "s", c->old.ntodo);
	return rc;
}

void census_grab_counts(const struct census_grab *c, struct census_counts *out)
{
	uint64_t logged = c->log->written;
	uint64_t taken = c->sum.records + c->sum.stats.skipped; /* of mine - refound + old */
	uint64_t got = c->sum.hits_mine - c->sum.hits_refound + c->sum.hits_old;

	out->records = c->sum.records;
	out->failed = c->sum.stats.targets_failed;
	out->hits_logged = logged;
	out->hits_read = c->sum.hits_read;
	out->hits_corrupt = c->sum.hits_corrupt;
	out->hits_skipped = c->sum.stats.skipped;
	out->hits_abandoned = got > taken ? got - taken : 0;
	out->hits_unread = logged > c->sum.hits_mine + c->sum.hits_corrupt
			       ? logged - c->sum.hits_mine - c->sum.hits_corrupt
			       : 0;
	out->workers = c->workers != NULL ? cli_workers_count(c->workers) : 0;
	out->old_hits = c->old.nseen;
	out->old_todo = c->sum.hits_old;
	out->refound = c->sum.hits_refound;
}

static void free_all(struct census_grab *c)
{
	cli_workers_free(c->workers);
	census_resume_free(&c->old);
	if (c->log->fd >= 0)
		mc_hitlog_close(c->log);
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->log);
	free(c);
}

void census_grab_discard(struct census_grab *c)
{
	join_threads(c);
	cli_workers_free(c->workers); /* they never got a hit */
	c->workers = NULL;
	if (c->dirfd >= 0)
		unlinkat(c->dirfd, MC_HITLOG_NAME, 0); /* nothing was sent: no hit */
	out_sink_discard(c->sink);
	c->sink = NULL;
	free_all(c);
}

/* The manifest's "hits": every hit of the log accounted for. */
static void hits_json(const struct census_grab *c, char *buf, size_t cap)
{
	struct census_counts n;

	census_grab_counts(c, &n);
	snprintf(buf, cap,
		 "{\"logged\":%llu,\"old_todo\":%llu,\"records\":%llu,\"error_records\":%llu,"
		 "\"skipped\":%llu,\"refound\":%llu,"
		 "\"abandoned\":%llu,\"unread\":%llu,\"corrupt\":%llu,\"workers\":%u}",
		 (unsigned long long)n.hits_logged, (unsigned long long)n.old_todo,
		 (unsigned long long)n.records, (unsigned long long)n.failed,
		 (unsigned long long)n.hits_skipped, (unsigned long long)n.refound,
		 (unsigned long long)n.hits_abandoned, (unsigned long long)n.hits_unread,
		 (unsigned long long)n.hits_corrupt, n.workers);
}

int census_grab_close(struct census_grab *c, const struct out_meta *meta, char *err, size_t errlen)
{
	struct out_meta m = *meta;
	char hits[512];
	int rc, lrc;

	join_threads(c);
	hits_json(c, hits, sizeof(hits));
	cli_workers_free(c->workers);
	c->workers = NULL;
	lrc = mc_hitlog_close(c->log);
	m.hits_json = hits;
	out_sink_add_counts(c->sink, c->sum.records_lost, c->sum.lookup_errors);
	if (c->serve_rc != 0)
		out_sink_fail(c->sink, c->serve_rc, c->serve_err);
	rc = out_sink_close(c->sink, &m, err, errlen);
	if (c->writer_rc != 0 || lrc != 0) {
		snprintf(err, errlen, "%s",
			 c->writer_rc != 0 ? c->log_err : "hit log: close failed");
		rc = c->writer_rc != 0 ? c->writer_rc : lrc;
	} else if (c->serve_rc != 0) {
		snprintf(err, errlen, "grab workers: %s", c->serve_err);
		rc = c->serve_rc;
	}
	free_all(c);
	return rc;
}
