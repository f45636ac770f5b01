/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_eng: the engine driven with fabricated packets and time. Requests carry a random
 * transmit field and ask for a fresh socket; answers with the wrong origin or from the
 * wrong address are dropped and counted; a good answer is accepted; RATE raises the poll,
 * DENY demobilises; an unreachable source is logged once; no sources means unsynchronised;
 * a source whose refid is our address is never selected; the server socket is answered.
 * Fix-ups: `disable ntp` selects and reports but never steers (no clock action at all);
 * the loop test covers every local address (local_refids, IPv6 by eng_addr_refid); TEST11
 * (root distance) is counted per sample; the '*' tally agrees with eng_status after a
 * step.
 * Then a small closed-loop run (one perfect server, LAN delays, kclk as the kernel) checks
 * the discipline slews 0.1 s away without a step and holds the clock to tens of µs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cfg.h"
#include "crypto_openssl.h"
#include "eng.h"
#include "kclk.h"
#include "pkt.h"

#define T0_NS (1795304652LL * GN_NS_PER_S)
#define MONO0_NS (1000LL * GN_NS_PER_S)

/* --- deterministic random source (splitmix64) --- */
struct trng { uint64_t s; };
static uint64_t trng_next(struct trng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static void trng_fill(void *ctx, void *buf, size_t len)
{
	uint8_t *b = buf;
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)trng_next(ctx);
}
static double trng_unit(struct trng *r) /* (0, 1] */
{
	return ((double)(trng_next(r) >> 11) + 1.0) / 9007199254740992.0;
}
static double trng_gauss(struct trng *r)
{
	return sqrt(-2.0 * log(trng_unit(r))) * cos(2.0 * M_PI * trng_unit(r));
}

/* --- fixtures --- */
struct fx {
	struct cfg cfg;
	struct trng rng;
	struct eng *eng;
	struct eng_now now;
	struct gn_addr srv_addr;
	unsigned n_adj, n_step, n_drift; /* clock actions seen by fx_clear */
};

/* Count the pending clock actions, then clear them. */
static void fx_clear(struct fx *f)
{
	const struct eng_action *acts;
	size_t n = eng_actions(f->eng, &acts);
	for (size_t i = 0; i < n; i++) {
		f->n_adj += acts[i].kind == ENG_ACT_CLOCK_ADJ;
		f->n_step += acts[i].kind == ENG_ACT_CLOCK_STEP;
		f->n_drift += acts[i].kind == ENG_ACT_DRIFT;
	}
	eng_clear_actions(f->eng);
}

static void fx_init_ex(struct fx *f, int minpoll, int maxpoll, bool iburst, uint32_t local_refid,
		      uint32_t enable_clear, const uint32_t *refids, unsigned n_refids)
{
	memset(f, 0, sizeof *f);
	cfg_defaults(&f->cfg);
	struct cfg_source *s = &f->cfg.sources[f->cfg.n_sources++];
	snprintf(s->host, sizeof s->host, "127.0.0.1");
	s->port = 12345;
	s->minpoll = (int8_t)minpoll;
	s->maxpoll = (int8_t)maxpoll;
	s->iburst = iburst;
	s->version = 4;
	f->rng.s = 42;
	f->now.real_ns = T0_NS;
	f->now.mono_ns = MONO0_NS;
	struct eng_params p = {
		.cfg = &f->cfg,
		.rng = { trng_fill, &f->rng },
		.precision_log2 = -20,
		.local_refid_ipv4 = local_refid,
	};
	f->cfg.enable_clear = enable_clear;
	for (unsigned i = 0; i < n_refids && i < ENG_MAX_LOCAL_REFIDS; i++)
		p.local_refids[p.n_local_refids++] = refids[i];
	f->eng = eng_new(&p, &f->now);
	assert_non_null(f->eng);
	assert_true(gn_addr_parse("127.0.0.1", 12345, &f->srv_addr));
}

static void fx_init(struct fx *f, int minpoll, int maxpoll, bool iburst, uint32_t local_refid)
{
	fx_init_ex(f, minpoll, maxpoll, iburst, local_refid, 0, NULL, 0);
}

static uint32_t fx_add(struct fx *f)
{
	uint32_t id = eng_add_source_addr(f->eng, &f->now, 0, &f->srv_addr);
	assert_true(id > 0);
	return id;
}

/* Run timers until the engine sends a request; returns a copy of it. */
static struct eng_send fx_next_request(struct fx *f)
{
	for (int guard = 0; guard < 100000; guard++) {
		int64_t d = eng_next_deadline(f->eng);
		if (d > f->now.mono_ns) {
			f->now.real_ns += d - f->now.mono_ns;
			f->now.mono_ns = d;
		}
		fx_clear(f);
		eng_on_timer(f->eng, &f->now);
		const struct eng_action *acts;
		size_t n = eng_actions(f->eng, &acts);
		for (size_t i = 0; i < n; i++)
			if (acts[i].kind == ENG_ACT_SEND && acts[i].u.send.assoc_id != 0)
				return acts[i].u.send;
	}
	fail_msg("no request sent");
	struct eng_send none;
	memset(&none, 0, sizeof none);
	return none;
}

/* A server answer to req, with root dispersion rootdisp_s. */
static size_t make_reply_disp(const struct eng_send *req, uint8_t stratum, uint8_t li, uint32_t refid,
			      gn_time_ns t2, gn_time_ns t3, int8_t poll, double rootdisp_s, uint8_t *buf)
{
	struct pkt q;
	assert_int_equal(pkt_decode(req->buf, req->len, &q), PKT_OK);
	struct pkt p;
	memset(&p, 0, sizeof p);
	p.li = li;
	p.vn = 4;
	p.mode = PKT_MODE_SERVER;
	p.stratum = stratum;
	p.poll = poll;
	p.precision = -20;
	p.rootdelay = 0;
	p.rootdisp = ntp_short32_from_s(rootdisp_s);
	p.refid = refid;
	p.reftime = ntp_ts64_from_ns(t2 - GN_NS_PER_S);
	p.org = q.xmt;
	p.rec = ntp_ts64_from_ns(t2);
	p.xmt = ntp_ts64_from_ns(t3);
	return pkt_encode_header(&p, buf, 48);
}

