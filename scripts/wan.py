#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# scripts/wan.py: plans the emulated WAN of scripts/wan_lib.sh and runs its
# scenarios: measures what codnsd does over real distances (issue 21).
#
# usage: wan.py plan DIR --matrix CSV --sites "City:N,..." [options]
#        wan.py ping DIR                  (emulated RTTs against the matrix)
#        wan.py converge|steady|rescue|partial|isolated DIR [options]
#        wan.py fact DIR NAME             (exit 0 when the fact holds)
#        wan.py targets DIR               (the targets, met or not)
#        wan.py plots DIR                 (gnuplot data files)
# Every scenario prints its figures and stores them in DIR/results.json;
# "fact" reads them back for tests/integration/test_wan.sh. The scripts
# never judge wall-clock speed: figures are printed, facts are about who
# answered and what was measured.
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import lookup  # noqa: E402

NET = "198.18"           # RFC 2544 benchmarking range, only in our namespaces
PEER_PORT = 7053
ZONE = "wan.test"


# --- the plan: sites, nodes, addresses, truth ---

def read_matrix(path):
    rtt = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or line.startswith("site_a"):
                continue
            a, b, v = line.split(",")
            rtt[(a, b)] = float(v)
    return rtt


def plan(args):
    d = args.dir
    m = read_matrix(args.matrix)
    sites = []
    for part in args.sites.split(","):
        name, n = part.split(":")
        sites.append((name.strip(), int(n)))
    names = [s for s, _ in sites]
    truth = {}
    for a in names:
        for b in names:
            if a == b:
                truth[a + "|" + b] = args.same_site_rtt
                continue
            v = [m[k] for k in ((a, b), (b, a)) if k in m]
            if not v:
                sys.exit("wan.py: no RTT for %s-%s in %s" % (a, b, args.matrix))
            truth[a + "|" + b] = sum(v) / len(v)
    rows = []
    for si, (site, n) in enumerate(sites):
        rows.append(("ns", "ns-" + site, site, si, "%s.%d.250" % (NET, si + 1)))
        for k in range(n):
            rows.append(("node", "%s%d" % (site, k + 1), site, si,
                         "%s.%d.%d" % (NET, si + 1, k + 1)))
    with open(os.path.join(d, "plan.tsv"), "w") as f:
        for kind, name, site, si, addr in rows:
            f.write("%s %s %s %d %s %s-%s\n" % (kind, name, site, si, addr,
                                                args.tag, name))
    with open(os.path.join(d, "router.conf"), "w") as f:
        f.write("stats %s\njitter %d\nloss %d\nseed %d\n" % (
            os.path.join(d, "router.stats"), args.jitter, args.loss_ppm,
            args.seed))
        if args.start_burst:
            secs, us = args.start_burst.split(":")
            f.write("burst %d %d\n" % (int(secs), int(us)))
        for kind, name, site, si, addr in rows:
            f.write("endpoint /var/run/netns/%s-%s %s %d\n" % (
                args.tag, name, addr, si))
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                if j >= i:
                    f.write("delay %d %d %d\n" % (
                        i, j, round(truth[a + "|" + b] * 500)))
    with open(os.path.join(d, "peers"), "w") as f:
        for kind, name, site, si, addr in rows:
            if kind == "node":
                f.write("%s:%d\n" % (addr, PEER_PORT))
    extra = ""
    if args.conf_extra:
        with open(args.conf_extra) as f:
            extra = f.read()
    for kind, name, site, si, addr in rows:
        if kind == "ns":
            with open(os.path.join(d, name + ".dnsmasq.conf"), "w") as f:
                f.write("no-resolv\nno-hosts\nport=53\nlisten-address=%s\n"
                        "bind-interfaces\nlocal-ttl=300\nlocal=/%s/\n"
                        "host-record=ns.%s.%s,%s\n"
                        "address=/%s/192.0.2.%d\n" % (
                            addr, ZONE, site.lower(), ZONE, addr, ZONE,
                            si + 1))
            continue
        with open(os.path.join(d, name + ".conf"), "w") as f:
            f.write("upstream %s.%d.250:53\nlisten none\nshared-cache no\n"
                    "lookup-socket %s\ncontrol-socket %s\n"
                    "peer-listen %s:%d\npeers-file %s\n%s" % (
                        NET, si + 1, os.path.join(d, name + ".lookup.sock"),
                        os.path.join(d, name + ".ctl.sock"), addr, PEER_PORT,
                        os.path.join(d, "peers"), extra))
    conf = {"sites": names, "truth": truth, "neighbors": args.neighbors,
            "rtt_max": args.rtt_max, "jitter_permille": args.jitter,
            "loss_ppm": args.loss_ppm, "matrix": args.matrix,
            "start_burst": args.start_burst}
    with open(os.path.join(d, "wan.json"), "w") as f:
        json.dump(conf, f)


