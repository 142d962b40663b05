/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_PROTO_H
#define MR_DP_PROTO_H

/*
 * The relay's own L2/L3 protocol work, done on the management lcore: ARP,
 * ICMP echo, NDP (NS/NA) and ICMPv6 echo for the relay's addresses, and the
 * requests it sends to resolve next hops. Pure functions over bytes: the
 * caller owns the buffer, whose room (cap) may exceed the frame length.
 * Frames carry no VLAN tag here; the caller strips and re-adds it.
 */
#include <stdbool.h>
#include <stdint.h>

#include <mrelay/leg.h>

/* Is @ip (MR_AF_INET or MR_AF_INET6 sockaddr, port ignored) one of ours? */
typedef bool (*mr_is_local_fn)(void *ctx, const struct mr_sockaddr *ip);

/* What handling a received frame produced. */
struct mr_proto_result {
	bool reply;                     /* frame was rewritten in place into a reply */
	uint16_t reply_len;             /* bytes of the reply */
	bool learnt;                    /* a neighbour's IP->MAC was seen */
	struct mr_sockaddr learnt_ip;
	uint8_t learnt_mac[6];
};

/*
 * ARP (frame = Ethernet header + ARP). A request for one of our addresses
 * becomes a reply from @our_mac; any well-formed request or reply teaches
 * the sender (learnt). Gratuitous and malformed ARP never reply. Returns
 * false if the frame is not valid Ethernet/IPv4 ARP.
 */
bool mr_proto_arp(uint8_t *frame, uint16_t len, const uint8_t our_mac[6],
		  mr_is_local_fn is_local, void *ctx, struct mr_proto_result *res);

/*
 * IPv4 ICMP echo request to one of our addresses -> echo reply in place
 * (addresses and MACs swapped, checksums recomputed, TTL 64). Returns false
 * for anything else (other types, bad checksum, truncated).
 */
bool mr_proto_icmp4(uint8_t *frame, uint16_t len, const uint8_t our_mac[6],
		    mr_is_local_fn is_local, void *ctx, struct mr_proto_result *res);

/*
 * ICMPv6: echo request to one of our addresses -> echo reply; Neighbor
 * Solicitation for one of our addresses (unicast or to its solicited-node
 * multicast) -> Neighbor Advertisement (S and O flags, target link-layer
 * address option). NS with a source link-layer option and NA with a target
 * link-layer option teach the neighbour (learnt). Hop limit 255 is
 * required for NDP (RFC 4861). Returns false for anything else.
 */
bool mr_proto_icmp6(uint8_t *frame, uint16_t len, uint16_t cap,
		    const uint8_t our_mac[6], mr_is_local_fn is_local, void *ctx,
		    struct mr_proto_result *res);

/* Build an ARP request who-has @target tell @our_ip into @frame (>= 60 bytes). Returns length. */
uint16_t mr_proto_arp_request(uint8_t *frame, const uint8_t our_mac[6],
			      const struct mr_sockaddr *our_ip,
			      const struct mr_sockaddr *target);

/* Build a Neighbor Solicitation for @target (to its solicited-node multicast) into @frame (>= 86 bytes). Returns length. */
uint16_t mr_proto_ns_request(uint8_t *frame, const uint8_t our_mac[6],
			     const struct mr_sockaddr *our_ip,
			     const struct mr_sockaddr *target);

#endif /* MR_DP_PROTO_H */
