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

# ---------------------------------------------------------------------------------------
# Client side: gnomond as a client of a real server (test_client_*.sh). Everything below
# is additive; the functions above keep their behaviour.

# Debian's interpreter, as interop.md says (a pyenv shim on PATH costs ~1 s a start).
GN_PY=/usr/bin/python3
[ -x "$GN_PY" ] || GN_PY=python3

# gn_now: wall-clock seconds with microseconds (bash 5 $EPOCHREALTIME; no fork).
gn_now() { echo "$EPOCHREALTIME"; }

# gn_elapsed T0: seconds since T0 (from gn_now), three decimals.
gn_elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.3f", b - a}'; }

# gn_netns_run PREFIX SCRIPT ARGS...: run SCRIPT (bash) inside a fresh network namespace
# PREFIX-$$ with its loopback up, then delete the namespace and exit with the script's
# status. The script sees GN_NETNS=<name>. A namespace PREFIX-<pid> left behind by a run
# that was killed (its pid gone) is deleted first. Needs root (CAP_SYS_ADMIN).
gn_netns_run() {
	local prefix=$1 old rc
	shift
	[ "$(id -u)" -eq 0 ] || gn_skip "a network namespace needs root"
	command -v ip >/dev/null 2>&1 || gn_skip "ip (iproute2) missing"
	for old in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$prefix-[0-9]+\$"); do
		kill -0 "${old##*-}" 2>/dev/null || ip netns del "$old" 2>/dev/null
	done
	GN_NETNS_NAME=$prefix-$$
	ip netns add "$GN_NETNS_NAME" || gn_skip "cannot create network namespace $GN_NETNS_NAME"
	GN_NETNS_CHILD=
	trap 'ip netns del "$GN_NETNS_NAME" 2>/dev/null' EXIT
	trap '[ -n "$GN_NETNS_CHILD" ] && kill -TERM "$GN_NETNS_CHILD" 2>/dev/null && wait "$GN_NETNS_CHILD"; exit 143' TERM INT
	if ! ip netns exec "$GN_NETNS_NAME" ip link set lo up; then
		echo "FAIL: cannot bring up lo in $GN_NETNS_NAME"
		exit 1
	fi
	GN_NETNS=$GN_NETNS_NAME ip netns exec "$GN_NETNS_NAME" bash "$@" &
	GN_NETNS_CHILD=$!
	wait "$GN_NETNS_CHILD"
	rc=$?
	GN_NETNS_CHILD=
	exit $rc
}

# gn_start_ntpsec_server NAME [extra config lines...]: NTPsec ntpd in orphan mode
# (synchronised stratum 1, refid LOOP; interop.md §0.5 and §4) on :123 of the current
# network namespace (ntpd binds every address there: one per namespace). No `limited`,
# clock control off (disable ntp, disable kernel, no CAP_SYS_TIME). Waits until it answers
# synchronised (<= 20 s). Sets GN_NTPD_PID.
gn_start_ntpsec_server() {
	local name=$1
	shift
	[ -x "$GN_NTPSEC/usr/sbin/ntpd" ] || gn_skip "NTPsec ntpd not in $GN_NTPSEC"
	{
		echo "tos orphan 1 orphanwait 1"
		echo "restrict default nomodify noquery"
		echo "restrict 127.0.0.1"
		echo "restrict ::1"
		echo "disable ntp"
		echo "disable kernel"
		for l in "$@"; do echo "$l"; done
	} > "$GN_T/etc/$name.conf"
	"${GN_NOCLK[@]}" "$GN_NTPSEC/usr/sbin/ntpd" -n -c "$GN_T/etc/$name.conf" -l "$GN_T/log/$name.log" \
		-p "$GN_T/run/$name.pid" > "$GN_T/log/$name.out" 2>&1 &
	GN_NTPD_PID=$!
	GN_PIDS+=("$GN_NTPD_PID")
	local t0=$EPOCHREALTIME
	gn_wait_sync 127.0.0.1 123 20 || { gn_fail "NTPsec ntpd $name not synchronised on 127.0.0.1:123 within 20 s"; return 1; }
	if grep -q 'syntax error' "$GN_T/log/$name.log" 2>/dev/null; then
		gn_fail "NTPsec ntpd $name: syntax error in its configuration"
		return 1
	fi
	gn_log "NTPsec ntpd $name synchronised on 127.0.0.1:123 after $(gn_elapsed "$t0") s"
}

