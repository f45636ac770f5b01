/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The scenario file format: defaults, sections, units, every error with its line, the
 * shipped scenario files all parse, and the recorded-figures file parses and names only
 * scenarios that exist.
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
#include <unistd.h>

#include "sim.h"
#include "sim_paths.h"

static void test_parse(void **state)
{
	(void)state;
	struct sim_scenario s;
	char err[256] = "";
	const char *text =
		"# comment\n"
		"[scenario]\n name = x1 \nduration_h = 2 # trailing comment\nseeds = 3\nreport_at_h = 1.5\n"
		"[client]\nminpoll = 4\nmaxpoll = 6\nfreq_ppm = -20\ndrift_ppm = 1.5\nmono = linux\ndiscipline = rfc\n"
		"[server]\nkind = false\noffset_ms = 50\ndelay_ms = 10\njitter_us = 7\nspike_frac = 0.01\nspike_ms = 50\n"
		"asym_us = 3\nloss = 0.1\nrefid = PPS\n"
		"[server]\nkind = vanish\nvanish_start_h = 1\nvanish_end_h = 2\n"
		"[target]\nchrony_rms_us = 22.7\n";
	assert_true(sim_scn_parse(&s, text, err, sizeof err));
	assert_string_equal(s.name, "x1");
	assert_true(s.duration_s == 7200.0);
	assert_int_equal(s.seeds, 3);
	assert_true(s.report_at_s == 5400.0);
	assert_true(s.warmup_s == 3600.0);
	assert_int_equal(s.client.minpoll, 4);
	assert_int_equal(s.client.maxpoll, 6);
	assert_true(s.client.freq_ppm == -20.0);
	assert_true(s.client.have_drift && s.client.drift_ppm == 1.5);
	assert_true(s.client.mono_linux);
	assert_int_equal(s.client.discipline, 1);
	assert_true(s.client.offset_s == 0.1 && s.client.wander == 1e-9 && s.client.iburst);
	assert_int_equal(s.n_servers, 2);
	assert_int_equal(s.servers[0].kind, SIM_SRV_FALSE);
	assert_true(fabs(s.servers[0].offset_s - 0.05) < 1e-15);
	assert_true(fabs(s.servers[0].link.delay_s - 0.01) < 1e-15);
	assert_true(fabs(s.servers[0].link.jitter_s - 7e-6) < 1e-15);
	assert_true(fabs(s.servers[0].link.spike_s - 0.05) < 1e-15);
	assert_true(fabs(s.servers[0].link.asym_s - 3e-6) < 1e-15);
	assert_string_equal(s.servers[0].refid, "PPS");
	assert_int_equal(s.servers[1].kind, SIM_SRV_VANISH);
	assert_true(s.servers[1].vanish_end_s == 7200.0);
	assert_true(fabs(s.servers[1].link.delay_s - 100e-6) < 1e-15); /* default LAN */
	assert_int_equal(s.servers[1].stratum, 1);
	assert_true(s.targets.chrony_rms_us == 22.7);
}

static void test_gnomon_nodes(void **state)
{
	(void)state;
	struct sim_scenario s;
	char err[256] = "";
	const char *text =
		"[server]\nname = gps\n[server]\n"
		"[gnomon]\nname = up\nsources = gps, s2\ndelay_ms = 3\n"
		"[gnomon]\nname = peer\nsources = up client\n"
		"[client]\nsources = up peer gps\n";
	if (!sim_scn_parse(&s, text, err, sizeof err))
		fail_msg("%s", err);
	assert_int_equal(s.n_gnomons, 2);
	assert_string_equal(s.gnomons[0].name, "up");
	assert_int_equal(s.gnomons[0].n_sources, 2);
	assert_int_equal(s.gnomons[0].sources[0], 0);
	assert_int_equal(s.gnomons[0].sources[1], 1);
	assert_true(fabs(s.gnomons[0].link.delay_s - 3e-3) < 1e-15);
	assert_int_equal(s.gnomons[1].sources[0], SIM_REF_GNOMON + 1);
	assert_int_equal(s.gnomons[1].sources[1], SIM_REF_GNOMON);
	assert_int_equal(s.client.n_sources, 3);
	assert_int_equal(s.client.sources[0], SIM_REF_GNOMON + 1);
	assert_int_equal(s.client.sources[1], SIM_REF_GNOMON + 2);
	assert_int_equal(s.client.sources[2], 0);
	/* Without `sources`, every server. */
	assert_true(sim_scn_parse(&s, "[server]\n[server]\n", err, sizeof err));
	assert_int_equal(s.client.n_sources, 2);
	assert_string_equal(s.servers[1].name, "s2");
}

