/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cls: clustering (RFC 5905 §11.2.2). Repeatedly discard the survivor of largest
 * selection jitter (phi: RMS of its offset against the others) while that is larger than
 * the smallest peer jitter (psi) and more than minclock survive. Pure.
 */
#include "cls.h"

#include <math.h>

#include "gn_assert.h"

static double metric(const struct sel_cand *c)
{
	return c->stratum * CLS_MAXDIST_S + c->rootdist_s;
}

static double sel_jitter(const struct sel_cand *c, unsigned n, unsigned i)
{
	if (n < 2)
		return 0.0;
	double s = 0.0;
	for (unsigned j = 0; j < n; j++) {
		double d = c[j].offset_s - c[i].offset_s;
		s += d * d;
	}
	return sqrt(s / (double)(n - 1));
}

unsigned cls_cluster(struct sel_cand *c, unsigned n, unsigned minclock, unsigned maxclock,
		     double *sel_jitter_s)
{
	REQUIRE(n <= SEL_MAX_CAND);
	/* sort by metric */
	for (unsigned i = 1; i < n; i++) {
		struct sel_cand k = c[i];
		unsigned j = i;
		while (j > 0 && metric(&c[j - 1]) > metric(&k)) {
			c[j] = c[j - 1];
			j--;
		}
		c[j] = k;
	}
	if (maxclock > 0 && n > maxclock)
		n = maxclock;
	if (minclock < 1)
		minclock = 1;
	for (;;) {
		if (n <= minclock)
			break;
		double max_phi = -1.0, min_psi = INFINITY;
		unsigned imax = 0;
		for (unsigned i = 0; i < n; i++) {
			double phi = sel_jitter(c, n, i);
			if (phi > max_phi) {
				max_phi = phi;
				imax = i;
			}
			if (c[i].jitter_s < min_psi)
				min_psi = c[i].jitter_s;
		}
		if (max_phi < min_psi)
			break;
		for (unsigned i = imax; i + 1 < n; i++)
			c[i] = c[i + 1];
		n--;
	}
	*sel_jitter_s = n > 0 ? sel_jitter(c, n, 0) : 0.0;
	return n;
}

unsigned cls_pick_sys_peer(const struct sel_cand *c, unsigned n, bool has_prev, unsigned prev_ref)
{
	REQUIRE(n > 0);
	for (unsigned i = 0; i < n; i++)
		if (c[i].prefer)
			return i;
	if (has_prev)
		for (unsigned i = 0; i < n; i++)
			if (c[i].ref == prev_ref && c[i].stratum <= c[0].stratum)
				return i;
	return 0;
}
