/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mr_parse_frame(): every layer, valid and malformed. Frames are built
 * here byte by byte with the test's own checksum code, so an error in
 * parse.c's arithmetic cannot cancel out. Truncated frames are copied into
 * heap buffers of exactly their length, so reading past len trips ASan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parse.h"

#define REASON_UNSET 0xaa       /* ret_reason before the call */

static const uint8_t mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t ip4_src[4] = { 198, 18, 0, 10 };
static const uint8_t ip4_dst[4] = { 198, 18, 0, 1 };
static const uint8_t ip6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				     0, 0, 0, 0, 0, 0, 0, 0x10 };
static const uint8_t ip6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				     0, 0, 0, 0, 0, 0, 0, 0x01 };

/* Independent of proto.c/parse.c: byte at a time, RFC 1071. */
static uint16_t
t_cksum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint64_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet header with @ntags tags (TPIDs from @tpids, VIDs 100, 200, ...). */
static size_t
put_eth(uint8_t *f, const uint16_t *tpids, int ntags, uint16_t et)
{
	size_t off = 12;
	int i;

	memcpy(f, mac_dst, 6);
	memcpy(f + 6, mac_src, 6);
	for (i = 0; i < ntags; i++) {
		put16(f + off, tpids[i]);
		put16(f + off + 2, (uint16_t)(0x2000 | (100 * (i + 1))));  /* PCP 1 */
		off += 4;
	}
	put16(f + off, et);
	return off + 2;
}

/* IPv4 header (IHL 5) at @p with a correct checksum. */
static void
put_ip4(uint8_t *p, uint8_t proto, uint16_t tot_len)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[1] = 0xb8;                    /* DSCP EF */
	put16(p + 2, tot_len);
	put16(p + 4, 0x1234);
	put16(p + 6, 0x4000);           /* DF */
	p[8] = 61;
	p[9] = proto;
	memcpy(p + 12, ip4_src, 4);
	memcpy(p + 16, ip4_dst, 4);
	put16(p + 10, t_cksum(p, 20));
}

static void
fix_ip4_cksum(uint8_t *p)
{
	size_t ihl = (size_t)(p[0] & 0xf) * 4;

	put16(p + 10, 0);
	put16(p + 10, t_cksum(p, ihl));
}

static void
put_ip6(uint8_t *p, uint8_t nh, uint16_t plen)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[1] = 0x0a;                    /* flow label bits: ignored */
	put16(p + 4, plen);
	p[6] = nh;
	p[7] = 57;
	memcpy(p + 8, ip6_src, 16);
	memcpy(p + 24, ip6_dst, 16);
}

/* UDP 40000 -> 30000 with @plen payload bytes 0, 1, 2... (checksum 0: unchecked) */
static size_t
put_udp(uint8_t *p, uint16_t plen)
{
	uint16_t i;

	put16(p, 40000);
	put16(p + 2, 30000);
	put16(p + 4, (uint16_t)(8 + plen));
	put16(p + 6, 0);
	for (i = 0; i < plen; i++)
		p[8 + i] = (uint8_t)i;
	return 8u + plen;
}

static size_t
build_ip4_udp(uint8_t *f, const uint16_t *tpids, int ntags, uint16_t plen)
{
	size_t off = put_eth(f, tpids, ntags, 0x0800);

	put_ip4(f + off, 17, (uint16_t)(20 + 8 + plen));
	return off + 20 + put_udp(f + off + 20, plen);
}

static size_t
build_ip6_udp(uint8_t *f, const uint16_t *tpids, int ntags, uint16_t plen)
{
	size_t off = put_eth(f, tpids, ntags, 0x86dd);

	put_ip6(f + off, 17, (uint16_t)(8 + plen));
	return off + 40 + put_udp(f + off + 40, plen);
}

/* Parse from a heap copy of exactly @len bytes. */
static bool
parse_copy(const uint8_t *f, size_t len, unsigned int flags,
	   struct mr_pkt_info *pi, uint8_t *reason)
{
	uint8_t *buf = malloc(len ? len : 1);
	bool ok;

	assert_non_null(buf);
	memcpy(buf, f, len);
	*reason = REASON_UNSET;
	ok = mr_parse_frame(buf, (uint32_t)len, flags, pi, reason);
	free(buf);
	return ok;
}

