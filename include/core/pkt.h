/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pkt: the NTP packet codec (RFC 5905 §7.3, RFC 7822, RFC 8573, RFC 9327 §2).
 *
 * Owns: decoding and encoding the 48-byte header of modes 0-5, the walk over RFC 7822
 * extension fields and the trailing MAC, and the 12-byte mode 6 control header.
 * Decoding is strict: every length is checked before it is read, each way a packet can be
 * malformed has its own error, and nothing is read past `len`. A decoded struct refers
 * into the caller's buffer only by offsets, so it may outlive the buffer.
 *
 * Does not own: what a packet means (the association and server modules), verifying a MAC
 * (auth), or any I/O.
 */
#ifndef PKT_H
#define PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntp_time.h"

#define PKT_HEADER_LEN 48      /* RFC 5905 §7.3, Figure 8 */
#define PKT_MODE6_HEADER_LEN 12 /* RFC 9327 §2 */
#define PKT_MODE6_MAX_DATA 468 /* RFC 9327 §2: data field of one fragment */
#define PKT_EF_MIN_LEN 16      /* RFC 7822 §3: an extension field is at least 16 octets */
#define PKT_EF_LAST_NOMAC_MIN_LEN 28 /* RFC 7822 §3: last field when no MAC follows */
#define PKT_MAC_KEYID_LEN 4    /* RFC 5905 §7.3: key identifier */
#define PKT_MAC_MD5_LEN 16     /* digest of MD5 or AES-128-CMAC (RFC 8573) */
#define PKT_MAC_SHA1_LEN 20    /* digest of SHA-1 */
#define PKT_MAC_MAX_LEN (PKT_MAC_KEYID_LEN + PKT_MAC_SHA1_LEN) /* 24 */
#define PKT_MAX_EF 8           /* more than this in one packet is refused */
#define PKT_MAX_LEN 1024       /* larger datagrams are not NTP we accept */

enum pkt_li {
	PKT_LI_NONE = 0, PKT_LI_ADD = 1, PKT_LI_DEL = 2, PKT_LI_UNSYNC = 3, /* RFC 5905 Figure 9 */
};

enum pkt_mode { /* RFC 5905 Figure 10 */
	PKT_MODE_RESERVED = 0,
	PKT_MODE_SYM_ACTIVE = 1,
	PKT_MODE_SYM_PASSIVE = 2,
	PKT_MODE_CLIENT = 3,
	PKT_MODE_SERVER = 4,
	PKT_MODE_BROADCAST = 5,
	PKT_MODE_CONTROL = 6,
	PKT_MODE_PRIVATE = 7,
};

enum pkt_err {
	PKT_OK = 0,
	PKT_ERR_TRUNCATED,      /* shorter than the fixed header of its mode */
	PKT_ERR_TOO_LONG,       /* longer than PKT_MAX_LEN */
	PKT_ERR_VERSION,        /* VN 0 or above 4 */
	PKT_ERR_MODE,           /* mode 6 or 7 given to pkt_decode, or not 6 to pkt_decode_mode6 */
	PKT_ERR_ALIGN,          /* bytes after the header not a multiple of 4 */
	PKT_ERR_EF_TRUNCATED,   /* an extension field header or body runs past the end */
	PKT_ERR_EF_LEN,         /* extension length < 16 or not a multiple of 4 */
	PKT_ERR_EF_LAST_SHORT,  /* last extension field < 28 octets and no MAC (RFC 7822 §3) */
	PKT_ERR_EF_TOO_MANY,    /* more than PKT_MAX_EF extension fields */
	PKT_ERR_EF_VERSION,     /* extension fields in a packet below NTPv4 */
	PKT_ERR_MAC_LEN,        /* trailing bytes are no valid MAC: not 4, 20 or 24 octets */
	PKT_ERR_M6_COUNT,       /* mode 6 count runs past the end or above 468 */
	PKT_ERR_M6_PADDING,     /* mode 6 data not padded to 4 octets before a MAC */
	PKT_ERR__COUNT
};

/* One extension field (RFC 7822 §3). Offsets are into the decoded buffer. */
struct pkt_ef {
	uint16_t type;
	uint16_t len;       /* whole field, header included */
	uint16_t offset;    /* of the field's first octet */
};

