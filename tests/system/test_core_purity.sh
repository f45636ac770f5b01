#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The core must stay pure (docs/architecture.md): no system calls, no clock, no I/O.
# Every symbol the core's objects need from outside the core must be on the allow-list
# tests/system/core-allowed-symbols.txt (pure libc and libm functions, compiler and
# sanitizer runtime). Adding clock_gettime, sendmsg, fopen, ... to the core fails here.
set -euo pipefail
lib=${GNOMON_CORE_LIB:?GNOMON_CORE_LIB must name libgnomon_core.a}
allow=${GNOMON_SRCDIR:?}/tests/system/core-allowed-symbols.txt
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Symbols defined anywhere in the core (one module may call another).
nm --defined-only --format=posix "$lib" 2>/dev/null | awk 'NF>=2 && $2 ~ /^[TDBRWVtdbrwvC]$/ {print $1}' | sort -u > "$tmp/defined"
nm --undefined-only --format=posix "$lib" 2>/dev/null | awk 'NF>=2 {print $1}' | sort -u > "$tmp/undef"
comm -23 "$tmp/undef" "$tmp/defined" > "$tmp/external"
grep -v '^#' "$allow" | awk 'NF {print $1}' | sort -u > "$tmp/allow"

bad=()
while read -r sym; do
  case "$sym" in
    __asan_*|__ubsan_*|__sanitizer_*|__lsan_*|_GLOBAL_OFFSET_TABLE_|__stack_chk_fail) continue ;;
  esac
  base=${sym%%@*}
  grep -qxF "$base" "$tmp/allow" || bad+=("$base")
done < "$tmp/external"

n=$(wc -l < "$tmp/external")
if [ ${#bad[@]} -gt 0 ]; then
  echo "FAIL: the core references symbols outside its allow-list (system calls, I/O or clocks?):"
  printf '  %s\n' "${bad[@]}"
  echo "If a symbol is a pure function, add it to $allow with a reason; otherwise move the call to src/os."
  exit 1
fi
# The check must be able to fail: a symbol we know is forbidden must not be on the list.
for forbidden in clock_gettime clock_adjtime sendmsg recvmsg poll open fopen malloc_trim time gettimeofday; do
  if grep -qxF "$forbidden" "$tmp/allow"; then
    echo "FAIL: $forbidden must never be on the core's allow-list"; exit 1
  fi
done
echo "core purity: $n external symbols, all allowed"
