#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/craftns.py: a DNS server that sends crafted answers no
# real server would, for what codnsd must refuse.
# usage: craftns.py ADDR PORT LOG SECONDS
# Answers over UDP by the first label of the question name:
#   badcname: a CNAME whose target is a compression pointer to itself;
#   badmx: an MX whose exchange is such a pointer;
#   good: an A record 192.0.2.1 (a control);
#   a reverse name N.2.0.192.in-addr.arpa, by N:
#     1: a PTR good.test owned by another reverse name;
#     2: a PTR whose name is a compression pointer to itself;
#     3: a PTR whose name runs past its record (rdlength one short);
#     4: a PTR first owned by another name, then one of the name asked;
#     5: a PTR good.test (a control);
#     6: a PTR named "-rf.test" (a leading dash);
#   peers (any domain): SERVFAIL, the registry failing (test_peersdns.sh);
#   anything else: NXDOMAIN.
# Each question is logged to LOG as "QNAME QTYPE". Exits after SECONDS.
import socket
import struct
import sys
import time


def wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(owner, rtype, rdata, rdlen=None):
    n = len(rdata) if rdlen is None else rdlen
    return owner + struct.pack(">HHIH", rtype, 1, 300, n) + rdata


def answer(q, qname, qtype, qend):
    qid = q[:2]
    question = q[12:qend]
    label = qname.split(".")[0]
    ans, rcode = [], 0
    at = qend  # offset of the first answer record
    here = b"\xc0\x0c"  # the question's name
    if label == "badcname":
        # the owner (2 bytes) and fixed part (10): the rdata starts at +12
        ans.append(rr(here, 5, struct.pack(">H", 0xc000 | (at + 12))))
    elif label == "badmx":
        ans.append(rr(here, 15, b"\0\x0a" +
                      struct.pack(">H", 0xc000 | (at + 14))))
    elif label == "good":
        ans.append(rr(here, 1, bytes([192, 0, 2, 1])))
    elif label == "peers":
        rcode = 2
    elif qname.endswith(".2.0.192.in-addr.arpa") and qtype == 12:
        other = wire("99.2.0.192.in-addr.arpa")
        if label == "1":
            ans.append(rr(other, 12, wire("good.test")))
        elif label == "2":
            ans.append(rr(here, 12, struct.pack(">H", 0xc000 | (at + 12))))
        elif label == "3":
            ans.append(rr(here, 12, wire("good.test"), 10))
        elif label == "4":
            ans.append(rr(other, 12, wire("other.test")))
            ans.append(rr(here, 12, wire("mine.test")))
        elif label == "5":
            ans.append(rr(here, 12, wire("good.test")))
        elif label == "6":
            ans.append(rr(here, 12, wire("-rf.test")))
        else:
            rcode = 3
    else:
        rcode = 3
    head = qid + struct.pack(">HHHHH", 0x8180 | rcode, 1, len(ans), 0, 0)
    return head + question + b"".join(ans)


def parse(q):
    pos, labels = 12, []
    while pos < len(q) and q[pos] != 0:
        n = q[pos]
        labels.append(q[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    pos += 1
    qtype = struct.unpack(">H", q[pos:pos + 2])[0]
    return ".".join(labels).lower(), qtype, pos + 4


def main():
    addr, port, log, secs = (sys.argv[1], int(sys.argv[2]), sys.argv[3],
                             float(sys.argv[4]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    end = time.time() + secs
    with open(log, "a", buffering=1) as f:
        while time.time() < end:
            s.settimeout(max(0.1, end - time.time()))
            try:
                q, peer = s.recvfrom(4096)
            except socket.timeout:
                continue
            try:
                qname, qtype, qend = parse(q)
            except (IndexError, struct.error):
                continue
            f.write("%s %d\n" % (qname, qtype))
            s.sendto(answer(q, qname, qtype, qend), peer)


main()
