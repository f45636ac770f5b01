/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_leap_kernel: the leap decision (core/leap) driving the pure model of the Linux
 * kernel clock (core/kclk) through the 2016-12-31 leap second, as the engine and the
 * daemon will: the decision is taken at every wake-up, a changed kernel status is written
 * with CLK_ADJ_STATUS, and the loop sleeps until min(poll interval, leap_next_deadline).
 * Asserted: exactly one leap second happens, at the right midnight; the disciplined clock
 * ends exactly one second behind the uniform time scale (inserted) or ahead (deleted); the
 * kernel bit is set only inside the last day and cleared after, the kernel back to
 * TIME_OK; nothing is armed a second time during the repeated 23:59:59; one "armed" and
 * one "done" log line. Variants: the leap file, the sources' vote only, long polls (1024 s,
 * so only the deadlines put a wake-up in the window), a deletion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clk.h"
#include "crypto_openssl.h"
#include "kclk.h"
#include "leap.h"
#include "os_file.h"
#include "pkt.h"

#define S GN_NS_PER_S
#define DAY (86400LL * S)
#define T2017 (1483228800LL * S)

static struct leap_table debian;

static int setup(void **state)
{
	(void)state;
	struct crypto_openssl *co = crypto_openssl_new();
	if (!co)
		return -1;
	struct auth_crypto seam = crypto_openssl_seam(co);
	const char *dir = getenv("GNOMON_TEST_DATA");
	char path[512], err[128];
	snprintf(path, sizeof path, "%s/leap/leap-seconds.list", dir ? dir : "tests/data");
	size_t len;
	char *text = os_file_read(path, 1 << 20, &len, err, sizeof err);
	struct leap_error le;
	int r = text && leap_parse(text, len, &seam, &debian, &le) == LEAP_OK ? 0 : -1;
	free(text);
	crypto_openssl_free(co);
	return r;
}

struct run {
	unsigned arms, dones, status_writes;
	gn_time_ns first_set_real, last_clear_real;
	unsigned max_li_add_served_after_T;
	uint64_t leaps;
	int64_t end_offset_ns;      /* disciplined - uniform at the end */
	int leap_state;
	unsigned wakes;
};

/* base: the uniform time scale (the oscillator, no leap seconds), starting equal to UTC. */
static struct run drive(const struct leap_table *t, struct leap_vote vote, int64_t poll_ns,
			int64_t span_before, int64_t span_after)
{
	struct run r;
	memset(&r, 0, sizeof r);
	r.first_set_real = INT64_MAX;
	int64_t base = T2017 - span_before;
	struct kclk k;
	kclk_init(&k, base);
	struct leap_state st;
	leap_state_init(&st);
	const int64_t end = T2017 + span_after;
	while (base < end) {
		r.wakes++;
		assert_true(r.wakes < 100000);
		gn_time_ns real = kclk_read(&k, base);
		struct leap_inputs in = { .now_ns = real, .table = t, .vote = vote };
		struct leap_decision d;
		leap_decide(&st, &in, &d);
		for (size_t i = 0; i < d.n_logs; i++) {
			if (d.logs[i].key == LEAP_LOG_KEY_ARM)
				r.arms++;
			if (d.logs[i].key == LEAP_LOG_KEY_DONE)
				r.dones++;
		}
		if (d.li != PKT_LI_NONE) {
			/* served only inside the last day before the leap */
			assert_true(real >= T2017 - DAY && real < T2017);
		}
		if (d.kernel_changed) {
			struct clk_adj adj = { .modes = CLK_ADJ_STATUS, .status = d.kernel_status };
			kclk_adjust(&k, base, &adj, NULL);
			r.status_writes++;
			if (d.kernel_status) {
				assert_true(real >= T2017 - DAY && real < T2017);
				if (real < r.first_set_real)
					r.first_set_real = real;
			} else if (r.first_set_real != INT64_MAX) {
				r.last_clear_real = real;
			}
		}
		gn_time_ns dl = leap_next_deadline(&st, &in);
		int64_t sleep = poll_ns;
		if (dl != INT64_MAX && dl - real < sleep)
			sleep = dl - real;
		if (sleep < 1000000)
			sleep = 1000000;    /* the loop's granularity: 1 ms */
		base += sleep;
	}
	r.leaps = k.n_leaps;
	r.end_offset_ns = kclk_read(&k, base) - base;
	struct clk_state cs;
	kclk_state(&k, &cs);
	r.leap_state = k.leap_state;
	return r;
}

static void check_insert(const struct run *r)
{
	assert_int_equal(r->leaps, 1);
	assert_int_equal(r->end_offset_ns, -S);     /* UTC is one second behind */
	assert_int_equal(r->leap_state, KCLK_TIME_OK);
	assert_int_equal(r->arms, 1);
	assert_int_equal(r->dones, 1);
	assert_true(r->first_set_real >= T2017 - DAY);
	assert_true(r->first_set_real < T2017 - DAY + 1100 * S);  /* armed at the window */
	assert_true(r->last_clear_real >= T2017);
	assert_true(r->last_clear_real < T2017 + 2 * S);
}

static void test_file_insert(void **state)
{
	(void)state;
	struct leap_vote none = { .voters = 4 };
	struct run r = drive(&debian, none, 64 * S, 3 * DAY, 2 * DAY);
	check_insert(&r);
	/* first write (clear stale bits), arm, clear */
	assert_int_equal(r.status_writes, 3);
}

static void test_vote_insert_long_polls(void **state)
{
	(void)state;
	struct leap_vote v = { .voters = 4, .ins = 3 };
	struct run r = drive(NULL, v, 1024 * S, 20 * DAY, 3 * DAY);
	check_insert(&r);
	/* the window opened on a deadline, not a poll */
	assert_int_equal(r.first_set_real, T2017 - DAY);
}

static void test_sources_outvoted_by_file(void **state)
{
	(void)state;
	/* the sources announce a deletion; the valid file lists an insertion: inserted */
	struct leap_vote v = { .voters = 3, .del = 3 };
	struct run r = drive(&debian, v, 64 * S, 2 * DAY, DAY);
	check_insert(&r);
}

static void test_vote_delete(void **state)
{
	(void)state;
	struct leap_vote v = { .voters = 5, .del = 4 };
	struct run r = drive(NULL, v, 16 * S, 2 * DAY, DAY);
	assert_int_equal(r.leaps, 1);
	assert_int_equal(r.end_offset_ns, S);       /* 23:59:59 skipped: one second ahead */
	assert_int_equal(r.leap_state, KCLK_TIME_OK);
	assert_int_equal(r.arms, 1);
	assert_int_equal(r.dones, 1);
}

static void test_no_leap(void **state)
{
	(void)state;
	/* minority vote, no file: nothing happens, the kernel bit is never set */
	struct leap_vote v = { .voters = 4, .ins = 2 };
	struct run r = drive(NULL, v, 64 * S, 2 * DAY, DAY);
	assert_int_equal(r.leaps, 0);
	assert_int_equal(r.end_offset_ns, 0);
	assert_int_equal(r.arms, 0);
	assert_int_equal(r.first_set_real, INT64_MAX);
	assert_int_equal(r.status_writes, 1);       /* the first (clearing) write only */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_insert),
		cmocka_unit_test(test_vote_insert_long_polls),
		cmocka_unit_test(test_sources_outvoted_by_file),
		cmocka_unit_test(test_vote_delete),
		cmocka_unit_test(test_no_leap),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
