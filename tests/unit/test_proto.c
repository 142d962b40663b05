/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP, ICMP echo and NDP responders (proto.c). Expected replies are built
 * here field by field and compared whole, and checksums are checked with
 * the test's own code, so a wrong byte anywhere fails. Every refused frame
 * is also checked to be left untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parse.h"
#include "proto.h"

static const uint8_t our_mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };
static const uint8_t peer_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t our_ip4[4] = { 198, 18, 0, 1 };
static const uint8_t our_ip4b[4] = { 198, 18, 0, 2 };
static const uint8_t peer_ip4[4] = { 198, 18, 0, 77 };
static const uint8_t other_ip4[4] = { 198, 18, 0, 99 };
static const uint8_t our_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				     0, 0, 0, 0, 0x00, 0xab, 0xcd, 0x01 };
static const uint8_t peer_ip6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0,
				      0, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55 };
static const uint8_t other_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				       0, 0, 0, 0, 0, 0x12, 0x34, 0x56 };
static const uint8_t all_nodes[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0,
				       0, 0, 0, 0, 0, 0, 0, 1 };

/* ---- helpers, independent of proto.c ---- */

static uint64_t
t_sum(const uint8_t *p, size_t n, uint64_t s)
{
	size_t i;

	for (i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint64_t)p[i] << 8;
	return s;
}

static uint16_t
t_fin(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t
t_cksum(const uint8_t *p, size_t n)
{
	return t_fin(t_sum(p, n, 0));
}

/* ICMPv6 checksum of the message after the IPv6 header at @ip6 (field as is). */
static uint16_t
t_cksum6(const uint8_t *ip6)
{
	uint16_t plen = (uint16_t)(ip6[4] << 8 | ip6[5]);
	uint64_t s = t_sum(ip6 + 8, 32, 0);

	s += plen;
	s += 58;
	return t_fin(t_sum(ip6 + 40, plen, s));
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
sa_set(struct mr_sockaddr *sa, uint8_t family, const uint8_t *ip)
{
	memset(sa, 0, sizeof(*sa));
	sa->family = family;
	memcpy(sa->ip, ip, family == MR_AF_INET ? 4 : 16);
}

/* is_local stub: our_ip4, our_ip4b, our_ip6; counts calls. */
struct local_ctx {
	int calls;
	bool none;      /* nothing is local */
};

static bool
is_local(void *ctx, const struct mr_sockaddr *ip)
{
	struct local_ctx *c = ctx;
	struct mr_sockaddr a;

	c->calls++;
	if (c->none)
		return false;
	/* the contract: port ignored, family set, unused bytes zero */
	assert_true(ip->family == MR_AF_INET || ip->family == MR_AF_INET6);
	sa_set(&a, MR_AF_INET, our_ip4);
	if (mr_sockaddr_ip_eq(ip, &a))
		return true;
	sa_set(&a, MR_AF_INET, our_ip4b);
	if (mr_sockaddr_ip_eq(ip, &a))
		return true;
	sa_set(&a, MR_AF_INET6, our_ip6);
	return mr_sockaddr_ip_eq(ip, &a);
}

static void
put_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t et)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, et);
}

/* ---- ARP ---- */

static size_t
build_arp(uint8_t *f, uint16_t op, const uint8_t *sha, const uint8_t *spa,
	  const uint8_t *tha, const uint8_t *tpa)
{
	memset(f, 0, 60);
	put_eth(f, op == 1 ? bcast_mac : our_mac, sha, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, op);
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, spa, 4);
	memcpy(f + 32, tha, 6);
	memcpy(f + 38, tpa, 4);
	return 42;
}

static const uint8_t zero6[6];
static const uint8_t zero4[4];

static void
assert_learnt4(const struct mr_proto_result *res, const uint8_t *ip, const uint8_t *mac)
{
	struct mr_sockaddr want;

	sa_set(&want, MR_AF_INET, ip);
	assert_true(res->learnt);
	assert_memory_equal(&res->learnt_ip, &want, sizeof(want));
	assert_memory_equal(res->learnt_mac, mac, 6);
}

static void
assert_learnt6(const struct mr_proto_result *res, const uint8_t *ip, const uint8_t *mac)
{
	struct mr_sockaddr want;

	sa_set(&want, MR_AF_INET6, ip);
	assert_true(res->learnt);
	assert_memory_equal(&res->learnt_ip, &want, sizeof(want));
	assert_memory_equal(res->learnt_mac, mac, 6);
}

