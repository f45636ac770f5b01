#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Builds gnomon twice (release with warnings as errors, and ASan+UBSan) and runs every
# test in both: unit, simulation, system and interop (as root: namespaces, chronyd,
# NTPsec). This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

bash scripts/build.sh build
bash scripts/build.sh build-asan -DGNOMON_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
echo "=== tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan) ==="
(cd build-asan && ctest --output-on-failure -j 2 -LE nosan) || status=1
echo "=== tests on the release build (build) ==="
(cd build && ctest --output-on-failure -j 2) || status=1
exit $status
