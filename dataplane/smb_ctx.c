/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Burst-engine contexts: validation, key derivation and the precomputed
 * key material the workers' jobs point at. Management lcore only.
 *
 * Key derivation is RFC 3711 4.3 with key_derivation_rate 0 (libsrtp's only
 * rate): for label l, x = master salt XOR (l at octet 7), and the session
 * key is the AES-CM keystream under the master key from IV x * 2^16 (AES-
 * 128 or, RFC 6188, AES-256 by master key length). The AEAD suites (RFC
 * 7714) derive the same way from their 96-bit master salt padded on the
 * right with two zero octets, as libsrtp does; their session salt is the
 * first 12 octets of label 2/5's keystream, and they have no auth key.
 * Everything is computed with intel-ipsec-mb on one manager kept for the
 * process (ctx_mgr), so no other crypto library is needed here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "smb_int.h"

/* RFC 3711 4.3.2 labels */
#define LABEL_RTP_ENC 0x00
#define LABEL_RTP_AUTH 0x01
#define LABEL_RTP_SALT 0x02
#define LABEL_RTCP_ENC 0x03
#define LABEL_RTCP_AUTH 0x04
#define LABEL_RTCP_SALT 0x05

#define SHA1_BLOCK 64u

static IMB_MGR *ctx_mgr;        /* management lcore; lives as long as the process */

static void *
libc_alloc(size_t align, size_t size)
{
	return aligned_alloc(align, (size + align - 1) & ~(align - 1));
}

static void
libc_release(void *p, size_t size)
{
	(void)size;
	free(p);
}

static void *(*ctx_alloc)(size_t align, size_t size) = libc_alloc;    /* management lcore */
static void (*ctx_release)(void *p, size_t size) = libc_release;

void
mr_smb_set_allocator(void *(*alloc)(size_t align, size_t size),
		     void (*release)(void *p, size_t size))
{
	ctx_alloc = alloc != NULL ? alloc : libc_alloc;
	ctx_release = release != NULL ? release : libc_release;
}

bool
mr_smb_suite_supported(uint8_t suite)
{
	switch (suite) {
	case MR_SUITE_AES_CM_128_HMAC_SHA1_80:
	case MR_SUITE_AES_CM_128_HMAC_SHA1_32:
	case MR_SUITE_AES_256_CM_HMAC_SHA1_80:
	case MR_SUITE_AES_256_CM_HMAC_SHA1_32:
	case MR_SUITE_AEAD_AES_128_GCM:
	case MR_SUITE_AEAD_AES_256_GCM:
		return true;
	default:
		return false;
	}
}

static void
expand_aes(IMB_MGR *m, const uint8_t *key, uint8_t key_len, uint8_t enc[SMB_AES_SCHED_BYTES])
{
	_Alignas(16) uint8_t dec[SMB_AES_SCHED_BYTES];

	if (key_len == 16)
		IMB_AES_KEYEXP_128(m, key, enc, dec);
	else
		IMB_AES_KEYEXP_256(m, key, enc, dec);
	explicit_bzero(dec, sizeof(dec));
}

/*
 * @n (<= 32) bytes of the AES-CM PRF for @label: the keystream under the
 * master key's schedule @mk_enc from IV (salt14 ^ label@7) * 2^16.
 */
static int
prf(IMB_MGR *m, const uint8_t *mk_enc, uint8_t key_len, const uint8_t salt14[14],
    uint8_t label, uint8_t *out, uint32_t n)
{
	static const uint8_t zero[32];
	uint8_t iv[16] = { 0 };
	IMB_JOB *j;
	int r = 0;

	memcpy(iv, salt14, SMB_CM_SALT_BYTES);
	iv[7] ^= label;
	j = IMB_GET_NEXT_JOB(m);
	memset(j, 0, sizeof(*j));
	j->cipher_mode = IMB_CIPHER_CNTR;
	j->cipher_direction = IMB_DIR_ENCRYPT;
	j->chain_order = IMB_ORDER_CIPHER_HASH;
	j->hash_alg = IMB_AUTH_NULL;
	j->key_len_in_bytes = key_len;
	j->enc_keys = mk_enc;
	j->dec_keys = mk_enc;
	j->src = zero;
	j->dst = out;
	j->msg_len_to_cipher_in_bytes = n;
	j->iv = iv;
	j->iv_len_in_bytes = sizeof(iv);
	j = IMB_SUBMIT_JOB(m);
	while (j == NULL || j->status != IMB_STATUS_COMPLETED) {
		if (j != NULL) {
			r = -EINVAL;
			break;
		}
		j = IMB_FLUSH_JOB(m);
		if (j == NULL) {
			r = -EINVAL;
			break;
		}
	}
	explicit_bzero(iv, sizeof(iv));
	return r;
}

