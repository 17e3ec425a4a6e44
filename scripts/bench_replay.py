#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# scripts/bench_replay.py: the replay benchmark's zone, workload, senders
# and report (scripts/bench_replay.sh runs the servers around it).
#
#   bench_replay.py zone DIR NAMES.csv RATE SECONDS SEED
#       DIR/origin.zone.conf (unbound local-zone/local-data: every name of
#       the list with A, and some with AAAA, MX and TXT, TTLs from seconds
#       to days; a cluster.local zone of services) and DIR/workload.json
#       (lookups at RATE a second for SECONDS, Zipf popularity by rank).
#   bench_replay.py dns PORT DIR OUT.json   replay through a DNS server
#   bench_replay.py nss DIR OUT.json        replay through getaddrinfo()
#   bench_replay.py report DIR              the table, the plot's data
#
# A lookup is one question (A, AAAA, MX, TXT, or A of a name that does not
# exist), or one getaddrinfo() made as a Kubernetes pod makes it (ndots:5,
# three search domains): the DNS sender walks the search list as glibc's
# dns module does (A and AAAA together for each name, the next name after
# two negative answers); the NSS sender leaves the walk to codnsd.
import asyncio
import bisect
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time

SEARCH = ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"]
NDOTS = 5
TTLS = [(5, 0.10), (30, 0.15), (60, 0.15), (300, 0.30), (3600, 0.20),
        (86400, 0.10)]
MIX = [("pod", 0.25), ("A", 0.30), ("AAAA", 0.20), ("MX", 0.07),
       ("TXT", 0.07), ("NX", 0.11)]
QTYPES = {"A": 1, "AAAA": 28, "MX": 15, "TXT": 16}
NSS_LESS = {"MX", "TXT"}  # lookups (and query types) with no NSS call
HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*"
                  r"[a-z0-9])?)+$")
TIMEOUT = 2.0


def pick(rng, table):
    r = rng.random()
    acc = 0.0
    for v, w in table:
        acc += w
        if r < acc:
            return v
    return table[-1][0]


