/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * auth: the symmetric key table, key-file parsing and MAC checks (RFC 5905 §7.3, §9.2;
 * RFC 8573). Owns no primitive: MD5, SHA1 and AES-CMAC are reached through the
 * struct auth_crypto seam handed in by the caller. See auth.h for the contract.
 */
#include "auth.h"

#include <stdlib.h>
#include <string.h>

#include "gn_assert.h"

struct auth_key {
	uint32_t id;
	enum auth_alg alg;
	bool trusted;
	uint8_t len;
	uint8_t key[AUTH_KEY_MAX_LEN];
};

struct auth_keys {
	struct auth_key *k;     /* sorted by id, for binary search */
	size_t n, cap;
};

/* Overwrite key material through a volatile pointer so the stores are not dropped as dead
 * before free() or the end of a stack frame. */
static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
}

struct auth_keys *auth_keys_new(void)
{
	return calloc(1, sizeof(struct auth_keys));
}

void auth_keys_free(struct auth_keys *keys)
{
	if (!keys)
		return;
	if (keys->k) /* wipe key material before giving the memory back */
		wipe(keys->k, keys->cap * sizeof *keys->k);
	free(keys->k);
	free(keys);
}

/* Index of id, or of where it would be inserted (*found false). */
static size_t find(const struct auth_keys *keys, uint32_t id, bool *found)
{
	size_t lo = 0, hi = keys->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (keys->k[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < keys->n && keys->k[lo].id == id;
	return lo;
}

static const struct auth_key *lookup(const struct auth_keys *keys, uint32_t id)
{
	bool found;
	if (!keys)
		return NULL;
	size_t i = find(keys, id, &found);
	return found ? &keys->k[i] : NULL;
}

size_t auth_digest_len(enum auth_alg alg)
{
	switch (alg) {
	case AUTH_ALG_MD5: return PKT_MAC_MD5_LEN;
	case AUTH_ALG_SHA1: return PKT_MAC_SHA1_LEN;
	case AUTH_ALG_AES128_CMAC: return PKT_MAC_MD5_LEN; /* RFC 8573 §4: 128-bit tag */
	}
	return 0;
}

const char *auth_alg_name(enum auth_alg alg)
{
	switch (alg) {
	case AUTH_ALG_MD5: return "MD5";
	case AUTH_ALG_SHA1: return "SHA1";
	case AUTH_ALG_AES128_CMAC: return "AES128-CMAC";
	}
	return "unknown";
}

static bool key_len_ok(enum auth_alg alg, size_t len)
{
	if (alg == AUTH_ALG_AES128_CMAC)
		return len == AUTH_CMAC_KEY_LEN;
	return auth_digest_len(alg) != 0 && len >= 1 && len <= AUTH_KEY_MAX_LEN;
}

bool auth_keys_add(struct auth_keys *keys, uint32_t id, enum auth_alg alg,
		   const uint8_t *key, size_t key_len)
{
	REQUIRE(keys != NULL);
	if (id == 0 || key == NULL || !key_len_ok(alg, key_len))
		return false;
	bool found;
	size_t at = find(keys, id, &found);
	if (found)
		return false;
	if (keys->n == keys->cap) {
		size_t ncap = keys->cap ? keys->cap * 2 : 8;
		struct auth_key *nk = calloc(ncap, sizeof *nk);
		if (!nk)
			return false;
		if (keys->n)
			memcpy(nk, keys->k, keys->n * sizeof *nk);
		if (keys->k)
			wipe(keys->k, keys->cap * sizeof *keys->k);
		free(keys->k);
		keys->k = nk;
		keys->cap = ncap;
	}
	memmove(&keys->k[at + 1], &keys->k[at], (keys->n - at) * sizeof *keys->k);
	struct auth_key *k = &keys->k[at];
	memset(k, 0, sizeof *k);
	k->id = id;
	k->alg = alg;
	k->len = (uint8_t)key_len;
	memcpy(k->key, key, key_len);
	keys->n++;
	return true;
}

bool auth_keys_trust(struct auth_keys *keys, uint32_t id, bool trusted)
{
	REQUIRE(keys != NULL);
	bool found;
	size_t i = find(keys, id, &found);
	if (!found)
		return false;
	keys->k[i].trusted = trusted;
	return true;
}

void auth_keys_trust_all(struct auth_keys *keys)
{
	REQUIRE(keys != NULL);
	for (size_t i = 0; i < keys->n; i++)
		keys->k[i].trusted = true;
}

size_t auth_keys_count(const struct auth_keys *keys) { return keys ? keys->n : 0; }
bool auth_keys_has(const struct auth_keys *keys, uint32_t id) { return lookup(keys, id) != NULL; }

bool auth_keys_is_trusted(const struct auth_keys *keys, uint32_t id)
{
	const struct auth_key *k = lookup(keys, id);
	return k && k->trusted;
}

bool auth_keys_alg(const struct auth_keys *keys, uint32_t id, enum auth_alg *alg)
{
	const struct auth_key *k = lookup(keys, id);
	if (!k)
		return false;
	if (alg)
		*alg = k->alg;
	return true;
}

/* --- key file parsing --- */

struct tok {
	const char *s;
	size_t len;
	unsigned col;
};

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool tok_ieq(const struct tok *t, const char *word)
{
	size_t n = strlen(word);
	if (t->len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(t->s[i]) != word[i])
			return false;
	return true;
}

static bool tok_iprefix(const struct tok *t, const char *prefix)
{
	size_t n = strlen(prefix);
	if (t->len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(t->s[i]) != prefix[i])
			return false;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void set_err(struct auth_parse_error *err, unsigned line, unsigned col,
		    const char *msg, const struct tok *t)
{
	if (!err)
		return;
	err->line = line;
	err->column = col;
	size_t cap = sizeof err->msg, n = 0;
	for (const char *p = msg; *p && n + 1 < cap; p++)
		err->msg[n++] = *p;
	if (t && t->len && n + 4 < cap) {
		/* Quote the token, shortened, so the message names what was refused. A key's
		 * material is never quoted (callers pass NULL for it). */
		err->msg[n++] = ':';
		err->msg[n++] = ' ';
		err->msg[n++] = '"';
		for (size_t i = 0; i < t->len && i < 32 && n + 2 < cap; i++)
			err->msg[n++] = t->s[i];
		err->msg[n++] = '"';
	}
	err->msg[n] = '\0';
}

static bool parse_id(const struct tok *t, uint32_t *id)
{
	if (t->len == 0 || t->len > 10)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < t->len; i++) {
		if (t->s[i] < '0' || t->s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(t->s[i] - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return false;
	*id = (uint32_t)v;
	return true;
}

/* Type names of both syntaxes, case-insensitive (NTPsec: md5, sha1, aes-128; ntpd: M for
 * MD5; chrony: MD5, SHA1, AES128). */
static bool parse_type(const struct tok *t, enum auth_alg *alg)
{
	if (tok_ieq(t, "md5") || tok_ieq(t, "m")) {
		*alg = AUTH_ALG_MD5;
	} else if (tok_ieq(t, "sha1") || tok_ieq(t, "sha-1")) {
		*alg = AUTH_ALG_SHA1;
	} else if (tok_ieq(t, "aes-128") || tok_ieq(t, "aes128") || tok_ieq(t, "aes-128-cmac") ||
		   tok_ieq(t, "aes128-cmac") || tok_ieq(t, "aes128cmac")) {
		*alg = AUTH_ALG_AES128_CMAC;
	} else {
		return false;
	}
	return true;
}

/* Hex digits to octets. Returns the count, or -1 if odd, not hex or too long. */
static long parse_hex(const char *s, size_t len, uint8_t *out, size_t cap)
{
	if (len == 0 || len % 2 != 0 || len / 2 > cap)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

/* One non-comment line with its tokens. Returns NULL on success or a reason. */
static const char *parse_line(struct auth_keys *keys, const struct tok *tk, size_t ntok,
			      unsigned *bad_col, const struct tok **bad_tok)
{
	uint32_t id;
	enum auth_alg alg = AUTH_ALG_MD5;
	const struct tok *key;
	uint8_t material[AUTH_KEY_MAX_LEN];
	long mlen;

	*bad_tok = NULL;
	if (ntok < 2) {
		*bad_col = tk[0].col;
		*bad_tok = &tk[0];
		return "expected: ID TYPE KEY (NTPsec) or ID [TYPE] HEX:/ASCII:KEY (chrony)";
	}
	if (ntok > 3) {
		/* Not quoted: it may be the rest of a key written with a space in it. */
		*bad_col = tk[3].col;
		return "unexpected text after the key (keys cannot contain spaces)";
	}
	if (!parse_id(&tk[0], &id)) {
		*bad_col = tk[0].col;
		*bad_tok = &tk[0];
		return "key id must be a decimal number from 1 to 4294967295";
	}
	if (ntok == 3 && !parse_type(&tk[1], &alg)) {
		*bad_col = tk[1].col;
		*bad_tok = &tk[1];
		return "unsupported key type (md5, sha1, aes-128 / MD5, SHA1, AES128)";
	}
	key = &tk[ntok - 1];
	*bad_col = key->col;

	bool ascii = false;
	if (tok_iprefix(key, "hex:")) {                 /* chrony */
		mlen = parse_hex(key->s + 4, key->len - 4, material, sizeof material);
		if (mlen < 0)
			return "HEX: key must be an even number of hex digits, at most 128";
	} else if (tok_iprefix(key, "ascii:")) {        /* chrony */
		if (key->len - 6 == 0 || key->len - 6 > AUTH_KEY_MAX_LEN)
			return "ASCII: key must be 1 to 64 characters";
		mlen = (long)(key->len - 6);
		memcpy(material, key->s + 6, (size_t)mlen);
		ascii = true;
	} else if (ntok == 2 || key->len <= AUTH_ASCII_KEY_MAX) {
		/* chrony's bare key (ID KEY) and NTPsec's short key: ASCII. */
		if (key->len > AUTH_KEY_MAX_LEN)
			return "ASCII key must be at most 64 characters";
		mlen = (long)key->len;
		memcpy(material, key->s, key->len);
		ascii = true;
	} else {                                        /* NTPsec: longer than 20 is hex */
		mlen = parse_hex(key->s, key->len, material, sizeof material);
		if (mlen < 0)
			return "a key longer than 20 characters must be hex (even length, at most 128 "
			       "digits); for an ASCII key in chrony syntax write ASCII:";
	}
	for (long i = 0; ascii && i < mlen; i++) {
		if (material[i] < 0x21 || material[i] > 0x7e) {
			wipe(material, sizeof material);
			return "an ASCII key must be printable characters without spaces";
		}
	}
	if (alg == AUTH_ALG_AES128_CMAC && mlen != AUTH_CMAC_KEY_LEN) {
		wipe(material, sizeof material);
		return "an AES-128 key must be 16 octets (32 hex digits)";
	}
	if (lookup(keys, id)) {
		wipe(material, sizeof material);
		*bad_col = tk[0].col;
		*bad_tok = &tk[0];
		return "duplicate key id";
	}
	bool ok = auth_keys_add(keys, id, alg, material, (size_t)mlen);
	wipe(material, sizeof material);
	return ok ? NULL : "out of memory";
}

#define AUTH_MAX_TOKENS 4 /* one more than a line may have, to report the extra */

struct auth_keys *auth_keys_parse(const char *text, size_t len, struct auth_parse_error *err)
{
	struct auth_keys *keys = auth_keys_new();
	if (!keys) {
		set_err(err, 0, 0, "out of memory", NULL);
		return NULL;
	}
	if (err) {
		err->line = 0;
		err->column = 0;
		err->msg[0] = '\0';
	}
	size_t pos = 0;
	unsigned line = 0;
	while (pos < len) {
		line++;
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		struct tok tk[AUTH_MAX_TOKENS];
		size_t ntok = 0;
		for (size_t i = pos; i < end;) {
			char c = text[i];
			if (c == '#')
				break; /* comment to end of line */
			if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
				i++;
				continue;
			}
			if (c == '\0') {
				set_err(err, line, (unsigned)(i - pos + 1), "NUL character in key file", NULL);
				auth_keys_free(keys);
				return NULL;
			}
			size_t j = i;
			while (j < end && text[j] != ' ' && text[j] != '\t' && text[j] != '\r' &&
			       text[j] != '#' && text[j] != '\0' && text[j] != '\v' && text[j] != '\f')
				j++;
			if (ntok < AUTH_MAX_TOKENS) {
				tk[ntok].s = text + i;
				tk[ntok].len = j - i;
				tk[ntok].col = (unsigned)(i - pos + 1);
				ntok++;
			}
			i = j;
		}
		if (ntok > 0) {
			unsigned col = 0;
			const struct tok *bad = NULL;
			const char *why = parse_line(keys, tk, ntok, &col, &bad);
			if (why) {
				set_err(err, line, col, why, bad);
				auth_keys_free(keys);
				return NULL;
			}
		}
		pos = end + 1;
	}
	return keys;
}

/* --- MACs --- */

bool auth_ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t diff = 0;
	for (size_t i = 0; i < n; i++)
		diff = (uint8_t)(diff | (a[i] ^ b[i]));
	return diff == 0;
}

static size_t compute(const struct auth_key *k, const struct auth_crypto *c,
		      const uint8_t *msg, size_t msg_len, uint8_t out[AUTH_DIGEST_MAX_LEN])
{
	REQUIRE(c != NULL);
	bool ok;
	if (k->alg == AUTH_ALG_AES128_CMAC)
		ok = c->cmac != NULL && c->cmac(c->ctx, k->key, msg, msg_len, out); /* RFC 8573 §4 */
	else /* RFC 5905 §7.3: digest of key followed by message */
		ok = c->digest != NULL && c->digest(c->ctx, k->alg, k->key, k->len, msg, msg_len, out);
	return ok ? auth_digest_len(k->alg) : 0;
}

size_t auth_mac_compute(const struct auth_keys *keys, const struct auth_crypto *crypto,
			uint32_t id, const uint8_t *msg, size_t msg_len,
			uint8_t out[AUTH_DIGEST_MAX_LEN])
{
	const struct auth_key *k = lookup(keys, id);
	if (!k)
		return 0;
	return compute(k, crypto, msg, msg_len, out);
}

bool auth_sign(const struct auth_keys *keys, const struct auth_crypto *crypto, uint32_t id,
	       uint8_t *buf, size_t cap, size_t *used)
{
	REQUIRE(used != NULL && buf != NULL);
	const struct auth_key *k = lookup(keys, id);
	if (!k || !k->trusted || *used > cap)
		return false;
	uint8_t d[AUTH_DIGEST_MAX_LEN];
	size_t n = compute(k, crypto, buf, *used, d);
	if (n == 0)
		return false;
	bool ok = pkt_append_mac(buf, cap, used, id, d, n);
	wipe(d, sizeof d);
	return ok;
}

enum auth_result auth_verify(const struct auth_keys *keys, const struct auth_crypto *crypto,
			     const uint8_t *buf, size_t len, const struct pkt_mac *mac)
{
	if (mac == NULL || !mac->present)
		return AUTH_NONE;
	if (mac->crypto_nak)
		return AUTH_CRYPTO_NAK;
	/* The decoder guarantees this; anything else is a caller's bug, not input. */
	REQUIRE(buf != NULL);
	REQUIRE((size_t)mac->offset + PKT_MAC_KEYID_LEN + mac->digest_len <= len);
	const struct auth_key *k = lookup(keys, mac->keyid);
	if (!k)
		return AUTH_UNKNOWN_KEY;
	if (!k->trusted)
		return AUTH_UNTRUSTED;
	if (mac->digest_len != auth_digest_len(k->alg))
		return AUTH_BAD_LENGTH;
	uint8_t d[AUTH_DIGEST_MAX_LEN];
	size_t n = compute(k, crypto, buf, mac->offset, d);
	if (n == 0)
		return AUTH_CRYPTO_FAIL;
	bool same = auth_ct_equal(d, buf + mac->offset + PKT_MAC_KEYID_LEN, n);
	wipe(d, sizeof d);
	return same ? AUTH_OK : AUTH_BAD_MAC;
}

const char *auth_result_name(enum auth_result r)
{
	switch (r) {
	case AUTH_OK: return "ok";
	case AUTH_NONE: return "none";
	case AUTH_CRYPTO_NAK: return "crypto-nak";
	case AUTH_UNKNOWN_KEY: return "unknown-key";
	case AUTH_UNTRUSTED: return "untrusted";
	case AUTH_BAD_LENGTH: return "bad-length";
	case AUTH_BAD_MAC: return "bad-mac";
	case AUTH_CRYPTO_FAIL: return "crypto-fail";
	case AUTH_RESULT__COUNT: break;
	}
	return "unknown";
}

bool auth_refid_ipv6(const struct auth_crypto *crypto, const uint8_t addr[16], uint32_t *refid)
{
	REQUIRE(crypto != NULL && refid != NULL);
	uint8_t d[AUTH_DIGEST_MAX_LEN];
	if (crypto->digest == NULL || !crypto->digest(crypto->ctx, AUTH_ALG_MD5, addr, 16, NULL, 0, d))
		return false;
	*refid = ntp_u32_load(d); /* RFC 5905 §7.3: first four octets of the MD5 hash */
	return true;
}
