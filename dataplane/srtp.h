/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_SRTP_H
#define MR_DP_SRTP_H

/*
 * SRTP and SRTCP for one stream (one SSRC) of one direction of one leg,
 * with one key generation, on libsrtp2. The reference implementation the
 * burst engine of a later stage is compared against, byte for byte.
 *
 * Threads: a context is created and freed on the management lcore (both
 * allocate) and used by exactly one worker in between (never shared).
 * Protect/unprotect neither allocate nor log. Keys are wiped when the
 * context is freed and never logged.
 */
#include <stdbool.h>
#include <stdint.h>

#include <mrelay/leg.h>

/* Bytes of the SRTP suites (RFC 4568, 6188, 7714). */
struct mr_srtp_suite_info {
	const char *name;       /* SDES name, e.g. "AES_CM_128_HMAC_SHA1_80" */
	uint8_t key_len;        /* master key */
	uint8_t salt_len;       /* master salt (14, or 12 for AEAD) */
	uint8_t rtp_tag_len;    /* SRTP auth tag */
	uint8_t rtcp_tag_len;   /* SRTCP auth tag (80 bits even for _32 suites) */
};

/* Table entry for @suite, or NULL for MR_SUITE_NONE and unknown values. */
const struct mr_srtp_suite_info *mr_srtp_suite(uint8_t suite);

/* Suite by SDES name (exact, case-sensitive); MR_SUITE_NONE if unknown. */
uint8_t mr_srtp_suite_by_name(const char *name);

/* Process-wide libsrtp set-up; call once before any context (mgmt). */
int mr_srtp_init(void);

struct mr_srtp_ctx;

enum mr_srtp_dir {
	MR_SRTP_INBOUND = 0,    /* unprotect what a peer sent */
	MR_SRTP_OUTBOUND = 1,   /* protect what the relay sends */
};

/*
 * Where a stream resumes after a dataplane restart: the resume point the
 * previous process stored (struct mr_ssrc_state). valid = false (or no
 * resume point at all): a new stream, ROC 0 and SRTCP index 0.
 */
struct mr_srtp_resume {
	uint32_t roc;           /* ROC of seq_hi */
	uint16_t seq_hi;        /* highest RTP sequence number seen or sent */
	uint32_t srtcp_index;   /* highest SRTCP index; outbound: the next one sent is +1 */
	bool valid;
};

/*
 * A context for @ssrc with key generation @k (its suite, key, salt, MKI),
 * resuming from @resume (NULL: a new stream). The ROC of the first RTP
 * packet is estimated from (roc, seq_hi) when that packet comes (RFC 3711
 * 3.3.1), so a stream that wrapped while the dataplane was down resumes at
 * roc + 1. Returns NULL if @k is invalid (suite/lengths), the outbound
 * SRTCP index is beyond what can be resumed, or memory runs out.
 */
struct mr_srtp_ctx *mr_srtp_ctx_new(const struct mr_key_gen *k, uint32_t ssrc,
				    enum mr_srtp_dir dir, const struct mr_srtp_resume *resume);

/* Wipes the keys; NULL is a no-op. */
void mr_srtp_ctx_free(struct mr_srtp_ctx *c);

/*
 * In place. @len is the packet's length in and out; @cap the room after
 * the packet start (protect needs len + tag + MKI). Return 0, -EBADMSG
 * (authentication failed), -EALREADY (replayed; or, protecting on a
 * resumed context, an RTP index at or below the resume point, which the
 * previous process may have sent), -EMSGSIZE (no room), -EINVAL
 * (malformed for libsrtp).
 */
int mr_srtp_protect(struct mr_srtp_ctx *c, uint8_t *pkt, uint32_t *len, uint32_t cap);
int mr_srtp_unprotect(struct mr_srtp_ctx *c, uint8_t *pkt, uint32_t *len);
int mr_srtcp_protect(struct mr_srtp_ctx *c, uint8_t *pkt, uint32_t *len, uint32_t cap);
int mr_srtcp_unprotect(struct mr_srtp_ctx *c, uint8_t *pkt, uint32_t *len);

/*
 * Verify only (authenticated pass-through, both legs share the key): the
 * packet is unprotected in @scratch (>= len bytes, the caller's, e.g. one
 * per worker), updating replay state, and left unchanged. Same returns.
 */
int mr_srtp_verify(struct mr_srtp_ctx *c, const uint8_t *pkt, uint32_t len,
		   uint8_t *scratch, uint32_t scratch_cap);
int mr_srtcp_verify(struct mr_srtp_ctx *c, const uint8_t *pkt, uint32_t len,
		    uint8_t *scratch, uint32_t scratch_cap);

/*
 * Resume point of the stream: the highest RTP index as (ROC, sequence
 * number), and the highest SRTCP index. Before a packet passes, the resume
 * point the context was made with.
 */
void mr_srtp_ctx_state(const struct mr_srtp_ctx *c, uint32_t *ret_roc, uint16_t *ret_seq,
		       uint32_t *ret_srtcp_index);

#endif /* MR_DP_SRTP_H */
