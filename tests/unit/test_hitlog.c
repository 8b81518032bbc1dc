/* test_hitlog.c — the durable hit log: round trip, tailing a growing file,
 * a torn last record, corrupt and zeroed records, refusals. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/hitlog.h"
#include "tests/unit/test.h"

static struct mc_hit hit_n(uint32_t i)
{
	return (struct mc_hit){.addr = 0xC6130000u + i,
			       .port = (uint16_t)(i % 4 == 0 ? 110 : 143),
			       .ttl = 64,
			       .isn = i * 2654435761u,
			       .window = 64240,
			       .mss = 1460,
			       .time_ns = 1700000000000000000ull + i};
}

static void test_round_trip_and_tail(void)
{
	char dir[] = "/tmp/mc-test-hitlog-XXXXXX", err[256];
	struct mc_hitlog_writer *w = malloc(sizeof(*w));
	struct mc_hitlog_reader r;
	struct mc_hitlog_id id = {.seed = 42, .shard = 1, .shards = 3};
	struct mc_hit h;
	uint32_t got = 0, bad = 0;
	int dfd;

	CHECK(mkdtemp(dir) != NULL);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK_INT_EQ(mc_hitlog_create(w, dfd, MC_HITLOG_NAME, &id, err, sizeof(err)), 0);
	/* a second create of the same name is refused (O_EXCL) */
	{
		struct mc_hitlog_writer *w2 = malloc(sizeof(*w2));
		CHECK_INT_EQ(mc_hitlog_create(w2, dfd, MC_HITLOG_NAME, &id, err, sizeof(err)),
			     -EEXIST);
		free(w2);
	}
	CHECK_INT_EQ(mc_hitlog_open(&r, dfd, MC_HITLOG_NAME, err, sizeof(err)), 0);
	CHECK_UINT_EQ(r.id.seed, 42);
	CHECK_UINT_EQ(r.id.shard, 1);
	CHECK_UINT_EQ(r.id.shards, 3);
	CHECK_INT_EQ(mc_hitlog_next(&r, &h), 0); /* empty so far */
	/* the reader follows the writer as it grows, batch by batch */
	for (uint32_t batch = 0; batch < 5; batch++) {
		for (uint32_t i = 0; i < 1000; i++) {
			struct mc_hit x = hit_n(batch * 1000 + i);
			CHECK_INT_EQ(mc_hitlog_append(w, &x), 0);
		}
		CHECK_INT_EQ(mc_hitlog_flush(w, batch % 2 == 0), 0);
		while (mc_hitlog_next(&r, &h) == 1) {
			struct mc_hit want = hit_n(got++);
			bad += memcmp(&h, &want, sizeof(h)) != 0;
		}
	}
	CHECK_UINT_EQ(got, 5000);
	CHECK_UINT_EQ(bad, 0);
	CHECK_UINT_EQ(w->records, 5000);
	CHECK_INT_EQ(mc_hitlog_close(w), 0);
	mc_hitlog_reader_close(&r);
	free(w);
	unlinkat(dfd, MC_HITLOG_NAME, 0);
	close(dfd);
	rmdir(dir);
}

static void test_torn_corrupt_zero(void)
{
	char path[] = "/tmp/mc-test-hitlog2-XXXXXX", err[256];
	uint8_t hdr[MC_HITLOG_HEADER] = "MCHITLG1", rec[MC_HITLOG_RECORD],
		zero[MC_HITLOG_RECORD] = {0};
	struct mc_hitlog_reader r;
	struct mc_hit h, a = hit_n(1), b = hit_n(2);
	uint32_t v = 1, size = MC_HITLOG_RECORD;
	int fd = mkstemp(path);

	memcpy(hdr + 8, &v, 4);
	memcpy(hdr + 12, &size, 4);
	CHECK(write(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr));
	mc_hitlog_encode(&a, rec);
	CHECK(write(fd, rec, sizeof(rec)) == (ssize_t)sizeof(rec));
	CHECK(write(fd, zero, sizeof(zero)) == (ssize_t)sizeof(zero)); /* a zeroed block */
	mc_hitlog_encode(&b, rec);
	rec[5] ^= 0x40; /* a flipped bit */
	CHECK(write(fd, rec, sizeof(rec)) == (ssize_t)sizeof(rec));
	mc_hitlog_encode(&b, rec);
	CHECK(write(fd, rec, sizeof(rec)) == (ssize_t)sizeof(rec));
	CHECK(write(fd, rec, 17) == 17); /* a torn last record */
	CHECK_INT_EQ(mc_hitlog_open_fd(&r, fd, err, sizeof(err)), 0);
	CHECK_INT_EQ(mc_hitlog_next(&r, &h), 1);
	CHECK_UINT_EQ(h.addr, a.addr);
	CHECK_INT_EQ(mc_hitlog_next(&r, &h), 1);
	CHECK_UINT_EQ(h.addr, b.addr);
	CHECK_INT_EQ(mc_hitlog_next(&r, &h), 0);
	CHECK_UINT_EQ(r.corrupt, 2);
	CHECK_UINT_EQ(r.records, 2);
	/* a wrong magic or record size is refused */
	CHECK(pwrite(fd, "MCHITLG2", 8, 0) == 8);
	CHECK_INT_EQ(mc_hitlog_open_fd(&r, fd, err, sizeof(err)), -EBADMSG);
	CHECK(pwrite(fd, "MCHITLG1", 8, 0) == 8);
	size = 24;
	CHECK(pwrite(fd, &size, 4, 12) == 4);
	CHECK_INT_EQ(mc_hitlog_open_fd(&r, fd, err, sizeof(err)), -EBADMSG);
	close(fd);
	/* a symlink is not followed */
	{
		char link[] = "/tmp/mc-test-hitlog3-XXXXXX";
		int t = mkstemp(link);
		close(t);
		unlink(link);
		CHECK_INT_EQ(symlink(path, link), 0);
		CHECK(mc_hitlog_open(&r, AT_FDCWD, link, err, sizeof(err)) < 0);
		unlink(link);
	}
	unlink(path);
}

static void test_unnamed(void)
{
	struct mc_hitlog_writer *w = malloc(sizeof(*w));
	struct mc_hitlog_reader r;
	struct mc_hitlog_id id = {.seed = 7, .shards = 1};
	struct mc_hit h, a = hit_n(9);
	char err[256];

	CHECK_INT_EQ(mc_hitlog_create(w, -1, "/tmp", &id, err, sizeof(err)), 0);
	CHECK_INT_EQ(mc_hitlog_append(w, &a), 0);
	CHECK_INT_EQ(mc_hitlog_flush(w, false), 0);
	CHECK_INT_EQ(mc_hitlog_open_fd(&r, w->fd, err, sizeof(err)), 0);
	CHECK_INT_EQ(mc_hitlog_next(&r, &h), 1);
	CHECK_UINT_EQ(h.isn, a.isn);
	CHECK_INT_EQ(mc_hitlog_close(w), 0);
	free(w);
}

int main(void)
{
	RUN(test_round_trip_and_tail);
	RUN(test_torn_corrupt_zero);
	RUN(test_unnamed);
	return test_summary();
}
