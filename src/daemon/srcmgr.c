/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * srcmgr: configured sources → associations; names through dns, pools through pool.h
 * (see srcmgr.h for the rules).
 */
#include "srcmgr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "gn_assert.h"
#include "os_log.h"
#include "os_net.h"
#include "pool.h"

#define MAX_ASSOCS 64                /* the engine's table (ENG_MAX_ASSOC) */
#define MAX_TRACK 128                /* pool associations remembered for the retirement rule */

struct line {
	uint32_t dns_req;            /* outstanding request, 0 none */
	bool name;                   /* the host is a name (not an address literal) */
	bool done;                   /* server/peer name: first answer handled */
	struct pool *pool;           /* pool line with a name: its addresses */
	/* server/peer name: its association and the re-resolution state (pool.h) */
	uint32_t assoc_id;           /* 0 = none */
	int64_t mobilised_mono_ns;
	struct pool_rename rn;
};

struct track {
	uint32_t assoc_id;           /* 0 = free */
	unsigned cfg_index;
	int64_t mobilised_mono_ns;
	int64_t false_since_mono_ns; /* first check that saw tally 'x' in this run, 0 none */
};

struct srcmgr {
	struct srcmgr_params p;
	struct dns *dns;
	struct line line[CFG_MAX_SOURCES];
	struct track track[MAX_TRACK];
	uint64_t timer;
	struct srcmgr_stats st;
	struct eng_source_info info[MAX_ASSOCS];
};

static void check_cb(void *ctx, uint64_t id, int64_t now_mono_ns);
static void on_dns(void *ctx, const struct dns_result *r);

static const char *kind_name(enum cfg_src_kind k)
{
	return k == CFG_SRC_POOL ? "pool" : k == CFG_SRC_PEER ? "peer" : "server";
}

static bool family_ok(const struct cfg_source *s, const struct gn_addr *a)
{
	return s->family == 0 || s->family == a->family;
}

struct srcmgr *srcmgr_new(const struct srcmgr_params *p)
{
	REQUIRE(p && p->eng && p->exec && p->sch && p->cfg);
	struct srcmgr *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->p = *p;
	bool any_name = false;
	for (unsigned i = 0; i < p->cfg->n_sources; i++) {
		const struct cfg_source *s = &p->cfg->sources[i];
		struct gn_addr a;
		if (os_net_resolve_numeric(s->host, s->port, s->family, &a))
			continue;
		any_name = true;
		m->line[i].name = true;
		pool_rename_init(&m->line[i].rn);
		if (s->kind == CFG_SRC_POOL) {
			m->line[i].pool = malloc(sizeof *m->line[i].pool);
			if (!m->line[i].pool) {
				srcmgr_free(m);
				return NULL;
			}
			pool_init(m->line[i].pool);
		}
	}
	if (any_name) {
		/* c-ares reads /etc/resolv.conf here: before any sandbox. */
		struct dns_params dp;
		char err[256] = "";
		memset(&dp, 0, sizeof dp);
		dp.servers = p->dns_servers && p->dns_servers[0] ? p->dns_servers : NULL;
		if (dp.servers)
			log_info("DNS: using %s (from %s, a testing aid)", dp.servers,
				 SRCMGR_ENV_DNS_SERVERS);
		m->dns = dns_new(&dp, on_dns, m, err, sizeof err);
		if (!m->dns)
			log_warnx("DNS: cannot start the resolver: %s; host names will not be resolved",
				  err);
		else if (dns_attach_sch(m->dns, p->sch) != 0)
			log_warnx("DNS: the loop is full; name resolution may stall");
	}
	m->timer = sch_timer_add(p->sch, sch_now(p->sch) + (int64_t)SRCMGR_CHECK_S * GN_NS_PER_S,
				 check_cb, m);
	return m;
}

void srcmgr_free(struct srcmgr *m)
{
	if (!m)
		return;
	dns_free(m->dns);
	if (m->timer)
		sch_timer_cancel(m->p.sch, m->timer);
	for (unsigned i = 0; i < CFG_MAX_SOURCES; i++)
		free(m->line[i].pool);
	free(m);
}

const struct srcmgr_stats *srcmgr_stats(const struct srcmgr *m) { return &m->st; }

/* The engine's current associations into m->info; returns how many (at most MAX_ASSOCS). */
static size_t snapshot(struct srcmgr *m, const struct eng_now *now)
{
	size_t n = eng_sources(m->p.eng, now, m->info, MAX_ASSOCS);
	return n < MAX_ASSOCS ? n : MAX_ASSOCS;
}

