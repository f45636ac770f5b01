/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim: one simulated world (the measured gnomon client, any further gnomon nodes, and the
 * servers) run to the end of a scenario. Owns the event queue, the oscillator model, the
 * links, the server responders, executing each engine's actions on its simulated kernel
 * (kclk), and the per-second metrics of the client.
 * See sim.h for the models.
 */
#include "sim.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "eng.h"
#include "gn_assert.h"
#include "leap.h"
#include "ntp_time.h"
#include "pkt.h"

#define NS SIM_NS_PER_S
#define MAX_SOCKS 128
#define SAME_TIME_LIMIT 100000      /* events at one instant before we call it a livelock */
#define EXT_STEP_NS 1000000LL       /* the daemon's OS_CLOCK_EXT_STEP_NS (include/os/os_clock.h):
                                     * real time jumping by more than this against
                                     * CLOCK_MONOTONIC between two readings is an external step */
#define LEAP_AMBIG_NS (2 * NS)      /* offsets this near the leap are taken modulo its second */

/* RNG stream numbers: one per independent random process. */
enum { STREAM_OSC = 1, STREAM_ENG = 2, STREAM_PORTS = 3, STREAM_LINK = 16 };

static void osc_advance(struct sim_osc *o, int64_t t)
{
	while (t >= o->t0 + NS) {
		double inc = (double)NS * o->freq + o->frac;
		double w = floor(inc);
		o->base += NS + (int64_t)w;
		o->frac = inc - w;
		o->t0 += NS;
		if (o->wander > 0)
			o->freq += sim_rng_normal(&o->rng, o->wander);
	}
}

void sim_clock_init(struct sim_clock *c, double offset_s, double freq_ppm, double wander,
		    uint64_t seed, uint64_t stream)
{
	sim_clock_init_at(c, SIM_T0_UNIX_S * NS, offset_s, freq_ppm, wander, seed, stream);
}

void sim_clock_init_at(struct sim_clock *c, int64_t t0_unix_ns, double offset_s, double freq_ppm,
		       double wander, uint64_t seed, uint64_t stream)
{
	memset(c, 0, sizeof *c);
	sim_rng_seed(&c->osc.rng, seed, stream);
	c->osc.t0 = 0;
	c->osc.base = t0_unix_ns + (int64_t)llround(offset_s * 1e9);
	c->osc.freq = freq_ppm * 1e-6;
	c->osc.wander = wander;
	c->mono_off = c->osc.base - SIM_MONO_AT_START_NS;
	kclk_init(&c->kclk, c->osc.base);
}

bool sim_clock_add_pause(struct sim_clock *c, int64_t start, int64_t len)
{
	if (c->n_pause >= SIM_MAX_PAUSES || len <= 0 || start < 0)
		return false;
	if (c->n_pause > 0) {
		const struct sim_pause *l = &c->pause[c->n_pause - 1];
		if (start < l->start + l->len)
			return false;
	}
	c->pause[c->n_pause++] = (struct sim_pause){ start, len };
	return true;
}

int64_t sim_clock_local(const struct sim_clock *c, int64_t t)
{
	int64_t l = t;
	for (unsigned i = 0; i < c->n_pause; i++) {
		int64_t in = t - c->pause[i].start;
		if (in > 0)
			l -= in < c->pause[i].len ? in : c->pause[i].len;
	}
	return l;
}

int64_t sim_clock_true_at(const struct sim_clock *c, int64_t local)
{
	int64_t t = local;
	for (unsigned i = 0; i < c->n_pause; i++)
		if (t > c->pause[i].start)
			t += c->pause[i].len;
	return t;
}

bool sim_clock_paused(const struct sim_clock *c, int64_t t)
{
	for (unsigned i = 0; i < c->n_pause; i++)
		if (t > c->pause[i].start && t < c->pause[i].start + c->pause[i].len)
			return true;
	return false;
}

int64_t sim_clock_base(struct sim_clock *c, int64_t t)
{
	struct sim_osc *o = &c->osc;
	t = sim_clock_local(c, t); /* the oscillator stands still while the node is paused */
	osc_advance(o, t);
	int64_t dt = t - o->t0;
	return o->base + dt + (int64_t)floor((double)dt * o->freq + o->frac);
}

int64_t sim_clock_mono(struct sim_clock *c, int64_t t)
{
	if (c->mono_linux)
		return sim_clock_real(c, t) - c->kclk.jumps_ns - c->mono_off;
	return sim_clock_base(c, t) - c->mono_off;
}

int64_t sim_clock_real(struct sim_clock *c, int64_t t)
{
	return kclk_read(&c->kclk, sim_clock_base(c, t));
}

enum ev_kind { EV_TIMER, EV_PKT, EV_RESUME };

struct ev {
	int64_t t;
	uint64_t seq;
	enum ev_kind kind;
	unsigned node;          /* EV_TIMER: whose timer; EV_PKT: the destination */
	uint32_t gen;           /* EV_TIMER: valid only if equal to the node's timer_gen */
	struct gn_addr from, to;
	uint16_t len;
	uint8_t buf[ENG_MAX_PKT];
};

struct sock {
	uint32_t assoc_id;
	uint16_t port;
};

/* One direction of the path between a client node and one of its sources. */
struct link_dir {
	struct sim_rng rng;
	const struct sim_link *m;
	bool up;                /* client → source: the asymmetry applies */
};

#define MAX_NODES (1 + SIM_MAX_GNOMONS + SIM_MAX_SERVERS)

