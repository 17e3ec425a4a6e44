#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/nss/flip_check.py: 8 threads resolve flip.codns.test while its
answer flips between two address sets; every answer must be one whole set.

usage: flip_check.py FLIPPER_PID STARTED
Runs while the process FLIPPER_PID (the script's loop that flips the zone
and flushes codnsd) lives, and at least 100 and at most 200000 lookups a
thread. Creates the file STARTED once its threads are running: the
flipper waits for it, so that a slow start cannot miss the flips. Prints
each mixed answer or error, then "seen A=n B=n bad=n err=n". Used by
run_shm.sh and run_nscd.sh (ns_flip in ns_lib.sh).
"""
import os
import socket
import sys
import threading

A = {"192.0.2.61", "2001:db8::61"}
B = {"192.0.2.62", "2001:db8::62", "192.0.2.63"}
flipper = int(sys.argv[1])
started = sys.argv[2]
seen = {"A": 0, "B": 0, "bad": 0, "err": 0}
lock = threading.Lock()


def alive():
    try:
        os.kill(flipper, 0)
        return True
    except OSError:
        return False


def run():
    n = 0
    while n < 200000 and (n < 100 or alive()):
        n += 1
        try:
            got = {x[4][0] for x in socket.getaddrinfo(
                "flip.codns.test", 80, 0, socket.SOCK_STREAM)}
        except socket.gaierror as e:
            k = "err"
            print("error", e, flush=True)
        else:
            k = "A" if got == A else "B" if got == B else "bad"
            if k == "bad":
                print("mixed", sorted(got), flush=True)
        with lock:
            seen[k] += 1


ts = [threading.Thread(target=run) for _ in range(8)]
for t in ts:
    t.start()
open(started, "w").close()
for t in ts:
    t.join()
print("seen A=%d B=%d bad=%d err=%d" % (seen["A"], seen["B"], seen["bad"],
                                        seen["err"]))
