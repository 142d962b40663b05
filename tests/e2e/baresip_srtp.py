#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""SRTP interop of mrelay-dp with baresip, whose SRTP is libre's own code
(not libsrtp): two baresip user agents place real calls to each other
through a small SIP B2BUA written here, which rewrites their SDP so that
the media goes through mrelay-dp and installs the two legs with mrelayctl.
Every suite baresip implements, SRTP and SRTCP, both ways.

  +-------------------+    +--------------------------+
  | ns cA: baresip A  |    | ns nat (MASQUERADE,      |
  | 198.18.1.10/24    +====+ udp -> ports 50000-50999)|
  | caller, 440 Hz    |    | 198.18.1.1 | 198.18.0.20 |
  +-------------------+    +------------+-------------+
                                        |
  +-------------------+    +------------+-------------+    +-----------------------+
  | ns cB: baresip B  |    | ns br: bridge br0        |    | ns dp: mrelay-dp on   |
  | 198.18.0.11/24    +====+                          +====+ dp0 (net_af_packet)   |
  | callee, 1000 Hz   |    |                          |    | relay 198.18.0.2/24   |
  +-------------------+    +------------+-------------+    +-----------------------+
                                        |
                           +------------+-------------+
                           | ns sip: the B2BUA (this  |
                           | test), SIP over UDP,     |
                           | 198.18.0.5:5060          |
                           +--------------------------+

Each baresip runs in its own namespace with its own configuration
directory (baresip -f DIR) and no audio hardware: the aufile module plays
a sine generated here (A 440 Hz, B 1000 Hz), and the sndfile module writes
what baresip decoded (and what it encoded) to WAV files, in which the test
looks for the other side's tone with a Goertzel filter. The test drives
baresip through its ctrl_tcp module (netstring JSON on 127.0.0.1:4444 in
the client's namespace; the test's sockets are made there with setns(2) in
a helper thread, and so is the B2BUA's), which also reports the call's
events: CALL_MENC (the suite in use) and CALL_RTCP (libre decrypted and
took an RTCP packet). tcpdump in cA and cB records the media.

One call per suite: A dials sip:b@198.18.0.5. The B2BUA offers B RTP/SAVP
with exactly one a=crypto line, of the suite under test, with a key of its
own, and answers A with a key of its own. It installs the legs (--latch
auth) before either side gets the SDP that points it at the relay: leg A
(relay 198.18.0.2:RA) with A's offered key inbound and the key of its
answer outbound; leg B (:RB), feeding A from its first packet, with B's
answered key inbound and the offered key outbound. So the relay re-keys:
it decrypts with one peer's key and encrypts with the key it gave the
other. Call n uses relay ports 30000 + 10n and slots 2n, 2n + 1.

What baresip 1.0.0 (Debian 12, libre 1.1.0) can do shapes the test:
  - Suites: its srtp module implements AES_CM_128_HMAC_SHA1_80,
    AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM and AEAD_AES_256_GCM, not
    AES_256_CM_HMAC_SHA1_80/_32 (which mrelay supports). The test reads
    the suite names out of the installed srtp.so and prints the ones
    baresip lacks.
  - As the offerer baresip offers AES_CM_128_HMAC_SHA1_80 and nothing else
    (its preference is fixed), so leg A always uses that suite and the
    suite under test runs on leg B, baresip B answering: each call also
    re-keys between two suites.
  - libre sends RTCP every 5 s, a fixed interval, so each call lasts 6 s
    (up to 9 s while a side has not taken a report). When its
    stream starts, libre sends a 16-byte RTCP APP "PING" on its RTCP
    socket to open NAT pinholes, once before it turns SRTP on (in plain
    text: the relay drops it as malformed, or as no-leg when it comes
    before its leg exists) and once after (as SRTCP). That second one is
    what latches leg A's RTCP behind the NAT before the first report.
  - libre protects SRTCP with its SRTP tag length: 4 bytes under
    AES_CM_128_HMAC_SHA1_32, where RFC 3711 5.2 says an HMAC-SHA1 SRTCP
    tag MUST NOT be shorter than 80 bits, as libsrtp, rtpengine and mrelay
    use. So with that suite no SRTCP passes between
    baresip and the relay, either way (SRTP does). The test measures the
    tag on the wire (the protected PING) and accepts exactly this
    deviation, with its consequences, in place of SRTCP interop; any other
    tag fails.
  - At hangup libre sends its RTCP BYE in plain text, and closes its
    sockets while the other side's media still flows (ICMP port
    unreachable comes back). Neither is the relay's doing: before the
    hangup the test stops both baresips' media to the relay (an iptables
    rule in each client namespace), lets the relay drain, and only then
    reads its counters, the captures, the events and the logs, which so
    describe exactly the same packets.
  - rtcp-mux is covered both ways and mixed: per call A muxes or not (its
    rtcp_mux setting, accepted as offered) and so does B (offered by the
    B2BUA), so the relay also moves RTCP between a muxed leg and a leg with
    an RTCP port.

