/* verify.c — `mailcensus verify DIR`: does every byte still match the manifest? */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/json.h"
#include "output/manifest.h"
#include "output/shard.h"
#include "output/verify.h"

/* Read one shard: every line a JSON object, the last one terminated; its
 * line count, size and SHA-256 into the out-parameters. Problems found. */
static int read_shard(int dirfd, const char *name, FILE *out, uint64_t *nlines, uint64_t *nbytes,
		      char sha[65])
{
	struct out_shard_reader *r = NULL;
	struct out_json_arena arena = {0};
	char err[256];
	int problems = 0;
	uint64_t lines = 0, bytes, raw;

	sha[0] = '\0';
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
	*nlines = lines;
	*nbytes = bytes;
	return problems;
}

/* Recheck one listed shard; returns the number of problems. */
static int check_shard(int dirfd, const struct out_json *f, FILE *out, uint64_t *records)
{
	const char *name = out_json_str(out_json_get(f, "name")); /* checked at load */
	uint64_t lines = 0, bytes = 0;
	char sha[65];
	int problems = read_shard(dirfd, name, out, &lines, &bytes, sha);

	if (problems != 0 && bytes == 0 && lines == 0)
		return problems; /* could not be opened */
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

/* Highest shard index the manifest lists. */
static long last_listed(const struct out_json *files)
{
	long last = -1;
	unsigned idx;

	for (const struct out_json *f = files ? files->child : NULL; f != NULL; f = f->next)
		if (sscanf(out_json_str(out_json_get(f, "name")) ?: "", "shard-%u", &idx) == 1 &&
		    (long)idx > last)
			last = (long)idx;
	return last;
}

/* An unlisted shard in a run that did not finish: whole and newer than every
 * listed one means it was sealed after the last manifest write (resume
 * adopts it); anything else is a problem. */
static int check_late_shard(int dirfd, const char *name, long last, FILE *out)
{
	unsigned idx;
	uint64_t lines = 0, bytes = 0;
	char sha[65];

	if (sscanf(name, "shard-%u", &idx) != 1 || (long)idx <= last) {
		fprintf(out, "%s: not listed in the manifest\n", name);
		return 1;
	}
	int problems = read_shard(dirfd, name, out, &lines, &bytes, sha);
	if (problems == 0)
		fprintf(out,
			"note: %s (%" PRIu64 " records) was sealed after the last manifest write; "
			"`mailcensus resume` adopts it\n",
			name, lines);
	return problems;
}

/* Shard files in the directory that the manifest does not list. */
static int check_unlisted(int dirfd, const struct out_json *files, bool complete, FILE *out)
{
	long last = last_listed(files);
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
		if (n > 4 && strcmp(e->d_name + n - 4, ".tmp") == 0) { /* a kill's leftover */
			fprintf(out, "note: %s is an unfinished shard (not part of the results)\n",
				e->d_name);
			continue;
		}
		if (listed(files, e->d_name))
			continue;
		if (complete) {
			fprintf(out, "%s: not listed in the manifest\n", e->d_name);
			problems++;
		} else {
			problems += check_late_shard(dirfd, e->d_name, last, out);
		}
	}
	closedir(d);
	return problems;
}

static int check_manifest(int dirfd, const struct out_json *m, bool *complete, FILE *out)
{
	const struct out_json *files = out_json_get(m, "files"); /* checked at load */
	uint64_t records = 0;
	int problems = 0;
	char state[320];

	*complete = out_manifest_state(m) == OUT_RUN_COMPLETE;
	out_manifest_describe(m, state, sizeof(state));
	fprintf(out, "run: %s\n", state);
	for (const struct out_json *f = files->child; f != NULL; f = f->next)
		problems += check_shard(dirfd, f, out, &records);
	problems += check_unlisted(dirfd, files, *complete, out);
	uint64_t want = out_json_u64(out_json_get(m, "records"), UINT64_MAX);
	if (want != records) {
		fprintf(out,
			"manifest: %" PRIu64 " records in the shards, manifest says %" PRIu64 "\n",
			records, want);
		problems++;
	}
	fprintf(out, "%s: %zu shards, %" PRIu64 " records, %d problem%s%s\n",
		problems ? "FAILED" : "OK", files->count, records, problems,
		problems == 1 ? "" : "s", *complete ? "" : " (the run is not complete)");
	return problems;
}

int out_verify_dir(const char *dir, bool *complete, FILE *out)
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
	*complete = false;
	rc = out_manifest_load(dirfd, &arena, &m, err, sizeof(err));
	if (rc != 0)
		fprintf(out, "%s/%s\n", dir, err);
	else
		rc = check_manifest(dirfd, m, complete, out);
	out_json_arena_free(&arena);
	close(dirfd);
	return rc;
}
