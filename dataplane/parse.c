/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame parsing for the worker hot path (see parse.h for the contract).
 *
 * The code is straight-line on purpose: every layer checks that its header
 * fits in what is left of the frame before touching it, and the only loop
 * is the IPv6 extension header walk, bounded by MR_PARSE_IPV6_EXT_MAX.
 * Nothing here needs the EAL: only DPDK's header structs (all packed, so
 * any alignment of @frame is fine) and constants are used.
 *
 * Choices the header leaves open:
 *  - On false, @pi is partly written and must not be used.
 *  - A third VLAN tag is not parsed: the frame is MR_PKT_OTHER_L2.
 *  - For MR_PKT_ARP and MR_PKT_OTHER_L2, l3_off is the first byte after
 *    the Ethernet/VLAN headers, l3_len what follows it (Ethernet padding
 *    included), and src/dst are zero (MR_AF_NONE).
 *  - TCP (MR_PKT_OTHER_L4) gets its ports filled when the IP payload holds
 *    them, so the caller can steer signalling to the kernel by port; any
 *    other protocol leaves the ports 0. TCP itself is not validated.
 *  - UDP and ICMP checksums are not verified here: the UDP checksum is the
 *    NIC's or SRTP's business, ICMP is checked by proto.c off the hot path.
 *  - IPv6: a hop-by-hop header anywhere but first is MALFORMED (RFC 8200
 *    4.1), as is a chain of more than MR_PARSE_IPV6_EXT_MAX extension
 *    headers, and a packet whose 40 + payload length exceeds 65535 (cannot
 *    be described by l3_len; no Ethernet frame is that big).
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "parse.h"

/* Bound on the IPv6 extension header walk: real traffic has 0-2. */
#define MR_PARSE_IPV6_EXT_MAX 8

/* Ethernet fields by offset: rte_ether_hdr is 2-byte aligned, frames need not be. */
#define ETH_DST_OFF 0
#define ETH_SRC_OFF 6
#define ETH_TYPE_OFF 12
#define VLAN_TAG_LEN 4

static inline uint16_t
rd_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline bool
is_vlan_tpid(uint16_t et)
{
	return et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ;
}

static inline bool
drop(uint8_t *ret_reason, enum mr_drop_reason r)
{
	*ret_reason = (uint8_t)r;
	return false;
}

/*
 * Fill the L4 part common to IPv4 and IPv6: @off is the L4 header, @end the
 * end of the IP packet (both from frame start, end <= len).
 */
static inline bool
parse_l4(const uint8_t *frame, uint32_t off, uint32_t end, struct mr_pkt_info *pi,
	 uint8_t *ret_reason)
{
	uint32_t room = end - off;

	pi->l4_off = (uint16_t)off;
	switch (pi->l4_proto) {
	case IPPROTO_UDP: {
		const struct rte_udp_hdr *udp;
		uint16_t ulen;

		if (unlikely(room < sizeof(*udp)))
			return drop(ret_reason, MR_DROP_MALFORMED);
		udp = (const struct rte_udp_hdr *)(frame + off);
		ulen = rte_be_to_cpu_16(udp->dgram_len);
		/* Less than the IP payload is legal (trailing bytes are ignored). */
		if (unlikely(ulen < sizeof(*udp) || ulen > room))
			return drop(ret_reason, MR_DROP_MALFORMED);
		pi->src.port_be = udp->src_port;
		pi->dst.port_be = udp->dst_port;
		pi->payload_off = (uint16_t)(off + sizeof(*udp));
		pi->payload_len = (uint16_t)(ulen - sizeof(*udp));
		pi->kind = MR_PKT_UDP;
		return true;
	}
	case IPPROTO_TCP:
		/* Source and destination port lead the TCP header, as in UDP. */
		if (room >= 4) {
			memcpy(&pi->src.port_be, frame + off, 2);
			memcpy(&pi->dst.port_be, frame + off + 2, 2);
		}
		pi->kind = MR_PKT_OTHER_L4;
		return true;
	case IPPROTO_ICMP:
		pi->kind = pi->src.family == MR_AF_INET ? MR_PKT_ICMP4 : MR_PKT_OTHER_L4;
		return true;
	case IPPROTO_ICMPV6:
		pi->kind = pi->src.family == MR_AF_INET6 ? MR_PKT_ICMP6 : MR_PKT_OTHER_L4;
		return true;
	default:
		pi->kind = MR_PKT_OTHER_L4;
		return true;
	}
}

static inline bool
parse_ipv4(const uint8_t *frame, uint32_t len, uint32_t off, unsigned int flags,
	   struct mr_pkt_info *pi, uint8_t *ret_reason)
{
	const struct rte_ipv4_hdr *ip;
	uint16_t tot_len, frag;
	uint8_t ihl;

