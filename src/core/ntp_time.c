/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ntp_time: conversions between NTP's fixed-point formats and gnomon's internal
 * nanosecond time. The era is resolved here and nowhere else (RFC 5905 §6).
 */
#include "ntp_time.h"

#include <math.h>

#include "gn_assert.h"

#define RANDOM_ZERO_DRAWS_MAX 8 /* zero draws tolerated before the generator is called broken */

#define FRAC_SCALE 4294967296.0 /* 2^32: one second in 64-bit timestamp fraction units */

/* Floor division and modulo, so instants before 1970 (negative ns) split correctly. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

ntp_ts64 ntp_ts64_from_ns(gn_time_ns t_ns)
{
	int64_t unix_s = floor_div(t_ns, GN_NS_PER_S);
	uint64_t rem_ns = (uint64_t)(t_ns - unix_s * GN_NS_PER_S); /* 0 .. 1e9-1 */
	/* rem_ns < 2^30, so rem_ns << 32 < 2^62: no overflow. Round to nearest. */
	uint64_t frac = ((rem_ns << 32) + (uint64_t)GN_NS_PER_S / 2) / (uint64_t)GN_NS_PER_S;
	int64_t ntp_s = unix_s + NTP_UNIX_OFFSET_S;
	if (frac >= (1ULL << 32)) { /* rounded up into the next second */
		frac -= 1ULL << 32;
		ntp_s++;
	}
	/* Reduce modulo the era: only the low 32 bits of the seconds go on the wire. */
	return ntp_ts64_make((uint32_t)(uint64_t)ntp_s, (uint32_t)frac);
}

gn_time_ns ntp_ts64_to_ns(ntp_ts64 ts, gn_time_ns pivot_ns)
{
	/* Full NTP seconds (era included) of the pivot, then the timestamp's seconds as a
	 * signed 32-bit step from there: the unique choice within ±2^31 s (RFC 5905 §6). */
	int64_t pivot_ntp_s = floor_div(pivot_ns, GN_NS_PER_S) + NTP_UNIX_OFFSET_S;
	uint32_t pivot_low = (uint32_t)(uint64_t)pivot_ntp_s;
	int64_t step = (int32_t)(ntp_ts64_sec(ts) - pivot_low);
	int64_t ntp_s = pivot_ntp_s + step;
	/* fraction * 1e9 < 2^62: exact in 64 bits; round to nearest ns. */
	int64_t frac_ns = (int64_t)(((uint64_t)ntp_ts64_frac(ts) * (uint64_t)GN_NS_PER_S + (1ULL << 31)) >> 32);
	return (ntp_s - NTP_UNIX_OFFSET_S) * GN_NS_PER_S + frac_ns;
}

int64_t ntp_ts64_diff_ns(ntp_ts64 a, ntp_ts64 b)
{
	/* Two's-complement difference of the 64-bit values: era-free when |a-b| < 2^31 s. */
	int64_t d = (int64_t)(a - b);
	int64_t sec = d >> 32;                    /* floor: arithmetic shift on every gcc/clang target */
	uint64_t frac = (uint64_t)d & 0xffffffffULL;
	int64_t frac_ns = (int64_t)((frac * (uint64_t)GN_NS_PER_S + (1ULL << 31)) >> 32);
	return sec * GN_NS_PER_S + frac_ns;
}

double ntp_ts64_diff_s(ntp_ts64 a, ntp_ts64 b)
{
	int64_t d = (int64_t)(a - b);
	return (double)d / FRAC_SCALE;
}

ntp_ts64 ntp_ts64_from_timespec(const struct timespec *ts)
{
	REQUIRE(ts != NULL);
	return ntp_ts64_from_ns(gn_timespec_to_ns(ts));
}

struct timespec ntp_ts64_to_timespec(ntp_ts64 ts, gn_time_ns pivot_ns)
{
	return gn_ns_to_timespec(ntp_ts64_to_ns(ts, pivot_ns));
}

int64_t ntp_short32_to_ns(ntp_short32 v)
{
	/* v * 1e9 < 2^62: exact in 64 bits; + 2^15 rounds to nearest. */
	return (int64_t)(((uint64_t)v * (uint64_t)GN_NS_PER_S + (1ULL << 15)) >> 16);
}

ntp_short32 ntp_short32_from_ns(int64_t ns)
{
	if (ns <= 0)
		return 0;
	if (ns >= 65536LL * GN_NS_PER_S)
		return 0xffffffffU;
	/* Round up so a dispersion is never understated; ns < 2^46, so ns << 16 < 2^62. */
	uint64_t units = (((uint64_t)ns << 16) + (uint64_t)GN_NS_PER_S - 1) / (uint64_t)GN_NS_PER_S;
	return units > 0xffffffffULL ? 0xffffffffU : (ntp_short32)units;
}

double ntp_short32_to_s(ntp_short32 v)
{
	return (double)v / 65536.0;
}

ntp_short32 ntp_short32_from_s(double s)
{
	if (!(s > 0.0)) /* also catches NaN */
		return 0;
	double units = s * 65536.0;
	if (units >= 4294967295.0)
		return 0xffffffffU;
	/* rounded up (a dispersion is never understated), without a libm call: this is on
	 * every answer's path */
	ntp_short32 v = (ntp_short32)units;
	return (double)v < units ? v + 1 : v;
}

struct timespec gn_ns_to_timespec(gn_time_ns t_ns)
{
	struct timespec ts;
	int64_t s = floor_div(t_ns, GN_NS_PER_S);
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)(t_ns - s * GN_NS_PER_S);
	return ts;
}

gn_time_ns gn_timespec_to_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * GN_NS_PER_S + (int64_t)ts->tv_nsec;
}

int64_t gn_s_to_ns(double s)
{
	double ns = s * 1e9;
	if (isnan(ns))
		return 0;
	if (ns >= 9.2233720368547758e18)
		return INT64_MAX;
	if (ns <= -9.2233720368547758e18)
		return INT64_MIN;
	return (int64_t)llround(ns);
}

ntp_ts64 ntp_ts64_random(const struct ntp_rng *rng)
{
	REQUIRE(rng != NULL && rng->fill != NULL);
	uint8_t b[8];
	for (int i = 0; i < RANDOM_ZERO_DRAWS_MAX; i++) {
		rng->fill(rng->ctx, b, sizeof b);
		ntp_ts64 v = ntp_ts64_load(b);
		if (v != 0)
			return v;
	}
	INSIST(!"the random generator returned only zeros");
	return 1; /* not reached */
}
