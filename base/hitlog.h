/* hitlog.h — the durable hit log: the hand-over between scan and grab.
 *
 * Every validated hit (base/hit.h) is appended to one file in the results
 * directory as a fixed-size record with a checksum, after a 64-byte header
 * naming the run (seed, shard, shards). The writer buffers and write()s at
 * least every flush call, and fdatasync()s when asked (the census does so
 * at least once a second): after a crash the file holds every hit up to
 * the last sync, and at most a torn record at its end, which readers
 * ignore. Readers tail the file while it grows (the grab stage reads the
 * hits at its own pace, so a slow grab never makes the scan lose one), and
 * a later resume reads it to know what was found. It is the record of what
 * the scan found even if no grab happens.
 *
 * Record: the 24-byte mc_hit, then a 32-bit FNV-1a checksum of those bytes
 * xor a constant (so an all-zero block, which a crashed file system may
 * leave, never validates), then 4 bytes of zero padding: 32 bytes. */
#ifndef MC_BASE_HITLOG_H
#define MC_BASE_HITLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hit.h"

#define MC_HITLOG_NAME	   "hits.log"
#define MC_HITLOG_HEADER   64
#define MC_HITLOG_RECORD   32
#define MC_HITLOG_BUF_RECS 2048 /* records buffered before a write() */

struct mc_hitlog_id {
	uint64_t seed;
	uint32_t shard, shards;
};

struct mc_hitlog_writer {
	int fd;
	uint64_t records; /* appended so far (buffered included) */
	uint64_t written; /* handed to the kernel */
	uint64_t synced;  /* known durable */
	uint32_t nbuf;
	uint8_t buf[MC_HITLOG_BUF_RECS * MC_HITLOG_RECORD];
};

/* Create name in dirfd (O_CREAT|O_EXCL|O_NOFOLLOW; it must not exist) and
 * write the header; or, with dirfd < 0, an unnamed file (O_TMPFILE) in the
 * directory `name` for a run without a results directory. 0, or -errno
 * with a reason in err. */
int mc_hitlog_create(struct mc_hitlog_writer *w, int dirfd, const char *name,
		     const struct mc_hitlog_id *id, char *err, size_t errlen);

/* Append one hit (buffered; written when the buffer is full). 0 or -errno. */
int mc_hitlog_append(struct mc_hitlog_writer *w, const struct mc_hit *h);

/* write() what is buffered; with sync, fdatasync() too. 0 or -errno. */
int mc_hitlog_flush(struct mc_hitlog_writer *w, bool sync);

/* Flush, sync and close. 0 or -errno. */
int mc_hitlog_close(struct mc_hitlog_writer *w);

struct mc_hitlog_reader {
	int fd;
	bool own_fd;
	struct mc_hitlog_id id;
	uint64_t offset;  /* next record's file offset */
	uint64_t records; /* records read */
	uint64_t corrupt; /* records skipped for a bad checksum */
};

/* Open name in dirfd for reading (O_NOFOLLOW, regular file, header
 * checked). 0, or -errno with a reason in err. */
int mc_hitlog_open(struct mc_hitlog_reader *r, int dirfd, const char *name, char *err,
		   size_t errlen);

/* Read another descriptor of the same file (the writer's, for an unnamed
 * log); the caller keeps fd. 0 or -errno. */
int mc_hitlog_open_fd(struct mc_hitlog_reader *r, int fd, char *err, size_t errlen);

/* The next hit: 1 with *out, 0 when the file holds no further whole record
 * yet (call again as it grows), -errno on a read error. A record with a bad
 * checksum is skipped and counted. */
int mc_hitlog_next(struct mc_hitlog_reader *r, struct mc_hit *out);

void mc_hitlog_reader_close(struct mc_hitlog_reader *r);

/* The record bytes of h (exposed for tests and fuzzing). */
void mc_hitlog_encode(const struct mc_hit *h, uint8_t rec[MC_HITLOG_RECORD]);
/* 0 with *h when rec's checksum holds, -EBADMSG otherwise. */
int mc_hitlog_decode(const uint8_t rec[MC_HITLOG_RECORD], struct mc_hit *h);

#endif
