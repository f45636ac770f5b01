/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tcrypto: the OpenSSL crypto seam (src/os/crypto_openssl) as a cmocka group fixture, for
 * the tests whose subject needs MD5, SHA-1 or AES-CMAC (auth, leap, leapfile, the seam).
 *
 * Owns: one crypto_openssl and its seam for the group, created by tcrypto_setup and freed
 * by tcrypto_teardown.
 */
#ifndef TCRYPTO_H
#define TCRYPTO_H

#include "auth.h"
#include "crypto_openssl.h"

struct tcrypto {
	struct crypto_openssl *co;
	struct auth_crypto seam;
};
extern struct tcrypto tcrypto;

/* cmocka group setup/teardown (state unused); setup fails only when out of memory. */
int tcrypto_setup(void **state);
int tcrypto_teardown(void **state);

#endif
