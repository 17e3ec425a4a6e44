#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# scripts/bench_faults.py: helpers of bench_faults.sh: the failure
# schedule, the open-loop getaddrinfo() client, the table and the plots.
# Loopback only; every mode is bounded in count and time.
#
#   schedule SCALE SEED OUT          write the failure windows (s from start)
#   run RATE SECONDS PREFIX NS_PID WINDOWS MAXCONC OUT
#   table DIR LABEL... (one sub-directory per run, the first is the baseline)
#   plot DIR PNGPREFIX LABEL...
import os
import random
import re
import signal
import socket
import sys
import threading
import time


def schedule(scale, seed, out):
    """The paper's three kinds of local nameserver failure, one stretch
    each: periodic stops as from a cron job, sporadic short stops, and one
    long continuous outage, separated by healthy time."""
    rnd = random.Random(seed)
    w = []
    # Periodic: 2 s every 15 s, three times.
    for k in range(3):
        t = (10 + 15 * k) * scale
        w.append((t, t + 2 * scale, "periodic"))
    # Sporadic: 0.3-1 s stops 1.5-4 s apart for about 30 s.
    t = 50 * scale
    while t < 78 * scale:
        d = rnd.uniform(0.3, 1.0) * scale
        w.append((t, t + d, "sporadic"))
        t += d + rnd.uniform(1.5, 4.0) * scale
    # Long: one continuous 20 s outage.
    w.append((85 * scale, 105 * scale, "outage"))
    end = 115 * scale
    with open(out, "w") as f:
        f.write("# start_s end_s kind; load length %.3f s\n" % end)
        for a, b, k in w:
            f.write("%.3f %.3f %s\n" % (a, b, k))
    print("%.3f" % end)


def read_windows(path):
    w = []
    for ln in open(path):
        if ln.startswith("#") or not ln.strip():
            continue
        a, b, k = ln.split()
        w.append((float(a), float(b), k))
    return w


def run(rate, seconds, prefix, nspid, windows, maxconc, out):
    """Start one lookup of a fresh name every 1/RATE s, each in its own
    thread, whatever happened to the earlier ones (open loop), through
    glibc getaddrinfo() and so through /etc/nsswitch.conf. Meanwhile a
    controller thread SIGSTOPs and SIGCONTs the nameserver on schedule and
    always leaves it running. Threads in flight are capped at MAXCONC; a
    lookup that finds the cap full is recorded as not started."""
    wins = read_windows(windows)
    count = int(rate * seconds)
    res = [None] * count
    sem = threading.BoundedSemaphore(maxconc)
    stopped = [False]
    lock = threading.Lock()

    def cont():
        with lock:
            if stopped[0]:
                os.kill(nspid, signal.SIGCONT)
                stopped[0] = False

    def on_term(signum, frame):
        cont()
        os._exit(1)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    start = time.monotonic() + 0.1

    def controller():
        for a, b, _ in wins:
            if a >= seconds:
                break
            time.sleep(max(0.0, start + a - time.monotonic()))
            with lock:
                os.kill(nspid, signal.SIGSTOP)
                stopped[0] = True
            time.sleep(max(0.0, start + min(b, seconds) - time.monotonic()))
            cont()

    def one(i, name, t0):
        try:
            socket.getaddrinfo(name, None, socket.AF_INET,
                               socket.SOCK_STREAM)
            err = "ok"
        except socket.gaierror as e:
            err = {socket.EAI_AGAIN: "again", socket.EAI_NONAME: "noname",
                   socket.EAI_FAIL: "fail"}.get(e.errno, "eai%d" % e.errno)
        except OSError as e:
            err = "os%d" % e.errno
        res[i] = (t0 - start, (time.monotonic() - t0) * 1000.0, err)
        sem.release()

    ctl = threading.Thread(target=controller, daemon=True)
    threads = []
    try:
        ctl.start()
        for i in range(count):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            t0 = time.monotonic()
            if not sem.acquire(blocking=False):
                res[i] = (t0 - start, float("nan"), "capped")
                continue
            th = threading.Thread(target=one, daemon=True, args=(
                i, "%s%d.test.example" % (prefix, i), t0))
            th.start()
            threads.append(th)
        ctl.join(max(0.0, start + seconds + 1 - time.monotonic()))
        # glibc gives up after timeout x attempts x servers (10 s with
        # resolv.conf defaults); wait a little longer, then stop waiting.
        end = time.monotonic() + 25
        for th in threads:
            th.join(max(0.0, end - time.monotonic()))
    finally:
        cont()
    with open(out, "w") as f:
        for i, r in enumerate(res):
            name = "%s%d.test.example" % (prefix, i)
            if r is None:
                f.write("%s - - hung\n" % name)
            else:
                f.write("%s %.4f %.3f %s\n" % (name, r[0], r[1], r[2]))


