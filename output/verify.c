/* verify.c — `mailcensus verify DIR`: does every byte still match the manifest? */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/json.h"
#include "output/shard.h"
#include "output/verify.h"

/* Recheck one listed shard; returns the number of problems. */
static int check_shard(int dirfd, const struct out_json *f, FILE *out, uint64_t *records)
{
	const char *name = out_json_str(out_json_get(f, "name"));
	struct out_shard_reader *r = NULL;
	struct out_json_arena arena = {0};
	char err[256], sha[65];
	int problems = 0;
	uint64_t lines = 0, bytes, raw;

	if (name == NULL || strchr(name, '/') != NULL || name[0] == '.') {
		fprintf(out, "manifest: a files[] entry has no valid name\n");
		return 1;
	}
	if (out_shard_reader_open(&r, dirfd, name, err, sizeof(err)) != 0) {
		fprintf(out, "%s\n", err);
		return 1;
	}
	int rc;
	char *line;
	size_t len;
	while ((rc = out_shard_reader_next(r, &line, &len, err, sizeof(err))) == 1) {
		struct out_json *v;
		char jerr[128];
		lines++;
		out_json_arena_reset(&arena);
		if (out_json_parse(&arena, line, len, &v, jerr, sizeof(jerr)) != 0 ||
		    v->type != OUT_JSON_OBJECT) {
			if (problems++ < 5)
				fprintf(out, "%s: line %" PRIu64 " is not a JSON object (%s)\n",
					name, lines, jerr);
		}
	}
	if (rc < 0) {
		fprintf(out, "%s\n", err);
		problems++;
	}
	if (out_shard_reader_unterminated(r)) {
		fprintf(out, "%s: last line has no newline\n", name);
		problems++;
	}
	out_shard_reader_totals(r, &bytes, &raw, sha);
	out_shard_reader_close(r);
	out_json_arena_free(&arena);
	uint64_t want_records = out_json_u64(out_json_get(f, "records"), UINT64_MAX);
	uint64_t want_bytes = out_json_u64(out_json_get(f, "bytes"), UINT64_MAX);
	const char *want_sha = out_json_str(out_json_get(f, "sha256"));
	if (want_bytes != bytes) {
		fprintf(out, "%s: %" PRIu64 " bytes, manifest says %" PRIu64 "\n", name, bytes,
			want_bytes);
		problems++;
	}
	if (want_sha == NULL || strcmp(want_sha, sha) != 0) {
		fprintf(out, "%s: SHA-256 %s, manifest says %s\n", name, sha,
			want_sha ? want_sha : "(none)");
		problems++;
	}
	if (want_records != lines) {
		fprintf(out, "%s: %" PRIu64 " records, manifest says %" PRIu64 "\n", name, lines,
			want_records);
		problems++;
	}
	*records += lines;
	return problems;
}

static bool listed(const struct out_json *files, const char *name)
{
	for (const struct out_json *f = files ? files->child : NULL; f != NULL; f = f->next) {
		const char *n = out_json_str(out_json_get(f, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* Shard files in the directory that the manifest does not list. */
static int check_unlisted(int dirfd, const struct out_json *files, FILE *out)
{
	int problems = 0, fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		fprintf(out, "cannot list the directory: %s\n", strerror(errno));
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (strncmp(e->d_name, "shard-", 6) != 0)
			continue;
		if (n > 4 && strcmp(e->d_name + n - 4, ".tmp") == 0) {
			fprintf(out, "note: %s is an unfinished shard (not part of the results)\n",
				e->d_name);
			continue;
		}
		if (!listed(files, e->d_name)) {
			fprintf(out, "%s: not listed in the manifest\n", e->d_name);
			problems++;
		}
	}
	closedir(d);
	return problems;
}

static int check_manifest(int dirfd, const struct out_json *m, FILE *out)
{
	const struct out_json *files = out_json_get(m, "files");
	uint64_t records = 0;
	int problems = 0;

	if (strcmp(out_json_str(out_json_get(m, "format")) ?: "", "mailcensus-results/1") != 0) {
		fprintf(out, "manifest: unknown format (want \"mailcensus-results/1\")\n");
		return 1;
	}
	if (files == NULL || files->type != OUT_JSON_ARRAY) {
		fprintf(out, "manifest: no files[] array\n");
		return 1;
	}
	for (const struct out_json *f = files->child; f != NULL; f = f->next)
		problems += check_shard(dirfd, f, out, &records);
	problems += check_unlisted(dirfd, files, out);
	uint64_t want = out_json_u64(out_json_get(m, "records"), UINT64_MAX);
	if (want != records) {
		fprintf(out,
			"manifest: %" PRIu64 " records in the shards, manifest says %" PRIu64 "\n",
			records, want);
		problems++;
	}
	if (!out_json_true(out_json_get(m, "complete")))
		fprintf(out, "note: the run did not complete: %s\n",
			out_json_str(out_json_get(m, "error")) ?: "(no reason given)");
	fprintf(out, "%s: %zu shards, %" PRIu64 " records, %d problem%s\n",
		problems ? "FAILED" : "OK", files->count, records, problems,
		problems == 1 ? "" : "s");
	return problems;
}

int out_verify_dir(const char *dir, FILE *out)
{
	struct out_json_arena arena = {0};
	struct out_json *m;
	char err[256];
	int rc;

	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		rc = -errno;
		fprintf(out, "%s: %s\n", dir, strerror(errno));
		return rc;
	}
	rc = out_json_load(dirfd, "manifest.json", &arena, &m, err, sizeof(err));
	if (rc == 0 && m->type != OUT_JSON_OBJECT) {
		snprintf(err, sizeof(err), "manifest.json: not a JSON object");
		rc = -EINVAL;
	}
	if (rc != 0)
		fprintf(out, "%s/%s\n", dir, err);
	else
		rc = check_manifest(dirfd, m, out);
	out_json_arena_free(&arena);
	close(dirfd);
	return rc;
}
