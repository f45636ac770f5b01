/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_acl: the restrict table, table-driven from ntpd's documentation ("Access Control
 * Commands and Options"): the default entry, address with mask or prefix, the most
 * specific match alone decides, flags of repeated entries add up, ntpport, IPv6 and
 * IPv4-mapped addresses, `restrict source` left to the engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acl.h"
#include "cfg.h"
#include "gn_addr.h"

/* A restrict line in a compact text form: "default", "-4 default", "-6 default",
 * "source", or "ADDR/LEN" (LEN optional: host). */
struct line {
	const char *what;
	uint32_t flags;
};

struct probe {
	const char *addr;
	uint16_t port;
	uint32_t want;
};

struct table {
	const char *name;
	struct line lines[8];
	struct probe probes[12];
};

#define IGN CFG_RES_IGNORE
#define NOSERVE CFG_RES_NOSERVE
#define NOQUERY CFG_RES_NOQUERY
#define NOMODIFY CFG_RES_NOMODIFY
#define NOPEER CFG_RES_NOPEER
#define NOTRAP CFG_RES_NOTRAP
#define LIMITED CFG_RES_LIMITED
#define KOD CFG_RES_KOD
#define NTPPORT CFG_RES_NTPPORT

static const struct table tables[] = {
	{ "no restrict lines: everything allowed", { { NULL, 0 } },
	  { { "192.0.2.1", 1234, 0 }, { "2001:db8::1", 1234, 0 }, { NULL, 0, 0 } } },

	{ "default applies to both families; a host line lifts it",
	  { { "default", IGN }, { "127.0.0.1", 0 }, { "::1", 0 }, { NULL, 0 } },
	  { { "127.0.0.1", 5000, 0 }, { "127.0.0.2", 5000, IGN }, { "::1", 5000, 0 },
	    { "2001:db8::1", 5000, IGN }, { "10.1.2.3", 123, IGN }, { NULL, 0, 0 } } },

	{ "-4 default and -6 default are separate",
	  { { "-4 default", NOQUERY }, { "-6 default", NOSERVE }, { NULL, 0 } },
	  { { "198.51.100.7", 40000, NOQUERY }, { "2001:db8::7", 40000, NOSERVE }, { NULL, 0, 0 } } },

	{ "most specific match wins, flags are not inherited",
	  { { "default", KOD | LIMITED | NOMODIFY }, { "192.168.0.0/16", NOQUERY },
	    { "192.168.1.0/24", IGN }, { "192.168.1.7", 0 }, { NULL, 0 } },
	  { { "192.168.1.7", 1, 0 }, { "192.168.1.8", 1, IGN }, { "192.168.2.1", 1, NOQUERY },
	    { "192.169.0.1", 1, KOD | LIMITED | NOMODIFY }, { "10.0.0.1", 1, KOD | LIMITED | NOMODIFY },
	    { "::1", 1, KOD | LIMITED | NOMODIFY }, { NULL, 0, 0 } } },

	{ "order of lines does not matter",
	  { { "192.168.1.7", 0 }, { "192.168.1.0/24", IGN }, { "default", KOD | LIMITED },
	    { "192.168.0.0/16", NOQUERY }, { NULL, 0 } },
	  { { "192.168.1.7", 1, 0 }, { "192.168.1.8", 1, IGN }, { "192.168.200.1", 1, NOQUERY },
	    { "203.0.113.1", 1, KOD | LIMITED }, { NULL, 0, 0 } } },

	{ "the same address and mask twice: flags add up",
	  { { "10.0.0.0/8", NOQUERY }, { "10.0.0.0/8", NOPEER }, { "default", NOTRAP },
	    { "default", NOMODIFY }, { NULL, 0 } },
	  { { "10.200.0.1", 9, NOQUERY | NOPEER }, { "11.0.0.1", 9, NOTRAP | NOMODIFY },
	    { "2001:db8::1", 9, NOTRAP | NOMODIFY }, { NULL, 0, 0 } } },

	{ "host bits beyond the mask are ignored",
	  { { "10.1.2.3/8", NOQUERY }, { "10.0.0.0/8", NOPEER }, { NULL, 0 } },
	  { { "10.9.9.9", 9, NOQUERY | NOPEER }, { "11.0.0.0", 9, 0 }, { NULL, 0, 0 } } },

	{ "prefixes not on an octet boundary",
	  { { "172.16.0.0/12", NOSERVE }, { "2001:db8:8000::/33", LIMITED }, { NULL, 0 } },
	  { { "172.16.0.0", 7, NOSERVE }, { "172.31.255.255", 7, NOSERVE }, { "172.32.0.0", 7, 0 },
	    { "172.15.255.255", 7, 0 }, { "2001:db8:8000::1", 7, LIMITED },
	    { "2001:db8:ffff:ffff::1", 7, LIMITED }, { "2001:db8:7fff::1", 7, 0 }, { NULL, 0, 0 } } },

	{ "IPv6 prefixes, most specific wins",
	  { { "default", IGN }, { "2001:db8::/32", NOSERVE }, { "2001:db8:1::/48", LIMITED },
	    { "2001:db8:1::5/128", 0 }, { NULL, 0 } },
	  { { "2001:db8:1::5", 1, 0 }, { "2001:db8:1::6", 1, LIMITED }, { "2001:db8:2::1", 1, NOSERVE },
	    { "2001:db9::1", 1, IGN }, { "192.0.2.1", 1, IGN }, { NULL, 0, 0 } } },

	{ "an IPv4-mapped IPv6 address matches the IPv4 entries",
	  { { "-6 default", IGN }, { "10.0.0.0/8", NOQUERY }, { NULL, 0 } },
	  { { "::ffff:10.1.1.1", 9, NOQUERY }, { "::ffff:11.1.1.1", 9, 0 }, { "2001:db8::1", 9, IGN },
	    { NULL, 0, 0 } } },

	{ "ntpport entries match only source port 123 and are more specific",
	  { { "10.0.0.0/8", NOQUERY | NTPPORT }, { "10.0.0.0/8", IGN }, { "default", LIMITED },
	    { NULL, 0 } },
	  { { "10.1.1.1", 123, NOQUERY }, { "10.1.1.1", 40000, IGN }, { "11.1.1.1", 123, LIMITED },
	    { NULL, 0, 0 } } },

	{ "a longer prefix beats a shorter ntpport entry",
	  { { "10.0.0.0/8", NOQUERY | NTPPORT }, { "10.1.0.0/16", NOPEER }, { NULL, 0 } },
	  { { "10.1.1.1", 123, NOPEER }, { "10.2.1.1", 123, NOQUERY }, { "10.2.1.1", 124, 0 },
	    { NULL, 0, 0 } } },

	{ "restrict source is left to the engine",
	  { { "source", IGN }, { "default", NOQUERY }, { NULL, 0 } },
	  { { "192.0.2.1", 1, NOQUERY }, { NULL, 0, 0 } } },

	{ "an explicit 0.0.0.0/0 is the IPv4 default",
	  { { "0.0.0.0/0", NOQUERY }, { "-4 default", NOPEER }, { NULL, 0 } },
	  { { "192.0.2.1", 1, NOQUERY | NOPEER }, { "2001:db8::1", 1, 0 }, { NULL, 0, 0 } } },
};

