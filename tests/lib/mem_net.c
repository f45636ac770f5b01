/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem_net: in-memory UDP network on simulated time (see mem_net.h).
 */
#include "mem_net.h"

#include <errno.h>
#include <string.h>

static struct mem_sock *sock_of(struct mem_net *n, int fd)
{
	int i = fd - MEM_NET_FD_BASE;
	if (i < 0 || i >= MEM_NET_SOCKS || !n->socks[i].used)
		return NULL;
	return &n->socks[i];
}

static bool is_wild(const struct gn_addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->addr, zero, 16) == 0;
}

static int alloc_sock(struct mem_net *n, const struct gn_addr *local)
{
	for (int i = 0; i < MEM_NET_SOCKS; i++) {
		if (!n->socks[i].used) {
			memset(&n->socks[i], 0, sizeof n->socks[i]);
			n->socks[i].used = true;
			n->socks[i].local = *local;
			return MEM_NET_FD_BASE + i;
		}
	}
	return -EMFILE;
}

int mem_net_bind(struct mem_net *n, const struct gn_addr *local)
{
	return alloc_sock(n, local);
}

static int m_open_client(void *ctx, const struct gn_addr *to)
{
	struct mem_net *n = ctx;
	struct gn_addr local = { .family = to->family, .port = n->next_port++ };
	if (to->family == GN_AF_INET) {
		local.addr[0] = 127; local.addr[3] = 1;  /* the source the kernel would pick */
	} else {
		local.addr[15] = 1;
	}
	if (n->next_port < 32768)
		n->next_port = 32768;
	int fd = alloc_sock(n, &local);
	if (fd >= 0) {
		struct mem_sock *s = sock_of(n, fd);
		s->connected = true;
		s->peer = *to;
	}
	return fd;
}

static void m_close(void *ctx, int fd)
{
	struct mem_sock *s = sock_of(ctx, fd);
	if (s)
		s->used = false;
}

static struct mem_sock *find_dest(struct mem_net *n, const struct gn_addr *to)
{
	struct mem_sock *wild = NULL;
	for (int i = 0; i < MEM_NET_SOCKS; i++) {
		struct mem_sock *s = &n->socks[i];
		if (!s->used || s->local.family != to->family || s->local.port != to->port)
			continue;
		if (gn_addr_same_host(&s->local, to))
			return s;
		if (is_wild(&s->local) && gn_addr_is_loopback(to))
			wild = s; /* the host's own addresses are its loopback ones */
	}
	return wild;
}

static int m_send(void *ctx, int fd, const struct os_net_tx *tx, size_t cnt, bool connected)
{
	struct mem_net *n = ctx;
	struct mem_sock *s = sock_of(n, fd);
	if (!s)
		return -EBADF;
	size_t sent = 0;
	for (size_t i = 0; i < cnt; i++) {
		struct gn_addr to = connected ? s->peer : tx[i].to;
		struct gn_addr from = s->local;
		if (is_wild(&from)) {
			if (tx[i].local.family == to.family)
				memcpy(from.addr, tx[i].local.addr, 16);
			else if (to.family == GN_AF_INET)
				from.addr[0] = 127, from.addr[3] = 1;
			else
				from.addr[15] = 1;
		}
		n->sent++;
		sent++;
		struct mem_sock *d = find_dest(n, &to);
		if (!d || (d->connected && !gn_addr_equal(&d->peer, &from))) {
			if (connected) {
				s->pending_err = ECONNREFUSED;
				n->refused++;
			}
			continue;
		}
		if (d->n == MEM_NET_QUEUE) {
			n->dropped++;
			continue;
		}
		struct mem_dgram *g = &d->q[(d->head + d->n++) % MEM_NET_QUEUE];
		g->len = tx[i].len < OS_NET_BUF ? tx[i].len : OS_NET_BUF;
		memcpy(g->buf, tx[i].buf, g->len);
		g->from = from;
		g->to = to;
		g->arrive_mono_ns = mem_kernel_mono(n->mk) + n->delay_ns;
		g->arrive_real_ns = mem_kernel_realtime(n->mk) + n->delay_ns;
	}
	return (int)sent;
}

