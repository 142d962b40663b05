"""Shared helpers for tests that run mrelay-dp: region, legs, the dataplane
process, counters, tshark. Binaries come from the environment meson sets
(MRELAY_DP, MRELAYCTL)."""
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

MRELAY_DP = os.environ.get("MRELAY_DP", "build/dataplane/mrelay-dp")
MRELAYCTL = os.environ.get("MRELAYCTL", "build/controlplane/mrelayctl")


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)
    print("ok -", what)


class Region:
    def __init__(self, tmp, max_legs=1024, max_workers=4):
        self.path = os.path.join(tmp, "region")
        self.ctl("region", "create", "--max-legs", str(max_legs), "--max-workers", str(max_workers))

    def ctl(self, *args, ok=True):
        p = subprocess.run([MRELAYCTL, "-r", self.path] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=30)
        if ok and p.returncode != 0:
            raise Fail("mrelayctl %s: %s" % (" ".join(map(str, args)), p.stderr.strip()))
        return p

    def leg(self, *args):
        return int(self.ctl("leg", "add", "--pstn", *args).stdout.strip())

    def pair(self, a, b):
        self.ctl("leg", "pair", a, b)

    def stats(self):
        return json.loads(self.ctl("stats", "--json").stdout)

    def legs(self):
        return json.loads(self.ctl("leg", "list", "--json").stdout)

    def info(self):
        return json.loads(self.ctl("region", "info", "--json").stdout)

    def leg_stats(self, slot):
        for leg in self.stats()["legs"]:
            if leg["slot"] == slot:
                return leg
        raise Fail("no stats for slot %d" % slot)

    def drops(self):
        return self.stats().get("drops_total", {})

    # The dp parts (include/mrelay/shm.h, leg.h): mrelayctl does not show
    # the SRTP resume points, so they are read from the region file.
    HDR_OFF_DP = 40                 # struct mr_shm_header.off_dp
    LEG_DP_SIZE = 192               # struct mr_leg_dp
    SSRC_IN_OFF, SSRC_OUT_OFF = 64, 128
    SSRC_STATE = struct.Struct("<IHBBII")   # ssrc, seq_hi, flags, pad, roc, srtcp_index

    def ssrc_states(self, slot):
        """The SRTP resume points of leg @slot as mrelay-dp wrote them:
        {"in": {ssrc: (roc, seq_hi, srtcp_index)}, "out": {...}} (seqlock read)."""
        with open(self.path, "rb") as f:
            off = struct.unpack_from("<Q", f.read(256), self.HDR_OFF_DP)[0] + slot * self.LEG_DP_SIZE
            for _ in range(1000):
                f.seek(off)
                d = f.read(self.LEG_DP_SIZE)
                f.seek(off)
                again = f.read(4)
                seq = struct.unpack_from("<I", d)[0]
                if seq % 2 == 0 and again == d[:4]:
                    break
                time.sleep(0.001)
            else:
                raise Fail("leg %d's dp part stays odd" % slot)
        res = {}
        for name, base in (("in", self.SSRC_IN_OFF), ("out", self.SSRC_OUT_OFF)):
            res[name] = {}
            for i in range(4):
                ssrc, seq_hi, flags, _pad, roc, idx = self.SSRC_STATE.unpack_from(d, base + 16 * i)
                if flags & 1:
                    res[name][ssrc] = (roc, seq_hi, idx)
        return res

    def rx_total(self):
        return sum(w["rx_pkts"] for w in self.stats()["workers"])


class Dataplane:
    """mrelay-dp as a child process (no hugepages, unique file prefix)."""

    def __init__(self, name, config_text, tmp, lcores="0,1", extra_eal=()):
        self.cfg = os.path.join(tmp, name + ".conf")
        # The SRTP tests run once per engine (meson passes MRELAY_SRTP_ENGINE).
        engine = os.environ.get("MRELAY_SRTP_ENGINE")
        if engine and "srtp_engine" not in config_text:
            config_text += '\nsrtp_engine = "%s";\n' % engine
        with open(self.cfg, "w") as f:
            f.write(config_text)
        self.log = open(os.path.join(tmp, name + ".log"), "w+")
        self.args = [MRELAY_DP, "--no-huge", "-m", "512", "--no-pci", "--file-prefix",
                     "mr-" + name, "-l", lcores, "--log-level", "user.mrelay.*:info"] + \
            list(extra_eal) + ["--", "--config", self.cfg, "--wait-region", "10"]
        self.proc = None

    def start(self, region, timeout=20):
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Fail("mrelay-dp exited early (%d): %s" % (self.proc.returncode, self.output()))
            try:
                inf = region.info()
                if inf.get("dataplane", {}).get("state") == "running":
                    return
            except (Fail, ValueError):
                pass
            time.sleep(0.05)
        raise Fail("mrelay-dp did not start: " + self.output())

    def stop(self, sig=signal.SIGINT, timeout=20):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Fail("mrelay-dp did not stop on %s" % sig)

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


def stop_process(proc, sig=signal.SIGTERM, timeout=10):
    """Ask @proc to stop with @sig if it runs; kill it after @timeout seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for(cond, what, timeout=10.0, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(interval)
    raise Fail("timed out waiting for " + what)


def tshark_fields(pcap, fields, display_filter=None, decode_as=()):
    cmd = ["tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
           "-T", "fields", "-E", "separator=|"]
    for d in decode_as:
        cmd += ["-d", d]
    if display_filter:
        cmd += ["-Y", display_filter]
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise Fail("tshark: " + p.stderr)
    return [line.split("|") for line in p.stdout.splitlines() if line]


def main(tests):
    """Run test functions (each takes a temp dir); exit 1 on the first failure."""
    for t in tests:
        with tempfile.TemporaryDirectory(prefix="mrelay-") as tmp:
            print("# " + t.__name__)
            try:
                t(tmp)
            except Fail as e:
                print("not ok -", e)
                # The dataplane's own words usually say why: show their end.
                for name in sorted(os.listdir(tmp)):
                    if name.endswith(".log"):
                        with open(os.path.join(tmp, name), errors="replace") as f:
                            tail = f.read().splitlines()[-25:]
                        print("# --- %s (last lines)\n# %s" % (name, "\n# ".join(tail)))
                sys.exit(1)
    print("all passed")
