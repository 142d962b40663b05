/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_BENCH_RAW_CRYPTO_H
#define MR_BENCH_RAW_CRYPTO_H

/*
 * The crypto limit: intel-ipsec-mb alone doing an SRTP op's cipher and
 * authentication work, through the same calls the burst engine makes
 * (AES-CTR and HMAC-SHA1 cipher and hash bursts, AES-GCM direct), and
 * nothing else: no parsing, index, replay window, IV computation or tag
 * compare. Shared by bench_srtp_engine (beside the engine) and
 * bench_relay (beside the relay). One thread at a time.
 */
#include <stdbool.h>
#include <stdint.h>

#include "smb_int.h"

#define BENCH_RAW_BURST 32u

enum bench_raw_op { BENCH_RAW_PROTECT, BENCH_RAW_UNPROTECT, BENCH_RAW_VERIFY, BENCH_RAW_N };

/* AES-GCM over @len bytes of @src into @dst, AAD 12 bytes, 16-byte tag: at once. */
void bench_raw_gcm(IMB_MGR *m, uint8_t key_len, bool enc, const struct gcm_key_data *k,
		   uint8_t *dst, const uint8_t *src, uint32_t len, const uint8_t *iv,
		   const uint8_t *aad, uint8_t *tag);
/*
 * Queue an AES-CTR (if @cipher, from byte 12 to @plen) + HMAC-SHA1 (over
 * @hash_len bytes, 12-byte tag) job over @p: outbound (@out: cipher, then
 * HMAC) or inbound. At most BENCH_RAW_BURST before bench_raw_flush().
 */
void bench_raw_cm_job(const uint8_t *enc_keys, uint8_t key_len, const uint8_t *ipad,
		      const uint8_t *opad, bool out, bool cipher, uint8_t *p, uint32_t plen,
		      uint32_t hash_len, uint8_t *tag, const uint8_t *iv);
/*
 * The crypto of SRTP op @op on the RTP packet @p of @plen bytes (header 12)
 * with @x's keys, as the engine runs it (AES-GCM now, AES-CM queued); @iv
 * fixed; @aside: where a GCM verify decrypts.
 */
void bench_raw_op(IMB_MGR *m, const struct mr_smb_ctx *x, enum bench_raw_op op, uint8_t *p,
		  uint32_t plen, uint8_t *tag, uint8_t *aside, const uint8_t *iv);
/* Run the queued AES-CM jobs. */
void bench_raw_flush(IMB_MGR *m);

/*
 * CPU ns per op of the limit for RTP packets of @size bytes (header
 * included) with key @k, bursts of 32 on one context, the median of
 * @rounds rounds of at least @round_ns each, into @ret_ns[op]. 0 or a
 * negative errno (no AES-NI code path, no memory).
 */
int bench_crypto_limit(const struct mr_key_gen *k, uint32_t size, uint64_t round_ns,
		       unsigned int rounds, double ret_ns[BENCH_RAW_N]);

#endif /* MR_BENCH_RAW_CRYPTO_H */