class Wan:
    """The testbed as planned in DIR, with the pids wan_lib.sh recorded."""

    def __init__(self, d):
        self.dir = d
        with open(os.path.join(d, "wan.json")) as f:
            self.conf = json.load(f)
        self.nodes, self.ns = [], {}
        self.site_of = {}
        with open(os.path.join(d, "plan.tsv")) as f:
            for line in f:
                kind, name, site, si, addr, netns = line.split()
                e = {"name": name, "site": site, "addr": addr, "netns": netns,
                     "pid": self._pid(name)}
                self.site_of[addr] = site
                if kind == "ns":
                    self.ns[site] = e
                else:
                    e["lookup"] = os.path.join(d, name + ".lookup.sock")
                    e["ctl"] = os.path.join(d, name + ".ctl.sock")
                    self.nodes.append(e)
        self.by_addr = {n["addr"]: n for n in self.nodes}
        self.K = self.conf["neighbors"]
        self.rtt_max = self.conf["rtt_max"]

    def _pid(self, name):
        try:
            with open(os.path.join(self.dir, name + ".pid")) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def truth(self, a, b):
        return self.conf["truth"][self.site_of[a] + "|" + self.site_of[b]]

    def optimal(self, node, alive=None):
        """The K nearest other nodes under neighbor-rtt-max, by true RTT."""
        c = [(self.truth(node["addr"], o["addr"]), o["addr"])
             for o in self.nodes if o is not node and
             (alive is None or o["addr"] in alive)]
        c = sorted(x for x in c if x[0] < self.rtt_max)
        return [a for _, a in c[:self.K]]

    def results(self):
        p = os.path.join(self.dir, "results.json")
        if os.path.exists(p):
            with open(p) as f:
                return json.load(f)
        return {}

    def store(self, key, value):
        r = self.results()
        r[key] = value
        with open(os.path.join(self.dir, "results.json"), "w") as f:
            json.dump(r, f)


# --- probes: control socket, lookups, router counters, /proc ---

def ctl(sock, cmd):
    try:
        return lookup.control(sock, cmd, 5)
    except (OSError, RuntimeError):
        return None


def peer_rows(node):
    """codnsctl --json peers of node, keyed by bare address; None if the
    daemon does not answer (stopped)."""
    r = ctl(node["ctl"], "peers")
    if r is None:
        return None
    out = {}
    for p in r.get("peers", []):
        out[p["address"].rsplit(":", 1)[0]] = p
    return out


def snapshot(wan, skip=()):
    t = time.monotonic()
    snap = {}
    for n in wan.nodes:
        if n["addr"] in skip:
            continue
        rows = peer_rows(n)
        if rows is not None:
            snap[n["addr"]] = rows
    return t, snap


def neighbours(rows):
    return {a for a, p in rows.items() if p.get("state") == "neighbour"}


def router_stats(wan):
    """The router's counters by node address, and "time_ns": when it wrote
    them (its monotonic clock, in seconds)."""
    out = {}
    try:
        with open(os.path.join(wan.dir, "router.stats")) as f:
            for line in f:
                v = line.split()
                if v[0] == "time_ns":
                    out["time_ns"] = int(v[1]) / 1e9
                else:
                    out[v[0]] = [int(x) for x in v[1:]]
    except OSError:
        pass
    return out


def hb_rates(hist, addr, window):
    """The highest heartbeat rate of addr over any span of at least window
    seconds between two router snapshots."""
    hist = [h for h in hist if "time_ns" in h]
    best = 0.0
    i = 0
    for j in range(len(hist)):
        while i + 1 < j and hist[j]["time_ns"] - hist[i + 1]["time_ns"] >= window:
            i += 1
        dt = hist[j]["time_ns"] - hist[i]["time_ns"]
        if j > i and dt >= window and addr in hist[j] and addr in hist[i]:
            best = max(best, (hist[j][addr][1] - hist[i][addr][1]) / dt)
    return best


def rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, TypeError):
        pass
    return float("nan")


def q(vals, p):
    v = sorted(vals)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, int(p * len(v)))]


def signal_pid(pid, sig):
    try:
        os.kill(pid, sig)
    except (OSError, TypeError):
        pass


