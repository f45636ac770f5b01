/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_leap: the leap-seconds.list parser (Debian 12's real file, an expired copy, a file
 * with a bad hash, a bad line, no hash, and in-memory variants), the table queries, and the
 * leap decision around the 2016-12-31 leap second: majority vote, the file overriding the
 * sources, the one-day arming window, clearing after the leap, never arming twice, the
 * once-a-day warning for an expired file. SHA-1 comes from the OpenSSL seam.
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
#include "leap.h"
#include "os_file.h"
#include "pkt.h"
#include "tcrypto.h"

#define S GN_NS_PER_S
#define DAY (86400LL * S)
/* 2017-01-01 00:00:00 UTC: the instant after the leap second 2016-12-31 23:59:60. */
#define T2017 (1483228800LL * S)
/* 2016-07-01 00:00:00 UTC: no leap at the end of June 2016. */
#define T2016JUL (1467331200LL * S)


static char *load(const char *name, size_t *len)
{
	const char *dir = getenv("GNOMON_TEST_DATA");
	char path[512], err[128];
	snprintf(path, sizeof path, "%s/leap/%s", dir ? dir : "tests/data", name);
	char *text = os_file_read(path, 1 << 20, len, err, sizeof err);
	if (!text)
		fail_msg("cannot read %s: %s", path, err);
	return text;
}

static enum leap_err parse_file(const char *name, struct leap_table *t, struct leap_error *e)
{
	size_t len;
	char *text = load(name, &len);
	enum leap_err r = leap_parse(text, len, &tcrypto.seam, t, e);
	free(text);
	return r;
}

static enum leap_err parse_str(const char *text, struct leap_table *t, struct leap_error *e)
{
	return leap_parse(text, strlen(text), &tcrypto.seam, t, e);
}

static struct leap_table debian;    /* the real file, parsed once per test that needs it */

static void load_debian(void)
{
	struct leap_error e;
	assert_int_equal(parse_file("leap-seconds.list", &debian, &e), LEAP_OK);
}

/* --- parsing --- */

static void test_debian_file(void **state)
{
	(void)state;
	struct leap_table t;
	struct leap_error e;
	assert_int_equal(parse_file("leap-seconds.list", &t, &e), LEAP_OK);
	assert_int_equal(t.updated_ntp_s, 3960835200LL);
	assert_int_equal(t.expires_ntp_s, 3991593600LL);
	assert_int_equal(t.n, 28);
	assert_int_equal(t.e[0].ntp_s, 2272060800LL);
	assert_int_equal(t.e[0].tai_utc_s, 10);
	assert_int_equal(t.e[27].ntp_s, 3692217600LL);
	assert_int_equal(t.e[27].tai_utc_s, 37);
	const uint8_t want[20] = { 0x49, 0xdb, 0x24, 0x47, 0x57, 0x1e, 0x5e, 0x1b, 0x2f, 0x00,
				   0x2a, 0x53, 0x9c, 0x8d, 0xa8, 0xe4, 0x39, 0xb8, 0xe4, 0x9e };
	assert_memory_equal(t.sha1, want, 20);
	/* expiry: 2026-06-28 00:00:00 UTC = 1782604800 */
	assert_int_equal(leap_check(&t, 1782604799LL * S), LEAP_OK);
	assert_false(leap_expired(&t, 1782604800LL * S - 1));
	assert_int_equal(leap_check(&t, 1782604800LL * S), LEAP_ERR_EXPIRED);
	assert_true(leap_expired(&t, 1800000000LL * S));
}

static void test_expired_file(void **state)
{
	(void)state;
	struct leap_table t;
	struct leap_error e;
	assert_int_equal(parse_file("leap-seconds-expired-2016.list", &t, &e), LEAP_OK);
	assert_int_equal(t.n, 27);
	assert_int_equal(t.expires_ntp_s, 3691872000LL);    /* 2016-12-28 */
	assert_int_equal(leap_check(&t, T2016JUL), LEAP_OK);
	assert_int_equal(leap_check(&t, T2017 - DAY), LEAP_ERR_EXPIRED);
	/* It lists no leap after 2015-07-01. */
	struct leap_event ev;
	assert_false(leap_next(&t, T2016JUL, &ev));
}

