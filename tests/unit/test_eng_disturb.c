/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_eng_disturb: the engine when its clock is disturbed (H2, issue 6;
 * docs/leap-dns-drift.md "Suspended, resumed and migrated machines"), in a small closed
 * loop: the engine, kclk as the kernel over a perfect oscillator, up to three perfect
 * servers on a LAN (fixed delays), and the daemon's external-step check (the real-time
 * clock against CLOCK_MONOTONIC, i.e. kclk's jumps, after every event).
 *   - a resumed guest whose agent set the clock 0.3 s off: one restart, a burst to every
 *     source, one step of -0.3 s within seconds, no panic;
 *   - a residual under the step threshold is slewed, never stepped; -2 s is stepped;
 *   - a paused (migrated) guest, 30 s and 3 h (beyond the panic threshold): every source
 *     jumps at once, one step, no panic, no falseticker;
 *   - one source jumping alone is not followed (the burst does not confirm it), and does
 *     not cost a burst at every poll; with a single source, a 30 s jump is followed but
 *     one beyond the panic threshold is not (panic as before);
 *   - the kernel's own leap second, seen as a -1 s external step at the armed leap, is no
 *     restart: no burst, no step, the offset stays small;
 *   - before the first synchronisation the panic threshold still holds (startup rules).
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
#include "clk.h"
#include "eng.h"
#include "kclk.h"
#include "leap.h"
#include "pkt.h"

#define NS GN_NS_PER_S
#define MONO0_NS (1000LL * NS)
#define MAX_SRC 3
#define MAX_RX 64
#define DELAY_NS 150000LL          /* each way */

/* splitmix64 as the engine's random source */
static void rng_fill(void *ctx, void *buf, size_t len)
{
	uint64_t *s = ctx;
	uint8_t *b = buf;
	for (size_t i = 0; i < len; i++) {
		uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		b[i] = (uint8_t)(z ^ (z >> 31));
	}
}

struct rxq {
	bool used;
	uint32_t assoc;
	unsigned src;
	int64_t at;                 /* true ns */
	uint8_t buf[48];
};

struct tw {
	struct cfg cfg;
	uint64_t rng;
	struct eng *eng;
	struct kclk k;
	int64_t utc0_ns;            /* UTC at t = 0 */
	int64_t leap_t, leap_ns;    /* UTC jumps by leap_ns at true leap_t (INT64_MAX none) */
	int64_t t;                  /* true ns from the start */
	int64_t paused_ns;          /* the node stood still this long so far */
	bool paused;
	unsigned n_src;
	struct gn_addr addr[MAX_SRC];
	double srv_off_s[MAX_SRC];
	struct rxq rx[MAX_RX];
	int64_t last_diff;          /* daemon: real - CLOCK_MONOTONIC at the last check */
	unsigned n_step, n_ext;
	int64_t last_step_ns;
	unsigned sent[MAX_SRC];
	unsigned n_logs;
	char logs[256][200];
	uint32_t log_keys[256];
	bool ever_panic;
};

static int64_t utc(const struct tw *w, int64_t t)
{
	return w->utc0_ns + t + (t >= w->leap_t ? w->leap_ns : 0);
}

static int64_t base(const struct tw *w) { return w->utc0_ns + w->t - w->paused_ns; }

static struct eng_now now_of(struct tw *w)
{
	int64_t b = base(w);
	struct eng_now n = { .real_ns = kclk_read(&w->k, b), .mono_ns = MONO0_NS + (b - w->utc0_ns) };
	return n;
}

static double offset_s(struct tw *w)
{
	int64_t off = now_of(w).real_ns - utc(w, w->t);
	if (w->leap_t != INT64_MAX && llabs(w->t - w->leap_t) < 2 * NS && llabs(off) > NS / 2)
		off += off > 0 ? -NS : NS; /* UTC is ambiguous by its second at the leap */
	return (double)off / 1e9;
}

