/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * driftpol: when to write the drift file, and what its text means. Pure policy, so the
 * rule that keeps an SD card alive can be tested without a file system.
 *
 * The rule (issue "State on disk"): the frequency is written
 *   - never twice within min_interval_s (default one hour), whatever happens;
 *   - otherwise when it moved by more than threshold_ppm since the value last written, or
 *     when max_interval_s (default one hour) passed and the value as the file would hold
 *     it (DRIFTPOL_DECIMALS) differs from what the file holds: a clock whose frequency
 *     has settled is not rewritten at all;
 *   - the first value of a run when nothing was read from the file at start;
 *   - at exit, if the value the file would hold differs (no interval: exits are rare, and
 *     the last estimate is the best one).
 * A value outside ±DRIFTPOL_MAX_PPM or not finite is never written.
 *
 * The text (ntpd's drift file): one decimal number, the frequency correction in ppm,
 * written "%.3f\n". chrony's driftfile adds a second number (the skew estimate); it is
 * accepted and ignored. A value outside ±500 ppm (Linux's MAXFREQ, clk.h) is refused with
 * a reason the daemon logs as a warning; the daemon then starts as if no file existed.
 *
 * Owns: the last-written record (struct driftpol_state, held by the caller) and the
 * decision. Does not own: the file (src/daemon/drift + src/os/os_atomic), the clock.
 * Times are the monotonic clock in ns, as the daemon's timers.
 */
#ifndef DRIFTPOL_H
#define DRIFTPOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DRIFTPOL_MAX_PPM 500.0              /* Linux MAXFREQ (clk.h CLK_MAX_FREQ_PPM) */
#define DRIFTPOL_MIN_INTERVAL_S 3600        /* never more than once an hour (issue) */
#define DRIFTPOL_MAX_INTERVAL_S 3600        /* an hour passed: write a changed value (issue) */
#define DRIFTPOL_THRESHOLD_PPM 1.0          /* a change this large is written at once
                                             * (subject to the minimum interval) */
#define DRIFTPOL_DECIMALS 3                 /* ntpd's format: "%.3f" */
#define DRIFTPOL_TEXT_MAX 64                /* longest text driftpol_format writes */
#define DRIFTPOL_FILE_MAX 4096              /* longer text is refused as garbage */

struct driftpol_params {
	double threshold_ppm;
	int64_t min_interval_ns;
	int64_t max_interval_ns;
};

/* The defaults above. */
void driftpol_params_default(struct driftpol_params *p);

/* What the file holds, as far as this run knows. */
struct driftpol_state {
	bool have_written;          /* a value is in the file (read at start or written) */
	double written_ppm;         /* that value (as the file holds it: rounded) */
	bool have_time;             /* written_mono_ns is meaningful */
	int64_t written_mono_ns;    /* when it was written (or read: a start counts as a write,
	                             * so a daemon restarted in a loop does not rewrite) */
};

/* Nothing known: the first valid value is written. */
void driftpol_state_init(struct driftpol_state *st);
/* The file held ppm at start (after driftpol_parse accepted it), read at now_mono_ns. */
void driftpol_state_loaded(struct driftpol_state *st, double ppm, int64_t now_mono_ns);
/* ppm was written at now_mono_ns (call after the write succeeded). */
void driftpol_state_written(struct driftpol_state *st, double ppm, int64_t now_mono_ns);

enum driftpol_verdict {
	DRIFTPOL_WRITE_FIRST = 0,   /* write: nothing in the file yet */
	DRIFTPOL_WRITE_CHANGED,     /* write: moved by more than the threshold */
	DRIFTPOL_WRITE_INTERVAL,    /* write: max interval passed and the value differs */
	DRIFTPOL_WRITE_EXIT,        /* write: exiting and the value differs */
	DRIFTPOL_SKIP_TOO_SOON,     /* no: within min_interval of the last write */
	DRIFTPOL_SKIP_UNCHANGED,    /* no: same value as the file (or small change, too early) */
	DRIFTPOL_SKIP_INVALID,      /* no: not finite or outside ±DRIFTPOL_MAX_PPM */
};

static inline bool driftpol_is_write(enum driftpol_verdict v)
{
	return v <= DRIFTPOL_WRITE_EXIT;
}

/* Decide whether to write ppm now. at_exit: the daemon is stopping. */
enum driftpol_verdict driftpol_decide(const struct driftpol_params *p,
				      const struct driftpol_state *st, double ppm,
				      int64_t now_mono_ns, bool at_exit);

const char *driftpol_verdict_name(enum driftpol_verdict v);

/* The file's text for ppm: "%.3f\n". Returns the length (< cap), 0 if it does not fit. */
size_t driftpol_format(double ppm, char *buf, size_t cap);
/* ppm rounded as the file would hold it. */
double driftpol_round(double ppm);

enum driftpol_parse_result {
	DRIFTPOL_OK = 0,
	DRIFTPOL_EMPTY,             /* no number (empty or white space only) */
	DRIFTPOL_GARBAGE,           /* not a number, trailing text, NUL, NaN/inf, too long */
	DRIFTPOL_RANGE,             /* a number outside ±DRIFTPOL_MAX_PPM */
};

/* Parse a drift file's text[0..len). On DRIFTPOL_OK *ppm is the value; otherwise why[]
 * says what was wrong (for the warning) and *ppm is 0. */
enum driftpol_parse_result driftpol_parse(const char *text, size_t len, double *ppm,
					  char *why, size_t why_cap);

#endif
