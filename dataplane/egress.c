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

/*
 * The UDP checksum field from @phdr, the pseudo-header's sum in host order:
 * the full checksum, or the pseudo-header's alone for a port that
 * offloads the rest (as rte_ipv4/6_phdr_cksum() give it).
 */
static void
udp_sum(struct rte_mbuf *m, const struct mr_port *port, struct rte_udp_hdr *udp,
	const struct mr_sockaddr *src, const struct mr_sockaddr *dst, uint16_t udp_len,
	uint64_t phdr)
{
	uint16_t c;

	if (port->tx_udp_cksum) {
		m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
		udp->dgram_cksum = rte_cpu_to_be_16(mr_cksum_fold(phdr));
		return;
	}
	c = (uint16_t)~mr_cksum_fold(phdr + rte_be_to_cpu_16(src->port_be) +
				     rte_be_to_cpu_16(dst->port_be) + udp_len +
				     mr_cksum_be(udp + 1, udp_len - sizeof(*udp)));
	udp->dgram_cksum = rte_cpu_to_be_16(c == 0 ? 0xffff : c);      /* 0: no checksum */
}

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

	m->l2_len = l2_len;
	m->l3_len = l3_len;
	m->ol_flags &= ~RTE_MBUF_F_TX_OFFLOAD_MASK;
	/*
	 * Checksums are summed from the values being written, never read back
	 * from the headers: a load that spans several narrower stores cannot be
	 * forwarded from them and waits until they reach the cache, which for
	 * an mbuf last written by another core is a miss (half the plain
	 * relay's time went there).
	 */
	if (v4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
		uint64_t addrs = (uint64_t)mr_cksum_be(src->ip, 4) + mr_cksum_be(dst->ip, 4);
		uint16_t vhl_tos = (uint16_t)(RTE_IPV4_VHL_DEF << 8 | (uint8_t)(dscp << 2));
		uint16_t ttl_proto = 64u << 8 | IPPROTO_UDP;

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->type_of_service = (uint8_t)(dscp << 2);
		ip->total_length = rte_cpu_to_be_16(l3_len + udp_len);
		ip->packet_id = 0;
		ip->fragment_offset = 0;
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		memcpy(&ip->src_addr, src->ip, 4);
		memcpy(&ip->dst_addr, dst->ip, 4);
		m->ol_flags |= RTE_MBUF_F_TX_IPV4;
		if (port->tx_ip_cksum) {
			m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
			ip->hdr_checksum = 0;
		} else {
			ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~mr_cksum_fold(
				addrs + vhl_tos + (uint16_t)(l3_len + udp_len) + ttl_proto));
		}
		udp_sum(m, port, udp, src, dst, udp_len, addrs + IPPROTO_UDP + udp_len);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)l3;

		ip->vtc_flow = rte_cpu_to_be_32((6u << 28) | ((uint32_t)dscp << 22));
		ip->payload_len = rte_cpu_to_be_16(udp_len);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, src->ip, 16);
		memcpy(ip->dst_addr, dst->ip, 16);
		m->ol_flags |= RTE_MBUF_F_TX_IPV6;
		udp_sum(m, port, udp, src, dst, udp_len,
			(uint64_t)mr_cksum_be(src->ip, 16) +
			mr_cksum_be(dst->ip, 16) + IPPROTO_UDP + udp_len);
	}
	return 0;
}