/* A node: a gnomon engine on a simulated clock (the client is node 0), or a server. */
struct node {
	bool is_gnomon;
	struct gn_addr addr;    /* port 0 for gnomon nodes (their sockets have their own) */
	int ref;                /* its reference in source lists (sim.h SIM_REF_GNOMON) */
	const struct sim_client_spec *gs;
	const struct sim_server_spec *ss;
	const struct sim_link *link; /* the path to it from its clients */
	/* gnomon nodes */
	struct sim_clock clk;
	struct eng *eng;
	struct sim_rng eng_rng, port_rng;
	struct sock socks[MAX_SOCKS];
	unsigned n_socks;
	uint32_t timer_gen;
	unsigned steps;
	uint64_t sent, received, adj_count, adj_refused, adj_clamped, logs, dropped_no_socket;
	/* the daemon's external-step detection (src/os/clock_linux.c l_note, exec.c
	 * exec_check_external_step): real time minus CLOCK_MONOTONIC at the last check */
	bool det_have;
	int64_t det_last_diff;
	unsigned ext_steps;
	uint64_t dropped_paused, ev_sent;
};

struct world {
	const struct sim_scenario *scn;
	const struct sim_opts *opts;
	int64_t t;              /* true time, ns from start */
	/* events: a pool and a binary heap of pool indices ordered by (t, seq) */
	struct ev *pool;
	unsigned *heap, *freel;
	unsigned pool_cap, n_heap, n_free;
	uint64_t seq;
	struct ev cur;          /* the event being handled (a copy out of the pool) */
	struct node nodes[MAX_NODES];
	unsigned n_nodes;
	/* links[c][s][dir]: client node c to source node s (dir 0 up, 1 down); seeded for
	 * every pair in a source list */
	struct link_dir links[MAX_NODES][MAX_NODES][2];
	bool is_source[MAX_NODES][MAX_NODES];
	struct eng_action *acts;
	size_t acts_cap;
	/* results */
	struct sim_result *res;
	/* UTC: true time's origin, and the leap second (leap_t: true t at which UTC jumps by
	 * leap_ns; INT64_MAX none) */
	int64_t t0_ns;
	int64_t leap_t, leap_ns;
	int64_t event_t;        /* the client's disturbance (resume, leap); -1 none */
	char *err;
	size_t errlen;
	bool failed;
};

static void fail(struct world *w, const char *fmt, ...)
{
	if (w->failed)
		return;
	w->failed = true;
	if (w->err != NULL && w->errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->err, w->errlen, fmt, ap);
		va_end(ap);
	}
}

static void trace(struct world *w, const char *fmt, ...)
{
	if (w->opts == NULL || w->opts->log == NULL)
		return;
	fprintf(w->opts->log, "[%12.6f] ", (double)w->t / 1e9);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(w->opts->log, fmt, ap);
	va_end(ap);
	fputc('\n', w->opts->log);
}

/* --- event queue --- */

static bool ev_less(const struct world *w, unsigned a, unsigned b)
{
	const struct ev *x = &w->pool[a], *y = &w->pool[b];
	return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

static struct ev *ev_alloc(struct world *w, unsigned *idx)
{
	if (w->n_free == 0) {
		unsigned cap = w->pool_cap ? w->pool_cap * 2 : 64;
		struct ev *np = realloc(w->pool, cap * sizeof *np);
		unsigned *nh = realloc(w->heap, cap * sizeof *nh);
		if (np != NULL)
			w->pool = np;
		if (nh != NULL)
			w->heap = nh;
		unsigned *nf = realloc(w->freel, cap * sizeof *nf);
		if (nf != NULL)
			w->freel = nf;
		if (np == NULL || nh == NULL || nf == NULL) {
			fail(w, "out of memory");
			return NULL;
		}
		for (unsigned i = cap; i > w->pool_cap; i--)
			w->freel[w->n_free++] = i - 1;
		w->pool_cap = cap;
	}
	*idx = w->freel[--w->n_free];
	struct ev *e = &w->pool[*idx];
	memset(e, 0, offsetof(struct ev, buf));
	return e;
}

static void ev_push(struct world *w, unsigned idx)
{
	w->pool[idx].seq = w->seq++;
	unsigned i = w->n_heap++;
	w->heap[i] = idx;
	while (i > 0) {
		unsigned p = (i - 1) / 2;
		if (!ev_less(w, w->heap[i], w->heap[p]))
			break;
		unsigned tmp = w->heap[i];
		w->heap[i] = w->heap[p];
		w->heap[p] = tmp;
		i = p;
	}
}

static unsigned ev_pop(struct world *w)
{
	unsigned top = w->heap[0];
	w->heap[0] = w->heap[--w->n_heap];
	unsigned i = 0;
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;
		if (l < w->n_heap && ev_less(w, w->heap[l], w->heap[m]))
			m = l;
		if (r < w->n_heap && ev_less(w, w->heap[r], w->heap[m]))
			m = r;
		if (m == i)
			break;
		unsigned tmp = w->heap[i];
		w->heap[i] = w->heap[m];
		w->heap[m] = tmp;
		i = m;
	}
	return top;
}

static void ev_free(struct world *w, unsigned idx)
{
	w->freel[w->n_free++] = idx;
}

/* --- a gnomon node's clocks --- */

/* UTC at true time t, as Unix ns (what the servers keep, and offsets are measured against):
 * true time runs on through a leap second, UTC repeats 23:59:59 or skips it. */
static int64_t utc_ns(const struct world *w, int64_t t)
{
	return w->t0_ns + t + (t >= w->leap_t ? w->leap_ns : 0);
}

static struct eng_now node_now(struct world *w, struct node *n)
{
	int64_t base = sim_clock_base(&n->clk, w->t);
	struct eng_now now = { .real_ns = kclk_read(&n->clk.kclk, base), .mono_ns = base - n->clk.mono_off };
	if (n->clk.mono_linux)
		now.mono_ns = now.real_ns - n->clk.kclk.jumps_ns - n->clk.mono_off;
	return now;
}

