/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The end of an op: its crypto's completion (trailer written, or tag compared
 * in constant time), its commit against the real state in op order, and
 * the undo of an in-place decryption that must not stay.
 */
#include <errno.h>
#include <string.h>

#include "smb_engine.h"

/*
 * @n (4 or 10: the HMAC-SHA1 tags) bytes of @tag to @dst, in fixed-size
 * moves: a copy of variable length is a libc call, for every packet.
 */
static inline void
put_tag(uint8_t *dst, const uint8_t *tag, unsigned int n)
{
	if (n == 10u) {
		memcpy(dst, tag, 8);
		memcpy(dst + 8, tag + 8, 2);
	} else {
		memcpy(dst, tag, n);
	}
}

/* Protect is final once its crypto is done: MKI and tag go into place. */
static void
finish_protect(struct mr_smb_op *op, const struct smb_slot *s)
{
	const struct mr_smb_ctx *c = op->ctx;
	uint8_t *end = op->pkt + op->len;

	if (c->aead) {
		/* RFC 7714: ciphertext || tag (written by the job) [|| E|index] || MKI */
		if (c->mki_len != 0)
			memcpy(end + SMB_GCM_TAG_BYTES + (op->rtcp ? 4u : 0u), c->mki, c->mki_len);
	} else if (op->rtcp) {
		/* RFC 3711: ciphertext || E|index || MKI || tag */
		memcpy(end + 4, c->mki, c->mki_len);
		put_tag(end + 4 + c->mki_len, s->tag, c->rtcp_tag);
	} else {
		/* ciphertext || MKI || tag, over the ROC the tag was computed with */
		if (c->mki_len != 0)
			memcpy(end, c->mki, c->mki_len);
		put_tag(end + c->mki_len, s->tag, c->rtp_tag);
	}
	op->len = s->out_len;
	op->status = 0;
}

void
smb_complete(struct smb_slot *s, struct mr_smb_op *op)
{
	const uint8_t *want;

	if (s->flags & SF_SAVED)
		memcpy(op->pkt + s->save_at, s->saved, 4);
	if (s->flags & SF_JOB_ERR) {
		if (op->kind == MR_SMB_PROTECT)
			op->status = -EINVAL;
		return;
	}
	if (op->kind == MR_SMB_PROTECT) {
		finish_protect(op, s);
		return;
	}
	want = (s->flags & SF_PTAG) ? s->ptag : op->pkt + s->tag_at;
	if (smb_ct_eq(s->tag, want, op->ctx->aead ? SMB_GCM_TAG_BYTES :
		      op->rtcp ? op->ctx->rtcp_tag : op->ctx->rtp_tag)) {
		s->flags |= SF_TAG_OK;
	} else {
		s->bad_known = true;
		s->bad_index = op->rtcp ? s->idx : s->e.est;
	}
}

static void
want_undo(struct mr_smb_engine *e, const struct smb_slot *s, unsigned int i, bool passed)
{
	if ((s->flags & SF_UNDO_ALWAYS) || ((s->flags & SF_INPLACE) && !passed))
		e->undo[e->n_undo++] = (uint8_t)i;
}

/*
 * Op @s had crypto and does not pass: later ops on its context were
 * decided assuming it would, so they are decided again.
 */
static inline void
failed(struct mr_smb_ctx *c, const struct smb_slot *s)
{
	if (s->flags & SF_JOB)
		c->rnd_broken = 1;
}

/* Settle op @i against the real state; false: redo it next round. */
static bool
commit(struct mr_smb_engine *e, struct mr_smb_op *ops, unsigned int i)
{
	struct mr_smb_op *op = &ops[i];
	struct smb_slot *s = &e->slot[i];
	struct mr_smb_ctx *c = op->ctx;
	struct smb_rtp_est est = { 0 };
	int r;

	if (s->pre != 0) {
		op->status = s->pre;
		return true;
	}
	if (op->kind == MR_SMB_PROTECT)
		return true;            /* settled in preparation or on completion */
	if (c->rnd_defer || (s->flags & SF_WAIT))
		goto defer;             /* an earlier op on this context waits */
	if ((s->flags & SF_EXACT) || !c->rnd_broken) {
		/*
		 * The first op on its context this round (the state has not
		 * moved), or every earlier one with crypto passed: the real state
		 * is now the speculative one it was decided against.
		 */
		r = s->verdict;
		est = s->e;
	} else if (op->rtcp) {
		r = smb_rtcp_check(&c->st, s->idx);
	} else {
		r = smb_rtp_check(&c->st, s->seq, &est);
		/* the crypto ran with the speculative index: it must be the real one */
		if (r == 0 && s->post == 0 && (s->flags & SF_JOB) && est.est != s->e.est)
			goto defer;
	}
	if (r < 0) {
		op->status = -EALREADY;
		failed(c, s);
		want_undo(e, s, i, false);
		return true;
	}
	if (s->post != 0) {
		op->status = s->post;
		return true;
	}
	if ((s->flags & SF_KNOWN_BAD) && (op->rtcp || est.est == s->e.est)) {
		op->status = -EBADMSG;  /* as in the round that ran its crypto */
		return true;
	}
	if (!(s->flags & SF_JOB))
		goto defer;             /* decided a replay against a predecessor that failed */
	if (s->flags & SF_JOB_ERR) {
		op->status = -EINVAL;
		failed(c, s);
		return true;
	}
	if (!(s->flags & SF_TAG_OK)) {
		op->status = -EBADMSG;
		failed(c, s);
		want_undo(e, s, i, false);
		return true;
	}
	if (op->rtcp)
		smb_rtcp_commit(&c->st, s->idx);
	else
		smb_rtp_commit(&c->st, &est);
	op->status = 0;
	if (op->kind == MR_SMB_UNPROTECT)
		op->len = s->out_len;
	want_undo(e, s, i, true);
	return true;

defer:
	c->rnd_defer = 1;
	c->rnd_broken = 1;
	want_undo(e, s, i, false);
	return false;
}

unsigned int
smb_commit_round(struct mr_smb_engine *e, struct mr_smb_op *ops)
{
	unsigned int k, n_next = 0;

	for (k = 0; k < e->n_todo; k++)
		if (!commit(e, ops, e->todo[k]))
			e->next[n_next++] = e->todo[k];
	return n_next;
}

void
smb_complete_jobs(IMB_JOB *j, unsigned int n)
{
	for (; n-- > 0; j++)
		smb_complete(j->user_data, j->user_data2);
}

void
smb_undo(struct mr_smb_engine *e, struct mr_smb_op *ops, unsigned int i)
{
	struct mr_smb_op *op = &ops[i];
	struct smb_slot *s = &e->slot[i];
	const struct mr_smb_ctx *c = op->ctx;
	const struct smb_keys *k = op->rtcp ? c->rtcp : c->rtp;
	IMB_JOB *j = smb_cm_job(e, true, NULL, NULL);

	if (c->aead) {
		/* GCM's keystream is AES-CTR from inc32(J0) = IV || 2 */
		s->iv[12] = 0;
		s->iv[13] = 0;
		s->iv[14] = 0;
		s->iv[15] = 2;
		j->enc_keys = k->k.gcm.expanded_keys;
	} else {
		j->enc_keys = k->k.cm.enc;
	}
	j->key_len_in_bytes = c->key_len;
	j->cipher_mode = IMB_CIPHER_CNTR;
	j->src = op->pkt;
	j->dst = op->pkt + s->body_at;
	j->cipher_start_src_offset_in_bytes = s->body_at;
	j->msg_len_to_cipher_in_bytes = s->body_len;
	j->iv = s->iv;
}