static void tw_init(struct tw *w, unsigned n_src, int64_t utc0_ns)
{
	memset(w, 0, sizeof *w);
	cfg_defaults(&w->cfg);
	w->n_src = n_src;
	for (unsigned i = 0; i < n_src; i++) {
		struct cfg_source *s = &w->cfg.sources[w->cfg.n_sources++];
		snprintf(s->host, sizeof s->host, "127.0.0.%u", i + 1);
		s->port = 12345;
		s->minpoll = 6;
		s->maxpoll = 10;
		s->iburst = true;
		s->version = 4;
		char h[32];
		snprintf(h, sizeof h, "127.0.0.%u", i + 1);
		assert_true(gn_addr_parse(h, 12345, &w->addr[i]));
	}
	w->rng = 7;
	w->utc0_ns = utc0_ns;
	w->leap_t = INT64_MAX;
	kclk_init(&w->k, utc0_ns);
	struct eng_params p = { .cfg = &w->cfg, .rng = { rng_fill, &w->rng }, .precision_log2 = -20 };
	struct eng_now n = now_of(w);
	w->eng = eng_new(&p, &n);
	assert_non_null(w->eng);
	for (unsigned i = 0; i < n_src; i++)
		assert_true(eng_add_source_addr(w->eng, &n, i, &w->addr[i]) > 0);
	w->last_diff = 0;
}

static void tw_free(struct tw *w) { eng_free(w->eng); }

static void run_actions(struct tw *w);

/* The daemon's check after each event: a jump of real time against CLOCK_MONOTONIC
 * (Linux's: the real-time clock without its steps) not of its own making. */
static void check_ext(struct tw *w)
{
	int64_t diff = w->k.jumps_ns;
	int64_t d = diff - w->last_diff;
	w->last_diff = diff;
	if (d > 1000000 || d < -1000000) {
		w->n_ext++;
		struct eng_now n = now_of(w);
		eng_on_clock_stepped(w->eng, &n, d, true);
		run_actions(w);
	}
}

static void serve(struct tw *w, const struct eng_send *s)
{
	unsigned i;
	for (i = 0; i < w->n_src; i++)
		if (gn_addr_equal(&s->to, &w->addr[i]))
			break;
	assert_true(i < w->n_src);
	w->sent[i]++;
	struct pkt q, r;
	assert_int_equal(pkt_decode(s->buf, s->len, &q), PKT_OK);
	int64_t off = (int64_t)llround(w->srv_off_s[i] * 1e9);
	int64_t t2 = utc(w, w->t + DELAY_NS) + off, t3 = t2 + 5000;
	memset(&r, 0, sizeof r);
	r.li = PKT_LI_NONE;
	if (w->leap_t != INT64_MAX && w->t < w->leap_t && w->leap_t - w->t <= 86400 * NS)
		r.li = w->leap_ns < 0 ? PKT_LI_ADD : PKT_LI_DEL;
	r.vn = 4;
	r.mode = PKT_MODE_SERVER;
	r.stratum = 1;
	r.poll = q.poll;
	r.precision = -20;
	r.rootdisp = ntp_short32_from_s(1e-5);
	r.refid = pkt_refid_ascii("GPS");
	r.reftime = ntp_ts64_from_ns(t2 - NS);
	r.org = q.xmt;
	r.rec = ntp_ts64_from_ns(t2);
	r.xmt = ntp_ts64_from_ns(t3);
	for (unsigned k = 0; k < MAX_RX; k++)
		if (!w->rx[k].used) {
			w->rx[k].used = true;
			w->rx[k].assoc = s->assoc_id;
			w->rx[k].src = i;
			w->rx[k].at = w->t + 2 * DELAY_NS + 5000;
			assert_int_equal(pkt_encode_header(&r, w->rx[k].buf, 48), 48);
			return;
		}
	fail_msg("reply queue full");
}