static void
expect_ok(const uint8_t *f, size_t len, unsigned int flags, struct mr_pkt_info *pi)
{
	uint8_t reason;

	assert_true(parse_copy(f, len, flags, pi, &reason));
	/* ret_reason is only written on failure */
	assert_int_equal(reason, REASON_UNSET);
}

static void
expect_drop(const uint8_t *f, size_t len, unsigned int flags, uint8_t want)
{
	struct mr_pkt_info pi;
	uint8_t reason;

	assert_false(parse_copy(f, len, flags, &pi, &reason));
	assert_int_equal(reason, want);
}

static void
sa4(struct mr_sockaddr *sa, const uint8_t *ip, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->family = MR_AF_INET;
	memcpy(sa->ip, ip, 4);
	put16((uint8_t *)&sa->port_be, port);
}

static void
sa6(struct mr_sockaddr *sa, const uint8_t *ip, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->family = MR_AF_INET6;
	memcpy(sa->ip, ip, 16);
	put16((uint8_t *)&sa->port_be, port);
}

static void
assert_sa(const struct mr_sockaddr *got, const struct mr_sockaddr *want)
{
	assert_memory_equal(got, want, sizeof(*want));
}

/* ---- valid frames ---- */

static void
test_ip4_udp(void **state)
{
	uint8_t f[128];
	struct mr_pkt_info pi;
	struct mr_sockaddr want;
	size_t len = build_ip4_udp(f, NULL, 0, 12);

	(void)state;
	assert_int_equal(len, 14 + 20 + 8 + 12);
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_UDP);
	assert_int_equal(pi.l3_off, 14);
	assert_int_equal(pi.l4_off, 34);
	assert_int_equal(pi.payload_off, 42);
	assert_int_equal(pi.payload_len, 12);
	assert_int_equal(pi.l3_len, 40);
	assert_int_equal(pi.vlan, 0);
	assert_int_equal(pi.l4_proto, 17);
	assert_int_equal(pi.hop_limit, 61);
	assert_memory_equal(pi.dst_mac, mac_dst, 6);
	assert_memory_equal(pi.src_mac, mac_src, 6);
	sa4(&want, ip4_src, 40000);
	assert_sa(&pi.src, &want);
	sa4(&want, ip4_dst, 30000);
	assert_sa(&pi.dst, &want);
	/* network byte order, not host */
	assert_int_equal(((const uint8_t *)&pi.src.port_be)[0], 40000 >> 8);
}

static void
test_ip4_udp_eth_padding(void **state)
{
	uint8_t f[64] = { 0 };
	struct mr_pkt_info pi;
	size_t len = build_ip4_udp(f, NULL, 0, 4);

	(void)state;
	assert_int_equal(len, 46);
	memset(f + len, 0xee, 60 - len);        /* padding is not payload */
	expect_ok(f, 60, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_UDP);
	assert_int_equal(pi.l3_len, 32);
	assert_int_equal(pi.payload_len, 4);
}

static void
test_ip4_udp_cksum_flag(void **state)
{
	uint8_t f[128];
	struct mr_pkt_info pi;
	size_t len = build_ip4_udp(f, NULL, 0, 20);

	(void)state;
	expect_ok(f, len, MR_PARSE_IP_CKSUM_OK, &pi);
	assert_int_equal(pi.kind, MR_PKT_UDP);
	assert_int_equal(pi.payload_len, 20);
}

static void
test_ip6_udp(void **state)
{
	uint8_t f[128];
	struct mr_pkt_info pi;
	struct mr_sockaddr want;
	size_t len = build_ip6_udp(f, NULL, 0, 10);

	(void)state;
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_UDP);
	assert_int_equal(pi.l3_off, 14);
	assert_int_equal(pi.l4_off, 54);
	assert_int_equal(pi.payload_off, 62);
	assert_int_equal(pi.payload_len, 10);
	assert_int_equal(pi.l3_len, 58);
	assert_int_equal(pi.vlan, 0);
	assert_int_equal(pi.l4_proto, 17);
	assert_int_equal(pi.hop_limit, 57);
	assert_memory_equal(pi.dst_mac, mac_dst, 6);
	assert_memory_equal(pi.src_mac, mac_src, 6);
	sa6(&want, ip6_src, 40000);
	assert_sa(&pi.src, &want);
	sa6(&want, ip6_dst, 30000);
	assert_sa(&pi.dst, &want);
}

