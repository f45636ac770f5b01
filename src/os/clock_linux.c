/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clock_linux: the system clock through clock_gettime and clock_adjtime (adjtimex(2)
 * semantics, include/uapi/linux/timex.h). Owns the translation between gnomon's clk.h
 * vocabulary and struct timex: frequency in 2^-16 ppm, offsets in ns (ADJ_NANO) for the
 * kernel PLL and in µs for the single-shot slew, steps with ADJ_SETOFFSET (falling back to
 * clock_settime). Every system call goes through struct os_clock_sys so the translation is
 * tested against an in-memory kernel (tests/unit/test_clock_linux.c).
 *
 * Does not own: deciding (the engine), the -X software clock (clock_soft.c).
 */
#include "os_clock.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FREQ_SCALE 65536.0            /* timex.freq units per ppm (2^-16 ppm) */
#define KERNEL_MAXPHASE_NS 500000000LL /* Linux MAXPHASE: ADJ_OFFSET is clamped to ±0.5 s */
#define READ_TRIES 3
#define READ_GOOD_BRACKET_NS 20000     /* a real reading bracketed by two monotonic ones */

static int k_gettime(void *ctx, clockid_t id, struct timespec *ts)
{
	(void)ctx;
	return clock_gettime(id, ts);
}

static int k_settime(void *ctx, clockid_t id, const struct timespec *ts)
{
	(void)ctx;
	return clock_settime(id, ts);
}

static int k_adjtime(void *ctx, clockid_t id, struct timex *tx)
{
	(void)ctx;
	return clock_adjtime(id, tx);
}

static const struct os_clock_sys kernel_sys = { k_gettime, k_settime, k_adjtime, NULL };

const struct os_clock_sys *os_clock_sys_kernel(void) { return &kernel_sys; }

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * GN_NS_PER_S + ts->tv_nsec;
}

int64_t os_mono_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return ts_ns(&ts);
}

/* Real time paired with the midpoint of two monotonic readings around it; retried when
 * the bracket is wide (we were preempted between the calls). */
int os_clock_read_pair(const struct os_clock_sys *sys, gn_time_ns *real_ns, int64_t *mono_ns,
		       int64_t *width_ns)
{
	int64_t best_w = INT64_MAX;
	for (int i = 0; i < READ_TRIES; i++) {
		struct timespec m1, r, m2;
		if (sys->gettime(sys->ctx, CLOCK_MONOTONIC, &m1) != 0 ||
		    sys->gettime(sys->ctx, CLOCK_REALTIME, &r) != 0 ||
		    sys->gettime(sys->ctx, CLOCK_MONOTONIC, &m2) != 0)
			return -errno;
		int64_t w = ts_ns(&m2) - ts_ns(&m1);
		if (w < best_w) {
			best_w = w;
			*real_ns = ts_ns(&r);
			*mono_ns = ts_ns(&m1) + w / 2;
		}
		if (w <= READ_GOOD_BRACKET_NS)
			break;
	}
	*width_ns = best_w;
	return 0;
}

