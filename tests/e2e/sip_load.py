#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""mrelay's own SIP front-end under load (issue 6): mrelay-cp's registrar
and B2BUA over TLS, driven by the scripted sofia-sip client
tests/tools/mr_sipload (proven against Kamailio by sipload_kamailio.py).

  +-------------------------------+   TLS 127.0.0.1:P    +---------------------------------+
  | mr_sipload (host namespace)   +--------------------->+ mrelay-cp, sip.listen           |
  | 10 connections, 1,000 accounts|                      | region, state, CDR, accounts in |
  | server certificate verified   |                      | the test's temporary directory  |
  +-------------------------------+                      +---------------------------------+

No mrelay-dp: signalling only. The NG offers the B2BUA makes still
allocate relay legs and keys in the region mrelay-cp creates (interface
"wan", 198.18.0.2: nothing is ever sent there).

  load     SIPLOAD_ACCOUNTS (1,000) accounts are added with mrelayctl,
           register over TLS (the certificate chain from
           scripts/mkcerts.sh verified against its root; digest MD5),
           then SIPLOAD_CALLS (200) SDES-SRTP calls between pairs are set
           up, held SIPLOAD_HOLD (4) seconds and hung up; every
           registration is then removed. Nothing may fail. While the
           calls are held, `mrelayctl cp status json` (polled) shows all
           bindings, all calls active in the B2BUA and in the session
           manager, two legs each; afterwards none, and `mrelayctl cdr
           --json` one row per call (caller-bye, 200, the right pair).
  wrong-ca the same client verifying against another root: no
           registration (tport refuses the chain), and mrelay-cp counts
           failed handshakes.
  tcp      plaintext SIP to the TLS port: no registration (no plain
           listener exists; the bytes fail the handshake).
  no-srtp  --plain-offer (RTP/AVP, no a=crypto): mrelay-cp answers 488
           itself (rejected_488), the call leaves a CDR row "rejected".
  log      mrelay-cp logged nothing at warning or above, and exits 0 on
           SIGTERM.

About 20 s. No namespaces, nothing outside loopback; run under
flock /tmp/mrelay-e2e.lock like the other e2e tests.
Host changes: none; files in a temporary directory (removed).
Environment: MRELAY_CP, MRELAYCTL, MR_SIPLOAD (built tools),
SIPLOAD_ACCOUNTS, SIPLOAD_CALLS, SIPLOAD_HOLD.
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "dp"))
from harness import Fail, check, main, stop_process  # noqa: E402

MRELAY_CP = os.environ.get("MRELAY_CP", "build/controlplane/mrelay-cp")
MRELAYCTL = os.environ.get("MRELAYCTL", "build/controlplane/mrelayctl")
MR_SIPLOAD = os.environ.get("MR_SIPLOAD", "build/tests/tools/mr_sipload")
MKCERTS = os.path.join(HERE, "..", "..", "scripts", "mkcerts.sh")
ACCOUNTS = int(os.environ.get("SIPLOAD_ACCOUNTS", "1000"))
CALLS = int(os.environ.get("SIPLOAD_CALLS", "200"))
HOLD_S = float(os.environ.get("SIPLOAD_HOLD", "4"))
DOMAIN = "mrelay.test"
PREFIX = "user"
BAD_LOG = ("error:", "crit:", "alert:", "emerg:", "warning:")


def free_port(kind):
    """A port nothing uses on 127.0.0.1 right now (the kernel's choice)."""
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def cp_config(tmp, sip_port, ng_port, extra="", max_legs=8192, ports=(30000, 39999)):
    """mrelay-cp's configuration: everything in @tmp, SIP over TLS on
    127.0.0.1:@sip_port with tmp/tls/ from scripts/mkcerts.sh; @extra is
    appended (tests/bench/sip_bench.py: the log level)."""
    return """
region = { path = "%(tmp)s/region"; max_legs = %(legs)d; max_workers = 2; };
interfaces = ( { name = "wan"; addresses = [ "198.18.0.2" ]; port_min = %(pmin)d; port_max = %(pmax)d; } );
admin = { socket = "%(tmp)s/cp.sock"; };
state_dir = "%(tmp)s/state";
ng = { udp = [ "127.0.0.1:%(ng)d" ]; };
sip = {
	domain = "%(domain)s";
	digest_algorithms = [ "MD5" ];     /* sofia-sip (mr_sipload) knows no SHA-256 */
	accounts = "%(tmp)s/state/accounts.db";
	cdr = { path = "%(tmp)s/state/cdr.db"; };
	listen = ( { address = "127.0.0.1:%(sip)d"; cert = "%(tmp)s/tls/sip-chain.pem";
		     key = "%(tmp)s/tls/sip.key"; } );
};
%(extra)s
""" % {"tmp": tmp, "sip": sip_port, "ng": ng_port, "domain": DOMAIN, "extra": extra, "legs": max_legs,
       "pmin": ports[0], "pmax": ports[1]}


