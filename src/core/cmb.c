/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmb: combining (RFC 5905 §11.2.3). Weights are 1 / root distance; the selection jitter
 * is the weighted RMS of the offset differences to the system peer, and the system jitter
 * combines it with the system peer's jitter. Pure.
 */
#include "cmb.h"

#include <math.h>

#include "gn_assert.h"

void cmb_combine(const struct sel_cand *c, unsigned n, unsigned sys, struct cmb_result *out)
{
	REQUIRE(n > 0 && sys < n);
	double y = 0.0, z = 0.0, w = 0.0;
	for (unsigned i = 0; i < n; i++) {
		double d = c[i].rootdist_s > 1e-9 ? c[i].rootdist_s : 1e-9;
		double x = 1.0 / d;
		y += x;
		z += x * c[i].offset_s;
		double e = c[i].offset_s - c[sys].offset_s;
		w += x * e * e;
	}
	out->offset_s = z / y;
	out->jitter_s = sqrt(c[sys].jitter_s * c[sys].jitter_s + w / y);
}