static void schedule_timer(struct world *w, unsigned ni)
{
	struct node *n = &w->nodes[ni];
	n->timer_gen++;
	int64_t d = eng_next_deadline(n->eng);
	if (d == INT64_MAX)
		return;
	struct eng_now now = node_now(w, n);
	int64_t dt = 0;
	double rate = 1.0 + n->clk.osc.freq;
	if (n->clk.mono_linux)
		rate *= 1.0 + kclk_rate_ppm(&n->clk.kclk) * 1e-6;
	if (d > now.mono_ns)
		dt = (int64_t)ceil((double)(d - now.mono_ns) / rate);
	/* A slewed monotonic clock changes rate whenever the kernel does: look again each
	 * second rather than trust this second's rate for the whole wait. */
	if (n->clk.mono_linux && dt > NS)
		dt = NS;
	unsigned idx;
	struct ev *e = ev_alloc(w, &idx);
	if (e == NULL)
		return;
	e->kind = EV_TIMER;
	e->node = ni;
	/* dt of the node's own time: later in true time by any pause on the way */
	e->t = n->clk.n_pause ? sim_clock_true_at(&n->clk, sim_clock_local(&n->clk, w->t) + dt) : w->t + dt;
	e->gen = n->timer_gen;
	ev_push(w, idx);
}

/* --- links --- */

bool sim_link_draw(struct sim_rng *rng, const struct sim_link *m, bool up, int64_t *delay_ns)
{
	/* Draw every variate every time, so one model parameter never shifts another's. */
	double u_loss = sim_rng_uniform(rng);
	double u_spike = sim_rng_uniform(rng);
	double jit = sim_rng_exp(rng, m->jitter_s);
	double d = m->delay_s + jit + (up ? m->asym_s : 0.0);
	if (u_spike < m->spike_frac)
		d += m->spike_s;
	*delay_ns = (int64_t)llround(d * 1e9);
	return u_loss >= m->loss;
}

static int node_of(const struct world *w, const struct gn_addr *a)
{
	for (unsigned i = 0; i < w->n_nodes; i++)
		if (gn_addr_same_host(&w->nodes[i].addr, a))
			return (int)i;
	return -1;
}

/* Send buf from node `src` (from address `from`) to `to`: draw the path and queue the
 * arrival. */
static void transmit(struct world *w, unsigned src, const struct gn_addr *from, const struct gn_addr *to,
		     const uint8_t *buf, size_t len, int64_t extra_ns)
{
	int dst = node_of(w, to);
	if (dst < 0 || len > ENG_MAX_PKT) {
		trace(w, "datagram to an unknown address dropped");
		return;
	}
	/* A request goes to port 123, up the path from the client to its source; an answer
	 * comes back down the same path. (Between two nodes using each other there are two
	 * paths; the port says which conversation a datagram belongs to.) */
	struct link_dir *l;
	if (to->port == 123 && w->is_source[src][dst])
		l = &w->links[src][dst][0];
	else if (to->port != 123 && w->is_source[dst][src])
		l = &w->links[dst][src][1];
	else {
		trace(w, "datagram between nodes with no path dropped");
		return;
	}
	int64_t delay;
	if (!sim_link_draw(&l->rng, l->m, l->up, &delay))
		return;
	unsigned idx;
	struct ev *e = ev_alloc(w, &idx);
	if (e == NULL)
		return;
	memcpy(e->buf, buf, len);
	e->len = (uint16_t)len;
	e->kind = EV_PKT;
	e->node = (unsigned)dst;
	e->from = *from;
	e->to = *to;
	e->t = w->t + extra_ns + delay;
	ev_push(w, idx);
}

/* --- server side: a stratum-1 responder (RFC 5905 §8: mode 4 answer to mode 3) --- */

static void server_receive(struct world *w, unsigned ni, const struct ev *req)
{
	const struct sim_server_spec *sp = w->nodes[ni].ss;
	if (sp->kind == SIM_SRV_VANISH && (double)w->t >= sp->vanish_start_s * 1e9 &&
	    (double)w->t < sp->vanish_end_s * 1e9)
		return;
	struct pkt q;
	if (pkt_decode(req->buf, req->len, &q) != PKT_OK || q.mode != PKT_MODE_CLIENT)
		return;
	int64_t off_ns = (int64_t)llround(sp->offset_s * 1e9);
	int64_t proc_ns = (int64_t)llround(sp->proc_s * 1e9);
	gn_time_ns t2 = utc_ns(w, w->t) + off_ns;
	gn_time_ns t3 = utc_ns(w, w->t + proc_ns) + off_ns;
	struct pkt r;
	memset(&r, 0, sizeof r);
	r.li = PKT_LI_NONE;
	/* a leap second is announced during the last day before it */
	if (w->leap_t != INT64_MAX && w->t < w->leap_t && w->leap_t - w->t <= 86400 * NS)
		r.li = w->leap_ns < 0 ? PKT_LI_ADD : PKT_LI_DEL;
	r.vn = q.vn;
	r.mode = PKT_MODE_SERVER;
	r.stratum = sp->stratum;
	r.poll = q.poll;
	r.precision = sp->precision_log2;
	r.rootdelay = ntp_short32_from_s(sp->rootdelay_s);
	r.rootdisp = ntp_short32_from_s(sp->rootdisp_s);
	r.refid = pkt_refid_ascii(sp->refid);
	r.reftime = ntp_ts64_from_ns(t2 - (t2 % (16 * NS)));
	r.org = q.xmt;
	r.rec = ntp_ts64_from_ns(t2);
	r.xmt = ntp_ts64_from_ns(t3);
	uint8_t buf[PKT_HEADER_LEN];
	size_t len = pkt_encode_header(&r, buf, sizeof buf);
	if (len > 0)
		transmit(w, ni, &req->to, &req->from, buf, len, proc_ns);
}

