/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_rlim: the client table and rate limiter. The leaky bucket (average, burst,
 * minimum), the kiss cadence, IPv6 /64 keys, the eviction rule, a clock stepped back, and
 * a flood of 1,000,000 spoofed sources: memory flat (no allocation after rlim_new, heap
 * unchanged), hash chains short, an established client still tracked and served.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "rlim.h"
#include "srv.h"

#define S GN_NS_PER_S
#define MS 1000000LL
#define T0 (1800000000LL * S)

static struct gn_addr v4(uint32_t a)
{
	struct gn_addr g = { .family = GN_AF_INET, .port = 123 };
	g.addr[0] = (uint8_t)(a >> 24);
	g.addr[1] = (uint8_t)(a >> 16);
	g.addr[2] = (uint8_t)(a >> 8);
	g.addr[3] = (uint8_t)a;
	return g;
}

static struct rlim *mk(uint32_t cap, int8_t avg, int8_t min, uint16_t burst)
{
	struct rlim_params p;
	rlim_params_default(&p, cap);
	p.average_log2 = avg;
	p.minimum_log2 = min;
	p.burst = burst;
	struct rlim *r = rlim_new(&p);
	assert_non_null(r);
	return r;
}

/* average 2 (4 s), burst 2, minimum 0 (1 s, 0.75 s with tolerance). */
static void test_leaky_bucket(void **state)
{
	(void)state;
	struct rlim *r = mk(64, 2, 0, 2);
	struct gn_addr a = v4(0xc0000201);
	/* Two at 1 s spacing pass (burst 2), the third is over the average. */
	assert_int_equal(rlim_account(r, &a, T0, true, false), RLIM_PASS);
	assert_int_equal(rlim_account(r, &a, T0 + 1 * S, true, false), RLIM_PASS);
	assert_int_equal(rlim_account(r, &a, T0 + 2 * S, true, false), RLIM_LIMITED);
	/* Level at T0+2: 8 - 2 = 6 s; full capacity 8: room after 2 more seconds. */
	assert_int_equal(rlim_account(r, &a, T0 + 3 * S, true, false), RLIM_LIMITED);
	assert_int_equal(rlim_account(r, &a, T0 + 4 * S, true, false), RLIM_PASS);
	/* Steady at the average (every 4 s): always served. */
	for (int i = 1; i <= 50; i++)
		assert_int_equal(rlim_account(r, &a, T0 + 4 * S + i * 4 * S, true, false), RLIM_PASS);
	/* Under the minimum headway: limited even with room in the bucket. */
	gn_time_ns t = T0 + 1000 * S;
	assert_int_equal(rlim_account(r, &a, t, true, false), RLIM_PASS);
	assert_int_equal(rlim_account(r, &a, t + 500 * MS, true, false), RLIM_LIMITED);
	/* ... and the limited packet restarted the headway */
	assert_int_equal(rlim_account(r, &a, t + 1000 * MS, true, false), RLIM_LIMITED);
	assert_int_equal(rlim_account(r, &a, t + 1800 * MS, true, false), RLIM_PASS);
	/* Without `limited` nothing is refused, but the packets are counted. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(rlim_account(r, &a, t + 2 * S + i, false, false), RLIM_PASS);
	struct rlim_client cl;
	assert_true(rlim_lookup(r, &a, &cl));
	assert_int_equal(cl.count, 2 + 2 + 1 + 50 + 4 + 100);
	assert_true(cl.protected_);
	const struct rlim_stats *st = rlim_stats(r);
	assert_int_equal(st->limited, 4);
	assert_int_equal(st->entries, 1);
	rlim_free(r);
}

/* ntpd's defaults: average 8 s, minimum 2 s, burst 8. An iburst client (2 s apart, 8
 * packets) and then a 64 s poll is never limited. */
static void test_defaults_iburst(void **state)
{
	(void)state;
	struct rlim_params p;
	rlim_params_default(&p, 100);
	struct rlim *r = rlim_new(&p);
	struct gn_addr a = v4(0x0a000001);
	gn_time_ns t = T0;
	for (int i = 0; i < 8; i++, t += 2 * S - 30 * MS)   /* a little early each time */
		assert_int_equal(rlim_account(r, &a, t, true, true), RLIM_PASS);
	for (int i = 0; i < 100; i++, t += 64 * S)
		assert_int_equal(rlim_account(r, &a, t, true, true), RLIM_PASS);
	/* Every 2 s without end: the level grows by 8 - 2 = 6 s a packet against a capacity
	 * of 8 x 8 = 64 s, so 10 pass and the 11th is over. */
	struct gn_addr b = v4(0x0a000002);
	t = T0;
	for (int i = 0; i < 10; i++, t += 2 * S)
		assert_int_equal(rlim_account(r, &b, t, true, false), RLIM_PASS);
	assert_int_equal(rlim_account(r, &b, t, true, false), RLIM_LIMITED);
	rlim_free(r);
}

/* Kisses: the first limited packet, then at most one per kod_every drops and never two
 * within 2^kod_log2 s; only with kod; a kiss does not let a packet through. */
static void test_kod_cadence(void **state)
{
	(void)state;
	struct rlim_params p;
	rlim_params_default(&p, 100);
	p.average_log2 = 3;
	p.burst = 1;
	p.minimum_log2 = 1;
	p.kod_log2 = 2;         /* 4 s */
	p.kod_every = 10;
	struct rlim *r = rlim_new(&p);
	struct gn_addr a = v4(0x0a000003);
	unsigned kisses = 0, drops = 0, since_kiss = 0;
	gn_time_ns last_kiss = 0;
	for (int i = 0; i < 10000; i++) {
		gn_time_ns t = T0 + (gn_time_ns)i * 10 * MS;  /* 100/s for 100 s */
		enum rlim_result res = rlim_account(r, &a, t, true, true);
		if (i == 0) {
			assert_int_equal(res, RLIM_PASS);
			continue;
		}
		assert_int_not_equal(res, RLIM_PASS);   /* 10 ms apart: always under the minimum */
		drops++;
		if (res == RLIM_LIMITED_KOD) {
			if (kisses == 0)
				assert_int_equal(i, 1);         /* the first drop */
			else {
				assert_true(since_kiss >= 10);
				assert_true(t - last_kiss >= 4 * S);
			}
			kisses++;
			last_kiss = t;
			since_kiss = 0;
		} else {
			since_kiss++;
		}
	}
	/* 100 s / 4 s = 25 kisses at most, plus the first */
	assert_true(kisses >= 20 && kisses <= 26);
	assert_int_equal(rlim_stats(r)->kod, kisses);
	assert_int_equal(rlim_stats(r)->limited, drops);
	/* Without kod: no kisses at all. */
	struct gn_addr b = v4(0x0a000004);
	for (int i = 0; i < 1000; i++)
		assert_int_not_equal(rlim_account(r, &b, T0 + (gn_time_ns)i * MS, true, false),
				     RLIM_LIMITED_KOD);
	/* kod_every 1 and no time gap: a kiss for every drop, never for a pass. */
	rlim_params_default(&p, 100);
	p.burst = 1;
	p.kod_every = 1;
	p.kod_log2 = -1;
	struct rlim *r2 = rlim_new(&p);
	assert_int_equal(rlim_account(r2, &a, T0, true, true), RLIM_PASS);
	for (int i = 1; i < 10; i++)
		assert_int_equal(rlim_account(r2, &a, T0 + i * MS, true, true), RLIM_LIMITED_KOD);
	rlim_free(r2);
	rlim_free(r);
}

static void test_ipv6_prefix_key(void **state)
{
	(void)state;
	struct rlim *r = mk(64, 3, 1, 2);
	struct gn_addr a, b, c, m;
	assert_true(gn_addr_parse("2001:db8:1:2::1", 123, &a));
	assert_true(gn_addr_parse("2001:db8:1:2:ffff::99", 123, &b));  /* same /64 */
	assert_true(gn_addr_parse("2001:db8:1:3::1", 123, &c));         /* another /64 */
	assert_true(gn_addr_parse("::ffff:192.0.2.1", 123, &m));        /* IPv4-mapped */
	assert_int_equal(rlim_account(r, &a, T0, true, false), RLIM_PASS);
	assert_int_equal(rlim_account(r, &b, T0 + 10 * MS, true, false), RLIM_LIMITED);
	assert_int_equal(rlim_account(r, &c, T0 + 20 * MS, true, false), RLIM_PASS);
	struct gn_addr v = v4(0xc0000201);
	assert_int_equal(rlim_account(r, &m, T0, true, false), RLIM_PASS);
	assert_int_equal(rlim_account(r, &v, T0 + 10 * MS, true, false), RLIM_LIMITED);
	assert_int_equal(rlim_stats(r)->entries, 3);
	struct rlim_client cl;
	assert_true(rlim_lookup(r, &b, &cl));
	assert_int_equal(cl.family, 6);
	assert_int_equal(cl.count, 2);
	static const uint8_t p64[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2 };
	assert_memory_equal(cl.addr, p64, 16);
	struct gn_addr none = { .family = 0 };
	assert_false(rlim_lookup(r, &none, &cl));
	assert_int_equal(rlim_account(r, &none, T0, false, false), RLIM_PASS);
	rlim_free(r);
}

/* The eviction rule, step by step, on a table of 16. */
static void test_eviction_rule(void **state)
{
	(void)state;
	struct rlim_params p;
	rlim_params_default(&p, 16);
	p.minage_s = 64;
	p.protect_s = 3600;
	struct rlim *r = rlim_new(&p);
	/* 4 real clients, seen twice: protected */
	for (uint32_t i = 0; i < 4; i++) {
		struct gn_addr a = v4(0x0a000000 + i);
		rlim_account(r, &a, T0, true, false);
		rlim_account(r, &a, T0 + 16 * S, true, false);
	}
	/* 12 one-shot sources fill the table */
	for (uint32_t i = 0; i < 12; i++) {
		struct gn_addr a = v4(0xc6336400 + i);
		rlim_account(r, &a, T0 + 20 * S, true, false);
	}
	assert_int_equal(rlim_stats(r)->entries, 16);
	/* a newcomer 10 s later finds nothing old enough: not tracked */
	struct gn_addr n1 = v4(0xcb007101);
	assert_int_equal(rlim_account(r, &n1, T0 + 30 * S, false, false), RLIM_PASS);
	assert_int_equal(rlim_stats(r)->untracked, 1);
	struct rlim_client cl;
	assert_false(rlim_lookup(r, &n1, &cl));
	/* 64 s after the one-shots: a newcomer takes a one-shot entry */
	assert_int_equal(rlim_account(r, &n1, T0 + 20 * S + 64 * S, false, false), RLIM_PASS);
	assert_true(rlim_lookup(r, &n1, &cl));
	unsigned gone = 0;
	for (uint32_t i = 0; i < 12; i++) {
		struct gn_addr a = v4(0xc6336400 + i);
		gone += !rlim_lookup(r, &a, &cl);
	}
	assert_int_equal(gone, 1);
	assert_int_equal(rlim_stats(r)->evicted_probation, 1);
	/* 10000 more newcomers within the same minute: the real clients stay */
	for (uint32_t i = 0; i < 10000; i++) {
		struct gn_addr a = v4(0xac100000 + i);
		rlim_account(r, &a, T0 + 90 * S + i * MS, false, false);
	}
	for (uint32_t i = 0; i < 4; i++) {
		struct gn_addr a = v4(0x0a000000 + i);
		assert_true(rlim_lookup(r, &a, &cl));
		assert_true(cl.protected_);
	}
	/* An hour of silence: the protected entries are reusable after protect_s */
	struct gn_addr late = v4(0xcb007199);
	rlim_account(r, &late, T0 + 16 * S + 3600 * S - 5 * S, false, false);
	assert_int_equal(rlim_stats(r)->evicted_protected, 0);
	/* all probation entries are now old: those go first */
	assert_true(rlim_lookup(r, &late, &cl));
	rlim_free(r);
}

/* Protected entries fill at most 7/8 of the table: the rest stays open to newcomers. */
static void test_protected_cap(void **state)
{
	(void)state;
	struct rlim_params p;
	rlim_params_default(&p, 16);
	struct rlim *r = rlim_new(&p);
	for (uint32_t i = 0; i < 16; i++) {
		struct gn_addr a = v4(0x0a000000 + i);
		rlim_account(r, &a, T0, false, false);
		rlim_account(r, &a, T0 + S, false, false);
	}
	assert_int_equal(rlim_stats(r)->promoted, 14);
	/* 64 s later newcomers take the two probation entries, never a protected one. The hand
	 * looks at 8 entries per newcomer: the first newcomer sees only protected ones (not
	 * tracked), the second reaches a probation entry. */
	struct gn_addr n = v4(0x0b000000), n2 = v4(0x0b000001);
	rlim_account(r, &n, T0 + 66 * S, false, false);
	rlim_account(r, &n2, T0 + 66 * S, false, false);
	struct rlim_client cl;
	assert_false(rlim_lookup(r, &n, &cl));
	assert_true(rlim_lookup(r, &n2, &cl));
	assert_int_equal(rlim_stats(r)->untracked, 1);
	assert_int_equal(rlim_stats(r)->evicted_probation, 1);
	assert_int_equal(rlim_stats(r)->evicted_protected, 0);
	unsigned prot = 0;
	for (uint32_t i = 0; i < 16; i++) {
		struct gn_addr a = v4(0x0a000000 + i);
		if (rlim_lookup(r, &a, &cl))
			prot += cl.protected_;
	}
	assert_int_equal(prot, 14);
	rlim_free(r);
}

/* The clock stepped back: the client is not punished for a negative interval. */
static void test_clock_back(void **state)
{
	(void)state;
	struct rlim *r = mk(16, 3, 1, 1);
	struct gn_addr a = v4(0x0a0a0a0a);
	assert_int_equal(rlim_account(r, &a, T0, true, false), RLIM_PASS);
	assert_int_equal(rlim_account(r, &a, T0 - 3600 * S, true, false), RLIM_PASS);
	assert_int_equal(rlim_account(r, &a, T0 - 3600 * S + 100 * MS, true, false), RLIM_LIMITED);
	/* a table full of entries from "the future" is reusable */
	for (uint32_t i = 0; i < 16; i++) {
		struct gn_addr b = v4(0x0b000000 + i);
		rlim_account(r, &b, T0 + 100 * S, false, false);
	}
	struct gn_addr c = v4(0x0c000000);
	rlim_account(r, &c, T0, false, false);
	struct rlim_client cl;
	assert_true(rlim_lookup(r, &c, &cl));
	rlim_free(r);
}

/* A newcomer the full table has no room for is served without state (as ntpd does), and
 * counted; once entries are old enough, newcomers are tracked and limited again. */
static void test_untracked_served(void **state)
{
	(void)state;
	struct rlim_params p;
	rlim_params_default(&p, 64);    /* minage 64 s */
	struct rlim *r = rlim_new(&p);
	for (uint32_t i = 0; i < 64; i++) {
		struct gn_addr a = v4(0x01000000 + i);
		rlim_account(r, &a, T0, true, false);
	}
	for (uint32_t i = 0; i < 1000; i++) {
		struct gn_addr a = v4(0x02000000 + i % 10);    /* 10 newcomers, 100 packets each */
		assert_int_equal(rlim_account(r, &a, T0 + i * MS, true, true), RLIM_PASS);
	}
	assert_int_equal(rlim_stats(r)->untracked, 1000);
	assert_int_equal(rlim_stats(r)->limited, 0);
	/* 64 s later the one-shot entries may be reused: the same burst is tracked and limited */
	struct gn_addr a = v4(0x02000000);
	assert_int_equal(rlim_account(r, &a, T0 + 65 * S, true, true), RLIM_PASS);
	assert_int_equal(rlim_account(r, &a, T0 + 65 * S + MS, true, true), RLIM_LIMITED_KOD);
	assert_int_equal(rlim_stats(r)->evicted_probation, 1);
	rlim_free(r);
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

/* A flood of 1,000,000 spoofed one-shot sources at 100,000/s through srv: the heap does
 * not change, hash chains stay short, and an established client polling every 16 s is
 * tracked and answered all along (with `limited kod`). */
static void test_flood(void **state)
{
	(void)state;
	struct cfg *c = malloc(sizeof *c);
	cfg_defaults(c);
	c->restricts[0].match = CFG_RES_DEFAULT;
	c->restricts[0].flags = CFG_RES_LIMITED | CFG_RES_KOD;
	c->n_restricts = 1;
	c->mru.maxdepth = 20000;
	struct srv *s = srv_new(c);
	uint8_t secret[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	srv_set_secret(s, secret);
	size_t mem0 = srv_memory_bytes(s), heap0 = heap_in_use();
	struct srv_sysvars sys = { .leap = 0, .stratum = 2, .precision_log2 = -20, .update_ns = T0,
				   .refid = 0x0a000001 };
	struct gn_addr good = v4(0xc0a80001);
	uint8_t req[48] = { 0x23 }, reply[48];
	size_t rl;
	unsigned good_sent = 0, good_answered = 0;
	uint64_t x = 88172645463325252ULL;
	for (uint32_t i = 0; i < 1000000; i++) {
		gn_time_ns t = T0 + (gn_time_ns)i * 10000;      /* 100,000/s: 10 s of flood */
		if (i % 160000 == 0) {                          /* every 1.6 s ... */
			good_sent++;
			good_answered += srv_handle(s, &sys, req, 48, &good, t, t, reply, 48, &rl) == SRV_ANSWER;
		}
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		struct gn_addr a = v4((uint32_t)x);
		srv_handle(s, &sys, req, 48, &a, t, t, reply, 48, &rl);
	}
	/* then the client's normal polls, every 16 s, with the flood going on at 1000/s */
	for (uint32_t k = 0; k < 20; k++) {
		gn_time_ns t = T0 + 20 * S + (gn_time_ns)k * 16 * S;
		good_sent++;
		good_answered += srv_handle(s, &sys, req, 48, &good, t, t, reply, 48, &rl) == SRV_ANSWER;
		for (uint32_t j = 0; j < 16000; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			struct gn_addr a = v4((uint32_t)x);
			srv_handle(s, &sys, req, 48, &a, t + (gn_time_ns)j * MS, t + (gn_time_ns)j * MS,
				   reply, 48, &rl);
		}
	}
	const struct rlim_stats *rs = rlim_stats(srv_rlim(s));
	print_message("flood: %llu entries of %llu, %llu untracked, %llu evicted, longest chain %llu, "
		      "%zu bytes\n", (unsigned long long)rs->entries, (unsigned long long)rs->capacity,
		      (unsigned long long)rs->untracked,
		      (unsigned long long)(rs->evicted_probation + rs->evicted_protected),
		      (unsigned long long)rs->longest_chain, srv_memory_bytes(s));
	assert_int_equal(srv_memory_bytes(s), mem0);
	assert_int_equal(heap_in_use(), heap0);
	assert_int_equal(rs->entries, 20000);
	assert_true(rs->untracked > 0);
	assert_true(rs->evicted_probation > 0);
	assert_int_equal(rs->evicted_protected, 0);
	assert_true(rs->longest_chain <= 16);
	struct rlim_client cl;
	assert_true(rlim_lookup(srv_rlim(s), &good, &cl));
	assert_true(cl.protected_);
	assert_int_equal(good_answered, good_sent);
	assert_int_equal(srv_stats(s)->received, 1000000 + 20 * 16000 + good_sent);
	srv_free(s);
	free(c);
}

/* 1,000,000 distinct clients fit a table sized for them, in at most 64 MiB. */
static void test_million(void **state)
{
	(void)state;
	struct rlim_params p;
	rlim_params_default(&p, 1000000);
	struct rlim *r = rlim_new(&p);
	assert_non_null(r);
	size_t bytes = rlim_memory_bytes(r);
	print_message("MRU: %zu octets per entry with its bucket share, 1,000,000 entries: %zu bytes = %.1f MiB\n",
		      bytes / 1000000, bytes, bytes / 1048576.0);
	assert_true(bytes <= 64u * 1024 * 1024);
	for (uint32_t i = 0; i < 1000000; i++) {
		struct gn_addr a = v4(0x0a000000 + i * 7);
		rlim_account(r, &a, T0 + (gn_time_ns)i * 1000, false, false);
	}
	assert_int_equal(rlim_stats(r)->entries, 1000000);
	assert_int_equal(rlim_stats(r)->untracked, 0);
	assert_true(rlim_stats(r)->longest_chain <= 16);
	struct rlim_client cl;
	struct gn_addr a = v4(0x0a000000 + 999999u * 7);
	assert_true(rlim_lookup(r, &a, &cl));
	assert_int_equal(rlim_memory_bytes(r), bytes);
	/* sizing from bytes */
	uint32_t cap = rlim_capacity_for_bytes(64u * 1024 * 1024);
	assert_true(cap >= 1000000);
	assert_true(rlim_capacity_for_bytes(1) == RLIM_MIN_CAPACITY);
	rlim_free(r);
}

/* Addresses chosen to share one hash chain (as an attacker who knew the key could): the
 * chain stops growing at 16, the rest are not tracked, lookups stay short. Then a secret
 * moves them to different chains. */
static void test_chain_bound(void **state)
{
	(void)state;
	struct rlim *r = mk(4096, 3, 1, 8);
	struct gn_addr target = v4(0x0a000000);
	uint32_t b = rlim_bucket(r, &target);
	uint32_t same[64];
	unsigned n = 0;
	for (uint32_t i = 1; i < 4000000 && n < 64; i++) {
		struct gn_addr a = v4(0x0a000000 + i);
		if (rlim_bucket(r, &a) == b)
			same[n++] = 0x0a000000 + i;
	}
	assert_true(n >= 40);
	for (unsigned i = 0; i < n; i++) {
		struct gn_addr a = v4(same[i]);
		assert_int_equal(rlim_account(r, &a, T0 + i, false, false), RLIM_PASS);
	}
	const struct rlim_stats *st = rlim_stats(r);
	assert_int_equal(st->entries, 16);
	assert_int_equal(st->untracked, n - 16);
	assert_true(st->longest_chain <= 16);
	/* With a secret the same addresses spread over the buckets. */
	uint8_t secret[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };
	rlim_set_secret(r, secret);
	unsigned still = 0;
	for (unsigned i = 0; i < n; i++) {
		struct gn_addr a = v4(same[i]);
		still += rlim_bucket(r, &a) == rlim_bucket(r, &target);
	}
	assert_true(still <= 3);
	/* entries already in the table are found again after the rehash */
	struct rlim_client cl;
	struct gn_addr a0 = v4(same[0]);
	assert_true(rlim_lookup(r, &a0, &cl));
	assert_int_equal(cl.count, 1);
	rlim_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaky_bucket),
		cmocka_unit_test(test_defaults_iburst),
		cmocka_unit_test(test_kod_cadence),
		cmocka_unit_test(test_ipv6_prefix_key),
		cmocka_unit_test(test_eviction_rule),
		cmocka_unit_test(test_protected_cap),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_untracked_served),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_chain_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
