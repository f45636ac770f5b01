/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rlim: the client table (MRU) and the per-client rate limiter. Owns a fixed table
 * allocated once (hash buckets + entries), the leaky bucket per client, the kiss cadence
 * and the anti-flush eviction rule described in rlim.h (a sweeping hand over the entries,
 * so that a known client's packet touches only its bucket and its entry: no list
 * neighbours to relink, half the cache misses of an LRU list). Never allocates after
 * rlim_new. Does not own restrict flags or packets.
 */
#include "rlim.h"

#include <stdlib.h>
#include <string.h>

#include "gn_assert.h"

#define NIL UINT32_MAX
#define MS_PER_S 1000
#define NS_PER_MS 1000000LL
#define LOG2_MIN (-10)
#define LOG2_MAX 16
#define RLIM_MAX_CHAIN 16       /* entries on one hash chain at most */
#define RLIM_SCAN 8             /* entries the hand looks at for one newcomer */
#define SEG_PROTECTED 0x01u
#define FLAG_KISSED 0x02u

/* 40 octets: the whole cost of one client, plus its hash bucket. */
struct ent {
	uint64_t key;           /* IPv4 address, or the IPv6 /64 prefix, big-endian */
	gn_time_ns last_ns;     /* last packet */
	uint32_t level_ms;      /* leaky-bucket level at last_ns */
	uint32_t first_s;       /* first packet, whole seconds */
	uint32_t count;         /* packets, saturating */
	uint32_t kod_ms;        /* last kiss, ms of the clock modulo 2^32 (with FLAG_KISSED) */
	uint32_t hnext;         /* hash chain */
	uint16_t drops;         /* limited packets since the last kiss */
	uint8_t family;         /* 4 or 6 */
	uint8_t flags;          /* SEG_PROTECTED | FLAG_KISSED */
};

_Static_assert(sizeof(struct ent) == 40, "an MRU entry is 40 octets");

struct rlim {
	struct rlim_params p;
	uint32_t cap, used;
	uint32_t n_protected, protected_cap;
	uint32_t hand;          /* next entry the eviction sweep looks at */
	uint32_t *bucket;
	uint32_t mask;
	struct ent *e;
	uint64_t k0, k1;
	/* rate parameters in the units used on the hot path */
	uint32_t head_ms;       /* 2^average */
	uint32_t limit_ms;      /* burst * 2^average */
	int64_t min_headway_ns; /* 3/4 of 2^minimum */
	uint32_t kod_gap_ms;    /* 2^kod_log2 s in ms, 0 when kod_log2 < 0 */
	size_t bytes;
	struct rlim_stats st;
};

static int clamp_log2(int v)
{
	return v < LOG2_MIN ? LOG2_MIN : v > LOG2_MAX ? LOG2_MAX : v;
}

/* 2^log2 seconds in the given unit per second. */
static int64_t pow2_units(int log2, int64_t unit_per_s)
{
	log2 = clamp_log2(log2);
	int64_t v = log2 >= 0 ? unit_per_s << log2 : unit_per_s >> -log2;
	return v < 1 ? 1 : v;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;
	while (p < n && p < (1u << 31))
		p <<= 1;
	return p;
}

static size_t table_bytes(uint32_t cap)
{
	return (size_t)cap * sizeof(struct ent) + (size_t)pow2_at_least(cap) * sizeof(uint32_t);
}

size_t rlim_bytes_per_entry(void)
{
	return sizeof(struct ent) + 2 * sizeof(uint32_t);
}