def zone(d, names_csv, rate, secs, seed):
    rng = random.Random(seed)
    names = []
    with open(names_csv) as f:
        next(f)
        for line in f:
            name = line.strip().split(",")[1].lower()
            if HOST.match(name) and name not in names:
                names.append(name)
    tlds = sorted({n.rsplit(".", 1)[1] for n in names})
    out = []
    for t in tlds + ["cluster.local"]:
        out.append('local-zone: "%s." static' % t)
        # RFC 2308: negative answers carry the SOA; MINIMUM 60 s (30 s in
        # the cluster zone, as a cluster DNS answers).
        out.append('local-data: "%s. 3600 IN SOA ns.%s. host.%s. 1 3600 '
                   '600 86400 %d"' % (t, t, t, 30 if t == "cluster.local"
                                      else 60))
    recs = {}
    for i, n in enumerate(names):
        ttl = pick(rng, TTLS)
        a = "10.%d.%d.%d" % (i // 65536 % 256, i // 256 % 256, i % 256)
        out.append('local-data: "%s. %d IN A %s"' % (n, ttl, a))
        has = ["A"]
        if rng.random() < 0.6:
            out.append('local-data: "%s. %d IN AAAA fd00::%x"' % (n, ttl, i))
            has.append("AAAA")
        if rng.random() < 0.5:
            out.append('local-data: "%s. %d IN MX 10 mx.%s."' % (n, ttl, n))
            has.append("MX")
        if rng.random() < 0.5:
            out.append('local-data: "%s. %d IN TXT \\"v=spf1 -all\\""' %
                       (n, ttl))
            has.append("TXT")
        recs[n] = has
    # Cluster services, 5 s TTL as Kubernetes' DNS gives them.
    services = []
    for j, ns in enumerate(["default", "prod", "monitoring"]):
        for k in range(8):
            svc = "svc%d.%s" % (k, ns)
            out.append('local-data: "%s.svc.cluster.local. 5 IN A '
                       '10.96.%d.%d"' % (svc, j, k))
            services.append(svc)
    with open(os.path.join(d, "origin.zone.conf"), "w") as f:
        f.write("\n".join("\t" + line for line in out) + "\n")
    # Zipf (s = 1) over the ranks: the cumulative weights, then bisect.
    cum, acc = [], 0.0
    for r in range(1, len(names) + 1):
        acc += 1.0 / r
        cum.append(acc)
    scum, acc = [], 0.0
    for r in range(1, len(services) + 1):
        acc += 1.0 / r
        scum.append(acc)

    def zipf(c, pool):
        return pool[min(len(pool) - 1, bisect.bisect(c, rng.random() * c[-1]))]

    work = []
    for i in range(int(rate * secs)):
        t = i / rate
        kind = pick(rng, MIX)
        if kind == "pod":
            name = zipf(scum, services) if rng.random() < 0.4 else \
                zipf(cum, names)
            work.append([t, "pod", name, "ANY"])
        elif kind == "NX":
            work.append([t, "NX", "nx%d.%s" % (rng.randrange(4),
                                               zipf(cum, names)), "A"])
        else:
            n = zipf(cum, names)
            work.append([t, kind, n, kind])
    with open(os.path.join(d, "workload.json"), "w") as f:
        json.dump({"rate": rate, "secs": secs, "lookups": work}, f)
    print("bench_replay: %d names, %d tlds, %d services, %d lookups" %
          (len(names), len(tlds), len(services), len(work)))


# --- the DNS sender ---------------------------------------------------------

def build(qid, name, qtype):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", qtype, 1)


class Sender(asyncio.DatagramProtocol):
    def __init__(self):
        self.transport = None
        self.pending = {}
        self.next = random.randrange(65536)
        self.sent = 0

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if len(data) < 12:
            return
        qid, flags, _, an = struct.unpack(">HHHH", data[:8])
        fut = self.pending.pop(qid, None)
        if fut is not None and not fut.done():
            fut.set_result((flags & 0xf, an))

    async def ask(self, name, qtype):
        loop = asyncio.get_running_loop()
        while self.next in self.pending:
            self.next = (self.next + 1) % 65536
        qid = self.next
        self.next = (self.next + 1) % 65536
        fut = loop.create_future()
        self.pending[qid] = fut
        self.transport.sendto(build(qid, name, QTYPES[qtype]))
        self.sent += 1
        try:
            return await asyncio.wait_for(fut, TIMEOUT)
        except asyncio.TimeoutError:
            self.pending.pop(qid, None)
            return (-1, 0)


def candidates(name):
    """glibc's res_search() order for ndots:5 and the pod's search list."""
    if name.count(".") >= NDOTS:
        return [name] + [name + "." + s for s in SEARCH]
    return [name + "." + s for s in SEARCH] + [name]


async def one(s, item):
    t0 = time.perf_counter()
    kind, name, qtype = item[1], item[2], item[3]
    ok = True
    if kind == "pod":
        for cand in candidates(name):
            a, b = await asyncio.gather(s.ask(cand, "A"), s.ask(cand, "AAAA"))
            if a[0] == -1 or b[0] == -1:
                ok = False
                break
            if (a[0] == 0 and a[1] > 0) or (b[0] == 0 and b[1] > 0):
                break
    else:
        r = await s.ask(name, qtype)
        ok = r[0] != -1
    return (time.perf_counter() - t0, ok)


async def dns_replay(port, work):
    loop = asyncio.get_running_loop()
    tr, s = await loop.create_datagram_endpoint(
        Sender, remote_addr=("127.0.0.1", port))
    start = time.perf_counter()
    tasks = []
    for item in work:
        delay = start + item[0] - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(s, item)))
    res = await asyncio.gather(*tasks)
    tr.close()
    return res, s.sent


def dns(port, d, out):
    with open(os.path.join(d, "workload.json")) as f:
        w = json.load(f)
    res, sent = asyncio.run(dns_replay(port, w["lookups"]))
    with open(out, "w") as f:
        json.dump({"lat": [r[0] for r in res],
                   "lost": sum(1 for r in res if not r[1]),
                   "lookups": len(res), "queries": sent}, f)


# --- the NSS sender ---------------------------------------------------------

def nss(d, out):
    """getaddrinfo() as programs call it: a name with a final dot for one
    question (no search), the bare name for a pod's lookup (codnsd walks
    the search list). MX and TXT have no NSS call: left out."""
    with open(os.path.join(d, "workload.json")) as f:
        w = json.load(f)
    items = [i for i in w["lookups"] if i[1] not in ("MX", "TXT")]
    lat = [0.0] * len(items)
    lost = [0]
    sem = threading.Semaphore(64)
    lock = threading.Lock()

    def call(k, item):
        kind, name = item[1], item[2]
        fam = {"A": socket.AF_INET, "NX": socket.AF_INET,
               "AAAA": socket.AF_INET6}.get(kind, socket.AF_UNSPEC)
        t0 = time.perf_counter()
        try:
            socket.getaddrinfo(name if kind == "pod" else name + ".", None,
                               fam, socket.SOCK_STREAM)
        except socket.gaierror as e:
            if e.errno not in (socket.EAI_NONAME, socket.EAI_NODATA):
                with lock:
                    lost[0] += 1
        lat[k] = time.perf_counter() - t0
        sem.release()

    start = time.perf_counter()
    threads = []
    for k, item in enumerate(items):
        delay = start + item[0] - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sem.acquire()
        th = threading.Thread(target=call, args=(k, item))
        th.start()
        threads.append(th)
        if len(threads) > 256:
            threads = [x for x in threads if x.is_alive()]
    for th in threads:
        th.join()
    with open(out, "w") as f:
        json.dump({"lat": lat, "lost": lost[0], "lookups": len(items),
                   "queries": len(items)}, f)


