/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_paths: locating the scenario files for tests (see sim_paths.h).
 */
#include "sim_paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sim_scenario_path(const char *name, char *buf, size_t cap)
{
	const char *src = getenv("GNOMON_SRCDIR");
	if (src != NULL && src[0] != '\0') {
		snprintf(buf, cap, "%s/tests/sim/scenarios/%s", src, name);
		return buf;
	}
	/* __FILE__ is this file's path in the source tree as the build saw it. */
	const char *me = __FILE__;
	const char *slash = strrchr(me, '/');
	int dirlen = slash ? (int)(slash - me) : 1;
	snprintf(buf, cap, "%.*s/scenarios/%s", dirlen, slash ? me : ".", name);
	return buf;
}
