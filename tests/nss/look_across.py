#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/nss/look_across.py: one process resolves a name before and after
an event the calling script signals with a file.

usage: look_across.py DIR MARKER NAME BEFORE AFTER
Prints "L [addresses]" for each letter L of BEFORE, waits (at most 10 s)
for DIR/MARKER to exist, then does the same for each letter of AFTER.
The script reads the first line to know the process is running, causes
the event (a reload, a stop), creates the marker and compares the lines.
Used by run_shm.sh and run_nscd.sh.
"""
import os
import socket
import sys
import time

where, marker, name, before, after = sys.argv[1:6]


def look(label):
    try:
        got = sorted(set(x[4][0] for x in socket.getaddrinfo(
            name, 80, socket.AF_UNSPEC, socket.SOCK_STREAM)))
    except socket.gaierror as e:
        got = "error %s" % e
    print(label, got, flush=True)


for label in before:
    look(label)
for _ in range(200):
    if os.path.exists(os.path.join(where, marker)):
        break
    time.sleep(0.05)
for label in after:
    look(label)
