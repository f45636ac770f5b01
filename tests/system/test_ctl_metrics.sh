#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# `gnomonctl metrics`: the status, sources and server counters in the Prometheus text
# format. A daemon on a loopback high port gets 3 client requests, a mode 7 packet and a
# version 0 packet; the output must parse as the exposition format (HELP and TYPE once per
# family, before its samples, a family's samples together, counters named _total, label
# values quoted) and carry the numbers the daemon counted. -j with metrics is refused,
# and a missing socket is an error. Ports 13960-13969.
set -euo pipefail
. "$(dirname "$0")/daemon_lib.sh"

cat >"$tmp/g.conf" <<CONF
port 13960
server 127.0.0.1 port 13961 iburst
controlsocket $tmp/ctl.sock
restrict default
CONF
start_daemon -c "$tmp/g.conf"
wait_for "[ -S $tmp/ctl.sock ]" 10 || fail "the daemon did not start"

# 3 client requests (versions 4, 3, 2), mode 7, version 0: answers for the first three only
python3 - <<'PY' || fail "the raw requests did not get the expected answers"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2.0)
def ask(first):
    s.sendto(bytes([first]) + bytes(47), ("127.0.0.1", 13960))
for first in (0x23, 0x1b, 0x13):          # LI 0, VN 4/3/2, mode 3
    ask(first)
    data, _ = s.recvfrom(100)
    if len(data) != 48 or data[0] & 7 != 4:
        sys.exit("bad answer")
for first in (0x27, 0x03):                # mode 7; version 0
    ask(first)
s.settimeout(0.5)
try:
    s.recvfrom(100)
    sys.exit("an answer to mode 7 or version 0")
except socket.timeout:
    pass
PY

# the association's first request leaves after a random start delay of up to a few seconds
wait_for "\"$gnomonctl\" -s $tmp/ctl.sock -j sources | grep -q '\"sent\":[1-9]'" 15 ||
	fail "no request sent to the source"
"$gnomonctl" -s "$tmp/ctl.sock" metrics >"$tmp/metrics" || fail "gnomonctl metrics failed"
python3 - "$tmp/metrics" <<'PY' || { cat "$tmp/metrics"; fail "the metrics are wrong"; }
import re, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "", "no final newline"
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$')
types, helps, done, values = {}, set(), set(), {}
current = None
for ln in lines[:-1]:
    if ln.startswith("# HELP "):
        name = ln.split(" ")[2]
        assert name not in helps, "HELP twice: " + name
        helps.add(name)
        continue
    if ln.startswith("# TYPE "):
        _, _, name, typ = ln.split(" ")
        assert name in helps and name not in types, "TYPE without HELP, or twice: " + name
        assert typ in ("gauge", "counter"), ln
        assert (typ == "counter") == name.endswith("_total"), "counter naming: " + name
        types[name] = typ
        continue
    m = sample.match(ln)
    assert m, "not a sample: " + ln
    name, labels, val = m.group(1), m.group(2) or "", m.group(3)
    assert name in types, "sample before its TYPE: " + name
    if name != current:
        assert name not in done, "family's samples not together: " + name
        if current:
            done.add(current)
        current = name
    float(val)
    values[name + labels] = float(val)
def v(key):
    assert key in values, "missing " + key
    return values[key]
assert v("gnomon_server_requests_total") == 5, values
assert v("gnomon_server_answers_total") == 3
assert v('gnomon_server_verdicts_total{verdict="answer"}') == 3
assert v('gnomon_server_verdicts_total{verdict="mode"}') == 1
assert v('gnomon_server_verdicts_total{verdict="version"}') == 1
assert v("gnomon_server_mru_entries") == 1
assert v("gnomon_synchronised") == 0
assert v('gnomon_state{state="unsynchronised"}') == 1
assert v("gnomon_stratum") == 16
src = '{assoc="1",address="127.0.0.1",port="13961",name="127.0.0.1"}'
assert v("gnomon_source_requests_sent_total" + src) >= 1
assert v("gnomon_source_reach" + src) == 0
assert v("gnomon_source_selected" + src) == 0
assert v("gnomon_uptime_seconds") > 0
assert any(k.startswith('gnomon_info{version="') for k in values)
PY

rc=0; "$gnomonctl" -s "$tmp/ctl.sock" -j metrics >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "-j metrics exited $rc, want 2"
rc=0; "$gnomonctl" -s "$tmp/none.sock" metrics >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "metrics without a daemon exited $rc, want 1"
grep -q "Is gnomond running" "$tmp/err" || fail "no sentence for a missing daemon"
stop_daemon TERM
[ "$stop_status" -eq 0 ] || fail "exit status $stop_status"
echo "PASS"
