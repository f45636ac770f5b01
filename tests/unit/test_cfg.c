/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for the ntp.conf parser (core/cfg): a table of broken lines, each with the exact
 * file:line:column and message; defaults; every directive; parse → print → parse for every
 * file in conf/ and tests/data/conf/; includes through an in-memory reader; and a bounded
 * mutation run (the parser must never crash, never read past len).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "os_file.h"

static const struct cfg_parse_opts opts_now = { .auth_available = false, .refclocks_available = false };
static const struct cfg_parse_opts opts_auth = { .auth_available = true, .refclocks_available = true };

struct parsed {
	struct cfg cfg;
	struct cfg_diags diags;
	unsigned errors;
};

static struct parsed *parse_opts(const char *text, const struct cfg_parse_opts *o, const struct cfg_reader *rd)
{
	struct parsed *p = calloc(1, sizeof *p);
	assert_non_null(p);
	cfg_defaults(&p->cfg);
	p->errors = cfg_parse_ex(&p->cfg, "t.conf", text, strlen(text), rd, o, &p->diags);
	return p;
}

/* Append to a NUL-terminated buffer of size cap (no strcat: style.md). */
static void append(char *buf, size_t cap, const char *s)
{
	size_t l = strlen(buf);
	snprintf(buf + l, cap - l, "%s", s);
}

static struct parsed *parse(const char *text)
{
	return parse_opts(text, &opts_now, NULL);
}

static void print_diags(const struct parsed *p)
{
	char b[700];
	for (unsigned i = 0; i < p->diags.n; i++)
		fprintf(stderr, "  %s\n", cfg_diag_format(&p->diags.d[i], b, sizeof b));
}

/* Parses cleanly: no errors, no warnings. */
static struct parsed *parse_ok(const char *text)
{
	struct parsed *p = parse(text);
	if (p->diags.n_errors || p->diags.n_warnings) {
		fprintf(stderr, "unexpected diagnostics for:\n%s\n", text);
		print_diags(p);
	}
	assert_int_equal(p->diags.n_errors, 0);
	assert_int_equal(p->diags.n_warnings, 0);
	return p;
}

/* Parses without errors, with exactly n_warn warnings, each saying that a feature it
 * accepted does nothing yet (so a sysadmin is told, not silently ignored). */
static struct parsed *parse_warned(const char *text, unsigned n_warn, const char *needle)
{
	struct parsed *p = parse(text);
	assert_int_equal(p->diags.n_errors, 0);
	if (p->diags.n_warnings != n_warn)
		print_diags(p);
	assert_int_equal(p->diags.n_warnings, n_warn);
	for (unsigned i = 0; i < p->diags.n; i++)
		assert_non_null(strstr(p->diags.d[i].message, needle));
	return p;
}

/* ------------------------------------------------------------ broken lines */

struct broken {
	const char *text;
	unsigned line, col;
	enum cfg_severity sev;
	const char *msg;        /* substring of the message */
};