static void track_add(struct srcmgr *m, uint32_t id, unsigned cfg_index, int64_t now_mono)
{
	struct track *t = NULL;
	for (size_t i = 0; i < MAX_TRACK && !t; i++)
		if (m->track[i].assoc_id == 0)
			t = &m->track[i];
	if (!t)
		return; /* more pool associations than the engine holds: cannot happen */
	t->assoc_id = id;
	t->cfg_index = cfg_index;
	t->mobilised_mono_ns = now_mono;
	t->false_since_mono_ns = 0;
}

static uint32_t mobilise(struct srcmgr *m, const struct eng_now *now, unsigned i,
			 const struct gn_addr *a)
{
	const struct cfg_source *s = &m->p.cfg->sources[i];
	char as[96];
	uint32_t id = eng_add_source_addr(m->p.eng, now, i, a);
	if (id == 0) {
		log_warnx("%s %s (line %u): %s refused by the engine (duplicate or too many)",
			  kind_name(s->kind), s->host, s->line, gn_addr_port_str(a, as, sizeof as));
		return 0;
	}
	m->st.mobilised++;
	log_info("%s %s: %s is association %u", kind_name(s->kind), s->host,
		 gn_addr_port_str(a, as, sizeof as), id);
	return id;
}

/* Fill pool line i from its spare addresses up to maxclock; ask DNS again if it needs
 * more and the pacing allows. */
static void pool_fill(struct srcmgr *m, const struct eng_now *now, unsigned i)
{
	struct line *l = &m->line[i];
	const struct cfg_source *s = &m->p.cfg->sources[i];
	unsigned maxclock = m->p.cfg->tos.maxclock ? m->p.cfg->tos.maxclock : POOL_DEFAULT_MAXCLOCK;
	size_t n = snapshot(m, now);
	struct gn_addr busy[MAX_ASSOCS], out[MAX_ASSOCS];
	unsigned live = 0; /* a source a DENY kiss demobilised holds no place (its address
	                    * stays busy: the pool does not take it) */
	for (size_t k = 0; k < n; k++) {
		busy[k] = m->info[k].addr;
		if (!m->info[k].dead)
			live++;
	}
	unsigned room = pool_room(maxclock, live);
	size_t got = pool_pick(l->pool, room, busy, n, out, MAX_ASSOCS);
	for (size_t k = 0; k < got; k++) {
		if (!family_ok(s, &out[k])) {
			pool_refused(l->pool, &out[k]);
			continue;
		}
		uint32_t id = mobilise(m, now, i, &out[k]);
		if (id) {
			pool_bind(l->pool, &out[k], id);
			track_add(m, id, i, now->mono_ns);
			live++;
		} else {
			pool_refused(l->pool, &out[k]);
		}
	}
	room = pool_room(maxclock, live);
	if (m->dns && l->dns_req == 0 && pool_want_query(l->pool, room, now->mono_ns)) {
		l->dns_req = dns_resolve(m->dns, s->host, s->port, now->mono_ns);
		if (l->dns_req) {
			pool_query_started(l->pool, now->mono_ns);
			m->st.pool_queries++;
			log_debug("pool %s: %u more wanted, asking DNS", s->host, room);
		}
	}
}

/* What the engine shows of server/peer name line i's association (pool.h's view); drops
 * the line's id if the association is gone. Needs a fresh snapshot of n entries. */
static void line_src(struct srcmgr *m, unsigned i, size_t n, struct pool_rename_src *src)
{
	struct line *l = &m->line[i];
	const struct cfg_source *s = &m->p.cfg->sources[i];
	memset(src, 0, sizeof *src);
	src->poll_log2 = s->minpoll;
	for (size_t k = 0; k < n && l->assoc_id; k++) {
		const struct eng_source_info *si = &m->info[k];
		if (si->assoc_id != l->assoc_id)
			continue;
		src->present = true;
		src->addr = si->addr;
		src->poll_log2 = si->poll_log2;
		src->quiet_since_mono_ns = si->last_rx_mono_ns > l->mobilised_mono_ns ?
					   si->last_rx_mono_ns : l->mobilised_mono_ns;
		return;
	}
	l->assoc_id = 0;
}

/* A DNS answer for server/peer name line i: the first (the line has no association yet)
 * or a re-resolution after its address went silent. pool_rename_answer decides. */
