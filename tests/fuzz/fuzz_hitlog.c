/* fuzz_hitlog.c — the durable hit log's reader (base/hitlog.c), the file
 * between scan and grab, against a reference reader written here.
 *
 * Byte 0: bit 0 the file is written by mc_hitlog_create/append/close from
 * the hits in the input (then read back); otherwise the input bytes are
 * the file. Byte 1 picks where the file is cut while the reader tails it:
 * the reader reads the first part to its end, the rest is appended, and it
 * reads on.
 *
 * Invariants: the header is accepted exactly when it is 64 bytes starting
 * "MCHITLG1" with version 1 and record size 32, and then names the run as
 * written; the hits read are exactly the whole 32-byte records after the
 * header whose FNV-1a checksum (salted, host order) holds, in order, the
 * others counted as corrupt, a torn last record ignored; reading a file
 * that grows under the reader gives the same hits as reading it whole; an
 * all-zero record never validates; what the writer wrote reads back.
 *
 * Cost: the scratch directory is on tmpfs (/dev/shm when there is one), so
 * the writer's fdatasync() and the files cost no disk; the writer is one
 * static object; the file is capped at 4 KB (126 records: the reader reads
 * a record per pread(), so a bigger file costs syscalls, not coverage); the
 * reference walks the file once alongside the reader. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/hitlog.h"
#include "tests/fuzz/fuzz_util.h"

static uint32_t ref_sum(const uint8_t *p)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < 24; i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ 0x6d63686cu;
}

static bool write_file(int dirfd, const uint8_t *d, size_t n, bool append)
{
	int fd = openat(dirfd, MC_HITLOG_NAME,
			O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
	bool ok = fd >= 0 && write(fd, d, n) == (ssize_t)n;

	if (fd >= 0)
		close(fd);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	static int dirfd = -1;
	static struct mc_hitlog_writer writer;
	static uint8_t file[4096];
	struct fuzz_in in = {data, size};
	uint8_t mode = fuzz_u8(&in), cut = fuzz_u8(&in);
	struct mc_hitlog_reader r;
	size_t n = 0, got = 0, want_hits = 0, want_corrupt = 0, split;
	const uint8_t *rest;
	bool header_ok;
	char err[256];
	int rc;

	if (dirfd < 0) {
		dirfd = fuzz_scratch_dir(dir, sizeof(dir), "fuzz_hitlog");
	}
	unlinkat(dirfd, MC_HITLOG_NAME, 0);
	if (mode & 1) { /* the writer makes the file */
		struct mc_hitlog_writer *w = &writer;
		struct mc_hitlog_id id = {
		    .seed = fuzz_u32(&in), .shard = fuzz_u8(&in), .shards = 7};
		int fd;

		FUZZ_CHECK(mc_hitlog_create(w, dirfd, MC_HITLOG_NAME, &id, err, sizeof(err)) == 0,
			   "%s", err);
		/* at most what fits the 4 KB file */
		while (in.n >= sizeof(struct mc_hit) &&
		       w->records < (sizeof(file) - MC_HITLOG_HEADER) / MC_HITLOG_RECORD) {
			struct mc_hit h;
			memcpy(&h, in.p, sizeof(h));
			in.p += sizeof(h), in.n -= sizeof(h);
			FUZZ_CHECK(mc_hitlog_append(w, &h) == 0, "append");
		}
		FUZZ_CHECK(mc_hitlog_close(w) == 0, "close");
		fd = openat(dirfd, MC_HITLOG_NAME, O_RDONLY | O_CLOEXEC);
		FUZZ_CHECK(fd >= 0, "reopen");
		n = (size_t)read(fd, file, sizeof(file));
		close(fd);
		FUZZ_CHECK(n >= 64 && (n - 64) % 32 == 0, "writer wrote %zu bytes", n);
		memcpy(&id.seed, file + 16, 8); /* checked below through the reader */
	} else {
		n = fuzz_take(&in, sizeof(file), &rest);
		memcpy(file, rest, n);
	}
	header_ok = n >= 64 && memcmp(file, "MCHITLG1", 8) == 0 && file[8] == 1 && file[9] == 0 &&
		    file[10] == 0 && file[11] == 0 && file[12] == 32 && file[13] == 0 &&
		    file[14] == 0 && file[15] == 0;
	for (size_t off = 64; header_ok && off + 32 <= n; off += 32) {
		uint32_t sum;
		memcpy(&sum, file + off + 24, 4);
		if (sum == ref_sum(file + off))
			want_hits++;
		else
			want_corrupt++;
	}
	/* the reader tails a file that grows: first part, then the rest */
	split = n < 64 ? n : 64 + (n - 64) * cut / 255;
	FUZZ_CHECK(write_file(dirfd, file, split < 64 ? n : split, false), "write");
	rc = mc_hitlog_open(&r, dirfd, MC_HITLOG_NAME, err, sizeof(err));
	FUZZ_CHECK((rc == 0) == header_ok, "open %d (%s), header %s", rc, rc ? err : "",
		   header_ok ? "valid" : "invalid");
	if (rc != 0) {
		FUZZ_CHECK(rc == -EBADMSG, "rc %d", rc);
		return 0;
	}
	FUZZ_CHECK(memcmp(&r.id.seed, file + 16, 8) == 0 &&
		       memcmp(&r.id.shard, file + 24, 4) == 0 &&
		       memcmp(&r.id.shards, file + 28, 4) == 0,
		   "run id");
	size_t off = 64; /* the reference's cursor: the next record to look at */
	for (int pass = 0; pass < 2; pass++) {
		struct mc_hit h;
		while ((rc = mc_hitlog_next(&r, &h)) == 1) {
			/* the next valid record, found by the reference */
			uint32_t sum;
			for (;; off += 32) {
				FUZZ_CHECK(off + 32 <= n, "a hit beyond the file");
				memcpy(&sum, file + off + 24, 4);
				if (sum == ref_sum(file + off))
					break;
			}
			FUZZ_CHECK(memcmp(&h, file + off, sizeof(h)) == 0, "hit %zu differs", got);
			off += 32;
			got++;
		}
		FUZZ_CHECK(rc == 0, "next %d", rc);
		if (pass == 0 && split < n)
			FUZZ_CHECK(write_file(dirfd, file + split, n - split, true), "append");
	}
	FUZZ_CHECK(got == want_hits && r.records == want_hits && r.corrupt == want_corrupt,
		   "%zu hits (%llu), %llu corrupt; reference %zu and %zu", got,
		   (unsigned long long)r.records, (unsigned long long)r.corrupt, want_hits,
		   want_corrupt);
	mc_hitlog_reader_close(&r);
	{
		static const uint8_t zero[MC_HITLOG_RECORD];
		struct mc_hit h;
		FUZZ_CHECK(mc_hitlog_decode(zero, &h) == -EBADMSG, "an all-zero record validated");
	}
	return 0;
}
