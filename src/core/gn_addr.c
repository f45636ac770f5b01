/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gn_addr: comparing, parsing and printing transport addresses. inet_pton/inet_ntop are
 * pure functions of their arguments (no system call), so they are allowed in the core.
 */
#include "gn_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static size_t addr_len(uint8_t family)
{
	return family == GN_AF_INET ? 4 : family == GN_AF_INET6 ? 16 : 0;
}

bool gn_addr_same_host(const struct gn_addr *a, const struct gn_addr *b)
{
	return a->family == b->family && a->family != GN_AF_NONE &&
	       memcmp(a->addr, b->addr, addr_len(a->family)) == 0 &&
	       (a->family != GN_AF_INET6 || a->scope_id == b->scope_id);
}

bool gn_addr_equal(const struct gn_addr *a, const struct gn_addr *b)
{
	return gn_addr_same_host(a, b) && a->port == b->port;
}

bool gn_addr_parse(const char *text, uint16_t port, struct gn_addr *out)
{
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, text, out->addr) == 1) {
		out->family = GN_AF_INET;
	} else if (inet_pton(AF_INET6, text, out->addr) == 1) {
		out->family = GN_AF_INET6;
	} else {
		return false;
	}
	out->port = port;
	return true;
}

const char *gn_addr_str(const struct gn_addr *a, char *buf, size_t cap)
{
	if (cap == 0)
		return buf;
	buf[0] = '\0';
	if (a->family == GN_AF_INET)
		inet_ntop(AF_INET, a->addr, buf, (socklen_t)cap);
	else if (a->family == GN_AF_INET6)
		inet_ntop(AF_INET6, a->addr, buf, (socklen_t)cap);
	return buf;
}

const char *gn_addr_port_str(const struct gn_addr *a, char *buf, size_t cap)
{
	char h[64];
	gn_addr_str(a, h, sizeof h);
	if (a->family == GN_AF_INET6)
		snprintf(buf, cap, "[%s]:%u", h, (unsigned)a->port);
	else
		snprintf(buf, cap, "%s:%u", h, (unsigned)a->port);
	return buf;
}

uint32_t gn_addr_ipv4_u32(const struct gn_addr *a)
{
	return (uint32_t)a->addr[0] << 24 | (uint32_t)a->addr[1] << 16 |
	       (uint32_t)a->addr[2] << 8 | a->addr[3];
}

bool gn_addr_is_loopback(const struct gn_addr *a)
{
	static const uint8_t v6_loop[16] = { [15] = 1 };
	if (a->family == GN_AF_INET)
		return a->addr[0] == 127;
	if (a->family == GN_AF_INET6)
		return memcmp(a->addr, v6_loop, 16) == 0;
	return false;
}
