/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clock_soft's cheap paths, which the server path uses for every packet: the transmit
 * stamp (os_clock_read_real: one CLOCK_REALTIME reading mapped through the model without
 * running it) and the receive stamp (os_clock_map_kernel of a kernel timestamp older than
 * the last reading). Each must agree with a full reading of the software clock (os_clock_read,
 * which runs the kclk model) to the nanosecond, whatever the model is doing: frequency,
 * single-shot slew, kernel PLL offset, across its once-a-second updates, after steps; and
 * an external step of the system clock passes through a stamp and is still reported once
 * by the next full reading. Over the in-memory kernel of tests/lib.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mem_kernel.h"
#include "os_clock.h"

#define S 1000000000LL
#define MS 1000000LL
#define US 1000LL
#define T0 (1700000000LL * S)

static void near(int64_t got, int64_t want, int64_t tol)
{
	if (got < want - tol || got > want + tol)
		fail_msg("got %lld, want %lld ± %lld", (long long)got, (long long)want, (long long)tol);
}

static gn_time_ns full(struct os_clock *c)
{
	gn_time_ns r;
	int64_t m;
	assert_int_equal(os_clock_read(c, &r, &m), 0);
	return r;
}

static gn_time_ns cheap(struct os_clock *c)
{
	gn_time_ns r;
	assert_int_equal(os_clock_read_real(c, &r), 0);
	return r;
}

static void test_stamps_agree_with_full_readings(void **state)
{
	(void)state;
	struct mem_kernel mk;
	mem_kernel_init(&mk, T0 + 123456789, 1000 * S);
	struct os_clock_sys sys = mem_kernel_sys(&mk);
	struct os_clock *c = os_clock_soft_new(&sys);
	assert_non_null(c);
	struct clk_adj a = { .modes = CLK_ADJ_FREQ | CLK_ADJ_STATUS, .freq_ppm = 123.456,
			     .status = CLK_STA_PLL };
	assert_int_equal(os_clock_adjust(c, &a, NULL), 0);
	unsigned seed = 42;
	for (int i = 0; i < 3000; i++) {
		seed = seed * 1103515245u + 12345u;
		switch (i % 500) {
		case 100: {
			struct clk_adj o = { .modes = CLK_ADJ_OFFSET, .offset_ns = 3 * MS };
			assert_int_equal(os_clock_adjust(c, &o, NULL), 0);
			break;
		}
		case 200: {
			struct clk_adj o = { .modes = CLK_ADJ_SINGLESHOT, .offset_ns = -2 * MS };
			assert_int_equal(os_clock_adjust(c, &o, NULL), 0);
			break;
		}
		case 300:
			assert_int_equal(os_clock_step(c, 7 * MS), 0);
			break;
		case 400: {
			struct clk_adj o = { .modes = CLK_ADJ_FREQ, .freq_ppm = -(double)(seed % 500) };
			assert_int_equal(os_clock_adjust(c, &o, NULL), 0);
			break;
		}
		default:
			break;
		}
		/* Gaps from 1 µs (the stamp a few µs after the batch's reading: the model's
		 * linear part) to 1.6 s (past its next once-a-second update). */
		int64_t gap = (seed >> 8) % 4 == 0 ? (int64_t)((seed >> 4) % (1600 * MS))
						   : (int64_t)((seed >> 4) % (200 * US)) + 1 * US;
		mem_kernel_advance(&mk, gap);
		gn_time_ns kernel = mem_kernel_realtime(&mk);
		gn_time_ns stamp = cheap(c);
		gn_time_ns ref = full(c); /* the same instant: the in-memory clock stands still */
		near(stamp, ref, 1);
		/* A receive stamp taken then, mapped after a later reading: as it read then,
		 * within the model's rate over the gap (≤ 1000 ppm × 50 µs = 50 ns). */
		mem_kernel_advance(&mk, 50 * US);
		(void)full(c);
		near(os_clock_map_kernel(c, kernel), ref, 60);
	}
	assert_int_equal(os_clock_take_external_step(c), 0);
	os_clock_free(c);
}

static void test_external_step_passes_through_a_stamp(void **state)
{
	(void)state;
	struct mem_kernel mk;
	mem_kernel_init(&mk, T0, 1000 * S);
	struct os_clock_sys sys = mem_kernel_sys(&mk);
	struct os_clock *c = os_clock_soft_new(&sys);
	assert_non_null(c);
	struct clk_adj a = { .modes = CLK_ADJ_FREQ, .freq_ppm = 50 };
	assert_int_equal(os_clock_adjust(c, &a, NULL), 0);
	mem_kernel_advance(&mk, 10 * MS);
	gn_time_ns before = full(c);
	mem_kernel_external_step(&mk, 2 * S);
	mem_kernel_advance(&mk, 10 * MS);
	/* The stamp moves with the system clock (the software clock is the system clock plus
	 * a correction) and does not take the step from the next full reading. */
	near(cheap(c) - before, 2 * S + 10 * MS, 2 * US);
	near(full(c) - before, 2 * S + 10 * MS, 2 * US);
	near(os_clock_take_external_step(c), 2 * S, 1 * US);
	assert_int_equal(os_clock_take_external_step(c), 0);
	os_clock_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stamps_agree_with_full_readings),
		cmocka_unit_test(test_external_step_passes_through_a_stamp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
