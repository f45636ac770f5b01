/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_clock: the clock seam. One interface, three implementations:
 *   - clock_linux: the system clock through clock_gettime and clock_adjtime (frequency,
 *     tick, kernel PLL offset, single-shot offset, status and leap bits, maxerror and
 *     esterror, steps with ADJ_SETOFFSET or clock_settime). Its system calls go through an
 *     injectable table (struct os_clock_sys) so tests hold it against an in-memory kernel.
 *   - clock_soft: `gnomond -X`. A software clock on top of the system clock, disciplined
 *     by the kclk model (kclk.h); it never calls anything but clock_gettime.
 *   - tests/lib: in-memory clocks for the simulator and unit tests.
 *
 * "real" is the clock being disciplined (the system clock, or the software clock of -X);
 * "mono" is CLOCK_MONOTONIC, which timers use and steps never move. Kernel timestamps on
 * packets are CLOCK_REALTIME readings; map_kernel_ns turns one into the disciplined clock.
 *
 * Does not own: deciding anything (the engine decides; exec.c calls these).
 */
#ifndef OS_CLOCK_H
#define OS_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/timex.h>
#include <time.h>

#include "clk.h"
#include "ntp_time.h"

struct os_clock;

struct os_clock_ops {
	/* Both readings, taken as close together as possible. Returns 0 or -errno. */
	int (*read)(struct os_clock *c, gn_time_ns *real_ns, int64_t *mono_ns);
	/* A CLOCK_REALTIME reading (e.g. a kernel packet timestamp) on the disciplined clock. */
	gn_time_ns (*map_kernel_ns)(struct os_clock *c, gn_time_ns kernel_ns);
	/* Apply an adjustment; out (may be NULL) receives the state after it. 0 or -errno. */
	int (*adjust)(struct os_clock *c, const struct clk_adj *adj, struct clk_state *out);
	/* Step by delta_ns. 0 or -errno. */
	int (*step)(struct os_clock *c, int64_t delta_ns);
	/* Read the state. 0 or -errno. */
	int (*state)(struct os_clock *c, struct clk_state *out);
	/* How far the disciplined clock was stepped by someone else (not through step) since
	 * the last call, as seen in the readings so far; 0 if it was not. The loop hands it to
	 * the engine as an external step. */
	int64_t (*take_external_step_ns)(struct os_clock *c);
	void (*free)(struct os_clock *c);
	/* Optional (NULL: read is used). The disciplined clock alone, as cheaply as the
	 * implementation can: one CLOCK_REALTIME reading, no monotonic reading and no
	 * external-step bookkeeping. For stamping a packet just before it leaves (the
	 * transmit timestamp of a server answer). 0 or -errno. */
	int (*read_real)(struct os_clock *c, gn_time_ns *real_ns);
};

struct os_clock {
	const struct os_clock_ops *ops;
	const char *name;        /* "system" or "software (-X)" for the log */
	bool touches_system;     /* false for -X and test clocks */
};

static inline int os_clock_read(struct os_clock *c, gn_time_ns *real_ns, int64_t *mono_ns)
{
	return c->ops->read(c, real_ns, mono_ns);
}
static inline int os_clock_read_real(struct os_clock *c, gn_time_ns *real_ns)
{
	if (c->ops->read_real)
		return c->ops->read_real(c, real_ns);
	int64_t mono_ns;
	return c->ops->read(c, real_ns, &mono_ns);
}
static inline gn_time_ns os_clock_map_kernel(struct os_clock *c, gn_time_ns kernel_ns)
{
	return c->ops->map_kernel_ns(c, kernel_ns);
}
static inline int os_clock_adjust(struct os_clock *c, const struct clk_adj *adj, struct clk_state *out)
{
	return c->ops->adjust(c, adj, out);
}
static inline int os_clock_step(struct os_clock *c, int64_t delta_ns)
{
	return c->ops->step(c, delta_ns);
}
static inline int os_clock_state(struct os_clock *c, struct clk_state *out)
{
	return c->ops->state(c, out);
}
static inline int64_t os_clock_take_external_step(struct os_clock *c)
{
	return c->ops->take_external_step_ns(c);
}
static inline void os_clock_free(struct os_clock *c)
{
	if (c)
		c->ops->free(c);
}

/* The system calls clock_linux makes, injectable for tests (return 0/-1 with errno, or for
 * adjtime the clock state, as the libc functions do). */
struct os_clock_sys {
	int (*gettime)(void *ctx, clockid_t id, struct timespec *ts);
	int (*settime)(void *ctx, clockid_t id, const struct timespec *ts);
	int (*adjtime)(void *ctx, clockid_t id, struct timex *tx);
	void *ctx;
};
/* The real kernel's calls. */
const struct os_clock_sys *os_clock_sys_kernel(void);

/* The system clock. sys NULL = the real kernel. Returns NULL on allocation failure. */
struct os_clock *os_clock_linux_new(const struct os_clock_sys *sys);
/* -X: a software clock over the system clock read through sys (NULL = the real kernel);
 * calls only sys->gettime. */
struct os_clock *os_clock_soft_new(const struct os_clock_sys *sys);

/* A step of the real-time clock against the monotonic one larger than this between two
 * readings is an external step (both advance at the same rate under any slew; the
 * threshold covers the time between the two clock_gettime calls). */
#define OS_CLOCK_EXT_STEP_NS 1000000LL /* 1 ms */

/* One reading of CLOCK_REALTIME bracketed by two of CLOCK_MONOTONIC; the narrowest of a
 * few tries. *width_ns is the bracket: the uncertainty of the pair. A reading whose
 * bracket is wider than OS_CLOCK_EXT_STEP_NS / 2 (the process was preempted between the
 * calls) must not be used to detect an external step: it would see one that never
 * happened. Returns 0 or -errno. */
int os_clock_read_pair(const struct os_clock_sys *sys, gn_time_ns *real_ns, int64_t *mono_ns,
		       int64_t *width_ns);
#define OS_CLOCK_PAIR_TRUST_NS (OS_CLOCK_EXT_STEP_NS / 2)

/* Translations between clk.h and struct timex, exposed for tests. */
void os_clock_adj_to_timex(const struct clk_adj *adj, struct timex *tx);
void os_clock_timex_to_state(const struct timex *tx, int ret, struct clk_state *out);

/* RFC 5905 §7.3 precision: log2 s of the smallest nonzero difference between two readings
 * of the disciplined clock (at least the time to read it), measured now. */
int8_t os_clock_precision_log2(struct os_clock *c);

/* Nanoseconds of CLOCK_MONOTONIC, for code outside the seam that only needs a timer base
 * (logging, control-socket timeouts). */
int64_t os_mono_ns(void);

#endif
