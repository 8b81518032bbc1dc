/* shard.c — write one shard durably: temp name, SHA-256 as we go, fsync, rename.
 *
 * Records arrive as NDJSON bytes and are gathered in a 1 MiB buffer; with
 * compression the buffer is fed through one zstd stream per shard, so each
 * .zst shard is a single frame that `zstd -d` reads on its own. The SHA-256
 * is over the bytes as they reach the file, so `sha256sum` of the final file
 * matches the manifest. Durability order: data fsync, rename, directory
 * fsync; a crash at any point leaves either no final file or a whole one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>

#include "output/shard.h"

#define SHARD_BUF (1u << 20)

struct out_shard {
	int dirfd;
	int fd;
	char tmp_name[OUT_SHARD_TMP_MAX];
	char final_name[OUT_SHARD_NAME_MAX];
	EVP_MD_CTX *sha;
	ZSTD_CCtx *zc; /* NULL when not compressing */
	uint64_t records, raw_bytes, file_bytes;
	size_t used;
	char *buf;  /* pending NDJSON */
	char *zbuf; /* compressed output */
	size_t zcap;
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

int out_shard_open(struct out_shard **out, int dirfd, uint32_t index, bool compress, char *err,
		   size_t errlen)
{
	struct out_shard *sh = calloc(1, sizeof(*sh));
	int rc = -ENOMEM;

	if (sh == NULL)
		goto fail;
	sh->fd = -1;
	sh->dirfd = dirfd;
	out_shard_name(sh->final_name, sizeof(sh->final_name), index, compress);
	snprintf(sh->tmp_name, sizeof(sh->tmp_name), "%s.tmp", sh->final_name);
	sh->buf = malloc(SHARD_BUF);
	sh->sha = EVP_MD_CTX_new();
	if (sh->buf == NULL || sh->sha == NULL || !EVP_DigestInit_ex(sh->sha, EVP_sha256(), NULL))
		goto fail;
	if (compress) {
		sh->zcap = ZSTD_CStreamOutSize();
		sh->zbuf = malloc(sh->zcap);
		sh->zc = ZSTD_createCCtx();
		if (sh->zbuf == NULL || sh->zc == NULL)
			goto fail;
		ZSTD_CCtx_setParameter(sh->zc, ZSTD_c_compressionLevel, 3);
		ZSTD_CCtx_setParameter(sh->zc, ZSTD_c_checksumFlag, 1);
	}
	sh->fd = openat(dirfd, sh->tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (sh->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "create %s: %s", sh->tmp_name, strerror(errno));
		free(sh->buf);
		sh->buf = NULL;
		goto fail_quiet;
	}
	*out = sh;
	return 0;
fail:
	snprintf(err, errlen, "shard: out of memory");
fail_quiet:
	if (sh != NULL) {
		EVP_MD_CTX_free(sh->sha);
		ZSTD_freeCCtx(sh->zc);
		free(sh->zbuf);
		free(sh->buf);
		free(sh);
	}
	return rc;
}

/* Write bytes to the file and the hash. */
static int file_write(struct out_shard *sh, const char *p, size_t n, char *err, size_t errlen)
{
	EVP_DigestUpdate(sh->sha, p, n);
	sh->file_bytes += n;
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
	}
	return 0;
}

/* Push the pending buffer to the file (through zstd when compressing). */
static int flush_buf(struct out_shard *sh, bool end, char *err, size_t errlen)
{
	if (sh->zc == NULL) {
		int rc = file_write(sh, sh->buf, sh->used, err, errlen);
		sh->used = 0;
		return rc;
	}
	ZSTD_inBuffer in = {sh->buf, sh->used, 0};
	ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
	size_t left;
	do {
		ZSTD_outBuffer zout = {sh->zbuf, sh->zcap, 0};
		left = ZSTD_compressStream2(sh->zc, &zout, &in, mode);
		if (ZSTD_isError(left)) {
			snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(left));
			return -EIO;
		}
		int rc = file_write(sh, sh->zbuf, zout.pos, err, errlen);
		if (rc != 0)
			return rc;
	} while (end ? left != 0 : in.pos < in.size);
	sh->used = 0;
	return 0;
}

int out_shard_append(struct out_shard *sh, const char *data, size_t len, uint64_t records,
		     char *err, size_t errlen)
{
	while (len > 0) {
		size_t room = SHARD_BUF - sh->used;
		size_t n = len < room ? len : room;
		memcpy(sh->buf + sh->used, data, n);
		sh->used += n;
		data += n;
		len -= n;
		sh->raw_bytes += n;
		if (sh->used == SHARD_BUF) {
			int rc = flush_buf(sh, false, err, errlen);
			if (rc != 0)
				return rc;
		}
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

static void shard_free(struct out_shard *sh)
{
	if (sh->fd >= 0)
		close(sh->fd);
	EVP_MD_CTX_free(sh->sha);
	ZSTD_freeCCtx(sh->zc);
	free(sh->zbuf);
	free(sh->buf);
	free(sh);
}

int out_shard_seal(struct out_shard *sh, struct out_shard_info *info, char *err, size_t errlen)
{
	unsigned char md[32];
	unsigned mdlen = 0;
	int rc = flush_buf(sh, true, err, errlen);

	if (rc != 0)
		goto fail;
	if (fsync(sh->fd) != 0 || close(sh->fd) != 0) {
		rc = -errno;
		sh->fd = -1;
		snprintf(err, errlen, "fsync %s: %s", sh->tmp_name, strerror(-rc));
		goto fail;
	}
	sh->fd = -1;
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
	EVP_DigestFinal_ex(sh->sha, md, &mdlen);
	memset(info, 0, sizeof(*info));
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

void out_shard_abort(struct out_shard *sh)
{
	if (sh == NULL)
		return;
	unlinkat(sh->dirfd, sh->tmp_name, 0);
	shard_free(sh);
}
