# SPDX-License-Identifier: BSD-3-Clause
"""linphone as a test peer, the counterpart of baresip_lab.py: Debian 12's
linphone-cli 5.1 (liblinphone 5.1.65, belle-sip, bctoolbox on mbedtls 2)
run headless in a network namespace and driven through linphonec's
standard input. Unlike baresip, linphone verifies the server's TLS
certificate, so the tests use it for the certificate cases.

Which program: the linphone-cli package has linphonec (the console
phone), linphonecsh (a shell for a linphonec started with --pipe, one per
user: /tmp/linphonec-<uid>) and linphone-daemon (commands and events on
stdin/stdout or a socket). Only linphonec can record what it receives to
a file ("soundcard use files" + "record FILE"); linphone-daemon can play
a file into a call (incall-player-start) but has no recording command.
So this module drives linphonec over a plain pipe (no tty is needed).

What works with this Debian version (found by trying):
  - linphonec -c RC -l LOG -d 5, environment HOME=<its directory>; the
    commands, one per line on stdin:
        soundcard use files      files instead of a sound card
        play FILE.wav            what it sends (16-bit mono WAV; our tone)
        record FILE.wav          what it receives, 8 kHz mono 16-bit for
                                 PCMU; the file is bound when a call's
                                 audio starts, so give one per call
        autoanswer enable
        call sip:USER@DOMAIN     -> "Establishing call id to ..., assigned
                                    id N", "Call N with ... connected.",
                                    "Media streams established with ...
                                    for call N (audio)."
        pause / resume           re-INVITE a=sendonly / a=sendrecv ->
                                    "Call N with ... is now paused." /
                                    "Media streams established ..."
        terminate                -> "Call N with ... ended (REASON)."
        states                   the registration state of the account:
                                    "sip:... | LinphoneRegistrationOk"
        quit
    Incoming: "Receiving new incoming call from ..., assigned id N",
    then (auto answer) "Call N with ... connected.".
  - linphonerc keys (section [sip] unless named):
        sip_port=0, sip_tcp_port=0   UDP and TCP off (0 = off; -1 = a
                                     random port, NOT off)
        sip_tls_port=5071            the only listener
        root_ca=CA.pem               trust anchors for the server
        verify_server_certs=1        chain check (the default)
        verify_server_cn=1           name check (the default)
        media_encryption=srtp        SDES (also: none, zrtp, dtls)
        media_encryption_mandatory=1 refuses (488) an offer without crypto,
                                     and offers RTP/SAVP
        srtp_crypto_suites=AES_CM_128_HMAC_SHA1_80
        [proxy_0] reg_proxy=<sip:IP:5061;transport=tls>,
                  reg_route=<sip:IP:5061;transport=tls;lr> (every request
                  of the account goes there: the domain needs no DNS),
                  reg_identity=sip:USER@DOMAIN, reg_expires, reg_sendregister=1
        [auth_info_0] username, passwd, realm, domain
        [audio_codec_0] mime=PCMU rate=8000 enabled=1
        [video] enabled=0 (and automatically_initiate/accept=0)

Pitfalls, each of which cost a silent failure:
  - The core never leaves LinphoneGlobalStartup (nothing registers, no
    error on stdout) unless $HOME/.local/share/linphone/ exists: it opens
    linphone.db there and stops when it cannot.
  - Without a default route in its namespace, liblinphone's reachability
    check (a UDP connect() towards the Internet) fails ("Cannot assign
    requested address"), it declares the network DOWN about 5 s after the
    start and drops its registration and transports; the next request
    opens a new connection, so the registrar's flow is gone and calls to
    it fail (Kamailio: 477). Give it a default route (nothing is sent
    there; the tests point it at a lab address that does not forward).
  - bctoolbox (mbedtls 2) matches the host only against dNSName entries
    once a certificate has subjectAltName; an iPAddress entry alone is
    "CN-mismatch". kamailio_lab.Certs.server() puts the address in both.
  - linphonec rewrites its configuration file when it exits.
  - It writes its prompt ("linphonec> ") without a newline: read the pipe
    in chunks, never line by line.
  - An untrusted server certificate: "SSL handshake failed : X509 -
    Certificate verification failed" in the log, the registration goes
    to LinphoneRegistrationFailed (503 "io error"), no REGISTER is sent.

Host changes: none of its own; the process goes through nslab.Lab.spawn
(stopped at cleanup), files into the caller's directory.
"""
import os
import re
import select
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nslab import Fail  # noqa: E402

