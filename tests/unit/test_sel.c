/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sel: the intersection algorithm (RFC 5905 §11.2.1) on the situations it is meant
 * for: agreement, one falseticker among three, two falsetickers among five on both sides,
 * no majority, Marzullo's textbook example, and a single source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sel.h"

static struct sel_cand cand(double off, double dist, unsigned ref)
{
	struct sel_cand c = { .offset_s = off, .rootdist_s = dist, .jitter_s = 0.001, .stratum = 1, .ref = ref };
	return c;
}

static void test_all_agree(void **state)
{
	(void)state;
	struct sel_cand c[3] = { cand(0.000, 0.010, 0), cand(0.002, 0.010, 1), cand(-0.001, 0.010, 2) };
	double lo, hi;
	assert_int_equal(sel_intersect(c, 3, &lo, &hi), 3);
	for (int i = 0; i < 3; i++)
		assert_true(c[i].truechimer);
	assert_true(lo <= hi);
	assert_float_equal(lo, -0.008, 1e-12); /* max of the lower ends */
	assert_float_equal(hi, 0.009, 1e-12);  /* min of the upper ends */
}

static void test_one_falseticker_of_three(void **state)
{
	(void)state;
	/* the falseticker scenario: one server 50 ms ahead */
	struct sel_cand c[3] = { cand(0.0001, 0.005, 0), cand(0.050, 0.005, 1), cand(-0.0001, 0.005, 2) };
	double lo, hi;
	assert_int_equal(sel_intersect(c, 3, &lo, &hi), 2);
	assert_true(c[0].truechimer);
	assert_false(c[1].truechimer);
	assert_true(c[2].truechimer);
	assert_true(hi < 0.045);
}

static void test_two_falsetickers_of_five(void **state)
{
	(void)state;
	struct sel_cand c[5] = { cand(-0.3, 0.01, 0), cand(0.001, 0.02, 1), cand(0.0, 0.02, 2),
				 cand(-0.002, 0.02, 3), cand(0.4, 0.01, 4) };
	double lo, hi;
	assert_int_equal(sel_intersect(c, 5, &lo, &hi), 3);
	assert_false(c[0].truechimer);
	assert_false(c[4].truechimer);
	assert_true(c[1].truechimer && c[2].truechimer && c[3].truechimer);
}

static void test_no_majority(void **state)
{
	(void)state;
	struct sel_cand c[2] = { cand(0.0, 0.01, 0), cand(1.0, 0.01, 1) };
	double lo = 7, hi = 7;
	assert_int_equal(sel_intersect(c, 2, &lo, &hi), 0);
	assert_false(c[0].truechimer);
	assert_false(c[1].truechimer);
	/* four in two disjoint pairs: no majority of three */
	struct sel_cand d[4] = { cand(0.0, 0.01, 0), cand(0.001, 0.01, 1), cand(1.0, 0.01, 2), cand(1.001, 0.01, 3) };
	assert_int_equal(sel_intersect(d, 4, &lo, &hi), 0);
}

static void test_marzullo_example(void **state)
{
	(void)state;
	/* [8,12], [11,13], [10,12] meet in [11,12] (Marzullo), but the RFC variant also
	 * wants the midpoints inside: 10, the midpoint of [8,12], is not, so it allows one
	 * falseticker and answers [10,12] with all three truechimers (RFC 5905 A.5.5.1) */
	struct sel_cand c[3] = { cand(10, 2, 0), cand(12, 1, 1), cand(11, 1, 2) };
	double lo, hi;
	assert_int_equal(sel_intersect(c, 3, &lo, &hi), 3);
	assert_float_equal(lo, 10, 1e-12);
	assert_float_equal(hi, 12, 1e-12);
	/* [9.2,13.2], [10.8,12.8], [10.5,12.5] and a falseticker [14,15] */
	struct sel_cand d[4] = { cand(11.2, 2, 0), cand(11.8, 1, 1), cand(11.5, 1, 2), cand(14.5, 0.5, 3) };
	assert_int_equal(sel_intersect(d, 4, &lo, &hi), 3);
	assert_false(d[3].truechimer);
	assert_float_equal(lo, 10.8, 1e-12);
	assert_float_equal(hi, 12.5, 1e-12);
}

static void test_single_source(void **state)
{
	(void)state;
	struct sel_cand c[1] = { cand(0.25, 0.01, 0) };
	double lo, hi;
	assert_int_equal(sel_intersect(c, 1, &lo, &hi), 1);
	assert_true(c[0].truechimer);
	assert_int_equal(sel_intersect(c, 0, &lo, &hi), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_agree),
		cmocka_unit_test(test_one_falseticker_of_three),
		cmocka_unit_test(test_two_falsetickers_of_five),
		cmocka_unit_test(test_no_majority),
		cmocka_unit_test(test_marzullo_example),
		cmocka_unit_test(test_single_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
