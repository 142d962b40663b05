/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_DP_SMB_INT_H
#define MR_DP_SMB_INT_H

/*
 * What the burst engine's files share: the context layout and the
 * intel-ipsec-mb manager set-up. Private to srtp_mb (smb_*.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>

#include "smb_replay.h"
#include "srtp_mb.h"

#define SMB_NONE 0xffffu
#define SMB_AES_SCHED_BYTES 240u        /* 15 round keys (AES-256; AES-128 uses 11) */
#define SMB_SHA1_STATE_BYTES 20u
#define SMB_HMAC_OUT_BYTES 12u          /* ipsec-mb writes 12 or 20 bytes of HMAC-SHA1 */
#define SMB_AUTH_KEY_BYTES 20u          /* RFC 3711: 160-bit HMAC-SHA1 session key */
#define SMB_GCM_TAG_BYTES 16u
#define SMB_GCM_IV_BYTES 12u
#define SMB_CM_SALT_BYTES 14u
#define SMB_AEAD_SALT_BYTES 12u
#define SMB_RTCP_TAG_BYTES 10u          /* SRTCP HMAC tag, every CM suite */
#define SMB_LEN_MAX 0xffffu
#define SMB_RTP_HDR 12u
#define SMB_RTCP_HDR 8u
#define SMB_SRTCP_E 0x80000000u
/*
 * libsrtp's NSS GCM backend keeps the AAD in a 2048-byte buffer
 * (MAX_AD_SIZE) and fails larger AAD: an RTP header above it, or an
 * unencrypted SRTCP packet above it, is -EINVAL there, so here too.
 */
#define SMB_AEAD_AAD_MAX 2048u

/*
 * Session keys of SRTP or of SRTCP (RFC 3711 4.3), ready for intel-ipsec-mb.
 * The AES-CM suites use the struct up to the end of k.cm only (SMB_CM_KEYS_BYTES,
 * about a third of it): contexts are allocated to size (smb_ctx.c).
 */
struct smb_keys {
	uint64_t salt_be[2];    /* the salt as two big-endian words, zero-padded, for IVs */
	uint8_t salt[SMB_CM_SALT_BYTES];        /* session salt; AEAD uses 12 bytes */
	_Alignas(64) union {
		struct {
			uint8_t enc[SMB_AES_SCHED_BYTES];       /* AES encryption round keys */
			uint8_t ipad[SMB_SHA1_STATE_BYTES];     /* SHA-1 state after key ^ 0x36.. */
			uint8_t opad[SMB_SHA1_STATE_BYTES];     /* SHA-1 state after key ^ 0x5c.. */
		} cm;
		struct gcm_key_data gcm;        /* AEAD: AES round keys, then GHASH tables */
	} k;
};

#define SMB_CM_KEYS_BYTES ((offsetof(struct smb_keys, k) + sizeof(((struct smb_keys *)0)->k.cm) + 63u) & ~(size_t)63u)
#define SMB_AEAD_KEYS_BYTES sizeof(struct smb_keys)

struct mr_smb_ctx {
	struct smb_state st;            /* owner worker */

	/*
	 * The engine's bookkeeping while a burst runs (owner worker): the op
	 * that last used this context in the current round, its speculative
	 * state slot, whether a later op must wait for the next round, and
	 * whether the speculation still holds.
	 * SMB_NONE / 0 between bursts.
	 */
	uint16_t rnd_last;
	uint16_t rnd_spec;
	uint8_t rnd_defer;
	uint8_t rnd_broken;     /* an op with crypto did not pass: speculation is off */

	/* RO after mr_smb_ctx_new() */
	uint8_t dir;                    /* enum mr_srtp_dir */
	uint8_t suite;
	bool aead;
	uint8_t key_len;                /* AES key bytes: 16 or 32 */
	uint8_t mki_len;
	uint8_t rtp_tag;                /* SRTP tag bytes */
	uint8_t rtcp_tag;               /* SRTCP tag bytes */
	uint8_t rtp_trailer;            /* MKI + SRTP tag */
	uint8_t rtcp_trailer;           /* E|index + MKI + SRTCP tag */
	uint8_t arch;                   /* IMB_ARCH the GHASH tables were made for */
	bool rtcp_mki_first;            /* srtp.c checks this SRTCP MKI before the SSRC */
	bool floor_set;                 /* outbound resumed: no index <= floor again */
	uint8_t ssrc_be[4];
	uint8_t mki[MR_MKI_MAX_BYTES];
	uint64_t floor;
	struct smb_keys *rtp;           /* into keys[] */
	struct smb_keys *rtcp;
	_Alignas(64) uint8_t keys[];    /* two key sets, SMB_CM_KEYS_BYTES or sizeof each */
};

/*
 * AES-GCM over @len bytes of @src into @dst (may be @src) with @aad, the
 * SMB_GCM_TAG_BYTES tag to @tag: intel-ipsec-mb's direct call for the key size and
 * direction. Failure shows in @m->imb_errno (the calls check arguments).
 */
static inline void
smb_gcm(IMB_MGR *m, uint8_t key_len, bool enc, const struct gcm_key_data *k,
	struct gcm_context_data *ctx, uint8_t *dst, const uint8_t *src, uint64_t len,
	const uint8_t *iv, const uint8_t *aad, uint64_t aad_len, uint8_t *tag)
{
	if (key_len == 16 && enc)
		IMB_AES128_GCM_ENC(m, k, ctx, dst, src, len, iv, aad, aad_len, tag, SMB_GCM_TAG_BYTES);
	else if (key_len == 16)
		IMB_AES128_GCM_DEC(m, k, ctx, dst, src, len, iv, aad, aad_len, tag, SMB_GCM_TAG_BYTES);
	else if (enc)
		IMB_AES256_GCM_ENC(m, k, ctx, dst, src, len, iv, aad, aad_len, tag, SMB_GCM_TAG_BYTES);
	else
		IMB_AES256_GCM_DEC(m, k, ctx, dst, src, len, iv, aad, aad_len, tag, SMB_GCM_TAG_BYTES);
}

/*
 * A manager initialised for the best code path of this CPU, or NULL with
 * errno set and smb_set_error() called. Management lcore.
 */
IMB_MGR *smb_mgr_new(void);
/* Fill k->salt_be from k->salt (also for tests that put in RFC session keys). */
void smb_salt_words(struct smb_keys *k);
void smb_set_error(const char *why);
const char *smb_arch_name(unsigned int arch);

#endif /* MR_DP_SMB_INT_H */
