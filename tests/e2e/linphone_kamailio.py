#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""linphone (linphone_lab.py) proven against a SIP-over-TLS server before
mrelay's own exists: a linphone and a baresip register with Kamailio
(kamailio_lab.py, digest, TLS only) and call each other both ways with
SDES-SRTP, the media going straight between them (Kamailio passes the
SDP through); then a linphone that trusts another CA must refuse the
server.

  +----------------------+   +---------------------+   +----------------------+
  | ns cL: linphonec L   |   | ns br: bridge br0   |   | ns cB: baresip B     |
  | 198.18.0.40/24       +===+                     +===+ 198.18.0.11/24       |
  | 1000 Hz, TLS :5071   |   |                     |   | 440 Hz               |
  | default via .0.5     |   +----------+----------+   +----------------------+
  +----------------------+              |
                             +----------+----------+
                             | ns sip: kamailio    |
                             | 198.18.0.5 TLS :5061|
                             +---------------------+

  register  L (server certificate verified against the test's CA, name
            checked) and B register over TLS with digest.
  L calls B L dials sip:b@...; both sides up, SRTP AES_CM_128_HMAC_SHA1_80
            (baresip's CALL_MENC); L holds (pause: "is now paused") and
            resumes; each side decodes the other's tone (L records B's
            440 Hz, B's decoder dump has L's 1000 Hz); L hangs up.
  B calls L L auto-answers; tones both ways again; B hangs up and L sees
            the call end.
  no-srtp   B's plain-RTP account calls L: L (SRTP mandatory) refuses it
            with 488 and never connects.
  wire      on L's wire SIP is TLS to 198.18.0.5:5061 only (no cleartext
            SIP, no other port towards the server), and every RTP packet
            between L and B carries the 10-byte SRTP tag. (linphone also
            sends STUN binding requests to the peer's RTP and RTCP ports
            at the start of each stream, without ICE in the SDP: counted,
            not RTP.)
  bad-ca    a linphone whose root_ca is another CA does not register:
            LinphoneRegistrationFailed, its log says the certificate
            verification failed, and Kamailio never saw its REGISTER.

