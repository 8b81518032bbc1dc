/* shard.c — write one shard durably: temp name, SHA-256 as we go, fsync, rename.
 *
 * Records arrive as NDJSON bytes. Plain shards gather them straight into a
 * 1 MiB page-aligned file buffer; compressed shards gather them in a second
 * buffer and feed it through one zstd stream per shard, whose output lands
 * in the file buffer, so each .zst shard is a single frame that `zstd -d`
 * reads on its own (level 1: the output stage must keep up with the census;
 * level 3 saves a little more space for about twice the CPU).
 *
 * The file is opened with O_DIRECT where the filesystem allows it: at a
 * kilobyte per record, copying into the page cache cost more CPU than
 * encoding the JSON, and the shard is fsynced at the end anyway. Full
 * buffers are written as aligned 1 MiB blocks; the unaligned tail at seal
 * time is written after clearing O_DIRECT. Filesystems that refuse
 * O_DIRECT get ordinary buffered writes.
 *
 * The SHA-256 is over the bytes as they reach the file, so `sha256sum` of
 * the final file matches the manifest. Durability order: data fsync,
 * rename, directory fsync; a crash at any point leaves either no final file
 * or a whole one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>

#include "output/shard.h"

#define SHARD_BUF (1u << 20) /* a multiple of any O_DIRECT alignment */
#define ALIGN	  4096

struct out_shard {
	int dirfd;
	int fd;
	bool direct;   /* fd has O_DIRECT */
	bool keep_tmp; /* seal leaves the file under its temporary name */
	char tmp_name[OUT_SHARD_TMP_MAX];
	char final_name[OUT_SHARD_NAME_MAX];
	EVP_MD_CTX *sha;
	ZSTD_CCtx *zc; /* NULL when not compressing */
	uint64_t records, raw_bytes, file_bytes;
	char *fbuf; /* bytes for the file (page-aligned) */
	size_t fused;
	char *zin; /* pending NDJSON before compression (compressed shards only) */
	size_t zused;
};

void out_hex(char *dst, const unsigned char *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		dst[2 * i] = hex[src[i] >> 4];
		dst[2 * i + 1] = hex[src[i] & 15];
	}
	dst[2 * n] = '\0';
}

void out_shard_name(char *buf, size_t cap, uint32_t index, bool compress)
{
	snprintf(buf, cap, "shard-%05u.ndjson%s", index, compress ? ".zst" : "");
}

int out_fsync_dir(int dirfd)
{
	return fsync(dirfd) == 0 ? 0 : -errno;
}

static int open_file(struct out_shard *sh, char *err, size_t errlen)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;

	sh->fd = openat(sh->dirfd, sh->tmp_name, flags | O_DIRECT, 0644);
	sh->direct = sh->fd >= 0;
	if (sh->fd < 0 && errno == EINVAL)
		sh->fd = openat(sh->dirfd, sh->tmp_name, flags, 0644);
	if (sh->fd < 0) {
		snprintf(err, errlen, "create %s: %s", sh->tmp_name, strerror(errno));
		return -errno;
	}
	return 0;
}

static void shard_free(struct out_shard *sh)
{
	if (sh->fd >= 0)
		close(sh->fd);
	EVP_MD_CTX_free(sh->sha);
	ZSTD_freeCCtx(sh->zc);
	free(sh->zin);
	free(sh->fbuf);
	free(sh);
}

int out_shard_open(struct out_shard **out, int dirfd, uint32_t index, bool compress, char *err,
		   size_t errlen)
{
	struct out_shard *sh = calloc(1, sizeof(*sh));
	void *fbuf = NULL;
	int rc;

	if (sh == NULL || posix_memalign(&fbuf, ALIGN, SHARD_BUF) != 0)
		goto nomem;
	sh->fd = -1;
	sh->dirfd = dirfd;
	sh->fbuf = fbuf;
	out_shard_name(sh->final_name, sizeof(sh->final_name), index, compress);
	snprintf(sh->tmp_name, sizeof(sh->tmp_name), "%s.tmp", sh->final_name);
	sh->sha = EVP_MD_CTX_new();
	if (sh->sha == NULL || !EVP_DigestInit_ex(sh->sha, EVP_sha256(), NULL))
		goto nomem;
	if (compress) {
		sh->zin = malloc(SHARD_BUF);
		sh->zc = ZSTD_createCCtx();
		if (sh->zin == NULL || sh->zc == NULL)
			goto nomem;
		ZSTD_CCtx_setParameter(sh->zc, ZSTD_c_compressionLevel, 1);
		ZSTD_CCtx_setParameter(sh->zc, ZSTD_c_checksumFlag, 1);
	}
	rc = open_file(sh, err, errlen);
	if (rc != 0) {
		shard_free(sh);
		return rc;
	}
	*out = sh;
	return 0;
nomem:
	snprintf(err, errlen, "shard: out of memory");
	if (sh != NULL) {
		if (sh->fbuf == NULL)
			free(fbuf);
		shard_free(sh);
	}
	return -ENOMEM;
}

/* Write fbuf[0..n) to the file. */
static int file_write(struct out_shard *sh, size_t n, char *err, size_t errlen)
{
	const char *p = sh->fbuf;

	while (n > 0) {
		ssize_t w = write(sh->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			snprintf(err, errlen, "write %s: %s", sh->tmp_name, strerror(e));
			return -e;
		}
		p += w;
		n -= (size_t)w;
		if (n > 0 && sh->direct) { /* a short direct write: finish buffered */
			fcntl(sh->fd, F_SETFL, fcntl(sh->fd, F_GETFL) & ~O_DIRECT);
			sh->direct = false;
		}
	}
	return 0;
}

