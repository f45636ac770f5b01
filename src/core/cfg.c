/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cfg: the ntp.conf parser. Owns the syntax of ntp.conf as classic ntpd and NTPsec accept
 * it (their documented "Configuration Commands", "Access Control Commands", "Monitoring
 * Commands", "Authentication Commands" and "Reference Clock Commands") plus gnomon's own
 * `port`, `controlsocket` and `pidfile`; one small function per directive fills the typed
 * `struct cfg`. Does not own reading files (cfg_reader, implemented by cfgload), name
 * resolution, key files or printing (cfg_print.c).
 *
 * Fuzz-friendly by construction: no state outside the structs handed in, never reads past
 * `len` (NUL bytes are reported, not trusted as terminators), every line is bounded
 * (CFG_LINE_MAX bytes, CFG_MAX_TOKENS words) and includes are bounded in depth and count.
 *
 * Security rule: a word nobody knows, or a malformed line whose loss would weaken access
 * control or authentication, is an error (the daemon refuses to start). A directive that
 * ntpd or NTPsec know but gnomon does not implement, and whose absence weakens nothing,
 * is a warning that names it.
 */
#include "cfg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gn_addr.h"
#include "gn_assert.h"

#define MINPOLL_LOG2_MIN 3      /* ntpd accepts minpoll/maxpoll 3..17 */
#define MAXPOLL_LOG2_MAX 17     /* RFC 5905 §7.2 MAXPOLL */
#define DEF_MINPOLL_LOG2 6      /* RFC 5905 §7.2 MINPOLL default in ntpd */
#define DEF_MAXPOLL_LOG2 10     /* RFC 5905 §7.2 */
#define RC_MINPOLL_LOG2_MIN 0   /* reference clocks may be polled every second (NTPsec) */
#define KEYID_MAX 65535         /* ntpd key ids are 1..65535 */
#define SUGGEST_LEN_MAX 32      /* words longer than this get no suggestion */

/* ---------------------------------------------------------------- tokens and lines */

struct tok {
	const char *s;      /* NUL-terminated copy in line.buf */
	unsigned col;       /* 1-based byte column */
	bool quoted;
};

struct line {
	struct tok t[CFG_MAX_TOKENS];
	unsigned n;
	unsigned lineno;
	char buf[CFG_LINE_MAX + CFG_MAX_TOKENS];
};

struct pctx {
	struct cfg *cfg;
	struct cfg_diags *diags;
	const struct cfg_reader *reader;
	const struct cfg_parse_opts *opts;
	const char *file;
	unsigned lineno;
	unsigned depth;
	unsigned *n_includes;
	unsigned errors;
};

__attribute__((format(printf, 4, 0)))
static void diag_v(struct pctx *p, enum cfg_severity sev, unsigned col, const char *fmt, va_list ap)
{
	struct cfg_diags *ds = p->diags;
	if (sev == CFG_ERROR) {
		p->errors++;
		ds->n_errors++;
	} else {
		ds->n_warnings++;
	}
	if (ds->n >= CFG_MAX_DIAG)
		return;
	struct cfg_diag *d = &ds->d[ds->n++];
	memset(d, 0, sizeof *d);
	d->severity = sev;
	snprintf(d->file, sizeof d->file, "%s", p->file);
	d->line = p->lineno;
	d->column = col;
	vsnprintf(d->message, sizeof d->message, fmt, ap);
}

__attribute__((format(printf, 3, 4)))
static void err_at(struct pctx *p, const struct tok *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_v(p, CFG_ERROR, t ? t->col : 1, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4)))
static void warn_at(struct pctx *p, const struct tok *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_v(p, CFG_WARNING, t ? t->col : 1, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4)))
static void err_col(struct pctx *p, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_v(p, CFG_ERROR, col, fmt, ap);
	va_end(ap);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Split one line (text[0..len), no '\n') into tokens. Returns false after reporting an
 * error; the line is then skipped. '#' outside quotes starts a comment. */
static bool lex_line(struct pctx *p, const char *text, size_t len, struct line *l)
{
	l->n = 0;
	l->lineno = p->lineno;
	if (len > CFG_LINE_MAX) {
		err_col(p, CFG_LINE_MAX + 1, "line is longer than %d bytes", CFG_LINE_MAX);
		return false;
	}
	size_t out = 0;
	size_t i = 0;
	while (i < len) {
		char c = text[i];
		if (is_blank(c)) {
			i++;
			continue;
		}
		if (c == '#')
			break;
		unsigned col = (unsigned)i + 1;
		if (l->n >= CFG_MAX_TOKENS) {
			err_col(p, col, "more than %d words on one line", CFG_MAX_TOKENS);
			return false;
		}
		struct tok *t = &l->t[l->n];
		t->s = &l->buf[out];
		t->col = col;
		t->quoted = false;
		if (c == '"') {
			t->quoted = true;
			i++;
			while (i < len && text[i] != '"') {
				if (text[i] == '\0') {
					err_col(p, (unsigned)i + 1, "NUL byte in configuration text");
					return false;
				}
				l->buf[out++] = text[i++];
			}
			if (i >= len) {
				err_col(p, col, "unterminated quoted string");
				return false;
			}
			i++; /* closing quote */
			if (i < len && !is_blank(text[i]) && text[i] != '#') {
				err_col(p, (unsigned)i + 1, "expected a space after the closing quote");
				return false;
			}
		} else {
			while (i < len && !is_blank(text[i]) && text[i] != '#') {
				if (text[i] == '\0') {
					err_col(p, (unsigned)i + 1, "NUL byte in configuration text");
					return false;
				}
				l->buf[out++] = text[i++];
			}
		}
		l->buf[out++] = '\0';
		l->n++;
	}
	/* A NUL in a comment is still a broken file. */
	for (; i < len; i++) {
		if (text[i] == '\0') {
			err_col(p, (unsigned)i + 1, "NUL byte in configuration text");
			return false;
		}
	}
	INSIST(out <= sizeof l->buf);
	return true;
}

/* ---------------------------------------------------------------- suggestions */

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Optimal string alignment distance (Levenshtein plus adjacent transposition),
 * case-insensitive; both words at most SUGGEST_LEN_MAX. */
static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned d[SUGGEST_LEN_MAX + 1][SUGGEST_LEN_MAX + 1];
	REQUIRE(la <= SUGGEST_LEN_MAX && lb <= SUGGEST_LEN_MAX);
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
			unsigned v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* The nearest word of list (NULL-terminated) to w, or NULL if none is near. */
static const char *suggest(const char *w, const char *const *list)
{
	size_t lw = strlen(w);
	if (lw == 0 || lw > SUGGEST_LEN_MAX)
		return NULL;
	unsigned limit = lw <= 3 ? 1 : lw <= 6 ? 2 : 3;
	const char *best = NULL;
	unsigned best_d = limit + 1;
	for (size_t i = 0; list[i]; i++) {
		if (strlen(list[i]) > SUGGEST_LEN_MAX)
			continue;
		unsigned dist = edit_distance(w, list[i]);
		if (dist < best_d && dist < lw) {
			best_d = dist;
			best = list[i];
		}
	}
	return best;
}

static bool in_list(const char *w, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(w, list[i]) == 0)
			return true;
	return false;
}

/* "; did you mean 'x'?" or "" into buf. */
static const char *mean(const char *w, const char *const *list, char *buf, size_t cap)
{
	const char *s = suggest(w, list);
	if (s)
		snprintf(buf, cap, "; did you mean '%s'?", s);
	else if (cap)
		buf[0] = '\0';
	return buf;
}

/* ---------------------------------------------------------------- values */

/* An integer token in [lo, hi]; reports and returns false otherwise. */
static bool get_int(struct pctx *p, const struct tok *t, const char *what, long long lo, long long hi, long long *out)
{
	const char *s = t->s;
	bool neg = false;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	long long v = 0;
	bool ok = *s != '\0';
	for (; ok && *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000000LL) {
			ok = false;
			break;
		}
		v = v * 10 + (*s - '0');
	}
	if (neg)
		v = -v;
	if (!ok || v < lo || v > hi) {
		err_at(p, t, "'%s' needs an integer from %lld to %lld, not '%s'", what, lo, hi, t->s);
		return false;
	}
	*out = v;
	return true;
}

