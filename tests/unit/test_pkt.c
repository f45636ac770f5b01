/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for pkt (the codec): every packet of the golden vectors (tests/data/vectors,
 * captured from chrony 4.3 and NTPsec 1.2.2) decodes to the vector's `decoded` fields and
 * re-encodes byte for byte; each enum pkt_err value comes from a crafted packet; the
 * builders pad and refuse correctly; and no truncation or mutation of a packet makes the
 * decoder read past the end (each decode runs on an exact-size heap copy, so the ASan
 * build catches a single byte over-read).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"
#include "tvec.h"

#define MAXPKT 2048

/* Decode from an exact-size heap copy so any over-read is an ASan error. */
static enum pkt_err decode_exact(const uint8_t *b, size_t len, struct pkt *p)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, b, len);
	enum pkt_err e = pkt_decode(copy, len, p);
	free(copy);
	return e;
}

static enum pkt_err decode6_exact(const uint8_t *b, size_t len, struct pkt_mode6 *m)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, b, len);
	enum pkt_err e = pkt_decode_mode6(copy, len, m);
	free(copy);
	return e;
}

/* --- the golden vectors --- */

struct vec_stats {
	unsigned packets, headers_ok, with_mac, mode6, err_version, err_mode, reencoded;
};

static void fail_at(const char *file, const char *id, size_t k, const char *what)
{
	print_error("%s: vector %s packet %zu: %s\n", file, id, k, what);
	fail();
}

#define CHECK(cond, what) do { if (!(cond)) fail_at(file, id, k, what); } while (0)

static long long get_int(const struct tjson *d, const char *key, const char *file,
			 const char *id, size_t k)
{
	long long v = 0;
	CHECK(tjson_get_int(d, key, &v), key);
	return v;
}

static uint32_t get_u32hex(const struct tjson *d, const char *key, const char *file,
			   const char *id, size_t k)
{
	uint32_t v = 0;
	CHECK(tvec_u32hex(tjson_get_str(d, key), &v), key);
	return v;
}

static uint64_t get_ts(const struct tjson *d, const char *key, const char *file,
		       const char *id, size_t k)
{
	uint64_t v = 0;
	CHECK(tvec_ts64(tjson_get_str(d, key), &v), key);
	return v;
}

static void check_header_packet(const uint8_t *b, size_t len, const struct tjson *d,
				const char *file, const char *id, size_t k, struct vec_stats *st)
{
	long long vn = get_int(d, "vn", file, id, k);
	long long mode = get_int(d, "mode", file, id, k);
	struct pkt p;
	enum pkt_err e = decode_exact(b, len, &p);
	if (vn < 1 || vn > 4) {
		/* The VN 0 and VN 5 probes of versions.json: refused, and nothing else read. */
		CHECK(e == PKT_ERR_VERSION, "VN 0/5 must be PKT_ERR_VERSION");
		CHECK(p.vn == vn, "vn");
		st->err_version++;
		return;
	}
	if (mode == PKT_MODE_PRIVATE) {
		CHECK(e == PKT_ERR_MODE, "mode 7 must be PKT_ERR_MODE");
		CHECK(p.mode == 7, "mode");
		st->err_mode++;
		return;
	}
	if (e != PKT_OK)
		print_error("decode error %s\n", pkt_err_name(e));
	CHECK(e == PKT_OK, "decode");
	st->headers_ok++;
	CHECK(p.len == len, "len");
	CHECK(p.li == get_int(d, "li", file, id, k), "li");
	CHECK(p.vn == vn, "vn");
	CHECK(p.mode == mode, "mode");
	CHECK(p.stratum == get_int(d, "stratum", file, id, k), "stratum");
	CHECK(p.poll == get_int(d, "poll", file, id, k), "poll");
	CHECK(p.precision == get_int(d, "precision", file, id, k), "precision");
	CHECK(p.rootdelay == get_u32hex(d, "rootdelay", file, id, k), "rootdelay");
	CHECK(p.rootdisp == get_u32hex(d, "rootdisp", file, id, k), "rootdisp");
	CHECK(p.refid == get_u32hex(d, "refid_hex", file, id, k), "refid_hex");
	const char *ascii = tjson_get_str(d, "refid_ascii");
	if (ascii) {
		CHECK(strlen(ascii) <= 4, "refid_ascii length");
		char four[4] = { 0 };
		memcpy(four, ascii, strlen(ascii));
		CHECK(p.refid == pkt_refid_ascii(four), "refid_ascii");
	}
	CHECK(p.reftime == get_ts(d, "reftime", file, id, k), "reftime");
	CHECK(p.org == get_ts(d, "org", file, id, k), "org");
	CHECK(p.rec == get_ts(d, "rec", file, id, k), "rec");
	CHECK(p.xmt == get_ts(d, "xmt", file, id, k), "xmt");
	CHECK(p.n_ef == 0, "no extension fields in the captures");

	if (tjson_get(d, "keyid")) {
		st->with_mac++;
		CHECK(p.mac.present && !p.mac.crypto_nak, "mac present");
		CHECK(p.mac.keyid == (uint32_t)get_int(d, "keyid", file, id, k), "keyid");
		CHECK(p.mac.digest_len == get_int(d, "mac_len", file, id, k), "mac_len");
		CHECK(p.mac.offset == PKT_HEADER_LEN, "mac offset");
		uint8_t mac[64];
		long n = tvec_hex(tjson_get_str(d, "mac_hex"), mac, sizeof mac);
		CHECK(n == p.mac.digest_len, "mac_hex length");
		CHECK(memcmp(mac, b + p.mac.offset + PKT_MAC_KEYID_LEN, (size_t)n) == 0, "mac_hex");
		CHECK((size_t)p.mac.offset + PKT_MAC_KEYID_LEN + p.mac.digest_len == len, "mac ends packet");
	} else {
		CHECK(!p.mac.present, "no mac");
		CHECK(tjson_get(d, "mac_len") == NULL, "mac_len without keyid");
		CHECK(len == PKT_HEADER_LEN, "48 octets without a MAC");
	}

	uint8_t out[PKT_HEADER_LEN + 8];
	memset(out, 0xa5, sizeof out);
	CHECK(pkt_encode_header(&p, out, sizeof out) == PKT_HEADER_LEN, "encode");
	CHECK(memcmp(out, b, PKT_HEADER_LEN) == 0, "re-encoded header differs");
	CHECK(out[PKT_HEADER_LEN] == 0xa5, "encode wrote past 48 octets");
	st->reencoded++;
}

