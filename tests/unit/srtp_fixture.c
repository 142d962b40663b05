/* SPDX-License-Identifier: BSD-3-Clause */
/* Keys, plain packets and the suite grid of the SRTP unit tests (srtp_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "srtp.h"
#include "srtp_fixture.h"

const uint8_t mr_test_mki[MR_MKI_MAX_BYTES] = {
	0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0
};

const uint8_t mr_test_suites[MR_TEST_N_SUITES] = {
	MR_SUITE_AES_CM_128_HMAC_SHA1_80, MR_SUITE_AES_CM_128_HMAC_SHA1_32,
	MR_SUITE_AES_256_CM_HMAC_SHA1_80, MR_SUITE_AES_256_CM_HMAC_SHA1_32,
	MR_SUITE_AEAD_AES_128_GCM, MR_SUITE_AEAD_AES_256_GCM,
};

#define P(s, m) { MR_SUITE_##s, m }
struct mr_test_srtp_param mr_test_srtp_params[MR_TEST_N_PARAMS] = {
	P(AES_CM_128_HMAC_SHA1_80, 0), P(AES_CM_128_HMAC_SHA1_80, 4),
	P(AES_CM_128_HMAC_SHA1_32, 0), P(AES_CM_128_HMAC_SHA1_32, 4),
	P(AES_256_CM_HMAC_SHA1_80, 0), P(AES_256_CM_HMAC_SHA1_80, 4),
	P(AES_256_CM_HMAC_SHA1_32, 0), P(AES_256_CM_HMAC_SHA1_32, 4),
	P(AEAD_AES_128_GCM, 0), P(AEAD_AES_128_GCM, 4),
	P(AEAD_AES_256_GCM, 0), P(AEAD_AES_256_GCM, 4),
};
#undef P

size_t
mr_test_srtp_cases(struct CMUnitTest *tests, char (*names)[MR_TEST_NAME_MAX],
		   const struct mr_test_srtp_case *cases, size_t n_cases)
{
	size_t n = 0, i, j;

	for (i = 0; i < n_cases; i++) {
		for (j = 0; j < MR_TEST_N_PARAMS; j++) {
			snprintf(names[n], sizeof(names[n]), "%s/%s%s", cases[i].name,
				 mr_srtp_suite(mr_test_srtp_params[j].suite)->name,
				 mr_test_srtp_params[j].mki_len ? "/mki" : "");
			tests[n] = (struct CMUnitTest){ .name = names[n],
							.test_func = cases[i].fn,
							.initial_state = &mr_test_srtp_params[j] };
			n++;
		}
	}
	return n;
}

void
mr_test_wr_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t
mr_test_rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, size_t payload)
{
	size_t i;

	p[0] = 0x80;
	p[1] = 111;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	mr_test_wr_be32(p + 4, (uint32_t)seq * 960u);
	mr_test_wr_be32(p + 8, ssrc);
	for (i = 0; i < payload; i++)
		p[12 + i] = (uint8_t)(seq + i * 7);
	return 12 + payload;
}

size_t
mr_test_rtcp(uint8_t *p, uint32_t ssrc, uint32_t n, size_t extra)
{
	size_t i;

	p[0] = 0x80;
	p[1] = 200;
	p[2] = 0;
	p[3] = (uint8_t)(6 + extra / 4);
	mr_test_wr_be32(p + 4, ssrc);
	mr_test_wr_be32(p + 8, 0xe0000000u + n);
	mr_test_wr_be32(p + 12, n * 1000u);
	mr_test_wr_be32(p + 16, n * 960u);
	mr_test_wr_be32(p + 20, n);
	mr_test_wr_be32(p + 24, n * 100u);
	for (i = 0; i < extra; i++)
		p[28 + i] = (uint8_t)(n + i);
	return 28 + extra;
}

struct mr_key_gen
mr_test_key(uint8_t suite, uint8_t mki_len, uint8_t fill)
{
	const struct mr_srtp_suite_info *si = mr_srtp_suite(suite);
	struct mr_key_gen k;
	unsigned int i;

	memset(&k, 0, sizeof(k));
	k.suite = suite;
	k.mki_len = mki_len;
	k.key_len = si->key_len;
	k.salt_len = si->salt_len;
	memcpy(k.mki, mr_test_mki, mki_len);
	for (i = 0; i < k.key_len; i++)
		k.key[i] = (uint8_t)(fill + i * 13);
	for (i = 0; i < k.salt_len; i++)
		k.salt[i] = (uint8_t)(fill ^ (0xa0 + i));
	return k;
}

uint32_t
mr_test_rtp_trailer(const struct mr_key_gen *k)
{
	return k->mki_len + mr_srtp_suite(k->suite)->rtp_tag_len;
}

uint32_t
mr_test_rtcp_trailer(const struct mr_key_gen *k)
{
	return 4u + k->mki_len + mr_srtp_suite(k->suite)->rtcp_tag_len;
}
