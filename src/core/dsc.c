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
#define RFC_MINPOLL 4          /* RFC 5905 §7.2 MINPOLL: the least system poll (16 s) */

#define GN_MIN_SLEW_S 1.0      /* shortest slew: one second */
#define GN_FREQ_ONLY_RATE 450e-6 /* below this the kernel frequency alone slews */
#ifndef GN_Q_MIN
#define GN_Q_MIN 1e-24         /* slowest wander rate of the bank, s^-1 (frequency variance
                                * per second; the simulator's oscillator: 1e-18) */
#endif
#define GN_RATE_PRIOR MAXFREQ_S /* frequency uncertainty before the first sample, s/s */
#ifndef GN_SCORE_AVG
#define GN_SCORE_AVG 64.0      /* predictions in a filter's running likelihood */
#endif
#define GN_GAP_AVG 16.0        /* samples in the running mean of their spacing */
#define GN_GAP_BURST 0.125     /* closer samples (in poll intervals) come from a burst */
#define GN_SCORE_SKIP 3u       /* samples before predictions are scored (the prior's) */
#define GN_SCORE_MIN 16u       /* scored predictions before the filters are mixed */
#define GN_POLL_UP 8           /* consecutive updates asking for a longer poll */
#define GN_POLL_DOWN 4         /* consecutive updates asking for a shorter poll */
#ifndef GN_POLL_TARGET
#define GN_POLL_TARGET 12.0    /* samples the estimate's averaging time should hold */
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
	/* RFC 5905: the system poll s.poll, the loop's time constant, starts at MINPOLL
	 * and comes back to it at a step; each association polls at s.poll clamped to its
	 * own minpoll..maxpoll (poll_update). A server's minpoll 6 is not the loop's. */
	if (d->p.algo == DSC_ALGO_RFC && d->p.minpoll_log2 > RFC_MINPOLL)
		d->p.minpoll_log2 = RFC_MINPOLL;
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

/* --- gnomon: a bank of Kalman filters, mixed by their likelihood --- */

/* The model (docs/discipline.md): x(t), the offset the unsteered clock would show, moves at
 * a rate r that takes a random walk (the oscillator's frequency wander, variance q per
 * second); each sample measures x with its own error sigma (from its delay). For a known
 * q the Kalman filter gives the best estimate of x and r from every sample so far, and
 * forgets old samples exactly as fast as the wander makes them stale. q is not known, so
 * the bank runs one filter per q (factors of 4 apart) and mixes them by how likely each
 * made the samples it predicted: the filters' running log-likelihood, with the scale of
 * the sigmas fitted too (only their ratios are trusted), over the last GN_SCORE_AVG
 * predictions. */
static double gn_q(unsigned m)
{
	return ldexp(GN_Q_MIN, 2 * (int)m); /* GN_Q_MIN * 4^m */
}

static void kf_start(struct dsc *d, double t_s, double x_s, double var, double rate)
{
	for (unsigned m = 0; m < DSC_NMODEL; m++) {
		struct dsc_kf *k = &d->kf[m];
		memset(k, 0, sizeof *k);
		k->x_s = x_s;
		k->rate = rate;
		k->pxx = var;
		k->prr = GN_RATE_PRIOR * GN_RATE_PRIOR;
		d->kf_w[m] = m == 0 ? 1.0 : 0.0;
	}
	d->kf_t_s = t_s;
	d->kf_n = 1;
	d->kf_scored = 0;
}

/* Predict every filter to t_s, score its prediction of the sample x_s (variance var),
 * and take the sample in. */