static void expect_error(const char *text, const char *want)
{
	struct sim_scenario s;
	char err[256] = "";
	assert_false(sim_scn_parse(&s, text, err, sizeof err));
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[scenario]\nname = a\n", "no [server]");
	expect_error("[server]\n\nbogus = 1\n", "line 3: bogus: unknown key");
	expect_error("[server]\ndelay_us = fast\n", "line 2: delay_us: expected a number");
	expect_error("[client]\nminpoll = 4.5\n[server]\n", "line 2: minpoll: expected an integer");
	expect_error("[client]\nminpoll = 8\nmaxpoll = 6\n[server]\n", "minpoll above maxpoll");
	expect_error("name = x\n", "line 1: name: key outside a section");
	expect_error("[servers]\n", "line 1: unknown section");
	expect_error("[server]\nkind = liar\n", "kind is perfect, false or vanish");
	expect_error("[client]\nmono = cooked\n[server]\n", "mono is raw or linux");
	expect_error("[client]\ndiscipline = magic\n[server]\n", "discipline is gnomon or rfc");
	expect_error("[server]\n[client]\nsources = nowhere\n", "client: sources: no server or gnomon named nowhere");
	expect_error("[server]\n[client]\nsources = client\n", "cannot use itself");
	expect_error("[server]\n[gnomon]\nsources = s1\n", "has no name");
	expect_error("[server]\n[gnomon]\nname = a\nminpoll = 11\n", "a: minpoll above maxpoll");
	expect_error("[server]\nno equals sign\n", "line 2: expected key = value");
	expect_error("[server]\nrefid = TOOLONG\n", "at most 4");
	expect_error("[scenario]\nduration_h = 0\n[server]\n", "duration must be positive");
	char many[1024] = "";
	size_t used = 0;
	for (int i = 0; i < SIM_MAX_SERVERS + 1; i++)
		used += (size_t)snprintf(many + used, sizeof many - used, "[server]\n");
	expect_error(many, "more than");
}

static const char *const shipped[] = {
	"lan-fixed.scn", "lan-default.scn", "wan.scn", "falseticker.scn", "outage.scn", "spikes.scn",
	"lan-fixed-mono.scn", "chain.scn",
};

static void test_shipped_files(void **state)
{
	(void)state;
	char path[512], err[512];
	struct sim_scenario s;
	for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
		sim_scenario_path(shipped[i], path, sizeof path);
		if (!sim_scn_load(&s, path, err, sizeof err))
			fail_msg("%s", err);
		/* The file's name is the scenario's name. */
		assert_true(strlen(shipped[i]) == strlen(s.name) + 4);
		assert_true(strncmp(shipped[i], s.name, strlen(s.name)) == 0);
		assert_int_equal(s.seeds, 5);
		/* The client model every figure was measured under. */
		assert_true(s.client.offset_s == 0.1 && s.client.freq_ppm == 100.0 &&
			    s.client.wander == 1e-9 && s.client.iburst && !s.client.have_drift);
	}
	struct sim_recorded rec[64];
	sim_scenario_path("recorded.txt", path, sizeof path);
	int n = sim_recorded_load(path, rec, 64, err, sizeof err);
	if (n < 0)
		fail_msg("%s", err);
	assert_true(n >= 6);
	for (int i = 0; i < n; i++) {
		char scn_file[128];
		snprintf(scn_file, sizeof scn_file, "%.63s.scn", rec[i].name);
		sim_scenario_path(scn_file, path, sizeof path);
		if (!sim_scn_load(&s, path, err, sizeof err))
			fail_msg("recorded.txt names %s: %s", rec[i].name, err);
	}
	assert_true(sim_scn_load(&s, "/nonexistent/x.scn", err, sizeof err) == false);
	/* A malformed recorded line is an error with its line number. */
	char tmp[] = "/tmp/gnomon-recorded-XXXXXX";
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("# comment\nlan 1 2 3 4 0 5\nbroken 1 2\n", f);
	fclose(f);
	assert_int_equal(sim_recorded_load(tmp, rec, 64, err, sizeof err), -1);
	assert_non_null(strstr(err, ":3: expected"));
	unlink(tmp);
}

static void test_summary(void **state)
{
	(void)state;
	struct sim_result r[5] = { 0 };
	double rms[5] = { 10e-6, 20e-6, 30e-6, 40e-6, 50e-6 };
	double lock[5] = { 6, 2, -1, 4, 5 };     /* -1: never */
	double stay[5] = { 50, -1, -1, 10, -1 };
	for (int i = 0; i < 5; i++) {
		r[i].rms_s = rms[i];
		r[i].max_abs_s = rms[i] * 3;
		r[i].lock_1ms_s = lock[i];
		r[i].stay_100us_s = stay[i];
		r[i].steps = (unsigned)(i == 2);
		r[i].other_steps = (unsigned)(i == 4);
		r[i].pkts_per_h = 60 + i;
		r[i].report_offset_s = i % 2 ? -1e-3 : 2e-3;
	}
	struct sim_summary s;
	sim_summarize(r, 5, &s);
	assert_true(fabs(s.rms_us - 30.0) < 1e-9);        /* mean */
	assert_true(fabs(s.max_us - 150.0) < 1e-9);       /* largest */
	assert_true(s.lock_1ms_s == 5.0);                 /* median, never counted as longest */
	assert_true(s.stay_100us_s == -1.0);              /* the median seed never stays */
	assert_int_equal(s.steps, 2);                     /* every node's */
	assert_true(fabs(s.pkts_per_h - 62.0) < 1e-9);
	assert_true(fabs(s.report_us - 1600.0) < 1e-9);   /* mean |offset| */
	assert_true(fabs(s.report_max_us - 2000.0) < 1e-9);
	char line[512];
	struct sim_scenario scn;
	sim_scn_defaults(&scn);
	sim_summary_line(&scn, &s, line, sizeof line);
	assert_non_null(strstr(line, "rms    30.00 us"));
	assert_non_null(strstr(line, "<100us    never"));
	/* Even count: the mean of the middle two. */
	sim_summarize(r, 4, &s);
	assert_true(s.lock_1ms_s == 5.0);                 /* sorted 2 4 6 never: (4 + 6) / 2 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_gnomon_nodes),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_shipped_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
