/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mr_egress_rewrite() against DPDK's own header checksums: the relay sums
 * its checksums from the values it writes (egress.c), so every field that
 * goes into them is varied here, both address families, with and without
 * a VLAN, every payload length up to a full frame's, odd and even, and
 * the offload case (pseudo-header sum only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp.h"

#define ROOM 2048u
#define HEADROOM 128u
#define IN_HDR 62u      /* a received frame's headers: VLAN, IPv4 with options */

static uint8_t buf[ROOM];
static struct rte_mbuf mb;

/* A one-segment mbuf over buf holding @len payload bytes after IN_HDR of old headers. */
static struct rte_mbuf *
frame(uint16_t len, unsigned int seed)
{
	struct rte_mbuf *m = &mb;
	unsigned int i;

	srand(seed);
	for (i = 0; i < ROOM; i++)
		buf[i] = (uint8_t)rand();
	memset(m, 0, sizeof(*m));
	m->buf_addr = buf;
	m->buf_len = ROOM;
	m->data_off = HEADROOM;
	m->data_len = (uint16_t)(IN_HDR + len + 4);    /* and some trailer padding */
	m->pkt_len = m->data_len;
	m->nb_segs = 1;
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG;    /* a stale offload flag: must go */
	return m;
}

static void
addr(struct mr_sockaddr *a, bool v4)
{
	unsigned int i;

	memset(a, 0, sizeof(*a));
	a->family = v4 ? MR_AF_INET : MR_AF_INET6;
	for (i = 0; i < (v4 ? 4u : 16u); i++)
		a->ip[i] = (uint8_t)rand();
	a->port_be = (uint16_t)rand();
}

static void
check(bool v4, uint16_t vlan, bool offload, uint16_t len, unsigned int seed)
{
	struct mr_port port = { .vlan = vlan, .tx_ip_cksum = offload, .tx_udp_cksum = offload };
	struct rte_ether_addr dmac = { { 2, 0, 0, 0, 0, 9 } };
	uint8_t payload[ROOM];
	struct rte_mbuf *m = frame(len, seed);
	struct mr_sockaddr src, dst;
	struct rte_udp_hdr *udp;
	uint16_t l2 = vlan ? 18 : 14, l3 = v4 ? 20 : 40, got;
	uint8_t dscp = (uint8_t)(rand() & 0x3f);
	uint8_t *p;

	addr(&src, v4);
	addr(&dst, v4);
	port.mac.addr_bytes[0] = 2;
	memcpy(payload, buf + HEADROOM + IN_HDR, len);
	assert_int_equal(mr_egress_rewrite(m, IN_HDR, len, &port, &dmac, &src, &dst, dscp), 0);

	p = rte_pktmbuf_mtod(m, uint8_t *);
	assert_int_equal(m->pkt_len, l2 + l3 + 8u + len);
	assert_int_equal(m->data_len, m->pkt_len);
	assert_memory_equal(p + l2 + l3 + 8, payload, len);
	assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG, 0);
	assert_memory_equal(p, dmac.addr_bytes, 6);
	udp = (struct rte_udp_hdr *)(p + l2 + l3);
	assert_int_equal(udp->src_port, src.port_be);
	assert_int_equal(udp->dst_port, dst.port_be);
	assert_int_equal(rte_be_to_cpu_16(udp->dgram_len), 8u + len);
	if (vlan != 0)
		assert_int_equal(rte_be_to_cpu_16(*(uint16_t *)(p + 14)), vlan);

	if (v4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + l2);
		uint16_t want_ip = 0, want_udp, field;

		assert_int_equal(ip->type_of_service, dscp << 2);
		assert_memory_equal(&ip->src_addr, src.ip, 4);
		assert_memory_equal(&ip->dst_addr, dst.ip, 4);
		assert_int_equal(rte_be_to_cpu_16(ip->total_length), 28u + len);
		field = ip->hdr_checksum;
		ip->hdr_checksum = 0;
		if (!offload)
			want_ip = rte_ipv4_cksum(ip);
		assert_int_equal(field, want_ip);
		ip->hdr_checksum = field;
		got = udp->dgram_cksum;
		if (offload) {
			assert_true(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
			want_udp = rte_ipv4_phdr_cksum(ip, m->ol_flags);
		} else {
			udp->dgram_cksum = 0;
			want_udp = rte_ipv4_udptcp_cksum(ip, udp);
		}
		assert_int_equal(got, want_udp);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(p + l2);
		uint16_t want_udp;

		assert_int_equal(rte_be_to_cpu_32(ip->vtc_flow), 6u << 28 | (uint32_t)dscp << 22);
		assert_memory_equal(ip->src_addr, src.ip, 16);
		assert_memory_equal(ip->dst_addr, dst.ip, 16);
		got = udp->dgram_cksum;
		if (offload) {
			want_udp = rte_ipv6_phdr_cksum(ip, m->ol_flags);
		} else {
			udp->dgram_cksum = 0;
			want_udp = rte_ipv6_udptcp_cksum(ip, udp);
		}
		assert_int_equal(got, want_udp);
	}
}