void os_clock_adj_to_timex(const struct clk_adj *adj, struct timex *tx)
{
	memset(tx, 0, sizeof *tx);
	if ((adj->modes & CLK_ADJ_FREQ) && isfinite(adj->freq_ppm)) { /* NaN: a bug upstream */
		double f = adj->freq_ppm;
		if (f > CLK_MAX_FREQ_PPM) f = CLK_MAX_FREQ_PPM;
		if (f < -CLK_MAX_FREQ_PPM) f = -CLK_MAX_FREQ_PPM;
		tx->modes |= ADJ_FREQUENCY;
		tx->freq = (long)llround(f * FREQ_SCALE);
	}
	if (adj->modes & CLK_ADJ_TICK) {
		int32_t t = adj->tick_us;
		if (t > CLK_NOMINAL_TICK_US + CLK_MAX_TICK_DELTA_US) t = CLK_NOMINAL_TICK_US + CLK_MAX_TICK_DELTA_US;
		if (t < CLK_NOMINAL_TICK_US - CLK_MAX_TICK_DELTA_US) t = CLK_NOMINAL_TICK_US - CLK_MAX_TICK_DELTA_US;
		tx->modes |= ADJ_TICK;
		tx->tick = t;
	}
	if (adj->modes & CLK_ADJ_OFFSET) {
		int64_t o = adj->offset_ns;
		if (o > KERNEL_MAXPHASE_NS) o = KERNEL_MAXPHASE_NS;
		if (o < -KERNEL_MAXPHASE_NS) o = -KERNEL_MAXPHASE_NS;
		tx->modes |= ADJ_OFFSET | ADJ_NANO;
		tx->offset = (long)o;
	}
	if (adj->modes & CLK_ADJ_STATUS) {
		tx->modes |= ADJ_STATUS;
		tx->status = (int)adj->status;
	}
	if (adj->modes & CLK_ADJ_TIMECONST) {
		/* With STA_NANO the kernel takes the constant as given (without, it adds 4). */
		tx->modes |= ADJ_TIMECONST | ADJ_NANO;
		tx->constant = adj->pll_constant;
	}
	if (adj->modes & CLK_ADJ_MAXERROR) {
		tx->modes |= ADJ_MAXERROR;
		tx->maxerror = (long)adj->maxerror_us;
	}
	if (adj->modes & CLK_ADJ_ESTERROR) {
		tx->modes |= ADJ_ESTERROR;
		tx->esterror = (long)adj->esterror_us;
	}
	/* CLK_ADJ_SINGLESHOT is a separate call: the kernel handles ADJ_OFFSET_SINGLESHOT alone. */
}

void os_clock_timex_to_state(const struct timex *tx, int ret, struct clk_state *out)
{
	memset(out, 0, sizeof *out);
	out->freq_ppm = (double)tx->freq / FREQ_SCALE;
	out->tick_us = (int32_t)tx->tick;
	out->offset_ns = (tx->status & STA_NANO) ? (int64_t)tx->offset : (int64_t)tx->offset * 1000;
	out->status = (unsigned)tx->status;
	out->maxerror_us = tx->maxerror;
	out->esterror_us = tx->esterror;
	out->state = ret;
}

struct lclock {
	struct os_clock base;
	struct os_clock_sys sys;
	bool have_last;
	int64_t last_diff_ns;    /* real - mono at the last reading */
	int64_t ext_ns;          /* external steps seen, not yet taken */
};

static void l_note(struct lclock *l, gn_time_ns real_ns, int64_t mono_ns, int64_t width_ns)
{
	if (width_ns > OS_CLOCK_PAIR_TRUST_NS)
		return; /* preempted between the reads: this pair cannot tell a step */
	int64_t diff = real_ns - mono_ns;
	if (l->have_last) {
		int64_t d = diff - l->last_diff_ns;
		if (d > OS_CLOCK_EXT_STEP_NS || d < -OS_CLOCK_EXT_STEP_NS)
			l->ext_ns += d;
	}
	l->last_diff_ns = diff;
	l->have_last = true;
}

static int l_read(struct os_clock *c, gn_time_ns *real_ns, int64_t *mono_ns)
{
	struct lclock *l = (struct lclock *)c;
	int64_t width;
	int r = os_clock_read_pair(&l->sys, real_ns, mono_ns, &width);
	if (r == 0)
		l_note(l, *real_ns, *mono_ns, width);
	return r;
}

static int l_read_real(struct os_clock *c, gn_time_ns *real_ns)
{
	struct lclock *l = (struct lclock *)c;
	struct timespec ts;
	if (l->sys.gettime(l->sys.ctx, CLOCK_REALTIME, &ts) != 0)
		return -errno;
	*real_ns = ts_ns(&ts);
	return 0;
}

static int64_t l_take_ext(struct os_clock *c)
{
	struct lclock *l = (struct lclock *)c;
	int64_t d = l->ext_ns;
	l->ext_ns = 0;
	return d;
}

static gn_time_ns l_map(struct os_clock *c, gn_time_ns kernel_ns)
{
	(void)c;
	return kernel_ns;
}