static const struct broken broken[] = {
	/* unknown words: errors with suggestions */
	{ "servr pool.ntp.org\n", 1, 1, CFG_ERROR, "unknown directive 'servr'; did you mean 'server'?" },
	{ "\n\n  resrict default ignore\n", 3, 3, CFG_ERROR, "unknown directive 'resrict'; did you mean 'restrict'?" },
	{ "driftfle /var/lib/x\n", 1, 1, CFG_ERROR, "did you mean 'driftfile'?" },
	{ "Server ntp.example.net\n", 1, 1, CFG_ERROR, "unknown directive 'Server'; did you mean 'server'?" },
	{ "frobnicate 1 2 3\n", 1, 1, CFG_ERROR, "unknown directive 'frobnicate'" },
	{ "server a.example iburts\n", 1, 18, CFG_ERROR, "unknown option 'iburts' for 'server'; did you mean 'iburst'?" },
	{ "pool p.example iburst prefr\n", 1, 23, CFG_ERROR, "did you mean 'prefer'?" },
	/* restrict: a typo must never weaken access control */
	{ "restrict default kod limited nomodfy nopeer\n", 1, 30, CFG_ERROR, "unknown restrict flag 'nomodfy'; did you mean 'nomodify'?" },
	{ "restrict default noqeury\n", 1, 18, CFG_ERROR, "did you mean 'noquery'?" },
	{ "restrict -4 default ignroe\n", 1, 21, CFG_ERROR, "did you mean 'ignore'?" },
	{ "restrict\n", 1, 1, CFG_ERROR, "'restrict' needs 'default', 'source' or an address" },
	{ "restrict defualt ignore\n", 1, 10, CFG_ERROR, "did you mean 'default'?" },
	{ "restrict ntp.example.net nomodify\n", 1, 10, CFG_ERROR, "numeric address" },
	{ "restrict 192.168.0.0 mask 255.0.255.0\n", 1, 27, CFG_ERROR, "'255.0.255.0' is not a contiguous IPv4 netmask" },
	{ "restrict 192.168.0.0 mask\n", 1, 22, CFG_ERROR, "'mask' needs a value" },
	{ "restrict 192.168.0.0/16 mask 255.255.0.0\n", 1, 25, CFG_ERROR, "'mask' needs an address without /length" },
	{ "restrict default mask 255.0.0.0\n", 1, 18, CFG_ERROR, "'mask' needs an address" },
	{ "restrict 10.0.0.0/33\n", 1, 10, CFG_ERROR, "numeric address" },
	{ "restrict -6 10.0.0.0/8\n", 1, 13, CFG_ERROR, "'10.0.0.0/8' is not an IPv6 address" },
	{ "restrict 192.168.0.0 mask ffff::\n", 1, 27, CFG_ERROR, "not a contiguous IPv4 netmask" },
	{ "restrict -4 source\n", 1, 13, CFG_ERROR, "'restrict source' takes no -4 or -6" },
	{ "restrict default nopeer ippeerlimit 2\n", 1, 25, CFG_ERROR, "'ippeerlimit' is not implemented by gnomon; use 'nopeer'" },
	{ "restrict default nomodify lowpriotrap\n", 1, 27, CFG_WARNING, "'lowpriotrap' is not implemented by gnomon" },
	/* keys and trustedkey */
	{ "keys\n", 1, 1, CFG_ERROR, "'keys' needs a path" },
	{ "keys /etc/a /etc/b\n", 1, 13, CFG_ERROR, "unexpected '/etc/b'" },
	{ "trustedkey\n", 1, 1, CFG_ERROR, "'trustedkey' needs at least one key id" },
	{ "trustedkey 1 x2\n", 1, 14, CFG_ERROR, "'trustedkey' needs key ids from 1 to 65535, not 'x2'" },
	{ "trustedkey 0\n", 1, 12, CFG_ERROR, "not '0'" },
	{ "trustedkey 70000\n", 1, 12, CFG_ERROR, "not '70000'" },
	{ "trustedkey 1 (5 ... ) 7\n", 1, 14, CFG_ERROR, "malformed trustedkey range" },
	{ "trustedkey (5 .. 9)\n", 1, 12, CFG_ERROR, "malformed trustedkey range" },
	{ "trustedkey (9 ... 5)\n", 1, 12, CFG_ERROR, "is empty" },
	{ "trustedkey 5-\n", 1, 12, CFG_ERROR, "malformed trustedkey range '5-'" },
	{ "requestkey\n", 1, 1, CFG_ERROR, "'requestkey' needs exactly one key id" },
	{ "controlkey abc\n", 1, 12, CFG_ERROR, "'controlkey' needs a key id from 1 to 65535, not 'abc'" },
	/* key on a source: refuse rather than run unauthenticated */
	{ "peer 192.0.2.12 iburst key 1\n", 1, 24, CFG_ERROR, "'key 1': authentication is not available yet in gnomon; refusing to start" },
	{ "server a.example autokey\n", 1, 18, CFG_ERROR, "'autokey' asks for authentication that gnomon does not implement" },
	{ "server a.example nts\n", 1, 18, CFG_ERROR, "refusing to start" },
	{ "crypto pw secret\n", 1, 1, CFG_ERROR, "'crypto' is not supported by gnomon; refusing to start" },
	{ "nts enable\n", 1, 1, CFG_ERROR, "'nts' is not supported by gnomon" },
	/* sources */
	{ "server\n", 1, 1, CFG_ERROR, "'server' needs an address or host name" },
	{ "server -4\n", 1, 1, CFG_ERROR, "'server' needs an address" },
	{ "server a.example minpoll 2\n", 1, 26, CFG_ERROR, "'minpoll' needs an integer from 3 to 17, not '2'" },
	{ "server a.example maxpoll 18\n", 1, 26, CFG_ERROR, "'maxpoll' needs an integer from 3 to 17, not '18'" },
	{ "server a.example minpoll\n", 1, 18, CFG_ERROR, "'minpoll' needs a value" },
	{ "server a.example minpoll 10 maxpoll 6\n", 1, 8, CFG_ERROR, "minpoll 10 is greater than maxpoll 6" },
	{ "server a.example version 5\n", 1, 26, CFG_ERROR, "'version' needs an integer from 1 to 4" },
	{ "server a.example port 0\n", 1, 23, CFG_ERROR, "'port' needs an integer from 1 to 65535" },
	{ "server a.example port 65536\n", 1, 23, CFG_ERROR, "not '65536'" },
	{ "server a,example\n", 1, 8, CFG_ERROR, "'a,example' is not a valid address or host name" },
	{ "server -6 192.0.2.1\n", 1, 11, CFG_ERROR, "'192.0.2.1' is not an IPv6 address" },
	{ "server a.example key 0\n", 1, 22, CFG_ERROR, "'key' needs an integer from 1 to 65535" },
	{ "pool 127.127.20.0\n", 1, 6, CFG_ERROR, "a reference clock address needs 'server'" },
	{ "server 127.127.99.0\n", 1, 8, CFG_ERROR, "unknown reference clock type 99" },
	{ "server 127.127.20.0 mdoe 1\n", 1, 21, CFG_ERROR, "did you mean 'mode'?" },
	/* refclock and fudge */
	{ "refclock\n", 1, 1, CFG_ERROR, "'refclock' needs a driver name" },
	{ "refclock shmm unit 0\n", 1, 10, CFG_ERROR, "unknown reference clock driver 'shmm'; did you mean 'shm'?" },
	{ "refclock shm unit 256\n", 1, 19, CFG_ERROR, "'unit' needs an integer from 0 to 255" },
	{ "refclock shm refid TOOLONG\n", 1, 20, CFG_ERROR, "'refid' needs 1 to 4 characters" },
	{ "refclock pps flag5 1\n", 1, 14, CFG_ERROR, "unknown option 'flag5' for 'refclock'" },
	{ "refclock pps flag1 2\n", 1, 20, CFG_ERROR, "'flag1' needs an integer from 0 to 1" },
	{ "refclock pps time1 abc\n", 1, 20, CFG_ERROR, "'time1' needs a number" },
	{ "refclock pps time1 nan\n", 1, 20, CFG_ERROR, "'time1' needs a number" },
	{ "refclock shm\nrefclock shm unit 0\n", 2, 10, CFG_ERROR, "configured twice" },
	{ "fudge 127.127.20.0 time1 0.1\n", 1, 7, CFG_ERROR, "no 'server 127.127.20.0' line above" },
	{ "fudge 10.0.0.1 time1 0.1\n", 1, 7, CFG_ERROR, "'fudge' needs a reference clock address" },
	{ "server 127.127.20.0\nfudge 127.127.20.0 tiem1 0.1\n", 2, 20, CFG_ERROR, "did you mean 'time1'?" },
	/* tos, tinker, discard, mru */
	{ "tos\n", 1, 1, CFG_ERROR, "'tos' needs an option" },
	{ "tos minclok 3\n", 1, 5, CFG_ERROR, "unknown option 'minclok' for 'tos'; did you mean 'minclock'?" },
	{ "tos orphan 16\n", 1, 12, CFG_ERROR, "'orphan' needs an integer from 1 to 15" },
	{ "tos maxdist 0\n", 1, 13, CFG_ERROR, "'maxdist' needs a number" },
	{ "tos minclock 5 maxclock 4\n", 1, 1, CFG_ERROR, "tos minclock 5 is greater than maxclock 4" },
	{ "tinker stpe 0.5\n", 1, 8, CFG_ERROR, "did you mean 'step'?" },
	{ "tinker panic -1\n", 1, 14, CFG_ERROR, "'panic' needs a number from 0 to" },
	{ "tinker stepback 0\n", 1, 8, CFG_ERROR, "'tinker stepback' is not implemented by gnomon; use 'tinker step'" },
	{ "discard average 17\n", 1, 17, CFG_ERROR, "'average' needs an integer from 0 to 16" },
	{ "discard averag 3\n", 1, 9, CFG_ERROR, "did you mean 'average'?" },
	{ "limit burst 0\n", 1, 13, CFG_ERROR, "'burst' needs an integer from 1 to 65535" },
	{ "mru maxdeph 10\n", 1, 5, CFG_ERROR, "did you mean 'maxdepth'?" },
	/* files, statistics, enable */
	{ "driftfile\n", 1, 1, CFG_ERROR, "'driftfile' needs a path" },
	{ "driftfile \"/var/lib/x\n", 1, 11, CFG_ERROR, "unterminated quoted string" },
	{ "driftfile \"\"\n", 1, 11, CFG_ERROR, "empty path" },
	{ "statistics loopstat\n", 1, 12, CFG_ERROR, "did you mean 'loopstats'?" },
	{ "statistics\n", 1, 1, CFG_ERROR, "needs at least one statistics name" },
	{ "filegen loopstats type dya\n", 1, 24, CFG_ERROR, "unknown filegen type 'dya'; did you mean 'day'?" },
	{ "filegen loopstats enabel\n", 1, 19, CFG_ERROR, "did you mean 'enable'?" },
	{ "enable auht\n", 1, 8, CFG_ERROR, "unknown flag 'auht' for 'enable'; did you mean 'auth'?" },
	{ "disable\n", 1, 1, CFG_ERROR, "'disable' needs at least one flag" },
	{ "interface listen\n", 1, 1, CFG_ERROR, "needs 'listen', 'ignore' or 'drop'" },
	{ "interface lisen eth0\n", 1, 11, CFG_ERROR, "unknown interface action 'lisen'; did you mean 'listen'?" },
	{ "interface listen eth0.x$\n", 1, 18, CFG_ERROR, "is not an interface name" },
	{ "interface listen 192.168.1.300\n", 1, 18, CFG_ERROR, "is not an interface name" },
	{ "refclock pps minpoll -1\n", 1, 22, CFG_ERROR, "'minpoll' needs an integer from 0 to 17" },
	{ "port 0\n", 1, 6, CFG_ERROR, "'port' needs an integer from 1 to 65535, not '0'" },
	{ "port 123 456\n", 1, 10, CFG_ERROR, "'port' needs exactly one port number" },
	{ "includefile /etc/x.conf\n", 1, 13, CFG_ERROR, "includefile '/etc/x.conf': no file reader here" },
	{ "controlsocket \"/run/a\"b\n", 1, 23, CFG_ERROR, "expected a space after the closing quote" },
	/* known to ntpd or NTPsec, not implemented, harmless: warnings naming them */
	{ "broadcast 192.0.2.255\n", 1, 1, CFG_WARNING, "'broadcast' is known to ntpd/NTPsec but not implemented by gnomon" },
	{ "\nmanycastclient 239.1.1.1\n", 2, 1, CFG_WARNING, "'manycastclient' is known" },
	{ "logconfig =syncall\n", 1, 1, CFG_WARNING, "'logconfig'" },
	{ "rlimit memlock 32\n", 1, 1, CFG_WARNING, "'rlimit'" },
	{ "server a.example xleave\n", 1, 18, CFG_WARNING, "option 'xleave' is not implemented by gnomon" },
	{ "server a.example iburst dynamic\n", 1, 25, CFG_WARNING, "option 'dynamic' is not implemented by gnomon" },
	{ "server a.example ttl 4\n", 1, 18, CFG_WARNING, "option 'ttl' is not implemented by gnomon" },
	{ "tos mindist 0.01\n", 1, 5, CFG_WARNING, "'tos mindist' is not implemented" },
	{ "tinker allan 1500\n", 1, 8, CFG_WARNING, "'tinker allan' is not implemented" },
	{ "enable bclient\n", 1, 8, CFG_WARNING, "'enable bclient' is not implemented" },
	{ "discard monitor 3000\n", 1, 9, CFG_WARNING, "'discard monitor' is not implemented" },
	{ "statistics cryptostats\n", 1, 12, CFG_WARNING, "statistics 'cryptostats' are not implemented" },
	{ "restrict 10.1.2.3/8\n", 1, 10, CFG_WARNING, "'10.1.2.3/8' has bits set beyond its /8 prefix" },
	{ "refclock shm unit 0\n", 1, 10, CFG_WARNING, "reference clocks are not supported yet" },
	{ "server 127.127.28.1\n", 1, 8, CFG_WARNING, "reference clocks are not supported yet" },
};

