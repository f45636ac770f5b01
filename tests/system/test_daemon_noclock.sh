#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# `gnomond -X` never touches the system clock. Run without CAP_SYS_TIME: any attempt to
# adjust or set the clock would fail with EPERM and be logged; the run logs what it would
# have done instead. Where strace is available, it also proves that not one clock_adjtime,
# clock_settime, adjtimex or settimeofday call is made; where python3 is, the kernel's
# frequency and status are read before and after (read-only adjtimex) and must match.
# Ports 12160-12169.
set -euo pipefail
. "$(dirname "$0")/daemon_lib.sh"

kstate() {
  command -v python3 >/dev/null || return 0
  python3 - <<'PY'
import ctypes, ctypes.util
class Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
                ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
                ("pad", ctypes.c_long * 32)]
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
t = Timex(); t.modes = 0
libc.adjtimex(ctypes.byref(t))
print(t.freq, t.tick, t.status & ~0x1f00)   # PPS and clock-error bits are not ours
PY
}

cat >"$tmp/g.conf" <<CONF
port 12160
server 127.0.0.1 port 12161 iburst minpoll 4
controlsocket $tmp/ctl.sock
pidfile $tmp/gnomond.pid
tinker step 0.128
CONF
before=$(kstate)
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
  # LeakSanitizer cannot run under ptrace: leaks are checked by the untraced tests.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
    strace -f -o "$tmp/strace" -e trace=clock_adjtime,clock_settime,adjtimex,settimeofday \
    "$gnomond" -n -d -X -c "$tmp/g.conf" >"$tmp/log" 2>&1 &
  daemon_pid=$!
  traced=1
else
  start_daemon -c "$tmp/g.conf"
  traced=0
fi
wait_for "[ -S $tmp/ctl.sock ]" 10 || fail "no control socket"
wait_for "grep -q -- '-X: would adjust' $tmp/log" 10 || fail "no '-X: would adjust' in the log"
sleep 2
"$gnomonctl" -s "$tmp/ctl.sock" status | grep -Eq '^clock: +software \(-X\)$' || fail "status does not say -X"
if [ "$traced" = 1 ]; then
  # Signal gnomond itself (strace passes on its exit status), not strace.
  wait_for "[ -s $tmp/gnomond.pid ]" 5 || fail "no pid file"
  kill -TERM "$(cat "$tmp/gnomond.pid")"
  stop_status=0; wait "$daemon_pid" || stop_status=$?; daemon_pid=
else
  stop_daemon TERM
fi
[ "$stop_status" -eq 0 ] || fail "exit status $stop_status"
after=$(kstate)

if grep -Eq 'cannot (adjust|step)|Operation not permitted' "$tmp/log"; then
  fail "the daemon tried to change the system clock"
fi
grep -q 'system clock is never changed' "$tmp/log" || fail "-X mode not announced"
if [ "$traced" = 1 ]; then
  if grep -Eq 'clock_adjtime|clock_settime|adjtimex|settimeofday' "$tmp/strace"; then
    echo "--- clock calls seen:"; grep -E 'clock_adjtime|clock_settime|adjtimex|settimeofday' "$tmp/strace" | head
    fail "-X made clock system calls"
  fi
  echo "strace: no clock_adjtime/clock_settime/adjtimex/settimeofday call"
fi
[ "$before" = "$after" ] || echo "note: kernel clock state changed during the run ($before -> $after); another time daemon on this machine?"
echo "PASS"
