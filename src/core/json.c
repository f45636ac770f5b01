/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * json: writer and strict reader (RFC 8259) for the control protocol. Pure: no I/O, no
 * allocation; the caller supplies the output buffer and the node array. The reader is a
 * recursive-descent parser with an explicit depth limit, so hostile input cannot exhaust
 * the stack.
 */
#include "json.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ writer */

static void w_put(struct json_w *w, const char *s, size_t n)
{
	if (w->overflow)
		return;
	if (w->len + n + 1 > w->cap) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void w_putc(struct json_w *w, char c) { w_put(w, &c, 1); }

void json_w_init(struct json_w *w, char *buf, size_t cap)
{
	memset(w, 0, sizeof *w);
	w->buf = buf;
	w->cap = cap;
	w->first[0] = true;
	if (cap > 0)
		buf[0] = '\0';
	else
		w->overflow = true;
}

/* Before any value: the comma, and the check that a key preceded it inside an object. */
static void w_value_prefix(struct json_w *w)
{
	if (w->in_obj[w->depth]) {
		if (!w->after_key)
			w->misuse = true;
		w->after_key = false;
		return;
	}
	if (w->depth == 0 && !w->first[0])
		w->misuse = true; /* a second top-level value */
	if (!w->first[w->depth])
		w_putc(w, ',');
	w->first[w->depth] = false;
}

static void w_open(struct json_w *w, char c, bool obj)
{
	w_value_prefix(w);
	w_putc(w, c);
	if (w->depth >= JSON_MAX_DEPTH) {
		w->misuse = true;
		return;
	}
	w->depth++;
	w->first[w->depth] = true;
	w->in_obj[w->depth] = obj;
}

static void w_close(struct json_w *w, char c, bool obj)
{
	if (w->depth == 0 || w->in_obj[w->depth] != obj || w->after_key) {
		w->misuse = true;
		return;
	}
	w->depth--;
	w_putc(w, c);
}

void json_w_obj_begin(struct json_w *w) { w_open(w, '{', true); }
void json_w_obj_end(struct json_w *w) { w_close(w, '}', true); }
void json_w_arr_begin(struct json_w *w) { w_open(w, '[', false); }
void json_w_arr_end(struct json_w *w) { w_close(w, ']', false); }

static void w_string(struct json_w *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	w_putc(w, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[7];
		switch (*p) {
		case '"': w_put(w, "\\\"", 2); break;
		case '\\': w_put(w, "\\\\", 2); break;
		case '\n': w_put(w, "\\n", 2); break;
		case '\r': w_put(w, "\\r", 2); break;
		case '\t': w_put(w, "\\t", 2); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
				esc[4] = hex[*p >> 4]; esc[5] = hex[*p & 15];
				w_put(w, esc, 6);
			} else {
				w_putc(w, (char)*p);
			}
		}
	}
	w_putc(w, '"');
}

void json_w_key(struct json_w *w, const char *key)
{
	if (!w->in_obj[w->depth] || w->after_key) {
		w->misuse = true;
		return;
	}
	if (!w->first[w->depth])
		w_putc(w, ',');
	w->first[w->depth] = false;
	w_string(w, key);
	w_putc(w, ':');
	w->after_key = true;
}

void json_w_str(struct json_w *w, const char *s)
{
	w_value_prefix(w);
	w_string(w, s);
}

void json_w_int(struct json_w *w, int64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
	w_value_prefix(w);
	w_put(w, tmp, (size_t)n);
}

void json_w_uint(struct json_w *w, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
	w_value_prefix(w);
	w_put(w, tmp, (size_t)n);
}

void json_w_double(struct json_w *w, double v)
{
	char tmp[40];
	if (!isfinite(v)) {
		json_w_null(w);
		return;
	}
	/* 17 significant digits round-trip any double; %.17g may print "1e+20", valid JSON. */
	int n = snprintf(tmp, sizeof tmp, "%.17g", v);
	w_value_prefix(w);
	w_put(w, tmp, (size_t)n);
}