/* --- executing an engine's actions --- */

static struct sock *sock_of(struct node *n, uint32_t assoc_id)
{
	for (unsigned i = 0; i < n->n_socks; i++)
		if (n->socks[i].assoc_id == assoc_id)
			return &n->socks[i];
	return NULL;
}

static void sock_close(struct node *n, uint32_t assoc_id)
{
	for (unsigned i = 0; i < n->n_socks; i++)
		if (n->socks[i].assoc_id == assoc_id) {
			n->socks[i] = n->socks[--n->n_socks];
			return;
		}
}

static uint16_t sock_open(struct world *w, struct node *n, uint32_t assoc_id)
{
	sock_close(n, assoc_id);
	if (n->n_socks >= MAX_SOCKS) {
		fail(w, "too many client sockets");
		return 0;
	}
	uint16_t port;
	bool clash;
	do { /* RFC 9109: a random source port from the ephemeral range */
		port = (uint16_t)(32768 + sim_rng_u64(&n->port_rng) % (60999 - 32768 + 1));
		clash = false;
		for (unsigned i = 0; i < n->n_socks; i++)
			clash |= n->socks[i].port == port;
	} while (clash);
	n->socks[n->n_socks++] = (struct sock){ .assoc_id = assoc_id, .port = port };
	return port;
}

struct txstamp {
	uint32_t assoc_id;
	ntp_ts64 xmt;
	gn_time_ns tx_ns;
};

static void node_send(struct world *w, unsigned ni, const struct eng_send *s, const struct eng_now *now,
		      struct txstamp *tx, unsigned *n_tx)
{
	struct node *n = &w->nodes[ni];
	uint16_t port = 123;
	if (s->assoc_id > 0) {
		struct sock *so = sock_of(n, s->assoc_id);
		port = (so == NULL || s->fresh_socket) ? sock_open(w, n, s->assoc_id) : so->port;
		n->sent++;
		if (w->event_t >= 0 && w->t >= w->event_t && w->t < w->event_t + 60 * NS)
			n->ev_sent++;
	}
	if (port == 0 || s->len > ENG_MAX_PKT)
		return;
	uint8_t buf[ENG_MAX_PKT];
	memcpy(buf, s->buf, s->len);
	if (s->stamp_xmt && s->len >= PKT_HEADER_LEN)
		ntp_ts64_store(&buf[40], ntp_ts64_from_ns(now->real_ns));
	if (s->assoc_id > 0 && n->gs->tx_timestamps && s->len >= PKT_HEADER_LEN && *n_tx < 64)
		tx[(*n_tx)++] = (struct txstamp){ s->assoc_id, ntp_ts64_load(&buf[40]), now->real_ns };
	struct gn_addr from = n->addr;
	from.port = port;
	transmit(w, ni, &from, &s->to, buf, s->len, 0);
}

static const char *level_name(enum eng_log_level l)
{
	static const char *const names[] = { "err", "warning", "notice", "info", "debug" };
	return (unsigned)l < 5 ? names[l] : "?";
}

/* Execute and clear a node's actions, including those a step's notification adds. */
static void run_actions(struct world *w, unsigned ni)
{
	struct node *n = &w->nodes[ni];
	struct txstamp tx[64];
	unsigned n_tx = 0;
	for (int round = 0; round < 64 && !w->failed; round++) {
		const struct eng_action *a;
		size_t na = eng_actions(n->eng, &a);
		if (na == 0)
			break;
		if (na > w->acts_cap) {
			struct eng_action *nw = realloc(w->acts, na * sizeof *nw);
			if (nw == NULL) {
				fail(w, "out of memory");
				return;
			}
			w->acts = nw;
			w->acts_cap = na;
		}
		memcpy(w->acts, a, na * sizeof *a);
		eng_clear_actions(n->eng);
		for (size_t i = 0; i < na; i++) {
			const struct eng_action *act = &w->acts[i];
			struct eng_now now = node_now(w, n);
			switch (act->kind) {
			case ENG_ACT_SEND:
				node_send(w, ni, &act->u.send, &now, tx, &n_tx);
				break;
			case ENG_ACT_CLOCK_ADJ: {
				struct clk_state st;
				n->adj_count++;
				if (!kclk_adjust_valid(&act->u.adj))
					n->adj_refused++;
				if ((act->u.adj.modes & CLK_ADJ_FREQ) && fabs(act->u.adj.freq_ppm) > CLK_MAX_FREQ_PPM)
					n->adj_clamped++;
				kclk_adjust(&n->clk.kclk, sim_clock_base(&n->clk, w->t), &act->u.adj, &st);
				if (w->opts != NULL && w->opts->trace)
					trace(w, "%s: adj modes %#x freq %.4f ppm tick %d offset %" PRId64
					      " ns status %#x tc %d -> freq %.4f", n->gs->name,
					      act->u.adj.modes, act->u.adj.freq_ppm, act->u.adj.tick_us, act->u.adj.offset_ns,
					      act->u.adj.status, act->u.adj.pll_constant, st.freq_ppm);
				break;
			}
			case ENG_ACT_CLOCK_STEP: {
				kclk_step(&n->clk.kclk, sim_clock_base(&n->clk, w->t), act->u.step_ns);
				n->det_last_diff += act->u.step_ns; /* our own step is not an external one */
				n->steps++;
				trace(w, "%s: STEP %.9f s", n->gs->name, (double)act->u.step_ns / 1e9);
				struct eng_now after = node_now(w, n);
				eng_on_clock_stepped(n->eng, &after, act->u.step_ns, false);
				break;
			}
			case ENG_ACT_DRIFT:
				break;
			case ENG_ACT_LOG:
				n->logs++;
				trace(w, "%s: %s: %s", n->gs->name, level_name(act->u.log.level), act->u.log.text);
				break;
			case ENG_ACT_CLOSE:
				sock_close(n, act->u.close_assoc_id);
				break;
			}
		}
	}
	for (unsigned i = 0; i < n_tx; i++)
		eng_on_tx_timestamp(n->eng, tx[i].assoc_id, tx[i].xmt, tx[i].tx_ns);
	if (eng_actions(n->eng, &(const struct eng_action *){ NULL }) > 0)
		run_actions(w, ni); /* a TX timestamp produced actions (unexpected, but execute them) */
}

