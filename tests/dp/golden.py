#!/usr/bin/env python3
"""Dataplane on net_pcap golden files: frames in, frames out, checked with
tshark (IP/UDP checksum validation on) and with the counters.

Topology (no network: the port is a pair of pcap files)

    in.pcap --> [ net_pcap0  "wan"  relay 198.18.0.2/24, 2001:2::2/64 ] --> out.pcap
    peers: A 198.18.0.10 / 2001:2::10   B 198.18.0.11 / 2001:2::11
           NAT public 198.18.0.20 (A seen through a NAT), spoofer 198.18.0.66
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frames as F  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import stun_client as S  # noqa: E402
from harness import Dataplane, Fail, Region, check, main, tshark_fields, wait_for  # noqa: E402

RELAY, RELAY6 = "198.18.0.2", "2001:2::2"
A, B, NAT, SPOOF = "198.18.0.10", "198.18.0.11", "198.18.0.20", "198.18.0.66"
A6, B6 = "2001:2::10", "2001:2::11"
MA, MB, MNAT, MSPOOF = "02:00:00:00:00:0a", "02:00:00:00:00:0b", "02:00:00:00:00:14", "02:00:00:00:00:42"
DPMAC = "02:70:63:61:70:00"     # net_pcap's first port


def config(tmp, vlan=None, extra=""):
    return """
region = "%s/region";
ports = ( { name = "wan"; device = "net_pcap0,rx_pcap=%s/in.pcap,tx_pcap=%s/out.pcap";
            addresses = [ "198.18.0.2/24", "2001:2::2/64" ]; %s } );