static void name_answer(struct srcmgr *m, const struct eng_now *now, unsigned i,
			const struct gn_addr *addrs, size_t n_addrs)
{
	struct line *l = &m->line[i];
	const struct cfg_source *s = &m->p.cfg->sources[i];
	bool first = !l->done;
	l->done = true;
	size_t n = snapshot(m, now);
	struct gn_addr busy[MAX_ASSOCS], pick;
	for (size_t k = 0; k < n; k++)
		busy[k] = m->info[k].addr;
	struct pool_rename_src src;
	line_src(m, i, n, &src);
	uint32_t old_id = l->assoc_id;
	enum pool_rename_verdict v = pool_rename_answer(&l->rn, &src, addrs, n_addrs,
							(uint8_t)s->family, busy, n, now->mono_ns,
							&pick);
	char as[96], ps[96];
	double pause_s = (double)l->rn.pause_ns / (double)GN_NS_PER_S;
	bool loud = l->rn.episode_asks <= 1; /* once per state change */
	switch (v) {
	case POOL_RENAME_ANSWERS:
		log_info("%s %s: %s answers again; DNS's answer not needed", kind_name(s->kind),
			 s->host, gn_addr_port_str(&src.addr, as, sizeof as));
		m->st.renames_cancelled++;
		return;
	case POOL_RENAME_SAME:
		m->st.renames_kept++;
		if (loud)
			log_info("%s %s: DNS still gives %s only; keeping association %u (asking "
				 "again in %g s, then less often, up to every %d s)",
				 kind_name(s->kind), s->host, gn_addr_port_str(&src.addr, as, sizeof as),
				 old_id, pause_s, POOL_RENAME_MAX_S);
		else
			log_debug("%s %s: DNS still gives %s only; next question in %g s",
				  kind_name(s->kind), s->host, gn_addr_port_str(&src.addr, as, sizeof as),
				  pause_s);
		return;
	case POOL_RENAME_NONE:
		if (first) {
			log_warnx("%s %s (line %u): no usable address among the %zu DNS gave (wrong "
				  "family, or each used by another source); asking again in %g s",
				  kind_name(s->kind), s->host, s->line, n_addrs, pause_s);
		} else if (!src.present) {
			log_debug("%s %s: still no usable address among the %zu DNS gave; next "
				  "question in %g s", kind_name(s->kind), s->host, n_addrs, pause_s);
		} else {
			m->st.renames_kept++;
			if (loud)
				log_info("%s %s: DNS gives no other usable address (%zu in its answer); "
					 "keeping association %u (asking again in %g s)",
					 kind_name(s->kind), s->host, n_addrs, old_id, pause_s);
		}
		return;
	case POOL_RENAME_REPLACE:
		break;
	}
	if (src.present)
		log_notice("%s %s: %s (association %u) does not answer and DNS now gives %s; "
			   "replacing it", kind_name(s->kind), s->host,
			   gn_addr_port_str(&src.addr, as, sizeof as), old_id,
			   gn_addr_port_str(&pick, ps, sizeof ps));
	uint32_t id = mobilise(m, now, i, &pick);
	if (id == 0) {
		pool_rename_refused(&l->rn, &src, now->mono_ns);
		return; /* the old one (if any) stays */
	}
	l->assoc_id = id;
	l->mobilised_mono_ns = now->mono_ns;
	if (src.present) {
		m->st.renames_replaced++;
		if (!eng_remove_source(m->p.eng, now, old_id))
			log_warnx("%s %s: association %u could not be removed", kind_name(s->kind),
				  s->host, old_id);
	}
}

static int line_of_request(const struct srcmgr *m, uint32_t id)
{
	for (unsigned i = 0; i < m->p.cfg->n_sources; i++)
		if (m->line[i].dns_req == id)
			return (int)i;
	return -1;
}