static void test_broken_lines(void **state)
{
	(void)state;
	unsigned failed = 0;
	for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
		const struct broken *b = &broken[i];
		struct parsed *p = parse(b->text);
		/* the first diagnostic of the expected severity */
		const struct cfg_diag *d = NULL;
		for (unsigned k = 0; k < p->diags.n && !d; k++)
			if (p->diags.d[k].severity == b->sev)
				d = &p->diags.d[k];
		bool ok = d && d->line == b->line && d->column == b->col &&
			  strstr(d->message, b->msg) != NULL && strcmp(d->file, "t.conf") == 0 &&
			  (b->sev == CFG_ERROR ? p->errors == 1 : p->errors == 0);
		if (!ok) {
			fprintf(stderr, "case %zu: %s  expected t.conf:%u:%u: %s: %s\n  got:\n", i, b->text,
				b->line, b->col, b->sev == CFG_ERROR ? "error" : "warning", b->msg);
			print_diags(p);
			failed++;
		}
		free(p);
	}
	assert_int_equal(failed, 0);
}

/* The two rules of the issue, spelled out: both refuse to start. */
static void test_refuse_to_start(void **state)
{
	(void)state;
	struct parsed *p = parse("pool 0.pool.ntp.org iburst\nrestrict default nomodify noqury\n");
	assert_int_equal(p->errors, 1);
	free(p);
	p = parse("pool 0.pool.ntp.org iburst\nfrobnicate\n");
	assert_int_equal(p->errors, 1);
	free(p);
	/* Every error is found, not only the first. */
	p = parse("servr a\nrestrict default nomodfy\ntrustedkey x\n");
	assert_int_equal(p->errors, 3);
	assert_int_equal(p->diags.n, 3);
	assert_int_equal(p->diags.d[2].line, 3);
	free(p);
}

