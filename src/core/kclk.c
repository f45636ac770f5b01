/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kclk: the Linux kernel clock discipline as a pure function of a base (oscillator) time.
 * Owns the model's arithmetic: the per-second update (Linux second_overflow), adjtimex's
 * modes, steps and the leap-second state machine. Works in the kernel's scaled units
 * (nanoseconds << 32) so rounding follows the kernel's. Does not own reading any clock:
 * callers hand in the base time. See kclk.h for what is modelled and what is simplified.
 */
#include "kclk.h"

#include <math.h>
#include <stddef.h>

#include "gn_assert.h"

#define NTP_SCALE_SHIFT 32                     /* Linux NTP_SCALE_SHIFT */
#define SCALE ((int64_t)1 << NTP_SCALE_SHIFT)
#define NS_PER_S 1000000000LL
#define NS_PER_US 1000LL
#define USER_HZ 100                            /* ticks per second of tick_us */
#define NOMINAL_SCALED (NS_PER_S * SCALE)      /* one second, scaled (exact in int64) */
#define PPM_SCALE (NS_PER_US * 65536LL)        /* timex.freq unit → scaled ns/s: 1000 << 16 */
#define MAXFREQ_SCALED (500000LL * SCALE)      /* 500 ppm = 500000 ns/s, scaled */
#define MAX_TICKADJ_SCALED (KCLK_MAX_TICKADJ_US * NS_PER_US * SCALE)
#define SECS_PER_DAY 86400LL

