# SPDX-License-Identifier: BSD-3-Clause
"""baresip as a test peer, shared by the tests that place real calls
(baresip_srtp.py, kamailio_call.py): a baresip user agent run headless in
a network namespace and driven over its ctrl_tcp module, the test tones it
plays (aufile) and the Goertzel check of what it decoded (the sndfile
module's WAV dumps), sockets made inside a namespace, tcpdump captures and
a small pcap reader.

baresip 1.0.0 (Debian 12, libre 1.1.0) is configured per run in its own
directory (baresip -f DIR): no audio hardware, the aufile module plays a
sine generated here, sndfile writes what it decoded (and encoded) to
<snd>/...-dec.wav (-enc.wav), menu gives dial/hangup/quit, and ctrl_tcp
(netstring JSON on 127.0.0.1:4444 in the client's namespace) runs them and
reports the call's events (CALL_ESTABLISHED, CALL_MENC, CALL_RTCP,
CALL_CLOSED, ...).

Host changes: none of its own; processes go through nslab.Lab.spawn (so
they are stopped at cleanup), files into the caller's directories.
"""
import ctypes
import json
import math
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nslab as L  # noqa: E402
from nslab import RELAY, Fail  # noqa: E402

BARESIP = shutil.which("baresip") or "/usr/bin/baresip"
BARESIP_MODULES = "/usr/lib/baresip/modules"
SIP_PORT = 5060
CTRL_PORT = 4444
TONE = {"A": 440.0, "B": 1000.0}
RATE = 8000                     # PCMU only: 20 ms = 160 samples
TONE_SECONDS = 40               # longer than any call: aufile never runs dry


def installed():
    """baresip and its srtp module are there (scripts/setup.sh: baresip-core)."""
    return os.access(BARESIP, os.X_OK) and os.path.exists(os.path.join(BARESIP_MODULES, "srtp.so"))


# --- sockets inside a namespace ----------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def ns_socket(ns, family, kind):
    """A socket that lives in network namespace @ns: made by a short-lived
    thread that first joins @ns (setns(2) changes only the calling thread),
    so the test process itself stays where it is. Its address family,
    routes and ports are then those of @ns, whichever thread uses it."""
    out = {}

    def run():
        try:
            fd = os.open("/run/netns/" + ns, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, "setns(%s): %s" % (ns, os.strerror(e)))
            finally:
                os.close(fd)
            out["sock"] = socket.socket(family, kind)
        except BaseException as e:  # handed to the caller
            out["err"] = e

    t = threading.Thread(target=run, name="setns-" + ns)
    t.start()
    t.join()
    if "err" in out:
        raise out["err"]
    return out["sock"]


def token():
    return os.urandom(6).hex()


# --- tones -------------------------------------------------------------------------------

