/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem_kernel: an in-memory Linux kernel clock behind the os_clock_sys table, for testing
 * the clock seam (clock_linux, clock_soft) without touching the real clock. CLOCK_REALTIME
 * is the kclk model over a base oscillator the test advances by hand; CLOCK_MONOTONIC
 * runs at the disciplined rate (Linux slews it with CLOCK_REALTIME) but never steps. clock_adjtime takes struct timex as Linux does
 * (units, ADJ_NANO, ADJ_OFFSET_SINGLESHOT alone, ADJ_SETOFFSET with a normalised time)
 * and refuses what Linux refuses (EINVAL, EPERM without CAP_SYS_TIME). Every call is
 * counted and the last timex structures are kept for inspection.
 */
#ifndef MEM_KERNEL_H
#define MEM_KERNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/timex.h>

#include "kclk.h"
#include "os_clock.h"

#define MEM_KERNEL_LOG 16

struct mem_kernel {
	struct kclk k;
	int64_t base_ns;             /* the undisciplined oscillator (REALTIME before discipline) */
	int64_t mono_start_ns, real_start_ns;
	int64_t steps_ns;            /* sum of all steps of CLOCK_REALTIME */
	int64_t tick_per_read_ns;    /* every gettime advances base and mono by this */
	bool nano;                   /* STA_NANO as the kernel keeps it */
	bool deny_modify;            /* no CAP_SYS_TIME */
	bool no_setoffset;           /* an old kernel without ADJ_SETOFFSET */
	unsigned n_gettime, n_settime, n_adjtime, n_adjtime_modify;
	struct timex log[MEM_KERNEL_LOG]; /* modifying adjtime calls, oldest first */
	unsigned n_log;
};

void mem_kernel_init(struct mem_kernel *m, int64_t real_ns, int64_t mono_ns);
struct os_clock_sys mem_kernel_sys(struct mem_kernel *m);
/* Let time pass (both clocks). */
int64_t mem_kernel_mono(struct mem_kernel *m);
void mem_kernel_advance(struct mem_kernel *m, int64_t ns);
/* CLOCK_REALTIME as the kernel would report it now (without counting a call). */
int64_t mem_kernel_realtime(struct mem_kernel *m);
/* Someone else steps the system clock (date -s). */
void mem_kernel_external_step(struct mem_kernel *m, int64_t delta_ns);

#endif
