/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pool: the pool's address table. Filling up to maxclock from several DNS answers,
 * replacing an unreachable association and a falseticker with a fresh address, never
 * using an address twice (after it was dropped, or while another source uses it), the
 * engine refusing an address, the DNS pacing (fruitful, fruitless with backoff up to an
 * hour), and a table overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pool.h"

#define S 1000000000LL

static struct gn_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct gn_addr g = { .family = GN_AF_INET, .port = 123 };
	g.addr[0] = a;
	g.addr[1] = b;
	g.addr[2] = c;
	g.addr[3] = d;
	return g;
}

static struct gn_addr v6(uint8_t last)
{
	struct gn_addr g = { .family = GN_AF_INET6, .port = 123 };
	g.addr[0] = 0x20;
	g.addr[1] = 0x01;
	g.addr[2] = 0x0d;
	g.addr[3] = 0xb8;
	g.addr[15] = last;
	return g;
}

static void test_fill_to_maxclock(void **state)
{
	(void)state;
	static struct pool p;
	pool_init(&p);
	assert_int_equal(pool_room(10, 0), 10);
	assert_int_equal(pool_room(10, 10), 0);
	assert_int_equal(pool_room(10, 12), 0);
	assert_true(pool_want_query(&p, 10, 0));
	assert_false(pool_want_query(&p, 0, 0));

	/* first answer: four addresses, one repeated and one not an address */
	struct gn_addr a1[6] = { v4(192, 0, 2, 1), v4(192, 0, 2, 2), v4(192, 0, 2, 3), v6(4),
				 v4(192, 0, 2, 1), { .family = GN_AF_NONE } };
	pool_query_started(&p, 0);
	assert_false(pool_want_query(&p, 10, 0));       /* in flight */
	assert_int_equal(pool_next_query(&p), INT64_MAX);
	unsigned n = pool_offer(&p, a1, 6);
	assert_int_equal(n, 4);
	pool_query_done(&p, n, 0);
	assert_int_equal(pool_count(&p, POOL_ADDR_SPARE), 4);

	/* one server line already uses 192.0.2.3: it is not taken from the pool */
	struct gn_addr busy[1] = { v4(192, 0, 2, 3) };
	struct gn_addr out[16];
	unsigned total = 1;
	size_t k = pool_pick(&p, pool_room(10, total), busy, 1, out, 16);
	assert_int_equal(k, 3);
	assert_true(gn_addr_equal(&out[0], &a1[0]));    /* oldest learned first */
	assert_true(gn_addr_equal(&out[1], &a1[1]));
	assert_true(gn_addr_equal(&out[2], &a1[3]));
	assert_int_equal(pool_count(&p, POOL_ADDR_RETIRED), 1);
	for (size_t i = 0; i < k; i++)
		assert_true(pool_bind(&p, &out[i], (uint32_t)(10 + i)));
	total += 3;

	/* another answer, a second later, repeats two and brings five new */
	assert_false(pool_want_query(&p, pool_room(10, total), S - 1));
	assert_true(pool_want_query(&p, pool_room(10, total), S));
	pool_query_started(&p, S);
	struct gn_addr a2[7] = { v4(192, 0, 2, 1), v4(192, 0, 2, 3), v4(198, 51, 100, 1),
				 v4(198, 51, 100, 2), v4(198, 51, 100, 3), v4(198, 51, 100, 4),
				 v4(198, 51, 100, 5) };
	n = pool_offer(&p, a2, 7);
	assert_int_equal(n, 5);
	pool_query_done(&p, n, S);
	k = pool_pick(&p, pool_room(10, total), busy, 1, out, 16);
	assert_int_equal(k, 5);
	for (size_t i = 0; i < k; i++)
		assert_true(pool_bind(&p, &out[i], (uint32_t)(20 + i)));
	total += 5;
	assert_int_equal(pool_count(&p, POOL_ADDR_IN_USE), 8);
	/* 9 associations: one more allowed, none spare: DNS wanted */
	assert_int_equal(pool_room(10, total), 1);
	assert_true(pool_want_query(&p, pool_room(10, total), 2 * S));
	pool_query_started(&p, 2 * S);
	struct gn_addr a3[3] = { v4(203, 0, 113, 1), v4(203, 0, 113, 2), v4(203, 0, 113, 3) };
	pool_query_done(&p, pool_offer(&p, a3, 3), 2 * S);
	k = pool_pick(&p, pool_room(10, total), busy, 1, out, 16);
	assert_int_equal(k, 1);
	assert_true(pool_bind(&p, &out[0], 30));
	total++;
	assert_int_equal(pool_room(10, total), 0);
	assert_int_equal(pool_pick(&p, pool_room(10, total), busy, 1, out, 16), 0);
	assert_false(pool_want_query(&p, 0, 100 * S));
	assert_int_equal(pool_count(&p, POOL_ADDR_SPARE), 2);
}

