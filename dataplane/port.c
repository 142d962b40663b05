/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port set-up, from what rte_eth_dev_info says each PMD can do: one RX and
 * one TX queue per worker where the PMD has them (a worker without an RX
 * queue still serves hand-offs), RSS on UDP where offered, checksum offloads
 * where offered and software checksums where not (net_af_packet has none).
 * Cold path.
 */
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "dp.h"

RTE_LOG_REGISTER(mr_logtype_port, user.mrelay.port, INFO);
#define RTE_LOGTYPE_MR_PORT mr_logtype_port
#define PORT_LOG(lvl, fmt, ...) RTE_LOG(lvl, MR_PORT, fmt "\n", ##__VA_ARGS__)

bool
mr_port_is_local(const struct mr_port *p, const struct mr_sockaddr *ip)
{
	unsigned int i;

	for (i = 0; i < p->cfg->n_addrs; i++)
		if (mr_sockaddr_ip_eq(&p->cfg->addrs[i].ip, ip))
			return true;
	return false;
}

bool
mr_port_on_link(const struct mr_port *p, const struct mr_sockaddr *ip)
{
	unsigned int i;

	for (i = 0; i < p->cfg->n_addrs; i++) {
		const struct mr_cfg_addr *a = &p->cfg->addrs[i];

		if (a->ip.family == ip->family && mr_prefix_match(a->ip.ip, ip->ip, a->prefix_len))
			return true;
	}
	return false;
}

int
mr_port_of_addr(const struct mr_dp *dp, const struct mr_sockaddr *ip)
{
	unsigned int i;

	for (i = 0; i < dp->n_ports; i++)
		if (mr_port_is_local(&dp->ports[i], ip))
			return (int)i;
	return -1;
}

/* Probe a vdev ("net_xxx0,args") or find an already-probed device (PCI). */
static int
find_or_probe(const char *device, uint16_t *ret_port)
{
	char name[RTE_DEV_NAME_MAX_LEN];
	size_t n = strcspn(device, ",");

	if (n >= sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, device, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, ret_port) == 0)
		return 0;
	if (strncmp(device, "net_", 4) == 0) {
		int r = rte_vdev_init(name, device[n] == ',' ? device + n + 1 : "");

		if (r < 0)
			return r;
	} else if (rte_dev_probe(device) < 0) {
		return -ENODEV;
	}
	return rte_eth_dev_get_port_by_name(name, ret_port) == 0 ? 0 : -ENODEV;
}

static int
port_init(struct mr_dp *dp, unsigned int idx)
{
	struct mr_port *p = &dp->ports[idx];
	const struct mr_cfg_port *c = &dp->cfg.ports[idx];
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nrx = c->rx_desc ? c->rx_desc : 1024, ntx = c->tx_desc ? c->tx_desc : 1024;
	uint64_t want_tx = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	uint64_t want_rx = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	char ring_name[RTE_RING_NAMESIZE];
	unsigned int q;
	int r;

	p->cfg = c;
	p->vlan = c->vlan;
	r = find_or_probe(c->device, &p->port_id);
	if (r < 0) {
		PORT_LOG(ERR, "port %s: cannot probe '%s': %s", c->name, c->device, strerror(-r));
		return r;
	}
	r = rte_eth_dev_info_get(p->port_id, &info);
	if (r < 0)
		return r;
	memset(&conf, 0, sizeof(conf));
	p->nb_rxq = (uint16_t)RTE_MIN(dp->n_workers, info.max_rx_queues);
	p->nb_txq = (uint16_t)dp->n_workers;
	if (info.max_tx_queues < p->nb_txq) {
		PORT_LOG(ERR, "port %s (%s): %u TX queues, %u workers need one each%s",
			 c->name, info.driver_name, info.max_tx_queues, dp->n_workers,
			 strcmp(info.driver_name, "net_af_packet") == 0 ?
			 " (add qpairs=N to the device)" : "");
		return -EINVAL;
	}
	conf.txmode.offloads = info.tx_offload_capa & want_tx;
	conf.rxmode.offloads = info.rx_offload_capa & want_rx;
	if (p->nb_rxq > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_UDP)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	}
	if (c->mtu)
		conf.rxmode.mtu = c->mtu;
	r = rte_eth_dev_configure(p->port_id, p->nb_rxq, p->nb_txq, &conf);
	if (r < 0) {
		PORT_LOG(ERR, "port %s: configure: %s", c->name, strerror(-r));
		return r;
	}
	p->tx_ip_cksum = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
	p->tx_udp_cksum = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
	p->rx_cksum = conf.rxmode.offloads != 0;
	rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nrx, &ntx);
	for (q = 0; q < p->nb_rxq; q++) {
		r = rte_eth_rx_queue_setup(p->port_id, (uint16_t)q, nrx,
					   rte_eth_dev_socket_id(p->port_id), NULL, dp->pool);
		if (r < 0)
			return r;
	}
	for (q = 0; q < p->nb_txq; q++) {
		r = rte_eth_tx_queue_setup(p->port_id, (uint16_t)q, ntx,
					   rte_eth_dev_socket_id(p->port_id), NULL);
		if (r < 0)
			return r;
	}
	r = rte_eth_macaddr_get(p->port_id, &p->mac);
	if (r < 0)
		return r;
	p->neigh = mr_neigh_create((unsigned int)rte_socket_id());
	snprintf(ring_name, sizeof(ring_name), "mr_mgmt_tx%u", idx);
	p->mgmt_tx = rte_ring_create(ring_name, 1024, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (p->neigh == NULL || p->mgmt_tx == NULL)
		return -ENOMEM;
	r = rte_eth_dev_start(p->port_id);
	if (r < 0) {
		PORT_LOG(ERR, "port %s: start: %s", c->name, strerror(-r));
		return r;
	}
	/* NDP arrives on solicited-node multicast groups. */
	rte_eth_allmulticast_enable(p->port_id);
	PORT_LOG(INFO, "port %s: %s (%s) mac " RTE_ETHER_ADDR_PRT_FMT
		 " rxq %u txq %u offloads tx ip=%d udp=%d rx=%d",
		 c->name, c->device, info.driver_name, RTE_ETHER_ADDR_BYTES(&p->mac),
		 p->nb_rxq, p->nb_txq, p->tx_ip_cksum, p->tx_udp_cksum, p->rx_cksum);
	return 0;
}

int
mr_port_init_all(struct mr_dp *dp)
{
	unsigned int i;
	int r;

	dp->n_ports = dp->cfg.n_ports;
	for (i = 0; i < dp->n_ports; i++) {
		r = port_init(dp, i);
		if (r < 0)
			return r;
	}
	for (i = 0; i < dp->cfg.n_neigh; i++) {
		const struct mr_cfg_neigh *n = &dp->cfg.neigh[i];

		mr_neigh_update(dp->ports[n->port].neigh, &n->ip, n->mac, true, mr_now_ms());
	}
	return 0;
}

void
mr_port_stop_all(struct mr_dp *dp)
{
	unsigned int i;

	for (i = 0; i < dp->n_ports; i++) {
		rte_eth_dev_stop(dp->ports[i].port_id);
		rte_eth_dev_close(dp->ports[i].port_id);
	}
}