static void check_mode6_packet(const uint8_t *b, size_t len, const struct tjson *d,
			       const char *file, const char *id, size_t k, struct vec_stats *st)
{
	struct pkt_mode6 m;
	enum pkt_err e = decode6_exact(b, len, &m);
	if (e != PKT_OK)
		print_error("decode error %s\n", pkt_err_name(e));
	CHECK(e == PKT_OK, "decode mode 6");
	st->mode6++;
	bool bv = false;
	CHECK(m.li == get_int(d, "li", file, id, k), "li");
	CHECK(m.vn == get_int(d, "vn", file, id, k), "vn");
	CHECK(get_int(d, "mode", file, id, k) == PKT_MODE_CONTROL, "mode");
	CHECK(tjson_get_bool(d, "response", &bv) && m.response == bv, "response");
	CHECK(tjson_get_bool(d, "error", &bv) && m.error == bv, "error");
	CHECK(tjson_get_bool(d, "more", &bv) && m.more == bv, "more");
	CHECK(m.opcode == get_int(d, "opcode", file, id, k), "opcode");
	CHECK(m.sequence == get_int(d, "sequence", file, id, k), "sequence");
	const char *status = tjson_get_str(d, "status");
	unsigned long sv = status ? strtoul(status, NULL, 16) : 0xfffffffful;
	CHECK(status && strlen(status) == 4 && m.status == sv, "status");
	CHECK(m.associd == get_int(d, "associd", file, id, k), "associd");
	CHECK(m.offset == get_int(d, "offset", file, id, k), "offset");
	CHECK(m.count == get_int(d, "count", file, id, k), "count");
	CHECK(m.data_offset == PKT_MODE6_HEADER_LEN, "data_offset");
	CHECK(m.len == len, "len");
	CHECK(!m.mac.present, "no MAC in the ntpq captures");

	/* data_text holds the data octets as Latin-1 code points (tjson turns them back into
	 * bytes): its length is count and it matches the payload from octet 12. */
	const struct tjson *dt = tjson_get(d, "data_text");
	CHECK(dt && dt->type == TJSON_STR, "data_text");
	CHECK(dt->str_len == m.count, "data_text length == count");
	CHECK(memcmp(dt->str, b + m.data_offset, dt->str_len) == 0, "data_text bytes");

	/* Trailer: the padding after the data (NTPsec fills it with stale bytes). */
	size_t data_end = PKT_MODE6_HEADER_LEN + m.count;
	uint8_t trailer[8];
	const char *th = tjson_get_str(d, "trailer_hex");
	long tn = th ? tvec_hex(th, trailer, sizeof trailer) : 0;
	CHECK(tn >= 0 && data_end + (size_t)tn == len, "trailer length");
	CHECK(tn == 0 || memcmp(trailer, b + data_end, (size_t)tn) == 0, "trailer bytes");

	uint8_t out[PKT_MODE6_HEADER_LEN];
	CHECK(pkt_encode_mode6_header(&m, out, sizeof out) == PKT_MODE6_HEADER_LEN, "encode");
	CHECK(memcmp(out, b, PKT_MODE6_HEADER_LEN) == 0, "re-encoded mode 6 header differs");
}

