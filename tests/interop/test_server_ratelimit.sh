#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# gnomond's restrict `limited kod` and MRU on loopback (issue "Restrict and rate limiting"):
#  - a client bursting 20 requests 50 ms apart: the first answered, the first drop gets a
#    RATE kiss exactly as NTPsec sends it (LI 3, VN echoed, mode 4, stratum 0, refid RATE,
#    org = rec = xmt = the request's transmit field), later drops mostly nothing, never more
#    than one kiss per 4 drops;
#  - a client elsewhere (127.0.0.5) is answered after the burst; `limited` without `kod`
#    (127.0.0.7) drops silently; a client without `limited` (127.0.0.8) is never limited;
#  - a bounded flood of 40,000 requests from 8,000 loopback source addresses against an MRU
#    of 1,000 entries: gnomond's memory (VmRSS) stays flat and an established client polling
#    every 4 s is answered throughout;
#  - gnomonctl serverstats counts the drops and the kisses.
# gnomond serves unsynchronised here (no sources): answers are LI 3 / stratum 0, which is
# enough for rate limiting.
set -u
. "$(dirname "$0")/lib.sh"

SRV_PORT=12211

gn_need_gnomond
[ -x /usr/bin/python3 ] || gn_skip "python3 missing"
gn_init ratelimit
gn_port_free $SRV_PORT

cat > "$GN_T/etc/gnomon.conf" <<EOF
# gnomond under test (written by test_server_ratelimit.sh)
port $SRV_PORT
restrict default limited kod nomodify
restrict 127.0.0.7 limited
restrict 127.0.0.8 nomodify
discard average 3 minimum 1
mru maxdepth 1000
controlsocket $GN_T/run/gnomond.sock
logfile $GN_T/log/gnomond.log
pidfile $GN_T/run/gnomond.pid
EOF

gn_start_gnomond "$GN_T/etc/gnomon.conf"
if ! gn_wait_answer 127.0.0.9 $SRV_PORT 15; then
	gn_fail "gnomond does not answer on 127.0.0.9:$SRV_PORT"
	gn_finish
fi
gn_ok "gnomond answers"

# --- a burst from 127.0.0.4 ---
out=$(gn_send 127.0.0.1 $SRV_PORT 23 --src 127.0.0.4 --count 20 --gap 0.05 --timeout 0.2)
echo "$out" | sed 's/^/burst: /'
verdicts=$(python3 - "$out" <<'PY'
import sys
lines = sys.argv[1].split()
res = []
for l in lines:
    if l == "none":
        res.append("drop"); continue
    d = bytes.fromhex(l)
    kiss = d[12:16] == b"RATE"
    if kiss:
        ok = (d[0] >> 6 == 3 and (d[0] >> 3) & 7 == 4 and d[0] & 7 == 4 and d[1] == 0
              and d[2] == 6 and d[3] == 0xec and d[16:24] == bytes(8)
              and d[24:32] == d[32:40] == d[40:48] and len(d) == 48)
        res.append("kod" if ok else "badkod")
    else:
        res.append("answer")
print(" ".join(res))
PY
)
echo "burst verdicts: $verdicts"
set -- $verdicts
[ "${1:-}" = answer ] && gn_ok "first request of the burst answered" || gn_fail "first request not answered"
first_drop=$(echo "$verdicts" | tr ' ' '\n' | grep -nv '^answer$' | head -1)
case "$first_drop" in
*:kod) gn_ok "first request over the limit got a RATE kiss in NTPsec's format" ;;
*) gn_fail "first request over the limit: ${first_drop#*:} (want a RATE kiss)" ;;
esac
nk=$(echo "$verdicts" | tr ' ' '\n' | grep -c '^kod$')
nd=$(echo "$verdicts" | tr ' ' '\n' | grep -c '^drop$')
nb=$(echo "$verdicts" | tr ' ' '\n' | grep -c '^badkod$')
[ "$nb" -eq 0 ] || gn_fail "$nb kisses not in NTPsec's format (restamped transmit field?)"
nk=$((nk + nb))
if [ "$nk" -ge 1 ] && [ "$nk" -le $(( 1 + (nk + nd) / 4 )) ]; then
	gn_ok "kisses: $nk for $((nk + nd)) requests over the limit"
else
	gn_fail "kisses: $nk for $((nk + nd)) requests over the limit (at most one per 4)"
fi
if gn_send 127.0.0.1 $SRV_PORT 23 --src 127.0.0.5 >/dev/null; then
	gn_ok "another client (127.0.0.5) answered after the burst"
