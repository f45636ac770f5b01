/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_eng_wire: the engine's additions for pools, leap seconds and the server fixes
 * (docs/leap-dns-drift.md), driven with fabricated packets and time:
 *   - eng_remove_source: the association leaves eng_sources and the polls, its socket is
 *     closed (ENG_ACT_CLOSE), a second removal or an unknown id is refused, and the address
 *     can be mobilised again as a new association;
 *   - an association a DENY kiss demobilised is listed (dead, with its kiss code) until
 *     eng_remove_source takes it (pools free its place that way), then gone;
 *   - a source that never answers is logged once ("no response from"), after a few
 *     requests;
 *   - leap by vote: a synchronised engine whose source announces an insertion serves LI 1
 *     and arms STA_INS only on the last day of the month; earlier in the month it serves
 *     LI 0 and arms nothing;
 *   - leap by file (eng_set_leap_table): unsynchronised, the file alone arms STA_INS (with
 *     STA_UNSYNC kept) on the last day, logs it, clears it at the leap, logs that;
 *     the status word written on a sync change keeps the armed bit;
 *   - the server socket: a mode 4 packet there is counted by srv (not silently dropped);
 *     a RATE kiss is not restamped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "clk.h"
#include "eng.h"
#include "leap.h"
#include "pkt.h"

#define MONO0_NS (1000LL * GN_NS_PER_S)
#define DEC31_0600 1798696800LL   /* 2026-12-31 06:00:00 UTC: the last day of a month */
#define DEC15_0600 1797314400LL   /* 2026-12-15 06:00:00 UTC */
#define JAN01_2027 1798761600LL   /* 2027-01-01 00:00:00 UTC */

struct trng { uint64_t s; };
static void trng_fill(void *ctx, void *buf, size_t len)
{
	struct trng *r = ctx;
	uint8_t *b = buf;
	for (size_t i = 0; i < len; i++) {
		uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		b[i] = (uint8_t)(z ^ (z >> 31));
	}
}

struct fx {
	struct cfg cfg;
	struct trng rng;
	struct eng *eng;
	struct eng_now now;
	struct gn_addr srv_addr;
};

static void fx_init(struct fx *f, int64_t t0_s, bool limited_kod)
{
	memset(f, 0, sizeof *f);
	cfg_defaults(&f->cfg);
	struct cfg_source *s = &f->cfg.sources[f->cfg.n_sources++];
	snprintf(s->host, sizeof s->host, "127.0.0.1");
	s->port = 12345;
	s->minpoll = 4;
	s->maxpoll = 6;
	s->iburst = true;
	s->version = 4;
	if (limited_kod) {
		struct cfg_restrict *r = &f->cfg.restricts[f->cfg.n_restricts++];
		r->match = CFG_RES_DEFAULT;
		r->flags = CFG_RES_LIMITED | CFG_RES_KOD;
	}
	f->rng.s = 7;
	f->now.real_ns = t0_s * GN_NS_PER_S;
	f->now.mono_ns = MONO0_NS;
	struct eng_params p = {
		.cfg = &f->cfg,
		.rng = { trng_fill, &f->rng },
		.precision_log2 = -20,
	};
	f->eng = eng_new(&p, &f->now);
	assert_non_null(f->eng);
	assert_true(gn_addr_parse("127.0.0.1", 12345, &f->srv_addr));
}

static void fx_advance_to(struct fx *f, int64_t mono_ns)
{
	if (mono_ns > f->now.mono_ns) {
		f->now.real_ns += mono_ns - f->now.mono_ns;
		f->now.mono_ns = mono_ns;
	}
}

