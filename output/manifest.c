/* manifest.c — write manifest.json atomically; load it back with bounds.
 *
 * Writing: the whole document is built in memory, then written with
 * base/fileio's mc_file_write_atomic (a manifest.json.tmp.PID.N temporary
 * created with O_EXCL|O_NOFOLLOW inside the results directory, so a planted
 * symlink cannot redirect it, fsynced, renamed over manifest.json, the
 * directory fsynced): a reader sees the old manifest or the new one, never
 * half of one.
 *
 * Reading: every file a reader opens in a results directory goes through
 * mc_file_open_regular() (base/fileio.h: O_NOFOLLOW|O_NONBLOCK, then fstat: a FIFO or a device
 * listed as a shard is refused instead of hanging the reader), and the
 * manifest is size-checked before it is read and shape-checked after it is
 * parsed, once, for verify, report and resume alike. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/quit.h"
#include "output/jw.h"
#include "output/manifest.h"

static const char *const state_names[] = {
    [OUT_RUN_RUNNING] = "running",
    [OUT_RUN_COMPLETE] = "complete",
    [OUT_RUN_INTERRUPTED] = "interrupted",
    [OUT_RUN_FAILED] = "failed",
};

int64_t out_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *out_run_state_name(enum out_run_state st)
{
	return (unsigned)st < sizeof(state_names) / sizeof(state_names[0]) ? state_names[st] : "?";
}

static void put_str(struct out_jw *w, const char *s)
{
	if (s == NULL)
		out_jw_lit(w, "null");
	else
		out_jw_bytes(w, s, strlen(s));
}

static void put_db(struct out_jw *w, const char *role, const struct out_db *db)
{
	struct out_db_info info;

	out_db_info(db, &info);
	out_jw_lit(w, "{\"role\":");
	put_str(w, role);
	out_jw_lit(w, ",\"path\":");
	put_str(w, info.path);
	out_jw_lit(w, ",\"database_type\":");
	put_str(w, info.database_type);
	out_jw_lit(w, ",\"build_epoch\":");
	out_jw_u64(w, info.build_epoch);
	out_jw_lit(w, ",\"build_date\":");
	out_jw_time(w, (int64_t)info.build_epoch * 1000000, false);
	out_jw_lit(w, ",\"layout\":");
	put_str(w, info.layout);
	out_jw_lit(w, "}");
}

static uint64_t put_files(struct out_jw *w, const struct out_manifest *m)
{
	uint64_t records = 0;

	out_jw_lit(w, "[");
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct out_shard_info *f = &m->files[i];
		if (i != 0)
			out_jw_lit(w, ",");
		out_jw_lit(w, "\n  {\"name\":");
		put_str(w, f->name);
		out_jw_lit(w, ",\"records\":");
		out_jw_u64(w, f->records);
		out_jw_lit(w, ",\"bytes\":");
		out_jw_u64(w, f->bytes);
		out_jw_lit(w, ",\"raw_bytes\":");
		out_jw_u64(w, f->raw_bytes);
		out_jw_lit(w, ",\"sha256\":");
		put_str(w, f->sha256);
		out_jw_lit(w, "}");
		records += f->records;
	}
	out_jw_lit(w, "]");
	return records;
}

/* JSON text verbatim when it parses as `want`, else as a string (the manifest
 * must stay parseable whatever a caller hands us). */
static void put_verbatim(struct out_jw *w, const char *json, enum out_json_type want)
{
	struct out_json_arena a = {0};
	struct out_json *v;
	char err[64];

	if (json == NULL || json[0] == '\0')
		out_jw_lit(w, "null");
	else if (out_json_parse(&a, json, strlen(json), &v, err, sizeof(err)) == 0 &&
		 v->type == want)
		out_jw_raw(w, json, strlen(json));
	else
		out_jw_bytes(w, json, strlen(json));
	out_json_arena_free(&a);
}

static void put_state(struct out_jw *w, const struct out_manifest *m)
{
	char sigbuf[24], why[96];
	const char *error = NULL;

	if (m->state == OUT_RUN_FAILED)
		error = m->error ? m->error : "failed";
	else if (m->state == OUT_RUN_INTERRUPTED)
		error = why, snprintf(why, sizeof(why), "interrupted by %s",
				      mc_quit_signal_name(m->signo, sigbuf, sizeof(sigbuf)));
	else if (m->state == OUT_RUN_RUNNING)
		error = "not finished: running, or killed before its final manifest "
			"(`mailcensus resume` continues it)";
	out_jw_lit(w, ",\n\"state\":");
	put_str(w, out_run_state_name(m->state));
	out_jw_lit(w, ",\n\"signal\":");
	put_str(w, m->state == OUT_RUN_INTERRUPTED
		       ? mc_quit_signal_name(m->signo, sigbuf, sizeof(sigbuf))
		       : NULL);
	out_jw_lit(w, ",\n\"complete\":");
	out_jw_bool(w, m->state == OUT_RUN_COMPLETE);
	out_jw_lit(w, ",\n\"error\":");
	put_str(w, error);
}

