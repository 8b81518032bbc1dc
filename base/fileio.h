/* fileio.h — whole small files written durably and atomically.
 *
 * The one routine every writer of a small file calls (metadata, the
 * responder list's final rename, manifests): the bytes go to a temporary
 * created beside the target with O_CREAT|O_EXCL|O_NOFOLLOW (a name made
 * from the target, the pid and a counter: never predictable in a shared
 * directory, never following a planted link), are fsynced, renamed over
 * the target, and the directory is fsynced. A reader sees the old file or
 * the new one, never half of either, and after the call returns a crash
 * keeps the new one. */
#ifndef MC_BASE_FILEIO_H
#define MC_BASE_FILEIO_H

#include <stddef.h>

/* Write len bytes of data to name in the directory dirfd (AT_FDCWD: the
 * current one; name may then be a path). 0, or -errno with a reason in err.
 * On failure nothing is left behind and an existing file is unchanged. */
int mc_file_write_atomic(int dirfd, const char *name, const void *data, size_t len, char *err,
			 size_t errlen);

/* fsync the directory that holds path (AT_FDCWD-relative). 0 or -errno. */
int mc_fsync_parent(const char *path);

/* Open name in dirfd for reading only if it is a regular file: no symlink
 * is followed (-ELOOP) and a FIFO or device is refused (-EINVAL) without
 * blocking on it (O_NONBLOCK until fstat said regular). fd, or -errno. */
int mc_file_open_regular(int dirfd, const char *name);

/* The whole regular file name (mc_file_open_regular), at most max bytes
 * (-EFBIG before reading a larger one), NUL-terminated in a malloc'd *out
 * of *len bytes. 0 or -errno. */
int mc_file_read(int dirfd, const char *name, size_t max, char **out, size_t *len);

#endif