static void
test_ip6_udp_trailing(void **state)
{
	uint8_t f[128];
	struct mr_pkt_info pi;
	size_t len = build_ip6_udp(f, NULL, 0, 2);

	(void)state;
	memset(f + len, 0, 8);
	expect_ok(f, len + 8, 0, &pi);
	assert_int_equal(pi.l3_len, 50);
	assert_int_equal(pi.payload_len, 2);
}

static void
test_vlan(void **state)
{
	static const uint16_t tp[] = { 0x8100 };
	uint8_t f[128];
	struct mr_pkt_info pi;
	struct mr_sockaddr want;
	size_t len = build_ip4_udp(f, tp, 1, 8);

	(void)state;
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_UDP);
	assert_int_equal(pi.vlan, 100);
	assert_int_equal(pi.l3_off, 18);
	assert_int_equal(pi.l4_off, 38);
	assert_int_equal(pi.payload_off, 46);
	assert_int_equal(pi.payload_len, 8);
	sa4(&want, ip4_dst, 30000);
	assert_sa(&pi.dst, &want);

	len = build_ip6_udp(f, tp, 1, 8);
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_UDP);
	assert_int_equal(pi.vlan, 100);
	assert_int_equal(pi.l4_off, 58);
}

static void
test_qinq(void **state)
{
	static const uint16_t ad[] = { 0x88a8, 0x8100 };
	static const uint16_t qq[] = { 0x8100, 0x8100 };
	uint8_t f[128];
	struct mr_pkt_info pi;
	size_t len;

	(void)state;
	len = build_ip4_udp(f, ad, 2, 8);
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_UDP);
	assert_int_equal(pi.vlan, 100);         /* outermost */
	assert_int_equal(pi.l3_off, 22);
	assert_int_equal(pi.payload_off, 22 + 28);

	len = build_ip6_udp(f, qq, 2, 8);
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_UDP);
	assert_int_equal(pi.vlan, 100);
	assert_int_equal(pi.l3_off, 22);
	assert_int_equal(pi.l4_off, 62);
}

static void
test_three_tags_other_l2(void **state)
{
	static const uint16_t tp[] = { 0x88a8, 0x8100, 0x8100 };
	uint8_t f[128];
	struct mr_pkt_info pi;
	size_t len = build_ip4_udp(f, tp, 3, 8);

	(void)state;
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_OTHER_L2);
	assert_int_equal(pi.vlan, 100);
	assert_int_equal(pi.l3_off, 22);
}

static void
test_arp(void **state)
{
	static const uint16_t tp[] = { 0x8100 };
	uint8_t f[64] = { 0 };
	struct mr_pkt_info pi;
	struct mr_sockaddr zero;
	size_t off;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	off = put_eth(f, NULL, 0, 0x0806);
	expect_ok(f, 60, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_ARP);
	assert_int_equal(pi.l3_off, off);
	assert_int_equal(pi.l3_len, 60 - 14);
	assert_sa(&pi.src, &zero);
	assert_sa(&pi.dst, &zero);

	off = put_eth(f, tp, 1, 0x0806);
	expect_ok(f, 60, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_ARP);
	assert_int_equal(pi.vlan, 100);
	assert_int_equal(pi.l3_off, 18);
	assert_int_equal(off, 18);
}

static void
test_other_l2(void **state)
{
	uint8_t f[64] = { 0 };
	struct mr_pkt_info pi;

	(void)state;
	put_eth(f, NULL, 0, 0x88cc);    /* LLDP */
	expect_ok(f, 60, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_OTHER_L2);
	assert_int_equal(pi.l3_off, 14);
	/* a bare Ethernet header is enough to classify */
	expect_ok(f, 14, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_OTHER_L2);
	assert_int_equal(pi.l3_len, 0);
}

static void
test_icmp4(void **state)
{
	uint8_t f[128] = { 0 };
	struct mr_pkt_info pi;
	struct mr_sockaddr want;
	size_t off = put_eth(f, NULL, 0, 0x0800);

	(void)state;
	put_ip4(f + off, 1, 28);
	f[off + 20] = 8;
	expect_ok(f, 60, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_ICMP4);
	assert_int_equal(pi.l4_proto, 1);
	assert_int_equal(pi.l4_off, 34);
	assert_int_equal(pi.l3_len, 28);
	sa4(&want, ip4_src, 0);
	assert_sa(&pi.src, &want);
	sa4(&want, ip4_dst, 0);
	assert_sa(&pi.dst, &want);
}