About 12 s. Skipped (77) without kamailio, kamailio-tls-modules,
baresip-core or linphone-cli. Host changes: see nslab.py (namespaces
mre2e-<pid>-*, deleted on exit). LINPHONE_E2E_KEEP=DIR keeps the
temporary directory (configurations, logs, recordings, captures).
"""
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nslab as L  # noqa: E402
from nslab import check, Fail  # noqa: E402
from harness import main  # noqa: E402
import kamailio_lab as K  # noqa: E402
import linphone_lab as LP  # noqa: E402
from baresip_lab import (Baresip, Capture, installed as baresip_installed, is_rtcp,  # noqa: E402
                         read_pcap_ip, tone_frames, write_tone)

SIP_IP, L_IP, B_IP = "198.18.0.5", "198.18.0.40", "198.18.0.11"
DOMAIN = "kamailio.test"
TONE_L, TONE_B = 1000.0, 440.0
MEDIA_SECONDS = 3.0
SUITE = LP.SUITE


def b_account(user, srtp):
    return ("<sip:%s@%s;transport=tls>;auth_pass=%%s;outbound=\"sip:%s:%d;transport=tls\";regint=600;"
            "%sanswermode=auto;audio_codecs=PCMU;ptime=20" % (user, DOMAIN, SIP_IP, K.TLS_PORT,
                                                                "mediaenc=srtp-mand;" if srtp else ""))


def events_of(u, kind):
    return [e for e in u.events if e.get("event") and e.get("type") == kind]


def test_linphone_kamailio(tmp):
    t0 = time.monotonic()
    password = "lab-%s" % os.urandom(6).hex()
    certs = K.Certs(tmp)
    ca, rogue = certs.ca("good"), certs.ca("rogue")
    crt, key, _ = certs.server(ca, SIP_IP)
    for f, hz in (("l.wav", TONE_L), ("b.wav", TONE_B)):
        write_tone(os.path.join(tmp, f), hz)
    with L.Lab() as lab:
        sip, cl, cb, br = lab.ns("sip"), lab.ns("cL"), lab.ns("cB"), lab.ns("br")
        for ns, port in ((sip, "p-sip"), (cl, "p-l"), (cb, "p-b")):
            lab.veth("eth0", ns, port, br)
        lab.bridge(br, "br0", ["p-sip", "p-l", "p-b"])
        for ns, ip in ((sip, SIP_IP), (cl, L_IP), (cb, B_IP)):
            lab.addr(ns, "eth0", ip + "/24")
        lab.route(cl, "default", SIP_IP)     # linphone's reachability check needs one
        kam = K.Kamailio(lab, sip, tmp, SIP_IP, crt, key, domain=DOMAIN, password=password)
        kam.wait_ready()
        print("ok - kamailio %s listens with TLS on %s:%d (digest)" % (kam.version(), SIP_IP, K.TLS_PORT))
        cap = Capture(lab, cl, os.path.join(tmp, "l.pcap"), filt="ip")
        b = Baresip(lab, cb, "B", B_IP, os.path.join(tmp, "b"), os.path.join(tmp, "b.wav"), False,
                    account="\n".join([b_account("b", True) % password,
                                       b_account("b-plain", False).replace(";regint=600", ";regint=0")
                                       % password]),
                    conf_extra={"sip_cafile": ca})
        lp = LP.Linphone(lab, cl, "L", os.path.join(tmp, "l"),
                         LP.linphonerc("l", DOMAIN, "%s:%d" % (SIP_IP, K.TLS_PORT), password, ca),
                         os.path.join(tmp, "l.wav"))
        try:
            run(tmp, lab, cl, kam, b, lp, cap, rogue, password)
        finally:
            lp.quit()
            b.quit()
            if os.environ.get("LINPHONE_E2E_KEEP"):
                shutil.copytree(tmp, os.environ["LINPHONE_E2E_KEEP"], dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("kamailio-run"))
        check(kam.stop() == 0, "kamailio exits 0 on SIGTERM")
    print("# %.1f s" % (time.monotonic() - t0))


def run(tmp, lab, cl, kam, b, lp, cap, rogue, password):
    b.connect()
    lp.wait_registered()
    check(True, "linphone L registered over TLS, server certificate chain and name verified (%s)"
          % re.search(r"SSL handshake finished.*", lp.log_text()).group(0))
    L.wait_until(lambda: "OK" in b.command("reginfo")["data"], "baresip B to register", 15)
    check(True, "baresip B registered over TLS")

    # -- L calls B --
    dumps = set()
    lp.record(os.path.join(tmp, "l-call1.wav"))
    cid = lp.call("sip:b@%s" % DOMAIN)
    b.wait(lambda e: e.get("event") and e.get("type") == "CALL_ESTABLISHED", "CALL_ESTABLISHED", 10)
    check(True, "L called B through Kamailio: call %s connected, media running" % cid)
    menc = events_of(b, "CALL_MENC")
    check(menc and SUITE in menc[0].get("param", ""),
          "the call is SDES-SRTP with %s (baresip: %s)" % (SUITE, [e.get("param") for e in menc]))
    lp.pump(MEDIA_SECONDS)
    n_sdp = len(events_of(b, "CALL_REMOTE_SDP"))
    lp.pause(cid)
    b.wait(lambda e: len(events_of(b, "CALL_REMOTE_SDP")) > n_sdp, "the hold re-INVITE", 10)
    lp.resume(cid)
    b.wait(lambda e: len(events_of(b, "CALL_REMOTE_SDP")) > n_sdp + 1, "the resume re-INVITE", 10)
    check(True, "L held (re-INVITE, \"is now paused\") and resumed the call; baresip took both offers")
    lp.pump(1.5)
    b.events.clear()
    lp.terminate(cid)
    b.wait(lambda e: e.get("event") and e.get("type") == "CALL_CLOSED", "CALL_CLOSED", 10)
    check(True, "L hung up; B saw the call close")
    time.sleep(0.3)
    dec, dumps = b.new_dump(dumps)
    got, wrong, loud, _ = tone_frames(dec, TONE_L, TONE_B)
    check(got >= 40 and got >= 0.9 * loud and wrong == 0,
          "B decoded L's %g Hz tone (%d of %d loud 50-ms frames)" % (TONE_L, got, loud))
    got, wrong, loud, _ = tone_frames(os.path.join(tmp, "l-call1.wav"), TONE_B, TONE_L)
    check(got >= 40 and got >= 0.9 * loud and wrong == 0,
          "L recorded B's %g Hz tone (%d of %d loud 50-ms frames)" % (TONE_B, got, loud))

    # -- B calls L --
    lp.record(os.path.join(tmp, "l-call2.wav"))
    b.events.clear()
    b.command("uafind", "sip:b@%s" % DOMAIN)
    b.command("dial", "sip:l@%s" % DOMAIN)
    cid = lp.wait_incoming()
    b.wait(lambda e: e.get("event") and e.get("type") in ("CALL_ESTABLISHED", "CALL_CLOSED"),
           "CALL_ESTABLISHED", 10)
    check(events_of(b, "CALL_ESTABLISHED") and events_of(b, "CALL_MENC"),
          "B called L: L auto-answered (call %s), SRTP (%s)"
          % (cid, [e.get("param") for e in events_of(b, "CALL_MENC")]))
    b.pump(MEDIA_SECONDS)
    b.command("hangup")
    ended = lp.wait_ended(cid)
    check(True, "B hung up; L: %s" % ended.strip())
    time.sleep(0.3)
    dec, dumps = b.new_dump(dumps)
    got, wrong, loud, _ = tone_frames(dec, TONE_L, TONE_B)
    check(got >= 40 and got >= 0.9 * loud and wrong == 0,
          "B decoded L's tone again (%d of %d loud frames)" % (got, loud))
    got, wrong, loud, _ = tone_frames(os.path.join(tmp, "l-call2.wav"), TONE_B, TONE_L)
    check(got >= 40 and got >= 0.9 * loud and wrong == 0,
          "L recorded B's tone again (%d of %d loud frames)" % (got, loud))

    # -- no-srtp: L refuses a plain RTP offer --
    b.events.clear()
    b.command("uafind", "sip:b-plain@%s" % DOMAIN)
    b.command("dial", "sip:l@%s" % DOMAIN)
    closed = b.wait(lambda e: e.get("event") and e.get("type") == "CALL_CLOSED", "the refused call", 10)
    check("488" in closed.get("param", "") and not events_of(b, "CALL_ESTABLISHED"),
          "no-srtp: L (SRTP mandatory) refused B's RTP/AVP offer (%s)" % closed.get("param"))
    lp.pump(0.5)
    check(not re.search(r"Call \d+ with .* connected\.", lp.out[lp.seen:]), "no-srtp: L never connected")

    # -- the wire --
    cap.stop()
    pkts = read_pcap_ip(cap.path)
    cleartext = [p for p in pkts if re.search(rb"SIP/2\.0|^(INVITE|REGISTER|ACK|BYE) sip:", p[6])]
    to_sip = {(p[1], p[5] if p[2] == L_IP else p[3]) for p in pkts if SIP_IP in (p[2], p[4])}
    check(not cleartext and to_sip == {(6, K.TLS_PORT)},
          "wire: L's SIP went over TLS to %s:%d only (%d packets; %d cleartext SIP)"
          % (SIP_IP, K.TLS_PORT, sum(1 for p in pkts if SIP_IP in (p[2], p[4])), len(cleartext)))
    rtp = [p for p in pkts if p[1] == 17 and B_IP in (p[2], p[4]) and len(p[6]) >= 12 and not is_rtcp(p[6])]
    stun = [p for p in rtp if p[6][4:8] == b"\x21\x12\xa4\x42"]
    rtp = [p for p in rtp if p not in stun]
    lens = {len(p[6]) for p in rtp}
    check(len(rtp) >= 200 and lens == {12 + 160 + 10},
          "wire: all %d RTP packets between L and B are SRTP (PCMU + 10-byte tag: %s)" % (len(rtp), sorted(lens)))
    print("# linphone also sent %d STUN binding requests to B's RTP and RTCP ports (no ICE offered)" % len(stun))

    # -- bad-ca: a linphone that trusts another CA refuses the server --
    lp.quit()
    bad = LP.Linphone(lab, cl, "L-bad-ca", os.path.join(tmp, "l-bad"),
                      LP.linphonerc("l2", DOMAIN, "%s:%d" % (SIP_IP, K.TLS_PORT), password, rogue),
                      os.path.join(tmp, "l.wav"))
    try:
        bad.wait_failed()
        log = bad.log_text()
        check("Certificate verification failed" in log,
              "bad-ca: a linphone trusting only another CA refuses the server's certificate "
              "(LinphoneRegistrationFailed; %s)" % re.search(r"SSL handshake failed[^\n]*", log).group(0))
        check("REGISTER sip:l2@" not in kam.text() and "REGISTER sip:l@" in kam.text(),
              "bad-ca: no REGISTER of its reached Kamailio (L's did)")
    finally:
        bad.quit()


if __name__ == "__main__":
    if not K.installed() or not baresip_installed() or not LP.installed():
        print("# SKIP: kamailio, kamailio-tls-modules, baresip-core or linphone-cli is not installed; "
              "scripts/setup.sh installs them")
        sys.exit(77)
    main([test_linphone_kamailio])
