#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The cost of one answer in instructions: gnomond against chronyd, counted by valgrind
# (--tool=callgrind), so that the comparison does not depend on a noisy shared machine.
# For each server: run it under callgrind twice with the same timeline (start, wait until
# it answers, then L seconds, then SIGTERM): once idle, once while ntpload sends N requests
# from 10,000 client addresses (one request each) at a modest rate. Instructions per answer =
# (instructions of the loaded run - instructions of the idle run) / answers.
# Counts user-space instructions of the server process only (not the kernel's work).
# Same configurations as the benchmark's "open" case (client log on, no rate limit), or
# with --limited its rate-limited case: then almost every request is dropped, and the count
# is instructions per request read (the cost of dropping; 200 clients, 50 requests each).
#
# Usage: scripts/bench-callgrind.sh [--build DIR] [--no-build] [-n N] [--servers LIST]
#                                   [--limited]
#   -n N       requests in the loaded run (default 10000)
#   --rate R   requests per second (default 2000; at 20000 and more valgrind's slowness
#              fills every receive batch, as at saturation)
#   --servers  comma list of chronyd,gnomond (default both)
# Needs root (network namespace), valgrind, chronyd. Takes about 1-2 minutes.
set -euo pipefail
{ # read the whole script before running it (safe against edits during a run)
cd "$(dirname "$0")/.."
src=$(pwd)
build=build-bench do_build=yes n=10000 rate=2000 servers=chronyd,gnomond limited=no
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift ;;
	--no-build) do_build=no ;;
	-n) n=$2; shift ;;
	--rate) rate=$2; shift ;;
	--servers) servers=$2; shift ;;
	--limited) limited=yes ;;
	-h|--help) sed -n '3,22p' "$0"; exit 0 ;;
	*) echo "bench-callgrind: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
