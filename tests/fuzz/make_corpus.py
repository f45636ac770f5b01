#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
#
# Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/NAME/seed-*) from real
# inputs in the tree, plus hand-made edge cases. Deterministic: running it again rewrites
# the same files. Files libFuzzer added (named by their SHA-1, no "seed-" prefix) and
# crash reproducers (crash-*) are left alone.
#
#   python3 tests/fuzz/make_corpus.py        (from anywhere)
#
# Sources: tests/data/vectors/*.json payloads (pkt, mac, srv), conf/ and tests/data/conf*/
# (cfg), tests/data/vectors/keys (auth), tests/data/leap (leap), control requests as
# gnomonctl sends them (json), and for eng scripted runs built from vector answers: sync,
# kiss, peers, clients, and the disturbed clock (external steps, migrations, one server
# jumping, the kernel's leap second, in each engine variant; corpus_eng_disturbed).
# Hand-named edge-* files (e.g. inputs a fixed bug was found with) are left alone too.
import glob
import hashlib
import json
import os
import struct

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def out(name, data, label):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    h = hashlib.sha1(data).hexdigest()[:12]
    with open(os.path.join(d, "seed-%s-%s" % (label, h)), "wb") as f:
        f.write(data)


def clear_seeds():
    for f in glob.glob(os.path.join(CORPUS, "*", "seed-*")):
        os.remove(f)


def vectors():
    """(file stem, packet bytes) of every vector packet, in file order."""
    for f in sorted(glob.glob(os.path.join(ROOT, "tests/data/vectors/*.json"))):
        stem = os.path.basename(f)[:-5]
        d = json.load(open(f))
        for v in d["vectors"]:
            for p in v["packets"]:
                yield stem, bytes.fromhex(p["payload_hex"])


def pick(per_class=1):
    """A few packets of each (length, mode, version) class."""
    seen = {}
    for stem, b in vectors():
        k = (len(b), b[0] & 7, (b[0] >> 3) & 7)
        if seen.get(k, 0) < per_class:
            seen[k] = seen.get(k, 0) + 1
            yield stem, b


def header(li=0, vn=4, mode=3, stratum=0, xmt=0x11223344_55667788):
    return struct.pack(">BBbbIII QQQQ", li << 6 | vn << 3 | mode, stratum, 6, -20,
                       0, 0, 0, 0, 0, 0, xmt)


def ef(typ, body, min_len=16):
    n = 4 + len(body)
    n = max(min_len, (n + 3) & ~3)
    return struct.pack(">HH", typ, n) + body + b"\0" * (n - 4 - len(body))


def packets_synthetic():
    h = header()
    yield "short", h[:47]
    yield "bare", h
    yield "nak", h + struct.pack(">I", 0)
    yield "md5", h + struct.pack(">I", 1) + b"\xaa" * 16
    yield "sha1", h + struct.pack(">I", 2) + b"\xbb" * 20
    yield "badmac", h + b"\0" * 8
    yield "ef28", h + ef(0x0104, b"x" * 24, 28)
    yield "ef16-mac", h + ef(0x0104, b"y" * 12) + struct.pack(">I", 3) + b"\xcc" * 16
    yield "ef16-last", h + ef(0x0104, b"z" * 12)
    yield "ef-two", h + ef(0x0204, b"u" * 8) + ef(0x0304, b"v" * 40, 28)
    yield "ef-max", h + b"".join(ef(0x0104 + i, b"w" * 12) for i in range(7)) + \
        ef(0x0111, b"w" * 24, 28)
    yield "ef-toomany", h + b"".join(ef(0x0104, b"t" * 12) for i in range(9)) + \
        struct.pack(">I", 1) + b"\0" * 16
    yield "ef-badlen", h + struct.pack(">HH", 0x0104, 17) + b"\0" * 24
    yield "v3-ef", header(vn=3) + ef(0x0104, b"x" * 24, 28)
    yield "v1-mode0", header(vn=1, mode=0)
    yield "mode7", header(mode=7)
    yield "vn0", header(vn=0)
    yield "vn5", header(vn=5)
    yield "long", h + b"\0" * (1024 - 48)
    yield "toolong", h + b"\0" * (1028 - 48)
    m6 = struct.pack(">BBHHHHH", 0 << 6 | 2 << 3 | 6, 2, 1, 0, 0, 0, 5) + b"hello\0\0\0"
    yield "m6-pad", m6
    yield "m6-mac", m6 + struct.pack(">I", 1) + b"\xdd" * 16
    yield "m6-unpadded", m6[:17]
    yield "m6-count", struct.pack(">BBHHHHH", 2 << 3 | 6, 2, 1, 0, 0, 0, 469) + b"\0" * 480
    yield "m6-bare", struct.pack(">BBHHHHH", 4 << 3 | 6, 0x82, 7, 0x0615, 0, 0, 0)


