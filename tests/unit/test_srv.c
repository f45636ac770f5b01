/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_srv: the server side against the golden vectors (tests/data/vectors, captured from
 * chrony 4.3 and NTPsec 1.2.2): answers byte for byte where the system variables are the
 * same, the version echoed, which versions and modes get nothing, the RATE kiss exactly as
 * NTPsec sends it, no answer to a MAC; then restrict flags, unsynchronised answers, root
 * dispersion growth, counters, and a random-input run that checks no answer is ever larger
 * than its request.
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

#include "cfg.h"
#include "pkt.h"
#include "rlim.h"
#include "srv.h"
#include "tvec.h"

#define T0_NS (1795304652LL * GN_NS_PER_S) /* around the time the vectors were captured */

static struct cfg *new_cfg(void)
{
	struct cfg *c = malloc(sizeof *c);
	assert_non_null(c);
	cfg_defaults(c);
	return c;
}

static void add_restrict(struct cfg *c, const char *addr, uint32_t flags)
{
	struct cfg_restrict *r = &c->restricts[c->n_restricts++];
	memset(r, 0, sizeof *r);
	r->flags = flags;
	if (strcmp(addr, "default") == 0) {
		r->match = CFG_RES_DEFAULT;
		return;
	}
	struct gn_addr a;
	assert_true(gn_addr_parse(addr, 0, &a));
	r->match = CFG_RES_PREFIX;
	r->family = a.family;
	r->prefix.family = a.family;
	memcpy(r->prefix.addr, a.addr, 16);
	r->prefix.prefix_len = a.family == 4 ? 32 : 128;
}

static struct gn_addr addr(const char *s, uint16_t port)
{
	struct gn_addr a;
	assert_true(gn_addr_parse(s, port, &a));
	return a;
}

static struct srv_sysvars sync_sys(void)
{
	struct srv_sysvars s = {
		.leap = PKT_LI_NONE, .stratum = 1, .precision_log2 = -25,
		.rootdelay_s = 0, .rootdisp_s = 0, .update_ns = T0_NS,
		.refid = 0x7f7f0101, .reftime = 0,
	};
	return s;
}

static void req48(uint8_t *b, uint8_t first, uint64_t xmt)
{
	memset(b, 0, 48);
	b[0] = first;
	b[2] = 6;
	b[3] = 0xec;
	ntp_ts64_store(b + 40, xmt);
}

static enum srv_verdict handle(struct srv *s, const struct srv_sysvars *sys, const uint8_t *req,
			       size_t len, const struct gn_addr *from, gn_time_ns t,
			       uint8_t *reply, size_t *rlen)
{
	enum srv_verdict v = srv_handle(s, sys, req, len, from, t, t + 1000, reply, 1024, rlen);
	if (v == SRV_ANSWER || v == SRV_KOD) {
		assert_int_equal(*rlen, PKT_HEADER_LEN);
		assert_true(*rlen <= len);
	} else {
		assert_int_equal(*rlen, 0);
	}
	return v;
}

/* --- vectors --- */

/* The system variables a real server had, read off its reply. */
static struct srv_sysvars sys_from_reply(const uint8_t *r, gn_time_ns now)
{
	struct srv_sysvars s;
	memset(&s, 0, sizeof s);
	s.leap = r[0] >> 6;
	s.stratum = r[1] == 0 ? 16 : r[1];
	s.precision_log2 = (int8_t)r[3];
	s.rootdelay_s = ntp_short32_to_s(ntp_short32_load(r + 4));
	s.rootdisp_s = ntp_short32_to_s(ntp_short32_load(r + 8));
	s.refid = ntp_u32_load(r + 12);
	s.reftime = ntp_ts64_load(r + 16);
	s.update_ns = now + 1000;   /* no dispersion growth */
	return s;
}

/* Every request/reply pair of server-responses.json: with the real server's system
 * variables our answer equals its reply in all octets but rec and xmt. */
