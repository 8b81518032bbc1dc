/* hitlog.c — the durable hit log (hitlog.h). */
#include "base/hitlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HITLOG_MAGIC   "MCHITLG1"
#define HITLOG_VERSION 1u
#define HITLOG_SALT    0x6d63686cu /* "mchl": an all-zero record never checks */

_Static_assert(sizeof(struct mc_hit) + 8 == MC_HITLOG_RECORD, "hit log record layout");

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ HITLOG_SALT;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* host order: the log is read back on the machine that wrote it */
}

void mc_hitlog_encode(const struct mc_hit *h, uint8_t rec[MC_HITLOG_RECORD])
{
	memset(rec, 0, MC_HITLOG_RECORD);
	memcpy(rec, h, sizeof(*h));
	put32(rec + sizeof(*h), fnv1a(rec, sizeof(*h)));
}

int mc_hitlog_decode(const uint8_t rec[MC_HITLOG_RECORD], struct mc_hit *h)
{
	uint32_t sum;

	memcpy(&sum, rec + sizeof(*h), 4);
	if (sum != fnv1a(rec, sizeof(*h)))
		return -EBADMSG;
	memcpy(h, rec, sizeof(*h));
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void header(uint8_t hdr[MC_HITLOG_HEADER], const struct mc_hitlog_id *id)
{
	memset(hdr, 0, MC_HITLOG_HEADER);
	memcpy(hdr, HITLOG_MAGIC, 8);
	put32(hdr + 8, HITLOG_VERSION);
	put32(hdr + 12, MC_HITLOG_RECORD);
	memcpy(hdr + 16, &id->seed, 8);
	put32(hdr + 24, id->shard);
	put32(hdr + 28, id->shards);
}

int mc_hitlog_create(struct mc_hitlog_writer *w, int dirfd, const char *name,
		     const struct mc_hitlog_id *id, char *err, size_t errlen)
{
	uint8_t hdr[MC_HITLOG_HEADER];
	int rc;

	memset(w, 0, offsetof(struct mc_hitlog_writer, buf));
	if (dirfd < 0)
		w->fd = open(name, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	else
		w->fd =
		    openat(dirfd, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create the hit log %s%s: %s", dirfd < 0 ? "in " : "",
			 name, strerror(-rc));
		return rc;
	}
	header(hdr, id);
	rc = write_all(w->fd, hdr, sizeof(hdr));
	if (rc == 0 && fdatasync(w->fd) != 0)
		rc = -errno;
	if (rc != 0) {
		snprintf(err, errlen, "cannot write the hit log: %s", strerror(-rc));
		close(w->fd);
		w->fd = -1;
	}
	return rc;
}

int mc_hitlog_flush(struct mc_hitlog_writer *w, bool sync)
{
	int rc = 0;

	if (w->nbuf > 0) {
		rc = write_all(w->fd, w->buf, (size_t)w->nbuf * MC_HITLOG_RECORD);
		if (rc != 0)
			return rc;
		w->written += w->nbuf;
		w->nbuf = 0;
	}
	if (sync && w->synced < w->written) {
		if (fdatasync(w->fd) != 0)
			return -errno;
		w->synced = w->written;
	}
	return 0;
}

int mc_hitlog_append(struct mc_hitlog_writer *w, const struct mc_hit *h)
{
	if (w->nbuf == MC_HITLOG_BUF_RECS) {
		int rc = mc_hitlog_flush(w, false);
		if (rc != 0)
			return rc;
	}
	mc_hitlog_encode(h, w->buf + (size_t)w->nbuf * MC_HITLOG_RECORD);
	w->nbuf++;
	w->records++;
	return 0;
}

int mc_hitlog_close(struct mc_hitlog_writer *w)
{
	int rc = w->fd >= 0 ? mc_hitlog_flush(w, true) : 0;

	if (w->fd >= 0 && close(w->fd) != 0 && rc == 0)
		rc = -errno;
	w->fd = -1;
	return rc;
}

static int read_header(struct mc_hitlog_reader *r, char *err, size_t errlen)
{
	uint8_t hdr[MC_HITLOG_HEADER];
	uint32_t version, recsize;
	ssize_t n = pread(r->fd, hdr, sizeof(hdr), 0);

	if (n != (ssize_t)sizeof(hdr) || memcmp(hdr, HITLOG_MAGIC, 8) != 0) {
		snprintf(err, errlen, "not a hit log (bad or short header)");
		return -EBADMSG;
	}
	memcpy(&version, hdr + 8, 4);
	memcpy(&recsize, hdr + 12, 4);
	if (version != HITLOG_VERSION || recsize != MC_HITLOG_RECORD) {
		snprintf(err, errlen, "hit log version %u, record size %u: not this build's",
			 version, recsize);
		return -EBADMSG;
	}
	memcpy(&r->id.seed, hdr + 16, 8);
	memcpy(&r->id.shard, hdr + 24, 4);
	memcpy(&r->id.shards, hdr + 28, 4);
	r->offset = MC_HITLOG_HEADER;
	return 0;
}

int mc_hitlog_open_fd(struct mc_hitlog_reader *r, int fd, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	return read_header(r, err, errlen);
}

int mc_hitlog_open(struct mc_hitlog_reader *r, int dirfd, const char *name, char *err,
		   size_t errlen)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), rc;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the hit log %s: %s", name, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "the hit log %s is not a regular file", name);
		close(fd);
		return -EINVAL;
	}
	rc = mc_hitlog_open_fd(r, fd, err, errlen);
	r->own_fd = true;
	if (rc != 0)
		mc_hitlog_reader_close(r);
	return rc;
}

int mc_hitlog_next(struct mc_hitlog_reader *r, struct mc_hit *out)
{
	uint8_t rec[MC_HITLOG_RECORD];

	for (;;) {
		ssize_t n = pread(r->fd, rec, sizeof(rec), (off_t)r->offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n < (ssize_t)sizeof(rec))
			return 0; /* nothing more yet, or a torn last record */
		r->offset += sizeof(rec);
		if (mc_hitlog_decode(rec, out) == 0) {
			r->records++;
			return 1;
		}
		r->corrupt++;
	}
}

void mc_hitlog_reader_close(struct mc_hitlog_reader *r)
{
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
