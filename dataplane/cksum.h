/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_CKSUM_H
#define MR_DP_CKSUM_H

/*
 * UDP checksums in software, for ports without checksum offload. DPDK
 * 22.11's rte_raw_cksum() adds 16 bits at a time; adding 64-bit words
 * (two 32-bit halves each, into a 64-bit sum that cannot overflow for any
 * packet) does the same one's-complement sum (RFC 1071: it does not
 * depend on the word size or byte order as long as the fold is done in the
 * same order) in a quarter of the additions. Results equal
 * rte_ipv4_udptcp_cksum() / rte_ipv6_udptcp_cksum() (tests/unit/test_cksum.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <rte_ip.h>
#include <rte_udp.h>

/* A one's-complement sum of 16-bit words (any count below 2^48) folded to 16 bits. */
static inline uint16_t
mr_cksum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/* One's-complement sum of @len bytes at @buf, folded to 16 bits, not inverted. */
static inline uint16_t
mr_cksum_raw(const void *buf, size_t len, uint64_t sum)
{
	const uint8_t *p = buf;

#if defined(__SSE2__)
	/*
	 * 16 bytes a step as eight 16-bit words into 32-bit lanes, two
	 * accumulators for two chains: half the scalar loop's time on a 200-byte
	 * payload. Each block of 4,096 steps adds at most 2^30 to a lane.
	 */
	while (len >= 16) {
		const __m128i zero = _mm_setzero_si128();
		__m128i a = zero, b = zero;
		uint32_t lanes[4];
		size_t n = len / 16 > 4096 ? 4096 : len / 16;

		for (; n != 0; n--, p += 16, len -= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);

			a = _mm_add_epi32(a, _mm_unpacklo_epi16(v, zero));
			b = _mm_add_epi32(b, _mm_unpackhi_epi16(v, zero));
		}
		_mm_storeu_si128((__m128i *)(void *)lanes, _mm_add_epi32(a, b));
		sum += (uint64_t)lanes[0] + lanes[1] + lanes[2] + lanes[3];
	}
#endif
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		sum += (v & 0xffffffffu) + (v >> 32);
	}
	if (len >= 4) {
		uint32_t v;

		memcpy(&v, p, 4);
		sum += v;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t v;

		memcpy(&v, p, 2);
		sum += v;
		p += 2;
		len -= 2;
	}
	if (len != 0) {
		uint16_t v = 0;

		memcpy(&v, p, 1);       /* as rte_raw_cksum(): the byte at its own address */
		sum += v;
	}
	return mr_cksum_fold(sum);
}

/*
 * The sum of @len bytes as big-endian 16-bit words, in host order: what
 * adds to header fields held in registers (RFC 1071: the byte-swapped sum is
 * the sum of the byte-swapped words).
 */
static inline uint16_t
mr_cksum_be(const void *buf, size_t len)
{
	return rte_be_to_cpu_16(mr_cksum_raw(buf, len, 0));
}

/* The header checksum field of an option-less IPv4 header (its field 0). */
static inline uint16_t
mr_ipv4_hdr_cksum(const struct rte_ipv4_hdr *ip)
{
	return (uint16_t)~mr_cksum_raw(ip, sizeof(*ip), 0);
}

/* rte_ipv4_phdr_cksum() without TSO, on the 64-bit sum. */
static inline uint16_t
mr_ipv4_phdr_sum(const struct rte_ipv4_hdr *ip)
{
	struct {
		uint32_t src, dst;
		uint8_t zero, proto;
		uint16_t len;
	} psd = {
		ip->src_addr, ip->dst_addr, 0, ip->next_proto_id,
		rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->total_length) -
					    rte_ipv4_hdr_len(ip))),
	};

	return mr_cksum_raw(&psd, sizeof(psd), 0);
}

/* The UDP checksum field for @udp (header + payload, dgram_len bytes) after @ip. */
static inline uint16_t
mr_udp4_cksum(const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *udp)
{
	uint16_t c = mr_cksum_raw(udp, rte_be_to_cpu_16(udp->dgram_len), mr_ipv4_phdr_sum(ip));

	c = (uint16_t)~c;
	return c == 0 ? 0xffff : c;     /* 0 means "no checksum" in IPv4 UDP */
}

static inline uint16_t
mr_udp6_cksum(const struct rte_ipv6_hdr *ip, const struct rte_udp_hdr *udp)
{
	uint16_t c = mr_cksum_raw(udp, rte_be_to_cpu_16(udp->dgram_len), rte_ipv6_phdr_cksum(ip, 0));

	c = (uint16_t)~c;
	return c == 0 ? 0xffff : c;
}

#endif /* MR_DP_CKSUM_H */