void
smb_salt_words(struct smb_keys *k)
{
	uint8_t b[16] = { 0 };
	unsigned int i, w;

	memcpy(b, k->salt, sizeof(k->salt));
	for (w = 0; w < 2; w++) {
		k->salt_be[w] = 0;
		for (i = 0; i < 8; i++)
			k->salt_be[w] = k->salt_be[w] << 8 | b[8 * w + i];
	}
}

/* HMAC-SHA1 key -> the SHA-1 states after its ipad and opad blocks. */
static void
hmac_pads(IMB_MGR *m, const uint8_t key[SMB_AUTH_KEY_BYTES], uint8_t *ipad, uint8_t *opad)
{
	_Alignas(16) uint8_t blk[SHA1_BLOCK];
	unsigned int i;

	memset(blk, 0x36, sizeof(blk));
	for (i = 0; i < SMB_AUTH_KEY_BYTES; i++)
		blk[i] ^= key[i];
	IMB_SHA1_ONE_BLOCK(m, blk, ipad);
	memset(blk, 0x5c, sizeof(blk));
	for (i = 0; i < SMB_AUTH_KEY_BYTES; i++)
		blk[i] ^= key[i];
	IMB_SHA1_ONE_BLOCK(m, blk, opad);
	explicit_bzero(blk, sizeof(blk));
}

/* The session keys of one of SRTP (labels 0-2) or SRTCP (labels 3-5). */
static int
derive(IMB_MGR *m, const struct mr_smb_ctx *c, const uint8_t *mk_enc, const uint8_t salt14[14],
       uint8_t label0, struct smb_keys *out)
{
	uint8_t key[MR_KEY_MAX_BYTES], auth[SMB_AUTH_KEY_BYTES];
	int r;

	r = prf(m, mk_enc, c->key_len, salt14, label0, key, c->key_len);
	if (r == 0)
		r = prf(m, mk_enc, c->key_len, salt14, (uint8_t)(label0 + 2), out->salt,
			c->aead ? SMB_AEAD_SALT_BYTES : SMB_CM_SALT_BYTES);
	if (r == 0)
		smb_salt_words(out);
	if (r == 0 && c->aead) {
		if (c->key_len == 16)
			IMB_AES128_GCM_PRE(m, key, &out->k.gcm);
		else
			IMB_AES256_GCM_PRE(m, key, &out->k.gcm);
	} else if (r == 0) {
		expand_aes(m, key, c->key_len, out->k.cm.enc);
		r = prf(m, mk_enc, c->key_len, salt14, (uint8_t)(label0 + 1), auth, sizeof(auth));
		if (r == 0)
			hmac_pads(m, auth, out->k.cm.ipad, out->k.cm.opad);
	}
	explicit_bzero(key, sizeof(key));
	explicit_bzero(auth, sizeof(auth));
	return r;
}

static bool
is_aead(uint8_t suite)
{
	return suite == MR_SUITE_AEAD_AES_128_GCM || suite == MR_SUITE_AEAD_AES_256_GCM;
}

/* One key set: AES-CM contexts stop after the HMAC pads (a third of an AEAD one). */
static size_t
keys_bytes(uint8_t suite)
{
	return is_aead(suite) ? SMB_AEAD_KEYS_BYTES : SMB_CM_KEYS_BYTES;
}

static size_t
ctx_bytes(uint8_t suite)
{
	return offsetof(struct mr_smb_ctx, keys) + 2u * keys_bytes(suite);
}

static bool
valid_key(const struct mr_key_gen *k, const struct mr_srtp_suite_info **ret_si)
{
	const struct mr_srtp_suite_info *si;

	if (k == NULL || !mr_smb_suite_supported(k->suite))
		return false;
	si = mr_srtp_suite(k->suite);
	if (si == NULL || k->key_len != si->key_len || k->salt_len != si->salt_len ||
	    k->mki_len > MR_MKI_MAX_BYTES)
		return false;
	*ret_si = si;
	return true;
}

static void
init_state(struct mr_smb_ctx *c, const struct mr_srtp_resume *r)
{
	memset(&c->st, 0, sizeof(c->st));
	if (r == NULL || !r->valid)
		return;
	c->st.hi = (uint64_t)r->roc << 16 | r->seq_hi;
	c->st.pending = true;
	c->st.rtcp_hi = r->srtcp_index;
	if (c->dir == MR_SRTP_OUTBOUND) {
		/* the next SRTCP index sent is srtcp_index + 1 */
		c->st.rtcp_start = r->srtcp_index;
		/*
		 * libsrtp's replay database restarts empty: without a floor it
		 * would protect again an index the previous process sent.
		 */
		c->floor_set = true;
		c->floor = c->st.hi;
	}
}

