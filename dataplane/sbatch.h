/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_SBATCH_H
#define MR_DP_SBATCH_H

/*
 * SRTP for the packet path in bursts, whichever engine a stream runs on.
 *
 * A worker collects the SRTP work of a whole receive burst as operations
 * and runs them at once, so a burst engine can fill its multi-buffer lanes;
 * the libsrtp engine (srtp.c, the reference) runs them one by one. Ops on
 * the same context take effect in array order (replay window, ROC, SRTCP
 * index), exactly as if run one after another.
 *
 * Contexts are created and freed on the management lcore (they allocate)
 * and used by one worker in between.
 */
#include <stdbool.h>
#include <stdint.h>

#include <mrelay/leg.h>

#include "srtp.h"
#include "srtp_mb.h"

enum mr_sctx_engine {
	MR_ENGINE_LIBSRTP = 0,          /* srtp.h: the reference, one packet at a time */
	MR_ENGINE_MB = 1,               /* srtp_mb.h: bursts on intel-ipsec-mb */
};

/* One stream (SSRC), one direction, one key generation. */
struct mr_sctx {
	uint8_t engine;                 /* enum mr_sctx_engine */
	uint8_t suite;
	struct mr_srtp_ctx *ls;         /* MR_ENGINE_LIBSRTP */
	struct mr_smb_ctx *mb;          /* MR_ENGINE_MB */
};

/*
 * A context on the burst engine when @burst and it does @k's suite, else
 * on libsrtp. @r: where the stream resumes (NULL: a new stream).
 */
struct mr_sctx *mr_sctx_new(const struct mr_key_gen *k, uint32_t ssrc, enum mr_srtp_dir dir,
			    const struct mr_srtp_resume *r, bool burst);
void mr_sctx_free(struct mr_sctx *c);   /* wipes keys; NULL is a no-op */

/* Prefetch the engine context behind @c, once @c itself is in cache
 * (worker, for packets further down a burst). NULL is a no-op. */
static inline void
mr_sctx_prefetch(const struct mr_sctx *c)
{
	if (c != NULL && c->engine == MR_ENGINE_MB)
		mr_smb_ctx_prefetch(c->mb);
}
void mr_sctx_state(const struct mr_sctx *c, uint32_t *ret_roc, uint16_t *ret_seq,
		   uint32_t *ret_srtcp_index);

enum mr_sop_kind {
	MR_SOP_PROTECT = 0,
	MR_SOP_UNPROTECT,               /* a failure leaves the bytes as they were */
	MR_SOP_VERIFY,                  /* never changes the bytes */
};

struct mr_sop {
	struct mr_sctx *ctx;
	uint8_t *pkt;
	uint32_t len;                   /* in and out */
	uint32_t cap;                   /* protect: room from pkt */
	uint8_t kind;                   /* enum mr_sop_kind */
	bool rtcp;
	int status;                     /* out: 0 or srtp.h's -errno values */
};

/* What a worker lends the engines: its burst engine, scratch for libsrtp. */
struct mr_sop_env {
	struct mr_smb_engine *mb;       /* NULL: no stream is on the burst engine */
	uint8_t *buf;                   /* verify, GCM copies */
	uint32_t cap;
};

/* @n <= MR_SMB_BURST_MAX. */
void mr_sop_run(struct mr_sop *ops, unsigned int n, const struct mr_sop_env *env);

#endif /* MR_DP_SBATCH_H */
