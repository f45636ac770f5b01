/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * leap: the leap-seconds.list parser and the leap decision (see leap.h). Civil dates are
 * computed here from day counts (proleptic Gregorian calendar) so the core needs no
 * gmtime_r; the file's own rule is used for the hash. Pure: no I/O, no clock, no globals.
 */
#include "leap.h"

#include <stdio.h>
#include <string.h>

#include "clk.h"
#include "gn_assert.h"
#include "pkt.h"

#define NTP_S_MAX_DIGITS 19     /* an int64 of seconds */
#define TAI_MAX_DIGITS 6
/* Latest NTP second accepted anywhere in the file: 2248-07-30, well inside gn_time_ns
 * (which ends in 2262), so every conversion to ns is exact. */
#define NTP_S_LIMIT 11000000000LL
#define HASH_WORDS 5
#define HASH_WORD_MAX_DIGITS 8
/* The digits hashed: two header values and two fields per entry, each bounded above. */
#define HASH_BUF_LEN (2 * NTP_S_MAX_DIGITS + \
		      LEAP_MAX_ENTRIES * (NTP_S_MAX_DIGITS + TAI_MAX_DIGITS + 1))

/* --- calendar: days since 1970-01-01 <-> proleptic Gregorian date. The year is split into
 * 400-year cycles of 146097 days; inside a cycle, years are counted from March so the
 * leap day falls at the end. --- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;              /* days from 0000-03-01 */
	int64_t cycle = floor_div(z, 146097);
	int64_t doc = z - cycle * 146097;       /* day of the 400-year cycle, 0..146096 */
	int64_t yoc = (doc - doc / 1460 + doc / 36524 - doc / 146096) / 365; /* 0..399 */
	int64_t doy = doc - (365 * yoc + yoc / 4 - yoc / 100);              /* 0..365 */
	int64_t mp = (5 * doy + 2) / 153;       /* month from March, 0..11 */
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoc + cycle * 400 + (*m <= 2 ? 1 : 0);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2 ? 1 : 0;
	int64_t cycle = floor_div(y, 400);
	int64_t yoc = y - cycle * 400;
	int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9;
	int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;
	int64_t doc = yoc * 365 + yoc / 4 - yoc / 100 + doy;
	return cycle * 146097 + doc - 719468;
}

gn_time_ns leap_ntp_s_to_ns(int64_t ntp_s)
{
	return (ntp_s - NTP_UNIX_OFFSET_S) * GN_NS_PER_S;
}

int64_t leap_ns_to_ntp_s(gn_time_ns t_ns)
{
	return floor_div(t_ns, GN_NS_PER_S) + NTP_UNIX_OFFSET_S;
}

gn_time_ns leap_month_end(gn_time_ns t_ns)
{
	int64_t days = floor_div(t_ns, GN_NS_PER_S * LEAP_DAY_S);
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (m == 12) {
		y++;
		m = 1;
	} else {
		m++;
	}
	return days_from_civil(y, m, 1) * LEAP_DAY_S * GN_NS_PER_S;
}

