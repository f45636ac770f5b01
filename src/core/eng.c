/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * eng: the engine. Owns the associations (asc, each with its clock filter flt), the system
 * process of RFC 5905 §11.2 (selection: sel, clustering: cls, combining: cmb), the
 * discipline (dsc), the system variables and their sync state (synchronised, holdover,
 * unsynchronised, panic), and the server side (srv), to which it hands requests that came
 * to the server socket. Events come in with one `now`; what to do goes out as actions.
 *
 * Does not own: sockets, names, files or the clock (include/core/eng.h). Everything is
 * allocated in eng_new; events never allocate.
 */
#include "eng.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asc.h"
#include "auth.h"
#include "cls.h"
#include "cmb.h"
#include "dsc.h"
#include "flt.h"
#include "gn_assert.h"
#include "leap.h"
#include "sel.h"

#define ENG_MAX_ASSOC 64
#define ENG_MAX_ACTIONS 128
#define ENG_HOUSEKEEP_S 1            /* period of the sync-state checks */
#define ENG_HOLDOVER_S 1800.0        /* frequency alone keeps the clock this long after loss */
#define ENG_MINDISP_S ASC_MINDISP_S
#define ENG_PHI 15e-6                /* RFC 5905 §7.2 PHI */
#define ENG_PANIC_LOG_S 3600         /* a panic is logged again at most this often */
#define ENG_DRIFT_FIRST_S 900        /* first drift-file write after synchronisation */
#define ENG_DRIFT_EVERY_S 3600       /* then this often (ntpd writes hourly) */
#define ENG_SILENT_SENDS 4           /* a source that never answered: "no response" after this
                                      * many requests (6 s with iburst) */
#define ENG_STARTUP_WAIT_S 4         /* before the first correction, wait this long for every
                                      * source to answer once (so a falseticker that answers
                                      * first is not followed) */
/* A disturbed clock (H2; docs/leap-dns-drift.md "Suspended, resumed and migrated machines") */
#define ENG_DIST_SAMPLES 3           /* after a restart, samples of each survivor before deciding */
#define ENG_DIST_DECIDE_S 20         /* ... or this long after the restart, with what came */
#define ENG_DIST_GIVEUP_S 120        /* nothing usable came: back to the usual rules */
#define ENG_DIST_HOLDOFF_S 900       /* after a jump the burst did not confirm, the next
                                      * suspicion waits this long (a source that keeps
                                      * jumping costs one burst per 15 minutes at most) */
#define ENG_DIST_SPREAD_MS 250u      /* the burst's first requests spread over this */
#define ENG_LEAP_STEP_TOL_NS 10000000LL /* an external step of 1 s ± 10 ms ... */
#define ENG_LEAP_NEAR_NS (10LL * GN_NS_PER_S) /* ... this near the armed leap: the kernel's leap */
#ifndef ENG_SIGMA_FLOOR_RATIO
#define ENG_SIGMA_FLOOR_RATIO 0.25   /* sample error floor: this share of the median delay excess */
#endif
#ifndef ENG_SIGMA_EXCESS_DIV
#define ENG_SIGMA_EXCESS_DIV 2.0     /* error of a sample: its delay excess / this */
#endif

/* stable log keys (the daemon rate-limits per key) */
enum {
	LOGK_UNREACH = 1, LOGK_REACH = 2, LOGK_SYSPEER = 3, LOGK_KOD = 4,
	LOGK_SYNC = 0x10001, LOGK_LOST = 0x10002, LOGK_PANIC = 0x10003, LOGK_STEP = 0x10004,
	LOGK_UNSYNC = 0x10005, LOGK_HOLDOVER = 0x10006, LOGK_ACTIONS = 0x10007,
	/* a disturbed clock (H2): one key per line, as the daemon lets one line per key
	 * and minute through, and these come seconds apart */
	LOGK_DISTURB = 0x10008, LOGK_KLEAP = 0x10009, LOGK_EXTSTEP = 0x1000a, LOGK_JUMP = 0x1000b,
	LOGK_JUMP_NOT = 0x1000c, LOGK_DIST_GIVEUP = 0x1000d,
};

/* What restarted the sources (a disturbed clock), ENG_DIST_NONE when nothing did. */
enum eng_dist { ENG_DIST_NONE, ENG_DIST_EXT, ENG_DIST_JUMP };

struct eng {
	struct cfg cfg;
	struct eng_params params;
	double precision_s;
	bool ntp_disabled;           /* `disable ntp`: select and serve, never steer the clock */

	struct asc assoc[ENG_MAX_ASSOC];
	char tally[ENG_MAX_ASSOC];
	unsigned n_assoc;
	uint32_t next_id;

	struct dsc dsc;
	struct srv *srv;
	struct srv_stats no_srv_stats;

	/* system variables (RFC 5905 §11.2, §9) */
	enum eng_sync_state state;
	uint8_t leap, stratum;
	uint32_t refid;
	ntp_ts64 reftime;
	int sys_peer;                /* index into assoc, -1 none */
	uint32_t sys_peer_id;
	double offset_s, jitter_s, rootdelay_s, rootdisp_s;
	gn_time_ns update_real_ns;
	int64_t update_mono_ns;
	int64_t lost_mono_ns;        /* start of holdover */
	int64_t next_house_mono_ns;
	int64_t last_panic_log_mono_ns;
	int64_t synced_mono_ns, last_drift_mono_ns;
	bool ever_synced;
	int64_t first_rx_mono_ns;    /* first sample ever, 0 = none */
	char panic_reason[160];
	uint64_t actions_lost;
	bool silent_logged[ENG_MAX_ASSOC]; /* "no response" said for a never-reached source */

	/* leap seconds (leap.h; docs/leap-dns-drift.md) */
	struct leap_state leap_st;
	struct leap_table leap_tab;
	bool have_leap_tab;
	struct leap_vote leap_vote;  /* the survivors' LI bits at the last selection */
	int64_t leap_deadline_mono_ns; /* leap_decide's next deadline, on the monotonic clock */
	unsigned leap_dir_status;    /* CLK_STA_INS or CLK_STA_DEL of the last leap armed, 0 none
	                              * (is_kernel_leap: which way the kernel moves the clock) */

	/* a disturbed clock (H2): the restart under way, when it began, the last jump the
	 * sources did not confirm, counters for eng_status */
	enum eng_dist dist;
	int64_t dist_mono_ns;
	int64_t dist_false_mono_ns;
	bool dist_had_false;
	bool dist_step_pending;      /* the step that ends a restart is on its way (not counted
	                              * in the discipline's record, see dist_decide) */
	uint32_t n_restarts_ext, n_jumps, n_jump_alarms, n_kernel_leaps;

	struct eng_action actions[ENG_MAX_ACTIONS];
	size_t n_actions;
};

