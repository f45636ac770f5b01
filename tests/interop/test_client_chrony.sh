#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# gnomond as a client of a real chronyd (issue "synchronization engine", interop done-when):
# a chronyd with `local stratum 1` (no CAP_SYS_TIME, -x) serves on 127.0.0.1:12601;
# `gnomond -n -X` (software clock, no CAP_SYS_TIME) with
# `server 127.0.0.1 port 12601 iburst minpoll 3 maxpoll 6` serves on :12602.
# Both run on the same system clock, where gnomond's software clock starts. So that the
# software clock has something to converge to, chronyd first serves its clock shifted by
# GN_CHRONY_SHIFT_S (default +0.05 s, below the 0.128 s step threshold: gnomond has to slew;
# 0 = no shift): `manual` + `chronyc settime` move only chronyd's own idea of the time
# under -x (lib.sh gn_chronyd_shift), never the system clock. gn_client_check (lib.sh)
# asserts:
#  - `gnomonctl sources` marks the chronyd '*' within 30 s of gnomond's start, `status`
#    says synchronised with it as sys_peer;
#  - `status` stratum = chronyd's stratum (from chronyd's own reply) + 1, as served;
#  - |offset| < 1 ms in `status` and `sources` within 120 s, and an external NTP client
#    measures gnomond's clock within 1 ms of chronyd's (offset to gnomond minus offset to
#    chronyd); all of that still holds 30 s later.
# Ports 12601-12602. Takes about 35-45 s.
set -u
. "$(dirname "$0")/lib.sh"

UP_PORT=12601
GN_PORT=12602
SHIFT_S=${GN_CHRONY_SHIFT_S:-0.05}

gn_need_gnomond
[ -n "${GNOMONCTL:-}" ] && [ -x "$GNOMONCTL" ] || gn_skip "GNOMONCTL not set or not executable"
gn_need_peers
command -v chronyc >/dev/null 2>&1 || gn_skip "chronyc missing (package chrony)"
gn_init cli-chrony
gn_port_free $UP_PORT $GN_PORT

gn_start_chronyd_server up 127.0.0.1 $UP_PORT manual "bindcmdaddress $GN_T/run/up.sock" || gn_finish
if awk -v x="$SHIFT_S" 'BEGIN {exit !(x > 0)}'; then
	if gn_chronyd_shift "$GN_T/run/up.sock" "$SHIFT_S" 127.0.0.1 $UP_PORT; then
		gn_ok "chronyd serves the system clock $(gn_us "$GN_UP_OFFSET") ahead (asked: +$SHIFT_S s)"
	else
		gn_fail "could not shift chronyd's clock by +$SHIFT_S s (measured: ${GN_UP_OFFSET:-nothing})"
		gn_finish
	fi
else
	GN_UP_OFFSET=$(gn_offset 127.0.0.1 $UP_PORT)
	gn_log "chronyd serves the system clock, offset $(gn_us "${GN_UP_OFFSET:-0}")"
fi

cat > "$GN_T/etc/gnomon.conf" <<CONF
# gnomond under test (written by test_client_chrony.sh); no driftfile
port $GN_PORT
server 127.0.0.1 port $UP_PORT iburst minpoll 3 maxpoll 6
controlsocket $GN_T/run/gnomond.sock
logfile $GN_T/log/gnomond.log
pidfile $GN_T/run/gnomond.pid
CONF

GN_CLIENT_T0=$(gn_now)
gn_start_gnomond "$GN_T/etc/gnomon.conf"
gn_client_check 127.0.0.1 $UP_PORT $GN_PORT
echo "figures (chronyd, $(gn_us "${GN_UP_OFFSET:-0}") from the system clock): ${GN_FIGURES:-none}"
grep -E "\\[(notice|warning|err)" "$GN_T/log/gnomond.log" | head -n 20 | sed "s/^/gnomond.log: /"
gn_finish
