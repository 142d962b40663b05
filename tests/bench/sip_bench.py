#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench sip: SIP registrations and call set-ups per second through
mrelay-cp's registrar and B2BUA over TLS, beside Debian's Kamailio over
TLS in the same run, with the same client (tests/tools/mr_sipload,
sofia-sip) and the same load.

  mr_sipload --accounts A --calls C --hold 0 --window W --conns K --verify
      one run: A digest (MD5) registrations, C SDES-SRTP calls between
      pairs (INVITE challenged with 407, then 200 with an SRTP answer),
      all hung up, all unregistered. Registrations/s and calls set up/s
      are successes over the time from the start of the phase to the
      last success; latencies run from the first request to the 2xx,
      both round trips of the challenge included.

The reference is a signalling-only one: Kamailio (kamailio_lab.py's
route, auth on) is a stateful proxy that relays the SDP untouched and
keeps no media, so it does less per call than mrelay-cp, which is a
B2BUA (two dialogs per call), allocates two relay legs with fresh SRTP
keys per call through the NG code and the shared region (no mrelay-dp is
running: nothing forwards), and writes a CDR row to SQLite per call.
Kamailio runs its default process model from the lab (2 TLS workers);
mrelay-cp is one thread. mrelay-cp logs at notice, so neither server
writes a line per call.

--bg-accounts N --bg-calls M hold a background state on every server
for the whole benchmark: another mr_sipload (accounts bg00001..., --bg-conns
connections) registers N accounts and holds M calls between them, and
the rounds run beside it; what a round costs then shows what each message
costs at that state (a lookup that walks all bindings or calls grows with
it). The background is started on each server in turn, waited for
("holding" on its output), and stopped (killed: its connections close)
after the last round.

--base-cp PATH measures a second mrelay-cp binary (another build, e.g.
main's, to compare a change with) in the same rounds, as "mrelay-base",
with its own region, state and a copy of the accounts. Each round runs the
servers in a rotated order, so no server is always first after a pause.
"CPU ms/call" is the server's CPU-seconds per round over its calls (the
registrations, hang-ups and unregistrations of the round included).

Both servers listen on 127.0.0.1, on ports picked free at start, with one
certificate chain from scripts/mkcerts.sh that the client verifies.
Each round runs both, alternating; --repeat rounds, medians printed, and
mrelay's figures as a ratio of Kamailio's. Server CPU-seconds per run
(the process and, for Kamailio, its children) and the client's are
printed too: the machine is shared, and the client can be the limit
(then the ratio tends to 1). Figures only: nothing is asserted; exit 0
unless it could not run (2).