/* --- actions --- */
static struct eng_action *push(struct eng *e, enum eng_act_kind kind)
{
	/* `disable ntp`: the kernel is left alone (ntpd: no adjustment, no status bits), and
	 * a frequency that was never measured is not written to the drift file */
	if (e->ntp_disabled &&
	    (kind == ENG_ACT_CLOCK_ADJ || kind == ENG_ACT_CLOCK_STEP || kind == ENG_ACT_DRIFT))
		return NULL;
	if (e->n_actions >= ENG_MAX_ACTIONS) {
		e->actions_lost++;
		return NULL;
	}
	struct eng_action *a = &e->actions[e->n_actions++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	return a;
}

static void logf_(struct eng *e, enum eng_log_level lvl, uint32_t key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void logf_(struct eng *e, enum eng_log_level lvl, uint32_t key, const char *fmt, ...)
{
	struct eng_action *a = push(e, ENG_ACT_LOG);
	if (a == NULL)
		return;
	a->u.log.level = lvl;
	a->u.log.key = key;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->u.log.text, sizeof a->u.log.text, fmt, ap);
	va_end(ap);
}

static void push_adj(struct eng *e, const struct clk_adj *adj)
{
	struct eng_action *a = push(e, ENG_ACT_CLOCK_ADJ);
	if (a != NULL)
		a->u.adj = *adj;
}

static void clear_sys_peer(struct eng *e, bool all);

/* --- life cycle --- */
struct eng *eng_new(const struct eng_params *params, const struct eng_now *now)
{
	REQUIRE(params != NULL && params->cfg != NULL && now != NULL);
	REQUIRE(params->rng.fill != NULL);
	struct eng *e = calloc(1, sizeof *e);
	if (e == NULL)
		return NULL;
	e->cfg = *params->cfg;
	e->params = *params;
	e->params.cfg = NULL;
	if (e->params.n_local_refids > ENG_MAX_LOCAL_REFIDS)
		e->params.n_local_refids = ENG_MAX_LOCAL_REFIDS;
	/* `disable ntp` (ntp.conf(5)): poll, select and serve, but never adjust the clock.
	 * `disable kernel` needs nothing here: the engine never uses the kernel PLL
	 * (CLK_ADJ_OFFSET with STA_PLL); dsc steers through frequency and tick itself, and
	 * the kernel's status word is written only for STA_UNSYNC and the leap bits. */
	e->ntp_disabled = (e->cfg.enable_clear & CFG_EN_NTP) != 0;
	e->srv = srv_new(&e->cfg);
	if (e->srv == NULL) {
		free(e);
		return NULL;
	}
	/* the MRU's hash key: random, so a client cannot aim at one hash chain (the caller
	 * draws it, so the engine's own random sequence, which seeded simulations record,
	 * is not shifted) */
	if (params->have_srv_secret)
		srv_set_secret(e->srv, params->srv_secret);
	leap_state_init(&e->leap_st);
	e->leap_deadline_mono_ns = INT64_MAX;
	int prec = params->precision_log2;
	if (prec >= 0 || prec < -30)
		prec = -20; /* unset: about a microsecond */
	e->params.precision_log2 = (int8_t)prec;
	e->precision_s = ldexp(1.0, prec);
	e->next_id = 1;
	e->sys_peer = -1;
	e->state = ENG_UNSYNC;
	e->leap = PKT_LI_UNSYNC;
	e->stratum = ASC_MAXSTRAT;
	e->refid = pkt_refid_ascii("INIT");
	e->next_house_mono_ns = now->mono_ns + (int64_t)ENG_HOUSEKEEP_S * GN_NS_PER_S;