static void
test_every_length(void **state)
{
	unsigned int f, len, seed = 1;

	(void)state;
	for (f = 0; f < 8; f++)
		for (len = 0; len <= 1500; len++)
			check(f & 1, (f & 2) ? 0x123 : 0, (f & 4) != 0, (uint16_t)len, seed++);
}

/*
 * A payload that makes the sum 0xffff must give 0xffff, not 0 ("no
 * checksum"): with a zero payload word the field is ~S, so a payload word
 * of ~S brings the sum to S + ~S.
 */
static void
test_zero_sum_is_ffff(void **state)
{
	struct rte_ether_addr dmac = { { 2 } };
	struct mr_port port = { 0 };
	struct mr_sockaddr src, dst;
	struct rte_udp_hdr *udp;
	struct rte_mbuf *m;
	unsigned int v4;
	uint16_t c;

	(void)state;
	for (v4 = 0; v4 < 2; v4++) {
		addr(&src, v4);
		addr(&dst, v4);
		m = frame(2, 11);
		memset(buf + HEADROOM + IN_HDR, 0, 2);
		assert_int_equal(mr_egress_rewrite(m, IN_HDR, 2, &port, &dmac, &src, &dst, 0), 0);
		udp = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, v4 ? 34 : 54);
		c = udp->dgram_cksum;
		m = frame(2, 11);
		memcpy(buf + HEADROOM + IN_HDR, &c, 2);
		assert_int_equal(mr_egress_rewrite(m, IN_HDR, 2, &port, &dmac, &src, &dst, 0), 0);
		assert_int_equal(udp->dgram_cksum, 0xffff);
		udp->dgram_cksum = 0;
		assert_int_equal(v4 ? rte_ipv4_udptcp_cksum(rte_pktmbuf_mtod_offset(m, void *, 14), udp) :
				      rte_ipv6_udptcp_cksum(rte_pktmbuf_mtod_offset(m, void *, 14), udp),
				 0xffff);
	}
}

static void
test_no_room(void **state)
{
	struct rte_mbuf *m = frame(100, 7);
	struct mr_port port = { .vlan = 5 };
	struct rte_ether_addr dmac = { { 2 } };
	struct mr_sockaddr src, dst;

	(void)state;
	addr(&src, false);
	addr(&dst, false);
	m->data_off = 0;        /* no headroom left for 62 bytes of IPv6 headers */
	m->buf_len = (uint16_t)(IN_HDR + 104);
	assert_int_equal(mr_egress_rewrite(m, 10, 100, &port, &dmac, &src, &dst, 0), -ENOSPC);
	m = frame(100, 8);
	assert_int_equal(mr_egress_rewrite(m, (uint16_t)(m->data_len + 1), 1, &port, &dmac, &src,
					   &dst, 0), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_length),
		cmocka_unit_test(test_zero_sum_is_ffff),
		cmocka_unit_test(test_no_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
