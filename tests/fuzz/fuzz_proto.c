/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the proto.c responders. Each handler gets its own copy
 * of the input in a heap buffer of exactly the input's size (ICMPv6 also
 * with room for an NA), so ASan sees any access past len or cap.
 * 198.18.0.1 and 2001:db8::1 are "ours" (the seeds in corpus/proto/ target
 * them). Checked promises: a refused frame is left untouched, a reply fits
 * the buffer and parses as the kind of frame it answers.
 *
 * Random mutations almost never keep a checksum valid, so every input also
 * runs a second time with its IPv4, ICMP and ICMPv6 checksums recomputed:
 * that pass reaches the code behind the checksum checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NA_ROOM 86u

static const uint8_t our_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t our_ip4[4] = { 198, 18, 0, 1 };
static const uint8_t our_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				     0, 0, 0, 0, 0, 0, 0, 0x01 };

static bool
is_local(void *ctx, const struct mr_sockaddr *ip)
{
	(void)ctx;
	if (ip->family == MR_AF_INET)
		return memcmp(ip->ip, our_ip4, 4) == 0;
	if (ip->family == MR_AF_INET6)
		return memcmp(ip->ip, our_ip6, 16) == 0;
	abort();        /* proto.c only asks about IPv4/IPv6 addresses */
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
sum16(const uint8_t *p, uint32_t n, uint32_t s)
{
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += rd16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static void
put_cksum(uint8_t *field, uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	field[0] = (uint8_t)(s >> 8);
	field[1] = (uint8_t)s;
}

/* Recompute checksums of an untagged IPv4/ICMP or IPv6/ICMPv6 frame, if it is one. */
static void
fix_cksums(uint8_t *f, uint16_t len)
{
	uint8_t *ip = f + 14;
	uint32_t l;

	if (len >= 14 + 20 && rd16(f + 12) == 0x0800 && ip[0] == 0x45) {
		ip[10] = ip[11] = 0;
		put_cksum(ip + 10, sum16(ip, 20, 0));
		l = rd16(ip + 2);
		if (ip[9] == 1 && l >= 24 && l <= len - 14u) {
			ip[22] = ip[23] = 0;
			put_cksum(ip + 22, sum16(ip + 20, l - 20, 0));
		}
	} else if (len >= 14 + 40 + 4 && rd16(f + 12) == 0x86dd && ip[6] == 58) {
		l = rd16(ip + 4);
		if (l >= 4 && l <= len - 54u) {
			ip[42] = ip[43] = 0;
			put_cksum(ip + 42, sum16(ip + 40, l, sum16(ip + 8, 32, l + 58)));
		}
	}
}

enum handler { H_ARP, H_ICMP4, H_ICMP6 };

/* @cap: the buffer's size, exactly, so ASan catches any access past it. */
static void
run(const uint8_t *data, uint16_t len, uint16_t cap, enum handler h)
{
	uint8_t *buf = malloc(cap ? cap : 1);
	struct mr_proto_result res;
	struct mr_pkt_info pi;
	uint8_t reason, kind;
	bool ok;

	if (buf == NULL)
		abort();
	memset(buf, 0, cap);
	if (len > 0)
		memcpy(buf, data, len);
	switch (h) {
	case H_ARP:
		ok = mr_proto_arp(buf, len, our_mac, is_local, NULL, &res);
		kind = MR_PKT_ARP;
		break;
	case H_ICMP4:
		ok = mr_proto_icmp4(buf, len, our_mac, is_local, NULL, &res);
		kind = MR_PKT_ICMP4;
		break;
	default:
		ok = mr_proto_icmp6(buf, len, cap, our_mac, is_local, NULL, &res);
		kind = MR_PKT_ICMP6;
		break;
	}
	if (!ok || !res.reply) {
		if ((len > 0 && memcmp(buf, data, len) != 0) ||
		    (!ok && (res.reply || res.learnt)))
			abort();
	} else {
		if (res.reply_len > cap || (h != H_ICMP6 && res.reply_len > len))
			abort();
		if (!mr_parse_frame(buf, res.reply_len, 0, &pi, &reason) ||
		    pi.kind != kind || memcmp(pi.src_mac, our_mac, 6) != 0)
			abort();
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t len = (uint16_t)(size > 2048 ? 2048 : size);

	static uint8_t fixed[2048];

	run(data, len, len, H_ARP);
	run(data, len, len, H_ICMP4);
	run(data, len, len, H_ICMP6);
	run(data, len, (uint16_t)(len + NA_ROOM), H_ICMP6);

	if (len > 0)
		memcpy(fixed, data, len);
	fix_cksums(fixed, len);
	run(fixed, len, len, H_ICMP4);
	run(fixed, len, (uint16_t)(len + NA_ROOM), H_ICMP6);
	return 0;
}
