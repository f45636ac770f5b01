/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * srv: answers to client requests (RFC 5905 §8–§9, the "fast_xmit" of Appendix A.5.3).
 * Owns the order of the decisions for one datagram: restrict (acl), version and mode,
 * authentication (none yet: a MAC gets no answer), the rate limit (rlim), then the answer
 * or a RATE kiss; and the counters of every outcome. Builds the 48-octet answer directly,
 * never larger than the request (no amplification).
 *
 * Does not own: sockets, the clock, the system variables.
 */
#include "srv.h"

#include <stdlib.h>
#include <string.h>

#include "gn_assert.h"
#include "acl.h"
#include "pkt.h"
#include "rlim.h"

#define PHI_S_PER_S 15e-6 /* RFC 5905 §7.2 PHI: frequency tolerance, 15 ppm */
#define SRV_DEFAULT_MAXMEM_KIB 1024 /* ntpd's mru maxmem default */
#define SRV_KISS_RATE "RATE"       /* RFC 5905 §7.4 kiss code */

struct srv {
	struct acl *acl;
	struct rlim *rlim;
	bool secret_set;
	struct srv_stats stats;
};

static uint32_t mru_capacity(const struct cfg_mru *m)
{
	if (m->maxdepth > 0)
		return m->maxdepth;
	uint64_t kib = m->maxmem_kib ? m->maxmem_kib : SRV_DEFAULT_MAXMEM_KIB;
	return rlim_capacity_for_bytes((size_t)(kib * 1024u));
}

void srv_rlim_params(const struct cfg *cfg, struct rlim_params *p)
{
	rlim_params_default(p, mru_capacity(&cfg->mru));
	if (cfg->mru.minage_s)
		p->minage_s = cfg->mru.minage_s;
	/* ntpd's maxage (default 64 s) says when an idle entry may be recycled; a client
	 * that has come back (protected) is kept at least RLIM_DEFAULT_PROTECT_S, longer
	 * than its poll interval, so a flood cannot recycle it between two of its polls. */
	if (cfg->mru.maxage_s > p->protect_s)
		p->protect_s = cfg->mru.maxage_s;
	const struct cfg_ratelimit *rl = &cfg->ratelimit;
	/* A configuration from cfg_defaults has burst set; an all-zero one gets ntpd's
	 * defaults. */
	if (rl->set || rl->burst != 0) {
		p->average_log2 = rl->average_log2;
		p->minimum_log2 = rl->minimum_log2;
		p->burst = rl->burst ? rl->burst : RLIM_DEFAULT_BURST;
		p->kod_log2 = rl->kod_log2;
	}
}

struct srv *srv_new(const struct cfg *cfg)
{
	REQUIRE(cfg != NULL);
	struct srv *srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return NULL;
	struct rlim_params p;
	srv_rlim_params(cfg, &p);
	srv->acl = acl_new(cfg->restricts, cfg->n_restricts);
	srv->rlim = rlim_new(&p);
	if (srv->acl == NULL || srv->rlim == NULL) {
		srv_free(srv);
		return NULL;
	}
	srv->stats.mru_capacity = rlim_stats(srv->rlim)->capacity;
	srv->stats.mru_bytes = rlim_memory_bytes(srv->rlim);
	return srv;
}

void srv_free(struct srv *srv)
{
	if (srv == NULL)
		return;
	acl_free(srv->acl);
	rlim_free(srv->rlim);
	free(srv);
}

void srv_set_secret(struct srv *srv, const uint8_t secret[16])
{
	rlim_set_secret(srv->rlim, secret);
	srv->secret_set = true;
}

/* Without srv_set_secret, the hash key comes from the nanoseconds of the first request's
 * timestamps: far weaker than a random key, better than a constant in the source, and
 * deterministic under the simulator. (The chain bound in rlim keeps lookups cheap even
 * with a known key.) */
static void default_secret(struct srv *srv, gn_time_ns rx_ns, gn_time_ns now_ns)
{
	uint8_t k[16];
	uint64_t a = (uint64_t)rx_ns * 0x9e3779b97f4a7c15ULL ^ (uint64_t)now_ns;
	uint64_t b = (uint64_t)now_ns * 0xc2b2ae3d27d4eb4fULL ^ (uint64_t)rx_ns;
	for (int i = 0; i < 8; i++) {
		k[i] = (uint8_t)(a >> (8 * i));
		k[8 + i] = (uint8_t)(b >> (8 * i));
	}
	srv_set_secret(srv, k);
}

