/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SRTP/SRTCP (dataplane/srtp.c) against three references:
 *  1. the RFC test vectors, recomputed here with OpenSSL (AES-ECB/CTR,
 *     HMAC-SHA1, AES-GCM): RFC 3711 B.2 (AES-CM keystream) and B.3 (key
 *     derivation), RFC 6188 7.2 (AES-256 key derivation), RFC 7714 16-17
 *     (AEAD_AES_128_GCM / AEAD_AES_256_GCM SRTP and SRTCP packets). The
 *     OpenSSL packet builders checked against them then build packets from
 *     derived session keys, and mrelay must produce them byte for byte.
 *  2. libsrtp used directly (its own srtp_create() and policy) as the peer,
 *     in both directions, across the 16-bit sequence wrap.
 *  3. the contract of srtp.h: return codes, resume, verify, no overruns.
 *
 * RFC 7714's vectors start from session keys, which no master key can be
 * made to derive, so they are checked on the OpenSSL builder only; mrelay
 * is then held to that builder with keys derived from a master key. For the
 * GCM suites' 96-bit master salt, the derivation pads the salt with two zero
 * bytes on the right, as libsrtp does (cisco/libsrtp issue #179 discusses
 * the RFC's wording); that part is checked against libsrtp, not an RFC.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <srtp2/srtp.h>

#include "srtp.h"
#include "../libsrtp_peer.h"
#include "srtp_fixture.h"
#include "srtp_vectors.h"

#define PKT_MAX 512

/* ---- helpers ---------------------------------------------------------- */

static uint32_t
rd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A resume point as flow.c makes one from a dp part's mr_ssrc_state. */
#define RESUME(r, s, i) (&(struct mr_srtp_resume){ .roc = (r), .seq_hi = (s), \
						   .srtcp_index = (i), .valid = true })

static bool
is_gcm(uint8_t suite)
{
	return suite == MR_SUITE_AEAD_AES_128_GCM || suite == MR_SUITE_AEAD_AES_256_GCM;
}

/* ---- OpenSSL reference ------------------------------------------------ */

/* XOR the AES-CTR keystream of (@key, @iv) into @buf. */
static void
ossl_ctr(const uint8_t *key, size_t key_len, const uint8_t iv[16], uint8_t *buf, size_t len)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int outl = 0;

	assert_non_null(x);
	assert_int_equal(EVP_EncryptInit_ex(x, key_len == 16 ? EVP_aes_128_ctr() :
					    EVP_aes_256_ctr(), NULL, key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(x, buf, &outl, buf, (int)len), 1);
	assert_int_equal((size_t)outl, len);
	EVP_CIPHER_CTX_free(x);
}

static void
ossl_ecb(const uint8_t *key, size_t key_len, const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int outl = 0;

	assert_non_null(x);
	assert_int_equal(EVP_EncryptInit_ex(x, key_len == 16 ? EVP_aes_128_ecb() :
					    EVP_aes_256_ecb(), NULL, key, NULL), 1);
	EVP_CIPHER_CTX_set_padding(x, 0);
	assert_int_equal(EVP_EncryptUpdate(x, out, &outl, in, 16), 1);
	assert_int_equal(outl, 16);
	EVP_CIPHER_CTX_free(x);
}

/*
 * RFC 3711 4.3.1/4.3.3 with kdr = 0: x = (label at octet 7) XOR master salt
 * (14 octets; a 12-octet GCM salt is padded with zeros on the right, as
 * libsrtp does), IV = x * 2^16, output = AES-CM keystream under the master
 * key. The first block is also computed with AES-ECB to pin the layout.
 */
static void
kdf(const uint8_t *mk, size_t mk_len, const uint8_t *ms, size_t ms_len, uint8_t label,
    uint8_t *out, size_t n)
{
	uint8_t iv[16] = { 0 }, blk[16];

	memcpy(iv, ms, ms_len);
	iv[7] ^= label;
	memset(out, 0, n);
	ossl_ctr(mk, mk_len, iv, out, n);
	ossl_ecb(mk, mk_len, iv, blk);
	assert_memory_equal(blk, out, n < 16 ? n : 16);
}

static void
hmac_sha1(const uint8_t *key, const uint8_t *msg, size_t len, uint8_t out[20])
{
	unsigned int olen = 0;

	assert_non_null(HMAC(EVP_sha1(), key, 20, msg, len, out, &olen));
	assert_int_equal(olen, 20);
}

/* AES-GCM seal: @buf[0..len) encrypted in place, the 16-byte tag at @buf + len. */
static void
ossl_gcm_seal(const uint8_t *key, size_t key_len, const uint8_t iv[12], const uint8_t *aad,
	      size_t aad_len, uint8_t *buf, size_t len)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int outl = 0;

	assert_non_null(x);
	assert_int_equal(EVP_EncryptInit_ex(x, key_len == 16 ? EVP_aes_128_gcm() :
					    EVP_aes_256_gcm(), NULL, key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(x, NULL, &outl, aad, (int)aad_len), 1);
	if (len > 0)
		assert_int_equal(EVP_EncryptUpdate(x, buf, &outl, buf, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(x, buf + len, &outl), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, buf + len), 1);
	EVP_CIPHER_CTX_free(x);
}

/* AES-GCM open: @buf[0..len) decrypted in place if the tag at @buf + len holds. */
static bool
ossl_gcm_open(const uint8_t *key, size_t key_len, const uint8_t iv[12], const uint8_t *aad,
	      size_t aad_len, uint8_t *buf, size_t len)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t tag[16];
	int outl = 0, ok;

	assert_non_null(x);
	memcpy(tag, buf + len, 16);
	assert_int_equal(EVP_DecryptInit_ex(x, key_len == 16 ? EVP_aes_128_gcm() :
					    EVP_aes_256_gcm(), NULL, key, iv), 1);
	assert_int_equal(EVP_DecryptUpdate(x, NULL, &outl, aad, (int)aad_len), 1);
	if (len > 0)
		assert_int_equal(EVP_DecryptUpdate(x, buf, &outl, buf, (int)len), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, tag), 1);
	ok = EVP_DecryptFinal_ex(x, buf + len, &outl);
	EVP_CIPHER_CTX_free(x);
	return ok == 1;
}

/* Session keys of one master key (RFC 3711 4.3, labels 0-5). */
struct skeys {
	uint8_t key_len, salt_len;
	uint8_t k_e[32], k_a[20], k_s[14];      /* SRTP */
	uint8_t c_e[32], c_a[20], c_s[14];      /* SRTCP */
};

static void
derive(const struct mr_key_gen *k, struct skeys *s)
{
	memset(s, 0, sizeof(*s));
	s->key_len = k->key_len;
	s->salt_len = k->salt_len;
	kdf(k->key, k->key_len, k->salt, k->salt_len, 0x00, s->k_e, k->key_len);
	kdf(k->key, k->key_len, k->salt, k->salt_len, 0x01, s->k_a, 20);
	kdf(k->key, k->key_len, k->salt, k->salt_len, 0x02, s->k_s, k->salt_len);
	kdf(k->key, k->key_len, k->salt, k->salt_len, 0x03, s->c_e, k->key_len);
	kdf(k->key, k->key_len, k->salt, k->salt_len, 0x04, s->c_a, 20);
	kdf(k->key, k->key_len, k->salt, k->salt_len, 0x05, s->c_s, k->salt_len);
}

static size_t
rtp_hdr_len(const uint8_t *p)
{
	size_t h = 12 + 4u * (p[0] & 0x0f);

	if (p[0] & 0x10)
		h += 4 + 4u * (size_t)(p[h + 2] << 8 | p[h + 3]);
	return h;
}

/*
 * RFC 3711 SRTP, AES-CM + HMAC-SHA1: IV = k_s*2^16 ^ SSRC*2^64 ^ i*2^16,
 * i = ROC || SEQ; tag = HMAC(k_a, header || ciphertext || ROC); packet =
 * header || ciphertext || MKI || tag.
 */
static size_t
ref_srtp_cm(const struct skeys *s, uint8_t tag_len, uint32_t roc, const uint8_t *mki,
	    uint8_t mki_len, const uint8_t *pkt, size_t len, uint8_t *out)
{
	uint8_t iv[16] = { 0 }, msg[PKT_MAX + 4], tag[20];
	size_t h = rtp_hdr_len(pkt), i;

	memcpy(out, pkt, len);
	memcpy(iv, s->k_s, 14);
	for (i = 0; i < 4; i++)
		iv[4 + i] ^= pkt[8 + i];
	iv[8] ^= (uint8_t)(roc >> 24);
	iv[9] ^= (uint8_t)(roc >> 16);
	iv[10] ^= (uint8_t)(roc >> 8);
	iv[11] ^= (uint8_t)roc;
	iv[12] ^= pkt[2];
	iv[13] ^= pkt[3];
	ossl_ctr(s->k_e, s->key_len, iv, out + h, len - h);
	memcpy(msg, out, len);
	mr_test_wr_be32(msg + len, roc);
	hmac_sha1(s->k_a, msg, len + 4, tag);
	memcpy(out + len, mki, mki_len);
	memcpy(out + len + mki_len, tag, tag_len);
	return len + mki_len + tag_len;
}