static void run_actions(struct tw *w)
{
	for (int round = 0; round < 16; round++) {
		const struct eng_action *a;
		size_t n = eng_actions(w->eng, &a);
		if (n == 0)
			return;
		struct eng_action copy[128];
		assert_true(n <= 128);
		memcpy(copy, a, n * sizeof *a);
		eng_clear_actions(w->eng);
		for (size_t i = 0; i < n; i++) {
			const struct eng_action *x = &copy[i];
			switch (x->kind) {
			case ENG_ACT_SEND:
				if (x->u.send.assoc_id != 0)
					serve(w, &x->u.send);
				break;
			case ENG_ACT_CLOCK_ADJ:
				kclk_adjust(&w->k, base(w), &x->u.adj, NULL);
				break;
			case ENG_ACT_CLOCK_STEP: {
				kclk_step(&w->k, base(w), x->u.step_ns);
				w->last_diff += x->u.step_ns; /* ours, not external */
				w->n_step++;
				w->last_step_ns = x->u.step_ns;
				struct eng_now nn = now_of(w);
				eng_on_clock_stepped(w->eng, &nn, x->u.step_ns, false);
				break;
			}
			case ENG_ACT_LOG:
				if (w->n_logs < 256) {
					w->log_keys[w->n_logs] = x->u.log.key;
					snprintf(w->logs[w->n_logs++], sizeof w->logs[0], "%s", x->u.log.text);
				}
				break;
			default:
				break;
			}
		}
	}
}

/* Run the world until true time t_end (the node stands still while paused). */
static void run_until(struct tw *w, int64_t t_end)
{
	for (int guard = 0; guard < 2000000; guard++) {
		int64_t next = t_end;
		int which = -1;
		if (!w->paused) {
			struct eng_now n = now_of(w);
			int64_t d = eng_next_deadline(w->eng);
			int64_t td = w->t + (d > n.mono_ns ? d - n.mono_ns : 0);
			if (td < next)
				next = td;
		}
		for (int k = 0; k < MAX_RX; k++)
			if (w->rx[k].used && w->rx[k].at < next) {
				next = w->rx[k].at;
				which = k;
			}
		if (next >= t_end) {
			if (w->paused)
				w->paused_ns += t_end - w->t;
			w->t = t_end;
			return;
		}
		if (w->paused)
			w->paused_ns += next - w->t;
		w->t = next;
		struct eng_now n = now_of(w);
		if (which >= 0) {
			struct rxq q = w->rx[which];
			w->rx[which].used = false;
			if (w->paused)
				continue; /* lost: the guest is not running */
			struct eng_rx rx = { .buf = q.buf, .len = 48, .from = w->addr[q.src], .rx_ns = n.real_ns,
					     .assoc_id = q.assoc };
			eng_on_packet(w->eng, &n, &rx);
		} else {
			eng_on_timer(w->eng, &n);
		}
		run_actions(w);
		check_ext(w);
		struct eng_status st;
		eng_status(w->eng, &n, &st);
		if (st.state == ENG_PANIC)
			w->ever_panic = true;
	}
	fail_msg("run_until: too many events");
}

static void pause_for(struct tw *w, int64_t len)
{
	w->paused = true;
	run_until(w, w->t + len);
	w->paused = false;
}

static unsigned count_logs(const struct tw *w, unsigned from, const char *needle)
{
	unsigned k = 0;
	for (unsigned i = from; i < w->n_logs; i++)
		k += strstr(w->logs[i], needle) != NULL;
	return k;
}

/* The daemon lets one line per key and minute through: lines logged since `from` must
 * not share a key, or the later one would be lost. */
static bool restart_line(const char *t)
{
	static const char *const needles[] = { "outside gnomon", "jumped by", "every source shows",
					       "stepping the clock", "clock unsynchronised" };
	for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++)
		if (strstr(t, needles[i]) != NULL)
			return true;
	return false;
}