static void test_diag_format(void **state)
{
	(void)state;
	struct parsed *p = parse("\nrestrict default nomodfy\n");
	char b[700];
	assert_string_equal(cfg_diag_format(&p->diags.d[0], b, sizeof b),
			    "t.conf:2:18: error: unknown restrict flag 'nomodfy'; did you mean 'nomodify'?");
	free(p);
}

/* ------------------------------------------------------------ defaults and directives */

static void test_defaults(void **state)
{
	(void)state;
	struct parsed *p = parse_ok("# nothing but a comment\n\n   \t\n");
	const struct cfg *c = &p->cfg;
	assert_int_equal(c->port, 123);
	assert_string_equal(c->controlsocket, "/run/gnomon/gnomond.sock");
	assert_string_equal(c->pidfile, "/run/gnomon/gnomond.pid");
	assert_string_equal(c->leapfile, "/usr/share/zoneinfo/leap-seconds.list");
	assert_string_equal(c->driftfile, "");
	assert_string_equal(c->keys, "");
	assert_int_equal(c->n_sources, 0);
	assert_int_equal(c->n_restricts, 0);
	assert_int_equal(c->tos.minclock, 3);
	assert_int_equal(c->tos.minsane, 1);
	assert_int_equal(c->tos.maxclock, 10);
	assert_true(c->tos.maxdist_s == 1.5);
	assert_int_equal(c->tos.orphan, 0);
	assert_true(c->tinker.step_s == 0.128);
	assert_true(c->tinker.panic_s == 1000);
	assert_int_equal(c->ratelimit.average_log2, 3);
	assert_int_equal(c->ratelimit.minimum_log2, 1);
	assert_false(c->ratelimit.set);
	assert_int_equal(c->mru.maxmem_kib, 1024);
	assert_int_equal(c->mru.mindepth, 600);
	assert_int_equal(c->mru.maxage_s, 64);
	assert_int_equal(c->enable_set, 0);
	free(p);
}

static void test_sources(void **state)
{
	(void)state;
	struct parsed *p = parse_warned(
		"server ntp1.example.net iburst burst prefer noselect true minpoll 4 maxpoll 13 version 3 port 10123\n"
		"pool 0.pool.ntp.org iburst\n"
		"peer -6 2001:db8::1\n"
		"server 192.0.2.1 maxpoll 5\n"
		"server 192.0.2.2 minpoll 12\n", 1, "'true' is not implemented yet");
	const struct cfg *c = &p->cfg;
	assert_int_equal(c->n_sources, 5);
	const struct cfg_source *s = &c->sources[0];
	assert_int_equal(s->kind, CFG_SRC_SERVER);
	assert_string_equal(s->host, "ntp1.example.net");
	assert_true(s->iburst && s->burst && s->prefer && s->noselect && s->true_);
	assert_int_equal(s->minpoll, 4);
	assert_int_equal(s->maxpoll, 13);
	assert_int_equal(s->version, 3);
	assert_int_equal(s->port, 10123);
	assert_int_equal(s->key, 0);
	assert_int_equal(s->line, 1);
	s = &c->sources[1];
	assert_int_equal(s->kind, CFG_SRC_POOL);
	assert_true(s->iburst);
	assert_false(s->burst || s->prefer);
	assert_int_equal(s->minpoll, 6);
	assert_int_equal(s->maxpoll, 10);
	assert_int_equal(s->port, 123);
	assert_int_equal(s->version, 4);
	assert_int_equal(s->line, 2);
	assert_int_equal(c->sources[2].kind, CFG_SRC_PEER);
	assert_int_equal(c->sources[2].family, 6);
	/* one bound given: the other follows it, as ntpd does */
	assert_int_equal(c->sources[3].minpoll, 5);
	assert_int_equal(c->sources[3].maxpoll, 5);
	assert_int_equal(c->sources[4].minpoll, 12);
	assert_int_equal(c->sources[4].maxpoll, 12);
	free(p);
}

static void test_key_with_auth(void **state)
{
	(void)state;
	/* The rule is lifted by one option; then an untrusted key is a warning. */
	struct parsed *p = parse_opts("trustedkey 1\npeer 192.0.2.12 key 1\nserver a.example key 2\n", &opts_auth, NULL);
	assert_int_equal(p->errors, 0);
	assert_int_equal(p->cfg.sources[0].key, 1);
	assert_int_equal(p->diags.n_warnings, 1);
	assert_int_equal(p->diags.d[0].line, 3);
	assert_non_null(strstr(p->diags.d[0].message, "key 2 of 'a.example' is not listed in any trustedkey"));
	free(p);
	p = parse("peer 192.0.2.12 key 1\n");
	assert_int_equal(p->errors, 1);
	assert_int_equal(p->cfg.n_sources, 0);
	free(p);
}

static void test_restrict(void **state)
{
	(void)state;
	struct parsed *p = parse_ok(
		"restrict default ignore noserve noquery nomodify nopeer notrap notrust limited kod nomrulist noepeer version ntpport\n"
		"restrict -4 default kod\n"
		"restrict -6 default kod\n"
		"restrict source nomodify noquery\n"
		"restrict 192.168.0.0 mask 255.255.0.0 nomodify nopeer\n"
		"restrict 10.0.0.0/8 noquery\n"
		"restrict 2001:db8:: mask ffff:ffff:: notrap\n"
		"restrict 127.0.0.1\n"
		"restrict ::1\n"
		"restrict -4 203.0.113.7\n");
	const struct cfg *c = &p->cfg;
	assert_int_equal(c->n_restricts, 10);
	assert_int_equal(c->restricts[0].match, CFG_RES_DEFAULT);
	assert_int_equal(c->restricts[0].family, 0);
	assert_int_equal(c->restricts[0].flags, (1u << 13) - 1);
	assert_int_equal(c->restricts[1].family, 4);
	assert_int_equal(c->restricts[2].family, 6);
	assert_int_equal(c->restricts[3].match, CFG_RES_SOURCE);
	assert_int_equal(c->restricts[3].flags, CFG_RES_NOMODIFY | CFG_RES_NOQUERY);
	const struct cfg_restrict *r = &c->restricts[4];
	assert_int_equal(r->match, CFG_RES_PREFIX);
	assert_int_equal(r->family, 4);
	assert_int_equal(r->prefix.prefix_len, 16);
	assert_int_equal(r->prefix.addr[0], 192);
	assert_int_equal(r->prefix.addr[1], 168);
	assert_int_equal(r->flags, CFG_RES_NOMODIFY | CFG_RES_NOPEER);
	assert_int_equal(c->restricts[5].prefix.prefix_len, 8);
	assert_int_equal(c->restricts[6].family, 6);
	assert_int_equal(c->restricts[6].prefix.prefix_len, 32);
	assert_int_equal(c->restricts[7].prefix.prefix_len, 32);
	assert_int_equal(c->restricts[7].flags, 0);
	assert_int_equal(c->restricts[8].prefix.prefix_len, 128);
	assert_int_equal(c->restricts[8].prefix.addr[15], 1);
	assert_int_equal(c->restricts[5].line, 6);
	free(p);
	/* host bits beyond the prefix are cleared (with a warning) */
	p = parse("restrict 10.1.2.3/8\n");
	assert_int_equal(p->errors, 0);
	assert_int_equal(p->cfg.restricts[0].prefix.addr[1], 0);
	assert_int_equal(p->cfg.restricts[0].prefix.addr[0], 10);
	free(p);
}

