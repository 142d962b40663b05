/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The burst engine's packet path: mr_smb_run(). Nothing here allocates,
 * locks, logs or makes a system call.
 *
 * A burst runs in rounds. Each round:
 *
 *  1. prepare (smb_prep.c), in op order: length, header and SSRC checks,
 *     the index and replay decision, the IV, and the op's crypto: AES-GCM
 *     at once (intel-ipsec-mb's direct calls), AES-CM as a job for step 2.
 *     Protect decisions are final here (the state
 *     commits at once: protect cannot fail after it). Unprotect and verify
 *     decisions are speculative: an op on a context that an earlier op of
 *     the round also uses is decided against a copy of the state with that
 *     earlier op assumed to pass (the common case), since whether it passes
 *     is only known after the crypto.
 *  2. the AES-CM jobs through intel-ipsec-mb's cipher and hash burst
 *     calls: outbound AES-CTR, then HMAC-SHA1; inbound HMAC-SHA1, then
 *     AES-CTR. The multi-buffer HMAC lanes fill across the burst, and the
 *     job manager's per-job dispatch and ordering are not paid (measured:
 *     docs/srtp-engine.md).
 *  3. commit, in op order, against the real state: while every earlier op
 *     with crypto on its context passed, the real state is the speculative
 *     one and the decision stands; after one failed, each unprotect/verify
 *     is decided again; if the decision and the index its crypto used
 *     still hold, the crypto's verdict stands and the state moves on. If
 *     an earlier op failed and that changes a later op's index or replay
 *     verdict, the later op (and every later op on that context) is
 *     redone in the next round. Each round settles at least the first
 *     pending op of every context, so rounds end; a burst without failures
 *     takes one.
 *  4. undo: a packet decrypted in place whose op did not pass (or a large
 *     AEAD verify, decrypted in place) is encrypted again with the same
 *     keystream (AES-CTR is its own inverse; GCM's keystream is AES-CTR
 *     from J0 + 1), so it leaves as it came.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "smb_engine.h"

