/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target for the engine (core/eng: associations, clock filter, selection, discipline,
 * server, and the disturbed clock: external steps, every source jumping at once, the
 * kernel's leap second) on hostile datagrams and a hostile clock. Not a parser, but the
 * code every packet from the network, and every step of the clock the daemon notices,
 * reaches.
 *
 * One engine with "server 192.0.2.1 iburst" and "peer 192.0.2.2" (or a second server),
 * driven on simulated clocks: the real-time clock the engine disciplines, the monotonic
 * clock, and the true time (UTC) the simulated servers answer with. The harness knows
 * err = real - true (0 at the start): the engine's steps and external steps move the real
 * clock, a migration moves the true time, and a server's answer (when patched, below)
 * shows true time plus that server's own error plus a per-record offset.
 *
 * Input: an optional header, then records (at most 64).
 *   header: 0xC5, flags1, flags2 (without it: the original engine and input format, so
 *           older corpus files keep their meaning)
 *     flags1 bit 0 `disable ntp`        bit 4 that leap is a deletion (else an insertion)
 *            bit 1 RFC discipline       bit 5 a drift file value (flags2 bits 2-3 pick it)
 *            bit 2 -g                   bit 6 -x (slew only: step threshold 600 s)
 *            bit 3 a leap: the clocks start 15 min before 2025-12-01 00:00 UTC and a
 *                  leap file listing a leap second there is loaded
 *            bit 7 two servers: 192.0.2.2 is a second `server ... iburst`, and who = 1
 *                  (below) answers on its own association's socket
 *     flags2 bit 0 `tinker step 0`      bit 1 `tinker panic 0`
 *            bits 2-3 the drift value: 0, 12.5, -499.5, 500 ppm
 *   datagram record: op, off, L (L != 0xFF), then L octets of datagram (fewer at the end)
 *     op bits 0-1: who sends: 0 = 192.0.2.1:123 on its association's socket,
 *                  1 = 192.0.2.2:123 (the peer) to the server socket (two servers: on its
 *                      association's socket),
 *                  2 = a client 203.0.113.9:40000 to the server socket,
 *                  3 = 192.0.2.1:123 to the server socket
 *        bit 2:    patch octets 24..31 (org) with the last transmit field sent to that
 *                  address, so the packet passes the origin check
 *        bit 3:    patch octets 16..47 (ref, rec, xmt) with that server's time halfway
 *                  between the last request sent to it and now (a symmetric path), plus
 *                  (int8)off milliseconds (so the sample is plausible)
 *        bits 4-7: n: the clocks advance 2^n ms before this record (timers run)
 *   control record: op, a, 0xFF, then 8 octets v (a big-endian int64; missing octets 0)
 *     op bits 4-7 advance the clocks as above; (op & 15) % 10 is the kind:
 *     0 external step of the clock by D(a, v): the real clock moves, true time does not,
 *       and the engine is told (eng_on_clock_stepped, external), as the daemon does
 *     1 migration: true time moves by D(a, v) while both local clocks stand still (every
 *       server's answers shift at once; the engine is told nothing)
 *     2 the kernel's leap second: the clocks run on (timers too) to the leap instant plus
 *       (int8)v[7] * 100 ms if that is ahead, then the real clock steps by -1 s for an
 *       insertion (+1 s for a deletion; the sign flipped when a & 1), plus (int8)a * 200 µs
 *       (1 s ± 10 ms is a leap for the engine); an external step for the engine; true time
 *       leaps with it. Without a leap in the variant: a ±1 s external step.
 *     3 1 + (a & 7) external steps back to back, each D(a >> 3, v) (alternating in sign
 *       when a & 0x80), no time between
 *     4 the clocks run on for (v mod 2048) s, timers and all, no packets
 *     5 eng_on_tx_timestamp for source a & 1 with its last transmit field, sent (v mod 1 ms)
 *       ago
 *     6 eng_remove_source of source a & 1;  7 add it back (a new association)
 *     8 a & 1: forget the leap file (eng_set_leap_table NULL), else load it again
 *     9 server a & 1 alone jumps by D(a >> 1, v) (its answers shift; the other's do not)
 *   D(a, v) = (int32)v in the unit a & 7 (ns, µs, ms, s, 1000 s, day, 2^32 s), or the whole
 *   int64 v in ns for a & 7 == 7; the clocks are kept within 1970..2116 (a step that would
 *   leave that range is refused, as the kernel refuses to set such a time).
 *
 * Checks beyond "no crash, no REQUIRE/ENSURE/INSIST failure":
 *  - every action is well formed: a send is 12..ENG_MAX_PKT octets of VN 1..4, to one of
 *    the configured sources from its live association, or to the sender of the datagram
 *    just handled from the server socket, never longer than that datagram (no
 *    amplification); log lines are terminated;
 *  - clock adjustments stay within the kernel's limits: frequency finite and within
 *    ±500 ppm, tick within ±10 % of nominal, a PLL offset within ±0.5 s, known status
 *    bits (not insert and delete at once), time constant 0..10, errors not negative; the
 *    drift file value finite and within ±500 ppm;
 *  - `disable ntp`: no clock adjustment, step or drift file write at all;
 *  - a step only while handling an answer the association took in (a new sample), at
 *    most one per event, never two without a new sample in between, never with
 *    `tinker step 0`, never of less than the step threshold (600 s with -x), never beyond
 *    the panic threshold before the engine was first synchronised (unless -g, first step);
 *    never while handling an external step;
 *  - after the timers the next deadline is in the future (no busy loop); after any other
 *    event it is not in the past by more than the loop's tolerance (1 ms: poll() waits in
 *    milliseconds);
 *  - an external step counts once: either as a kernel leap (only a step of 1 s ± 10 ms
 *    in the leap's direction, back for an insertion, forward for a deletion; and always
 *    so within 10 s of the leap the kernel was armed for) or as a restart,
 *    after which the engine is not synchronised (unless `disable ntp`, which never is);
 *  - counters never go back: eng_status' restarts_ext, jumps, jump_alarms, kernel_leaps
 *    (restarts and kernel leaps only in an external step; jumps and jump alarms only at a
 *    sample, by one at most), each association's sent/received/dropped/test counters, the
 *    server's counters;
 *  - eng_status and eng_sources stay sane (state, stratum <= 16, finite numbers, tally
 *    codes from ntpq's set).
 * A step of the clock is applied to the simulated clock and reported back with
 * eng_on_clock_stepped, as the daemon does. Built with -DFUZZ_ENG_TRACE, the engine's log
 * lines and steps go to stderr (for writing seeds: tests/fuzz/make_corpus.py).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "clk.h"
#include "eng.h"
#include "fuzz.h"
#include "gn_addr.h"
#include "leap.h"
#include "ntp_time.h"
#include "pkt.h"
#include "srv.h"

#define MAX_RECORDS 64
#define MAX_TIMER_CALLS 64
#define HDR_MAGIC 0xC5
#define CTL_LEN 0xFF
#define LOOP_TOL_NS 1000000LL           /* the daemon's poll() waits in whole ms */
#define T_MIN_NS INT64_C(0)             /* 1970: the kernel refuses earlier */
#define T_MAX_NS (INT64_C(1) << 62)     /* about 2116 */
#define START_S INT64_C(1763769600)     /* 2025-11-22 00:00:00 UTC */
#define LEAP_AT_S INT64_C(1764547200)   /* 2025-12-01 00:00:00 UTC */
#define LEAP_NEAR_NS (10 * GN_NS_PER_S) /* eng.c ENG_LEAP_NEAR_NS */
#define LEAP_TOL_NS 10000000LL          /* eng.c ENG_LEAP_STEP_TOL_NS */
#define MAX_ADVANCE_EVENTS 200000

enum { F1_NTP_OFF = 1, F1_RFC = 2, F1_G = 4, F1_LEAP = 8, F1_LEAP_DEL = 16, F1_DRIFT = 32,
       F1_SLEW_ONLY = 64, F1_TWO_SERVERS = 128 };
enum { F2_STEP0 = 1, F2_PANIC0 = 2 };
enum { K_EXT_STEP, K_MIGRATE, K_KERNEL_LEAP, K_STEPS, K_ADVANCE, K_TX_TS, K_REMOVE, K_READD,
       K_LEAP_FILE, K_SHIFT_ONE, K__COUNT };
/* what is being handled, for the step and counter checks */
enum ev { EV_INIT, EV_TIMER, EV_PACKET, EV_EXT_STEP, EV_OTHER };

static void rng_fill(void *ctx, void *buf, size_t len)
{
	uint64_t *s = ctx;
	uint8_t *b = buf;
	for (size_t i = 0; i < len; i++) {
		*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
		b[i] = (uint8_t)(*s >> 56);
	}
}

struct src_seen {              /* an association's counters as last seen */
	uint32_t id;
	uint64_t sent, received, dropped, test_fail[16];
};

struct sim {
	struct eng *eng;
	struct eng_now now;
	struct gn_addr src[2];          /* the configured sources */
	struct gn_addr client;
	uint32_t assoc[2];              /* their associations (0 = removed) */
	uint32_t removed[2];            /* the ids removed, which must never send again */
	uint8_t last_xmt[4][8];         /* last transmit field sent to: src0, src1, client */
	int64_t last_send_true_ns[3];   /* the true time it left at (0 = never) */
	const struct gn_addr *reply_to; /* sender of the datagram being handled, or NULL */
	size_t reply_max;               /* its length */

	/* the variant */
	const struct cfg *cfg;
	bool ntp_off, two_servers, allow_g;
	double step_s, panic_s;         /* the engine's thresholds (0 = off) */
	bool have_leap;
	struct leap_table leap_tab;
	gn_time_ns leap_at_ns;
	int64_t leap_delta_ns;          /* the real clock's move at the leap: -1 s insert */

	/* the world */
	int64_t err_ns;                 /* real clock - true time */
	int64_t srv_off_ns[2];          /* each server's own error */
	unsigned kernel_status;         /* the last status word given to the kernel */
	unsigned leap_dir;              /* its last leap bit (CLK_STA_INS or _DEL), 0 = none yet */

	/* the checks */
	enum ev ev;
	bool ev_sample;                 /* the association took in the packet being handled */
	unsigned steps_in_event;
	unsigned steps;
	uint64_t samples, samples_at_step;
	bool seen_sync;
	struct eng_status st;           /* as last seen */
	struct src_seen seen[8];
	struct srv_stats srv;
};

/* --- configurations, parsed once each --- */

static const struct cfg *get_cfg(bool ntp_off, bool two_servers, bool step0, bool panic0)
{
	static struct cfg cfgs[16];
	static bool done[16];
	unsigned k = (unsigned)ntp_off | (unsigned)two_servers << 1 | (unsigned)step0 << 2 |
		     (unsigned)panic0 << 3;
	if (!done[k]) {
		char text[512];
		int n = snprintf(text, sizeof text,
				 "server 192.0.2.1 iburst minpoll 4 maxpoll 6\n"
				 "%s\n"
				 "restrict default kod limited nomodify noquery\n"
				 "restrict 127.0.0.1\n"
				 "mru maxdepth 64\n" /* a small client table: the default allocates 1 MB per run */
				 "%s%s%s",
				 two_servers ? "server 192.0.2.2 iburst minpoll 4 maxpoll 6" : "peer 192.0.2.2",
				 ntp_off ? "disable ntp\n" : "", step0 ? "tinker step 0\n" : "",
				 panic0 ? "tinker panic 0\n" : "");
		FUZZ_CHECK(n > 0 && (size_t)n < sizeof text);
		static struct cfg_diags d;
		cfg_defaults(&cfgs[k]);
		FUZZ_CHECK(cfg_parse(&cfgs[k], "fuzz_eng", text, (size_t)n, NULL, &d) == 0);
		FUZZ_CHECK(cfgs[k].n_sources == 2);
		FUZZ_CHECK(((cfgs[k].enable_clear & CFG_EN_NTP) != 0) == ntp_off);
		done[k] = true;
	}
	return &cfgs[k];
}

/* --- time arithmetic that cannot overflow --- */

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* The delta that takes t to t + d, kept within T_MIN_NS..T_MAX_NS. */
static int64_t clamp_delta(int64_t t, int64_t d)
{
	int64_t r = sat_add(t, d);
	if (r < T_MIN_NS)
		r = T_MIN_NS;
	if (r > T_MAX_NS)
		r = T_MAX_NS;
	return r - t;
}

static bool in_range(int64_t t, int64_t d)
{
	int64_t r;
	return !__builtin_add_overflow(t, d, &r) && r >= T_MIN_NS && r <= T_MAX_NS;
}

static int64_t decode_delta(unsigned a, uint64_t v)
{
	static const int64_t unit_ns[7] = { 1, 1000, 1000000, GN_NS_PER_S, 1000 * GN_NS_PER_S,
					    86400 * GN_NS_PER_S, (INT64_C(1) << 32) * GN_NS_PER_S };
	if ((a & 7) == 7)
		return (int64_t)v;
	int64_t r;
	int64_t x = (int32_t)(uint32_t)v;
	if (__builtin_mul_overflow(x, unit_ns[a & 7], &r))
		return x > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* The true time now (what a correct server reads). */
static int64_t true_ns(const struct sim *s)
{
	return s->now.real_ns - s->err_ns;
}

/* --- checks --- */

static int dest_index(const struct sim *s, const struct gn_addr *to)
{
	for (int i = 0; i < 2; i++)
		if (gn_addr_equal(to, &s->src[i]))
			return i;
	if (gn_addr_equal(to, &s->client))
		return 2;
	return -1;
}

static void check_adj(struct sim *s, const struct clk_adj *adj)
{
	FUZZ_CHECK(!s->ntp_off);
	const unsigned known = CLK_ADJ_FREQ | CLK_ADJ_TICK | CLK_ADJ_OFFSET | CLK_ADJ_SINGLESHOT |
			       CLK_ADJ_STATUS | CLK_ADJ_TIMECONST | CLK_ADJ_MAXERROR | CLK_ADJ_ESTERROR;
	FUZZ_CHECK((adj->modes & ~known) == 0);
	if (adj->modes & CLK_ADJ_FREQ)
		FUZZ_CHECK(isfinite(adj->freq_ppm) && fabs(adj->freq_ppm) <= CLK_MAX_FREQ_PPM);
	if (adj->modes & CLK_ADJ_TICK)
		FUZZ_CHECK(adj->tick_us >= CLK_NOMINAL_TICK_US - CLK_MAX_TICK_DELTA_US &&
			   adj->tick_us <= CLK_NOMINAL_TICK_US + CLK_MAX_TICK_DELTA_US);
	if (adj->modes & CLK_ADJ_OFFSET) /* Linux MAXPHASE */
		FUZZ_CHECK(adj->offset_ns >= -500000000LL && adj->offset_ns <= 500000000LL);
	if (adj->modes & CLK_ADJ_STATUS) {
		const unsigned bits = CLK_STA_PLL | CLK_STA_INS | CLK_STA_DEL | CLK_STA_UNSYNC |
				      CLK_STA_FLL | CLK_STA_NANO;
		FUZZ_CHECK((adj->status & ~bits) == 0);
		FUZZ_CHECK((adj->status & (CLK_STA_INS | CLK_STA_DEL)) != (CLK_STA_INS | CLK_STA_DEL));
		s->kernel_status = adj->status;
		if (adj->status & (CLK_STA_INS | CLK_STA_DEL))
			s->leap_dir = adj->status & (CLK_STA_INS | CLK_STA_DEL);
	}
	if (adj->modes & CLK_ADJ_TIMECONST)
		FUZZ_CHECK(adj->pll_constant >= 0 && adj->pll_constant <= 10);
	if (adj->modes & CLK_ADJ_MAXERROR)
		FUZZ_CHECK(adj->maxerror_us >= 0);
	if (adj->modes & CLK_ADJ_ESTERROR)
		FUZZ_CHECK(adj->esterror_us >= 0);
}

static void check_step(struct sim *s, int64_t step_ns)
{
	FUZZ_CHECK(!s->ntp_off);
	/* a step follows a new sample that agreed with the others: only while handling an
	 * answer the association took in, one per event, a new sample since the last one */
	FUZZ_CHECK(s->ev == EV_PACKET && s->ev_sample);
	FUZZ_CHECK(s->steps_in_event == 0);
	FUZZ_CHECK(s->steps == 0 || s->samples > s->samples_at_step);
	/* beyond the step threshold, which 0 turns off */
	FUZZ_CHECK(s->step_s > 0);
	double mag_s = fabs((double)step_ns / 1e9);
	FUZZ_CHECK(mag_s >= s->step_s - 1e-9);
	/* beyond the panic threshold only once synchronised (a disturbed clock) or with -g */
	if (s->panic_s > 0 && mag_s > s->panic_s + 1e-9)
		FUZZ_CHECK(s->seen_sync || (s->allow_g && s->steps == 0));
	s->steps_in_event++;
	s->steps++;
	s->samples_at_step = s->samples;
}

static void run_actions(struct sim *s)
{
	const struct eng_action *a;
	size_t n = eng_actions(s->eng, &a);
	int64_t step = 0;
	bool stepped = false;
	for (size_t i = 0; i < n; i++) {
		switch (a[i].kind) {
		case ENG_ACT_SEND: {
			const struct eng_send *snd = &a[i].u.send;
			FUZZ_CHECK(snd->len >= PKT_MODE6_HEADER_LEN && snd->len <= ENG_MAX_PKT);
			uint8_t vn, mode;
			FUZZ_CHECK(pkt_peek(snd->buf, snd->len, &vn, &mode));
			FUZZ_CHECK(vn >= 1 && vn <= 4);
			int d = dest_index(s, &snd->to);
			if (snd->assoc_id != 0) {
				/* From a live association: to its own source. */
				FUZZ_CHECK(d == 0 || d == 1);
				FUZZ_CHECK(snd->assoc_id == s->assoc[d]);
				FUZZ_CHECK(snd->assoc_id != s->removed[0] && snd->assoc_id != s->removed[1]);
			} else {
				/* From the server socket: an answer to the datagram being handled,
				 * or a symmetric peer's poll. */
				if (s->reply_to && gn_addr_equal(&snd->to, s->reply_to) &&
				    mode != PKT_MODE_SYM_ACTIVE)
					FUZZ_CHECK(snd->len <= s->reply_max);
				else
					FUZZ_CHECK(d == 1 && !s->two_servers);
			}
			if (snd->len >= PKT_HEADER_LEN && d >= 0) {
				uint8_t xmt[8];
				memcpy(xmt, snd->buf + 40, 8);
				if (snd->stamp_xmt) {
					ntp_ts64 t = ntp_ts64_from_ns(s->now.real_ns);
					for (int k = 0; k < 8; k++)
						xmt[k] = (uint8_t)(t >> (56 - 8 * k));
				}
				memcpy(s->last_xmt[d], xmt, 8);
				s->last_send_true_ns[d] = true_ns(s);
			}
			break;
		}
		case ENG_ACT_LOG:
#ifdef FUZZ_ENG_TRACE
			fprintf(stderr, "%10.3f %s\n", (double)(s->now.mono_ns / 1000000) / 1e3,
				a[i].u.log.text);
#endif
			FUZZ_CHECK(memchr(a[i].u.log.text, '\0', sizeof a[i].u.log.text) != NULL);
			FUZZ_CHECK(a[i].u.log.level >= ENG_LOG_ERR && a[i].u.log.level <= ENG_LOG_DEBUG);
			break;
		case ENG_ACT_CLOCK_STEP:
#ifdef FUZZ_ENG_TRACE
			fprintf(stderr, "%10.3f STEP %+.6f s\n", (double)(s->now.mono_ns / 1000000) / 1e3,
				(double)a[i].u.step_ns / 1e9);
#endif
			check_step(s, a[i].u.step_ns);
			step = a[i].u.step_ns;
			stepped = true;
			break;
		case ENG_ACT_CLOCK_ADJ:
			check_adj(s, &a[i].u.adj);
			break;
		case ENG_ACT_DRIFT:
			FUZZ_CHECK(!s->ntp_off);
			FUZZ_CHECK(isfinite(a[i].u.drift_ppm) && fabs(a[i].u.drift_ppm) <= CLK_MAX_FREQ_PPM);
			break;
		case ENG_ACT_CLOSE:
			break;
		default:
			FUZZ_CHECK(!"unknown action kind");
		}
	}
	eng_clear_actions(s->eng);
	/* As the daemon: apply the step (the kernel refuses a time outside its range: then
	 * the engine is not told), then report it. */
	if (stepped && in_range(s->now.real_ns, step)) {
		s->now.real_ns += step;
		s->err_ns += step;
		enum ev was = s->ev;
		s->ev = EV_OTHER;
		eng_on_clock_stepped(s->eng, &s->now, step, false);
		const struct eng_action *b;
		size_t m = eng_actions(s->eng, &b);
		for (size_t i = 0; i < m; i++) {
			FUZZ_CHECK(b[i].kind != ENG_ACT_CLOCK_STEP && b[i].kind != ENG_ACT_SEND);
			if (b[i].kind == ENG_ACT_CLOCK_ADJ)
				check_adj(s, &b[i].u.adj);
		}
		eng_clear_actions(s->eng);
		s->ev = was;
	}
}

static void check_deadline(const struct sim *s)
{
	FUZZ_CHECK(eng_next_deadline(s->eng) >= s->now.mono_ns - LOOP_TOL_NS);
}

static const struct src_seen *find_seen(const struct sim *s, uint32_t id)
{
	for (size_t i = 0; i < sizeof s->seen / sizeof s->seen[0]; i++)
		if (s->seen[i].id == id)
			return &s->seen[i];
	return NULL;
}

static uint64_t received_of(const struct sim *s, uint32_t id)
{
	struct eng_source_info info[4];
	size_t n = eng_sources(s->eng, &s->now, info, 4);
	for (size_t i = 0; i < n && i < 4; i++)
		if (info[i].assoc_id == id)
			return info[i].received;
	return 0;
}

/* After every event: status and sources sane, counters never back. */
static void check_status(struct sim *s)
{
	struct eng_status st;
	eng_status(s->eng, &s->now, &st);
	FUZZ_CHECK(st.state == ENG_UNSYNC || st.state == ENG_SYNC || st.state == ENG_HOLDOVER ||
		   st.state == ENG_PANIC);
	FUZZ_CHECK(st.stratum <= 16 && st.leap <= 3);
	FUZZ_CHECK(isfinite(st.offset_s) && isfinite(st.jitter_s) && isfinite(st.frequency_ppm));
	FUZZ_CHECK(isfinite(st.rootdelay_s) && isfinite(st.rootdisp_s));
	FUZZ_CHECK(memchr(st.panic_reason, '\0', sizeof st.panic_reason) != NULL);
	if (s->ntp_off)
		FUZZ_CHECK(st.state == ENG_UNSYNC && st.frequency_ppm == 0.0);
	if (st.state == ENG_SYNC)
		s->seen_sync = true;

	const struct eng_status *o = &s->st;
	FUZZ_CHECK(st.restarts_ext >= o->restarts_ext && st.jumps >= o->jumps &&
		   st.jump_alarms >= o->jump_alarms && st.kernel_leaps >= o->kernel_leaps);
	if (s->ev != EV_EXT_STEP)
		FUZZ_CHECK(st.restarts_ext == o->restarts_ext && st.kernel_leaps == o->kernel_leaps);
	if (s->ev != EV_PACKET)
		FUZZ_CHECK(st.jumps == o->jumps && st.jump_alarms == o->jump_alarms);
	FUZZ_CHECK(st.jumps - o->jumps + st.jump_alarms - o->jump_alarms <= 1);
	s->st = st;

	struct eng_source_info info[4];
	size_t n = eng_sources(s->eng, &s->now, info, 4);
	FUZZ_CHECK(n <= 2);
	struct src_seen now_seen[8];
	memset(now_seen, 0, sizeof now_seen);
	for (size_t i = 0; i < n; i++) {
		const struct eng_source_info *x = &info[i];
		FUZZ_CHECK(strchr(" x.-+#*o", x->tally) != NULL && x->tally != '\0');
		FUZZ_CHECK(memchr(x->kod, '\0', sizeof x->kod) != NULL);
		FUZZ_CHECK(isfinite(x->offset_s) && isfinite(x->delay_s) && isfinite(x->jitter_s) &&
			   isfinite(x->disp_s));
		const struct src_seen *p = find_seen(s, x->assoc_id);
		if (p != NULL) {
			FUZZ_CHECK(x->sent >= p->sent && x->received >= p->received &&
				   x->dropped >= p->dropped);
			for (int k = 0; k < 16; k++)
				FUZZ_CHECK(x->test_fail[k] >= p->test_fail[k]);
		}
		now_seen[i].id = x->assoc_id;
		now_seen[i].sent = x->sent;
		now_seen[i].received = x->received;
		now_seen[i].dropped = x->dropped;
		memcpy(now_seen[i].test_fail, x->test_fail, sizeof x->test_fail);
	}
	/* removed associations are forgotten (their ids are never reused) */
	memcpy(s->seen, now_seen, sizeof now_seen);

	const struct srv_stats *v = eng_server_stats(s->eng);
	FUZZ_CHECK(v->received >= s->srv.received && v->answered >= s->srv.answered &&
		   v->kod_sent >= s->srv.kod_sent);
	for (int k = 0; k < SRV_VERDICT__COUNT; k++)
		FUZZ_CHECK(v->verdicts[k] >= s->srv.verdicts[k]);
	s->srv = *v;
}

static void run_timers(struct sim *s)
{
	s->ev = EV_TIMER;
	for (int i = 0; i < MAX_TIMER_CALLS; i++) {
		if (eng_next_deadline(s->eng) > s->now.mono_ns)
			break;
		eng_on_timer(s->eng, &s->now);
		run_actions(s);
	}
	FUZZ_CHECK(eng_next_deadline(s->eng) > s->now.mono_ns);
}

/* Both clocks run on by ns, the timers firing on time. */
static void advance(struct sim *s, int64_t ns)
{
	int64_t end = s->now.mono_ns + ns;
	for (int i = 0; i < MAX_ADVANCE_EVENTS && s->now.mono_ns < end; i++) {
		int64_t d = eng_next_deadline(s->eng);
		int64_t to = d > s->now.mono_ns && d < end ? d : end;
		int64_t by = to - s->now.mono_ns;
		if (!in_range(s->now.real_ns, by))
			by = 0;
		s->now.mono_ns += by;
		s->now.real_ns += by;
		run_timers(s);
		if (by == 0)
			break;
	}
	check_status(s);
}

static void put_ts(uint8_t *p, ntp_ts64 t)
{
	for (int k = 0; k < 8; k++)
		p[k] = (uint8_t)(t >> (56 - 8 * k));
}

/* --- the events --- */

static void ext_step(struct sim *s, int64_t delta_ns, int64_t true_moves_ns)
{
	if (!in_range(s->now.real_ns, delta_ns))
		return;
	s->now.real_ns += delta_ns;
	s->err_ns += delta_ns - true_moves_ns;
	/* would the engine take it for the kernel's leap? (armed: the kernel's bit is set, the
	 * leap is within 10 s and the step is 1 s ± 10 ms) */
	int64_t mag = delta_ns < 0 ? -delta_ns : delta_ns;
	bool one_s = mag >= GN_NS_PER_S - LEAP_TOL_NS && mag <= GN_NS_PER_S + LEAP_TOL_NS;
	/* the kernel inserts by going back a second, deletes by going forward */
	bool right_sign = s->leap_dir == 0 || (s->leap_dir == CLK_STA_INS) == (delta_ns < 0);
	bool armed = s->have_leap && (s->kernel_status & (CLK_STA_INS | CLK_STA_DEL)) != 0 &&
		     s->now.real_ns > s->leap_at_ns - LEAP_NEAR_NS &&
		     s->now.real_ns < s->leap_at_ns + LEAP_NEAR_NS;
	uint32_t restarts0 = s->st.restarts_ext, leaps0 = s->st.kernel_leaps;
	s->ev = EV_EXT_STEP;
	eng_on_clock_stepped(s->eng, &s->now, delta_ns, true);
	const struct eng_action *b;
	size_t m = eng_actions(s->eng, &b);
	for (size_t i = 0; i < m; i++)
		FUZZ_CHECK(b[i].kind != ENG_ACT_CLOCK_STEP && b[i].kind != ENG_ACT_SEND);
	run_actions(s);
	check_deadline(s);
	check_status(s);
	bool leap = s->st.kernel_leaps != leaps0;
	FUZZ_CHECK((s->st.restarts_ext - restarts0) + (s->st.kernel_leaps - leaps0) == 1);
	if (leap)
		FUZZ_CHECK(one_s && right_sign);
	if (armed && one_s && right_sign)
		FUZZ_CHECK(leap);
	if (!leap)
		FUZZ_CHECK(s->st.state == ENG_UNSYNC || s->st.state == ENG_PANIC);
	s->ev = EV_OTHER;
}

static void control(struct sim *s, unsigned kind, uint8_t a, uint64_t v)
{
	s->ev = EV_OTHER;
	switch (kind) {
	case K_EXT_STEP:
		ext_step(s, clamp_delta(s->now.real_ns, decode_delta(a, v)), 0);
		break;
	case K_MIGRATE: {
		/* true time moves by D (the servers' answers with it), the local clocks do not */
		int64_t d = clamp_delta(true_ns(s), decode_delta(a, v));
		s->err_ns -= d;
		break;
	}
	case K_KERNEL_LEAP: {
		int64_t l = s->have_leap ? s->leap_delta_ns : -GN_NS_PER_S;
		if (s->have_leap) {
			int64_t at = s->leap_at_ns + (int64_t)(int8_t)(uint8_t)v * 100000000LL;
			if (at > s->now.real_ns && at - s->now.real_ns < 3600 * GN_NS_PER_S)
				advance(s, at - s->now.real_ns);
		}
		int64_t delta = ((a & 1) ? -l : l) + (int64_t)(int8_t)a * 200000;
		/* true time leaps with the kernel only when it is the listed leap */
		ext_step(s, delta, s->have_leap && !(a & 1) ? l : 0);
		break;
	}
	case K_STEPS: {
		int64_t d = decode_delta(a >> 3, v);
		for (unsigned i = 0; i <= (a & 7u); i++) {
			int64_t di = (a & 0x80) && (i & 1) ? (d == INT64_MIN ? INT64_MAX : -d) : d;
			ext_step(s, clamp_delta(s->now.real_ns, di), 0);
		}
		break;
	}
	case K_ADVANCE:
		advance(s, (int64_t)(v % 2048) * GN_NS_PER_S);
		break;
	case K_TX_TS: {
		unsigned d = a & 1u;
		if (s->assoc[d] != 0) {
			ntp_ts64 x = 0;
			for (int k = 0; k < 8; k++)
				x = x << 8 | s->last_xmt[d][k];
			eng_on_tx_timestamp(s->eng, s->assoc[d], x, s->now.real_ns - (int64_t)(v % 1000000));
			run_actions(s);
		}
		break;
	}
	case K_REMOVE: {
		unsigned d = a & 1u;
		if (s->assoc[d] != 0) {
			FUZZ_CHECK(eng_remove_source(s->eng, &s->now, s->assoc[d]));
			s->removed[d] = s->assoc[d];
			s->assoc[d] = 0;
			run_actions(s);
		}
		break;
	}
	case K_READD: {
		unsigned d = a & 1u;
		if (s->assoc[d] == 0) {
			s->assoc[d] = eng_add_source_addr(s->eng, &s->now, d, &s->src[d]);
			FUZZ_CHECK(s->assoc[d] != 0 && s->assoc[d] != s->removed[d]);
			run_actions(s);
		}
		break;
	}
	case K_LEAP_FILE:
		eng_set_leap_table(s->eng, &s->now, (a & 1) ? NULL : &s->leap_tab);
		run_actions(s);
		break;
	case K_SHIFT_ONE: {
		unsigned d = a & 1u;
		int64_t t = sat_add(true_ns(s), s->srv_off_ns[d]);
		s->srv_off_ns[d] += clamp_delta(t, decode_delta(a >> 1, v));
		break;
	}
	default:
		break;
	}
	s->ev = EV_OTHER;
	check_deadline(s);
	check_status(s);
}

static void packet(struct sim *s, uint8_t op, uint8_t off, uint8_t *pkt, size_t len)
{
	unsigned who = op & 3;
	int d = who == 0 || who == 3 ? 0 : who == 1 ? 1 : 2;
	if ((op & 4) && len >= 32)
		memcpy(pkt + 24, s->last_xmt[d], 8);
	if ((op & 8) && len >= PKT_HEADER_LEN) {
		/* the server's clock halfway between the last request to it and now (a
		 * symmetric path, no time spent in the server), plus its error and off ms */
		int64_t now_t = true_ns(s), sent_t = s->last_send_true_ns[d];
		int64_t mid = sent_t != 0 && sent_t <= now_t ? sent_t + (now_t - sent_t) / 2 : now_t;
		int64_t t = sat_add(mid, d < 2 ? s->srv_off_ns[d] : 0);
		t = sat_add(t, (int64_t)(int8_t)off * 1000000);
		put_ts(pkt + 16, ntp_ts64_from_ns(sat_add(t, -16 * GN_NS_PER_S)));
		put_ts(pkt + 32, ntp_ts64_from_ns(t));
		put_ts(pkt + 40, ntp_ts64_from_ns(t));
	}
	uint32_t assoc_id = 0;
	if (who == 0)
		assoc_id = s->assoc[0];
	else if (who == 1 && s->two_servers)
		assoc_id = s->assoc[1];
	struct gn_addr local;
	FUZZ_CHECK(gn_addr_parse("192.0.2.100", 123, &local));
	struct eng_rx rx = {
		.buf = pkt, .len = len,
		.from = d == 2 ? s->client : s->src[d],
		.local = local,
		.rx_ns = s->now.real_ns,
		.assoc_id = assoc_id,
	};
	if ((who == 0 || (who == 1 && s->two_servers)) && assoc_id == 0)
		return; /* its association was removed: the socket is closed */
	uint64_t r0 = assoc_id ? received_of(s, assoc_id) : 0;
	s->reply_to = &rx.from;
	s->reply_max = len;
	s->ev = EV_PACKET;
	s->steps_in_event = 0;
	eng_on_packet(s->eng, &s->now, &rx);
	s->ev_sample = assoc_id != 0 && received_of(s, assoc_id) > r0;
	if (s->ev_sample)
		s->samples++;
	run_actions(s);
	check_deadline(s);
	check_status(s);
	s->ev_sample = false;
	s->reply_to = NULL;
	s->ev = EV_OTHER;
}

static void make_leap_table(struct sim *s, bool del)
{
	memset(&s->leap_tab, 0, sizeof s->leap_tab);
	s->leap_at_ns = LEAP_AT_S * GN_NS_PER_S;
	s->leap_delta_ns = del ? GN_NS_PER_S : -GN_NS_PER_S;
	int64_t at = leap_ns_to_ntp_s(s->leap_at_ns);
	s->leap_tab.updated_ntp_s = at - 60 * 86400;
	s->leap_tab.expires_ntp_s = at + 180 * 86400;
	s->leap_tab.n = 3;
	s->leap_tab.e[0] = (struct leap_entry){ .ntp_s = 2272060800, .tai_utc_s = 10 };
	s->leap_tab.e[1] = (struct leap_entry){ .ntp_s = 3692217600, .tai_utc_s = 37 }; /* 2017 */
	s->leap_tab.e[2] = (struct leap_entry){ .ntp_s = at, .tai_utc_s = del ? 36 : 38 };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim s;
	memset(&s, 0, sizeof s);
	uint8_t f1 = 0, f2 = 0;
	size_t pos = 0;
	if (size >= 3 && data[0] == HDR_MAGIC) {
		f1 = data[1];
		f2 = data[2];
		pos = 3;
	}
	s.ntp_off = f1 & F1_NTP_OFF;
	s.two_servers = f1 & F1_TWO_SERVERS;
	s.allow_g = f1 & F1_G;
	s.have_leap = f1 & F1_LEAP;
	s.cfg = get_cfg(s.ntp_off, s.two_servers, f2 & F2_STEP0, f2 & F2_PANIC0);
	static const double drift[4] = { 0.0, 12.5, -499.5, 500.0 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	struct eng_params p = {
		.cfg = s.cfg,
		.rng = { .fill = rng_fill, .ctx = &seed },
		.precision_log2 = -20,
		.allow_first_panic = s.allow_g,
		.slew_only = f1 & F1_SLEW_ONLY,
		.have_drift = f1 & F1_DRIFT,
		.drift_ppm = drift[(f2 >> 2) & 3],
		.discipline = (f1 & F1_RFC) ? ENG_DSC_RFC : ENG_DSC_GNOMON,
	};
	/* the engine's thresholds (eng_new) */
	s.step_s = p.slew_only ? (s.cfg->tinker.step_s == 0 ? 0 : 600.0) : s.cfg->tinker.step_s;
	s.panic_s = s.cfg->tinker.panic_s;
	make_leap_table(&s, f1 & F1_LEAP_DEL);
	s.now.real_ns = s.have_leap ? s.leap_at_ns - 900 * GN_NS_PER_S : START_S * GN_NS_PER_S;
	s.now.mono_ns = INT64_C(1000) * GN_NS_PER_S;
	s.ev = EV_INIT;
	s.eng = eng_new(&p, &s.now);
	FUZZ_CHECK(s.eng != NULL);
	FUZZ_CHECK(gn_addr_parse("192.0.2.1", 123, &s.src[0]));
	FUZZ_CHECK(gn_addr_parse("192.0.2.2", 123, &s.src[1]));
	FUZZ_CHECK(gn_addr_parse("203.0.113.9", 40000, &s.client));
	eng_status(s.eng, &s.now, &s.st);
	for (unsigned i = 0; i < 2; i++)
		s.assoc[i] = eng_add_source_addr(s.eng, &s.now, i, &s.src[i]);
	FUZZ_CHECK(s.assoc[0] != 0 && s.assoc[1] != 0);
	if (s.have_leap)
		eng_set_leap_table(s.eng, &s.now, &s.leap_tab);
	run_actions(&s);
	run_timers(&s);
	check_status(&s);

	for (unsigned r = 0; r < MAX_RECORDS && pos + 3 <= size; r++) {
		uint8_t op = data[pos], off = data[pos + 1];
		size_t len = data[pos + 2];
		pos += 3;
		int64_t adv_ns = ((int64_t)1 << (op >> 4)) * 1000000;
		if (len == CTL_LEN) {
			uint64_t v = 0;
			for (int k = 0; k < 8; k++)
				v = v << 8 | (pos < size ? data[pos++] : 0);
			advance(&s, adv_ns);
			control(&s, (op & 15u) % K__COUNT, off, v);
			continue;
		}
		if (len > size - pos)
			len = size - pos;
		uint8_t pkt[256];
		memcpy(pkt, data + pos, len);
		pos += len;
		advance(&s, adv_ns);
		packet(&s, op, off, pkt, len);
	}
	/* Let the engine run on for a while with no more input. */
	for (int i = 0; i < 8; i++)
		advance(&s, 16 * GN_NS_PER_S);
	check_status(&s);
	eng_free(s.eng);
	return 0;
}