workers = [ 1 ];
idle_backoff_us = 100;
timeouts = { latch_window_ms = 0; relatch_idle_ms = 600000; };
neighbours = (
  { ip = "198.18.0.10"; mac = "02:00:00:00:00:0a"; port = "wan"; },
  { ip = "198.18.0.11"; mac = "02:00:00:00:00:0b"; port = "wan"; },
  { ip = "198.18.0.20"; mac = "02:00:00:00:00:14"; port = "wan"; },
  { ip = "2001:2::10"; mac = "02:00:00:00:00:0a"; port = "wan"; },
  { ip = "2001:2::11"; mac = "02:00:00:00:00:0b"; port = "wan"; }
);
%s
""" % (tmp, tmp, tmp, ("vlan = %d;" % vlan) if vlan else "", extra)


def run(tmp, name, region, frames, cfg=None, settle=0.3):
    """Feed @frames through the dataplane; return the frames it sent."""
    F.write_pcap(os.path.join(tmp, "in.pcap"), frames)
    dp = Dataplane(name, cfg or config(tmp), tmp)
    dp.start(region)
    try:
        wait_for(lambda: region.rx_total() >= len(frames), "all %d frames received" % len(frames))
        import time
        time.sleep(settle)      # replies built by the management lcore
    finally:
        rc = dp.stop()
    run.log = dp.output()
    check(rc == 0, "%s: mrelay-dp exits 0 on SIGINT" % name)
    return F.read_pcap(os.path.join(tmp, "out.pcap"))


def pair_legs(region, v6=False):
    ip, pa, pb = (RELAY6, A6, B6) if v6 else (RELAY, A, B)
    fmt = "[%s]:%d" if v6 else "%s:%d"
    a = region.leg("--local", fmt % (ip, 30000), "--peer", fmt % (pa, 40000))
    b = region.leg("--local", fmt % (ip, 30002), "--peer", fmt % (pb, 40002))
    region.pair(a, b)
    return a, b


def udp_out(out):
    """(src, sport, dst, dport, payload) of each IPv4/IPv6 UDP frame sent."""
    res = []
    for fr in out:
        et = int.from_bytes(fr[12:14], "big")
        off = 14
        if et == F.ETH_VLAN:
            et, off = int.from_bytes(fr[16:18], "big"), 18
        if et == F.ETH_IPV4 and fr[off + 9] == 17:
            ihl = (fr[off] & 15) * 4
            u = off + ihl
            res.append((".".join(map(str, fr[off + 12:off + 16])), int.from_bytes(fr[u:u + 2], "big"),
                        ".".join(map(str, fr[off + 16:off + 20])), int.from_bytes(fr[u + 2:u + 4], "big"),
                        fr[u + 8:u + int.from_bytes(fr[u + 4:u + 6], "big")]))
        elif et == F.ETH_IPV6 and fr[off + 6] == 17:
            import ipaddress
            u = off + 40
            res.append((str(ipaddress.IPv6Address(fr[off + 8:off + 24])), int.from_bytes(fr[u:u + 2], "big"),
                        str(ipaddress.IPv6Address(fr[off + 24:off + 40])), int.from_bytes(fr[u + 2:u + 4], "big"),
                        fr[u + 8:u + int.from_bytes(fr[u + 4:u + 6], "big")]))
    return res


def all_checksums_good(tmp):
    rows = tshark_fields(os.path.join(tmp, "out.pcap"), ["frame.number", "ip.checksum.status",
                                                          "udp.checksum.status"], "udp")
    return rows and all(r[1] in ("", "1") and r[2] == "1" for r in rows)


def test_arp_icmp(tmp):
    region = Region(tmp)
    frames = [
        F.arp_request("02:00:00:00:00:33", "198.18.0.33", RELAY),   # for us: reply
        F.arp_request("02:00:00:00:00:33", "198.18.0.33", "198.18.0.99"),  # not us: silence
        F.icmp_echo(MA, DPMAC, A, RELAY, seq=5),                     # ping us: reply
        F.icmp_echo(MA, DPMAC, A, "198.18.0.99", seq=6),             # not us: silence
    ]
    out = run(tmp, "golden-arp", region, frames)
    check(len(out) == 2, "two replies for four requests (got %d)" % len(out))
    rows = tshark_fields(os.path.join(tmp, "out.pcap"),
                         ["arp.opcode", "arp.src.proto_ipv4", "arp.dst.proto_ipv4", "arp.dst.hw_mac",
                          "arp.src.hw_mac"], "arp")
    check(rows == [["2", RELAY, "198.18.0.33", "02:00:00:00:00:33", DPMAC]],
          "ARP reply from the relay address to the asker: %s" % rows)
    rows = tshark_fields(os.path.join(tmp, "out.pcap"),
                         ["icmp.type", "ip.src", "ip.dst", "icmp.seq", "ip.checksum.status",
                          "icmp.checksum.status", "eth.dst"], "icmp")
    check(rows == [["0", RELAY, A, "5", "1", "1", MA]], "ICMP echo reply, checksums good: %s" % rows)
    check(region.stats()["mgmt"]["arp_replies"] == 1, "one ARP reply counted")


def test_ndp_icmp6(tmp):
    region = Region(tmp)
    frames = [
        F.neighbor_solicit(MA, A6, RELAY6),                           # for us: advertisement
        F.neighbor_solicit(MA, A6, "2001:2::99"),                     # not us: silence
        F.icmp6_echo(MA, DPMAC, A6, RELAY6, seq=3),                   # ping us: reply
    ]
    run(tmp, "golden-ndp", region, frames)
    rows = tshark_fields(os.path.join(tmp, "out.pcap"),
                         ["icmpv6.type", "ipv6.src", "ipv6.dst", "icmpv6.nd.na.target_address",
                          "icmpv6.opt.linkaddr", "icmpv6.checksum.status", "ipv6.hlim"], "icmpv6")
    check(rows[0] == ["136", RELAY6, A6, RELAY6, DPMAC, "1", "255"] and len(rows) == 2,
          "Neighbor Advertisement for the relay address, hop limit 255: %s" % rows)
    check(rows[1][:3] == ["129", RELAY6, A6] and rows[1][5] == "1", "ICMPv6 echo reply: %s" % rows[1])


def test_jumbo(tmp):
    region = Region(tmp)
    pair_legs(region)
    big = F.rtp(1, size=8000)
    frames = [F.udp4_frame(MA, DPMAC, A, 40000, RELAY, 30000, big)]
    out = udp_out(run(tmp, "golden-jumbo", region, frames,
                      cfg=config(tmp).replace('addresses = [', 'mtu = 9000; addresses = [')))
    check([(o[2], o[4]) for o in out] == [(B, big)], "an 8,000-byte payload relayed whole at MTU 9000")
    check(all_checksums_good(tmp), "checksums good")


def test_relay(tmp):
    region = Region(tmp)
    a, b = pair_legs(region)
    frames = []
    for s in range(5):
        frames.append(F.udp4_frame(MA, DPMAC, A, 40000, RELAY, 30000, F.rtp(100 + s)))
        frames.append(F.udp4_frame(MB, DPMAC, B, 40002, RELAY, 30002, F.rtp(200 + s, ssrc=0x55)))
    frames.append(F.udp4_frame(MA, DPMAC, A, 40001, RELAY, 30001, F.rtcp_sr()))
    frames.append(F.udp4_frame(MB, DPMAC, B, 40003, RELAY, 30003, F.rtcp_sr(0x55)))
    out = udp_out(run(tmp, "golden-relay", region, frames))
    to_b = [o for o in out if o[2] == B]
    to_a = [o for o in out if o[2] == A]
    check(len(out) == 12, "every packet relayed (%d of 12)" % len(out))
    check([(o[0], o[1], o[3]) for o in to_b if o[1] == 30002] == [(RELAY, 30002, 40002)] * 5,
          "A's RTP leaves from B's relay port to B's port")
    check([o[4] for o in to_b if o[1] == 30002] == [F.rtp(100 + s) for s in range(5)],
          "RTP payloads A->B byte-identical and in order")
    check([o[4] for o in to_a if o[1] == 30000] == [F.rtp(200 + s, ssrc=0x55) for s in range(5)],
          "RTP payloads B->A byte-identical")
    check([(o[1], o[3], o[4]) for o in to_b if o[1] == 30003] == [(30003, 40003, F.rtcp_sr())],
          "RTCP A->B from B's RTCP port to B's RTCP port")
    check([(o[1], o[3]) for o in to_a if o[1] == 30001] == [(30001, 40001)], "RTCP B->A")
    check(all_checksums_good(tmp), "tshark validates every IP and UDP checksum")
    la, lb = region.leg_stats(a), region.leg_stats(b)
    check(la["rx_pkts"] == 6 and la["tx_pkts"] == 6 and lb["rx_pkts"] == 6 and lb["tx_pkts"] == 6,
          "per-leg rx/tx counters: %s %s" % (la, lb))


def test_latch(tmp):
    region = Region(tmp)
    a, b = pair_legs(region)
    frames = [
        # A is behind a NAT: its media arrives from the NAT's public address.
        F.udp4_frame(MNAT, DPMAC, NAT, 61000, RELAY, 30000, F.rtp(1)),
        # A spoofer guesses the port: dropped, never latched.
        F.udp4_frame(MSPOOF, DPMAC, SPOOF, 61000, RELAY, 30000, F.rtp(999)),
        # The same public IP from another port is another source (RTP bleed).
        F.udp4_frame(MNAT, DPMAC, NAT, 61001, RELAY, 30000, F.rtp(998)),
        # B's media must go to where A's really comes from, not the hint.
        F.udp4_frame(MB, DPMAC, B, 40002, RELAY, 30002, F.rtp(7, ssrc=0x55)),
        F.udp4_frame(MNAT, DPMAC, NAT, 61000, RELAY, 30000, F.rtp(2)),
    ]
    out = udp_out(run(tmp, "golden-latch", region, frames))
    check([(o[2], o[3]) for o in out if o[1] == 30000] == [(NAT, 61000)],
          "B's media goes to A's latched public address, not the signaled one")
    check([o[4] for o in out if o[2] == B] == [F.rtp(1), F.rtp(2)], "only A's real packets reach B")
    check(all(o[4] not in (F.rtp(999), F.rtp(998)) for o in out), "spoofed payloads never forwarded")
    legs = {leg["slot"]: leg for leg in region.legs()["legs"]}
    check(legs[a]["latched_rtp"] == "%s:61000" % NAT, "leg A latched to the NAT: %s" % legs[a])
    check(legs[b]["latched_rtp"] == "%s:40002" % B, "leg B latched to B")
    check(region.drops().get("src-not-latched") == 2, "two spoofed packets counted")
    check(region.leg_stats(a)["drop_src"] == 2, "counted on the attacked leg")


def test_ipv6_and_bridge(tmp):
    region = Region(tmp)
    a, b = pair_legs(region, v6=True)
    # An IPv4 leg bridged to an IPv6 leg.
    c = region.leg("--local", "%s:30004" % RELAY, "--peer", "%s:40004" % A)
    d = region.leg("--local", "[%s]:30006" % RELAY6, "--peer", "[%s]:40006" % B6)
    region.pair(c, d)
    frames = [F.udp6_frame(MA, DPMAC, A6, 40000, RELAY6, 30000, F.rtp(1)),
              F.udp6_frame(MB, DPMAC, B6, 40002, RELAY6, 30002, F.rtp(2)),
              F.udp4_frame(MA, DPMAC, A, 40004, RELAY, 30004, F.rtp(3)),
              F.udp6_frame(MB, DPMAC, B6, 40006, RELAY6, 30006, F.rtp(4))]
    out = udp_out(run(tmp, "golden-ipv6", region, frames))
    check((RELAY6, 30002, B6, 40002, F.rtp(1)) in out, "IPv6 A->B relayed")
    check((RELAY6, 30000, A6, 40000, F.rtp(2)) in out, "IPv6 B->A relayed")
    check((RELAY6, 30006, B6, 40006, F.rtp(3)) in out, "IPv4 -> IPv6 bridged")
    check((RELAY, 30004, A, 40004, F.rtp(4)) in out, "IPv6 -> IPv4 bridged")
    check(all_checksums_good(tmp), "checksums good (UDP over IPv6 is mandatory)")


def test_ice(tmp):
    """ICE-lite (RFC 8445): mrelay-dp answers connectivity checks to legs
    with ICE credentials from the management lcore, from the relay's port
    to the check's source; a check with a wrong password or a broken
    FINGERPRINT gets no answer, is counted and never latches; a nominating
    check (USE-CANDIDATE) latches the leg onto its source."""
    import json
    ufrag, pwd = "mrly", "0123456789abcdefghijKLmn"
    region = Region(tmp)
    a, b = pair_legs(region)
    region.ctl("leg", "set", str(a), "--ice", "%s:%s" % (ufrag, pwd))
    c = region.leg("--local", "[%s]:30004" % RELAY6, "--peer", "[%s]:40004" % A6,
                   "--ice", "%s:%s" % (ufrag, pwd))
    tx = [bytes([i] * 12) for i in range(6)]
    bad_fp = bytearray(S.check_request(ufrag, "peer", pwd, tx[5])[1])
    bad_fp[-1] ^= 1
    frames = [
        # A spoofer without the password nominates itself: no answer, no latch.
        F.udp4_frame(MSPOOF, DPMAC, SPOOF, 61000, RELAY, 30000,
                     S.check_request(ufrag, "x", "not-the-password-at-all!", tx[0], use_candidate=True)[1]),
        # A's checks through its NAT: a plain one, then the nomination.
        F.udp4_frame(MNAT, DPMAC, NAT, 61000, RELAY, 30000, S.check_request(ufrag, "peer", pwd, tx[1])[1]),
        F.udp4_frame(MNAT, DPMAC, NAT, 61000, RELAY, 30000,
                     S.check_request(ufrag, "peer", pwd, tx[2], use_candidate=True)[1]),
        # The peer's ufrag first (the wrong order): not ours to answer.
        F.udp4_frame(MNAT, DPMAC, NAT, 61000, RELAY, 30000, S.check_request("peer", ufrag, pwd, tx[3])[1]),
        # IPv6.
        F.udp6_frame(MA, DPMAC, A6, 40004, RELAY6, 30004, S.check_request(ufrag, "peer", pwd, tx[4])[1]),
        F.udp4_frame(MNAT, DPMAC, NAT, 61000, RELAY, 30000, bytes(bad_fp)),
    ]
    out = udp_out(run(tmp, "golden-ice", region, frames, settle=0.5))
    stun = [o for o in out if o[1] in (30000, 30004)]
    check(len(stun) == 3, "three checks answered, no more (%d)" % len(stun))
    check([(o[0], o[1], o[2], o[3]) for o in stun[:2]] == [(RELAY, 30000, NAT, 61000)] * 2,
          "IPv4 answers leave the relay's port for the check's source (through the NAT)")
    check([S.parse_response(o[4], t, pwd) for o, t in zip(stun[:2], tx[1:3])] == [(NAT, 61000)] * 2,
          "answers verify (MESSAGE-INTEGRITY, FINGERPRINT) and map the NAT's public address")
    check((stun[2][0], stun[2][1], stun[2][2], stun[2][3]) == (RELAY6, 30004, A6, 40004) and
          S.parse_response(stun[2][4], tx[4], pwd) == (A6, 40004), "IPv6 check answered and verified")
    check(all_checksums_good(tmp), "tshark validates the answers' checksums")
    d = region.drops()
    check(d.get("stun-auth") == 2 and d.get("malformed") == 1,
          "wrong password and wrong username order counted as stun-auth, a broken FINGERPRINT as "
          "malformed: %s" % d)
    mg = region.stats()["mgmt"]
    check(mg["stun_replies"] == 3 and mg["stun_nominations"] == 1, "mgmt counters: %d replies, %d "
          "nominations" % (mg["stun_replies"], mg["stun_nominations"]))
    legs = {leg["slot"]: leg for leg in region.legs()["legs"]}
    check(legs[a]["latched_rtp"] == "%s:61000" % NAT, "the nomination latched A's leg onto the NAT, "
          "the spoofer never: %s" % legs[a].get("latched_rtp"))
    check(legs[c].get("latched_rtp") in (None, "", "-"), "a check without USE-CANDIDATE latches nothing")
    evs = json.loads(region.ctl("events", "--json").stdout)
    kinds = [(e["type"], e["slot"], e["addr"]) for e in evs]
    check(("stun", a, "%s:61000" % NAT) in kinds and ("latched", a, "%s:61000" % NAT) in kinds,
          "the nomination is reported (stun) and so is the latch")


def test_vlan(tmp):
    region = Region(tmp)
    pair_legs(region)
    frames = [F.udp4_frame(MA, DPMAC, A, 40000, RELAY, 30000, F.rtp(1), vlan=42)]
    out = run(tmp, "golden-vlan", region, frames, cfg=config(tmp, vlan=42))
    rows = tshark_fields(os.path.join(tmp, "out.pcap"), ["vlan.id", "ip.dst", "udp.dstport"], "udp")
    check(rows == [["42", B, "40002"]], "tagged in, tagged out on the port's VLAN: %s" % rows)
    check(len(out) == 1, "one frame")


def test_events(tmp):
    region = Region(tmp)
    a, b = pair_legs(region)
    quiet = region.leg("--local", "%s:30010" % RELAY, "--idle-timeout-ms", "60000")
    frames = [F.udp4_frame(MNAT, DPMAC, NAT, 61000, RELAY, 30000, F.rtp(1)),
              F.udp4_frame(MNAT, DPMAC, NAT, 61001, RELAY, 30001, F.rtcp_sr())]
    run(tmp, "golden-events", region, frames,
        cfg=config(tmp).replace("relatch_idle_ms = 600000;", "relatch_idle_ms = 600000; media_idle_ms = 300;"),
        settle=1.0)
    import json
    evs = json.loads(region.ctl("events", "--json").stdout)
    kinds = [(e["type"], e["slot"], e["comp"], e["addr"]) for e in evs]
    check(("dp-start", None, "rtp", None) in kinds, "the dataplane announced its start")
    check(("latched", a, "rtp", "%s:61000" % NAT) in kinds, "RTP latch reported with the public address")
    check(("latched", a, "rtcp", "%s:61001" % NAT) in kinds, "RTCP latches on its own")
    idle = [e["slot"] for e in evs if e["type"] == "idle"]
    check(sorted(idle) == sorted([a, b]), "idle reported once per silent leg after media_idle_ms: %s" % idle)
    check(quiet not in idle, "a leg's own idle timeout overrides the default")


def test_torn(tmp):
    """A writer that died mid-write leaves a slot odd: the dataplane skips and
    reports it, other legs work, and the control side's repair frees it. A dp
    part left odd by a killed dataplane is repaired at start."""
    import json
    import struct
    region = Region(tmp)
    a, b = pair_legs(region)
    c = region.leg("--local", "%s:30004" % RELAY, "--peer", "%s:40004" % A)
    off_dp = 4096 + 1024 * 512                      # header, then 1,024 slots of 512 bytes
    with open(region.path, "r+b") as f:
        f.seek(4096 + c * 512)                      # slots start after the 4 KiB header
        seq = struct.unpack("<I", f.read(4))[0]
        f.seek(4096 + c * 512)
        f.write(struct.pack("<I", seq + 1))        # odd: "being written"
        f.seek(off_dp + a * 192)
        f.write(struct.pack("<I", 1))              # dp part of A odd too
    frames = [F.udp4_frame(MA, DPMAC, A, 40000, RELAY, 30000, F.rtp(1)),
              F.udp4_frame(MA, DPMAC, A, 40004, RELAY, 30004, F.rtp(2))]
    out = udp_out(run(tmp, "golden-torn", region, frames))
    check([o[4] for o in out] == [F.rtp(1)], "the intact pair relays; the torn leg has no flow")
    st = region.stats()
    check(st["mgmt"]["torn_slots"] >= 1, "torn slot counted")
    check("repaired 1 leg states torn by a previous crash" in run.log, "the dp part left odd was repaired")
    check(region.legs()["legs"][a]["latched_rtp"] == "%s:40000" % A, "and A latches again after it")
    check(st["drops_total"].get("no-leg") == 1, "its packet dropped as no-leg")
    evs = json.loads(region.ctl("events", "--json").stdout)
    check(any(e["type"] == "slot-torn" and e["slot"] == c for e in evs), "slot-torn event posted")
    # mrelayctl repairs torn slots before any write.
    p = region.ctl("leg", "add", "--pstn", "--local", "%s:30020" % RELAY)
    check("repaired 1 torn slot" in p.stderr, "the control side repaired it: %r" % p.stderr)
    check(p.stdout.strip() == str(c), "and freed it: the new leg took its slot")


def test_refusals(tmp):
    """Bad configuration and a region of another ABI stop mrelay-dp with one clear line."""
    import struct
    import subprocess
    from harness import MRELAY_DP
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write('ports = ( { name = "wan"; device = "net_null0";\n addresses = [ "198.18.0.2/33" ]; } );\n')
    p = subprocess.run([MRELAY_DP, "--no-huge", "-m", "128", "--no-pci", "--file-prefix", "mr-bad", "-l", "0,1",
                        "--", "--config", bad], capture_output=True, text=True, timeout=30)
    check(p.returncode != 0, "bad config: non-zero exit")
    check("%s:2: " % bad in p.stderr, "bad config: file:line in the message: %r" % p.stderr.strip()[-200:])
    region = Region(tmp)
    with open(region.path, "r+b") as f:
        f.seek(8)
        f.write(struct.pack("<I", 99))
    dp = Dataplane("golden-abi", config(tmp).replace("net_pcap0,rx_pcap=%s/in.pcap,tx_pcap=%s/out.pcap" % (tmp, tmp),
                                                     "net_null0"), tmp)
    proc = subprocess.run(dp.args, capture_output=True, text=True, timeout=30)
    check(proc.returncode != 0, "region of another ABI: non-zero exit")
    check("region ABI version 99, expected 1" in proc.stdout + proc.stderr, "ABI mismatch named clearly")


def test_malformed(tmp):
    region = Region(tmp)
    pair_legs(region)
    good = F.udp4_frame(MA, DPMAC, A, 40000, RELAY, 30000, F.rtp(1))
    ip = F.ipv4(A, RELAY, 17, F.udp(A, RELAY, 40000, 30000, F.rtp(1)))
    cases = {
        "malformed": [good[:13], good[:20], good[:40],                       # truncated L2/L3/L4
                      F.eth(DPMAC, MA, F.ETH_IPV4, ip, None)[:-100],         # total length > frame
                      F.udp4_frame(MA, DPMAC, A, 40000, RELAY, 30000, F.rtp(1), total_len=2000),
                      F.eth(DPMAC, MA, F.ETH_IPV4, F.ipv4(A, RELAY, 17,
                            F.udp(A, RELAY, 40000, 30000, F.rtp(1), length=4)))],  # UDP length < 8
        "bad-checksum": [F.udp4_frame(MA, DPMAC, A, 40000, RELAY, 30000, F.rtp(1), bad_csum=True)],
        "fragment": [F.udp4_frame(MA, DPMAC, A, 40000, RELAY, 30000, F.rtp(1), flags_frag=0x2000),
                     F.udp4_frame(MA, DPMAC, A, 40000, RELAY, 30000, F.rtp(1), flags_frag=0x0010)],
        "ip-options": [F.udp4_frame(MA, DPMAC, A, 40000, RELAY, 30000, F.rtp(1),
                                    options=b"\x01\x01\x01\x00")],
        "no-leg": [F.udp4_frame(MA, DPMAC, A, 40000, RELAY, 30100, F.rtp(1))],
        "not-local": [F.udp4_frame(MA, DPMAC, A, 40000, "198.18.0.99", 30000, F.rtp(1))],
    }
    frames = [f for fs in cases.values() for f in fs] + [good]
    out = udp_out(run(tmp, "golden-malformed", region, frames))
    check(len(out) == 1 and out[0][4] == F.rtp(1), "only the good packet is relayed")
    drops = region.drops()
    for reason, fs in cases.items():
        check(drops.get(reason) == len(fs), "%d x %s counted (got %s)" % (len(fs), reason, drops.get(reason)))


if __name__ == "__main__":
    tests = {t.__name__[5:]: t for t in [test_arp_icmp, test_ndp_icmp6, test_jumbo, test_relay, test_latch, test_ipv6_and_bridge, test_ice,
                                          test_vlan, test_malformed, test_events, test_torn, test_refusals]}
    main([tests[n] for n in sys.argv[1:]] if len(sys.argv) > 1 else list(tests.values()))