def write_tone(path, freq, seconds=TONE_SECONDS):
    """16-bit mono WAV at RATE with a sine of @freq at half scale."""
    n = RATE * seconds
    samples = [int(16000 * math.sin(2 * math.pi * freq * i / RATE)) for i in range(RATE)]
    one = struct.pack("<%dh" % RATE, *samples)     # integer Hz: one second repeats exactly
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(one * (n // RATE))


def tone_frames(path, want, other, frame=400):
    """(frames where @want dominates, frames where @other does, frames with
    signal, frames) over 50 ms frames of a 16-bit mono WAV. A frame "has"
    a tone when the Goertzel power at that frequency is most of the frame's
    energy (a pure sine of any amplitude scores about 1)."""
    if path is None:                        # no dump: baresip decoded nothing
        return 0, 0, 0, 0
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise Fail("%s: not 16-bit mono" % path)
        rate = w.getframerate()
        raw = w.readframes(w.getnframes())
    x = struct.unpack("<%dh" % (len(raw) // 2), raw)
    return samples_tone_frames(list(x), want, other, rate)


def ulaw_decode(data):
    """G.711 mu-law bytes to 16-bit linear samples."""
    out = []
    for b in data:
        b = ~b & 0xFF
        t = (((b & 0x0F) << 3) + 0x84) << ((b & 0x70) >> 4)
        out.append(0x84 - t if b & 0x80 else t - 0x84)
    return out


def samples_tone_frames(x, want, other, rate=RATE, frame=400):
    """tone_frames() over a list of 16-bit samples."""
    got = {want: 0, other: 0}
    loud = frames = 0
    for i in range(0, len(x) - frame + 1, frame):
        seg = x[i:i + frame]
        frames += 1
        energy = sum(v * v for v in seg)
        if energy < frame * 300.0 ** 2:            # below an RMS of 300: silence
            continue
        loud += 1
        for f in (want, other):
            k = 2.0 * math.cos(2.0 * math.pi * f / rate)
            s1 = s2 = 0.0
            for v in seg:
                s1, s2 = v + k * s1 - s2, s1
            power = s1 * s1 + s2 * s2 - k * s1 * s2
            if 2.0 * power / (frame * energy) > 0.7:
                got[f] += 1
    return got[want], got[other], loud, frames


# --- baresip ----------------------------------------------------------------------------

class Baresip:
    """One baresip in namespace @ns, configured in @cdir, driven over
    ctrl_tcp (netstring-framed JSON: commands, responses, events).
    @account: its one accounts line (default: a UA without a registrar at
    @ip, SRTP mandatory, auto answer, PCMU); @conf_extra: config keys added to or
    replacing the defaults below; @sip_trace: baresip -s, every SIP
    message it sends and receives (decrypted) in its log."""

    def __init__(self, lab, ns, name, ip, cdir, tone, mux, account=None, conf_extra=None, sip_trace=False):
        self.name, self.ns, self.dir = name, ns, cdir
        os.makedirs(cdir, exist_ok=True)
        self.snd = os.path.join(cdir, "snd")
        os.makedirs(self.snd, exist_ok=True)
        # statmode off: the menu's status line would fill the log.
        conf = {"poll_method": "epoll", "sip_listen": "%s:%d" % (ip, SIP_PORT),
                "call_max_calls": "1", "audio_source": "aufile," + tone,
                "ausrc_srate": str(RATE), "ausrc_channels": "1", "auplay_srate": str(RATE),
                "auplay_channels": "1", "rtp_ports": "20000-20999", "rtcp_mux": "yes" if mux else "no",
                "module_path": BARESIP_MODULES, "snd_path": self.snd, "statmode_default": "off",
                "ctrl_tcp_listen": "127.0.0.1:%d" % CTRL_PORT}
        conf.update(conf_extra or {})
        lines = ["%s\t%s" % kv for kv in conf.items()]
        # Codec, source, the decode/encode dump filter, SDES-SRTP; accounts
        # are loaded by the temporary module account.so; menu gives the
        # dial/hangup/quit commands that ctrl_tcp runs.
        lines += ["module\t%s" % m for m in ("g711.so", "aufile.so", "sndfile.so", "srtp.so")]
        lines += ["module_tmp\taccount.so", "module_app\tmenu.so", "module_app\tctrl_tcp.so"]
        with open(os.path.join(cdir, "config"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(cdir, "accounts"), "w") as f:
            f.write((account or "<sip:%s@%s>;regint=0;mediaenc=srtp-mand;answermode=auto;audio_codecs=PCMU;"
                     "ptime=20" % (name.lower(), ip)) + "\n")
        open(os.path.join(cdir, "contacts"), "w").close()
        self.log_path = os.path.join(cdir, "baresip.log")
        self.log = open(self.log_path, "w")
        # Line-buffered, so the log is whole whenever the test reads it.
        self.proc = lab.spawn(ns, ["stdbuf", "-oL", "-eL", BARESIP, "-f", cdir, "-v"] + (["-s"] if sip_trace else []),
                              stdout=self.log, stderr=subprocess.STDOUT)
        self.sock = None
        self.buf = b""
        self.events = []

    def connect(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise Fail("baresip %s exited (%d): %s" % (self.name, self.proc.returncode, self.tail()))
            s = ns_socket(self.ns, socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.connect(("127.0.0.1", CTRL_PORT))
                self.sock = s
                return
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise Fail("baresip %s: ctrl_tcp does not answer: %s" % (self.name, self.tail()))
                time.sleep(0.05)

    def tail(self, n=30):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return "\n".join(f.read().splitlines()[-n:])

    def _read(self, timeout):
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        data = self.sock.recv(65536)
        if not data:
            raise Fail("baresip %s closed ctrl_tcp" % self.name)
        self.buf += data
        while True:
            m = re.match(rb"(\d+):", self.buf)
            if not m or len(self.buf) < m.end() + int(m.group(1)) + 1:
                break
            n = int(m.group(1))
            msg = json.loads(self.buf[m.end():m.end() + n])
            self.buf = self.buf[m.end() + n + 1:]
            self.events.append(msg)
        return True

    def command(self, cmd, params="", timeout=10.0):
        tok = token()
        msg = json.dumps({"command": cmd, "params": params, "token": tok}).encode()
        self.sock.sendall(b"%d:%s," % (len(msg), msg))
        r = self.wait(lambda e: e.get("response") and e.get("token") == tok, "%s's answer" % cmd, timeout)
        if not r.get("ok"):
            raise Fail("baresip %s: %s %s: %s" % (self.name, cmd, params, r.get("data")))
        return r

    def find(self, pred):
        return [e for e in self.events if pred(e)]

    def wait(self, pred, what, timeout):
        deadline = time.monotonic() + timeout
        while True:
            hits = self.find(pred)
            if hits:
                return hits[0]
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("baresip %s: timed out waiting for %s" % (self.name, what))
            self._read(min(left, 0.2))

    def pump(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._read(deadline - time.monotonic())

    def event(self, kind):
        return self.find(lambda e: e.get("event") and e.get("type") == kind)

    def quit(self):
        """/quit, then wait; the WAV dumps are complete once it has exited."""
        if self.sock is not None and self.proc.poll() is None:
            try:
                msg = json.dumps({"command": "quit", "params": "", "token": token()}).encode()
                self.sock.sendall(b"%d:%s," % (len(msg), msg))
            except OSError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            # baresip waits for its un-REGISTERs on quit and on SIGTERM, for
            # ever when the registrar refused its transport: kill it then.
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.sock is not None:
            self.sock.close()
        self.log.close()

    def log_text(self, limit=-1):
        """The log, its first @limit bytes if given."""
        with open(self.log_path, "rb") as f:
            return f.read(limit).decode(errors="replace")

    def dump(self, kind):
        """The one WAV sndfile wrote for this call (kind: dec or enc)."""
        found = [n for n in os.listdir(self.snd) if n.endswith("-%s.wav" % kind)]
        if len(found) > 1:
            raise Fail("baresip %s wrote %d %s dumps: %s" % (self.name, len(found), kind, found))
        return os.path.join(self.snd, found[0]) if found else None

    def new_dump(self, before):
        """The one decoder dump written since @before (a set of names), and the names now:
        a client that calls several times writes one per call."""
        now = {n for n in os.listdir(self.snd) if n.endswith("-dec.wav")}
        new = sorted(now - before)
        if len(new) != 1:
            raise Fail("baresip %s wrote %d new decoder dumps: %s" % (self.name, len(new), new))
        return os.path.join(self.snd, new[0]), now


# --- captures -----------------------------------------------------------------------------

class Capture:
    """tcpdump on a client's eth0: by default what goes between it and the
    relay (UDP; ICMP too, for whoever reads the kept pcap); @filt for
    anything else."""

    def __init__(self, lab, ns, path, filt="(udp or icmp) and host %s" % RELAY, iface="eth0"):
        self.path, self.err = path, path + ".err"
        with open(self.err, "w") as e:
            self.proc = lab.spawn(ns, ["tcpdump", "-i", iface, "-n", "-U", "-Z", "root", "--immediate-mode",
                                       "-B", "8192", "-s", "0", "-w", path, filt],
                                  stdout=subprocess.DEVNULL, stderr=e)
        L.wait_until(lambda: "listening on" in open(self.err).read() or self.proc.poll() is not None,
                     "tcpdump to listen", 10)
        if self.proc.poll() is not None:
            raise Fail("tcpdump: " + open(self.err).read())

    def stop(self):
        """Stop and read the capture. kernel_drops: what tcpdump says it
        missed (None: it did not say)."""
        time.sleep(0.2)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(10)
        with open(self.err) as f:
            m = re.search(r"(\d+) packets? dropped by kernel", f.read())
        self.kernel_drops = int(m.group(1)) if m else None
        return read_pcap(self.path)


def read_pcap(path):
    """[(time, src ip, src port, dst ip, dst port, udp payload)] of an
    Ethernet pcap (IPv4/UDP)."""
    return [(t, src, sp, dst, dp, pl) for t, proto, src, sp, dst, dp, pl in read_pcap_ip(path) if proto == 17]


def read_pcap_ip(path):
    """[(time, 6 or 17, src ip, src port, dst ip, dst port, payload)] of the
    IPv4 TCP and UDP packets of an Ethernet pcap."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = struct.unpack_from("<I", data)[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise Fail("%s: not a little-endian pcap (%08x)" % (path, magic))
    div = 1e9 if magic == 0xA1B23C4D else 1e6
    out, o = [], 24
    while o + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack_from("<IIII", data, o)
        fr = data[o + 16:o + 16 + incl]
        o += 16 + incl
        if len(fr) < 42 or struct.unpack_from("!H", fr, 12)[0] != 0x0800 or fr[23] not in (6, 17):
            continue
        ihl = (fr[14] & 0x0F) * 4
        end = 14 + struct.unpack_from("!H", fr, 16)[0]
        u = 14 + ihl
        sport, dport = struct.unpack_from("!HH", fr, u)
        if fr[23] == 17:
            pl = fr[u + 8:u + struct.unpack_from("!H", fr, u + 4)[0]]
        else:
            pl = fr[u + (fr[u + 12] >> 4) * 4:end]
        out.append((sec + frac / div, fr[23], socket.inet_ntoa(fr[26:30]), sport, socket.inet_ntoa(fr[30:34]),
                    dport, pl))
    return out


def is_rtcp(p):
    return len(p) >= 8 and p[0] >> 6 == 2 and 192 <= p[1] <= 223


def plain_rtcp(p):
    """A compound RTCP packet in the clear: its headers chain exactly to the
    end of the datagram (SRTCP's trailer and encrypted payload do not)."""
    if not is_rtcp(p):
        return False
    o = 0
    while o + 4 <= len(p):
        if p[o] >> 6 != 2 or not 192 <= p[o + 1] <= 223:
            return False
        o += 4 * (struct.unpack_from("!H", p, o + 2)[0] + 1)
    return o == len(p)
