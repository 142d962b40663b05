/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path: traffic that arrives on the DPDK-owned port but is
 * for the host (SIP over TLS, NG, SSH, ARP for the host's own address)
 * goes to a TAP interface, so a single-NIC machine (typical on ENA) still
 * reaches its control plane. The TAP takes the first port's MAC, so the
 * kernel accepts the frames unchanged and its replies leave through that
 * port. Management lcore only.
 */
#include <stdio.h>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "dp.h"

RTE_LOG_REGISTER(mr_logtype_exc, user.mrelay.exception, INFO);
#define RTE_LOGTYPE_MR_EXC mr_logtype_exc
#define EXC_LOG(lvl, fmt, ...) RTE_LOG(lvl, MR_EXC, fmt "\n", ##__VA_ARGS__)

int
mr_exception_init(struct mr_dp *dp)
{
	struct rte_eth_conf conf;
	char args[128];
	uint16_t port;
	int r;

	dp->exc_port = -1;
	if (!dp->cfg.exception_enabled)
		return 0;
	snprintf(args, sizeof(args), "iface=%s,mac=" RTE_ETHER_ADDR_PRT_FMT,
		 dp->cfg.exception_iface, RTE_ETHER_ADDR_BYTES(&dp->ports[0].mac));
	r = rte_vdev_init("net_tap_mrexc", args);
	if (r < 0 || rte_eth_dev_get_port_by_name("net_tap_mrexc", &port) != 0) {
		EXC_LOG(ERR, "cannot create exception TAP %s: %s", dp->cfg.exception_iface,
			strerror(r < 0 ? -r : ENODEV));
		return r < 0 ? r : -ENODEV;
	}
	memset(&conf, 0, sizeof(conf));
	if ((r = rte_eth_dev_configure(port, 1, 1, &conf)) < 0 ||
	    (r = rte_eth_rx_queue_setup(port, 0, 512, rte_eth_dev_socket_id(port), NULL,
					dp->pool)) < 0 ||
	    (r = rte_eth_tx_queue_setup(port, 0, 512, rte_eth_dev_socket_id(port), NULL)) < 0 ||
	    (r = rte_eth_dev_start(port)) < 0) {
		EXC_LOG(ERR, "exception TAP set-up: %s", strerror(-r));
		return r;
	}
	dp->exc_port = port;
	EXC_LOG(INFO, "exception path: kernel interface %s for port %s",
		dp->cfg.exception_iface, dp->ports[0].cfg->name);
	return 0;
}

void
mr_exception_poll(struct mr_dp *dp)
{
	struct mr_worker_stats *st = mr_shm_wstats(dp->shm, dp->shm->max_workers);
	struct rte_mbuf *pkts[MR_BURST];
	uint16_t n, sent, i;

	n = (uint16_t)rte_ring_sc_dequeue_burst(dp->exc_to_kernel, (void **)pkts, MR_BURST, NULL);
	if (n) {
		sent = rte_eth_tx_burst((uint16_t)dp->exc_port, 0, pkts, n);
		st->exception += sent;
		if (sent < n) {
			st->drops[MR_DROP_EXCEPTION_FULL] += n - sent;
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		}
	}
	/* From the kernel: out of the first port, through worker 0's queue. */
	n = rte_eth_rx_burst((uint16_t)dp->exc_port, 0, pkts, MR_BURST);
	for (i = 0; i < n; i++) {
		pkts[i]->ol_flags = 0;
		if (rte_ring_mp_enqueue(dp->ports[0].mgmt_tx, pkts[i]) != 0) {
			st->drops[MR_DROP_EXCEPTION_FULL]++;
			rte_pktmbuf_free(pkts[i]);
		}
	}
}