static void to_cfg(const struct line *l, struct cfg_restrict *r)
{
	memset(r, 0, sizeof(*r));
	r->flags = l->flags;
	if (strcmp(l->what, "default") == 0) {
		r->match = CFG_RES_DEFAULT;
	} else if (strcmp(l->what, "-4 default") == 0) {
		r->match = CFG_RES_DEFAULT;
		r->family = 4;
	} else if (strcmp(l->what, "-6 default") == 0) {
		r->match = CFG_RES_DEFAULT;
		r->family = 6;
	} else if (strcmp(l->what, "source") == 0) {
		r->match = CFG_RES_SOURCE;
	} else {
		char buf[64];
		snprintf(buf, sizeof buf, "%s", l->what);
		char *slash = strchr(buf, '/');
		int len = -1;
		if (slash) {
			*slash = '\0';
			len = atoi(slash + 1);
		}
		struct gn_addr a;
		assert_true(gn_addr_parse(buf, 0, &a));
		r->match = CFG_RES_PREFIX;
		r->family = a.family;
		r->prefix.family = a.family;
		memcpy(r->prefix.addr, a.addr, 16);
		r->prefix.prefix_len = (uint8_t)(len >= 0 ? len : a.family == 4 ? 32 : 128);
	}
}

static void test_tables(void **state)
{
	(void)state;
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
		const struct table *tb = &tables[t];
		struct cfg_restrict r[8];
		size_t n = 0;
		while (n < 8 && tb->lines[n].what != NULL) {
			to_cfg(&tb->lines[n], &r[n]);
			n++;
		}
		struct acl *acl = acl_new(r, n);
		assert_non_null(acl);
		for (size_t i = 0; i < 12 && tb->probes[i].addr != NULL; i++) {
			const struct probe *p = &tb->probes[i];
			struct gn_addr a;
			assert_true(gn_addr_parse(p->addr, p->port, &a));
			uint32_t got = acl_match(acl, &a);
			if (got != p->want)
				fail_msg("table '%s': %s port %u: flags 0x%x, want 0x%x", tb->name,
					 p->addr, p->port, got, p->want);
		}
		acl_free(acl);
	}
}