/* The daemon's check after each turn of its loop (exec_check_external_step): the
 * real-time clock against CLOCK_MONOTONIC, which Linux keeps as the real-time clock
 * without its steps (settimeofday, ADJ_SETOFFSET, the leap second: kclk's jumps), whatever
 * monotonic clock the engine itself is given. A jump beyond EXT_STEP_NS not of the
 * daemon's own making is handed to the engine as an external step. */
static void check_external_step(struct world *w, unsigned ni)
{
	struct node *n = &w->nodes[ni];
	struct eng_now now = node_now(w, n);
	int64_t linux_mono = now.real_ns - n->clk.kclk.jumps_ns;
	int64_t diff = now.real_ns - linux_mono;
	int64_t d = diff - n->det_last_diff;
	bool first = !n->det_have;
	n->det_have = true;
	n->det_last_diff = diff;
	if (first || (d <= EXT_STEP_NS && d >= -EXT_STEP_NS))
		return;
	n->ext_steps++;
	trace(w, "%s: the clock was stepped by %+.9f s by someone else", n->gs->name, (double)d / 1e9);
	eng_on_clock_stepped(n->eng, &now, d, true);
	run_actions(w, ni);
}

/* The hypervisor resumes a suspended guest; its agent sets the real-time clock. */
static void gnomon_resume(struct world *w, const struct ev *e)
{
	struct node *n = &w->nodes[e->node];
	int64_t base = sim_clock_base(&n->clk, w->t);
	int64_t real = kclk_read(&n->clk.kclk, base);
	int64_t want = utc_ns(w, w->t) + (int64_t)llround(n->gs->resume_error_s * 1e9);
	kclk_step(&n->clk.kclk, base, want - real);
	trace(w, "%s: resumed; the guest agent set the clock by %+.9f s", n->gs->name, (double)(want - real) / 1e9);
}

static void gnomon_receive(struct world *w, unsigned ni, const struct ev *e)
{
	struct node *n = &w->nodes[ni];
	if (sim_clock_paused(&n->clk, w->t)) {
		n->dropped_paused++; /* the guest is not running */
		return;
	}
	uint32_t assoc_id = 0;
	bool found = e->to.port == 123;
	for (unsigned i = 0; i < n->n_socks && !found; i++)
		if (n->socks[i].port == e->to.port) {
			assoc_id = n->socks[i].assoc_id;
			found = true;
		}
	if (!found) {
		n->dropped_no_socket++;
		return;
	}
	struct eng_now now = node_now(w, n);
	struct eng_rx rx = {
		.buf = e->buf, .len = e->len, .from = e->from, .local = e->to,
		.rx_ns = now.real_ns, .assoc_id = assoc_id, .ifindex = 1,
	};
	n->received++;
	eng_on_packet(n->eng, &now, &rx);
	run_actions(w, ni);
	check_external_step(w, ni);
	schedule_timer(w, ni);
}

static void gnomon_timer(struct world *w, const struct ev *e)
{
	struct node *n = &w->nodes[e->node];
	if (e->gen != n->timer_gen)
		return; /* superseded */
	struct eng_now now = node_now(w, n);
	int64_t d = eng_next_deadline(n->eng);
	if (now.mono_ns < d || sim_clock_paused(&n->clk, w->t)) {
		schedule_timer(w, e->node); /* the oscillator wandered: not quite there yet */
		return;
	}
	eng_on_timer(n->eng, &now);
	run_actions(w, e->node);
	check_external_step(w, e->node);
	schedule_timer(w, e->node);
}

/* --- what gnomonctl would show: each gnomon node's status and sources --- */

static void dump_nodes(struct world *w)
{
	FILE *f = w->opts->log;
	for (unsigned i = 0; i < w->n_nodes; i++) {
		struct node *n = &w->nodes[i];
		if (!n->is_gnomon)
			continue;
		struct eng_now now = node_now(w, n);
		struct eng_status st;
		eng_status(n->eng, &now, &st);
		double true_off = (double)(now.real_ns - utc_ns(w, w->t)) / 1e9;
		fprintf(f, "[%12.6f] %s: true offset %+.6f s; state %d stratum %u offset %+.6f s jitter %.6f s "
			"freq %+.4f ppm rootdelay %.6f rootdisp %.6f poll %d\n", (double)w->t / 1e9, n->gs->name,
			true_off, (int)st.state, st.stratum, st.offset_s, st.jitter_s, st.frequency_ppm,
			st.rootdelay_s, st.rootdisp_s, st.poll_log2);
		struct eng_source_info src[SIM_MAX_SOURCES];
		size_t k = eng_sources(n->eng, &now, src, SIM_MAX_SOURCES);
		for (size_t j = 0; j < k && j < SIM_MAX_SOURCES; j++) {
			char a[64];
			gn_addr_str(&src[j].addr, a, sizeof a);
			fprintf(f, "    %c%-12s st %2u reach %03o delay %.6f offset %+.6f jitter %.6f disp %.6f poll %d\n",
				src[j].tally ? src[j].tally : ' ', a, src[j].stratum, src[j].reach, src[j].delay_s,
				src[j].offset_s, src[j].jitter_s, src[j].disp_s, src[j].poll_log2);
		}
	}
}

