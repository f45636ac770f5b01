/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_unix: Unix stream sockets and plain descriptor I/O (see os_unix.h).
 */
#include "os_unix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

static int make_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun->sun_path)
		return -ENAMETOOLONG;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

int os_unix_probe(const char *path)
{
	struct sockaddr_un sun;
	int r = make_addr(path, &sun);
	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	/* Non-blocking, so a server whose backlog is full cannot hold us: EAGAIN means a
	 * listener is there. */
	if ((r = set_nonblock_cloexec(fd)) < 0) {
		close(fd);
		return r;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		r = 1;
	else if (errno == EAGAIN || errno == EINPROGRESS)
		r = 1;
	else if (errno == ECONNREFUSED || errno == ENOENT)
		r = 0;
	else
		r = -errno;
	close(fd);
	return r;
}

int os_unix_listen(const char *path, mode_t mode)
{
	struct sockaddr_un sun;
	int r = make_addr(path, &sun);
	if (r < 0)
		return r;
	/* Create the parent directory if it is missing (/run/gnomon on a fresh boot). */
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	if ((r = set_nonblock_cloexec(fd)) < 0)
		goto fail;
	/* A socket from a previous run: remove it only if it is a socket and stale. */
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			r = -EEXIST;
			goto fail;
		}
		if ((r = os_unix_probe(path)) < 0)
			goto fail;
		if (r == 1) {
			r = -EADDRINUSE; /* a live server (another gnomond) answers there */
			goto fail;
		}
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || chmod(path, mode) < 0 ||
	    listen(fd, 16) < 0) {
		r = -errno;
		unlink(path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

int os_unix_accept(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return -errno;
	int r = set_nonblock_cloexec(fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int os_unix_connect(const char *path)
{
	struct sockaddr_un sun;
	int r = make_addr(path, &sun);
	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if ((r = set_nonblock_cloexec(fd)) < 0) {
		close(fd);
		return r;
	}
	return fd;
}

ssize_t os_fd_read(int fd, void *buf, size_t len)
{
	ssize_t r = read(fd, buf, len);
	return r < 0 ? -errno : r;
}

ssize_t os_fd_write(int fd, const void *buf, size_t len)
{
	ssize_t r = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r < 0 && errno == ENOTSOCK)
		r = write(fd, buf, len);
	return r < 0 ? -errno : r;
}

void os_fd_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

int os_unlink(const char *path)
{
	return unlink(path) < 0 ? -errno : 0;
}
