/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cls: the clustering algorithm (RFC 5905 §11.2.2, Appendix A.5.5.3) and the choice of the
 * system peer with prefer and hysteresis. Input: the truechimers from sel. Output: the
 * survivors, best first, and which one is the system peer.
 * Pure; no allocation. Does not own the candidates' meaning (eng does).
 */
#ifndef CLS_H
#define CLS_H

#include <stdbool.h>

#include "sel.h"

#define CLS_NMIN 3              /* RFC 5905 §7.2 MINCLOCK: survivors kept at least */
#define CLS_MAXDIST_S 1.5       /* RFC 5905 §7.2 MAXDIST: weight of one stratum in the metric */

/* Reduce c[0..n) (all truechimers) in place to the survivors, sorted best first by
 * metric stratum * MAXDIST + root distance (RFC 5905 A.5.5.2). minclock: survivors kept
 * at least (tos minclock); maxclock: at most. *sel_jitter_s receives the selection jitter
 * of the system peer. Returns the survivor count. */
unsigned cls_cluster(struct sel_cand *c, unsigned n, unsigned minclock, unsigned maxclock,
		     double *sel_jitter_s);

/* The system peer among survivors: the prefer peer if it survived; else the previous
 * system peer (ref prev_ref, when has_prev) if it survived (hysteresis); else the first.
 * Returns the index into c. n must be > 0. */
unsigned cls_pick_sys_peer(const struct sel_cand *c, unsigned n, bool has_prev, unsigned prev_ref);

#endif