static void kf_update(struct dsc *d, double t_s, double x_s, double var)
{
	double dt = t_s - d->kf_t_s;
	/* samples of several sources may come a little out of order (their exchanges'
	 * midpoints): the state moves back exactly, but no wander is taken off */
	double dq = dt > 0 ? dt : 0;
	bool score = d->kf_n >= GN_SCORE_SKIP;
	double avg = d->kf_scored < GN_SCORE_AVG ? (double)(d->kf_scored + 1) : GN_SCORE_AVG;
	for (unsigned m = 0; m < DSC_NMODEL; m++) {
		struct dsc_kf *k = &d->kf[m];
		double q = gn_q(m);
		k->x_s += k->rate * dt;
		k->pxx += 2.0 * dt * k->pxr + dt * dt * k->prr + q * dq * dq * dq / 3.0;
		k->pxr += dt * k->prr + q * dq * dq / 2.0;
		k->prr += q * dq;
		double nu = x_s - k->x_s, s = k->pxx + var;
		if (score) {
			k->mean_ln_s += (log(s) - k->mean_ln_s) / avg;
			k->mean_nis += (nu * nu / s - k->mean_nis) / avg;
		}
		double kx = k->pxx / s, kr = k->pxr / s;
		k->x_s += kx * nu;
		k->rate += kr * nu;
		double pxx = k->pxx, pxr = k->pxr;
		k->pxx = pxx - kx * pxx;
		k->pxr = pxr - kx * pxr;
		k->prr -= kr * pxr;
		if (k->pxx < 0)
			k->pxx = 0;
		if (k->prr < 1e-40)
			k->prr = 1e-40;
	}
	if (score)
		d->kf_scored++;
	/* samples per poll interval (several sources, lost answers): a running mean of the
	 * gap between samples in units of the poll interval, leaving out the bursts' */
	double g = dt / ldexp(1.0, d->poll_log2);
	if (g > GN_GAP_BURST) {
		d->gap_polls = d->gap_polls > 0 ? d->gap_polls + (g - d->gap_polls) / GN_GAP_AVG : g;
	}
	d->kf_t_s = t_s;
	d->kf_n++;
	/* the mixture: weights from the profile log-likelihood over the scored predictions,
	 * -n/2 (mean ln S + ln mean nu^2/S); until there are enough, the slowest-forgetting
	 * filter alone (all samples, a plain weighted regression) */
	if (d->kf_scored < GN_SCORE_MIN) {
		for (unsigned m = 0; m < DSC_NMODEL; m++)
			d->kf_w[m] = m == 0 ? 1.0 : 0.0;
		return;
	}
	double sc[DSC_NMODEL], best = INFINITY, sum = 0;
	for (unsigned m = 0; m < DSC_NMODEL; m++) {
		const struct dsc_kf *k = &d->kf[m];
		sc[m] = k->mean_ln_s + log(k->mean_nis > 1e-300 ? k->mean_nis : 1e-300);
		if (sc[m] < best)
			best = sc[m];
	}
	double n = d->kf_scored < GN_SCORE_AVG ? (double)d->kf_scored : GN_SCORE_AVG;
	for (unsigned m = 0; m < DSC_NMODEL; m++) {
		d->kf_w[m] = exp(-0.5 * n * (sc[m] - best));
		sum += d->kf_w[m];
	}
	for (unsigned m = 0; m < DSC_NMODEL; m++)
		d->kf_w[m] /= sum;
}