/* --- metrics (node 0) --- */

struct acc {
	double sum_sq;
	uint64_t n;
	double max_abs;
	double lock_s;
	double last_bad_s;
	bool bad_at_end;
	/* after the disturbance (world event_t) */
	double ev_lock_s, ev_last_bad_s, ev_max;
	bool ev_bad_at_end;
};

static void sample(struct world *w, struct acc *a, int64_t t_s)
{
	struct node *n = &w->nodes[0];
	struct eng_now now = node_now(w, n);
	int64_t off_ns = now.real_ns - utc_ns(w, w->t);
	if (w->leap_t != INT64_MAX && w->t > w->leap_t - LEAP_AMBIG_NS && w->t < w->leap_t + LEAP_AMBIG_NS) {
		/* Around the leap, UTC is ambiguous by its second (the client's kernel leaps at its
		 * own midnight, a few µs from the true one): the nearer reading counts. */
		int64_t alt = off_ns - w->leap_ns, alt2 = off_ns + w->leap_ns;
		if (llabs(alt) < llabs(off_ns))
			off_ns = alt;
		if (llabs(alt2) < llabs(off_ns))
			off_ns = alt2;
	}
	double off = (double)off_ns / 1e9, ab = fabs(off);
	double ts = (double)t_s;
	if (w->event_t >= 0 && w->t >= w->event_t) {
		double since = (double)(w->t - w->event_t) / 1e9;
		if (a->ev_lock_s < 0 && ab < 1e-3)
			a->ev_lock_s = since;
		if (a->ev_lock_s >= 0 && since >= a->ev_lock_s + 60 && ab > a->ev_max)
			a->ev_max = ab;
		if (w->res->ev_poll_s == 0) {
			struct eng_status es;
			eng_status(n->eng, &now, &es);
			w->res->ev_poll_s = ldexp(1.0, es.poll_log2);
		}
		a->ev_bad_at_end = ab >= 1e-3;
		if (a->ev_bad_at_end)
			a->ev_last_bad_s = since;
	}
	if (w->event_t >= 0 || w->leap_t != INT64_MAX) {
		struct eng_status es;
		eng_status(n->eng, &now, &es);
		if (es.state == ENG_PANIC)
			w->res->panic_s++;
		struct eng_source_info si[SIM_MAX_SOURCES];
		size_t k = eng_sources(n->eng, &now, si, SIM_MAX_SOURCES);
		for (size_t j = 0; j < k && j < SIM_MAX_SOURCES && w->event_t >= 0 && w->t >= w->event_t; j++)
			if (si[j].tally == 'x') {
				w->res->falseticker_s++;
				break;
			}
	}
	if (w->opts != NULL && w->opts->samples != NULL) {
		/* t offset | rate of the disciplined clock vs true time (ppm) | the engine's own
		 * view: its offset estimate, poll, state */
		struct eng_status es;
		eng_status(n->eng, &now, &es);
		double rate_ppm = ((1.0 + n->clk.osc.freq) * (1.0 + kclk_rate_ppm(&n->clk.kclk) * 1e-6) - 1.0) * 1e6;
		fprintf(w->opts->samples, "%" PRId64 " %.9f %.4f %.9f %d %d\n", t_s, off, rate_ppm, es.offset_s,
			es.poll_log2, (int)es.state);
	}
	if (ts >= w->scn->warmup_s) {
		a->sum_sq += off * off;
		a->n++;
		if (ab > a->max_abs)
			a->max_abs = ab;
	}
	if (a->lock_s < 0 && ab < 1e-3)
		a->lock_s = ts;
	a->bad_at_end = ab >= 100e-6;
	if (a->bad_at_end)
		a->last_bad_s = ts;
	if (w->scn->report_at_s > 0 && ts == floor(w->scn->report_at_s))
		w->res->report_offset_s = off;
	w->res->samples++;
	w->res->final_offset_s = off;
}

/* --- one run --- */

static void set_ipv4(struct gn_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3, uint16_t port)
{
	memset(a, 0, sizeof *a);
	a->family = GN_AF_INET;
	a->addr[0] = b0;
	a->addr[1] = b1;
	a->addr[2] = b2;
	a->addr[3] = b3;
	a->port = port;
}

static int node_of_ref(const struct world *w, int ref)
{
	for (unsigned i = 0; i < w->n_nodes; i++)
		if (w->nodes[i].ref == ref)
			return (int)i;
	return -1;
}

/* Streams: node g's own processes at 1000·g + 1..3, the paths from client node c to its
 * sources at 1000·c + 16 + 2·(source's reference slot) + direction. Node 0 and its paths to
 * servers keep the numbers they had when the simulator had a single client. */
static uint64_t source_slot(int ref)
{
	return ref >= SIM_REF_GNOMON ? (uint64_t)(SIM_MAX_SERVERS + ref - SIM_REF_GNOMON) : (uint64_t)ref;
}

