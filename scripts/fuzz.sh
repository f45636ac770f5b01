#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Builds the libFuzzer targets of tests/fuzz with clang and runs each for a while, adding
# the inputs that reach new code to its corpus (tests/fuzz/corpus/NAME). docs/fuzzing.md.
#
#   scripts/fuzz.sh [-t SECONDS] [-b BUILDDIR] [-M] [-- LIBFUZZER_ARGS...] [TARGET...]
#
#   -t SECONDS  run time of each target (default 60)
#   -b DIR      build directory (default build-fuzz)
#   -M          afterwards, shrink the corpus (tests/fuzz/cover_merge.py): keep the named
#               seed-*/edge-*/crash-* files and a small set of the others that reaches the
#               same coverage edges; delete the rest
#   TARGET      pkt, cfg, auth, mac, json, srv, leap, eng (default: every tests/fuzz/fuzz_*.c)
#
# Crashes are written to BUILDDIR/artifacts/NAME/ (crash-*, leak-*, timeout-*); reproduce
# one with BUILDDIR/tests/fuzz_NAME FILE, or with the ordinary build's fuzz_NAME_replay.
# Single process (no -jobs/-workers): the machines this runs on are small and shared.
# Needs clang and libFuzzer (Debian 12: clang and libclang-rt-14-dev); if libFuzzer is
# missing and we are root, that package is installed here (an optional step, not part of
# scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=60
dir=build-fuzz
merge=0
extra=()
targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	-t) secs=$2; shift 2 ;;
	-b) dir=$2; shift 2 ;;
	-M) merge=1; shift ;;
	--) shift; while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do extra+=("$1"); shift; done ;;
	-h|--help) sed -n "3,22p" "$0"; exit 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		n=${f##*/fuzz_}
		targets+=("${n%.c}")
	done
fi

command -v clang >/dev/null || { echo "fuzz.sh: clang not found (apt-get install clang)" >&2; exit 1; }

# Does clang link a libFuzzer program? If not, try the Debian package that ships it.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/t.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/t.c" -o "$probe/t" 2>/dev/null; then
	ver=$(clang -dumpversion | cut -d. -f1)
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
		echo "fuzz.sh: libFuzzer missing; installing libclang-rt-$ver-dev"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "libclang-rt-$ver-dev"
		clang -fsanitize=fuzzer,address,undefined "$probe/t.c" -o "$probe/t"
	else
		echo "fuzz.sh: clang cannot link libFuzzer: install libclang-rt-$ver-dev" >&2
		exit 1
	fi
fi

cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DGNOMON_FUZZ=ON -DGNOMON_WERROR=ON >/dev/null
cmake --build "$dir" -j 2 --target $(printf 'fuzz_%s ' "${targets[@]}")

# Longest input worth trying per target: datagrams are at most 1024 octets; text files
# are a few KB (a leap-seconds.list is ~5 KB).
max_len() {
	case "$1" in
	pkt|mac|srv) echo 1100 ;;
	leap) echo 12000 ;;
	*) echo 8192 ;;
	esac
}

status=0
for t in "${targets[@]}"; do
	corpus=tests/fuzz/corpus/$t
	art=$dir/artifacts/$t
	mkdir -p "$corpus" "$art"
	dict=()
	[ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
	echo "=== fuzz_$t: $secs s, corpus $corpus ($(ls "$corpus" | wc -l) files)"
	if ! "$dir/tests/fuzz_$t" -max_total_time="$secs" -max_len="$(max_len "$t")" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/" "${dict[@]}" "${extra[@]}" "$corpus"; then
		echo "=== fuzz_$t: FAILED, reproducer in $art/" >&2
		status=1
	fi
	if [ "$merge" -eq 1 ]; then
		# Keep seed-*/edge-*/crash-* files and a greedy set of the others that reaches
		# every edge the whole directory reaches (tests/fuzz/cover_merge.py).
		python3 tests/fuzz/cover_merge.py "$dir/tests/fuzz_$t" "$corpus"
	fi
done
exit $status
