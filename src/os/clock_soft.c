/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clock_soft: the software clock of `gnomond -X`. It reads the system clock (only ever
 * clock_gettime) and adds a correction that the kclk kernel model (kclk.h) computes from
 * the adjustments the engine asks for, so a -X daemon converges for real, serves its
 * disciplined time, and leaves the system clock alone. Runs without CAP_SYS_TIME.
 *
 * Steps of the system clock made by someone else pass through (the software clock is the
 * system clock plus a correction), and the loop notices them as external steps. The model
 * itself runs on the system clock minus those external steps, so it never sees its base go
 * backwards or leap forward.
 *
 * Does not own: the kernel model (kclk.c), deciding (the engine).
 */
#include "os_clock.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kclk.h"


struct sclock {
	struct os_clock base;
	struct os_clock_sys sys;
	struct kclk k;
	int64_t ext_ns;          /* sum of external steps of the system clock seen */
	int64_t ext_untaken_ns;  /* the part not yet reported by take_external_step_ns */
	gn_time_ns last_sys_ns;  /* last system clock reading */
	int64_t last_mono_ns;
};

static int sys_pair(struct sclock *s, gn_time_ns *sys_ns, int64_t *mono_ns, int64_t *width_ns)
{
	return os_clock_read_pair(&s->sys, sys_ns, mono_ns, width_ns);
}

/* Brings the model forward to now; returns the model's base time. */
static int s_advance(struct sclock *s, int64_t *base_ns, gn_time_ns *sys_ns, int64_t *mono_ns)
{
	int64_t width;
	int r = sys_pair(s, sys_ns, mono_ns, &width);
	if (r != 0)
		return r;
	/* Only a pair read without preemption between its calls can tell an external step
	 * from the time lost between the reads; an untrusted pair leaves the reference as is. */
	if (width <= OS_CLOCK_PAIR_TRUST_NS) {
		int64_t d = (*sys_ns - s->last_sys_ns) - (*mono_ns - s->last_mono_ns);
		if (d > OS_CLOCK_EXT_STEP_NS || d < -OS_CLOCK_EXT_STEP_NS) {
			s->ext_ns += d;
			s->ext_untaken_ns += d;
		}
		s->last_sys_ns = *sys_ns;
		s->last_mono_ns = *mono_ns;
	}
	int64_t b = *sys_ns - s->ext_ns;
	if (b < s->k.last_base_ns)
		b = s->k.last_base_ns; /* read jitter below the step threshold */
	*base_ns = b;
	return 0;
}

/* The model brought up to now, for a change or a look at its state: its base time. */
static int s_model_now(struct sclock *s, int64_t *base_ns)
{
	gn_time_ns sys_ns;
	int64_t mono_ns;
	int r = s_advance(s, base_ns, &sys_ns, &mono_ns);
	if (r == 0)
		kclk_read(&s->k, *base_ns);
	return r;
}

static int s_read(struct os_clock *c, gn_time_ns *real_ns, int64_t *mono_ns)
{
	struct sclock *s = (struct sclock *)c;
	int64_t base;
	gn_time_ns sys_ns;
	int r = s_advance(s, &base, &sys_ns, mono_ns);
	if (r != 0)
		return r;
	*real_ns = kclk_read(&s->k, base) + s->ext_ns;
	return 0;
}

/* The model's correction at base b, without advancing it (the hot path of every packet:
 * a kernel receive stamp, a transmit stamp). Three cases, cheapest first:
 *   - b at or before the model's last base (a receive stamp, older than the clock reading
 *     the loop made after receiving it): the correction there, error ≤ 500 ppm × (age of
 *     the stamp), sub-µs;
 *   - b before the model's next once-a-second update (a transmit stamp a few µs after the
 *     last reading): the model's linear advance (kclk: correction grows by the rate excess
 *     times the base time elapsed), evaluated here without copying the model; it may
 *     differ from kclk's own rounding by 1 ns;
 *   - else kclk_correction_ns, which runs the model forward on a copy. */
static int64_t correction_at(const struct sclock *s, int64_t b)
{
	const struct kclk *k = &s->k;
	if (b < k->last_base_ns)
		b = k->last_base_ns;
	if (b < k->next_second_ns) {
		if (b == k->last_base_ns)
			return k->corr_ns;
		double inc = (double)(b - k->last_base_ns) * (kclk_rate_ppm(k) * 1e-6) +
			     k->corr_frac_ns;
		return k->corr_ns + (int64_t)floor(inc);
	}
	return kclk_correction_ns(k, b);
}

static gn_time_ns s_map(struct os_clock *c, gn_time_ns kernel_ns)
{
	struct sclock *s = (struct sclock *)c;
	return kernel_ns + correction_at(s, kernel_ns - s->ext_ns);
}

