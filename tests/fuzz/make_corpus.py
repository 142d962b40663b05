#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/{parse,proto,rtp,stun,bencode,ng,sdes,sdp,srtp_diff,sipframe,sip,dp_config,cp_config,journal,admin}).

Each seed is one valid input of a kind the target handles: for parse and
proto a frame, for rtp a UDP payload (these under 200 bytes), for bencode
an NG datagram (cookie, space, bencode dictionary, as Kamailio's and
OpenSIPS's rtpengine modules send them) or a bare bencode value, for sdes
one or more a=crypto values, one per line, for ng a call's NG datagrams
(offer, answer, query, delete, ...) separated by two NUL bytes, against
fuzz_ng's interfaces wan and pstn, for sdp one SDP body (the
unit tests' tests/data/sdp/*.in.sdp with CRLF endings, and the edge cases
below), for srtp_diff a small program in the layout fuzz_srtp_diff.c
describes (stream pairs, then commands), under 1 KiB, for sipframe a byte
stream of SIP messages and keep-alives as a TLS or TCP flow carries it. All are built here
with no dependency beyond the standard library, but corpus/srtp_diff/lf_*.bin:
programs libFuzzer found (the largest of a merged corpus), kept so the
replay test starts from deeper states; this script leaves them alone. The output is
committed; rerun after changing this script:  python3 tests/fuzz/make_corpus.py
The addresses match the fuzz targets' is_local stub: 198.18.0.1, 2001:db8::1.
For stun: UDP payloads, the RFC 5769 samples and ICE checks signed with
fuzz_stun's credentials (ufrag mrly, pwd 0123456789abcdefghijKL) by
tests/tools/stun_client.py.
"""
import base64
import ipaddress
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

OUR_MAC = bytes.fromhex("020000000001")
PEER_MAC = bytes.fromhex("021122334455")
BCAST = b"\xff" * 6
OUR4 = ipaddress.IPv4Address("198.18.0.1").packed
PEER4 = ipaddress.IPv4Address("198.18.0.77").packed
OTHER4 = ipaddress.IPv4Address("198.18.0.99").packed
OUR6 = ipaddress.IPv6Address("2001:db8::1").packed
PEER6 = ipaddress.IPv6Address("fe80::11:22ff:fe33:4455").packed
OTHER6 = ipaddress.IPv6Address("2001:db8::99").packed
ALL_NODES = ipaddress.IPv6Address("ff02::1").packed


def cksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(et, dst=OUR_MAC, src=PEER_MAC, tags=()):
    hdr = dst + src
    for i, tpid in enumerate(tags):
        hdr += struct.pack("!HH", tpid, 100 * (i + 1))
    return hdr + struct.pack("!H", et)


def pad60(frame):
    return frame + b"\0" * max(0, 60 - len(frame))


def ipv4(proto, payload, src=PEER4, dst=OUR4, frag=0x4000, options=b""):
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0xB8, 4 * ihl + len(payload),
                      0x1234, frag, 64, proto, 0, src, dst) + options
    hdr = hdr[:10] + struct.pack("!H", cksum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(nh, payload, src=PEER6, dst=OUR6, hlim=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hlim,
                       src, dst) + payload


def icmp6(msg, src, dst):
    """ICMPv6 message with its checksum over the RFC 8200 pseudo-header."""
    pseudo = src + dst + struct.pack("!IxxxB", len(msg), 58)
    c = cksum(pseudo + msg[:2] + b"\0\0" + msg[4:])
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def udp(payload, sport=40000, dport=30000):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


RTP = bytes.fromhex("80000001000000a0deadbeef") + bytes(range(20))


def arp(op, sha, spa, tha, tpa, dst=BCAST):
    return pad60(eth(0x0806, dst=dst, src=sha) +
                 struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, spa, tha, tpa))


def icmp4_echo(dst=OUR4):
    msg = struct.pack("!BBHHH", 8, 0, 0, 0x0457, 1) + b"mrelay-ping"
    msg = msg[:2] + struct.pack("!H", cksum(msg)) + msg[4:]
    return pad60(eth(0x0800) + ipv4(1, msg, dst=dst, frag=0))


def icmp6_echo():
    msg = struct.pack("!BBHHH", 128, 0, 0, 0x0457, 1) + b"mrelay-ping6"
    return eth(0x86DD) + ipv6(58, icmp6(msg, PEER6, OUR6))


def solicited_node(ip):
    return ipaddress.IPv6Address("ff02::1:ff00:0").packed[:13] + ip[13:]


def ns(target, src=PEER6, dst=None, slla=PEER_MAC):
    dst = dst or solicited_node(target)
    msg = struct.pack("!BBHI16s", 135, 0, 0, 0, target)
    if slla:
        msg += struct.pack("!BB6s", 1, 1, slla)
    return eth(0x86DD, dst=b"\x33\x33" + dst[12:]) + \
        ipv6(58, icmp6(msg, src, dst), src=src, dst=dst, hlim=255)


def na(target, tlla, flags=0x60, dst=OUR6):
    msg = struct.pack("!BBHI16s", 136, 0, 0, flags << 24, target)
    msg += struct.pack("!BB6s", 2, 1, tlla)
    return eth(0x86DD) + ipv6(58, icmp6(msg, PEER6, dst), dst=dst, hlim=255)


def ext(nh, length_units=0):
    """Extension header: next header, length, PadN over the rest."""
    size = 8 * (length_units + 1)
    return struct.pack("!BBBB", nh, length_units, 1, size - 4) + b"\0" * (size - 4)


PARSE = {
    "ipv4_udp": eth(0x0800) + ipv4(17, udp(RTP)),
    "ipv4_udp_small_padded": pad60(eth(0x0800) + ipv4(17, udp(b"\x01\x02"))),
    "ipv6_udp": eth(0x86DD) + ipv6(17, udp(RTP)),
    "vlan_ipv4_udp": eth(0x0800, tags=(0x8100,)) + ipv4(17, udp(RTP)),
    "qinq_ipv6_udp": eth(0x86DD, tags=(0x88A8, 0x8100)) + ipv6(17, udp(RTP)),
    "ipv6_ext_udp": eth(0x86DD) + ipv6(0, ext(43) + ext(60, 1) + ext(17) + udp(RTP[:12])),
    "ipv4_fragment": eth(0x0800) + ipv4(17, udp(RTP), frag=0x2000),
    "ipv6_fragment": eth(0x86DD) + ipv6(44, struct.pack("!BBHI", 17, 0, 1, 7) + udp(RTP)),
    "ipv4_options": eth(0x0800) + ipv4(17, udp(RTP), options=b"\x01\x01\x01\x00"),
    "ipv4_tcp_sip": eth(0x0800) + ipv4(6, struct.pack("!HHIIBBHHH", 5060, 33000, 1, 0,
                                                       0x50, 0x02, 65535, 0, 0)),
    "arp_request": arp(1, PEER_MAC, PEER4, b"\0" * 6, OUR4),
    "vlan_arp_request": pad60(eth(0x0806, dst=BCAST, tags=(0x8100,)) +
                              arp(1, PEER_MAC, PEER4, b"\0" * 6, OUR4)[14:42]),
    "icmp4_echo": icmp4_echo(),
    "icmp6_ns": ns(OUR6),
    "lldp": pad60(eth(0x88CC, dst=bytes.fromhex("0180c200000e")) + b"\x02\x07\x04" + PEER_MAC),
}

PROTO = {
    "arp_request_local": arp(1, PEER_MAC, PEER4, b"\0" * 6, OUR4),
    "arp_request_other": arp(1, PEER_MAC, PEER4, b"\0" * 6, OTHER4),
    "arp_reply": arp(2, PEER_MAC, PEER4, OUR_MAC, OUR4, dst=OUR_MAC),
    "arp_gratuitous": arp(1, PEER_MAC, PEER4, b"\0" * 6, PEER4),
    "arp_probe": arp(1, PEER_MAC, b"\0" * 4, b"\0" * 6, OUR4),
    "icmp4_echo_local": icmp4_echo(),
    "icmp6_echo_local": icmp6_echo(),
    "ns_multicast_local": ns(OUR6),
    "ns_unicast_local": ns(OUR6, dst=OUR6, slla=None),
    "ns_dad": ns(OUR6, src=b"\0" * 16, slla=None),
    "ns_other": ns(OTHER6),
    "na_tlla": na(OTHER6, PEER_MAC),
    "na_unsolicited": na(OTHER6, PEER_MAC, flags=0x20, dst=ALL_NODES),
}


def rtp(payload, pt=0, marker=False, csrcs=(), ext=None, pad=0, trailer=b""):
    """RTP (RFC 3550): @ext is RFC 8285 one-byte-form data, a multiple of 4."""
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext is not None else 0) | len(csrcs)
    hdr = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, 0x1234,
                      0xA0B0C0D0, 0xDEADBEEF)
    hdr += b"".join(struct.pack("!I", c) for c in csrcs)
    if ext is not None:
        hdr += struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
    padding = b"\0" * (pad - 1) + bytes([pad]) if pad else b""
    return hdr + payload + padding + trailer


def rtcp(pt, count, body, ssrc=0xDEADBEEF):
    """One RTCP packet: the length word counts 32-bit words minus one."""
    return struct.pack("!BBHI", 0x80 | count, pt, (8 + len(body)) // 4 - 1, ssrc) + body


SR = rtcp(200, 0, struct.pack("!IIIII", 0xE5F2A000, 0x10000000, 0xA0B0C0D0, 50, 8000))
RR = rtcp(201, 1, struct.pack("!IIIIII", 0xCAFEBABE, 0x01000003, 0x00011234, 20, 0, 0))
TAG10 = bytes.fromhex("a1a2a3a4a5a6a7a8a9aa")
CIPHER = bytes((0x3C * i + 7) & 0xFF for i in range(52))  # stands in for ciphertext

MEDIA = {
    "rtp_plain": rtp(bytes(range(20))),
    "rtp_csrc": rtp(bytes(range(20)), pt=8, csrcs=(0x11111111, 0x22222222)),
    "rtp_ext": rtp(bytes(range(20)), pt=111, ext=b"\x10\x7f\x00\x00"),
    "rtp_padding": rtp(bytes(range(20)), pt=96, pad=4),
    "rtp_all": rtp(bytes(range(9)), pt=100, marker=True, csrcs=(0x33333333,),
                   ext=b"\x22\x01\x02\x03\x31\x00\x00\x00", pad=3),
    "srtp_tag10": rtp(bytes(range(0x40, 0x54)), pt=0, trailer=TAG10),
    "rtcp_sr_rr": SR + RR,
    "srtcp_e": (SR + RR)[:8] + CIPHER + struct.pack("!I", 0x80000001) + TAG10,
    "srtcp_aead": SR[:8] + CIPHER[:20] + bytes(range(16)) + struct.pack("!I", 0x80000002),
    "stun_binding": struct.pack("!HHI12s", 0x0001, 8, 0x2112A442, b"mrelay-txid") +
                    struct.pack("!HH4s", 0x8022, 4, b"mrly"),
    "dtls_client_hello": bytes.fromhex("16fefd0000000000000000") + struct.pack("!H", 4) +
                         bytes.fromhex("01000000"),
}


def bencode(v):
    """Bencode @v, keeping dict keys in insertion order (as the proxies do)."""
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:" % len(v) + v
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(x) for k, x in v.items()) + b"e"
    raise TypeError(v)


def ng(cookie, d):
    return cookie.encode() + b" " + bencode(d)


def sdp(addr, port, proto="RTP/AVP", extra=""):
    return ("v=0\r\no=- 1545997027 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d %s 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n%s"
            % (addr, addr, port, proto, extra))


CRYPTO_OFFER = ("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
                "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n")
CALL_ID = "a84b4c76e66710@pc33.atlanta.test"

# Kamailio's rtpengine module: flags first, then sdp, call-id, via-branch,
# received-from, from-tag, to-tag, command last; cookie "<pid>_<counter>".
NG = {
    "kamailio_ping": ng("13985_1", {"command": "ping"}),
    "kamailio_offer": ng("13985_2", {
        "flags": ["trust-address", "strict-source"],
        "replace": ["origin", "session-connection"],
        "transport-protocol": "RTP/SAVP",
        "ICE": "remove",
        "rtcp-mux": ["demux"],
        "direction": ["external", "internal"],
        "SDES": ["no-NULL_HMAC_SHA1_32", "no-AES_192_CM_HMAC_SHA1_80"],
        "sdp": sdp("198.18.0.10", 30000),
        "call-id": CALL_ID,
        "via-branch": "z9hG4bK776asdhds",
        "received-from": ["IP4", "198.18.0.10"],
        "from-tag": "1928301774",
        "command": "offer"}),
    "kamailio_answer": ng("13985_3", {
        "flags": ["trust-address"],
        "replace": ["origin", "session-connection"],
        "transport-protocol": "RTP/AVP",
        "ICE": "remove",
        "rtcp-mux": ["accept"],
        "sdp": sdp("198.18.1.20", 40000, "RTP/SAVP", CRYPTO_OFFER),
        "call-id": CALL_ID,
        "via-branch": "z9hG4bK776asdhds",
        "received-from": ["IP4", "198.18.1.20"],
        "from-tag": "1928301774",
        "to-tag": "a6c85cf",
        "command": "answer"}),
    "kamailio_delete": ng("13985_4", {
        "call-id": CALL_ID, "via-branch": "z9hG4bK776asdhds",
        "from-tag": "1928301774", "to-tag": "a6c85cf", "command": "delete"}),
    "kamailio_query": ng("13985_5", {
        "call-id": CALL_ID, "from-tag": "1928301774", "command": "query"}),
    "opensips_offer_v6": ng("5_12_1700000000", {
        "command": "offer", "call-id": "x1@198.18.0.1", "from-tag": "f1",
        "sdp": sdp("2001:db8::10", 30002).replace("IP4", "IP6"),
        "media-address": "2001:db8::10", "address-family": "IP6",
        "flags": ["asymmetric"], "rtcp-mux": ["offer"],
        "direction": ["pub", "priv"], "TOS": 184}),
    # rtpengine's documented spelling of keys, with spaces
    "spaced_keys": ng("ngcp-1", {
        "command": "offer", "call-id": "c2", "from-tag": "t2", "sdp": "v=0\r\n",
        "received from": ["IP4", "198.18.0.3"], "media address": "198.18.0.3",
        "address family": "IP4", "transport protocol": "RTP/SAVPF",
        "SDES": ["off"], "supports": ["load limit"]}),
    "block_media": ng("c_7", {"command": "block media", "call-id": CALL_ID,
                              "from-tag": "1928301774"}),
    "reply_ok_sdp": ng("13985_2", {"result": "ok", "sdp": sdp("198.18.0.1", 31000)}),
    "reply_error": ng("13985_9", {"result": "error", "error-reason": "Unknown call-id"}),
    "reply_pong": b"13985_1 d6:result4:ponge",
    "sorted_nested": bencode({"a": [1, -1, 0, [[]], {}], "b": {"c": {"d": b"\x00\xff"}},
                              "i": 9223372036854775807, "j": -9223372036854775808}),
    "deep_lists": b"l" * 31 + b"i0e" + b"e" * 31,
    "json_body": b"13985_6 {\"command\":\"ping\"}",
}


def calls(*msgs):
    """One fuzz_ng input: NG datagrams separated by two NUL bytes."""
    return b"\0\0".join(msgs)


CRYPTO_B = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\r\n"
BFCP = "m=application 5070 TCP/BFCP *\r\na=setup:actpass\r\na=connection:new\r\n"
VIDEO = ("m=video 30010 RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\na=rtcp:30011\r\n"
         "a=rtcp-fb:96 nack\r\n")
OFFER_SRTP = sdp("198.18.1.10", 30000, "RTP/SAVP", "a=rtcp-mux\r\n" + CRYPTO_OFFER) + BFCP
ANSWER_SRTP = (sdp("198.18.0.11", 40000, "RTP/SAVP", "a=rtcp-mux\r\n" + CRYPTO_B)
               + "m=application 0 TCP/BFCP *\r\n")


def req(cookie, command, **kw):
    d = {k.replace("_", "-"): v for k, v in kw.items()}
    d["command"] = command
    return ng(cookie, d)


NGCALLS = {
    # A whole SRTP call as Kamailio drives it, with block/unblock and query.
    "srtp_call": calls(
        req("1_1", "offer", call_id="c1", from_tag="fa", sdp=OFFER_SRTP,
            replace=["origin", "session-connection"], ICE="remove", flags=["trust-address"]),
        req("1_2", "answer", call_id="c1", from_tag="fa", to_tag="tb", sdp=ANSWER_SRTP,
            replace=["origin"]),
        req("1_3", "query", call_id="c1"),
        req("1_4", "block media", call_id="c1", from_tag="fa"),
        req("1_5", "unblock media", call_id="c1"),
        req("1_6", "delete", call_id="c1", from_tag="fa")),
    # Plain RTP from the PSTN side bridged to SRTP; the answer comes back plain.
    "pstn_call": calls(
        req("2_1", "offer", call_id="c2", from_tag="gw", sdp=sdp("198.18.2.5", 20000),
            direction=["pstn", "wan"], rtcp_mux=["offer"], flags=["strict-source"]),
        req("2_2", "answer", call_id="c2", from_tag="gw", to_tag="ua",
            sdp=sdp("198.18.0.11", 40000, "RTP/SAVP", "a=rtcp-mux\r\n" + CRYPTO_B)),
        req("2_3", "delete", call_id="c2", to_tag="ua")),
    # Audio + BFCP + video, answered; re-offer from the caller (new cookie)
    # and from the callee (a re-INVITE the other way).
    "reoffer": calls(
        req("3_1", "offer", call_id="c3", from_tag="a", sdp=OFFER_SRTP + VIDEO + CRYPTO_OFFER),
        req("3_2", "offer", call_id="c3", from_tag="a", sdp=OFFER_SRTP + VIDEO + CRYPTO_OFFER),
        req("3_3", "answer", call_id="c3", from_tag="a", to_tag="b",
            sdp=ANSWER_SRTP + "m=video 40010 RTP/SAVPF 96\r\n" + CRYPTO_B),
        req("3_4", "offer", call_id="c3", from_tag="b",
            sdp=ANSWER_SRTP + "m=video 40010 RTP/SAVPF 96\r\n" + CRYPTO_B),
        req("3_5", "query", call_id="c3")),
    # Offers left unanswered (the target restarts the manager with them
    # live), a retransmission, list and statistics.
    "pending": calls(
        req("4_1", "offer", call_id="c4", from_tag="x", sdp=OFFER_SRTP),
        req("4_1", "offer", call_id="c4", from_tag="x", sdp=OFFER_SRTP),
        req("4_2", "offer", call_id="c5", from_tag="y", sdp=sdp("2001:db8::10", 30002).replace("IP4", "IP6"),
            direction=["pstn", "wan"], address_family="IP4", media_address="2001:db8::10"),
        req("4_3", "list"),
        req("4_4", "statistics")),
    # Refusals that must leave nothing: DTLS, plain from wan, fork, a
    # second to-tag, an answer with the wrong m= count, unknown call.
    "refusals": calls(
        req("5_1", "offer", call_id="d", from_tag="f",
            sdp=sdp("198.18.1.10", 4000, "UDP/TLS/RTP/SAVP", "a=fingerprint:sha-256 AB:CD\r\n")),
        req("5_2", "offer", call_id="d", from_tag="f", sdp=sdp("198.18.1.10", 4000)),
        req("5_3", "offer", call_id="d", from_tag="f", sdp=OFFER_SRTP, codec={"transcode": ["opus"]}),
        req("5_4", "offer", call_id="d", from_tag="f", sdp=OFFER_SRTP),
        req("5_5", "offer", call_id="d", from_tag="g", sdp=OFFER_SRTP),
        req("5_6", "answer", call_id="d", from_tag="f", to_tag="t", sdp=sdp("198.18.0.11", 4000)),
        req("5_7", "answer", call_id="d", from_tag="f", to_tag="t", sdp=ANSWER_SRTP),
        req("5_8", "answer", call_id="d", from_tag="f", to_tag="u", sdp=ANSWER_SRTP),
        req("5_9", "answer", call_id="nope", from_tag="f", to_tag="t", sdp=ANSWER_SRTP),
        req("5_10", "delete", call_id="nope", flags=["fatal"])),
    "ping": req("6_1", "ping"),
}

KEYS = {
    "AES_CM_128_HMAC_SHA1_80": 30, "AES_CM_128_HMAC_SHA1_32": 30,
    "AES_256_CM_HMAC_SHA1_80": 46, "AES_256_CM_HMAC_SHA1_32": 46,
    "AEAD_AES_128_GCM": 28, "AEAD_AES_256_GCM": 44,
}


def key(n, seed):
    return base64.b64encode(bytes((seed * 37 + 11 * i) & 0xFF for i in range(n))).decode()


SDES = {"suite_%s" % s.lower(): "%d %s inline:%s" % (i + 1, s, key(n, i))
        for i, (s, n) in enumerate(KEYS.items())}
SDES.update({
    "unpadded": "3 AEAD_AES_128_GCM inline:" + key(28, 3).rstrip("="),
    "rfc4568_mki_lifetime": "1 AES_CM_128_HMAC_SHA1_80 "
                            "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
    "rfc4568_fec": "1 AES_CM_128_HMAC_SHA1_80 "
                   "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_ORDER=FEC_SRTP",
    "rfc4568_two_keys": "2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm"
                        "|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 "
                        "FEC_ORDER=FEC_SRTP",
    "mki_only": "1 AES_CM_128_HMAC_SHA1_80 inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU2|1066:4",
    "long_lifetime_mki8": "9 AES_256_CM_HMAC_SHA1_80 inline:%s|2^31|18446744073709551615:8"
                          % key(46, 9),
    "session_params": "7 AES_CM_128_HMAC_SHA1_32 inline:%s WSH=128 KDR=0 -X-vendor "
                      "UNENCRYPTED_SRTCP" % key(30, 7),
    "offer_lines": "\n".join([
        "1 AES_CM_128_HMAC_SHA1_80 inline:%s" % key(30, 1),
        "2 AES_CM_128_HMAC_SHA1_32 inline:%s" % key(30, 2),
        "3 AEAD_AES_256_GCM inline:%s" % key(44, 3),
        "4 NULL_HMAC_SHA1_80 inline:%s" % key(30, 4),
        "5 AES_256_CM_HMAC_SHA1_80 inline:%s|2^20" % key(46, 5)]),
    "answer_line": "4 AES_CM_128_HMAC_SHA1_80 inline:%s" % key(30, 8),
})


def sdp_inputs():
    """The unit tests' SDP inputs, as peers send them (CRLF)."""
    d = os.path.join(HERE, "..", "data", "sdp")
    return {"data_" + f[:-len(".in.sdp")]:
            open(os.path.join(d, f)).read().replace("\n", "\r\n")
            for f in sorted(os.listdir(d)) if f.endswith(".in.sdp")}