static void
test_arp_request_for_us(void **state)
{
	uint8_t f[64], want[64];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;

	(void)state;
	build_arp(f, 1, peer_mac, peer_ip4, zero6, our_ip4);
	memset(f + 42, 0x5a, 18);       /* requester's padding must not leak */
	assert_true(mr_proto_arp(f, 60, our_mac, is_local, &lc, &res));
	assert_true(res.reply);
	assert_int_equal(res.reply_len, 60);

	memset(want, 0, sizeof(want));
	memcpy(want, peer_mac, 6);              /* to the requester */
	memcpy(want + 6, our_mac, 6);
	want[12] = 0x08; want[13] = 0x06;
	want[14] = 0x00; want[15] = 0x01;       /* Ethernet */
	want[16] = 0x08; want[17] = 0x00;       /* IPv4 */
	want[18] = 6; want[19] = 4;
	want[20] = 0x00; want[21] = 0x02;       /* reply */
	memcpy(want + 22, our_mac, 6);
	memcpy(want + 28, our_ip4, 4);
	memcpy(want + 32, peer_mac, 6);
	memcpy(want + 38, peer_ip4, 4);
	assert_memory_equal(f, want, 60);
	assert_learnt4(&res, peer_ip4, peer_mac);

	/* without room for padding the reply keeps its natural length */
	build_arp(f, 1, peer_mac, peer_ip4, zero6, our_ip4b);
	assert_true(mr_proto_arp(f, 42, our_mac, is_local, &lc, &res));
	assert_true(res.reply);
	assert_int_equal(res.reply_len, 42);
	assert_memory_equal(f + 28, our_ip4b, 4);
	assert_memory_equal(f + 22, our_mac, 6);
}

static void
test_arp_other_ip(void **state)
{
	uint8_t f[64], orig[64];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;

	(void)state;
	build_arp(f, 1, peer_mac, peer_ip4, zero6, other_ip4);
	memcpy(orig, f, 60);
	assert_true(mr_proto_arp(f, 60, our_mac, is_local, &lc, &res));
	assert_false(res.reply);
	assert_int_equal(res.reply_len, 0);
	assert_learnt4(&res, peer_ip4, peer_mac);
	assert_memory_equal(f, orig, 60);
}

static void
test_arp_reply_learnt(void **state)
{
	uint8_t f[64], orig[64];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;

	(void)state;
	build_arp(f, 2, peer_mac, peer_ip4, our_mac, our_ip4);
	memcpy(orig, f, 60);
	assert_true(mr_proto_arp(f, 60, our_mac, is_local, &lc, &res));
	assert_false(res.reply);
	assert_learnt4(&res, peer_ip4, peer_mac);
	assert_memory_equal(f, orig, 60);
}

static void
test_arp_gratuitous(void **state)
{
	uint8_t f[64], orig[64];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;

	(void)state;
	/* announcement as a request and as a reply: learnt, never answered */
	build_arp(f, 1, peer_mac, peer_ip4, zero6, peer_ip4);
	memcpy(orig, f, 60);
	assert_true(mr_proto_arp(f, 60, our_mac, is_local, &lc, &res));
	assert_false(res.reply);
	assert_learnt4(&res, peer_ip4, peer_mac);
	assert_memory_equal(f, orig, 60);

	build_arp(f, 2, peer_mac, peer_ip4, bcast_mac, peer_ip4);
	assert_true(mr_proto_arp(f, 60, our_mac, is_local, &lc, &res));
	assert_false(res.reply);
	assert_learnt4(&res, peer_ip4, peer_mac);

	/* someone announcing our address: a conflict, neither answered nor learnt */
	build_arp(f, 1, peer_mac, our_ip4, zero6, our_ip4);
	memcpy(orig, f, 60);
	assert_true(mr_proto_arp(f, 60, our_mac, is_local, &lc, &res));
	assert_false(res.reply);
	assert_false(res.learnt);
	assert_memory_equal(f, orig, 60);
}

static void
test_arp_probe(void **state)
{
	uint8_t f[64];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;

	(void)state;
	/* RFC 5227 probe for our address: defend, learn nothing */
	build_arp(f, 1, peer_mac, zero4, zero6, our_ip4);
	assert_true(mr_proto_arp(f, 60, our_mac, is_local, &lc, &res));
	assert_true(res.reply);
	assert_false(res.learnt);
	assert_memory_equal(f, peer_mac, 6);
	assert_int_equal(get16(f + 20), 2);
	assert_memory_equal(f + 22, our_mac, 6);
	assert_memory_equal(f + 28, our_ip4, 4);
	assert_memory_equal(f + 32, peer_mac, 6);
	assert_memory_equal(f + 38, zero4, 4);
}

