/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelay's software UDP checksum (cksum.h) against DPDK's, for every
 * payload length up to a jumbo frame's, odd and even, random bytes, both
 * address families, and the all-zero-sum corner that must read 0xffff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cksum.h"

#define MAX_PAYLOAD 9000u

static uint8_t buf[sizeof(struct rte_ipv6_hdr) + sizeof(struct rte_udp_hdr) + MAX_PAYLOAD];

static void
fill(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	srand(seed);
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rand();
}

static void
test_ipv4(void **state)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint32_t n;

	(void)state;
	for (n = 0; n <= MAX_PAYLOAD; n += (n < 1600 ? 1 : 97)) {
		fill(buf, sizeof(buf), n);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->next_proto_id = IPPROTO_UDP;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + n));
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + n));
		udp->dgram_cksum = 0;
		assert_int_equal(mr_udp4_cksum(ip, udp), rte_ipv4_udptcp_cksum(ip, udp));
		assert_int_equal(mr_ipv4_phdr_sum(ip), rte_ipv4_phdr_cksum(ip, 0));
		ip->hdr_checksum = 0;
		assert_int_equal(mr_ipv4_hdr_cksum(ip), rte_ipv4_cksum(ip));
	}
}

static void
test_ipv6(void **state)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)buf;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint32_t n;

	(void)state;
	for (n = 0; n <= MAX_PAYLOAD; n += (n < 1600 ? 1 : 97)) {
		fill(buf, sizeof(buf), n + 7);
		ip->proto = IPPROTO_UDP;
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + n));
		udp->dgram_len = ip->payload_len;
		udp->dgram_cksum = 0;
		assert_int_equal(mr_udp6_cksum(ip, udp), rte_ipv6_udptcp_cksum(ip, udp));
	}
}

/* Bytes whose sum is 0xffff: the field must be 0xffff, never 0 (no checksum). */
static void
test_zero_becomes_ffff(void **state)
{
	uint8_t b[8] = { 0xff, 0xff, 0, 0, 0, 0, 0, 0 };

	(void)state;
	assert_int_equal(mr_cksum_raw(b, sizeof(b), 0), 0xffff);
	assert_int_equal(mr_cksum_raw(b, 3, 0), rte_raw_cksum(b, 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_zero_becomes_ffff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
