/* sink.c — the output stage: enrich, encode, append to shards, seal, manifest.
 *
 * Crash model: a record is safe once its shard is sealed (fsync, rename,
 * directory fsync) and the manifest rewritten to list it. Shards are sealed
 * by size, by record count, and by age: the sealer thread seals the open shard
 * once its first record is seal_every seconds old, so a kill -9 loses at
 * most that window. The manifest exists from open on and says "running"
 * until close says how the run ended.
 *
 * Error model: the first failure (typically ENOSPC) poisons the sink. The
 * unfinished shard is a temporary file; it is unlinked at once, which both
 * keeps "a final name means a whole shard" true and frees the space the
 * manifest needs. out_sink_close() then still writes manifest.json (state
 * failed, with the reason), so every shard sealed before the failure
 * remains listed and verifiable, and `mailcensus resume` can continue.
 *
 * Threads: out_sink_put() callers serialise among themselves. Sealing runs
 * on the sink's own sealer thread, off the caller's event loop: a full (or
 * old) shard is handed over through a short FIFO (SINK_SEAL_QUEUE shards)
 * and the caller goes on with a fresh shard while the sealer flushes,
 * fsyncs, renames, fsyncs the directory and rewrites the manifest. Shards
 * are sealed, and listed, in the order they were opened; a shard still in
 * the queue at a crash is a temporary file that resume removes, so the
 * manifest still lists only whole shards and the loss window is the seal
 * age (seal_every) plus the queue. The caller waits only when the queue is
 * full (the disk is slower than the census for SINK_SEAL_QUEUE shards).
 * The sink's mutex guards the open shard, the queue and the counters and is
 * never held across an fsync: the manifest is written from a snapshot.
 * The same thread seals the open shard once its first record is
 * seal_every seconds old, even when no record arrives. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output/enrich.h"
#include "output/json.h"
#include "output/jw.h"
#include "output/manifest.h"
#include "output/resume_dir.h"
#include "output/shard.h"
#include "output/sink.h"

#define DEFAULT_ROTATE_RECORDS 1000000ull
#define DEFAULT_ROTATE_BYTES   (256ull << 20)
#define OUT_LOCK_WAIT_MS       1000 /* for the directory's lock before "busy" */
#define SINK_SEAL_QUEUE	       4    /* shards handed to the sealer and not yet sealed */

struct out_sink {
	struct out_sink_config cfg;
	int dirfd; /* -1: NDJSON on stdout */
	struct out_db *geo, *asn;
	struct out_shard *cur;
	int64_t cur_first_us;	  /* time of the open shard's first record */
	struct out_resume_dir rd; /* shards, next index, recorded keys, sessions */
	uint64_t records, records_lost;
	enum out_run_state state;
	int signo;
	/* metadata for the manifest (copies) */
	char *command_line, *engine_json, *resume_json, *hits_json;
	uint64_t seed;
	uint32_t shard, shards;
	bool created_dir;    /* open_dir made the directory (discard removes it) */
	bool wrote_manifest; /* this sink wrote manifest.json (a fresh run's discard removes it) */
	bool reserved;	     /* manifest.json.reserve holds room for the last manifest */
	bool worker;	     /* a grab worker's sink: shards only, reported by on_seal */
	uint32_t stride;     /* shard indices advance by this (workers interleave) */
	struct out_sink_worker w;
	int failed; /* -errno of the first failure, 0 when none */
	char reason[512];
	/* this session, for the manifest's history */
	int64_t session_start_us;
	bool scan_counts;
	uint64_t sent, hits;
	/* the sealer thread and its queue (guarded by lock) */
	pthread_mutex_t lock;
	pthread_cond_t wake; /* to the sealer: work, or stop */
	pthread_cond_t room; /* to the caller: the queue has room */
	pthread_t sealer;
	bool sealer_running, sealer_stop;
	struct out_shard *queue[SINK_SEAL_QUEUE];
	unsigned qhead, qlen;
	bool sealing;	      /* a thread is sealing the queue's head */
	uint64_t queue_waits; /* puts that waited for room in the queue */
	char line[MC_RECORD_JSON_MAX];
};

static int fail(struct out_sink *s, int rc);

