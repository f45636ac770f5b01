/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The failure path of the named assertions. It writes nothing itself (the core does no
 * I/O): abort() leaves a core dump and the daemon's SIGABRT path logs the rest.
 */
#include "gn_assert.h"

_Noreturn void gn_assert_failed_(const char *kind, const char *cond, const char *file, int line)
{
	(void)kind; (void)cond; (void)file; (void)line;
	abort();
}
