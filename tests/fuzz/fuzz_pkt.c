/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target for the packet codec (core/pkt): pkt_peek, pkt_decode and pkt_decode_mode6
 * on one datagram. Checks beyond "no crash":
 *  - pkt_decode OK: the packet is rebuilt from the decoded struct alone (pkt_encode_header,
 *    pkt_append_ef with the field bodies at the decoded offsets, pkt_append_mac) and equals
 *    the input octet for octet; the fields tile the packet (first at 48, each after the
 *    last, the MAC after them and ending at len); lengths and counts are within their limits;
 *    mode is never 6 or 7 and VN 1..4.
 *  - pkt_decode_mode6 OK: the re-encoded 12-octet header equals the input's; count fits
 *    in the datagram and in 468; a MAC starts at the padded end of the data and ends at len.
 *  - both decoders agree on what is mode 6, and the error names are never NULL.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "pkt.h"

static void check_mac(const struct pkt_mac *mac, size_t at, size_t len)
{
	if (!mac->present) {
		FUZZ_CHECK(at == len);
		return;
	}
	FUZZ_CHECK(mac->offset == at);
	FUZZ_CHECK(mac->digest_len == 0 || mac->digest_len == PKT_MAC_MD5_LEN ||
		   mac->digest_len == PKT_MAC_SHA1_LEN);
	FUZZ_CHECK(mac->crypto_nak == (mac->digest_len == 0));
	FUZZ_CHECK((size_t)mac->offset + PKT_MAC_KEYID_LEN + mac->digest_len == len);
}

static void check_decode(const uint8_t *data, size_t size)
{
	struct pkt p;
	enum pkt_err e = pkt_decode(data, size, &p);
	FUZZ_CHECK(pkt_err_name(e) != NULL);
	FUZZ_CHECK((unsigned)e < PKT_ERR__COUNT);
	if (e != PKT_OK)
		return;
	FUZZ_CHECK(size >= PKT_HEADER_LEN && size <= PKT_MAX_LEN);
	FUZZ_CHECK(p.len == size);
	FUZZ_CHECK(p.vn >= 1 && p.vn <= 4);
	FUZZ_CHECK(p.mode != PKT_MODE_CONTROL && p.mode != PKT_MODE_PRIVATE);
	FUZZ_CHECK(p.n_ef <= PKT_MAX_EF);
	FUZZ_CHECK(p.n_ef == 0 || p.vn == 4);

	/* The fields tile the packet. */
	size_t at = PKT_HEADER_LEN;
	for (unsigned i = 0; i < p.n_ef; i++) {
		FUZZ_CHECK(p.ef[i].offset == at);
		FUZZ_CHECK(p.ef[i].len >= PKT_EF_MIN_LEN && p.ef[i].len % 4 == 0);
		at += p.ef[i].len;
		FUZZ_CHECK(at <= size);
	}
	if (p.n_ef > 0 && !p.mac.present)
		FUZZ_CHECK(p.ef[p.n_ef - 1].len >= PKT_EF_LAST_NOMAC_MIN_LEN);
	check_mac(&p.mac, at, size);

	/* Rebuild from the struct: equal to the input. */
	uint8_t out[PKT_MAX_LEN];
	size_t used = pkt_encode_header(&p, out, sizeof out);
	FUZZ_CHECK(used == PKT_HEADER_LEN);
	for (unsigned i = 0; i < p.n_ef; i++) {
		const uint8_t *f = data + p.ef[i].offset;
		FUZZ_CHECK(pkt_append_ef(out, sizeof out, &used, p.ef[i].type, f + 4,
					 (size_t)p.ef[i].len - 4, PKT_EF_MIN_LEN));
	}
	if (p.mac.present)
		FUZZ_CHECK(pkt_append_mac(out, sizeof out, &used, p.mac.keyid,
					  data + p.mac.offset + PKT_MAC_KEYID_LEN, p.mac.digest_len));
	FUZZ_CHECK(used == size);
	FUZZ_CHECK(memcmp(out, data, size) == 0);
}

static void check_mode6(const uint8_t *data, size_t size)
{
	struct pkt_mode6 m;
	enum pkt_err e = pkt_decode_mode6(data, size, &m);
	FUZZ_CHECK(pkt_err_name(e) != NULL);
	FUZZ_CHECK((unsigned)e < PKT_ERR__COUNT);
	if (e != PKT_OK)
		return;
	FUZZ_CHECK(size >= PKT_MODE6_HEADER_LEN && size <= PKT_MAX_LEN);
	FUZZ_CHECK((data[0] & 7) == PKT_MODE_CONTROL);
	FUZZ_CHECK(m.len == size);
	FUZZ_CHECK(m.data_offset == PKT_MODE6_HEADER_LEN);
	FUZZ_CHECK(m.count <= PKT_MODE6_MAX_DATA);
	FUZZ_CHECK((size_t)PKT_MODE6_HEADER_LEN + m.count <= size);
	if (m.mac.present) {
		size_t padded = ((size_t)PKT_MODE6_HEADER_LEN + m.count + 3) & ~(size_t)3;
		check_mac(&m.mac, padded, size);
	} else {
		size_t end = (size_t)PKT_MODE6_HEADER_LEN + m.count;
		FUZZ_CHECK(size == end || size == ((end + 3) & ~(size_t)3));
	}
	uint8_t hdr[PKT_MODE6_HEADER_LEN];
	FUZZ_CHECK(pkt_encode_mode6_header(&m, hdr, sizeof hdr) == PKT_MODE6_HEADER_LEN);
	FUZZ_CHECK(memcmp(hdr, data, PKT_MODE6_HEADER_LEN) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t vn = 0xff, mode = 0xff;
	bool peeked = pkt_peek(data, size, &vn, &mode);
	FUZZ_CHECK(peeked == (size >= 1));
	if (peeked) {
		FUZZ_CHECK(vn == ((data[0] >> 3) & 7) && mode == (data[0] & 7));
		/* Each decoder refuses the other's mode. */
		struct pkt p;
		struct pkt_mode6 m;
		if (mode == PKT_MODE_CONTROL && size >= PKT_HEADER_LEN && vn >= 1 && vn <= 4 &&
		    size <= PKT_MAX_LEN)
			FUZZ_CHECK(pkt_decode(data, size, &p) == PKT_ERR_MODE);
		if (mode != PKT_MODE_CONTROL && size >= PKT_MODE6_HEADER_LEN && vn >= 1 &&
		    vn <= 4 && size <= PKT_MAX_LEN)
			FUZZ_CHECK(pkt_decode_mode6(data, size, &m) == PKT_ERR_MODE);
	}
	check_decode(data, size);
	check_mode6(data, size);
	return 0;
}