/* The trailing MAC (RFC 5905 §7.3, RFC 8573): key id then digest. A 4-octet MAC is a
 * crypto-NAK (RFC 5905 §7.4). */
struct pkt_mac {
	bool present;
	bool crypto_nak;
	uint32_t keyid;
	uint16_t offset;        /* of the key id; the MAC covers buf[0 .. offset) */
	uint16_t digest_len;    /* 0 (crypto-NAK), 16 or 20 */
};

/* The NTP header, modes 0-5 (RFC 5905 §7.3). */
struct pkt {
	uint8_t li;             /* enum pkt_li */
	uint8_t vn;             /* 1..4 */
	uint8_t mode;           /* enum pkt_mode */
	uint8_t stratum;
	int8_t poll;            /* log2 s */
	int8_t precision;       /* log2 s */
	ntp_short32 rootdelay;
	ntp_short32 rootdisp;
	uint32_t refid;         /* host byte order of the 4 wire octets, big-endian read */
	ntp_ts64 reftime;
	ntp_ts64 org;           /* origin, T1 as echoed */
	ntp_ts64 rec;           /* receive, T2 */
	ntp_ts64 xmt;           /* transmit, T3 */
	uint8_t n_ef;
	struct pkt_ef ef[PKT_MAX_EF];
	struct pkt_mac mac;
	uint16_t len;           /* total length decoded */
};

/* The mode 6 control message header (RFC 9327 §2). */
struct pkt_mode6 {
	uint8_t li, vn;
	bool response, error, more;
	uint8_t opcode;
	uint16_t sequence, status, associd, offset, count;
	uint16_t data_offset;   /* always PKT_MODE6_HEADER_LEN */
	struct pkt_mac mac;
	uint16_t len;
};

/* Version and mode of a datagram without decoding the rest. False if len < 1. */
bool pkt_peek(const uint8_t *buf, size_t len, uint8_t *vn, uint8_t *mode);

/* Decode a packet of mode 0-5 with its extension fields and MAC. On error *out is left
 * partly filled and must not be used. */
enum pkt_err pkt_decode(const uint8_t *buf, size_t len, struct pkt *out);

/* Decode a mode 6 header, its data length and a trailing MAC. */
enum pkt_err pkt_decode_mode6(const uint8_t *buf, size_t len, struct pkt_mode6 *out);

/* A short stable name for an error, for counters and logs ("truncated", "ef-len", ...). */
const char *pkt_err_name(enum pkt_err err);

/* Write the 48-octet header of p (n_ef, ef and mac ignored). Returns PKT_HEADER_LEN, or 0
 * if cap is too small or a field is out of range (li > 3, vn not 1..4, mode > 7). */
size_t pkt_encode_header(const struct pkt *p, uint8_t *buf, size_t cap);

/* Append one extension field of `type` with `body_len` octets of body at buf[*used],
 * zero-padded so the field is a multiple of 4 and at least `min_len` (16, or 28 for the
 * last field of a packet without MAC). Returns false, changing nothing, if it would not
 * fit in cap or exceed 65535. */
bool pkt_append_ef(uint8_t *buf, size_t cap, size_t *used, uint16_t type,
		   const uint8_t *body, size_t body_len, size_t min_len);

/* Append key id and digest at buf[*used]. digest_len must be 0, 16 or 20. */
bool pkt_append_mac(uint8_t *buf, size_t cap, size_t *used, uint32_t keyid,
		    const uint8_t *digest, size_t digest_len);

/* Write a mode 6 header (m->count data octets are the caller's, already at buf[12]). */
size_t pkt_encode_mode6_header(const struct pkt_mode6 *m, uint8_t *buf, size_t cap);

/* Reference ID helpers (RFC 5905 §7.3): four ASCII characters for stratum 0/1 kiss codes
 * and clock types; an IPv4 address; the first 4 octets of the MD5 of an IPv6 address are
 * computed by auth, not here. */
static inline uint32_t pkt_refid_ascii(const char s[4])
{
	return (uint32_t)(uint8_t)s[0] << 24 | (uint32_t)(uint8_t)s[1] << 16 |
	       (uint32_t)(uint8_t)s[2] << 8 | (uint32_t)(uint8_t)s[3];
}

#endif