def pct(vals, q):
    if not vals:
        return float("nan")
    k = min(len(vals) - 1, max(0, int(q * len(vals) + 0.999999) - 1))
    return vals[k]


def healthy_at(t, wins, settle):
    """Whether a lookup started at t falls in a healthy stretch: the
    nameserver runs and has run for at least SETTLE s, so the adaptive
    delay has left the outage behind (CoDNS's 16/32-lookup windows)."""
    for a, b, _ in wins:
        if a <= t < b + settle:
            return False
    return True


def figures(d, wins):
    rows = []
    for ln in open(os.path.join(d, "lookups.out")):
        name, t, lat, err = ln.split()
        rows.append((name, None if t == "-" else float(t),
                     float("nan") if lat == "-" else float(lat), err))
    n = len(rows)
    ok = sorted(r[2] for r in rows if r[3] == "ok")
    # An unanswered lookup (error, cap, hung) counts as over 1 s.
    over = sum(1 for v in ok if v > 1000) + (n - len(ok))
    asked = set()
    for fn in os.listdir(d):
        if fn.startswith("peerns") and fn.endswith(".log"):
            for ln in open(os.path.join(d, fn)):
                m = re.search(r"query\[\w+\] (\S+) from", ln)
                if m:
                    asked.add(m.group(1))
    hl = [r for r in rows if r[1] is not None and
          healthy_at(r[1], wins, 5.0)]
    hasked = sum(1 for r in hl if r[0] in asked)
    return {
        "n": n, "ans": 100.0 * len(ok) / n if n else 0.0,
        "mean": sum(ok) / len(ok) if ok else float("nan"),
        "p50": pct(ok, 0.5), "p90": pct(ok, 0.9), "p99": pct(ok, 0.99),
        "p999": pct(ok, 0.999), "max": ok[-1] if ok else float("nan"),
        "over": 100.0 * over / n if n else 0.0,
        "peer": 100.0 * sum(1 for r in rows if r[0] in asked) / n,
        "hn": len(hl),
        "hpeer": 100.0 * hasked / len(hl) if hl else float("nan"),
        "fail": n - len(ok),
    }


def table(d, labels, wins):
    f = [figures(os.path.join(d, lab), wins) for lab in labels]
    rows = [
        ("lookups", "n", "%d", False),
        ("answered, %", "ans", "%.2f", False),
        ("not answered", "fail", "%d", False),
        ("mean, ms", "mean", "%.1f", True),
        ("p50, ms", "p50", "%.1f", True),
        ("p90, ms", "p90", "%.1f", True),
        ("p99, ms", "p99", "%.1f", True),
        ("p99.9, ms", "p999", "%.1f", True),
        ("max, ms", "max", "%.1f", False),
        ("over 1 s or unanswered, %", "over", "%.2f", True),
        ("lookups with a peer query, %", "peer", "%.2f", False),
        ("  in healthy stretches, %", "hpeer", "%.2f", False),
        ("  healthy-stretch lookups", "hn", "%d", False),
    ]
    w = max(14, max(len(x) for x in labels) + 2)
    print(("%-30s" % "") + "".join(("%" + str(w) + "s") % x for x in labels))
    for label, k, fmt, with_ratio in rows:
        line = "%-30s" % label
        for x in f:
            line += ("%" + str(w) + "s") % (fmt % x[k])
        print(line)
        if with_ratio:
            line = "%-30s" % "  ratio to baseline"
            for x in f:
                r = (x[k] / f[0][k]) if f[0][k] else float("nan")
                line += ("%" + str(w) + "s") % ("%.3f" % r)
            print(line)