static void test_ratelimit_mru(void **state)
{
	(void)state;
	struct parsed *p = parse_ok("discard average 4 minimum 2\n");
	assert_true(p->cfg.ratelimit.set);
	assert_int_equal(p->cfg.ratelimit.average_log2, 4);
	assert_int_equal(p->cfg.ratelimit.minimum_log2, 2);
	assert_int_equal(p->cfg.ratelimit.burst, 8);
	free(p);
	p = parse_ok("limit average 5 burst 16 kod 4\n");
	assert_true(p->cfg.ratelimit.set);
	assert_int_equal(p->cfg.ratelimit.average_log2, 5);
	assert_int_equal(p->cfg.ratelimit.minimum_log2, 1);
	assert_int_equal(p->cfg.ratelimit.burst, 16);
	assert_int_equal(p->cfg.ratelimit.kod_log2, 4);
	free(p);
	p = parse_ok("mru maxdepth 100000 maxmem 65536 mindepth 700 maxage 120 minage 32\n");
	assert_int_equal(p->cfg.mru.maxdepth, 100000);
	assert_int_equal(p->cfg.mru.maxmem_kib, 65536);
	assert_int_equal(p->cfg.mru.mindepth, 700);
	assert_int_equal(p->cfg.mru.maxage_s, 120);
	assert_int_equal(p->cfg.mru.minage_s, 32);
	free(p);
}

static void test_tos_tinker(void **state)
{
	(void)state;
	struct parsed *p = parse_warned("tos minclock 4 minsane 2 maxclock 12 maxdist 2.5 orphan 10 orphanwait 60\n"
					"tinker step 0 stepout 900 panic 0\n", 1, "orphan mode is not implemented yet");
	assert_int_equal(p->cfg.tos.minclock, 4);
	assert_int_equal(p->cfg.tos.minsane, 2);
	assert_int_equal(p->cfg.tos.maxclock, 12);
	assert_true(p->cfg.tos.maxdist_s == 2.5);
	assert_int_equal(p->cfg.tos.orphan, 10);
	assert_true(p->cfg.tos.orphanwait_s == 60);
	assert_true(p->cfg.tinker.step_s == 0);
	assert_true(p->cfg.tinker.stepout_s == 900);
	assert_true(p->cfg.tinker.panic_s == 0);
	free(p);
}

static void test_keys(void **state)
{
	(void)state;
	struct parsed *p = parse_ok("keys /etc/ntp.keys\ntrustedkey 1 2 (10 ... 20) 30-40 ( 50 ... 60 )\ntrustedkey 65535\n"
				    "requestkey 7\ncontrolkey 8\n");
	const struct cfg *c = &p->cfg;
	assert_string_equal(c->keys, "/etc/ntp.keys");
	assert_int_equal(c->n_trustedkeys, 6);
	assert_int_equal(c->trustedkeys[2].lo, 10);
	assert_int_equal(c->trustedkeys[2].hi, 20);
	assert_int_equal(c->trustedkeys[3].lo, 30);
	assert_int_equal(c->trustedkeys[3].hi, 40);
	assert_int_equal(c->trustedkeys[4].lo, 50);
	assert_int_equal(c->trustedkeys[4].hi, 60);
	assert_true(cfg_key_trusted(c, 1));
	assert_true(cfg_key_trusted(c, 15));
	assert_true(cfg_key_trusted(c, 65535));
	assert_false(cfg_key_trusted(c, 3));
	assert_false(cfg_key_trusted(c, 21));
	assert_int_equal(c->requestkey, 7);
	assert_int_equal(c->controlkey, 8);
	free(p);
}

static void test_files_stats_enable(void **state)
{
	(void)state;
	struct parsed *p = parse_warned("driftfile /var/lib/gnomon/gnomon.drift\nleapfile /etc/leap\nlogfile /var/log/g.log\n"
					"statsdir \"/var/log/my stats/\"\nstatistics loopstats peerstats\n"
					"filegen clockstats file clockstats type day enable\nfilegen peerstats disable\n"
					"enable auth monitor ntp kernel stats calibrate\ndisable monitor\n"
					"controlsocket /tmp/g.sock\npidfile /tmp/g.pid\nport 10123\n",
					2, "statistics files are not written yet");
	const struct cfg *c = &p->cfg;
	assert_string_equal(c->driftfile, "/var/lib/gnomon/gnomon.drift");
	assert_string_equal(c->leapfile, "/etc/leap");
	assert_string_equal(c->logfile, "/var/log/g.log");
	assert_string_equal(c->statsdir, "/var/log/my stats/");
	assert_int_equal(c->statistics, CFG_STAT_LOOP | CFG_STAT_CLOCK);
	assert_int_equal(c->enable_set, CFG_EN_AUTH | CFG_EN_NTP | CFG_EN_KERNEL | CFG_EN_STATS | CFG_EN_CALIBRATE);
	assert_int_equal(c->enable_clear, CFG_EN_MONITOR);
	assert_string_equal(c->controlsocket, "/tmp/g.sock");
	assert_string_equal(c->pidfile, "/tmp/g.pid");
	assert_int_equal(c->port, 10123);
	free(p);
}