/* A decimal number token in [lo, hi]. */
static bool get_num(struct pctx *p, const struct tok *t, const char *what, double lo, double hi, double *out)
{
	const char *s = t->s;
	bool ok = true;
	/* Only plain decimal numbers: no "nan", "inf" or hex floats. */
	for (const char *c = s; *c; c++) {
		if (!((*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '+' || *c == 'e' || *c == 'E'))
			ok = false;
	}
	double v = 0;
	if (ok && *s) {
		char *end = NULL;
		v = strtod(s, &end);
		ok = end && *end == '\0' && end != s;
	} else {
		ok = false;
	}
	if (!ok || !(v >= lo && v <= hi)) {
		err_at(p, t, "'%s' needs a number from %g to %g, not '%s'", what, lo, hi, t->s);
		return false;
	}
	*out = v;
	return true;
}

/* The value token after option l->t[*i], advancing *i; reports if missing. */
static const struct tok *value_of(struct pctx *p, const struct line *l, unsigned *i)
{
	if (*i + 1 >= l->n) {
		err_at(p, &l->t[*i], "'%s' needs a value", l->t[*i].s);
		return NULL;
	}
	(*i)++;
	return &l->t[*i];
}

static bool opt_int(struct pctx *p, const struct line *l, unsigned *i, long long lo, long long hi, long long *out)
{
	const char *what = l->t[*i].s;
	const struct tok *v = value_of(p, l, i);
	return v && get_int(p, v, what, lo, hi, out);
}

static bool opt_num(struct pctx *p, const struct line *l, unsigned *i, double lo, double hi, double *out)
{
	const char *what = l->t[*i].s;
	const struct tok *v = value_of(p, l, i);
	return v && get_num(p, v, what, lo, hi, out);
}

/* A path argument: non-empty, fits, no control characters or quotes. */
static bool get_path(struct pctx *p, const struct tok *t, char *dst, size_t cap)
{
	size_t n = strlen(t->s);
	if (n == 0) {
		err_at(p, t, "empty path");
		return false;
	}
	if (n >= cap) {
		err_at(p, t, "path is longer than %zu bytes", cap - 1);
		return false;
	}
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)t->s[k];
		if (c < 0x20 || c == 0x7f || c == '"') {
			err_at(p, t, "path '%s' contains a control character or a quote", t->s);
			return false;
		}
	}
	memcpy(dst, t->s, n + 1);
	return true;
}

/* Exactly one path argument for directive l->t[0]. */
static bool one_path(struct pctx *p, const struct line *l, char *dst, size_t cap)
{
	if (l->n < 2) {
		err_at(p, &l->t[0], "'%s' needs a path", l->t[0].s);
		return false;
	}
	if (l->n > 2) {
		err_at(p, &l->t[2], "unexpected '%s' after the path of '%s'", l->t[2].s, l->t[0].s);
		return false;
	}
	return get_path(p, &l->t[1], dst, cap);
}

/* Parse "ADDR", "ADDR/LEN" into a prefix (a host prefix when there is no /LEN). Returns
 * false without reporting. */
static bool parse_prefix(const char *s, struct cfg_prefix *out, bool *had_len)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof addr)
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	struct gn_addr a;
	if (!gn_addr_parse(addr, 0, &a))
		return false;
	memset(out, 0, sizeof *out);
	out->family = a.family;
	memcpy(out->addr, a.addr, 16);
	unsigned max = a.family == GN_AF_INET ? 32 : 128;
	out->prefix_len = (uint8_t)max;
	*had_len = slash != NULL;
	if (slash) {
		const char *d = slash + 1;
		unsigned v = 0;
		if (*d == '\0' || strlen(d) > 3)
			return false;
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				return false;
			v = v * 10 + (unsigned)(*d - '0');
		}
		if (v > max)
			return false;
		out->prefix_len = (uint8_t)v;
	}
	return true;
}

/* Clear the bits of pfx beyond its length; true if any were set. */
static bool mask_host_bits(struct cfg_prefix *pfx)
{
	unsigned nbytes = pfx->family == 4 ? 4 : 16;
	bool had = false;
	for (unsigned b = 0; b < nbytes; b++) {
		unsigned first_bit = b * 8;
		uint8_t keep;
		if (first_bit + 8 <= pfx->prefix_len)
			keep = 0xff;
		else if (first_bit >= pfx->prefix_len)
			keep = 0;
		else
			keep = (uint8_t)(0xff << (8 - (pfx->prefix_len - first_bit)));
		if (pfx->addr[b] & (uint8_t)~keep)
			had = true;
		pfx->addr[b] &= keep;
	}
	return had;
}

/* A netmask as a prefix length: contiguous ones only. Returns -1 if not a mask. */
static int mask_len(const struct gn_addr *m)
{
	unsigned nbytes = m->family == GN_AF_INET ? 4 : 16;
	int len = 0;
	bool zero_seen = false;
	for (unsigned b = 0; b < nbytes; b++) {
		for (int bit = 7; bit >= 0; bit--) {
			bool one = (m->addr[b] >> bit) & 1;
			if (one && zero_seen)
				return -1;
			if (one)
				len++;
			else
				zero_seen = true;
		}
	}
	return len;
}

/* A host name or numeric address as a source: letters, digits and . - _ : % only. */
static bool valid_host(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CFG_HOST_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t k = 0; k < n; k++) {
		char c = s[k];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_' || c == ':' || c == '%'))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- refclock types */

struct rc_type { unsigned type; const char *name; };
/* Classic 127.127.T.U type numbers and the NTPsec driver names for them. */
static const struct rc_type rc_types[] = {
	{ 1, "local" }, { 4, "spectracom" }, { 5, "truetime" }, { 8, "generic" },
	{ 11, "arbiter" }, { 18, "modem" }, { 20, "nmea" }, { 22, "pps" }, { 26, "hpgps" },
	{ 28, "shm" }, { 29, "trimble" }, { 30, "oncore" }, { 40, "jjy" }, { 42, "zyfer" },
	{ 44, "neoclock" }, { 46, "gpsd" },
};
static const char *const rc_names[] = {
	"local", "spectracom", "truetime", "generic", "arbiter", "modem", "nmea", "pps",
	"hpgps", "shm", "trimble", "oncore", "jjy", "zyfer", "neoclock", "gpsd", NULL,
};

const char *cfg_refclock_name(unsigned type)
{
	for (size_t i = 0; i < sizeof rc_types / sizeof rc_types[0]; i++)
		if (rc_types[i].type == type)
			return rc_types[i].name;
	return NULL;
}

unsigned cfg_refclock_type(const char *name)
{
	for (size_t i = 0; i < sizeof rc_types / sizeof rc_types[0]; i++)
		if (strcmp(rc_types[i].name, name) == 0)
			return rc_types[i].type;
	return 0;
}

/* "127.127.T.U" → type and unit. */
static bool parse_classic_refclock(const char *s, unsigned *type, unsigned *unit)
{
	if (strncmp(s, "127.127.", 8) != 0)
		return false;
	s += 8;
	unsigned v[2] = { 0, 0 };
	for (int k = 0; k < 2; k++) {
		int digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v[k] = v[k] * 10 + (unsigned)(*s - '0');
			s++;
			digits++;
		}
		if (digits == 0 || v[k] > 255)
			return false;
		if (k == 0) {
			if (*s != '.')
				return false;
			s++;
		}
	}
	if (*s != '\0')
		return false;
	*type = v[0];
	*unit = v[1];
	return true;
}

static void refclock_defaults(struct cfg_refclock *rc)
{
	memset(rc, 0, sizeof *rc);
	rc->minpoll = DEF_MINPOLL_LOG2;
	rc->maxpoll = DEF_MAXPOLL_LOG2;
	rc->stratum = -1;
}

static struct cfg_refclock *find_refclock(struct cfg *c, const char *driver, unsigned unit)
{
	for (unsigned k = 0; k < c->n_refclocks; k++)
		if (strcmp(c->refclocks[k].driver, driver) == 0 && c->refclocks[k].unit == unit)
			return &c->refclocks[k];
	return NULL;
}

/* ---------------------------------------------------------------- option vocabularies */

static const char *const src_opts[] = {
	"iburst", "burst", "prefer", "noselect", "true", "minpoll", "maxpoll", "key",
	"version", "port", NULL,
};
/* Known to ntpd/NTPsec, without effect in gnomon (warning; the value is skipped). */
static const char *const src_opts_ignored_novalue[] = { "xleave", "preempt", "dynamic", NULL };
static const char *const src_opts_ignored_value[] = { "ttl", "ident", "bias", "maxdelay", NULL };
/* Ask for authentication gnomon lacks: an error, never a silent downgrade. */
static const char *const src_opts_security[] = { "autokey", "nts", "ask", "require", "noval", NULL };

static const char *const refclock_opts[] = {
	"unit", "prefer", "noselect", "minpoll", "maxpoll", "subtype", "mode", "path",
	"ppspath", "baud", "time1", "time2", "stratum", "refid", "flag1", "flag2", "flag3",
	"flag4", NULL,
};
static const char *const fudge_opts[] = {
	"time1", "time2", "stratum", "refid", "flag1", "flag2", "flag3", "flag4", NULL,
};

