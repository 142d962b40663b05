#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""SRTP interop of mrelay-dp with rtpengine, an SRTP implementation that is
not libsrtp (rtpengine's own crypto.c on OpenSSL; Debian's rtpengine-daemon).

rtpengine runs as its own instance (its own NG port, media ports and log;
started and stopped here, never the packaged service; no kernel module:
--table=-1) and is driven over NG (bencode over UDP, the client below) to
bridge plain RTP <-> SRTP with SDES:

  peer A (plain)       rtpengine                   mrelay-dp (net_tap)         peer B
  198.18.8.1:40000 <-> 198.18.8.1:P_A | P_R <-> 198.18.8.2:30000 | 30002 <-> 198.18.8.1:40002
  srtp_peer, no key    plain RTP | SDES-SRTP     leg R        | leg B       srtp_peer: own keys
                       its own crypto            (SDP's keys) | (B's keys   (the relay re-keys)
                                                              |  or --pstn)  or plain

  kernel interface mr-tap2 (198.18.8.1/24), mrelay-dp on net_tap (198.18.8.2/24)

The SDP offer/answer decides the keys, as a signaling server would:
  plain-offers       A offers RTP/AVP; rtpengine turns it into RTP/SAVP with
                     an a=crypto line per suite and keys it generates (what it
                     will protect with: leg R's inbound key); the relay side
                     answers one suite with its own key (leg R's outbound key).
  srtp-offers        the relay side offers RTP/SAVP with one a=crypto line and
                     its key; rtpengine offers A plain RTP/AVP, and answers the
                     relay side with its own key for that suite.
  srtp-offers-demux  the same, but the relay side does not offer rtcp-mux:
                     SRTCP runs between rtpengine's RTP port + 1 and the relay
                     leg's RTCP port 30001 (RTCP is muxed on every other hop,
                     RFC 5761: srtp_peer muxes).
Every suite both support (rtpengine 10.5 also offers AES_192_CM_*, F8_* and
NULL_*, which mrelay does not implement), every mode, peer B keyed and
plain. RTP crosses the 16-bit sequence wrap. A and B send an RTCP SR after
every 10 packets and expect the other's, in srtp-offers-demux too, where
RTCP that arrives on a muxed leg (B) must leave by the egress leg's RTCP
port towards rtpengine's RTCP port (rtpengine rightly refuses SRTCP on its
RTP port). --rtcp-demux-one-way keeps B's RTCP out of that mode.

Each call checks the peers' payload and RTCP checks, the relay's counters
(no srtp-auth, srtp-replay or not-rtp drop; leg R's packet counts exact),
rtpengine's per-call NG statistics (RTP from both sides, the suite in use,
no stream error) and its log (no discarded SRTP/SRTCP packet). One extra
call has rtp_peer.py as the plain side (RTP only). Two negative controls
(the relay one bit off rtpengine's keys both ways, an HMAC and an AEAD
suite) show that each of those checks fails when the keys disagree.

Arguments: name prefixes (SUITE/MODE/FAR, SUITE/control-wrong-keys) run only
those calls. Debugging: RTPE_DEBUG=1 prints the legs and rtpengine's NG
query per call; RTPE_PCAP=FILE captures UDP on the TAP.

