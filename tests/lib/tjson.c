/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tjson: recursive-descent JSON reader for test data. See tjson.h.
 */
#include "tjson.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TJSON_MAX_DEPTH 64

struct rd {
	const char *p;
	size_t len, pos;
	char *err;
	size_t err_cap;
	bool failed;
};

static void fail(struct rd *r, const char *what)
{
	if (!r->failed && r->err && r->err_cap)
		snprintf(r->err, r->err_cap, "json: %s at byte %zu", what, r->pos);
	r->failed = true;
}

static void skip_ws(struct rd *r)
{
	while (r->pos < r->len) {
		char c = r->p[r->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		r->pos++;
	}
}

static bool take(struct rd *r, char c)
{
	skip_ws(r);
	if (r->pos < r->len && r->p[r->pos] == c) {
		r->pos++;
		return true;
	}
	return false;
}

static bool take_word(struct rd *r, const char *w)
{
	size_t n = strlen(w);
	if (r->len - r->pos >= n && memcmp(r->p + r->pos, w, n) == 0) {
		r->pos += n;
		return true;
	}
	return false;
}

static struct tjson *node(enum tjson_type t)
{
	struct tjson *j = calloc(1, sizeof *j);
	if (j)
		j->type = t;
	return j;
}

static bool push(struct tjson *j, struct tjson *item, char *key)
{
	struct tjson **ni = realloc(j->items, (j->n + 1) * sizeof *ni);
	if (!ni)
		return false;
	j->items = ni;
	if (j->type == TJSON_OBJ) {
		char **nk = realloc(j->keys, (j->n + 1) * sizeof *nk);
		if (!nk)
			return false;
		j->keys = nk;
		j->keys[j->n] = key;
	}
	j->items[j->n++] = item;
	return true;
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

static bool read_u4(struct rd *r, unsigned *out)
{
	if (r->len - r->pos < 4)
		return false;
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(r->p[r->pos + (size_t)i]);
		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	r->pos += 4;
	*out = v;
	return true;
}

/* Parses a string at r->pos (the opening quote). Returns a malloc'd decoded copy. */
static char *parse_string(struct rd *r, size_t *out_len)
{
	skip_ws(r);
	if (r->pos >= r->len || r->p[r->pos] != '"') {
		fail(r, "expected string");
		return NULL;
	}
	r->pos++;
	/* Decoded output is never longer than the source. */
	size_t cap = 16, n = 0;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	while (r->pos < r->len) {
		unsigned char c = (unsigned char)r->p[r->pos++];
		if (n + 5 >= cap) {
			cap *= 2;
			char *ns = realloc(s, cap);
			if (!ns) {
				free(s);
				return NULL;
			}
			s = ns;
		}
		if (c == '"') {
			s[n] = '\0';
			if (out_len)
				*out_len = n;
			return s;
		}
		if (c < 0x20) {
			fail(r, "control character in string");
			break;
		}
		if (c != '\\') {
			s[n++] = (char)c;
			continue;
		}
		if (r->pos >= r->len) {
			fail(r, "truncated escape");
			break;
		}
		char e = r->p[r->pos++];
		switch (e) {
		case '"': s[n++] = '"'; break;
		case '\\': s[n++] = '\\'; break;
		case '/': s[n++] = '/'; break;
		case 'b': s[n++] = '\b'; break;
		case 'f': s[n++] = '\f'; break;
		case 'n': s[n++] = '\n'; break;
		case 'r': s[n++] = '\r'; break;
		case 't': s[n++] = '\t'; break;
		case 'u': {
			unsigned cp;
			if (!read_u4(r, &cp)) {
				fail(r, "bad \\u escape");
				goto bad;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) { /* surrogate pair */
				unsigned lo;
				if (!take_word(r, "\\u") || !read_u4(r, &lo) || lo < 0xdc00 || lo > 0xdfff) {
					fail(r, "bad surrogate pair");
					goto bad;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp < 0x100) {
				s[n++] = (char)cp; /* one byte: Latin-1 code points carry raw bytes */
			} else if (cp < 0x800) {
				s[n++] = (char)(0xc0 | cp >> 6);
				s[n++] = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				s[n++] = (char)(0xe0 | cp >> 12);
				s[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				s[n++] = (char)(0x80 | (cp & 0x3f));
			} else {
				s[n++] = (char)(0xf0 | cp >> 18);
				s[n++] = (char)(0x80 | ((cp >> 12) & 0x3f));
				s[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				s[n++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		}
		default:
			fail(r, "unknown escape");
			goto bad;
		}
	}
	fail(r, "unterminated string");
bad:
	free(s);
	return NULL;
}

static struct tjson *parse_value(struct rd *r, int depth);

static struct tjson *parse_container(struct rd *r, int depth, bool is_obj)
{
	struct tjson *j = node(is_obj ? TJSON_OBJ : TJSON_ARR);
	if (!j)
		return NULL;
	char close = is_obj ? '}' : ']';
	if (take(r, close))
		return j;
	for (;;) {
		char *key = NULL;
		if (is_obj) {
			key = parse_string(r, NULL);
			if (!key)
				goto bad;
			if (!take(r, ':')) {
				free(key);
				fail(r, "expected ':'");
				goto bad;
			}
		}
		struct tjson *v = parse_value(r, depth + 1);
		if (!v || !push(j, v, key)) {
			free(key);
			tjson_free(v);
			goto bad;
		}
		if (take(r, ','))
			continue;
		if (take(r, close))
			return j;
		fail(r, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
		goto bad;
	}
bad:
	tjson_free(j);
	return NULL;
}

static struct tjson *parse_value(struct rd *r, int depth)
{
	if (depth > TJSON_MAX_DEPTH) {
		fail(r, "nested too deeply");
		return NULL;
	}
	skip_ws(r);
	if (r->pos >= r->len) {
		fail(r, "unexpected end");
		return NULL;
	}
	char c = r->p[r->pos];
	if (c == '{' || c == '[') {
		r->pos++;
		return parse_container(r, depth, c == '{');
	}
	if (c == '"') {
		struct tjson *j = node(TJSON_STR);
		if (!j)
			return NULL;
		j->str = parse_string(r, &j->str_len);
		if (!j->str) {
			free(j);
			return NULL;
		}
		return j;
	}
	bool is_true = take_word(r, "true");
	if (is_true || take_word(r, "false")) {
		struct tjson *j = node(TJSON_BOOL);
		if (j)
			j->b = is_true;
		return j;
	}
	if (take_word(r, "null"))
		return node(TJSON_NULL);
	/* A number: copy its characters out (the text is not NUL-terminated). */
	size_t start = r->pos;
	while (r->pos < r->len && r->p[r->pos] != '\0' && strchr("+-0123456789.eE", r->p[r->pos]))
		r->pos++;
	size_t n = r->pos - start;
	if (n == 0 || n > 63) {
		fail(r, "unexpected character");
		return NULL;
	}
	char buf[64];
	memcpy(buf, r->p + start, n);
	buf[n] = '\0';
	char *end;
	errno = 0;
	double d = strtod(buf, &end);
	if (*end != '\0' || errno != 0) {
		fail(r, "bad number");
		return NULL;
	}
	struct tjson *j = node(TJSON_NUM);
	if (j)
		j->num = d;
	return j;
}

struct tjson *tjson_parse(const char *text, size_t len, char *err, size_t err_cap)
{
	struct rd r = { .p = text, .len = len, .err = err, .err_cap = err_cap };
	if (err && err_cap)
		err[0] = '\0';
	struct tjson *j = parse_value(&r, 0);
	if (j) {
		skip_ws(&r);
		if (r.pos != r.len) {
			fail(&r, "trailing data");
			tjson_free(j);
			return NULL;
		}
	} else if (!r.failed) {
		fail(&r, "out of memory");
	}
	return j;
}

struct tjson *tjson_load_file(const char *path, char *err, size_t err_cap)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, err_cap, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	bool io_err = ferror(f) != 0;
	fclose(f);
	if (!buf || io_err) {
		snprintf(err, err_cap, "%s: read failed", path);
		free(buf);
		return NULL;
	}
	struct tjson *j = tjson_parse(buf, n, err, err_cap);
	free(buf);
	return j;
}

void tjson_free(struct tjson *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		tjson_free(j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->str);
	free(j);
}

const struct tjson *tjson_get(const struct tjson *obj, const char *key)
{
	if (!obj || obj->type != TJSON_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}

const struct tjson *tjson_at(const struct tjson *arr, size_t i)
{
	if (!arr || arr->type != TJSON_ARR || i >= arr->n)
		return NULL;
	return arr->items[i];
}

size_t tjson_count(const struct tjson *j)
{
	if (!j || (j->type != TJSON_ARR && j->type != TJSON_OBJ))
		return 0;
	return j->n;
}

const char *tjson_str(const struct tjson *j)
{
	return j && j->type == TJSON_STR ? j->str : NULL;
}

bool tjson_num(const struct tjson *j, double *out)
{
	if (!j || j->type != TJSON_NUM)
		return false;
	*out = j->num;
	return true;
}

const char *tjson_get_str(const struct tjson *obj, const char *key)
{
	return tjson_str(tjson_get(obj, key));
}

bool tjson_get_int(const struct tjson *obj, const char *key, long long *out)
{
	double d;
	if (!tjson_num(tjson_get(obj, key), &d) || d != floor(d) || fabs(d) > 9.0e15)
		return false;
	*out = (long long)d;
	return true;
}

bool tjson_get_bool(const struct tjson *obj, const char *key, bool *out)
{
	const struct tjson *j = tjson_get(obj, key);
	if (!j || j->type != TJSON_BOOL)
		return false;
	*out = j->b;
	return true;
}
