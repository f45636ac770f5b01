/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_random: kernel randomness through getrandom(2). Blocks only until the kernel's pool
 * is first initialised at boot; after that it never blocks.
 */
#include "os_random.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

bool os_random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void os_random_fill(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	if (!os_random_bytes(buf, len))
		abort(); /* no safe way to go on: every request would be guessable */
}

struct ntp_rng os_random_rng(void)
{
	struct ntp_rng rng = { .fill = os_random_fill, .ctx = NULL };
	return rng;
}
