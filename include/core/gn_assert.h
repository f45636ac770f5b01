/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Named assertions, always on (docs/style.md): REQUIRE for preconditions, ENSURE for
 * postconditions, INSIST for invariants. A failed one is a bug in gnomon, never a
 * reaction to input: bad input is dropped and counted, not asserted on.
 */
#ifndef GN_ASSERT_H
#define GN_ASSERT_H

#include <stdlib.h>

#define GN_ASSERT_KIND_(kind, cond) \
	do { if (!(cond)) gn_assert_failed_(kind, #cond, __FILE__, __LINE__); } while (0)


_Noreturn void gn_assert_failed_(const char *kind, const char *cond, const char *file, int line);

#define REQUIRE(cond) GN_ASSERT_KIND_("REQUIRE", cond)
#define ENSURE(cond)  GN_ASSERT_KIND_("ENSURE", cond)
#define INSIST(cond)  GN_ASSERT_KIND_("INSIST", cond)

#endif
