/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_TEST_SRTP_FIXTURE_H
#define MR_TEST_SRTP_FIXTURE_H
#include <stddef.h>
#include <stdint.h>

#include <mrelay/leg.h>

/*
 * Keys, plain packets and the suite grid of the SRTP unit tests
 * (test_srtp.c against the libsrtp wrapper, test_srtp_mb.c against the
 * burst engine): both tests build the same ones, so a difference between
 * their results is one of the code under test, not of the fixture.
 */

extern const uint8_t mr_test_mki[MR_MKI_MAX_BYTES];

/* Every suite mrelay knows, and what the per-suite tests run under: each without and with MKI. */
#define MR_TEST_N_SUITES (MR_SUITE_MAX - 1u)
#define MR_TEST_N_PARAMS (2u * MR_TEST_N_SUITES)
struct mr_test_srtp_param {
	uint8_t suite;
	uint8_t mki_len;
};
extern const uint8_t mr_test_suites[MR_TEST_N_SUITES];
/* Not const: each entry is a test's cmocka state, a void *. */
extern struct mr_test_srtp_param mr_test_srtp_params[MR_TEST_N_PARAMS];

struct CMUnitTest;

/* A test that runs once per mr_test_srtp_params entry, given it as its state. */
struct mr_test_srtp_case {
	const char *name;
	void (*fn)(void **state);
};

/*
 * Writes each of @cases once per mr_test_srtp_params entry to @tests, named
 * "case/SUITE" or "case/SUITE/mki" in @names (the names must outlive the
 * run); returns how many: n_cases * MR_TEST_N_PARAMS.
 */
#define MR_TEST_NAME_MAX 80u
size_t mr_test_srtp_cases(struct CMUnitTest *tests, char (*names)[MR_TEST_NAME_MAX],
			  const struct mr_test_srtp_case *cases, size_t n_cases);

void mr_test_wr_be32(uint8_t *p, uint32_t v);

/* RTP, PT 111, timestamp seq * 960, @payload bytes that depend on @seq; returns its length. */
size_t mr_test_rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, size_t payload);

/*
 * A sender report numbered @n, without report blocks (28 bytes) or with
 * @extra bytes of report data (a multiple of 4); returns its length.
 */
size_t mr_test_rtcp(uint8_t *p, uint32_t ssrc, uint32_t n, size_t extra);

/* @suite's key and salt filled from @fill, and mr_test_mki's first @mki_len bytes. */
struct mr_key_gen mr_test_key(uint8_t suite, uint8_t mki_len, uint8_t fill);

/* What protect appends: MKI and tag (SRTP); E flag and index, MKI and tag (SRTCP). */
uint32_t mr_test_rtp_trailer(const struct mr_key_gen *k);
uint32_t mr_test_rtcp_trailer(const struct mr_key_gen *k);

#endif
