#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""mrelay's NG front-end driven by Debian's rtpengine-ng-client (rtpengine-utils).

  media    rtpengine-ng-client offers and answers through mrelay-cp's NG
           socket: the rewritten SDPs carry the relay's address and ports,
           a=crypto, a=rtcp-mux, port 0 for a BFCP (TCP) m-line; then
           srtp_peer (keys taken from the SDPs) streams SRTP and SRTCP both
           ways through mrelay-dp, and each side must receive the other's
           RTCP: an SRTP<->SRTP call, and an RTP(PSTN)<->SRTP call
           (direction = [ pstn, wan ], plain RTP and RTCP only on the
           interface marked pstn, SRTCP on the other). query shows the
           counters; delete frees everything.
  answer_restart
           the offer is made, mrelay-cp is killed (-9) and restarted, and
           the answer goes to the new process: it answers from the NG state
           it journaled (the relay's key towards the caller read from the
           slot), and media (SRTP and SRTCP) flows both ways as in 'media'.
  keychange
           key change by re-offer (RFC 4568 section 7.1.4) with media
           flowing: A streams SRTP to B with key K1; A re-offers with K2
           while still sending with K1, the answer comes, a moment later A
           switches to K2 (srtp_peer --tx-key2/--tx-switch-file). Every
           packet A sent before, during and after reaches B (no loss, no
           srtp-auth drop), and the relay's keys in both SDPs never change.
           Then a re-offer and answer with the unchanged key K2 while A
           sends: A's slot is not written (same generation). old_key_s = 2:
           once that is over after the answer, A's slot holds K2 only, and
           packets with K1 are dropped as srtp-auth.

RTCP. srtp_peer sends its RTCP (an SR every 10 packets) from its one
socket to the relay's RTP port, i.e. it multiplexes (RFC 5761), so both
SDPs say a=rtcp-mux. Without it (as before) the relay rightly sent each
side's RTCP to the other's RTP port + 1, where no peer listened, and the
peers reported rtcp_received 0.
  protocol no dataplane: errors (bad bencode, unknown call, DTLS-SRTP, plain
           RTP from a non-PSTN interface, SDES-off, transcoding flags),
           the retransmission cache (same cookie, same bytes), an offer
           repeated with a new cookie (same ports and keys), NG over TCP,
           list, statistics, block/unblock media.
  churn    10,000 calls offered, answered and deleted over NG with the
           dataplane running: nothing left (calls, legs, ports, slots,
           journal), also after a restart.
  ipv6     IPv4<->IPv6 bridging: B also has an IPv6 address (2001:2::11,
           RFC 5180's benchmarking range) and mrelay-dp 2001:2::2 beside
           198.18.0.2. A (IPv4, behind the NAT) offers with "address
           family" IP6: the offer to B is IP6 throughout (o=, c=), B answers
           from IPv6 and the answer to A is IP4; then the other way, B
           offers from IPv6 with "address family" IP4 and A answers. SRTP
           and SRTCP flow both ways through mrelay-dp in each call, and the
           relay legs are one IPv4 and one IPv6.
  ice      ICE=force: A offers with ICE, the offer to B and the answer to A
           are ICE-lite (a=ice-lite, the relay's own ufrag/pwd, one host
           candidate: the relay), each peer's connectivity checks
           (tests/tools/stun_client.py: USERNAME, MESSAGE-INTEGRITY,
           FINGERPRINT, USE-CANDIDATE) are answered by mrelay-dp with those
           credentials (A's XOR-MAPPED-ADDRESS is its NAT's public address),
           a check with a wrong password gets no answer and is counted
           (stun-auth), the nominations latch, and SRTP flows both ways.

Topology (nslab.Topo, as cp_restart.py; mrelay-cp and the NG clients run in
the host namespace, NG on 127.0.0.1):

  cA 198.18.1.10 --[ nat: MASQUERADE to 198.18.0.20 ]--+
                                                       |
  cB 198.18.0.11 -------------------------[ bridge ]---+-- dp0 [ mrelay-dp, relay 198.18.0.2 ]
                                                              ^ region file (tmp)
     rtpengine-ng-client --NG udp 127.0.0.1--> mrelay-cp -----+

Host changes: see nslab.py (namespaces mre2e-<pid>-*, deleted on exit).
Exit status 77 (skipped) without rtpengine-ng-client.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nslab as L  # noqa: E402
from nslab import A_PRIV, B_IP, RELAY, Fail, check  # noqa: E402
from harness import main  # noqa: E402
from cp_restart import ControlPlane, CpRegion, active_slots, cp_lab  # noqa: E402
from rtpengine_srtp import bencode, bdecode  # noqa: E402

NG_CLIENT = shutil.which("rtpengine-ng-client")
SRTP_PEER = os.environ.get("SRTP_PEER", "build/tests/tools/srtp_peer")
STUN_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "stun_client.py")
NG_PORT, NG_TCP_PORT = 22230, 22231
COUNT = 200
RTCP_EVERY = 10
# SRs each side must get: one every RTCP_EVERY packets, less a few lost
# while the legs latch (the RTP stream may lose up to 20 packets too).
RTCP_MIN = COUNT // RTCP_EVERY - 4
MAX_LEGS = 1024


