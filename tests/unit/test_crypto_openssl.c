/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for crypto_openssl's seam: MD5 and SHA-1 (OpenSSL's one-algorithm functions)
 * against the test suites of RFC 1321 (appendix A.5) and RFC 3174 (section 7.3, plus the
 * FIPS 180 two-block message), with the input split in two parts at every position (the
 * seam hashes key ‖ message), and AES-CMAC fetched from EVP only when first used
 * (RFC 4493 example 2), so a daemon without AES keys never loads OpenSSL's providers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "crypto_openssl.h"
#include "tcrypto.h"

#define MD5_LEN 16
#define SHA1_LEN 20

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}


/* HASH(msg) through the seam, for every split msg = a ‖ b */
static void check(enum auth_alg alg, const uint8_t *msg, size_t n, const char *want)
{
	size_t len = alg == AUTH_ALG_MD5 ? MD5_LEN : SHA1_LEN;
	uint8_t d[SHA1_LEN];
	char h[2 * SHA1_LEN + 1];
	size_t stride = n < 130 ? 1 : n / 7;
	for (size_t cut = 0; cut <= n; cut += stride) {
		memset(d, 0, sizeof d);
		assert_true(tcrypto.seam.digest(tcrypto.seam.ctx, alg, cut ? msg : NULL, cut,
					cut < n ? msg + cut : NULL, n - cut, d));
		hex(d, len, h);
		assert_string_equal(h, want);
	}
}

static void check_md5(const char *msg, const char *want)
{
	check(AUTH_ALG_MD5, (const uint8_t *)msg, strlen(msg), want);
}

static void check_sha1(const char *msg, size_t repeat, const char *want)
{
	static uint8_t buf[1000000];
	size_t n = strlen(msg);
	assert_true(n * repeat <= sizeof buf);
	for (size_t i = 0; i < repeat; i++)
		memcpy(buf + i * n, msg, n);
	check(AUTH_ALG_SHA1, buf, n * repeat, want);
}

/* RFC 1321 appendix A.5. */
static void test_md5_rfc1321(void **state)
{
	(void)state;
	check_md5("", "d41d8cd98f00b204e9800998ecf8427e");
	check_md5("a", "0cc175b9c0f1b6a831c399e269772661");
	check_md5("abc", "900150983cd24fb0d6963f7d28e17f72");
	check_md5("message digest", "f96b697d7cb7938d525a2f31aaf161d0");
	check_md5("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b");
	check_md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		  "d174ab98d277d9f5a5611c2c9f419d9f");
	check_md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
		  "57edf4a22be3c955ac49da2e2107b67a");
}

/* RFC 3174 section 7.3 (TEST1, TEST2, TEST3 = a million "a", TEST4) and the empty message. */
static void test_sha1_rfc3174(void **state)
{
	(void)state;
	check_sha1("", 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check_sha1("abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
		   "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	check_sha1("a", 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	check_sha1("0123456701234567012345670123456701234567012345670123456701234567", 10,
		   "dea356a2cddd90c7a7ecedc5ebb563934f460452");
}

/* Digests never load the providers; the first CMAC does (RFC 4493 example 2). */
static void test_cmac_loads_lazily(void **state)
{
	(void)state;
	uint8_t d[SHA1_LEN];
	assert_true(tcrypto.seam.digest(tcrypto.seam.ctx, AUTH_ALG_MD5, (const uint8_t *)"key", 3,
				(const uint8_t *)"message", 7, d));
	assert_true(crypto_openssl_has(tcrypto.co, AUTH_ALG_MD5));
	assert_true(crypto_openssl_has(tcrypto.co, AUTH_ALG_SHA1));
	assert_false(crypto_openssl_loaded(tcrypto.co));
	const uint8_t key[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
				  0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
	const uint8_t m[16] = { 0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96,
				0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a };
	const uint8_t tag[16] = { 0x07, 0x0a, 0x16, 0xb4, 0x6b, 0x4d, 0x41, 0x44,
				  0xf7, 0x9b, 0xdd, 0x9d, 0xd0, 0x4a, 0x28, 0x7c };
	uint8_t out[16];
	assert_true(tcrypto.seam.cmac(tcrypto.seam.ctx, key, m, sizeof m, out));
	assert_memory_equal(out, tag, 16);
	assert_true(crypto_openssl_loaded(tcrypto.co));
	assert_true(crypto_openssl_has(tcrypto.co, AUTH_ALG_AES128_CMAC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md5_rfc1321),
		cmocka_unit_test(test_sha1_rfc3174),
		cmocka_unit_test(test_cmac_loads_lazily),
	};
	return cmocka_run_group_tests(tests, tcrypto_setup, tcrypto_teardown);
}
