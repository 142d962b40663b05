/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Preparing one op of a burst: the checks srtp.c and libsrtp 2.5 make, in
 * their order (so the status of a packet with several faults is the same),
 * the index and replay decision, the IV, and the op's crypto.
 *
 * Checks in libsrtp's order, per kind (first failure wins):
 *  SRTP protect:    length (-EINVAL), room (-EMSGSIZE), resume floor
 *                   (-EALREADY), header (-EINVAL), SSRC (-EINVAL), replay
 *                   (-EALREADY), AEAD AAD size (-EINVAL, index used up).
 *  SRTP unprotect:  length, header, SSRC (-EINVAL) | replay (-EALREADY) |
 *                   MKI (-EBADMSG), header inside the packet (-EINVAL), AEAD
 *                   AAD size (-EINVAL) | tag (-EBADMSG).
 *  SRTCP protect:   length (-EINVAL), room (-EMSGSIZE), SSRC (-EINVAL),
 *                   index exhausted (-EINVAL).
 *  SRTCP unprotect: length, SSRC (-EINVAL), MKI (-EBADMSG; before the SSRC
 *                   for the _32 suites with MKI, srtp.c's work-around), E
 *                   flag clear on an AES-CM suite (-EINVAL) | replay
 *                   (-EALREADY) | unencrypted AEAD AAD size (-EINVAL) | tag.
 * "|" marks where the context's state is consulted: before it, failures
 * are final (slot->pre); after it, they count only if the replay check
 * passes (slot->post).
 *
 * In place, the HMAC of SRTP covers header || payload || ROC: the ROC is
 * written after the payload (protect: in the room the tag will take;
 * unprotect/verify: over the first trailer bytes, saved and put back when
 * the crypto is done), so no copy is made. Unencrypted AEAD SRTCP moves
 * its E|index word next to the payload the same way, for one contiguous
 * AAD.
 */
#include <errno.h>
#include <string.h>

#include "smb_engine.h"

/* libsrtp's srtp_validate_rtp_header(): the header length, if it fits in @len. */
static inline bool
rtp_hdr_len(const uint8_t *p, uint32_t len, uint32_t *ret)
{
	uint32_t h = SMB_RTP_HDR + 4u * (p[0] & 0x0fu);

	if (p[0] & 0x10u) {
		if (len < h + 4u)
			return false;
		h += 4u + 4u * smb_be16(p + h + 2);
	}
	if (len < h)
		return false;
	*ret = h;
	return true;
}

static inline void
put_be64(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
}

/*
 * The IVs, each built as two big-endian words XORed with the salt's:
 *  RFC 3711 4.1.1 (AES-CM): salt * 2^16 ^ SSRC * 2^64 ^ index * 2^16, where
 *  the index is the 48-bit RTP index or the 31-bit SRTCP index;
 *  RFC 7714 8.1/9.1 (AEAD, 12 bytes): salt ^ (0x0000 || SSRC || ROC || SEQ)
 *  for SRTP, salt ^ (0x0000 || SSRC || 0x0000 || index) for SRTCP.
 */
static inline void
cm_iv(uint8_t iv[16], const struct mr_smb_ctx *c, const struct smb_keys *k, uint64_t index)
{
	put_be64(iv, k->salt_be[0] ^ smb_be32(c->ssrc_be));
	put_be64(iv + 8, k->salt_be[1] ^ index << 16);
}

static inline void
gcm_iv(uint8_t iv[16], const struct mr_smb_ctx *c, const struct smb_keys *k, uint64_t hi,
       uint32_t lo)
{
	put_be64(iv, k->salt_be[0] ^ ((uint64_t)smb_be32(c->ssrc_be) << 16 | hi));
	put_be64(iv + 8, k->salt_be[1] ^ (uint64_t)lo << 32);
}

static inline void
cm_iv_rtp(uint8_t iv[16], const struct mr_smb_ctx *c, uint64_t est)
{
	cm_iv(iv, c, c->rtp, est);
}

static inline void
cm_iv_rtcp(uint8_t iv[16], const struct mr_smb_ctx *c, uint32_t idx)
{
	cm_iv(iv, c, c->rtcp, idx);
}

static inline void
gcm_iv_rtp(uint8_t iv[16], const struct mr_smb_ctx *c, uint64_t est)
{
	gcm_iv(iv, c, c->rtp, est >> 32, (uint32_t)est);      /* ROC || SEQ at octet 6 */
}

static inline void
gcm_iv_rtcp(uint8_t iv[16], const struct mr_smb_ctx *c, uint32_t idx)
{
	gcm_iv(iv, c, c->rtcp, 0, idx);
}

/*
 * AES-CM + HMAC-SHA1 over @p[0 .. auth_len), tag into the slot; the cipher
 * over the body (none if it is empty: AES-CTR refuses empty input), in
 * place. Queued for smb_run_jobs().
 */
static void
submit_cm(struct mr_smb_engine *e, struct mr_smb_op *op, struct smb_slot *s,
	  const struct smb_keys *k, uint32_t auth_len, bool encrypt, bool cipher)
{
	IMB_JOB *j = smb_cm_job(e, encrypt, s, op);

	s->flags |= SF_JOB;
	j->cipher_mode = cipher && s->body_len != 0 ? IMB_CIPHER_CNTR : IMB_CIPHER_NULL;
	j->src = op->pkt;
	j->dst = op->pkt + s->body_at;
	j->cipher_start_src_offset_in_bytes = s->body_at;
	j->msg_len_to_cipher_in_bytes = s->body_len;
	j->key_len_in_bytes = op->ctx->key_len;
	j->enc_keys = k->k.cm.enc;      /* AES-CTR decrypts with these too */
	j->iv = s->iv;
	j->msg_len_to_hash_in_bytes = auth_len;
	j->u.HMAC._hashed_auth_key_xor_ipad = k->k.cm.ipad;
	j->u.HMAC._hashed_auth_key_xor_opad = k->k.cm.opad;
	j->auth_tag_output = s->tag;
	if (j->cipher_mode == IMB_CIPHER_CNTR && !encrypt)
		s->flags |= SF_INPLACE;
}

/*
 * AES-GCM over the body with @aad, tag to @tag_out, at once: the direct
 * calls skip the job manager, and GCM has no lanes to fill. Verify
 * decrypts into the slot's buffer when the body fits, else in place
 * (undone after).
 */
static void
submit_gcm(struct mr_smb_engine *e, struct mr_smb_op *op, struct smb_slot *s,
	   const struct smb_keys *k, const uint8_t *aad, uint32_t aad_len, bool encrypt,
	   uint8_t *tag_out)
{
	bool verify = op->kind == MR_SMB_VERIFY;
	bool aside = verify && s->body_len <= SMB_VBUF_BYTES;
	uint8_t *in = op->pkt + s->body_at;

	e->stats.jobs++;
	s->flags |= SF_JOB;
	if (!encrypt && !aside && s->body_len != 0)
		s->flags |= verify ? SF_INPLACE | SF_UNDO_ALWAYS : SF_INPLACE;
	smb_gcm(e->mgr, op->ctx->key_len, encrypt, &k->k.gcm, &e->gcm, aside ? s->vbuf : in, in,
		s->body_len, s->iv, aad, aad_len, tag_out);
	/* the direct calls always check their arguments (read as imb_get_errno() does) */
	if (e->mgr->imb_errno != 0)
		s->flags |= SF_JOB_ERR;
	smb_complete(s, op);
}

/* Borrow 4 packet bytes at @at (put back on completion). */
static void
borrow(struct smb_slot *s, uint8_t *p, uint32_t at, uint32_t word)
{
	memcpy(s->saved, p + at, 4);
	s->save_at = at;
	s->flags |= SF_SAVED;
	smb_put_be32(p + at, word);
}

/* An earlier round of this burst saw this op fail with this index. */
static bool
known_bad(struct smb_slot *s, uint64_t index)
{
	if (!s->bad_known || s->bad_index != index)
		return false;
	s->flags |= SF_KNOWN_BAD;
	return true;
}

/*
 * The state an inbound op of this round is decided against: the context's
 * own for its first op; for a later one, a copy with the earlier ops of
 * the round that have a job assumed to pass (those known to fail change
 * nothing). NULL in an exact-only round for all but the first.
 */
static struct smb_state *
inbound_view(struct mr_smb_engine *e, struct mr_smb_op *ops, unsigned int i,
	     struct mr_smb_ctx *c)
{
	unsigned int p = c->rnd_last;
	const struct smb_slot *ps;
	struct smb_state *v;

	c->rnd_last = (uint16_t)i;
	if (p == SMB_NONE) {
		/* nothing before it this round: the decision is final (smb_commit_round) */
		e->touched[e->n_touched++] = c;
		e->slot[i].flags |= SF_EXACT;
		return &c->st;
	}
	if (e->exact_only) {
		e->slot[i].flags |= SF_WAIT;
		return NULL;
	}
	if (c->rnd_spec == SMB_NONE) {
		c->rnd_spec = e->n_spec++;
		e->spec[c->rnd_spec] = c->st;
	}
	v = &e->spec[c->rnd_spec];
	ps = &e->slot[p];
	if (ps->flags & SF_JOB) {
		if (ops[p].rtcp)
			smb_rtcp_commit(v, ps->idx);
		else
			smb_rtp_commit(v, &ps->e);
	}
	return v;
}

static void
srtp_out(struct mr_smb_engine *e, struct mr_smb_op *op, struct smb_slot *s)
{
	struct mr_smb_ctx *c = op->ctx;
	uint8_t *p = op->pkt;
	uint32_t len = op->len, hdr;
	uint64_t hi, est;

	if (c->dir != MR_SRTP_OUTBOUND || len < SMB_RTP_HDR || len > SMB_LEN_MAX) {
		op->status = -EINVAL;
		return;
	}
	if (op->cap < len || op->cap - len < c->rtp_trailer) {
		op->status = -EMSGSIZE;
		return;
	}
	s->seq = smb_be16(p + 2);
	if (c->floor_set) {
		(void)smb_rtp_guess(c->st.hi, s->seq, &est);
		if (est <= c->floor) {
			op->status = -EALREADY;
			return;
		}
	}
	if (!rtp_hdr_len(p, len, &hdr) || memcmp(p + 8, c->ssrc_be, 4) != 0) {
		op->status = -EINVAL;
		return;
	}
	if (smb_rtp_check(&c->st, s->seq, &s->e) < 0) {
		op->status = -EALREADY;
		return;
	}
	hi = c->st.hi;
	smb_rtp_commit(&c->st, &s->e);
	s->body_at = hdr;
	s->body_len = len - hdr;
	s->out_len = len + c->rtp_trailer;
	if (c->aead) {
		if (hdr > SMB_AEAD_AAD_MAX) {
			/* libsrtp has used the index up; what passed has not moved */
			c->st.hi = hi;
			op->status = -EINVAL;
			return;
		}
		gcm_iv_rtp(s->iv, c, s->e.est);
		submit_gcm(e, op, s, c->rtp, p, hdr, true, p + len);
		return;
	}
	cm_iv_rtp(s->iv, c, s->e.est);
	smb_put_be32(p + len, (uint32_t)(s->e.est >> 16));     /* the ROC, under the tag */
	submit_cm(e, op, s, c->rtp, len + 4u, true, true);
}

static void
srtp_in(struct mr_smb_engine *e, struct mr_smb_op *ops, unsigned int i, struct smb_slot *s)
{
	struct mr_smb_op *op = &ops[i];
	struct mr_smb_ctx *c = op->ctx;
	uint8_t *p = op->pkt;
	uint32_t len = op->len, hdr, end;
	struct smb_state *v;

	if (c->dir != MR_SRTP_INBOUND || len < SMB_RTP_HDR + c->rtp_trailer ||
	    len > SMB_LEN_MAX || !rtp_hdr_len(p, len, &hdr) ||
	    memcmp(p + 8, c->ssrc_be, 4) != 0) {
		s->pre = -EINVAL;
		return;
	}
	s->seq = smb_be16(p + 2);
	end = len - c->rtp_trailer;     /* header + payload */
	/* the MKI follows the payload (AES-CM) or the tag (AEAD, RFC 7714 8.2) */
	if (c->mki_len != 0 &&
	    memcmp(p + (c->aead ? len - c->mki_len : end), c->mki, c->mki_len) != 0)
		s->post = -EBADMSG;
	else if (hdr > end || (c->aead && hdr > SMB_AEAD_AAD_MAX))
		s->post = -EINVAL;
	v = inbound_view(e, ops, i, c);
	if (v == NULL)
		return;
	s->verdict = (int16_t)smb_rtp_check(v, s->seq, &s->e);
	if (s->verdict < 0 || s->post != 0 || known_bad(s, s->e.est))
		return;
	s->body_at = hdr;
	s->body_len = end - hdr;
	s->out_len = end;
	if (c->aead) {
		s->tag_at = end;
		gcm_iv_rtp(s->iv, c, s->e.est);
		submit_gcm(e, op, s, c->rtp, p, hdr, false, s->tag);
		return;
	}
	s->tag_at = len - c->rtp_tag;
	cm_iv_rtp(s->iv, c, s->e.est);
	borrow(s, p, end, (uint32_t)(s->e.est >> 16));
	submit_cm(e, op, s, c->rtp, end + 4u, false, op->kind == MR_SMB_UNPROTECT);
}

static void
srtcp_out(struct mr_smb_engine *e, struct mr_smb_op *op, struct smb_slot *s)
{
	struct mr_smb_ctx *c = op->ctx;
	uint8_t *p = op->pkt;
	uint32_t len = op->len;

	if (c->dir != MR_SRTP_OUTBOUND || len < SMB_RTCP_HDR || len > SMB_LEN_MAX) {
		op->status = -EINVAL;
		return;
	}
	if (op->cap < len || op->cap - len < c->rtcp_trailer) {
		op->status = -EMSGSIZE;
		return;
	}
	if (memcmp(p + 4, c->ssrc_be, 4) != 0 || c->st.rtcp_start >= SMB_SRTCP_INDEX_MAX) {
		op->status = -EINVAL;   /* no stream; libsrtp's key_expired */
		return;
	}
	s->idx = ++c->st.rtcp_start;
	if (s->idx > c->st.rtcp_hi)
		c->st.rtcp_hi = s->idx;
	s->body_at = SMB_RTCP_HDR;
	s->body_len = len - SMB_RTCP_HDR;
	s->out_len = len + c->rtcp_trailer;
	if (c->aead) {
		/* header || ciphertext || tag || E|index || MKI; AAD header || E|index */
		memcpy(s->aad, p, SMB_RTCP_HDR);
		smb_put_be32(s->aad + SMB_RTCP_HDR, SMB_SRTCP_E | s->idx);
		memcpy(p + len + SMB_GCM_TAG_BYTES, s->aad + SMB_RTCP_HDR, 4);
		gcm_iv_rtcp(s->iv, c, s->idx);
		submit_gcm(e, op, s, c->rtcp, s->aad, sizeof(s->aad), true, p + len);
		return;
	}
	/* header || ciphertext || E|index || MKI || tag; the tag covers E|index */
	smb_put_be32(p + len, SMB_SRTCP_E | s->idx);
	cm_iv_rtcp(s->iv, c, s->idx);
	submit_cm(e, op, s, c->rtcp, len + 4u, true, true);
}

static void
srtcp_in(struct mr_smb_engine *e, struct mr_smb_op *ops, unsigned int i, struct smb_slot *s)
{
	struct mr_smb_op *op = &ops[i];
	struct mr_smb_ctx *c = op->ctx;
	uint8_t *p = op->pkt;
	uint32_t len = op->len, word, ti, aad_len;
	const uint8_t *mki_at;
	struct smb_state *v;
	bool e_bit;

	if (c->dir != MR_SRTP_INBOUND || len < SMB_RTCP_HDR + c->rtcp_trailer ||
	    len > SMB_LEN_MAX) {
		s->pre = -EINVAL;
		return;
	}
	/* E|index sits before the MKI and the tag (AES-CM) or after the tag (AEAD) */
	ti = c->aead ? len - c->mki_len - 4u : len - c->rtcp_tag - c->mki_len - 4u;
	mki_at = c->aead ? p + len - c->mki_len : p + len - c->rtcp_tag - c->mki_len;
	if (c->rtcp_mki_first && memcmp(mki_at, c->mki, c->mki_len) != 0)
		s->pre = -EBADMSG;
	else if (memcmp(p + 4, c->ssrc_be, 4) != 0)
		s->pre = -EINVAL;
	else if (c->mki_len != 0 && memcmp(mki_at, c->mki, c->mki_len) != 0)
		s->pre = -EBADMSG;
	if (s->pre != 0)
		return;
	word = smb_be32(p + ti);
	e_bit = (word & SMB_SRTCP_E) != 0;
	s->idx = word & SMB_SRTCP_INDEX_MAX;
	if (!c->aead && !e_bit) {
		s->pre = -EINVAL;       /* libsrtp's cant_check: confidentiality is on */
		return;
	}
	aad_len = ti - SMB_GCM_TAG_BYTES + 4u;  /* AEAD, E = 0: all of it, then E|index */
	if (c->aead && !e_bit && aad_len > SMB_AEAD_AAD_MAX)
		s->post = -EINVAL;
	v = inbound_view(e, ops, i, c);
	if (v == NULL)
		return;
	s->verdict = (int16_t)smb_rtcp_check(v, s->idx);
	if (s->verdict < 0 || s->post != 0 || known_bad(s, s->idx))
		return;
	s->out_len = len - c->rtcp_trailer;
	s->body_at = SMB_RTCP_HDR;
	if (!c->aead) {
		s->tag_at = len - c->rtcp_tag;
		s->body_len = ti - SMB_RTCP_HDR;
		cm_iv_rtcp(s->iv, c, s->idx);
		submit_cm(e, op, s, c->rtcp, ti + 4u, false, op->kind == MR_SMB_UNPROTECT);
		return;
	}
	gcm_iv_rtcp(s->iv, c, s->idx);
	s->tag_at = ti - SMB_GCM_TAG_BYTES;
	if (e_bit) {
		s->body_len = s->tag_at - SMB_RTCP_HDR;
		memcpy(s->aad, p, SMB_RTCP_HDR);
		memcpy(s->aad + SMB_RTCP_HDR, p + ti, 4);
		submit_gcm(e, op, s, c->rtcp, s->aad, sizeof(s->aad), false, s->tag);
		return;
	}
	/*
	 * RFC 7714 9.3: nothing encrypted, AAD = everything before the tag,
	 * then E|index. The tag is kept aside and E|index moved over its
	 * first bytes, so the AAD is one run of the packet.
	 */
	s->body_len = 0;
	memcpy(s->ptag, p + s->tag_at, SMB_GCM_TAG_BYTES);
	s->flags |= SF_PTAG;
	borrow(s, p, s->tag_at, word);
	submit_gcm(e, op, s, c->rtcp, p, aad_len, false, s->tag);
}

static void
prepare(struct mr_smb_engine *e, struct mr_smb_op *ops, unsigned int i)
{
	struct mr_smb_op *op = &ops[i];
	struct smb_slot *s = &e->slot[i];
	struct mr_smb_ctx *c = op->ctx;

	s->flags = 0;
	s->pre = 0;
	s->post = 0;
	s->verdict = 0;
	if (c == NULL || op->pkt == NULL || op->kind > MR_SMB_VERIFY || c->arch != e->arch) {
		s->pre = -EINVAL;
		op->status = -EINVAL;
		return;
	}
	if (op->kind == MR_SMB_PROTECT) {
		if (op->rtcp)
			srtcp_out(e, op, s);
		else
			srtp_out(e, op, s);
	} else if (op->rtcp) {
		srtcp_in(e, ops, i, s);
	} else {
		srtp_in(e, ops, i, s);
	}
}

void
smb_prepare_round(struct mr_smb_engine *e, struct mr_smb_op *ops)
{
	unsigned int k;

	for (k = 0; k < e->n_todo; k++)
		prepare(e, ops, e->todo[k]);
}