static void rfc3339(int64_t us, char *buf, size_t cap)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	char ymd[24];

	gmtime_r(&secs, &tm);
	strftime(ymd, sizeof(ymd), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, cap, "%s.%06ldZ", ymd, (long)(us % 1000000));
}

/* This session as the manifest's history lists it. */
static void current_session(const struct out_sink *s, struct out_session *cur)
{
	int64_t now = out_now_us();

	memset(cur, 0, sizeof(*cur));
	rfc3339(s->session_start_us, cur->started, sizeof(cur->started));
	if (s->state != OUT_RUN_RUNNING)
		rfc3339(now, cur->ended, sizeof(cur->ended));
	snprintf(cur->state, sizeof(cur->state), "%s", out_run_state_name(s->state));
	cur->seconds = (double)(now - s->session_start_us) / 1e6;
	cur->scan = s->scan_counts;
	cur->sent = s->sent;
	cur->hits = s->hits;
}

/* The manifest from a snapshot taken under the lock, written without it:
 * an fsync never holds up out_sink_put(). rd.infos is changed only by the
 * thread that writes the manifest. */
static int write_manifest_once(struct out_sink *s, char *err, size_t errlen)
{
	char reason[sizeof(s->reason)];
	struct out_manifest m = {
	    .started = s->rd.started,
	    .sessions = s->rd.sessions,
	    .command_line = s->command_line,
	    .seed = s->seed,
	    .shard = s->shard,
	    .shards = s->shards,
	    .engine_json = s->engine_json,
	    .hits_json = s->hits_json,
	    .resume_json = s->resume_json,
	    .compress = s->cfg.compress,
	    .enriched = !s->cfg.no_enrich,
	    .geo = s->geo,
	    .asn = s->asn,
	    .files = s->rd.infos,
	    .nfiles = s->rd.ninfos,
	    .history = s->rd.history,
	    .nhistory = s->rd.nhistory,
	    .records_before = s->rd.records_before,
	};

	pthread_mutex_lock(&s->lock);
	m.state = s->state;
	m.signo = s->signo;
	snprintf(reason, sizeof(reason), "%s", s->reason);
	m.error = s->failed ? reason : NULL;
	m.records_lost = s->records_lost;
	m.lookup_errors = s->rd.lookup_errors;
	current_session(s, &m.current);
	pthread_mutex_unlock(&s->lock);
	return out_manifest_write(s->dirfd, &m, err, errlen);
}

/* A full disk must not cost the manifest: give up the reserve and retry.
 * A routine rewrite that needed the reserve ends the run (failed, ENOSPC),
 * so that the final manifest still finds room where this one was. */
