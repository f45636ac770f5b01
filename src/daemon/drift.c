/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * drift: the drift file's reading and writing (see drift.h); the policy is driftpol's,
 * the atomic replacement os_atomic's.
 */
#include "drift.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gn_assert.h"
#include "os_atomic.h"
#include "os_file.h"
#include "os_log.h"

struct drift {
	char path[PATH_MAX];
	struct driftpol_params p;
	struct driftpol_state st;
	bool have_latest;
	double latest_ppm;
	bool have_failure;
	int64_t failure_mono_ns;    /* last failed write: the next try waits min_interval */
	struct drift_stats stats;
};

struct drift *drift_new(const char *path, const struct driftpol_params *params)
{
	REQUIRE(path != NULL && path[0] != '\0');
	if (strlen(path) >= PATH_MAX)
		return NULL;
	struct drift *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	memcpy(d->path, path, strlen(path) + 1);
	if (params)
		d->p = *params;
	else
		driftpol_params_default(&d->p);
	driftpol_state_init(&d->st);
	d->stats.last_verdict = DRIFTPOL_SKIP_UNCHANGED;
	return d;
}

void drift_free(struct drift *d)
{
	free(d);
}

const struct drift_stats *drift_stats(const struct drift *d) { return &d->stats; }
const char *drift_path(const struct drift *d) { return d->path; }

bool drift_load(struct drift *d, int64_t now_mono_ns, double *ppm)
{
	REQUIRE(d != NULL && ppm != NULL);
	*ppm = 0.0;
	char err[128];
	size_t len = 0;
	errno = 0;
	char *text = os_file_read(d->path, DRIFTPOL_FILE_MAX, &len, err, sizeof err);
	if (!text) {
		if (errno == ENOENT)
			log_info("drift file %s: none yet; it will be written once the "
				 "frequency is known", d->path);
		else
			log_warnx("drift file %s ignored: %s", d->path, err);
		return false;
	}
	char why[128];
	double v;
	enum driftpol_parse_result r = driftpol_parse(text, len, &v, why, sizeof why);
	free(text);
	if (r != DRIFTPOL_OK) {
		log_warnx("drift file %s ignored: %s", d->path, why);
		return false;
	}
	driftpol_state_loaded(&d->st, v, now_mono_ns);
	log_info("drift file %s: %.3f ppm", d->path, v);
	*ppm = v;
	return true;
}

static bool write_now(struct drift *d, double ppm, int64_t now_mono_ns)
{
	char text[DRIFTPOL_TEXT_MAX], err[PATH_MAX + 96];
	size_t n = driftpol_format(ppm, text, sizeof text);
	INSIST(n > 0);
	int r = os_atomic_write(d->path, text, n, DRIFT_FILE_MODE, err, sizeof err);
	if (r != 0) {
		d->stats.write_failures++;
		d->stats.last_errno = -r;
		d->have_failure = true;
		d->failure_mono_ns = now_mono_ns;
		log_limited(LOG_KEY_DRIFT, LOG_WARNING, "drift file not written: %s", err);
		return false;
	}
	d->have_failure = false;
	d->stats.writes++;
	driftpol_state_written(&d->st, ppm, now_mono_ns);
	log_debug("drift file %s: wrote %.3f ppm", d->path, driftpol_round(ppm));
	return true;
}

enum driftpol_verdict drift_update(struct drift *d, double ppm, int64_t now_mono_ns)
{
	REQUIRE(d != NULL);
	enum driftpol_verdict v = driftpol_decide(&d->p, &d->st, ppm, now_mono_ns, false);
	if (v != DRIFTPOL_SKIP_INVALID) {
		d->have_latest = true;
		d->latest_ppm = ppm;
	}
	/* a failing card is not retried on every update: wait the minimum interval */
	if (driftpol_is_write(v) && d->have_failure &&
	    now_mono_ns - d->failure_mono_ns < d->p.min_interval_ns)
		v = DRIFTPOL_SKIP_TOO_SOON;
	d->stats.last_verdict = v;
	if (!driftpol_is_write(v)) {
		d->stats.skipped++;
		return v;
	}
	write_now(d, ppm, now_mono_ns);
	return v;
}

enum driftpol_verdict drift_flush(struct drift *d, int64_t now_mono_ns)
{
	REQUIRE(d != NULL);
	if (!d->have_latest)
		return DRIFTPOL_SKIP_INVALID;
	enum driftpol_verdict v = driftpol_decide(&d->p, &d->st, d->latest_ppm, now_mono_ns, true);
	d->stats.last_verdict = v;
	if (driftpol_is_write(v))
		write_now(d, d->latest_ppm, now_mono_ns);
	return v;
}
