/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_file: whole-file reads with a size limit. A file that grows while being read is cut
 * at max_len + 1 bytes and reported as too large, never read without bound.
 */
#include "os_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *os_file_read(const char *path, size_t max_len, size_t *len, char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return NULL;
	}
	if ((unsigned long long)st.st_size > max_len) {
		snprintf(err, errlen, "larger than %zu bytes", max_len);
		close(fd);
		return NULL;
	}
	char *buf = malloc(max_len + 2);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	size_t got = 0;
	while (got <= max_len) {
		ssize_t n = read(fd, buf + got, max_len + 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s", strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got > max_len) {
		snprintf(err, errlen, "larger than %zu bytes", max_len);
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

bool os_file_readable(const char *path)
{
	return access(path, R_OK) == 0;
}
