/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target for the key file parser (core/auth, auth_keys_parse). Input: the bytes of a
 * key file in NTPsec/ntpd or chrony syntax. Checks beyond "no crash":
 *  - on success, the table holds exactly one key per line that has a token before any '#'
 *    (every such line is a key or the whole file is refused), every key starts untrusted,
 *    and each key's algorithm is one of the three;
 *  - on failure, the error names a line that exists (1 .. number of lines) and a column
 *    inside it, and a terminated, non-empty message;
 *  - with the fake crypto seam (fuzz.h), a message signed with each key verifies (AUTH_OK)
 *    and fails (AUTH_BAD_MAC) with one digest octet changed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "fuzz.h"
#include "pkt.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Lines with a token, and the ids written first on them (decimal, as the parser reads). */
static size_t key_lines(const char *t, size_t len, uint32_t *ids, size_t cap, size_t *nids,
			unsigned *n_lines)
{
	size_t n = 0;
	*nids = 0;
	*n_lines = 0;
	for (size_t pos = 0; pos < len;) {
		size_t end = pos;
		while (end < len && t[end] != '\n')
			end++;
		(*n_lines)++;
		size_t i = pos;
		while (i < end && is_space(t[i]))
			i++;
		if (i < end && t[i] != '#') {
			n++;
			uint64_t id = 0;
			bool digits = false;
			while (i < end && t[i] >= '0' && t[i] <= '9' && id <= UINT32_MAX) {
				id = id * 10 + (uint64_t)(t[i] - '0');
				digits = true;
				i++;
			}
			if (digits && id >= 1 && id <= UINT32_MAX && *nids < cap)
				ids[(*nids)++] = (uint32_t)id;
		}
		pos = end + 1;
	}
	return n;
}

static void check_sign_verify(struct auth_keys *keys, uint32_t id)
{
	struct fuzz_seam seam = { 0 };
	struct auth_crypto c = fuzz_seam_crypto(&seam);
	enum auth_alg alg;
	FUZZ_CHECK(auth_keys_alg(keys, id, &alg));
	FUZZ_CHECK(alg == AUTH_ALG_MD5 || alg == AUTH_ALG_SHA1 || alg == AUTH_ALG_AES128_CMAC);
	FUZZ_CHECK(!auth_keys_is_trusted(keys, id));

	uint8_t buf[PKT_HEADER_LEN + PKT_MAC_MAX_LEN];
	memset(buf, 0, sizeof buf);
	buf[0] = 0x23; /* LI 0, VN 4, mode 3 */
	buf[47] = (uint8_t)id;
	size_t used = PKT_HEADER_LEN;
	FUZZ_CHECK(!auth_sign(keys, &c, id, buf, sizeof buf, &used)); /* untrusted: refused */
	FUZZ_CHECK(used == PKT_HEADER_LEN);
	FUZZ_CHECK(auth_keys_trust(keys, id, true));
	FUZZ_CHECK(auth_sign(keys, &c, id, buf, sizeof buf, &used));
	FUZZ_CHECK(used == PKT_HEADER_LEN + PKT_MAC_KEYID_LEN + auth_digest_len(alg));

	struct pkt p;
	FUZZ_CHECK(pkt_decode(buf, used, &p) == PKT_OK);
	FUZZ_CHECK(p.mac.present && p.mac.keyid == id);
	FUZZ_CHECK(auth_verify(keys, &c, buf, used, &p.mac) == AUTH_OK);
	buf[used - 1] ^= 0x01;
	FUZZ_CHECK(auth_verify(keys, &c, buf, used, &p.mac) == AUTH_BAD_MAC);
	seam.fail = true;
	FUZZ_CHECK(auth_verify(keys, &c, buf, used, &p.mac) == AUTH_CRYPTO_FAIL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct auth_parse_error err;
	memset(&err, 0x55, sizeof err);
	struct auth_keys *keys = auth_keys_parse(text, size, &err);

	uint32_t ids[64];
	size_t nids;
	unsigned n_lines;
	size_t lines = key_lines(text, size, ids, 64, &nids, &n_lines);

	if (!keys) {
		FUZZ_CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL);
		FUZZ_CHECK(err.msg[0] != '\0');
		FUZZ_CHECK(err.line >= 1 && err.line <= n_lines);
		FUZZ_CHECK(err.column >= 1);
		return 0;
	}
	FUZZ_CHECK(auth_keys_count(keys) == lines);
	for (size_t i = 0; i < nids; i++) {
		FUZZ_CHECK(auth_keys_has(keys, ids[i]));
		if (i < 8)
			check_sign_verify(keys, ids[i]);
	}
	FUZZ_CHECK(!auth_keys_has(keys, 0));
	auth_keys_free(keys);
	return 0;
}
