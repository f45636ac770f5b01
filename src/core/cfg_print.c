/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cfg (printing half): the normalised ntp.conf form of a `struct cfg` (what `gnomond -t`
 * shows), equality apart from line numbers, and the text of one diagnostic. Owns the
 * normalised syntax: one line per source, restrict, interface and reference clock, in the
 * order given; every tunable written out with its effective value, so a sysadmin sees
 * the defaults too. Parsing the output gives an equal configuration (cfg_equal). Does not
 * own parsing (cfg.c).
 */
#include "cfg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gn_addr.h"

/* An output buffer that counts what it would have needed, as snprintf does. */
struct out {
	char *buf;
	size_t cap, len;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* The shortest %g form that reads back as the same double. */
static void put_num(struct out *o, double v)
{
	char b[40];
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(b, sizeof b, "%.*g", prec, v);
		if (strtod(b, NULL) == v)
			break;
	}
	put(o, " %s", b);
}

/* A path, quoted when it holds a blank or '#', or is empty. */
static void put_path(struct out *o, const char *path)
{
	bool quote = path[0] == '\0' || path[strcspn(path, " \t\r\v\f#")] != '\0';
	put(o, quote ? " \"%s\"" : " %s", path);
}

static void put_prefix(struct out *o, const struct cfg_prefix *p)
{
	struct gn_addr a;
	memset(&a, 0, sizeof a);
	a.family = p->family;
	memcpy(a.addr, p->addr, 16);
	char b[64];
	gn_addr_str(&a, b, sizeof b);
	unsigned full = p->family == 4 ? 32 : 128;
	if (p->prefix_len == full)
		put(o, " %s", b);
	else
		put(o, " %s/%u", b, p->prefix_len);
}

static const char *const res_names[] = {
	"ignore", "noserve", "noquery", "nomodify", "nopeer", "notrap", "notrust", "limited",
	"kod", "nomrulist", "noepeer", "version", "ntpport",
};
static const char *const en_names[] = { "auth", "monitor", "ntp", "kernel", "stats", "calibrate" };
static const char *const stat_names[] = {
	"loopstats", "peerstats", "clockstats", "sysstats", "rawstats", "protostats",
};

static void put_bits(struct out *o, uint32_t bits, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (bits & (1u << i))
			put(o, " %s", names[i]);
}
#define PUT_BITS(o, bits, names) put_bits(o, bits, names, sizeof names / sizeof names[0])

static void put_refid(struct out *o, uint32_t refid)
{
	char r[5];
	int n = 0;
	for (int k = 3; k >= 0; k--) {
		char c = (char)((refid >> (k * 8)) & 0xff);
		if (c)
			r[n++] = c;
	}
	r[n] = '\0';
	put(o, " refid %s", r);
}

static void put_fudge_options(struct out *o, const struct cfg_refclock *rc)
{
	if (rc->time1_s != 0)
		put(o, " time1"), put_num(o, rc->time1_s);
	if (rc->time2_s != 0)
		put(o, " time2"), put_num(o, rc->time2_s);
	if (rc->stratum >= 0)
		put(o, " stratum %d", rc->stratum);
	if (rc->refid)
		put_refid(o, rc->refid);
	for (unsigned b = 0; b < 4; b++)
		if (rc->flags_set & (1 << b))
			put(o, " flag%u %u", b + 1, (rc->flags >> b) & 1u);
}

