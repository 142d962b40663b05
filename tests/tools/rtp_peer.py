#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""RTP test peer for mrelay (python3 standard library only).

Sends and receives plain RTP (version 2) over UDP, IPv4 or IPv6, so scripts
and end-to-end tests can check what the relay forwarded.

Packets are deterministic: sequence numbers and timestamps advance by one
packet each, and the payload of a packet is a function of its sequence
number alone (see payload()), so a receiver verifies every byte without
knowing anything else about the sender.

Subcommands
  send    send --count packets from --bind (optional) to --to
  recv    receive --count packets on --bind, check them, report
  duplex  one socket: send to --to and receive on --bind at the same time.
          Symmetric RTP (latching) needs this: a peer must send from the
          port it receives on.
  echo    send every datagram back to where it came from (a stand-in for
          the relay when testing this tool itself)

Addresses are IP:PORT, or [IPv6]:PORT. With --json a summary object is
printed on stdout. Exit status: 0 success, 1 check failed (missing,
corrupt, unexpected source...), 2 usage or socket error.
"""

import argparse
import ipaddress
import json
import os
import select
import socket
import struct
import sys
import time

RTP_VERSION = 2
RTP_HDR = struct.Struct("!BBHII")     # V/P/X/CC, M/PT, seq, timestamp, SSRC
_PATTERN = bytes(range(256)) * 2


class UsageError(Exception):
    pass


def parse_addr(text):
    """'IP:PORT' or '[IPv6]:PORT' -> (family, (host, port))."""
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if not sep:
            raise UsageError("bad address %r: want [IPv6]:PORT" % text)
    else:
        host, sep, port = text.rpartition(":")
        if not sep or ":" in host:
            raise UsageError("bad address %r: want IP:PORT or [IPv6]:PORT" % text)
    try:
        ip = ipaddress.ip_address(host)
        port = int(port, 10)
    except ValueError as e:
        raise UsageError("bad address %r: %s" % (text, e)) from None
    if not 0 <= port <= 65535:
        raise UsageError("bad port in %r" % text)
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return family, (str(ip), port)


def fmt_addr(sa):
    host, port = sa[0], sa[1]
    if ":" in host:
        return "[%s]:%d" % (host, port)
    return "%s:%d" % (host, port)


def norm_addr(sa):
    """Canonical text of a socket address (v4-mapped v6 becomes v4)."""
    ip = ipaddress.ip_address(sa[0].split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return fmt_addr((str(ip), sa[1]))


def payload(seq, size):
    """The payload of packet @seq: a rotation of 0..255 that starts at
    seq * 7 mod 256 (odd step: consecutive packets differ everywhere)."""
    out = bytearray()
    off = (seq * 7) & 0xFF
    while len(out) < size:
        n = min(size - len(out), 256)
        out += _PATTERN[off:off + n]
    return bytes(out)


def build_packet(seq, ts, ssrc, pt, marker, size):
    return RTP_HDR.pack(RTP_VERSION << 6, (0x80 if marker else 0) | pt,
                        seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload(seq, size)


def make_socket(family, bind, rcvbuf=1 << 20):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    except OSError:
        pass
    if bind is not None:
        s.bind(bind)
    return s


class Sender:
    """Paced RTP stream: packet k goes out at start + k * interval."""

    def __init__(self, args):
        self.count = args.count
        self.interval = args.interval_ms / 1000.0
        self.ssrc = args.ssrc & 0xFFFFFFFF
        self.pt = args.pt
        self.size = args.payload_size
        self.seq = args.seq_start & 0xFFFF
        self.ts = args.ts_start & 0xFFFFFFFF
        self.ts_step = args.ts_step
        self.sent = 0
        self.errors = 0
        self.first_seq = self.seq
        self.start = None

    def done(self):
        return self.sent >= self.count

    def next_due(self):
        if self.start is None:
            return time.monotonic()
        return self.start + self.sent * self.interval

    def send_due(self, sock, to):
        """Send every packet that is due now; returns when none is."""
        now = time.monotonic()
        if self.start is None:
            self.start = now
        while not self.done() and self.next_due() <= now:
            pkt = build_packet(self.seq, self.ts, self.ssrc, self.pt,
                               self.sent == 0, self.size)
            try:
                sock.sendto(pkt, to)
            except OSError as e:
                # ICMP port unreachable from an earlier packet surfaces here
                # on Linux; count it, keep the stream's timing.
                self.errors += 1
                if self.errors == 1:
                    print("rtp_peer: send: %s" % e, file=sys.stderr)
            self.sent += 1
            self.seq = (self.seq + 1) & 0xFFFF
            self.ts = (self.ts + self.ts_step) & 0xFFFFFFFF

    def summary(self):
        return {
            "sent": self.sent,
            "send_errors": self.errors,
            "ssrc": self.ssrc,
            "first_seq": self.first_seq,
            "last_seq": (self.first_seq + self.sent - 1) & 0xFFFF
            if self.sent else None,
        }


class Receiver:
    """Checks an RTP stream: extended sequence numbers (RFC 3550 A.1 without
    the probation), duplicates, reordering, payload bytes, sources."""

    def __init__(self, args):
        self.expect_from = None
        if args.expect_from:
            self.expect_from = norm_addr(parse_addr(args.expect_from)[1])
        self.expect_ssrc = args.expect_ssrc
        self.check_payload = not args.no_payload_check
        self.received = 0          # valid packets from the expected source
        self.unique = 0
        self.duplicates = 0
        self.reordered = 0
        self.payload_errors = 0
        self.not_rtp = 0
        self.wrong_ssrc = 0
        self.unexpected = 0        # from another source than --expect-from
        self.sources = {}
        self.ssrcs = set()
        self.first_seq = None
        self.last_seq = None
        self.first_ext = None
        self.max_ext = None
        self.seen = set()
        self.first_rx = None
        self.last_rx = None

    def _extend(self, seq):
        if self.max_ext is None:
            return seq
        delta = (seq - self.max_ext) & 0xFFFF
        if delta >= 0x8000:
            delta -= 0x10000
        return self.max_ext + delta

    def handle(self, data, src):
        src = norm_addr(src)
        self.sources[src] = self.sources.get(src, 0) + 1
        if self.expect_from is not None and src != self.expect_from:
            self.unexpected += 1
            return
        if len(data) < RTP_HDR.size or data[0] >> 6 != RTP_VERSION:
            self.not_rtp += 1
            return
        b0, b1, seq, _ts, ssrc = RTP_HDR.unpack_from(data)
        hdr_len = RTP_HDR.size + 4 * (b0 & 0x0F)
        if b0 & 0x10:                                  # header extension
            if len(data) < hdr_len + 4:
                self.not_rtp += 1
                return
            hdr_len += 4 + 4 * struct.unpack_from("!H", data, hdr_len + 2)[0]
        end = len(data)
        if b0 & 0x20:                                  # padding
            end -= data[-1]
        if hdr_len > end:
            self.not_rtp += 1
            return
        if self.expect_ssrc is not None and ssrc != self.expect_ssrc:
            self.wrong_ssrc += 1
            return
        self.ssrcs.add(ssrc)
        now = time.monotonic()
        if self.first_rx is None:
            self.first_rx = now
        self.last_rx = now
        self.received += 1
        if self.first_seq is None:
            self.first_seq = seq
        self.last_seq = seq
        ext = self._extend(seq)
        if ext in self.seen:
            self.duplicates += 1
            return
        self.seen.add(ext)
        self.unique += 1
        if self.first_ext is None or ext < self.first_ext:
            self.first_ext = ext
        if self.max_ext is None or ext > self.max_ext:
            self.max_ext = ext
        elif ext < self.max_ext:
            self.reordered += 1
        if self.check_payload:
            body = data[hdr_len:end]
            if body != payload(seq, len(body)):
                self.payload_errors += 1

    def summary(self):
        expected = 0
        if self.first_ext is not None:
            expected = self.max_ext - self.first_ext + 1
        return {
            "received": self.received,
            "unique": self.unique,
            "duplicates": self.duplicates,
            "reordered": self.reordered,
            "lost": expected - self.unique,
            "payload_errors": self.payload_errors,
            "not_rtp": self.not_rtp,
            "wrong_ssrc": self.wrong_ssrc,
            "unexpected_source": self.unexpected,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "min_seq": self.first_ext & 0xFFFF if self.first_ext is not None else None,
            "max_seq": self.max_ext & 0xFFFF if self.max_ext is not None else None,
            "ssrcs": sorted(self.ssrcs),
            "sources": self.sources,
            "duration_ms": round((self.last_rx - self.first_rx) * 1000.0, 3)
            if self.first_rx is not None else None,
        }


def rx_failures(rx, want, allow_loss):
    """Reasons the received stream does not pass, [] if it does."""
    s = rx.summary()
    why = []
    if s["unique"] + allow_loss < want:
        why.append("received %d of %d packets" % (s["unique"], want))
    if s["payload_errors"]:
        why.append("%d payload integrity errors" % s["payload_errors"])
    if s["unexpected_source"]:
        why.append("%d packets from unexpected sources %s"
                   % (s["unexpected_source"], sorted(s["sources"])))
    if s["not_rtp"]:
        why.append("%d packets that are not RTP" % s["not_rtp"])
    if s["wrong_ssrc"]:
        why.append("%d packets with another SSRC" % s["wrong_ssrc"])
    return why


def drain(sock, rx, echo=False):
    """Read every datagram queued on the (non-blocking) socket."""
    n = 0
    while True:
        try:
            data, src = sock.recvfrom(65535)
        except (BlockingIOError, InterruptedError):
            return n
        except ConnectionRefusedError:
            continue        # ICMP error for an earlier send; not data
        n += 1
        if echo:
            try:
                sock.sendto(data, src)
            except OSError:
                pass
        else:
            rx.handle(data, src)


def run_loop(sock, to, tx, rx, want, timeout, linger):
    """Send (if tx) and receive (if rx) until everything is sent and @want
    packets arrived, or @timeout seconds passed. @linger: keep receiving
    this long after the last wanted packet (catches duplicates)."""
    sock.setblocking(False)
    deadline = time.monotonic() + timeout
    rx_done_at = None
    while True:
        now = time.monotonic()
        if tx is not None and not tx.done():
            tx.send_due(sock, to)
        tx_done = tx is None or tx.done()
        if rx is not None and rx_done_at is None and rx.unique >= want:
            rx_done_at = now
        rx_done = rx is None or (rx_done_at is not None and now >= rx_done_at + linger)
        if tx_done and rx_done:
            return True
        if now >= deadline:
            return False
        wait = deadline - now
        if not tx_done:
            wait = min(wait, max(0.0, tx.next_due() - now))
        if rx_done_at is not None:
            wait = min(wait, max(0.0, rx_done_at + linger - now))
        if rx is None:
            time.sleep(wait)
            continue
        r, _, _ = select.select([sock], [], [], wait)
        if r:
            drain(sock, rx)


def report(args, result, why):
    result["ok"] = not why
    if why:
        result["failures"] = why
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        parts = ["%s=%s" % (k, result[k]) for k in sorted(result)
                 if k not in ("failures", "sources", "ok")]
        if "sources" in result:
            parts.append("sources=%s" % ",".join(
                "%s(%d)" % (k, v) for k, v in sorted(result["sources"].items())))
        print(("ok: " if not why else "FAIL: ") + " ".join(parts))
        for w in why:
            print("rtp_peer: %s" % w, file=sys.stderr)
    return 0 if not why else 1


def cmd_send(args):
    family, to = parse_addr(args.to)
    bind = parse_addr(args.bind)[1] if args.bind else None
    if bind is None and family == socket.AF_INET6:
        bind = ("::", 0)
    sock = make_socket(family, bind)
    tx = Sender(args)
    run_loop(sock, to, tx, None, 0, 1e9, 0)
    result = {"mode": "send", "to": fmt_addr(to),
              "from": norm_addr(sock.getsockname())}
    result.update(tx.summary())
    why = ["%d sends failed" % tx.errors] if tx.errors else []
    return report(args, result, why)


def mark_ready(args):
    """Tell a waiting script the socket is bound (--ready-file)."""
    if args.ready_file:
        with open(args.ready_file, "w", encoding="ascii") as f:
            f.write("%d\n" % os.getpid())


def cmd_recv(args):
    family, bind = parse_addr(args.bind)
    sock = make_socket(family, bind)
    mark_ready(args)
    rx = Receiver(args)
    run_loop(sock, None, None, rx, args.count, args.timeout, args.linger_ms / 1000.0)
    result = {"mode": "recv", "bind": fmt_addr(bind), "expected": args.count,
              "missing": max(0, args.count - rx.unique)}
    result.update(rx.summary())
    return report(args, result, rx_failures(rx, args.count, args.allow_loss))


def cmd_duplex(args):
    family, bind = parse_addr(args.bind)
    tfam, to = parse_addr(args.to)
    if tfam != family:
        raise UsageError("--bind and --to must be the same address family")
    sock = make_socket(family, bind)
    mark_ready(args)
    # Both ends of a relayed call must be bound before either sends, or the
    # first packets meet a closed port: let the other side start first.
    time.sleep(args.start_delay_ms / 1000.0)
    want = args.expect_count if args.expect_count is not None else args.count
    tx = Sender(args)
    rx = Receiver(args)
    run_loop(sock, to, tx, rx, want, args.timeout, args.linger_ms / 1000.0)
    result = {"mode": "duplex", "bind": fmt_addr(bind), "to": fmt_addr(to),
              "expected": want, "missing": max(0, want - rx.unique)}
    result.update({"rx_" + k: v for k, v in rx.summary().items()})
    result.update({"tx_" + k: v for k, v in tx.summary().items()})
    why = rx_failures(rx, want, args.allow_loss)
    if tx.errors:
        why.append("%d sends failed" % tx.errors)
    return report(args, result, why)


def cmd_echo(args):
    family, bind = parse_addr(args.bind)
    sock = make_socket(family, bind)
    sock.setblocking(False)
    mark_ready(args)
    echoed = 0
    deadline = time.monotonic() + args.timeout if args.timeout else None
    while args.count == 0 or echoed < args.count:
        wait = None
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                break
        r, _, _ = select.select([sock], [], [], wait)
        if r:
            echoed += drain(sock, None, echo=True)
    result = {"mode": "echo", "bind": fmt_addr(bind), "echoed": echoed}
    return report(args, result, [])


def add_tx_args(p):
    p.add_argument("--to", required=True, metavar="IP:PORT", help="destination")
    p.add_argument("--count", type=int, default=50, help="packets to send (50)")
    p.add_argument("--interval-ms", type=float, default=20.0,
                   help="gap between packets, 0 = as fast as possible (20)")
    p.add_argument("--ssrc", type=lambda v: int(v, 0), default=0x4D52454C,
                   help="SSRC, decimal or 0x hex (0x4d52454c)")
    p.add_argument("--pt", type=int, default=0, choices=range(128),
                   metavar="PT", help="payload type (0, PCMU)")
    p.add_argument("--payload-size", type=int, default=160,
                   help="payload bytes per packet (160 = 20 ms of PCMU)")
    p.add_argument("--seq-start", type=int, default=1000, help="first sequence number")
    p.add_argument("--ts-start", type=int, default=0, help="first timestamp")
    p.add_argument("--ts-step", type=int, default=160, help="timestamp step per packet")


def add_rx_args(p):
    p.add_argument("--timeout", type=float, default=10.0,
                   help="give up after this many seconds (10)")
    p.add_argument("--expect-from", metavar="IP:PORT",
                   help="only this source is valid; others are failures")
    p.add_argument("--expect-ssrc", type=lambda v: int(v, 0), metavar="SSRC",
                   help="only this SSRC is valid")
    p.add_argument("--allow-loss", type=int, default=0, metavar="N",
                   help="pass with up to N packets missing (0)")
    p.add_argument("--linger-ms", type=float, default=0.0,
                   help="keep receiving this long after the last wanted packet")
    p.add_argument("--no-payload-check", action="store_true",
                   help="do not verify payload bytes")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("send", help="send an RTP stream")
    p.add_argument("--bind", metavar="IP:PORT", help="source address (ephemeral)")
    add_tx_args(p)
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("recv", help="receive and check an RTP stream")
    p.add_argument("--bind", required=True, metavar="IP:PORT")
    p.add_argument("--count", type=int, default=50, help="packets expected (50)")
    p.add_argument("--ready-file", metavar="FILE",
                   help="write our pid here once the socket is bound")
    add_rx_args(p)
    p.set_defaults(func=cmd_recv)

    p = sub.add_parser("duplex", help="send and receive on one socket")
    p.add_argument("--bind", required=True, metavar="IP:PORT")
    p.add_argument("--expect-count", type=int, metavar="N",
                   help="packets expected (default: --count)")
    p.add_argument("--ready-file", metavar="FILE",
                   help="write our pid here once the socket is bound")
    p.add_argument("--start-delay-ms", type=float, default=0.0,
                   help="wait this long after binding before sending (0)")
    add_tx_args(p)
    add_rx_args(p)
    p.set_defaults(func=cmd_duplex)

    p = sub.add_parser("echo", help="reflect datagrams to their source")
    p.add_argument("--bind", required=True, metavar="IP:PORT")
    p.add_argument("--count", type=int, default=0, help="stop after N (0 = never)")
    p.add_argument("--timeout", type=float, default=0.0,
                   help="stop after this many seconds (0 = never)")
    p.add_argument("--ready-file", metavar="FILE",
                   help="write our pid here once the socket is bound")
    p.set_defaults(func=cmd_echo)

    for p in sub.choices.values():
        p.add_argument("--json", action="store_true", help="print a JSON summary")

    args = ap.parse_args(argv)
    for name in ("count", "payload_size", "allow_loss", "expect_count"):
        v = getattr(args, name, None)
        if v is not None and v < 0:
            ap.error("--%s must not be negative" % name.replace("_", "-"))
    if getattr(args, "interval_ms", 0) < 0:
        ap.error("--interval-ms must not be negative")
    try:
        return args.func(args)
    except UsageError as e:
        print("rtp_peer: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:
        print("rtp_peer: %s" % e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