Per call the test checks: both baresips secured the call with the planned
suite (CALL_MENC); each decoded the other's tone (its own encoder made its
own); on the wire every RTP packet carries the suite's tag both ways, the
relay sends only SRTCP with the RFC's tag, and each side sends sender
reports; each baresip decrypted every SRTP and SRTCP packet the relay sent
it (a CALL_RTCP per SRTCP packet, no failure in its log); each packet a
relay leg counted as sent arrived (tx_pkts = packets on the wire); each
packet a baresip sent the relay was accepted (rx_pkts) or refused with a
reason, and the legs accepted all of their baresip's SRTP and SRTCP except
what came before the legs were in place; no SRTP or SRTCP packet failed
authentication or the replay check; the relay refused only libre's plain
PINGs (and short-tagged SRTCP); both legs latched on authenticated SRTP
(and SRTCP where there is an RTCP port); and no drop reason but those the
set-up explains: no-leg (B's first packets, sent as it answers, before the
B2BUA has its key and installs its leg), malformed (the plain PINGs) and
no-nexthop-mac (B's first media, sent towards A's signaled private
address before A's NAT source latched).

Negative control (one call, AES_CM_128_HMAC_SHA1_80): the relay's keys for
leg B are one bit off the ones in the SDP, both ways. The relay must refuse
all of B's SRTP and SRTCP (srtp-auth), B's libre must refuse every packet
the relay protected (one log line each), neither side may decode the
other's tone; leg A still works. So the relay's and libre's
authentication checks and the tone check are seen to fail when keys
disagree.

Host changes: see nslab.py (namespaces mre2e-<pid>-*, deleted on exit);
baresip's configuration, logs, WAV files and captures go to the test's
temporary directory (BARESIP_E2E_KEEP=DIR keeps a copy). Exit status 77
(meson: skipped) when baresip is not installed (scripts/setup.sh installs
baresip-core). Arguments: suite names run only those calls ("control" the
negative control).
"""
import base64
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nslab as L  # noqa: E402
from nslab import A_PRIV, B_IP, RELAY, Fail, check  # noqa: E402
from harness import MRELAYCTL, Region, main  # noqa: E402
from baresip_lab import (BARESIP, BARESIP_MODULES, SIP_PORT, TONE, Baresip, Capture,  # noqa: E402
                         installed, is_rtcp, ns_socket, plain_rtcp, token, tone_frames,
                         write_tone)

B2BUA_IP = "198.18.0.5"
MEDIA_SECONDS = 6.0             # per call: past both sides' first RTCP report (5 s)

# mrelay's suites: SDES key||salt length, SRTP tag length.
KEYLEN = {"AES_CM_128_HMAC_SHA1_80": 30, "AES_CM_128_HMAC_SHA1_32": 30,
          "AES_256_CM_HMAC_SHA1_80": 46, "AES_256_CM_HMAC_SHA1_32": 46,
          "AEAD_AES_128_GCM": 28, "AEAD_AES_256_GCM": 44}
TAGLEN = {"AES_CM_128_HMAC_SHA1_80": 10, "AES_CM_128_HMAC_SHA1_32": 4,
          "AES_256_CM_HMAC_SHA1_80": 10, "AES_256_CM_HMAC_SHA1_32": 4,
          "AEAD_AES_128_GCM": 16, "AEAD_AES_256_GCM": 16}
# SRTCP tags: 10 bytes with HMAC-SHA1 whatever the SRTP tag (RFC 3711 5.2:
# never shorter than 80 bits for SRTCP), 16 with AEAD (RFC 7714).
SRTCP_TAGLEN = {s: (16 if s.startswith("AEAD") else 10) for s in KEYLEN}
A_SUITE = "AES_CM_128_HMAC_SHA1_80"         # all baresip ever offers

# Drops a call's set-up explains (see the docstring); anything else fails it.
SETUP_DROPS = {"no-leg", "no-nexthop-mac", "malformed"}
# Where a packet from a peer can end before the relay accepts it (counted in
# rx_pkts): mr_pkt_handle() up to the latch. The others (no-nexthop-mac...)
# come after, on packets rx_pkts already counted.
BEFORE_RX_DROPS = ("no-leg", "src-not-latched", "not-rtp", "malformed", "srtp-auth", "srtp-replay",
                   "ssrc-limit", "punt-full", "handoff-full")
SRTP_LOG_ERRORS = re.compile(r"srtp: .*(fail|error|invalid|no valid a=crypto)", re.I)


# --- keys, SDP -----------------------------------------------------------------------

def b64(raw):
    return base64.b64encode(raw).decode()


def sdes_raw(suite, text):
    """The key||salt bytes of an SDES inline key (base64 padding restored
    if it is missing); checks the suite's length."""
    k = text.split("|")[0]
    if k != text:
        raise Fail("%s key with lifetime/MKI parameters %r: not handled" % (suite, text))
    raw = base64.b64decode(k + "=" * (-len(k) % 4), validate=True)
    if len(raw) != KEYLEN[suite]:
        raise Fail("%s key is %d bytes, want %d" % (suite, len(raw), KEYLEN[suite]))
    return raw


def flip(raw):
    """The key with the first bit of the master key inverted."""
    return bytes([raw[0] ^ 0x80]) + raw[1:]


def parse_sdp(text):
    """The one audio stream of an SDP body."""
    out = {"crypto": [], "mux": False, "rtcp": None}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("c=IN IP4 "):
            out.setdefault("addr", line.split()[2])
        elif line.startswith("m=audio "):
            f = line.split()
            out["port"], out["proto"], out["fmts"] = int(f[1]), f[2], f[3:]
        elif line == "a=rtcp-mux":
            out["mux"] = True
        elif line.startswith("a=rtcp:"):
            out["rtcp"] = int(line[7:].split()[0])
        elif line.startswith("a=crypto:"):
            f = line[9:].split()
            if len(f) < 3 or not f[2].startswith("inline:"):
                raise Fail("a=crypto without an inline key: " + line)
            out["crypto"].append((int(f[0]), f[1], f[2][7:]))
    if "port" not in out or "addr" not in out:
        raise Fail("SDP without an audio stream: %r" % text)
    return out


def make_sdp(port, suite, tag, key, mux, sess_id):
    lines = ["v=0", "o=mrelay-b2bua %d 1 IN IP4 %s" % (sess_id, RELAY), "s=mrelay", "c=IN IP4 " + RELAY,
             "t=0 0", "m=audio %d RTP/SAVP 0" % port, "a=rtpmap:0 PCMU/8000", "a=ptime:20",
             "a=sendrecv"]
    lines.append("a=rtcp-mux" if mux else "a=rtcp:%d" % (port + 1))
    lines.append("a=crypto:%d %s inline:%s" % (tag, suite, b64(key)))
    return "\r\n".join(lines) + "\r\n"


# --- SIP (UDP, just what two baresips need) ----------------------------------------

COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
           "c": "content-type", "k": "supported"}


class SipMsg:
    def __init__(self, data):
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        self.start = lines[0]
        self.hdrs = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.hdrs:
                n, v = self.hdrs[-1]
                self.hdrs[-1] = (n, v + " " + line.strip())
                continue
            n, _, v = line.partition(":")
            n = n.strip().lower()
            self.hdrs.append((COMPACT.get(n, n), v.strip()))
        n = int(self.get("content-length") or len(body))
        self.body = body[:n].decode(errors="replace")
        f = self.start.split(" ", 2)
        self.is_response = f[0] == "SIP/2.0"
        self.code = int(f[1]) if self.is_response else None
        self.method = None if self.is_response else f[0]
        self.cseq_method = (self.get("cseq") or " ").split()[-1]

    def get(self, name):
        for n, v in self.hdrs:
            if n == name:
                return v
        return None

    def all(self, name):
        return [v for n, v in self.hdrs if n == name]


def uri_of(nameaddr):
    m = re.search(r"<([^>]*)>", nameaddr)
    return (m.group(1) if m else nameaddr.split(";")[0]).strip()


def tag_of(nameaddr):
    m = re.search(r";\s*tag=([^;>\s]+)", nameaddr)
    return m.group(1) if m else None


