#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Proves the core purity check can fail: builds a throw-away static library holding one
# object that calls clock_gettime (and one that calls sendto), points test_core_purity.sh at
# it through GNOMON_CORE_LIB, and expects a failure naming the symbol. Also checks that the
# same script passes on a library of pure code, so a failure above is not a crash.
set -euo pipefail
src=${GNOMON_SRCDIR:?GNOMON_SRCDIR must name the source tree}
check=$src/tests/system/test_core_purity.sh
cc=${CC:-cc}
command -v "$cc" >/dev/null || { echo "FAIL: no C compiler ($cc)"; exit 1; }
command -v ar >/dev/null || { echo "FAIL: ar (binutils) missing"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/pure.c" <<'EOF'
#include <string.h>
int pure_fn(char *d, const char *s, unsigned long n);
int pure_fn(char *d, const char *s, unsigned long n) { memcpy(d, s, n); return (int)strlen(d); }
EOF
cat > "$tmp/clock.c" <<'EOF'
#include <time.h>
long impure_clock(void);
long impure_clock(void) { struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts); return (long)ts.tv_sec; }
EOF
cat > "$tmp/net.c" <<'EOF'
#include <sys/socket.h>
long impure_send(int fd, const void *b, unsigned long n);
long impure_send(int fd, const void *b, unsigned long n) { return (long)sendto(fd, b, n, 0, 0, 0); }
EOF
for f in pure clock net; do
	"$cc" -O1 -c "$tmp/$f.c" -o "$tmp/$f.o"
done
ar rcs "$tmp/libpure.a" "$tmp/pure.o"
ar rcs "$tmp/libclock.a" "$tmp/pure.o" "$tmp/clock.o"
ar rcs "$tmp/libnet.a" "$tmp/pure.o" "$tmp/net.o"

# 1. A library of pure code passes.
if ! out=$(GNOMON_CORE_LIB="$tmp/libpure.a" bash "$check" 2>&1); then
	echo "FAIL: the purity check rejected pure code:"; echo "$out"; exit 1
fi
echo "pure library accepted: $out"

# 2. clock_gettime in the core is rejected, and the message names it.
for lib in clock:clock_gettime net:sendto; do
	name=${lib%%:*} sym=${lib#*:}
	if out=$(GNOMON_CORE_LIB="$tmp/lib$name.a" bash "$check" 2>&1); then
		echo "FAIL: the purity check accepted a core calling $sym:"; echo "$out"; exit 1
	fi
	if ! grep -qw "$sym" <<<"$out"; then
		echo "FAIL: the purity check failed without naming $sym:"; echo "$out"; exit 1
	fi
	echo "core calling $sym rejected, as it must be"
done
echo "purity self-test: ok"
