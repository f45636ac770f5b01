/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pool: the address table of one pool line and its DNS pacing (see pool.h). Pure; a
 * linear table, since a pool holds a few dozen addresses at most.
 */
#include "pool.h"

#include <string.h>

#include "gn_assert.h"

#define NS_PER_S 1000000000LL

void pool_init(struct pool *p)
{
	REQUIRE(p != NULL);
	memset(p, 0, sizeof *p);
	p->backoff_ns = POOL_REQUERY_MIN_S * NS_PER_S;
}

unsigned pool_room(unsigned maxclock, unsigned total_assocs)
{
	return maxclock > total_assocs ? maxclock - total_assocs : 0;
}

static struct pool_entry *find_host(struct pool *p, const struct gn_addr *a)
{
	for (unsigned i = 0; i < p->n; i++)
		if (gn_addr_same_host(&p->e[i].addr, a))
			return &p->e[i];
	return NULL;
}

/* Make room for one entry: forget the oldest spare, else the oldest retired. */
static bool evict_one(struct pool *p)
{
	for (int want = POOL_ADDR_SPARE; want <= POOL_ADDR_RETIRED; want += 2) {
		unsigned victim = p->n;
		for (unsigned i = 0; i < p->n; i++)
			if (p->e[i].state == want && (victim == p->n || p->e[i].seq < p->e[victim].seq))
				victim = i;
		if (victim < p->n) {
			p->e[victim] = p->e[p->n - 1];
			p->n--;
			return true;
		}
	}
	return false;
}

unsigned pool_offer(struct pool *p, const struct gn_addr *addrs, size_t n)
{
	REQUIRE(p != NULL && (addrs != NULL || n == 0));
	unsigned added = 0;
	for (size_t i = 0; i < n; i++) {
		if (addrs[i].family != GN_AF_INET && addrs[i].family != GN_AF_INET6)
			continue;
		if (find_host(p, &addrs[i]))
			continue;
		if (p->n == POOL_MAX_ADDRS && !evict_one(p))
			break;
		struct pool_entry *e = &p->e[p->n++];
		memset(e, 0, sizeof *e);
		e->addr = addrs[i];
		e->state = POOL_ADDR_SPARE;
		e->seq = ++p->seq;
		added++;
	}
	return added;
}

static bool busy_has(const struct gn_addr *busy, size_t n_busy, const struct gn_addr *a)
{
	for (size_t i = 0; i < n_busy; i++)
		if (gn_addr_same_host(&busy[i], a))
			return true;
	return false;
}

static void retire(struct pool *p, struct pool_entry *e)
{
	e->state = POOL_ADDR_RETIRED;
	e->assoc_id = 0;
	e->seq = ++p->seq;
	p->retired_total++;
}

size_t pool_pick(struct pool *p, unsigned room, const struct gn_addr *busy, size_t n_busy,
		 struct gn_addr *out, size_t max_out)
{
	REQUIRE(p != NULL && (out != NULL || max_out == 0));
	size_t got = 0;
	while (got < room && got < max_out) {
		struct pool_entry *best = NULL;
		for (unsigned i = 0; i < p->n; i++) {
			struct pool_entry *e = &p->e[i];
			if (e->state != POOL_ADDR_SPARE)
				continue;
			if (busy_has(busy, n_busy, &e->addr)) {
				retire(p, e);
				continue;
			}
			if (!best || e->seq < best->seq)
				best = e;
		}
		if (!best)
			break;
		best->state = POOL_ADDR_IN_USE;
		best->assoc_id = 0;
		best->seq = ++p->seq;
		out[got++] = best->addr;
	}
	return got;
}

bool pool_bind(struct pool *p, const struct gn_addr *addr, uint32_t assoc_id)
{
	REQUIRE(p != NULL && addr != NULL && assoc_id > 0);
	struct pool_entry *e = find_host(p, addr);
	if (!e || e->state != POOL_ADDR_IN_USE)
		return false;
	e->assoc_id = assoc_id;
	return true;
}

bool pool_refused(struct pool *p, const struct gn_addr *addr)
{
	REQUIRE(p != NULL && addr != NULL);
	struct pool_entry *e = find_host(p, addr);
	if (!e || e->state == POOL_ADDR_RETIRED)
		return false;
	retire(p, e);
	return true;
}

bool pool_retire(struct pool *p, uint32_t assoc_id)
{
	REQUIRE(p != NULL);
	if (assoc_id == 0)
		return false;
	for (unsigned i = 0; i < p->n; i++)
		if (p->e[i].state == POOL_ADDR_IN_USE && p->e[i].assoc_id == assoc_id) {
			retire(p, &p->e[i]);
			return true;
		}
	return false;
}

bool pool_owns(const struct pool *p, uint32_t assoc_id)
{
	REQUIRE(p != NULL);
	if (assoc_id == 0)
		return false;
	for (unsigned i = 0; i < p->n; i++)
		if (p->e[i].state == POOL_ADDR_IN_USE && p->e[i].assoc_id == assoc_id)
			return true;
	return false;
}

unsigned pool_count(const struct pool *p, enum pool_addr_state state)
{
	REQUIRE(p != NULL);
	unsigned c = 0;
	for (unsigned i = 0; i < p->n; i++)
		if (p->e[i].state == state)
			c++;
	return c;
}

bool pool_want_query(const struct pool *p, unsigned room, int64_t now_mono_ns)
{
	REQUIRE(p != NULL);
	return room > 0 && !p->query_in_flight && pool_count(p, POOL_ADDR_SPARE) == 0 &&
	       now_mono_ns >= p->next_query_mono_ns;
}