static void
test_icmp6(void **state)
{
	uint8_t f[128] = { 0 };
	struct mr_pkt_info pi;
	struct mr_sockaddr want;
	size_t off = put_eth(f, NULL, 0, 0x86dd);

	(void)state;
	put_ip6(f + off, 58, 24);
	f[off + 40] = 135;
	expect_ok(f, off + 64, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_ICMP6);
	assert_int_equal(pi.l4_proto, 58);
	assert_int_equal(pi.l4_off, 54);
	sa6(&want, ip6_src, 0);
	assert_sa(&pi.src, &want);
}

static void
test_icmp_cross_family(void **state)
{
	uint8_t f[128] = { 0 };
	struct mr_pkt_info pi;
	size_t off = put_eth(f, NULL, 0, 0x0800);

	(void)state;
	put_ip4(f + off, 58, 28);       /* ICMPv6 over IPv4: not ours to answer */
	expect_ok(f, 60, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_OTHER_L4);
	assert_int_equal(pi.l4_proto, 58);

	off = put_eth(f, NULL, 0, 0x86dd);
	put_ip6(f + off, 1, 8);
	expect_ok(f, off + 48, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_OTHER_L4);
	assert_int_equal(pi.l4_proto, 1);
}

static void
test_tcp_ports(void **state)
{
	uint8_t f[128] = { 0 };
	struct mr_pkt_info pi;
	struct mr_sockaddr want;
	size_t off = put_eth(f, NULL, 0, 0x0800);

	(void)state;
	put_ip4(f + off, 6, 40);
	put16(f + off + 20, 5060);
	put16(f + off + 22, 33000);
	expect_ok(f, off + 40, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_OTHER_L4);
	assert_int_equal(pi.l4_proto, 6);
	assert_int_equal(pi.l4_off, 34);
	sa4(&want, ip4_src, 5060);
	assert_sa(&pi.src, &want);
	sa4(&want, ip4_dst, 33000);
	assert_sa(&pi.dst, &want);

	/* fewer than 4 bytes of TCP: ports stay 0, no read past l3 end */
	put_ip4(f + off, 6, 23);
	expect_ok(f, off + 23, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_OTHER_L4);
	assert_int_equal(pi.src.port_be, 0);
	assert_int_equal(pi.dst.port_be, 0);

	off = put_eth(f, NULL, 0, 0x86dd);
	put_ip6(f + off, 6, 20);
	put16(f + off + 40, 22);
	put16(f + off + 42, 50000);
	expect_ok(f, off + 60, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_OTHER_L4);
	sa6(&want, ip6_dst, 50000);
	assert_sa(&pi.dst, &want);
}

static void
test_other_l4(void **state)
{
	uint8_t f[128] = { 0 };
	struct mr_pkt_info pi;
	size_t off = put_eth(f, NULL, 0, 0x0800);

	(void)state;
	put_ip4(f + off, 47, 40);       /* GRE */
	expect_ok(f, off + 40, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_OTHER_L4);
	assert_int_equal(pi.l4_proto, 47);
	assert_int_equal(pi.src.port_be, 0);
	assert_int_equal(pi.dst.port_be, 0);
}

/* ---- malformed ---- */

/*
 * Every proper prefix of an IP frame without padding is malformed: below
 * 14 bytes for Ethernet, then for VLAN, then the IP length covers the rest.
 */
static void
check_prefixes(const uint8_t *f, size_t len)
{
	size_t n;

	for (n = 0; n < len; n++) {
		struct mr_pkt_info pi;
		uint8_t reason;

		assert_false(parse_copy(f, n, 0, &pi, &reason));
		assert_int_equal(reason, MR_DROP_MALFORMED);
		assert_false(parse_copy(f, n, MR_PARSE_IP_CKSUM_OK, &pi, &reason));
		assert_int_equal(reason, MR_DROP_MALFORMED);
	}
	{
		struct mr_pkt_info pi;

		expect_ok(f, len, 0, &pi);
	}
}

