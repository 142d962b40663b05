/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RTP/RTCP framing for the worker hot path (see rtp.h for the contract).
 *
 * Straight-line code: every field is read only after a check that it lies
 * inside [p, p + len). The one loop, the walk over a plain RTCP compound,
 * consumes at least 4 bytes per step, so it runs at most len / 4 times
 * (375 for a 1500-byte MTU). No allocation, no logging, no EAL: only the
 * branch hints come from DPDK. Bytes are read one at a time, so any
 * alignment of @p is fine.
 *
 * Choices the header leaves open:
 *  - On false, *ri is not written; on true, *ret_reason is not written.
 *  - A @len above 65535 is MALFORMED for both parsers: hdr_len,
 *    payload_len and compound_len are 16 bits, and no UDP payload is
 *    bigger.
 *  - mr_media_classify(): first byte per RFC 7983 section 7, then for
 *    128..191 the second byte per RFC 5761 section 4, whose range is used
 *    exactly: 192..223 is RTCP (RTP PT 64..95 with the marker set, which
 *    RFC 5761 forbids for RTP on a muxed port), everything else RTP. So
 *    191 and 224 are RTP, 192 and 223 RTCP. First bytes 16..19 (ZRTP) and
 *    64..79 (TURN ChannelData) are OTHER: a relay does not forward them as
 *    media. STUN needs the whole 20-byte header and the RFC 5389 magic
 *    cookie; without them, first byte 0..3 is OTHER. A packet whose first
 *    byte says RTP/RTCP but that has no second byte is OTHER.
 *  - mr_rtp_parse(): the header (CSRCs, extension) must fit in the part
 *    before the trailer, i.e. in len - @trailer_len. Without
 *    @check_padding the P bit is ignored: pad_len is 0 and payload_len
 *    counts the (encrypted) padding. With it, the pad count is the last
 *    byte before the trailer, and a count equal to all bytes after the
 *    header (payload_len 0) is valid (RFC 3550 5.1 allows padding-only
 *    packets). The payload type is not checked: the caller classified.
 *  - mr_rtcp_parse(), plain (@trailer_len 0): every packet of the
 *    compound must be version 2 and the length words must add up to len
 *    exactly: a short tail or a trailing byte is MALFORMED. The first
 *    packet must hold the sender SSRC (8 bytes). Only the first packet's
 *    type is checked (RFC 5761 range 192..223), as RFC 3550 A.2 does for
 *    SR/RR; later types are not.
 *  - mr_rtcp_parse(), SRTCP (@trailer_len >= 4): only the first 8 bytes
 *    are clear (RFC 3711 3.4), so only the first packet's header is
 *    checked, and its length must fit in compound_len (encryption keeps
 *    lengths). The E|index word is the first 4 bytes of the trailer. A
 *    @trailer_len of 1..3 cannot hold it and is MALFORMED.
 *  - AEAD suites (AES-GCM, RFC 7714 section 9.1): the 16-byte tag follows
 *    the ciphertext and comes BEFORE E|index and MKI, unlike RFC 3711
 *    where the tag is last. Callers with an AEAD suite therefore pass
 *    @trailer_len = 4 + mki_len (tag_len 0 in rtp.h's formula); the tag
 *    is then counted in compound_len, which is what srtp_unprotect_rtcp()
 *    needs anyway since it authenticates and strips the tag itself. For
 *    SRTP (RTP) with AEAD, whose tag also ends the ciphertext, either
 *    mki_len or mki_len + 16 works: only the payload length changes.
 */
#include <rte_branch_prediction.h>

#include <mrelay/counters.h>

#include "rtp.h"

#define RTP_VERSION 2u
#define RTP_HDR_LEN 12u                 /* RFC 3550 5.1, without CSRCs */
#define RTP_EXT_HDR_LEN 4u              /* profile + length in 32-bit words */
#define RTP_P_BIT 0x20u
#define RTP_X_BIT 0x10u
#define RTP_CC_MASK 0x0fu
#define RTP_M_BIT 0x80u
#define RTP_PT_MASK 0x7fu

#define RTCP_HDR_LEN 4u                 /* V|P|RC, PT, length */
#define RTCP_FIRST_LEN 8u               /* header + sender SSRC */
#define RTCP_MUX_PT_MIN 192u            /* RFC 5761 section 4 */
#define RTCP_MUX_PT_MAX 223u

#define SRTCP_INDEX_LEN 4u              /* E flag + 31-bit index */
#define SRTCP_E_BIT 0x80000000u

#define STUN_HDR_LEN 20u
#define STUN_COOKIE_OFF 4u
#define STUN_MAGIC_COOKIE 0x2112a442u   /* RFC 5389 6 */

/* Largest UDP payload; the info structs' lengths are 16 bits. */
#define MR_RTP_MAX_LEN 65535u

static inline uint16_t
rd_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
rd_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

static inline unsigned int
version(const uint8_t *p)
{
	return p[0] >> 6;
}

static inline bool
is_rtcp_mux_pt(uint8_t b)
{
	return b >= RTCP_MUX_PT_MIN && b <= RTCP_MUX_PT_MAX;
}

/* Bytes of the RTCP packet at @p: its length word counts 32-bit words minus one. */
static inline uint32_t
rtcp_pkt_len(const uint8_t *p)
{
	return 4u * ((uint32_t)rd_be16(p + 2) + 1u);
}

static inline bool
drop(uint8_t *ret_reason, enum mr_drop_reason r)
{
	*ret_reason = (uint8_t)r;
	return false;
}

enum mr_media_kind
mr_media_classify(const uint8_t *p, uint32_t len)
{
	uint8_t b0;

	if (unlikely(len == 0))
		return MR_MEDIA_OTHER;
	b0 = p[0];
	/* Media first: it is nearly all the traffic. */
	if (b0 >= 128 && b0 <= 191) {
		if (unlikely(len < 2))
			return MR_MEDIA_OTHER;
		return is_rtcp_mux_pt(p[1]) ? MR_MEDIA_RTCP : MR_MEDIA_RTP;
	}
	if (b0 <= 3) {
		if (len >= STUN_HDR_LEN && rd_be32(p + STUN_COOKIE_OFF) == STUN_MAGIC_COOKIE)
			return MR_MEDIA_STUN;
		return MR_MEDIA_OTHER;
	}
	if (b0 >= 20 && b0 <= 63)
		return MR_MEDIA_DTLS;
	/* 4..15, 16..19 ZRTP, 64..79 TURN channels, 80..127, 192..255 */
	return MR_MEDIA_OTHER;
}

bool
mr_rtp_parse(const uint8_t *p, uint32_t len, uint32_t trailer_len,
	     bool check_padding, struct mr_rtp_info *ri, uint8_t *ret_reason)
{
	uint32_t end, hdr_len, pad_len = 0;

	if (unlikely(len > MR_RTP_MAX_LEN || trailer_len > len))
		return drop(ret_reason, MR_DROP_MALFORMED);
	/* Everything below stays within [0, end), and end <= len. */
	end = len - trailer_len;
	if (unlikely(end < RTP_HDR_LEN || version(p) != RTP_VERSION))
		return drop(ret_reason, MR_DROP_MALFORMED);
	hdr_len = RTP_HDR_LEN + 4u * (p[0] & RTP_CC_MASK);
	if (p[0] & RTP_X_BIT) {
		if (unlikely(hdr_len + RTP_EXT_HDR_LEN > end))
			return drop(ret_reason, MR_DROP_MALFORMED);
		hdr_len += RTP_EXT_HDR_LEN + 4u * rd_be16(p + hdr_len + 2);
	}
	if (unlikely(hdr_len > end))
		return drop(ret_reason, MR_DROP_MALFORMED);
	if ((p[0] & RTP_P_BIT) && check_padding) {
		/* With no byte after the header, the count would be a header byte. */
		if (unlikely(end == hdr_len))
			return drop(ret_reason, MR_DROP_MALFORMED);
		pad_len = p[end - 1];
		if (unlikely(pad_len == 0 || pad_len > end - hdr_len))
			return drop(ret_reason, MR_DROP_MALFORMED);
	}

	ri->ssrc = rd_be32(p + 8);
	ri->timestamp = rd_be32(p + 4);
	ri->seq = rd_be16(p + 2);
	ri->hdr_len = (uint16_t)hdr_len;
	ri->payload_len = (uint16_t)(end - hdr_len - pad_len);
	ri->pad_len = (uint8_t)pad_len;
	ri->pt = p[1] & RTP_PT_MASK;
	ri->marker = (p[1] & RTP_M_BIT) != 0;
	return true;
}

bool
mr_rtcp_parse(const uint8_t *p, uint32_t len, uint32_t trailer_len,
	      struct mr_rtcp_info *ri, uint8_t *ret_reason)
{
	uint32_t end, off, pkt_len, word = 0;

	if (unlikely(len > MR_RTP_MAX_LEN || trailer_len > len ||
		     (trailer_len != 0 && trailer_len < SRTCP_INDEX_LEN)))
		return drop(ret_reason, MR_DROP_MALFORMED);
	/* The compound is [0, end); the trailer, if any, starts at end. */
	end = len - trailer_len;
	if (unlikely(end < RTCP_FIRST_LEN || version(p) != RTP_VERSION ||
		     !is_rtcp_mux_pt(p[1])))
		return drop(ret_reason, MR_DROP_MALFORMED);
	pkt_len = rtcp_pkt_len(p);
	if (unlikely(pkt_len > end))
		return drop(ret_reason, MR_DROP_MALFORMED);
	if (trailer_len == 0) {
		/* Each step consumes >= 4 bytes: at most end / 4 iterations. */
		for (off = pkt_len; off < end; off += pkt_len) {
			if (unlikely(end - off < RTCP_HDR_LEN ||
				     version(p + off) != RTP_VERSION))
				return drop(ret_reason, MR_DROP_MALFORMED);
			pkt_len = rtcp_pkt_len(p + off);
			if (unlikely(pkt_len > end - off))
				return drop(ret_reason, MR_DROP_MALFORMED);
		}
	} else {
		word = rd_be32(p + end);
	}

	ri->ssrc = rd_be32(p + 4);
	ri->pt = p[1];
	ri->compound_len = (uint16_t)end;
	ri->srtcp = trailer_len != 0;
	ri->e_flag = (word & SRTCP_E_BIT) != 0;
	ri->srtcp_index = word & ~SRTCP_E_BIT;
	return true;
}