/*
 * RFC 3711 SRTCP: IV as SRTP with i = SRTCP index; tag = HMAC(k_a, header
 * || ciphertext || E|index), 80 bits; packet = ... || E|index || MKI || tag.
 */
static size_t
ref_srtcp_cm(const struct skeys *s, uint32_t index, const uint8_t *mki, uint8_t mki_len,
	     const uint8_t *pkt, size_t len, uint8_t *out)
{
	uint8_t iv[16] = { 0 }, tag[20];
	size_t i;

	memcpy(out, pkt, len);
	memcpy(iv, s->c_s, 14);
	for (i = 0; i < 4; i++)
		iv[4 + i] ^= pkt[4 + i];
	iv[10] ^= (uint8_t)(index >> 24);
	iv[11] ^= (uint8_t)(index >> 16);
	iv[12] ^= (uint8_t)(index >> 8);
	iv[13] ^= (uint8_t)index;
	ossl_ctr(s->c_e, s->key_len, iv, out + 8, len - 8);
	mr_test_wr_be32(out + len, 0x80000000u | index);
	hmac_sha1(s->c_a, out, len + 4, tag);
	memcpy(out + len + 4, mki, mki_len);
	memcpy(out + len + 4 + mki_len, tag, 10);
	return len + 4 + mki_len + 10;
}

/*
 * RFC 7714 SRTP: IV = (0x0000 || SSRC || ROC || SEQ) ^ salt, AAD = header;
 * packet = header || ciphertext || tag || MKI.
 */
static size_t
ref_srtp_gcm(const uint8_t *key, size_t key_len, const uint8_t salt[12], uint32_t roc,
	     const uint8_t *mki, uint8_t mki_len, const uint8_t *pkt, size_t len, uint8_t *out)
{
	uint8_t iv[12] = { 0 };
	size_t h = rtp_hdr_len(pkt), i;

	memcpy(out, pkt, len);
	memcpy(iv + 2, pkt + 8, 4);
	mr_test_wr_be32(iv + 6, roc);
	iv[10] = pkt[2];
	iv[11] = pkt[3];
	for (i = 0; i < 12; i++)
		iv[i] ^= salt[i];
	ossl_gcm_seal(key, key_len, iv, out, h, out + h, len - h);
	memcpy(out + len + 16, mki, mki_len);
	return len + 16 + mki_len;
}

/*
 * RFC 7714 SRTCP: IV = (0x0000 || SSRC || 0x0000 || 0 || index) ^ salt,
 * AAD = header || E|index; packet = header || ciphertext || tag || E|index || MKI.
 */
static size_t
ref_srtcp_gcm(const uint8_t *key, size_t key_len, const uint8_t salt[12], uint32_t index,
	      const uint8_t *mki, uint8_t mki_len, const uint8_t *pkt, size_t len, uint8_t *out)
{
	uint8_t iv[12] = { 0 }, aad[12];
	size_t i;

	memcpy(out, pkt, len);
	memcpy(iv + 2, pkt + 4, 4);
	mr_test_wr_be32(iv + 8, index);
	for (i = 0; i < 12; i++)
		iv[i] ^= salt[i];
	memcpy(aad, pkt, 8);
	mr_test_wr_be32(aad + 8, 0x80000000u | index);
	ossl_gcm_seal(key, key_len, iv, aad, sizeof(aad), out + 8, len - 8);
	memcpy(out + len + 16, aad + 8, 4);
	memcpy(out + len + 20, mki, mki_len);
	return len + 20 + mki_len;
}

/* The reference packet of any suite, from session keys derived here. */
static size_t
ref_srtp(uint8_t suite, const struct skeys *s, uint32_t roc, uint8_t mki_len,
	 const uint8_t *pkt, size_t len, uint8_t *out)
{
	if (is_gcm(suite))
		return ref_srtp_gcm(s->k_e, s->key_len, s->k_s, roc, mr_test_mki, mki_len,
				    pkt, len, out);
	return ref_srtp_cm(s, mr_srtp_suite(suite)->rtp_tag_len, roc, mr_test_mki, mki_len,
			   pkt, len, out);
}

static size_t
ref_srtcp(uint8_t suite, const struct skeys *s, uint32_t index, uint8_t mki_len,
	  const uint8_t *pkt, size_t len, uint8_t *out)
{
	if (is_gcm(suite))
		return ref_srtcp_gcm(s->c_e, s->key_len, s->c_s, index, mr_test_mki, mki_len,
				     pkt, len, out);
	return ref_srtcp_cm(s, index, mr_test_mki, mki_len, pkt, len, out);
}

/* ---- suite table ------------------------------------------------------ */

static void
suite_table(void **state)
{
	const struct mr_srtp_suite_info *si;
	size_t i;

	(void)state;
	assert_null(mr_srtp_suite(MR_SUITE_NONE));
	assert_null(mr_srtp_suite(MR_SUITE_MAX));
	assert_null(mr_srtp_suite(255));
	for (i = 0; i < MR_TEST_N_SUITES; i++) {
		si = mr_srtp_suite(mr_test_suites[i]);
		assert_non_null(si);
		assert_int_equal(mr_srtp_suite_by_name(si->name), mr_test_suites[i]);
	}
	si = mr_srtp_suite(MR_SUITE_AES_CM_128_HMAC_SHA1_32);
	assert_string_equal(si->name, "AES_CM_128_HMAC_SHA1_32");
	assert_int_equal(si->key_len, 16);
	assert_int_equal(si->salt_len, 14);
	assert_int_equal(si->rtp_tag_len, 4);
	assert_int_equal(si->rtcp_tag_len, 10);       /* RFC 4568 6.2.1 */
	si = mr_srtp_suite(MR_SUITE_AES_256_CM_HMAC_SHA1_32);
	assert_int_equal(si->key_len, 32);
	assert_int_equal(si->rtp_tag_len, 4);
	assert_int_equal(si->rtcp_tag_len, 10);
	si = mr_srtp_suite(MR_SUITE_AEAD_AES_256_GCM);
	assert_string_equal(si->name, "AEAD_AES_256_GCM");
	assert_int_equal(si->key_len, 32);
	assert_int_equal(si->salt_len, 12);
	assert_int_equal(si->rtp_tag_len, 16);
	assert_int_equal(si->rtcp_tag_len, 16);
	assert_int_equal(mr_srtp_suite_by_name("aes_cm_128_hmac_sha1_80"), MR_SUITE_NONE);
	assert_int_equal(mr_srtp_suite_by_name("F8_128_HMAC_SHA1_80"), MR_SUITE_NONE);
	assert_int_equal(mr_srtp_suite_by_name(""), MR_SUITE_NONE);
	assert_int_equal(mr_srtp_suite_by_name(NULL), MR_SUITE_NONE);
	assert_int_equal(mr_srtp_init(), 0);   /* idempotent */
}

/* ---- 1. RFC vectors ----------------------------------------------------- */

/* RFC 3711 B.2: AES-CM keystream, first three blocks. */
static void
rfc3711_b2_keystream(void **state)
{
	uint8_t key[16], iv[16], ks[48] = { 0 };

	(void)state;
	mr_test_unhex("2B7E151628AED2A6ABF7158809CF4F3C", key, sizeof(key));
	mr_test_unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000", iv, sizeof(iv));
	ossl_ctr(key, 16, iv, ks, sizeof(ks));
	mr_test_assert_hex(ks, 48, "E03EAD0935C95E80E166B16DD92B4EB4"
				   "D23513162B02D0F72A43A2FE4A5F97AB"
				   "41E95B3BB0A2E8DD477901E4FCA894C0");
}

/* RFC 3711 B.3: key derivation (the auth key line is the full keystream). */
static void
rfc3711_b3_kdf(void **state)
{
	uint8_t mk[16], ms[14], out[94];

	(void)state;
	mr_test_unhex(MR_TEST_RFC3711_MK, mk, sizeof(mk));
	mr_test_unhex(MR_TEST_RFC3711_MS, ms, sizeof(ms));
	kdf(mk, 16, ms, 14, 0x00, out, 16);
	mr_test_assert_hex(out, 16, "C61E7A93744F39EE10734AFE3FF7A087");
	kdf(mk, 16, ms, 14, 0x02, out, 14);
	mr_test_assert_hex(out, 14, "30CBBC08863D8C85D49DB34A9AE1");
	kdf(mk, 16, ms, 14, 0x01, out, 94);
	mr_test_assert_hex(out, 94, "CEBE321F6FF7716B6FD4AB49AF256A15"
				    "6D38BAA48F0A0ACF3C34E2359E6CDBCE"
				    "E049646C43D9327AD175578EF7227098"
				    "6371C10C9A369AC2F94A8C5FBCDDDC25"
				    "6D6E919A48B610EF17C2041E47403576"
				    "6B68642C59BBFC2F34DB60DBDFB2");
}

/* RFC 6188 7.2: AES_256_CM_PRF key derivation. */
static void
rfc6188_kdf(void **state)
{
	uint8_t mk[32], ms[14], out[32];

	(void)state;
	mr_test_unhex(MR_TEST_RFC6188_MK, mk, sizeof(mk));
	mr_test_unhex(MR_TEST_RFC6188_MS, ms, sizeof(ms));
	kdf(mk, 32, ms, 14, 0x00, out, 32);
	mr_test_assert_hex(out, 32,
			   "5ba1064e30ec51613cad926c5a28ef73 1ec7fb397f70a960653caf06554cd8c4");
	kdf(mk, 32, ms, 14, 0x02, out, 14);
	mr_test_assert_hex(out, 14, "fa31791685ca444a9e07c6c64e93");
	kdf(mk, 32, ms, 14, 0x01, out, 20);
	mr_test_assert_hex(out, 20, "fd9c32d39ed5fbb5a9dc96b30818454d1313dc05");
}