static void
test_truncated(void **state)
{
	static const uint16_t one[] = { 0x8100 };
	static const uint16_t two[] = { 0x88a8, 0x8100 };
	uint8_t f[256];
	size_t len;

	(void)state;
	check_prefixes(f, build_ip4_udp(f, NULL, 0, 16));
	check_prefixes(f, build_ip4_udp(f, one, 1, 16));
	check_prefixes(f, build_ip4_udp(f, two, 2, 0));
	check_prefixes(f, build_ip6_udp(f, NULL, 0, 16));
	check_prefixes(f, build_ip6_udp(f, one, 1, 3));
	check_prefixes(f, build_ip6_udp(f, two, 2, 16));

	/* ARP is classified from the ethertype alone: no crash at any length */
	memset(f, 0, sizeof(f));
	len = put_eth(f, two, 2, 0x0806) + 28;
	for (size_t n = 0; n <= len; n++) {
		struct mr_pkt_info pi;
		uint8_t reason;
		bool ok = parse_copy(f, n, 0, &pi, &reason);

		assert_int_equal(ok, n >= 22);
		if (ok)
			assert_int_equal(pi.kind, MR_PKT_ARP);
		else
			assert_int_equal(reason, MR_DROP_MALFORMED);
	}
}

static void
test_ip4_bad_version(void **state)
{
	uint8_t f[128];
	size_t len = build_ip4_udp(f, NULL, 0, 8);

	(void)state;
	f[14] = 0x65;
	fix_ip4_cksum(f + 14);
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
}

static void
test_ip4_bad_ihl(void **state)
{
	uint8_t f[128];
	size_t len = build_ip4_udp(f, NULL, 0, 8);

	(void)state;
	f[14] = 0x44;
	put16(f + 24, 0);
	put16(f + 24, t_cksum(f + 14, 20));
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
	expect_drop(f, len, MR_PARSE_IP_CKSUM_OK, MR_DROP_MALFORMED);
	f[14] = 0x40;
	expect_drop(f, len, MR_PARSE_IP_CKSUM_OK, MR_DROP_MALFORMED);
	/* IHL 15 = 60-byte header, longer than this whole packet */
	f[14] = 0x4f;
	expect_drop(f, len, MR_PARSE_IP_CKSUM_OK, MR_DROP_MALFORMED);
}

static void
test_ip4_options(void **state)
{
	uint8_t f[128] = { 0 };
	size_t off = put_eth(f, NULL, 0, 0x0800);

	(void)state;
	/* IHL 6: a 4-byte option (NOP NOP NOP EOL), then UDP */
	put_ip4(f + off, 17, 24 + 8);
	f[off] = 0x46;
	f[off + 20] = 1;
	f[off + 21] = 1;
	f[off + 22] = 1;
	f[off + 23] = 0;
	fix_ip4_cksum(f + off);
	put_udp(f + off + 24, 0);
	expect_drop(f, off + 32, 0, MR_DROP_IP_OPTIONS);
	expect_drop(f, off + 32, MR_PARSE_IP_CKSUM_OK, MR_DROP_IP_OPTIONS);

	/* IGMP with a router alert is for the host: not dropped, and the
	 * checksum covers the options. */
	f[off + 9] = 2;
	f[off + 20] = 0x94;
	f[off + 21] = 4;
	f[off + 22] = 0;
	f[off + 23] = 0;
	fix_ip4_cksum(f + off);
	{
		struct mr_pkt_info pi;

		expect_ok(f, off + 32, 0, &pi);
		assert_int_equal(pi.kind, MR_PKT_OTHER_L4);
		assert_int_equal(pi.l4_proto, 2);
		assert_int_equal(pi.l4_off, off + 24);
		assert_int_equal(pi.dst.family, MR_AF_INET);
	}
	f[off + 21] ^= 1;       /* option byte changed: checksum no longer matches */
	expect_drop(f, off + 32, 0, MR_DROP_BAD_CKSUM);
}

static void
test_ip4_total_length(void **state)
{
	uint8_t f[128];
	struct mr_pkt_info pi;
	size_t len = build_ip4_udp(f, NULL, 0, 8);

	(void)state;
	put16(f + 16, (uint16_t)(len - 14 + 1));        /* one past the frame */
	fix_ip4_cksum(f + 14);
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
	put16(f + 16, 19);                              /* shorter than the header */
	fix_ip4_cksum(f + 14);
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
	put16(f + 16, 0xffff);
	fix_ip4_cksum(f + 14);
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
	/* exactly the frame: fine */
	put16(f + 16, (uint16_t)(len - 14));
	fix_ip4_cksum(f + 14);
	expect_ok(f, len, 0, &pi);
}

