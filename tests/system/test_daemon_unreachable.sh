#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# `gnomond -n -X` with a configuration that listens on loopback and names an unreachable
# loopback upstream: it starts, logs once that the source does not answer ("no response
# from", the engine's line; the daemon's own "does not answer" is gone), and
# `gnomonctl status` (tables, -j JSON, -s SOCKET and -c CONFIG) reports it unsynchronised.
# gnomonctl's errors are plain sentences with a non-zero exit. Ports 12150-12159.
set -euo pipefail
. "$(dirname "$0")/daemon_lib.sh"

sock=$tmp/ctl.sock
cat >"$tmp/g.conf" <<CONF
port 12150
interface listen 127.0.0.1
server 127.0.0.1 port 12151 iburst
controlsocket $sock
pidfile $tmp/gnomond.pid
CONF
start_daemon -c "$tmp/g.conf"
wait_for "[ -S $sock ]" 10 || fail "no control socket after 10 s"
wait_for "grep -q 'no response from' $tmp/log" 15 || fail "no 'no response from' within 15 s"
sleep 3 # more requests go out (iburst) and fail: still one line
n=$(grep -c 'no response from 127.0.0.1:12151' "$tmp/log" || true)
[ "$n" -eq 1 ] || fail "'no response from' logged $n times, want once"
n=$(grep -c 'does not answer' "$tmp/log" || true)
[ "$n" -eq 0 ] || fail "the daemon logs 'does not answer' as well as the engine's 'no response'"

"$gnomonctl" -s "$sock" status >"$tmp/status" || fail "gnomonctl status failed"
grep -Eq '^state: +unsynchronised$' "$tmp/status" || { cat "$tmp/status"; fail "status does not say unsynchronised"; }
grep -Eq '^stratum: +16$' "$tmp/status" || fail "stratum is not 16"
grep -Eq '^clock: +software \(-X\)$' "$tmp/status" || fail "status does not name the -X clock"

"$gnomonctl" -s "$sock" -j status >"$tmp/json" || fail "gnomonctl -j status failed"
grep -q '"version":1' "$tmp/json" || fail "-j reply lacks \"version\":1"
grep -q '"state":"unsynchronised"' "$tmp/json" || fail "-j reply is not unsynchronised"
if command -v python3 >/dev/null; then
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["version"]==1 and d["status"]["state"]=="unsynchronised"' "$tmp/json" \
    || fail "-j output is not the JSON it should be"
fi

"$gnomonctl" -c "$tmp/g.conf" status | grep -q unsynchronised || fail "gnomonctl -c CONFIG status failed"
"$gnomonctl" -s "$sock" sources >"$tmp/sources" || fail "gnomonctl sources failed"
grep -q '127.0.0.1:12151' "$tmp/sources" || { cat "$tmp/sources"; fail "sources does not list the upstream"; }
"$gnomonctl" -s "$sock" serverstats | grep -q '^received' || fail "gnomonctl serverstats failed"

# Errors: a sentence, a non-zero exit.
rc=0; "$gnomonctl" -s "$tmp/nope.sock" status 2>"$tmp/err" || rc=$?
[ "$rc" -ne 0 ] || fail "gnomonctl on a missing socket exited 0"
grep -q "cannot connect to $tmp/nope.sock" "$tmp/err" || { cat "$tmp/err"; fail "no plain sentence for a missing socket"; }
rc=0; "$gnomonctl" -s "$sock" frobnicate 2>"$tmp/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q "unknown command" "$tmp/err" || fail "unknown command not refused"

# Garbage on the socket does not hurt the daemon.
if command -v python3 >/dev/null; then
  python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"\xff\x00garbage\n")
r = s.recv(4096); assert b'"error"' in r and b'"version":1' in r, r
PY
fi
"$gnomonctl" -s "$sock" status >/dev/null || fail "daemon unusable after a garbage request"

stop_daemon TERM
[ "$stop_status" -eq 0 ] || fail "exit status $stop_status"
echo "PASS"
