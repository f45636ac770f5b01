/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sel: intersection (RFC 5905 §11.2.1). For f = 0, 1, ... while 2f < m: scan the sorted
 * endpoints from below counting intervals entered (c), and stop at the first endpoint where
 * c >= m - f, counting midpoints passed (d); the same from above. If d > f or the ends
 * cross, assume one more falseticker. Pure; no allocation.
 */
#include "sel.h"

#include <string.h>

#include "gn_assert.h"

struct edge {
	double val;
	int type; /* -1 lower endpoint, 0 midpoint, +1 upper endpoint (RFC 5905 A.5.5.1) */
};

static void sort_edges(struct edge *e, unsigned n)
{
	for (unsigned i = 1; i < n; i++) { /* insertion sort: n <= 3 * SEL_MAX_CAND */
		struct edge k = e[i];
		unsigned j = i;
		while (j > 0 && (e[j - 1].val > k.val || (e[j - 1].val == k.val && e[j - 1].type > k.type))) {
			e[j] = e[j - 1];
			j--;
		}
		e[j] = k;
	}
}

unsigned sel_intersect(struct sel_cand *c, unsigned n, double *lo, double *hi)
{
	REQUIRE(n <= SEL_MAX_CAND);
	struct edge e[3 * SEL_MAX_CAND];
	unsigned ne = 0;
	for (unsigned i = 0; i < n; i++) {
		c[i].truechimer = false;
		e[ne++] = (struct edge){ c[i].offset_s - c[i].rootdist_s, -1 };
		e[ne++] = (struct edge){ c[i].offset_s, 0 };
		e[ne++] = (struct edge){ c[i].offset_s + c[i].rootdist_s, +1 };
	}
	if (n == 0)
		return 0;
	sort_edges(e, ne);

	double low = 0.0, high = 0.0;
	bool ok = false;
	for (unsigned allow = 0; 2 * allow < n; allow++) {
		unsigned found = 0;
		int chime = 0;
		bool got_low = false, got_high = false;
		for (unsigned i = 0; i < ne; i++) {
			chime -= e[i].type;
			if (chime >= (int)(n - allow)) {
				low = e[i].val;
				got_low = true;
				break;
			}
			if (e[i].type == 0)
				found++;
		}
		chime = 0;
		for (unsigned i = ne; i-- > 0;) {
			chime += e[i].type;
			if (chime >= (int)(n - allow)) {
				high = e[i].val;
				got_high = true;
				break;
			}
			if (e[i].type == 0)
				found++;
		}
		if (!got_low || !got_high || found > allow)
			continue;
		if (low <= high) {
			ok = true;
			break;
		}
	}
	if (!ok)
		return 0;
	/* Truechimers: candidates whose correctness interval meets the intersection. */
	unsigned t = 0;
	for (unsigned i = 0; i < n; i++) {
		if (c[i].offset_s + c[i].rootdist_s >= low && c[i].offset_s - c[i].rootdist_s <= high) {
			c[i].truechimer = true;
			t++;
		}
	}
	*lo = low;
	*hi = high;
	return t;
}
