/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target for the engine's network input (core/eng: associations, clock filter,
 * selection, discipline, server) on hostile datagrams. Not a parser, but the code every
 * packet from the network reaches after pkt_decode.
 *
 * One engine with "server 192.0.2.1 iburst" and "peer 192.0.2.2", driven on simulated
 * clocks. The input is a sequence of records (at most 64):
 *   octet 0   bits 0-1: who sends: 0 = 192.0.2.1:123 on its association's socket,
 *                       1 = 192.0.2.2:123 (peer) to the server socket,
 *                       2 = a client 203.0.113.9:40000 to the server socket,
 *                       3 = 192.0.2.1:123 to the server socket
 *             bit 2:    patch octets 24..31 (org) with the last transmit field sent to
 *                       that address, so the packet passes the origin check
 *             bit 3:    patch octets 32..47 (rec, xmt) with the receiver's time plus
 *                       (int8)octet 1 milliseconds, so the sample is plausible
 *             bits 4-7: n: the clocks advance 2^n ms before this record (timers run)
 *   octet 1   offset in ms for bit 3
 *   octet 2   datagram length L; then L octets of datagram (fewer at the end of input)
 * Checks beyond "no crash":
 *  - every action is well formed: a send is 12..ENG_MAX_PKT octets of VN 1..4, to one of
 *    the configured sources from its association, or to the sender of the datagram just
 *    handled from the server socket, never longer than that datagram (no amplification);
 *    log lines are terminated;
 *  - after eng_on_timer the next deadline is in the future (no busy loop);
 *  - eng_status and eng_sources stay sane (state, stratum <= 16, finite numbers, tally
 *    codes from ntpq's set).
 * A step of the clock is applied to the simulated clock and reported back with
 * eng_on_clock_stepped, as the daemon does.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cfg.h"
#include "eng.h"
#include "fuzz.h"
#include "gn_addr.h"
#include "ntp_time.h"
#include "pkt.h"

#define MAX_RECORDS 64
#define MAX_TIMER_CALLS 64

static const char conf[] =
	"server 192.0.2.1 iburst minpoll 4 maxpoll 6\n"
	"peer 192.0.2.2\n"
	"restrict default kod limited nomodify noquery\n"
	"restrict 127.0.0.1\n"
	"mru maxdepth 64\n"; /* a small client table: the default allocates 1 MB per run */

static void rng_fill(void *ctx, void *buf, size_t len)
{
	uint64_t *s = ctx;
	uint8_t *b = buf;
	for (size_t i = 0; i < len; i++) {
		*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
		b[i] = (uint8_t)(*s >> 56);
	}
}

struct sim {
	struct eng *eng;
	struct eng_now now;
	struct gn_addr src[2];          /* the configured sources */
	struct gn_addr client;
	uint32_t assoc[2];
	uint8_t last_xmt[4][8];         /* last transmit field sent to: src0, src1, client */
	const struct gn_addr *reply_to; /* sender of the datagram being handled, or NULL */
	size_t reply_max;               /* its length */
};

static int dest_index(const struct sim *s, const struct gn_addr *to)
{
	for (int i = 0; i < 2; i++)
		if (gn_addr_equal(to, &s->src[i]))
			return i;
	if (gn_addr_equal(to, &s->client))
		return 2;
	return -1;
}

static void run_actions(struct sim *s)
{
	const struct eng_action *a;
	size_t n = eng_actions(s->eng, &a);
	int64_t step = 0;
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
				/* From an association: to its own source. */
				FUZZ_CHECK(d == 0 || d == 1);
				FUZZ_CHECK(snd->assoc_id == s->assoc[d] || s->assoc[d] == 0);
			} else {
				/* From the server socket: an answer to the datagram being handled,
				 * or a symmetric peer's poll. */
				if (s->reply_to && gn_addr_equal(&snd->to, s->reply_to) &&
				    mode != PKT_MODE_SYM_ACTIVE)
					FUZZ_CHECK(snd->len <= s->reply_max);
				else
					FUZZ_CHECK(d == 1);
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
			}
			break;
		}
		case ENG_ACT_LOG:
			FUZZ_CHECK(memchr(a[i].u.log.text, '\0', sizeof a[i].u.log.text) != NULL);
			break;
		case ENG_ACT_CLOCK_STEP:
			step += a[i].u.step_ns;
			break;
		case ENG_ACT_CLOCK_ADJ:
		case ENG_ACT_DRIFT:
		case ENG_ACT_CLOSE:
			break;
		default:
			FUZZ_CHECK(!"unknown action kind");
		}
	}
	eng_clear_actions(s->eng);
	if (step != 0) {
		s->now.real_ns += step;
		eng_on_clock_stepped(s->eng, &s->now, step, false);
		eng_clear_actions(s->eng);
	}
}