static void
arp_refused(uint8_t *f, uint16_t len)
{
	uint8_t orig[64];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;

	memcpy(orig, f, 60);
	memset(&res, 0x5a, sizeof(res));
	assert_false(mr_proto_arp(f, len, our_mac, is_local, &lc, &res));
	assert_false(res.reply);
	assert_false(res.learnt);
	assert_memory_equal(f, orig, 60);
}

static void
test_arp_malformed(void **state)
{
	static const uint8_t mcast_mac[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t mcast_ip[4] = { 224, 0, 0, 1 };
	uint8_t f[64];
	uint16_t n;

	(void)state;
	for (n = 0; n < 42; n++) {
		uint8_t *b = malloc(n ? n : 1);
		struct local_ctx lc = { 0 };
		struct mr_proto_result res;

		assert_non_null(b);
		build_arp(f, 1, peer_mac, peer_ip4, zero6, our_ip4);
		memcpy(b, f, n);
		assert_false(mr_proto_arp(b, n, our_mac, is_local, &lc, &res));
		free(b);
	}
	build_arp(f, 1, peer_mac, peer_ip4, zero6, our_ip4);
	put16(f + 12, 0x0800);
	arp_refused(f, 60);
	build_arp(f, 1, peer_mac, peer_ip4, zero6, our_ip4);
	put16(f + 14, 6);               /* IEEE 802 hardware */
	arp_refused(f, 60);
	build_arp(f, 1, peer_mac, peer_ip4, zero6, our_ip4);
	put16(f + 16, 0x86dd);
	arp_refused(f, 60);
	build_arp(f, 1, peer_mac, peer_ip4, zero6, our_ip4);
	f[18] = 8;
	arp_refused(f, 60);
	build_arp(f, 1, peer_mac, peer_ip4, zero6, our_ip4);
	f[19] = 16;
	arp_refused(f, 60);
	build_arp(f, 3, peer_mac, peer_ip4, zero6, our_ip4);    /* RARP request */
	arp_refused(f, 60);
	build_arp(f, 0, peer_mac, peer_ip4, zero6, our_ip4);
	arp_refused(f, 60);
	build_arp(f, 1, mcast_mac, peer_ip4, zero6, our_ip4);
	arp_refused(f, 60);
	build_arp(f, 1, zero6, peer_ip4, zero6, our_ip4);
	arp_refused(f, 60);
	build_arp(f, 1, peer_mac, mcast_ip, zero6, our_ip4);
	arp_refused(f, 60);
	build_arp(f, 1, peer_mac, peer_ip4, zero6, our_ip4);
	memcpy(f + 6, bcast_mac, 6);    /* Ethernet source broadcast */
	arp_refused(f, 60);
}

/* ---- ICMPv4 ---- */

static size_t
build_icmp4(uint8_t *f, uint8_t type, const uint8_t *src, const uint8_t *dst,
	    uint16_t data_len)
{
	uint8_t *ip = f + 14, *icmp = f + 34;
	uint16_t i;

	put_eth(f, our_mac, peer_mac, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + data_len));
	put16(ip + 4, 0xbeef);
	put16(ip + 6, 0x4000);
	ip[8] = 55;
	ip[9] = 1;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, t_cksum(ip, 20));
	icmp[0] = type;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, 0x0457);        /* identifier */
	put16(icmp + 6, 0x0009);        /* sequence */
	for (i = 0; i < data_len; i++)
		icmp[8 + i] = (uint8_t)(i * 7 + 3);
	put16(icmp + 2, t_cksum(icmp, 8u + data_len));
	return 14u + 20 + 8 + data_len;
}

