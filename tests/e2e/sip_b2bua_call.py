#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""mrelay's own SIP front-end (issue 6: mrelay-cp's registrar and B2BUA
over TLS, docs/sip.md) with real user agents nobody here wrote, baresip
and linphone, plus the tests' sofia-sip client tests/tools/mr_sipload for
what needs many or odd clients. mrelay-dp relays every call's media.

  +-------------------+    +--------------------------+
  | ns cA: baresip A  |    | ns nat (MASQUERADE,      |
  | 198.18.1.10/24    +====+ udp -> ports 50000-50999)|
  | SRTP, 440 Hz      |    | 198.18.1.1 | 198.18.0.20 |
  +-------------------+    +------------+-------------+
                                        |
  +-------------------+    +------------+-------------+    +--------------------------+
  | ns cB: linphone B |    | ns br: bridge br0        |    | ns dp: mrelay-dp on dp0  |
  | 198.18.0.11/24    +====+                          +====+ (net_af_packet), relay   |
  | SRTP, 1000 Hz     |    |                          |    | 198.18.0.2 (wan)         |
  | default via .0.5  |    +-----+--------------+-----+    +------------^-------------+
  +-------------------+          |              |                       | region file
  +-------------------+    +-----+--------------+-----+                 | (tmp)
  | ns ld: mr_sipload |    | ns sip: 198.18.0.5       +-----------------+
  | 198.18.0.30/24    +====+ mrelay-cp: SIP TLS :5061,|
  +-------------------+    | mTLS :5062, plain :5060  |
                           | (pstn trunks at .0.99)   |
                           +--------------------------+

Accounts are added with `mrelayctl account add NAME --password-file FILE
--cp-config CONF` in domain mrelay.test; CDRs are read with `mrelayctl cdr
--json`, the SIP counters from `status json` on the admin socket. The
server's chain is an operator's: scripts/mkcerts.sh makes root ->
intermediate -> leaf for 198.18.0.5 (a DNS and an IP SAN: linphone matches
dNSName only), mrelay-cp sends leaf + intermediate, linphone trusts the
root only and verifies chain and name. baresip does not verify server
certificates. baresip A traces its SIP (-s) into a/baresip.log.

Digest algorithms: mrelay challenges with SHA-256 then MD5 by default
(RFC 8760). linphone 5.1 answers the SHA-256 challenge and registers.
baresip 1.0 (libre 1.1.0) cannot register at all: its auth handler gives
up on the whole 401 (ENOSYS, "Register: Function not implemented") as
soon as any WWW-Authenticate names an algorithm other than MD5, whatever
the order. So the test runs with sip.digest_algorithms = [ "MD5" ]
(which mr_sipload, on sofia-sip 1.12, needs as well); SIP_E2E_DIGEST=
SHA-256,MD5 shows the failure.

