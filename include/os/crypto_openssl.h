/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crypto_openssl: the auth module's crypto seam (struct auth_crypto, include/core/auth.h)
 * implemented with OpenSSL 3: MD5 and SHA1 through EVP digests (the full 20-octet SHA1),
 * AES-128-CMAC through EVP_MAC "CMAC" with cipher AES-128-CBC (RFC 4493, RFC 8573).
 *
 * Owns: the OpenSSL objects (fetched algorithms and reusable contexts), fetched once at
 * start-up so the per-packet path allocates nothing. Single-threaded, like the daemon.
 *
 * Does not own: keys or MAC rules (auth), or any decision about a packet.
 *
 * Use:
 *   struct crypto_openssl *co = crypto_openssl_new();   // at start-up; NULL: OpenSSL broken
 *   struct auth_crypto seam = crypto_openssl_seam(co);
 *   ... auth_verify(keys, &seam, buf, len, &pkt.mac) ...
 *   crypto_openssl_free(co);
 * An algorithm OpenSSL refuses (MD5 under a FIPS provider, say) makes only that
 * algorithm's calls fail; crypto_openssl_has() tells which are there.
 */
#ifndef CRYPTO_OPENSSL_H
#define CRYPTO_OPENSSL_H

#include <stdbool.h>

#include "auth.h"

struct crypto_openssl;

/* NULL if none of the three algorithms can be had from OpenSSL, or out of memory. */
struct crypto_openssl *crypto_openssl_new(void);
void crypto_openssl_free(struct crypto_openssl *co);

/* The seam for the core; valid while co lives. */
struct auth_crypto crypto_openssl_seam(struct crypto_openssl *co);

/* Whether OpenSSL provides alg here. */
bool crypto_openssl_has(const struct crypto_openssl *co, enum auth_alg alg);

#endif