static void test_interfaces(void **state)
{
	(void)state;
	struct parsed *p = parse_ok("interface listen all\ninterface ignore wildcard\ninterface drop ipv6\n"
				    "interface listen 192.0.2.1\ninterface listen 10.0.0.0/8\nnic ignore eth0\n"
				    "interface listen ipv4\ninterface listen eth0.100\n");
	const struct cfg *c = &p->cfg;
	assert_int_equal(c->n_interfaces, 8);
	assert_string_equal(c->interfaces[7].name, "eth0.100");
	assert_int_equal(c->interfaces[0].action, CFG_IF_LISTEN);
	assert_int_equal(c->interfaces[0].what, CFG_IF_ALL);
	assert_int_equal(c->interfaces[1].action, CFG_IF_IGNORE);
	assert_int_equal(c->interfaces[1].what, CFG_IF_WILDCARD);
	assert_int_equal(c->interfaces[2].action, CFG_IF_DROP);
	assert_int_equal(c->interfaces[2].what, CFG_IF_IPV6);
	assert_int_equal(c->interfaces[3].what, CFG_IF_PREFIX);
	assert_int_equal(c->interfaces[3].prefix.prefix_len, 32);
	assert_int_equal(c->interfaces[4].prefix.prefix_len, 8);
	assert_int_equal(c->interfaces[5].what, CFG_IF_NAME);
	assert_string_equal(c->interfaces[5].name, "eth0");
	assert_int_equal(c->interfaces[6].what, CFG_IF_IPV4);
	free(p);
}

static void test_refclocks(void **state)
{
	(void)state;
	struct parsed *p = parse_opts(
		"refclock shm unit 0 refid GPS time1 0.130 noselect\n"
		"refclock pps unit 0 path /dev/pps0 ppspath /dev/pps1 baud 9600 subtype 3 prefer minpoll 4 maxpoll 4 stratum 0 flag2 1 flag3 0 time2 -0.5\n"
		"server 127.127.20.1 mode 17 prefer\n"
		"fudge 127.127.20.1 time1 0.2 refid NMEA stratum 1 flag1 1\n"
		"refclock gpsd minpoll 0\n",
		&opts_auth, NULL);
	assert_int_equal(p->errors, 0);
	assert_int_equal(p->diags.n_warnings, 0);
	const struct cfg *c = &p->cfg;
	assert_int_equal(c->n_refclocks, 4);
	assert_int_equal(c->n_sources, 0);
	const struct cfg_refclock *r = &c->refclocks[0];
	assert_string_equal(r->driver, "shm");
	assert_int_equal(r->refid, 0x47505300u);
	assert_true(r->time1_s == 0.130);
	assert_true(r->noselect);
	assert_int_equal(r->stratum, -1);
	r = &c->refclocks[1];
	assert_string_equal(r->path, "/dev/pps0");
	assert_string_equal(r->ppspath, "/dev/pps1");
	assert_int_equal(r->baud, 9600);
	assert_int_equal(r->mode, 3);
	assert_true(r->prefer);
	assert_int_equal(r->minpoll, 4);
	assert_int_equal(r->stratum, 0);
	assert_int_equal(r->flags_set, 6);
	assert_int_equal(r->flags, 2);
	assert_true(r->time2_s == -0.5);
	r = &c->refclocks[2];
	assert_string_equal(r->driver, "nmea");
	assert_int_equal(r->unit, 1);
	assert_true(r->classic);
	assert_int_equal(r->mode, 17);
	assert_true(r->prefer);
	assert_true(r->time1_s == 0.2);
	assert_int_equal(r->refid, 0x4e4d4541u);
	assert_int_equal(r->stratum, 1);
	assert_int_equal(r->flags, 1);
	assert_string_equal(c->refclocks[3].driver, "gpsd");
	assert_int_equal(c->refclocks[3].minpoll, 0);
	assert_string_equal(cfg_refclock_name(22), "pps");
	assert_int_equal(cfg_refclock_type("shm"), 28);
	assert_null(cfg_refclock_name(99));
	free(p);
}

/* ------------------------------------------------------------ lexer edges */

static void test_lexer(void **state)
{
	(void)state;
	/* CRLF line ends, tabs, trailing comments, no final newline */
	struct parsed *p = parse_ok("server a.example iburst # comment\r\n\tpool\tb.example\r\nserver c.example#x");
	assert_int_equal(p->cfg.n_sources, 3);
	assert_string_equal(p->cfg.sources[2].host, "c.example");
	free(p);

	/* A NUL byte is an error, and nothing after len is read. */
	const char text[] = "server a.example\nserver b\0x.example\nserver c.example\n";
	p = calloc(1, sizeof *p);
	assert_non_null(p);
	cfg_defaults(&p->cfg);
	unsigned e = cfg_parse(&p->cfg, "t.conf", text, sizeof text - 1, NULL, &p->diags);
	assert_int_equal(e, 1);
	assert_int_equal(p->diags.d[0].line, 2);
	assert_int_equal(p->diags.d[0].column, 9);
	assert_non_null(strstr(p->diags.d[0].message, "NUL byte"));
	assert_int_equal(p->cfg.n_sources, 2);
	free(p);

	/* len cuts the text: "server a.ex" only (a heap copy without terminator for ASan) */
	char *cut = malloc(11);
	assert_non_null(cut);
	memcpy(cut, "server a.ex", 11);
	p = calloc(1, sizeof *p);
	assert_non_null(p);
	cfg_defaults(&p->cfg);
	assert_int_equal(cfg_parse(&p->cfg, "t.conf", cut, 11, NULL, &p->diags), 0);
	assert_string_equal(p->cfg.sources[0].host, "a.ex");
	free(cut);
	free(p);

	/* too long a line, too many words */
	char *big = malloc(CFG_LINE_MAX + 100);
	assert_non_null(big);
	memset(big, 'a', CFG_LINE_MAX + 50);
	memcpy(big, "server ", 7);
	big[CFG_LINE_MAX + 50] = '\0';
	p = parse(big);
	assert_int_equal(p->errors, 1);
	assert_non_null(strstr(p->diags.d[0].message, "longer than"));
	free(p);
	snprintf(big, CFG_LINE_MAX + 100, "restrict default");
	for (int i = 0; i < CFG_MAX_TOKENS; i++)
		append(big, CFG_LINE_MAX + 100, " kod");
	p = parse(big);
	assert_int_equal(p->errors, 1);
	assert_non_null(strstr(p->diags.d[0].message, "more than 64 words"));
	free(p);
	free(big);
}

