/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the ntp.conf parser (core/cfg). Input: the bytes of one file,
 * NULs and all. Checks beyond "no crash": whatever parses without error prints and parses
 * back to an equal configuration, and includefile reaches an in-memory reader that
 * hands back the same input (bounded by CFG_INCLUDE_DEPTH and CFG_MAX_INCLUDES).
 *
 * Build (not part of the CMake build yet):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude/core \
 *     tests/fuzz/fuzz_cfg.c src/core/cfg.c src/core/cfg_print.c src/core/gn_addr.c \
 *     src/core/gn_assert.c -lm -o fuzz_cfg
 *   ./fuzz_cfg -max_len=8192 conf/ tests/data/conf/ tests/data/conf-broken/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

struct self { const uint8_t *data; size_t size; };

static char *self_read(void *ctx, const char *path, size_t *len, char *err, size_t errlen)
{
	const struct self *s = ctx;
	(void)path;
	(void)err;
	(void)errlen;
	char *b = malloc(s->size ? s->size : 1);
	if (!b)
		return NULL;
	memcpy(b, s->data, s->size);
	*len = s->size;
	return b;
}

static void self_free(void *ctx, char *buf)
{
	(void)ctx;
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg a, b;
	static struct cfg_diags da, db;
	struct self s = { data, size };
	struct cfg_reader rd = { .read = self_read, .free_fn = self_free, .ctx = &s };
	cfg_defaults(&a);
	memset(&da, 0, sizeof da);
	if (cfg_parse(&a, "fuzz", (const char *)data, size, &rd, &da) != 0)
		return 0;
	size_t need = cfg_print(&a, NULL, 0);
	char *out = malloc(need + 1);
	if (!out)
		return 0;
	cfg_print(&a, out, need + 1);
	cfg_defaults(&b);
	memset(&db, 0, sizeof db);
	if (cfg_parse(&b, "printed", out, need, NULL, &db) != 0 || !cfg_equal(&a, &b))
		abort();
	free(out);
	return 0;
}