/* A server answer to req. */
static size_t make_reply(const struct eng_send *req, uint8_t stratum, uint8_t li, uint32_t refid,
			 gn_time_ns t2, gn_time_ns t3, int8_t poll, uint8_t *buf)
{
	return make_reply_disp(req, stratum, li, refid, t2, t3, poll, 0.0001, buf);
}

static void deliver(struct fx *f, uint32_t assoc_id, const struct gn_addr *from, const uint8_t *buf, size_t len)
{
	struct eng_rx rx;
	memset(&rx, 0, sizeof rx);
	rx.buf = buf;
	rx.len = len;
	rx.from = *from;
	rx.rx_ns = f->now.real_ns;
	rx.assoc_id = assoc_id;
	fx_clear(f);
	eng_on_packet(f->eng, &f->now, &rx);
}

static struct eng_source_info fx_source(struct fx *f)
{
	struct eng_source_info si[4];
	assert_int_equal(eng_sources(f->eng, &f->now, si, 4), 1);
	return si[0];
}

static size_t count_logs(struct fx *f, const char *needle)
{
	const struct eng_action *acts;
	size_t n = eng_actions(f->eng, &acts), k = 0;
	for (size_t i = 0; i < n; i++)
		if (acts[i].kind == ENG_ACT_LOG && strstr(acts[i].u.log.text, needle) != NULL)
			k++;
	return k;
}

/* --- tests --- */
static void test_request_random_xmt_fresh_socket(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 6, 10, false, 0);
	uint32_t id = fx_add(&f);
	struct eng_send a = fx_next_request(&f);
	assert_int_equal(a.assoc_id, id);
	assert_true(a.fresh_socket);
	assert_false(a.stamp_xmt);
	assert_true(gn_addr_equal(&a.to, &f.srv_addr));
	assert_int_equal(a.len, 48);
	struct pkt p;
	assert_int_equal(pkt_decode(a.buf, a.len, &p), PKT_OK);
	assert_int_equal(p.mode, PKT_MODE_CLIENT);
	assert_int_equal(p.vn, 4);
	assert_true(p.xmt != 0);
	/* the transmit field is not the clock (data minimisation, RFC 9109 spirit) */
	assert_true(llabs(ntp_ts64_diff_ns(p.xmt, ntp_ts64_from_ns(f.now.real_ns))) > GN_NS_PER_S);
	assert_true(p.org == 0 && p.rec == 0 && p.reftime == 0);
	struct eng_send b = fx_next_request(&f);
	struct pkt p2;
	assert_int_equal(pkt_decode(b.buf, b.len, &p2), PKT_OK);
	assert_true(p2.xmt != p.xmt);
	assert_int_equal(fx_source(&f).sent, 2);
	eng_free(f.eng);
}

static void test_origin_and_address_checked(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 6, 10, false, 0);
	uint32_t id = fx_add(&f);
	struct eng_send req = fx_next_request(&f);
	uint8_t buf[48];
	f.now.real_ns += 300000;
	f.now.mono_ns += 300000;

	/* wrong origin */
	struct eng_send bad = req;
	bad.buf[40] ^= 0x01;
	size_t n = make_reply(&bad, 1, 0, pkt_refid_ascii("GPS\0"), f.now.real_ns - 150000, f.now.real_ns - 150000, 6, buf);
	deliver(&f, id, &f.srv_addr, buf, n);
	struct eng_source_info s = fx_source(&f);
	assert_int_equal(s.received, 0);
	assert_int_equal(s.dropped, 1);
	assert_int_equal(s.test_fail[2], 1);
	assert_int_equal(s.reach, 0);

	/* right origin, wrong port */
	n = make_reply(&req, 1, 0, pkt_refid_ascii("GPS\0"), f.now.real_ns - 150000, f.now.real_ns - 150000, 6, buf);
	struct gn_addr other = f.srv_addr;
	other.port = 123;
	deliver(&f, id, &other, buf, n);
	s = fx_source(&f);
	assert_int_equal(s.received, 0);
	assert_int_equal(s.dropped, 2);
	assert_int_equal(s.test_fail[14], 1);

	/* right origin, right address: accepted */
	deliver(&f, id, &f.srv_addr, buf, n);
	s = fx_source(&f);
	assert_int_equal(s.received, 1);
	assert_int_equal(s.reach, 1);
	assert_int_equal(s.stratum, 1);
	assert_true(fabs(s.offset_s) < 1e-5);
	assert_true(fabs(s.delay_s - 300e-6) < 2e-6);

	/* the same answer again: a duplicate, dropped */
	deliver(&f, id, &f.srv_addr, buf, n);
	s = fx_source(&f);
	assert_int_equal(s.received, 1);
	assert_int_equal(s.test_fail[1], 1);

	/* garbage: counted as malformed, no crash */
	uint8_t junk[7] = { 1, 2, 3, 4, 5, 6, 7 };
	deliver(&f, id, &f.srv_addr, junk, sizeof junk);
	s = fx_source(&f);
	assert_int_equal(s.test_fail[0], 1);
	eng_free(f.eng);
}

