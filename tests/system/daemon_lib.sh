# SPDX-License-Identifier: BSD-2-Clause
#
# Helpers for the gnomond system tests (sourced, not a test itself). Every daemon runs in
# the foreground with -X (a software clock) and without CAP_SYS_TIME, so no test can touch
# the system clock; every wait is bounded.
gnomond=${GNOMOND:?GNOMOND must name the gnomond binary}
gnomonctl=${GNOMONCTL:?GNOMONCTL must name the gnomonctl binary}
tmp=$(mktemp -d /tmp/gnomon-systest.XXXXXX)
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    # A daemon under strace: end gnomond itself (its pid file), then its parent.
    for p in "$tmp"/*.pid "$tmp"/run/*.pid; do
      [ -s "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null || true
    done
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; [ -f "$tmp/log" ] && { echo "--- daemon log:"; cat "$tmp/log"; }; exit 1; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# wait_for CONDITION-COMMAND TIMEOUT_S: poll every 50 ms.
wait_for() {
  local deadline=$(( $(now_ms) + $2 * 1000 ))
  while ! eval "$1"; do
    [ "$(now_ms)" -ge "$deadline" ] && return 1
    sleep 0.05
  done
}

# start_daemon ARGS...: gnomond -n -d -X without CAP_SYS_TIME, log in $tmp/log.
start_daemon() {
  setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
    "$gnomond" -n -d -X "$@" >"$tmp/log" 2>&1 &
  daemon_pid=$!
}

# stop_daemon SIGNAL: returns after the daemon exited; sets stop_ms and stop_status.
stop_daemon() {
  local t0; t0=$(now_ms)
  kill -"$1" "$daemon_pid"
  stop_status=0
  wait "$daemon_pid" || stop_status=$?
  stop_ms=$(( $(now_ms) - t0 ))
  daemon_pid=
}