static void test_replace_never_twice(void **state)
{
	(void)state;
	static struct pool p;
	pool_init(&p);
	struct gn_addr a[4] = { v4(10, 0, 0, 1), v4(10, 0, 0, 2), v4(10, 0, 0, 3), v4(10, 0, 0, 4) };
	assert_int_equal(pool_offer(&p, a, 4), 4);
	struct gn_addr out[8];
	assert_int_equal(pool_pick(&p, 3, NULL, 0, out, 8), 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_true(pool_bind(&p, &out[i], 100 + i));
	assert_true(pool_owns(&p, 101));
	assert_false(pool_owns(&p, 999));
	assert_false(pool_owns(&p, 0));

	/* 101 stays unreachable: dropped, the spare 10.0.0.4 replaces it */
	assert_true(pool_retire(&p, 101));
	assert_false(pool_retire(&p, 101));
	assert_false(pool_owns(&p, 101));
	assert_int_equal(pool_pick(&p, 1, NULL, 0, out, 8), 1);
	assert_true(gn_addr_equal(&out[0], &a[3]));
	assert_true(pool_bind(&p, &out[0], 103));

	/* 102 is a falseticker: dropped; no spare left, so DNS is asked again... */
	assert_true(pool_retire(&p, 102));
	assert_true(pool_want_query(&p, 1, 0));
	pool_query_started(&p, 0);
	/* ...and answers with the two dropped addresses and one in use: nothing new */
	struct gn_addr again[3] = { a[1], a[2], a[0] };
	again[0].port = 4123;   /* another port is still the same host */
	unsigned n = pool_offer(&p, again, 3);
	assert_int_equal(n, 0);
	pool_query_done(&p, n, 0);
	assert_int_equal(pool_pick(&p, 1, NULL, 0, out, 8), 0);
	/* the refused path: the engine will not take an address */
	struct gn_addr fresh = v4(10, 0, 0, 9);
	pool_query_started(&p, 60 * S);
	pool_query_done(&p, pool_offer(&p, &fresh, 1), 60 * S);
	assert_int_equal(pool_pick(&p, 1, NULL, 0, out, 8), 1);
	assert_true(pool_refused(&p, &out[0]));
	assert_false(pool_refused(&p, &out[0]));
	assert_false(pool_bind(&p, &out[0], 7));
	assert_int_equal(pool_pick(&p, 1, NULL, 0, out, 8), 0);
	assert_int_equal(p.retired_total, 3);
	/* over the whole run, every address was handed out at most once: 5 picks, 5 hosts */
	assert_int_equal(pool_count(&p, POOL_ADDR_IN_USE), 2);
	assert_int_equal(pool_count(&p, POOL_ADDR_RETIRED), 3);
}

static void test_dns_pacing(void **state)
{
	(void)state;
	static struct pool p;
	pool_init(&p);
	int64_t now = 0;
	/* fruitless answers back off 60, 120, 240 ... up to 3600 s */
	int64_t want_pause[] = { 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600 };
	for (size_t i = 0; i < sizeof want_pause / sizeof want_pause[0]; i++) {
		assert_true(pool_want_query(&p, 2, now));
		pool_query_started(&p, now);
		pool_query_done(&p, pool_offer(&p, NULL, 0), now);
		assert_int_equal(pool_next_query(&p) - now, want_pause[i] * S);
		assert_false(pool_want_query(&p, 2, pool_next_query(&p) - 1));
		now = pool_next_query(&p);
	}
	assert_int_equal(p.fruitless_queries, 9);
	/* a fruitful one resets it */
	struct gn_addr a = v4(10, 1, 1, 1);
	pool_query_started(&p, now);
	pool_query_done(&p, pool_offer(&p, &a, 1), now);
	assert_int_equal(pool_next_query(&p), now + POOL_REQUERY_FRUITFUL_S * S);
	/* with a spare address there is no need to ask */
	assert_false(pool_want_query(&p, 2, now + 10 * S));
	struct gn_addr out;
	assert_int_equal(pool_pick(&p, 2, NULL, 0, &out, 1), 1);
	assert_true(pool_want_query(&p, 2, now + 10 * S));
	pool_query_started(&p, now + 10 * S);
	pool_query_done(&p, 0, now + 10 * S);
	assert_int_equal(pool_next_query(&p), now + 70 * S);
	/* an abandoned query allows another after the current pause */
	pool_query_started(&p, now + 70 * S);
	pool_query_abandoned(&p, now + 75 * S);
	assert_int_equal(pool_next_query(&p), now + 75 * S);
	assert_true(pool_want_query(&p, 1, now + 75 * S));
}

static void test_overflow(void **state)
{
	(void)state;
	static struct pool p;
	pool_init(&p);
	struct gn_addr a;
	/* 10 in use, 100 retired, then many spares offered: the table never drops one in use
	 * and keeps the recently retired */
	for (unsigned i = 0; i < 110; i++) {
		a = v4(10, 2, (uint8_t)(i >> 8), (uint8_t)i);
		assert_int_equal(pool_offer(&p, &a, 1), 1);
		struct gn_addr out;
		assert_int_equal(pool_pick(&p, 1, NULL, 0, &out, 1), 1);
		assert_true(pool_bind(&p, &out, 1000 + i));
		if (i < 100)
			assert_true(pool_retire(&p, 1000 + i));
	}
	assert_int_equal(p.n, 110);
	for (unsigned i = 0; i < 200; i++) {
		a = v4(10, 3, (uint8_t)(i >> 8), (uint8_t)i);
		pool_offer(&p, &a, 1);
	}
	assert_int_equal(p.n, POOL_MAX_ADDRS);
	assert_int_equal(pool_count(&p, POOL_ADDR_IN_USE), 10);
	assert_int_equal(pool_count(&p, POOL_ADDR_RETIRED), 100);
	assert_int_equal(pool_count(&p, POOL_ADDR_SPARE), POOL_MAX_ADDRS - 110);
	/* a retired address offered again is still refused */
	a = v4(10, 2, 0, 99);
	assert_int_equal(pool_offer(&p, &a, 1), 0);
	/* all in use: offers are dropped, nothing evicted */
	static struct pool q;
	pool_init(&q);
	for (unsigned i = 0; i < POOL_MAX_ADDRS; i++) {
		a = v4(10, 4, (uint8_t)(i >> 8), (uint8_t)i);
		pool_offer(&q, &a, 1);
	}
	struct gn_addr out[POOL_MAX_ADDRS];
	assert_int_equal(pool_pick(&q, POOL_MAX_ADDRS, NULL, 0, out, POOL_MAX_ADDRS), POOL_MAX_ADDRS);
	a = v4(10, 5, 0, 1);
	assert_int_equal(pool_offer(&q, &a, 1), 0);
	assert_int_equal(pool_count(&q, POOL_ADDR_IN_USE), POOL_MAX_ADDRS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_to_maxclock),
		cmocka_unit_test(test_replace_never_twice),
		cmocka_unit_test(test_dns_pacing),
		cmocka_unit_test(test_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
