/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cfgload: reads a configuration file (and its includefiles) through the OS layer and runs
 * the pure parser (cfg.h) over it. The edge where configuration diagnostics are printed.
 */
#ifndef CFGLOAD_H
#define CFGLOAD_H

#include <stdbool.h>
#include <stdio.h>

#include "cfg.h"

/* Load path into cfg (defaults first). Prints every diagnostic to err as
 * "file:line:column: error|warning: message". Returns false if there was any error (the
 * daemon must not start). */
bool cfgload(const char *path, struct cfg *cfg, FILE *err);

/* `gnomond -t -c path`: diagnostics to err; on success the normalised configuration and
 * "configuration OK" to out. Returns the exit status: 0 OK, 1 errors. */
int cfgload_check(const char *path, FILE *out, FILE *err);

#endif