# --- the report -------------------------------------------------------------

def upstream_series(log, t0):
    """Per-second counts of the queries the origin logged (unbound's
    log-queries: "[epoch] unbound[pid:0] info: 127.0.0.1 NAME TYPE IN"),
    and how many were of the types the NSS path has no call for."""
    per = {}
    n = other = 0
    with open(log, errors="replace") as f:
        for line in f:
            m = re.match(r"^\[(\d+)\] unbound\[[^]]*\] info: 127\.0\.0\.1 "
                         r"\S+ (\S+) ", line)
            if not m:
                continue
            n += 1
            if m.group(2) in NSS_LESS:
                other += 1
            s = int(m.group(1)) - int(t0)
            per[s] = per.get(s, 0) + 1
    return n, other, per


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))] if v else 0.0


def report(d):
    with open(os.path.join(d, "phases.json")) as f:
        phases = json.load(f)
    with open(os.path.join(d, "workload.json")) as f:
        addr_lookups = sum(1 for i in json.load(f)["lookups"]
                           if i[1] not in NSS_LESS)
    rows, series = [], {}
    for ph in phases:
        with open(ph["result"]) as f:
            r = json.load(f)
        up, other, per = upstream_series(ph["origin_log"], ph["t0"])
        series[ph["name"]] = per
        if ph.get("misses") is not None:
            hit = 1.0 - ph["misses"] / max(1, r["lookups"])
        else:
            hit = max(0.0, 1.0 - up / max(1, r["queries"]))
        rows.append((ph["name"], r["lookups"], r["queries"], up,
                     1000.0 * up / max(1, r["lookups"]), hit,
                     1000 * pct(r["lat"], 0.5), 1000 * pct(r["lat"], 0.99),
                     r["lost"], 100000.0 * ph["cpu_s"] / max(1, r["queries"]),
                     1000.0 * (up - other) / max(1, addr_lookups),
                     100000.0 * ph["cpu_s"] / max(1, r["lookups"])))
    print("%-14s %8s %8s %8s %10s %7s %8s %8s %6s %12s" % (
        "server", "lookups", "queries", "upstream", "up/1000lk", "hit",
        "p50_ms", "p99_ms", "lost", "cpu_s/100kq"))
    for row in rows:
        print("%-14s %8d %8d %8d %10.1f %6.1f%% %8.3f %8.3f %6d %12.3f" % (
            row[0], row[1], row[2], row[3], row[4], 100 * row[5], row[6],
            row[7], row[8], row[9]))
    # The NSS path has no call for MX and TXT, so its lookups are the
    # others only, a mix of more costly lookups, and its "queries" are
    # its lookups. Like for like: upstream queries per 1000 of the
    # lookups every server made (all but MX and TXT, and the queries of
    # those types left out), and CPU per lookup (each server's own).
    print("\nLike for like: upstream queries per 1000 of the %d lookups"
          " all servers made (not %s);\nCPU seconds per 100 000 lookups"
          " (a pod's walk is one):" % (addr_lookups,
                                       " or ".join(sorted(NSS_LESS))))
    print("%-14s %10s %14s" % ("server", "up/1000lk", "cpu_s/100klk"))
    for row in rows:
        print("%-14s %10.1f %14.3f" % (row[0], row[10], row[11]))
    secs = max((max(p) for p in series.values() if p), default=0) + 1
    with open(os.path.join(d, "series.dat"), "w") as f:
        f.write("# second " + " ".join(series) + "\n")
        for s in range(secs):
            f.write("%d %s\n" % (s, " ".join(str(p.get(s, 0))
                                              for p in series.values())))


def main():
    cmd = sys.argv[1]
    if cmd == "zone":
        zone(sys.argv[2], sys.argv[3], float(sys.argv[4]),
             float(sys.argv[5]), int(sys.argv[6]))
    elif cmd == "dns":
        dns(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif cmd == "nss":
        nss(sys.argv[2], sys.argv[3])
    elif cmd == "report":
        report(sys.argv[2])
    else:
        sys.exit("usage: see the top of bench_replay.py")


main()