static void test_vectors_decode(void **state)
{
	(void)state;
	struct vec_stats st = { 0 };
	for (size_t f = 0; f < tvec_n_files; f++) {
		const char *file = tvec_files[f];
		struct tjson *root = tvec_load(file);
		const struct tjson *vecs = tvec_vectors(root);
		assert_true(tjson_count(vecs) > 0);
		long long declared = -1;
		assert_true(tjson_get_int(root, "count", &declared));
		assert_int_equal(declared, tjson_count(vecs));
		unsigned in_file = 0;
		for (size_t v = 0; v < tjson_count(vecs); v++) {
			const struct tjson *vec = tjson_at(vecs, v);
			const char *id = tjson_get_str(vec, "id");
			assert_non_null(id);
			const struct tjson *pkts = tvec_packets(vec);
			for (size_t k = 0; k < tjson_count(pkts); k++) {
				const struct tjson *pk = tjson_at(pkts, k);
				const struct tjson *d = tjson_get(pk, "decoded");
				uint8_t b[MAXPKT];
				long n = tvec_hex(tjson_get_str(pk, "payload_hex"), b, sizeof b);
				CHECK(n > 0, "payload_hex");
				CHECK(n == get_int(pk, "length", file, id, k), "length");
				uint8_t vn, mode;
				CHECK(pkt_peek(b, (size_t)n, &vn, &mode), "peek");
				CHECK(mode == get_int(d, "mode", file, id, k), "peek mode");
				CHECK(vn == get_int(d, "vn", file, id, k), "peek vn");
				if (mode == PKT_MODE_CONTROL)
					check_mode6_packet(b, (size_t)n, d, file, id, k, &st);
				else
					check_header_packet(b, (size_t)n, d, file, id, k, &st);
				st.packets++;
				in_file++;
			}
		}
		assert_true(in_file > 0);
		tjson_free(root);
	}
	/* Every packet of the seven files was seen (counted from the JSON when copied). */
	assert_int_equal(st.packets, 314);
	assert_int_equal(st.mode6, 43);
	assert_int_equal(st.with_mac, 53);
	assert_int_equal(st.err_version, 6);  /* VN 0 and VN 5, three server setups */
	assert_int_equal(st.err_mode, 3);     /* mode 7 probes */
	assert_int_equal(st.headers_ok + st.err_version + st.err_mode + st.mode6, st.packets);
	assert_int_equal(st.reencoded, st.headers_ok);
}

/* Every prefix of every vector packet decodes without reading past its end; prefixes
 * shorter than the fixed header are PKT_ERR_TRUNCATED. */
static void test_vectors_truncated(void **state)
{
	(void)state;
	unsigned tried = 0;
	for (size_t f = 0; f < tvec_n_files; f++) {
		struct tjson *root = tvec_load(tvec_files[f]);
		const struct tjson *vecs = tvec_vectors(root);
		for (size_t v = 0; v < tjson_count(vecs); v++) {
			const struct tjson *pkts = tvec_packets(tjson_at(vecs, v));
			for (size_t k = 0; k < tjson_count(pkts); k++) {
				uint8_t b[MAXPKT];
				long n = tvec_hex(tjson_get_str(tjson_at(pkts, k), "payload_hex"), b, sizeof b);
				assert_true(n > 0);
				bool m6 = (b[0] & 7) == PKT_MODE_CONTROL;
				for (size_t len = 0; len < (size_t)n; len++) {
					struct pkt p;
					struct pkt_mode6 m;
					if (m6) {
						enum pkt_err e = decode6_exact(b, len, &m);
						if (len < PKT_MODE6_HEADER_LEN)
							assert_int_equal(e, PKT_ERR_TRUNCATED);
						else if (len < (size_t)PKT_MODE6_HEADER_LEN + m.count)
							assert_int_equal(e, PKT_ERR_M6_COUNT);
					} else {
						enum pkt_err e = decode_exact(b, len, &p);
						if (len < PKT_HEADER_LEN)
							assert_int_equal(e, PKT_ERR_TRUNCATED);
						else if (len == PKT_HEADER_LEN && ((b[0] >> 3) & 7) >= 1 &&
							 ((b[0] >> 3) & 7) <= 4 && (b[0] & 7) != 7)
							assert_int_equal(e, PKT_OK);
						else if ((len - PKT_HEADER_LEN) % 4 != 0 && ((b[0] >> 3) & 7) == 4)
							assert_int_equal(e, PKT_ERR_ALIGN);
					}
					tried++;
				}
			}
		}
		tjson_free(root);
	}
	assert_true(tried > 10000);
}

