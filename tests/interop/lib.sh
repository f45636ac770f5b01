# SPDX-License-Identifier: BSD-2-Clause
#
# Helpers for the interop tests (sourced, not run): gnomond against real chronyd and NTPsec
# tools on loopback high ports. Recipe: docs from /work/shared/interop.md (chrony from apt
# without its service, NTPsec unpacked into /opt/gnomon-interop by
# scripts/install-interop.sh, the port shim for ntpdig/ntpq).
#
# Every daemon started here is recorded and stopped by PID on exit (trap), every wait is
# bounded in count and time, and nothing may touch the real clock: daemons run without
# CAP_SYS_TIME (setpriv), chronyd with -x, gnomond with -X (its software clock).
#
# Skips (exit 77) only where a root Debian 12 CI cannot lack the thing; under CI=true as
# root a missing tool is installed, and if that fails the test fails.

set -u

GN_INTEROP_DIR=${GNOMON_INTEROP_DIR:-/opt/gnomon-interop}
GN_NTPSEC=$GN_INTEROP_DIR/ntpsec
GN_SHIM=$GN_INTEROP_DIR/ntpsec-port-shim.py
GN_PIDS=()
GN_FAILS=0
GN_T=

gn_log() { echo "[$(date +%H:%M:%S.%N | cut -c1-12)] $*"; }
gn_fail() { echo "FAIL: $*"; GN_FAILS=$((GN_FAILS + 1)); }
gn_ok() { echo "ok: $*"; }
gn_is_ci_root() { [ "${CI:-}" = true ] && [ "$(id -u)" -eq 0 ]; }

