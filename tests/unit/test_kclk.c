/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for kclk, the Linux kernel clock model: frequency quantisation and clamp, tick,
 * single-shot slew at 500 µs/s, the kernel PLL's per-second offset share and frequency
 * update, FLL, maxerror growth, steps (ntp_clear), leap insert/delete at midnight, and
 * that reading without advancing changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kclk.h"

#define S 1000000000LL
#define MS 1000000LL
#define US 1000LL

/* |c - want| within 0.1 % of want plus 2 ns (a share slewed over a fast clock's shorter
 * second falls short by the relative rate, as on Linux). */
static void near(int64_t c, int64_t want)
{
	int64_t tol = (want < 0 ? -want : want) / 1000 + 2;
	if (c < want - tol || c > want + tol)
		fail_msg("got %lld, want %lld ± %lld", (long long)c, (long long)want, (long long)tol);
}

static void adj(struct kclk *k, int64_t base, struct clk_adj a)
{
	kclk_adjust(k, base, &a, NULL);
}

static void test_init(void **state)
{
	(void)state;
	struct kclk k;
	kclk_init(&k, 1000 * S + 123);
	assert_int_equal(kclk_read(&k, 1000 * S + 123), 1000 * S + 123);
	assert_int_equal(kclk_read(&k, 2000 * S), 2000 * S);
	struct clk_state st;
	kclk_state(&k, &st);
	assert_true(st.status & CLK_STA_UNSYNC);
	assert_true(st.status & CLK_STA_NANO);
	assert_int_equal(st.tick_us, 10000);
	assert_int_equal(st.state, KCLK_TIME_ERROR);
	assert_int_equal(st.maxerror_us, KCLK_PHASE_LIMIT_US);
	assert_true(st.freq_ppm == 0.0);
}

static void test_frequency(void **state)
{
	(void)state;
	struct kclk k;
	kclk_init(&k, 0);
	adj(&k, 0, (struct clk_adj){ .modes = CLK_ADJ_FREQ, .freq_ppm = 100.0 });
	/* 100 ppm for 10 s = 1 ms. */
	int64_t c = kclk_read(&k, 10 * S) - 10 * S;
	near(c, 1 * MS);
	/* Negative frequency. */
	adj(&k, 10 * S, (struct clk_adj){ .modes = CLK_ADJ_FREQ, .freq_ppm = -50.0 });
	c = kclk_read(&k, 20 * S) - 20 * S;
	near(c, 500 * US);
	/* Clamped to ±500 ppm. */
	struct clk_state st;
	kclk_adjust(&k, 20 * S, &(struct clk_adj){ .modes = CLK_ADJ_FREQ, .freq_ppm = 800.0 }, &st);
	assert_true(st.freq_ppm == 500.0);
	kclk_adjust(&k, 20 * S, &(struct clk_adj){ .modes = CLK_ADJ_FREQ, .freq_ppm = -1e9 }, &st);
	assert_true(st.freq_ppm == -500.0);
	/* Quantised to 2^-16 ppm. */
	kclk_adjust(&k, 20 * S, &(struct clk_adj){ .modes = CLK_ADJ_FREQ, .freq_ppm = 1.0 / 65536.0 * 3.4 }, &st);
	assert_true(st.freq_ppm == 3.0 / 65536.0);
	assert_int_equal(k.freq_scaled, 3);
	/* Over a long run, the quantised value is what accrues: 3/65536 ppm for 65536 s = 3 µs. */
	int64_t before = kclk_read(&k, 20 * S) - 20 * S;
	int64_t after = kclk_read(&k, (20 + 65536) * S) - (20 + 65536) * S;
	assert_true(after - before >= 3 * US - 2 && after - before <= 3 * US + 2);
	/* NaN is refused. */
	struct clk_adj bad = { .modes = CLK_ADJ_FREQ, .freq_ppm = 0.0 / 0.0 };
	assert_false(kclk_adjust_valid(&bad));
}

