# SPDX-License-Identifier: BSD-3-Clause
"""Network namespaces, veths and a bridge for end-to-end tests of mrelay-dp,
plus the peers that run inside them (python3 standard library only).

What it changes on the host: network namespaces named mre2e-<pid>-<role>
(every link, address, bridge, sysctl and iptables rule a test makes lives
inside them, so deleting them undoes it all), the EAL runtime directory
/var/run/dpdk/<file-prefix> of the dataplanes it starts, and temporary
files under /tmp. Addresses come from 198.18.0.0/15 (RFC 2544
benchmarking space) and, for IPv6, its twin 2001:2::/48 (RFC 5180) only;
anything else is refused. IPv6 is off in every namespace unless a test
turns it on for one interface (Lab.addr6). Lab.cleanup() runs on exit,
on an exception and on SIGINT/SIGTERM (meson's timeout): it stops every
process the test started (by pid) and deletes the namespaces. Namespaces
left by a run that was SIGKILLed (its pid is gone) are deleted at start.

Interfaces are created straight inside their namespaces (`ip link add ...
netns NS type veth peer name ... netns NS`), so their names never meet in
the host namespace and two runs cannot collide.
"""
import atexit
import functools
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "dp"))
from harness import MRELAY_DP, MRELAYCTL, Dataplane, Fail, Region, check, stop_process  # noqa: E402,F401

RTP_PEER = os.path.join(HERE, "..", "tools", "rtp_peer.py")
PEER = os.path.join(HERE, "e2e_peer.py")
PY = sys.executable
NS_PREFIX = "mre2e-"
TEST_NET = ipaddress.ip_network("198.18.0.0/15")
# IPv6's benchmarking range (RFC 5180), the twin of 198.18.0.0/15.
TEST_NET6 = ipaddress.ip_network("2001:2::/48")


def addr_check(addr):
    """Refuse any address outside 198.18.0.0/15 or 2001:2::/48 (prefix allowed)."""
    ip = ipaddress.ip_interface(addr).ip
    if ip not in (TEST_NET if ip.version == 4 else TEST_NET6):
        raise Fail("address %s is outside 198.18.0.0/15 and 2001:2::/48; refusing to "
                   "configure it" % addr)
    return addr


