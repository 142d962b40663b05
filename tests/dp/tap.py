#!/usr/bin/env python3
"""mrelay-dp on net_tap: the PMD makes a kernel interface, and two ordinary
UDP sockets on the host relay through the dataplane.

    host sockets 198.18.6.1:40000 / :40002
          |  kernel interface mr-tap0 (198.18.6.1/24)
    mrelay-dp (net_tap0, relay 198.18.6.2)

No static neighbours: the relay resolves the host by ARP, and the host
resolves the relay by ARP, as on a real link. The kernel may hand a TAP
partial checksums; tx checksumming is turned off on the interface as on
the veths of the other tests.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Dataplane, Region, check, main, wait_for  # noqa: E402

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "rtp_peer.py")
IFACE = "mr-tap0"


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True, timeout=30)


def test_tap_relay(tmp):
    region = Region(tmp)
    a = region.leg("--local", "198.18.6.2:30000", "--peer", "198.18.6.1:40000")
    b = region.leg("--local", "198.18.6.2:30002", "--peer", "198.18.6.1:40002")
    region.pair(a, b)
    cfg = """
region = "%s/region";
ports = ( { name = "wan"; device = "net_tap0,iface=%s"; addresses = [ "198.18.6.2/24" ]; } );
workers = [ 1 ];
""" % (tmp, IFACE)
    dp = Dataplane("tap", cfg, tmp)
    dp.start(region)
    try:
        sh("ip", "addr", "add", "198.18.6.1/24", "dev", IFACE)
        sh("ip", "link", "set", IFACE, "up")
        subprocess.run(["ethtool", "-K", IFACE, "tx", "off"], capture_output=True, timeout=30)
        wait_for(lambda: subprocess.run(["ping", "-c1", "-W1", "198.18.6.2"], capture_output=True).returncode == 0,
                 "the relay to answer ARP and ICMP on the TAP", timeout=10)
        ready = os.path.join(tmp, "b.ready")
        rx = subprocess.Popen([sys.executable, PEER, "duplex", "--bind", "198.18.6.1:40002",
                               "--to", "198.18.6.2:30002", "--count", "50", "--interval-ms", "10",
                               "--ssrc", "0x2222", "--expect-ssrc", "0x1111", "--json",
                               "--ready-file", ready, "--start-delay-ms", "500"],
                              stdout=subprocess.PIPE, text=True)
        wait_for(lambda: os.path.exists(ready), "B's socket to be bound")
        tx = subprocess.run([sys.executable, PEER, "duplex", "--bind", "198.18.6.1:40000",
                             "--to", "198.18.6.2:30000", "--count", "50", "--interval-ms", "10",
                             "--ssrc", "0x1111", "--expect-ssrc", "0x2222", "--json"],
                            capture_output=True, text=True, timeout=60)
        rxo = rx.communicate(timeout=60)[0]
        check(tx.returncode == 0, "A received all of B's media intact: %s" % tx.stdout[-300:])
        check(rx.returncode == 0, "B received all of A's media intact: %s" % rxo[-300:])
        la = region.leg_stats(a)
        check(la["rx_pkts"] >= 50 and la["tx_pkts"] >= 50, "leg counters: %s" % la)
        legs = {leg["slot"]: leg for leg in region.legs()["legs"]}
        check(legs[a]["latched_rtp"] == "198.18.6.1:40000", "latched to the host socket")
        st = region.stats()
        check(st["mgmt"]["arp_replies"] >= 1, "the relay answered ARP")
        json.loads(tx.stdout)
    finally:
        check(dp.stop() == 0, "mrelay-dp exits 0 and removes its TAP")


if __name__ == "__main__":
    main([test_tap_relay])