static void on_dns(void *ctx, const struct dns_result *r)
{
	struct srcmgr *m = ctx;
	int li = line_of_request(m, r->id);
	if (li < 0)
		return;
	if (!r->ok) {
		/* dns retries (backoff up to an hour) and logs its health once per change; a
		 * server/peer association keeps running meanwhile */
		if (!m->line[li].pool && m->line[li].done) {
			m->st.renames_failed++;
			log_debug("%s %s: asking DNS again failed (%s); keeping association %u",
				  kind_name(m->p.cfg->sources[li].kind), m->p.cfg->sources[li].host,
				  r->error ? r->error : "?", m->line[li].assoc_id);
		}
		return;
	}
	unsigned i = (unsigned)li;
	struct line *l = &m->line[i];
	const struct cfg_source *s = &m->p.cfg->sources[i];
	struct eng_now now;
	l->dns_req = 0;
	if (exec_now(m->p.exec, &now) != 0) {
		l->rn.asking = false; /* asked again at the next check */
		return;
	}
	m->st.resolved++;
	if (l->pool) {
		unsigned fresh = pool_offer(l->pool, r->addrs, r->n);
		pool_query_done(l->pool, fresh, now.mono_ns);
		log_debug("pool %s: %zu addresses, %u new", s->host, r->n, fresh);
		pool_fill(m, &now, i);
	} else {
		name_answer(m, &now, i, r->addrs, r->n);
	}
	exec_run_actions(m->p.exec);
}

void srcmgr_start(struct srcmgr *m)
{
	struct eng_now now;
	const struct cfg *cfg = m->p.cfg;
	if (exec_now(m->p.exec, &now) != 0) {
		log_warn("cannot read the clock");
		return;
	}
	for (unsigned i = 0; i < cfg->n_sources; i++) {
		const struct cfg_source *s = &cfg->sources[i];
		struct gn_addr a;
		if (os_net_resolve_numeric(s->host, s->port, s->family, &a)) {
			mobilise(m, &now, i, &a);
			m->line[i].done = true;
			continue;
		}
		if (!m->dns)
			continue; /* said at srcmgr_new */
		if (m->line[i].pool) {
			pool_fill(m, &now, i);
			continue;
		}
		m->line[i].dns_req = dns_resolve(m->dns, s->host, s->port, now.mono_ns);
		if (m->line[i].dns_req == 0)
			log_warnx("%s %s (line %u): not a name that can be resolved; skipped",
				  kind_name(s->kind), s->host, s->line);
		else
			log_info("%s %s: resolving", kind_name(s->kind), s->host);
	}
	for (unsigned i = 0; i < cfg->n_refclocks; i++)
		log_warnx("refclock %s unit %u (line %u): reference clocks are not supported yet; "
			  "ignored", cfg->refclocks[i].driver, cfg->refclocks[i].unit,
			  cfg->refclocks[i].line);
	exec_run_actions(m->p.exec);
}

/* Drop a pool association (the engine closes its socket); true if the engine did. */
static bool demobilise(struct srcmgr *m, const struct eng_now *now, uint32_t id)
{
	return eng_remove_source(m->p.eng, now, id);
}

static void check_pool_assocs(struct srcmgr *m, const struct eng_now *now)
{
	size_t n = snapshot(m, now);
	/* 'x' counts only when the selection found truechimers: with two sources that
	 * disagree both are 'x', and neither is known to be the bad one */
	bool majority = false;
	for (size_t j = 0; j < n; j++)
		if (m->info[j].tally != '\0' && strchr("*+#-o", m->info[j].tally))
			majority = true;
	for (size_t k = 0; k < MAX_TRACK; k++) {
		struct track *t = &m->track[k];
		if (t->assoc_id == 0)
			continue;
		const struct eng_source_info *si = NULL;
		for (size_t j = 0; j < n && !si; j++)
			if (m->info[j].assoc_id == t->assoc_id)
				si = &m->info[j];
		struct line *l = &m->line[t->cfg_index];
		if (si && si->dead) {
			/* a DENY/RSTR kiss demobilised it: the engine lists it for its kiss code
			 * until told; free its place and never use the address again */
			char as[96];
			if (!demobilise(m, now, t->assoc_id))
				continue;
			log_notice("pool %s: %s (association %u) sent a %s kiss; replacing it",
				   m->p.cfg->sources[t->cfg_index].host,
				   gn_addr_port_str(&si->addr, as, sizeof as), t->assoc_id,
				   si->kod[0] ? si->kod : "DENY");
			m->st.replaced_kod++;
			pool_retire(l->pool, t->assoc_id);
			t->assoc_id = 0;
			n = snapshot(m, now); /* si is stale now */
			continue;
		}
		if (!si) {
			/* gone without us (a KoD DENY, say): its place is free */
			pool_retire(l->pool, t->assoc_id);
			t->assoc_id = 0;
			continue;
		}
		int p = si->poll_log2 < 3 ? 3 : si->poll_log2 > 17 ? 17 : si->poll_log2;
		int64_t poll_ns = (int64_t)GN_NS_PER_S << p;
		const char *why = NULL;
		if (si->reach == 0 && now->mono_ns - t->mobilised_mono_ns >= SRCMGR_UNREACH_POLLS * poll_ns)
			why = "unreachable";
		if (si->tally == 'x' && majority) {
			if (t->false_since_mono_ns == 0)
				t->false_since_mono_ns = now->mono_ns;
			else if (now->mono_ns - t->false_since_mono_ns >= SRCMGR_FALSE_POLLS * poll_ns)
				why = "a falseticker";
		} else {
			t->false_since_mono_ns = 0;
		}
		if (!why)
			continue;
		char as[96];
		const struct cfg_source *s = &m->p.cfg->sources[t->cfg_index];
		uint32_t id = t->assoc_id;
		if (!demobilise(m, now, id))
			continue;
		log_notice("pool %s: %s (association %u) is %s; replacing it", s->host,
			   gn_addr_port_str(&si->addr, as, sizeof as), id, why);
		if (why[0] == 'u')
			m->st.replaced_unreach++;
		else
			m->st.replaced_false++;
		pool_retire(l->pool, id);
		t->assoc_id = 0;
		n = snapshot(m, now); /* si is stale now */
	}
}