static void test_kod_rate_raises_poll(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 6, 10, false, 0);
	uint32_t id = fx_add(&f);
	struct eng_send req = fx_next_request(&f);
	int before = fx_source(&f).poll_log2;
	uint8_t buf[48];
	/* a RATE kiss with the wrong origin is not believed */
	struct eng_send bad = req;
	bad.buf[44] ^= 0x80;
	size_t n = make_reply(&bad, 0, 3, pkt_refid_ascii("RATE"), f.now.real_ns, f.now.real_ns, 6, buf);
	deliver(&f, id, &f.srv_addr, buf, n);
	assert_int_equal(fx_source(&f).poll_log2, before);
	assert_string_equal(fx_source(&f).kod, "");

	n = make_reply(&req, 0, 3, pkt_refid_ascii("RATE"), f.now.real_ns, f.now.real_ns, 6, buf);
	deliver(&f, id, &f.srv_addr, buf, n);
	struct eng_source_info s = fx_source(&f);
	assert_string_equal(s.kod, "RATE");
	assert_true(s.poll_log2 > before);
	assert_int_equal(count_logs(&f, "RATE"), 1);
	/* next request comes no sooner than the new interval */
	int64_t t0 = f.now.mono_ns;
	(void)fx_next_request(&f);
	assert_true(f.now.mono_ns - t0 >= ((int64_t)GN_NS_PER_S << s.poll_log2));
	eng_free(f.eng);
}

static void test_kod_deny_demobilises(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 6, 10, false, 0);
	uint32_t id = fx_add(&f);
	struct eng_send req = fx_next_request(&f);
	uint8_t buf[48];
	size_t n = make_reply(&req, 0, 3, pkt_refid_ascii("DENY"), f.now.real_ns, f.now.real_ns, 6, buf);
	deliver(&f, id, &f.srv_addr, buf, n);
	const struct eng_action *acts;
	size_t na = eng_actions(f.eng, &acts);
	bool closed = false;
	for (size_t i = 0; i < na; i++)
		if (acts[i].kind == ENG_ACT_CLOSE && acts[i].u.close_assoc_id == id)
			closed = true;
	assert_true(closed);
	assert_string_equal(fx_source(&f).kod, "DENY");
	/* no more requests, ever */
	for (int i = 0; i < 50; i++) {
		f.now.mono_ns += 60 * GN_NS_PER_S;
		f.now.real_ns += 60 * GN_NS_PER_S;
		eng_clear_actions(f.eng);
		eng_on_timer(f.eng, &f.now);
		na = eng_actions(f.eng, &acts);
		for (size_t k = 0; k < na; k++)
			assert_false(acts[k].kind == ENG_ACT_SEND);
	}
	eng_free(f.eng);
}

static void test_unreachable_logged_once(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 4, 6, false, 0);
	uint32_t id = fx_add(&f);
	struct eng_send req = fx_next_request(&f);
	uint8_t buf[48];
	size_t n = make_reply(&req, 1, 0, pkt_refid_ascii("GPS\0"), f.now.real_ns, f.now.real_ns, 4, buf);
	f.now.real_ns += 200000;
	f.now.mono_ns += 200000;
	deliver(&f, id, &f.srv_addr, buf, n);
	assert_int_equal(count_logs(&f, "reachable"), 1);
	assert_int_equal(fx_source(&f).reach, 1);
	/* now silence for a long time: exactly one "no response" */
	size_t logs = 0;
	for (int i = 0; i < 40; i++) {
		(void)fx_next_request(&f);
		logs += count_logs(&f, "no response from 127.0.0.1:12345");
	}
	assert_int_equal(logs, 1);
	assert_int_equal(fx_source(&f).reach, 0);
	eng_free(f.eng);
}

static void test_status_unsync_without_sources(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 6, 10, false, 0);
	for (int i = 0; i < 10; i++) {
		f.now.mono_ns += 100 * GN_NS_PER_S;
		f.now.real_ns += 100 * GN_NS_PER_S;
		eng_clear_actions(f.eng);
		eng_on_timer(f.eng, &f.now);
	}
	struct eng_status st;
	eng_status(f.eng, &f.now, &st);
	assert_int_equal(st.state, ENG_UNSYNC);
	assert_int_equal(st.leap, PKT_LI_UNSYNC);
	assert_int_equal(st.stratum, 16);
	assert_int_equal(st.sys_peer_assoc, 0);
	assert_true(eng_next_deadline(f.eng) > f.now.mono_ns);
	eng_free(f.eng);
}

/* Answer n requests from a perfect server; returns the number of sends. */
static void answer_some(struct fx *f, uint32_t id, int n, uint32_t refid)
{
	for (int i = 0; i < n; i++) {
		struct eng_send req = fx_next_request(f);
		uint8_t buf[48];
		f->now.real_ns += 100000;
		f->now.mono_ns += 100000;
		size_t len = make_reply(&req, 2, 0, refid, f->now.real_ns, f->now.real_ns, 6, buf);
		f->now.real_ns += 100000;
		f->now.mono_ns += 100000;
		deliver(f, id, &f->srv_addr, buf, len);
	}
}

static void test_loop_refid_not_selected(void **state)
{
	(void)state;
	struct fx f;
	uint32_t me = 0xc0000201; /* 192.0.2.1 */
	fx_init(&f, 4, 6, true, me);
	uint32_t id = fx_add(&f);
	answer_some(&f, id, 6, me);
	struct eng_status st;
	eng_status(f.eng, &f.now, &st);
	assert_int_equal(st.state, ENG_UNSYNC);
	assert_int_equal(st.sys_peer_assoc, 0);
	struct eng_source_info s = fx_source(&f);
	assert_true(s.reach != 0);
	assert_true(s.test_fail[12] > 0);
	assert_true(s.tally != '*');
	eng_free(f.eng);

	/* the same with another refid: selected */
	fx_init(&f, 4, 6, true, me);
	id = fx_add(&f);
	answer_some(&f, id, 6, 0xc0000202);
	eng_status(f.eng, &f.now, &st);
	assert_int_equal(st.state, ENG_SYNC);
	assert_int_equal(st.sys_peer_assoc, id);
	assert_int_equal(st.stratum, 3);
	assert_int_equal(st.refid, 0x7f000001);
	assert_int_equal(fx_source(&f).tally, '*');
	eng_free(f.eng);
}

