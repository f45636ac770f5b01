#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""gnomon's server benchmark: gnomond beside chronyd and a bare echo server (the ceiling).

Run it through scripts/bench-server.sh, which builds the tools and gnomond, creates the
network namespace (lo up, 127.0.0.2 added) and cleans up. This file only orchestrates
inside that namespace and summarises:

  for each repetition, for each (server, configuration) in an order rotated per
  repetition (interleaved): start the server pinned to CPU 0 (SCHED_FIFO), wait until it
  answers (gnomond: until it is synchronised to the upstream chronyd), warm it up with
  one pass over the client addresses, step ntpload (pinned to CPU 1, SCHED_FIFO) through
  a ladder of offered rates and one as-fast-as-possible step; record ntpload's JSON, the
  server's CPU time (/proc/PID/task/*/schedstat, ns) and RSS; stop the server.

Medians over the repetitions. Written for gnomon (not derived from other code).
"""
import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

PORTS = {"gnomond": 12401, "upstream": 12402, "chronyd": 12403, "echo": 12404}
SRC0 = "127.1.0.1"

CHRONY_COMMON = """\
port {port}
bindaddress 127.0.0.1
cmdport 0
local stratum 10
allow all
pidfile {work}/chronyd-{tag}.pid
"""
# Client log on (chrony's default, clientloglimit 524288 bytes) and no rate limit.
CHRONY_CONF = {
    "open": CHRONY_COMMON + "# client log on at its default size; no ratelimit\n",
    # chrony's documented defaults: interval 3 (8 s), burst 8, leak 2 (1 in 4 answered);
    # a client log with room for every client (the default 512 KiB holds fewer than the
    # 10,000 test clients, and a client that falls out of the log is not limited)
    "limited": CHRONY_COMMON + ("ratelimit interval 3 burst 8 leak 2\n"
                                "clientloglimit 4194304\n"),
}

GNOMON_COMMON = """\
port {port}
server 127.0.0.2 port {up} iburst minpoll 3 maxpoll 4
controlsocket {work}/gnomond-{tag}.sock
{mru}
"""
# the MRU sized like chrony's default client log (clientloglimit 524288 bytes)
GNOMON_MRU = "mru maxmem 512"
GNOMON_MRU_LIMITED = "mru maxmem 4096"
GNOMON_CONF = {
    "open": GNOMON_COMMON + "restrict default\n",
    # conf/pool-server.conf's rate limit: 8 s average, 2 s minimum, burst 8, KoD
    # (with an MRU of the same 4 MiB as chrony's client log in this configuration)
    "limited": GNOMON_COMMON + ("discard average 3 minimum 1\nlimit burst 8 kod 3\n"
                                "restrict default limited kod nomodify nopeer noquery\n"),
}

UPSTREAM_CONF = """\
port {port}
bindaddress 127.0.0.2
cmdport 0
local stratum 1
allow all
pidfile {work}/upstream.pid
"""


class Bench:
    def __init__(self, a):
        self.a = a
        self.ns = ["ip", "netns", "exec", a.netns]
        self.rt_srv = ["chrt", "-f", str(a.rt)] if a.rt else []
        self.noclk = ["setpriv", "--bounding-set=-sys_time", "--inh-caps=-sys_time"]
        self.procs = []
        self.probes = 0
        self.failures = []

    # ------------------------------------------------------------- processes
    def spawn(self, cmd, log):
        f = open(log, "ab")
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        f.close()
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p)

    def load(self, port, rate, seconds, sources=None, count=None, drain=None, rt=True,
             src=None):
        a = self.a
        cmd = self.ns + (["chrt", "-f", str(a.rt)] if (a.rt and rt) else []) + [
            "taskset", "-c", a.gen_cpu, a.ntpload, "-j", "-p", str(port),
            "-t", str(seconds), "-w", str(a.drain if drain is None else drain),
            "-c", str(a.sockets), "-b", "64"]
        n = a.sources if sources is None else sources
        if src:
            cmd += ["-S", src]
        elif n > 1:
            cmd += ["-S", SRC0, "-a", str(n)]
        if rate:
            cmd += ["-r", str(rate)]
        if count:
            cmd += ["-n", str(count)]
        cmd.append("127.0.0.1")
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True,
                             timeout=seconds + 15).stdout
        return json.loads(out)

    # ------------------------------------------------------------- /proc
    @staticmethod
    def cpu_ns(pid):
        tot = 0
        try:
            for t in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                    tot += int(f.read().split()[0])
        except OSError:
            pass
        return tot

    @staticmethod
    def mem_kb(pid):
        res = {}
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in ("VmRSS", "VmHWM"):
                        res[k] = int(v.split()[0])
        except OSError:
            pass
        return res.get("VmRSS", 0), res.get("VmHWM", 0)

    # ------------------------------------------------------------- servers
    def server_cmd(self, server, config, tag, mru=GNOMON_MRU):
        a, w = self.a, self.a.work
        pin = self.ns + self.rt_srv + ["taskset", "-c", a.srv_cpu]
        if server == "echo":
            return pin + [a.ntpecho, "-a", "127.0.0.1", "-p", str(PORTS["echo"]), "-T", "600",
                          "-r", str(a.echo_rcvbuf)] + (["-F"] if getattr(a, "echo_features", False) else [])
        if server == "chronyd":
            conf = f"{w}/chronyd-{tag}.conf"
            with open(conf, "w") as f:
                f.write(CHRONY_CONF[config].format(port=PORTS["chronyd"], work=w, tag=tag))
            return pin + self.noclk + [a.chronyd, "-x", "-n", "-u", "root", "-f", conf,
                                       "-l", f"{w}/chronyd-{tag}.log"]
        if server == "gnomond":
            conf = f"{w}/gnomond-{tag}.conf"
            if config == "limited" and mru == GNOMON_MRU:
                mru = GNOMON_MRU_LIMITED
            with open(conf, "w") as f:
                f.write(GNOMON_CONF[config].format(port=PORTS["gnomond"], up=PORTS["upstream"],
                                                   work=w, tag=tag, mru=mru))
            return pin + self.noclk + [a.gnomond, "-n", "-X", "-c", conf]
        raise ValueError(server)

    def wait_ready(self, server, p, timeout=30.0):
        """Until one probe gets an answer (chronyd, gnomond: a synchronised one)."""
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            if p.poll() is not None:
                raise RuntimeError(f"{server} exited with status {p.returncode}")
            # each probe from an address of its own (127.2.x.y, outside the clients'
            # range): a rate-limiting server would limit one address probing this often
            self.probes += 1
            r = self.load(PORTS[server], 0, 0.2, sources=1, count=1, drain=0.3, rt=False,
                          src=f"127.2.{(self.probes >> 8) & 255}.{self.probes & 255}")
            if (r["matched"] if server == "echo" else r["valid"]) >= 1:
                return time.monotonic()
            time.sleep(0.3)
        raise RuntimeError(f"{server} did not answer within {timeout} s")

    def start_upstream(self):
        conf = f"{self.a.work}/upstream.conf"
        with open(conf, "w") as f:
            f.write(UPSTREAM_CONF.format(port=PORTS["upstream"], work=self.a.work))
        return self.spawn(self.ns + ["taskset", "-c", self.a.gen_cpu] + self.noclk +
                          [self.a.chronyd, "-x", "-n", "-u", "root", "-f", conf,
                           "-l", f"{self.a.work}/upstream.log"], f"{self.a.work}/upstream.out")

    # ------------------------------------------------------------- one run
    def run_server(self, rep, server, config, out):
        a = self.a
        tag = f"{config}-r{rep}"
        p = self.spawn(self.server_cmd(server, config, tag), f"{a.work}/{server}-{tag}.out")
        rows = []
        try:
            t_start = time.monotonic()
            t_ready = self.wait_ready(server, p)
            # every client address sends 2-3 requests, so the client tables start full
            self.load(PORTS[server], a.warm_rate, max(0.5, a.sources / a.warm_rate), drain=0.2)
            time.sleep(a.pause)
            fails = 0
            steps = [r for r in a.rates] + [0]
            for rate in steps:
                if rate and fails >= 2:
                    continue   # two steps past 5 % loss: higher rates only lose more
                c0, t0 = self.cpu_ns(p.pid), time.monotonic()
                r = self.load(PORTS[server], rate, a.step)
                c1, t1 = self.cpu_ns(p.pid), time.monotonic()
                rss, hwm = self.mem_kb(p.pid)
                drops = max(0, r["udp_rcvbuf_errors"])
                r.update({"rep": rep, "server": server, "config": config, "offered": rate,
                          "srv_cpu_s": (c1 - c0) / 1e9, "wall_s": t1 - t0,
                          "rss_kb": rss, "hwm_kb": hwm,
                          "read_by_server": max(0, r["sent"] - drops),
                          "ready_s": t_ready - t_start})
                # loss that matters: unanswered requests (open) or requests the server's
                # socket dropped before it could read them (limited: dropping is its job)
                r["loss"] = (r["loss_pct"] if config == "open" else
                             100.0 * drops / max(1, r["sent"]))
                if rate and r["loss"] > 5:
                    fails += 1
                rows.append(r)
                out.write(json.dumps(r) + "\n")
                out.flush()
                print(f"  rep {rep} {server:8s} {config:8s} offered {rate or 'max':>7} "
                      f"sent/s {r['send_rate']:8.0f} resp/s {r['response_rate']:8.0f} "
                      f"loss {r['loss']:6.2f}% p50/p99 {r['latency_us']['p50']:.0f}/"
                      f"{r['latency_us']['p99']:.0f} us cpu {r['srv_cpu_s']:.2f} s "
                      f"rss {rss} KiB", flush=True)
                time.sleep(a.pause)
        finally:
            self.stop(p)
        return rows

    def mru_scale(self, out):
        """gnomond with room for 1,000,000 clients, offered 1,000,000 distinct addresses."""
        a = self.a
        n = a.mru_clients
        p = self.spawn(self.server_cmd("gnomond", "open", "mru", mru=f"mru maxdepth {n}"),
                       f"{a.work}/gnomond-mru.out")
        try:
            self.wait_ready("gnomond", p)
            rss0, _ = self.mem_kb(p.pid)
            rate = 150000
            r = self.load(PORTS["gnomond"], rate, n / rate + 0.5, sources=n)
            rss, hwm = self.mem_kb(p.pid)
            res = {"server": "gnomond", "config": "mru-scale", "clients": n,
                   "sent": r["sent"], "matched": r["matched"], "rss_before_kb": rss0,
                   "rss_kb": rss, "hwm_kb": hwm}
            out.write(json.dumps(res) + "\n")
            print(f"  MRU scale: {n} clients, {r['sent']} requests ({r['matched']} answered), "
                  f"RSS {rss0} -> {rss} KiB (peak {hwm} KiB)", flush=True)
            return res
        finally:
            self.stop(p)

    def run(self):
        a = self.a
        os.makedirs(a.work, exist_ok=True)
        plan = []
        for s in a.servers:
            for c in (["open"] if s == "echo" else a.configs):
                plan.append((s, c))
        all_rows, mru = [], None
        with open(a.results, "a") as out:
            up = None
            if any(s == "gnomond" for s, _ in plan):
                up = self.start_upstream()
            try:
                for rep in range(a.reps):
                    k = rep % len(plan)
                    for s, c in plan[k:] + plan[:k]:   # rotate: interleaved repetitions
                        try:
                            all_rows += self.run_server(rep, s, c, out)
                        except RuntimeError as e:   # counted as a missing repetition
                            print(f"  rep {rep} {s} {c}: {e}", flush=True)
                            self.failures.append(f"rep {rep} {s} {c}: {e}")
                if a.mru_clients and "gnomond" in a.servers:
                    try:
                        mru = self.mru_scale(out)
                    except RuntimeError as e:
                        self.failures.append(f"MRU scale: {e}")
            finally:
                self.stop_all()
        return all_rows, mru


# ----------------------------------------------------------------- summary
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarise(rows, mru, a):
    by = {}
    for r in rows:
        by.setdefault((r["server"], r["config"]), []).append(r)
    res = {}
    for (s, c), rs in by.items():
        reps = sorted({r["rep"] for r in rs})
        best, afap, p50, p99, cpu, hwm, afap_cpu, read_rate = [], [], [], [], [], [], [], []
        for rep in reps:
            mine = [r for r in rs if r["rep"] == rep]
            # the rate actually sent (the generator's CPU may fall short of the offered
            # rate at the top of the ladder: then the achieved rate is what was measured)
            ok = [min(r["offered"], r["send_rate"]) for r in mine
                  if r["offered"] and r["loss"] < 1.0]
            best.append(max(ok) if ok else 0)
            for r in mine:
                if r["offered"] == 0:
                    afap.append(r["response_rate"])
                    afap_cpu.append(r["srv_cpu_s"] / max(1, r["read_by_server"]) * 1e6)
                    read_rate.append(r["read_by_server"] / r["send_s"])
                if r["offered"] == a.ref_rate:
                    if r["matched"]:
                        p50.append(r["latency_us"]["p50"])
                        p99.append(r["latency_us"]["p99"])
                    # CPU per answer (open) or per request read (limited: most are dropped)
                    div = r["matched"] if c == "open" else r["read_by_server"]
                    cpu.append(r["srv_cpu_s"] / max(1, div) * 1e6)
            hwm.append(max(r["hwm_kb"] for r in mine))
        res[(s, c)] = {"n": len(reps), "best": med(best), "afap": med(afap), "p50": med(p50),
                       "p99": med(p99), "cpu_us": med(cpu), "hwm_kb": med(hwm),
                       "afap_cpu_us": med(afap_cpu), "afap_read": med(read_rate),
                       "best_all": best}
    return res


def fmt(x, f="{:.0f}"):
    return "–" if x is None else f.format(x)


def ratio(a, b):
    return None if (a is None or not b) else a / b


def report(res, mru, a, meta):
    L = []
    L.append(f"Date {meta['date']}; {meta['machine']}; kernel {meta['kernel']}")
    L.append(f"chronyd {meta['chronyd']}; {meta['gnomond']} ({meta['git']})")
    L.append(f"{a.reps} repetition(s), medians; steps of {a.step} s; {a.sources} client "
             f"addresses; ladder {','.join(str(r) for r in a.rates)} + as fast as possible; "
             f"latency and CPU at {a.ref_rate}/s; server CPU {a.srv_cpu}, generator CPU "
             f"{a.gen_cpu}, {'SCHED_FIFO ' + str(a.rt) if a.rt else 'SCHED_OTHER'}; echo "
             f"receive buffer {getattr(a, 'echo_rcvbuf', 0)} bytes"
             + ("; echo with gnomond's socket features (ntpecho -F)" if getattr(a, "echo_features", False) else ""))
    L.append("")
    for c in ["open", "limited"]:
        keys = [(s, cc) for (s, cc) in res if cc == c or (c == "open" and s == "echo")]
        keys = [k for k in keys if k[1] == c or (c == "open" and k[0] == "echo")]
        if not keys:
            continue
        if c == "open":
            L.append("Client log on, no rate limit (per answer):")
        else:
            L.append("Realistic rate limit (most requests dropped; CPU per request read, "
                     "loss = requests the kernel dropped before the server read them):")
        L.append("")
        L.append("| server | highest rate < 1 % loss (req/s) | as fast as possible: answers/s "
                 f"| read/s | p50 / p99 latency at {a.ref_rate}/s (µs) | CPU µs per "
                 f"{'answer' if c == 'open' else 'request'} at {a.ref_rate}/s "
                 "| CPU µs per request at saturation | peak RSS (KiB) | per-rep max rate |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        order = {"gnomond": 0, "chronyd": 1, "echo": 2}
        for k in sorted(keys, key=lambda k: order.get(k[0], 9)):
            r = res[k]
            L.append(f"| {k[0]} | {fmt(r['best'])} | {fmt(r['afap'])} | {fmt(r['afap_read'])} "
                     f"| {fmt(r['p50'])} / {fmt(r['p99'])} | {fmt(r['cpu_us'], '{:.2f}')} "
                     f"| {fmt(r['afap_cpu_us'], '{:.2f}')} | {fmt(r['hwm_kb'])} "
                     f"| {', '.join(str(round(x)) for x in r['best_all'])} |")
        L.append("")
        g, ch, e = res.get(("gnomond", c)), res.get(("chronyd", c)), res.get(("echo", "open"))
        if g and ch:
            L.append(f"gnomond / chronyd ({c}): max rate {fmt(ratio(g['best'], ch['best']), '{:.2f}')}×, "
                     + (f"as fast as possible {fmt(ratio(g['afap'], ch['afap']), '{:.2f}')}×, "
                        if c == "open" else
                        f"requests read at saturation "
                        f"{fmt(ratio(g['afap_read'], ch['afap_read']), '{:.2f}')}×, ")
                     + f"CPU per {'answer' if c == 'open' else 'request'} at {a.ref_rate}/s "
                     f"{fmt(ratio(g['cpu_us'], ch['cpu_us']), '{:.2f}')}× "
                     f"(at saturation {fmt(ratio(g['afap_cpu_us'], ch['afap_cpu_us']), '{:.2f}')}×), "
                     f"peak RSS {fmt(ratio(g['hwm_kb'], ch['hwm_kb']), '{:.2f}')}×")
        if g and e and c == "open":
            L.append(f"gnomond / echo ceiling: max rate {fmt(ratio(g['best'], e['best']), '{:.2f}')}×, "
                     f"as fast as possible {fmt(ratio(g['afap'], e['afap']), '{:.2f}')}×")
        if ch and e and c == "open":
            L.append(f"chronyd / echo ceiling: max rate {fmt(ratio(ch['best'], e['best']), '{:.2f}')}×, "
                     f"as fast as possible {fmt(ratio(ch['afap'], e['afap']), '{:.2f}')}×")
        L.append("")
    if mru:
        L.append(f"MRU scale: gnomond with `mru maxdepth {mru['clients']}`, "
                 f"{mru['sent']} requests from {mru['clients']} addresses: RSS "
                 f"{mru['rss_before_kb']} KiB before, {mru['rss_kb']} KiB after "
                 f"({mru['rss_kb'] / 1024:.1f} MiB; limit 64 MiB)")
    return "\n".join(L)


def meta_info(a):
    def cmd(c):
        try:
            return subprocess.run(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs, {model}",
        "kernel": platform.release(),
        "chronyd": (cmd([a.chronyd, "-v"]).partition("version ")[2].split() or ["?"])[0]
        if a.chronyd else "?",
        "gnomond": cmd([a.gnomond, "--version"]) if a.gnomond else "?",
        "git": cmd(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "describe",
                    "--always", "--dirty"]),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--netns", default="")
    ap.add_argument("--work", default="")
    ap.add_argument("--ntpload", default="")
    ap.add_argument("--ntpecho", default="")
    ap.add_argument("--chronyd", default="")
    ap.add_argument("--gnomond", default="")
    ap.add_argument("--servers", default="echo,chronyd,gnomond")
    ap.add_argument("--configs", default="open,limited")
    ap.add_argument("--rates", default="100000,150000,200000,225000,250000,275000,300000,"
                                       "325000,350000,400000")
    ap.add_argument("--ref-rate", type=int, default=100000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--step", type=float, default=2.0)
    ap.add_argument("--drain", type=float, default=0.3)
    ap.add_argument("--pause", type=float, default=0.3)
    ap.add_argument("--sources", type=int, default=10000)
    ap.add_argument("--warm-rate", type=int, default=50000)
    ap.add_argument("--sockets", type=int, default=16)
    ap.add_argument("--rt", type=int, default=10, help="SCHED_FIFO priority; 0 = none")
    ap.add_argument("--srv-cpu", default="0")
    ap.add_argument("--gen-cpu", default="1")
    ap.add_argument("--echo-rcvbuf", type=int, default=1048576,
                    help="the echo server's receive buffer, bytes (as gnomond's)")
    ap.add_argument("--echo-features", action="store_true",
                    help="the echo server with gnomond's socket features (ntpecho -F: wildcard "
                         "bind, IP_PKTINFO both ways, software RX timestamps)")
    ap.add_argument("--mru-clients", type=int, default=1000000, help="0 = skip")
    ap.add_argument("--summary-only", metavar="RESULTS_JSONL")
    a = ap.parse_args()
    a.servers = [s for s in a.servers.split(",") if s]
    a.configs = [c for c in a.configs.split(",") if c]
    a.rates = [int(r) for r in a.rates.split(",") if r]
    if a.summary_only and not a.work:
        a.work = os.path.dirname(os.path.abspath(a.summary_only))
    if not a.summary_only and not (a.netns and a.work and a.ntpload and a.ntpecho):
        ap.error("--netns, --work, --ntpload and --ntpecho are needed for a run")
    a.results = os.path.join(a.work, "results.jsonl")
    if a.summary_only:
        os.makedirs(a.work, exist_ok=True)
        rows = [json.loads(l) for l in open(a.summary_only)]
        mru = next((r for r in rows if r.get("config") == "mru-scale"), None)
        rows = [r for r in rows if r.get("config") != "mru-scale"]
        mp = os.path.join(os.path.dirname(a.summary_only), "meta.json")
        meta = json.load(open(mp)) if os.path.exists(mp) else meta_info(a)
        for k, v in meta.get("args", {}).items():   # the run's own settings
            setattr(a, k, v)
    else:
        meta = meta_info(a)
        meta["args"] = {k: getattr(a, k) for k in ("ref_rate", "rates", "reps", "step",
                                                    "sources", "rt", "srv_cpu", "gen_cpu",
                                                    "echo_rcvbuf", "echo_features")}
        os.makedirs(a.work, exist_ok=True)
        with open(os.path.join(a.work, "meta.json"), "w") as f:
            json.dump(meta, f)
        b = Bench(a)
        try:
            rows, mru = b.run()
        except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
            print(f"bench: {e}", file=sys.stderr)
            b.stop_all()
            return 1
    res = summarise(rows, mru, a)
    text = report(res, mru, a, meta)
    if not a.summary_only and b.failures:
        text += "\nFailed runs (left out of the medians):\n" + "\n".join(
            "- " + f for f in b.failures)
    print()
    print(text)
    with open(os.path.join(a.work, "summary.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(a.work, "summary.json"), "w") as f:
        json.dump({"meta": meta, "mru": mru,
                   "results": {f"{s}/{c}": v for (s, c), v in res.items()}}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
