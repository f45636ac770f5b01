/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target for the server side (core/srv, srv_handle) on arbitrary request octets.
 * Each input is one request, handled by a fresh server (a small MRU, the restrict lines
 * below) from five sources: a default-restricted client (limited kod noquery), an ignored
 * network, a `version` network, and unrestricted ::1 and 127.0.0.1; then ten times more in
 * 10 ms from the default client to drive the rate limiter into a RATE kiss.
 * Checks beyond "no crash":
 *  - no amplification: an answer or kiss is 48 octets, never longer than the request, and
 *    nothing is written for a drop;
 *  - answers decode (mode 4, the request's VN), org is the request's xmt, rec and xmt are
 *    the times given; a kiss is LI 3, stratum 0, refid RATE with org = rec = xmt;
 *  - only a client request (mode 3, or mode 0 at VN 1) of VN 1..4 and at least 48 octets is
 *    answered; ignore never answers, version answers only VN 4; mode 6 is dropped for a
 *    noquery source and mode 7 always;
 *  - the counters add up (received = calls = sum of verdicts; answered, kod_sent).
 */
#include <stdint.h>
#include <string.h>

#include "cfg.h"
#include "fuzz.h"
#include "gn_addr.h"
#include "ntp_time.h"
#include "pkt.h"
#include "srv.h"

static const char conf[] =
	"restrict default kod limited nomodify nopeer noquery notrap\n"
	"restrict 192.0.2.0 mask 255.255.255.0 ignore\n"
	"restrict 198.51.100.0 mask 255.255.255.0 nomodify version\n"
	"restrict 127.0.0.1\n"
	"restrict ::1\n"
	"discard average 3 minimum 1\n";

enum { SRC_DEFAULT, SRC_IGNORED, SRC_VERSION, SRC_V6, SRC_LOOP, SRC__COUNT };

static const struct cfg *make_cfg(void)
{
	static struct cfg c;
	static struct cfg_diags d;
	static bool done;
	if (!done) {
		cfg_defaults(&c);
		memset(&d, 0, sizeof d);
		FUZZ_CHECK(cfg_parse(&c, "fuzz_srv", conf, sizeof conf - 1, NULL, &d) == 0);
		c.mru.maxdepth = 64;
		done = true;
	}
	return &c;
}

static void check_one(struct srv *srv, const struct srv_sysvars *sys, const uint8_t *req,
		      size_t len, const struct gn_addr *from, int src, gn_time_ns rx,
		      uint64_t *calls)
{
	uint8_t reply[PKT_MAX_LEN];
	memset(reply, 0xee, sizeof reply);
	size_t rlen = 12345;
	gn_time_ns now = rx + 20000;
	enum srv_verdict v = srv_handle(srv, sys, req, len, from, rx, now, reply, sizeof reply,
					&rlen);
	(*calls)++;
	FUZZ_CHECK((unsigned)v < SRV_VERDICT__COUNT);
	FUZZ_CHECK(srv_verdict_name(v) != NULL);
	FUZZ_CHECK(srv_may_restamp(v) == (v == SRV_ANSWER));

	uint8_t vn = len ? (uint8_t)((req[0] >> 3) & 7) : 0, mode = len ? (uint8_t)(req[0] & 7) : 0;
	if (len == 0)
		FUZZ_CHECK(v == SRV_DROP_MALFORMED);
	else if (src == SRC_IGNORED)
		FUZZ_CHECK(v == SRV_DROP_RESTRICT);
	if (mode == PKT_MODE_PRIVATE && len)
		FUZZ_CHECK(v == SRV_DROP_MODE || v == SRV_DROP_RESTRICT);
	if (mode == PKT_MODE_CONTROL && len && src == SRC_DEFAULT && vn >= 1 && vn <= 4)
		FUZZ_CHECK(v == SRV_DROP_RESTRICT);

	if (v != SRV_ANSWER && v != SRV_KOD) {
		FUZZ_CHECK(rlen == 0);
		FUZZ_CHECK(reply[0] == 0xee);
		return;
	}
	/* Answered: a client request, nothing bigger than it. */
	FUZZ_CHECK(rlen == PKT_HEADER_LEN && rlen <= len);
	FUZZ_CHECK(vn >= 1 && vn <= 4);
	FUZZ_CHECK(mode == PKT_MODE_CLIENT || (vn == 1 && mode == PKT_MODE_RESERVED));
	FUZZ_CHECK(src != SRC_IGNORED);
	if (src == SRC_VERSION)
		FUZZ_CHECK(vn == 4);
	for (size_t i = rlen; i < sizeof reply; i++)
		FUZZ_CHECK(reply[i] == 0xee);

	struct pkt p;
	FUZZ_CHECK(pkt_decode(reply, rlen, &p) == PKT_OK);
	FUZZ_CHECK(p.mode == PKT_MODE_SERVER && p.vn == vn);
	FUZZ_CHECK(memcmp(reply + 24, req + 40, 8) == 0); /* org = the request's xmt */
	if (v == SRV_KOD) {
		FUZZ_CHECK(src == SRC_DEFAULT);
		FUZZ_CHECK(p.li == PKT_LI_UNSYNC && p.stratum == 0);
		FUZZ_CHECK(p.refid == pkt_refid_ascii("RATE"));
		FUZZ_CHECK(p.rec == p.org && p.xmt == p.org);
	} else {
		FUZZ_CHECK(p.stratum == sys->stratum && p.li == sys->leap);
		FUZZ_CHECK(p.refid == sys->refid && p.reftime == sys->reftime);
		FUZZ_CHECK(p.rec == ntp_ts64_from_ns(rx));
		FUZZ_CHECK(p.xmt == ntp_ts64_from_ns(now));
		FUZZ_CHECK(p.poll == (int8_t)req[2]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct cfg *cfg = make_cfg();
	struct srv *srv = srv_new(cfg);
	FUZZ_CHECK(srv != NULL);

	struct srv_sysvars sys = {
		.leap = PKT_LI_NONE, .stratum = 2, .precision_log2 = -20,
		.rootdelay_s = 0.0123, .rootdisp_s = 0.0045,
		.update_ns = INT64_C(1763000000) * 1000000000,
		.refid = 0xc0000201u,
	};
	sys.reftime = ntp_ts64_from_ns(sys.update_ns);

	struct gn_addr from[SRC__COUNT];
	FUZZ_CHECK(gn_addr_parse("203.0.113.7", 40123, &from[SRC_DEFAULT]));
	FUZZ_CHECK(gn_addr_parse("192.0.2.5", 123, &from[SRC_IGNORED]));
	FUZZ_CHECK(gn_addr_parse("198.51.100.9", 123, &from[SRC_VERSION]));
	FUZZ_CHECK(gn_addr_parse("::1", 50000, &from[SRC_V6]));
	FUZZ_CHECK(gn_addr_parse("127.0.0.1", 50001, &from[SRC_LOOP]));

	gn_time_ns t = sys.update_ns + INT64_C(64) * 1000000000;
	uint64_t calls = 0;
	for (int s = 0; s < SRC__COUNT; s++)
		check_one(srv, &sys, data, size, &from[s], s, t, &calls);
	for (int i = 1; i <= 10; i++)
		check_one(srv, &sys, data, size, &from[SRC_DEFAULT], SRC_DEFAULT,
			  t + (gn_time_ns)i * 1000000, &calls);

	const struct srv_stats *st = srv_stats(srv);
	FUZZ_CHECK(st->received == calls);
	uint64_t sum = 0;
	for (unsigned v = 0; v < SRV_VERDICT__COUNT; v++)
		sum += st->verdicts[v];
	FUZZ_CHECK(sum == calls);
	FUZZ_CHECK(st->answered == st->verdicts[SRV_ANSWER]);
	FUZZ_CHECK(st->kod_sent == st->verdicts[SRV_KOD]);
	FUZZ_CHECK(st->mru_entries <= st->mru_capacity);
	srv_free(srv);
	return 0;
}
