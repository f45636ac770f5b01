/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * srcmgr: turns the configuration's server, peer and pool lines into the engine's
 * associations, and keeps the pools filled.
 *
 *   - A numeric host (server/peer/pool) goes through getaddrinfo (os_net_resolve_numeric)
 *     and straight to eng_add_source_addr, as before (the simulator rule: c-ares is for
 *     names only).
 *   - A name goes to the dns module (c-ares in the poll loop: nothing blocks). A failed
 *     resolution is retried by dns with backoff up to an hour and logged by it once per
 *     state change; the daemon keeps running and serving meanwhile.
 *   - server/peer name: one association, with the first address of the wanted family
 *     that no other association uses (ntpd: one address per server line). When that
 *     address has not answered for POOL_RENAME_POLLS (4) poll intervals, DNS is asked
 *     again (pool.h's pool_rename_*: the rule, the answer's meaning, the backoff): another
 *     usable address in the answer → a new association for it with the line's options,
 *     the silent one demobilised; the same address or nothing usable → kept, asked again
 *     after a pause doubling up to an hour; DNS failing → kept (dns retries and logs once
 *     per health change); the address answering again → the question is dropped. A line
 *     left without an association by its first answer is asked again on that pacing. An
 *     address literal is never re-resolved.
 *   - pool name (ntp.conf(5) `pool`, src/core/pool): associations from the answer until
 *     all associations together number `tos maxclock` (default 10), with the line's
 *     options (iburst...). A pool association that stays unreachable (reach 0 and
 *     SRCMGR_UNREACH_POLLS polls since it was mobilised) or is a falseticker (tally 'x'
 *     while other sources survive the selection) for SRCMGR_FALSE_POLLS polls is
 *     demobilised (eng_remove_source) and replaced by an
 *     address never used before (so is one a DENY/RSTR kiss demobilised: the engine
 *     lists it, eng_source_info.dead, until srcmgr removes it), DNS being asked again (paced by pool.h) when no spare
 *     address is left.
 * A periodic check (SRCMGR_CHECK_S) looks at the engine's sources and the pools' pacing.
 *
 * Owns: the dns object, one struct pool per pool line, the request → line map, the
 * per-association bookkeeping for the retirement rule, each server/peer name line's
 * association id and struct pool_rename. Does not own the engine, exec,
 * the loop or the configuration (borrowed; they outlive it).
 */
#ifndef SRCMGR_H
#define SRCMGR_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "eng.h"
#include "exec.h"
#include "sch.h"

#define SRCMGR_CHECK_S 1            /* period of the pool check */
#define SRCMGR_UNREACH_POLLS 8      /* reach 0 for this many polls: replaced (the reach
                                     * register's width; ntpd's NTP_UNREACH is 10) */
#define SRCMGR_FALSE_POLLS 8        /* a falseticker this many polls in a row: replaced */
#define SRCMGR_ENV_DNS_SERVERS "GNOMON_DNS_SERVERS" /* testing aid: c-ares servers, e.g.
                                     * "127.0.0.1:12753" instead of /etc/resolv.conf */

struct srcmgr;

struct srcmgr_params {
	struct eng *eng;
	struct exec *exec;
	struct sch *sch;
	const struct cfg *cfg;
	const char *dns_servers;    /* NULL: /etc/resolv.conf */
};

struct srcmgr_stats {
	uint64_t resolved;          /* names resolved */
	uint64_t mobilised;         /* associations made from names */
	uint64_t replaced_unreach;  /* pool associations dropped as unreachable */
	uint64_t replaced_false;    /* pool associations dropped as falsetickers */
	uint64_t replaced_kod;      /* pool associations a DENY/RSTR kiss demobilised, removed */
	uint64_t pool_queries;      /* DNS queries made to refill a pool */
	/* server/peer names whose address went silent (issue 6) */
	uint64_t renames_asked;     /* DNS asked again for the name */
	uint64_t renames_replaced;  /* associations moved to another address DNS gave */
	uint64_t renames_kept;      /* answers that kept the address (same, nothing usable) */
	uint64_t renames_failed;    /* failed DNS attempts for them (dns retries them) */
	uint64_t renames_cancelled; /* the address answered again before DNS did */
};

/* Creates the DNS resolver only when a line holds a name. NULL on out of memory. */
struct srcmgr *srcmgr_new(const struct srcmgr_params *p);
void srcmgr_free(struct srcmgr *m);

/* Mobilise every configured source (numeric now, names when DNS answers). Runs the
 * engine's actions. */
void srcmgr_start(struct srcmgr *m);

const struct srcmgr_stats *srcmgr_stats(const struct srcmgr *m);

#endif