static bool arrived(struct mem_net *n, const struct mem_sock *s)
{
	return s->n > 0 && s->q[s->head].arrive_mono_ns <= mem_kernel_mono(n->mk);
}

static int m_recv(void *ctx, int fd, struct os_net_rx *rx, size_t cnt)
{
	struct mem_net *n = ctx;
	struct mem_sock *s = sock_of(n, fd);
	if (!s)
		return -EBADF;
	if (s->pending_err) {
		int e = s->pending_err;
		s->pending_err = 0;
		return -e;
	}
	size_t got = 0;
	while (got < cnt && arrived(n, s)) {
		struct mem_dgram *g = &s->q[s->head];
		s->head = (s->head + 1) % MEM_NET_QUEUE;
		s->n--;
		struct os_net_rx *r = &rx[got++];
		memcpy(r->buf, g->buf, g->len);
		r->len = g->len;
		r->truncated = false;
		r->from = g->from;
		r->local = g->to;
		r->local.port = 0;
		r->ifindex = 1;
		r->have_kernel_ts = true;
		r->kernel_ts_ns = g->arrive_real_ns;
		n->delivered++;
	}
	return (int)got;
}

static int m_errqueue(void *ctx, int fd, gn_time_ns *ts)
{
	struct mem_sock *s = sock_of(ctx, fd);
	(void)ts;
	if (!s)
		return -EBADF;
	if (s->pending_err) {
		int e = s->pending_err;
		s->pending_err = 0;
		return -e;
	}
	return 0; /* no TX timestamps in this network */
}

static int m_local_addr(void *ctx, int fd, struct gn_addr *out)
{
	struct mem_sock *s = sock_of(ctx, fd);
	if (!s)
		return -EBADF;
	*out = s->local;
	return 0;
}

void mem_net_init(struct mem_net *n, struct mem_kernel *mk, int64_t delay_ns)
{
	memset(n, 0, sizeof *n);
	n->mk = mk;
	n->delay_ns = delay_ns;
	n->next_port = 40000;
	n->ops = (struct os_net_ops){
		.open_client = m_open_client, .close = m_close, .recv = m_recv, .send = m_send,
		.read_errqueue = m_errqueue, .local_addr = m_local_addr, .ctx = n,
	};
}

static int ready(struct mem_net *n, struct pollfd *fds, size_t cnt)
{
	int r = 0;
	for (size_t i = 0; i < cnt; i++) {
		struct mem_sock *s = sock_of(n, fds[i].fd);
		fds[i].revents = 0;
		if (!s)
			continue;
		if ((fds[i].events & POLLIN) && arrived(n, s))
			fds[i].revents |= POLLIN;
		if (s->pending_err)
			fds[i].revents |= POLLERR;
		r += fds[i].revents != 0;
	}
	return r;
}

int mem_net_poll(void *ctx, struct pollfd *fds, size_t cnt, int timeout_ms)
{
	struct mem_net *n = ctx;
	int r = ready(n, fds, cnt);
	if (r > 0 || timeout_ms == 0)
		return r;
	/* Nothing ready: let time pass to the timeout or the first arrival, whichever is first. */
	int64_t now = mem_kernel_mono(n->mk);
	int64_t until = now + (int64_t)timeout_ms * 1000000;
	for (size_t i = 0; i < cnt; i++) {
		struct mem_sock *s = sock_of(n, fds[i].fd);
		if (s && s->n > 0 && s->q[s->head].arrive_mono_ns < until)
			until = s->q[s->head].arrive_mono_ns;
	}
	if (until > now)
		mem_kernel_advance(n->mk, until - now);
	/* The kernel clock may run slightly slow: never stop short of an arrival. */
	while (mem_kernel_mono(n->mk) < until)
		mem_kernel_advance(n->mk, until - mem_kernel_mono(n->mk));
	return ready(n, fds, cnt);
}

int64_t mem_net_mono(void *ctx)
{
	return mem_kernel_mono(((struct mem_net *)ctx)->mk);
}
