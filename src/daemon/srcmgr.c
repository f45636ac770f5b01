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
	bool done;                   /* server/peer: resolved and mobilised */
	struct pool *pool;           /* pool line with a name: its addresses */
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

static const char *addr_port_str(const struct gn_addr *a, char *buf, size_t cap)
{
	char h[64];
	gn_addr_str(a, h, sizeof h);
	if (a->family == GN_AF_INET6)
		snprintf(buf, cap, "[%s]:%u", h, a->port);
	else
		snprintf(buf, cap, "%s:%u", h, a->port);
	return buf;
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

static bool addr_in_use(const struct srcmgr *m, size_t n, const struct gn_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (gn_addr_same_host(&m->info[i].addr, a))
			return true;
	return false;
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
			  kind_name(s->kind), s->host, s->line, addr_port_str(a, as, sizeof as));
		return 0;
	}
	m->st.mobilised++;
	log_info("%s %s: %s is association %u", kind_name(s->kind), s->host,
		 addr_port_str(a, as, sizeof as), id);
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
	if (li < 0 || !r->ok)
		return; /* failures: dns retries and logs */
	unsigned i = (unsigned)li;
	struct line *l = &m->line[i];
	const struct cfg_source *s = &m->p.cfg->sources[i];
	struct eng_now now;
	l->dns_req = 0;
	if (exec_now(m->p.exec, &now) != 0)
		return;
	m->st.resolved++;
	if (l->pool) {
		unsigned fresh = pool_offer(l->pool, r->addrs, r->n);
		pool_query_done(l->pool, fresh, now.mono_ns);
		log_debug("pool %s: %zu addresses, %u new", s->host, r->n, fresh);
		pool_fill(m, &now, i);
	} else {
		size_t n = snapshot(m, &now);
		const struct gn_addr *pick = NULL;
		for (size_t k = 0; k < r->n && !pick; k++)
			if (family_ok(s, &r->addrs[k]) && !addr_in_use(m, n, &r->addrs[k]))
				pick = &r->addrs[k];
		if (!pick)
			log_warnx("%s %s (line %u): no usable address among the %zu DNS gave (wrong "
				  "family, or each used by another source)", kind_name(s->kind),
				  s->host, s->line, r->n);
		else
			mobilise(m, &now, i, pick);
		l->done = true;
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
				   addr_port_str(&si->addr, as, sizeof as), t->assoc_id,
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
			   addr_port_str(&si->addr, as, sizeof as), id, why);
		if (why[0] == 'u')
			m->st.replaced_unreach++;
		else
			m->st.replaced_false++;
		pool_retire(l->pool, id);
		t->assoc_id = 0;
		n = snapshot(m, now); /* si is stale now */
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
	exec_run_actions(m->p.exec);
}