struct mr_smb_engine *
mr_smb_engine_new(void)
{
	struct mr_smb_engine *e;
	size_t i;

	e = aligned_alloc(64, (sizeof(*e) + 63u) & ~(size_t)63u);
	if (e == NULL) {
		smb_set_error("out of memory");
		errno = ENOMEM;
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->mgr = smb_mgr_new();
	if (e->mgr == NULL) {
		free(e);
		return NULL;
	}
	e->arch = (uint8_t)e->mgr->used_arch;
	for (i = 0; i < MR_SMB_BURST_MAX; i++) {
		e->slot[i].vbuf = e->vbuf[i];
		/* what every AES-CM job has: written once, not per packet */
		e->job[i].iv_len_in_bytes = 16;
		e->job[i].hash_start_src_offset_in_bytes = 0;
		e->job[i].auth_tag_output_len_in_bytes = SMB_HMAC_OUT_BYTES;
	}
	return e;
}

void
mr_smb_engine_free(struct mr_smb_engine *e)
{
	if (e == NULL)
		return;
	free_mb_mgr(e->mgr);
	explicit_bzero(e, sizeof(*e));  /* slots hold IVs and tags */
	free(e);
}

const char *
mr_smb_engine_arch(const struct mr_smb_engine *e)
{
	return smb_arch_name(e->arch);
}

void
mr_smb_engine_stats(const struct mr_smb_engine *e, struct mr_smb_stats *ret)
{
	*ret = e->stats;
}

void
smb_engine_check_jobs(struct mr_smb_engine *e, bool on)
{
	e->checked = on;
}

/* The library refused a call: every op in it failed (a bug, or a test). */
static void
refused(IMB_JOB *j, unsigned int n)
{
	for (; n-- > 0; j++)
		if (j->user_data != NULL)
			((struct smb_slot *)j->user_data)->flags |= SF_JOB_ERR;
}

/*
 * AES-CTR for the jobs of @j[0, n) that have a cipher: one library call
 * per run of one key size (a burst of one suite is one call). CTR is its
 * own inverse, so decryption is the same call.
 */
static void
run_ctr(struct mr_smb_engine *e, IMB_JOB *j, unsigned int n)
{
	unsigned int a = 0, b, got;
	IMB_KEY_SIZE_BYTES ks;

	while (a < n) {
		if (j[a].cipher_mode != IMB_CIPHER_CNTR) {
			a++;
			continue;
		}
		for (b = a + 1; b < n && j[b].cipher_mode == IMB_CIPHER_CNTR &&
		     j[b].key_len_in_bytes == j[a].key_len_in_bytes; b++)
			;
		ks = j[a].key_len_in_bytes == 16 ? IMB_KEY_128_BYTES : IMB_KEY_256_BYTES;
		/*
		 * Jobs are built from ops already checked here, so the library's
		 * own argument checks are skipped on the packet path.
		 */
		if (e->checked)
			got = IMB_SUBMIT_CIPHER_BURST(e->mgr, j + a, b - a, IMB_CIPHER_CNTR,
						      IMB_DIR_ENCRYPT, ks);
		else
			got = IMB_SUBMIT_CIPHER_BURST_NOCHECK(e->mgr, j + a, b - a,
							      IMB_CIPHER_CNTR, IMB_DIR_ENCRYPT, ks);
		if (got != b - a)
			refused(j + a, b - a);
		a = b;
	}
}

/* HMAC-SHA1 for @j[0, n): the multi-buffer lanes fill across the call. */
static void
run_hmac(struct mr_smb_engine *e, IMB_JOB *j, unsigned int n)
{
	unsigned int got;

	if (n == 0)
		return;
	if (e->checked)
		got = IMB_SUBMIT_HASH_BURST(e->mgr, j, n, IMB_AUTH_HMAC_SHA_1);
	else
		got = IMB_SUBMIT_HASH_BURST_NOCHECK(e->mgr, j, n, IMB_AUTH_HMAC_SHA_1);
	if (got != n)
		refused(j, n);
}

void
smb_run_jobs(struct mr_smb_engine *e)
{
	IMB_JOB *in = &e->job[MR_SMB_BURST_MAX - e->n_in];

	/* outbound: encrypt, then authenticate the ciphertext (and the ROC) */
	run_ctr(e, e->job, e->n_out);
	run_hmac(e, e->job, e->n_out);
	/* inbound: authenticate what came, then decrypt (undone if it fails) */
	run_hmac(e, in, e->n_in);
	run_ctr(e, in, e->n_in);
	smb_complete_jobs(e->job, e->n_out);
	smb_complete_jobs(in, e->n_in);
	e->n_out = 0;
	e->n_in = 0;
}

/* Forget the round's bookkeeping on every context it touched. */
static void
round_reset(struct mr_smb_engine *e)
{
	unsigned int k;

	for (k = 0; k < e->n_touched; k++) {
		struct mr_smb_ctx *c = e->touched[k];

		c->rnd_last = SMB_NONE;
		c->rnd_spec = SMB_NONE;
		c->rnd_defer = 0;
		c->rnd_broken = 0;
	}
	e->n_touched = 0;
	e->n_spec = 0;
}

void
mr_smb_run(struct mr_smb_engine *e, struct mr_smb_op *ops, unsigned int n)
{
	unsigned int i, k, n_next, round = 0;

	if (n > MR_SMB_BURST_MAX)
		n = MR_SMB_BURST_MAX;   /* the caller's bug: the rest stay untouched */
	e->stats.bursts++;
	e->stats.ops += n;
	e->n_todo = 0;
	for (i = 0; i < n; i++) {
		ops[i].status = -EINVAL;
		e->slot[i].bad_known = false;
		e->todo[e->n_todo++] = (uint8_t)i;
	}
	while (e->n_todo != 0) {
		/*
		 * Forged and genuine packets alternating on one stream would make
		 * every round undo the last; after a few, decide only what is
		 * certain: the first pending op of each context.
		 */
		e->exact_only = ++round > SMB_SPEC_ROUNDS;
		e->n_undo = 0;
		smb_prepare_round(e, ops);
		smb_run_jobs(e);
		n_next = smb_commit_round(e, ops);
		round_reset(e);
		e->stats.redone += n_next;
		if (e->n_undo != 0) {
			e->stats.undone += e->n_undo;
			for (k = 0; k < e->n_undo; k++)
				smb_undo(e, ops, e->undo[k]);
			run_ctr(e, e->job, e->n_out);
			e->n_out = 0;
		}
		memcpy(e->todo, e->next, n_next);
		e->n_todo = n_next;
	}
}