struct mr_smb_ctx *
mr_smb_ctx_new(const struct mr_key_gen *k, uint32_t ssrc, enum mr_srtp_dir dir,
	       const struct mr_srtp_resume *r)
{
	uint8_t salt14[SMB_CM_SALT_BYTES] = { 0 };
	_Alignas(16) uint8_t mk_enc[SMB_AES_SCHED_BYTES];
	const struct mr_srtp_suite_info *si;
	struct mr_smb_ctx *c;
	int rc;

	if (!valid_key(k, &si) || (dir != MR_SRTP_INBOUND && dir != MR_SRTP_OUTBOUND) ||
	    (r != NULL && r->valid && r->srtcp_index > SMB_SRTCP_INDEX_MAX)) {
		smb_set_error("invalid key generation, direction or resume point");
		errno = EINVAL;
		return NULL;
	}
	if (ctx_mgr == NULL) {
		ctx_mgr = smb_mgr_new();
		if (ctx_mgr == NULL)
			return NULL;
	}
	c = ctx_alloc(64, ctx_bytes(k->suite));
	if (c == NULL) {
		smb_set_error("out of memory");
		errno = ENOMEM;
		return NULL;
	}
	memset(c, 0, ctx_bytes(k->suite));
	c->rnd_last = SMB_NONE;
	c->rnd_spec = SMB_NONE;
	c->dir = (uint8_t)dir;
	c->suite = k->suite;
	c->aead = is_aead(k->suite);
	c->rtp = (struct smb_keys *)c->keys;
	c->rtcp = (struct smb_keys *)(c->keys + keys_bytes(k->suite));
	c->key_len = k->key_len;
	c->mki_len = k->mki_len;
	c->rtp_tag = si->rtp_tag_len;
	c->rtcp_tag = si->rtcp_tag_len;
	c->rtp_trailer = (uint8_t)(k->mki_len + si->rtp_tag_len);
	c->rtcp_trailer = (uint8_t)(4u + k->mki_len + si->rtcp_tag_len);
	c->arch = (uint8_t)ctx_mgr->used_arch;
	/* srtp.c's work-around for libsrtp 2.5's SRTCP MKI lookup (see there) */
	c->rtcp_mki_first = k->mki_len != 0 && !c->aead && si->rtp_tag_len != si->rtcp_tag_len;
	c->ssrc_be[0] = (uint8_t)(ssrc >> 24);
	c->ssrc_be[1] = (uint8_t)(ssrc >> 16);
	c->ssrc_be[2] = (uint8_t)(ssrc >> 8);
	c->ssrc_be[3] = (uint8_t)ssrc;
	memcpy(c->mki, k->mki, k->mki_len);
	init_state(c, r);

	/* A 12-byte AEAD master salt is padded with zeros (libsrtp). */
	memcpy(salt14, k->salt, k->salt_len);
	expand_aes(ctx_mgr, k->key, k->key_len, mk_enc);
	rc = derive(ctx_mgr, c, mk_enc, salt14, LABEL_RTP_ENC, c->rtp);
	if (rc == 0)
		rc = derive(ctx_mgr, c, mk_enc, salt14, LABEL_RTCP_ENC, c->rtcp);
	explicit_bzero(mk_enc, sizeof(mk_enc));
	explicit_bzero(salt14, sizeof(salt14));
	if (rc < 0) {
		smb_set_error("intel-ipsec-mb: key derivation failed");
		mr_smb_ctx_free(c);
		errno = EINVAL;
		return NULL;
	}
	return c;
}

void
mr_smb_ctx_free(struct mr_smb_ctx *c)
{
	if (c == NULL)
		return;
	size_t size = ctx_bytes(c->suite);

	explicit_bzero(c, size);
	ctx_release(c, size);
}

void
mr_smb_ctx_state(const struct mr_smb_ctx *c, uint32_t *ret_roc, uint16_t *ret_seq_hi,
		 uint32_t *ret_srtcp_index)
{
	if (ret_roc != NULL)
		*ret_roc = (uint32_t)(c->st.hi >> 16);
	if (ret_seq_hi != NULL)
		*ret_seq_hi = (uint16_t)c->st.hi;
	if (ret_srtcp_index != NULL)
		*ret_srtcp_index = c->st.rtcp_hi;
}

void
mr_smb_ctx_prefetch(const struct mr_smb_ctx *c)
{
	const char *p = (const char *)c, *k;
	size_t i;

	if (c == NULL)
		return;
	/* The state (index, window) and the header after it. */
	for (i = 0; i < offsetof(struct mr_smb_ctx, keys); i += 64)
		__builtin_prefetch(p + i);
	/* The RTP key set is the first of keys[] (smb_ctx_new()); the AES-CM
	 * suites read it up to the SHA-1 pads, AEAD its AES round keys and the
	 * first GHASH lines. */
	k = (const char *)c->keys;
	for (i = 0; i < SMB_CM_KEYS_BYTES; i += 64)
		__builtin_prefetch(k + i);
}
