/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_atomic: replace a small file atomically and durably, so a power cut (a Raspberry Pi
 * pulled from the wall) leaves either the old contents or the new, never a torn or empty
 * file. The steps: create "<path>.tmp" in the same directory (O_EXCL, O_NOFOLLOW, after
 * removing a stale one a crash may have left), write everything, fsync, close, rename over
 * path, fsync the directory so the rename itself is on disk.
 *
 * Owns: those system calls (openat/open, write, fsync, rename, unlink, close). Does not own
 * the contents or when to write (src/core/driftpol decides for the drift file).
 */
#ifndef OS_ATOMIC_H
#define OS_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

#define OS_ATOMIC_TMP_SUFFIX ".tmp"

/* Write buf[0..len) to path atomically with permissions mode (before umask). Returns 0, or
 * -errno with a message naming the failed step in err ("fsync /var/lib/gnomon/drift.tmp:
 * No space left on device"). On failure the old file is untouched and no temporary file is
 * left behind. */
int os_atomic_write(const char *path, const void *buf, size_t len, mode_t mode,
		    char *err, size_t errlen);

#endif
