#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Peers for the end-to-end tests that tests/tools/rtp_peer.py does not
cover (python3 standard library only; run inside the test's namespaces).

  timeline  rtp_peer's duplex (same Sender/Receiver, same checks) that also
            records when each packet arrived (CLOCK_MONOTONIC, the same in
            every namespace) and reports the gaps in the received sequence;
            --start-at lets both ends bind before either sends, --stop-file
            lets the test end the stream when it has seen enough
  rtcp      send RTCP sender reports from one socket and check the ones the
            other side sends back (RTCP is port + 1 unless muxed)
  attack    send RTP that is not the latched peer's: from our own address,
            or with a forged source address (raw socket, IP_HDRINCL)
  tcp-server / tcp-client   one request/response over TCP

Each prints one JSON object on stdout; exit 0 when its checks pass, 1 when
not, 2 on usage or socket errors.
"""
import argparse
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import rtp_peer as rp  # noqa: E402


def wait_start(args):
    """Both ends bind first, then start together: without this the first
    packets of whichever peer starts first hit a port nobody listens on yet."""
    if args.start_at:
        delay = args.start_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)


# --- timeline -------------------------------------------------------------------

class TimedReceiver(rp.Receiver):
    """rtp_peer's Receiver, plus the arrival time of each new packet."""

    def __init__(self, args):
        super().__init__(args)
        self.arrivals = []          # (extended seq, monotonic seconds)

    def handle(self, data, src):
        before = self.unique
        super().handle(data, src)
        if self.unique != before:
            seq = struct.unpack_from("!H", data, 2)[0]
            self.arrivals.append((self._extend_seen(seq), time.monotonic()))

    def _extend_seen(self, seq):
        # max_ext was just updated (or the packet was older): recompute the
        # extended number relative to it.
        delta = (seq - self.max_ext) & 0xFFFF
        if delta >= 0x8000:
            delta -= 0x10000
        return self.max_ext + delta


def run_until_stopped(sock, to, tx, rx, args):
    """rtp_peer's run_loop, except that the stream ends early when
    --stop-file appears (the test decides how long it runs): sending stops,
    receiving goes on for --linger-ms. Returns whether it was stopped."""
    sock.setblocking(False)
    deadline = time.monotonic() + args.timeout
    linger = max(args.linger_ms, 300.0) / 1000.0
    end_at, stopped, next_look = None, False, 0.0
    while True:
        now = time.monotonic()
        if end_at is None and now >= next_look:
            next_look = now + 0.02
            if os.path.exists(args.stop_file):
                tx.count = tx.sent
                stopped = True
        if not tx.done():
            tx.send_due(sock, to)
        if end_at is None and tx.done():
            end_at = now + (linger if stopped else args.timeout)
        if (end_at is not None and now >= end_at) or now >= deadline:
            return stopped
        wait = min(deadline, end_at if end_at is not None else deadline) - now
        if not tx.done():
            wait = min(wait, max(0.0, tx.next_due() - now))
        if end_at is None:
            wait = min(wait, max(0.0, next_look - now))
        r, _, _ = select.select([sock], [], [], max(0.0, wait))
        if r:
            rp.drain(sock, rx)
        if end_at is not None and not stopped and rx.unique >= tx.count:
            # normal end without a stop: same rule as run_loop
            return stopped


def cmd_timeline(args):
    family, bind = rp.parse_addr(args.bind)
    _, to = rp.parse_addr(args.to)
    sock = rp.make_socket(family, bind)
    want = args.expect_count if args.expect_count is not None else args.count
    tx = rp.Sender(args)
    rx = TimedReceiver(args)
    wait_start(args)
    t0 = time.monotonic()
    if args.stop_file:
        stopped = run_until_stopped(sock, to, tx, rx, args)
    else:
        stopped = False
        rp.run_loop(sock, to, tx, rx, want, args.timeout, args.linger_ms / 1000.0)
    arr = sorted(rx.arrivals)
    gaps = []
    for (s0, t_0), (s1, t_1) in zip(arr, arr[1:]):
        if s1 - s0 > 1 or t_1 - t_0 > args.gap_ms / 1000.0:
            gaps.append({"after_seq": s0 & 0xFFFF, "t_before": t_0, "next_seq": s1 & 0xFFFF,
                         "t_after": t_1, "missing": s1 - s0 - 1,
                         "gap_ms": round((t_1 - t_0) * 1000.0, 1)})
    if stopped:
        want = rx.unique        # the test knows what the other side sent
    res = {"mode": "timeline", "started": t0, "expected": want, "stopped": stopped,
           "missing": max(0, want - rx.unique), "gaps": gaps,
           "first_rx": arr[0][1] if arr else None, "last_rx": arr[-1][1] if arr else None}
    res.update({"rx_" + k: v for k, v in rx.summary().items()})
    res.update({"tx_" + k: v for k, v in tx.summary().items()})
    why = rp.rx_failures(rx, want, args.allow_loss)
    print(json.dumps(res, sort_keys=True))
    return 1 if why else 0


# --- rtcp ---------------------------------------------------------------------------

SR = struct.Struct("!BBHIIIIII")    # V/P/RC, PT=200, length, SSRC, NTP hi/lo, RTP ts, pkts, octets


def sender_report(ssrc, i):
    # length = 32-bit words - 1 = 6 for an SR without report blocks
    return SR.pack(0x80, 200, 6, ssrc, 0x83AA7E80 + i, i * 4096, i * 160, i, i * 160)


def cmd_rtcp(args):
    family, bind = rp.parse_addr(args.bind)
    _, to = rp.parse_addr(args.to)
    sock = rp.make_socket(family, bind)
    sock.setblocking(False)
    expect_from = rp.norm_addr(rp.parse_addr(args.expect_from)[1]) if args.expect_from else None
    got, corrupt, foreign, sent = set(), 0, 0, 0
    wait_start(args)
    start = time.monotonic()
    deadline = start + args.timeout
    while True:
        now = time.monotonic()
        while sent < args.count and start + sent * args.interval_ms / 1000.0 <= now:
            sock.sendto(sender_report(args.ssrc, sent), to)
            sent += 1
        if (sent >= args.count and len(got) >= args.count) or now >= deadline:
            break
        r, _, _ = select.select([sock], [], [], 0.005)
        while r:
            try:
                data, src = sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                break
            except ConnectionRefusedError:
                continue
            if expect_from is not None and rp.norm_addr(src) != expect_from:
                foreign += 1
                continue
            if len(data) != SR.size or data[1] != 200:
                corrupt += 1
                continue
            fields = SR.unpack(data)
            i = fields[7]
            if fields[3] != args.expect_ssrc or data != sender_report(args.expect_ssrc, i):
                corrupt += 1
                continue
            got.add(i)
    res = {"mode": "rtcp", "sent": sent, "received": len(got), "corrupt": corrupt,
           "foreign": foreign, "lost": args.count - len(got)}
    print(json.dumps(res, sort_keys=True))
    return 0 if len(got) + args.allow_loss >= args.count and not corrupt and not foreign else 1


# --- attack -------------------------------------------------------------------------

def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def forged_udp(src, sport, dst, dport, payload):
    """IPv4 + UDP with a forged source, checksums filled in."""
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    ulen = 8 + len(payload)
    pseudo = s + d + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    c = _csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0x1234, 0, 64, 17, 0, s, d)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return ip + udp