static void put_refclock(struct out *o, const struct cfg_refclock *rc)
{
	if (rc->classic) {
		unsigned type = cfg_refclock_type(rc->driver);
		put(o, "server 127.127.%u.%u", type, rc->unit);
		if (rc->mode)
			put(o, " mode %u", rc->mode);
	} else {
		put(o, "refclock %s unit %u", rc->driver, rc->unit);
	}
	if (rc->prefer)
		put(o, " prefer");
	if (rc->noselect)
		put(o, " noselect");
	if (rc->minpoll != 6)
		put(o, " minpoll %d", rc->minpoll);
	if (rc->maxpoll != 10)
		put(o, " maxpoll %d", rc->maxpoll);
	if (rc->classic) {
		put(o, "\n");
		bool any = rc->time1_s != 0 || rc->time2_s != 0 || rc->stratum >= 0 || rc->refid ||
			   rc->flags_set;
		if (any) {
			put(o, "fudge 127.127.%u.%u", cfg_refclock_type(rc->driver), rc->unit);
			put_fudge_options(o, rc);
			put(o, "\n");
		}
		return;
	}
	if (rc->mode)
		put(o, " subtype %u", rc->mode);
	if (rc->path[0])
		put(o, " path"), put_path(o, rc->path);
	if (rc->ppspath[0])
		put(o, " ppspath"), put_path(o, rc->ppspath);
	if (rc->baud)
		put(o, " baud %u", rc->baud);
	put_fudge_options(o, rc);
	put(o, "\n");
}

static void put_source(struct out *o, const struct cfg_source *s)
{
	static const char *const kinds[] = { "server", "pool", "peer" };
	put(o, "%s", kinds[s->kind]);
	if (s->family)
		put(o, " -%d", s->family);
	put(o, " %s", s->host);
	if (s->iburst)
		put(o, " iburst");
	if (s->burst)
		put(o, " burst");
	if (s->prefer)
		put(o, " prefer");
	if (s->noselect)
		put(o, " noselect");
	if (s->true_)
		put(o, " true");
	if (s->minpoll != 6)
		put(o, " minpoll %d", s->minpoll);
	if (s->maxpoll != 10)
		put(o, " maxpoll %d", s->maxpoll);
	if (s->key)
		put(o, " key %u", s->key);
	if (s->version != 4)
		put(o, " version %u", s->version);
	if (s->port != CFG_DEFAULT_PORT)
		put(o, " port %u", s->port);
	put(o, "\n");
}

static void put_restrict(struct out *o, const struct cfg_restrict *r)
{
	put(o, "restrict");
	if (r->match == CFG_RES_DEFAULT) {
		if (r->family)
			put(o, " -%u", r->family);
		put(o, " default");
	} else if (r->match == CFG_RES_SOURCE) {
		put(o, " source");
	} else {
		put_prefix(o, &r->prefix);
	}
	PUT_BITS(o, r->flags, res_names);
	put(o, "\n");
}

static void put_interface(struct out *o, const struct cfg_interface *it)
{
	static const char *const act[] = { "listen", "ignore", "drop" };
	put(o, "interface %s", act[it->action]);
	switch (it->what) {
	case CFG_IF_ALL: put(o, " all"); break;
	case CFG_IF_WILDCARD: put(o, " wildcard"); break;
	case CFG_IF_IPV4: put(o, " ipv4"); break;
	case CFG_IF_IPV6: put(o, " ipv6"); break;
	case CFG_IF_PREFIX: put_prefix(o, &it->prefix); break;
	case CFG_IF_NAME: put(o, " %s", it->name); break;
	}
	put(o, "\n");
}