static void put_session(struct out_jw *w, const struct out_session *s, size_t n)
{
	char num[40];

	out_jw_lit(w, "\n  {\"session\":");
	out_jw_u64(w, n);
	out_jw_lit(w, ",\"started\":");
	put_str(w, s->started[0] ? s->started : NULL);
	out_jw_lit(w, ",\"ended\":");
	put_str(w, s->ended[0] ? s->ended : NULL);
	out_jw_lit(w, ",\"state\":");
	put_str(w, s->state);
	snprintf(num, sizeof(num), "%.3f", s->seconds >= 0 ? s->seconds : 0);
	out_jw_lit(w, ",\"seconds\":");
	out_jw_raw(w, num, strlen(num));
	out_jw_lit(w, ",\"records\":");
	out_jw_u64(w, s->records);
	out_jw_lit(w, ",\"sent\":");
	if (s->scan)
		out_jw_u64(w, s->sent);
	else
		out_jw_lit(w, "null");
	out_jw_lit(w, ",\"hits\":");
	if (s->scan)
		out_jw_u64(w, s->hits);
	else
		out_jw_lit(w, "null");
	out_jw_lit(w, "}");
}

/* "history": every session; "totals": their sums (hits re-found in a
 * resume's re-sent window count in each session that found them). */
static void put_history(struct out_jw *w, const struct out_manifest *m, uint64_t records)
{
	struct out_session cur = m->current;
	double seconds = 0;
	uint64_t sent = 0, hits = 0;
	bool scan = false;
	char num[40];

	cur.records = records > m->records_before ? records - m->records_before : 0;
	out_jw_lit(w, ",\n\"history\":[");
	for (size_t i = 0; i <= m->nhistory; i++) {
		const struct out_session *s = i < m->nhistory ? &m->history[i] : &cur;
		if (i != 0)
			out_jw_lit(w, ",");
		put_session(w, s, i + 1);
		seconds += s->seconds;
		sent += s->sent;
		hits += s->hits;
		scan |= s->scan;
	}
	snprintf(num, sizeof(num), "%.3f", seconds);
	out_jw_lit(w, "],\n\"totals\":{\"sessions\":");
	out_jw_u64(w, m->nhistory + 1);
	out_jw_lit(w, ",\"seconds\":");
	out_jw_raw(w, num, strlen(num));
	out_jw_lit(w, ",\"records\":");
	out_jw_u64(w, records);
	out_jw_lit(w, ",\"sent\":");
	if (scan)
		out_jw_u64(w, sent);
	else
		out_jw_lit(w, "null");
	out_jw_lit(w, ",\"hits\":");
	if (scan)
		out_jw_u64(w, hits);
	else
		out_jw_lit(w, "null");
	out_jw_lit(w, "}");
}