# gn_ctl CMD: gnomonctl -j CMD on $GN_T/run/gnomond.sock (bounded); the JSON on stdout.
gn_ctl() {
	timeout 10 "$GNOMONCTL" -s "$GN_T/run/gnomond.sock" -j "$1" 2>/dev/null
}

# gn_peer_fields ADDR PORT: from `sources` JSON on stdin, the association for ADDR:PORT as
# "tally stratum reach offset_s assoc_id refid" (nothing, status 1, if it is not there).
# A blank tally (ntpq's ' ': rejected) prints as '_', so the fields split on blanks.
gn_peer_fields() {
	"$GN_PY" -c '
import json, sys
try:
    j = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
for s in j.get("sources", []):
    if s.get("address") == sys.argv[1] and int(s.get("port", -1)) == int(sys.argv[2]):
        tally = (s.get("tally") or "").strip() or "_"
        refid = "".join(c for c in (s.get("refid") or "") if c > " ") or "-"
        print(tally, int(s.get("stratum") or 0), int(s.get("reach") or 0),
              repr(float(s.get("offset_s") or 0.0)), int(s.get("assoc_id") or 0), refid)
        sys.exit(0)
sys.exit(1)' "$1" "$2"
}

# gn_status_fields: from `status` JSON on stdin: "state stratum refid sys_peer offset_s".
gn_status_fields() {
	"$GN_PY" -c '
import json, sys
try:
    st = json.load(sys.stdin)["status"]
except (ValueError, KeyError):
    sys.exit(1)
refid = "".join(c for c in (st.get("refid") or "") if c > " ") or "-"
print(st.get("state") or "-", int(st.get("stratum") or 0), refid, int(st.get("sys_peer") or 0),
      repr(float(st.get("offset_s") or 0.0)))'
}

