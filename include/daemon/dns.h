/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dns: asynchronous name resolution with c-ares, inside the daemon's one poll loop. A name
 * (from a server, peer or pool line) is resolved to all its A and AAAA addresses; nothing
 * ever blocks: c-ares's sockets join the poll set and its timeouts become a deadline.
 *
 * A request lives until it succeeds or is cancelled: a failed attempt (no network, no
 * server, SERVFAIL, NXDOMAIN, an answer without addresses) is retried after a pause that
 * doubles from retry_min to retry_max (default 5 s .. 1 h, the "up to an hour").
 * Every outcome is reported through the callback (successes with the addresses, failures
 * with the time of the next attempt), always from dns_process*, never from inside
 * dns_resolve, so a callback may call dns_resolve or dns_cancel freely.
 *
 * Logging, once per state change (issue): the resolver's health is UNKNOWN, OK or FAILING.
 * A failure that says the resolver cannot be reached (connection refused, timeout,
 * SERVFAIL, REFUSED, no server) moves it to FAILING with one warning; the next success
 * (or an authoritative "no such name", which proves a server answered) moves it back to
 * OK with one notice. A name that does not exist is warned about once per request (and
 * again only after it resolved). Nothing else is logged above debug level.
 *
 * Two ways to drive it:
 *   - loop-agnostic: dns_pollfds() fills the fds c-ares waits on, the caller polls them
 *     with its own, hands the pollfds back to dns_process(), and calls it again by
 *     dns_next_deadline() at the latest;
 *   - attached to the daemon's loop (sch.h): dns_attach_sch() registers every c-ares
 *     socket with sch as it opens and closes and keeps one sch timer at the deadline;
 *     nothing else to call.
 * Times are the monotonic clock in ns (sch's clock).
 *
 * For the architecture's simulator rule ("numeric addresses through getaddrinfo, c-ares
 * only for names"), the caller parses numeric addresses itself (gn_addr_parse) and gives
 * only names to this module. A numeric string given here still works (c-ares answers it
 * without a query).
 *
 * Owns: the c-ares channel, its sockets (c-ares opens and closes them), the requests and
 * their retry schedule, the health state. Does not own: what the addresses are used for
 * (the daemon hands them to the engine or to src/core/pool).
 */
#ifndef DNS_H
#define DNS_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gn_addr.h"

struct sch;

#define DNS_MAX_REQUESTS 64         /* outstanding names (cfg sources are fewer) */
#define DNS_MAX_ADDRS 32            /* addresses kept from one answer */
#define DNS_MAX_FDS 16              /* c-ares sockets watched at once */
#define DNS_NAME_MAX 253            /* RFC 1035 §2.3.4: 255 octets on the wire */
#define DNS_DEFAULT_TIMEOUT_MS 3000 /* per try */
#define DNS_DEFAULT_TRIES 2
#define DNS_RETRY_MIN_S 5           /* first pause after a failed attempt */
#define DNS_RETRY_MAX_S 3600        /* the pause never grows past an hour (issue) */

struct dns_params {
	const char *servers;        /* NULL: /etc/resolv.conf; else c-ares CSV with ports,
	                             * e.g. "127.0.0.1:12553" (tests) */
	const char *lookups;        /* NULL: c-ares's default ("fb": /etc/hosts, then DNS);
	                             * "b": DNS only */
	bool no_search;             /* don't append resolv.conf search domains */
	int timeout_ms;             /* per try; 0 = DNS_DEFAULT_TIMEOUT_MS */
	int tries;                  /* 0 = DNS_DEFAULT_TRIES */
	int64_t retry_min_ns;       /* 0 = DNS_RETRY_MIN_S */
	int64_t retry_max_ns;       /* 0 = DNS_RETRY_MAX_S */
	uint8_t family;             /* GN_AF_NONE: A and AAAA; GN_AF_INET or GN_AF_INET6: one */
};

struct dns_result {
	uint32_t id;                /* from dns_resolve */
	const char *name;
	bool ok;                    /* addrs[0..n) valid (n >= 1) */
	int status;                 /* c-ares status (0 = ARES_SUCCESS) */
	const char *error;          /* ares_strerror text when !ok */
	const struct gn_addr *addrs;
	size_t n;
	unsigned attempt;           /* 1 for the first attempt */
	int64_t retry_at_mono_ns;   /* !ok: the next attempt; ok: 0 */
};

/* Called from dns_process*; r and its pointers are valid during the call only. After a
 * successful result the request is finished (its id is free); after a failure it stays,
 * waiting for its retry. The callback may call dns_resolve and dns_cancel, not dns_free. */
typedef void (*dns_result_cb)(void *ctx, const struct dns_result *r);

enum dns_health { DNS_HEALTH_UNKNOWN = 0, DNS_HEALTH_OK, DNS_HEALTH_FAILING };

struct dns_stats {
	uint64_t attempts;          /* queries started (first tries and retries) */
	uint64_t successes;
	uint64_t failures;
	uint64_t health_logs;       /* lines logged for health changes */
	uint64_t name_logs;         /* lines logged for names that do not exist */
	enum dns_health health;
};

struct dns;

/* NULL with a reason in err if c-ares cannot be initialised or servers is malformed. */
struct dns *dns_new(const struct dns_params *params, dns_result_cb cb, void *ctx,
		    char *err, size_t errlen);
/* Cancels everything without calling the callback, closes the sockets (and removes them
 * from the sch loop when attached). */
void dns_free(struct dns *d);

/* Resolve name for port (host order, put into every address). Returns a request id
 * (> 0), or 0 if the name is empty, too long or holds spaces/control characters, or
 * DNS_MAX_REQUESTS are outstanding. The query starts at once; its result comes from a
 * later dns_process* call. */
uint32_t dns_resolve(struct dns *d, const char *name, uint16_t port, int64_t now_mono_ns);

/* Stop a request (waiting or in flight); its callback will not be called. False if the
 * id is not outstanding. */
bool dns_cancel(struct dns *d, uint32_t id);

/* What a request is doing (for status displays and tests). False if not outstanding. */
struct dns_req_info {
	bool in_flight;
	unsigned attempts;          /* attempts made so far */
	int64_t retry_at_mono_ns;   /* when waiting */
	int64_t pause_ns;           /* the pause that led to retry_at (0 before any failure) */
};
bool dns_request_info(const struct dns *d, uint32_t id, struct dns_req_info *out);

/* --- loop-agnostic driving --- */
/* The sockets c-ares waits on: fd and events (POLLIN, POLLOUT); revents cleared. Returns
 * the count written (at most max). */
size_t dns_pollfds(const struct dns *d, struct pollfd *out, size_t max);
/* After poll: every entry of fds[0..n) that is one of ours with revents set is processed;
 * then timeouts, due retries and results. Entries that are not ours are ignored. */
void dns_process(struct dns *d, const struct pollfd *fds, size_t n, int64_t now_mono_ns);
/* Just timeouts, due retries and results (no descriptor ready). */
void dns_process_timeouts(struct dns *d, int64_t now_mono_ns);
/* When dns_process* must run next at the latest: now when a result waits, the earliest
 * c-ares timeout or retry, INT64_MAX when idle. */
int64_t dns_next_deadline(const struct dns *d, int64_t now_mono_ns);

/* --- the daemon's loop --- */
/* Register with sch (its fds and one timer). Returns 0, -1 if sch has no room for the
 * fds already open. Call once, before or after requests; dns_free detaches. */
int dns_attach_sch(struct dns *d, struct sch *s);

const struct dns_stats *dns_stats(const struct dns *d);
/* Requests outstanding (waiting for a retry, in flight, or with a result to hand out). */
unsigned dns_pending(const struct dns *d);
const char *dns_health_name(enum dns_health h);

#endif
