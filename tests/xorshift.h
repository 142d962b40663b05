/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_TEST_XORSHIFT_H
#define MR_TEST_XORSHIFT_H

/*
 * xorshift64* for the unit tests and fuzz targets that draw "random"
 * inputs: small, fast, and the same sequence on every machine, so a
 * failure reproduces from its seed. Each user keeps its own state and
 * seeds it; a zero state stays zero. Header-only, like srtp_twin.h.
 */
#include <stdint.h>

/* Steps @state and returns the next number. */
static inline uint64_t
mr_test_xorshift(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

#endif