	if (unlikely(len - off < sizeof(*ip)))
		return drop(ret_reason, MR_DROP_MALFORMED);
	ip = (const struct rte_ipv4_hdr *)(frame + off);
	if (unlikely((ip->version_ihl >> 4) != 4))
		return drop(ret_reason, MR_DROP_MALFORMED);
	ihl = rte_ipv4_hdr_len(ip);
	tot_len = rte_be_to_cpu_16(ip->total_length);
	/* Ethernet pads short frames, so the frame may extend past tot_len. */
	if (unlikely(ihl < sizeof(*ip) || tot_len < ihl || tot_len > len - off))
		return drop(ret_reason, MR_DROP_MALFORMED);
	/*
	 * Media never carries IP options, so UDP with options is dropped; other
	 * protocols may (IGMP's router alert) and go on, whole, towards the
	 * host's exception path.
	 */
	if (unlikely(ihl != sizeof(*ip) && ip->next_proto_id == IPPROTO_UDP))
		return drop(ret_reason, MR_DROP_IP_OPTIONS);
	/* A correct header sums to 0xffff, its checksum field included. */
	if (!(flags & MR_PARSE_IP_CKSUM_OK) &&
	    unlikely(rte_raw_cksum(ip, ihl) != 0xffff))
		return drop(ret_reason, MR_DROP_BAD_CKSUM);
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	if (unlikely(frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
		return drop(ret_reason, MR_DROP_FRAGMENT);

	pi->l3_len = tot_len;
	pi->l4_proto = ip->next_proto_id;
	pi->hop_limit = ip->time_to_live;
	pi->src.family = MR_AF_INET;
	pi->dst.family = MR_AF_INET;
	memcpy(pi->src.ip, &ip->src_addr, 4);
	memcpy(pi->dst.ip, &ip->dst_addr, 4);
	return parse_l4(frame, off + ihl, off + tot_len, pi, ret_reason);
}

static inline bool
parse_ipv6(const uint8_t *frame, uint32_t len, uint32_t off,
	   struct mr_pkt_info *pi, uint8_t *ret_reason)
{
	const struct rte_ipv6_hdr *ip;
	uint32_t end, l4;
	unsigned int i;
	uint8_t nh;

	if (unlikely(len - off < sizeof(*ip)))
		return drop(ret_reason, MR_DROP_MALFORMED);
	ip = (const struct rte_ipv6_hdr *)(frame + off);
	if (unlikely((frame[off] >> 4) != 6))
		return drop(ret_reason, MR_DROP_MALFORMED);
	end = sizeof(*ip) + (uint32_t)rte_be_to_cpu_16(ip->payload_len);
	if (unlikely(end > len - off || end > UINT16_MAX))
		return drop(ret_reason, MR_DROP_MALFORMED);
	pi->l3_len = (uint16_t)end;
	end += off;

	/*
	 * Walk the extension headers that may precede UDP. Each starts with
	 * (next header, length in 8-byte units not counting the first 8).
	 */
	nh = ip->proto;
	l4 = off + sizeof(*ip);
	for (i = 0; i < MR_PARSE_IPV6_EXT_MAX; i++) {
		if (nh == IPPROTO_FRAGMENT)
			return drop(ret_reason, MR_DROP_FRAGMENT);
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING &&
		    nh != IPPROTO_DSTOPTS)
			break;
		if (unlikely(nh == IPPROTO_HOPOPTS && i != 0))
			return drop(ret_reason, MR_DROP_MALFORMED);
		if (unlikely(end - l4 < 8))
			return drop(ret_reason, MR_DROP_MALFORMED);
		nh = frame[l4];
		l4 += 8u + 8u * frame[l4 + 1];
		if (unlikely(l4 > end))
			return drop(ret_reason, MR_DROP_MALFORMED);
	}
	if (unlikely(i == MR_PARSE_IPV6_EXT_MAX &&
		     (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
		      nh == IPPROTO_DSTOPTS || nh == IPPROTO_FRAGMENT)))
		return drop(ret_reason, MR_DROP_MALFORMED);

	pi->l4_proto = nh;
	pi->hop_limit = ip->hop_limits;
	pi->src.family = MR_AF_INET6;
	pi->dst.family = MR_AF_INET6;
	memcpy(pi->src.ip, ip->src_addr, 16);
	memcpy(pi->dst.ip, ip->dst_addr, 16);
	return parse_l4(frame, l4, end, pi, ret_reason);
}

bool
mr_parse_frame(const uint8_t *frame, uint32_t len, unsigned int flags,
	       struct mr_pkt_info *pi, uint8_t *ret_reason)
{
	uint32_t off = RTE_ETHER_HDR_LEN;
	uint16_t et;

	if (unlikely(len < RTE_ETHER_HDR_LEN))
		return drop(ret_reason, MR_DROP_MALFORMED);
	/* Zeroes ports, VLAN and the unused tail of IPv4 addresses in one go. */
	memset(pi, 0, sizeof(*pi));
	memcpy(pi->dst_mac, frame + ETH_DST_OFF, 6);
	memcpy(pi->src_mac, frame + ETH_SRC_OFF, 6);
	et = rd_be16(frame + ETH_TYPE_OFF);

	/* Up to two tags (802.1ad outer, 802.1Q inner), unrolled. */
	if (is_vlan_tpid(et)) {
		if (unlikely(len - off < VLAN_TAG_LEN))
			return drop(ret_reason, MR_DROP_MALFORMED);
		pi->vlan = rd_be16(frame + off) & 0x0fff;
		et = rd_be16(frame + off + 2);
		off += VLAN_TAG_LEN;
		if (is_vlan_tpid(et)) {
			if (unlikely(len - off < VLAN_TAG_LEN))
				return drop(ret_reason, MR_DROP_MALFORMED);
			et = rd_be16(frame + off + 2);
			off += VLAN_TAG_LEN;
		}
	}
	pi->l3_off = (uint16_t)off;

	if (et == RTE_ETHER_TYPE_IPV4)
		return parse_ipv4(frame, len, off, flags, pi, ret_reason);
	if (et == RTE_ETHER_TYPE_IPV6)
		return parse_ipv6(frame, len, off, pi, ret_reason);

	pi->l3_len = (uint16_t)RTE_MIN(len - off, (uint32_t)UINT16_MAX);
	pi->kind = et == RTE_ETHER_TYPE_ARP ? MR_PKT_ARP : MR_PKT_OTHER_L2;
	return true;
}
