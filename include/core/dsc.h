/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dsc: the clock discipline. Turns the offsets the selection keeps into clock actions
 * (struct clk_adj: frequency plus, for fast slews, tick; or a step), with the step, stepout
 * and panic rules of RFC 5905 §11.3 and the poll interval it recommends.
 *
 * Two algorithms behind one interface (docs/discipline.md explains the choice):
 *   DSC_ALGO_GNOMON (default): phase and frequency estimated from every sample, each
 *     weighted by how far its delay exceeds the least delay seen, by a bank of Kalman
 *     filters, one per assumed rate of the oscillator's frequency wander (a random walk);
 *     the filters are mixed by how well each has lately predicted the new samples (their
 *     likelihood), so the averaging time follows the oscillator without hard windows.
 *     The estimated offset is slewed away fast (tick up to 8 %), the frequency set
 *     directly. Every adjustment the engine made is integrated (U(t)), so samples stay
 *     comparable whatever was done to the clock in between.
 *   DSC_ALGO_RFC: the hybrid PLL/FLL of RFC 5905 §11.3 and Appendix A.5.6 (local_clock,
 *     clock_adjust once a second, the poll-adjust rule), kept as the reference.
 *
 * Owns: its filter bank and the record of what it told the clock. Pure, no allocation.
 * Does not own: the kernel (the caller executes the clk_adj), choosing sources.
 */
#ifndef DSC_H
#define DSC_H

#include <stdbool.h>
#include <stdint.h>

#include "clk.h"

#define DSC_STEPT_S 0.128       /* RFC 5905 §11.3 STEPT: step threshold */
#define DSC_WATCH_S 300.0       /* stepout (ntpd's default; RFC 5905 WATCH is 900) */
#define DSC_PANICT_S 1000.0     /* RFC 5905 §11.3 PANICT */
#define DSC_MAX_SLEW 0.08       /* fastest slew, fraction (tick within Linux's ±10 %) */
#define DSC_NMODEL 21           /* wander rates assumed: 1e-24 * 4^k s^-1, k = 0..20 */

enum dsc_algo { DSC_ALGO_GNOMON = 0, DSC_ALGO_RFC = 1 };

struct dsc_params {
	enum dsc_algo algo;
	double step_s;          /* tinker step (0 = never step) */
	double stepout_s;       /* tinker stepout */
	double panic_s;         /* tinker panic (0 = no check) */
	bool allow_first_panic; /* -g */
	bool have_drift;
	double drift_ppm;
	double precision_s;
	int minpoll_log2, maxpoll_log2;
};

enum dsc_result {
	DSC_IGNORED,    /* sample held back (spike inside stepout, FREQ wait) */
	DSC_SLEWED,     /* adj holds the new frequency/tick */
	DSC_STEPPED,    /* *step_ns holds a step; adj the frequency to run at after it */
	DSC_PANIC,      /* offset beyond the panic threshold: the caller stops following */
};

/* One Kalman filter of the bank: the state is x, the offset the unsteered clock would
 * show (offset + U(t)), and its rate, at the time of the last sample (dsc.kf_t_s). */
struct dsc_kf {
	double x_s, rate;       /* phase (s) and frequency (s/s) */
	double pxx, pxr, prr;   /* their covariance (s^2, s, 1), in the samples' sigma scale */
	double mean_ln_s;       /* running mean of ln S (S: the predicted innovation variance) */
	double mean_nis;        /* running mean of nu^2 / S (normalised innovation squared) */
};

struct dsc {
	struct dsc_params p;
	int64_t epoch_ns;       /* monotonic time of init */
	/* the control: clock rate relative to the oscillator = freq + tick; U = its integral */
	double u_rate;          /* current commanded rate (s/s), as the kernel applies it */
	double u_int_s;         /* U at u_t_ns */
	int64_t u_t_ns;
	double base_rate;       /* frequency correction (s/s) without the slew part */
	double p_rate, p_int_s; /* the slew part alone (rate - base_rate) and its integral P */
	int64_t slew_end_ns;    /* 0 = none */
	/* gnomon algorithm: the bank of filters, one per assumed wander rate */
	struct dsc_kf kf[DSC_NMODEL];
	double kf_t_s;          /* time of their state, seconds since dsc_init */
	unsigned kf_n;          /* samples since the last reset (0: the bank is empty) */
	unsigned kf_scored;     /* predictions scored since the last reset */
	double kf_w[DSC_NMODEL]; /* the mixture's weights at the last update */
	double fit_sigma_s;     /* estimated error of the offset prediction */
	double mem_s;           /* the estimate's averaging time, s: sqrt(3 var(x) / var(rate)) */
	double gap_polls;       /* mean spacing of the samples, in poll intervals (0: none yet) */
	int poll_count;
	/* shared state (RFC names) */
	int state;              /* NSET, FSET, SPIK, FREQ, SYNC (RFC 5905 A.5.6) */
	bool first_done;        /* a first correction was made (panic -g) */
	int64_t spike_t_ns;     /* start of SPIK state */
	int64_t last_t_ns;      /* time of the last update (RFC c.t) */
	double offset_s;        /* last offset (RFC c.offset: residual to slew in RFC algo) */
	double last_offset_s;   /* last measured offset */
	double jitter_s, wander_ppm;
	double freq_rfc;        /* RFC frequency (s/s) */
	double rfc_last_s;      /* RFC c.last: the last offset the loop took (jitter) */
	bool rfc_have_last;
	int poll_log2;
	int64_t next_sec_ns;    /* RFC clock_adjust tick, 0 = off */
	uint64_t updates, steps;
};

/* Initialise; *adj receives the first kernel setting (frequency from the drift file,
 * tick nominal, STA_PLL off). */
void dsc_init(struct dsc *d, const struct dsc_params *p, int64_t now_ns, struct clk_adj *adj);

/* One measurement: offset_s (theta) of the clock measured at monotonic t_ns with error
 * estimate sigma_s. now_ns ≥ t_ns. */
enum dsc_result dsc_update(struct dsc *d, int64_t now_ns, int64_t t_ns, double offset_s,
			   double sigma_s, struct clk_adj *adj, int64_t *step_ns);

/* Monotonic time of the next dsc_on_timer (end of a slew, RFC once-a-second), or INT64_MAX. */
int64_t dsc_next_deadline(const struct dsc *d);
/* Returns true with *adj to apply. */
bool dsc_on_timer(struct dsc *d, int64_t now_ns, struct clk_adj *adj);
/* The clock was stepped by delta_ns (stored samples shift). */
void dsc_stepped(struct dsc *d, int64_t delta_ns);
/* Forget the samples and stop slewing (sync lost, panic): keep the frequency. *adj set. */
void dsc_hold(struct dsc *d, int64_t now_ns, struct clk_adj *adj);

/* P(t): the integral of the phase corrections applied (slews beyond the frequency
 * correction, and steps), seconds, at monotonic t_ns (near the present). offset + P(t) is
 * the offset the clock would show had it only been corrected in frequency: offsets taken
 * at different times stay comparable through it (the engine's clock filters keep their
 * stages in that form). */
double dsc_steer_s(const struct dsc *d, int64_t t_ns);

double dsc_freq_ppm(const struct dsc *d);   /* frequency correction in use */
double dsc_offset_s(const struct dsc *d);   /* last offset */
int dsc_poll_log2(const struct dsc *d);     /* poll interval recommended */

#endif