struct flag_name { const char *name; uint32_t bit; };
static const struct flag_name res_flags[] = {
	{ "ignore", CFG_RES_IGNORE }, { "noserve", CFG_RES_NOSERVE },
	{ "noquery", CFG_RES_NOQUERY }, { "nomodify", CFG_RES_NOMODIFY },
	{ "nopeer", CFG_RES_NOPEER }, { "notrap", CFG_RES_NOTRAP },
	{ "notrust", CFG_RES_NOTRUST }, { "limited", CFG_RES_LIMITED },
	{ "kod", CFG_RES_KOD }, { "nomrulist", CFG_RES_NOMRULIST },
	{ "noepeer", CFG_RES_NOEPEER }, { "version", CFG_RES_VERSION },
	{ "ntpport", CFG_RES_NTPPORT },
};
static const char *const res_words[] = {
	"ignore", "noserve", "noquery", "nomodify", "nopeer", "notrap", "notrust", "limited",
	"kod", "nomrulist", "noepeer", "version", "ntpport", "mask", "default", "source",
	"lowpriotrap", "ippeerlimit", NULL,
};

static const struct flag_name en_flags[] = {
	{ "auth", CFG_EN_AUTH }, { "monitor", CFG_EN_MONITOR }, { "ntp", CFG_EN_NTP },
	{ "kernel", CFG_EN_KERNEL }, { "stats", CFG_EN_STATS }, { "calibrate", CFG_EN_CALIBRATE },
};
static const char *const en_words[] = {
	"auth", "monitor", "ntp", "kernel", "stats", "calibrate", "bclient", "mode7", "pps",
	NULL,
};
static const char *const en_ignored[] = { "bclient", "mode7", "pps", NULL };

static const struct flag_name stat_flags[] = {
	{ "loopstats", CFG_STAT_LOOP }, { "peerstats", CFG_STAT_PEER },
	{ "clockstats", CFG_STAT_CLOCK }, { "sysstats", CFG_STAT_SYS },
	{ "rawstats", CFG_STAT_RAW }, { "protostats", CFG_STAT_PROTO },
};
static const char *const stat_words[] = {
	"loopstats", "peerstats", "clockstats", "sysstats", "rawstats", "protostats",
	"cryptostats", "timingstats", "usestats", NULL,
};
static const char *const stat_ignored[] = { "cryptostats", "timingstats", "usestats", NULL };

static uint32_t flag_bit(const struct flag_name *f, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, w) == 0)
			return f[i].bit;
	return 0;
}
#define FLAG_BIT(tab, w) flag_bit(tab, sizeof tab / sizeof tab[0], w)

/* ---------------------------------------------------------------- directives */

static void d_source(struct pctx *p, const struct line *l)
{
	struct cfg *c = p->cfg;
	const char *dname = l->t[0].s;
	enum cfg_src_kind kind = strcmp(dname, "pool") == 0 ? CFG_SRC_POOL :
				 strcmp(dname, "peer") == 0 ? CFG_SRC_PEER : CFG_SRC_SERVER;
	unsigned i = 1;
	int8_t family = 0;
	while (i < l->n && (strcmp(l->t[i].s, "-4") == 0 || strcmp(l->t[i].s, "-6") == 0)) {
		family = l->t[i].s[1] == '4' ? 4 : 6;
		i++;
	}
	if (i >= l->n) {
		err_at(p, &l->t[0], "'%s' needs an address or host name", dname);
		return;
	}
	const struct tok *host = &l->t[i++];

	/* Classic reference clock: server 127.127.T.U [mode N] [prefer] ... */
	unsigned rtype, runit;
	if (parse_classic_refclock(host->s, &rtype, &runit)) {
		const char *name = cfg_refclock_name(rtype);
		if (kind != CFG_SRC_SERVER) {
			err_at(p, host, "a reference clock address needs 'server', not '%s'", dname);
			return;
		}
		if (!name) {
			err_at(p, host, "unknown reference clock type %u in '%s'", rtype, host->s);
			return;
		}
		if (find_refclock(c, name, runit)) {
			err_at(p, host, "reference clock '%s' is configured twice", host->s);
			return;
		}
		if (c->n_refclocks >= CFG_MAX_REFCLOCKS) {
			err_at(p, host, "more than %d reference clocks", CFG_MAX_REFCLOCKS);
			return;
		}
		struct cfg_refclock rc;
		refclock_defaults(&rc);
		snprintf(rc.driver, sizeof rc.driver, "%s", name);
		rc.unit = (uint8_t)runit;
		rc.classic = true;
		rc.line = l->lineno;
		bool ok = true, minp = false, maxp = false;
		for (; i < l->n && ok; i++) {
			const char *o = l->t[i].s;
			long long v;
			if (strcmp(o, "prefer") == 0) {
				rc.prefer = true;
			} else if (strcmp(o, "noselect") == 0) {
				rc.noselect = true;
			} else if (strcmp(o, "minpoll") == 0) {
				ok = opt_int(p, l, &i, RC_MINPOLL_LOG2_MIN, MAXPOLL_LOG2_MAX, &v);
				rc.minpoll = (int8_t)v;
				minp = true;
			} else if (strcmp(o, "maxpoll") == 0) {
				ok = opt_int(p, l, &i, RC_MINPOLL_LOG2_MIN, MAXPOLL_LOG2_MAX, &v);
				rc.maxpoll = (int8_t)v;
				maxp = true;
			} else if (strcmp(o, "mode") == 0) {
				ok = opt_int(p, l, &i, 0, 4294967295LL, &v);
				rc.mode = (uint32_t)v;
			} else if (strcmp(o, "iburst") == 0 || strcmp(o, "burst") == 0 ||
				   strcmp(o, "true") == 0) {
				warn_at(p, &l->t[i], "'%s' has no effect on a reference clock; ignored", o);
			} else {
				char m[64];
				static const char *const w[] = { "prefer", "noselect", "minpoll", "maxpoll", "mode", NULL };
				err_at(p, &l->t[i], "unknown option '%s' for a reference clock%s", o, mean(o, w, m, sizeof m));
				ok = false;
			}
		}
		if (!ok)
			return;
		if (rc.minpoll > rc.maxpoll) {
			if (minp && maxp) {
				err_at(p, host, "minpoll %d is greater than maxpoll %d", rc.minpoll, rc.maxpoll);
				return;
			}
			if (minp)
				rc.maxpoll = rc.minpoll;
			else
				rc.minpoll = rc.maxpoll;
		}
		if (!p->opts->refclocks_available)
			warn_at(p, host, "reference clock '%s' (%s unit %u): reference clocks are not supported yet; accepted but will not run",
				host->s, name, runit);
		c->refclocks[c->n_refclocks++] = rc;
		return;
	}

	if (!valid_host(host->s)) {
		err_at(p, host, "'%s' is not a valid address or host name", host->s);
		return;
	}
	struct gn_addr ga;
	if (family && gn_addr_parse(host->s, 0, &ga) && ga.family != (uint8_t)family) {
		err_at(p, host, "'%s' is not an IPv%d address", host->s, family);
		return;
	}
	struct cfg_source s;
	memset(&s, 0, sizeof s);
	s.kind = kind;
	memcpy(s.host, host->s, strlen(host->s) + 1);
	s.port = CFG_DEFAULT_PORT;
	s.family = family;
	s.minpoll = DEF_MINPOLL_LOG2;
	s.maxpoll = DEF_MAXPOLL_LOG2;
	s.version = 4;
	s.line = l->lineno;
	bool minp = false, maxp = false;
	const struct tok *keytok = NULL;
	for (; i < l->n; i++) {
		const struct tok *t = &l->t[i];
		const char *o = t->s;
		long long v;
		if (strcmp(o, "iburst") == 0) {
			s.iburst = true;
		} else if (strcmp(o, "burst") == 0) {
			s.burst = true;
		} else if (strcmp(o, "prefer") == 0) {
			s.prefer = true;
		} else if (strcmp(o, "noselect") == 0) {
			s.noselect = true;
		} else if (strcmp(o, "true") == 0) {
			s.true_ = true;
			warn_at(p, t, "option 'true' is not implemented yet: the source can still be "
				"rejected as a falseticker");
		} else if (strcmp(o, "minpoll") == 0) {
			if (!opt_int(p, l, &i, MINPOLL_LOG2_MIN, MAXPOLL_LOG2_MAX, &v))
				return;
			s.minpoll = (int8_t)v;
			minp = true;
		} else if (strcmp(o, "maxpoll") == 0) {
			if (!opt_int(p, l, &i, MINPOLL_LOG2_MIN, MAXPOLL_LOG2_MAX, &v))
				return;
			s.maxpoll = (int8_t)v;
			maxp = true;
		} else if (strcmp(o, "key") == 0) {
			if (!opt_int(p, l, &i, 1, KEYID_MAX, &v))
				return;
			s.key = (uint32_t)v;
			keytok = t;
		} else if (strcmp(o, "version") == 0) {
			if (!opt_int(p, l, &i, 1, 4, &v))
				return;
			s.version = (uint8_t)v;
		} else if (strcmp(o, "port") == 0) {
			if (!opt_int(p, l, &i, 1, 65535, &v))
				return;
			s.port = (uint16_t)v;
		} else if (in_list(o, src_opts_security)) {
			err_at(p, t, "'%s' asks for authentication that gnomon does not implement; refusing to start rather than run '%s' unauthenticated",
			       o, host->s);
			return;
		} else if (in_list(o, src_opts_ignored_novalue)) {
			warn_at(p, t, "option '%s' is not implemented by gnomon; ignored", o);
		} else if (in_list(o, src_opts_ignored_value)) {
			warn_at(p, t, "option '%s' is not implemented by gnomon; ignored", o);
			if (!value_of(p, l, &i))
				return;
		} else if (strcmp(o, "mode") == 0) {
			warn_at(p, t, "option 'mode' applies to reference clocks only; ignored");
			if (!value_of(p, l, &i))
				return;
		} else {
			char m[64];
			err_at(p, t, "unknown option '%s' for '%s'%s", o, dname, mean(o, src_opts, m, sizeof m));
			return;
		}
	}
	if (s.minpoll > s.maxpoll) {
		if (minp && maxp) {
			err_at(p, host, "minpoll %d is greater than maxpoll %d", s.minpoll, s.maxpoll);
			return;
		}
		if (minp)
			s.maxpoll = s.minpoll;
		else
			s.minpoll = s.maxpoll;
	}
	if (keytok && !p->opts->auth_available) {
		err_at(p, keytok, "'key %u': authentication is not available yet in gnomon; refusing to start rather than run '%s' unauthenticated",
		       s.key, host->s);
		return;
	}
	if (c->n_sources >= CFG_MAX_SOURCES) {
		err_at(p, host, "more than %d server, pool and peer lines", CFG_MAX_SOURCES);
		return;
	}
	c->sources[c->n_sources++] = s;
}

