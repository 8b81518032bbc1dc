/* census.c — `scan --grab`: engine hits -> hit log -> grabber -> sink.
 *
 * The engine's receive lcore pushes validated hits into the SPSC ring (and
 * holds them in its backlog while pausing the TX lcores when the ring is
 * full). A writer thread appends every hit to the durable hit log in the
 * results directory (base/hitlog.h: write()n as soon as the ring runs dry,
 * fdatasync()ed at least once a second), so the ring drains at disk speed
 * whatever the grab stage does. The grab thread reads the hit log as it
 * grows, at its own pace: a slow grab makes the log run ahead, never a hit
 * disappear. Every finished record goes through the output sink
 * (enrichment, shards, manifest). Without a results directory the log is an
 * unnamed temporary file. */
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
#include "cli/census_resume.h"
#include "probes/grabber.h"

#define CENSUS_SYNC_MS 1000 /* the hit log is fdatasync()ed at least this often */
#define CENSUS_IDLE_US 1000 /* the writer's nap when the ring is empty */
#define CENSUS_TMP_DIR "/tmp"

struct census_grab {
	struct out_sink *sink;
	struct grabber *grabber;
	struct mc_spsc *ring;
	int dirfd; /* the results directory, or -1 */
	struct mc_hitlog_writer *log;
	struct mc_hitlog_reader reader;
	pthread_t writer_thread, grab_thread;
	bool writer_started, grab_started;
	_Atomic uint64_t logged; /* records handed to the kernel */
	_Atomic uint64_t
	    synced; /* records known durable (the engine's checkpoint waits for them) */
	bool resumed;
	struct census_resume old; /* a resume: the earlier sessions' hits */
	struct engine_ckpt ckpt;  /* a resume: where the engine restarts */
	uint64_t refound;	  /* new hits an earlier session had found already */
	_Atomic bool writer_done; /* every hit of the ring is in the log */
	int writer_rc;		  /* first hit log failure, 0 if none */
	int run_rc;		  /* grabber_run_source() result */
	uint64_t records;	  /* accepted by the sink */
	uint64_t refused;	  /* records the sink could not take */
	int sink_rc;		  /* first sink failure, 0 if none */
	bool quiet;		  /* no "waiting for the grabber" line */
	char sink_err[256], log_err[256];
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Grabber thread: every finished target goes to the sink. After the first
 * sink failure the sink refuses the rest; they are counted, not lost
 * silently, and the failure ends the command with an error. */
static void on_record(void *ctx, struct mc_record *rec)
{
	struct census_grab *c = ctx;
	int rc = out_sink_put(c->sink, rec);

	if (rc == 0) {
		c->records++;
		return;
	}
	c->refused++;
	if (c->sink_rc == 0) {
		c->sink_rc = rc;
		snprintf(c->sink_err, sizeof(c->sink_err), "%s", out_sink_strerror(c->sink));
		grabber_stop(c->grabber);
	}
}

/* A resumed census re-sends the last reply window before its checkpoint;
 * hits that already have a record are not grabbed twice. */
static bool skip_recorded(void *ctx, uint32_t addr, uint16_t port)
{
	const struct census_grab *c = ctx;

	return out_sink_recorded(c->sink, addr, port);
}

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

int census_grab_open(struct census_grab **out, const struct grab_config *gcfg,
		     const struct out_sink_config *scfg, const struct mc_hitlog_id *id, char *err,
		     size_t errlen)
{
	struct census_grab *c = calloc(1, sizeof(*c));
	struct grab_config g = *gcfg;
	int rc;

	if (c == NULL || (c->log = malloc(sizeof(*c->log))) == NULL) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->dirfd = -1;
	c->log->fd = -1;
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
	if (rc != 0)
		goto fail_sink;
	if (rc == 0 && scfg->resume && c->dirfd >= 0) {
		rc = census_resume_load(&c->old, c->dirfd, id, sink_recorded, c->sink, err, errlen);
		c->resumed = true;
	}
	if (rc != 0)
		goto fail_sink;
	rc = mc_hitlog_create(c->log, c->dirfd, c->dirfd >= 0 ? MC_HITLOG_NAME : CENSUS_TMP_DIR, id,
			      err, errlen);
	if (rc == 0)
		rc = mc_hitlog_open_fd(&c->reader, c->log->fd, err, errlen);
	if (rc != 0)
		goto fail_sink;
	if (scfg->resume) {
		g.skip = skip_recorded;
		g.skip_ctx = c;
	}
	c->grabber = grabber_new(&g, on_record, c, err, errlen);
	if (c->grabber == NULL) {
		rc = -EINVAL;
		goto fail_sink;
	}
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

/* The earlier sessions' hits without a record first, then this session's
 * log without what they had found. */
static int source_next(void *ctx, struct mc_hit *out)
{
	struct census_grab *c = ctx;
	int rc;

	if (census_resume_next(&c->old, out))
		return 1;
	while ((rc = mc_hitlog_next(&c->reader, out)) == 1 &&
	       census_resume_seen(&c->old, out->addr, out->port))
		c->refound++;
	return rc;
}

static bool source_done(void *ctx)
{
	struct census_grab *c = ctx;

	return atomic_load_explicit(&c->writer_done, memory_order_acquire) &&
	       c->reader.records + c->reader.corrupt >=
		   atomic_load_explicit(&c->logged, memory_order_acquire);
}

static void *grab_main(void *arg)
{
	struct census_grab *c = arg;
	struct grab_source src = {.ctx = c, .next = source_next, .done = source_done};

	c->run_rc = grabber_run_source(c->grabber, &src);
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
	rc = pthread_create(&c->grab_thread, NULL, grab_main, c);
	if (rc != 0)
		return -rc;
	c->grab_started = true;
	return 0;
}

static void join_threads(struct census_grab *c)
{
	if (c->writer_started) {
		pthread_join(c->writer_thread, NULL);
		c->writer_started = false;
	}
	if (c->grab_started) {
		pthread_join(c->grab_thread, NULL);
		c->grab_started = false;
	}
}

static int consumer_finish(void *ctx)
{
	struct census_grab *c = ctx;

	if (c->grab_started && !c->quiet)
		fprintf(stderr, "mailcensus scan: sending and cooldown done; the grabber "
				"finishes the targets it holds (bounded by the grab timeouts)\n");
	join_threads(c);
	if (c->writer_rc != 0)
		return c->writer_rc;
	if (c->sink_rc != 0)
		return c->sink_rc;
	return c->run_rc;
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
	struct grab_stats st;

	grabber_get_stats(c->grabber, &st);
	out->records = c->records;
	out->failed = st.targets_failed;
	out->hits_logged = c->log->written;
	out->hits_read = c->reader.records;
	out->hits_corrupt = c->reader.corrupt;
	out->old_hits = c->old.nseen;
	out->old_todo = c->old.ntodo;
	out->refound = c->refound;
}

static void free_all(struct census_grab *c)
{
	census_resume_free(&c->old);
	grabber_free(c->grabber);
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
	if (c->dirfd >= 0)
		unlinkat(c->dirfd, MC_HITLOG_NAME, 0); /* nothing was sent: no hit */
	out_sink_discard(c->sink);
	c->sink = NULL;
	free_all(c);
}

int census_grab_close(struct census_grab *c, const struct out_meta *meta, char *err, size_t errlen)
{
	int rc, lrc;

	join_threads(c);
	lrc = mc_hitlog_close(c->log);
	rc = out_sink_close(c->sink, meta, err, errlen);
	if (c->writer_rc != 0 || lrc != 0) {
		snprintf(err, errlen, "%s",
			 c->writer_rc != 0 ? c->log_err : "hit log: close failed");
		rc = c->writer_rc != 0 ? c->writer_rc : lrc;
	} else if (c->sink_rc != 0) {
		snprintf(err, errlen, "results: %s (%llu records not written)", c->sink_err,
			 (unsigned long long)c->refused);
		rc = c->sink_rc;
	} else if (rc == 0 && c->run_rc != 0) {
		snprintf(err, errlen, "grabber: %s", strerror(-c->run_rc));
		rc = c->run_rc;
	}
	free_all(c);
	return rc;
}
