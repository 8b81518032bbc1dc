/* resume_dir.c — take over an unfinished results directory.
 *
 * What a crash can leave, and what we do with it (sink.c's write order is
 * shard data, fsync, rename, directory fsync, then the manifest):
 *   - shard-N.ndjson[.zst].tmp, manifest.json.tmp.*: unfinished writes. Not
 *     part of the results; removed (manifest.json.reserve, the room kept
 *     for a last manifest, too: the sink makes a new one).
 *   - shard-N under its final name but not in the manifest, N above every
 *     listed index: killed between the rename and the manifest rewrite. The
 *     file is whole (fsynced before the rename); it is re-read and adopted.
 *   - anything else unlisted, or a listed shard whose bytes, SHA-256 or
 *     record count differ from the manifest: not ours to guess about; the
 *     resume is refused and `mailcensus verify` says more.
 * Every record's (ip, port) is collected while the shards are re-read, so
 * the caller can skip targets that already have their record. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output/json.h"
#include "output/manifest.h"
#include "output/resume_dir.h"

void out_resume_dir_fresh(struct out_resume_dir *rd)
{
	int64_t us = out_now_us();
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	char ymd[24];

	memset(rd, 0, sizeof(*rd));
	rd->sessions = 1;
	gmtime_r(&secs, &tm);
	strftime(ymd, sizeof(ymd), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(rd->started, sizeof(rd->started), "%s.%06ldZ", ymd, (long)(us % 1000000));
}

int out_resume_dir_add(struct out_resume_dir *rd, const struct out_shard_info *info)
{
	if (rd->ninfos == rd->capinfos) {
		size_t cap = rd->capinfos ? 2 * rd->capinfos : 16;
		struct out_shard_info *n = realloc(rd->infos, cap * sizeof(*n));
		if (n == NULL)
			return -ENOMEM;
		rd->infos = n;
		rd->capinfos = cap;
	}
	rd->infos[rd->ninfos++] = *info;
	return 0;
}

static int key_push(struct out_resume_dir *rd, size_t *cap, uint64_t key)
{
	if (rd->nkeys == *cap) {
		size_t ncap = *cap ? 2 * *cap : 4096;
		uint64_t *n = realloc(rd->keys, ncap * sizeof(*n));
		if (n == NULL)
			return -ENOMEM;
		rd->keys = n;
		*cap = ncap;
	}
	rd->keys[rd->nkeys++] = key;
	return 0;
}

/* The (ip, port) key of one record line; -EINVAL when it has none. */
static int record_key(struct out_json_arena *a, char *line, size_t len, uint64_t *key)
{
	struct out_json *v;
	char jerr[64];
	struct in_addr ia;

	out_json_arena_reset(a);
	if (out_json_parse(a, line, len, &v, jerr, sizeof(jerr)) != 0 || v->type != OUT_JSON_OBJECT)
		return -EINVAL;
	const char *ip = out_json_str(out_json_get(v, "ip"));
	uint64_t port = out_json_u64(out_json_get(v, "port"), 0);
	uint8_t ip6[16];
	if (ip == NULL || port == 0 || port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET6, ip, ip6) == 1) { /* grab's IPv6 targets */
		*key = out_resume_key6(ip6, (uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET, ip, &ia) != 1)
		return -EINVAL;
	*key = (uint64_t)ntohl(ia.s_addr) << 16 | port;
	return 0;
}

/* Re-read one shard: its totals into `info`, its record keys into rd. */
static int read_shard(struct out_resume_dir *rd, size_t *keycap, int dirfd, const char *name,
		      struct out_shard_info *info, char *err, size_t errlen)
{
	struct out_shard_reader *r = NULL;
	struct out_json_arena a = {0};
	uint64_t lines = 0, key;
	char *line;
	size_t len;
	int rc = out_shard_reader_open(&r, dirfd, name, err, errlen);

