/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_TEST_SRTP_TWIN_H
#define MR_TEST_SRTP_TWIN_H

/*
 * The burst engine (srtp_mb.h) beside the libsrtp wrapper (srtp.h), for the
 * unit tests and the differential fuzz target: the same streams, the same
 * ops, the wrapper one op after another, the engine in one burst, and any
 * difference reported. What "the same" means (docs/srtp-engine.md):
 *
 *  - status equal; on success length and bytes equal;
 *  - the engine's packet is exactly as it came when the op fails, and
 *    after every verify (the wrapper's AEAD unprotect does not restore);
 *  - state: the engine's (ROC, seq_hi) equals a model kept here (highest
 *    RTP index that passed, RFC 3711 3.3.1 estimated, written apart from
 *    both), whose ROC equals libsrtp's own; SRTCP index equals the
 *    wrapper's.
 *
 * Two libsrtp 2.5 (NSS) effects are not copied by the engine, and the
 * comparison steps around them once they happened on a stream: an AEAD
 * RTP header over 2048 bytes uses up its index in libsrtp although protect
 * fails (the model and libsrtp's ROC may part), and an unencrypted AEAD
 * SRTCP packet whose AAD ends just past 2048 bytes leaves stale AAD in
 * libsrtp's SRTCP cipher, which then fails every later SRTCP packet of the
 * stream.
 *
 * Header-only (static functions) so both users build it with their flags.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "srtp.h"
#include "srtp_mb.h"

#define TWIN_PKT_MAX 4200u      /* packet room: the longest input + trailer */
#define TWIN_STREAMS_MAX 8u

struct twin_stream {
	struct mr_key_gen k;
	uint32_t ssrc;
	uint8_t dir;                    /* enum mr_srtp_dir */
	struct mr_srtp_ctx *w;          /* the wrapper */
	struct mr_smb_ctx *m;           /* the engine */
	uint64_t model_hi;              /* highest RTP index that passed */
	bool model_seen;
	bool roc_off;                   /* libsrtp's ROC no longer the model's (AEAD AAD) */
	bool hi_off;                    /* nor the engine's */
	bool rtcp_off;                  /* libsrtp's SRTCP cipher poisoned (AEAD AAD) */
};

struct twin_op {
	unsigned int stream;
	uint8_t kind;                   /* enum mr_smb_kind */
	bool rtcp;
	const uint8_t *in;              /* packet before the op */
	uint32_t len;
	uint32_t cap;                   /* protect: room (<= TWIN_PKT_MAX) */
};

struct twin_result {
	int status[MR_SMB_BURST_MAX];
	uint32_t len[MR_SMB_BURST_MAX];
	uint8_t out[MR_SMB_BURST_MAX][TWIN_PKT_MAX];    /* engine output */
};

static inline bool
twin_aead(uint8_t suite)
{
	return suite == MR_SUITE_AEAD_AES_128_GCM || suite == MR_SUITE_AEAD_AES_256_GCM;
}

/* The wrapper's context for a new stream. */
static inline struct mr_srtp_ctx *
twin_wrapper_new(const struct mr_key_gen *k, uint32_t ssrc, enum mr_srtp_dir dir)
{
	return mr_srtp_ctx_new(k, ssrc, dir, NULL);
}

static inline bool
twin_stream_init(struct twin_stream *s, const struct mr_key_gen *k, uint32_t ssrc,
		 enum mr_srtp_dir dir)
{
	memset(s, 0, sizeof(*s));
	s->k = *k;
	s->ssrc = ssrc;
	s->dir = (uint8_t)dir;
	s->w = twin_wrapper_new(k, ssrc, dir);
	s->m = mr_smb_ctx_new(k, ssrc, dir, NULL);
	if (s->w == NULL || s->m == NULL) {
		mr_srtp_ctx_free(s->w);
		mr_smb_ctx_free(s->m);
		s->w = NULL;
		s->m = NULL;
		return false;
	}
	return true;
}

