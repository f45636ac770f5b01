#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# No DNS server (issue "Pool, leap seconds and the real world's surprises": "with no DNS
# server the daemon keeps running and says so once"), on loopback only:
#  - gnomond -n -d -X (no CAP_SYS_TIME) with a numeric upstream (a chronyd with
#    `local stratum 1` on 127.0.0.1:12770), a `pool pool.test` and a `server ntp.test`
#    line, c-ares pointed (GNOMON_DNS_SERVERS, a testing aid) at 127.0.0.1:12772 where
#    nothing listens;
#  - it synchronises to the numeric upstream and serves time to a client (a mode 3 request
#    answered synchronised) while both names keep failing;
#  - DNS is retried with backoff (attempt 3 of each name is seen), and the failure is
#    logged exactly once ("DNS unavailable"), not once per name or per attempt;
#  - `gnomonctl sources` shows only the numeric association;
#  - then a DNS server appears there (dnsmasq): at the next retry "DNS works again" is
#    logged once and the pool's and the server's names become associations.
# Ports 12770 (upstream), 12771 (gnomond), 12772 (DNS). Every wait is bounded; every
# process is stopped by PID on exit.
set -u
. "$(dirname "$0")/../interop/lib.sh"
. "$(dirname "$0")/dns_lib.sh"

UP_PORT=12770
SRV_PORT=12771
DNS_PORT=12772

gn_need_gnomond
gn_need_dns_test
gn_init nodns
gn_port_free $UP_PORT $SRV_PORT $DNS_PORT

gn_start_chronyd_server up 127.0.0.1 $UP_PORT || gn_finish

cat > "$GN_T/etc/gnomon.conf" <<EOF
# gnomond under test (written by test_daemon_nodns.sh)
port $SRV_PORT
server 127.0.0.1 port $UP_PORT iburst minpoll 3 maxpoll 3
pool pool.test port $UP_PORT iburst
server ntp.test port $UP_PORT iburst
controlsocket $GN_T/run/gnomond.sock
pidfile $GN_T/run/gnomond.pid
EOF
LOG=$GN_T/log/gnomond.out
GNOMON_DNS_SERVERS=127.0.0.1:$DNS_PORT "${GN_NOCLK[@]}" "$GNOMOND" -n -d -X -c "$GN_T/etc/gnomon.conf" \
	> "$LOG" 2>&1 &
GN_GNOMOND_PID=$!
GN_PIDS+=($GN_GNOMOND_PID)

# --- keeps serving
t0=$SECONDS
if gn_wait_sync 127.0.0.1 $SRV_PORT 120; then
	gn_ok "synchronised to the numeric upstream and serving after $((SECONDS - t0)) s, DNS down"
else
	gn_fail "not serving synchronised time within 120 s"
	gn_finish
fi

# --- retried with backoff, said once
t0=$SECONDS
wait_log() { # PATTERN SECONDS
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		grep -q "$1" "$LOG" && return 0
		gn_alive "$GN_GNOMOND_PID" || return 1
		sleep 0.2
	done
	return 1
}
for name in pool.test ntp.test; do
	wait_log "DNS: resolving $name (attempt 3)" 60 || gn_fail "no third attempt for $name within 60 s"
done
gn_ok "both names retried (attempt 3 after $((SECONDS - t0)) s more)"
n=$(grep -c 'DNS unavailable' "$LOG" || true)
[ "$n" -eq 1 ] && gn_ok "the DNS failure logged once: $(grep 'DNS unavailable' "$LOG" | head -1)" \
	|| gn_fail "'DNS unavailable' logged $n times, want 1"
gn_alive "$GN_GNOMOND_PID" && gn_ok "gnomond still running" || gn_fail "gnomond died"
gn_probe_sync 127.0.0.1 $SRV_PORT && gn_ok "still serving synchronised time" \
	|| gn_fail "no synchronised answer while DNS is down"
n=$(gn_ctl sources | "$GN_PY" -c 'import json,sys; print(len(json.load(sys.stdin)["sources"]))' 2>/dev/null || echo -1)
[ "$n" -eq 1 ] && gn_ok "one association (the numeric one)" || gn_fail "$n associations, want 1"

# --- DNS comes back: said once, names mobilised at the next retry
printf '127.0.0.2 pool.test\n127.0.0.3 pool.test\n127.0.0.4 ntp.test\n' > "$GN_T/etc/hosts"
gn_start_dnsmasq "$GN_T/etc/hosts" $DNS_PORT || gn_finish
t0=$SECONDS
wait_log 'DNS works again' 90 && gn_ok "'DNS works again' after $((SECONDS - t0)) s" \
	|| gn_fail "no 'DNS works again' within 90 s"
for a in 127.0.0.2 127.0.0.3 127.0.0.4; do
	wait_log "$a:$UP_PORT is association" 90 || gn_fail "$a never mobilised"
done
sleep 1
n=$(grep -c 'DNS works again' "$LOG" || true)
[ "$n" -eq 1 ] || gn_fail "'DNS works again' logged $n times, want 1"
n=$(grep -c 'DNS unavailable' "$LOG" || true)
[ "$n" -eq 1 ] || gn_fail "'DNS unavailable' logged $n times in all, want 1"
n=$(gn_ctl sources | "$GN_PY" -c 'import json,sys; print(len(json.load(sys.stdin)["sources"]))' 2>/dev/null || echo -1)
[ "$n" -eq 4 ] && gn_ok "4 associations once DNS answers (1 numeric, 2 pool, 1 named server)" \
	|| gn_fail "$n associations, want 4"
gn_alive "$GN_GNOMOND_PID" && gn_ok "gnomond still running" || gn_fail "gnomond died"
gn_finish