/*
 * RFC 7714 16-17: the OpenSSL builders reproduce the RFC's SRTP and SRTCP
 * packets (AEAD_AES_128_GCM and AEAD_AES_256_GCM, session key and salt as
 * given, ROC 0, SRTCP index 0x5d4) and open them again.
 */
static void
rfc7714_vectors(void **state)
{
	static const char *const keys[2] = { MR_TEST_RFC7714_K128, MR_TEST_RFC7714_K256 };
	static const char *const rtp_out[2] = { MR_TEST_RFC7714_RTP_128, MR_TEST_RFC7714_RTP_256 };
	static const char *const rtcp_out[2] = { MR_TEST_RFC7714_RTCP_128, MR_TEST_RFC7714_RTCP_256 };
	uint8_t key[32], salt[12], pt[PKT_MAX], ct[PKT_MAX], iv[12], aad[12];
	size_t kl, n, len, i, v;

	(void)state;
	mr_test_unhex(MR_TEST_RFC7714_SALT, salt, sizeof(salt));
	for (v = 0; v < 2; v++) {
		kl = mr_test_unhex(keys[v], key, sizeof(key));

		len = mr_test_unhex(MR_TEST_RFC7714_RTP, pt, sizeof(pt));
		n = ref_srtp_gcm(key, kl, salt, 0, mr_test_mki, 0, pt, len, ct);
		mr_test_assert_hex(ct, n, rtp_out[v]);
		/* IV of 16.1: 51753c6580c2726f20718414 */
		memset(iv, 0, sizeof(iv));
		memcpy(iv + 2, pt + 8, 4);
		iv[10] = pt[2];
		iv[11] = pt[3];
		for (i = 0; i < 12; i++)
			iv[i] ^= salt[i];
		mr_test_assert_hex(iv, 12, "51753c6580c2726f20718414");
		assert_true(ossl_gcm_open(key, kl, iv, ct, 12, ct + 12, len - 12));
		assert_memory_equal(ct, pt, len);
		n = ref_srtp_gcm(key, kl, salt, 0, mr_test_mki, 0, pt, len, ct);
		ct[20] ^= 1;
		assert_false(ossl_gcm_open(key, kl, iv, ct, 12, ct + 12, len - 12));

		len = mr_test_unhex(MR_TEST_RFC7714_RTCP, pt, sizeof(pt));
		n = ref_srtcp_gcm(key, kl, salt, 0x5d4, mr_test_mki, 0, pt, len, ct);
		mr_test_assert_hex(ct, n, rtcp_out[v]);
		memset(iv, 0, sizeof(iv));
		memcpy(iv + 2, pt + 4, 4);
		mr_test_wr_be32(iv + 8, 0x5d4);
		for (i = 0; i < 12; i++)
			iv[i] ^= salt[i];
		mr_test_assert_hex(iv, 12, "517524055203726f207170bb");
		memcpy(aad, ct, 8);
		memcpy(aad + 8, ct + n - 4, 4);
		assert_true(ossl_gcm_open(key, kl, iv, aad, 12, ct + 8, len - 8));
		assert_memory_equal(ct, pt, len);
	}
}

/*
 * libsrtp 2.5.0's own known answers (test/srtp_driver.c srtp_validate and
 * srtp_validate_aes_256; not RFC text): master key/salt of RFC 3711 B.3 and
 * RFC 6188 7.2, SSRC 0xcafebabe, seq 0x1234, first SRTCP index 1. A third
 * party the OpenSSL builders and mrelay must both agree with.
 */