void json_w_bool(struct json_w *w, bool v)
{
	w_value_prefix(w);
	if (v)
		w_put(w, "true", 4);
	else
		w_put(w, "false", 5);
}

void json_w_null(struct json_w *w)
{
	w_value_prefix(w);
	w_put(w, "null", 4);
}

bool json_w_ok(const struct json_w *w)
{
	return !w->overflow && !w->misuse && w->depth == 0 && !w->first[0];
}

/* ------------------------------------------------------------------ reader */

struct rd {
	struct json_doc *doc;
	size_t pos;
};

static bool rd_fail(struct rd *r, const char *msg)
{
	if (r->doc->err[0] == '\0') {
		snprintf(r->doc->err, sizeof r->doc->err, "%s at byte %zu", msg, r->pos);
		r->doc->err_offset = r->pos;
	}
	return false;
}

static void rd_ws(struct rd *r)
{
	const char *t = r->doc->text;
	while (r->pos < r->doc->len &&
	       (t[r->pos] == ' ' || t[r->pos] == '\t' || t[r->pos] == '\n' || t[r->pos] == '\r'))
		r->pos++;
}

static int rd_node(struct rd *r, enum json_type type)
{
	struct json_doc *d = r->doc;
	if (d->n >= d->cap)
		return rd_fail(r, "document too large"), -1;
	int idx = (int)d->n++;
	struct json_node *nd = &d->nodes[idx];
	nd->type = type;
	nd->start = (uint32_t)r->pos;
	nd->len = 0;
	nd->first_child = -1;
	nd->next = -1;
	nd->n_children = 0;
	return idx;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool read_hex4(const char *t, size_t len, size_t pos, unsigned *out)
{
	unsigned v = 0;
	if (pos + 4 > len)
		return false;
	for (size_t i = 0; i < 4; i++) {
		int h = hexval(t[pos + i]);
		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return true;
}

/* Length of a valid UTF-8 sequence starting at p (RFC 3629 §4), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	unsigned c = p[0];
	size_t n;
	unsigned min;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) { n = 2; min = 0x80; cp = c & 0x1f; }
	else if ((c & 0xf0) == 0xe0) { n = 3; min = 0x800; cp = c & 0x0f; }
	else if ((c & 0xf8) == 0xf0) { n = 4; min = 0x10000; cp = c & 0x07; }
	else return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Validates a string starting at the opening quote; leaves pos after the closing one. */
static bool rd_string_span(struct rd *r, uint32_t *start, uint32_t *len)
{
	const char *t = r->doc->text;
	size_t n = r->doc->len;
	r->pos++; /* opening quote */
	*start = (uint32_t)r->pos;
	while (r->pos < n) {
		unsigned char c = (unsigned char)t[r->pos];
		if (c == '"') {
			*len = (uint32_t)(r->pos - *start);
			r->pos++;
			return true;
		}
		if (c < 0x20)
			return rd_fail(r, "control character in string");
		if (c == '\\') {
			if (r->pos + 1 >= n)
				break;
			char e = t[r->pos + 1];
			if (e == 'u') {
				unsigned u;
				if (!read_hex4(t, n, r->pos + 2, &u))
					return rd_fail(r, "bad \\u escape");
				r->pos += 6;
				if (u >= 0xd800 && u <= 0xdbff) {
					unsigned lo;
					if (r->pos + 1 >= n || t[r->pos] != '\\' || t[r->pos + 1] != 'u' ||
					    !read_hex4(t, n, r->pos + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
						return rd_fail(r, "lone surrogate in \\u escape");
					r->pos += 6;
				} else if (u >= 0xdc00 && u <= 0xdfff) {
					return rd_fail(r, "lone surrogate in \\u escape");
				}
				continue;
			}
			if (!strchr("\"\\/bfnrt", e) || e == '\0')
				return rd_fail(r, "bad escape in string");
			r->pos += 2;
			continue;
		}
		size_t ul = utf8_len((const unsigned char *)t + r->pos, n - r->pos);
		if (ul == 0)
			return rd_fail(r, "invalid UTF-8 in string");
		r->pos += ul;
	}
	return rd_fail(r, "unterminated string");
}

static bool rd_number(struct rd *r)
{
	const char *t = r->doc->text;
	size_t n = r->doc->len;
	if (r->pos < n && t[r->pos] == '-')
		r->pos++;
	if (r->pos >= n)
		return rd_fail(r, "bad number");
	if (t[r->pos] == '0') {
		r->pos++;
		if (r->pos < n && t[r->pos] >= '0' && t[r->pos] <= '9')
			return rd_fail(r, "leading zero in number");
	} else if (t[r->pos] >= '1' && t[r->pos] <= '9') {
		while (r->pos < n && t[r->pos] >= '0' && t[r->pos] <= '9')
			r->pos++;
	} else {
		return rd_fail(r, "bad number");
	}
	if (r->pos < n && t[r->pos] == '.') {
		r->pos++;
		if (r->pos >= n || t[r->pos] < '0' || t[r->pos] > '9')
			return rd_fail(r, "bad fraction in number");
		while (r->pos < n && t[r->pos] >= '0' && t[r->pos] <= '9')
			r->pos++;
	}
	if (r->pos < n && (t[r->pos] == 'e' || t[r->pos] == 'E')) {
		r->pos++;
		if (r->pos < n && (t[r->pos] == '+' || t[r->pos] == '-'))
			r->pos++;
		if (r->pos >= n || t[r->pos] < '0' || t[r->pos] > '9')
			return rd_fail(r, "bad exponent in number");
		while (r->pos < n && t[r->pos] >= '0' && t[r->pos] <= '9')
			r->pos++;
	}
	return true;
}

static bool rd_literal(struct rd *r, const char *lit)
{
	size_t l = strlen(lit);
	if (r->doc->len - r->pos < l || memcmp(r->doc->text + r->pos, lit, l) != 0)
		return rd_fail(r, "unexpected character");
	r->pos += l;
	return true;
}

static int rd_value(struct rd *r, unsigned depth);

static void link_child(struct json_doc *d, int parent, int *last, int child)
{
	if (*last < 0)
		d->nodes[parent].first_child = child;
	else
		d->nodes[*last].next = child;
	*last = child;
	d->nodes[parent].n_children++;
}

/* Two keys are the same if their unescaped texts are ("a" and "\u0061" are one key), so a
 * duplicate cannot hide behind an escape. Keys too long to unescape here compare raw. */
static bool same_key(const struct json_doc *d, int a, int b)
{
	char ta[256], tb[256];
	if (json_str(d, a, ta, sizeof ta) && json_str(d, b, tb, sizeof tb))
		return strcmp(ta, tb) == 0;
	return d->nodes[a].len == d->nodes[b].len &&
	       memcmp(d->text + d->nodes[a].start, d->text + d->nodes[b].start, d->nodes[a].len) == 0;
}

static int rd_object(struct rd *r, unsigned depth)
{
	struct json_doc *d = r->doc;
	int obj = rd_node(r, JSON_OBJECT);
	int last = -1;
	if (obj < 0)
		return -1;
	r->pos++; /* { */
	rd_ws(r);
	if (r->pos < d->len && d->text[r->pos] == '}') {
		r->pos++;
		d->nodes[obj].len = (uint32_t)(r->pos - d->nodes[obj].start);
		return obj;
	}
	for (;;) {
		rd_ws(r);
		if (r->pos >= d->len || d->text[r->pos] != '"')
			return rd_fail(r, "expected a string key"), -1;
		int key = rd_node(r, JSON_STRING);
		if (key < 0 || !rd_string_span(r, &d->nodes[key].start, &d->nodes[key].len))
			return -1;
		for (int k = d->nodes[obj].first_child; k >= 0; k = d->nodes[k].next)
			if (same_key(d, k, key))
				return rd_fail(r, "duplicate key"), -1;
		link_child(d, obj, &last, key);
		rd_ws(r);
		if (r->pos >= d->len || d->text[r->pos] != ':')
			return rd_fail(r, "expected ':'"), -1;
		r->pos++;
		int val = rd_value(r, depth + 1);
		if (val < 0)
			return -1;
		d->nodes[key].first_child = val;
		d->nodes[key].n_children = 1;
		rd_ws(r);
		if (r->pos < d->len && d->text[r->pos] == ',') {
			r->pos++;
			continue;
		}
		if (r->pos < d->len && d->text[r->pos] == '}') {
			r->pos++;
			d->nodes[obj].len = (uint32_t)(r->pos - d->nodes[obj].start);
			return obj;
		}
		return rd_fail(r, "expected ',' or '}'"), -1;
	}
}

static int rd_array(struct rd *r, unsigned depth)
{
	struct json_doc *d = r->doc;
	int arr = rd_node(r, JSON_ARRAY);
	int last = -1;
	if (arr < 0)
		return -1;
	r->pos++; /* [ */
	rd_ws(r);
	if (r->pos < d->len && d->text[r->pos] == ']') {
		r->pos++;
		d->nodes[arr].len = (uint32_t)(r->pos - d->nodes[arr].start);
		return arr;
	}
	for (;;) {
		int val = rd_value(r, depth + 1);
		if (val < 0)
			return -1;
		link_child(d, arr, &last, val);
		rd_ws(r);
		if (r->pos < d->len && d->text[r->pos] == ',') {
			r->pos++;
			continue;
		}
		if (r->pos < d->len && d->text[r->pos] == ']') {
			r->pos++;
			d->nodes[arr].len = (uint32_t)(r->pos - d->nodes[arr].start);
			return arr;
		}
		return rd_fail(r, "expected ',' or ']'"), -1;
	}
}

static int rd_value(struct rd *r, unsigned depth)
{
	struct json_doc *d = r->doc;
	int idx;
	if (depth > JSON_MAX_DEPTH)
		return rd_fail(r, "nesting too deep"), -1;
	rd_ws(r);
	if (r->pos >= d->len)
		return rd_fail(r, "unexpected end of input"), -1;
	switch (d->text[r->pos]) {
	case '{':
		return rd_object(r, depth);
	case '[':
		return rd_array(r, depth);
	case '"':
		idx = rd_node(r, JSON_STRING);
		if (idx < 0 || !rd_string_span(r, &d->nodes[idx].start, &d->nodes[idx].len))
			return -1;
		return idx;
	case 't':
		idx = rd_node(r, JSON_TRUE);
		if (idx < 0 || !rd_literal(r, "true"))
			return -1;
		break;
	case 'f':
		idx = rd_node(r, JSON_FALSE);
		if (idx < 0 || !rd_literal(r, "false"))
			return -1;
		break;
	case 'n':
		idx = rd_node(r, JSON_NULL);
		if (idx < 0 || !rd_literal(r, "null"))
			return -1;
		break;
	default:
		idx = rd_node(r, JSON_NUMBER);
		if (idx < 0 || !rd_number(r))
			return -1;
		break;
	}
	d->nodes[idx].len = (uint32_t)(r->pos - d->nodes[idx].start);
	return idx;
}

bool json_parse(struct json_doc *doc, const char *text, size_t len, struct json_node *nodes,
		size_t cap)
{
	struct rd r = { .doc = doc, .pos = 0 };
	memset(doc, 0, sizeof *doc);
	doc->text = text;
	doc->len = len;
	doc->nodes = nodes;
	doc->cap = cap;
	if (len > UINT32_MAX)
		return rd_fail(&r, "document too large");
	if (rd_value(&r, 1) < 0)
		return false;
	rd_ws(&r);
	if (r.pos != len)
		return rd_fail(&r, "trailing characters after the value");
	return true;
}

enum json_type json_type_of(const struct json_doc *doc, int idx)
{
	if (idx < 0 || (size_t)idx >= doc->n)
		return JSON_NULL;
	return doc->nodes[idx].type;
}

bool json_str(const struct json_doc *doc, int idx, char *buf, size_t cap)
{
	if (idx < 0 || (size_t)idx >= doc->n || doc->nodes[idx].type != JSON_STRING || cap == 0)
		return false;
	const char *t = doc->text + doc->nodes[idx].start;
	size_t n = doc->nodes[idx].len, o = 0;
	for (size_t i = 0; i < n;) {
		unsigned cp;
		char tmp[4];
		size_t tl;
		if (t[i] != '\\') {
			if (o + 1 >= cap)
				return false;
			buf[o++] = t[i++];
			continue;
		}
		char e = t[i + 1]; /* the parser guaranteed a valid escape */
		i += 2;
		switch (e) {
		case 'b': tmp[0] = '\b'; tl = 1; break;
		case 'f': tmp[0] = '\f'; tl = 1; break;
		case 'n': tmp[0] = '\n'; tl = 1; break;
		case 'r': tmp[0] = '\r'; tl = 1; break;
		case 't': tmp[0] = '\t'; tl = 1; break;
		case 'u':
			read_hex4(t, n, i, &cp);
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo;
				read_hex4(t, n, i + 2, &lo);
				i += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0)
				return false;
			if (cp < 0x80) {
				tmp[0] = (char)cp; tl = 1;
			} else if (cp < 0x800) {
				tmp[0] = (char)(0xc0 | cp >> 6); tmp[1] = (char)(0x80 | (cp & 0x3f)); tl = 2;
			} else if (cp < 0x10000) {
				tmp[0] = (char)(0xe0 | cp >> 12); tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
				tmp[2] = (char)(0x80 | (cp & 0x3f)); tl = 3;
			} else {
				tmp[0] = (char)(0xf0 | cp >> 18); tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
				tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); tmp[3] = (char)(0x80 | (cp & 0x3f));
				tl = 4;
			}
			break;
		default: tmp[0] = e; tl = 1; break; /* " \ / */
		}
		if (o + tl >= cap)
			return false;
		memcpy(buf + o, tmp, tl);
		o += tl;
	}
	buf[o] = '\0';
	return true;
}

bool json_num(const struct json_doc *doc, int idx, double *out)
{
	char tmp[64];
	if (idx < 0 || (size_t)idx >= doc->n || doc->nodes[idx].type != JSON_NUMBER)
		return false;
	size_t l = doc->nodes[idx].len;
	if (l >= sizeof tmp) {
		/* Long numbers are legal JSON; strtod needs a terminated copy. Keep it bounded:
		 * such a number is surely not a meaningful value in our protocol. */
		return false;
	}
	memcpy(tmp, doc->text + doc->nodes[idx].start, l);
	tmp[l] = '\0';
	*out = strtod(tmp, NULL);
	return true;
}

bool json_int(const struct json_doc *doc, int idx, int64_t *out)
{
	char tmp[24];
	if (idx < 0 || (size_t)idx >= doc->n || doc->nodes[idx].type != JSON_NUMBER)
		return false;
	size_t l = doc->nodes[idx].len;
	const char *t = doc->text + doc->nodes[idx].start;
	if (l >= sizeof tmp || memchr(t, '.', l) || memchr(t, 'e', l) || memchr(t, 'E', l))
		return false;
	memcpy(tmp, t, l);
	tmp[l] = '\0';
	char *end;
	long long v = strtoll(tmp, &end, 10);
	if (*end != '\0' || ((v == LLONG_MAX || v == LLONG_MIN) && l > 18))
		return false; /* overflow saturates; reject both ends rather than guess */
	*out = (int64_t)v;
	return true;
}

int json_obj_get(const struct json_doc *doc, int obj, const char *key)
{
	char tmp[128];
	if (obj < 0 || (size_t)obj >= doc->n || doc->nodes[obj].type != JSON_OBJECT)
		return -1;
	for (int k = doc->nodes[obj].first_child; k >= 0; k = doc->nodes[k].next) {
		if (json_str(doc, k, tmp, sizeof tmp) && strcmp(tmp, key) == 0)
			return doc->nodes[k].first_child;
	}
	return -1;
}
