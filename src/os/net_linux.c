/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * net_linux: UDP sockets with packet info and kernel timestamps (see os_net.h). Kernel
 * interfaces used: IP_PKTINFO and IPV6_RECVPKTINFO (ip(7), ipv6(7)); SO_TIMESTAMPING with
 * software RX/TX stamps, TX stamps returned on MSG_ERRQUEUE with OPT_TSONLY
 * (Documentation/networking/timestamping.rst); SO_TIMESTAMPNS as the fallback; recvmmsg and
 * sendmmsg (recvmmsg(2), sendmmsg(2)).
 */
#include "os_net.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/net_tstamp.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CTRL_LEN 256

/* Layout of the SCM_TIMESTAMPING control message (struct scm_timestamping in
 * linux/errqueue.h): ts[0] software, ts[2] hardware. */
struct ts3 {
	struct timespec ts[3];
};

/* Only the part of *ss that the returned length covers is written (the send path builds one
 * per answer); an unknown family gets all of it zeroed and length 0. */
socklen_t os_net_to_sockaddr(const struct gn_addr *a, struct sockaddr_storage *ss)
{
	if (a->family == GN_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		memset(s4, 0, sizeof *s4);
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->addr, 4);
		return sizeof *s4;
	}
	if (a->family == GN_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		memset(s6, 0, sizeof *s6);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		memcpy(&s6->sin6_addr, a->addr, 16);
		s6->sin6_scope_id = a->scope_id;
		return sizeof *s6;
	}
	memset(ss, 0, sizeof *ss);
	return 0;
}

bool os_net_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct gn_addr *out)
{
	memset(out, 0, sizeof *out);
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		out->family = GN_AF_INET;
		memcpy(out->addr, &s4->sin_addr, 4);
		out->port = ntohs(s4->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		out->family = GN_AF_INET6;
		memcpy(out->addr, &s6->sin6_addr, 16);
		out->port = ntohs(s6->sin6_port);
		out->scope_id = s6->sin6_scope_id;
		return true;
	}
	return false;
}

static int set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

static int set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof v) == 0 ? 0 : -errno;
}

/* Software RX stamps (and TX where asked), or SO_TIMESTAMPNS where SO_TIMESTAMPING is
 * refused. Failing both is no error: the caller reads the clock on receipt instead. */
static void enable_timestamps(int fd, bool tx)
{
	int rx_flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
	if (tx && set_int(fd, SOL_SOCKET, SO_TIMESTAMPING,
			  rx_flags | SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY) == 0)
		return;
	if (set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, rx_flags) == 0)
		return;
	(void)set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
}

static int new_udp(int family)
{
	int af = family == GN_AF_INET6 ? AF_INET6 : AF_INET;
	int fd = socket(af, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	int r = set_nonblock_cloexec(fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int os_net_open_server(int family, uint16_t port, int rcvbuf_bytes, bool *rcvbuf_forced)
{
	int fd = new_udp(family), r;
	if (fd < 0)
		return fd;
	if (family == GN_AF_INET6) {
		if ((r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)) < 0 ||
		    (r = set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)) < 0)
			goto fail;
	} else if ((r = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1)) < 0) {
		goto fail;
	}
	if (rcvbuf_forced)
		*rcvbuf_forced = true;
	if (rcvbuf_bytes > 0 && set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf_bytes) < 0) {
		/* SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is capped by rmem_max. */
		if (rcvbuf_forced)
			*rcvbuf_forced = false;
		(void)set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf_bytes);
	}
	/* Answers leave with DF set and the path MTU ignored (IP_PMTUDISC_PROBE): a spoofed
	 * ICMP "fragmentation needed" cannot make us fragment an answer, the lever of the
	 * off-path fragment-injection attacks on NTP clients (Malhotra et al., "Attacking the
	 * Network Time Protocol", NDSS 2016); and an IPv4 datagram with DF carries ID 0
	 * (RFC 6864 §4.1: atomic datagrams), which spares the kernel its shared IP ID
	 * generator, about 8 % of its work per answer on an unconnected socket. Best effort:
	 * a kernel without it sends as before. */
	if (family == GN_AF_INET6)
		(void)set_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE);
	else
		(void)set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
	enable_timestamps(fd, false);
	struct gn_addr any = { .family = (uint8_t)family, .port = port };
	struct sockaddr_storage ss;
	socklen_t sl = os_net_to_sockaddr(&any, &ss);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		r = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

