#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# A pool association that is a falseticker is replaced (issue "Pool, leap seconds and the
# real world's surprises"), on loopback only:
#  - dnsmasq on 127.0.0.1:12755 first knows `pool.test` = 127.0.0.2, .3, .4;
#  - chronyd (`local stratum 1`, -x, no CAP_SYS_TIME) answers on 127.0.0.2 and .3, port
#    12765; on 127.0.0.4 a small fake server answers with a clock 10 s ahead;
#  - gnomond -n -X (no CAP_SYS_TIME), `tos maxclock 3`, `pool pool.test port 12765 iburst
#    minpoll 3 maxpoll 3`: the three are mobilised, 127.0.0.4 is rejected ('x') by the
#    selection and gnomond synchronises to the others;
#  - then dnsmasq learns 127.0.0.5 (a third chronyd) and reloads (SIGHUP): once 127.0.0.4
#    has been a falseticker for 8 polls it is demobilised, DNS is asked again, and
#    127.0.0.5 takes its place; 127.0.0.4 never comes back.
# Ports 12755 (DNS), 12765 (upstreams), 12766 (gnomond). Every wait is bounded; every
# process is stopped by PID on exit.
set -u
. "$(dirname "$0")/../interop/lib.sh"
. "$(dirname "$0")/dns_lib.sh"

DNS_PORT=12755
UP_PORT=12765
SRV_PORT=12766
FAKE=127.0.0.4

gn_need_gnomond
gn_need_dns_test
gn_init poolfalse
gn_port_free $DNS_PORT $UP_PORT $SRV_PORT

printf '127.0.0.2 pool.test\n127.0.0.3 pool.test\n%s pool.test\n' $FAKE > "$GN_T/etc/hosts"
gn_start_dnsmasq "$GN_T/etc/hosts" $DNS_PORT || gn_finish
DNSMASQ_PID=$GN_DNSMASQ_PID

for a in 127.0.0.2 127.0.0.3 127.0.0.5; do
	gn_start_chronyd_server "up-${a##*.}" "$a" $UP_PORT || gn_finish
done

# The falseticker: a stratum 1 server whose clock is 10 s ahead.
cat > "$GN_T/fake.py" <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
def ts(t):
    t += 2208988800
    return struct.pack(">II", int(t), int((t % 1) * 2**32))
end = time.monotonic() + 900
while time.monotonic() < end:
    d, a = s.recvfrom(2048)
    if len(d) < 48 or (d[0] & 7) != 3:
        continue
    now = time.time() + 10.0
    r = bytes([(d[0] & 0x38) | 4, 1, d[2], 0xec]) + struct.pack(">II", 0, 16) + b"FAKE" \
        + ts(now - 1) + d[40:48] + ts(now) + ts(now)
    s.sendto(r, a)
PY
"${GN_NOCLK[@]}" "$GN_PY" "$GN_T/fake.py" $FAKE $UP_PORT > "$GN_T/log/fake.out" 2>&1 &
GN_PIDS+=($!)

cat > "$GN_T/etc/gnomon.conf" <<EOF
# gnomond under test (written by test_daemon_pool_false.sh)
port $SRV_PORT
tos maxclock 3
pool pool.test port $UP_PORT iburst minpoll 3 maxpoll 3
controlsocket $GN_T/run/gnomond.sock
logfile $GN_T/log/gnomond.log
pidfile $GN_T/run/gnomond.pid
EOF
export GNOMON_DNS_SERVERS=127.0.0.1:$DNS_PORT
gn_start_gnomond "$GN_T/etc/gnomon.conf"

pool_sources() {
	gn_ctl sources | "$GN_PY" -c '
import json, sys
try:
    j = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
for s in j.get("sources", []):
    print(s.get("address"), s.get("reach"), s.get("tally") or "-")
'
}

# --- the fake is rejected
x=no
for _ in $(seq 120); do
	pool_sources > "$GN_T/sources" 2>/dev/null || true
	awk -v f=$FAKE '$1 == f && $3 == "x"' "$GN_T/sources" | grep -q . && { x=yes; break; }
	sleep 0.5
done
sed 's/^/sources: /' "$GN_T/sources"
[ "$(wc -l < "$GN_T/sources")" -eq 3 ] && gn_ok "3 associations" || gn_fail "not 3 associations"
[ $x = yes ] && gn_ok "$FAKE (10 s ahead) is a falseticker (x)" || { gn_fail "$FAKE not marked x within 60 s"; gn_finish; }
gn_wait_sync 127.0.0.1 $SRV_PORT 60 && gn_ok "gnomond synchronised to the truechimers" \
	|| gn_fail "gnomond not synchronised"

# --- DNS learns a fourth address; the falseticker is replaced by it
printf '127.0.0.5 pool.test\n' >> "$GN_T/etc/hosts"
kill -HUP $DNSMASQ_PID
t0=$SECONDS
replaced=no
for _ in $(seq 300); do # 8 polls of 8 s, plus slack: up to 150 s
	pool_sources > "$GN_T/sources2" 2>/dev/null || true
	if ! grep -q "^$FAKE " "$GN_T/sources2" && grep -q "^127.0.0.5 " "$GN_T/sources2"; then
		replaced=yes
		break
	fi
	sleep 0.5
done
sed 's/^/sources after: /' "$GN_T/sources2"
[ $replaced = yes ] && gn_ok "$FAKE replaced by 127.0.0.5 after $((SECONDS - t0)) s" \
	|| gn_fail "$FAKE not replaced by 127.0.0.5 within 150 s"
grep -q "pool pool.test: $FAKE:$UP_PORT (association [0-9]*) is a falseticker; replacing it" \
	"$GN_T/log/gnomond.log" && gn_ok "logged as a falseticker" || gn_fail "no falseticker log line"
sleep 3
pool_sources > "$GN_T/sources3" 2>/dev/null || true
grep -q "^$FAKE " "$GN_T/sources3" && gn_fail "$FAKE came back" || gn_ok "$FAKE not used again"
[ "$(wc -l < "$GN_T/sources3")" -eq 3 ] && gn_ok "3 associations" || gn_fail "not 3 associations"
gn_alive "$GN_GNOMOND_PID" && gn_ok "gnomond still running" || gn_fail "gnomond died"
gn_finish