die() { echo "bench-callgrind: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "needs root (network namespace)"
for t in ip taskset setpriv valgrind chronyd cc make; do
	command -v $t >/dev/null || die "$t not found"
done
tools="$src/$build/bench-tools"
mkdir -p "$tools"
make -s -C tools/ntpload O="$tools" >/dev/null
if [ $do_build = yes ]; then
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j 2 --target gnomond >/dev/null
fi
chronyd=$(command -v chronyd)
gnomond=$src/$build/gnomond

w=$src/$build/callgrind-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$w"
ns=gnbenchcg$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.2
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns"
X="ip netns exec $ns"
$X ip link set lo up
$X ip addr add 127.0.0.2/8 dev lo
NOCLK="setpriv --bounding-set=-sys_time --inh-caps=-sys_time"

cat > "$w/upstream.conf" <<EOF
port 12402
bindaddress 127.0.0.2
cmdport 0
local stratum 1
allow all
pidfile $w/upstream.pid
EOF
$X taskset -c 1 $NOCLK "$chronyd" -x -n -u root -f "$w/upstream.conf" -l "$w/upstream.log" &
pids+=($!)

cat > "$w/chronyd.conf" <<EOF
port 12403
bindaddress 127.0.0.1
cmdport 0
local stratum 10
allow all
pidfile $w/chronyd.pid
EOF
cat > "$w/gnomond.conf" <<EOF
port 12401
server 127.0.0.2 port 12402 iburst minpoll 3 maxpoll 4
controlsocket $w/gnomond.sock
EOF
if [ $limited = yes ]; then   # as tools/ntpload/bench.py's "limited" configuration
	printf 'ratelimit interval 3 burst 8 leak 2\nclientloglimit 4194304\n' >> "$w/chronyd.conf"
	printf 'mru maxmem 4096\ndiscard average 3 minimum 1\nlimit burst 8 kod 3\n%s\n' \
		'restrict default limited kod nomodify nopeer noquery' >> "$w/gnomond.conf"
	what=request
	clients=200   # 50 requests each at 10/s: far over both limits after the first few
else
	printf 'mru maxmem 512\nrestrict default\n' >> "$w/gnomond.conf"
	what=answer
	clients=10000   # one request each, like a pool server's many slow clients
fi

settle=$((n / rate + 2))   # the load's duration and then some

# run SERVER MODE(idle|load) -> writes "instructions answers" to $w/SERVER-MODE.res
run() {
	local s=$1 mode=$2 port cmd out=$w/$1-$2.callgrind
	case $s in
	chronyd) port=12403; cmd=("$chronyd" -x -n -u root -f "$w/chronyd.conf" -l "$w/chronyd-$mode.log") ;;
	gnomond) port=12401; cmd=("$gnomond" -n -X --no-sandbox -c "$w/gnomond.conf") ;;
	esac
	$X taskset -c 0 $NOCLK valgrind --tool=callgrind --callgrind-out-file="$out" \
		"${cmd[@]}" >"$w/$s-$mode.out" 2>&1 &
	local vp=$!
	pids+=($vp)
	local ok=no i
	for i in $(seq 150); do   # each probe from an address of its own (rate limits)
		if $X "$tools/ntpload" -j -p $port -n 1 -t 0.3 -w 0.3 -S 127.2.0.$i 127.0.0.1 |
			grep -q '"valid":1,'; then ok=yes; break; fi
		sleep 0.2
	done
	[ $ok = yes ] || { kill $vp; die "$s did not answer under valgrind (see $w/$s-$mode.out)"; }
	local answers=0 t0
	t0=$(date +%s%N)
	if [ "$mode" = load ]; then
		local j
		j=$($X taskset -c 1 "$tools/ntpload" -j -p $port -r $rate -n "$n" -t $((settle + 5)) \
			-w 1 -S 127.1.0.1 -a $clients 127.0.0.1) || { kill $vp; die "$s: ntpload failed"; }
		echo "$j" > "$w/$s-load.json"
		# answers, or with --limited the requests the server read (sent - kernel drops)
		answers=$(echo "$j" | python3 -c 'import json,sys; j=json.load(sys.stdin)
print(j["matched"] if sys.argv[1] == "no" else j["sent"] - max(0, j["udp_rcvbuf_errors"]))' $limited)
	fi
	# both runs last settle + 1 s after the server first answered
	local left_ms=$(( (settle + 1) * 1000 - ($(date +%s%N) - t0) / 1000000 ))
	[ $left_ms -gt 0 ] && sleep "$(printf '%d.%03d' $((left_ms / 1000)) $((left_ms % 1000)))"
	kill -TERM $vp 2>/dev/null || echo "bench-callgrind: $s ($mode) ended before SIGTERM" >&2
	wait $vp || true
	local ir
	ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$out")
	[ -n "$ir" ] || die "$s ($mode): no instruction count in $out"
	echo "$ir $answers" > "$w/$s-$mode.res"
}

printf '%-8s %16s %16s %10s %14s\n' server "Ir idle" "Ir loaded" "${what}s" "Ir per $what"
declare -A per
for s in ${servers//,/ }; do
	run "$s" idle
	run "$s" load
	read -r ir0 _ < "$w/$s-idle.res"
	read -r ir1 ans < "$w/$s-load.res"
	[ "${ans:-0}" -gt 0 ] || die "$s: no ${what}s in the loaded run"
	per[$s]=$(( (ir1 - ir0) / ans ))
	printf '%-8s %16s %16s %10s %14s\n' "$s" "$ir0" "$ir1" "$ans" "${per[$s]}"
done
if [ -n "${per[gnomond]:-}" ] && [ -n "${per[chronyd]:-}" ]; then
	python3 -c "import sys; print('gnomond / chronyd instructions per %s: %.2f' % (sys.argv[3], int(sys.argv[1]) / int(sys.argv[2])))" \
		"${per[gnomond]}" "${per[chronyd]}" "$what"
fi
echo "callgrind files in $w (callgrind_annotate FILE shows where the instructions go)"
exit
}