/* --- crafted packets: one per error --- */

static size_t header(uint8_t *b, unsigned vn, unsigned mode)
{
	memset(b, 0, PKT_HEADER_LEN);
	b[0] = (uint8_t)(vn << 3 | mode);
	b[2] = 6;
	b[3] = 0xec;
	return PKT_HEADER_LEN;
}

static size_t ef(uint8_t *b, size_t at, uint16_t type, uint16_t declared_len, size_t real_len)
{
	ntp_u16_store(b + at, type);
	ntp_u16_store(b + at + 2, declared_len);
	memset(b + at + 4, 0x5a, real_len - 4);
	return at + real_len;
}

static size_t mac(uint8_t *b, size_t at, uint32_t keyid, size_t digest_len)
{
	ntp_u32_store(b + at, keyid);
	memset(b + at + 4, 0xc3, digest_len);
	return at + 4 + digest_len;
}

static size_t mode6(uint8_t *b, unsigned vn, unsigned mode, uint16_t count, size_t data_len)
{
	memset(b, 0, PKT_MODE6_HEADER_LEN);
	b[0] = (uint8_t)(vn << 3 | mode);
	b[1] = 0x02; /* READVAR */
	ntp_u16_store(b + 2, 7);
	ntp_u16_store(b + 10, count);
	memset(b + PKT_MODE6_HEADER_LEN, 'v', data_len);
	return PKT_MODE6_HEADER_LEN + data_len;
}

struct crafted {
	const char *name;
	bool m6;
	enum pkt_err want;
	size_t len;
	uint8_t b[MAXPKT];
};

