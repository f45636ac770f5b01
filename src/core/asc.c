/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * asc: one association (RFC 5905 §8 packet tests, §9 peer process, §13 poll process,
 * §7.4 Kiss-o'-Death), see include/core/asc.h. Every request carries 64 random bits as
 * its transmit timestamp; an answer is believed only when it comes from the server's
 * address and port and echoes those bits as its origin. Only then is a kiss believed.
 */
#include "asc.h"

#include <math.h>
#include <string.h>

#include "gn_assert.h"

void asc_init(struct asc *a, uint32_t id, unsigned cfg_index, const struct cfg_source *src,
	      const struct gn_addr *addr, int64_t now_mono_ns, uint32_t jitter_ms)
{
	memset(a, 0, sizeof *a);
	a->id = id;
	a->cfg_index = cfg_index;
	a->addr = *addr;
	a->iburst = src->iburst;
	a->burst = src->burst;
	a->prefer = src->prefer;
	a->noselect = src->noselect;
	a->minpoll = src->minpoll;
	a->maxpoll = src->maxpoll;
	if (a->minpoll < 3)  /* ntpd's floor for servers (RFC 5905 §7.2 MINPOLL 4; 3 for LAN) */
		a->minpoll = 3;
	if (a->maxpoll < a->minpoll)
		a->maxpoll = a->minpoll;
	if (a->maxpoll > 17) /* RFC 5905 §7.2 MAXPOLL */
		a->maxpoll = 17;
	a->version = src->version ? src->version : 4;
	a->stratum = ASC_MAXSTRAT;
	a->leap = PKT_LI_UNSYNC;
	a->hpoll = a->minpoll;
	flt_init(&a->flt);
	/* first poll soon, at a random point of the first second (sources never together) */
	a->next_poll_mono_ns = now_mono_ns + (int64_t)(jitter_ms % 1000) * 1000000;
}

int asc_poll_log2(const struct asc *a, int sys_poll_log2)
{
	int p = sys_poll_log2;
	if (p < a->minpoll)
		p = a->minpoll;
	if (p > a->maxpoll)
		p = a->maxpoll;
	if (a->unreach >= ASC_UNREACH) { /* back off while nobody answers */
		int b = p + (int)(a->unreach - ASC_UNREACH) / 4 + 1;
		p = b > a->maxpoll ? a->maxpoll : b;
	}
	return p;
}

size_t asc_poll(struct asc *a, ntp_ts64 xmt_wire, gn_time_ns now_real_ns, int64_t now_mono_ns,
		int sys_poll_log2, int64_t jitter_ns, uint8_t *buf, size_t cap,
		bool *became_unreachable)
{
	REQUIRE(cap >= PKT_HEADER_LEN && xmt_wire != 0);
	*became_unreachable = false;
	if (a->burst_left == 0) {
		/* a new poll: shift the reachability register (RFC 5905 §13) */
		a->reach = (uint8_t)(a->reach << 1);
		if (a->xmt_wire != 0 || a->sent == 0)
			a->unreach++;
		if (a->reach == 0 && a->was_reachable) {
			a->was_reachable = false;
			*became_unreachable = true;
		}
		if (a->reach == 0 ? a->iburst : a->burst)
			a->burst_left = ASC_BURST;
	}
	a->hpoll = (int8_t)asc_poll_log2(a, sys_poll_log2);
	if (a->burst_left > 0)
		a->burst_left--;
	if (a->burst_left > 0)
		a->next_poll_mono_ns = now_mono_ns + (int64_t)ASC_BURST_SPACING_S * GN_NS_PER_S;
	else
		a->next_poll_mono_ns = now_mono_ns + ((int64_t)GN_NS_PER_S << a->hpoll) + jitter_ns;

	/* The request: mode 3, VN as configured, the poll, and nothing else that reveals our
	 * clock (draft-ietf-ntp-data-minimization); the transmit field is random. */
	struct pkt p;
	memset(&p, 0, sizeof p);
	p.li = PKT_LI_NONE;
	p.vn = a->version;
	p.mode = PKT_MODE_CLIENT;
	p.poll = a->hpoll;
	p.xmt = xmt_wire;
	size_t n = pkt_encode_header(&p, buf, cap);
	INSIST(n == PKT_HEADER_LEN);
	a->xmt_wire = xmt_wire;
	a->xmt_ns = now_real_ns;
	a->xmt_mono_ns = now_mono_ns;
	a->sent++;
	return n;
}

static enum asc_rx drop(struct asc *a, enum asc_test t)
{
	a->dropped++;
	a->test_fail[t]++;
	return ASC_RX_DROP;
}

enum asc_rx asc_receive(struct asc *a, const uint8_t *buf, size_t len, const struct gn_addr *from,
			gn_time_ns rx_ns, int64_t now_mono_ns, int64_t now_real_ns,
			double precision_s, uint32_t local_refid, struct asc_sample *out)
{
	(void)now_real_ns;
	struct pkt p;
	if (pkt_decode(buf, len, &p) != PKT_OK)
		return drop(a, ASC_T_MALFORMED);
	/* RFC 9109: only the server's own address and port may answer */
	if (!gn_addr_equal(from, &a->addr))
		return drop(a, ASC_T_ADDR);
	if (p.mode != PKT_MODE_SERVER)
		return drop(a, ASC_T_MODE);
	if (a->xmt_wire == 0)
		return drop(a, p.xmt == a->last_rx_xmt ? ASC_T_DUP : ASC_T_BOGUS);
	/* TEST2: the origin must be the random transmit field we sent (RFC 5905 §8) */
	if (p.org != a->xmt_wire)
		return drop(a, ASC_T_BOGUS);
	a->xmt_wire = 0; /* one answer per request */

	/* Kiss-o'-Death (RFC 5905 §7.4), believed only now that the origin matched */
	if (p.stratum == 0) {
		char code[5];
		code[0] = (char)(p.refid >> 24);
		code[1] = (char)(p.refid >> 16);
		code[2] = (char)(p.refid >> 8);
		code[3] = (char)p.refid;
		code[4] = '\0';
		if (memcmp(code, "RATE", 4) == 0) {
			memcpy(a->kod, code, 5);
			/* slow down: at least one step, and at least what the server asks */
			int np = a->hpoll + 1;
			if (p.poll > np && p.poll <= 17)
				np = p.poll;
			if (np > a->maxpoll)
				a->maxpoll = (int8_t)(np > 17 ? 17 : np);
			a->minpoll = (int8_t)(np > a->maxpoll ? a->maxpoll : np);
			a->hpoll = a->minpoll;
			a->burst_left = 0;
			a->next_poll_mono_ns = now_mono_ns + ((int64_t)GN_NS_PER_S << a->hpoll);
			a->dropped++;
			return ASC_RX_KOD_RATE;
		}
		if (memcmp(code, "DENY", 4) == 0 || memcmp(code, "RSTR", 4) == 0) {
			memcpy(a->kod, code, 5);
			a->dead = true;
			a->burst_left = 0;
			a->test_fail[ASC_T_DENIED]++;
			a->dropped++;
			return ASC_RX_KOD_DENY;
		}
		/* other kiss codes, or stratum 0 without one: not a time source */
		return drop(a, ASC_T_UNSYNC);
	}
	if (p.mac.present)
		return drop(a, ASC_T_AUTH);
	if (p.xmt == a->last_rx_xmt)
		return drop(a, ASC_T_DUP);
	if (p.rec == 0 || p.xmt == 0)
		return drop(a, ASC_T_INVALID);
	if (p.stratum > ASC_MAXSTRAT)
		return drop(a, ASC_T_STRATUM);
	/* the server answered: it is reachable, whatever its state */
	a->reach |= 1;
	a->unreach = 0;
	a->was_reachable = true;
	a->last_rx_mono_ns = now_mono_ns;
	a->last_rx_xmt = p.xmt;
	a->kod[0] = '\0';
	/* TEST6 also: a reference time later than the server's transmit time means the server
	 * has not been set since (RFC 5905 A.5.1.1 "r->reftime > r->xmt"). */
	bool future_ref = p.reftime != 0 && ntp_ts64_diff_ns(p.reftime, p.xmt) > 0;
	if (p.li == PKT_LI_UNSYNC || p.stratum >= ASC_MAXSTRAT || future_ref) {
		a->leap = p.li;
		a->stratum = ASC_MAXSTRAT;
		return drop(a, ASC_T_UNSYNC);
	}
	a->received++;
	if (local_refid != 0 && p.refid == local_refid)
		a->test_fail[ASC_T_LOOP]++; /* kept, never selected (eng) */

	/* peer variables (RFC 5905 §9.1 / A.5.1.1 packet) */
	a->leap = p.li;
	a->stratum = p.stratum;
	a->ppoll = p.poll;
	a->precision = p.precision;
	a->rootdelay_s = ntp_short32_to_s(p.rootdelay);
	a->rootdisp_s = ntp_short32_to_s(p.rootdisp);
	a->refid = p.refid;
	a->reftime = p.reftime;

	/* on-wire (RFC 5905 §8): T1 our send, T2 server receive, T3 server send, T4 our receive */
	int64_t t1 = a->xmt_ns;
	int64_t t2 = ntp_ts64_to_ns(p.rec, rx_ns);
	int64_t t3 = ntp_ts64_to_ns(p.xmt, rx_ns);
	int64_t t4 = rx_ns;
	double theta = ((double)(t2 - t1) + (double)(t3 - t4)) / 2e9;
	double delta = ((double)(t4 - t1) - (double)(t3 - t2)) / 1e9;
	if (delta < precision_s)
		delta = precision_s;
	double rtt = (double)(t4 - t1) / 1e9;
	if (rtt < 0)
		rtt = 0;
	out->offset_s = theta;
	out->delay_s = delta;
	out->disp_s = ldexp(1.0, p.precision) + precision_s + FLT_PHI_S_PER_S * rtt;
	out->t_mono_ns = now_mono_ns - (int64_t)(rtt * 0.5e9);
	return ASC_RX_SAMPLE;
}

double asc_root_dist(const struct asc *a, int64_t now_mono_ns)
{
	/* lambda = max(MINDISP, rootdelay + delay) / 2 + rootdisp + epsilon + PHI * (now - t)
	 * + psi (RFC 5905 §11.2 and A.5.5.2 root_dist; epsilon grows at PHI in flt_disp_now) */
	double d = a->rootdelay_s + a->flt.delay_s;
	if (d < ASC_MINDISP_S)
		d = ASC_MINDISP_S;
	return d / 2.0 + a->rootdisp_s + flt_disp_now(&a->flt, now_mono_ns) + a->flt.jitter_s;
}

double asc_sel_dist(const struct asc *a, int64_t now_mono_ns)
{
	double d = a->rootdelay_s + a->flt.delay_s;
	if (d < ASC_MINDISP_S)
		d = ASC_MINDISP_S;
	return d / 2.0 + a->rootdisp_s + flt_disp_valid_now(&a->flt, now_mono_ns) + a->flt.jitter_s;
}

void asc_stepped(struct asc *a, int64_t delta_ns)
{
	flt_clear(&a->flt);
	a->xmt_ns += delta_ns;
}

void asc_burst_now(struct asc *a, int64_t at_mono_ns)
{
	a->xmt_wire = 0;
	/* asc_poll counts down from here without shifting reach (not a new poll) */
	a->burst_left = ASC_BURST;
	a->next_poll_mono_ns = at_mono_ns;
}

void asc_burst_stop(struct asc *a, int64_t next_mono_ns)
{
	if (a->burst_left == 0)
		return;
	a->burst_left = 0;
	a->next_poll_mono_ns = next_mono_ns;
}
