/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP, ICMP echo and NDP for the relay's own addresses (see proto.h for the
 * contract). Management lcore only; pure functions over the caller's
 * buffer, no EAL, no allocation, no logging.
 *
 * Every handler validates the whole frame (lengths, checksums, RFC 826 /
 * RFC 4861 rules) before it writes a byte, so a false return always leaves
 * the frame untouched. *res is zeroed on entry by every handler.
 *
 * Choices the header leaves open:
 *  - Replies shorter than the 60-byte Ethernet minimum are zero-padded to
 *    60 when the buffer holds that much (len for ARP/ICMP, cap for ICMPv6),
 *    since some PMDs (pcap, af_packet, tap) do not pad; otherwise they keep
 *    their natural length and the NIC pads.
 *  - Nothing is learnt for a sender that is one of our own addresses (an
 *    address conflict, or our own multicast looped back) or that is not a
 *    unicast station (zero, multicast or broadcast MAC).
 *  - An ARP probe (sender IP 0.0.0.0, RFC 5227) for one of our addresses
 *    is answered, which is how the prober learns of the conflict; it
 *    teaches nothing.
 *  - ICMPv4 with IP options, fragments and ICMPv6 behind extension headers
 *    are not handled (false): the caller may hand them to the kernel.
 *  - mr_proto_icmp4/icmp6 return true only when they produced a reply or
 *    learnt a neighbour; a valid message that does neither (an NA without
 *    target link-layer option, an NS for another host without a source
 *    link-layer option) returns false like any other frame they ignore.
 *  - A Duplicate Address Detection NS (source ::) for one of our
 *    addresses is defended with an NA to all-nodes, S flag clear (RFC 4861
 *    7.2.4).
 *  - The builders return 0 if an address has the wrong family.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "proto.h"

#define ETH_HLEN 14u
#define ETH_MIN_LEN 60u         /* without FCS */

/* ARP for Ethernet/IPv4 (RFC 826), offsets from the ARP header. */
#define ARP_LEN 28u
#define ARP_HTYPE 0
#define ARP_PTYPE 2
#define ARP_HLEN 4
#define ARP_PLEN 5
#define ARP_OP 6
#define ARP_SHA 8
#define ARP_SPA 14
#define ARP_THA 18
#define ARP_TPA 24
#define ARP_HRD_ETHER 1u
#define ARP_OP_REQUEST 1u
#define ARP_OP_REPLY 2u

#define IP4_HLEN 20u
#define ICMP4_HLEN 8u
#define ICMP4_ECHO_REPLY 0u
#define ICMP4_ECHO_REQUEST 8u
#define REPLY_TTL 64u

#define IP6_HLEN 40u
#define ICMP6_ECHO_REQUEST 128u
#define ICMP6_ECHO_REPLY 129u
#define ND_NS 135u
#define ND_NA 136u
#define ND_MSG_LEN 24u          /* NS/NA: type..reserved + target */
#define ND_OPT_SLLA 1u
#define ND_OPT_TLLA 2u
#define ND_OPT_LLA_LEN 8u       /* link-layer address option for Ethernet */
#define ND_HOP_LIMIT 255u
#define ND_NA_FLAG_S 0x40u
#define ND_NA_FLAG_O 0x20u
#define NA_FRAME_LEN (ETH_HLEN + IP6_HLEN + ND_MSG_LEN + ND_OPT_LLA_LEN)
#define NS_FRAME_LEN NA_FRAME_LEN

static const uint8_t ip6_all_nodes[16] = {
	0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
};