static void
libsrtp_known_answers(void **state)
{
	struct mr_key_gen k128 = mr_test_key_hex(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0,
						 MR_TEST_RFC3711_MK, MR_TEST_RFC3711_MS);
	struct mr_key_gen k256 = mr_test_key_hex(MR_SUITE_AES_256_CM_HMAC_SHA1_80, 0,
						 MR_TEST_RFC6188_MK, MR_TEST_RFC6188_MS);
	_Alignas(8) uint8_t pkt[PKT_MAX];
	uint8_t ref[PKT_MAX];
	struct mr_srtp_ctx *c;
	struct skeys s;
	uint32_t len;
	size_t n;

	(void)state;
	derive(&k128, &s);
	len = (uint32_t)mr_test_unhex("800f1234decafbadcafebabe abababababababababababababababab",
				      pkt, sizeof(pkt));
	n = ref_srtp_cm(&s, 10, 0, mr_test_mki, 0, pkt, len, ref);
	mr_test_assert_hex(ref, n, "800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402"
				   "b78d6acc99ea179b8dbb");
	c = mr_srtp_ctx_new(&k128, 0xcafebabe, MR_SRTP_OUTBOUND, NULL);
	assert_non_null(c);
	assert_int_equal(mr_srtp_protect(c, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(len, n);
	assert_memory_equal(pkt, ref, n);
	len = (uint32_t)mr_test_unhex("81c8000bcafebabe abababababababababababababababab",
				      pkt, sizeof(pkt));
	n = ref_srtcp_cm(&s, 1, mr_test_mki, 0, pkt, len, ref);
	mr_test_assert_hex(ref, n, "81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8"
				   "80000001 993e08cd54d6c1230798");
	assert_int_equal(mr_srtcp_protect(c, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(len, n);
	assert_memory_equal(pkt, ref, n);
	mr_srtp_ctx_free(c);

	derive(&k256, &s);
	len = (uint32_t)mr_test_unhex("800f1234decafbadcafebabe abababababababababababababababab",
				      pkt, sizeof(pkt));
	n = ref_srtp_cm(&s, 10, 0, mr_test_mki, 0, pkt, len, ref);
	mr_test_assert_hex(ref, n, "800f1234decafbadcafebabe f1d9de17ff251ff1aa007774b0b4b40d"
				   "a08d9d9a5b3a55d8873b");
	c = mr_srtp_ctx_new(&k256, 0xcafebabe, MR_SRTP_OUTBOUND, NULL);
	assert_non_null(c);
	assert_int_equal(mr_srtp_protect(c, pkt, &len, sizeof(pkt)), 0);
	assert_memory_equal(pkt, ref, n);
	mr_srtp_ctx_free(c);
}

/*
 * Through mrelay, every suite, with and without MKI: master key and salt
 * of the RFC vectors (RFC 3711 B.3 for AES-128-CM, RFC 6188 7.2 for
 * AES-256-CM; RFC 7714's key and salt used as a *master* key for GCM),
 * session keys derived with the RFC-checked KDF, packets built with the
 * RFC-checked builders. mrelay's protect must produce them byte for byte,
 * and its unprotect must accept the independently built ones.
 */
static void
vectors_through_mrelay(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	uint8_t suite = pa->suite;
	struct mr_key_gen k;
	_Alignas(8) uint8_t pkt[PKT_MAX];
	uint8_t ref[PKT_MAX], plain[PKT_MAX];
	struct mr_srtp_ctx *out, *in;
	uint32_t len, plen, rtp_ssrc, rtcp_ssrc, roc, idx;
	uint16_t seq;
	struct skeys s;
	size_t n;

	switch (suite) {
	case MR_SUITE_AES_CM_128_HMAC_SHA1_80:
	case MR_SUITE_AES_CM_128_HMAC_SHA1_32:
		k = mr_test_key_hex(suite, pa->mki_len, MR_TEST_RFC3711_MK, MR_TEST_RFC3711_MS);
		break;
	case MR_SUITE_AES_256_CM_HMAC_SHA1_80:
	case MR_SUITE_AES_256_CM_HMAC_SHA1_32:
		k = mr_test_key_hex(suite, pa->mki_len, MR_TEST_RFC6188_MK, MR_TEST_RFC6188_MS);
		break;
	case MR_SUITE_AEAD_AES_128_GCM:
		k = mr_test_key_hex(suite, pa->mki_len, MR_TEST_RFC7714_K128, MR_TEST_RFC7714_SALT);
		break;
	default:
		k = mr_test_key_hex(suite, pa->mki_len, MR_TEST_RFC7714_K256, MR_TEST_RFC7714_SALT);
		break;
	}
	derive(&k, &s);
	/* The packets of RFC 7714: SSRC 0x5501a0b2 seq 0xf17b, SSRC "Mars". */
	plen = (uint32_t)mr_test_unhex(MR_TEST_RFC7714_RTP, plain, sizeof(plain));
	rtp_ssrc = rd_be32(plain + 8);
	rtcp_ssrc = 0x4d617273;

	/* SRTP, ROC 0 */
	out = mr_srtp_ctx_new(&k, rtp_ssrc, MR_SRTP_OUTBOUND, NULL);
	in = mr_srtp_ctx_new(&k, rtp_ssrc, MR_SRTP_INBOUND, NULL);
	assert_non_null(out);
	assert_non_null(in);
	n = ref_srtp(suite, &s, 0, k.mki_len, plain, plen, ref);
	assert_int_equal(n, plen + mr_test_rtp_trailer(&k));
	memcpy(pkt, plain, plen);
	len = plen;
	assert_int_equal(mr_srtp_protect(out, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(len, n);
	assert_memory_equal(pkt, ref, n);
	memcpy(pkt, ref, n);
	len = (uint32_t)n;
	assert_int_equal(mr_srtp_unprotect(in, pkt, &len), 0);
	assert_int_equal(len, plen);
	assert_memory_equal(pkt, plain, plen);
	mr_srtp_ctx_state(in, &roc, &seq, &idx);
	assert_int_equal(roc, 0);
	assert_int_equal(seq, 0xf17b);
	mr_srtp_ctx_free(out);
	mr_srtp_ctx_free(in);

	/* SRTP, ROC 1 (a resumed context): the ROC enters IV and tag. */
	out = mr_srtp_ctx_new(&k, rtp_ssrc, MR_SRTP_OUTBOUND, RESUME(1, 0xf17a, 0));
	assert_non_null(out);
	n = ref_srtp(suite, &s, 1, k.mki_len, plain, plen, ref);
	memcpy(pkt, plain, plen);
	len = plen;
	assert_int_equal(mr_srtp_protect(out, pkt, &len, sizeof(pkt)), 0);
	assert_memory_equal(pkt, ref, n);
	mr_srtp_ctx_free(out);

	/*
	 * SRTCP: the RFC 7714 packet with its index 0x5d4, reached by resuming
	 * the outbound context at 0x5d3 (the last index sent).
	 */
	plen = (uint32_t)mr_test_unhex(MR_TEST_RFC7714_RTCP, plain, sizeof(plain));
	out = mr_srtp_ctx_new(&k, rtcp_ssrc, MR_SRTP_OUTBOUND, RESUME(0, 0, 0x5d3));
	in = mr_srtp_ctx_new(&k, rtcp_ssrc, MR_SRTP_INBOUND, NULL);
	assert_non_null(out);
	assert_non_null(in);
	n = ref_srtcp(suite, &s, 0x5d4, k.mki_len, plain, plen, ref);
	assert_int_equal(n, plen + mr_test_rtcp_trailer(&k));
	memcpy(pkt, plain, plen);
	len = plen;
	assert_int_equal(mr_srtcp_protect(out, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(len, n);
	assert_memory_equal(pkt, ref, n);
	mr_srtp_ctx_state(out, NULL, NULL, &idx);
	assert_int_equal(idx, 0x5d4);
	memcpy(pkt, ref, n);
	len = (uint32_t)n;
	assert_int_equal(mr_srtcp_unprotect(in, pkt, &len), 0);
	assert_int_equal(len, plen);
	assert_memory_equal(pkt, plain, plen);
	mr_srtp_ctx_state(in, NULL, NULL, &idx);
	assert_int_equal(idx, 0x5d4);
	mr_srtp_ctx_free(out);
	mr_srtp_ctx_free(in);
}

/* ---- 2. round trips against libsrtp ------------------------------------ */

#define SSRC_A 0x11223344u
#define SSRC_B 0x55667788u

static void
roundtrip(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, (uint8_t)(0x30 + pa->suite));
	_Alignas(8) uint8_t pkt[PKT_MAX];
	uint8_t plain[PKT_MAX];
	struct mr_srtp_ctx *c;
	uint32_t len, plen, roc, idx, i;
	uint16_t seq;
	srtp_t peer;
	int n;

	/* mrelay protects, libsrtp unprotects: RTP across the wrap, then RTCP. */
	c = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, NULL);
	assert_non_null(c);
	peer = peer_new(&k, SSRC_A, false);
	for (i = 0; i < 20; i++) {
		plen = (uint32_t)mr_test_rtp(plain, (uint16_t)(65530u + i), SSRC_A, 20 + i);
		memcpy(pkt, plain, plen);
		len = plen;
		assert_int_equal(mr_srtp_protect(c, pkt, &len, sizeof(pkt)), 0);
		assert_int_equal(len, plen + mr_test_rtp_trailer(&k));
		assert_memory_not_equal(pkt + 12, plain + 12, plen - 12);
		n = (int)len;
		assert_int_equal(srtp_unprotect_mki(peer, pkt, &n, k.mki_len != 0),
				 srtp_err_status_ok);
		assert_int_equal(n, plen);
		assert_memory_equal(pkt, plain, plen);
	}
	mr_srtp_ctx_state(c, &roc, &seq, &idx);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, 13);
	assert_int_equal(idx, 0);
	assert_int_equal(srtp_get_stream_roc(peer, SSRC_A, &roc), srtp_err_status_ok);
	assert_int_equal(roc, 1);
	for (i = 1; i <= 5; i++) {
		plen = (uint32_t)mr_test_rtcp(plain, SSRC_A, i, 0);
		memcpy(pkt, plain, plen);
		len = plen;
		assert_int_equal(mr_srtcp_protect(c, pkt, &len, sizeof(pkt)), 0);
		assert_int_equal(len, plen + mr_test_rtcp_trailer(&k));
		n = (int)len;
		assert_int_equal(peer_unprotect_rtcp(peer, &k, pkt, &n), srtp_err_status_ok);
		assert_int_equal(n, plen);
		assert_memory_equal(pkt, plain, plen);
	}
	mr_srtp_ctx_state(c, &roc, &seq, &idx);
	assert_int_equal(idx, 5);
	mr_srtp_ctx_free(c);
	srtp_dealloc(peer);

	/* libsrtp protects, mrelay unprotects. */
	c = mr_srtp_ctx_new(&k, SSRC_B, MR_SRTP_INBOUND, NULL);
	assert_non_null(c);
	peer = peer_new(&k, SSRC_B, false);
	for (i = 0; i < 20; i++) {
		plen = (uint32_t)mr_test_rtp(plain, (uint16_t)(65530u + i), SSRC_B, 40 - i);
		memcpy(pkt, plain, plen);
		n = (int)plen;
		assert_int_equal(srtp_protect_mki(peer, pkt, &n, k.mki_len != 0, 0),
				 srtp_err_status_ok);
		len = (uint32_t)n;
		assert_int_equal(mr_srtp_unprotect(c, pkt, &len), 0);
		assert_int_equal(len, plen);
		assert_memory_equal(pkt, plain, plen);
	}
	mr_srtp_ctx_state(c, &roc, &seq, &idx);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, 13);
	for (i = 1; i <= 5; i++) {
		plen = (uint32_t)mr_test_rtcp(plain, SSRC_B, i, 0);
		memcpy(pkt, plain, plen);
		n = (int)plen;
		assert_int_equal(srtp_protect_rtcp_mki(peer, pkt, &n, k.mki_len != 0, 0),
				 srtp_err_status_ok);
		len = (uint32_t)n;
		assert_int_equal(mr_srtcp_unprotect(c, pkt, &len), 0);
		assert_int_equal(len, plen);
		assert_memory_equal(pkt, plain, plen);
	}
	mr_srtp_ctx_state(c, &roc, &seq, &idx);
	assert_int_equal(idx, 5);
	mr_srtp_ctx_free(c);
	srtp_dealloc(peer);
}

/*
 * The libsrtp 2.5 SRTCP MKI lookup on the _32 suites: mrelay accepts what
 * libsrtp itself protects. Whether libsrtp accepts its own packet is
 * printed, not asserted (a fixed libsrtp will say "accepts").
 */
static void
rtcp_mki_short_tag(void **state)
{
	struct mr_key_gen k = mr_test_key(MR_SUITE_AES_CM_128_HMAC_SHA1_32, 4, 0x77);
	_Alignas(8) uint8_t pkt[PKT_MAX], copy[PKT_MAX];
	uint8_t plain[PKT_MAX];
	struct mr_srtp_ctx *c;
	srtp_t tx, rx;
	uint32_t len, plen;
	srtp_err_status_t st;
	int n;

	(void)state;
	c = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_INBOUND, NULL);
	assert_non_null(c);
	tx = peer_new(&k, SSRC_A, false);
	rx = peer_new(&k, SSRC_A, false);
	plen = (uint32_t)mr_test_rtcp(plain, SSRC_A, 1, 0);
	memcpy(pkt, plain, plen);
	n = (int)plen;
	assert_int_equal(srtp_protect_rtcp_mki(tx, pkt, &n, 1, 0), srtp_err_status_ok);
	/* RFC 3711 layout: E|index, MKI, then the 80-bit tag. */
	assert_int_equal(n, plen + 4 + 4 + 10);
	assert_memory_equal(pkt + plen + 4, mr_test_mki, 4);
	memcpy(copy, pkt, (size_t)n);
	len = (uint32_t)n;
	assert_int_equal(mr_srtcp_unprotect(c, pkt, &len), 0);
	assert_int_equal(len, plen);
	assert_memory_equal(pkt, plain, plen);
	st = srtp_unprotect_rtcp_mki(rx, copy, &n, 1);
	print_message("libsrtp %s %s its own SRTCP packet with MKI on a _32 suite (status %d)\n",
		      srtp_get_version_string(), st == srtp_err_status_ok ? "accepts" : "rejects",
		      (int)st);
	mr_srtp_ctx_free(c);
	srtp_dealloc(tx);
	srtp_dealloc(rx);
}

/* ---- 3. failures ---------------------------------------------------------- */

/*
 * After a failed unprotect the AES-CM suites leave the packet as it was
 * (libsrtp authenticates before it decrypts). With the AEAD suites libsrtp
 * decrypts in place with NSS's PK11_Decrypt(), which clears the plaintext
 * it wrote when the tag does not match: only the header and the trailer
 * are left alone (srtp.c documents this for callers that retry).
 */
static void
assert_untouched(uint8_t suite, const uint8_t *pkt, const uint8_t *copy, uint32_t len,
		 uint32_t hdr_len, uint32_t trailer_len)
{
	if (!is_gcm(suite)) {
		assert_memory_equal(pkt, copy, len);
		return;
	}
	assert_memory_equal(pkt, copy, hdr_len);
	assert_memory_equal(pkt + len - trailer_len, copy + len - trailer_len, trailer_len);
}

static void
failures(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0x5c);
	_Alignas(8) uint8_t pkt[PKT_MAX], good[PKT_MAX], copy[PKT_MAX];
	struct mr_srtp_ctx *out, *in;
	uint32_t len, glen, plen, i;

	out = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, NULL);
	in = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_INBOUND, NULL);
	assert_non_null(out);
	assert_non_null(in);

	/* Too small a buffer: nothing written, -EMSGSIZE; exact room is enough. */
	plen = (uint32_t)mr_test_rtp(pkt, 100, SSRC_A, 32);
	memcpy(copy, pkt, plen);
	len = plen;
	assert_int_equal(mr_srtp_protect(out, pkt, &len, plen + mr_test_rtp_trailer(&k) - 1),
			 -EMSGSIZE);
	assert_int_equal(len, plen);
	assert_memory_equal(pkt, copy, plen);
	assert_int_equal(mr_srtp_protect(out, pkt, &len, plen - 1), -EMSGSIZE);
	assert_int_equal(mr_srtp_protect(out, pkt, &len, plen + mr_test_rtp_trailer(&k)), 0);
	memcpy(good, pkt, len);
	glen = len;
	/* Protecting the same sequence number again: refused (no keystream reuse). */
	memcpy(pkt, copy, plen);
	len = plen;
	assert_int_equal(mr_srtp_protect(out, pkt, &len, sizeof(pkt)), -EALREADY);

	/* A flipped bit anywhere (header, payload, MKI, tag) fails; the packet is untouched. */
	for (i = 0; i < glen; i++) {
		memcpy(pkt, good, glen);
		pkt[i] ^= 0x10;
		memcpy(copy, pkt, glen);
		len = glen;
		if (i >= 8 && i < 12)
			assert_int_equal(mr_srtp_unprotect(in, pkt, &len), -EINVAL); /* SSRC */
		else if (i == 0)
			assert_true(mr_srtp_unprotect(in, pkt, &len) < 0);     /* X bit: header */
		else
			assert_int_equal(mr_srtp_unprotect(in, pkt, &len), -EBADMSG);
		assert_int_equal(len, glen);
		assert_untouched(k.suite, pkt, copy, glen, 12, mr_test_rtp_trailer(&k));
	}
	/* Good, then replayed. */
	memcpy(pkt, good, glen);
	len = glen;
	assert_int_equal(mr_srtp_unprotect(in, pkt, &len), 0);
	memcpy(pkt, good, glen);
	len = glen;
	assert_int_equal(mr_srtp_unprotect(in, pkt, &len), -EALREADY);
	assert_memory_equal(pkt, good, glen);

	/* SRTCP: room, tamper, replay. */
	plen = (uint32_t)mr_test_rtcp(pkt, SSRC_A, 9, 0);
	len = plen;
	assert_int_equal(mr_srtcp_protect(out, pkt, &len, plen + mr_test_rtcp_trailer(&k) - 1),
			 -EMSGSIZE);
	assert_int_equal(mr_srtcp_protect(out, pkt, &len, plen + mr_test_rtcp_trailer(&k)), 0);
	memcpy(good, pkt, len);
	glen = len;
	for (i = 8; i < glen; i++) {
		memcpy(pkt, good, glen);
		pkt[i] ^= 0x01;
		memcpy(copy, pkt, glen);
		len = glen;
		assert_int_equal(mr_srtcp_unprotect(in, pkt, &len), -EBADMSG);
		assert_untouched(k.suite, pkt, copy, glen, 8, mr_test_rtcp_trailer(&k));
	}
	memcpy(pkt, good, glen);
	len = glen;
	assert_int_equal(mr_srtcp_unprotect(in, pkt, &len), 0);
	memcpy(pkt, good, glen);
	len = glen;
	assert_int_equal(mr_srtcp_unprotect(in, pkt, &len), -EALREADY);

	/* Direction is fixed; another SSRC has no stream. */
	len = (uint32_t)mr_test_rtp(pkt, 200, SSRC_A, 10);
	assert_int_equal(mr_srtp_protect(in, pkt, &len, sizeof(pkt)), -EINVAL);
	assert_int_equal(mr_srtcp_protect(in, pkt, &len, sizeof(pkt)), -EINVAL);
	len = glen;
	assert_int_equal(mr_srtp_unprotect(out, good, &len), -EINVAL);
	assert_int_equal(mr_srtcp_unprotect(out, good, &len), -EINVAL);
	len = (uint32_t)mr_test_rtp(pkt, 200, SSRC_B, 10);
	assert_int_equal(mr_srtp_protect(out, pkt, &len, sizeof(pkt)), -EINVAL);

	mr_srtp_ctx_free(out);
	mr_srtp_ctx_free(in);
}

