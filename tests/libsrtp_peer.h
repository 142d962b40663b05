/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_TEST_LIBSRTP_PEER_H
#define MR_TEST_LIBSRTP_PEER_H

/*
 * libsrtp used directly as the peer of the unit tests (test_srtp.c against
 * the wrapper, test_srtp_mb.c against the burst engine): its own policy per
 * suite, never srtp.c's. Include after <cmocka.h>.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <srtp2/srtp.h>

#include <mrelay/leg.h>

/* The peer's own policy, written for libsrtp here (not taken from srtp.c). */
static inline srtp_t
peer_new(const struct mr_key_gen *k, uint32_t ssrc, bool rtcp_auth_only)
{
	uint8_t master[64];
	srtp_master_key_t mk, *mks[1];
	srtp_policy_t pol;
	srtp_t s = NULL;

	memset(&pol, 0, sizeof(pol));
	switch (k->suite) {
	case MR_SUITE_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_rtp_default(&pol.rtp);
		srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
		break;
	case MR_SUITE_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
		srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
		break;
	case MR_SUITE_AES_256_CM_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&pol.rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&pol.rtcp);
		break;
	case MR_SUITE_AES_256_CM_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&pol.rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&pol.rtcp);
		break;
	case MR_SUITE_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
		break;
	case MR_SUITE_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtcp);
		break;
	default:
		fail();
	}
	if (rtcp_auth_only)
		pol.rtcp.sec_serv = sec_serv_auth;     /* RFC 7714 9.3: E = 0 */
	memcpy(master, k->key, k->key_len);
	memcpy(master + k->key_len, k->salt, k->salt_len);
	pol.ssrc.type = ssrc_specific;
	pol.ssrc.value = ssrc;
	if (k->mki_len != 0) {
		mk.key = master;
		mk.mki_id = (unsigned char *)(uintptr_t)k->mki;
		mk.mki_size = k->mki_len;
		mks[0] = &mk;
		pol.keys = mks;
		pol.num_master_keys = 1;
	} else {
		pol.key = master;
	}
	pol.window_size = 1024;
	assert_int_equal(srtp_create(&s, &pol), srtp_err_status_ok);
	return s;
}

static inline bool
short_rtp_tag(uint8_t suite)
{
	return suite == MR_SUITE_AES_CM_128_HMAC_SHA1_32 ||
	       suite == MR_SUITE_AES_256_CM_HMAC_SHA1_32;
}

/*
 * The peer's SRTCP unprotect. libsrtp 2.5 finds the MKI of an SRTCP packet
 * with the SRTP tag length (fixed upstream in PR #733), so for the _32
 * suites the peer checks the MKI where RFC 3711 puts it (before the 80-bit
 * tag), removes it (it is not authenticated) and unprotects without MKI.
 */
static inline srtp_err_status_t
peer_unprotect_rtcp(srtp_t peer, const struct mr_key_gen *k, uint8_t *p, int *n)
{
	uint8_t *mki;

	if (k->mki_len == 0 || !short_rtp_tag(k->suite))
		return srtp_unprotect_rtcp_mki(peer, p, n, k->mki_len != 0);
	mki = p + *n - 10 - k->mki_len;
	assert_memory_equal(mki, k->mki, k->mki_len);
	memmove(mki, mki + k->mki_len, 10);
	*n -= k->mki_len;
	return srtp_unprotect_rtcp(peer, p, n);
}

#endif /* MR_TEST_LIBSRTP_PEER_H */
