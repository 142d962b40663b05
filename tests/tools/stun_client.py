#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ICE connectivity checks as a full ICE agent sends them (python3 standard
library only), to hold mrelay's ICE-lite answers against.

Debian's stun clients (stun-client, stuntman-client) send Binding requests
without ICE's short-term credentials, so they cannot test an ICE-lite
agent. This one builds RFC 8445 checks: USERNAME "<relay ufrag>:<our
ufrag>", PRIORITY, ICE-CONTROLLING, optionally USE-CANDIDATE,
MESSAGE-INTEGRITY (HMAC-SHA1 keyed with the relay's ice-pwd) and
FINGERPRINT (CRC-32 ^ 0x5354554e), and checks a response the same way
(RFC 8489): the transaction id, MESSAGE-INTEGRITY with the relay's
password, FINGERPRINT, and XOR-MAPPED-ADDRESS decoded.

As a module: check_request(), parse_response(). As a program:

  stun_client.py --bind IP:PORT --to IP:PORT --ufrag RELAY_UFRAG --pwd PWD
                 [--use-candidate] [--count N] [--timeout S]

sends --count checks (each a new transaction), waits up to --timeout for
each answer, and prints one JSON object: sent, answered, verified, mapped
(the XOR-MAPPED-ADDRESS of the last verified answer). Exit status 0 if every
check got a verified answer, 1 if any got none or a bad one, 2 on usage or
socket errors. With --expect-none, 0 means no answer came at all.
"""
import argparse
import hashlib
import hmac
import ipaddress
import json
import os
import socket
import struct
import sys
import zlib

COOKIE = 0x2112A442
BINDING_REQUEST, BINDING_SUCCESS = 0x0001, 0x0101
USERNAME, MESSAGE_INTEGRITY, XOR_MAPPED_ADDRESS = 0x0006, 0x0008, 0x0020
PRIORITY, USE_CANDIDATE, FINGERPRINT, ICE_CONTROLLING = 0x0024, 0x0025, 0x8028, 0x802A


def _attr(t, value):
    return struct.pack("!HH", t, len(value)) + value + b"\0" * (-len(value) % 4)


def _sign(msg_type, txid, body, pwd):
    """Header + body + MESSAGE-INTEGRITY + FINGERPRINT."""
    hdr = struct.pack("!HHI", msg_type, len(body) + 24, COOKIE) + txid
    mi = hmac.new(pwd.encode(), hdr + body, hashlib.sha1).digest()
    body += _attr(MESSAGE_INTEGRITY, mi)
    hdr = struct.pack("!HHI", msg_type, len(body) + 8, COOKIE) + txid
    fp = (zlib.crc32(hdr + body) ^ 0x5354554E) & 0xFFFFFFFF
    return hdr + body + _attr(FINGERPRINT, struct.pack("!I", fp))


def check_request(relay_ufrag, our_ufrag, pwd, txid=None, use_candidate=False,
                  priority=0x6E0001FF, tiebreaker=0x0123456789ABCDEF):
    """A connectivity check towards the relay; returns (txid, bytes)."""
    txid = txid or os.urandom(12)
    body = _attr(USERNAME, ("%s:%s" % (relay_ufrag, our_ufrag)).encode())
    body += _attr(PRIORITY, struct.pack("!I", priority))
    body += _attr(ICE_CONTROLLING, struct.pack("!Q", tiebreaker))
    if use_candidate:
        body += _attr(USE_CANDIDATE, b"")
    return txid, _sign(BINDING_REQUEST, txid, body, pwd)


def parse_response(data, txid, pwd):
    """The (ip, port) a Binding success response to @txid maps to, after
    checking MESSAGE-INTEGRITY (@pwd) and FINGERPRINT; raises ValueError."""
    if len(data) < 20:
        raise ValueError("short")
    t, ln, cookie = struct.unpack("!HHI", data[:8])
    if cookie != COOKIE or 20 + ln != len(data) or data[8:20] != txid:
        raise ValueError("not a response to our transaction")
    if t != BINDING_SUCCESS:
        raise ValueError("type 0x%04x" % t)
    off, attrs = 20, []
    while off < len(data):
        at, al = struct.unpack("!HH", data[off:off + 4])
        attrs.append((at, off, data[off + 4:off + 4 + al]))
        off += 4 + al + (-al % 4)
    if not attrs or attrs[-1][0] != FINGERPRINT:
        raise ValueError("no FINGERPRINT last")
    fp_off = attrs[-1][1]
    hdr = struct.pack("!HH", t, fp_off + 8 - 20) + data[4:20]
    if struct.unpack("!I", attrs[-1][2])[0] != (zlib.crc32(hdr + data[20:fp_off]) ^ 0x5354554E) & 0xFFFFFFFF:
        raise ValueError("bad FINGERPRINT")
    mi = [a for a in attrs if a[0] == MESSAGE_INTEGRITY]
    if not mi:
        raise ValueError("no MESSAGE-INTEGRITY")
    mi_off = mi[0][1]
    hdr = struct.pack("!HH", t, mi_off + 24 - 20) + data[4:20]
    if not hmac.compare_digest(hmac.new(pwd.encode(), hdr + data[20:mi_off], hashlib.sha1).digest(),
                               mi[0][2]):
        raise ValueError("bad MESSAGE-INTEGRITY")
    xma = [a for a in attrs if a[0] == XOR_MAPPED_ADDRESS]
    if not xma:
        raise ValueError("no XOR-MAPPED-ADDRESS")
    v = xma[0][2]
    port = struct.unpack("!H", v[2:4])[0] ^ (COOKIE >> 16)
    key = struct.pack("!I", COOKIE) + txid
    if v[1] == 1:
        ip = ipaddress.IPv4Address(bytes(a ^ b for a, b in zip(v[4:8], key)))
    else:
        ip = ipaddress.IPv6Address(bytes(a ^ b for a, b in zip(v[4:20], key)))
    return str(ip), port


def _addr(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bind", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--ufrag", required=True, help="the relay's ice-ufrag")
    ap.add_argument("--pwd", required=True, help="the relay's ice-pwd (signs and verifies)")
    ap.add_argument("--our-ufrag", default="peer")
    ap.add_argument("--use-candidate", action="store_true")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--expect-none", action="store_true")
    a = ap.parse_args()
    try:
        bind, to = _addr(a.bind), _addr(a.to)
        s = socket.socket(socket.AF_INET6 if ":" in bind[0] else socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(bind)
        s.settimeout(a.timeout)
    except (OSError, ValueError) as e:
        print(json.dumps({"error": str(e)}))
        return 2
    res = {"sent": 0, "answered": 0, "verified": 0, "mapped": None, "errors": []}
    for _ in range(a.count):
        txid, req = check_request(a.ufrag, a.our_ufrag, a.pwd, use_candidate=a.use_candidate)
        s.sendto(req, to)
        res["sent"] += 1
        try:
            data, src = s.recvfrom(2048)
        except socket.timeout:
            continue
        res["answered"] += 1
        if (src[0], src[1]) != to:
            res["errors"].append("answer from %s:%d" % src[:2])
            continue
        try:
            ip, port = parse_response(data, txid, a.pwd)
        except ValueError as e:
            res["errors"].append(str(e))
            continue
        res["verified"] += 1
        res["mapped"] = "%s:%d" % (ip, port) if ":" not in ip else "[%s]:%d" % (ip, port)
    print(json.dumps(res))
    if a.expect_none:
        return 0 if res["answered"] == 0 else 1
    return 0 if res["verified"] == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
