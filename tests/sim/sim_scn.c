/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_scn: scenario files (tests/sim/scenarios, one .scn each), the recorded-figures file, the
 * summary over seeds and its one-line form. See sim.h for the format and the models.
 */
#include "sim.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void client_defaults(struct sim_client_spec *c);

void sim_scn_defaults(struct sim_scenario *scn)
{
	memset(scn, 0, sizeof *scn);
	snprintf(scn->name, sizeof scn->name, "unnamed");
	scn->duration_s = 2 * 86400.0;
	scn->warmup_s = 3600.0;
	scn->seeds = 5;
	scn->seed_base = 1;
	scn->compare_ratio = 1.10;
	client_defaults(&scn->client);
	snprintf(scn->client.name, sizeof scn->client.name, "client");
	scn->targets.goal_ratio = 0.7;
	scn->start_unix_s = SIM_T0_UNIX_S;
}

static void client_defaults(struct sim_client_spec *c)
{
	memset(c, 0, sizeof *c);
	c->offset_s = 0.1;
	c->freq_ppm = 100.0;
	c->wander = 1e-9;
	c->minpoll = 6;        /* RFC 5905 §7.2 MINPOLL default */
	c->maxpoll = 10;       /* RFC 5905 §7.2 MAXPOLL default */
	c->iburst = true;
	c->precision_log2 = -24;
	c->tx_timestamps = true;
	c->link.delay_s = 100e-6;
	c->link.jitter_s = 100e-6;
	c->resume_set = true;
}