static void test_vectors_answers(void **state)
{
	(void)state;
	struct tjson *f = tvec_load("server-responses.json");
	const struct tjson *vs = tvec_vectors(f);
	struct cfg *c = new_cfg();
	unsigned compared = 0;
	for (size_t i = 0; i < tjson_count(vs); i++) {
		const struct tjson *pk = tvec_packets(tjson_at(vs, i));
		for (size_t k = 0; k + 1 < tjson_count(pk); k++) {
			const struct tjson *q = tjson_at(pk, k), *a = tjson_at(pk, k + 1);
			if (strcmp(tjson_get_str(q, "direction"), "client->server") != 0 ||
			    strcmp(tjson_get_str(a, "direction"), "server->client") != 0)
				continue;
			uint8_t req[1024], want[1024], got[1024];
			long ql = tvec_hex(tjson_get_str(q, "payload_hex"), req, sizeof req);
			long al = tvec_hex(tjson_get_str(a, "payload_hex"), want, sizeof want);
			assert_true(ql >= 48 && al == 48);
			struct srv *s = srv_new(c);
			struct srv_sysvars sys = sys_from_reply(want, T0_NS);
			struct gn_addr from = addr(strchr(tjson_get_str(q, "src"), '[') ? "::1" : "127.0.0.1", 40000);
			size_t rl;
			assert_int_equal(handle(s, &sys, req, (size_t)ql, &from, T0_NS, got, &rl), SRV_ANSWER);
			assert_memory_equal(got, want, 32);     /* header, refid, reftime, org */
			assert_int_equal(ntp_ts64_load(got + 32), ntp_ts64_from_ns(T0_NS));
			assert_int_equal(ntp_ts64_load(got + 40), ntp_ts64_from_ns(T0_NS + 1000));
			srv_free(s);
			compared++;
		}
	}
	assert_true(compared >= 4);
	free(c);
	tjson_free(f);
}

/* versions.json: probes of VN 0..5 and modes 0..7 against chronyd and NTPsec. We answer
 * exactly those they answer, with the version echoed -- except mode 1, which chronyd
 * answers with mode 2 (symmetric passive: the engine's business, not srv's) and NTPsec
 * drops. */
static void test_vectors_versions(void **state)
{
	(void)state;
	struct tjson *f = tvec_load("versions.json");
	const struct tjson *vs = tvec_vectors(f);
	struct cfg *c = new_cfg();
	add_restrict(c, "127.0.0.2", CFG_RES_NOSERVE | CFG_RES_LIMITED | CFG_RES_KOD);
	add_restrict(c, "127.0.0.3", CFG_RES_NOTRUST | CFG_RES_LIMITED | CFG_RES_KOD);
	add_restrict(c, "127.0.0.4", CFG_RES_VERSION | CFG_RES_LIMITED | CFG_RES_KOD);
	unsigned answered = 0, silent = 0;
	for (size_t i = 0; i < tjson_count(vs); i++) {
		const struct tjson *pk = tvec_packets(tjson_at(vs, i));
		for (size_t k = 0; k < tjson_count(pk); k++) {
			const struct tjson *q = tjson_at(pk, k);
			if (strcmp(tjson_get_str(q, "direction"), "client->server") != 0)
				continue;
			const struct tjson *a = tjson_at(pk, k + 1);
			bool they = a && strcmp(tjson_get_str(a, "direction"), "server->client") == 0;
			uint8_t req[1024], want[1024], got[1024];
			long ql = tvec_hex(tjson_get_str(q, "payload_hex"), req, sizeof req);
			if ((req[0] & 7) == PKT_MODE_SYM_ACTIVE)
				continue;
			char host[64];
			snprintf(host, sizeof host, "%s", tjson_get_str(q, "src"));
			*strrchr(host, ':') = '\0';
			struct gn_addr from = addr(host, 40000);
			struct srv *s = srv_new(c);
			struct srv_sysvars sys = sync_sys();
			size_t rl;
			enum srv_verdict v = handle(s, &sys, req, (size_t)ql, &from, T0_NS, got, &rl);
			if (they) {
				assert_true(tvec_hex(tjson_get_str(a, "payload_hex"), want, sizeof want) == 48);
				if (v != SRV_ANSWER)
					fail_msg("%s: request %02x from %s: %s, the real server answered",
						 tjson_get_str(tjson_at(vs, i), "id"), req[0], host,
						 srv_verdict_name(v));
				assert_int_equal(got[0] & 0x3f, want[0] & 0x3f);        /* VN, mode */
				assert_memory_equal(got + 24, want + 24, 8);          /* org */
				answered++;
			} else {
				if (v == SRV_ANSWER || v == SRV_KOD)
					fail_msg("%s: request %02x from %s answered, the real server was silent",
						 tjson_get_str(tjson_at(vs, i), "id"), req[0], host);
				silent++;
			}
			srv_free(s);
		}
	}
	assert_true(answered >= 20);
	assert_true(silent >= 10);
	free(c);
	tjson_free(f);
}

