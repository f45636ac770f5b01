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
/* Replace path's contents with data[0..len). */
int os_write_file_atomic(const char *path, const char *data, size_t len);
/* Read up to cap-1 bytes of path, NUL-terminated. Returns the length or -errno. */
long os_read_small_file(const char *path, char *buf, size_t cap);

#endif
