/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target for the leap-seconds.list parser (core/leap, leap_parse) and what is asked of
 * a parsed table. The crypto seam is the fake of fuzz.h with SHA-1 returning 20 zero
 * octets, so a file whose hash line is "#h 0 0 0 0 0" verifies and the fuzzer gets past
 * the hash check to everything after it; a real file (with its real #h) ends in
 * LEAP_ERR_BAD_HASH, which still fills the table. Checks beyond "no crash":
 *  - a refused file leaves the table zeroed (except BAD_HASH) and a terminated message;
 *  - an accepted table has 1..LEAP_MAX_ENTRIES entries strictly increasing in time, each a
 *    month start, TAI-UTC stepping by exactly one second, expiry after the update, and the
 *    verified hash (zero) stored;
 *  - leap_next, leap_tai_utc, leap_check and leap_decide agree with the table: just before
 *    each listed leap the next leap is that one, TAI-UTC at the instant is the entry's, and
 *    one second before it (inside the last day, file not expired) the decision serves the
 *    leap indicator and arms the kernel bit for it.
 */
#include <stdint.h>
#include <string.h>

#include "clk.h"
#include "fuzz.h"
#include "leap.h"
#include "ntp_time.h"
#include "pkt.h"

/* Instants whose nanoseconds fit in gn_time_ns (±292 years around 1970) with a day to
 * spare on either side; the table functions are only asked about those. */
static bool ns_safe(int64_t ntp_s)
{
	const int64_t lim = INT64_MAX / GN_NS_PER_S - 2 * LEAP_DAY_S;
	int64_t unix_s = ntp_s - (int64_t)NTP_UNIX_OFFSET_S;
	return unix_s > -lim && unix_s < lim;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void check_table(const struct leap_table *t)
{
	FUZZ_CHECK(t->n >= 1 && t->n <= LEAP_MAX_ENTRIES);
	FUZZ_CHECK(t->expires_ntp_s > t->updated_ntp_s);
	for (unsigned i = 1; i < t->n; i++) {
		FUZZ_CHECK(t->e[i].ntp_s > t->e[i - 1].ntp_s);
		int32_t step = t->e[i].tai_utc_s - t->e[i - 1].tai_utc_s;
		FUZZ_CHECK(step == 1 || step == -1);
	}
	for (unsigned i = 0; i < t->n; i++) {
		if (!ns_safe(t->e[i].ntp_s))
			continue;
		gn_time_ns at = leap_ntp_s_to_ns(t->e[i].ntp_s);
		FUZZ_CHECK(leap_ns_to_ntp_s(at) == t->e[i].ntp_s);
		/* A month start: the month end of the instant before is the instant. */
		FUZZ_CHECK(leap_month_end(at - 1) == at);
		char buf[40];
		leap_fmt_utc(at, buf, sizeof buf);
		FUZZ_CHECK(memchr(buf, '\0', sizeof buf) != NULL);
	}
}

static void check_queries(const struct leap_table *t)
{
	bool exp_safe = ns_safe(t->expires_ntp_s);
	for (unsigned i = 0; i < t->n; i++) {
		if (!ns_safe(t->e[i].ntp_s))
			continue;
		gn_time_ns at = leap_ntp_s_to_ns(t->e[i].ntp_s);
		int32_t tai;
		FUZZ_CHECK(leap_tai_utc(t, at, &tai) && tai == t->e[i].tai_utc_s);
		if (i == 0) {
			FUZZ_CHECK(!leap_tai_utc(t, at - 1, &tai));
			continue;
		}
		struct leap_event ev;
		FUZZ_CHECK(leap_next(t, at - 1, &ev));
		FUZZ_CHECK(ev.at_ns == at && ev.tai_utc_after_s == t->e[i].tai_utc_s);
		FUZZ_CHECK(ev.insert == (t->e[i].tai_utc_s > t->e[i - 1].tai_utc_s));
		if (!exp_safe)
			continue;

		/* One second before the leap, from a fresh state. */
		gn_time_ns now = at - GN_NS_PER_S;
		FUZZ_CHECK(leap_check(t, now) == (leap_expired(t, now) ? LEAP_ERR_EXPIRED : LEAP_OK));
		struct leap_state st;
		leap_state_init(&st);
		struct leap_inputs in = { .now_ns = now, .table = t };
		struct leap_decision d;
		leap_decide(&st, &in, &d);
		FUZZ_CHECK(d.n_logs <= LEAP_MAX_LOGS);
		for (size_t k = 0; k < d.n_logs; k++)
			FUZZ_CHECK(memchr(d.logs[k].text, '\0', sizeof d.logs[k].text) != NULL);
		if (!leap_expired(t, now)) {
			FUZZ_CHECK(d.pending && d.src == LEAP_SRC_FILE);
			FUZZ_CHECK(d.ev.at_ns == at);
			FUZZ_CHECK(d.li == (ev.insert ? PKT_LI_ADD : PKT_LI_DEL));
			FUZZ_CHECK(d.kernel_status == (ev.insert ? CLK_STA_INS : CLK_STA_DEL));
			gn_time_ns next = leap_next_deadline(&st, &in);
			FUZZ_CHECK(next > now);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_seam seam = { .zero_sha1 = true };
	struct auth_crypto c = fuzz_seam_crypto(&seam);
	static struct leap_table t;
	struct leap_error err;
	enum leap_err r = leap_parse((const char *)data, size, &c, &t, &err);
	FUZZ_CHECK(leap_err_name(r) != NULL);
	FUZZ_CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL);
	if (r != LEAP_OK) {
		FUZZ_CHECK(r == LEAP_ERR_CORRUPT || r == LEAP_ERR_NO_HASH || r == LEAP_ERR_BAD_HASH);
		FUZZ_CHECK(err.msg[0] != '\0');
		if (r == LEAP_ERR_BAD_HASH)
			check_table(&t);
		else
			FUZZ_CHECK(all_zero(&t, sizeof t));
		return 0;
	}
	FUZZ_CHECK(seam.calls == 1);
	FUZZ_CHECK(all_zero(t.sha1, sizeof t.sha1));
	check_table(&t);
	/* What the daemon asks of any table it accepted, whatever its values. */
	struct leap_event ev0;
	int32_t tai0;
	gn_time_ns now0 = INT64_C(1763769600) * GN_NS_PER_S;
	(void)leap_check(&t, now0);
	(void)leap_next(&t, now0, &ev0);
	(void)leap_tai_utc(&t, now0, &tai0);
	check_queries(&t);

	/* Without SHA-1 the same text is refused as such, never accepted. */
	struct fuzz_seam none = { .fail = true };
	struct auth_crypto cn = fuzz_seam_crypto(&none);
	static struct leap_table t2;
	FUZZ_CHECK(leap_parse((const char *)data, size, &cn, &t2, &err) == LEAP_ERR_NO_SHA1);
	return 0;
}
