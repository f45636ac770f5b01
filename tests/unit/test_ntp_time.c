/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for ntp_time: wire byte order, timestamp <-> nanoseconds, the era pivot
 * (2036 rollover in both directions, 1900, before 1968, after 2104), rounding, the short
 * format's saturation, era-free differences, timespec conversion of negative times, and the
 * random transmit timestamp seam.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "ntp_time.h"
#include "os_random.h"

#define S(x) ((gn_time_ns)(x) * GN_NS_PER_S)

/* Unix seconds of calendar instants (computed with Python's calendar.timegm). */
#define U_ROLLOVER 2085978496LL   /* 2036-02-07 06:28:16 UTC: NTP era 0 -> 1 */
#define U_1900 (-2208988800LL)    /* 1900-01-01 00:00:00, NTP era 0 second 0 */
#define U_1900_JUN (-2195942400LL) /* 1900-06-01 */
#define U_1960 (-315619200LL)     /* 1960-01-01, NTP seconds 0x70da8700 */
#define U_1965 (-157766400LL)     /* 1965-01-01 */
#define U_1950 (-631152000LL)     /* 1950-01-01, NTP seconds 0x5e0be100 */
#define U_2150 5680281600LL       /* 2150-01-01, era 1, NTP seconds 0xd63cb680 */
#define U_2149_JUN 5661792000LL   /* 2149-06-01 */
#define U_2036_FEB06 2085868800LL /* the day before the rollover */
#define U_2036_FEB08 2086041600LL /* the day after */
#define U_2026_NOV21 1795219200LL /* a present-day pivot; NTP seconds 0xeeab5d80 */