static void run_timers(struct sim *s)
{
	for (int i = 0; i < MAX_TIMER_CALLS; i++) {
		if (eng_next_deadline(s->eng) > s->now.mono_ns)
			return;
		eng_on_timer(s->eng, &s->now);
		run_actions(s);
	}
	FUZZ_CHECK(eng_next_deadline(s->eng) > s->now.mono_ns);
}

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
	struct eng_source_info info[4];
	size_t n = eng_sources(s->eng, &s->now, info, 4);
	for (size_t i = 0; i < n && i < 4; i++) {
		FUZZ_CHECK(strchr(" x.-+#*o", info[i].tally) != NULL && info[i].tally != '\0');
		FUZZ_CHECK(memchr(info[i].kod, '\0', sizeof info[i].kod) != NULL);
	}
}

static void put_ts(uint8_t *p, ntp_ts64 t)
{
	for (int k = 0; k < 8; k++)
		p[k] = (uint8_t)(t >> (56 - 8 * k));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg cfg;
	static bool cfg_done;
	if (!cfg_done) {
		static struct cfg_diags d;
		cfg_defaults(&cfg);
		FUZZ_CHECK(cfg_parse(&cfg, "fuzz_eng", conf, sizeof conf - 1, NULL, &d) == 0);
		FUZZ_CHECK(cfg.n_sources == 2);
		cfg_done = true;
	}

	struct sim s;
	memset(&s, 0, sizeof s);
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	struct eng_params p = {
		.cfg = &cfg,
		.rng = { .fill = rng_fill, .ctx = &seed },
		.precision_log2 = -20,
	};
	s.now.real_ns = INT64_C(1763769600) * GN_NS_PER_S;
	s.now.mono_ns = INT64_C(1000) * GN_NS_PER_S;
	s.eng = eng_new(&p, &s.now);
	FUZZ_CHECK(s.eng != NULL);
	FUZZ_CHECK(gn_addr_parse("192.0.2.1", 123, &s.src[0]));
	FUZZ_CHECK(gn_addr_parse("192.0.2.2", 123, &s.src[1]));
	FUZZ_CHECK(gn_addr_parse("203.0.113.9", 40000, &s.client));
	struct gn_addr local;
	FUZZ_CHECK(gn_addr_parse("192.0.2.100", 123, &local));
	for (unsigned i = 0; i < 2; i++)
		s.assoc[i] = eng_add_source_addr(s.eng, &s.now, i, &s.src[i]);
	FUZZ_CHECK(s.assoc[0] != 0);
	run_actions(&s);
	run_timers(&s);

	size_t pos = 0;
	for (unsigned r = 0; r < MAX_RECORDS && pos + 3 <= size; r++) {
		uint8_t op = data[pos], off = data[pos + 1];
		size_t len = data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		uint8_t pkt[256];
		memcpy(pkt, data + pos, len);
		pos += len;

		int64_t adv_ns = ((int64_t)1 << (op >> 4)) * 1000000;
		s.now.real_ns += adv_ns;
		s.now.mono_ns += adv_ns;
		run_timers(&s);

		unsigned who = op & 3;
		int d = who == 0 || who == 3 ? 0 : who == 1 ? 1 : 2;
		if ((op & 4) && len >= 32)
			memcpy(pkt + 24, s.last_xmt[d], 8);
		if ((op & 8) && len >= PKT_HEADER_LEN) {
			gn_time_ns t = s.now.real_ns + (int64_t)(int8_t)off * 1000000;
			put_ts(pkt + 32, ntp_ts64_from_ns(t - 1000));
			put_ts(pkt + 40, ntp_ts64_from_ns(t));
		}
		struct eng_rx rx = {
			.buf = pkt, .len = len,
			.from = d == 2 ? s.client : s.src[d],
			.local = local,
			.rx_ns = s.now.real_ns,
			.assoc_id = who == 0 ? s.assoc[0] : 0,
		};
		s.reply_to = &rx.from;
		s.reply_max = len;
		eng_on_packet(s.eng, &s.now, &rx);
		run_actions(&s);
		s.reply_to = NULL;
		check_status(&s);
	}
	/* Let the engine run on for a while with no more input. */
	for (int i = 0; i < 8; i++) {
		s.now.real_ns += 16 * GN_NS_PER_S;
		s.now.mono_ns += 16 * GN_NS_PER_S;
		run_timers(&s);
	}
	check_status(&s);
	eng_free(s.eng);
	return 0;
}