size_t cfg_print(const struct cfg *c, char *buf, size_t cap)
{
	struct out o = { .buf = buf, .cap = cap, .len = 0 };
	if (cap)
		buf[0] = '\0';

	put(&o, "# gnomon configuration, normalised\n");
	put(&o, "port %u\n", c->port);
	put(&o, "controlsocket"), put_path(&o, c->controlsocket), put(&o, "\n");
	put(&o, "pidfile"), put_path(&o, c->pidfile), put(&o, "\n");
	if (c->driftfile[0])
		put(&o, "driftfile"), put_path(&o, c->driftfile), put(&o, "\n");
	if (c->leapfile[0])
		put(&o, "leapfile"), put_path(&o, c->leapfile), put(&o, "\n");
	if (c->logfile[0])
		put(&o, "logfile"), put_path(&o, c->logfile), put(&o, "\n");
	if (c->statsdir[0])
		put(&o, "statsdir"), put_path(&o, c->statsdir), put(&o, "\n");
	if (c->statistics) {
		put(&o, "statistics");
		PUT_BITS(&o, c->statistics, stat_names);
		put(&o, "\n");
	}
	if (c->enable_set) {
		put(&o, "enable");
		PUT_BITS(&o, c->enable_set, en_names);
		put(&o, "\n");
	}
	if (c->enable_clear) {
		put(&o, "disable");
		PUT_BITS(&o, c->enable_clear, en_names);
		put(&o, "\n");
	}

	put(&o, "tos minclock %u minsane %u maxclock %u maxdist", c->tos.minclock,
	    c->tos.minsane, c->tos.maxclock);
	put_num(&o, c->tos.maxdist_s);
	if (c->tos.orphan)
		put(&o, " orphan %u", c->tos.orphan);
	put(&o, " orphanwait");
	put_num(&o, c->tos.orphanwait_s);
	put(&o, "\ntinker step");
	put_num(&o, c->tinker.step_s);
	put(&o, " stepout");
	put_num(&o, c->tinker.stepout_s);
	put(&o, " panic");
	put_num(&o, c->tinker.panic_s);
	put(&o, "\n");

	if (c->keys[0])
		put(&o, "keys"), put_path(&o, c->keys), put(&o, "\n");
	if (c->n_trustedkeys) {
		put(&o, "trustedkey");
		for (unsigned i = 0; i < c->n_trustedkeys; i++) {
			const struct cfg_keyrange *k = &c->trustedkeys[i];
			if (k->lo == k->hi)
				put(&o, " %u", k->lo);
			else
				put(&o, " (%u ... %u)", k->lo, k->hi);
		}
		put(&o, "\n");
	}
	if (c->requestkey)
		put(&o, "requestkey %u\n", c->requestkey);
	if (c->controlkey)
		put(&o, "controlkey %u\n", c->controlkey);

	for (unsigned i = 0; i < c->n_interfaces; i++)
		put_interface(&o, &c->interfaces[i]);
	for (unsigned i = 0; i < c->n_sources; i++)
		put_source(&o, &c->sources[i]);
	for (unsigned i = 0; i < c->n_refclocks; i++)
		put_refclock(&o, &c->refclocks[i]);
	for (unsigned i = 0; i < c->n_restricts; i++)
		put_restrict(&o, &c->restricts[i]);
	if (c->ratelimit.set) {
		put(&o, "discard average %d minimum %d\n", c->ratelimit.average_log2,
		    c->ratelimit.minimum_log2);
		put(&o, "limit burst %u kod %d\n", c->ratelimit.burst, c->ratelimit.kod_log2);
	}
	put(&o, "mru maxdepth %u maxmem %u mindepth %u maxage %u minage %u\n", c->mru.maxdepth,
	    c->mru.maxmem_kib, c->mru.mindepth, c->mru.maxage_s, c->mru.minage_s);
	return o.len;
}

/* ---------------------------------------------------------------- equality */

static bool prefix_eq(const struct cfg_prefix *a, const struct cfg_prefix *b)
{
	return a->family == b->family && a->prefix_len == b->prefix_len &&
	       memcmp(a->addr, b->addr, sizeof a->addr) == 0;
}

static bool source_eq(const struct cfg_source *a, const struct cfg_source *b)
{
	return a->kind == b->kind && strcmp(a->host, b->host) == 0 && a->port == b->port &&
	       a->family == b->family && a->iburst == b->iburst && a->burst == b->burst &&
	       a->prefer == b->prefer && a->noselect == b->noselect && a->true_ == b->true_ &&
	       a->minpoll == b->minpoll && a->maxpoll == b->maxpoll && a->key == b->key &&
	       a->version == b->version;
}

static bool restrict_eq(const struct cfg_restrict *a, const struct cfg_restrict *b)
{
	return a->match == b->match && a->family == b->family && a->flags == b->flags &&
	       (a->match != CFG_RES_PREFIX || prefix_eq(&a->prefix, &b->prefix));
}

static bool interface_eq(const struct cfg_interface *a, const struct cfg_interface *b)
{
	return a->action == b->action && a->what == b->what &&
	       (a->what != CFG_IF_PREFIX || prefix_eq(&a->prefix, &b->prefix)) &&
	       (a->what != CFG_IF_NAME || strcmp(a->name, b->name) == 0);
}

