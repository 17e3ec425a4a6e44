#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# scripts/bench_peers.py: helpers of bench_peers.sh: a lossy UDP proxy,
# the steady fresh-name load with the periodic nameserver stop, and the
# table. Loopback only; every mode is bounded in time.
#
#   proxy ADDR PORT UPADDR UPPORT DROP_PERCENT SEED MAX_SECONDS
#   load LISTEN RATE SECONDS PREFIX NS_PID STOP_MS PERIOD_MS FIRST_MS OUT
#   table NOPEERS_DIR PEERS_DIR
import json
import os
import random
import re
import select
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import lookup  # noqa: E402


def proxy(addr, port, upaddr, upport, drop, seed, maxs):
    """Relay UDP queries to the nameserver, dropping DROP % of them, so
    that the resolver's own retry timer shows (the CoDNS paper counts
    such losses among the local nameserver's failures)."""
    rnd = random.Random(seed)
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind((addr, port))
    up = (upaddr, upport)
    by_client = {}  # client address -> its own upstream socket
    by_sock = {}
    end = time.monotonic() + maxs
    while time.monotonic() < end:
        r, _, _ = select.select([front] + list(by_sock), [], [], 0.5)
        for s in r:
            if s is front:
                data, client = front.recvfrom(65535)
                if rnd.random() * 100 < drop:
                    continue
                u = by_client.get(client)
                if u is None:
                    if len(by_client) >= 512:  # bounded: forget the oldest
                        old = by_client.pop(next(iter(by_client)))
                        del by_sock[old]
                        old.close()
                    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    u.bind((addr, 0))
                    by_client[client] = u
                    by_sock[u] = client
                u.sendto(data, up)
            elif s in by_sock:
                data = s.recv(65535)
                front.sendto(data, by_sock[s])


def load(listen, rate, seconds, prefix, nspid, stop_ms, period_ms, first_ms,
         out):
    """Fresh names at a steady rate over a few pipelined connections (the
    answers come back as they finish, matched by id), while a controller
    thread stops the nameserver STOP_MS every PERIOD_MS (never when
    STOP_MS is 0), always continuing it before returning."""
    count = int(rate * seconds)
    conns = [lookup.connect(listen) for _ in range(4)]
    sent = {}
    got = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds + 8  # lookup-timeout 5 s + slack
    stopped = [False]

    def cont():
        if stopped[0]:
            os.kill(nspid, signal.SIGCONT)
            stopped[0] = False

    def on_term(signum, frame):
        cont()
        sys.exit(1)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    def reader(s, n):
        s.settimeout(0.5)
        while n > 0 and time.monotonic() < deadline:
            try:
                r = lookup.response(s)
            except socket.timeout:
                continue
            except (OSError, EOFError):
                return
            with lock:
                got[r["id"]] = (time.monotonic(), r)
            n -= 1

    start = time.monotonic() + 0.05

    def controller():
        t = first_ms / 1000.0
        while stop_ms > 0 and t + stop_ms / 1000.0 <= seconds:
            time.sleep(max(0.0, start + t - time.monotonic()))
            os.kill(nspid, signal.SIGSTOP)
            stopped[0] = True
            time.sleep(max(0.0, start + t + stop_ms / 1000.0 -
                           time.monotonic()))
            cont()
            t += period_ms / 1000.0

    readers = [threading.Thread(target=reader, daemon=True,
                                args=(conns[k], len(range(k, count, 4))))
               for k in range(4)]
    for t in readers:
        t.start()
    ctl = threading.Thread(target=controller, daemon=True)
    try:
        ctl.start()
        for i in range(count):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            sent[i + 1] = time.monotonic()
            conns[i % 4].sendall(lookup.request(
                i + 1, "%s%dx.test.example" % (prefix, i), 4))
        ctl.join(max(0.0, start + seconds + 1 - time.monotonic()))
        for t in readers:
            t.join(max(0.0, deadline - time.monotonic()))
    finally:
        cont()
    with open(out, "w") as f:
        for rid in sorted(sent):
            if rid in got:
                t, r = got[rid]
                f.write("%d %.3f %s %s %s\n" % (
                    rid, (t - sent[rid]) * 1000, r["status"], r["source"],
                    r["peer"] or "-"))
            else:
                f.write("%d - lost - -\n" % rid)


