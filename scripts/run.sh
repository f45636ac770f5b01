#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Builds gnomond and starts it in the foreground on conf/gnomon.conf (the default
# configuration). Extra arguments go to gnomond, e.g. `scripts/run.sh -X -d` to log to
# stderr and discipline a software clock instead of the system clock.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
mkdir -p /var/lib/gnomon /run/gnomon
exec ./build/gnomond -n -c conf/gnomon.conf "$@"