SDP_HDR = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
SDP = dict(sdp_inputs())
SDP.update({
    # LF endings, no final newline, mixed-case keywords, port count, FQDN,
    # multicast, session-level ICE and DTLS inherited by the media
    "lf_session_ice": ("v=0\no=- 1 1 IN IP4 host.example.com\ns=-\nc=in ip4 233.252.0.1/127\n"
                       "t=0 0\na=ice-lite\na=ice-ufrag:sess\na=ice-pwd:sessionpasswordsessionpw\n"
                       "a=fingerprint:sha-256 22:33\na=setup:passive\n"
                       "m=video 49170/2 RTP/AVPF 96\na=rtpmap:96 VP8/90000\na=SendOnly\n"
                       "m=text 11000 RTP/AVP 98\nc=IN IP4 gw.example.com\na=ice-ufrag:med1\n"
                       "a=end-of-candidates\na=bundle-only\nm=message 0 TCP/MSRP *"),
    # sdp() of the NG seeds: a gateway offer, and its answer with crypto
    "ng_offer": sdp("198.18.0.10", 30000),
    "ng_answer_savp": sdp("198.18.1.20", 40000, "RTP/SAVP", CRYPTO_OFFER),
    "ipv6_zero_hold": sdp("::", 30002).replace("IP4", "IP6") + "a=inactive\r\n",
    # RFC 2543 hold by address, misplaced session-level key material, k=,
    # i= before the relay's c=, unknown attributes, b=TIAS
    "session_junk": (SDP_HDR + "k=clear:secret\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
                     "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\na=rtcp:999 IN IP4 10.0.0.1\r\n"
                     "a=group:LS 1 2\r\nm=video 49170 RTP/AVP 31\r\ni=camera\r\nb=TIAS:512000\r\n"
                     "k=prompt\r\na=x-unknown:10.0.0.1\r\na=mid:1\r\n"
                     "m=audio 49172 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"),
    # every line type in the session part, r= and z= included
    "all_fields": ("v=0\r\no=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
                   "s=SDP Seminar\r\ni=A Seminar\r\nu=http://www.example.com/seminars/sdp.pdf\r\n"
                   "e=j.doe@example.com (Jane Doe)\r\np=+1 617 555-6011\r\n"
                   "c=IN IP4 224.2.17.12/127\r\nb=CT:128\r\nt=2873397496 2873404696\r\n"
                   "r=7d 1h 0 25h\r\nz=2882844526 -1h 2898848070 0\r\na=recvonly\r\n"
                   "m=audio 49170 RTP/AVP 0\r\nm=video 51372 RTP/AVP 99\r\n"
                   "a=rtpmap:99 h263-1998/90000\r\n"),
    # sixteen m= lines (the limit), alternately rejected
    "sixteen": SDP_HDR + "".join("m=audio %d RTP/AVP 0\r\n" % (0 if i % 2 else 5000 + 2 * i)
                                 for i in range(16)),
    "t38_image": (SDP_HDR + "m=image 5000 udptl t38\r\na=T38FaxVersion:0\r\n"
                  "a=T38FaxRateManagement:transferredTCF\r\n"),
    # libFuzzer findings, fixed: a proto after a port count that starts
    # with '/', and blanks inside o= (the kept address came from the
    # wrong field)
    "finding_proto_slash": SDP_HDR + "m=video 49170/2 /RTAPVPF 96\r\n",
    "finding_origin_blanks": ("v=0\r\no= alice\t 7  8 IN IP4 10.0.0.1\r\ns=-\r\n"
                              "c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"),
})


