/* results.c — walk the records of a results directory: the manifest's shard
 * list, or every shard-* file without a manifest (see results.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/manifest.h"
#include "output/results.h"
#include "output/shard.h"

struct walk {
	const struct out_results_cb *cb;
	void *ctx;
	struct out_json_arena arena;
};

static int read_shard(struct walk *w, int dirfd, const char *name, char *err, size_t errlen)
{
	struct out_shard_reader *r;
	char *line;
	size_t len;
	int rc = out_shard_reader_open(&r, dirfd, name, err, errlen);

	if (rc != 0)
		return rc;
	if (w->cb->shard != NULL)
		w->cb->shard(w->ctx);
	while ((rc = out_shard_reader_next(r, &line, &len, err, errlen)) == 1) {
		struct out_json *v;
		char jerr[96];
		out_json_arena_reset(&w->arena);
		if (out_json_parse(&w->arena, line, len, &v, jerr, sizeof(jerr)) != 0) {
			if (w->cb->bad_line != NULL)
				w->cb->bad_line(w->ctx);
			continue;
		}
		rc = w->cb->record(w->ctx, v);
		if (rc != 0) {
			snprintf(err, errlen, "%s: %s", name, strerror(-rc));
			break;
		}
	}
	out_shard_reader_close(r);
	return rc < 0 ? rc : 0;
}

/* Without a manifest: every shard-*.ndjson[.zst] in name order. */
static int read_listed_dir(struct walk *w, int dirfd, char *err, size_t errlen)
{
	struct dirent **names;
	int fd = dup(dirfd), n, rc = 0;
	char path[32];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = scandir(path, &names, NULL, alphasort);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot list the directory: %s", strerror(errno));
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		bool shard = strncmp(name, "shard-", 6) == 0 &&
			     ((len > 7 && strcmp(name + len - 7, ".ndjson") == 0) ||
			      (len > 11 && strcmp(name + len - 11, ".ndjson.zst") == 0));
		if (shard && rc == 0)
			rc = read_shard(w, dirfd, name, err, errlen);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int walk_dir(struct walk *w, int dirfd, bool *no_manifest, char *err, size_t errlen)
{
	struct out_json_arena ma = {0};
	struct out_json *m;
	int rc;

	if (faccessat(dirfd, OUT_MANIFEST_NAME, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
		*no_manifest = true;
		return read_listed_dir(w, dirfd, err, errlen);
	}
	*no_manifest = false;
	/* verify's load and shape check (regular file, bounded, an object,
	 * shard names without a path): what verify refuses, readers refuse */
	rc = out_manifest_load(dirfd, &ma, &m, err, errlen);
	if (rc == 0 && w->cb->manifest != NULL)
		rc = w->cb->manifest(w->ctx, m);
	const struct out_json *files = rc == 0 ? out_json_get(m, "files") : NULL;
	for (const struct out_json *f = files ? files->child : NULL; f && rc == 0; f = f->next)
		rc = read_shard(w, dirfd, out_json_str(out_json_get(f, "name")), err, errlen);
	out_json_arena_free(&ma);
	return rc;
}

int out_results_each(const char *dir, const struct out_results_cb *cb, void *ctx, bool *no_manifest,
		     char *err, size_t errlen)
{
	struct walk w = {.cb = cb, .ctx = ctx};
	bool dummy;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dirfd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		return -e;
	}
	int rc = walk_dir(&w, dirfd, no_manifest ? no_manifest : &dummy, err, errlen);
	close(dirfd);
	out_json_arena_free(&w.arena);
	return rc;
}