/* Run timers until a request goes out (returned); *logs counts "no response" lines. */
static struct eng_send fx_next_request(struct fx *f, size_t *logs)
{
	for (int guard = 0; guard < 100000; guard++) {
		fx_advance_to(f, eng_next_deadline(f->eng));
		eng_clear_actions(f->eng);
		eng_on_timer(f->eng, &f->now);
		const struct eng_action *acts;
		size_t n = eng_actions(f->eng, &acts);
		const struct eng_send *got = NULL;
		for (size_t i = 0; i < n; i++) {
			if (logs && acts[i].kind == ENG_ACT_LOG && strstr(acts[i].u.log.text, "no response from"))
				(*logs)++;
			if (acts[i].kind == ENG_ACT_SEND && acts[i].u.send.assoc_id != 0)
				got = &acts[i].u.send;
		}
		if (got)
			return *got;
	}
	fail_msg("no request sent");
	struct eng_send none;
	memset(&none, 0, sizeof none);
	return none;
}

static void deliver(struct fx *f, uint32_t assoc_id, const struct gn_addr *from,
		    const uint8_t *buf, size_t len)
{
	struct eng_rx rx;
	memset(&rx, 0, sizeof rx);
	rx.buf = buf;
	rx.len = len;
	rx.from = *from;
	rx.rx_ns = f->now.real_ns;
	rx.assoc_id = assoc_id;
	eng_clear_actions(f->eng);
	eng_on_packet(f->eng, &f->now, &rx);
}

/* n answers from a perfect stratum 1 server with leap indicator li; the actions of the
 * last delivery stay pending. Returns whether any delivery or timer asked for STA_INS. */
static bool answer_some(struct fx *f, uint32_t id, int n, uint8_t li)
{
	bool ins = false;
	for (int i = 0; i < n; i++) {
		struct eng_send req = fx_next_request(f, NULL);
		struct pkt q, p;
		assert_int_equal(pkt_decode(req.buf, req.len, &q), PKT_OK);
		memset(&p, 0, sizeof p);
		p.li = li;
		p.vn = 4;
		p.mode = PKT_MODE_SERVER;
		p.stratum = 1;
		p.poll = 4;
		p.precision = -20;
		p.rootdisp = ntp_short32_from_s(0.0001);
		p.refid = pkt_refid_ascii("GPS\0");
		f->now.real_ns += 100000;
		f->now.mono_ns += 100000;
		p.reftime = ntp_ts64_from_ns(f->now.real_ns - GN_NS_PER_S);
		p.org = q.xmt;
		p.rec = p.xmt = ntp_ts64_from_ns(f->now.real_ns);
		uint8_t buf[48];
		size_t len = pkt_encode_header(&p, buf, sizeof buf);
		f->now.real_ns += 100000;
		f->now.mono_ns += 100000;
		deliver(f, id, &f->srv_addr, buf, len);
		const struct eng_action *acts;
		size_t na = eng_actions(f->eng, &acts);
		for (size_t k = 0; k < na; k++)
			if (acts[k].kind == ENG_ACT_CLOCK_ADJ && (acts[k].u.adj.modes & CLK_ADJ_STATUS) &&
			    (acts[k].u.adj.status & CLK_STA_INS))
				ins = true;
	}
	return ins;
}

/* The answer the server socket gives a client now. */
static struct pkt served(struct fx *f)
{
	struct pkt q, r;
	memset(&q, 0, sizeof q);
	q.vn = 4;
	q.mode = PKT_MODE_CLIENT;
	q.xmt = 0x1122334455667788ULL;
	uint8_t buf[48];
	assert_int_equal(pkt_encode_header(&q, buf, sizeof buf), 48);
	struct gn_addr client;
	assert_true(gn_addr_parse("127.0.0.9", 40000, &client));
	deliver(f, 0, &client, buf, 48);
	const struct eng_action *acts;
	assert_int_equal(eng_actions(f->eng, &acts), 1);
	assert_int_equal(pkt_decode(acts[0].u.send.buf, acts[0].u.send.len, &r), PKT_OK);
	return r;
}