/* kod.json: every RATE kiss NTPsec sent is exactly the one srv builds for that request,
 * when the request is the first one over the limit. */
static void test_vectors_kod(void **state)
{
	(void)state;
	struct tjson *f = tvec_load("kod.json");
	const struct tjson *vs = tvec_vectors(f);
	struct cfg *c = new_cfg();
	add_restrict(c, "default", CFG_RES_LIMITED | CFG_RES_KOD);
	c->ratelimit.average_log2 = 2;
	c->ratelimit.burst = 2;
	c->ratelimit.set = true;
	unsigned kisses = 0;
	for (size_t i = 0; i < tjson_count(vs); i++) {
		const struct tjson *pk = tvec_packets(tjson_at(vs, i));
		for (size_t k = 0; k + 1 < tjson_count(pk); k++) {
			const struct tjson *q = tjson_at(pk, k), *a = tjson_at(pk, k + 1);
			if (strcmp(tjson_get_str(q, "direction"), "client->server") != 0 ||
			    strcmp(tjson_get_str(a, "direction"), "server->client") != 0)
				continue;
			uint8_t req[1024], want[1024], got[1024], first[48];
			long ql = tvec_hex(tjson_get_str(q, "payload_hex"), req, sizeof req);
			assert_true(tvec_hex(tjson_get_str(a, "payload_hex"), want, sizeof want) == 48);
			if (ntp_u32_load(want + 12) != pkt_refid_ascii("RATE"))
				continue;
			struct srv *s = srv_new(c);
			struct srv_sysvars sys = sync_sys();
			struct gn_addr from = addr("127.0.0.1", 40000);
			size_t rl;
			req48(first, 0xe3, 1);
			assert_int_equal(handle(s, &sys, first, 48, &from, T0_NS, got, &rl), SRV_ANSWER);
			/* 10 ms later: under the minimum headway, the first drop, so a kiss. */
			assert_int_equal(handle(s, &sys, req, (size_t)ql, &from, T0_NS + 10000000, got, &rl),
					 SRV_KOD);
			assert_memory_equal(got, want, 48);
			kisses++;
			srv_free(s);
		}
	}
	assert_true(kisses >= 4);
	free(c);
	tjson_free(f);
}

/* auth.json: a request with a MAC gets nothing until authentication exists (chrony and
 * NTPsec answer an unknown key with nothing either). */
static void test_vectors_mac_dropped(void **state)
{
	(void)state;
	struct tjson *f = tvec_load("auth.json");
	const struct tjson *vs = tvec_vectors(f);
	struct cfg *c = new_cfg();
	struct srv *s = srv_new(c);
	struct srv_sysvars sys = sync_sys();
	struct gn_addr from = addr("127.0.0.1", 40000);
	unsigned n = 0;
	for (size_t i = 0; i < tjson_count(vs); i++) {
		const struct tjson *pk = tvec_packets(tjson_at(vs, i));
		for (size_t k = 0; k < tjson_count(pk); k++) {
			const struct tjson *q = tjson_at(pk, k);
			if (strcmp(tjson_get_str(q, "direction"), "client->server") != 0)
				continue;
			uint8_t req[1024], got[1024];
			long ql = tvec_hex(tjson_get_str(q, "payload_hex"), req, sizeof req);
			assert_true(ql > 48);
			size_t rl;
			assert_int_equal(handle(s, &sys, req, (size_t)ql, &from, T0_NS, got, &rl), SRV_DROP_AUTH);
			n++;
		}
	}
	assert_true(n >= 20);
	assert_int_equal(srv_stats(s)->verdicts[SRV_DROP_AUTH], n);
	assert_int_equal(srv_stats(s)->answered, 0);
	srv_free(s);
	free(c);
	tjson_free(f);
}

