/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pool_rename: the decision for a `server NAME` / `peer NAME` line whose address
 * stopped answering (pool.h, pool_rename_*; issue 6). When to ask DNS again (the silence
 * window scales with the poll interval), what an answer means (another usable address
 * replaces the silent one even when the answer still holds it; the same address or
 * nothing usable keeps it), the backoff between fruitless answers (the window, doubling,
 * capped at an hour), the address answering again (question cancelled, pause reset), a
 * line without an association, the family and the addresses other sources use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pool.h"

#define S 1000000000LL

static struct gn_addr v4(uint8_t d)
{
	struct gn_addr g = { .family = GN_AF_INET, .port = 123 };
	g.addr[0] = 192;
	g.addr[1] = 0;
	g.addr[2] = 2;
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

static struct pool_rename_src present(struct gn_addr a, int poll_log2, int64_t quiet_since)
{
	struct pool_rename_src s;
	memset(&s, 0, sizeof s);
	s.present = true;
	s.addr = a;
	s.poll_log2 = poll_log2;
	s.quiet_since_mono_ns = quiet_since;
	return s;
}

static void test_window_scales_with_poll(void **state)
{
	(void)state;
	struct pool_rename_src s = present(v4(1), 3, 0);
	assert_int_equal(pool_rename_window_ns(&s), POOL_RENAME_POLLS * 8 * S);
	s.poll_log2 = 6;
	assert_int_equal(pool_rename_window_ns(&s), POOL_RENAME_POLLS * 64 * S);
	s.poll_log2 = 0; /* clamped to RFC 5905's 3..17 */
	assert_int_equal(pool_rename_window_ns(&s), POOL_RENAME_POLLS * 8 * S);
	s.poll_log2 = 30;
	assert_int_equal(pool_rename_window_ns(&s), POOL_RENAME_POLLS * (S << 17));

	s.poll_log2 = 3;
	s.quiet_since_mono_ns = 100 * S;
	assert_false(pool_rename_silent(&s, 100 * S));
	assert_false(pool_rename_silent(&s, 100 * S + 32 * S - 1));
	assert_true(pool_rename_silent(&s, 100 * S + 32 * S));
	struct pool_rename_src none;
	memset(&none, 0, sizeof none);
	assert_true(pool_rename_silent(&none, 0)); /* no association: always "silent" */
}

/* Silent address, DNS keeps giving it: asked after the window, then after the window,
 * twice it, ... never more often, capped at an hour; the association is never dropped. */
static void test_same_answer_backs_off_to_an_hour(void **state)
{
	(void)state;
	struct pool_rename r;
	pool_rename_init(&r);
	struct gn_addr cur = v4(1), pick;
	int64_t t = 1000 * S;
	struct pool_rename_src s = present(cur, 3, t); /* last answer at t */
	int64_t w = 32 * S;

	assert_int_equal(pool_rename_check(&r, &s, t + w - 1), POOL_RENAME_IDLE);
	assert_int_equal(pool_rename_check(&r, &s, t + w), POOL_RENAME_ASK);
	assert_int_equal(r.episode_asks, 1);
	/* one question at a time */
	assert_int_equal(pool_rename_check(&r, &s, t + w + 5 * S), POOL_RENAME_IDLE);
	t += w + S;
	assert_int_equal(pool_rename_answer(&r, &s, &cur, 1, GN_AF_NONE, &cur, 1, t, &pick),
			 POOL_RENAME_SAME);
	assert_false(r.asking);
	assert_int_equal(r.pause_ns, w);

	int64_t want = w, total = 0;
	for (int k = 0; k < 20; k++) {
		assert_int_equal(pool_rename_check(&r, &s, t + r.pause_ns - 1), POOL_RENAME_IDLE);
		t += r.pause_ns;
		total += r.pause_ns;
		assert_int_equal(pool_rename_check(&r, &s, t), POOL_RENAME_ASK);
		assert_int_equal(r.episode_asks, (unsigned)k + 2);
		assert_int_equal(pool_rename_answer(&r, &s, &cur, 1, GN_AF_INET, NULL, 0, t, &pick),
				 POOL_RENAME_SAME);
		want = want * 2 > POOL_RENAME_MAX_S * S ? POOL_RENAME_MAX_S * S : want * 2;
		assert_int_equal(r.pause_ns, want);
	}
	assert_int_equal(r.pause_ns, POOL_RENAME_MAX_S * S);
	assert_int_equal(r.same, 21);
	assert_int_equal(r.asked, 21);
	assert_true(total > 0);
}

static void test_answer_choices(void **state)
{
	(void)state;
	struct pool_rename r;
	struct gn_addr cur = v4(1), b = v4(2), c = v4(3), six = v6(9), pick;
	int64_t t = 500 * S;
	struct pool_rename_src s = present(cur, 4, 0); /* silent since 0: window 64 s */
	memset(&pick, 0, sizeof pick);

	/* the answer still holds the silent address, but also another: move */
	pool_rename_init(&r);
	assert_int_equal(pool_rename_check(&r, &s, t), POOL_RENAME_ASK);
	struct gn_addr a1[2] = { cur, b };
	struct gn_addr busy1[1] = { cur };
	assert_int_equal(pool_rename_answer(&r, &s, a1, 2, GN_AF_NONE, busy1, 1, t, &pick),
			 POOL_RENAME_REPLACE);
	assert_true(gn_addr_equal(&pick, &b));
	assert_int_equal(r.pause_ns, 0);
	assert_int_equal(r.next_mono_ns, 0);
	assert_int_equal(r.episode_asks, 0);
	assert_int_equal(r.replaced, 1);

	/* the wrong family is skipped; an address another source uses is skipped */
	pool_rename_init(&r);
	struct gn_addr a2[4] = { six, cur, b, c };
	struct gn_addr busy2[2] = { cur, b };
	assert_int_equal(pool_rename_answer(&r, &s, a2, 4, GN_AF_INET, busy2, 2, t, &pick),
			 POOL_RENAME_REPLACE);
	assert_true(gn_addr_equal(&pick, &c));
	/* any family: the IPv6 one first */
	assert_int_equal(pool_rename_answer(&r, &s, a2, 4, GN_AF_NONE, busy2, 2, t, &pick),
			 POOL_RENAME_REPLACE);
	assert_true(gn_addr_equal(&pick, &six));
	/* -6 line, only IPv4 in the answer: nothing usable */
	struct gn_addr a3[2] = { b, c };
	assert_int_equal(pool_rename_answer(&r, &s, a3, 2, GN_AF_INET6, NULL, 0, t, &pick),
			 POOL_RENAME_NONE);
	assert_int_equal(r.pause_ns, 64 * S);
	assert_int_equal(r.next_mono_ns, t + 64 * S);
	/* every other address in use elsewhere, the current one absent from the answer */
	assert_int_equal(pool_rename_answer(&r, &s, a3, 2, GN_AF_NONE, busy2 + 1, 1, t, &pick) ,
			 POOL_RENAME_REPLACE); /* c is free */
	struct gn_addr busy3[3] = { cur, b, c };
	assert_int_equal(pool_rename_answer(&r, &s, a3, 2, GN_AF_NONE, busy3, 3, t, &pick),
			 POOL_RENAME_NONE);
	/* an empty answer (or none could be asked) */
	assert_int_equal(pool_rename_answer(&r, &s, NULL, 0, GN_AF_NONE, busy3, 3, t, &pick),
			 POOL_RENAME_NONE);
	assert_int_equal(r.pause_ns, 128 * S);
	/* entries that are not addresses are ignored */
	struct gn_addr junk[2] = { { .family = GN_AF_NONE }, cur };
	assert_int_equal(pool_rename_answer(&r, &s, junk, 2, GN_AF_NONE, NULL, 0, t, &pick),
			 POOL_RENAME_SAME);
	/* the port is not part of the comparison (it is the line's) */
	struct gn_addr other_port = cur;
	other_port.port = 4123;
	assert_int_equal(pool_rename_answer(&r, &s, &other_port, 1, GN_AF_NONE, NULL, 0, t, &pick),
			 POOL_RENAME_SAME);
}

/* The address answers again while the question is out: cancel, and the next silence
 * starts a fresh episode with the window as its first pause. */
static void test_answers_again(void **state)
{
	(void)state;
	struct pool_rename r;
	pool_rename_init(&r);
	struct gn_addr cur = v4(1), b = v4(2), pick;
	struct pool_rename_src s = present(cur, 3, 0);
	assert_int_equal(pool_rename_check(&r, &s, 40 * S), POOL_RENAME_ASK);
	/* DNS is down: the question stays out (dns retries it); nothing changes */
	assert_int_equal(pool_rename_check(&r, &s, 100 * S), POOL_RENAME_IDLE);
	assert_true(r.asking);
	/* the server answers at 101 s */
	s.quiet_since_mono_ns = 101 * S;
	assert_int_equal(pool_rename_check(&r, &s, 102 * S), POOL_RENAME_CANCEL);
	assert_false(r.asking);
	assert_int_equal(r.cancelled, 1);
	assert_int_equal(r.episode_asks, 0);
	assert_int_equal(pool_rename_check(&r, &s, 103 * S), POOL_RENAME_IDLE);
	assert_int_equal(r.cancelled, 1);

	/* a fruitless episode, then it answers: the pause is reset */
	s.quiet_since_mono_ns = 0;
	pool_rename_init(&r);
	assert_int_equal(pool_rename_check(&r, &s, 40 * S), POOL_RENAME_ASK);
	assert_int_equal(pool_rename_answer(&r, &s, &cur, 1, GN_AF_NONE, NULL, 0, 41 * S, &pick),
			 POOL_RENAME_SAME);
	assert_int_equal(r.pause_ns, 32 * S);
	s.quiet_since_mono_ns = 50 * S;
	assert_int_equal(pool_rename_check(&r, &s, 51 * S), POOL_RENAME_IDLE);
	assert_int_equal(r.pause_ns, 0);
	assert_int_equal(r.next_mono_ns, 0);
	/* silent again from 50 s: asked at 82 s, not before */
	assert_int_equal(pool_rename_check(&r, &s, 81 * S), POOL_RENAME_IDLE);
	assert_int_equal(pool_rename_check(&r, &s, 82 * S), POOL_RENAME_ASK);
	assert_int_equal(r.episode_asks, 1);

	/* DNS answers after the address came back but before a check saw it: kept, even
	 * though DNS now names another address */
	s.quiet_since_mono_ns = 90 * S;
	struct gn_addr a[1] = { b };
	assert_int_equal(pool_rename_answer(&r, &s, a, 1, GN_AF_NONE, NULL, 0, 91 * S, &pick),
			 POOL_RENAME_ANSWERS);
	assert_false(r.asking);
	assert_int_equal(r.pause_ns, 0);
	assert_int_equal(r.answers, 1);
}

/* A line whose resolution left it without an association asks again on the same pacing,
 * with its minpoll for the window; the engine refusing an address waits the pause too. */
static void test_no_association(void **state)
{
	(void)state;
	struct pool_rename r;
	pool_rename_init(&r);
	struct pool_rename_src s;
	memset(&s, 0, sizeof s);
	s.poll_log2 = 6; /* the line's minpoll */
	struct gn_addr b = v4(2), pick;
	/* first answer: nothing usable */
	assert_int_equal(pool_rename_answer(&r, &s, &b, 1, GN_AF_INET6, NULL, 0, 10 * S, &pick),
			 POOL_RENAME_NONE);
	assert_int_equal(r.next_mono_ns, 10 * S + 256 * S);
	assert_int_equal(pool_rename_check(&r, &s, 265 * S), POOL_RENAME_IDLE);
	assert_int_equal(pool_rename_check(&r, &s, 266 * S), POOL_RENAME_ASK);
	/* now usable: mobilise it */
	assert_int_equal(pool_rename_answer(&r, &s, &b, 1, GN_AF_NONE, NULL, 0, 267 * S, &pick),
			 POOL_RENAME_REPLACE);
	assert_true(gn_addr_equal(&pick, &b));
	/* the engine refused it: wait the window */
	pool_rename_refused(&r, &s, 267 * S);
	assert_false(r.asking);
	assert_int_equal(r.next_mono_ns, 267 * S + 256 * S);
	assert_int_equal(pool_rename_check(&r, &s, 267 * S + 256 * S - 1), POOL_RENAME_IDLE);
	assert_int_equal(pool_rename_check(&r, &s, 267 * S + 256 * S), POOL_RENAME_ASK);
	pool_rename_refused(&r, &s, 600 * S);
	assert_int_equal(r.pause_ns, 512 * S); /* doubling */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_scales_with_poll),
		cmocka_unit_test(test_same_answer_backs_off_to_an_hour),
		cmocka_unit_test(test_answer_choices),
		cmocka_unit_test(test_answers_again),
		cmocka_unit_test(test_no_association),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
