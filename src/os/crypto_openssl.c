/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crypto_openssl: MD5, SHA1 and AES-128-CMAC for the auth seam, from OpenSSL 3. See
 * crypto_openssl.h.
 *
 * MD5 and SHA1 use OpenSSL's one-algorithm functions (MD5_Init…, SHA1_Init…): they are
 * deprecated in 3.0 in favour of EVP but present through the 3.x series, and unlike EVP
 * they do not load OpenSSL's provider machinery, which costs about 2.1 MiB of resident
 * memory and 9 M instructions at start (docs/server.md, "Memory"). A pool server needs MD5
 * for an IPv6 system peer's refid (RFC 5905 §7.3) and SHA-1 for the leap file, nothing
 * more. AES-128-CMAC exists only in EVP_MAC: it is fetched the first time it is needed (an
 * AES key in the key file), so a daemon without one never pays for the providers.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* MD5_Init/SHA1_Init: see above */
#include "crypto_openssl.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/params.h>
#include <openssl/sha.h>

struct crypto_openssl {
	bool cmac_tried;      /* EVP_MAC fetch attempted (once: a failure is not retried) */
	EVP_MAC *cmac;
	EVP_MAC_CTX *mac_ctx;
};

struct crypto_openssl *crypto_openssl_new(void)
{
	return calloc(1, sizeof(struct crypto_openssl));
}

void crypto_openssl_free(struct crypto_openssl *co)
{
	if (!co)
		return;
	EVP_MAC_CTX_free(co->mac_ctx);
	EVP_MAC_free(co->cmac);
	free(co);
}

/* Fetches CMAC the first time only. */
static bool load_cmac(struct crypto_openssl *co)
{
	if (co->cmac_tried)
		return co->mac_ctx != NULL;
	co->cmac_tried = true;
	co->cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	if (co->cmac)
		co->mac_ctx = EVP_MAC_CTX_new(co->cmac);
	if (!co->mac_ctx) {
		EVP_MAC_free(co->cmac);
		co->cmac = NULL;
		return false;
	}
	return true;
}

bool crypto_openssl_has(struct crypto_openssl *co, enum auth_alg alg)
{
	switch (alg) {
	case AUTH_ALG_MD5:
	case AUTH_ALG_SHA1: return true;
	case AUTH_ALG_AES128_CMAC: return load_cmac(co);
	}
	return false;
}

bool crypto_openssl_loaded(const struct crypto_openssl *co) { return co->mac_ctx != NULL; }

/* out = HASH(a ‖ b) (RFC 5905 §7.3: key then message). */
static bool co_digest(void *ctx, enum auth_alg alg, const uint8_t *a, size_t a_len,
		      const uint8_t *b, size_t b_len, uint8_t *out)
{
	(void)ctx;
	if (alg == AUTH_ALG_MD5) {
		MD5_CTX c;
		bool ok = MD5_Init(&c) == 1 && (a_len == 0 || MD5_Update(&c, a, a_len) == 1) &&
			  (b_len == 0 || MD5_Update(&c, b, b_len) == 1) && MD5_Final(out, &c) == 1;
		memset(&c, 0, sizeof c); /* the key was in it */
		return ok;
	}
	if (alg == AUTH_ALG_SHA1) {
		SHA_CTX c;
		bool ok = SHA1_Init(&c) == 1 && (a_len == 0 || SHA1_Update(&c, a, a_len) == 1) &&
			  (b_len == 0 || SHA1_Update(&c, b, b_len) == 1) && SHA1_Final(out, &c) == 1;
		memset(&c, 0, sizeof c);
		return ok;
	}
	return false;
}

/* out = AES-128-CMAC(key, msg) (RFC 4493; RFC 8573 §4). */
static bool co_cmac(void *ctx, const uint8_t key[AUTH_CMAC_KEY_LEN], const uint8_t *msg,
		    size_t msg_len, uint8_t out[16])
{
	struct crypto_openssl *co = ctx;
	if (!load_cmac(co))
		return false;
	char cipher[] = "AES-128-CBC";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
		OSSL_PARAM_construct_end(),
	};
	size_t n = 0;
	return EVP_MAC_init(co->mac_ctx, key, AUTH_CMAC_KEY_LEN, params) == 1 &&
	       EVP_MAC_update(co->mac_ctx, msg, msg_len) == 1 &&
	       EVP_MAC_final(co->mac_ctx, out, &n, 16) == 1 && n == 16;
}

struct auth_crypto crypto_openssl_seam(struct crypto_openssl *co)
{
	struct auth_crypto c = { .digest = co_digest, .cmac = co_cmac, .ctx = co };
	return c;
}
