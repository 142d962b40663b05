/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Base64 of SRTP keys (controlplane/session/base64.c): RFC 4648's test
 * vectors both ways, then one table row per input with what each caller's
 * mode makes of it: SDES (padding optional) and mrelayctl (MR_BASE64_PADDED).
 * The error codes matter: mrelayctl tells a stray character (-EILSEQ) from
 * a wrong length, padding or last digit (-EINVAL).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 4648 section 10 */
static const struct {
	const char *bytes;
	const char *padded;
	const char *unpadded;
} vectors[] = {
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static void
test_rfc4648_vectors(void **state)
{
	uint8_t out[8];
	char text[12];
	size_t i, n;

	(void)state;
	assert_int_equal(mr_base64_encode(NULL, 0, true, text), 0);
	assert_string_equal(text, "");
	for (i = 0; i < ARRAY_SIZE(vectors); i++) {
		n = strlen(vectors[i].bytes);
		assert_int_equal(mr_base64_encode((const uint8_t *)vectors[i].bytes, n, true, text),
				 strlen(vectors[i].padded));
		assert_string_equal(text, vectors[i].padded);
		assert_int_equal(mr_base64_encode((const uint8_t *)vectors[i].bytes, n, false, text),
				 strlen(vectors[i].unpadded));
		assert_string_equal(text, vectors[i].unpadded);

		memset(out, 0, sizeof(out));
		assert_int_equal(mr_base64_decode(vectors[i].padded, strlen(vectors[i].padded),
						  MR_BASE64_PADDED, out, sizeof(out)), n);
		assert_memory_equal(out, vectors[i].bytes, n);
		memset(out, 0, sizeof(out));
		assert_int_equal(mr_base64_decode(vectors[i].padded, strlen(vectors[i].padded), 0,
						  out, sizeof(out)), n);
		assert_memory_equal(out, vectors[i].bytes, n);
		memset(out, 0, sizeof(out));
		assert_int_equal(mr_base64_decode(vectors[i].unpadded, strlen(vectors[i].unpadded), 0,
						  out, sizeof(out)), n);
		assert_memory_equal(out, vectors[i].bytes, n);
	}
}

static void
test_every_length_round_trip(void **state)
{
	uint8_t in[46], out[46];
	char text[4 * 16 + 1];
	size_t n, len;
	int pad;

	(void)state;
	for (n = 0; n < sizeof(in); n++)
		in[n] = (uint8_t)(0xa5 ^ (n * 37));
	for (n = 1; n <= sizeof(in); n++) {
		for (pad = 0; pad < 2; pad++) {
			len = mr_base64_encode(in, n, pad, text);
			assert_int_equal(len, pad ? (n + 2) / 3 * 4 : (n * 4 + 2) / 3);
			assert_int_equal(mr_base64_len(text, len, 0), n);
			assert_int_equal(mr_base64_len(text, len, MR_BASE64_PADDED),
					 pad || n % 3 == 0 ? (ssize_t)n : -EINVAL);
			memset(out, 0, sizeof(out));
			assert_int_equal(mr_base64_decode(text, len, 0, out, n), n);
			assert_memory_equal(out, in, n);
		}
	}
}

/* What each mode makes of an input: the decoded length or -errno. */
static void
test_strict(void **state)
{
	static const struct {
		const char *s;
		ssize_t sdes;           /* flags 0 */
		ssize_t padded;         /* MR_BASE64_PADDED */
	} cases[] = {
		{ "", -EINVAL, -EINVAL },
		{ "AAAA", 3, 3 },
		{ "AAA=", 2, 2 },
		{ "AA==", 1, 1 },
		{ "AAA", 2, -EINVAL },          /* unpadded */
		{ "AA", 1, -EINVAL },
		{ "A", -EINVAL, -EINVAL },      /* one digit is no whole byte */
		{ "AAAAA", -EINVAL, -EINVAL },
		{ "A===", -EINVAL, -EINVAL },   /* a third '=' is a misplaced one */
		{ "AA===", -EINVAL, -EINVAL },
		{ "====", -EINVAL, -EINVAL },
		{ "=", -EINVAL, -EINVAL },
		{ "AAAA=", -EINVAL, -EINVAL },  /* padding where none is due */
		{ "AAAA==", -EINVAL, -EINVAL },
		{ "AA=", -EINVAL, -EINVAL },    /* padding short of 4 */
		{ "AAA==", -EINVAL, -EINVAL },
		{ "A=AA", -EINVAL, -EINVAL },   /* '=' inside */
		{ "AA=A", -EINVAL, -EINVAL },
		{ "AB==", -EINVAL, -EINVAL },   /* bits past the data */
		{ "AAB=", -EINVAL, -EINVAL },
		{ "AB", -EINVAL, -EINVAL },
		{ "AAB", -EINVAL, -EINVAL },
		{ "AQ==", 1, 1 },
		{ "AAE=", 2, 2 },
		{ "A!AA", -EILSEQ, -EILSEQ },   /* outside the alphabet */
		{ "AA A", -EILSEQ, -EILSEQ },
		{ "-_AA", -EILSEQ, -EILSEQ },   /* base64url is not base64 */
		{ "AA!=", -EILSEQ, -EILSEQ },
		{ "AA!", -EILSEQ, -EINVAL },    /* mrelayctl: the length first */
		{ "AAA\n", -EILSEQ, -EILSEQ },  /* a trailing newline too */
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *s = cases[i].s;

		if (mr_base64_len(s, strlen(s), 0) != cases[i].sdes ||
		    mr_base64_len(s, strlen(s), MR_BASE64_PADDED) != cases[i].padded)
			fail_msg("\"%s\": %zd %zd, want %zd %zd", s, mr_base64_len(s, strlen(s), 0),
				 mr_base64_len(s, strlen(s), MR_BASE64_PADDED), cases[i].sdes,
				 cases[i].padded);
	}
}

static void
test_decode_room(void **state)
{
	uint8_t out[4] = { 0xee, 0xee, 0xee, 0xee };

	(void)state;
	assert_int_equal(mr_base64_decode("AQID", 4, MR_BASE64_PADDED, out, 2), -EMSGSIZE);
	assert_int_equal(mr_base64_decode("AQID", 4, 0, out, 0), -EMSGSIZE);
	assert_int_equal(out[0], 0xee);         /* nothing written */
	assert_int_equal(mr_base64_decode("AQ!D", 4, 0, out, 2), -EILSEQ);
	assert_int_equal(mr_base64_decode("AQID", 4, 0, out, 3), 3);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[2], 3);
	assert_int_equal(out[3], 0xee);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_every_length_round_trip),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_decode_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
