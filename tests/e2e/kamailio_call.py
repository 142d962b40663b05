#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A real SIP call through Kamailio (Debian's 5.6, its rtpengine module)
with mrelay in rtpengine's place: Kamailio drives mrelay-cp over NG, and
mrelay-dp carries the media. Two baresip user agents register and call
each other over SIP over TLS; A (behind a NAT) talks SRTP, B is the PSTN
side and talks plain RTP; the relay bridges the two.

  +-------------------+    +--------------------------+
  | ns cA: baresip A  |    | ns nat (MASQUERADE,      |
  | 198.18.1.10/24    +====+ udp -> ports 50000-50999)|
  | SRTP, 440 Hz      |    | 198.18.1.1 | 198.18.0.20 |
  +-------------------+    +------------+-------------+
                                        |
  +-------------------+    +------------+-------------+    +--------------------------+
  | ns cB: baresip B  |    | ns br: bridge br0        |    | ns dp: mrelay-dp on dp0  |
  | 198.18.0.11/24    +====+                          +====+ (net_af_packet), relay   |
  | plain RTP, 1000 Hz|    |                          |    | 198.18.0.2 (wan) and     |
  +-------------------+    +------------+-------------+    | 198.18.0.3 (pstn)        |
                                        |                  +------------^-------------+
                           +------------+-------------+                 | region file
                           | ns sip: 198.18.0.5       |                 | (tmp)
                           | kamailio, TLS :5061      +-----------------+
                           |  rtpengine module --NG udp 127.0.0.1:22230--> mrelay-cp
                           +--------------------------+

