/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kclk: a pure model of the Linux kernel clock discipline (kernel/time/ntp.c and
 * timekeeping), driven by the clk.h vocabulary. Two users:
 *   - the software clock of `gnomond -X` (src/os/clock_soft), which disciplines a private
 *     clock on top of the system clock instead of calling clock_adjtime;
 *   - the simulator (tests/sim), whose simulated kernels must behave like Linux, not like an
 *     ideal actuator.
 * Modelled: frequency in units of 2^-16 ppm clamped to ±500 ppm; tick length ±10 %;
 * single-shot offset slewed at 500 ppm; the kernel PLL (ADJ_OFFSET with STA_PLL,
 * SHIFT_PLL 2, time constant from ADJ_TIMECONST, offset applied once per second as the
 * kernel's second_overflow does); steps; status, maxerror (growing 500 µs/s as the kernel's
 * does), esterror; the leap second insert/delete at midnight UTC when STA_INS/STA_DEL is set.
 *
 * The model is a function of a "base" time the caller supplies (the undisciplined
 * oscillator: for -X the system clock, for the simulator the simulated oscillator). The
 * disciplined clock reads base + kclk_correction_ns(base). base must not go backwards (if it
 * does, the model follows it as an external step of the disciplined clock).
 *
 * How it follows Linux (behaviour, as documented in adjtimex(2) and observed):
 *   - The clock advances, per second of base time, by tick_us * 100 µs plus the frequency
 *     plus this second's share of the PLL offset and of the single-shot offset. Those
 *     shares are fixed once a second, when the disciplined clock enters a new second
 *     (second_overflow); a frequency or tick change takes effect at once. Because a
 *     share is applied at its rate until the clock reaches its next second, which comes
 *     sooner on a fast clock, the amount slewed differs from the one asked for by the
 *     relative rate (at most about 0.05 % at 500 ppm), as on a real kernel.
 *   - Kernel PLL: each second the remaining offset shrinks by offset / 2^(SHIFT_PLL + tc)
 *     (SHIFT_PLL = 2); ADJ_OFFSET replaces the remaining offset (clamped to ±0.5 s) and
 *     adds offset · secs / 2^(2·(SHIFT_PLL + 2 + tc)) to the frequency, secs being the
 *     seconds since the previous ADJ_OFFSET (capped at 2^(SHIFT_PLL + 1 + tc)); with
 *     STA_FLL and secs ≥ 256, or whenever secs > 2048, an FLL term offset / (4 · secs) is
 *     added too (STA_MODE). Without STA_PLL, ADJ_OFFSET is ignored, as in Linux.
 *   - Single-shot (adjtime): kept in whole µs (truncated, as the kernel's µs field), slewed
 *     500 µs per second.
 *   - maxerror grows 500 µs each second up to 16 s, where STA_UNSYNC is set.
 *   - A step (ADJ_SETOFFSET / settimeofday) clears the PLL offset and single-shot, sets
 *     STA_UNSYNC and maxerror = esterror = 16 s, and keeps the frequency, as ntp_clear().
 *   - Leap: with STA_INS the second after 23:59:59 UTC is repeated (the clock steps back
 *     1 s on reaching midnight); with STA_DEL 23:59:59 is skipped. The state runs
 *     OK → INS/DEL → OOP → WAIT → OK (WAIT until the daemon clears STA_INS/STA_DEL).
 * Deliberate simplifications (documented so nobody relies on them being Linux):
 *   - Always in nanosecond mode (as after ADJ_NANO, which every modern daemon sets):
 *     CLK_ADJ_OFFSET is in ns and pll_constant is the kernel's time_constant as given
 *     (0..10, clamped); STA_NANO is always reported.
 *   - A single-shot adjustment may be combined with other modes in one call (the kernel
 *     takes ADJ_OFFSET_SINGLESHOT alone).
 *   - An invalid adjustment (tick outside 9000..11000 µs) is refused whole, as the kernel's
 *     EINVAL; kclk_adjust_valid says so beforehand.
 *   - After a step a pending leap is re-armed for the coming midnight (Linux forgets it
 *     until STA_INS is written again).
 *   - PPS discipline (STA_PPSTIME/STA_PPSFREQ) and TAI offset are not modelled.
 *
 * Owns all its state in struct kclk (no allocation, no globals).
 */
#ifndef KCLK_H
#define KCLK_H

#include <stdbool.h>
#include <stdint.h>

#include "clk.h"

/* adjtimex's return values (time_state), Linux include/uapi/linux/timex.h */
#define KCLK_TIME_OK 0
#define KCLK_TIME_INS 1
#define KCLK_TIME_DEL 2
#define KCLK_TIME_OOP 3
#define KCLK_TIME_WAIT 4
#define KCLK_TIME_ERROR 5     /* returned while STA_UNSYNC is set */

#define KCLK_SHIFT_PLL 2              /* Linux SHIFT_PLL */
#define KCLK_SHIFT_FLL 2              /* Linux SHIFT_FLL */
#define KCLK_MAXTC 10                 /* Linux MAXTC */
#define KCLK_MINSEC_S 256             /* Linux MINSEC: FLL only above this update interval */
#define KCLK_MAXSEC_S 2048            /* Linux MAXSEC: FLL forced above this */
#define KCLK_MAXPHASE_NS 500000000LL  /* Linux MAXPHASE: ADJ_OFFSET clamp */
#define KCLK_PHASE_LIMIT_US 16000000LL /* Linux NTP_PHASE_LIMIT: maxerror ceiling */
#define KCLK_MAXERROR_GROWTH_US 500   /* Linux: MAXFREQ / NSEC_PER_USEC per second */
#define KCLK_MAX_TICKADJ_US 500       /* Linux MAX_TICKADJ: single-shot slew per second */
#define KCLK_MIN_TICK_US 9000         /* 900000 / USER_HZ */
#define KCLK_MAX_TICK_US 11000        /* 1100000 / USER_HZ */

struct kclk {
	int64_t last_base_ns;       /* base time the state below is valid at */
	int64_t corr_ns;            /* accumulated correction at last_base_ns */
	double corr_frac_ns;        /* sub-ns remainder carried between updates, [0, 1) */
	int64_t freq_scaled;        /* frequency, 2^-16 ppm units (Linux's timex.freq), read-out */
	int32_t tick_us;
	int64_t singleshot_left_ns; /* single-shot offset still to slew (whole µs) */
	int64_t pll_offset_ns;      /* kernel PLL offset still to apply (read-out) */
	int32_t pll_constant;       /* kernel time_constant, 0..10 */
	unsigned status;            /* Linux STA_* bits (clk.h values) */
	int64_t maxerror_us, esterror_us;
	int64_t next_second_ns;     /* base time of the next once-a-second update */
	int leap_state;             /* KCLK_TIME_OK, _INS, _DEL, _OOP, _WAIT */

	/* Kernel-internal quantities, in the kernel's scaled units (ns << 32 = "scaled"). */
	int64_t time_freq;          /* frequency, scaled ns per s (kernel time_freq) */
	int64_t time_offset;        /* remaining PLL offset, scaled ns (kernel time_offset) */
	int64_t tick_length_base;   /* scaled ns per s from tick and frequency */
	int64_t tick_length;        /* this second's: base + PLL and single-shot shares */
	int64_t pll_reftime_s;      /* disciplined second of the last ADJ_OFFSET */
	int64_t disc_sec;           /* the disciplined second the clock is in */
	int64_t next_leap_s;        /* disciplined second of the armed midnight, or INT64_MAX */
	bool fll_mode;              /* STA_MODE: the last update used the FLL */
	uint64_t n_steps;           /* steps, for observers (simulator metrics) */
	uint64_t n_leaps;           /* leap seconds inserted or deleted */
	int64_t jumps_ns;           /* sum of all steps and leap-second jumps: the disciplined
	                             * clock minus jumps_ns is Linux's CLOCK_MONOTONIC (slewed
	                             * with the clock, never stepped), up to a constant */
};

void kclk_init(struct kclk *k, int64_t base_ns);
/* Bring the model forward to base_ns; returns the disciplined time base_ns + correction. */
int64_t kclk_read(struct kclk *k, int64_t base_ns);
/* The correction at base_ns without advancing (base_ns ≥ last_base_ns). */
int64_t kclk_correction_ns(const struct kclk *k, int64_t base_ns);
/* False if the kernel would refuse adj with EINVAL (tick out of range). */
bool kclk_adjust_valid(const struct clk_adj *adj);
/* Apply an adjustment at base_ns, as adjtimex would; returns the kernel's state after it
 * (out may be NULL). An invalid adjustment changes nothing. */
void kclk_adjust(struct kclk *k, int64_t base_ns, const struct clk_adj *adj, struct clk_state *out);
/* Step the disciplined clock by delta_ns at base_ns (ADJ_SETOFFSET). */
void kclk_step(struct kclk *k, int64_t base_ns, int64_t delta_ns);
void kclk_state(const struct kclk *k, struct clk_state *out);
/* The current rate of the disciplined clock relative to base, in ppm (frequency, tick and
 * this second's PLL/single-shot shares). */
double kclk_rate_ppm(const struct kclk *k);

#endif