static void test_tick(void **state)
{
	(void)state;
	struct kclk k;
	kclk_init(&k, 0);
	adj(&k, 0, (struct clk_adj){ .modes = CLK_ADJ_TICK, .tick_us = 10100 });
	/* 1 % fast: 10 ms per second. */
	int64_t c = kclk_read(&k, 1 * S) - 1 * S;
	near(c, 10 * MS);
	/* Out of range (±10 %): refused whole, like EINVAL; the frequency with it too. */
	struct clk_adj bad = { .modes = CLK_ADJ_TICK | CLK_ADJ_FREQ, .tick_us = 11001, .freq_ppm = 10 };
	assert_false(kclk_adjust_valid(&bad));
	struct clk_state st;
	kclk_adjust(&k, 1 * S, &bad, &st);
	assert_int_equal(st.tick_us, 10100);
	assert_true(st.freq_ppm == 0.0);
	bad.tick_us = 8999;
	assert_false(kclk_adjust_valid(&bad));
	struct clk_adj ok = { .modes = CLK_ADJ_TICK, .tick_us = 9000 };
	assert_true(kclk_adjust_valid(&ok));
	ok.tick_us = 11000;
	assert_true(kclk_adjust_valid(&ok));
}

static void test_singleshot(void **state)
{
	(void)state;
	struct kclk k;
	kclk_init(&k, 0);
	/* 1.2007 ms: truncated to 1200 µs; slewed from the next second at 500 µs/s. */
	adj(&k, S / 2, (struct clk_adj){ .modes = CLK_ADJ_SINGLESHOT, .offset_ns = 1200700 });
	struct clk_state st;
	kclk_state(&k, &st);
	assert_int_equal(st.offset_ns, 1200 * US);
	assert_int_equal(kclk_read(&k, 1 * S) - 1 * S, 0);
	int64_t c = kclk_read(&k, 1 * S + S / 2) - (1 * S + S / 2);
	near(c, 250 * US);
	c = kclk_read(&k, 2 * S + S / 2) - (2 * S + S / 2);
	near(c, 750 * US);
	/* Slewing shifts the second boundaries; by 5 s everything is applied. */
	c = kclk_read(&k, 5 * S) - 5 * S;
	near(c, 1200 * US);
	c = kclk_read(&k, 100 * S) - 100 * S;
	near(c, 1200 * US);
	kclk_state(&k, &st);
	assert_int_equal(st.offset_ns, 0);
	/* Negative, and a new single-shot replaces the old remainder. */
	adj(&k, 100 * S, (struct clk_adj){ .modes = CLK_ADJ_SINGLESHOT, .offset_ns = -5 * MS });
	adj(&k, 100 * S, (struct clk_adj){ .modes = CLK_ADJ_SINGLESHOT, .offset_ns = -1 * MS });
	int64_t c2 = kclk_read(&k, 200 * S) - 200 * S;
	near(c2 - c, -1 * MS);
}