/* Shared by `refclock` and `fudge`: one option at l->t[*i]. Returns false after an error. */
static bool refclock_option(struct pctx *p, const struct line *l, unsigned *i, struct cfg_refclock *rc)
{
	const char *o = l->t[*i].s;
	long long v;
	double d;
	if (strcmp(o, "time1") == 0 || strcmp(o, "time2") == 0) {
		if (!opt_num(p, l, i, -86400.0, 86400.0, &d))
			return false;
		if (o[4] == '1')
			rc->time1_s = d;
		else
			rc->time2_s = d;
	} else if (strcmp(o, "stratum") == 0) {
		if (!opt_int(p, l, i, 0, 15, &v))
			return false;
		rc->stratum = (int8_t)v;
	} else if (strcmp(o, "refid") == 0) {
		const struct tok *t = value_of(p, l, i);
		if (!t)
			return false;
		size_t n = strlen(t->s);
		if (n < 1 || n > 4) {
			err_at(p, t, "'refid' needs 1 to 4 characters, not '%s'", t->s);
			return false;
		}
		uint32_t r = 0;
		for (size_t k = 0; k < 4; k++) {
			unsigned char ch = k < n ? (unsigned char)t->s[k] : 0;
			if (k < n && (ch <= 0x20 || ch >= 0x7f || ch == '"')) {
				err_at(p, t, "'refid' needs printable ASCII, not '%s'", t->s);
				return false;
			}
			r = r << 8 | ch;
		}
		rc->refid = r;
	} else if (strncmp(o, "flag", 4) == 0 && o[4] >= '1' && o[4] <= '4' && o[5] == '\0') {
		if (!opt_int(p, l, i, 0, 1, &v))
			return false;
		unsigned bit = (unsigned)(o[4] - '1');
		rc->flags_set = (int8_t)(rc->flags_set | (1 << bit));
		if (v)
			rc->flags = (uint8_t)(rc->flags | (1u << bit));
		else
			rc->flags = (uint8_t)(rc->flags & ~(1u << bit));
	} else {
		return false;
	}
	return true;
}

static bool is_fudge_option(const char *o)
{
	return in_list(o, fudge_opts);
}

static void d_refclock(struct pctx *p, const struct line *l)
{
	struct cfg *c = p->cfg;
	if (l->n < 2) {
		err_at(p, &l->t[0], "'refclock' needs a driver name");
		return;
	}
	const struct tok *nt = &l->t[1];
	if (!in_list(nt->s, rc_names)) {
		char m[64];
		err_at(p, nt, "unknown reference clock driver '%s'%s", nt->s, mean(nt->s, rc_names, m, sizeof m));
		return;
	}
	struct cfg_refclock rc;
	refclock_defaults(&rc);
	snprintf(rc.driver, sizeof rc.driver, "%s", nt->s);
	rc.line = l->lineno;
	bool minp = false, maxp = false;
	for (unsigned i = 2; i < l->n; i++) {
		const struct tok *t = &l->t[i];
		const char *o = t->s;
		long long v;
		if (strcmp(o, "unit") == 0) {
			if (!opt_int(p, l, &i, 0, 255, &v))
				return;
			rc.unit = (uint8_t)v;
		} else if (strcmp(o, "prefer") == 0) {
			rc.prefer = true;
		} else if (strcmp(o, "noselect") == 0) {
			rc.noselect = true;
		} else if (strcmp(o, "minpoll") == 0) {
			if (!opt_int(p, l, &i, RC_MINPOLL_LOG2_MIN, MAXPOLL_LOG2_MAX, &v))
				return;
			rc.minpoll = (int8_t)v;
			minp = true;
		} else if (strcmp(o, "maxpoll") == 0) {
			if (!opt_int(p, l, &i, RC_MINPOLL_LOG2_MIN, MAXPOLL_LOG2_MAX, &v))
				return;
			rc.maxpoll = (int8_t)v;
			maxp = true;
		} else if (strcmp(o, "subtype") == 0 || strcmp(o, "mode") == 0) {
			if (!opt_int(p, l, &i, 0, 4294967295LL, &v))
				return;
			rc.mode = (uint32_t)v;
		} else if (strcmp(o, "path") == 0 || strcmp(o, "ppspath") == 0) {
			const struct tok *pt = value_of(p, l, &i);
			if (!pt || !get_path(p, pt, o[0] == 'p' && o[1] == 'p' ? rc.ppspath : rc.path, CFG_PATH_MAX))
				return;
		} else if (strcmp(o, "baud") == 0) {
			if (!opt_int(p, l, &i, 50, 4000000, &v))
				return;
			rc.baud = (uint32_t)v;
		} else if (is_fudge_option(o)) {
			if (!refclock_option(p, l, &i, &rc))
				return;
		} else {
			char m[64];
			err_at(p, t, "unknown option '%s' for 'refclock'%s", o, mean(o, refclock_opts, m, sizeof m));
			return;
		}
	}
	if (rc.minpoll > rc.maxpoll) {
		if (minp && maxp) {
			err_at(p, nt, "minpoll %d is greater than maxpoll %d", rc.minpoll, rc.maxpoll);
			return;
		}
		if (minp)
			rc.maxpoll = rc.minpoll;
		else
			rc.minpoll = rc.maxpoll;
	}
	if (find_refclock(c, rc.driver, rc.unit)) {
		err_at(p, nt, "reference clock '%s' unit %u is configured twice", rc.driver, rc.unit);
		return;
	}
	if (c->n_refclocks >= CFG_MAX_REFCLOCKS) {
		err_at(p, nt, "more than %d reference clocks", CFG_MAX_REFCLOCKS);
		return;
	}
	if (!p->opts->refclocks_available)
		warn_at(p, nt, "reference clock '%s' unit %u: reference clocks are not supported yet; accepted but will not run",
			rc.driver, rc.unit);
	c->refclocks[c->n_refclocks++] = rc;
}

