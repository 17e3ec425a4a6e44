#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/sd_launch.py: plays systemd's socket activation for
# tests. Binds the listening sockets SPEC... (tcp:HOST:PORT,
# udp:HOST:PORT, unix:PATH), then runs COMMAND with them as fds 3.. and
# LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES set, keeping its own copies: when
# the command exits, the sockets (and what is queued on them) stay. It
# writes the command's pid to DIR/pid, and starts it again each time
# DIR/go appears (removing it); DIR/quit, SIGTERM or 120 s end it.
import os
import signal
import socket
import sys
import time

d = sys.argv[1]
sep = sys.argv.index("--")
specs, cmd = sys.argv[2:sep], sys.argv[sep + 1:]
socks = []
for spec in specs:
    kind, rest = spec.split(":", 1)
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(rest)
        os.chmod(rest, 0o666)
        s.listen(128)
    else:
        host, port = rest.rsplit(":", 1)
        t = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(socket.AF_INET, t)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, int(port)))
        if kind == "tcp":
            s.listen(128)
    socks.append(s)
child = None


def stop(*_):
    if child:
        try:
            os.kill(child, signal.SIGTERM)
        except OSError:
            pass
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
end = time.monotonic() + 120
while time.monotonic() < end:
    child = os.fork()
    if child == 0:
        for i, s in enumerate(socks):
            os.dup2(s.fileno(), 3 + i)
            os.set_inheritable(3 + i, True)  # dup2 onto itself keeps CLOEXEC
        os.environ["LISTEN_FDS"] = str(len(socks))
        os.environ["LISTEN_PID"] = str(os.getpid())
        os.environ["LISTEN_FDNAMES"] = ":".join(["codnsd"] * len(socks))
        os.execv(cmd[0], cmd)
    with open(os.path.join(d, "pid.tmp"), "w") as f:
        f.write("%d\n" % child)
    os.rename(os.path.join(d, "pid.tmp"), os.path.join(d, "pid"))
    _, status = os.waitpid(child, 0)
    child = None
    print("exit %d" % os.waitstatus_to_exitcode(status), flush=True)
    while time.monotonic() < end:
        if os.path.exists(os.path.join(d, "quit")):
            sys.exit(0)
        if os.path.exists(os.path.join(d, "go")):
            os.unlink(os.path.join(d, "go"))
            break
        time.sleep(0.02)
