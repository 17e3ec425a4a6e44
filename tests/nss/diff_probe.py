# SPDX-License-Identifier: MIT
# tests/nss/diff_probe.py: every resolver call of a name, one line each.
#
# usage: diff_probe.py name NAME... | diff_probe.py addr ADDRESS...
#        diff_probe.py call CALL NAME   (one call: see CALLS)
# Prints "probe NAME: result" lines through whatever nsswitch.conf says, so
# test_differential.sh can run it once under "hosts: dns" and once under
# "hosts: codns" and compare the two outputs line by line. Address lists are
# sorted: the order of equal-precedence addresses is the nameserver's and
# c-ares' business, not an answer (see nss_codns(8), DIFFERENCES).
import ctypes
import socket
import subprocess
import sys

EAI = {getattr(socket, n): n for n in dir(socket) if n.startswith("EAI_")}
FAMILIES = (("unspec", socket.AF_UNSPEC), ("inet", socket.AF_INET),
            ("inet6", socket.AF_INET6))


def out(probe, key, text):
    print("%s %s: %s" % (probe, key, text))


def getent(db, key):
    try:
        p = subprocess.run(["getent", db, key], capture_output=True,
                           text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "timeout"
    lines = p.stdout.splitlines()
    if db.startswith("ahosts"):
        # The first line carries the canonical name; the rest are sorted,
        # each as often as it came ("::1 localhost" is a second 127.0.0.1
        # for ahostsv4 with "multi on").
        canon = lines[0].split()[2:] if lines else []
        addrs = sorted(" ".join(l.split()[:2]) for l in lines)
        return "rc=%d canon=%s %s" % (p.returncode, ",".join(canon),
                                      ";".join(addrs))
    return "rc=%d %s" % (p.returncode, ";".join(sorted(
        " ".join(l.split()) for l in lines)))


def gai(name, family, flags=socket.AI_CANONNAME):
    try:
        res = socket.getaddrinfo(name, None, family, socket.SOCK_STREAM, 0,
                                 flags)
    except socket.gaierror as e:
        return "error %s" % EAI.get(e.errno, e.errno)
    return "canon=%s %s" % (res[0][3], ",".join(sorted(set(
        r[4][0] for r in res))))


def ghbn_ex(name):
    try:
        n, aliases, addrs = socket.gethostbyname_ex(name)
    except socket.herror as e:
        return "herror %d" % e.errno
    except socket.gaierror as e:
        return "error %s" % EAI.get(e.errno, e.errno)
    return "%s aliases=%s addrs=%s" % (n, ",".join(aliases),
                                        ",".join(sorted(addrs)))


class Hostent(ctypes.Structure):
    _fields_ = [("h_name", ctypes.c_char_p),
                ("h_aliases", ctypes.POINTER(ctypes.c_char_p)),
                ("h_addrtype", ctypes.c_int), ("h_length", ctypes.c_int),
                ("h_addr_list", ctypes.POINTER(ctypes.c_void_p))]


LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.gethostbyname2.restype = ctypes.POINTER(Hostent)
LIBC.gethostbyname2.argtypes = (ctypes.c_char_p, ctypes.c_int)
LIBC.__h_errno_location.restype = ctypes.POINTER(ctypes.c_int)


def ghbn2(name, family):
    """gethostbyname2() with the h_errno it leaves (Python has no call)."""
    LIBC.__h_errno_location()[0] = -1
    he = LIBC.gethostbyname2(name.encode(), family)
    if not he:
        return "h_errno %d" % LIBC.__h_errno_location()[0]
    h = he.contents
    aliases = []
    i = 0
    while h.h_aliases[i]:
        aliases.append(h.h_aliases[i].decode())
        i += 1
    addrs = []
    i = 0
    while h.h_addr_list[i]:
        raw = ctypes.string_at(h.h_addr_list[i], h.h_length)
        addrs.append(socket.inet_ntop(h.h_addrtype, raw))
        i += 1
    return "%s aliases=%s addrs=%s" % (h.h_name.decode(), ",".join(aliases),
                                        ",".join(sorted(addrs)))


def ghba(addr):
    try:
        n, aliases, addrs = socket.gethostbyaddr(addr)
    except socket.herror as e:
        return "herror %d" % e.errno
    except socket.gaierror as e:
        return "error %s" % EAI.get(e.errno, e.errno)
    except OSError as e:
        # Python refuses a hostent of another family than it asked.
        return "oserror %d" % e.errno
    return "%s aliases=%s addrs=%s" % (n, ",".join(aliases),
                                        ",".join(addrs))


def gni(addr):
    try:
        return "%s" % socket.getnameinfo((addr, 0), socket.NI_NAMEREQD)[0]
    except socket.gaierror as e:
        return "error %s" % EAI.get(e.errno, e.errno)


# One call in a process of its own, for query counts (diff_scenarios.sh):
# under nscd the family and AI_CANONNAME choose the request (getaddrinfo
# of AF_INET alone without it is a GETHOSTBYNAME, anything else a GETAI).
CALLS = {
    "gethostbyname": lambda n: ghbn_ex(n),
    "gai-inet": lambda n: gai(n, socket.AF_INET, 0),
    "gai-inet-canon": lambda n: gai(n, socket.AF_INET),
    "gai-inet6": lambda n: gai(n, socket.AF_INET6),
    "gai-unspec": lambda n: gai(n, socket.AF_UNSPEC),
}


def main():
    kind, keys = sys.argv[1], sys.argv[2:]
    if kind == "call":
        out(keys[0], keys[1], CALLS[keys[0]](keys[1]))
        return
    for k in keys:
        if kind == "name":
            for db in ("hosts", "ahosts", "ahostsv4", "ahostsv6"):
                out("getent-" + db, k, getent(db, k))
            for fname, f in FAMILIES:
                out("getaddrinfo-" + fname, k, gai(k, f))
            out("gethostbyname_ex", k, ghbn_ex(k))
            for fname, f in FAMILIES[1:]:
                out("gethostbyname2-" + fname, k, ghbn2(k, f))
        else:
            out("getent-hosts", k, getent("hosts", k))
            out("gethostbyaddr", k, ghba(k))
            out("getnameinfo", k, gni(k))
        sys.stdout.flush()


main()
