/* fileio.c — whole small files written durably and atomically (fileio.h). */
#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory part of path, or "." */
static void parent_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, cap, ".");
	else if (slash == path)
		snprintf(dir, cap, "/");
	else
		snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

int mc_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	int fd, rc = 0;

	parent_of(path, dir, sizeof(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int mc_file_write_atomic(int dirfd, const char *name, const void *data, size_t len, char *err,
			 size_t errlen)
{
	static _Atomic unsigned counter;
	char tmp[PATH_MAX];
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%u", name, (long)getpid(),
		     atomic_fetch_add(&counter, 1)) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "path too long: %.200s", name);
		return -ENAMETOOLONG;
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %.300s: %s", tmp, strerror(-rc));
		return rc;
	}
	rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0) {
		snprintf(err, errlen, "cannot write %.300s: %s", tmp, strerror(-rc));
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename %.300s: %s", tmp, strerror(-rc));
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	rc = dirfd == AT_FDCWD ? mc_fsync_parent(name) : (fsync(dirfd) == 0 ? 0 : -errno);
	if (rc != 0)
		snprintf(err, errlen, "cannot fsync the directory of %.300s: %s", name,
			 strerror(-rc));
	return rc;
}

int mc_file_open_regular(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -errno; /* -ELOOP: a symlink */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int mc_file_read(int dirfd, const char *name, size_t max, char **out, size_t *len)
{
	int fd = mc_file_open_regular(dirfd, name), rc = 0;
	struct stat st;
	size_t got = 0;
	char *buf;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf != NULL && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (buf == NULL)
		return -ENOMEM;
	if (rc != 0) {
		free(buf);
		return rc;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}