static void test_server_socket_answered(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 6, 10, false, 0);
	struct pkt q;
	memset(&q, 0, sizeof q);
	q.vn = 4;
	q.mode = PKT_MODE_CLIENT;
	q.xmt = 0x1122334455667788ULL;
	uint8_t buf[48];
	assert_int_equal(pkt_encode_header(&q, buf, sizeof buf), 48);
	struct gn_addr client;
	assert_true(gn_addr_parse("127.0.0.2", 40000, &client));
	deliver(&f, 0, &client, buf, 48);
	const struct eng_action *acts;
	size_t n = eng_actions(f.eng, &acts);
	assert_int_equal(n, 1);
	assert_int_equal(acts[0].kind, ENG_ACT_SEND);
	assert_int_equal(acts[0].u.send.assoc_id, 0);
	assert_true(gn_addr_equal(&acts[0].u.send.to, &client));
	struct pkt r;
	assert_int_equal(pkt_decode(acts[0].u.send.buf, acts[0].u.send.len, &r), PKT_OK);
	assert_int_equal(r.mode, PKT_MODE_SERVER);
	assert_int_equal(r.li, PKT_LI_UNSYNC); /* not synchronised yet */
	assert_int_equal(r.org, q.xmt);
	assert_true(acts[0].u.send.stamp_xmt); /* a normal answer may be restamped */
	/* a mode 4 packet on the server socket gets nothing */
	deliver(&f, 0, &client, acts[0].u.send.buf, acts[0].u.send.len);
	assert_int_equal(eng_actions(f.eng, &acts), 0);
	eng_free(f.eng);
}


/* eng_serve (the daemon's path) answers with the bytes and counters of eng_on_packet's
 * ENG_ACT_SEND, adds no action, and drops what eng_on_packet drops. */
static void test_server_fast_path_same_answer(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 6, 10, false, 0);
	struct pkt q;
	memset(&q, 0, sizeof q);
	q.vn = 3;
	q.mode = PKT_MODE_CLIENT;
	q.poll = 6;
	q.xmt = 0x1122334455667788ULL;
	uint8_t req[48];
	assert_int_equal(pkt_encode_header(&q, req, sizeof req), 48);
	struct gn_addr client;
	assert_true(gn_addr_parse("127.0.0.2", 40000, &client));

	deliver(&f, 0, &client, req, sizeof req);
	const struct eng_action *acts;
	assert_int_equal(eng_actions(f.eng, &acts), 1);
	struct eng_send via_action = acts[0].u.send;
	fx_clear(&f);
	uint64_t answered = eng_server_stats(f.eng)->answered;

	struct eng_rx rx = { .buf = req, .len = sizeof req, .from = client, .rx_ns = f.now.real_ns };
	uint8_t out[ENG_MAX_PKT];
	bool stamp = false;
	size_t len = eng_serve(f.eng, f.now.real_ns, &rx, out, sizeof out, &stamp);
	assert_int_equal(len, via_action.len);
	assert_memory_equal(out, via_action.buf, len);
	assert_int_equal(stamp, via_action.stamp_xmt);
	assert_true(stamp);
	assert_int_equal(eng_server_stats(f.eng)->answered, answered + 1);
	assert_int_equal(eng_actions(f.eng, &acts), 0); /* nothing for the action list */

	/* a mode 4 packet, a mode 7 packet: nothing, counted as the action path counts them */
	uint64_t received = eng_server_stats(f.eng)->received;
	rx.buf = out;
	assert_int_equal(eng_serve(f.eng, f.now.real_ns, &rx, out, sizeof out, &stamp), 0);
	assert_false(stamp);
	uint8_t mode7[48] = { 0x17 };
	rx.buf = mode7;
	assert_int_equal(eng_serve(f.eng, f.now.real_ns, &rx, out, sizeof out, &stamp), 0);
	const struct srv_stats *st = eng_server_stats(f.eng);
	assert_int_equal(st->received, received + 2);
	assert_int_equal(st->verdicts[SRV_DROP_MODE], 2);
	assert_int_equal(st->answered, answered + 1);
	assert_int_equal(eng_actions(f.eng, &acts), 0);
	eng_free(f.eng);
}

/* One answer from a server whose clock is off_s ahead of ours. */
static void answer_offset(struct fx *f, uint32_t id, double off_s)
{
	struct eng_send req = fx_next_request(f);
	uint8_t buf[48];
	int64_t off_ns = (int64_t)llround(off_s * 1e9);
	f->now.real_ns += 100000;
	f->now.mono_ns += 100000;
	size_t len = make_reply(&req, 1, 0, pkt_refid_ascii("GPS\0"), f->now.real_ns + off_ns,
				f->now.real_ns + off_ns, 4, buf);
	f->now.real_ns += 100000;
	f->now.mono_ns += 100000;
	deliver(f, id, &f->srv_addr, buf, len);
}

static bool has_action(struct fx *f, enum eng_act_kind kind, const struct eng_action **out)
{
	const struct eng_action *acts;
	size_t n = eng_actions(f->eng, &acts);
	for (size_t i = 0; i < n; i++)
		if (acts[i].kind == kind) {
			if (out)
				*out = &acts[i];
			return true;
		}
	return false;
}

static void test_step_above_threshold(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 4, 6, false, 0);
	uint32_t id = fx_add(&f);
	answer_offset(&f, id, 0.5);
	const struct eng_action *a = NULL;
	assert_true(has_action(&f, ENG_ACT_CLOCK_STEP, &a));
	assert_non_null(a);
	assert_true(llabs(a->u.step_ns - 500000000LL) < 1000);
	eng_free(f.eng);
}