def sh(*cmd, ns=None, check_rc=True, timeout=30, quiet=False):
    """Run a command (in namespace @ns); return its CompletedProcess."""
    argv = (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check_rc and p.returncode != 0:
        raise Fail("%s: exit %d: %s" % (" ".join(argv), p.returncode,
                                        (p.stderr or p.stdout).strip()))
    if not quiet and p.returncode != 0:
        print("# %s: exit %d: %s" % (" ".join(argv), p.returncode, p.stderr.strip()))
    return p


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


DP_NAMES = ("nat", "spoof", "restart", "churn", "handoff", "exc", "baresip", "sip")


def reap_stale_namespaces():
    """Delete mre2e-<pid>-* namespaces, and the EAL runtime directories of
    our dataplanes (mr-<test>-<pid>), whose test no longer runs (it was
    SIGKILLed before its cleanup finished)."""
    for d, pat in (("/run/netns", re.escape(NS_PREFIX) + r"(\d+)-"),
                   ("/var/run/dpdk", r"mr-(?:%s)-(\d+)$" % "|".join(DP_NAMES))):
        try:
            names = os.listdir(d)
        except FileNotFoundError:
            continue
        for n in names:
            m = re.match(pat, n)
            if not m or _pid_alive(int(m.group(1))):
                continue
            if d == "/run/netns":
                sh("ip", "netns", "delete", n, check_rc=False, quiet=True)
            else:
                shutil.rmtree(os.path.join(d, n), ignore_errors=True)


class Lab:
    """A test's namespaces, links and processes, undone by cleanup()."""

    def __init__(self):
        for t in ("ip", "ethtool", "sysctl"):
            if shutil.which(t) is None:
                raise Fail("missing tool %s (run scripts/setup.sh)" % t)
        if os.geteuid() != 0:
            raise Fail("must run as root (network namespaces)")
        reap_stale_namespaces()
        self.tag = "%s%d-" % (NS_PREFIX, os.getpid())
        self.namespaces = []
        self.procs = []
        self.undo = []
        self.dps = []
        self._cleaned = False
        atexit.register(self.cleanup)
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, self._on_signal)

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is not None:
            for dp in self.dps:
                rc = dp.proc.poll() if dp.proc is not None else None
                print("# --- %s log (tail); process %s ---" % (
                    dp.prefix, "running" if rc is None else "exited %d" % rc))
                for line in dp.output().splitlines()[-40:]:
                    print("# " + line)
        self.cleanup()
        return False

    def _on_signal(self, sig, _frame):
        # SystemExit unwinds through the test's finally blocks and atexit.
        raise SystemExit(128 + sig)

    # --- namespaces and links ------------------------------------------------

    def ns(self, role):
        """Create namespace <tag><role>: lo up, IPv6 off (no RS/DAD noise)."""
        name = self.tag + role
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        for k in ("net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6"):
            sh("sysctl", "-q", "-w", k + "=1", ns=name)
        return name

    def veth(self, a, ns_a, b, ns_b):
        """A veth pair a (in ns_a) <-> b (in ns_b), tx checksumming off on
        both ends (else local sockets leave UDP checksums partial and an
        AF_PACKET reader forwards them unfinished), both up."""
        sh("ip", "link", "add", "name", a, "netns", ns_a, "type", "veth",
           "peer", "name", b, "netns", ns_b)
        for ifn, ns in ((a, ns_a), (b, ns_b)):
            sh("ethtool", "-K", ifn, "tx", "off", ns=ns)
            sh("sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % ifn, ns=ns)
            sh("ip", "link", "set", ifn, "up", ns=ns)

    def addr(self, ns, ifn, cidr):
        sh("ip", "addr", "add", addr_check(cidr), "dev", ifn, ns=ns)

    def addr6(self, ns, ifn, cidr):
        """IPv6 on @ifn (off by default in the lab): @cidr without duplicate
        address detection (no 1 s wait) and without router advertisements."""
        for k, v in (("disable_ipv6", 0), ("accept_dad", 0), ("accept_ra", 0)):
            sh("sysctl", "-q", "-w", "net.ipv6.conf.%s.%s=%d" % (ifn, k, v), ns=ns)
        sh("ip", "-6", "addr", "add", addr_check(cidr), "dev", ifn, "nodad", ns=ns)

    def route(self, ns, dest, via):
        sh("ip", "route", "add", dest, "via", addr_check(via), ns=ns)

    def bridge(self, ns, br, ports):
        """A bridge without multicast snooping: a snooping bridge joins
        224.0.0.106 (RFC 4286) when it comes up and sends IGMP reports out
        of every port, which the relay counts as unsupported-protocol."""
        sh("ip", "link", "add", br, "type", "bridge", "stp_state", "0",
           "forward_delay", "0", "mcast_snooping", "0", ns=ns)
        for p in ports:
            sh("ip", "link", "set", p, "master", br, ns=ns)
        sh("ip", "link", "set", br, "up", ns=ns)

    def dp_prepare(self, ns, ifn):
        """The end mrelay-dp owns: silent in the kernel (no IPv6, no
        forwarding, no ARP replies), no address."""
        for k, v in (("net.ipv6.conf.%s.disable_ipv6", 1), ("net.ipv4.conf.%s.forwarding", 0),
                     ("net.ipv4.conf.%s.arp_ignore", 8)):
            sh("sysctl", "-q", "-w", (k % ifn) + "=%d" % v, ns=ns)
        sh("ip", "link", "set", ifn, "up", ns=ns)

    def mac(self, ns, ifn):
        out = json.loads(sh("ip", "-j", "link", "show", ifn, ns=ns).stdout)
        return out[0]["address"]

    # --- processes -------------------------------------------------------------

    def spawn(self, ns, argv, **kw):
        """Start @argv in namespace @ns; stopped (by pid) at cleanup."""
        full = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in argv]
        p = subprocess.Popen(full, stdout=kw.pop("stdout", subprocess.PIPE),
                             stderr=kw.pop("stderr", subprocess.PIPE), text=True, **kw)
        self.procs.append(p)
        return p

    def peer(self, ns, mode, *args):
        """rtp_peer.py MODE ARGS --json in @ns (ip netns exec execs, so
        the Popen pid is the peer's own)."""
        return self.spawn(ns, [PY, RTP_PEER, mode] + list(args) + ["--json"])

    def helper(self, ns, *args):
        """e2e_peer.py ARGS in @ns."""
        return self.spawn(ns, [PY, PEER] + list(args))

    def dataplane(self, ns, name, config_text, tmp, lcores="0,1", lcore_map=None):
        """A harness.Dataplane run inside @ns with a file prefix unique to
        this run. @lcore_map (e.g. "0@0,1@1,2@1") replaces -l with --lcores."""
        dp = Dataplane("%s-%d" % (name, os.getpid()), config_text, tmp, lcores=lcores)
        args = dp.args
        if lcore_map is not None:
            i = args.index("-l")
            args[i:i + 2] = ["--lcores", lcore_map]
        dp.args = ["ip", "netns", "exec", ns] + args
        dp.prefix = args[args.index("--file-prefix") + 1]
        self.dps.append(dp)
        self.undo.append(lambda: stop_dp(dp))
        self.undo.append(lambda: shutil.rmtree("/var/run/dpdk/" + dp.prefix, ignore_errors=True))
        return dp

    def cleanup(self):
        if self._cleaned:
            return
        self._cleaned = True
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for u in reversed(self.undo):
            try:
                u()
            except Exception as e:  # cleanup goes as far as it can
                print("# cleanup: %s" % e)
        for n in reversed(self.namespaces):
            sh("ip", "netns", "delete", n, check_rc=False)
        self.namespaces = []


