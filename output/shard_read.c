/* shard_read.c — read a shard back as lines (plain or zstd), hashing the file as it goes.
 *
 * Used by `verify` (which compares the totals with the manifest) and by
 * `report`. File bytes go through SHA-256 first, then, for .zst shards,
 * through a zstd decompression stream; lines are cut from the decoded
 * bytes in a buffer that holds at least one whole record (lines longer
 * than that are an error: our encoder never writes them). A .zst file
 * that ends inside a frame is an error too, not a short shard. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>

#include "base/fileio.h"
#include "output/manifest.h"
#include "output/record.h"
#include "output/shard.h"

#define READ_BUF (1u << 20)
#define LINE_CAP (4u * MC_RECORD_JSON_MAX)

struct out_shard_reader {
	int fd;
	EVP_MD_CTX *sha;
	ZSTD_DCtx *zd; /* NULL for plain shards */
	char *in;      /* file bytes */
	size_t in_len, in_pos;
	char *text; /* decoded NDJSON */
	size_t text_len, text_pos;
	bool eof, unterminated;
	size_t zlast; /* last ZSTD_decompressStream() hint: 0 when a frame just ended */
	uint64_t bytes, raw_bytes;
	char name[OUT_SHARD_TMP_MAX];
};

int out_shard_reader_open(struct out_shard_reader **out, int dirfd, const char *name, char *err,
			  size_t errlen)
{
	struct out_shard_reader *r = calloc(1, sizeof(*r));
	size_t n = strlen(name);

	if (r == NULL)
		return -ENOMEM;
	r->fd = -1;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->in = malloc(READ_BUF);
	r->text = malloc(LINE_CAP + READ_BUF);
	r->sha = EVP_MD_CTX_new();
	if (n > 4 && strcmp(name + n - 4, ".zst") == 0)
		r->zd = ZSTD_createDCtx();
	if (r->in == NULL || r->text == NULL || r->sha == NULL ||
	    (n > 4 && strcmp(name + n - 4, ".zst") == 0 && r->zd == NULL) ||
	    !EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL)) {
		out_shard_reader_close(r);
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	r->fd = mc_file_open_regular(dirfd, name); /* no symlink, FIFO or device */
	if (r->fd < 0) {
		int e = -r->fd;
		snprintf(err, errlen, "%s: %s", name,
			 e == EINVAL || e == ELOOP ? "not a regular file (refused)" : strerror(e));
		out_shard_reader_close(r);
		return -e;
	}
	*out = r;
	return 0;
}

/* Refill r->in from the file; 0 at EOF sets r->eof. */
static int read_file(struct out_shard_reader *r, char *err, size_t errlen)
{
	ssize_t got;

	do
		got = read(r->fd, r->in, READ_BUF);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		snprintf(err, errlen, "%s: read: %s", r->name, strerror(errno));
		return -errno;
	}
	if (got == 0)
		r->eof = true;
	EVP_DigestUpdate(r->sha, r->in, (size_t)got);
	r->bytes += (uint64_t)got;
	r->in_len = (size_t)got;
	r->in_pos = 0;
	return 0;
}

/* Append more decoded bytes after r->text_len; 0 = some or EOF, -errno on error. */
static int decode_more(struct out_shard_reader *r, char *err, size_t errlen)
{
	size_t room = LINE_CAP + READ_BUF - r->text_len;

	while (!r->eof || r->in_pos < r->in_len) {
		if (r->in_pos == r->in_len) {
			int rc = read_file(r, err, errlen);
			if (rc != 0)
				return rc;
			continue;
		}
		if (r->zd == NULL) {
			size_t n = r->in_len - r->in_pos < room ? r->in_len - r->in_pos : room;
			memcpy(r->text + r->text_len, r->in + r->in_pos, n);
			r->in_pos += n;
			r->text_len += n;
			r->raw_bytes += n;
			return 0;
		}
		ZSTD_inBuffer zin = {r->in, r->in_len, r->in_pos};
		ZSTD_outBuffer zout = {r->text + r->text_len, room, 0};
		size_t zr = ZSTD_decompressStream(r->zd, &zout, &zin);
		if (ZSTD_isError(zr)) {
			snprintf(err, errlen, "%s: zstd: %s", r->name, ZSTD_getErrorName(zr));
			return -EIO;
		}
		r->zlast = zr;
		r->in_pos = zin.pos;
		r->text_len += zout.pos;
		r->raw_bytes += zout.pos;
		if (zout.pos > 0)
			return 0;
	}
	if (r->zd != NULL && r->zlast != 0) { /* the file ended inside a frame */
		snprintf(err, errlen, "%s: zstd: truncated frame", r->name);
		return -EIO;
	}
	return 0;
}

int out_shard_reader_next(struct out_shard_reader *r, char **line, size_t *len, char *err,
			  size_t errlen)
{
	for (;;) {
		char *start = r->text + r->text_pos;
		char *nl = memchr(start, '\n', r->text_len - r->text_pos);
		if (nl != NULL) {
			*nl = '\0';
			*line = start;
			*len = (size_t)(nl - start);
			r->text_pos += *len + 1;
			return 1;
		}
		/* move the partial line to the front, then decode more */
		size_t partial = r->text_len - r->text_pos;
		memmove(r->text, start, partial);
		r->text_pos = 0;
		r->text_len = partial;
		if (partial >= LINE_CAP) {
			snprintf(err, errlen, "%s: line longer than %u bytes", r->name, LINE_CAP);
			return -EOVERFLOW;
		}
		size_t before = r->text_len;
		int rc = decode_more(r, err, errlen);
		if (rc != 0)
			return rc;
		if (r->text_len == before) { /* end of data */
			if (partial == 0)
				return 0;
			r->unterminated = true;
			r->text[partial] = '\0';
			*line = r->text;
			*len = partial;
			r->text_pos = r->text_len = 0;
			return 1;
		}
	}
}

bool out_shard_reader_unterminated(const struct out_shard_reader *r)
{
	return r->unterminated;
}

void out_shard_reader_totals(struct out_shard_reader *r, uint64_t *bytes, uint64_t *raw_bytes,
			     char sha256[65])
{
	unsigned char md[32];
	unsigned mdlen = 0;

	EVP_DigestFinal_ex(r->sha, md, &mdlen);
	out_hex(sha256, md, 32);
	*bytes = r->bytes;
	*raw_bytes = r->raw_bytes;
}

void out_shard_reader_close(struct out_shard_reader *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	EVP_MD_CTX_free(r->sha);
	ZSTD_freeDCtx(r->zd);
	free(r->in);
	free(r->text);
	free(r);
}