static void d_fudge(struct pctx *p, const struct line *l)
{
	if (l->n < 2) {
		err_at(p, &l->t[0], "'fudge' needs a reference clock address 127.127.T.U");
		return;
	}
	const struct tok *at = &l->t[1];
	unsigned type, unit;
	if (!parse_classic_refclock(at->s, &type, &unit)) {
		err_at(p, at, "'fudge' needs a reference clock address 127.127.T.U, not '%s'", at->s);
		return;
	}
	const char *name = cfg_refclock_name(type);
	struct cfg_refclock *rc = name ? find_refclock(p->cfg, name, unit) : NULL;
	if (!rc) {
		err_at(p, at, "'fudge %s': no 'server %s' line above configures this reference clock", at->s, at->s);
		return;
	}
	struct cfg_refclock tmp = *rc;
	for (unsigned i = 2; i < l->n; i++) {
		const char *o = l->t[i].s;
		if (!is_fudge_option(o)) {
			char m[64];
			err_at(p, &l->t[i], "unknown option '%s' for 'fudge'%s", o, mean(o, fudge_opts, m, sizeof m));
			return;
		}
		if (!refclock_option(p, l, &i, &tmp))
			return;
	}
	*rc = tmp;
}

static void d_tos(struct pctx *p, const struct line *l)
{
	static const char *const words[] = {
		"minclock", "minsane", "maxclock", "maxdist", "orphan", "orphanwait",
		"mindist", "floor", "ceiling", "cohort", "beacon", "bcpollbstep", NULL,
	};
	static const char *const ignored[] = {
		"mindist", "floor", "ceiling", "cohort", "beacon", "bcpollbstep", NULL,
	};
	if (l->n < 2) {
		err_at(p, &l->t[0], "'tos' needs an option");
		return;
	}
	struct cfg_tos t = p->cfg->tos;
	long long v;
	double d;
	for (unsigned i = 1; i < l->n; i++) {
		const char *o = l->t[i].s;
		bool ok;
		if (strcmp(o, "minclock") == 0) {
			ok = opt_int(p, l, &i, 1, CFG_MAX_SOURCES, &v);
			t.minclock = (uint8_t)v;
		} else if (strcmp(o, "minsane") == 0) {
			ok = opt_int(p, l, &i, 1, CFG_MAX_SOURCES, &v);
			t.minsane = (uint8_t)v;
		} else if (strcmp(o, "maxclock") == 0) {
			ok = opt_int(p, l, &i, 1, CFG_MAX_SOURCES, &v);
			t.maxclock = (uint8_t)v;
		} else if (strcmp(o, "maxdist") == 0) {
			ok = opt_num(p, l, &i, 0.001, 16.0, &d);
			t.maxdist_s = d;
		} else if (strcmp(o, "orphan") == 0) {
			const struct tok *ot = &l->t[i];
			ok = opt_int(p, l, &i, 1, 15, &v);
			t.orphan = (uint8_t)v;
			if (ok)
				warn_at(p, ot, "orphan mode is not implemented yet; 'tos orphan' has no effect");
		} else if (strcmp(o, "orphanwait") == 0) {
			ok = opt_num(p, l, &i, 0.0, 86400.0, &d);
			t.orphanwait_s = d;
		} else if (in_list(o, ignored)) {
			warn_at(p, &l->t[i], "'tos %s' is not implemented by gnomon; ignored", o);
			ok = value_of(p, l, &i) != NULL;
		} else {
			char m[64];
			err_at(p, &l->t[i], "unknown option '%s' for 'tos'%s", o, mean(o, words, m, sizeof m));
			ok = false;
		}
		if (!ok)
			return;
	}
	if (t.minclock > t.maxclock) {
		err_at(p, &l->t[0], "tos minclock %u is greater than maxclock %u", t.minclock, t.maxclock);
		return;
	}
	p->cfg->tos = t;
}

static void d_tinker(struct pctx *p, const struct line *l)
{
	static const char *const words[] = {
		"step", "stepout", "panic", "allan", "dispersion", "freq", "huffpuff",
		"stepback", "stepfwd", "tick", NULL,
	};
	static const char *const ignored[] = {
		"allan", "dispersion", "freq", "huffpuff", "tick", NULL,
	};
	if (l->n < 2) {
		err_at(p, &l->t[0], "'tinker' needs an option");
		return;
	}
	struct cfg_tinker t = p->cfg->tinker;
	double d;
	for (unsigned i = 1; i < l->n; i++) {
		const char *o = l->t[i].s;
		bool ok;
		if (strcmp(o, "step") == 0) {
			ok = opt_num(p, l, &i, 0.0, 1e6, &d);
			t.step_s = d;
		} else if (strcmp(o, "stepout") == 0) {
			ok = opt_num(p, l, &i, 0.0, 1e6, &d);
			t.stepout_s = d;
		} else if (strcmp(o, "panic") == 0) {
			ok = opt_num(p, l, &i, 0.0, 1e9, &d);
			t.panic_s = d;
		} else if (strcmp(o, "stepback") == 0 || strcmp(o, "stepfwd") == 0) {
			/* Ignoring a one-way step limit could step the clock where the file
			 * forbids it: an error, not a warning. */
			err_at(p, &l->t[i], "'tinker %s' is not implemented by gnomon; use 'tinker step' (it applies both ways)", o);
			ok = false;
		} else if (in_list(o, ignored)) {
			warn_at(p, &l->t[i], "'tinker %s' is not implemented by gnomon; ignored", o);
			ok = value_of(p, l, &i) != NULL;
		} else {
			char m[64];
			err_at(p, &l->t[i], "unknown option '%s' for 'tinker'%s", o, mean(o, words, m, sizeof m));
			ok = false;
		}
		if (!ok)
			return;
	}
	p->cfg->tinker = t;
}

static void d_restrict(struct pctx *p, const struct line *l)
{
	struct cfg *c = p->cfg;
	struct cfg_restrict r;
	memset(&r, 0, sizeof r);
	r.line = l->lineno;
	unsigned i = 1;
	uint8_t family = 0;
	while (i < l->n && (strcmp(l->t[i].s, "-4") == 0 || strcmp(l->t[i].s, "-6") == 0)) {
		family = l->t[i].s[1] == '4' ? 4 : 6;
		i++;
	}
	if (i >= l->n) {
		err_at(p, &l->t[0], "'restrict' needs 'default', 'source' or an address");
		return;
	}
	const struct tok *at = &l->t[i++];
	bool had_len = false;
	if (strcmp(at->s, "default") == 0) {
		r.match = CFG_RES_DEFAULT;
		r.family = family;
	} else if (strcmp(at->s, "source") == 0) {
		r.match = CFG_RES_SOURCE;
		if (family) {
			err_at(p, at, "'restrict source' takes no -4 or -6");
			return;
		}
	} else if (parse_prefix(at->s, &r.prefix, &had_len)) {
		r.match = CFG_RES_PREFIX;
		r.family = r.prefix.family;
		if (family && family != r.family) {
			err_at(p, at, "'%s' is not an IPv%u address", at->s, family);
			return;
		}
	} else {
		char m[64];
		static const char *const w[] = { "default", "source", NULL };
		err_at(p, at, "'restrict' needs 'default', 'source' or a numeric address[/length], not '%s'%s",
		       at->s, mean(at->s, w, m, sizeof m));
		return;
	}
	for (; i < l->n; i++) {
		const struct tok *t = &l->t[i];
		const char *o = t->s;
		uint32_t bit = FLAG_BIT(res_flags, o);
		if (bit) {
			r.flags |= bit;
		} else if (strcmp(o, "mask") == 0) {
			const struct tok *mt = value_of(p, l, &i);
			if (!mt)
				return;
			if (r.match != CFG_RES_PREFIX || had_len) {
				err_at(p, t, "'mask' needs an address without /length before it");
				return;
			}
			struct gn_addr m;
			int len;
			if (!gn_addr_parse(mt->s, 0, &m) || m.family != r.prefix.family ||
			    (len = mask_len(&m)) < 0) {
				err_at(p, mt, "'%s' is not a contiguous IPv%u netmask", mt->s, r.prefix.family);
				return;
			}
			r.prefix.prefix_len = (uint8_t)len;
			had_len = true;
		} else if (strcmp(o, "lowpriotrap") == 0) {
			warn_at(p, t, "restrict flag 'lowpriotrap' is not implemented by gnomon; ignored");
		} else if (strcmp(o, "ippeerlimit") == 0) {
			/* Ignoring a limit would admit more peers than asked: an error. */
			err_at(p, t, "restrict option 'ippeerlimit' is not implemented by gnomon; use 'nopeer' to refuse peer associations");
			return;
		} else {
			char m[64];
			err_at(p, t, "unknown restrict flag '%s'%s", o, mean(o, res_words, m, sizeof m));
			return;
		}
	}
	if (r.match == CFG_RES_PREFIX && mask_host_bits(&r.prefix))
		warn_at(p, at, "'%s' has bits set beyond its /%u prefix; they are ignored",
			at->s, r.prefix.prefix_len);
	if (c->n_restricts >= CFG_MAX_RESTRICT) {
		err_at(p, at, "more than %d restrict lines", CFG_MAX_RESTRICT);
		return;
	}
	c->restricts[c->n_restricts++] = r;
}

