/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * leapfile: the daemon's copy of the leap second file (ntp.conf `leapfile`, default
 * /usr/share/zoneinfo/leap-seconds.list when present). Reads it at start, parses and
 * verifies it (src/core/leap: format, SHA-1 hash), logs the outcome once, and re-reads it
 * every LEAPFILE_RECHECK_S so an updated tzdata package is picked up without a restart.
 * A refused re-read never drops a table that was good: the old one is kept and the
 * refusal logged once (per distinct reason). An expired table is kept as well (leap_decide
 * warns once a day and follows the sources instead).
 *
 * Lifecycle: leapfile_new at start-up; leapfile_load once; leapfile_refresh from a timer
 * (or at every loop iteration: it does nothing until the interval passed); hand
 * leapfile_table() to the engine whenever load/refresh report a change; leapfile_free.
 *
 * Owns: the path, the current table, the last error. Does not own the decision (leap.h)
 * nor SHA-1 (the auth crypto seam, src/os/crypto_openssl).
 */
#ifndef LEAPFILE_H
#define LEAPFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "leap.h"

#define LEAPFILE_RECHECK_S 3600     /* re-read the file hourly (5 KB) */

struct leapfile;

/* crypto must stay valid while lf lives. NULL on out of memory or an over-long path. */
struct leapfile *leapfile_new(const char *path, const struct auth_crypto *crypto);
void leapfile_free(struct leapfile *lf);

/* Read and verify now. Returns the outcome (LEAP_OK, LEAP_ERR_EXPIRED for a good but
 * expired file, or the refusal; a missing file is LEAP_ERR_CORRUPT with errno_out ENOENT).
 * Logs: info for a good or absent file, warning otherwise. true in *changed when the table
 * the engine should use changed. */
enum leap_err leapfile_load(struct leapfile *lf, gn_time_ns now_real_ns, int64_t now_mono_ns,
			    bool *changed);

/* Re-read if LEAPFILE_RECHECK_S passed since the last read. True when the table changed
 * (hand leapfile_table() to the engine). */
bool leapfile_refresh(struct leapfile *lf, gn_time_ns now_real_ns, int64_t now_mono_ns);

/* The table in use: the last one that parsed and verified (perhaps expired), or NULL. */
const struct leap_table *leapfile_table(const struct leapfile *lf);

/* When leapfile_refresh next has work (monotonic ns). */
int64_t leapfile_next_check(const struct leapfile *lf);

#endif