static bool setup_gnomon(struct world *w, unsigned ni, uint64_t seed)
{
	struct node *n = &w->nodes[ni];
	const struct sim_client_spec *c = n->gs;
	uint64_t sb = 1000 * (uint64_t)ni;
	sim_clock_init_at(&n->clk, w->t0_ns, c->offset_s, c->freq_ppm, c->wander, seed, sb + STREAM_OSC);
	n->clk.mono_linux = c->mono_linux;
	/* a suspend and a migration: pauses in time order; a resume event where the guest
	 * agent sets the clock */
	struct sim_pause ps[2];
	unsigned np = 0;
	if (c->suspend_s > 0)
		ps[np++] = (struct sim_pause){ (int64_t)llround(c->suspend_at_s * 1e9), (int64_t)llround(c->suspend_s * 1e9) };
	if (c->migrate_s > 0)
		ps[np++] = (struct sim_pause){ (int64_t)llround(c->migrate_at_s * 1e9), (int64_t)llround(c->migrate_s * 1e9) };
	if (np == 2 && ps[1].start < ps[0].start) {
		struct sim_pause tmp = ps[0];
		ps[0] = ps[1];
		ps[1] = tmp;
	}
	for (unsigned i = 0; i < np; i++) {
		if (!sim_clock_add_pause(&n->clk, ps[i].start, ps[i].len)) {
			fail(w, "%s: pauses overlap", c->name);
			return false;
		}
		if (ni == 0 && ps[i].start + ps[i].len > w->event_t)
			w->event_t = ps[i].start + ps[i].len;
	}
	if (c->suspend_s > 0 && c->resume_set) {
		unsigned idx;
		struct ev *e = ev_alloc(w, &idx);
		if (e == NULL)
			return false;
		e->kind = EV_RESUME;
		e->node = ni;
		e->t = (int64_t)llround(c->suspend_at_s * 1e9) + (int64_t)llround(c->suspend_s * 1e9);
		ev_push(w, idx);
	}
	sim_rng_seed(&n->eng_rng, seed, sb + STREAM_ENG);
	sim_rng_seed(&n->port_rng, seed, sb + STREAM_PORTS);

	struct cfg *cfgp = malloc(sizeof *cfgp); /* large; copied by eng_new */
	if (cfgp == NULL) {
		fail(w, "out of memory");
		return false;
	}
	cfg_defaults(cfgp);
	int src_node[SIM_MAX_SOURCES];
	for (unsigned i = 0; i < c->n_sources; i++) {
		src_node[i] = node_of_ref(w, c->sources[i]);
		INSIST(src_node[i] >= 0);
		struct node *sn = &w->nodes[src_node[i]];
		w->is_source[ni][src_node[i]] = true;
		for (unsigned dir = 0; dir < 2; dir++) {
			struct link_dir *l = &w->links[ni][src_node[i]][dir];
			sim_rng_seed(&l->rng, seed, sb + STREAM_LINK + 2 * source_slot(c->sources[i]) + dir);
			l->m = sn->link;
			l->up = dir == 0;
		}
		struct cfg_source *src = &cfgp->sources[cfgp->n_sources++];
		memset(src, 0, sizeof *src);
		src->kind = CFG_SRC_SERVER;
		gn_addr_str(&sn->addr, src->host, sizeof src->host);
		src->port = 123;
		src->iburst = c->iburst;
		src->minpoll = c->minpoll;
		src->maxpoll = c->maxpoll;
		src->version = 4;
		src->line = i + 1;
	}
	struct eng_params p = {
		.cfg = cfgp,
		.rng = { .fill = sim_rng_fill, .ctx = &n->eng_rng },
		.precision_log2 = c->precision_log2,
		.have_drift = c->have_drift,
		.drift_ppm = c->drift_ppm,
		.local_refid_ipv4 = gn_addr_ipv4_u32(&n->addr),
		.discipline = c->discipline ? ENG_DSC_RFC : ENG_DSC_GNOMON,
	};
	struct eng_now now = node_now(w, n);
	n->eng = eng_new(&p, &now);
	free(cfgp);
	if (n->eng == NULL) {
		fail(w, "eng_new failed");
		return false;
	}
	for (unsigned i = 0; i < c->n_sources; i++) {
		struct gn_addr a = w->nodes[src_node[i]].addr;
		a.port = 123;
		if (eng_add_source_addr(n->eng, &now, i, &a) == 0) {
			fail(w, "%s: eng_add_source_addr refused source %u", c->name, i);
			return false;
		}
	}
	run_actions(w, ni);
	check_external_step(w, ni); /* the detection's first reading */
	schedule_timer(w, ni);
	return !w->failed;
}

static bool setup(struct world *w, uint64_t seed)
{
	const struct sim_scenario *scn = w->scn;
	w->t0_ns = (scn->start_unix_s != 0 ? scn->start_unix_s : SIM_T0_UNIX_S) * NS;
	w->leap_t = INT64_MAX;
	w->leap_ns = 0;
	w->event_t = -1;
	if (scn->leap != 0) {
		/* 00:00:00 UTC after the leap: the first of the month after the start's */
		int64_t at = leap_month_end(w->t0_ns);
		w->leap_t = at - w->t0_ns - (scn->leap > 0 ? 0 : NS);
		w->leap_ns = scn->leap > 0 ? -NS : NS;
		w->event_t = w->leap_t;
	}
	/* Nodes: the client, the other gnomon nodes, the servers. */
	for (unsigned g = 0; g <= scn->n_gnomons; g++) {
		struct node *n = &w->nodes[w->n_nodes++];
		n->is_gnomon = true;
		n->gs = g == 0 ? &scn->client : &scn->gnomons[g - 1];
		n->ref = SIM_REF_GNOMON + (int)g;
		n->link = &n->gs->link;
		set_ipv4(&n->addr, 10, 0, 0, (uint8_t)(g + 1), 0);
	}
	for (unsigned j = 0; j < scn->n_servers; j++) {
		struct node *n = &w->nodes[w->n_nodes++];
		n->ss = &scn->servers[j];
		n->ref = (int)j;
		n->link = &n->ss->link;
		set_ipv4(&n->addr, 10, 0, 1, (uint8_t)(j + 1), 123);
	}
	for (unsigned i = 0; i < w->n_nodes && !w->failed; i++)
		if (w->nodes[i].is_gnomon && !setup_gnomon(w, i, seed))
			return false;
	return !w->failed;
}