def corpus_pkt():
    for stem, b in pick(1):
        out("pkt", b, "vec-" + stem)
        if b[0] & 7 in (0, 3, 6, 7):  # requests; answers and broadcasts are all dropped alike
            out("srv", b, "vec-" + stem)
    for label, b in packets_synthetic():
        out("pkt", b, label)
        out("srv", b, label)
        if label in ("nak", "md5", "sha1", "badmac", "ef16-mac", "ef-toomany", "m6-mac"):
            out("mac", b, label)
    # mac: every authenticated vector class, and the mode 6 ones with a MAC
    seen = set()
    for stem, b in vectors():
        mode = b[0] & 7
        if mode == 6:
            k = (stem, len(b))
        elif len(b) > 48:
            k = (stem, len(b), b[48:52])
        else:
            continue
        if k in seen:
            continue
        seen.add(k)
        out("mac", b, "vec-" + stem)


def corpus_cfg():
    for pat in ("conf/*.conf", "tests/data/conf/*.conf", "tests/data/conf-broken/*.conf"):
        for f in sorted(glob.glob(os.path.join(ROOT, pat))):
            out("cfg", open(f, "rb").read(), os.path.basename(f)[:-5])
    edge = {
        "include": b"includefile /etc/ntp.d/extra.conf\nserver 192.0.2.1 iburst\n",
        "crlf-tabs": b"server\t192.0.2.1\tminpoll 4\tmaxpoll 6\r\ndriftfile /var/lib/x\r\n",
        "noeol": b"pool 2.debian.pool.ntp.org iburst",
        "nul": b"server 192.0.2.1\0\n",
        "refclock": b"refclock shm unit 0 refid GPS time1 0.5\n"
                    b"server 127.127.28.1 prefer\nfudge 127.127.28.1 refid PPS\n",
        "keys": b"keys /etc/ntp.keys\ntrustedkey 1 2 (5 ... 9)\ncontrolkey 1\n"
                b"server 192.0.2.1 key 1\n",
        "restrict": b"restrict -6 default kod limited nomodify\n"
                    b"restrict 2001:db8:: mask ffff:ffff:: ignore\n"
                    b"restrict source nomodify\ndiscard average 4 minimum 2 monitor 3000\n"
                    b"mru maxdepth 1000 maxmem 2048\n",
        "tos": b"tos minclock 4 minsane 2 orphan 10\ntinker panic 0 step 0.5\n"
               b"leapfile /usr/share/zoneinfo/leap-seconds.list\n",
        "long-line": b"server " + b"a" * 300 + b"\n",
        "many-tokens": b"server 192.0.2.1" + b" iburst" * 70 + b"\n",
    }
    for label, b in edge.items():
        out("cfg", b, label)


