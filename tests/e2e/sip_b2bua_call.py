#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""SKELETON (issue 6), not registered in meson yet: mrelay's own SIP
front-end (mrelay-cp's registrar and B2BUA over TLS) with real user agents
nobody here wrote, baresip and linphone, and the load generator
tests/tools/mr_sipload. The generic parts (namespaces, peers, captures,
checks) are the ones proven against Kamailio in linphone_kamailio.py and
sipload_kamailio.py; what is specific to mrelay's SIP front-end sits in the
few functions under "mrelay-specific" below, each marked INTEGRATOR where
the exact command, key or table is not known yet. Finish those, run it
(flock /tmp/mrelay-e2e.lock python3 tests/e2e/sip_b2bua_call.py CASE), then
register one meson test per case as kamailio_call.py's.

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
  | 198.18.0.30/24    +====+ mrelay-cp: SIP TLS :5061 |
  +-------------------+    | (listener iface "wan")   |
                           +--------------------------+

Accounts a, a-plain, b (and load0001.. for the load case) are added with
`mrelayctl account add NAME --password-file FILE` in domain mrelay.test;
the test makes a throwaway CA and a certificate for 198.18.0.5 (CN, and
subjectAltName IP and DNS: linphone matches dNSName only), and mrelay-cp
presents the chain (leaf + CA). linphone verifies it against the CA
(baresip does not verify server certificates at all).

Cases (argv[1]):
  call     A (behind the NAT) and B register over TLS with digest. A calls
           B: both up, each decodes the other's tone (A's baresip decoder
           dump has B's 1000 Hz, B's linphone recording has A's 440 Hz);
           mrelay-cp shows one call of two legs on wan, both SRTP in and
           out (AES_CM_128_HMAC_SHA1_80), A's latched on its NAT address,
           media relayed both ways and no authentication drop. B holds and
           resumes (linphone pause/resume), then A (baresip hold/resume):
           the call still relays both ways. A hangs up: B's call ends,
           nothing is left in mrelay-cp, the CDR has one row (a -> b,
           answered, caller-bye, media counters both ways). Then B calls A
           (mrelay reaches A behind the NAT over A's own TLS flow), tones
           both ways, B hangs up. On both wires (tshark): SIP is TLS to
           198.18.0.5:5061 only, no cleartext SIP; RTP goes to and from
           the relay address only (never A <-> B) and every packet carries
           the 10-byte SRTP tag, its payload no tone.
  refused  plaintext SIP (mr_sipload over TCP and UDP to port 5060, and
           a cleartext OPTIONS written into the TLS port): nothing
           registers, no SIP answer in cleartext. An offer without crypto
           (A's a-plain account, no mediaenc): 488 with a Warning, B never
           rings, no call in mrelay-cp. A wrong password (mr_sipload with
           another password file): every REGISTER refused (401/403). A
           TLS client with a bad certificate: on a mutual-TLS listener
           (mtls_listener()) mr_sipload presenting a certificate of another
           CA, or none, is refused in the handshake (one of the trusted CA
           registers). A linphone trusting another CA:
           LinphoneRegistrationFailed, its log says certificate
           verification failed, mrelay-cp saw no REGISTER from it.
  revoke   A calls B; mid-call `mrelayctl account revoke a`: both sides'
           calls end, no call left in mrelay-cp, the CDR row says
           "revoked", and A's next REGISTER is refused.
  load     1,000 accounts register over TLS (mr_sipload, server
           certificate verified, digest) and 200 simultaneous SDES-SRTP
           calls are set up, held 5 s and hung up: none failed, the call
           setup rate and latency are printed; mrelay-cp had 200 calls
           (400 SRTP legs) at once and none is left afterwards.

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
        self.sc0 = sip_counters(self.cp)        # (the probe above is one failed handshake)
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
        return Baresip(self.lab, self.topo.cA, "A", A_PRIV, os.path.join(self.tmp, "a"),
                       os.path.join(self.tmp, "a.wav"), False, account="\n".join(accounts),
                       conf_extra={"sip_cafile": self.ca})

    def baresip_account(self, user, srtp=True, password=None, regint=600):
        return ("<sip:%s@%s;transport=tls>;auth_pass=%s;outbound=\"sip:%s:%d;transport=tls\";regint=%d;"
                "%sanswermode=auto;audio_codecs=PCMU;ptime=20"
                % (user, DOMAIN, password or self.password, SIP_IP, TLS_PORT, regint,
                   "mediaenc=srtp-mand;" if srtp else ""))

    def linphone_b(self, name="B", ca=None, user="b"):
        rc = LP.linphonerc(user, DOMAIN, "%s:%d" % (SIP_IP, TLS_PORT), self.password, ca or self.ca)
        return LP.Linphone(self.lab, self.topo.cB, name, os.path.join(self.tmp, name.lower()), rc,
                           os.path.join(self.tmp, "b.wav"))

    def sipload(self, *args, timeout=300, watch=None):
        """mr_sipload in ns ld against mrelay; @watch() is called about
        every 0.2 s while it runs. Returns (exit, summary, output)."""
        argv = ["ip", "netns", "exec", self.ld, MR_SIPLOAD, "--server", "%s:%d" % (SIP_IP, TLS_PORT),
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


def new_dump(u, before):
    now = {n for n in os.listdir(u.snd) if n.endswith("-dec.wav")}
    new = sorted(now - before)
    if len(new) != 1:
        raise Fail("baresip %s wrote %d new decoder dumps: %s" % (u.name, len(new), new))
    return os.path.join(u.snd, new[0]), now


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
    dec, dumps = new_dump(a, dumps)
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
    dec, dumps = new_dump(a, dumps)
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
        m = Lab(lab, tmp, ["a", "a-plain", "b", "load0001", "load0002"], password)
        pw_bad = os.path.join(tmp, "bad-password")
        with open(pw_bad, "w") as f:
            f.write("not-" + password + "\n")

        # -- plaintext SIP --
        for transport in ("tcp", "udp"):
            rc, s, _ = m.sipload("--server", "%s:%d" % (SIP_IP, PLAIN_PORT), "--transport", transport,
                                 "--prefix", "load", "--accounts", 2, "--calls", 0, "--conns", 1, "--timeout", 5)
            check(rc == 1 and s["reg_ok"] == 0,
                  "plaintext SIP over %s to port %d: nothing registers (%s)" % (transport, PLAIN_PORT,
                                                                                s["failed_status"]))
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
        check(b"SIP/2.0" not in reply,
              "cleartext SIP written into the TLS port gets no SIP answer (%r)" % reply[:16])

        # -- wrong password --
        rc, s, _ = m.sipload("--ca", m.ca, "--verify", "--password-file", pw_bad, "--prefix", "load",
                             "--accounts", 2, "--calls", 0, "--conns", 1)
        check(rc == 1 and s["reg_ok"] == 0 and re.match(r"^(401|403):2$", s["failed_status"]),
              "a wrong password: every REGISTER refused (%s)" % s["failed_status"])

        # -- an offer without crypto --
        a = m.baresip_a([m.baresip_account("a-plain", srtp=False)])
        b = m.linphone_b()
        try:
            a.connect()
            L.wait_until(lambda: registered(a), "baresip A (a-plain) to register", 15)
            b.wait_registered()
            a.command("dial", "sip:b@%s" % DOMAIN)
            closed = a.wait(lambda e: e.get("event") and e.get("type") == "CALL_CLOSED", "the refused call", 15)
            check("488" in closed.get("param", ""),
                  "an offer without crypto from a client: 488 (%s)" % closed.get("param"))
            b.pump(0.5)
            check("Receiving new incoming call" not in b.out, "B never rang")
            check(m.cp.calls() == [], "no call left in mrelay-cp")
            # INTEGRATOR: the Warning header: baresip's log has the
            # response; check its text once the B2BUA's wording is fixed.
        finally:
            b.quit()
            a.quit()

        # -- a TLS client with a bad certificate (mutual TLS) --
        mtls = mtls_listener()
        if mtls is None:
            print("# INTEGRATOR: no mutual-TLS listener configured: client certificates not checked")
        else:
            good = K.Certs(tmp).client(m.ca, "client-good")
            bad = K.Certs(tmp).client(m.rogue, "client-rogue")
            base = ("--server", "%s:%d" % mtls, "--ca", m.ca, "--verify", "--password-file",
                    os.path.join(tmp, "password"), "--prefix", "load", "--accounts", 2, "--calls", 0,
                    "--conns", 1, "--timeout", 5)
            rc, s, _ = m.sipload(*base, "--client-cert", good[0], "--client-key", good[1])
            check(rc == 0, "mutual TLS: a client certificate of the trusted CA registers")
            rc, s, out = m.sipload(*base, "--client-cert", bad[0], "--client-key", bad[1])
            check(rc == 1 and s["reg_ok"] == 0 and "alert unknown ca" in out,
                  "mutual TLS: a client certificate of another CA is refused in the handshake")
            rc, s, out = m.sipload(*base)
            check(rc == 1 and s["reg_ok"] == 0, "mutual TLS: a client without a certificate is refused")

        # -- linphone trusting another CA --
        bad = m.linphone_b(name="B-bad-ca", ca=m.rogue)
        try:
            bad.wait_failed()
            check("Certificate verification failed" in bad.log_text(),
                  "a linphone trusting another CA refuses mrelay's certificate (LinphoneRegistrationFailed)")
            check(not sip_log_saw_register(m.cp, "b"), "mrelay-cp saw no REGISTER from it")
        finally:
            bad.quit()
            keep(tmp)


def test_revoke(tmp):
    tones(tmp)
    password = "pw-%s" % os.urandom(6).hex()
    with L.Lab() as lab:
        m = Lab(lab, tmp, ["a", "b"], password)
        a = m.baresip_a([m.baresip_account("a")])
        b = m.linphone_b()
        try:
            a.connect()
            L.wait_until(lambda: registered(a), "baresip A to register", 15)
            b.wait_registered()
            b.record(os.path.join(tmp, "b-call.wav"))
            a.command("dial", "sip:b@%s" % DOMAIN)
            cid = b.wait_incoming()
            a.wait(lambda e: e.get("event") and e.get("type") == "CALL_ESTABLISHED", "A's call", 15)
            a.pump(2.0)
            check_relayed(m.cp, "before the revocation", min_pkts=50)
            revoke_account(m.cp, "a")
            closed = a.wait(lambda e: e.get("event") and e.get("type") == "CALL_CLOSED", "A's call to end", 10)
            ended = b.wait_ended(cid)
            check(True, "revoking a mid-call ended both sides (A: %s; B: %s)" % (closed.get("param"), ended))
            L.wait_until(lambda: m.cp.calls() == [], "the call to end in mrelay-cp", 10)
            rows = cdr_rows(tmp)
            check(len(rows) == 1 and rows[0]["end_reason"] == "revoked", "the CDR row says revoked (%s)" % rows)
            # A's next REGISTER (baresip re-registers on `uareg`) is refused.
            a.events.clear()
            a.command("uareg", "600")
            ev = a.wait(lambda e: e.get("event") and e.get("type") in ("REGISTER_FAIL", "REGISTER_OK"),
                        "A's REGISTER after the revocation", 10)
            check(ev.get("type") == "REGISTER_FAIL", "A's REGISTER after the revocation is refused (%s)"
                  % ev.get("param"))
        finally:
            b.quit()
            a.quit()
            keep(tmp)


def test_load(tmp):
    password = "pw-%s" % os.urandom(6).hex()
    names = ["load%04d" % i for i in range(1, LOAD_ACCOUNTS + 1)]
    with L.Lab() as lab:
        m = Lab(lab, tmp, names, password)
        pw = os.path.join(tmp, "password")
        peak = {"calls": 0}

        def watch():
            try:
                peak["calls"] = max(peak["calls"], len(m.cp.calls()))
            except Fail:
                pass
        t0 = time.monotonic()
        rc, s, _ = m.sipload("--ca", m.ca, "--verify", "--password-file", pw, "--prefix", "load",
                             "--accounts", LOAD_ACCOUNTS, "--calls", LOAD_CALLS, "--hold", LOAD_HOLD_S,
                             "--conns", 20, "--window", 100, "--timeout", 60, watch=watch)
        check(rc == 0 and s["reg_ok"] == LOAD_ACCOUNTS and s["reg_failed"] == 0,
              "load: %d registrations over TLS with digest, none failed (%.0f/s)" % (s["reg_ok"], s["reg_rate"]))
        check(s["calls_ok"] == LOAD_CALLS and s["calls_failed"] == 0 and s["unreg_failed"] == 0,
              "load: %d simultaneous SDES-SRTP calls through mrelay set up, held %d s and hung up, none failed"
              % (s["calls_ok"], LOAD_HOLD_S))
        print("# load: call setup rate %.1f calls/s, setup latency median %.1f ms, p95 %.1f ms, max %.1f ms "
              "(%.1f s in all)" % (s["setup_rate"], s["latency_ms_median"], s["latency_ms_p95"],
                                   s["latency_ms_max"], time.monotonic() - t0))
        check(peak["calls"] == LOAD_CALLS, "load: mrelay-cp had all %d calls at once (%d seen)"
              % (LOAD_CALLS, peak["calls"]))
        L.wait_until(lambda: m.cp.calls() == [], "every call to end in mrelay-cp", 15)
        L.wait_until(lambda: active_slots(m.region) == 0, "every slot to be freed", 15)
        check(len(cdr_rows(tmp)) == LOAD_CALLS, "load: one CDR row per call")
        keep(tmp)


CASES = {"call": test_call, "refused": test_refused, "revoke": test_revoke, "load": test_load}

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
