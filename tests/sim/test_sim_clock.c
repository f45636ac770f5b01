/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Conformance of the simulator's node clock to its models: the oscillator's initial offset,
 * frequency error and random walk (σ per second), the monotonic clock that steps never
 * move, and the Linux kernel model between the oscillator and the disciplined clock
 * (frequency cancels the oscillator's error to 2^-16 ppm, single-shot at 500 µs/s, tick
 * limits, the PLL's per-second shares, steps). Also the seeded RNG's variates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "sim.h"
#include "sim_rng.h"

#define S SIM_NS_PER_S
#define MS 1000000LL
#define US 1000LL

static void near(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("got %.9g, want %.9g ± %.3g", got, want, tol);
}

static double off_s(struct sim_clock *c, int64_t t)
{
	return (double)(sim_clock_real(c, t) - sim_true_ns(t)) / 1e9;
}

static void test_free_running(void **state)
{
	(void)state;
	struct sim_clock c;
	sim_clock_init(&c, 0.1, 100.0, 0.0, 1, 1);
	near(off_s(&c, 0), 0.1, 1e-9);
	/* 100 ppm fast: +1 ms after 10 s, +8.64 s after a day. */
	near(off_s(&c, 10 * S), 0.1 + 1e-3, 2e-9);
	near(off_s(&c, 86400 * S), 0.1 + 8.64, 1e-6);
	/* The monotonic clock runs on the same oscillator, from 300 s at the start. */
	struct sim_clock m;
	sim_clock_init(&m, 0.1, 100.0, 0.0, 1, 1);
	near((double)sim_clock_mono(&m, 0) / 1e9, 300.0, 1e-9);
	near((double)sim_clock_mono(&m, 1000 * S) / 1e9, 300.0 + 1000.1, 1e-6);
}

static void test_kernel_frequency_cancels(void **state)
{
	(void)state;
	struct sim_clock c;
	sim_clock_init(&c, 0.0, 100.0, 0.0, 1, 1);
	struct clk_adj a = { .modes = CLK_ADJ_FREQ, .freq_ppm = -100.0 / (1.0 + 100e-6) };
	kclk_adjust(&c.kclk, sim_clock_base(&c, 0), &a, NULL);
	/* The residual is the 2^-16 ppm quantisation: < 7.7e-6 ppm → < 0.7 µs a day. */
	near(off_s(&c, 86400 * S), 0.0, 0.7e-6);
	/* The kernel clamps the frequency at 500 ppm: a 600 ppm fast oscillator cannot be
	 * held. */
	struct sim_clock f;
	sim_clock_init(&f, 0.0, 600.0, 0.0, 1, 1);
	a.freq_ppm = -600.0;
	kclk_adjust(&f.kclk, sim_clock_base(&f, 0), &a, NULL);
	near(off_s(&f, 1000 * S), 1000 * ((1 + 600e-6) * (1 - 500e-6) - 1), 1e-6);
}

static void test_kernel_slews(void **state)
{
	(void)state;
	struct sim_clock c;
	sim_clock_init(&c, 0.1, 0.0, 0.0, 1, 1);
	/* Single-shot: -100 ms at 500 µs/s takes 200 s. */
	struct clk_adj a = { .modes = CLK_ADJ_SINGLESHOT, .offset_ns = -100 * MS };
	kclk_adjust(&c.kclk, sim_clock_base(&c, 0), &a, NULL);
	/* The slew starts when the disciplined clock (0.1 s ahead) enters its next second,
	 * at 0.9 s of true time, as the kernel's second_overflow does. */
	near(off_s(&c, 100 * S), 0.1 - 99.1 * 500e-6, 1e-6);
	near(off_s(&c, 202 * S), 0.0, 100e-6);
	/* Tick: the fastest slew is 10 % (tick 9000..11000 µs); beyond, refused. */
	struct sim_clock t;
	sim_clock_init(&t, 0.1, 0.0, 0.0, 1, 1);
	a = (struct clk_adj){ .modes = CLK_ADJ_TICK, .tick_us = 9000 };
	kclk_adjust(&t.kclk, sim_clock_base(&t, 0), &a, NULL);
	near(off_s(&t, 1 * S), 0.0, 1e-6);
	a.tick_us = 8000;
	assert_false(kclk_adjust_valid(&a));
	/* A step moves the disciplined clock and not the monotonic one. */
	struct sim_clock st;
	sim_clock_init(&st, 0.1, 0.0, 0.0, 1, 1);
	int64_t mono = sim_clock_mono(&st, 5 * S);
	kclk_step(&st.kclk, sim_clock_base(&st, 5 * S), -100 * MS);
	near(off_s(&st, 5 * S), 0.0, 1e-9);
	assert_int_equal(sim_clock_mono(&st, 5 * S), mono);
}

static void test_mono_linux(void **state)
{
	(void)state;
	/* Linux's CLOCK_MONOTONIC runs at the disciplined rate and ignores steps. */
	struct sim_clock c;
	sim_clock_init(&c, 0.1, 0.0, 0.0, 1, 1);
	c.mono_linux = true;
	int64_t m0 = sim_clock_mono(&c, 0);
	assert_int_equal(m0, SIM_MONO_AT_START_NS);
	struct clk_adj a = { .modes = CLK_ADJ_TICK, .tick_us = 9200 };
	kclk_adjust(&c.kclk, sim_clock_base(&c, 0), &a, NULL);
	near((double)(sim_clock_mono(&c, 1 * S) - m0) / 1e9, 0.92, 2e-9);
	kclk_step(&c.kclk, sim_clock_base(&c, 1 * S), -50 * MS);
	near((double)(sim_clock_mono(&c, 1 * S) - m0) / 1e9, 0.92, 2e-9);
	near(off_s(&c, 1 * S), 0.1 - 0.08 - 0.05, 2e-9);
	/* The raw variant is the oscillator: unmoved by the slew. */
	struct sim_clock r;
	sim_clock_init(&r, 0.1, 0.0, 0.0, 1, 1);
	kclk_adjust(&r.kclk, sim_clock_base(&r, 0), &a, NULL);
	near((double)(sim_clock_mono(&r, 1 * S) - SIM_MONO_AT_START_NS) / 1e9, 1.0, 1e-9);
}

static void test_kernel_pll(void **state)
{
	(void)state;
	/* With the kernel PLL (tc 0), a 1 ms offset decays by 3/4 each second. */
	struct sim_clock c;
	sim_clock_init(&c, 0.001, 0.0, 0.0, 1, 1);
	int64_t b = sim_clock_base(&c, 0);
	struct clk_adj a = { .modes = CLK_ADJ_STATUS | CLK_ADJ_TIMECONST, .status = CLK_STA_PLL, .pll_constant = 0 };
	kclk_adjust(&c.kclk, b, &a, NULL);
	a = (struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = -1 * MS };
	kclk_adjust(&c.kclk, b, &a, NULL);
	near(off_s(&c, 3 * S), 0.001 * pow(0.75, 2), 2e-6);
	/* Each share is applied over the clock's own (shorter or longer) second: the total
	 * misses by about Σ share²/1 s, 0.2 µs here, as on a real kernel. */
	near(off_s(&c, 60 * S), 0.0, 3e-7);
}

static void test_wander(void **state)
{
	(void)state;
	/* After N seconds the random walk's frequency has σ·√N spread: check over seeds. */
	const int n_seeds = 200, secs = 400;
	double sum = 0, sum2 = 0;
	for (int s = 0; s < n_seeds; s++) {
		struct sim_clock c;
		sim_clock_init(&c, 0.0, 0.0, 1e-9, (uint64_t)s + 1, 1);
		sim_clock_base(&c, (int64_t)secs * S);
		sum += c.osc.freq;
		sum2 += c.osc.freq * c.osc.freq;
	}
	double sd = sqrt(sum2 / n_seeds - (sum / n_seeds) * (sum / n_seeds));
	near(sd, 1e-9 * sqrt(secs), 0.15 * 1e-9 * sqrt(secs));
	near(sum / n_seeds, 0.0, 4 * 1e-9 * sqrt(secs) / sqrt(n_seeds));
	/* Same seed, same walk; another seed, another walk. */
	struct sim_clock a, b, d;
	sim_clock_init(&a, 0.1, 100.0, 1e-9, 7, 1);
	sim_clock_init(&b, 0.1, 100.0, 1e-9, 7, 1);
	sim_clock_init(&d, 0.1, 100.0, 1e-9, 8, 1);
	assert_int_equal(sim_clock_real(&a, 5000 * S), sim_clock_real(&b, 5000 * S));
	assert_int_not_equal(sim_clock_real(&a, 5000 * S + 1), sim_clock_real(&d, 5000 * S + 1));
}

static void test_rng(void **state)
{
	(void)state;
	struct sim_rng r, r2;
	sim_rng_seed(&r, 42, 3);
	sim_rng_seed(&r2, 42, 3);
	for (int i = 0; i < 10; i++)
		assert_true(sim_rng_u64(&r) == sim_rng_u64(&r2));
	sim_rng_seed(&r2, 42, 4);
	assert_true(sim_rng_u64(&r) != sim_rng_u64(&r2));
	const int n = 200000;
	double se = 0, sn = 0, sn2 = 0, su = 0;
	for (int i = 0; i < n; i++) {
		double u = sim_rng_uniform(&r);
		assert_true(u >= 0.0 && u < 1.0);
		su += u;
		double e = sim_rng_exp(&r, 100e-6);
		assert_true(e >= 0);
		se += e;
		double x = sim_rng_normal(&r, 2.0);
		sn += x;
		sn2 += x * x;
	}
	near(su / n, 0.5, 0.005);
	near(se / n, 100e-6, 2e-6);
	near(sn / n, 0.0, 0.03);
	near(sqrt(sn2 / n), 2.0, 0.03);
	uint8_t buf[13] = { 0 };
	sim_rng_fill(&r, buf, sizeof buf);
	int nonzero = 0;
	for (size_t i = 0; i < sizeof buf; i++)
		nonzero += buf[i] != 0;
	assert_true(nonzero >= 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_running),
		cmocka_unit_test(test_kernel_frequency_cancels),
		cmocka_unit_test(test_kernel_slews),
		cmocka_unit_test(test_kernel_pll),
		cmocka_unit_test(test_mono_linux),
		cmocka_unit_test(test_wander),
		cmocka_unit_test(test_rng),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