def cmd_attack(args):
    _, to = rp.parse_addr(args.to)
    if args.spoof_src:
        _, (src, sport) = rp.parse_addr(args.spoof_src)
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    else:
        _, bind = rp.parse_addr(args.bind)
        sock = rp.make_socket(socket.AF_INET, bind)
    sent = 0
    for i in range(args.count):
        pkt = rp.build_packet(args.seq_start + i, i * 160, args.ssrc, 0, i == 0, 160)
        if args.spoof_src:
            sock.sendto(forged_udp(src, sport, to[0], to[1], pkt), (to[0], 0))
        else:
            sock.sendto(pkt, to)
        sent += 1
        time.sleep(args.interval_ms / 1000.0)
    print(json.dumps({"mode": "attack", "sent": sent, "to": rp.fmt_addr(to),
                      "spoof_src": args.spoof_src}))
    return 0


# --- tcp --------------------------------------------------------------------------------

def cmd_tcp_server(args):
    _, bind = rp.parse_addr(args.bind)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(bind)
    srv.listen(4)
    srv.settimeout(args.timeout)
    if args.ready_file:
        with open(args.ready_file, "w", encoding="ascii") as f:
            f.write("%d\n" % os.getpid())
    served, peers = 0, []
    try:
        while served < args.count:
            c, peer = srv.accept()
            c.settimeout(args.timeout)
            data = b""
            while True:                 # the client half-closes after its request
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
            c.sendall(b"pong " + data)
            c.close()
            served += 1
            peers.append(rp.fmt_addr(peer))
    except socket.timeout:
        pass
    print(json.dumps({"mode": "tcp-server", "served": served, "peers": peers}))
    return 0 if served >= args.count else 1


