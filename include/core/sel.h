/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sel: the selection algorithm's intersection step (RFC 5905 §11.2.1, Appendix A.5.5.1),
 * a variant of Marzullo's algorithm. Given candidates, each with an offset (theta) and a
 * root distance (lambda) making the correctness interval [theta - lambda, theta + lambda],
 * find the largest agreeing majority and mark the others falsetickers.
 *
 * Owns: the candidate record shared by sel, cls and cmb. Pure, no allocation.
 * Does not own: which associations are candidates (eng/asc: reach, stratum, loops,
 * maxdist, noselect are tested before).
 */
#ifndef SEL_H
#define SEL_H

#include <stdbool.h>
#include <stdint.h>

#define SEL_MAX_CAND 64

struct sel_cand {
	double offset_s;        /* theta */
	double rootdist_s;      /* lambda: root distance (RFC 5905 §11.2 root_dist) */
	double jitter_s;        /* psi: the peer jitter */
	uint8_t stratum;
	bool prefer;
	bool truechimer;        /* out: set by sel_intersect */
	unsigned ref;           /* caller's reference (association index) */
};

/* RFC 5905 §11.2.1. Marks c[i].truechimer. Returns the number of truechimers, or 0 when
 * no majority exists (more than half falsetickers); then every truechimer flag is false.
 * *lo and *hi receive the intersection interval when it exists. */
unsigned sel_intersect(struct sel_cand *c, unsigned n, double *lo, double *hi);

#endif
