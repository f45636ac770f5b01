/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pkt: the NTP packet codec (RFC 5905 §7.3, RFC 7822, RFC 8573, RFC 9327 §2).
 *
 * Owns decoding and encoding of the wire format only. Every length is checked before the
 * bytes it covers are read; nothing here reads at or past `len`. What a packet means, and
 * whether its MAC is right, is for the modules that call this one.
 */
#include "pkt.h"

#include <string.h>

#include "gn_assert.h"

/* Byte 0 of every NTP packet: LI (2 bits), VN (3 bits), Mode (3 bits); RFC 5905 Figure 8. */
static uint8_t li_of(uint8_t b0) { return (uint8_t)(b0 >> 6); }
static uint8_t vn_of(uint8_t b0) { return (uint8_t)((b0 >> 3) & 7); }
static uint8_t mode_of(uint8_t b0) { return (uint8_t)(b0 & 7); }

#define PKT_VN_MIN 1 /* RFC 5905 §7.3: VN 1..4 answered for compatibility; 0 and 5..7 dropped */
#define PKT_VN_MAX 4

/* RFC 7822 §7.5 / RFC 5906 §10: after the header, a remainder of at most this many octets
 * is the MAC; a longer remainder starts with an extension field. */
#define PKT_MAC_REMAINDER_MAX PKT_MAC_MAX_LEN

bool pkt_peek(const uint8_t *buf, size_t len, uint8_t *vn, uint8_t *mode)
{
	if (buf == NULL || len < 1)
		return false;
	if (vn)
		*vn = vn_of(buf[0]);
	if (mode)
		*mode = mode_of(buf[0]);
	return true;
}

/* A MAC of `n` octets at buf[off]: key id then digest (RFC 5905 §7.3, RFC 8573 §4).
 * 4 octets is a crypto-NAK (RFC 5905 §7.4). The caller has checked off + n <= len. */
static bool decode_mac(const uint8_t *buf, size_t off, size_t n, struct pkt_mac *mac)
{
	if (n != PKT_MAC_KEYID_LEN && n != PKT_MAC_KEYID_LEN + PKT_MAC_MD5_LEN &&
	    n != PKT_MAC_KEYID_LEN + PKT_MAC_SHA1_LEN)
		return false;
	mac->present = true;
	mac->keyid = ntp_u32_load(buf + off);
	mac->offset = (uint16_t)off;
	mac->digest_len = (uint16_t)(n - PKT_MAC_KEYID_LEN);
	mac->crypto_nak = mac->digest_len == 0;
	return true;
}

enum pkt_err pkt_decode(const uint8_t *buf, size_t len, struct pkt *out)
{
	REQUIRE(out != NULL);
	memset(out, 0, sizeof *out);
	if (buf == NULL || len < PKT_HEADER_LEN)
		return PKT_ERR_TRUNCATED;
	if (len > PKT_MAX_LEN)
		return PKT_ERR_TOO_LONG;

	out->li = li_of(buf[0]);
	out->vn = vn_of(buf[0]);
	out->mode = mode_of(buf[0]);
	if (out->vn < PKT_VN_MIN || out->vn > PKT_VN_MAX)
		return PKT_ERR_VERSION;
	if (out->mode == PKT_MODE_CONTROL || out->mode == PKT_MODE_PRIVATE)
		return PKT_ERR_MODE;

	/* RFC 5905 §7.3, Figure 8: the fixed header. */
	out->stratum = buf[1];
	out->poll = (int8_t)buf[2];
	out->precision = (int8_t)buf[3];
	out->rootdelay = ntp_short32_load(buf + 4);
	out->rootdisp = ntp_short32_load(buf + 8);
	out->refid = ntp_u32_load(buf + 12);
	out->reftime = ntp_ts64_load(buf + 16);
	out->org = ntp_ts64_load(buf + 24);
	out->rec = ntp_ts64_load(buf + 32);
	out->xmt = ntp_ts64_load(buf + 40);
	out->len = (uint16_t)len;

	size_t pos = PKT_HEADER_LEN;
	if (len == pos)
		return PKT_OK;
	if ((len - pos) % 4 != 0)
		return PKT_ERR_ALIGN;

	/* Before NTPv4 only a MAC may follow the header (RFC 1305 Appendix C). */
	if (out->vn < 4) {
		if (len - pos > PKT_MAC_REMAINDER_MAX)
			return PKT_ERR_EF_VERSION;
		return decode_mac(buf, pos, len - pos, &out->mac) ? PKT_OK : PKT_ERR_MAC_LEN;
	}