static void assert_keys_distinct(const struct tw *w, unsigned from)
{
	for (unsigned i = from; i < w->n_logs; i++)
		for (unsigned j = i + 1; j < w->n_logs; j++)
			if (restart_line(w->logs[i]) && restart_line(w->logs[j]) && w->log_keys[i] == w->log_keys[j])
				fail_msg("same log key %#x: \"%s\" and \"%s\"", w->log_keys[i], w->logs[i], w->logs[j]);
}

static struct eng_status status(struct tw *w)
{
	struct eng_now n = now_of(w);
	struct eng_status st;
	eng_status(w->eng, &n, &st);
	return st;
}

#define UTC0 (1780272000LL * NS) /* 2026-06-01 00:00:00 UTC */

/* Synchronised for two hours, then suspended for 3 h; at resume the agent sets the clock
 * to UTC + err_s. */
static void suspend_resume(struct tw *w, unsigned n_src, double err_s)
{
	tw_init(w, n_src, UTC0);
	run_until(w, 2 * 3600 * NS);
	assert_int_equal(status(w).state, ENG_SYNC);
	assert_true(fabs(offset_s(w)) < 1e-4);
	assert_int_equal(w->n_step, 0);
	pause_for(w, 3 * 3600 * NS);
	int64_t want = utc(w, w->t) + (int64_t)llround(err_s * 1e9);
	kclk_step(&w->k, base(w), want - now_of(w).real_ns); /* the agent: not gnomon's step */
}

static void test_resume_steps_residual(void **state)
{
	(void)state;
	static struct tw w;
	suspend_resume(&w, 3, 0.3);
	unsigned logs0 = w.n_logs, sent0 = w.sent[0] + w.sent[1] + w.sent[2];
	int64_t t_resume = w.t;
	run_until(&w, t_resume + 15 * NS);
	assert_int_equal(w.n_ext, 1);
	assert_int_equal(status(&w).restarts_ext, 1);
	assert_int_equal(count_logs(&w, logs0, "outside gnomon"), 1);
	assert_int_equal(count_logs(&w, logs0, "stepping the clock"), 1);
	assert_keys_distinct(&w, logs0);
	/* one step of the residual, within seconds: no stepout wait */
	assert_int_equal(w.n_step, 1);
	assert_true(llabs(w.last_step_ns + 300000000LL) < 1000000LL);
	assert_true(fabs(offset_s(&w)) < 1e-3);
	/* polled at once with a burst, until every source gave 3 samples (then the burst
	 * stops: the discipline's record was kept) */
	unsigned burst = w.sent[0] + w.sent[1] + w.sent[2] - sent0;
	assert_true(burst >= 9);
	assert_true(burst <= 12);
	run_until(&w, t_resume + 3600 * NS);
	assert_int_equal(w.n_step, 1);
	assert_false(w.ever_panic);
	assert_int_equal(status(&w).state, ENG_SYNC);
	assert_true(fabs(offset_s(&w)) < 1e-4);
	tw_free(&w);
}

static void test_resume_small_residual_slewed(void **state)
{
	(void)state;
	static struct tw w;
	suspend_resume(&w, 1, 0.05);
	int64_t t_resume = w.t;
	run_until(&w, t_resume + 30 * NS);
	assert_int_equal(w.n_ext, 1);
	assert_int_equal(w.n_step, 0);
	assert_true(fabs(offset_s(&w)) < 1e-3);
	run_until(&w, t_resume + 3600 * NS);
	assert_int_equal(w.n_step, 0);
	assert_int_equal(status(&w).state, ENG_SYNC);
	assert_true(fabs(offset_s(&w)) < 1e-4);
	tw_free(&w);
}

static void test_resume_behind_stepped(void **state)
{
	(void)state;
	static struct tw w;
	suspend_resume(&w, 1, -2.0);
	int64_t t_resume = w.t;
	run_until(&w, t_resume + 20 * NS);
	assert_int_equal(w.n_step, 1);
	assert_true(llabs(w.last_step_ns - 2000000000LL) < 1000000LL);
	assert_true(fabs(offset_s(&w)) < 1e-3);
	assert_false(w.ever_panic);
	tw_free(&w);
}