static int write_manifest(struct out_sink *s, char *err, size_t errlen)
{
	if (s->worker)
		return 0; /* the root process writes the manifest from the workers' reports */
	int rc = write_manifest_once(s, err, errlen);

	if (rc != -ENOSPC || !s->reserved)
		return rc;
	out_manifest_unreserve(s->dirfd);
	s->reserved = false;
	rc = write_manifest_once(s, err, errlen);
	pthread_mutex_lock(&s->lock);
	if (rc == 0 && s->state == OUT_RUN_RUNNING) {
		snprintf(s->reason, sizeof(s->reason),
			 "manifest: %s (its reserve was used; the run stops here)",
			 strerror(ENOSPC));
		fail(s, -ENOSPC);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Is there anything of a run in the directory? Names the first thing found. */
static bool holds_run(int dirfd, char *what, size_t cap)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	bool found = false;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (!found && (e = readdir(d)) != NULL) {
		found = strncmp(e->d_name, "shard-", 6) == 0 ||
			strncmp(e->d_name, OUT_MANIFEST_NAME, strlen(OUT_MANIFEST_NAME)) == 0;
		if (found)
			snprintf(what, cap, "%s", e->d_name);
	}
	closedir(d);
	return found;
}

static int open_dir(struct out_sink *s, const char *dir, char *err, size_t errlen)
{
	char what[NAME_MAX + 1];

	if (!s->cfg.resume && mkdir(dir, 0755) == 0)
		s->created_dir = true;
	else if (!s->cfg.resume && errno != EEXIST) {
		snprintf(err, errlen, "results directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		snprintf(err, errlen, "results directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	/* one writer per directory: held until exit, released by the kernel on kill -9
	 * (the grab workers share it: it ends with the last of them, which may
	 * take a moment after their root was killed, so wait that long) */
	int locked = flock(s->dirfd, LOCK_EX | LOCK_NB);
	for (int i = 0; locked != 0 && errno == EWOULDBLOCK && i < OUT_LOCK_WAIT_MS / 10; i++) {
		usleep(10000);
		locked = flock(s->dirfd, LOCK_EX | LOCK_NB);
	}
	if (locked != 0) {
		int e = errno;
		snprintf(err, errlen, "results directory %s: %s", dir,
			 e == EWOULDBLOCK ? "another mailcensus process is writing to it"
					  : strerror(e));
		return e == EWOULDBLOCK ? -EBUSY : -e;
	}
	if (s->cfg.resume)
		return out_resume_dir_open(&s->rd, s->dirfd, s->cfg.compress, err, errlen);
	if (holds_run(s->dirfd, what, sizeof(what))) {
		snprintf(err, errlen,
			 "results directory %s already holds a run (%s): continue it with "
			 "`mailcensus resume %s`, or choose a new directory",
			 dir, what, dir);
		return -EEXIST;
	}
	out_resume_dir_fresh(&s->rd);
	return 0;
}

static int open_dbs(struct out_sink *s, char *err, size_t errlen)
{
	if (s->cfg.no_enrich)
		return 0;
	if (s->cfg.geo_db == NULL || s->cfg.asn_db == NULL) {
		snprintf(err, errlen,
			 "enrichment needs both a country and an ASN database (--geo-db, --asn-db; "
			 "scripts/fetch-geo-data installs them), or --no-enrich");
		return -EINVAL;
	}
	int rc = out_db_open(&s->geo, s->cfg.geo_db, OUT_DB_GEO, err, errlen);
	if (rc == 0)
		rc = out_db_open(&s->asn, s->cfg.asn_db, OUT_DB_ASN, err, errlen);
	return rc;
}

/* The first failure poisons the sink (caller holds the lock): the open
 * shard and every shard still waiting for its seal are dropped. */
static int fail(struct out_sink *s, int rc)
{
	s->failed = rc;
	s->state = OUT_RUN_FAILED;
	if (s->cur != NULL) {
		s->records_lost += out_shard_records(s->cur);
		out_shard_abort(s->cur);
		s->cur = NULL;
	}
	/* the head may be in the sealer's hands: it finishes (or fails) there */
	for (unsigned keep = s->sealing ? 1 : 0; s->qlen > keep; s->qlen--) {
		struct out_shard *sh = s->queue[(s->qhead + s->qlen - 1) % SINK_SEAL_QUEUE];
		s->records_lost += out_shard_records(sh);
		out_shard_abort(sh);
	}
	pthread_cond_broadcast(&s->room);
	return rc;
}

/* Hand the open shard to the sealer (caller holds the lock); waits while
 * the queue is full. */
static void hand_over(struct out_sink *s)
{
	if (s->qlen == SINK_SEAL_QUEUE)
		s->queue_waits++;
	while (s->qlen == SINK_SEAL_QUEUE && s->failed == 0)
		pthread_cond_wait(&s->room, &s->lock);
	if (s->failed != 0) {
		/* fail() on the sealer, while this thread waited, has already
		 * dropped and counted the open shard */
		if (s->cur != NULL) {
			s->records_lost += out_shard_records(s->cur);
			out_shard_abort(s->cur);
		}
	} else {
		s->queue[(s->qhead + s->qlen++) % SINK_SEAL_QUEUE] = s->cur;
		pthread_cond_signal(&s->wake);
	}
	s->cur = NULL;
}

/* Seal the oldest queued shard and list it in a rewritten manifest. Called
 * with the lock held and a non-empty queue; drops the lock meanwhile. The
 * shard stays at the queue's head until it is listed, so that a second
 * sealer cannot exist and close can wait for an empty queue. */
static void seal_next(struct out_sink *s)
{
	struct out_shard *sh = s->queue[s->qhead];
	struct out_shard_info info;
	char why[sizeof(s->reason)];
	uint64_t pending = out_shard_records(sh);
	bool sealed;
	int rc;

	s->sealing = true;
	pthread_mutex_unlock(&s->lock);
	rc = out_shard_seal(sh, &info, why, sizeof(why));
	sealed = rc == 0;
	if (rc == 0 && out_resume_dir_add(&s->rd, &info) != 0) {
		snprintf(why, sizeof(why), "out of memory");
		rc = -ENOMEM;
	}
	if (rc == 0 && s->worker && s->w.on_seal != NULL)
		s->w.on_seal(s->w.ctx, &info); /* the root names and lists it */
	if (rc == 0)
		rc = write_manifest(s, why, sizeof(why));
	pthread_mutex_lock(&s->lock);
	s->sealing = false;
	if (s->qlen > 0 && s->queue[s->qhead] == sh) { /* fail() may have emptied the queue */
		s->qhead = (s->qhead + 1) % SINK_SEAL_QUEUE;
		s->qlen--;
	}
	pthread_cond_broadcast(&s->room);
	if (rc != 0 && !sealed)
		s->records_lost += pending;
	if (rc != 0 && s->failed == 0) {
		snprintf(s->reason, sizeof(s->reason), "%s", why);
		fail(s, rc);
	}
}

static void *sealer_main(void *arg)
{
	struct out_sink *s = arg;
	int64_t every = (int64_t)s->cfg.seal_every_s * 1000000;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		if (s->qlen > 0 && !s->sealing) {
			seal_next(s);
			continue;
		}
		if (s->sealer_stop && s->qlen == 0)
			break;
		if (s->cur != NULL && s->failed == 0 && s->qlen == 0 &&
		    out_now_us() - s->cur_first_us >= every) {
			hand_over(s);
			continue;
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&s->wake, &s->lock, &until);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Stop the sealer once it has sealed every queued shard. */
static void sealer_stop(struct out_sink *s)
{
	if (!s->sealer_running)
		return;
	pthread_mutex_lock(&s->lock);
	s->sealer_stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->sealer, NULL);
	s->sealer_running = false;
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Copy the metadata (caller holds the lock or no other thread runs). */
static void set_meta(struct out_sink *s, const struct out_meta *m)
{
	char *resume = out_manifest_resume_json(m);

	free(s->command_line);
	free(s->engine_json);
	free(s->hits_json);
	s->command_line = dup_or_null(m->command_line);
	s->engine_json = dup_or_null(m->engine_json);
	s->hits_json = dup_or_null(m->hits_json);
	if (resume != NULL) { /* a meta without a command keeps the resume object */
		free(s->resume_json);
		s->resume_json = resume;
	}
	s->seed = m->seed;
	s->shard = m->shard;
	s->shards = m->shards;
}

int out_sink_open(struct out_sink **out, const struct out_sink_config *cfg, char *err,
		  size_t errlen)
{
	struct out_sink *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->cfg = *cfg;
	s->dirfd = -1;
	s->stride = 1;
	s->state = OUT_RUN_RUNNING;
	s->session_start_us = out_now_us();
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->room, NULL);
	if (s->cfg.rotate_records == 0)
		s->cfg.rotate_records = DEFAULT_ROTATE_RECORDS;
	if (s->cfg.rotate_bytes == 0)
		s->cfg.rotate_bytes = DEFAULT_ROTATE_BYTES;
	if (s->cfg.seal_every_s == 0)
		s->cfg.seal_every_s = OUT_SEAL_EVERY_DEFAULT;
	rc = open_dbs(s, err, errlen);
	if (rc == 0 && cfg->dir != NULL)
		rc = open_dir(s, cfg->dir, err, errlen);
	if (rc == 0 && s->dirfd >= 0) {
		/* the manifest first, with what resume needs: a kill before it leaves
		 * at most its temporary, a kill after it a resumable run */
		if (cfg->meta != NULL)
			set_meta(s, cfg->meta);
		rc = write_manifest(s, err, errlen);
		s->wrote_manifest = rc == 0;
		s->reserved = rc == 0 && out_manifest_reserve(s->dirfd) == 0;
		if (rc != 0) {
			char why[256];
			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "results directory %s: %s", cfg->dir, why);
		}
	}
	if (rc == 0 && s->dirfd >= 0) {
		rc = -pthread_create(&s->sealer, NULL, sealer_main, s);
		s->sealer_running = rc == 0;
		if (rc != 0)
			snprintf(err, errlen, "sealer thread: %s", strerror(-rc));
	}
	if (rc != 0) {
		out_sink_discard(s);
		return rc;
	}
	*out = s;
	return 0;
}

void out_sink_set_interrupted(struct out_sink *s, int signo)
{
	pthread_mutex_lock(&s->lock);
	if (s->state == OUT_RUN_RUNNING) {
		s->state = OUT_RUN_INTERRUPTED;
		s->signo = signo;
	}
	pthread_mutex_unlock(&s->lock);
}

void out_sink_set_counts(struct out_sink *s, uint64_t sent, uint64_t hits)
{
	pthread_mutex_lock(&s->lock);
	s->scan_counts = true;
	s->sent = sent;
	s->hits = hits;
	pthread_mutex_unlock(&s->lock);
}

bool out_sink_recorded(const struct out_sink *s, uint32_t addr, uint16_t port)
{
	return out_resume_dir_has(&s->rd, addr, port);
}

bool out_sink_recorded6(const struct out_sink *s, const uint8_t addr6[16], uint16_t port)
{
	return out_resume_dir_has6(&s->rd, addr6, port);
}

uint64_t out_sink_recorded_count(const struct out_sink *s)
{
	return s->rd.nkeys;
}

static int write_stdout(struct out_sink *s, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			s->failed = -errno;
			snprintf(s->reason, sizeof(s->reason), "stdout: %s", strerror(errno));
			return s->failed;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int put_locked(struct out_sink *s, struct mc_record *rec)
{
	if (s->failed != 0) {
		s->records_lost++;
		return s->failed;
	}
	if ((s->geo != NULL || s->asn != NULL) && out_enrich_record(s->geo, s->asn, rec) != 0)
		s->rd.lookup_errors++;
	size_t n = mc_record_to_json(rec, s->line, sizeof(s->line));
	if (n == 0) { /* cannot happen: MC_RECORD_JSON_MAX covers the worst case */
		snprintf(s->reason, sizeof(s->reason), "record too large to encode");
		return -EOVERFLOW;
	}
	s->records++;
	if (s->dirfd < 0 && s->worker && s->w.on_line != NULL) {
		s->w.on_line(s->w.ctx, s->line, n);
		return 0;
	}
	if (s->dirfd < 0)
		return write_stdout(s, s->line, n);
	int rc = 0;
	if (s->cur == NULL) {
		uint32_t idx = s->rd.next_index;

		s->rd.next_index += s->stride;
		rc = out_shard_open(&s->cur, s->dirfd, idx, s->cfg.compress, s->reason,
				    sizeof(s->reason));
		if (rc == 0 && s->worker)
			out_shard_keep_tmp(s->cur);
		s->cur_first_us = out_now_us();
	}
	if (rc == 0)
		rc = out_shard_append(s->cur, s->line, n, 1, s->reason, sizeof(s->reason));
	if (rc != 0) {
		s->records_lost++;
		return fail(s, rc);
	}
	if (out_shard_records(s->cur) >= s->cfg.rotate_records ||
	    out_shard_bytes(s->cur) >= s->cfg.rotate_bytes) {
		hand_over(s);
		while (s->cfg.seal_inline && s->qlen > 0) { /* the old way, for comparison */
			if (s->sealing)
				pthread_cond_wait(&s->room, &s->lock);
			else
				seal_next(s);
		}
	}
	return s->failed;
}

int out_sink_put(struct out_sink *s, struct mc_record *rec)
{
	pthread_mutex_lock(&s->lock);
	int rc = put_locked(s, rec);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int out_sink_sync(struct out_sink *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->qlen > 0 && s->failed == 0)
		pthread_cond_wait(&s->room, &s->lock);
	int rc = s->failed;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

const char *out_sink_strerror(const struct out_sink *s)
{
	return s->reason;
}

static void sink_free(struct out_sink *s)
{
	if (s->reserved)
		out_manifest_unreserve(s->dirfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (!s->worker) { /* a worker's databases are its parent's */
		out_db_close(s->geo);
		out_db_close(s->asn);
	}
	out_resume_dir_free(&s->rd);
	free(s->command_line);
	free(s->engine_json);
	free(s->hits_json);
	free(s->resume_json);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->room);
	free(s);
}

int out_sink_close(struct out_sink *s, const struct out_meta *meta, char *err, size_t errlen)
{
	int rc = 0;

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&s->lock);
	if (s->cur != NULL && s->failed == 0)
		hand_over(s);
	pthread_mutex_unlock(&s->lock);
	sealer_stop(s);		      /* after the queue is sealed */
	pthread_mutex_lock(&s->lock); /* no sealer left: for the queue of a sink without one */
	while (s->qlen > 0)
		seal_next(s);
	pthread_mutex_unlock(&s->lock);
	if (meta != NULL)
		set_meta(s, meta);
	if (s->state == OUT_RUN_RUNNING)
		s->state = OUT_RUN_COMPLETE;
	if (s->dirfd >= 0 && !s->worker) {
		char merr[256];
		rc = write_manifest(s, merr, sizeof(merr));
		if (rc != 0 && s->failed == 0) {
			s->failed = rc;
			snprintf(s->reason, sizeof(s->reason), "%s", merr);
		} else if (rc != 0) {
			size_t n = strlen(s->reason);
			snprintf(s->reason + n, sizeof(s->reason) - n, "; %s", merr);
		}
	}
	rc = s->failed;
	if (rc != 0)
		snprintf(err, errlen,
			 "%s (%zu shards sealed and listed in the manifest, %llu "
			 "records lost)",
			 s->reason, s->rd.ninfos, (unsigned long long)s->records_lost);
	sink_free(s);
	return rc;
}

void out_command_line(char *out, size_t cap, int argc, char **argv)
{
	size_t o = (size_t)snprintf(out, cap, "mailcensus");

	for (int i = 0; i < argc && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, " %s", argv[i]);
}

void out_sink_discard(struct out_sink *s)
{
	char err[256];

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->sealer_stop = true;
	for (unsigned keep = s->sealing ? 1 : 0; s->qlen > keep; s->qlen--)
		out_shard_abort(s->queue[(s->qhead + s->qlen - 1) % SINK_SEAL_QUEUE]);
	pthread_mutex_unlock(&s->lock);
	sealer_stop(s);
	for (; s->qlen > 0; s->qlen--, s->qhead = (s->qhead + 1) % SINK_SEAL_QUEUE)
		out_shard_abort(s->queue[s->qhead]);
	if (s->cur != NULL)
		out_shard_abort(s->cur);
	if (s->wrote_manifest && s->cfg.resume) {
		s->state = s->rd.prev_state; /* the run is as unfinished as before */
		s->signo = s->rd.prev_signo;
		s->failed = s->rd.prev_state == OUT_RUN_FAILED ? -EIO : 0;
		snprintf(s->reason, sizeof(s->reason), "%s", s->rd.prev_error);
		write_manifest(s, err, sizeof(err));
	} else if (s->wrote_manifest && s->rd.ninfos == 0 && !s->worker) {
		unlinkat(s->dirfd, OUT_MANIFEST_NAME, 0);
	}
	if (s->reserved)
		out_manifest_unreserve(s->dirfd);
	s->reserved = false;
	if (s->created_dir && s->rd.ninfos == 0)
		rmdir(s->cfg.dir); /* fails, harmlessly, if anything else is inside */
	sink_free(s);
}

/* ---- grab workers ------------------------------------------------------- */

int out_sink_open_worker(struct out_sink **out, const struct out_sink *parent,
			 const struct out_sink_worker *w, char *err, size_t errlen)
{
	struct out_sink *s = calloc(1, sizeof(*s));
	int rc = 0;

	if (s == NULL) {
		if (w->dirfd >= 0)
			close(w->dirfd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->cfg = parent->cfg;
	s->cfg.resume = false;
	s->cfg.meta = NULL;
	s->worker = true;
	s->w = *w;
	s->dirfd = w->dirfd;
	s->stride = w->stride ? w->stride : 1;
	s->geo = parent->geo;
	s->asn = parent->asn;
	s->state = OUT_RUN_RUNNING;
	s->session_start_us = out_now_us();
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->room, NULL);
	out_resume_dir_fresh(&s->rd);
	s->rd.next_index = w->first_index; /* of the temporary names: the root names them */
	if (s->dirfd >= 0) {
		rc = -pthread_create(&s->sealer, NULL, sealer_main, s);
		s->sealer_running = rc == 0;
		if (rc != 0)
			snprintf(err, errlen, "sealer thread: %s", strerror(-rc));
	}
	if (rc != 0) {
		sink_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int out_sink_dup_dirfd(const struct out_sink *s)
{
	return s->dirfd >= 0 ? fcntl(s->dirfd, F_DUPFD_CLOEXEC, 0) : -1;
}

uint32_t out_sink_next_index(const struct out_sink *s)
{
	return s->rd.next_index;
}

int out_sink_add_shard(struct out_sink *s, const struct out_shard_info *tmp, char *err,
		       size_t errlen)
{
	struct out_shard_info info = *tmp;
	int failed, rc = 0;

	/* one caller (the root's serving thread) renames and lists, as the
	 * sealer would; the lock only guards the failure state */
	pthread_mutex_lock(&s->lock);
	failed = s->failed;
	if (failed != 0) {
		snprintf(err, errlen, "%s", s->reason);
		s->records_lost += info.records;
	}
	pthread_mutex_unlock(&s->lock);
	out_shard_name(info.name, sizeof(info.name), s->rd.next_index, s->cfg.compress);
	if (strncmp(tmp->name, "shard-", 6) != 0 || strchr(tmp->name, '/') != NULL ||
	    strlen(tmp->name) < 5 || strcmp(tmp->name + strlen(tmp->name) - 4, ".tmp") != 0) {
		rc = -EINVAL;
		snprintf(err, errlen, "not a shard's temporary name: %.60s", tmp->name);
	} else if (failed != 0) { /* the run failed: a temporary is not kept */
		unlinkat(s->dirfd, tmp->name, 0);
		return failed;
	} else if (renameat(s->dirfd, tmp->name, s->dirfd, info.name) != 0) {
		rc = -errno;
		snprintf(err, errlen, "rename %s: %s", tmp->name, strerror(errno));
		unlinkat(s->dirfd, tmp->name, 0);
	} else if ((void)!fchownat(s->dirfd, info.name, geteuid(), getegid(),
				   AT_SYMLINK_NOFOLLOW), /* ours from now on */
		   (rc = out_fsync_dir(s->dirfd)) != 0) {
		snprintf(err, errlen, "fsync directory: %s", strerror(-rc));
	} else if ((rc = out_resume_dir_add(&s->rd, &info)) != 0) {
		snprintf(err, errlen, "out of memory");
	} else {
		s->rd.next_index++;
		rc = write_manifest(s, err, errlen);
	}
	if (rc != 0) {
		pthread_mutex_lock(&s->lock);
		if (faccessat(s->dirfd, info.name, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
			s->records_lost += info.records; /* not under its final name */
		if (s->failed == 0) {
			snprintf(s->reason, sizeof(s->reason), "%s", err);
			fail(s, rc);
		}
		pthread_mutex_unlock(&s->lock);
	}
	return rc;
}

void out_sink_add_counts(struct out_sink *s, uint64_t records_lost, uint64_t lookup_errors)
{
	pthread_mutex_lock(&s->lock);
	s->records_lost += records_lost;
	s->rd.lookup_errors += lookup_errors;
	pthread_mutex_unlock(&s->lock);
}

void out_sink_worker_counts(const struct out_sink *s, uint64_t *records_lost,
			    uint64_t *lookup_errors)
{
	*records_lost = s->records_lost;
	*lookup_errors = s->rd.lookup_errors;
}

void out_sink_fail(struct out_sink *s, int rc, const char *reason)
{
	pthread_mutex_lock(&s->lock);
	if (s->failed == 0) {
		snprintf(s->reason, sizeof(s->reason), "%s", reason);
		fail(s, rc);
	}
	pthread_mutex_unlock(&s->lock);
}