LINPHONEC = shutil.which("linphonec") or "/usr/bin/linphonec"
SUITE = "AES_CM_128_HMAC_SHA1_80"


def installed():
    """linphonec is there (scripts/setup.sh: linphone-cli)."""
    return os.access(LINPHONEC, os.X_OK)


def linphonerc(user, domain, proxy, password, cafile, verify=True, srtp="mandatory",
               tls_port=5071, rtp_port=21000):
    """A linphonerc for one account sip:@user@@domain registering over TLS
    with the registrar at @proxy ("IP:PORT"). @srtp: "mandatory", "optional"
    (offers SRTP, takes plain RTP too) or "none"."""
    verify = 1 if verify else 0
    return """[sip]
sip_port=0
sip_tcp_port=0
sip_tls_port=%(tls_port)d
default_proxy=0
root_ca=%(ca)s
verify_server_certs=%(verify)d
verify_server_cn=%(verify)d
media_encryption=%(menc)s
media_encryption_mandatory=%(mand)d
srtp_crypto_suites=%(suite)s
[rtp]
audio_rtp_port=%(rtp)d
[sound]
echocancellation=0
[video]
enabled=0
automatically_initiate=0
automatically_accept=0
[proxy_0]
reg_proxy=<sip:%(proxy)s;transport=tls>
reg_route=<sip:%(proxy)s;transport=tls;lr>
reg_identity=sip:%(user)s@%(domain)s
reg_expires=600
reg_sendregister=1
publish=0
[auth_info_0]
username=%(user)s
passwd=%(pw)s
realm=%(domain)s
domain=%(domain)s
[audio_codec_0]
mime=PCMU
rate=8000
channels=1
enabled=1
""" % {"tls_port": tls_port, "ca": cafile, "verify": verify, "menc": "none" if srtp == "none" else "srtp",
       "mand": 1 if srtp == "mandatory" else 0, "suite": SUITE, "rtp": rtp_port, "proxy": proxy,
       "user": user, "domain": domain, "pw": password}