static int l_state(struct os_clock *c, struct clk_state *out)
{
	struct lclock *l = (struct lclock *)c;
	struct timex tx;
	memset(&tx, 0, sizeof tx);
	int ret = l->sys.adjtime(l->sys.ctx, CLOCK_REALTIME, &tx);
	if (ret < 0)
		return -errno;
	os_clock_timex_to_state(&tx, ret, out);
	return 0;
}

static int l_adjust(struct os_clock *c, const struct clk_adj *adj, struct clk_state *out)
{
	struct lclock *l = (struct lclock *)c;
	struct timex tx;
	int ret = 0;
	os_clock_adj_to_timex(adj, &tx);
	if (tx.modes != 0) {
		ret = l->sys.adjtime(l->sys.ctx, CLOCK_REALTIME, &tx);
		if (ret < 0)
			return -errno;
	}
	if (adj->modes & CLK_ADJ_SINGLESHOT) {
		/* adjtime(3) semantics: offset in µs, slewed at 500 ppm. */
		memset(&tx, 0, sizeof tx);
		tx.modes = ADJ_OFFSET_SINGLESHOT;
		tx.offset = (long)(adj->offset_ns / 1000);
		ret = l->sys.adjtime(l->sys.ctx, CLOCK_REALTIME, &tx);
		if (ret < 0)
			return -errno;
	}
	if (out)
		return l_state(c, out);
	return 0;
}

static int l_step(struct os_clock *c, int64_t delta_ns)
{
	struct lclock *l = (struct lclock *)c;
	struct timex tx;
	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	/* timex.time: seconds may be negative, the fraction (ns with ADJ_NANO) is in [0, 1e9). */
	int64_t sec = delta_ns / GN_NS_PER_S, nsec = delta_ns % GN_NS_PER_S;
	if (nsec < 0) {
		nsec += GN_NS_PER_S;
		sec -= 1;
	}
	tx.time.tv_sec = (time_t)sec;
	tx.time.tv_usec = (suseconds_t)nsec;
	if (l->sys.adjtime(l->sys.ctx, CLOCK_REALTIME, &tx) >= 0) {
		l->last_diff_ns += delta_ns; /* our own step is not an external one */
		return 0;
	}
	if (errno != EINVAL && errno != EOPNOTSUPP)
		return -errno;
	/* Kernels before 2.6.39 lack ADJ_SETOFFSET: read, add, set (loses the read latency). */
	struct timespec now;
	if (l->sys.gettime(l->sys.ctx, CLOCK_REALTIME, &now) != 0)
		return -errno;
	struct timespec t = gn_ns_to_timespec(ts_ns(&now) + delta_ns);
	if (l->sys.settime(l->sys.ctx, CLOCK_REALTIME, &t) != 0)
		return -errno;
	l->last_diff_ns += delta_ns;
	return 0;
}

static void l_free(struct os_clock *c) { free(c); }

static const struct os_clock_ops linux_ops = {
	.read = l_read, .read_real = l_read_real, .map_kernel_ns = l_map, .adjust = l_adjust, .step = l_step,
	.state = l_state, .take_external_step_ns = l_take_ext, .free = l_free,
};

struct os_clock *os_clock_linux_new(const struct os_clock_sys *sys)
{
	struct lclock *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->base.ops = &linux_ops;
	l->base.name = "system";
	l->base.touches_system = true;
	l->sys = sys ? *sys : kernel_sys;
	return &l->base;
}

#define PRECISION_READS 200

int8_t os_clock_precision_log2(struct os_clock *c)
{
	gn_time_ns prev, cur;
	int64_t mono, best = INT64_MAX;
	if (os_clock_read(c, &prev, &mono) != 0)
		return -20;
	for (int i = 0; i < PRECISION_READS; i++) {
		if (os_clock_read(c, &cur, &mono) != 0)
			break;
		int64_t d = cur - prev;
		if (d > 0 && d < best)
			best = d;
		prev = cur;
	}
	if (best == INT64_MAX)
		return -20; /* a clock that never moved in 200 reads: assume 1 µs, say so */
	double l2 = ceil(log2((double)best / 1e9));
	if (l2 < -30) l2 = -30;
	if (l2 > 0) l2 = 0;
	return (int8_t)l2;
}
