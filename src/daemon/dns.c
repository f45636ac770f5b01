/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns: c-ares in the poll loop (see dns.h). Requests sit in a fixed table; c-ares's
 * completion callback only stores the outcome in the request, and outcomes are handed to
 * the caller from dns_process*, so neither c-ares nor the caller is ever re-entered.
 */
#include "dns.h"

#include <ares.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gn_assert.h"
#include "os_log.h"
#include "sch.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
/* log_limited keys (os_log.h: the daemon's range) */
#define DNS_LOG_KEY_FDS (LOG_KEY_DAEMON | 0x4400)
#define DNS_LOG_KEY_SCH (LOG_KEY_DAEMON | 0x4401)
#define DNS_LOG_KEY_TIMER (LOG_KEY_DAEMON | 0x4402)

enum req_state { REQ_FREE = 0, REQ_DUE, REQ_INFLIGHT, REQ_DONE, REQ_ZOMBIE };

struct dns;

struct req {
	struct dns *d;
	enum req_state state;
	uint32_t id;
	char name[DNS_NAME_MAX + 1];
	uint16_t port;
	unsigned attempts;
	int64_t retry_at_ns;
	int64_t pause_ns;
	bool name_logged;           /* "no such name" said for this request */
	int status;                 /* outcome of the attempt that finished (REQ_DONE) */
	size_t n;
	struct gn_addr addrs[DNS_MAX_ADDRS];
};

struct dns_fd {
	int fd;
	short events;
};

struct dns {
	ares_channel ch;
	bool have_ch;
	dns_result_cb cb;
	void *ctx;
	uint8_t family;
	int64_t retry_min_ns, retry_max_ns;
	struct req req[DNS_MAX_REQUESTS];
	uint32_t next_id;
	struct dns_fd fds[DNS_MAX_FDS];
	size_t n_fds;
	struct sch *sch;
	uint64_t timer_id;
	int64_t timer_at_ns;
	bool destroying;
	struct dns_stats stats;
};

static void on_sch_fd(void *ctx, int fd, short revents);

/* --- c-ares's socket state: our fd table, mirrored into sch when attached --- */

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = data;
	size_t i;
	for (i = 0; i < d->n_fds; i++)
		if (d->fds[i].fd == fd)
			break;
	if (!readable && !writable) {
		if (i < d->n_fds) {
			d->fds[i] = d->fds[d->n_fds - 1];
			d->n_fds--;
			if (d->sch)
				sch_fd_del(d->sch, fd);
		}
		return;
	}
	short ev = (short)((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
	if (i == d->n_fds) {
		if (d->n_fds == DNS_MAX_FDS) {
			/* the query on it will time out and be retried */
			log_limited(DNS_LOG_KEY_FDS, LOG_WARNING,
				    "DNS: more than %d resolver sockets; one is not watched",
				    DNS_MAX_FDS);
			return;
		}
		d->fds[d->n_fds].fd = fd;
		d->n_fds++;
	}
	d->fds[i].events = ev;
	if (d->sch && sch_fd_add(d->sch, fd, ev, on_sch_fd, d) != 0)
		log_limited(DNS_LOG_KEY_SCH, LOG_WARNING,
			    "DNS: the event loop has no room for a resolver socket");
}

/* --- c-ares results --- */

static void on_ai(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	(void)timeouts;
	struct req *r = arg;
	struct dns *d = r->d;
	size_t n = 0;
	if (status == ARES_SUCCESS && res) {
		for (struct ares_addrinfo_node *a = res->nodes; a && n < DNS_MAX_ADDRS; a = a->ai_next) {
			struct gn_addr g;
			memset(&g, 0, sizeof g);
			if (a->ai_family == AF_INET && a->ai_addr &&
			    a->ai_addrlen >= (ares_socklen_t)sizeof(struct sockaddr_in)) {
				const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)a->ai_addr;
				g.family = GN_AF_INET;
				memcpy(g.addr, &sin->sin_addr, 4);
			} else if (a->ai_family == AF_INET6 && a->ai_addr &&
				   a->ai_addrlen >= (ares_socklen_t)sizeof(struct sockaddr_in6)) {
				const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)a->ai_addr;
				g.family = GN_AF_INET6;
				memcpy(g.addr, &s6->sin6_addr, 16);
				g.scope_id = s6->sin6_scope_id;
			} else {
				continue;
			}
			if (d->family != GN_AF_NONE && g.family != d->family)
				continue;
			g.port = r->port;
			bool dup = false;
			for (size_t k = 0; k < n && !dup; k++)
				dup = gn_addr_equal(&r->addrs[k], &g);
			if (!dup)
				r->addrs[n++] = g;
		}
	}
	if (res)
		ares_freeaddrinfo(res);
	if (d->destroying || status == ARES_EDESTRUCTION) {
		r->state = REQ_FREE;
		return;
	}
	if (r->state == REQ_ZOMBIE) {
		r->state = REQ_FREE;
		return;
	}
	INSIST(r->state == REQ_INFLIGHT);
	r->n = n;
	r->status = status == ARES_SUCCESS && n == 0 ? ARES_ENODATA : status;
	r->state = REQ_DONE;
}

