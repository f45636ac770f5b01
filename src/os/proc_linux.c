/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_proc: daemonizing, the pid file and its lock, atomic small-file writes (see os_proc.h).
 */
#include "os_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int os_daemonize(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -errno;
	pid = fork(); /* never reacquire a controlling terminal */
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -errno;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
}

static void mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755);
	}
}

int os_write_file_atomic(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			unlink(tmp);
			return -e;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return -e;
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return -e;
	}
	return 0;
}

int os_pidfile_write(const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	mkdir_parent(path);
	return os_write_file_atomic(path, buf, (size_t)n);
}

int os_pidfile_remove(const char *path)
{
	return unlink(path) < 0 ? -errno : 0;
}

static void whole_file_lock(struct flock *fl, short type)
{
	memset(fl, 0, sizeof *fl);
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = 0;
	fl->l_len = 0; /* to the end, however long */
}

/* Who holds the lock on fd: the kernel's answer to F_GETLK, else the pid written in the
 * file (a lock held across a network file system may not name its process); 0 unknown. */
static long lock_holder(int fd)
{
	struct flock fl;
	whole_file_lock(&fl, F_WRLCK);
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0)
		return (long)fl.l_pid;
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *end;
	long pid = strtol(buf, &end, 10);
	return pid > 0 && end != buf ? pid : 0;
}

int os_pidfile_lock(const char *path, long *holder_pid)
{
	if (holder_pid)
		*holder_pid = 0;
	mkdir_parent(path);
	/* A previous owner may unlink the path between our open and our lock: then we hold
	 * the lock of a file nobody else can find. Check that the path still names what we
	 * locked, and start again if not (bounded). */
	for (int tries = 0; tries < 4; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return -errno;
		struct flock fl;
		whole_file_lock(&fl, F_WRLCK);
		if (fcntl(fd, F_SETLK, &fl) < 0) {
			int e = errno;
			if (e == EAGAIN || e == EACCES) {
				if (holder_pid)
					*holder_pid = lock_holder(fd);
				close(fd);
				return -EWOULDBLOCK;
			}
			close(fd);
			return -e;
		}
		struct stat a, b;
		if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_dev != b.st_dev ||
		    a.st_ino != b.st_ino) {
			close(fd);
			continue;
		}
		char buf[32];
		int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
		errno = 0;
		if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
			int e = errno ? errno : EIO;
			close(fd);
			return -e;
		}
		return fd;
	}
	return -EAGAIN;
}

int os_pidfile_probe(const char *path, long *holder_pid)
{
	if (holder_pid)
		*holder_pid = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	struct flock fl;
	whole_file_lock(&fl, F_WRLCK);
	int r = fcntl(fd, F_GETLK, &fl);
	if (r < 0) {
		r = -errno;
	} else if (fl.l_type != F_UNLCK) {
		r = 1;
		if (holder_pid)
			*holder_pid = lock_holder(fd);
	}
	close(fd);
	return r;
}

void os_pidfile_release(int fd, const char *path)
{
	if (fd < 0)
		return;
	/* Unlink while still holding the lock, so no one locks the old file after us. */
	(void)unlink(path);
	close(fd);
}

long os_read_small_file(const char *path, char *buf, size_t cap)
{
	if (cap == 0)
		return -EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off + 1 < cap) {
		ssize_t r = read(fd, buf + off, cap - 1 - off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	buf[off] = '\0';
	return (long)off;
}
