/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_RTP_H
#define MR_DP_RTP_H

/*
 * What is inside a relayed UDP payload, without decrypting it: RFC 7983
 * demultiplexing (RTP/RTCP, STUN, DTLS), the RTP header (RFC 3550: CSRCs,
 * header extension, padding) and the RTCP/SRTCP framing (RFC 3711: index,
 * E flag, MKI, tag). Pure functions over bytes for the worker hot path,
 * the unit tests and the fuzz target; they never read outside [p, p + len).
 */
#include <stdbool.h>
#include <stdint.h>

#include <mrelay/counters.h>

enum mr_media_kind {
	MR_MEDIA_RTP = 0,
	MR_MEDIA_RTCP,          /* RFC 5761: second byte 192..223 (PT 64..95 with M bit) */
	MR_MEDIA_STUN,          /* first byte 0..3 and the magic cookie at offset 4 */
	MR_MEDIA_DTLS,          /* first byte 20..63 */
	MR_MEDIA_OTHER,         /* anything else: not relayed as media */
};

/* RFC 7983 (first byte) then RFC 5761 (second byte). @len may be anything. */
enum mr_media_kind mr_media_classify(const uint8_t *p, uint32_t len);

struct mr_rtp_info {
	uint32_t ssrc;
	uint32_t timestamp;
	uint16_t seq;
	uint16_t hdr_len;       /* fixed header + CSRCs + extension */
	uint16_t payload_len;   /* between header and padding/trailer */
	uint8_t pad_len;        /* RTP padding bytes (0 if P clear or not checked) */
	uint8_t pt;
	bool marker;
};

/*
 * An RTP packet of @len bytes whose last @trailer_len bytes are an SRTP
 * trailer (MKI + tag; 0 for plain RTP). With @check_padding, the padding
 * count is validated (only possible on plaintext: on SRTP it is encrypted).
 * Returns true, or false with MR_DROP_MALFORMED in @ret_reason: version
 * not 2, shorter than the header, CSRC count or extension length past the
 * end, padding count zero or larger than the payload.
 */
bool mr_rtp_parse(const uint8_t *p, uint32_t len, uint32_t trailer_len,
		  bool check_padding, struct mr_rtp_info *ri, uint8_t *ret_reason);

struct mr_rtcp_info {
	uint32_t ssrc;          /* sender SSRC of the first packet of the compound */
	uint8_t pt;             /* type of the first packet (200 SR, 201 RR, ...) */
	uint16_t compound_len;  /* bytes of the (encrypted or plain) compound */
	bool srtcp;             /* parsed with an SRTCP trailer */
	bool e_flag;            /* SRTCP: payload encrypted */
	uint32_t srtcp_index;   /* SRTCP: 31-bit index */
};

/*
 * An RTCP compound packet (@trailer_len = 0) or an SRTCP packet whose
 * trailer is E|index (4 bytes) + MKI + tag (@trailer_len = 4 + mki_len +
 * tag_len). For AEAD suites the tag precedes E|index (RFC 7714 9.1), so
 * callers pass 4 + mki_len and the tag counts in compound_len. Only the
 * first packet of an SRTCP compound is checked (the rest is encrypted);
 * lengths over 65535 are malformed. Checks version 2, the first
 * packet's type (192..223 range used by RFC 5761 demux: 192..223) and,
 * for plain RTCP, that every length word of the compound adds up to the
 * packet. Returns true, or false with MR_DROP_MALFORMED.
 */
bool mr_rtcp_parse(const uint8_t *p, uint32_t len, uint32_t trailer_len,
		   struct mr_rtcp_info *ri, uint8_t *ret_reason);

#endif /* MR_DP_RTP_H */