	/* RFC 7822 §7.5 (and the parse rule of RFC 5906 §10): while more than a MAC's worth of
	 * octets remain, the next thing is an extension field. */
	uint16_t last_ef_len = 0;
	while (len - pos > PKT_MAC_REMAINDER_MAX) {
		if (out->n_ef == PKT_MAX_EF)
			return PKT_ERR_EF_TOO_MANY;
		/* len - pos > 24, so the 4-octet field header is inside the buffer. */
		uint16_t type = ntp_u16_load(buf + pos);
		uint16_t ef_len = ntp_u16_load(buf + pos + 2);
		if (ef_len < PKT_EF_MIN_LEN || ef_len % 4 != 0)
			return PKT_ERR_EF_LEN;
		if (ef_len > len - pos)
			return PKT_ERR_EF_TRUNCATED;
		out->ef[out->n_ef].type = type;
		out->ef[out->n_ef].len = ef_len;
		out->ef[out->n_ef].offset = (uint16_t)pos;
		out->n_ef++;
		pos += ef_len;
		last_ef_len = ef_len;
	}

	size_t rest = len - pos;
	if (rest == 0) {
		/* No MAC: the last field must be long enough not to look like one (RFC 7822 §3). */
		if (last_ef_len < PKT_EF_LAST_NOMAC_MIN_LEN)
			return PKT_ERR_EF_LAST_SHORT;
		return PKT_OK;
	}
	if (decode_mac(buf, pos, rest, &out->mac))
		return PKT_OK;
	/* 8, 12 or 16 octets: no MAC has that size. If it is shaped like an extension field of
	 * exactly that length, it is a last field that is too short (RFC 7822 §3). */
	if (rest >= PKT_EF_MIN_LEN && ntp_u16_load(buf + pos + 2) == rest)
		return PKT_ERR_EF_LAST_SHORT;
	return PKT_ERR_MAC_LEN;
}

enum pkt_err pkt_decode_mode6(const uint8_t *buf, size_t len, struct pkt_mode6 *out)
{
	REQUIRE(out != NULL);
	memset(out, 0, sizeof *out);
	if (buf == NULL || len < PKT_MODE6_HEADER_LEN)
		return PKT_ERR_TRUNCATED;
	if (len > PKT_MAX_LEN)
		return PKT_ERR_TOO_LONG;
	out->li = li_of(buf[0]);
	out->vn = vn_of(buf[0]);
	if (out->vn < PKT_VN_MIN || out->vn > PKT_VN_MAX)
		return PKT_ERR_VERSION;
	if (mode_of(buf[0]) != PKT_MODE_CONTROL)
		return PKT_ERR_MODE;

	/* RFC 9327 §2: R (response), E (error), M (more), 5-bit opcode. */
	out->response = (buf[1] & 0x80) != 0;
	out->error = (buf[1] & 0x40) != 0;
	out->more = (buf[1] & 0x20) != 0;
	out->opcode = (uint8_t)(buf[1] & 0x1f);
	out->sequence = ntp_u16_load(buf + 2);
	out->status = ntp_u16_load(buf + 4);
	out->associd = ntp_u16_load(buf + 6);
	out->offset = ntp_u16_load(buf + 8);
	out->count = ntp_u16_load(buf + 10);
	out->data_offset = PKT_MODE6_HEADER_LEN;
	out->len = (uint16_t)len;

	if (out->count > PKT_MODE6_MAX_DATA || out->count > len - PKT_MODE6_HEADER_LEN)
		return PKT_ERR_M6_COUNT;

	/* RFC 9327 §2: the data is padded to a 32-bit boundary; a MAC may follow the padding.
	 * The padding's content is not checked (NTPsec 1.2.2 sends non-zero bytes there). */
	size_t data_end = PKT_MODE6_HEADER_LEN + (size_t)out->count;
	size_t padded_end = (data_end + 3) & ~(size_t)3;
	if (len <= padded_end) {
		/* Nothing but data and (possibly partial, then unaligned) padding. */
		return len == data_end || len == padded_end ? PKT_OK : PKT_ERR_M6_PADDING;
	}
	if ((len - padded_end) % 4 != 0)
		return PKT_ERR_M6_PADDING;
	return decode_mac(buf, padded_end, len - padded_end, &out->mac) ? PKT_OK
									 : PKT_ERR_MAC_LEN;
}

