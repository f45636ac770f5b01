/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for clock_soft, the software clock of `gnomond -X`, over an in-memory kernel: it
 * follows the adjustments the engine asks for (frequency, single-shot, steps, status) while
 * the system clock is never adjusted, set or even asked to adjust (no clock_adjtime, no
 * clock_settime at all); kernel packet timestamps map onto the software clock; a step of
 * the system clock by someone else passes through and is reported as external.
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
	f->c = os_clock_soft_new(&f->sys);
	assert_non_null(f->c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	/* The system clock was never adjusted nor set, nor even asked about. */
	assert_int_equal(f->mk.n_adjtime, 0);
	assert_int_equal(f->mk.n_settime, 0);
	os_clock_free(f->c);
	free(f);
	return 0;
}

static int64_t soft_now(struct fx *f)
{
	gn_time_ns r;
	int64_t m;
	assert_int_equal(os_clock_read(f->c, &r, &m), 0);
	return r;
}

static void test_starts_as_system_clock(void **state)
{
	struct fx *f = *state;
	assert_false(f->c->touches_system);
	near(soft_now(f), mem_kernel_realtime(&f->mk), 1 * US);
	struct clk_state st;
	assert_int_equal(os_clock_state(f->c, &st), 0);
	assert_true(st.status & CLK_STA_UNSYNC);
}

static void test_frequency(void **state)
{
	struct fx *f = *state;
	struct clk_adj a = { .modes = CLK_ADJ_FREQ, .freq_ppm = 100 };
	assert_int_equal(os_clock_adjust(f->c, &a, NULL), 0);
	int64_t s0 = soft_now(f), k0 = mem_kernel_realtime(&f->mk);
	mem_kernel_advance(&f->mk, 10 * S);
	/* The software clock gained 1 ms; the system clock did not. */
	near(soft_now(f) - s0, 10 * S + 1 * MS, 2 * US);
	near(mem_kernel_realtime(&f->mk) - k0, 10 * S, 1 * US);
}

static void test_step_and_slew(void **state)
{
	struct fx *f = *state;
	int64_t k0 = mem_kernel_realtime(&f->mk);
	int64_t s0 = soft_now(f);
	assert_int_equal(os_clock_step(f->c, -250 * MS), 0);
	near(soft_now(f) - s0, -250 * MS, 1 * US);
	struct clk_adj a = { .modes = CLK_ADJ_SINGLESHOT, .offset_ns = 1 * MS };
	assert_int_equal(os_clock_adjust(f->c, &a, NULL), 0);
	mem_kernel_advance(&f->mk, 5 * S);
	near(soft_now(f) - s0, -250 * MS + 5 * S + 1 * MS, 5 * US);
	near(mem_kernel_realtime(&f->mk) - k0, 5 * S, 1 * US);
	/* Our own step is not an external one. */
	assert_int_equal(os_clock_take_external_step(f->c), 0);
}

static void test_status_bits(void **state)
{
	struct fx *f = *state;
	struct clk_state st;
	struct clk_adj a = { .modes = CLK_ADJ_STATUS | CLK_ADJ_MAXERROR, .status = CLK_STA_PLL,
			     .maxerror_us = 1000 };
	assert_int_equal(os_clock_adjust(f->c, &a, &st), 0);
	assert_false(st.status & CLK_STA_UNSYNC);
	near(st.maxerror_us, 1000, 1);
}

static void test_limits_as_the_kernel(void **state)
{
	struct fx *f = *state;
	/* A frequency beyond ±500 ppm is clamped, a non-finite one ignored: -X never does what
	 * the kernel would refuse (an engine bug must not run the software clock away). */
	struct clk_adj a = { .modes = CLK_ADJ_FREQ, .freq_ppm = -140737488355328.0 };
	struct clk_state st;
	assert_int_equal(os_clock_adjust(f->c, &a, &st), 0);
	assert_true(st.freq_ppm > -500.001 && st.freq_ppm < -499.999);
	a.freq_ppm = 0.0 / 0.0;
	assert_int_equal(os_clock_adjust(f->c, &a, &st), 0);
	assert_true(st.freq_ppm > -500.001 && st.freq_ppm < -499.999);
	int64_t s0 = soft_now(f);
	mem_kernel_advance(&f->mk, 1 * S);
	near(soft_now(f) - s0, 1 * S - 500 * US, 2 * US);
}