/* An MKI other than the context's is not this key: -EBADMSG. */
static void
wrong_mki(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, 4, 0x42), k2 = k;
	_Alignas(8) uint8_t pkt[PKT_MAX];
	struct mr_srtp_ctx *out, *in;
	uint32_t len;

	k2.mki[3] ^= 0xff;
	out = mr_srtp_ctx_new(&k2, SSRC_A, MR_SRTP_OUTBOUND, NULL);
	in = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_INBOUND, NULL);
	assert_non_null(out);
	assert_non_null(in);
	len = (uint32_t)mr_test_rtp(pkt, 7, SSRC_A, 30);
	assert_int_equal(mr_srtp_protect(out, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(mr_srtp_unprotect(in, pkt, &len), -EBADMSG);
	len = (uint32_t)mr_test_rtcp(pkt, SSRC_A, 1, 0);
	assert_int_equal(mr_srtcp_protect(out, pkt, &len, sizeof(pkt)), 0);
	assert_int_equal(mr_srtcp_unprotect(in, pkt, &len), -EBADMSG);
	mr_srtp_ctx_free(out);
	mr_srtp_ctx_free(in);
}

/*
 * The replay window is 1024 packets: a packet 1023 behind the newest is
 * still taken, 1024 behind is too old; out-of-order packets do not move
 * the reported highest sequence number.
 */
static void
replay_window(void **state)
{
	struct mr_key_gen k = mr_test_key(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0, 0x21);
	_Alignas(8) uint8_t pkt[PKT_MAX], old1023[PKT_MAX], old1024[PKT_MAX];
	struct mr_srtp_ctx *out, *in;
	uint32_t len, l1023 = 0, l1024 = 0, i;
	uint16_t seq;

	(void)state;
	out = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, NULL);
	in = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_INBOUND, NULL);
	assert_non_null(out);
	assert_non_null(in);
	for (i = 1000; i <= 2024; i++) {
		len = (uint32_t)mr_test_rtp(pkt, (uint16_t)i, SSRC_A, 8);
		assert_int_equal(mr_srtp_protect(out, pkt, &len, sizeof(pkt)), 0);
		if (i == 1000) {
			memcpy(old1024, pkt, len);
			l1024 = len;
		} else if (i == 1001) {
			memcpy(old1023, pkt, len);
			l1023 = len;
		} else if (i == 2024) {
			assert_int_equal(mr_srtp_unprotect(in, pkt, &len), 0);
		}
	}
	assert_int_equal(mr_srtp_unprotect(in, old1024, &l1024), -EALREADY);
	assert_int_equal(mr_srtp_unprotect(in, old1023, &l1023), 0);
	mr_srtp_ctx_state(in, NULL, &seq, NULL);
	assert_int_equal(seq, 2024);
	/* SRTCP out of order: the highest index stays. */
	for (i = 1; i <= 3; i++) {
		len = (uint32_t)mr_test_rtcp(i == 1 ? old1023 : pkt, SSRC_A, i, 0);
		assert_int_equal(mr_srtcp_protect(out, i == 1 ? old1023 : pkt, &len, PKT_MAX), 0);
		if (i == 1)
			l1023 = len;
	}
	assert_int_equal(mr_srtcp_unprotect(in, pkt, &len), 0);
	assert_int_equal(mr_srtcp_unprotect(in, old1023, &l1023), 0);
	mr_srtp_ctx_state(in, NULL, NULL, &i);
	assert_int_equal(i, 3);
	mr_srtp_ctx_free(out);
	mr_srtp_ctx_free(in);
}

