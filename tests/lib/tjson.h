/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tjson: a small JSON reader for test data (the JSON files in tests/data/vectors), so C tests read the
 * golden vectors directly instead of a converted copy that could drift.
 *
 * Owns: parsing one JSON text (RFC 8259) into a tree of nodes and looking values up.
 * Strings are decoded; a \uXXXX escape below U+0100 becomes that one byte (the vector
 * files encode raw packet bytes as Latin-1 code points this way), higher code points become
 * UTF-8. Test-only: it allocates freely and is not hardened beyond what test data needs
 * (nesting is still bounded, and every read is bounds-checked).
 *
 * Does not own: what the vectors mean (tvec.h).
 */
#ifndef TJSON_H
#define TJSON_H

#include <stdbool.h>
#include <stddef.h>

enum tjson_type { TJSON_NULL, TJSON_BOOL, TJSON_NUM, TJSON_STR, TJSON_ARR, TJSON_OBJ };

struct tjson {
	enum tjson_type type;
	bool b;
	double num;
	char *str;              /* TJSON_STR: decoded, NUL-terminated (may hold NULs) */
	size_t str_len;
	size_t n;               /* TJSON_ARR / TJSON_OBJ: number of items */
	struct tjson **items;
	char **keys;            /* TJSON_OBJ only */
};

/* Parse text[0..len). Returns NULL and writes a message with the byte offset to err. */
struct tjson *tjson_parse(const char *text, size_t len, char *err, size_t err_cap);
/* Read and parse a file. NULL (message in err) on any failure. */
struct tjson *tjson_load_file(const char *path, char *err, size_t err_cap);
void tjson_free(struct tjson *j);

/* Lookups; each returns NULL when j is NULL, of the wrong type, or lacks the item. */
const struct tjson *tjson_get(const struct tjson *obj, const char *key);
const struct tjson *tjson_at(const struct tjson *arr, size_t i);
size_t tjson_count(const struct tjson *arr_or_obj);
const char *tjson_str(const struct tjson *j);      /* NULL unless a string */
bool tjson_num(const struct tjson *j, double *out); /* false unless a number */
/* Shortcuts: member `key` of obj as string / integer / bool. */
const char *tjson_get_str(const struct tjson *obj, const char *key);
bool tjson_get_int(const struct tjson *obj, const char *key, long long *out);
bool tjson_get_bool(const struct tjson *obj, const char *key, bool *out);

#endif