# gn_compare HOST_A PORT_A HOST_B PORT_B [N]: an external NTP client (python) queries A and
# B alternately N times (default 8) and takes each one's lowest-delay sample; prints
# "diff_s off_a_s delay_a_s off_b_s delay_b_s" where off = server clock - system clock
# (RFC 5905 §8 on-wire offset) and diff = off_a - off_b. Status 1 if either never answered
# with a synchronised reply.
gn_compare() {
	timeout 30 "$GN_PY" - "$@" <<'PY'
import os, socket, struct, sys, time
ha, pa, hb, pb = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
n = int(sys.argv[5]) if len(sys.argv) > 5 else 8
EPOCH = 2208988800
def ts(b):
    sec, frac = struct.unpack(">II", b)
    return sec - EPOCH + frac / 2**32
def query(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    try:
        xmt = os.urandom(8)
        pkt = bytes([0x23, 0, 6, 0xec]) + bytes(36) + xmt
        t1 = time.time_ns()
        s.sendto(pkt, (host, port))
        while True:
            d = s.recv(2048)
            t4 = time.time_ns()
            if len(d) >= 48 and d[24:32] == xmt:
                break
    except OSError:
        return None
    finally:
        s.close()
    if (d[0] >> 6) == 3 or not 1 <= d[1] <= 15 or (d[0] & 7) != 4:
        return None
    T1, T4 = t1 / 1e9, t4 / 1e9
    T2, T3 = ts(d[32:40]), ts(d[40:48])
    return ((T2 - T1) + (T3 - T4)) / 2, (T4 - T1) - (T3 - T2)
best = {"a": None, "b": None}
for _ in range(n):
    for k, h, p in (("a", ha, pa), ("b", hb, pb)):
        r = query(h, p)
        if r and (best[k] is None or r[1] < best[k][1]):
            best[k] = r
    time.sleep(0.02)
if best["a"] is None or best["b"] is None:
    print("noreply", "a" if best["a"] is None else "b")
    sys.exit(1)
(oa, da), (ob, db) = best["a"], best["b"]
print("%.9f %.9f %.9f %.9f %.9f" % (oa - ob, oa, da, ob, db))
PY
}

# gn_ext_fmt "GN_COMPARE OUTPUT": "+12.3 us (delays 45/38 us)" or "no reply".
gn_ext_fmt() {
	[ "${1:-nan}" = nan ] && { echo "no reply"; return; }
	echo "$1" | awk 'NF == 5 {printf "%+.1f us (delays %.0f/%.0f us)", $1 * 1e6, $3 * 1e6, $5 * 1e6; ok = 1}
		END {if (!ok) printf "no reply"}'
}

# gn_offset HOST PORT: that server's clock minus the system clock, as an external NTP
# client measures it (lowest-delay of 4 queries), in seconds.
gn_offset() {
	local r
	r=$(gn_compare "$1" "$2" "$1" "$2" 4) || return 1
	echo "$r" | awk '{print $2}'
}

# gn_chronyd_shift SOCK X_S HOST PORT: make the chronyd on HOST:PORT, started with
# `manual`, `bindcmdaddress SOCK` and -x, serve its system clock plus about X_S seconds
# (0 < X_S < 1) without touching the system clock: `chronyc settime` with a time X_S ahead,
# timed to the fraction of a second; chronyd's clock driver for -x (no clock control)
# keeps the correction to itself and applies it to the time it serves (checked with
# chrony 4.3, Debian 12). Sets GN_UP_OFFSET to the offset then measured (gn_offset);
# status 1 if settime failed or the offset is not between 0.2 X_S and X_S + 10 ms (chronyc
# starting late under load makes it a few ms smaller than asked).
gn_chronyd_shift() {
	local sock=$1 x=$2 host=$3 port=$4 out
	GN_UP_OFFSET=
	out=$(timeout 20 "$GN_PY" - "$sock" "$x" 2>&1 <<'PY'
import subprocess, sys, time
sock, x = sys.argv[1], float(sys.argv[2])
# wait until the fraction of the second is 1 - x, then name the next whole second: the
# time given is then x ahead of the system clock (less chronyc's start-up, a few ms)
time.sleep(((1.0 - x) - time.time() % 1.0) % 1.0)
arg = time.strftime("%b %d, %Y %H:%M:%S", time.gmtime(int(time.time()) + 1))
r = subprocess.run(["chronyc", "-h", sock, "settime", arg], capture_output=True, text=True, timeout=10)
print("chronyc settime '%s': %s" % (arg, " ".join((r.stdout + r.stderr).split())))
sys.exit(0 if r.returncode == 0 and "200 OK" in r.stdout else 1)
PY
	)
	local rc=$?
	echo "$out"
	[ $rc -eq 0 ] || return 1
	GN_UP_OFFSET=$(gn_offset "$host" "$port") || return 1
	awk -v o="$GN_UP_OFFSET" -v x="$x" 'BEGIN {exit !(o > 0.2 * x && o < x + 0.01)}'
}

# gn_abs_lt X LIMIT: |X| < LIMIT (floating point).
gn_abs_lt() { awk -v x="$1" -v l="$2" 'BEGIN {exit !((x < 0 ? -x : x) < l)}'; }

# gn_us X_S: seconds -> "+12.3 us" (or "+45.123 ms" from 1 ms up), for reports.
gn_us() {
	awk -v x="$1" 'BEGIN {if (x >= 0.001 || x <= -0.001) printf "%+.3f ms", x * 1e3; else printf "%+.1f us", x * 1e6}'
}

# gn_client_check UP_HOST UP_PORT GN_PORT: the synchronisation checks of the engine's
# interop "done when", for a gnomond already started (gn_start_gnomond, control socket
# $GN_T/run/gnomond.sock, serving on GN_PORT) as a client of UP_HOST:UP_PORT, both in the
# current network namespace and on the same system clock. Call it right after
# gn_start_gnomond with GN_CLIENT_T0 set (gn_now) just before. Asserts:
#  1. `sources` marks UP_HOST:UP_PORT '*' within GN_SELECT_MAX_S (30) s of the start (in
#     the JSON and in the table) and `status` agrees: synchronised, sys_peer = its
#     association (a '*' that status contradicts is printed as a note and not counted);
#  2. stratum in `status` = the upstream's stratum (from its own reply) + 1, and so is
#     the stratum gnomond serves; `sources` shows the upstream's stratum; refid = UP_HOST;
#  3. within GN_CONVERGE_MAX_S (120) s of the start: |offset| < 1 ms in `status` and in
#     `sources`, and the software clock's offset to the upstream measured by an external
#     client (gn_compare: offset(gnomond) - offset(upstream)) < 1 ms, with the upstream
#     still marked '*' and state synchronised;
#  4. then for GN_HOLD_S (30) s more (through iburst's end and regular polls) all three
#     stay below 1 ms (sampled every 3 s), and the upstream stays the system peer.
# Prints a "figures:" line with what it measured.
gn_client_check() {
	local up_host=$1 up_port=$2 gn_port=$3
	local t0=${GN_CLIENT_T0:?} sel_max=${GN_SELECT_MAX_S:-30} conv_max=${GN_CONVERGE_MAX_S:-120}
	local hold=${GN_HOLD_S:-30} limit=0.001
	local src f sel_t="" r up_st odd=""
	local tally pst reach poff aid prefid state sst srefid speer soff

	# 1. selection
	for _ in $(seq $((sel_max * 4))); do
		src=$(gn_ctl sources)
		if f=$(echo "$src" | gn_peer_fields "$up_host" "$up_port"); then
			read -r tally pst reach poff aid prefid <<< "$f"
			if [ "$tally" = "*" ]; then
				# '*' must mean the system peer: status agrees (sys_peer, synchronised)
				if f=$(gn_ctl status | gn_status_fields); then
					read -r state sst srefid speer soff <<< "$f"
					if [ "$state" = synchronised ] && [ "$speer" = "$aid" ]; then
						sel_t=$(gn_elapsed "$t0")
						break
					fi
					if [ -z "$odd" ]; then
						odd="t=$(gn_elapsed "$t0") s: sources marks association $aid '*' but status says $state, sys_peer $speer"
						echo "note: $odd"
					fi
				fi
			fi
		fi
		awk -v t="$(gn_elapsed "$t0")" -v m="$sel_max" 'BEGIN {exit !(t >= m)}' && break
		gn_alive "$GN_GNOMOND_PID" || break
		sleep 0.25
	done
	if [ -z "$sel_t" ]; then
		gn_fail "$up_host:$up_port not marked '*' (with status agreeing) within $sel_max s (gnomond alive: $(gn_alive "$GN_GNOMOND_PID" && echo yes || echo no))"
		echo "sources: $(gn_ctl sources)"
		echo "status: $(gn_ctl status)"
		GN_FIGURES="select: not within $sel_max s"
		return 1
	fi
	gn_ok "$up_host:$up_port marked '*' after $sel_t s (reach $(printf %o "$reach"))"
	local table name=$up_host
	[ "$up_port" = 123 ] || name=$up_host:$up_port
	table=$(timeout 10 "$GNOMONCTL" -s "$GN_T/run/gnomond.sock" sources 2>&1)
	echo "$table" | sed 's/^/  /'
	if echo "$table" | grep -qF "*$name "; then
		gn_ok "gnomonctl sources (table) marks $name with '*'"
	else
		gn_fail "gnomonctl sources (table) has no line '*$name'"
	fi

	gn_ok "status: synchronised, sys_peer = association $aid"

	# 2. stratum
	r=$(gn_send "$up_host" "$up_port" 23 --timeout 1) && up_st=$(gn_field "$r" stratum) || up_st=""
	if [ -z "$up_st" ]; then
		gn_fail "the upstream $up_host:$up_port did not answer a direct query"
	else
		if [ "$sst" = $((up_st + 1)) ]; then
			gn_ok "status: stratum $sst = upstream's $up_st + 1"
		else
			gn_fail "status: stratum $sst, want upstream's $up_st + 1"
		fi
		if [ "$pst" = "$up_st" ]; then
			gn_ok "sources: upstream stratum $pst (refid shown: $prefid)"
		else
			gn_fail "sources: upstream stratum $pst, its reply says $up_st"
		fi
	fi
	if [ "$srefid" = "$up_host" ]; then
		gn_ok "status: refid $srefid"
	else
		gn_fail "status: refid $srefid, want $up_host"
	fi
	r=$(gn_send 127.0.0.1 "$gn_port" 23 --timeout 1) && f=$(gn_field "$r" stratum) || f="none"
	if [ -n "$up_st" ] && [ "$f" = $((up_st + 1)) ]; then
		gn_ok "gnomond serves stratum $f"
	else
		gn_fail "gnomond serves stratum $f (want ${up_st:-?} + 1)"
	fi

	# 3. convergence: reported offsets and the external measurement
	local conv_t="" ext diff
	while :; do
		src=$(gn_ctl sources)
		if f=$(echo "$src" | gn_peer_fields "$up_host" "$up_port"); then
			read -r tally pst reach poff aid prefid <<< "$f"
		else
			tally=missing poff=1
		fi
		if f=$(gn_ctl status | gn_status_fields); then
			read -r state sst srefid speer soff <<< "$f"
		else
			state=missing soff=1
		fi
		ext=$(gn_compare 127.0.0.1 "$gn_port" "$up_host" "$up_port") && diff=${ext%% *} || { diff=nan ext=nan; }
		gn_log "t=$(gn_elapsed "$t0") s: status offset $(gn_us "$soff"), source offset $(gn_us "$poff"), external $(gn_ext_fmt "$ext"), tally '$tally' reach $(printf %o "$reach")"
		if [ "$diff" != nan ] && [ "$tally" = "*" ] && [ "$state" = synchronised ] &&
		   gn_abs_lt "$soff" $limit && gn_abs_lt "$poff" $limit && gn_abs_lt "$diff" $limit; then
			conv_t=$(gn_elapsed "$t0")
			break
		fi
		awk -v t="$(gn_elapsed "$t0")" -v m="$conv_max" 'BEGIN {exit !(t >= m)}' && break
		gn_alive "$GN_GNOMOND_PID" || break
		sleep 2
	done
	local conv_fig="status $(gn_us "$soff"), source $(gn_us "$poff"), external $( [ "$diff" = nan ] && echo none || gn_us "$diff")"
	if [ -z "$conv_t" ]; then
		gn_fail "offset not under 1 ms within $conv_max s: $conv_fig (external: gnomond minus upstream, off/delay: $ext)"
		GN_FIGURES="select ${sel_t} s; stratum $sst (upstream ${up_st:-?}); NOT converged after $conv_max s: $conv_fig"
		return 1
	fi
	gn_ok "offset under 1 ms after $conv_t s: $conv_fig"

	# 4. stays converged
	local end max_s=0 max_p=0 max_e=0 bad=0 n=0
	end=$(awk -v a="$EPOCHREALTIME" -v h="$hold" 'BEGIN {printf "%.6f", a + h}')
	for _ in $(seq $((hold / 3 + 2))); do
		awk -v e="$end" -v n="$EPOCHREALTIME" 'BEGIN {exit !(n >= e)}' && break
		sleep 3
		src=$(gn_ctl sources)
		if f=$(echo "$src" | gn_peer_fields "$up_host" "$up_port"); then
			read -r tally pst reach poff aid prefid <<< "$f"
		else
			tally=missing poff=1
		fi
		if f=$(gn_ctl status | gn_status_fields); then
			read -r state sst srefid speer soff <<< "$f"
		else
			state=missing soff=1
		fi
		ext=$(gn_compare 127.0.0.1 "$gn_port" "$up_host" "$up_port") && diff=${ext%% *} || { diff=nan ext=nan; }
		n=$((n + 1))
		gn_log "t=$(gn_elapsed "$t0") s: status offset $(gn_us "$soff"), source offset $(gn_us "$poff"), external $(gn_ext_fmt "$ext"), tally '$tally' reach $(printf %o "$reach") state $state"
		max_s=$(awk -v m="$max_s" -v x="$soff" 'BEGIN {x = x < 0 ? -x : x; print (x > m ? x : m)}')
		max_p=$(awk -v m="$max_p" -v x="$poff" 'BEGIN {x = x < 0 ? -x : x; print (x > m ? x : m)}')
		[ "$diff" != nan ] && max_e=$(awk -v m="$max_e" -v x="$diff" 'BEGIN {x = x < 0 ? -x : x; print (x > m ? x : m)}')
		if [ "$diff" = nan ] || ! gn_abs_lt "$soff" $limit || ! gn_abs_lt "$poff" $limit ||
		   ! gn_abs_lt "$diff" $limit || [ "$tally" != "*" ] || [ "$state" != synchronised ]; then
			bad=$((bad + 1))
		fi
		gn_alive "$GN_GNOMOND_PID" || break
	done
	local hold_fig="max |offset| over ${hold} s ($n samples): status $(gn_us "$max_s"), source $(gn_us "$max_p"), external $(gn_us "$max_e")"
	if [ "$bad" -eq 0 ] && [ "$n" -gt 0 ]; then
		gn_ok "stayed synchronised to the upstream with |offset| < 1 ms: $hold_fig"
	else
		gn_fail "$bad of $n samples not synchronised to the upstream or at/over 1 ms: $hold_fig"
		grep -E 'stepped|no usable source|panic|unreachable|does not answer' "$GN_T/log/gnomond.log" 2>/dev/null |
			head -n 10 | sed 's/^/  gnomond.log: /'
	fi
	[ -z "$odd" ] || echo "note (not failed): $odd"
	GN_FIGURES="select ${sel_t} s; stratum $sst (upstream $up_st); converged (< 1 ms) after $conv_t s: $conv_fig; $hold_fig"
	if gn_alive "$GN_GNOMOND_PID"; then
		gn_ok "gnomond still running"
	else
		gn_fail "gnomond died"
	fi
}
