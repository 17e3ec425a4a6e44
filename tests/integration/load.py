#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/load.py: bounded lookup load for tests. Sends COUNT
# lookups over CONNS pipelined connections, cycling through NAMES, and
# prints "answered=N found=N other=N errors=N" (errors: lost lookups).
import socket
import sys
import threading
import time

import lookup


def worker(addr, names, count, depth, res, lock, deadline):
    found = other = errors = answered = 0
    try:
        s = lookup.connect(addr)
        sent = 0
        inflight = 0
        while answered + errors < count and time.time() < deadline:
            while sent < count and inflight < depth:
                s.sendall(lookup.request(sent + 1, names[sent % len(names)], 4))
                sent += 1
                inflight += 1
            r = lookup.response(s)
            inflight -= 1
            answered += 1
            if r["status"] == "found":
                found += 1
            else:
                other += 1
    except (OSError, EOFError):
        pass
    errors = count - answered
    with lock:
        res["answered"] += answered
        res["found"] += found
        res["other"] += other
        res["errors"] += errors


def main():
    addr, count, conns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    names = sys.argv[4].split(",")
    depth = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    res = {"answered": 0, "found": 0, "other": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.time() + 60
    ts = [threading.Thread(target=worker, args=(addr, names, count // conns,
                                                depth, res, lock, deadline))
          for _ in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("answered=%(answered)d found=%(found)d other=%(other)d "
          "errors=%(errors)d" % res)


if __name__ == "__main__":
    main()