uint32_t rlim_capacity_for_bytes(size_t bytes)
{
	uint32_t lo = RLIM_MIN_CAPACITY, hi = (uint32_t)(bytes / sizeof(struct ent) > UINT32_MAX / 2 ?
							 UINT32_MAX / 2 : bytes / sizeof(struct ent));
	if (hi <= lo)
		return RLIM_MIN_CAPACITY;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (table_bytes(mid) <= bytes)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

void rlim_params_default(struct rlim_params *p, uint32_t capacity)
{
	memset(p, 0, sizeof(*p));
	p->capacity = capacity;
	p->minage_s = RLIM_DEFAULT_MINAGE_S;
	p->protect_s = RLIM_DEFAULT_PROTECT_S;
	p->average_log2 = RLIM_DEFAULT_AVERAGE_LOG2;
	p->minimum_log2 = RLIM_DEFAULT_MINIMUM_LOG2;
	p->burst = RLIM_DEFAULT_BURST;
	p->kod_log2 = 0;
	p->kod_every = RLIM_DEFAULT_KOD_EVERY;
}

/* SipHash-1-3 (Aumasson and Bernstein) of the 9-octet message key ‖ family: keyed, so an
 * attacker who does not know the secret cannot choose addresses that share a chain. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                              \
	do {                                                                  \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);     \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                        \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                        \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);     \
	} while (0)

static uint32_t hash_key(const struct rlim *r, uint64_t key, uint8_t family)
{
	uint64_t v0 = r->k0 ^ 0x736f6d6570736575ULL, v1 = r->k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = r->k0 ^ 0x6c7967656e657261ULL, v3 = r->k1 ^ 0x7465646279746573ULL;
	uint64_t m = key;
	v3 ^= m;
	SIPROUND;
	v0 ^= m;
	m = (uint64_t)9 << 56 | family;
	v3 ^= m;
	SIPROUND;
	v0 ^= m;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return (uint32_t)(v0 ^ v1 ^ v2 ^ v3) & r->mask;
}

static void rehash_all(struct rlim *r)
{
	for (uint32_t b = 0; b <= r->mask; b++)
		r->bucket[b] = NIL;
	for (uint32_t i = 0; i < r->used; i++) {
		uint32_t h = hash_key(r, r->e[i].key, r->e[i].family);
		r->e[i].hnext = r->bucket[h];
		r->bucket[h] = i;
	}
}

void rlim_set_secret(struct rlim *r, const uint8_t s[16])
{
	uint64_t k0 = 0, k1 = 0;
	for (int i = 7; i >= 0; i--) {
		k0 = k0 << 8 | s[i];
		k1 = k1 << 8 | s[8 + i];
	}
	r->k0 = k0;
	r->k1 = k1;
	rehash_all(r);  /* what is in the table moves to its chain under the new key */
}

struct rlim *rlim_new(const struct rlim_params *p)
{
	REQUIRE(p != NULL);
	struct rlim *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->p = *p;
	r->cap = p->capacity < RLIM_MIN_CAPACITY ? RLIM_MIN_CAPACITY : p->capacity;
	if (r->cap > (1u << 30))
		r->cap = 1u << 30;
	if ((uint64_t)r->cap * (sizeof(struct ent) + 2 * sizeof(uint32_t)) > SIZE_MAX / 2) {
		free(r);        /* more than this machine can address (32-bit builds) */
		return NULL;
	}
	uint32_t nb = pow2_at_least(r->cap);
	r->mask = nb - 1;
	r->bucket = malloc((size_t)nb * sizeof(uint32_t));
	r->e = malloc((size_t)r->cap * sizeof(struct ent));
	if (r->bucket == NULL || r->e == NULL) {
		rlim_free(r);
		return NULL;
	}
	/* Touch all of it now: the memory is committed at start, not under a flood. */
	memset(r->bucket, 0xff, (size_t)nb * sizeof(uint32_t));
	memset(r->e, 0, (size_t)r->cap * sizeof(struct ent));
	r->bytes = sizeof(*r) + table_bytes(r->cap);
	r->protected_cap = r->cap - r->cap / 8;

	uint16_t burst = p->burst ? p->burst : 1;
	r->head_ms = (uint32_t)pow2_units(p->average_log2, MS_PER_S);
	uint64_t limit = (uint64_t)burst * r->head_ms;
	r->limit_ms = limit > UINT32_MAX ? UINT32_MAX : (uint32_t)limit;
	r->min_headway_ns = pow2_units(p->minimum_log2, GN_NS_PER_S) / 4 * 3;
	r->kod_gap_ms = p->kod_log2 < 0 ? 0 : (uint32_t)pow2_units(p->kod_log2, MS_PER_S);
	if (r->p.kod_every == 0)
		r->p.kod_every = 1;
	if (r->p.protect_s < r->p.minage_s)
		r->p.protect_s = r->p.minage_s;

	static const uint8_t fixed[16] = "gnomon-mru-key!";
	rlim_set_secret(r, fixed);
	r->st.capacity = r->cap;
	return r;
}

void rlim_free(struct rlim *r)
{
	if (r == NULL)
		return;
	free(r->bucket);
	free(r->e);
	free(r);
}

