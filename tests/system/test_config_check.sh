#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# `gnomond -t -c FILE` on every shipped configuration (conf/*.conf) and every real-world
# style file (tests/data/conf/*.conf): exit 0 and "configuration OK". On every broken file
# (tests/data/conf-broken/*.conf): exit 1 and the exact "file:line:column: error: ..." that
# the file's first line ("# expect: ...") names. Never starts the daemon.
set -euo pipefail
gnomond=${GNOMOND:?GNOMOND must name the gnomond binary}
src=${GNOMON_SRCDIR:?}
data=${GNOMON_TEST_DATA:-$src/tests/data}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

fail=0; n=0
for f in "$src"/conf/*.conf "$data"/conf/*.conf; do
  n=$((n+1))
  rc=0; "$gnomond" -t -c "$f" >"$tmp/out" 2>"$tmp/err" || rc=$?
  if [ "$rc" -ne 0 ] || ! grep -qx "configuration OK" "$tmp/out"; then
    echo "FAIL: $f: exit $rc, expected 0 and 'configuration OK'"; cat "$tmp/err" "$tmp/out"; fail=1
  fi
  if grep -q ": error:" "$tmp/err"; then
    echo "FAIL: $f: errors reported on a valid file"; cat "$tmp/err"; fail=1
  fi
done

for f in "$data"/conf-broken/*.conf; do
  n=$((n+1))
  expect=$(head -n1 "$f" | sed -n 's/^# expect: //p')
  if [ -z "$expect" ]; then echo "FAIL: $f has no '# expect:' first line"; fail=1; continue; fi
  rc=0; "$gnomond" -t -c "$f" >"$tmp/out" 2>"$tmp/err" || rc=$?
  if [ "$rc" -ne 1 ]; then echo "FAIL: $f: exit $rc, expected 1"; cat "$tmp/err"; fail=1; fi
  if ! grep -qF -- "$expect" "$tmp/err"; then
    echo "FAIL: $f: expected '$expect' in:"; cat "$tmp/err"; fail=1
  fi
  if grep -q "configuration OK" "$tmp/out"; then echo "FAIL: $f: said 'configuration OK'"; fail=1; fi
done

# A file that does not exist is an error too.
rc=0; "$gnomond" -t -c "$tmp/missing.conf" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: missing file: exit $rc, expected 1"; fail=1; }

[ "$fail" -eq 0 ] || exit 1
echo "config check: $n files as expected"
