/* test_shard_read.c — reading shards back (output/shard_read.c): the cases
 * fuzz_shard found, with their minimised inputs. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

#include "tests/unit/test.h"
#include "output/shard.h"

static int write_file(int dirfd, const char *name, const void *d, size_t n)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t w = fd >= 0 ? write(fd, d, n) : -1;

	if (fd >= 0)
		close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

/* Lines read and the final status (0 end of file, -errno error). */
static int read_all(int dirfd, const char *name, size_t *lines)
{
	struct out_shard_reader *r;
	char err[256], *line;
	size_t len;
	int rc;

	*lines = 0;
	if (out_shard_reader_open(&r, dirfd, name, err, sizeof(err)) != 0)
		return -ENOENT;
	while ((rc = out_shard_reader_next(r, &line, &len, err, sizeof(err))) == 1)
		(*lines)++;
	out_shard_reader_close(r);
	return rc;
}

/* fuzz_shard bug: a .zst shard cut inside its frame read as a shorter
 * shard, without error (report counted what it could decode). Minimised
 * reproducer: a one-line shard compressed at level 1 with its last byte
 * removed. */
static void test_truncated_zstd_is_an_error(void)
{
	static const char text[] = "{\"ip\":\"198.18.0.1\",\"port\":110}\n"
				   "{\"ip\":\"198.18.0.2\",\"port\":143}\n";
	char dir[] = "/tmp/test_shard_read.XXXXXX", packed[256];
	size_t z, lines;
	int dirfd;

	CHECK(mkdtemp(dir) != NULL);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	z = ZSTD_compress(packed, sizeof(packed), text, sizeof(text) - 1, 1);
	CHECK(!ZSTD_isError(z));
	CHECK_INT_EQ(write_file(dirfd, "s.ndjson.zst", packed, z), 0);
	CHECK_INT_EQ(read_all(dirfd, "s.ndjson.zst", &lines), 0);
	CHECK_UINT_EQ(lines, 2);
	for (size_t cut = 1; cut <= z; cut++) { /* every truncation, down to one byte */
		CHECK_INT_EQ(write_file(dirfd, "s.ndjson.zst", packed, z - cut), 0);
		int rc = read_all(dirfd, "s.ndjson.zst", &lines);
		if (z - cut > 0 && rc != -EIO)
			TEST_FAIL_AT("cut by %zu of %zu: rc %d", cut, z, rc);
		test_checks++;
	}
	/* an empty .zst file holds no frame at all: zero lines, no error */
	CHECK_INT_EQ(read_all(dirfd, "s.ndjson.zst", &lines), 0);
	CHECK_UINT_EQ(lines, 0);
	unlinkat(dirfd, "s.ndjson.zst", 0);
	close(dirfd);
	rmdir(dir);
}

int main(void)
{
	RUN(test_truncated_zstd_is_an_error);
	return test_summary();
}
