#!/usr/bin/env python3
"""SRTP through mrelay-dp on net_tap, against libsrtp used directly as the
peer (tests/tools/srtp_peer, which shares no code with the relay).

    srtp_peer A 198.18.7.1:40000  <->  relay 198.18.7.2:30000 | 30002  <->  srtp_peer B 198.18.7.1:40002
                         kernel interface mr-tap1 (198.18.7.1/24), mrelay-dp on net_tap

Per leg: the inbound key is what its peer protects with, the outbound key
what the relay protects with towards that peer. Cases:
  rekey        every direction has its own key: unprotect with A's, protect with B's
  passthrough  A's sending key is B's receiving key and the reverse: verified, forwarded as is
  rtp-srtp     A is a PSTN trunk (plain RTP), B is SRTP
  keychange    A's leg holds two inbound generations while A switches keys mid-stream
Each runs every suite the case names, RTP and RTCP, across the 16-bit
sequence wrap, and checks the counters: no authentication failure.
"""
import base64
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Dataplane, Fail, Region, check, main, wait_for  # noqa: E402

PEER = os.environ.get("SRTP_PEER", "build/tests/tools/srtp_peer")
IFACE = "mr-tap1"
KEYLEN = {"AES_CM_128_HMAC_SHA1_80": 30, "AES_CM_128_HMAC_SHA1_32": 30,
          "AES_256_CM_HMAC_SHA1_80": 46, "AES_256_CM_HMAC_SHA1_32": 46,
          "AEAD_AES_128_GCM": 28, "AEAD_AES_256_GCM": 44}


def key(suite, seed):
    raw = bytes((seed * 37 + i * 11) & 0xFF for i in range(KEYLEN[suite]))
    return "%s:%s" % (suite, base64.b64encode(raw).decode())


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True, timeout=30)


class Tap:
    def __init__(self, tmp, region):
        cfg = """
region = "%s/region";
ports = ( { name = "wan"; device = "net_tap0,iface=%s"; addresses = [ "198.18.7.2/24" ]; } );
workers = [ 1 ];
""" % (tmp, IFACE)
        self.dp = Dataplane("srtp-tap", cfg, tmp)
        self.dp.start(region)
        sh("ip", "addr", "add", "198.18.7.1/24", "dev", IFACE)
        sh("ip", "link", "set", IFACE, "up")
        subprocess.run(["ethtool", "-K", IFACE, "tx", "off"], capture_output=True, timeout=30)
        wait_for(lambda: subprocess.run(["ping", "-c1", "-W1", "198.18.7.2"],
                                        capture_output=True).returncode == 0,
                 "the relay to answer on the TAP", timeout=10)

    def stop(self):
        check(self.dp.stop() == 0, "mrelay-dp exits 0")


