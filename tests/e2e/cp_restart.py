#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""mrelay-cp end to end: the daemon with mrelay-dp in network namespaces.

  restart  a call made through mrelay-cp's admin socket ("call add"), RTP
           streaming both ways through mrelay-dp; mrelay-cp is killed -9
           mid-call and restarted: no packet lost, the new daemon recovers
           the call (mrelayctl calls shows it, same slots and latches), and
           "call del" then ends it and frees its slots.
  churn    10,000 calls made and deleted through the admin socket with the
           dataplane running: no call, slot, port or journal record left,
           also after a kill -9 and restart.
  daemon   no namespaces: a bad configuration (file:line message), a region
           of another ABI version (refused), the admin socket's mode (0600),
           mrelayctl refusing to write slots while mrelay-cp lives (unless
           --force), SIGHUP applying limits and warning about restart-only
           keys, SIGTERM exiting 0.

Topology (nslab.Topo, as e2e_dp.py; mrelay-cp runs in the host namespace:
it talks to nobody but the region file and its unix socket):

  cA 198.18.1.10 --[ nat: MASQUERADE to 198.18.0.20 ]--+
                                                       |
  cB 198.18.0.11 -------------------------[ bridge ]---+-- dp0 [ mrelay-dp, relay 198.18.0.2 ]
                                                              ^ region file (tmp)
                                          mrelay-cp ----------+ admin socket (tmp)

Host changes: see nslab.py (namespaces mre2e-<pid>-*, deleted on exit);
mrelay-cp's files live in the test's temporary directory.
"""
import json
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nslab as L  # noqa: E402
from nslab import A_PRIV, B_IP, RELAY, Fail, check  # noqa: E402
from harness import Region, main  # noqa: E402
import e2e_dp as D  # noqa: E402

MRELAY_CP = os.environ.get("MRELAY_CP", "build/controlplane/mrelay-cp")
MAX_LEGS = 1024


class CpRegion(Region):
    """The harness's region helpers on a region mrelay-cp creates."""

    def __init__(self, tmp):  # pylint: disable=super-init-not-called
        self.path = os.path.join(tmp, "region")


# The admin socket's calls are plain RTP: they take the interface marked pstn.
PSTN_PORTS = (30000, 37999)


def cp_config(tmp, extra=""):
    return """
region = { path = "%(tmp)s/region"; max_legs = %(legs)d; max_workers = 4; };
interfaces = ( { name = "pstn"; addresses = [ "198.18.0.2" ]; port_min = %(pmin)d; port_max = %(pmax)d; pstn = true; }, { name = "wan"; addresses = [ "198.18.0.2" ]; port_min = 38000; port_max = 39899; } );
admin = { socket = "%(tmp)s/cp.sock"; };
state_dir = "%(tmp)s/state";
timeouts = { media_idle_s = 120; offer_s = 120; call_max_s = 3600; };
%(extra)s
""" % {"tmp": tmp, "legs": MAX_LEGS, "extra": extra, "pmin": PSTN_PORTS[0], "pmax": PSTN_PORTS[1]}