/* Invalid key generations give no context. */
static void
bad_keys(void **state)
{
	struct mr_key_gen k;
	size_t i;

	(void)state;
	for (i = 0; i < MR_TEST_N_SUITES; i++) {
		k = mr_test_key(mr_test_suites[i], 0, 1);
		k.key_len--;
		assert_null(mr_srtp_ctx_new(&k, 1, MR_SRTP_OUTBOUND, NULL));
		k.key_len = (uint8_t)(k.key_len + 2);
		assert_null(mr_srtp_ctx_new(&k, 1, MR_SRTP_INBOUND, NULL));
		k = mr_test_key(mr_test_suites[i], 0, 1);
		k.salt_len = is_gcm(k.suite) ? 14 : 12;  /* the other family's salt */
		assert_null(mr_srtp_ctx_new(&k, 1, MR_SRTP_OUTBOUND, NULL));
		k.salt_len = 0;
		assert_null(mr_srtp_ctx_new(&k, 1, MR_SRTP_OUTBOUND, NULL));
		k = mr_test_key(mr_test_suites[i], 0, 1);
		k.mki_len = MR_MKI_MAX_BYTES + 1;
		assert_null(mr_srtp_ctx_new(&k, 1, MR_SRTP_OUTBOUND, NULL));
		k = mr_test_key(mr_test_suites[i], 0, 1);
		assert_null(mr_srtp_ctx_new(&k, 1, (enum mr_srtp_dir)2, NULL));
		assert_null(mr_srtp_ctx_new(&k, 1, MR_SRTP_OUTBOUND, RESUME(0, 0, 0x80000000u)));
	}
	k = mr_test_key(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0, 1);
	k.suite = MR_SUITE_NONE;
	assert_null(mr_srtp_ctx_new(&k, 1, MR_SRTP_OUTBOUND, NULL));
	k.suite = MR_SUITE_MAX;
	assert_null(mr_srtp_ctx_new(&k, 1, MR_SRTP_OUTBOUND, NULL));
	assert_null(mr_srtp_ctx_new(NULL, 1, MR_SRTP_OUTBOUND, NULL));
	mr_srtp_ctx_free(NULL);
}

/*
 * Truncated and malformed packets: every length short of header + trailer
 * is an error, in an exactly sized heap buffer (ASan sees any overread).
 * Headers whose CSRC count or extension runs past the end are errors too.
 */
static void
truncated(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0x99);
	_Alignas(8) uint8_t pkt[PKT_MAX];
	struct mr_srtp_ctx *out, *in;
	uint32_t len, glen, cut, min;
	uint8_t *h;

	out = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, NULL);
	in = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_INBOUND, NULL);
	assert_non_null(out);
	assert_non_null(in);

	glen = (uint32_t)mr_test_rtp(pkt, 1, SSRC_A, 0);
	assert_int_equal(mr_srtp_protect(out, pkt, &glen, sizeof(pkt)), 0);
	min = 12 + mr_test_rtp_trailer(&k);
	assert_int_equal(glen, min);    /* an empty payload is legal */
	assert_int_equal(mr_srtp_unprotect(in, pkt, &glen), 0);
	assert_int_equal(glen, 12);
	glen = (uint32_t)mr_test_rtp(pkt, 2, SSRC_A, 16);
	assert_int_equal(mr_srtp_protect(out, pkt, &glen, sizeof(pkt)), 0);
	for (cut = 0; cut < glen; cut++) {
		h = malloc(cut ? cut : 1);
		assert_non_null(h);
		memcpy(h, pkt, cut);
		len = cut;
		assert_true(mr_srtp_unprotect(in, h, &len) < 0);
		len = cut;
		assert_int_equal(mr_srtp_protect(out, h, &len, cut),
				 cut < 12 ? -EINVAL : -EMSGSIZE);
		free(h);
	}
	/* CSRC count 15 and an extension longer than the packet. */
	glen = (uint32_t)mr_test_rtp(pkt, 5, SSRC_A, 16);
	pkt[0] |= 0x0f;
	len = glen + mr_test_rtp_trailer(&k);
	assert_int_equal(mr_srtp_unprotect(in, pkt, &len), -EINVAL);
	len = glen;
	assert_int_equal(mr_srtp_protect(out, pkt, &len, sizeof(pkt)), -EINVAL);
	glen = (uint32_t)mr_test_rtp(pkt, 6, SSRC_A, 16);
	pkt[0] |= 0x10;
	pkt[12] = 0xbe;
	pkt[13] = 0xde;
	pkt[14] = 0x00;
	pkt[15] = 0x40;
	len = glen + mr_test_rtp_trailer(&k);
	assert_int_equal(mr_srtp_unprotect(in, pkt, &len), -EINVAL);
	len = glen;
	assert_int_equal(mr_srtp_protect(out, pkt, &len, sizeof(pkt)), -EINVAL);
	len = 70000;
	assert_int_equal(mr_srtp_unprotect(in, pkt, &len), -EINVAL);

	/* SRTCP */
	glen = (uint32_t)mr_test_rtcp(pkt, SSRC_A, 3, 0);
	assert_int_equal(mr_srtcp_protect(out, pkt, &glen, sizeof(pkt)), 0);
	for (cut = 0; cut < glen; cut++) {
		h = malloc(cut ? cut : 1);
		assert_non_null(h);
		memcpy(h, pkt, cut);
		len = cut;
		assert_true(mr_srtcp_unprotect(in, h, &len) < 0);
		len = cut;
		assert_int_equal(mr_srtcp_protect(out, h, &len, cut),
				 cut < 8 ? -EINVAL : -EMSGSIZE);
		free(h);
	}
	/* The exact room, in an exactly sized buffer. */
	len = (uint32_t)mr_test_rtcp(pkt, SSRC_A, 4, 0);
	h = malloc(len + mr_test_rtcp_trailer(&k));
	assert_non_null(h);
	memcpy(h, pkt, len);
	assert_int_equal(mr_srtcp_protect(out, h, &len, len + mr_test_rtcp_trailer(&k)), 0);
	assert_int_equal(mr_srtcp_unprotect(in, h, &len), 0);
	free(h);
	len = (uint32_t)mr_test_rtp(pkt, 7, SSRC_A, 33);
	h = malloc(len + mr_test_rtp_trailer(&k));
	assert_non_null(h);
	memcpy(h, pkt, len);
	assert_int_equal(mr_srtp_protect(out, h, &len, len + mr_test_rtp_trailer(&k)), 0);
	assert_int_equal(mr_srtp_unprotect(in, h, &len), 0);
	free(h);

	mr_srtp_ctx_free(out);
	mr_srtp_ctx_free(in);
}

/* ---- 4. resume ------------------------------------------------------------ */

