#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The server benchmark in one command: gnomond beside chronyd and a bare echo server (the
# ceiling), on loopback inside a network namespace this script creates and removes.
# Builds the load generator (tools/ntpload), the echo server (tools/echo) and gnomond,
# then runs tools/ntpload/bench.py: servers pinned to CPU 0, the generator to CPU 1, both
# SCHED_FIFO; 10,000 client addresses; a ladder of offered rates and one as fast as
# possible; two configurations (client log on and no rate limit; a realistic rate limit);
# three interleaved repetitions; medians. Prints the table and the ratios.
# Method and results: docs/performance.md.
#
# Usage: scripts/bench-server.sh [--quick] [--build DIR] [--servers LIST] [--configs LIST]
#                                [--reps N] [--no-rt] [--no-build] [--out DIR]
#   --quick        one repetition, 1 s steps, a short ladder, no MRU scale check (~1-2 min)
#   --servers      comma list of echo,chronyd,gnomond (default all three)
#   --configs      comma list of open,limited (default both)
#   --no-rt        no SCHED_FIFO (e.g. in a test suite running beside other tests)
#   --build DIR    gnomond's build tree (default build-bench); tools go to DIR/bench-tools
#   --no-build     use DIR/gnomond as it is
#   --out DIR      results (default DIR/bench-YYYYmmdd-HHMMSS)
# Other options are passed to bench.py (e.g. --rates 100000,200000 --step 1.5).
# Needs root (network namespace, SCHED_FIFO), chronyd, taskset, chrt, setpriv, python3.
# Bounded: every step is a few seconds; the full run takes about 7-10 minutes.
set -euo pipefail
{ # read the whole script before running it (safe against edits during a run)
cd "$(dirname "$0")/.."
src=$(pwd)

build=build-bench quick=no rt=10 do_build=yes out="" servers=echo,chronyd,gnomond
configs=open,limited reps=3
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=yes ;;
	--build) build=$2; shift ;;
	--servers) servers=$2; shift ;;
	--configs) configs=$2; shift ;;
	--reps) reps=$2; shift ;;
	--no-rt) rt=0 ;;
	--no-build) do_build=no ;;
	--out) out=$2; shift ;;
	-h|--help) sed -n '3,24p' "$0"; exit 0 ;;
	*) extra+=("$1") ;;
	esac
	shift
done

die() { echo "bench-server: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "needs root (network namespace, SCHED_FIFO)"
for t in ip taskset chrt setpriv python3 cc make; do
	command -v $t >/dev/null || die "$t not found"
done
case ",$servers," in
*,chronyd,*|*,gnomond,*) command -v chronyd >/dev/null ||
	die "chronyd not found (apt-get install chrony; gnomond's upstream is a chronyd too)" ;;
esac
chronyd=$(command -v chronyd || true)

case $build in /*) bdir=$build ;; *) bdir=$src/$build ;; esac
tools="$bdir/bench-tools"
mkdir -p "$tools"
make -s -C tools/ntpload O="$tools" >/dev/null
make -s -C tools/echo O="$tools" >/dev/null
if [[ ",$servers," == *,gnomond,* ]]; then
	if [ $do_build = yes ]; then
		cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
		cmake --build "$build" -j 2 --target gnomond >/dev/null
	fi
	[ -x "$bdir/gnomond" ] || die "$bdir/gnomond not built"
fi

out=${out:-$bdir/bench-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# RT throttling: by default a SCHED_FIFO task may take only 950 ms of each second
# (kernel.sched_rt_runtime_us), so a server or generator that is busy the whole time is
# stopped for 50 ms every second, and the ladder measures those stops (which also make
# the generator skip requests) rather than speed. Lifted for the run, restored after.
rt_runtime=/proc/sys/kernel/sched_rt_runtime_us
rt_saved=""
if [ "$rt" != 0 ] && [ -w $rt_runtime ]; then
	rt_saved=$(cat $rt_runtime)
	echo -1 > $rt_runtime
fi

ns=gnbench$$
cleanup() {
	[ -n "$rt_saved" ] && echo "$rt_saved" > $rt_runtime || true
	# processes left in the namespace are ours (bench.py normally stopped them already)
	local pids
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	[ -n "$pids" ] && kill $pids 2>/dev/null || true
	sleep 0.2
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip addr add 127.0.0.2/8 dev lo   # the upstream chronyd's own address

# the ceiling gets the receive buffer gnomond asks for (include/os/os_net.h), so that the
# loss criterion compares speed, not buffer sizes
rcvbuf=$(sed -n 's/^#define OS_NET_RCVBUF_BYTES (\([0-9 *]*\)).*/\1/p' include/os/os_net.h 2>/dev/null)
rcvbuf=$(( ${rcvbuf:-1048576} ))
args=(--netns "$ns" --echo-rcvbuf "$rcvbuf" --work "$out" --ntpload "$tools/ntpload" --ntpecho "$tools/ntpecho"
      --chronyd "$chronyd" --gnomond "$bdir/gnomond" --servers "$servers"
      --configs "$configs" --reps "$reps" --rt "$rt")
if [ $quick = yes ]; then
	args+=(--reps 1 --step 1 --rates 50000,150000,250000,350000 --ref-rate 50000
	       --mru-clients 0)
fi
echo "bench-server: namespace $ns, results in $out"
python3 tools/ntpload/bench.py "${args[@]}" "${extra[@]}"
exit
}