Cases (argv[1]):
  call     B and A (behind the NAT) register over TLS with digest. A calls
           B: both up, each hears the other's tone (A's baresip decoder
           dump has B's 1000 Hz, B's linphone recording A's 440 Hz);
           mrelay-cp shows one call of two legs on wan, both SRTP in and
           out (AES_CM_128_HMAC_SHA1_80), A's latched on its NAT address,
           media relayed both ways with no authentication failure. B holds
           and resumes (linphone pause/resume), then A (baresip
           hold/resume): the call still relays both ways. A hangs up: B's
           call ends, nothing is left in mrelay-cp, one CDR row (a -> b,
           200, caller-bye, times and duration consistent, media counters
           both ways). Then B calls A (mrelay reaches A behind the NAT
           over A's own TLS flow), tones both ways, A hangs up (CDR b -> a,
           callee-bye). SIP counters: 2 calls, both answered, nothing
           refused. On both wires (tshark): SIP is TLS to 198.18.0.5:5061
           only, no cleartext SIP; RTP goes to and from the relay only
           (never A <-> B), every packet carries the 10-byte SRTP tag and
           its payload is no tone; RTCP is SRTCP (except libre's own plain
           APP "PING" and BYE, which the relay drops, baresip_srtp.py).
  refused  plaintext SIP: mr_sipload over UDP and TCP to the plain
           listeners (which accept only the pstn trunks' address), and a
           baresip account over TCP to :5060, register nothing and count
           as plain_refused; cleartext OPTIONS written into the TLS port
           gets no answer (a failed handshake). A wrong password: both
           REGISTERs 403, auth_failures +2 (the right one then works). An
           offer without crypto (baresip's a-plain account, no mediaenc):
           488 with `Warning: 399 mrelay.test "SRTP (SDES) required"`, B
           never rings, rejected_488 +1. Mutual TLS (listener :5062,
           verify_client "required"): mr_sipload with a certificate of the
           test's CA registers, one of another CA or none is refused in
           the handshake. A linphone trusting another CA:
           LinphoneRegistrationFailed, "Certificate verification failed"
           in its log, mrelay-cp saw no REGISTER, only failed handshakes.
  revoke   A calls B; mid-call `mrelayctl account revoke a`: mrelay-cp
           says it ended 1 call, BYEs reach both clients, no call left,
           B's binding alone remains, the CDR row says "revoked"; a
           baresip started again with account a is refused (403).
  restart  A calls B; mrelay-cp is killed -9 mid-call and started again
           (docs/sip.md, "A restart of mrelay-cp"): the dialog was kept in
           state_dir/sip-dialogs without SDP or keys, the new mrelay-cp
           recovers it, media keeps flowing both ways, A (baresip with
           sipnat=outbound) and B (linphone) register again over new TLS
           connections; A hangs up and mrelay's BYE reaches B over its new
           connection; one CDR row (caller-bye), no call, slot or dialog
           file left, B heard A's tone.

Interop notes (what the real clients do; the test depends on none):
  - linphone 5.1 REGISTERs with +sip.instance, Supported: outbound but no
    reg-id and no ;ob; baresip 1.0 with no instance at all, its Contact
    user "a-0x<pointer>" and the host and listening port of its private
    address (198.18.1.10:5061, not the flow's): mrelay reaches both
    through the registration's flow, which is what makes the NAT case work.
  - Both send ;rport in Via. mrelay answers with received= and rport=
    (A learns 198.18.0.20:<port>; the call case checks it); neither
    rewrites its Contact from it here.
  - Neither supports session timers (no "timer" in Supported): mrelay is
    the refresher on both legs (Session-Expires ...;refresher=uas/uac).
  - linphone restarts its SRTCP index at 1 when a paused stream resumes,
    same key and SSRC: the relay refuses that packet as a replay (counted
    as drop_auth); the call case expects exactly those. linphone also
    sends STUN binding requests (no ICE) at each stream start: dropped
    and counted (drop_other), so CDR pkts_dropped is not 0.
  - baresip reports any BYE it receives as "Connection reset by peer".

Host changes: see nslab.py (namespaces mre2e-<pid>-*, deleted on exit).
Environment: MRELAY_DP, MRELAY_CP, MRELAYCTL, MR_SIPLOAD (built tools);
SIP_E2E_KEEP=DIR keeps the temporary directory. Exit 77 (skipped) without
baresip-core or linphone-cli.
"""
import calendar
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nslab as L  # noqa: E402
from nslab import A_PRIV, B_IP, NAT_PUB, Fail, check  # noqa: E402
from harness import main, tshark_fields  # noqa: E402
from cp_restart import ControlPlane, CpRegion, active_slots  # noqa: E402
from baresip_lab import (Baresip, Capture, installed as baresip_installed, is_rtcp, ns_socket, plain_rtcp,  # noqa: E402
                         read_pcap_ip, samples_tone_frames, tone_frames, ulaw_decode, write_tone)
import kamailio_lab as K  # noqa: E402  (Certs: the throwaway CA)
import linphone_lab as LP  # noqa: E402

MRELAY_CP = os.environ.get("MRELAY_CP", "build/controlplane/mrelay-cp")
MR_SIPLOAD = os.environ.get("MR_SIPLOAD", "build/tests/tools/mr_sipload")
SIP_IP, LD_IP = "198.18.0.5", "198.18.0.30"
TLS_PORT, MTLS_PORT, PLAIN_PORT = 5061, 5062, 5060
GW_IP = "198.18.0.99"           # the pstn trunks' address: nobody is there
RELAY = "198.18.0.2"
DOMAIN = "mrelay.test"
SUITE = "AES_CM_128_HMAC_SHA1_80"
TONE_A, TONE_B = 440.0, 1000.0
MEDIA_SECONDS = 4.0
MKCERTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "mkcerts.sh")
DIGEST = os.environ.get("SIP_E2E_DIGEST", "MD5").split(",")
RESTART_TONE_S = 180


# --- mrelay-specific -----------------------------------------------------------------

def cp_config(tmp, chain, key, ca, digest=DIGEST):
    """mrelay-cp with one interface (wan, the relay address) and the sip
    group (docs/configuration.md#sip): the clients' TLS listener on
    SIP_IP:5061 (no client certificates), a mutual-TLS listener on :5062
    (verify_client "required", client_ca = the test's root), and plain
    UDP and TCP listeners on :5060 that accept only the PSTN trunks at
    GW_IP (nobody there): plaintext from anyone else is refused and counted
    (plain_refused)."""
    return """
region = { path = "%(tmp)s/region"; max_legs = 2048; max_workers = 4; };
interfaces = ( { name = "wan"; addresses = [ "%(relay)s" ]; port_min = 30000; port_max = 39999; } );
admin = { socket = "%(tmp)s/cp.sock"; };
state_dir = "%(tmp)s/state";
timeouts = { media_idle_s = 120; offer_s = 120; call_max_s = 3600; };
log = { level = "info"; };
sip = {
	domain = "%(domain)s";
	accounts = "%(tmp)s/accounts.db";
	cdr = { path = "%(tmp)s/cdr.db"; };
	listen = (
		{ address = "%(sip)s:%(port)d"; cert = "%(chain)s"; key = "%(key)s"; interface = "wan"; },
		{ address = "%(sip)s:%(mport)d"; cert = "%(chain)s"; key = "%(key)s"; interface = "wan";
		  verify_client = "required"; client_ca = "%(ca)s"; }
	);
	plain = { udp = [ "%(sip)s:%(pport)d" ]; tcp = [ "%(sip)s:%(pport)d" ]; };
	trunks = (
		{ name = "gw-udp"; transport = "udp"; address = "%(gw)s:5060"; pstn = true; interface = "wan"; },
		{ name = "gw-tcp"; transport = "tcp"; address = "%(gw)s:5060"; pstn = true; interface = "wan"; }
	);
	digest_algorithms = [ %(digest)s ];
};
""" % {"tmp": tmp, "relay": RELAY, "domain": DOMAIN, "sip": SIP_IP, "port": TLS_PORT, "mport": MTLS_PORT,
       "pport": PLAIN_PORT, "gw": GW_IP, "chain": chain, "key": key, "ca": ca,
       "digest": ", ".join('"%s"' % d for d in digest)}


def dp_config(tmp):
    return L.dp_config(tmp)


def mrelayctl(cp, *args, ok=True):
    """mrelayctl SUBCOMMAND ARGS --cp-config CONF: the account store, the
    CDR file and (for revoke) the admin socket come from mrelay-cp's
    configuration (docs/mrelayctl.md; options after the subcommand)."""
    argv = [L.MRELAYCTL] + [str(a) for a in args] + ["--cp-config", cp.cfg]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if ok and p.returncode != 0:
        raise Fail("%s: exit %d: %s" % (" ".join(argv[1:]), p.returncode, (p.stderr or p.stdout).strip()))
    return p


def add_accounts(cp, tmp, names, password):
    """Add every name in @names with @password (one password file, 0600)."""
    pw = os.path.join(tmp, "password")
    with open(pw, "w") as f:
        f.write(password + "\n")
    os.chmod(pw, 0o600)
    for n in names:
        mrelayctl(cp, "account", "add", n, "--password-file", pw)
    listed = {a["name"] for a in json.loads(mrelayctl(cp, "account", "list", "--json").stdout)["accounts"]}
    missing = [n for n in names if n not in listed]
    check(not missing, "mrelayctl account add: %d accounts listed (missing %s)" % (len(names), missing[:5]))


def revoke_account(cp, name):
    """mrelayctl account revoke NAME: deleted, and mrelay-cp told at once."""
    return mrelayctl(cp, "account", "revoke", name).stdout.strip()


def cdr_rows(cp):
    """Every CDR row (mrelayctl cdr --json), oldest end first."""
    return json.loads(mrelayctl(cp, "cdr", "--json").stdout)["cdrs"]


def sip_counters(cp):
    """The "sip" member of mrelay-cp's `status json` (admin socket)."""
    return cp.json("status json")["sip"]


def sip_delta(m):
    """mrelay-cp's SIP counters since the lab was set up (bindings and
    calls_active as they are now)."""
    sc = sip_counters(m.cp)
    return {k: v if k in ("bindings", "calls_active") else v - m.sc0[k] for k, v in sc.items()}


def iso_s(t):
    """A CDR time (ISO 8601 UTC, "2024-05-01T12:00:00Z") as Unix seconds."""
    return calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ"))


def check_cdr(row, caller, callee, reason, max_dropped=0, min_s=1):
    """A CDR row of an answered call with media both ways and sane times:
    start <= answer <= end, all within the last 2 minutes, duration the
    answer-to-end time (whole seconds: 1 s slack), byte counts of SRTP
    PCMU (at least 160 bytes a packet); @max_dropped: packets the relay
    was allowed to drop (STUN that linphone sends without ICE)."""
    now = time.time()
    ok = (row["caller"] == caller and row["callee"] == callee and row["end_reason"] == reason
          and row["sip_status"] == 200 and row["answer"] is not None and row["call_id"]
          and now - 120 <= iso_s(row["start"]) <= iso_s(row["answer"]) <= iso_s(row["end"]) <= now + 1
          and row["duration_s"] >= min_s
          and abs(row["duration_s"] - (iso_s(row["end"]) - iso_s(row["answer"]))) <= 1
          and row["pkts_caller_to_callee"] >= 50 and row["pkts_callee_to_caller"] >= 50
          and row["bytes_caller_to_callee"] >= 160 * row["pkts_caller_to_callee"]
          and row["bytes_callee_to_caller"] >= 160 * row["pkts_callee_to_caller"]
          and row["pkts_dropped"] <= max_dropped)
    check(ok, ("CDR: %s -> %s, answered (200), %s, %d s, media both ways (%d/%d packets), %d dropped"
               % (caller, callee, reason, row["duration_s"], row["pkts_caller_to_callee"],
                  row["pkts_callee_to_caller"], row["pkts_dropped"])) if ok
          else "CDR row %s -> %s %s as expected: %s" % (caller, callee, reason, row))


# --- the lab --------------------------------------------------------------------------

class Lab:
    """The topology above, mrelay-dp and mrelay-cp running, accounts added."""

    def __init__(self, lab, tmp, accounts, password):
        self.lab, self.tmp = lab, tmp
        # The server's chain as an operator's: root -> intermediate -> leaf
        # (scripts/mkcerts.sh), the leaf for SIP_IP as a DNS name and an IP
        # address (linphone matches dNSName only, linphone_lab.py).
        tls = os.path.join(tmp, "tls")
        L.sh("bash", MKCERTS, tls, SIP_IP, "IP:" + SIP_IP)
        self.ca, self.chain, self.key = (os.path.join(tls, f) for f in ("ca.pem", "sip-chain.pem", "sip.key"))
        self.certs = K.Certs(tls)       # client certificates signed by ca.pem (its key is tls/ca.key)
        self.rogue = K.Certs(tmp).ca("rogue")
        self.topo = L.Topo(lab, nat=True)
        self.sip = lab.ns("sip")
        self.ld = lab.ns("ld")
        for ns, port, ip in ((self.sip, "p-sip", SIP_IP), (self.ld, "p-ld", LD_IP)):
            lab.veth("eth0", ns, port, self.topo.br)
            L.sh("ip", "link", "set", port, "master", "br0", ns=self.topo.br)
            lab.addr(ns, "eth0", ip + "/24")
        lab.route(self.topo.cB, "default", SIP_IP)  # linphone's reachability check (linphone_lab.py)
        self.cp = ControlPlane(tmp, cp_config(tmp, self.chain, self.key, self.ca), ns=self.sip)
        lab.undo.append(self.cp.stop)
        self.cp.start()
        self.region = CpRegion(tmp)
        self.dp = lab.dataplane(self.topo.dp, "sip", dp_config(tmp), tmp)
        L.start_dp(self.dp, self.region)
        self.wait_sip_listener()
        # The probe above is one failed handshake, counted when mrelay-cp's
        # loop sees the close: wait for it, or it lands after the snapshot.
        L.wait_until(lambda: sip_counters(self.cp)["handshake_failures"] >= 1,
                     "mrelay-cp to count the listener probe", 10.0, 0.05)
        self.sc0 = sip_counters(self.cp)
        for ns in (self.topo.cA, self.topo.cB):     # the relay learns both next hops
            L.sh("ping", "-c", "1", "-W", "2", RELAY, ns=ns)
        self.password = password
        add_accounts(self.cp, tmp, accounts, password)

    def wait_sip_listener(self, timeout=10.0):
        def up():
            s = ns_socket(self.sip, socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.settimeout(1)
                s.connect((SIP_IP, TLS_PORT))
                return True
            except OSError:
                return False
            finally:
                s.close()
        L.wait_until(up, "mrelay-cp's SIP TLS listener on %s:%d" % (SIP_IP, TLS_PORT), timeout, 0.1)

    def baresip_a(self, accounts):
        """baresip A behind the NAT, its SIP traced into its log (-s)."""
        return Baresip(self.lab, self.topo.cA, "A", A_PRIV, os.path.join(self.tmp, "a"),
                       os.path.join(self.tmp, "a.wav"), False, account="\n".join(accounts),
                       conf_extra={"sip_cafile": self.ca}, sip_trace=True)

    def baresip_account(self, user, srtp=True, password=None, regint=600, transport="tls", port=TLS_PORT):
        return ("<sip:%s@%s;transport=%s>;auth_pass=%s;outbound=\"sip:%s:%d;transport=%s\";regint=%d;"
                "%sanswermode=auto;audio_codecs=PCMU;ptime=20"
                % (user, DOMAIN, transport, password or self.password, SIP_IP, port, transport, regint,
                   "mediaenc=srtp-mand;" if srtp else ""))

    def linphone_b(self, name="B", ca=None, user="b"):
        rc = LP.linphonerc(user, DOMAIN, "%s:%d" % (SIP_IP, TLS_PORT), self.password, ca or self.ca)
        return LP.Linphone(self.lab, self.topo.cB, name, os.path.join(self.tmp, name.lower()), rc,
                           os.path.join(self.tmp, "b.wav"))

    def sipload(self, *args, port=TLS_PORT, timeout=60, watch=None):
        """mr_sipload in ns ld against mrelay's @port; @watch() is called
        about every 0.2 s while it runs. Returns (exit, summary, output)."""
        argv = ["ip", "netns", "exec", self.ld, MR_SIPLOAD, "--server", "%s:%d" % (SIP_IP, port),
                "--domain", DOMAIN, "--json"] + [str(a) for a in args]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        while p.poll() is None:
            if time.monotonic() > deadline:
                p.kill()
                raise Fail("mr_sipload timed out")
            if watch is not None:
                watch()
            time.sleep(0.2)
        out, err = p.communicate()
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        if not lines:
            raise Fail("mr_sipload (exit %d) printed no summary: %s" % (p.returncode, (out + err)[-3000:]))
        for ln in (out + err).splitlines():
            if not ln.startswith("{"):
                print("# " + ln)
        return p.returncode, json.loads(lines[-1]), out + err


# --- helpers ---------------------------------------------------------------------------

def events_of(u, kind):
    return [e for e in u.events if e.get("event") and e.get("type") == kind]


def registered(u):
    data = u.command("reginfo").get("data", "")
    m = re.search(r"^.*\bOK\b.*$", re.sub(r"\x1b\[[0-9;]*m", "", data), re.M)
    return m.group(0).strip() if m else None


def reg_state(u, user):
    """baresip's reginfo line of @user once it is OK or failed (else None)."""
    data = re.sub(r"\x1b\[[0-9;]*m", "", u.command("reginfo").get("data", ""))
    for ln in data.splitlines():
        if "sip:%s@" % user in ln and ("OK" in ln or "ERR" in ln or re.search(r"\b[1-6]\d\d\b|zzz", ln)):
            return ln.strip()
    return None


def check_tone(path, want, other, who):
    got, wrong, loud, _ = tone_frames(path, want, other)
    check(got >= 40 and got >= 0.9 * loud and wrong == 0,
          "%s heard the other side's %g Hz tone through mrelay (%d of %d loud 50-ms frames)"
          % (who, want, got, loud))


def legs_of(call):
    """The streams of a call's legs (mrelayctl calls --json)."""
    return [dict(leg["streams"][0], tag=leg["tag"], iface=leg["iface"]) for leg in call["legs"]]


def check_relayed(cp, what, min_pkts=100):
    calls = cp.calls()
    check(len(calls) == 1, "%s: mrelay-cp has the call (%d)" % (what, len(calls)))
    legs = legs_of(calls[0])
    print("# %s: %s" % (what, [{k: s.get(k) for k in ("local", "in_suite", "out_suite", "latched_rtp", "rx_pkts",
                                                       "tx_pkts", "drop_src", "drop_auth", "drop_other")}
                                for s in legs]))
    check(len(legs) == 2 and all(s["iface"] == "wan" and s["local"].startswith(RELAY + ":") for s in legs),
          "%s: two legs, both on wan (%s)" % (what, RELAY))
    check(all(s["in_suite"] == SUITE and s["out_suite"] == SUITE for s in legs),
          "%s: both legs SRTP both ways (%s)" % (what, SUITE))
    check(all(s["rx_pkts"] >= min_pkts and s["tx_pkts"] >= min_pkts and s["drop_auth"] == 0 for s in legs),
          "%s: mrelay-dp relayed the media both ways, no SRTP authentication failure" % what)
    return calls[0], legs


def wire_sip(pcap, me):
    """tshark over a client's capture: TLS records to/from the SIP port, no
    SIP dissected anywhere (cleartext), nothing else to the server."""
    tls = tshark_fields(pcap, ["ip.src", "tcp.srcport", "ip.dst", "tcp.dstport"],
                        "tls and ip.addr == %s" % SIP_IP)
    sip = tshark_fields(pcap, ["frame.number"], "sip")
    other = tshark_fields(pcap, ["frame.number"], "ip.addr == %s and not tcp.port == %d" % (SIP_IP, TLS_PORT))
    return {"tls": len(tls), "cleartext_sip": len(sip), "other": len(other),
            "from_me": sum(1 for r in tls if r[0] == me)}


def wire_media(pcap, me, peer_ips):
    """RTP between a client (@me) and the relay: per direction the packet
    count, lengths and tone frames of the payload read as PCMU; STUN
    (linphone sends binding requests without ICE) and RTCP left out; and
    any UDP straight to the other party (@peer_ips), which must be none."""
    out = {d: {"rtp": 0, "len": set(), "samples": []} for d in ("to", "from")}
    stun = direct = rtcp = 0
    plain = {"to": 0, "from_libre": 0, "from_other": 0}
    srtcp_seen, replays = set(), 0
    for _t, proto, src, _sp, dst, _dp, pl in read_pcap_ip(pcap):
        if proto != 17:
            continue
        if src in peer_ips or dst in peer_ips:
            direct += 1
        if RELAY not in (src, dst) or len(pl) < 12:
            continue
        if is_rtcp(pl):
            # SRTCP: E flag and index (31 bits) before the 10-byte tag.
            rtcp += 1
            if plain_rtcp(pl):
                libre = (pl[1] == 204 and pl[8:12] == b"PING") or pl[1] == 203
                plain["to" if src == RELAY else "from_libre" if libre else "from_other"] += 1
            if src == me:
                key = (pl[4:8], struct.unpack("!I", pl[-14:-10])[0])
                replays += key in srtcp_seen
                srtcp_seen.add(key)
            continue
        if pl[4:8] == b"\x21\x12\xa4\x42":
            stun += 1
            continue
        d = out["to" if src == RELAY else "from"]
        d["rtp"] += 1
        d["len"].add(len(pl))
        d["samples"] += ulaw_decode(pl[12:12 + 160])
    for d in out.values():
        a, b, _, _ = samples_tone_frames(d.pop("samples"), TONE_A, TONE_B)
        d["tone_frames"] = a + b
    out["stun"], out["direct"], out["rtcp"], out["plain_rtcp"] = stun, direct, rtcp, plain
    out["srtcp_replays"] = replays
    return out


def check_wires(tmp, caps, who_ip):
    """Each client's capture: SIP over TLS only, SRTP/SRTCP only, through
    the relay only. Returns wire_media()'s figures per client."""
    res = {}
    for k, cap in caps.items():
        cap.stop()
        s = wire_sip(cap.path, who_ip[k])
        check(s["tls"] > 0 and s["from_me"] > 0 and s["cleartext_sip"] == 0 and s["other"] == 0,
              "%s's SIP is TLS to %s:%d only (tshark: %d TLS segments, %d SIP in clear, %d other)"
              % (k, SIP_IP, TLS_PORT, s["tls"], s["cleartext_sip"], s["other"]))
        m = wire_media(cap.path, who_ip[k], {A_PRIV, NAT_PUB, B_IP} - {who_ip[k]})
        print("# %s's wire: %s" % (k, m))
        check(m["to"]["rtp"] >= 100 and m["from"]["rtp"] >= 100 and m["to"]["len"] == {12 + 160 + 10}
              and m["from"]["len"] == {12 + 160 + 10} and m["to"]["tone_frames"] == 0
              and m["from"]["tone_frames"] == 0,
              "%s's media to and from the relay is SRTP (10-byte tag, no tone in the payload)" % k)
        # libre (baresip) sends its NAT-pinhole RTCP APP "PING" once in
        # plain text before it turns SRTP on, and its RTCP BYE in plain
        # text at hangup (baresip_srtp.py): the relay drops both. Nothing
        # else may be plain, and nothing the relay sends.
        pr = m["plain_rtcp"]
        check(m["rtcp"] > 0 and pr["to"] == 0 and pr["from_other"] == 0
              and (k == "A" or pr["from_libre"] == 0),
              "%s's RTCP to and from the relay is SRTCP (%d packets; plain: %s)" % (k, m["rtcp"], pr))
        check(m["direct"] == 0, "%s sent no media straight to the other party" % k)
        res[k] = m
    return res


# --- cases --------------------------------------------------------------------------------

def tones(tmp):
    write_tone(os.path.join(tmp, "a.wav"), TONE_A)
    write_tone(os.path.join(tmp, "b.wav"), TONE_B)


def keep(tmp):
    if os.environ.get("SIP_E2E_KEEP"):
        shutil.copytree(tmp, os.environ["SIP_E2E_KEEP"], dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*.sock"))


def test_call(tmp):
    tones(tmp)
    password = "pw-%s" % os.urandom(6).hex()
    with L.Lab() as lab:
        m = Lab(lab, tmp, ["a", "a-plain", "b"], password)
        caps = {"A": Capture(lab, m.topo.cA, os.path.join(tmp, "a.pcap"), filt="ip"),
                "B": Capture(lab, m.topo.cB, os.path.join(tmp, "b.pcap"), filt="ip")}
        a = m.baresip_a([m.baresip_account("a")])
        b = m.linphone_b()
        try:
            run_call(tmp, m, a, b, caps)
        finally:
            b.quit()
            a.quit()
            keep(tmp)
        check(m.dp.stop() == 0, "mrelay-dp exits 0")
        check(m.cp.stop() == 0, "mrelay-cp exits 0")


def drops(legs):
    return sum(x["drop_src"] + x["drop_auth"] + x["drop_other"] for x in legs)


def run_call(tmp, m, a, b, caps):
    b.wait_registered()
    a.connect()
    L.wait_until(lambda: registered(a), "baresip A to register with mrelay", 15)
    via = re.search(r"^TLS %s:%d -> \S+\r?\nSIP/2\.0 200 OK\r?\nVia: (SIP/2\.0/TLS %s:\S+)"
                    % (re.escape(SIP_IP), TLS_PORT, re.escape(A_PRIV)), a.log_text(), re.M)
    check(via and re.search(r";rport=\d+", via.group(1)) and ";received=%s" % NAT_PUB in via.group(1),
          "mrelay's 200 to A's REGISTER tells A its outside address (%s)" % (via.group(1) if via else None))
    sc = sip_delta(m)
    check(sc["bindings"] == 2 and sc["registrations"] >= 2 and sc["auth_failures"] == 0,
          "A (behind the NAT) and B registered with mrelay-cp over TLS with digest, B having verified "
          "the server's chain (root -> intermediate -> leaf) and name (%d bindings)" % sc["bindings"])

    # -- A calls B --
    dumps = set()
    b.record(os.path.join(tmp, "b-call1.wav"))
    a.command("dial", "sip:b@%s" % DOMAIN)
    cid = b.wait_incoming()
    a.wait(lambda e: e.get("event") and e.get("type") in ("CALL_ESTABLISHED", "CALL_CLOSED"), "A's call", 15)
    check(events_of(a, "CALL_ESTABLISHED") and SUITE in str(events_of(a, "CALL_MENC")),
          "A called B through mrelay: both up, A's leg %s (%s)"
          % (SUITE, [e.get("param") for e in events_of(a, "CALL_MENC")]))
    a.pump(MEDIA_SECONDS)
    c0, _ = check_relayed(m.cp, "A -> B")
    wan_a = [x for x in legs_of(c0) if (x["latched_rtp"] or "").startswith(NAT_PUB + ":")]
    check(len(wan_a) == 1, "A's leg latched A's NAT address (%s)" % NAT_PUB)

    # -- hold and resume: B (linphone pause/resume), then A (baresip hold/resume) --
    b.pause(cid)
    b.resume(cid)
    for cmd in ("hold", "resume"):
        n = len(events_of(a, "CALL_REMOTE_SDP"))
        a.command(cmd)
        a.wait(lambda e, n=n: len(events_of(a, "CALL_REMOTE_SDP")) > n, "the %s re-INVITE's answer" % cmd, 10)
    a.pump(1.5)
    c1 = legs_of(m.cp.calls()[0])
    before = {x["tag"]: x for x in legs_of(c0)}
    print("# after hold/resume: %s" % [{k: x[k] for k in ("tag", "rx_pkts", "tx_pkts", "drop_src", "drop_auth",
                                                          "drop_other")} for x in c1])
    check(all(x["rx_pkts"] - before[x["tag"]]["rx_pkts"] >= 40 and x["tx_pkts"] - before[x["tag"]]["tx_pkts"] >= 40
              for x in c1), "the call relays both ways after B's and A's hold and resume (4 re-INVITEs)")
    auth1 = {x["tag"]: x["drop_auth"] for x in c1}

    # -- A hangs up --
    a.command("hangup")
    b.wait_ended(cid)
    L.wait_until(lambda: m.cp.calls() == [], "the call to end in mrelay-cp", 10)
    L.wait_until(lambda: active_slots(m.region) == 0, "every slot to be freed", 10)
    check(True, "A hung up: B's call ended, no call or slot left in mrelay-cp")
    rows = cdr_rows(m.cp)
    check(len(rows) == 1, "one CDR row after the first call (%d)" % len(rows))
    check_cdr(rows[0], "a", "b", "caller-bye", max_dropped=drops(c1) + 4)
    time.sleep(0.3)
    dec, dumps = a.new_dump(dumps)
    check_tone(dec, TONE_B, TONE_A, "A")
    check_tone(os.path.join(tmp, "b-call1.wav"), TONE_A, TONE_B, "B")

    # -- B calls A (behind the NAT: over A's registration flow); A hangs up --
    b.record(os.path.join(tmp, "b-call2.wav"))
    a.events.clear()
    cid = b.call("sip:a@%s" % DOMAIN)
    a.wait(lambda e: e.get("event") and e.get("type") == "CALL_ESTABLISHED", "A to answer", 15)
    b.pump(MEDIA_SECONDS)
    _, c2 = check_relayed(m.cp, "B -> A")
    a.command("hangup")
    ended = b.wait_ended(cid)
    a.wait(lambda e: e.get("event") and e.get("type") == "CALL_CLOSED", "A's call to close", 10)
    L.wait_until(lambda: m.cp.calls() == [], "the call to end in mrelay-cp", 10)
    check(True, "A (the callee, behind the NAT) hung up: mrelay's BYE reached B (%s)" % ended.strip())
    time.sleep(0.3)
    dec, dumps = a.new_dump(dumps)
    check_tone(dec, TONE_B, TONE_A, "A")
    check_tone(os.path.join(tmp, "b-call2.wav"), TONE_A, TONE_B, "B")
    rows = cdr_rows(m.cp)
    check(len(rows) == 2, "a second CDR row after the second call (%d)" % len(rows))
    check_cdr(rows[1], "b", "a", "callee-bye", max_dropped=drops(c2) + 4)
    sc = sip_delta(m)
    check(sc["calls_total"] == 2 and sc["calls_answered"] == 2 and sc["calls_failed"] == 0
          and sc["calls_active"] == 0 and sc["auth_failures"] == 0 and sc["rejected_488"] == 0
          and sc["handshake_failures"] == 0 and sc["plain_refused"] == 0 and sc["framing_errors"] == 0,
          "mrelay-cp's SIP counters: 2 calls, both answered, no failure or refusal (%s)" % sc)

    wire = check_wires(tmp, caps, {"A": A_PRIV, "B": B_IP})
    # linphone restarts its SRTCP index at 1 when a paused stream resumes,
    # with the same key and SSRC: the relay must refuse that packet as a
    # replay (it is counted with authentication failures). Nothing else
    # may fail authentication.
    rep = wire["B"]["srtcp_replays"]
    check(sorted(auth1.values()) == sorted([0, rep]),
          "SRTP/SRTCP authentication failures on the relay (%s) are exactly linphone's %d repeated SRTCP "
          "index(es) after its resume" % (auth1, rep))


def test_refused(tmp):
    tones(tmp)
    password = "pw-%s" % os.urandom(6).hex()
    with L.Lab() as lab:
        m = Lab(lab, tmp, ["a-plain", "b", "load0001", "load0002"], password)
        pw = os.path.join(tmp, "password")
        pw_bad = os.path.join(tmp, "bad-password")
        with open(pw_bad, "w") as f:
            f.write("not-" + password + "\n")
        os.chmod(pw_bad, 0o600)
        try:
            run_refused(tmp, m, pw, pw_bad)
        finally:
            keep(tmp)


def run_refused(tmp, m, pw, pw_bad):
    base = ("--prefix", "load", "--accounts", 2, "--calls", 0, "--conns", 1, "--timeout", 5)

    # -- plaintext SIP: UDP and TCP to the plain listeners (pstn trunks only) --
    for transport in ("udp", "tcp"):
        sc0 = sip_counters(m.cp)
        rc, s, _ = m.sipload("--transport", transport, "--password-file", pw, *base, port=PLAIN_PORT)
        sc = sip_counters(m.cp)
        check(rc == 1 and s["reg_ok"] == 0 and sc["plain_refused"] > sc0["plain_refused"]
              and sc["registrations"] == sc0["registrations"],
              "plaintext SIP over %s to %s:%d from a non-trunk address: nothing registers (%s), refused and "
              "counted (plain_refused +%d)" % (transport.upper(), SIP_IP, PLAIN_PORT, s["failed_status"],
                                              sc["plain_refused"] - sc0["plain_refused"]))
    # a real UA configured for plaintext: baresip registering over TCP
    sc0 = sip_counters(m.cp)
    a = m.baresip_a([m.baresip_account("a-plain", transport="tcp", port=PLAIN_PORT)])
    try:
        a.connect()
        info = L.wait_until(lambda: reg_state(a, "a-plain"), "baresip's plaintext REGISTER to fail", 15)
        sc = sip_counters(m.cp)
        check("OK" not in info and sc["plain_refused"] > sc0["plain_refused"]
              and sc["registrations"] == sc0["registrations"],
              "baresip over plaintext TCP to port %d: not registered (%s), plain_refused +%d"
              % (PLAIN_PORT, info, sc["plain_refused"] - sc0["plain_refused"]))
    finally:
        a.quit()
    # cleartext SIP written into the TLS port
    sc0 = sip_counters(m.cp)
    s_ = ns_socket(m.ld, socket.AF_INET, socket.SOCK_STREAM)
    try:
        s_.settimeout(3)
        s_.connect((SIP_IP, TLS_PORT))
        s_.sendall(b"OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP %s:5060;branch=z9hG4bK1\r\n"
                   b"From: <sip:x@%s>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: 1@x\r\nCSeq: 1 OPTIONS\r\n"
                   b"Content-Length: 0\r\n\r\n" % (DOMAIN.encode(), LD_IP.encode(), DOMAIN.encode(),
                                                   DOMAIN.encode()))
        try:
            reply = s_.recv(4096)
        except (socket.timeout, ConnectionResetError):
            reply = b""
    finally:
        s_.close()
    L.wait_until(lambda: sip_counters(m.cp)["handshake_failures"] > sc0["handshake_failures"],
                 "the failed handshake to be counted", 5)
    check(b"SIP/2.0" not in reply,
          "cleartext SIP written into the TLS port gets no SIP answer (%r), a failed handshake" % reply[:16])

    # -- wrong password --
    sc0 = sip_counters(m.cp)
    rc, s, _ = m.sipload("--ca", m.ca, "--verify", "--password-file", pw_bad, *base)
    sc = sip_counters(m.cp)
    check(rc == 1 and s["reg_ok"] == 0 and s["failed_status"] == "403:2"
          and sc["auth_failures"] - sc0["auth_failures"] == 2,
          "a wrong password: both REGISTERs refused with 403 (%s), auth_failures +%d"
          % (s["failed_status"], sc["auth_failures"] - sc0["auth_failures"]))
    rc, s, _ = m.sipload("--ca", m.ca, "--verify", "--password-file", pw, *base)
    check(rc == 0 and s["reg_ok"] == 2, "control: the same accounts register with the right password")

    # -- an offer without crypto --
    a = m.baresip_a([m.baresip_account("a-plain", srtp=False)])
    b = m.linphone_b()
    try:
        a.connect()
        L.wait_until(lambda: reg_state(a, "a-plain"), "baresip A (a-plain) to register", 15)
        b.wait_registered()
        sc0 = sip_counters(m.cp)
        a.command("dial", "sip:b@%s" % DOMAIN)
        closed = a.wait(lambda e: e.get("event") and e.get("type") == "CALL_CLOSED", "the refused call", 15)
        check("488" in closed.get("param", ""),
              "an RTP/AVP offer without crypto from a client: 488 (%s)" % closed.get("param"))
        warn = re.search(r"^Warning: .*$", a.log_text(), re.M)
        check(warn and '399 %s "SRTP (SDES) required"' % DOMAIN in warn.group(0),
              "the 488 says why: %s" % (warn.group(0).strip() if warn else "(no Warning header)"))
        b.pump(0.5)
        sc = sip_counters(m.cp)
        check("Receiving new incoming call" not in b.out, "B never rang")
        check(m.cp.calls() == [] and sc["rejected_488"] == sc0["rejected_488"] + 1 and sc["calls_active"] == 0,
              "no call left in mrelay-cp, rejected_488 +1")
    finally:
        b.quit()
        a.quit()

    # -- a TLS client with a bad certificate (the mutual-TLS listener) --
    good = m.certs.client(m.ca, "client-good")
    bad = K.Certs(tmp).client(m.rogue, "client-rogue")
    mbase = ("--ca", m.ca, "--verify", "--password-file", pw) + base
    rc, s, _ = m.sipload(*mbase, "--client-cert", good[0], "--client-key", good[1], port=MTLS_PORT)
    check(rc == 0 and s["reg_ok"] == 2,
          "mutual TLS (verify_client required): a client certificate of the trusted CA registers")
    for what, extra in (("of another CA", ("--client-cert", bad[0], "--client-key", bad[1])),
                        ("missing", ())):
        sc0 = sip_counters(m.cp)
        rc, s, out = m.sipload(*mbase, *extra, port=MTLS_PORT)
        sc = sip_counters(m.cp)
        check(rc == 1 and s["reg_ok"] == 0 and sc["handshake_failures"] > sc0["handshake_failures"]
              and sc["registrations"] == sc0["registrations"],
              "mutual TLS: a client certificate %s is refused in the handshake (%s; handshake_failures +%d)"
              % (what, s["failed_status"], sc["handshake_failures"] - sc0["handshake_failures"]))

    # -- linphone trusting another CA --
    sc0 = sip_counters(m.cp)
    bad = m.linphone_b(name="B-bad-ca", ca=m.rogue)
    try:
        bad.wait_failed()
        log = bad.log_text()
        check("Certificate verification failed" in log,
              "a linphone trusting another CA refuses mrelay's certificate (LinphoneRegistrationFailed; %s)"
              % re.search(r"SSL handshake failed[^\n]*", log).group(0).strip())
        sc = sip_counters(m.cp)
        check(sc["registrations"] == sc0["registrations"] and sc["auth_failures"] == sc0["auth_failures"]
              and sc["handshake_failures"] > sc0["handshake_failures"] and "SIP/2.0 401" not in log,
              "mrelay-cp got no REGISTER from it (no registration, no challenge), only failed handshakes (+%d)"
              % (sc["handshake_failures"] - sc0["handshake_failures"]))
    finally:
        bad.quit()


def test_revoke(tmp):
    tones(tmp)
    password = "pw-%s" % os.urandom(6).hex()
    with L.Lab() as lab:
        m = Lab(lab, tmp, ["a", "b"], password)
        a = m.baresip_a([m.baresip_account("a")])
        b = m.linphone_b()
        try:
            run_revoke(tmp, m, a, b)
        finally:
            b.quit()
            a.quit()
            keep(tmp)


def run_revoke(tmp, m, a, b):
    b.wait_registered()
    a.connect()
    L.wait_until(lambda: registered(a), "baresip A to register", 15)
    b.record(os.path.join(tmp, "b-call.wav"))
    a.command("dial", "sip:b@%s" % DOMAIN)
    cid = b.wait_incoming()
    a.wait(lambda e: e.get("event") and e.get("type") == "CALL_ESTABLISHED", "A's call", 15)
    a.pump(2.0)
    check_relayed(m.cp, "before the revocation", min_pkts=50)
    check(sip_delta(m)["bindings"] == 2, "A and B are registered and in a call")

    out = revoke_account(m.cp, "a")
    check("ended 1 call" in out, "mrelayctl account revoke a: deleted, and mrelay-cp ended its call (%s)"
          % " / ".join(out.splitlines()))
    closed = a.wait(lambda e: e.get("event") and e.get("type") == "CALL_CLOSED", "A's call to end", 10)
    ended = b.wait_ended(cid)
    bye = re.search(r"^TLS %s:%d -> \S+\r?\nBYE sip:" % (re.escape(SIP_IP), TLS_PORT), a.log_text(), re.M)
    # (libre closes a session the peer ended with ECONNRESET: baresip says
    # "Connection reset by peer" for any BYE it receives.)
    check(bye is not None, "revoking a mid-call ended both sides with a BYE from mrelay over their TLS flows "
          "(A: %s; B: %s)" % (closed.get("param"), ended.strip()))
    L.wait_until(lambda: m.cp.calls() == [], "the call to end in mrelay-cp", 10)
    L.wait_until(lambda: active_slots(m.region) == 0, "every slot to be freed", 10)
    sc = sip_delta(m)
    check(sc["bindings"] == 1 and sc["calls_active"] == 0,
          "no call or slot left in mrelay-cp; only B's binding remains (%d)" % sc["bindings"])
    rows = cdr_rows(m.cp)
    check(len(rows) == 1, "one CDR row (%d)" % len(rows))
    check_cdr(rows[0], "a", "b", "revoked", max_dropped=100)
    listed = [x["name"] for x in json.loads(mrelayctl(m.cp, "account", "list", "--json").stdout)["accounts"]]
    check(listed == ["b"], "mrelayctl account list: a is gone (%s)" % listed)

    # A starts again with the revoked account: its REGISTER is refused.
    a.quit()
    sc0 = sip_counters(m.cp)
    a2 = Baresip(m.lab, m.topo.cA, "A2", A_PRIV, os.path.join(m.tmp, "a2"), os.path.join(m.tmp, "a.wav"), False,
                 account=m.baresip_account("a"), conf_extra={"sip_cafile": m.ca}, sip_trace=True)
    try:
        a2.connect()
        info = L.wait_until(lambda: reg_state(a2, "a"), "A's REGISTER after the revocation to be answered", 15)
        sc = sip_counters(m.cp)
        check("OK" not in info and sc["auth_failures"] > sc0["auth_failures"]
              and sc["registrations"] == sc0["registrations"],
              "A's REGISTER after the revocation is refused (%s; auth_failures +%d)"
              % (info, sc["auth_failures"] - sc0["auth_failures"]))
    finally:
        a2.quit()


def test_restart(tmp):
    # Tones longer than the call: baresip ends a call when its source file
    # ends, and the clients take up to a minute to register again.
    write_tone(os.path.join(tmp, "a.wav"), TONE_A, seconds=RESTART_TONE_S)
    write_tone(os.path.join(tmp, "b.wav"), TONE_B, seconds=RESTART_TONE_S)
    password = "pw-%s" % os.urandom(6).hex()
    with L.Lab() as lab:
        m = Lab(lab, tmp, ["a", "b"], password)
        # sipnat=outbound: baresip (libre) registers with reg-id and so
        # registers again as soon as its connection closes (RFC 5626);
        # without it, it would wait for its next refresh.
        # (outbound needs a +sip.instance: the uuid module, loaded first.)
        a = Baresip(lab, m.topo.cA, "A", A_PRIV, os.path.join(tmp, "a"), os.path.join(tmp, "a.wav"), False,
                    account=m.baresip_account("a") + ";sipnat=outbound",
                    conf_extra={"sip_cafile": m.ca, "module": "uuid.so"}, sip_trace=True)
        b = m.linphone_b()
        try:
            run_restart(tmp, m, a, b)
        finally:
            b.quit()
            a.quit()
            keep(tmp)


def dialog_files(tmp):
    d = os.path.join(tmp, "state", "sip-dialogs")
    return [os.path.join(d, n) for n in sorted(os.listdir(d)) if n.endswith(".dialog")]


def leg_pkts(cp):
    calls = cp.calls()
    return {x["tag"]: x for x in legs_of(calls[0])} if len(calls) == 1 else {}


def run_restart(tmp, m, a, b):
    b.wait_registered()
    a.connect()
    L.wait_until(lambda: registered(a), "baresip A to register with mrelay", 15)
    b.record(os.path.join(tmp, "b-restart.wav"))
    a.command("dial", "sip:b@%s" % DOMAIN)
    cid = b.wait_incoming()
    a.wait(lambda e: e.get("event") and e.get("type") == "CALL_ESTABLISHED", "A's call", 15)
    a.pump(2.0)
    check_relayed(m.cp, "before the restart", min_pkts=50)
    files = dialog_files(tmp)
    text = "".join(open(f).read() for f in files)
    check(len(files) == 1 and "inline:" not in text and "crypto" not in text,
          "the confirmed call's dialog is in state_dir/sip-dialogs, without SDP or keys (%d file)" % len(files))

    m.cp.kill9()
    check(m.cp.proc.returncode == -signal.SIGKILL, "mrelay-cp killed with SIGKILL mid-call")
    a.pump(1.0)
    m.cp.start()
    m.wait_sip_listener()
    check("SIP dialogs of 1 calls recovered" in m.cp.output(),
          "the new mrelay-cp recovered the call's dialog (its log says so)")
    p1 = leg_pkts(m.cp)
    a.pump(2.0)
    p2 = leg_pkts(m.cp)
    check(len(p1) == 2 and all(p2[t]["rx_pkts"] - p1[t]["rx_pkts"] >= 50 and p2[t]["tx_pkts"] - p1[t]["tx_pkts"] >= 50
                               for t in p1),
          "media keeps flowing both ways through mrelay-dp after the restart")
    # Both try at once when their connection closes, while mrelay-cp is
    # still down; then linphone retries after 60 s, baresip (libre's
    # failwait) after 30 to 60 s.
    L.wait_until(lambda: sip_counters(m.cp)["bindings"] >= 2, "A and B to register again over new connections", 100)
    check(True, "A and B registered again with the new mrelay-cp (%d bindings)" % sip_counters(m.cp)["bindings"])
    a.pump(1.0)
    p3 = leg_pkts(m.cp)
    check(len(p3) == 2, "the call is still up after both registered again")

    a.command("hangup")
    ended = b.wait_ended(cid, timeout=15)
    L.wait_until(lambda: m.cp.calls() == [], "the call to end in mrelay-cp", 10)
    L.wait_until(lambda: active_slots(m.region) == 0, "every slot to be freed", 10)
    check(True, "A hung up after the restart: mrelay's BYE reached B over its new connection (%s)" % ended.strip())
    rows = cdr_rows(m.cp)
    check(len(rows) == 1, "one CDR row (%d)" % len(rows))
    check_cdr(rows[0], "a", "b", "caller-bye", max_dropped=drops(list(p3.values())) + 4)
    check(dialog_files(tmp) == [], "the call's dialog file is gone")
    time.sleep(0.3)
    check_tone(os.path.join(tmp, "b-restart.wav"), TONE_A, TONE_B, "B")


CASES = {"call": test_call, "refused": test_refused, "revoke": test_revoke, "restart": test_restart}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        sys.exit("usage: %s %s" % (sys.argv[0], "|".join(CASES)))
    if not baresip_installed() or not LP.installed():
        print("# SKIP: baresip-core or linphone-cli is not installed; scripts/setup.sh installs them")
        sys.exit(77)
    for tool in (MRELAY_CP, MR_SIPLOAD):
        if not os.access(tool, os.X_OK):
            print("not ok - %s is not built" % tool)
            sys.exit(1)
    main([CASES[sys.argv[1]]])
