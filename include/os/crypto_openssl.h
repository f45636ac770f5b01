/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crypto_openssl: the auth module's crypto seam (struct auth_crypto, include/core/auth.h)
 * implemented with OpenSSL 3: MD5 and SHA1 (the full 20-octet SHA1) with OpenSSL's
 * one-algorithm functions, AES-128-CMAC through EVP_MAC "CMAC" with cipher AES-128-CBC
 * (RFC 4493, RFC 8573), fetched on first use: EVP's provider machinery costs about
 * 2.1 MiB of RSS, which a daemon without AES keys does not pay (docs/server.md, "Memory").
 *
 * Owns: the fetched CMAC and its reusable context (fetched once, so the per-packet path
 * allocates nothing after that). Single-threaded, like the daemon.
 *
 * Does not own: keys or MAC rules (auth), or any decision about a packet.
 *
 * Use:
 *   struct crypto_openssl *co = crypto_openssl_new();   // at start-up; NULL: out of memory
 *   struct auth_crypto seam = crypto_openssl_seam(co);
 *   ... auth_verify(keys, &seam, buf, len, &pkt.mac) ...
 *   crypto_openssl_free(co);
 * If OpenSSL refuses CMAC (a FIPS provider without it, say), only the CMAC calls fail;
 * crypto_openssl_has() tells which algorithms are there (asking about CMAC fetches it).
 */
#ifndef CRYPTO_OPENSSL_H
#define CRYPTO_OPENSSL_H

#include <stdbool.h>

#include "auth.h"

struct crypto_openssl;

/* NULL only if out of memory; loads nothing. */
struct crypto_openssl *crypto_openssl_new(void);
void crypto_openssl_free(struct crypto_openssl *co);

/* The seam for the core; valid while co lives. */
struct auth_crypto crypto_openssl_seam(struct crypto_openssl *co);

/* Whether alg is available: MD5 and SHA1 always; AES-128-CMAC if OpenSSL provides it
 * (the first such question fetches it). */
bool crypto_openssl_has(struct crypto_openssl *co, enum auth_alg alg);
/* Whether CMAC (and with it EVP's providers) has been fetched (for tests of the memory
 * claim above). */
bool crypto_openssl_loaded(const struct crypto_openssl *co);

#endif