/* server/peer name lines: ask DNS again for one whose address went silent (pool.h's
 * rename rule); drop the question when the address answers again first. */
static void check_names(struct srcmgr *m, const struct eng_now *now)
{
	if (!m->dns)
		return;
	size_t n = 0;
	bool have = false;
	for (unsigned i = 0; i < m->p.cfg->n_sources; i++) {
		struct line *l = &m->line[i];
		const struct cfg_source *s = &m->p.cfg->sources[i];
		if (!l->name || l->pool || !l->done)
			continue;
		if (!have) {
			n = snapshot(m, now);
			have = true;
		}
		struct pool_rename_src src;
		line_src(m, i, n, &src);
		char as[96];
		switch (pool_rename_check(&l->rn, &src, now->mono_ns)) {
		case POOL_RENAME_IDLE:
			break;
		case POOL_RENAME_CANCEL:
			if (l->dns_req)
				dns_cancel(m->dns, l->dns_req);
			l->dns_req = 0;
			m->st.renames_cancelled++;
			log_info("%s %s: %s answers again; no longer asking DNS", kind_name(s->kind),
				 s->host, gn_addr_port_str(&src.addr, as, sizeof as));
			break;
		case POOL_RENAME_ASK:
			if (l->dns_req) /* cannot happen: one question at a time */
				dns_cancel(m->dns, l->dns_req);
			l->dns_req = dns_resolve(m->dns, s->host, s->port, now->mono_ns);
			if (l->dns_req == 0) {
				/* the resolver's table is full: as an empty answer (pause) */
				name_answer(m, now, i, NULL, 0);
				have = false; /* the snapshot may have changed */
				break;
			}
			m->st.renames_asked++;
			if (!src.present)
				log_debug("%s %s: no association; asking DNS again", kind_name(s->kind),
					  s->host);
			else if (l->rn.episode_asks <= 1)
				log_notice("%s %s: %s (association %u) has not answered for %lld s (%d "
					   "polls); asking DNS again", kind_name(s->kind), s->host,
					   gn_addr_port_str(&src.addr, as, sizeof as), l->assoc_id,
					   (long long)((now->mono_ns - src.quiet_since_mono_ns) /
						       GN_NS_PER_S), POOL_RENAME_POLLS);
			else
				log_debug("%s %s: %s still silent; asking DNS again (question %u)",
					  kind_name(s->kind), s->host,
					  gn_addr_port_str(&src.addr, as, sizeof as), l->rn.episode_asks);
			break;
		}
	}
}

static void check_cb(void *ctx, uint64_t id, int64_t now_mono_ns)
{
	struct srcmgr *m = ctx;
	struct eng_now now;
	(void)id;
	m->timer = sch_timer_add(m->p.sch, now_mono_ns + (int64_t)SRCMGR_CHECK_S * GN_NS_PER_S,
				 check_cb, m);
	if (exec_now(m->p.exec, &now) != 0)
		return;
	check_pool_assocs(m, &now);
	for (unsigned i = 0; i < m->p.cfg->n_sources; i++)
		if (m->line[i].pool)
			pool_fill(m, &now, i);
	check_names(m, &now);
	exec_run_actions(m->p.exec);
}
