/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_SMB_ENGINE_H
#define MR_DP_SMB_ENGINE_H

/*
 * The engine of one worker and the per-op scratch of a burst, shared by
 * smb_engine.c (the rounds), smb_prep.c (decisions and jobs) and
 * smb_finish.c (completions, commit, undo). Owner worker only.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "smb_int.h"

#define SMB_VBUF_BYTES 2048u    /* AEAD verify decrypts here up to this size */

/* struct smb_slot.flags */
#define SF_JOB 0x01u            /* crypto ran for the op this round */
#define SF_INPLACE 0x02u        /* it decrypted the packet in place: undo unless passed */
#define SF_TAG_OK 0x04u         /* the tag matched */
#define SF_JOB_ERR 0x08u        /* intel-ipsec-mb refused the work (a bug) */
#define SF_SAVED 0x10u          /* 4 packet bytes at save_at were borrowed (ROC, E|index) */
#define SF_UNDO_ALWAYS 0x20u    /* verify decrypted in place: undo even when it passes */
#define SF_PTAG 0x40u           /* compare with ptag (AEAD SRTCP, E = 0) */
#define SF_EXACT 0x80u          /* decided against the real state: no recheck */
#define SF_KNOWN_BAD 0x100u     /* failed in an earlier round with this index: no job */
#define SF_WAIT 0x200u          /* exact-only round, not first on its context: next round */

#define SMB_SPEC_ROUNDS 3u      /* rounds that speculate; then one op per context a round */

/* Engine-private scratch of one op, valid for one mr_smb_run(). */
struct smb_slot {
	struct smb_rtp_est e;   /* RTP: the index the crypto was run with */
	uint32_t idx;           /* SRTCP: the packet's index */
	int16_t pre;            /* status known before the state is consulted */
	int16_t post;           /* status known after it (MKI, layout, AAD size) */
	int16_t verdict;        /* the state's answer at preparation: 0 or -EALREADY */
	uint16_t flags;         /* SF_* */
	uint16_t seq;           /* RTP sequence number */
	uint32_t body_at;       /* first ciphered byte */
	uint32_t body_len;      /* bytes ciphered */
	uint32_t tag_at;        /* inbound: the packet's tag */
	uint32_t save_at;       /* SF_SAVED: where the borrowed bytes are */
	uint32_t out_len;       /* op->len when it passes */
	uint8_t *vbuf;          /* this slot's AEAD verify buffer (engine-owned) */
	_Alignas(16) uint8_t iv[16];
	uint8_t aad[12];        /* AEAD SRTCP: header and E|index */
	uint8_t tag[SMB_SHA1_STATE_BYTES];      /* computed tag */
	uint8_t ptag[SMB_GCM_TAG_BYTES];        /* packet's tag, when it is borrowed from */
	uint8_t saved[4];
	/*
	 * Across the rounds of one burst: the op's crypto failed with this
	 * index (RTP) or SRTCP index. The verdict depends only on key, bytes
	 * and index, and the bytes are put back, so a later round with the
	 * same index knows the answer without a job.
	 */
	bool bad_known;
	uint64_t bad_index;
};

struct mr_smb_engine {
	IMB_MGR *mgr;
	uint8_t arch;                   /* e->mgr->used_arch */
	bool checked;                   /* submit through the library's argument checks */
	struct mr_smb_stats stats;
	uint8_t n_todo, n_undo, n_spec;
	/*
	 * AES-CM jobs of this round: job[0, n_out) cipher, then HMAC (protect,
	 * undo), job[MR_SMB_BURST_MAX - n_in, MR_SMB_BURST_MAX) HMAC, then
	 * cipher (unprotect, verify). Each end is one run for the library's
	 * burst calls; a round has at most one job per op.
	 */
	uint8_t n_out, n_in;
	bool exact_only;                /* this round: no speculation */
	uint8_t todo[MR_SMB_BURST_MAX]; /* ops of this round, in order */
	uint8_t next[MR_SMB_BURST_MAX]; /* ops of the next round */
	uint8_t undo[MR_SMB_BURST_MAX]; /* ops whose packet must be encrypted again */
	struct smb_slot slot[MR_SMB_BURST_MAX];
	struct smb_state spec[MR_SMB_BURST_MAX];        /* speculative context states */
	struct mr_smb_ctx *touched[MR_SMB_BURST_MAX];   /* inbound contexts of this round */
	uint8_t n_touched;
	struct gcm_context_data gcm;    /* scratch of the direct AES-GCM calls */
	_Alignas(64) IMB_JOB job[MR_SMB_BURST_MAX];
	_Alignas(64) uint8_t vbuf[MR_SMB_BURST_MAX][SMB_VBUF_BYTES];
};

/* smb_engine.c */
/*
 * The next AES-CM job of the round for @s/@op (NULL for an undo), to be
 * filled in: run by smb_run_jobs(). @cipher_first: protect and undo. The
 * IV length (16), HMAC start (0) and tag length (12) are already set.
 */
static inline IMB_JOB *
smb_cm_job(struct mr_smb_engine *e, bool cipher_first, struct smb_slot *s, struct mr_smb_op *op)
{
	IMB_JOB *j = cipher_first ? &e->job[e->n_out++] : &e->job[MR_SMB_BURST_MAX - ++e->n_in];

	e->stats.jobs++;
	j->user_data = s;
	j->user_data2 = op;
	return j;
}
/* Run the round's AES-CM jobs and complete their ops. */
void smb_run_jobs(struct mr_smb_engine *e);
/* Tests and fuzzing: have intel-ipsec-mb check every job (slower). */
void smb_engine_check_jobs(struct mr_smb_engine *e, bool on);

/*
 * smb_prep.c: decide each op of this round (e->todo), in order; run
 * (AES-GCM) or queue (AES-CM) its crypto.
 */
void smb_prepare_round(struct mr_smb_engine *e, struct mr_smb_op *ops);

/* smb_finish.c */
/* @op's crypto ran (SF_JOB_ERR: the library refused it): settle what it tells. */
void smb_complete(struct smb_slot *s, struct mr_smb_op *op);
/* smb_complete() for the op of each job of @j[0, n) (never undo jobs: they have none). */
void smb_complete_jobs(IMB_JOB *j, unsigned int n);
/*
 * Settle each op of this round against the real state, in order; those
 * to redo go to e->next. Returns how many.
 */
unsigned int smb_commit_round(struct mr_smb_engine *e, struct mr_smb_op *ops);
/* Queue the job that puts op @i's packet back as it came. */
void smb_undo(struct mr_smb_engine *e, struct mr_smb_op *ops, unsigned int i);

/*
 * Comparison of @n bytes in time that depends on @n only (tags): every
 * byte is looked at, 8 at a time, and the differences folded together.
 */
static inline bool
smb_ct_eq(const uint8_t *a, const uint8_t *b, unsigned int n)
{
	uint64_t acc = 0, x, y;
	unsigned int i = 0;

	for (; i + 8u <= n; i += 8u) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		acc |= x ^ y;
	}
	for (; i < n; i++)
		acc |= (uint64_t)(a[i] ^ b[i]);
	return acc == 0;
}

static inline uint16_t
smb_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
smb_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
smb_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif /* MR_DP_SMB_ENGINE_H */
