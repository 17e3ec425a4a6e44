#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench_members.sh: the cost and speed of membership at cluster
# scale (issue 15). Starts N codnsd nodes on loopback addresses
# (127.77.x.y), all listing each other, with one shared dnsmasq as their
# nameserver, and prints per node: heartbeat datagrams a second in steady
# state (from the daemons' counters), RSS, CPU seconds a minute, time to
# a full neighbour set, and time to replace a dead neighbour (with lookups
# flowing, and idle). Traffic stays on 127.0.0.0/8.
#
# usage: scripts/bench_members.sh [-n "10 100 300"] [-k NEIGHBORS]
#            [-d DISCOVERY] [-s STEADY] [-w WINDOW_S] [-r RTT_MAX]
#   -n  cluster sizes (default "10 100 300"; 1000 fits in about 3 GB)
#   -k  neighbors (default 10)
#   -d, -s  heartbeat-discovery / heartbeat-steady (defaults 1s / 30s)
#   -w  steady-state measuring window in seconds (default 30)
#   -r  neighbor-rtt-max (default 90ms; raise it when the machine is so
#       loaded that loopback round trips exceed it)
# Run from the top of a built tree (scripts/build.sh).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
SIZES="10 100 300"
NEIGHBORS=10
DISC=1s
STEADY=30s
WINDOW=30
RTTMAX=90ms
while getopts n:k:d:s:w:r: o; do
	case $o in
	n) SIZES=$OPTARG ;;
	k) NEIGHBORS=$OPTARG ;;
	d) DISC=$OPTARG ;;
	s) STEADY=$OPTARG ;;
	w) WINDOW=$OPTARG ;;
	r) RTTMAX=$OPTARG ;;
	*) sed -n 10,18p "$0" >&2; exit 2 ;;
	esac
done
CODNSD=${CODNSD:-$top/build/codnsd/codnsd}
DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}
[ -x "$CODNSD" ] || { echo "build first: sh scripts/build.sh" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || true
DIR=$(mktemp -d /tmp/codns-bench-members.XXXXXX)
trap 'rm -rf "$DIR"' EXIT

export PYTHONPATH="$top/tests/integration"
exec python3 - "$CODNSD" "$DNSMASQ" "$DIR" "$SIZES" "$NEIGHBORS" "$DISC" \
	"$STEADY" "$WINDOW" "$RTTMAX" <<'PY'
import json, os, random, signal, socket, statistics, subprocess, sys, time
import lookup

codnsd, dnsmasq, base, sizes, K, disc, steady, window, rttmax = sys.argv[1:10]
sizes = [int(x) for x in sizes.split()]
os.nice(10)
K = int(K)
window = float(window)
HZ = os.sysconf("SC_CLK_TCK")
NS_ADDR = "127.77.250.1"


def secs(s):
    return float(s[:-2]) / 1000 if s.endswith("ms") else float(s[:-1]) * (60 if s.endswith("m") else 1)


STEADY_S = secs(steady)


def addr_of(i):
    return "127.77.%d.%d" % (i // 200, i % 200 + 1)


ctl = lookup.control


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / HZ


def proc_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def q(vals, p):
    v = sorted(vals)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, int(p * len(v)))]