static void test_map_kernel_timestamp(void **state)
{
	struct fx *f = *state;
	struct clk_adj a = { .modes = CLK_ADJ_FREQ, .freq_ppm = -200 };
	assert_int_equal(os_clock_adjust(f->c, &a, NULL), 0);
	assert_int_equal(os_clock_step(f->c, 3 * S), 0);
	mem_kernel_advance(&f->mk, 20 * S);
	int64_t kts = mem_kernel_realtime(&f->mk); /* a packet's kernel timestamp, now */
	int64_t soft = soft_now(f);
	near(os_clock_map_kernel(f->c, kts), soft, 1 * US);
	/* A stamp 1 ms old maps to 1 ms before now (within the rate difference). */
	near(os_clock_map_kernel(f->c, kts - 1 * MS), soft - 1 * MS, 1 * US);
}

static void test_external_step_passes_through(void **state)
{
	struct fx *f = *state;
	struct clk_adj a = { .modes = CLK_ADJ_FREQ, .freq_ppm = 50 };
	assert_int_equal(os_clock_adjust(f->c, &a, NULL), 0);
	int64_t s0 = soft_now(f);
	mem_kernel_advance(&f->mk, 1 * S);
	mem_kernel_external_step(&f->mk, 2 * S); /* date -s by someone else */
	int64_t s1 = soft_now(f);
	near(s1 - s0, 3 * S + 50 * US, 2 * US);
	near(os_clock_take_external_step(f->c), 2 * S, 1 * US);
	assert_int_equal(os_clock_take_external_step(f->c), 0);
	/* Backwards too; the model keeps running on (no jump in its own discipline). */
	mem_kernel_external_step(&f->mk, -5 * S);
	mem_kernel_advance(&f->mk, 1 * S);
	int64_t s2 = soft_now(f);
	near(s2 - s1, -4 * S + 50 * US, 2 * US);
	near(os_clock_take_external_step(f->c), -5 * S, 1 * US);
}

/* A process preempted between its clock reads: every read of CLOCK_MONOTONIC that starts a
 * (monotonic, realtime, monotonic) triple is followed by `stall_ns` of lost time, as when
 * the scheduler takes the CPU away between the two system calls. */
struct stall_sys {
	struct os_clock_sys inner;
	struct mem_kernel *mk;
	int64_t stall_ns;
	bool next_is_first;
};

static int stall_gettime(void *ctx, clockid_t id, struct timespec *ts)
{
	struct stall_sys *st = ctx;
	int r = st->inner.gettime(st->inner.ctx, id, ts);
	if (id == CLOCK_MONOTONIC) {
		if (st->next_is_first && st->stall_ns > 0)
			mem_kernel_advance(st->mk, st->stall_ns);
		st->next_is_first = !st->next_is_first;
	}
	return r;
}

static void test_preempted_reads_are_no_external_step(void **state)
{
	(void)state;
	struct mem_kernel mk;
	mem_kernel_init(&mk, T0, 1000 * S);
	struct stall_sys st = { .inner = mem_kernel_sys(&mk), .mk = &mk, .next_is_first = true };
	struct os_clock_sys sys = { .gettime = stall_gettime, .settime = st.inner.settime,
				    .adjtime = st.inner.adjtime, .ctx = &st };
	struct os_clock *c = os_clock_soft_new(&sys);
	assert_non_null(c);
	gn_time_ns r0, r1;
	int64_t m0, m1;
	assert_int_equal(os_clock_read(c, &r0, &m0), 0);
	/* Every triple now loses 5 ms between its first two calls: a naive midpoint would see
	 * the real-time clock 2.5 ms ahead of the monotonic one and call it a step. */
	st.stall_ns = 5 * MS;
	for (int i = 0; i < 10; i++) {
		mem_kernel_advance(&mk, 100 * MS);
		assert_int_equal(os_clock_read(c, &r1, &m1), 0);
		assert_int_equal(os_clock_take_external_step(c), 0);
	}
	/* A real step is still seen once reads are clean again. */
	st.stall_ns = 0;
	mem_kernel_external_step(&mk, 3 * S);
	mem_kernel_advance(&mk, 1 * S);
	assert_int_equal(os_clock_read(c, &r1, &m1), 0);
	near(os_clock_take_external_step(c), 3 * S, 1 * US);
	assert_int_equal(mk.n_adjtime, 0);
	os_clock_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_starts_as_system_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frequency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_and_slew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_as_the_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_kernel_timestamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_external_step_passes_through, setup, teardown),
		cmocka_unit_test(test_preempted_reads_are_no_external_step),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