Host changes: none; a temporary directory /tmp/mrbench-sip-XXXXXX holds
the region, accounts, CDRs, certificates, configs and logs, and is
removed (--keep keeps it). Needs kamailio and kamailio-tls-modules for
the reference (without them mrelay-cp alone is measured).
Environment (scripts/bench and meson set them): MRELAY_CP, MRELAYCTL,
MR_SIPLOAD.
"""
import argparse
import json
import os
import resource
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import sip_load as S  # noqa: E402
import kamailio_lab as K  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
BG_PREFIX = "bg"


class HostLab:
    """What kamailio_lab.Kamailio needs of nslab.Lab, in this namespace."""

    def __init__(self):
        self.procs, self.undo = [], []

    def spawn(self, ns, argv, **kw):
        p = subprocess.Popen([str(a) for a in argv], stdout=kw.pop("stdout", subprocess.PIPE),
                             stderr=kw.pop("stderr", subprocess.PIPE), text=True, **kw)
        self.procs.append(p)
        return p

    def cleanup(self):
        for u in reversed(self.undo):
            try:
                u()
            except Exception as e:  # cleanup goes as far as it can
                print("# cleanup: %s" % e)
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def cpu_s(pid):
    """CPU seconds (user + system) of @pid and of its children processes
    (Kamailio's workers are forked children)."""
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after "(comm)": state ppid ... utime is field 14, stime 15 (1-based)
        if int(d) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def one_run(a, port, server_pid, ca, pw):
    """One mr_sipload run against 127.0.0.1:@port: its summary plus the
    server's and the client's CPU seconds."""
    argv = [S.MR_SIPLOAD, "--server", "127.0.0.1:%d" % port, "--domain", S.DOMAIN, "--prefix", S.PREFIX,
            "--ca", ca, "--verify", "--password-file", pw, "--accounts", a.accounts, "--calls", a.calls,
            "--hold", 0, "--window", a.window, "--conns", a.conns, "--timeout", 30, "--json"]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c0 = cpu_s(server_pid)
    p = subprocess.run([str(x) for x in argv], capture_output=True, text=True, timeout=300)
    c1 = cpu_s(server_pid)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        print("# mr_sipload printed no summary (exit %d): %s" % (p.returncode, (p.stdout + p.stderr)[-1500:]))
        return None
    r = json.loads(lines[-1])
    r["exit"] = p.returncode
    r["server_cpu_s"] = c1 - c0
    r["client_cpu_s"] = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    r["cpu_ms_call"] = 1000.0 * r["server_cpu_s"] / max(1, a.calls)
    if p.returncode != 0:
        print("# run failed (exit %d): %s" % (p.returncode, " | ".join(
            ln for ln in p.stderr.splitlines() if ln.startswith("mr_sipload:"))[:600]))
    return r


COLUMNS = (
    ("reg_rate", "reg/s"),
    ("reg_latency_ms_median", "reg med ms"),
    ("reg_latency_ms_p95", "reg p95 ms"),
    ("setup_rate", "calls/s"),
    ("latency_ms_median", "call med ms"),
    ("latency_ms_p95", "call p95 ms"),
    ("server_cpu_s", "server CPU-s"),
    ("cpu_ms_call", "CPU ms/call"),
    ("client_cpu_s", "client CPU-s"),
)


def background_start(a, port, ca, pw, log):
    """mr_sipload holding --bg-accounts registrations and --bg-calls calls
    against 127.0.0.1:@port until killed; returns it once it holds them
    (or None, having killed it, if it did not get there)."""
    argv = [S.MR_SIPLOAD, "--server", "127.0.0.1:%d" % port, "--domain", S.DOMAIN, "--prefix", BG_PREFIX,
            "--ca", ca, "--verify", "--password-file", pw, "--accounts", a.bg_accounts,
            "--calls", a.bg_calls, "--hold", 86400, "--expires", 3600, "--window", a.window,
            "--conns", a.bg_conns, "--timeout", 300, "--show-failures", 3]
    p = subprocess.Popen([str(x) for x in argv], stdout=subprocess.PIPE, stderr=log, text=True)
    deadline = time.monotonic() + 600
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if not sel.select(timeout=1):
            if p.poll() is not None:
                break
            continue
        line = p.stdout.readline()
        if line == "":
            break
        if "holding" in line:
            print("bench sip: background: %s" % line.strip())
            sel.close()
            return p
    sel.close()
    print("bench sip: the background did not reach its hold (see %s)" % log.name)
    background_stop(p)
    return None


def background_stop(p):
    if p is not None and p.poll() is None:
        p.kill()
        p.wait()


def medians(runs):
    return {k: statistics.median(r[k] for r in runs) for k, _ in COLUMNS}


def report(a, results):
    print()
    print("SIP over TLS, %d registrations and %d calls per run (window %d, %d connections), "
          "median of %d runs" % (a.accounts, a.calls, a.window, a.conns, a.repeat))
    if a.bg_accounts > 0:
        print("beside a background of %d registrations and %d calls held (%d connections)"
              % (a.bg_accounts, a.bg_calls, a.bg_conns))
    print("%-12s %5s" % ("server", "ok") + "".join("%13s" % h for _, h in COLUMNS))
    med = {}
    for name, runs in results.items():
        good = [r for r in runs if r is not None and r["exit"] == 0]
        if not good:
            print("%-12s %5s  (no successful run)" % (name, "0/%d" % len(runs)))
            continue
        med[name] = medians(good)
        print("%-12s %5s" % (name, "%d/%d" % (len(good), len(runs))) +
              "".join("%13.1f" % med[name][k] if not k.startswith(("server_cpu", "client_cpu", "cpu_ms")) else "%13.2f" % med[name][k]
                      for k, _ in COLUMNS))
    for x, y, label in (("mrelay-cp", "kamailio", "mrelay/kamailio"),
                        ("mrelay-base", "kamailio", "base/kamailio"),
                        ("mrelay-cp", "mrelay-base", "mrelay/base")):
        if x not in med or y not in med:
            continue
        m, k = med[x], med[y]
        print("%-18s" % label +
              "".join("%13s" % ("%.2fx" % (m[c] / k[c]) if k[c] else "-") for c, _ in COLUMNS))
    if "kamailio" in med:
        print("(rates: above 1 is faster; latencies and CPU-s: above 1 is slower. Kamailio is a "
              "signalling-only reference: it proxies and keeps no media; mrelay-cp also allocates "
              "relay legs and SRTP keys and writes a CDR per call.)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--window", type=int, default=100, help="transactions outstanding (mr_sipload)")
    ap.add_argument("--conns", type=int, default=10, help="TLS connections (mr_sipload)")
    ap.add_argument("--repeat", type=int, default=5, help="rounds (default 5; medians)")
    ap.add_argument("--bg-accounts", type=int, default=0,
                    help="registrations held in the background during the rounds (default 0)")
    ap.add_argument("--bg-calls", type=int, default=0,
                    help="calls held in the background during the rounds (default 0)")
    ap.add_argument("--bg-conns", type=int, default=50, help="TLS connections of the background")
    ap.add_argument("--base-cp", metavar="PATH",
                    help="another mrelay-cp binary measured in the same rounds (mrelay-base)")
    ap.add_argument("--no-kamailio", action="store_true", help="measure mrelay-cp alone")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    if a.calls * 2 > a.accounts or a.repeat < 1:
        ap.error("need 2 * calls <= accounts and repeat >= 1")
    if a.bg_calls * 2 > a.bg_accounts or a.bg_conns < 1:
        ap.error("need 2 * bg-calls <= bg-accounts and bg-conns >= 1")
    if a.base_cp is not None and not os.access(a.base_cp, os.X_OK):
        ap.error("--base-cp %s: not an executable" % a.base_cp)
    for path in (S.MRELAY_CP, S.MRELAYCTL, S.MR_SIPLOAD):
        if not os.access(path, os.X_OK):
            print("bench sip: %s is not built" % path, file=sys.stderr)
            return 2
    kamailio = not a.no_kamailio and K.installed()
    if not a.no_kamailio and not kamailio:
        print("bench sip: note: kamailio or kamailio-tls-modules missing: mrelay-cp alone")

    tmp = tempfile.mkdtemp(prefix="mrbench-sip-")
    lab, cps, bgs = HostLab(), [], []
    try:
        p = subprocess.run(["bash", S.MKCERTS, os.path.join(tmp, "tls"), S.DOMAIN, "IP:127.0.0.1"],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            print("bench sip: mkcerts.sh: %s" % p.stderr.strip(), file=sys.stderr)
            return 2
        tls = os.path.join(tmp, "tls")
        ca = os.path.join(tls, "ca.pem")
        os.makedirs(os.path.join(tmp, "state"), mode=0o700)
        pw = os.path.join(tmp, "password")
        fd = os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, ("bench-%s\n" % os.urandom(6).hex()).encode())
        os.close(fd)
        with open(pw) as f:
            password = f.readline().strip()
        sip_port, ng_port = S.free_port(socket.SOCK_STREAM), S.free_port(socket.SOCK_DGRAM)
        # two legs a call, held and measured, and room for the warm-up's;
        # two media ports a leg (RTP, RTCP): 10,000 by default
        legs = 8192
        while legs < 2 * (a.bg_calls + a.calls) + 1024:
            legs *= 2
        need = 2 * (2 * (a.bg_calls + a.calls) + 1024)
        ports = (30000, 39999) if need <= 10000 else (10000, min(65535, 10000 + need))
        cfg = os.path.join(tmp, "cp.conf")
        with open(cfg, "w") as f:
            f.write(S.cp_config(tmp, sip_port, ng_port, extra='log = { level = "notice"; };',
                                max_legs=legs, ports=ports))
        t0 = time.monotonic()
        S.add_accounts(cfg, pw, a.accounts)
        if a.bg_accounts > 0:
            S.add_accounts(cfg, pw, a.bg_accounts, prefix=BG_PREFIX)
        print("bench sip: %d accounts added (%.1f s); mrelay-cp on 127.0.0.1:%d"
              % (a.accounts + a.bg_accounts, time.monotonic() - t0, sip_port))
        cps.append(S.ControlPlane(tmp, cfg))
        servers = [("mrelay-cp", sip_port, cps[-1].proc.pid)]
        if a.base_cp is not None:
            btmp = os.path.join(tmp, "base")
            os.makedirs(os.path.join(btmp, "state"), mode=0o700)
            os.symlink(tls, os.path.join(btmp, "tls"))
            shutil.copy(os.path.join(tmp, "state", "accounts.db"), os.path.join(btmp, "state"))
            bport, bng = S.free_port(socket.SOCK_STREAM), S.free_port(socket.SOCK_DGRAM)
            bcfg = os.path.join(btmp, "cp.conf")
            with open(bcfg, "w") as f:
                f.write(S.cp_config(btmp, bport, bng, extra='log = { level = "notice"; };',
                                    max_legs=legs, ports=ports))
            cps.append(S.ControlPlane(btmp, bcfg, binary=a.base_cp))
            print("bench sip: mrelay-base (%s) on 127.0.0.1:%d" % (a.base_cp, bport))
            servers.append(("mrelay-base", bport, cps[-1].proc.pid))
        if kamailio:
            kam_port = S.free_port(socket.SOCK_STREAM)
            kdir = os.path.join(tmp, "kamailio")
            os.makedirs(kdir)
            kam = K.Kamailio(lab, None, kdir, "127.0.0.1", os.path.join(tls, "sip-chain.pem"),
                             os.path.join(tls, "sip.key"), domain=S.DOMAIN, password=password,
                             tls_port=kam_port)
            kam.wait_ready()
            print("bench sip: kamailio %s on 127.0.0.1:%d (TLS, digest MD5, proxy)" % (kam.version(), kam_port))
            servers.append(("kamailio", kam_port, kam.proc.pid))
        # Warm-up: connections, TLS sessions, SQLite pages, Kamailio's memory.
        for name, port, pid in servers:
            one_run(argparse.Namespace(accounts=min(a.accounts, 100), calls=min(a.calls, 50), window=a.window,
                                       conns=a.conns), port, pid, ca, pw)
        if a.bg_accounts > 0:
            for name, port, pid in servers:
                t0, c0 = time.monotonic(), cpu_s(pid)
                with open(os.path.join(tmp, "bg-%s.log" % name), "w") as log:
                    p = background_start(a, port, ca, pw, log)
                if p is None:
                    return 2
                bgs.append(p)
                print("bench sip: background on %s held after %.1f s, %.2f server CPU-s"
                      % (name, time.monotonic() - t0, cpu_s(pid) - c0))
        results = {name: [] for name, _, _ in servers}
        for i in range(a.repeat):
            k = i % len(servers)
            for name, port, pid in servers[k:] + servers[:k]:
                r = one_run(a, port, pid, ca, pw)
                results[name].append(r)
                if r is not None:
                    print("bench sip: round %d %-11s reg %7.0f/s (med %5.1f ms)  calls %6.0f/s (med %5.1f ms, "
                          "p95 %5.1f ms)  server %.2f CPU-s, client %.2f CPU-s%s"
                          % (i + 1, name, r["reg_rate"], r["reg_latency_ms_median"], r["setup_rate"],
                             r["latency_ms_median"], r["latency_ms_p95"], r["server_cpu_s"], r["client_cpu_s"],
                             "" if r["exit"] == 0 else "  FAILED (%s)" % r["failed_status"]))
        report(a, results)
        try:
            load = os.getloadavg()[0]
            print("(load average %.1f on %d CPUs while measuring; the machine may be shared)"
                  % (load, os.cpu_count()))
        except OSError:
            pass
    finally:
        for p in bgs:
            background_stop(p)
        for cp in cps:
            cp.stop()
        lab.cleanup()
        if a.keep:
            print("bench sip: kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
