/* shard.h — one shard file of a results directory (internal to output/).
 *
 * A shard is written as DIR/shard-NNNNN.ndjson[.zst].tmp, hashed (SHA-256 of
 * the bytes on disk) as it is written, and only out_shard_seal() — flush,
 * fsync, rename to the final name, fsync the directory — makes it visible
 * under its final name. out_shard_abort() unlinks the temporary file. */
#ifndef MC_OUT_SHARD_H
#define MC_OUT_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OUT_SHARD_NAME_MAX 48

struct out_shard;

#define OUT_SHARD_TMP_MAX (OUT_SHARD_NAME_MAX + 8)

/* What the manifest says about one sealed shard. */
struct out_shard_info {
	char name[OUT_SHARD_NAME_MAX]; /* file name inside the directory */
	uint64_t records;
	uint64_t bytes;	    /* size of the file on disk */
	uint64_t raw_bytes; /* NDJSON bytes before compression */
	char sha256[65];    /* lowercase hex of the file's bytes */
};

/* The final file name of shard `index`. */
void out_shard_name(char *buf, size_t cap, uint32_t index, bool compress);

int out_shard_open(struct out_shard **out, int dirfd, uint32_t index, bool compress, char *err,
		   size_t errlen);
/* Append whole records (NDJSON bytes). 0 or -errno with reason. */
int out_shard_append(struct out_shard *sh, const char *data, size_t len, uint64_t records,
		     char *err, size_t errlen);
uint64_t out_shard_records(const struct out_shard *sh);
uint64_t out_shard_bytes(const struct out_shard *sh); /* raw NDJSON bytes appended so far */
/* Make it durable under its final name and free it; info describes it. */
int out_shard_seal(struct out_shard *sh, struct out_shard_info *info, char *err, size_t errlen);
/* A grab worker's shard: out_shard_seal() makes it durable but leaves it
 * under its temporary name (info->name), for the root process to rename
 * and list (out_sink_add_shard): the root is the one writer of final
 * names, so a crash leaves at most one final-name shard unlisted, the
 * last one, as resume expects. */
void out_shard_keep_tmp(struct out_shard *sh);
/* Drop the temporary file and free. */
void out_shard_abort(struct out_shard *sh);

/* fsync a directory; 0 or -errno. */
int out_fsync_dir(int dirfd);
/* Lowercase hex of a SHA-256 digest. */
void out_hex(char *dst, const unsigned char *src, size_t n);

/* Reading a shard back, line by line, hashing the file bytes as they are read. */
struct out_shard_reader;

int out_shard_reader_open(struct out_shard_reader **out, int dirfd, const char *name, char *err,
			  size_t errlen);
/* Next NDJSON line (without '\n', NUL-terminated, valid until the next call):
 * 1 = a line, 0 = end of file, -errno = error with reason in err. A last line
 * without '\n' is returned and flagged by out_shard_reader_unterminated(). */
int out_shard_reader_next(struct out_shard_reader *r, char **line, size_t *len, char *err,
			  size_t errlen);
bool out_shard_reader_unterminated(const struct out_shard_reader *r);
/* After end of file: file size, NDJSON bytes, hex SHA-256 of the file. */
void out_shard_reader_totals(struct out_shard_reader *r, uint64_t *bytes, uint64_t *raw_bytes,
			     char sha256[65]);
void out_shard_reader_close(struct out_shard_reader *r);

#endif
