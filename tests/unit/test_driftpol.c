/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_driftpol: the drift file policy (never twice within an hour, a large change written
 * at the next chance, a small one after the hour only if the file's text would change, a
 * settled clock never rewritten, exit, invalid values) and the text format (ntpd's "%.3f",
 * chrony's two numbers, garbage, ±500 ppm).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "driftpol.h"

#define S 1000000000LL
#define H (3600 * S)

static void test_first_write(void **state)
{
	(void)state;
	struct driftpol_params p;
	driftpol_params_default(&p);
	struct driftpol_state st;
	driftpol_state_init(&st);
	assert_int_equal(driftpol_decide(&p, &st, 12.5, 5 * S, false), DRIFTPOL_WRITE_FIRST);
	assert_int_equal(driftpol_decide(&p, &st, NAN, 5 * S, false), DRIFTPOL_SKIP_INVALID);
	assert_int_equal(driftpol_decide(&p, &st, INFINITY, 5 * S, false), DRIFTPOL_SKIP_INVALID);
	assert_int_equal(driftpol_decide(&p, &st, 500.001, 5 * S, false), DRIFTPOL_SKIP_INVALID);
	assert_int_equal(driftpol_decide(&p, &st, -500.0, 5 * S, false), DRIFTPOL_WRITE_FIRST);
	assert_true(driftpol_is_write(DRIFTPOL_WRITE_FIRST));
	assert_true(driftpol_is_write(DRIFTPOL_WRITE_EXIT));
	assert_false(driftpol_is_write(DRIFTPOL_SKIP_TOO_SOON));
	assert_false(driftpol_is_write(DRIFTPOL_SKIP_INVALID));
}

/* Simulate a day of updates every 64 s with a given frequency function; count writes and
 * check no two are within an hour. */
static unsigned run_day(const struct driftpol_params *p, double (*f)(int64_t), bool loaded)
{
	struct driftpol_state st;
	driftpol_state_init(&st);
	if (loaded)
		driftpol_state_loaded(&st, f(0), 0);
	unsigned writes = 0;
	int64_t last = INT64_MIN;
	for (int64_t t = 64 * S; t <= 24 * H; t += 64 * S) {
		double ppm = f(t);
		enum driftpol_verdict v = driftpol_decide(p, &st, ppm, t, false);
		if (driftpol_is_write(v)) {
			if (last != INT64_MIN)
				assert_true(t - last >= H);
			last = t;
			writes++;
			driftpol_state_written(&st, ppm, t);
		}
	}
	return writes;
}

static double settled(int64_t t) { (void)t; return -17.2504; }
static double wander(int64_t t) { return -17.25 + 0.01 * (double)(t / H); }       /* 0.01 ppm/h */
static double noisy(int64_t t) { return 3.0 + ((t / (64 * S)) % 2 ? 0.0002 : -0.0002); }
static double jumping(int64_t t) { return (t / (64 * S)) % 2 ? 40.0 : -40.0; }     /* pathological */

static void test_sd_card_day(void **state)
{
	(void)state;
	struct driftpol_params p;
	driftpol_params_default(&p);
	/* settled clock, value read at start: never rewritten */
	assert_int_equal(run_day(&p, settled, true), 0);
	/* settled, no file at start: written once */
	assert_int_equal(run_day(&p, settled, false), 1);
	/* noise below the file's resolution: once (first) */
	assert_int_equal(run_day(&p, noisy, false), 1);
	/* slow wander: once an hour at most (24 in a day, the first hour included) */
	unsigned w = run_day(&p, wander, true);
	assert_true(w >= 20 && w <= 24);
	/* a frequency jumping 80 ppm every poll: still at most once an hour */
	w = run_day(&p, jumping, false);
	assert_true(w <= 25);
	assert_true(w >= 23);
}

static void test_threshold_and_interval(void **state)
{
	(void)state;
	struct driftpol_params p;
	driftpol_params_default(&p);
	p.min_interval_ns = H;
	p.max_interval_ns = 6 * H;      /* small changes only every six hours */
	p.threshold_ppm = 0.5;
	struct driftpol_state st;
	driftpol_state_init(&st);
	driftpol_state_written(&st, 10.0, 0);
	assert_int_equal(driftpol_decide(&p, &st, 30.0, H - 1, false), DRIFTPOL_SKIP_TOO_SOON);
	assert_int_equal(driftpol_decide(&p, &st, 30.0, H, false), DRIFTPOL_WRITE_CHANGED);
	assert_int_equal(driftpol_decide(&p, &st, 10.5, 2 * H, false), DRIFTPOL_SKIP_UNCHANGED);
	assert_int_equal(driftpol_decide(&p, &st, 10.51, 2 * H, false), DRIFTPOL_WRITE_CHANGED);
	assert_int_equal(driftpol_decide(&p, &st, 10.2, 6 * H - 1, false), DRIFTPOL_SKIP_UNCHANGED);
	assert_int_equal(driftpol_decide(&p, &st, 10.2, 6 * H, false), DRIFTPOL_WRITE_INTERVAL);
	assert_int_equal(driftpol_decide(&p, &st, 10.0004, 6 * H, false), DRIFTPOL_SKIP_UNCHANGED);
	assert_int_equal(driftpol_decide(&p, &st, 10.0006, 6 * H, false), DRIFTPOL_WRITE_INTERVAL);
	/* monotonic time earlier than the write (a bug elsewhere): not written */
	assert_int_equal(driftpol_decide(&p, &st, 99.0, -5 * S, false), DRIFTPOL_SKIP_TOO_SOON);
	/* the default: an hour passed and the value changed */
	driftpol_params_default(&p);
	assert_int_equal(driftpol_decide(&p, &st, 10.2, H, false), DRIFTPOL_WRITE_INTERVAL);
	assert_int_equal(driftpol_decide(&p, &st, 12.0, H, false), DRIFTPOL_WRITE_CHANGED);
	assert_int_equal(driftpol_decide(&p, &st, 12.0, H - 1, false), DRIFTPOL_SKIP_TOO_SOON);
	assert_string_equal(driftpol_verdict_name(DRIFTPOL_SKIP_TOO_SOON), "too soon");
}

static void test_exit(void **state)
{
	(void)state;
	struct driftpol_params p;
	driftpol_params_default(&p);
	struct driftpol_state st;
	driftpol_state_init(&st);
	driftpol_state_written(&st, 1.234, 0);
	/* at exit the interval does not apply, the value must differ */
	assert_int_equal(driftpol_decide(&p, &st, 1.2344, S, true), DRIFTPOL_SKIP_UNCHANGED);
	assert_int_equal(driftpol_decide(&p, &st, 1.236, S, true), DRIFTPOL_WRITE_EXIT);
	assert_int_equal(driftpol_decide(&p, &st, NAN, S, true), DRIFTPOL_SKIP_INVALID);
}

static void test_format(void **state)
{
	(void)state;
	char b[DRIFTPOL_TEXT_MAX];
	assert_int_equal(driftpol_format(-17.2504, b, sizeof b), 8);
	assert_string_equal(b, "-17.250\n");
	driftpol_format(0.0, b, sizeof b);
	assert_string_equal(b, "0.000\n");
	driftpol_format(499.9996, b, sizeof b);
	assert_string_equal(b, "500.000\n");
	char tiny[4];
	assert_int_equal(driftpol_format(123.0, tiny, sizeof tiny), 0);
	assert_string_equal(tiny, "");
	/* what is written parses back to the rounded value */
	for (double v = -500.0; v <= 500.0; v += 3.3333) {
		size_t n = driftpol_format(v, b, sizeof b);
		double back;
		char why[64];
		assert_int_equal(driftpol_parse(b, n, &back, why, sizeof why), DRIFTPOL_OK);
		assert_true(fabs(back - driftpol_round(v)) < 1e-9);
	}
}

static enum driftpol_parse_result P(const char *s, double *v)
{
	char why[128];
	enum driftpol_parse_result r = driftpol_parse(s, strlen(s), v, why, sizeof why);
	if (r != DRIFTPOL_OK)
		assert_true(why[0] != '\0');
	return r;
}

static void test_parse(void **state)
{
	(void)state;
	double v;
	assert_int_equal(P("-17.250\n", &v), DRIFTPOL_OK);
	assert_true(fabs(v + 17.25) < 1e-12);
	assert_int_equal(P("  12\n\n", &v), DRIFTPOL_OK);
	assert_true(v == 12.0);
	assert_int_equal(P("1.5e1", &v), DRIFTPOL_OK);
	assert_true(v == 15.0);
	assert_int_equal(P("-3.284 0.052\n", &v), DRIFTPOL_OK);  /* chrony: freq skew */
	assert_true(fabs(v + 3.284) < 1e-12);
	assert_int_equal(P("500", &v), DRIFTPOL_OK);
	assert_int_equal(P("-500.0", &v), DRIFTPOL_OK);
	assert_int_equal(P("500.001\n", &v), DRIFTPOL_RANGE);
	assert_true(v == 0.0);
	assert_int_equal(P("-1e6\n", &v), DRIFTPOL_RANGE);
	assert_int_equal(P("1e999\n", &v), DRIFTPOL_GARBAGE);     /* overflows to inf */
	assert_int_equal(P("", &v), DRIFTPOL_EMPTY);
	assert_int_equal(P(" \n\t\n", &v), DRIFTPOL_EMPTY);
	assert_int_equal(P("nan\n", &v), DRIFTPOL_GARBAGE);
	assert_int_equal(P("inf\n", &v), DRIFTPOL_GARBAGE);
	assert_int_equal(P("0x10\n", &v), DRIFTPOL_GARBAGE);
	assert_int_equal(P("12ppm\n", &v), DRIFTPOL_GARBAGE);
	assert_int_equal(P("1 2 3\n", &v), DRIFTPOL_GARBAGE);
	assert_int_equal(P("1 x\n", &v), DRIFTPOL_GARBAGE);
	assert_int_equal(P(".\n", &v), DRIFTPOL_GARBAGE);
	assert_int_equal(P("-\n", &v), DRIFTPOL_GARBAGE);
	assert_int_equal(P("1e\n", &v), DRIFTPOL_GARBAGE);
	assert_int_equal(P("1111111111111111111111111111111111111111111111\n", &v),
			 DRIFTPOL_GARBAGE);
	char nul[] = "12\0" "3";
	char why[64];
	assert_int_equal(driftpol_parse(nul, 4, &v, why, sizeof why), DRIFTPOL_GARBAGE);
	assert_non_null(strstr(why, "NUL"));
	static char big[DRIFTPOL_FILE_MAX + 2];
	memset(big, ' ', sizeof big);
	big[0] = '1';
	assert_int_equal(driftpol_parse(big, sizeof big, &v, why, sizeof why), DRIFTPOL_GARBAGE);
	/* every byte value at the front: never a crash, never accepted unless a digit-ish */
	for (int c = 0; c < 256; c++) {
		char s[4] = { (char)c, '5', '\n', 0 };
		enum driftpol_parse_result r = driftpol_parse(s, 3, &v, why, sizeof why);
		bool ok = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' ||
			  c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
		assert_int_equal(r == DRIFTPOL_OK, ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_write),
		cmocka_unit_test(test_sd_card_day),
		cmocka_unit_test(test_threshold_and_interval),
		cmocka_unit_test(test_exit),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
