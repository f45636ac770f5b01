#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The server's answers leave with DF set and IPv4 ID 0 (IP_PMTUDISC_PROBE on the server
# socket, src/os/net_linux.c): no spoofed ICMP can make gnomond fragment an answer, and
# the kernel skips its shared IP ID generator. The answer's IPv4 header is read off the
# loopback device with an AF_PACKET socket (needs root, or CAP_NET_RAW: skipped without,
# a failure under CI as root). Ports 13970-13979.
set -euo pipefail
. "$(dirname "$0")/daemon_lib.sh"

if ! python3 -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)' 2>/dev/null; then
	[ "${CI:-}" = true ] && [ "$(id -u)" -eq 0 ] && fail "no AF_PACKET socket as root"
	echo "SKIP: reading the answer's IP header needs CAP_NET_RAW"
	exit 77
fi

cat >"$tmp/g.conf" <<CONF
port 13970
server 127.0.0.1 port 13971 iburst
controlsocket $tmp/ctl.sock
restrict default
CONF
start_daemon -c "$tmp/g.conf"
wait_for "[ -S $tmp/ctl.sock ]" 10 || fail "the daemon did not start"

python3 - <<'PY' || fail "the answers' IPv4 headers are not as they should be"
import socket, struct, sys, time
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
raw.bind(("lo", 0))
raw.settimeout(2.0)
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.bind(("127.0.0.1", 13972))
c.settimeout(2.0)
seen = 0
for i in range(3):
    c.sendto(bytes([0x23]) + bytes(47), ("127.0.0.1", 13970))   # v4 client request
    data, _ = c.recvfrom(100)
    assert len(data) == 48 and data[0] & 7 == 4, "no answer"
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        ip = raw.recv(2000)[14:]
        if ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        sport, dport = struct.unpack("!HH", ip[20:24])
        if (sport, dport) != (13970, 13972):
            continue
        ident, frag = struct.unpack("!HH", ip[4:8])
        if not frag & 0x4000:
            sys.exit("answer without DF")
        if ident != 0:
            sys.exit("answer with IP ID %d" % ident)
        seen += 1
        break
if seen != 3:
    sys.exit("saw %d of 3 answers on lo" % seen)
PY
stop_daemon TERM
[ "$stop_status" -eq 0 ] || fail "exit status $stop_status"
echo "PASS"
