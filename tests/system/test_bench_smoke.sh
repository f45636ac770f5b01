#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The server benchmark's machinery in its quickest form: scripts/bench-server.sh against
# the bare echo server only (no chronyd, no gnomond, no SCHED_FIFO), two low offered rates
# and one as fast as possible, in a network namespace of its own. Asserts that the load
# generator and the echo server agree: every answer matched its request, nothing invalid,
# almost nothing lost at 2,000 requests/s, and a sane as-fast-as-possible rate.
# Needs root (network namespace); takes about 15 s.
set -euo pipefail
src=${GNOMON_SRCDIR:?}
build=${GNOMON_BUILDDIR:?}
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root for a network namespace"
	exit 77
fi
for t in ip taskset python3 cc make; do
	command -v $t >/dev/null || { echo "FAIL: $t not found"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rc=0
timeout 120 bash "$src/scripts/bench-server.sh" --quick --no-rt --servers echo --configs open \
	--build "$build" --out "$tmp/out" --rates 2000,5000 --ref-rate 2000 \
	>"$tmp/log" 2>&1 || rc=$?
if [ $rc -ne 0 ]; then
	echo "FAIL: bench-server.sh exited with $rc"
	cat "$tmp/log"
	exit 1
fi
grep -q '^| echo |' "$tmp/log" || { echo "FAIL: no table row for echo"; cat "$tmp/log"; exit 1; }

python3 - "$tmp/out" <<'PY'
import json, sys
d = sys.argv[1]
rows = [json.loads(l) for l in open(d + "/results.jsonl")]
summ = json.load(open(d + "/summary.json"))
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
check(len(rows) == 3, f"3 steps (2000, 5000, max), got {len(rows)}")
for r in rows:
    check(r["server"] == "echo", "only the echo server ran")
    check(r["invalid"] == 0, f"step {r['offered']}: {r['invalid']} invalid answers")
    check(r["matched"] <= r["sent"], f"step {r['offered']}: more answers than requests")
    check(r["matched"] > 0, f"step {r['offered']}: no answers")
low = [r for r in rows if r["offered"] == 2000]
check(low and low[0]["sent"] >= 1000, "at least 1000 requests sent in 1 s at 2000/s")
check(low and low[0]["loss_pct"] < 5.0, f"loss at 2000/s under 5 % (got {low and low[0]['loss_pct']})")
afap = [r for r in rows if r["offered"] == 0]
check(afap and afap[0]["response_rate"] > 2000,
      f"as fast as possible > 2000 answers/s (got {afap and afap[0]['response_rate']})")
e = summ["results"].get("echo/open", {})
check(e.get("afap", 0) > 2000, f"summary: as-fast-as-possible rate recorded (got {e.get('afap')})")
check(e.get("hwm_kb", 0) > 0, "summary: RSS recorded")
check((e.get("cpu_us") or 0) > 0, "summary: CPU per answer recorded")
if bad:
    print("FAIL: " + "; ".join(bad))
    sys.exit(1)
print(f"OK: echo {e['best']} req/s under 1 % loss (ladder 2000,5000), "
      f"{e['afap']:.0f} answers/s as fast as possible")
PY