def lookups(wan, nodes, secs, gap, tag):
    """Each node asks for fresh names (never cached anywhere) one after the
    other for secs seconds; returns one record per lookup."""
    out = []
    lock = threading.Lock()
    end = time.monotonic() + secs
    run = "%x" % (int(time.time() * 1000) & 0xffffff)

    def worker(n):
        i = 0
        s = None
        while time.monotonic() < end and i < 10000:
            i += 1
            name = "%s-%s-%d-%s.%s" % (tag, run, i, n["name"].lower(), ZONE)
            t0 = time.monotonic()
            rec = {"node": n["addr"], "t": t0, "name": name}
            try:
                if s is None:
                    s = lookup.connect(n["lookup"])
                    s.settimeout(15)
                s.sendall(lookup.request(i, name, 4))
                r = lookup.response(s)
                rec.update(status=r["status"], source=r["source"],
                           peer=r["peer"].rsplit(":", 1)[0] if r["peer"] else "",
                           latency_ms=r["latency_us"] / 1000.0,
                           addrs=r["addrs"])
            except (OSError, EOFError, ValueError, IndexError):
                rec.update(status="error", source="none", peer="",
                           latency_ms=(time.monotonic() - t0) * 1000, addrs=[])
                if s is not None:
                    s.close()
                s = None
            with lock:
                out.append(rec)
            time.sleep(gap)
        if s is not None:
            s.close()

    th = [threading.Thread(target=worker, args=(n,)) for n in nodes]
    for t in th:
        t.start()
    for t in th:
        t.join(secs + 30)
    return out


# --- per-node report ---

def neighbour_report(wan, snap, alive=None):
    """Per node: chosen neighbours against the RTT-optimal set."""
    rows = []
    for n in wan.nodes:
        if n["addr"] not in snap:
            continue
        chosen = sorted(neighbours(snap[n["addr"]]))
        opt = wan.optimal(n, alive)
        ct = [wan.truth(n["addr"], a) for a in chosen]
        ot = [wan.truth(n["addr"], a) for a in opt]
        # Nodes of one site are equally far: compare distances, not names.
        left = sorted(round(x, 1) for x in ot)
        same = 0
        for x in sorted(round(x, 1) for x in ct):
            if x in left:
                left.remove(x)
                same += 1
        rows.append({"node": n["name"], "addr": n["addr"],
                     "chosen": chosen, "optimal": opt, "same": same,
                     "is_optimal": same == len(ot) == len(ct),
                     "chosen_mean_ms": sum(ct) / len(ct) if ct else None,
                     "optimal_mean_ms": sum(ot) / len(ot) if ot else None})
    return rows


def fmt(v, spec="%.1f"):
    return "-" if v is None or v != v else spec % v


def print_neighbours(wan, rows):
    print("%-12s %5s %5s %8s %8s  chosen neighbours (site:count)" % (
        "node", "same", "of", "chosen", "optimal"))
    for r in rows:
        per = {}
        for a in r["chosen"]:
            per[wan.site_of[a]] = per.get(wan.site_of[a], 0) + 1
        print("%-12s %5d %5d %8s %8s  %s" % (
            r["node"], r["same"], len(r["optimal"]),
            fmt(r["chosen_mean_ms"]), fmt(r["optimal_mean_ms"]),
            " ".join("%s:%d" % kv for kv in sorted(per.items()))))
    n_opt = sum(1 for r in rows if r["is_optimal"])
    print("nodes with the RTT-optimal neighbour set: %d of %d" % (n_opt, len(rows)))


# --- scenarios ---

def rtt_errors(wan, snap):
    errs = []
    for a, rows in snap.items():
        for b, p in rows.items():
            if b == a or b not in wan.by_addr:
                continue
            if p.get("state") in ("probing", "down") or p.get("rtt_ms") is None:
                continue
            t = wan.truth(a, b)
            errs.append((p["rtt_ms"] - t, t, a, b))
    return errs


def within(err, truth):
    return abs(err) <= max(0.1 * truth, 2.0)