/* --- crafted --- */

static void test_versions_modes(void **state)
{
	(void)state;
	static const struct { uint8_t first; enum srv_verdict want; } cases[] = {
		{ 0xe3, SRV_ANSWER }, { 0x23, SRV_ANSWER }, { 0xdb, SRV_ANSWER }, { 0x13, SRV_ANSWER },
		{ 0x0b, SRV_ANSWER }, { 0x08, SRV_ANSWER }, /* VN1 mode 0: a client request */
		{ 0x10, SRV_DROP_MODE }, { 0x20, SRV_DROP_MODE }, { 0x18, SRV_DROP_MODE },
		{ 0x03, SRV_DROP_VERSION }, { 0x2b, SRV_DROP_VERSION }, { 0x3b, SRV_DROP_VERSION },
		{ 0x33, SRV_DROP_VERSION },
		{ 0x27, SRV_DROP_MODE }, { 0x17, SRV_DROP_MODE }, { 0x07, SRV_DROP_MODE },
		{ 0x21, SRV_DROP_MODE }, { 0x22, SRV_DROP_MODE }, { 0x24, SRV_DROP_MODE },
		{ 0x25, SRV_DROP_MODE }, { 0x26, SRV_DROP_CONTROL }, { 0x16, SRV_DROP_CONTROL },
	};
	struct cfg *c = new_cfg();
	struct srv *s = srv_new(c);
	struct srv_sysvars sys = sync_sys();
	struct gn_addr from = addr("192.0.2.10", 123);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t req[48], got[64];
		size_t rl;
		req48(req, cases[i].first, 0x1122334455667788ULL);
		/* each from its own address: no rate state in play */
		from.addr[3] = (uint8_t)i;
		enum srv_verdict v = handle(s, &sys, req, 48, &from, T0_NS, got, &rl);
		if (v != cases[i].want)
			fail_msg("first octet %02x: %s, want %s", cases[i].first, srv_verdict_name(v),
				 srv_verdict_name(cases[i].want));
		if (v == SRV_ANSWER) {
			assert_int_equal(got[0] & 0x38, cases[i].first & 0x38);  /* VN echoed */
			assert_int_equal(got[0] & 7, PKT_MODE_SERVER);
		}
	}
	srv_free(s);
	free(c);
}

