/* SPDX-License-Identifier: BSD-2-Clause */
/* tcrypto: see tcrypto.h. */
#include "tcrypto.h"

#include <stddef.h>

struct tcrypto tcrypto;

int tcrypto_setup(void **state)
{
	(void)state;
	tcrypto.co = crypto_openssl_new();
	if (tcrypto.co == NULL)
		return -1;
	tcrypto.seam = crypto_openssl_seam(tcrypto.co);
	return 0;
}

int tcrypto_teardown(void **state)
{
	(void)state;
	crypto_openssl_free(tcrypto.co);
	tcrypto.co = NULL;
	return 0;
}
