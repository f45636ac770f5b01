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

/* --- a `server NAME` / `peer NAME` line whose address stopped answering (issue 6) ---
 *
 * Such a line has one association (ntpd: one address per server line). When its address
 * has not answered for POOL_RENAME_POLLS poll intervals (time since the last answer, or
 * since it was mobilised if it never answered), DNS is asked again for the name:
 *   - the answer holds another usable address (the line's family, not the current one,
 *     not used by another association): POOL_RENAME_REPLACE, the daemon mobilises it
 *     with the line's options and demobilises the silent one. The current address is
 *     left even when the answer still holds it: a silent address whose name now offers
 *     another (a renumbered server, DNS failover, a round-robin name with a dead member)
 *     is the case this exists for;
 *   - only the current address: POOL_RENAME_SAME, it stays; asked again after a pause
 *     that starts at the silence window and doubles up to POOL_RENAME_MAX_S (an hour);
 *   - nothing usable: POOL_RENAME_NONE, it stays, same pause;
 *   - the address answered again meanwhile: POOL_RENAME_ANSWERS, it stays, the pause
 *     is reset.
 * A failing DNS never drops the association: the request stays with the dns module,
 * which retries it with its own backoff (5 s .. 1 h) and logs its health once per
 * change; when the address answers again first, pool_rename_check says
 * POOL_RENAME_CANCEL. A line whose resolution left it without an association (nothing
 * usable, the engine refused) is asked again on the same pacing.
 *
 * Why 4 polls and not the pool's 8 (reach == 0): asking is only a question. The
 * association is replaced only when DNS names another address for the name, and a same
 * answer costs one query; 4 silent polls (at the default minpoll 6: ~4 minutes; at
 * maxpoll 10: ~68 minutes) is well past a lost packet or two, and half the pool's rule
 * keeps a renumbered server's outage short. An address literal is never re-resolved (the
 * daemon never calls this for one).
 *
 * Pure: the caller passes what the engine shows (struct pool_rename_src) and the time;
 * no I/O, no clock reads. */
#define POOL_RENAME_POLLS 4         /* poll intervals without an answer before asking */
#define POOL_RENAME_MAX_S 3600      /* pause cap between fruitless re-resolutions (issue:
                                     * "with backoff (up to an hour)") */

enum pool_rename_tick {
	POOL_RENAME_IDLE = 0,       /* nothing to do */
	POOL_RENAME_ASK,            /* ask DNS now (then pool_rename_answer) */
	POOL_RENAME_CANCEL,         /* a question is out but the address answers again:
	                             * cancel it (the state is already reset) */
};

enum pool_rename_verdict {
	POOL_RENAME_REPLACE = 0,    /* *pick: mobilise it, then demobilise the silent one */
	POOL_RENAME_SAME,           /* the name gives only the current address: keep it */
	POOL_RENAME_NONE,           /* nothing usable (family, used elsewhere, no answer) */
	POOL_RENAME_ANSWERS,        /* the address answered meanwhile: keep it */
};

/* The line's association as the engine shows it (eng_source_info). */
struct pool_rename_src {
	bool present;               /* false: the line has no association */
	struct gn_addr addr;        /* present: its address */
	int poll_log2;              /* present: its poll; absent: the line's minpoll */
	int64_t quiet_since_mono_ns;/* present: the last answer, or its mobilisation if it
	                             * never answered */
};

struct pool_rename {
	bool asking;                /* a question is out */
	int64_t next_mono_ns;       /* no question before this (0: none pending) */
	int64_t pause_ns;           /* the last pause (0: none since the last reset) */
	unsigned episode_asks;      /* questions since the address last answered (1 = the
	                             * first: for logging once per state change) */
	uint64_t asked, replaced, same, none, answers, cancelled;
};

void pool_rename_init(struct pool_rename *r);

/* The silence window of s: POOL_RENAME_POLLS poll intervals (poll clamped to 3..17). */
int64_t pool_rename_window_ns(const struct pool_rename_src *s);
/* s is present and has been silent for the window (or is absent). */
bool pool_rename_silent(const struct pool_rename_src *s, int64_t now_mono_ns);

/* Once per check: ASK when the address is silent, no question is out and the pause is
 * over (marks a question out); CANCEL when a question is out but the address answers
 * again; IDLE otherwise. An answering address resets the pause. */
enum pool_rename_tick pool_rename_check(struct pool_rename *r, const struct pool_rename_src *s,
					int64_t now_mono_ns);

/* DNS answered (n >= 0 addresses; n == 0 also when the question could not be asked).
 * family: the line's (GN_AF_NONE: any). busy: every association's address (the line's
 * own may be among them). Ends the question; on REPLACE *pick is set and the pause
 * reset, on SAME and NONE the next question waits the pause (the window first, then
 * doubling up to POOL_RENAME_MAX_S). */
enum pool_rename_verdict pool_rename_answer(struct pool_rename *r, const struct pool_rename_src *s,
					    const struct gn_addr *addrs, size_t n, uint8_t family,
					    const struct gn_addr *busy, size_t n_busy,
					    int64_t now_mono_ns, struct gn_addr *pick);

/* The engine refused the address REPLACE picked (or the first resolution's): wait the
 * pause as for NONE. */
void pool_rename_refused(struct pool_rename *r, const struct pool_rename_src *s,
			 int64_t now_mono_ns);

#endif
