/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gnomon-sim: runs simulator scenarios (tests/sim/scenarios, one .scn each) and prints one line per
 * scenario, the accuracy table beside the chrony/NTPsec targets (--table), or the lines
 * of the recorded-figures file (--record). Used by scripts/sim-table.sh.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define MAX_SCN 64

static void usage(void)
{
	fprintf(stderr,
		"usage: gnomon-sim [options] scenario.scn...\n"
		"  -n N       seeds per scenario (default: the scenario's, 5)\n"
		"  -S SEED    first seed (default: the scenario's)\n"
		"  -d HOURS   simulated duration (default: the scenario's)\n"
		"  -p         a line per seed too\n"
		"  -v         engine log lines on stderr;  -t  also every clock action\n"
		"  -o FILE    per-second offsets of the (single) run to FILE\n"
		"  -D NAME    discipline for every scenario: gnomon or rfc\n"
		"  -s SECS    every SECS simulated seconds, each engine's status and sources (with -v)\n"
		"  --table    the accuracy table beside the chrony/NTPsec targets\n"
		"  --record   lines for tests/sim/scenarios/recorded.txt\n"
		"  --markdown the table's rows for docs/accuracy.md\n");
}

static void fmt_t(char *b, size_t n, double t)
{
	if (t < 0)
		snprintf(b, n, "never");
	else
		snprintf(b, n, "%.0f", t);
}

static void fmt_opt(char *b, size_t n, double v, int prec)
{
	if (v > 0)
		snprintf(b, n, "%.*f", prec, v);
	else
		snprintf(b, n, "-");
}