/* One CLOCK_REALTIME reading mapped as a kernel stamp is, when the model's last reading is
 * recent (the server path reads the clock in full once per receive batch, then stamps its
 * answers). A stamp cannot tell an external step of the system clock (that needs the
 * monotonic clock): one not yet seen would run the correction over its length. So further
 * than OS_CLOCK_EXT_STEP_NS past the last reading (where a step smaller than that errs by
 * at most 500 ppm of it, 0.5 µs), a full reading is made instead. */
static int s_read_real(struct os_clock *c, gn_time_ns *real_ns)
{
	struct sclock *s = (struct sclock *)c;
	struct timespec ts;
	if (s->sys.gettime(s->sys.ctx, CLOCK_REALTIME, &ts) != 0)
		return -errno;
	gn_time_ns sys_ns = gn_timespec_to_ns(&ts);
	if (sys_ns - s->ext_ns - s->k.last_base_ns > OS_CLOCK_EXT_STEP_NS) {
		int64_t mono_ns;
		return s_read(c, real_ns, &mono_ns);
	}
	*real_ns = s_map(c, sys_ns);
	return 0;
}

/* What the kernel would accept: the same limits clock_linux applies on the way to
 * clock_adjtime, so -X never does what the real clock could not (a non-finite frequency is
 * dropped, the frequency clamped to ±500 ppm, the tick to ±10 %). */
static void sanitize(const struct clk_adj *in, struct clk_adj *out)
{
	*out = *in;
	if (out->modes & CLK_ADJ_FREQ) {
		if (!isfinite(out->freq_ppm))
			out->modes &= ~(unsigned)CLK_ADJ_FREQ;
		else if (out->freq_ppm > CLK_MAX_FREQ_PPM)
			out->freq_ppm = CLK_MAX_FREQ_PPM;
		else if (out->freq_ppm < -CLK_MAX_FREQ_PPM)
			out->freq_ppm = -CLK_MAX_FREQ_PPM;
	}
	if (out->modes & CLK_ADJ_TICK) {
		if (out->tick_us > CLK_NOMINAL_TICK_US + CLK_MAX_TICK_DELTA_US)
			out->tick_us = CLK_NOMINAL_TICK_US + CLK_MAX_TICK_DELTA_US;
		if (out->tick_us < CLK_NOMINAL_TICK_US - CLK_MAX_TICK_DELTA_US)
			out->tick_us = CLK_NOMINAL_TICK_US - CLK_MAX_TICK_DELTA_US;
	}
}

static int s_adjust(struct os_clock *c, const struct clk_adj *adj, struct clk_state *out)
{
	struct sclock *s = (struct sclock *)c;
	int64_t base;
	struct clk_state st;
	struct clk_adj a;
	int r = s_model_now(s, &base);
	if (r != 0)
		return r;
	sanitize(adj, &a);
	kclk_adjust(&s->k, base, &a, out ? out : &st);
	return 0;
}

static int s_step(struct os_clock *c, int64_t delta_ns)
{
	struct sclock *s = (struct sclock *)c;
	int64_t base;
	int r = s_model_now(s, &base);
	if (r != 0)
		return r;
	kclk_step(&s->k, base, delta_ns);
	return 0;
}

static int s_state(struct os_clock *c, struct clk_state *out)
{
	struct sclock *s = (struct sclock *)c;
	int64_t base;
	int r = s_model_now(s, &base);
	if (r != 0)
		return r;
	kclk_state(&s->k, out);
	return 0;
}

static int64_t s_take_ext(struct os_clock *c)
{
	struct sclock *s = (struct sclock *)c;
	int64_t d = s->ext_untaken_ns;
	s->ext_untaken_ns = 0;
	return d;
}

static void s_free(struct os_clock *c) { free(c); }

static const struct os_clock_ops soft_ops = {
	.read = s_read, .read_real = s_read_real, .map_kernel_ns = s_map, .adjust = s_adjust, .step = s_step,
	.state = s_state, .take_external_step_ns = s_take_ext, .free = s_free,
};

struct os_clock *os_clock_soft_new(const struct os_clock_sys *sys)
{
	struct sclock *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->base.ops = &soft_ops;
	s->base.name = "software (-X)";
	s->base.touches_system = false;
	s->sys = sys ? *sys : *os_clock_sys_kernel();
	int64_t width;
	if (sys_pair(s, &s->last_sys_ns, &s->last_mono_ns, &width) != 0) {
		free(s);
		return NULL;
	}
	kclk_init(&s->k, s->last_sys_ns);
	return &s->base;
}
