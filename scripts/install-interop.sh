#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Sets up the interop peers the tests in tests/interop/ run against (Debian 12, as root):
#  - chrony from apt, installed WITHOUT starting its service (a policy-rc.d guard that
#    exits 101 while apt runs; a system chronyd would hold :123 and steer the clock);
#  - NTPsec 1.2.2's ntpd, ntpq and ntpdig, unpacked (never installed: ntpsec and chrony
#    conflict) into $GNOMON_INTEROP_DIR (default /opt/gnomon-interop)/ntpsec, with the
#    libntpc symlink the python tools need, and the port shim that lets ntpq/ntpdig talk
#    to a high port (NTP_PORT=N python3 .../ntpsec-port-shim.py .../ntpdig ...).
# The recipe is /work/shared/interop.md §1-2 (copied into docs by the lead). Idempotent:
# when everything is in place it prints nothing and touches nothing, and it runs
# apt-get update only when a package is missing.
set -euo pipefail

DIR=${GNOMON_INTEROP_DIR:-/opt/gnomon-interop}
N=$DIR/ntpsec
STAMP=$DIR/.ntpsec-1.2.2-ok
RUNTIME_PKGS=(chrony python3 libssl3 libcap2 libbsd0 iproute2 netbase util-linux)
NTPSEC_PKGS=(ntpsec python3-ntp ntpsec-ntpdig ntpsec-ntpdate)

say() { echo "install-interop: $*"; }

missing=()
for p in "${RUNTIME_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
need_ntpsec=no
[ -f "$STAMP" ] && [ -x "$N/usr/sbin/ntpd" ] && [ -f "$N/usr/bin/ntpdig" ] && [ -f "$N/usr/bin/ntpq" ] &&
	[ -f "$DIR/ntpsec-port-shim.py" ] || need_ntpsec=yes

if [ ${#missing[@]} -eq 0 ] && [ $need_ntpsec = no ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	say "needs root to install ${missing[*]:-} ${need_ntpsec/yes/NTPsec tools}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
updated=no
apt_update() {
	[ $updated = yes ] && return 0
	apt-get update -qq
	updated=yes
}

if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	created_policy=no
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		created_policy=yes
		trap '[ $created_policy = yes ] && rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt_update
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	if [ $created_policy = yes ]; then
		rm -f /usr/sbin/policy-rc.d
		created_policy=no
	fi
	# If the service was started anyway (systemd without policy-rc.d support), stop it:
	# the tests run their own chronyd instances and the clock must not be steered.
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet chrony 2>/dev/null; then
		say "stopping and masking the chrony service the package started"
		systemctl stop chrony || true
		systemctl mask chrony || true
	fi
fi

if [ $need_ntpsec = yes ]; then
	say "unpacking NTPsec tools into $N"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	chmod 755 "$tmp"
	chown _apt: "$tmp" 2>/dev/null || true     # only avoids apt's "unsandboxed" warning
	if ! (cd "$tmp" && apt-get download -qq "${NTPSEC_PKGS[@]}" >/dev/null 2>&1); then
		apt_update
		(cd "$tmp" && apt-get download -qq "${NTPSEC_PKGS[@]}" >/dev/null)
	fi
	rm -rf "$N.new"
	mkdir -p "$N.new"
	for f in "$tmp"/*.deb; do
		dpkg -x "$f" "$N.new"
	done
	lib=$(cd "$N.new" && ls usr/lib/*/ntp/libntpc.so.1 2>/dev/null | head -1)
	if [ -z "$lib" ]; then
		say "libntpc.so.1 not found in the NTPsec packages" >&2
		exit 1
	fi
	# ntp/ntpc.py finds the library next to itself (interop.md §2).
	ln -sf "../../../${lib#usr/lib/}" "$N.new/usr/lib/python3/dist-packages/ntp/libntpc.so"
	rm -rf "$N"
	mv "$N.new" "$N"
	cat > "$DIR/ntpsec-port-shim.py" <<'PY'
# Port shim for NTPsec's python tools, which only talk to port 123 (interop.md §2).
# usage: NTP_PORT=12345 python3 ntpsec-port-shim.py /path/to/ntpdig|ntpq ARGS...
# Rewrites port 123/"ntp" in socket.getaddrinfo to $NTP_PORT; the tool is unchanged.
import os, runpy, socket, sys
port = int(os.environ.get("NTP_PORT", "123")); orig = socket.getaddrinfo
def gai(host, p, *a, **k):
    return orig(host, port if p in (123, "123", "ntp") else p, *a, **k)
socket.getaddrinfo = gai
sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")
PY
	PYTHONPATH=$N/usr/lib/python3/dist-packages /usr/bin/python3 "$N/usr/bin/ntpdig" --version >/dev/null
	"$N/usr/sbin/ntpd" --version >/dev/null
	touch "$STAMP"
	say "NTPsec $("$N/usr/sbin/ntpd" --version 2>&1 | head -1) ready in $N"
fi