static void test_pll(void **state)
{
	(void)state;
	struct kclk k;
	kclk_init(&k, 0);
	/* Without STA_PLL the kernel ignores ADJ_OFFSET. */
	struct clk_state st;
	kclk_adjust(&k, 0, &(struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 1 * MS }, &st);
	assert_int_equal(st.offset_ns, 0);
	assert_int_equal(kclk_read(&k, 10 * S), 10 * S);

	adj(&k, 10 * S, (struct clk_adj){ .modes = CLK_ADJ_STATUS | CLK_ADJ_TIMECONST,
					   .status = CLK_STA_PLL, .pll_constant = 0 });
	kclk_adjust(&k, 10 * S, &(struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 1 * MS }, &st);
	assert_int_equal(st.offset_ns, 1 * MS);
	assert_false(st.status & CLK_STA_UNSYNC);
	/* Same second as enabling the PLL: no frequency change. */
	assert_true(st.freq_ppm == 0.0);
	/* Each second, 1/2^(SHIFT_PLL + tc) = 1/4 of what remains. */
	int64_t c = kclk_read(&k, 11 * S + S / 2) - (11 * S + S / 2);
	near(c, 125 * US);
	c = kclk_read(&k, 12 * S) - 12 * S;
	near(c, 250 * US);
	c = kclk_read(&k, 13 * S) - 13 * S;
	near(c, 437500);
	kclk_state(&k, &st);
	assert_int_equal(st.offset_ns, 421875); /* 1 ms · (3/4)^3: the 13 s share is taken */
	/* After a minute essentially all of it is applied. */
	c = kclk_read(&k, 70 * S) - 70 * S;
	near(c, 1 * MS);

	/* Second ADJ_OFFSET 4 s after the previous one: frequency += offset·secs/2^(2(2+2+tc)). */
	struct kclk k2;
	kclk_init(&k2, 0);
	adj(&k2, 0, (struct clk_adj){ .modes = CLK_ADJ_STATUS | CLK_ADJ_TIMECONST,
				     .status = CLK_STA_PLL, .pll_constant = 0 });
	adj(&k2, 0, (struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 0 });
	kclk_adjust(&k2, 4 * S, &(struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 1 * MS }, &st);
	/* 1e6 ns · 4 / 256 = 15625 ns/s = 15.625 ppm (quantised to 2^-16 ppm). */
	assert_true(st.freq_ppm > 15.6249 && st.freq_ppm < 15.6251);
	/* The interval is capped at 2^(SHIFT_PLL + 1 + tc) = 8 s. */
	kclk_adjust(&k2, 104 * S, &(struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 1 * MS }, &st);
	assert_true(st.freq_ppm > 46.874 && st.freq_ppm < 46.876);
	/* Offsets are clamped to ±0.5 s. */
	kclk_adjust(&k2, 104 * S, &(struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = -3 * S }, &st);
	assert_int_equal(st.offset_ns, -500 * MS);

	/* Clearing STA_PLL resets the state and ends the PLL's slewing. */
	adj(&k2, 105 * S, (struct clk_adj){ .modes = CLK_ADJ_STATUS, .status = 0 });
	kclk_state(&k2, &st);
	assert_int_equal(st.offset_ns, -375 * MS); /* one share of 1/4 taken at 105 s */
	assert_int_equal(st.state, KCLK_TIME_OK); /* Linux sets UNSYNC, then the written word replaces it */
	adj(&k2, 105 * S, (struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 7 * MS });
	kclk_state(&k2, &st);
	assert_int_equal(st.offset_ns, -375 * MS); /* unchanged: offset ignored without PLL */
}

static void test_pll_timeconst_and_fll(void **state)
{
	(void)state;
	struct kclk k;
	kclk_init(&k, 0);
	adj(&k, 0, (struct clk_adj){ .modes = CLK_ADJ_STATUS | CLK_ADJ_TIMECONST,
				    .status = CLK_STA_PLL, .pll_constant = 4 });
	assert_int_equal(k.pll_constant, 4);
	adj(&k, 0, (struct clk_adj){ .modes = CLK_ADJ_TIMECONST, .pll_constant = 99 });
	assert_int_equal(k.pll_constant, KCLK_MAXTC);
	adj(&k, 0, (struct clk_adj){ .modes = CLK_ADJ_TIMECONST, .pll_constant = 4 });
	/* tc 4: 1/64 of the offset per second. */
	adj(&k, 0, (struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 64 * MS });
	int64_t c = kclk_read(&k, 2 * S) - 2 * S;
	near(c, 1 * MS);
	/* An update 3000 s later (> MAXSEC) uses the FLL: + offset/(4·secs), plus the PLL term
	 * with secs capped at 2^(2+1+4) = 128: offset·128/2^16. */
	struct clk_state st;
	kclk_adjust(&k, 3000 * S, &(struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 12 * MS }, &st);
	double fll_ppm = 12e6 / (4.0 * 3000) / 1000.0;
	double pll_ppm = 12e6 * 128 / 65536.0 / 1000.0;
	assert_true(k.fll_mode);
	assert_true(st.freq_ppm > fll_ppm + pll_ppm - 0.001 && st.freq_ppm < fll_ppm + pll_ppm + 0.001);
	/* With STA_FLL an interval of 256 s or more uses the FLL too; shorter ones do not. */
	struct kclk f;
	kclk_init(&f, 0);
	adj(&f, 0, (struct clk_adj){ .modes = CLK_ADJ_STATUS | CLK_ADJ_TIMECONST,
				    .status = CLK_STA_PLL | CLK_STA_FLL, .pll_constant = 10 });
	adj(&f, 100 * S, (struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 1 * MS });
	assert_false(f.fll_mode);
	adj(&f, 400 * S, (struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 1 * MS });
	assert_true(f.fll_mode);
}