def pct(sorted_vals, q):
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, max(0, int(q * len(sorted_vals) + 0.999) - 1))
    return sorted_vals[k]


def figures(d):
    rows = [ln.split() for ln in open(os.path.join(d, "lookups.out"))]
    n = len(rows)
    lat = sorted(float(r[1]) for r in rows if r[1] != "-")
    lost = n - len(lat)
    # A lost lookup (no answer at all) counts as over 1 s.
    over = sum(1 for v in lat if v > 1000) + lost
    found = sum(1 for r in rows if r[2] == "found")
    bypeer = sum(1 for r in rows if r[3] == "peer")
    names = set("%s%dx.test.example" % (open(os.path.join(d, "prefix"))
                                        .read().strip(), int(r[0]) - 1)
                for r in rows)
    # Lookups with at least one peer query: every name is fresh, so a
    # peer that was asked resolved it through its own nameserver, which
    # logged it. Counted once per name however many peers were asked.
    asked = set()
    for fn in os.listdir(d):
        if fn.startswith("peerns") and fn.endswith(".log"):
            for ln in open(os.path.join(d, fn)):
                m = re.search(r"query\[\w+\] (\S+) from", ln)
                if m and m.group(1) in names:
                    asked.add(m.group(1))
    b = json.load(open(os.path.join(d, "stats.before")))
    a = json.load(open(os.path.join(d, "stats.after")))
    dl = a["lookups"] - b["lookups"]
    ds = (a["counters"]["peer_queries_sent"] -
          b["counters"]["peer_queries_sent"])
    return {
        "n": n, "lost": lost,
        "mean": sum(lat) / len(lat) if lat else float("nan"),
        "p50": pct(lat, 0.50), "p90": pct(lat, 0.90), "p99": pct(lat, 0.99),
        "max": lat[-1] if lat else float("nan"),
        "over": 100.0 * over / n, "found": 100.0 * found / n,
        "bypeer": 100.0 * bypeer / n, "asked": 100.0 * len(asked) / n,
        "sent": ds / dl if dl else 0.0,
    }


def table(d0, d1):
    f0, f1 = figures(d0), figures(d1)

    def ratio(k):
        return "%.3g" % (f1[k] / f0[k]) if f0[k] else "-"

    rows = [
        ("lookups", "n", "%d", False),
        ("mean latency, ms", "mean", "%.1f", True),
        ("p50 latency, ms", "p50", "%.1f", False),
        ("p90 latency, ms", "p90", "%.1f", False),
        ("p99 latency, ms", "p99", "%.1f", False),
        ("max latency, ms", "max", "%.1f", False),
        ("lookups over 1 s, %", "over", "%.2f", True),
        ("answered (found), %", "found", "%.2f", False),
        ("no answer at all", "lost", "%d", False),
        ("answered by a peer, %", "bypeer", "%.2f", False),
        ("lookups with a peer query, %", "asked", "%.2f", False),
        ("peer queries sent / lookup", "sent", "%.3f", False),
    ]
    print("%-30s %12s %12s %15s" % ("", "no peers", "4-node peers",
                                    "peers/no-peers"))
    for label, k, fmt, with_ratio in rows:
        print("%-30s %12s %12s %15s" % (label, fmt % f0[k], fmt % f1[k],
                                        ratio(k) if with_ratio else ""))


def main():
    mode, a = sys.argv[1], sys.argv[2:]
    if mode == "proxy":
        proxy(a[0], int(a[1]), a[2], int(a[3]), float(a[4]), int(a[5]),
              float(a[6]))
    elif mode == "load":
        load(a[0], float(a[1]), float(a[2]), a[3], int(a[4]), int(a[5]),
             int(a[6]), int(a[7]), a[8])
    elif mode == "table":
        table(a[0], a[1])
    else:
        sys.exit("usage: bench_peers.py proxy|load|table ...")


if __name__ == "__main__":
    main()
