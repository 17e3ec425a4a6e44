#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/impostor.py: a fake codnsd that answers every lookup
# with one address, as a hostile local user would while codnsd is down.
# usage: impostor.py ADDRESS|PATH IPV4 SECONDS
# Listens on a loopback TCP address or a UNIX socket path, prints "ready"
# once listening, answers each request frame; exits after SECONDS.
import os
import socket
import struct
import sys
import threading
import time

import lookup


def serve(c, ip):
    c.settimeout(5)
    try:
        while True:
            (n,) = struct.unpack("!H", lookup.recv_exact(c, 2))
            body = lookup.recv_exact(c, n)
            rid = struct.unpack("!I", body[2:6])[0]
            c.sendall(lookup.answer(rid, [ip]))
    except (OSError, EOFError, struct.error):
        pass
    c.close()


def main():
    where, ip, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if where.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(where)
        os.chmod(where, 0o666)
    else:
        host, port = where.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, int(port)))
    s.listen(64)
    print("ready", flush=True)
    end = time.time() + secs
    while time.time() < end:
        s.settimeout(max(0.05, end - time.time()))
        try:
            c, _ = s.accept()
        except socket.timeout:
            break
        threading.Thread(target=serve, args=(c, ip), daemon=True).start()


if __name__ == "__main__":
    main()
