/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_file: reading whole small files (configuration, include files) with a size limit.
 * Owns: open/fstat/read/close of regular files for reading. Does not own writing (the
 * drift file has its own module) nor any parsing.
 */
#ifndef OS_FILE_H
#define OS_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* Read the whole regular file at path. Returns a malloc'd buffer holding *len bytes plus a
 * terminating NUL (the text may contain NULs; use *len), to be released with free(). On
 * failure returns NULL with a message in err ("No such file or directory", "larger than
 * 1048576 bytes", "not a regular file"). */
char *os_file_read(const char *path, size_t max_len, size_t *len, char *err, size_t errlen);

/* True if path names an existing file that can be opened for reading. */
bool os_file_readable(const char *path);

#endif