static inline void
twin_stream_fini(struct twin_stream *s)
{
	mr_srtp_ctx_free(s->w);
	mr_smb_ctx_free(s->m);
	s->w = NULL;
	s->m = NULL;
}

/* One op through the wrapper, as srtp.h spells it. */
static inline int
twin_wrapper_op(struct mr_srtp_ctx *w, uint8_t kind, bool rtcp, uint8_t *p, uint32_t *len,
		uint32_t cap)
{
	static uint8_t scratch[TWIN_PKT_MAX];

	switch (kind) {
	case MR_SMB_PROTECT:
		return rtcp ? mr_srtcp_protect(w, p, len, cap) : mr_srtp_protect(w, p, len, cap);
	case MR_SMB_UNPROTECT:
		return rtcp ? mr_srtcp_unprotect(w, p, len) : mr_srtp_unprotect(w, p, len);
	default:
		return rtcp ? mr_srtcp_verify(w, p, *len, scratch, sizeof(scratch)) :
			      mr_srtp_verify(w, p, *len, scratch, sizeof(scratch));
	}
}

/* RFC 3711 3.3.1 (as libsrtp: no ROC below 0): @seq's index given @hi. */
static inline uint64_t
twin_estimate(uint64_t hi, bool seen, uint16_t seq)
{
	uint32_t roc = (uint32_t)(hi >> 16);
	uint16_t s_l = (uint16_t)hi;

	if (!seen)
		return seq;
	if (s_l < 0x8000u) {
		if (seq > s_l && seq - s_l > 0x8000 && roc > 0)
			roc--;
	} else if (s_l - 0x8000 > seq) {
		roc++;
	}
	return (uint64_t)roc << 16 | seq;
}

static inline uint32_t
twin_rtp_hdr(const uint8_t *p, uint32_t len)
{
	uint32_t h;

	if (len < 12)
		return UINT32_MAX;
	h = 12u + 4u * (p[0] & 0x0fu);
	if (p[0] & 0x10u) {
		if (len < h + 4u)
			return UINT32_MAX;
		h += 4u + 4u * (uint32_t)(p[h + 2] << 8 | p[h + 3]);
	}
	return h <= len ? h : UINT32_MAX;
}

/* libsrtp's effects the engine does not copy (see the top). */
static inline void
twin_note_libsrtp_quirks(struct twin_stream *s, const struct twin_op *o, int st)
{
	uint32_t h, aad;

	if (!twin_aead(s->k.suite) || st != -EINVAL)
		return;
	if (!o->rtcp && o->kind == MR_SMB_PROTECT) {
		h = twin_rtp_hdr(o->in, o->len);
		if (h != UINT32_MAX && h > 2048u)
			s->roc_off = s->hi_off = true;
	} else if (o->rtcp && o->kind != MR_SMB_PROTECT &&
		   o->len >= 8u + 20u + s->k.mki_len && !(o->in[o->len - s->k.mki_len - 4u] & 0x80)) {
		aad = o->len - s->k.mki_len - 20u;
		if (aad <= 2048u && aad + 4u > 2048u)
			s->rtcp_off = true;
	}
}

/*
 * Runs @ops through both and compares. false with @why filled on the
 * first difference. @r receives the engine's results.
 */
