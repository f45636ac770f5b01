#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# `pool NAME` in the real daemon (issue "Pool, leap seconds and the real world's surprises"),
# on loopback only:
#  - dnsmasq on 127.0.0.1:12753 (--no-resolv --no-hosts) knows `pool.test` = five A records,
#    127.0.0.2 .. 127.0.0.6, and gnomond's c-ares is pointed at it with the testing aid
#    GNOMON_DNS_SERVERS (docs/leap-dns-drift.md);
#  - five chronyd (`local stratum 1`, -x, no CAP_SYS_TIME) answer NTP on those addresses,
#    port 12760;
#  - gnomond -n -X (no CAP_SYS_TIME) with `tos maxclock 3` and
#    `pool pool.test port 12760 iburst minpoll 3 maxpoll 3`:
#      * `gnomonctl sources` shows exactly 3 associations, all from pool.test, all distinct,
#        and they become reachable;
#      * the chronyd behind one of them is stopped: once it stays unreachable the
#        association is demobilised and replaced by an address DNS gave that was not in use;
#        there are again 3 associations, the stopped address is not among them;
#      * no address was ever mobilised twice (the log's "is association N" lines).
# Ports 12753 (DNS), 12760 (upstreams), 12761 (gnomond). Every wait is bounded; every
# process is stopped by PID on exit.
set -u
. "$(dirname "$0")/../interop/lib.sh"
. "$(dirname "$0")/dns_lib.sh"

DNS_PORT=12753
UP_PORT=12760
SRV_PORT=12761
ADDRS=(127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6)

gn_need_gnomond
gn_need_dns_test
gn_init pool
gn_port_free $DNS_PORT $UP_PORT $SRV_PORT

# --- DNS: dnsmasq knows only pool.test
for a in "${ADDRS[@]}"; do echo "$a pool.test"; done > "$GN_T/etc/hosts"
gn_start_dnsmasq "$GN_T/etc/hosts" $DNS_PORT || gn_finish

# --- five upstreams
declare -A UP_PID
for a in "${ADDRS[@]}"; do
	gn_start_chronyd_server "up-${a##*.}" "$a" $UP_PORT || gn_finish
	UP_PID[$a]=${GN_PIDS[-1]}
done

cat > "$GN_T/etc/gnomon.conf" <<EOF
# gnomond under test (written by test_daemon_pool.sh)
port $SRV_PORT
tos maxclock 3
pool pool.test port $UP_PORT iburst minpoll 3 maxpoll 3
controlsocket $GN_T/run/gnomond.sock
logfile $GN_T/log/gnomond.log
pidfile $GN_T/run/gnomond.pid
EOF
export GNOMON_DNS_SERVERS=127.0.0.1:$DNS_PORT
gn_start_gnomond "$GN_T/etc/gnomon.conf"

# pool_sources: "addr reach tally" per association (from gnomonctl -j sources)
pool_sources() {
	gn_ctl sources | "$GN_PY" -c '
import json, sys
try:
    j = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
for s in j.get("sources", []):
    print(s.get("address"), s.get("reach"), s.get("tally") or "-", s.get("name"), s.get("port"))
'
}

# --- several associations, all reachable
n=0
for _ in $(seq 60); do
	pool_sources > "$GN_T/sources" 2>/dev/null || true
	n=$(awk '$2 != 0' "$GN_T/sources" | wc -l)
	[ "$n" -ge 3 ] && break
	sleep 0.5
done
sed 's/^/sources: /' "$GN_T/sources"
total=$(wc -l < "$GN_T/sources")
[ "$total" -eq 3 ] && gn_ok "pool.test gave 3 associations (tos maxclock 3)" \
	|| gn_fail "$total associations, want 3 (tos maxclock 3)"
[ "$n" -eq 3 ] && gn_ok "all 3 reachable" || gn_fail "$n of them reachable, want 3"
[ "$(awk '{print $1}' "$GN_T/sources" | sort -u | wc -l)" -eq "$total" ] \
	&& gn_ok "all distinct" || gn_fail "an address is used twice"
awk '$4 != "pool.test" || $5 != '$UP_PORT' {bad=1} END {exit bad}' "$GN_T/sources" \
	&& gn_ok "named pool.test, port $UP_PORT" || gn_fail "an association is not pool.test:$UP_PORT"
[ "$GN_FAILS" -eq 0 ] || gn_finish

# --- stop the upstream behind the first association: it is replaced
victim=$(awk 'NR == 1 {print $1}' "$GN_T/sources")
kill -TERM "${UP_PID[$victim]}"
t0=$SECONDS
gn_log "stopped the chronyd on $victim"
replaced=no
for _ in $(seq 300); do # 8 polls of 8 s, plus slack: up to 150 s
	pool_sources > "$GN_T/sources2" 2>/dev/null || true
	if ! grep -q "^$victim " "$GN_T/sources2" && [ "$(awk '$2 != 0' "$GN_T/sources2" | wc -l)" -eq 3 ]; then
		replaced=yes
		break
	fi
	sleep 0.5
done
sed 's/^/sources after: /' "$GN_T/sources2"
if [ $replaced = yes ]; then
	gn_ok "$victim replaced after $((SECONDS - t0)) s; 3 reachable associations again"
else
	gn_fail "$victim not replaced within 150 s"
fi
new=$(awk '{print $1}' "$GN_T/sources2" | grep -vxF -f <(awk '{print $1}' "$GN_T/sources") || true)
[ -n "$new" ] && gn_ok "the new association is $new, not used before" || gn_fail "no new address in use"
grep -q "pool pool.test: $victim:$UP_PORT (association [0-9]*) is unreachable; replacing it" \
	"$GN_T/log/gnomond.log" && gn_ok "the replacement is logged" || gn_fail "no log line for the replacement"

# --- no address mobilised twice
dups=$(grep -o 'pool pool.test: [0-9.]*:[0-9]* is association' "$GN_T/log/gnomond.log" | sort | uniq -d)
[ -z "$dups" ] && gn_ok "no address mobilised twice" || gn_fail "mobilised twice: $dups"
gn_alive "$GN_GNOMOND_PID" && gn_ok "gnomond still running" || gn_fail "gnomond died"
gn_finish