def call(tmp, a_args, b_args, count=60, seq_start=65500, rtcp=True):
    """Run peers A and B against each other through the relay; return their reports."""
    ready = os.path.join(tmp, "b.ready")
    if os.path.exists(ready):
        os.unlink(ready)
    common = ["--count", str(count), "--interval-ms", "5", "--seq-start", str(seq_start),
              "--rtcp-every", "10", "--timeout", "15", "--json"]
    if count >= 10 and rtcp:
        common += ["--expect-rtcp", str(count // 10)]
    b = subprocess.Popen([PEER, "--bind", "198.18.7.1:40002", "--to", "198.18.7.2:30002",
                          "--ssrc", "0x2222", "--expect-ssrc", "0x1111", "--ready-file", ready,
                          "--start-delay-ms", "300"] + common + b_args,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: os.path.exists(ready), "peer B to bind")
    a = subprocess.run([PEER, "--bind", "198.18.7.1:40000", "--to", "198.18.7.2:30000",
                        "--ssrc", "0x1111", "--expect-ssrc", "0x2222"] + common + a_args,
                       capture_output=True, text=True, timeout=60)
    bo, be = b.communicate(timeout=60)
    return (a.returncode, a.stdout + a.stderr), (b.returncode, bo + be)


def legs(region, a_keys, b_keys, a_pstn=False):
    # srtp_peer muxes RTCP on its RTP port (RFC 5761), so the legs do too.
    a = region.ctl("leg", "add", "--rtcp-mux", "--local", "198.18.7.2:30000", "--peer", "198.18.7.1:40000",
                   *(["--pstn"] if a_pstn else []), *a_keys).stdout.strip()
    b = region.ctl("leg", "add", "--rtcp-mux", "--local", "198.18.7.2:30002", "--peer", "198.18.7.1:40002",
                   *b_keys).stdout.strip()
    region.pair(a, b)
    region.ctl("sync", "--timeout-ms", "3000")
    return int(a), int(b)


def drop_legs(region, *slots):
    for s in slots:
        region.ctl("leg", "del", s)
    region.ctl("sync", "--timeout-ms", "3000")


BASE = {}


def expect_clean(region, what, a, b):
    """Both peers got everything; no SRTP failure since the last case."""
    global BASE
    ra, rb = a, b
    d = region.drops()
    new = {k: v - BASE.get(k, 0) for k, v in d.items() if v != BASE.get(k, 0)}
    # The relay's drops go with a loss, to tell its own from the TAP's.
    check(ra[0] == 0, "%s: A got B's media intact: %s (relay drops: %s)" % (what, ra[1][-400:], new))
    check(rb[0] == 0, "%s: B got A's media intact: %s (relay drops: %s)" % (what, rb[1][-400:], new))
    check("srtp-auth" not in new and "srtp-replay" not in new,
          "%s: no authentication failure: %s" % (what, new))
    BASE = d


def peer(args, **kw):
    return subprocess.run([PEER, "--json", "--timeout", "30"] + args, capture_output=True, text=True,
                          timeout=90, **kw)


def hijack_and_rebind(tmp, region):
    """A wrong key never gets through or latches; the right key from a new
    source is refused while the latched source talks, and takes over after
    it falls silent (a NAT rebinding) only after a run of packets."""
    suite = "AES_CM_128_HMAC_SHA1_80"
    ka_tx, ka_rx, kb_tx, kb_rx = (key(suite, 100 + n) for n in range(4))
    a, b = legs(region, ["--in-key", ka_tx, "--out-key", ka_rx], ["--in-key", kb_tx, "--out-key", kb_rx])
    ra, rb = call(tmp, ["--tx-key", ka_tx, "--rx-key", ka_rx], ["--tx-key", kb_tx, "--rx-key", kb_rx],
                  seq_start=1000, rtcp=False)
    expect_clean(region, "latched", ra, rb)
    before = region.drops()
    latched = region.legs()["legs"][a]["latched_rtp"]
    # An attacker without the key, from its own port.
    peer(["--bind", "198.18.7.1:40009", "--to", "198.18.7.2:30000", "--count", "20", "--interval-ms", "2",
          "--ssrc", "0x1111", "--seq-start", "2000", "--expect-count", "0", "--tx-key", key(suite, 7)])
    d = region.drops()
    check(d.get("srtp-auth", 0) - before.get("srtp-auth", 0) == 20, "wrong key: 20 x srtp-auth (%s)" % d)
    check(region.legs()["legs"][a]["latched_rtp"] == latched, "the latch did not move")
    # The right key from another port while A still talks: refused.
    ready = os.path.join(tmp, "talk.ready")
    talk = subprocess.Popen([PEER, "--bind", "198.18.7.1:40000", "--to", "198.18.7.2:30000", "--count", "150",
                             "--interval-ms", "10", "--ssrc", "0x1111", "--seq-start", "3000",
                             "--expect-count", "0", "--tx-key", ka_tx, "--ready-file", ready, "--json"],
                            stdout=subprocess.PIPE, text=True)
    wait_for(lambda: os.path.exists(ready), "A to talk")
    peer(["--bind", "198.18.7.1:40010", "--to", "198.18.7.2:30000", "--count", "20", "--interval-ms", "10",
          "--ssrc", "0x1111", "--seq-start", "5000", "--expect-count", "0", "--tx-key", ka_tx])
    talk.communicate(timeout=60)
    check(region.legs()["legs"][a]["latched_rtp"] == latched, "a talking source is not displaced")
    check(region.drops().get("src-not-latched", 0) >= 20, "the interloper's packets were refused")
    # A's NAT rebinds: A is silent, its packets now come from another port.
    rb_ready = os.path.join(tmp, "b2.ready")
    if os.path.exists(rb_ready):
        os.unlink(rb_ready)
    bp = subprocess.Popen([PEER, "--bind", "198.18.7.1:40002", "--to", "198.18.7.2:30002", "--count", "1",
                           "--ssrc", "0x2222", "--seq-start", "9000", "--expect-count", "37", "--allow-loss", "0",
                           "--tx-key", kb_tx, "--rx-key", kb_rx, "--ready-file", rb_ready, "--timeout", "30",
                           "--json"], stdout=subprocess.PIPE, text=True)
    wait_for(lambda: os.path.exists(rb_ready), "B to bind")
    import time
    time.sleep(0.5)
    peer(["--bind", "198.18.7.1:40011", "--to", "198.18.7.2:30000", "--count", "40", "--interval-ms", "10",
          "--ssrc", "0x1111", "--seq-start", "6000", "--expect-count", "0", "--tx-key", ka_tx])
    out = bp.communicate(timeout=60)[0]
    check(region.legs()["legs"][a]["latched_rtp"] == "198.18.7.2:40011".replace("7.2", "7.1"),
          "after silence and a run of authenticated packets, the latch moved")
    check(bp.returncode == 0, "B got all but the first relatch_auth_packets - 1 = 2 packets: %s" % out[-200:])
    d = region.drops()
    check(d.get("srtp-auth", 0) - BASE.get("srtp-auth", 0) == 20 and
          d.get("srtp-replay", 0) == BASE.get("srtp-replay", 0),
          "only the attacker's 20 failed; the interloper never touched the replay window: %s" % d)
    globals()["BASE"] = d
    drop_legs(region, a, b)


def second_ssrc_and_garbage(tmp, region):
    """A second SSRC on a leg (a new stream after a re-INVITE, RTX) gets its
    own contexts; malformed SRTP is counted and changes nothing."""
    import socket
    suite = "AEAD_AES_256_GCM"
    ka_tx, ka_rx, kb_tx, kb_rx = (key(suite, 120 + n) for n in range(4))
    a, b = legs(region, ["--in-key", ka_tx, "--out-key", ka_rx], ["--in-key", kb_tx, "--out-key", kb_rx])
    ra, rb = call(tmp, ["--tx-key", ka_tx, "--rx-key", ka_rx], ["--tx-key", kb_tx, "--rx-key", kb_rx],
                  seq_start=1000)
    expect_clean(region, "first SSRC", ra, rb)
    ra, rb = call(tmp, ["--tx-key", ka_tx, "--rx-key", ka_rx, "--ssrc", "0x3333", "--expect-ssrc", "0x4444"],
                  ["--tx-key", kb_tx, "--rx-key", kb_rx, "--expect-ssrc", "0x3333", "--ssrc", "0x4444"],
                  seq_start=7000)
    expect_clean(region, "second SSRC on the same legs", ra, rb)
    before = region.drops()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.7.1", 40000))
    rtp = bytes([0x80, 0, 0x20, 0, 0, 0, 0, 1, 0, 0, 0x11, 0x11])
    junk = [b"", b"\x80", rtp[:11],                         # shorter than a header
            rtp + b"\x01" * 4,                              # tag missing / too short for GCM
            bytes([0x8f]) + rtp[1:] + b"\0" * 20,           # CSRC count past the end
            bytes([0x90]) + rtp[1:] + b"\xbe\xde\xff\xff" + b"\0" * 20,  # extension past the end
            bytes([0xa0]) + rtp[1:] + b"\0" * 19 + b"\xff",  # padding count larger than the packet
            rtp + b"\0" * 40]                               # well formed, tag wrong
    tx_before = region.leg_stats(b)["tx_pkts"]
    for j in junk:
        s.sendto(j, ("198.18.7.2", 30000))
    s.close()
    wait_for(lambda: sum(region.drops().values()) - sum(before.values()) >= len(junk) - 1,
             "the junk to be counted")
    d = region.drops()
    new = {k: v - before.get(k, 0) for k, v in d.items() if v != before.get(k, 0)}
    check(sum(new.values()) == len(junk) and set(new) <= {"malformed", "srtp-auth", "not-rtp"},
          "every malformed SRTP packet counted as a drop: %s" % new)
    check(new.get("malformed", 0) >= 1 and region.leg_stats(b)["tx_pkts"] == tx_before,
          "none of it was forwarded")
    globals()["BASE"] = d
    drop_legs(region, a, b)


def mute_renumbers(tmp, region):
    """A mute longer than 2^15 packets, then unmute: the far end still
    decrypts, because the relay renumbers what it re-protects."""
    suite = "AES_CM_128_HMAC_SHA1_80"
    ka_tx, ka_rx, kb_tx, kb_rx = (key(suite, 110 + n) for n in range(4))
    a, b = legs(region, ["--in-key", ka_tx, "--out-key", ka_rx], ["--in-key", kb_tx, "--out-key", kb_rx])
    ready = os.path.join(tmp, "bm.ready")
    if os.path.exists(ready):
        os.unlink(ready)
    bp = subprocess.Popen([PEER, "--bind", "198.18.7.1:40002", "--to", "198.18.7.2:30002", "--count", "1",
                           "--ssrc", "0x2222", "--expect-count", "400", "--allow-loss", "10", "--no-payload-check",
                           "--tx-key", kb_tx, "--rx-key", kb_rx, "--ready-file", ready, "--timeout", "60",
                           "--json"], stdout=subprocess.PIPE, text=True)
    wait_for(lambda: os.path.exists(ready), "B to bind")
    a_args = ["--bind", "198.18.7.1:40000", "--to", "198.18.7.2:30000", "--ssrc", "0x1111",
              "--expect-count", "0", "--tx-key", ka_tx]
    # One stream in three processes: 32800.., muted 33000.. (wrapping to ROC 1),
    # then 464.. at ROC 1. Unrenumbered, B would jump from 32999 to 464 and,
    # by RFC 3711's estimate, guess ROC 0: every packet would fail.
    peer(a_args + ["--count", "200", "--interval-ms", "1", "--seq-start", "32800"])
    region.ctl("leg", "set", str(a), "--muted")
    region.ctl("sync", "--timeout-ms", "3000")
    # Paced (50,000 pps, 0.7 s): unpaced, a loaded host drops much of the
    # burst in the TAP's queue and the mute no longer spans 2^15 packets.
    peer(a_args + ["--count", "33000", "--interval-ms", "0.02", "--seq-start", "33000"])
    region.ctl("leg", "set", str(a), "--no-muted")
    region.ctl("sync", "--timeout-ms", "3000")
    peer(a_args + ["--count", "200", "--interval-ms", "1", "--seq-start", "464", "--tx-roc", "1"])
    out = bp.communicate(timeout=90)[0]
    import json
    r = json.loads(out.strip().splitlines()[-1])
    # A sends 33,000 packets while muted: without renumbering B would see its
    # sequence jump by more than 2^15, however many of them reach the relay.
    # A loaded host loses part of the burst before the relay (the TAP's
    # queue: 25,000 of 33,000 arrived with both CPUs busy), so this asks
    # only that the mute took most of what came: a mute not applied, or
    # lifted early, leaves far fewer.
    check(region.drops().get("muted", 0) > 16500, "the mute dropped A's media (%s)" % region.drops().get("muted"))
    check(r["auth_failures"] == 0 and r["replay_failures"] == 0 and bp.returncode == 0,
          "after a mute of 33,000 packets B still decrypts: %s" % out[-300:])
    globals()["BASE"] = region.drops()
    drop_legs(region, a, b)


def test_srtp(tmp):
    if not os.path.exists(PEER):
        raise Fail("srtp_peer not built at " + PEER)
    region = Region(tmp)
    tap = Tap(tmp, region)
    try:
        for i, suite in enumerate(KEYLEN):
            ka_tx, ka_rx, kb_tx, kb_rx = (key(suite, 4 * i + n) for n in range(4))
            # re-key: four different keys
            a, b = legs(region, ["--in-key", ka_tx, "--out-key", ka_rx],
                        ["--in-key", kb_tx, "--out-key", kb_rx])
            ra, rb = call(tmp, ["--tx-key", ka_tx, "--rx-key", ka_rx],
                          ["--tx-key", kb_tx, "--rx-key", kb_rx])
            expect_clean(region, "re-key " + suite, ra, rb)
            if i == 0:
                st = region.ssrc_states(a)
                check(0x1111 in st["in"] and 0x1111 in st["out"],
                      "re-key: leg A has both SRTP contexts for 0x1111 (%s)" % st)
            drop_legs(region, a, b)
            # pass-through: A sends with what B receives with, and back
            a, b = legs(region, ["--in-key", ka_tx, "--out-key", kb_tx],
                        ["--in-key", kb_tx, "--out-key", ka_tx])
            ra, rb = call(tmp, ["--tx-key", ka_tx, "--rx-key", kb_tx],
                          ["--tx-key", kb_tx, "--rx-key", ka_tx])
            expect_clean(region, "pass-through " + suite, ra, rb)
            if i == 0:
                # Forwarded as is: the direction has inbound contexts only,
                # so no outbound resume point is ever stored.
                st = region.ssrc_states(a)
                check(0x1111 in st["in"] and not st["out"],
                      "pass-through: leg A has an inbound SRTP context for 0x1111 and no "
                      "outbound one (%s)" % st)
            drop_legs(region, a, b)
        # Make-before-break, as a re-INVITE with new crypto both ways does it:
        # each leg learns its peer's next key as generation 1 while the old one
        # still works, the relay's outbound keys switch, then the peers switch.
        # Not one packet fails authentication. (The peers are restarted for the
        # second half, so every key their new processes use is new too: a real
        # sender never restarts its ROC or SRTCP index under the same key.)
        suite = "AEAD_AES_128_GCM"
        k1, k2, ka_rx, kb_tx, kb_rx1, kb_rx2, kb_tx2 = (key(suite, 70 + n) for n in range(7))
        a, b = legs(region, ["--in-key", k1, "--out-key", ka_rx],
                    ["--in-key", kb_tx, "--out-key", kb_rx1])
        ra, rb = call(tmp, ["--tx-key", k1, "--rx-key", ka_rx], ["--tx-key", kb_tx, "--rx-key", kb_rx1],
                      seq_start=1000)
        expect_clean(region, "before the key change", ra, rb)
        region.ctl("leg", "set", str(a), "--in-key", "1:" + k2)
        region.ctl("leg", "set", str(b), "--out-key", "1:" + kb_rx2, "--out-active", "1",
                   "--in-key", "1:" + kb_tx2)
        region.ctl("sync", "--timeout-ms", "3000")
        ra, rb = call(tmp, ["--tx-key", k2, "--rx-key", ka_rx],
                      ["--tx-key", kb_tx2, "--rx-key", kb_rx2], seq_start=2000)
        expect_clean(region, "after the key change", ra, rb)
        drop_legs(region, a, b)
        # MKI on every key, with the suite whose SRTCP MKI libsrtp 2.5 misplaces.
        suite = "AES_CM_128_HMAC_SHA1_32"
        ka_tx, ka_rx, kb_tx, kb_rx = (key(suite, 80 + n) + ":%d:4" % (n + 1) for n in range(4))
        a, b = legs(region, ["--in-key", ka_tx, "--out-key", ka_rx],
                    ["--in-key", kb_tx, "--out-key", kb_rx])
        ra, rb = call(tmp, ["--tx-key", ka_tx, "--rx-key", ka_rx], ["--tx-key", kb_tx, "--rx-key", kb_rx])
        expect_clean(region, "re-key with MKI", ra, rb)
        drop_legs(region, a, b)
        second_ssrc_and_garbage(tmp, region)
        hijack_and_rebind(tmp, region)
        mute_renumbers(tmp, region)
        suite = "AES_CM_128_HMAC_SHA1_80"
        kb_tx, kb_rx = key(suite, 90), key(suite, 91)
        # A is a PSTN trunk: plain RTP in and out on its side only.
        a, b = legs(region, [], ["--in-key", kb_tx, "--out-key", kb_rx], a_pstn=True)
        ra, rb = call(tmp, [], ["--tx-key", kb_tx, "--rx-key", kb_rx])
        expect_clean(region, "RTP <-> SRTP", ra, rb)
        drop_legs(region, a, b)
        d = region.drops()
        check(d.get("srtp-auth") == 22 and "srtp-replay" not in d,
              "over every case, the attacker's 20 packets and 2 of the junk are the only SRTP "
              "failures: %s" % d)
        # Which engine ran every case (meson runs this once per engine).
        mg = region.stats()["mgmt"]
        engine = os.environ.get("MRELAY_SRTP_ENGINE", "auto")
        burst, lib = mg["srtp_ctx_burst"], mg["srtp_ctx_libsrtp"]
        if engine == "libsrtp":
            check(burst == 0 and lib > 0, "libsrtp made every context (%d; burst %d)" % (lib, burst))
        elif engine == "ipsec-mb":
            check(lib == 0 and burst > 0, "the burst engine made every context (%d; libsrtp %d)"
                  % (burst, lib))
    finally:
        tap.stop()


if __name__ == "__main__":
    main([test_srtp])