# --- srtp_diff: programs for fuzz_srtp_diff.c -------------------------------

SUITES = ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AES_256_CM_HMAC_SHA1_80",
          "AES_256_CM_HMAC_SHA1_32", "AEAD_AES_128_GCM", "AEAD_AES_256_GCM"]
END = b"\x05"


def prot(pair=0, step=1, payload8=20, hdr=0, room=0):
    """Protect RTP: payload 8*payload8 bytes; hdr = CC | ext words << 2 | marker << 7."""
    return bytes([0 | pair << 3, step & 0xFF, payload8, hdr, room])


def prot_rtcp(pair=0, extra4=0):
    return bytes([1 | pair << 3, extra4])


def deliver(slot, verify=False, spoil=0, arg=0, other=False, twice=False):
    """Deliver pool slot @slot; spoil 1 bit, 2 shorter, 3 seq/index, 4 tail, 5 header."""
    how = (1 if verify else 0) | spoil << 1 | (0x10 if other else 0)
    return bytes([7 if twice else 2, slot, how, arg])


def long_prot(pair=0, step=1, payload16=200):
    return bytes([6 | pair << 3, step & 0xFF, payload16])


def raw_in(data, pair=0, rtcp=False, verify=False):
    kind = pair << 7 | (0x40 if rtcp else 0) | (1 if verify else 0)
    return bytes([3, len(data) >> 4, len(data) & 15, kind]) + data


