/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crypto_openssl: MD5, SHA1 and AES-128-CMAC for the auth seam, with OpenSSL 3's EVP and
 * EVP_MAC interfaces. See crypto_openssl.h.
 */
#include "crypto_openssl.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

struct crypto_openssl {
	EVP_MD *md5;
	EVP_MD *sha1;
	EVP_MAC *cmac;
	EVP_MD_CTX *md_ctx;
	EVP_MAC_CTX *mac_ctx;
};

struct crypto_openssl *crypto_openssl_new(void)
{
	struct crypto_openssl *co = calloc(1, sizeof *co);
	if (!co)
		return NULL;
	co->md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	co->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	co->cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	co->md_ctx = EVP_MD_CTX_new();
	if (co->cmac)
		co->mac_ctx = EVP_MAC_CTX_new(co->cmac);
	if (!co->md_ctx || (!co->md5 && !co->sha1 && !co->mac_ctx)) {
		crypto_openssl_free(co);
		return NULL;
	}
	return co;
}

void crypto_openssl_free(struct crypto_openssl *co)
{
	if (!co)
		return;
	EVP_MAC_CTX_free(co->mac_ctx);
	EVP_MD_CTX_free(co->md_ctx);
	EVP_MAC_free(co->cmac);
	EVP_MD_free(co->sha1);
	EVP_MD_free(co->md5);
	free(co);
}

bool crypto_openssl_has(const struct crypto_openssl *co, enum auth_alg alg)
{
	switch (alg) {
	case AUTH_ALG_MD5: return co->md5 != NULL;
	case AUTH_ALG_SHA1: return co->sha1 != NULL;
	case AUTH_ALG_AES128_CMAC: return co->mac_ctx != NULL;
	}
	return false;
}

/* out = HASH(a ‖ b) (RFC 5905 §7.3: key then message). */
static bool co_digest(void *ctx, enum auth_alg alg, const uint8_t *a, size_t a_len,
		      const uint8_t *b, size_t b_len, uint8_t *out)
{
	struct crypto_openssl *co = ctx;
	const EVP_MD *md = alg == AUTH_ALG_MD5 ? co->md5 : alg == AUTH_ALG_SHA1 ? co->sha1 : NULL;
	if (!md)
		return false;
	unsigned int n = 0;
	uint8_t buf[EVP_MAX_MD_SIZE];
	bool ok = EVP_DigestInit_ex(co->md_ctx, md, NULL) == 1 &&
		  (a_len == 0 || EVP_DigestUpdate(co->md_ctx, a, a_len) == 1) &&
		  (b_len == 0 || EVP_DigestUpdate(co->md_ctx, b, b_len) == 1) &&
		  EVP_DigestFinal_ex(co->md_ctx, buf, &n) == 1 && n == auth_digest_len(alg);
	if (ok)
		memcpy(out, buf, n);
	memset(buf, 0, sizeof buf);
	return ok;
}

/* out = AES-128-CMAC(key, msg) (RFC 4493; RFC 8573 §4). */
static bool co_cmac(void *ctx, const uint8_t key[AUTH_CMAC_KEY_LEN], const uint8_t *msg,
		    size_t msg_len, uint8_t out[16])
{
	struct crypto_openssl *co = ctx;
	if (!co->mac_ctx)
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
