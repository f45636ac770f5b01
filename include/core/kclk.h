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
 * disciplined clock reads base + kclk_correction_ns(base). base must not go backwards.
 *
 * Owns all its state in struct kclk (no allocation, no globals).
 */
#ifndef KCLK_H
#define KCLK_H

#include <stdbool.h>
#include <stdint.h>

#include "clk.h"

struct kclk {
	int64_t last_base_ns;       /* base time the state below is valid at */
	int64_t corr_ns;            /* accumulated correction at last_base_ns */
	double corr_frac_ns;        /* sub-ns remainder carried between updates */
	int64_t freq_scaled;        /* frequency, 2^-16 ppm units (Linux's timex.freq) */
	int32_t tick_us;
	int64_t singleshot_left_ns; /* single-shot offset still to slew */
	int64_t pll_offset_ns;      /* kernel PLL offset still to apply */
	int32_t pll_constant;
	unsigned status;
	int64_t maxerror_us, esterror_us;
	int64_t next_second_ns;     /* base time of the next once-a-second update */
	int leap_state;             /* TIME_OK, TIME_INS, TIME_DEL, TIME_OOP, TIME_WAIT */
};

void kclk_init(struct kclk *k, int64_t base_ns);
/* Bring the model forward to base_ns; returns the disciplined time base_ns + correction. */
int64_t kclk_read(struct kclk *k, int64_t base_ns);
/* The correction at base_ns without advancing (base_ns ≥ last_base_ns). */
int64_t kclk_correction_ns(const struct kclk *k, int64_t base_ns);
/* Apply an adjustment at base_ns, as adjtimex would; returns the kernel's state after it. */
void kclk_adjust(struct kclk *k, int64_t base_ns, const struct clk_adj *adj, struct clk_state *out);
/* Step the disciplined clock by delta_ns at base_ns (ADJ_SETOFFSET). */
void kclk_step(struct kclk *k, int64_t base_ns, int64_t delta_ns);
void kclk_state(const struct kclk *k, struct clk_state *out);

#endif