/* ntpd `discard average A minimum M [monitor N]` and NTPsec-style
 * `limit average A burst B kod K`: one grammar, the union of both. */
static void d_ratelimit(struct pctx *p, const struct line *l)
{
	static const char *const words[] = { "average", "minimum", "burst", "kod", "monitor", NULL };
	if (l->n < 2) {
		err_at(p, &l->t[0], "'%s' needs an option", l->t[0].s);
		return;
	}
	struct cfg_ratelimit r = p->cfg->ratelimit;
	long long v;
	for (unsigned i = 1; i < l->n; i++) {
		const char *o = l->t[i].s;
		bool ok;
		if (strcmp(o, "average") == 0) {
			ok = opt_int(p, l, &i, 0, 16, &v);
			r.average_log2 = (int8_t)v;
		} else if (strcmp(o, "minimum") == 0) {
			ok = opt_int(p, l, &i, 0, 16, &v);
			r.minimum_log2 = (int8_t)v;
		} else if (strcmp(o, "burst") == 0) {
			ok = opt_int(p, l, &i, 1, 65535, &v);
			r.burst = (uint16_t)v;
		} else if (strcmp(o, "kod") == 0) {
			ok = opt_int(p, l, &i, 0, 16, &v);
			r.kod_log2 = (int8_t)v;
		} else if (strcmp(o, "monitor") == 0) {
			warn_at(p, &l->t[i], "'%s monitor' is not implemented by gnomon; ignored", l->t[0].s);
			ok = value_of(p, l, &i) != NULL;
		} else {
			char m[64];
			err_at(p, &l->t[i], "unknown option '%s' for '%s'%s", o, l->t[0].s, mean(o, words, m, sizeof m));
			ok = false;
		}
		if (!ok)
			return;
	}
	r.set = true;
	p->cfg->ratelimit = r;
}

static void d_mru(struct pctx *p, const struct line *l)
{
	static const char *const words[] = {
		"maxdepth", "maxmem", "mindepth", "maxage", "minage", "initalloc", "incalloc",
		"initmem", "incmem", NULL,
	};
	static const char *const ignored[] = { "initalloc", "incalloc", "initmem", "incmem", NULL };
	if (l->n < 2) {
		err_at(p, &l->t[0], "'mru' needs an option");
		return;
	}
	struct cfg_mru m = p->cfg->mru;
	long long v;
	for (unsigned i = 1; i < l->n; i++) {
		const char *o = l->t[i].s;
		bool ok;
		if (strcmp(o, "maxdepth") == 0) {
			ok = opt_int(p, l, &i, 0, 100000000, &v);
			m.maxdepth = (uint32_t)v;
		} else if (strcmp(o, "maxmem") == 0) {
			ok = opt_int(p, l, &i, 1, 16 * 1024 * 1024, &v);
			m.maxmem_kib = (uint32_t)v;
		} else if (strcmp(o, "mindepth") == 0) {
			ok = opt_int(p, l, &i, 0, 100000000, &v);
			m.mindepth = (uint32_t)v;
		} else if (strcmp(o, "maxage") == 0) {
			ok = opt_int(p, l, &i, 0, 86400 * 30, &v);
			m.maxage_s = (uint32_t)v;
		} else if (strcmp(o, "minage") == 0) {
			ok = opt_int(p, l, &i, 0, 86400 * 30, &v);
			m.minage_s = (uint32_t)v;
		} else if (in_list(o, ignored)) {
			warn_at(p, &l->t[i], "'mru %s' is not implemented by gnomon; ignored", o);
			ok = value_of(p, l, &i) != NULL;
		} else {
			char mm[64];
			err_at(p, &l->t[i], "unknown option '%s' for 'mru'%s", o, mean(o, words, mm, sizeof mm));
			ok = false;
		}
		if (!ok)
			return;
	}
	p->cfg->mru = m;
}

static void d_keys(struct pctx *p, const struct line *l)
{
	char path[CFG_PATH_MAX];
	if (one_path(p, l, path, sizeof path))
		memcpy(p->cfg->keys, path, sizeof path);
}

/* A key id at s (digits only), 1..KEYID_MAX. */
static bool key_id(const char *s, size_t n, uint32_t *out)
{
	if (n == 0 || n > 5)
		return false;
	uint32_t v = 0;
	for (size_t k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[k] - '0');
	}
	if (v < 1 || v > KEYID_MAX)
		return false;
	*out = v;
	return true;
}

/* trustedkey 1 2 (10 ... 20) 30-40: ntpd's parenthesised ranges, with or without spaces
 * inside the parentheses, and lo-hi. */
static void d_trustedkey(struct pctx *p, const struct line *l)
{
	struct cfg *c = p->cfg;
	if (l->n < 2) {
		err_at(p, &l->t[0], "'trustedkey' needs at least one key id");
		return;
	}
	/* Re-split the words into items: "(", ")", "...", numbers, lo-hi. */
	struct item { char s[16]; unsigned col; } items[CFG_MAX_TOKENS * 3];
	unsigned ni = 0;
	for (unsigned i = 1; i < l->n; i++) {
		const char *s = l->t[i].s;
		size_t k = 0, n = strlen(s);
		while (k < n) {
			size_t start = k;
			if (s[k] == '(' || s[k] == ')') {
				k++;
			} else {
				while (k < n && s[k] != '(' && s[k] != ')')
					k++;
			}
			if (ni >= sizeof items / sizeof items[0] || k - start >= sizeof items[0].s) {
				err_col(p, l->t[i].col + (unsigned)start, "malformed trustedkey: '%s'", s);
				return;
			}
			memcpy(items[ni].s, s + start, k - start);
			items[ni].s[k - start] = '\0';
			items[ni].col = l->t[i].col + (unsigned)start;
			ni++;
		}
	}
	struct cfg_keyrange ranges[CFG_MAX_KEYRANGES];
	unsigned nr = 0;
	for (unsigned k = 0; k < ni; k++) {
		struct cfg_keyrange r;
		const char *s = items[k].s;
		unsigned col0 = items[k].col;
		const char *dash = strchr(s, '-');
		if (strcmp(s, "(") == 0) {
			if (k + 4 >= ni || !key_id(items[k + 1].s, strlen(items[k + 1].s), &r.lo) ||
			    strcmp(items[k + 2].s, "...") != 0 ||
			    !key_id(items[k + 3].s, strlen(items[k + 3].s), &r.hi) ||
			    strcmp(items[k + 4].s, ")") != 0) {
				err_col(p, items[k].col, "malformed trustedkey range: expected '(first ... last)' with key ids from 1 to %d", KEYID_MAX);
				return;
			}
			k += 4;
		} else if (dash && dash != s) {
			if (!key_id(s, (size_t)(dash - s), &r.lo) || !key_id(dash + 1, strlen(dash + 1), &r.hi)) {
				err_col(p, items[k].col, "malformed trustedkey range '%s': expected first-last with key ids from 1 to %d", s, KEYID_MAX);
				return;
			}
		} else if (key_id(s, strlen(s), &r.lo)) {
			r.hi = r.lo;
		} else {
			err_col(p, items[k].col, "'trustedkey' needs key ids from 1 to %d, not '%s'", KEYID_MAX, s);
			return;
		}
		if (r.lo > r.hi) {
			err_col(p, col0, "trustedkey range %u ... %u is empty (first > last)", r.lo, r.hi);
			return;
		}
		if (c->n_trustedkeys + nr >= CFG_MAX_KEYRANGES) {
			err_col(p, col0, "more than %d trustedkey entries", CFG_MAX_KEYRANGES);
			return;
		}
		ranges[nr++] = r;
	}
	memcpy(&c->trustedkeys[c->n_trustedkeys], ranges, nr * sizeof ranges[0]);
	c->n_trustedkeys += nr;
}

static void d_onekey(struct pctx *p, const struct line *l)
{
	if (l->n != 2) {
		err_at(p, l->n < 2 ? &l->t[0] : &l->t[2], "'%s' needs exactly one key id", l->t[0].s);
		return;
	}
	uint32_t id;
	if (!key_id(l->t[1].s, strlen(l->t[1].s), &id)) {
		err_at(p, &l->t[1], "'%s' needs a key id from 1 to %d, not '%s'", l->t[0].s, KEYID_MAX, l->t[1].s);
		return;
	}
	if (strcmp(l->t[0].s, "requestkey") == 0)
		p->cfg->requestkey = id;
	else
		p->cfg->controlkey = id;
}

