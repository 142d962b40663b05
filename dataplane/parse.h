/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_PARSE_H
#define MR_DP_PARSE_H

/*
 * Frame parsing for the worker hot path: Ethernet, up to two 802.1Q/802.1ad
 * tags, IPv4, IPv6 (with extension headers walked, bounded), UDP. Pure
 * function over bytes so unit tests and the fuzz target need no mbufs.
 * Never reads outside [frame, frame + len).
 */
#include <stdbool.h>
#include <stdint.h>

#include <mrelay/counters.h>
#include <mrelay/leg.h>

enum mr_pkt_kind {
	MR_PKT_UDP = 0,         /* IPv4/IPv6 UDP, ports filled in */
	MR_PKT_ARP,             /* ethertype 0x0806 (not validated further) */
	MR_PKT_ICMP4,           /* IPv4 ICMP */
	MR_PKT_ICMP6,           /* ICMPv6 (NDP, echo) */
	MR_PKT_OTHER_L4,        /* IPv4/IPv6, another protocol (TCP: SIP, NG, SSH) */
	MR_PKT_OTHER_L2,        /* another ethertype (LLDP, ...) */
};

/* What mr_parse_frame() learnt; offsets are from the start of the frame. */
struct mr_pkt_info {
	struct mr_sockaddr src;         /* IP + UDP port (port 0 if not UDP) */
	struct mr_sockaddr dst;
	uint16_t l3_off;
	uint16_t l4_off;
	uint16_t payload_off;           /* UDP payload */
	uint16_t payload_len;           /* from the UDP length field */
	uint16_t l3_len;                /* IP total length (header included) */
	uint16_t vlan;                  /* outermost VLAN id, 0 = untagged */
	uint8_t kind;                   /* enum mr_pkt_kind */
	uint8_t l4_proto;               /* IP protocol / IPv6 next header */
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint8_t hop_limit;              /* IPv4 TTL / IPv6 hop limit */
};

/* Flags for mr_parse_frame() */
#define MR_PARSE_IP_CKSUM_OK (1u << 0)  /* NIC verified the IPv4 header checksum */

/*
 * Parse @len bytes at @frame. Returns true and fills @pi, or false with the
 * drop reason in @ret_reason: MR_DROP_MALFORMED (truncated, bad version or
 * length fields), MR_DROP_BAD_CKSUM (IPv4 header checksum, verified unless
 * MR_PARSE_IP_CKSUM_OK), MR_DROP_FRAGMENT (IPv4 MF/offset, IPv6 fragment
 * header), MR_DROP_IP_OPTIONS (IPv4 IHL > 5).
 */
bool mr_parse_frame(const uint8_t *frame, uint32_t len, unsigned int flags,
		    struct mr_pkt_info *pi, uint8_t *ret_reason);

#endif /* MR_DP_PARSE_H */