int os_net_open_client(const struct gn_addr *to)
{
	int fd = new_udp(to->family);
	if (fd < 0)
		return fd;
	enable_timestamps(fd, true);
	struct sockaddr_storage ss;
	socklen_t sl = os_net_to_sockaddr(to, &ss);
	/* connect() picks a random ephemeral port (RFC 9109 §3) and filters other senders. */
	if (sl == 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		int r = sl == 0 ? -EAFNOSUPPORT : -errno;
		close(fd);
		return r;
	}
	return fd;
}

void os_net_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

int os_net_local_addr(int fd, struct gn_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	return os_net_from_sockaddr((struct sockaddr *)&ss, sl, out) ? 0 : -EAFNOSUPPORT;
}

static void parse_cmsgs(struct msghdr *mh, struct os_net_rx *rx)
{
	rx->local.family = GN_AF_NONE;
	rx->ifindex = 0;
	rx->have_kernel_ts = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			memset(&rx->local, 0, sizeof rx->local);
			rx->local.family = GN_AF_INET;
			memcpy(rx->local.addr, &pi.ipi_addr, 4);
			rx->ifindex = pi.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			memset(&rx->local, 0, sizeof rx->local);
			rx->local.family = GN_AF_INET6;
			memcpy(rx->local.addr, &pi.ipi6_addr, 16);
			rx->ifindex = (int)pi.ipi6_ifindex;
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct ts3))) {
			struct ts3 t;
			memcpy(&t, CMSG_DATA(c), sizeof t);
			if (t.ts[0].tv_sec != 0 || t.ts[0].tv_nsec != 0) {
				rx->have_kernel_ts = true;
				rx->kernel_ts_ns = gn_timespec_to_ns(&t.ts[0]);
			}
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct timespec)) && !rx->have_kernel_ts) {
			struct timespec t;
			memcpy(&t, CMSG_DATA(c), sizeof t);
			rx->have_kernel_ts = true;
			rx->kernel_ts_ns = gn_timespec_to_ns(&t);
		}
	}
}

static void finish_rx(struct os_net_rx *rx, struct msghdr *mh, size_t len, socklen_t namelen)
{
	rx->len = len > OS_NET_BUF ? OS_NET_BUF : len;
	rx->truncated = (mh->msg_flags & MSG_TRUNC) != 0;
	if (!os_net_from_sockaddr(mh->msg_name, namelen, &rx->from))
		memset(&rx->from, 0, sizeof rx->from);
	parse_cmsgs(mh, rx);
	if (rx->local.family == GN_AF_INET6 && rx->from.scope_id != 0)
		rx->local.scope_id = rx->from.scope_id;
}

/* recvmmsg's headers, kept in struct os_net between calls. Names are IPv6-sized (the
 * largest family we open); a control buffer has room for packet info and a timestamp. */
struct rx_hdrs {
	struct mmsghdr mm[OS_NET_BATCH];
	struct iovec iov[OS_NET_BATCH];
	struct sockaddr_in6 names[OS_NET_BATCH];
	union {
		char buf[CTRL_LEN];
		struct cmsghdr align;
	} ctrl[OS_NET_BATCH];
};
_Static_assert(sizeof(struct rx_hdrs) <= OS_NET_RXHDR_BYTES, "OS_NET_RXHDR_BYTES too small");

/* The headers for receiving n datagrams into rx: set up in full when rx, n or the
 * struct's address changed; else only what the kernel wrote back (lengths and flags of the
 * headers the previous call filled) is reset. */
static struct mmsghdr *rx_headers(struct os_net *net, struct os_net_rx *rx, size_t n)
{
	struct rx_hdrs *h = (struct rx_hdrs *)(void *)net->rx_hdrs;
	if (net->rx_self != net || net->rx_bound != rx || net->rx_n < n) {
		memset(h->mm, 0, sizeof h->mm[0] * n);
		for (size_t i = 0; i < n; i++) {
			h->iov[i].iov_base = rx[i].buf;
			h->iov[i].iov_len = sizeof rx[i].buf;
			h->mm[i].msg_hdr.msg_iov = &h->iov[i];
			h->mm[i].msg_hdr.msg_iovlen = 1;
			h->mm[i].msg_hdr.msg_name = &h->names[i];
			h->mm[i].msg_hdr.msg_control = h->ctrl[i].buf;
		}
		net->rx_self = net;
		net->rx_bound = rx;
		net->rx_n = n;
		net->rx_dirty = n;
	}
	for (size_t i = 0; i < net->rx_dirty; i++) { /* rx_dirty ≤ rx_n: all set up */
		h->mm[i].msg_hdr.msg_namelen = sizeof h->names[i];
		h->mm[i].msg_hdr.msg_controllen = sizeof h->ctrl[i].buf;
		h->mm[i].msg_hdr.msg_flags = 0;
	}
	return h->mm;
}

