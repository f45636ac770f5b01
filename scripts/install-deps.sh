#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Installs every Debian 12 package that building gnomon and running its tests need.
# Run as root. Does nothing (and needs no network) when all are already installed.
# The interop peers (chrony installed without starting it, NTPsec unpacked beside it,
# never installed: the two conflict) are set up by scripts/install-interop.sh.
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config
	libssl-dev libcap-dev libseccomp-dev libc-ares-dev libgps-dev pps-tools
	libcmocka-dev)
TEST_PKGS=(python3 iproute2 util-linux netbase procps binutils dnsmasq-base groff-base)

missing=()
for p in "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages: ${missing[*]}" >&2
		echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ -x "$(dirname "$0")/install-interop.sh" ] || [ -f "$(dirname "$0")/install-interop.sh" ]; then
	bash "$(dirname "$0")/install-interop.sh"
fi
