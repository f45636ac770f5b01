/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * acl: the restrict table (ntpd's "Access Control Commands"), built once from the
 * configuration and looked up for every request.
 *
 * Semantics, as ntpd documents them:
 *  - `restrict default FLAGS` applies to every address of both families (`-4`/`-6` limit it
 *    to one); without any default line the default has no flags (everything allowed).
 *  - `restrict ADDR [mask M | /LEN] FLAGS`: the entry matches the addresses of that prefix;
 *    the most specific (longest prefix) matching entry alone decides, its flags are not
 *    combined with those of shorter ones.
 *  - The same address and prefix given twice: the flags add up (ntpd ORs them).
 *  - `ntpport` entries match only packets from source port 123 and, for the same prefix,
 *    are more specific than the entry without it.
 *  - An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches as the IPv4 address.
 *  - `restrict source` entries are templates for association addresses: the engine
 *    applies them; acl skips them.
 *
 * Lookup: entries are grouped by (family, prefix length, ntpport), groups ordered longest
 * prefix first; inside a group a binary search over the masked addresses. So a lookup costs
 * at most one binary search per distinct prefix length, with no allocation.
 *
 * Owns: the table. Does not own: what a flag means for a packet (srv decides).
 */
#ifndef ACL_H
#define ACL_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "gn_addr.h"

#define ACL_NTP_PORT 123 /* RFC 5905 §7.2: the NTP port, for `ntpport` */

struct acl;

/* Build from restrict lines (in file order). Returns NULL only if memory cannot be had. */
struct acl *acl_new(const struct cfg_restrict *lines, size_t n);
void acl_free(struct acl *acl);

/* The flags (enum cfg_res_flag) of the most specific entry matching `a` (its port matters
 * only for ntpport entries); 0 when nothing matches. */
uint32_t acl_match(const struct acl *acl, const struct gn_addr *a);

/* Number of distinct entries after merging duplicates (for tests and status). */
size_t acl_size(const struct acl *acl);

#endif
