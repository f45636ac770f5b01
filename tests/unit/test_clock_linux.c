/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for clock_linux, the system clock seam, against an in-memory kernel
 * (tests/lib/mem_kernel): the clk.h → struct timex translation (units, clamps, ADJ_NANO,
 * single-shot as a call of its own), that the adjustments have the effect Linux gives
 * them, steps by ADJ_SETOFFSET with a normalised time (and the clock_settime fallback),
 * leap and status bits, maxerror/esterror, EPERM without CAP_SYS_TIME, external step
 * detection, and the precision measurement. The real clock is never touched.
 */
#include <errno.h>
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

struct fx {
	struct mem_kernel mk;
	struct os_clock_sys sys;
	struct os_clock *c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	mem_kernel_init(&f->mk, T0, 1000 * S);
	f->sys = mem_kernel_sys(&f->mk);
	f->c = os_clock_linux_new(&f->sys);
	assert_non_null(f->c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	os_clock_free(f->c);
	free(f);
	return 0;
}

static int64_t real_now(struct fx *f)
{
	gn_time_ns r;
	int64_t m;
	assert_int_equal(os_clock_read(f->c, &r, &m), 0);
	return r;
}

static void test_timex_translation(void **state)
{
	(void)state;
	struct timex tx;
	struct clk_adj a = { .modes = CLK_ADJ_FREQ, .freq_ppm = 12.5 };
	os_clock_adj_to_timex(&a, &tx);
	assert_int_equal(tx.modes, ADJ_FREQUENCY);
	assert_int_equal(tx.freq, 819200); /* 12.5 × 2^16 */

	a.freq_ppm = -700; /* beyond MAXFREQ: clamped */
	os_clock_adj_to_timex(&a, &tx);
	assert_int_equal(tx.freq, -500 * 65536);

	a = (struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 1234567 };
	os_clock_adj_to_timex(&a, &tx);
	assert_int_equal(tx.modes, ADJ_OFFSET | ADJ_NANO);
	assert_int_equal(tx.offset, 1234567);
	a.offset_ns = -2 * S; /* beyond MAXPHASE */
	os_clock_adj_to_timex(&a, &tx);
	assert_int_equal(tx.offset, -500000000);

	a = (struct clk_adj){ .modes = CLK_ADJ_TICK, .tick_us = 10999 };
	os_clock_adj_to_timex(&a, &tx);
	assert_int_equal(tx.modes, ADJ_TICK);
	assert_int_equal(tx.tick, 10999);
	a.tick_us = 12000;
	os_clock_adj_to_timex(&a, &tx);
	assert_int_equal(tx.tick, 11000);

	a = (struct clk_adj){ .modes = CLK_ADJ_STATUS | CLK_ADJ_MAXERROR | CLK_ADJ_ESTERROR |
				       CLK_ADJ_TIMECONST,
			      .status = CLK_STA_PLL | CLK_STA_INS, .maxerror_us = 1500,
			      .esterror_us = 20, .pll_constant = 4 };
	os_clock_adj_to_timex(&a, &tx);
	assert_int_equal(tx.modes, ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR | ADJ_TIMECONST | ADJ_NANO);
	assert_int_equal(tx.status, STA_PLL | STA_INS);
	assert_int_equal(tx.maxerror, 1500);
	assert_int_equal(tx.esterror, 20);
	assert_int_equal(tx.constant, 4);

	/* The single-shot is not in the combined call (the kernel takes it alone). */
	a = (struct clk_adj){ .modes = CLK_ADJ_SINGLESHOT | CLK_ADJ_FREQ, .offset_ns = 5 * MS };
	os_clock_adj_to_timex(&a, &tx);
	assert_int_equal(tx.modes, ADJ_FREQUENCY);
}

static void test_frequency_effect(void **state)
{
	struct fx *f = *state;
	struct clk_state st;
	struct clk_adj a = { .modes = CLK_ADJ_FREQ, .freq_ppm = 12.5 };
	assert_int_equal(os_clock_adjust(f->c, &a, &st), 0);
	assert_true(st.freq_ppm > 12.4999 && st.freq_ppm < 12.5001);
	int64_t r0 = real_now(f);
	mem_kernel_advance(&f->mk, 100 * S);
	/* 100 s at +12.5 ppm: 1.25 ms ahead. */
	near(real_now(f) - r0, 100 * S + 1250 * US, 2 * US);
	assert_int_equal(f->mk.n_settime, 0);
}

static void test_singleshot_is_own_call(void **state)
{
	struct fx *f = *state;
	struct clk_adj a = { .modes = CLK_ADJ_SINGLESHOT | CLK_ADJ_FREQ, .offset_ns = 2 * MS,
			     .freq_ppm = 1.0 };
	assert_int_equal(os_clock_adjust(f->c, &a, NULL), 0);
	assert_int_equal(f->mk.n_log, 2);
	assert_int_equal(f->mk.log[0].modes, ADJ_FREQUENCY);
	assert_int_equal(f->mk.log[1].modes, ADJ_OFFSET_SINGLESHOT);
	assert_int_equal(f->mk.log[1].offset, 2000); /* µs */
	int64_t r0 = real_now(f);
	mem_kernel_advance(&f->mk, 10 * S);
	/* 2 ms slewed at 500 µs/s (done after 4 s) plus 1 ppm over 10 s. */
	near(real_now(f) - r0, 10 * S + 2 * MS + 10 * US, 5 * US);
}

static void test_pll_offset(void **state)
{
	struct fx *f = *state;
	struct clk_state st;
	struct clk_adj a = { .modes = CLK_ADJ_STATUS | CLK_ADJ_TIMECONST, .status = CLK_STA_PLL,
			     .pll_constant = 0 };
	assert_int_equal(os_clock_adjust(f->c, &a, &st), 0);
	assert_true(st.status & CLK_STA_PLL);
	assert_true(st.status & CLK_STA_NANO); /* ADJ_NANO went with it */
	a = (struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 1 * MS };
	assert_int_equal(os_clock_adjust(f->c, &a, &st), 0);
	near(st.offset_ns, 1 * MS, 1 * US);
	int64_t r0 = real_now(f);
	mem_kernel_advance(&f->mk, 60 * S);
	/* The kernel PLL has applied (most of) the millisecond. */
	int64_t gained = real_now(f) - r0 - 60 * S;
	assert_true(gained > 900 * US);
}

static void test_step_setoffset(void **state)
{
	struct fx *f = *state;
	int64_t r0 = real_now(f);
	assert_int_equal(os_clock_step(f->c, 1500 * MS), 0);
	near(real_now(f) - r0, 1500 * MS, 1 * US);
	assert_int_equal(f->mk.log[0].modes, ADJ_SETOFFSET | ADJ_NANO);
	assert_int_equal(f->mk.log[0].time.tv_sec, 1);
	assert_int_equal(f->mk.log[0].time.tv_usec, 500000000);

	r0 = real_now(f);
	assert_int_equal(os_clock_step(f->c, -1500 * MS), 0);
	near(real_now(f) - r0, -1500 * MS, 1 * US);
	/* -1.5 s = -2 s + 0.5 s: the fraction is never negative. */
	assert_int_equal(f->mk.log[1].time.tv_sec, -2);
	assert_int_equal(f->mk.log[1].time.tv_usec, 500000000);

	/* Our own steps are not external ones. */
	assert_int_equal(os_clock_take_external_step(f->c), 0);
	assert_int_equal(f->mk.n_settime, 0);
}

static void test_step_fallback_settime(void **state)
{
	struct fx *f = *state;
	f->mk.no_setoffset = true;
	int64_t r0 = real_now(f);
	assert_int_equal(os_clock_step(f->c, -3 * S), 0);
	assert_int_equal(f->mk.n_settime, 1);
	near(real_now(f) - r0, -3 * S, 1 * US);
	assert_int_equal(os_clock_take_external_step(f->c), 0);
}

static void test_leap_and_sync_bits(void **state)
{
	struct fx *f = *state;
	struct clk_state st;
	assert_int_equal(os_clock_state(f->c, &st), 0);
	assert_true(st.status & CLK_STA_UNSYNC); /* at boot */
	struct clk_adj a = { .modes = CLK_ADJ_STATUS | CLK_ADJ_MAXERROR | CLK_ADJ_ESTERROR,
			     .status = CLK_STA_PLL | CLK_STA_INS, .maxerror_us = 2000,
			     .esterror_us = 100 };
	assert_int_equal(os_clock_adjust(f->c, &a, &st), 0);
	assert_false(st.status & CLK_STA_UNSYNC); /* timedatectl: synchronised */
	assert_true(st.status & CLK_STA_INS);
	near(st.maxerror_us, 2000, 1);
	assert_int_equal(st.esterror_us, 100);
	a = (struct clk_adj){ .modes = CLK_ADJ_STATUS, .status = CLK_STA_UNSYNC };
	assert_int_equal(os_clock_adjust(f->c, &a, &st), 0);
	assert_true(st.status & CLK_STA_UNSYNC);
	assert_false(st.status & CLK_STA_INS);
}

static void test_eperm(void **state)
{
	struct fx *f = *state;
	f->mk.deny_modify = true;
	struct clk_adj a = { .modes = CLK_ADJ_FREQ, .freq_ppm = 1 };
	assert_int_equal(os_clock_adjust(f->c, &a, NULL), -EPERM);
	assert_int_equal(os_clock_step(f->c, S), -EPERM);
	struct clk_state st;
	assert_int_equal(os_clock_state(f->c, &st), 0); /* reading needs no privilege */
	a = (struct clk_adj){ .modes = CLK_ADJ_TICK, .tick_us = 10000 };
	f->mk.deny_modify = false;
	a.tick_us = 9000;
	assert_int_equal(os_clock_adjust(f->c, &a, NULL), 0);
}

static void test_external_step(void **state)
{
	struct fx *f = *state;
	(void)real_now(f);
	mem_kernel_advance(&f->mk, S);
	(void)real_now(f);
	assert_int_equal(os_clock_take_external_step(f->c), 0);
	mem_kernel_external_step(&f->mk, -7 * S); /* date -s by someone else */
	(void)real_now(f);
	near(os_clock_take_external_step(f->c), -7 * S, 1 * US);
	assert_int_equal(os_clock_take_external_step(f->c), 0); /* taken once */
	/* Slewing is not a step. */
	struct clk_adj a = { .modes = CLK_ADJ_FREQ, .freq_ppm = 500 };
	assert_int_equal(os_clock_adjust(f->c, &a, NULL), 0);
	for (int i = 0; i < 10; i++) {
		mem_kernel_advance(&f->mk, S);
		(void)real_now(f);
	}
	/* The monotonic clock slews with the real-time one (as on Linux): no step seen. */
	assert_int_equal(os_clock_take_external_step(f->c), 0);
}

static void test_precision(void **state)
{
	struct fx *f = *state;
	f->mk.tick_per_read_ns = 50;
	/* Three clock_gettime calls per reading: successive readings 150 ns apart. */
	assert_int_equal(os_clock_precision_log2(f->c), -22); /* 2^-22 s = 238 ns ≥ 150 ns */
	f->mk.tick_per_read_ns = 1000;
	assert_int_equal(os_clock_precision_log2(f->c), -18); /* 3 µs → 2^-18 = 3.8 µs */
}

static void test_real_kernel_read_only(void **state)
{
	(void)state;
	/* The real kernel's clock: read it (never adjust it in a test). */
	struct os_clock *c = os_clock_linux_new(NULL);
	gn_time_ns r;
	int64_t m;
	assert_int_equal(os_clock_read(c, &r, &m), 0);
	assert_true(r > 1500000000LL * S);
	struct clk_state st;
	assert_int_equal(os_clock_state(c, &st), 0);
	int8_t p = os_clock_precision_log2(c);
	assert_true(p <= -10 && p >= -30);
	assert_true(c->touches_system);
	os_clock_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timex_translation),
		cmocka_unit_test_setup_teardown(test_frequency_effect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_singleshot_is_own_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pll_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_setoffset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_fallback_settime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leap_and_sync_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eperm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_external_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precision, setup, teardown),
		cmocka_unit_test(test_real_kernel_read_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
