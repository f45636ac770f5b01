/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_random: the OS's random source behind the core's ntp_rng seam (ntp_time.h).
 * Owns: getrandom(2) calls. A failure to get random bytes is fatal at start-up and
 * never silent: predictable transmit fields would defeat the origin check.
 */
#ifndef OS_RANDOM_H
#define OS_RANDOM_H

#include <stdbool.h>
#include <stddef.h>

#include "ntp_time.h"

/* Fill buf with len random bytes from the kernel. Returns false (errno set) on failure. */
bool os_random_bytes(void *buf, size_t len);

/* An ntp_rng that draws from os_random_bytes; aborts if the kernel fails us. */
struct ntp_rng os_random_rng(void);

#endif