static void d_path(struct pctx *p, const struct line *l)
{
	struct cfg *c = p->cfg;
	const char *d = l->t[0].s;
	char *dst = strcmp(d, "driftfile") == 0 ? c->driftfile :
		    strcmp(d, "leapfile") == 0 ? c->leapfile :
		    strcmp(d, "logfile") == 0 ? c->logfile :
		    strcmp(d, "statsdir") == 0 ? c->statsdir :
		    strcmp(d, "controlsocket") == 0 ? c->controlsocket : c->pidfile;
	char path[CFG_PATH_MAX];
	if (one_path(p, l, path, sizeof path))
		memcpy(dst, path, sizeof path);
}

static void d_statistics(struct pctx *p, const struct line *l)
{
	if (l->n < 2) {
		err_at(p, &l->t[0], "'statistics' needs at least one statistics name");
		return;
	}
	uint32_t set = 0;
	for (unsigned i = 1; i < l->n; i++) {
		const char *o = l->t[i].s;
		uint32_t bit = FLAG_BIT(stat_flags, o);
		if (bit) {
			set |= bit;
		} else if (in_list(o, stat_ignored)) {
			warn_at(p, &l->t[i], "statistics '%s' are not implemented by gnomon; ignored", o);
		} else {
			char m[64];
			err_at(p, &l->t[i], "unknown statistics name '%s'%s", o, mean(o, stat_words, m, sizeof m));
			return;
		}
	}
	p->cfg->statistics |= set;
	if (set)
		warn_at(p, &l->t[0], "statistics files are not written yet; 'statistics' has no effect");
}

/* filegen NAME [file F] [type T] [link|nolink] [enable|disable]: only enable/disable
 * matters to gnomon (it is the same switch as `statistics NAME`). */
static void d_filegen(struct pctx *p, const struct line *l)
{
	static const char *const words[] = { "file", "type", "link", "nolink", "enable", "disable", NULL };
	static const char *const types[] = { "none", "pid", "day", "week", "month", "year", "age", NULL };
	if (l->n < 2) {
		err_at(p, &l->t[0], "'filegen' needs a statistics name");
		return;
	}
	const char *name = l->t[1].s;
	uint32_t bit = FLAG_BIT(stat_flags, name);
	if (!bit && !in_list(name, stat_ignored)) {
		char m[64];
		err_at(p, &l->t[1], "unknown statistics name '%s'%s", name, mean(name, stat_words, m, sizeof m));
		return;
	}
	int onoff = -1;
	for (unsigned i = 2; i < l->n; i++) {
		const char *o = l->t[i].s;
		if (strcmp(o, "file") == 0) {
			char tmp[CFG_PATH_MAX];
			const struct tok *t = value_of(p, l, &i);
			if (!t || !get_path(p, t, tmp, sizeof tmp))
				return;
		} else if (strcmp(o, "type") == 0) {
			const struct tok *t = value_of(p, l, &i);
			if (!t)
				return;
			if (!in_list(t->s, types)) {
				char m[64];
				err_at(p, t, "unknown filegen type '%s'%s", t->s, mean(t->s, types, m, sizeof m));
				return;
			}
		} else if (strcmp(o, "link") == 0 || strcmp(o, "nolink") == 0) {
			/* file links: no effect in gnomon */
		} else if (strcmp(o, "enable") == 0) {
			onoff = 1;
		} else if (strcmp(o, "disable") == 0) {
			onoff = 0;
		} else {
			char m[64];
			err_at(p, &l->t[i], "unknown option '%s' for 'filegen'%s", o, mean(o, words, m, sizeof m));
			return;
		}
	}
	if (onoff == 1 && bit)
		warn_at(p, &l->t[0], "statistics files are not written yet; 'filegen %s enable' has no effect", name);
	if (onoff == 1)
		p->cfg->statistics |= bit;
	else if (onoff == 0)
		p->cfg->statistics &= ~bit;
}

static void d_enable(struct pctx *p, const struct line *l)
{
	bool enable = strcmp(l->t[0].s, "enable") == 0;
	if (l->n < 2) {
		err_at(p, &l->t[0], "'%s' needs at least one flag", l->t[0].s);
		return;
	}
	uint32_t bits = 0;
	for (unsigned i = 1; i < l->n; i++) {
		const char *o = l->t[i].s;
		uint32_t bit = FLAG_BIT(en_flags, o);
		if (bit) {
			bits |= bit;
		} else if (in_list(o, en_ignored)) {
			warn_at(p, &l->t[i], "'%s %s' is not implemented by gnomon; ignored", l->t[0].s, o);
		} else {
			char m[64];
			err_at(p, &l->t[i], "unknown flag '%s' for '%s'%s", o, l->t[0].s, mean(o, en_words, m, sizeof m));
			return;
		}
	}
	if (enable) {
		p->cfg->enable_set |= bits;
		p->cfg->enable_clear &= ~bits;
	} else {
		p->cfg->enable_clear |= bits;
		p->cfg->enable_set &= ~bits;
	}
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;
	if (n == 0 || n >= 16)
		return false;
	for (size_t k = 0; k < n; k++) {
		char c = s[k];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			letter = true;
		else if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == '@'))
			return false;
	}
	return letter; /* "192.168.1.300" is a broken address, not a name */
}

static void d_interface(struct pctx *p, const struct line *l)
{
	static const char *const actions[] = { "listen", "ignore", "drop", NULL };
	struct cfg *c = p->cfg;
	if (l->n != 3) {
		err_at(p, l->n < 3 ? &l->t[0] : &l->t[3],
		       "'%s' needs 'listen', 'ignore' or 'drop' and then an address, a name, 'all', 'wildcard', 'ipv4' or 'ipv6'",
		       l->t[0].s);
		return;
	}
	struct cfg_interface it;
	memset(&it, 0, sizeof it);
	it.line = l->lineno;
	const char *a = l->t[1].s;
	if (strcmp(a, "listen") == 0) {
		it.action = CFG_IF_LISTEN;
	} else if (strcmp(a, "ignore") == 0) {
		it.action = CFG_IF_IGNORE;
	} else if (strcmp(a, "drop") == 0) {
		it.action = CFG_IF_DROP;
	} else {
		char m[64];
		err_at(p, &l->t[1], "unknown interface action '%s'%s", a, mean(a, actions, m, sizeof m));
		return;
	}
	const struct tok *w = &l->t[2];
	bool had_len;
	if (strcmp(w->s, "all") == 0) {
		it.what = CFG_IF_ALL;
	} else if (strcmp(w->s, "wildcard") == 0) {
		it.what = CFG_IF_WILDCARD;
	} else if (strcmp(w->s, "ipv4") == 0) {
		it.what = CFG_IF_IPV4;
	} else if (strcmp(w->s, "ipv6") == 0) {
		it.what = CFG_IF_IPV6;
	} else if (parse_prefix(w->s, &it.prefix, &had_len)) {
		it.what = CFG_IF_PREFIX;
		if (mask_host_bits(&it.prefix))
			warn_at(p, w, "'%s' has bits set beyond its /%u prefix; they are ignored", w->s, it.prefix.prefix_len);
	} else if (valid_ifname(w->s)) {
		it.what = CFG_IF_NAME;
		memcpy(it.name, w->s, strlen(w->s) + 1);
	} else {
		err_at(p, w, "'%s' is not an interface name, address[/length], 'all', 'wildcard', 'ipv4' or 'ipv6'", w->s);
		return;
	}
	if (c->n_interfaces >= CFG_MAX_INTERFACE) {
		err_at(p, w, "more than %d interface lines", CFG_MAX_INTERFACE);
		return;
	}
	c->interfaces[c->n_interfaces++] = it;
}

static void d_port(struct pctx *p, const struct line *l)
{
	if (l->n != 2) {
		err_at(p, l->n < 2 ? &l->t[0] : &l->t[2], "'port' needs exactly one port number");
		return;
	}
	long long v;
	if (get_int(p, &l->t[1], "port", 1, 65535, &v))
		p->cfg->port = (uint16_t)v;
}

static unsigned parse_text(struct pctx *p, const char *text, size_t len);