class Linphone:
    """One linphonec in namespace @ns, configured in @cdir (its HOME) with
    @rc (linphonerc()), playing @tone (a WAV) into every call; auto
    answer unless @auto_answer is False. The namespace needs a default
    route (see the module's notes)."""

    def __init__(self, lab, ns, name, cdir, rc, tone, auto_answer=True):
        self.name, self.ns, self.dir = name, ns, cdir
        os.makedirs(os.path.join(cdir, ".local", "share", "linphone"), exist_ok=True)
        self.rc = os.path.join(cdir, "linphonerc")
        with open(self.rc, "w") as f:
            f.write(rc)
        self.log_path = os.path.join(cdir, "linphone.log")
        self.out_path = os.path.join(cdir, "linphonec.out")
        self.out_file = open(self.out_path, "w")
        self.out = ""               # everything linphonec printed
        self.seen = 0               # how far expect() has read
        env = dict(os.environ, HOME=cdir)
        self.proc = lab.spawn(ns, ["stdbuf", "-oL", "-eL", LINPHONEC, "-c", self.rc, "-l", self.log_path,
                                   "-d", "5"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        self.expect(r"linphonec> ", "the prompt", 15)
        self.command("soundcard use files", r"Using wav files instead of soundcard")
        self.command("play " + tone)
        if auto_answer:
            self.command("autoanswer enable", r"Auto answer enabled")

    # --- the pipe ------------------------------------------------------------

    def _read(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], max(0.0, timeout))
        if not r:
            return False
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            raise Fail("linphone %s exited (%s): %s" % (self.name, self.proc.poll(), self.tail()))
        text = data.decode(errors="replace")
        self.out += text
        self.out_file.write(text)
        self.out_file.flush()
        return True

    def pump(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._read(deadline - time.monotonic())

    def expect(self, pattern, what, timeout=10.0):
        """The next match of @pattern in the output after the last one
        expect() returned."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.out, self.seen)
            if m:
                self.seen = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("linphone %s: timed out waiting for %s: %s" % (self.name, what, self.tail()))
            self._read(min(left, 0.2))

    def send(self, line):
        os.write(self.proc.stdin.fileno(), (line + "\n").encode())

    def command(self, line, reply=None, timeout=10.0):
        """Send @line; wait for @reply (a regex), or for the next prompt."""
        while self._read(0):                # the answer comes after whatever is pending
            pass
        self.seen = len(self.out)
        self.send(line)
        return self.expect(reply or r"linphonec> ", "the answer to %r" % line, timeout)

    def tail(self, n=20):
        return "\n".join(self.out.splitlines()[-n:])

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    # --- what a test does -------------------------------------------------------------

    def registration(self):
        """The account's state from `states`: LinphoneRegistration<State>."""
        m = self.command("states", r"\|\s*LinphoneRegistration(\w+)")
        return m.group(1)

    def wait_registered(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while True:
            st = self.registration()
            if st == "Ok":
                return st
            if st == "Failed" or time.monotonic() > deadline:
                raise Fail("linphone %s: registration %s" % (self.name, st))
            self.pump(0.3)

    def wait_failed(self, timeout=15.0):
        """The registration ends in LinphoneRegistrationFailed (never Ok)."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.registration()
            if st == "Failed":
                return st
            if st == "Ok" or time.monotonic() > deadline:
                raise Fail("linphone %s: registration %s, expected Failed" % (self.name, st))
            self.pump(0.3)

    def record(self, path):
        """Received audio of the next call goes to @path."""
        self.command("record " + path)

    def call(self, uri, timeout=15.0):
        """Call @uri; returns the call id once media runs."""
        m = self.command("call " + uri, r"assigned id (\d+)")
        cid = m.group(1)
        self.wait_media(cid, timeout)
        return cid

    def wait_incoming(self, timeout=15.0):
        """An incoming call answered (auto answer) with media running; its id."""
        m = self.expect(r"Receiving new incoming call from .*, assigned id (\d+)", "an incoming call", timeout)
        cid = m.group(1)
        self.wait_media(cid, timeout)
        return cid

    def wait_media(self, cid, timeout=15.0):
        m = self.expect(r"Call %s with .* connected\.|Call %s .* (ended|error)[^\n]*" % (cid, cid),
                        "call %s to connect" % cid, timeout)
        if "connected" not in m.group(0):
            raise Fail("linphone %s: %s" % (self.name, m.group(0)))
        self.expect(r"Media streams established with .* for call %s" % cid, "call %s's media" % cid, timeout)

    def pause(self, cid):
        self.command("pause", r"Call %s with .* is now paused\." % cid)

    def resume(self, cid):
        self.command("resume", r"Media streams established with .* for call %s" % cid)

    def terminate(self, cid):
        self.command("terminate", r"Call %s with .* ended" % cid)

    def wait_ended(self, cid, timeout=10.0):
        return self.expect(r"Call %s with .* ended[^\n]*" % cid, "call %s to end" % cid, timeout).group(0)

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(5)
        try:
            while self._read(0):
                pass
        except Fail:
            pass
        self.out_file.close()
        return self.proc.returncode