def raw_prot(data):
    return bytes([4, len(data) >> 4, len(data) & 15]) + data


def session(a, mki_a, b, mki_b, seed=7):
    """Both pairs send RTP and RTCP, then receive it back with faults mixed in."""
    prog = bytes([a, mki_a, seed, b, mki_b, seed + 1])
    for i in range(6):
        prog += prot(0, 1, 3 + 17 * i, hdr=i % 4 | (i % 3) << 2) + prot(1, 1, 50 + i)
    prog += prot_rtcp(0, 3) + prot_rtcp(1, 0) + END
    for slot in range(14):
        prog += deliver(slot, verify=slot % 3 == 1)
    prog += deliver(2) + deliver(5, spoil=1, arg=40) + deliver(7, twice=True)
    prog += deliver(9, spoil=4, arg=3) + deliver(11, spoil=2, arg=5) + END
    prog += prot(0, 0x80) + prot(0, 1) + prot(0, 0xFF) + END + deliver(14) + deliver(15)
    return prog


SRTP_DIFF = {}
for i, name in enumerate(SUITES):
    for mki in (0, 4):
        SRTP_DIFF["session_%s%s" % (name.lower(), "_mki" if mki else "")] = \
            session(i, mki, (i + 3) % 6, 8 - mki)
SRTP_DIFF.update({
    # across the 16-bit wrap with gaps, reordering and late packets
    "wrap_gaps": bytes([0, 0, 3, 4, 0, 4]) + b"".join(prot(0, s) for s in (1, 1, 9, 1, 100, 1))
    + END + b"".join(deliver(k) for k in (1, 0, 3, 2, 5, 4)) + END
    + prot(0, 0x90) + prot(0, 0x70) + END + deliver(6) + deliver(7) + deliver(0),
    # big packets (AEAD verify over 2 KiB decrypts in place)
    "long": bytes([4, 0, 9, 0, 4, 9]) + long_prot(0, 1, 200) + long_prot(0, 1, 130)
    + long_prot(1, 1, 250) + END + deliver(0, verify=True) + deliver(1)
    + deliver(2, spoil=1, arg=99) + deliver(2),
    # too little room to protect, exactly enough, and header extensions
    "room": bytes([1, 4, 5, 5, 0, 5]) + prot(0, 1, 2, room=1) + prot(0, 1, 2, room=14)
    + prot(0, 1, 2, room=15) + prot(0, 1, 2, hdr=0x1F) + END + deliver(0) + deliver(1),
    # the other pair's packets, forged ones, header faults
    "cross": bytes([0, 0, 1, 0, 0, 1]) + prot(0) + prot(1) + prot_rtcp(0) + END
    + deliver(0, other=True) + deliver(1, other=True) + deliver(2, other=True)
    + deliver(0, spoil=5, arg=0x0F) + deliver(0, spoil=3, arg=1) + deliver(0),
    # raw bytes as packets
    "raw": bytes([2, 1, 4, 5, 1, 4]) + raw_prot(bytes.fromhex("8060000100000000")
                                                 + (0x0A0B0C0D).to_bytes(4, "big") + b"x" * 20)
    + raw_in(bytes.fromhex("8060000200000000") + (0x0A0B0C0D).to_bytes(4, "big") + b"y" * 30)
    + raw_in(bytes.fromhex("81c80006") + (0x0A0B0C0D).to_bytes(4, "big") + b"z" * 40
             + bytes.fromhex("80000001"), rtcp=True)
    + raw_in(bytes.fromhex("81c80006") + (0x1A1B1C1D).to_bytes(4, "big") + b"w" * 40
             + bytes.fromhex("00000001"), pair=1, rtcp=True),
})


