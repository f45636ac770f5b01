# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
#
# A DNS server for the name tests (sourced after tests/interop/lib.sh, not a test itself):
# dnsmasq (Debian dnsmasq-base) on a loopback high port that knows only what the test
# writes into a hosts file (--no-resolv --no-hosts --addn-hosts, --local=/test/ so it
# never forwards), with no cache, so a SIGHUP after rewriting the file changes its answers
# at once. gnomond's c-ares is pointed at it with GNOMON_DNS_SERVERS (a testing aid,
# docs/leap-dns-drift.md). Used by test_daemon_pool*.sh, test_daemon_nodns.sh and
# test_daemon_rename.sh.

# gn_need_dnsmasq: sets DNSMASQ; installs dnsmasq-base as root when it is missing, skips
# (exit 77; a failure under CI=true as root) when that is impossible.
gn_need_dnsmasq() {
	DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
	if [ ! -x "$DNSMASQ" ]; then
		[ "$(id -u)" -eq 0 ] && apt-get install -y dnsmasq-base >/dev/null 2>&1
		[ -x /usr/sbin/dnsmasq ] || gn_skip "dnsmasq not installed (Debian dnsmasq-base)"
		DNSMASQ=/usr/sbin/dnsmasq
	fi
}

# gn_need_dns_test: what the name tests need besides gnomond: chronyd as the upstream
# (installed by scripts/install-interop.sh as root), dnsmasq and python3; skips (a failure
# under CI=true as root) when one cannot be had.
gn_need_dns_test() {
	command -v chronyd >/dev/null 2>&1 || {
		[ "$(id -u)" -eq 0 ] && bash "${GNOMON_SRCDIR:?}/scripts/install-interop.sh" >/dev/null 2>&1
		command -v chronyd >/dev/null 2>&1 || gn_skip "chronyd not installed (scripts/install-interop.sh)"
	}
	gn_need_dnsmasq
	[ -x "$GN_PY" ] || gn_skip "python3 missing"
}

# gn_udp_listening ADDR:PORT: something listens there (UDP).
gn_udp_listening() {
	ss -Hlun 2>/dev/null | awk '{print $4}' | grep -qxF "$1"
}

# gn_start_dnsmasq HOSTS PORT [NAME]: dnsmasq on 127.0.0.1:PORT answering from the hosts
# file HOSTS (re-read on SIGHUP), without CAP_SYS_TIME, stopped by the lib's cleanup; its
# log in $GN_T/log/NAME.log (NAME defaults to dnsmasq). Waits (<= 10 s) until it listens.
# Sets GN_DNSMASQ_PID; status 1 (and one gn_fail) if it does not come up.
gn_start_dnsmasq() {
	local hosts=$1 port=$2 name=${3:-dnsmasq}
	# shellcheck disable=SC2046 # --user=root or nothing
	"${GN_NOCLK[@]}" "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--addn-hosts="$hosts" --local=/test/ --listen-address=127.0.0.1 --bind-interfaces \
		--port="$port" --pid-file="$GN_T/run/$name.pid" --log-facility="$GN_T/log/$name.log" \
		--cache-size=0 $([ "$(id -u)" -eq 0 ] && echo --user=root) >"$GN_T/log/$name.out" 2>&1 &
	GN_DNSMASQ_PID=$!
	GN_PIDS+=("$GN_DNSMASQ_PID")
	for _ in $(seq 100); do
		gn_udp_listening "127.0.0.1:$port" && return 0
		sleep 0.1
	done
	gn_fail "dnsmasq ($name) not listening on 127.0.0.1:$port"
	return 1
}
