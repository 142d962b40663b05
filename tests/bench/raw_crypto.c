/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The crypto limit (raw_crypto.h): AES-CM jobs wait in raw_jobs[],
 * outbound ones at the front (cipher, then HMAC), inbound ones at the back
 * (HMAC, then cipher), as the engine orders them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "raw_crypto.h"
#include "runner.h"
#include "smb_engine.h"

#define RAW_ROOM 1536u
#define RAW_ROUNDS_MAX 9u

static IMB_JOB raw_jobs[BENCH_RAW_BURST];
static unsigned int raw_out, raw_in;
static IMB_KEY_SIZE_BYTES raw_ks;

void
bench_raw_gcm(IMB_MGR *m, uint8_t key_len, bool enc, const struct gcm_key_data *k, uint8_t *dst,
	      const uint8_t *src, uint32_t len, const uint8_t *iv, const uint8_t *aad,
	      uint8_t *tag)
{
	struct gcm_context_data g;

	smb_gcm(m, key_len, enc, k, &g, dst, src, len, iv, aad, 12, tag);
}

void
bench_raw_cm_job(const uint8_t *enc_keys, uint8_t key_len, const uint8_t *ipad,
		 const uint8_t *opad, bool out, bool cipher, uint8_t *p, uint32_t plen,
		 uint32_t hash_len, uint8_t *tag, const uint8_t *iv)
{
	IMB_JOB *j = out ? &raw_jobs[raw_out++] : &raw_jobs[BENCH_RAW_BURST - ++raw_in];

	raw_ks = key_len == 16 ? IMB_KEY_128_BYTES : IMB_KEY_256_BYTES;
	j->cipher_mode = cipher ? IMB_CIPHER_CNTR : IMB_CIPHER_NULL;
	j->src = p;
	j->dst = p + 12;
	j->cipher_start_src_offset_in_bytes = 12;
	j->msg_len_to_cipher_in_bytes = plen - 12;
	j->key_len_in_bytes = key_len;
	j->enc_keys = enc_keys;
	j->iv = iv;
	j->iv_len_in_bytes = 16;
	j->hash_start_src_offset_in_bytes = 0;
	j->msg_len_to_hash_in_bytes = hash_len;
	j->u.HMAC._hashed_auth_key_xor_ipad = ipad;
	j->u.HMAC._hashed_auth_key_xor_opad = opad;
	j->auth_tag_output = tag;
	j->auth_tag_output_len_in_bytes = 12;
}

void
bench_raw_op(IMB_MGR *m, const struct mr_smb_ctx *x, enum bench_raw_op op, uint8_t *p,
	     uint32_t plen, uint8_t *tag, uint8_t *aside, const uint8_t *iv)
{
	if (x->aead)
		bench_raw_gcm(m, x->key_len, op == BENCH_RAW_PROTECT, &x->rtp->k.gcm,
			      op == BENCH_RAW_VERIFY ? aside : p + 12, p + 12, plen - 12, iv, p, tag);
	else    /* HMAC over header, payload, ROC */
		bench_raw_cm_job(x->rtp->k.cm.enc, x->key_len, x->rtp->k.cm.ipad, x->rtp->k.cm.opad,
				 op == BENCH_RAW_PROTECT, op != BENCH_RAW_VERIFY, p, plen, plen + 4,
				 tag, iv);
}

void
bench_raw_flush(IMB_MGR *m)
{
	IMB_JOB *in = &raw_jobs[BENCH_RAW_BURST - raw_in];

	if (raw_out != 0) {
		IMB_SUBMIT_CIPHER_BURST_NOCHECK(m, raw_jobs, raw_out, IMB_CIPHER_CNTR,
						IMB_DIR_ENCRYPT, raw_ks);
		IMB_SUBMIT_HASH_BURST_NOCHECK(m, raw_jobs, raw_out, IMB_AUTH_HMAC_SHA_1);
	}
	if (raw_in != 0) {
		IMB_SUBMIT_HASH_BURST_NOCHECK(m, in, raw_in, IMB_AUTH_HMAC_SHA_1);
		if (in->cipher_mode == IMB_CIPHER_CNTR)
			IMB_SUBMIT_CIPHER_BURST_NOCHECK(m, in, raw_in, IMB_CIPHER_CNTR,
							IMB_DIR_ENCRYPT, raw_ks);
	}
	raw_out = 0;
	raw_in = 0;
}

int
bench_crypto_limit(const struct mr_key_gen *k, uint32_t size, uint64_t round_ns,
		   unsigned int rounds, double ret_ns[BENCH_RAW_N])
{
	static uint8_t bufs[BENCH_RAW_BURST][RAW_ROOM] __attribute__((aligned(64)));
	static uint8_t aside[BENCH_RAW_BURST][RAW_ROOM] __attribute__((aligned(64)));
	static const uint8_t iv[16] = { 1, 2, 3 };
	double ns[BENCH_RAW_N][RAW_ROUNDS_MAX];
	uint8_t tags[BENCH_RAW_BURST][20];
	struct mr_smb_engine *e;
	struct mr_smb_ctx *x;
	unsigned int r, op, j;
	int err = 0;

	if (size < 12 || size > RAW_ROOM - 64 || rounds == 0 || rounds > RAW_ROUNDS_MAX)
		return -EINVAL;
	e = mr_smb_engine_new();
	if (e == NULL)
		return -errno;
	/* only the keys are used: the direction does not matter */
	x = mr_smb_ctx_new(k, 1, MR_SRTP_OUTBOUND, NULL);
	if (x == NULL) {
		err = -errno;
		mr_smb_engine_free(e);
		return err;
	}
	for (j = 0; j < BENCH_RAW_BURST; j++) {
		memset(bufs[j], 0x5a, sizeof(bufs[j]));
		bufs[j][0] = 0x80;
	}
	for (r = 0; r < rounds; r++)
		for (op = 0; op < BENCH_RAW_N; op++) {
			uint64_t t0 = bench_thread_ns(), t, n = 0;

			do {
				for (j = 0; j < BENCH_RAW_BURST; j++)
					bench_raw_op(e->mgr, x, op, bufs[j], size, tags[j], aside[j], iv);
				bench_raw_flush(e->mgr);
				n += BENCH_RAW_BURST;
				t = bench_thread_ns() - t0;
			} while (t < round_ns);
			ns[op][r] = (double)t / (double)n;
		}
	for (op = 0; op < BENCH_RAW_N; op++) {
		qsort(ns[op], rounds, sizeof(double), bench_cmp_double);
		ret_ns[op] = ns[op][rounds / 2];
	}
	mr_smb_ctx_free(x);
	mr_smb_engine_free(e);
	return 0;
}