def sip(start, headers, body=""):
    """One SIP message with CRLF line ends; headers a list of lines."""
    return start + "\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n" + body


SIP_VIA = "Via: SIP/2.0/TLS 198.18.0.77:40000;branch=z9hG4bK776asdhds;rport"
SIP_SDP = "v=0\r\no=- 1 1 IN IP4 198.18.0.77\r\ns=-\r\nc=IN IP4 198.18.0.77\r\nt=0 0\r\n" \
    "m=audio 49170 RTP/SAVP 0\r\n"
SIP_REGISTER = sip("REGISTER sip:example.net SIP/2.0",
                   [SIP_VIA, "From: <sip:alice@example.net>;tag=1", "To: <sip:alice@example.net>",
                    "Call-ID: r1@198.18.0.77", "CSeq: 1 REGISTER",
                    "Contact: <sip:alice@198.18.0.77:40000;transport=tls>;reg-id=1;"
                    "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"",
                    "Expires: 600", "Content-Length: 0"])
SIP_INVITE = sip("INVITE sip:bob@example.net SIP/2.0",
                 [SIP_VIA, "f: <sip:alice@example.net>;tag=2", "t: <sip:bob@example.net>",
                  "i: c1@198.18.0.77", "CSeq: 1 INVITE", "c: application/sdp",
                  "l: %d" % len(SIP_SDP)], SIP_SDP)
