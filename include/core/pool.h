/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pool: the addresses of one `pool NAME` line, and which of them to use next.
 *
 * ntpd's model (ntp.conf(5) `pool`, `tos maxclock`): a pool name resolves to several
 * addresses; the daemon mobilises associations from them until the total number of
 * associations (all sources) reaches maxclock (default 10); an association that stays
 * unreachable or is rejected as a falseticker is demobilised and replaced by a fresh
 * address, asking DNS again when no unused one is left. gnomon adds: an address is never
 * used twice, neither by this pool after it was dropped nor when another source already
 * uses it; and DNS is asked again at a paced rate: a second after an answer brought new
 * addresses, then backing off from POOL_REQUERY_MIN_S to POOL_REQUERY_MAX_S while they
 * bring none (pool.ntp.org answers 4 random servers per query, so repeating helps, but
 * not in a tight loop). A failing resolution is retried by the DNS module itself.
 *
 * Each address is in one state:
 *   SPARE    learned from DNS, not used yet
 *   IN_USE   handed out by pool_pick (bound to an association id by pool_bind)
 *   RETIRED  dropped (unreachable, falseticker, refused, or used by another source):
 *            never handed out again
 * The table holds POOL_MAX_ADDRS; when full, the oldest spare, then the oldest retired
 * entry is forgotten (so after more than that many distinct addresses an old one could
 * come back: a documented limit, not reached by any real pool).
 *
 * Owns: the table and the query pacing, in a struct the caller holds (no allocation).
 * Does not own: DNS (src/daemon/dns), associations (the engine), the decision that a
 * source is unreachable or a falseticker (the engine). Pure; times are monotonic ns.
 */
#ifndef POOL_H
#define POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gn_addr.h"

#define POOL_MAX_ADDRS 128
#define POOL_REQUERY_FRUITFUL_S 1   /* after an answer with new addresses */
#define POOL_REQUERY_MIN_S 60       /* after the first fruitless answer (a resolver's cache
                                     * gives the same answer for its TTL: 130 s for
                                     * pool.ntp.org) */
#define POOL_REQUERY_MAX_S 3600     /* fruitless ones back off up to an hour (issue) */
#define POOL_DEFAULT_MAXCLOCK 10    /* ntpd's `tos maxclock` default */

enum pool_addr_state { POOL_ADDR_SPARE = 0, POOL_ADDR_IN_USE, POOL_ADDR_RETIRED };

struct pool_entry {
	struct gn_addr addr;
	uint8_t state;              /* enum pool_addr_state */
	uint32_t assoc_id;          /* IN_USE and bound: the association, else 0 */
	uint64_t seq;               /* when learned or last changed state (for eviction) */
};

struct pool {
	struct pool_entry e[POOL_MAX_ADDRS];
	unsigned n;
	uint64_t seq;
	bool query_in_flight;
	int64_t next_query_mono_ns; /* not before this */
	int64_t backoff_ns;         /* pause after the next fruitless answer */
	uint64_t queries, fruitless_queries, retired_total;
};

void pool_init(struct pool *p);

/* Room for new pool associations: maxclock minus all associations (every source). */
unsigned pool_room(unsigned maxclock, unsigned total_assocs);

/* Addresses from a DNS answer. New ones become SPARE; known ones (any state) and
 * duplicates inside the answer are ignored; comparison is by host (the port is the
 * pool's, NTP's 123). Returns how many were new. */
unsigned pool_offer(struct pool *p, const struct gn_addr *addrs, size_t n);

/* Up to min(room, max_out) spare addresses to mobilise now, oldest learned first; each is
 * marked IN_USE. A spare address equal (same host) to one in busy[] (used by another
 * source) is retired instead. Returns the count written to out. */
size_t pool_pick(struct pool *p, unsigned room, const struct gn_addr *busy, size_t n_busy,
		 struct gn_addr *out, size_t max_out);

/* The engine accepted addr as association assoc_id (> 0). False if addr is not IN_USE. */
bool pool_bind(struct pool *p, const struct gn_addr *addr, uint32_t assoc_id);
/* The engine refused addr (eng_add_source_addr returned 0): retired. */
bool pool_refused(struct pool *p, const struct gn_addr *addr);
/* The association was demobilised (unreachable, falseticker): its address is retired and
 * its place free for pool_pick. False if assoc_id is not one of this pool's. */
bool pool_retire(struct pool *p, uint32_t assoc_id);
bool pool_owns(const struct pool *p, uint32_t assoc_id);

unsigned pool_count(const struct pool *p, enum pool_addr_state state);

/* DNS pacing. pool_want_query: there is room, no spare address, no query in flight and
 * the pause is over. */
bool pool_want_query(const struct pool *p, unsigned room, int64_t now_mono_ns);
void pool_query_started(struct pool *p, int64_t now_mono_ns);
/* An answer arrived (after pool_offer): n_new > 0 allows the next query after
 * POOL_REQUERY_FRUITFUL_S and resets the pause to POOL_REQUERY_MIN_S; n_new == 0 waits the
 * pause, then doubles it up to POOL_REQUERY_MAX_S. */
void pool_query_done(struct pool *p, unsigned n_new, int64_t now_mono_ns);
/* The query was given up (cancelled): allow another after the current pause. */
void pool_query_abandoned(struct pool *p, int64_t now_mono_ns);
/* When pool_want_query may next become true by time alone (INT64_MAX: in flight). */
int64_t pool_next_query(const struct pool *p);

#endif
