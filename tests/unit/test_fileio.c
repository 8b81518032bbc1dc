/* test_fileio.c — the atomic, durable whole-file write. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "tests/unit/test.h"

static char dir[] = "/tmp/mc-test-fileio-XXXXXX";

static size_t entries(void)
{
	char cmd[128];
	FILE *p;
	size_t n = 0;
	int c;

	snprintf(cmd, sizeof(cmd), "ls -A %s", dir);
	p = popen(cmd, "r");
	while (p != NULL && (c = fgetc(p)) != EOF)
		n += c == '\n';
	if (p != NULL)
		pclose(p);
	return n;
}

static void test_write_replace_and_fail(void)
{
	char path[256], err[256], buf[64] = {0};
	int dfd, fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/meta.json", dir);
	CHECK_INT_EQ(mc_file_write_atomic(AT_FDCWD, path, "{\"a\":1}\n", 8, err, sizeof(err)), 0);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 8);
	close(fd);
	CHECK_STR_EQ(buf, "{\"a\":1}\n");
	/* replace through a directory fd; no temporary is left */
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK_INT_EQ(mc_file_write_atomic(dfd, "meta.json", "{}", 2, err, sizeof(err)), 0);
	memset(buf, 0, sizeof(buf));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 2);
	close(fd);
	CHECK_STR_EQ(buf, "{}");
	CHECK_UINT_EQ(entries(), 1);
	/* a directory that does not exist: an error with the name, nothing made */
	snprintf(path, sizeof(path), "%s/no-such-dir/x.json", dir);
	CHECK_INT_EQ(mc_file_write_atomic(AT_FDCWD, path, "x", 1, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "no-such-dir") != NULL);
	/* the target is a directory: rename fails, the temporary is removed */
	snprintf(path, sizeof(path), "%s/sub", dir);
	CHECK_INT_EQ(mkdir(path, 0755), 0);
	CHECK(mc_file_write_atomic(AT_FDCWD, path, "x", 1, err, sizeof(err)) < 0);
	CHECK_UINT_EQ(entries(), 2);
	rmdir(path);
	unlinkat(dfd, "meta.json", 0);
	close(dfd);
	rmdir(dir);
}

/* Only regular files are read: no symlink followed, no FIFO waited on, no
 * file larger than the bound read. */
static void test_read_regular_only(void)
{
	char d[] = "/tmp/mc-test-fileio2-XXXXXX", *buf = NULL;
	size_t len = 0;
	int dfd;

	CHECK(mkdtemp(d) != NULL);
	dfd = open(d, O_RDONLY | O_DIRECTORY);
	CHECK_INT_EQ(mc_file_write_atomic(dfd, "m.json", "{\"x\":1}", 7, (char[64]){0}, 64), 0);
	CHECK_INT_EQ(mc_file_read(dfd, "m.json", 1024, &buf, &len), 0);
	CHECK_UINT_EQ(len, 7);
	CHECK_STR_EQ(buf, "{\"x\":1}");
	free(buf);
	CHECK_INT_EQ(mc_file_read(dfd, "m.json", 6, &buf, &len), -EFBIG);
	CHECK_INT_EQ(symlinkat("m.json", dfd, "link"), 0);
	CHECK_INT_EQ(mc_file_read(dfd, "link", 1024, &buf, &len), -ELOOP);
	CHECK_INT_EQ(mkfifoat(dfd, "fifo", 0600), 0);
	CHECK_INT_EQ(mc_file_read(dfd, "fifo", 1024, &buf, &len), -EINVAL); /* returns at once */
	CHECK_INT_EQ(mc_file_open_regular(AT_FDCWD, "/dev/urandom"), -EINVAL);
	CHECK_INT_EQ(mc_file_read(dfd, "missing", 1024, &buf, &len), -ENOENT);
	unlinkat(dfd, "m.json", 0);
	unlinkat(dfd, "link", 0);
	unlinkat(dfd, "fifo", 0);
	close(dfd);
	rmdir(d);
}

int main(void)
{
	RUN(test_write_replace_and_fail);
	RUN(test_read_regular_only);
	return test_summary();
}