bool sim_run(const struct sim_scenario *scn, uint64_t seed, const struct sim_opts *opts,
	     struct sim_result *out, char *err, size_t errlen)
{
	struct world *w = calloc(1, sizeof *w);
	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	memset(out, 0, sizeof *out);
	out->seed = seed;
	w->scn = scn;
	w->opts = opts;
	w->res = out;
	w->err = err;
	w->errlen = errlen;
	double dur_s = (opts != NULL && opts->duration_s > 0) ? opts->duration_s : scn->duration_s;
	int64_t end = (int64_t)llround(dur_s * 1e9);

	struct acc a = { .lock_s = -1, .last_bad_s = -1, .ev_lock_s = -1, .ev_last_bad_s = -1 };
	if (setup(w, seed)) {
		int64_t next_sample = 0, last_t = -1;
		uint64_t same_t = 0;
		while (!w->failed) {
			int64_t tev = w->n_heap > 0 ? w->pool[w->heap[0]].t : INT64_MAX;
			if (next_sample <= tev) {
				if (next_sample > end)
					break;
				w->t = next_sample;
				sample(w, &a, next_sample / NS);
				if (opts != NULL && opts->log != NULL && opts->dump_every_s >= 1 && next_sample > 0 &&
				    (next_sample / NS) % (int64_t)opts->dump_every_s == 0)
					dump_nodes(w);
				next_sample += NS;
				continue;
			}
			/* Work on a copy: handling an event may add events, and growing the pool
			 * moves it. Only the used part of the buffer is copied. */
			unsigned idx = ev_pop(w);
			const struct ev *pe = &w->pool[idx];
			memcpy(&w->cur, pe, offsetof(struct ev, buf) + pe->len);
			ev_free(w, idx);
			const struct ev *e = &w->cur;
			w->t = e->t;
			out->events++;
			if (e->t == last_t) {
				if (++same_t > SAME_TIME_LIMIT)
					fail(w, "livelock: more than %d events at t = %.9f s", SAME_TIME_LIMIT,
					     (double)e->t / 1e9);
			} else {
				same_t = 0;
				last_t = e->t;
			}
			if (e->kind == EV_TIMER)
				gnomon_timer(w, e);
			else if (e->kind == EV_RESUME)
				gnomon_resume(w, e);
			else if (w->nodes[e->node].is_gnomon)
				gnomon_receive(w, e->node, e);
			else
				server_receive(w, e->node, e);
		}
	}
	if (!w->failed) {
		const struct node *c = &w->nodes[0];
		out->rms_s = a.n ? sqrt(a.sum_sq / (double)a.n) : 0;
		out->max_abs_s = a.max_abs;
		out->lock_1ms_s = a.lock_s;
		out->stay_100us_s = a.bad_at_end ? -1 : a.last_bad_s + 1;
		out->steps = c->steps;
		out->client_sent = c->sent;
		out->client_received = c->received;
		out->pkts_per_h = (double)c->sent / (dur_s / 3600.0);
		out->logs = c->logs;
		out->dropped_no_socket = c->dropped_no_socket;
		out->adj_count = c->adj_count;
		out->adj_refused = c->adj_refused;
		out->adj_clamped = c->adj_clamped;
		for (unsigned i = 1; i < w->n_nodes; i++) {
			const struct node *n = &w->nodes[i];
			out->other_steps += n->steps;
			out->adj_refused += n->adj_refused;
			out->adj_clamped += n->adj_clamped;
		}
		struct clk_state st;
		kclk_state(&w->nodes[0].clk.kclk, &st);
		out->final_freq_ppm = st.freq_ppm;
		out->event_s = w->event_t >= 0 ? (double)w->event_t / 1e9 : -1;
		out->ev_lock_s = a.ev_lock_s;
		out->ev_stay_1ms_s = w->event_t < 0 || a.ev_bad_at_end ? -1 : a.ev_last_bad_s < 0 ? 0 : a.ev_last_bad_s + 1;
		out->ev_max_s = a.ev_max;
		out->ev_sent_60s = c->ev_sent;
		out->ext_steps = c->ext_steps;
		out->kernel_leaps = (unsigned)c->clk.kclk.n_leaps;
		out->dropped_paused = c->dropped_paused;
		struct eng_now now = node_now(w, &w->nodes[0]);
		struct eng_status es;
		eng_status(c->eng, &now, &es);
		out->restarts_ext = es.restarts_ext;
		out->jumps = es.jumps;
		out->jump_alarms = es.jump_alarms;
		out->eng_kernel_leaps = es.kernel_leaps;
	}
	bool ok = !w->failed;
	for (unsigned i = 0; i < w->n_nodes; i++)
		if (w->nodes[i].eng != NULL)
			eng_free(w->nodes[i].eng);
	free(w->pool);
	free(w->heap);
	free(w->freel);
	free(w->acts);
	free(w);
	return ok;
}

bool sim_run_scenario(const struct sim_scenario *scn, const struct sim_opts *opts,
		      struct sim_result *results, struct sim_summary *sum, char *err, size_t errlen)
{
	struct sim_result *r = results;
	struct sim_result *own = NULL;
	if (r == NULL) {
		own = calloc(scn->seeds, sizeof *own);
		if (own == NULL) {
			snprintf(err, errlen, "out of memory");
			return false;
		}
		r = own;
	}
	bool ok = true;
	for (unsigned i = 0; i < scn->seeds && ok; i++)
		ok = sim_run(scn, scn->seed_base + i, opts, &r[i], err, errlen);
	if (ok)
		sim_summarize(r, scn->seeds, sum);
	free(own);
	return ok;
}
