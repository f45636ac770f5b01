/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flt: the clock filter of one association (RFC 5905 §10, Appendix A.5.2 clock_filter).
 *
 * Owns: the 8-stage shift register of (offset, delay, dispersion, time) samples, the
 * minimum-delay choice, the peer dispersion (epsilon) and jitter (psi), the popcorn
 * spike suppressor, and the least delay of the last 64 samples (the discipline's sample
 * weights). Pure: time comes in as monotonic nanoseconds.
 * Does not own: deciding what to do with the filtered sample (selection, discipline).
 */
#ifndef FLT_H
#define FLT_H

#include <stdbool.h>
#include <stdint.h>

#define FLT_NSTAGE 8          /* RFC 5905 §7.2 NSTAGE */
#define FLT_MAXDISP_S 16.0    /* RFC 5905 §7.2 MAXDISP */
#define FLT_PHI_S_PER_S 15e-6 /* RFC 5905 §7.2 PHI: frequency tolerance, 15 ppm */
#define FLT_SGATE 3.0         /* RFC 5905 §7.2 SGATE: spike gate */
#define FLT_NBLOCK 8          /* blocks of FLT_NSTAGE samples whose least delay is kept:
                               * the least delay of the last 64 samples */

struct flt_stage {
	double offset_s;      /* theta */
	double delay_s;       /* delta */
	double disp_s;        /* epsilon at t_ns */
	int64_t t_ns;         /* monotonic time of the sample */
	bool valid;
};

struct flt {
	struct flt_stage st[FLT_NSTAGE]; /* st[0] newest */
	/* peer variables from the last sample the filter passed on */
	double offset_s, delay_s, disp_s, jitter_s;
	double disp_valid_s;  /* epsilon over the filled stages only (empty stages not counted
	                       * at MAXDISP): lets one good sample make a source selectable */
	int64_t t_ns;         /* time of that sample (RFC p.t); 0 = none yet */
	bool have;
	uint64_t popcorn;     /* samples held back by the spike suppressor */
	/* the least delay over a longer past than the eight stages: blk_min_s[] holds the
	 * least delay of each of the last FLT_NBLOCK full blocks of FLT_NSTAGE samples,
	 * blk_cur_s that of the block being filled (blk_fill samples so far) */
	double blk_min_s[FLT_NBLOCK];
	double blk_cur_s;
	unsigned blk_n, blk_next, blk_fill;
};

void flt_init(struct flt *f);
/* Empty the register (after a step, or demobilisation), keeping the counters. */
void flt_clear(struct flt *f);

/* RFC 5905 clock_filter: shift in one sample taken at t_ns (its dispersion disp_s at that
 * time). now_ns is the present. sys_poll_log2 bounds the popcorn suppressor's window.
 * Returns true when a new sample passes to the peer variables (offset_s ...), false when
 * the filter keeps the old ones (older sample chosen, or popcorn spike). */
bool flt_add(struct flt *f, double offset_s, double delay_s, double disp_s, int64_t t_ns,
	     int64_t now_ns, double precision_s, int sys_poll_log2);

/* The peer dispersion (epsilon) grown to now_ns at PHI. */
double flt_disp_now(const struct flt *f, int64_t now_ns);
/* The same over the filled stages only. */
double flt_disp_valid_now(const struct flt *f, int64_t now_ns);
/* Minimum delay of the valid stages (0 if none). */
double flt_min_delay(const struct flt *f);
/* Minimum delay of the last FLT_NBLOCK * FLT_NSTAGE samples (the stages' too; 0 if none):
 * closer to the path's true minimum than eight samples can be, so a sample's delay
 * excess over it bounds its error (half the excess) more reliably. */
double flt_min_delay_long(const struct flt *f);
/* Shift every stored time by delta_ns (a step of the monotonic base never happens; kept
 * for completeness) and every offset by -delta after a step of the clock by delta_ns. */
void flt_stepped(struct flt *f, int64_t delta_ns);

#endif
