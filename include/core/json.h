/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json: a small JSON writer and a strict JSON reader (RFC 8259) for the control protocol:
 * the daemon reads one request and writes one reply; gnomonctl writes the request and reads
 * the reply.
 *
 * Owns: serialising values into a caller's buffer (escaping, non-finite numbers as null,
 * truncation noticed, never overrun), and parsing text into a flat array of nodes the
 * caller supplies (no allocation). The reader is strict on purpose: bad input from a
 * control client gets a clear error with the byte offset, never a guess. Rejected: trailing
 * commas, leading zeros, comments, control characters and invalid UTF-8 in strings, lone
 * surrogates, duplicate keys, nesting deeper than JSON_MAX_DEPTH, anything after the value.
 *
 * Does not own: I/O, the meaning of any key (ctl.c and gnomonctl.c do).
 */
#ifndef JSON_H
#define JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 32

/* --- writer ---
 * Calls may be made in any order the grammar allows: inside an object, json_w_key before
 * each value. Errors (overflow, misuse) are sticky and reported by json_w_ok. */
struct json_w {
	char *buf;
	size_t cap, len;
	bool overflow, misuse;
	unsigned depth;
	bool first[JSON_MAX_DEPTH + 1]; /* no element written yet at this depth */
	bool in_obj[JSON_MAX_DEPTH + 1];
	bool after_key;
};

void json_w_init(struct json_w *w, char *buf, size_t cap);
void json_w_obj_begin(struct json_w *w);
void json_w_obj_end(struct json_w *w);
void json_w_arr_begin(struct json_w *w);
void json_w_arr_end(struct json_w *w);
void json_w_key(struct json_w *w, const char *key);
void json_w_str(struct json_w *w, const char *s);
void json_w_int(struct json_w *w, int64_t v);
void json_w_uint(struct json_w *w, uint64_t v);
/* Finite values with enough digits to round-trip; NaN and infinities become null. */
void json_w_double(struct json_w *w, double v);
void json_w_bool(struct json_w *w, bool v);
void json_w_null(struct json_w *w);
/* True if everything fit and the grammar was followed and all containers are closed. The
 * text is NUL-terminated in buf (cap must be ≥ 1). */
bool json_w_ok(const struct json_w *w);

/* --- reader --- */
enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

/* One value. An object's children are its keys (JSON_STRING nodes) in order; each key's
 * first_child is its value. An array's children are its elements. */
struct json_node {
	enum json_type type;
	uint32_t start, len;    /* the value's text; for strings without the quotes, escaped */
	int32_t first_child;    /* -1 = none */
	int32_t next;           /* next sibling, -1 = none */
	uint32_t n_children;
};

struct json_doc {
	const char *text;
	size_t len;
	struct json_node *nodes;
	size_t cap, n;
	size_t err_offset;      /* byte offset of the first error */
	char err[96];           /* "" when the parse succeeded */
};

/* Parse text[0..len) into doc, using nodes[0..cap). Node 0 is the root. Returns false with
 * doc->err and doc->err_offset set on any error, including running out of nodes. */
bool json_parse(struct json_doc *doc, const char *text, size_t len, struct json_node *nodes,
		size_t cap);

/* The value of key in object node obj, or -1 (also when obj is not an object). */
int json_obj_get(const struct json_doc *doc, int obj, const char *key);
/* Unescape string node idx into buf (NUL-terminated). False if not a string, if it does
 * not fit, or if it contains U+0000. */
bool json_str(const struct json_doc *doc, int idx, char *buf, size_t cap);
/* Number node idx as a double. False if not a number. */
bool json_num(const struct json_doc *doc, int idx, double *out);
/* Number node idx as an integer: false unless it is one exactly (no fraction, no
 * exponent) within int64. */
bool json_int(const struct json_doc *doc, int idx, int64_t *out);
enum json_type json_type_of(const struct json_doc *doc, int idx);

#endif