static void test_maxerror(void **state)
{
	(void)state;
	struct kclk k;
	kclk_init(&k, 0);
	struct clk_state st;
	kclk_adjust(&k, 0, &(struct clk_adj){ .modes = CLK_ADJ_STATUS | CLK_ADJ_MAXERROR | CLK_ADJ_ESTERROR,
					     .status = CLK_STA_PLL, .maxerror_us = 1000, .esterror_us = 20 }, &st);
	assert_int_equal(st.maxerror_us, 1000);
	assert_int_equal(st.esterror_us, 20);
	assert_int_equal(st.state, KCLK_TIME_OK);
	kclk_read(&k, 10 * S);
	kclk_state(&k, &st);
	assert_int_equal(st.maxerror_us, 1000 + 10 * 500);
	assert_int_equal(st.esterror_us, 20);
	/* 16 s ceiling: 32000 s later, unsynchronised. */
	kclk_read(&k, 40000 * S);
	kclk_state(&k, &st);
	assert_int_equal(st.maxerror_us, KCLK_PHASE_LIMIT_US);
	assert_true(st.status & CLK_STA_UNSYNC);
	assert_int_equal(st.state, KCLK_TIME_ERROR);
	/* Negative inputs are clamped. */
	kclk_adjust(&k, 40000 * S, &(struct clk_adj){ .modes = CLK_ADJ_MAXERROR, .maxerror_us = -5 }, &st);
	assert_int_equal(st.maxerror_us, 0);
}

static void test_step(void **state)
{
	(void)state;
	struct kclk k;
	kclk_init(&k, 0);
	adj(&k, 0, (struct clk_adj){ .modes = CLK_ADJ_STATUS | CLK_ADJ_FREQ | CLK_ADJ_MAXERROR,
				    .status = CLK_STA_PLL, .freq_ppm = 10, .maxerror_us = 0 });
	adj(&k, 0, (struct clk_adj){ .modes = CLK_ADJ_OFFSET, .offset_ns = 100 * MS });
	adj(&k, 0, (struct clk_adj){ .modes = CLK_ADJ_SINGLESHOT, .offset_ns = 100 * MS });
	kclk_step(&k, S / 2, -3 * S);
	assert_int_equal(k.n_steps, 1);
	assert_int_equal(k.jumps_ns, -3 * S);
	int64_t c = kclk_read(&k, S / 2) - S / 2;
	assert_true(c >= -3 * S + 5 * US - 1 && c <= -3 * S + 5 * US + 1);
	struct clk_state st;
	kclk_state(&k, &st);
	assert_int_equal(st.offset_ns, 0);
	assert_true(st.status & CLK_STA_UNSYNC);
	assert_int_equal(st.maxerror_us, KCLK_PHASE_LIMIT_US);
	assert_true(st.freq_ppm > 9.9999 && st.freq_ppm < 10.0001);
	/* After the step only the frequency acts. */
	int64_t c2 = kclk_read(&k, 100 * S + S / 2) - (100 * S + S / 2);
	assert_true(c2 - c >= 1 * MS - 2 && c2 - c <= 1 * MS + 2);
}

static void test_read_is_pure(void **state)
{
	(void)state;
	struct kclk k;
	kclk_init(&k, 0);
	adj(&k, 0, (struct clk_adj){ .modes = CLK_ADJ_FREQ, .freq_ppm = 37.5 });
	adj(&k, 0, (struct clk_adj){ .modes = CLK_ADJ_SINGLESHOT, .offset_ns = 3 * MS });
	struct kclk copy = k;
	int64_t c = kclk_correction_ns(&k, 50 * S);
	assert_memory_equal(&k, &copy, sizeof k);
	assert_int_equal(kclk_read(&k, 50 * S) - 50 * S, c);
	/* Many small reads give the same result as one big one (no drift from rounding). */
	struct kclk a = copy, b = copy;
	for (int64_t t = 0; t <= 50 * S; t += 7777777)
		kclk_read(&a, t);
	int64_t ra = kclk_read(&a, 50 * S), rb = kclk_read(&b, 50 * S);
	assert_true(ra - rb >= -1 && ra - rb <= 1);
	/* A base going backwards is followed, not fatal. */
	int64_t back = kclk_read(&a, 40 * S);
	assert_int_equal(back - 40 * S, ra - 50 * S);
	int64_t fwd = kclk_read(&a, 41 * S) - 41 * S;
	assert_true(fwd - (ra - 50 * S) >= 37 * US && fwd - (ra - 50 * S) <= 38 * US);
}

/* 2017-01-01 00:00:00 UTC, a real leap second's midnight. */
#define MIDNIGHT_S 1483228800LL

