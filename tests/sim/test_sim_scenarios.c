/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The accuracy scenarios against their recorded figures (tests/sim/scenarios/recorded.txt,
 * also the table in docs/accuracy.md): each full scenario, 5 seeds, must give every
 * figure within 10 % of the recorded one. Worse fails as a regression; better by more
 * than 10 % also fails, asking for the recorded figure to be lowered, so the record only
 * moves down. Times have one-second resolution, so they may also differ by 1 s; a
 * recorded 0 (steps) or "never" must match exactly. Every run must also keep to the
 * kernel's limits (no adjustment Linux would refuse or clamp) and never step.
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

#define MAX_REC 64
#define TOL 0.10

static struct sim_recorded rec[MAX_REC];
static char names[MAX_REC][SIM_NAME_MAX + 16];

static int check(const char *scn, const char *what, double got, double want, double abs_tol)
{
	double tol = fmax(TOL * fabs(want), abs_tol);
	if (want < 0 || got < 0) { /* "never" */
		if (got == want)
			return 0;
		print_error("%s: %s is %g, recorded %g (-1 = never)\n", scn, what, got, want);
		return 1;
	}
	if (got > want + tol) {
		print_error("%s: %s regressed: %.3f, recorded %.3f (tolerance %.3f)\n", scn, what, got, want, tol);
		return 1;
	}
	if (got < want - tol) {
		print_error("%s: %s improved: %.3f, recorded %.3f: lower the figure in "
			    "tests/sim/scenarios/recorded.txt and docs/accuracy.md\n", scn, what, got, want);
		return 1;
	}
	return 0;
}

static void test_scenario(void **state)
{
	const struct sim_recorded *r = *state;
	char file[128], path[512], err[512];
	snprintf(file, sizeof file, "%.63s.scn", r->name);
	struct sim_scenario scn;
	if (!sim_scn_load(&scn, sim_scenario_path(file, path, sizeof path), err, sizeof err))
		fail_msg("%s", err);
	struct sim_result res[16];
	assert_true(scn.seeds <= 16);
	struct sim_summary s;
	if (!sim_run_scenario(&scn, NULL, res, &s, err, sizeof err))
		fail_msg("%s: %s", r->name, err);
	char line[512];
	sim_summary_line(&scn, &s, line, sizeof line);
	print_message("%s\n", line);
	int bad = 0;
	bad += check(r->name, "rms_us", s.rms_us, r->rms_us, 0);
	bad += check(r->name, "max_us", s.max_us, r->max_us, 0);
	bad += check(r->name, "lock_1ms_s", s.lock_1ms_s, r->lock_1ms_s, 1.0);
	bad += check(r->name, "stay_100us_s", s.stay_100us_s, r->stay_100us_s, 1.0);
	bad += check(r->name, "steps", s.steps, r->steps, 0);
	bad += check(r->name, "pkts_per_h", s.pkts_per_h, r->pkts_per_h, 0);
	for (unsigned i = 0; i < scn.seeds; i++) {
		if (res[i].other_steps) {
			print_error("%s seed %llu: the other gnomon nodes stepped %u times\n", r->name,
				    (unsigned long long)res[i].seed, res[i].other_steps);
			bad++;
		}
		if (res[i].adj_refused || res[i].adj_clamped) {
			print_error("%s seed %llu: %llu adjustments the kernel refuses, %llu beyond ±500 ppm\n",
				    r->name, (unsigned long long)res[i].seed, (unsigned long long)res[i].adj_refused,
				    (unsigned long long)res[i].adj_clamped);
			bad++;
		}
	}
	if (s.steps != 0) {
		print_error("%s: the clock was stepped %u times (gnomon's goal: no step)\n", r->name, s.steps);
		bad++;
	}
	if (bad)
		fail_msg("%s: %d figure(s) off the record", r->name, bad);
}

int main(void)
{
	char path[512], err[512];
	int n = sim_recorded_load(sim_scenario_path("recorded.txt", path, sizeof path), rec, MAX_REC, err, sizeof err);
	if (n <= 0) {
		fprintf(stderr, "%s\n", n < 0 ? err : "recorded.txt is empty");
		return 1;
	}
	struct CMUnitTest tests[MAX_REC];
	for (int i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "scenario %.63s", rec[i].name);
		tests[i] = (struct CMUnitTest){ .name = names[i], .test_func = test_scenario, .initial_state = &rec[i] };
	}
	return _cmocka_run_group_tests("sim scenarios", tests, (size_t)n, NULL, NULL);
}