/* Builds the crafted-packet table. Each entry is a packet malformed in one way. */
static size_t build_crafted(struct crafted *c)
{
	size_t n = 0, at;
#define NEW(nm, is6, err) (c[n].name = (nm), c[n].m6 = (is6), c[n].want = (err), c[n].b)
	uint8_t *b;

	b = NEW("truncated header (47 octets)", false, PKT_ERR_TRUNCATED);
	c[n++].len = header(b, 4, 3) - 1;
	b = NEW("empty datagram", false, PKT_ERR_TRUNCATED);
	c[n++].len = 0;
	b = NEW("truncated mode 6 header (11 octets)", true, PKT_ERR_TRUNCATED);
	c[n++].len = mode6(b, 2, 6, 0, 0) - 1;
	b = NEW("too long", false, PKT_ERR_TOO_LONG);
	header(b, 4, 3);
	memset(b + PKT_HEADER_LEN, 0, PKT_MAX_LEN + 1 - PKT_HEADER_LEN);
	c[n++].len = PKT_MAX_LEN + 1;
	b = NEW("version 0", false, PKT_ERR_VERSION);
	c[n++].len = header(b, 0, 3);
	b = NEW("version 5", false, PKT_ERR_VERSION);
	c[n++].len = header(b, 5, 3);
	b = NEW("version 7", false, PKT_ERR_VERSION);
	c[n++].len = header(b, 7, 4);
	b = NEW("mode 6 version 0", true, PKT_ERR_VERSION);
	c[n++].len = mode6(b, 0, 6, 0, 0);
	b = NEW("mode 6 version 5", true, PKT_ERR_VERSION);
	c[n++].len = mode6(b, 5, 6, 0, 0);
	b = NEW("mode 6 to pkt_decode", false, PKT_ERR_MODE);
	c[n++].len = header(b, 2, 6);
	b = NEW("mode 7 to pkt_decode", false, PKT_ERR_MODE);
	c[n++].len = header(b, 2, 7);
	b = NEW("mode 3 to pkt_decode_mode6", true, PKT_ERR_MODE);
	c[n++].len = mode6(b, 2, 3, 0, 0);
	b = NEW("2 stray octets after the header", false, PKT_ERR_ALIGN);
	c[n++].len = header(b, 4, 3) + 2;
	b = NEW("extension field body runs past the end", false, PKT_ERR_EF_TRUNCATED);
	c[n++].len = ef(b, header(b, 4, 3), 0x0104, 64, 32);
	b = NEW("extension field length 12 (< 16)", false, PKT_ERR_EF_LEN);
	c[n++].len = ef(b, header(b, 4, 3), 0x0104, 12, 28);
	b = NEW("extension field length 30 (not a multiple of 4)", false, PKT_ERR_EF_LEN);
	c[n++].len = ef(b, header(b, 4, 3), 0x0104, 30, 32);
	b = NEW("extension field length 0", false, PKT_ERR_EF_LEN);
	c[n++].len = ef(b, header(b, 4, 3), 0x0104, 0, 28);
	b = NEW("second extension field length 20 + 2", false, PKT_ERR_EF_LEN);
	at = ef(b, header(b, 4, 3), 0x0104, 28, 28);
	c[n++].len = ef(b, at, 0x0204, 22, 32);
	b = NEW("only extension field is 16 octets, no MAC", false, PKT_ERR_EF_LAST_SHORT);
	c[n++].len = ef(b, header(b, 4, 3), 0x0104, 16, 16);
	b = NEW("last extension field is 16 octets, no MAC", false, PKT_ERR_EF_LAST_SHORT);
	at = ef(b, header(b, 4, 3), 0x0104, 28, 28);
	c[n++].len = ef(b, at, 0x0204, 16, 16);
	b = NEW("nine extension fields", false, PKT_ERR_EF_TOO_MANY);
	at = header(b, 4, 3);
	for (int i = 0; i < PKT_MAX_EF + 1; i++)
		at = ef(b, at, 0x0104, 28, 28);
	c[n++].len = at;
	b = NEW("extension field in an NTPv3 packet", false, PKT_ERR_EF_VERSION);
	c[n++].len = ef(b, header(b, 3, 3), 0x0104, 28, 28);
	b = NEW("MAC of 8 octets", false, PKT_ERR_MAC_LEN);
	c[n++].len = mac(b, header(b, 4, 3), 1, 4);
	b = NEW("MAC of 12 octets", false, PKT_ERR_MAC_LEN);
	c[n++].len = mac(b, header(b, 4, 3), 1, 8);
	b = NEW("MAC of 16 octets (key id 1)", false, PKT_ERR_MAC_LEN);
	c[n++].len = mac(b, header(b, 4, 3), 1, 12);
	b = NEW("NTPv3 MAC of 16 octets", false, PKT_ERR_MAC_LEN);
	c[n++].len = mac(b, header(b, 3, 3), 1, 12);
	b = NEW("MAC of 12 octets after an extension field", false, PKT_ERR_MAC_LEN);
	at = ef(b, header(b, 4, 3), 0x0104, 16, 16);
	c[n++].len = mac(b, at, 7, 8);
	b = NEW("mode 6 count 469", true, PKT_ERR_M6_COUNT);
	c[n++].len = mode6(b, 2, 6, 469, 472);
	b = NEW("mode 6 count past the end", true, PKT_ERR_M6_COUNT);
	c[n++].len = mode6(b, 2, 6, 40, 36);
	b = NEW("mode 6 MAC right after unpadded data", true, PKT_ERR_M6_PADDING);
	c[n++].len = mac(b, mode6(b, 2, 6, 15, 15), 1, 16);
	b = NEW("mode 6 stray octets after the padding", true, PKT_ERR_M6_PADDING);
	c[n++].len = mode6(b, 2, 6, 16, 18);
	b = NEW("mode 6 MAC of 12 octets", true, PKT_ERR_MAC_LEN);
	c[n++].len = mac(b, mode6(b, 2, 6, 16, 16), 1, 8);
#undef NEW
	return n;
}

