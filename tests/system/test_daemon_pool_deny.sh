#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# A pool member that answers with a DENY kiss (RFC 5905 §7.4) is replaced (fix-up A), on
# loopback only:
#  - dnsmasq on 127.0.0.1:12820 knows `pool.test` = 127.0.0.2 .. 127.0.0.4;
#  - one small Python NTP server on those three addresses, port 12821: 127.0.0.2 and
#    127.0.0.3 answer every request with a DENY kiss (stratum 0, refid "DENY", origin
#    echoed), 127.0.0.4 as a stratum 1 server on its own clock;
#  - gnomond -n -X (no CAP_SYS_TIME), `tos minclock 1 maxclock 2`,
#    `pool pool.test port 12821 iburst minpoll 3 maxpoll 3`.
# Whichever two addresses it takes first, one at least kisses, so every address is
# mobilised in turn; within a bounded time:
#  - each denied address is replaced, logged ("... (association N) sent a DENY kiss;
#    replacing it"), and mobilised once only;
#  - `gnomonctl sources` ends with 127.0.0.4 alone, reachable: the denied associations no
#    longer count toward maxclock nor stay listed (before the fix they stayed, with their
#    kiss code, holding both places).
# Ports 12820 (DNS), 12821 (upstreams), 12822 (gnomond). Every wait is bounded; every
# process is stopped by PID on exit.
set -u
. "$(dirname "$0")/../interop/lib.sh"
. "$(dirname "$0")/dns_lib.sh"

DNS_PORT=12820
UP_PORT=12821
SRV_PORT=12822
ADDRS=(127.0.0.2 127.0.0.3 127.0.0.4)
DENIED=(127.0.0.2 127.0.0.3)
GOOD=127.0.0.4

gn_need_gnomond
gn_need_dnsmasq
[ -x "$GN_PY" ] || gn_skip "python3 missing"
gn_init pooldeny
gn_port_free $DNS_PORT $UP_PORT $SRV_PORT

# --- DNS: dnsmasq knows only pool.test
for a in "${ADDRS[@]}"; do echo "$a pool.test"; done > "$GN_T/etc/hosts"
gn_start_dnsmasq "$GN_T/etc/hosts" $DNS_PORT || gn_finish

# --- the upstreams: one process, three sockets; the DENIED ones kiss, GOOD serves
"$GN_PY" -u - "$UP_PORT" "${DENIED[*]}" "${ADDRS[@]}" > "$GN_T/log/upstreams.out" 2>&1 <<'PY' &
import select, socket, struct, sys, time
port, denied, addrs = int(sys.argv[1]), sys.argv[2].split(), sys.argv[3:]
socks = {}
for a in addrs:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a, port))
    socks[s] = a
print("listening", flush=True)
EPOCH = 2208988800
def ts(t):
    return struct.pack("!II", int(t) + EPOCH, int((t % 1) * 2**32))
end = time.monotonic() + 600
while time.monotonic() < end:
    r, _, _ = select.select(list(socks), [], [], 1.0)
    for s in r:
        q, peer = s.recvfrom(512)
        if len(q) < 48 or q[0] & 7 != 3:
            continue
        org = q[40:48]
        now = time.time()
        if socks[s] in denied:
            head = struct.pack("!BBbb", (3 << 6) | (4 << 3) | 4, 0, q[2], -20)
            p = head + b"\0" * 8 + b"DENY" + b"\0" * 8 + org + ts(now) + ts(now)
            print("DENY from", socks[s], "to", peer, flush=True)
        else:
            head = struct.pack("!BBbb", (0 << 6) | (4 << 3) | 4, 1, q[2], -20)
            p = head + struct.pack("!II", 0, 16) + b"GPS\0" + ts(now - 1) + org + ts(now) + ts(time.time())
        s.sendto(p, peer)
PY
GN_PIDS+=($!)
for _ in $(seq 50); do
	grep -q listening "$GN_T/log/upstreams.out" 2>/dev/null && break
	sleep 0.1
done
grep -q listening "$GN_T/log/upstreams.out" || { cat "$GN_T/log/upstreams.out"; gn_fail "upstreams did not start"; gn_finish; }

cat > "$GN_T/etc/gnomon.conf" <<EOF
# gnomond under test (written by test_daemon_pool_deny.sh)
port $SRV_PORT
tos minclock 1 maxclock 2
pool pool.test port $UP_PORT iburst minpoll 3 maxpoll 3
controlsocket $GN_T/run/gnomond.sock
logfile $GN_T/log/gnomond.log
pidfile $GN_T/run/gnomond.pid
EOF
export GNOMON_DNS_SERVERS=127.0.0.1:$DNS_PORT
gn_start_gnomond "$GN_T/etc/gnomon.conf"

# pool_sources: "addr reach tally kod" per association (from gnomonctl -j sources)
pool_sources() {
	gn_ctl sources | "$GN_PY" -c '
import json, sys
try:
    j = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
for s in j.get("sources", []):
    print(s.get("address"), s.get("reach"), s.get("tally") or "-", s.get("kod") or "-")
'
}

# --- wait for: GOOD alone, reachable
done_=no
for _ in $(seq 40); do # up to 20 s: the pool check runs every second (without the kiss
	# rule the dead ones would go only as "unreachable", after 8 polls: 64 s)
	pool_sources > "$GN_T/sources" 2>/dev/null || true
	if [ "$(wc -l < "$GN_T/sources")" -eq 1 ] && grep -q "^$GOOD [1-9]" "$GN_T/sources"; then
		done_=yes
		break
	fi
	sleep 0.5
done
sed 's/^/sources: /' "$GN_T/sources"
sed 's/^/upstreams: /' "$GN_T/log/upstreams.out" | head -5
[ $done_ = yes ] && gn_ok "$GOOD alone and reachable: the denied associations are gone" \
	|| gn_fail "a denied association is still listed (or $GOOD is not reachable)"
for d in "${DENIED[@]}"; do
	grep -q "DENY from $d " "$GN_T/log/upstreams.out" && gn_ok "$d was asked and kissed" \
		|| gn_fail "$d was never asked"
	grep -q "pool pool.test: $d:$UP_PORT (association [0-9]*) sent a DENY kiss; replacing it" \
		"$GN_T/log/gnomond.log" && gn_ok "$d: the replacement is logged" \
		|| gn_fail "$d: no log line for the replacement"
	[ "$(grep -c "pool pool.test: $d:$UP_PORT is association" "$GN_T/log/gnomond.log")" -eq 1 ] \
		&& gn_ok "$d mobilised once, never again" || gn_fail "$d mobilised more than once"
done
gn_alive "$GN_GNOMOND_PID" && gn_ok "gnomond still running" || gn_fail "gnomond died"
gn_finish