static void
test_ip4_bad_cksum(void **state)
{
	uint8_t f[128];
	struct mr_pkt_info pi;
	size_t len = build_ip4_udp(f, NULL, 0, 8);

	(void)state;
	f[24] ^= 0x01;
	expect_drop(f, len, 0, MR_DROP_BAD_CKSUM);
	expect_ok(f, len, MR_PARSE_IP_CKSUM_OK, &pi);
	assert_int_equal(pi.kind, MR_PKT_UDP);
	f[24] ^= 0x01;
	/* a header field changed under a good checksum */
	f[22] = 62;
	expect_drop(f, len, 0, MR_DROP_BAD_CKSUM);
	expect_ok(f, len, MR_PARSE_IP_CKSUM_OK, &pi);
	assert_int_equal(pi.hop_limit, 62);
}

static void
test_ip4_fragments(void **state)
{
	uint8_t f[128];
	struct mr_pkt_info pi;
	size_t len = build_ip4_udp(f, NULL, 0, 8);

	(void)state;
	put16(f + 20, 0x2000);          /* MF, offset 0: first fragment */
	fix_ip4_cksum(f + 14);
	expect_drop(f, len, 0, MR_DROP_FRAGMENT);
	put16(f + 20, 0x0001);          /* offset 8 bytes, last fragment */
	fix_ip4_cksum(f + 14);
	expect_drop(f, len, 0, MR_DROP_FRAGMENT);
	put16(f + 20, 0x1fff);
	fix_ip4_cksum(f + 14);
	expect_drop(f, len, MR_PARSE_IP_CKSUM_OK, MR_DROP_FRAGMENT);
	put16(f + 20, 0x4000);          /* DF alone is not a fragment */
	fix_ip4_cksum(f + 14);
	expect_ok(f, len, 0, &pi);
	put16(f + 20, 0x0000);
	fix_ip4_cksum(f + 14);
	expect_ok(f, len, 0, &pi);
}

static void
test_udp_length(void **state)
{
	uint8_t f[128];
	struct mr_pkt_info pi;
	size_t len = build_ip4_udp(f, NULL, 0, 8);

	(void)state;
	put16(f + 38, 7);
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
	put16(f + 38, 0);
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
	put16(f + 38, 17);              /* one past the IP payload */
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
	put16(f + 38, 8);               /* shorter than the IP payload: legal */
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.payload_len, 0);
	assert_int_equal(pi.payload_off, 42);
	put16(f + 38, 16);
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.payload_len, 8);

	/* IP payload too short for a UDP header, though the frame is not */
	put16(f + 16, 20 + 7);
	fix_ip4_cksum(f + 14);
	expect_drop(f, len, 0, MR_DROP_MALFORMED);

	len = build_ip6_udp(f, NULL, 0, 8);
	put16(f + 58, 17);
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
	put16(f + 58, 4);
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
}

static void
test_ip6_bad(void **state)
{
	uint8_t f[128];
	size_t len = build_ip6_udp(f, NULL, 0, 8);

	(void)state;
	f[14] = 0x40;
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
	f[14] = 0x60;
	put16(f + 18, 17);              /* payload length one past the frame */
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
	put16(f + 18, 0xffff);
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
	put16(f + 18, 7);               /* UDP header cut by payload length */
	expect_drop(f, len, 0, MR_DROP_MALFORMED);
	/* IPv4 ethertype with an IPv6 header */
	put16(f + 18, 16);
	put16(f + 12, 0x0800);
	expect_drop(f, len, MR_PARSE_IP_CKSUM_OK, MR_DROP_MALFORMED);
}