def plot(d, png, labels, wins):
    """Data files and a gnuplot script: latency over time (log scale, one
    panel per run, failure windows shaded, unanswered lookups drawn as
    crosses at the top) and the latency CDFs of the runs."""
    end = max(b for _, b, _ in wins) + 10
    for ln in open(os.path.join(d, "windows")):
        m = re.search(r"load length ([0-9.]+) s", ln)
        if m:
            end = float(m.group(1))
    gp = []
    shade = ["set object %d rect from %.3f, graph 0 to %.3f, graph 1 "
             "behind fc rgb '#ffd0d0' fs solid 0.6 noborder" % (i + 1, a, b)
             for i, (a, b, _) in enumerate(wins)]
    for lab in labels:
        rows = [ln.split() for ln in open(os.path.join(d, lab,
                                                       "lookups.out"))]
        with open(os.path.join(d, lab, "ok.dat"), "w") as f:
            for r in rows:
                if r[3] == "ok":
                    f.write("%s %s\n" % (r[1], max(float(r[2]), 0.01)))
        with open(os.path.join(d, lab, "failed.dat"), "w") as f:
            f.write("-1 20000\n")  # keeps gnuplot quiet when none failed
            for r in rows:
                if r[3] != "ok" and r[1] != "-":
                    f.write("%s 20000\n" % r[1])
        ok = sorted(float(r[2]) for r in rows if r[3] == "ok")
        n = len(rows)
        with open(os.path.join(d, lab, "cdf.dat"), "w") as f:
            for i, v in enumerate(ok):
                f.write("%.3f %.6f\n" % (max(v, 0.01), (i + 1) / n))
    gp.append("set terminal pngcairo size 1200,%d font ',10'" %
              (300 * len(labels)))
    gp.append("set output '%s-timeline.png'" % png)
    gp.append("set multiplot layout %d,1" % len(labels))
    gp.append("set logscale y")
    gp.append("set yrange [0.05:30000]")
    gp.append("set xrange [0:%.1f]" % end)
    gp.append("set ylabel 'latency, ms'")
    gp.append("set grid ytics")
    gp.extend(shade)
    for k, lab in enumerate(labels):
        gp.append("set title '%s (shaded: nameserver stopped; "
                  "crosses at the top: unanswered)'" % lab)
        if k == len(labels) - 1:
            gp.append("set xlabel 'time since start of load, s'")
        gp.append("plot '%s/ok.dat' using 1:2 with points pt 7 ps 0.3 "
                  "lc rgb '#1f5fbf' notitle, '%s/failed.dat' using 1:2 "
                  "with points pt 2 ps 0.8 lc rgb '#cc0000' notitle" %
                  (os.path.join(d, lab), os.path.join(d, lab)))
    gp.append("unset multiplot")
    gp.append("reset")
    gp.append("set terminal pngcairo size 900,600 font ',10'")
    gp.append("set output '%s-cdf.png'" % png)
    gp.append("set logscale x")
    gp.append("set xrange [0.05:30000]")
    gp.append("set yrange [0:1]")
    gp.append("set key bottom right")
    gp.append("set grid")
    gp.append("set xlabel 'latency, ms (unanswered lookups never reach 1)'")
    gp.append("set ylabel 'share of lookups answered within'")
    gp.append("plot " + ", ".join(
        "'%s/cdf.dat' using 1:2 with steps lw 2 title '%s'" %
        (os.path.join(d, lab), lab) for lab in labels))
    with open(os.path.join(d, "plot.gp"), "w") as f:
        f.write("\n".join(gp) + "\n")


def main():
    mode, a = sys.argv[1], sys.argv[2:]
    if mode == "schedule":
        schedule(float(a[0]), int(a[1]), a[2])
    elif mode == "run":
        run(float(a[0]), float(a[1]), a[2], int(a[3]), a[4], int(a[5]), a[6])
    elif mode == "table":
        table(a[0], a[2:], read_windows(a[1]))
    elif mode == "plot":
        plot(a[0], a[1], a[3:], read_windows(a[2]))
    else:
        sys.exit("usage: bench_faults.py schedule|run|table|plot ...")


if __name__ == "__main__":
    main()