static void test_each_error(void **state)
{
	(void)state;
	static struct crafted c[64];
	size_t n = build_crafted(c);
	bool seen[PKT_ERR__COUNT] = { false };
	for (size_t i = 0; i < n; i++) {
		enum pkt_err e;
		if (c[i].m6) {
			struct pkt_mode6 m;
			e = decode6_exact(c[i].b, c[i].len, &m);
		} else {
			struct pkt p;
			e = decode_exact(c[i].b, c[i].len, &p);
		}
		if (e != c[i].want)
			print_error("%s: got %s, want %s\n", c[i].name, pkt_err_name(e),
				    pkt_err_name(c[i].want));
		assert_int_equal(e, c[i].want);
		seen[e] = true;
	}
	/* Every error the codec can report has a crafted packet above. */
	for (int e = PKT_ERR_TRUNCATED; e < PKT_ERR__COUNT; e++) {
		if (!seen[e])
			print_error("no crafted packet for %s\n", pkt_err_name((enum pkt_err)e));
		assert_true(seen[e]);
	}
}

static void test_error_names(void **state)
{
	(void)state;
	for (int a = 0; a < PKT_ERR__COUNT; a++) {
		const char *na = pkt_err_name((enum pkt_err)a);
		assert_non_null(na);
		assert_string_not_equal(na, "unknown");
		for (int b = a + 1; b < PKT_ERR__COUNT; b++)
			assert_string_not_equal(na, pkt_err_name((enum pkt_err)b));
	}
	assert_string_equal(pkt_err_name(PKT_ERR__COUNT), "unknown");
	assert_string_equal(pkt_err_name(PKT_ERR_TRUNCATED), "truncated");
	assert_string_equal(pkt_err_name(PKT_ERR_EF_LEN), "ef-len");
}

/* --- well-formed packets with extension fields and MACs --- */

static void test_valid_extensions_and_macs(void **state)
{
	(void)state;
	uint8_t b[MAXPKT];
	struct pkt p;
	size_t at;

	/* One 28-octet field, no MAC (RFC 7822 §3 minimum for a last field). */
	at = ef(b, header(b, 4, 3), 0x0104, 28, 28);
	assert_int_equal(decode_exact(b, at, &p), PKT_OK);
	assert_int_equal(p.n_ef, 1);
	assert_int_equal(p.ef[0].type, 0x0104);
	assert_int_equal(p.ef[0].len, 28);
	assert_int_equal(p.ef[0].offset, 48);
	assert_false(p.mac.present);

	/* 16-octet field followed by a 20-octet MAC (MD5/CMAC). */
	at = ef(b, header(b, 4, 3), 0x0204, 16, 16);
	at = mac(b, at, 0xdeadbeef, 16);
	assert_int_equal(decode_exact(b, at, &p), PKT_OK);
	assert_int_equal(p.n_ef, 1);
	assert_true(p.mac.present);
	assert_false(p.mac.crypto_nak);
	assert_true(p.mac.keyid == 0xdeadbeef);
	assert_int_equal(p.mac.offset, 64);
	assert_int_equal(p.mac.digest_len, 16);

	/* Two fields then a 24-octet MAC (SHA1). */
	at = ef(b, header(b, 4, 1), 0x0104, 16, 16);
	at = ef(b, at, 0x0304, 40, 40);
	at = mac(b, at, 2, 20);
	assert_int_equal(decode_exact(b, at, &p), PKT_OK);
	assert_int_equal(p.n_ef, 2);
	assert_int_equal(p.ef[1].offset, 64);
	assert_int_equal(p.ef[1].len, 40);
	assert_int_equal(p.mac.offset, 104);
	assert_int_equal(p.mac.digest_len, 20);

	/* Eight fields (the most accepted) and no MAC. */
	at = header(b, 4, 3);
	for (int i = 0; i < PKT_MAX_EF; i++)
		at = ef(b, at, (uint16_t)i, 28, 28);
	assert_int_equal(decode_exact(b, at, &p), PKT_OK);
	assert_int_equal(p.n_ef, PKT_MAX_EF);
	assert_int_equal(p.ef[7].type, 7);

	/* Crypto-NAK: a 4-octet MAC, key id 0 (RFC 5905 §7.4). */
	at = mac(b, header(b, 4, 4), 0, 0);
	assert_int_equal(decode_exact(b, at, &p), PKT_OK);
	assert_true(p.mac.present && p.mac.crypto_nak);
	assert_int_equal(p.mac.digest_len, 0);

	/* NTPv3 with a MAC; NTPv1 with mode 0 (both servers answer it). */
	at = mac(b, header(b, 3, 3), 1, 16);
	assert_int_equal(decode_exact(b, at, &p), PKT_OK);
	assert_true(p.mac.present);
	assert_int_equal(decode_exact(b, header(b, 1, 0), &p), PKT_OK);
	assert_int_equal(p.vn, 1);
	assert_int_equal(p.mode, 0);

	/* The largest datagram accepted. */
	at = header(b, 4, 3);
	at = ef(b, at, 0x0104, (uint16_t)(PKT_MAX_LEN - 48 - 24), PKT_MAX_LEN - 48 - 24);
	at = mac(b, at, 9, 20);
	assert_int_equal(at, PKT_MAX_LEN);
	assert_int_equal(decode_exact(b, at, &p), PKT_OK);

	/* Mode 6 with padding and a MAC; without padding at the end (no MAC). */
	struct pkt_mode6 m;
	at = mode6(b, 2, 6, 15, 16);
	at = mac(b, at, 5, 16);
	assert_int_equal(decode6_exact(b, at, &m), PKT_OK);
	assert_true(m.mac.present);
	assert_int_equal(m.mac.offset, 28);
	assert_true(m.mac.keyid == 5);
	assert_int_equal(decode6_exact(b, mode6(b, 2, 6, 15, 15), &m), PKT_OK);
	assert_false(m.mac.present);
	assert_int_equal(decode6_exact(b, mode6(b, 4, 6, 468, 468), &m), PKT_OK);
}