def corpus_auth():
    for f in sorted(glob.glob(os.path.join(ROOT, "tests/data/vectors/keys/*.keys"))):
        out("auth", open(f, "rb").read(), os.path.basename(f)[:-5])
    edge = {
        "chrony-forms": b"# chrony\n10 ASCII:abc\n11 SHA1 HEX:0102030405\n12 plain\n"
                        b"13 AES128 HEX:000102030405060708090a0b0c0d0e0f\n",
        "ntpsec-forms": b"1 M short\n2 sha-1 0123456789abcdef0123456789abcdef01234567\n"
                        b"3 AES128CMAC 000102030405060708090a0b0c0d0e0f # tail\n",
        "crlf": b"1 md5 key1\r\n2 md5 key2\r\n",
        "max-id": b"4294967295 md5 k\n",
        "zero-id": b"0 md5 k\n",
        "over-id": b"4294967296 md5 k\n",
        "dup": b"5 md5 a\n5 md5 b\n",
        "four-fields": b"5 md5 a b\n",
        "one-field": b"5\n",
        "nul": b"5 md5 a\0b\n",
        "hex-odd": b"6 sha1 0123456789abcdef0123456789abcdef0123456\n",
        "hex-long": b"7 HEX:" + b"ab" * 65 + b"\n",
        "ascii-64": b"8 ASCII:" + b"k" * 64 + b"\n",
        "ascii-65": b"8 ASCII:" + b"k" * 65 + b"\n",
        "aes-short": b"9 aes-128 0102030405060708090a0b0c0d0e0f\n",
        "empty": b"",
        "comments": b"   # only\n\t\n#\n",
    }
    for label, b in edge.items():
        out("auth", b, label)


def corpus_json():
    reqs = {
        "status": b'{"version":1,"command":"status"}',
        "sources": b'{"version": 1, "command": "sources"}\n',
        "serverstats": b'{"command":"serverstats","version":1}',
        "unknown-member": b'{"version":1,"command":"status","x":[1,2,{"y":null}]}',
        "escapes": b'{"s":"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"}',
        "lone-surrogate": b'["\\ud800"]',
        "utf8": '["h\u00e9 \u20ac \U0001f600"]'.encode(),
        "bad-utf8": b'["\xc3\x28"]',
        "numbers": b'[0,-0,1.5,-2e-3,1E+10,123456789012345678901234567890,9223372036854775807,'
                   b'-9223372036854775808,9223372036854775808,1e400,0.1]',
        "leading-zero": b'[01]',
        "trailing-comma": b'[1,]',
        "dup-key": b'{"a":1,"a":2}',
        "deep": b"[" * 32 + b"]" * 32,
        "too-deep": b"[" * 33 + b"]" * 33,
        "literals": b' [true , false,null ] ',
        "empty-containers": b'{"a":{},"b":[],"c":""}',
        "trailing": b'{} x',
        "comment": b'/* c */ {}',
        "control-char": b'["a\x01b"]',
        "nul-escape": b'["a\\u0000b"]',
        "many": b"[" + b",".join(b"1" for _ in range(600)) + b"]",
        "key-long": b'{"' + b"k" * 200 + b'":1}',
    }
    for label, b in reqs.items():
        out("json", b, label)


def corpus_leap():
    files = sorted(glob.glob(os.path.join(ROOT, "tests/data/leap/*.list")))
    for f in files:
        out("leap", open(f, "rb").read(), os.path.basename(f)[:-5])
    # The same files with the hash the fuzz seam computes (20 zero octets), so the parse
    # gets past the hash check.
    for f in files:
        name = os.path.basename(f)[:-5]
        if "badline" in name or "nohash" in name:
            continue
        lines = open(f, "rb").read().split(b"\n")
        lines = [b"#h 0 0 0 0 0" if l.startswith(b"#h") else l for l in lines]
        out("leap", b"\n".join(lines), name + "-zerohash")
    out("leap", b"#$ 3676924800\n#@ 3818102400\n2272060800 10 # 1 Jan 1972\n"
                b"2287785600 11\n3692217600 37\n#h 0 0 0 0 0\n", "small")
    out("leap", b"#$ 3676924800\n#@ 3818102400\n2272060800\t10\n2287785600\t9\n"
                b"#h\t0 0 0 0 0\t\n", "negative-leap")
    out("leap", b"#$ 3676924800\r\n#@ 3818102400\r\n2272060800 10\r\n#h 0 0 0 0 0\r\n",
        "crlf")


