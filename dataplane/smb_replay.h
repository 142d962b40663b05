/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_SMB_REPLAY_H
#define MR_DP_SMB_REPLAY_H

/*
 * Index estimation and replay windows of the burst engine, as libsrtp 2.5
 * does them (crypto/replay/rdbx.c, rdb.c and srtp_estimate_index() in
 * srtp/srtp.c), so that every accept/refuse decision and every ROC equals
 * the wrapper's. Pure functions over struct smb_state: no crypto, no I/O.
 *
 *  - RTP (both directions; outbound it is allow_repeat_tx = 0): the highest
 *    48-bit index (ROC << 16 | SEQ) and a 1024-packet window below it,
 *    kept as a ring: index i is bit i mod 1024, so a packet in order costs
 *    one bit to clear and one to set where libsrtp shifts its whole bitmap
 *    (the set of indices remembered is the same).
 *    libsrtp's estimate is RFC 3711 3.3.1 with one twist: while the highest
 *    index is at most 2^15 (ROC 0), a sequence number is never taken as
 *    belonging to ROC -1, so it is a jump forward at ROC 0 (up to 65535).
 *  - A resumed stream (pending) takes its first packet's ROC from the
 *    resume point and accepts it without a replay check, as libsrtp does
 *    with a pending ROC on a fresh stream; the window then starts there.
 *  - SRTCP inbound: a 128-index window whose start moves so that the
 *    highest index is its last bit (libsrtp's srtp_rdb_t), fresh at 0.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SMB_WIN_BITS 1024u              /* RTP replay window (srtp.c) */
#define SMB_WIN_WORDS (SMB_WIN_BITS / 64u)
#define SMB_RTCP_WIN_BITS 128u          /* libsrtp's SRTCP window, fixed */
#define SMB_SEQ_MEDIAN 0x8000u
#define SMB_SRTCP_INDEX_MAX 0x7fffffffu

/* The mutable part of a context: what a burst's decisions depend on. */
struct smb_state {
	uint64_t index;                 /* libsrtp's highest RTP index (48 bits) */
	uint64_t hi;                    /* reported: highest index passed, or resume point */
	uint64_t win[SMB_WIN_WORDS];    /* bit i % 1024: i was seen (index - 1023 <= i <= index) */
	uint64_t rtcp_bits[2];          /* inbound: bit i: rtcp_start + i was seen */
	uint32_t rtcp_start;            /* inbound: window start; outbound: last index sent */
	uint32_t rtcp_hi;               /* reported: highest SRTCP index */
	bool pending;                   /* resumed, no RTP packet passed yet */
};

/* What the state says about one RTP packet. */
struct smb_rtp_est {
	uint64_t est;                   /* the packet's index */
	int32_t delta;                  /* est - index, as libsrtp counts it */
	bool jump;                      /* take est as the new start (pending ROC) */
};

/*
 * libsrtp's srtp_rdbx_estimate_index(): the index of a packet with @seq
 * given the highest index @index; returns est - index. ROC arithmetic is
 * 32-bit, as libsrtp's.
 */
static inline int32_t
smb_rtp_guess(uint64_t index, uint16_t seq, uint64_t *ret_est)
{
	uint32_t local_roc = (uint32_t)(index >> 16), roc = local_roc;
	uint16_t local_seq = (uint16_t)index;
	int32_t diff = (int32_t)seq - (int32_t)local_seq;

	if (index <= SMB_SEQ_MEDIAN) {          /* ROC 0: never ROC -1 */
		*ret_est = seq;
		return diff;
	}
	if (local_seq < SMB_SEQ_MEDIAN) {
		if (diff > (int32_t)SMB_SEQ_MEDIAN) {
			roc = local_roc - 1;
			diff -= 0x10000;
		}
	} else if ((int32_t)local_seq - (int32_t)SMB_SEQ_MEDIAN > (int32_t)seq) {
		roc = local_roc + 1;
		diff += 0x10000;
	}
	*ret_est = (uint64_t)roc << 16 | seq;
	return diff;
}

static inline bool
smb_win_test(const struct smb_state *s, uint64_t i)
{
	uint32_t b = (uint32_t)i % SMB_WIN_BITS;

	return (s->win[b / 64u] >> (b % 64u)) & 1u;
}

