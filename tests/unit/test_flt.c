/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_flt: the clock filter (RFC 5905 §10, A.5.2): minimum-delay choice, only newer
 * samples pass, the dispersion sum with empty stages at MAXDISP, jitter, the popcorn spike
 * suppressor, the filled-stages dispersion gnomon uses for selection, and the least delay
 * over the last 64 samples the discipline's sample weights start from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "flt.h"

#define S 1000000000LL

static void test_first_sample_passes(void **state)
{
	(void)state;
	struct flt f;
	flt_init(&f);
	assert_true(flt_add(&f, 0.002, 0.010, 0.001, 10 * S, 10 * S, 1e-6, 6));
	assert_true(f.have);
	assert_float_equal(f.offset_s, 0.002, 1e-12);
	assert_float_equal(f.delay_s, 0.010, 1e-12);
	/* epsilon = sum disp_i / 2^(i+1): one stage of 0.001, seven empty at MAXDISP (16) */
	assert_float_equal(f.disp_s, 0.001 / 2 + 16.0 * (0.5 - 1.0 / 256), 1e-9);
	assert_float_equal(f.disp_valid_s, 0.0005, 1e-12);
	assert_float_equal(f.jitter_s, 1e-6, 1e-12); /* floor: the precision */
	/* dispersion grows at PHI (15 ppm) */
	assert_float_equal(flt_disp_valid_now(&f, 110 * S), 0.0005 + 15e-6 * 100, 1e-9);
}

static void test_minimum_delay_chosen(void **state)
{
	(void)state;
	struct flt f;
	flt_init(&f);
	assert_true(flt_add(&f, 0.004, 0.008, 0.0, 1 * S, 1 * S, 1e-6, 6));
	assert_true(flt_add(&f, 0.001, 0.002, 0.0, 2 * S, 2 * S, 1e-6, 6));  /* least delay */
	/* a newer sample with more delay: the filter keeps the older, better one and, since it
	 * was already used, passes nothing on (RFC 5905 A.5.2) */
	assert_false(flt_add(&f, 0.003, 0.006, 0.0, 3 * S, 3 * S, 1e-6, 6));
	assert_float_equal(f.offset_s, 0.001, 1e-12);
	assert_float_equal(f.delay_s, 0.002, 1e-12);
	assert_float_equal(flt_min_delay(&f), 0.002, 1e-12);
	/* jitter: RMS of the other offsets against the chosen one */
	double j = sqrt((0.003 * 0.003 + 0.002 * 0.002) / 2.0);
	assert_float_equal(f.jitter_s, j, 1e-9);
	/* when the best sample leaves the register, a newer one passes (two poll intervals
	 * after the last one, so the popcorn suppressor lets the jump through) */
	bool passed = false;
	for (int i = 0; i < 8; i++)
		passed |= flt_add(&f, 0.0035, 0.005, 0.0, (4 + i) * 64 * S, (4 + i) * 64 * S, 1e-6, 6);
	assert_true(passed);
	assert_float_equal(f.delay_s, 0.005, 1e-12);
}

/* The least delay over the last 64 samples: the eight stages can all sit well above the
 * path's minimum (then a slow sample, the least of eight, would pass for an exact one);
 * the longer record still knows the minimum, and forgets it once 64 samples went by. */
static void test_min_delay_long(void **state)
{
	(void)state;
	struct flt f;
	flt_init(&f);
	assert_float_equal(flt_min_delay_long(&f), 0.0, 0.0);
	int64_t t = 0;
	for (int i = 0; i < 4; i++, t += 16 * S)
		flt_add(&f, 0.0, 0.000205, 0.0, t, t, 1e-6, 4); /* the path's minimum */
	for (int i = 0; i < 12; i++, t += 16 * S)
		flt_add(&f, 0.0, 0.000320 + i * 1e-6, 0.0, t, t, 1e-6, 4);
	assert_float_equal(flt_min_delay(&f), 0.000324, 1e-12); /* the stages forgot it */
	assert_float_equal(flt_min_delay_long(&f), 0.000205, 1e-12);
	for (int i = 0; i < 64; i++, t += 16 * S)
		flt_add(&f, 0.0, 0.000400, 0.0, t, t, 1e-6, 4);
	assert_float_equal(flt_min_delay_long(&f), 0.000400, 1e-12);
	/* never above the stages' own least delay */
	flt_add(&f, 0.0, 0.000300, 0.0, t, t, 1e-6, 4);
	assert_float_equal(flt_min_delay_long(&f), 0.000300, 1e-12);
}

static void test_popcorn_spike_held_back(void **state)
{
	(void)state;
	struct flt f;
	flt_init(&f);
	int64_t t = 0;
	for (int i = 0; i < 8; i++) {
		t += 64 * S;
		/* steady, with delays decreasing so every sample passes */
		flt_add(&f, (i % 2 ? 1e-6 : -1e-6), 0.010 - i * 1e-4, 0.0, t, t, 1e-6, 6);
	}
	double before = f.offset_s;
	t += 64 * S;
	assert_false(flt_add(&f, 0.050, 0.001, 0.0, t, t, 1e-6, 6)); /* 50 ms jump */
	assert_int_equal(f.popcorn, 1);
	assert_float_equal(f.offset_s, before, 1e-12);
	/* if the new offset persists past two poll intervals, it is believed */
	bool passed = false;
	for (int i = 0; i < 3 && !passed; i++) {
		t += 64 * S;
		passed = flt_add(&f, 0.050, 0.0009 - i * 1e-5, 0.0, t, t, 1e-6, 6);
	}
	assert_true(passed);
	assert_float_equal(f.offset_s, 0.050, 1e-12);
	flt_clear(&f);
	assert_false(f.have);
	assert_int_equal(f.popcorn, 1);
}

static void test_step_shifts_offsets(void **state)
{
	(void)state;
	struct flt f;
	flt_init(&f);
	flt_add(&f, 0.5, 0.01, 0.0, S, S, 1e-6, 6);
	flt_stepped(&f, 500000000LL);
	assert_float_equal(f.offset_s, 0.0, 1e-12);
	assert_float_equal(f.st[0].offset_s, 0.0, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_sample_passes),
		cmocka_unit_test(test_minimum_delay_chosen),
		cmocka_unit_test(test_min_delay_long),
		cmocka_unit_test(test_popcorn_spike_held_back),
		cmocka_unit_test(test_step_shifts_offsets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
