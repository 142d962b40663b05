#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The SIP load generator (tests/tools/mr_sipload) proven against
Kamailio over TLS, before mrelay's own registrar and B2BUA exist: the
figures it prints are only worth something if it counts right against a
server nobody here wrote.

  +----------------------------+        +-----------------------------+
  | ns cl: mr_sipload          |  veth  | ns sip: kamailio_lab        |
  | 198.18.0.30/24             +========+ 198.18.0.5/24               |
  | TLS client (sofia-sip)     |        | TLS :5061, mTLS :5062,      |
  |                            |        | TCP :5060 (403)             |
  +----------------------------+        +-----------------------------+

Kamailio (kamailio_lab.py) challenges REGISTER and INVITE (digest MD5,
one password for every user) and relays the calls with their SDP
untouched, so mr_sipload's callee sees the caller's SDES offer and the
caller the callee's SRTP answer.

  load      SIPLOAD_ACCOUNTS (200) accounts register over TLS with the
            server certificate verified against the test's CA and digest
            authentication (each INVITE is challenged too), then
            SIPLOAD_CALLS (50) simultaneous calls between pairs are set
            up, held 2 s and hung up, then every registration is
            removed. Nothing may fail; the summary (registration rate,
            call setup rate, setup latency median and p95) is printed,
            and Kamailio's log must show no error.
  wrong-ca  the same client verifying against another CA: no
            registration succeeds (sofia-sip's tport refuses the
            server's certificate), exit 1.
  mtls      on Kamailio's mutual-TLS port (5062) a client certificate
            from the CA it trusts registers and calls; one from another
            CA, and none at all, are refused.
  wrong-password  every REGISTER is challenged again and fails with 401.
  plain     --transport tcp (plaintext SIP to port 5060): every REGISTER
            gets 403, exit 1.
  no-srtp   --plain-offer: the callee refuses the RTP/AVP offer with
            488, so the call fails and the summary counts 488.

About 20 s. Skipped (77) without kamailio and kamailio-tls-modules.
Host changes: see nslab.py (namespaces mre2e-<pid>-*, deleted on exit).
Environment: MR_SIPLOAD (the built tool), SIPLOAD_ACCOUNTS, SIPLOAD_CALLS.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nslab as L  # noqa: E402
from nslab import check, Fail  # noqa: E402
from harness import main  # noqa: E402
import kamailio_lab as K  # noqa: E402

MR_SIPLOAD = os.environ.get("MR_SIPLOAD", "build/tests/tools/mr_sipload")
SIP_IP, CL_IP = "198.18.0.5", "198.18.0.30"
ACCOUNTS = int(os.environ.get("SIPLOAD_ACCOUNTS", "200"))
CALLS = int(os.environ.get("SIPLOAD_CALLS", "50"))
PASSWORD = "lab-%s" % os.urandom(6).hex()


def sipload(cl, *args, timeout=120):
    """Run mr_sipload in namespace @cl; returns (exit status, summary dict,
    output)."""
    argv = ["ip", "netns", "exec", cl, MR_SIPLOAD, "--server", "%s:%d" % (SIP_IP, K.TLS_PORT),
            "--domain", "kamailio.test", "--json"] + [str(a) for a in args]
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    out = p.stdout + p.stderr
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise Fail("mr_sipload (exit %d) printed no summary: %s" % (p.returncode, out[-3000:]))
    for ln in out.splitlines():
        if not ln.startswith("{"):
            print("# " + ln)
    print("# (%.1f s)" % (time.monotonic() - t0))
    return p.returncode, json.loads(lines[-1]), out


def test_sipload_kamailio(tmp):
    t0 = time.monotonic()
    if not os.access(MR_SIPLOAD, os.X_OK):
        raise Fail("%s is not built" % MR_SIPLOAD)
    certs = K.Certs(tmp)
    ca = certs.ca("good")
    rogue = certs.ca("rogue")
    crt, key, _ = certs.server(ca, SIP_IP)
    good_client = certs.client(ca, "client-good")
    rogue_client = certs.client(rogue, "client-rogue")
    pw, bad_pw = os.path.join(tmp, "password"), os.path.join(tmp, "bad-password")
    with open(pw, "w") as f:
        f.write("%s\n" % PASSWORD)
    with open(bad_pw, "w") as f:
        f.write("not-%s\n" % PASSWORD)
    with L.Lab() as lab:
        sip, cl = lab.ns("sip"), lab.ns("cl")
        lab.veth("eth0", sip, "eth0", cl)
        lab.addr(sip, "eth0", SIP_IP + "/24")
        lab.addr(cl, "eth0", CL_IP + "/24")
        kam = K.Kamailio(lab, sip, tmp, SIP_IP, crt, key, plain=True, password=PASSWORD, mtls_ca=ca)
        kam.wait_ready()
        print("ok - kamailio %s listens with TLS on %s:%d" % (kam.version(), SIP_IP, K.TLS_PORT))

        rc, s, out = sipload(cl, "--ca", ca, "--verify", "--password-file", pw, "--accounts", ACCOUNTS,
                             "--calls", CALLS, "--hold", 2, "--conns", 10)
        check(rc == 0 and s["reg_ok"] == ACCOUNTS and s["reg_failed"] == 0,
              "load: %d registrations over TLS (server certificate verified), none failed (%.0f/s)"
              % (s["reg_ok"], s["reg_rate"]))
        check(s["calls_ok"] == CALLS and s["calls_failed"] == 0 and s["unreg_failed"] == 0,
              "load: %d simultaneous SDES-SRTP calls set up, held 2 s and hung up, none failed; "
              "every registration removed" % s["calls_ok"])
        print("# load: setup rate %.1f calls/s, setup latency median %.1f ms, p95 %.1f ms, max %.1f ms"
              % (s["setup_rate"], s["latency_ms_median"], s["latency_ms_p95"], s["latency_ms_max"]))
        errors = [ln for ln in kam.text().splitlines() if " ERROR: " in ln or "CRITICAL" in ln]
        check(not errors, "load: Kamailio logged no error (%s)" % errors[:3])

        rc, s, out = sipload(cl, "--ca", rogue, "--verify", "--accounts", 4, "--calls", 0, "--conns", 2,
                             "--timeout", 3)
        check(rc == 1 and s["reg_ok"] == 0 and s["reg_failed"] == 4,
              "wrong-ca: with another CA no registration succeeds (exit %d, %s)" % (rc, s["failed_status"]))
        check("unable to get local issuer certificate" in out,
              "wrong-ca: because tport refused the server's certificate (OpenSSL: unable to get local issuer "
              "certificate; the transaction itself only times out)")

        mtls = ("--server", "%s:%d" % (SIP_IP, K.MTLS_PORT), "--ca", ca, "--verify", "--password-file", pw,
                "--accounts", 2, "--calls", 1, "--conns", 2, "--hold", 0, "--timeout", 3)
        rc, s, out = sipload(cl, *mtls, "--client-cert", good_client[0], "--client-key", good_client[1])
        check(rc == 0 and s["reg_ok"] == 2 and s["calls_ok"] == 1,
              "mtls: with a client certificate from the CA the server trusts, mutual TLS works "
              "(registrations and a call)")
        rc, s, out = sipload(cl, *mtls, "--client-cert", rogue_client[0], "--client-key", rogue_client[1])
        check(rc == 1 and s["reg_ok"] == 0 and "alert unknown ca" in out,
              "mtls: a client certificate from another CA is refused (TLS alert unknown ca; %s)"
              % s["failed_status"])
        rc, s, out = sipload(cl, *mtls)
        check(rc == 1 and s["reg_ok"] == 0 and "alert certificate required" in out,
              "mtls: no client certificate is refused (TLS 1.3 alert certificate required; %s)" % s["failed_status"])

        rc, s, out = sipload(cl, "--ca", ca, "--verify", "--password-file", bad_pw, "--accounts", 4,
                             "--calls", 0, "--conns", 1)
        check(rc == 1 and s["reg_ok"] == 0 and s["failed_status"] == "401:4",
              "wrong-password: every REGISTER answered with the wrong password is challenged again "
              "and counted failed (%s)" % s["failed_status"])

        rc, s, out = sipload(cl, "--server", "%s:%d" % (SIP_IP, K.PLAIN_PORT), "--transport", "tcp",
                             "--accounts", 4, "--calls", 0, "--conns", 1)
        check(rc == 1 and s["reg_ok"] == 0 and s["failed_status"] == "403:4",
              "plain: plaintext SIP over TCP refused, every REGISTER got 403 (%s)" % s["failed_status"])
        check("refused REGISTER over tcp" in kam.text(), "plain: Kamailio logged the refusal")

        rc, s, out = sipload(cl, "--ca", ca, "--verify", "--password-file", pw, "--accounts", 2, "--calls", 1,
                             "--plain-offer",
                             "--conns", 1, "--hold", 0)
        check(rc == 1 and s["reg_ok"] == 2 and s["calls_failed"] == 1 and s["failed_status"] == "488:1",
              "no-srtp: an offer without crypto gets 488 from the callee (%s)" % s["failed_status"])
        check(kam.stop() == 0, "kamailio exits 0 on SIGTERM")
    print("# %.1f s" % (time.monotonic() - t0))


if __name__ == "__main__":
    if not K.installed():
        print("# SKIP: kamailio or kamailio-tls-modules is not installed; scripts/setup.sh installs them")
        sys.exit(77)
    main([test_sipload_kamailio])