class B2bua(threading.Thread):
    """A back-to-back UA for one call at a time: A's INVITE in, an INVITE
    of its own to B, both SDPs rewritten onto the relay, the two legs
    installed before each side gets the SDP that sends media to them.
    BYE from either side is answered and passed on. Runs in its own thread
    on a UDP socket in the sip namespace; errors are kept for the test.
    Call n uses slots 2n (leg A) and 2n + 1 (leg B), never used before, so
    each call's per-slot counters start at zero."""

    def __init__(self, ns, region, tmp):
        super().__init__(name="b2bua", daemon=True)
        self.sock = ns_socket(ns, socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((B2BUA_IP, SIP_PORT))
        self.region = region
        self.tmp = tmp
        self.lock = threading.Lock()
        self.plan = None
        self.call = None
        self.errors = []
        self.stopping = False
        self.trace = open(os.path.join(tmp, "sip.trace"), "w")

    # -- plumbing --

    def run(self):
        while not self.stopping:
            r, _, _ = select.select([self.sock], [], [], 0.1)
            if not r:
                continue
            data, addr = self.sock.recvfrom(65535)
            try:
                msg = SipMsg(data)
                self._log("<<< from %s:%d\n%s" % (addr[0], addr[1], data.decode(errors="replace")))
                with self.lock:
                    if msg.is_response:
                        self.on_response(msg, addr)
                    else:
                        self.on_request(msg, addr)
            except Exception as e:  # reported by the test, never lost
                self.errors.append("%s: %s" % (type(e).__name__, e))

    def stop(self):
        self.stopping = True
        self.join(2)
        self.sock.close()
        self.trace.close()

    def _log(self, text):
        self.trace.write("[%.3f] %s\n" % (time.time(), text))
        self.trace.flush()

    def send(self, text, addr):
        self._log(">>> to %s:%d\n%s" % (addr[0], addr[1], text))
        self.sock.sendto(text.encode(), addr)

    def respond(self, req, addr, code, reason, to_tag=None, body="", contact=True):
        vias = req.all("via")
        top = vias[0]
        if ";rport" in top and "rport=" not in top:       # RFC 3581
            top = top.replace(";rport", ";received=%s;rport=%d" % (addr[0], addr[1]), 1)
        to = req.get("to")
        if to_tag and tag_of(to) is None:
            to += ";tag=" + to_tag
        lines = ["SIP/2.0 %d %s" % (code, reason)] + ["Via: " + v for v in [top] + vias[1:]]
        lines += ["From: " + req.get("from"), "To: " + to, "Call-ID: " + req.get("call-id"),
                  "CSeq: " + req.get("cseq")]
        if contact:
            lines.append("Contact: <sip:b2bua@%s:%d>" % (B2BUA_IP, SIP_PORT))
        if body:
            lines.append("Content-Type: application/sdp")
        lines += ["Content-Length: %d" % len(body.encode()), "", ""]
        text = "\r\n".join(lines) + body
        self.send(text, addr)
        return text

    def request(self, method, ruri, frm, to, call_id, cseq, addr, body=""):
        lines = ["%s %s SIP/2.0" % (method, ruri),
                 "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport" % (B2BUA_IP, SIP_PORT, token()),
                 "Max-Forwards: 70", "From: " + frm, "To: " + to, "Call-ID: " + call_id,
                 "CSeq: %d %s" % (cseq, method), "Contact: <sip:b2bua@%s:%d>" % (B2BUA_IP, SIP_PORT),
                 "User-Agent: mrelay-e2e-b2bua"]
        if body:
            lines.append("Content-Type: application/sdp")
        lines += ["Content-Length: %d" % len(body.encode()), "", ""]
        self.send("\r\n".join(lines) + body, addr)

    def ctl_batch(self, lines):
        """mrelayctl batch: keys go on standard input, never on a command line."""
        p = subprocess.run([MRELAYCTL, "-r", self.region.path, "batch"], input="\n".join(lines) + "\n",
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise Fail("mrelayctl batch: %s" % p.stderr.strip())
        return p.stdout.split()

    # -- the call --

    def expect(self, plan):
        """The next call from A: @plan says the suite for B, B's rtcp-mux,
        the relay ports and whether the relay gets wrong keys for leg B."""
        with self.lock:
            self.plan = plan
            self.call = {"plan": plan, "state": "idle", "slots": [], "t": {}}

    def on_request(self, req, addr):
        c = self.call
        cid = req.get("call-id")
        if req.method == "INVITE":
            if c is None or self.plan is None:
                self.respond(req, addr, 503, "Service Unavailable", token(), contact=False)
                return
            if c.get("a_call_id") == cid:           # a retransmission: the same answer again
                if c.get("a_last") is not None:
                    self.send(c["a_last"], addr)
                return
            if c["state"] != "idle":
                self.respond(req, addr, 486, "Busy Here", token(), contact=False)
                return
            self.invite_from_a(req, addr)
        elif req.method == "ACK":
            if c is not None and cid == c.get("a_call_id"):
                c["t"]["a_ack"] = time.time()
        elif req.method == "BYE":
            self.respond(req, addr, 200, "OK", contact=False)
            if c is None:
                return
            if cid == c.get("a_call_id") and not c.get("b_bye_sent"):
                c["t"]["a_bye"] = time.time()
                c["b_bye_sent"] = True
                self.request("BYE", c["b_contact"], c["b_from"], c["b_to"], c["b_call_id"], 2, c["b_addr"])
            elif cid == c.get("b_call_id") and not c.get("a_bye_sent"):
                c["t"]["b_bye"] = time.time()
                c["a_bye_sent"] = True
                self.request("BYE", c["a_contact"], c["a_local"], c["a_remote"], c["a_call_id"], 1,
                             c["a_addr"])
        elif req.method in ("OPTIONS", "CANCEL"):
            self.respond(req, addr, 200, "OK", contact=False)
        else:
            self.respond(req, addr, 501, "Not Implemented", contact=False)

    def invite_from_a(self, req, addr):
        c, plan = self.call, self.plan
        c.update(state="offered", a_call_id=req.get("call-id"), a_addr=addr, a_req=req,
                 a_contact=uri_of(req.get("contact") or req.get("from")), a_tag=token())
        c["a_local"] = req.get("to") + ";tag=" + c["a_tag"]
        c["a_remote"] = req.get("from")
        c["a_last"] = self.respond(req, addr, 100, "Trying", contact=False)
        c["t"]["a_invite"] = time.time()
        o = parse_sdp(req.body)
        c["a_sdp"] = o
        offered = [(t, s, k) for t, s, k in o["crypto"] if s in KEYLEN]
        if o["proto"] != "RTP/SAVP" or not offered or "0" not in o["fmts"]:
            c["a_last"] = self.respond(req, addr, 488, "Not Acceptable Here", c["a_tag"], contact=False)
            raise Fail("A's offer is not RTP/SAVP with PCMU and a suite mrelay knows: %r" % req.body)
        # Answer A's first suite mrelay knows (baresip offers exactly one).
        a_tag, a_suite, a_key = offered[0]
        c["a_suite"], c["a_crypto_tag"] = a_suite, a_tag
        c["a_in"] = sdes_raw(a_suite, a_key)
        c["a_out"] = os.urandom(KEYLEN[a_suite])
        c["a_mux"] = o["mux"]
        rtcp = o["rtcp"] or o["port"] + 1
        c["a_slot"] = 2 * plan["n"]
        leg = ["leg add", "--slot %d" % c["a_slot"], "--local %s:%d" % (RELAY, plan["ra"]),
               "--peer %s:%d" % (o["addr"], o["port"]),
               "--rtcp-mux" if o["mux"] else "--peer-rtcp %s:%d" % (o["addr"], rtcp),
               "--latch auth", "--call-tag %d" % plan["n"],
               "--in-key %s:%s" % (a_suite, b64(c["a_in"])),
               "--out-key %s:%s" % (a_suite, b64(c["a_out"]))]
        self.ctl_batch([" ".join(leg)])
        c["slots"].append(c["a_slot"])
        # Our own INVITE to B: one suite, our key.
        c.update(b_call_id="%s@%s" % (token(), B2BUA_IP), b_addr=(B_IP, SIP_PORT),
                 b_contact="sip:b@%s:%d" % (B_IP, SIP_PORT), b_to="<sip:b@%s>" % B_IP)
        c["b_from"] = "<sip:a@%s>;tag=%s" % (B2BUA_IP, token())
        c["b_out"] = os.urandom(KEYLEN[plan["suite"]])
        sdp = make_sdp(plan["rb"], plan["suite"], 1, c["b_out"], plan["b_mux"], plan["n"] + 1000)
        c["b_offer"] = sdp
        self.request("INVITE", c["b_contact"], c["b_from"], c["b_to"], c["b_call_id"], 1, c["b_addr"],
                     body=sdp)
        c["t"]["b_invite"] = time.time()

    def on_response(self, rsp, addr):
        c = self.call
        if c is None or rsp.get("call-id") != c.get("b_call_id"):
            return
        if rsp.cseq_method == "INVITE":
            if rsp.code < 200:
                return
            if rsp.code >= 300:
                c["state"] = "failed"
                c["a_last"] = self.respond(c["a_req"], c["a_addr"], rsp.code, "Passed on", c["a_tag"],
                                           contact=False)
                raise Fail("B refused the INVITE: %s" % rsp.start)
            c["b_to"] = rsp.get("to")
            c["b_contact"] = uri_of(rsp.get("contact") or c["b_contact"])
            self.request("ACK", c["b_contact"], c["b_from"], c["b_to"], c["b_call_id"], 1, c["b_addr"])
            if c["state"] != "offered":
                return                              # a retransmitted 200: ACKed again, nothing more
            c["t"]["b_200"] = time.time()
            self.answer_a(c, parse_sdp(rsp.body))

    def answer_a(self, c, ans):
        plan = self.plan
        c["b_sdp"] = ans
        suites = [(t, s, k) for t, s, k in ans["crypto"]]
        if ans["proto"] != "RTP/SAVP" or len(suites) != 1 or suites[0][1] != plan["suite"]:
            raise Fail("B's answer is not RTP/SAVP with one a=crypto of %s: %r" % (plan["suite"], ans))
        c["b_in"] = sdes_raw(plan["suite"], suites[0][2])
        c["b_mux"] = ans["mux"]
        in_key, out_key = c["b_in"], c["b_out"]
        if plan["wrong_keys"]:                      # the negative control
            in_key, out_key = flip(in_key), flip(out_key)
        rtcp = ans["rtcp"] or ans["port"] + 1
        # B has been sending since it answered: its leg feeds A from the
        # start (--egress), so none of its packets meets a leg without egress.
        c["b_slot"] = 2 * plan["n"] + 1
        leg = ["leg add", "--slot %d" % c["b_slot"], "--egress %d" % c["a_slot"],
               "--local %s:%d" % (RELAY, plan["rb"]), "--peer %s:%d" % (ans["addr"], ans["port"]),
               "--rtcp-mux" if ans["mux"] else "--peer-rtcp %s:%d" % (ans["addr"], rtcp),
               "--latch auth", "--call-tag %d" % plan["n"],
               "--in-key %s:%s" % (plan["suite"], b64(in_key)),
               "--out-key %s:%s" % (plan["suite"], b64(out_key))]
        c["slots"].append(c["b_slot"])
        self.ctl_batch([" ".join(leg), "leg pair %d %d" % (c["a_slot"], c["b_slot"])])
        L.sync(self.region)
        c["t"]["legs"] = time.time()
        sdp = make_sdp(plan["ra"], c["a_suite"], c["a_crypto_tag"], c["a_out"], c["a_mux"], plan["n"] + 2000)
        c["a_answer"] = sdp
        c["a_last"] = self.respond(c["a_req"], c["a_addr"], 200, "OK", c["a_tag"], body=sdp)
        c["state"] = "answered"


# --- baresip ----------------------------------------------------------------------------

def baresip_suites():
    """The suite names baresip's srtp module carries, among mrelay's."""
    path = os.path.join(BARESIP_MODULES, "srtp.so")
    with open(path, "rb") as f:
        data = f.read()
    return [s for s in KEYLEN if re.search(re.escape(s.encode()) + b"\x00", data)]


# --- captures -----------------------------------------------------------------------------

RTCP_APP = 204
RTCP_SR = 200
PING_LEN = 16                   # libre's RTCP APP "PING"/"PONG" (see the docstring)


def classify(pkts, until):
    """What went each way between a client and the relay up to time
    @until: "to" is from the relay to the client, "from" the other way.
    Per direction: RTP packets and their lengths, SRTCP packets, those that
    are sender reports, plain RTCP packets, and the SRTCP tag length of
    each protected APP "PING" (its plain text is 16 bytes, so the tag is
    what the 4-byte SRTCP index leaves over)."""
    c = {}
    for d in ("to", "from"):
        c.update({d + "_rtp": 0, d + "_rtp_len": set(), d + "_srtcp": 0, d + "_sr": 0,
                  d + "_plain_rtcp": 0, d + "_app_tags": set(), d + "_srtcp_times": [],
                  d + "_plain_times": [], d + "_rtp_times": []})
    for t, src, _sp, dst, _dp, p in pkts:
        if t > until:
            break
        if RELAY not in (src, dst):
            continue
        d = "to" if src == RELAY else "from"
        if not is_rtcp(p):
            c[d + "_rtp"] += 1
            c[d + "_rtp_len"].add(len(p))
            c[d + "_rtp_times"].append(t)
        elif plain_rtcp(p):
            c[d + "_plain_rtcp"] += 1
            c[d + "_plain_times"].append(t)
        else:
            c[d + "_srtcp"] += 1
            c[d + "_srtcp_times"].append(t)
            c[d + "_sr"] += p[1] == RTCP_SR
            if p[1] == RTCP_APP and struct.unpack_from("!H", p, 2)[0] == PING_LEN // 4 - 1:
                c[d + "_app_tags"].add(len(p) - PING_LEN - 4)
    return c


# --- the test -----------------------------------------------------------------------------

def settled_stats(region, timeout=5.0):
    """mrelayctl stats once the relay has nothing left to do: two reads
    0.1 s apart whose packet and drop counters agree."""
    def key(st):
        return (json.dumps(st.get("drops_total"), sort_keys=True),
                [(x["slot"], x["rx_pkts"], x["tx_pkts"], x["drop_src"], x["drop_auth"], x["drop_other"])
                 for x in st["legs"]])

    deadline = time.monotonic() + timeout
    prev = key(region.stats())
    while True:
        time.sleep(0.1)
        st = region.stats()
        if key(st) == prev:
            return st
        if time.monotonic() > deadline:
            raise Fail("the relay's counters still move %.0f s after the media stopped" % timeout)
        prev = key(st)


def span(bounds):
    """A count known within bounds, as text."""
    lo, hi = bounds
    return "%d" % lo if lo == hi else "%d..%d" % (lo, hi)


def leg_ctr(stats, slot):
    return {x["slot"]: x for x in stats["legs"]}.get(slot, {})


def delta(a, b, keys=("rx_pkts", "tx_pkts", "drop_src", "drop_auth", "drop_other")):
    return {k: a.get(k, 0) - b.get(k, 0) for k in keys}


def drops_delta(after, before):
    d1, d0 = after.get("drops_total", {}), before.get("drops_total", {})
    return {k: d1[k] - d0.get(k, 0) for k in d1 if d1[k] != d0.get(k, 0)}


class Call:
    def __init__(self, n, suite, a_mux, b_mux, wrong_keys=False):
        self.n, self.suite, self.a_mux, self.b_mux, self.wrong = n, suite, a_mux, b_mux, wrong_keys
        self.name = "control-wrong-keys/%s" % suite if wrong_keys else suite
        self.ra = 30000 + 10 * n
        self.rb = self.ra + 4

    def mux_text(self):
        return "A %s, B %s" % ("rtcp-mux" if self.a_mux else "RTCP on port + 1",
                               "rtcp-mux" if self.b_mux else "RTCP on port + 1")


def run_call(tmp, lab, topo, region, b2bua, call):
    """One call, A to B through the B2BUA; returns what was observed, up
    to the freeze before the hangup (see the docstring at the top)."""
    print("# --- call %d: %s (leg A %s, leg B %s; %s)" % (call.n, call.name, A_SUITE, call.suite,
                                                         call.mux_text()))
    cdir = os.path.join(tmp, "call%d" % call.n)
    for ns in (topo.cA, topo.cB):          # the relay learns both next hops (ARP) before media
        L.sh("ping", "-c", "1", "-W", "2", RELAY, ns=ns)
    b2bua.expect({"n": call.n, "suite": call.suite, "b_mux": call.b_mux, "ra": call.ra, "rb": call.rb,
                  "wrong_keys": call.wrong})
    ua = {"A": Baresip(lab, topo.cA, "A", A_PRIV, os.path.join(cdir, "a"), os.path.join(tmp, "a.wav"),
                       call.a_mux),
          "B": Baresip(lab, topo.cB, "B", B_IP, os.path.join(cdir, "b"), os.path.join(tmp, "b.wav"),
                       call.b_mux)}
    caps = {}
    frozen = []
    o = {"call": call}
    try:
        for u in ua.values():
            u.connect()
        caps = {"A": Capture(lab, topo.cA, os.path.join(cdir, "a.pcap")),
                "B": Capture(lab, topo.cB, os.path.join(cdir, "b.pcap"))}
        s0 = region.stats()
        t_dial = time.monotonic()
        ua["A"].command("dial", "sip:b@%s" % B2BUA_IP)
        for u in ua.values():
            u.wait(lambda e: e.get("event") and e.get("type") == "CALL_ESTABLISHED", "CALL_ESTABLISHED", 10)
        t_up = time.monotonic()
        print("# call established %.0f ms after the dial" % ((t_up - t_dial) * 1000))
        # Each side's first RTCP report leaves 5 s after its stream started:
        # wait a second more, and up to three more for a side that has not
        # taken a report yet (a starved machine; or it never will, below).
        ua["A"].pump(max(0.0, MEDIA_SECONDS - (time.monotonic() - t_up)))
        for u in ua.values():
            while not call.wrong and not u.event("CALL_RTCP") and time.monotonic() - t_up < MEDIA_SECONDS + 3:
                u.pump(0.1)
        o["secs"] = time.monotonic() - t_up
        # Freeze: from here the baresips' kernels drop what they send the
        # relay (before tcpdump sees it), and once the relay has drained,
        # its counters, the captures, baresip's events and its log all
        # describe the same packets, however late a starved thread was.
        for ns in (topo.cA, topo.cB):
            L.sh("iptables", "-I", "OUTPUT", "-d", RELAY, "-j", "DROP", ns=ns)
            frozen.append(ns)
        o["s1"] = s1 = settled_stats(region)
        o["legs"] = {x["slot"]: x for x in region.legs()["legs"]}
        for u in ua.values():               # ctrl_tcp events wait until read
            u.pump(0.05)
        cut = {k: len(u.events) for k, u in ua.items()}
        log_cut = {k: os.path.getsize(u.log_path) for k, u in ua.items()}
        o["t_s1"] = time.time()
        ua["A"].command("hangup")
        for u in ua.values():
            u.wait(lambda e: e.get("event") and e.get("type") == "CALL_CLOSED", "CALL_CLOSED", 10)
        time.sleep(0.3)
        o["teardown"] = drops_delta(region.stats(), s1)
    finally:
        for u in ua.values():
            u.quit()
        pkts = {k: c.stop() for k, c in caps.items()}
        for ns in frozen:
            L.sh("iptables", "-D", "OUTPUT", "-d", RELAY, "-j", "DROP", ns=ns, check_rc=False)
        c = b2bua.call or {}
        b2bua.expect(None)
        for slot in c.get("slots", []):
            region.ctl("leg", "del", slot, ok=False)
        L.sync(region)
    check(not b2bua.errors and c.get("state") == "answered",
          "%s: the B2BUA connected the call (%s)" % (call.name, b2bua.errors))
    # The captures are compared with the relay's counters: they must be whole.
    check(all(x.kernel_drops == 0 for x in caps.values()),
          "%s: tcpdump missed nothing (%s)" % (call.name, {k: x.kernel_drops for k, x in caps.items()}))
    o["c"], o["ua"] = c, ua
    a, b = c["a_slot"], c["b_slot"]
    o["d"] = {"A": delta(leg_ctr(s1, a), leg_ctr(s0, a)), "B": delta(leg_ctr(s1, b), leg_ctr(s0, b))}
    o["leg"] = {"A": o["legs"].get(a, {}), "B": o["legs"].get(b, {})}
    o["drops"] = drops_delta(s1, s0)
    logs = {k: u.log_text(log_cut[k]) for k, u in ua.items()}
    o["menc"] = {k: [e.get("param") for e in u.event("CALL_MENC")] for k, u in ua.items()}
    o["rtcp_ev"] = {k: sum(1 for e in u.events[:cut[k]] if e.get("event") and e.get("type") == "CALL_RTCP")
                    for k, u in ua.items()}
    o["rtp_err"] = {k: len(re.findall(r"srtp: failed to decrypt RTP", logs[k])) for k in ua}
    o["rtcp_err"] = {k: len(re.findall(r"srtp: failed to decrypt RTCP", logs[k])) for k in ua}
    o["srtp_err"] = {k: [ln for ln in logs[k].splitlines() if SRTP_LOG_ERRORS.search(ln)] for k in ua}
    other = {"A": "B", "B": "A"}
    o["hears"] = {k: tone_frames(ua[k].dump("dec"), TONE[other[k]], TONE[k]) for k in ua}
    o["own"] = {k: tone_frames(ua[k].dump("enc"), TONE[k], TONE[other[k]]) for k in ua}
    o["wire"] = {k: classify(pkts[k], o["t_s1"]) for k in ua}
    o["suite"] = {"A": A_SUITE, "B": call.suite}
    report(o)
    return o


def report(o):
    call, c = o["call"], o["c"]
    print("# media %.1f s; leg A slot %d (%s:%d), leg B slot %d (%s:%d)" % (
        o["secs"], c["a_slot"], RELAY, call.ra, c["b_slot"], RELAY, call.rb))
    for k, u in o["ua"].items():
        w, (got, wrong, loud, frames), own = o["wire"][k], o["hears"][k], o["own"][k]
        print("# baresip %s (%s): CALL_MENC %s; %d RTCP packets accepted; %d SRTP, %d SRTCP decrypt failures"
              % (k, o["suite"][k], o["menc"][k], o["rtcp_ev"][k], o["rtp_err"][k], o["rtcp_err"][k]))
        print("#   decoded: %d of %d frames with signal are the other's tone, %d its own (%d frames); "
              "encoded: %d of %d its own" % (got, loud, wrong, frames, own[0], own[2]))
        for d, what in (("from", "to the relay"), ("to", "from the relay")):
            print("#   %s: %d RTP (lengths %s), %d SRTCP (%d SR, APP tag %s), %d plain RTCP"
                  % (what, w[d + "_rtp"], sorted(w[d + "_rtp_len"]), w[d + "_srtcp"], w[d + "_sr"],
                     sorted(w[d + "_app_tags"]), w[d + "_plain_rtcp"]))
        leg = o["leg"][k]
        print("#   relay leg %s: %s; latched rtp %s rtcp %s" % (k, o["d"][k], leg.get("latched_rtp"),
                                                                   leg.get("latched_rtcp")))
        for ln in o["srtp_err"][k][:2]:
            print("#   log: %s" % re.sub(r"\x1b\[[0-9;]*m", "", ln))     # without colours
    print("# relay drops during the call %s; at the hangup %s" % (o["drops"], o["teardown"]))


def short_srtcp_tag(o, name):
    """The sides whose SRTCP carries libre's tag, not RFC 3711's. libre
    protects SRTCP with its SRTP tag length: 4 bytes under the _32 suites,
    where RFC 3711 5.2 says an HMAC-SHA1 SRTCP tag MUST NOT be shorter
    than 80 bits, as libsrtp, rtpengine and mrelay do. So
    SRTCP cannot pass between such a side and the relay, either way; SRTP
    is not affected. The tag is measured on the wire, never assumed: any
    other mismatch fails."""
    short = set()
    for k in ("A", "B"):
        suite, tags = o["suite"][k], o["wire"][k]["from_app_tags"]
        check(len(tags) == 1 and tags <= {SRTCP_TAGLEN[suite], TAGLEN[suite]},
              "%s: baresip %s protects SRTCP with a %s-byte tag (%s: RFC 3711 says %d)"
              % (name, k, "/".join(map(str, sorted(tags))) or "no", suite, SRTCP_TAGLEN[suite]))
        if tags != {SRTCP_TAGLEN[suite]}:
            print("# NOTE %s: baresip %s protects SRTCP with the %d-byte SRTP tag of %s, not the %d bytes "
                  "RFC 3711 5.2 requires: no SRTCP can pass between it and the relay (known libre "
                  "deviation; SRTP is unaffected)" % (name, k, TAGLEN[suite], suite, SRTCP_TAGLEN[suite]))
            short.add(k)
    return short


def check_call(o):
    """The checks of a call with the right keys (see the docstring)."""
    call, c, name = o["call"], o["c"], o["call"].name
    check(o["menc"]["A"] == ["0,audio,%s" % A_SUITE] and o["menc"]["B"] == ["0,audio,%s" % call.suite],
          "%s: baresip A secured the call with %s, B with %s" % (name, A_SUITE, call.suite))
    check(c["a_mux"] == call.a_mux and c["b_mux"] == call.b_mux,
          "%s: RTCP as planned: %s" % (name, call.mux_text()))
    short = short_srtcp_tag(o, name)
    for k in ("A", "B"):
        other = "B" if k == "A" else "A"
        got, wrong, loud, _ = o["hears"][k]
        w, suite = o["wire"][k], o["suite"][k]
        check(o["own"][k][0] >= 60, "%s: baresip %s encoded its own %g Hz tone" % (name, k, TONE[k]))
        # -- SRTP --
        check(got >= 60 and got >= 0.9 * loud and wrong == 0,
              "%s: baresip %s decoded %s's %g Hz tone through the relay (%d of %d loud 50-ms frames)"
              % (name, k, other, TONE[other], got, loud))
        check(o["rtp_err"][k] == 0, "%s: baresip %s decrypted every SRTP packet from the relay" % (name, k))
        want = {12 + 160 + TAGLEN[suite]}
        check(w["to_rtp"] > 0 and w["to_rtp_len"] == want and w["from_rtp"] > 0 and w["from_rtp_len"] == want,
              "%s: RTP between %s and the relay is SRTP with the %d-byte %s tag both ways (%d to, %d from %s)"
              % (name, k, TAGLEN[suite], suite, w["to_rtp"], w["from_rtp"], k))
        # -- SRTCP --
        check(w["from_srtcp"] >= 1 and w["from_sr"] >= 1,
              "%s: baresip %s sent the relay SRTCP (%d packets, %d sender reports)"
              % (name, k, w["from_srtcp"], w["from_sr"]))
        check(w["to_plain_rtcp"] == 0 and w["to_app_tags"] <= {SRTCP_TAGLEN[suite]},
              "%s: what the relay sent %s as RTCP was SRTCP with the %d-byte tag (%d packets)"
              % (name, k, SRTCP_TAGLEN[suite], w["to_srtcp"]))
        if other not in short:
            check(w["to_sr"] >= 1, "%s: %s's sender reports reached %s through the relay (%d)"
                  % (name, other, k, w["to_sr"]))
        if k in short:
            check(o["rtcp_ev"][k] == 0 and o["rtcp_err"][k] == w["to_srtcp"],
                  "%s: baresip %s refused each of the relay's %d SRTCP packets (RFC tag length)"
                  % (name, k, w["to_srtcp"]))
        else:
            # ctrl_tcp reports each RTCP packet libre took (CALL_RTCP);
            # libre logs each one it could not decrypt.
            check(o["rtcp_ev"][k] == w["to_srtcp"] and o["rtcp_err"][k] == 0,
                  "%s: baresip %s decrypted all %d SRTCP packets from the relay (%d sender reports)"
                  % (name, k, w["to_srtcp"], w["to_sr"]))
    # -- the relay --
    d, drops, leg, t_legs = o["d"], o["drops"], o["leg"], c["t"]["legs"]
    w = o["wire"]

    def sent(k, kinds, until=None):
        """Packets of these kinds baresip k sent the relay (up to @until)."""
        return sum(1 for kind in kinds for t in w[k]["from_%s_times" % kind] if until is None or t <= until)

    # Counters against the captures. Every packet the relay counted as sent
    # to a baresip arrived there, and nothing else came from the relay.
    for k in ("A", "B"):
        check(d[k]["tx_pkts"] == w[k]["to_rtp"] + w[k]["to_srtcp"] >= 250,
              "%s: every packet relay leg %s sent reached baresip %s (tx_pkts %d, on the wire %d)"
              % (name, k, k, d[k]["tx_pkts"], w[k]["to_rtp"] + w[k]["to_srtcp"]))
    # Every packet a baresip sent the relay was accepted (rx_pkts) or
    # refused before that, with a reason; nothing was lost unaccounted.
    total = sent("A", ("rtp", "srtcp", "plain")) + sent("B", ("rtp", "srtcp", "plain"))
    before_rx = {r: drops[r] for r in BEFORE_RX_DROPS if drops.get(r)}
    check(total == d["A"]["rx_pkts"] + d["B"]["rx_pkts"] + sum(before_rx.values()),
          "%s: each of the %d packets the baresips sent the relay was accepted (%d + %d) or refused %s"
          % (name, total, d["A"]["rx_pkts"], d["B"]["rx_pkts"], before_rx))
    # Accepted: all of a baresip's SRTP, and its SRTCP when the tag is the
    # RFC's, except what came before its leg existed (no-leg; a packet
    # sent while the leg was being installed may have been in time).
    for k in ("A", "B"):
        kinds = ("rtp",) if k in short else ("rtp", "srtcp")
        n_auth, early = sent(k, kinds), sent(k, kinds, t_legs)
        check(n_auth - early <= d[k]["rx_pkts"] <= n_auth,
              "%s: relay leg %s accepted every SRTP%s packet of baresip %s (rx_pkts %d of %d, %d of them "
              "sent before the legs were in place)"
              % (name, k, "" if k in short else " and SRTCP", k, d[k]["rx_pkts"], n_auth, early))
    ok_sides = [k for k in ("A", "B") if k not in short]
    check(all(d[k]["drop_auth"] == 0 for k in ok_sides)
          and (short or not drops.get("srtp-auth") and not drops.get("srtp-replay")),
          "%s: no SRTP%s packet of %s failed authentication or the replay check (drop_auth %s, %s)"
          % (name, "" if short else " or SRTCP", " or ".join(ok_sides), [d[k]["drop_auth"] for k in ok_sides],
             {r: drops.get(r, 0) for r in ("srtp-auth", "srtp-replay")}))
    # Refused once the legs existed: libre's plain RTCP PING (malformed:
    # too short for SRTCP) and short-tagged SRTCP (srtp-auth, srtp-replay
    # or malformed: libsrtp reads the trailer from the wrong place).
    lo = sum(sent(k, ("plain",)) - sent(k, ("plain",), t_legs) for k in ("A", "B")) + \
        sum(sent(k, ("srtcp",)) - sent(k, ("srtcp",), t_legs) for k in short)
    hi = sent("A", ("plain",)) + sent("B", ("plain",)) + sum(sent(k, ("srtcp",)) for k in short)
    refused = sum(drops.get(r, 0) for r in ("malformed", "srtp-auth", "srtp-replay"))
    check(lo <= refused <= hi,
          "%s: what the relay refused once the legs were in place is the baresips' plain RTCP%s (%d; "
          "on the wire %s)" % (name, " and short-tagged SRTCP" if short else "", refused, span((lo, hi))))
    check(drops.get("no-leg", 0) <= sent("A", ("rtp", "srtcp", "plain"), t_legs) +
          sent("B", ("rtp", "srtcp", "plain"), t_legs),
          "%s: no-leg drops (%d) are packets sent before the legs were in place"
          % (name, drops.get("no-leg", 0)))
    allowed = SETUP_DROPS | ({"srtp-auth", "srtp-replay"} if short else set())
    extra = {k: v for k, v in drops.items() if k not in allowed}
    check(not extra, "%s: no drop the call's set-up does not explain (%s)" % (name, extra))
    check(all(leg[k].get("latched_rtp") for k in leg),
          "%s: both legs latched on authenticated SRTP (%s, %s)"
          % (name, leg["A"].get("latched_rtp"), leg["B"].get("latched_rtp")))
    sep = [k for k, mux in (("A", call.a_mux), ("B", call.b_mux)) if not mux and k not in short]
    check(all(leg[k].get("latched_rtcp") for k in sep),
          "%s: legs with an RTCP port latched on authenticated SRTCP (%s)"
          % (name, {k: leg[k].get("latched_rtcp") for k in sep}))


def check_control(o):
    """The negative control: the relay's keys for leg B are one bit off."""
    name, d, drops, w, t_legs = o["call"].name, o["d"], o["drops"], o["wire"], o["c"]["t"]["legs"]
    # All of B's SRTP and SRTCP that found its leg failed authentication
    # (what B sent before the leg was in place may have been no-leg).
    times = w["B"]["from_rtp_times"] + w["B"]["from_srtcp_times"]
    lo, hi = sum(1 for x in times if x > t_legs), len(times)
    check(100 <= lo <= d["B"]["drop_auth"] <= hi and drops.get("srtp-auth", 0) == d["B"]["drop_auth"]
          and d["B"]["rx_pkts"] == 0 and not o["leg"]["B"].get("latched_rtp"),
          "%s: the relay refused each of B's SRTP and SRTCP packets (leg B drop_auth %d, on the wire %s; "
          "rx %d, not latched)" % (name, d["B"]["drop_auth"], span((lo, hi)), d["B"]["rx_pkts"]))
    check(d["A"]["rx_pkts"] == w["A"]["from_rtp"] + w["A"]["from_srtcp"] >= 100 and d["A"]["drop_auth"] == 0,
          "%s: leg A still accepted each of A's packets (%d)" % (name, d["A"]["rx_pkts"]))
    check(o["hears"]["A"][0] == 0 and o["rtcp_ev"]["A"] == 0 and w["A"]["to_rtp"] == 0,
          "%s: A got nothing of B (%d RTP, %d tone frames, %d RTCP accepted)"
          % (name, w["A"]["to_rtp"], o["hears"]["A"][0], o["rtcp_ev"]["A"]))
    # The relay went on protecting A's media for B with a key B was not
    # given: one failure in B's log per packet, and no tone.
    check(w["B"]["to_rtp"] >= 100 and o["rtp_err"]["B"] == w["B"]["to_rtp"]
          and o["rtcp_err"]["B"] == w["B"]["to_srtcp"] >= 1
          and o["hears"]["B"][0] == 0 and o["rtcp_ev"]["B"] == 0,
          "%s: B's libre refused every packet the relay protected with the wrong key (%d of %d SRTP, "
          "%d of %d SRTCP) and decoded no tone"
          % (name, o["rtp_err"]["B"], w["B"]["to_rtp"], o["rtcp_err"]["B"], w["B"]["to_srtcp"]))


def plan(suites, only):
    # rtcp-mux on A / on B per call: each combination once over the four suites.
    mux = [(False, False), (True, True), (False, True), (True, False)]
    calls = [Call(i + 1, s, *mux[i % len(mux)]) for i, s in enumerate(suites)]
    calls.append(Call(len(calls) + 1, A_SUITE, False, False, wrong_keys=True))
    if only:
        calls = [c for c in calls if any(c.name.startswith(o) or (o == "control" and c.wrong) for o in only)]
    return calls


def test_baresip_srtp(tmp, only=()):
    t0 = time.monotonic()
    suites = baresip_suites()
    lacking = [s for s in KEYLEN if s not in suites]
    version = subprocess.run([BARESIP, "-h"], capture_output=True, text=True).stdout.split()[1:2]
    print("# baresip %s: its srtp module implements %s; of mrelay's suites it lacks %s"
          % (" ".join(version), ", ".join(suites), ", ".join(lacking) or "none"))
    check(A_SUITE in suites, "baresip implements %s, the suite it offers" % A_SUITE)
    for tool in ("tcpdump", "stdbuf", "ping"):
        if shutil.which(tool) is None:
            raise Fail("%s is missing (scripts/setup.sh installs it)" % tool)
    for k in TONE:
        write_tone(os.path.join(tmp, "%s.wav" % k.lower()), TONE[k])
    calls = plan(suites, only)
    results = []
    with L.Lab() as lab:
        topo = L.Topo(lab, nat=True)
        # The B2BUA's own namespace on the bridge (nslab's namespaces stay
        # as every e2e test has them).
        sip = lab.ns("sip")
        lab.veth("eth0", sip, "p-sip", topo.br)
        L.sh("ip", "link", "set", "p-sip", "master", "br0", ns=topo.br)
        lab.addr(sip, "eth0", B2BUA_IP + "/24")
        region = Region(tmp)
        dp = lab.dataplane(topo.dp, "baresip", L.dp_config(tmp), tmp)
        L.start_dp(dp, region)
        b2bua = B2bua(sip, region, tmp)
        b2bua.start()
        lab.undo.append(b2bua.stop)
        for call in calls:
            try:
                o = run_call(tmp, lab, topo, region, b2bua, call)
                if call.wrong:
                    check_control(o)
                else:
                    check_call(o)
            except Fail as e:
                print("not ok -", e)
                results.append((call.name, False))
            else:
                results.append((call.name, True))
            b2bua.errors.clear()
        bad = {k: v for k, v in region.drops().items() if k in ("tx-full", "handoff-full", "punt-full",
                                                                 "state-torn", "ssrc-limit", "no-tailroom")}
        check(not bad, "the relay never ran out of room (%s)" % bad)
        check(dp.stop() == 0, "mrelay-dp exits 0")
    print("# %d of %d calls passed in %.0f s" % (sum(ok for _, ok in results), len(results),
                                                 time.monotonic() - t0))
    for n, ok in results:
        print("#   %-4s %s" % ("ok" if ok else "FAIL", n))
    failed = [n for n, ok in results if not ok]
    check(results and not failed, "every call passed (failed: %s)" % failed)


if __name__ == "__main__":
    if not installed():
        print("# SKIP: baresip is not installed (%s); scripts/setup.sh installs baresip-core" % BARESIP)
        sys.exit(77)
    only = sys.argv[1:]

    def baresip_srtp(tmp):
        try:
            test_baresip_srtp(tmp, only)
        finally:
            if os.environ.get("BARESIP_E2E_KEEP"):     # debugging: keep logs, WAVs, captures
                shutil.copytree(tmp, os.environ["BARESIP_E2E_KEEP"], dirs_exist_ok=True)
    main([baresip_srtp])