static inline bool
twin_run(struct mr_smb_engine *e, struct twin_stream *streams, const struct twin_op *ops,
	 unsigned int n, struct twin_result *r, char *why, size_t why_len)
{
	static uint8_t wbuf[TWIN_PKT_MAX];
	struct mr_smb_op mops[MR_SMB_BURST_MAX];
	bool skip[MR_SMB_BURST_MAX];
	int wst[MR_SMB_BURST_MAX];
	uint32_t wlen[MR_SMB_BURST_MAX];
	static uint8_t wout[MR_SMB_BURST_MAX][TWIN_PKT_MAX];
	unsigned int i;

	/* the wrapper, one op after another */
	for (i = 0; i < n; i++) {
		const struct twin_op *o = &ops[i];
		struct twin_stream *s = &streams[o->stream];

		skip[i] = o->rtcp && s->rtcp_off;
		memset(wbuf, 0xa5, sizeof(wbuf));
		memcpy(wbuf, o->in, o->len);
		wlen[i] = o->len;
		wst[i] = twin_wrapper_op(s->w, o->kind, o->rtcp, wbuf, &wlen[i], o->cap);
		memcpy(wout[i], wbuf, wlen[i]);
		twin_note_libsrtp_quirks(s, o, wst[i]);
		if (wst[i] == 0 && !o->rtcp) {
			uint64_t est = twin_estimate(s->model_hi, s->model_seen,
						     (uint16_t)(o->in[2] << 8 | o->in[3]));

			if (!s->model_seen || est > s->model_hi)
				s->model_hi = est;
			s->model_seen = true;
		}
	}
	/* the engine, in one burst */
	for (i = 0; i < n; i++) {
		memset(r->out[i], 0xa5, TWIN_PKT_MAX);
		memcpy(r->out[i], ops[i].in, ops[i].len);
		mops[i] = (struct mr_smb_op){
			.ctx = streams[ops[i].stream].m, .pkt = r->out[i], .len = ops[i].len,
			.cap = ops[i].cap, .kind = ops[i].kind, .rtcp = ops[i].rtcp,
			.status = 12345,
		};
	}
	mr_smb_run(e, mops, n);
	for (i = 0; i < n; i++) {
		const struct twin_op *o = &ops[i];

		r->status[i] = mops[i].status;
		r->len[i] = mops[i].len;
		if (mops[i].status != 0 || o->kind == MR_SMB_VERIFY) {
			if (mops[i].len != o->len || memcmp(r->out[i], o->in, o->len) != 0) {
				snprintf(why, why_len, "op %u (kind %u rtcp %d): status %d but the packet changed",
					 i, o->kind, o->rtcp, mops[i].status);
				return false;
			}
		}
		if (skip[i])
			continue;
		if (mops[i].status != wst[i]) {
			snprintf(why, why_len, "op %u (kind %u rtcp %d len %u): engine %d, wrapper %d",
				 i, o->kind, o->rtcp, o->len, mops[i].status, wst[i]);
			return false;
		}
		if (wst[i] == 0 && o->kind != MR_SMB_VERIFY &&
		    (mops[i].len != wlen[i] || memcmp(r->out[i], wout[i], wlen[i]) != 0)) {
			snprintf(why, why_len, "op %u (kind %u rtcp %d): output differs (len %u vs %u)",
				 i, o->kind, o->rtcp, mops[i].len, wlen[i]);
			return false;
		}
	}
	/* state of every stream used */
	for (i = 0; i < n; i++) {
		struct twin_stream *s = &streams[ops[i].stream];
		uint32_t mroc, wroc, midx, widx;
		uint16_t mseq;

		mr_smb_ctx_state(s->m, &mroc, &mseq, &midx);
		mr_srtp_ctx_state(s->w, &wroc, NULL, &widx);
		if (!s->hi_off && ((uint64_t)mroc << 16 | mseq) != (s->model_seen ? s->model_hi : 0)) {
			snprintf(why, why_len, "stream %u: engine index %#llx, model %#llx",
				 ops[i].stream, (unsigned long long)((uint64_t)mroc << 16 | mseq),
				 (unsigned long long)s->model_hi);
			return false;
		}
		if (!s->roc_off && s->model_seen && wroc != (uint32_t)(s->model_hi >> 16)) {
			snprintf(why, why_len, "stream %u: libsrtp ROC %u, model %u", ops[i].stream,
				 wroc, (uint32_t)(s->model_hi >> 16));
			return false;
		}
		if (!s->rtcp_off && midx != widx) {
			snprintf(why, why_len, "stream %u: SRTCP index engine %u, wrapper %u",
				 ops[i].stream, midx, widx);
			return false;
		}
	}
	return true;
}

#endif /* MR_TEST_SRTP_TWIN_H */
