/* sink.c — the output stage: enrich, encode, append to shards, seal, manifest.
 *
 * Error model: the first failure (typically ENOSPC) poisons the sink. The
 * unfinished shard is a temporary file; it is unlinked at once, which both
 * keeps "a final name means a whole shard" true and frees the space the
 * manifest needs. out_sink_close() then still writes manifest.json (marked
 * "complete": false with the reason), so every shard that was sealed before
 * the failure remains listed and verifiable. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output/enrich.h"
#include "output/json.h"
#include "output/jw.h"
#include "output/shard.h"
#include "output/sink.h"

#define DEFAULT_ROTATE_RECORDS 1000000ull
#define DEFAULT_ROTATE_BYTES   (256ull << 20)

struct out_sink {
	struct out_sink_config cfg;
	int dirfd; /* -1: NDJSON on stdout */
	struct out_db *geo, *asn;
	struct out_shard *cur;
	uint32_t next_index;
	struct out_shard_info *infos;
	size_t ninfos, capinfos;
	uint64_t records, records_lost, lookup_errors;
	int64_t started_us;
	bool created_dir; /* open_dir made the directory (discard removes it) */
	int failed;	  /* -errno of the first failure, 0 when none */
	char reason[512];
	char line[MC_RECORD_JSON_MAX];
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int open_dir(struct out_sink *s, const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0755) == 0)
		s->created_dir = true;
	else if (errno != EEXIST) {
		snprintf(err, errlen, "results directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		snprintf(err, errlen, "results directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	char first[OUT_SHARD_NAME_MAX];
	out_shard_name(first, sizeof(first), 0, s->cfg.compress);
	if (faccessat(s->dirfd, "manifest.json", F_OK, 0) == 0 ||
	    faccessat(s->dirfd, first, F_OK, 0) == 0) {
		snprintf(err, errlen,
			 "results directory %s already holds a run (manifest.json or %s)", dir,
			 first);
		return -EEXIST;
	}
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
	s->started_us = now_us();
	if (s->cfg.rotate_records == 0)
		s->cfg.rotate_records = DEFAULT_ROTATE_RECORDS;
	if (s->cfg.rotate_bytes == 0)
		s->cfg.rotate_bytes = DEFAULT_ROTATE_BYTES;
	rc = open_dbs(s, err, errlen);
	if (rc == 0 && cfg->dir != NULL)
		rc = open_dir(s, cfg->dir, err, errlen);
	if (rc != 0) {
		out_sink_discard(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int fail(struct out_sink *s, int rc)
{
	s->failed = rc;
	if (s->cur != NULL) {
		s->records_lost += out_shard_records(s->cur);
		out_shard_abort(s->cur);
		s->cur = NULL;
	}
	return rc;
}

static int seal_current(struct out_sink *s)
{
	if (s->ninfos == s->capinfos) {
		size_t cap = s->capinfos ? 2 * s->capinfos : 16;
		struct out_shard_info *n = realloc(s->infos, cap * sizeof(*n));
		if (n == NULL) {
			snprintf(s->reason, sizeof(s->reason), "out of memory");
			return fail(s, -ENOMEM);
		}
		s->infos = n;
		s->capinfos = cap;
	}
	uint64_t pending = out_shard_records(s->cur);
	int rc = out_shard_seal(s->cur, &s->infos[s->ninfos], s->reason, sizeof(s->reason));
	s->cur = NULL;
	if (rc != 0) {
		s->records_lost += pending;
		s->failed = rc;
		return rc;
	}
	s->ninfos++;
	return 0;
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

int out_sink_put(struct out_sink *s, struct mc_record *rec)
{
	if (s->failed != 0) {
		s->records_lost++;
		return s->failed;
	}
	if ((s->geo != NULL || s->asn != NULL) && out_enrich_record(s->geo, s->asn, rec) != 0)
		s->lookup_errors++;
	size_t n = mc_record_to_json(rec, s->line, sizeof(s->line));
	if (n == 0) { /* cannot happen: MC_RECORD_JSON_MAX covers the worst case */
		snprintf(s->reason, sizeof(s->reason), "record too large to encode");
		return -EOVERFLOW;
	}
	s->records++;
	if (s->dirfd < 0)
		return write_stdout(s, s->line, n);
	int rc = 0;
	if (s->cur == NULL)
		rc = out_shard_open(&s->cur, s->dirfd, s->next_index++, s->cfg.compress, s->reason,
				    sizeof(s->reason));
	if (rc == 0)
		rc = out_shard_append(s->cur, s->line, n, 1, s->reason, sizeof(s->reason));
	if (rc != 0) {
		s->records_lost++;
		return fail(s, rc);
	}
	if (out_shard_records(s->cur) >= s->cfg.rotate_records ||
	    out_shard_bytes(s->cur) >= s->cfg.rotate_bytes)
		return seal_current(s);
	return 0;
}

const char *out_sink_strerror(const struct out_sink *s)
{
	return s->reason;
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

static void put_files(struct out_jw *w, const struct out_sink *s)
{
	out_jw_lit(w, "[");
	for (size_t i = 0; i < s->ninfos; i++) {
		const struct out_shard_info *f = &s->infos[i];
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
	}
	out_jw_lit(w, "]");
}

/* The engine's object verbatim when it is valid JSON, else as a string (the
 * manifest must stay parseable whatever the caller hands us). */
static void put_engine(struct out_jw *w, const char *json)
{
	struct out_json_arena a = {0};
	struct out_json *v;
	char err[64];

	if (json == NULL || json[0] == '\0')
		out_jw_lit(w, "null");
	else if (out_json_parse(&a, json, strlen(json), &v, err, sizeof(err)) == 0)
		out_jw_raw(w, json, strlen(json));
	else
		out_jw_bytes(w, json, strlen(json));
	out_json_arena_free(&a);
}

static void put_manifest(struct out_jw *w, const struct out_sink *s, const struct out_meta *m)
{
	out_jw_lit(w, "{\"format\":\"mailcensus-results/1\",\n\"mailcensus_version\":");
	put_str(w, MC_VERSION);
	out_jw_lit(w, ",\n\"command_line\":");
	put_str(w, m ? m->command_line : NULL);
	out_jw_lit(w, ",\n\"seed\":");
	out_jw_u64(w, m ? m->seed : 0);
	out_jw_lit(w, ",\n\"shard\":");
	out_jw_u64(w, m ? m->shard : 0);
	out_jw_lit(w, ",\n\"shards\":");
	out_jw_u64(w, m && m->shards ? m->shards : 1);
	out_jw_lit(w, ",\n\"started\":");
	out_jw_time(w, s->started_us, true);
	out_jw_lit(w, ",\n\"finished\":");
	out_jw_time(w, now_us(), true);
	out_jw_lit(w, ",\n\"complete\":");
	out_jw_bool(w, s->failed == 0);
	out_jw_lit(w, ",\n\"error\":");
	put_str(w, s->failed ? s->reason : NULL);
	out_jw_lit(w, ",\n\"records\":");
	out_jw_u64(w, s->records - s->records_lost);
	out_jw_lit(w, ",\n\"records_lost\":");
	out_jw_u64(w, s->records_lost);
	out_jw_lit(w, ",\n\"compress\":");
	out_jw_bool(w, s->cfg.compress);
	out_jw_lit(w, ",\n\"enriched\":");
	out_jw_bool(w, !s->cfg.no_enrich);
	out_jw_lit(w, ",\n\"lookup_errors\":");
	out_jw_u64(w, s->lookup_errors);
	out_jw_lit(w, ",\n\"databases\":[");
	if (s->geo != NULL)
		put_db(w, "geo", s->geo);
	if (s->asn != NULL) {
		if (s->geo != NULL)
			out_jw_lit(w, ",");
		put_db(w, "asn", s->asn);
	}
	out_jw_lit(w, "],\n\"engine\":");
	put_engine(w, m ? m->engine_json : NULL);
	out_jw_lit(w, ",\n\"files\":");
	put_files(w, s);
	out_jw_lit(w, "}\n");
}

/* Write a whole file atomically: temp, fsync, rename, fsync dir. */
static int write_atomic(int dirfd, const char *name, const char *data, size_t len, char *err,
			size_t errlen)
{
	char tmp[128];
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	while (len > 0 && rc == 0) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno != EINTR)
			rc = -errno;
		if (w > 0) {
			data += w;
			len -= (size_t)w;
		}
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dirfd, tmp, dirfd, name) != 0)
		rc = -errno;
	if (rc == 0)
		rc = out_fsync_dir(dirfd);
	if (rc != 0)
		unlinkat(dirfd, tmp, 0);
out:
	if (rc != 0)
		snprintf(err, errlen, "write %s: %s", name, strerror(-rc));
	return rc;
}

static int write_manifest(struct out_sink *s, const struct out_meta *m, char *err, size_t errlen)
{
	size_t cap = 65536 + s->ninfos * 512;
	if (m != NULL && m->command_line != NULL)
		cap += 6 * strlen(m->command_line);
	if (m != NULL && m->engine_json != NULL)
		cap += strlen(m->engine_json);
	char *buf = malloc(cap);
	struct out_jw w;
	int rc;

	if (buf == NULL) {
		snprintf(err, errlen, "manifest: out of memory");
		return -ENOMEM;
	}
	out_jw_init(&w, buf, cap);
	put_manifest(&w, s, m);
	if (w.overflow) {
		snprintf(err, errlen, "manifest: too large");
		rc = -EOVERFLOW;
	} else {
		rc = write_atomic(s->dirfd, "manifest.json", buf, (size_t)(w.p - buf), err, errlen);
	}
	free(buf);
	return rc;
}

int out_sink_close(struct out_sink *s, const struct out_meta *meta, char *err, size_t errlen)
{
	int rc = 0;

	if (s == NULL)
		return 0;
	if (s->cur != NULL && s->failed == 0)
		seal_current(s);
	if (s->dirfd >= 0) {
		char merr[256];
		rc = write_manifest(s, meta, merr, sizeof(merr));
		if (rc != 0 && s->failed == 0) {
			s->failed = rc;
			snprintf(s->reason, sizeof(s->reason), "%s", merr);
		} else if (rc != 0) {
			size_t n = strlen(s->reason);
			snprintf(s->reason + n, sizeof(s->reason) - n, "; %s", merr);
		}
		close(s->dirfd);
	}
	rc = s->failed;
	if (rc != 0)
		snprintf(err, errlen,
			 "%s (%zu shards sealed and listed in the manifest, %llu "
			 "records lost)",
			 s->reason, s->ninfos, (unsigned long long)s->records_lost);
	out_db_close(s->geo);
	out_db_close(s->asn);
	free(s->infos);
	free(s);
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
	if (s == NULL)
		return;
	if (s->cur != NULL)
		out_shard_abort(s->cur);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->created_dir && s->ninfos == 0)
		rmdir(s->cfg.dir); /* fails, harmlessly, if anything else is inside */
	out_db_close(s->geo);
	out_db_close(s->asn);
	free(s->infos);
	free(s);
}