static enum dsc_result gn_update(struct dsc *d, int64_t now_ns, int64_t t_ns, double offset_s,
				 double sigma_s, struct clk_adj *adj)
{
	u_advance(d, now_ns);
	if (sigma_s < 1e-9)
		sigma_s = 1e-9;
	double t_new = ns_to_s(t_ns - d->epoch_ns);
	double x_new = offset_s + u_at(d, t_ns);
	double var = sigma_s * sigma_s;
	if (d->kf_n == 0)
		kf_start(d, t_new, x_new, var, d->base_rate);
	else
		kf_update(d, t_new, x_new, var);

	/* the mixed estimate, at now */
	double now_s = ns_to_s(now_ns - d->epoch_ns);
	double dt = now_s - d->kf_t_s;
	double x_now = 0, rate = 0, pxx = 0, prr = 0, sig2 = 0;
	for (unsigned m = 0; m < DSC_NMODEL; m++) {
		const struct dsc_kf *k = &d->kf[m];
		double w = d->kf_w[m];
		if (w == 0)
			continue;
		x_now += w * (k->x_s + k->rate * dt);
		rate += w * k->rate;
		pxx += w * k->pxx;
		prr += w * k->prr;
		double c = k->mean_nis > 0 ? k->mean_nis : 1.0;
		sig2 += w * c * (k->pxx + 2.0 * dt * k->pxr + dt * dt * k->prr);
	}
	double theta_now = x_now - u_at(d, now_ns);
	d->fit_sigma_s = sqrt(sig2);
	d->mem_s = d->kf_n >= 2 && prr > 0 ? sqrt(3.0 * pxx / prr) : 0.0;
	double base = rate;
	if (base > MAXFREQ_S)
		base = MAXFREQ_S;
	if (base < -MAXFREQ_S)
		base = -MAXFREQ_S;
	if (d->kf_n >= 2) {
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
	/* U(t) counts the slew on the monotonic clock, which may itself run at the
	 * disciplined rate (Linux's CLOCK_MONOTONIC is slewed with the clock): then what the
	 * slew really did differs from what U counts by up to the slew's rate times its size
	 * (8 ms of the initial 0.1 s at 8 %). The filters take that as phase uncertainty;
	 * for ordinary slews (microseconds at ppm rates) it is nothing. */
	double slew_unc = theta_now * theta_now / tau;
	for (unsigned m = 0; m < DSC_NMODEL; m++)
		d->kf[m].pxx += slew_unc * slew_unc;

	/* poll: the filters' averaging time (mem_s) is how long the oscillator stays
	 * predictable at this noise (about its Allan intercept). Poll less often while that
	 * time would still hold GN_POLL_TARGET samples at the longer interval, more often
	 * when it holds fewer than that at the present one. (A sample comes every
	 * gap_polls poll intervals: about 1 with one source, 1/2 with two.) */
	double pollt = ldexp(1.0, d->poll_log2) * (d->gap_polls > 0 ? d->gap_polls : 1.0);
	bool known = d->kf_scored >= GN_SCORE_MIN;
	if (known && d->mem_s < GN_POLL_TARGET * pollt) {
		if (--d->poll_count <= -GN_POLL_DOWN) {
			d->poll_count = 0;
			if (d->poll_log2 > d->p.minpoll_log2)
				d->poll_log2--;
		}
	} else if (known && d->mem_s >= GN_POLL_TARGET * 2.0 * pollt) {
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
	/* clock jitter: RMS of the exponentially weighted differences from the last offset
	 * the loop took (c.last), at least the precision (RFC 5905 A.5.5.1); only offsets
	 * within the step threshold count, and c.last moves only when the loop takes one */
	if (d->rfc_have_last) {
		double dd = fmax(fabs(offset_s - d->rfc_last_s), d->p.precision_s);
		d->jitter_s = sqrt(d->jitter_s * d->jitter_s + (dd * dd - d->jitter_s * d->jitter_s) / RFC_AVG);
	}
	switch (d->state) {
	case ST_NSET:
	case ST_FSET:
		d->offset_s = offset_s;
		d->rfc_last_s = offset_s;
		d->rfc_have_last = true;
		d->state = d->p.have_drift ? ST_SYNC : ST_FREQ;
		d->last_t_ns = t_ns;
		return DSC_SLEWED;
	case ST_FREQ:
		/* RFC 5905 A.5.5.1 waits "c.t - s.t < WATCH" (to now) but divides by mu (to
		 * this sample): with the filter's pick up to eight polls old, mu can be a
		 * few seconds when now - s.t passes the stepout, and the measurement is
		 * noise over seconds (-162 ppm in `wan`). The span measured must be the
		 * stepout itself. */
		if (mu < d->p.stepout_s)
			return DSC_IGNORED;
		/* direct frequency measurement: what is left after the slew is the drift.
		 * RFC 5905 A.5.5.1 sets the frequency and stops there ("break"): the PLL
		 * starts with the next update. (It used to fall through into the PLL, which
		 * integrated the whole initial offset at once: -0.1 ppm from a 0.1 s start.) */
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
	d->rfc_last_s = offset_s;
	d->rfc_have_last = true;
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
	d->kf_n = 0;
	d->kf_scored = 0;
	d->mem_s = 0;
}

enum dsc_result dsc_update(struct dsc *d, int64_t now_ns, int64_t t_ns, double offset_s,
			   double sigma_s, struct clk_adj *adj, int64_t *step_ns)
{
	REQUIRE(now_ns >= t_ns);
	bool rfc = d->p.algo == DSC_ALGO_RFC;
	/* RFC 5905 A.5.5.4 clock_update: "if this is an old update, for instance as the
	 * result of a system peer change, avoid it" (s.t >= p->t). The new system peer's pick
	 * can be older than the last update: its mu would be negative, and the PLL would
	 * integrate its offset backwards, the FREQ state divide by it. */
	if (rfc && d->last_t_ns != 0 && t_ns <= d->last_t_ns)
		return DSC_IGNORED;
	double mu = d->last_t_ns != 0 ? ns_to_s(t_ns - d->last_t_ns) : 0.0;
	/* jitter (exponential average of offset differences); the RFC loop keeps its own,
	 * as local_clock does (rfc_update) */
	if (d->updates > 0 && !rfc) {
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
			/* RFC 5905 A.5.6.1: the frequency is measured before the step, or the
			 * reference loop would start its PLL with no idea of the drift */
			if (d->p.algo == DSC_ALGO_RFC) {
				d->freq_rfc += (offset_s - d->offset_s) / mu;
				d->freq_rfc = fmax(-MAXFREQ_S, fmin(MAXFREQ_S, d->freq_rfc));
				d->base_rate = d->freq_rfc;
			}
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
		d->rfc_last_s = 0.0;
		if (d->p.algo == DSC_ALGO_RFC) { /* step_time(); c.count = 0; s.poll = MINPOLL */
			d->poll_count = 0;
			d->poll_log2 = d->p.minpoll_log2;
		}
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

	if (rfc) {
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
	/* RFC loop in its FREQ state: the frequency is to be measured against the residual
	 * being dropped here, (offset - c.offset) / mu. With c.offset zeroed the next update
	 * would take the whole offset for drift (0.1 s over 300 s: 330 ppm). The measurement
	 * starts again from the next update instead (NSET). */
	if (d->p.algo == DSC_ALGO_RFC && d->state == ST_FREQ)
		d->state = ST_NSET;
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
