/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target for MAC verification (core/auth, auth_verify and auth_sign) on arbitrary
 * datagrams, through the fake crypto seam of fuzz.h. Input: one datagram (mode 6 ones go
 * through pkt_decode_mode6, the rest through pkt_decode). The key table is the one of the
 * golden vectors (tests/data/vectors/keys): 1 MD5, 2 SHA1, 3 AES-128-CMAC, all trusted,
 * plus 4 MD5 untrusted. Checks beyond "no crash":
 *  - the verdict follows from the decoded MAC alone: none, crypto-NAK, unknown key (id not
 *    1..4), untrusted (4), bad length (digest length not the key's), else OK or BAD_MAC;
 *  - the seam is called only when a digest has to be computed, and a failing seam gives
 *    AUTH_CRYPTO_FAIL, never OK;
 *  - re-signing the covered octets with the packet's key and verifying gives AUTH_OK; the
 *    original verifies OK exactly when its digest equals the re-signed one.
 */
#include <stdint.h>
#include <string.h>

#include "auth.h"
#include "fuzz.h"
#include "pkt.h"

static struct auth_keys *make_keys(void)
{
	static const uint8_t md5[] = "InteropMD5-Key1";
	static const uint8_t sha1[20] = { 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18, 0x29, 0x3a,
					  0x4b, 0x5c, 0x6d, 0x7e, 0x8f, 0x90, 0x01, 0x12, 0x23, 0x34 };
	static const uint8_t aes[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct auth_keys *k = auth_keys_new();
	FUZZ_CHECK(k != NULL);
	FUZZ_CHECK(auth_keys_add(k, 1, AUTH_ALG_MD5, md5, sizeof md5 - 1));
	FUZZ_CHECK(auth_keys_add(k, 2, AUTH_ALG_SHA1, sha1, sizeof sha1));
	FUZZ_CHECK(auth_keys_add(k, 3, AUTH_ALG_AES128_CMAC, aes, sizeof aes));
	FUZZ_CHECK(auth_keys_add(k, 4, AUTH_ALG_MD5, md5, sizeof md5 - 1));
	FUZZ_CHECK(!auth_keys_add(k, 4, AUTH_ALG_MD5, md5, sizeof md5 - 1)); /* duplicate */
	FUZZ_CHECK(auth_keys_trust(k, 1, true) && auth_keys_trust(k, 2, true) &&
		   auth_keys_trust(k, 3, true));
	return k;
}

static enum auth_result expected_without_digest(const struct pkt_mac *mac)
{
	if (!mac->present)
		return AUTH_NONE;
	if (mac->crypto_nak)
		return AUTH_CRYPTO_NAK;
	if (mac->keyid < 1 || mac->keyid > 4)
		return AUTH_UNKNOWN_KEY;
	if (mac->keyid == 4)
		return AUTH_UNTRUSTED;
	size_t want = mac->keyid == 2 ? 20 : 16;
	if (mac->digest_len != want)
		return AUTH_BAD_LENGTH;
	return AUTH_RESULT__COUNT; /* depends on the digest */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct auth_keys *keys;
	if (!keys)
		keys = make_keys();

	struct pkt_mac mac;
	if (size >= 1 && (data[0] & 7) == PKT_MODE_CONTROL) {
		struct pkt_mode6 m;
		if (pkt_decode_mode6(data, size, &m) != PKT_OK)
			return 0;
		mac = m.mac;
	} else {
		struct pkt p;
		if (pkt_decode(data, size, &p) != PKT_OK)
			return 0;
		mac = p.mac;
	}

	struct fuzz_seam seam = { 0 };
	struct auth_crypto c = fuzz_seam_crypto(&seam);
	enum auth_result r = auth_verify(keys, &c, data, size, &mac);
	FUZZ_CHECK((unsigned)r < AUTH_RESULT__COUNT);
	FUZZ_CHECK(auth_result_name(r) != NULL);
	enum auth_result want = expected_without_digest(&mac);
	if (want != AUTH_RESULT__COUNT) {
		FUZZ_CHECK(r == want);
		FUZZ_CHECK(seam.calls == 0);
		return 0;
	}
	FUZZ_CHECK(r == AUTH_OK || r == AUTH_BAD_MAC);
	FUZZ_CHECK(seam.calls == 1);

	/* A failing seam never authenticates. */
	struct fuzz_seam bad = { .fail = true };
	struct auth_crypto cb = fuzz_seam_crypto(&bad);
	FUZZ_CHECK(auth_verify(keys, &cb, data, size, &mac) == AUTH_CRYPTO_FAIL);

	/* Re-sign the covered octets: that verifies, and the input did iff its digest is it. */
	uint8_t buf[PKT_MAX_LEN + PKT_MAC_MAX_LEN];
	FUZZ_CHECK(mac.offset <= PKT_MAX_LEN);
	memcpy(buf, data, mac.offset);
	size_t used = mac.offset;
	FUZZ_CHECK(auth_sign(keys, &c, mac.keyid, buf, sizeof buf, &used));
	FUZZ_CHECK(used == size);
	FUZZ_CHECK(auth_verify(keys, &c, buf, used, &mac) == AUTH_OK);
	bool same = memcmp(buf, data, size) == 0;
	FUZZ_CHECK(same == (r == AUTH_OK));

	uint8_t d[AUTH_DIGEST_MAX_LEN];
	size_t dl = auth_mac_compute(keys, &c, mac.keyid, data, mac.offset, d);
	FUZZ_CHECK(dl == mac.digest_len);
	FUZZ_CHECK(memcmp(d, buf + mac.offset + PKT_MAC_KEYID_LEN, dl) == 0);
	return 0;
}