static void put_manifest(struct out_jw *w, const struct out_manifest *m)
{
	out_jw_lit(w, "{\"format\":\"mailcensus-results/1\",\n\"mailcensus_version\":");
	put_str(w, MC_VERSION);
	out_jw_lit(w, ",\n\"command_line\":");
	put_str(w, m->command_line);
	out_jw_lit(w, ",\n\"seed\":");
	out_jw_u64(w, m->seed);
	out_jw_lit(w, ",\n\"shard\":");
	out_jw_u64(w, m->shard);
	out_jw_lit(w, ",\n\"shards\":");
	out_jw_u64(w, m->shards ? m->shards : 1);
	out_jw_lit(w, ",\n\"started\":");
	put_str(w, m->started);
	out_jw_lit(w, ",\n\"finished\":");
	if (m->state == OUT_RUN_RUNNING)
		out_jw_lit(w, "null");
	else
		out_jw_time(w, out_now_us(), true);
	put_state(w, m);
	out_jw_lit(w, ",\n\"sessions\":");
	out_jw_u64(w, m->sessions ? m->sessions : 1);
	out_jw_lit(w, ",\n\"records_lost\":");
	out_jw_u64(w, m->records_lost);
	out_jw_lit(w, ",\n\"compress\":");
	out_jw_bool(w, m->compress);
	out_jw_lit(w, ",\n\"enriched\":");
	out_jw_bool(w, m->enriched);
	out_jw_lit(w, ",\n\"lookup_errors\":");
	out_jw_u64(w, m->lookup_errors);
	out_jw_lit(w, ",\n\"databases\":[");
	if (m->geo != NULL)
		put_db(w, "geo", m->geo);
	if (m->asn != NULL) {
		if (m->geo != NULL)
			out_jw_lit(w, ",");
		put_db(w, "asn", m->asn);
	}
	out_jw_lit(w, "],\n\"resume\":");
	put_verbatim(w, m->resume_json, OUT_JSON_OBJECT);
	out_jw_lit(w, ",\n\"engine\":");
	put_verbatim(w, m->engine_json, OUT_JSON_OBJECT);
	out_jw_lit(w, ",\n\"hits\":");
	put_verbatim(w, m->hits_json, OUT_JSON_OBJECT);
	out_jw_lit(w, ",\n\"files\":");
	uint64_t records = put_files(w, m);
	out_jw_lit(w, ",\n\"records\":");
	out_jw_u64(w, records);
	put_history(w, m, records);
	out_jw_lit(w, "}\n");
}

int out_manifest_write(int dirfd, const struct out_manifest *m, char *err, size_t errlen)
{
	size_t cap = 65536 + m->nfiles * 512 + (m->nhistory + 1) * 512;
	cap += m->command_line ? 6 * strlen(m->command_line) : 0;
	cap += m->engine_json ? 6 * strlen(m->engine_json) : 0;
	cap += m->hits_json ? 6 * strlen(m->hits_json) : 0;
	cap += m->resume_json ? 6 * strlen(m->resume_json) : 0;
	cap += m->error ? 6 * strlen(m->error) : 0;
	char *buf = malloc(cap);
	struct out_jw w;
	int rc;

	if (buf == NULL) {
		snprintf(err, errlen, "manifest: out of memory");
		return -ENOMEM;
	}
	out_jw_init(&w, buf, cap);
	put_manifest(&w, m);
	if (w.overflow) {
		snprintf(err, errlen, "manifest: too large");
		rc = -EOVERFLOW;
	} else {
		/* the one durable writer: O_EXCL|O_NOFOLLOW temporary, fsync, rename, dir fsync */
		rc = mc_file_write_atomic(dirfd, OUT_MANIFEST_NAME, buf, (size_t)(w.p - buf), err,
					  errlen);
	}
	free(buf);
	return rc;
}

int out_manifest_reserve(int dirfd)
{
	unlinkat(dirfd, OUT_RESERVE_NAME, 0);
	int fd = openat(dirfd, OUT_RESERVE_NAME,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0)
		return -errno;
	rc = posix_fallocate(fd, 0, OUT_RESERVE_BYTES);
	if (rc == 0 && fsync(fd) != 0)
		rc = errno;
	close(fd);
	if (rc != 0)
		unlinkat(dirfd, OUT_RESERVE_NAME, 0);
	return -rc;
}

void out_manifest_unreserve(int dirfd)
{
	unlinkat(dirfd, OUT_RESERVE_NAME, 0);
}

char *out_manifest_resume_json(const struct out_meta *meta)
{
	if (meta == NULL || meta->command == NULL)
		return NULL;
	size_t cap = 4096 + (meta->cwd ? 6 * strlen(meta->cwd) : 0) +
		     (meta->targets_path ? 6 * strlen(meta->targets_path) : 0);
	for (int i = 0; i < meta->nfiles; i++)
		cap += 128 + 6 * strlen(meta->file_paths[i]);
	for (int i = 0; i < meta->argc; i++)
		cap += 8 + 6 * strlen(meta->argv[i]);
	char *buf = malloc(cap);
	struct out_jw w;

	if (buf == NULL)
		return NULL;
	out_jw_init(&w, buf, cap);
	out_jw_lit(&w, "{\"command\":");
	put_str(&w, meta->command);
	out_jw_lit(&w, ",\"cwd\":");
	put_str(&w, meta->cwd);
	out_jw_lit(&w, ",\"argv\":[");
	for (int i = 0; i < meta->argc; i++) {
		if (i != 0)
			out_jw_lit(&w, ",");
		put_str(&w, meta->argv[i]);
	}
	out_jw_lit(&w, "],\"targets\":{\"path\":");
	put_str(&w, meta->targets_path);
	out_jw_lit(&w, ",\"sha256\":");
	put_str(&w, meta->targets_sha256);
	out_jw_lit(&w, "},\"files\":[");
	for (int i = 0; i < meta->nfiles; i++) {
		if (i != 0)
			out_jw_lit(&w, ",");
		out_jw_lit(&w, "{\"path\":");
		put_str(&w, meta->file_paths[i]);
		out_jw_lit(&w, ",\"sha256\":");
		put_str(&w, meta->file_sha256[i]);
		out_jw_lit(&w, "}");
	}
	out_jw_lit(&w, "]}");
	out_jw_lit(&w, "\0");
	if (w.overflow) {
		free(buf);
		return NULL;
	}
	return buf;
}

