#!/usr/bin/env python3
"""mrelay-dp on net_vhost with dpdk-testpmd on virtio_user as the traffic
generator: the pairing pktgen uses on a machine without a NIC.

    dpdk-testpmd (virtio_user0, txonly: 198.18.0.10:40000 -> 198.18.0.2:30000)
        | vhost-user socket
    mrelay-dp (net_vhost0, relay 198.18.0.2) --relays--> 198.18.0.11:40002

vhost-user shares guest memory through files, which --no-huge cannot give,
so this test needs free hugepages and is skipped (exit 77) without them.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Dataplane, Region, check, main  # noqa: E402

TESTPMD = "/usr/bin/dpdk-testpmd"


def free_hugepages():
    with open("/proc/meminfo") as f:
        m = re.search(r"HugePages_Free:\s+(\d+)", f.read())
    return int(m.group(1)) if m else 0


def test_vhost_testpmd(tmp):
    region = Region(tmp)
    a = region.leg("--local", "198.18.0.2:30000", "--peer", "198.18.0.10:40000")
    b = region.leg("--local", "198.18.0.2:30002", "--peer", "198.18.0.11:40002")
    region.pair(a, b)
    sock = os.path.join(tmp, "vhost.sock")
    cfg = """
region = "%s/region";
ports = ( { name = "wan"; device = "net_vhost0,iface=%s,queues=1"; addresses = [ "198.18.0.2/24" ]; } );
workers = [ 1 ];
neighbours = ( { ip = "198.18.0.11"; mac = "02:00:00:00:00:0b"; port = "wan"; } );
""" % (tmp, sock)
    dp = Dataplane("vhost", cfg, tmp)
    dp.args = [x for x in dp.args if x not in ("--no-huge",)]
    dp.args[dp.args.index("--file-prefix"):dp.args.index("--file-prefix") + 2] = ["--in-memory"]
    dp.start(region)
    try:
        mac = re.search(r"mac ([0-9A-F:]{17})", dp.output()).group(1)
        # testpmd exits when its standard input ends: keep a pipe open and
        # stop it with SIGINT, which prints the final statistics.
        tp = subprocess.Popen(
            [TESTPMD, "--in-memory", "--single-file-segments", "-m", "256",
             "--no-pci", "-l", "0,1", "--vdev", "virtio_user0,path=%s,mac=02:00:00:00:00:0a" % sock,
             "--", "--forward-mode=txonly", "--tx-ip=198.18.0.10,198.18.0.2", "--tx-udp=40000,30000",
             "--eth-peer=0,%s" % mac, "--auto-start", "--txpkts=200"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(3)
        tp.send_signal(signal.SIGINT)
        out = tp.communicate(timeout=30)[0]
        sent = [int(x) for x in re.findall(r"TX-packets:\s+(\d+)", out)]
        check(sent and sent[-1] > 1000, "testpmd sent through virtio_user (%s)" % (sent[-1:] or out[-300:]))
        la, lb = region.leg_stats(a), region.leg_stats(b)
        check(la["rx_pkts"] > 1000, "mrelay-dp received them on leg A (%d)" % la["rx_pkts"])
        drops = region.drops()
        check(set(drops) <= {"tx-full"}, "no drop but tx-full (testpmd txonly never reads): %s" % drops)
        check(lb["tx_pkts"] + lb["drop_other"] == la["rx_pkts"] and lb["tx_pkts"] > 0,
              "every packet relayed towards B: %d sent, %d refused by the full queue"
              % (lb["tx_pkts"], lb["drop_other"]))
        check(lb["drop_other"] == drops.get("tx-full", 0), "refusals counted on the leg")
    finally:
        check(dp.stop() == 0, "mrelay-dp exits 0")


if __name__ == "__main__":
    if free_hugepages() < 256 or not os.path.exists(TESTPMD):
        print("SKIP: needs 256 free hugepages and dpdk-testpmd (scripts/setup.sh reserves them)")
        sys.exit(77)
    main([test_vhost_testpmd])