mrelay-cp runs in the sip namespace beside Kamailio (NG on that
namespace's loopback), with two interfaces: wan (198.18.0.2, ports
30000-34999) and pstn (198.18.0.3, 35000-39999, pstn = true: the only
place plain RTP may go). Kamailio's route (kamailio_cfg() below, the same
snippet as docs/ng-protocol.md's "Kamailio" section): REGISTER saved in
memory (usrloc db_mode 0, the TLS connection remembered with
fix_nated_register and contact aliases); an INVITE gets
rtpengine_offer("direction=wan direction=pstn RTP/AVP replace-origin
replace-session-connection ICE=remove"), its 183/200 rtpengine_answer,
BYE and CANCEL (and a failed INVITE) rtpengine_delete; when
rtpengine_offer fails the INVITE is refused with 488. A re-INVITE is
offered again (RTP/AVP only when it goes downstream, towards B). Anything not over
TLS is refused with 403.

The test generates a throwaway CA and a server certificate for
198.18.0.5 with openssl in its temporary directory. baresip 1.0 offers
the CA (sip_cafile) but libre accepts any server certificate anyway.

  control  A's second account, without mediaenc (plain RTP/AVP from the
           non-PSTN interface wan), calls B: mrelay refuses the offer,
           Kamailio answers 488, B never rings, no call is left in
           mrelay-cp. So the policy check and the route's error path are
           seen to work, and a call that should not pass does not.
  call     A's SRTP account (mediaenc=srtp-mand) calls B: baresip A secures
           the call with AES_CM_128_HMAC_SHA1_80 (CALL_MENC); each side
           decodes the other's tone (A 440 Hz, B 1000 Hz) from what the
           relay sent it; on A's wire SIP is TLS only (port 5061, TLS
           records both ways, no cleartext SIP anywhere) and the media to
           and from the wan relay address is SRTP (RTP packets carry the
           10-byte tag, their payload is no tone: the same Goertzel check
           finds the tones in B's plain RTP, its positive control); on
           B's wire media is plain RTP to and from the pstn address;
           mrelay-cp shows the call (A's leg SRTP, latched behind the NAT;
           B's plain) with packets relayed both ways, and NG query agrees.
           B holds and resumes, then A (four re-INVITEs through Kamailio,
           each offered and answered over NG; the route offers B's
           without the transport flag): the same call still relays both
           ways. A hangs up: Kamailio's rtpengine_delete ends the call in
           mrelay-cp (an NG delete was counted), no call, leg or slot is
           left.

Host changes: see nslab.py (namespaces mre2e-<pid>-*, deleted on exit).
Kamailio, mrelay-cp, baresip and tcpdump are started by the test (foreground,
their own ports inside the namespaces) and stopped by pid; their
configurations, logs, WAV files, captures and the certificates stay in the
test's temporary directory (KAMAILIO_E2E_KEEP=DIR keeps a copy). Exit status
77 (skipped) without kamailio with its tls and rtpengine modules, or
baresip (scripts/setup.sh installs kamailio, kamailio-tls-modules and
baresip-core).
"""
import os
import re
import shutil
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nslab as L  # noqa: E402
from nslab import A_PRIV, B_IP, NAT_PUB, Fail, check  # noqa: E402
from harness import main  # noqa: E402
from cp_restart import ControlPlane, CpRegion, active_slots  # noqa: E402
from rtpengine_srtp import bencode, bdecode  # noqa: E402
from baresip_lab import (TONE, Baresip, Capture, installed, is_rtcp, ns_socket,  # noqa: E402
                         read_pcap_ip, samples_tone_frames, tone_frames, ulaw_decode, write_tone)
import kamailio_lab as K  # noqa: E402
from kamailio_lab import TLS_PORT  # noqa: E402

SIP_IP = "198.18.0.5"
WAN, PSTN = "198.18.0.2", "198.18.0.3"
NG_PORT = 22230
SUITE = "AES_CM_128_HMAC_SHA1_80"
MEDIA_SECONDS = 4.0
OFFER_FLAGS = "direction=wan direction=pstn RTP/AVP replace-origin replace-session-connection ICE=remove"
ANSWER_FLAGS = "replace-origin replace-session-connection ICE=remove"
A_AOR, A_PLAIN_AOR, B_AOR = "sip:a@%s" % SIP_IP, "sip:a-plain@%s" % SIP_IP, "sip:b@%s" % SIP_IP
B_URI = "sip:b@%s" % SIP_IP         # (the account adds ;transport=tls)


def cp_config(tmp):
    return """
region = { path = "%(tmp)s/region"; max_legs = 64; max_workers = 4; };
interfaces = (
	{ name = "wan"; addresses = [ "%(wan)s" ]; port_min = 30000; port_max = 34999; },
	{ name = "pstn"; addresses = [ "%(pstn)s" ]; port_min = 35000; port_max = 39999; pstn = true; }
);
admin = { socket = "%(tmp)s/cp.sock"; };
state_dir = "%(tmp)s/state";
timeouts = { media_idle_s = 120; offer_s = 120; call_max_s = 3600; };
ng = { udp = [ "127.0.0.1:%(ng)d" ]; };
log = { level = "info"; ng = "debug"; };
""" % {"tmp": tmp, "wan": WAN, "pstn": PSTN, "ng": NG_PORT}


def dp_config(tmp):
    return """
region = "%s/region";
ports = ( { name = "lan"; device = "%s"; addresses = [ "%s/24", "%s/24" ]; } );
relay = { port_min = 30000; port_max = 39999; };
workers = [ 1 ];
idle_backoff_us = 100;
""" % (tmp, L.AF_PACKET, WAN, PSTN)


def kamailio_cfg(tmp):
    """A minimal TLS proxy with registrar, NAT-safe contacts and the
    rtpengine module pointed at mrelay-cp (docs/ng-protocol.md#kamailio)."""
    head = K.cfg_head(tmp, "listen=tls:%s:%d\n" % (SIP_IP, TLS_PORT), 2, modules=["rtpengine"],
                      modparams='modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:%d")\n' % NG_PORT)
    return head + r"""
request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if ($pr != "tls") {
		sl_send_reply("403", "SIP over TLS only");
		exit;
	}
	force_rport();
	if (is_method("REGISTER")) {
		fix_nated_register();
		if (!save("location"))
			sl_reply_error();
		exit;
	}
	if (has_totag()) {
		if (loose_route()) {
			handle_ruri_alias();
			if (is_method("BYE")) {
				rtpengine_delete();
			} else if (is_method("INVITE") && has_body("application/sdp")) {
				# A re-INVITE (hold, resume): the transport flag only
				# towards the pstn side (the callee's).
				add_contact_alias();
				if (is_direction("downstream"))
					$var(flags) = "%(offer)s";
				else
					$var(flags) = "%(answer)s";
				if (!rtpengine_offer("$var(flags)")) {
					sl_send_reply("488", "Not Acceptable Here");
					exit;
				}
				t_on_reply("MEDIA");
			}
			t_relay();
			exit;
		}
		if (is_method("ACK") && t_check_trans())
			t_relay();
		exit;
	}
	if (is_method("CANCEL")) {
		if (t_check_trans()) {
			rtpengine_delete();
			t_relay();
		}
		exit;
	}
	t_check_trans();
	if (!is_method("INVITE")) {
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}
	if (!lookup("location")) {
		sl_send_reply("404", "Not Found");
		exit;
	}
	record_route();
	add_contact_alias();
	if (!rtpengine_offer("%(offer)s")) {
		xlog("L_NOTICE", "rtpengine_offer failed for $ci: 488\n");
		sl_send_reply("488", "Not Acceptable Here");
		exit;
	}
	t_on_reply("MEDIA");
	t_on_failure("FAILED");
	t_relay();
}

onreply_route[MEDIA] {
	if (is_method("INVITE") && status =~ "(18[0-9])|(2[0-9][0-9])") {
		add_contact_alias();
		if (has_body("application/sdp") && !rtpengine_answer("%(answer)s"))
			xlog("L_ERR", "rtpengine_answer failed for $ci\n");
	}
}

failure_route[FAILED] {
	rtpengine_delete();
}
""" % {"offer": OFFER_FLAGS, "answer": ANSWER_FLAGS}


class Ng:
    """An NG client on a UDP socket in the sip namespace (where mrelay-cp listens)."""

    def __init__(self, ns):
        self.s = ns_socket(ns, socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(5)
        self.s.connect(("127.0.0.1", NG_PORT))
        self.n = 0

    def __call__(self, command, **args):
        self.n += 1
        cookie = ("kt%d_%d" % (os.getpid(), self.n)).encode()
        msg = {k.replace("_", "-"): v for k, v in args.items()}
        msg["command"] = command
        self.s.send(cookie + b" " + bencode(msg))
        c, _, body = self.s.recv(65536).partition(b" ")
        if c != cookie:
            raise Fail("NG reply with cookie %r to %r" % (c, cookie))
        return bdecode(body)[0]

    def ng_stats(self):
        return self("statistics")["statistics"]["ng"]


def ua(lab, ns, name, ip, cdir, tone, accounts, cafile):
    """A baresip whose accounts register with Kamailio over TLS."""
    return Baresip(lab, ns, name, ip, cdir, tone, False, account="\n".join(accounts),
                   conf_extra={"sip_cafile": cafile})


def account(aor, srtp, regint=600):
    return ("<%s;transport=tls>;regint=%d;%sanswermode=auto;audio_codecs=PCMU;ptime=20"
            % (aor, regint, "mediaenc=srtp-mand;" if srtp else ""))


def registered(u):
    """The registration line of baresip @u's `reginfo` once it says OK."""
    data = u.command("reginfo").get("data", "")
    m = re.search(r"^.*\bOK\b.*$", re.sub(r"\x1b\[[0-9;]*m", "", data), re.M)
    return m.group(0).strip() if m else None


def answers(u):
    """The SDP answers baresip @u took (its re-INVITEs' 200s)."""
    return [e for e in events_of(u, "CALL_REMOTE_SDP") if e.get("param") == "answer"]


def events_of(u, kind):
    return [e for e in u.events if e.get("event") and e.get("type") == kind]


def wire_sip(pkts, me):
    """SIP signalling on a client's wire: TCP to/from the proxy's TLS port,
    what else went to/from the proxy, cleartext SIP anywhere, TLS
    application-data records each way."""
    out = {"tls": 0, "other": [], "cleartext": 0, "appdata_to": 0, "appdata_from": 0}
    for _t, proto, src, sp, dst, dp, pl in pkts:
        if re.search(rb"SIP/2\.0|^(INVITE|REGISTER|ACK|BYE|CANCEL|OPTIONS) sip:", pl):
            out["cleartext"] += 1
        if SIP_IP not in (src, dst):
            continue
        if proto == 6 and TLS_PORT in (sp, dp):
            out["tls"] += 1
            if pl[:3] == b"\x17\x03\x03":
                out["appdata_from" if src == me else "appdata_to"] += 1
        else:
            out["other"].append((proto, src, sp, dst, dp))
    return out


def wire_media(pkts, relay):
    """RTP between a client and the relay address @relay: per direction the
    RTP packet count and lengths, and the 50-ms frames of the payload read
    as PCMU in which each tone dominates."""
    out = {}
    for d in ("to", "from"):
        out[d] = {"rtp": 0, "len": set(), "samples": []}
    for _t, proto, src, _sp, dst, _dp, pl in pkts:
        if proto != 17 or relay not in (src, dst) or len(pl) < 12 or is_rtcp(pl):
            continue
        d = out["to" if src == relay else "from"]
        d["rtp"] += 1
        d["len"].add(len(pl))
        d["samples"] += ulaw_decode(pl[12:12 + 160])
    for d in out.values():
        got440, got1000, loud, _ = samples_tone_frames(d.pop("samples"), TONE["A"], TONE["B"])
        d["tone_frames"] = {"440": got440, "1000": got1000, "loud": loud}
    return out


def streams_by_iface(call):
    """mrelayctl calls: {interface: first stream} of a call's legs."""
    return {leg["iface"]: dict(leg["streams"][0], tag=leg["tag"]) for leg in call["legs"]}


def test_kamailio_call(tmp):
    for tool in ("tcpdump", "stdbuf", "openssl", "ping"):
        if shutil.which(tool) is None:
            raise Fail("%s is missing (scripts/setup.sh installs it)" % tool)
    t0 = time.monotonic()
    certs = K.Certs(tmp)
    cafile = certs.ca("e2e")
    crt, key, _chain = certs.server(cafile, SIP_IP)
    for k in TONE:
        write_tone(os.path.join(tmp, "%s.wav" % k.lower()), TONE[k])
    with L.Lab() as lab:
        topo = L.Topo(lab, nat=True)
        sip = lab.ns("sip")
        lab.veth("eth0", sip, "p-sip", topo.br)
        L.sh("ip", "link", "set", "p-sip", "master", "br0", ns=topo.br)
        lab.addr(sip, "eth0", SIP_IP + "/24")
        cp = ControlPlane(tmp, cp_config(tmp), ns=sip)
        lab.undo.append(cp.stop)
        cp.start()
        region = CpRegion(tmp)
        dp = lab.dataplane(topo.dp, "kamailio", dp_config(tmp), tmp)
        L.start_dp(dp, region)
        ng = Ng(sip)
        # small shared and private memory pools
        kam = K.Kamailio(lab, sip, tmp, SIP_IP, crt, key, cfg=kamailio_cfg(tmp), shm_mb=64, pkg_mb=8)
        kam.wait_ready()
        L.wait_until(lambda: ng.ng_stats().get("ping", {}).get("requests", 0) >= 1,
                     "Kamailio's rtpengine module to ping mrelay-cp", 10)
        print("ok - kamailio %s runs with TLS on %s:%d; its rtpengine module pinged mrelay-cp's NG socket"
              % (kam.version(), SIP_IP, TLS_PORT))
        for ns, relay in ((topo.cA, WAN), (topo.cB, PSTN)):     # the relay learns both next hops
            L.sh("ping", "-c", "1", "-W", "2", relay, ns=ns)
        caps = {"A": Capture(lab, topo.cA, os.path.join(tmp, "a.pcap"), filt="ip"),
                "B": Capture(lab, topo.cB, os.path.join(tmp, "b.pcap"), filt="ip"),
                "ng": Capture(lab, sip, os.path.join(tmp, "ng.pcap"), filt="udp port %d" % NG_PORT, iface="lo")}
        uas = {"A": ua(lab, topo.cA, "A", A_PRIV, os.path.join(tmp, "a"), os.path.join(tmp, "a.wav"),
                       [account(A_AOR, True), account(A_PLAIN_AOR, False, regint=0)], cafile),
               "B": ua(lab, topo.cB, "B", B_IP, os.path.join(tmp, "b"), os.path.join(tmp, "b.wav"),
                       [account(B_AOR, False)], cafile)}
        try:
            run(tmp, lab, topo, cp, region, ng, kam, uas, caps)
        finally:
            for u in uas.values():
                u.quit()
            if os.environ.get("KAMAILIO_E2E_KEEP"):
                kam.log.flush()
                shutil.copytree(tmp, os.environ["KAMAILIO_E2E_KEEP"], dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("*.sock", "kamailio-run"))
        check(kam.stop() == 0, "kamailio exits 0 on SIGTERM")
        check(dp.stop() == 0, "mrelay-dp exits 0")
        check(cp.stop() == 0, "mrelay-cp exits 0")
    print("# %.1f s" % (time.monotonic() - t0))


def run(tmp, lab, topo, cp, region, ng, kam, uas, caps):
    a, b = uas["A"], uas["B"]
    for u in uas.values():
        u.connect()
    for u in uas.values():
        # (Its REGISTER_OK event may come before ctrl_tcp has a client:
        # ask for the registration state instead.)
        try:
            info = L.wait_until(lambda: registered(u), "baresip %s to register" % u.name, 15)
        except Fail:
            raise Fail("%s; kamailio: %s" % (u.tail(), kam.tail()))
        check(True, "baresip %s registered with Kamailio over TLS (%s)" % (u.name, info))

    # -- negative control: plain RTP from the non-PSTN side --
    st0 = ng.ng_stats()
    a.command("uafind", A_PLAIN_AOR)
    a.command("dial", B_URI)
    closed = a.wait(lambda e: e.get("event") and e.get("type") == "CALL_CLOSED", "the refused call to close", 15)
    st1 = ng.ng_stats()
    check("488" in closed.get("param", ""),
          "control: an INVITE from A's plain-RTP account is refused with 488 (%s)" % closed.get("param"))
    check(st1["offer"]["errors"] == st0.get("offer", {}).get("errors", 0) + 1,
          "control: mrelay refused Kamailio's offer (%d NG offer errors)" % st1["offer"]["errors"])
    check(re.search(r"plain RTP/AVP from interface 'wan' refused", kam.text()) is not None,
          "control: Kamailio logged mrelay's reason (plain RTP/AVP from interface 'wan' refused)")
    b.pump(0.3)
    check(not events_of(b, "CALL_INCOMING"), "control: B never rang")
    check(cp.calls() == [] and ng("list")["calls"] == [], "control: no call left in mrelay-cp")

    # -- the call: SRTP from A, plain RTP to B --
    a.command("uafind", A_AOR)
    for u in uas.values():
        u.events.clear()
    t_dial = time.monotonic()
    a.command("dial", B_URI)
    for u in uas.values():
        try:
            u.wait(lambda e: e.get("event") and e.get("type") in ("CALL_ESTABLISHED", "CALL_CLOSED"),
                   "CALL_ESTABLISHED", 15)
        except Fail:
            raise Fail("%s; kamailio: %s" % (u.tail(), kam.tail()))
        ev = events_of(u, "CALL_ESTABLISHED")
        check(ev, "baresip %s: call established%s" % (u.name, "" if ev else " (%s)" % events_of(u, "CALL_CLOSED")))
    print("# call established %.0f ms after the dial" % ((time.monotonic() - t_dial) * 1000))
    a.pump(MEDIA_SECONDS)
    b.pump(0.1)
    calls = cp.calls()
    check(len(calls) == 1, "mrelay-cp has the call (%d)" % len(calls))
    legs = streams_by_iface(calls[0])
    q = ng("query", call_id=calls[0]["call_id"])
    print("# mrelay-cp: %s" % {k: {x: v[x] for x in ("local", "in_suite", "out_suite", "latched_rtp", "rx_pkts",
                                                      "tx_pkts", "drop_auth", "drop_other")}
                               for k, v in legs.items()})
    wan = [s for s in legs.values() if s["local"].startswith(WAN + ":")]
    pstn = [s for s in legs.values() if s["local"].startswith(PSTN + ":")]
    check(len(wan) == 1 and len(pstn) == 1, "one leg on wan (%s), one on pstn (%s)" % (WAN, PSTN))
    wan, pstn = wan[0], pstn[0]
    check(wan["in_suite"] == SUITE and wan["out_suite"] == SUITE,
          "A's leg is SRTP both ways (%s in, %s out)" % (wan["in_suite"], wan["out_suite"]))
    check(pstn["in_suite"] == "none" and pstn["out_suite"] == "none", "B's leg is plain RTP")
    check((wan["latched_rtp"] or "").startswith(NAT_PUB + ":"),
          "A's leg latched A's NAT address %s on authenticated SRTP" % wan["latched_rtp"])
    check(wan["rx_pkts"] >= 100 and pstn["rx_pkts"] >= 100 and wan["tx_pkts"] >= 100 and pstn["tx_pkts"] >= 100,
          "mrelay-dp relayed the media both ways (A's leg rx %d tx %d, B's leg rx %d tx %d)"
          % (wan["rx_pkts"], wan["tx_pkts"], pstn["rx_pkts"], pstn["tx_pkts"]))
    check(wan["drop_auth"] == 0, "none of A's SRTP failed authentication")
    pk = {t: sum(s["stats"]["packets"] for m in v["medias"] for s in m["streams"]) for t, v in q["tags"].items()}
    check(len(pk) == 2 and all(n >= 100 for n in pk.values()), "NG query counts both parties' packets (%s)" % pk)
    check(events_of(a, "CALL_MENC") and SUITE in events_of(a, "CALL_MENC")[0].get("param", ""),
          "baresip A secured the call with %s (%s)" % (SUITE, [e.get("param") for e in events_of(a, "CALL_MENC")]))
    check(not events_of(b, "CALL_MENC"), "baresip B's call is not encrypted")

    # -- re-INVITEs through Kamailio: B (upstream) holds and resumes, then A --
    for u, what in ((b, "B"), (a, "A")):
        for cmd in ("hold", "resume"):
            for x in uas.values():          # read every event of the last re-INVITE first
                x.pump(0.3)
            st_before = ng.ng_stats()
            n_sdp = len(answers(u))
            u.command(cmd)
            u.wait(lambda e, n=n_sdp: len(answers(u)) > n, "the re-INVITE's answer", 10)
            time.sleep(0.1)                 # (baresip may see the 200 before Kamailio's answer reply is counted)
            st = ng.ng_stats()
            check(st["offer"]["requests"] == st_before["offer"]["requests"] + 1 and
                  st["answer"]["requests"] == st_before["answer"]["requests"] + 1 and
                  st["offer"]["errors"] == st_before["offer"]["errors"] and
                  st["answer"]["errors"] == st_before["answer"]["errors"],
                  "%s's %s: a re-INVITE through Kamailio, offered and answered by mrelay-cp (%s)"
                  % (what, cmd, events_of(u, "CALL_REMOTE_SDP")[-1].get("param")))
    c0 = streams_by_iface(calls[0])
    a.pump(1.5)
    c1 = streams_by_iface(cp.calls()[0])
    check(len(cp.calls()) == 1 and all(c1[k]["rx_pkts"] - c0[k]["rx_pkts"] >= 40 and
                                       c1[k]["tx_pkts"] - c0[k]["tx_pkts"] >= 40 for k in c1),
          "the same call relays media both ways after hold and resume (%s)"
          % {k: (c1[k]["rx_pkts"] - c0[k]["rx_pkts"], c1[k]["tx_pkts"] - c0[k]["tx_pkts"]) for k in c1})

    # -- hang up --
    st0 = ng.ng_stats()
    a.command("hangup")
    for u in uas.values():
        u.wait(lambda e: e.get("event") and e.get("type") == "CALL_CLOSED", "CALL_CLOSED", 10)
    L.wait_until(lambda: cp.calls() == [], "the call to end in mrelay-cp", 10)
    st1 = ng.ng_stats()
    check(st1["delete"]["requests"] > st0.get("delete", {}).get("requests", 0),
          "Kamailio's rtpengine_delete on the BYE ended the call in mrelay-cp (NG delete %d)"
          % st1["delete"]["requests"])
    L.wait_until(lambda: active_slots(region) == 0, "every slot to be freed", 10)
    check(ng("list")["calls"] == [] and cp.json("status json")["ports_used"] == 0,
          "no call, port or slot left")

    # -- what the baresips heard, what went on the wires --
    for u in uas.values():
        u.quit()
    pkts = {k: read_pcap_ip_after(c) for k, c in caps.items()}
    other = {"A": "B", "B": "A"}
    for k, u in uas.items():
        got, wrong, loud, _ = tone_frames(u.dump("dec"), TONE[other[k]], TONE[k])
        check(got >= 40 and got >= 0.9 * loud and wrong == 0,
              "baresip %s decoded %s's %g Hz tone through mrelay (%d of %d loud 50-ms frames)"
              % (k, other[k], TONE[other[k]], got, loud))
    reqs = [r for r in ng_requests(pkts["ng"]) if r.get("call-id") == calls[0]["call_id"]]
    cmds = [r.get("command") for r in reqs]
    offer = reqs[0] if reqs else {}
    check(cmds == ["offer", "answer"] * 5 + ["delete"],
          "Kamailio's rtpengine module sent mrelay-cp offer and answer for the INVITE and each of the 4 "
          "re-INVITEs, then delete (%d requests)" % len(cmds))
    up = [r for r in reqs[2:6] if r.get("command") == "offer"]
    check(all(r.get("from-tag") == reqs[1].get("to-tag") and "transport-protocol" not in r for r in up),
          "B's re-INVITEs were offered under B's tag without a transport flag (the route's upstream branch)")
    check(offer.get("direction") == ["wan", "pstn"] and offer.get("transport-protocol") == "RTP/AVP"
          and offer.get("ICE") == "remove" and set(offer.get("replace", [])) == {"origin", "session-connection"}
          and offer.get("received-from") == ["IP4", NAT_PUB],
          "the offer carried the route's flags as NG keys (direction, transport-protocol, ICE, replace) "
          "and A's NAT address as received-from")
    s = wire_sip(pkts["A"], A_PRIV)
    check(s["tls"] > 0 and s["appdata_to"] > 0 and s["appdata_from"] > 0 and not s["other"],
          "A's SIP went over TLS to %s:%d only (%d TCP segments; TLS application data %d out, %d in; other %s)"
          % (SIP_IP, TLS_PORT, s["tls"], s["appdata_from"], s["appdata_to"], s["other"][:3]))
    check(s["cleartext"] == 0, "no cleartext SIP on A's wire")
    sb = wire_sip(pkts["B"], B_IP)
    check(sb["tls"] > 0 and sb["cleartext"] == 0 and not sb["other"], "B's SIP went over TLS too")
    ma, mb = wire_media(pkts["A"], WAN), wire_media(pkts["B"], PSTN)
    print("# A's wire (wan %s): %s" % (WAN, ma))
    print("# B's wire (pstn %s): %s" % (PSTN, mb))
    check(ma["to"]["rtp"] >= 100 and ma["from"]["rtp"] >= 100 and ma["to"]["len"] == {12 + 160 + 10}
          and ma["from"]["len"] == {12 + 160 + 10},
          "A's media to and from the relay is SRTP: every RTP packet carries the 10-byte %s tag" % SUITE)
    check(all(d["tone_frames"]["440"] == 0 and d["tone_frames"]["1000"] == 0 for d in ma.values()),
          "no tone in A's RTP payloads read as PCMU: they are encrypted")
    check(mb["to"]["rtp"] >= 100 and mb["from"]["rtp"] >= 100 and mb["to"]["len"] == {12 + 160}
          and mb["from"]["len"] == {12 + 160}, "B's media to and from the relay is plain RTP (PCMU, no tag)")
    check(mb["to"]["tone_frames"]["440"] >= 40 and mb["from"]["tone_frames"]["1000"] >= 40,
          "B's plain RTP payloads carry the tones (A's 440 Hz from the relay, B's 1000 Hz to it): "
          "the payload check sees plaintext when there is some")


def ng_requests(pkts):
    """What Kamailio's rtpengine module sent mrelay-cp (the test's own
    requests have cookies starting with "kt")."""
    reqs = []
    for _t, proto, _src, _sp, _dst, dp, pl in pkts:
        if proto != 17 or dp != NG_PORT or pl.startswith(b"kt"):
            continue
        cookie, _, body = pl.partition(b" ")
        reqs.append(bdecode(body)[0])
    for r in reqs:
        print("# kamailio -> NG: %s" % {k: (v if k != "sdp" else "...") for k, v in r.items()})
    return reqs


def read_pcap_ip_after(cap):
    cap.stop()
    return read_pcap_ip(cap.path)


if __name__ == "__main__":
    if not installed() or not K.installed() or \
            not os.path.exists(os.path.join(K.KAMAILIO_MODULES, "rtpengine.so")):
        print("# SKIP: kamailio (with kamailio-tls-modules) or baresip is not installed; "
              "scripts/setup.sh installs them")
        sys.exit(77)
    main([test_kamailio_call])
