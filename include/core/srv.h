/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * srv: the server side. Given one request datagram, decide (restrict, rate limit) and build
 * the answer: mode 4 for client requests (RFC 5905 §8–§9), a RATE Kiss-o'-Death when a
 * `limited kod` client exceeds its rate (RFC 5905 §7.4), nothing for what must get
 * nothing. Counts every outcome.
 *
 * Owns: the restrict table (acl), the client MRU and its rate limiter (rlim), the counters.
 * Memory for the MRU is allocated once in srv_new; srv_handle never allocates.
 * Does not own: sockets, the clock, the system variables (the engine hands them in).
 */
#ifndef SRV_H
#define SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "gn_addr.h"
#include "ntp_time.h"

struct srv;

/* The system variables served (RFC 5905 §9 system process). */
struct srv_sysvars {
	uint8_t leap;               /* enum pkt_li; PKT_LI_UNSYNC when not synchronised */
	uint8_t stratum;            /* 1..15; 16 (unsynchronised) goes on the wire as 0 */
	int8_t precision_log2;
	double rootdelay_s;
	double rootdisp_s;          /* at update_ns; grows by PHI (15 ppm) per second after */
	gn_time_ns update_ns;
	uint32_t refid;
	ntp_ts64 reftime;
};

enum srv_verdict {
	SRV_ANSWER = 0,     /* reply holds a normal answer */
	SRV_KOD,            /* reply holds a RATE kiss */
	SRV_DROP_MALFORMED, /* failed to decode */
	SRV_DROP_VERSION,   /* VN 0 or > 4 */
	SRV_DROP_MODE,      /* a mode we do not answer (4, 5, 7, ...) */
	SRV_DROP_RESTRICT,  /* ignore / noserve / noquery matched */
	SRV_DROP_RATE,      /* over the rate limit, no KoD this time */
	SRV_DROP_AUTH,      /* carries a MAC we cannot verify (until auth exists: any MAC) */
	SRV_DROP_CONTROL,   /* mode 6: allowed but not yet implemented */
	SRV_VERDICT__COUNT
};

struct srv_stats {
	uint64_t received;
	uint64_t answered;
	uint64_t kod_sent;
	uint64_t verdicts[SRV_VERDICT__COUNT];
	uint64_t mru_entries, mru_evictions, mru_untracked;
	/* additions (srv owner) */
	uint64_t mru_capacity;      /* entries the table holds (fixed at srv_new) */
	uint64_t mru_bytes;         /* memory allocated for it at srv_new */
};

/* Allocates the MRU as configured (cfg->mru). Returns NULL if memory cannot be had. */
struct srv *srv_new(const struct cfg *cfg);
void srv_free(struct srv *srv);

/* Handle one request. rx_ns: its receive time; now_ns: the time to put in xmt (the
 * daemon may restamp it just before the send). On SRV_ANSWER/SRV_KOD the answer is in
 * reply[0..*reply_len). Never writes more than min(cap, len of the request) octets for an
 * unauthenticated answer: no amplification. */
enum srv_verdict srv_handle(struct srv *srv, const struct srv_sysvars *sys,
			    const uint8_t *req, size_t len, const struct gn_addr *from,
			    gn_time_ns rx_ns, gn_time_ns now_ns,
			    uint8_t *reply, size_t cap, size_t *reply_len);

const struct srv_stats *srv_stats(const struct srv *srv);
const char *srv_verdict_name(enum srv_verdict v);

/* --- additions (srv owner) --- */

/* Notes for the caller of srv_handle:
 *  - SRV_ANSWER: the transmit field (octets 40..47) may be restamped just before the send.
 *  - SRV_KOD: do NOT restamp: a RATE kiss carries the request's transmit timestamp in org,
 *    rec and xmt (RFC 5905 §7.4; as NTPsec sends it).
 *  - Rate limiting uses rx_ns as its clock. */

/* True if the daemon may overwrite the transmit field just before sending this answer
 * (ENG_ACT_SEND stamp_xmt): only a normal answer. A RATE kiss must leave it alone. */
static inline bool srv_may_restamp(enum srv_verdict v)
{
	return v == SRV_ANSWER;
}

/* Key of the MRU's hash (16 random octets from the caller's random source; the engine
 * should call this once after srv_new). Without it a key derived from the first request's
 * timestamps is used, which an attacker might guess; hash chains stay bounded (16) anyway. */
void srv_set_secret(struct srv *srv, const uint8_t secret[16]);

/* The restrict flags (enum cfg_res_flag) that apply to `from`; for the engine's own use
 * (nopeer for symmetric active packets, noquery for mode 6). */
uint32_t srv_restrict_flags(const struct srv *srv, const struct gn_addr *from);

/* Bytes allocated for the client table at srv_new (it never grows). */
size_t srv_memory_bytes(const struct srv *srv);

/* The rate limiter's parameters as srv_new derives them from cfg (mru, discard/limit). */
struct rlim_params;
void srv_rlim_params(const struct cfg *cfg, struct rlim_params *p);

/* The client table, read-only (counters, mrulist later). */
struct rlim;
const struct rlim *srv_rlim(const struct srv *srv);

#endif