bool out_manifest_name_ok(const char *name)
{
	return name != NULL && strncmp(name, "shard-", 6) == 0 && strchr(name, '/') == NULL &&
	       strlen(name) < OUT_SHARD_NAME_MAX;
}

static int check_shape(const struct out_json *m, char *err, size_t errlen)
{
	const struct out_json *files = out_json_get(m, "files");

	if (m->type != OUT_JSON_OBJECT) {
		snprintf(err, errlen, "%s: not a JSON object", OUT_MANIFEST_NAME);
		return -EINVAL;
	}
	if (strcmp(out_json_str(out_json_get(m, "format")) ?: "", "mailcensus-results/1") != 0) {
		snprintf(err, errlen, "%s: unknown format (want \"mailcensus-results/1\")",
			 OUT_MANIFEST_NAME);
		return -EINVAL;
	}
	if (files == NULL || files->type != OUT_JSON_ARRAY) {
		snprintf(err, errlen, "%s: no files[] array", OUT_MANIFEST_NAME);
		return -EINVAL;
	}
	for (const struct out_json *f = files->child; f != NULL; f = f->next) {
		if (!out_manifest_name_ok(out_json_str(out_json_get(f, "name")))) {
			snprintf(err, errlen,
				 "%s: a files[] entry has no valid name (shard-*, no path)",
				 OUT_MANIFEST_NAME);
			return -EINVAL;
		}
	}
	return 0;
}

int out_manifest_load(int dirfd, struct out_json_arena *a, struct out_json **m, char *err,
		      size_t errlen)
{
	char *text = NULL, perr[128];
	size_t len = 0;
	int rc = mc_file_read(dirfd, OUT_MANIFEST_NAME, OUT_MANIFEST_MAX, &text, &len);

	if (rc == -EFBIG)
		snprintf(err, errlen, "%s: larger than %u bytes", OUT_MANIFEST_NAME,
			 OUT_MANIFEST_MAX);
	else if (rc == -EINVAL || rc == -ELOOP)
		snprintf(err, errlen, "%s: not a regular file (symlink, FIFO or device refused)",
			 OUT_MANIFEST_NAME);
	else if (rc != 0)
		snprintf(err, errlen, "%s: %s", OUT_MANIFEST_NAME, strerror(-rc));
	if (rc != 0)
		return rc;
	rc = out_json_parse(a, text, len, m, perr, sizeof(perr));
	free(text);
	if (rc != 0) {
		snprintf(err, errlen, "%s: invalid JSON (%s)", OUT_MANIFEST_NAME, perr);
		return rc;
	}
	return check_shape(*m, err, errlen);
}

enum out_run_state out_manifest_state(const struct out_json *m)
{
	const char *s = out_json_str(out_json_get(m, "state"));

	for (size_t i = 0; s != NULL && i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(s, state_names[i]) == 0)
			return (enum out_run_state)i;
	if (s == NULL && out_json_true(out_json_get(m, "complete")))
		return OUT_RUN_COMPLETE; /* a manifest from before "state" */
	return OUT_RUN_FAILED;
}

void out_manifest_describe(const struct out_json *m, char *buf, size_t cap)
{
	enum out_run_state st = out_manifest_state(m);
	const char *sig = out_json_str(out_json_get(m, "signal"));
	const char *error = out_json_str(out_json_get(m, "error"));

	if (st == OUT_RUN_COMPLETE)
		snprintf(buf, cap, "complete");
	else if (st == OUT_RUN_INTERRUPTED)
		snprintf(buf, cap, "interrupted by %s", sig ?: "a signal");
	else if (st == OUT_RUN_RUNNING)
		snprintf(buf, cap,
			 "running, or killed before its final manifest (shards sealed "
			 "so far are listed; `mailcensus resume` continues it)");
	else
		snprintf(buf, cap, "failed: %s", error ?: "(no reason given)");
}