size_t rlim_memory_bytes(const struct rlim *r)
{
	return r->bytes;
}

const struct rlim_stats *rlim_stats(const struct rlim *r)
{
	return &r->st;
}

/* The table key of an address: IPv4 (also IPv4-mapped IPv6) as itself, IPv6 as its /64. */
static bool key_of(const struct gn_addr *a, uint64_t *key, uint8_t *family)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *p;
	uint64_t k = 0;
	if (a->family == GN_AF_INET) {
		p = a->addr;
	} else if (a->family == GN_AF_INET6 && memcmp(a->addr, v4mapped, 12) == 0) {
		p = a->addr + 12;
	} else if (a->family == GN_AF_INET6) {
		for (int i = 0; i < 8; i++)
			k = k << 8 | a->addr[i];
		*key = k;
		*family = GN_AF_INET6;
		return true;
	} else {
		return false;
	}
	for (int i = 0; i < 4; i++)
		k = k << 8 | p[i];
	*key = k;
	*family = GN_AF_INET;
	return true;
}

static uint32_t find(const struct rlim *r, uint32_t h, uint64_t key, uint8_t family,
		     uint32_t *chain)
{
	uint32_t n = 0;
	for (uint32_t i = r->bucket[h]; i != NIL; i = r->e[i].hnext) {
		n++;
		if (r->e[i].key == key && r->e[i].family == family) {
			*chain = n;
			return i;
		}
	}
	*chain = n;
	return NIL;
}

static void hash_unlink(struct rlim *r, uint32_t i)
{
	uint32_t h = hash_key(r, r->e[i].key, r->e[i].family);
	uint32_t *pp = &r->bucket[h];
	while (*pp != NIL && *pp != i)
		pp = &r->e[*pp].hnext;
	INSIST(*pp == i);
	*pp = r->e[i].hnext;
	r->e[i].hnext = NIL;
}

/* Idle time of an entry; a clock stepped back makes it "idle forever" (reusable). */
static bool idle_at_least(const struct ent *e, gn_time_ns now_ns, uint32_t s)
{
	gn_time_ns idle = now_ns - e->last_ns;
	return idle < 0 || idle >= (gn_time_ns)s * GN_NS_PER_S;
}

/* May this entry be given to a newcomer? One-shot (probation) entries after minage_s of
 * silence, protected ones only after protect_s. */
static bool evictable(const struct rlim *r, const struct ent *e, gn_time_ns now_ns)
{
	return idle_at_least(e, now_ns, (e->flags & SEG_PROTECTED) ? r->p.protect_s : r->p.minage_s);
}

/* An entry for a newcomer: a free one, or the first evictable one among the next
 * RLIM_SCAN entries under the sweeping hand (the hand moves on either way, so over
 * successive newcomers it visits the whole table); NIL if none. */
static uint32_t take_slot(struct rlim *r, gn_time_ns now_ns)
{
	if (r->used < r->cap)
		return r->used++;
	for (unsigned k = 0; k < RLIM_SCAN; k++) {
		uint32_t v = r->hand;
		r->hand = r->hand + 1 == r->cap ? 0 : r->hand + 1;
		struct ent *e = &r->e[v];
		if (!evictable(r, e, now_ns))
			continue;
		if (e->flags & SEG_PROTECTED) {
			r->st.evicted_protected++;
			r->n_protected--;
		} else {
			r->st.evicted_probation++;
		}
		hash_unlink(r, v);
		return v;
	}
	return NIL;
}

/* A newcomer the table has no room for is served without state, as ntpd serves it: under
 * a flood of newcomers the real clients keep their entries (and their limits), and new
 * real clients are not turned away because the table is busy. */
static enum rlim_result untracked(struct rlim *r)
{
	r->st.untracked++;
	return RLIM_PASS;
}

/* A known client seen again: a second packet promotes it from probation to protected (it
 * came back: a real client, not a one-shot source), while protected entries fill at most
 * 7/8 of the table, so one-shot entries always have room to come and go. */
static void touch(struct rlim *r, struct ent *e)
{
	if (!(e->flags & SEG_PROTECTED) && r->n_protected < r->protected_cap) {
		e->flags |= SEG_PROTECTED;
		r->n_protected++;
		r->st.promoted++;
	}
}

