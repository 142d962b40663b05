#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End to end: kill -9 and restart of mrelay-dp under SRTP traffic that has
crossed the 16-bit sequence wrap (the stream's ROC is 1), on net_af_packet
in network namespaces (nslab.py's topology: cA behind a real NAT, cB on the
relay's segment). One test per argument:

  late    the kill comes about 2 s after both streams wrapped: the dp part
          holds a resume point written by the once-a-second persist
  wrap    the kill comes as soon as both wraps are in the dp part (well
          within a second of them): the resume point is the one written on
          the wrap itself, and must be right too
  wrap-down  the kill comes while both streams are a few hundred packets
          short of the wrap (the dp parts hold ROC 0 and a seq_hi in the
          upper half), the peers go on across the wrap while mrelay-dp is
          down, and it restarts only after both wrapped: the first packets
          the new process sees carry ROC 1, which it must estimate (RFC 3711
          3.3.1) from the stored ROC 0 and seq_hi, inbound and outbound
  srtcp-rate  as late, but with an SRTCP packet after every RTP packet (500
          SRTCP packets a second each way), killed 0.8 s after leg A's dp
          part last changed: far more SRTCP indexes than a once-a-second
          store plus a fixed skip could cover; the store every 128 indexes
          must
  paused  another SSRC of leg A crosses the wrap and pauses before the kill
          and comes back after the restart (below)
  mute    renumbering across a restart: a re-keyed stream muted and unmuted
          before the kill, muted again across it (below)

Legs A (relay 198.18.0.2:30000) and B (:30002), both --rtcp-mux (srtp_peer
muxes RTCP) and --latch auth, in re-key mode: four different keys, so the
relay unprotects with the sending peer's key and protects again with its
own outbound key towards the other peer. Two srtp_peer instances (libsrtp
used directly, no mrelay code) stream to each other at 500 pps with an
SRTCP sender report every 50 packets, starting a few hundred packets below
65535.

What is checked:
  - the dp part (read straight from the region file) holds ROC 1 for both
    directions, inbound and outbound, when the process is killed (ROC 0
    and seq_hi >= 64500 for wrap-down);
  - after the restart both peers' libsrtp authenticated every packet (RTP
    and SRTCP): no authentication and no replay failure, and the receivers'
    ROC (libsrtp's own) is the sender's final ROC;
  - the only packets lost are one contiguous run around the restart;
  - the new process counted no srtp-auth / srtp-replay drop;
  - no keystream reuse: the relay's outbound packets, captured with tcpdump
    in the receiving namespaces, never repeat an SRTP index (SSRC, ROC << 16
    | seq, the ROC being the one the receiver's libsrtp accepted the packet
    under) nor an SRTCP index (SSRC, E|index word of the trailer) -- in
    particular none used before the kill is used again after it.

Host changes: see nslab.py (namespaces mre2e-<pid>-*, deleted on exit), plus
pcap files in the test's temporary directory.
"""
import base64
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nslab as L  # noqa: E402
from nslab import A_PRIV, B_IP, RELAY, Fail, check  # noqa: E402
from harness import main  # noqa: E402

SRTP_PEER = os.environ.get("SRTP_PEER") or os.path.join(
    os.path.dirname(os.path.abspath(L.MRELAY_DP)), "..", "tests", "tools", "srtp_peer")
DP_NAME = "srtprs"

A_RTP, B_RTP = "%s:40000" % A_PRIV, "%s:40002" % B_IP
RA, RB = "%s:30000" % RELAY, "%s:30002" % RELAY
A_SSRC, B_SSRC = 0xA1A1A1A1, 0xB2B2B2B2            # the streams under test
WA_SSRC, WB_SSRC = 0x0A0A0001, 0x0B0B0001          # warm-up only (latch, ARP)

INTERVAL_MS = 2                                     # 500 pps each way
RTCP_EVERY = 50                                     # an SRTCP SR every 100 ms
START_DELAY_MS = 700

KEYLEN = {"AES_CM_128_HMAC_SHA1_80": 30, "AEAD_AES_128_GCM": 28}
TAGLEN = {"AES_CM_128_HMAC_SHA1_80": 10, "AEAD_AES_128_GCM": 16}

TROUBLE_DROPS = ("srtp-auth", "srtp-replay", "tx-full", "handoff-full", "punt-full", "state-torn",
                 "no-headroom", "no-tailroom", "multi-segment", "bad-checksum", "malformed",
                 "no-egress", "src-not-latched", "ssrc-limit")


def key(suite, seed):
    raw = bytes((seed * 53 + i * 29 + 7) & 0xFF for i in range(KEYLEN[suite]))
    return "%s:%s" % (suite, base64.b64encode(raw).decode())


def reap_stale_runtime_dirs():
    """EAL runtime directories of our dataplanes whose test was SIGKILLed
    (nslab reaps its own names only)."""
    try:
        names = os.listdir("/var/run/dpdk")
    except FileNotFoundError:
        return
    for n in names:
        m = re.match(r"mr-%s-(\d+)$" % DP_NAME, n)
        if m and not L._pid_alive(int(m.group(1))):
            shutil.rmtree(os.path.join("/var/run/dpdk", n), ignore_errors=True)


# --- the region's dp parts ------------------------------------------------------------

def dp_part(region, slot):
    """The SRTP resume points of leg @slot (harness.Region.ssrc_states())."""
    return region.ssrc_states(slot)


def fmt_state(st):
    return " ".join("%s{%s}" % (k, ", ".join("%08x: roc %d seq_hi %d srtcp %d" % ((s,) + v)
                                            for s, v in sorted(st[k].items())))
                    for k in ("in", "out"))


# --- capture ------------------------------------------------------------------------

class Capture:
    """tcpdump of what the relay sends into @ns (UDP from the relay), with
    a 32 MiB buffer so that a starved tcpdump still misses nothing."""

    def __init__(self, lab, ns, path):
        self.path = path
        self.err = path + ".err"
        with open(self.err, "w") as e:
            self.proc = lab.spawn(ns, ["tcpdump", "-i", "eth0", "-n", "-U", "-Z", "root",
                                       "--immediate-mode", "-B", "32768", "-s", "0", "-w", path,
                                       "udp and src host %s" % RELAY],
                                  stdout=subprocess.DEVNULL, stderr=e)
        L.wait_until(lambda: "listening on" in open(self.err).read() or self.proc.poll() is not None,
                     "tcpdump to listen", 10)
        if self.proc.poll() is not None:
            raise Fail("tcpdump: " + open(self.err).read())

    def stop(self):
        # tcpdump may lag on a busy machine: what is still in its socket
        # buffer at SIGINT is lost, so wait until the file stops growing.
        size, since, deadline = -1, time.monotonic(), time.monotonic() + 10
        while time.monotonic() < deadline and time.monotonic() - since < 0.5:
            n = os.path.getsize(self.path)
            if n != size:
                size, since = n, time.monotonic()
            time.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(10)
        tail = [ln for ln in open(self.err).read().splitlines() if "packets" in ln]
        pkts = read_pcap(self.path)
        print("# tcpdump %s: %s; %d UDP datagrams in the file" % (os.path.basename(self.path),
                                                              "; ".join(tail), len(pkts)))
        m = re.search(r"(\d+) packets dropped by kernel", " ".join(tail))
        check(m is not None and m.group(1) == "0",
              "tcpdump in %s kept up: the capture is complete" % os.path.basename(self.path))
        return pkts


def read_pcap(path):
    """[(time, udp payload)] of an Ethernet pcap (IPv4/UDP only)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data)[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise Fail("%s: not a little-endian pcap (%08x)" % (path, magic))
    ns_res = magic == 0xA1B23C4D
    out, o = [], 24
    while o + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack_from("<IIII", data, o)
        o += 16
        fr = data[o:o + incl]
        o += incl
        eth = 14
        etype = struct.unpack_from("!H", fr, 12)[0]
        while etype == 0x8100:
            etype = struct.unpack_from("!H", fr, eth + 2)[0]
            eth += 4
        if etype != 0x0800 or fr[eth + 9] != 17:
            continue
        ihl = (fr[eth] & 0x0F) * 4
        udp = eth + ihl
        ulen = struct.unpack_from("!H", fr, udp + 4)[0]
        out.append((sec + frac / (1e9 if ns_res else 1e6), fr[udp + 8:udp + ulen]))
    return out


def is_rtcp(p):
    return len(p) >= 2 and 64 <= (p[1] & 0x7F) <= 95


def srtp_indexes(pkts, ssrc):
    """(time, extended seq) of the SRTP packets of @ssrc in capture order,
    RFC 3550 A.1 style: the ROC a receiver's libsrtp would infer."""
    res, ext = [], None
    for t, p in pkts:
        if is_rtcp(p) or len(p) < 12 or struct.unpack_from("!I", p, 8)[0] != ssrc:
            continue
        seq = struct.unpack_from("!H", p, 2)[0]
        if ext is None:
            ext = seq
        else:
            d = (seq - ext) & 0xFFFF
            ext = ext + d - (0x10000 if d >= 0x8000 else 0)
        res.append((t, ext))
    return res


def srtcp_indexes(pkts, ssrc, suite):
    """(time, SRTCP index) of the SRTCP packets of @ssrc: the E|index word
    sits before the tag (AES-CM, RFC 3711 3.4) or at the very end (AEAD,
    RFC 7714 17)."""
    at = 4 if suite.startswith("AEAD") else 4 + TAGLEN[suite]
    res = []
    for t, p in pkts:
        if not is_rtcp(p) or len(p) < 8 + at or struct.unpack_from("!I", p, 4)[0] != ssrc:
            continue
        w = struct.unpack_from("!I", p, len(p) - at)[0]
        if not w & 0x80000000:
            raise Fail("SRTCP from the relay without the E bit: %s" % p.hex())
        res.append((t, w & 0x7FFFFFFF))
    return res


# --- legs and peers ---------------------------------------------------------------------

def srtp_legs(region, keys):
    a = int(region.ctl("leg", "add", "--rtcp-mux", "--latch", "auth", "--local", RA, "--peer", A_RTP,
                       "--in-key", keys["a_tx"], "--out-key", keys["a_rx"]).stdout.strip())
    b = int(region.ctl("leg", "add", "--rtcp-mux", "--latch", "auth", "--local", RB, "--peer", B_RTP,
                       "--in-key", keys["b_tx"], "--out-key", keys["b_rx"]).stdout.strip())
    region.pair(a, b)
    L.sync(region)
    return a, b


def peer(lab, ns, side, keys, ssrc, expect, seq_start, count, timeout, ready=None, extra=()):
    me = "a" if side == "A" else "b"
    bind, to = (A_RTP, RA) if side == "A" else (B_RTP, RB)
    argv = [SRTP_PEER, "--bind", bind, "--to", to, "--ssrc", hex(ssrc), "--seq-start", seq_start,
            "--count", count, "--interval-ms", INTERVAL_MS, "--tx-key", keys[me + "_tx"],
            "--rx-key", keys[me + "_rx"], "--timeout", timeout, "--json"]
    if expect is not None:
        argv += ["--expect-ssrc", hex(expect), "--expect-from", to]
    if ready:
        argv += ["--ready-file", ready]
    return lab.spawn(ns, argv + list(extra))


def warm_up(lab, topo, region, keys, a, b):
    """A speaks first (behind its NAT it must), then B: both legs latch
    (authenticated) and the relay resolves both next hops. Own SSRCs, so
    the streams under test start fresh."""
    for ns, side, ssrc in ((topo.cA, "A", WA_SSRC), (topo.cB, "B", WB_SSRC)):
        L.result(peer(lab, ns, side, keys, ssrc, None, 100, 5, 0.5,
                      extra=["--expect-count", 0, "--allow-loss", 5, "--rtcp-every", 1]), timeout=10)
    L.wait_until(lambda: all(L.leg_by_slot(region, s)["latched_rtp"] for s in (a, b)),
                 "both legs to latch", 5)


def ext_gaps(idx):
    """Runs of missing extended sequence numbers in an ascending list."""
    return [(x, y) for x, y in zip(idx, idx[1:]) if y - x != 1]


# --- the test -------------------------------------------------------------------------------

def in_lab(body, tmp, *args):
    """@body(tmp, lab, *args) in a new Lab, once srtp_peer and tcpdump are
    there and dead runs' runtime directories are gone."""
    if not os.access(SRTP_PEER, os.X_OK):
        raise Fail("srtp_peer not built at %s (set SRTP_PEER)" % SRTP_PEER)
    if shutil.which("tcpdump") is None:
        raise Fail("tcpdump is missing (scripts/setup.sh installs it)")
    reap_stale_runtime_dirs()
    with L.Lab() as lab:
        body(tmp, lab, *args)


def srtp_keys(suite, first):
    """Four different keys of @suite: A's and B's, each way."""
    return {n: key(suite, first + i) for i, n in enumerate(("a_tx", "a_rx", "b_tx", "b_rx"))}


def srtp_lab(tmp, lab, keys):
    """nslab's topology, mrelay-dp on a new region, legs A and B with @keys
    paired and latched (warm_up). Returns (topo, region, dp, a, b)."""
    topo, region, dp = L.nat_lab(lab, tmp, DP_NAME)
    a, b = srtp_legs(region, keys)
    warm_up(lab, topo, region, keys, a, b)
    return topo, region, dp, a, b


def restart_dp(dp, region, t_kill):
    """Start @dp, killed at @t_kill, again and say how long it took."""
    t_running = L.start_dp(dp, region, timeout=30)
    print("# restart: 'running' %.0f ms after the kill" % ((t_running - t_kill) * 1000))


def check_end(dp, drops, what, t_test):
    """The restarted process's @drops hold no trouble, and it stops cleanly."""
    bad = {k: v for k, v in drops.items() if k in TROUBLE_DROPS}
    check(not bad, "the new process: no srtp-auth, srtp-replay or other trouble drop: %s" % bad)
    check(dp.stop() == 0, "the restarted mrelay-dp exits 0 on SIGINT")
    print("# %s: %.1f s" % (what, time.monotonic() - t_test))


DOWN_SEQ_HI = 64500     # wrap-down: the stored seq_hi at the kill is at least this


def run(tmp, lab, mode):
    t_test = time.monotonic()
    suite = "AEAD_AES_128_GCM" if mode == "wrap" else "AES_CM_128_HMAC_SHA1_80"
    keys = srtp_keys(suite, {"late": 0, "wrap": 10, "wrap-down": 30, "srtcp-rate": 50}[mode])
    check(len(set(keys.values())) == 4, "re-key mode: four different keys (%s)" % suite)
    if mode == "wrap-down":
        # 1436 and 1391 packets to the wrap (about 2.9 s): the once-a-second
        # persist stores a seq_hi of DOWN_SEQ_HI or more at least once for
        # each stream, at least 490 packets (1 s) before its wrap.
        seq0 = {"A": 64100, "B": 64145}
    else:
        # B wraps 90 ms before A (after 291 and 336 packets), both within 0.7 s.
        seq0 = {"A": 65200, "B": 65245}
    topo, region, dp, a, b = srtp_lab(tmp, lab, keys)
    caps = {"A": Capture(lab, topo.cA, os.path.join(tmp, "to-a.pcap")),
            "B": Capture(lab, topo.cB, os.path.join(tmp, "to-b.pcap"))}
    # 10 s of stream each way: the wrap after ~0.7 s, the kill, ~1 s of
    # restart, and several seconds after it.
    count = 5000
    send_s = count * INTERVAL_MS / 1000.0
    timeout = START_DELAY_MS / 1000.0 + send_s + 1.5
    ready = {s: os.path.join(tmp, "%s.ready" % s) for s in "AB"}
    common = ["--rtcp-every", 1 if mode == "srtcp-rate" else RTCP_EVERY, "--allow-loss", count,
              "--linger-ms", 300,
              "--start-delay-ms", START_DELAY_MS]
    pb = peer(lab, topo.cB, "B", keys, B_SSRC, A_SSRC, seq0["B"], count, timeout, ready["B"], common)
    pa = peer(lab, topo.cA, "A", keys, A_SSRC, B_SSRC, seq0["A"], count, timeout, ready["A"], common)
    L.wait_until(lambda: all(os.path.exists(r) for r in ready.values()), "both peers to bind", 5)
    t_bound = time.monotonic()
    # Both directions have wrapped once the dp parts say ROC 1, inbound and
    # outbound (persisted on the wrap itself).

    def wrapped():
        sa, sb = dp_part(region, a), dp_part(region, b)
        ok = all(s[d].get(ssrc, (0,))[0] == 1 for s, ssrc in ((sa, A_SSRC), (sb, B_SSRC))
                 for d in ("in", "out"))
        return (sa, sb) if ok else None

    # wrap-down: both resume points are in the upper half, still at ROC 0.

    def near_wrap():
        sa, sb = dp_part(region, a), dp_part(region, b)
        ok = all(s[d].get(ssrc, (1, 0))[0] == 0 and s[d][ssrc][1] >= DOWN_SEQ_HI
                 for s, ssrc in ((sa, A_SSRC), (sb, B_SSRC)) for d in ("in", "out"))
        return (sa, sb) if ok else None

    if mode == "wrap-down":
        L.wait_until(near_wrap, "both resume points at ROC 0, seq_hi >= %d" % DOWN_SEQ_HI,
                     START_DELAY_MS / 1000.0 + 5, interval=0.002)
    else:
        L.wait_until(wrapped, "both streams to wrap (ROC 1 in both legs' dp parts)",
                     START_DELAY_MS / 1000.0 + 5, interval=0.002)
    t_wrap_seen = time.monotonic()
    if mode == "late":
        time.sleep(2.0)     # the once-a-second persist has rewritten the resume points
    elif mode == "srtcp-rate":
        # Right after a store, then 400 more SRTCP packets each way.
        last = dp_part(region, a)["out"][A_SSRC][2]
        L.wait_until(lambda: dp_part(region, a)["out"][A_SSRC][2] != last,
                     "leg A's outbound SRTCP index to be stored again", 3, interval=0.001)
        time.sleep(0.8)
    st0 = region.stats()["drops_total"]
    first_pid = dp.proc.pid
    t_kill = time.monotonic()
    dp.kill9()
    wall_kill = time.time()
    sa, sb = dp_part(region, a), dp_part(region, b)
    print("# %s: kill -9 %.0f ms after the resume points were seen (%.2f s after the peers bound)"
          % (mode, (t_kill - t_wrap_seen) * 1000, t_kill - t_bound))
    print("# leg A dp part at the kill: %s" % fmt_state(sa))
    print("# leg B dp part at the kill: %s" % fmt_state(sb))
    for name, st, ssrc in (("A", sa, A_SSRC), ("B", sb, B_SSRC)):
        for d in ("in", "out"):
            if mode == "wrap-down":
                check(st[d].get(ssrc, (None,))[0] == 0 and st[d][ssrc][1] >= DOWN_SEQ_HI,
                      "leg %s: the %sbound resume point of %08x says ROC 0, seq_hi %s >= %d"
                      % (name, d, ssrc, st[d].get(ssrc, (0, None))[1], DOWN_SEQ_HI))
            else:
                check(st[d].get(ssrc, (None,))[0] == 1,
                      "leg %s: the %sbound resume point of %08x says ROC 1" % (name, d, ssrc))
        if mode == "wrap":
            # Written on the wrap, not by the periodic persist a second later.
            check(st["out"][ssrc][1] < 500,
                  "leg %s: the resume point at the kill is the one written at the wrap "
                  "(seq_hi %d)" % (name, st["out"][ssrc][1]))
    check(not {k: v for k, v in st0.items() if k in ("srtp-auth", "srtp-replay")},
          "before the kill: no srtp-auth / srtp-replay drop (%s)" % st0)
    if mode == "wrap-down":
        # Stay down until both senders wrapped: each is at or past its
        # stored seq_hi, so this many packet intervals is enough.
        low = min(st[d][ssrc][1] for st, ssrc in ((sa, A_SSRC), (sb, B_SSRC)) for d in ("in", "out"))
        down_s = (0x10000 - low + 100) * INTERVAL_MS / 1000.0
        print("# wrap-down: staying down %.2f s, until both senders wrapped" % down_s)
        time.sleep(max(0.0, down_s - (time.monotonic() - t_kill)))
    restart_dp(dp, region, t_kill)
    check(dp.proc.pid != first_pid, "a new mrelay-dp runs")
    ra, rb = L.result(pa, timeout=timeout + 20), L.result(pb, timeout=timeout + 20)
    time.sleep(0.2)
    pkts = {s: c.stop() for s, c in caps.items()}
    drops = region.drops()
    sa2, sb2 = dp_part(region, a), dp_part(region, b)
    print("# leg A dp part at the end: %s" % fmt_state(sa2))
    print("# leg B dp part at the end: %s" % fmt_state(sb2))
    print("# drops of the new process: %s" % drops)

    keys_ = ("ok", "sent", "rtcp_sent", "tx_roc_final", "unique", "lost", "duplicates", "reordered",
             "auth_failures", "replay_failures", "rtcp_authenticated", "rtcp_auth_failures",
             "rtcp_replay_failures", "payload_errors", "wrong_ssrc", "unexpected_source", "first_seq",
             "last_seq", "roc_final")
    L.summary("A (receives B's stream)", ra, keys_)
    L.summary("B (receives A's stream)", rb, keys_)
    if ra.get("failures") or rb.get("failures"):
        print("# peer failures: A %s; B %s" % (ra.get("failures"), rb.get("failures")))

    srtcp = {}
    for rx, tx, rx_side, tx_side, ssrc in (("A", "B", ra, rb, B_SSRC), ("B", "A", rb, ra, A_SSRC)):
        what = "%s->%s" % (tx, rx)
        rtp = srtp_indexes(pkts[rx], ssrc)
        rtcp = srtcp_indexes(pkts[rx], ssrc, suite)
        pre = [e for t, e in rtp if t < wall_kill]
        post = [e for t, e in rtp if t >= wall_kill]
        rpre = [i for t, i in rtcp if t < wall_kill]
        rpost = [i for t, i in rtcp if t >= wall_kill]
        ext0 = seq0[tx]
        print("# %s on the wire: %d SRTP before the kill (index %s..%s), %d after (%s..%s); "
              "%d SRTCP before (index %s..%s), %d after (%s..%s)"
              % (what, len(pre), pre and hex(pre[0]), pre and hex(pre[-1]), len(post),
                 post and hex(post[0]), post and hex(post[-1]), len(rpre), rpre and rpre[0],
                 rpre and rpre[-1], len(rpost), rpost and rpost[0], rpost and rpost[-1]))
        t_wrap = next((t for t, e in rtp if e >= 0x10000), None)
        if mode == "wrap-down":
            check(pre and post and pre[-1] < 0x10000 <= post[0],
                  "%s: the stream wrapped while mrelay-dp was down (last index before the kill "
                  "%s, first after the restart %s)" % (what, pre and hex(pre[-1]), post and hex(post[0])))
        else:
            check(t_wrap is not None and t_wrap < wall_kill,
                  "%s: the stream wrapped before the kill (on the wire %.0f ms before it)"
                  % (what, (wall_kill - (t_wrap or wall_kill)) * 1000))
        if mode == "wrap":
            check(wall_kill - t_wrap < 1.0, "%s: the kill came within a second of the wrap" % what)
        rtp_replays = rx_side["replay_failures"] - rx_side["rtcp_replay_failures"]
        rtp_auth = rx_side["auth_failures"] - rx_side["rtcp_auth_failures"]
        # -- SRTP: authentication at the receiver (its own libsrtp) --
        check(rtp_auth == 0 and rtp_replays == 0,
              "%s: no SRTP packet failed authentication (%d) or the replay check (%d) at %s"
              % (what, rtp_auth, rtp_replays, rx))
        check(rx_side["payload_errors"] == 0 and rx_side["wrong_ssrc"] == 0
              and rx_side["unexpected_source"] == 0 and rx_side["duplicates"] == 0
              and rx_side["reordered"] == 0,
              "%s: byte-exact, in order, no duplicates, only %08x from the relay" % (what, ssrc))
        want_roc = (ext0 + tx_side["sent"] - 1) >> 16
        check(tx_side["sent"] == count and tx_side["tx_roc_final"] == want_roc == 1,
              "%s: %s sent all %d packets and ended at ROC %d" % (what, tx, count, want_roc))
        check(rx_side["roc_final"] == want_roc,
              "%s: %s's libsrtp ends at ROC %s, the sender's" % (what, rx, rx_side["roc_final"]))
        check(rx_side["first_seq"] == ext0 and rx_side["last_seq"] == (ext0 + count - 1) & 0xFFFF,
              "%s: the first (%d) and the last packet (%d) arrived"
              % (what, rx_side["first_seq"], rx_side["last_seq"]))
        # -- loss: one run around the restart --
        check(len(rtp) == rx_side["received"],
              "%s: the capture saw what %s received (%d = %d)" % (what, rx, len(rtp), rx_side["received"]))
        idx = [e for _, e in rtp]
        check(idx == sorted(set(idx)), "%s: the relay sent each SRTP index once, ascending" % what)
        gaps = ext_gaps(idx)
        check(len(gaps) == 1 and pre and post and gaps[0] == (pre[-1], post[0]),
              "%s: the only missing packets are the restart's: %s" % (what, gaps))
        check(rx_side["lost"] == post[0] - pre[-1] - 1 and
              rx_side["unique"] + rx_side["lost"] == count,
              "%s: %d lost in the gap, %d + %d = %d sent" % (what, rx_side["lost"], rx_side["unique"],
                                                             rx_side["lost"], count))
        check(len(post) >= 500, "%s: %d packets after the restart (>= 1 s of stream)" % (what, len(post)))
        # -- SRTP: no keystream reuse --
        check((pre[-1] >= 0x10000 or mode == "wrap-down") and post[0] > pre[-1] and post[0] >> 16 == 1,
              "%s: the first SRTP index after the restart (%#x: ROC 1, seq %d) is past every index "
              "sent before the kill (last %#x)" % (what, post[0], post[0] & 0xFFFF, pre[-1]))
        srtcp[what] = (rx, rx_side, rtcp, rpre, rpost)
    # -- SRTCP: authenticated, and no index sent twice (keystream reuse) --
    for what, (rx, rx_side, rtcp, rpre, rpost) in sorted(srtcp.items()):
        check(len(rpre) > 0 and len(rpost) > 0, "%s: SRTCP both before and after the kill" % what)
        reused = sorted(set(rpre) & set(rpost))
        if reused:
            print("# %s: SRTCP indexes the relay sent before the kill and again after it: %s"
                  % (what, reused))
        check(not reused and rx_side["rtcp_replay_failures"] == 0,
              "%s: no SRTCP index used before the kill is used again after it (reused %s; "
              "%d replay failures at %s)" % (what, reused, rx_side["rtcp_replay_failures"], rx))
        check(rx_side["rtcp_auth_failures"] == 0 and rx_side["rtcp_authenticated"] == len(rtcp),
              "%s: every SRTCP packet from the relay authenticated at %s (%d of %d)"
              % (what, rx, rx_side["rtcp_authenticated"], len(rtcp)))
        seq_ = [i for _, i in rtcp]
        check(seq_ == sorted(set(seq_)), "%s: the relay sent each SRTCP index once, ascending" % what)
    check_end(dp, drops, mode, t_test)


# --- a stream paused across the restart ---------------------------------------------------
#
# Leg A carries two SSRCs: W crosses the wrap and pauses, M streams through
# the kill and the restart, then W comes back where it paused (srtp_peer
# --tx-roc 1). W's resume point must survive M's persists in the new
# process, so that W's packets authenticate at ROC 1 and go out at ROC 1.

W_SSRC = 0xC3C3C3C3


def run_paused(tmp, lab):
    t_test = time.monotonic()
    suite = "AES_CM_128_HMAC_SHA1_80"
    keys = srtp_keys(suite, 20)
    topo, region, dp, a, b = srtp_lab(tmp, lab, keys)
    cap = Capture(lab, topo.cB, os.path.join(tmp, "to-b.pcap"))
    w0, w1, w3 = 65400, 300, 600         # W resumes for 1.2 s: a persist during it
    only_tx = ["--expect-count", 0, "--rtcp-every", RTCP_EVERY]
    r = L.result(peer(lab, topo.cA, "A", keys, W_SSRC, None, w0, w1, 2.0,
                      extra=only_tx + ["--allow-loss", w1]), timeout=10)
    check(r["sent"] == w1 and r["tx_roc_final"] == 1, "W sent %d packets across the wrap (%d..%d)"
          % (w1, w0, r["tx_last_seq"]))
    L.wait_until(lambda: all(dp_part(region, a)[d].get(W_SSRC, (0,))[0] == 1 for d in ("in", "out")),
                 "W's wrap in leg A's dp part", 3)
    print("# leg A dp part with W paused: %s" % fmt_state(dp_part(region, a)))
    # M through the kill and the restart
    m_count = 2000
    pm = peer(lab, topo.cA, "A", keys, A_SSRC, None, 1000, m_count, m_count * INTERVAL_MS / 1000.0 + 2,
              extra=only_tx + ["--allow-loss", m_count])
    time.sleep(1.5)
    before = dp_part(region, a)
    dp.kill9()
    t_kill = time.monotonic()
    print("# leg A dp part at the kill: %s" % fmt_state(before))
    restart_dp(dp, region, t_kill)
    r = L.result(pm, timeout=30)
    check(r["sent"] == m_count, "M streamed through the restart (%d packets)" % m_count)
    time.sleep(0.3)
    after = dp_part(region, a)
    print("# leg A dp part after M, in the new process: %s" % fmt_state(after))
    for d in ("in", "out"):
        w = after[d].get(W_SSRC)
        check(w is not None and w[0] == 1 and w[2] >= before[d][W_SSRC][2],
              "the new process kept paused W's %sbound resume point (ROC 1, SRTCP index %s >= %d)"
              % (d, w and w[2], before[d][W_SSRC][2]))
    d0 = region.drops()
    seq3 = (w0 + w1) & 0xFFFF
    r = L.result(peer(lab, topo.cA, "A", keys, W_SSRC, None, seq3, w3, 3.0,
                      extra=["--expect-count", 0, "--allow-loss", w3, "--tx-roc", 1]), timeout=10)
    time.sleep(0.3)
    d1 = region.drops()
    pkts = cap.stop()
    delta = {k: d1.get(k, 0) - d0.get(k, 0) for k in ("srtp-auth", "srtp-replay")}
    print("# W resumed: %d packets from seq %d at ROC 1; relay drops meanwhile %s" % (r["sent"], seq3, delta))
    check(r["sent"] == w3 and delta == {"srtp-auth": 0, "srtp-replay": 0},
          "W's packets after the pause authenticated at the relay (ROC 1): %s" % delta)
    idx = [e for _, e in srtp_indexes(pkts, W_SSRC)]
    tail = idx[-w3:]
    check(len(idx) >= w1 - 10 + w3 and tail == list(range(w0 + w1, w0 + w1 + w3)),
          "the relay forwarded all %d of W's resumed packets, indexes %#x.. after %#x"
          % (w3, w0 + w1, w0 + w1 - 1))
    check(idx == sorted(set(idx)), "the relay sent each of W's SRTP indexes once")
    end = dp_part(region, a)
    print("# leg A dp part at the end: %s" % fmt_state(end))
    check(end["out"][W_SSRC][0] == 1 and end["out"][W_SSRC][1] >= seq3,
          "W's outbound context protected the resumed packets at ROC 1 (libsrtp's ROC %d, seq_hi %d)"
          % end["out"][W_SSRC][:2])
    check_end(dp, region.drops(), "paused", t_test)


# --- renumbering past a mute, across the restart ----------------------------------------
#
# A re-keyed stream is renumbered past a mute (worker.c counts the muted
# packets, crypt.c subtracts the count before protecting), so its receiver
# never sees the mute as a gap: RFC 3711's estimate fails past 2^15. A
# restarted dataplane recovers the offset from the dp part, where both ends
# of the stream are stored together (flow.c resume_renumbering()).
#
# One stream A -> B at 500 pps: forwarded 1 s, muted MUTE1_S, forwarded
# again (the unmute closes the gap), muted again, killed and restarted while
# muted, unmuted. B (libsrtp) must authenticate every packet, every index
# the relay sends (SRTP and SRTCP) must be new, and the jump B sees across
# the restart must hold no more than the packets of the second mute before
# the kill and of the downtime: had the restart forgotten the first mute's
# offset, that jump would also hold the whole first mute.

MUTE1_S = 4.0


def set_muted(region, slot, muted):
    region.ctl("leg", "set", slot, "--muted" if muted else "--no-muted")
    L.sync(region)
    return time.monotonic()


def run_mute(tmp, lab):
    t_test = time.monotonic()
    suite = "AEAD_AES_128_GCM"
    keys = srtp_keys(suite, 40)
    topo, region, dp, a, b = srtp_lab(tmp, lab, keys)
    cap = Capture(lab, topo.cB, os.path.join(tmp, "to-b.pcap"))
    count = 6500                        # 13 s of stream
    timeout = START_DELAY_MS / 1000.0 + count * INTERVAL_MS / 1000.0 + 1.5
    ready = {x: os.path.join(tmp, "m%s.ready" % x) for x in "AB"}
    # B only receives (its one packet goes to A, which ignores it); renumbering
    # changes sequence numbers, not payloads: no payload check.
    pb = peer(lab, topo.cB, "B", keys, B_SSRC, A_SSRC, 100, 1, timeout, ready["B"],
              ["--expect-count", count, "--allow-loss", count, "--no-payload-check",
               "--start-delay-ms", START_DELAY_MS])
    pa = peer(lab, topo.cA, "A", keys, A_SSRC, None, 1000, count, timeout, ready["A"],
              ["--expect-count", 0, "--allow-loss", count, "--rtcp-every", RTCP_EVERY,
               "--start-delay-ms", START_DELAY_MS])
    L.wait_until(lambda: all(os.path.exists(r) for r in ready.values()), "both peers to bind", 5)
    time.sleep(START_DELAY_MS / 1000.0 + 1.0)
    set_muted(region, a, True)
    time.sleep(MUTE1_S)
    set_muted(region, a, False)
    muted1 = region.drops().get("muted", 0)
    # Forwarded again until a persist stored the offset (in.seq_hi - out.seq_hi).

    def offset_stored():
        st = dp_part(region, a)
        i, o = st["in"].get(A_SSRC), st["out"].get(A_SSRC)
        return st if i and o and o[1] > 1000 and (i[1] - o[1]) & 0xFFFF >= muted1 // 2 else None

    st = L.wait_until(offset_stored, "leg A's dp part to hold the first mute's offset", 5)
    print("# first mute: %d packets muted; leg A dp part: %s" % (muted1, fmt_state(st)))
    time.sleep(0.5)
    t_mute2 = set_muted(region, a, True)
    time.sleep(0.5)
    before = dp_part(region, a)
    dp.kill9()
    wall_kill = time.time()
    t_kill = time.monotonic()
    print("# leg A dp part at the kill (muted): %s" % fmt_state(before))
    restart_dp(dp, region, t_kill)
    time.sleep(0.5)
    t_unmute2 = set_muted(region, a, False)
    ra, rb = L.result(pa, timeout=timeout + 20), L.result(pb, timeout=timeout + 20)
    time.sleep(0.2)
    pkts = cap.stop()
    drops = region.drops()
    print("# leg A dp part at the end: %s" % fmt_state(dp_part(region, a)))
    print("# drops of the new process: %s" % drops)
    keys_ = ("ok", "sent", "rtcp_sent", "unique", "lost", "duplicates", "reordered", "auth_failures",
             "replay_failures", "rtcp_authenticated", "rtcp_auth_failures", "rtcp_replay_failures",
             "first_seq", "last_seq", "roc_final")
    L.summary("B (receives A's stream)", rb, keys_)
    check(ra["sent"] == count, "A sent all %d packets" % count)
    rtp = srtp_indexes(pkts, A_SSRC)
    rtcp = srtcp_indexes(pkts, A_SSRC, suite)
    idx = [e for _, e in rtp]
    pre = sorted(e for t, e in rtp if t < wall_kill)
    post = sorted(e for t, e in rtp if t >= wall_kill)
    gaps = ext_gaps(sorted(idx))
    print("# A->B on the wire: %d SRTP before the kill (%s..%s), %d after (%s..%s); gaps %s; "
          "%d SRTCP" % (len(pre), pre and hex(pre[0]), pre and hex(pre[-1]), len(post),
                        post and hex(post[0]), post and hex(post[-1]), gaps, len(rtcp)))
    check(rb["auth_failures"] == 0 and rb["replay_failures"] == 0 and rb["duplicates"] == 0
          and rb["wrong_ssrc"] == 0 and rb["unexpected_source"] == 0,
          "B authenticated every packet from the relay, no replay, no duplicate")
    check(len(idx) == rb["received"], "the capture saw what B received (%d = %d)"
          % (len(idx), rb["received"]))
    # The first packets of a new SSRC wait on the management lcore for their
    # contexts while later ones may pass (mgmt.c handle_new_ssrc()): a few may
    # leave out of order at the very start, never after.
    check(len(set(idx)) == len(idx) and idx[10:] == sorted(idx[10:]) and
          min(idx[10:]) > max(idx[:10]) and rb["reordered"] <= 10,
          "the relay sent each SRTP index once, ascending after the stream's first packets "
          "(B counted %d reordered)" % rb["reordered"])
    seq_ = [i for _, i in rtcp]
    check(rtcp and seq_ == sorted(set(seq_)) and rb["rtcp_authenticated"] == len(rtcp)
          and rb["rtcp_auth_failures"] == 0,
          "the relay sent each SRTCP index once, ascending, and B authenticated all %d" % len(rtcp))
    check(muted1 >= MUTE1_S * 1000 / INTERVAL_MS * 0.8, "the first mute held back %d packets" % muted1)
    # The first unmute, without a restart: no gap (or the few in flight).
    check(pre and post and len(gaps) >= 1 and all(y - x - 1 < 50 for x, y in gaps[:-1]),
          "before the kill the stream had no gap the mute could explain: %s" % gaps[:-1])
    jump = post[0] - pre[-1] - 1
    # What the restart may show as a gap: the second mute's packets up to
    # the kill and those sent while the dataplane was down or still muted
    # after it (a generous bound: all of them).
    bound = int((t_unmute2 - t_mute2) * 1000 / INTERVAL_MS) + 50
    print("# across the restart B's sequence jumps by %d packets (bound %d; the first mute was %d)"
          % (jump, bound, muted1))
    check(gaps[-1] == (pre[-1], post[0]) and 0 <= jump <= bound and jump < muted1,
          "the restarted dataplane kept the first mute's renumbering: B's sequence jumps by %d "
          "across the restart, not by the %d packets of that mute" % (jump, muted1))
    check(post[-1] >> 16 == 0 and len(post) >= 500, "%d packets after the restart" % len(post))
    check_end(dp, drops, "mute", t_test)


def test_late(tmp):
    in_lab(run, tmp, "late")


def test_wrap(tmp):
    in_lab(run, tmp, "wrap")


def test_wrap_down(tmp):
    in_lab(run, tmp, "wrap-down")


def test_srtcp_rate(tmp):
    in_lab(run, tmp, "srtcp-rate")


def test_paused(tmp):
    in_lab(run_paused, tmp)


def test_mute(tmp):
    in_lab(run_mute, tmp)


TESTS = [test_late, test_wrap, test_wrap_down, test_srtcp_rate, test_paused, test_mute]

if __name__ == "__main__":
    tests = {t.__name__[5:]: t for t in TESTS}
    t0 = time.monotonic()
    main([tests[n] for n in sys.argv[1:]] if len(sys.argv) > 1 else list(tests.values()))
    print("# %.1f s" % (time.monotonic() - t0))