static inline uint16_t
rd_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline void
wr_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* One's complement sum of big-endian 16-bit words, odd tail padded with 0. */
static uint32_t
sum16(const uint8_t *p, uint32_t n, uint32_t sum)
{
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += rd_be16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* ICMPv6 pseudo-header (RFC 8200 8.1) plus message, not complemented. */
static uint16_t
icmp6_sum(const uint8_t *ip6, const uint8_t *icmp, uint32_t icmp_len)
{
	uint32_t sum = sum16(ip6 + 8, 32, 0);    /* source, destination */

	sum += icmp_len + IPPROTO_ICMPV6;
	return fold(sum16(icmp, icmp_len, sum));
}

static inline bool
mac_is_station(const uint8_t *m)
{
	static const uint8_t zero[6];

	return !(m[0] & 1) && memcmp(m, zero, 6) != 0;
}

static inline bool
ip4_is_zero(const uint8_t *a)
{
	return (a[0] | a[1] | a[2] | a[3]) == 0;
}

/* Class D (multicast) and E (reserved, limited broadcast). */
static inline bool
ip4_is_group(const uint8_t *a)
{
	return a[0] >= 224;
}

static inline bool
ip6_is_zero(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

static inline bool
ip6_is_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

/* ff02::1:ffXX:XXXX, RFC 4291 2.7.1 */
static void
ip6_solicited_node(uint8_t out[16], const uint8_t *a)
{
	static const uint8_t prefix[13] = {
		0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff,
	};

	memcpy(out, prefix, 13);
	memcpy(out + 13, a + 13, 3);
}

/* 33:33 + low 32 bits of the group (RFC 2464 7) */
static void
ip6_mcast_mac(uint8_t out[6], const uint8_t *group)
{
	out[0] = 0x33;
	out[1] = 0x33;
	memcpy(out + 2, group + 12, 4);
}

static void
sockaddr_set(struct mr_sockaddr *sa, uint8_t family, const uint8_t *ip)
{
	memset(sa, 0, sizeof(*sa));
	sa->family = family;
	memcpy(sa->ip, ip, family == MR_AF_INET ? 4 : 16);
}

static void
learn(struct mr_proto_result *res, uint8_t family, const uint8_t *ip,
      const uint8_t *mac)
{
	res->learnt = true;
	sockaddr_set(&res->learnt_ip, family, ip);
	memcpy(res->learnt_mac, mac, 6);
}

/* Zero-pad a reply of @n bytes to the Ethernet minimum if @room allows. */
static uint16_t
pad_min(uint8_t *frame, uint16_t n, uint32_t room)
{
	if (n >= ETH_MIN_LEN || room < ETH_MIN_LEN)
		return n;
	memset(frame + n, 0, ETH_MIN_LEN - n);
	return ETH_MIN_LEN;
}

bool
mr_proto_arp(uint8_t *frame, uint16_t len, const uint8_t our_mac[6],
	     mr_is_local_fn is_local, void *ctx, struct mr_proto_result *res)
{
	uint8_t *arp = frame + ETH_HLEN;
	struct mr_sockaddr sender, target;
	uint8_t req_mac[6], req_ip[4];
	uint16_t op;

	memset(res, 0, sizeof(*res));
	if (len < ETH_HLEN + ARP_LEN ||
	    rd_be16(frame + 12) != RTE_ETHER_TYPE_ARP)
		return false;
	if (rd_be16(arp + ARP_HTYPE) != ARP_HRD_ETHER ||
	    rd_be16(arp + ARP_PTYPE) != RTE_ETHER_TYPE_IPV4 ||
	    arp[ARP_HLEN] != 6 || arp[ARP_PLEN] != 4)
		return false;
	op = rd_be16(arp + ARP_OP);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
		return false;
	/* A reply must go to, and learning describe, a unicast station. */
	if (!mac_is_station(arp + ARP_SHA) || !mac_is_station(frame + 6) ||
	    ip4_is_group(arp + ARP_SPA))
		return false;

	sockaddr_set(&sender, MR_AF_INET, arp + ARP_SPA);
	sockaddr_set(&target, MR_AF_INET, arp + ARP_TPA);
	if (!ip4_is_zero(arp + ARP_SPA) && !is_local(ctx, &sender))
		learn(res, MR_AF_INET, arp + ARP_SPA, arp + ARP_SHA);

	/* Gratuitous: sender == target, an announcement, never answered. */
	if (op != ARP_OP_REQUEST || memcmp(arp + ARP_SPA, arp + ARP_TPA, 4) == 0 ||
	    !is_local(ctx, &target))
		return true;

	memcpy(req_mac, arp + ARP_SHA, 6);
	memcpy(req_ip, arp + ARP_SPA, 4);
	memcpy(frame, req_mac, 6);
	memcpy(frame + 6, our_mac, 6);
	wr_be16(arp + ARP_OP, ARP_OP_REPLY);
	memcpy(arp + ARP_SHA, our_mac, 6);
	memcpy(arp + ARP_SPA, target.ip, 4);
	memcpy(arp + ARP_THA, req_mac, 6);
	memcpy(arp + ARP_TPA, req_ip, 4);
	res->reply = true;
	res->reply_len = pad_min(frame, ETH_HLEN + ARP_LEN, len);
	return true;
}

bool
mr_proto_icmp4(uint8_t *frame, uint16_t len, const uint8_t our_mac[6],
	       mr_is_local_fn is_local, void *ctx, struct mr_proto_result *res)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + ETH_HLEN);
	uint8_t *icmp = frame + ETH_HLEN + IP4_HLEN;
	struct mr_sockaddr dst;
	uint16_t tot_len, icmp_len;
	uint8_t tmp[6];

	memset(res, 0, sizeof(*res));
	if (len < ETH_HLEN + IP4_HLEN + ICMP4_HLEN ||
	    rd_be16(frame + 12) != RTE_ETHER_TYPE_IPV4)
		return false;
	if (ip->version_ihl != RTE_IPV4_VHL_DEF ||
	    ip->next_proto_id != IPPROTO_ICMP)
		return false;
	tot_len = rte_be_to_cpu_16(ip->total_length);
	if (tot_len < IP4_HLEN + ICMP4_HLEN || tot_len > len - ETH_HLEN)
		return false;
	if (fold(sum16((const uint8_t *)ip, IP4_HLEN, 0)) != 0xffff)
		return false;
	if (rte_be_to_cpu_16(ip->fragment_offset) &
	    (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return false;
	icmp_len = tot_len - IP4_HLEN;
	if (icmp[0] != ICMP4_ECHO_REQUEST || icmp[1] != 0 ||
	    fold(sum16(icmp, icmp_len, 0)) != 0xffff)
		return false;
	/* Never answer to a group or an unspecified source (no smurfing). */
	if (!mac_is_station(frame + 6) ||
	    ip4_is_zero((const uint8_t *)&ip->src_addr) ||
	    ip4_is_group((const uint8_t *)&ip->src_addr))
		return false;
	sockaddr_set(&dst, MR_AF_INET, (const uint8_t *)&ip->dst_addr);
	if (!is_local(ctx, &dst))
		return false;

	memcpy(frame, frame + 6, 6);
	memcpy(frame + 6, our_mac, 6);
	memcpy(tmp, &ip->src_addr, 4);
	memcpy(&ip->src_addr, &ip->dst_addr, 4);
	memcpy(&ip->dst_addr, tmp, 4);
	ip->time_to_live = REPLY_TTL;
	ip->hdr_checksum = 0;
	wr_be16((uint8_t *)&ip->hdr_checksum,
		(uint16_t)~fold(sum16((const uint8_t *)ip, IP4_HLEN, 0)));
	icmp[0] = ICMP4_ECHO_REPLY;
	wr_be16(icmp + 2, 0);
	wr_be16(icmp + 2, (uint16_t)~fold(sum16(icmp, icmp_len, 0)));
	res->reply = true;
	res->reply_len = pad_min(frame, (uint16_t)(ETH_HLEN + tot_len), len);
	return true;
}

/*
 * Find the first option of @type among the NDP options at [opt, opt + n);
 * false if any option is malformed (zero length or overrunning), which
 * invalidates the whole message (RFC 4861 4.6). *ret_lla = NULL if absent.
 */
static bool
nd_find_lla(const uint8_t *opt, uint32_t n, uint8_t type, const uint8_t **ret_lla)
{
	const uint8_t *lla = NULL;
	uint32_t off = 0, olen;

	while (off < n) {
		if (n - off < 2)
			return false;
		olen = 8u * opt[off + 1];
		if (olen == 0 || olen > n - off)
			return false;
		if (opt[off] == type && lla == NULL)
			lla = opt + off + 2;
		off += olen;
	}
	*ret_lla = lla;
	return true;
}

/*
 * An NS or NA (@type) about @target, from @ip_src to @ip_dst, with our MAC
 * as its one option: the source's link-layer address in an NS, the
 * target's in an NA. All NA_FRAME_LEN (= NS_FRAME_LEN) bytes are written,
 * so the buffer need not be cleared first.
 */
static void
write_nd(uint8_t *frame, const uint8_t *l2_dst, const uint8_t our_mac[6],
	 const uint8_t *ip_src, const uint8_t *ip_dst, uint8_t type, uint8_t flags,
	 const uint8_t *target)
{
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(frame + ETH_HLEN);
	uint8_t *nd = frame + ETH_HLEN + IP6_HLEN;

	memcpy(frame, l2_dst, 6);
	memcpy(frame + 6, our_mac, 6);
	wr_be16(frame + 12, RTE_ETHER_TYPE_IPV6);
	ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip6->payload_len = rte_cpu_to_be_16(ND_MSG_LEN + ND_OPT_LLA_LEN);
	ip6->proto = IPPROTO_ICMPV6;
	ip6->hop_limits = ND_HOP_LIMIT;
	/* Callers pass copies, never pointers into the header being written. */
	memcpy(ip6->src_addr, ip_src, 16);
	memcpy(ip6->dst_addr, ip_dst, 16);
	memset(nd, 0, ND_MSG_LEN + ND_OPT_LLA_LEN);
	nd[0] = type;
	nd[4] = flags;
	memcpy(nd + 8, target, 16);
	nd[24] = type == ND_NS ? ND_OPT_SLLA : ND_OPT_TLLA;
	nd[25] = ND_OPT_LLA_LEN / 8;
	memcpy(nd + 26, our_mac, 6);
	wr_be16(nd + 2, (uint16_t)~icmp6_sum((const uint8_t *)ip6, nd,
					     ND_MSG_LEN + ND_OPT_LLA_LEN));
}

static bool
handle_ns(uint8_t *frame, uint16_t cap, const uint8_t our_mac[6],
	  mr_is_local_fn is_local, void *ctx, struct mr_proto_result *res,
	  uint32_t icmp_len)
{
	const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)(frame + ETH_HLEN);
	const uint8_t *ns = frame + ETH_HLEN + IP6_HLEN;
	uint8_t target[16], ip_dst[16], sn[16], l2_dst[6];
	struct mr_sockaddr sa;
	const uint8_t *slla;
	bool dad;

	if (icmp_len < ND_MSG_LEN || ip6_is_multicast(ns + 8))
		return false;
	if (!nd_find_lla(ns + ND_MSG_LEN, icmp_len - ND_MSG_LEN, ND_OPT_SLLA, &slla))
		return false;
	memcpy(target, ns + 8, 16);
	ip6_solicited_node(sn, target);
	dad = ip6_is_zero(ip6->src_addr);
	/* DAD probes go to the solicited-node group and carry no SLLA. */
	if (dad && (slla != NULL || memcmp(ip6->dst_addr, sn, 16) != 0))
		return false;
	if (memcmp(ip6->dst_addr, sn, 16) != 0 &&
	    memcmp(ip6->dst_addr, target, 16) != 0)
		return false;

	if (slla != NULL && mac_is_station(slla)) {
		sockaddr_set(&sa, MR_AF_INET6, ip6->src_addr);
		if (!is_local(ctx, &sa))
			learn(res, MR_AF_INET6, ip6->src_addr, slla);
	}

	sockaddr_set(&sa, MR_AF_INET6, target);
	if (!is_local(ctx, &sa) || cap < NA_FRAME_LEN)
		return res->learnt;
	if (dad) {
		memcpy(ip_dst, ip6_all_nodes, 16);
		ip6_mcast_mac(l2_dst, ip6_all_nodes);
	} else {
		memcpy(ip_dst, ip6->src_addr, 16);
		memcpy(l2_dst, slla != NULL ? slla : frame + 6, 6);
		if (!mac_is_station(l2_dst))
			return res->learnt;
	}
	write_nd(frame, l2_dst, our_mac, target, ip_dst, ND_NA,
		 (uint8_t)((dad ? 0 : ND_NA_FLAG_S) | ND_NA_FLAG_O), target);
	res->reply = true;
	res->reply_len = NA_FRAME_LEN;
	return true;
}

static bool
handle_na(uint8_t *frame, mr_is_local_fn is_local, void *ctx,
	  struct mr_proto_result *res, uint32_t icmp_len)
{
	const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)(frame + ETH_HLEN);
	const uint8_t *na = frame + ETH_HLEN + IP6_HLEN;
	struct mr_sockaddr sa;
	const uint8_t *tlla;

	if (icmp_len < ND_MSG_LEN || ip6_is_multicast(na + 8))
		return false;
	/* A solicited NA answers one host; it is never multicast (7.1.2). */
	if ((na[4] & ND_NA_FLAG_S) && ip6_is_multicast(ip6->dst_addr))
		return false;
	if (!nd_find_lla(na + ND_MSG_LEN, icmp_len - ND_MSG_LEN, ND_OPT_TLLA, &tlla))
		return false;
	if (tlla == NULL || !mac_is_station(tlla))
		return false;
	sockaddr_set(&sa, MR_AF_INET6, na + 8);
	if (is_local(ctx, &sa))
		return false;
	learn(res, MR_AF_INET6, na + 8, tlla);
	return true;
}

