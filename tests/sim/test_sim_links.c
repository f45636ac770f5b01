/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The link and server models, seen from outside: delay distribution, loss and spikes; an
 * asymmetric path biases the client by half the asymmetry (RFC 5905 §8: the offset assumes
 * equal one-way delays); a false server drags a lone client along; a vanished server
 * answers nothing; loss costs replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "sim.h"
#include "sim_rng.h"

static void near(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("got %.9g, want %.9g ± %.3g", got, want, tol);
}

static void test_link_distribution(void **state)
{
	(void)state;
	struct sim_rng r;
	sim_rng_seed(&r, 5, 99);
	struct sim_link m = { .delay_s = 100e-6, .jitter_s = 100e-6, .asym_s = 30e-6, .loss = 0.1,
			      .spike_frac = 0.01, .spike_s = 50e-3 };
	const int n = 200000;
	int lost = 0, spikes = 0, got = 0;
	double sum_up = 0;
	int64_t min_up = INT64_MAX;
	for (int i = 0; i < n; i++) {
		int64_t d;
		if (!sim_link_draw(&r, &m, true, &d)) {
			lost++;
			continue;
		}
		got++;
		if (d > 40000000)
			spikes++;
		else
			sum_up += (double)d;
		if (d < min_up)
			min_up = d;
	}
	near((double)lost / n, 0.1, 0.005);
	near((double)spikes / got, 0.01, 0.001);
	/* Without spikes: 100 µs + 30 µs asymmetry + exp(100 µs). */
	near(sum_up / (got - spikes), 230e3, 1.5e3);
	assert_true(min_up >= 130000);
	/* The other direction has no asymmetry. */
	int64_t d;
	int64_t min_down = INT64_MAX;
	for (int i = 0; i < 10000; i++)
		if (sim_link_draw(&r, &m, false, &d) && d < min_down)
			min_down = d;
	assert_true(min_down >= 100000 && min_down < 101000);
}

static void run1(const char *text, struct sim_result *res)
{
	struct sim_scenario s;
	char err[256];
	if (!sim_scn_parse(&s, text, err, sizeof err))
		fail_msg("%s", err);
	if (!sim_run(&s, 3, NULL, res, err, sizeof err))
		fail_msg("%s", err);
}

static void test_asymmetry_bias(void **state)
{
	(void)state;
	/* 200 µs more on the way out: the client settles 100 µs ahead. No jitter, no wander,
	 * so the bias stands alone. */
	struct sim_result r;
	run1("[scenario]\nduration_h = 3\n[client]\nwander = 0\nminpoll = 4\nmaxpoll = 4\n"
	     "[server]\njitter_us = 0\nasym_us = 200\n", &r);
	near(r.final_offset_s, 100e-6, 10e-6);
	near(r.rms_s, 100e-6, 10e-6);
	assert_int_equal(r.steps, 0);
}

static void test_false_server(void **state)
{
	(void)state;
	/* A lone server 50 ms ahead is followed: the client ends 50 ms ahead of true time. */
	struct sim_result r;
	run1("[scenario]\nduration_h = 2\n[client]\nminpoll = 4\nmaxpoll = 6\n"
	     "[server]\nkind = false\noffset_ms = 50\n", &r);
	near(r.final_offset_s, 0.05, 200e-6);
	assert_int_equal(r.steps, 0);
}

static void test_vanished_and_lossy(void **state)
{
	(void)state;
	struct sim_result r;
	run1("[scenario]\nduration_h = 2\n[server]\nkind = vanish\nvanish_start_h = 0\nvanish_end_h = 3\n", &r);
	assert_true(r.client_sent > 0);
	assert_int_equal(r.client_received, 0);
	/* The free-running clock: 0.1 s plus 100 ppm over 2 h, nothing corrected. */
	near(r.final_offset_s, 0.1 + 7200 * 100e-6, 5e-3);
	/* Loss 30 % each way: about half the replies come back. */
	run1("[scenario]\nduration_h = 6\n[client]\nminpoll = 4\nmaxpoll = 4\n[server]\nloss = 0.3\n", &r);
	near((double)r.client_received / (double)r.client_sent, 0.49, 0.05);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_distribution),
		cmocka_unit_test(test_asymmetry_bias),
		cmocka_unit_test(test_false_server),
		cmocka_unit_test(test_vanished_and_lossy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