class ControlPlane:
    """mrelay-cp as a child process, and a client of its admin socket."""

    def __init__(self, tmp, text=None, ns=None):
        self.tmp = tmp
        self.ns = ns                    # a network namespace to run in (NG on its loopback)
        self.cfg = os.path.join(tmp, "cp.conf")
        self.sock = os.path.join(tmp, "cp.sock")
        with open(self.cfg, "w") as f:
            f.write(text if text is not None else cp_config(tmp))
        self.log = open(os.path.join(tmp, "mrelay-cp.log"), "a+")
        self.proc = None

    def start(self, timeout=10.0):
        # (ip netns exec execs: the Popen pid is mrelay-cp's own.)
        self.proc = subprocess.Popen((["ip", "netns", "exec", self.ns] if self.ns else []) +
                                     [MRELAY_CP, "--config", self.cfg], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Fail("mrelay-cp exited early (%d): %s" % (self.proc.returncode, self.output()))
            try:
                self.request("ping")
                return
            except OSError:
                time.sleep(0.02)
        raise Fail("mrelay-cp did not open its admin socket: " + self.output())

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        return self.proc.wait(10)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.sock)
        return s, s.makefile("rw", encoding="utf-8", newline="\n")

    @staticmethod
    def read_reply(f):
        status = f.readline()
        body = []
        while True:
            line = f.readline()
            if line == "":
                raise Fail("admin socket closed mid-reply")
            if line == ".\n":
                break
            body.append(line)
        return status.rstrip("\n"), "".join(body)

    def request(self, line, ok=True):
        s, f = self.connect()
        try:
            f.write(line + "\n")
            f.flush()
            status, body = self.read_reply(f)
        finally:
            f.close()
            s.close()
        if ok and status != "ok":
            raise Fail("admin '%s': %s" % (line, status))
        return status, body

    def json(self, line):
        return json.loads(self.request(line)[1])

    def calls(self):
        """mrelayctl calls --json: the operator's view, through the socket."""
        p = subprocess.run([L.MRELAYCTL, "-s", self.sock, "calls", "--json"],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise Fail("mrelayctl calls: " + p.stderr.strip())
        return json.loads(p.stdout)["calls"]


def cp_lab(tmp, lab, name, cfg=None, nat=True):
    """nslab's topology (cA behind the NAT unless not @nat), mrelay-cp
    (configuration @cfg, cp_config() if None) and mrelay-dp @name on the
    region mrelay-cp made, both running and stopped at cleanup. Returns
    (topo, cp, region, dp)."""
    topo = L.Topo(lab, nat=nat)
    cp = ControlPlane(tmp, cfg)
    lab.undo.append(cp.stop)
    cp.start()
    region = CpRegion(tmp)
    dp = lab.dataplane(topo.dp, name, L.dp_config(tmp), tmp)
    L.start_dp(dp, region)
    return topo, cp, region, dp


def streams_of(call):
    return {leg["tag"]: leg["streams"][0] for leg in call["legs"]}


def active_slots(region):
    return region.info()["active_legs"]


# --- restart ---------------------------------------------------------------------

@L.in_lab
def test_restart(tmp, lab):
    topo, cp, region, dp = cp_lab(tmp, lab, "restart")
    call = cp.json("call add c1 from to peer-a=%s peer-b=%s" % (D.A_RTP, D.B_RTP))
    st = streams_of(call)
    check(st["from"]["local"] == D.RA and st["to"]["local"] == D.RB,
          "the call's legs got relay ports 30000 and 30002 (%s, %s)" % (st["from"]["local"],
                                                                        st["to"]["local"]))
    check(st["from"]["egress_slot"] == st["to"]["slot"] and st["to"]["egress_slot"] == st["from"]["slot"],
          "the legs are paired")
    # (mrelayctl sync consumes events, so it refuses beside mrelay-cp: wait.)
    L.wait_until(lambda: region.info()["cmd_ring"]["used"] == 0, "the dataplane to apply the call", 10)
    D.warm_up(lab, topo)
    before = streams_of(cp.calls()[0])
    check(before["from"]["latched_rtp"] is not None and before["to"]["latched_rtp"] == D.B_RTP,
          "mrelayctl calls shows the latches (A %s, B %s)" % (before["from"]["latched_rtp"],
                                                            before["to"]["latched_rtp"]))
    interval, most = 20, 3000
    pa, pb, stop = D.duplex_until_stopped(lab, topo, tmp, interval, most, 60, allow_loss=most)
    time.sleep(0.6 + 2.0)
    first_pid = cp.proc.pid
    cp.kill9()
    check(cp.proc.returncode == -signal.SIGKILL, "mrelay-cp killed with SIGKILL mid-call")
    time.sleep(1.5)                                 # media flows with no control plane
    cp.start()
    check(cp.proc.pid != first_pid, "a new mrelay-cp runs")
    calls = cp.calls()
    check(len(calls) == 1 and calls[0]["call_id"] == "c1", "the new mrelay-cp recovered call c1")
    after = streams_of(calls[0])
    for tag in ("from", "to"):
        check(after[tag]["slot"] == before[tag]["slot"] and after[tag]["leg_uid"] == before[tag]["leg_uid"]
              and after[tag]["local"] == before[tag]["local"],
              "leg %s: same slot %d, leg uid and relay port after the restart" % (tag, after[tag]["slot"]))
        check(after[tag]["latched_rtp"] == before[tag]["latched_rtp"],
              "leg %s: latch kept (%s)" % (tag, after[tag]["latched_rtp"]))
    check(calls[0]["paired"], "the recovered call is paired")
    log = cp.output()
    check("recovered 1 calls" in log, "mrelay-cp logged the recovery")
    time.sleep(2.0)
    ra, rb = D.stop_duplex(pa, pb, stop, 90)
    for name, r, o in (("A<-B", ra, rb), ("B<-A", rb, ra)):
        D.check_clean(name, r)
        check(r["rx_unique"] == o["tx_sent"] and o["tx_sent"] > 200,
              "%s: every packet arrived across the mrelay-cp kill and restart (%d of %d)"
              % (name, r["rx_unique"], o["tx_sent"]))
    counters = streams_of(cp.calls()[0])
    check(counters["from"]["rx_pkts"] >= ra["tx_sent"] and counters["to"]["rx_pkts"] >= rb["tx_sent"],
          "mrelayctl calls: leg counters cover what each peer sent (A %d, B %d)"
          % (counters["from"]["rx_pkts"], counters["to"]["rx_pkts"]))
    cp.request("call del c1")
    check(cp.calls() == [], "call del after the restart ends the call")
    check(active_slots(region) == 0, "its slots are free in the region")
    status = cp.json("status json")
    check(status["ports_used"] == 0 and status["legs"] == 0, "its ports are free")
    check("dataplane pid %d is running" % dp.proc.pid in cp.output(),
          "mrelay-cp logged the dataplane's heartbeat")
    dp_pid = dp.proc.pid
    check(dp.stop() == 0, "mrelay-dp exits 0 on SIGINT")
    L.wait_until(lambda: "dataplane pid %d stopped" % dp_pid in cp.output(),
                 "mrelay-cp to notice the dataplane stopped", 10)
    check(cp.proc.poll() is None, "mrelay-cp logged the stopped dataplane and kept running")
    check(cp.stop() == 0, "mrelay-cp exits 0 on SIGTERM")


# --- churn ---------------------------------------------------------------------------

def journal_lines(tmp):
    with open(os.path.join(tmp, "state", "journal")) as f:
        return f.read().splitlines()


@L.in_lab
def test_churn(tmp, lab):
    topo, cp, region, dp = cp_lab(tmp, lab, "churn", nat=False)
    n, batch = 10000, 100
    t0 = time.monotonic()
    s, f = cp.connect()
    ports = set()
    try:
        for base in range(0, n, batch):
            # Pipelined: a batch of adds, their replies, then the deletes.
            f.write("".join("call add churn-%d a b peer-a=%s:40000 peer-b=%s:40002\n" % (i, B_IP, B_IP)
                            for i in range(base, base + batch)))
            f.flush()
            for i in range(base, base + batch):
                status, body = cp.read_reply(f)
                if status != "ok":
                    raise Fail("call add churn-%d: %s" % (i, status))
                ports.update(leg["streams"][0]["local"] for leg in json.loads(body)["legs"])
            f.write("".join("call del churn-%d\n" % i for i in range(base, base + batch)))
            f.flush()
            for i in range(base, base + batch):
                status, _ = cp.read_reply(f)
                if status != "ok":
                    raise Fail("call del churn-%d: %s" % (i, status))
    finally:
        f.close()
        s.close()
    dt = time.monotonic() - t0
    print("# %d calls made and deleted in %.1f s (%.0f/s); %d distinct relay ports used"
          % (n, dt, n / dt, len(ports)))
    pairs = (PSTN_PORTS[1] - PSTN_PORTS[0] + 1) // 2
    check(len(ports) == pairs, "released ports went to the back of the line: %d of the "
          "interface's %d pairs were used" % (len(ports), pairs))
    st = cp.json("status json")
    print("# status after churn: %s" % st)
    check(st["calls"] == 0 and st["legs"] == 0, "no call and no leg left")
    check(st["ports_used"] == 0, "no relay port left in use")
    check(st["slots_free"] == MAX_LEGS, "every slot free for mrelay-cp (%d of %d)" % (st["slots_free"], MAX_LEGS))
    check(st["journal_live"] == 0 and st["journal_records"] <= 1024 + 16,
          "journal compacted: %d records" % st["journal_records"])
    check(len(journal_lines(tmp)) == st["journal_records"] + 1, "journal file matches (%d lines)"
          % len(journal_lines(tmp)))
    check(active_slots(region) == 0, "no active slot in the region")
    # The dataplane saw it all: every leg it installed is gone again.
    L.wait_until(lambda: region.info()["cmd_ring"]["used"] == 0, "the dataplane to drain commands", 30)
    legs = region.legs()["legs"]
    check(legs == [], "mrelayctl leg list shows no leg: %s" % legs[:3])
    # And a restart finds nothing to recover, nothing to repair.
    cp.kill9()
    cp.start()
    log = cp.output()
    check("recovered 0 calls" in log and "bad lines" not in log and "repaired" not in log,
          "a restart after the churn recovers nothing and repairs nothing")
    check(cp.stop() == 0, "mrelay-cp exits 0 on SIGTERM")
    check(dp.stop() == 0, "mrelay-dp exits 0 on SIGINT")


# --- daemon ----------------------------------------------------------------------------

def run_cp(cfg, timeout=10):
    return subprocess.run([MRELAY_CP, "--config", cfg], capture_output=True, text=True, timeout=timeout)


def ctl(region, *args, sock=None):
    argv = [L.MRELAYCTL, "-r", region] + (["-s", sock] if sock else []) + [str(a) for a in args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def test_daemon(tmp):
    # A bad file: the first problem, as file:line: setting: what; exit 1.
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write(cp_config(tmp, "limits = { max_calls = -3; };"))
    p = run_cp(bad)
    want = "%s:7: limits.max_calls: -3 is out of range 0..10000000" % bad
    check(p.returncode == 1 and want in p.stderr, "a bad configuration is refused: %s" % p.stderr.strip())
    check(not os.path.exists(os.path.join(tmp, "region")), "... before anything is created")

    # A region of another ABI version: refused with both versions named.
    other = os.path.join(tmp, "other")
    os.mkdir(other)
    r = ctl(os.path.join(other, "region"), "region", "create", "--max-legs", 64)
    check(r.returncode == 0, "a region made by mrelayctl")
    with open(os.path.join(other, "region"), "r+b") as f:
        f.seek(8)
        f.write(struct.pack("<I", 99))            # abi_version
    cfg = os.path.join(other, "cp.conf")
    with open(cfg, "w") as f:
        f.write(cp_config(other))
    p = run_cp(cfg)
    check(p.returncode == 1 and "has ABI version 99; this mrelay-cp speaks version 1" in p.stderr,
          "a region of ABI version 99 is refused: %s" % p.stderr.strip())
    check(not os.path.exists(os.path.join(other, "cp.sock")), "... and no admin socket is opened")

    cp = ControlPlane(tmp)
    cp.start()
    try:
        mode = stat.S_IMODE(os.stat(cp.sock).st_mode)
        check(mode == 0o600, "the admin socket is mode 0600 (%o)" % mode)
        reg = os.path.join(tmp, "region")
        check(ctl(reg, "region", "info").returncode == 0, "mrelay-cp created the region")
        r = ctl(reg, "leg", "add", "--local", "198.18.0.2:39990", "--pstn")
        check(r.returncode == 1 and "owned by mrelay-cp" in r.stderr,
              "mrelayctl leg add refuses while mrelay-cp lives: %s" % r.stderr.strip())
        r = ctl(reg, "events", "--timeout-ms", 0)
        check(r.returncode == 1, "mrelayctl events refuses too (the events are mrelay-cp's)")
        r = ctl(reg, "--force", "leg", "add", "--local", "198.18.0.2:39990", "--pstn")
        check(r.returncode == 0, "... and writes with --force (slot %s)" % r.stdout.strip())
        check(ctl(reg, "--force", "leg", "del", r.stdout.strip()).returncode == 0, "forced delete")
        check(ctl(reg, "leg", "list").returncode == 0, "reading commands work beside mrelay-cp")
        r = ctl(reg, "call", "add", "x", "a", "b", sock=cp.sock)
        check(r.returncode == 0, "mrelayctl call add through the socket")
        r = ctl(reg, "calls", sock=cp.sock)
        check(r.returncode == 0 and r.stdout.startswith("x tag "), "mrelayctl calls lists it")
        r = ctl(reg, "call", "add", "x", "a", "b", sock=cp.sock)
        check(r.returncode == 1 and "call: already exists" in r.stderr, "a repeated call-id is refused")
        for line, err in (("bogus", "unknown command"), ("ping extra", "usage: ping"),
                          ("status json yes", "usage: status [json]"),
                          ("call del nope", "no call 'nope'"),
                          ("call add y a a", "the two tags must differ"),
                          ("call add y a b iface=nope", "no such interface"),
                          ("call add y a b iface=wan", "plain RTP only on an interface marked pstn"),
                          ("call add y a b peer-a=1.2.3.4", "is not IPv4:PORT"),
                          ("x" * 5000, "request line too long")):
            status, _ = cp.request(line, ok=False)
            check(status.startswith("error: ") and err in status, "'%s...' refused: %s" % (line[:20], status))
        # SIGHUP: limits apply; a restart-only key is reported and kept.
        with open(cp.cfg, "w") as f:
            f.write(cp_config(tmp, "limits = { max_calls = 1; };").replace("30000", "30100"))
        cp.proc.send_signal(signal.SIGHUP)
        L.wait_until(lambda: "reloaded" in cp.output(), "the reload", 5)
        st = cp.json("status json")
        check(st["limits"]["max_calls"] == 1, "SIGHUP applied limits.max_calls = 1")
        check("interfaces changed; that takes a restart" in cp.output(),
              "SIGHUP warned that interfaces need a restart")
        status, _ = cp.request("call add y a b", ok=False)
        check("limit reached" in status, "the new limit refuses a second call: %s" % status)
        check(len(cp.calls()) == 1, "the live call was not touched by the reload")
        with open(cp.cfg, "w") as f:
            f.write("garbage")
        cp.proc.send_signal(signal.SIGHUP)
        L.wait_until(lambda: "reload refused" in cp.output(), "the refused reload", 5)
        check(cp.json("status json")["limits"]["max_calls"] == 1, "a bad file on reload changes nothing")
        # A second daemon on the same state directory is refused.
        p = run_cp(second_config(tmp))
        check(p.returncode == 1 and "another mrelay-cp" in p.stderr,
              "a second mrelay-cp is refused: %s" % p.stderr.strip())
    finally:
        rc = cp.stop()
    check(rc == 0, "mrelay-cp exits 0 on SIGTERM")
    check(not os.path.exists(cp.sock), "the admin socket is removed on exit")
    r = ctl(os.path.join(tmp, "region"), "leg", "add", "--local", "198.18.0.2:39990", "--pstn")
    check(r.returncode == 0, "with mrelay-cp gone, mrelayctl writes again")


def second_config(tmp):
    """A valid config for a second daemon on the same state directory."""
    path = os.path.join(tmp, "cp2.conf")
    with open(path, "w") as f:
        f.write(cp_config(tmp).replace("cp.sock", "cp2.sock"))
    return path


TESTS = [test_restart, test_churn, test_daemon]

if __name__ == "__main__":
    tests = {t.__name__[5:]: t for t in TESTS}
    t0 = time.monotonic()
    main([tests[n] for n in sys.argv[1:]] if len(sys.argv) > 1 else list(tests.values()))
    print("# %.1f s" % (time.monotonic() - t0))
