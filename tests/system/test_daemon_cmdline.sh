#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# gnomond's command line: -t prints the normalised configuration and "configuration OK"
# (exit 0) or the errors (exit 1); --version and --help exit 0; an unknown option exits 2;
# a broken configuration does not start the daemon; -u and --no-sandbox are accepted and
# the log says the sandbox is not there yet. Ports 12170-12179.
set -euo pipefail
. "$(dirname "$0")/daemon_lib.sh"

cat >"$tmp/ok.conf" <<CONF
port 12170
server 192.0.2.1 iburst
controlsocket $tmp/ctl.sock
CONF
out=$("$gnomond" -t -c "$tmp/ok.conf") || fail "-t on a good file exited non-zero"
echo "$out" | grep -qx "configuration OK" || fail "-t did not print 'configuration OK'"
echo "$out" | grep -q "server 192.0.2.1" || fail "-t did not print the normalised configuration"

printf 'port 12170\nserver\n' >"$tmp/bad.conf"
rc=0; "$gnomond" -t -c "$tmp/bad.conf" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "-t on a broken file exited $rc, want 1"
grep -q "bad.conf:2:" "$tmp/err" || { cat "$tmp/err"; fail "no file:line diagnostic"; }
rc=0; "$gnomond" -n -X -c "$tmp/bad.conf" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "a broken configuration started the daemon (exit $rc)"

"$gnomond" --version | grep -q '^gnomond ' || fail "--version"
"$gnomond" --help | grep -q -- '--no-sandbox' || fail "--help"
rc=0; "$gnomond" --frobnicate 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "an unknown option exited $rc, want 2"
rc=0; "$gnomonctl" 2>/dev/null || rc=$?
[ "$rc" -ne 0 ] || fail "gnomonctl without a command exited 0"

# -u and --no-sandbox accepted; a name is resolved in the background (c-ares, pointed at
# a loopback port where nothing listens so no real DNS is asked), not fatal.
cat >"$tmp/names.conf" <<CONF
port 12171
server ntp.example.org iburst
server 127.0.0.1 port 12172
controlsocket $tmp/ctl.sock
pidfile $tmp/gnomond.pid
CONF
GNOMON_DNS_SERVERS=127.0.0.1:12179 start_daemon -c "$tmp/names.conf" -u nobody
wait_for "[ -S $tmp/ctl.sock ]" 10 || fail "daemon with -u did not start"
grep -q "not implemented yet; -u nobody" "$tmp/log" || fail "-u not acknowledged in the log"
wait_for "grep -q 'server ntp.example.org: resolving' $tmp/log" 5 || fail "name not reported"
grep -q "server 127.0.0.1: 127.0.0.1:12172 is association" "$tmp/log" || fail "numeric source not added"
stop_daemon TERM
[ "$stop_status" -eq 0 ] || fail "exit status $stop_status"
echo "PASS"
