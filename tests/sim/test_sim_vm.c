/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sim_vm: the disturbance scenarios of issue 6 (H2; docs/leap-dns-drift.md "Suspended,
 * resumed and migrated machines", docs/accuracy.md "The models"), each full scenario with
 * its 5 seeds, against asserted bounds (not recorded figures: a bound says what a sysadmin
 * may expect, and holds whatever later tuning does to the figures):
 *   - suspend (and suspend-behind: -2 s; suspend-slew: -50 ms, slewed, no step): a guest
 *     suspended 3 h whose agent sets the clock 0.3 s off at resume: the
 *     simulated daemon sees exactly one external step, the engine restarts (a burst to
 *     every source until each gave 3 samples), steps once, and the offset stays under 1 ms
 *     from at most 20 s after the resume, under 300 µs from a minute after that; no panic,
 *     no falseticker;
 *   - suspend-unset and migrate: both clocks stood still (3 h, 30 s), nothing stepped: no
 *     external step, one recognised jump, one step, under 1 ms from at most one poll
 *     interval in use (the first answer after the resume) plus 30 s, under 300 µs from
 *     a minute after that; no panic (3 h is far beyond
 *     the 1000 s panic threshold), no falseticker;
 *   - leap-insert, leap-delete: exactly one leap second by the kernel, seen by the daemon
 *     as a ±1 s step and by the engine as the kernel's leap: no restart, no step; under
 *     1 ms at and after the leap; RMS within 25 % of lan-default's (run here too).
 * Every run also keeps to the kernel's limits (no refused or clamped adjustment).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_paths.h"

#define SEEDS_MAX 16

static void run(const char *file, struct sim_scenario *scn, struct sim_result *res, struct sim_summary *sum)
{
	char path[512], err[512];
	if (!sim_scn_load(scn, sim_scenario_path(file, path, sizeof path), err, sizeof err))
		fail_msg("%s", err);
	assert_true(scn->seeds <= SEEDS_MAX);
	if (!sim_run_scenario(scn, NULL, res, sum, err, sizeof err))
		fail_msg("%s: %s", file, err);
	char line[768];
	sim_summary_line(scn, sum, line, sizeof line);
	print_message("%s\n", line);
	for (unsigned i = 0; i < scn->seeds; i++) {
		const struct sim_result *r = &res[i];
		print_message("  seed %llu: event at %.0f s (poll %.0f s), <1ms after %.0f s, stays <1ms after %.0f s, max from 60 s after that %.1f us, "
			      "requests in 60 s %llu, external steps %u, kernel leaps %u/%u, restarts %u, jumps %u "
			      "(alarms %u), steps %u, panic %u s, falseticker %u s\n",
			      (unsigned long long)r->seed, r->event_s, r->ev_poll_s, r->ev_lock_s, r->ev_stay_1ms_s, r->ev_max_s * 1e6,
			      (unsigned long long)r->ev_sent_60s, r->ext_steps, r->kernel_leaps, r->eng_kernel_leaps,
			      r->restarts_ext, r->jumps, r->jump_alarms, r->steps, r->panic_s, r->falseticker_s);
		assert_int_equal(r->adj_refused, 0);
		assert_int_equal(r->adj_clamped, 0);
		assert_int_equal(r->panic_s, 0);
		assert_int_equal(r->other_steps, 0);
		assert_true(r->event_s >= 0);
	}
}

static void resumed(const char *file, unsigned steps)
{
	static struct sim_scenario scn;
	struct sim_result res[SEEDS_MAX];
	struct sim_summary s;
	run(file, &scn, res, &s);
	for (unsigned i = 0; i < scn.seeds; i++) {
		const struct sim_result *r = &res[i];
		assert_int_equal(r->ext_steps, 1);
		assert_int_equal(r->restarts_ext, 1);
		assert_int_equal(r->steps, steps);
		assert_int_equal(r->jumps, 0);
		assert_int_equal(r->falseticker_s, 0);
		/* every source polled at once: the restart's burst (to each of the 3 servers)
		 * goes on until each has given 3 samples (ENG_DIST_SAMPLES), then stops */
		assert_true(r->ev_sent_60s >= 3 * 3);
		assert_true(r->ev_stay_1ms_s >= 0 && r->ev_stay_1ms_s <= 20);
		assert_true(r->ev_max_s < 300e-6);
		assert_true(r->max_abs_s < 300e-6);         /* from 30 min after the resume */
		assert_true(r->dropped_paused == 0 || r->dropped_paused < 10);
	}
}

static void test_suspend(void **state)
{
	(void)state;
	resumed("suspend.scn", 1);        /* set 0.3 s ahead: stepped */
}

static void test_suspend_behind(void **state)
{
	(void)state;
	resumed("suspend-behind.scn", 1); /* set 2 s behind: stepped */
}

static void test_suspend_slew(void **state)
{
	(void)state;
	resumed("suspend-slew.scn", 0);   /* set 50 ms behind: slewed, no step */
}

static void jumped(const char *file)
{
	static struct sim_scenario scn;
	struct sim_result res[SEEDS_MAX];
	struct sim_summary s;
	run(file, &scn, res, &s);
	for (unsigned i = 0; i < scn.seeds; i++) {
		const struct sim_result *r = &res[i];
		assert_int_equal(r->ext_steps, 0);
		assert_int_equal(r->restarts_ext, 0);
		assert_int_equal(r->jumps, 1);
		assert_int_equal(r->steps, 1);
		assert_int_equal(r->falseticker_s, 0);
		/* the first answer after the resume comes at the next poll: within the poll
		 * interval in use (plus its 1/16 jitter), then the burst decides */
		assert_true(r->ev_poll_s >= 8);
		assert_true(r->ev_stay_1ms_s >= 0 && r->ev_stay_1ms_s <= r->ev_poll_s * 17 / 16 + 30);
		assert_true(r->ev_max_s < 300e-6);
		assert_true(r->max_abs_s < 300e-6);
	}
}

static void test_suspend_unset(void **state)
{
	(void)state;
	jumped("suspend-unset.scn");
}

static void test_migrate(void **state)
{
	(void)state;
	jumped("migrate.scn");
}

static double lan_default_rms_us;

static void leap(const char *file)
{
	static struct sim_scenario scn;
	struct sim_result res[SEEDS_MAX];
	struct sim_summary s;
	run(file, &scn, res, &s);
	for (unsigned i = 0; i < scn.seeds; i++) {
		const struct sim_result *r = &res[i];
		assert_int_equal(r->kernel_leaps, 1);      /* exactly one, by the kernel */
		assert_int_equal(r->ext_steps, 1);         /* the daemon saw it ... */
		assert_int_equal(r->eng_kernel_leaps, 1);  /* ... and the engine knew it */
		assert_int_equal(r->restarts_ext, 0);
		assert_int_equal(r->jumps, 0);
		assert_int_equal(r->steps, 0);
		assert_int_equal(r->falseticker_s, 0);
		assert_true(r->ev_lock_s == 0);            /* under 1 ms at the leap ... */
		assert_true(r->ev_stay_1ms_s == 0);        /* ... and ever after */
		assert_true(r->ev_max_s < 300e-6);
	}
	if (lan_default_rms_us <= 0) {
		static struct sim_scenario ld;
		struct sim_result lr[SEEDS_MAX];
		struct sim_summary ls;
		char path[512], err[512];
		if (!sim_scn_load(&ld, sim_scenario_path("lan-default.scn", path, sizeof path), err, sizeof err))
			fail_msg("%s", err);
		if (!sim_run_scenario(&ld, NULL, lr, &ls, err, sizeof err))
			fail_msg("lan-default: %s", err);
		lan_default_rms_us = ls.rms_us;
	}
	print_message("%s: RMS %.2f us, lan-default %.2f us\n", file, s.rms_us, lan_default_rms_us);
	assert_true(s.rms_us <= 1.25 * lan_default_rms_us);
	assert_int_equal(s.steps, 0);
}

static void test_leap_insert(void **state)
{
	(void)state;
	leap("leap-insert.scn");
}

static void test_leap_delete(void **state)
{
	(void)state;
	leap("leap-delete.scn");
}

/* The scenario keys of a disturbance, and their errors. */
static void test_scenario_keys(void **state)
{
	(void)state;
	static struct sim_scenario scn;
	char err[256];
	const char *ok = "[scenario]\nname = x\nstart_date = 2016-12-30\nleap = insert\nsteps_expected = 1\n"
			 "[client]\nsuspend_at_h = 2\nsuspend_h = 1.5\nresume_error_s = -2\n"
			 "migrate_at_s = 100\nmigrate_s = 30\n[server]\n";
	assert_true(sim_scn_parse(&scn, ok, err, sizeof err));
	assert_int_equal(scn.start_unix_s, 1483056000LL); /* 2016-12-30 00:00:00 UTC */
	assert_int_equal(scn.leap, 1);
	assert_int_equal(scn.steps_expected, 1);
	assert_true(scn.client.suspend_at_s == 7200 && scn.client.suspend_s == 5400);
	assert_true(scn.client.resume_set && scn.client.resume_error_s == -2);
	assert_true(scn.client.migrate_at_s == 100 && scn.client.migrate_s == 30);
	assert_true(sim_scn_parse(&scn, "[scenario]\nleap = delete\n[client]\nresume_set = 0\n[server]\n", err, sizeof err));
	assert_int_equal(scn.leap, -1);
	assert_false(scn.client.resume_set);
	assert_int_equal(scn.start_unix_s, SIM_T0_UNIX_S);
	static const char *const bad[] = {
		"[scenario]\nstart_date = 2026-02-29\n[server]\n",       /* not a leap year */
		"[scenario]\nstart_date = 2026-13-01\n[server]\n",
		"[scenario]\nstart_date = 2026-06-01x\n[server]\n",
		"[scenario]\nleap = maybe\n[server]\n",
		"[client]\nsuspend_at_s = 100\nsuspend_s = 50\nmigrate_at_s = 120\nmigrate_s = 5\n[server]\n",
		"[client]\nresume_set = 2\n[server]\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_false(sim_scn_parse(&scn, bad[i], err, sizeof err));
		assert_true(err[0] != '\0');
	}
}

/* A paused node's clocks stand still; its own time maps back to true time. */
static void test_clock_pause(void **state)
{
	(void)state;
	struct sim_clock c;
	sim_clock_init(&c, 0.0, 0.0, 0.0, 1, 1);
	assert_true(sim_clock_add_pause(&c, 10 * SIM_NS_PER_S, 5 * SIM_NS_PER_S));
	assert_false(sim_clock_add_pause(&c, 12 * SIM_NS_PER_S, 1 * SIM_NS_PER_S)); /* overlaps */
	assert_true(sim_clock_add_pause(&c, 20 * SIM_NS_PER_S, 2 * SIM_NS_PER_S));
	assert_false(sim_clock_add_pause(&c, 30 * SIM_NS_PER_S, 1 * SIM_NS_PER_S)); /* full */
	assert_int_equal(sim_clock_local(&c, 9 * SIM_NS_PER_S), 9 * SIM_NS_PER_S);
	assert_int_equal(sim_clock_local(&c, 12 * SIM_NS_PER_S), 10 * SIM_NS_PER_S);
	assert_int_equal(sim_clock_local(&c, 16 * SIM_NS_PER_S), 11 * SIM_NS_PER_S);
	assert_int_equal(sim_clock_local(&c, 30 * SIM_NS_PER_S), 23 * SIM_NS_PER_S);
	assert_int_equal(sim_clock_true_at(&c, 10 * SIM_NS_PER_S), 10 * SIM_NS_PER_S);
	assert_int_equal(sim_clock_true_at(&c, 11 * SIM_NS_PER_S), 16 * SIM_NS_PER_S);
	assert_int_equal(sim_clock_true_at(&c, 23 * SIM_NS_PER_S), 30 * SIM_NS_PER_S);
	assert_false(sim_clock_paused(&c, 10 * SIM_NS_PER_S));
	assert_true(sim_clock_paused(&c, 12 * SIM_NS_PER_S));
	assert_false(sim_clock_paused(&c, 15 * SIM_NS_PER_S));
	int64_t r0 = sim_clock_real(&c, 10 * SIM_NS_PER_S);
	int64_t m0 = sim_clock_mono(&c, 10 * SIM_NS_PER_S);
	assert_int_equal(sim_clock_real(&c, 14 * SIM_NS_PER_S), r0);  /* stood still */
	assert_int_equal(sim_clock_mono(&c, 15 * SIM_NS_PER_S), m0);
	assert_int_equal(sim_clock_real(&c, 16 * SIM_NS_PER_S), r0 + SIM_NS_PER_S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenario_keys),
		cmocka_unit_test(test_clock_pause),
		cmocka_unit_test(test_suspend),
		cmocka_unit_test(test_suspend_behind),
		cmocka_unit_test(test_suspend_slew),
		cmocka_unit_test(test_suspend_unset),
		cmocka_unit_test(test_migrate),
		cmocka_unit_test(test_leap_insert),
		cmocka_unit_test(test_leap_delete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