static void test_limits(void **state)
{
	(void)state;
	size_t cap = 100000;
	char *t = malloc(cap);
	assert_non_null(t);
	t[0] = '\0';
	for (int i = 0; i < CFG_MAX_SOURCES + 1; i++) {
		char l[64];
		snprintf(l, sizeof l, "server s%d.example\n", i);
		append(t, cap, l);
	}
	struct parsed *p = parse(t);
	assert_int_equal(p->errors, 1);
	assert_int_equal(p->cfg.n_sources, CFG_MAX_SOURCES);
	assert_int_equal(p->diags.d[0].line, CFG_MAX_SOURCES + 1);
	free(p);
	/* more diagnostics than kept: all counted */
	t[0] = '\0';
	for (int i = 0; i < CFG_MAX_DIAG + 10; i++)
		append(t, cap, "bogus\n");
	p = parse(t);
	assert_int_equal(p->errors, CFG_MAX_DIAG + 10);
	assert_int_equal(p->diags.n_errors, CFG_MAX_DIAG + 10);
	assert_int_equal(p->diags.n, CFG_MAX_DIAG);
	free(p);
	free(t);
}

/* ------------------------------------------------------------ includes */

struct memfs {
	const char *names[4];
	const char *texts[4];
	unsigned reads;
};

static char *mem_read(void *ctx, const char *path, size_t *len, char *err, size_t errlen)
{
	struct memfs *fs = ctx;
	fs->reads++;
	for (int i = 0; i < 4 && fs->names[i]; i++) {
		if (strcmp(fs->names[i], path) == 0) {
			*len = strlen(fs->texts[i]);
			char *b = malloc(*len + 1);
			memcpy(b, fs->texts[i], *len + 1);
			return b;
		}
	}
	snprintf(err, errlen, "No such file or directory");
	return NULL;
}

static void mem_free(void *ctx, char *buf)
{
	(void)ctx;
	free(buf);
}

static void test_includefile(void **state)
{
	(void)state;
	struct memfs fs = {
		.names = { "servers.conf", "bad.conf", "self.conf" },
		.texts = { "server a.example\n\npool b.example iburst\n", "server c.example\nrestrict default nomodfy\n",
			   "includefile self.conf\n" },
	};
	struct cfg_reader rd = { .read = mem_read, .free_fn = mem_free, .ctx = &fs };
	struct parsed *p = parse_opts("driftfile /x\nincludefile servers.conf\nserver d.example\n", &opts_now, &rd);
	assert_int_equal(p->errors, 0);
	assert_int_equal(p->cfg.n_sources, 3);
	assert_int_equal(p->cfg.sources[1].line, 3);   /* line in servers.conf */
	assert_string_equal(p->cfg.sources[2].host, "d.example");
	free(p);

	/* errors in an included file name that file and its line */
	p = parse_opts("\nincludefile bad.conf\n", &opts_now, &rd);
	assert_int_equal(p->errors, 1);
	assert_string_equal(p->diags.d[0].file, "bad.conf");
	assert_int_equal(p->diags.d[0].line, 2);
	assert_int_equal(p->diags.d[0].column, 18);
	free(p);

	/* a missing include is an error at the includefile line */
	p = parse_opts("server a\nincludefile nope.conf\n", &opts_now, &rd);
	assert_int_equal(p->errors, 1);
	assert_string_equal(p->diags.d[0].file, "t.conf");
	assert_int_equal(p->diags.d[0].line, 2);
	assert_non_null(strstr(p->diags.d[0].message, "No such file"));
	free(p);

	/* self-inclusion stops at the depth limit */
	fs.reads = 0;
	p = parse_opts("includefile self.conf\n", &opts_now, &rd);
	assert_int_equal(p->errors, 1);
	assert_non_null(strstr(p->diags.d[0].message, "nested more than"));
	assert_true(fs.reads <= CFG_INCLUDE_DEPTH);
	free(p);
}

/* ------------------------------------------------------------ print and round trip */

static void roundtrip_text(const char *name, const char *text, size_t len)
{
	struct parsed *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	assert_non_null(a);
	assert_non_null(b);
	cfg_defaults(&a->cfg);
	a->errors = cfg_parse(&a->cfg, name, text, len, NULL, &a->diags);
	if (a->errors) {
		fprintf(stderr, "%s does not parse:\n", name);
		print_diags(a);
	}
	assert_int_equal(a->errors, 0);
	size_t need = cfg_print(&a->cfg, NULL, 0);
	char *out = malloc(need + 1);
	assert_non_null(out);
	assert_int_equal(cfg_print(&a->cfg, out, need + 1), need);
	assert_int_equal(strlen(out), need);
	cfg_defaults(&b->cfg);
	b->errors = cfg_parse(&b->cfg, "printed", out, need, NULL, &b->diags);
	if (b->errors || !cfg_equal(&a->cfg, &b->cfg)) {
		fprintf(stderr, "%s: round trip differs; printed form:\n%s", name, out);
		print_diags(b);
	}
	assert_int_equal(b->errors, 0);
	assert_true(cfg_equal(&a->cfg, &b->cfg));
	/* printing is stable */
	char *out2 = malloc(need + 1);
	assert_non_null(out2);
	cfg_print(&b->cfg, out2, need + 1);
	assert_string_equal(out, out2);
	/* truncation behaves as snprintf */
	char small[16];
	assert_int_equal(cfg_print(&a->cfg, small, sizeof small), need);
	assert_int_equal(strlen(small), sizeof small - 1);
	free(out);
	free(out2);
	free(a);
	free(b);
}

static unsigned roundtrip_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("cannot open %s", dir);
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".conf") != 0)
			continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		char err[200];
		size_t len;
		char *text = os_file_read(path, CFG_FILE_MAX, &len, err, sizeof err);
		if (!text)
			fail_msg("%s: %s", path, err);
		roundtrip_text(path, text, len);
		free(text);
		n++;
	}
	closedir(d);
	return n;
}

