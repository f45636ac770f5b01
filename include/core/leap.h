/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * leap: leap seconds. Parses the IERS/NIST leap-seconds.list (the file tzdata ships as
 * /usr/share/zoneinfo/leap-seconds.list), answers questions about it (the next leap after
 * an instant, TAI-UTC at an instant, expired or not), and decides, at every call, which
 * leap indicator to serve and whether the kernel's STA_INS/STA_DEL bit is to be armed.
 *
 * The file (IERS Bulletin C distribution, format documented in the file itself and in
 * https://hpiers.obspm.fr/iers/bul/bulc/ntp/sources/README):
 *   #$ <NTP seconds>     last update of the file
 *   #@ <NTP seconds>     expiry: the file says nothing about leaps after this instant
 *   <NTP seconds> <TAI-UTC> [# comment]   one line per step of TAI-UTC, at 00:00 UTC of
 *                        the first day of a month; the leap second itself is the last
 *                        second (23:59:60) of the day before
 *   #h <5 words of hex>  SHA-1 of the concatenation of the non-blank characters of the
 *                        #$ value, the #@ value and each data line's two fields, in file
 *                        order (comments and white space left out). Words may have lost
 *                        leading zeros (NIST's copies did); each is read as a 32-bit value.
 *   any other line starting with '#' is a comment; blank lines are skipped.
 * NTP seconds count from 1900-01-01 00:00 UTC (RFC 5905 §6, era 0 and beyond: the values
 * are kept in 64 bits, so a file written after 2036 parses as well).
 *
 * The decision (leap_decide) follows RFC 5905 §9.2 (the leap indicator in the system
 * variables) and the Linux kernel's adjtimex(2) model (clk.h):
 *   - a valid, unexpired leap file overrides the sources; otherwise the leap indicator is
 *     taken by majority vote of the selected sources (strictly more than half of the
 *     voters must announce the same leap); a vote announces a leap at the end of the
 *     current UTC month, the only place leaps are scheduled;
 *   - the indicator is served, and the kernel bit armed, only during the last day before
 *     the leap instant, [T - 86400 s, T), T being 00:00:00 UTC after the leap: the kernel
 *     inserts or deletes at the end of the UTC day in which the bit is set, so setting it
 *     any earlier would leap at the wrong midnight;
 *   - at T the bit is cleared (the kernel needs that to leave TIME_WAIT), and a leap
 *     instant once passed is never armed again (a kernel that repeats 23:59:59 puts the
 *     clock back into the window for one second: nothing must leap twice);
 *   - log lines: when a leap becomes known, before (arming) and after (cleared, TAI-UTC
 *     now), when an announcement is withdrawn, when the file and the sources disagree,
 *     and once a day while the leap file is expired.
 *
 * Owns: the parsed table (a plain value, copied freely) and the decision state (a struct
 * the caller holds). Pure: no I/O, no clock; the caller passes `now` and the text.
 * Does not own: reading the file (the daemon does), SHA-1 (through the crypto seam of
 * auth.h, struct auth_crypto, alg AUTH_ALG_SHA1: src/os/crypto_openssl in the daemon),
 * applying the kernel status (the engine emits a clock adjustment), serving (srv).
 */
#ifndef LEAP_H
#define LEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "ntp_time.h"

#define LEAP_MAX_ENTRIES 128        /* data lines kept (the 2025 file has 28) */
#define LEAP_MAX_FILE_LEN 65536     /* a larger text is refused as corrupt (the file is ~5 KB) */
#define LEAP_DAY_S 86400            /* one UTC day; the window before a leap */
#define LEAP_EXPIRED_WARN_S 86400   /* an expired file is warned about once a day (issue) */
#define LEAP_SHA1_LEN 20

/* One step of TAI-UTC: from ntp_s (00:00:00 UTC of a month's first day) on, TAI-UTC is
 * tai_utc_s. The leap second precedes ntp_s. */
struct leap_entry {
	int64_t ntp_s;
	int32_t tai_utc_s;
};

/* A parsed file. Plain data: copy it by assignment. */
struct leap_table {
	int64_t updated_ntp_s;      /* #$ */
	int64_t expires_ntp_s;      /* #@ */
	unsigned n;                 /* entries, strictly increasing in time */
	struct leap_entry e[LEAP_MAX_ENTRIES];
	uint8_t sha1[LEAP_SHA1_LEN];/* the #h hash (verified) */
};

enum leap_err {
	LEAP_OK = 0,
	LEAP_ERR_CORRUPT,       /* a line that is not the format, missing #$ or #@, no data,
	                         * data out of order, a TAI-UTC step other than ±1 s, a date
	                         * not at 00:00 UTC on the 1st of a month, expiry before update */
	LEAP_ERR_NO_HASH,       /* no #h line: the file cannot be checked, refused */
	LEAP_ERR_BAD_HASH,      /* #h does not match the data: damaged or edited */
	LEAP_ERR_NO_SHA1,       /* the crypto seam cannot compute SHA-1 */
	LEAP_ERR_EXPIRED,       /* well-formed and intact but past its #@ (leap_check only) */
};

/* Where and why a file was refused. line is 1-based, 0 when not tied to one line. */
struct leap_error {
	unsigned line;
	char msg[128];
};

/* Parse and verify text[0..len). On LEAP_OK *out holds the table. On an error *out is
 * left zeroed except that LEAP_ERR_BAD_HASH still fills it (for a diagnostic), and err
 * says what is wrong. crypto must provide digest(AUTH_ALG_SHA1). Does not look at expiry. */
enum leap_err leap_parse(const char *text, size_t len, const struct auth_crypto *crypto,
			 struct leap_table *out, struct leap_error *err);

/* LEAP_OK if now is before the table's expiry, else LEAP_ERR_EXPIRED. */
enum leap_err leap_check(const struct leap_table *t, gn_time_ns now_ns);
bool leap_expired(const struct leap_table *t, gn_time_ns now_ns);

/* Short stable text for an error: "corrupt", "no hash", "bad hash", ... */
const char *leap_err_name(enum leap_err e);

/* NTP seconds (since 1900) <-> internal time. */
gn_time_ns leap_ntp_s_to_ns(int64_t ntp_s);
int64_t leap_ns_to_ntp_s(gn_time_ns t_ns);

/* A leap to come. */
struct leap_event {
	gn_time_ns at_ns;       /* 00:00:00 UTC after the leap second (T) */
	bool insert;            /* true: 23:59:60 inserted; false: 23:59:59 deleted */
	int32_t tai_utc_after_s;/* TAI-UTC from at_ns on */
};

/* The first leap strictly after now, from the table. False if none is listed. Expiry is
 * not looked at (leap_check is). */
bool leap_next(const struct leap_table *t, gn_time_ns now_ns, struct leap_event *ev);

/* TAI-UTC at instant t: the entry in force (largest ntp_s <= t). False before the first
 * entry (1972-01-01), where TAI-UTC was not an integer. */
bool leap_tai_utc(const struct leap_table *t, gn_time_ns t_ns, int32_t *tai_utc_s);

/* 00:00:00 UTC on the first day of the month after the one holding t: where a leap
 * announced now by the sources would happen. */
gn_time_ns leap_month_end(gn_time_ns t_ns);

/* "2016-12-31 23:59:59 UTC" for an instant (floor to the second); returns buf. */
const char *leap_fmt_utc(gn_time_ns t_ns, char *buf, size_t cap);

/* --- the vote of the selected sources (RFC 5905 §9.2: the system leap indicator follows
 * the system peer; gnomon, as ntpd, wants a majority of the survivors instead, so one
 * faulty server cannot make the clock leap). --- */
struct leap_vote {
	unsigned voters;        /* selected sources, synchronised (LI != 3) */
	unsigned ins;           /* of them announcing an insertion (LI 1) */
	unsigned del;           /* of them announcing a deletion (LI 2) */
};

/* Count LI values (enum pkt_li, 0..3) of the selected sources; LI 3 is not a voter. */
struct leap_vote leap_vote_count(const uint8_t *li, size_t n);

/* --- the decision --- */

enum leap_src { LEAP_SRC_NONE = 0, LEAP_SRC_FILE, LEAP_SRC_VOTE };

/* State the caller keeps between calls (inside its engine). Initialise with
 * leap_state_init; no pointers inside. */
struct leap_state {
	gn_time_ns announced_at_ns; /* leap instant last logged as known, 0 none */
	bool announced_insert;
	gn_time_ns done_at_ns;      /* latest leap instant passed: never armed again */
	unsigned kernel_status;     /* CLK_STA_INS, CLK_STA_DEL or 0: last asked of the kernel */
	gn_time_ns armed_at_ns;     /* leap instant the kernel bit was armed for, 0 none */
	int32_t tai_utc_before_s;   /* TAI-UTC before the armed leap (from the file), or 0 */
	bool have_tai_utc;
	bool disagree;              /* last call: file and majority of sources disagreed */
	bool warned_expired;        /* an expired-file warning was given ... */
	gn_time_ns expired_warn_ns; /* ... at this instant */
};

void leap_state_init(struct leap_state *st);

struct leap_inputs {
	gn_time_ns now_ns;                  /* the disciplined clock (UTC) */
	const struct leap_table *table;     /* a table that parsed (LEAP_OK), or NULL */
	struct leap_vote vote;              /* the selected sources' leap bits */
};

#define LEAP_MAX_LOGS 4

/* Log levels match syslog's order, as enum eng_log_level does. */
enum leap_log_level { LEAP_LOG_ERR, LEAP_LOG_WARNING, LEAP_LOG_NOTICE, LEAP_LOG_INFO };

/* Log keys (below 0x80000000, the engine's range), for the caller's rate limiter. */
#define LEAP_LOG_KEY_ANNOUNCE 0x4c500001u  /* a leap is known */
#define LEAP_LOG_KEY_ARM      0x4c500002u  /* kernel bit armed */
#define LEAP_LOG_KEY_DONE     0x4c500003u  /* leap passed, bit cleared */
#define LEAP_LOG_KEY_WITHDRAW 0x4c500004u  /* announcement withdrawn, bit cleared */
#define LEAP_LOG_KEY_DISAGREE 0x4c500005u  /* file and sources disagree */
#define LEAP_LOG_KEY_EXPIRED  0x4c500006u  /* the leap file is expired */

struct leap_log {
	enum leap_log_level level;
	uint32_t key;
	char text[160];
};

struct leap_decision {
	uint8_t li;                 /* enum pkt_li to serve: NONE, ADD or DEL (the engine
	                             * serves UNSYNC instead when not synchronised) */
	enum leap_src src;          /* where a pending leap came from (NONE: no leap pending) */
	bool pending;               /* a leap is known to come (ev valid) */
	struct leap_event ev;       /* the pending leap, if any */
	unsigned kernel_status;     /* wanted kernel bits: CLK_STA_INS, CLK_STA_DEL or 0 */
	bool kernel_changed;        /* differs from the last call: apply (CLK_ADJ_STATUS) */
	size_t n_logs;
	struct leap_log logs[LEAP_MAX_LOGS];
};

/* Decide for now. Updates *st; fills *out. Call whenever the selection changes and at
 * least at every leap_next_deadline. */
void leap_decide(struct leap_state *st, const struct leap_inputs *in, struct leap_decision *out);

/* The next instant at which leap_decide would change its answer with unchanged inputs
 * (window opens, leap instant passes, next expiry warning); INT64_MAX if none. In the
 * clock's time (real_ns), not monotonic. */
gn_time_ns leap_next_deadline(const struct leap_state *st, const struct leap_inputs *in);

#endif