static bool
handle_echo6(uint8_t *frame, const uint8_t our_mac[6], mr_is_local_fn is_local,
	     void *ctx, struct mr_proto_result *res, uint32_t icmp_len)
{
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(frame + ETH_HLEN);
	uint8_t *icmp = frame + ETH_HLEN + IP6_HLEN;
	struct mr_sockaddr dst;
	uint8_t tmp[16];

	/* type, code, checksum, identifier, sequence */
	if (icmp_len < 8 || icmp[1] != 0)
		return false;
	if (!mac_is_station(frame + 6) || ip6_is_zero(ip6->src_addr))
		return false;
	sockaddr_set(&dst, MR_AF_INET6, ip6->dst_addr);
	if (!is_local(ctx, &dst))
		return false;

	memcpy(frame, frame + 6, 6);
	memcpy(frame + 6, our_mac, 6);
	memcpy(tmp, ip6->src_addr, 16);
	memcpy(ip6->src_addr, ip6->dst_addr, 16);
	memcpy(ip6->dst_addr, tmp, 16);
	ip6->hop_limits = REPLY_TTL;
	icmp[0] = ICMP6_ECHO_REPLY;
	wr_be16(icmp + 2, 0);
	wr_be16(icmp + 2, (uint16_t)~icmp6_sum((const uint8_t *)ip6, icmp, icmp_len));
	res->reply = true;
	res->reply_len = (uint16_t)(ETH_HLEN + IP6_HLEN + icmp_len);
	return true;
}