gn_skip() {
	if gn_is_ci_root; then
		echo "FAIL (would skip, but CI=true as root): $*"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

# Stop every recorded process (SIGTERM, then SIGKILL after 3 s), show logs on failure,
# remove the work directory.
gn_cleanup() {
	local rc=$?
	local p
	for p in "${GN_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${GN_PIDS[@]}"; do
		for _ in $(seq 30); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ -n "$GN_T" ] && [ -d "$GN_T" ]; then
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
			local f
			for f in "$GN_T"/log/*; do
				[ -f "$f" ] || continue
				echo "----- $f (last 40 lines)"
				tail -n 40 "$f"
			done
		fi
		if [ -n "${GN_KEEP:-}" ]; then
			echo "work directory kept: $GN_T"
		else
			rm -rf "$GN_T"
		fi
	fi
	exit "$rc"
}

# gn_init NAME: work directory, traps, the sender script.
gn_init() {
	GN_T=$(mktemp -d "/tmp/gnsrv-$1.XXXXXX")
	chmod 755 "$GN_T"
	mkdir -p "$GN_T/etc" "$GN_T/run" "$GN_T/log"
	chmod 700 "$GN_T/run"
	trap gn_cleanup EXIT
	trap 'exit 143' TERM INT
	cat > "$GN_T/ntpsend.py" <<'PY'
# Send one NTP datagram and print the reply in hex.
# usage: ntpsend.py HOST PORT FIRST_OCTET_HEX [--len N] [--src ADDR] [--timeout S]
#                   [--count N --gap S]   (several requests; prints one line per reply)
# exit 0: every request got a reply; 2: at least one got none (prints "none" for it)
import argparse, os, socket, struct, sys, time
ap = argparse.ArgumentParser()
ap.add_argument("host"); ap.add_argument("port", type=int); ap.add_argument("first")
ap.add_argument("--len", type=int, default=48); ap.add_argument("--src", default=None)
ap.add_argument("--timeout", type=float, default=0.5)
ap.add_argument("--count", type=int, default=1); ap.add_argument("--gap", type=float, default=0.0)
a = ap.parse_args()
fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if a.src:
    s.bind((a.src, 0))
s.settimeout(a.timeout)
missing = 0
for i in range(a.count):
    xmt = struct.pack(">Q", int.from_bytes(os.urandom(8), "big") | 1)
    pkt = bytes([int(a.first, 16), 0, 6, 0xec]) + bytes(36) + xmt
    pkt = (pkt + bytes(max(0, a.len - 48)))[:a.len]
    s.sendto(pkt, (a.host, a.port))
    end = time.monotonic() + a.timeout
    got = None
    while time.monotonic() < end:
        try:
            s.settimeout(max(0.001, end - time.monotonic()))
            d = s.recv(2048)
        except OSError:
            break
        if len(d) >= 48 and d[24:32] == xmt[:8] or (len(d) >= 48 and d[40:48] == xmt):
            got = d
            break
    if got is None:
        print("none"); missing += 1
    else:
        print(got.hex())
    sys.stdout.flush()
    if a.gap:
        time.sleep(a.gap)
sys.exit(0 if missing == 0 else 2)
PY
}

# Command prefix that removes CAP_SYS_TIME (changing the bounding set needs root). An
# array, not a function: `"${GN_NOCLK[@]}" daemon &` makes $! the daemon itself (setpriv
# execs it), so the cleanup stops the right process.
# --pdeathsig: the daemon gets SIGTERM if this script dies without its cleanup (a ctest
# timeout kills it with SIGKILL), so no daemon outlives its test.
if [ "$(id -u)" -eq 0 ]; then
	GN_NOCLK=(setpriv --pdeathsig TERM --bounding-set=-sys_time --inh-caps=-sys_time)
else
	GN_NOCLK=(setpriv --pdeathsig TERM)
fi

# gn_port_free PORT...: wait (up to 120 s: the same test may be running from another build
# tree) until nothing listens on these UDP ports, then go on; fail if they stay busy (a
# leftover daemon would answer in our place).
gn_port_busy() {
	local p
	for p in "$@"; do
		ss -Hlun 2>/dev/null | awk '{print $4}' | grep -qE "[:.]$p\$" && return 0
	done
	return 1
}
gn_port_free() {
	local end=$((SECONDS + 120)) said=no
	while gn_port_busy "$@"; do
		if [ $SECONDS -ge $end ]; then
			echo "UDP port(s) $* still in use:"
			ss -Hlunp 2>/dev/null | grep -E "[:.]($(echo "$@" | tr ' ' '|')) " || true
			gn_fail "test ports busy"
			exit 1
		fi
		[ $said = yes ] || { gn_log "waiting for UDP port(s) $* to be free"; said=yes; }
		sleep 1
	done
}

# Make sure chronyd and the NTPsec tools are there (installing them as root under CI).
gn_need_peers() {
	local ok=yes
	command -v chronyd >/dev/null 2>&1 || ok=no
	[ -f "$GN_NTPSEC/usr/bin/ntpdig" ] && [ -f "$GN_SHIM" ] || ok=no
	if [ $ok = no ]; then
		if [ "$(id -u)" -eq 0 ]; then
			bash "${GNOMON_SRCDIR:?}/scripts/install-interop.sh" || gn_skip "install-interop.sh failed"
		else
			gn_skip "chronyd or NTPsec tools missing (run scripts/install-interop.sh as root)"
		fi
	fi
	command -v chronyd >/dev/null 2>&1 || gn_skip "chronyd not installed"
	[ -f "$GN_NTPSEC/usr/bin/ntpdig" ] || gn_skip "NTPsec tools not in $GN_NTPSEC"
	[ -x /usr/bin/python3 ] || gn_skip "python3 missing"
}

gn_need_gnomond() {
	[ -n "${GNOMOND:-}" ] && [ -x "$GNOMOND" ] || gn_skip "GNOMOND not set or not executable"
}

# gn_send HOST PORT FIRST [args...]: ntpsend.py, bounded.
gn_send() {
	timeout 30 python3 "$GN_T/ntpsend.py" "$@"
}

# gn_probe_sync HOST PORT [MAXDIST_S]: 0 if a mode 4 reply says synchronised (LI != 3,
# stratum 1..15) and, with MAXDIST_S, its root distance (root delay / 2 + root
# dispersion) is below that many seconds (chronyd refuses a source above 3 s).
gn_probe_sync() {
	local r
	r=$(gn_send "$1" "$2" e3 --timeout 0.3 2>/dev/null) || return 1
	python3 - "$r" "${3:-}" <<'PY'
import struct, sys
d = bytes.fromhex(sys.argv[1].strip())
ok = len(d) >= 48 and (d[0] & 7) == 4 and (d[0] >> 6) != 3 and 1 <= d[1] <= 15
if ok and sys.argv[2]:
    delay, disp = (v / 65536.0 for v in struct.unpack(">II", d[4:12]))
    ok = delay / 2 + disp < float(sys.argv[2])
sys.exit(0 if ok else 1)
PY
}

# gn_wait_sync HOST PORT SECONDS [MAXDIST_S]
gn_wait_sync() {
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		gn_probe_sync "$1" "$2" "${4:-}" && return 0
		sleep 0.5
	done
	return 1
}

# gn_wait_answer HOST PORT SECONDS: any mode 4 answer.
gn_wait_answer() {
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		gn_send "$1" "$2" e3 --timeout 0.3 >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# gn_start_chronyd_server NAME ADDR PORT [extra config lines...]: a chronyd on a high port,
# synchronised by `local stratum 1`. Waits until it answers synchronised (<= 10 s).
gn_start_chronyd_server() {
	local name=$1 addr=$2 port=$3
	shift 3
	{
		echo "port $port"
		echo "bindaddress $addr"
		echo "allow 127.0.0.0/8"
		echo "allow ::1"
		echo "local stratum 1"
		echo "cmdport 0"
		echo "pidfile $GN_T/run/$name.pid"
		for l in "$@"; do echo "$l"; done
	} > "$GN_T/etc/$name.conf"
	"${GN_NOCLK[@]}" chronyd -x -n -u root -f "$GN_T/etc/$name.conf" -l "$GN_T/log/$name.log" \
		> "$GN_T/log/$name.out" 2>&1 &
	GN_PIDS+=($!)
	gn_wait_sync "$addr" "$port" 10 || { gn_fail "chronyd $name did not come up on $addr:$port"; return 1; }
	gn_log "chronyd $name serving on $addr:$port"
}

# gn_start_gnomond CONF: gnomond in the foreground with its software clock (-X), no
# CAP_SYS_TIME. Output in $GN_T/log/gnomond.out. Sets GN_GNOMOND_PID.
gn_start_gnomond() {
	"${GN_NOCLK[@]}" "$GNOMOND" -n -X -c "$1" > "$GN_T/log/gnomond.out" 2>&1 &
	GN_GNOMOND_PID=$!
	GN_PIDS+=($GN_GNOMOND_PID)
}

gn_alive() { kill -0 "$1" 2>/dev/null; }

# gn_ntpdig PORT HOST: NTPsec ntpdig through the port shim (one query, 2 s timeout).
gn_ntpdig() {
	NTP_PORT=$1 PYTHONPATH=$GN_NTPSEC/usr/lib/python3/dist-packages \
		timeout 20 /usr/bin/python3 "$GN_SHIM" "$GN_NTPSEC/usr/bin/ntpdig" -t 2 "$2"
}

# gn_ntpq PORT HOST ARGS...: NTPsec ntpq through the port shim.
gn_ntpq() {
	local port=$1 host=$2
	shift 2
	NTP_PORT=$port PYTHONPATH=$GN_NTPSEC/usr/lib/python3/dist-packages \
		timeout 30 /usr/bin/python3 "$GN_SHIM" "$GN_NTPSEC/usr/bin/ntpq" "$@" "$host"
}

# gn_chronyd_q HOST PORT: chronyd -Q (measure once, never set the clock).
gn_chronyd_q() {
	timeout 20 "${GN_NOCLK[@]}" chronyd -Q -t 5 "server $1 port $2 iburst maxsamples 1" 2>&1
}

# gn_field HEX NAME: one header field of a reply (li vn mode stratum poll precision refid
# org rec xmt len).
gn_field() {
	python3 - "$1" "$2" <<'PY'
import sys
d = bytes.fromhex(sys.argv[1].strip()); f = sys.argv[2]
v = {"li": d[0] >> 6, "vn": (d[0] >> 3) & 7, "mode": d[0] & 7, "stratum": d[1], "poll": d[2],
     "precision": d[3] - 256 if d[3] > 127 else d[3], "refid": d[12:16].hex(),
     "org": d[24:32].hex(), "rec": d[32:40].hex(), "xmt": d[40:48].hex(), "len": len(d)}
print(v[f])
PY
}

# gn_serverstats: gnomonctl serverstats into $GN_T/serverstats (shown); 0 if it worked.
gn_serverstats() {
	timeout 10 "$GNOMONCTL" -s "$GN_T/run/gnomond.sock" serverstats > "$GN_T/serverstats" 2>&1
	local rc=$?
	sed 's/^/serverstats: /' "$GN_T/serverstats"
	return $rc
}

# gn_stat NAME: one counter of the last gn_serverstats ("received", "restrict", ...).
gn_stat() {
	awk -v k="$1" '$1 == k && $2 ~ /^[0-9]+$/ {print $2; f=1} END {if (!f) print -1}' "$GN_T/serverstats" | head -1
}

gn_finish() {
	if [ "$GN_FAILS" -gt 0 ]; then
		echo "$GN_FAILS check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
