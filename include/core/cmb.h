/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmb: the combining algorithm (RFC 5905 §11.2.3, Appendix A.5.5.5): the system offset as
 * the average of the survivors' offsets weighted by the reciprocal of their root
 * distance, and the system jitter. Pure.
 */
#ifndef CMB_H
#define CMB_H

#include "sel.h"

struct cmb_result {
	double offset_s;        /* Theta */
	double jitter_s;        /* Psi: sqrt(peer jitter^2 + selection jitter^2) */
};

/* c[0..n) are the survivors; c[sys] the system peer. */
void cmb_combine(const struct sel_cand *c, unsigned n, unsigned sys, struct cmb_result *out);

#endif
