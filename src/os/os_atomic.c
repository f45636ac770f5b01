/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_atomic: temporary file, write, fsync, rename, fsync of the directory (see os_atomic.h).
 */
#include "os_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failed(const char *step, const char *what, char *err, size_t errlen)
{
	int e = errno ? errno : EIO;
	if (errlen)
		snprintf(err, errlen, "%s %s: %s", step, what, strerror(e));
	return -e;
}

/* The directory holding path ("." for a bare name) in dir[]. */
static int dir_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return snprintf(dir, cap, ".") >= (int)cap ? -1 : 0;
	size_t n = (size_t)(slash - path);
	if (n == 0)
		n = 1;          /* "/drift" → "/" */
	if (n >= cap)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

int os_atomic_write(const char *path, const void *buf, size_t len, mode_t mode,
		    char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	if (errlen)
		err[0] = '\0';
	if (snprintf(tmp, sizeof tmp, "%s%s", path, OS_ATOMIC_TMP_SUFFIX) >= (int)sizeof tmp ||
	    dir_of(path, dir, sizeof dir) != 0) {
		if (errlen)
			snprintf(err, errlen, "path too long: %s", path);
		return -ENAMETOOLONG;
	}

	/* A temporary file left by a crash is ours to remove; a symlink put there is not
	 * followed (O_NOFOLLOW, O_EXCL). */
	if (unlink(tmp) != 0 && errno != ENOENT)
		return failed("unlink", tmp, err, errlen);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
	if (fd < 0)
		return failed("create", tmp, err, errlen);

	const char *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail_fd;
		}
		if (n == 0) {
			errno = EIO;
			goto fail_fd;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0) {
		int r = failed("fsync", tmp, err, errlen);
		close(fd);
		unlink(tmp);
		return r;
	}
	if (close(fd) != 0) {
		int r = failed("close", tmp, err, errlen);
		unlink(tmp);
		return r;
	}
	if (rename(tmp, path) != 0) {
		int r = failed("rename to", path, err, errlen);
		unlink(tmp);
		return r;
	}
	/* The rename is durable only once the directory is. A failure here leaves the new
	 * file in place (readers see it); report it all the same. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return failed("open directory", dir, err, errlen);
	if (fsync(dfd) != 0 && errno != EINVAL) {   /* EINVAL: a file system without dir fsync */
		int r = failed("fsync directory", dir, err, errlen);
		close(dfd);
		return r;
	}
	close(dfd);
	return 0;

fail_fd:;
	int r = failed("write", tmp, err, errlen);
	close(fd);
	unlink(tmp);
	return r;
}