static void test_leap_insert(void **state)
{
	(void)state;
	struct kclk k;
	int64_t b0 = (MIDNIGHT_S - 10) * S;
	kclk_init(&k, b0);
	adj(&k, b0, (struct clk_adj){ .modes = CLK_ADJ_STATUS, .status = CLK_STA_PLL | CLK_STA_INS });
	adj(&k, b0, (struct clk_adj){ .modes = CLK_ADJ_MAXERROR, .maxerror_us = 0 });
	struct clk_state st;
	kclk_read(&k, b0 + S + 1);
	kclk_state(&k, &st);
	assert_int_equal(st.state, KCLK_TIME_INS);
	/* 23:59:59.5 */
	assert_int_equal(kclk_read(&k, (MIDNIGHT_S - 1) * S + S / 2), (MIDNIGHT_S - 1) * S + S / 2);
	/* The leap second: the clock reads 23:59:59.5 again. */
	assert_int_equal(kclk_read(&k, MIDNIGHT_S * S + S / 2), (MIDNIGHT_S - 1) * S + S / 2);
	kclk_state(&k, &st);
	assert_int_equal(st.state, KCLK_TIME_OOP);
	assert_int_equal(k.n_leaps, 1);
	assert_int_equal(k.jumps_ns, -S);
	/* Then 00:00:00.5, and WAIT until the daemon clears STA_INS. */
	assert_int_equal(kclk_read(&k, (MIDNIGHT_S + 1) * S + S / 2), MIDNIGHT_S * S + S / 2);
	kclk_state(&k, &st);
	assert_int_equal(st.state, KCLK_TIME_WAIT);
	adj(&k, (MIDNIGHT_S + 2) * S, (struct clk_adj){ .modes = CLK_ADJ_STATUS, .status = CLK_STA_PLL });
	kclk_read(&k, (MIDNIGHT_S + 3) * S + 1);
	kclk_state(&k, &st);
	assert_int_equal(st.state, KCLK_TIME_OK);
	/* No second leap a day later. */
	assert_int_equal(kclk_read(&k, (MIDNIGHT_S + 86401) * S), (MIDNIGHT_S + 86400) * S);
	assert_int_equal(k.n_leaps, 1);
}

static void test_leap_delete_and_cancel(void **state)
{
	(void)state;
	struct kclk k;
	int64_t b0 = (MIDNIGHT_S - 10) * S;
	kclk_init(&k, b0);
	adj(&k, b0, (struct clk_adj){ .modes = CLK_ADJ_STATUS, .status = CLK_STA_PLL | CLK_STA_DEL });
	adj(&k, b0, (struct clk_adj){ .modes = CLK_ADJ_MAXERROR, .maxerror_us = 0 });
	assert_int_equal(kclk_read(&k, (MIDNIGHT_S - 2) * S + S / 2), (MIDNIGHT_S - 2) * S + S / 2);
	/* 23:59:59 is skipped: base 23:59:59.5 reads 00:00:00.5. */
	assert_int_equal(kclk_read(&k, (MIDNIGHT_S - 1) * S + S / 2), MIDNIGHT_S * S + S / 2);
	struct clk_state st;
	kclk_state(&k, &st);
	assert_int_equal(st.state, KCLK_TIME_WAIT);

	/* Cancelled before midnight: nothing happens. */
	struct kclk c;
	kclk_init(&c, b0);
	adj(&c, b0, (struct clk_adj){ .modes = CLK_ADJ_STATUS, .status = CLK_STA_PLL | CLK_STA_INS });
	adj(&c, (MIDNIGHT_S - 5) * S, (struct clk_adj){ .modes = CLK_ADJ_STATUS, .status = CLK_STA_PLL });
	assert_int_equal(kclk_read(&c, (MIDNIGHT_S + 5) * S), (MIDNIGHT_S + 5) * S);
	assert_int_equal(c.n_leaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_frequency),
		cmocka_unit_test(test_tick),
		cmocka_unit_test(test_singleshot),
		cmocka_unit_test(test_pll),
		cmocka_unit_test(test_pll_timeconst_and_fll),
		cmocka_unit_test(test_maxerror),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_read_is_pure),
		cmocka_unit_test(test_leap_insert),
		cmocka_unit_test(test_leap_delete_and_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