enum rlim_result rlim_account(struct rlim *r, const struct gn_addr *a, gn_time_ns now_ns,
			      bool limited, bool kod)
{
	REQUIRE(r != NULL && a != NULL);
	uint64_t key;
	uint8_t family;
	if (!key_of(a, &key, &family))
		return untracked(r);
	uint32_t h = hash_key(r, key, family), chain;
	uint32_t i = find(r, h, key, family, &chain);
	if (chain > r->st.longest_chain)
		r->st.longest_chain = chain;
	struct ent *e;
	gn_time_ns elapsed_ns;
	if (i == NIL) {
		/* A chain this long means someone found colliding addresses (the secret was
		 * not set, or leaked): stop tracking newcomers there, so a lookup stays cheap. */
		if (chain >= RLIM_MAX_CHAIN)
			return untracked(r);
		i = take_slot(r, now_ns);
		if (i == NIL)
			return untracked(r);
		e = &r->e[i];
		memset(e, 0, sizeof(*e));
		e->key = key;
		e->family = family;
		e->first_s = (uint32_t)(now_ns / GN_NS_PER_S);
		e->drops = r->p.kod_every;      /* so the first limited packet may get a kiss */
		e->hnext = r->bucket[h];
		r->bucket[h] = i;
		r->st.inserted++;
		elapsed_ns = INT64_MAX;
	} else {
		e = &r->e[i];
		touch(r, e);
		elapsed_ns = now_ns - e->last_ns;
		if (elapsed_ns < 0) {
			/* The clock went back: nothing is known about this client's rate. */
			e->level_ms = 0;
			elapsed_ns = INT64_MAX;
		}
	}
	r->st.entries = r->used;
	if (e->count < UINT32_MAX)
		e->count++;
	/* Drain the bucket by the time since the previous packet. */
	int64_t elapsed_ms = elapsed_ns / NS_PER_MS;
	e->level_ms = elapsed_ms >= (int64_t)e->level_ms ? 0 : e->level_ms - (uint32_t)elapsed_ms;
	e->last_ns = now_ns;

	bool over = (uint64_t)e->level_ms + r->head_ms > r->limit_ms ||
		    elapsed_ns < r->min_headway_ns;
	if (!limited || !over) {
		uint64_t lv = (uint64_t)e->level_ms + r->head_ms;
		e->level_ms = lv > r->limit_ms ? r->limit_ms : (uint32_t)lv;
		return RLIM_PASS;
	}
	r->st.limited++;
	if (e->drops < UINT16_MAX)
		e->drops++;
	if (!kod)
		return RLIM_LIMITED;
	/* ms modulo 2^32 (49 days): a kiss that old is long past the gap anyway, and a wrap
	 * only delays one kiss. */
	uint32_t now_ms = (uint32_t)(now_ns / NS_PER_MS);
	bool spaced = !(e->flags & FLAG_KISSED) || (uint32_t)(now_ms - e->kod_ms) >= r->kod_gap_ms;
	if (e->drops >= r->p.kod_every && spaced) {
		e->drops = 0;
		e->kod_ms = now_ms;
		e->flags |= FLAG_KISSED;
		r->st.kod++;
		return RLIM_LIMITED_KOD;
	}
	return RLIM_LIMITED;
}

uint32_t rlim_bucket(const struct rlim *r, const struct gn_addr *a)
{
	uint64_t key;
	uint8_t family;
	if (!key_of(a, &key, &family))
		return 0;
	return hash_key(r, key, family);
}

bool rlim_lookup(const struct rlim *r, const struct gn_addr *a, struct rlim_client *out)
{
	uint64_t key;
	uint8_t family;
	if (!key_of(a, &key, &family))
		return false;
	uint32_t chain;
	uint32_t i = find(r, hash_key(r, key, family), key, family, &chain);
	if (i == NIL)
		return false;
	const struct ent *e = &r->e[i];
	memset(out, 0, sizeof(*out));
	out->family = family;
	if (family == GN_AF_INET) {
		for (int b = 0; b < 4; b++)
			out->addr[b] = (uint8_t)(key >> (24 - 8 * b));
	} else {
		for (int b = 0; b < 8; b++)
			out->addr[b] = (uint8_t)(key >> (56 - 8 * b));
	}
	out->last_ns = e->last_ns;
	out->first_s = e->first_s;
	out->count = e->count;
	out->protected_ = (e->flags & SEG_PROTECTED) != 0;
	out->level_s = e->level_ms / 1e3;
	return true;
}