int main(int argc, char **argv)
{
	int discipline = -1, n_seeds = 0, per_seed = 0, table = 0, record = 0, verbose = 0, tr = 0, markdown = 0;
	long long seed = -1;
	double dur_h = 0, dump_s = 0;
	const char *samples_path = NULL;
	static const struct option longopts[] = {
		{ "table", no_argument, NULL, 'T' },
		{ "record", no_argument, NULL, 'R' },
		{ "markdown", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "n:S:d:pvto:D:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': n_seeds = atoi(optarg); break;
		case 'S': seed = atoll(optarg); break;
		case 'd': dur_h = atof(optarg); break;
		case 'p': per_seed = 1; break;
		case 'v': verbose = 1; break;
		case 't': verbose = 1; tr = 1; break;
		case 'o': samples_path = optarg; break;
		case 's': dump_s = atof(optarg); break;
		case 'D':
			if (strcmp(optarg, "gnomon") == 0)
				discipline = 0;
			else if (strcmp(optarg, "rfc") == 0)
				discipline = 1;
			else {
				usage();
				return 2;
			}
			break;
		case 'T': table = 1; break;
		case 'R': record = 1; break;
		case 'M': table = 1; markdown = 1; break;
		default: usage(); return 2;
		}
	}
	if (optind >= argc || argc - optind > MAX_SCN) {
		usage();
		return 2;
	}
	struct sim_opts opts = { .log = verbose ? stderr : NULL, .trace = tr, .duration_s = dur_h * 3600.0,
				 .dump_every_s = dump_s };
	FILE *sf = NULL;
	if (samples_path != NULL) {
		sf = fopen(samples_path, "w");
		if (sf == NULL) {
			perror(samples_path);
			return 1;
		}
		opts.samples = sf;
	}
	static struct sim_scenario scn[MAX_SCN];
	static struct sim_summary sum[MAX_SCN];
	int n = argc - optind, rc = 0;
	if (record) {
		time_t now = time(NULL);
		struct tm tm;
		char date[32];
		gmtime_r(&now, &tm);
		strftime(date, sizeof date, "%Y-%m-%d", &tm);
		printf("# Recorded accuracy figures of the simulator scenarios (tests/sim/scenarios/NAME.scn),\n"
		       "# 5 seeds each, recorded %s. Kept in step with docs/accuracy.md; test_sim_scenarios\n"
		       "# asserts each figure within 10 %%. Figures only move down. Regenerate with\n"
		       "#   scripts/sim-table.sh BUILD_DIR --record > tests/sim/scenarios/recorded.txt\n"
		       "# name          rms_us  max_us  lock_1ms_s  stay_100us_s(-1 never)  steps  pkts_per_h\n", date);
	}
	if (table && !markdown) {
		time_t now = time(NULL);
		struct tm tm;
		char date[32];
		gmtime_r(&now, &tm);
		strftime(date, sizeof date, "%Y-%m-%d", &tm);
		printf("gnomon simulator, %s; figures: mean RMS |offset| after 1 h (µs), largest |offset| after 1 h (µs),\n"
		       "median time to |offset| < 1 ms and to stay < 100 µs (s), steps (all seeds), requests/h\n\n", date);
		printf("%-14s %9s %9s %6s %9s %9s %7s %7s %7s %7s %5s %7s  %s\n", "scenario", "rms", "chrony", "ratio",
		       "ntpsec", "max", "chrony", "<1ms", "chrony", "<100us", "steps", "pkts/h", "goal");
	}
	for (int i = 0; i < n; i++) {
		char err[512];
		const char *path = argv[optind + i];
		if (!sim_scn_load(&scn[i], path, err, sizeof err)) {
			fprintf(stderr, "gnomon-sim: %s\n", err);
			return 1;
		}
		if (n_seeds > 0)
			scn[i].seeds = (unsigned)n_seeds;
		if (seed >= 0)
			scn[i].seed_base = (uint64_t)seed;
		if (discipline >= 0)
			scn[i].client.discipline = discipline;
		struct sim_result *res = calloc(scn[i].seeds, sizeof *res);
		if (res == NULL)
			return 1;
		if (!sim_run_scenario(&scn[i], &opts, res, &sum[i], err, sizeof err)) {
			fprintf(stderr, "gnomon-sim: %s: %s\n", scn[i].name, err);
			free(res);
			return 1;
		}
		if (per_seed)
			for (unsigned k = 0; k < scn[i].seeds; k++)
				printf("  seed %-4llu rms %8.2f us  max %8.1f us  <1ms %5.0f s  <100us %6.0f s  steps %u (others %u)  sent %llu"
				       "  freq %.4f ppm  report %.1f us  events %llu  logs %llu\n",
				       (unsigned long long)res[k].seed, res[k].rms_s * 1e6, res[k].max_abs_s * 1e6,
				       res[k].lock_1ms_s, res[k].stay_100us_s, res[k].steps, res[k].other_steps,
				       (unsigned long long)res[k].client_sent, res[k].final_freq_ppm,
				       res[k].report_offset_s * 1e6, (unsigned long long)res[k].events,
				       (unsigned long long)res[k].logs);
		if (per_seed)
			for (unsigned k = 0; k < scn[i].seeds; k++)
				if (res[k].event_s >= 0)
					printf("  seed %-4llu after the event at %.0f s: <1ms %.0f s, stays <1ms %.0f s, max from 60 s after that %.1f us, "
					       "requests in 60 s %llu, external steps %u, kernel leaps %u (engine %u), restarts %u, "
					       "jumps %u (alarms %u), panic %u s, falseticker %u s, lost while paused %llu\n",
					       (unsigned long long)res[k].seed, res[k].event_s, res[k].ev_lock_s, res[k].ev_stay_1ms_s,
					       res[k].ev_max_s * 1e6, (unsigned long long)res[k].ev_sent_60s, res[k].ext_steps,
					       res[k].kernel_leaps, res[k].eng_kernel_leaps, res[k].restarts_ext, res[k].jumps,
					       res[k].jump_alarms, res[k].panic_s, res[k].falseticker_s,
					       (unsigned long long)res[k].dropped_paused);
		free(res);
		const struct sim_summary *s = &sum[i];
		unsigned want_steps = scn[i].steps_expected * scn[i].seeds; /* a disturbance's own */
		const struct sim_targets *t = &scn[i].targets;
		if (record && scn[i].steps_expected > 0) {
			/* test_sim_scenarios wants no step: a disturbance that steps by design is
			 * asserted by its own test (tests/sim/test_sim_vm.c) */
			printf("# %s: not recorded (it steps %u time(s) per seed by design; see test_sim_vm)\n",
			       scn[i].name, scn[i].steps_expected);
		} else if (record) {
			printf("%-14s %.2f %.1f %.0f %.0f %u %.1f\n", scn[i].name, s->rms_us, s->max_us,
			       s->lock_1ms_s, s->stay_100us_s, s->steps, s->pkts_per_h);
		} else if (table) {
			char chr[16], ratio[16], nts[16], chmax[16], lock[16], chlock[16], stay[16], chstay[16], goal[192] = "";
			fmt_opt(chr, sizeof chr, t->chrony_rms_us, 1);
			fmt_opt(nts, sizeof nts, t->ntpsec_rms_us, 1);
			fmt_opt(chmax, sizeof chmax, t->chrony_max_us, 0);
			fmt_opt(chlock, sizeof chlock, t->chrony_lock_s, 0);
			fmt_opt(chstay, sizeof chstay, t->chrony_stay_s, 0);
			fmt_t(lock, sizeof lock, s->lock_1ms_s);
			fmt_t(stay, sizeof stay, s->stay_100us_s);
			if (t->chrony_rms_us > 0) {
				double r = s->rms_us / t->chrony_rms_us;
				snprintf(ratio, sizeof ratio, "%.2f", r);
				bool ok = r <= t->goal_ratio && s->steps == want_steps &&
					  (t->chrony_lock_s <= 0 || (s->lock_1ms_s >= 0 && s->lock_1ms_s <= t->chrony_lock_s));
				snprintf(goal, sizeof goal, "%s", ok ? "met" : "NOT met");
			} else {
				snprintf(ratio, sizeof ratio, "-");
				if (want_steps > 0)
					snprintf(goal, sizeof goal, "(no target) %u step(s) %s", s->steps, s->steps == want_steps ?
						 "as the disturbance asks" : "NOT as expected");
				else
					snprintf(goal, sizeof goal, "%s", s->steps == 0 ? "(no target) no step" : "(no target) STEPPED");
			}
			if (scn[i].compare_to[0] != '\0') {
				for (int k = 0; k < i; k++)
					if (strcmp(scn[k].name, scn[i].compare_to) == 0) {
						double r = s->rms_us / sum[k].rms_us;
						size_t l = strlen(goal);
						snprintf(goal + l, sizeof goal - l, "; %.2f x %.32s %s", r, scn[k].name,
							 r <= scn[i].compare_ratio ? "ok" : "NOT ok");
					}
			}
			if (scn[i].report_at_s > 0) {
				size_t l = strlen(goal);
				snprintf(goal + l, sizeof goal - l, "; at %.0f h: %.0f us (max %.0f)",
					 scn[i].report_at_s / 3600, s->report_us, s->report_max_us);
			}
			if (s->has_event) {
				size_t l = strlen(goal);
				snprintf(goal + l, sizeof goal - l, "; after the event <1ms %.0f s, stays %.0f s",
					 s->ev_lock_s, s->ev_stay_1ms_s);
			}
			if (markdown)
				printf("| %s | %.2f | %s | %s | %s | %.1f | %s | %s | %s | %s | %u | %.1f | %s |\n", scn[i].name,
				       s->rms_us, chr, ratio, nts, s->max_us, chmax, lock, chlock, stay, s->steps,
				       s->pkts_per_h, goal);
			else
				printf("%-14s %9.2f %9s %6s %9s %9.1f %7s %7s %7s %7s %5u %7.1f  %s\n", scn[i].name, s->rms_us,
				       chr, ratio, nts, s->max_us, chmax, lock, chlock, stay, s->steps, s->pkts_per_h, goal);
			if (s->steps != want_steps)
				rc = 1;
		} else {
			char line[512];
			sim_summary_line(&scn[i], s, line, sizeof line);
			printf("%s\n", line);
		}
		fflush(stdout);
	}
	if (sf != NULL)
		fclose(sf);
	return rc;
}
