/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exec: runs the engine against the OS seams (see exec.h for what it owns).
 *
 * A readable descriptor is drained in batches of OS_NET_BATCH (bounded per wake-up so one
 * busy socket cannot starve the loop). An association's datagrams go to eng_on_packet one
 * by one, the engine's actions run after each. A server socket's requests are answered by
 * eng_serve straight into the socket's send slots (docs/server.md, "The answer path"):
 * they leave in sendmmsg calls of up to EXEC_TX_CHUNK, each answer stamped just before
 * the call with the time it is predicted to leave (exec_txcost_stamp).
 */
#include "exec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gn_assert.h"
#include "os_log.h"

#define RX_BATCHES_PER_WAKE 8        /* at most 8 × 16 datagrams per socket per iteration */
/* Server answers leave in sendmmsg calls of at most this many. The kernel sends a call's
 * datagrams one after the other, so the transmit stamps, written before the call, are
 * predictions (exec_txcost_stamp); an interrupt in the middle of a call makes every later
 * answer of it leave later than predicted (its stamp early). 4 bounds that to 3 answers:
 * one call of 16 would save 3 system calls per 16 answers (about 0.2 µs each, 1 % of the
 * CPU per answer), but its 1 % tail of stamp errors was 3-10 times worse in
 * tests/unit/test_exec_txstamp.c (docs/server.md, "Transmit timestamps"). It also bounds
 * how long an answer waits for the requests after it in the same receive batch. */
#define EXEC_TX_CHUNK 4
_Static_assert(EXEC_TX_CHUNK <= OS_NET_BATCH, "os_net_send takes at most OS_NET_BATCH");
#define EXEC_TX_LEARN_FIRST 64       /* calls timed before sampling (exec_txcost_learn) */
#define EXEC_TX_LEARN_EVERY 4        /* then one call in 4 is timed */
/* How late a busy loop may notice that someone else stepped the clock: the answers made
 * meanwhile carry the stepped clock's time either way (the engine's restart takes polls). */
#define EXEC_STEP_CHECK_NS (GN_NS_PER_S / 100) /* 10 ms */
#define ACTION_ROUNDS 4              /* a step may make the engine add actions: bounded */
#define MAX_ASSOC_SLOTS CFG_MAX_SOURCES
#define SRV_FAMILIES 2

struct assoc_slot {
	uint32_t assoc_id;           /* 0 = free */
	struct gn_addr addr;
	int fd;                      /* -1 = no socket open */
	int64_t last_send_mono_ns;
	ntp_ts64 last_xmt_wire;      /* for matching a kernel TX timestamp */
	struct exec *x;
};

struct pending_tx {
	uint8_t buf[ENG_MAX_PKT];
	struct os_net_tx tx;
	bool stamp_xmt;
};

struct srv_sock {
	int fd;
	int family;
	struct pending_tx out[EXEC_TX_CHUNK]; /* queue_answer sends when it is full */
	size_t n_out;
	struct exec *x;
};

struct exec {
	struct exec_params p;
	struct os_net_ops net;
	struct srv_sock srv[SRV_FAMILIES];
	size_t n_srv;
	struct assoc_slot slots[MAX_ASSOC_SLOTS];
	struct os_net_rx rx[OS_NET_BATCH];
	struct eng_action *acts;     /* copy of the engine's list while executing it */
	size_t acts_cap;
	uint64_t eng_timer;
	int64_t eng_timer_deadline;
	bool clock_set;
	bool clock_read;             /* the clock was read since the last external-step check */
	int64_t step_check_mono_ns;  /* sch_now at that check */
	bool in_rx_batch;            /* answers wait for the end of the receive batch */
	bool announced_soft;
	bool any_ifname_rule;
	struct exec_txcost txc;      /* what one answer costs sendmmsg: for transmit stamps */
	uint32_t tx_calls;           /* sendmmsg calls of answers, for EXEC_TX_LEARN_EVERY */
	struct exec_stats st;
};