else
	gn_fail "another client (127.0.0.5) not answered"
fi

# --- `limited` without `kod`: drops, never a kiss; no `limited`: never limited ---
out=$(gn_send 127.0.0.1 $SRV_PORT 23 --src 127.0.0.7 --count 10 --gap 0.05 --timeout 0.2)
n_ans=$(echo "$out" | grep -vc '^none$')
if [ "$n_ans" -eq 1 ] && ! echo "$out" | grep -q '52415445'; then
	gn_ok "limited without kod: 1 answer, then silent drops"
else
	gn_fail "limited without kod: $n_ans replies (want 1, no kiss)"
fi
out=$(gn_send 127.0.0.1 $SRV_PORT 23 --src 127.0.0.8 --count 10 --gap 0.05 --timeout 0.5)
if [ $? -eq 0 ] && ! echo "$out" | grep -q '52415445'; then
	gn_ok "a client without limited: all 10 of a burst answered"
else
	gn_fail "a client without limited was limited"
fi

# --- flood from many loopback sources, an established client beside it ---
rss() { awk '/^VmRSS/ {print $2}' "/proc/$GN_GNOMOND_PID/status" 2>/dev/null; }
gn_send 127.0.0.1 $SRV_PORT 23 --src 127.0.0.6 --count 2 --gap 4.1 >/dev/null   # establish
rss0=$(rss)
gn_send 127.0.0.1 $SRV_PORT 23 --src 127.0.0.6 --count 6 --gap 4.1 --timeout 0.5 \
	> "$GN_T/log/established.out" &
est=$!
timeout 120 python3 - $SRV_PORT <<'PY'
# 8,000 source addresses 127.1.x.y, 5 requests each, paced at about 4,000/s. One short-lived
# socket per request, so the open-file limit (1024 on many CI machines) does not matter.
import socket, sys, time
port = int(sys.argv[1])
t0 = time.monotonic(); n = 0; errors = 0
for rnd in range(5):
    for i in range(8000):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.1.%d.%d" % (i // 250, 1 + i % 250), 0))
            s.sendto(b"\x23\x00\x06\xec" + bytes(36) + i.to_bytes(8, "big"), ("127.0.0.1", port))
        except OSError:
            errors += 1
        finally:
            s.close()
        n += 1
        if n % 400 == 0:
            time.sleep(0.1)
print("flood: %d requests in %.1f s, %d send errors" % (n, time.monotonic() - t0, errors))
sys.exit(1 if errors > n // 100 else 0)
PY
flood_rc=$?
[ $flood_rc -eq 0 ] || gn_fail "the flood generator failed (rc $flood_rc)"
wait $est
est_rc=$?
rss1=$(rss)
cat "$GN_T/log/established.out" | sed 's/^/established: /'
if [ $est_rc -eq 0 ]; then
	gn_ok "the established client was answered through the flood"
else
	gn_fail "the established client missed answers during the flood"
fi
echo "VmRSS before ${rss0:-?} kB, after ${rss1:-?} kB"
if [ -n "$rss0" ] && [ -n "$rss1" ] && [ $((rss1 - rss0)) -le 256 ]; then
	gn_ok "memory flat through the flood (+$((rss1 - rss0)) kB)"
else
	gn_fail "memory grew during the flood: ${rss0:-?} -> ${rss1:-?} kB"
fi

# --- counters ---
if [ -n "${GNOMONCTL:-}" ] && [ -x "$GNOMONCTL" ]; then
	if gn_serverstats; then
		kod=$(gn_stat kod_sent) rate=$(gn_stat rate) unt=$(gn_stat mru_untracked) ent=$(gn_stat mru_entries)
		if [ "$kod" -ge "$nk" ] && [ "$kod" -ge 1 ] && [ "$rate" -ge "$nd" ] && [ "$ent" -le 1000 ] &&
		   [ "$ent" -ge 1 ] && [ "$unt" -ge 1 ]; then
			gn_ok "gnomonctl serverstats: $kod kisses, $rate rate drops, $ent clients tracked, $unt untracked"
		else
			gn_fail "serverstats: kod_sent $kod rate $rate mru_entries $ent mru_untracked $unt"
		fi
	else
		gn_fail "gnomonctl serverstats failed"
	fi
fi

gn_alive "$GN_GNOMOND_PID" && gn_ok "gnomond still running" || gn_fail "gnomond died"
gn_finish