def converge(wan, args):
    """After a fleet-wide simultaneous start: RTT error against the truth
    over time, and the first sample of every pair."""
    t0 = float(open(os.path.join(wan.dir, "start.time")).read())
    series, first = [], {}
    end = time.monotonic() + args.secs
    last = None
    for _ in range(100000):
        if time.monotonic() >= end:
            break
        t, snap = snapshot(wan)
        errs = rtt_errors(wan, snap)
        for e, tr, a, b in errs:
            first.setdefault((a, b), (e, tr))
        ab = [abs(e) for e, _, _, _ in errs]
        ok = sum(1 for e, tr, _, _ in errs if within(e, tr))
        series.append({"t": t - t0, "pairs": len(errs),
                       "median_err": q([e for e, _, _, _ in errs], 0.5),
                       "p90_abs": q(ab, 0.9), "max_abs": max(ab) if ab else None,
                       "within": ok})
        last = (errs, snap)
        time.sleep(max(0.0, args.every - (time.monotonic() - t)))
    print("== fleet-wide simultaneous start: RTT error against the truth "
          "(within = |err| <= max(10 %, 2 ms))")
    print("%7s %6s %10s %10s %10s %8s" % ("t_s", "pairs", "median_ms",
                                          "p90|err|", "max|err|", "within"))
    for s in series:
        print("%7.1f %6d %10s %10s %10s %7d/%d" % (
            s["t"], s["pairs"], fmt(s["median_err"]), fmt(s["p90_abs"]),
            fmt(s["max_abs"]), s["within"], s["pairs"]))
    fe = [e for e, _ in first.values()]
    worst = []
    if last:
        worst = sorted(last[0], key=lambda x: -abs(x[0]))[:5]
        print("worst pairs at the end: " + ", ".join(
            "%s->%s %+.1f ms (truth %.1f)" % (wan.by_addr[a]["name"],
                                              wan.by_addr[b]["name"], e, tr)
            for e, tr, a, b in worst))
    print("first samples: median error %s ms, p90 %s ms, max %s ms (%d pairs)" % (
        fmt(q(fe, 0.5)), fmt(q(fe, 0.9)), fmt(max(fe) if fe else None), len(fe)))
    end_ok = bool(last) and bool(last[0]) and all(within(e, tr) for e, tr, _, _ in last[0])
    t_ok = None
    for s in series:
        if s["pairs"] and s["within"] == s["pairs"]:
            t_ok = s["t"]
            break
    # The target's reading: from when on every pair of nodes has been
    # measured and every measured pair is within, to the end of the
    # watch (a pair whose peer is down a moment shows no RTT).
    allp = len(wan.nodes) * (len(wan.nodes) - 1)
    t_all = None
    for s in series:
        if s["within"] < s["pairs"]:
            t_all = None
        elif t_all is None and s["pairs"] == allp:
            t_all = s["t"]
    print("every measured RTT near the truth: %s (first at %s s)" % (
        "yes" if end_ok else "no", fmt(t_ok)))
    print("all %d pairs measured and near the truth from %s s on" % (
        allp, fmt(t_all)))
    wan.store("converge", {"series": series, "first_median": q(fe, 0.5),
                           "first_p90": q(fe, 0.9), "end_ok": end_ok,
                           "all_within_at_s": t_ok,
                           "all_pairs_within_from_s": t_all,
                           "end_pairs": len(last[0]) if last else 0,
                           "end_within": sum(1 for e, tr, _, _ in last[0]
                                             if within(e, tr)) if last else 0})


def steady(wan, args):
    """Steady state: neighbours against the optimal set, neighbour changes
    a minute, heartbeats a second (counted at the router) and RSS."""
    st0, t0 = router_stats(wan), time.monotonic()
    _, prev = snapshot(wan)
    changes = {a: 0 for a in prev}
    end = t0 + args.secs
    snap = prev
    for _ in range(100000):
        if time.monotonic() >= end:
            break
        time.sleep(args.every)
        _, snap = snapshot(wan)
        for a, rows in snap.items():
            if a in prev:
                changes[a] = changes.get(a, 0) + len(neighbours(rows) - neighbours(prev[a]))
        prev = snap
    el = time.monotonic() - t0
    st1 = router_stats(wan)
    rows = neighbour_report(wan, snap)
    print("== steady state over %.0f s" % el)
    print_neighbours(wan, rows)
    print("%-12s %9s %8s %8s %7s" % ("node", "chg/min", "hb/s", "peer/s", "RSS_MB"))
    per = []
    for n in wan.nodes:
        a = n["addr"]
        d = [x - y for x, y in zip(st1.get(a, [0] * 8), st0.get(a, [0] * 8))]
        hb = d[1] / el
        tot = (sum(d[1:6]) + sum(d[7:8])) / el  # types 1-5, and 6 (echo)
        cpm = changes.get(a, 0) / (el / 60.0)
        rss = rss_mb(n["pid"])
        per.append({"node": n["name"], "changes_per_min": cpm, "hb_s": hb,
                    "peer_dgrams_s": tot, "rss_mb": rss})
        print("%-12s %9.2f %8.2f %8.2f %7.1f" % (n["name"], cpm, hb, tot, rss))
    wan.store("steady", {"secs": el, "neighbours": rows, "nodes": per})