const char *pkt_err_name(enum pkt_err err)
{
	switch (err) {
	case PKT_OK: return "ok";
	case PKT_ERR_TRUNCATED: return "truncated";
	case PKT_ERR_TOO_LONG: return "too-long";
	case PKT_ERR_VERSION: return "version";
	case PKT_ERR_MODE: return "mode";
	case PKT_ERR_ALIGN: return "align";
	case PKT_ERR_EF_TRUNCATED: return "ef-truncated";
	case PKT_ERR_EF_LEN: return "ef-len";
	case PKT_ERR_EF_LAST_SHORT: return "ef-last-short";
	case PKT_ERR_EF_TOO_MANY: return "ef-too-many";
	case PKT_ERR_EF_VERSION: return "ef-version";
	case PKT_ERR_MAC_LEN: return "mac-len";
	case PKT_ERR_M6_COUNT: return "m6-count";
	case PKT_ERR_M6_PADDING: return "m6-padding";
	case PKT_ERR__COUNT: break;
	}
	return "unknown";
}

size_t pkt_encode_header(const struct pkt *p, uint8_t *buf, size_t cap)
{
	REQUIRE(p != NULL);
	if (buf == NULL || cap < PKT_HEADER_LEN)
		return 0;
	if (p->li > 3 || p->vn < PKT_VN_MIN || p->vn > PKT_VN_MAX || p->mode > 7)
		return 0;
	buf[0] = (uint8_t)(p->li << 6 | p->vn << 3 | p->mode);
	buf[1] = p->stratum;
	buf[2] = (uint8_t)p->poll;
	buf[3] = (uint8_t)p->precision;
	ntp_short32_store(buf + 4, p->rootdelay);
	ntp_short32_store(buf + 8, p->rootdisp);
	ntp_u32_store(buf + 12, p->refid);
	ntp_ts64_store(buf + 16, p->reftime);
	ntp_ts64_store(buf + 24, p->org);
	ntp_ts64_store(buf + 32, p->rec);
	ntp_ts64_store(buf + 40, p->xmt);
	return PKT_HEADER_LEN;
}

bool pkt_append_ef(uint8_t *buf, size_t cap, size_t *used, uint16_t type,
		   const uint8_t *body, size_t body_len, size_t min_len)
{
	REQUIRE(used != NULL);
	REQUIRE(body != NULL || body_len == 0);
	if (buf == NULL || *used > cap || body_len > 65535)
		return false;
	if (min_len < PKT_EF_MIN_LEN)
		min_len = PKT_EF_MIN_LEN;
	size_t field = (4 + body_len + 3) & ~(size_t)3; /* RFC 7822 §3: multiple of 4 */
	if (field < min_len)
		field = (min_len + 3) & ~(size_t)3;
	if (field > 65535 || field > cap - *used)
		return false;
	uint8_t *f = buf + *used;
	ntp_u16_store(f, type);
	ntp_u16_store(f + 2, (uint16_t)field);
	if (body_len)
		memcpy(f + 4, body, body_len);
	memset(f + 4 + body_len, 0, field - 4 - body_len);
	*used += field;
	return true;
}

bool pkt_append_mac(uint8_t *buf, size_t cap, size_t *used, uint32_t keyid,
		    const uint8_t *digest, size_t digest_len)
{
	REQUIRE(used != NULL);
	if (buf == NULL || *used > cap)
		return false;
	if (digest_len != 0 && digest_len != PKT_MAC_MD5_LEN && digest_len != PKT_MAC_SHA1_LEN)
		return false;
	if (digest_len != 0 && digest == NULL)
		return false;
	if (PKT_MAC_KEYID_LEN + digest_len > cap - *used)
		return false;
	ntp_u32_store(buf + *used, keyid);
	if (digest_len)
		memcpy(buf + *used + PKT_MAC_KEYID_LEN, digest, digest_len);
	*used += PKT_MAC_KEYID_LEN + digest_len;
	return true;
}

size_t pkt_encode_mode6_header(const struct pkt_mode6 *m, uint8_t *buf, size_t cap)
{
	REQUIRE(m != NULL);
	if (buf == NULL || cap < PKT_MODE6_HEADER_LEN)
		return 0;
	if (m->li > 3 || m->vn < PKT_VN_MIN || m->vn > PKT_VN_MAX || m->opcode > 0x1f ||
	    m->count > PKT_MODE6_MAX_DATA)
		return 0;
	buf[0] = (uint8_t)(m->li << 6 | m->vn << 3 | PKT_MODE_CONTROL);
	buf[1] = (uint8_t)((m->response ? 0x80 : 0) | (m->error ? 0x40 : 0) |
			   (m->more ? 0x20 : 0) | m->opcode);
	ntp_u16_store(buf + 2, m->sequence);
	ntp_u16_store(buf + 4, m->status);
	ntp_u16_store(buf + 6, m->associd);
	ntp_u16_store(buf + 8, m->offset);
	ntp_u16_store(buf + 10, m->count);
	return PKT_MODE6_HEADER_LEN;
}
