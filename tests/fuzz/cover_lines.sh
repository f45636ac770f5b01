#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Line coverage of the core by one fuzz target's corpus (docs/fuzzing.md), with clang's
# source-based coverage (llvm-cov). Builds the target's replayer and the core with
# -fprofile-instr-generate -fcoverage-mapping (no sanitizers, no CMake) into DIR, replays
# the corpus (MUTATIONS seeded mutations of each file, default 0), and prints the
# per-function line coverage of FILE (a core source, default src/core/eng.c), or of the
# named functions only.
#
#   tests/fuzz/cover_lines.sh [-d DIR] [-m MUTATIONS] [-f FILE] [-s TARGET_SRC] NAME [FUNC...]
#
#   NAME          the target (eng, pkt, ...): tests/fuzz/fuzz_NAME.c, tests/fuzz/corpus/NAME
#   -d DIR        build directory (default build-cover)
#   -m N          seeded mutations per corpus file, as the replay test (default 0)
#   -f FILE       the core source to report (default src/core/eng.c)
#   -s SRC        the target's source instead of tests/fuzz/fuzz_NAME.c (e.g. an older
#                 version, to compare: git show HEAD:tests/fuzz/fuzz_eng.c > /tmp/old.c)
#   -c DIR        the corpus directory instead of tests/fuzz/corpus/NAME
#   FUNC          report these functions only (static ones too)
#
# Needs clang, llvm-profdata and llvm-cov (Debian 12: clang, llvm). Uses one CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=build-cover
muts=0
file=src/core/eng.c
src=
corpus=
while getopts "d:m:f:s:c:h" o; do
	case $o in
	d) dir=$OPTARG ;;
	m) muts=$OPTARG ;;
	f) file=$OPTARG ;;
	s) src=$OPTARG ;;
	c) corpus=$OPTARG ;;
	*) sed -n 3,21p "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { sed -n 3,21p "$0"; exit 2; }
name=$1
shift
[ -n "$src" ] || src=tests/fuzz/fuzz_$name.c
[ -n "$corpus" ] || corpus=tests/fuzz/corpus/$name

mkdir -p "$dir"
flags=(-std=gnu11 -O1 -g -fprofile-instr-generate -fcoverage-mapping -ffp-contract=off
       -DGNOMON_VERSION=\"cover\" -Iinclude/core -Itests/fuzz)
objs=()
for c in src/core/*.c; do
	o=$dir/$(basename "${c%.c}").o
	if [ ! -f "$o" ] || [ "$c" -nt "$o" ] || [ include/core -nt "$o" ]; then
		clang "${flags[@]}" -c "$c" -o "$o"
	fi
	objs+=("$o")
done
clang "${flags[@]}" "$src" tests/fuzz/replay_main.c "${objs[@]}" -lm -o "$dir/fuzz_${name}_cover"
rm -f "$dir"/*.profraw
LLVM_PROFILE_FILE="$dir/run-%p.profraw" "$dir/fuzz_${name}_cover" -m "$muts" "$corpus" >/dev/null
llvm-profdata merge -sparse "$dir"/*.profraw -o "$dir/$name.profdata"
# per function: name, lines, missed, cover
llvm-cov report -show-functions "$dir/fuzz_${name}_cover" -instr-profile="$dir/$name.profdata" \
	"$file" >"$dir/$name-functions.txt"
if [ $# -eq 0 ]; then
	cat "$dir/$name-functions.txt"
else
	# the header, then the named functions (llvm-cov names a static function FILE:NAME)
	awk -v want=" $* " 'NR <= 3 || /^-+$/ { print; next }
		{ n = $1; sub(/^.*:/, "", n); if (index(want, " " n " ")) print }' \
		"$dir/$name-functions.txt"
fi
echo "profile: $dir/$name.profdata; lines: llvm-cov show $dir/fuzz_${name}_cover -instr-profile=$dir/$name.profdata $file"