static void test_byte_order(void **state)
{
	(void)state;
	uint8_t b[8];
	ntp_ts64_store(b, 0x0102030405060708ULL);
	const uint8_t want[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_memory_equal(b, want, 8);
	assert_true(ntp_ts64_load(b) == 0x0102030405060708ULL);
	assert_int_equal(ntp_ts64_sec(0x0102030405060708ULL), 0x01020304);
	assert_int_equal(ntp_ts64_frac(0x0102030405060708ULL), 0x05060708);
	ntp_short32_store(b, 0xa1b2c3d4);
	assert_int_equal(b[0], 0xa1);
	assert_int_equal(b[3], 0xd4);
	assert_int_equal(ntp_short32_load(b), 0xa1b2c3d4);
	ntp_u16_store(b, 0xbeef);
	assert_int_equal(b[0], 0xbe);
	assert_int_equal(ntp_u16_load(b), 0xbeef);
}

static void test_known_instants(void **state)
{
	(void)state;
	assert_true(ntp_ts64_from_ns(0) == ntp_ts64_make((uint32_t)NTP_UNIX_OFFSET_S, 0));
	assert_true(ntp_ts64_from_ns(S(U_2026_NOV21)) == ntp_ts64_make(0xeeab5d80, 0));
	assert_true(ntp_ts64_from_ns(S(U_2026_NOV21) + GN_NS_PER_S / 2) ==
		    ntp_ts64_make(0xeeab5d80, 0x80000000));
	assert_true(ntp_ts64_to_ns(ntp_ts64_make(0xeeab5d80, 0x40000000), S(U_2026_NOV21)) ==
		    S(U_2026_NOV21) + GN_NS_PER_S / 4);
}

/* Era 0 -> 1 at 2036-02-07 06:28:16 UTC: encoding wraps the seconds to 0. */
static void test_rollover_encode(void **state)
{
	(void)state;
	assert_true(ntp_ts64_from_ns(S(U_ROLLOVER) - 1) ==
		    ntp_ts64_make(0xffffffff, 0xfffffffc)); /* 1 ns = 4.29 fraction units */
	assert_true(ntp_ts64_from_ns(S(U_ROLLOVER - 1)) == ntp_ts64_make(0xffffffff, 0));
	assert_true(ntp_ts64_from_ns(S(U_ROLLOVER)) == 0);
	assert_true(ntp_ts64_from_ns(S(U_ROLLOVER + 1)) == ntp_ts64_make(1, 0));
}

/* Decoding near the rollover, with the pivot on either side of it. */
static void test_rollover_decode_both_directions(void **state)
{
	(void)state;
	const gn_time_ns pivots[] = { S(U_2036_FEB06), S(U_2036_FEB08), S(U_ROLLOVER),
				      S(U_ROLLOVER) - 1, S(U_2026_NOV21),
				      S(U_ROLLOVER + 2000000000LL), S(U_ROLLOVER - 2000000000LL) };
	for (size_t p = 0; p < sizeof pivots / sizeof pivots[0]; p++) {
		for (int64_t d = -5; d <= 5; d++) {
			gn_time_ns t = S(U_ROLLOVER + d) + 123456789;
			ntp_ts64 ts = ntp_ts64_from_ns(t);
			assert_true(ntp_ts64_to_ns(ts, pivots[p]) == t);
		}
	}
	/* Era 1 timestamp seen from a pivot in era 0 (forward across the boundary)... */
	assert_true(ntp_ts64_to_ns(ntp_ts64_make(1, 0), S(U_2036_FEB06)) == S(U_ROLLOVER + 1));
	/* ...and an era 0 timestamp seen from a pivot in era 1 (backward). */
	assert_true(ntp_ts64_to_ns(ntp_ts64_make(0xffffffff, 0x80000000), S(U_2036_FEB08)) ==
		    S(U_ROLLOVER - 1) + GN_NS_PER_S / 2);
	/* The pivot decides: the same 32 bits of seconds are 2036 or 1900. */
	assert_true(ntp_ts64_to_ns(ntp_ts64_make(1, 0), S(U_1900_JUN)) == S(U_1900 + 1));
}

static void test_1900(void **state)
{
	(void)state;
	assert_true(ntp_ts64_from_ns(S(U_1900)) == 0);
	assert_true(ntp_ts64_from_ns(S(U_1900) + GN_NS_PER_S / 2) == ntp_ts64_make(0, 0x80000000));
	assert_true(ntp_ts64_to_ns(0, S(U_1900_JUN)) == S(U_1900));
	assert_true(ntp_ts64_to_ns(ntp_ts64_make(0xc71280, 0), S(U_1900)) == S(U_1900_JUN));
	/* 1 s before 1900: era -1, seconds 0xffffffff. */
	assert_true(ntp_ts64_from_ns(S(U_1900 - 1)) == ntp_ts64_make(0xffffffff, 0));
	assert_true(ntp_ts64_to_ns(ntp_ts64_make(0xffffffff, 0), S(U_1900_JUN)) == S(U_1900 - 1));
}

static void test_before_1968(void **state)
{
	(void)state;
	ntp_ts64 ts = ntp_ts64_from_ns(S(U_1960));
	assert_true(ts == ntp_ts64_make(0x70da8700, 0));
	assert_true(ntp_ts64_to_ns(ts, S(U_1965)) == S(U_1960));
	/* 1960 is still within 68 years of 2026, so a present-day pivot resolves it too. */
	assert_true(ntp_ts64_to_ns(ts, S(U_2026_NOV21)) == S(U_1960));
	/* 1950 is not: with a present-day pivot its bits name the instant 2^32 s later (2086);
	 * the pivot must be within 68 years, as documented. */
	ts = ntp_ts64_from_ns(S(U_1950) + 1);
	assert_true(ntp_ts64_sec(ts) == 0x5e0be100);
	assert_true(ntp_ts64_to_ns(ts, S(U_1965)) == S(U_1950) + 1);
	assert_true(ntp_ts64_to_ns(ts, S(U_2026_NOV21)) == S(U_1950 + NTP_ERA_S) + 1);
}

static void test_after_2104(void **state)
{
	(void)state;
	ntp_ts64 ts = ntp_ts64_from_ns(S(U_2150) + 250000000);
	assert_true(ts == ntp_ts64_make(0xd63cb680, 0x40000000));
	assert_true(ntp_ts64_to_ns(ts, S(U_2149_JUN)) == S(U_2150) + 250000000);
	/* Seen from 2026 the same bits are 2014 (era 0). */
	assert_true(ntp_ts64_to_ns(ts, S(U_2026_NOV21)) == S(U_2150 - NTP_ERA_S) + 250000000);
}

static void test_rounding(void **state)
{
	(void)state;
	/* 1 ns = 4.294967296 fraction units -> 4; 500 ms exact; 999999999 ns -> 2^32 - 4.29. */
	assert_int_equal(ntp_ts64_frac(ntp_ts64_from_ns(S(U_2026_NOV21) + 1)), 4);
	assert_int_equal(ntp_ts64_frac(ntp_ts64_from_ns(S(U_2026_NOV21) + 999999999)), 0xfffffffc);
	/* Fraction units -> ns rounds to nearest: 1 unit = 0.233 ns -> 0, 3 = 0.698 -> 1. */
	assert_true(ntp_ts64_to_ns(ntp_ts64_make(0xeeab5d80, 1), S(U_2026_NOV21)) == S(U_2026_NOV21));
	assert_true(ntp_ts64_to_ns(ntp_ts64_make(0xeeab5d80, 3), S(U_2026_NOV21)) == S(U_2026_NOV21) + 1);
	assert_true(ntp_ts64_to_ns(ntp_ts64_make(0xeeab5d80, 0xffffffff), S(U_2026_NOV21)) ==
		    S(U_2026_NOV21 + 1)); /* 0.99999999977 s rounds up to the next second */
	/* Round trip is exact at ns resolution (2^-32 s < 0.5 ns), for negative times too. */
	const gn_time_ns samples[] = { 0, 1, -1, 999999999, -999999999, S(U_1965) + 7,
				       S(U_2026_NOV21) + 987654321, S(U_2150) - 1 };
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
		assert_true(ntp_ts64_to_ns(ntp_ts64_from_ns(samples[i]), samples[i]) == samples[i]);
}

static void test_short_format(void **state)
{
	(void)state;
	assert_true(ntp_short32_to_s(0x00010000) == 1.0);
	assert_true(ntp_short32_to_s(0x00008000) == 0.5);
	assert_true(ntp_short32_to_s(0xffffffff) > 65535.99);
	assert_int_equal(ntp_short32_from_s(1.0), 0x00010000);
	assert_int_equal(ntp_short32_from_s(0.5), 0x00008000);
	assert_int_equal(ntp_short32_from_s(0.0), 0);
	/* Rounds up: a dispersion is never understated. */
	assert_int_equal(ntp_short32_from_s(1.0 / 131072.0), 1);
	assert_int_equal(ntp_short32_from_s(1.0 + 1e-9), 0x00010001);
	/* Saturation: negative and NaN -> 0, >= 65536 s -> all ones. */
	assert_int_equal(ntp_short32_from_s(-1.0), 0);
	assert_int_equal(ntp_short32_from_s(NAN), 0);
	assert_int_equal(ntp_short32_from_s(65536.0), 0xffffffff);
	assert_int_equal(ntp_short32_from_s(1e12), 0xffffffff);
	assert_int_equal(ntp_short32_from_s(INFINITY), 0xffffffff);
	assert_int_equal(ntp_short32_from_s(65535.5), 0xffff8000);
}

static void test_diff_across_era(void **state)
{
	(void)state;
	ntp_ts64 before = ntp_ts64_make(0xfffffffe, 0); /* 2036-02-07 06:28:14, era 0 */
	ntp_ts64 after = ntp_ts64_make(2, 0);           /* 06:28:18, era 1 */
	assert_true(ntp_ts64_diff_ns(after, before) == 4 * GN_NS_PER_S);
	assert_true(ntp_ts64_diff_ns(before, after) == -4 * GN_NS_PER_S);
	assert_true(ntp_ts64_diff_s(after, before) == 4.0);
	assert_true(ntp_ts64_diff_s(before, after) == -4.0);
	/* With fractions: 1.0 - (-0.5) = 1.5 s across the boundary, and negative results
	 * with a fraction floor correctly. */
	ntp_ts64 a = ntp_ts64_make(1, 0), b = ntp_ts64_make(0xffffffff, 0x80000000);
	assert_true(ntp_ts64_diff_ns(a, b) == 1500000000);
	assert_true(ntp_ts64_diff_ns(b, a) == -1500000000);
	assert_true(ntp_ts64_diff_s(b, a) == -1.5);
	/* Tiny differences keep their sign and resolution. */
	assert_true(ntp_ts64_diff_ns(ntp_ts64_make(0, 5), ntp_ts64_make(0xffffffff, 0xffffffff)) == 1);
	assert_true(ntp_ts64_diff_ns(ntp_ts64_make(0xffffffff, 0xffffffff), ntp_ts64_make(0, 5)) == -1);
	/* The difference agrees with the era-resolved instants. */
	gn_time_ns ta = ntp_ts64_to_ns(a, S(U_ROLLOVER)), tb = ntp_ts64_to_ns(b, S(U_ROLLOVER));
	assert_true(ta - tb == ntp_ts64_diff_ns(a, b));
}

static void test_timespec(void **state)
{
	(void)state;
	struct timespec ts = gn_ns_to_timespec(-1);
	assert_true(ts.tv_sec == -1);
	assert_int_equal(ts.tv_nsec, 999999999);
	ts = gn_ns_to_timespec(-1500000000);
	assert_true(ts.tv_sec == -2);
	assert_int_equal(ts.tv_nsec, 500000000);
	assert_true(gn_timespec_to_ns(&ts) == -1500000000);
	ts = gn_ns_to_timespec(S(U_1900) - 3);
	assert_true(ts.tv_sec == (time_t)(U_1900 - 1));
	assert_int_equal(ts.tv_nsec, 999999997);
	assert_true(gn_timespec_to_ns(&ts) == S(U_1900) - 3);
	ts = gn_ns_to_timespec(S(U_2026_NOV21) + 42);
	assert_true(ts.tv_sec == (time_t)U_2026_NOV21);
	assert_int_equal(ts.tv_nsec, 42);
	ts = gn_ns_to_timespec(0);
	assert_true(ts.tv_sec == 0 && ts.tv_nsec == 0);
}

static void test_short_format_ns(void **state)
{
	(void)state;
	assert_true(ntp_short32_to_ns(0x00010000) == GN_NS_PER_S);
	assert_true(ntp_short32_to_ns(0x00008000) == GN_NS_PER_S / 2);
	assert_true(ntp_short32_to_ns(1) == 15259);          /* 15258.789 ns */
	assert_true(ntp_short32_to_ns(0xffffffff) == 65535999984741LL);
	assert_int_equal(ntp_short32_from_ns(GN_NS_PER_S), 0x00010000);
	assert_int_equal(ntp_short32_from_ns(1), 1);         /* rounds up */
	assert_int_equal(ntp_short32_from_ns(15258), 1);
	assert_int_equal(ntp_short32_from_ns(15259), 2);     /* just over one unit */
	assert_int_equal(ntp_short32_from_ns(0), 0);
	assert_int_equal(ntp_short32_from_ns(-5), 0);
	assert_int_equal(ntp_short32_from_ns(65536LL * GN_NS_PER_S), 0xffffffff);
	assert_int_equal(ntp_short32_from_ns(INT64_MAX), 0xffffffff);
	assert_int_equal(ntp_short32_from_ns(65535999984741LL), 0xffffffff);
	/* Round trip never understates. */
	for (int64_t ns = 1; ns < 4 * GN_NS_PER_S; ns = ns * 3 + 7)
		assert_true(ntp_short32_to_ns(ntp_short32_from_ns(ns)) >= ns);
}

static void test_timespec_timestamps(void **state)
{
	(void)state;
	struct timespec ts = { .tv_sec = (time_t)(U_ROLLOVER - 1), .tv_nsec = 500000000 };
	ntp_ts64 v = ntp_ts64_from_timespec(&ts);
	assert_true(v == ntp_ts64_make(0xffffffff, 0x80000000));
	struct timespec back = ntp_ts64_to_timespec(v, S(U_2036_FEB08));
	assert_true(back.tv_sec == ts.tv_sec && back.tv_nsec == ts.tv_nsec);
	/* Before 1970 (negative tv_sec, positive tv_nsec). */
	ts.tv_sec = (time_t)U_1960 - 1;
	ts.tv_nsec = 250000000;
	v = ntp_ts64_from_timespec(&ts);
	assert_true(v == ntp_ts64_make(0x70da8700 - 1, 0x40000000));
	back = ntp_ts64_to_timespec(v, S(U_1965));
	assert_true(back.tv_sec == ts.tv_sec && back.tv_nsec == ts.tv_nsec);
}

static void test_seconds_to_ns(void **state)
{
	(void)state;
	assert_true(gn_s_to_ns(1.5) == 1500000000);
	assert_true(gn_s_to_ns(-1e-9) == -1);
	assert_true(gn_s_to_ns(-0.4e-9) == 0);
	assert_true(gn_s_to_ns(1e300) == INT64_MAX);
	assert_true(gn_s_to_ns(-1e300) == INT64_MIN);
	assert_true(gn_s_to_ns(NAN) == 0);
	assert_true(gn_ns_to_s(-2500000000) == -2.5);
}

/* A fake generator: returns all-zero blocks `zeros` times, then a fixed pattern. */
struct fake_rng {
	int calls;
	int zeros;
};

static void fake_fill(void *ctx, void *buf, size_t len)
{
	struct fake_rng *f = ctx;
	uint8_t *b = buf;
	f->calls++;
	for (size_t i = 0; i < len; i++)
		b[i] = f->calls > f->zeros ? (uint8_t)(0x11 * (i + 1)) : 0;
}

static void test_random_never_zero(void **state)
{
	(void)state;
	struct fake_rng f = { .calls = 0, .zeros = 3 };
	struct ntp_rng rng = { .fill = fake_fill, .ctx = &f };
	ntp_ts64 v = ntp_ts64_random(&rng);
	assert_true(v != 0);
	assert_true(v == 0x1122334455667788ULL);
	assert_int_equal(f.calls, 4); /* three zero draws were refused */

	f.calls = 0;
	f.zeros = 0;
	assert_true(ntp_ts64_random(&rng) == 0x1122334455667788ULL);
	assert_int_equal(f.calls, 1);
}

/* The daemon's seam: the OS random source gives non-zero, differing values. */
static void test_random_os_source(void **state)
{
	(void)state;
	struct ntp_rng rng = os_random_rng();
	ntp_ts64 a = ntp_ts64_random(&rng), b = ntp_ts64_random(&rng);
	assert_true(a != 0 && b != 0);
	assert_true(a != b); /* equal with probability 2^-64 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_known_instants),
		cmocka_unit_test(test_rollover_encode),
		cmocka_unit_test(test_rollover_decode_both_directions),
		cmocka_unit_test(test_1900),
		cmocka_unit_test(test_before_1968),
		cmocka_unit_test(test_after_2104),
		cmocka_unit_test(test_rounding),
		cmocka_unit_test(test_short_format),
		cmocka_unit_test(test_diff_across_era),
		cmocka_unit_test(test_timespec),
		cmocka_unit_test(test_short_format_ns),
		cmocka_unit_test(test_timespec_timestamps),
		cmocka_unit_test(test_seconds_to_ns),
		cmocka_unit_test(test_random_never_zero),
		cmocka_unit_test(test_random_os_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
