#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Runs every simulator scenario (tests/sim/scenarios/*.scn, 5 seeds each) and prints the
# accuracy table beside the chrony 4.3 / NTPsec 1.2.2 targets measured under the same
# models. docs/accuracy.md keeps the table; tests/sim/scenarios/recorded.txt the figures
# test_sim_scenarios asserts.
#
# Usage: scripts/sim-table.sh [BUILD_DIR] [gnomon-sim options, e.g. -p for every seed]
#        scripts/sim-table.sh build --record    # lines for recorded.txt
#        scripts/sim-table.sh build --markdown  # rows for docs/accuracy.md
# BUILD_DIR defaults to build/ (configured and built as needed).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [ ! -f "$dir/CMakeCache.txt" ]; then
	cmake -S . -B "$dir" >/dev/null
fi
cmake --build "$dir" --target gnomon-sim -j 2 >/dev/null
scn=tests/sim/scenarios
# The table's order first, then any other scenario.
files=()
for n in lan-fixed lan-default wan falseticker outage spikes; do
	files+=("$scn/$n.scn")
done
for f in "$scn"/*.scn; do
	case " ${files[*]} " in *" $f "*) ;; *) files+=("$f") ;; esac
done
mode=--table
for a in "$@"; do
	case "$a" in --record | --markdown) mode= ;; esac
done
exec "$dir/tests/gnomon-sim" $mode "$@" "${files[@]}"
