/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tvec: golden-vector access for C tests. See tvec.h.
 */
#include "tvec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef GNOMON_TEST_DATA_DEFAULT
#define GNOMON_TEST_DATA_DEFAULT "tests/data"
#endif

const char *const tvec_files[] = {
	"client-requests.json", "server-responses.json", "auth.json", "symmetric.json",
	"kod.json", "versions.json", "mode6.json",
};
const size_t tvec_n_files = sizeof tvec_files / sizeof tvec_files[0];

const char *tvec_path(const char *rel)
{
	static char path[4096];
	const char *dir = getenv("GNOMON_TEST_DATA");
	if (!dir || !*dir)
		dir = GNOMON_TEST_DATA_DEFAULT;
	int n = snprintf(path, sizeof path, "%s/%s", dir, rel);
	if (n < 0 || (size_t)n >= sizeof path) {
		fprintf(stderr, "tvec: path too long: %s/%s\n", dir, rel);
		abort();
	}
	return path;
}

struct tjson *tvec_load(const char *name)
{
	char rel[256], err[512];
	snprintf(rel, sizeof rel, "vectors/%s", name);
	const char *path = tvec_path(rel);
	struct tjson *j = tjson_load_file(path, err, sizeof err);
	if (!j) {
		fprintf(stderr, "tvec: cannot load %s: %s\n", path, err);
		abort();
	}
	return j;
}

const struct tjson *tvec_vectors(const struct tjson *file)
{
	return tjson_get(file, "vectors");
}

const struct tjson *tvec_packets(const struct tjson *vector)
{
	return tjson_get(vector, "packets");
}

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long tvec_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);
	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexdigit(hex[2 * i]), lo = hexdigit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

bool tvec_u32hex(const char *s, uint32_t *out)
{
	if (!s || strlen(s) != 8)
		return false;
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		int h = hexdigit(s[i]);
		if (h < 0)
			return false;
		v = v << 4 | (uint32_t)h;
	}
	*out = v;
	return true;
}

bool tvec_ts64(const char *s, uint64_t *out)
{
	if (!s || strlen(s) != 17 || s[8] != '.')
		return false;
	char a[9], b[9];
	memcpy(a, s, 8);
	a[8] = '\0';
	memcpy(b, s + 9, 8);
	b[8] = '\0';
	uint32_t sec, frac;
	if (!tvec_u32hex(a, &sec) || !tvec_u32hex(b, &frac))
		return false;
	*out = (uint64_t)sec << 32 | frac;
	return true;
}