static void
test_icmp4_echo(void **state)
{
	uint8_t f[256], want[256];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;
	size_t len, wlen;

	(void)state;
	len = build_icmp4(f, 8, peer_ip4, our_ip4, 56);
	assert_true(mr_proto_icmp4(f, (uint16_t)len, our_mac, is_local, &lc, &res));
	assert_true(res.reply);
	assert_false(res.learnt);
	assert_int_equal(res.reply_len, len);

	/* expected: swapped addresses, TTL 64, type 0, everything else kept */
	wlen = build_icmp4(want, 0, our_ip4, peer_ip4, 56);
	assert_int_equal(wlen, len);
	memcpy(want, peer_mac, 6);
	memcpy(want + 6, our_mac, 6);
	want[14 + 8] = 64;
	put16(want + 24, 0);
	put16(want + 24, t_cksum(want + 14, 20));
	assert_memory_equal(f, want, len);
	/* and both checksums verify independently */
	assert_int_equal(t_cksum(f + 14, 20), 0);
	assert_int_equal(t_cksum(f + 34, len - 34), 0);
}

static void
test_icmp4_echo_odd_padded(void **state)
{
	uint8_t f[128];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;
	size_t len;

	(void)state;
	/* odd payload length, padded frame: checksum over the odd tail */
	len = build_icmp4(f, 8, peer_ip4, our_ip4b, 3);
	assert_int_equal(len, 45);
	memset(f + len, 0x77, 60 - len);
	assert_true(mr_proto_icmp4(f, 60, our_mac, is_local, &lc, &res));
	assert_true(res.reply);
	assert_int_equal(res.reply_len, 60);
	assert_int_equal(t_cksum(f + 14, 20), 0);
	assert_int_equal(t_cksum(f + 34, 11), 0);
	assert_int_equal(f[34], 0);
	assert_memory_equal(f + 26, our_ip4b, 4);
	assert_memory_equal(f + 30, peer_ip4, 4);
	for (size_t i = len; i < 60; i++)
		assert_int_equal(f[i], 0);
}

static void
icmp4_refused(uint8_t *f, size_t len)
{
	uint8_t orig[256];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;

	memcpy(orig, f, len);
	assert_false(mr_proto_icmp4(f, (uint16_t)len, our_mac, is_local, &lc, &res));
	assert_false(res.reply);
	assert_memory_equal(f, orig, len);
}

static void
test_icmp4_refused(void **state)
{
	static const uint8_t mcast[4] = { 224, 0, 0, 5 };
	uint8_t f[256];
	size_t len, n;

	(void)state;
	len = build_icmp4(f, 8, peer_ip4, our_ip4, 16);
	f[34 + 8] ^= 0xff;              /* data changed under the checksum */
	icmp4_refused(f, len);

	len = build_icmp4(f, 8, peer_ip4, our_ip4, 16);
	f[14 + 8] = 1;                  /* TTL changed under the IP checksum */
	icmp4_refused(f, len);

	len = build_icmp4(f, 8, peer_ip4, other_ip4, 16);
	icmp4_refused(f, len);
	len = build_icmp4(f, 0, peer_ip4, our_ip4, 16);         /* echo reply */
	icmp4_refused(f, len);
	len = build_icmp4(f, 13, peer_ip4, our_ip4, 16);        /* timestamp */
	icmp4_refused(f, len);
	len = build_icmp4(f, 8, mcast, our_ip4, 16);
	icmp4_refused(f, len);
	len = build_icmp4(f, 8, zero4, our_ip4, 16);
	icmp4_refused(f, len);

	len = build_icmp4(f, 8, peer_ip4, our_ip4, 16);
	put16(f + 20, 0x2000);          /* MF */
	put16(f + 24, 0);
	put16(f + 24, t_cksum(f + 14, 20));
	icmp4_refused(f, len);

	len = build_icmp4(f, 8, peer_ip4, our_ip4, 16);
	put16(f + 16, (uint16_t)(len - 14 + 1));
	put16(f + 24, 0);
	put16(f + 24, t_cksum(f + 14, 20));
	icmp4_refused(f, len);

	len = build_icmp4(f, 8, peer_ip4, our_ip4, 16);
	f[14] = 0x46;                   /* options */
	put16(f + 24, 0);
	put16(f + 24, t_cksum(f + 14, 24));
	icmp4_refused(f, len);

	/* every truncation, in exact-size heap buffers */
	len = build_icmp4(f, 8, peer_ip4, our_ip4, 16);
	for (n = 0; n < len; n++) {
		uint8_t *b = malloc(n ? n : 1);
		struct local_ctx lc = { 0 };
		struct mr_proto_result res;

		assert_non_null(b);
		memcpy(b, f, n);
		assert_false(mr_proto_icmp4(b, (uint16_t)n, our_mac, is_local, &lc, &res));
		free(b);
	}
}

/* ---- ICMPv6 ---- */

