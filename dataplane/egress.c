/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rewrite a received packet into the packet the relay sends: the old
 * Ethernet/VLAN/IP/UDP headers (options and padding included) are dropped
 * and fresh ones are written in front of the UDP payload. Building rather
 * than patching keeps one code path for VLAN changes, IPv4<->IPv6
 * bridging and IP options. Worker lcores; no allocation.
 */
#include <errno.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "cksum.h"
#include "dp.h"

int
mr_egress_rewrite(struct rte_mbuf *m, uint16_t payload_off, uint16_t payload_len,
		  const struct mr_port *port, const struct rte_ether_addr *dst_mac,
		  const struct mr_sockaddr *src, const struct mr_sockaddr *dst,
		  uint8_t dscp)
{
	uint16_t l2_len = RTE_ETHER_HDR_LEN + (port->vlan ? RTE_VLAN_HLEN : 0);
	bool v4 = dst->family == MR_AF_INET;
	uint16_t l3_len = v4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	uint16_t udp_len = sizeof(struct rte_udp_hdr) + payload_len;
	struct rte_ether_hdr *eth;
	struct rte_udp_hdr *udp;
	uint8_t *l3;

	if (rte_pktmbuf_adj(m, payload_off) == NULL)
		return -EINVAL;
	if (rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - payload_len) < 0)
		return -EINVAL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, l2_len + l3_len +
							   sizeof(struct rte_udp_hdr));
	if (eth == NULL)
		return -ENOSPC;

	rte_ether_addr_copy(dst_mac, &eth->dst_addr);
	rte_ether_addr_copy(&port->mac, &eth->src_addr);
	if (port->vlan) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eth + 1);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(port->vlan);
		vh->eth_proto = rte_cpu_to_be_16(v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	} else {
		eth->ether_type = rte_cpu_to_be_16(v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	}
	l3 = (uint8_t *)eth + l2_len;
	udp = (struct rte_udp_hdr *)(l3 + l3_len);
	udp->src_port = src->port_be;
	udp->dst_port = dst->port_be;
	udp->dgram_len = rte_cpu_to_be_16(udp_len);
	udp->dgram_cksum = 0;

	m->l2_len = l2_len;
	m->l3_len = l3_len;
	m->ol_flags &= ~RTE_MBUF_F_TX_OFFLOAD_MASK;
	if (v4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->type_of_service = (uint8_t)(dscp << 2);
		ip->total_length = rte_cpu_to_be_16(l3_len + udp_len);
		ip->packet_id = 0;
		ip->fragment_offset = 0;
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		ip->hdr_checksum = 0;
		memcpy(&ip->src_addr, src->ip, 4);
		memcpy(&ip->dst_addr, dst->ip, 4);
		m->ol_flags |= RTE_MBUF_F_TX_IPV4;
		if (port->tx_ip_cksum)
			m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
		else
			ip->hdr_checksum = mr_ipv4_hdr_cksum(ip);
		if (port->tx_udp_cksum) {
			m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
			udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
		} else {
			udp->dgram_cksum = mr_udp4_cksum(ip, udp);
		}
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3;

		ip->vtc_flow = rte_cpu_to_be_32((6u << 28) | ((uint32_t)dscp << 22));
		ip->payload_len = rte_cpu_to_be_16(udp_len);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, src->ip, 16);
		memcpy(ip->dst_addr, dst->ip, 16);
		m->ol_flags |= RTE_MBUF_F_TX_IPV6;
		if (port->tx_udp_cksum) {
			m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
			udp->dgram_cksum = rte_ipv6_phdr_cksum(ip, m->ol_flags);
		} else {
			udp->dgram_cksum = mr_udp6_cksum(ip, udp);
		}
	}
	return 0;
}