static void
resume(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0xd1);
	_Alignas(8) uint8_t pkt[PKT_MAX], roc0_pkt[PKT_MAX];
	uint8_t plain[PKT_MAX];
	struct mr_srtp_ctx *a, *b, *c;
	uint32_t len, plen, roc, idx, i, srtcp_last;
	uint16_t seq;
	srtp_t peer_tx, peer_rx;
	int n;

	/*
	 * Inbound: the peer (libsrtp) sends 65530..65535, 0..3 and goes on; a
	 * context restarted with ROC 1 accepts seq 4 on, one restarted with
	 * ROC 0 fails authentication on it.
	 */
	peer_tx = peer_new(&k, SSRC_B, false);
	a = mr_srtp_ctx_new(&k, SSRC_B, MR_SRTP_INBOUND, NULL);
	assert_non_null(a);
	for (i = 0; i < 10; i++) {
		plen = (uint32_t)mr_test_rtp(pkt, (uint16_t)(65530u + i), SSRC_B, 24);
		n = (int)plen;
		assert_int_equal(srtp_protect_mki(peer_tx, pkt, &n, k.mki_len != 0, 0),
				 srtp_err_status_ok);
		len = (uint32_t)n;
		assert_int_equal(mr_srtp_unprotect(a, pkt, &len), 0);
	}
	mr_srtp_ctx_state(a, &roc, &seq, NULL);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, 3);
	mr_srtp_ctx_free(a);
	b = mr_srtp_ctx_new(&k, SSRC_B, MR_SRTP_INBOUND, RESUME(roc, seq, 0));
	c = mr_srtp_ctx_new(&k, SSRC_B, MR_SRTP_INBOUND, NULL);
	assert_non_null(b);
	assert_non_null(c);
	mr_srtp_ctx_state(b, &roc, NULL, NULL);
	assert_int_equal(roc, 1);       /* reported before any packet */
	for (i = 4; i < 8; i++) {
		plen = (uint32_t)mr_test_rtp(plain, (uint16_t)i, SSRC_B, 24);
		memcpy(pkt, plain, plen);
		n = (int)plen;
		assert_int_equal(srtp_protect_mki(peer_tx, pkt, &n, k.mki_len != 0, 0),
				 srtp_err_status_ok);
		memcpy(roc0_pkt, pkt, (size_t)n);
		len = (uint32_t)n;
		assert_int_equal(mr_srtp_unprotect(b, pkt, &len), 0);
		assert_memory_equal(pkt, plain, plen);
		len = (uint32_t)n;
		assert_int_equal(mr_srtp_unprotect(c, roc0_pkt, &len), -EBADMSG);
	}
	mr_srtp_ctx_state(b, &roc, &seq, NULL);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, 7);
	mr_srtp_ctx_free(b);
	mr_srtp_ctx_free(c);
	srtp_dealloc(peer_tx);

	/*
	 * Outbound: a sends 65530..65535, 0..4 and 3 SRTCP packets to the peer,
	 * then "restarts" from its state. The new context neither fails at the
	 * peer nor reuses keystream: its seq 5 differs from a ROC-0 context's.
	 */
	peer_rx = peer_new(&k, SSRC_A, false);
	a = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, NULL);
	assert_non_null(a);
	for (i = 0; i < 11; i++) {
		plen = (uint32_t)mr_test_rtp(pkt, (uint16_t)(65530u + i), SSRC_A, 24);
		len = plen;
		assert_int_equal(mr_srtp_protect(a, pkt, &len, sizeof(pkt)), 0);
		n = (int)len;
		assert_int_equal(srtp_unprotect_mki(peer_rx, pkt, &n, k.mki_len != 0),
				 srtp_err_status_ok);
	}
	for (i = 1; i <= 3; i++) {
		len = (uint32_t)mr_test_rtcp(pkt, SSRC_A, i, 0);
		assert_int_equal(mr_srtcp_protect(a, pkt, &len, sizeof(pkt)), 0);
		n = (int)len;
		assert_int_equal(peer_unprotect_rtcp(peer_rx, &k, pkt, &n), srtp_err_status_ok);
	}
	mr_srtp_ctx_state(a, &roc, &seq, &srtcp_last);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, 4);
	assert_int_equal(srtcp_last, 3);
	mr_srtp_ctx_free(a);

	b = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, RESUME(roc, seq, srtcp_last));
	c = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, NULL);
	assert_non_null(b);
	assert_non_null(c);
	plen = (uint32_t)mr_test_rtp(plain, 5, SSRC_A, 24);
	memcpy(roc0_pkt, plain, plen);
	len = plen;
	assert_int_equal(mr_srtp_protect(c, roc0_pkt, &len, sizeof(roc0_pkt)), 0);
	memcpy(pkt, plain, plen);
	len = plen;
	assert_int_equal(mr_srtp_protect(b, pkt, &len, sizeof(pkt)), 0);
	/* Same header, same plaintext: different keystream on every payload byte run. */
	assert_memory_equal(pkt, roc0_pkt, 12);
	assert_memory_not_equal(pkt + 12, roc0_pkt + 12, plen - 12);
	n = (int)len;
	assert_int_equal(srtp_unprotect_mki(peer_rx, pkt, &n, k.mki_len != 0), srtp_err_status_ok);
	assert_memory_equal(pkt, plain, plen);
	mr_srtp_ctx_state(b, &roc, &seq, NULL);
	assert_int_equal(roc, 1);
	assert_int_equal(seq, 5);
	/* SRTCP goes on at 4, which the peer takes; a context that forgot says 1, a replay. */
	plen = (uint32_t)mr_test_rtcp(plain, SSRC_A, 4, 0);
	memcpy(pkt, plain, plen);
	len = plen;
	assert_int_equal(mr_srtcp_protect(b, pkt, &len, sizeof(pkt)), 0);
	mr_srtp_ctx_state(b, NULL, NULL, &idx);
	assert_int_equal(idx, 4);
	n = (int)len;
	assert_int_equal(peer_unprotect_rtcp(peer_rx, &k, pkt, &n), srtp_err_status_ok);
	assert_memory_equal(pkt, plain, plen);
	memcpy(pkt, plain, plen);
	len = plen;
	assert_int_equal(mr_srtcp_protect(c, pkt, &len, sizeof(pkt)), 0);
	mr_srtp_ctx_state(c, NULL, NULL, &idx);
	assert_int_equal(idx, 1);
	n = (int)len;
	assert_int_equal(peer_unprotect_rtcp(peer_rx, &k, pkt, &n), srtp_err_status_replay_fail);
	mr_srtp_ctx_free(b);
	mr_srtp_ctx_free(c);
	srtp_dealloc(peer_rx);
}

/* The SRTCP fast-forward is bounded; inbound takes any index as its start. */
static void
resume_limits(void **state)
{
	struct mr_key_gen k = mr_test_key(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0, 0x3e);
	struct mr_srtp_ctx *c;
	uint32_t roc, idx;
	uint16_t seq;

	(void)state;
	assert_null(mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, RESUME(0, 0, (1u << 20) + 1)));
	c = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_INBOUND, RESUME(7, 0, 0x7ffffff0u));
	assert_non_null(c);
	mr_srtp_ctx_state(c, &roc, &seq, &idx);
	assert_int_equal(roc, 7);
	assert_int_equal(seq, 0);
	assert_int_equal(idx, 0x7ffffff0u);
	mr_srtp_ctx_free(c);
}

/*
 * Resuming from a stored (roc, seq_hi) when the first packet after the
 * restart is not the next one: RFC 3711 3.3.1 decides its ROC (roc - 1,
 * roc or roc + 1), in both directions.
 */

/* What libsrtp alone makes of RTP packet @seq of @ssrc at ROC @roc (a fresh session). */
static size_t
ref_protect_at(const struct mr_key_gen *k, uint32_t ssrc, uint32_t roc, uint16_t seq,
	       uint8_t *out)
{
	srtp_t s = peer_new(k, ssrc, false);
	size_t plen = mr_test_rtp(out, seq, ssrc, 40);
	int n = (int)plen;
	uint32_t used;

	if (roc != 0)
		assert_int_equal(srtp_set_stream_roc(s, ssrc, roc), srtp_err_status_ok);
	assert_int_equal(srtp_protect_mki(s, out, &n, k->mki_len != 0, 0), srtp_err_status_ok);
	assert_int_equal(srtp_get_stream_roc(s, ssrc, &used), srtp_err_status_ok);
	assert_int_equal(used, roc);    /* libsrtp protected at that ROC */
	srtp_dealloc(s);
	return (size_t)n;
}

static void
assert_state(const struct mr_srtp_ctx *c, uint32_t want_roc, uint16_t want_seq)
{
	uint32_t roc;
	uint16_t seq;

	mr_srtp_ctx_state(c, &roc, &seq, NULL);
	assert_int_equal(roc, want_roc);
	assert_int_equal(seq, want_seq);
}

static const struct resume_case {
	uint32_t roc;           /* stored resume point */
	uint16_t seq_hi;
	uint16_t first;         /* the first packet after the restart */
	uint32_t first_roc;     /* its true ROC */
} resume_cases[] = {
	{ 5, 65500, 20, 6 },    /* the stream wrapped while the dataplane was down */
	{ 0, 65500, 20, 1 },    /* its first wrap, while down */
	{ 5, 1000, 1010, 5 },   /* no wrap */
	{ 5, 1000, 990, 5 },    /* reordered: before seq_hi, the ROC stays */
	{ 5, 1000, 1000, 5 },   /* the last packet stored, again */
	{ 5, 10, 65530, 4 },    /* reordered back across the wrap: roc - 1 */
	{ 0, 100, 65000, 0 },   /* there is no ROC -1: a jump forward at ROC 0 */
	{ 5, 40000, 7000, 6 },  /* 32536 forward: the next ROC */
	{ 5, 40000, 7300, 5 },  /* 32700 back: still this one */
};

static uint64_t
idx48(uint32_t roc, uint16_t seq)
{
	return (uint64_t)roc << 16 | seq;
}

static void
resume_estimate(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0x5c);
	_Alignas(8) uint8_t pkt[PKT_MAX];
	uint8_t plain[PKT_MAX], ref[PKT_MAX];
	struct mr_srtp_ctx *c;
	uint32_t len, plen;
	size_t i, n;

	for (i = 0; i < sizeof(resume_cases) / sizeof(resume_cases[0]); i++) {
		const struct resume_case *rc = &resume_cases[i];
		uint64_t first = idx48(rc->first_roc, rc->first), stored = idx48(rc->roc, rc->seq_hi);
		uint64_t next = (first > stored ? first : stored) + 1;
		bool behind = first <= stored;

		print_message("case %zu: stored ROC %u seq_hi %u, first packet seq %u at ROC %u\n",
			      i, rc->roc, rc->seq_hi, rc->first, rc->first_roc);
		/* Inbound: the peer's packets authenticate, whatever their order. */
		c = mr_srtp_ctx_new(&k, SSRC_B, MR_SRTP_INBOUND, RESUME(rc->roc, rc->seq_hi, 0));
		assert_non_null(c);
		assert_state(c, rc->roc, rc->seq_hi);    /* before any packet: the resume point */
		plen = (uint32_t)mr_test_rtp(plain, rc->first, SSRC_B, 40);
		n = ref_protect_at(&k, SSRC_B, rc->first_roc, rc->first, pkt);
		len = (uint32_t)n;
		assert_int_equal(mr_srtp_unprotect(c, pkt, &len), 0);
		assert_int_equal(len, plen);
		assert_memory_equal(pkt, plain, plen);
		/* A packet behind the resume point never lowers it. */
		assert_state(c, behind ? rc->roc : rc->first_roc, behind ? rc->seq_hi : rc->first);
		n = ref_protect_at(&k, SSRC_B, (uint32_t)(next >> 16), (uint16_t)next, pkt);
		len = (uint32_t)n;
		assert_int_equal(mr_srtp_unprotect(c, pkt, &len), 0);
		assert_state(c, (uint32_t)(next >> 16), (uint16_t)next);
		mr_srtp_ctx_free(c);

		/*
		 * Outbound: byte for byte what libsrtp makes at the true ROC; an
		 * index at or below the resume point may have been sent by the
		 * previous process and is refused.
		 */
		c = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, RESUME(rc->roc, rc->seq_hi, 0));
		assert_non_null(c);
		assert_state(c, rc->roc, rc->seq_hi);
		len = (uint32_t)mr_test_rtp(pkt, rc->first, SSRC_A, 40);
		if (behind) {
			assert_int_equal(mr_srtp_protect(c, pkt, &len, sizeof(pkt)), -EALREADY);
			assert_state(c, rc->roc, rc->seq_hi);
		} else {
			assert_int_equal(mr_srtp_protect(c, pkt, &len, sizeof(pkt)), 0);
			n = ref_protect_at(&k, SSRC_A, rc->first_roc, rc->first, ref);
			assert_int_equal(len, n);
			assert_memory_equal(pkt, ref, n);
			assert_state(c, rc->first_roc, rc->first);
		}
		len = (uint32_t)mr_test_rtp(pkt, (uint16_t)next, SSRC_A, 40);
		assert_int_equal(mr_srtp_protect(c, pkt, &len, sizeof(pkt)), 0);
		n = ref_protect_at(&k, SSRC_A, (uint32_t)(next >> 16), (uint16_t)next, ref);
		assert_int_equal(len, n);
		assert_memory_equal(pkt, ref, n);
		assert_state(c, (uint32_t)(next >> 16), (uint16_t)next);
		mr_srtp_ctx_free(c);
	}
}

