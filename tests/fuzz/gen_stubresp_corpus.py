#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/fuzz/gen_stubresp_corpus.py: write the seed corpus for
# fuzz_stubresp: upstream responses, well formed and hostile.
# Not run by make: the corpus is committed. To regenerate:
#   python3 tests/fuzz/gen_stubresp_corpus.py tests/fuzz/corpus/stubresp
import os
import struct
import sys


def wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            b = label.encode("latin-1")
            out += bytes([len(b)]) + b
    return out + b"\0"


def rr(owner, rtype, rdata, ttl=300, rclass=1, rdlen=None):
    n = len(rdata) if rdlen is None else rdlen
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, n) + rdata


def msg(qname, qtype, an=(), ns=(), ar=(), rcode=0):
    q = wire(qname) + struct.pack(">HH", qtype, 1)
    head = struct.pack(">HHHHHH", 0x1234, 0x8180 | rcode, 1, len(an),
                       len(ns), len(ar))
    return head + q + b"".join(an) + b"".join(ns) + b"".join(ar)


Q = b"\xc0\x0c"  # the question's name
AT = 12  # where the question starts
REV = "5.2.0.192.in-addr.arpa"


def at_answer(qname):
    return AT + len(wire(qname)) + 4


def soa(ttl=60):
    return (wire("ns.test") + wire("hostmaster.test") +
            struct.pack(">IIIII", 1, 7200, 900, 604800, ttl))


def opt():
    return b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)


def corpus():
    yield "a", msg("www.test", 1, [rr(Q, 1, bytes([192, 0, 2, 1])),
                                   rr(Q, 1, bytes([192, 0, 2, 2]))])
    yield "aaaa", msg("www.test", 28, [rr(Q, 28, bytes(15) + b"\1")])
    yield "cname_chain", msg("alias.test", 1, [
        rr(Q, 5, wire("mid.test")),
        rr(wire("mid.test"), 5, b"\3end\xc0" + bytes([AT + 6])),
        rr(wire("end.test"), 1, bytes([192, 0, 2, 3]))])
    yield "mx", msg("test", 15, [rr(Q, 15, b"\0\x0a\4mail\xc0\x0c"),
                                 rr(Q, 15, b"\0\x14" + wire("mx2.test"))])
    yield "txt", msg("txt.test", 16, [rr(Q, 16, b"\5hello\5world")])
    yield "srv", msg("_ldap._tcp.test", 33, [
        rr(Q, 33, struct.pack(">HHH", 0, 100, 389) + wire("ldap.test"))])
    yield "nxdomain_soa", msg("nx.test", 1, ns=[rr(wire("test"), 6, soa())],
                              rcode=3)
    yield "nodata_soa_opt", msg("www.test", 15,
                                ns=[rr(b"\xc0\x10", 6, soa())], ar=[opt()])
    yield "ns_glue", msg("test", 2, [rr(Q, 2, wire("ns1.test"))],
                         ar=[rr(wire("ns1.test"), 1, bytes([192, 0, 2, 53]))])
    yield "ptr", msg(REV, 12, [rr(Q, 12, wire("good.test"))])
    yield "ptr_two", msg(REV, 12, [rr(Q, 12, wire("first.test")),
                                   rr(Q, 12, wire("second.test"))])
    yield "ptr_cname", msg(REV, 12, [
        rr(Q, 5, wire("5.0-25.2.0.192.in-addr.arpa")),
        rr(wire("5.0-25.2.0.192.in-addr.arpa"), 12, wire("classless.test"))])
    yield "ptr_other_owner", msg(REV, 12, [
        rr(wire("6.2.0.192.in-addr.arpa"), 12, wire("other.test"))])
    yield "ptr_hostile", msg(REV, 12, [
        rr(Q, 12, wire("x\\;id|sh`w`$(reboot)<y>.evil.test"))])
    yield "ptr_dash", msg(REV, 12, [rr(Q, 12, wire("-rf.test"))])
    yield "ptr_past_rdata", msg(REV, 12, [rr(Q, 12, wire("good.test"),
                                             rdlen=4)])
    p_end = at_answer(REV)
    yield "ptr_self_pointer", msg(REV, 12, [
        rr(Q, 12, struct.pack(">H", 0xc000 | (p_end + 12)))])
    yield "cname_self_pointer", msg("bad.test", 5, [
        rr(Q, 5, struct.pack(">H", 0xc000 | (at_answer("bad.test") + 12)))])
    yield "mx_forward_pointer", msg("bad.test", 15, [
        rr(Q, 15, b"\0\x0a" + struct.pack(">H", 0xc000 | 0x3fff))])
    yield "a_wrong_len", msg("www.test", 1, [rr(Q, 1, b"\1\2\3")])
    yield "long_name", msg("a" * 63 + "." + "b" * 63 + "." + "c" * 63 +
                           "." + "d" * 61, 1,
                           [rr(Q, 1, bytes([192, 0, 2, 9]))])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in corpus():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


main()
