/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target for the strict JSON reader of the control protocol (core/json). Input: one
 * request's bytes. The input sits in a buffer of exactly its size (libFuzzer and
 * replay_main.c both do that), so a read at or past len is an ASan report. Checks:
 *  - json_parse writes no node past the cap it was given (a canary node after the end),
 *    also with a small cap; on failure err is set and err_offset <= len;
 *  - on success: every node's text lies inside the input, the child lists are well formed
 *    (counts match the links, indices in range and after their parent), object children
 *    are string keys with one value each, json_str/json_num/json_int agree with the types;
 *  - round trip: the document written back with the json_w writer (strings unescaped and
 *    re-escaped, numbers as integers or doubles) parses again to the same tree, and every
 *    key of an object is found by json_obj_get (no two keys are equal once unescaped:
 *    duplicate keys are refused, json.h).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

#define NODES 512
#define SMALL 8

static const struct json_node canary = { .type = JSON_OBJECT, .start = 0xdeadbeefu,
					 .len = 0xfeedfaceu, .first_child = 0x5a5a5a5a,
					 .next = 0x3c3c3c3c, .n_children = 0xa5a5a5a5u };

static bool canary_intact(const struct json_node *n)
{
	return memcmp(n, &canary, sizeof canary) == 0;
}

static void check_tree(const struct json_doc *doc, size_t len)
{
	FUZZ_CHECK(doc->n >= 1 && doc->n <= doc->cap);
	FUZZ_CHECK(doc->err[0] == '\0');
	for (size_t i = 0; i < doc->n; i++) {
		const struct json_node *nd = &doc->nodes[i];
		FUZZ_CHECK((size_t)nd->start + nd->len <= len);
		FUZZ_CHECK(json_type_of(doc, (int)i) == nd->type);
		uint32_t count = 0;
		if (nd->type == JSON_ARRAY || nd->type == JSON_OBJECT) {
			for (int k = nd->first_child; k >= 0; k = doc->nodes[k].next) {
				FUZZ_CHECK((size_t)k < doc->n && (size_t)k > i);
				FUZZ_CHECK(count < doc->n);
				count++;
				if (nd->type == JSON_OBJECT) {
					const struct json_node *key = &doc->nodes[k];
					FUZZ_CHECK(key->type == JSON_STRING);
					FUZZ_CHECK(key->n_children == 1);
					FUZZ_CHECK(key->first_child > k && (size_t)key->first_child < doc->n);
				}
			}
			FUZZ_CHECK(count == nd->n_children);
		}
		double d;
		int64_t v;
		/* json_num refuses numbers of 64 characters or more (json.c: strtod needs a
		 * bounded copy); shorter ones it must read. */
		bool num = json_num(doc, (int)i, &d);
		if (num)
			FUZZ_CHECK(nd->type == JSON_NUMBER);
		if (nd->type == JSON_NUMBER && nd->len < 64)
			FUZZ_CHECK(num);
		if (json_int(doc, (int)i, &v))
			FUZZ_CHECK(nd->type == JSON_NUMBER);
		if (nd->type == JSON_STRING) {
			char buf[8];
			(void)json_str(doc, (int)i, buf, sizeof buf); /* may not fit: must not overrun */
		} else {
			char buf[8];
			FUZZ_CHECK(!json_str(doc, (int)i, buf, sizeof buf));
		}
	}
	FUZZ_CHECK(json_type_of(doc, -1) == JSON_NULL);
	FUZZ_CHECK(json_type_of(doc, (int)doc->n) == JSON_NULL);
	FUZZ_CHECK(json_obj_get(doc, -1, "x") == -1);
}

/* An unescaped string node, malloc'd (NULL if it holds U+0000). */
static char *str_of(const struct json_doc *doc, int idx)
{
	size_t cap = (size_t)doc->nodes[idx].len + 1;
	char *s = malloc(cap);
	FUZZ_CHECK(s != NULL);
	if (!json_str(doc, idx, s, cap)) {
		free(s);
		return NULL;
	}
	FUZZ_CHECK(strlen(s) < cap);
	return s;
}