static void test_corrupted_files(void **state)
{
	(void)state;
	struct leap_table t;
	struct leap_error e;
	assert_int_equal(parse_file("leap-seconds-badhash.list", &t, &e), LEAP_ERR_BAD_HASH);
	assert_non_null(strstr(e.msg, "#h"));
	assert_int_equal(parse_file("leap-seconds-badline.list", &t, &e), LEAP_ERR_CORRUPT);
	assert_int_equal(e.line, 112);
	assert_int_equal(t.n, 0);
	assert_int_equal(parse_file("leap-seconds-nohash.list", &t, &e), LEAP_ERR_NO_HASH);
	assert_int_equal(t.n, 0);
	/* distinct names for the log */
	assert_string_equal(leap_err_name(LEAP_ERR_CORRUPT), "corrupt");
	assert_string_equal(leap_err_name(LEAP_ERR_BAD_HASH), "bad hash");
	assert_string_equal(leap_err_name(LEAP_ERR_EXPIRED), "expired");
	assert_string_equal(leap_err_name(LEAP_ERR_NO_HASH), "no hash");
}

/* A small file with the right hash, built here: #$, #@, entries, #h computed by the rule. */
static void build(char *buf, size_t cap, const char *upd, const char *exp, const char *data,
		  bool strip_zeros)
{
	char digits[1024];
	size_t n = 0;
	const char *parts[2] = { upd, exp };
	for (int i = 0; i < 2; i++)
		for (const char *p = parts[i]; *p; p++)
			if (*p != ' ' && *p != '\t')
				digits[n++] = *p;
	for (const char *p = data; *p;) {
		const char *eol = strchr(p, '\n');
		const char *hash = strchr(p, '#');
		const char *stop = eol;
		if (hash && (!eol || hash < eol))
			stop = hash;
		for (const char *q = p; q < stop; q++)
			if (*q != ' ' && *q != '\t' && *q != '\r')
				digits[n++] = *q;
		p = eol ? eol + 1 : p + strlen(p);
	}
	uint8_t h[20];
	assert_true(tcrypto.seam.digest(tcrypto.seam.ctx, AUTH_ALG_SHA1, (const uint8_t *)digits, n, NULL, 0, h));
	char hs[64];
	size_t k = 0;
	for (int w = 0; w < 5; w++) {
		uint32_t x = (uint32_t)h[4 * w] << 24 | (uint32_t)h[4 * w + 1] << 16 |
			     (uint32_t)h[4 * w + 2] << 8 | h[4 * w + 3];
		k += (size_t)snprintf(hs + k, sizeof hs - k, strip_zeros ? " %x" : " %08x", x);
	}
	snprintf(buf, cap, "# test\n#$ %s\n#@ %s\n%s#h%s\n", upd, exp, data, hs);
}

#define D3 "2272060800 10 # 1 Jan 1972\n2287785600 11\n2303683200 12\n"

