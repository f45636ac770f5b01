/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_cmb: combining (RFC 5905 §11.2.3): offsets weighted by 1 / root distance, the
 * system jitter from the system peer's jitter and the selection jitter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "cmb.h"

static void test_weighted_average(void **state)
{
	(void)state;
	struct sel_cand c[2] = {
		{ .offset_s = 0.0, .rootdist_s = 1.0, .jitter_s = 0.003 },
		{ .offset_s = 1.0, .rootdist_s = 3.0, .jitter_s = 0.004 },
	};
	struct cmb_result r;
	cmb_combine(c, 2, 0, &r);
	assert_float_equal(r.offset_s, (0.0 * 1.0 + 1.0 / 3.0) / (1.0 + 1.0 / 3.0), 1e-12);
	/* selection jitter: weighted RMS of offsets against the system peer */
	double w = (1.0 / 3.0 * 1.0) / (1.0 + 1.0 / 3.0);
	assert_float_equal(r.jitter_s, sqrt(0.003 * 0.003 + w), 1e-12);
}

static void test_single_survivor(void **state)
{
	(void)state;
	struct sel_cand c[1] = { { .offset_s = -0.002, .rootdist_s = 0.01, .jitter_s = 0.0005 } };
	struct cmb_result r;
	cmb_combine(c, 1, 0, &r);
	assert_float_equal(r.offset_s, -0.002, 1e-15);
	assert_float_equal(r.jitter_s, 0.0005, 1e-15);
}

static void test_zero_distance_is_safe(void **state)
{
	(void)state;
	struct sel_cand c[2] = { { .offset_s = 0.001, .rootdist_s = 0.0 }, { .offset_s = 0.003, .rootdist_s = 0.0 } };
	struct cmb_result r;
	cmb_combine(c, 2, 1, &r);
	assert_true(isfinite(r.offset_s));
	assert_float_equal(r.offset_s, 0.002, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weighted_average),
		cmocka_unit_test(test_single_survivor),
		cmocka_unit_test(test_zero_distance_is_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
