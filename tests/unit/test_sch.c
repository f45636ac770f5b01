/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for sch, the poll loop and timer heap: timers fire in deadline order (ties in
 * insertion order) and only when due; the poll timeout is the time to the next timer,
 * never more than SCH_MAX_WAIT_MS (≤ 1 s), rounded up; a timer added by a callback waits
 * for the next iteration; cancel works; descriptors are dispatched and may be removed from inside a
 * callback; a signal (EINTR) is not an error. Uses a fake poll and clock for determinism,
 * and the real poll on a socketpair for descriptors.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "os_clock.h"
#include "os_wait.h"
#include "sch.h"

#define MS 1000000LL
#define S 1000000000LL

struct fake {
	int64_t now;
	int last_timeout_ms;
	int n_polls;
	int ret;                 /* what poll returns */
};

static int fake_poll(void *ctx, struct pollfd *fds, size_t n, int timeout_ms)
{
	struct fake *f = ctx;
	(void)fds;
	(void)n;
	f->last_timeout_ms = timeout_ms;
	f->n_polls++;
	if (f->ret < 0)
		return f->ret;
	if (timeout_ms > 0)
		f->now += (int64_t)timeout_ms * MS; /* nothing happened: the timeout passed */
	return 0;
}

static int64_t fake_mono(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

struct rec {
	int order[32];
	int n;
	struct sch *s;
};

struct tctx {
	struct rec *r;
	int tag;
	bool readd;              /* add another timer from the callback, at readd_at */
	int64_t readd_at;
};

static void tcb(void *ctx, uint64_t id, int64_t now)
{
	struct tctx *t = ctx;
	(void)id;
	(void)now;
	t->r->order[t->r->n++] = t->tag;
	if (t->readd) {
		static struct tctx again;
		again = (struct tctx){ .r = t->r, .tag = t->tag + 100 };
		sch_timer_add(t->r->s, t->readd_at, tcb, &again);
		t->readd = false;
	}
}

static void test_timer_order(void **state)
{
	(void)state;
	struct fake f = { .now = 1000 * S };
	struct sch_sys sys = { fake_poll, fake_mono, &f };
	struct sch *s = sch_new(&sys);
	struct rec r = { .s = s };
	struct tctx t[6];
	const int64_t at[6] = { 300, 100, 200, 100, 50, 1000 }; /* ms after start */
	for (int i = 0; i < 6; i++) {
		t[i] = (struct tctx){ .r = &r, .tag = i };
		assert_true(sch_timer_add(s, f.now + at[i] * MS, tcb, &t[i]) > 0);
	}
	assert_int_equal(sch_next_deadline(s), f.now + 50 * MS);
	/* Iterate until everything fired: each poll sleeps exactly to the next deadline. */
	for (int i = 0; i < 20 && sch_timer_count(s) > 0; i++)
		assert_true(sch_run_once(s, -1) >= 0);
	assert_int_equal(r.n, 6);
	const int want[6] = { 4, 1, 3, 2, 0, 5 }; /* 50, 100 (1 before 3: added first), 200, 300, 1000 */
	for (int i = 0; i < 6; i++)
		assert_int_equal(r.order[i], want[i]);
	sch_free(s);
}

static void test_timeout_bounds(void **state)
{
	(void)state;
	struct fake f = { .now = 5 * S };
	struct sch_sys sys = { fake_poll, fake_mono, &f };
	struct sch *s = sch_new(&sys);
	struct rec r = { .s = s };
	struct tctx t = { .r = &r, .tag = 1 };
	/* No timers: the poll waits at most SCH_MAX_WAIT_MS (≤ 1 s: signals are looked at). */
	assert_int_equal(sch_run_once(s, -1), 0);
	assert_int_equal(f.last_timeout_ms, SCH_MAX_WAIT_MS);
	assert_true(SCH_MAX_WAIT_MS <= 1000);
	/* A timer in 1 h: still SCH_MAX_WAIT_MS. */
	uint64_t id = sch_timer_add(s, f.now + 3600 * S, tcb, &t);
	assert_int_equal(sch_run_once(s, -1), 0);
	assert_int_equal(f.last_timeout_ms, SCH_MAX_WAIT_MS);
	assert_true(sch_timer_cancel(s, id));
	assert_false(sch_timer_cancel(s, id));
	/* A timer in 2.5 ms: the timeout rounds up to 3 ms, so the timer is due on waking. */
	sch_timer_add(s, f.now + 2500000, tcb, &t);
	assert_int_equal(sch_run_once(s, -1), 1);
	assert_int_equal(f.last_timeout_ms, 3);
	assert_int_equal(r.n, 1);
	/* The caller's own limit. */
	assert_int_equal(sch_run_once(s, 7), 0);
	assert_int_equal(f.last_timeout_ms, 7);
	/* An overdue timer: no waiting. */
	sch_timer_add(s, f.now - S, tcb, &t);
	assert_int_equal(sch_run_once(s, -1), 1);
	assert_int_equal(f.last_timeout_ms, 0);
	sch_free(s);
}

static void test_timer_added_in_callback_waits(void **state)
{
	(void)state;
	struct fake f = { .now = 0 };
	struct sch_sys sys = { fake_poll, fake_mono, &f };
	struct sch *s = sch_new(&sys);
	struct rec r = { .s = s };
	/* The callback re-arms at a deadline already past: it must not run in this iteration. */
	struct tctx t = { .r = &r, .tag = 1, .readd = true, .readd_at = -1 * S };
	sch_timer_add(s, 0, tcb, &t);
	assert_int_equal(sch_run_once(s, -1), 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(sch_timer_count(s), 1);
	assert_int_equal(sch_run_once(s, -1), 1);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.order[1], 101);
	sch_free(s);
}

static void test_eintr_is_not_error(void **state)
{
	(void)state;
	struct fake f = { .now = 0, .ret = -EINTR };
	struct sch_sys sys = { fake_poll, fake_mono, &f };
	struct sch *s = sch_new(&sys);
	assert_int_equal(sch_run_once(s, -1), 0);
	f.ret = -EINVAL;
	assert_int_equal(sch_run_once(s, -1), -EINVAL);
	sch_free(s);
}

struct fdctx {
	struct sch *s;
	int hits;
	int other_fd;            /* removed from inside the callback */
	char got[16];
};

static void fd_cb(void *ctx, int fd, short revents)
{
	struct fdctx *c = ctx;
	assert_true(revents & POLLIN);
	ssize_t n = read(fd, c->got, sizeof c->got - 1);
	assert_true(n > 0);
	c->got[n] = '\0';
	c->hits++;
	if (c->other_fd >= 0)
		sch_fd_del(c->s, c->other_fd);
}

static void test_real_fds(void **state)
{
	(void)state;
	int a[2], b[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	struct sch *s = sch_new(NULL); /* the real poll and monotonic clock */
	struct fdctx ca = { .s = s, .other_fd = b[0] }, cb = { .s = s, .other_fd = -1 };
	assert_int_equal(sch_fd_add(s, a[0], POLLIN, fd_cb, &ca), 0);
	assert_int_equal(sch_fd_add(s, b[0], POLLIN, fd_cb, &cb), 0);
	assert_int_equal(sch_fd_count(s), 2);
	/* Nothing to read: the loop returns after its timeout with no callback. */
	int64_t t0 = os_mono_ns();
	assert_int_equal(sch_run_once(s, 20), 0);
	assert_true(os_mono_ns() - t0 >= 19 * MS);
	/* Both readable; a's callback removes b before b's turn: b is not called. */
	assert_int_equal(write(a[1], "ping", 4), 4);
	assert_int_equal(write(b[1], "pong", 4), 4);
	assert_int_equal(sch_run_once(s, 1000), 1);
	assert_int_equal(ca.hits, 1);
	assert_string_equal(ca.got, "ping");
	assert_int_equal(cb.hits, 0);
	assert_int_equal(sch_fd_count(s), 1);
	/* A real SIGALRM during poll: EINTR, no error, and the flag-only handler style holds. */
	assert_int_equal(os_signals_install(), 0);
	(void)os_signals_take();
	raise(SIGHUP);
	assert_int_equal(sch_run_once(s, 10), 0);
	assert_int_equal(os_signals_take(), OS_SIG_HUP);
	sch_free(s);
	close(a[0]); close(a[1]); close(b[0]); close(b[1]);
}

/* The loop keeps poll's array between iterations: it must follow every change of the set
 * made between or inside iterations (a descriptor removed and its number reused with
 * another callback, events switched off and on, a descriptor added by a callback). */
struct addctx {
	struct fdctx c;
	int add_fd;              /* added from inside the callback */
	struct fdctx *add_ctx;
};

static void add_cb(void *ctx, int fd, short revents)
{
	struct addctx *a = ctx;
	fd_cb(&a->c, fd, revents);
	if (a->add_fd >= 0)
		assert_int_equal(sch_fd_add(a->c.s, a->add_fd, POLLIN, fd_cb, a->add_ctx), 0);
	a->add_fd = -1;
}

static void test_fd_set_changes(void **state)
{
	(void)state;
	int a[2], b[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	struct sch *s = sch_new(NULL);
	struct fdctx c1 = { .s = s, .other_fd = -1 }, c2 = { .s = s, .other_fd = -1 };
	struct fdctx cb = { .s = s, .other_fd = -1 };
	assert_int_equal(sch_fd_add(s, a[0], POLLIN, fd_cb, &c1), 0);
	assert_int_equal(write(a[1], "one", 3), 3);
	assert_int_equal(sch_run_once(s, 1000), 1);
	assert_int_equal(c1.hits, 1);
	/* removed, then the same number added back with another callback: that one runs */
	sch_fd_del(s, a[0]);
	assert_int_equal(sch_fd_add(s, a[0], POLLIN, fd_cb, &c2), 0);
	assert_int_equal(write(a[1], "two", 3), 3);
	assert_int_equal(sch_run_once(s, 1000), 1);
	assert_int_equal(c1.hits, 1);
	assert_int_equal(c2.hits, 1);
	assert_string_equal(c2.got, "two");
	/* events off: readable but not dispatched; on again: dispatched */
	sch_fd_events(s, a[0], 0);
	assert_int_equal(write(a[1], "three", 5), 5);
	assert_int_equal(sch_run_once(s, 20), 0);
	assert_int_equal(c2.hits, 1);
	sch_fd_events(s, a[0], POLLIN);
	assert_int_equal(sch_run_once(s, 1000), 1);
	assert_int_equal(c2.hits, 2);
	assert_string_equal(c2.got, "three");
	/* b added from a's callback: not dispatched in that iteration, polled from the next */
	sch_fd_del(s, a[0]);
	struct addctx ad = { .c = { .s = s, .other_fd = -1 }, .add_fd = b[0], .add_ctx = &cb };
	assert_int_equal(sch_fd_add(s, a[0], POLLIN, add_cb, &ad), 0);
	assert_int_equal(write(b[1], "bee", 3), 3);
	assert_int_equal(write(a[1], "four", 4), 4);
	assert_int_equal(sch_run_once(s, 1000), 1);
	assert_int_equal(ad.c.hits, 1);
	assert_int_equal(cb.hits, 0);
	assert_int_equal(sch_fd_count(s), 2);
	assert_int_equal(sch_run_once(s, 1000), 1);
	assert_int_equal(cb.hits, 1);
	assert_string_equal(cb.got, "bee");
	sch_free(s);
	close(a[0]); close(a[1]); close(b[0]); close(b[1]);
}

struct rt {
	int order[4];
	int n;
	int64_t deadline[4];
	bool early;
};

static void rt_cb(void *ctx, uint64_t id, int64_t now)
{
	struct rt *r = ctx;
	r->order[r->n++] = (int)id;
	if (now < r->deadline[id % 3] || os_mono_ns() < r->deadline[id % 3])
		r->early = true;
}

static void test_real_clock_timers(void **state)
{
	(void)state;
	/* The real monotonic clock and poll: three timers fire in deadline order, none early. */
	struct sch *s = sch_new(NULL);
	struct rt r;
	memset(&r, 0, sizeof r);
	int64_t t0 = os_mono_ns();
	const int64_t at_ms[3] = { 30, 10, 20 };
	uint64_t ids[3];
	for (int i = 0; i < 3; i++) {
		ids[i] = sch_timer_add(s, t0 + at_ms[i] * MS, rt_cb, &r);
		r.deadline[ids[i] % 3] = t0 + at_ms[i] * MS;
	}
	for (int i = 0; i < 100 && r.n < 3; i++)
		assert_true(sch_run_once(s, -1) >= 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.order[0], (int)ids[1]);
	assert_int_equal(r.order[1], (int)ids[2]);
	assert_int_equal(r.order[2], (int)ids[0]);
	assert_false(r.early);
	assert_true(os_mono_ns() - t0 < 1000 * MS);
	sch_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timeout_bounds),
		cmocka_unit_test(test_timer_added_in_callback_waits),
		cmocka_unit_test(test_eintr_is_not_error),
		cmocka_unit_test(test_real_fds),
		cmocka_unit_test(test_fd_set_changes),
		cmocka_unit_test(test_real_clock_timers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