void pool_query_started(struct pool *p, int64_t now_mono_ns)
{
	REQUIRE(p != NULL);
	(void)now_mono_ns;
	p->query_in_flight = true;
	p->queries++;
}

void pool_query_done(struct pool *p, unsigned n_new, int64_t now_mono_ns)
{
	REQUIRE(p != NULL);
	p->query_in_flight = false;
	if (n_new > 0) {
		p->backoff_ns = POOL_REQUERY_MIN_S * NS_PER_S;
		p->next_query_mono_ns = now_mono_ns + POOL_REQUERY_FRUITFUL_S * NS_PER_S;
		return;
	}
	p->fruitless_queries++;
	p->next_query_mono_ns = now_mono_ns + p->backoff_ns;
	p->backoff_ns *= 2;
	if (p->backoff_ns > POOL_REQUERY_MAX_S * NS_PER_S)
		p->backoff_ns = POOL_REQUERY_MAX_S * NS_PER_S;
}

void pool_query_abandoned(struct pool *p, int64_t now_mono_ns)
{
	REQUIRE(p != NULL);
	p->query_in_flight = false;
	if (p->next_query_mono_ns < now_mono_ns)
		p->next_query_mono_ns = now_mono_ns;
}

int64_t pool_next_query(const struct pool *p)
{
	REQUIRE(p != NULL);
	return p->query_in_flight ? INT64_MAX : p->next_query_mono_ns;
}

/* --- server/peer names re-resolved (see pool.h) --- */

void pool_rename_init(struct pool_rename *r)
{
	REQUIRE(r != NULL);
	memset(r, 0, sizeof *r);
}

int64_t pool_rename_window_ns(const struct pool_rename_src *s)
{
	REQUIRE(s != NULL);
	int p = s->poll_log2 < 3 ? 3 : s->poll_log2 > 17 ? 17 : s->poll_log2; /* RFC 5905 §7.2 */
	return (int64_t)POOL_RENAME_POLLS * (NS_PER_S << p);
}

bool pool_rename_silent(const struct pool_rename_src *s, int64_t now_mono_ns)
{
	REQUIRE(s != NULL);
	if (!s->present)
		return true;
	return now_mono_ns - s->quiet_since_mono_ns >= pool_rename_window_ns(s);
}

static void rename_reset(struct pool_rename *r)
{
	r->next_mono_ns = 0;
	r->pause_ns = 0;
	r->episode_asks = 0;
}

/* A fruitless answer: the next question after the window, then twice the last pause, up
 * to POOL_RENAME_MAX_S. */
static void rename_backoff(struct pool_rename *r, const struct pool_rename_src *s, int64_t now)
{
	int64_t max = POOL_RENAME_MAX_S * NS_PER_S;
	int64_t pause = r->pause_ns == 0 ? pool_rename_window_ns(s) : r->pause_ns * 2;
	if (pause > max)
		pause = max;
	r->pause_ns = pause;
	r->next_mono_ns = now + pause;
}

enum pool_rename_tick pool_rename_check(struct pool_rename *r, const struct pool_rename_src *s,
					int64_t now_mono_ns)
{
	REQUIRE(r != NULL && s != NULL);
	if (!pool_rename_silent(s, now_mono_ns)) {
		bool was_asking = r->asking;
		r->asking = false;
		rename_reset(r);
		if (was_asking) {
			r->cancelled++;
			return POOL_RENAME_CANCEL;
		}
		return POOL_RENAME_IDLE;
	}
	if (r->asking || now_mono_ns < r->next_mono_ns)
		return POOL_RENAME_IDLE;
	r->asking = true;
	r->asked++;
	r->episode_asks++;
	return POOL_RENAME_ASK;
}

static bool in_list(const struct gn_addr *list, size_t n, const struct gn_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (gn_addr_same_host(&list[i], a))
			return true;
	return false;
}

enum pool_rename_verdict pool_rename_answer(struct pool_rename *r, const struct pool_rename_src *s,
					    const struct gn_addr *addrs, size_t n, uint8_t family,
					    const struct gn_addr *busy, size_t n_busy,
					    int64_t now_mono_ns, struct gn_addr *pick)
{
	REQUIRE(r != NULL && s != NULL && pick != NULL);
	REQUIRE((addrs != NULL || n == 0) && (busy != NULL || n_busy == 0));
	r->asking = false;
	if (s->present && !pool_rename_silent(s, now_mono_ns)) {
		rename_reset(r);
		r->answers++;
		return POOL_RENAME_ANSWERS;
	}
	bool has_current = false;
	for (size_t i = 0; i < n; i++) {
		const struct gn_addr *a = &addrs[i];
		if (a->family != GN_AF_INET && a->family != GN_AF_INET6)
			continue;
		if (family != GN_AF_NONE && a->family != family)
			continue;
		if (s->present && gn_addr_same_host(a, &s->addr)) {
			has_current = true;
			continue;
		}
		if (in_list(busy, n_busy, a))
			continue;
		*pick = *a;
		rename_reset(r);
		r->replaced++;
		return POOL_RENAME_REPLACE;
	}
	rename_backoff(r, s, now_mono_ns);
	if (has_current) {
		r->same++;
		return POOL_RENAME_SAME;
	}
	r->none++;
	return POOL_RENAME_NONE;
}

void pool_rename_refused(struct pool_rename *r, const struct pool_rename_src *s,
			 int64_t now_mono_ns)
{
	REQUIRE(r != NULL && s != NULL);
	r->asking = false;
	rename_backoff(r, s, now_mono_ns);
}
