/* census_resume.c — a resumed census's earlier hit logs and its engine
 * checkpoint (census_resume.h).
 *
 * Why both: the engine restarts every TX queue where its checkpoint says
 * the replies of everything before were durable in the hit log, so what
 * the killed sessions found lives only in their logs. Those hits are keyed
 * (address << 16 | port, as the sink keys records), sorted and made
 * distinct once at start; the ones the results directory holds no record
 * of are handed to the grabber before any new hit, and the new session's
 * re-sent window (the probes of the last reply window before the kill)
 * finds some of them again: those are dropped by census_resume_seen(). */
#include "cli/census_resume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/targets.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int push(uint64_t **v, size_t *n, size_t *cap, uint64_t key)
{
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 4096;
		uint64_t *nv = realloc(*v, ncap * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = key;
	return 0;
}

/* "hits.log.N", N decimal without a leading zero. */
static bool old_log_name(const char *n)
{
	size_t k = strlen(MC_HITLOG_NAME);

	if (strncmp(n, MC_HITLOG_NAME, k) != 0 || n[k] != '.' || n[k + 1] < '1' || n[k + 1] > '9')
		return false;
	for (n += k + 1; *n != '\0'; n++)
		if (*n < '0' || *n > '9')
			return false;
	return true;
}

static int read_log(struct census_resume *cr, int dirfd, const char *name,
		    const struct mc_hitlog_id *id, size_t *cap, char *err, size_t errlen)
{
	struct mc_hitlog_reader r;
	struct mc_hit h;
	struct stat st;
	int rc = mc_hitlog_open(&r, dirfd, name, err, errlen);

	/* killed between creating the log and its header's sync: no hit in it */
	if (rc == -EBADMSG && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size < MC_HITLOG_HEADER) {
		cr->logs++;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (r.id.seed != id->seed || r.id.shard != id->shard || r.id.shards != id->shards) {
		snprintf(err, errlen, "%s belongs to another scan (seed or shard differ)", name);
		mc_hitlog_reader_close(&r);
		return -EINVAL;
	}
	while ((rc = mc_hitlog_next(&r, &h)) == 1)
		if (push(&cr->seen, &cr->nseen, cap, (uint64_t)h.addr << 16 | h.port) != 0) {
			rc = -ENOMEM;
			break;
		}
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", name, strerror(-rc));
	cr->old_hits += r.records;
	cr->old_corrupt += r.corrupt;
	cr->logs++;
	mc_hitlog_reader_close(&r);
	return rc < 0 ? rc : 0;
}

static int read_logs(struct census_resume *cr, int dirfd, const struct mc_hitlog_id *id, char *err,
		     size_t errlen)
{
	int fd = dup(dirfd), rc = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	size_t cap = 0;

	if (d == NULL) {
		rc = -errno;
		snprintf(err, errlen, "cannot list the results directory: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	rewinddir(d); /* the dup shares dirfd's offset: a listing before may have moved it */
	while (rc == 0 && (e = readdir(d)) != NULL)
		if (old_log_name(e->d_name))
			rc = read_log(cr, dirfd, e->d_name, id, &cap, err, errlen);
	closedir(d);
	return rc;
}

int census_resume_load(struct census_resume *cr, int dirfd, const struct mc_hitlog_id *id,
		       bool (*recorded)(const void *ctx, uint32_t addr, uint16_t port),
		       const void *ctx, char *err, size_t errlen)
{
	size_t o = 0, cap = 0;
	int rc;

	memset(cr, 0, sizeof(*cr));
	rc = read_logs(cr, dirfd, id, err, errlen);
	if (rc != 0)
		return rc;
	if (cr->nseen > 1)
		qsort(cr->seen, cr->nseen, sizeof(*cr->seen), cmp_u64);
	for (size_t i = 0; i < cr->nseen; i++)
		if (o == 0 || cr->seen[o - 1] != cr->seen[i])
			cr->seen[o++] = cr->seen[i];
	cr->nseen = o;
	for (size_t i = 0; i < cr->nseen; i++) {
		uint64_t k = cr->seen[i];
		if (!recorded(ctx, (uint32_t)(k >> 16), (uint16_t)k) &&
		    push(&cr->todo, &cr->ntodo, &cap, k) != 0) {
			snprintf(err, errlen, "out of memory for the old hits");
			return -ENOMEM;
		}
	}
	return 0;
}

bool census_resume_next(struct census_resume *cr, struct mc_hit *out)
{
	if (cr->next >= cr->ntodo)
		return false;
	uint64_t k = cr->todo[cr->next++];
	*out = (struct mc_hit){.addr = (uint32_t)(k >> 16), .port = (uint16_t)k};
	return true;
}

bool census_resume_seen(const struct census_resume *cr, uint32_t addr, uint16_t port)
{
	uint64_t key = (uint64_t)addr << 16 | port;

	return cr->nseen != 0 && bsearch(&key, cr->seen, cr->nseen, sizeof(key), cmp_u64) != NULL;
}

void census_resume_free(struct census_resume *cr)
{
	free(cr->seen);
	free(cr->todo);
	memset(cr, 0, sizeof(*cr));
}

int census_resume_engine(struct engine_config *cfg, int dirfd, bool resume, struct engine_ckpt *ck,
			 char *note, size_t notelen, char *err, size_t errlen)
{
	int rc;

	note[0] = '\0';
	if (dirfd < 0)
		return 0; /* no results directory: nothing to resume from */
	cfg->checkpoint = true;
	cfg->checkpoint_dirfd = dirfd;
	if (!resume)
		return 0;
	rc = engine_ckpt_load(dirfd, ck, err, errlen);
	if (rc == -ENOENT) {
		snprintf(note, notelen,
			 "no %s (killed before its first): the scan starts from the beginning",
			 ENGINE_CKPT_NAME);
		return 0;
	}
	if (rc == 0)
		rc = engine_ckpt_check(ck, cfg, targets_pairs(cfg->targets), err, errlen);
	if (rc != 0)
		return rc;
	cfg->resume_from = ck;
	snprintf(note, notelen, "the scan restarts from %s: %llu targets were probed before it",
		 ENGINE_CKPT_NAME, (unsigned long long)engine_ckpt_taken(ck));
	return 0;
}