bool
mr_proto_icmp6(uint8_t *frame, uint16_t len, uint16_t cap,
	       const uint8_t our_mac[6], mr_is_local_fn is_local, void *ctx,
	       struct mr_proto_result *res)
{
	const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)(frame + ETH_HLEN);
	const uint8_t *icmp = frame + ETH_HLEN + IP6_HLEN;
	uint32_t icmp_len;

	memset(res, 0, sizeof(*res));
	if (len < ETH_HLEN + IP6_HLEN + 4 || cap < len ||
	    rd_be16(frame + 12) != RTE_ETHER_TYPE_IPV6)
		return false;
	if ((frame[ETH_HLEN] >> 4) != 6 || ip6->proto != IPPROTO_ICMPV6 ||
	    ip6_is_multicast(ip6->src_addr))
		return false;
	icmp_len = rte_be_to_cpu_16(ip6->payload_len);
	if (icmp_len < 4 || icmp_len > (uint32_t)len - ETH_HLEN - IP6_HLEN)
		return false;
	if (icmp6_sum((const uint8_t *)ip6, icmp, icmp_len) != 0xffff)
		return false;

	switch (icmp[0]) {
	case ICMP6_ECHO_REQUEST:
		return handle_echo6(frame, our_mac, is_local, ctx, res, icmp_len);
	case ND_NS:
	case ND_NA:
		/* Hop limit 255 proves the sender is on-link (RFC 4861 7.1). */
		if (ip6->hop_limits != ND_HOP_LIMIT || icmp[1] != 0)
			return false;
		if (icmp[0] == ND_NS)
			return handle_ns(frame, cap, our_mac, is_local, ctx, res,
					 icmp_len);
		return handle_na(frame, is_local, ctx, res, icmp_len);
	default:
		return false;
	}
}

