"""Frame builder and pcap reader/writer for the dataplane tests (stdlib only).

Builds Ethernet / 802.1Q / IPv4 / IPv6 / UDP / RTP / ARP / ICMP frames with
correct checksums unless told otherwise, so golden inputs are exact and
independent of the code under test.
"""
import ipaddress
import struct

ETH_IPV4, ETH_IPV6, ETH_ARP, ETH_VLAN = 0x0800, 0x86DD, 0x0806, 0x8100


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, src, ethertype, payload, vlan=None):
    if vlan is not None:
        return mac(dst) + mac(src) + struct.pack("!HHH", ETH_VLAN, vlan, ethertype) + payload
    return mac(dst) + mac(src) + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ttl=64, flags_frag=0, options=b"", bad_csum=False,
         total_len=None):
    ihl = 5 + len(options) // 4
    tl = total_len if total_len is not None else ihl * 4 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tl, 0x1234, flags_frag, ttl, proto, 0,
                      ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed) + options
    c = csum(hdr)
    if bad_csum:
        c ^= 0x5555
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def ipv6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hlim,
                       ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed) + payload


def udp(src_ip, dst_ip, sport, dport, payload, length=None):
    ln = length if length is not None else 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, ln, 0)
    a = ipaddress.ip_address(src_ip)
    if a.version == 4:
        ph = a.packed + ipaddress.IPv4Address(dst_ip).packed + struct.pack("!BBH", 0, 17, 8 + len(payload))
    else:
        ph = a.packed + ipaddress.IPv6Address(dst_ip).packed + struct.pack("!IxxxB", 8 + len(payload), 17)
    c = csum(ph + hdr + payload) or 0xFFFF
    return hdr[:6] + struct.pack("!H", c) + payload


def rtp(seq, ts=None, ssrc=0x11223344, pt=0, payload=None, size=160):
    if payload is None:
        payload = bytes((seq + i) & 0xFF for i in range(size))
    return struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, ts if ts is not None else seq * 160, ssrc) + payload


def rtcp_sr(ssrc=0x11223344):
    return struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, 1, 2, 3, 4, 5)


def udp4_frame(smac, dmac, sip, sport, dip, dport, payload, vlan=None, **ipkw):
    return eth(dmac, smac, ETH_IPV4, ipv4(sip, dip, 17, udp(sip, dip, sport, dport, payload), **ipkw), vlan)


def udp6_frame(smac, dmac, sip, sport, dip, dport, payload):
    return eth(dmac, smac, ETH_IPV6, ipv6(sip, dip, 17, udp(sip, dip, sport, dport, payload)))


def arp_request(smac, sip, tip):
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac(smac), ipaddress.IPv4Address(sip).packed,
                       b"\0" * 6, ipaddress.IPv4Address(tip).packed)
    return eth("ff:ff:ff:ff:ff:ff", smac, ETH_ARP, body + b"\0" * 18)


def icmp_echo(smac, dmac, sip, dip, ident=7, seq=1, data=b"mrelay-ping"):
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    return eth(dmac, smac, ETH_IPV4, ipv4(sip, dip, 1, body))


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000, (i % 1000) * 1000, len(fr), len(fr)))
            f.write(fr)


def read_pcap(path):
    frames = []
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return frames
        magic = struct.unpack("<I", hdr[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                break
            _, _, incl, _ = struct.unpack(endian + "IIII", rh)
            frames.append(f.read(incl))
    return frames


def icmp6(src, dst, body, hlim=255):
    """ICMPv6 message with its checksum over the IPv6 pseudo-header."""
    ph = ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + \
        struct.pack("!IxxxB", len(body), 58)
    c = csum(ph + body[:2] + b"\0\0" + body[4:])
    return ipv6(src, dst, 58, body[:2] + struct.pack("!H", c) + body[4:], hlim=hlim)


def neighbor_solicit(smac, sip, target):
    t = ipaddress.IPv6Address(target).packed
    snm = "ff02::1:ff" + t[13:].hex()[:2] + ":" + t[14:].hex()
    body = struct.pack("!BBHI", 135, 0, 0, 0) + t + struct.pack("!BB", 1, 1) + mac(smac)
    dmac = "33:33:ff:%02x:%02x:%02x" % (t[13], t[14], t[15])
    return eth(dmac, smac, ETH_IPV6, icmp6(sip, str(ipaddress.IPv6Address(snm)), body))


def icmp6_echo(smac, dmac, sip, dip, ident=9, seq=1, data=b"mrelay-ping6"):
    body = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + data
    return eth(dmac, smac, ETH_IPV6, icmp6(sip, dip, body, hlim=64))
