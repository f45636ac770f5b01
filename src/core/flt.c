/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flt: the clock filter (RFC 5905 §10 and Appendix A.5.2). Eight stages; the stage of
 * least delay is the peer's sample; dispersion is the weighted sum of the stage
 * dispersions; jitter the RMS of the offset differences to the chosen one; a sample that
 * jumps by more than SGATE jitters within two poll intervals is held back as a popcorn
 * spike. Besides, the least delay of the last 64 samples, block by block (the discipline
 * weighs samples by their delay above it). Owns no clock and no I/O.
 */
#include "flt.h"

#include <math.h>
#include <string.h>

#include "gn_assert.h"

void flt_init(struct flt *f)
{
	memset(f, 0, sizeof *f);
}

void flt_clear(struct flt *f)
{
	uint64_t pop = f->popcorn;
	memset(f, 0, sizeof *f);
	f->popcorn = pop;
}

static double stage_disp(const struct flt_stage *s, int64_t now_ns)
{
	if (!s->valid)
		return FLT_MAXDISP_S;
	double d = s->disp_s + FLT_PHI_S_PER_S * (double)(now_ns - s->t_ns) / 1e9;
	return d > FLT_MAXDISP_S ? FLT_MAXDISP_S : d;
}

bool flt_add(struct flt *f, double offset_s, double delay_s, double disp_s, int64_t t_ns,
	     int64_t now_ns, double precision_s, int sys_poll_log2)
{
	/* Shift the register (RFC 5905 A.5.2: f[i] = f[i-1]) and put the new sample first. */
	memmove(&f->st[1], &f->st[0], sizeof f->st[0] * (FLT_NSTAGE - 1));
	f->st[0] = (struct flt_stage){ offset_s, delay_s, disp_s, t_ns, true };
	/* the longer record of the least delay, block by block */
	if (f->blk_fill == 0 || delay_s < f->blk_cur_s)
		f->blk_cur_s = delay_s;
	if (++f->blk_fill == FLT_NSTAGE) {
		f->blk_min_s[f->blk_next] = f->blk_cur_s;
		f->blk_next = (f->blk_next + 1) % FLT_NBLOCK;
		if (f->blk_n < FLT_NBLOCK)
			f->blk_n++;
		f->blk_fill = 0;
	}

	/* Sort the stages by delay (invalid ones last): indices only, 8 elements. */
	unsigned idx[FLT_NSTAGE];
	double dl[FLT_NSTAGE];
	unsigned n = 0;
	for (unsigned i = 0; i < FLT_NSTAGE; i++) {
		idx[i] = i;
		dl[i] = f->st[i].valid ? f->st[i].delay_s : INFINITY;
	}
	for (unsigned i = 1; i < FLT_NSTAGE; i++) { /* insertion sort, stable */
		unsigned k = idx[i];
		unsigned j = i;
		while (j > 0 && dl[idx[j - 1]] > dl[k]) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = k;
	}
	for (unsigned i = 0; i < FLT_NSTAGE; i++)
		if (f->st[i].valid)
			n++;
	INSIST(n >= 1);

	/* Peer dispersion epsilon = sum of disp_i / 2^(i+1) over the sorted stages; jitter psi
	 * = RMS of (offset_i - offset_0) over the valid stages (RFC 5905 §10, A.5.2). */
	const struct flt_stage *best = &f->st[idx[0]];
	double eps = 0.0, jit = 0.0;
	for (int i = FLT_NSTAGE - 1; i >= 0; i--)
		eps = (eps + stage_disp(&f->st[idx[i]], now_ns)) / 2.0;
	double epsv = 0.0;
	for (int i = (int)n - 1; i >= 0; i--)
		epsv = (epsv + stage_disp(&f->st[idx[i]], now_ns)) / 2.0;
	f->disp_valid_s = epsv;
	for (unsigned i = 1; i < n; i++) {
		double d = f->st[idx[i]].offset_s - best->offset_s;
		jit += d * d;
	}
	jit = n > 1 ? sqrt(jit / (double)(n - 1)) : 0.0;
	if (jit < precision_s)
		jit = precision_s;

	/* Only a sample newer than the last one used goes on (RFC 5905 A.5.2 "if (f[0].t
	 * <= p->t) return"). */
	if (f->have && best->t_ns <= f->t_ns) {
		f->disp_s = eps;
		f->jitter_s = jit;
		return false;
	}
	/* Popcorn spike suppressor: a jump above SGATE * jitter within two system poll
	 * intervals of the last update is held back (RFC 5905 A.5.2). The jitter is the one
	 * known before this sample, so that the spike does not widen its own gate; it is
	 * trusted once it came from at least three stages. */
	double old_jit = f->have ? f->jitter_s : jit;
	if (f->have && n >= 4 && fabs(best->offset_s - f->offset_s) > FLT_SGATE * old_jit &&
	    (double)(best->t_ns - f->t_ns) / 1e9 < 2.0 * ldexp(1.0, sys_poll_log2)) {
		f->popcorn++;
		f->disp_s = eps;
		f->jitter_s = jit;
		return false;
	}
	f->offset_s = best->offset_s;
	f->delay_s = best->delay_s;
	f->disp_s = eps;
	f->jitter_s = jit;
	f->t_ns = best->t_ns;
	f->have = true;
	return true;
}

double flt_disp_now(const struct flt *f, int64_t now_ns)
{
	if (!f->have)
		return FLT_MAXDISP_S;
	double d = f->disp_s + FLT_PHI_S_PER_S * (double)(now_ns - f->t_ns) / 1e9;
	return d > FLT_MAXDISP_S ? FLT_MAXDISP_S : d;
}

double flt_disp_valid_now(const struct flt *f, int64_t now_ns)
{
	if (!f->have)
		return FLT_MAXDISP_S;
	double d = f->disp_valid_s + FLT_PHI_S_PER_S * (double)(now_ns - f->t_ns) / 1e9;
	return d > FLT_MAXDISP_S ? FLT_MAXDISP_S : d;
}

double flt_min_delay(const struct flt *f)
{
	double m = 0.0;
	bool any = false;
	for (unsigned i = 0; i < FLT_NSTAGE; i++)
		if (f->st[i].valid && (!any || f->st[i].delay_s < m)) {
			m = f->st[i].delay_s;
			any = true;
		}
	return m;
}

double flt_min_delay_long(const struct flt *f)
{
	double m = INFINITY;
	for (unsigned i = 0; i < FLT_NSTAGE; i++)
		if (f->st[i].valid && f->st[i].delay_s < m)
			m = f->st[i].delay_s;
	for (unsigned i = 0; i < f->blk_n; i++)
		if (f->blk_min_s[i] < m)
			m = f->blk_min_s[i];
	return isinf(m) ? 0.0 : m;
}

void flt_stepped(struct flt *f, int64_t delta_ns)
{
	double d = (double)delta_ns / 1e9;
	for (unsigned i = 0; i < FLT_NSTAGE; i++)
		f->st[i].offset_s -= d;
	f->offset_s -= d;
}
