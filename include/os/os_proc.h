/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_proc: the process around the daemon: detaching into the background, the pid file,
 * and the small state files it keeps (the drift file), written atomically (temporary file,
 * fsync, rename) so a crash never leaves half a value. Functions return 0 or -errno.
 */
#ifndef OS_PROC_H
#define OS_PROC_H

#include <stdbool.h>
#include <stddef.h>

/* fork, setsid, chdir("/"), stdio to /dev/null; the parent exits 0. -errno if it fails. */
int os_daemonize(void);
/* Write our pid to path (creating the parent directory if missing). */
int os_pidfile_write(const char *path);
int os_pidfile_remove(const char *path);

/* The pid file as the one-instance lock: open (create) path, take an fcntl write lock on
 * the whole file (F_SETLK, POSIX record lock: released by the kernel when the process
 * ends, however it ends), and write our pid into it. The descriptor must stay open for the
 * daemon's life. Returns the descriptor; -EWOULDBLOCK if another process holds the lock
 * (*holder_pid: its pid, 0 if unknown); other -errno if the file cannot be opened or
 * locked (e.g. -ENOLCK). The parent directory is created if missing. */
int os_pidfile_lock(const char *path, long *holder_pid);
/* Without taking it: 1 if another process holds the lock on path (*holder_pid as above),
 * 0 if not (or no file), -errno. For a check before detaching: fcntl locks are not
 * inherited by fork, so the lock itself is taken after. */
int os_pidfile_probe(const char *path, long *holder_pid);
/* Remove path and release the lock (close fd). fd < 0: nothing. */
void os_pidfile_release(int fd, const char *path);
/* Replace path's contents with data[0..len). */
int os_write_file_atomic(const char *path, const char *data, size_t len);
/* Read up to cap-1 bytes of path, NUL-terminated. Returns the length or -errno. */
long os_read_small_file(const char *path, char *buf, size_t cap);

#endif