static void test_panic_does_not_exit(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 4, 6, false, 0);
	uint32_t id = fx_add(&f);
	answer_offset(&f, id, 5000.0);
	assert_false(has_action(&f, ENG_ACT_CLOCK_STEP, NULL));
	assert_true(count_logs(&f, "panic") == 1);
	struct eng_status st;
	eng_status(f.eng, &f.now, &st);
	assert_int_equal(st.state, ENG_PANIC);
	assert_int_equal(st.leap, PKT_LI_UNSYNC);
	assert_int_equal(st.stratum, 16);
	assert_non_null(strstr(st.panic_reason, "tinker panic 0"));
	/* it keeps polling, logs again only after an hour */
	answer_offset(&f, id, 5000.0);
	assert_int_equal(count_logs(&f, "panic"), 0);
	/* and follows again once the sources come back within the threshold (when the wild
	 * samples have left the clock filter) */
	for (int i = 0; i < 10; i++)
		answer_offset(&f, id, 0.001);
	eng_status(f.eng, &f.now, &st);
	assert_int_equal(st.state, ENG_SYNC);
	eng_free(f.eng);
}

/* --- a closed loop: engine + kclk + a LAN ---
 * True time T; the oscillator runs at (1 + f) with f = 100 ppm plus a random walk; the
 * disciplined clock is kclk over it, started 0.1 s ahead. */
#define LAN_MAX_SRV 3
struct lan {
	struct fx f;
	struct kclk k;
	struct trng net;
	double T_s;          /* true time since start */
	double base_s;       /* oscillator reading since start */
	double freq;         /* oscillator error */
	double rw;           /* random walk, s/s per sqrt(s) */
	double d_base_s, d_exp_s;
	int steps;
	/* the servers (127.0.0.1 + i), each off_s ahead of true time; one request in flight
	 * at a time per server (LAN: answered within a millisecond) */
	unsigned nsrv;
	struct gn_addr addr[LAN_MAX_SRV];
	double off_s[LAN_MAX_SRV];
	uint32_t id[LAN_MAX_SRV];
	bool pending[LAN_MAX_SRV];
	double arrive_T[LAN_MAX_SRV];
	uint8_t reply[LAN_MAX_SRV][48];
	size_t reply_len[LAN_MAX_SRV];
};

static int64_t lan_base_ns(const struct lan *l) { return (int64_t)llround(l->base_s * 1e9); }

static double lan_err(struct lan *l) /* disciplined clock - true time, s */
{
	int64_t clock = kclk_read(&l->k, lan_base_ns(l));
	return (double)(clock - T0_NS) / 1e9 - l->T_s;
}

static void lan_advance(struct lan *l, double T)
{
	while (l->T_s < T) {
		double dt = T - l->T_s;
		if (dt > 0.5)
			dt = 0.5;
		l->base_s += dt * (1.0 + l->freq);
		l->freq += l->rw * sqrt(dt) * trng_gauss(&l->net);
		l->T_s += dt;
	}
	l->f.now.mono_ns = MONO0_NS + (int64_t)llround(l->T_s * 1e9);
	l->f.now.real_ns = kclk_read(&l->k, lan_base_ns(l));
}

static void lan_actions(struct lan *l)
{
	const struct eng_action *acts;
	size_t n = eng_actions(l->f.eng, &acts);
	for (size_t i = 0; i < n; i++) {
		const struct eng_action *a = &acts[i];
		if (a->kind == ENG_ACT_CLOCK_ADJ) {
			kclk_adjust(&l->k, lan_base_ns(l), &a->u.adj, NULL);
		} else if (a->kind == ENG_ACT_CLOCK_STEP) {
			kclk_step(&l->k, lan_base_ns(l), a->u.step_ns);
			l->steps++;
		} else if (a->kind == ENG_ACT_SEND && a->u.send.assoc_id != 0) {
			unsigned j = 0;
			while (j < l->nsrv && l->id[j] != a->u.send.assoc_id)
				j++;
			assert_true(j < l->nsrv);
			double d1 = l->d_base_s - l->d_exp_s * log(trng_unit(&l->net));
			double d2 = l->d_base_s - l->d_exp_s * log(trng_unit(&l->net));
			gn_time_ns t2 = T0_NS + (int64_t)llround((l->T_s + d1 + l->off_s[j]) * 1e9);
			l->reply_len[j] = make_reply(&a->u.send, 1, 0, pkt_refid_ascii("GPS\0"), t2, t2 + 1000, 4,
						     l->reply[j]);
			l->arrive_T[j] = l->T_s + d1 + d2 + 1e-6;
			l->pending[j] = true;
		}
	}
	eng_clear_actions(l->f.eng);
	if (n > 0) { /* actions that stepped the clock are followed by the step event */
		for (size_t i = 0; i < n; i++)
			if (acts[i].kind == ENG_ACT_CLOCK_STEP)
				fail_msg("unexpected step");
	}
}

#define LAN_WARMUP_S 3600.0 /* RMS and max after the first hour, as tests/sim measures */
struct lan_result { double rms_s, max_after_warmup_s, max_after50_s, err_at6_s; int steps; };