SIP_OK = sip("SIP/2.0 200 OK", [SIP_VIA, "Call-ID: c1@198.18.0.77", "CSeq: 1 INVITE",
                                "content-length :\t 0"])
# Streams as a TLS or TCP flow delivers them (fuzz_sipframe.c).
SIPFRAME = {
    "register": SIP_REGISTER,
    "pipelined": SIP_INVITE + SIP_OK + SIP_REGISTER,
    "keepalive": "\r\n\r\n" + SIP_OK + "\r\n\r\n\r\n" + SIP_OK + "\r\n",
    "crlf_before": "\r\n" + SIP_OK + "\r\n\r\n\r\n",
    "folded_length": sip("BYE sip:b SIP/2.0", ["Call-ID: x", "Content-Length:", " \t3"], "abc"),
    "duplicate_length": sip("BYE sip:b SIP/2.0", ["l: 3", "Content-Length: 3"], "abc"),
    "negative_length": sip("BYE sip:b SIP/2.0", ["Content-Length: -3"], "abc"),
    "no_length": sip("OPTIONS sip:b SIP/2.0", ["Call-ID: y"]) + SIP_OK,
    "huge_length": sip("MESSAGE sip:b SIP/2.0", ["l: 4294967296"], "xyz"),
    "datagram_extra": sip("OPTIONS sip:b SIP/2.0", ["l: 2"], "okEXTRA"),
}


def stun_inputs():
    import sys
    sys.path.insert(0, os.path.join(HERE, "..", "tools"))
    import stun_client as S
    tx = bytes(range(12))
    return {
        # RFC 5769 2.1 request, 2.2 and 2.3 responses
        "rfc5769_request": bytes.fromhex("000100582112a442b7e7a701bc34d686fa87dfae802200105354554e20746573"
                      "7420636c69656e74002400046e0001ff80290008932ff9b151263b3600060009"
                      "6576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249"
                      "c1b571a280280004e57a3bcf"),
        "rfc5769_response_v4": bytes.fromhex("0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563"
                      "746f7220002000080001a147e112a643000800142b91f599fd9e90c38c7489f9"
                      "2af9ba53f06be7d780280004c07d4c96"),
        "rfc5769_response_v6": bytes.fromhex("010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563"
                      "746f7220002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d900080014"
                      "a382954e4be67bf11784c97c8292c275bfe3ed4180280004c8fb0b4c"),
        "check": S.check_request("mrly", "peer", "0123456789abcdefghijKL", tx)[1],
        "check_use_candidate": S.check_request("mrly", "peer", "0123456789abcdefghijKL", tx,
                                               use_candidate=True)[1],
        "check_wrong_pwd": S.check_request("mrly", "p", "wrong-password-0123456789", tx)[1],
        "check_reversed_username": S.check_request("peer", "mrly", "0123456789abcdefghijKL", tx)[1],
    }