static void test_peek(void **state)
{
	(void)state;
	uint8_t vn = 0, mode = 0;
	const uint8_t b[1] = { 0xe3 };
	assert_false(pkt_peek(b, 0, &vn, &mode));
	assert_true(pkt_peek(b, 1, &vn, &mode));
	assert_int_equal(vn, 4);
	assert_int_equal(mode, 3);
}

/* --- encoders --- */

static void test_encode_header_limits(void **state)
{
	(void)state;
	struct pkt p = { .li = 3, .vn = 4, .mode = 3, .poll = -6, .precision = -20 };
	uint8_t b[PKT_HEADER_LEN];
	assert_int_equal(pkt_encode_header(&p, b, sizeof b), PKT_HEADER_LEN);
	assert_int_equal(b[0], 0xe3);
	assert_int_equal(b[2], 0xfa);
	assert_int_equal(b[3], 0xec);
	assert_int_equal(pkt_encode_header(&p, b, sizeof b - 1), 0);
	p.li = 4;
	assert_int_equal(pkt_encode_header(&p, b, sizeof b), 0);
	p.li = 0;
	p.vn = 0;
	assert_int_equal(pkt_encode_header(&p, b, sizeof b), 0);
	p.vn = 5;
	assert_int_equal(pkt_encode_header(&p, b, sizeof b), 0);
	p.vn = 4;
	p.mode = 8;
	assert_int_equal(pkt_encode_header(&p, b, sizeof b), 0);

	struct pkt_mode6 m = { .li = 0, .vn = 2, .response = true, .more = true, .opcode = 2,
			       .sequence = 0x4567, .status = 0x0016, .associd = 1,
			       .offset = 468, .count = 8 };
	uint8_t h[PKT_MODE6_HEADER_LEN];
	assert_int_equal(pkt_encode_mode6_header(&m, h, sizeof h), 12);
	const uint8_t want[12] = { 0x16, 0xa2, 0x45, 0x67, 0x00, 0x16, 0x00, 0x01,
				   0x01, 0xd4, 0x00, 0x08 };
	assert_memory_equal(h, want, 12);
	m.count = 469;
	assert_int_equal(pkt_encode_mode6_header(&m, h, sizeof h), 0);
	m.count = 8;
	m.opcode = 32;
	assert_int_equal(pkt_encode_mode6_header(&m, h, sizeof h), 0);
	m.opcode = 2;
	assert_int_equal(pkt_encode_mode6_header(&m, h, 11), 0);
}