int os_net_recv(struct os_net *net, int fd, struct os_net_rx *rx, size_t n)
{
	if (n > OS_NET_BATCH)
		n = OS_NET_BATCH;
	struct mmsghdr *mm = rx_headers(net, rx, n);
	if (!net->no_recvmmsg) {
		int got = recvmmsg(fd, mm, (unsigned)n, MSG_DONTWAIT, NULL);
		net->rx_dirty = got >= 0 ? (size_t)got : n; /* after an error: reset them all */
		if (got >= 0) {
			for (int i = 0; i < got; i++)
				finish_rx(&rx[i], &mm[i].msg_hdr, mm[i].msg_len, mm[i].msg_hdr.msg_namelen);
			return got;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno != ENOSYS)
			return -errno;
		net->no_recvmmsg = true;
	}
	size_t got = 0;
	while (got < n) {
		net->rx_dirty = got + 1;
		ssize_t r = recvmsg(fd, &mm[got].msg_hdr, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || got > 0)
				break;
			return -errno;
		}
		finish_rx(&rx[got], &mm[got].msg_hdr, (size_t)r, mm[got].msg_hdr.msg_namelen);
		got++;
	}
	return (int)got;
}

_Static_assert(CMSG_SPACE(sizeof(struct in6_pktinfo)) <= CTRL_LEN &&
	       CMSG_SPACE(sizeof(struct in_pktinfo)) <= CTRL_LEN, "CTRL_LEN too small");

/* Build the msghdr for one datagram; the source address goes in a PKTINFO cmsg. */
static void build_tx(const struct os_net_tx *tx, bool connected, struct msghdr *mh,
		     struct iovec *iov, struct sockaddr_storage *name, char *ctrl, size_t ctrl_cap)
{
	(void)ctrl_cap; /* CTRL_LEN, large enough for either packet info (asserted above) */
	memset(mh, 0, sizeof *mh);
	iov->iov_base = (void *)(uintptr_t)tx->buf;
	iov->iov_len = tx->len;
	mh->msg_iov = iov;
	mh->msg_iovlen = 1;
	if (connected)
		return;
	mh->msg_name = name;
	mh->msg_namelen = os_net_to_sockaddr(&tx->to, name);
	if (tx->local.family == GN_AF_INET && tx->to.family == GN_AF_INET) {
		struct in_pktinfo pi;
		memset(&pi, 0, sizeof pi);
		memcpy(&pi.ipi_spec_dst, tx->local.addr, 4);
		memset(ctrl, 0, CMSG_SPACE(sizeof pi)); /* ≤ ctrl_cap */
		mh->msg_control = ctrl;
		mh->msg_controllen = CMSG_SPACE(sizeof pi);
		struct cmsghdr *c = CMSG_FIRSTHDR(mh);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof pi);
		memcpy(CMSG_DATA(c), &pi, sizeof pi);
	} else if (tx->local.family == GN_AF_INET6 && tx->to.family == GN_AF_INET6) {
		struct in6_pktinfo pi;
		memset(&pi, 0, sizeof pi);
		memcpy(&pi.ipi6_addr, tx->local.addr, 16);
		/* The interface matters for link-local addresses only. */
		if (tx->local.addr[0] == 0xfe && (tx->local.addr[1] & 0xc0) == 0x80)
			pi.ipi6_ifindex = (unsigned)tx->ifindex;
		memset(ctrl, 0, CMSG_SPACE(sizeof pi)); /* ≤ ctrl_cap */
		mh->msg_control = ctrl;
		mh->msg_controllen = CMSG_SPACE(sizeof pi);
		struct cmsghdr *c = CMSG_FIRSTHDR(mh);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof pi);
		memcpy(CMSG_DATA(c), &pi, sizeof pi);
	}
}

