#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# gnomond -X against a real upstream (chronyd -x serving its local clock on loopback,
# never touching the system clock): the daemon synchronises its software clock
# (gnomonctl status says synchronised, stratum one below chronyd's), serves time that
# agrees with the system clock it started from, and `gnomond -q -X` sets its clock once
# and exits 0. chrony comes from scripts/install-interop.sh. Ports 12180-12189.
set -euo pipefail
. "$(dirname "$0")/daemon_lib.sh"

chronyd=$(command -v chronyd || true)
[ -x /usr/sbin/chronyd ] && chronyd=/usr/sbin/chronyd
if [ -z "$chronyd" ]; then
  if [ "${CI:-}" = true ] && [ "$(id -u)" -eq 0 ]; then
    fail "chronyd is not installed (scripts/install-interop.sh installs it)"
  fi
  echo "SKIP: chronyd is not installed"; exit 77
fi

cat >"$tmp/chrony.conf" <<CONF
port 12181
bindaddress 127.0.0.1
local stratum 3
allow 127.0.0.1
cmdport 0
pidfile $tmp/chronyd.pid
CONF
setpriv --bounding-set=-sys_time --inh-caps=-sys_time "$chronyd" -x -n -f "$tmp/chrony.conf" \
  >"$tmp/chrony.log" 2>&1 &
chrony_pid=$!
stop_chrony() { kill -TERM "$chrony_pid" 2>/dev/null || true; wait "$chrony_pid" 2>/dev/null || true; }
trap 'stop_chrony; cleanup' EXIT
sleep 0.5
kill -0 "$chrony_pid" || { cat "$tmp/chrony.log"; fail "chronyd did not start"; }

cat >"$tmp/g.conf" <<CONF
port 12180
server 127.0.0.1 port 12181 iburst
controlsocket $tmp/ctl.sock
pidfile $tmp/gnomond.pid
CONF
start_daemon -c "$tmp/g.conf"
wait_for "[ -S $tmp/ctl.sock ]" 10 || fail "no control socket"
wait_for "\"$gnomonctl\" -s $tmp/ctl.sock status 2>/dev/null | grep -Eq '^state: +synchronised$'" 40 \
  || { "$gnomonctl" -s "$tmp/ctl.sock" status; "$gnomonctl" -s "$tmp/ctl.sock" sources; fail "not synchronised within 40 s"; }
"$gnomonctl" -s "$tmp/ctl.sock" status | grep -Eq '^stratum: +4$' || fail "stratum is not 4 (chronyd's 3 + 1)"
"$gnomonctl" -s "$tmp/ctl.sock" sources | grep -q '^\*127.0.0.1:12181' || fail "chronyd is not the system peer"

# What gnomond serves agrees with the system clock (chronyd's too) within 50 ms.
if command -v python3 >/dev/null; then
  python3 - <<'PY' || fail "served time is off"
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
req = bytearray(48); req[0] = 0x23
s.sendto(bytes(req), ("127.0.0.1", 12180)); d, a = s.recvfrom(1024); t4 = time.time()
sec, frac = struct.unpack("!II", d[40:48]); t3 = sec - 2208988800 + frac / 2**32
assert d[0] >> 6 == 0 and d[1] == 4, (d[0] >> 6, d[1])
assert abs(t3 - t4) < 0.05, t3 - t4
PY
fi
stop_daemon TERM
[ "$stop_status" -eq 0 ] || fail "exit status $stop_status"

# -q: set the (software) clock once and exit 0.
cat >"$tmp/q.conf" <<CONF
server 127.0.0.1 port 12181 iburst
CONF
t0=$(now_ms)
rc=0
timeout 60 setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
  "$gnomond" -q -X -c "$tmp/q.conf" >"$tmp/q.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$tmp/q.log"; fail "-q exited $rc"; }
grep -q -- "-q: the clock was set" "$tmp/q.log" || { cat "$tmp/q.log"; fail "-q did not say it set the clock"; }
echo "-q: done in $(( $(now_ms) - t0 )) ms"
echo "PASS"
