/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exec: drives the engine (eng.h) from the real world. Receives datagrams on the server
 * sockets and on each association's own client socket, stamps them on the disciplined
 * clock (the kernel's receive timestamp when there is one, mapped through the -X software
 * clock when that is in use), hands them to the engine, and executes the actions that come
 * back through the seams: sends (server answers from the address the request came to,
 * batched with sendmmsg; requests from a fresh per-association socket, RFC 9109), clock
 * adjustments and steps, the drift file (through drift.h, whose policy decides when to
 * write), rate-limited log lines, socket closes. It keeps
 * the engine's timer armed in the loop and reports external clock steps to the engine
 * (noticed in its readings of the clock, or by a reading at most every 10 ms when a busy
 * server's loop makes none). Server requests take eng_serve instead of the action list
 * (docs/server.md, "The answer path").
 *
 * Also: `interface` lines filter packets by the local address they came to (ntpd's rule:
 * the last matching line decides; `all` matches neither wildcard nor loopback). A source
 * whose requests go unanswered is logged by the engine, not here.
 *
 * Owns: the association sockets (fewer than EXEC_MAX_CLIENT_SOCKETS open at once), the
 * server sockets handed to it, the engine's timer. Does not own the engine, the loop, the
 * clock or the configuration (borrowed; they must outlive it).
 */
#ifndef EXEC_H
#define EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "drift.h"
#include "eng.h"
#include "os_clock.h"
#include "os_net.h"
#include "sch.h"

#define EXEC_MAX_CLIENT_SOCKETS 10     /* + 2 server + 1 + 4 control (ctl.h): 17, under the
                                        * simulator's limit of 20 */

struct exec;

struct exec_params {
	struct eng *eng;
	struct sch *sch;
	struct os_clock *clock;
	struct os_net *net;         /* the kernel's sockets (when net_ops is NULL) */
	const struct os_net_ops *net_ops; /* NULL: the kernel's; else e.g. an in-memory network */
	const struct cfg *cfg;      /* interface lines */
	struct drift *drift;        /* ENG_ACT_DRIFT goes here (drift.h); NULL = no drift file */
};

struct exec_stats {
	uint64_t rx_packets, rx_kernel_ts, rx_truncated, rx_filtered, rx_errors;
	uint64_t tx_packets, tx_errors;
	uint64_t client_sockets_opened, client_socket_errors;
	uint64_t clock_adjustments, clock_steps, clock_errors, external_steps;
	uint64_t drift_updates;
	uint64_t tx_timestamps;
	uint64_t rx_refused;        /* ICMP port unreachable on a client socket (counted only;
	                             * the engine logs a silent source) */
};

struct exec *exec_new(const struct exec_params *p);
/* Closes every socket it owns (server sockets included). */
void exec_free(struct exec *x);

/* Take a server socket (assoc_id 0 traffic) into the loop. False if the loop is full. */
bool exec_add_server_fd(struct exec *x, int fd);

/* Read the disciplined clock and the monotonic clock. */
int exec_now(struct exec *x, struct eng_now *now);

/* Execute and clear the engine's pending actions, then re-arm the engine's timer. Call
 * after every engine event made outside exec (eng_add_source_addr at start). */
void exec_run_actions(struct exec *x);

/* Between loop iterations: tell the engine if the clock was stepped by someone else. */
void exec_check_external_step(struct exec *x);

/* True once the clock was set (a step, or an offset handed to the kernel): for -q. */
bool exec_clock_was_set(const struct exec *x);

const struct exec_stats *exec_stats(const struct exec *x);

/* Transmit timestamps of server answers (docs/server.md, "Transmit timestamps"). Answers
 * leave in sendmmsg calls of a few (exec.c's EXEC_TX_CHUNK), stamped before the call:
 * answer k of a call gets t0 + (k + ½) × c, where t0 is the clock read just before the call
 * and c the time one answer takes the kernel to send (on loopback this includes delivering
 * it), learnt from the calls made so far: a running average of each call's duration
 * divided by its answers that follows shorter calls fast (weight ¼) and longer ones slowly
 * (weight 1/EXEC_TX_COST_WEIGHT), since interruptions only ever lengthen a call; samples
 * above EXEC_TX_COST_MAX_NS per answer (the process was preempted) are left out. Exported
 * for tests/unit/test_exec_txstamp.c, which measures the stamps against the kernel's
 * software TX timestamps. */
#define EXEC_TX_COST_MAX_NS 20000  /* 20 µs per answer: beyond it, a preempted call */
#define EXEC_TX_COST_WEIGHT 16
struct exec_txcost {
	int64_t per_ns;             /* learnt cost of one answer, ns (0 until the first call) */
	uint64_t samples, outliers;
};
gn_time_ns exec_txcost_stamp(const struct exec_txcost *c, gn_time_ns t0, size_t k);
/* A call of n answers took from t0 (read before the stamps) to t1 (read after it). */
void exec_txcost_learn(struct exec_txcost *c, gn_time_ns t0, gn_time_ns t1, size_t n);

/* For tests: whether `interface` lines accept a packet to local (on interface ifname, may
 * be ""). */
bool exec_iface_accepts(const struct cfg *cfg, const struct gn_addr *local, const char *ifname);

#endif
