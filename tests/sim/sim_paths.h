/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_paths: where the simulator's tests find tests/sim/scenarios (env GNOMON_SRCDIR, set
 * by ctest, else the source tree this file was compiled from).
 */
#ifndef SIM_PATHS_H
#define SIM_PATHS_H

#include <stddef.h>

/* path of name under tests/sim/scenarios into buf; returns buf. */
const char *sim_scenario_path(const char *name, char *buf, size_t cap);

#endif