static void eng_timer_cb(void *ctx, uint64_t id, int64_t now_mono_ns);

struct exec *exec_new(const struct exec_params *p)
{
	REQUIRE(p && p->eng && p->sch && p->clock && (p->net || p->net_ops) && p->cfg);
	struct exec *x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	x->p = *p;
	x->net = p->net_ops ? *p->net_ops : os_net_linux_ops(p->net);
	for (size_t i = 0; i < MAX_ASSOC_SLOTS; i++) {
		x->slots[i].fd = -1;
		x->slots[i].x = x;
	}
	for (unsigned i = 0; i < p->cfg->n_interfaces; i++)
		if (p->cfg->interfaces[i].what == CFG_IF_NAME)
			x->any_ifname_rule = true;
	x->eng_timer_deadline = INT64_MAX;
	return x;
}

static void close_slot_socket(struct exec *x, struct assoc_slot *s)
{
	if (s->fd >= 0) {
		sch_fd_del(x->p.sch, s->fd);
		x->net.close(x->net.ctx, s->fd);
		s->fd = -1;
	}
}

void exec_free(struct exec *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < MAX_ASSOC_SLOTS; i++)
		close_slot_socket(x, &x->slots[i]);
	for (size_t i = 0; i < x->n_srv; i++) {
		sch_fd_del(x->p.sch, x->srv[i].fd);
		x->net.close(x->net.ctx, x->srv[i].fd);
	}
	if (x->eng_timer)
		sch_timer_cancel(x->p.sch, x->eng_timer);
	free(x->acts);
	free(x);
}

const struct exec_stats *exec_stats(const struct exec *x) { return &x->st; }
bool exec_clock_was_set(const struct exec *x) { return x->clock_set; }

int exec_now(struct exec *x, struct eng_now *now)
{
	x->clock_read = true;
	return os_clock_read(x->p.clock, &now->real_ns, &now->mono_ns);
}

/* ---------------------------------------------------------------- interface filter */

static bool prefix_match(const struct cfg_prefix *pfx, const struct gn_addr *a)
{
	if (pfx->family != a->family)
		return false;
	unsigned bits = pfx->prefix_len;
	for (unsigned i = 0; i < 16 && bits > 0; i++) {
		unsigned take = bits >= 8 ? 8 : bits;
		uint8_t mask = (uint8_t)(0xff << (8 - take));
		if ((pfx->addr[i] & mask) != (a->addr[i] & mask))
			return false;
		bits -= take;
	}
	return true;
}

bool exec_iface_accepts(const struct cfg *cfg, const struct gn_addr *local, const char *ifname)
{
	enum cfg_if_action act = CFG_IF_LISTEN;
	if (local->family == GN_AF_NONE)
		return true; /* no packet info: nothing to match on */
	for (unsigned i = 0; i < cfg->n_interfaces; i++) {
		const struct cfg_interface *r = &cfg->interfaces[i];
		bool m = false;
		switch (r->what) {
		case CFG_IF_ALL: m = !gn_addr_is_loopback(local); break;
		case CFG_IF_WILDCARD: m = false; break; /* matches no particular address */
		case CFG_IF_IPV4: m = local->family == GN_AF_INET; break;
		case CFG_IF_IPV6: m = local->family == GN_AF_INET6; break;
		case CFG_IF_PREFIX: m = prefix_match(&r->prefix, local); break;
		case CFG_IF_NAME: m = ifname && strcmp(ifname, r->name) == 0; break;
		}
		if (m)
			act = r->action; /* the last matching line decides (ntpd) */
	}
	return act == CFG_IF_LISTEN;
}

/* ---------------------------------------------------------------- sending */

static struct srv_sock *srv_for_family(struct exec *x, int family)
{
	for (size_t i = 0; i < x->n_srv; i++)
		if (x->srv[i].family == family)
			return &x->srv[i];
	return NULL;
}

