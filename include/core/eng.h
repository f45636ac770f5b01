/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * eng: the engine, which owns every core module of one running gnomon: associations and
 * their poll processes, the clock filter, selection, clustering, combining, the
 * discipline, leap handling, and the server side (srv). It is the only object the daemon
 * and the simulator talk to.
 *
 * Shape (docs/architecture.md): every event comes in with one `now`; the engine appends
 * actions (send this packet, adjust the clock, step, write the drift file, log) to its
 * action list; the caller executes and clears them, then asks eng_next_deadline when to
 * call eng_on_timer again. The engine reads no clock, does no I/O and keeps no globals, so
 * the simulator can run many of them in one process.
 *
 * Does not own: sockets, DNS, files, the real clock. Names in the configuration are
 * resolved by the daemon and handed in with eng_add_source_addr.
 */
#ifndef ENG_H
#define ENG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "clk.h"
#include "gn_addr.h"
#include "ntp_time.h"
#include "pkt.h"
#include "srv.h"

struct eng;
struct auth_crypto; /* auth.h */

/* One event's notion of time. real_ns is the clock being disciplined (the system clock,
 * or the software clock of -X) as read now; mono_ns is the monotonic clock, which timers
 * use and steps never move. */
struct eng_now {
	gn_time_ns real_ns;
	int64_t mono_ns;
};

#define ENG_MAX_LOCAL_REFIDS 16    /* eng_params.local_refids */

struct eng_params {
	const struct cfg *cfg;      /* copied; not referenced after eng_new */
	struct ntp_rng rng;         /* transmit fields, poll jitter, port choice */
	int8_t precision_log2;      /* measured clock precision (RFC 5905 §7.3 precision) */
	bool allow_first_panic;     /* -g: the first correction may exceed the panic threshold */
	bool slew_only;             /* -x: step threshold 600 s */
	bool have_drift;            /* a drift file value was read */
	double drift_ppm;           /* its value */
	uint32_t local_refid_ipv4;  /* our own address as a refid, for the loop test (0 = none) */
	/* Added by the engine helper: which discipline to run (docs/discipline.md). Zero
	 * (the default) is gnomon's regression discipline; ENG_DSC_RFC the RFC 5905 §11.3
	 * PLL/FLL reference, kept for comparison. */
	enum eng_discipline { ENG_DSC_GNOMON = 0, ENG_DSC_RFC = 1 } discipline;
	/* Added for the server side (srv.h srv_set_secret): the MRU hash key, 16 random
	 * octets; the daemon draws them from its random source. Unset: srv derives a key from
	 * the first request (fine for simulations, weaker against a chosen-address flood). */
	bool have_srv_secret;
	uint8_t srv_secret[16];
	/* Added (fix-up A): the loop test (RFC 5905 §8 TEST12, A.5.5.1 fit()) against every
	 * local address, not just local_refid_ipv4 (which still counts). Each entry is a
	 * local address as a refid: an IPv4 address is its 32 bits as read from the wire
	 * (gn_addr_ipv4_u32: 192.0.2.1 = 0xc0000201), an IPv6 address eng_addr_refid(), the
	 * hash the engine itself serves as refid for an IPv6 system peer. A source of stratum
	 * above 1 whose refid is any of them is never selected; each of its samples counts in
	 * test_fail[ASC_T_LOOP]. Zero entries are ignored; at most ENG_MAX_LOCAL_REFIDS. */
	uint32_t local_refids[ENG_MAX_LOCAL_REFIDS];
	unsigned n_local_refids;
	/* MD5 for the refid of an IPv6 system peer (RFC 5905 §7.3: the first four octets of
	 * the MD5 of the address), through the crypto seam of auth.h; must outlive the engine.
	 * NULL (the simulator): a stable FNV-1a hash instead, which no other implementation
	 * would recognise in a loop test. */
	const struct auth_crypto *crypto;
};

/* The refid an address has as a system peer (RFC 5905 §7.3): IPv4 its 32 bits, IPv6 the
 * first four octets of the MD5 of its 16 octets through crypto, or, where crypto is NULL
 * or fails, a stable FNV-1a hash. For filling eng_params.local_refids with the local IPv6
 * addresses, pass the same crypto as eng_params.crypto. */
uint32_t eng_addr_refid_crypto(const struct auth_crypto *crypto, const struct gn_addr *a);
/* The same without crypto (FNV-1a for IPv6). */
uint32_t eng_addr_refid(const struct gn_addr *a);

struct eng *eng_new(const struct eng_params *params, const struct eng_now *now);
void eng_free(struct eng *eng);

/* --- sources ---
 * The daemon resolves each cfg source (index into cfg->sources) and hands in the
 * address(es). Returns an association id (> 0), or 0 if refused (duplicate, table full). */