static void
solicited_node(uint8_t *out, const uint8_t *ip)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff };

	memcpy(out, pfx, 13);
	memcpy(out + 13, ip + 13, 3);
}

/* IPv6 header + ICMPv6 body @msg (checksum filled in) */
static size_t
build_icmp6(uint8_t *f, const uint8_t *l2dst, const uint8_t *src,
	    const uint8_t *dst, uint8_t hlim, const uint8_t *msg, uint16_t mlen)
{
	uint8_t *ip = f + 14;

	put_eth(f, l2dst, peer_mac, 0x86dd);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, mlen);
	ip[6] = 58;
	ip[7] = hlim;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	memcpy(ip + 40, msg, mlen);
	put16(ip + 42, 0);
	put16(ip + 42, t_cksum6(ip));
	return 54u + mlen;
}

/* NS for @target, with a source link-layer option if @slla */
static size_t
build_ns(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint8_t hlim,
	 const uint8_t *target, const uint8_t *slla)
{
	uint8_t msg[32] = { 135, 0 };
	static const uint8_t l2[6] = { 0x33, 0x33, 0xff, 0xcd, 0x01, 0x00 };

	memcpy(msg + 8, target, 16);
	if (slla != NULL) {
		msg[24] = 1;
		msg[25] = 1;
		memcpy(msg + 26, slla, 6);
	}
	return build_icmp6(f, l2, src, dst, hlim, msg, slla ? 32 : 24);
}

static size_t
build_na(uint8_t *f, const uint8_t *dst, uint8_t flags, const uint8_t *target,
	 const uint8_t *tlla)
{
	uint8_t msg[32] = { 136, 0, 0, 0, flags };

	memcpy(msg + 8, target, 16);
	if (tlla != NULL) {
		msg[24] = 2;
		msg[25] = 1;
		memcpy(msg + 26, tlla, 6);
	}
	return build_icmp6(f, our_mac, peer_ip6, dst, 255, msg, tlla ? 32 : 24);
}

/* The NA we must send: every byte, checksum by the test's own code. */
static void
want_na(uint8_t *w, const uint8_t *l2dst, const uint8_t *dst, uint8_t flags)
{
	uint8_t msg[32] = { 136, 0, 0, 0, flags };

	memcpy(msg + 8, our_ip6, 16);
	msg[24] = 2;
	msg[25] = 1;
	memcpy(msg + 26, our_mac, 6);
	build_icmp6(w, l2dst, our_ip6, dst, 255, msg, 32);
	memcpy(w + 6, our_mac, 6);
	put16(w + 56, 0);
	put16(w + 56, t_cksum6(w + 14));
}

static void
test_ns_multicast(void **state)
{
	uint8_t f[128], w[128], sn[16];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;
	size_t len;

	(void)state;
	solicited_node(sn, our_ip6);
	len = build_ns(f, peer_ip6, sn, 255, our_ip6, peer_mac);
	assert_int_equal(len, 86);
	assert_true(mr_proto_icmp6(f, (uint16_t)len, sizeof(f), our_mac, is_local, &lc, &res));
	assert_true(res.reply);
	assert_int_equal(res.reply_len, 86);
	assert_learnt6(&res, peer_ip6, peer_mac);

	want_na(w, peer_mac, peer_ip6, 0x60);   /* S and O */
	assert_memory_equal(f, w, 86);
	assert_int_equal(t_cksum6(f + 14), 0);
	assert_int_equal(f[14 + 7], 255);
	assert_int_equal(f[54], 136);
	assert_int_equal(f[58], 0x60);
}

static void
test_ns_unicast_no_slla(void **state)
{
	uint8_t f[128], w[128];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;
	size_t len;

	(void)state;
	/* NUD probe: unicast to the target, no option; reply to the L2 source */
	len = build_ns(f, peer_ip6, our_ip6, 255, our_ip6, NULL);
	assert_int_equal(len, 78);
	assert_true(mr_proto_icmp6(f, (uint16_t)len, 128, our_mac, is_local, &lc, &res));
	assert_true(res.reply);
	assert_false(res.learnt);
	assert_int_equal(res.reply_len, 86);
	want_na(w, peer_mac, peer_ip6, 0x60);
	assert_memory_equal(f, w, 86);

	/* no room for the 86-byte NA: nothing to do, frame kept */
	len = build_ns(f, peer_ip6, our_ip6, 255, our_ip6, NULL);
	memcpy(w, f, len);
	assert_false(mr_proto_icmp6(f, (uint16_t)len, (uint16_t)len, our_mac, is_local, &lc, &res));
	assert_false(res.reply);
	assert_memory_equal(f, w, len);
}