static void stamp_xmt(uint8_t *buf, size_t len, gn_time_ns t)
{
	if (len >= 48)
		ntp_ts64_store(&buf[40], ntp_ts64_from_ns(t));
}

gn_time_ns exec_txcost_stamp(const struct exec_txcost *c, gn_time_ns t0, size_t k)
{
	/* The kernel sends a call's datagrams one after the other: answer k leaves after k
	 * others, and about half of its own cost (the part before the driver stamps it). */
	return t0 + (int64_t)k * c->per_ns + c->per_ns / 2;
}

void exec_txcost_learn(struct exec_txcost *c, gn_time_ns t0, gn_time_ns t1, size_t n)
{
	if (n == 0)
		return;
	int64_t per = (t1 - t0) / (int64_t)n;
	if (per < 0 || per > EXEC_TX_COST_MAX_NS) {
		c->outliers++; /* preempted during the call, or the clock stepped */
		return;
	}
	/* Interruptions only ever lengthen a call, so the typical cost is near the low end of
	 * the durations: a shorter call pulls the estimate down at once by 1/4 of the
	 * difference, a longer one up by only 1/EXEC_TX_COST_WEIGHT (one call that an
	 * interrupt made long cannot make the next batches' stamps late). */
	if (c->samples++ == 0)
		c->per_ns = per;
	else if (per < c->per_ns)
		c->per_ns += (per - c->per_ns) / 4;
	else
		c->per_ns += (per - c->per_ns) / EXEC_TX_COST_WEIGHT;
}

static void flush_srv(struct exec *x, struct srv_sock *s)
{
	if (s->n_out == 0)
		return;
	struct os_net_tx tx[EXEC_TX_CHUNK];
	gn_time_ns t0, t1;
	/* The disciplined clock alone (no monotonic reading): the cheapest reading, as late as
	 * possible; each answer gets the time it is predicted to leave (exec.h). */
	bool have_t = os_clock_read_real(x->p.clock, &t0) == 0;
	for (size_t i = 0; i < s->n_out; i++) {
		if (s->out[i].stamp_xmt && have_t)
			stamp_xmt(s->out[i].buf, s->out[i].tx.len, exec_txcost_stamp(&x->txc, t0, i));
		tx[i] = s->out[i].tx;
		tx[i].buf = s->out[i].buf;
	}
	int r = x->net.send(x->net.ctx, s->fd, tx, s->n_out, false);
	/* Once learnt, the cost is followed from one call in EXEC_TX_LEARN_EVERY: a second
	 * clock reading per call is a tenth of a small batch's user-space work. */
	bool learn = x->txc.samples < EXEC_TX_LEARN_FIRST || ++x->tx_calls % EXEC_TX_LEARN_EVERY == 0;
	if (r > 0 && have_t && learn && os_clock_read_real(x->p.clock, &t1) == 0)
		exec_txcost_learn(&x->txc, t0, t1, (size_t)r);
	if (r < 0) {
		x->st.tx_errors += s->n_out;
		errno = -r;
		log_limited(LOG_KEY_NET_SEND, LOG_WARNING, "cannot send %zu answers: %s", s->n_out,
			    strerror(-r));
	} else {
		x->st.tx_packets += (uint64_t)r;
		x->st.tx_errors += s->n_out - (size_t)r;
	}
	s->n_out = 0;
}

static void flush_all(struct exec *x)
{
	for (size_t i = 0; i < x->n_srv; i++)
		flush_srv(x, &x->srv[i]);
}

static struct assoc_slot *slot_find(struct exec *x, uint32_t assoc_id)
{
	for (size_t i = 0; i < MAX_ASSOC_SLOTS; i++)
		if (x->slots[i].assoc_id == assoc_id)
			return &x->slots[i];
	return NULL;
}