def cp_config(tmp, old_key_s=None):
    return """
region = { path = "%(tmp)s/region"; max_legs = %(legs)d; max_workers = 4; };
interfaces = (
	{ name = "wan"; addresses = [ "198.18.0.2" ]; port_min = 30000; port_max = 37999; },
	{ name = "pstn"; addresses = [ "198.18.0.2" ]; port_min = 38000; port_max = 39999; pstn = true; }
);
admin = { socket = "%(tmp)s/cp.sock"; };
state_dir = "%(tmp)s/state";
timeouts = { media_idle_s = 120; offer_s = 120; call_max_s = 3600;%(old_key)s };
ng = { udp = [ "127.0.0.1:%(udp)d" ]; tcp = [ "127.0.0.1:%(tcp)d" ]; };
""" % {"tmp": tmp, "legs": MAX_LEGS, "udp": NG_PORT, "tcp": NG_TCP_PORT,
       "old_key": "" if old_key_s is None else " old_key_s = %d;" % old_key_s}


def sdp(addr, port, proto, crypto=None, bfcp=False, mux=False):
    s = ("v=0\r\no=- 4711 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
         "m=audio %d %s 0 8\r\na=sendrecv\r\n" % (addr, addr, port, proto))
    if mux:
        s += "a=rtcp-mux\r\n"
    if crypto:
        s += "a=crypto:1 %s inline:%s\r\n" % crypto
    if bfcp:
        s += "m=application 5070 TCP/BFCP *\r\na=setup:actpass\r\na=connection:new\r\n"
    return s


def key(seed, n=30):
    return base64.b64encode(bytes((seed * 31 + i * 7 + 3) & 0xFF for i in range(n))).decode()