/* nsrv servers, server i off_s[i] ahead of true time (NULL: one exact server) */
static void lan_run_n(int minpoll, int maxpoll, enum eng_discipline dsc, double dur_s, uint64_t seed,
		      unsigned nsrv, const double *off_s, struct lan_result *res)
{
	struct lan *l = calloc(1, sizeof *l);
	assert_non_null(l);
	fx_init(&l->f, minpoll, maxpoll, true, 0);
	eng_free(l->f.eng);
	l->net.s = seed;
	l->freq = 100e-6;
	l->rw = 1e-9;
	l->d_base_s = 100e-6;
	l->d_exp_s = 100e-6;
	kclk_init(&l->k, 0);
	kclk_step(&l->k, 0, T0_NS + 100000000LL); /* +0.1 s */
	struct clk_adj st = { .modes = CLK_ADJ_STATUS, .status = CLK_STA_UNSYNC };
	kclk_adjust(&l->k, 0, &st, NULL);
	lan_advance(l, 0.0);
	struct eng_params p = {
		.cfg = &l->f.cfg, .rng = { trng_fill, &l->f.rng }, .precision_log2 = -20, .discipline = dsc,
	};
	l->f.eng = eng_new(&p, &l->f.now);
	assert_non_null(l->f.eng);
	lan_actions(l);
	assert_true(nsrv >= 1 && nsrv <= LAN_MAX_SRV);
	l->nsrv = nsrv;
	for (unsigned j = 0; j < nsrv; j++) {
		char host[32];
		snprintf(host, sizeof host, "127.0.0.%u", j + 1);
		assert_true(gn_addr_parse(host, 12345, &l->addr[j]));
		l->off_s[j] = off_s != NULL ? off_s[j] : 0.0;
		l->id[j] = eng_add_source_addr(l->f.eng, &l->f.now, 0, &l->addr[j]);
		assert_true(l->id[j] > 0);
	}
	double sum2 = 0, maxerr = 0, maxw = 0;
	unsigned nsum = 0;
	double next_meas = 1.0;
	res->err_at6_s = NAN;
	while (l->T_s < dur_s) {
		double t_dead = (double)(eng_next_deadline(l->f.eng) - MONO0_NS) / 1e9;
		double t = t_dead;
		int what = 0;
		unsigned who = 0;
		for (unsigned j = 0; j < l->nsrv; j++)
			if (l->pending[j] && l->arrive_T[j] <= t) {
				t = l->arrive_T[j];
				what = 1;
				who = j;
			}
		if (next_meas <= t) {
			t = next_meas;
			what = 2;
		}
		if (t < l->T_s)
			t = l->T_s;
		lan_advance(l, t);
		if (what == 2) {
			double e = lan_err(l);
			if (fabs(next_meas - 6.0) < 0.5)
				res->err_at6_s = e;
			if (getenv("ENG_DEBUG") && (fabs(e) > 120e-6 || fmod(next_meas, 600) < 0.5) && l->T_s > 50) {
				struct eng_status es;
				eng_status(l->f.eng, &l->f.now, &es);
				printf("T=%.0f err %.1f poll %d freq %.4f\n", l->T_s, e * 1e6, es.poll_log2, es.frequency_ppm);
			}
			if (l->T_s >= 50.0 && fabs(e) > maxerr)
				maxerr = fabs(e);
			if (l->T_s >= LAN_WARMUP_S) {
				sum2 += e * e;
				nsum++;
				if (fabs(e) > maxw)
					maxw = fabs(e);
			}
			next_meas += 1.0;
		} else if (what == 1) {
			l->pending[who] = false;
			struct eng_rx rx;
			memset(&rx, 0, sizeof rx);
			rx.buf = l->reply[who];
			rx.len = l->reply_len[who];
			rx.from = l->addr[who];
			rx.rx_ns = l->f.now.real_ns;
			rx.assoc_id = l->id[who];
			eng_on_packet(l->f.eng, &l->f.now, &rx);
			lan_actions(l);
		} else {
			eng_on_timer(l->f.eng, &l->f.now);
			lan_actions(l);
		}
	}
	res->rms_s = sqrt(sum2 / (nsum ? nsum : 1));
	res->max_after50_s = maxerr;
	res->max_after_warmup_s = maxw;
	res->steps = l->steps;
	eng_free(l->f.eng);
	free(l);
}

static void lan_run(int minpoll, int maxpoll, enum eng_discipline dsc, double dur_s, uint64_t seed,
		    struct lan_result *res)
{
	lan_run_n(minpoll, maxpoll, dsc, dur_s, seed, 1, NULL, res);
}

/* Chrony 4.3 in the same model (tests/sim/scenarios/lan-fixed.scn): 22.7 µs RMS, under
 * 1 ms 6 s after start, under 100 µs from 50 s. The simulator holds gnomon to 0.7 of that
 * over 48 h; here, in three hours of a smaller copy of the model, it must at least match
 * chrony, slew 0.1 s away within 6 s without a step, and not wander far after. */
static void test_lan_closed_loop(void **state)
{
	(void)state;
	struct lan_result r;
	double sum = 0;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		lan_run(4, 6, ENG_DSC_GNOMON, 3 * 3600.0, seed, &r);
		printf("# gnomon LAN minpoll 4 maxpoll 6 seed %llu: rms %.1f us (after 1 h), max %.1f us "
		       "(after 1 h), %.1f us (after 50 s), at 6 s %.1f us, steps %d\n",
		       (unsigned long long)seed, r.rms_s * 1e6, r.max_after_warmup_s * 1e6,
		       r.max_after50_s * 1e6, r.err_at6_s * 1e6, r.steps);
		assert_int_equal(r.steps, 0);
		assert_true(fabs(r.err_at6_s) < 1e-3);
		assert_true(r.max_after50_s < 250e-6);
		assert_true(r.max_after_warmup_s < 150e-6);
		sum += r.rms_s;
	}
	assert_true(sum / 3 < 22.7e-6);
	lan_run(6, 10, ENG_DSC_GNOMON, 6 * 3600.0, 7, &r);
	printf("# gnomon LAN default polling: rms %.1f us, max %.1f us (after 1 h)\n", r.rms_s * 1e6,
	       r.max_after_warmup_s * 1e6);
	assert_int_equal(r.steps, 0);
	assert_true(r.rms_s < 96.7e-6 * 0.7);
}

static void test_lan_rfc_reference(void **state)
{
	(void)state;
	struct lan_result r;
	lan_run(4, 6, ENG_DSC_RFC, 3 * 3600.0, 1, &r);
	printf("# RFC 5905 PLL/FLL LAN minpoll 4 maxpoll 6: rms %.1f us, max %.1f us (after 1 h), at 6 s %.1f us\n",
	       r.rms_s * 1e6, r.max_after_warmup_s * 1e6, r.err_at6_s * 1e6);
	assert_int_equal(r.steps, 0);
	/* the reference converges, slowly (phase time constant PLL * 2^poll, ~1000 s at poll
	 * 4): after the first hour it is well inside the initial 0.1 s */
	assert_true(r.max_after_warmup_s < 0.02);
}