static struct assoc_slot *slot_get(struct exec *x, uint32_t assoc_id)
{
	struct assoc_slot *s = slot_find(x, assoc_id);
	if (s)
		return s;
	s = slot_find(x, 0);
	if (!s) {
		/* More associations than slots: reuse the one idle longest. */
		s = &x->slots[0];
		for (size_t i = 1; i < MAX_ASSOC_SLOTS; i++)
			if (x->slots[i].last_send_mono_ns < s->last_send_mono_ns)
				s = &x->slots[i];
		close_slot_socket(x, s);
	}
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->x = x;
	s->assoc_id = assoc_id;
	return s;
}

static size_t open_client_sockets(const struct exec *x)
{
	size_t n = 0;
	for (size_t i = 0; i < MAX_ASSOC_SLOTS; i++)
		n += x->slots[i].fd >= 0;
	return n;
}

static void client_readable(void *ctx, int fd, short revents);

static void send_request(struct exec *x, const struct eng_send *snd)
{
	struct assoc_slot *s = slot_get(x, snd->assoc_id);
	char as[96];
	s->addr = snd->to;
	if (snd->fresh_socket || s->fd < 0) {
		close_slot_socket(x, s);
		if (open_client_sockets(x) >= EXEC_MAX_CLIENT_SOCKETS) {
			/* Keep under the socket budget: close the socket idle longest. */
			struct assoc_slot *old = NULL;
			for (size_t i = 0; i < MAX_ASSOC_SLOTS; i++) {
				struct assoc_slot *c = &x->slots[i];
				if (c->fd >= 0 && (!old || c->last_send_mono_ns < old->last_send_mono_ns))
					old = c;
			}
			if (old)
				close_slot_socket(x, old);
		}
		int fd = x->net.open_client(x->net.ctx, &snd->to);
		if (fd < 0) {
			x->st.client_socket_errors++;
			log_limited(LOG_KEY_NET_SOCK, LOG_WARNING, "cannot open a socket to %s: %s",
				    gn_addr_port_str(&snd->to, as, sizeof as), strerror(-fd));
			return;
		}
		if (sch_fd_add(x->p.sch, fd, POLLIN, client_readable, s) != 0) {
			x->net.close(x->net.ctx, fd);
			x->st.client_socket_errors++;
			log_limited(LOG_KEY_NET_SOCK, LOG_WARNING, "too many descriptors in the loop");
			return;
		}
		s->fd = fd;
		x->st.client_sockets_opened++;
	}
	uint8_t buf[ENG_MAX_PKT];
	size_t len = snd->len <= ENG_MAX_PKT ? snd->len : ENG_MAX_PKT;
	memcpy(buf, snd->buf, len);
	struct eng_now now;
	if (exec_now(x, &now) != 0)
		now.mono_ns = sch_now(x->p.sch);
	else if (snd->stamp_xmt)
		stamp_xmt(buf, len, now.real_ns);
	struct os_net_tx tx = { .buf = buf, .len = len, .to = snd->to };
	int r = x->net.send(x->net.ctx, s->fd, &tx, 1, true);
	s->last_send_mono_ns = now.mono_ns;
	if (len >= 48)
		s->last_xmt_wire = ntp_ts64_load(&buf[40]);
	if (r < 1) {
		x->st.tx_errors++;
		log_limited(LOG_KEY_NET_SEND, LOG_WARNING, "cannot send to %s: %s",
			    gn_addr_port_str(&snd->to, as, sizeof as), strerror(r < 0 ? -r : EAGAIN));
	} else {
		x->st.tx_packets++;
	}
}

static void queue_answer(struct exec *x, const struct eng_send *snd)
{
	struct srv_sock *s = srv_for_family(x, snd->to.family);
	if (!s) {
		x->st.tx_errors++;
		return;
	}
	if (s->n_out >= EXEC_TX_CHUNK)
		flush_srv(x, s);
	struct pending_tx *p = &s->out[s->n_out++];
	size_t len = snd->len <= ENG_MAX_PKT ? snd->len : ENG_MAX_PKT;
	memcpy(p->buf, snd->buf, len);
	memset(&p->tx, 0, sizeof p->tx);
	p->tx.len = len;
	p->tx.to = snd->to;
	p->tx.local = snd->local;
	p->tx.ifindex = snd->ifindex;
	p->stamp_xmt = snd->stamp_xmt;
}

