/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The simulator is deterministic: the same scenario and seed give the same figures and the
 * same per-second offsets, bit for bit; another seed gives other figures. Also runs a
 * short multi-server run through every event path (loss, asymmetry, spikes, a vanishing
 * and a false server), and runs with several engines (a chain, a loop of two).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_paths.h"

struct run {
	struct sim_result r;
	char *samples;
	size_t len;
};

static void run(const struct sim_scenario *scn, uint64_t seed, double dur_s, struct run *out)
{
	FILE *f = open_memstream(&out->samples, &out->len);
	assert_non_null(f);
	struct sim_opts o = { .samples = f, .duration_s = dur_s };
	char err[256];
	if (!sim_run(scn, seed, &o, &out->r, err, sizeof err))
		fail_msg("sim_run: %s", err);
	fclose(f);
}

static void load(const char *name, struct sim_scenario *s)
{
	char path[512], err[512];
	if (!sim_scn_load(s, sim_scenario_path(name, path, sizeof path), err, sizeof err))
		fail_msg("%s", err);
}

static void test_same_seed_same_figures(void **state)
{
	(void)state;
	struct sim_scenario s;
	load("lan-fixed.scn", &s);
	struct run a, b, c;
	run(&s, 1, 6 * 3600.0, &a);
	run(&s, 1, 6 * 3600.0, &b);
	run(&s, 2, 6 * 3600.0, &c);
	assert_int_equal(a.r.samples, 6 * 3600 + 1);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.samples, b.samples, a.len);
	assert_true(a.r.rms_s == b.r.rms_s && a.r.max_abs_s == b.r.max_abs_s);
	assert_true(a.r.lock_1ms_s == b.r.lock_1ms_s && a.r.stay_100us_s == b.r.stay_100us_s);
	assert_int_equal(a.r.client_sent, b.r.client_sent);
	assert_int_equal(a.r.events, b.r.events);
	/* Another seed: other numbers. */
	assert_true(a.r.rms_s != c.r.rms_s);
	assert_true(a.len != c.len || memcmp(a.samples, c.samples, a.len) != 0);
	/* The samples start at the initial offset: +0.1 s at t = 0. */
	assert_memory_equal(a.samples, "0 0.100000000 ", 14);
	free(a.samples);
	free(b.samples);
	free(c.samples);
}

static void test_every_path(void **state)
{
	(void)state;
	struct sim_scenario s;
	char err[256];
	const char *text =
		"[scenario]\nname = paths\nduration_h = 3\n"
		"[client]\nminpoll = 4\nmaxpoll = 5\n"
		"[server]\nloss = 0.2\nasym_us = 50\nspike_frac = 0.1\nspike_ms = 20\n"
		"[server]\nkind = vanish\nvanish_start_h = 1\nvanish_end_h = 2\n"
		"[server]\nkind = false\noffset_ms = 50\n"
		"[server]\n";
	assert_true(sim_scn_parse(&s, text, err, sizeof err));
	struct run a, b;
	run(&s, 9, 0, &a);
	run(&s, 9, 0, &b);
	assert_memory_equal(a.samples, b.samples, a.len);
	assert_int_equal(a.r.samples, 3 * 3600 + 1);
	assert_true(a.r.client_sent > 100);
	assert_true(a.r.adj_count > 0);
	free(a.samples);
	free(b.samples);
}

static void test_gnomon_nodes_deterministic(void **state)
{
	(void)state;
	/* Engines serving engines: the chain scenario, and a loop of two. */
	struct sim_scenario s;
	load("chain.scn", &s);
	struct run a, b;
	run(&s, 4, 2 * 3600.0, &a);
	run(&s, 4, 2 * 3600.0, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.samples, b.samples, a.len);
	/* The client hears its upstream gnomon node, which answers from its server side. */
	assert_true(a.r.client_received > a.r.client_sent / 2);
	assert_true(a.r.lock_1ms_s >= 0);
	free(a.samples);
	free(b.samples);
	char err[256];
	assert_true(sim_scn_parse(&s, "[scenario]\nduration_h = 1\n[server]\n[gnomon]\nname = b\nsources = s1 client\n"
				 "[client]\nsources = s1 b\n", err, sizeof err));
	run(&s, 4, 0, &a);
	run(&s, 4, 0, &b);
	assert_memory_equal(a.samples, b.samples, a.len);
	free(a.samples);
	free(b.samples);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_figures),
		cmocka_unit_test(test_every_path),
		cmocka_unit_test(test_gnomon_nodes_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