static const char *srcdir(void)
{
	const char *s = getenv("GNOMON_SRCDIR");
	return s ? s : ".";
}

static void test_roundtrip_files(void **state)
{
	(void)state;
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/conf", srcdir());
	assert_true(roundtrip_dir(dir) >= 5);
	snprintf(dir, sizeof dir, "%s/tests/data/conf", srcdir());
	assert_true(roundtrip_dir(dir) >= 4);
}

static void test_roundtrip_everything(void **state)
{
	(void)state;
	const char *t =
		"port 10123\ncontrolsocket \"/run/my gnomon/s\"\npidfile /p\ndriftfile /d\nleapfile /l\nlogfile /lg\n"
		"statsdir /s\nstatistics loopstats peerstats clockstats sysstats rawstats protostats\n"
		"enable auth kernel\ndisable monitor ntp\n"
		"tos minclock 1 minsane 1 maxclock 64 maxdist 0.001 orphan 15 orphanwait 0.1\n"
		"tinker step 0.3333333333333333 stepout 1e-3 panic 123456789\n"
		"keys /k\ntrustedkey 1 (2 ... 9) 65535\nrequestkey 3\ncontrolkey 4\n"
		"interface listen all\ninterface drop 2001:db8::/32\ninterface ignore eth1\ninterface listen ipv4\n"
		"server -4 192.0.2.1 iburst burst prefer noselect true minpoll 3 maxpoll 17 version 1 port 1\n"
		"peer -6 fe80::1%eth0\npool p.example\n"
		"refclock shm unit 3 refid X time1 -0.0001 time2 1e-9 flag4 0 stratum 15 path \"/dev/a b\"\n"
		"server 127.127.22.2 mode 4294967295 minpoll 3\nfudge 127.127.22.2 flag1 1 flag2 0\n"
		"server 127.127.1.0\n"
		"restrict default\nrestrict -6 default ignore\nrestrict source limited\nrestrict ::/0 kod\n"
		"restrict 0.0.0.0/0 ntpport\nrestrict 255.255.255.255 version\n"
		"limit average 16 minimum 0 burst 65535 kod 0\nmru maxdepth 0 maxmem 1 mindepth 0 maxage 0 minage 0\n";
	roundtrip_text("everything", t, strlen(t));
	roundtrip_text("empty", "", 0);
}

static void test_equal_detects_difference(void **state)
{
	(void)state;
	struct parsed *a = parse_ok("server a.example\nrestrict default kod\n");
	struct parsed *b = parse_ok("\n\nserver a.example\nrestrict default kod\n");
	assert_true(cfg_equal(&a->cfg, &b->cfg)); /* line numbers differ only */
	b->cfg.restricts[0].flags |= CFG_RES_NOQUERY;
	assert_false(cfg_equal(&a->cfg, &b->cfg));
	b->cfg.restricts[0].flags = a->cfg.restricts[0].flags;
	b->cfg.sources[0].iburst = true;
	assert_false(cfg_equal(&a->cfg, &b->cfg));
	b->cfg.sources[0].iburst = false;
	b->cfg.tinker.panic_s = 1;
	assert_false(cfg_equal(&a->cfg, &b->cfg));
	b->cfg.tinker.panic_s = a->cfg.tinker.panic_s;
	snprintf(b->cfg.pidfile, sizeof b->cfg.pidfile, "/x");
	assert_false(cfg_equal(&a->cfg, &b->cfg));
	free(a);
	free(b);
}

/* ------------------------------------------------------------ robustness */

/* xorshift: deterministic mutations */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_mutations_never_crash(void **state)
{
	(void)state;
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/data/conf/campus.conf", srcdir());
	char err[200];
	size_t len;
	char *seed = os_file_read(path, CFG_FILE_MAX, &len, err, sizeof err);
	assert_non_null(seed);
	struct parsed *p = malloc(sizeof *p);
	assert_non_null(p);
	uint32_t s = 12345;
	static const char alphabet[] = " \t\n#\"()/.-:0123456789abcdefkmorstuxz\0\xff";
	for (int iter = 0; iter < 1500; iter++) {
		size_t n = 1 + rnd(&s) % len;
		char *buf = malloc(n); /* exact size: ASan catches any read past len */
		assert_non_null(buf);
		memcpy(buf, seed + (rnd(&s) % 4 == 0 ? rnd(&s) % (len - n + 1) : 0), n);
		int edits = (int)(rnd(&s) % 12);
		for (int k = 0; k < edits; k++)
			buf[rnd(&s) % n] = alphabet[rnd(&s) % (sizeof alphabet - 1)];
		cfg_defaults(&p->cfg);
		memset(&p->diags, 0, sizeof p->diags);
		cfg_parse(&p->cfg, "m.conf", buf, n, NULL, &p->diags);
		/* whatever parsed must print and parse back equal */
		if (p->diags.n_errors == 0) {
			size_t need = cfg_print(&p->cfg, NULL, 0);
			char *out = malloc(need + 1);
			cfg_print(&p->cfg, out, need + 1);
			struct parsed *q = malloc(sizeof *q);
			cfg_defaults(&q->cfg);
			memset(&q->diags, 0, sizeof q->diags);
			unsigned e = cfg_parse(&q->cfg, "p.conf", out, need, NULL, &q->diags);
			if (e || !cfg_equal(&p->cfg, &q->cfg))
				fprintf(stderr, "mutation %d: round trip failed:\n%.*s\n---\n%s", iter, (int)n, buf, out);
			assert_int_equal(e, 0);
			assert_true(cfg_equal(&p->cfg, &q->cfg));
			free(q);
			free(out);
		}
		free(buf);
	}
	free(p);
	free(seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broken_lines),
		cmocka_unit_test(test_refuse_to_start),
		cmocka_unit_test(test_diag_format),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_key_with_auth),
		cmocka_unit_test(test_restrict),
		cmocka_unit_test(test_ratelimit_mru),
		cmocka_unit_test(test_tos_tinker),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_files_stats_enable),
		cmocka_unit_test(test_interfaces),
		cmocka_unit_test(test_refclocks),
		cmocka_unit_test(test_lexer),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_includefile),
		cmocka_unit_test(test_roundtrip_files),
		cmocka_unit_test(test_roundtrip_everything),
		cmocka_unit_test(test_equal_detects_difference),
		cmocka_unit_test(test_mutations_never_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
