#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/notify_recv.py: plays systemd's side of sd_notify for
# tests: binds the datagram socket SOCKET (a path, or @name), prints every
# message received, one line per assignment, and on READY=1 whether
# HOST:PORT accepts a connection at that moment (LISTENING yes/no). Stops
# after SECONDS or when the file STOPFILE appears.
import os
import socket
import sys
import time

path, listener, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
stopfile = sys.argv[4] if len(sys.argv) > 4 else None
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
s.settimeout(0.1)
print("BOUND", flush=True)
host, port = listener.rsplit(":", 1)
end = time.monotonic() + seconds
while time.monotonic() < end:
    if stopfile and os.path.exists(stopfile):
        break
    try:
        msg = s.recv(4096).decode()
    except socket.timeout:
        continue
    for line in msg.split("\n"):
        print(line, flush=True)
    if "READY=1" in msg.split("\n"):
        try:
            socket.create_connection((host, int(port)), 1).close()
            print("LISTENING yes", flush=True)
        except OSError:
            print("LISTENING no", flush=True)