static void test_append_ef_and_mac(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t used;
	struct pkt p = { .vn = 4, .mode = 3 };
	const uint8_t body[40] = { 1, 2, 3, 4, 5 };

	used = pkt_encode_header(&p, b, sizeof b);
	memset(b + used, 0xee, sizeof b - used);
	/* 5-octet body -> 16-octet field (minimum), zero padded. */
	assert_true(pkt_append_ef(b, sizeof b, &used, 0x0104, body, 5, 16));
	assert_int_equal(used, 64);
	assert_int_equal(ntp_u16_load(b + 48), 0x0104);
	assert_int_equal(ntp_u16_load(b + 50), 16);
	assert_int_equal(b[52], 1);
	assert_int_equal(b[57], 0);
	assert_int_equal(b[63], 0);
	/* 30-octet body -> 36 octets (multiple of 4). */
	assert_true(pkt_append_ef(b, sizeof b, &used, 0x0204, body, 30, 16));
	assert_int_equal(used, 100);
	assert_int_equal(ntp_u16_load(b + 66), 36);
	/* Last field of a packet without MAC: at least 28. */
	assert_true(pkt_append_ef(b, sizeof b, &used, 0x0304, NULL, 0, PKT_EF_LAST_NOMAC_MIN_LEN));
	assert_int_equal(used, 128);
	assert_int_equal(ntp_u16_load(b + 102), 28);
	struct pkt d;
	assert_int_equal(decode_exact(b, used, &d), PKT_OK);
	assert_int_equal(d.n_ef, 3);

	/* Does not fit: nothing changes. */
	size_t before = used;
	uint8_t snapshot[256];
	memcpy(snapshot, b, sizeof b);
	assert_false(pkt_append_ef(b, 140, &used, 0x0404, body, 20, 16));
	assert_int_equal(used, before);
	assert_memory_equal(b, snapshot, sizeof b);

	/* MAC: 16 and 20 octets fine, other sizes refused, capacity respected. */
	const uint8_t dg[20] = { 0xaa, 0xbb };
	size_t u2 = 100;
	assert_false(pkt_append_mac(b, sizeof b, &u2, 1, dg, 12));
	assert_int_equal(u2, 100);
	assert_false(pkt_append_mac(b, 119, &u2, 1, dg, 16));
	assert_int_equal(u2, 100);
	assert_true(pkt_append_mac(b, sizeof b, &u2, 0x01020304, dg, 16));
	assert_int_equal(u2, 120);
	assert_int_equal(ntp_u32_load(b + 100), 0x01020304);
	assert_int_equal(b[104], 0xaa);
	assert_int_equal(decode_exact(b, u2, &d), PKT_OK);
	assert_int_equal(d.n_ef, 2);
	assert_true(d.mac.present);
	assert_int_equal(d.mac.offset, 100);
	assert_int_equal(d.mac.digest_len, 16);
	u2 = 48;
	assert_true(pkt_append_mac(b, sizeof b, &u2, 2, dg, 20));
	assert_int_equal(u2, 72);
	u2 = 48;
	assert_true(pkt_append_mac(b, sizeof b, &u2, 0, NULL, 0)); /* crypto-NAK */
	assert_int_equal(u2, 52);
}

/* Seeded mutations of vector and crafted packets: the decoder never reads past the end
 * and, when it accepts, every offset it reports lies inside the packet. */
static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_mutations_stay_in_bounds(void **state)
{
	(void)state;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	static struct crafted c[64];
	size_t n = build_crafted(c);
	for (int round = 0; round < 20000; round++) {
		struct crafted *src = &c[xorshift(&seed) % n];
		uint8_t b[MAXPKT];
		size_t len = src->len;
		memcpy(b, src->b, len);
		if (len > 0) {
			int flips = 1 + (int)(xorshift(&seed) % 4);
			for (int i = 0; i < flips; i++)
				b[xorshift(&seed) % len] ^= (uint8_t)(1u << (xorshift(&seed) % 8));
		}
		if (xorshift(&seed) % 3 == 0 && len > 0)
			len -= xorshift(&seed) % len;
		/* Force byte 0 into a decodable version sometimes. */
		if (len > 0 && xorshift(&seed) % 2)
			b[0] = (uint8_t)((b[0] & 0xc7) | 4 << 3);
		struct pkt p;
		struct pkt_mode6 m;
		if (decode_exact(b, len, &p) == PKT_OK) {
			size_t end = PKT_HEADER_LEN;
			for (int i = 0; i < p.n_ef; i++) {
				assert_int_equal(p.ef[i].offset, end);
				end += p.ef[i].len;
			}
			if (p.mac.present) {
				assert_int_equal(p.mac.offset, end);
				end += PKT_MAC_KEYID_LEN + p.mac.digest_len;
			}
			assert_int_equal(end, len);
		}
		if (decode6_exact(b, len, &m) == PKT_OK) {
			assert_true((size_t)PKT_MODE6_HEADER_LEN + m.count <= len);
			if (m.mac.present)
				assert_int_equal(m.mac.offset + PKT_MAC_KEYID_LEN + m.mac.digest_len, len);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_decode),
		cmocka_unit_test(test_vectors_truncated),
		cmocka_unit_test(test_each_error),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_valid_extensions_and_macs),
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_encode_header_limits),
		cmocka_unit_test(test_append_ef_and_mac),
		cmocka_unit_test(test_mutations_stay_in_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