/* Both clocks stand still for len; nothing is set at resume. */
static void migrate(struct tw *w, int64_t len)
{
	tw_init(w, 3, UTC0);
	run_until(w, 2 * 3600 * NS);
	assert_int_equal(status(w).state, ENG_SYNC);
	pause_for(w, len);
	assert_true(fabs(offset_s(w) + (double)len / 1e9) < 1e-3);
}

static void check_migrated(struct tw *w, int64_t len)
{
	int64_t t_resume = w->t;
	unsigned logs0 = w->n_logs;
	/* the first answer comes at the next poll (up to 2^10 s, plus a burst) */
	run_until(w, t_resume + 1100 * NS);
	assert_int_equal(w->n_ext, 0);
	assert_int_equal(w->n_step, 1);
	assert_true(llabs(w->last_step_ns - len) < 1000000LL);
	assert_int_equal(status(w).jumps, 1);
	assert_int_equal(count_logs(w, logs0, "every source shows the clock"), 1);
	assert_int_equal(count_logs(w, logs0, "jumped by"), 1);
	assert_int_equal(count_logs(w, logs0, "stepping the clock"), 1);
	assert_keys_distinct(w, logs0);
	assert_false(w->ever_panic);
	run_until(w, w->t + 600 * NS);
	assert_true(fabs(offset_s(w)) < 1e-4);
	assert_int_equal(status(w).state, ENG_SYNC);
	struct eng_now n = now_of(w);
	struct eng_source_info si[MAX_SRC];
	assert_int_equal(eng_sources(w->eng, &n, si, MAX_SRC), 3);
	for (unsigned i = 0; i < 3; i++)
		assert_true(si[i].tally != 'x');
	assert_int_equal(w->n_step, 1);
}

static void test_migration_30s(void **state)
{
	(void)state;
	static struct tw w;
	migrate(&w, 30 * NS);
	check_migrated(&w, 30 * NS);
	tw_free(&w);
}

static void test_migration_beyond_panic(void **state)
{
	(void)state;
	static struct tw w;
	migrate(&w, 3 * 3600 * NS); /* a suspend nobody corrected: 10800 s > 1000 s panic */
	check_migrated(&w, 3 * 3600 * NS);
	tw_free(&w);
}

static void test_lone_source_migration(void **state)
{
	(void)state;
	static struct tw w;
	/* one source only: a 30 s pause is recognised and stepped ... */
	tw_init(&w, 1, UTC0);
	run_until(&w, 2 * 3600 * NS);
	assert_int_equal(status(&w).state, ENG_SYNC);
	pause_for(&w, 30 * NS);
	run_until(&w, w.t + 1100 * NS);
	assert_int_equal(w.n_step, 1);
	assert_true(llabs(w.last_step_ns - 30 * NS) < 1000000LL);
	assert_int_equal(status(&w).jumps, 1);
	assert_false(w.ever_panic);
	tw_free(&w);
	/* ... but 3 h (beyond the panic threshold) on one source's word is not: the panic
	 * threshold applies as before (one server stepping by years must not move us) */
	tw_init(&w, 1, UTC0);
	run_until(&w, 2 * 3600 * NS);
	pause_for(&w, 3 * 3600 * NS);
	unsigned logs0 = w.n_logs;
	run_until(&w, w.t + 1100 * NS);
	assert_int_equal(w.n_step, 0);
	assert_int_equal(status(&w).jumps, 0);
	assert_int_equal(status(&w).state, ENG_PANIC);
	assert_int_equal(count_logs(&w, logs0, "beyond the panic threshold"), 1);
	tw_free(&w);
}

