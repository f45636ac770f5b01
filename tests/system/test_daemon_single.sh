#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# One gnomond at a time. While a daemon runs:
#   * a second one with the same pid file exits non-zero within 2 s, saying "another
#     gnomond (pid N) is running: FILE is locked" (in the foreground, and before detaching
#     without -n);
#   * a second one with another pid file but the same control socket exits non-zero within
#     2 s, saying something answers on the control socket;
#   * the first keeps running, keeps its pid file and socket, and answers gnomonctl.
# After the first is killed with SIGKILL (pid file and socket left behind), a new daemon
# starts: the lock died with the process and a socket nobody answers on is stale.
# Ports 12800-12809.
set -euo pipefail
. "$(dirname "$0")/daemon_lib.sh"

cat >"$tmp/a.conf" <<CONF
port 12800
server 127.0.0.1 port 12801
controlsocket $tmp/run/ctl.sock
pidfile $tmp/run/gnomond.pid
CONF
start_daemon -c "$tmp/a.conf"
first=$daemon_pid
wait_for "[ -S $tmp/run/ctl.sock ] && [ -s $tmp/run/gnomond.pid ]" 10 \
  || fail "the first daemon has no control socket or pid file after 10 s"
[ "$(cat "$tmp/run/gnomond.pid")" = "$first" ] || fail "pid file holds $(cat "$tmp/run/gnomond.pid"), not $first"
out=$("$gnomonctl" -s "$tmp/run/ctl.sock" status) || fail "gnomonctl status failed on the first daemon"
# By the way: the status shows the clock discipline (on: no `disable ntp`), and the loop
# test got the local addresses (loopback left out, so possibly none in a bare namespace).
echo "$out" | grep -Eq '^clock discipline: +enabled$' || { echo "$out"; fail "no 'clock discipline: enabled' in gnomonctl status"; }
grep -Eq 'loop test: [0-9]+ local address\(es\) as refids' "$tmp/log" || fail "the local addresses were not listed for the loop test"

# second NAME EXPECTED-MESSAGE ARGS...: runs another gnomond (bounded by timeout 10), wants
# exit non-zero within 2 s and the message on its stderr.
second() {
  local name=$1 want=$2; shift 2
  local t0 rc=0 ms
  t0=$(now_ms)
  timeout 10 setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
    "$gnomond" -X "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
  ms=$(( $(now_ms) - t0 ))
  [ "$rc" -ne 0 ] || fail "$name: a second daemon exited 0"
  [ "$rc" -ne 124 ] || fail "$name: a second daemon was still running after 10 s"
  [ "$ms" -le 2000 ] || fail "$name: took $ms ms to refuse, want ≤ 2000"
  grep -qF -- "$want" "$tmp/$name.err" || { cat "$tmp/$name.err"; fail "$name: no '$want' on stderr"; }
  kill -0 "$first" 2>/dev/null || fail "$name: the first daemon died"
  echo "$name: refused with exit $rc after $ms ms"
}

# The same configuration: the pid file is locked (foreground, log to syslog: the message
# is repeated on stderr).
second same-config "another gnomond (pid $first) is running: $tmp/run/gnomond.pid is locked" \
  -n -c "$tmp/a.conf"
# The same with -d (log to stderr) and -p naming the same pid file from another config.
cat >"$tmp/b.conf" <<CONF
port 12802
server 127.0.0.1 port 12801
controlsocket $tmp/run/other.sock
pidfile $tmp/run/other.pid
CONF
second same-pidfile "another gnomond (pid $first) is running: $tmp/run/gnomond.pid is locked" \
  -n -d -c "$tmp/b.conf" -p "$tmp/run/gnomond.pid"
[ ! -e "$tmp/run/other.sock" ] || fail "same-pidfile: the refused daemon left a control socket"
# Without -n: refused before detaching, on the terminal's stderr.
second detaching "another gnomond (pid $first) is running: $tmp/run/gnomond.pid is locked" \
  -c "$tmp/a.conf"
# -q (set the clock once) is refused while a daemon runs: it would fight it.
second once "another gnomond (pid $first) is running: $tmp/run/gnomond.pid is locked" \
  -q -c "$tmp/a.conf"
# Another pid file, the same control socket: the live socket is not taken over.
cat >"$tmp/c.conf" <<CONF
port 12803
server 127.0.0.1 port 12801
controlsocket $tmp/run/ctl.sock
pidfile $tmp/run/c.pid
CONF
second same-socket "another gnomond is running: it answers on the control socket $tmp/run/ctl.sock" \
  -n -d -c "$tmp/c.conf"
[ ! -e "$tmp/run/c.pid" ] || fail "same-socket: the refused daemon left its pid file"
# The first is untouched.
[ -S "$tmp/run/ctl.sock" ] || fail "the first daemon's control socket is gone"
[ "$(cat "$tmp/run/gnomond.pid" 2>/dev/null)" = "$first" ] || fail "the first daemon's pid file changed"
out=$("$gnomonctl" -s "$tmp/run/ctl.sock" status) || fail "gnomonctl status failed after the refusals"
echo "$out" | grep -q "software (-X)" || { echo "$out"; fail "gnomonctl status: not the first daemon's answer"; }

# SIGKILL leaves the pid file and the socket; a new daemon takes both over.
kill -KILL "$first"
wait "$first" 2>/dev/null || true
daemon_pid=
[ -S "$tmp/run/ctl.sock" ] && [ -e "$tmp/run/gnomond.pid" ] || fail "SIGKILL: expected a stale socket and pid file"
start_daemon -c "$tmp/a.conf"
wait_for "[ \"\$(cat $tmp/run/gnomond.pid 2>/dev/null)\" = $daemon_pid ]" 10 \
  || fail "after SIGKILL: the new daemon did not write its pid file"
wait_for "\"$gnomonctl\" -s $tmp/run/ctl.sock status >/dev/null 2>&1" 10 \
  || fail "after SIGKILL: the new daemon does not answer on the (formerly stale) control socket"
grep -q "another gnomond" "$tmp/log" && fail "after SIGKILL: the new daemon saw a live one"
stop_daemon TERM
[ "$stop_status" -eq 0 ] || fail "exit status $stop_status"
[ ! -e "$tmp/run/gnomond.pid" ] || fail "pid file left behind"
[ ! -e "$tmp/run/ctl.sock" ] || fail "control socket left behind"
echo "PASS"