def ctl(*args, ok=True, timeout=30):
    p = subprocess.run([MRELAYCTL] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout)
    if ok and p.returncode != 0:
        raise Fail("mrelayctl %s: exit %d: %s" % (" ".join(map(str, args)), p.returncode,
                                                  (p.stderr or p.stdout).strip()))
    return p


def add_accounts(cfg, pw, n, prefix=PREFIX):
    """mrelayctl account add for @prefix0001..: one process per account (a
    few ms each), two at a time (SQLite's busy timeout serialises them)."""
    width = max(4, len(str(n)))
    names = ["%s%0*d" % (prefix, width, i + 1) for i in range(n)]
    errors = []

    def worker(part):
        for name in part:
            p = ctl("account", "add", name, "--password-file", pw, "--cp-config", cfg, ok=False)
            if p.returncode != 0:
                errors.append("%s: %s" % (name, p.stderr.strip()))
    threads = [threading.Thread(target=worker, args=(names[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise Fail("account add: %d failed, first: %s" % (len(errors), errors[0]))
    return names


class ControlPlane:
    def __init__(self, tmp, cfg, binary=None):
        self.cfg = cfg
        self.sock = os.path.join(tmp, "cp.sock")
        self.log_path = os.path.join(tmp, "mrelay-cp.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary or MRELAY_CP, "--config", cfg], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise Fail("mrelay-cp exited early (%d): %s" % (self.proc.returncode, self.text()[-2000:]))
            if ctl("-s", self.sock, "cp", "ping", ok=False).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise Fail("mrelay-cp did not open its admin socket: " + self.text()[-2000:])
            time.sleep(0.05)

    def status(self):
        return json.loads(ctl("-s", self.sock, "cp", "status", "json").stdout)

    def text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        stop_process(self.proc)
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode


def sipload_argv(port, *args):
    return [MR_SIPLOAD, "--server", "127.0.0.1:%d" % port, "--domain", DOMAIN, "--json",
            "--prefix", PREFIX] + [str(a) for a in args]


def parse_summary(rc, out, err):
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if not lines:
        raise Fail("mr_sipload (exit %d) printed no summary: %s" % (rc, (out + err)[-3000:]))
    for ln in (out + err).splitlines():
        if not ln.startswith("{"):
            print("# " + ln)
    return json.loads(lines[-1])


def sipload(port, *args, timeout=60):
    """Run mr_sipload to the end: (exit status, summary dict, all output)."""
    p = subprocess.run(sipload_argv(port, *args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, parse_summary(p.returncode, p.stdout, p.stderr), p.stdout + p.stderr


def test_sip_load(tmp):
    t_start = time.monotonic()
    for path in (MRELAY_CP, MRELAYCTL, MR_SIPLOAD):
        if not os.access(path, os.X_OK):
            raise Fail("%s is not built" % path)
    for d, name in (("tls", "good"), ("rogue", "rogue")):
        p = subprocess.run(["bash", MKCERTS, os.path.join(tmp, d), DOMAIN, "IP:127.0.0.1"],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise Fail("mkcerts.sh (%s CA): %s" % (name, p.stderr.strip()))
    ca, rogue = os.path.join(tmp, "tls", "ca.pem"), os.path.join(tmp, "rogue", "ca.pem")
    os.makedirs(os.path.join(tmp, "state"), mode=0o700)
    pw = os.path.join(tmp, "password")
    fd = os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, ("load-%s\n" % os.urandom(6).hex()).encode())
    os.close(fd)
    sip_port, ng_port = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    cfg = os.path.join(tmp, "cp.conf")
    with open(cfg, "w") as f:
        f.write(cp_config(tmp, sip_port, ng_port))

    t0 = time.monotonic()
    names = add_accounts(cfg, pw, ACCOUNTS)
    listed = json.loads(ctl("account", "list", "--json", "--cp-config", cfg).stdout)["accounts"]
    check(sorted(a["name"] for a in listed) == names,
          "%d accounts added with mrelayctl account add (%.1f s)" % (ACCOUNTS, time.monotonic() - t0))

    cp = ControlPlane(tmp, cfg)
    try:
        # --- load: register, call, hold (polled), hang up, unregister --------------
        argv = sipload_argv(sip_port, "--ca", ca, "--verify", "--password-file", pw, "--accounts", ACCOUNTS,
                            "--calls", CALLS, "--hold", HOLD_S, "--conns", 10, "--timeout", 20)
        t0 = time.monotonic()
        load = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out_box = {}
        reader = threading.Thread(target=lambda: out_box.update(zip(("out", "err"), load.communicate())))
        reader.start()
        held = None                     # the first status with every call active
        peak = {"bindings": 0, "calls_active": 0}
        while load.poll() is None and time.monotonic() - t0 < 60:
            s = cp.status()
            for k in peak:
                peak[k] = max(peak[k], s["sip"][k])
            if held is None and s["sip"]["calls_active"] == CALLS:
                held = s
            time.sleep(0.1)
        reader.join(60)
        if load.returncode is None:
            load.kill()
            reader.join()
            raise Fail("mr_sipload did not finish in 60 s")
        r = parse_summary(load.returncode, out_box.get("out", ""), out_box.get("err", ""))
        print("# load: %.1f s; registrations %.0f/s (latency median %.1f ms, p95 %.1f ms); "
              "calls set up %.0f/s (latency median %.1f ms, p95 %.1f ms)"
              % (time.monotonic() - t0, r["reg_rate"], r["reg_latency_ms_median"], r["reg_latency_ms_p95"],
                 r["setup_rate"], r["latency_ms_median"], r["latency_ms_p95"]))
        check(load.returncode == 0 and r["reg_ok"] == ACCOUNTS and r["reg_failed"] == 0,
              "load: %d registrations over TLS (server chain verified), none failed" % r["reg_ok"])
        check(r["calls_ok"] == CALLS and r["calls_failed"] == 0,
              "load: %d simultaneous SDES-SRTP calls set up, held %g s and hung up, none failed"
              % (r["calls_ok"], HOLD_S))
        check(r["unreg_failed"] == 0, "load: every registration removed (Expires: 0), none failed")
        check(held is not None,
              "load: cp status showed %d calls active while they were held (peak %d)"
              % (CALLS, peak["calls_active"]))
        check(held["sip"]["bindings"] == ACCOUNTS,
              "load: ... with %d bindings (before the unregistrations)" % held["sip"]["bindings"])
        check(held["calls"] == CALLS and held["legs"] == 2 * CALLS,
              "load: ... and %d calls, %d legs in the session manager (two per call)"
              % (held["calls"], held["legs"]))
        s = cp.status()
        check(s["sip"]["calls_active"] == 0 and s["sip"]["bindings"] == 0 and s["calls"] == 0 and
              s["legs"] == 0 and s["ports_used"] == 0,
              "load: afterwards no SIP call, binding, session call, leg or port is left "
              "(%d calls, %d bindings, %d legs)" % (s["sip"]["calls_active"], s["sip"]["bindings"], s["legs"]))
        check(s["sip"]["calls_total"] == CALLS and s["sip"]["calls_answered"] == CALLS and
              s["sip"]["calls_failed"] == 0 and s["sip"]["auth_failures"] == 0,
              "load: counters: %d calls, all answered, none failed, no authentication failure"
              % s["sip"]["calls_total"])
        cdrs = json.loads(ctl("cdr", "--json", "--cp-config", cfg).stdout)["cdrs"]
        pairs = {(names[2 * i], names[2 * i + 1]) for i in range(CALLS)}
        check(len(cdrs) == CALLS and {(c["caller"], c["callee"]) for c in cdrs} == pairs,
              "load: %d CDR rows, one per call, each with its caller and callee" % len(cdrs))
        bad = [c for c in cdrs if c["end_reason"] != "caller-bye" or c["sip_status"] != 200 or
               c["answer"] is None or c["duration_s"] < int(HOLD_S) - 1]
        check(not bad, "load: every CDR: answered, 200, caller-bye, lasted the hold (%s)" % bad[:2])

        # --- refused cases -----------------------------------------------------------
        before = cp.status()["sip"]
        rc, r, out = sipload(sip_port, "--ca", rogue, "--verify", "--password-file", pw, "--accounts", 4,
                             "--calls", 0, "--conns", 2, "--timeout", 3)
        after = cp.status()["sip"]
        check(rc == 1 and r["reg_ok"] == 0 and r["reg_failed"] == 4,
              "wrong-ca: verifying against another root, no registration succeeds (%s)" % r["failed_status"])
        check("unable to get local issuer certificate" in out,
              "wrong-ca: because the client refused the server's chain (OpenSSL: unable to get local "
              "issuer certificate)")
        # sofia-sip's tport checks the chain after the handshake and then
        # just never sends: mrelay-cp sees a good handshake and a silent
        # flow, so only "no registration" can be seen from its side.
        check(after["registrations"] == before["registrations"] and after["bindings"] == 0,
              "wrong-ca: mrelay-cp saw no REGISTER (%d flows accepted, %d failed handshakes)"
              % (after["flows_accepted"] - before["flows_accepted"],
                 after["handshake_failures"] - before["handshake_failures"]))

        before = after
        rc, r, out = sipload(sip_port, "--transport", "tcp", "--password-file", pw, "--accounts", 4,
                             "--calls", 0, "--conns", 2, "--timeout", 3)
        after = cp.status()["sip"]
        check(rc == 1 and r["reg_ok"] == 0 and r["reg_failed"] == 4 and
              after["registrations"] == before["registrations"],
              "tcp: plaintext SIP to the TLS port registers nothing (%s)" % r["failed_status"])
        check(after["handshake_failures"] > before["handshake_failures"],
              "tcp: ... the bytes failed the TLS handshake (%d counted)"
              % (after["handshake_failures"] - before["handshake_failures"]))

        before = after
        rc, r, out = sipload(sip_port, "--ca", ca, "--verify", "--password-file", pw, "--accounts", 2,
                             "--calls", 1, "--conns", 1, "--hold", 0, "--plain-offer")
        after = cp.status()["sip"]
        check(rc == 1 and r["reg_ok"] == 2 and r["calls_failed"] == 1 and r["failed_status"] == "488:1",
              "no-srtp: an offer without crypto gets 488 (%s)" % r["failed_status"])
        check(after["rejected_488"] == before["rejected_488"] + 1,
              "no-srtp: ... from mrelay-cp itself (rejected_488 counted), not from the callee")
        cdrs = json.loads(ctl("cdr", "--json", "--cp-config", cfg).stdout)["cdrs"]
        last = [c for c in cdrs if (c["caller"], c["callee"]) == (names[0], names[1])]
        check(len(cdrs) == CALLS + 1 and any(c["sip_status"] == 488 and c["end_reason"] == "rejected"
                                             for c in last),
              "no-srtp: the refused call left a CDR row (488, rejected)")
        s = cp.status()
        check(s["calls"] == 0 and s["legs"] == 0 and s["sip"]["calls_active"] == 0,
              "no-srtp: nothing left of the refused call")
    finally:
        rc = cp.stop()
    check(rc == 0, "mrelay-cp exits 0 on SIGTERM")
    bad = [ln for ln in cp.text().splitlines() if ln.startswith(BAD_LOG)]
    check(not bad, "log: mrelay-cp logged nothing at warning or above (%s)" % bad[:3])
    print("# %.1f s" % (time.monotonic() - t_start))


if __name__ == "__main__":
    main([test_sip_load])