/* Linux shift_right: symmetric about zero (rounds toward zero). */
static int64_t shift_right(int64_t x, int s)
{
	return x < 0 ? -((-x) >> s) : x >> s;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Rate excess of the disciplined clock over base during this second (dimensionless). */
static double excess(const struct kclk *k)
{
	return (double)(k->tick_length - NOMINAL_SCALED) / (double)NOMINAL_SCALED;
}

static int64_t disciplined_now(const struct kclk *k)
{
	return k->last_base_ns + k->corr_ns;
}

/* Base time at which the disciplined clock reaches the start of second disc_sec + 1. */
static void schedule_next_second(struct kclk *k)
{
	double left_ns = (double)((k->disc_sec + 1) * NS_PER_S - disciplined_now(k)) - k->corr_frac_ns;
	if (left_ns <= 0) {
		k->next_second_ns = k->last_base_ns;
		return;
	}
	double base_left = ceil(left_ns / (1.0 + excess(k)));
	k->next_second_ns = k->last_base_ns + (int64_t)base_left;
}

/* Advance linearly (no second boundary crossed) to base_ns. */
static void advance_linear(struct kclk *k, int64_t base_ns)
{
	int64_t d = base_ns - k->last_base_ns;
	if (d <= 0)
		return;
	double inc = (double)d * excess(k) + k->corr_frac_ns;
	double whole = floor(inc);
	k->corr_ns += (int64_t)whole;
	k->corr_frac_ns = inc - whole;
	k->last_base_ns = base_ns;
}

static void update_frequency(struct kclk *k)
{
	int64_t new_base = (int64_t)k->tick_us * NS_PER_US * USER_HZ * SCALE + k->time_freq;
	k->tick_length += new_base - k->tick_length_base;
	k->tick_length_base = new_base;
	k->freq_scaled = k->time_freq / PPM_SCALE;
}

static void arm_leap(struct kclk *k)
{
	int64_t rem = k->disc_sec - floor_div(k->disc_sec, SECS_PER_DAY) * SECS_PER_DAY;
	k->next_leap_s = k->disc_sec + SECS_PER_DAY - rem;
}

/* The clock jumps by delta_ns (leap second or step); keep the second bookkeeping. */
static void jump(struct kclk *k, int64_t delta_ns)
{
	k->corr_ns += delta_ns;
	k->jumps_ns += delta_ns;
	k->disc_sec = floor_div(disciplined_now(k), NS_PER_S);
}

/* Linux second_overflow: the disciplined clock has just entered second disc_sec + 1. */
static void second_overflow(struct kclk *k)
{
	k->disc_sec++;
	int64_t secs = k->disc_sec;

	/* Leap second state machine (kernel/time/ntp.c; adjtimex(2) "time_state"). */
	switch (k->leap_state) {
	case KCLK_TIME_OK:
		if (k->status & CLK_STA_INS) {
			k->leap_state = KCLK_TIME_INS;
			arm_leap(k);
		} else if (k->status & CLK_STA_DEL) {
			k->leap_state = KCLK_TIME_DEL;
			arm_leap(k);
		}
		break;
	case KCLK_TIME_INS:
		if (!(k->status & CLK_STA_INS)) {
			k->leap_state = KCLK_TIME_OK;
		} else if (secs == k->next_leap_s) {
			/* 23:59:60: the clock steps back and repeats 23:59:59's reading. */
			k->corr_ns -= NS_PER_S;
			k->jumps_ns -= NS_PER_S;
			k->disc_sec--;
			k->leap_state = KCLK_TIME_OOP;
			k->n_leaps++;
		}
		break;
	case KCLK_TIME_DEL:
		if (!(k->status & CLK_STA_DEL)) {
			k->leap_state = KCLK_TIME_OK;
		} else if (secs + 1 == k->next_leap_s) {
			/* 23:59:59 is skipped. */
			k->corr_ns += NS_PER_S;
			k->jumps_ns += NS_PER_S;
			k->disc_sec++;
			k->leap_state = KCLK_TIME_WAIT;
			k->n_leaps++;
		}
		break;
	case KCLK_TIME_OOP:
		k->leap_state = KCLK_TIME_WAIT;
		break;
	case KCLK_TIME_WAIT:
	default:
		if (!(k->status & (CLK_STA_INS | CLK_STA_DEL)))
			k->leap_state = KCLK_TIME_OK;
		break;
	}

	/* Error bound grows by the maximum frequency error each second. */
	k->maxerror_us += KCLK_MAXERROR_GROWTH_US;
	if (k->maxerror_us > KCLK_PHASE_LIMIT_US) {
		k->maxerror_us = KCLK_PHASE_LIMIT_US;
		k->status |= CLK_STA_UNSYNC;
	}

	/* This second's share of the PLL offset. */
	k->tick_length = k->tick_length_base;
	int64_t chunk = shift_right(k->time_offset, KCLK_SHIFT_PLL + k->pll_constant);
	k->time_offset -= chunk;
	k->tick_length += chunk;
	k->pll_offset_ns = shift_right(k->time_offset, NTP_SCALE_SHIFT);

	/* This second's share of the single-shot offset: 500 µs, or what is left. */
	int64_t adj_us = k->singleshot_left_ns / NS_PER_US;
	if (adj_us > KCLK_MAX_TICKADJ_US) {
		adj_us -= KCLK_MAX_TICKADJ_US;
		k->tick_length += MAX_TICKADJ_SCALED;
	} else if (adj_us < -KCLK_MAX_TICKADJ_US) {
		adj_us += KCLK_MAX_TICKADJ_US;
		k->tick_length -= MAX_TICKADJ_SCALED;
	} else {
		k->tick_length += adj_us * NS_PER_US * SCALE;
		adj_us = 0;
	}
	k->singleshot_left_ns = adj_us * NS_PER_US;
}

static void advance(struct kclk *k, int64_t base_ns)
{
	if (base_ns < k->last_base_ns) {
		/* The base went backwards (a caller's bug, or -X over a stepped system clock):
		 * follow it, as if the disciplined clock had been stepped with it. */
		k->last_base_ns = base_ns;
		k->disc_sec = floor_div(disciplined_now(k), NS_PER_S);
		schedule_next_second(k);
		return;
	}
	while (k->next_second_ns <= base_ns) {
		advance_linear(k, k->next_second_ns);
		second_overflow(k);
		schedule_next_second(k);
	}
	advance_linear(k, base_ns);
}

void kclk_init(struct kclk *k, int64_t base_ns)
{
	REQUIRE(k != NULL);
	*k = (struct kclk){0};
	k->last_base_ns = base_ns;
	k->tick_us = CLK_NOMINAL_TICK_US;
	k->pll_constant = 2;                    /* Linux's boot-time time_constant */
	k->status = CLK_STA_UNSYNC | CLK_STA_NANO;
	k->maxerror_us = KCLK_PHASE_LIMIT_US;
	k->esterror_us = KCLK_PHASE_LIMIT_US;
	k->leap_state = KCLK_TIME_OK;
	k->next_leap_s = INT64_MAX;
	k->tick_length_base = 0;
	k->tick_length = 0;
	update_frequency(k);
	k->tick_length = k->tick_length_base;
	k->disc_sec = floor_div(base_ns, NS_PER_S);
	k->pll_reftime_s = k->disc_sec;
	schedule_next_second(k);
}

int64_t kclk_read(struct kclk *k, int64_t base_ns)
{
	advance(k, base_ns);
	return base_ns + k->corr_ns;
}

int64_t kclk_correction_ns(const struct kclk *k, int64_t base_ns)
{
	struct kclk copy = *k;
	advance(&copy, base_ns);
	return copy.corr_ns;
}

bool kclk_adjust_valid(const struct clk_adj *adj)
{
	if (adj == NULL)
		return false;
	if ((adj->modes & CLK_ADJ_TICK) &&
	    (adj->tick_us < KCLK_MIN_TICK_US || adj->tick_us > KCLK_MAX_TICK_US))
		return false;
	if ((adj->modes & CLK_ADJ_FREQ) && !isfinite(adj->freq_ppm))
		return false;
	return true;
}

/* Linux process_adj_status. */
static void adj_status(struct kclk *k, unsigned status)
{
	const unsigned ronly = CLK_STA_NANO; /* of the bits clk.h names, only NANO is read-only */
	if ((k->status & CLK_STA_PLL) && !(status & CLK_STA_PLL)) {
		k->leap_state = KCLK_TIME_OK;
		k->status = CLK_STA_UNSYNC;
		k->next_leap_s = INT64_MAX;
	}
	if (!(k->status & CLK_STA_PLL) && (status & CLK_STA_PLL))
		k->pll_reftime_s = k->disc_sec;
	k->status &= ronly;
	k->status |= status & ~ronly;
	k->status |= CLK_STA_NANO;
}

/* Linux ntp_update_offset: the kernel PLL/FLL, nanosecond mode. */
static void adj_offset(struct kclk *k, int64_t offset_ns)
{
	if (!(k->status & CLK_STA_PLL))
		return;
	int64_t offset = clamp64(offset_ns, -KCLK_MAXPHASE_NS, KCLK_MAXPHASE_NS);
	int64_t secs = k->disc_sec - k->pll_reftime_s;
	k->pll_reftime_s = k->disc_sec;
	int tc = k->pll_constant;

	/* FLL term (ntp_update_offset_fll). */
	int64_t freq_adj = 0;
	k->fll_mode = false;
	if (secs >= KCLK_MINSEC_S && ((k->status & CLK_STA_FLL) || secs > KCLK_MAXSEC_S)) {
		k->fll_mode = true;
		freq_adj = offset * ((int64_t)1 << (NTP_SCALE_SHIFT - KCLK_SHIFT_FLL)) / secs;
	}
	/* PLL term, with the update interval capped to keep the loop stable. */
	int64_t cap = (int64_t)1 << (KCLK_SHIFT_PLL + 1 + tc);
	if (secs > cap)
		secs = cap;
	if (secs < 0)
		secs = 0;
	freq_adj += offset * secs * ((int64_t)1 << (NTP_SCALE_SHIFT - 2 * (KCLK_SHIFT_PLL + 2 + tc)));
	k->time_freq = clamp64(freq_adj + k->time_freq, -MAXFREQ_SCALED, MAXFREQ_SCALED);
	k->time_offset = offset * SCALE;
	k->pll_offset_ns = offset;
}

void kclk_adjust(struct kclk *k, int64_t base_ns, const struct clk_adj *adj, struct clk_state *out)
{
	REQUIRE(k != NULL && adj != NULL);
	advance(k, base_ns);
	if (kclk_adjust_valid(adj)) {
		unsigned m = adj->modes;
		if (m & CLK_ADJ_STATUS)
			adj_status(k, adj->status);
		if (m & CLK_ADJ_FREQ) {
			/* timex.freq is a long in 2^-16 ppm; the kernel clamps to ±MAXFREQ. */
			const double lim = (double)(MAXFREQ_SCALED / PPM_SCALE);
			double f = adj->freq_ppm * 65536.0;
			f = f > lim ? lim : f < -lim ? -lim : f;
			k->time_freq = (int64_t)llround(f) * PPM_SCALE;
		}
		if (m & CLK_ADJ_MAXERROR)
			k->maxerror_us = clamp64(adj->maxerror_us, 0, KCLK_PHASE_LIMIT_US);
		if (m & CLK_ADJ_ESTERROR)
			k->esterror_us = clamp64(adj->esterror_us, 0, KCLK_PHASE_LIMIT_US);
		if (m & CLK_ADJ_TIMECONST)
			k->pll_constant = (int32_t)clamp64(adj->pll_constant, 0, KCLK_MAXTC);
		if (m & CLK_ADJ_OFFSET)
			adj_offset(k, adj->offset_ns);
		if (m & CLK_ADJ_TICK)
			k->tick_us = adj->tick_us;
		if (m & (CLK_ADJ_TICK | CLK_ADJ_FREQ | CLK_ADJ_OFFSET))
			update_frequency(k);
		if (m & CLK_ADJ_SINGLESHOT) {
			/* adjtime's offset is a whole number of µs (truncated toward zero). */
			k->singleshot_left_ns = adj->offset_ns / NS_PER_US * NS_PER_US;
		}
		/* The rate of the rest of this second changed: the boundary moves. */
		schedule_next_second(k);
	}
	if (out != NULL)
		kclk_state(k, out);
}

void kclk_step(struct kclk *k, int64_t base_ns, int64_t delta_ns)
{
	REQUIRE(k != NULL);
	advance(k, base_ns);
	jump(k, delta_ns);
	/* ntp_clear(): a set clock is unsynchronised until the daemon says otherwise. */
	k->singleshot_left_ns = 0;
	k->time_offset = 0;
	k->pll_offset_ns = 0;
	k->status |= CLK_STA_UNSYNC;
	k->maxerror_us = KCLK_PHASE_LIMIT_US;
	k->esterror_us = KCLK_PHASE_LIMIT_US;
	k->tick_length = k->tick_length_base;
	if (k->leap_state == KCLK_TIME_INS || k->leap_state == KCLK_TIME_DEL)
		arm_leap(k);
	k->n_steps++;
	schedule_next_second(k);
}

void kclk_state(const struct kclk *k, struct clk_state *out)
{
	REQUIRE(k != NULL && out != NULL);
	out->freq_ppm = (double)k->freq_scaled / 65536.0;
	out->tick_us = k->tick_us;
	out->offset_ns = k->pll_offset_ns + k->singleshot_left_ns;
	out->status = k->status | CLK_STA_NANO;
	out->maxerror_us = k->maxerror_us;
	out->esterror_us = k->esterror_us;
	out->state = (k->status & CLK_STA_UNSYNC) ? KCLK_TIME_ERROR : k->leap_state;
}

double kclk_rate_ppm(const struct kclk *k)
{
	REQUIRE(k != NULL);
	return excess(k) * 1e6;
}