uint32_t eng_add_source_addr(struct eng *eng, const struct eng_now *now, unsigned cfg_index,
			     const struct gn_addr *addr);

/* Added for pools (src/daemon/srcmgr): demobilise an association (a pool address that
 * stays unreachable or is a falseticker). Its socket is closed (ENG_ACT_CLOSE pushed), it
 * leaves eng_sources and the selection, and its slot may be reused. False if assoc_id is
 * not a live association. */
bool eng_remove_source(struct eng *eng, const struct eng_now *now, uint32_t assoc_id);
/* It also takes an association a DENY/RSTR kiss demobilised (eng_source_info.dead): it is
 * listed for its kiss code until removed; removing it frees its place (pools). */

/* --- leap seconds (include/core/leap.h, docs/leap-dns-drift.md) --- */
struct leap_table;
/* The leap file's table (verified by leap_parse; perhaps expired), or NULL for none.
 * Copied. While valid and unexpired it overrides the sources' leap bits; the decision is
 * re-made at once and again at every selection, every second and at the leap deadlines:
 * the indicator served and the kernel's STA_INS/STA_DEL (CLK_ADJ_STATUS actions) only in
 * the last day before the leap, log lines before and after. */
void eng_set_leap_table(struct eng *eng, const struct eng_now *now, const struct leap_table *t);

/* --- events --- */

/* Where a datagram came in. assoc_id is the association whose own client socket it came
 * on (0: the server socket). */
struct eng_rx {
	const uint8_t *buf;
	size_t len;
	struct gn_addr from;        /* remote */
	struct gn_addr local;       /* the local address it was sent to (IP_PKTINFO) */
	gn_time_ns rx_ns;           /* receive timestamp on the disciplined clock (kernel
	                             * timestamp when there was one) */
	uint32_t assoc_id;
	int ifindex;                /* from IP_PKTINFO, for the reply */
};

void eng_on_packet(struct eng *eng, const struct eng_now *now, const struct eng_rx *rx);
void eng_on_timer(struct eng *eng, const struct eng_now *now);
/* The server's fast path (docs/server.md, "The answer path"): a datagram that came to the
 * server socket (rx->assoc_id 0) answered straight into out (cap octets, at least 48)
 * rather than through an ENG_ACT_SEND action. Same bytes and counters as eng_on_packet;
 * adds no action, so the caller need not run the action list after it. now_real_ns is the
 * disciplined clock's time; the request's receive stamp may stand for it, since it only
 * grows the root dispersion and fills a transmit field that is restamped before sending
 * when *stamp_xmt is set (a normal answer; never a kiss). Returns the answer's length, 0
 * when the request was dropped (counted in eng_server_stats). */
size_t eng_serve(struct eng *eng, gn_time_ns now_real_ns, const struct eng_rx *rx,
		 uint8_t *out, size_t cap, bool *stamp_xmt);
/* The clock was stepped by delta_ns (by us after an ENG_ACT_STEP, or noticed by the loop as
 * an external step when external is true). Every stored timestamp is corrected here.
 * An external step (H2, docs/leap-dns-drift.md): a step of ±1 s within seconds of the leap
 * the engine armed is the kernel's leap second (the sources leap too: nothing else
 * changes); any other is a disturbed clock (a resumed guest whose agent set the time,
 * someone's `date -s`): the filters are emptied, every source is polled at once with a
 * burst, and, once synchronised before, the clock is stepped without the stepout wait if
 * the burst's samples agree on an offset above the step threshold, even beyond the panic
 * threshold (the discipline's record and frequency kept); else slewed (its record
 * dropped, the frequency kept). The same restart follows when every source jumps at once
 * without an external step (a paused or migrated machine). */
void eng_on_clock_stepped(struct eng *eng, const struct eng_now *now, int64_t delta_ns, bool external);
/* A transmit timestamp for a packet sent earlier (kernel TX timestamp), if available. */
void eng_on_tx_timestamp(struct eng *eng, uint32_t assoc_id, ntp_ts64 xmt_wire, gn_time_ns tx_ns);

/* Monotonic time at which eng_on_timer must next be called. */
int64_t eng_next_deadline(const struct eng *eng);

/* --- actions --- */
enum eng_act_kind {
	ENG_ACT_SEND,       /* send a datagram */
	ENG_ACT_CLOCK_ADJ,  /* adjtimex-like adjustment */
	ENG_ACT_CLOCK_STEP, /* step the clock by step_ns */
	ENG_ACT_DRIFT,      /* persist the frequency */
	ENG_ACT_LOG,        /* a log line (the daemon rate-limits per key) */
	ENG_ACT_CLOSE,      /* the association's client socket is no longer needed */
};