const char *leap_fmt_utc(gn_time_ns t_ns, char *buf, size_t cap)
{
	int64_t s = floor_div(t_ns, GN_NS_PER_S);
	int64_t days = floor_div(s, LEAP_DAY_S);
	int64_t sod = s - days * LEAP_DAY_S;
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, cap, "%04lld-%02u-%02u %02u:%02u:%02u UTC", (long long)y, m, d,
		 (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
	return buf;
}

/* "2016-12-31": the UTC day holding the leap second before instant T. */
static const char *fmt_leap_day(gn_time_ns at_ns, char *buf, size_t cap)
{
	int64_t y;
	unsigned m, d;
	civil_from_days(floor_div(at_ns, GN_NS_PER_S * LEAP_DAY_S) - 1, &y, &m, &d);
	snprintf(buf, cap, "%04lld-%02u-%02u", (long long)y, m, d);
	return buf;
}

/* --- parsing --- */

struct cur {
	const char *p, *end;
};

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void skip_ws(struct cur *c)
{
	while (c->p < c->end && is_ws(*c->p))
		c->p++;
}

static bool at_end(const struct cur *c) { return c->p >= c->end; }

/* A run of up to max_digits decimal digits (with an optional '-' when signed). Appends the
 * characters as written to the hash buffer. */
static bool take_int(struct cur *c, unsigned max_digits, bool signed_ok, int64_t *v,
		     char *hb, size_t *hn)
{
	const char *start = c->p;
	bool neg = false;
	if (signed_ok && c->p < c->end && *c->p == '-') {
		neg = true;
		c->p++;
	}
	int64_t x = 0;
	unsigned nd = 0;
	while (c->p < c->end && is_digit(*c->p)) {
		if (++nd > max_digits || x > (INT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (*c->p - '0');
		c->p++;
	}
	if (nd == 0)
		return false;
	if (c->p < c->end && !is_ws(*c->p) && *c->p != '#')
		return false;           /* "123abc" */
	size_t k = (size_t)(c->p - start);
	INSIST(*hn + k <= HASH_BUF_LEN);
	memcpy(hb + *hn, start, k);
	*hn += k;
	*v = neg ? -x : x;
	return true;
}

static enum leap_err fail(struct leap_error *err, unsigned line, enum leap_err e,
			  const char *msg)
{
	err->line = line;
	snprintf(err->msg, sizeof err->msg, "%s", msg);
	return e;
}

static bool month_start(int64_t ntp_s)
{
	int64_t unix_s = ntp_s - NTP_UNIX_OFFSET_S;
	if (floor_div(unix_s, LEAP_DAY_S) * LEAP_DAY_S != unix_s)
		return false;
	int64_t y;
	unsigned m, d;
	civil_from_days(floor_div(unix_s, LEAP_DAY_S), &y, &m, &d);
	return d == 1;
}

static enum leap_err parse(const char *text, size_t len, const struct auth_crypto *crypto,
			   struct leap_table *out, struct leap_error *err)
{
	if (len > LEAP_MAX_FILE_LEN)
		return fail(err, 0, LEAP_ERR_CORRUPT, "file too large");

	char hb[HASH_BUF_LEN];
	size_t hn = 0;
	bool have_upd = false, have_exp = false, have_hash = false;
	uint8_t want[LEAP_SHA1_LEN];
	/* Header values are hashed first whatever their place in the file; entries in order. */
	char upd_txt[NTP_S_MAX_DIGITS + 1], exp_txt[NTP_S_MAX_DIGITS + 1];
	size_t upd_n = 0, exp_n = 0;
	char eb[HASH_BUF_LEN];
	size_t en = 0;

	const char *p = text, *end = text + len;
	unsigned line = 0;
	while (p < end) {
		line++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct cur c = { p, le };
		p = nl ? nl + 1 : end;
		if (memchr(c.p, '\0', (size_t)(le - c.p)))
			return fail(err, line, LEAP_ERR_CORRUPT, "NUL byte");

		if (c.p < c.end && *c.p == '#') {
			char kind = c.p + 1 < c.end ? c.p[1] : '\0';
			if (kind == '$' || kind == '@') {
				bool upd = kind == '$';
				if (upd ? have_upd : have_exp)
					return fail(err, line, LEAP_ERR_CORRUPT,
						    upd ? "second #$ line" : "second #@ line");
				c.p += 2;
				skip_ws(&c);
				int64_t v;
				size_t n0 = 0;
				char *dst = upd ? upd_txt : exp_txt;
				if (!take_int(&c, NTP_S_MAX_DIGITS, false, &v, dst, &n0))
					return fail(err, line, LEAP_ERR_CORRUPT,
						    upd ? "#$ needs NTP seconds" : "#@ needs NTP seconds");
				skip_ws(&c);
				if (!at_end(&c))
					return fail(err, line, LEAP_ERR_CORRUPT, "text after the value");
				if (v > NTP_S_LIMIT)
					return fail(err, line, LEAP_ERR_CORRUPT, "date out of range");
				if (upd) {
					out->updated_ntp_s = v;
					upd_n = n0;
					have_upd = true;
				} else {
					out->expires_ntp_s = v;
					exp_n = n0;
					have_exp = true;
				}
			} else if (kind == 'h') {
				if (have_hash)
					return fail(err, line, LEAP_ERR_CORRUPT, "second #h line");
				c.p += 2;
				for (unsigned w = 0; w < HASH_WORDS; w++) {
					skip_ws(&c);
					uint32_t x = 0;
					unsigned nd = 0;
					while (c.p < c.end && hex_val(*c.p) >= 0) {
						if (++nd > HASH_WORD_MAX_DIGITS)
							return fail(err, line, LEAP_ERR_CORRUPT,
								    "#h word longer than 8 hex digits");
						x = (x << 4) | (uint32_t)hex_val(*c.p);
						c.p++;
					}
					if (nd == 0 || (c.p < c.end && !is_ws(*c.p)))
						return fail(err, line, LEAP_ERR_CORRUPT,
							    "#h needs 5 words of hex");
					want[4 * w] = (uint8_t)(x >> 24);
					want[4 * w + 1] = (uint8_t)(x >> 16);
					want[4 * w + 2] = (uint8_t)(x >> 8);
					want[4 * w + 3] = (uint8_t)x;
				}
				skip_ws(&c);
				if (!at_end(&c))
					return fail(err, line, LEAP_ERR_CORRUPT, "text after the hash");
				have_hash = true;
			}
			continue;       /* any other '#' line is a comment */
		}
		skip_ws(&c);
		if (at_end(&c))
			continue;       /* blank */

		/* data line: NTP seconds, TAI-UTC, optional comment */
		int64_t ntp_s, tai;
		if (!take_int(&c, NTP_S_MAX_DIGITS, false, &ntp_s, eb, &en))
			return fail(err, line, LEAP_ERR_CORRUPT, "expected NTP seconds");
		skip_ws(&c);
		if (!take_int(&c, TAI_MAX_DIGITS, true, &tai, eb, &en))
			return fail(err, line, LEAP_ERR_CORRUPT, "expected TAI-UTC seconds");
		skip_ws(&c);
		if (!at_end(&c) && *c.p != '#')
			return fail(err, line, LEAP_ERR_CORRUPT, "text after TAI-UTC");
		if (out->n >= LEAP_MAX_ENTRIES)
			return fail(err, line, LEAP_ERR_CORRUPT, "too many entries");
		if (ntp_s > NTP_S_LIMIT)
			return fail(err, line, LEAP_ERR_CORRUPT, "date out of range");
		if (!month_start(ntp_s))
			return fail(err, line, LEAP_ERR_CORRUPT,
				    "not 00:00 UTC on the first day of a month");
		if (out->n > 0) {
			const struct leap_entry *prev = &out->e[out->n - 1];
			if (ntp_s <= prev->ntp_s)
				return fail(err, line, LEAP_ERR_CORRUPT, "entries out of order");
			if (tai - prev->tai_utc_s != 1 && tai - prev->tai_utc_s != -1)
				return fail(err, line, LEAP_ERR_CORRUPT,
					    "TAI-UTC must change by one second");
		}
		out->e[out->n].ntp_s = ntp_s;
		out->e[out->n].tai_utc_s = (int32_t)tai;
		out->n++;
	}

	if (!have_upd)
		return fail(err, 0, LEAP_ERR_CORRUPT, "no #$ (last update) line");
	if (!have_exp)
		return fail(err, 0, LEAP_ERR_CORRUPT, "no #@ (expiry) line");
	if (out->n == 0)
		return fail(err, 0, LEAP_ERR_CORRUPT, "no leap second entries");
	if (out->expires_ntp_s <= out->updated_ntp_s)
		return fail(err, 0, LEAP_ERR_CORRUPT, "expires before its last update");
	if (!have_hash)
		return fail(err, 0, LEAP_ERR_NO_HASH, "no #h (hash) line");

	/* The hash input: update digits, expiry digits, then every entry's fields. */
	memcpy(hb, upd_txt, upd_n);
	hn = upd_n;
	memcpy(hb + hn, exp_txt, exp_n);
	hn += exp_n;
	INSIST(hn + en <= HASH_BUF_LEN);
	memcpy(hb + hn, eb, en);
	hn += en;

	uint8_t got[AUTH_DIGEST_MAX_LEN];
	if (!crypto || !crypto->digest ||
	    !crypto->digest(crypto->ctx, AUTH_ALG_SHA1, (const uint8_t *)hb, hn, NULL, 0, got))
		return fail(err, 0, LEAP_ERR_NO_SHA1, "SHA-1 not available");
	memcpy(out->sha1, want, LEAP_SHA1_LEN);
	if (memcmp(got, want, LEAP_SHA1_LEN) != 0)
		return fail(err, 0, LEAP_ERR_BAD_HASH, "#h does not match the contents");
	return LEAP_OK;
}

enum leap_err leap_parse(const char *text, size_t len, const struct auth_crypto *crypto,
			 struct leap_table *out, struct leap_error *err)
{
	REQUIRE(out != NULL && err != NULL);
	REQUIRE(text != NULL || len == 0);
	memset(out, 0, sizeof *out);
	memset(err, 0, sizeof *err);
	enum leap_err r = parse(text, len, crypto, out, err);
	if (r != LEAP_OK && r != LEAP_ERR_BAD_HASH)
		memset(out, 0, sizeof *out);
	return r;
}

bool leap_expired(const struct leap_table *t, gn_time_ns now_ns)
{
	REQUIRE(t != NULL);
	return leap_ns_to_ntp_s(now_ns) >= t->expires_ntp_s;
}

enum leap_err leap_check(const struct leap_table *t, gn_time_ns now_ns)
{
	return leap_expired(t, now_ns) ? LEAP_ERR_EXPIRED : LEAP_OK;
}

const char *leap_err_name(enum leap_err e)
{
	switch (e) {
	case LEAP_OK: return "ok";
	case LEAP_ERR_CORRUPT: return "corrupt";
	case LEAP_ERR_NO_HASH: return "no hash";
	case LEAP_ERR_BAD_HASH: return "bad hash";
	case LEAP_ERR_NO_SHA1: return "SHA-1 unavailable";
	case LEAP_ERR_EXPIRED: return "expired";
	}
	return "unknown";
}

bool leap_next(const struct leap_table *t, gn_time_ns now_ns, struct leap_event *ev)
{
	REQUIRE(t != NULL && ev != NULL);
	/* Entries are strictly increasing; the first is TAI-UTC's initial value (1972), not a
	 * leap, so only entries from the second on are leaps. */
	for (unsigned i = 1; i < t->n; i++) {
		gn_time_ns at = leap_ntp_s_to_ns(t->e[i].ntp_s);
		if (at > now_ns) {
			ev->at_ns = at;
			ev->insert = t->e[i].tai_utc_s > t->e[i - 1].tai_utc_s;
			ev->tai_utc_after_s = t->e[i].tai_utc_s;
			return true;
		}
	}
	return false;
}

bool leap_tai_utc(const struct leap_table *t, gn_time_ns t_ns, int32_t *tai_utc_s)
{
	REQUIRE(t != NULL && tai_utc_s != NULL);
	bool found = false;
	for (unsigned i = 0; i < t->n; i++) {
		if (leap_ntp_s_to_ns(t->e[i].ntp_s) > t_ns)
			break;
		*tai_utc_s = t->e[i].tai_utc_s;
		found = true;
	}
	return found;
}

struct leap_vote leap_vote_count(const uint8_t *li, size_t n)
{
	struct leap_vote v = { 0, 0, 0 };
	for (size_t i = 0; i < n; i++) {
		if (li[i] == PKT_LI_UNSYNC)
			continue;
		v.voters++;
		if (li[i] == PKT_LI_ADD)
			v.ins++;
		else if (li[i] == PKT_LI_DEL)
			v.del++;
	}
	return v;
}

/* --- the decision --- */

#define KERNEL_UNKNOWN 0xffffffffu /* first call: always tell the kernel */

void leap_state_init(struct leap_state *st)
{
	REQUIRE(st != NULL);
	memset(st, 0, sizeof *st);
	st->kernel_status = KERNEL_UNKNOWN;
}

static bool file_usable(const struct leap_inputs *in)
{
	return in->table != NULL && !leap_expired(in->table, in->now_ns);
}

/* The majority of the sources, as a leap at the end of the current month. */
static bool vote_event(const struct leap_inputs *in, struct leap_event *ev)
{
	const struct leap_vote *v = &in->vote;
	if (v->voters == 0)
		return false;
	bool ins = 2 * v->ins > v->voters;
	bool del = 2 * v->del > v->voters;
	if (!ins && !del)
		return false;
	ev->at_ns = leap_month_end(in->now_ns);
	ev->insert = ins;
	ev->tai_utc_after_s = 0;
	if (in->table) {
		int32_t tai;
		if (leap_tai_utc(in->table, in->now_ns, &tai))
			ev->tai_utc_after_s = tai + (ins ? 1 : -1);
	}
	return true;
}

/* The pending leap: the file's when usable, else the vote's; a leap instant already passed
 * (st->done_at_ns) never comes back. */
static enum leap_src pending_event(const struct leap_state *st, const struct leap_inputs *in,
				   struct leap_event *ev)
{
	enum leap_src src = LEAP_SRC_NONE;
	if (file_usable(in)) {
		if (leap_next(in->table, in->now_ns, ev))
			src = LEAP_SRC_FILE;
	} else if (vote_event(in, ev)) {
		src = LEAP_SRC_VOTE;
	}
	if (src != LEAP_SRC_NONE && st->done_at_ns != 0 && ev->at_ns <= st->done_at_ns)
		src = LEAP_SRC_NONE;
	return src;
}

static bool in_window(const struct leap_event *ev, gn_time_ns now_ns)
{
	return now_ns >= ev->at_ns - (gn_time_ns)LEAP_DAY_S * GN_NS_PER_S && now_ns < ev->at_ns;
}

static void add_log(struct leap_decision *out, enum leap_log_level level, uint32_t key,
		    const char *fmt_text)
{
	if (out->n_logs >= LEAP_MAX_LOGS)
		return;
	struct leap_log *l = &out->logs[out->n_logs++];
	l->level = level;
	l->key = key;
	snprintf(l->text, sizeof l->text, "%s", fmt_text);
}

void leap_decide(struct leap_state *st, const struct leap_inputs *in, struct leap_decision *out)
{
	REQUIRE(st != NULL && in != NULL && out != NULL);
	memset(out, 0, sizeof *out);
	const gn_time_ns now = in->now_ns;
	char msg[160], d1[40], d2[40];

	/* The leap file: expired is warned about once a day (issue), and not used. */
	if (in->table && leap_expired(in->table, now)) {
		if (!st->warned_expired || now < st->expired_warn_ns ||
		    now - st->expired_warn_ns >= (gn_time_ns)LEAP_EXPIRED_WARN_S * GN_NS_PER_S) {
			gn_time_ns exp_ns = leap_ntp_s_to_ns(in->table->expires_ntp_s);
			snprintf(msg, sizeof msg,
				 "leap second file expired on %s (%lld days ago); using the "
				 "sources' leap bits until it is updated",
				 leap_fmt_utc(exp_ns, d1, sizeof d1),
				 (long long)((now - exp_ns) / GN_NS_PER_S / LEAP_DAY_S));
			add_log(out, LEAP_LOG_WARNING, LEAP_LOG_KEY_EXPIRED, msg);
			st->warned_expired = true;
			st->expired_warn_ns = now;
		}
	} else {
		st->warned_expired = false;
	}

	/* The armed leap has passed: clear the bit, and never arm this instant again. */
	if (st->armed_at_ns != 0 && now >= st->armed_at_ns) {
		bool ins = st->kernel_status == CLK_STA_INS;
		st->done_at_ns = st->armed_at_ns;
		if (st->have_tai_utc)
			snprintf(msg, sizeof msg, "leap second %s at %s: TAI-UTC is now %d s; "
				 "kernel leap flag cleared", ins ? "inserted" : "deleted",
				 leap_fmt_utc(st->armed_at_ns, d1, sizeof d1),
				 (int)(st->tai_utc_before_s + (ins ? 1 : -1)));
		else
			snprintf(msg, sizeof msg, "leap second %s at %s; kernel leap flag cleared",
				 ins ? "inserted" : "deleted",
				 leap_fmt_utc(st->armed_at_ns, d1, sizeof d1));
		add_log(out, LEAP_LOG_NOTICE, LEAP_LOG_KEY_DONE, msg);
		st->armed_at_ns = 0;
		st->announced_at_ns = 0;
	}

	struct leap_event ev;
	memset(&ev, 0, sizeof ev);
	enum leap_src src = pending_event(st, in, &ev);

	/* File and sources disagree: the file wins while valid; say so once per change. */
	bool disagree = false;
	struct leap_event vev;
	if (file_usable(in) && vote_event(in, &vev)) {
		disagree = src != LEAP_SRC_FILE || ev.at_ns != vev.at_ns || ev.insert != vev.insert;
		if (st->done_at_ns != 0 && vev.at_ns <= st->done_at_ns)
			disagree = false;   /* a source late to clear its bit after the leap */
	}
	if (disagree && !st->disagree) {
		snprintf(msg, sizeof msg,
			 "%u of %u sources announce a leap second %s at the end of %s that the "
			 "leap second file does not list; following the file",
			 vev.insert ? in->vote.ins : in->vote.del, in->vote.voters,
			 vev.insert ? "insertion" : "deletion",
			 fmt_leap_day(vev.at_ns, d1, sizeof d1));
		add_log(out, LEAP_LOG_WARNING, LEAP_LOG_KEY_DISAGREE, msg);
	}
	st->disagree = disagree;

	/* An announcement withdrawn before its instant. */
	if (st->announced_at_ns != 0 &&
	    (src == LEAP_SRC_NONE || ev.at_ns != st->announced_at_ns ||
	     ev.insert != st->announced_insert)) {
		if (now < st->announced_at_ns) {
			snprintf(msg, sizeof msg, "leap second at the end of %s no longer announced%s",
				 fmt_leap_day(st->announced_at_ns, d1, sizeof d1),
				 st->armed_at_ns ? "; kernel leap flag cleared" : "");
			add_log(out, LEAP_LOG_NOTICE, LEAP_LOG_KEY_WITHDRAW, msg);
		}
		st->announced_at_ns = 0;
		st->armed_at_ns = 0;
	}

	if (src != LEAP_SRC_NONE) {
		out->pending = true;
		out->src = src;
		out->ev = ev;
		if (st->announced_at_ns != ev.at_ns) {
			if (src == LEAP_SRC_FILE)
				snprintf(msg, sizeof msg, "leap second %s at the end of %s (%s) "
					 "listed in the leap second file",
					 ev.insert ? "insertion" : "deletion",
					 fmt_leap_day(ev.at_ns, d1, sizeof d1),
					 ev.insert ? "23:59:60 UTC" : "23:59:59 UTC skipped");
			else
				snprintf(msg, sizeof msg, "leap second %s at the end of %s (%s) "
					 "announced by %u of %u sources",
					 ev.insert ? "insertion" : "deletion",
					 fmt_leap_day(ev.at_ns, d1, sizeof d1),
					 ev.insert ? "23:59:60 UTC" : "23:59:59 UTC skipped",
					 ev.insert ? in->vote.ins : in->vote.del, in->vote.voters);
			add_log(out, LEAP_LOG_NOTICE, LEAP_LOG_KEY_ANNOUNCE, msg);
			st->announced_at_ns = ev.at_ns;
			st->announced_insert = ev.insert;
		}
	}

	unsigned want = 0;
	if (src != LEAP_SRC_NONE && in_window(&ev, now)) {
		out->li = ev.insert ? PKT_LI_ADD : PKT_LI_DEL;
		want = ev.insert ? CLK_STA_INS : CLK_STA_DEL;
		if (st->armed_at_ns != ev.at_ns) {
			int32_t tai = 0;
			st->have_tai_utc = in->table != NULL && leap_tai_utc(in->table, now, &tai);
			st->tai_utc_before_s = tai;
			snprintf(msg, sizeof msg, "leap second: kernel armed to %s at the end of "
				 "%s, in %lld s (%s)", ev.insert ? "insert 23:59:60" : "delete 23:59:59",
				 fmt_leap_day(ev.at_ns, d1, sizeof d1),
				 (long long)((ev.at_ns - now + GN_NS_PER_S - 1) / GN_NS_PER_S),
				 leap_fmt_utc(ev.at_ns, d2, sizeof d2));
			add_log(out, LEAP_LOG_NOTICE, LEAP_LOG_KEY_ARM, msg);
			st->armed_at_ns = ev.at_ns;
		}
	} else {
		out->li = PKT_LI_NONE;
	}
	out->kernel_status = want;
	out->kernel_changed = st->kernel_status != want;
	st->kernel_status = want;
}

static gn_time_ns min_t(gn_time_ns a, gn_time_ns b) { return a < b ? a : b; }

gn_time_ns leap_next_deadline(const struct leap_state *st, const struct leap_inputs *in)
{
	REQUIRE(st != NULL && in != NULL);
	const gn_time_ns now = in->now_ns;
	gn_time_ns t = INT64_MAX;
	if (st->armed_at_ns != 0 && st->armed_at_ns > now)
		t = min_t(t, st->armed_at_ns);
	struct leap_event ev;
	if (pending_event(st, in, &ev) != LEAP_SRC_NONE) {
		gn_time_ns open = ev.at_ns - (gn_time_ns)LEAP_DAY_S * GN_NS_PER_S;
		t = min_t(t, now < open ? open : ev.at_ns);
	}
	if (in->table) {
		gn_time_ns exp_ns = leap_ntp_s_to_ns(in->table->expires_ntp_s);
		if (now < exp_ns)
			t = min_t(t, exp_ns);
		else if (st->warned_expired)
			t = min_t(t, st->expired_warn_ns + (gn_time_ns)LEAP_EXPIRED_WARN_S * GN_NS_PER_S);
		else
			t = min_t(t, now);
	}
	if (st->kernel_status == KERNEL_UNKNOWN)
		t = min_t(t, now);
	return t;
}