static void start(struct dns *d, struct req *r)
{
	struct ares_addrinfo_hints hints;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = d->family == GN_AF_INET ? AF_INET :
			  d->family == GN_AF_INET6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	/* No RFC 6724 sorting: it opens and connects a socket per address to learn source
	 * addresses, system calls the pool does not need (it uses every address). */
	hints.ai_flags = ARES_AI_NOSORT;
	r->state = REQ_INFLIGHT;
	r->attempts++;
	d->stats.attempts++;
	log_debug("DNS: resolving %s (attempt %u)", r->name, r->attempts);
	ares_getaddrinfo(d->ch, r->name, NULL, &hints, on_ai, r);
}

/* Failures that say "no resolver answered" (health), as opposed to "the name has no
 * addresses" (a property of the name; a server answered). */
static bool name_level(int status)
{
	return status == ARES_ENOTFOUND || status == ARES_ENODATA || status == ARES_EBADNAME;
}

static void set_health(struct dns *d, enum dns_health h, const struct req *r)
{
	enum dns_health old = d->stats.health;
	if (old == h)
		return;
	d->stats.health = h;
	if (h == DNS_HEALTH_FAILING) {
		log_warnx("DNS unavailable: %s (resolving %s); retrying with backoff up to "
			  "%g s; the daemon keeps running and serving (logged again when DNS "
			  "works)", ares_strerror(r->status), r->name,
			  (double)d->retry_max_ns / (double)NS_PER_S);
		d->stats.health_logs++;
	} else if (old == DNS_HEALTH_FAILING) {
		log_notice("DNS works again (%s answered)", r->name);
		d->stats.health_logs++;
	}
}

