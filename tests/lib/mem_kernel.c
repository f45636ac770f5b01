/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem_kernel: in-memory kernel clock (see mem_kernel.h).
 */
#include "mem_kernel.h"

#include <errno.h>
#include <math.h>
#include <string.h>

void mem_kernel_init(struct mem_kernel *m, int64_t real_ns, int64_t mono_ns)
{
	memset(m, 0, sizeof *m);
	m->base_ns = real_ns;
	m->real_start_ns = real_ns;
	m->mono_start_ns = mono_ns;
	kclk_init(&m->k, real_ns);
}

void mem_kernel_advance(struct mem_kernel *m, int64_t ns)
{
	m->base_ns += ns;
}

int64_t mem_kernel_mono(struct mem_kernel *m)
{
	return m->mono_start_ns + (kclk_read(&m->k, m->base_ns) - m->real_start_ns) - m->steps_ns;
}

static void do_step(struct mem_kernel *m, int64_t delta_ns)
{
	kclk_step(&m->k, m->base_ns, delta_ns);
	m->steps_ns += delta_ns;
}

int64_t mem_kernel_realtime(struct mem_kernel *m)
{
	return kclk_read(&m->k, m->base_ns);
}

void mem_kernel_external_step(struct mem_kernel *m, int64_t delta_ns)
{
	do_step(m, delta_ns);
}

static int mk_gettime(void *ctx, clockid_t id, struct timespec *ts)
{
	struct mem_kernel *m = ctx;
	m->n_gettime++;
	mem_kernel_advance(m, m->tick_per_read_ns);
	int64_t t;
	if (id == CLOCK_REALTIME)
		t = mem_kernel_realtime(m);
	else if (id == CLOCK_MONOTONIC)
		t = mem_kernel_mono(m);
	else {
		errno = EINVAL;
		return -1;
	}
	*ts = gn_ns_to_timespec(t);
	return 0;
}

static int mk_settime(void *ctx, clockid_t id, const struct timespec *ts)
{
	struct mem_kernel *m = ctx;
	m->n_settime++;
	if (id != CLOCK_REALTIME) {
		errno = EINVAL;
		return -1;
	}
	if (m->deny_modify) {
		errno = EPERM;
		return -1;
	}
	do_step(m, gn_timespec_to_ns(ts) - mem_kernel_realtime(m));
	return 0;
}

static void fill_state(struct mem_kernel *m, struct timex *tx)
{
	struct clk_state st;
	kclk_read(&m->k, m->base_ns);
	kclk_state(&m->k, &st);
	tx->freq = (long)llround(st.freq_ppm * 65536.0);
	tx->tick = st.tick_us;
	tx->status = (int)(st.status & ~(unsigned)STA_NANO) | (m->nano ? STA_NANO : 0);
	tx->offset = m->nano ? (long)st.offset_ns : (long)(st.offset_ns / 1000);
	tx->maxerror = (long)st.maxerror_us;
	tx->esterror = (long)st.esterror_us;
	tx->constant = m->k.pll_constant;
}

static int mk_adjtime(void *ctx, clockid_t id, struct timex *tx)
{
	struct mem_kernel *m = ctx;
	m->n_adjtime++;
	if (id != CLOCK_REALTIME) {
		errno = EINVAL;
		return -1;
	}
	if (tx->modes != 0) {
		if (m->deny_modify) {
			errno = EPERM;
			return -1;
		}
		m->n_adjtime_modify++;
		if (m->n_log < MEM_KERNEL_LOG)
			m->log[m->n_log++] = *tx;
	}
	kclk_read(&m->k, m->base_ns);
	if (tx->modes == ADJ_OFFSET_SINGLESHOT) {
		/* adjtime(3): µs, alone. */
		struct clk_adj a = { .modes = CLK_ADJ_SINGLESHOT, .offset_ns = (int64_t)tx->offset * 1000 };
		kclk_adjust(&m->k, m->base_ns, &a, NULL);
	} else if (tx->modes & ADJ_SETOFFSET) {
		if (m->no_setoffset) {
			errno = EINVAL;
			return -1;
		}
		int64_t frac = tx->time.tv_usec;
		bool nano = (tx->modes & ADJ_NANO) != 0;
		if (frac < 0 || frac >= (nano ? 1000000000 : 1000000)) {
			errno = EINVAL; /* the kernel's timeval/timespec validity check */
			return -1;
		}
		int64_t delta = (int64_t)tx->time.tv_sec * 1000000000LL + (nano ? frac : frac * 1000);
		do_step(m, delta);
	} else if (tx->modes & ADJ_OFFSET_SINGLESHOT & ~ADJ_OFFSET) {
		errno = EINVAL; /* ADJ_OFFSET_SINGLESHOT mixed with other modes */
		return -1;
	} else {
		if (tx->modes & ADJ_NANO)
			m->nano = true;
		if (tx->modes & ADJ_MICRO)
			m->nano = false;
		struct clk_adj a;
		memset(&a, 0, sizeof a);
		if (tx->modes & ADJ_FREQUENCY) {
			a.modes |= CLK_ADJ_FREQ;
			a.freq_ppm = (double)tx->freq / 65536.0;
		}
		if (tx->modes & ADJ_TICK) {
			a.modes |= CLK_ADJ_TICK;
			a.tick_us = (int32_t)tx->tick;
		}
		if (tx->modes & ADJ_STATUS) {
			a.modes |= CLK_ADJ_STATUS;
			a.status = (unsigned)tx->status & ~(unsigned)STA_NANO;
		}
		if (tx->modes & ADJ_TIMECONST) {
			a.modes |= CLK_ADJ_TIMECONST;
			a.pll_constant = (int32_t)tx->constant + (m->nano ? 0 : 4);
		}
		if (tx->modes & ADJ_OFFSET) {
			a.modes |= CLK_ADJ_OFFSET;
			a.offset_ns = m->nano ? (int64_t)tx->offset : (int64_t)tx->offset * 1000;
		}
		if (tx->modes & ADJ_MAXERROR) {
			a.modes |= CLK_ADJ_MAXERROR;
			a.maxerror_us = tx->maxerror;
		}
		if (tx->modes & ADJ_ESTERROR) {
			a.modes |= CLK_ADJ_ESTERROR;
			a.esterror_us = tx->esterror;
		}
		if (!kclk_adjust_valid(&a)) {
			errno = EINVAL;
			return -1;
		}
		kclk_adjust(&m->k, m->base_ns, &a, NULL);
	}
	fill_state(m, tx);
	struct clk_state st;
	kclk_state(&m->k, &st);
	return st.state;
}

struct os_clock_sys mem_kernel_sys(struct mem_kernel *m)
{
	struct os_clock_sys s = { mk_gettime, mk_settime, mk_adjtime, m };
	return s;
}