/* Write node idx; false if it cannot round-trip (U+0000 in a string, non-finite number). */
static bool write_node(struct json_w *w, const struct json_doc *doc, int idx)
{
	const struct json_node *nd = &doc->nodes[idx];
	switch (nd->type) {
	case JSON_NULL: json_w_null(w); return true;
	case JSON_FALSE: json_w_bool(w, false); return true;
	case JSON_TRUE: json_w_bool(w, true); return true;
	case JSON_NUMBER: {
		int64_t v;
		double d;
		if (json_int(doc, idx, &v)) {
			json_w_int(w, v);
			return true;
		}
		if (!json_num(doc, idx, &d) || !isfinite(d))
			return false;
		json_w_double(w, d);
		return true;
	}
	case JSON_STRING: {
		char *s = str_of(doc, idx);
		if (!s)
			return false;
		json_w_str(w, s);
		free(s);
		return true;
	}
	case JSON_ARRAY:
		json_w_arr_begin(w);
		for (int k = nd->first_child; k >= 0; k = doc->nodes[k].next)
			if (!write_node(w, doc, k))
				return false;
		json_w_arr_end(w);
		return true;
	case JSON_OBJECT:
		json_w_obj_begin(w);
		for (int k = nd->first_child; k >= 0; k = doc->nodes[k].next) {
			char *key = str_of(doc, k);
			if (!key)
				return false;
			/* Keys are unique once unescaped, so each finds its own value. */
			if (strlen(key) < 128)
				FUZZ_CHECK(json_obj_get(doc, idx, key) == doc->nodes[k].first_child);
			json_w_key(w, key);
			free(key);
			if (!write_node(w, doc, doc->nodes[k].first_child))
				return false;
		}
		json_w_obj_end(w);
		return true;
	}
	FUZZ_CHECK(!"unknown node type");
	return false;
}

/* Same tree: types, shapes, unescaped strings, numbers. */
static void same_tree(const struct json_doc *a, int ia, const struct json_doc *b, int ib)
{
	const struct json_node *na = &a->nodes[ia], *nb = &b->nodes[ib];
	FUZZ_CHECK(na->type == nb->type);
	FUZZ_CHECK(na->n_children == nb->n_children);
	if (na->type == JSON_NUMBER) {
		int64_t va, vb;
		double da, db;
		if (json_int(a, ia, &va)) {
			FUZZ_CHECK(json_int(b, ib, &vb) && va == vb);
		} else {
			FUZZ_CHECK(json_num(a, ia, &da) && json_num(b, ib, &db));
			FUZZ_CHECK(da == db);
		}
	} else if (na->type == JSON_STRING) {
		char *sa = str_of(a, ia), *sb = str_of(b, ib);
		FUZZ_CHECK(sa && sb && strcmp(sa, sb) == 0);
		free(sa);
		free(sb);
	}
	if (na->type == JSON_OBJECT) {
		/* keys: compare the key strings and then their values */
		int ka = na->first_child, kb = nb->first_child;
		while (ka >= 0 && kb >= 0) {
			same_tree(a, ka, b, kb);
			same_tree(a, a->nodes[ka].first_child, b, b->nodes[kb].first_child);
			ka = a->nodes[ka].next;
			kb = b->nodes[kb].next;
		}
		FUZZ_CHECK(ka < 0 && kb < 0);
	} else if (na->type == JSON_ARRAY) {
		int ka = na->first_child, kb = nb->first_child;
		while (ka >= 0 && kb >= 0) {
			same_tree(a, ka, b, kb);
			ka = a->nodes[ka].next;
			kb = b->nodes[kb].next;
		}
		FUZZ_CHECK(ka < 0 && kb < 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_node nodes[NODES + 1], nodes2[NODES + 1];
	const char *text = (const char *)data;
	struct json_doc doc;

	/* A small cap: runs out of nodes on most documents, never writes past it. */
	nodes[SMALL] = canary;
	bool ok_small = json_parse(&doc, text, size, nodes, SMALL);
	FUZZ_CHECK(canary_intact(&nodes[SMALL]));
	if (!ok_small) {
		FUZZ_CHECK(doc.err[0] != '\0' && memchr(doc.err, '\0', sizeof doc.err) != NULL);
		FUZZ_CHECK(doc.err_offset <= size);
	}

	nodes[NODES] = canary;
	bool ok = json_parse(&doc, text, size, nodes, NODES);
	FUZZ_CHECK(canary_intact(&nodes[NODES]));
	if (ok_small)
		FUZZ_CHECK(ok); /* more nodes never make a document worse */
	if (!ok) {
		FUZZ_CHECK(doc.err[0] != '\0' && memchr(doc.err, '\0', sizeof doc.err) != NULL);
		FUZZ_CHECK(doc.err_offset <= size);
		return 0;
	}
	check_tree(&doc, size);

	size_t cap = 8 * size + 64;
	char *out = malloc(cap);
	FUZZ_CHECK(out != NULL);
	struct json_w w;
	json_w_init(&w, out, cap);
	if (write_node(&w, &doc, 0)) {
		FUZZ_CHECK(json_w_ok(&w));
		struct json_doc doc2;
		size_t n = strlen(out);
		char *exact = malloc(n ? n : 1);
		FUZZ_CHECK(exact != NULL);
		memcpy(exact, out, n);
		bool ok2 = json_parse(&doc2, exact, n, nodes2, NODES);
		if (!ok2)
			fprintf(stderr, "rewritten: %s\nerror at %zu: %s\n", out, doc2.err_offset,
				doc2.err);
		FUZZ_CHECK(ok2);
		same_tree(&doc, 0, &doc2, 0);
		free(exact);
	}
	free(out);
	return 0;
}