def corpus_eng():
    """Inputs of fuzz_eng (the format is in tests/fuzz/fuzz_eng.c): an optional header
    (engine variant), datagram records (op: who, patch org, patch times, time step;
    offset; length) and control records (external steps, migrations, the kernel's leap
    second, long waits, sources removed and added)."""
    def rec(who, pkt, patch_org=True, patch_times=True, step_log2=14, off=0):
        op = who | (4 if patch_org else 0) | (8 if patch_times else 0) | step_log2 << 4
        return bytes([op, off & 0xff, len(pkt)]) + pkt
    by_stem = {}
    for stem, b in vectors():
        by_stem.setdefault((stem, len(b), b[0] & 7, b[1]), b)
    reply = next(b for (st, n, m, stratum), b in by_stem.items() if m == 4 and stratum == 1 and n == 48)
    sym = next(b for (st, n, m, stratum), b in by_stem.items() if m == 1 and n == 48)
    req = next(b for (st, n, m, stratum), b in by_stem.items() if m == 3 and n == 48)
    kod = next(b for (st, n, m, stratum), b in by_stem.items() if m == 4 and stratum == 0 and
               b[12:16] == b"RATE")
    out("eng", b"".join(rec(0, reply, off=i % 3) for i in range(12)), "sync")
    out("eng", b"".join(rec(0, reply, step_log2=10, off=40 * (i % 2)) for i in range(12)),
        "sync-fast-jumpy")
    out("eng", b"".join(rec(1, sym, step_log2=14) for i in range(8)), "peer")
    out("eng", b"".join(rec(2, req, False, False, 4) for i in range(12)), "client-flood")
    out("eng", rec(0, reply) * 3 + rec(0, kod) + rec(0, reply) * 3, "kod")
    out("eng", rec(3, req, False, False) + rec(0, reply, False, False) + rec(0, b""), "odd")
    out("eng", b"".join(rec(0, reply, off=(100 * i) % 256, step_log2=15) for i in range(16)),
        "offsets")
    corpus_eng_disturbed(rec, reply, kod)


# fuzz_eng's header flags and control records (tests/fuzz/fuzz_eng.c)
F1_NTP_OFF, F1_RFC, F1_G, F1_LEAP, F1_LEAP_DEL, F1_DRIFT, F1_SLEW_ONLY, F1_TWO = \
    1, 2, 4, 8, 16, 32, 64, 128
F2_STEP0, F2_PANIC0 = 1, 2
(K_EXT_STEP, K_MIGRATE, K_KERNEL_LEAP, K_STEPS, K_ADVANCE, K_TX_TS, K_REMOVE, K_READD,
 K_LEAP_FILE, K_SHIFT_ONE) = range(10)
U_NS, U_US, U_MS, U_S, U_KS, U_DAY, U_ERA, U_RAW = range(8)