static void test_lengths(void **state)
{
	(void)state;
	struct cfg *c = new_cfg();
	struct srv *s = srv_new(c);
	struct srv_sysvars sys = sync_sys();
	struct gn_addr from = addr("192.0.2.1", 50000);
	uint8_t req[200], got[200];
	size_t rl;
	req48(req, 0xe3, 42);
	assert_int_equal(handle(s, &sys, req, 0, &from, T0_NS, got, &rl), SRV_DROP_MALFORMED);
	assert_int_equal(handle(s, &sys, req, 47, &from, T0_NS, got, &rl), SRV_DROP_MALFORMED);
	assert_int_equal(handle(s, &sys, req, 1, &from, T0_NS, got, &rl), SRV_DROP_MALFORMED);
	assert_int_equal(handle(s, &sys, req, 50, &from, T0_NS, got, &rl), SRV_DROP_MALFORMED);
	/* 4 octets after the header: a crypto-NAK shaped MAC -> auth */
	memset(req + 48, 0, 24);
	assert_int_equal(handle(s, &sys, req, 52, &from, T0_NS, got, &rl), SRV_DROP_AUTH);
	assert_int_equal(handle(s, &sys, req, 68, &from, T0_NS, got, &rl), SRV_DROP_AUTH);
	/* One extension field of 28 octets (RFC 7822 §3), no MAC: answered, 48 octets. */
	size_t used = 48;
	uint8_t body[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_true(pkt_append_ef(req, sizeof req, &used, 0x0104, body, sizeof body, 28));
	assert_int_equal(handle(s, &sys, req, used, &from, T0_NS + 10 * GN_NS_PER_S, got, &rl),
			 SRV_ANSWER);
	/* An extension field whose length runs past the end: malformed. */
	ntp_u16_store(req + 50, 200);
	assert_int_equal(handle(s, &sys, req, used, &from, T0_NS, got, &rl), SRV_DROP_MALFORMED);
	/* 1100 octets: too long */
	uint8_t *big = calloc(1, 1100);
	req48(big, 0xe3, 42);
	assert_int_equal(handle(s, &sys, big, 1100, &from, T0_NS, got, &rl), SRV_DROP_MALFORMED);
	free(big);
	srv_free(s);
	free(c);
}

static void test_answer_fields(void **state)
{
	(void)state;
	struct cfg *c = new_cfg();
	struct srv *s = srv_new(c);
	struct srv_sysvars sys = {
		.leap = PKT_LI_ADD, .stratum = 2, .precision_log2 = -20,
		.rootdelay_s = 0.0123, .rootdisp_s = 0.010, .update_ns = T0_NS - 1000 * GN_NS_PER_S,
		.refid = 0xc0000201, .reftime = ntp_ts64_from_ns(T0_NS - 1000 * GN_NS_PER_S),
	};
	struct gn_addr from = addr("2001:db8::99", 40123);
	uint8_t req[48], r[48];
	req48(req, 0x23, 0xdeadbeefcafef00dULL);
	req[2] = 10;    /* client poll */
	size_t rl;
	gn_time_ns rx = T0_NS + 123456789, tx = rx + 50000;
	assert_int_equal(srv_handle(s, &sys, req, 48, &from, rx, tx, r, sizeof r, &rl), SRV_ANSWER);
	assert_int_equal(r[0], (PKT_LI_ADD << 6) | (4 << 3) | 4);
	assert_int_equal(r[1], 2);
	assert_int_equal(r[2], 10);             /* poll echoed */
	assert_int_equal((int8_t)r[3], -20);
	assert_int_equal(ntp_short32_load(r + 4), ntp_short32_from_s(0.0123));
	/* dispersion grown by PHI (15 ppm) over 1000 s since the update: + 15 ms */
	double disp = ntp_short32_to_s(ntp_short32_load(r + 8));
	assert_true(fabs(disp - (0.010 + 0.015)) < 3.0 / 65536);
	assert_int_equal(ntp_u32_load(r + 12), 0xc0000201);
	assert_int_equal(ntp_ts64_load(r + 16), sys.reftime);
	assert_int_equal(ntp_ts64_load(r + 24), 0xdeadbeefcafef00dULL);
	assert_int_equal(ntp_ts64_load(r + 32), ntp_ts64_from_ns(rx));
	assert_int_equal(ntp_ts64_load(r + 40), ntp_ts64_from_ns(tx));
	/* The reply decodes as a valid mode 4 packet. */
	struct pkt p;
	assert_int_equal(pkt_decode(r, 48, &p), PKT_OK);
	assert_int_equal(p.mode, PKT_MODE_SERVER);
	srv_free(s);
	free(c);
}

static void test_unsynchronised(void **state)
{
	(void)state;
	struct cfg *c = new_cfg();
	struct srv *s = srv_new(c);
	struct gn_addr from = addr("192.0.2.1", 50000);
	static const struct { uint8_t leap, stratum; } cases[] = {
		{ PKT_LI_UNSYNC, 16 }, { PKT_LI_NONE, 16 }, { PKT_LI_UNSYNC, 3 }, { PKT_LI_NONE, 0 },
	};
	for (size_t i = 0; i < 4; i++) {
		struct srv_sysvars sys = sync_sys();
		sys.leap = cases[i].leap;
		sys.stratum = cases[i].stratum;
		sys.refid = pkt_refid_ascii("INIT");
		uint8_t req[48], r[48];
		size_t rl;
		req48(req, 0xe3, 7);
		assert_int_equal(handle(s, &sys, req, 48, &from, T0_NS + (gn_time_ns)i * 100 * GN_NS_PER_S,
					r, &rl), SRV_ANSWER);
		assert_int_equal(r[0] >> 6, PKT_LI_UNSYNC);
		assert_int_equal(r[1], 0);
		assert_int_equal(ntp_u32_load(r + 12), pkt_refid_ascii("INIT"));
	}
	srv_free(s);
	free(c);
}

static void test_restrict_flags(void **state)
{
	(void)state;
	struct cfg *c = new_cfg();
	add_restrict(c, "default", CFG_RES_IGNORE);
	add_restrict(c, "127.0.0.1", 0);
	add_restrict(c, "127.0.0.2", CFG_RES_NOSERVE);
	add_restrict(c, "127.0.0.3", CFG_RES_NOQUERY);
	add_restrict(c, "127.0.0.4", CFG_RES_NOTRUST);
	add_restrict(c, "127.0.0.5", CFG_RES_VERSION);
	add_restrict(c, "127.0.0.6", CFG_RES_NOMODIFY | CFG_RES_NOPEER | CFG_RES_NOTRAP);
	struct srv *s = srv_new(c);
	struct srv_sysvars sys = sync_sys();
	static const struct { const char *a; uint8_t first; enum srv_verdict want; } cases[] = {
		{ "127.0.0.1", 0xe3, SRV_ANSWER }, { "127.0.0.1", 0x16, SRV_DROP_CONTROL },
		{ "127.0.0.9", 0xe3, SRV_DROP_RESTRICT }, { "127.0.0.9", 0x16, SRV_DROP_RESTRICT },
		{ "127.0.0.9", 0x27, SRV_DROP_RESTRICT }, { "::1", 0xe3, SRV_DROP_RESTRICT },
		{ "127.0.0.2", 0xe3, SRV_DROP_RESTRICT }, { "127.0.0.2", 0x16, SRV_DROP_CONTROL },
		{ "127.0.0.3", 0xe3, SRV_ANSWER }, { "127.0.0.3", 0x16, SRV_DROP_RESTRICT },
		{ "127.0.0.4", 0xe3, SRV_DROP_RESTRICT },
		{ "127.0.0.5", 0x1b, SRV_DROP_RESTRICT }, { "127.0.0.5", 0x23, SRV_ANSWER },
		{ "127.0.0.6", 0xe3, SRV_ANSWER },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t req[48], r[48];
		size_t rl;
		struct gn_addr from = addr(cases[i].a, 40000);
		req48(req, cases[i].first, 99);
		enum srv_verdict v = handle(s, &sys, req, 48, &from, T0_NS + (gn_time_ns)i * 100 * GN_NS_PER_S,
					    r, &rl);
		if (v != cases[i].want)
			fail_msg("%s %02x: %s, want %s", cases[i].a, cases[i].first, srv_verdict_name(v),
				 srv_verdict_name(cases[i].want));
	}
	struct gn_addr a2 = addr("127.0.0.2", 1);
	assert_int_equal(srv_restrict_flags(s, &a2), CFG_RES_NOSERVE);
	srv_free(s);
	free(c);
}

/* A client bursting every 100 ms with `limited kod`: drops and kisses counted, kisses at
 * most one per 4 drops and 8 s apart (cfg_defaults: kod 3), the first drop kissed. */
static void test_rate_and_counters(void **state)
{
	(void)state;
	struct cfg *c = new_cfg();
	add_restrict(c, "default", CFG_RES_LIMITED | CFG_RES_KOD);
	struct srv *s = srv_new(c);
	struct srv_sysvars sys = sync_sys();
	struct gn_addr from = addr("198.51.100.5", 123);
	unsigned ans = 0, kod = 0, drop = 0, first_kod_at = 0;
	gn_time_ns last_kod = 0;
	for (unsigned i = 0; i < 600; i++) {
		uint8_t req[48], r[48];
		size_t rl;
		gn_time_ns t = T0_NS + (gn_time_ns)i * 100000000;
		req48(req, 0xe3, 1000 + i);
		enum srv_verdict v = handle(s, &sys, req, 48, &from, t, r, &rl);
		if (v == SRV_ANSWER) {
			ans++;
		} else if (v == SRV_KOD) {
			if (kod == 0)
				first_kod_at = drop + 1;
			else
				assert_true(t - last_kod >= 8 * GN_NS_PER_S);
			last_kod = t;
			kod++;
			assert_int_equal(ntp_u32_load(r + 12), pkt_refid_ascii("RATE"));
			assert_int_equal(ntp_ts64_load(r + 40), 1000 + i);
		} else {
			assert_int_equal(v, SRV_DROP_RATE);
			drop++;
		}
	}
	/* 60 s at 10/s against 8 s average, 2 s minimum: few answers. */
	assert_true(ans >= 1 && ans <= 10);
	assert_int_equal(first_kod_at, 1);
	assert_true(kod >= 2 && kod <= 1 + (drop + kod) / 4);
	const struct srv_stats *st = srv_stats(s);
	assert_int_equal(st->received, 600);
	assert_int_equal(st->answered, ans);
	assert_int_equal(st->kod_sent, kod);
	assert_int_equal(st->verdicts[SRV_DROP_RATE], drop);
	assert_int_equal(st->mru_entries, 1);
	/* A well-behaved client next to it, every 16 s: always answered. */
	struct gn_addr good = addr("198.51.100.6", 123);
	for (unsigned i = 0; i < 20; i++) {
		uint8_t req[48], r[48];
		size_t rl;
		req48(req, 0x23, 5 + i);
		assert_int_equal(handle(s, &sys, req, 48, &good, T0_NS + (gn_time_ns)i * 16 * GN_NS_PER_S, r, &rl),
				 SRV_ANSWER);
	}
	/* Without `limited` nobody is limited, but everyone is counted in the MRU. */
	struct cfg *c2 = new_cfg();
	struct srv *s2 = srv_new(c2);
	for (unsigned i = 0; i < 100; i++) {
		uint8_t req[48], r[48];
		size_t rl;
		req48(req, 0xe3, 1 + i);
		assert_int_equal(handle(s2, &sys, req, 48, &from, T0_NS + i, r, &rl), SRV_ANSWER);
	}
	assert_int_equal(srv_stats(s2)->mru_entries, 1);
	/* mode 6 is rate limited too (without a kiss) */
	struct gn_addr q = addr("198.51.100.7", 40000);
	unsigned m6_rate = 0;
	for (unsigned i = 0; i < 50; i++) {
		uint8_t req[48], r[48];
		size_t rl;
		req48(req, 0x16, 1);
		enum srv_verdict v = handle(s, &sys, req, 48, &q, T0_NS + (gn_time_ns)i * 10000000, r, &rl);
		assert_true(v == SRV_DROP_CONTROL || v == SRV_DROP_RATE);
		m6_rate += v == SRV_DROP_RATE;
	}
	assert_true(m6_rate >= 45);
	srv_free(s2);
	free(c2);
	srv_free(s);
	free(c);
}

/* Random datagrams from random addresses under random restrictions: never a crash, never
 * an answer larger than the request, and the counters add up. */
static void test_random_no_amplification(void **state)
{
	(void)state;
	struct cfg *c = new_cfg();
	add_restrict(c, "default", CFG_RES_LIMITED | CFG_RES_KOD);
	add_restrict(c, "10.0.0.0", CFG_RES_NOQUERY);
	c->restricts[c->n_restricts - 1].prefix.prefix_len = 8;
	add_restrict(c, "10.1.0.0", CFG_RES_IGNORE);
	c->restricts[c->n_restricts - 1].prefix.prefix_len = 16;
	c->mru.maxdepth = 64;
	struct srv *s = srv_new(c);
	struct srv_sysvars sys = sync_sys();
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint8_t req[300], r[300];
	for (unsigned i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t len = (size_t)(x % 120);
		if (x & (1ULL << 40))
			len = 48;
		for (size_t b = 0; b < len; b++)
			req[b] = (uint8_t)(x >> (8 * (b % 8))) ^ (uint8_t)b;
		if ((x >> 20) & 1)
			req[0] = (uint8_t)((x >> 24) & 0xff);
		struct gn_addr from = { .family = 4, .port = (uint16_t)x };
		from.addr[0] = 10;
		from.addr[1] = (uint8_t)((x >> 33) & 3);
		from.addr[2] = (uint8_t)(x >> 45);
		from.addr[3] = (uint8_t)(x >> 53) & 0x7f;
		size_t rl = 9999;
		enum srv_verdict v = srv_handle(s, &sys, req, len, &from, T0_NS + (gn_time_ns)i * 1000000,
						T0_NS + (gn_time_ns)i * 1000000 + 1, r, sizeof r, &rl);
		assert_true((unsigned)v < SRV_VERDICT__COUNT);
		assert_true(rl <= len);
		if (v == SRV_ANSWER || v == SRV_KOD)
			assert_int_equal(rl, 48);
		else
			assert_int_equal(rl, 0);
	}
	const struct srv_stats *st = srv_stats(s);
	uint64_t sum = 0;
	for (int v = 0; v < SRV_VERDICT__COUNT; v++)
		sum += st->verdicts[v];
	assert_int_equal(sum, st->received);
	assert_int_equal(st->received, 200000);
	assert_int_equal(st->answered, st->verdicts[SRV_ANSWER]);
	assert_int_equal(st->kod_sent, st->verdicts[SRV_KOD]);
	assert_true(st->verdicts[SRV_ANSWER] > 0 && st->verdicts[SRV_DROP_RESTRICT] > 0);
	assert_true(st->mru_entries <= 64);
	srv_free(s);
	free(c);
}

static void test_names(void **state)
{
	(void)state;
	for (int i = 0; i < SRV_VERDICT__COUNT; i++) {
		const char *n = srv_verdict_name((enum srv_verdict)i);
		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, srv_verdict_name((enum srv_verdict)j));
	}
	assert_string_equal(srv_verdict_name(SRV_VERDICT__COUNT), "unknown");
	assert_true(srv_may_restamp(SRV_ANSWER));
	assert_false(srv_may_restamp(SRV_KOD));
}