/* The last CLK_ADJ_STATUS word among the pending actions, -1 if none. */
static long last_status(struct fx *f)
{
	const struct eng_action *acts;
	size_t n = eng_actions(f->eng, &acts);
	long st = -1;
	for (size_t i = 0; i < n; i++)
		if (acts[i].kind == ENG_ACT_CLOCK_ADJ && (acts[i].u.adj.modes & CLK_ADJ_STATUS))
			st = (long)acts[i].u.adj.status;
	return st;
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

static void test_remove_source(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, DEC15_0600, false);
	uint32_t id = eng_add_source_addr(f.eng, &f.now, 0, &f.srv_addr);
	assert_true(id > 0);
	(void)answer_some(&f, id, 6, PKT_LI_NONE);
	struct eng_status st;
	eng_status(f.eng, &f.now, &st);
	assert_int_equal(st.sys_peer_assoc, id);

	eng_clear_actions(f.eng);
	assert_true(eng_remove_source(f.eng, &f.now, id));
	const struct eng_action *acts;
	size_t n = eng_actions(f.eng, &acts);
	bool closed = false;
	for (size_t i = 0; i < n; i++)
		if (acts[i].kind == ENG_ACT_CLOSE && acts[i].u.close_assoc_id == id)
			closed = true;
	assert_true(closed);
	struct eng_source_info si[4];
	assert_int_equal(eng_sources(f.eng, &f.now, si, 4), 0);
	assert_false(eng_remove_source(f.eng, &f.now, id));
	assert_false(eng_remove_source(f.eng, &f.now, 9999));
	eng_status(f.eng, &f.now, &st);
	assert_int_equal(st.sys_peer_assoc, 0);

	/* no request for it any more, for an hour */
	for (int i = 0; i < 3600; i++) {
		fx_advance_to(&f, f.now.mono_ns + GN_NS_PER_S);
		eng_clear_actions(f.eng);
		eng_on_timer(f.eng, &f.now);
		n = eng_actions(f.eng, &acts);
		for (size_t k = 0; k < n; k++)
			assert_false(acts[k].kind == ENG_ACT_SEND && acts[k].u.send.assoc_id == id);
	}
	/* the slot is reused; the same address is a new association */
	uint32_t id2 = eng_add_source_addr(f.eng, &f.now, 0, &f.srv_addr);
	assert_true(id2 > id);
	assert_int_equal(eng_sources(f.eng, &f.now, si, 4), 1);
	assert_int_equal(si[0].assoc_id, id2);
	eng_free(f.eng);
}


static void test_remove_after_deny(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, DEC15_0600, false);
	uint32_t id = eng_add_source_addr(f.eng, &f.now, 0, &f.srv_addr);
	assert_true(id > 0);
	struct eng_send req = fx_next_request(&f, NULL);
	struct pkt q, p;
	assert_int_equal(pkt_decode(req.buf, req.len, &q), PKT_OK);
	memset(&p, 0, sizeof p);
	p.li = PKT_LI_UNSYNC;
	p.vn = 4;
	p.mode = PKT_MODE_SERVER;
	p.stratum = 0;
	p.refid = pkt_refid_ascii("DENY");
	p.org = q.xmt;
	p.rec = p.xmt = ntp_ts64_from_ns(f.now.real_ns);
	uint8_t buf[48];
	size_t len = pkt_encode_header(&p, buf, sizeof buf);
	deliver(&f, id, &f.srv_addr, buf, len);
	struct eng_source_info si[4];
	assert_int_equal(eng_sources(f.eng, &f.now, si, 4), 1);
	assert_true(si[0].dead);
	assert_string_equal(si[0].kod, "DENY");
	assert_int_equal(si[0].assoc_id, id);

	/* srcmgr retires it: the engine takes it, no second close (closed at the kiss) */
	eng_clear_actions(f.eng);
	assert_true(eng_remove_source(f.eng, &f.now, id));
	const struct eng_action *acts;
	assert_int_equal(eng_actions(f.eng, &acts), 0);
	assert_int_equal(eng_sources(f.eng, &f.now, si, 4), 0);
	assert_false(eng_remove_source(f.eng, &f.now, id));
	assert_false(eng_remove_source(f.eng, &f.now, 0));

	/* a live association is not dead */
	struct gn_addr other;
	assert_true(gn_addr_parse("127.0.0.2", 12345, &other));
	uint32_t id2 = eng_add_source_addr(f.eng, &f.now, 0, &other);
	assert_true(id2 > id);
	assert_int_equal(eng_sources(f.eng, &f.now, si, 4), 1);
	assert_false(si[0].dead);
	eng_free(f.eng);
}

