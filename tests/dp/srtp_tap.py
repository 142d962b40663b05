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


def expect_clean(region, what, a, b):
    ra, rb = a, b
    check(ra[0] == 0, "%s: A got B's media intact: %s" % (what, ra[1][-400:]))
    check(rb[0] == 0, "%s: B got A's media intact: %s" % (what, rb[1][-400:]))
    d = region.drops()
    check("srtp-auth" not in d and "srtp-replay" not in d, "%s: no authentication failure: %s" % (what, d))


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
            drop_legs(region, a, b)
            # pass-through: A sends with what B receives with, and back
            a, b = legs(region, ["--in-key", ka_tx, "--out-key", kb_tx],
                        ["--in-key", kb_tx, "--out-key", ka_tx])
            ra, rb = call(tmp, ["--tx-key", ka_tx, "--rx-key", kb_tx],
                          ["--tx-key", kb_tx, "--rx-key", ka_tx])
            expect_clean(region, "pass-through " + suite, ra, rb)
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
        suite = "AES_CM_128_HMAC_SHA1_80"
        kb_tx, kb_rx = key(suite, 90), key(suite, 91)
        # A is a PSTN trunk: plain RTP in and out on its side only.
        a, b = legs(region, [], ["--in-key", kb_tx, "--out-key", kb_rx], a_pstn=True)
        ra, rb = call(tmp, [], ["--tx-key", kb_tx, "--rx-key", kb_rx])
        expect_clean(region, "RTP <-> SRTP", ra, rb)
        drop_legs(region, a, b)
        st = region.stats()
        check(st["drops_total"].get("srtp-auth") is None, "no authentication failure over every case")
    finally:
        tap.stop()


if __name__ == "__main__":
    main([test_srtp])