/* The RFC reference in the default polling (minpoll 6, maxpoll 10; tests/sim lan-default):
 * its loop time constant starts at the system's MINPOLL (16 s), not at the server's
 * minpoll. Started at 64 s (phase time constant PLL * 64 s, over an hour) it let the 0.1 s
 * plus 100 ppm of drift during the stepout cross the step threshold: a step in every seed
 * of the simulator, 57 ms off after the first hour here (lan_actions fails on a step). */
static void test_lan_rfc_default_polling(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 2; seed++) {
		struct lan_result r;
		lan_run(6, 10, ENG_DSC_RFC, 4 * 3600.0, seed, &r);
		printf("# RFC 5905 PLL/FLL LAN minpoll 6 maxpoll 10, seed %u: rms %.1f us, max %.1f us (after 1 h)\n",
		       (unsigned)seed, r.rms_s * 1e6, r.max_after_warmup_s * 1e6);
		assert_int_equal(r.steps, 0);
		assert_true(r.max_after_warmup_s < 0.02);
	}
}

/* The RFC reference with three servers, one of them 50 ms ahead (tests/sim falseticker):
 * during the stepout the clock runs at the oscillator's 100 ppm, the filters' stages span
 * 13 ms, and the two truechimers' picks of different ages can fail to intersect, so the
 * engine finds no usable source for a moment. Its holdover used to zero the residual
 * the FREQ state measures the frequency against (RFC 5905 has no hold; clock_adjust
 * goes on): the next update took the 0.1 s for drift (some 300 ppm) and the clock was
 * stepped again and again (104 steps in the simulator, seed 5). Seed 5 here runs into
 * the same holdover during the stepout. */
static void test_lan_rfc_falseticker(void **state)
{
	(void)state;
	const double off[3] = { 0.0, 0.0, 0.05 };
	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct lan_result r;
		lan_run_n(4, 6, ENG_DSC_RFC, 3 * 3600.0, seed, 3, off, &r);
		printf("# RFC 5905 PLL/FLL, 3 servers, one 50 ms ahead, seed %u: rms %.1f us, max %.1f us (after 1 h)\n",
		       (unsigned)seed, r.rms_s * 1e6, r.max_after_warmup_s * 1e6);
		assert_int_equal(r.steps, 0);
		/* slow (a FREQ measurement a few ppm off takes hours to work off) but nowhere
		 * near following the 50 ms server */
		assert_true(r.max_after_warmup_s < 0.025);
	}
}

/* --- fix-ups --- */

/* The tally shows '*' exactly where eng_status says the system peer is. */
static void assert_tally_consistent(struct fx *f)
{
	struct eng_status st;
	eng_status(f->eng, &f->now, &st);
	struct eng_source_info si[8];
	size_t n = eng_sources(f->eng, &f->now, si, 8);
	for (size_t i = 0; i < n && i < 8; i++) {
		if (si[i].tally == '*')
			assert_int_equal(si[i].assoc_id, st.sys_peer_assoc);
		else
			assert_true(si[i].assoc_id != st.sys_peer_assoc);
	}
	if (st.state != ENG_SYNC && !st.ntp_disabled)
		assert_int_equal(st.sys_peer_assoc, 0);
}

/* `disable ntp`: polls, selects and reports, but not a single clock action (no frequency
 * from eng_new, no step for 0.3 s, no status bits, no drift file); unsynchronised. The
 * same run without it steps. */
static void test_disable_ntp_never_steers(void **state)
{
	(void)state;
	for (int disabled = 1; disabled >= 0; disabled--) {
		struct fx f;
		fx_init_ex(&f, 4, 6, true, 0, disabled ? CFG_EN_NTP : 0, NULL, 0);
		uint32_t id = fx_add(&f);
		for (int i = 0; i < 12; i++) {
			answer_offset(&f, id, 0.3);
			assert_tally_consistent(&f);
		}
		/* two hours of housekeeping (a drift write would be due) */
		for (int i = 0; i < 7200; i++) {
			f.now.mono_ns += GN_NS_PER_S;
			f.now.real_ns += GN_NS_PER_S;
			fx_clear(&f);
			eng_on_timer(f.eng, &f.now);
		}
		answer_offset(&f, id, 0.3);
		fx_clear(&f);
		struct eng_status st;
		eng_status(f.eng, &f.now, &st);
		struct eng_source_info s = fx_source(&f);
		assert_true(s.received >= 12);
		if (disabled) {
			assert_int_equal(f.n_adj, 0);
			assert_int_equal(f.n_step, 0);
			assert_int_equal(f.n_drift, 0);
			assert_true(st.ntp_disabled);
			assert_int_equal(st.state, ENG_UNSYNC);
			assert_int_equal(st.leap, PKT_LI_UNSYNC);
			assert_int_equal(st.stratum, 16);
			assert_int_equal(st.sys_peer_assoc, id);
			assert_true(fabs(st.offset_s - 0.3) < 1e-3);
			assert_int_equal(s.tally, '*');
			assert_true(fabs(s.offset_s - 0.3) < 1e-3);
		} else {
			assert_false(st.ntp_disabled);
			assert_true(f.n_adj > 0);
			assert_true(f.n_step > 0);
		}
		eng_free(f.eng);
	}
}

/* TEST12 against every local address: an IPv4 one and an IPv6 one (by its refid hash);
 * counted once per sample, never selected; another refid is selected. */
