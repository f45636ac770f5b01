/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cfgload: the edge between configuration files and the pure parser. Reads the top-level
 * file and every includefile through os_file (relative include paths are taken from the
 * directory of the top-level file), fills the defaults that depend on the machine (the
 * leapfile default only when Debian's tzdata file is there), runs cfg_parse and prints
 * each diagnostic as "file:line:column: error|warning: message". Owns nothing else.
 */
#include "cfgload.h"

#include <stdlib.h>
#include <string.h>

#include "os_file.h"

struct reader_ctx {
	char dir[CFG_PATH_MAX];         /* directory of the top-level file, "" = cwd */
};

static char *read_include(void *vctx, const char *path, size_t *len, char *err, size_t errlen)
{
	const struct reader_ctx *ctx = vctx;
	char full[2 * CFG_PATH_MAX];
	if (path[0] != '/' && ctx->dir[0])
		snprintf(full, sizeof full, "%s/%s", ctx->dir, path);
	else
		snprintf(full, sizeof full, "%s", path);
	return os_file_read(full, CFG_FILE_MAX, len, err, errlen);
}

static void free_include(void *ctx, char *buf)
{
	(void)ctx;
	free(buf);
}

static void print_diags(const struct cfg_diags *ds, FILE *err)
{
	char line[CFG_PATH_MAX + 400];
	for (unsigned i = 0; i < ds->n; i++)
		fprintf(err, "%s\n", cfg_diag_format(&ds->d[i], line, sizeof line));
	unsigned all = ds->n_errors + ds->n_warnings;
	if (all > ds->n)
		fprintf(err, "(%u more diagnostics not shown)\n", all - ds->n);
}

/* Load into cfg; diagnostics to err. Returns the number of errors (reading failures
 * count as one). */
static unsigned load(const char *path, struct cfg *cfg, FILE *err)
{
	if (!path)
		path = CFG_DEFAULT_FILE;
	cfg_defaults(cfg);
	if (!os_file_readable(CFG_DEFAULT_LEAPFILE))
		cfg->leapfile[0] = '\0';

	char emsg[200];
	size_t len = 0;
	char *text = os_file_read(path, CFG_FILE_MAX, &len, emsg, sizeof emsg);
	if (!text) {
		fprintf(err, "%s: error: cannot read configuration: %s\n", path, emsg);
		return 1;
	}
	struct reader_ctx rctx;
	memset(&rctx, 0, sizeof rctx);
	const char *slash = strrchr(path, '/');
	if (slash && (size_t)(slash - path) < sizeof rctx.dir) {
		size_t n = slash == path ? 1 : (size_t)(slash - path);
		memcpy(rctx.dir, path, n);
		rctx.dir[n] = '\0';
	}
	struct cfg_reader reader = { .read = read_include, .free_fn = free_include, .ctx = &rctx };
	struct cfg_diags *ds = calloc(1, sizeof *ds);
	if (!ds) {
		free(text);
		fprintf(err, "%s: error: out of memory\n", path);
		return 1;
	}
	unsigned errors = cfg_parse(cfg, path, text, len, &reader, ds);
	free(text);
	print_diags(ds, err);
	free(ds);
	return errors;
}

bool cfgload(const char *path, struct cfg *cfg, FILE *err)
{
	return load(path, cfg, err) == 0;
}

int cfgload_check(const char *path, FILE *out, FILE *err)
{
	struct cfg *cfg = malloc(sizeof *cfg);
	if (!cfg) {
		fprintf(err, "out of memory\n");
		return 1;
	}
	unsigned errors = load(path, cfg, err);
	if (errors) {
		fprintf(err, "%s: %u error%s: configuration not OK\n", path ? path : CFG_DEFAULT_FILE,
			errors, errors == 1 ? "" : "s");
		free(cfg);
		return 1;
	}
	size_t need = cfg_print(cfg, NULL, 0);
	char *buf = malloc(need + 1);
	if (!buf) {
		fprintf(err, "out of memory\n");
		free(cfg);
		return 1;
	}
	cfg_print(cfg, buf, need + 1);
	fputs(buf, out);
	fputs("configuration OK\n", out);
	fflush(out);
	free(buf);
	free(cfg);
	return 0;
}
