/* diff_sort.c — a bounded external sort of struct diff_svc by (address, port).
 *
 * Order: (address, port), then arrival order, so that of duplicate records
 * the first one read comes first. Shards are written in arrival order, so a census is sorted before
 * two of them can be walked side by side. Records are collected into a buffer of at most mem_bytes;
 * a full buffer is sorted (qsort) and written as one run file, raw structs, into the work
 * directory. When the input is sealed the runs are merged: while there are more than DIFF_FANIN of
 * them, the first DIFF_FANIN are merged into a new run (one more pass over those bytes); then the
 * remaining runs are read through a final k-way merge that hands records out one at a time. Memory
 * after sealing is one read buffer per run (DIFF_RUN_BUF), never the census: a 100-million-record
 * census with the default 16 MiB buffer makes ~120 runs, two passes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/diff.h"

#define DIFF_FANIN   64
#define DIFF_RUN_BUF (64u * 1024)
#define DIFF_NAME    640

struct run {
	char path[DIFF_NAME];
	FILE *f;
	struct diff_svc head;
	bool live;
};

struct diff_sorter {
	char workdir[DIFF_NAME - 64], tag[16];
	struct diff_svc *buf;
	size_t cap, n;
	struct run *runs; /* runs[first .. nruns) are still to be merged */
	unsigned nruns, first, made, passes;
	uint64_t records;
	bool sealed;
};

static int svc_cmp(const void *a, const void *b)
{
	const struct diff_svc *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int diff_sorter_new(struct diff_sorter **out, const char *workdir, const char *tag,
		    size_t mem_bytes, char *err, size_t errlen)
{
	struct diff_sorter *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(s->workdir, sizeof(s->workdir), "%s", workdir);
	snprintf(s->tag, sizeof(s->tag), "%s", tag);
	s->cap = mem_bytes / sizeof(struct diff_svc);
	if (s->cap < 1024)
		s->cap = 1024;
	s->buf = malloc(s->cap * sizeof(struct diff_svc));
	if (s->buf == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory (sort buffer of %zu bytes)", mem_bytes);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

/* A new, empty run file opened for writing. */
static struct run *run_add(struct diff_sorter *s, char *err, size_t errlen)
{
	struct run *r = realloc(s->runs, (s->nruns + 1) * sizeof(*r));

	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->runs = r;
	r = &s->runs[s->nruns];
	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s/%s-run-%u", s->workdir, s->tag, s->made++);
	r->f = fopen(r->path, "w+");
	if (r->f == NULL) {
		snprintf(err, errlen, "%s: %s", r->path, strerror(errno));
		return NULL;
	}
	setvbuf(r->f, NULL, _IOFBF, DIFF_RUN_BUF);
	s->nruns++;
	return r;
}

static int run_close_write(struct run *r, char *err, size_t errlen)
{
	if (fflush(r->f) != 0 || ferror(r->f)) {
		snprintf(err, errlen, "%s: %s", r->path, strerror(errno));
		return -EIO;
	}
	rewind(r->f);
	return 0;
}

static int flush_buffer(struct diff_sorter *s, char *err, size_t errlen)
{
	if (s->n == 0)
		return 0;
	qsort(s->buf, s->n, sizeof(s->buf[0]), svc_cmp);
	struct run *r = run_add(s, err, errlen);
	if (r == NULL)
		return -EIO;
	if (fwrite(s->buf, sizeof(s->buf[0]), s->n, r->f) != s->n) {
		snprintf(err, errlen, "%s: %s", r->path, strerror(errno));
		return -EIO;
	}
	s->n = 0;
	return run_close_write(r, err, errlen);
}

int diff_sorter_put(struct diff_sorter *s, const struct diff_svc *v, char *err, size_t errlen)
{
	if (s->n == s->cap) {
		int rc = flush_buffer(s, err, errlen);
		if (rc != 0)
			return rc;
	}
	s->buf[s->n] = *v;
	s->buf[s->n++].seq = (uint32_t)s->records++;
	return 0;
}

static void run_advance(struct run *r)
{
	r->live = fread(&r->head, sizeof(r->head), 1, r->f) == 1;
}

/* Index of the run with the smallest head among runs[from .. to), or -1. */
static int run_min(const struct diff_sorter *s, unsigned from, unsigned to)
{
	int best = -1;

	for (unsigned i = from; i < to; i++)
		if (s->runs[i].live &&
		    (best < 0 || svc_cmp(&s->runs[i].head, &s->runs[best].head) < 0))
			best = (int)i;
	return best;
}

static void run_drop(struct run *r)
{
	if (r->f != NULL)
		fclose(r->f);
	r->f = NULL;
	unlink(r->path);
}

/* Merge runs[first .. first+DIFF_FANIN) into a new run at the end. */
static int merge_pass(struct diff_sorter *s, char *err, size_t errlen)
{
	unsigned from = s->first, to = s->first + DIFF_FANIN;
	struct run *out = run_add(s, err, errlen);
	int i;

	if (out == NULL)
		return -EIO;
	for (unsigned k = from; k < to; k++)
		run_advance(&s->runs[k]);
	while ((i = run_min(s, from, to)) >= 0) {
		if (fwrite(&s->runs[i].head, sizeof(s->runs[i].head), 1, s->runs[s->nruns - 1].f) !=
		    1) {
			snprintf(err, errlen, "%s: %s", s->runs[s->nruns - 1].path,
				 strerror(errno));
			return -EIO;
		}
		run_advance(&s->runs[i]);
	}
	for (unsigned k = from; k < to; k++)
		run_drop(&s->runs[k]);
	s->first = to;
	s->passes++;
	return run_close_write(&s->runs[s->nruns - 1], err, errlen);
}

int diff_sorter_finish(struct diff_sorter *s, char *err, size_t errlen)
{
	int rc = flush_buffer(s, err, errlen);

	free(s->buf); /* from here on only the runs' read buffers */
	s->buf = NULL;
	while (rc == 0 && s->nruns - s->first > DIFF_FANIN)
		rc = merge_pass(s, err, errlen);
	for (unsigned k = s->first; rc == 0 && k < s->nruns; k++)
		run_advance(&s->runs[k]);
	s->sealed = true;
	return rc;
}

int diff_sorter_next(struct diff_sorter *s, struct diff_svc *v)
{
	if (!s->sealed)
		return -EINVAL;
	int i = run_min(s, s->first, s->nruns);
	if (i < 0)
		return 0;
	*v = s->runs[i].head;
	run_advance(&s->runs[i]);
	if (ferror(s->runs[i].f))
		return -EIO;
	return 1;
}

void diff_sorter_stats(const struct diff_sorter *s, uint64_t *records, unsigned *runs,
		       unsigned *passes)
{
	*records = s->records;
	*runs = s->made;
	*passes = s->passes;
}

void diff_sorter_free(struct diff_sorter *s)
{
	if (s == NULL)
		return;
	for (unsigned k = 0; k < s->nruns; k++)
		run_drop(&s->runs[k]);
	free(s->runs);
	free(s->buf);
	free(s);
}
