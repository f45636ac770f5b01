#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# gnomond as a server for real clients, on loopback high ports (issue "Answers"):
#  - an upstream chronyd (`local stratum 1`, 127.0.0.1:12202) synchronises gnomond
#    (-X: its software clock; no CAP_SYS_TIME), which serves on :12201;
#  - NTPsec ntpdig (through the port shim) gets a usable answer (stratum 2);
#  - `chronyd -Q -t 5 "server 127.0.0.1 port 12201 iburst maxsamples 1"` succeeds;
#  - raw requests of VN 1..4 (and VN1 mode 0) are answered with the version echoed, org =
#    our transmit field, 48 octets; VN 0, 5, 6, 7, modes 4, 5 and 7, a request with a MAC
#    and a short datagram get nothing;
#  - `restrict 127.0.0.2 ignore`: nothing for that source, 127.0.0.3 is answered;
#  - the server counters (gnomonctl serverstats) saw the drops.
set -u
. "$(dirname "$0")/lib.sh"

SRV_PORT=12201
UP_PORT=12202

gn_need_gnomond
gn_need_peers
gn_init clients
gn_port_free $SRV_PORT $UP_PORT

cat > "$GN_T/etc/gnomon.conf" <<EOF
# gnomond under test (written by test_server_clients.sh)
port $SRV_PORT
server 127.0.0.1 port $UP_PORT iburst minpoll 3 maxpoll 3
restrict default nomodify
restrict 127.0.0.2 ignore
controlsocket $GN_T/run/gnomond.sock
logfile $GN_T/log/gnomond.log
pidfile $GN_T/run/gnomond.pid
EOF

gn_start_chronyd_server up 127.0.0.1 $UP_PORT || gn_finish
gn_start_gnomond "$GN_T/etc/gnomon.conf"

if ! gn_wait_answer 127.0.0.1 $SRV_PORT 15; then
	gn_fail "gnomond does not answer on 127.0.0.1:$SRV_PORT (alive: $(gn_alive "$GN_GNOMOND_PID" && echo yes || echo no))"
	gn_finish
fi
gn_ok "gnomond answers on 127.0.0.1:$SRV_PORT"

t0=$SECONDS
if gn_wait_sync 127.0.0.1 $SRV_PORT 120; then
	gn_ok "gnomond synchronised to the chronyd upstream after $((SECONDS - t0)) s"
else
	gn_fail "gnomond not synchronised after 120 s (ntpdig and chronyd -Q refuse an unsynchronised server)"
fi
# Right after synchronising the root dispersion is still large (the clock filter's empty
# stages count MAXDISP, RFC 5905 §10), and chronyd refuses a source whose root distance is
# above 3 s: wait until it is below 1 s, as a client would.
t0=$SECONDS
if gn_wait_sync 127.0.0.1 $SRV_PORT 120 1.0; then
	gn_ok "root distance below 1 s after $((SECONDS - t0)) s more"
else
	gn_fail "root distance still above 1 s after 120 s"
fi

# --- NTPsec ntpdig ---
out=$(gn_ntpdig $SRV_PORT 127.0.0.1 2>&1)
rc=$?
echo "ntpdig: $out"
if [ $rc -eq 0 ] && echo "$out" | grep -q ' s2 '; then
	gn_ok "ntpdig got a usable stratum 2 answer"
else
	gn_fail "ntpdig rc=$rc"
fi

# --- chronyd -Q ---
out=$(gn_chronyd_q 127.0.0.1 $SRV_PORT)
rc=$?
echo "$out" | sed 's/^/chronyd -Q: /'
if [ $rc -eq 0 ] && echo "$out" | grep -q 'System clock wrong by'; then
	gn_ok "chronyd -Q measured gnomond"
else
	gn_fail "chronyd -Q rc=$rc"
fi

