/* SPDX-License-Identifier: BSD-3-Clause */
/* Known answers of the SRTP unit tests, in hex (srtp_vectors.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "srtp_fixture.h"
#include "srtp_vectors.h"

size_t
mr_test_unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v;

		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			assert_true(n < cap);
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_int_equal(hi, -1);
	return n;
}

void
mr_test_assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[MR_TEST_HEX_MAX];
	size_t n = mr_test_unhex(want_hex, want, sizeof(want));

	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
}

struct mr_key_gen
mr_test_key_hex(uint8_t suite, uint8_t mki_len, const char *key_hex, const char *salt_hex)
{
	struct mr_key_gen k = mr_test_key(suite, mki_len, 0);

	assert_int_equal(mr_test_unhex(key_hex, k.key, sizeof(k.key)), k.key_len);
	assert_int_equal(mr_test_unhex(salt_hex, k.salt, sizeof(k.salt)), k.salt_len);
	return k;
}
