/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ntp_time: NTP's fixed-point time formats and the one place where eras are resolved.
 *
 * Owns: the 64-bit timestamp (ntp_ts64, RFC 5905 §6 "NTP Timestamp Format": 32 bits of
 * seconds since 1900-01-01 00:00 UTC of an unknown era, 32 bits of fraction), the 32-bit
 * short format (ntp_short32, 16.16 seconds, for root delay and dispersion), and their
 * conversion to gnomon's internal time.
 *
 * Internal time is gn_time_ns: signed 64-bit nanoseconds since the Unix epoch
 * (1970-01-01 00:00 UTC), good from 1678 to 2262 on every platform, whatever the width
 * of time_t (Debian armhf still has 32-bit builds). All arithmetic is in 64-bit integers.
 *
 * Era handling (RFC 5905 §6): a 64-bit timestamp names a point in every 2^32 s era. It is
 * resolved against a pivot, normally the local clock, to the instant within ±2^31 s
 * (about 68 years) of the pivot. So era 0 → 1 on 2036-02-07 06:28:16 UTC and dates
 * before 1968 or after 2104 work, as long as the pivot is within 68 years.
 *
 * Does not own: reading any clock (the caller passes `now`), randomness (the caller
 * passes a generator through ntp_random_fn).
 */
#ifndef NTP_TIME_H
#define NTP_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef uint64_t ntp_ts64;    /* seconds << 32 | fraction, era unknown (RFC 5905 §6) */
typedef uint32_t ntp_short32; /* seconds << 16 | fraction (RFC 5905 §6 short format) */
typedef int64_t gn_time_ns;   /* ns since 1970-01-01 00:00 UTC */

#define GN_NS_PER_S 1000000000LL
/* Seconds from 1900-01-01 (NTP prime epoch, era 0) to 1970-01-01 (RFC 5905 §6, Figure 4). */
#define NTP_UNIX_OFFSET_S 2208988800LL
/* Length of one NTP era: 2^32 seconds (RFC 5905 §6). */
#define NTP_ERA_S 4294967296LL

/* --- construction and wire format (network byte order, RFC 5905 §7.3) --- */
static inline ntp_ts64 ntp_ts64_make(uint32_t sec, uint32_t frac)
{
	return ((uint64_t)sec << 32) | frac;
}
static inline uint32_t ntp_ts64_sec(ntp_ts64 ts) { return (uint32_t)(ts >> 32); }
static inline uint32_t ntp_ts64_frac(ntp_ts64 ts) { return (uint32_t)ts; }

/* Inline: every answer a server sends is built from them. */
static inline uint32_t ntp_u32_load(const uint8_t p[4])
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void ntp_u32_store(uint8_t p[4], uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline uint16_t ntp_u16_load(const uint8_t p[2])
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}
static inline void ntp_u16_store(uint8_t p[2], uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline ntp_ts64 ntp_ts64_load(const uint8_t p[8])
{
	return ((uint64_t)ntp_u32_load(p) << 32) | ntp_u32_load(p + 4);
}
static inline void ntp_ts64_store(uint8_t p[8], ntp_ts64 ts)
{
	ntp_u32_store(p, (uint32_t)(ts >> 32));
	ntp_u32_store(p + 4, (uint32_t)ts);
}
static inline ntp_short32 ntp_short32_load(const uint8_t p[4]) { return ntp_u32_load(p); }
static inline void ntp_short32_store(uint8_t p[4], ntp_short32 v) { ntp_u32_store(p, v); }

/* --- 64-bit timestamps <-> internal time --- */

/* The timestamp of an instant. Instants before 1900 or after 2036 wrap into their era, as
 * on the wire. The fraction is rounded to the nearest 2^-32 s. */
ntp_ts64 ntp_ts64_from_ns(gn_time_ns t_ns);

/* The instant a timestamp names, in the era that puts it within ±2^31 s of pivot_ns.
 * Rounded to the nearest nanosecond. */
gn_time_ns ntp_ts64_to_ns(ntp_ts64 ts, gn_time_ns pivot_ns);

/* a - b in nanoseconds, for two timestamps known to be within ±2^31 s of each other
 * (the era-free difference of RFC 5905 §6: 64-bit two's-complement subtraction). */
int64_t ntp_ts64_diff_ns(ntp_ts64 a, ntp_ts64 b);

/* The same difference in seconds, keeping the full 2^-32 s resolution. */
double ntp_ts64_diff_s(ntp_ts64 a, ntp_ts64 b);

/* Zero is "unknown/unsynchronised" on the wire (RFC 5905 §7.3 note on reftime/org). */
static inline bool ntp_ts64_is_zero(ntp_ts64 ts) { return ts == 0; }

/* The same conversions for struct timespec (tv_nsec must be 0..999999999). */
ntp_ts64 ntp_ts64_from_timespec(const struct timespec *ts);
struct timespec ntp_ts64_to_timespec(ntp_ts64 ts, gn_time_ns pivot_ns);

/* --- short format --- */
double ntp_short32_to_s(ntp_short32 v);
/* Exact integer forms: to_ns rounds to the nearest ns; from_ns saturates like
 * ntp_short32_from_s (negative → 0, ≥ 65536 s → 0xffffffff) and rounds up. */
int64_t ntp_short32_to_ns(ntp_short32 v);
ntp_short32 ntp_short32_from_ns(int64_t ns);
/* Saturates: negative → 0, ≥ 65536 s → 0xffffffff. Rounds up so a dispersion is never
 * understated. */
ntp_short32 ntp_short32_from_s(double s);

/* --- internal time helpers --- */
struct timespec gn_ns_to_timespec(gn_time_ns t_ns);
gn_time_ns gn_timespec_to_ns(const struct timespec *ts);
static inline double gn_ns_to_s(int64_t ns) { return (double)ns / 1e9; }
/* Rounds to the nearest ns; saturates at INT64_MIN/MAX. */
int64_t gn_s_to_ns(double s);

/* --- randomness seam ---
 * A client's transmit timestamp on the wire is 64 random bits, not the send time, so an
 * off-path attacker cannot guess what the origin check expects and the request does not
 * reveal the client's clock (draft-ietf-ntp-data-minimization; chrony and NTPsec do the
 * same). The daemon passes the OS random source
 * (src/os/os_random), the simulator a seeded generator. */
typedef void (*ntp_random_fn)(void *ctx, void *buf, size_t len);
struct ntp_rng {
	ntp_random_fn fill;
	void *ctx;
};
/* 64 random bits for a client's transmit field. Never zero (zero means "not sent"): a zero
 * draw is drawn again. A generator that gives zero 8 times in a row is broken, and that is
 * an INSIST failure, not an endless loop. */
ntp_ts64 ntp_ts64_random(const struct ntp_rng *rng);

#endif