uint32_t srv_restrict_flags(const struct srv *srv, const struct gn_addr *from)
{
	return acl_match(srv->acl, from);
}

size_t srv_memory_bytes(const struct srv *srv)
{
	return rlim_memory_bytes(srv->rlim);
}

const struct rlim *srv_rlim(const struct srv *srv)
{
	return srv->rlim;
}

const struct srv_stats *srv_stats(const struct srv *srv)
{
	return &srv->stats;
}

const char *srv_verdict_name(enum srv_verdict v)
{
	static const char *const names[SRV_VERDICT__COUNT] = {
		[SRV_ANSWER] = "answer",
		[SRV_KOD] = "kod",
		[SRV_DROP_MALFORMED] = "malformed",
		[SRV_DROP_VERSION] = "version",
		[SRV_DROP_MODE] = "mode",
		[SRV_DROP_RESTRICT] = "restrict",
		[SRV_DROP_RATE] = "rate",
		[SRV_DROP_AUTH] = "auth",
		[SRV_DROP_CONTROL] = "control",
	};
	if ((unsigned)v >= SRV_VERDICT__COUNT)
		return "unknown";
	return names[v];
}

static enum srv_verdict count(struct srv *srv, enum srv_verdict v)
{
	srv->stats.verdicts[v]++;
	if (v == SRV_ANSWER)
		srv->stats.answered++;
	else if (v == SRV_KOD)
		srv->stats.kod_sent++;
	return v;
}

static enum rlim_result account(struct srv *srv, const struct gn_addr *from, gn_time_ns t_ns,
				uint32_t flags, bool kod_allowed)
{
	enum rlim_result r = rlim_account(srv->rlim, from, t_ns, (flags & CFG_RES_LIMITED) != 0,
					  kod_allowed && (flags & CFG_RES_KOD) != 0);
	const struct rlim_stats *rs = rlim_stats(srv->rlim);
	srv->stats.mru_entries = rs->entries;
	srv->stats.mru_evictions = rs->evicted_probation + rs->evicted_protected;
	srv->stats.mru_untracked = rs->untracked;
	return r;
}

/* RFC 5905 §7.4: a RATE kiss. As NTPsec sends it (vectors/kod.json): LI 3, the request's
 * version, mode 4, stratum 0, poll and precision copied, refid "RATE", reftime 0, and
 * org = rec = xmt = the request's transmit timestamp (so it reveals nothing of our clock
 * and costs nothing to build). */
static void build_kiss(const uint8_t *req, uint8_t vn, uint8_t *r)
{
	memset(r, 0, PKT_HEADER_LEN);
	r[0] = (uint8_t)(PKT_LI_UNSYNC << 6 | vn << 3 | PKT_MODE_SERVER);
	r[1] = 0;
	r[2] = req[2];
	r[3] = req[3];
	ntp_u32_store(r + 12, pkt_refid_ascii(SRV_KISS_RATE));
	memcpy(r + 24, req + 40, 8);
	memcpy(r + 32, req + 40, 8);
	memcpy(r + 40, req + 40, 8);
}

/* RFC 5905 Appendix A.5.3 fast_xmit: the answer to a client. */
static void build_answer(const struct srv_sysvars *sys, const uint8_t *req, uint8_t vn,
			 gn_time_ns rx_ns, gn_time_ns now_ns, uint8_t *r)
{
	/* Unsynchronised: LI 3 and stratum 0 on the wire, as ntpd and chrony send. */
	bool unsync = sys->leap == PKT_LI_UNSYNC || sys->stratum == 0 || sys->stratum >= 16;
	memset(r, 0, PKT_HEADER_LEN);
	r[0] = (uint8_t)((unsync ? PKT_LI_UNSYNC : sys->leap & 3u) << 6 | vn << 3 | PKT_MODE_SERVER);
	r[1] = unsync ? 0 : sys->stratum;
	r[2] = req[2];  /* poll: echoed, as fast_xmit, chronyd and NTPsec do */
	r[3] = (uint8_t)sys->precision_log2;
	/* Root dispersion grows by PHI per second since the system variables were updated
	 * (RFC 5905 §11.2: epsilon grows at PHI). */
	double disp_s = sys->rootdisp_s;
	if (now_ns > sys->update_ns)
		disp_s += PHI_S_PER_S * gn_ns_to_s(now_ns - sys->update_ns);
	ntp_short32_store(r + 4, ntp_short32_from_s(sys->rootdelay_s));
	ntp_short32_store(r + 8, ntp_short32_from_s(disp_s));
	ntp_u32_store(r + 12, sys->refid);
	ntp_ts64_store(r + 16, sys->reftime);
	memcpy(r + 24, req + 40, 8);                    /* org = the request's xmt */
	ntp_ts64 rec = ntp_ts64_from_ns(rx_ns);
	ntp_ts64_store(r + 32, rec);
	/* xmt (the daemon restamps it; its fast path passes the receive stamp for now) */
	ntp_ts64_store(r + 40, now_ns == rx_ns ? rec : ntp_ts64_from_ns(now_ns));
}

