#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Configures and builds one build tree. Usage: scripts/build.sh [DIR] [cmake options...]
# DIR defaults to build/. Warnings are errors, as in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DGNOMON_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
