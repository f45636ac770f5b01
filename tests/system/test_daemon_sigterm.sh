#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# gnomond's life cycle: it starts (pid file, control socket), survives SIGHUP (log
# reopened), and SIGTERM or SIGINT end it within a second with exit status 0, the pid file
# and the control socket removed. The drift file is read at start. Ports 12140-12149.
set -euo pipefail
. "$(dirname "$0")/daemon_lib.sh"

for sig in TERM INT; do
  cat >"$tmp/g.conf" <<CONF
port 12140
server 127.0.0.1 port 12141
controlsocket $tmp/run/ctl.sock
pidfile $tmp/run/gnomond.pid
driftfile $tmp/drift
CONF
  echo "12.500" >"$tmp/drift"
  start_daemon -c "$tmp/g.conf"
  wait_for "[ -S $tmp/run/ctl.sock ] && [ -s $tmp/run/gnomond.pid ]" 10 \
    || fail "no control socket or pid file after 10 s"
  [ "$(cat "$tmp/run/gnomond.pid")" = "$daemon_pid" ] || fail "pid file holds $(cat "$tmp/run/gnomond.pid"), not $daemon_pid"
  grep -q "drift file $tmp/drift: +12.500 ppm" "$tmp/log" || fail "drift file not read"

  # SIGHUP reopens logs and does not end the daemon.
  kill -HUP "$daemon_pid"
  wait_for "grep -q 'SIGHUP' $tmp/log" 3 || fail "SIGHUP not handled"
  kill -0 "$daemon_pid" || fail "SIGHUP ended the daemon"

  stop_daemon "$sig"
  [ "$stop_status" -eq 0 ] || fail "SIG$sig: exit status $stop_status, want 0"
  [ "$stop_ms" -le 1000 ] || fail "SIG$sig: took $stop_ms ms to exit, want ≤ 1000"
  [ ! -e "$tmp/run/gnomond.pid" ] || fail "SIG$sig: pid file left behind"
  [ ! -e "$tmp/run/ctl.sock" ] || fail "SIG$sig: control socket left behind"
  grep -q "terminating on signal" "$tmp/log" || fail "no clean shutdown logged"
  echo "SIG$sig: exit 0 after $stop_ms ms, pid file and socket removed"
done

# A control socket that cannot be opened is a warning, not fatal.
cat >"$tmp/g.conf" <<CONF
port 12142
controlsocket /proc/gnomon-cannot-be-here/ctl.sock
pidfile $tmp/run/gnomond.pid
CONF
start_daemon -c "$tmp/g.conf"
wait_for "grep -q 'cannot open the control socket' $tmp/log" 10 || fail "no warning about the control socket"
kill -0 "$daemon_pid" || fail "the daemon died without its control socket"
stop_daemon TERM
[ "$stop_status" -eq 0 ] || fail "exit status $stop_status without a control socket"
echo "PASS"
