/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * asc: one association with a remote server (RFC 5905 §9 peer process, §13 poll process).
 *
 * Owns: the peer variables (RFC 5905 §9.1), the request's random transmit field and its
 * real send time (RFC 9109, draft-ietf-ntp-data-minimization), the packet tests of
 * RFC 5905 §8 each counted, Kiss-o'-Death handling (§7.4), the 8-bit reachability
 * register, the poll timer with iburst/burst and random jitter, and the association's
 * clock filter (flt).
 * Does not own: the socket (the engine asks for a fresh one for every request), selection
 * and the discipline (eng), the system poll interval (handed in).
 * Pure: no allocation, times come in.
 */
#ifndef ASC_H
#define ASC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "flt.h"
#include "gn_addr.h"
#include "ntp_time.h"
#include "pkt.h"

#define ASC_BURST 8            /* RFC 5905 §13 / ntpd: packets in a burst */
#define ASC_BURST_SPACING_S 2  /* seconds between burst packets */
#define ASC_UNREACH 8          /* polls without answer before backing off the poll */
#define ASC_MAXSTRAT 16        /* RFC 5905 §7.2 MAXSTRAT */
#define ASC_MINDISP_S 0.01     /* RFC 5905 §7.2 MINDISP */

/* Packet test counters (index into test_fail[]): ntpd's TEST1..TEST13 numbering plus
 * gnomon's own. */
enum asc_test {
	ASC_T_MALFORMED = 0,   /* failed to decode */
	ASC_T_DUP = 1,         /* TEST1 duplicate */
	ASC_T_BOGUS = 2,       /* TEST2 origin is not our last transmit (or no request out) */
	ASC_T_INVALID = 3,     /* TEST3 receive/transmit timestamp zero */
	ASC_T_DENIED = 4,      /* TEST4 access denied (KoD DENY/RSTR) */
	ASC_T_AUTH = 5,        /* TEST5 authentication (a MAC we cannot check) */
	ASC_T_UNSYNC = 6,      /* TEST6 server unsynchronised (leap 3, stratum 0/16, future reftime) */
	ASC_T_STRATUM = 7,     /* TEST7 stratum above MAXSTRAT */
	ASC_T_DIST = 11,       /* TEST11 root distance above maxdist */
	ASC_T_LOOP = 12,       /* TEST12 synchronisation loop (refid is our address) */
	ASC_T_ADDR = 14,       /* came from another address or port than the server's */
	ASC_T_MODE = 15,       /* not a server (mode 4) answer, or a kiss we do not know */
};

enum asc_rx {
	ASC_RX_SAMPLE,         /* *sample filled */
	ASC_RX_DROP,           /* failed a test (counted) */
	ASC_RX_KOD_RATE,       /* RATE kiss believed: poll raised */
	ASC_RX_KOD_DENY,       /* DENY or RSTR believed: demobilise */
};

struct asc_sample {
	double offset_s, delay_s, disp_s;
	int64_t t_mono_ns;     /* monotonic time of the measurement (midpoint) */
};

struct asc {
	uint32_t id;
	unsigned cfg_index;
	struct gn_addr addr;
	bool iburst, burst, prefer, noselect, dead;
	int8_t minpoll, maxpoll;
	/* peer variables (RFC 5905 §9.1) */
	uint8_t leap, stratum, version;
	int8_t ppoll, hpoll, precision;
	double rootdelay_s, rootdisp_s;
	uint32_t refid;
	ntp_ts64 reftime;
	ntp_ts64 last_rx_xmt;  /* server's transmit of the last accepted answer (TEST1) */
	/* the request out */
	ntp_ts64 xmt_wire;     /* random transmit field of the last request; 0 = none out */
	gn_time_ns xmt_ns;     /* its real send time on the disciplined clock */
	int64_t xmt_mono_ns;
	/* poll process */
	uint8_t reach;
	unsigned unreach;      /* polls since the last answer */
	unsigned burst_left;
	int64_t next_poll_mono_ns;
	int64_t last_rx_mono_ns;
	bool was_reachable;
	/* clock filter */
	struct flt flt;
	/* counters */
	uint64_t sent, received, dropped;
	uint64_t test_fail[16];
	char kod[5];
};

void asc_init(struct asc *a, uint32_t id, unsigned cfg_index, const struct cfg_source *src,
	      const struct gn_addr *addr, int64_t now_mono_ns, uint32_t jitter_ms);

/* The poll interval (log2 s) the association uses given the system's. */
int asc_poll_log2(const struct asc *a, int sys_poll_log2);

/* Build a client request (mode 3, VN 4, random transmit) into buf (≥ 48), record what the
 * answer must echo, advance the reachability register and schedule the next poll.
 * jitter_ns: a random delay to add to the next poll (0 .. poll/16). Returns the length.
 * *became_unreachable is set when this poll turned reach to 0 after it had been set. */
size_t asc_poll(struct asc *a, ntp_ts64 xmt_wire, gn_time_ns now_real_ns, int64_t now_mono_ns,
		int sys_poll_log2, int64_t jitter_ns, uint8_t *buf, size_t cap,
		bool *became_unreachable);

/* Process an answer that came on this association's socket. precision_s: ours.
 * local_refid: our address as a refid (0 = none), for the loop test: a sample whose refid
 * it is counts in test_fail[ASC_T_LOOP]. (The engine passes 0 and counts TEST12 itself,
 * against all of its local addresses, eng_params.local_refids.) */
enum asc_rx asc_receive(struct asc *a, const uint8_t *buf, size_t len, const struct gn_addr *from,
			gn_time_ns rx_ns, int64_t now_mono_ns, int64_t now_real_ns,
			double precision_s, uint32_t local_refid, struct asc_sample *out);

/* RFC 5905 §11.2 root distance lambda at now. */
double asc_root_dist(const struct asc *a, int64_t now_mono_ns);

/* The same with the dispersion of the filled filter stages only: the distance used to
 * decide whether the source may be selected, so that one good sample is enough (the RFC
 * counts empty stages at MAXDISP, which keeps a new source out for four polls). */
double asc_sel_dist(const struct asc *a, int64_t now_mono_ns);

/* A step of the disciplined clock: the filter's offsets shift, the request out is stale. */
void asc_stepped(struct asc *a, int64_t delta_ns);

/* Added (H2, a disturbed clock: docs/leap-dns-drift.md): poll again with a burst of
 * ASC_BURST requests (as iburst), the first at at_mono_ns, whatever the configuration's
 * burst/iburst. An answer to the request in flight is no longer expected (it would be
 * dropped as bogus). The reachability register is not shifted by the burst's requests. */
void asc_burst_now(struct asc *a, int64_t at_mono_ns);
/* Added (H2): end a burst early; the next request at next_mono_ns (a new poll). */
void asc_burst_stop(struct asc *a, int64_t next_mono_ns);

#endif
