/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dsc: the clock discipline (see include/core/dsc.h and docs/discipline.md).
 *
 * Sign conventions: offset (theta) = server - local; positive means the local clock is
 * behind and must move forward. A rate u > 0 makes the clock run faster. The clock error
 * e = -theta obeys de/dt = f + u (f: the oscillator's own error), so x = theta + U(t),
 * U = integral of u, is the offset the clock would show had we never steered it: it
 * changes only by -f and noise, and a straight line fitted to x gives the phase and the
 * frequency (slope b = -f, so the rate that holds the clock is u = b).
 */
#include "dsc.h"

#include <math.h>
#include <string.h>

#include "gn_assert.h"

enum { ST_NSET, ST_FSET, ST_SPIK, ST_FREQ, ST_SYNC }; /* RFC 5905 A.5.6 */

/* RFC 5905 §11.3 / A.5.6 constants of the reference loop */
#define RFC_PLL 65.0           /* PLL loop gain */
#define RFC_FLL 18.0           /* FLL loop gain (MAXPOLL + 1) */
#define RFC_AVG 4.0            /* parameter averaging constant */
#define RFC_ALLAN 1500.0       /* Allan intercept, s (2^11 ~ ALLAN) */
#define RFC_LIMIT 30           /* poll-adjust threshold */
#define RFC_PGATE 4.0          /* poll-adjust gate */
#define MAXFREQ_S 500e-6       /* RFC 5905 §7.2 MAXFREQ: frequency tolerance */

#define GN_MIN_SLEW_S 1.0      /* shortest slew: one second */
#define GN_FREQ_ONLY_RATE 450e-6 /* below this the kernel frequency alone slews */
#define GN_WIN_MIN 8u          /* smallest candidate window, samples */
#ifndef GN_SCORE_AVG
#define GN_SCORE_AVG 64.0      /* updates averaged in a window's prediction score */
#endif
#define GN_SCORE_MIN 16u       /* predictions a window needs before it can be chosen */
#define GN_SCORE_CLIP 25.0     /* one sample counts at most this (in sigma^2) */
#define GN_POLL_UP 8           /* consecutive updates asking for a longer poll */
#define GN_POLL_DOWN 4         /* consecutive updates asking for a shorter poll */
#ifndef GN_SPAN_POLLS
#define GN_SPAN_POLLS 128.0    /* intervals the best window must span at the longer poll */
#endif


static double ns_to_s(int64_t ns) { return (double)ns / 1e9; }

/* --- the actuator: integrate what was applied, then split a rate into tick + freq --- */
static void u_advance(struct dsc *d, int64_t now_ns)
{
	if (now_ns > d->u_t_ns) {
		d->u_int_s += d->u_rate * ns_to_s(now_ns - d->u_t_ns);
		d->p_int_s += d->p_rate * ns_to_s(now_ns - d->u_t_ns);
		d->u_t_ns = now_ns;
	}
}

static double u_at(const struct dsc *d, int64_t t_ns)
{
	return d->u_int_s + d->u_rate * ns_to_s(t_ns - d->u_t_ns);
}

static void set_rate(struct dsc *d, int64_t now_ns, double rate, struct clk_adj *adj)
{
	u_advance(d, now_ns);
	if (rate > DSC_MAX_SLEW + MAXFREQ_S)
		rate = DSC_MAX_SLEW + MAXFREQ_S;
	if (rate < -DSC_MAX_SLEW - MAXFREQ_S)
		rate = -DSC_MAX_SLEW - MAXFREQ_S;
	long tick_delta = 0;
	if (fabs(rate) > GN_FREQ_ONLY_RATE)
		tick_delta = lround(rate / 1e-4); /* one µs of tick per 10 ms = 100 ppm */
	double freq_ppm = (rate - (double)tick_delta * 1e-4) * 1e6;
	if (freq_ppm > CLK_MAX_FREQ_PPM)
		freq_ppm = CLK_MAX_FREQ_PPM;
	if (freq_ppm < -CLK_MAX_FREQ_PPM)
		freq_ppm = -CLK_MAX_FREQ_PPM;
	/* the kernel keeps frequency in 2^-16 ppm: integrate what it will really apply */
	freq_ppm = (double)llround(freq_ppm * 65536.0) / 65536.0;
	memset(adj, 0, sizeof *adj);
	adj->modes = CLK_ADJ_FREQ | CLK_ADJ_TICK;
	adj->freq_ppm = freq_ppm;
	adj->tick_us = (int32_t)(CLK_NOMINAL_TICK_US + tick_delta);
	d->u_rate = freq_ppm * 1e-6 + (double)tick_delta * 1e-4;
	d->p_rate = d->u_rate - d->base_rate;
}

void dsc_init(struct dsc *d, const struct dsc_params *p, int64_t now_ns, struct clk_adj *adj)
{
	memset(d, 0, sizeof *d);
	d->p = *p;
	if (d->p.minpoll_log2 < 0)
		d->p.minpoll_log2 = 0;
	if (d->p.maxpoll_log2 < d->p.minpoll_log2)
		d->p.maxpoll_log2 = d->p.minpoll_log2;
	d->epoch_ns = now_ns;
	d->u_t_ns = now_ns;
	d->state = ST_NSET;
	d->poll_log2 = d->p.minpoll_log2;
	double f = p->have_drift ? p->drift_ppm * 1e-6 : 0.0;
	if (f > MAXFREQ_S)
		f = MAXFREQ_S;
	if (f < -MAXFREQ_S)
		f = -MAXFREQ_S;
	d->base_rate = f;
	d->freq_rfc = f;
	d->jitter_s = p->precision_s > 0 ? p->precision_s : 1e-6;
	set_rate(d, now_ns, f, adj);
	adj->modes |= CLK_ADJ_STATUS;
	adj->status = CLK_STA_UNSYNC;
}

/* --- gnomon: weighted regression with a runs test --- */
struct fit {
	double a, b, tbar, k, W, Stt;
	unsigned n;
};

static const struct dsc_sample *smp(const struct dsc *d, unsigned i)
{
	return &d->s[(d->head + i) % DSC_NSAMPLES];
}

/* Fit the newest m samples. */
static void fit_last(const struct dsc *d, unsigned m, struct fit *f)
{
	unsigned first = d->n - m;
	double W = 0, st = 0, sx = 0;
	for (unsigned i = first; i < d->n; i++) {
		const struct dsc_sample *s = smp(d, i);
		W += s->w;
		st += s->w * s->t_s;
		sx += s->w * s->x_s;
	}
	f->W = W;
	f->tbar = st / W;
	double xbar = sx / W, Stt = 0, Stx = 0;
	for (unsigned i = first; i < d->n; i++) {
		const struct dsc_sample *s = smp(d, i);
		double dt = s->t_s - f->tbar;
		Stt += s->w * dt * dt;
		Stx += s->w * dt * (s->x_s - xbar);
	}
	f->Stt = Stt;
	f->n = m;
	f->a = xbar;
	f->b = (m >= 2 && Stt > 1e-12) ? Stx / Stt : d->base_rate;
	double chi = 0;
	for (unsigned i = first; i < d->n; i++) {
		const struct dsc_sample *s = smp(d, i);
		double r = s->x_s - f->a - f->b * (s->t_s - f->tbar);
		chi += s->w * r * r;
	}
	f->k = m > 2 ? chi / (double)(m - 2) : 1.0;
	if (f->k < 1.0)
		f->k = 1.0; /* never claim better than the samples' own error */
}

/* Wald-Wolfowitz runs test on the residual signs: true when there are too few runs for
 * the residuals to be noise around the line (z < -1.65, one-sided 5 %). */
static bool too_few_runs(const struct dsc *d, const struct fit *f)
{
	unsigned first = d->n - f->n, npos = 0, nneg = 0, runs = 0;
	int prev = 0;
	for (unsigned i = first; i < d->n; i++) {
		const struct dsc_sample *s = smp(d, i);
		double r = s->x_s - f->a - f->b * (s->t_s - f->tbar);
		int sg = r >= 0 ? 1 : -1;
		if (sg > 0)
			npos++;
		else
			nneg++;
		if (sg != prev)
			runs++;
		prev = sg;
	}
	if (npos == 0 || nneg == 0)
		return f->n >= 6;
	double n = (double)(npos + nneg);
	double mu = 2.0 * npos * nneg / n + 1.0;
	double var = (mu - 1.0) * (mu - 2.0) / (n - 1.0);
	if (var <= 0)
		return false;
	return ((double)runs - mu) / sqrt(var) < -1.65;
}

static void drop_oldest(struct dsc *d, unsigned k)
{
	if (k > d->n)
		k = d->n;
	d->head = (d->head + k) % DSC_NSAMPLES;
	d->n -= k;
}

static enum dsc_result gn_update(struct dsc *d, int64_t now_ns, int64_t t_ns, double offset_s,
				 double sigma_s, struct clk_adj *adj)
{
	u_advance(d, now_ns);
	if (sigma_s < 1e-9)
		sigma_s = 1e-9;
	if (d->n == DSC_NSAMPLES)
		drop_oldest(d, 1);
	double t_new = ns_to_s(t_ns - d->epoch_ns);
	double x_new = offset_s + u_at(d, t_ns);
	/* score every candidate window on how well it predicted this sample */
	for (unsigned j = 0; j < DSC_NWIN; j++) {
		unsigned m = GN_WIN_MIN << j;
		if (d->n < 3 || (m > d->n && (j == 0 || (GN_WIN_MIN << (j - 1)) >= d->n)))
			continue; /* the same fit as a smaller window */
		struct fit fj;
		fit_last(d, m < d->n ? m : d->n, &fj);
		double e = x_new - fj.a - fj.b * (t_new - fj.tbar);
		double v = e * e / (sigma_s * sigma_s);
		if (v > GN_SCORE_CLIP)
			v = GN_SCORE_CLIP;
		d->win_score[j] += (v - d->win_score[j]) / (d->win_count[j] < GN_SCORE_AVG ? (double)(d->win_count[j] + 1) : GN_SCORE_AVG);
		d->win_count[j]++;
	}
	struct dsc_sample *s = &d->s[(d->head + d->n) % DSC_NSAMPLES];
	s->t_s = t_new;
	s->x_s = x_new;
	s->sigma_s = sigma_s;
	s->w = 1.0 / (sigma_s * sigma_s);
	d->n++;

	/* the window: the candidate that has predicted best lately (all samples until the
	 * candidates have a record) */
	unsigned use = d->n;
	double best = INFINITY;
	for (unsigned j = 0; j < DSC_NWIN; j++) {
		unsigned m = GN_WIN_MIN << j;
		if (d->win_count[j] >= GN_SCORE_MIN && d->win_score[j] < best) {
			best = d->win_score[j];
			use = m < d->n ? m : d->n;
		}
	}
	struct fit f;
	fit_last(d, use, &f);
	d->win_used = use;
	/* a runs test on the chosen window: too few sign changes means the line no longer
	 * fits (the frequency moved), so the older samples are dropped for good */
	bool shrunk = false;
	while (f.n > 2 * GN_WIN_MIN && too_few_runs(d, &f)) {
		unsigned keep = f.n / 2;
		drop_oldest(d, d->n - keep);
		fit_last(d, keep, &f);
		shrunk = true;
	}
	double now_s = ns_to_s(now_ns - d->epoch_ns);
	double dt = now_s - f.tbar;
	double theta_now = f.a + f.b * dt - u_at(d, now_ns);
	d->fit_sigma_s = sqrt(f.k / f.W + (f.n >= 2 && f.Stt > 0 ? f.k / f.Stt * dt * dt : 0.0));
	d->fit_n = f.n;
	double base = f.b;
	if (base > MAXFREQ_S)
		base = MAXFREQ_S;
	if (base < -MAXFREQ_S)
		base = -MAXFREQ_S;
	if (f.n >= 2) {
		double old = d->base_rate;
		d->base_rate = base;
		double dw = (base - old) * 1e6;
		d->wander_ppm = sqrt(d->wander_ppm * d->wander_ppm +
				     (dw * dw - d->wander_ppm * d->wander_ppm) / RFC_AVG);
	}

	/* slew theta_now away: as fast as the tick allows, never faster than over a second */
	double tau = fabs(theta_now) / DSC_MAX_SLEW;
	if (tau < GN_MIN_SLEW_S)
		tau = GN_MIN_SLEW_S;
	set_rate(d, now_ns, d->base_rate + theta_now / tau, adj);
	d->slew_end_ns = now_ns + (int64_t)(tau * 1e9);


	/* poll: the window that predicts best says how long the oscillator stays predictable
	 * (about its Allan intercept, where averaging more stops helping). Poll less often only
	 * while that time would still hold GN_SPAN_POLLS of the longer intervals; more often
	 * when it holds fewer than a quarter of that at the present one. */
	double span = f.n >= 2 ? smp(d, d->n - 1)->t_s - smp(d, d->n - f.n)->t_s : 0.0;
	double pollt = ldexp(1.0, d->poll_log2);
	if (shrunk || (d->n >= 2 * GN_WIN_MIN && span < GN_SPAN_POLLS / 4.0 * pollt &&
		       d->win_used < d->n)) {
		if (--d->poll_count <= -GN_POLL_DOWN) {
			d->poll_count = 0;
			if (d->poll_log2 > d->p.minpoll_log2)
				d->poll_log2--;
		}
	} else if (span >= GN_SPAN_POLLS * 2.0 * pollt) {
		if (++d->poll_count >= GN_POLL_UP) {
			d->poll_count = 0;
			if (d->poll_log2 < d->p.maxpoll_log2)
				d->poll_log2++;
		}
	} else {
		d->poll_count = 0;
	}
	return DSC_SLEWED;
}

/* --- RFC 5905 A.5.6 reference loop --- */
static enum dsc_result rfc_update(struct dsc *d, int64_t t_ns, double offset_s, double mu)
{
	double pollt = ldexp(1.0, d->poll_log2);
	switch (d->state) {
	case ST_NSET:
	case ST_FSET:
		d->offset_s = offset_s;
		d->state = d->p.have_drift ? ST_SYNC : ST_FREQ;
		d->last_t_ns = t_ns;
		return DSC_SLEWED;
	case ST_FREQ:
		if (mu < d->p.stepout_s)
			return DSC_IGNORED;
		/* direct frequency measurement: what is left after the slew is the drift */
		d->freq_rfc += (offset_s - d->offset_s) / mu;
		d->state = ST_SYNC;
		break;
	default: {
		double dfreq = 0.0;
		if (pollt > RFC_ALLAN / 2.0) { /* FLL above half the Allan intercept */
			double etemp = RFC_FLL - d->poll_log2;
			if (etemp < RFC_AVG)
				etemp = RFC_AVG;
			dfreq += (offset_s - d->offset_s) / (fmax(mu, RFC_ALLAN) * etemp);
		}
		double etemp = fmin(mu, pollt);
		double dtemp = 4.0 * RFC_PLL * pollt;
		dfreq += offset_s * etemp / (dtemp * dtemp);
		d->freq_rfc += dfreq;
		double dw = dfreq * 1e6;
		d->wander_ppm = sqrt(d->wander_ppm * d->wander_ppm +
				     (dw * dw - d->wander_ppm * d->wander_ppm) / RFC_AVG);
		break;
	}
	}
	if (d->freq_rfc > MAXFREQ_S)
		d->freq_rfc = MAXFREQ_S;
	if (d->freq_rfc < -MAXFREQ_S)
		d->freq_rfc = -MAXFREQ_S;
	d->base_rate = d->freq_rfc;
	d->offset_s = offset_s;
	d->last_t_ns = t_ns;
	/* poll-adjust (RFC 5905 A.5.6.1) */
	if (fabs(offset_s) < RFC_PGATE * d->jitter_s) {
		d->poll_count += d->poll_log2;
		if (d->poll_count > RFC_LIMIT) {
			d->poll_count = RFC_LIMIT;
			if (d->poll_log2 < d->p.maxpoll_log2) {
				d->poll_count = 0;
				d->poll_log2++;
			}
		}
	} else {
		d->poll_count -= d->poll_log2 << 1;
		if (d->poll_count < -RFC_LIMIT) {
			d->poll_count = -RFC_LIMIT;
			if (d->poll_log2 > d->p.minpoll_log2) {
				d->poll_count = 0;
				d->poll_log2--;
			}
		}
	}
	return DSC_SLEWED;
}

/* RFC 5905 A.5.6.2 clock_adjust: once a second slew a fraction of the residual offset. */
static void rfc_second(struct dsc *d, int64_t now_ns, struct clk_adj *adj)
{
	double tc = fmin(ldexp(1.0, d->poll_log2), RFC_ALLAN);
	double dtemp = d->offset_s / (RFC_PLL * tc);
	d->offset_s -= dtemp;
	set_rate(d, now_ns, d->freq_rfc + dtemp, adj);
}

static void reset_samples(struct dsc *d)
{
	memset(d->win_score, 0, sizeof d->win_score);
	memset(d->win_count, 0, sizeof d->win_count);
	d->n = 0;
	d->head = 0;
	d->fit_n = 0;
}

enum dsc_result dsc_update(struct dsc *d, int64_t now_ns, int64_t t_ns, double offset_s,
			   double sigma_s, struct clk_adj *adj, int64_t *step_ns)
{
	REQUIRE(now_ns >= t_ns);
	double mu = d->last_t_ns != 0 ? ns_to_s(t_ns - d->last_t_ns) : 0.0;
	/* jitter (RFC 5905 A.5.6.1: exponential average of offset differences) */
	if (d->updates > 0) {
		double dd = offset_s - d->last_offset_s;
		d->jitter_s = sqrt(d->jitter_s * d->jitter_s + (dd * dd - d->jitter_s * d->jitter_s) / RFC_AVG);
	}
	d->last_offset_s = offset_s;
	d->updates++;

	if (d->p.panic_s > 0 && fabs(offset_s) > d->p.panic_s &&
	    !(d->p.allow_first_panic && !d->first_done))
		return DSC_PANIC;

	if (d->p.step_s > 0 && fabs(offset_s) > d->p.step_s) {
		switch (d->state) {
		case ST_SYNC:
			d->state = ST_SPIK;
			d->spike_t_ns = t_ns;
			return DSC_IGNORED;
		case ST_SPIK:
			if (ns_to_s(t_ns - d->spike_t_ns) < d->p.stepout_s)
				return DSC_IGNORED;
			break;
		case ST_FREQ:
			if (mu < d->p.stepout_s)
				return DSC_IGNORED;
			break;
		default:
			break;
		}
		/* step (RFC 5905 A.5.6.1 step_time) */
		*step_ns = (int64_t)llround(offset_s * 1e9);
		reset_samples(d);
		d->steps++;
		d->first_done = true;
		d->offset_s = 0.0;
		d->last_t_ns = t_ns;
		d->state = (d->p.algo == DSC_ALGO_RFC && !d->p.have_drift && d->state == ST_NSET) ?
			   ST_FREQ : ST_SYNC;
		d->slew_end_ns = 0;
		set_rate(d, now_ns, d->base_rate, adj);
		return DSC_STEPPED;
	}
	if (d->state == ST_SPIK)
		d->state = ST_SYNC;
	d->first_done = true;

	if (d->p.algo == DSC_ALGO_RFC) {
		enum dsc_result r = rfc_update(d, t_ns, offset_s, mu);
		if (r == DSC_SLEWED) {
			rfc_second(d, now_ns, adj);
			d->next_sec_ns = now_ns + ((int64_t)1000000000);
		}
		return r;
	}
	d->state = ST_SYNC;
	d->last_t_ns = t_ns;
	d->offset_s = offset_s;
	return gn_update(d, now_ns, t_ns, offset_s, sigma_s, adj);
}

int64_t dsc_next_deadline(const struct dsc *d)
{
	if (d->p.algo == DSC_ALGO_RFC)
		return d->next_sec_ns != 0 ? d->next_sec_ns : INT64_MAX;
	return d->slew_end_ns != 0 ? d->slew_end_ns : INT64_MAX;
}

bool dsc_on_timer(struct dsc *d, int64_t now_ns, struct clk_adj *adj)
{
	if (d->p.algo == DSC_ALGO_RFC) {
		if (d->next_sec_ns == 0 || now_ns < d->next_sec_ns)
			return false;
		rfc_second(d, now_ns, adj);
		d->next_sec_ns += ((int64_t)1000000000);
		if (d->next_sec_ns <= now_ns)
			d->next_sec_ns = now_ns + ((int64_t)1000000000);
		return true;
	}
	if (d->slew_end_ns == 0 || now_ns < d->slew_end_ns)
		return false;
	d->slew_end_ns = 0;
	set_rate(d, now_ns, d->base_rate, adj);
	return true;
}

void dsc_stepped(struct dsc *d, int64_t delta_ns)
{
	/* a step moves the clock by delta: x = theta + U must not see it, so count it in U */
	d->u_int_s += ns_to_s(delta_ns);
	d->p_int_s += ns_to_s(delta_ns);
}

void dsc_hold(struct dsc *d, int64_t now_ns, struct clk_adj *adj)
{
	reset_samples(d);
	d->slew_end_ns = 0;
	d->offset_s = 0.0;
	set_rate(d, now_ns, d->base_rate, adj);
}

double dsc_steer_s(const struct dsc *d, int64_t t_ns)
{
	return d->p_int_s + d->p_rate * ns_to_s(t_ns - d->u_t_ns);
}
double dsc_freq_ppm(const struct dsc *d) { return d->base_rate * 1e6; }
double dsc_offset_s(const struct dsc *d) { return d->last_offset_s; }
int dsc_poll_log2(const struct dsc *d) { return d->poll_log2; }