def rescue_run(wan, site, secs, gap, stop_nodes=(), key="rescue"):
    """Stops site's nameserver (and stop_nodes' daemons), sends lookups from
    the site's running nodes, then resumes all."""
    ns = wan.ns[site]
    victims = [n for n in wan.nodes if n["site"] == site]
    stopped = {n["addr"] for n in stop_nodes}
    askers = [n for n in victims if n["addr"] not in stopped]
    signal_pid(ns["pid"], signal.SIGSTOP)
    for n in stop_nodes:
        signal_pid(n["pid"], signal.SIGSTOP)
    try:
        recs = lookups(wan, askers, secs, gap, key)
    finally:
        signal_pid(ns["pid"], signal.SIGCONT)
    healthy = [o["addr"] for o in wan.nodes
               if o["site"] != site and o["addr"] not in stopped]
    per = []
    for n in askers:
        mine = [r for r in recs if r["node"] == n["addr"]]
        ok = [r for r in mine if r["status"] == "found"]
        lat = [r["latency_ms"] for r in ok]
        ideal = min((wan.truth(n["addr"], h) for h in healthy), default=None)
        by_site = {}
        for r in ok:
            s = wan.site_of.get(r["peer"], r["source"]) if r["source"] == "peer" else r["source"]
            by_site[s] = by_site.get(s, 0) + 1
        per.append({"node": n["name"], "addr": n["addr"], "n": len(mine),
                    "found": len(ok), "p50": q(lat, 0.5), "p90": q(lat, 0.9),
                    "p99": q(lat, 0.99), "ideal": ideal, "by_site": by_site})
    return recs, per


def print_rescue(title, per, rtt_max=None):
    print("== " + title)
    print("%-12s %5s %6s %8s %8s %8s %8s %7s  answered by" % (
        "node", "n", "found", "p50_ms", "p90_ms", "p99_ms", "ideal", "p50ok"))
    for r in per:
        ok50 = r["ideal"] is not None and r["p50"] == r["p50"] and r["p50"] <= r["ideal"] + 5
        ok99 = r["ideal"] is not None and r["p99"] == r["p99"] and r["p99"] <= 2 * r["ideal"] + 10
        print("%-12s %5d %6d %8s %8s %8s %8s %3s/%-3s  %s" % (
            r["node"], r["n"], r["found"], fmt(r["p50"]), fmt(r["p90"]),
            fmt(r["p99"]), fmt(r["ideal"]), "yes" if ok50 else "no",
            "yes" if ok99 else "no",
            " ".join("%s:%d" % kv for kv in sorted(r["by_site"].items()))))


def nearest_sites(wan, site, excluded=()):
    others = [s for s in wan.conf["sites"] if s != site and s not in excluded]
    return sorted(others, key=lambda s: wan.conf["truth"][site + "|" + s])


def rescue(wan, args):
    recs, per = rescue_run(wan, args.site, args.secs, args.gap)
    print_rescue("%s's nameserver stopped for %d s: rescue latency (ideal = "
                 "RTT to the nearest healthy peer; p50ok = p50 <= ideal+5, "
                 "p99 <= 2 ideal+10)" % (args.site, args.secs), per)
    near = nearest_sites(wan, args.site)[0]
    peer_wins = [r for r in recs if r["status"] == "found" and r["source"] == "peer"]
    share = sum(1 for r in peer_wins if wan.site_of.get(r["peer"]) == near)
    print("rescues answered by the nearest site (%s): %d of %d" % (
        near, share, len(peer_wins)))
    wan.store("rescue", {"site": args.site, "nearest_site": near,
                         "nearest_answered": share, "peer_answers": len(peer_wins),
                         "lookups": len(recs),
                         "found": sum(1 for r in recs if r["status"] == "found"),
                         "nodes": per, "records": recs})


def isolated(wan, args):
    recs, per = rescue_run(wan, args.site, args.secs, args.gap, key="iso")
    far = [wan.conf["truth"][args.site + "|" + s]
           for s in wan.conf["sites"] if s != args.site]
    print_rescue("isolated %s (nearest other site %.0f ms, neighbor-rtt-max "
                 "%d ms): nameserver stopped for %d s" % (
                     args.site, min(far), wan.rtt_max, args.secs), per)
    found = sum(1 for r in recs if r["status"] == "found")
    print("lookups answered during the outage: %d of %d (%.0f %%)" % (
        found, len(recs), 100.0 * found / max(1, len(recs))))
    wan.store("isolated", {"site": args.site, "lookups": len(recs),
                           "found": found, "nearest_ms": min(far),
                           "nodes": per, "records": recs})


def site_share(wan, snap, site):
    """Slots that site's nodes hold in the other sites' neighbour sets, per
    other node."""
    others = [a for a in snap if wan.site_of[a] != site]
    if not others:
        return float("nan")
    n = sum(1 for a in others for b in neighbours(snap[a]) if wan.site_of[b] == site)
    return n / len(others)