static void test_merge_count(void **state)
{
	(void)state;
	struct cfg_restrict r[4];
	const struct line l[4] = { { "default", IGN }, { "10.0.0.0/8", 0 }, { "10.1.2.3/8", NOPEER },
				   { "-4 default", NOQUERY } };
	for (int i = 0; i < 4; i++)
		to_cfg(&l[i], &r[i]);
	struct acl *acl = acl_new(r, 4);
	/* default → v4 and v6 entries; -4 default merges into v4; both 10/8 lines merge. */
	assert_int_equal(acl_size(acl), 3);
	struct gn_addr a;
	assert_true(gn_addr_parse("10.0.0.1", 1, &a));
	assert_int_equal(acl_match(acl, &a), NOPEER);
	assert_true(gn_addr_parse("192.0.2.1", 1, &a));
	assert_int_equal(acl_match(acl, &a), IGN | NOQUERY);
	assert_true(gn_addr_parse("::2", 1, &a));
	assert_int_equal(acl_match(acl, &a), IGN);
	acl_free(acl);
}

static void test_empty_and_unknown_family(void **state)
{
	(void)state;
	struct acl *acl = acl_new(NULL, 0);
	assert_non_null(acl);
	struct gn_addr a;
	memset(&a, 0, sizeof a);        /* family none: matches nothing */
	assert_int_equal(acl_match(acl, &a), 0);
	acl_free(acl);
}

/* Many entries: every host of a /24 with its own flags, looked up correctly. */
static void test_many(void **state)
{
	(void)state;
	struct cfg_restrict *r = calloc(CFG_MAX_RESTRICT, sizeof *r);
	assert_non_null(r);
	for (unsigned i = 0; i < CFG_MAX_RESTRICT; i++) {
		r[i].match = CFG_RES_PREFIX;
		r[i].prefix.family = 4;
		r[i].prefix.addr[0] = 10;
		r[i].prefix.addr[1] = (uint8_t)(i % 3);
		r[i].prefix.addr[2] = (uint8_t)i;
		r[i].prefix.prefix_len = (uint8_t)(i % 3 == 0 ? 24 : 32);
		r[i].flags = 1u << (i % 11);
	}
	struct acl *acl = acl_new(r, CFG_MAX_RESTRICT);
	for (unsigned i = 0; i < CFG_MAX_RESTRICT; i++) {
		struct gn_addr a = { .family = 4, .port = 1 };
		a.addr[0] = 10;
		a.addr[1] = (uint8_t)(i % 3);
		a.addr[2] = (uint8_t)i;
		a.addr[3] = i % 3 == 0 ? 77 : 0;
		assert_int_equal(acl_match(acl, &a), 1u << (i % 11));
	}
	acl_free(acl);
	free(r);
}

/* The restrict lines of a typical distribution ntp.conf, through the real parser. */
static void test_parsed_ntp_conf(void **state)
{
	(void)state;
	static const char text[] =
		"restrict -4 default kod notrap nomodify nopeer noquery limited\n"
		"restrict -6 default kod notrap nomodify nopeer noquery limited\n"
		"restrict 127.0.0.1\n"
		"restrict ::1\n"
		"restrict 192.168.0.0 mask 255.255.0.0 nomodify notrap\n"
		"restrict 2001:db8::/32 noserve\n"
		"restrict source notrap nomodify noquery\n";
	struct cfg *c = malloc(sizeof *c);
	struct cfg_diags *d = calloc(1, sizeof *d);
	assert_non_null(c);
	assert_non_null(d);
	cfg_defaults(c);
	assert_int_equal(cfg_parse(c, "ntp.conf", text, sizeof text - 1, NULL, d), 0);
	struct acl *acl = acl_new(c->restricts, c->n_restricts);
	const uint32_t dflt = KOD | NOTRAP | NOMODIFY | NOPEER | NOQUERY | LIMITED;
	static const struct { const char *a; uint32_t want_sel; } probes[] = {
		{ "127.0.0.1", 0 }, { "::1", 0 }, { "127.0.0.2", 1 }, { "192.168.7.7", 2 },
		{ "192.169.0.1", 1 }, { "2001:db8::1", 3 }, { "2001:db9::1", 1 },
	};
	const uint32_t sel[4] = { 0, dflt, NOMODIFY | NOTRAP, NOSERVE };
	for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		struct gn_addr a;
		assert_true(gn_addr_parse(probes[i].a, 40000, &a));
		uint32_t got = acl_match(acl, &a);
		if (got != sel[probes[i].want_sel])
			fail_msg("%s: flags 0x%x, want 0x%x", probes[i].a, got, sel[probes[i].want_sel]);
	}
	acl_free(acl);
	free(d);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_merge_count),
		cmocka_unit_test(test_empty_and_unknown_family),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_parsed_ntp_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