Exit status 77 (meson: skipped) when rtpengine is not installed.
"""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "dp"))
from harness import Dataplane, Fail, Region, check, main, stop_process, wait_for  # noqa: E402

PEER = os.environ.get("SRTP_PEER", "build/tests/tools/srtp_peer")
RTP_PEER = os.path.join(HERE, "..", "tools", "rtp_peer.py")
RTPENGINE = os.environ.get("RTPENGINE") or shutil.which("rtpengine") or "/usr/bin/rtpengine"
IFACE = "mr-tap2"
HOST, RELAY = "198.18.8.1", "198.18.8.2"
A_PORT, B_PORT = 40000, 40002               # peers, on HOST
R_PORT, RB_PORT = 30000, 30002               # relay legs R (to rtpengine) and B
RTPE_PORTS = (42000, 42399)                  # rtpengine's media ports, on HOST
A_SSRC, B_SSRC = 0x1111, 0x2222
COUNT = 100

# mrelay's suites with the SDES key||salt length; rtpengine offers them all.
KEYLEN = {"AES_CM_128_HMAC_SHA1_80": 30, "AES_CM_128_HMAC_SHA1_32": 30,
          "AES_256_CM_HMAC_SHA1_80": 46, "AES_256_CM_HMAC_SHA1_32": 46,
          "AEAD_AES_128_GCM": 28, "AEAD_AES_256_GCM": 44}

# rtpengine's log lines for packets its SRTP code refused (crypto.c, media_socket.c).
RTPE_ERRORS = re.compile(r"Discarded invalid SRTC?P packet|Discarded SRTP packet|"
                         r"Invalid SRTP/SRTCP|decryption failed|authentication failed|"
                         r"output wanted, but no crypto suite|Crypto params error|"
                         r"Failed to parse a=crypto|unknown crypto suite|crypto suite not known")


def raw_key(suite, seed):
    return bytes((seed * 53 + i * 13 + 7) & 0xFF for i in range(KEYLEN[suite]))


def b64(raw):
    return base64.b64encode(raw).decode()


def sdes_key(suite, text):
    """rtpengine's inline key (unpadded base64, maybe |lifetime|MKI:LEN after
    it) as mrelayctl's SUITE:BASE64 (strict, padded); checks the length."""
    params = text.split("|")
    if len(params) > 1:
        raise Fail("rtpengine's %s key has parameters %r (lifetime/MKI): not handled" % (suite, params[1:]))
    k = params[0] + "=" * (-len(params[0]) % 4)
    raw = base64.b64decode(k, validate=True)
    if len(raw) != KEYLEN[suite]:
        raise Fail("rtpengine's %s key is %d bytes, want %d" % (suite, len(raw), KEYLEN[suite]))
    return "%s:%s" % (suite, b64(raw))


def flip(key):
    """SUITE:BASE64 with the first bit of the master key inverted."""
    suite, k = key.split(":")
    raw = bytearray(base64.b64decode(k))
    raw[0] ^= 0x80
    return "%s:%s" % (suite, b64(bytes(raw)))


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True, timeout=30)


# --- NG protocol: "COOKIE <bencoded dict>" over UDP -------------------------

def bencode(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(map(bencode, v)) + b"e"
    if isinstance(v, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, x) for k, x in v.items())
        return b"d" + b"".join(bencode(k) + bencode(x) for k, x in items) + b"e"
    raise TypeError("cannot bencode %r" % (v,))


