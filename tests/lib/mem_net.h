/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem_net: an in-memory UDP network behind the os_net_ops table and the loop's poll, so
 * the daemon's real packet path (exec.c) and loop (sch.c) run on simulated time against an
 * in-memory kernel clock (mem_kernel). Sockets are fake descriptors (≥ MEM_NET_FD_BASE);
 * a datagram reaches the socket bound to its destination (exact address, else a wildcard
 * socket when the destination is one of the host's own, i.e. loopback, addresses) after a
 * fixed one-way delay, stamped with the kernel's CLOCK_REALTIME at arrival; a
 * datagram to a connected socket's peer that nobody listens for sets ECONNREFUSED on the
 * sender, as ICMP port unreachable does. mem_net_poll reports ready fake descriptors and,
 * when none is, lets simulated time pass up to the timeout or the next arrival.
 */
#ifndef MEM_NET_H
#define MEM_NET_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem_kernel.h"
#include "os_net.h"

#define MEM_NET_FD_BASE 1000
#define MEM_NET_SOCKS 32
#define MEM_NET_QUEUE 64

struct mem_dgram {
	uint8_t buf[OS_NET_BUF];
	size_t len;
	struct gn_addr from, to;
	int64_t arrive_mono_ns;
	gn_time_ns arrive_real_ns;
};

struct mem_sock {
	bool used;
	struct gn_addr local;       /* all-zero address = wildcard */
	bool connected;
	struct gn_addr peer;
	struct mem_dgram q[MEM_NET_QUEUE];
	size_t head, n;
	int pending_err;            /* positive errno, reported once */
};

struct mem_net {
	struct mem_kernel *mk;      /* time */
	int64_t delay_ns;           /* one-way */
	struct mem_sock socks[MEM_NET_SOCKS];
	uint16_t next_port;
	uint64_t sent, delivered, refused, dropped;
	struct os_net_ops ops;      /* filled by mem_net_init, ctx = this */
};

void mem_net_init(struct mem_net *n, struct mem_kernel *mk, int64_t delay_ns);
/* A socket bound to local (port required; address may be all-zero for the wildcard). */
int mem_net_bind(struct mem_net *n, const struct gn_addr *local);
/* For sch_sys: poll over fake descriptors, advancing simulated time; and its clock. */
int mem_net_poll(void *ctx, struct pollfd *fds, size_t n, int timeout_ms);
int64_t mem_net_mono(void *ctx);

#endif
