/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_cls: clustering (RFC 5905 §11.2.2): the outlier of largest selection jitter goes
 * while it exceeds the smallest peer jitter and more than minclock remain; order by
 * stratum then distance; maxclock; the system peer with prefer and hysteresis.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cls.h"

static struct sel_cand cand(double off, double dist, double jit, uint8_t st, unsigned ref)
{
	struct sel_cand c = { .offset_s = off, .rootdist_s = dist, .jitter_s = jit, .stratum = st,
			      .truechimer = true, .ref = ref };
	return c;
}

static void test_outlier_discarded(void **state)
{
	(void)state;
	struct sel_cand c[5] = {
		cand(0.0000, 0.01, 0.0001, 2, 0), cand(0.0001, 0.01, 0.0001, 2, 1),
		cand(-0.0001, 0.01, 0.0001, 2, 2), cand(0.0002, 0.01, 0.0001, 2, 3),
		cand(0.0050, 0.01, 0.0001, 2, 4), /* 5 ms away from the rest */
	};
	double sj;
	unsigned n = cls_cluster(c, 5, 3, 10, &sj);
	for (unsigned i = 0; i < n; i++)
		assert_int_not_equal(c[i].ref, 4);
	assert_true(n >= 3 && n < 5);
	assert_true(sj < 0.001);
}

static void test_stops_at_minclock(void **state)
{
	(void)state;
	struct sel_cand c[4] = { cand(0, 0.01, 1e-6, 1, 0), cand(0.01, 0.01, 1e-6, 1, 1),
				 cand(0.02, 0.01, 1e-6, 1, 2), cand(0.03, 0.01, 1e-6, 1, 3) };
	double sj;
	assert_int_equal(cls_cluster(c, 4, 3, 10, &sj), 3);
	assert_int_equal(cls_cluster(c, 3, 3, 10, &sj), 3);
}

static void test_stops_when_jitter_dominates(void **state)
{
	(void)state;
	/* offsets spread less than the peers' own jitter: nobody goes */
	struct sel_cand c[5] = { cand(0, 0.01, 0.01, 1, 0), cand(0.001, 0.01, 0.01, 1, 1),
				 cand(0.002, 0.01, 0.01, 1, 2), cand(-0.001, 0.01, 0.01, 1, 3),
				 cand(0.0005, 0.01, 0.01, 1, 4) };
	double sj;
	assert_int_equal(cls_cluster(c, 5, 3, 10, &sj), 5);
}

static void test_order_and_maxclock(void **state)
{
	(void)state;
	struct sel_cand c[4] = { cand(0, 0.05, 0.01, 3, 0), cand(0, 0.01, 0.01, 2, 1),
				 cand(0, 0.02, 0.01, 2, 2), cand(0, 0.5, 0.01, 1, 3) };
	double sj;
	assert_int_equal(cls_cluster(c, 4, 1, 3, &sj), 3);
	/* metric = stratum * MAXDIST + root distance */
	assert_int_equal(c[0].ref, 3);
	assert_int_equal(c[1].ref, 1);
	assert_int_equal(c[2].ref, 2);
}

static void test_sys_peer_prefer_and_hysteresis(void **state)
{
	(void)state;
	struct sel_cand c[3] = { cand(0, 0.01, 0.01, 1, 7), cand(0, 0.02, 0.01, 1, 8), cand(0, 0.03, 0.01, 1, 9) };
	assert_int_equal(cls_pick_sys_peer(c, 3, false, 0), 0);
	/* the previous system peer stays while it survives */
	assert_int_equal(cls_pick_sys_peer(c, 3, true, 9), 2);
	assert_int_equal(cls_pick_sys_peer(c, 3, true, 5), 0);
	/* but not over a better stratum */
	struct sel_cand d[2] = { cand(0, 0.01, 0.01, 1, 7), cand(0, 0.02, 0.01, 2, 8) };
	assert_int_equal(cls_pick_sys_peer(d, 2, true, 8), 0);
	/* prefer wins */
	c[1].prefer = true;
	assert_int_equal(cls_pick_sys_peer(c, 3, true, 9), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outlier_discarded),
		cmocka_unit_test(test_stops_at_minclock),
		cmocka_unit_test(test_stops_when_jitter_dominates),
		cmocka_unit_test(test_order_and_maxclock),
		cmocka_unit_test(test_sys_peer_prefer_and_hysteresis),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