static void deliver(struct dns *d, struct req *r, int64_t now)
{
	/* Copied out first: the callback may cancel this request or start others. */
	char name[DNS_NAME_MAX + 1];
	struct gn_addr addrs[DNS_MAX_ADDRS];
	memcpy(name, r->name, sizeof name);
	struct dns_result res;
	memset(&res, 0, sizeof res);
	res.id = r->id;
	res.name = name;
	res.status = r->status;
	res.attempt = r->attempts;
	if (r->status == ARES_SUCCESS) {
		memcpy(addrs, r->addrs, r->n * sizeof addrs[0]);
		res.ok = true;
		res.addrs = addrs;
		res.n = r->n;
		d->stats.successes++;
		set_health(d, DNS_HEALTH_OK, r);
		log_debug("DNS: %s: %zu addresses", name, r->n);
		r->state = REQ_FREE;    /* finished */
		d->cb(d->ctx, &res);
		return;
	}
	d->stats.failures++;
	r->pause_ns = r->pause_ns == 0 ? d->retry_min_ns : r->pause_ns * 2;
	if (r->pause_ns > d->retry_max_ns)
		r->pause_ns = d->retry_max_ns;
	r->retry_at_ns = now + r->pause_ns;
	r->state = REQ_DUE;
	if (name_level(r->status)) {
		set_health(d, DNS_HEALTH_OK, r);
		if (!r->name_logged) {
			log_warnx("DNS: cannot resolve %s: %s; retrying with backoff up to %g s",
				  r->name, ares_strerror(r->status),
				  (double)d->retry_max_ns / (double)NS_PER_S);
			r->name_logged = true;
			d->stats.name_logs++;
		}
	} else {
		set_health(d, DNS_HEALTH_FAILING, r);
	}
	log_debug("DNS: %s failed (%s), next attempt in %lld ms", name,
		  ares_strerror(r->status), (long long)(r->pause_ns / NS_PER_MS));
	res.ok = false;
	res.error = ares_strerror(r->status);
	res.retry_at_mono_ns = r->retry_at_ns;
	d->cb(d->ctx, &res);
}

static void rearm(struct dns *d, int64_t now);

/* Start due retries, hand out finished results, keep the sch timer right. */
static void settle(struct dns *d, int64_t now)
{
	for (size_t i = 0; i < DNS_MAX_REQUESTS; i++) {
		struct req *r = &d->req[i];
		if (r->state == REQ_DUE && r->retry_at_ns <= now)
			start(d, r);
	}
	for (size_t i = 0; i < DNS_MAX_REQUESTS; i++) {
		struct req *r = &d->req[i];
		if (r->state == REQ_DONE)
			deliver(d, r, now);
	}
	rearm(d, now);
}

/* --- public --- */

struct dns *dns_new(const struct dns_params *params, dns_result_cb cb, void *ctx,
		    char *err, size_t errlen)
{
	REQUIRE(cb != NULL);
	struct dns_params p;
	if (params)
		p = *params;
	else
		memset(&p, 0, sizeof p);
	if (errlen)
		err[0] = '\0';
	struct dns *d = calloc(1, sizeof *d);
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->cb = cb;
	d->ctx = ctx;
	d->family = p.family;
	d->retry_min_ns = p.retry_min_ns > 0 ? p.retry_min_ns : DNS_RETRY_MIN_S * NS_PER_S;
	d->retry_max_ns = p.retry_max_ns > 0 ? p.retry_max_ns : DNS_RETRY_MAX_S * NS_PER_S;
	if (d->retry_max_ns < d->retry_min_ns)
		d->retry_max_ns = d->retry_min_ns;
	d->next_id = 1;
	for (size_t i = 0; i < DNS_MAX_REQUESTS; i++)
		d->req[i].d = d;

	int rc = ares_library_init(ARES_LIB_INIT_ALL);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		free(d);
		return NULL;
	}
	struct ares_options o;
	memset(&o, 0, sizeof o);
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = d;
	o.timeout = p.timeout_ms > 0 ? p.timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
	o.tries = p.tries > 0 ? p.tries : DNS_DEFAULT_TRIES;
	char lookups[8];
	if (p.lookups) {
		snprintf(lookups, sizeof lookups, "%s", p.lookups);
		o.lookups = lookups;
		mask |= ARES_OPT_LOOKUPS;
	}
	if (p.no_search) {
		o.flags = ARES_FLAG_NOSEARCH;
		mask |= ARES_OPT_FLAGS;
	}
	rc = ares_init_options(&d->ch, &o, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		ares_library_cleanup();
		free(d);
		return NULL;
	}
	d->have_ch = true;
	if (p.servers) {
		rc = ares_set_servers_ports_csv(d->ch, p.servers);
		if (rc != ARES_SUCCESS) {
			snprintf(err, errlen, "DNS servers \"%s\": %s", p.servers, ares_strerror(rc));
			dns_free(d);
			return NULL;
		}
	}
	return d;
}

