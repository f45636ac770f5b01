/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * os_net: UDP sockets for NTP. Owns socket(2), bind, connect, the socket options
 * (IP_PKTINFO/IPV6_RECVPKTINFO, SO_TIMESTAMPING with SO_TIMESTAMPNS as fallback, receive
 * buffer sizes), batch receive with recvmmsg (recvmsg fallback), send with sendmmsg
 * (sendmsg fallback, as the simulator of docs/architecture.md wants), the error queue (TX
 * timestamps), and the conversion between struct gn_addr and sockaddrs.
 *
 * Server sockets are bound to the wildcard address with packet info, so every answer leaves
 * from the address its request came to and addresses added after start work at once.
 * Client sockets (one per association, RFC 9109) get a random ephemeral port from the
 * kernel and are connected to the server.
 *
 * Sockets are created with the type alone and made non-blocking with fcntl, as the
 * simulator requires. Functions return -errno on failure.
 *
 * Does not own: which sockets exist (the daemon), what the packets mean (the core).
 */
#ifndef OS_NET_H
#define OS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gn_addr.h"
#include "ntp_time.h"

#define OS_NET_BATCH 16          /* datagrams per recvmmsg/sendmmsg call */
#define OS_NET_BUF 2048          /* receive buffer per datagram; larger is truncated */
#define OS_NET_RCVBUF_BYTES (4 * 1024 * 1024) /* server receive buffer for bursts */

#define OS_NET_RXHDR_BYTES 8192 /* os_net_recv's headers (net_linux.c checks the size) */

/* Which kernel features worked, and os_net_recv's message headers (set up once for a
 * receive array, then only their lengths are reset: the per-datagram cost of receiving);
 * one per daemon (or test), not global. Zero-initialise; may be copied (a copy sets its
 * headers up again), needs no clean-up. */
struct os_net {
	bool no_sendmmsg;        /* sendmmsg failed once: use sendmsg from then on */
	bool no_recvmmsg;
	const void *rx_self;     /* private to net_linux.c */
	const void *rx_bound;
	size_t rx_n;
	size_t rx_dirty;
	_Alignas(16) unsigned char rx_hdrs[OS_NET_RXHDR_BYTES];
};

struct os_net_rx {
	uint8_t buf[OS_NET_BUF];
	size_t len;
	bool truncated;
	struct gn_addr from;
	struct gn_addr local;    /* destination address (IP_PKTINFO); family 0 if unknown */
	int ifindex;
	bool have_kernel_ts;
	gn_time_ns kernel_ts_ns; /* CLOCK_REALTIME when the kernel received it */
};

struct os_net_tx {
	const uint8_t *buf;
	size_t len;
	struct gn_addr to;       /* ignored on connected sockets */
	struct gn_addr local;    /* source address to use (family 0: let the kernel choose) */
	int ifindex;
};

/* Open a server socket for family (GN_AF_INET or GN_AF_INET6) bound to the wildcard and
 * port. rcvbuf_bytes: the receive buffer wanted; *rcvbuf_forced is set true if
 * SO_RCVBUFFORCE worked, false if it fell back to SO_RCVBUF (caller warns). */
int os_net_open_server(int family, uint16_t port, int rcvbuf_bytes, bool *rcvbuf_forced);
/* Open a client socket connected to `to`, with RX and (where the kernel has it) TX
 * software timestamps. */
int os_net_open_client(const struct gn_addr *to);
void os_net_close(int fd);

/* Receive up to n datagrams without blocking. Returns how many (0 = none waiting), or
 * -errno (e.g. -ECONNREFUSED after an ICMP port unreachable on a client socket). */
int os_net_recv(struct os_net *net, int fd, struct os_net_rx *rx, size_t n);
/* Send n datagrams; returns how many were sent, or -errno if none was. connected: the
 * socket is connected (no destination address is passed). */
int os_net_send(struct os_net *net, int fd, const struct os_net_tx *tx, size_t n, bool connected);
/* Read one TX timestamp from the error queue: 1 and *ts_ns set, 0 when the queue is empty,
 * -errno on error. Also clears a pending socket error (ICMP). */
int os_net_read_errqueue(int fd, gn_time_ns *ts_ns);
/* The local address and port a socket is bound to. */
int os_net_local_addr(int fd, struct gn_addr *out);

/* The calls the daemon's packet path (exec.c) makes on its sockets, as a table so tests and
 * simulators can put an in-memory network underneath (tests/lib/mem_net). ctx is handed
 * back to every call. */
struct os_net_ops {
	int (*open_client)(void *ctx, const struct gn_addr *to);
	void (*close)(void *ctx, int fd);
	int (*recv)(void *ctx, int fd, struct os_net_rx *rx, size_t n);
	int (*send)(void *ctx, int fd, const struct os_net_tx *tx, size_t n, bool connected);
	int (*read_errqueue)(void *ctx, int fd, gn_time_ns *ts_ns);
	int (*local_addr)(void *ctx, int fd, struct gn_addr *out);
	void *ctx;
};
/* The table of the functions above, with net as the context. */
struct os_net_ops os_net_linux_ops(struct os_net *net);

/* Conversions. os_net_to_sockaddr writes only the first (returned length) octets of *ss
 * (0 and all of it zeroed for an address of no family). */
socklen_t os_net_to_sockaddr(const struct gn_addr *a, struct sockaddr_storage *ss);
bool os_net_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct gn_addr *out);
/* The addresses of the local interfaces (getifaddrs), at most cap of them, in the kernel's
 * order, port 0. Returns how many, or -errno. */
int os_net_local_addrs(struct gn_addr *out, size_t cap);
/* The name of an interface index ("" if unknown). */
void os_net_ifname(int ifindex, char *buf, size_t cap);

/* Numeric resolution through getaddrinfo (AI_NUMERICHOST): false if text is not a numeric
 * address. Names come with c-ares in a later issue. */
bool os_net_resolve_numeric(const char *text, uint16_t port, int family, struct gn_addr *out);

#endif
