/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * drift: the drift file (ntp.conf `driftfile`): read once at start with a sanity check,
 * written when the engine asks (ENG_ACT_DRIFT) and the policy agrees (src/core/driftpol:
 * at most once an hour, only a changed value), and once more at exit. Each write replaces
 * the file atomically (src/os/os_atomic: temporary file, fsync, rename, fsync of the
 * directory), so an SD card is neither worn out nor left with a torn file.
 *
 * Lifecycle: drift_new(path) at start-up; drift_load() before eng_new (its value goes into
 * eng_params.have_drift/drift_ppm); drift_update() for every ENG_ACT_DRIFT; drift_flush()
 * on the way out; drift_free().
 *
 * Logging (os_log): no file yet → info; unreadable, garbage or outside ±500 ppm → one
 * warning naming the file and the reason, and the daemon starts without a drift value
 * (never a crash); a failed write → a rate-limited warning (LOG_KEY_DRIFT), retried no
 * sooner than the policy's minimum interval.
 *
 * Owns: the path, the policy state, counters. Does not own the frequency (the engine).
 */
#ifndef DRIFT_H
#define DRIFT_H

#include <stdbool.h>
#include <stdint.h>

#include "driftpol.h"

#define DRIFT_FILE_MODE 0644

struct drift;

struct drift_stats {
	uint64_t writes;            /* successful atomic replacements */
	uint64_t write_failures;
	uint64_t skipped;           /* ENG_ACT_DRIFT the policy declined */
	int last_errno;             /* of the last failure, 0 = none */
	enum driftpol_verdict last_verdict;
};

/* path must be non-empty; params NULL = driftpol_params_default. NULL on out of memory or a
 * path longer than PATH_MAX. */
struct drift *drift_new(const char *path, const struct driftpol_params *params);
void drift_free(struct drift *d);

/* Read the file at start. True with *ppm set when it held a sane value (which then counts
 * as written at now_mono_ns, so a restart does not rewrite it within the hour). False when
 * absent (info) or refused (warning); *ppm is then 0. */
bool drift_load(struct drift *d, int64_t now_mono_ns, double *ppm);

/* The engine's ENG_ACT_DRIFT: decide (driftpol) and write if due. Returns the verdict;
 * a write verdict whose write failed is counted in write_failures. */
enum driftpol_verdict drift_update(struct drift *d, double ppm, int64_t now_mono_ns);

/* At exit: write the last value drift_update saw, if it differs from the file. Returns the
 * verdict (DRIFTPOL_SKIP_INVALID when no value was ever seen). */
enum driftpol_verdict drift_flush(struct drift *d, int64_t now_mono_ns);

const struct drift_stats *drift_stats(const struct drift *d);
const char *drift_path(const struct drift *d);

#endif