enum srv_verdict srv_handle(struct srv *srv, const struct srv_sysvars *sys,
			    const uint8_t *req, size_t len, const struct gn_addr *from,
			    gn_time_ns rx_ns, gn_time_ns now_ns,
			    uint8_t *reply, size_t cap, size_t *reply_len)
{
	REQUIRE(srv != NULL && sys != NULL && from != NULL && reply_len != NULL);
	REQUIRE(reply != NULL && cap >= PKT_HEADER_LEN);
	*reply_len = 0;
	srv->stats.received++;
	if (!srv->secret_set)
		default_secret(srv, rx_ns, now_ns);
	if (req == NULL || len < 1)
		return count(srv, SRV_DROP_MALFORMED);
	uint8_t vn = (uint8_t)((req[0] >> 3) & 7u), mode = (uint8_t)(req[0] & 7u);
	uint32_t flags = acl_match(srv->acl, from);

	if (flags & CFG_RES_IGNORE)
		return count(srv, SRV_DROP_RESTRICT);
	if (mode == PKT_MODE_PRIVATE)
		return count(srv, SRV_DROP_MODE);       /* mode 7: never, silently */
	if (vn == 0 || vn > 4)
		return count(srv, SRV_DROP_VERSION);
	if (mode == PKT_MODE_CONTROL) {
		if (flags & CFG_RES_NOQUERY)
			return count(srv, SRV_DROP_RESTRICT);
		if (account(srv, from, rx_ns, flags, false) != RLIM_PASS)
			return count(srv, SRV_DROP_RATE);
		return count(srv, SRV_DROP_CONTROL);    /* mode 6 content: a later issue */
	}
	/* A version 1 packet with mode 0 is a client request (RFC 1059 had no mode field;
	 * ntpd answers it so). */
	if (!(mode == PKT_MODE_CLIENT || (vn == 1 && mode == PKT_MODE_RESERVED)))
		return count(srv, SRV_DROP_MODE);
	if (flags & (CFG_RES_NOSERVE | CFG_RES_NOTRUST))
		return count(srv, SRV_DROP_RESTRICT);   /* notrust: nothing is authenticated yet */
	if ((flags & CFG_RES_VERSION) && vn != 4)
		return count(srv, SRV_DROP_RESTRICT);
	if (len < PKT_HEADER_LEN)
		return count(srv, SRV_DROP_MALFORMED);
	if (len > PKT_HEADER_LEN) {
		/* Rare path: extension fields or a MAC; decode strictly. */
		struct pkt p;
		if (pkt_decode(req, len, &p) != PKT_OK)
			return count(srv, SRV_DROP_MALFORMED);
		if (p.mac.present)
			return count(srv, SRV_DROP_AUTH);       /* until auth exists: no answer */
	}
	switch (account(srv, from, rx_ns, flags, true)) {
	case RLIM_PASS:
		break;
	case RLIM_LIMITED:
		return count(srv, SRV_DROP_RATE);
	case RLIM_LIMITED_KOD:
		build_kiss(req, vn, reply);
		*reply_len = PKT_HEADER_LEN;
		return count(srv, SRV_KOD);
	}
	build_answer(sys, req, vn, rx_ns, now_ns, reply);
	*reply_len = PKT_HEADER_LEN;
	ENSURE(*reply_len <= len);      /* no amplification */
	return count(srv, SRV_ANSWER);
}