def ng_client(cmd, *args, ok=True):
    """rtpengine-ng-client CMD ARGS against mrelay's NG socket: (rc, new SDP, output)."""
    p = subprocess.run([NG_CLIENT, "--proxy-port=%d" % NG_PORT, cmd] + list(args),
                       capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    if ok and p.returncode != 0:
        raise Fail("rtpengine-ng-client %s: %s" % (cmd, out.strip()[-400:]))
    m = re.search(r"New SDP:\n-+8<[^\n]*\n(.*?)\n-+>8", out, re.S)
    return p.returncode, (m.group(1) if m else None), out


def sdp_media(text):
    """[(port, proto, c= address, crypto 'SUITE:B64' or None, rtcp-mux)] per m= line."""
    out, sess_c = [], None
    for line in text.replace("\r", "").split("\n"):
        if line.startswith("c=IN IP4 ") and not out:
            sess_c = line.split()[2]
        elif line.startswith("m="):
            w = line[2:].split()
            out.append({"port": int(w[1]), "proto": w[2], "c": sess_c, "crypto": None, "mux": False})
        elif out and line.startswith("c=IN IP4 "):
            out[-1]["c"] = line.split()[2]
        elif out and line.startswith("a=crypto:"):
            w = line.split()
            b64 = w[2][len("inline:"):].split("|")[0]
            out[-1]["crypto"] = "%s:%s" % (w[1], b64 + "=" * (-len(b64) % 4))
        elif out and line == "a=rtcp-mux":
            out[-1]["mux"] = True
    return out


class Ng:
    """A bencode NG client on UDP (or TCP) for the checks ng-client cannot make."""

    def __init__(self, tcp=False):
        self.tcp = tcp
        if tcp:
            self.s = socket.create_connection(("127.0.0.1", NG_TCP_PORT), timeout=10)
        else:
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.s.settimeout(5)
            self.s.connect(("127.0.0.1", NG_PORT))
        self.n = 0

    def raw(self, data):
        if self.tcp:
            self.s.sendall(data)
            buf = b""
            while True:
                buf += self.s.recv(65536)
                c, _, body = buf.partition(b" ")
                try:
                    _, end = bdecode(body)
                    return buf[:len(c) + 1 + end]
                except (ValueError, IndexError):
                    continue
        self.s.send(data)
        return self.s.recv(65536)

    def __call__(self, command, ok=True, cookie=None, **args):
        self.n += 1
        cookie = cookie or ("t%d_%d" % (os.getpid(), self.n))
        msg = {k.replace("_", "-"): v for k, v in args.items()}
        msg["command"] = command
        reply = self.raw(cookie.encode() + b" " + bencode(msg))
        c, _, body = reply.partition(b" ")
        if c != cookie.encode():
            raise Fail("NG reply with cookie %r to %r" % (c, cookie))
        r = bdecode(body)[0]
        if ok and r.get("result") not in ("ok", "pong"):
            raise Fail("NG %s: %s %s" % (command, r.get("result"), r.get("error-reason", "")))
        return r


def peer_cmd(ns, bind, to, ssrc, expect, tx_key, rx_key, delay=0, ready=None):
    cmd = ["ip", "netns", "exec", ns, SRTP_PEER, "--bind", bind, "--to", to, "--ssrc", hex(ssrc),
           "--expect-ssrc", hex(expect), "--count", str(COUNT), "--interval-ms", "5", "--timeout", "15",
           "--allow-loss", "20", "--json", "--rtcp-every", str(RTCP_EVERY),
           "--expect-rtcp", str(RTCP_MIN)]
    if tx_key:
        cmd += ["--tx-key", tx_key]
    if rx_key:
        cmd += ["--rx-key", rx_key]
    if delay:
        cmd += ["--start-delay-ms", str(delay)]
    if ready:
        cmd += ["--ready-file", ready]
    return cmd


def stream_both(tmp, topo, a, b):
    """B (bound first, starts 300 ms later) and A stream to each other: A
    speaks first, as a client behind a NAT must, so its leg latches."""
    ready = os.path.join(tmp, "b.ready")
    if os.path.exists(ready):
        os.unlink(ready)
    pb = subprocess.Popen(peer_cmd(topo.cB, *b, delay=300, ready=ready), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    L.wait_until(lambda: os.path.exists(ready) or pb.poll() is not None, "peer B to bind")
    pa = subprocess.run(peer_cmd(topo.cA, *a), capture_output=True, text=True, timeout=60)
    ob = pb.communicate(timeout=60)[0]
    for name, rc, out in (("A", pa.returncode, pa.stdout + pa.stderr), ("B", pb.returncode, ob)):
        last = out.strip().splitlines()[-1] if out.strip() else ""
        print("# peer %s: %s" % (name, last))
        try:
            js = json.loads(last)
        except ValueError:
            js = {}
        secure = (a if name == "A" else b)[5]
        check(rc == 0, "peer %s received the other's stream through mrelay-dp (%s)"
              % (name, "SRTP" if secure else "plain RTP"))
        check(js.get("rtcp_authenticated", 0) >= RTCP_MIN and js.get("rtcp_auth_failures", 1) == 0,
              "peer %s received the other's %s through mrelay-dp (%s of %d sent, %s failed)"
              % (name, "SRTCP" if secure else "RTCP", js.get("rtcp_authenticated"),
                 COUNT // RTCP_EVERY, js.get("rtcp_auth_failures")))


def offer(cid, a_proto, a_key, b_proto, b_key, extra=()):
    """Offer from A (cA) with rtpengine-ng-client: the SDP towards B, checked."""
    a_crypto = ("AES_CM_128_HMAC_SHA1_80", key(a_key)) if a_key else None
    _, osdp, _ = ng_client("offer", "--call-id=" + cid, "--from-tag=fa-" + cid, "--replace-origin",
                           "--replace-session-connection", "--ICE=remove", *extra,
                           "--sdp=" + sdp(A_PRIV, 40000, a_proto, a_crypto, bfcp=True, mux=True))
    om = sdp_media(osdp)
    check(len(om) == 2 and om[0]["c"] == RELAY and om[0]["port"] >= 30000,
          "%s: the offer to B shows the relay %s:%d" % (cid, om[0]["c"], om[0]["port"]))
    check(om[1]["port"] == 0, "%s: the BFCP (TCP) m-line goes on with port 0" % cid)
    check(A_PRIV not in osdp, "%s: the caller's address is not in the offer" % cid)
    check(om[0]["proto"] == b_proto and (om[0]["crypto"] is not None) == (b_key is not None),
          "%s: the offer to B is %s%s" % (cid, b_proto, " with a=crypto" if b_key else " without a=crypto"))
    check(om[0]["mux"], "%s: the offer to B carries a=rtcp-mux, as A's did" % cid)
    return om


def answer(cid, om, a_proto, a_key, b_proto, b_key):
    """Answer from B (cB) with rtpengine-ng-client: the SDP towards A, checked."""
    b_crypto = ("AES_CM_128_HMAC_SHA1_80", key(b_key)) if b_key else None
    _, answer, _ = ng_client("answer", "--call-id=" + cid, "--from-tag=fa-" + cid, "--to-tag=tb-" + cid,
                             "--replace-origin", "--replace-session-connection",
                             "--sdp=" + sdp(B_IP, 40002, b_proto, b_crypto, mux=True) +
                             "m=application 0 TCP/BFCP *\r\n")
    am = sdp_media(answer)
    check(am[0]["c"] == RELAY and am[0]["proto"] == a_proto and am[1]["port"] == 0,
          "%s: the answer to A shows the relay %s:%d, %s, BFCP rejected" % (cid, am[0]["c"], am[0]["port"],
                                                                           a_proto))
    check((am[0]["crypto"] is not None) == (a_key is not None), "%s: a=crypto towards A as A offered" % cid)
    check(am[0]["mux"], "%s: the answer to A carries a=rtcp-mux" % cid)
    return am


def answer_and_stream(tmp, topo, cid, om, a_proto, a_key, b_proto, b_key):
    """Answer from B (cB) with rtpengine-ng-client, then media both ways, query, delete."""
    am = answer(cid, om, a_proto, a_key, b_proto, b_key)
    ka = "AES_CM_128_HMAC_SHA1_80:" + key(a_key) if a_key else None
    kb = "AES_CM_128_HMAC_SHA1_80:" + key(b_key) if b_key else None
    a = ("%s:40000" % A_PRIV, "%s:%d" % (RELAY, am[0]["port"]), 0xA1, 0xB2, ka, am[0]["crypto"])
    b = ("%s:40002" % B_IP, "%s:%d" % (RELAY, om[0]["port"]), 0xB2, 0xA1, kb, om[0]["crypto"])
    stream_both(tmp, topo, a, b)
    q = Ng()("query", call_id=cid)
    pk = {tag: sum(s["stats"]["packets"] for m in t["medias"] for s in m["streams"])
          for tag, t in q["tags"].items()}
    check(pk.get("fa-" + cid, 0) >= COUNT - 20 and pk.get("tb-" + cid, 0) >= COUNT - 20,
          "%s: NG query counts what each side sent (%s)" % (cid, pk))
    flags = {tag: t["medias"][0]["flags"] for tag, t in q["tags"].items()}
    check(all("rtcp-mux" in f for f in flags.values()), "%s: query shows rtcp-mux on both legs" % cid)
    _, _, out = ng_client("delete", "--call-id=" + cid, "--from-tag=fa-" + cid)
    check("totals" in out, "%s: delete answers with the call's totals" % cid)


def call(tmp, topo, cid, a_proto, a_key, b_proto, b_key, extra=()):
    """Offer from A, answer from B, then media."""
    om = offer(cid, a_proto, a_key, b_proto, b_key, extra)
    answer_and_stream(tmp, topo, cid, om, a_proto, a_key, b_proto, b_key)


def media_lab(tmp, lab, name, cfg=None, nat=True):
    """cp_restart.cp_lab() with this file's mrelay-cp configuration (NG) by default."""
    return cp_lab(tmp, lab, name, cfg or cp_config(tmp), nat)


def test_media(tmp):
    if NG_CLIENT is None:
        print("# rtpengine-ng-client missing (rtpengine-utils): skipped")
        sys.exit(77)
    with L.Lab() as lab:
        topo, cp, region, dp = media_lab(tmp, lab, "ng-client")
        call(tmp, topo, "srtp-srtp", "RTP/SAVP", 1, "RTP/SAVP", 2)
        call(tmp, topo, "pstn-srtp", "RTP/AVP", None, "RTP/SAVP", 3, extra=("--direction=pstn,wan",))
        check(cp.calls() == [] and active_slots(region) == 0, "no call and no slot left")
        check(dp.stop() == 0, "mrelay-dp exits 0")
        check(cp.stop() == 0, "mrelay-cp exits 0")


def test_answer_restart(tmp):
    if NG_CLIENT is None:
        print("# rtpengine-ng-client missing (rtpengine-utils): skipped")
        sys.exit(77)
    with L.Lab() as lab:
        topo, cp, region, dp = media_lab(tmp, lab, "ng-answer-restart")
        om = offer("restart-srtp", "RTP/SAVP", 4, "RTP/SAVP", 5)
        om2 = offer("restart-pstn", "RTP/AVP", None, "RTP/SAVP", 6, extra=("--direction=pstn,wan",))
        slots = active_slots(region)
        cp.kill9()
        cp.start()
        log = cp.output()
        check("recovered 2 calls" in log and "NG state of 2 recovered calls restored" in log,
              "the restarted mrelay-cp recovers both offered calls and their NG state")
        check(active_slots(region) == slots, "the same %d slots are active after the restart" % slots)
        answer_and_stream(tmp, topo, "restart-srtp", om, "RTP/SAVP", 4, "RTP/SAVP", 5)
        answer_and_stream(tmp, topo, "restart-pstn", om2, "RTP/AVP", None, "RTP/SAVP", 6)
        check(cp.calls() == [] and active_slots(region) == 0, "no call and no slot left")
        check(dp.stop() == 0, "mrelay-dp exits 0")
        check(cp.stop() == 0, "mrelay-cp exits 0")


KC_COUNT, KC_INTERVAL_MS, KC_OLD_KEY_S = 2000, 5, 2


def slot_of(region, port):
    """mrelayctl's JSON of the leg whose relay port is @port."""
    for leg in region.legs()["legs"]:
        if leg["local"].endswith(":%d" % port):
            return leg
    raise Fail("no leg on relay port %d" % port)


def in_gens(leg):
    return sum(g is not None for g in leg["srtp_in"]["gens"])


def test_keychange(tmp):
    if NG_CLIENT is None:
        print("# rtpengine-ng-client missing (rtpengine-utils): skipped")
        sys.exit(77)
    cid, k1, k2, kb = "keychange", 7, 17, 8
    with L.Lab() as lab:
        topo, cp, region, dp = media_lab(tmp, lab, "ng-keychange", cp_config(tmp, KC_OLD_KEY_S))
        om = offer(cid, "RTP/SAVP", k1, "RTP/SAVP", kb)
        am = answer(cid, om, "RTP/SAVP", k1, "RTP/SAVP", kb)
        L.wait_until(lambda: region.info()["cmd_ring"]["used"] == 0, "the dataplane to apply the call")
        leg_a = slot_of(region, am[0]["port"])
        check(in_gens(leg_a) == 1, "A's leg starts with one inbound key")
        drops0 = region.drops().get("srtp-auth", 0)

        suite = "AES_CM_128_HMAC_SHA1_80:"
        switch = os.path.join(tmp, "a.switch")
        ready = os.path.join(tmp, "b.ready")
        common = ["--count", str(KC_COUNT), "--interval-ms", str(KC_INTERVAL_MS), "--timeout", "30",
                  "--json", "--linger-ms", "300"]
        # B: every packet of A's (no loss allowed), through the relay's key towards B, which must
        # not change. B speaks first, so mrelay-dp knows B's MAC (B's ARP) before A's first packet
        # (else that one is a no-nexthop-mac drop, a start-up effect that has nothing to do with
        # keys); what B sends before A's leg latches has nowhere to go, hence A's allowed loss.
        pb = subprocess.Popen(["ip", "netns", "exec", topo.cB, SRTP_PEER, "--bind", "%s:40002" % B_IP,
                               "--to", "%s:%d" % (RELAY, om[0]["port"]), "--ssrc", "0xb2", "--expect-ssrc", "0xa1",
                               "--tx-key", suite + key(kb), "--rx-key", om[0]["crypto"], "--allow-loss", "0",
                               "--ready-file", ready] + common,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        L.wait_until(lambda: os.path.exists(ready) or pb.poll() is not None, "peer B to bind")
        pa = subprocess.Popen(["ip", "netns", "exec", topo.cA, SRTP_PEER, "--bind", "%s:40000" % A_PRIV,
                               "--to", "%s:%d" % (RELAY, am[0]["port"]), "--ssrc", "0xa1", "--expect-ssrc", "0xb2",
                               "--tx-key", suite + key(k1), "--tx-key2", suite + key(k2),
                               "--tx-switch-file", switch, "--rx-key", am[0]["crypto"],
                               "--allow-loss", "150", "--start-delay-ms", "300"] + common,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(0.8)
        # A re-offers K2 but goes on sending with K1 until it has the answer.
        om2 = offer(cid, "RTP/SAVP", k2, "RTP/SAVP", kb)
        check(om2[0]["port"] == om[0]["port"] and om2[0]["crypto"] == om[0]["crypto"],
              "the re-offer to B: same relay port, same relay key")
        leg = slot_of(region, am[0]["port"])
        check(in_gens(leg) == 2, "after the re-offer A's leg accepts both of A's keys")
        time.sleep(0.7)
        am2 = answer(cid, om2, "RTP/SAVP", k2, "RTP/SAVP", kb)
        check(am2[0]["port"] == am[0]["port"] and am2[0]["crypto"] == am[0]["crypto"],
              "the answer to A: same relay port, same relay key")
        check(in_gens(slot_of(region, am[0]["port"])) == 2, "after the answer both keys are still accepted")
        # The answer reaches A a little later; then A sends with K2.
        time.sleep(0.4)
        check(pa.poll() is None, "A is still sending when it switches keys")
        open(switch, "w").close()
        time.sleep(0.6)
        # A re-offer with the unchanged key (a refresh, hold/resume) writes nothing.
        gen = slot_of(region, am[0]["port"])["generation"]
        om3 = offer(cid, "RTP/SAVP", k2, "RTP/SAVP", kb)
        am3 = answer(cid, om3, "RTP/SAVP", k2, "RTP/SAVP", kb)
        check(om3[0]["crypto"] == om[0]["crypto"] and am3[0]["crypto"] == am[0]["crypto"],
              "the unchanged re-offer and its answer: the relay's keys again")
        check(slot_of(region, am[0]["port"])["generation"] == gen,
              "the re-offer with an unchanged key did not write A's slot (generation %d)" % gen)
        check(pa.poll() is None, "A was sending all along")
        oa, ob = pa.communicate(timeout=60)[0], pb.communicate(timeout=60)[0]
        print("# drops: %s" % region.drops())
        res = {}
        for name, proc, out in (("A", pa, oa), ("B", pb, ob)):
            lines = [ln for ln in out.strip().splitlines() if ln.startswith("{")]
            last = lines[-1] if lines else ""
            print("# peer %s: %s" % (name, out.strip().replace("\n", "\n# ")))
            try:
                res[name] = json.loads(last)
            except ValueError:
                res[name] = {}
            check(proc.returncode == 0, "peer %s received the other's stream" % name)
        ja, jb = res["A"], res["B"]
        sw = ja.get("tx_switched_at")
        check(sw is not None and 100 < sw < KC_COUNT - 100,
              "A sent %s packets with K1, then %s with K2" % (sw, None if sw is None else KC_COUNT - sw))
        check(jb.get("unique") == KC_COUNT and jb.get("missing") == 0 and jb.get("auth_failures") == 0,
              "B got every one of A's %d packets, before, during and after the key change (%s unique, "
              "%s missing, %s failed authentication)" % (KC_COUNT, jb.get("unique"), jb.get("missing"),
                                                         jb.get("auth_failures")))
        check(region.drops().get("srtp-auth", 0) == drops0, "mrelay-dp dropped nothing as srtp-auth")

        # old_key_s after the answer, K1 is gone from A's leg: a packet with it is refused.
        L.wait_until(lambda: in_gens(slot_of(region, am[0]["port"])) == 1,
                     "A's old key to be wiped %d s after the answer" % KC_OLD_KEY_S, KC_OLD_KEY_S + 5)
        check(True, "A's leg holds only K2, %d s after the answer" % KC_OLD_KEY_S)
        L.wait_until(lambda: region.info()["cmd_ring"]["used"] == 0, "the dataplane to apply it")
        subprocess.run(["ip", "netns", "exec", topo.cA, SRTP_PEER, "--bind", "%s:40000" % A_PRIV,
                        "--to", "%s:%d" % (RELAY, am[0]["port"]), "--ssrc", "0xa1", "--seq-start", "20000",
                        "--tx-key", suite + key(k1), "--count", "20", "--interval-ms", "5",
                        "--expect-count", "0", "--timeout", "1"], capture_output=True, timeout=30)
        L.wait_until(lambda: region.drops().get("srtp-auth", 0) - drops0 >= 20,
                     "20 srtp-auth drops of packets with the retired key", 5)
        check(True, "packets with A's retired key are dropped as srtp-auth")
        ng_client("delete", "--call-id=" + cid, "--from-tag=fa-" + cid)
        check(cp.calls() == [] and active_slots(region) == 0, "no call and no slot left")
        check(dp.stop() == 0, "mrelay-dp exits 0")
        check(cp.stop() == 0, "mrelay-cp exits 0")


def test_protocol(tmp):
    cp = ControlPlane(tmp, cp_config(tmp))
    try:
        cp.start()
        ng = Ng()
        check(ng("ping")["result"] == "pong", "ping: pong")
        r = ng.raw(b"c1 d7:command4:pi")
        check(r.startswith(b"c1 d") and b"error-reason" in r and b"5:error" in r,
              "bad bencode: an error reply with the cookie (%s)" % r[:80])
        check(ng("offer", ok=False, call_id="x", from_tag="f")["error-reason"] == "No SDP body in message",
              "offer without sdp: error")
        check("Unknown call-id" in ng("query", ok=False, call_id="nope")["error-reason"], "query: unknown call")
        check(ng("delete", call_id="nope", from_tag="x").get("warning"), "delete of an unknown call: warning")
        check(ng("delete", ok=False, call_id="nope", from_tag="x", flags=["fatal"])["result"] == "error",
              "delete of an unknown call with fatal: error")
        srtp = sdp(A_PRIV, 40000, "RTP/SAVP", ("AES_CM_128_HMAC_SHA1_80", key(1)))
        for what, args in (
                ("plain RTP from a non-PSTN interface", dict(sdp=sdp(A_PRIV, 40000, "RTP/AVP"))),
                ("SDES-off towards a non-PSTN interface", dict(sdp=srtp, SDES=["off"])),
                ("RTP/AVP towards a non-PSTN interface", dict(sdp=srtp, **{"transport-protocol": "RTP/AVP"})),
                ("DTLS-SRTP", dict(sdp=srtp.replace("RTP/SAVP", "UDP/TLS/RTP/SAVP") +
                                   "a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n")),
                ("transcoding", dict(sdp=srtp, codec={"transcode": ["opus"]})),
                ("recording", dict(sdp=srtp, flags=["record call"])),
                ("ICE=optional", dict(sdp=srtp, ICE="optional")),
                ("an unknown interface", dict(sdp=srtp, direction=["wan", "nowhere"]))):
            r = ng("offer", ok=False, call_id="bad", from_tag="f", **args)
            check(r["result"] == "error" and list(r) == ["error-reason", "result"],
                  "offer refused: %s (%s)" % (what, r.get("error-reason")))
        check(ng("list")["calls"] == [], "refusals leave no call behind")
        # Retransmission: the same cookie gets the same bytes, the command runs once.
        msg = b"retx_1 " + bencode({"command": "offer", "call-id": "rt", "from-tag": "f", "sdp": srtp})
        r1, r2 = ng.raw(msg), ng.raw(msg)
        check(r1 == r2 and b"sdp" in r1, "a retransmitted offer gets the identical reply")
        o2 = ng("offer", call_id="rt", from_tag="f", via_branch="z9hG4bK1", sdp=srtp)
        check(o2["sdp"].encode() in r1, "the same offer with a new cookie: same ports and keys")
        st = ng("statistics")["statistics"]
        check(st["ng"]["retransmits"] >= 1 and st["currentstatistics"]["sessionsown"] == 1,
              "statistics: retransmits %d, 1 call" % st["ng"]["retransmits"])
        ans = sdp(B_IP, 40002, "RTP/SAVP", ("AES_CM_128_HMAC_SHA1_80", key(2)))
        ng("answer", call_id="rt", from_tag="f", to_tag="t", sdp=ans)
        check(ng("block media", call_id="rt", from_tag="f")["result"] == "ok", "block media")
        q = ng("query", call_id="rt")
        check(q["tags"]["f"].get("media blocked") == "yes" and "t" in q["tags"], "query shows the block and tags")
        ng("unblock media", call_id="rt", from_tag="f")
        check("media blocked" not in ng("query", call_id="rt")["tags"]["f"], "unblock media")
        tcp = Ng(tcp=True)
        check(tcp("list")["calls"] == ["rt"], "NG over TCP: list")
        check(tcp("ping")["result"] == "pong" and tcp("ping")["result"] == "pong", "NG over TCP: two pings")
        tcp("delete", call_id="rt", to_tag="t")
        check(ng("list")["calls"] == [], "delete by to-tag ends the call")
        check(cp.json("status json")["ports_used"] == 0, "no port left in use")
    finally:
        cp.stop()


def test_churn(tmp):
    with L.Lab() as lab:
        topo, cp, region, dp = media_lab(tmp, lab, "ng-churn", nat=False)
        ng, n = Ng(), 10000
        a_sdp = sdp(A_PRIV, 40000, "RTP/SAVP", ("AES_CM_128_HMAC_SHA1_80", key(1)))
        b_sdp = sdp(B_IP, 40002, "RTP/SAVP", ("AES_CM_128_HMAC_SHA1_80", key(2)))
        t0 = time.monotonic()
        for i in range(n):
            cid = "churn-%d" % i
            ng("offer", call_id=cid, from_tag="a", sdp=a_sdp)
            ng("answer", call_id=cid, from_tag="a", to_tag="b", sdp=b_sdp)
            ng("delete", call_id=cid, from_tag="a")
        dt = time.monotonic() - t0
        print("# %d calls offered, answered and deleted over NG in %.1f s (%.0f/s)" % (n, dt, n / dt))
        st = cp.json("status json")
        check(st["calls"] == 0 and st["legs"] == 0 and st["ports_used"] == 0, "no call, leg or port left")
        check(st["slots_free"] == MAX_LEGS, "every slot free (%d of %d)" % (st["slots_free"], MAX_LEGS))
        check(st["journal_live"] == 0 and st["journal_records"] <= 1024 + 64,
              "journal compacted: %d records" % st["journal_records"])
        check(active_slots(region) == 0, "no active slot in the region")
        L.wait_until(lambda: region.info()["cmd_ring"]["used"] == 0, "the dataplane to drain commands", 30)
        check(region.legs()["legs"] == [], "the dataplane has no leg left")
        stats = ng("statistics")["statistics"]["ng"]
        check(stats["offer"]["errors"] == 0 and stats["answer"]["errors"] == 0,
              "no NG errors during the churn")
        cp.kill9()
        cp.start()
        log = cp.output()
        check("recovered 0 calls" in log and "bad lines" not in log, "a restart finds nothing to recover")
        check(cp.stop() == 0 and dp.stop() == 0, "both daemons exit 0")


RELAY6, B6 = "2001:2::2", "2001:2::11"


def conns(text):
    """[(IP4|IP6, address)] of the o= line and every c= line."""
    return re.findall(r"^(?:o=\S+ \S+ \S+ IN|c=IN) (IP[46]) (\S+)\r?$", text, re.M)


def test_ipv6(tmp):
    with L.Lab() as lab:
        topo = L.Topo(lab, nat=True)
        lab.addr6(topo.cB, "eth0", B6 + "/64")
        cp = ControlPlane(tmp, cp_config(tmp).replace('addresses = [ "198.18.0.2" ]; port_min = 30000',
                                                      'addresses = [ "198.18.0.2", "%s" ]; port_min = 30000'
                                                      % RELAY6))
        lab.undo.append(cp.stop)
        cp.start()
        region = CpRegion(tmp)
        dp = lab.dataplane(topo.dp, "ng-ipv6", L.dp_config(tmp).replace(
            '"198.18.0.2/24" ]', '"198.18.0.2/24", "%s/64" ]' % RELAY6), tmp)
        L.start_dp(dp, region)
        ng = Ng()
        rep = ["origin", "session-connection"]
        ka, kb = key(11), key(12)
        a_sdp = sdp(A_PRIV, 40000, "RTP/SAVP", ("AES_CM_128_HMAC_SHA1_80", ka), mux=True)
        b_sdp = sdp(B6, 40002, "RTP/SAVP", ("AES_CM_128_HMAC_SHA1_80", kb), mux=True).replace("IN IP4", "IN IP6")
        for cid, v4_offers in (("v4-to-v6", True), ("v6-to-v4", False)):
            if v4_offers:
                o = ng("offer", call_id=cid, from_tag="fa", sdp=a_sdp, replace=rep,
                       **{"address family": "IP6"})
                an = ng("answer", call_id=cid, from_tag="fa", to_tag="tb", sdp=b_sdp, replace=rep)
                to_a, to_b = an["sdp"], o["sdp"]
            else:
                o = ng("offer", call_id=cid, from_tag="fb", sdp=b_sdp, replace=rep,
                       **{"address family": "IP4"})
                an = ng("answer", call_id=cid, from_tag="fb", to_tag="ta", sdp=a_sdp, replace=rep)
                to_a, to_b = o["sdp"], an["sdp"]
            check(conns(to_b) and all(c == ("IP6", RELAY6) for c in conns(to_b)),
                  "%s: B's SDP is IP6, the relay's IPv6 address throughout: %s" % (cid, conns(to_b)))
            check(conns(to_a) and all(c == ("IP4", RELAY) for c in conns(to_a)),
                  "%s: A's SDP is IP4, the relay's IPv4 address throughout: %s" % (cid, conns(to_a)))
            pa, pb = sdp_media(to_a)[0], sdp_media(to_b)[0]
            check(pa["crypto"] and pb["crypto"] and pa["mux"] and pb["mux"],
                  "%s: a=crypto and a=rtcp-mux both ways" % cid)
            legs = {leg["local"] for leg in region.legs()["legs"]}
            relay_a, relay_b = "%s:%d" % (RELAY, pa["port"]), "[%s]:%d" % (RELAY6, pb["port"])
            check(relay_a in legs and relay_b in legs,
                  "%s: mrelay-dp has an IPv4 leg %s and an IPv6 leg %s" % (cid, relay_a, relay_b))
            stream_both(tmp, topo,
                        ("%s:40000" % A_PRIV, relay_a, 0xA1, 0xB2, "AES_CM_128_HMAC_SHA1_80:" + ka,
                         pa["crypto"]),
                        ("[%s]:40002" % B6, relay_b, 0xB2, 0xA1, "AES_CM_128_HMAC_SHA1_80:" + kb,
                         pb["crypto"]))
            q = ng("query", call_id=cid)
            pk = {tag: sum(s["stats"]["packets"] for m in t["medias"] for s in m["streams"])
                  for tag, t in q["tags"].items()}
            check(all(n >= COUNT - 20 for n in pk.values()) and len(pk) == 2,
                  "%s: NG query counts both sides' packets (%s)" % (cid, pk))
            ng("delete", call_id=cid, from_tag="fa" if v4_offers else "fb")
        check(cp.calls() == [] and active_slots(region) == 0, "no call and no slot left")
        check(dp.stop() == 0 and cp.stop() == 0, "both daemons exit 0")


def sdp_ice(text):
    """(ice-lite?, ufrag, pwd, [candidate lines]) of a description."""
    lines = text.replace("\r", "").split("\n")
    val = {k: next((ln.split(":", 1)[1] for ln in lines if ln.startswith("a=%s:" % k)), None)
           for k in ("ice-ufrag", "ice-pwd")}
    return ("a=ice-lite" in lines, val["ice-ufrag"], val["ice-pwd"],
            [ln for ln in lines if ln.startswith("a=candidate:")])


def stun_checks(ns, bind, to, ufrag, pwd, *extra):
    p = subprocess.run(["ip", "netns", "exec", ns, sys.executable, STUN_CLIENT, "--bind", bind,
                        "--to", to, "--ufrag", ufrag, "--pwd", pwd] + list(extra),
                       capture_output=True, text=True, timeout=30)
    try:
        return p.returncode, json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise Fail("stun_client: %s" % (p.stdout + p.stderr).strip()[-300:])


def test_ice(tmp):
    with L.Lab() as lab:
        topo, cp, region, dp = media_lab(tmp, lab, "ng-ice")
        ng, cid = Ng(), "ice-force"
        a_ice = ("a=ice-ufrag:cAuf\r\na=ice-pwd:cApasswordcApasswordcA\r\n"
                 "a=candidate:1 1 UDP 2130706431 %s 40000 typ host\r\n" % A_PRIV)
        a_sdp = sdp(A_PRIV, 40000, "RTP/SAVP", ("AES_CM_128_HMAC_SHA1_80", key(7)), mux=True) + a_ice
        o = ng("offer", call_id=cid, from_tag="fa", sdp=a_sdp, ICE="force",
               replace=["origin", "session-connection"])
        om = sdp_media(o["sdp"])
        lite, uf_b, pw_b, cands = sdp_ice(o["sdp"])
        check(lite and uf_b and pw_b and len(uf_b) == 8 and len(pw_b) == 24,
              "the offer to B is ICE-lite with the relay's ufrag and a 24-character pwd")
        check(len(cands) == 1 and cands[0].split()[1:3] == ["1", "UDP"] and
              cands[0].endswith(" %s %d typ host" % (RELAY, om[0]["port"])),
              "one candidate, the relay's address and port: %s" % cands)
        check(A_PRIV not in o["sdp"] and "cAuf" not in o["sdp"], "none of A's ICE data reaches B")
        b_sdp = sdp(B_IP, 40002, "RTP/SAVP", ("AES_CM_128_HMAC_SHA1_80", key(8)), mux=True)
        an = ng("answer", call_id=cid, from_tag="fa", to_tag="tb", sdp=b_sdp,
                replace=["origin", "session-connection"])
        am = sdp_media(an["sdp"])
        lite_a, uf_a, pw_a, cands_a = sdp_ice(an["sdp"])
        check(lite_a and uf_a and uf_a != uf_b and pw_a != pw_b and len(cands_a) == 1 and
              " %s %d typ host" % (RELAY, am[0]["port"]) in cands_a[0],
              "A offered ICE: the answer to A is ICE-lite, with credentials of its own")
        relay_b, relay_a = "%s:%d" % (RELAY, om[0]["port"]), "%s:%d" % (RELAY, am[0]["port"])
        # B checks the relay with the credentials the offer gave it, nominating.
        rc, r = stun_checks(topo.cB, "%s:40002" % B_IP, relay_b, uf_b, pw_b, "--use-candidate",
                            "--count", "3")
        check(rc == 0 and r["verified"] == 3 and r["mapped"] == "%s:40002" % B_IP,
              "B's checks answered and verified, XOR-MAPPED-ADDRESS %s" % r["mapped"])
        # A, behind the NAT: first a wrong password, then the right one.
        rc, r = stun_checks(topo.cA, "%s:40000" % A_PRIV, relay_a, uf_a, "x" * 24, "--use-candidate",
                            "--count", "2", "--timeout", "0.5", "--expect-none")
        check(rc == 0 and r["answered"] == 0, "checks with a wrong password get no answer")
        rc, r = stun_checks(topo.cA, "%s:40000" % A_PRIV, relay_a, uf_a, pw_a, "--use-candidate")
        check(rc == 0 and r["verified"] == 1 and r["mapped"].startswith(L.NAT_PUB + ":"),
              "A's check answered; it maps A's NAT's public address %s" % r["mapped"])
        nat_a = r["mapped"]
        # ... and B's credentials do not open A's leg.
        rc, r = stun_checks(topo.cA, "%s:40000" % A_PRIV, relay_a, uf_b, pw_b, "--timeout", "0.5",
                            "--expect-none")
        check(rc == 0, "B's credentials on A's port: no answer")
        drops = region.drops()
        check(drops.get("stun-auth") == 3, "the three refused checks are counted stun-auth: %s" % drops)
        mg = region.stats()["mgmt"]
        check(mg["stun_replies"] == 4 and mg["stun_nominations"] == 4,
              "mrelay-dp answered 4 checks, 4 nominations (%d, %d)" % (mg["stun_replies"],
                                                                     mg["stun_nominations"]))
        legs = {leg["local"]: leg for leg in region.legs()["legs"]}
        check(legs[relay_a].get("latched_rtp") == nat_a and legs[relay_b].get("latched_rtp") ==
              "%s:40002" % B_IP, "the nominations latched both legs (A on its NAT's %s)" % nat_a)
        check("ice" in legs[relay_a]["flags"] and "ice" in legs[relay_b]["flags"],
              "both slots carry the ice flag")
        # Media after ICE: SRTP both ways from the checked sockets.
        ka, kb = "AES_CM_128_HMAC_SHA1_80:" + key(7), "AES_CM_128_HMAC_SHA1_80:" + key(8)
        stream_both(tmp, topo, ("%s:40000" % A_PRIV, relay_a, 0xA1, 0xB2, ka, am[0]["crypto"]),
                    ("%s:40002" % B_IP, relay_b, 0xB2, 0xA1, kb, om[0]["crypto"]))
        ng("delete", call_id=cid, from_tag="fa")
        check(cp.calls() == [] and active_slots(region) == 0, "no call and no slot left")
        check(dp.stop() == 0 and cp.stop() == 0, "both daemons exit 0")


TESTS = [test_media, test_answer_restart, test_keychange, test_protocol, test_churn, test_ice, test_ipv6]

if __name__ == "__main__":
    tests = {t.__name__[5:]: t for t in TESTS}
    t0 = time.monotonic()
    main([tests[n] for n in sys.argv[1:]] if len(sys.argv) > 1 else list(tests.values()))
    print("# %.1f s" % (time.monotonic() - t0))