static void d_includefile(struct pctx *p, const struct line *l)
{
	char path[CFG_PATH_MAX];
	if (!one_path(p, l, path, sizeof path))
		return;
	const struct tok *pt = &l->t[1];
	if (!p->reader || !p->reader->read) {
		err_at(p, pt, "includefile '%s': no file reader here", path);
		return;
	}
	if (p->depth + 1 >= CFG_INCLUDE_DEPTH) {
		err_at(p, pt, "includefile '%s': nested more than %d deep", path, CFG_INCLUDE_DEPTH);
		return;
	}
	if (*p->n_includes >= CFG_MAX_INCLUDES) {
		err_at(p, pt, "includefile '%s': more than %d includefile lines in all", path, CFG_MAX_INCLUDES);
		return;
	}
	(*p->n_includes)++;
	char emsg[200] = "";
	size_t len = 0;
	char *buf = p->reader->read(p->reader->ctx, path, &len, emsg, sizeof emsg);
	if (!buf) {
		err_at(p, pt, "includefile '%s': %s", path, emsg[0] ? emsg : "cannot read");
		return;
	}
	struct pctx sub = *p;
	sub.file = path;
	sub.depth = p->depth + 1;
	sub.errors = 0;
	unsigned e = parse_text(&sub, buf, len);
	p->errors += e;
	if (p->reader->free_fn)
		p->reader->free_fn(p->reader->ctx, buf);
	else
		free(buf);
}

/* Known to ntpd or NTPsec, not implemented, and nothing is weaker without them. */
static const char *const unimplemented[] = {
	"broadcast", "broadcastclient", "broadcastdelay", "manycastclient", "manycastserver",
	"multicastclient", "phone", "setvar", "trap", "mdnstries", "rlimit", "saveconfigdir",
	"automax", "revoke", "calldelay", "ttl", "logconfig", "nonvolatile", "qos", "reset",
	"unpeer", "unconfig", "unrestrict", "leapsmearinterval", "dscp", "ntpsigndsocket",
	"pollskewlist", "keysdir", "ident", "device", NULL,
};
/* Known, not implemented, and running without them would be weaker than asked. */
static const char *const security_unimplemented[] = { "crypto", "nts", NULL };

typedef void (*dir_fn)(struct pctx *p, const struct line *l);
struct directive { const char *name; dir_fn fn; };
static const struct directive directives[] = {
	{ "server", d_source }, { "pool", d_source }, { "peer", d_source },
	{ "refclock", d_refclock }, { "fudge", d_fudge },
	{ "tos", d_tos }, { "tinker", d_tinker },
	{ "restrict", d_restrict }, { "discard", d_ratelimit }, { "limit", d_ratelimit },
	{ "mru", d_mru },
	{ "keys", d_keys }, { "trustedkey", d_trustedkey }, { "requestkey", d_onekey },
	{ "controlkey", d_onekey },
	{ "driftfile", d_path }, { "leapfile", d_path }, { "logfile", d_path },
	{ "statsdir", d_path }, { "controlsocket", d_path }, { "pidfile", d_path },
	{ "statistics", d_statistics }, { "filegen", d_filegen }, { "includefile", d_includefile },
	{ "enable", d_enable }, { "disable", d_enable },
	{ "interface", d_interface }, { "nic", d_interface },
	{ "port", d_port },
};
/* Every directive word, for suggestions. */
static const char *const directive_words[] = {
	"server", "pool", "peer", "refclock", "fudge", "tos", "tinker", "restrict", "discard",
	"limit", "mru", "keys", "trustedkey", "requestkey", "controlkey", "driftfile",
	"leapfile", "logfile", "statsdir", "controlsocket", "pidfile", "statistics", "filegen",
	"includefile", "enable", "disable", "interface", "nic", "port", NULL,
};

static void dispatch(struct pctx *p, const struct line *l)
{
	const char *w = l->t[0].s;
	for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++) {
		if (strcmp(directives[i].name, w) == 0) {
			directives[i].fn(p, l);
			return;
		}
	}
	if (in_list(w, security_unimplemented)) {
		err_at(p, &l->t[0], "'%s' is not supported by gnomon; refusing to start rather than run without the authentication this line asks for", w);
		return;
	}
	if (in_list(w, unimplemented)) {
		warn_at(p, &l->t[0], "'%s' is known to ntpd/NTPsec but not implemented by gnomon; line ignored", w);
		return;
	}
	char m[64];
	err_at(p, &l->t[0], "unknown directive '%s'%s", w, mean(w, directive_words, m, sizeof m));
}

static unsigned parse_text(struct pctx *p, const char *text, size_t len)
{
	struct line *l = malloc(sizeof *l);
	if (!l) {
		p->lineno = 0;
		err_col(p, 1, "out of memory");
		return p->errors;
	}
	size_t pos = 0;
	p->lineno = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		p->lineno++;
		if (lex_line(p, text + pos, end - pos, l) && l->n > 0)
			dispatch(p, l);
		pos = end + 1;
	}
	free(l);
	return p->errors;
}

/* ---------------------------------------------------------------- entry points */

void cfg_defaults(struct cfg *cfg)
{
	REQUIRE(cfg != NULL);
	memset(cfg, 0, sizeof *cfg);
	cfg->ratelimit.average_log2 = 3;    /* ntpd discard average default, 8 s */
	cfg->ratelimit.minimum_log2 = 1;    /* ntpd discard minimum default, 2 s */
	cfg->ratelimit.burst = 8;
	cfg->ratelimit.kod_log2 = 3;
	cfg->mru.maxdepth = 0;              /* derived from maxmem */
	cfg->mru.maxmem_kib = 1024;         /* ntpd default */
	cfg->mru.mindepth = 600;            /* ntpd default */
	cfg->mru.maxage_s = 64;             /* ntpd default */
	cfg->mru.minage_s = 64;             /* ntpd default */
	cfg->tos.minclock = 3;              /* RFC 5905 §7.2 MINCLOCK */
	cfg->tos.minsane = 1;               /* ntpd default */
	cfg->tos.maxclock = 10;             /* RFC 5905 §7.2 MAXCLOCK */
	cfg->tos.maxdist_s = 1.5;           /* RFC 5905 §7.2 MAXDIST */
	cfg->tos.orphan = 0;
	cfg->tos.orphanwait_s = 300;        /* ntpd default */
	cfg->tinker.step_s = 0.128;         /* RFC 5905 §11.3 STEPT */
	cfg->tinker.stepout_s = 300;        /* ntpd */
	cfg->tinker.panic_s = 1000;         /* RFC 5905 §11.3 PANICT */
	cfg->port = CFG_DEFAULT_PORT;
	snprintf(cfg->controlsocket, sizeof cfg->controlsocket, "%s", CFG_DEFAULT_CONTROLSOCKET);
	snprintf(cfg->pidfile, sizeof cfg->pidfile, "%s", CFG_DEFAULT_PIDFILE);
	snprintf(cfg->leapfile, sizeof cfg->leapfile, "%s", CFG_DEFAULT_LEAPFILE);
}

unsigned cfg_parse_ex(struct cfg *cfg, const char *file, const char *text, size_t len,
		      const struct cfg_reader *reader, const struct cfg_parse_opts *opts,
		      struct cfg_diags *diags)
{
	REQUIRE(cfg != NULL && diags != NULL && opts != NULL);
	REQUIRE(text != NULL || len == 0);
	unsigned n_includes = 0;
	struct pctx p = {
		.cfg = cfg, .diags = diags, .reader = reader, .opts = opts,
		.file = file ? file : "(config)", .lineno = 0, .depth = 0,
		.n_includes = &n_includes, .errors = 0,
	};
	unsigned e = len ? parse_text(&p, text, len) : 0;
	if (opts->auth_available) {
		/* With authentication, a source key must be trusted or every packet fails. */
		for (unsigned i = 0; i < cfg->n_sources; i++) {
			const struct cfg_source *s = &cfg->sources[i];
			if (s->key && !cfg_key_trusted(cfg, s->key)) {
				p.lineno = s->line;
				p.file = file ? file : "(config)";
				warn_at(&p, NULL, "key %u of '%s' is not listed in any trustedkey line", s->key, s->host);
			}
		}
	}
	return e;
}

unsigned cfg_parse(struct cfg *cfg, const char *file, const char *text, size_t len,
		   const struct cfg_reader *reader, struct cfg_diags *diags)
{
	const struct cfg_parse_opts opts = {
		.auth_available = CFG_AUTH_AVAILABLE,
		.refclocks_available = CFG_REFCLOCKS_AVAILABLE,
	};
	return cfg_parse_ex(cfg, file, text, len, reader, &opts, diags);
}

bool cfg_key_trusted(const struct cfg *cfg, uint32_t keyid)
{
	for (unsigned i = 0; i < cfg->n_trustedkeys; i++)
		if (keyid >= cfg->trustedkeys[i].lo && keyid <= cfg->trustedkeys[i].hi)
			return true;
	return false;
}
