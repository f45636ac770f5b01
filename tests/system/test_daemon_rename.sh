#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# A `server NAME` whose address stops answering is re-resolved (issue 6: "names on
# server/peer lines resolve the same way [as pool]"), on loopback only:
#  - chronyd (`local stratum 1`, -x, no CAP_SYS_TIME) on 127.0.0.11, .12 and .13, port
#    13101;
#  - gnomond A (-n -X, no CAP_SYS_TIME, port 13103): `server ntp.test port 13101 iburst
#    minpoll 3 maxpoll 3`, c-ares pointed (GNOMON_DNS_SERVERS) at dnsmasq A on
#    127.0.0.1:13100 where ntp.test = 127.0.0.11;
#  - gnomond B (port 13104): the same line, dnsmasq B on 127.0.0.1:13102 where
#    ntp.test = 127.0.0.13.
# Both become reachable. Then, at once: dnsmasq A is told ntp.test = 127.0.0.12 (hosts file
# rewritten, SIGHUP); dnsmasq B is stopped (no DNS for B); the chronyd on .11 and .13 stop.
#  - A: after 4 silent polls (pool.h POOL_RENAME_POLLS x 8 s) it asks DNS again, gets .12
#    and moves: `gnomonctl sources` shows 127.0.0.12 reachable, named ntp.test, and no
#    127.0.0.11, within 70 s; the move is logged;
#  - B: asks DNS again on the same rule; DNS fails ("DNS unavailable" logged once); its
#    association with 127.0.0.13 stays, the same one, for as long as DNS is down;
#  - then .13's chronyd comes back: B logs that it answers again (the question is dropped)
#    and keeps the same association, reachable.
# Ports 13100 (DNS A), 13101 (upstreams), 13102 (DNS B), 13103 (gnomond A), 13104
# (gnomond B). Every wait is bounded; every process is stopped by PID on exit.
set -u
. "$(dirname "$0")/../interop/lib.sh"
. "$(dirname "$0")/dns_lib.sh"

DNS_A=13100
UP_PORT=13101
DNS_B=13102
SRV_A=13103
SRV_B=13104
OLD=127.0.0.11
NEW=127.0.0.12
B_ADDR=127.0.0.13

gn_need_gnomond
gn_need_dns_test
gn_init rename
gn_port_free $DNS_A $UP_PORT $DNS_B $SRV_A $SRV_B

# --- DNS: one dnsmasq per daemon
echo "$OLD ntp.test" > "$GN_T/etc/hosts-a"
echo "$B_ADDR ntp.test" > "$GN_T/etc/hosts-b"
gn_start_dnsmasq "$GN_T/etc/hosts-a" $DNS_A dnsmasq-a || gn_finish
DNSMASQ_A=$GN_DNSMASQ_PID
gn_start_dnsmasq "$GN_T/etc/hosts-b" $DNS_B dnsmasq-b || gn_finish
DNSMASQ_B=$GN_DNSMASQ_PID

# --- upstreams
declare -A UP_PID
for a in $OLD $NEW $B_ADDR; do
	gn_start_chronyd_server "up-${a##*.}" "$a" $UP_PORT || gn_finish
	UP_PID[$a]=${GN_PIDS[-1]}
done

# --- the two daemons
declare -A GN_PID
for d in a b; do
	port=$SRV_A dns=$DNS_A
	[ $d = b ] && port=$SRV_B dns=$DNS_B
	cat > "$GN_T/etc/gnomon-$d.conf" <<EOF
# gnomond $d under test (written by test_daemon_rename.sh)
port $port
server ntp.test port $UP_PORT iburst minpoll 3 maxpoll 3
controlsocket $GN_T/run/gnomond-$d.sock
logfile $GN_T/log/gnomond-$d.log
pidfile $GN_T/run/gnomond-$d.pid
EOF
	GNOMON_DNS_SERVERS=127.0.0.1:$dns "${GN_NOCLK[@]}" "$GNOMOND" -n -X -c "$GN_T/etc/gnomon-$d.conf" \
		> "$GN_T/log/gnomond-$d.out" 2>&1 &
	GN_PID[$d]=$!
	GN_PIDS+=($!)
done

# srcs a|b: "address reach assoc_id name port" per association
srcs() {
	timeout 10 "$GNOMONCTL" -s "$GN_T/run/gnomond-$1.sock" -j sources 2>/dev/null | "$GN_PY" -c '
import json, sys
try:
    j = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
for s in j.get("sources", []):
    print(s.get("address"), s.get("reach"), s.get("assoc_id"), s.get("name"), s.get("port"))
'
}
# reachable a|b ADDR: ADDR is listed with reach != 0
reachable() { srcs "$1" 2>/dev/null | awk -v a="$2" '$1 == a && $2 != 0 {f = 1} END {exit !f}'; }
logf() { echo "$GN_T/log/gnomond-$1.log"; }

ok_a=no ok_b=no
for _ in $(seq 60); do
	reachable a $OLD && ok_a=yes
	reachable b $B_ADDR && ok_b=yes
	[ $ok_a = yes ] && [ $ok_b = yes ] && break
	sleep 0.5
done
[ $ok_a = yes ] && gn_ok "A: ntp.test is $OLD, reachable" || gn_fail "A: $OLD not reachable within 30 s"
[ $ok_b = yes ] && gn_ok "B: ntp.test is $B_ADDR, reachable" || gn_fail "B: $B_ADDR not reachable within 30 s"
[ "$GN_FAILS" -eq 0 ] || gn_finish
B_ID=$(srcs b | awk -v a=$B_ADDR '$1 == a {print $3}')