/* Memory: the MRU is sized from `mru maxmem` (KiB) or `maxdepth`, allocated once. */
static void test_mru_sizing(void **state)
{
	(void)state;
	struct cfg *c = new_cfg();
	struct srv *s = srv_new(c);     /* default: maxmem 1024 KiB */
	assert_true(srv_memory_bytes(s) <= 1024 * 1024 + 4096);
	assert_true(srv_memory_bytes(s) >= 1024 * 1024 * 9 / 10);
	assert_int_equal(srv_stats(s)->mru_bytes, srv_memory_bytes(s));
	assert_true(srv_stats(s)->mru_capacity >= 19000);      /* 48 + 4..8 octets each */
	assert_int_equal(srv_stats(s)->mru_entries, 0);
	srv_free(s);
	c->mru.maxdepth = 1000000;
	s = srv_new(c);
	assert_non_null(s);
	print_message("MRU of 1,000,000 clients: %zu bytes (%.1f MiB), %zu bytes per entry\n",
		      srv_memory_bytes(s), srv_memory_bytes(s) / 1048576.0,
		      srv_memory_bytes(s) / 1000000);
	assert_true(srv_memory_bytes(s) <= 64u * 1024 * 1024);
	srv_free(s);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_answers),
		cmocka_unit_test(test_vectors_versions),
		cmocka_unit_test(test_vectors_kod),
		cmocka_unit_test(test_vectors_mac_dropped),
		cmocka_unit_test(test_versions_modes),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_answer_fields),
		cmocka_unit_test(test_unsynchronised),
		cmocka_unit_test(test_restrict_flags),
		cmocka_unit_test(test_rate_and_counters),
		cmocka_unit_test(test_random_no_amplification),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_mru_sizing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