static void test_never_answered_logged_once(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, DEC15_0600, false);
	assert_true(eng_add_source_addr(f.eng, &f.now, 0, &f.srv_addr) > 0);
	size_t logs = 0;
	for (int i = 0; i < 3; i++)
		(void)fx_next_request(&f, &logs);
	assert_int_equal(logs, 0);
	for (int i = 0; i < 40; i++)
		(void)fx_next_request(&f, &logs);
	assert_int_equal(logs, 1);
	eng_free(f.eng);
}

static void test_leap_vote_window(void **state)
{
	(void)state;
	struct fx f;
	/* mid-month: the source announces a leap, but it is not served yet */
	fx_init(&f, DEC15_0600, false);
	uint32_t id = eng_add_source_addr(f.eng, &f.now, 0, &f.srv_addr);
	assert_false(answer_some(&f, id, 8, PKT_LI_ADD));
	struct eng_status st;
	eng_status(f.eng, &f.now, &st);
	assert_int_equal(st.state, ENG_SYNC);
	assert_int_equal(st.leap, PKT_LI_NONE);
	assert_int_equal(served(&f).li, PKT_LI_NONE);
	eng_free(f.eng);

	/* the last day: served and armed */
	fx_init(&f, DEC31_0600, false);
	id = eng_add_source_addr(f.eng, &f.now, 0, &f.srv_addr);
	assert_true(answer_some(&f, id, 8, PKT_LI_ADD));
	eng_status(f.eng, &f.now, &st);
	assert_int_equal(st.state, ENG_SYNC);
	assert_int_equal(st.leap, PKT_LI_ADD);
	assert_int_equal(served(&f).li, PKT_LI_ADD);
	/* every status word written while synchronised keeps STA_INS */
	(void)answer_some(&f, id, 1, PKT_LI_ADD);
	long s = last_status(&f);
	assert_true(s >= 0);
	assert_true((s & CLK_STA_INS) != 0);
	assert_true((s & CLK_STA_UNSYNC) == 0);
	eng_free(f.eng);
}