	if (rc != 0)
		return rc;
	while ((rc = out_shard_reader_next(r, &line, &len, err, errlen)) == 1) {
		lines++;
		if (record_key(&a, line, len, &key) != 0) {
			snprintf(err, errlen, "%s: line %llu is not a record with ip and port",
				 name, (unsigned long long)lines);
			rc = -EINVAL;
			break;
		}
		if (key_push(rd, keycap, key) != 0) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			break;
		}
	}
	if (rc == 0 && out_shard_reader_unterminated(r)) {
		snprintf(err, errlen, "%s: last line has no newline", name);
		rc = -EINVAL;
	}
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", name);
	info->records = lines;
	out_shard_reader_totals(r, &info->bytes, &info->raw_bytes, info->sha256);
	out_shard_reader_close(r);
	out_json_arena_free(&a);
	return rc < 0 ? rc : 0;
}

static bool is_listed(const struct out_resume_dir *rd, const char *name);

/* Every shard the manifest lists, compared with what the manifest says. */
static int read_listed(struct out_resume_dir *rd, size_t *keycap, int dirfd,
		       const struct out_json *files, bool compress, char *err, size_t errlen)
{
	for (const struct out_json *f = files->child; f != NULL; f = f->next) {
		const char *name = out_json_str(out_json_get(f, "name"));
		const char *sha = out_json_str(out_json_get(f, "sha256"));
		struct out_shard_info info;
		unsigned idx;
		char want[OUT_SHARD_NAME_MAX];

		if (is_listed(rd, name)) { /* fuzz_resume: kept twice, its records counted twice */
			snprintf(
			    err, errlen,
			    "%s is listed twice in the manifest (`mailcensus verify` says more)",
			    name);
			return -EINVAL;
		}
		int rc = read_shard(rd, keycap, dirfd, name, &info, err, errlen);

		if (rc != 0)
			return rc;
		if (info.records != out_json_u64(out_json_get(f, "records"), UINT64_MAX) ||
		    info.bytes != out_json_u64(out_json_get(f, "bytes"), UINT64_MAX) ||
		    sha == NULL || strcmp(sha, info.sha256) != 0) {
			snprintf(err, errlen,
				 "%s does not match the manifest (`mailcensus verify` says more)",
				 name);
			return -EIO;
		}
		if (sscanf(name, "shard-%u", &idx) != 1 ||
		    (out_shard_name(want, sizeof(want), idx, compress), strcmp(want, name) != 0)) {
			snprintf(err, errlen, "%s: not a shard name of this run (%s shards)", name,
				 compress ? "compressed" : "plain");
			return -EINVAL;
		}
		if (idx == UINT32_MAX) { /* fuzz_resume: next_index would wrap to shard 0 */
			snprintf(err, errlen, "%s: no shard can follow it", name);
			return -EINVAL;
		}
		if (idx >= rd->next_index)
			rd->next_index = idx + 1;
		if (out_resume_dir_add(rd, &info) != 0)
			return -ENOMEM;
	}
	return 0;
}

static bool is_leftover(const char *n);

static bool is_listed(const struct out_resume_dir *rd, const char *name)
{
	for (size_t i = 0; i < rd->ninfos; i++)
		if (strcmp(rd->infos[i].name, name) == 0)
			return true;
	return false;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Remove temporaries; collect the indexes of unlisted final-name shards. */
static int sweep(struct out_resume_dir *rd, int dirfd, bool compress, uint32_t **adopt,
		 size_t *nadopt, char *err, size_t errlen)
{
	int fd = dup(dirfd), rc = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	size_t cap = 0;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "cannot list the directory: %s", strerror(errno));
		return -errno;
	}
	rewinddir(d); /* the dup shares dirfd's offset */
	while (rc == 0 && (e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		char want[OUT_SHARD_NAME_MAX];
		unsigned idx;

		if (is_leftover(n)) {
			if (unlinkat(dirfd, n, 0) != 0) {
				snprintf(err, errlen, "remove leftover %s: %s", n, strerror(errno));
				rc = -errno;
			}
			rd->leftovers++;
			continue;
		}
		if (strncmp(n, "shard-", 6) != 0 || is_listed(rd, n))
			continue;
		if (sscanf(n, "shard-%u", &idx) != 1 ||
		    (out_shard_name(want, sizeof(want), idx, compress), strcmp(want, n) != 0) ||
		    idx < rd->next_index || idx == UINT32_MAX) {
			snprintf(err, errlen,
				 "%s is not listed in the manifest and was not the shard being "
				 "sealed (`mailcensus verify` says more)",
				 n);
			rc = -EINVAL;
		} else if (*nadopt == cap) {
			cap = cap ? 2 * cap : 8;
			uint32_t *na = realloc(*adopt, cap * sizeof(*na));
			if (na == NULL)
				rc = -ENOMEM;
			else
				*adopt = na;
		}
		if (rc == 0)
			(*adopt)[(*nadopt)++] = idx;
	}
	closedir(d);
	return rc;
}