/*
 * Until a packet authenticates, each one's ROC is estimated anew: a forged
 * first packet whose sequence number points at another ROC fixes nothing,
 * in either order, and does not move the reported state.
 */
static void
resume_forged_first(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0x5d);
	struct mr_key_gen wrong = mr_test_key(pa->suite, pa->mki_len, 0x17);
	_Alignas(8) uint8_t pkt[PKT_MAX];
	struct mr_srtp_ctx *c;
	uint32_t len;

	/* Forged at seq 20 (says ROC 6), then the real stream goes on at 65510 (ROC 5). */
	c = mr_srtp_ctx_new(&k, SSRC_B, MR_SRTP_INBOUND, RESUME(5, 65500, 0));
	assert_non_null(c);
	len = (uint32_t)ref_protect_at(&wrong, SSRC_B, 6, 20, pkt);
	assert_int_equal(mr_srtp_unprotect(c, pkt, &len), -EBADMSG);
	len = (uint32_t)ref_protect_at(&k, SSRC_B, 6, 21, pkt);
	pkt[len - 1] ^= 0x01;           /* the right key, a bad tag */
	assert_int_equal(mr_srtp_unprotect(c, pkt, &len), -EBADMSG);
	assert_state(c, 5, 65500);
	len = (uint32_t)ref_protect_at(&k, SSRC_B, 5, 65510, pkt);
	assert_int_equal(mr_srtp_unprotect(c, pkt, &len), 0);
	assert_state(c, 5, 65510);
	mr_srtp_ctx_free(c);

	/* Forged at 65510 (says ROC 5), then the real stream, wrapped, at 20 (ROC 6). */
	c = mr_srtp_ctx_new(&k, SSRC_B, MR_SRTP_INBOUND, RESUME(5, 65500, 0));
	assert_non_null(c);
	len = (uint32_t)ref_protect_at(&wrong, SSRC_B, 5, 65510, pkt);
	assert_int_equal(mr_srtp_unprotect(c, pkt, &len), -EBADMSG);
	assert_state(c, 5, 65500);
	len = (uint32_t)ref_protect_at(&k, SSRC_B, 6, 20, pkt);
	assert_int_equal(mr_srtp_unprotect(c, pkt, &len), 0);
	assert_state(c, 6, 20);
	/* Once a packet passed, libsrtp estimates on its own, from (6, 20). */
	len = (uint32_t)ref_protect_at(&k, SSRC_B, 6, 22, pkt);
	assert_int_equal(mr_srtp_unprotect(c, pkt, &len), 0);
	assert_state(c, 6, 22);
	mr_srtp_ctx_free(c);
}

/* ---- 5. verify ---------------------------------------------------------------- */

static void
verify(void **state)
{
	const struct mr_test_srtp_param *pa = *state;
	struct mr_key_gen k = mr_test_key(pa->suite, pa->mki_len, 0x6b);
	_Alignas(8) uint8_t pkt[PKT_MAX], copy[PKT_MAX], scratch[PKT_MAX];
	struct mr_srtp_ctx *out, *in;
	uint32_t len, roc, idx;
	uint16_t seq;

	out = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_OUTBOUND, NULL);
	in = mr_srtp_ctx_new(&k, SSRC_A, MR_SRTP_INBOUND, NULL);
	assert_non_null(out);
	assert_non_null(in);

	len = (uint32_t)mr_test_rtp(pkt, 4242, SSRC_A, 50);
	assert_int_equal(mr_srtp_protect(out, pkt, &len, sizeof(pkt)), 0);
	memcpy(copy, pkt, len);
	assert_int_equal(mr_srtp_verify(in, pkt, len, scratch, len - 1), -EMSGSIZE);
	pkt[len - 1] ^= 0x80;
	assert_int_equal(mr_srtp_verify(in, pkt, len, scratch, sizeof(scratch)), -EBADMSG);
	pkt[len - 1] ^= 0x80;
	assert_int_equal(mr_srtp_verify(in, pkt, len, scratch, len), 0);
	assert_memory_equal(pkt, copy, len);    /* byte-identical, still SRTP */
	assert_int_equal(mr_srtp_verify(in, pkt, len, scratch, sizeof(scratch)), -EALREADY);
	mr_srtp_ctx_state(in, &roc, &seq, NULL);
	assert_int_equal(seq, 4242);
	assert_int_equal(roc, 0);

	len = (uint32_t)mr_test_rtcp(pkt, SSRC_A, 77, 0);
	assert_int_equal(mr_srtcp_protect(out, pkt, &len, sizeof(pkt)), 0);
	memcpy(copy, pkt, len);
	assert_int_equal(mr_srtcp_verify(in, pkt, len, scratch, len - 1), -EMSGSIZE);
	pkt[9] ^= 0x01;
	assert_int_equal(mr_srtcp_verify(in, pkt, len, scratch, sizeof(scratch)), -EBADMSG);
	pkt[9] ^= 0x01;
	assert_int_equal(mr_srtcp_verify(in, pkt, len, scratch, len), 0);
	assert_memory_equal(pkt, copy, len);
	assert_int_equal(mr_srtcp_verify(in, pkt, len, scratch, sizeof(scratch)), -EALREADY);
	mr_srtp_ctx_state(in, NULL, NULL, &idx);
	assert_int_equal(idx, 1);

	mr_srtp_ctx_free(out);
	mr_srtp_ctx_free(in);
}

/* ---- main ------------------------------------------------------------------- */

static int
group_setup(void **state)
{
	(void)state;
	return mr_srtp_init();
}

static int
group_teardown(void **state)
{
	(void)state;
	/* Frees libsrtp's crypto kernel, so leak checkers see a clean exit. */
	return srtp_shutdown() == srtp_err_status_ok ? 0 : -1;
}

static const struct mr_test_srtp_case per_param[] = {
	{ "vectors_through_mrelay", vectors_through_mrelay },
	{ "roundtrip", roundtrip },
	{ "failures", failures },
	{ "truncated", truncated },
	{ "resume", resume },
	{ "resume_estimate", resume_estimate },
	{ "resume_forged_first", resume_forged_first },
	{ "verify", verify },
};

static const struct CMUnitTest single[] = {
	cmocka_unit_test(suite_table),
	cmocka_unit_test(rfc3711_b2_keystream),
	cmocka_unit_test(rfc3711_b3_kdf),
	cmocka_unit_test(rfc6188_kdf),
	cmocka_unit_test(rfc7714_vectors),
	cmocka_unit_test(libsrtp_known_answers),
	cmocka_unit_test(rtcp_mki_short_tag),
	cmocka_unit_test(bad_keys),
	cmocka_unit_test(replay_window),
	cmocka_unit_test(resume_limits),
};

#define N_SINGLE (sizeof(single) / sizeof(single[0]))
#define N_PER_PARAM (sizeof(per_param) / sizeof(per_param[0]))
#define N_TESTS (N_SINGLE + N_PER_PARAM * MR_TEST_N_PARAMS + MR_TEST_N_SUITES)

int
main(void)
{
	static char names[N_TESTS][MR_TEST_NAME_MAX];
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0, i, j;

	for (i = 0; i < N_SINGLE; i++)
		tests[n++] = single[i];
	n += mr_test_srtp_cases(tests + n, names + n, per_param, N_PER_PARAM);
	for (j = 0; j < MR_TEST_N_PARAMS; j += 2) {     /* wrong_mki sets its own MKI */
		snprintf(names[n], sizeof(names[n]), "wrong_mki/%s",
			 mr_srtp_suite(mr_test_srtp_params[j].suite)->name);
		tests[n] = (struct CMUnitTest){ .name = names[n], .test_func = wrong_mki,
						.initial_state = &mr_test_srtp_params[j] };
		n++;
	}
	return _cmocka_run_group_tests("srtp", tests, n, group_setup, group_teardown);
}