def in_lab(body):
    """A test @body(tmp, lab) as harness.main runs tests, test(tmp): @body
    runs in a new Lab, cleaned up however it ends. The test keeps @body's
    name (main prints it, the scripts pick tests by it)."""
    @functools.wraps(body)
    def test(tmp):
        with Lab() as lab:
            body(tmp, lab)
    return test


def dp_backtraces(dp):
    """Every thread's stack of a running mrelay-dp (gdb, when installed)."""
    if dp.proc is None or dp.proc.poll() is not None or shutil.which("gdb") is None:
        return "(no backtrace: process gone or no gdb)"
    p = subprocess.run(["gdb", "-p", str(dp.proc.pid), "-batch", "-ex", "thread apply all bt 20"],
                       capture_output=True, text=True, timeout=120)
    return "\n".join(ln for ln in p.stdout.splitlines() if ln.startswith(("#", "Thread")))


def stop_dp(dp):
    if dp.proc is not None:
        stop_process(dp.proc, signal.SIGINT)


def start_dp(dp, region, timeout=30):
    """Start @dp and wait until the region says *this* process runs (after
    a kill -9 the region still says "running" for the dead one). Returns the
    time.monotonic() at which "running" was first seen."""
    dp.proc = subprocess.Popen(dp.args, stdout=dp.log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dp.proc.poll() is not None:
            raise Fail("mrelay-dp exited early (%d): %s" % (dp.proc.returncode, dp.output()))
        try:
            d = region.info()["dataplane"]
            if d.get("state") == "running" and d.get("pid") == dp.proc.pid:
                return time.monotonic()
        except (Fail, ValueError, KeyError):
            pass
        time.sleep(0.01)
    raise Fail("mrelay-dp did not start: " + dp.output())


def result(p, timeout=60):
    """Wait for a peer started by Lab.peer/helper; return its JSON summary."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise Fail("peer %s timed out: %s" % (p.args, err))
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if not lines:
        raise Fail("peer %s (exit %d) printed no JSON: %s %s" % (p.args, p.returncode, out, err))
    r = json.loads(lines[-1])
    r["exit"] = p.returncode
    r["stderr"] = err.strip()
    return r


def worker_sum(stats, field):
    return sum(w.get(field, 0) for w in stats["workers"])


def leg_by_slot(region, slot):
    for leg in region.legs()["legs"]:
        if leg["slot"] == slot:
            return leg
    raise Fail("slot %d not in leg list" % slot)


def events(region, timeout_ms=0):
    p = region.ctl("events", "--json", "--timeout-ms", timeout_ms)
    return json.loads(p.stdout)


def sync(region, timeout=15.0):
    """mrelayctl sync. It refuses at once (exit 2) while the heartbeat is
    over 2 s old, which a briefly starved management lcore can cause: retry
    until @timeout, so only a dataplane that stays silent fails."""
    deadline = time.monotonic() + timeout
    while True:
        p = region.ctl("sync", "--timeout-ms", "5000", ok=False)
        if p.returncode == 0:
            return
        if p.returncode != 2 or time.monotonic() >= deadline:
            raise Fail("mrelayctl sync: %s" % p.stderr.strip())
        time.sleep(0.2)


def summary(name, r, keys):
    print("# %s: %s" % (name, " ".join("%s=%s" % (k, r.get(k)) for k in keys)))


def wait_until(cond, what, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(interval)
    raise Fail("timed out waiting for " + what)


# --- the shared topology ------------------------------------------------------
#
#   +------------------+     +-----------------------------+
#   | ns cA            |     | ns nat  (ip_forward=1)      |
#   | 198.18.1.10/24   |veth | in  198.18.1.1/24           |
#   | gw 198.18.1.1    +=====+ out 198.18.0.20/24          |
#   +------------------+     | MASQUERADE -o out           |
#                            |  udp --to-ports 50000-50999 |
#                            +-------------+---------------+
#                                          | veth
#   +------------------+     +-------------+---------------+     +---------------------+
#   | ns cB            |veth | ns br: Linux bridge br0     |veth | ns dp               |
#   | 198.18.0.11/24   +=====+ p-nat p-b p-x p-dp          +=====+ dp0 (no IP, no IPv6)|
#   +------------------+     +-------------+---------------+     | mrelay-dp owns it   |
#                                          | veth                | (net_af_packet)     |
#                            +-------------+---------------+     | relay 198.18.0.2/24 |
#                            | ns x (attacker, optional)   |     | [exception TAP]     |
#                            | 198.18.0.66/24              |     +---------------------+
#                            +-----------------------------+

RELAY = "198.18.0.2"
A_PRIV, NAT_PUB, B_IP, X_IP = "198.18.1.10", "198.18.0.20", "198.18.0.11", "198.18.0.66"
NAT_PORTS = (50000, 50999)


class Topo:
    def __init__(self, lab, nat=True, attacker=False):
        self.lab = lab
        self.br = lab.ns("br")
        self.dp = lab.ns("dp")
        self.cB = lab.ns("cB")
        ports = ["p-b", "p-dp"]
        lab.veth("eth0", self.cB, "p-b", self.br)
        lab.addr(self.cB, "eth0", B_IP + "/24")
        lab.veth("dp0", self.dp, "p-dp", self.br)
        lab.dp_prepare(self.dp, "dp0")
        # dp0 is also a kernel interface (net_af_packet only listens on
        # it), and with the weak host model the dp namespace's kernel would
        # accept frames for the exception TAP's address (same MAC) straight
        # from dp0 as well as through mrelay-dp. A real DPDK-bound NIC has
        # no kernel side: drop everything there before IP (packet sockets
        # see frames before netfilter, so mrelay-dp still gets them).
        if shutil.which("iptables") is None:
            raise Fail("iptables is missing (scripts/setup.sh installs it)")
        sh("iptables", "-t", "raw", "-A", "PREROUTING", "-i", "dp0", "-j", "DROP", ns=self.dp)
        self.cA = self.nat = self.x = None
        if nat:
            self.cA = lab.ns("cA")
            self.nat = lab.ns("nat")
            lab.veth("eth0", self.cA, "in", self.nat)
            lab.veth("out", self.nat, "p-nat", self.br)
            ports.append("p-nat")
            lab.addr(self.cA, "eth0", A_PRIV + "/24")
            lab.route(self.cA, "default", "198.18.1.1")
            lab.addr(self.nat, "in", "198.18.1.1/24")
            lab.addr(self.nat, "out", NAT_PUB + "/24")
            sh("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", ns=self.nat)
            sh("iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "out", "-p", "udp",
               "-j", "MASQUERADE", "--to-ports", "%d-%d" % NAT_PORTS, ns=self.nat)
            sh("iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "out", "-j", "MASQUERADE",
               ns=self.nat)
        if attacker:
            self.x = lab.ns("x")
            lab.veth("eth0", self.x, "p-x", self.br)
            lab.addr(self.x, "eth0", X_IP + "/24")
            ports.append("p-x")
        lab.bridge(self.br, "br0", ports)

    def nat_mappings(self):
        """(orig src ip, orig sport, orig dport) -> translated sport, from
        the NAT's conntrack table (UDP towards the relay)."""
        out = sh("cat", "/proc/net/nf_conntrack", ns=self.nat, check_rc=False).stdout
        res = {}
        for line in out.splitlines():
            if " udp " not in " " + line + " ":
                continue
            f = re.findall(r"(src|dst|sport|dport)=(\S+)", line)
            if len(f) < 8:
                continue
            o, r = dict(f[:4]), dict(f[4:8])
            if o["dst"] == RELAY:
                res[(o["src"], int(o["sport"]), int(o["dport"]))] = (r["dst"], int(r["dport"]))
        return res


# framecnt: net_af_packet's kernel ring per queue (default 512 frames). A
# test VM's vCPU can be descheduled by its host for a second or two; at the
# tests' rates a deeper ring rides that out instead of dropping in the
# kernel, so a loss the tests see is the relay's.
AF_PACKET = "net_af_packet0,iface=dp0,framecnt=4096"


def nat_lab(lab, tmp, name, config=None, attacker=False, max_legs=1024, **kw):
    """The shared topology (cA behind the NAT; the attacker too with
    @attacker), a new region of @max_legs legs and mrelay-dp @name on it
    (dp_config(tmp) unless @config; @kw to Lab.dataplane), running.
    Returns (topo, region, dp)."""
    topo = Topo(lab, nat=True, attacker=attacker)
    region = Region(tmp, max_legs=max_legs)
    dp = lab.dataplane(topo.dp, name, config or dp_config(tmp), tmp, **kw)
    start_dp(dp, region)
    return topo, region, dp


def dp_config(tmp, device=AF_PACKET, workers="[ 1 ]", extra=""):
    return """
region = "%s/region";
ports = ( { name = "wan"; device = "%s"; addresses = [ "198.18.0.2/24" ]; } );
relay = { port_min = 30000; port_max = 39999; };
workers = %s;
idle_backoff_us = 100;
%s
""" % (tmp, device, workers, extra)