static bool refclock_eq(const struct cfg_refclock *a, const struct cfg_refclock *b)
{
	return strcmp(a->driver, b->driver) == 0 && a->unit == b->unit &&
	       a->prefer == b->prefer && a->noselect == b->noselect &&
	       a->minpoll == b->minpoll && a->maxpoll == b->maxpoll &&
	       a->stratum == b->stratum && a->refid == b->refid &&
	       a->time1_s == b->time1_s && a->time2_s == b->time2_s &&
	       a->flags_set == b->flags_set && (a->flags & a->flags_set) == (b->flags & b->flags_set) &&
	       strcmp(a->path, b->path) == 0 && strcmp(a->ppspath, b->ppspath) == 0 &&
	       a->baud == b->baud && a->mode == b->mode && a->classic == b->classic;
}

bool cfg_equal(const struct cfg *a, const struct cfg *b)
{
	if (a->n_sources != b->n_sources || a->n_restricts != b->n_restricts ||
	    a->n_interfaces != b->n_interfaces || a->n_refclocks != b->n_refclocks ||
	    a->n_trustedkeys != b->n_trustedkeys)
		return false;
	for (unsigned i = 0; i < a->n_sources; i++)
		if (!source_eq(&a->sources[i], &b->sources[i]))
			return false;
	for (unsigned i = 0; i < a->n_restricts; i++)
		if (!restrict_eq(&a->restricts[i], &b->restricts[i]))
			return false;
	for (unsigned i = 0; i < a->n_interfaces; i++)
		if (!interface_eq(&a->interfaces[i], &b->interfaces[i]))
			return false;
	for (unsigned i = 0; i < a->n_refclocks; i++)
		if (!refclock_eq(&a->refclocks[i], &b->refclocks[i]))
			return false;
	for (unsigned i = 0; i < a->n_trustedkeys; i++)
		if (a->trustedkeys[i].lo != b->trustedkeys[i].lo ||
		    a->trustedkeys[i].hi != b->trustedkeys[i].hi)
			return false;
	const struct cfg_ratelimit *ra = &a->ratelimit, *rb = &b->ratelimit;
	if (ra->average_log2 != rb->average_log2 || ra->minimum_log2 != rb->minimum_log2 ||
	    ra->burst != rb->burst || ra->kod_log2 != rb->kod_log2 || ra->set != rb->set)
		return false;
	if (memcmp(&a->mru, &b->mru, sizeof a->mru) != 0)
		return false;
	const struct cfg_tos *ta = &a->tos, *tb = &b->tos;
	if (ta->minclock != tb->minclock || ta->minsane != tb->minsane ||
	    ta->maxclock != tb->maxclock || ta->maxdist_s != tb->maxdist_s ||
	    ta->orphan != tb->orphan || ta->orphanwait_s != tb->orphanwait_s)
		return false;
	if (a->tinker.step_s != b->tinker.step_s || a->tinker.stepout_s != b->tinker.stepout_s ||
	    a->tinker.panic_s != b->tinker.panic_s)
		return false;
	return strcmp(a->keys, b->keys) == 0 && a->requestkey == b->requestkey &&
	       a->controlkey == b->controlkey && strcmp(a->driftfile, b->driftfile) == 0 &&
	       strcmp(a->leapfile, b->leapfile) == 0 && strcmp(a->logfile, b->logfile) == 0 &&
	       strcmp(a->statsdir, b->statsdir) == 0 && a->statistics == b->statistics &&
	       a->enable_set == b->enable_set && a->enable_clear == b->enable_clear &&
	       a->port == b->port && strcmp(a->controlsocket, b->controlsocket) == 0 &&
	       strcmp(a->pidfile, b->pidfile) == 0;
}

const char *cfg_diag_format(const struct cfg_diag *d, char *buf, size_t cap)
{
	if (d->line)
		snprintf(buf, cap, "%s:%u:%u: %s: %s", d->file, d->line, d->column,
			 d->severity == CFG_ERROR ? "error" : "warning", d->message);
	else
		snprintf(buf, cap, "%s: %s: %s", d->file,
			 d->severity == CFG_ERROR ? "error" : "warning", d->message);
	return buf;
}
