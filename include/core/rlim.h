/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rlim: the table of recent clients (ntpd's MRU list) and the per-client rate limiter
 * behind `restrict ... limited [kod]`.
 *
 * Owns: a fixed-size table allocated once in rlim_new (hash buckets + 40-octet entries);
 * rlim_account never allocates. A client is an IPv4 address or an IPv6 /64 prefix
 * (one host can hold a whole /64, so per-address entries would let it take any number).
 *
 * Rate limit (ntpd's `discard average A minimum M` / NTPsec's `limit average A burst B`):
 * a leaky bucket per client. Each accepted packet adds 2^A seconds to the client's level,
 * which drains at one second per second; a packet that would push the level above
 * B * 2^A, or that follows the client's previous packet by less than the minimum headway
 * 2^M (with a quarter of it as tolerance for scheduling jitter), is "limited". Limited
 * packets add nothing to the level, so a client that slows down is served again.
 *
 * Kiss-o'-Death cadence (RFC 5905 §7.4): with `kod`, the first limited packet of a client
 * gets a RATE kiss, then at most one kiss per kod_every limited packets of that client and
 * never two within 2^kod_log2 s: a spoofed flood cannot turn the server into a reflector
 * of kisses. Untracked clients never get a kiss.
 *
 * Eviction that a flood of spoofed sources cannot use to flush real clients out: a client
 * seen once is "probation"; a second packet makes it "protected" (while protected entries
 * fill at most 7/8 of the table, so one-shot entries always have room to come and go).
 * When the table is full, a hand sweeps over the entries (RLIM_SCAN of them per newcomer,
 * the whole table over successive newcomers) and a newcomer may take only
 *   (1) a probation entry idle at least minage_s, or
 *   (2) a protected entry idle at least protect_s (longer than any real client's poll
 *       interval);
 * otherwise the newcomer is not tracked (counted) and is served without state, as ntpd
 * serves it. So a flood from one-shot sources churns only one-shot entries, real clients
 * (which come back) keep theirs, and new clients are not turned away when the table is
 * busy. Size the table (mru maxmem/maxdepth) for the clients of minage_s seconds so that
 * rate limiting sees every client. The hand instead of LRU lists: a known client's packet
 * touches only its bucket and its entry (no list neighbours to relink), and an entry costs
 * 8 octets less.
 *
 * Hash: SipHash-1-3 keyed with a secret the owner sets from its random source; a chain
 * never grows beyond 16 entries (a newcomer that would lengthen a full chain is not
 * tracked), so even a known key cannot make lookups slow.
 *
 * Time: nanoseconds of the clock the caller uses for `now`. A `now` before an entry's
 * last packet (the clock was stepped back) resets that entry's rate state and makes it
 * evictable.
 *
 * Does not own: restrict flags (acl), building the kiss (srv).
 */
#ifndef RLIM_H
#define RLIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gn_addr.h"
#include "ntp_time.h"

/* ntpd's defaults (docs "Access Control Commands", discard; "mru"): */
#define RLIM_DEFAULT_AVERAGE_LOG2 3   /* 8 s average headway */
#define RLIM_DEFAULT_MINIMUM_LOG2 1   /* 2 s minimum headway */
#define RLIM_DEFAULT_BURST 8          /* ntpd NTP_SHIFT: 8 packets at once */
#define RLIM_DEFAULT_KOD_EVERY 4      /* at most one kiss per 4 drops of a client */
#define RLIM_DEFAULT_MINAGE_S 64      /* ntpd mru minage */
#define RLIM_DEFAULT_PROTECT_S 3600   /* > 3 polls at RFC 5905 MAXPOLL default 10 (1024 s) */
#define RLIM_MIN_CAPACITY 16

struct rlim_params {
	uint32_t capacity;          /* entries; at least RLIM_MIN_CAPACITY */
	uint32_t minage_s;          /* probation entries younger than this are never reused */
	uint32_t protect_s;         /* protected entries idle less than this are never reused */
	int8_t average_log2;
	int8_t minimum_log2;
	uint16_t burst;             /* >= 1 */
	int8_t kod_log2;            /* no two kisses to a client within 2^kod_log2 s */
	uint16_t kod_every;         /* >= 1 */
	uint8_t secret[16];         /* hash key: without it an attacker could pick colliding
	                             * addresses; the owner sets it from its random source */
};

enum rlim_result {
	RLIM_PASS = 0,      /* serve */
	RLIM_LIMITED,       /* over the limit: drop silently */
	RLIM_LIMITED_KOD,   /* over the limit: send a RATE kiss this time */
};

struct rlim_stats {
	uint64_t entries;           /* in use */
	uint64_t capacity;
	uint64_t inserted, evicted_probation, evicted_protected, promoted;
	uint64_t untracked;         /* newcomers that found no entry to take */
	uint64_t limited, kod;
	uint64_t longest_chain;     /* hash chain, observed during lookups */
};

/* What the table knows about one client (for tests, mode 6 mrulist later). */
struct rlim_client {
	uint8_t family;             /* 4 or 6 (then addr holds the /64) */
	uint8_t addr[16];
	gn_time_ns last_ns;
	uint32_t first_s;           /* time of the first packet, whole seconds of the clock */
	uint32_t count;             /* packets seen (saturating) */
	bool protected_;            /* on the protected list */
	double level_s;             /* leaky-bucket level at last_ns */
};

struct rlim;

void rlim_params_default(struct rlim_params *p, uint32_t capacity);

struct rlim *rlim_new(const struct rlim_params *p);
void rlim_free(struct rlim *r);

/* Bytes allocated by rlim_new (the whole table; it never grows). */
size_t rlim_memory_bytes(const struct rlim *r);
/* Bytes one more entry of capacity costs (entry plus its share of the hash buckets, at most). */
size_t rlim_bytes_per_entry(void);
/* The capacity that fits in `bytes` (at least RLIM_MIN_CAPACITY). */
uint32_t rlim_capacity_for_bytes(size_t bytes);

void rlim_set_secret(struct rlim *r, const uint8_t secret[16]);

/* Record one packet from `a` at now_ns. With `limited`, apply the rate test; with `kod`
 * too, decide whether this limited packet gets a kiss. Without `limited` the packet is
 * only recorded and always passes. */
enum rlim_result rlim_account(struct rlim *r, const struct gn_addr *a, gn_time_ns now_ns,
			      bool limited, bool kod);

/* The hash bucket of a client's key (tests and diagnostics). */
uint32_t rlim_bucket(const struct rlim *r, const struct gn_addr *a);

/* Look a client up without recording anything. */
bool rlim_lookup(const struct rlim *r, const struct gn_addr *a, struct rlim_client *out);

const struct rlim_stats *rlim_stats(const struct rlim *r);

#endif