def bdecode(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c in (b"l", b"d"):
        i += 1
        out = []
        while b[i:i + 1] != b"e":
            x, i = bdecode(b, i)
            out.append(x)
        if c == b"l":
            return out, i + 1
        return dict(zip(out[0::2], out[1::2])), i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    s = b[j + 1:j + 1 + n]
    try:
        s = s.decode()
    except UnicodeDecodeError:
        pass
    return s, j + 1 + n


class Ng:
    def __init__(self, port):
        self.addr = ("127.0.0.1", port)

    def __call__(self, command, ok=True, **args):
        msg = {k.replace("_", "-"): v for k, v in args.items()}
        msg["command"] = command
        cookie = os.urandom(8).hex().encode()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(1.0)
            for _ in range(5):
                s.sendto(cookie + b" " + bencode(msg), self.addr)
                try:
                    while True:
                        data = s.recv(1 << 16)
                        c, _, body = data.partition(b" ")
                        if c == cookie:
                            break
                    break
                except socket.timeout:
                    continue
            else:
                raise Fail("rtpengine: no answer to NG %s" % command)
        r = bdecode(body)[0]
        if ok and r.get("result") not in ("ok", "pong"):
            raise Fail("rtpengine: NG %s: %s %s" % (command, r.get("result"), r.get("error-reason", "")))
        return r


# --- rtpengine ----------------------------------------------------------------

def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rtpengine:
    """rtpengine in the foreground, userspace only (--table=-1), no config
    file, its own NG port on loopback and media ports on HOST."""

    def __init__(self, tmp):
        self.log_path = os.path.join(tmp, "rtpengine.log")
        self.log = open(self.log_path, "w+")
        self.proc = None
        self.ng = None
        self.log_seen = 0

    def start(self):
        for _ in range(3):
            port = free_udp_port()
            args = [RTPENGINE, "--config-file=none", "--foreground", "--log-stderr",
                    "--table=-1", "--interface=" + HOST, "--listen-ng=127.0.0.1:%d" % port,
                    "--port-min=%d" % RTPE_PORTS[0], "--port-max=%d" % RTPE_PORTS[1],
                    "--num-threads=2", "--delete-delay=0", "--endpoint-learning=immediate",
                    "--timeout=60", "--log-level=6"]
            self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
            self.ng = Ng(port)
            deadline = time.time() + 10
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    if self.ng("ping", ok=False).get("result") == "pong":
                        print("# rtpengine pid %d, NG 127.0.0.1:%d: %s" % (
                            self.proc.pid, port, " ".join(args[1:])))
                        return
                except Fail:
                    pass
            self.stop()
        raise Fail("rtpengine did not start: " + self.output()[-2000:])

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def new_errors(self):
        """rtpengine's SRTP error lines logged since the last call."""
        text = self.output()
        new, self.log_seen = text[self.log_seen:], len(text)
        return [line for line in new.splitlines() if RTPE_ERRORS.search(line)]


# --- SDP ------------------------------------------------------------------------

def make_sdp(addr, port, proto, crypto=(), mux=True):
    lines = ["v=0", "o=- %d 1 IN IP4 %s" % (port, addr), "s=-", "c=IN IP4 " + addr, "t=0 0",
             "m=audio %d %s 0" % (port, proto), "a=rtpmap:0 PCMU/8000", "a=sendrecv"]
    if mux:
        lines.append("a=rtcp-mux")
    lines += ["a=crypto:%d %s inline:%s" % c for c in crypto]
    return "\r\n".join(lines) + "\r\n"


def parse_sdp(text):
    """The one audio stream of an SDP body: address, ports, proto, crypto."""
    out = {"crypto": {}, "mux": False, "rtcp": None, "fingerprint": False}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("c=IN IP4 "):
            out["addr"] = line.split()[2]
        elif line.startswith("m=audio "):
            f = line.split()
            out["port"], out["proto"] = int(f[1]), f[2]
        elif line == "a=rtcp-mux":
            out["mux"] = True
        elif line.startswith("a=rtcp:"):
            out["rtcp"] = int(line[7:].split()[0])
        elif line.startswith("a=crypto:"):
            tag, suite, inline = line[9:].split()[:3]
            if not inline.startswith("inline:"):
                raise Fail("a=crypto without an inline key: " + line)
            out["crypto"][suite] = (int(tag), inline[7:])
        elif line.startswith("a=fingerprint:"):
            out["fingerprint"] = True
    if "port" not in out or "addr" not in out:
        raise Fail("rtpengine's SDP has no audio stream: %r" % text)
    return out


# --- the relay ------------------------------------------------------------------

class Tap:
    def __init__(self, tmp, region):
        cfg = """
region = "%s/region";
ports = ( { name = "wan"; device = "net_tap0,iface=%s"; addresses = [ "%s/24" ]; } );
workers = [ 1 ];
""" % (tmp, IFACE, RELAY)
        self.dp = Dataplane("rtpengine-srtp", cfg, tmp)
        self.dp.start(region)
        sh("ip", "addr", "add", HOST + "/24", "dev", IFACE)
        sh("ip", "link", "set", IFACE, "up")
        subprocess.run(["ethtool", "-K", IFACE, "tx", "off"], capture_output=True, timeout=30)
        wait_for(lambda: subprocess.run(["ping", "-c1", "-W1", RELAY],
                                        capture_output=True).returncode == 0,
                 "the relay to answer on the TAP", timeout=10)

    def stop(self):
        # The TAP (and HOST's address on it) goes away with mrelay-dp.
        check(self.dp.stop() == 0, "mrelay-dp exits 0")


def peer_cmd(bind, to, ssrc, expect_ssrc, keys, send_rtcp=True, expect_rtcp=True, count=COUNT, timeout=10):
    cmd = [PEER, "--bind", bind, "--to", to, "--ssrc", hex(ssrc), "--expect-ssrc", hex(expect_ssrc),
           "--count", str(count), "--interval-ms", "5", "--seq-start", "65480", "--timeout", str(timeout),
           "--json"]
    if send_rtcp:
        cmd += ["--rtcp-every", "10"]
    if expect_rtcp:
        cmd += ["--expect-rtcp", str(COUNT // 10)]
    if keys:
        cmd += ["--tx-key", keys[0], "--rx-key", keys[1]]
    return cmd


def run_peers(tmp, a_cmd, b_cmd):
    """B first (bound, then sending after 300 ms), then A; both reports."""
    ready = os.path.join(tmp, "b.ready")
    if os.path.exists(ready):
        os.unlink(ready)
    b = subprocess.Popen(b_cmd + ["--ready-file", ready, "--start-delay-ms", "300"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: os.path.exists(ready) or b.poll() is not None, "peer B to bind")
        a = subprocess.run(a_cmd, capture_output=True, text=True, timeout=60)
        bo, be = b.communicate(timeout=60)
    finally:
        if b.poll() is None:
            b.kill()
            b.wait()
    return (a.returncode, a.stdout + a.stderr), (b.returncode, bo + be)


def peer_json(out):
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise Fail("no JSON report from the peer: " + out[-300:])


def check_peer(result, what):
    rc, out = result
    if rc != 0:
        raise Fail("%s: exit %d: %s" % (what, rc, out.strip()[-700:]))
    check(True, what)


def stream_stats(q):
    """(tag, "RTP|RTCP local->endpoint", packets, errors, suite) per stream
    of an NG query answer."""
    out = []
    for tag, t in (q.get("tags") or {}).items():
        for m in t.get("medias", []):
            for s in m.get("streams", []):
                st, ep = s.get("stats", {}), s.get("endpoint", {})
                out.append((tag, "%s %s->%s:%s" % ("RTP" if "RTP" in s.get("flags", []) else "RTCP",
                                                  s.get("local port"), ep.get("address"), ep.get("port")),
                            st.get("packets", 0), st.get("errors", 0), s.get("crypto suite")))
    return out


class Lab:
    def __init__(self, tmp, rtcp_demux_both_ways=False):
        self.tmp = tmp
        self.region = Region(tmp)
        self.rtpe = Rtpengine(tmp)
        self.tap = None
        self.dump = None
        self.calls = 0
        self.results = []
        self.demux_both_ways = rtcp_demux_both_ways

    def start(self):
        self.tap = Tap(self.tmp, self.region)
        if os.environ.get("RTPE_PCAP"):      # debugging: capture the relay's side
            pcap = os.environ["RTPE_PCAP"]
            self.dump = subprocess.Popen(["tcpdump", "-U", "-ni", IFACE, "-w", pcap, "udp"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        self.rtpe.start()

    def stop(self):
        self.rtpe.stop()
        if self.dump is not None:
            self.dump.terminate()
            self.dump.wait()
        if self.tap is not None:
            self.tap.stop()

    def negotiate(self, call_id, suite, mode, k_mr):
        """Offer/answer through rtpengine. Returns (P_A, P_R, P_R's RTCP port
        or None if muxed, leg R's inbound key = what rtpengine protects with)."""
        ng = self.rtpe.ng
        a_sdp = make_sdp(HOST, A_PORT, "RTP/AVP", mux=True)
        if mode == "plain-offers":
            o = parse_sdp(ng("offer", call_id=call_id, from_tag="plain", sdp=a_sdp,
                             transport_protocol="RTP/SAVP", DTLS="off", replace=["origin"])["sdp"])
            check(o["proto"] == "RTP/SAVP" and suite in o["crypto"] and o["mux"] and not o["fingerprint"],
                  "%s: rtpengine offers RTP/SAVP, rtcp-mux, %s among its suites (%s)"
                  % (call_id, suite, " ".join(o["crypto"])))
            tag, k_rte = o["crypto"][suite]
            r_sdp = make_sdp(RELAY, R_PORT, "RTP/SAVP", crypto=[(tag, suite, b64(k_mr))], mux=True)
            a = parse_sdp(ng("answer", call_id=call_id, from_tag="plain", to_tag="relay",
                             sdp=r_sdp, replace=["origin"])["sdp"])
            check(a["proto"] == "RTP/AVP" and not a["crypto"] and a["mux"],
                  "%s: rtpengine answers A plain RTP/AVP, rtcp-mux" % call_id)
            return a["port"], o["port"], None, sdes_key(suite, k_rte)
        mux = mode != "srtp-offers-demux"
        r_sdp = make_sdp(RELAY, R_PORT, "RTP/SAVP", crypto=[(1, suite, b64(k_mr))], mux=mux)
        o = parse_sdp(ng("offer", call_id=call_id, from_tag="relay", sdp=r_sdp,
                         transport_protocol="RTP/AVP", rtcp_mux=["offer"], replace=["origin"])["sdp"])
        check(o["proto"] == "RTP/AVP" and not o["crypto"] and o["mux"],
              "%s: rtpengine offers A plain RTP/AVP, rtcp-mux" % call_id)
        a = parse_sdp(ng("answer", call_id=call_id, from_tag="relay", to_tag="plain", sdp=a_sdp,
                         replace=["origin"])["sdp"])
        check(a["proto"] == "RTP/SAVP" and list(a["crypto"]) == [suite] and a["crypto"][suite][0] == 1
              and a["mux"] == mux,
              "%s: rtpengine answers the relay RTP/SAVP, %s tag 1, %s"
              % (call_id, suite, "rtcp-mux" if mux else "RTCP on port %s" % (a["rtcp"] or a["port"] + 1)))
        return (o["port"], a["port"], None if mux else (a["rtcp"] or a["port"] + 1),
                sdes_key(suite, a["crypto"][suite][1]))

    def call(self, suite, mode, far, a_tool="srtp_peer", control=False):
        """One call; records and prints failures, never raises Fail."""
        self.calls += 1
        n = self.calls
        if control:
            call_id = suite + "/control-wrong-keys"
        else:
            call_id = "/".join((suite, mode, far) + (() if a_tool == "srtp_peer" else (a_tool,)))
        slots = []
        try:
            if control:
                self._control(n, call_id, suite, slots)
            else:
                self._call(n, call_id, suite, mode, far, a_tool, slots)
        except Fail as e:
            print("not ok -", e)
            self.results.append((call_id, False))
        else:
            self.results.append((call_id, True))
        finally:
            for s in slots:
                self.region.ctl("leg", "del", s, ok=False)
            self.region.ctl("sync", "--timeout-ms", "3000", ok=False)
            self.rtpe.ng("delete", ok=False, call_id=call_id)

    def _call(self, n, call_id, suite, mode, far, a_tool, slots):
        k_mr = raw_key(suite, 4 * n)
        p_a, p_r, p_r_rtcp, in_key = self.negotiate(call_id, suite, mode, k_mr)
        out_key = "%s:%s" % (suite, b64(k_mr))
        mux = ["--rtcp-mux"] if p_r_rtcp is None else ["--peer-rtcp", "%s:%d" % (HOST, p_r_rtcp)]
        r = int(self.region.ctl("leg", "add", "--local", "%s:%d" % (RELAY, R_PORT),
                                "--peer", "%s:%d" % (HOST, p_r), *mux,
                                "--in-key", in_key, "--out-key", out_key).stdout)
        slots.append(r)
        if far == "keyed":
            kb_tx, kb_rx = ("%s:%s" % (suite, b64(raw_key(suite, 4 * n + i))) for i in (1, 2))
            b_keys, b_leg = (kb_tx, kb_rx), ["--in-key", kb_tx, "--out-key", kb_rx]
        else:
            b_keys, b_leg = None, ["--pstn"]
        b = int(self.region.ctl("leg", "add", "--rtcp-mux", "--local", "%s:%d" % (RELAY, RB_PORT),
                                "--peer", "%s:%d" % (HOST, B_PORT), *b_leg).stdout)
        slots.append(b)
        self.region.pair(r, b)
        self.region.ctl("sync", "--timeout-ms", "3000")
        before = self.region.stats()
        # RTCP: A and B each send an SR after every 10 packets and expect the
        # other's, except B towards a relay leg that does not mux (see the
        # docstring: mrelay sends it on the leg's RTP port).
        a_rtcp = a_tool == "srtp_peer"
        b_rtcp = a_rtcp and (p_r_rtcp is None or self.demux_both_ways)
        if a_tool == "srtp_peer":
            a_cmd = peer_cmd("%s:%d" % (HOST, A_PORT), "%s:%d" % (HOST, p_a), A_SSRC, B_SSRC, None,
                             send_rtcp=a_rtcp, expect_rtcp=b_rtcp)
        else:
            a_cmd = [sys.executable, RTP_PEER, "duplex", "--bind", "%s:%d" % (HOST, A_PORT),
                     "--to", "%s:%d" % (HOST, p_a), "--ssrc", hex(A_SSRC), "--expect-ssrc", hex(B_SSRC),
                     "--count", str(COUNT), "--interval-ms", "5", "--seq-start", "65480",
                     "--timeout", "15", "--json"]
        b_cmd = peer_cmd("%s:%d" % (HOST, B_PORT), "%s:%d" % (RELAY, RB_PORT), B_SSRC, A_SSRC, b_keys,
                         send_rtcp=b_rtcp, expect_rtcp=a_rtcp)
        ra, rb = run_peers(self.tmp, a_cmd, b_cmd)
        q = self.rtpe.ng("query", call_id=call_id)
        errs = self.rtpe.new_errors()
        after = self.region.stats()
        if os.environ.get("RTPE_DEBUG"):
            print("# legs:\n" + self.region.ctl("leg", "list").stdout)
            print("# rtpengine query: %r" % q)

        check_peer(ra, "%s: A (plain, behind rtpengine) got B's media intact%s"
                   % (call_id, " and RTCP" if b_rtcp else ""))
        check_peer(rb, "%s: B got A's media intact%s" % (call_id, " and RTCP" if a_rtcp else ""))
        d0, d1 = before.get("drops_total", {}), after.get("drops_total", {})
        bad = {k: d1.get(k, 0) - d0.get(k, 0) for k in ("srtp-auth", "srtp-replay", "not-rtp")
               if d1.get(k, 0) != d0.get(k, 0)}
        check(not bad, "%s: the relay authenticated all of rtpengine's SRTP/SRTCP: %s" % (call_id, bad))
        # Per-slot counters outlive a leg (a new leg in the slot adds to
        # them), so compare with the counters before the call.
        c0 = {x["slot"]: x for x in before["legs"]}.get(r, {})
        c1 = {x["slot"]: x for x in after["legs"]}.get(r, {})
        rx = c1.get("rx_pkts", 0) - c0.get("rx_pkts", 0)
        tx = c1.get("tx_pkts", 0) - c0.get("tx_pkts", 0)
        want_rx = COUNT + (COUNT // 10 if a_rtcp else 0)
        want_tx = COUNT + (COUNT // 10 if b_rtcp else 0)
        check(rx == want_rx and tx == want_tx and c1.get("drop_auth") == c0.get("drop_auth"),
              "%s: relay leg R: %d packets from rtpengine (want %d), %d to it (want %d), no drop_auth"
              % (call_id, rx, want_rx, tx, want_tx))
        ss = stream_stats(q)
        check(ss and all(e == 0 for _, _, _, e, _ in ss),
              "%s: rtpengine's per-stream counters show no errors: %s" % (call_id, ss))
        check(all(any(t == tag and lbl.startswith("RTP ") and p >= COUNT for t, lbl, p, *_ in ss)
                  for tag in ("plain", "relay")),
              "%s: rtpengine received RTP from both sides: %s" % (call_id, ss))
        suites = {c for t, lbl, p, e, c in ss if t == "relay"}
        check(suites == {suite}, "%s: rtpengine's relay-side streams use %s: %s" % (call_id, suite, suites))
        check(not errs, "%s: rtpengine logged no SRTP/SRTCP error: %s" % (call_id, errs[:5]))


    def _control(self, n, call_id, suite, slots):
        """Negative control: the relay protects with a key one bit off the one
        rtpengine was given in the SDP and verifies with one one bit off
        rtpengine's. rtpengine must discard every packet and say so, the relay
        must count srtp-auth, and neither peer gets a packet: the checks of the
        other calls can fail."""
        k_mr = raw_key(suite, 4 * n)
        p_a, p_r, _, in_key = self.negotiate(call_id, suite, "plain-offers", k_mr)
        r = int(self.region.ctl("leg", "add", "--rtcp-mux", "--local", "%s:%d" % (RELAY, R_PORT),
                                "--peer", "%s:%d" % (HOST, p_r), "--in-key", flip(in_key),
                                "--out-key", flip("%s:%s" % (suite, b64(k_mr)))).stdout)
        slots.append(r)
        b = int(self.region.ctl("leg", "add", "--rtcp-mux", "--pstn", "--local", "%s:%d" % (RELAY, RB_PORT),
                                "--peer", "%s:%d" % (HOST, B_PORT)).stdout)
        slots.append(b)
        self.region.pair(r, b)
        self.region.ctl("sync", "--timeout-ms", "3000")
        d0 = self.region.drops()
        ra, rb = run_peers(self.tmp, peer_cmd("%s:%d" % (HOST, A_PORT), "%s:%d" % (HOST, p_a), A_SSRC, B_SSRC,
                                              None, count=20, timeout=1.5),
                           peer_cmd("%s:%d" % (HOST, B_PORT), "%s:%d" % (RELAY, RB_PORT), B_SSRC, A_SSRC,
                                    None, count=20, timeout=1.5))
        q = self.rtpe.ng("query", call_id=call_id)
        errs = self.rtpe.new_errors()
        d1 = self.region.drops()
        got = [peer_json(x[1]).get("unique") for x in (ra, rb)]
        check(ra[0] == 1 and rb[0] == 1 and got == [0, 0],
              "%s: with wrong keys neither peer gets a packet (exit %d, %d; got %s)"
              % (call_id, ra[0], rb[0], got))
        auth = d1.get("srtp-auth", 0) - d0.get("srtp-auth", 0)
        check(auth >= 20, "%s: the relay refused rtpengine's packets (srtp-auth +%d)" % (call_id, auth))
        ss = stream_stats(q)
        rte = sum(e for t, _, _, e, _ in ss if t == "relay")
        check(rte >= 20 and errs, "%s: rtpengine refused the relay's packets (%d errors), and logged: %s"
              % (call_id, rte, errs[:1]))


def test_rtpengine_srtp(tmp, only=(), demux_both_ways=False):
    if not os.path.exists(PEER):
        raise Fail("srtp_peer not built at " + PEER)
    lab = Lab(tmp, demux_both_ways)
    try:
        lab.start()
        cases = [(suite, mode, far, "srtp_peer") for suite in KEYLEN
                 for mode in ("plain-offers", "srtp-offers", "srtp-offers-demux")
                 for far in ("keyed", "plain")]
        cases.append(("AES_CM_128_HMAC_SHA1_80", "plain-offers", "keyed", "rtp_peer.py"))
        for suite, mode, far, tool in cases:
            name = "/".join((suite, mode, far) + (() if tool == "srtp_peer" else (tool,)))
            if not only or any(name.startswith(o) for o in only):
                lab.call(suite, mode, far, a_tool=tool)
        st = lab.rtpe.ng("statistics").get("statistics", {}).get("totalstatistics", {})
        print("# rtpengine totals: %s" % {k: v for k, v in st.items() if k.startswith("relayed")})
        check(st.get("relayedpacketerrors", 0) == 0, "rtpengine's totals: no relayed packet error")
        for suite in ("AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM"):
            if not only or any((suite + "/control-wrong-keys").startswith(o) for o in only):
                lab.call(suite, None, None, control=True)
    finally:
        lab.stop()
        print("# %d of %d calls passed" % (sum(ok for _, ok in lab.results), lab.calls))
        for cid, ok in lab.results:
            print("#   %-4s %s" % ("ok" if ok else "FAIL", cid))
    failed = [cid for cid, ok in lab.results if not ok]
    check(lab.calls > 0 and not failed, "every call passed (failed: %s)" % (failed,))


if __name__ == "__main__":
    if not os.access(RTPENGINE, os.X_OK):
        print("# SKIP: rtpengine not installed (%s); scripts/setup.sh installs rtpengine-daemon" % RTPENGINE)
        sys.exit(77)
    args = sys.argv[1:]
    both = "--rtcp-demux-one-way" not in args
    args = [a for a in args if a != "--rtcp-demux-one-way"]

    def rtpengine_srtp(tmp):
        test_rtpengine_srtp(tmp, args, both)
    main([rtpengine_srtp])