/* IPv6 + extension headers @nhs[0..n) (each 8 bytes, or 16 for routing) + UDP */
static size_t
build_ip6_ext(uint8_t *f, const uint8_t *nhs, int n, uint8_t last)
{
	size_t off = put_eth(f, NULL, 0, 0x86dd), p = off + 40;
	int i;

	for (i = 0; i < n; i++) {
		size_t elen = nhs[i] == 43 ? 16 : 8;

		memset(f + p, 0, elen);
		f[p] = i + 1 < n ? nhs[i + 1] : last;
		f[p + 1] = (uint8_t)(elen / 8 - 1);
		if (nhs[i] == 60 || nhs[i] == 0) {
			f[p + 2] = 1;   /* PadN covering the rest */
			f[p + 3] = 4;
		}
		p += elen;
	}
	p += put_udp(f + p, 4);
	put_ip6(f + off, n ? nhs[0] : last, (uint16_t)(p - off - 40));
	return p;
}

static void
test_ip6_ext_walk(void **state)
{
	static const uint8_t chain[] = { 0, 43, 60 };
	static const uint8_t eight[] = { 60, 60, 60, 60, 60, 60, 60, 60, 60 };
	static const uint8_t hbh_late[] = { 60, 0 };
	static const uint8_t frag_late[] = { 0, 44 };
	uint8_t f[256];
	struct mr_pkt_info pi;
	struct mr_sockaddr want;
	size_t len;

	(void)state;
	len = build_ip6_ext(f, chain, 3, 17);
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_UDP);
	assert_int_equal(pi.l4_proto, 17);
	assert_int_equal(pi.l4_off, 14 + 40 + 8 + 16 + 8);
	assert_int_equal(pi.payload_off, pi.l4_off + 8);
	assert_int_equal(pi.payload_len, 4);
	sa6(&want, ip6_dst, 30000);
	assert_sa(&pi.dst, &want);
	check_prefixes(f, len);

	/* eight extension headers: the bound, still walked */
	len = build_ip6_ext(f, eight, 8, 17);
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_UDP);
	assert_int_equal(pi.l4_off, 14 + 40 + 64);
	/* nine: refused */
	len = build_ip6_ext(f, eight, 9, 17);
	expect_drop(f, len, 0, MR_DROP_MALFORMED);

	/* hop-by-hop only as the first header (RFC 8200 4.1) */
	len = build_ip6_ext(f, hbh_late, 2, 17);
	expect_drop(f, len, 0, MR_DROP_MALFORMED);

	/* extension header length beyond the payload */
	len = build_ip6_ext(f, chain, 1, 17);
	f[14 + 40 + 1] = 2;
	expect_drop(f, len, 0, MR_DROP_MALFORMED);

	/* chain ending in "no next header" */
	len = build_ip6_ext(f, chain, 1, 59);
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_OTHER_L4);
	assert_int_equal(pi.l4_proto, 59);
	assert_int_equal(pi.l4_off, 14 + 40 + 8);

	/* ICMPv6 behind a destination options header is still ICMPv6 */
	len = build_ip6_ext(f, eight, 1, 58);
	expect_ok(f, len, 0, &pi);
	assert_int_equal(pi.kind, MR_PKT_ICMP6);

	/* fragment header, first or after another header */
	len = build_ip6_ext(f, frag_late + 1, 1, 17);
	expect_drop(f, len, 0, MR_DROP_FRAGMENT);
	len = build_ip6_ext(f, frag_late, 2, 17);
	expect_drop(f, len, 0, MR_DROP_FRAGMENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip4_udp),
		cmocka_unit_test(test_ip4_udp_eth_padding),
		cmocka_unit_test(test_ip4_udp_cksum_flag),
		cmocka_unit_test(test_ip6_udp),
		cmocka_unit_test(test_ip6_udp_trailing),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_qinq),
		cmocka_unit_test(test_three_tags_other_l2),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_other_l2),
		cmocka_unit_test(test_icmp4),
		cmocka_unit_test(test_icmp6),
		cmocka_unit_test(test_icmp_cross_family),
		cmocka_unit_test(test_tcp_ports),
		cmocka_unit_test(test_other_l4),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_ip4_bad_version),
		cmocka_unit_test(test_ip4_bad_ihl),
		cmocka_unit_test(test_ip4_options),
		cmocka_unit_test(test_ip4_total_length),
		cmocka_unit_test(test_ip4_bad_cksum),
		cmocka_unit_test(test_ip4_fragments),
		cmocka_unit_test(test_udp_length),
		cmocka_unit_test(test_ip6_bad),
		cmocka_unit_test(test_ip6_ext_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
