/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gn_addr: a transport address (IPv4 or IPv6, port) as the core sees it, without any
 * socket types, so the simulator and the daemon fill it the same way.
 */
#ifndef GN_ADDR_H
#define GN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GN_AF_NONE 0
#define GN_AF_INET 4
#define GN_AF_INET6 6

struct gn_addr {
	uint8_t family;         /* GN_AF_INET or GN_AF_INET6 */
	uint8_t addr[16];       /* network byte order; IPv4 in the first 4 octets */
	uint16_t port;          /* host byte order; 0 = none */
	uint32_t scope_id;      /* IPv6 link-local scope, else 0 */
};

/* Equal address and port (and scope). */
bool gn_addr_equal(const struct gn_addr *a, const struct gn_addr *b);
/* Equal address, any port. */
bool gn_addr_same_host(const struct gn_addr *a, const struct gn_addr *b);
/* Parse a numeric IPv4 or IPv6 address (no port, no brackets). */
bool gn_addr_parse(const char *text, uint16_t port, struct gn_addr *out);
/* "192.0.2.1" or "2001:db8::1" (no port), NUL-terminated in buf; returns buf. */
const char *gn_addr_str(const struct gn_addr *a, char *buf, size_t cap);
/* "192.0.2.1:123" or "[2001:db8::1]:123", NUL-terminated in buf (truncated to cap);
 * returns buf. For log lines. */
const char *gn_addr_port_str(const struct gn_addr *a, char *buf, size_t cap);
/* An IPv4 address as the 32-bit reference ID it would be (RFC 5905 §7.3). */
uint32_t gn_addr_ipv4_u32(const struct gn_addr *a);
/* True for 127.0.0.0/8 and ::1. */
bool gn_addr_is_loopback(const struct gn_addr *a);

#endif
