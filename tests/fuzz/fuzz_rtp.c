/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for mr_media_classify(), mr_rtp_parse() and mr_rtcp_parse(),
 * with the trailer lengths real suites use (none, SRTCP E|index alone,
 * 32/80-bit HMAC tags, with a 4-byte MKI, AEAD), a few that are never
 * valid (1..3 for SRTCP, the whole input, past it), and both padding
 * modes. Besides "no crash, no read past len" (ASan), it checks what
 * rtp.h promises: on success the pieces add up to exactly the input and
 * agree with the bytes; on failure the reason is MR_DROP_MALFORMED and
 * the info struct is untouched. A broken promise aborts, which both
 * libFuzzer and the replay test report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mrelay/counters.h>

#include "rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILL 0x5c
#define REASON_UNSET UINT8_MAX

static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static bool
all_fill(const void *v, size_t n)
{
	const uint8_t *b = v;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != FILL)
			return false;
	return true;
}

static void
check_classify(const uint8_t *p, uint32_t len)
{
	enum mr_media_kind k = mr_media_classify(p, len);

	switch (k) {
	case MR_MEDIA_RTP:
	case MR_MEDIA_RTCP:
		if (len < 2 || p[0] < 128 || p[0] > 191)
			abort();
		if ((k == MR_MEDIA_RTCP) != (p[1] >= 192 && p[1] <= 223))
			abort();
		break;
	case MR_MEDIA_STUN:
		if (len < 20 || p[0] > 3 || be32(p + 4) != 0x2112a442u)
			abort();
		break;
	case MR_MEDIA_DTLS:
		if (len < 1 || p[0] < 20 || p[0] > 63)
			abort();
		break;
	case MR_MEDIA_OTHER:
		if (len >= 2 && p[0] >= 128 && p[0] <= 191)
			abort();
		if (len >= 1 && p[0] >= 20 && p[0] <= 63)
			abort();
		break;
	default:
		abort();
	}
}

static void
check_rtp(const uint8_t *p, uint32_t len, uint32_t trailer, bool check_padding)
{
	struct mr_rtp_info ri;
	uint8_t reason = REASON_UNSET;
	uint32_t end, hdr;

	memset(&ri, FILL, sizeof(ri));
	if (!mr_rtp_parse(p, len, trailer, check_padding, &ri, &reason)) {
		if (reason != MR_DROP_MALFORMED || !all_fill(&ri, sizeof(ri)))
			abort();
		return;
	}
	if (reason != REASON_UNSET || trailer > len)
		abort();
	end = len - trailer;
	if (ri.hdr_len < 12 || (uint32_t)ri.hdr_len + ri.payload_len + ri.pad_len != end)
		abort();
	/* the header is what its CC and X fields say (extension length checked in range) */
	hdr = 12u + 4u * (p[0] & 0x0fu);
	if (p[0] & 0x10u) {
		if (hdr + 4u > end)
			abort();
		hdr += 4u + 4u * (((uint32_t)p[hdr + 2] << 8) | p[hdr + 3]);
	}
	if (ri.hdr_len != hdr || (p[0] >> 6) != 2)
		abort();
	if (ri.pad_len != 0 && (!check_padding || !(p[0] & 0x20u) || p[end - 1] != ri.pad_len))
		abort();
	if (check_padding && (p[0] & 0x20u) && ri.pad_len == 0)
		abort();
	if (ri.seq != (((uint32_t)p[2] << 8) | p[3]) || ri.timestamp != be32(p + 4) ||
	    ri.ssrc != be32(p + 8) || ri.pt != (p[1] & 0x7f) || ri.marker != (p[1] >> 7))
		abort();
}

static void
check_rtcp(const uint8_t *p, uint32_t len, uint32_t trailer)
{
	struct mr_rtcp_info ri;
	uint8_t reason = REASON_UNSET;

	memset(&ri, FILL, sizeof(ri));
	if (!mr_rtcp_parse(p, len, trailer, &ri, &reason)) {
		if (reason != MR_DROP_MALFORMED || !all_fill(&ri, sizeof(ri)))
			abort();
		return;
	}
	if (reason != REASON_UNSET || trailer > len || (trailer != 0 && trailer < 4))
		abort();
	if (ri.compound_len < 8 || (uint32_t)ri.compound_len + trailer != len)
		abort();
	if ((p[0] >> 6) != 2 || ri.pt != p[1] || ri.pt < 192 || ri.pt > 223 ||
	    ri.ssrc != be32(p + 4))
		abort();
	/* the first packet lies inside the compound, plain or not */
	if (4u * ((((uint32_t)p[2] << 8) | p[3]) + 1u) > ri.compound_len)
		abort();
	if (ri.srtcp != (trailer != 0))
		abort();
	if (!ri.srtcp && (ri.e_flag || ri.srtcp_index != 0))
		abort();
	if (ri.srtcp && (ri.e_flag != (p[ri.compound_len] >> 7) ||
			 ri.srtcp_index != (be32(p + ri.compound_len) & 0x7fffffffu)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* SRTP: none, HMAC-SHA1-32/80, MKI + 80, AEAD tag */
	static const uint32_t rtp_trailers[] = { 0, 4, 10, 14, 16 };
	/* SRTCP: none, never valid, E|index alone (AEAD), + 32/80-bit tag, + MKI */
	static const uint32_t rtcp_trailers[] = { 0, 1, 3, 4, 8, 14, 18 };
	uint32_t len = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	size_t i;

	check_classify(data, len);
	for (i = 0; i < sizeof(rtp_trailers) / sizeof(rtp_trailers[0]); i++) {
		check_rtp(data, len, rtp_trailers[i], true);
		check_rtp(data, len, rtp_trailers[i], false);
	}
	check_rtp(data, len, len, false);
	check_rtp(data, len, len + 1, true);
	for (i = 0; i < sizeof(rtcp_trailers) / sizeof(rtcp_trailers[0]); i++)
		check_rtcp(data, len, rtcp_trailers[i]);
	check_rtcp(data, len, len);
	check_rtcp(data, len, UINT32_MAX);
	return 0;
}