# --- the world changes: A's name moves, B's DNS goes away, both old servers stop
echo "$NEW ntp.test" > "$GN_T/etc/hosts-a"
kill -HUP "$DNSMASQ_A"
kill -TERM "$DNSMASQ_B"
kill -TERM "${UP_PID[$OLD]}" "${UP_PID[$B_ADDR]}"
t0=$SECONDS
gn_log "ntp.test now $NEW for A; B's DNS stopped; chronyd on $OLD and $B_ADDR stopped"
for _ in $(seq 50); do
	gn_udp_listening "127.0.0.1:$DNS_B" || break
	sleep 0.1
done
gn_udp_listening "127.0.0.1:$DNS_B" && gn_fail "dnsmasq B still listening"

moved=no
for _ in $(seq 140); do # 4 polls of 8 s after the last answer, plus slack: up to 70 s
	srcs a > "$GN_T/sources-a" 2>/dev/null || true
	if [ "$(wc -l < "$GN_T/sources-a")" -eq 1 ] && awk -v a=$NEW '$1 == a && $2 != 0' "$GN_T/sources-a" | grep -q .; then
		moved=yes
		break
	fi
	sleep 0.5
done
t_move=$((SECONDS - t0))
sed 's/^/A sources after: /' "$GN_T/sources-a"
if [ $moved = yes ]; then
	gn_ok "A moved to $NEW (reachable, the only association) $t_move s after $OLD stopped"
else
	gn_fail "A: not moved to $NEW within 70 s"
fi
grep -q "^$OLD " "$GN_T/sources-a" && gn_fail "A: $OLD still listed" || gn_ok "A: $OLD gone"
awk -v a=$NEW -v p=$UP_PORT '$1 == a && $4 == "ntp.test" && $5 == p' "$GN_T/sources-a" | grep -q . \
	&& gn_ok "A: the new association is ntp.test, port $UP_PORT (the line's options)" \
	|| gn_fail "A: the new association is not named ntp.test:$UP_PORT"
# not at once: the rule waits for 4 silent polls (>= 32 s after the last answer, which
# came at most a poll and a burst gap before the stop)
[ $moved = no ] || [ $t_move -ge 20 ] && gn_ok "A: not moved before the silence window" \
	|| gn_fail "A: moved after $t_move s, before 4 silent polls could pass"
grep -q "server ntp.test: $OLD:$UP_PORT (association [0-9]*) has not answered for [0-9]* s (4 polls); asking DNS again" "$(logf a)" \
	&& gn_ok "A: the question is logged" || gn_fail "A: no 'asking DNS again' log line"
grep -q "server ntp.test: $OLD:$UP_PORT (association [0-9]*) does not answer and DNS now gives $NEW:$UP_PORT; replacing it" "$(logf a)" \
	&& gn_ok "A: the move is logged" || gn_fail "A: no 'replacing it' log line"
grep -q "server ntp.test: $NEW:$UP_PORT is association" "$(logf a)" \
	&& gn_ok "A: $NEW mobilised" || gn_fail "A: no 'is association' line for $NEW"

# --- B: asked, DNS down, association kept
asked=no
for _ in $(seq 40); do
	grep -q "server ntp.test: $B_ADDR:$UP_PORT (association $B_ID) has not answered .*asking DNS again" "$(logf b)" && { asked=yes; break; }
	sleep 0.5
done
[ $asked = yes ] && gn_ok "B: asked DNS again after the silence window" \
	|| gn_fail "B: never asked DNS again"
for _ in $(seq 40); do # the failure comes back at once (port unreachable) or by c-ares's timeout
	grep -q 'DNS unavailable' "$(logf b)" && break
	sleep 0.5
done
sleep 6 # a retry (5 s after the first failure) fails too
n=$(grep -c 'DNS unavailable' "$(logf b)" || true)
[ "$n" -eq 1 ] && gn_ok "B: 'DNS unavailable' logged once" || gn_fail "B: 'DNS unavailable' logged $n times, want 1"
srcs b > "$GN_T/sources-b" 2>/dev/null || true
sed 's/^/B sources while DNS is down: /' "$GN_T/sources-b"
[ "$(wc -l < "$GN_T/sources-b")" -eq 1 ] && awk -v a=$B_ADDR -v id="$B_ID" '$1 == a && $3 == id' "$GN_T/sources-b" | grep -q . \
	&& gn_ok "B: association $B_ID with $B_ADDR kept while DNS is down" \
	|| gn_fail "B: association $B_ID with $B_ADDR not kept"

# --- B's server comes back: the question is dropped, the association stays
gn_start_chronyd_server "up-${B_ADDR##*.}" "$B_ADDR" $UP_PORT || gn_finish
back=no
for _ in $(seq 60); do
	grep -q "server ntp.test: $B_ADDR:$UP_PORT answers again" "$(logf b)" && reachable b $B_ADDR && { back=yes; break; }
	sleep 0.5
done
[ $back = yes ] && gn_ok "B: $B_ADDR answers again, logged, reachable" \
	|| gn_fail "B: no 'answers again' within 30 s of $B_ADDR's return"
srcs b > "$GN_T/sources-b2" 2>/dev/null || true
[ "$(wc -l < "$GN_T/sources-b2")" -eq 1 ] && awk -v id="$B_ID" '$3 == id' "$GN_T/sources-b2" | grep -q . \
	&& gn_ok "B: still association $B_ID, the only one" || gn_fail "B: association changed: $(cat "$GN_T/sources-b2")"
grep -q 'replacing it' "$(logf b)" && gn_fail "B: replaced an association" || true

for d in a b; do
	gn_alive "${GN_PID[$d]}" && gn_ok "gnomond $d still running" || gn_fail "gnomond $d died"
done
gn_finish
