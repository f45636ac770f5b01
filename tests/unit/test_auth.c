/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for auth (keys, key files, MACs) with the OpenSSL seam (src/os/crypto_openssl):
 * every authenticated packet of auth.json and symmetric.json (captured from chrony 4.3 and
 * NTPsec 1.2.2) verifies with the sender's key in both key-file syntaxes, fails with the
 * receiver's key when the capture used wrong key material or an unknown key id, and
 * auth_sign() reproduces the captured MAC byte for byte. Also: the key files in both
 * syntaxes, parse errors with line and column, trust, every auth_result value, the
 * constant-time compare and the IPv6 reference ID.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "crypto_openssl.h"
#include "pkt.h"
#include "tvec.h"
#include "tcrypto.h"


static char *read_text(const char *rel, size_t *len)
{
	const char *path = tvec_path(rel);
	FILE *f = fopen(path, "rb");
	if (!f) {
		print_error("cannot open %s\n", path);
		fail();
	}
	static char buf[8192];
	*len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	return buf;
}

static struct auth_keys *parse_str(const char *text, struct auth_parse_error *err)
{
	struct auth_parse_error dummy;
	return auth_keys_parse(text, strlen(text), err ? err : &dummy);
}

/* --- known-answer tests for the seam itself --- */

static void test_seam_known_answers(void **state)
{
	(void)state;
	uint8_t out[20];
	/* RFC 1321 A.5: MD5("abc") */
	const uint8_t md5_abc[16] = { 0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0, 0xd6, 0x96,
				      0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72 };
	assert_true(tcrypto.seam.digest(tcrypto.seam.ctx, AUTH_ALG_MD5, (const uint8_t *)"a", 1,
				(const uint8_t *)"bc", 2, out));
	assert_memory_equal(out, md5_abc, 16);
	/* FIPS 180-1 A: SHA1("abc") */
	const uint8_t sha1_abc[20] = { 0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
				       0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d };
	assert_true(tcrypto.seam.digest(tcrypto.seam.ctx, AUTH_ALG_SHA1, (const uint8_t *)"abc", 3, NULL, 0, out));
	assert_memory_equal(out, sha1_abc, 20);
	/* RFC 4493 §4, example 2: AES-CMAC(2b7e1516..., 6bc1bee2...17172a) */
	const uint8_t key[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7,
				  0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
	const uint8_t msg[16] = { 0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d,
				  0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a };
	const uint8_t tag[16] = { 0x07, 0x0a, 0x16, 0xb4, 0x6b, 0x4d, 0x41, 0x44, 0xf7, 0x9b,
				  0xdd, 0x9d, 0xd0, 0x4a, 0x28, 0x7c };
	assert_true(tcrypto.seam.cmac(tcrypto.seam.ctx, key, msg, sizeof msg, out));
	assert_memory_equal(out, tag, 16);
	/* RFC 4493 example 1: empty message */
	const uint8_t tag0[16] = { 0xbb, 0x1d, 0x69, 0x29, 0xe9, 0x59, 0x37, 0x28, 0x7f, 0xa3,
				   0x7d, 0x12, 0x9b, 0x75, 0x67, 0x46 };
	assert_true(tcrypto.seam.cmac(tcrypto.seam.ctx, key, msg, 0, out));
	assert_memory_equal(out, tag0, 16);
	assert_false(tcrypto.seam.digest(tcrypto.seam.ctx, AUTH_ALG_AES128_CMAC, msg, 1, NULL, 0, out));
	assert_true(crypto_openssl_has(tcrypto.co, AUTH_ALG_SHA1));
	assert_true(crypto_openssl_has(tcrypto.co, AUTH_ALG_AES128_CMAC));
}

/* --- key files --- */

static void check_vector_keys(const struct auth_keys *k)
{
	enum auth_alg alg;
	assert_int_equal(auth_keys_count(k), 3);
	assert_true(auth_keys_alg(k, 1, &alg));
	assert_int_equal(alg, AUTH_ALG_MD5);
	assert_true(auth_keys_alg(k, 2, &alg));
	assert_int_equal(alg, AUTH_ALG_SHA1);
	assert_true(auth_keys_alg(k, 3, &alg));
	assert_int_equal(alg, AUTH_ALG_AES128_CMAC);
	assert_false(auth_keys_has(k, 4));
	assert_false(auth_keys_is_trusted(k, 1)); /* untrusted until trustedkey */
}

static void test_parse_vector_key_files(void **state)
{
	(void)state;
	struct auth_parse_error err;
	size_t n;
	const char *t = read_text("vectors/keys/ntpsec.keys", &n);
	struct auth_keys *ns = auth_keys_parse(t, n, &err);
	assert_non_null(ns);
	check_vector_keys(ns);
	t = read_text("vectors/keys/chrony.keys", &n);
	struct auth_keys *ch = auth_keys_parse(t, n, &err);
	assert_non_null(ch);
	check_vector_keys(ch);

	/* Both syntaxes give the same key material: the same MAC for any message. */
	const uint8_t msg[48] = { 0xe3, 0, 6, 0xec, 1, 2, 3 };
	for (uint32_t id = 1; id <= 3; id++) {
		uint8_t a[AUTH_DIGEST_MAX_LEN], b[AUTH_DIGEST_MAX_LEN];
		size_t la = auth_mac_compute(ns, &tcrypto.seam, id, msg, sizeof msg, a);
		size_t lb = auth_mac_compute(ch, &tcrypto.seam, id, msg, sizeof msg, b);
		assert_true(la == 16 || la == 20);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
	}
	/* The wrong-key files parse too (4 keys, id 4 is SHA1) and differ from the right ones. */
	t = read_text("vectors/keys/ntpsec-wrong.keys", &n);
	struct auth_keys *wn = auth_keys_parse(t, n, &err);
	t = read_text("vectors/keys/chrony-wrong.keys", &n);
	struct auth_keys *wc = auth_keys_parse(t, n, &err);
	assert_non_null(wn);
	assert_non_null(wc);
	assert_int_equal(auth_keys_count(wn), 4);
	assert_int_equal(auth_keys_count(wc), 4);
	uint8_t a[AUTH_DIGEST_MAX_LEN], b[AUTH_DIGEST_MAX_LEN];
	assert_int_equal(auth_mac_compute(wn, &tcrypto.seam, 1, msg, sizeof msg, a), 16);
	assert_int_equal(auth_mac_compute(ns, &tcrypto.seam, 1, msg, sizeof msg, b), 16);
	assert_memory_not_equal(a, b, 16);
	assert_int_equal(auth_mac_compute(wc, &tcrypto.seam, 4, msg, sizeof msg, b), 20);
	assert_int_equal(auth_mac_compute(wn, &tcrypto.seam, 4, msg, sizeof msg, a), 20);
	assert_memory_equal(a, b, 20);
	auth_keys_free(ns);
	auth_keys_free(ch);
	auth_keys_free(wn);
	auth_keys_free(wc);
}

/* Sign `msg` with a one-key table and return the digest, to compare key encodings. */
static size_t mac_of(const char *keyfile, uint32_t id, uint8_t out[AUTH_DIGEST_MAX_LEN])
{
	struct auth_parse_error err;
	struct auth_keys *k = parse_str(keyfile, &err);
	if (!k)
		print_error("%s -> line %u col %u: %s\n", keyfile, err.line, err.column, err.msg);
	assert_non_null(k);
	const uint8_t msg[] = "the 48 octets of an NTP header, more or less....";
	size_t n = auth_mac_compute(k, &tcrypto.seam, id, msg, 48, out);
	auth_keys_free(k);
	return n;
}

static void test_parse_syntaxes(void **state)
{
	(void)state;
	uint8_t a[20], b[20];
	/* Equivalent spellings of one MD5 key. */
	const char *md5_forms[] = {
		"7 md5 Secret-7", "7 MD5 Secret-7", "7 M Secret-7", "7 MD5 ASCII:Secret-7",
		"7 ASCII:Secret-7", "7 Secret-7", "7 MD5 HEX:5365637265742d37",
		"  7\tmd5   Secret-7   # trailing comment", "7 md5 Secret-7\r",
	};
	assert_int_equal(mac_of(md5_forms[0], 7, a), 16);
	for (size_t i = 1; i < sizeof md5_forms / sizeof md5_forms[0]; i++) {
		assert_int_equal(mac_of(md5_forms[i], 7, b), 16);
		if (memcmp(a, b, 16) != 0)
			print_error("form %zu differs: %s\n", i, md5_forms[i]);
		assert_memory_equal(a, b, 16);
	}
	/* NTPsec: a key of 21+ characters is hex, 20 or fewer is ASCII (even if it looks hex). */
	assert_int_equal(mac_of("9 sha1 0102030405060708090a0b0c0d0e0f1011121314", 9, a), 20);
	assert_int_equal(mac_of("9 SHA1 HEX:0102030405060708090A0B0C0D0E0F1011121314", 9, b), 20);
	assert_memory_equal(a, b, 20);
	assert_int_equal(mac_of("9 sha1 0102030405060708090a0b", 9, a), 20); /* 22 chars: hex */
	assert_int_equal(mac_of("9 sha1 HEX:0102030405060708090a0b", 9, b), 20);
	assert_memory_equal(a, b, 20);
	assert_int_equal(mac_of("9 sha1 0102030405060708090a0b0c0d0e", 9, a), 20);
	assert_int_equal(mac_of("9 sha1 01020304050607080900", 9, a), 20); /* 20 chars: ASCII */
	assert_int_equal(mac_of("9 sha1 ASCII:01020304050607080900", 9, b), 20);
	assert_memory_equal(a, b, 20);
	/* AES-128 spellings. */
	const char *aes_forms[] = {
		"3 aes-128 000102030405060708090a0b0c0d0e0f", "3 AES128 HEX:000102030405060708090A0B0C0D0E0F",
		"3 AES-128-CMAC 000102030405060708090a0b0c0d0e0f", "3 aes128cmac 000102030405060708090A0B0C0D0E0F",
	};
	assert_int_equal(mac_of(aes_forms[0], 3, a), 16);
	for (size_t i = 1; i < sizeof aes_forms / sizeof aes_forms[0]; i++) {
		assert_int_equal(mac_of(aes_forms[i], 3, b), 16);
		assert_memory_equal(a, b, 16);
	}
	/* A mixed file: comments, blank lines, CRLF, both syntaxes, large ids. */
	const char *mixed = "# keys\r\n\r\n1 md5 InteropMD5-Key1\r\n   # indented comment\n"
			    "2 SHA1 HEX:A1B2C3D4E5F60718293A4B5C6D7E8F9001122334\n"
			    "4294967295 aes-128 000102030405060708090a0b0c0d0e0f\n"
			    "65535 InteropMD5-Key1";
	struct auth_keys *k = parse_str(mixed, NULL);
	assert_non_null(k);
	assert_int_equal(auth_keys_count(k), 4);
	assert_true(auth_keys_has(k, 4294967295u));
	assert_true(auth_keys_has(k, 65535));
	assert_int_equal(auth_mac_compute(k, &tcrypto.seam, 65535, (const uint8_t *)"x", 1, a), 16);
	assert_int_equal(auth_mac_compute(k, &tcrypto.seam, 1, (const uint8_t *)"x", 1, b), 16);
	assert_memory_equal(a, b, 16);
	auth_keys_free(k);
	/* Empty and comment-only files are valid and hold no key. */
	k = parse_str("", NULL);
	assert_non_null(k);
	assert_int_equal(auth_keys_count(k), 0);
	auth_keys_free(k);
	k = parse_str("# nothing\n\n", NULL);
	assert_non_null(k);
	assert_int_equal(auth_keys_count(k), 0);
	auth_keys_free(k);
}

struct bad_case {
	const char *text;
	unsigned line, column;
	const char *needle; /* a word the message must contain */
};

static void test_parse_errors(void **state)
{
	(void)state;
	const struct bad_case cases[] = {
		{ "1", 1, 1, "expected" },
		{ "1 md5 abc extra", 1, 11, "after the key" },
		{ "0 md5 abc", 1, 1, "key id" },
		{ "x md5 abc", 1, 1, "key id" },
		{ "4294967296 md5 abc", 1, 1, "key id" },
		{ "-1 md5 abc", 1, 1, "key id" },
		{ "1 sha256 abcdef", 1, 3, "unsupported key type" },
		{ "1 md5 abc\n2 des abc", 2, 3, "unsupported key type" },
		{ "# c\n\n1 md5 a\n3 aes-128 0001020304", 4, 11, "AES-128" },
		{ "3 AES128 HEX:000102030405060708090A0B0C0D0E", 1, 10, "AES-128" },
		{ "3 aes-128 000102030405060708090a0b0c0d0e0f00", 1, 11, "AES-128" },
		{ "2 sha1 zz02030405060708090a0b0c0d0e0f1011121314", 1, 8, "hex" },
		{ "2 sha1 0102030405060708090a0b0c0d0e0f101112131", 1, 8, "hex" },
		{ "2 SHA1 HEX:0G", 1, 8, "HEX:" },
		{ "2 SHA1 HEX:", 1, 8, "HEX:" },
		{ "2 SHA1 ASCII:", 1, 8, "ASCII:" },
		{ "1 md5 a\n1 sha1 b", 2, 1, "duplicate" },
		{ "1 md5 a\n\n\n  7 md5 a b", 4, 11, "after the key" },
		{ "1 md5 \x01" "abc", 1, 7, "printable" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct auth_parse_error err;
		memset(&err, 0, sizeof err);
		struct auth_keys *k = parse_str(cases[i].text, &err);
		if (k || err.line != cases[i].line || err.column != cases[i].column ||
		    !strstr(err.msg, cases[i].needle))
			print_error("case %zu \"%s\": line %u col %u \"%s\"\n", i, cases[i].text,
				    err.line, err.column, err.msg);
		assert_null(k);
		assert_int_equal(err.line, cases[i].line);
		assert_int_equal(err.column, cases[i].column);
		assert_non_null(strstr(err.msg, cases[i].needle));
	}
	/* A NUL inside the buffer is an error, not the end of the text. */
	const char nul[] = "1 md5 abc\n2 md5 a\0c\n";
	struct auth_parse_error err;
	assert_null(auth_keys_parse(nul, sizeof nul - 1, &err));
	assert_int_equal(err.line, 2);
	/* The key material is never echoed in an error message. */
	struct auth_keys *k = parse_str("2 sha1 SuperSecretKeyMaterialThatIsLong", &err);
	assert_null(k);
	assert_null(strstr(err.msg, "SuperSecret"));
}

static void test_keys_add_and_trust(void **state)
{
	(void)state;
	struct auth_keys *k = auth_keys_new();
	assert_non_null(k);
	const uint8_t key16[16] = { 1 }, key65[65] = { 1 };
	assert_false(auth_keys_add(k, 0, AUTH_ALG_MD5, key16, 16));            /* id 0 */
	assert_false(auth_keys_add(k, 1, AUTH_ALG_AES128_CMAC, key16, 15));    /* short */
	assert_false(auth_keys_add(k, 1, AUTH_ALG_MD5, key65, 65));            /* long */
	assert_false(auth_keys_add(k, 1, AUTH_ALG_MD5, key16, 0));             /* empty */
	assert_false(auth_keys_add(k, 1, (enum auth_alg)99, key16, 16));       /* no such alg */
	assert_int_equal(auth_keys_count(k), 0);
	/* Many keys out of order: lookups still find each. */
	for (uint32_t id = 40; id >= 1; id--)
		assert_true(auth_keys_add(k, id * 7, id % 2 ? AUTH_ALG_MD5 : AUTH_ALG_SHA1, key16, 10));
	assert_false(auth_keys_add(k, 14, AUTH_ALG_MD5, key16, 16));           /* duplicate */
	assert_int_equal(auth_keys_count(k), 40);
	for (uint32_t id = 1; id <= 300; id++)
		assert_int_equal(auth_keys_has(k, id), id % 7 == 0 && id <= 280);
	assert_false(auth_keys_is_trusted(k, 7));
	assert_true(auth_keys_trust(k, 7, true));
	assert_true(auth_keys_is_trusted(k, 7));
	assert_false(auth_keys_is_trusted(k, 14));
	assert_false(auth_keys_trust(k, 8, true)); /* unknown */
	assert_true(auth_keys_trust(k, 7, false));
	assert_false(auth_keys_is_trusted(k, 7));
	auth_keys_trust_all(k);
	assert_true(auth_keys_is_trusted(k, 280));
	assert_int_equal(auth_digest_len(AUTH_ALG_MD5), 16);
	assert_int_equal(auth_digest_len(AUTH_ALG_SHA1), 20);
	assert_int_equal(auth_digest_len(AUTH_ALG_AES128_CMAC), 16);
	assert_string_equal(auth_alg_name(AUTH_ALG_AES128_CMAC), "AES128-CMAC");
	auth_keys_free(k);
	auth_keys_free(NULL);
}

/* --- the captured packets --- */

/* A table holding the keys of one side of a vector, from its key-file lines in one
 * syntax ("ntpsec_keyfile_line" or "chrony_keyfile_line"), all trusted. */
static struct auth_keys *side_keys(const struct tjson *side, const char *field)
{
	char text[1024];
	size_t n = 0;
	text[0] = '\0';
	for (size_t i = 0; i < tjson_count(side); i++) {
		const char *line = tjson_get_str(tjson_at(side, i), field);
		assert_non_null(line);
		int w = snprintf(text + n, sizeof text - n, "%s\n", line);
		assert_true(w > 0 && (size_t)w < sizeof text - n);
		n += (size_t)w;
	}
	struct auth_parse_error err;
	struct auth_keys *k = auth_keys_parse(text, n, &err);
	if (!k)
		print_error("%s: line %u: %s\n", text, err.line, err.msg);
	assert_non_null(k);
	auth_keys_trust_all(k);
	return k;
}

static const char *side_line(const struct tjson *side, uint32_t id)
{
	for (size_t i = 0; i < tjson_count(side); i++) {
		long long kid;
		const struct tjson *e = tjson_at(side, i);
		if (tjson_get_int(e, "id", &kid) && kid == id)
			return tjson_get_str(e, "chrony_keyfile_line");
	}
	return NULL;
}

static void test_vectors_verify(void **state)
{
	(void)state;
	const char *files[] = { "auth.json", "symmetric.json" };
	unsigned ok = 0, wrong = 0, unknown = 0, signed_same = 0, mac_packets = 0;
	const char *syntaxes[] = { "ntpsec_keyfile_line", "chrony_keyfile_line" };
	for (size_t f = 0; f < 2; f++) {
		struct tjson *root = tvec_load(files[f]);
		const struct tjson *vecs = tvec_vectors(root);
		for (size_t v = 0; v < tjson_count(vecs); v++) {
			const struct tjson *vec = tjson_at(vecs, v);
			const char *id = tjson_get_str(vec, "id");
			const struct tjson *keys = tjson_get(vec, "keys");
			const struct tjson *pkts = tvec_packets(vec);
			for (size_t k = 0; k < tjson_count(pkts); k++) {
				const struct tjson *pk = tjson_at(pkts, k);
				uint8_t b[2048];
				long n = tvec_hex(tjson_get_str(pk, "payload_hex"), b, sizeof b);
				assert_true(n > 0);
				struct pkt p;
				assert_int_equal(pkt_decode(b, (size_t)n, &p), PKT_OK);
				if (!p.mac.present)
					continue;
				mac_packets++;
				assert_non_null(keys);
				const char *dir = tjson_get_str(pk, "direction");
				bool from_server = strncmp(dir, "server", 6) == 0;
				const struct tjson *snd = tjson_get(keys, from_server ? "server_side" : "client_side");
				const struct tjson *rcv = tjson_get(keys, from_server ? "client_side" : "server_side");
				const char *sl = side_line(snd, p.mac.keyid);
				const char *rl = side_line(rcv, p.mac.keyid);
				assert_non_null(sl);
				for (int s = 0; s < 2; s++) {
					struct auth_keys *sk = side_keys(snd, syntaxes[s]);
					struct auth_keys *rk = side_keys(rcv, syntaxes[s]);
					/* The sender's key always verifies its own packet. */
					enum auth_result r = auth_verify(sk, &tcrypto.seam, b, (size_t)n, &p.mac);
					if (r != AUTH_OK)
						print_error("%s packet %zu (%s): sender key: %s\n", id, k,
							    syntaxes[s], auth_result_name(r));
					assert_int_equal(r, AUTH_OK);
					/* And signing the header reproduces the captured MAC. */
					uint8_t out[2048];
					size_t used = p.mac.offset;
					memcpy(out, b, used);
					assert_true(auth_sign(sk, &tcrypto.seam, p.mac.keyid, out, sizeof out, &used));
					assert_int_equal(used, (size_t)n);
					assert_memory_equal(out, b, (size_t)n);
					signed_same++;
					/* The receiver's key: same material verifies, wrong material or an
					 * unknown key id fails (the servers sent no reply to those). */
					r = auth_verify(rk, &tcrypto.seam, b, (size_t)n, &p.mac);
					if (!rl) {
						assert_int_equal(r, AUTH_UNKNOWN_KEY);
						unknown++;
					} else if (strcmp(rl, sl) != 0) {
						assert_int_equal(r, AUTH_BAD_MAC);
						wrong++;
					} else {
						assert_int_equal(r, AUTH_OK);
						ok++;
					}
					auth_keys_free(sk);
					auth_keys_free(rk);
				}
			}
		}
		tjson_free(root);
	}
	/* Counted from the JSON: 53 packets with a MAC; for the receiver 36 right keys, 15 wrong
	 * material, 2 unknown key id; each checked with both key-file syntaxes. */
	assert_int_equal(mac_packets, 53);
	assert_int_equal(ok, 2 * 36);
	assert_int_equal(wrong, 2 * 15);
	assert_int_equal(unknown, 2 * 2);
	assert_int_equal(signed_same, 2 * 53);
}

/* --- every result --- */

static bool fail_digest(void *ctx, enum auth_alg alg, const uint8_t *a, size_t a_len,
			const uint8_t *b, size_t b_len, uint8_t *out)
{
	(void)ctx; (void)alg; (void)a; (void)a_len; (void)b; (void)b_len; (void)out;
	return false;
}

static bool fail_cmac(void *ctx, const uint8_t key[16], const uint8_t *msg, size_t msg_len,
		      uint8_t out[16])
{
	(void)ctx; (void)key; (void)msg; (void)msg_len; (void)out;
	return false;
}

static void test_results(void **state)
{
	(void)state;
	struct auth_keys *k = parse_str("1 md5 InteropMD5-Key1\n"
					"2 sha1 a1b2c3d4e5f60718293a4b5c6d7e8f9001122334\n"
					"3 aes-128 000102030405060708090a0b0c0d0e0f\n"
					"5 md5 NotTrusted", NULL);
	assert_non_null(k);
	assert_true(auth_keys_trust(k, 1, true));
	assert_true(auth_keys_trust(k, 2, true));
	assert_true(auth_keys_trust(k, 3, true));
	bool seen[AUTH_RESULT__COUNT] = { false };
	uint8_t b[128];
	struct pkt p = { .li = 0, .vn = 4, .mode = 3, .xmt = 0x0123456789abcdefULL };
	size_t used;
	struct pkt d;
	enum auth_result r;

#define VERIFY(want) do { \
		assert_int_equal(pkt_decode(b, used, &d), PKT_OK); \
		r = auth_verify(k, &tcrypto.seam, b, used, &d.mac); \
		if (r != (want)) print_error("line %d: %s\n", __LINE__, auth_result_name(r)); \
		assert_int_equal(r, (want)); seen[r] = true; } while (0)

	/* OK for each algorithm; flipping any header bit or digest bit then fails. */
	for (uint32_t id = 1; id <= 3; id++) {
		used = pkt_encode_header(&p, b, sizeof b);
		assert_true(auth_sign(k, &tcrypto.seam, id, b, sizeof b, &used));
		assert_int_equal(used, id == 2 ? 72 : 68);
		VERIFY(AUTH_OK);
		b[40] ^= 0x01;
		VERIFY(AUTH_BAD_MAC);
		b[40] ^= 0x01;
		b[used - 1] ^= 0x80;
		VERIFY(AUTH_BAD_MAC);
		b[used - 1] ^= 0x80;
		VERIFY(AUTH_OK);
	}
	/* A MAC after extension fields covers them too. */
	used = pkt_encode_header(&p, b, sizeof b);
	const uint8_t body[12] = { 9, 9, 9 };
	assert_true(pkt_append_ef(b, sizeof b, &used, 0x0104, body, sizeof body, 16));
	assert_true(auth_sign(k, &tcrypto.seam, 3, b, sizeof b, &used));
	VERIFY(AUTH_OK);
	assert_int_equal(d.n_ef, 1);
	b[55] ^= 0x04; /* inside the extension field */
	VERIFY(AUTH_BAD_MAC);

	/* No MAC; crypto-NAK; unknown and untrusted keys. */
	used = pkt_encode_header(&p, b, sizeof b);
	VERIFY(AUTH_NONE);
	assert_true(pkt_append_mac(b, sizeof b, &used, 0, NULL, 0));
	VERIFY(AUTH_CRYPTO_NAK);
	const uint8_t junk[20] = { 0x55 };
	used = pkt_encode_header(&p, b, sizeof b);
	assert_true(pkt_append_mac(b, sizeof b, &used, 4, junk, 16));
	VERIFY(AUTH_UNKNOWN_KEY);
	used = pkt_encode_header(&p, b, sizeof b);
	assert_true(pkt_append_mac(b, sizeof b, &used, 5, junk, 16));
	VERIFY(AUTH_UNTRUSTED);
	/* An untrusted key does not sign either. */
	used = pkt_encode_header(&p, b, sizeof b);
	assert_false(auth_sign(k, &tcrypto.seam, 5, b, sizeof b, &used));
	assert_false(auth_sign(k, &tcrypto.seam, 4, b, sizeof b, &used));
	assert_int_equal(used, 48);
	/* Digest length that does not suit the key: SHA1 key with 16 octets, MD5 with 20. */
	assert_true(pkt_append_mac(b, sizeof b, &used, 2, junk, 16));
	VERIFY(AUTH_BAD_LENGTH);
	used = pkt_encode_header(&p, b, sizeof b);
	assert_true(pkt_append_mac(b, sizeof b, &used, 1, junk, 20));
	VERIFY(AUTH_BAD_LENGTH);
	/* The seam fails: never authentic, and nothing is signed. */
	struct auth_crypto broken = { .digest = fail_digest, .cmac = fail_cmac, .ctx = NULL };
	struct auth_crypto empty = { .digest = NULL, .cmac = NULL, .ctx = NULL };
	for (uint32_t id = 1; id <= 3; id++) {
		used = pkt_encode_header(&p, b, sizeof b);
		assert_true(auth_sign(k, &tcrypto.seam, id, b, sizeof b, &used));
		assert_int_equal(pkt_decode(b, used, &d), PKT_OK);
		assert_int_equal(auth_verify(k, &broken, b, used, &d.mac), AUTH_CRYPTO_FAIL);
		assert_int_equal(auth_verify(k, &empty, b, used, &d.mac), AUTH_CRYPTO_FAIL);
		seen[AUTH_CRYPTO_FAIL] = true;
		size_t u2 = 48;
		assert_false(auth_sign(k, &broken, id, b, sizeof b, &u2));
		assert_int_equal(u2, 48);
		uint8_t out[20];
		assert_int_equal(auth_mac_compute(k, &broken, id, b, 48, out), 0);
	}
	assert_int_equal(auth_verify(k, &tcrypto.seam, b, 0, NULL), AUTH_NONE);
	/* No room for the MAC: nothing changes. */
	used = pkt_encode_header(&p, b, sizeof b);
	assert_false(auth_sign(k, &tcrypto.seam, 1, b, 67, &used));
	assert_int_equal(used, 48);
#undef VERIFY
	for (int i = 0; i < AUTH_RESULT__COUNT; i++) {
		if (!seen[i])
			print_error("result %s not produced\n", auth_result_name((enum auth_result)i));
		assert_true(seen[i]);
		for (int j = i + 1; j < AUTH_RESULT__COUNT; j++)
			assert_string_not_equal(auth_result_name((enum auth_result)i),
						auth_result_name((enum auth_result)j));
	}
	auth_keys_free(k);
}

/* Mode 6 messages carry the MAC after the padded data; auth verifies them the same way. */
static void test_mode6_mac(void **state)
{
	(void)state;
	struct auth_keys *k = parse_str("3 aes-128 000102030405060708090a0b0c0d0e0f", NULL);
	assert_non_null(k);
	auth_keys_trust_all(k);
	struct pkt_mode6 m = { .vn = 2, .opcode = 2, .sequence = 9, .count = 7 };
	uint8_t b[128];
	size_t used = pkt_encode_mode6_header(&m, b, sizeof b);
	memcpy(b + used, "version\0", 8); /* 7 octets of data, 1 of padding */
	used += 8;
	assert_true(auth_sign(k, &tcrypto.seam, 3, b, sizeof b, &used));
	struct pkt_mode6 d;
	assert_int_equal(pkt_decode_mode6(b, used, &d), PKT_OK);
	assert_true(d.mac.present);
	assert_int_equal(d.mac.offset, 20);
	assert_int_equal(auth_verify(k, &tcrypto.seam, b, used, &d.mac), AUTH_OK);
	b[12] ^= 0x20;
	assert_int_equal(auth_verify(k, &tcrypto.seam, b, used, &d.mac), AUTH_BAD_MAC);
	auth_keys_free(k);
}

/* Seeded mutations of a key file: the parser never crashes or reads past the buffer (the
 * text is an exact-size heap copy, so the ASan build sees any over-read), and a table it
 * accepts holds only keys that compute a MAC of the right length. */
static void test_parse_mutations(void **state)
{
	(void)state;
	const char base[] = "# keys\n1 md5 InteropMD5-Key1\n2 SHA1 HEX:A1B2C3D4E5F60718293A4B5C6D7E8F9001122334\n"
			    "3 aes-128 000102030405060708090a0b0c0d0e0f\n77 ASCII:xyz\n";
	const char alphabet[] = " \t\n\r#:0123456789abcdefxHEXASCIImd5sha1-\x01\x7f\xff";
	uint64_t seed = 0x243f6a8885a308d3ULL;
	unsigned accepted = 0;
	for (int round = 0; round < 5000; round++) {
		size_t len = sizeof base - 1;
		char *t = malloc(len);
		assert_non_null(t);
		memcpy(t, base, len);
		int edits = 1 + (int)(seed % 6);
		for (int e = 0; e < edits; e++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			t[seed % len] = alphabet[(seed >> 32) % (sizeof alphabet - 1)];
		}
		size_t cut = (seed >> 20) % 4 == 0 ? (size_t)((seed >> 40) % len) : len;
		struct auth_parse_error err;
		struct auth_keys *k = auth_keys_parse(t, cut, &err);
		if (k) {
			accepted++;
			for (uint32_t id = 0; id < 100; id++) {
				uint8_t out[AUTH_DIGEST_MAX_LEN];
				enum auth_alg alg;
				if (!auth_keys_alg(k, id, &alg))
					continue;
				assert_int_equal(auth_mac_compute(k, &tcrypto.seam, id, (const uint8_t *)t, cut, out),
						 auth_digest_len(alg));
			}
			auth_keys_free(k);
		} else {
			assert_true(err.line >= 1);
			assert_true(err.msg[0] != '\0');
		}
		free(t);
	}
	assert_true(accepted > 0);
}

static void test_ct_equal(void **state)
{
	(void)state;
	const uint8_t a[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	uint8_t b[20];
	memcpy(b, a, sizeof b);
	assert_true(auth_ct_equal(a, b, 20));
	assert_true(auth_ct_equal(a, b, 0));
	for (size_t i = 0; i < 20; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			assert_false(auth_ct_equal(a, b, 20));
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
}

static void test_refid_ipv6(void **state)
{
	(void)state;
	/* Expected values: the first 4 octets of MD5 of the 16 address octets (computed with
	 * Python's hashlib): ::1 -> cf404dc8, 2001:db8::1 -> 39ab9b37. */
	uint8_t lo[16] = { 0 };
	lo[15] = 1;
	uint8_t doc[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	doc[15] = 1;
	uint32_t refid = 0;
	assert_true(auth_refid_ipv6(&tcrypto.seam, lo, &refid));
	assert_true(refid == 0xcf404dc8u);
	assert_true(auth_refid_ipv6(&tcrypto.seam, doc, &refid));
	assert_true(refid == 0x39ab9b37u);
	struct auth_crypto broken = { .digest = fail_digest, .cmac = fail_cmac, .ctx = NULL };
	assert_false(auth_refid_ipv6(&broken, lo, &refid));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seam_known_answers),
		cmocka_unit_test(test_parse_vector_key_files),
		cmocka_unit_test(test_parse_syntaxes),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_keys_add_and_trust),
		cmocka_unit_test(test_vectors_verify),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_mode6_mac),
		cmocka_unit_test(test_parse_mutations),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_refid_ipv6),
	};
	return cmocka_run_group_tests(tests, tcrypto_setup, tcrypto_teardown);
}