static inline void
smb_win_set(struct smb_state *s, uint64_t i)
{
	uint32_t b = (uint32_t)i % SMB_WIN_BITS;

	s->win[b / 64u] |= (uint64_t)1 << (b % 64u);
}

/*
 * Where @seq stands against @s: 0 with @ret filled, or -EALREADY when
 * libsrtp would answer replay_fail or replay_old.
 */
static inline int
smb_rtp_check(const struct smb_state *s, uint16_t seq, struct smb_rtp_est *ret)
{
	if (s->pending) {
		/* srtp_set_stream_roc() with the ROC estimated from the resume point */
		(void)smb_rtp_guess(s->hi, seq, &ret->est);
		ret->delta = 0;
		ret->jump = true;
		return 0;
	}
	ret->jump = false;
	ret->delta = smb_rtp_guess(s->index, seq, &ret->est);
	if (ret->delta > 0)
		return 0;
	if (-(int64_t)ret->delta >= (int64_t)SMB_WIN_BITS ||
	    smb_win_test(s, s->index - (uint32_t)-(int64_t)ret->delta))
		return -EALREADY;
	return 0;
}

/*
 * The window moves @n (< 1024) indices forward: the bits of index + 1 ..
 * index + n held indices that fall out of it now; clear them.
 */
static inline void
smb_win_advance(struct smb_state *s, uint32_t n)
{
	uint32_t b = (uint32_t)(s->index + 1) % SMB_WIN_BITS, k;

	while (n != 0) {
		k = 64u - b % 64u;
		if (k > n)
			k = n;
		s->win[b / 64u] &= ~((k == 64u ? ~(uint64_t)0 : ((uint64_t)1 << k) - 1) << (b % 64u));
		b = (b + k) % SMB_WIN_BITS;
		n -= k;
	}
}

/* The packet of @e passed (libsrtp's srtp_rdbx_add_index() or set_roc_seq()). */
static inline void
smb_rtp_commit(struct smb_state *s, const struct smb_rtp_est *e)
{
	if (e->jump || e->delta >= (int32_t)SMB_WIN_BITS) {
		memset(s->win, 0, sizeof(s->win));
		if (e->jump)
			s->pending = false;
		s->index = e->jump ? e->est : s->index + (uint32_t)e->delta;
	} else if (e->delta > 0) {
		/* est's own bit is set below: clear only those before it (none in order) */
		if (e->delta > 1)
			smb_win_advance(s, (uint32_t)e->delta - 1u);
		s->index += (uint32_t)e->delta;
	}
	smb_win_set(s, e->est);
	if (e->est > s->hi)
		s->hi = e->est;
}

/* libsrtp's srtp_rdb_check(): 0, or -EALREADY (replay_fail, replay_old). */
static inline int
smb_rtcp_check(const struct smb_state *s, uint32_t idx)
{
	uint32_t d;

	if (idx >= s->rtcp_start + SMB_RTCP_WIN_BITS)
		return 0;
	if (idx < s->rtcp_start)
		return -EALREADY;
	d = idx - s->rtcp_start;
	return ((s->rtcp_bits[d / 64u] >> (d % 64u)) & 1u) ? -EALREADY : 0;
}

/* libsrtp's srtp_rdb_add_index() after a check passed. */
static inline void
smb_rtcp_commit(struct smb_state *s, uint32_t idx)
{
	uint32_t d = idx - s->rtcp_start;

	if (d >= SMB_RTCP_WIN_BITS) {
		uint32_t n = d - (SMB_RTCP_WIN_BITS - 1u);

		/* bit i becomes bit i - n: the window start moves up by n */
		if (n >= SMB_RTCP_WIN_BITS) {
			s->rtcp_bits[0] = s->rtcp_bits[1] = 0;
		} else if (n >= 64u) {
			s->rtcp_bits[0] = s->rtcp_bits[1] >> (n - 64u);
			s->rtcp_bits[1] = 0;
		} else if (n > 0) {
			s->rtcp_bits[0] = s->rtcp_bits[0] >> n | s->rtcp_bits[1] << (64u - n);
			s->rtcp_bits[1] >>= n;
		}
		s->rtcp_start += n;
		d = SMB_RTCP_WIN_BITS - 1u;
	}
	s->rtcp_bits[d / 64u] |= (uint64_t)1 << (d % 64u);
	if (idx > s->rtcp_hi)
		s->rtcp_hi = idx;
}

#endif /* MR_DP_SMB_REPLAY_H */