static void test_inline_variants(void **state)
{
	(void)state;
	struct leap_table t;
	struct leap_error e;
	char buf[2048];

	build(buf, sizeof buf, "3600000000", "3700000000", D3, false);
	assert_int_equal(parse_str(buf, &t, &e), LEAP_OK);
	assert_int_equal(t.n, 3);

	/* NIST's copies dropped leading zeros of the hash words: still accepted. Find an
	 * update value whose hash has a word starting with 0. */
	bool found = false;
	for (int i = 0; i < 200 && !found; i++) {
		char upd[16];
		snprintf(upd, sizeof upd, "%lld", 3600000000LL + i);
		build(buf, sizeof buf, upd, "3700000000", D3, false);
		const char *h = strstr(buf, "#h") + 2;
		for (int w = 0; w < 5; w++)
			if (h[1 + 9 * w] == '0')
				found = true;
		if (found) {
			build(buf, sizeof buf, upd, "3700000000", D3, true);
			assert_int_equal(parse_str(buf, &t, &e), LEAP_OK);
		}
	}
	assert_true(found);

	/* CRLF line endings */
	build(buf, sizeof buf, "3600000000", "3700000000", D3, false);
	char crlf[4096];
	size_t k = 0;
	for (const char *p = buf; *p; p++) {
		if (*p == '\n')
			crlf[k++] = '\r';
		crlf[k++] = *p;
	}
	crlf[k] = '\0';
	assert_int_equal(parse_str(crlf, &t, &e), LEAP_OK);

	/* each structural error, with its line */
	const struct {
		const char *upd, *exp, *data;
		enum leap_err want;
		unsigned line;
	} cases[] = {
		{ "3600000000", "3700000000", "", LEAP_ERR_CORRUPT, 0 },            /* no data */
		{ "3700000000", "3600000000", D3, LEAP_ERR_CORRUPT, 0 },            /* exp < upd */
		{ "3600000000", "3700000000", "2272060800 10\n2272060800 11\n", LEAP_ERR_CORRUPT, 5 },
		{ "3600000000", "3700000000", "2287785600 11\n2272060800 10\n", LEAP_ERR_CORRUPT, 5 },
		{ "3600000000", "3700000000", "2272060800 10\n2287785600 12\n", LEAP_ERR_CORRUPT, 5 },
		{ "3600000000", "3700000000", "2272060801 10\n", LEAP_ERR_CORRUPT, 4 },  /* 00:00:01 */
		{ "3600000000", "3700000000", "2272147200 10\n", LEAP_ERR_CORRUPT, 4 },  /* 2 Jan */
		{ "3600000000", "3700000000", "2272060800\n", LEAP_ERR_CORRUPT, 4 },
		{ "3600000000", "3700000000", "2272060800 10 11\n", LEAP_ERR_CORRUPT, 4 },
		{ "3600000000", "3700000000", "2272060800 10x\n", LEAP_ERR_CORRUPT, 4 },
		{ "3600000000", "3700000000", "99999999999999999999 10\n", LEAP_ERR_CORRUPT, 4 },
		{ "3600000000", "3700000000", "9999999999999999999 10\n", LEAP_ERR_CORRUPT, 4 },
		{ "3600000000", "3700000000", "11000044800 10\n", LEAP_ERR_CORRUPT, 4 }, /* 2248 */
		{ "3600000000", "99999999999", D3, LEAP_ERR_CORRUPT, 3 },
		{ "36000x0000", "3700000000", D3, LEAP_ERR_CORRUPT, 2 },
		{ "3600000000 7", "3700000000", D3, LEAP_ERR_CORRUPT, 2 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		build(buf, sizeof buf, cases[i].upd, cases[i].exp, cases[i].data, false);
		assert_int_equal(parse_str(buf, &t, &e), cases[i].want);
		assert_int_equal(e.line, cases[i].line);
		assert_true(e.msg[0] != '\0');
	}

	/* missing and repeated header lines, bad hash syntax */
	assert_int_equal(parse_str("#@ 3700000000\n" D3 "#h 1 2 3 4 5\n", &t, &e), LEAP_ERR_CORRUPT);
	assert_non_null(strstr(e.msg, "#$"));
	assert_int_equal(parse_str("#$ 3600000000\n" D3 "#h 1 2 3 4 5\n", &t, &e), LEAP_ERR_CORRUPT);
	assert_non_null(strstr(e.msg, "#@"));
	assert_int_equal(parse_str("#$ 3600000000\n#$ 3600000000\n", &t, &e), LEAP_ERR_CORRUPT);
	assert_int_equal(e.line, 2);
	assert_int_equal(parse_str("#$ 3600000000\n#@ 3700000000\n" D3 "#h 1 2 3 4\n", &t, &e),
			 LEAP_ERR_CORRUPT);
	assert_int_equal(parse_str("#$ 3600000000\n#@ 3700000000\n" D3 "#h 1 2 3 4 5 6\n", &t, &e),
			 LEAP_ERR_CORRUPT);
	assert_int_equal(parse_str("#$ 3600000000\n#@ 3700000000\n" D3 "#h 123456789 2 3 4 5\n",
				   &t, &e), LEAP_ERR_CORRUPT);
	assert_int_equal(parse_str("#$ 3600000000\n#@ 3700000000\n" D3 "#h 1 2 3 4 5\n", &t, &e),
			 LEAP_ERR_BAD_HASH);
	assert_int_equal(parse_str("", &t, &e), LEAP_ERR_CORRUPT);

	/* a NUL byte inside */
	build(buf, sizeof buf, "3600000000", "3700000000", D3, false);
	size_t len = strlen(buf);
	buf[3] = '\0';
	assert_int_equal(leap_parse(buf, len, &tcrypto.seam, &t, &e), LEAP_ERR_CORRUPT);
	assert_int_equal(e.line, 1);

	/* every truncation of the real file is refused or intact, never accepted with a
	 * different table */
	size_t flen;
	char *text = load("leap-seconds.list", &flen);
	load_debian();
	for (size_t cut = 0; cut < flen; cut += 7) {
		enum leap_err r = leap_parse(text, cut, &tcrypto.seam, &t, &e);
		assert_int_not_equal(r, LEAP_OK);
	}
	assert_int_equal(leap_parse(text, flen, &tcrypto.seam, &t, &e), LEAP_OK);
	assert_memory_equal(&t, &debian, sizeof t);
	free(text);
}

static bool fail_digest(void *ctx, enum auth_alg alg, const uint8_t *a, size_t a_len,
			const uint8_t *b, size_t b_len, uint8_t *out)
{
	(void)ctx; (void)alg; (void)a; (void)a_len; (void)b; (void)b_len; (void)out;
	return false;
}

static void test_no_sha1(void **state)
{
	(void)state;
	size_t len;
	char *text = load("leap-seconds.list", &len);
	struct auth_crypto broken = { .digest = fail_digest, .cmac = NULL, .ctx = NULL };
	struct leap_table t;
	struct leap_error e;
	assert_int_equal(leap_parse(text, len, &broken, &t, &e), LEAP_ERR_NO_SHA1);
	assert_int_equal(leap_parse(text, len, NULL, &t, &e), LEAP_ERR_NO_SHA1);
	assert_int_equal(t.n, 0);
	free(text);
}

/* --- queries --- */

static void test_queries(void **state)
{
	(void)state;
	load_debian();
	struct leap_event ev;
	assert_true(leap_next(&debian, T2016JUL, &ev));
	assert_int_equal(ev.at_ns, T2017);
	assert_true(ev.insert);
	assert_int_equal(ev.tai_utc_after_s, 37);
	assert_true(leap_next(&debian, T2017 - 1, &ev));
	assert_int_equal(ev.at_ns, T2017);
	assert_false(leap_next(&debian, T2017, &ev));
	/* 2015-06-30: the leap of 2015-07-01 (1435708800) */
	assert_true(leap_next(&debian, 1435622400LL * S, &ev));
	assert_int_equal(ev.at_ns, 1435708800LL * S);
	assert_int_equal(ev.tai_utc_after_s, 36);
	/* the first entry (1972-01-01, TAI-UTC 10) is not a leap: the first leap is 1972-07-01 */
	assert_true(leap_next(&debian, 0, &ev));
	assert_int_equal(ev.at_ns, 78796800LL * S);
	assert_int_equal(ev.tai_utc_after_s, 11);

	int32_t tai = 0;
	assert_true(leap_tai_utc(&debian, T2017 - 1, &tai));
	assert_int_equal(tai, 36);
	assert_true(leap_tai_utc(&debian, T2017, &tai));
	assert_int_equal(tai, 37);
	assert_true(leap_tai_utc(&debian, 1800000000LL * S, &tai));
	assert_int_equal(tai, 37);
	assert_true(leap_tai_utc(&debian, 63072000LL * S, &tai));   /* 1972-01-01 */
	assert_int_equal(tai, 10);
	assert_false(leap_tai_utc(&debian, 63072000LL * S - 1, &tai));

	assert_int_equal(leap_ntp_s_to_ns(3692217600LL), T2017);
	assert_int_equal(leap_ns_to_ntp_s(T2017), 3692217600LL);
	assert_int_equal(leap_ns_to_ntp_s(T2017 - 1), 3692217599LL);
}

static void test_calendar(void **state)
{
	(void)state;
	char b[40];
	assert_string_equal(leap_fmt_utc(T2017 - 1, b, sizeof b), "2016-12-31 23:59:59 UTC");
	assert_string_equal(leap_fmt_utc(0, b, sizeof b), "1970-01-01 00:00:00 UTC");
	assert_string_equal(leap_fmt_utc(951782400LL * S, b, sizeof b), "2000-02-29 00:00:00 UTC");
	assert_string_equal(leap_fmt_utc(-1, b, sizeof b), "1969-12-31 23:59:59 UTC");
	assert_string_equal(leap_fmt_utc(2085978496LL * S, b, sizeof b), "2036-02-07 06:28:16 UTC");
	assert_int_equal(leap_month_end(T2017 - DAY), T2017);
	assert_int_equal(leap_month_end(T2017 - 30 * DAY), T2017);
	assert_int_equal(leap_month_end(T2017), 1485907200LL * S);        /* 2017-02-01 */
	assert_int_equal(leap_month_end(T2016JUL - 1), T2016JUL);
	assert_int_equal(leap_month_end(951782400LL * S), 951868800LL * S); /* Feb 2000 → Mar 1 */
	/* every month start of 1970..2100 round-trips through the parser's check */
	gn_time_ns t = 0;
	for (int i = 0; i < 131 * 12; i++) {
		gn_time_ns next = leap_month_end(t);
		assert_true(next > t + 27 * DAY && next <= t + 31 * DAY);
		assert_int_equal(next % DAY, 0);
		t = next;
	}
	assert_string_equal(leap_fmt_utc(t, b, sizeof b), "2101-01-01 00:00:00 UTC");
}

static void test_vote_count(void **state)
{
	(void)state;
	const uint8_t li[] = { PKT_LI_ADD, PKT_LI_NONE, PKT_LI_UNSYNC, PKT_LI_ADD, PKT_LI_DEL };
	struct leap_vote v = leap_vote_count(li, 5);
	assert_int_equal(v.voters, 4);
	assert_int_equal(v.ins, 2);
	assert_int_equal(v.del, 1);
	v = leap_vote_count(NULL, 0);
	assert_int_equal(v.voters, 0);
}

/* --- decisions around the 2016-12-31 leap --- */

static struct leap_decision decide(struct leap_state *st, gn_time_ns now,
				   const struct leap_table *t, unsigned voters, unsigned ins,
				   unsigned del)
{
	struct leap_inputs in = { .now_ns = now, .table = t,
				  .vote = { .voters = voters, .ins = ins, .del = del } };
	struct leap_decision d;
	leap_decide(st, &in, &d);
	return d;
}

static bool has_log(const struct leap_decision *d, uint32_t key)
{
	for (size_t i = 0; i < d->n_logs; i++)
		if (d->logs[i].key == key)
			return true;
	return false;
}

static void test_vote_majority(void **state)
{
	(void)state;
	struct leap_state st;
	leap_state_init(&st);

	/* first call: kernel bits always written (a previous daemon may have left STA_INS) */
	struct leap_decision d = decide(&st, T2017 - 10 * DAY, NULL, 5, 0, 0);
	assert_true(d.kernel_changed);
	assert_int_equal(d.kernel_status, 0);
	assert_false(d.pending);
	d = decide(&st, T2017 - 10 * DAY + S, NULL, 5, 0, 0);
	assert_false(d.kernel_changed);

	/* 2 of 5, 2 of 4: no majority */
	d = decide(&st, T2017 - 2 * DAY, NULL, 5, 2, 0);
	assert_false(d.pending);
	d = decide(&st, T2017 - 2 * DAY, NULL, 4, 2, 0);
	assert_false(d.pending);
	d = decide(&st, T2017 - 2 * DAY, NULL, 0, 0, 0);
	assert_false(d.pending);
	assert_int_equal(d.n_logs, 0);

	/* 3 of 5 announce an insertion, two days before: known, logged, not yet served */
	d = decide(&st, T2017 - 2 * DAY, NULL, 5, 3, 0);
	assert_true(d.pending);
	assert_int_equal(d.src, LEAP_SRC_VOTE);
	assert_int_equal(d.ev.at_ns, T2017);
	assert_true(d.ev.insert);
	assert_int_equal(d.li, PKT_LI_NONE);
	assert_int_equal(d.kernel_status, 0);
	assert_false(d.kernel_changed);
	assert_true(has_log(&d, LEAP_LOG_KEY_ANNOUNCE));
	assert_non_null(strstr(d.logs[0].text, "2016-12-31"));
	assert_non_null(strstr(d.logs[0].text, "3 of 5"));
	d = decide(&st, T2017 - 2 * DAY + 64 * S, NULL, 5, 3, 0);
	assert_int_equal(d.n_logs, 0);          /* once */

	/* one second before the window: nothing served */
	d = decide(&st, T2017 - DAY - 1, NULL, 5, 3, 0);
	assert_int_equal(d.li, PKT_LI_NONE);
	assert_int_equal(d.kernel_status, 0);
	/* the last day of the month: served and armed, with a log line before */
	d = decide(&st, T2017 - DAY, NULL, 5, 3, 0);
	assert_int_equal(d.li, PKT_LI_ADD);
	assert_int_equal(d.kernel_status, CLK_STA_INS);
	assert_true(d.kernel_changed);
	assert_true(has_log(&d, LEAP_LOG_KEY_ARM));
	assert_non_null(strstr(d.logs[0].text, "insert 23:59:60"));
	assert_non_null(strstr(d.logs[0].text, "in 86400 s"));
	d = decide(&st, T2017 - 1, NULL, 5, 3, 0);
	assert_int_equal(d.li, PKT_LI_ADD);
	assert_false(d.kernel_changed);
	assert_int_equal(d.n_logs, 0);

	/* the leap has passed: cleared, a log line after */
	d = decide(&st, T2017 + S / 2, NULL, 5, 3, 0);  /* a late source still announces */
	assert_int_equal(d.li, PKT_LI_NONE);
	assert_int_equal(d.kernel_status, 0);
	assert_true(d.kernel_changed);
	assert_true(has_log(&d, LEAP_LOG_KEY_DONE));
	/* kernel repeats 23:59:59: the clock reads before T again. Never armed twice. */
	d = decide(&st, T2017 - S / 2, NULL, 5, 3, 0);
	assert_int_equal(d.li, PKT_LI_NONE);
	assert_int_equal(d.kernel_status, 0);
	assert_false(d.kernel_changed);
	assert_false(d.pending);
	d = decide(&st, T2017 + 2 * S, NULL, 5, 0, 0);
	assert_false(d.kernel_changed);
	assert_int_equal(d.n_logs, 0);
}

static void test_vote_delete_and_withdraw(void **state)
{
	(void)state;
	struct leap_state st;
	leap_state_init(&st);
	decide(&st, T2017 - 3 * DAY, NULL, 3, 0, 0);
	struct leap_decision d = decide(&st, T2017 - 3600 * S, NULL, 3, 0, 2);
	assert_int_equal(d.li, PKT_LI_DEL);
	assert_int_equal(d.kernel_status, CLK_STA_DEL);
	assert_true(d.kernel_changed);
	assert_false(d.ev.insert);
	assert_true(has_log(&d, LEAP_LOG_KEY_ANNOUNCE));
	assert_true(has_log(&d, LEAP_LOG_KEY_ARM));
	/* the sources stop announcing before the instant: cleared, said so */
	d = decide(&st, T2017 - 1800 * S, NULL, 3, 0, 1);
	assert_int_equal(d.li, PKT_LI_NONE);
	assert_int_equal(d.kernel_status, 0);
	assert_true(d.kernel_changed);
	assert_true(has_log(&d, LEAP_LOG_KEY_WITHDRAW));
	assert_non_null(strstr(d.logs[0].text, "kernel leap flag cleared"));
	/* the instant passes: no "inserted/deleted" claim */
	d = decide(&st, T2017 + S, NULL, 3, 0, 0);
	assert_false(has_log(&d, LEAP_LOG_KEY_DONE));
	assert_false(d.kernel_changed);
	/* it comes back (sources flip again): armed again, since it never happened */
	leap_state_init(&st);
	decide(&st, T2017 - 3600 * S, NULL, 3, 0, 2);
	decide(&st, T2017 - 1800 * S, NULL, 3, 0, 0);
	d = decide(&st, T2017 - 900 * S, NULL, 3, 0, 2);
	assert_int_equal(d.kernel_status, CLK_STA_DEL);
	assert_true(d.kernel_changed);
}

static void test_file_overrides_sources(void **state)
{
	(void)state;
	load_debian();
	struct leap_state st;
	leap_state_init(&st);

	/* the file lists 2017-01-01: served and armed with no source announcing it */
	struct leap_decision d = decide(&st, T2017 - 40 * DAY, &debian, 4, 0, 0);
	assert_true(d.pending);
	assert_int_equal(d.src, LEAP_SRC_FILE);
	assert_int_equal(d.ev.tai_utc_after_s, 37);
	assert_true(has_log(&d, LEAP_LOG_KEY_ANNOUNCE));
	assert_non_null(strstr(d.logs[0].text, "leap second file"));
	assert_int_equal(d.li, PKT_LI_NONE);
	d = decide(&st, T2017 - 3600 * S, &debian, 4, 0, 0);
	assert_int_equal(d.li, PKT_LI_ADD);
	assert_int_equal(d.kernel_status, CLK_STA_INS);
	assert_true(d.kernel_changed);
	assert_false(has_log(&d, LEAP_LOG_KEY_DISAGREE));  /* silence is no disagreement */
	/* sources announcing a deletion are outvoted by the file */
	d = decide(&st, T2017 - 1800 * S, &debian, 4, 0, 4);
	assert_int_equal(d.li, PKT_LI_ADD);
	assert_false(d.kernel_changed);
	assert_true(has_log(&d, LEAP_LOG_KEY_DISAGREE));
	d = decide(&st, T2017 - 1700 * S, &debian, 4, 0, 4);
	assert_false(has_log(&d, LEAP_LOG_KEY_DISAGREE)); /* once per change */
	/* after: TAI-UTC from the file in the log line */
	d = decide(&st, T2017, &debian, 4, 0, 0);
	assert_int_equal(d.kernel_status, 0);
	assert_true(d.kernel_changed);
	assert_true(has_log(&d, LEAP_LOG_KEY_DONE));
	assert_non_null(strstr(d.logs[0].text, "TAI-UTC is now 37 s"));
	assert_non_null(strstr(d.logs[0].text, "2017-01-01 00:00:00 UTC"));
	/* the repeated 23:59:59: the file still lists T as "next" there, but never twice */
	d = decide(&st, T2017 - 1, &debian, 4, 0, 0);
	assert_int_equal(d.li, PKT_LI_NONE);
	assert_false(d.kernel_changed);

	/* June 2016: the majority announces a leap the valid file does not list: none */
	leap_state_init(&st);
	d = decide(&st, T2016JUL - 3600 * S, &debian, 3, 3, 0);
	assert_true(d.pending);                 /* the file's next leap, six months on */
	assert_int_equal(d.ev.at_ns, T2017);
	assert_int_equal(d.li, PKT_LI_NONE);
	assert_int_equal(d.kernel_status, 0);
	assert_true(has_log(&d, LEAP_LOG_KEY_DISAGREE));
	assert_non_null(strstr(d.logs[0].text, "2016-06-30"));
	assert_non_null(strstr(d.logs[0].text, "3 of 3"));
	d = decide(&st, T2016JUL - 1800 * S, &debian, 3, 3, 0);
	assert_int_equal(d.n_logs, 0);
	/* without the file the same vote would have armed the kernel */
	leap_state_init(&st);
	d = decide(&st, T2016JUL - 3600 * S, NULL, 3, 3, 0);
	assert_int_equal(d.kernel_status, CLK_STA_INS);
}

static void test_expired_file_decisions(void **state)
{
	(void)state;
	struct leap_table old;
	struct leap_error e;
	assert_int_equal(parse_file("leap-seconds-expired-2016.list", &old, &e), LEAP_OK);
	struct leap_state st;
	leap_state_init(&st);

	/* valid in December before the 28th: the file (no leap listed) overrides the vote */
	struct leap_decision d = decide(&st, T2017 - 5 * DAY, &old, 3, 3, 0);
	assert_false(d.pending);
	assert_true(has_log(&d, LEAP_LOG_KEY_DISAGREE));
	assert_false(has_log(&d, LEAP_LOG_KEY_EXPIRED));
	/* expired on 2016-12-28: warned, then the sources' majority is followed */
	d = decide(&st, T2017 - 3 * DAY, &old, 3, 3, 0);
	assert_true(has_log(&d, LEAP_LOG_KEY_EXPIRED));
	assert_true(d.pending);
	assert_int_equal(d.src, LEAP_SRC_VOTE);
	assert_int_equal(d.ev.tai_utc_after_s, 37);     /* 36 from the old file, + 1 */
	/* warned once a day */
	d = decide(&st, T2017 - 3 * DAY + 3600 * S, &old, 3, 3, 0);
	assert_false(has_log(&d, LEAP_LOG_KEY_EXPIRED));
	d = decide(&st, T2017 - 2 * DAY - 1, &old, 3, 3, 0);
	assert_false(has_log(&d, LEAP_LOG_KEY_EXPIRED));
	d = decide(&st, T2017 - 2 * DAY, &old, 3, 3, 0);
	assert_true(has_log(&d, LEAP_LOG_KEY_EXPIRED));
	/* served and armed through the vote on the last day */
	d = decide(&st, T2017 - 600 * S, &old, 3, 3, 0);
	assert_int_equal(d.li, PKT_LI_ADD);
	assert_int_equal(d.kernel_status, CLK_STA_INS);
	d = decide(&st, T2017 + 600 * S, &old, 3, 0, 0);
	assert_true(has_log(&d, LEAP_LOG_KEY_DONE));
	assert_non_null(strstr(d.logs[0].text, "TAI-UTC is now 37 s"));
	/* replaced by a valid file: no more warnings */
	load_debian();
	d = decide(&st, T2017 + 3 * DAY, &debian, 3, 0, 0);
	assert_false(has_log(&d, LEAP_LOG_KEY_EXPIRED));
}

static void test_deadlines(void **state)
{
	(void)state;
	load_debian();
	struct leap_state st;
	leap_state_init(&st);
	struct leap_inputs in = { .now_ns = T2017 - 10 * DAY, .table = &debian };
	/* before the first decision: at once */
	assert_int_equal(leap_next_deadline(&st, &in), in.now_ns);
	struct leap_decision d;
	leap_decide(&st, &in, &d);
	/* then the window's opening */
	assert_int_equal(leap_next_deadline(&st, &in), T2017 - DAY);
	in.now_ns = T2017 - 100 * S;
	leap_decide(&st, &in, &d);
	assert_int_equal(leap_next_deadline(&st, &in), T2017);
	in.now_ns = T2017;
	leap_decide(&st, &in, &d);
	/* after the leap: the file's expiry (2026-06-28) */
	assert_int_equal(leap_next_deadline(&st, &in), 1782604800LL * S);
	in.now_ns = 1782604800LL * S + 5;
	assert_int_equal(leap_next_deadline(&st, &in), in.now_ns);   /* warn now */
	leap_decide(&st, &in, &d);
	assert_true(has_log(&d, LEAP_LOG_KEY_EXPIRED));
	assert_int_equal(leap_next_deadline(&st, &in), in.now_ns + DAY);
	/* no file, no vote: nothing to wake for */
	leap_state_init(&st);
	struct leap_inputs none = { .now_ns = T2017 };
	leap_decide(&st, &none, &d);
	assert_int_equal(leap_next_deadline(&st, &none), INT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_file),
		cmocka_unit_test(test_expired_file),
		cmocka_unit_test(test_corrupted_files),
		cmocka_unit_test(test_inline_variants),
		cmocka_unit_test(test_no_sha1),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_calendar),
		cmocka_unit_test(test_vote_count),
		cmocka_unit_test(test_vote_majority),
		cmocka_unit_test(test_vote_delete_and_withdraw),
		cmocka_unit_test(test_file_overrides_sources),
		cmocka_unit_test(test_expired_file_decisions),
		cmocka_unit_test(test_deadlines),
	};
	return cmocka_run_group_tests(tests, tcrypto_setup, tcrypto_teardown);
}