def partial(wan, args):
    """A site's nameserver and half its nodes stopped, then resumed: the
    rescue of the other half, heartbeat rates while they are down, and how
    soon the revived nodes and the site are taken back."""
    site = args.site
    members = [n for n in wan.nodes if n["site"] == site]
    down = members[:max(1, len(members) // 2)] if args.down is None else \
        [n for n in members if n["name"] in args.down.split(",")]
    down_a = {n["addr"] for n in down}
    _, before = snapshot(wan)
    had = {a: {o for o, rows in before.items() if a in neighbours(rows)}
           for a in down_a}
    share0 = site_share(wan, before, site)
    hist = [router_stats(wan)]
    result = {}

    def rates_loop(stop_ev):
        for _ in range(100000):
            if stop_ev.wait(1.0):
                break
            st = router_stats(wan)
            if st.get("time_ns", 0) > hist[-1].get("time_ns", 0):
                hist.append(st)

    ev = threading.Event()
    th = threading.Thread(target=rates_loop, args=(ev,))
    th.start()
    try:
        recs, per = rescue_run(wan, site, args.secs, args.gap, stop_nodes=down,
                               key="part")
        _, during = snapshot(wan, skip=down_a)
        noticed = {a: sum(1 for o in had[a] if o in during and
                          a not in neighbours(during[o])) for a in down_a}
    finally:
        for n in down:
            signal_pid(n["pid"], signal.SIGCONT)
        ev.set()
        th.join(10)
    t_resume = time.monotonic()
    back_at = {a: None for a in down_a}
    share_at = None
    shares = []
    for _ in range(100000):
        if time.monotonic() - t_resume >= args.after:
            break
        t, snap = snapshot(wan)
        sh = site_share(wan, snap, site)
        shares.append((t - t_resume, sh))
        if share_at is None and sh >= 0.9 * share0:
            share_at = t - t_resume
        for a in down_a:
            if back_at[a] is None and all(a in neighbours(snap.get(o, {})) or o not in snap
                                          for o in had[a]):
                back_at[a] = t - t_resume
        if share_at is not None and all(v is not None for v in back_at.values()):
            break
        time.sleep(1.0)
    print_rescue("%s's nameserver and %d of its %d nodes stopped for %d s: "
                 "rescue of the others" % (site, len(down), len(members),
                                           args.secs), per)
    nall = len(wan.nodes)
    running = [n["addr"] for n in wan.nodes if n["addr"] not in down_a]
    rates = {}
    print("heartbeats a second per running node while %d of %d nodes were "
          "down (%.0f %%), counted at the router:" % (
              len(down), nall, 100.0 * len(down) / nall))
    for label, w in (("2 s", 2.0), ("10 s", 10.0), ("whole stop", 1e9)):
        if w > 1e8 and len(hist) > 1:
            w = hist[-1]["time_ns"] - hist[0]["time_ns"]
        v = {a: hb_rates(hist, a, w) for a in running}
        pk = sorted(v.values())
        top = max(v, key=v.get) if v else None
        rates[label] = {"max": pk[-1] if pk else None, "median": q(pk, 0.5),
                        "top": wan.by_addr[top]["name"] if top else None}
        print("  highest over any %-10s max %s (%s), p90 %s, median %s" % (
            label + ":", fmt(pk[-1] if pk else None, "%.2f"),
            rates[label]["top"], fmt(q(pk, 0.9), "%.2f"), fmt(q(pk, 0.5), "%.2f")))
    pk = [rates["2 s"]["max"]] if rates["2 s"]["max"] is not None else []
    for a in sorted(down_a):
        print("revived %-10s listed as neighbour by %d nodes before, by %d "
              "fewer at the end of the stop; by all again after %s s" % (
                  wan.by_addr[a]["name"], len(had[a]), noticed[a],
                  fmt(back_at[a])))
    print("%s's share of neighbour slots: %.2f per node before; back to 90 %% "
          "after %s s" % (site, share0, fmt(share_at)))
    result.update(site=site, down=[wan.by_addr[a]["name"] for a in down_a],
                  had={wan.by_addr[a]["name"]: len(had[a]) for a in down_a},
                  back_at={wan.by_addr[a]["name"]: back_at[a] for a in down_a},
                  noticed={wan.by_addr[a]["name"]: noticed[a] for a in down_a},
                  observed_s=args.after, share_before=share0,
                  share_back_at=share_at, shares=shares,
                  hb_peak_max=pk[-1] if pk else None, hb_rates=rates,
                  nodes=per, records=recs)
    wan.store("partial", result)


# --- ping check ---

def ping(wan, args):
    """One node of each site pings one node of every other site (and its
    own site) through the router: emulated RTT against the target."""
    first = {}
    for n in wan.nodes:
        first.setdefault(n["site"], n)
    sites = list(first)
    pairs = [(a, b) for i, a in enumerate(sites) for b in sites[i:]]
    procs = []
    for a, b in pairs:
        src, dst = first[a], first[b]
        if a == b:
            dst = next((n for n in wan.nodes if n["site"] == a and n is not src), None)
            if dst is None:
                continue
        cmd = ["ip", "netns", "exec", src["netns"], "ping", "-n", "-q", "-c",
               str(args.count), "-i", "0.2", "-W", "2", dst["addr"]]
        procs.append((a, b, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                             stderr=subprocess.DEVNULL, text=True)))
    print("== emulated RTT (ping, %d probes) against the target" % args.count)
    print("%-12s %-12s %9s %9s %9s %6s" % ("site", "site", "target", "min",
                                           "avg", "loss"))
    bad = 0
    out = []
    for a, b, p in procs:
        try:
            txt = p.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            p.kill()
            txt = p.communicate()[0]
        mn = av = None
        loss = "?"
        for line in txt.splitlines():
            if "packet loss" in line:
                loss = line.split(",")[2].split()[0]
            if line.startswith("rtt") or line.startswith("round-trip"):
                v = line.split("=")[1].split()[0].split("/")
                mn, av = float(v[0]), float(v[1])
        tgt = wan.conf["truth"][a + "|" + b]
        if mn is None or mn < 0.95 * tgt:
            bad += 1
        out.append({"a": a, "b": b, "target": tgt, "min": mn, "avg": av})
        print("%-12s %-12s %9.2f %9s %9s %6s" % (a, b, tgt, fmt(mn, "%.2f"),
                                                 fmt(av, "%.2f"), loss))
    wan.store("ping", out)
    if bad:
        print("ping: %d pairs unreachable or faster than their target" % bad)
    return 1 if bad else 0


# --- facts for the test ---

def fact(wan, args):
    r = wan.results()
    name = args.name
    if name == "nearest-site-answers":
        x = r["rescue"]
        print("%s: %d of %d rescues by %s" % (name, x["nearest_answered"],
                                               x["peer_answers"], x["nearest_site"]))
        return 0 if x["peer_answers"] > 0 and 2 * x["nearest_answered"] > x["peer_answers"] else 1
    if name == "revived-taken-back":
        x = r["partial"]
        print("%s: back after %s s (listed before by %s, dropped during the "
              "stop by %s), observed %s s" % (
                  name, x["back_at"], x["had"], x["noticed"], x["observed_s"]))
        if not all(x["noticed"].values()):
            print("%s: the stop went unnoticed: nothing was tested" % name)
            return 1
        return 0 if all(v is not None for v in x["back_at"].values()) else 1
    if name == "isolated-rescued":
        x = r["isolated"]
        far = [y for y in x["records"] if y["status"] == "found" and y["source"] == "peer"]
        print("%s: %d of %d found, %d by peers" % (name, x["found"], x["lookups"], len(far)))
        return 0 if x["lookups"] > 0 and len(far) == x["lookups"] else 1
    if name == "rtt-near-truth":
        x = r["converge"]
        print("%s: %d of %d pairs within max(10 %%, 2 ms) at the end" % (
            name, x["end_within"], x["end_pairs"]))
        return 0 if x["end_ok"] else 1
    if name == "ping":
        bad = [p for p in r["ping"] if p["min"] is None or p["min"] < 0.95 * p["target"]]
        print("%s: %d of %d site pairs at or above their target" % (
            name, len(r["ping"]) - len(bad), len(r["ping"])))
        return 0 if r["ping"] and not bad else 1
    sys.exit("wan.py: unknown fact " + name)


# --- the targets ---

def targets(wan, args):
    """The targets of issue 21, each "met" or "NOT met" on this run."""
    r = wan.results()
    rows = []
    if "rescue" in r:
        per = r["rescue"]["nodes"]
        good = [x for x in per if x["ideal"] is not None and x["p50"] == x["p50"]
                and x["p50"] <= x["ideal"] + 5 and x["p99"] <= 2 * x["ideal"] + 10]
        rows.append(("rescue p50 <= nearest healthy RTT + 5 ms, p99 <= 2 RTT + 10 ms",
                     "%d of %d nodes" % (len(good), len(per)),
                     bool(per) and len(good) == len(per)))
    if "isolated" in r:
        x = r["isolated"]
        rows.append(("an isolated node answers 100 % of its lookups",
                     "%d of %d" % (x["found"], x["lookups"]),
                     x["lookups"] > 0 and x["found"] == x["lookups"]))
    if "converge" in r:
        t = r["converge"].get("all_pairs_within_from_s")
        rows.append(("every RTT within 10 % (or 2 ms) of the truth within 30 s",
                     "every pair from %s s on" % fmt(t) if t is not None
                     else "never while watched", t is not None and t <= 30))
    if "partial" in r:
        x = r["partial"]
        b = list(x["back_at"].values())
        rows.append(("a node back from a stop is a neighbour again within 10 s",
                     ", ".join(fmt(v) for v in b) + " s",
                     bool(b) and all(v is not None and v <= 10 for v in b)))
        t = x["share_back_at"]
        rows.append(("a recovered site's share of slots is back within 30 s",
                     "%s s" % fmt(t), t is not None and t <= 30))
        pk = x["hb_peak_max"]
        p10 = x["hb_rates"]["10 s"]["max"]
        rows.append(("at most 3 heartbeats a second per node, nodes down",
                     "peak %s/s over 2 s, %s/s over 10 s; %d of %d down" % (
                         fmt(pk, "%.1f"), fmt(p10, "%.1f"), len(x["down"]),
                         len(wan.nodes)),
                     pk is not None and pk <= 3))
    if "steady" in r:
        c = max((x["changes_per_min"] for x in r["steady"]["nodes"]), default=None)
        rows.append(("at most 0.2 neighbour changes per node a minute, steady",
                     "max %s" % fmt(c, "%.2f"), c is not None and c <= 0.2))
    print("== targets of issue 21 on this run")
    for what, got, met in rows:
        print("%-8s %-68s %s" % ("met" if met else "NOT met", what, got))
    wan.store("targets", [{"target": w, "got": g, "met": m} for w, g, m in rows])


# --- plot data ---

def plots(wan, args):
    r = wan.results()
    d = wan.dir
    for key in ("rescue", "partial", "isolated"):
        if key not in r:
            continue
        ideal = {n["addr"]: n["ideal"] for n in r[key]["nodes"]}
        lat = sorted(x["latency_ms"] for x in r[key]["records"] if x["status"] == "found")
        ide = sorted(ideal[x["node"]] for x in r[key]["records"]
                     if ideal.get(x["node"]) is not None)
        with open(os.path.join(d, "cdf-%s.dat" % key), "w") as f:
            for i, v in enumerate(lat):
                f.write("%.3f %.4f\n" % (v, (i + 1) / len(r[key]["records"])))
        with open(os.path.join(d, "ideal-%s.dat" % key), "w") as f:
            for i, v in enumerate(ide):
                f.write("%.3f %.4f\n" % (v, (i + 1) / len(ide)))
    if "steady" in r:
        sites = wan.conf["sites"]
        for key, fname in (("chosen", "matrix.dat"), ("optimal", "matrix-opt.dat")):
            m = {(a, b): 0 for a in sites for b in sites}
            cnt = {s: 0 for s in sites}
            for row in r["steady"]["neighbours"]:
                s = wan.site_of[row["addr"]]
                cnt[s] += 1
                for c in row[key]:
                    m[(s, wan.site_of[c])] += 1
            with open(os.path.join(d, fname), "w") as f:
                for i, a in enumerate(sites):
                    for j, b in enumerate(sites):
                        f.write("%d %d %.2f\n" % (j, i, m[(a, b)] / max(1, cnt[a])))
                    f.write("\n")
        with open(os.path.join(d, "sites.txt"), "w") as f:
            f.write(", ".join('"%s" %d' % (s, i) for i, s in enumerate(sites)))
    if "converge" in r:
        with open(os.path.join(d, "rtt-err.dat"), "w") as f:
            for s in r["converge"]["series"]:
                if s["pairs"]:
                    f.write("%.1f %.2f %.2f %.2f %.4f\n" % (
                        s["t"], s["median_err"], s["p90_abs"], s["max_abs"],
                        s["within"] / s["pairs"]))


def main():
    ap = argparse.ArgumentParser(prog="wan.py")
    ap.add_argument("cmd")
    ap.add_argument("dir")
    ap.add_argument("name", nargs="?")
    ap.add_argument("--matrix")
    ap.add_argument("--sites")
    ap.add_argument("--tag", default="cw")
    ap.add_argument("--same-site-rtt", type=float, default=0.1)
    ap.add_argument("--jitter", type=int, default=20)
    ap.add_argument("--loss-ppm", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start-burst")
    ap.add_argument("--neighbors", type=int, default=10)
    ap.add_argument("--rtt-max", type=float, default=90)
    ap.add_argument("--conf-extra")
    ap.add_argument("--secs", type=float, default=30)
    ap.add_argument("--after", type=float, default=30)
    ap.add_argument("--every", type=float, default=2)
    ap.add_argument("--gap", type=float, default=0.25)
    ap.add_argument("--site")
    ap.add_argument("--down")
    ap.add_argument("--count", type=int, default=5)
    args = ap.parse_args()
    if args.cmd == "plan":
        return plan(args)
    wan = Wan(args.dir)
    fn = {"converge": converge, "steady": steady, "rescue": rescue,
          "isolated": isolated, "partial": partial, "ping": ping,
          "fact": fact, "plots": plots, "targets": targets}.get(args.cmd)
    if fn is None:
        sys.exit("wan.py: unknown command " + args.cmd)
    return fn(wan, args)


if __name__ == "__main__":
    sys.exit(main() or 0)