def cmd_tcp_client(args):
    _, to = rp.parse_addr(args.to)
    t0 = time.monotonic()
    msg = (args.message + "\n").encode() + bytes(range(256)) * args.pad_kib * 4 + b"\n"
    res = {"mode": "tcp-client", "to": rp.fmt_addr(to)}
    try:
        c = socket.create_connection(to, timeout=args.timeout)
        res["connected_ms"] = round((time.monotonic() - t0) * 1000.0, 1)
        c.sendall(msg)
        c.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
        c.close()
    except OSError as e:
        res["error"] = str(e)
        print(json.dumps(res))
        return 1
    res["ok"] = data == b"pong " + msg
    res["reply_bytes"] = len(data)
    res["ms"] = round((time.monotonic() - t0) * 1000.0, 1)
    print(json.dumps(res))
    return 0 if res["ok"] else 1


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("timeline")
    p.add_argument("--bind", required=True)
    p.add_argument("--expect-count", type=int)
    p.add_argument("--stop-file", metavar="FILE",
                   help="stop sending when FILE appears (then linger and report)")
    p.add_argument("--gap-ms", type=float, default=100.0,
                   help="report silences longer than this even without a missing seq")
    rp.add_tx_args(p)
    rp.add_rx_args(p)
    p.set_defaults(func=cmd_timeline)

    p = sub.add_parser("rtcp")
    p.add_argument("--bind", required=True)
    p.add_argument("--to", required=True)
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--interval-ms", type=float, default=200.0)
    p.add_argument("--ssrc", type=lambda v: int(v, 0), required=True)
    p.add_argument("--expect-ssrc", type=lambda v: int(v, 0), required=True)
    p.add_argument("--expect-from")
    p.add_argument("--allow-loss", type=int, default=0)
    p.add_argument("--timeout", type=float, default=10.0)
    p.set_defaults(func=cmd_rtcp)

    p = sub.add_parser("attack")
    p.add_argument("--to", required=True)
    p.add_argument("--bind", default="0.0.0.0:0")
    p.add_argument("--spoof-src", metavar="IP:PORT")
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--interval-ms", type=float, default=10.0)
    p.add_argument("--ssrc", type=lambda v: int(v, 0), default=0xBADBAD)
    p.add_argument("--seq-start", type=int, default=5000)
    p.set_defaults(func=cmd_attack)

    p = sub.add_parser("tcp-server")
    p.add_argument("--bind", required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--ready-file")
    p.set_defaults(func=cmd_tcp_server)

    p = sub.add_parser("tcp-client")
    p.add_argument("--to", required=True)
    p.add_argument("--message", default="ping")
    p.add_argument("--pad-kib", type=int, default=0, help="KiB of extra payload")
    p.add_argument("--timeout", type=float, default=10.0)
    p.set_defaults(func=cmd_tcp_client)

    for name in ("timeline", "rtcp"):
        sub.choices[name].add_argument("--start-at", type=float, metavar="T",
                                       help="start sending at this CLOCK_MONOTONIC time")
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except (OSError, rp.UsageError) as e:
        print("e2e_peer: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
