/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SRTP contexts of either engine and the burst runner (see sbatch.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sbatch.h"

struct mr_sctx *
mr_sctx_new(const struct mr_key_gen *k, uint32_t ssrc, enum mr_srtp_dir dir, uint32_t roc,
	    uint32_t srtcp_index)
{
	struct mr_sctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->engine = MR_ENGINE_LIBSRTP;
	c->suite = k->suite;
	c->ls = mr_srtp_ctx_new(k, ssrc, dir, roc, srtcp_index);
	if (c->ls == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
mr_sctx_free(struct mr_sctx *c)
{
	if (c == NULL)
		return;
	mr_srtp_ctx_free(c->ls);
	free(c);
}

void
mr_sctx_state(const struct mr_sctx *c, uint32_t *ret_roc, uint16_t *ret_seq,
	      uint32_t *ret_srtcp_index)
{
	mr_srtp_ctx_state(c->ls, ret_roc, ret_seq, ret_srtcp_index);
}

static bool
aead(uint8_t suite)
{
	return suite == MR_SUITE_AEAD_AES_128_GCM || suite == MR_SUITE_AEAD_AES_256_GCM;
}

static int
ls_unprotect(struct mr_sop *op, const struct mr_sop_scratch *s)
{
	uint32_t n = op->len;
	int r;

	/*
	 * libsrtp authenticates AES-CM before it decrypts, so a failure leaves
	 * the packet alone; its GCM decrypts in place and wipes the payload on
	 * a bad tag (srtp.c), so GCM runs on a copy.
	 */
	if (!aead(op->ctx->suite))
		return op->rtcp ? mr_srtcp_unprotect(op->ctx->ls, op->pkt, &op->len) :
				  mr_srtp_unprotect(op->ctx->ls, op->pkt, &op->len);
	if (n > s->cap)
		return -EMSGSIZE;
	memcpy(s->buf, op->pkt, n);
	r = op->rtcp ? mr_srtcp_unprotect(op->ctx->ls, s->buf, &n) :
		       mr_srtp_unprotect(op->ctx->ls, s->buf, &n);
	if (r == 0) {
		memcpy(op->pkt, s->buf, n);
		op->len = n;
	}
	return r;
}

static int
ls_run(struct mr_sop *op, const struct mr_sop_scratch *s)
{
	struct mr_srtp_ctx *c = op->ctx->ls;

	switch (op->kind) {
	case MR_SOP_PROTECT:
		return op->rtcp ? mr_srtcp_protect(c, op->pkt, &op->len, op->cap) :
				  mr_srtp_protect(c, op->pkt, &op->len, op->cap);
	case MR_SOP_UNPROTECT:
		return ls_unprotect(op, s);
	case MR_SOP_VERIFY:
		return op->rtcp ? mr_srtcp_verify(c, op->pkt, op->len, s->buf, s->cap) :
				  mr_srtp_verify(c, op->pkt, op->len, s->buf, s->cap);
	default:
		return -EINVAL;
	}
}

void
mr_sop_run(struct mr_sop *ops, unsigned int n, const struct mr_sop_scratch *s)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		ops[i].status = ls_run(&ops[i], s);
}