# --- raw requests: versions 1..4 answered, version echoed ---
for first in 0b 13 1b 23 e3 08; do
	r=$(gn_send 127.0.0.1 $SRV_PORT $first)
	if [ $? -ne 0 ]; then
		gn_fail "request $first: no answer"
		continue
	fi
	want_vn=$(( (0x$first >> 3) & 7 ))
	vn=$(gn_field "$r" vn) mode=$(gn_field "$r" mode) len=$(gn_field "$r" len) st=$(gn_field "$r" stratum)
	if [ "$vn" = "$want_vn" ] && [ "$mode" = 4 ] && [ "$len" = 48 ] && [ "$st" -ge 1 ] && [ "$st" -le 15 ]; then
		gn_ok "request $first: answer VN $vn mode 4, stratum $st"
	else
		gn_fail "request $first: answer VN $vn mode $mode len $len stratum $st (want VN $want_vn mode 4)"
	fi
done

# --- nothing for VN 0, 5, 6, 7, modes 4/5/7, a MAC, a short datagram ---
for first in 03 2b 33 3b 27 17 24 25; do
	if r=$(gn_send 127.0.0.1 $SRV_PORT $first); then
		gn_fail "request $first got an answer: $r"
	else
		gn_ok "request $first: no answer"
	fi
done
if r=$(gn_send 127.0.0.1 $SRV_PORT 23 --len 68); then
	gn_fail "a request with a MAC got an answer: $r"
else
	gn_ok "a request with a MAC (68 octets): no answer"
fi
if r=$(gn_send 127.0.0.1 $SRV_PORT 23 --len 47); then
	gn_fail "a 47-octet request got an answer: $r"
else
	gn_ok "a 47-octet request: no answer"
fi

# --- restrict ---
if r=$(gn_send 127.0.0.1 $SRV_PORT 23 --src 127.0.0.2); then
	gn_fail "127.0.0.2 (restrict ignore) got an answer: $r"
else
	gn_ok "127.0.0.2 (restrict ignore): no answer"
fi
if gn_send 127.0.0.1 $SRV_PORT 23 --src 127.0.0.3 >/dev/null; then
	gn_ok "127.0.0.3 (default): answered"
else
	gn_fail "127.0.0.3 (default): no answer"
fi

# --- IPv6 loopback, where the host has it ---
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; then
	if r=$(gn_send ::1 $SRV_PORT 23); then
		gn_ok "::1: answered (VN $(gn_field "$r" vn), stratum $(gn_field "$r" stratum))"
	else
		gn_fail "::1: no answer"
	fi
	out=$(gn_ntpdig $SRV_PORT ::1 2>&1)
	rc=$?
	echo "ntpdig ::1: $out"
	if [ $rc -eq 0 ] && echo "$out" | grep -q ' s2 '; then
		gn_ok "ntpdig over IPv6 got a usable stratum 2 answer"
	else
		gn_fail "ntpdig ::1 rc=$rc"
	fi
fi

# --- counters ---
if [ -n "${GNOMONCTL:-}" ] && [ -x "$GNOMONCTL" ]; then
	if gn_serverstats; then
		rcv=$(gn_stat received) ans=$(gn_stat answer) ver=$(gn_stat version)
		mode=$(gn_stat mode) res=$(gn_stat restrict) auth=$(gn_stat auth) mal=$(gn_stat malformed)
		# at least what this script sent: 6 + 1 (+1 ::1) answered here, 4 versions,
		# modes 7, 7 and 5 (a mode 4 packet on the server socket is discarded by the
		# engine before srv sees it), 1 MAC, 1 short, 1 restricted
		if [ "$ans" -ge 7 ] && [ "$ver" -ge 4 ] && [ "$mode" -ge 3 ] && [ "$res" -ge 1 ] &&
		   [ "$auth" -ge 1 ] && [ "$mal" -ge 1 ] && [ "$rcv" -ge $((ans + ver + mode + res + auth + mal)) ]; then
			gn_ok "gnomonctl serverstats counts answers and drops by reason"
		else
			gn_fail "serverstats: received $rcv answer $ans version $ver mode $mode restrict $res auth $auth malformed $mal"
		fi
	else
		gn_fail "gnomonctl serverstats failed"
	fi
fi

gn_alive "$GN_GNOMOND_PID" && gn_ok "gnomond still running" || gn_fail "gnomond died"
gn_finish