static void test_loop_any_local_address(void **state)
{
	(void)state;
	struct gn_addr v6;
	assert_true(gn_addr_parse("2001:db8::1", 123, &v6));
	uint32_t me6 = eng_addr_refid(&v6);
	struct gn_addr v4;
	assert_true(gn_addr_parse("192.0.2.1", 123, &v4));
	assert_int_equal(eng_addr_refid(&v4), 0xc0000201);
	uint32_t mine[2] = { 0xc0000201, me6 };
	uint32_t refids[3] = { me6, 0xc0000201, 0xc0000203 };
	for (int k = 0; k < 3; k++) {
		struct fx f;
		fx_init_ex(&f, 4, 6, true, 0, 0, mine, 2);
		uint32_t id = fx_add(&f);
		answer_some(&f, id, 6, refids[k]);
		struct eng_status st;
		eng_status(f.eng, &f.now, &st);
		struct eng_source_info s = fx_source(&f);
		assert_int_equal(s.received, 6);
		if (k < 2) {
			assert_int_equal(st.state, ENG_UNSYNC);
			assert_int_equal(st.sys_peer_assoc, 0);
			assert_int_equal(s.test_fail[12], 6);
			assert_true(s.tally != '*');
		} else {
			assert_int_equal(st.state, ENG_SYNC);
			assert_int_equal(st.sys_peer_assoc, id);
			assert_int_equal(s.test_fail[12], 0);
		}
		eng_free(f.eng);
	}
}

/* TEST11: a source whose root distance is above maxdist (root dispersion 2 s > 1.5 s) is
 * counted once per sample and never selected. */
static void test_root_distance_counted(void **state)
{
	(void)state;
	for (int far = 1; far >= 0; far--) {
		struct fx f;
		fx_init(&f, 4, 6, true, 0);
		uint32_t id = fx_add(&f);
		for (int i = 0; i < 5; i++) {
			struct eng_send req = fx_next_request(&f);
			uint8_t buf[48];
			f.now.real_ns += 100000;
			f.now.mono_ns += 100000;
			size_t len = make_reply_disp(&req, 2, 0, 0xc0000202, f.now.real_ns, f.now.real_ns, 4,
						     far ? 2.0 : 0.001, buf);
			f.now.real_ns += 100000;
			f.now.mono_ns += 100000;
			deliver(&f, id, &f.srv_addr, buf, len);
		}
		struct eng_status st;
		eng_status(f.eng, &f.now, &st);
		struct eng_source_info s = fx_source(&f);
		assert_int_equal(s.received, 5);
		assert_int_equal(s.test_fail[11], far ? 5 : 0);
		assert_int_equal(st.state, far ? ENG_UNSYNC : ENG_SYNC);
		eng_free(f.eng);
	}
}

/* The startup step (0.3 s): the selection that led to it shows no '*' once eng_status
 * says unsynchronised, nor after the step event; then synchronised again with '*'. */
static void test_no_stale_star_after_step(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 4, 6, true, 0);
	uint32_t id = fx_add(&f);
	answer_offset(&f, id, 0.3);
	const struct eng_action *a = NULL;
	assert_true(has_action(&f, ENG_ACT_CLOCK_STEP, &a));
	int64_t step = a->u.step_ns;
	struct eng_status st;
	eng_status(f.eng, &f.now, &st);
	assert_int_equal(st.sys_peer_assoc, 0);
	assert_int_equal(st.stratum, 16);
	struct eng_source_info s = fx_source(&f);
	assert_true(s.tally != '*');
	assert_tally_consistent(&f);
	/* the daemon steps, then tells the engine */
	fx_clear(&f);
	f.now.real_ns += step;
	eng_on_clock_stepped(f.eng, &f.now, step, false);
	s = fx_source(&f);
	assert_int_equal(s.tally, ' ');
	assert_tally_consistent(&f);
	for (int i = 0; i < 4; i++) {
		answer_offset(&f, id, 0.0);
		assert_tally_consistent(&f);
	}
	eng_status(f.eng, &f.now, &st);
	assert_int_equal(st.state, ENG_SYNC);
	assert_int_equal(fx_source(&f).tally, '*');
	eng_free(f.eng);
}

/* RFC 5905 §7.3: an IPv6 system peer's refid is the first four octets of the MD5 of its
 * address (::1 → cf404dc8, as ntpd computes it), through the crypto seam; IPv4 is the
 * address itself; without a seam a stable local hash stands in. */
static void test_ipv6_refid_md5(void **state)
{
	(void)state;
	struct crypto_openssl *co = crypto_openssl_new();
	assert_non_null(co);
	struct auth_crypto seam = crypto_openssl_seam(co);
	struct gn_addr v6, v4;
	assert_true(gn_addr_parse("::1", 123, &v6));
	assert_true(gn_addr_parse("192.0.2.1", 123, &v4));
	assert_int_equal(eng_addr_refid_crypto(&seam, &v6), 0xcf404dc8u);
	assert_int_equal(eng_addr_refid_crypto(&seam, &v4), 0xc0000201u);
	assert_int_equal(eng_addr_refid_crypto(NULL, &v6), eng_addr_refid(&v6));
	assert_int_not_equal(eng_addr_refid(&v6), 0xcf404dc8u);
	crypto_openssl_free(co);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_random_xmt_fresh_socket),
		cmocka_unit_test(test_origin_and_address_checked),
		cmocka_unit_test(test_kod_rate_raises_poll),
		cmocka_unit_test(test_kod_deny_demobilises),
		cmocka_unit_test(test_unreachable_logged_once),
		cmocka_unit_test(test_status_unsync_without_sources),
		cmocka_unit_test(test_loop_refid_not_selected),
		cmocka_unit_test(test_server_socket_answered),
		cmocka_unit_test(test_server_fast_path_same_answer),
		cmocka_unit_test(test_step_above_threshold),
		cmocka_unit_test(test_panic_does_not_exit),
		cmocka_unit_test(test_disable_ntp_never_steers),
		cmocka_unit_test(test_loop_any_local_address),
		cmocka_unit_test(test_ipv6_refid_md5),
		cmocka_unit_test(test_root_distance_counted),
		cmocka_unit_test(test_no_stale_star_after_step),
		cmocka_unit_test(test_lan_closed_loop),
		cmocka_unit_test(test_lan_rfc_reference),
		cmocka_unit_test(test_lan_rfc_default_polling),
		cmocka_unit_test(test_lan_rfc_falseticker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
