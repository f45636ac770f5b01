#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# gnomond as a client of a real NTPsec ntpd (issue "synchronization engine", interop
# done-when). NTPsec ntpd only uses port 123 and binds every address of its network
# namespace (docs: interop recipe §0.2-0.3), so this script re-runs itself inside a fresh
# namespace gncli-ntpsec-<pid> (loopback up, deleted on exit). There, ntpd in orphan mode
# (`tos orphan 1 orphanwait 1`: synchronised stratum 1, refid LOOP; `disable ntp`,
# `disable kernel`, no `limited`, no CAP_SYS_TIME) serves 127.0.0.1:123, and
# `gnomond -n -X` on 127.0.0.1:12611 uses `server 127.0.0.1 iburst minpoll 3 maxpoll 6`.
# Both run on the same system clock. gn_client_check (lib.sh) asserts:
#  - `gnomonctl sources` marks ntpd '*' within 30 s of gnomond's start, `status` says
#    synchronised with it as sys_peer;
#  - `status` stratum = ntpd's stratum (from its own reply) + 1, as served;
#  - |offset| < 1 ms in `status` and `sources` within 120 s, and an external NTP client
#    measures gnomond's clock within 1 ms of ntpd's; all of that still holds 30 s later.
# Needs root (namespaces); under CI=true as root it never skips. Takes about 40-45 s.
set -u
. "$(dirname "$0")/lib.sh"

GN_PORT=12611

if [ -z "${GN_NETNS:-}" ]; then
	gn_need_gnomond
	[ -n "${GNOMONCTL:-}" ] && [ -x "$GNOMONCTL" ] || gn_skip "GNOMONCTL not set or not executable"
	gn_need_peers
	gn_netns_run gncli-ntpsec "$0" "$@"
fi

# --- inside the namespace $GN_NETNS ---
gn_log "in network namespace $GN_NETNS"
gn_init cli-ntpsec
gn_start_ntpsec_server up || gn_finish

cat > "$GN_T/etc/gnomon.conf" <<CONF
# gnomond under test (written by test_client_ntpsec.sh); no driftfile
port $GN_PORT
server 127.0.0.1 iburst minpoll 3 maxpoll 6
controlsocket $GN_T/run/gnomond.sock
logfile $GN_T/log/gnomond.log
pidfile $GN_T/run/gnomond.pid
CONF

GN_CLIENT_T0=$(gn_now)
gn_start_gnomond "$GN_T/etc/gnomon.conf"
gn_client_check 127.0.0.1 123 $GN_PORT
echo "figures (NTPsec ntpd): ${GN_FIGURES:-none}"
grep -E "\\[(notice|warning|err)" "$GN_T/log/gnomond.log" | head -n 20 | sed "s/^/gnomond.log: /"
gn_finish