uint16_t
mr_proto_arp_request(uint8_t *frame, const uint8_t our_mac[6],
		     const struct mr_sockaddr *our_ip,
		     const struct mr_sockaddr *target)
{
	uint8_t *arp = frame + ETH_HLEN;

	if (our_ip->family != MR_AF_INET || target->family != MR_AF_INET)
		return 0;
	memset(frame, 0, ETH_MIN_LEN);
	memset(frame, 0xff, 6);
	memcpy(frame + 6, our_mac, 6);
	wr_be16(frame + 12, RTE_ETHER_TYPE_ARP);
	wr_be16(arp + ARP_HTYPE, ARP_HRD_ETHER);
	wr_be16(arp + ARP_PTYPE, RTE_ETHER_TYPE_IPV4);
	arp[ARP_HLEN] = 6;
	arp[ARP_PLEN] = 4;
	wr_be16(arp + ARP_OP, ARP_OP_REQUEST);
	memcpy(arp + ARP_SHA, our_mac, 6);
	memcpy(arp + ARP_SPA, our_ip->ip, 4);
	/* THA stays zero: it is what we are asking for. */
	memcpy(arp + ARP_TPA, target->ip, 4);
	return ETH_MIN_LEN;
}

uint16_t
mr_proto_ns_request(uint8_t *frame, const uint8_t our_mac[6],
		    const struct mr_sockaddr *our_ip,
		    const struct mr_sockaddr *target)
{
	uint8_t sn[16], l2_dst[6];

	if (our_ip->family != MR_AF_INET6 || target->family != MR_AF_INET6)
		return 0;
	ip6_solicited_node(sn, target->ip);
	ip6_mcast_mac(l2_dst, sn);
	write_nd(frame, l2_dst, our_mac, our_ip->ip, sn, ND_NS, 0, target->ip);
	return NS_FRAME_LEN;
}