static void test_leap_file(void **state)
{
	(void)state;
	struct leap_table t;
	memset(&t, 0, sizeof t);
	t.updated_ntp_s = 3991593600LL - 86400 * 30;  /* any time before */
	t.expires_ntp_s = 4023129600LL;               /* 2027-06-28 */
	t.n = 2;
	t.e[0] = (struct leap_entry){ 3692217600LL, 37 }; /* 2017-01-01 */
	t.e[1] = (struct leap_entry){ 4007750400LL, 38 }; /* 2027-01-01: an insertion */

	struct fx f;
	fx_init(&f, DEC31_0600 - 86400, false);      /* Dec 30: not yet */
	eng_clear_actions(f.eng);
	eng_set_leap_table(f.eng, &f.now, &t);
	long s0 = last_status(&f);
	assert_true(s0 < 0 || (s0 & (CLK_STA_INS | CLK_STA_DEL)) == 0); /* not armed yet */
	/* run to the window: armed at 2026-12-31 00:00:00, with STA_UNSYNC (no source) */
	bool armed = false;
	size_t arm_logs = 0;
	for (int i = 0; i < 200000 && !armed; i++) {
		int64_t d = eng_next_deadline(f.eng);
		fx_advance_to(&f, d);
		eng_clear_actions(f.eng);
		eng_on_timer(f.eng, &f.now);
		long s = last_status(&f);
		if (s >= 0 && (s & CLK_STA_INS)) {
			armed = true;
			assert_true((s & CLK_STA_UNSYNC) != 0);
			arm_logs = count_logs(&f, "leap");
		}
	}
	assert_true(armed);
	assert_true(arm_logs >= 1);
	int64_t day_start_ns = (JAN01_2027 - 86400) * GN_NS_PER_S;
	assert_true(f.now.real_ns >= day_start_ns);
	assert_true(f.now.real_ns < day_start_ns + 2 * GN_NS_PER_S);
	/* not synchronised: the indicator served is still UNSYNC */
	struct eng_status st;
	eng_status(f.eng, &f.now, &st);
	assert_int_equal(st.leap, PKT_LI_UNSYNC);

	/* to the leap: cleared at 2027-01-01 00:00:00 and logged */
	bool cleared = false;
	for (int i = 0; i < 200000 && !cleared; i++) {
		fx_advance_to(&f, eng_next_deadline(f.eng));
		eng_clear_actions(f.eng);
		eng_on_timer(f.eng, &f.now);
		long s = last_status(&f);
		if (s >= 0 && !(s & CLK_STA_INS)) {
			cleared = true;
			assert_true(count_logs(&f, "leap") >= 1);
		}
	}
	assert_true(cleared);
	assert_true(f.now.real_ns >= JAN01_2027 * GN_NS_PER_S);
	assert_true(f.now.real_ns < (JAN01_2027 + 2) * GN_NS_PER_S);
	eng_free(f.eng);
}

static void test_server_fixes(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, DEC15_0600, true);
	struct gn_addr client;
	assert_true(gn_addr_parse("127.0.0.9", 40000, &client));
	/* a mode 4 packet on the server socket: counted by srv, nothing sent */
	uint64_t before = eng_server_stats(f.eng)->received;
	struct pkt q;
	memset(&q, 0, sizeof q);
	q.vn = 4;
	q.mode = PKT_MODE_SERVER;
	q.xmt = 0x0102030405060708ULL;
	uint8_t buf[48];
	assert_int_equal(pkt_encode_header(&q, buf, sizeof buf), 48);
	deliver(&f, 0, &client, buf, 48);
	const struct eng_action *acts;
	assert_int_equal(eng_actions(f.eng, &acts), 0);
	assert_int_equal(eng_server_stats(f.eng)->received, before + 1);

	/* `restrict default limited kod`: a burst of requests gets a RATE kiss at last,
	 * which must go out unrestamped; normal answers may be restamped */
	q.mode = PKT_MODE_CLIENT;
	bool kod = false, answer = false;
	for (int i = 0; i < 50 && !kod; i++) {
		q.xmt = 0x0102030405060708ULL + (uint64_t)i;
		assert_int_equal(pkt_encode_header(&q, buf, sizeof buf), 48);
		deliver(&f, 0, &client, buf, 48);
		size_t n = eng_actions(f.eng, &acts);
		if (n == 0)
			continue;
		struct pkt r;
		assert_int_equal(pkt_decode(acts[0].u.send.buf, acts[0].u.send.len, &r), PKT_OK);
		if (r.stratum == 0 && r.refid == pkt_refid_ascii("RATE")) {
			kod = true;
			assert_false(acts[0].u.send.stamp_xmt);
		} else {
			answer = true;
			assert_true(acts[0].u.send.stamp_xmt);
		}
		f.now.real_ns += 1000000;
		f.now.mono_ns += 1000000;
	}
	assert_true(answer);
	assert_true(kod);
	eng_free(f.eng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remove_source),
		cmocka_unit_test(test_remove_after_deny),
		cmocka_unit_test(test_never_answered_logged_once),
		cmocka_unit_test(test_leap_vote_window),
		cmocka_unit_test(test_leap_file),
		cmocka_unit_test(test_server_fixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