static void test_one_source_jump_not_followed(void **state)
{
	(void)state;
	static struct tw w;
	tw_init(&w, 3, UTC0);
	run_until(&w, 2 * 3600 * NS);
	assert_int_equal(status(&w).state, ENG_SYNC);
	unsigned sent0 = w.sent[1];
	w.srv_off_s[0] = 5.0; /* one server jumps; the local clock did not */
	run_until(&w, w.t + 3 * 3600 * NS);
	assert_int_equal(w.n_step, 0);
	assert_false(w.ever_panic);
	struct eng_status st = status(&w);
	assert_int_equal(st.jumps, 0);
	assert_true(st.jump_alarms >= 1);
	assert_true(st.jump_alarms <= 1); /* after the burst it is no survivor: no further alarm */
	assert_int_equal(st.state, ENG_SYNC);
	assert_true(fabs(offset_s(&w)) < 1e-4);
	/* the good sources were not polled at a burst's rate all along */
	assert_true(w.sent[1] - sent0 < 3 * 3600 / 64 + 3 * 8);
	struct eng_now n = now_of(&w);
	struct eng_source_info si[MAX_SRC];
	assert_int_equal(eng_sources(w.eng, &n, si, MAX_SRC), 3);
	assert_int_equal(si[0].tally, 'x');
	tw_free(&w);
}

static void test_kernel_leap_is_no_restart(void **state)
{
	(void)state;
	static struct tw w;
	/* start 2026-06-30 12:00 UTC; a leap second at the end of that day */
	tw_init(&w, 1, UTC0 + (29LL * 86400 + 12 * 3600) * NS);
	int64_t at = leap_month_end(w.utc0_ns);
	w.leap_t = at - w.utc0_ns;
	w.leap_ns = -NS;
	run_until(&w, w.leap_t - 60 * NS);
	assert_int_equal(status(&w).state, ENG_SYNC);
	struct clk_state ks;
	kclk_state(&w.k, &ks);
	assert_true(ks.status & CLK_STA_INS);
	unsigned sent0 = w.sent[0], logs0 = w.n_logs;
	run_until(&w, w.leap_t + 120 * NS);
	assert_int_equal(w.k.n_leaps, 1);
	assert_int_equal(w.n_ext, 1); /* the daemon saw the kernel's -1 s ... */
	struct eng_status st = status(&w);
	assert_int_equal(st.kernel_leaps, 1); /* ... and the engine knew it for the leap */
	assert_int_equal(st.restarts_ext, 0);
	assert_int_equal(count_logs(&w, logs0, "outside gnomon"), 0);
	assert_int_equal(w.n_step, 0);
	assert_true(w.sent[0] - sent0 <= 4); /* no burst */
	assert_true(fabs(offset_s(&w)) < 1e-3);
	assert_int_equal(st.state, ENG_SYNC);
	run_until(&w, w.leap_t + 3600 * NS);
	kclk_state(&w.k, &ks);
	assert_false(ks.status & CLK_STA_INS); /* cleared after the leap */
	assert_int_equal(w.k.n_leaps, 1);
	assert_int_equal(w.n_step, 0);
	assert_true(fabs(offset_s(&w)) < 1e-4);
	tw_free(&w);
}

static void test_startup_panic_kept(void **state)
{
	(void)state;
	static struct tw w;
	tw_init(&w, 3, UTC0);
	for (unsigned i = 0; i < 3; i++)
		w.srv_off_s[i] = 2000.0; /* the clock is 2000 s behind from the start; no -g */
	run_until(&w, 600 * NS);
	assert_int_equal(w.n_step, 0);
	assert_int_equal(status(&w).state, ENG_PANIC);
	assert_int_equal(status(&w).jumps, 0);
	tw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resume_steps_residual),
		cmocka_unit_test(test_resume_small_residual_slewed),
		cmocka_unit_test(test_resume_behind_stepped),
		cmocka_unit_test(test_migration_30s),
		cmocka_unit_test(test_migration_beyond_panic),
		cmocka_unit_test(test_lone_source_migration),
		cmocka_unit_test(test_one_source_jump_not_followed),
		cmocka_unit_test(test_kernel_leap_is_no_restart),
		cmocka_unit_test(test_startup_panic_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
