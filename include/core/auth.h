/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * auth: symmetric-key authentication of NTP packets (RFC 5905 §7.3 and §9.2, RFC 8573).
 *
 * Owns: the key table (key id, algorithm, key material, trusted flag); parsing key files
 * from a text buffer in both NTPsec/ntpd syntax ("ID TYPE KEY": a key of 20 characters or
 * fewer is ASCII, a longer one hex) and chrony syntax ("ID [TYPE] HEX:..." or "ASCII:...");
 * computing and verifying the MAC that follows the header and extension fields:
 *   MD5:          digest = MD5(key ‖ message), 16 octets   (RFC 5905 §7.3)
 *   SHA1:         digest = SHA1(key ‖ message), 20 octets  (NTPsec and chrony; not truncated)
 *   AES-128-CMAC: digest = CMAC(key, message), 16 octets   (RFC 8573 §4)
 * where "message" is everything before the key id (buf[0 .. mac.offset) of struct pkt_mac);
 * the comparison is constant-time; and the IPv6 reference ID, the first four octets of the
 * MD5 of the address (RFC 5905 §7.3).
 *
 * Does not own: the hash and MAC primitives. The core is pure, so every digest goes
 * through a crypto seam (struct auth_crypto) that the caller supplies: src/os/crypto_openssl
 * in the daemon, anything deterministic in tests. Nor reading the key file from disk (the
 * daemon reads it and hands the text in), nor deciding what an unauthenticated packet may
 * do (the association and server modules).
 *
 * Lifecycle: auth_keys_new() or auth_keys_parse() at start-up (allocates), lookups and
 * auth_verify()/auth_sign() at run time (never allocate), auth_keys_free() at the end.
 * A table is replaced as a whole on reload: parse the new text into a new table and swap.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

#define AUTH_KEY_MAX_LEN 64     /* octets of key material accepted (chrony and NTPsec use less) */
#define AUTH_ASCII_KEY_MAX 20   /* NTPsec keys file: 20 characters or fewer is ASCII, longer is hex */
#define AUTH_CMAC_KEY_LEN 16    /* AES-128 key (RFC 8573 §4) */
#define AUTH_DIGEST_MAX_LEN 20  /* longest digest on the wire (SHA1) */

enum auth_alg {
	AUTH_ALG_MD5 = 1,       /* 16-octet digest */
	AUTH_ALG_SHA1 = 2,      /* 20-octet digest */
	AUTH_ALG_AES128_CMAC = 3, /* 16-octet MAC, RFC 8573 */
};

/* --- the crypto seam ---
 * digest: out = HASH(a ‖ b) for AUTH_ALG_MD5 or AUTH_ALG_SHA1; out has room for
 *         auth_digest_len(alg) octets. b may be NULL when b_len is 0.
 * cmac:   out = AES-128-CMAC(key, msg), 16 octets.
 * Each returns false if the primitive is unavailable or fails; the core then treats the
 * packet as not authenticated. */
struct auth_crypto {
	bool (*digest)(void *ctx, enum auth_alg alg, const uint8_t *a, size_t a_len,
		       const uint8_t *b, size_t b_len, uint8_t *out);
	bool (*cmac)(void *ctx, const uint8_t key[AUTH_CMAC_KEY_LEN], const uint8_t *msg,
		     size_t msg_len, uint8_t out[16]);
	void *ctx;
};

struct auth_keys; /* opaque key table */

/* Where and why a key file was refused. */
struct auth_parse_error {
	unsigned line;          /* 1-based */
	unsigned column;        /* 1-based, of the offending token */
	char msg[160];
};

struct auth_keys *auth_keys_new(void);
void auth_keys_free(struct auth_keys *keys);

/* Add one key. False (table unchanged) if id is 0, already present, the length does not
 * suit the algorithm (AES-128-CMAC needs 16 octets; MD5/SHA1 1..AUTH_KEY_MAX_LEN), or out of
 * memory. New keys are untrusted (ntpd's rule; see auth_keys_trust). */
bool auth_keys_add(struct auth_keys *keys, uint32_t id, enum auth_alg alg,
		   const uint8_t *key, size_t key_len);