static void
test_ns_dad(void **state)
{
	static const uint8_t any[16];
	static const uint8_t mac_all_nodes[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	uint8_t f[128], w[128], sn[16];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;
	size_t len;

	(void)state;
	solicited_node(sn, our_ip6);
	len = build_ns(f, any, sn, 255, our_ip6, NULL);
	assert_true(mr_proto_icmp6(f, (uint16_t)len, 128, our_mac, is_local, &lc, &res));
	assert_true(res.reply);
	assert_false(res.learnt);
	want_na(w, mac_all_nodes, all_nodes, 0x20);     /* O only */
	assert_memory_equal(f, w, 86);

	/* DAD with a source link-layer option is invalid (RFC 4861 7.1.1) */
	len = build_ns(f, any, sn, 255, our_ip6, peer_mac);
	memcpy(w, f, len);
	assert_false(mr_proto_icmp6(f, (uint16_t)len, 128, our_mac, is_local, &lc, &res));
	assert_memory_equal(f, w, len);
}

static void
icmp6_refused(uint8_t *f, size_t len)
{
	uint8_t orig[256];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;

	memcpy(orig, f, len);
	assert_false(mr_proto_icmp6(f, (uint16_t)len, 256, our_mac, is_local, &lc, &res));
	assert_false(res.reply);
	assert_false(res.learnt);
	assert_memory_equal(f, orig, len);
}

static void
test_ns_refused(void **state)
{
	static const uint8_t mcast_target[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0,
						  0, 0, 0, 0, 0, 0, 0, 0x02 };
	uint8_t f[256], sn[16];
	size_t len, n;

	(void)state;
	solicited_node(sn, our_ip6);
	len = build_ns(f, peer_ip6, sn, 64, our_ip6, peer_mac);        /* off-link */
	icmp6_refused(f, len);
	len = build_ns(f, peer_ip6, sn, 254, our_ip6, peer_mac);
	icmp6_refused(f, len);

	len = build_ns(f, peer_ip6, sn, 255, our_ip6, peer_mac);
	f[54 + 8] ^= 1;                 /* target changed under the checksum */
	icmp6_refused(f, len);

	len = build_ns(f, peer_ip6, sn, 255, our_ip6, peer_mac);
	f[54 + 1] = 1;                  /* code */
	put16(f + 56, 0);
	put16(f + 56, t_cksum6(f + 14));
	icmp6_refused(f, len);

	len = build_ns(f, peer_ip6, sn, 255, our_ip6, peer_mac);
	f[54 + 25] = 0;                 /* zero-length option */
	put16(f + 56, 0);
	put16(f + 56, t_cksum6(f + 14));
	icmp6_refused(f, len);

	len = build_ns(f, peer_ip6, sn, 255, our_ip6, peer_mac);
	f[54 + 25] = 2;                 /* option overruns the message */
	put16(f + 56, 0);
	put16(f + 56, t_cksum6(f + 14));
	icmp6_refused(f, len);

	len = build_ns(f, peer_ip6, all_nodes, 255, our_ip6, peer_mac); /* wrong group */
	icmp6_refused(f, len);
	len = build_ns(f, peer_ip6, sn, 255, mcast_target, NULL);
	icmp6_refused(f, len);
	/* valid NS for someone else, without SLLA: nothing to do */
	solicited_node(sn, other_ip6);
	len = build_ns(f, peer_ip6, sn, 255, other_ip6, NULL);
	icmp6_refused(f, len);

	/* IPv6 payload length past the frame */
	solicited_node(sn, our_ip6);
	len = build_ns(f, peer_ip6, sn, 255, our_ip6, peer_mac);
	put16(f + 18, 33);
	icmp6_refused(f, len);

	/* every truncation, in exact-size heap buffers */
	len = build_ns(f, peer_ip6, sn, 255, our_ip6, peer_mac);
	for (n = 0; n < len; n++) {
		uint8_t *b = malloc(n ? n : 1);
		struct local_ctx lc = { 0 };
		struct mr_proto_result res;

		assert_non_null(b);
		memcpy(b, f, n);
		assert_false(mr_proto_icmp6(b, (uint16_t)n, (uint16_t)n, our_mac,
					    is_local, &lc, &res));
		free(b);
	}
}

static void
test_ns_other_target_learns(void **state)
{
	uint8_t f[128], orig[128], sn[16];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;
	size_t len;

	(void)state;
	solicited_node(sn, other_ip6);
	len = build_ns(f, peer_ip6, sn, 255, other_ip6, peer_mac);
	memcpy(orig, f, len);
	assert_true(mr_proto_icmp6(f, (uint16_t)len, 128, our_mac, is_local, &lc, &res));
	assert_false(res.reply);
	assert_learnt6(&res, peer_ip6, peer_mac);
	assert_memory_equal(f, orig, len);
}

static void
test_na(void **state)
{
	uint8_t f[128], orig[128];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;
	size_t len;

	(void)state;
	len = build_na(f, our_ip6, 0x60, other_ip6, peer_mac);
	memcpy(orig, f, len);
	assert_true(mr_proto_icmp6(f, (uint16_t)len, 128, our_mac, is_local, &lc, &res));
	assert_false(res.reply);
	assert_learnt6(&res, other_ip6, peer_mac);
	assert_memory_equal(f, orig, len);

	/* unsolicited to all-nodes, O only: learnt */
	len = build_na(f, all_nodes, 0x20, other_ip6, peer_mac);
	assert_true(mr_proto_icmp6(f, (uint16_t)len, 128, our_mac, is_local, &lc, &res));
	assert_learnt6(&res, other_ip6, peer_mac);

	len = build_na(f, our_ip6, 0x60, other_ip6, NULL);      /* no TLLA */
	icmp6_refused(f, len);
	len = build_na(f, all_nodes, 0x60, other_ip6, peer_mac); /* S to multicast */
	icmp6_refused(f, len);
	len = build_na(f, our_ip6, 0x60, our_ip6, peer_mac);    /* claims our address */
	icmp6_refused(f, len);
	len = build_na(f, our_ip6, 0x60, other_ip6, peer_mac);
	f[21] = 64;                     /* hop limit (not in the checksum) */
	icmp6_refused(f, len);
}

static void
test_icmp6_echo(void **state)
{
	uint8_t f[256], w[256], msg[64];
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;
	size_t len, i;

	(void)state;
	memset(msg, 0, sizeof(msg));
	msg[0] = 128;
	put16(msg + 4, 0x1234);
	put16(msg + 6, 0x0001);
	for (i = 8; i < 41; i++)
		msg[i] = (uint8_t)(i * 13);
	len = build_icmp6(f, our_mac, peer_ip6, our_ip6, 64, msg, 41);
	assert_true(mr_proto_icmp6(f, (uint16_t)len, 256, our_mac, is_local, &lc, &res));
	assert_true(res.reply);
	assert_false(res.learnt);
	assert_int_equal(res.reply_len, len);

	msg[0] = 129;
	build_icmp6(w, peer_mac, our_ip6, peer_ip6, 64, msg, 41);
	memcpy(w + 6, our_mac, 6);
	assert_memory_equal(f, w, len);
	assert_int_equal(t_cksum6(f + 14), 0);

	/* bad checksum, not ours, unspecified source, an echo reply: refused */
	msg[0] = 128;
	len = build_icmp6(f, our_mac, peer_ip6, our_ip6, 64, msg, 41);
	f[60] ^= 0x80;
	icmp6_refused(f, len);
	len = build_icmp6(f, our_mac, peer_ip6, other_ip6, 64, msg, 41);
	icmp6_refused(f, len);
	len = build_icmp6(f, our_mac, (const uint8_t[16]){ 0 }, our_ip6, 64, msg, 41);
	icmp6_refused(f, len);
	msg[0] = 129;
	len = build_icmp6(f, our_mac, peer_ip6, our_ip6, 64, msg, 41);
	icmp6_refused(f, len);
	/* a hop-by-hop header in front: left to the kernel */
	msg[0] = 128;
	len = build_icmp6(f, our_mac, peer_ip6, our_ip6, 64, msg, 41);
	f[20] = 0;
	icmp6_refused(f, len);
}

/* ---- builders, and both ends talking to each other ---- */

static void
test_arp_request_builder(void **state)
{
	uint8_t f[64], want[64];
	struct mr_sockaddr me, target, v6;
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;
	struct mr_pkt_info pi;
	uint8_t reason;

	(void)state;
	sa_set(&me, MR_AF_INET, peer_ip4);
	sa_set(&target, MR_AF_INET, our_ip4);
	memset(f, 0xcc, sizeof(f));
	assert_int_equal(mr_proto_arp_request(f, peer_mac, &me, &target), 60);
	build_arp(want, 1, peer_mac, peer_ip4, zero6, our_ip4);
	assert_memory_equal(f, want, 60);

	assert_true(mr_parse_frame(f, 60, 0, &pi, &reason));
	assert_int_equal(pi.kind, MR_PKT_ARP);

	/* the other end (us) answers it, and the answer teaches the requester */
	assert_true(mr_proto_arp(f, 60, our_mac, is_local, &lc, &res));
	assert_true(res.reply);
	assert_learnt4(&res, peer_ip4, peer_mac);
	lc.none = true;
	assert_true(mr_proto_arp(f, res.reply_len, peer_mac, is_local, &lc, &res));
	assert_false(res.reply);
	assert_learnt4(&res, our_ip4, our_mac);

	sa_set(&v6, MR_AF_INET6, our_ip6);
	assert_int_equal(mr_proto_arp_request(f, peer_mac, &me, &v6), 0);
	assert_int_equal(mr_proto_arp_request(f, peer_mac, &v6, &target), 0);
}

static void
test_ns_request_builder(void **state)
{
	uint8_t f[128], want[128], sn[16];
	struct mr_sockaddr me, target, v4;
	struct local_ctx lc = { 0 };
	struct mr_proto_result res;
	struct mr_pkt_info pi;
	uint8_t reason;

	(void)state;
	sa_set(&me, MR_AF_INET6, peer_ip6);
	sa_set(&target, MR_AF_INET6, our_ip6);
	memset(f, 0xcc, sizeof(f));
	assert_int_equal(mr_proto_ns_request(f, peer_mac, &me, &target), 86);

	solicited_node(sn, our_ip6);
	build_ns(want, peer_ip6, sn, 255, our_ip6, peer_mac);
	/* 33:33 + low 32 bits of the solicited-node group */
	want[0] = 0x33; want[1] = 0x33;
	memcpy(want + 2, sn + 12, 4);
	assert_memory_equal(f, want, 86);
	assert_int_equal(t_cksum6(f + 14), 0);

	assert_true(mr_parse_frame(f, 86, 0, &pi, &reason));
	assert_int_equal(pi.kind, MR_PKT_ICMP6);
	assert_int_equal(pi.hop_limit, 255);

	/* we answer it with an NA, which teaches the requester our MAC */
	assert_true(mr_proto_icmp6(f, 86, sizeof(f), our_mac, is_local, &lc, &res));
	assert_true(res.reply);
	assert_learnt6(&res, peer_ip6, peer_mac);
	assert_true(mr_parse_frame(f, res.reply_len, 0, &pi, &reason));
	assert_int_equal(pi.kind, MR_PKT_ICMP6);
	assert_memory_equal(pi.dst_mac, peer_mac, 6);
	lc.none = true;
	assert_true(mr_proto_icmp6(f, res.reply_len, sizeof(f), peer_mac, is_local,
				   &lc, &res));
	assert_false(res.reply);
	assert_learnt6(&res, our_ip6, our_mac);

	sa_set(&v4, MR_AF_INET, our_ip4);
	assert_int_equal(mr_proto_ns_request(f, peer_mac, &me, &v4), 0);
	assert_int_equal(mr_proto_ns_request(f, peer_mac, &v4, &target), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_request_for_us),
		cmocka_unit_test(test_arp_other_ip),
		cmocka_unit_test(test_arp_reply_learnt),
		cmocka_unit_test(test_arp_gratuitous),
		cmocka_unit_test(test_arp_probe),
		cmocka_unit_test(test_arp_malformed),
		cmocka_unit_test(test_icmp4_echo),
		cmocka_unit_test(test_icmp4_echo_odd_padded),
		cmocka_unit_test(test_icmp4_refused),
		cmocka_unit_test(test_ns_multicast),
		cmocka_unit_test(test_ns_unicast_no_slla),
		cmocka_unit_test(test_ns_dad),
		cmocka_unit_test(test_ns_refused),
		cmocka_unit_test(test_ns_other_target_learns),
		cmocka_unit_test(test_na),
		cmocka_unit_test(test_icmp6_echo),
		cmocka_unit_test(test_arp_request_builder),
		cmocka_unit_test(test_ns_request_builder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