def corpus_eng_disturbed(rec, reply, kod):
    """Seeds for the disturbed clock (issue 6): external steps of every size and sign, at
    every stage (before the first synchronisation, synchronised, during the burst that
    follows one, in panic, with `disable ntp`, under the RFC discipline, with tinker step
    0 or -x), migrations (every server's answers shift at once), one server jumping
    alone, and the kernel's leap second at the armed leap."""
    deny = kod[:12] + b"DENY" + kod[16:]

    def hdr(f1=0, f2=0):
        return bytes([0xC5, f1, f2])

    def ctl(kind, a=0, v=0, step_log2=0):
        return bytes([kind | step_log2 << 4, a & 0xff, 0xff]) + struct.pack(">q", v)

    def sync(n=12, two=False):
        """Answers at every poll until synchronised (minpoll 16 s; iburst first)."""
        if two:
            return b"".join(rec(i % 2, reply, step_log2=13, off=i % 3) for i in range(2 * n))
        return b"".join(rec(0, reply, step_log2=14, off=i % 3) for i in range(n))

    def burst(n=8, two=False):
        """Answers to the burst that follows a restart (every 2 s)."""
        if two:
            return b"".join(rec(i % 2, reply, step_log2=10, off=0) for i in range(2 * n))
        return b"".join(rec(0, reply, step_log2=11, off=0) for i in range(n))

    def ext(v, unit=U_MS):
        return ctl(K_EXT_STEP, unit, v)

    def mig(v, unit=U_S):
        return ctl(K_MIGRATE, unit, v)

    seeds = {
        # a resumed guest whose agent set the clock: stepped after the burst, or slewed
        "ext-resume-step": sync() + ext(300) + burst() + sync(4),
        "ext-resume-small": sync() + ext(50) + burst() + sync(4),
        "ext-behind": sync() + ext(-2000) + burst(),
        "ext-zero": sync() + ext(0) + burst(),
        "ext-ns": sync() + ext(1, U_NS) + ext(-1, U_US) + burst(),
        "ext-before-sync": ext(5000) + sync(),
        "ext-at-start": ext(-3, U_S) + mig(3) + sync(),
        # huge: to 2116 (clamped), to 1970 (clamped), an NTP era, a day
        "ext-huge-ahead": sync() + ext(2 ** 62, U_RAW) + burst(),
        "ext-huge-behind": sync() + ext(-2 ** 63, U_RAW) + burst(),
        "ext-era": sync() + ext(1, U_ERA) + burst() + ext(-1, U_ERA) + burst(),
        "ext-day": sync() + ext(1, U_DAY) + burst(4) + mig(86400) + burst(),
        # steps back to back, and a step during the burst of the previous one
        "ext-back-to-back": sync() + ctl(K_STEPS, 3 | U_S << 3 | 0x80, 2) + burst(),
        "ext-repeat-same": sync() + ctl(K_STEPS, 7 | U_MS << 3, 400) + burst(),
        "ext-during-burst": sync() + ext(1000) + burst(2) + ext(1000) + burst(2) +
                            ext(-500) + burst(),
        # in panic: the clock 2000 s off from the start (no -g), then set right
        "ext-in-panic": mig(2000) + sync(6) + ext(2000, U_S) + burst() + sync(4),
        "ext-panic-then-more": mig(2000) + sync(6) + ext(-2000, U_S) + burst(),
        # nothing answers after the restart: the usual rules after 120 s
        "ext-giveup": sync() + ext(700) + ctl(K_ADVANCE, 0, 200) + sync(4),
        "ext-holdover": sync() + ctl(K_ADVANCE, 0, 2000) + ext(300) + burst(),
        # a paused or migrated machine: every server shows the same jump
        "migrate-30s": hdr(F1_TWO) + sync(8, True) + mig(30) + sync(3, True) + burst(6, True),
        "migrate-3h": hdr(F1_TWO) + sync(8, True) + mig(3 * 3600) + sync(3, True) +
                      burst(6, True),
        "migrate-back": hdr(F1_TWO) + sync(8, True) + mig(-45) + sync(3, True) + burst(6, True),
        "migrate-lone-3h": sync() + mig(3 * 3600) + sync(6) + burst(),
        "migrate-lone-30s": sync() + mig(30) + sync(3) + burst(),
        # one server jumps alone: not followed, and not a burst at every poll
        "one-jumps": hdr(F1_TWO) + sync(8, True) + ctl(K_SHIFT_ONE, 0 | U_S << 1, 5) +
                     sync(6, True) + ctl(K_ADVANCE, 0, 950) + sync(4, True),
        "one-jumps-then-all": hdr(F1_TWO) + sync(8, True) + ctl(K_SHIFT_ONE, 1 | U_S << 1, 5) +
                              sync(4, True) + mig(5) + sync(4, True),
        # the kernel's leap second at the armed leap (and a step that only looks like one)
        "leap-insert": hdr(F1_LEAP) + sync() + ctl(K_KERNEL_LEAP) + sync(4),
        "leap-delete": hdr(F1_LEAP | F1_LEAP_DEL) + sync() + ctl(K_KERNEL_LEAP) + sync(4),
        "leap-two": hdr(F1_LEAP | F1_TWO) + sync(8, True) + ctl(K_KERNEL_LEAP, 0, 20) +
                    sync(4, True),
        "leap-wrong-sign": hdr(F1_LEAP) + sync() + ctl(K_KERNEL_LEAP, 1) + burst(),
        "leap-off-by-20ms": hdr(F1_LEAP) + sync() + ctl(K_KERNEL_LEAP, 100) + burst(),
        "leap-early": hdr(F1_LEAP) + sync() + ctl(K_KERNEL_LEAP, 0, -120) + burst(),
        "leap-no-file": hdr(F1_LEAP) + sync() + ctl(K_LEAP_FILE, 1) + ctl(K_KERNEL_LEAP) +
                        burst() + ctl(K_LEAP_FILE, 0),
        "leap-unarmed": sync() + ctl(K_KERNEL_LEAP) + burst(),
        "leap-twice": hdr(F1_LEAP) + sync() + ctl(K_KERNEL_LEAP) + ctl(K_KERNEL_LEAP) + burst(),
        # engine variants
        "ntp-off": hdr(F1_NTP_OFF | F1_TWO) + sync(6, True) + ext(300) + burst(4, True) +
                   mig(30) + burst(4, True),
        "rfc-ext": hdr(F1_RFC) + sync(16) + ext(300) + burst() + ext(50) + burst(),
        "rfc-migrate": hdr(F1_RFC | F1_TWO) + sync(10, True) + mig(30) + sync(4, True) +
                       burst(6, True),
        "step0": hdr(0, F2_STEP0) + sync() + ext(1000) + burst() + mig(20) + sync(4),
        "slew-only": hdr(F1_SLEW_ONLY) + sync() + ext(700, U_S) + burst() + ext(2) + burst(),
        "g-first": hdr(F1_G) + mig(3000) + sync() + mig(3000) + sync(4),
        "panic0": hdr(0, F2_PANIC0) + sync() + mig(10 ** 6) + sync(4) + ext(-10 ** 6, U_S) +
                  burst(),
        "drift-max": hdr(F1_DRIFT, 3 << 2) + sync() + ext(300) + burst(),
        "drift-min-rfc": hdr(F1_DRIFT | F1_RFC, 2 << 2) + sync() + mig(1) + sync(4),
        # sources removed and added during a restart; transmit timestamps
        "remove-readd": hdr(F1_TWO) + sync(8, True) + ext(400) + ctl(K_REMOVE, 1) +
                        burst(4, True) + ctl(K_READD, 1) + burst(6, True),
        "remove-all": sync() + ctl(K_REMOVE, 0) + ctl(K_REMOVE, 1) + ext(400) +
                      ctl(K_ADVANCE, 0, 130) + ctl(K_READD, 0) + burst(),
        "tx-ts": rec(0, reply) + ctl(K_TX_TS, 0, 1000) + rec(0, reply) + ctl(K_TX_TS, 1, 5) +
                 sync(4),
        "kod-in-burst": sync() + ext(300) + rec(0, kod, step_log2=11) + burst(),
        # a DENY kiss: the association stays listed (its slot not reused) until removed
        "kod-deny-slot": hdr(F1_TWO) + rec(0, deny) + ctl(K_REMOVE, 1) + ctl(K_READD, 1) +
                         ctl(K_REMOVE, 0) + ctl(K_READD, 0) + ext(300) + burst(4, True),
    }
    for label, b in seeds.items():
        out("eng", b, label)


def main():
    clear_seeds()
    corpus_eng()
    corpus_pkt()
    corpus_cfg()
    corpus_auth()
    corpus_json()
    corpus_leap()
    for d in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, d))
        size = sum(os.path.getsize(os.path.join(CORPUS, d, f)) for f in files)
        print("%-5s %4d files %7d octets" % (d, len(files), size))


if __name__ == "__main__":
    main()