void dns_free(struct dns *d)
{
	if (!d)
		return;
	d->destroying = true;
	if (d->have_ch) {
		ares_destroy(d->ch);   /* closes sockets: sock_state removes them from sch */
		ares_library_cleanup();
	}
	if (d->sch && d->timer_id)
		sch_timer_cancel(d->sch, d->timer_id);
	free(d);
}

static bool name_ok(const char *name)
{
	size_t n = strnlen(name, DNS_NAME_MAX + 1);
	if (n == 0 || n > DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] <= 0x20 || (unsigned char)name[i] >= 0x7f)
			return false;
	return true;
}

uint32_t dns_resolve(struct dns *d, const char *name, uint16_t port, int64_t now_mono_ns)
{
	REQUIRE(d != NULL && name != NULL);
	if (!name_ok(name))
		return 0;
	struct req *r = NULL;
	for (size_t i = 0; i < DNS_MAX_REQUESTS && !r; i++)
		if (d->req[i].state == REQ_FREE)
			r = &d->req[i];
	if (!r)
		return 0;
	struct dns *back = r->d;
	memset(r, 0, sizeof *r);
	r->d = back;
	r->id = d->next_id++;
	if (d->next_id == 0)
		d->next_id = 1;
	memcpy(r->name, name, strlen(name) + 1);
	r->port = port;
	start(d, r);           /* a synchronous answer waits in REQ_DONE for dns_process */
	rearm(d, now_mono_ns);
	return r->id;
}

static struct req *find(const struct dns *d, uint32_t id)
{
	if (id == 0)
		return NULL;
	for (size_t i = 0; i < DNS_MAX_REQUESTS; i++) {
		const struct req *r = &d->req[i];
		if (r->id == id && (r->state == REQ_DUE || r->state == REQ_INFLIGHT ||
				    r->state == REQ_DONE))
			return (struct req *)(uintptr_t)r;
	}
	return NULL;
}

bool dns_cancel(struct dns *d, uint32_t id)
{
	REQUIRE(d != NULL);
	struct req *r = find(d, id);
	if (!r)
		return false;
	/* c-ares cannot cancel one query: an in-flight one finishes unseen */
	r->state = r->state == REQ_INFLIGHT ? REQ_ZOMBIE : REQ_FREE;
	return true;
}

bool dns_request_info(const struct dns *d, uint32_t id, struct dns_req_info *out)
{
	REQUIRE(d != NULL && out != NULL);
	const struct req *r = find(d, id);
	if (!r)
		return false;
	out->in_flight = r->state == REQ_INFLIGHT;
	out->attempts = r->attempts;
	out->retry_at_mono_ns = r->state == REQ_DUE ? r->retry_at_ns : 0;
	out->pause_ns = r->pause_ns;
	return true;
}

size_t dns_pollfds(const struct dns *d, struct pollfd *out, size_t max)
{
	REQUIRE(d != NULL);
	size_t k = 0;
	for (size_t i = 0; i < d->n_fds && k < max; i++) {
		out[k].fd = d->fds[i].fd;
		out[k].events = d->fds[i].events;
		out[k].revents = 0;
		k++;
	}
	return k;
}

static void process_fd(struct dns *d, int fd, short revents)
{
	bool ours = false;
	for (size_t i = 0; i < d->n_fds && !ours; i++)
		ours = d->fds[i].fd == fd;
	if (!ours || revents == 0)
		return;
	ares_socket_t rfd = (revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) ? fd : ARES_SOCKET_BAD;
	ares_socket_t wfd = (revents & POLLOUT) ? fd : ARES_SOCKET_BAD;
	ares_process_fd(d->ch, rfd, wfd);
}