/* ---------------------------------------------------------------- actions */

static int log_level_of(enum eng_log_level l)
{
	switch (l) {
	case ENG_LOG_ERR: return LOG_ERR;
	case ENG_LOG_WARNING: return LOG_WARNING;
	case ENG_LOG_NOTICE: return LOG_NOTICE;
	case ENG_LOG_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

static void describe_adj(const struct clk_adj *a, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = '\0';
#define ADD(...) do { if (o < cap) o += (size_t)snprintf(buf + o, cap - o, __VA_ARGS__); } while (0)
	if (a->modes & CLK_ADJ_FREQ) ADD(" freq %+.3f ppm", a->freq_ppm);
	if (a->modes & CLK_ADJ_TICK) ADD(" tick %d us", a->tick_us);
	if (a->modes & CLK_ADJ_OFFSET) ADD(" pll-offset %+.9f s", (double)a->offset_ns / 1e9);
	if (a->modes & CLK_ADJ_SINGLESHOT) ADD(" slew %+.6f s", (double)a->offset_ns / 1e9);
	if (a->modes & CLK_ADJ_STATUS) ADD(" status 0x%04x", a->status);
	if (a->modes & CLK_ADJ_TIMECONST) ADD(" tc %d", a->pll_constant);
	if (a->modes & CLK_ADJ_MAXERROR) ADD(" maxerror %lld us", (long long)a->maxerror_us);
	if (a->modes & CLK_ADJ_ESTERROR) ADD(" esterror %lld us", (long long)a->esterror_us);
#undef ADD
	if (buf[0] == ' ')
		memmove(buf, buf + 1, strlen(buf));
}

static void do_adjust(struct exec *x, const struct clk_adj *adj)
{
	char d[256];
	struct clk_state st;
	describe_adj(adj, d, sizeof d);
	if ((adj->modes & CLK_ADJ_FREQ) &&
	    !(adj->freq_ppm >= -CLK_MAX_FREQ_PPM && adj->freq_ppm <= CLK_MAX_FREQ_PPM))
		log_limited(LOG_KEY_CLOCK_RANGE, LOG_WARNING,
			    "the engine asked for a frequency of %g ppm: beyond ±500 ppm, clamped "
			    "(or ignored if not a number) as the kernel would", adj->freq_ppm);
	int r = os_clock_adjust(x->p.clock, adj, &st);
	if (r < 0) {
		x->st.clock_errors++;
		log_limited(LOG_KEY_CLOCK, LOG_ERR, "cannot adjust the %s clock (%s): %s",
			    x->p.clock->name, d, strerror(-r));
		return;
	}
	x->st.clock_adjustments++;
	if (adj->modes & (CLK_ADJ_OFFSET | CLK_ADJ_SINGLESHOT))
		x->clock_set = true;
	if (!x->p.clock->touches_system)
		log_debug("-X: would adjust the system clock: %s (applied to the software clock)", d);
	else
		log_debug("clock adjusted: %s", d);
}

static void do_step(struct exec *x, int64_t delta_ns)
{
	int r = os_clock_step(x->p.clock, delta_ns);
	if (r < 0) {
		x->st.clock_errors++;
		log_limited(LOG_KEY_CLOCK, LOG_ERR, "cannot step the %s clock by %+.6f s: %s",
			    x->p.clock->name, (double)delta_ns / 1e9, strerror(-r));
		return;
	}
	x->st.clock_steps++;
	x->clock_set = true;
	if (!x->p.clock->touches_system)
		log_notice("-X: would step the system clock by %+.6f s (stepped the software clock)",
			   (double)delta_ns / 1e9);
	else
		log_info("stepped the clock by %+.6f s", (double)delta_ns / 1e9);
	struct eng_now now;
	if (exec_now(x, &now) == 0)
		eng_on_clock_stepped(x->p.eng, &now, delta_ns, false);
	(void)os_clock_take_external_step(x->p.clock); /* our step is not someone else's */
}

static void close_assoc(struct exec *x, uint32_t assoc_id)
{
	struct assoc_slot *s = slot_find(x, assoc_id);
	if (s && assoc_id != 0)
		close_slot_socket(x, s);
}

static void arm_eng_timer(struct exec *x)
{
	int64_t d = eng_next_deadline(x->p.eng);
	if (d == x->eng_timer_deadline && x->eng_timer)
		return;
	if (x->eng_timer)
		sch_timer_cancel(x->p.sch, x->eng_timer);
	x->eng_timer = 0;
	x->eng_timer_deadline = d;
	if (d != INT64_MAX)
		x->eng_timer = sch_timer_add(x->p.sch, d, eng_timer_cb, x);
}

static void run_list(struct exec *x, const struct eng_action *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct eng_action *a = &list[i];
		switch (a->kind) {
		case ENG_ACT_SEND:
			if (a->u.send.assoc_id == 0)
				queue_answer(x, &a->u.send);
			else
				send_request(x, &a->u.send);
			break;
		case ENG_ACT_CLOCK_ADJ:
			do_adjust(x, &a->u.adj);
			break;
		case ENG_ACT_CLOCK_STEP:
			flush_all(x);
			do_step(x, a->u.step_ns);
			break;
		case ENG_ACT_DRIFT:
			x->st.drift_updates++;
			if (x->p.drift)
				drift_update(x->p.drift, a->u.drift_ppm, sch_now(x->p.sch));
			break;
		case ENG_ACT_LOG: {
			char text[sizeof a->u.log.text];
			memcpy(text, a->u.log.text, sizeof text);
			text[sizeof text - 1] = '\0';
			log_limited(a->u.log.key & ~LOG_KEY_DAEMON, log_level_of(a->u.log.level),
				    "%s", text);
			break;
		}
		case ENG_ACT_CLOSE:
			close_assoc(x, a->u.close_assoc_id);
			break;
		}
	}
}

void exec_run_actions(struct exec *x)
{
	if (!x->announced_soft && !x->p.clock->touches_system) {
		x->announced_soft = true;
		log_info("-X: disciplining a software clock; the system clock is never changed");
	}
	for (int round = 0; round < ACTION_ROUNDS; round++) {
		const struct eng_action *list;
		size_t n = eng_actions(x->p.eng, &list);
		if (n == 0)
			break;
		/* Actions that call back into the engine (a step: eng_on_clock_stepped) may add to
		 * its list while it is being executed: then execute a copy. Otherwise (nearly
		 * always: server answers) execute the engine's list where it is. */
		bool reenters = false;
		for (size_t i = 0; i < n; i++)
			if (list[i].kind == ENG_ACT_CLOCK_STEP)
				reenters = true;
		if (!reenters) {
			run_list(x, list, n);
			eng_clear_actions(x->p.eng);
			continue;
		}
		if (n > x->acts_cap) {
			struct eng_action *na = realloc(x->acts, n * sizeof *na);
			if (!na) {
				eng_clear_actions(x->p.eng);
				break;
			}
			x->acts = na;
			x->acts_cap = n;
		}
		memcpy(x->acts, list, n * sizeof *list);
		eng_clear_actions(x->p.eng);
		run_list(x, x->acts, n);
	}
	if (!x->in_rx_batch)
		flush_all(x);
	arm_eng_timer(x);
}

static void eng_timer_cb(void *ctx, uint64_t id, int64_t now_mono_ns)
{
	struct exec *x = ctx;
	struct eng_now now;
	(void)id;
	(void)now_mono_ns;
	x->eng_timer = 0;
	x->eng_timer_deadline = INT64_MAX;
	if (exec_now(x, &now) != 0)
		return;
	eng_on_timer(x->p.eng, &now);
	exec_run_actions(x);
}

void exec_check_external_step(struct exec *x)
{
	struct eng_now now;
	/* A step shows in a reading of the clock pair (exec_now): one made since the last
	 * check is enough. A busy server's loop makes none (answers need only the real clock,
	 * for their stamps), so then read the pair here, but at most once per
	 * EXEC_STEP_CHECK_NS of the loop's time rather than after every wake-up. */
	int64_t t = sch_now(x->p.sch);
	if (!x->clock_read) {
		if (t >= x->step_check_mono_ns && t - x->step_check_mono_ns < EXEC_STEP_CHECK_NS)
			return;
		if (exec_now(x, &now) != 0)
			return;
	}
	x->step_check_mono_ns = t;
	x->clock_read = false;
	int64_t d = os_clock_take_external_step(x->p.clock);
	if (d == 0)
		return;
	if (exec_now(x, &now) != 0)
		return;
	x->clock_read = false;
	x->st.external_steps++;
	/* The engine says what the step was (the kernel's leap second, or someone else's step
	 * and what it does about it), so this line is only for debugging. */
	log_limited(LOG_KEY_STEP_SEEN, LOG_DEBUG, "the %s clock moved by %+.6f s outside gnomond",
		    x->p.clock->name, (double)d / 1e9);
	eng_on_clock_stepped(x->p.eng, &now, d, true);
	exec_run_actions(x);
}

/* ---------------------------------------------------------------- receiving */

/* A received datagram as the engine takes it, or false to skip it: counted; truncated,
 * or arriving on an address the interface rules do not listen on (server sockets only),
 * or the clock unreadable. Its receive time on the disciplined clock is the kernel's
 * stamp if there is one, else the batch's clock reading (read once, on first need). */
static bool rx_take(struct exec *x, const struct os_net_rx *r, uint32_t assoc_id,
		    struct eng_now *now, bool *have_now, struct eng_rx *erx)
{
	x->st.rx_packets++;
	if (r->truncated) {
		x->st.rx_truncated++;
		return false; /* larger than any NTP packet we accept */
	}
	if (assoc_id == 0 && x->p.cfg->n_interfaces) {
		char ifname[32] = "";
		if (x->any_ifname_rule)
			os_net_ifname(r->ifindex, ifname, sizeof ifname);
		if (!exec_iface_accepts(x->p.cfg, &r->local, ifname)) {
			x->st.rx_filtered++;
			return false;
		}
	}
	*erx = (struct eng_rx){
		.buf = r->buf, .len = r->len, .from = r->from, .local = r->local,
		.assoc_id = assoc_id, .ifindex = r->ifindex,
	};
	if (r->have_kernel_ts) {
		x->st.rx_kernel_ts++;
		erx->rx_ns = os_clock_map_kernel(x->p.clock, r->kernel_ts_ns);
		return true;
	}
	if (!*have_now) {
		if (exec_now(x, now) != 0)
			return false;
		*have_now = true;
	}
	erx->rx_ns = now->real_ns;
	return true;
}

/* The server socket's receive path (docs/server.md, "The answer path"): each request is
 * answered by eng_serve straight into the socket's next send slot, with its kernel receive
 * stamp for "now": no action list and, when every datagram has a kernel stamp, no clock
 * reading until the slot's sendmmsg stamps the answers (flush_srv). */
static void deliver_server(struct exec *x, struct srv_sock *s)
{
	for (int b = 0; b < RX_BATCHES_PER_WAKE; b++) {
		int n = x->net.recv(x->net.ctx, s->fd, x->rx, OS_NET_BATCH);
		if (n < 0) {
			x->st.rx_errors++;
			log_limited(LOG_KEY_NET_RECV, LOG_WARNING, "receive failed: %s", strerror(-n));
			return;
		}
		struct eng_now now;
		bool have_now = false;
		for (int i = 0; i < n; i++) {
			const struct os_net_rx *r = &x->rx[i];
			struct eng_rx erx;
			if (!rx_take(x, r, 0, &now, &have_now, &erx))
				continue;
			if (s->n_out >= EXEC_TX_CHUNK)
				flush_srv(x, s);
			struct pending_tx *p = &s->out[s->n_out];
			size_t len = eng_serve(x->p.eng, erx.rx_ns, &erx, p->buf, sizeof p->buf,
					       &p->stamp_xmt);
			if (len == 0)
				continue; /* dropped, and counted by the server */
			memset(&p->tx, 0, sizeof p->tx);
			p->tx.len = len;
			p->tx.to = r->from;
			p->tx.local = r->local;
			p->tx.ifindex = r->ifindex;
			s->n_out++;
		}
		flush_srv(x, s); /* the batch's last answers (earlier ones left in chunks) */
		if (n < OS_NET_BATCH)
			break;
	}
}

/* An association's socket: answers to our requests go to the engine one by one, with the
 * engine's actions run after each. A source that does not answer is logged by the engine
 * ("no response from", once, as it knows the reach register); here an ICMP port
 * unreachable is only counted. */
static void deliver_client(struct exec *x, int fd, struct assoc_slot *slot)
{
	uint32_t assoc_id = slot->assoc_id;
	for (int b = 0; b < RX_BATCHES_PER_WAKE; b++) {
		int n = x->net.recv(x->net.ctx, fd, x->rx, OS_NET_BATCH);
		if (n < 0) {
			if (n == -ECONNREFUSED) {
				x->st.rx_refused++;
				continue; /* the error is consumed; there may be data behind it */
			}
			x->st.rx_errors++;
			log_limited(LOG_KEY_NET_RECV, LOG_WARNING, "receive failed: %s", strerror(-n));
			return;
		}
		/* One clock reading for the batch: each datagram has its own kernel stamp. */
		struct eng_now now;
		if (n > 0 && exec_now(x, &now) != 0)
			return;
		bool have_now = true;
		x->in_rx_batch = true;
		for (int i = 0; i < n; i++) {
			struct eng_rx erx;
			if (!rx_take(x, &x->rx[i], assoc_id, &now, &have_now, &erx))
				continue;
			eng_on_packet(x->p.eng, &now, &erx);
			exec_run_actions(x);
			if (slot->fd != fd)
				break; /* the engine replaced or closed this socket: the rest is stale */
		}
		x->in_rx_batch = false;
		flush_all(x);
		if (n < OS_NET_BATCH || slot->fd != fd)
			break;
	}
}

static void server_readable(void *ctx, int fd, short revents)
{
	struct srv_sock *s = ctx;
	(void)revents;
	(void)fd;
	deliver_server(s->x, s);
}

static void client_readable(void *ctx, int fd, short revents)
{
	struct assoc_slot *s = ctx;
	struct exec *x = s->x;
	if (revents & POLLERR) {
		gn_time_ns ts;
		for (int i = 0; i < 4; i++) {
			int r = x->net.read_errqueue(x->net.ctx, fd, &ts);
			if (r == 1) {
				x->st.tx_timestamps++;
				eng_on_tx_timestamp(x->p.eng, s->assoc_id, s->last_xmt_wire,
						    os_clock_map_kernel(x->p.clock, ts));
				continue;
			}
			if (r == -ECONNREFUSED)
				x->st.rx_refused++;
			break;
		}
	}
	if (revents & (POLLIN | POLLERR)) {
		deliver_client(x, fd, s);
	}
}

bool exec_add_server_fd(struct exec *x, int fd)
{
	struct gn_addr local;
	if (x->n_srv >= SRV_FAMILIES || x->net.local_addr(x->net.ctx, fd, &local) != 0)
		return false;
	struct srv_sock *s = &x->srv[x->n_srv];
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->family = local.family;
	s->x = x;
	if (sch_fd_add(x->p.sch, fd, POLLIN, server_readable, s) != 0)
		return false;
	x->n_srv++;
	return true;
}
