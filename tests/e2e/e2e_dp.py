#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests of mrelay-dp on net_af_packet: real UDP/TCP sockets in
network namespaces, a real Linux NAT (iptables MASQUERADE), mrelayctl as the
control side. One test per argument: nat_relay spoof restart churn handoff
exception (all of them without arguments).

Topology (built by nslab.Topo; the attacker namespace only for spoof):

  cA 198.18.1.10 --[ nat: MASQUERADE to 198.18.0.20, udp ports 50000-50999 ]--+
                                                                               |
  cB 198.18.0.11 ---------------------------------------------[ bridge br0 ]--+-- dp0 [ mrelay-dp,
  x  198.18.0.66 (attacker) ---------------------------------------------------+    relay 198.18.0.2 ]
                                                                                    | exception test only:
                                                                         TAP mrelay-exc0 198.18.0.3 (the
                                                                         dp namespace's kernel = "host")

Legs: A = relay 198.18.0.2:30000/30001, signaled with cA's private address
198.18.1.10:40000 as its hint (what a SIP client behind a NAT puts in its
SDP); B = 198.18.0.2:30002/30003 for cB at 198.18.0.11:40002. The relay must
latch A onto the NAT's public address and translated port.

Host changes: see nslab.py (namespaces mre2e-<pid>-*, deleted on exit).
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nslab as L  # noqa: E402
from nslab import A_PRIV, B_IP, NAT_PORTS, NAT_PUB, RELAY, X_IP, Fail, check  # noqa: E402
from harness import main  # noqa: E402

A_SSRC, B_SSRC = 0x0A0A0A0A, 0x0B0B0B0B
A_RTP, B_RTP = "%s:40000" % A_PRIV, "%s:40002" % B_IP
A_RTCP, B_RTCP = "%s:40001" % A_PRIV, "%s:40003" % B_IP
RA, RB = "%s:30000" % RELAY, "%s:30002" % RELAY          # relay ports of legs A, B
RA_RTCP, RB_RTCP = "%s:30001" % RELAY, "%s:30003" % RELAY


# Drop reasons that mean the relay itself lost or mangled something. Others
# are background noise of a real network (IGMP reports carry IP options,
# ICMP errors are unsupported-protocol) or the warm-up (no-nexthop-mac).
TROUBLE_DROPS = ("tx-full", "handoff-full", "punt-full", "exception-full", "state-torn",
                 "no-headroom", "multi-segment", "bad-checksum", "malformed", "no-egress",
                 "no-destination", "src-not-latched")


def make_pair(region, a_slot=None, b_slot=None, extra=()):
    a = region.leg("--local", RA, "--peer", A_RTP, *(["--slot", a_slot] if a_slot is not None else []),
                   *extra)
    b = region.leg("--local", RB, "--peer", B_RTP, *(["--slot", b_slot] if b_slot is not None else []),
                   *extra)
    region.pair(a, b)
    L.sync(region)
    return a, b


def warm_up(lab, topo, rtcp=True):
    """A speaks first (as a client behind a NAT must: nothing reaches it
    before its NAT has a mapping), then B: both legs latch and the relay
    resolves both next hops. Nobody listens yet, so what the relay forwards
    now is lost (and counted); the measured phases start after this."""
    for ns, bind, to, ssrc in ((topo.cA, A_RTP, RA, A_SSRC), (topo.cB, B_RTP, RB, B_SSRC)):
        L.result(lab.peer(ns, "send", "--bind", bind, "--to", to, "--count", 5, "--interval-ms", 10,
                          "--ssrc", hex(ssrc), "--seq-start", 100))
    if rtcp:
        for ns, bind, to, ssrc, other in ((topo.cA, A_RTCP, RA_RTCP, A_SSRC, B_SSRC),
                                          (topo.cB, B_RTCP, RB_RTCP, B_SSRC, A_SSRC)):
            L.result(lab.helper(ns, "rtcp", "--bind", bind, "--to", to, "--count", 2,
                                "--interval-ms", 10, "--ssrc", hex(ssrc), "--expect-ssrc", hex(other),
                                "--allow-loss", 2, "--timeout", 0.3))
    time.sleep(0.1)


def duplex(lab, topo, count, interval_ms, seq_start=1000, allow_loss=0, timeout=None, extra=(),
           start_in=0.6):
    """A and B stream RTP to each other through the relay; returns the two
    peers (e2e_peer.py timeline: rtp_peer's Sender and Receiver with their
    checks, plus arrival times and a common start time, so neither side's
    first packets meet a port the other has not bound yet)."""
    timeout = timeout or count * interval_ms / 1000.0 + 10
    common = ["--count", count, "--interval-ms", interval_ms, "--seq-start", seq_start,
              "--allow-loss", allow_loss, "--timeout", timeout, "--linger-ms", 200,
              "--start-at", "%.3f" % (time.monotonic() + start_in)] + list(extra)
    pa = lab.helper(topo.cA, "timeline", "--bind", A_RTP, "--to", RA, "--ssrc", hex(A_SSRC),
                    "--expect-ssrc", hex(B_SSRC), "--expect-from", RA, *common)
    pb = lab.helper(topo.cB, "timeline", "--bind", B_RTP, "--to", RB, "--ssrc", hex(B_SSRC),
                    "--expect-ssrc", hex(A_SSRC), "--expect-from", RB, *common)
    return pa, pb


def duplex_until_stopped(lab, topo, tmp, interval_ms, most, gap_ms, allow_loss=0):
    """duplex() streams that run until stop_duplex(), @most packets each
    way at the most (their timeout is that many intervals), every silence
    over @gap_ms noted. Returns (pa, pb, the stop file)."""
    stop = os.path.join(tmp, "stop")
    pa, pb = duplex(lab, topo, most, interval_ms, allow_loss=allow_loss, timeout=most * interval_ms / 1000.0,
                    extra=["--gap-ms", gap_ms, "--stop-file", stop])
    return pa, pb, stop


def stop_duplex(pa, pb, stop, timeout):
    """Stop the streams of duplex_until_stopped(); their two summaries."""
    open(stop, "w").close()
    return L.result(pa, timeout=timeout), L.result(pb, timeout=timeout)


def check_clean(name, r):
    """A timeline summary's receiving side: in order, no duplicates,
    byte-exact, from the relay only (loss is the caller's to judge)."""
    L.summary(name, r, ["rx_unique", "rx_lost", "rx_reordered", "rx_duplicates", "rx_payload_errors"])
    check(r["rx_reordered"] == 0 and r["rx_duplicates"] == 0 and r["rx_payload_errors"] == 0
          and r["rx_wrong_ssrc"] == 0 and r["rx_unexpected_source"] == 0,
          "%s: in order, no duplicates, byte-exact, only from the relay" % name)


def rtcp_pair(lab, topo, count=10, interval_ms=200, start_in=0.6):
    t = ["--start-at", "%.3f" % (time.monotonic() + start_in)]
    pa = lab.helper(topo.cA, "rtcp", *t, "--bind", A_RTCP, "--to", RA_RTCP, "--count", count,
                    "--interval-ms", interval_ms, "--ssrc", hex(A_SSRC), "--expect-ssrc", hex(B_SSRC),
                    "--expect-from", RA_RTCP)
    pb = lab.helper(topo.cB, "rtcp", *t, "--bind", B_RTCP, "--to", RB_RTCP, "--count", count,
                    "--interval-ms", interval_ms, "--ssrc", hex(B_SSRC), "--expect-ssrc", hex(A_SSRC),
                    "--expect-from", RB_RTCP)
    return pa, pb


def check_stream(name, r, want, allow_loss=0, prefix=""):
    """An rtp_peer/timeline summary: complete (within @allow_loss), in order,
    byte-exact, from the relay only."""
    g = lambda k: r.get(prefix + k)  # noqa: E731
    L.summary(name, r, [prefix + k for k in ("received", "unique", "lost", "duplicates",
                                            "reordered", "payload_errors", "wrong_ssrc",
                                            "unexpected_source")] + ["tx_sent", "missing"])
    check(r["exit"] == 0, "%s: peer passed its own checks (%s)" % (name, r.get("failures") or r["stderr"]))
    check(g("unique") + allow_loss >= want and g("unique") <= want,
          "%s: %d of %d packets arrived (tolerance %d)" % (name, g("unique"), want, allow_loss))
    check(g("payload_errors") == 0 and g("not_rtp") == 0, "%s: every payload byte-exact" % name)
    check(g("reordered") == 0 and g("duplicates") == 0, "%s: no reordering, no duplicates" % name)
    check(g("wrong_ssrc") == 0 and g("unexpected_source") == 0,
          "%s: only the other peer's stream, only from the relay port" % name)


def wait_latched_events(region, n, timeout=10.0):
    """Drain the event ring until the @n latched events of the warm-up came
    (the management lcore posts them after the workers latched: on a busy
    machine that can lag), so later checks see only new events."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen += [e for e in L.events(region) if e["type"] == "latched"]
        if len(seen) >= n:
            return seen
        time.sleep(0.05)
    raise Fail("only %d of %d latched events came: %s" % (len(seen), n, seen))


def latched(region, slot):
    leg = L.leg_by_slot(region, slot)
    return leg["latched_rtp"], leg["latched_rtcp"]


def host_port(s):
    h, _, p = s.rpartition(":")
    return h, int(p)


def check_nat_latch(region, topo, a, b):
    """Leg A is latched to the NAT's public address and the ports the NAT
    really chose (its conntrack table says which), B to its own address."""
    maps = topo.nat_mappings()
    rtp, rtcp = latched(region, a)
    print("# leg A latched rtp=%s rtcp=%s; NAT mappings %s" % (rtp, rtcp, maps))
    want_rtp = maps.get((A_PRIV, 40000, 30000))
    want_rtcp = maps.get((A_PRIV, 40001, 30001))
    check(want_rtp is not None and want_rtp[0] == NAT_PUB and NAT_PORTS[0] <= want_rtp[1] <= NAT_PORTS[1],
          "the NAT translated cA's RTP source to %s (a port in %d-%d)" % ((want_rtp,) + NAT_PORTS))
    check(rtp == "%s:%d" % want_rtp, "leg A latched RTP to the NAT's public address %s" % rtp)
    check(want_rtcp is not None and rtcp == "%s:%d" % want_rtcp,
          "leg A latched RTCP (port+1) to the NAT's mapping %s" % rtcp)
    check(latched(region, b) == (B_RTP, B_RTCP), "leg B latched to cB itself")
    return rtp, rtcp


def latched_pair(lab, region, topo):
    """Legs A and B paired (make_pair), warmed up and latched, A on its
    NAT mapping (check_nat_latch). Returns (a, b, A's (RTP, RTCP) latch)."""
    a, b = make_pair(region)
    warm_up(lab, topo)
    return a, b, check_nat_latch(region, topo, a, b)


def ctr(region, slot):
    s = region.leg_stats(slot)
    return {k: s[k] for k in ("rx_pkts", "tx_pkts", "drop_src", "drop_other")}


def delta(after, before):
    return {k: after[k] - before[k] for k in after}


# --- 1. NAT ---------------------------------------------------------------------

@L.in_lab
def test_nat_relay(tmp, lab):
    topo, region, dp = L.nat_lab(lab, tmp, "nat")
    a, b, _ = latched_pair(lab, region, topo)
    ca0, cb0 = ctr(region, a), ctr(region, b)
    count, tol = 200, 2                     # 50 pps x 4 s each way
    pa, pb = duplex(lab, topo, count, 20, allow_loss=tol)
    qa, qb = rtcp_pair(lab, topo)
    ra, rb = L.result(pa), L.result(pb)
    sa, sb = L.result(qa), L.result(qb)
    check_stream("A<-B (through the NAT)", ra, count, tol, "rx_")
    check_stream("B<-A", rb, count, tol, "rx_")
    for n, s in (("A", sa), ("B", sb)):
        print("# rtcp %s: %s" % (n, s))
        check(s["exit"] == 0 and s["received"] == 10 and s["corrupt"] == 0 and s["foreign"] == 0,
              "RTCP (port + 1) to %s: 10 of 10 sender reports, byte-exact, from the relay" % n)
    time.sleep(0.2)
    da, db = delta(ctr(region, a), ca0), delta(ctr(region, b), cb0)
    print("# counter deltas A=%s B=%s" % (da, db))
    check(da["rx_pkts"] == ra["tx_sent"] + sa["sent"],
          "leg A rx_pkts (%d) = RTP + RTCP cA sent (%d + %d)" % (da["rx_pkts"], ra["tx_sent"], sa["sent"]))
    check(db["rx_pkts"] == rb["tx_sent"] + sb["sent"],
          "leg B rx_pkts (%d) = RTP + RTCP cB sent (%d + %d)" % (db["rx_pkts"], rb["tx_sent"], sb["sent"]))
    check(da["tx_pkts"] == ra["rx_received"] + sa["received"],
          "leg A tx_pkts (%d) = what cA received (%d + %d)" % (da["tx_pkts"], ra["rx_received"],
                                                               sa["received"]))
    check(db["tx_pkts"] == rb["rx_received"] + sb["received"],
          "leg B tx_pkts (%d) = what cB received (%d + %d)" % (db["tx_pkts"], rb["rx_received"],
                                                               sb["received"]))
    check(da["drop_src"] == 0 and db["drop_src"] == 0 and da["drop_other"] == 0 and db["drop_other"] == 0,
          "no drops on either leg while both flowed")
    check_nat_latch(region, topo, a, b)
    bad = {k: v for k, v in region.drops().items() if k in TROUBLE_DROPS}
    check(not bad, "no drop that means trouble: %s" % bad)
    dp_rc = dp.stop()
    check(dp_rc == 0, "mrelay-dp exits 0 on SIGINT")


# --- 2. spoofing --------------------------------------------------------------------

@L.in_lab
def test_spoof(tmp, lab):
    # A short set-up window, so the attack comes after it. relatch_idle_ms
    # protects a latched source that spoke recently; it is raised from its
    # 5 s default so that a slow machine cannot turn the RTCP latch (which
    # last spoke in the warm-up) into a legitimate re-latch mid-test.
    topo, region, dp = L.nat_lab(lab, tmp, "spoof", L.dp_config(
        tmp, extra="timeouts = { latch_window_ms = 300; relatch_idle_ms = 15000; };"), attacker=True)
    a, b, (rtp0, rtcp0) = latched_pair(lab, region, topo)
    wait_latched_events(region, 4)          # drained: only new events count below
    # The attacker knows the relay's MAC before the attack (else its
    # first packets wait on ARP in its own kernel).
    if shutil.which("ping"):
        L.sh("ping", "-c", 1, "-W", 5, RELAY, ns=topo.x)
    time.sleep(0.3)                         # past latch_window_ms
    drops0, ca0 = region.drops().get("src-not-latched", 0), ctr(region, a)
    count = 200
    pa, pb = duplex(lab, topo, count, 20)
    time.sleep(1.0)
    nat_ip, nat_port = host_port(rtp0)
    attacks = [
        ("from its own address", ["--bind", "%s:40000" % X_IP, "--to", RA]),
        ("to the RTCP port", ["--bind", "%s:40001" % X_IP, "--to", RA_RTCP]),
        ("forged: the NAT's public IP, another port (RTP bleed)",
         ["--spoof-src", "%s:%d" % (nat_ip, nat_port + 1), "--to", RA]),
        ("forged: cB's address, to leg A", ["--spoof-src", B_RTP, "--to", RA]),
    ]
    n_sent = 0
    for what, args in attacks:
        r = L.result(lab.helper(topo.x, "attack", "--count", 20, "--interval-ms", 10, *args))
        check(r["exit"] == 0 and r["sent"] == 20, "attacker sent 20 packets %s" % what)
        n_sent += r["sent"]
    ra, rb = L.result(pa), L.result(pb)
    check_stream("B<-A while attacked", rb, count, prefix="rx_")
    check_stream("A<-B while attacked", ra, count, prefix="rx_")
    refused = lambda: region.drops().get("src-not-latched", 0) - drops0  # noqa: E731
    try:
        L.wait_until(lambda: refused() >= n_sent, "%d refused packets" % n_sent, 5)
    except Fail:
        pass                                # the check below says how many
    drops = refused()
    da = delta(ctr(region, a), ca0)
    check(drops == n_sent, "src-not-latched counted every spoofed packet (%d of %d)" % (drops, n_sent))
    check(da["drop_src"] == n_sent, "leg A drop_src = %d (got %d)" % (n_sent, da["drop_src"]))
    check(da["rx_pkts"] == ra["tx_sent"], "leg A accepted only cA's %d packets (got %d)"
          % (ra["tx_sent"], da["rx_pkts"]))
    # A just went quiet: still within relatch_idle_ms, a new source is refused.
    r = L.result(lab.helper(topo.x, "attack", "--count", 10, "--interval-ms", 10, "--bind",
                            "%s:40000" % X_IP, "--to", RA))
    try:
        L.wait_until(lambda: refused() >= n_sent + 10, "10 more refused packets", 5)
    except Fail:
        pass
    drops2 = refused()
    check(drops2 == n_sent + 10, "a spoof right after A fell silent is refused too (%d)" % (drops2 - n_sent))
    check(latched(region, a) == (rtp0, rtcp0), "leg A's latch did not move: %s" % (latched(region, a),))
    evs = [e for e in L.events(region) if e["type"] == "latched"]
    check(evs == [], "no latched event since the legs first latched: %s" % evs)
    check(dp.stop() == 0, "mrelay-dp exits 0 on SIGINT")


# --- 3. restart ----------------------------------------------------------------------

def dpdk_leftovers(prefix):
    run = "/var/run/dpdk/" + prefix
    files = sorted(os.listdir(run)) if os.path.isdir(run) else []
    huge = []
    for d in ("/dev/hugepages", "/mnt/huge"):
        if os.path.isdir(d):
            huge += [os.path.join(d, f) for f in os.listdir(d) if f.startswith(prefix)]
    return files, huge


def resume_gap(name, r, t_kill, t_running):
    """The silence around the restart in one receiver's timeline."""
    # A restart takes hundreds of ms: its gap loses packets; a silence
    # without loss next to it is scheduling jitter on a busy 2-core box.
    gaps = [g for g in r["gaps"] if g["t_before"] <= t_running and g["t_after"] >= t_kill - 0.1
            and g["missing"] > 0]
    check(len(gaps) == 1, "%s: one gap around the restart (gaps: %s)" % (name, r["gaps"]))
    g = gaps[0]
    resume = g["t_after"] - t_running
    print("# %s: last packet %.0f ms before the kill, silence %.0f ms (%d packets), first packet "
          "%.0f ms after 'running'" % (name, (t_kill - g["t_before"]) * 1000, g["gap_ms"], g["missing"],
                                       resume * 1000))
    check(resume < 1.0, "%s: forwarding resumed %.0f ms after the new mrelay-dp reported running (< 1 s)"
          % (name, resume * 1000))
    # Silences without a missing packet are scheduling jitter of a busy
    # 2-core box, not loss.
    others = [x for x in r["gaps"] if x is not g and x["missing"] > 0]
    check(not others, "%s: no other packet missing in the stream: %s" % (name, others))
    return g


@L.in_lab
def test_restart(tmp, lab):
    topo, region, dp = L.nat_lab(lab, tmp, "restart")
    a, b, _ = latched_pair(lab, region, topo)
    la0, lb0 = latched(region, a), latched(region, b)
    wait_latched_events(region, 4)
    # The streams run until the test stops them, 3 s after the new
    # dataplane runs, however long its start takes on a busy machine.
    interval, most = 20, 3000                          # 50 pps each way, 60 s at most
    pa, pb, stop = duplex_until_stopped(lab, topo, tmp, interval, most, 60, allow_loss=most)
    time.sleep(0.6 + 2.5)
    latch_decisions = L.worker_sum(region.stats(), "latched")
    first_pid = dp.proc.pid
    t_kill = time.monotonic()
    dp.kill9()
    info = region.info()["dataplane"]
    check(info["alive"] is False and info["pid"] == first_pid,
          "after kill -9 the region shows the dataplane dead (state %s)" % info["state"])
    files, huge = dpdk_leftovers(dp.prefix)
    print("# left by the killed mrelay-dp: /var/run/dpdk/%s: %s; hugepage files: %s" % (dp.prefix, files, huge))
    check(not huge, "no hugepage files left (--no-huge)")
    t_running = L.start_dp(dp, region, timeout=60)
    print("# restart: 'running' %.0f ms after the kill (EAL + port + rescan)" % ((t_running - t_kill) * 1000))
    check(dp.proc.pid != first_pid, "a new mrelay-dp runs over the old runtime directory")
    time.sleep(max(0.0, t_running + 3.0 - time.monotonic()))
    ra, rb = stop_duplex(pa, pb, stop, 90)
    for name, r, o in (("A<-B", ra, rb), ("B<-A", rb, ra)):
        check_clean(name, r)
        g = resume_gap(name, r, t_kill, t_running)
        last = (1000 + o["tx_sent"] - 1) & 0xFFFF
        check(r["rx_min_seq"] == 1000 and r["rx_max_seq"] == last,
              "%s: first and last packet arrived (%s..%s of 1000..%d)" % (name, r["rx_min_seq"],
                                                                        r["rx_max_seq"], last))
        check(r["rx_unique"] + g["missing"] == o["tx_sent"],
              "%s: only the packets of the restart gap are missing (%d + %d = %d sent)"
              % (name, r["rx_unique"], g["missing"], o["tx_sent"]))
    check(latched(region, a) == la0, "leg A kept its latch on the NAT's address: %s" % (la0,))
    check(latched(region, b) == lb0, "leg B kept its latch: %s" % (lb0,))
    evs = L.events(region)
    print("# events after the restart: %s" % [(e["type"], e["slot"]) for e in evs])
    check(any(e["type"] == "dp-start" for e in evs), "the new dataplane announced itself (dp-start)")
    check(not [e for e in evs if e["type"] == "latched"], "no leg re-latched after the restart")
    check(L.worker_sum(region.stats(), "latched") == latch_decisions,
          "the new dataplane made no latch decision at all")
    bad = {k: v for k, v in region.drops().items() if k in TROUBLE_DROPS}
    check(not bad, "no drop that means trouble (a refused source would be src-not-latched): %s" % bad)
    check(dp.stop() == 0, "the restarted mrelay-dp exits 0 on SIGINT")


# --- 4. churn ---------------------------------------------------------------------------

CHURN_LEGS = 10000          # adds, and as many deletes
CHURN_ROUND = 500           # legs alive at once (slots 2..501)
CHURN_BUDGET_S = 60.0       # without a batch mode: as many as fit


def has_batch(region):
    p = subprocess.run([L.MRELAYCTL, "-r", region.path, "batch"], input="", capture_output=True,
                       text=True, timeout=10)
    return p.returncode == 0


def churn_lines(rnd):
    base = 2
    out = []
    for i in range(CHURN_ROUND):
        # Same relay address as the stable pair, ports around them.
        out.append("leg add --slot %d --local %s:%d --pstn --peer %s:%d --call-tag %d"
                   % (base + i, RELAY, 30004 + 2 * i, B_IP, 41000 + 2 * i, rnd * CHURN_ROUND + i))
    for i in range(0, CHURN_ROUND, 2):
        out.append("leg pair %d %d" % (base + i, base + i + 1))
    for i in range(CHURN_ROUND):
        out.append("leg del %d" % (base + i))
    return out


def wait_mgmt(region, dp, what, timeout=10.0):
    """Wait until the command ring is empty and the heartbeat fresh; on a
    timeout, show where each of mrelay-dp's threads is."""
    t0 = time.monotonic()
    worst = 0
    while time.monotonic() - t0 < timeout:
        inf = region.info()
        age = inf["dataplane"]["heartbeat_age_ms"] or 0
        worst = max(worst, age)
        if inf["cmd_ring"]["used"] == 0 and age < 500:
            print("# %s after %.2f s (worst heartbeat age seen %d ms)" % (what, time.monotonic() - t0, worst))
            return
        time.sleep(0.05)
    print("# management lcore stuck: %s\n%s" % (inf, L.dp_backtraces(dp)))
    raise Fail("%s: command ring %s, heartbeat %d ms old after %.0f s"
               % (what, inf["cmd_ring"], age, timeout))


@L.in_lab
def test_churn(tmp, lab):
    topo, region, dp = L.nat_lab(lab, tmp, "churn", max_legs=4096)
    a, b = make_pair(region)
    warm_up(lab, topo, rtcp=False)
    la0, lb0 = latched(region, a), latched(region, b)
    batch = has_batch(region)
    wait_latched_events(region, 2)
    # The stable pair streams from 1 s before the churn to 1 s after it,
    # however long the churn takes (the test stops the peers).
    interval, most = 5, 200 * 120                      # 200 pps each way, 120 s at most
    print("# mrelayctl batch mode: %s; stable pair at 200 pps each way" % batch)
    pa, pb, stop = duplex_until_stopped(lab, topo, tmp, interval, most, 250)
    time.sleep(0.6 + 1.0)
    t0 = time.monotonic()
    adds = dels = pairs = 0
    if batch:
        for rnd in range(CHURN_LEGS // CHURN_ROUND):
            lines = churn_lines(rnd)
            p = subprocess.run([L.MRELAYCTL, "-r", region.path, "batch"], input="\n".join(lines) + "\n",
                               capture_output=True, text=True, timeout=60)
            if p.returncode != 0:
                raise Fail("mrelayctl batch (round %d): %s" % (rnd, p.stderr.strip()))
            adds += CHURN_ROUND
            dels += CHURN_ROUND
            pairs += CHURN_ROUND // 2
            time.sleep(0.25)                    # spread the rounds over the stream
    else:
        i = 0
        while adds < CHURN_LEGS and time.monotonic() - t0 < CHURN_BUDGET_S:
            s = region.leg("--local", "%s:%d" % (RELAY, 30004 + 2 * (i % CHURN_ROUND)),
                           "--peer", "%s:%d" % (B_IP, 41000 + 2 * (i % CHURN_ROUND)))
            region.ctl("leg", "del", s)
            adds += 1
            dels += 1
            i += 1
    t_churn = time.monotonic() - t0
    print("# churn: %d adds, %d pairs, %d deletes in %.1f s (%s)"
          % (adds, pairs, dels, t_churn, "mrelayctl batch" if batch else "one mrelayctl per command"))
    if not batch:
        print("# NOTE: mrelayctl has no batch mode: only %d of %d adds/deletes fit in %.0f s"
              % (adds, CHURN_LEGS, CHURN_BUDGET_S))
    time.sleep(1.0)
    ra, rb = stop_duplex(pa, pb, stop, 30)
    inf = region.info()
    print("# after the streams: dataplane %s (process %s), cmd ring %s, resync %s; legs %s"
          % (inf["dataplane"], dp.proc.poll(), inf["cmd_ring"], inf["resync"],
             [ctr(region, s_) for s_ in (a, b)]))
    for n, r in (("A<-B", ra), ("B<-A", rb)):
        print("# %s: unique %d missing %d gaps %s" % (n, r["rx_unique"], r["missing"], r["gaps"][:5]))
    check_stream("stable A<-B during churn", ra, rb["tx_sent"], prefix="rx_")
    check_stream("stable B<-A during churn", rb, ra["tx_sent"], prefix="rx_")
    wait_mgmt(region, dp, "the management lcore applied every churn command")
    L.sync(region)
    legs = region.legs()["legs"]
    check([leg["slot"] for leg in legs] == [a, b], "only the stable pair is left: slots %s"
          % [leg["slot"] for leg in legs[:10]])
    check(region.info()["active_legs"] == 2, "the region counts 2 active legs")
    check((latched(region, a), latched(region, b)) == (la0, lb0), "the stable pair kept its latches")
    # Gone from the dataplane too: a churned leg's port is no leg at all.
    no_leg0 = region.drops().get("no-leg", 0)
    L.result(lab.peer(topo.cB, "send", "--bind", "%s:41000" % B_IP, "--to", "%s:30004" % RELAY,
                      "--count", 5, "--interval-ms", 5))
    L.wait_until(lambda: region.drops().get("no-leg", 0) - no_leg0 >= 5, "5 no-leg drops", 3)
    check(region.drops().get("no-leg", 0) - no_leg0 == 5,
          "packets to a deleted leg's port are dropped as no-leg")
    st = region.stats()
    inf = region.info()
    print("# mgmt cmds_applied=%s torn=%s resync=%s drops=%s" % (
        st["mgmt"].get("cmds_applied"), st["mgmt"].get("torn_slots"), inf["resync"], st["drops_total"]))
    bad = {k: v for k, v in st["drops_total"].items() if k in TROUBLE_DROPS}
    check(not bad, "no drop that means trouble (%s): %s" % (", ".join(TROUBLE_DROPS), bad))
    check(adds == CHURN_LEGS, "%d of %d leg adds and deletes ran (batch mode needed otherwise)"
          % (adds, CHURN_LEGS))
    check(dp.stop() == 0, "mrelay-dp exits 0 on SIGINT")


# --- 5. hand-off ----------------------------------------------------------------------
#
# Two workers on one port with two queues (net_af_packet qpairs=2). DPDK
# 22.11's net_af_packet has no fanout_mode devarg: it always joins its queue
# sockets with PACKET_FANOUT_HASH (+ DEFRAG, ROLLOVER), so the kernel keeps
# each flow on one queue and only rollover (a full ring) would ever split a
# flow. So instead of spreading one flow, the test finds the queue each
# flow hashes to (probes to a port without a leg: the no-leg drop lands on
# the receiving worker's row) and puts each leg in a slot whose owner
# (slot % workers) is the *other* worker: every packet of both streams is
# then handed off, which is what a NAT rebinding or RSS moving a flow does
# to a leg in production.

def worker_drops(region, reason):
    return [w["drops"].get(reason, 0) for w in region.stats()["workers"]]


def probe_queue(lab, region, ns, bind, to, n=10):
    before = worker_drops(region, "no-leg")
    L.result(lab.peer(ns, "send", "--bind", bind, "--to", to, "--count", n, "--interval-ms", 5,
                      "--seq-start", 10))
    L.wait_until(lambda: sum(worker_drops(region, "no-leg")) - sum(before) >= n, "probe drops", 3)
    d = [x - y for x, y in zip(worker_drops(region, "no-leg"), before)]
    return d


@L.in_lab
def test_handoff(tmp, lab):
    cfg = L.dp_config(tmp, device=L.AF_PACKET + ",qpairs=2", workers="[ 1, 2 ]")
    topo, region, dp = L.nat_lab(lab, tmp, "handoff", cfg, lcore_map="0@0,1@1,2@1")
    check(region.info()["dataplane"]["workers"] == 2, "mrelay-dp runs two workers")
    qa = probe_queue(lab, region, topo.cA, A_RTP, RA)
    qb = probe_queue(lab, region, topo.cB, B_RTP, RB)
    print("# probes, no-leg drops per worker: A's flow %s, B's flow %s" % (qa, qb))
    split = all(qa) or all(qb)
    if split:
        print("# a flow is spread over both queues (fanout lb/rollover): any slot sees hand-offs")
    # Slot owner = slot % 2: give each leg the worker its flow does not reach.
    a_slot = 0 if qa[0] == 0 else 1
    b_slot = 2 if qb[0] == 0 else 3
    a, b = make_pair(region, a_slot, b_slot)
    print("# leg A slot %d (owner worker %d), leg B slot %d (owner worker %d)" % (a, a % 2, b, b % 2))
    warm_up(lab, topo)
    st0 = region.stats()
    count, interval = 1000, 5                           # 200 pps x 5 s each way
    pa, pb = duplex(lab, topo, count, interval)
    qa2, qb2 = rtcp_pair(lab, topo, count=20, interval_ms=100)
    ra, rb = L.result(pa), L.result(pb)
    sa, sb = L.result(qa2), L.result(qb2)
    time.sleep(0.2)
    st = region.stats()
    hout = L.worker_sum(st, "handoff_out") - L.worker_sum(st0, "handoff_out")
    hin = L.worker_sum(st, "handoff_in") - L.worker_sum(st0, "handoff_in")
    per = [(w["worker"], w["rx_pkts"], w["handoff_out"], w["handoff_in"]) for w in st["workers"]]
    print("# workers (idx, rx, handoff_out, handoff_in): %s; this phase: out %d in %d" % (per, hout, hin))
    check(hout > 0 and hin > 0, "handoff_out (%d) and handoff_in (%d) are non-zero" % (hout, hin))
    check(hout == hin, "every packet handed off was taken by its owner (%d = %d)" % (hout, hin))
    check(hout >= 2 * count, "both RTP streams went through the hand-off ring whole (%d >= %d)"
          % (hout, 2 * count))
    check_stream("A<-B handed off", ra, count, prefix="rx_")
    check_stream("B<-A handed off", rb, count, prefix="rx_")
    for n, s_ in (("A", sa), ("B", sb)):
        check(s_["exit"] == 0 and s_["received"] == 20, "RTCP to %s complete: %s" % (n, s_))
    bad = {k: v for k, v in st["drops_total"].items() if k in TROUBLE_DROPS}
    check(not bad, "no drop that means trouble: %s" % bad)
    check(dp.stop() == 0, "mrelay-dp exits 0 on SIGINT")


# --- 6. exception path -------------------------------------------------------------------
#
# A single-NIC box: the kernel's own address 198.18.0.3 lives on the TAP
# that mrelay-dp creates (mrelay-exc0, in the dp namespace, with the port's
# MAC). ARP for it, TCP to it (a stand-in for SIP over TLS), UDP outside the
# media range and ping all cross the DPDK-owned port and the TAP; media on
# the relay address still goes through the workers.

HOST_IP = "198.18.0.3"
EXC_IF = "mrelay-exc0"


@L.in_lab
def test_exception(tmp, lab):
    cfg = L.dp_config(tmp, extra='exception = { enabled = true; iface = "%s"; };' % EXC_IF)
    topo, region, dp = L.nat_lab(lab, tmp, "exc", cfg)
    dp_mac = lab.mac(topo.dp, "dp0")
    check(lab.mac(topo.dp, EXC_IF).lower() == dp_mac.lower(),
          "the TAP %s has the port's MAC %s" % (EXC_IF, dp_mac))
    lab.addr(topo.dp, EXC_IF, HOST_IP + "/24")
    L.sh("ip", "link", "set", EXC_IF, "up", ns=topo.dp)
    st0 = region.stats()
    # TCP from cB to the host, 64 KiB each way (many segments), and from
    # cA through the NAT.
    ready = os.path.join(tmp, "tcp.ready")
    srv = lab.helper(topo.dp, "tcp-server", "--bind", "%s:5061" % HOST_IP, "--count", 2,
                     "--ready-file", ready, "--timeout", 20)
    L.wait_until(lambda: os.path.exists(ready), "the TCP server", 5)
    rc = L.result(lab.helper(topo.cB, "tcp-client", "--to", "%s:5061" % HOST_IP, "--pad-kib", 64))
    print("# tcp cB: %s" % rc)
    if rc["exit"] != 0:
        for ns, cmd in ((topo.cB, ["ip", "neigh"]), (topo.dp, ["ip", "neigh"]),
                        (topo.dp, ["ip", "-s", "link", "show", EXC_IF]), (topo.dp, ["ip", "addr"])):
            print("# %s: %s" % (" ".join(cmd), L.sh(*cmd, ns=ns, check_rc=False).stdout))
        print("# stats: %s" % region.ctl("stats").stdout)
    check(rc["exit"] == 0 and rc.get("ok"), "TCP cB -> host %s:5061 through the DPDK port and the TAP: "
          "connected in %s ms, 64 KiB echoed intact" % (HOST_IP, rc.get("connected_ms")))
    rn = L.result(lab.helper(topo.cA, "tcp-client", "--to", "%s:5061" % HOST_IP, "--message", "via-nat"))
    check(rn["exit"] == 0 and rn.get("ok"), "TCP cA (behind the NAT) -> host: answered")
    rs = L.result(srv)
    check(rs["served"] == 2 and rs["peers"][1].startswith(NAT_PUB + ":"),
          "the host's server saw cB and the NAT's public address: %s" % rs["peers"])
    # UDP outside the relay port range: to the kernel as well.
    ready = os.path.join(tmp, "echo.ready")
    echo = lab.peer(topo.dp, "echo", "--bind", "%s:5060" % HOST_IP, "--timeout", 8, "--ready-file", ready)
    L.wait_until(lambda: os.path.exists(ready), "the UDP echo server", 5)
    ru = L.result(lab.peer(topo.cB, "duplex", "--bind", "%s:45060" % B_IP, "--to", "%s:5060" % HOST_IP,
                           "--count", 20, "--interval-ms", 10, "--timeout", 5))
    echo.terminate()
    check(ru["exit"] == 0 and ru["rx_unique"] == 20, "UDP to the host's port 5060 echoed by the kernel: "
          "%d of 20" % ru["rx_unique"])
    if shutil.which("ping"):
        p = L.sh("ping", "-c", 3, "-i", 0.2, "-W", 2, HOST_IP, ns=topo.cB, check_rc=False)
        check(p.returncode == 0, "ping to the host address answered by the kernel")
    # Media on the relay address is still the workers' business.
    a, b = make_pair(region)
    warm_up(lab, topo, rtcp=False)
    pa, pb = duplex(lab, topo, 100, 20)
    check_stream("A<-B with the exception path on", L.result(pa), 100, prefix="rx_")
    check_stream("B<-A with the exception path on", L.result(pb), 100, prefix="rx_")
    st = region.stats()
    to_kernel = L.worker_sum(st, "exception") - L.worker_sum(st0, "exception")
    mgmt_exc = st["mgmt"]["exception"] - st0["mgmt"]["exception"]
    print("# exception counters: workers %d, mgmt %d; drops %s" % (to_kernel, mgmt_exc, st["drops_total"]))
    check(to_kernel > 0 and mgmt_exc > 0, "the exception counters moved (workers %d, mgmt %d)"
          % (to_kernel, mgmt_exc))
    bad = {k: v for k, v in st["drops_total"].items() if k in TROUBLE_DROPS}
    check(not bad, "no drop that means trouble: %s" % bad)
    check(dp.stop() == 0, "mrelay-dp exits 0 on SIGINT")
    ifs = L.sh("ip", "-br", "link", ns=topo.dp).stdout
    check(EXC_IF not in ifs, "the TAP is gone after mrelay-dp stopped")


TESTS = [test_nat_relay, test_spoof, test_restart, test_churn, test_handoff, test_exception]

if __name__ == "__main__":
    tests = {t.__name__[5:]: t for t in TESTS}
    t0 = time.monotonic()
    main([tests[n] for n in sys.argv[1:]] if len(sys.argv) > 1 else list(tests.values()))
    print("# %.1f s" % (time.monotonic() - t0))