/* Hash and write the file buffer. When `final`, an unaligned tail is allowed. */
static int flush_file(struct out_shard *sh, bool final, char *err, size_t errlen)
{
	size_t n = sh->fused;
	int rc;

	EVP_DigestUpdate(sh->sha, sh->fbuf, n);
	sh->file_bytes += n;
	sh->fused = 0;
	if (sh->direct && n % ALIGN != 0) {
		size_t aligned = n - n % ALIGN;
		if (!final) { /* cannot happen: only full buffers are flushed early */
			snprintf(err, errlen, "write %s: unaligned direct write", sh->tmp_name);
			return -EIO;
		}
		rc = file_write(sh, aligned, err, errlen);
		if (rc != 0)
			return rc;
		memmove(sh->fbuf, sh->fbuf + aligned, n - aligned);
		n -= aligned;
		if (fcntl(sh->fd, F_SETFL, fcntl(sh->fd, F_GETFL) & ~O_DIRECT) != 0) {
			snprintf(err, errlen, "fcntl %s: %s", sh->tmp_name, strerror(errno));
			return -errno;
		}
		sh->direct = false;
	}
	return file_write(sh, n, err, errlen);
}

/* Compress the pending NDJSON into the file buffer, flushing it when full. */
static int compress_pending(struct out_shard *sh, bool end, char *err, size_t errlen)
{
	ZSTD_inBuffer in = {sh->zin, sh->zused, 0};
	ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
	size_t left;

	do {
		ZSTD_outBuffer zout = {sh->fbuf, SHARD_BUF, sh->fused};
		left = ZSTD_compressStream2(sh->zc, &zout, &in, mode);
		if (ZSTD_isError(left)) {
			snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(left));
			return -EIO;
		}
		sh->fused = zout.pos;
		if (sh->fused == SHARD_BUF) {
			int rc = flush_file(sh, false, err, errlen);
			if (rc != 0)
				return rc;
		}
	} while (end ? left != 0 : in.pos < in.size);
	sh->zused = 0;
	return 0;
}

int out_shard_append(struct out_shard *sh, const char *data, size_t len, uint64_t records,
		     char *err, size_t errlen)
{
	char *buf = sh->zc ? sh->zin : sh->fbuf;
	size_t *used = sh->zc ? &sh->zused : &sh->fused;

	sh->raw_bytes += len;
	while (len > 0) {
		size_t room = SHARD_BUF - *used;
		size_t n = len < room ? len : room;
		memcpy(buf + *used, data, n);
		*used += n;
		data += n;
		len -= n;
		if (*used < SHARD_BUF)
			break;
		int rc = sh->zc ? compress_pending(sh, false, err, errlen)
				: flush_file(sh, false, err, errlen);
		if (rc != 0)
			return rc;
	}
	sh->records += records;
	return 0;
}

uint64_t out_shard_records(const struct out_shard *sh)
{
	return sh->records;
}

uint64_t out_shard_bytes(const struct out_shard *sh)
{
	return sh->raw_bytes;
}

int out_shard_seal(struct out_shard *sh, struct out_shard_info *info, char *err, size_t errlen)
{
	unsigned char md[32];
	unsigned mdlen = 0;
	int rc = sh->zc ? compress_pending(sh, true, err, errlen) : 0;

	if (rc == 0)
		rc = flush_file(sh, true, err, errlen);
	if (rc != 0)
		goto fail;
	if (fsync(sh->fd) != 0 || close(sh->fd) != 0) {
		rc = -errno;
		sh->fd = -1;
		snprintf(err, errlen, "fsync %s: %s", sh->tmp_name, strerror(-rc));
		goto fail;
	}
	sh->fd = -1;
	if (sh->keep_tmp) /* a grab worker's: the root names it (out_sink_add_shard) */
		goto done;
	if (renameat(sh->dirfd, sh->tmp_name, sh->dirfd, sh->final_name) != 0) {
		rc = -errno;
		snprintf(err, errlen, "rename %s: %s", sh->tmp_name, strerror(-rc));
		goto fail;
	}
	rc = out_fsync_dir(sh->dirfd);
	if (rc != 0) {
		snprintf(err, errlen, "fsync directory: %s", strerror(-rc));
		goto fail;
	}
done:
	EVP_DigestFinal_ex(sh->sha, md, &mdlen);
	memset(info, 0, sizeof(*info));
	if (sh->keep_tmp) /* short: "shard-" + index + ".ndjson.zst.tmp" */
		snprintf(info->name, sizeof(info->name), "%.*s", (int)sizeof(info->name) - 1,
			 sh->tmp_name);
	else
		snprintf(info->name, sizeof(info->name), "%s", sh->final_name);
	info->records = sh->records;
	info->bytes = sh->file_bytes;
	info->raw_bytes = sh->raw_bytes;
	out_hex(info->sha256, md, 32);
	shard_free(sh);
	return 0;
fail:
	out_shard_abort(sh);
	return rc;
}

void out_shard_keep_tmp(struct out_shard *sh)
{
	sh->keep_tmp = true;
}

void out_shard_abort(struct out_shard *sh)
{
	if (sh == NULL)
		return;
	unlinkat(sh->dirfd, sh->tmp_name, 0);
	shard_free(sh);
}
