/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target for the ntp.conf parser (core/cfg). Input: the bytes of one file, NULs and
 * all. Checks beyond "no crash" (first written by the configuration helper, moved onto the
 * shared harness, tests/fuzz/fuzz.h):
 *  - whatever parses without error prints (cfg_print) and parses back to an equal
 *    configuration (cfg_equal), and printing that again gives the same text;
 *  - the error count returned equals the diagnostics' error count, no more than
 *    CFG_MAX_DIAG diagnostics are kept, and each formats to a terminated string;
 *  - includefile reaches an in-memory reader that hands back the same input, so include
 *    recursion is exercised (bounded by CFG_INCLUDE_DEPTH and CFG_MAX_INCLUDES);
 *  - both with today's defaults (cfg_parse) and with auth and refclocks available
 *    (cfg_parse_ex), which accept different lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "fuzz.h"

struct self { const uint8_t *data; size_t size; unsigned reads; };

static char *self_read(void *ctx, const char *path, size_t *len, char *err, size_t errlen)
{
	struct self *s = ctx;
	(void)path;
	(void)err;
	(void)errlen;
	s->reads++;
	char *b = malloc(s->size ? s->size : 1);
	if (!b)
		return NULL;
	if (s->size)
		memcpy(b, s->data, s->size);
	*len = s->size;
	return b;
}

static void self_free(void *ctx, char *buf)
{
	(void)ctx;
	free(buf);
}

static void check_diags(const struct cfg_diags *d, unsigned errors)
{
	FUZZ_CHECK(d->n <= CFG_MAX_DIAG);
	FUZZ_CHECK(d->n <= d->n_errors + d->n_warnings);
	FUZZ_CHECK(errors == d->n_errors);
	for (unsigned i = 0; i < d->n; i++) {
		char line[512];
		memset(line, 'x', sizeof line);
		cfg_diag_format(&d->d[i], line, sizeof line);
		FUZZ_CHECK(memchr(line, '\0', sizeof line) != NULL);
		FUZZ_CHECK(memchr(d->d[i].message, '\0', sizeof d->d[i].message) != NULL);
		FUZZ_CHECK(memchr(d->d[i].file, '\0', sizeof d->d[i].file) != NULL);
	}
}

static void one(const uint8_t *data, size_t size, const struct cfg_parse_opts *opts)
{
	static struct cfg a, b;
	static struct cfg_diags da, db;
	struct self s = { data, size, 0 };
	struct cfg_reader rd = { .read = self_read, .free_fn = self_free, .ctx = &s };

	cfg_defaults(&a);
	memset(&da, 0, sizeof da);
	unsigned errors = cfg_parse_ex(&a, "fuzz", (const char *)data, size, &rd, opts, &da);
	check_diags(&da, errors);
	FUZZ_CHECK(s.reads <= CFG_MAX_INCLUDES);
	if (errors != 0)
		return;

	size_t need = cfg_print(&a, NULL, 0);
	char *out = malloc(need + 1);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(cfg_print(&a, out, need + 1) == need);
	FUZZ_CHECK(out[need] == '\0' && strlen(out) == need);

	cfg_defaults(&b);
	memset(&db, 0, sizeof db);
	unsigned errors_b = cfg_parse_ex(&b, "printed", out, need, NULL, opts, &db);
	if (errors_b != 0 || !cfg_equal(&a, &b)) {
		fprintf(stderr, "--- printed configuration (%u errors on re-parse) ---\n%s---\n",
			errors_b, out);
		for (unsigned i = 0; i < db.n; i++) {
			char line[512];
			fprintf(stderr, "%s\n", cfg_diag_format(&db.d[i], line, sizeof line));
		}
	}
	FUZZ_CHECK(errors_b == 0);
	FUZZ_CHECK(cfg_equal(&a, &b));

	/* Printing is a fixed point. */
	size_t need_b = cfg_print(&b, NULL, 0);
	FUZZ_CHECK(need_b == need);
	char *out_b = malloc(need_b + 1);
	FUZZ_CHECK(out_b != NULL);
	cfg_print(&b, out_b, need_b + 1);
	FUZZ_CHECK(memcmp(out, out_b, need) == 0);
	free(out_b);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct cfg_parse_opts today = {
		.auth_available = CFG_AUTH_AVAILABLE,
		.refclocks_available = CFG_REFCLOCKS_AVAILABLE,
	};
	const struct cfg_parse_opts all = { .auth_available = true, .refclocks_available = true };
	one(data, size, &today);
	one(data, size, &all);
	return 0;
}
