#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
#
# Shrinks a fuzz corpus to a small set that reaches the same code (docs/fuzzing.md).
#
#   python3 tests/fuzz/cover_merge.py FUZZER CORPUS_DIR
#
# FUZZER is a libFuzzer executable (build-fuzz/tests/fuzz_NAME). Runs it in merge mode to
# learn which coverage edges (PCs) the files reach (the merge control file): once for the
# seed-*, edge-* and crash-* files together (real inputs and named cases, always kept),
# once for every other file alone. Then adds, greedily, the file that reaches the most
# edges not yet reached, until nothing new is reached; every other file is deleted.
# libFuzzer 14's own -merge=1 takes files in size order, which keeps several times more
# files for the same edges.
import os
import subprocess
import sys
import tempfile

KEEP_PREFIXES = ("seed-", "edge-", "crash-")


def coverage(fuzzer, tmp, files):
    """The union of the edges (PC table indices) the given files reach, from one merge run."""
    d = tempfile.mkdtemp(dir=tmp)
    for f in files:
        os.symlink(os.path.abspath(f), os.path.join(d, os.path.basename(f)))
    ctl = os.path.join(d + ".control")
    empty = tempfile.mkdtemp(dir=tmp)
    subprocess.run([fuzzer, "-merge=1", "-max_len=65536", "-merge_control_file=" + ctl,
                    empty, d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    edges = set()
    for line in open(ctl).read().split("\n"):
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "COV":
            edges.update(int(x) for x in parts[2:])
    return edges


def main():
    if len(sys.argv) != 3:
        print("usage: cover_merge.py FUZZER CORPUS_DIR", file=sys.stderr)
        return 2
    fuzzer, corpus = sys.argv[1], sys.argv[2]
    names = sorted(os.listdir(corpus))
    keep = [nm for nm in names if nm.startswith(KEEP_PREFIXES)]
    rest = [nm for nm in names if not nm.startswith(KEEP_PREFIXES)]
    with tempfile.TemporaryDirectory() as tmp:
        # The merge control file lists, per file, only the edges no earlier file reached;
        # so the kept files are measured together and every other file alone.
        reached = coverage(fuzzer, tmp, [os.path.join(corpus, nm) for nm in keep])
        cov = {nm: coverage(fuzzer, tmp, [os.path.join(corpus, nm)]) for nm in rest}
    total = set(reached)
    for c in cov.values():
        total |= c
    chosen = set(keep)
    while True:
        best, gain = None, 0
        for nm in rest:
            g = len(cov[nm] - reached)
            if g > gain:
                best, gain = nm, g
        if best is None:
            break
        chosen.add(best)
        reached |= cov[best]
        rest.remove(best)
    for nm in rest:
        os.remove(os.path.join(corpus, nm))
    print("%s: kept %d of %d files, %d of %d edges" % (corpus, len(chosen), len(names),
                                                       len(reached), len(total)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
