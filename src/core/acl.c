/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * acl: the restrict table. Owns building the lookup structure from the configured lines
 * (merge duplicates, group by prefix length, sort) and the longest-prefix lookup. Does not
 * decide what a flag means for a packet: srv does.
 */
#include "acl.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gn_assert.h"

struct acl_entry {
	uint8_t addr[16];       /* masked to len */
	uint8_t family;         /* 4 or 6 */
	uint8_t len;            /* prefix length */
	bool ntpport;
	uint32_t flags;
};

/* A run of entries with the same family, prefix length and ntpport, sorted by address. */
struct acl_group {
	uint8_t family, len;
	bool ntpport;
	size_t start, count;
};

struct acl {
	struct acl_entry *e;
	size_t n;
	struct acl_group *g;    /* ordered: most specific first */
	size_t n_groups;
};

static size_t fam_octets(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static void mask_addr(uint8_t *out, const uint8_t *in, uint8_t family, uint8_t len)
{
	size_t octets = fam_octets(family);
	size_t whole = len / 8u < octets ? len / 8u : octets;
	memset(out, 0, 16);
	memcpy(out, in, whole);
	if (whole < octets && (len & 7u) != 0)
		out[whole] = (uint8_t)(in[whole] & (0xffu << (8u - (len & 7u))));
}

/* Order: family, longer prefix first, ntpport first, then address. */
static int cmp_entry(const void *pa, const void *pb)
{
	const struct acl_entry *a = pa, *b = pb;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->len != b->len)
		return a->len > b->len ? -1 : 1;
	if (a->ntpport != b->ntpport)
		return a->ntpport ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

static bool same_key(const struct acl_entry *a, const struct acl_entry *b)
{
	return a->family == b->family && a->len == b->len && a->ntpport == b->ntpport &&
	       memcmp(a->addr, b->addr, 16) == 0;
}

struct acl *acl_new(const struct cfg_restrict *lines, size_t n)
{
	REQUIRE(lines != NULL || n == 0);
	struct acl *acl = calloc(1, sizeof(*acl));
	if (acl == NULL)
		return NULL;
	/* A default line without -4/-6 becomes two entries. */
	acl->e = calloc(2 * n + 1, sizeof(*acl->e));
	acl->g = calloc(2 * n + 1, sizeof(*acl->g));
	if (acl->e == NULL || acl->g == NULL) {
		acl_free(acl);
		return NULL;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cfg_restrict *r = &lines[i];
		uint32_t flags = r->flags & ~(uint32_t)CFG_RES_NTPPORT;
		bool ntpport = (r->flags & CFG_RES_NTPPORT) != 0;
		if (r->match == CFG_RES_DEFAULT) {
			for (uint8_t fam = 4; fam <= 6; fam = (uint8_t)(fam + 2)) {
				if (r->family != 0 && r->family != fam)
					continue;
				struct acl_entry *e = &acl->e[m++];
				e->family = fam;
				e->len = 0;
				e->ntpport = ntpport;
				e->flags = flags;
			}
		} else if (r->match == CFG_RES_PREFIX) {
			uint8_t fam = r->prefix.family;
			if (fam != 4 && fam != 6)
				continue;       /* the parser never produces this */
			uint8_t len = r->prefix.prefix_len;
			uint8_t max = fam == 4 ? 32 : 128;
			if (len > max)
				len = max;
			struct acl_entry *e = &acl->e[m++];
			e->family = fam;
			e->len = len;
			e->ntpport = ntpport;
			e->flags = flags;
			mask_addr(e->addr, r->prefix.addr, fam, len);
		}
		/* CFG_RES_SOURCE: applied by the engine to association addresses. */
	}
	if (m > 0)
		qsort(acl->e, m, sizeof(*acl->e), cmp_entry);
	/* Merge duplicates: the flags add up, as in ntpd. */
	size_t w = 0;
	for (size_t i = 0; i < m; i++) {
		if (w > 0 && same_key(&acl->e[w - 1], &acl->e[i]))
			acl->e[w - 1].flags |= acl->e[i].flags;
		else
			acl->e[w++] = acl->e[i];
	}
	acl->n = w;
	for (size_t i = 0; i < w; i++) {
		struct acl_group *last = acl->n_groups ? &acl->g[acl->n_groups - 1] : NULL;
		const struct acl_entry *e = &acl->e[i];
		if (last && last->family == e->family && last->len == e->len &&
		    last->ntpport == e->ntpport) {
			last->count++;
			continue;
		}
		struct acl_group *g = &acl->g[acl->n_groups++];
		g->family = e->family;
		g->len = e->len;
		g->ntpport = e->ntpport;
		g->start = i;
		g->count = 1;
	}
	return acl;
}

void acl_free(struct acl *acl)
{
	if (acl == NULL)
		return;
	free(acl->e);
	free(acl->g);
	free(acl);
}

size_t acl_size(const struct acl *acl)
{
	return acl->n;
}

static const struct acl_entry *group_find(const struct acl *acl, const struct acl_group *g,
					  const uint8_t *key)
{
	size_t lo = g->start, hi = g->start + g->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(acl->e[mid].addr, key, 16);
		if (c == 0)
			return &acl->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint32_t acl_match(const struct acl *acl, const struct gn_addr *a)
{
	REQUIRE(acl != NULL && a != NULL);
	uint8_t family = a->family;
	const uint8_t *addr = a->addr;
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (family == GN_AF_INET6 && memcmp(addr, v4mapped, 12) == 0) {
		family = GN_AF_INET;
		addr = a->addr + 12;
	}
	if (family != GN_AF_INET && family != GN_AF_INET6)
		return 0;
	uint8_t key[16];
	int last_len = -1;
	for (size_t i = 0; i < acl->n_groups; i++) {
		const struct acl_group *g = &acl->g[i];
		if (g->family != family)
			continue;
		if (g->ntpport && a->port != ACL_NTP_PORT)
			continue;
		if (g->len == 0)
			return acl->e[g->start].flags; /* `default`: the group's one entry */
		if ((int)g->len != last_len) {
			mask_addr(key, addr, family, g->len);
			last_len = g->len;
		}
		const struct acl_entry *e = group_find(acl, g, key);
		if (e != NULL)
			return e->flags;
	}
	return 0;
}