/* Parse a key file held in text[0..len). Blank lines and '#' comments are skipped. Each
 * other line is one key, in either syntax (decided per line):
 *   NTPsec/ntpd:  ID TYPE KEY     TYPE md5|m, sha1|sha-1, aes-128|aes128|aes-128-cmac|aes128cmac
 *                                 (case-insensitive); KEY ≤ 20 characters is ASCII, longer is hex
 *   chrony:       ID [TYPE] HEX:hexdigits | ASCII:text | text     TYPE MD5 (default), SHA1,
 *                                 AES128; a bare KEY is ASCII
 * A line is chrony syntax when it has two fields or its key starts with HEX: or ASCII:.
 * ID is decimal, 1..4294967295. Returns a new table (every key untrusted), or NULL with the
 * first error's line, column and reason in *err. */
struct auth_keys *auth_keys_parse(const char *text, size_t len, struct auth_parse_error *err);

/* Mark a key trusted or not (ntp.conf `trustedkey`). False if the id is not in the table. */
bool auth_keys_trust(struct auth_keys *keys, uint32_t id, bool trusted);
/* Trust every key in the table (chrony's model: every key in the file may be used). */
void auth_keys_trust_all(struct auth_keys *keys);

size_t auth_keys_count(const struct auth_keys *keys);
bool auth_keys_has(const struct auth_keys *keys, uint32_t id);
bool auth_keys_is_trusted(const struct auth_keys *keys, uint32_t id);
/* The algorithm of key id; false if absent. */
bool auth_keys_alg(const struct auth_keys *keys, uint32_t id, enum auth_alg *alg);

/* Octets of digest an algorithm puts on the wire: 16 or 20 (0 for an unknown value). */
size_t auth_digest_len(enum auth_alg alg);
/* Short stable name: "MD5", "SHA1", "AES128-CMAC". */
const char *auth_alg_name(enum auth_alg alg);

/* The digest of msg[0..msg_len) with key id. Writes auth_digest_len() octets to out and
 * returns that length; 0 if the key is unknown or the seam fails. Trust is not checked. */
size_t auth_mac_compute(const struct auth_keys *keys, const struct auth_crypto *crypto,
			uint32_t id, const uint8_t *msg, size_t msg_len,
			uint8_t out[AUTH_DIGEST_MAX_LEN]);

/* Append key id and digest of buf[0 .. *used) (RFC 5905 §7.3). False (nothing changed) if
 * the key is unknown or untrusted, the seam fails, or the MAC does not fit in cap. */
bool auth_sign(const struct auth_keys *keys, const struct auth_crypto *crypto, uint32_t id,
	       uint8_t *buf, size_t cap, size_t *used);

enum auth_result {
	AUTH_OK = 0,            /* MAC present, key known and trusted, digest matches */
	AUTH_NONE,              /* no MAC in the packet */
	AUTH_CRYPTO_NAK,        /* 4-octet MAC (RFC 5905 §7.4): never authentic */
	AUTH_UNKNOWN_KEY,       /* key id not in the table */
	AUTH_UNTRUSTED,         /* key known but not trusted */
	AUTH_BAD_LENGTH,        /* digest length does not match the key's algorithm */
	AUTH_BAD_MAC,           /* digest differs */
	AUTH_CRYPTO_FAIL,       /* the seam could not compute the digest */
	AUTH_RESULT__COUNT
};

/* Verify the MAC described by mac (from pkt_decode or pkt_decode_mode6) over
 * buf[0 .. mac->offset). len is the datagram length; the MAC must lie inside it. */
enum auth_result auth_verify(const struct auth_keys *keys, const struct auth_crypto *crypto,
			     const uint8_t *buf, size_t len, const struct pkt_mac *mac);

/* A short stable name for a result ("ok", "bad-mac", ...), for counters and logs. */
const char *auth_result_name(enum auth_result r);

/* Constant-time comparison: true if a and b are equal over n octets. The time taken does
 * not depend on where they differ. */
bool auth_ct_equal(const uint8_t *a, const uint8_t *b, size_t n);

/* The reference ID a server synchronised to an IPv6 peer sends: the first four octets of
 * MD5(address) read big-endian (RFC 5905 §7.3). False if the seam fails. */
bool auth_refid_ipv6(const struct auth_crypto *crypto, const uint8_t addr[16], uint32_t *refid);

#endif
