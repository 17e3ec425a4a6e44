#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/hostile.py: a local user trying to hold codnsd's slots.
# usage: hostile.py MODE WHERE COUNT SECONDS [SOURCE]
#   MODE silent: open COUNT connections and send nothing;
#        dribble: open COUNT connections, send the first byte of a large
#        frame, then one more byte every 0.3 s on each;
#        redribble: dribble, and open a new connection for each one the
#        daemon closes (a benchmark's slowloris; counts stay as for
#        dribble, closed counting each closed connection);
#        halfline: open COUNT control connections and send "stat" with no
#        newline;
#        nscd: as dribble, with a valid nscd request header (a 200-byte
#        name key) sent a byte at a time, then the key.
#   WHERE a socket path or HOST:PORT; SOURCE binds TCP to that address, or
#   with "rotate" each connection to its own 127.0.X.Y (one local user
#   posing as many hosts).
# Prints "ready" once all connects were tried, then after SECONDS prints
# "open=N closed=N": connections still open at the end and connections the
# daemon closed (refused at once, or closed for a slow frame). Bounded: it
# exits after SECONDS whatever happens.
import socket
import struct
import sys
import time

# nscd_req_hdr: version 2, GETHOSTBYNAME, a key of 200 bytes; then the key.
NSCD_FRAME = struct.pack("=iii", 2, 0, 200) + b"a" * 200
rotated = 0


def source_of(source):
    global rotated
    if source != "rotate":
        return source
    rotated += 1
    return "127.0.%d.%d" % (1 + rotated // 250, 1 + rotated % 250)


def first(mode):
    return NSCD_FRAME[:1] if mode == "nscd" else b"\x0f"


def more(mode, sent):
    if mode == "nscd":
        return NSCD_FRAME[sent:sent + 1]
    return b"\xa0"


def conn(where, source):
    if where.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(where)
    else:
        host, port = where.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        if source:
            s.bind((source_of(source), 0))
        s.connect((host, int(port)))
    s.setblocking(False)
    return s


def closed(s):
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def main():
    mode, where, count, secs = (sys.argv[1], sys.argv[2], int(sys.argv[3]),
                                float(sys.argv[4]))
    source = sys.argv[5] if len(sys.argv) > 5 else None
    socks = []
    for _ in range(count):
        try:
            s = conn(where, source)
        except OSError:
            continue
        try:
            if mode in ("dribble", "nscd"):
                # a 4000-byte frame (a 200-byte nscd key), never finished
                s.send(first(mode))
            elif mode == "halfline":
                s.send(b"stat")
        except OSError:
            pass
        socks.append(s)
    print("ready", flush=True)
    gone = set()
    sent = [1] * len(socks)
    reopened = 0
    end = time.time() + secs
    while time.time() < end:
        time.sleep(0.3)
        for i, s in enumerate(socks):
            if i in gone:
                continue
            if closed(s):
                gone.add(i)
            elif mode in ("dribble", "redribble", "nscd"):
                try:
                    s.send(more(mode, sent[i]))
                    sent[i] += 1
                except OSError:
                    gone.add(i)
            if i in gone and mode == "redribble":
                s.close()
                try:
                    socks[i] = conn(where, source)
                    socks[i].send(b"\x0f")
                    gone.discard(i)
                    reopened += 1
                except OSError:
                    pass
    for i, s in enumerate(socks):
        if i not in gone and closed(s):
            gone.add(i)
    print("open=%d closed=%d" % (len(socks) - len(gone),
                                 len(gone) + reopened), flush=True)


if __name__ == "__main__":
    main()