void dns_process(struct dns *d, const struct pollfd *fds, size_t n, int64_t now_mono_ns)
{
	REQUIRE(d != NULL && (fds != NULL || n == 0));
	for (size_t i = 0; i < n; i++)
		if (fds[i].revents)
			process_fd(d, fds[i].fd, fds[i].revents);
	dns_process_timeouts(d, now_mono_ns);
}

void dns_process_timeouts(struct dns *d, int64_t now_mono_ns)
{
	REQUIRE(d != NULL);
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	settle(d, now_mono_ns);
}

int64_t dns_next_deadline(const struct dns *d, int64_t now_mono_ns)
{
	REQUIRE(d != NULL);
	int64_t t = INT64_MAX;
	bool inflight = false;
	for (size_t i = 0; i < DNS_MAX_REQUESTS; i++) {
		const struct req *r = &d->req[i];
		if (r->state == REQ_DONE)
			return now_mono_ns;
		if (r->state == REQ_DUE && r->retry_at_ns < t)
			t = r->retry_at_ns;
		if (r->state == REQ_INFLIGHT || r->state == REQ_ZOMBIE)
			inflight = true;
	}
	if (inflight) {
		/* c-ares's interface speaks struct timeval (style.md bans it elsewhere); it is
		 * converted here and nowhere else. */
		struct timeval tv;
		if (ares_timeout(d->ch, NULL, &tv)) {
			int64_t at = now_mono_ns + (int64_t)tv.tv_sec * NS_PER_S +
				     (int64_t)tv.tv_usec * 1000;
			if (at < t)
				t = at;
		}
	}
	return t < now_mono_ns ? now_mono_ns : t;
}

const struct dns_stats *dns_stats(const struct dns *d)
{
	return &d->stats;
}

unsigned dns_pending(const struct dns *d)
{
	unsigned pending = 0;
	for (size_t i = 0; i < DNS_MAX_REQUESTS; i++)
		if (d->req[i].state == REQ_DUE || d->req[i].state == REQ_INFLIGHT ||
		    d->req[i].state == REQ_DONE)
			pending++;
	return pending;
}

const char *dns_health_name(enum dns_health h)
{
	switch (h) {
	case DNS_HEALTH_UNKNOWN: return "unknown";
	case DNS_HEALTH_OK: return "ok";
	case DNS_HEALTH_FAILING: return "failing";
	}
	return "?";
}

/* --- sch --- */

static void on_sch_timer(void *ctx, uint64_t timer_id, int64_t now_mono_ns)
{
	struct dns *d = ctx;
	if (timer_id == d->timer_id)
		d->timer_id = 0;
	dns_process_timeouts(d, now_mono_ns);
}

static void on_sch_fd(void *ctx, int fd, short revents)
{
	struct dns *d = ctx;
	process_fd(d, fd, revents);
	dns_process_timeouts(d, sch_now(d->sch));
}

static void rearm(struct dns *d, int64_t now)
{
	if (!d->sch || d->destroying)
		return;
	int64_t at = dns_next_deadline(d, now);
	if (d->timer_id && at == d->timer_at_ns)
		return;
	if (d->timer_id) {
		sch_timer_cancel(d->sch, d->timer_id);
		d->timer_id = 0;
	}
	if (at == INT64_MAX)
		return;
	d->timer_id = sch_timer_add(d->sch, at, on_sch_timer, d);
	d->timer_at_ns = at;
	if (!d->timer_id)
		log_limited(DNS_LOG_KEY_TIMER, LOG_WARNING, "DNS: no timer (out of memory)");
}

int dns_attach_sch(struct dns *d, struct sch *s)
{
	REQUIRE(d != NULL && s != NULL && d->sch == NULL);
	d->sch = s;
	for (size_t i = 0; i < d->n_fds; i++)
		if (sch_fd_add(s, d->fds[i].fd, d->fds[i].events, on_sch_fd, d) != 0)
			return -1;
	rearm(d, sch_now(s));
	return 0;
}
