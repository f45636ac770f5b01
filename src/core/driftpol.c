/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * driftpol: the drift file's write policy and text format (see driftpol.h). Pure: the
 * caller passes the monotonic time and the text; nothing here touches a file.
 */
#include "driftpol.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gn_assert.h"

void driftpol_params_default(struct driftpol_params *p)
{
	REQUIRE(p != NULL);
	p->threshold_ppm = DRIFTPOL_THRESHOLD_PPM;
	p->min_interval_ns = (int64_t)DRIFTPOL_MIN_INTERVAL_S * 1000000000LL;
	p->max_interval_ns = (int64_t)DRIFTPOL_MAX_INTERVAL_S * 1000000000LL;
}

void driftpol_state_init(struct driftpol_state *st)
{
	REQUIRE(st != NULL);
	memset(st, 0, sizeof *st);
}

double driftpol_round(double ppm)
{
	/* as "%.3f" would print it, without going through text */
	return round(ppm * 1000.0) / 1000.0;
}

void driftpol_state_loaded(struct driftpol_state *st, double ppm, int64_t now_mono_ns)
{
	driftpol_state_written(st, ppm, now_mono_ns);
}

void driftpol_state_written(struct driftpol_state *st, double ppm, int64_t now_mono_ns)
{
	REQUIRE(st != NULL);
	st->have_written = true;
	st->written_ppm = driftpol_round(ppm);
	st->have_time = true;
	st->written_mono_ns = now_mono_ns;
}

static bool valid(double ppm)
{
	return isfinite(ppm) && fabs(ppm) <= DRIFTPOL_MAX_PPM;
}

enum driftpol_verdict driftpol_decide(const struct driftpol_params *p,
				      const struct driftpol_state *st, double ppm,
				      int64_t now_mono_ns, bool at_exit)
{
	REQUIRE(p != NULL && st != NULL);
	if (!valid(ppm))
		return DRIFTPOL_SKIP_INVALID;
	if (!st->have_written)
		return DRIFTPOL_WRITE_FIRST;
	bool differs = driftpol_round(ppm) != st->written_ppm;
	if (at_exit)
		return differs ? DRIFTPOL_WRITE_EXIT : DRIFTPOL_SKIP_UNCHANGED;
	if (st->have_time) {
		int64_t since = now_mono_ns - st->written_mono_ns;
		/* a monotonic clock going back is a bug elsewhere; treat it as "just written" */
		if (since < p->min_interval_ns)
			return DRIFTPOL_SKIP_TOO_SOON;
		if (fabs(ppm - st->written_ppm) > p->threshold_ppm)
			return DRIFTPOL_WRITE_CHANGED;
		if (since >= p->max_interval_ns && differs)
			return DRIFTPOL_WRITE_INTERVAL;
		return DRIFTPOL_SKIP_UNCHANGED;
	}
	return differs ? DRIFTPOL_WRITE_CHANGED : DRIFTPOL_SKIP_UNCHANGED;
}

const char *driftpol_verdict_name(enum driftpol_verdict v)
{
	switch (v) {
	case DRIFTPOL_WRITE_FIRST: return "first";
	case DRIFTPOL_WRITE_CHANGED: return "changed";
	case DRIFTPOL_WRITE_INTERVAL: return "interval";
	case DRIFTPOL_WRITE_EXIT: return "exit";
	case DRIFTPOL_SKIP_TOO_SOON: return "too soon";
	case DRIFTPOL_SKIP_UNCHANGED: return "unchanged";
	case DRIFTPOL_SKIP_INVALID: return "invalid";
	}
	return "unknown";
}

size_t driftpol_format(double ppm, char *buf, size_t cap)
{
	REQUIRE(buf != NULL && cap > 0);
	int n = snprintf(buf, cap, "%.*f\n", DRIFTPOL_DECIMALS, driftpol_round(ppm));
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* One number token: [+-]digits[.digits][e[+-]digits]. Rejects "nan", "inf", hex. */
static bool plain_number(const char *s, size_t n)
{
	size_t i = 0, digits = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		i++;
		digits++;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
			digits++;
		}
	}
	if (digits == 0)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t ed = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
			ed++;
		}
		if (ed == 0)
			return false;
	}
	return i == n;
}

enum driftpol_parse_result driftpol_parse(const char *text, size_t len, double *ppm,
					  char *why, size_t why_cap)
{
	REQUIRE(ppm != NULL && why != NULL && why_cap > 0);
	REQUIRE(text != NULL || len == 0);
	*ppm = 0.0;
	why[0] = '\0';
	if (len > DRIFTPOL_FILE_MAX) {
		snprintf(why, why_cap, "longer than %d bytes", DRIFTPOL_FILE_MAX);
		return DRIFTPOL_GARBAGE;
	}
	if (memchr(text, '\0', len)) {
		snprintf(why, why_cap, "contains a NUL byte");
		return DRIFTPOL_GARBAGE;
	}
	/* up to two white-space separated tokens: ppm [skew] */
	const char *tok[2];
	size_t tlen[2], ntok = 0;
	size_t i = 0;
	while (i < len) {
		while (i < len && space(text[i]))
			i++;
		if (i >= len)
			break;
		size_t start = i;
		while (i < len && !space(text[i]))
			i++;
		if (ntok == 2) {
			snprintf(why, why_cap, "more than two numbers");
			return DRIFTPOL_GARBAGE;
		}
		tok[ntok] = text + start;
		tlen[ntok] = i - start;
		ntok++;
	}
	if (ntok == 0) {
		snprintf(why, why_cap, "empty");
		return DRIFTPOL_EMPTY;
	}
	for (size_t k = 0; k < ntok; k++) {
		if (tlen[k] > 40 || !plain_number(tok[k], tlen[k])) {
			snprintf(why, why_cap, "not a number: \"%.*s\"",
				 (int)(tlen[k] > 40 ? 40 : tlen[k]), tok[k]);
			return DRIFTPOL_GARBAGE;
		}
	}
	char num[48];
	memcpy(num, tok[0], tlen[0]);
	num[tlen[0]] = '\0';
	char *endp = NULL;
	double v = strtod(num, &endp);
	if (endp != num + tlen[0] || !isfinite(v)) {
		snprintf(why, why_cap, "not a finite number: \"%s\"", num);
		return DRIFTPOL_GARBAGE;
	}
	if (fabs(v) > DRIFTPOL_MAX_PPM) {
		snprintf(why, why_cap, "%s ppm is outside ±%.0f ppm", num, DRIFTPOL_MAX_PPM);
		return DRIFTPOL_RANGE;
	}
	*ppm = v;
	return DRIFTPOL_OK;
}