static void server_defaults(struct sim_server_spec *s)
{
	memset(s, 0, sizeof *s);
	s->kind = SIM_SRV_PERFECT;
	s->stratum = 1;
	memcpy(s->refid, "GPS", 4);
	s->precision_log2 = -20;
	s->rootdelay_s = 0.0;
	s->rootdisp_s = 1.0 / 65536.0;  /* a well-disciplined stratum 1: ~15 µs */
	s->proc_s = 5e-6;
	s->link.delay_s = 100e-6;
	s->link.jitter_s = 100e-6;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool num(const char *v, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (end == v || *end != '\0' || errno != 0 || !isfinite(d))
		return false;
	*out = d;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (the usual era arithmetic). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned mp = m > 2 ? m - 3 : m + 9;
	unsigned doy = (153 * mp + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DD" → Unix seconds of its 00:00:00 UTC. */
static bool parse_date(const char *v, int64_t *out)
{
	int y, m, d;
	char extra;
	if (sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || y < 1972 || y > 2200 || m < 1 ||
	    m > 12 || d < 1 || d > 31)
		return false;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (d > mdays[m - 1] || (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		return false;
	*out = days_from_civil(y, (unsigned)m, (unsigned)d) * 86400;
	return true;
}

enum section { SEC_NONE, SEC_SCENARIO, SEC_CLIENT, SEC_GNOMON, SEC_SERVER, SEC_TARGET };

static const char *apply_link(struct sim_link *l, const char *key, double d, bool isnum, bool *done)
{
	static const struct { const char *key; size_t off; double scale; } keys[] = {
		{ "delay_us", offsetof(struct sim_link, delay_s), 1e-6 },
		{ "delay_ms", offsetof(struct sim_link, delay_s), 1e-3 },
		{ "jitter_us", offsetof(struct sim_link, jitter_s), 1e-6 },
		{ "jitter_ms", offsetof(struct sim_link, jitter_s), 1e-3 },
		{ "asym_us", offsetof(struct sim_link, asym_s), 1e-6 },
		{ "loss", offsetof(struct sim_link, loss), 1.0 },
		{ "spike_frac", offsetof(struct sim_link, spike_frac), 1.0 },
		{ "spike_ms", offsetof(struct sim_link, spike_s), 1e-3 },
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strcmp(key, keys[i].key) != 0)
			continue;
		*done = true;
		if (!isnum)
			return "expected a number";
		*(double *)((char *)l + keys[i].off) = d * keys[i].scale;
		return NULL;
	}
	*done = false;
	return NULL;
}

static const char *apply_client(struct sim_client_spec *c, const char *key, const char *val, double d, bool isnum);

/* One key = value in a section. Returns NULL on success, else an error text. */
static const char *apply(struct sim_scenario *scn, enum section sec, const char *key, const char *val)
{
	double d = 0;
	bool isnum = num(val, &d);
	struct sim_server_spec *sv = scn->n_servers ? &scn->servers[scn->n_servers - 1] : NULL;
#define NUM(k, lvalue, scale) \
	if (strcmp(key, k) == 0) { if (!isnum) return "expected a number"; lvalue = d * (scale); return NULL; }
#define INT(k, lvalue, lo, hi) \
	if (strcmp(key, k) == 0) { if (!isnum || d != floor(d) || d < (lo) || d > (hi)) return "expected an integer in range"; lvalue = (__typeof__(lvalue))d; return NULL; }

	switch (sec) {
	case SEC_SCENARIO:
		if (strcmp(key, "name") == 0) {
			snprintf(scn->name, sizeof scn->name, "%s", val);
			return NULL;
		}
		if (strcmp(key, "description") == 0) {
			snprintf(scn->description, sizeof scn->description, "%s", val);
			return NULL;
		}
		if (strcmp(key, "compare_to") == 0) {
			snprintf(scn->compare_to, sizeof scn->compare_to, "%s", val);
			return NULL;
		}
		NUM("duration_h", scn->duration_s, 3600.0)
		NUM("duration_s", scn->duration_s, 1.0)
		NUM("warmup_s", scn->warmup_s, 1.0)
		INT("seeds", scn->seeds, 1, 1000)
		INT("seed_base", scn->seed_base, 0, 1e15)
		NUM("report_at_h", scn->report_at_s, 3600.0)
		NUM("report_at_s", scn->report_at_s, 1.0)
		NUM("compare_ratio", scn->compare_ratio, 1.0)
		INT("steps_expected", scn->steps_expected, 0, 1000)
		if (strcmp(key, "start_date") == 0) {
			if (!parse_date(val, &scn->start_unix_s))
				return "expected a date YYYY-MM-DD (1972..2200)";
			return NULL;
		}
		if (strcmp(key, "leap") == 0) {
			if (strcmp(val, "insert") == 0)
				scn->leap = 1;
			else if (strcmp(val, "delete") == 0)
				scn->leap = -1;
			else if (strcmp(val, "none") == 0)
				scn->leap = 0;
			else
				return "leap is insert, delete or none";
			return NULL;
		}
		break;
	case SEC_CLIENT:
		return apply_client(&scn->client, key, val, d, isnum);
	case SEC_GNOMON:
		return apply_client(&scn->gnomons[scn->n_gnomons - 1], key, val, d, isnum);
	case SEC_SERVER:
		if (strcmp(key, "kind") == 0) {
			if (strcmp(val, "perfect") == 0)
				sv->kind = SIM_SRV_PERFECT;
			else if (strcmp(val, "false") == 0)
				sv->kind = SIM_SRV_FALSE;
			else if (strcmp(val, "vanish") == 0)
				sv->kind = SIM_SRV_VANISH;
			else
				return "kind is perfect, false or vanish";
			return NULL;
		}
		if (strcmp(key, "refid") == 0) {
			if (strlen(val) > 4)
				return "refid is at most 4 characters";
			memset(sv->refid, 0, sizeof sv->refid);
			memcpy(sv->refid, val, strlen(val));
			return NULL;
		}
		if (strcmp(key, "name") == 0) {
			snprintf(sv->name, sizeof sv->name, "%s", val);
			return NULL;
		}
		bool done;
		const char *why = apply_link(&sv->link, key, d, isnum, &done);
		if (done)
			return why;
		NUM("offset_s", sv->offset_s, 1.0)
		NUM("offset_ms", sv->offset_s, 1e-3)
		NUM("vanish_start_h", sv->vanish_start_s, 3600.0)
		NUM("vanish_end_h", sv->vanish_end_s, 3600.0)
		INT("stratum", sv->stratum, 1, 15)
		INT("precision", sv->precision_log2, -32, 0)
		NUM("rootdelay_s", sv->rootdelay_s, 1.0)
		NUM("rootdisp_s", sv->rootdisp_s, 1.0)
		NUM("proc_us", sv->proc_s, 1e-6)
		break;
	case SEC_TARGET:
		NUM("chrony_rms_us", scn->targets.chrony_rms_us, 1.0)
		NUM("chrony_max_us", scn->targets.chrony_max_us, 1.0)
		NUM("chrony_lock_s", scn->targets.chrony_lock_s, 1.0)
		NUM("chrony_stay_s", scn->targets.chrony_stay_s, 1.0)
		NUM("ntpsec_rms_us", scn->targets.ntpsec_rms_us, 1.0)
		NUM("ntpsec_lock_s", scn->targets.ntpsec_lock_s, 1.0)
		NUM("goal_ratio", scn->targets.goal_ratio, 1.0)
		break;
	case SEC_NONE:
		return "key outside a section";
	}
#undef NUM
#undef INT
	return "unknown key";
}

static const char *apply_client(struct sim_client_spec *c, const char *key, const char *val, double d, bool isnum)
{
#define NUM(k, lvalue, scale) \
	if (strcmp(key, k) == 0) { if (!isnum) return "expected a number"; lvalue = d * (scale); return NULL; }
#define INT(k, lvalue, lo, hi) \
	if (strcmp(key, k) == 0) { if (!isnum || d != floor(d) || d < (lo) || d > (hi)) return "expected an integer in range"; lvalue = (__typeof__(lvalue))d; return NULL; }
	bool done;
	const char *why = apply_link(&c->link, key, d, isnum, &done);
	if (done)
		return why;
	if (strcmp(key, "name") == 0) {
		snprintf(c->name, sizeof c->name, "%s", val);
		return NULL;
	}
	if (strcmp(key, "sources") == 0) {
		if (strlen(val) >= sizeof c->sources_text)
			return "too long";
		snprintf(c->sources_text, sizeof c->sources_text, "%s", val);
		return NULL;
	}
	NUM("offset_s", c->offset_s, 1.0)
	NUM("freq_ppm", c->freq_ppm, 1.0)
	NUM("wander", c->wander, 1.0)
	INT("minpoll", c->minpoll, 0, 17)
	INT("maxpoll", c->maxpoll, 0, 17)
	INT("iburst", c->iburst, 0, 1)
	INT("precision", c->precision_log2, -32, 0)
	INT("tx_timestamps", c->tx_timestamps, 0, 1)
	NUM("suspend_at_h", c->suspend_at_s, 3600.0)
	NUM("suspend_at_s", c->suspend_at_s, 1.0)
	NUM("suspend_h", c->suspend_s, 3600.0)
	NUM("suspend_s", c->suspend_s, 1.0)
	INT("resume_set", c->resume_set, 0, 1)
	NUM("resume_error_s", c->resume_error_s, 1.0)
	NUM("migrate_at_h", c->migrate_at_s, 3600.0)
	NUM("migrate_at_s", c->migrate_at_s, 1.0)
	NUM("migrate_s", c->migrate_s, 1.0)
	if (strcmp(key, "discipline") == 0) {
		if (strcmp(val, "gnomon") == 0)
			c->discipline = 0;
		else if (strcmp(val, "rfc") == 0)
			c->discipline = 1;
		else
			return "discipline is gnomon or rfc";
		return NULL;
	}
	if (strcmp(key, "mono") == 0) {
		if (strcmp(val, "raw") == 0)
			c->mono_linux = false;
		else if (strcmp(val, "linux") == 0)
			c->mono_linux = true;
		else
			return "mono is raw or linux";
		return NULL;
	}
	if (strcmp(key, "drift_ppm") == 0) {
		if (!isnum)
			return "expected a number";
		c->have_drift = true;
		c->drift_ppm = d;
		return NULL;
	}
#undef NUM
#undef INT
	return "unknown key";
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* A name in a source list: a server's or a gnomon node's (the client is "client"). */
static int find_ref(const struct sim_scenario *scn, const char *name)
{
	for (unsigned j = 0; j < scn->n_servers; j++)
		if (strcmp(scn->servers[j].name, name) == 0)
			return (int)j;
	if (strcmp(scn->client.name, name) == 0)
		return SIM_REF_GNOMON;
	for (unsigned g = 0; g < scn->n_gnomons; g++)
		if (strcmp(scn->gnomons[g].name, name) == 0)
			return SIM_REF_GNOMON + 1 + (int)g;
	return -1;
}

static bool resolve_sources(struct sim_scenario *scn, unsigned g, char *err, size_t errlen)
{
	struct sim_client_spec *c = g == 0 ? &scn->client : &scn->gnomons[g - 1];
	c->n_sources = 0;
	if (c->sources_text[0] == '\0') { /* default: every server */
		for (unsigned j = 0; j < scn->n_servers; j++)
			c->sources[c->n_sources++] = (int)j;
		return true;
	}
	const char *p = c->sources_text;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		size_t n = strcspn(p, " \t,");
		char tok[SIM_NAME_MAX];
		snprintf(tok, sizeof tok, "%.*s", (int)(n < sizeof tok ? n : sizeof tok - 1), p);
		p += n;
		int ref = find_ref(scn, tok);
		if (ref < 0) {
			seterr(err, errlen, "%s: sources: no server or gnomon named %s", c->name, tok);
			return false;
		}
		if (ref == SIM_REF_GNOMON + (int)g) {
			seterr(err, errlen, "%s: sources: a node cannot use itself", c->name);
			return false;
		}
		if (c->n_sources >= SIM_MAX_SOURCES) {
			seterr(err, errlen, "%s: sources: too many", c->name);
			return false;
		}
		c->sources[c->n_sources++] = ref;
	}
	return true;
}

bool sim_scn_parse(struct sim_scenario *scn, const char *text, char *err, size_t errlen)
{
	sim_scn_defaults(scn);
	enum section sec = SEC_NONE;
	unsigned lineno = 0;
	const char *p = text;
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];
		lineno++;
		if (n >= sizeof line) {
			seterr(err, errlen, "line %u: too long", lineno);
			return false;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : p + n;
		char *hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		char *s = trim(line);
		if (*s == '\0')
			continue;
		if (*s == '[') {
			if (strcmp(s, "[scenario]") == 0) {
				sec = SEC_SCENARIO;
			} else if (strcmp(s, "[client]") == 0) {
				sec = SEC_CLIENT;
			} else if (strcmp(s, "[target]") == 0) {
				sec = SEC_TARGET;
			} else if (strcmp(s, "[gnomon]") == 0) {
				if (scn->n_gnomons >= SIM_MAX_GNOMONS) {
					seterr(err, errlen, "line %u: more than %d [gnomon] nodes", lineno, SIM_MAX_GNOMONS);
					return false;
				}
				client_defaults(&scn->gnomons[scn->n_gnomons++]);
				sec = SEC_GNOMON;
			} else if (strcmp(s, "[server]") == 0) {
				if (scn->n_servers >= SIM_MAX_SERVERS) {
					seterr(err, errlen, "line %u: more than %d servers", lineno, SIM_MAX_SERVERS);
					return false;
				}
				server_defaults(&scn->servers[scn->n_servers]);
				snprintf(scn->servers[scn->n_servers].name, SIM_NAME_MAX, "s%u", scn->n_servers + 1);
				scn->n_servers++;
				sec = SEC_SERVER;
			} else {
				seterr(err, errlen, "line %u: unknown section %s", lineno, s);
				return false;
			}
			continue;
		}
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			seterr(err, errlen, "line %u: expected key = value", lineno);
			return false;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		const char *why = apply(scn, sec, key, val);
		if (why != NULL) {
			seterr(err, errlen, "line %u: %s: %s", lineno, key, why);
			return false;
		}
	}
	if (scn->n_servers == 0) {
		seterr(err, errlen, "no [server]");
		return false;
	}
	for (unsigned g = 0; g <= scn->n_gnomons; g++) {
		struct sim_client_spec *c = g == 0 ? &scn->client : &scn->gnomons[g - 1];
		if (c->minpoll > c->maxpoll) {
			seterr(err, errlen, "%s: minpoll above maxpoll", c->name);
			return false;
		}
		if (c->suspend_s < 0 || c->migrate_s < 0 || c->suspend_at_s < 0 || c->migrate_at_s < 0 ||
		    (c->suspend_s > 0 && c->migrate_s > 0 &&
		     !(c->suspend_at_s + c->suspend_s <= c->migrate_at_s ||
		       c->migrate_at_s + c->migrate_s <= c->suspend_at_s))) {
			seterr(err, errlen, "%s: a suspend and a migration may not overlap, nor be negative", c->name);
			return false;
		}
		if (g > 0 && c->name[0] == '\0') {
			seterr(err, errlen, "[gnomon] %u has no name", g);
			return false;
		}
		if (!resolve_sources(scn, g, err, errlen))
			return false;
	}
	if (scn->duration_s <= 0) {
		seterr(err, errlen, "duration must be positive");
		return false;
	}
	return true;
}

bool sim_scn_load(struct sim_scenario *scn, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	char buf[65536];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	bool toolong = !feof(f);
	fclose(f);
	if (toolong) {
		seterr(err, errlen, "%s: too long", path);
		return false;
	}
	buf[n] = '\0';
	char e[256];
	if (!sim_scn_parse(scn, buf, e, sizeof e)) {
		seterr(err, errlen, "%s: %s", path, e);
		return false;
	}
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median where "never" (-1) counts as larger than every time. */
static double median_time(const double *v, unsigned n)
{
	double tmp[1024];
	if (n == 0 || n > 1024)
		return -1;
	for (unsigned i = 0; i < n; i++)
		tmp[i] = v[i] < 0 ? INFINITY : v[i];
	qsort(tmp, n, sizeof tmp[0], cmp_double);
	double m = (n % 2) ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
	return isfinite(m) ? m : -1;
}

void sim_summarize(const struct sim_result *r, unsigned n, struct sim_summary *out)
{
	memset(out, 0, sizeof *out);
	out->n = n;
	if (n == 0)
		return;
	double lock[1024], stay[1024];
	for (unsigned i = 0; i < n && i < 1024; i++) {
		out->rms_us += r[i].rms_s * 1e6 / n;
		if (r[i].max_abs_s * 1e6 > out->max_us)
			out->max_us = r[i].max_abs_s * 1e6;
		lock[i] = r[i].lock_1ms_s;
		stay[i] = r[i].stay_100us_s;
		out->steps += r[i].steps + r[i].other_steps;
		out->pkts_per_h += r[i].pkts_per_h / n;
		double rep = fabs(r[i].report_offset_s) * 1e6;
		out->report_us += rep / n;
		if (rep > out->report_max_us)
			out->report_max_us = rep;
	}
	out->lock_1ms_s = median_time(lock, n);
	out->stay_100us_s = median_time(stay, n);
	double evl[1024], evs[1024];
	for (unsigned i = 0; i < n && i < 1024; i++) {
		evl[i] = r[i].ev_lock_s;
		evs[i] = r[i].ev_stay_1ms_s;
		if (r[i].event_s >= 0)
			out->has_event = true;
		if (r[i].ev_max_s * 1e6 > out->ev_max_us)
			out->ev_max_us = r[i].ev_max_s * 1e6;
		out->ext_steps += r[i].ext_steps;
		out->kernel_leaps += r[i].kernel_leaps;
		out->jumps += r[i].jumps;
		out->panic_s += r[i].panic_s;
	}
	out->ev_lock_s = median_time(evl, n);
	out->ev_stay_1ms_s = median_time(evs, n);
}

static void fmt_time(char *buf, size_t cap, double t)
{
	if (t < 0)
		snprintf(buf, cap, "never");
	else
		snprintf(buf, cap, "%.0f s", t);
}

void sim_summary_line(const struct sim_scenario *scn, const struct sim_summary *s, char *buf, size_t cap)
{
	char lock[32], stay[32], rep[64] = "";
	fmt_time(lock, sizeof lock, s->lock_1ms_s);
	fmt_time(stay, sizeof stay, s->stay_100us_s);
	if (scn->report_at_s > 0)
		snprintf(rep, sizeof rep, "  at %.1f h %.1f us (max %.1f)", scn->report_at_s / 3600.0,
			 s->report_us, s->report_max_us);
	snprintf(buf, cap, "%-14s rms %8.2f us  max %8.1f us  <1ms %7s  <100us %8s  steps %u  pkts/h %6.1f%s",
		 scn->name, s->rms_us, s->max_us, lock, stay, s->steps, s->pkts_per_h, rep);
	if (s->has_event) {
		char el[32], es[32];
		fmt_time(el, sizeof el, s->ev_lock_s);
		fmt_time(es, sizeof es, s->ev_stay_1ms_s);
		size_t l = strlen(buf);
		snprintf(buf + l, cap - l, "  | after the event: <1ms %s, stays <1ms %s, max from 60 s after that %.1f us; "
			 "external steps %u, kernel leaps %u, jumps %u, panic %u s", el, es, s->ev_max_us,
			 s->ext_steps, s->kernel_leaps, s->jumps, s->panic_s);
	}
}

int sim_recorded_load(const char *path, struct sim_recorded *out, int max, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[512];
	int n = 0;
	unsigned lineno = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		char *s = trim(line);
		if (*s == '\0')
			continue;
		if (n >= max) {
			seterr(err, errlen, "%s:%u: too many entries", path, lineno);
			fclose(f);
			return -1;
		}
		struct sim_recorded *r = &out[n];
		char name[SIM_NAME_MAX];
		if (sscanf(s, "%63s %lf %lf %lf %lf %lf %lf", name, &r->rms_us, &r->max_us, &r->lock_1ms_s,
			   &r->stay_100us_s, &r->steps, &r->pkts_per_h) != 7) {
			seterr(err, errlen, "%s:%u: expected name rms_us max_us lock_1ms_s stay_100us_s steps pkts_per_h",
			       path, lineno);
			fclose(f);
			return -1;
		}
		snprintf(r->name, sizeof r->name, "%s", name);
		n++;
	}
	fclose(f);
	return n;
}
