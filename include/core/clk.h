/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clk: the vocabulary of clock steering, shared by the engine (which decides), the
 * daemon's clock seam (which calls clock_adjtime), the software clock of `-X`, and the
 * simulator's kernel model. It mirrors Linux's adjtimex(2) model (kernel/time/ntp.c) so the
 * simulator can hold the engine to what a real kernel does, not to an ideal actuator:
 *   - frequency in ppm, applied by the kernel in units of 2^-16 ppm, limited to ±500 ppm;
 *   - tick length in µs per USER_HZ tick (nominal 10000), limited to ±10 %;
 *   - a single-shot offset (ADJ_OFFSET_SINGLESHOT) slewed at 500 ppm;
 *   - the kernel PLL (ADJ_OFFSET with STA_PLL, time constant ADJ_TIMECONST);
 *   - status bits (STA_UNSYNC, STA_INS, STA_DEL, STA_PLL, STA_FLL, STA_NANO),
 *     maxerror and esterror for timedatectl and the RTC sync;
 *   - steps (ADJ_SETOFFSET), a separate action.
 */
#ifndef CLK_H
#define CLK_H

#include <stdint.h>

#define CLK_MAX_FREQ_PPM 500.0        /* Linux MAXFREQ */
#define CLK_NOMINAL_TICK_US 10000     /* 1e6 / USER_HZ (100) */
#define CLK_MAX_TICK_DELTA_US 1000    /* Linux: tick within ±10 % of nominal */
#define CLK_SINGLESHOT_SLEW_PPM 500.0 /* Linux adjtime() slew rate */

/* Which fields of struct clk_adj are to be applied (as adjtimex's `modes`). */
enum clk_adj_mode {
	CLK_ADJ_FREQ      = 1u << 0,  /* freq_ppm */
	CLK_ADJ_TICK      = 1u << 1,  /* tick_us */
	CLK_ADJ_OFFSET    = 1u << 2,  /* offset_ns through the kernel PLL (needs STA_PLL) */
	CLK_ADJ_SINGLESHOT = 1u << 3, /* offset_ns slewed at 500 ppm (old adjtime) */
	CLK_ADJ_STATUS    = 1u << 4,  /* status */
	CLK_ADJ_TIMECONST = 1u << 5,  /* pll_constant */
	CLK_ADJ_MAXERROR  = 1u << 6,  /* maxerror_us */
	CLK_ADJ_ESTERROR  = 1u << 7,  /* esterror_us */
};

/* Kernel status bits gnomon uses; values are Linux's STA_* (include/uapi/linux/timex.h). */
enum clk_status {
	CLK_STA_PLL    = 0x0001,
	CLK_STA_INS    = 0x0010,
	CLK_STA_DEL    = 0x0020,
	CLK_STA_UNSYNC = 0x0040,
	CLK_STA_FLL    = 0x0008,
	CLK_STA_NANO   = 0x2000,
};

struct clk_adj {
	unsigned modes;         /* enum clk_adj_mode */
	double freq_ppm;        /* positive: the clock runs faster */
	int32_t tick_us;        /* 9000..11000 */
	int64_t offset_ns;      /* positive: the clock is to move forward */
	unsigned status;        /* enum clk_status: the whole word when CLK_ADJ_STATUS */
	int32_t pll_constant;   /* kernel PLL time constant (log2, 0..10) */
	int64_t maxerror_us;
	int64_t esterror_us;
};

/* What the kernel reports back (adjtimex's read-out). */
struct clk_state {
	double freq_ppm;
	int32_t tick_us;
	int64_t offset_ns;      /* remaining kernel PLL or single-shot offset */
	unsigned status;
	int64_t maxerror_us, esterror_us;
	int state;              /* TIME_OK, TIME_INS, ... as returned by adjtimex */
};

#endif