enum eng_log_level { ENG_LOG_ERR, ENG_LOG_WARNING, ENG_LOG_NOTICE, ENG_LOG_INFO, ENG_LOG_DEBUG };

#define ENG_MAX_PKT 1024

struct eng_send {
	uint32_t assoc_id;          /* > 0: send from a fresh client socket of this association
	                             * (RFC 9109 random port); 0: from the server socket */
	struct gn_addr to;
	struct gn_addr local;       /* server replies: leave from the address the request came to */
	int ifindex;
	bool fresh_socket;          /* close the association's previous socket, open a new one */
	bool stamp_xmt;             /* overwrite octets 40..47 with the send time just before
	                             * sending (only when no MAC covers them) */
	uint16_t len;
	uint8_t buf[ENG_MAX_PKT];
};

struct eng_action {
	enum eng_act_kind kind;
	union {
		struct eng_send send;
		struct clk_adj adj;
		int64_t step_ns;
		double drift_ppm;
		struct {
			enum eng_log_level level;
			uint32_t key;       /* same key = same event, for rate limiting */
			char text[200];
		} log;
		uint32_t close_assoc_id;
	} u;
};

/* The pending actions, oldest first; valid until eng_clear_actions or the next event. */
size_t eng_actions(const struct eng *eng, const struct eng_action **out);
void eng_clear_actions(struct eng *eng);

/* --- observation (gnomonctl status / sources, metrics) --- */
enum eng_sync_state { ENG_UNSYNC, ENG_SYNC, ENG_HOLDOVER, ENG_PANIC };

struct eng_status {
	enum eng_sync_state state;
	uint8_t leap;               /* enum pkt_li as served */
	uint8_t stratum;            /* 16 when unsynchronised */
	uint32_t refid;
	ntp_ts64 reftime;
	uint32_t sys_peer_assoc;    /* 0 = none */
	double offset_s, jitter_s, frequency_ppm, freq_wander_ppm;
	double rootdelay_s, rootdisp_s;
	int8_t poll_log2, precision_log2;
	char panic_reason[160];     /* non-empty in ENG_PANIC: what happened, what to do */
	/* Added (fix-up A): `disable ntp` (cfg enable_clear & CFG_EN_NTP). The engine polls,
	 * selects and serves but never steers the clock: no ENG_ACT_CLOCK_ADJ (frequency,
	 * tick, status bits, maxerror: the kernel is left alone), no ENG_ACT_CLOCK_STEP, no
	 * ENG_ACT_DRIFT. It never calls itself synchronised (state ENG_UNSYNC, LI 3 and
	 * stratum 16 served); sys_peer_assoc names the source the selection picked (tally
	 * '*', 0 = none) and offset_s is the selection's combined offset of this clock.
	 * A ctl line: "clock discipline: disabled (disable ntp)". */
	bool ntp_disabled;
	/* Added (H2, docs/leap-dns-drift.md "Suspended, resumed and migrated machines"):
	 * restarts_ext: external steps of the clock (eng_on_clock_stepped with external, not
	 * the kernel's leap) after which every source was polled again at once with a burst;
	 * jumps: times every source showed the same large offset at once (a paused or migrated
	 * machine) and the clock was stepped; jump_alarms: one source's jump that the burst did
	 * not confirm; kernel_leaps: leap seconds the kernel inserted or deleted, as seen in an
	 * external step of ±1 s at the armed leap. */
	uint32_t restarts_ext, jumps, jump_alarms, kernel_leaps;
};
void eng_status(const struct eng *eng, const struct eng_now *now, struct eng_status *out);

struct eng_source_info {
	uint32_t assoc_id;
	unsigned cfg_index;
	struct gn_addr addr;
	char tally;                 /* ntpq -p's tally code: ' ', 'x', '.', '-', '+', '#', '*', 'o' */
	uint8_t stratum;
	uint32_t refid;
	int8_t poll_log2;
	uint8_t reach;
	int64_t last_rx_mono_ns;    /* 0 = never */
	double delay_s, offset_s, jitter_s, disp_s;
	uint64_t sent, received, dropped; /* packets; drops by RFC 5905 §8 test below */
	uint64_t test_fail[16];
	char kod[5];                /* last kiss code believed, "" = none */
	/* Added (fix-up A): demobilised by a DENY/RSTR kiss (kod says which): no longer
	 * polled nor selected, listed until eng_remove_source */
	bool dead;
};
/* Fills up to max entries; returns how many sources exist. */
size_t eng_sources(const struct eng *eng, const struct eng_now *now, struct eng_source_info *out, size_t max);

/* The server side's counters (gnomonctl serverstats). */
const struct srv_stats *eng_server_stats(const struct eng *eng);

#endif