# fuzz_sip: SIP messages separated by two NUL bytes, each led by one byte
# naming its flow: 0 the pstn trunk (trusted), 1 bob's registered TLS flow,
# 2 an unauthenticated client (fuzz_sip.c).
SIP_DOMAIN = "example.test"


def sip(method, uri, headers, body="", branch="z9hG4bKf1", cseq=1, call_id="fz1",
        from_="<sip:+15551234@198.18.0.50>;tag=ft", to="<sip:bob@example.test>"):
    msg = ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.50:5060;branch=%s\r\n"
           "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\n"
           % (method, uri, branch, from_, to, call_id, cseq, method))
    msg += headers
    if body:
        msg += "Content-Type: application/sdp\r\n"
    msg += "Content-Length: %d\r\n\r\n%s" % (len(body), body)
    return msg


def sip_input(*chunks):
    return b"\0\0".join(bytes([flow]) + m.encode() for flow, m in chunks)


SIP_PLAIN = ("v=0\r\no=gw 1 1 IN IP4 198.18.0.50\r\ns=-\r\nc=IN IP4 198.18.0.50\r\nt=0 0\r\n"
             "m=audio 4000 RTP/AVP 0 8\r\na=sendrecv\r\n")
SIP_SRTP = ("v=0\r\no=a 1 1 IN IP4 198.18.1.10\r\ns=-\r\nc=IN IP4 198.18.1.10\r\nt=0 0\r\n"
            "m=audio 4000 RTP/SAVP 0\r\n"
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
            "m=video 4002 RTP/SAVP 96\r\na=content:slides\r\n"
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n")
SIP_CONTACT = "Contact: <sip:+15551234@198.18.0.50:5060>\r\n"
SIP_INVITE = sip("INVITE", "sip:bob@198.18.0.1", SIP_CONTACT, SIP_PLAIN)
SIPCALLS = {
    "options": sip_input((2, sip("OPTIONS", "sip:example.test", ""))),
    "register_challenge": sip_input((2, sip("REGISTER", "sip:example.test",
                                            "Contact: <sip:x@198.18.1.10;transport=tls>\r\n"
                                            "Expires: 600\r\n", to="<sip:x@example.test>",
                                            from_="<sip:x@example.test>;tag=1"))),
    "register_star": sip_input((2, sip("REGISTER", "sip:example.test",
                                       "Contact: *\r\nExpires: 0\r\n"
                                       "Authorization: Digest username=\"x\", realm=\"example.test\", "
                                       "nonce=\"00\", uri=\"sip:example.test\", response=\"00\", "
                                       "qop=auth, nc=00000001, cnonce=\"c\"\r\n"))),
    "trunk_invite_cancel": sip_input(
        (0, SIP_INVITE), (0, SIP_INVITE),
        (0, sip("CANCEL", "sip:bob@198.18.0.1", ""))),
    "trunk_invite_video": sip_input(
        (0, sip("INVITE", "sip:bob@198.18.0.1", SIP_CONTACT +
                "Supported: timer, 100rel\r\nSession-Expires: 120;refresher=uac\r\n", SIP_SRTP))),
    "trunk_invite_bye": sip_input(
        (0, SIP_INVITE),
        (0, sip("BYE", "sip:mrelay@198.18.0.1", "", cseq=2, branch="z9hG4bKf2",
                to="<sip:bob@example.test>;tag=0123456789abcdef"))),
    "trunk_to_trunk": sip_input((0, sip("INVITE", "sip:0049301234@198.18.0.1", SIP_CONTACT,
                                        SIP_PLAIN))),
    "trunk_unknown": sip_input((0, sip("INVITE", "sip:nobody@198.18.0.1", SIP_CONTACT,
                                       SIP_PLAIN)),
                               (0, sip("INVITE", "sip:alice@198.18.0.1", SIP_CONTACT, SIP_PLAIN,
                                       branch="z9hG4bKf3", call_id="fz2"))),
    "trunk_small_se": sip_input((0, sip("INVITE", "sip:bob@198.18.0.1", SIP_CONTACT +
                                        "Session-Expires: 30\r\n", SIP_PLAIN))),
    "client_invite": sip_input((2, sip("INVITE", "sip:bob@example.test", SIP_CONTACT, SIP_SRTP,
                                       from_="<sip:alice@example.test>;tag=a"))),
    "bob_reinvite": sip_input((1, sip("INVITE", "sip:mrelay@198.18.0.1", SIP_CONTACT, SIP_SRTP,
                                      from_="<sip:bob@example.test>;tag=b",
                                      to="<sip:alice@example.test>;tag=x"))),
    "stray_response": sip_input((1, "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/TLS 198.18.0.1:5061;"
                                    "branch=z9hG4bK-mr00000000-0\r\nFrom: <sip:a@example.test>;tag=1\r\n"
                                    "To: <sip:bob@example.test>;tag=2\r\nCall-ID: x\r\n"
                                    "CSeq: 1 INVITE\r\nRequire: 100rel\r\nRSeq: 1\r\n"
                                    "Content-Length: 0\r\n\r\n")),
    "malformed": sip_input((2, sip("OPTIONS", "sip:example.test", "", cseq=1).replace(
                               "1 OPTIONS", "1 INVITE")),
                           (2, sip("OPTIONS", "sip:example.test", "Max-Forwards: 0\r\n")),
                           (2, sip("FOO", "sip:example.test", "Require: foo\r\n")),
                           (2, "garbage\r\n\r\n"),
                           (2, "v: SIP/2.0/TLS x;branch=z9hG4bKc\r\n")),
    "compact": sip_input((0, "INVITE sip:bob@198.18.0.1 SIP/2.0\r\nv: SIP/2.0/UDP 198.18.0.50"
                             ";branch=z9hG4bKc1\r\nf: <sip:1@198.18.0.50>;tag=c\r\nt: <sip:bob@x>\r\n"
                             "i: c1\r\nCSeq: 1 INVITE\r\nm: <sip:1@198.18.0.50>\r\n"
                             "c: application/sdp\r\nl: %d\r\n\r\n%s" % (len(SIP_PLAIN), SIP_PLAIN))),
}


def repo_file(*path):
    with open(os.path.join(HERE, "..", "..", *path), "rb") as f:
        return f.read()


# Configuration files: the shipped ones, the tests' full ones (every key),
# and the layouts docs/configuration.md shows.
DP_CONFIG = {
    "etc": repo_file("etc", "mrelay-dp.conf"),
    "full": repo_file("tests", "data", "config", "full.conf"),
    "two_ports": """region = "/dev/shm/mrelay";
ports = (
  { name = "public"; device = "0000:03:00.0"; mtu = 1500;
    addresses = [ "203.0.113.10/24", "203.0.113.11/24" ]; gateway = "203.0.113.1"; },
  { name = "private"; device = "0000:03:00.1"; vlan = 42; rx_desc = 2048; tx_desc = 2048;
    addresses = [ "10.20.0.10/16", "2001:db8:20::10/64" ]; gateway6 = "fe80::1"; }
);
relay = { port_min = 20000; port_max = 59999; };
workers = [ 2, 3, 4, 5 ];
idle_backoff_us = 50;
timeouts = { latch_window_ms = 3000; relatch_idle_ms = 5000; media_idle_ms = 120000;
  neighbour_reachable_ms = 30000; neighbour_retry_ms = 1000; };
mbufs = 65535;
srtp_engine = "ipsec-mb";
exception = { enabled = true; iface = "mrelay-exc0"; };
neighbours = ( { ip = "10.20.0.1"; mac = "02:00:5e:10:00:01"; port = "private"; } );
""",
}

CP_CONFIG = {
    "etc": repo_file("etc", "mrelay-cp.conf"),
    "full": repo_file("tests", "data", "cp", "full.conf"),
    "ng_only": """region = { path = "/dev/shm/mrelay"; max_legs = 1024; max_workers = 2; };
interfaces = ( { name = "wan"; addresses = [ "198.18.0.2", "2001:db8::2" ];
                 advertised = [ "203.0.113.2" ]; port_min = 30000; port_max = 30099; },
               { name = "pstn"; addresses = [ "198.18.1.2" ]; port_min = 40000;
                 port_max = 40099; pstn = true; dscp = 46; } );
ng = { udp = [ "127.0.0.1:2223", "[::1]:2223" ]; tcp = [ "127.0.0.1:2224" ]; };
log = { level = "debug"; };
""",
}

# Session journals as mrelay-cp leaves them (controlplane/session/journal.h).
JOURNAL = {
    # fuzz_journal also restarts a session manager on each file, over a
    # region holding a slot for every S record whose leg uid is not 3 mod 4:
    # v2 keeps its call 9, "lost" loses call 7 (slot 12 missing).
    "v2": "mrelay-cp-journal 2\nC 7 1700000000000 call%201@198.18.0.9\n"
          "L 7 0 wan from%3Btag\nS 7 0 0 12 96 30000\nS 7 0 1 13 100 30002\n"
          "L 7 1 pstn -\nS 7 1 0 14 101 40000\nT 7 1 to-tag\nN 7 sip%20b2bua%20x\n"
          "C 8 1700000000500 second\nD 8\nC 9 1700000000900 third\nL 9 0 wan a\n"
          "S 9 0 0 20 104 30010\nL 9 1 wan b\nS 9 1 0 21 105 30012\n",
    "lost": "mrelay-cp-journal 2\nC 7 1700000000000 lost\nL 7 0 wan a\n"
            "S 7 0 0 12 99 30000\nS 7 0 1 13 100 30002\nC 9 5 kept\nL 9 0 pstn b\n"
            "S 9 0 0 12 108 40000\n",
    "v1": "mrelay-cp-journal 1\nC 5 1 old%20call\nL 5 0 wan a\nD 5\n",
    "cut": "mrelay-cp-journal 2\nC 9 2 cut\nL 9 0 wan t\nS 9 0 0 1 2 300",
    "bad_lines": "mrelay-cp-journal 2\nC 0 1 x\nC 1 1 %zz\nX 1\nC 2 2 ok\nS 2 0 0 0 0 30001\n",
}


# Admin socket requests, one a line, as mrelayctl sends them (docs/mrelayctl.md).
ADMIN = {
    "status": "ping\nstatus\nstatus json\ncalls\ncalls json\n",
    "calls": "call add c1 a b\ncall add c2 x y iface=pstn peer-a=198.18.0.9:4000 "
             "peer-b=198.18.0.10:4002 rtcp-mux\ncall show c1\ncall show c2 json\n"
             "call mute c1 a on\ncall mute c1 a off\ncalls\ncall del c1\ncalls json\n",
    "refused": "call add c1 a a\ncall add\ncall add c3 a b iface=nowhere\ncall add c5 a b iface=wan\n"
               "call add c4 a b peer-a=300.1.1.1:5\ncall mute c9 a on\ncall mute c1 z on\n"
               "call show\nfoo bar\n\nreload\nsip-revoke bob\nping extra\n",
}


def write(kind, seeds, limit=200, ext=".bin"):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    for name, frame in seeds.items():
        if isinstance(frame, str):
            frame = frame.encode()
        assert len(frame) < limit, name
        with open(os.path.join(d, name + ext), "wb") as f:
            f.write(frame)


if __name__ == "__main__":
    write("parse", PARSE)
    write("proto", PROTO)
    write("rtp", MEDIA)
    write("stun", stun_inputs())
    write("bencode", NG, limit=4096)   # replay.c reads at most 4096 bytes
    write("ng", NGCALLS, limit=4096)
    write("sdes", SDES, limit=4096, ext=".txt")
    write("sdp", SDP, limit=4096, ext=".sdp")
    write("srtp_diff", SRTP_DIFF, limit=1024)
    write("sipframe", SIPFRAME, limit=4096)
    write("sip", SIPCALLS, limit=4096)
    write("dp_config", DP_CONFIG, limit=4096, ext=".conf")
    write("cp_config", CP_CONFIG, limit=4096, ext=".conf")
    write("journal", JOURNAL, limit=4096, ext=".txt")
    write("admin", ADMIN, limit=4096, ext=".txt")