def run(n):
    d = os.path.join(base, "n%d" % n)
    os.makedirs(d)
    lport = lookup.free_port(NS_ADDR)
    pport = lookup.free_port(NS_ADDR)
    nsport = lookup.free_port(NS_ADDR)
    procs = []
    try:
        with open(os.path.join(d, "ns.conf"), "w") as f:
            f.write("no-resolv\nno-hosts\nport=%d\nlisten-address=%s\n"
                    "bind-interfaces\nlocal=/test.example/\n"
                    "address=/test.example/192.0.2.77\n" % (nsport, NS_ADDR))
        procs.append(subprocess.Popen([dnsmasq, "--keep-in-foreground", "-C",
                                       os.path.join(d, "ns.conf"), "--pid-file="],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.3)
        # One more node is listed and started last, into a steady cluster
        # (when the cluster is larger than a neighbour set plus one, so
        # that the absent node does not keep the others in discovery).
        late = n > K + 1
        with open(os.path.join(d, "peers"), "w") as f:
            for i in range(n + late):
                f.write("%s:%d\n" % (addr_of(i), pport))
        nodes = []
        for i in range(n + late):
            a = addr_of(i)
            # Node 0 observes with traffic: its nameserver port is closed,
            # so each of its lookups goes to its neighbours.
            up = "%s:%d" % (NS_ADDR, nsport) if i else "127.77.250.2:%d" % nsport
            conf = os.path.join(d, "%d.conf" % i)
            sock = os.path.join(d, "%d.sock" % i)
            with open(conf, "w") as f:
                f.write("listen %s:%d\nupstream %s\npeer-listen %s:%d\n"
                        "peers-file %s\nneighbors %d\nheartbeat-discovery %s\n"
                        "heartbeat-steady %s\ncontrol-socket %s\n"
                        "upstream-timeout 500ms\nlookup-timeout 3s\n"
                        "neighbor-rtt-max %s\n" %
                        (a, lport, up, a, pport, os.path.join(d, "peers"), K,
                         disc, steady, sock, rttmax))
            nodes.append({"i": i, "addr": a, "sock": sock, "conf": conf,
                          "log": os.path.join(d, "%d.log" % i), "full": None})

        def start(nd):
            log = open(nd["log"], "w")
            # Niced: a thousand daemons on a shared machine must not
            # starve whatever else runs there (CPU time is still counted).
            nd["proc"] = subprocess.Popen([codnsd, "-f", "-c", nd["conf"]],
                                          stdout=log, stderr=subprocess.STDOUT,
                                          preexec_fn=lambda: os.nice(19))
            log.close()
            procs.append(nd["proc"])
            nd["start"] = time.time()
        if late:
            late = nodes.pop()
        for nd in nodes:
            start(nd)
        want = min(K, n - 1)
        # Time to a full neighbour set: each node reports when its set was
        # first full (after its start), so slow polling does not distort it.
        deadline = time.time() + 60 + n * 0.1
        pending = list(nodes)
        rounds = 0
        while pending and time.time() < deadline:
            rounds += 1
            rest = []
            for nd in pending:
                try:
                    v = ctl(nd["sock"], "status")["membership"]["full_set_after_s"]
                except OSError:
                    v = None
                if v is None:
                    rest.append(nd)
                else:
                    nd["full"] = v
            pending = rest
            if pending:
                time.sleep(1)
        full = [nd["full"] for nd in nodes if nd["full"] is not None]
        if os.environ.get("BENCH_VERBOSE"):
            print("full set times:", ["%d:%s" % (nd["i"], fmt(nd["full"]))
                                      for nd in nodes], file=sys.stderr)
        # Steady state: every node steady, then a measuring window.
        deadline = time.time() + 30
        while time.time() < deadline:
            if all(ctl(nd["sock"], "status")["membership"]["mode"] == "steady"
                   for nd in nodes[:50]):
                break
            time.sleep(0.5)
        time.sleep(min(5.0, STEADY_S))

        def sample():
            out = []
            for nd in nodes:
                try:
                    c = ctl(nd["sock"], "stats")["counters"]
                    m = ctl(nd["sock"], "status")["membership"]["mode"]
                except OSError:
                    out.append(None)  # too slow to answer: left out
                    continue
                out.append((time.time(), c["heartbeats_sent"],
                            c["heartbeats_received"], c["heartbeats_acked"],
                            proc_cpu(nd["proc"].pid), m))
            return out
        s1 = sample()
        time.sleep(window)
        s2 = sample()
        dgram, cpu, rss = [], [], []
        for nd, a, b in zip(nodes, s1, s2):
            if a is None or b is None:
                continue
            dt = b[0] - a[0]
            sent = b[1] - a[1]
            recv = b[2] - a[2]
            acked = b[3] - a[3]
            # out: our heartbeats and our acks; in: theirs and their acks
            dgram.append((sent + recv + recv + acked) / dt)
            cpu.append((b[4] - a[4]) / dt * 60)
            rss.append(proc_rss_mb(nd["proc"].pid))

        # The late node: its own time to a full set, polled alone.
        late_full = None
        if late:
            start(late)
            while time.time() - late["start"] < 30:
                try:
                    late_full = ctl(late["sock"], "status")["membership"]["full_set_after_s"]
                except OSError:
                    late_full = None
                if late_full is not None:
                    break
                time.sleep(0.1)

        # A dead neighbour: one of node 0's, stopped.
        obs = nodes[0]
        table = ctl(obs["sock"], "peers")["peers"]
        nbr = [p["address"].split(":")[0] for p in table if p["state"] == "neighbour"]
        victim_addr = random.Random(n).choice(nbr)
        victim = next(nd for nd in nodes if nd["addr"] == victim_addr)
        vkey = "%s:%d" % (victim_addr, pport)
        watchers = []
        for nd in random.Random(n + 1).sample(nodes[1:], min(len(nodes) - 1, 300)):
            if nd is victim:
                continue
            t = ctl(nd["sock"], "peers")["peers"]
            if any(p["address"] == vkey and p["state"] == "neighbour" for p in t):
                watchers.append(nd)
            if len(watchers) >= 20:
                break
        os.kill(victim["proc"].pid, signal.SIGSTOP)
        t_stop = time.time()
        lk = lookup.connect("%s:%d" % (obs["addr"], lport))
        lk.settimeout(5)
        replaced = {}
        rid = 0
        last_lookup = 0.0
        limit = t_stop + STEADY_S + 15
        while time.time() < limit and len(replaced) < len(watchers) + 1:
            now = time.time()
            if now - last_lookup >= 0.2:
                rid += 1
                lk.sendall(lookup.request(rid, "r%d-%d.test.example" % (n, rid), 4))
                last_lookup = now
                try:
                    lookup.response(lk)
                except Exception:
                    pass
            for nd in [obs] + watchers:
                if nd["i"] in replaced:
                    continue
                t = ctl(nd["sock"], "peers")["peers"]
                st = [p["state"] for p in t if p["address"] == vkey][0]
                k = sum(p["state"] == "neighbour" for p in t)
                if st != "neighbour" and k >= min(want, n - 2):
                    replaced[nd["i"]] = time.time() - t_stop
            time.sleep(0.05)
        os.kill(victim["proc"].pid, signal.SIGCONT)
        rep_obs = replaced.get(0)
        rep_idle = [v for i, v in replaced.items() if i != 0]
        missing = len(watchers) - len(rep_idle)
        return {
            "n": n, "rounds": rounds,
            "full_med": q(full, 0.5) if full else float("nan"),
            "full_max": max(full) if full else float("nan"),
            "not_full": n - len(full),
            "dg_mean": statistics.mean(dgram), "dg_max": max(dgram),
            "rss_mean": statistics.mean(rss), "rss_max": max(rss),
            "cpu_mean": statistics.mean(cpu), "cpu_max": max(cpu),
            "rep_obs": rep_obs, "rep_idle_med": q(rep_idle, 0.5) if rep_idle else None,
            "rep_idle_max": max(rep_idle) if rep_idle else None,
            "watchers": len(watchers), "missing": missing,
            "late_full": late_full,
            "discovery": sum(1 for a, b in zip(s1, s2) if a and b and
                             (a[5] != "steady" or b[5] != "steady")),
        }
    finally:
        for p in procs:
            try:
                p.send_signal(signal.SIGCONT)
                p.terminate()
            except OSError:
                pass
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def fmt(v, f="%.2f"):
    return "-" if v is None or v != v else f % v


print("# bench_members: neighbors %d, heartbeat-discovery %s, heartbeat-steady %s, "
      "neighbor-rtt-max %s, window %.0f s" % (K, disc, steady, rttmax, window))
print("%6s %17s %13s %15s %19s %13s %19s" % (
    "nodes", "hb dgram/s mean/max", "RSS MB mean/max", "CPU s/min mean/max",
    "full set s med/max", "replace busy", "replace idle med/max"))
for n in sizes:
    r = run(n)
    print("%6d %8s / %-8s %6s / %-6s %7s / %-7s %9s / %-9s %13s %9s / %-9s" % (
        r["n"], fmt(r["dg_mean"]), fmt(r["dg_max"]), fmt(r["rss_mean"], "%.1f"),
        fmt(r["rss_max"], "%.1f"), fmt(r["cpu_mean"], "%.3f"), fmt(r["cpu_max"], "%.3f"),
        fmt(r["full_med"]), fmt(r["full_max"]), fmt(r["rep_obs"]),
        fmt(r["rep_idle_med"]), fmt(r["rep_idle_max"])))
    extra = []
    if r["not_full"]:
        extra.append("%d nodes had no full set after %d polling rounds"
                     % (r["not_full"], r["rounds"]))
    if r["discovery"]:
        extra.append("%d nodes in discovery mode during the window"
                     % r["discovery"])
    extra.append("%d idle watchers of the dead neighbour" % r["watchers"])
    if r["missing"]:
        extra.append("%d of them had not replaced it in time" % r["missing"])
    if r["late_full"] is not None:
        extra.append("a node started into the steady cluster: full set in %.2f s"
                     % r["late_full"])
    print("       (%s)" % "; ".join(extra))
    sys.stdout.flush()
PY