/* Whole shards sealed after the last manifest write, in index order. */
static int adopt_unlisted(struct out_resume_dir *rd, size_t *keycap, int dirfd, bool compress,
			  char *err, size_t errlen)
{
	uint32_t *adopt = NULL;
	size_t nadopt = 0;
	int rc = sweep(rd, dirfd, compress, &adopt, &nadopt, err, errlen);

	if (rc == 0 && nadopt > 1)
		qsort(adopt, nadopt, sizeof(*adopt), cmp_u32);
	for (size_t i = 0; rc == 0 && i < nadopt; i++) {
		struct out_shard_info info;
		char name[OUT_SHARD_NAME_MAX];
		out_shard_name(name, sizeof(name), adopt[i], compress);
		rc = read_shard(rd, keycap, dirfd, name, &info, err, errlen);
		if (rc == 0)
			rc = out_resume_dir_add(rd, &info);
		rd->next_index = adopt[i] + 1;
		rd->adopted++;
	}
	free(adopt);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int signo_of(const char *name)
{
	if (name == NULL)
		return 0;
	return strcmp(name, "SIGINT") == 0    ? SIGINT
	       : strcmp(name, "SIGTERM") == 0 ? SIGTERM
	       : strcmp(name, "SIGHUP") == 0  ? SIGHUP
					      : 0;
}

/* The manifest's "history": the earlier sessions. One still "running" in it
 * was killed (this process holds the directory's lock). */
static int take_history(struct out_resume_dir *rd, const struct out_json *h)
{
	size_t n = h != NULL && h->type == OUT_JSON_ARRAY ? h->count : 0;

	if (n > OUT_SESSIONS_MAX - 1)
		n = OUT_SESSIONS_MAX - 1;
	rd->history = calloc(n + 1, sizeof(*rd->history));
	if (rd->history == NULL)
		return -ENOMEM;
	for (const struct out_json *e = n ? h->child : NULL; e != NULL && rd->nhistory < n;
	     e = e->next) {
		struct out_session *s = &rd->history[rd->nhistory++];
		const struct out_json *secs = out_json_get(e, "seconds");
		const char *state = out_json_str(out_json_get(e, "state")) ?: "killed";
		snprintf(s->started, sizeof(s->started), "%s",
			 out_json_str(out_json_get(e, "started")) ?: "");
		snprintf(s->ended, sizeof(s->ended), "%s",
			 out_json_str(out_json_get(e, "ended")) ?: "");
		snprintf(s->state, sizeof(s->state), "%s",
			 strcmp(state, "running") == 0 ? "killed" : state);
		s->seconds = secs != NULL && secs->type == OUT_JSON_NUMBER && secs->num >= 0 &&
				     secs->num < 1e12
				 ? secs->num
				 : 0;
		s->records = out_json_u64(out_json_get(e, "records"), 0);
		s->scan = out_json_get(e, "sent") != NULL &&
			  out_json_get(e, "sent")->type == OUT_JSON_NUMBER;
		s->sent = out_json_u64(out_json_get(e, "sent"), 0);
		s->hits = out_json_u64(out_json_get(e, "hits"), 0);
	}
	return 0;
}

/* What the manifest says about the run as a whole. */
static int take_run(struct out_resume_dir *rd, const struct out_json *m, bool compress, char *err,
		    size_t errlen)
{
	rd->prev_state = out_manifest_state(m);
	if (rd->prev_state == OUT_RUN_COMPLETE) {
		snprintf(err, errlen, "the run is complete: nothing to resume");
		return -EALREADY;
	}
	if (out_json_true(out_json_get(m, "compress")) != compress) {
		snprintf(err, errlen, "the run wrote %s shards; a resume must too",
			 compress ? "plain" : "compressed");
		return -EINVAL;
	}
	rd->prev_signo = signo_of(out_json_str(out_json_get(m, "signal")));
	snprintf(rd->prev_error, sizeof(rd->prev_error), "%s",
		 out_json_str(out_json_get(m, "error")) ?: "");
	snprintf(rd->started, sizeof(rd->started), "%s",
		 out_json_str(out_json_get(m, "started")) ?: "");
	rd->sessions = (uint32_t)out_json_u64(out_json_get(m, "sessions"), 1) + 1;
	rd->lookup_errors = out_json_u64(out_json_get(m, "lookup_errors"), 0);
	if (take_history(rd, out_json_get(m, "history")) != 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int out_resume_dir_open(struct out_resume_dir *rd, int dirfd, bool compress, char *err,
			size_t errlen)
{
	struct out_json_arena a = {0};
	struct out_json *m;
	size_t keycap = 0;
	int rc;

	memset(rd, 0, sizeof(*rd));
	rc = out_manifest_load(dirfd, &a, &m, err, errlen);
	if (rc == 0)
		rc = take_run(rd, m, compress, err, errlen);
	if (rc == 0)
		rc = read_listed(rd, &keycap, dirfd, out_json_get(m, "files"), compress, err,
				 errlen);
	if (rc == 0)
		rc = adopt_unlisted(rd, &keycap, dirfd, compress, err, errlen);
	out_json_arena_free(&a);
	if (rc != 0)
		return rc;
	if (rd->nkeys > 1)
		qsort(rd->keys, rd->nkeys, sizeof(*rd->keys), cmp_u64);
	size_t o = 0;
	for (size_t i = 0; i < rd->nkeys; i++)
		if (o == 0 || rd->keys[o - 1] != rd->keys[i])
			rd->keys[o++] = rd->keys[i];
	rd->nkeys = o;
	for (size_t i = 0; i < rd->ninfos; i++)
		rd->records_before += rd->infos[i].records;
	rd->loaded = true;
	return 0;
}

static bool has_key(const struct out_resume_dir *rd, uint64_t key)
{
	return rd->nkeys != 0 && bsearch(&key, rd->keys, rd->nkeys, sizeof(key), cmp_u64) != NULL;
}

bool out_resume_dir_has(const struct out_resume_dir *rd, uint32_t addr, uint16_t port)
{
	return has_key(rd, (uint64_t)addr << 16 | port);
}

uint64_t out_resume_key6(const uint8_t addr6[16], uint16_t port)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over the 16 bytes */

	for (int i = 0; i < 16; i++)
		h = (h ^ addr6[i]) * 0x100000001b3ull;
	return 1ull << 63 | (h & 0x7fffffffffffull) << 16 | port;
}

bool out_resume_dir_has6(const struct out_resume_dir *rd, const uint8_t addr6[16], uint16_t port)
{
	return has_key(rd, out_resume_key6(addr6, port));
}

void out_resume_dir_free(struct out_resume_dir *rd)
{
	free(rd->infos);
	free(rd->keys);
	free(rd->history);
	memset(rd, 0, sizeof(*rd));
}

static char *json_strdup(const struct out_json *v)
{
	const char *s = out_json_str(v);
	return s != NULL ? strdup(s) : NULL;
}

/* The resume object's files[]{path, sha256}. */
static int load_files(struct out_resume *r, const struct out_json *files, char *err, size_t errlen)
{
	size_t n = files != NULL && files->type == OUT_JSON_ARRAY ? files->count : 0;

	r->file_paths = calloc(n + 1, sizeof(char *));
	r->file_sha256 = calloc(n + 1, sizeof(char *));
	if (r->file_paths == NULL || r->file_sha256 == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (const struct out_json *f = n ? files->child : NULL; f != NULL; f = f->next) {
		r->file_paths[r->nfiles] = json_strdup(out_json_get(f, "path"));
		r->file_sha256[r->nfiles] = json_strdup(out_json_get(f, "sha256"));
		if (r->file_paths[r->nfiles] == NULL || r->file_sha256[r->nfiles] == NULL) {
			r->nfiles++; /* freed with the rest */
			snprintf(err, errlen, "manifest.json: a resume files[] entry is malformed");
			return -EINVAL;
		}
		r->nfiles++;
	}
	return 0;
}

int out_resume_load(const char *dir, struct out_resume *r, char *err, size_t errlen)
{
	struct out_json_arena a = {0};
	struct out_json *m;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	memset(r, 0, sizeof(*r));
	if (dirfd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	rc = out_manifest_load(dirfd, &a, &m, err, errlen);
	close(dirfd);
	if (rc == 0) {
		const struct out_json *res = out_json_get(m, "resume");
		const struct out_json *argv = out_json_get(res, "argv");
		const struct out_json *t = out_json_get(res, "targets");
		r->state = out_manifest_state(m);
		out_manifest_describe(m, r->describe, sizeof(r->describe));
		r->command = json_strdup(out_json_get(res, "command"));
		r->cwd = json_strdup(out_json_get(res, "cwd"));
		r->targets_path = json_strdup(out_json_get(t, "path"));
		r->targets_sha256 = json_strdup(out_json_get(t, "sha256"));
		rc = load_files(r, out_json_get(res, "files"), err, errlen);
		r->argv = calloc((argv ? argv->count : 0) + 1, sizeof(char *));
		for (const struct out_json *v = argv ? argv->child : NULL; r->argv && v;
		     v = v->next)
			if ((r->argv[r->argc] = json_strdup(v)) != NULL)
				r->argc++;
		if (rc == 0 && (r->argv == NULL || (argv && argv->type != OUT_JSON_ARRAY) ||
				(argv && (size_t)r->argc != argv->count))) {
			snprintf(err, errlen, "manifest.json: a malformed resume object");
			rc = -EINVAL;
		}
	}
	out_json_arena_free(&a);
	if (rc != 0)
		out_resume_free(r);
	return rc;
}

/* A temporary of ours: shard-*.tmp, manifest.json.tmp*, the reserve. */
static bool is_leftover(const char *n)
{
	size_t len = strlen(n);

	return (strncmp(n, "shard-", 6) == 0 && len > 4 && strcmp(n + len - 4, ".tmp") == 0) ||
	       strncmp(n, OUT_MANIFEST_TMP, strlen(OUT_MANIFEST_TMP)) == 0 ||
	       /* the engine checkpoint's temporaries (engine/checkpoint.h's name) */
	       strncmp(n, "scan.checkpoint.tmp.", 20) == 0 || strcmp(n, OUT_RESERVE_NAME) == 0;
}

int out_resume_clear_leftovers(const char *dir, size_t *removed, char *err, size_t errlen)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	DIR *d = dirfd >= 0 ? fdopendir(dirfd) : NULL;
	struct dirent *e;

	*removed = 0;
	if (d == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		if (dirfd >= 0)
			close(dirfd);
		return rc;
	}
	if (faccessat(dirfd, OUT_MANIFEST_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		snprintf(err, errlen, "%s has a manifest", dir);
		rc = -EEXIST;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (is_leftover(e->d_name)) {
			if (unlinkat(dirfd, e->d_name, 0) != 0) {
				rc = -errno;
				snprintf(err, errlen, "remove %s: %s", e->d_name, strerror(errno));
			}
			++*removed;
		} else if (strncmp(e->d_name, "shard-", 6) == 0) {
			snprintf(
			    err, errlen,
			    "%s holds %s but no manifest: not removed (`mailcensus verify` and "
			    "`report` read what is there)",
			    dir, e->d_name);
			rc = -EEXIST;
		}
	}
	closedir(d);
	return rc;
}

void out_resume_free(struct out_resume *r)
{
	for (int i = 0; r->argv != NULL && i < r->argc; i++)
		free(r->argv[i]);
	free(r->argv);
	free(r->command);
	free(r->cwd);
	free(r->targets_path);
	free(r->targets_sha256);
	for (int i = 0; i < r->nfiles; i++) {
		free(r->file_paths[i]);
		free(r->file_sha256[i]);
	}
	free(r->file_paths);
	free(r->file_sha256);
	memset(r, 0, sizeof(*r));
}
