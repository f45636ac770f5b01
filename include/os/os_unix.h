/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_unix: Unix stream sockets for the control protocol, and the few plain file-descriptor
 * calls the control server and gnomonctl make (read, write, close). All descriptors are
 * non-blocking. Functions return -errno on failure.
 *
 * Owns: socket(AF_UNIX), bind, listen, accept, connect, chmod and unlink of the socket path.
 * Does not own: the protocol (ctl.c, gnomonctl.c).
 */
#ifndef OS_UNIX_H
#define OS_UNIX_H

#include <stddef.h>
#include <sys/types.h>

/* Listen on path with the given permission bits (0666: world-readable status, as ntpq -p
 * is). A socket already at path is tried first (os_unix_probe): if something answers,
 * -EADDRINUSE (another daemon owns it; it is left alone); only a stale socket (connect
 * refused) is removed. Anything at path that is not a socket: -EEXIST. The parent
 * directory is created (0755) if missing. Returns the listening descriptor or -errno. */
int os_unix_listen(const char *path, mode_t mode);
/* Whether a server listens on the Unix stream socket at path: 1 if a connect succeeds (or
 * would, its backlog being full), 0 if nothing listens (ECONNREFUSED: a stale socket;
 * ENOENT), else -errno (e.g. -EACCES). Connects and closes at once. */
int os_unix_probe(const char *path);
/* Accept one connection, non-blocking; -EAGAIN when none is waiting. */
int os_unix_accept(int lfd);
/* Connect to path (for gnomonctl); the descriptor is non-blocking. */
int os_unix_connect(const char *path);
ssize_t os_fd_read(int fd, void *buf, size_t len);   /* -errno on error, 0 at EOF */
ssize_t os_fd_write(int fd, const void *buf, size_t len);
void os_fd_close(int fd);
int os_unlink(const char *path);

#endif