int os_net_send(struct os_net *net, int fd, const struct os_net_tx *tx, size_t n, bool connected)
{
	struct mmsghdr mm[OS_NET_BATCH];
	struct iovec iov[OS_NET_BATCH];
	struct sockaddr_storage names[OS_NET_BATCH];
	union {
		char buf[CTRL_LEN];
		struct cmsghdr align;
	} ctrl[OS_NET_BATCH];
	if (n > OS_NET_BATCH)
		n = OS_NET_BATCH;
	if (n == 0)
		return 0;
	memset(mm, 0, sizeof mm[0] * n);
	for (size_t i = 0; i < n; i++)
		build_tx(&tx[i], connected, &mm[i].msg_hdr, &iov[i], &names[i], ctrl[i].buf,
			 sizeof ctrl[i].buf);
	size_t done = 0;
	bool mmsg_failed = false;
	if (!net->no_sendmmsg) {
		int r = sendmmsg(fd, mm, (unsigned)n, MSG_DONTWAIT);
		if (r >= 0)
			done = (size_t)r;
		else
			mmsg_failed = true;
		if (done == n)
			return (int)done;
	}
	/* sendmmsg is not everywhere (the LD_PRELOAD simulator does not intercept it): send
	 * the rest one by one, which also gives the error of the one that failed. */
	int first_err = 0;
	size_t sent = done;
	for (size_t i = done; i < n; i++) {
		if (sendmsg(fd, &mm[i].msg_hdr, MSG_DONTWAIT) >= 0) {
			sent++;
			if (mmsg_failed)
				net->no_sendmmsg = true;
		} else if (first_err == 0) {
			first_err = errno;
		}
	}
	if (sent == 0 && first_err != 0)
		return -first_err;
	return (int)sent;
}

int os_net_read_errqueue(int fd, gn_time_ns *ts_ns)
{
	char data[64];
	union {
		char buf[CTRL_LEN];
		struct cmsghdr align;
	} ctrl;
	/* A queued error without a stamp (e.g. ICMP with IP_RECVERR) is skipped; bounded. */
	for (int tries = 0; tries < 8; tries++) {
		struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
		struct msghdr mh;
		memset(&mh, 0, sizeof mh);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctrl.buf;
		mh.msg_controllen = sizeof ctrl.buf;
		if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			int e = errno;
			int soerr = 0;
			socklen_t sl = sizeof soerr;
			/* Clear an asynchronous error (ICMP unreachable) so poll stops reporting it. */
			(void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			if (e == EAGAIN || e == EWOULDBLOCK)
				return soerr ? -soerr : 0;
			return -e;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
			    c->cmsg_len >= CMSG_LEN(sizeof(struct ts3))) {
				struct ts3 t;
				memcpy(&t, CMSG_DATA(c), sizeof t);
				if (t.ts[0].tv_sec != 0 || t.ts[0].tv_nsec != 0) {
					*ts_ns = gn_timespec_to_ns(&t.ts[0]);
					return 1;
				}
			}
		}
	}
	return 0;
}

int os_net_local_addrs(struct gn_addr *out, size_t cap)
{
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	size_t n = 0;
	for (struct ifaddrs *i = ifa; i && n < cap; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		socklen_t sl = i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
			     : i->ifa_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : 0;
		if (sl && os_net_from_sockaddr(i->ifa_addr, sl, &out[n]))
			out[n++].port = 0;
	}
	freeifaddrs(ifa);
	return (int)n;
}

void os_net_ifname(int ifindex, char *buf, size_t cap)
{
	char name[IF_NAMESIZE];
	if (cap == 0)
		return;
	buf[0] = '\0';
	if (ifindex > 0 && if_indextoname((unsigned)ifindex, name))
		snprintf(buf, cap, "%s", name);
}

bool os_net_resolve_numeric(const char *text, uint16_t port, int family, struct gn_addr *out)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(text, NULL, &hints, &res) != 0 || !res)
		return false;
	bool ok = os_net_from_sockaddr(res->ai_addr, res->ai_addrlen, out);
	freeaddrinfo(res);
	if (ok)
		out->port = port;
	return ok;
}

static int l_open_client(void *ctx, const struct gn_addr *to)
{
	(void)ctx;
	return os_net_open_client(to);
}

static void l_close(void *ctx, int fd)
{
	(void)ctx;
	os_net_close(fd);
}

static int l_recv(void *ctx, int fd, struct os_net_rx *rx, size_t n)
{
	return os_net_recv(ctx, fd, rx, n);
}

static int l_send(void *ctx, int fd, const struct os_net_tx *tx, size_t n, bool connected)
{
	return os_net_send(ctx, fd, tx, n, connected);
}

static int l_errqueue(void *ctx, int fd, gn_time_ns *ts_ns)
{
	(void)ctx;
	return os_net_read_errqueue(fd, ts_ns);
}

static int l_local_addr(void *ctx, int fd, struct gn_addr *out)
{
	(void)ctx;
	return os_net_local_addr(fd, out);
}

struct os_net_ops os_net_linux_ops(struct os_net *net)
{
	struct os_net_ops ops = {
		.open_client = l_open_client, .close = l_close, .recv = l_recv, .send = l_send,
		.read_errqueue = l_errqueue, .local_addr = l_local_addr, .ctx = net,
	};
	return ops;
}
