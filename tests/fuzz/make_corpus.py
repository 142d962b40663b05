#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/{parse,proto,rtp,srtp_diff}).

Each seed is one valid frame (for rtp: one UDP payload) of a kind the
target handles, under 200 bytes; for srtp_diff, a small program in the
layout fuzz_srtp_diff.c describes (stream pairs, then commands), under 1 KiB.
Seeds are built here with no dependency beyond the standard library;
corpus/srtp_diff/lf_*.bin are not: they are programs libFuzzer found (the
largest of a merged corpus), kept so the replay test starts from deeper
states, and this script leaves them alone. The output is
committed; rerun after changing this script:  python3 tests/fuzz/make_corpus.py
The addresses match the fuzz targets' is_local stub: 198.18.0.1, 2001:db8::1.
"""
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


def write(kind, seeds, max_len=200):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    for name, frame in seeds.items():
        assert len(frame) < max_len, name
        with open(os.path.join(d, name + ".bin"), "wb") as f:
            f.write(frame)


if __name__ == "__main__":
    write("parse", PARSE)
    write("proto", PROTO)
    write("rtp", MEDIA)
    write("srtp_diff", SRTP_DIFF, max_len=1024)