	int minp = 6, maxp = 10;
	if (e->cfg.n_sources > 0) {
		minp = 17;
		maxp = 3;
		for (unsigned i = 0; i < e->cfg.n_sources; i++) {
			int mn = e->cfg.sources[i].minpoll, mx = e->cfg.sources[i].maxpoll;
			if (mn < minp)
				minp = mn;
			if (mx > maxp)
				maxp = mx;
		}
		if (minp < 3)
			minp = 3;
		if (maxp < minp)
			maxp = minp;
	}
	struct dsc_params dp = {
		.algo = params->discipline == ENG_DSC_RFC ? DSC_ALGO_RFC : DSC_ALGO_GNOMON,
		.step_s = params->slew_only ? 600.0 : e->cfg.tinker.step_s,
		.stepout_s = e->cfg.tinker.stepout_s > 0 ? e->cfg.tinker.stepout_s : DSC_WATCH_S,
		.panic_s = e->cfg.tinker.panic_s,
		.allow_first_panic = params->allow_first_panic,
		.have_drift = params->have_drift,
		.drift_ppm = params->drift_ppm,
		.precision_s = e->precision_s,
		.minpoll_log2 = minp,
		.maxpoll_log2 = maxp,
	};
	if (params->slew_only && e->cfg.tinker.step_s == 0)
		dp.step_s = 0;
	struct clk_adj adj;
	dsc_init(&e->dsc, &dp, now->mono_ns, &adj);
	push_adj(e, &adj);
	return e;
}

void eng_free(struct eng *eng)
{
	if (eng == NULL)
		return;
	srv_free(eng->srv);
	free(eng);
}

static uint32_t rand_u32(struct eng *e)
{
	uint8_t b[4];
	e->params.rng.fill(e->params.rng.ctx, b, sizeof b);
	return ntp_u32_load(b);
}

uint32_t eng_add_source_addr(struct eng *eng, const struct eng_now *now, unsigned cfg_index,
			     const struct gn_addr *addr)
{
	REQUIRE(eng != NULL && now != NULL && addr != NULL);
	if (cfg_index >= eng->cfg.n_sources || eng->n_assoc >= ENG_MAX_ASSOC)
		return 0;
	if (addr->family != GN_AF_INET && addr->family != GN_AF_INET6)
		return 0;
	for (unsigned i = 0; i < eng->n_assoc; i++)
		if (!eng->assoc[i].dead && gn_addr_equal(&eng->assoc[i].addr, addr))
			return 0;
	unsigned idx = eng->n_assoc;
	/* reuse the slot of a demobilised association, but not of one a DENY/RSTR kiss
	 * demobilised: it is listed for its kiss code until eng_remove_source (eng.h; found
	 * by tests/fuzz/fuzz_eng.c) */
	for (unsigned i = 0; i < eng->n_assoc; i++)
		if (eng->assoc[i].dead && eng->assoc[i].kod[0] == '\0') {
			idx = i;
			break;
		}
	struct asc *a = &eng->assoc[idx];
	asc_init(a, eng->next_id++, cfg_index, &eng->cfg.sources[cfg_index], addr, now->mono_ns,
		 rand_u32(eng) % 1000);
	eng->tally[idx] = ' ';
	eng->silent_logged[idx] = false;
	if (idx == eng->n_assoc)
		eng->n_assoc++;
	return a->id;
}

static struct asc *find_assoc(struct eng *e, uint32_t id, int *idx)
{
	for (unsigned i = 0; i < e->n_assoc; i++)
		if (e->assoc[i].id == id && !e->assoc[i].dead) {
			if (idx)
				*idx = (int)i;
			return &e->assoc[i];
		}
	return NULL;
}

bool eng_remove_source(struct eng *eng, const struct eng_now *now, uint32_t assoc_id)
{
	REQUIRE(eng != NULL && now != NULL);
	int ai;
	struct asc *a = find_assoc(eng, assoc_id, &ai);
	if (a == NULL) {
		/* one a DENY/RSTR kiss demobilised: still listed for its kiss code; removing it
		 * frees its place (its socket was closed at the kiss) */
		for (unsigned i = 0; i < eng->n_assoc; i++) {
			struct asc *d = &eng->assoc[i];
			if (assoc_id != 0 && d->id == assoc_id && d->dead && d->kod[0] != '\0') {
				d->kod[0] = '\0';
				eng->tally[i] = ' ';
				return true;
			}
		}
		return false;
	}
	a->dead = true;
	a->kod[0] = '\0'; /* gone from eng_sources; its slot may be reused */
	eng->tally[ai] = ' ';
	struct eng_action *c = push(eng, ENG_ACT_CLOSE);
	if (c != NULL)
		c->u.close_assoc_id = assoc_id;
	if (eng->sys_peer == ai)
		clear_sys_peer(eng, false);
	return true;
}

static int sys_poll(const struct eng *e)
{
	return dsc_poll_log2(&e->dsc);
}

/* --- system process (RFC 5905 §11.2 clock_select, §11.2.3 clock_combine) --- */

/* The peer's filtered offset (theta) as of now: the filter holds offset + U(t). */
static double peer_offset(const struct eng *e, const struct asc *a, int64_t now_mono)
{
	return a->flt.offset_s - dsc_steer_s(&e->dsc, now_mono);
}

/* Is refid one of our own addresses (eng_params local_refid_ipv4, local_refids)? */
static bool refid_is_local(const struct eng *e, uint32_t refid)
{
	if (refid == 0)
		return false;
	if (refid == e->params.local_refid_ipv4)
		return true;
	for (unsigned i = 0; i < e->params.n_local_refids; i++)
		if (e->params.local_refids[i] == refid)
			return true;
	return false;
}

enum fit_verdict {
	FIT_OK,
	FIT_NO,    /* not a candidate at all (unreachable, no sample, unsynchronised...) */
	FIT_LOOP,  /* TEST12: synchronised to us */
	FIT_DIST,  /* TEST11: root distance above maxdist */
};

/* RFC 5905 A.5.5.1 fit(): may this association be a candidate, and if not, why. */
static enum fit_verdict fit_check(const struct eng *e, const struct asc *a, int64_t now_mono)
{
	if (a->dead || a->reach == 0 || !a->flt.have || a->noselect)
		return FIT_NO;
	if (a->leap == PKT_LI_UNSYNC || a->stratum >= ASC_MAXSTRAT || a->stratum == 0)
		return FIT_NO;
	/* loop: a source synchronised to us (its refid is one of our addresses); a stratum 1
	 * refid is a reference clock's name, not an address */
	if (a->stratum > 1 && refid_is_local(e, a->refid))
		return FIT_LOOP;
	double maxdist = e->cfg.tos.maxdist_s > 0 ? e->cfg.tos.maxdist_s : 1.5; /* RFC 5905 MAXDIST */
	if (asc_sel_dist(a, now_mono) > maxdist + ENG_PHI * ldexp(1.0, a->hpoll))
		return FIT_DIST;
	return FIT_OK;
}

static bool fit(const struct eng *e, const struct asc *a, int64_t now_mono)
{
	return fit_check(e, a, now_mono) == FIT_OK;
}

/* The system peer is gone. No association may still show '*': all (a step emptied the
 * filters, or the clock is unsynchronised) puts every tally back to ' '; otherwise the
 * old '*' becomes a plain survivor '+' until the next selection. */
static void clear_sys_peer(struct eng *e, bool all)
{
	e->sys_peer = -1;
	e->sys_peer_id = 0;
	for (unsigned i = 0; i < e->n_assoc; i++)
		if (all)
			e->tally[i] = ' ';
		else if (e->tally[i] == '*')
			e->tally[i] = '+';
}

struct select_out {
	bool ok;
	unsigned n_surv;
	unsigned surv[SEL_MAX_CAND]; /* association indices */
	unsigned sys;                /* association index */
	struct cmb_result cmb;
};

static void clock_select(struct eng *e, int64_t now_mono, struct select_out *out)
{
	struct sel_cand c[SEL_MAX_CAND];
	unsigned n = 0;
	out->ok = false;
	out->n_surv = 0;
	for (unsigned i = 0; i < e->n_assoc; i++) {
		e->tally[i] = ' ';
		const struct asc *a = &e->assoc[i];
		if (!fit(e, a, now_mono) || n >= SEL_MAX_CAND)
			continue;
		c[n] = (struct sel_cand){
			.offset_s = peer_offset(e, a, now_mono),
			.rootdist_s = asc_sel_dist(a, now_mono),
			.jitter_s = a->flt.jitter_s,
			.stratum = a->stratum,
			.prefer = a->prefer,
			.ref = i,
		};
		n++;
	}
	unsigned minsane = e->cfg.tos.minsane ? e->cfg.tos.minsane : 1;
	if (n < minsane)
		return;
	double lo, hi;
	unsigned t = sel_intersect(c, n, &lo, &hi);
	unsigned m = 0;
	for (unsigned i = 0; i < n; i++) {
		if (c[i].truechimer)
			c[m++] = c[i];
		else
			e->tally[c[i].ref] = 'x';
	}
	if (t < minsane || m == 0)
		return;
	for (unsigned i = 0; i < m; i++)
		e->tally[c[i].ref] = '-';
	unsigned minclock = e->cfg.tos.minclock ? e->cfg.tos.minclock : CLS_NMIN;
	unsigned maxclock = e->cfg.tos.maxclock ? e->cfg.tos.maxclock : 10;
	double seljit;
	unsigned ns = cls_cluster(c, m, minclock, maxclock, &seljit);
	if (ns == 0)
		return;
	unsigned s = cls_pick_sys_peer(c, ns, e->sys_peer >= 0, (unsigned)(e->sys_peer >= 0 ? e->sys_peer : 0));
	cmb_combine(c, ns, s, &out->cmb);
	for (unsigned i = 0; i < ns; i++) {
		out->surv[i] = c[i].ref;
		e->tally[c[i].ref] = i < 6 ? '+' : '#';
	}
	e->tally[c[s].ref] = '*';
	out->n_surv = ns;
	out->sys = c[s].ref;
	out->ok = true;
}

uint32_t eng_addr_refid_crypto(const struct auth_crypto *crypto, const struct gn_addr *a)
{
	REQUIRE(a != NULL);
	uint32_t r;
	if (a->family == GN_AF_INET6 && crypto != NULL && auth_refid_ipv6(crypto, a->addr, &r))
		return r; /* RFC 5905 §7.3: first four octets of the MD5 of the address */
	return eng_addr_refid(a);
}

uint32_t eng_addr_refid(const struct gn_addr *a)
{
	REQUIRE(a != NULL);
	if (a->family == GN_AF_INET)
		return gn_addr_ipv4_u32(a);
	/* Without the crypto seam (the simulator): fold the address (FNV-1a) into a stable
	 * 32-bit tag instead of RFC 5905 §7.3's MD5. */
	uint32_t h = 2166136261u;
	for (unsigned i = 0; i < 16; i++) {
		h ^= a->addr[i];
		h *= 16777619u;
	}
	return h;
}

static void set_kernel_status(struct eng *e, bool synced)
{
	struct clk_adj adj;
	memset(&adj, 0, sizeof adj);
	adj.modes = CLK_ADJ_STATUS | CLK_ADJ_MAXERROR | CLK_ADJ_ESTERROR;
	/* the whole status word: keep the leap bit armed (leap_update) */
	adj.status = (synced ? 0u : (unsigned)CLK_STA_UNSYNC) | e->leap_st.kernel_status;
	double maxerr = synced ? e->rootdelay_s / 2.0 + e->rootdisp_s : 16.0;
	adj.maxerror_us = (int64_t)(maxerr * 1e6);
	adj.esterror_us = (int64_t)((synced ? e->jitter_s : 16.0) * 1e6);
	push_adj(e, &adj);
}

/* The leap decision (leap.h, docs/leap-dns-drift.md): a valid leap file overrides the
 * survivors' majority; the indicator served, the kernel's STA_INS/STA_DEL (armed only on
 * the last day before the leap, cleared at it) and the log lines before and after. Called
 * after each update of the system variables, every housekeeping second and at its own
 * deadline. */
static void leap_update(struct eng *e, const struct eng_now *now)
{
	static const enum eng_log_level lv[] = { ENG_LOG_ERR, ENG_LOG_WARNING, ENG_LOG_NOTICE,
						 ENG_LOG_INFO };
	bool synced = e->state == ENG_SYNC || e->state == ENG_HOLDOVER;
	struct leap_inputs in;
	memset(&in, 0, sizeof in);
	in.now_ns = now->real_ns;
	in.table = e->have_leap_tab ? &e->leap_tab : NULL;
	if (synced)
		in.vote = e->leap_vote;
	struct leap_decision d;
	leap_decide(&e->leap_st, &in, &d);
	if (d.kernel_status != 0)
		e->leap_dir_status = d.kernel_status;
	if (synced)
		e->leap = d.li; /* unsynchronised: PKT_LI_UNSYNC stays */
	if (d.kernel_changed) {
		struct clk_adj adj;
		memset(&adj, 0, sizeof adj);
		adj.modes = CLK_ADJ_STATUS;
		adj.status = (synced ? 0u : (unsigned)CLK_STA_UNSYNC) | d.kernel_status;
		push_adj(e, &adj);
	}
	for (size_t i = 0; i < d.n_logs && i < LEAP_MAX_LOGS; i++) {
		unsigned l = (unsigned)d.logs[i].level;
		logf_(e, l < sizeof lv / sizeof lv[0] ? lv[l] : ENG_LOG_INFO, d.logs[i].key, "%s",
		      d.logs[i].text);
	}
	gn_time_ns dl = leap_next_deadline(&e->leap_st, &in);
	e->leap_deadline_mono_ns = INT64_MAX;
	if (dl != INT64_MAX) {
		int64_t ahead = dl > now->real_ns ? dl - now->real_ns : 0;
		e->leap_deadline_mono_ns = ahead > INT64_MAX - now->mono_ns ? INT64_MAX : now->mono_ns + ahead;
	}
}

void eng_set_leap_table(struct eng *eng, const struct eng_now *now, const struct leap_table *t)
{
	REQUIRE(eng != NULL && now != NULL);
	eng->have_leap_tab = t != NULL;
	if (t != NULL)
		eng->leap_tab = *t;
	leap_update(eng, now);
}

static void sys_update(struct eng *e, const struct eng_now *now, const struct select_out *so)
{
	const struct asc *p = &e->assoc[so->sys];
	char buf[80];
	if (e->sys_peer != (int)so->sys) {
		logf_(e, ENG_LOG_NOTICE, LOGK_SYSPEER, "system peer %s, stratum %u",
		      gn_addr_port_str(&p->addr, buf, sizeof buf), (unsigned)p->stratum);
	}
	e->sys_peer = (int)so->sys;
	e->sys_peer_id = p->id;
	/* the leap indicator: majority of the survivors, or the leap file (leap_update) */
	uint8_t li[SEL_MAX_CAND];
	unsigned nli = so->n_surv < SEL_MAX_CAND ? so->n_surv : SEL_MAX_CAND;
	for (unsigned i = 0; i < nli; i++)
		li[i] = e->assoc[so->surv[i]].leap;
	e->leap_vote = leap_vote_count(li, nli);
	e->stratum = (uint8_t)(p->stratum + 1);
	e->refid = eng_addr_refid_crypto(e->params.crypto, &p->addr);
	e->reftime = ntp_ts64_from_ns(now->real_ns);
	e->offset_s = so->cmb.offset_s;
	e->jitter_s = so->cmb.jitter_s;
	e->rootdelay_s = p->rootdelay_s + p->flt.delay_s;
	double dd = flt_disp_now(&p->flt, now->mono_ns) + e->jitter_s + fabs(peer_offset(e, p, now->mono_ns));
	if (dd < ENG_MINDISP_S)
		dd = ENG_MINDISP_S;
	e->rootdisp_s = p->rootdisp_s + dd;
	e->update_real_ns = now->real_ns;
	e->update_mono_ns = now->mono_ns;
	leap_update(e, now);
}

static void enter_unsync(struct eng *e, const struct eng_now *now, const char *why)
{
	(void)now;
	/* also when already unsynchronised (the startup step): the selection that led to
	 * the step is void, its '*' must not outlive it */
	clear_sys_peer(e, true);
	if (e->state == ENG_UNSYNC)
		return;
	e->state = ENG_UNSYNC;
	e->leap = PKT_LI_UNSYNC;
	e->stratum = ASC_MAXSTRAT;
	e->refid = pkt_refid_ascii("STEP");
	logf_(e, ENG_LOG_WARNING, LOGK_UNSYNC, "clock unsynchronised: %s", why);
	set_kernel_status(e, false);
}

static bool do_step(struct eng *e, const struct eng_now *now, int64_t step_ns)
{
	struct eng_action *a = push(e, ENG_ACT_CLOCK_STEP);
	if (a != NULL)
		a->u.step_ns = step_ns;
	logf_(e, ENG_LOG_NOTICE, LOGK_STEP, "stepping the clock by %+.6f s", (double)step_ns / 1e9);
	(void)now;
	return a != NULL;
}

static void enter_panic(struct eng *e, const struct eng_now *now, double offset_s)
{
	struct clk_adj adj;
	bool was = e->state == ENG_PANIC;
	e->state = ENG_PANIC;
	e->leap = PKT_LI_UNSYNC;
	e->stratum = ASC_MAXSTRAT;
	clear_sys_peer(e, false);
	snprintf(e->panic_reason, sizeof e->panic_reason,
		 "offset %+.3f s exceeds the panic threshold %.0f s; not following the sources. "
		 "Set the clock (or start with -g), or set `tinker panic 0`",
		 offset_s, e->cfg.tinker.panic_s);
	if (!was) {
		dsc_hold(&e->dsc, now->mono_ns, &adj);
		push_adj(e, &adj);
		set_kernel_status(e, false);
	}
	if (!was || now->mono_ns - e->last_panic_log_mono_ns >= (int64_t)ENG_PANIC_LOG_S * GN_NS_PER_S) {
		e->last_panic_log_mono_ns = now->mono_ns;
		logf_(e, ENG_LOG_ERR, LOGK_PANIC, "panic: %s", e->panic_reason);
	}
}

/* Sample error estimate for the discipline: the precision, the share of the delay above
 * the least delay of the last 64 samples (half of it can be asymmetry; eight stages alone
 * can all sit well above the path's minimum, and then a slow sample would pass for an
 * exact one), and a floor from the typical excess (the median over the filter's stages,
 * so that one delay spike does not raise it). */
static double sample_sigma(const struct eng *e, const struct asc *a, double delay_s)
{
	double dmin = flt_min_delay_long(&a->flt);
	double ex = delay_s - dmin;
	if (ex < 0)
		ex = 0;
	double v[FLT_NSTAGE];
	unsigned n = 0;
	for (unsigned i = 0; i < FLT_NSTAGE; i++)
		if (a->flt.st[i].valid) {
			double x = a->flt.st[i].delay_s - dmin;
			unsigned j = n++;
			while (j > 0 && v[j - 1] > x) { /* insertion sort, 8 values */
				v[j] = v[j - 1];
				j--;
			}
			v[j] = x;
		}
	double floor_s = n > 1 ? ENG_SIGMA_FLOOR_RATIO * v[n / 2] : dmin * 0.1;
	if (floor_s < e->precision_s)
		floor_s = e->precision_s;
	return sqrt(floor_s * floor_s + ex * ex / (ENG_SIGMA_EXCESS_DIV * ENG_SIGMA_EXCESS_DIV));
}

/* --- a disturbed clock (H2; docs/leap-dns-drift.md "Suspended, resumed and migrated
 * machines"): an external step, or every source jumping at once --- */

/* Every association starts again: what its filter holds is meaningless, an answer to its
 * request in flight straddles the disturbance (dropped), and it is polled at once with a
 * burst (as iburst), the first requests spread over ENG_DIST_SPREAD_MS. */
static void restart_sources(struct eng *e, const struct eng_now *now)
{
	for (unsigned i = 0; i < e->n_assoc; i++) {
		struct asc *a = &e->assoc[i];
		if (a->dead)
			continue;
		flt_clear(&a->flt);
		e->tally[i] = ' ';
		int64_t spread = (int64_t)(rand_u32(e) % ENG_DIST_SPREAD_MS) * 1000000;
		asc_burst_now(a, now->mono_ns + spread);
	}
	clear_sys_peer(e, true);
}

/* The discipline's samples no longer fit a line (the oscillator stood still while time
 * went on): drop them, keep the frequency, and poll from minpoll again as at start (the
 * regression is empty). */
static void dsc_restart(struct eng *e, const struct eng_now *now)
{
	struct clk_adj adj;
	dsc_hold(&e->dsc, now->mono_ns, &adj);
	e->dsc.poll_log2 = e->dsc.p.minpoll_log2;
	e->dsc.poll_count = 0;
	push_adj(e, &adj);
}

/* Unsynchronised without a log line of its own (the caller's line says why). */
static void unsync_quiet(struct eng *e)
{
	clear_sys_peer(e, true);
	if (e->state == ENG_UNSYNC || e->state == ENG_PANIC)
		return;
	e->state = ENG_UNSYNC;
	e->leap = PKT_LI_UNSYNC;
	e->stratum = ASC_MAXSTRAT;
	e->refid = pkt_refid_ascii("STEP");
	set_kernel_status(e, false);
}

/* The restart has decided with the record kept: the rest of each burst would only feed
 * the discipline's regression a cluster of samples a few seconds long (whose slope is
 * noise); polling goes on at the usual interval. */
static void stop_bursts(struct eng *e, const struct eng_now *now)
{
	for (unsigned i = 0; i < e->n_assoc; i++) {
		struct asc *a = &e->assoc[i];
		if (a->dead)
			continue;
		int p = asc_poll_log2(a, sys_poll(e));
		int64_t jit = (int64_t)(rand_u32(e) % 1000000u) * ((((int64_t)GN_NS_PER_S) << p) / 16) / 1000000;
		asc_burst_stop(a, now->mono_ns + (((int64_t)GN_NS_PER_S) << p) + jit);
	}
}

static unsigned flt_valid_stages(const struct flt *f)
{
	unsigned n = 0;
	for (unsigned i = 0; i < FLT_NSTAGE; i++)
		n += f->st[i].valid;
	return n;
}

/* A sample beyond the step threshold from a survivor whose filtered offset was within it,
 * while synchronised: the start of a suspected jump of the local clock (a paused or
 * migrated machine: every source will show it). True when the restart began. */
static bool jump_suspected(struct eng *e, const struct eng_now *now, int ai, bool was_surv,
			   double prev_off_s, const struct asc_sample *smp)
{
	double step_s = e->dsc.p.step_s;
	/* not under the RFC reference discipline, which keeps RFC 5905's own rule for a large
	 * offset (a spike until the stepout) so that it stays the reference */
	if (e->dsc.p.algo == DSC_ALGO_RFC)
		return false;
	if (e->dist != ENG_DIST_NONE || e->ntp_disabled || !e->ever_synced || step_s <= 0 ||
	    (e->state != ENG_SYNC && e->state != ENG_HOLDOVER) || !was_surv ||
	    fabs(prev_off_s) > step_s || fabs(smp->offset_s) <= step_s)
		return false;
	if (e->dist_had_false &&
	    now->mono_ns - e->dist_false_mono_ns < (int64_t)ENG_DIST_HOLDOFF_S * GN_NS_PER_S)
		return false;
	char buf[80];
	logf_(e, ENG_LOG_INFO, LOGK_JUMP,
	      "%s jumped by %+.6f s: polling every source at once to see whether the local clock moved",
	      gn_addr_port_str(&e->assoc[ai].addr, buf, sizeof buf), smp->offset_s);
	restart_sources(e, now);
	e->dist = ENG_DIST_JUMP;
	e->dist_mono_ns = now->mono_ns;
	return true;
}

/* A restart under way: once every survivor of the selection has ENG_DIST_SAMPLES new
 * samples (or ENG_DIST_DECIDE_S passed), step if they agree on an offset beyond the step
 * threshold, whatever the stepout and the panic threshold (the clock is known to have
 * been disturbed); else the restart is over and the sample goes the usual way (false).
 *
 * The discipline's record (its regression over x = offset + U, U the corrections made)
 * survives a disturbance that ends in a step: neither the external step nor the step
 * that ends the restart is counted in U, so x, offset ≈ 0 on both sides, stays on the
 * line the oscillator drew before (its frequency and history are kept, even though the
 * oscillator may have stood still meanwhile). A residual to be slewed after an external
 * step is the clock's distance from that line: the discipline is told so (below) and
 * slews it, record kept. (The RFC reference loop's state is dropped instead.) */
static bool dist_decide(struct eng *e, const struct eng_now *now)
{
	struct select_out so;
	clock_select(e, now->mono_ns, &so);
	if (!so.ok)
		return true; /* keep collecting (housekeeping gives up after ENG_DIST_GIVEUP_S) */
	if (now->mono_ns - e->dist_mono_ns < (int64_t)ENG_DIST_DECIDE_S * GN_NS_PER_S)
		for (unsigned i = 0; i < so.n_surv; i++)
			if (flt_valid_stages(&e->assoc[so.surv[i]].flt) < ENG_DIST_SAMPLES)
				return true;
	enum eng_dist kind = e->dist;
	e->dist = ENG_DIST_NONE;
	double off_s = so.cmb.offset_s;
	/* Beyond the panic threshold a jump needs two sources to agree: one server stepping
	 * by years (a GPS week rollover) must not take the clock along; the usual rules (the
	 * panic) apply to it. After an external step the local clock is known to have moved. */
	bool lone = kind == ENG_DIST_JUMP && so.n_surv < 2 && e->dsc.p.panic_s > 0 &&
		    fabs(off_s) > e->dsc.p.panic_s;
	if (lone)
		logf_(e, ENG_LOG_WARNING, LOGK_JUMP_NOT,
		      "the only source shows the clock %+.3f s off, beyond the panic threshold: not "
		      "taken for a move of the local clock without a second source", off_s);
	if (fabs(off_s) > e->dsc.p.step_s && !lone) {
		if (kind == ENG_DIST_JUMP) {
			e->n_jumps++;
			logf_(e, ENG_LOG_WARNING, LOGK_DISTURB,
			      "every source shows the clock %+.6f s off at once: the local clock moved "
			      "(a paused, restored or migrated machine?); stepping it", off_s);
		}
		stop_bursts(e, now);
		if (e->dsc.p.algo == DSC_ALGO_RFC) {
			/* the RFC loop's state (the residual it slews) does not survive a step */
			dsc_restart(e, now);
			do_step(e, now, (int64_t)llround(off_s * 1e9));
		} else {
			e->dist_step_pending = do_step(e, now, (int64_t)llround(off_s * 1e9));
		}
		enter_unsync(e, now, "clock stepped");
		return true;
	}
	if (kind == ENG_DIST_EXT && e->dsc.p.algo == DSC_ALGO_RFC) {
		dsc_restart(e, now);
	} else if (kind == ENG_DIST_EXT) {
		/* A residual under the step threshold, to be slewed: the record is kept, and
		 * the discipline told that the clock now stands off_s away from its line (as
		 * if stepped by -off_s), so that it slews exactly that away. The filters' stages
		 * are kept in the same unsteered form, so they move with it. */
		int64_t d_ns = -(int64_t)llround(off_s * 1e9);
		dsc_stepped(&e->dsc, d_ns);
		for (unsigned i = 0; i < e->n_assoc; i++)
			flt_stepped(&e->assoc[i].flt, -d_ns);
		stop_bursts(e, now);
	}
	if (kind == ENG_DIST_JUMP) {
		stop_bursts(e, now);
		e->n_jump_alarms++;
		e->dist_had_false = true;
		e->dist_false_mono_ns = now->mono_ns;
		if (!lone)
			logf_(e, ENG_LOG_INFO, LOGK_JUMP_NOT,
			      "the sources agree on %+.6f s: the jump was one source's, not the local clock's", off_s);
	}
	return false;
}

static void on_sample(struct eng *e, const struct eng_now *now, int ai, const struct asc_sample *smp)
{
	struct asc *a = &e->assoc[ai];
	/* before this sample: a survivor, and its filtered offset (a disturbed clock, H2) */
	bool was_surv = e->tally[ai] == '*' || e->tally[ai] == '+' || e->tally[ai] == '#';
	double prev_off_s = a->flt.have ? peer_offset(e, a, now->mono_ns) : 0.0;
	/* the filter keeps offsets in the unsteered form (offset + U), so the stages stay
	 * comparable while the discipline slews */
	bool newer = flt_add(&a->flt, smp->offset_s + dsc_steer_s(&e->dsc, smp->t_mono_ns), smp->delay_s, smp->disp_s, smp->t_mono_ns,
			     now->mono_ns, e->precision_s, sys_poll(e));
	/* TEST11 and TEST12 (RFC 5905 A.5.5.1 fit()), counted once per sample of this
	 * association (the selection below looks at every association at every sample) */
	enum fit_verdict fv = fit_check(e, a, now->mono_ns);
	if (fv == FIT_DIST)
		a->test_fail[ASC_T_DIST]++;
	else if (fv == FIT_LOOP)
		a->test_fail[ASC_T_LOOP]++;
	if (e->dist != ENG_DIST_NONE ? dist_decide(e, now) :
	    jump_suspected(e, now, ai, was_surv, prev_off_s, smp))
		return;
	struct select_out so;
	clock_select(e, now->mono_ns, &so);
	if (e->first_rx_mono_ns == 0)
		e->first_rx_mono_ns = now->mono_ns;
	if (!so.ok) {
		if (e->ntp_disabled)
			clear_sys_peer(e, false);
		return;
	}
	if (!e->ever_synced && e->state != ENG_PANIC &&
	    now->mono_ns - e->first_rx_mono_ns < (int64_t)ENG_STARTUP_WAIT_S * GN_NS_PER_S) {
		unsigned live = 0, heard = 0;
		for (unsigned i = 0; i < e->n_assoc; i++)
			if (!e->assoc[i].dead) {
				live++;
				if (e->assoc[i].flt.have)
					heard++;
			}
		if (heard < live)
			return; /* the first correction waits for the others (a few seconds at most) */
	}
	if (e->ntp_disabled) {
		/* `disable ntp`: the selection's pick and offset are reported, nothing steers
		 * (the state stays unsynchronised: this clock is not ours to vouch for) */
		if (e->sys_peer != (int)so.sys) {
			char buf[80];
			logf_(e, ENG_LOG_NOTICE, LOGK_SYSPEER,
			      "selected %s, stratum %u; not steering the clock (disable ntp)",
			      gn_addr_port_str(&e->assoc[so.sys].addr, buf, sizeof buf),
			      (unsigned)e->assoc[so.sys].stratum);
		}
		e->sys_peer = (int)so.sys;
		e->sys_peer_id = e->assoc[so.sys].id;
		e->offset_s = so.cmb.offset_s;
		e->jitter_s = so.cmb.jitter_s;
		return;
	}
	bool in_surv = false;
	for (unsigned i = 0; i < so.n_surv; i++)
		if (so.surv[i] == (unsigned)ai)
			in_surv = true;

	double offset_s, sigma_s;
	int64_t t_ns;
	if (e->dsc.p.algo == DSC_ALGO_RFC) {
		/* RFC 5905 clock_update: only when the system peer has a new filtered sample */
		if (!(newer && so.sys == (unsigned)ai))
			return;
		offset_s = so.cmb.offset_s;
		sigma_s = so.cmb.jitter_s;
		t_ns = a->flt.t_ns;
	} else {
		/* every sample of a survivor of the system peer's stratum, weighted by its own
		 * error estimate. Sources further from the reference (a higher stratum) are left
		 * out: their time may come from us (VMs using each other), and feeding it back
		 * would make a loop of the regression even where the refids show none. */
		if (!in_surv || a->stratum > e->assoc[so.sys].stratum)
			return;
		offset_s = smp->offset_s;
		sigma_s = sample_sigma(e, a, smp->delay_s);
		t_ns = smp->t_mono_ns;
	}
	if (t_ns > now->mono_ns)
		t_ns = now->mono_ns;

	struct clk_adj adj;
	int64_t step_ns = 0;
	enum dsc_result r = dsc_update(&e->dsc, now->mono_ns, t_ns, offset_s, sigma_s, &adj, &step_ns);
	switch (r) {
	case DSC_IGNORED:
		return;
	case DSC_PANIC:
		enter_panic(e, now, offset_s);
		return;
	case DSC_STEPPED:
		push_adj(e, &adj);
		do_step(e, now, step_ns);
		enter_unsync(e, now, "clock stepped");
		return;
	case DSC_SLEWED:
		push_adj(e, &adj);
		break;
	}
	bool was_synced = e->state == ENG_SYNC;
	if (e->state == ENG_PANIC) {
		logf_(e, ENG_LOG_NOTICE, LOGK_PANIC, "offset back within the panic threshold; following the sources again");
		e->panic_reason[0] = '\0';
	}
	e->state = ENG_SYNC;
	sys_update(e, now, &so);
	set_kernel_status(e, true);
	if (!was_synced) {
		char buf[80];
		logf_(e, ENG_LOG_NOTICE, LOGK_SYNC, "synchronised to %s, stratum %u",
		      gn_addr_port_str(&e->assoc[so.sys].addr, buf, sizeof buf), (unsigned)e->stratum);
		if (!e->ever_synced) {
			e->ever_synced = true;
			e->synced_mono_ns = now->mono_ns;
			e->last_drift_mono_ns = now->mono_ns - (int64_t)(ENG_DRIFT_EVERY_S - ENG_DRIFT_FIRST_S) * GN_NS_PER_S;
		}
	}
}

/* --- events --- */
/* A request to the server socket, answered into out: srv decides (answer, kiss, or a
 * counted drop). Shared by eng_serve (the daemon's path) and eng_on_packet's action. */
static size_t serve(struct eng *e, gn_time_ns now_real_ns, const struct eng_rx *rx,
		    uint8_t *out, size_t cap, bool *stamp_xmt)
{
	bool synced = e->state == ENG_SYNC || e->state == ENG_HOLDOVER;
	struct srv_sysvars sv = {
		.leap = synced ? e->leap : PKT_LI_UNSYNC,
		.stratum = synced ? e->stratum : ASC_MAXSTRAT,
		.precision_log2 = e->params.precision_log2,
		.rootdelay_s = synced ? e->rootdelay_s : 0.0,
		.rootdisp_s = synced ? e->rootdisp_s : 0.0,
		.update_ns = synced ? e->update_real_ns : now_real_ns,
		.refid = e->refid,
		.reftime = synced ? e->reftime : 0,
	};
	size_t rlen = 0;
	enum srv_verdict v = srv_handle(e->srv, &sv, rx->buf, rx->len, &rx->from, rx->rx_ns,
					now_real_ns, out, cap, &rlen);
	if ((v != SRV_ANSWER && v != SRV_KOD) || rlen == 0 || rlen > cap)
		return 0; /* nothing to send */
	/* the daemon may restamp a normal answer's transmit field just before sending; a kiss
	 * goes out exactly as srv built it */
	*stamp_xmt = srv_may_restamp(v) && rlen == PKT_HEADER_LEN;
	return rlen;
}

size_t eng_serve(struct eng *eng, gn_time_ns now_real_ns, const struct eng_rx *rx,
		 uint8_t *out, size_t cap, bool *stamp_xmt)
{
	REQUIRE(eng != NULL && rx != NULL && out != NULL && stamp_xmt != NULL);
	REQUIRE(rx->assoc_id == 0 && cap >= PKT_HEADER_LEN);
	*stamp_xmt = false;
	if (rx->buf == NULL || rx->len == 0)
		return 0;
	return serve(eng, now_real_ns, rx, out, cap, stamp_xmt);
}

static void server_request(struct eng *e, const struct eng_now *now, const struct eng_rx *rx)
{
	/* Everything that came to the server socket goes through srv, which answers or
	 * counts the drop (a mode 4 packet here is not an answer to us: ours come on the
	 * association's own socket). */
	struct eng_action *a = push(e, ENG_ACT_SEND);
	if (a == NULL)
		return;
	bool stamp = false;
	size_t rlen = serve(e, now->real_ns, rx, a->u.send.buf, sizeof a->u.send.buf, &stamp);
	if (rlen == 0) {
		e->n_actions--; /* nothing to send */
		return;
	}
	a->u.send.assoc_id = 0;
	a->u.send.to = rx->from;
	a->u.send.local = rx->local;
	a->u.send.ifindex = rx->ifindex;
	a->u.send.fresh_socket = false;
	a->u.send.stamp_xmt = stamp;
	a->u.send.len = (uint16_t)rlen;
}

void eng_on_packet(struct eng *eng, const struct eng_now *now, const struct eng_rx *rx)
{
	REQUIRE(eng != NULL && now != NULL && rx != NULL);
	if (rx->buf == NULL || rx->len == 0)
		return;
	if (rx->assoc_id == 0) {
		server_request(eng, now, rx);
		return;
	}
	int ai;
	struct asc *a = find_assoc(eng, rx->assoc_id, &ai);
	if (a == NULL)
		return;
	bool was_reach = a->was_reachable;
	struct asc_sample smp;
	enum asc_rx r = asc_receive(a, rx->buf, rx->len, &rx->from, rx->rx_ns, now->mono_ns,
				    now->real_ns, eng->precision_s, 0 /* TEST12: counted in on_sample */, &smp);
	char buf[80];
	if (!was_reach && a->was_reachable)
		logf_(eng, ENG_LOG_INFO, a->id << 8 | LOGK_REACH, "%s is reachable",
		      gn_addr_port_str(&a->addr, buf, sizeof buf));
	switch (r) {
	case ASC_RX_DROP:
		return;
	case ASC_RX_KOD_RATE:
		logf_(eng, ENG_LOG_NOTICE, a->id << 8 | LOGK_KOD,
		      "%s sent a RATE kiss: poll interval raised to %d s",
		      gn_addr_port_str(&a->addr, buf, sizeof buf), 1 << a->hpoll);
		return;
	case ASC_RX_KOD_DENY: {
		logf_(eng, ENG_LOG_WARNING, a->id << 8 | LOGK_KOD,
		      "%s sent a %s kiss: association demobilised", gn_addr_port_str(&a->addr, buf, sizeof buf), a->kod);
		struct eng_action *c = push(eng, ENG_ACT_CLOSE);
		if (c != NULL)
			c->u.close_assoc_id = a->id;
		if (eng->sys_peer == ai)
			clear_sys_peer(eng, false);
		eng->tally[ai] = ' ';
		return;
	}
	case ASC_RX_SAMPLE:
		on_sample(eng, now, ai, &smp);
		return;
	}
}

static void housekeeping(struct eng *e, const struct eng_now *now)
{
	if (e->dist != ENG_DIST_NONE &&
	    now->mono_ns - e->dist_mono_ns >= (int64_t)ENG_DIST_GIVEUP_S * GN_NS_PER_S) {
		if (e->dist == ENG_DIST_EXT)
			dsc_restart(e, now); /* the external step was not counted (dist_decide) */
		e->dist = ENG_DIST_NONE; /* nothing usable came: the usual rules from here on */
		logf_(e, ENG_LOG_INFO, LOGK_DIST_GIVEUP, "no usable answers %d s after the restart of the sources",
		      ENG_DIST_GIVEUP_S);
	}
	if (e->state == ENG_SYNC && e->dist == ENG_DIST_NONE) {
		/* still a usable system peer? (RFC 5905 §11.2: reachable, root distance < maxdist) */
		struct select_out so;
		clock_select(e, now->mono_ns, &so);
		if (!so.ok) {
			bool any_reach = false;
			for (unsigned i = 0; i < e->n_assoc; i++)
				if (!e->assoc[i].dead && e->assoc[i].reach != 0)
					any_reach = true;
			e->state = ENG_HOLDOVER;
			e->lost_mono_ns = now->mono_ns;
			clear_sys_peer(e, false);
			logf_(e, ENG_LOG_WARNING, LOGK_HOLDOVER,
			      "no usable source (%s): holding the frequency for %.0f s",
			      any_reach ? "root distance above maxdist" : "no source reachable", ENG_HOLDOVER_S);
			/* RFC 5905 has no hold: clock_adjust goes on slewing the residual once a
			 * second whether updates come or not, and the FREQ state's measurement
			 * is taken against that residual; the reference loop is left running */
			if (e->dsc.p.algo != DSC_ALGO_RFC) {
				struct clk_adj adj;
				dsc_hold(&e->dsc, now->mono_ns, &adj);
				push_adj(e, &adj);
			}
		}
	} else if (e->ntp_disabled && e->sys_peer >= 0) {
		/* the monitored pick is still usable? */
		struct select_out so;
		clock_select(e, now->mono_ns, &so);
		if (!so.ok)
			clear_sys_peer(e, false);
	} else if (e->state == ENG_HOLDOVER) {
		if ((double)(now->mono_ns - e->lost_mono_ns) / 1e9 >= ENG_HOLDOVER_S) {
			logf_(e, ENG_LOG_WARNING, LOGK_LOST, "synchronisation lost");
			enter_unsync(e, now, "holdover over, no usable source");
		}
	}
	if (e->state == ENG_SYNC && e->ever_synced &&
	    now->mono_ns - e->last_drift_mono_ns >= (int64_t)ENG_DRIFT_EVERY_S * GN_NS_PER_S) {
		e->last_drift_mono_ns = now->mono_ns;
		struct eng_action *a = push(e, ENG_ACT_DRIFT);
		if (a != NULL)
			a->u.drift_ppm = dsc_freq_ppm(&e->dsc);
	}
	leap_update(e, now);
	if (e->actions_lost > 0) {
		uint64_t n = e->actions_lost;
		e->actions_lost = 0;
		logf_(e, ENG_LOG_WARNING, LOGK_ACTIONS, "%llu actions dropped (action list full)",
		      (unsigned long long)n);
	}
}

void eng_on_timer(struct eng *eng, const struct eng_now *now)
{
	REQUIRE(eng != NULL && now != NULL);
	char buf[80];
	for (unsigned i = 0; i < eng->n_assoc; i++) {
		struct asc *a = &eng->assoc[i];
		if (a->dead || now->mono_ns < a->next_poll_mono_ns)
			continue;
		struct eng_action *act = push(eng, ENG_ACT_SEND);
		if (act == NULL)
			break;
		ntp_ts64 xmt = ntp_ts64_random(&eng->params.rng);
		int p = asc_poll_log2(a, sys_poll(eng));
		/* jitter each poll by up to 1/16 of the interval so sources drift apart */
		int64_t jit = (int64_t)(rand_u32(eng) % 1000000u) * ((((int64_t)GN_NS_PER_S) << p) / 16) / 1000000;
		bool unreach = false;
		size_t n = asc_poll(a, xmt, now->real_ns, now->mono_ns, sys_poll(eng), jit,
				    act->u.send.buf, sizeof act->u.send.buf, &unreach);
		act->u.send.assoc_id = a->id;
		act->u.send.to = a->addr;
		act->u.send.fresh_socket = true;
		act->u.send.stamp_xmt = false;
		act->u.send.len = (uint16_t)n;
		if (unreach) {
			eng->silent_logged[i] = true;
			logf_(eng, ENG_LOG_WARNING, a->id << 8 | LOGK_UNREACH, "no response from %s",
			      gn_addr_port_str(&a->addr, buf, sizeof buf));
			if (eng->sys_peer == (int)i)
				clear_sys_peer(eng, false);
			eng->tally[i] = ' '; /* reach 0: no longer a candidate */
		} else if (!a->was_reachable && a->reach == 0 && a->sent >= ENG_SILENT_SENDS &&
			   !eng->silent_logged[i]) {
			/* never answered: said once too (the daemon does not log it again) */
			eng->silent_logged[i] = true;
			logf_(eng, ENG_LOG_WARNING, a->id << 8 | LOGK_UNREACH, "no response from %s",
			      gn_addr_port_str(&a->addr, buf, sizeof buf));
		}
	}
	struct clk_adj adj;
	if (now->mono_ns >= dsc_next_deadline(&eng->dsc) && dsc_on_timer(&eng->dsc, now->mono_ns, &adj))
		push_adj(eng, &adj);
	if (now->mono_ns >= eng->leap_deadline_mono_ns)
		leap_update(eng, now);
	if (now->mono_ns >= eng->next_house_mono_ns) {
		eng->next_house_mono_ns = now->mono_ns + (int64_t)ENG_HOUSEKEEP_S * GN_NS_PER_S;
		housekeeping(eng, now);
	}
}

/* An external step of ±1 s within ENG_LEAP_NEAR_NS of the leap the engine armed (or just
 * passed): the kernel's own leap second, not a disturbance. */
static bool is_kernel_leap(const struct eng *e, const struct eng_now *now, int64_t delta_ns)
{
	gn_time_ns at = e->leap_st.armed_at_ns != 0 ? e->leap_st.armed_at_ns : e->leap_st.done_at_ns;
	if (at == 0)
		return false;
	int64_t mag = delta_ns < 0 ? -delta_ns : delta_ns;
	if (mag < GN_NS_PER_S - ENG_LEAP_STEP_TOL_NS || mag > GN_NS_PER_S + ENG_LEAP_STEP_TOL_NS)
		return false;
	/* the kernel inserts by going back a second, deletes by going forward: a step the
	 * other way is someone else's (found by tests/fuzz/fuzz_eng.c) */
	if (e->leap_dir_status == CLK_STA_INS ? delta_ns > 0 : delta_ns < 0)
		return false;
	return now->real_ns > at - ENG_LEAP_NEAR_NS && now->real_ns < at + ENG_LEAP_NEAR_NS;
}

void eng_on_clock_stepped(struct eng *eng, const struct eng_now *now, int64_t delta_ns, bool external)
{
	REQUIRE(eng != NULL && now != NULL);
	if (external && is_kernel_leap(eng, now, delta_ns)) {
		/* The sources leap with the kernel: offsets, filters and the discipline's record
		 * stay as they are. Only an answer to a request in flight is not believed (its
		 * timestamps may straddle the leap on one side and not the other). */
		for (unsigned i = 0; i < eng->n_assoc; i++)
			eng->assoc[i].xmt_wire = 0;
		eng->update_real_ns += delta_ns;
		eng->n_kernel_leaps++;
		logf_(eng, ENG_LOG_NOTICE, LOGK_KLEAP, "the kernel %s the leap second (the clock moved by %+.3f s)",
		      delta_ns < 0 ? "inserted" : "deleted", (double)delta_ns / 1e9);
		return;
	}
	bool restart_step = !external && eng->dist_step_pending;
	eng->dist_step_pending = false;
	for (unsigned i = 0; i < eng->n_assoc; i++) {
		asc_stepped(&eng->assoc[i], delta_ns);
		eng->tally[i] = ' '; /* the filters are empty: nothing to show until new samples */
	}
	eng->update_real_ns += delta_ns;
	if (!external) {
		/* the step that ends a restart puts the clock back on the discipline's line: not
		 * counted (dist_decide) */
		if (!restart_step)
			dsc_stepped(&eng->dsc, delta_ns);
		return;
	}
	/* Someone else moved the clock: a resumed guest whose agent set the time, `date -s`.
	 * Whatever the filters and the discipline held is meaningless (the monotonic clock
	 * may have stood still meanwhile); the frequency is kept. Measure again at once. */
	eng->n_restarts_ext++;
	bool decide = !eng->ntp_disabled && eng->ever_synced && eng->dsc.p.step_s > 0;
	logf_(eng, ENG_LOG_WARNING, LOGK_EXTSTEP,
	      "the clock was stepped by %+.6f s outside gnomon (a resumed or restored machine?): "
	      "polling every source at once%s", (double)delta_ns / 1e9,
	      decide ? "; stepping if they agree on an offset above the step threshold" : "");
	restart_sources(eng, now);
	eng->dist_step_pending = false;
	if (decide) {
		/* the step is not counted in the discipline's record yet (dist_decide) */
		eng->dist = ENG_DIST_EXT;
		eng->dist_mono_ns = now->mono_ns;
	} else {
		dsc_stepped(&eng->dsc, delta_ns);
		if (!eng->ntp_disabled)
			dsc_restart(eng, now);
	}
	if (!eng->ntp_disabled)
		unsync_quiet(eng);
}

void eng_on_tx_timestamp(struct eng *eng, uint32_t assoc_id, ntp_ts64 xmt_wire, gn_time_ns tx_ns)
{
	struct asc *a = find_assoc(eng, assoc_id, NULL);
	if (a != NULL && a->xmt_wire != 0 && a->xmt_wire == xmt_wire)
		a->xmt_ns = tx_ns;
}

int64_t eng_next_deadline(const struct eng *eng)
{
	int64_t d = eng->next_house_mono_ns;
	for (unsigned i = 0; i < eng->n_assoc; i++)
		if (!eng->assoc[i].dead && eng->assoc[i].next_poll_mono_ns < d)
			d = eng->assoc[i].next_poll_mono_ns;
	int64_t dd = dsc_next_deadline(&eng->dsc);
	if (eng->leap_deadline_mono_ns < d)
		d = eng->leap_deadline_mono_ns;
	return dd < d ? dd : d;
}

size_t eng_actions(const struct eng *eng, const struct eng_action **out)
{
	*out = eng->actions;
	return eng->n_actions;
}

void eng_clear_actions(struct eng *eng)
{
	eng->n_actions = 0;
}

/* --- observation --- */
void eng_status(const struct eng *eng, const struct eng_now *now, struct eng_status *out)
{
	memset(out, 0, sizeof *out);
	out->state = eng->state;
	bool synced = eng->state == ENG_SYNC || eng->state == ENG_HOLDOVER;
	out->leap = synced ? eng->leap : PKT_LI_UNSYNC;
	out->stratum = synced ? eng->stratum : ASC_MAXSTRAT;
	out->refid = eng->refid;
	out->reftime = synced ? eng->reftime : 0;
	out->sys_peer_assoc = eng->state == ENG_SYNC || eng->ntp_disabled ? eng->sys_peer_id : 0;
	out->offset_s = eng->ntp_disabled ? eng->offset_s : dsc_offset_s(&eng->dsc);
	out->ntp_disabled = eng->ntp_disabled;
	out->restarts_ext = eng->n_restarts_ext;
	out->jumps = eng->n_jumps;
	out->jump_alarms = eng->n_jump_alarms;
	out->kernel_leaps = eng->n_kernel_leaps;
	out->jitter_s = eng->jitter_s;
	/* `disable ntp`: gnomon applies no frequency correction (not even the drift file's) */
	out->frequency_ppm = eng->ntp_disabled ? 0.0 : dsc_freq_ppm(&eng->dsc);
	out->freq_wander_ppm = eng->ntp_disabled ? 0.0 : eng->dsc.wander_ppm;
	out->rootdelay_s = eng->rootdelay_s;
	double age = synced ? (double)(now->mono_ns - eng->update_mono_ns) / 1e9 : 0.0;
	out->rootdisp_s = eng->rootdisp_s + (age > 0 ? ENG_PHI * age : 0.0);
	out->poll_log2 = (int8_t)sys_poll(eng);
	out->precision_log2 = eng->params.precision_log2;
	if (eng->state == ENG_PANIC)
		snprintf(out->panic_reason, sizeof out->panic_reason, "%s", eng->panic_reason);
}

size_t eng_sources(const struct eng *eng, const struct eng_now *now, struct eng_source_info *out, size_t max)
{
	REQUIRE(eng != NULL && now != NULL && (out != NULL || max == 0));
	/* the '*' is where eng_status says the system peer is, and nowhere else: the last
	 * selection may have picked one the discipline has not taken (yet), or the system
	 * peer was cleared since */
	int shown_peer = eng->state == ENG_SYNC || eng->ntp_disabled ? eng->sys_peer : -1;
	size_t k = 0;
	for (unsigned i = 0; i < eng->n_assoc; i++) {
		const struct asc *a = &eng->assoc[i];
		if (a->dead && a->kod[0] == '\0')
			continue;
		if (k < max) {
			struct eng_source_info *o = &out[k];
			memset(o, 0, sizeof *o);
			o->assoc_id = a->id;
			o->cfg_index = a->cfg_index;
			o->addr = a->addr;
			char t = eng->tally[i] ? eng->tally[i] : ' ';
			if (t == '*' && (int)i != shown_peer)
				t = '+';
			if ((int)i == shown_peer && (t == '+' || t == '#'))
				t = '*';
			o->tally = a->dead ? ' ' : t;
			o->dead = a->dead;
			o->stratum = a->stratum;
			o->refid = a->refid;
			o->poll_log2 = a->hpoll;
			o->reach = a->reach;
			o->last_rx_mono_ns = a->last_rx_mono_ns;
			o->delay_s = a->flt.delay_s;
			o->offset_s = a->flt.have ? peer_offset(eng, a, now->mono_ns) : 0.0;
			o->jitter_s = a->flt.jitter_s;
			o->disp_s = flt_disp_now(&a->flt, now->mono_ns);
			o->sent = a->sent;
			o->received = a->received;
			o->dropped = a->dropped;
			memcpy(o->test_fail, a->test_fail, sizeof o->test_fail);
			memcpy(o->kod, a->kod, sizeof o->kod);
		}
		k++;
	}
	return k;
}

const struct srv_stats *eng_server_stats(const struct eng *eng)
{
	return eng->srv ? srv_stats(eng->srv) : &eng->no_srv_stats;
}
