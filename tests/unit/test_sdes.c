/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SDES (controlplane/session/sdes.c, sdes_negotiate.c): the RFC 4568
 * examples, every suite through print and parse (padded and not), one table
 * row per malformed line (-EINVAL) and per refused line (-ENOTSUP) with the
 * exact reason, the printer's bytes and bounds, key generation, and
 * negotiation both ways: answering an offer by preference (tag echoed, own
 * key) and checking the answer to the relay's own offer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdes.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* keys from RFC 4568's examples */
#define RFC_KEY_PS1U "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
#define RFC_KEY_WVNF "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
#define RFC_KEY_YUJD "YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU2"
/* bytes 1..30, 1..46, 1..28, 1..44 */
#define KEY30 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e"
#define KEY46 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLg=="
#define KEY28 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHA=="
#define KEY44 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKyw="

static int
parse(const char *line, uint32_t flags, struct mr_sdes_crypto *c, char *err, size_t err_len)
{
	return mr_sdes_parse(line, strlen(line), flags, c, err, err_len);
}

static void
unhex(const char *s, uint8_t *out)
{
	size_t i;

	for (i = 0; s[2 * i] != '\0'; i++) {
		unsigned int v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* ---- suites ----------------------------------------------------------- */

static void
test_suites(void **state)
{
	static const struct {
		enum mr_srtp_suite suite;
		const char *name;
		uint8_t key, salt;
	} want[] = {
		{ MR_SUITE_AES_CM_128_HMAC_SHA1_80, "AES_CM_128_HMAC_SHA1_80", 16, 14 },
		{ MR_SUITE_AES_CM_128_HMAC_SHA1_32, "AES_CM_128_HMAC_SHA1_32", 16, 14 },
		{ MR_SUITE_AES_256_CM_HMAC_SHA1_80, "AES_256_CM_HMAC_SHA1_80", 32, 14 },
		{ MR_SUITE_AES_256_CM_HMAC_SHA1_32, "AES_256_CM_HMAC_SHA1_32", 32, 14 },
		{ MR_SUITE_AEAD_AES_128_GCM, "AEAD_AES_128_GCM", 16, 12 },
		{ MR_SUITE_AEAD_AES_256_GCM, "AEAD_AES_256_GCM", 32, 12 },
	};
	uint8_t k, s;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		assert_string_equal(mr_sdes_suite_name(want[i].suite), want[i].name);
		assert_int_equal(mr_sdes_suite_from_name(want[i].name, strlen(want[i].name)),
				 want[i].suite);
		assert_true(mr_sdes_suite_lengths(want[i].suite, &k, &s));
		assert_int_equal(k, want[i].key);
		assert_int_equal(s, want[i].salt);
	}
	assert_int_equal(mr_sdes_suite_from_name("aead_aes_128_gcm", 16), MR_SUITE_AEAD_AES_128_GCM);
	assert_int_equal(mr_sdes_suite_from_name("AEAD_AES_128_GC", 15), MR_SUITE_NONE);
	assert_int_equal(mr_sdes_suite_from_name("AEAD_AES_128_GCM_8", 18), MR_SUITE_NONE);
	assert_int_equal(mr_sdes_suite_from_name("F8_128_HMAC_SHA1_80", 19), MR_SUITE_NONE);
	assert_null(mr_sdes_suite_name(MR_SUITE_NONE));
	assert_null(mr_sdes_suite_name(MR_SUITE_MAX));
	assert_false(mr_sdes_suite_lengths(MR_SUITE_NONE, &k, &s));
	assert_false(mr_sdes_suite_lengths(MR_SUITE_MAX, &k, &s));
}

/* ---- parsing: RFC 4568's own examples ---------------------------------- */

static void
test_rfc4568_examples(void **state)
{
	struct mr_sdes_crypto c;
	uint8_t want[30];
	char err[160];

	(void)state;
	/* lifetime 2^20 and a 32-byte MKI: refused however asked */
	assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY_PS1U "|2^20|1:32", 0,
			       &c, err, sizeof(err)), -ENOTSUP);
	assert_string_equal(err, "a key lifetime is not supported: the relay does not re-key on its own");
	assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY_PS1U "|2^20|1:32",
			       MR_SDES_F_LIFETIME | MR_SDES_F_MKI, &c, err, sizeof(err)), -ENOTSUP);
	assert_string_equal(err, "a key lifetime below 2^31 packets is not supported: "
			    "the relay does not re-key on its own");
	assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY_PS1U "|2^31|1:32",
			       MR_SDES_F_LIFETIME | MR_SDES_F_MKI, &c, err, sizeof(err)), -ENOTSUP);
	assert_string_equal(err, "an MKI longer than 8 bytes is not supported");

	/* the same key alone is fine, and decodes to the RFC's bytes */
	assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY_PS1U, 0, &c, err,
			       sizeof(err)), 0);
	assert_string_equal(err, "");
	unhex("3d2d6e40255e7821426a75667239293f2c2335685c603d265d7b71695051", want);
	assert_int_equal(c.tag, 1);
	assert_int_equal(c.suite, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(c.key_len, 16);
	assert_int_equal(c.salt_len, 14);
	assert_memory_equal(c.key, want, 16);
	assert_memory_equal(c.salt, want + 16, 14);
	assert_int_equal(c.mki_len, 0);
	assert_true(c.lifetime == 0);

	/* FEC_ORDER=FEC_SRTP is the default, and fine */
	assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY_WVNF "|2^20|1:4 FEC_ORDER=FEC_SRTP",
			       MR_SDES_F_LIFETIME | MR_SDES_F_MKI, &c, err, sizeof(err)), -ENOTSUP);
	assert_string_equal(err, "a key lifetime below 2^31 packets is not supported: "
			    "the relay does not re-key on its own");
	assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY_WVNF " FEC_ORDER=FEC_SRTP",
			       0, &c, err, sizeof(err)), 0);

	/* F8 with two master keys selected by MKI */
	assert_int_equal(parse("2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm"
			       "|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 "
			       "FEC_ORDER=FEC_SRTP", MR_SDES_F_LIFETIME | MR_SDES_F_MKI, &c, err,
			       sizeof(err)), -ENOTSUP);
	assert_string_equal(err, "crypto-suite F8_128_HMAC_SHA1_80 is not supported");

	/* an MKI without a lifetime ("1066:4"), accepted when asked for */
	assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY_YUJD "|1066:4", 0, &c, err,
			       sizeof(err)), -ENOTSUP);
	assert_string_equal(err, "an MKI is not supported");
	assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY_YUJD "|1066:4", MR_SDES_F_MKI,
			       &c, err, sizeof(err)), 0);
	assert_int_equal(c.mki_len, 4);
	assert_memory_equal(c.mki, "\x00\x00\x04\x2a", 4);
}

/* ---- parsing: every suite, through the printer and back ---------------- */

static void
test_every_suite_round_trip(void **state)
{
	enum mr_srtp_suite s;

	(void)state;
	for (s = MR_SUITE_AES_CM_128_HMAC_SHA1_80; s < MR_SUITE_MAX; s++) {
		struct mr_sdes_crypto gen, back;
		uint32_t pad;

		assert_int_equal(mr_sdes_generate(s, 7, &gen), 0);
		for (pad = 0; pad <= MR_SDES_F_NO_PAD; pad += MR_SDES_F_NO_PAD) {
			char line[MR_SDES_LINE_MAX], err[128];
			size_t len;

			assert_int_equal(mr_sdes_print(&gen, pad, line, sizeof(line), &len), 0);
			assert_int_equal(strlen(line), len);
			assert_int_equal(mr_sdes_parse(line, len, 0, &back, err, sizeof(err)), 0);
			assert_memory_equal(&back, &gen, sizeof(gen));
			/* only the suites whose key+salt is not a multiple of 3 pad */
			assert_int_equal(strchr(line, '=') != NULL,
					 pad == 0 && (gen.key_len + gen.salt_len) % 3 != 0);
		}
		mr_sdes_wipe(&gen);
	}
}

static void
test_good_variants(void **state)
{
	static const struct {
		const char *line;
		uint32_t flags;
		uint32_t tag;
		uint8_t suite;
		uint64_t lifetime;
		uint8_t mki_len;
		const char *mki;
		uint32_t wsh;
	} cases[] = {
		{ "1 AES_CM_128_HMAC_SHA1_32 inline:" KEY30, 0, 1, MR_SUITE_AES_CM_128_HMAC_SHA1_32,
		  0, 0, "", 0 },
		{ "999999999 AES_CM_128_HMAC_SHA1_80 inline:" KEY30, 0, 999999999,
		  MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0, 0, "", 0 },
		{ "000000001 AES_CM_128_HMAC_SHA1_80 inline:" KEY30, 0, 1,
		  MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0, 0, "", 0 },
		/* tabs, runs of blanks, trailing blanks; any case for keywords */
		{ "3\t aes_cm_128_hmac_sha1_80 \tINLINE:" KEY30 " \t", 0, 3,
		  MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0, 0, "", 0 },
		/* padded or not */
		{ "4 AES_256_CM_HMAC_SHA1_80 inline:" KEY46, 0, 4, MR_SUITE_AES_256_CM_HMAC_SHA1_80,
		  0, 0, "", 0 },
		{ "4 AES_256_CM_HMAC_SHA1_32 inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLg",
		  0, 4, MR_SUITE_AES_256_CM_HMAC_SHA1_32, 0, 0, "", 0 },
		{ "5 AEAD_AES_128_GCM inline:" KEY28, 0, 5, MR_SUITE_AEAD_AES_128_GCM, 0, 0, "", 0 },
		{ "5 AEAD_AES_128_GCM inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHA", 0, 5,
		  MR_SUITE_AEAD_AES_128_GCM, 0, 0, "", 0 },
		{ "6 AEAD_AES_256_GCM inline:" KEY44, 0, 6, MR_SUITE_AEAD_AES_256_GCM, 0, 0, "", 0 },
		/* session parameters that are accepted */
		{ "7 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " WSH=128 FEC_ORDER=fec_srtp -X-VENDOR=1 -",
		  0, 7, MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0, 0, "", 128 },
		{ "7 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " WSH=64", 0, 7,
		  MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0, 0, "", 64 },
		/* long lifetimes and short MKIs, when asked for */
		{ "8 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^31", MR_SDES_F_LIFETIME, 8,
		  MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1ull << 31, 0, "", 0 },
		{ "8 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^48", MR_SDES_F_LIFETIME, 8,
		  MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1ull << 48, 0, "", 0 },
		{ "8 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|4294967296", MR_SDES_F_LIFETIME, 8,
		  MR_SUITE_AES_CM_128_HMAC_SHA1_80, 1ull << 32, 0, "", 0 },
		{ "9 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^31|7:1",
		  MR_SDES_F_LIFETIME | MR_SDES_F_MKI, 9, MR_SUITE_AES_CM_128_HMAC_SHA1_80,
		  1ull << 31, 1, "\x07", 0 },
		{ "9 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|0:1", MR_SDES_F_MKI, 9,
		  MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0, 1, "\x00", 0 },
		{ "9 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|18446744073709551615:8", MR_SDES_F_MKI, 9,
		  MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0, 8, "\xff\xff\xff\xff\xff\xff\xff\xff", 0 },
		{ "9 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|65535:2", MR_SDES_F_MKI, 9,
		  MR_SUITE_AES_CM_128_HMAC_SHA1_80, 0, 2, "\xff\xff", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mr_sdes_crypto c;
		char err[160] = "x";
		uint8_t key[46];
		int r;

		r = parse(cases[i].line, cases[i].flags, &c, err, sizeof(err));
		if (r != 0)
			fail_msg("\"%s\": %d \"%s\"", cases[i].line, r, err);
		assert_string_equal(err, "");
		assert_int_equal(c.tag, cases[i].tag);
		assert_int_equal(c.suite, cases[i].suite);
		assert_true(c.lifetime == cases[i].lifetime);
		assert_int_equal(c.mki_len, cases[i].mki_len);
		assert_memory_equal(c.mki, cases[i].mki, cases[i].mki_len);
		assert_int_equal(c.wsh, cases[i].wsh);
		/* every test key is the bytes 1, 2, 3, ... */
		for (r = 0; r < c.key_len + c.salt_len; r++)
			key[r] = (uint8_t)(r + 1);
		assert_memory_equal(c.key, key, c.key_len);
		assert_memory_equal(c.salt, key + c.key_len, c.salt_len);
	}
}

/* ---- parsing: malformed lines ----------------------------------------- */

static void
test_malformed(void **state)
{
	static const struct {
		const char *line;
		const char *why;
	} cases[] = {
		{ "", "tag is not a number 1..999999999" },
		{ "0 AES_CM_128_HMAC_SHA1_80 inline:" KEY30, "tag is not a number 1..999999999" },
		{ "1000000000 AES_CM_128_HMAC_SHA1_80 inline:" KEY30, "tag is not a number 1..999999999" },
		{ "0000000001 AES_CM_128_HMAC_SHA1_80 inline:" KEY30, "tag is not a number 1..999999999" },
		{ "-1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30, "tag is not a number 1..999999999" },
		{ "1AES_CM_128_HMAC_SHA1_80 inline:" KEY30, "tag is not a number 1..999999999" },
		{ " 1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30, "tag is not a number 1..999999999" },
		{ "1", "no crypto-suite after the tag" },
		{ "1   ", "no crypto-suite after the tag" },
		{ "1 AES_CM_128_HMAC_SHA1_80", "no key-params after the crypto-suite" },
		{ "1 AES-CM-128 inline:" KEY30, "crypto-suite is not letters, digits and '_'" },
		{ "1 AES_CM_128_HMAC_SHA1_80 " KEY30, "key-param is not \"method:info\"" },
		{ "1 AES_CM_128_HMAC_SHA1_80 :" KEY30, "key-param is not \"method:info\"" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:", "key is not valid base64" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "=", "key is not valid base64" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "A", "key is not valid base64" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:*QIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e",
		  "key is not valid base64" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:AQIDBAUGBwgJCgsM=Q4PEBESExQVFhcYGRobHB0e",
		  "key is not valid base64" },
		{ "1 AEAD_AES_128_GCM inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHA=",
		  "key is not valid base64" },
		{ "1 AEAD_AES_128_GCM inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHA===",
		  "key is not valid base64" },
		/* not canonical: the last character carries bits past the key */
		{ "1 AEAD_AES_128_GCM inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB==",
		  "key is not valid base64" },
		{ "1 AEAD_AES_256_GCM inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKyx=",
		  "key is not valid base64" },
		/* wrong lengths, both ways and across suites */
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRob",
		  "AES_CM_128_HMAC_SHA1_80 needs 30 bytes of key and salt, got 27" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY46,
		  "AES_CM_128_HMAC_SHA1_80 needs 30 bytes of key and salt, got 46" },
		{ "1 AES_256_CM_HMAC_SHA1_80 inline:" KEY30,
		  "AES_256_CM_HMAC_SHA1_80 needs 46 bytes of key and salt, got 30" },
		{ "1 AEAD_AES_128_GCM inline:" KEY30, "AEAD_AES_128_GCM needs 28 bytes of key and salt, got 30" },
		{ "1 AEAD_AES_256_GCM inline:" KEY46, "AEAD_AES_256_GCM needs 44 bytes of key and salt, got 46" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 KEY30,
		  "AES_CM_128_HMAC_SHA1_80 needs 30 bytes of key and salt, got 60" },
		/* lifetime and MKI syntax */
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|",
		  "key lifetime \"\" is not a positive 64-bit number" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|0",
		  "key lifetime \"0\" is not a positive 64-bit number" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|18446744073709551616",
		  "key lifetime \"18446744073709551616\" is not a positive 64-bit number" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^0", "key lifetime \"2^0\" is not 2^1..2^63" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^64", "key lifetime \"2^64\" is not 2^1..2^63" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^", "key lifetime \"2^\" is not 2^1..2^63" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|3^20",
		  "key lifetime \"3^20\" is not a positive 64-bit number" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|1:0", "MKI length is not 1..128" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|1:129", "MKI length is not 1..128" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|1:0004", "MKI length is not 1..128" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|1:", "MKI length is not 1..128" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|1:x", "MKI length is not 1..128" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|:4", "MKI value is empty" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|0x1:4", "MKI value is not a decimal number" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|256:1", "MKI value does not fit in 1 bytes" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|18446744073709551616:8",
		  "MKI value does not fit in 8 bytes" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|1:4|2^20", "MKI before the lifetime" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^20|2^20", "two lifetimes in a key-param" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^20|1:4|x",
		  "more than key|lifetime|MKI in a key-param" },
		/* session parameter syntax */
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " KDR=25", "KDR is not 0..24" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " KDR=", "KDR is not 0..24" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " KDR=008", "KDR is not 0..24" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " WSH=63", "WSH is not a number >= 64" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " WSH=", "WSH is not a number >= 64" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " WSH=4294967296", "WSH is not a number >= 64" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " WSH=64 WSH=128", "WSH given twice" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " FEC_ORDER=FEC",
		  "FEC_ORDER is neither FEC_SRTP nor SRTP_FEC" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " WSH=\xc3\xa9",
		  "session parameter with a control or non-ASCII byte" },
		/* bytes no SDP line holds */
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "\r\n", "a=crypto holds a control byte" },
		{ "1 AES_CM_128_HMAC_SHA1_80\x01inline:" KEY30, "a=crypto holds a control byte" },
		/* malformed wins over refused, wherever the refusal is */
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^20 UNENCRYPTED_SRTP WSH=1",
		  "WSH is not a number >= 64" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " FOO WSH=1", "WSH is not a number >= 64" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mr_sdes_crypto c;
		char err[160] = "";
		int r;

		memset(&c, 0x5c, sizeof(c));
		r = parse(cases[i].line, MR_SDES_F_LIFETIME | MR_SDES_F_MKI, &c, err, sizeof(err));
		if (r != -EINVAL || strcmp(err, cases[i].why) != 0)
			fail_msg("\"%s\": got %d \"%s\", want -EINVAL \"%s\"", cases[i].line, r, err,
				 cases[i].why);
		assert_int_equal(c.tag, 0x5c5c5c5c);    /* untouched */
	}
	/* NULL line; no error buffer */
	assert_int_equal(mr_sdes_parse(NULL, 0, 0, NULL, NULL, 0), -EINVAL);
	{
		struct mr_sdes_crypto c;

		assert_int_equal(mr_sdes_parse("x", 1, 0, &c, NULL, 0), -EINVAL);
		assert_int_equal(mr_sdes_parse("1 x", 3, 0, &c, NULL, 0), -ENOTSUP);
	}
}

/* ---- parsing: well-formed lines the relay refuses ---------------------- */

static void
test_refused(void **state)
{
	static const struct {
		const char *line;
		uint32_t flags;
		const char *why;
	} cases[] = {
		{ "1 FOO_BAR inline:" KEY30, 0, "unknown crypto-suite \"FOO_BAR\"" },
		{ "1 AES_CM_128_HMAC_SHA1_81 inline:garbage", 0,
		  "unknown crypto-suite \"AES_CM_128_HMAC_SHA1_81\"" },
		{ "1 NULL_HMAC_SHA1_80 inline:" KEY30, 0, "crypto-suite NULL_HMAC_SHA1_80 is not supported" },
		{ "1 NULL_HMAC_SHA1_32 inline:" KEY30, 0, "crypto-suite NULL_HMAC_SHA1_32 is not supported" },
		{ "1 F8_128_HMAC_SHA1_80 inline:" KEY30, 0, "crypto-suite F8_128_HMAC_SHA1_80 is not supported" },
		{ "1 AES_192_CM_HMAC_SHA1_80 inline:" KEY30, 0,
		  "crypto-suite AES_192_CM_HMAC_SHA1_80 is not supported" },
		{ "1 aead_aes_256_gcm_8 inline:" KEY44, 0, "crypto-suite AEAD_AES_256_GCM_8 is not supported" },
		{ "1 SEED_128_GCM_96 inline:" KEY30, 0, "crypto-suite SEED_128_GCM_96 is not supported" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " UNENCRYPTED_SRTP", 0,
		  "UNENCRYPTED_SRTP is not supported: media must be encrypted" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " unencrypted_srtcp", 0,
		  "UNENCRYPTED_SRTCP is not supported: RTCP must be encrypted" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " UNAUTHENTICATED_SRTP", 0,
		  "UNAUTHENTICATED_SRTP is not supported: media must be authenticated" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " KDR=0", 0,
		  "a key derivation rate (KDR) is not supported" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " KDR=24", 0,
		  "a key derivation rate (KDR) is not supported" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " FEC_ORDER=SRTP_FEC", 0,
		  "FEC_ORDER=SRTP_FEC is not supported" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " FEC_KEY=inline:" KEY30, 0,
		  "FEC_KEY is not supported" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " FOO=1", 0,
		  "unknown session parameter \"FOO=1\"" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " FOO UNENCRYPTED_SRTP", 0,
		  "unknown session parameter \"FOO\"" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " UNENCRYPTED_SRTP FOO", 0,
		  "UNENCRYPTED_SRTP is not supported: media must be encrypted" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^31", 0,
		  "a key lifetime is not supported: the relay does not re-key on its own" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2^30", MR_SDES_F_LIFETIME,
		  "a key lifetime below 2^31 packets is not supported: the relay does not re-key on its own" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|2147483647", MR_SDES_F_LIFETIME,
		  "a key lifetime below 2^31 packets is not supported: the relay does not re-key on its own" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|1:4", 0, "an MKI is not supported" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|1:9", MR_SDES_F_MKI,
		  "an MKI longer than 8 bytes is not supported" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|1:128", MR_SDES_F_MKI,
		  "an MKI longer than 8 bytes is not supported" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 ";inline:" KEY30, 0,
		  "several key-params (master keys) in one line are not supported" },
		{ "1 AES_CM_128_HMAC_SHA1_80 uri:https://keys.example/1", 0,
		  "only the \"inline\" key method is supported" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mr_sdes_crypto c;
		char err[160] = "";
		int r;

		memset(&c, 0x5c, sizeof(c));
		r = parse(cases[i].line, cases[i].flags, &c, err, sizeof(err));
		if (r != -ENOTSUP || strcmp(err, cases[i].why) != 0)
			fail_msg("\"%s\": got %d \"%s\", want -ENOTSUP \"%s\"", cases[i].line, r, err,
				 cases[i].why);
		assert_int_equal(c.tag, 0x5c5c5c5c);
		/* reasons never quote the key */
		assert_null(strstr(err, "AQIDBAUG"));
	}
}

/* A short error buffer truncates the reason; nothing overflows. */
static void
test_short_err_buffer(void **state)
{
	struct mr_sdes_crypto c;
	char err[8];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(parse("1 FOO inline:x", 0, &c, err, sizeof(err)), -ENOTSUP);
	assert_string_equal(err, "unknown");
	assert_int_equal(parse("1 FOO inline:x", 0, &c, err, 1), -ENOTSUP);
	assert_string_equal(err, "");
}

/* ---- printing --------------------------------------------------------- */

static void
fill(struct mr_sdes_crypto *c, uint32_t tag, enum mr_srtp_suite suite)
{
	uint8_t i, k, s;

	memset(c, 0, sizeof(*c));
	assert_true(mr_sdes_suite_lengths(suite, &k, &s));
	c->tag = tag;
	c->suite = (uint8_t)suite;
	c->key_len = k;
	c->salt_len = s;
	for (i = 0; i < k; i++)
		c->key[i] = (uint8_t)(i + 1);
	for (i = 0; i < s; i++)
		c->salt[i] = (uint8_t)(k + i + 1);
}

static void
assert_prints(const struct mr_sdes_crypto *c, uint32_t flags, const char *want)
{
	char buf[MR_SDES_LINE_MAX];
	size_t len = 0;

	assert_int_equal(mr_sdes_print(c, flags, buf, sizeof(buf), &len), 0);
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));
}

static void
test_print(void **state)
{
	struct mr_sdes_crypto c;
	char buf[MR_SDES_LINE_MAX];
	size_t len, cut;

	(void)state;
	fill(&c, 1, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	assert_prints(&c, 0, "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30);
	fill(&c, 2, MR_SUITE_AES_256_CM_HMAC_SHA1_32);
	assert_prints(&c, 0, "2 AES_256_CM_HMAC_SHA1_32 inline:" KEY46);
	assert_prints(&c, MR_SDES_F_NO_PAD, "2 AES_256_CM_HMAC_SHA1_32 inline:"
		      "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLg");
	fill(&c, 3, MR_SUITE_AEAD_AES_128_GCM);
	assert_prints(&c, 0, "3 AEAD_AES_128_GCM inline:" KEY28);
	fill(&c, 999999999, MR_SUITE_AEAD_AES_256_GCM);
	assert_prints(&c, 0, "999999999 AEAD_AES_256_GCM inline:" KEY44);

	/* lifetime as 2^N when it is a power of two, MKI as value:length */
	fill(&c, 4, MR_SUITE_AES_CM_128_HMAC_SHA1_32);
	c.lifetime = 1ull << 31;
	assert_prints(&c, 0, "4 AES_CM_128_HMAC_SHA1_32 inline:" KEY30 "|2^31");
	c.lifetime = 3000000000ull;
	c.mki_len = 4;
	memcpy(c.mki, "\x00\x00\x04\x2a", 4);
	assert_prints(&c, 0, "4 AES_CM_128_HMAC_SHA1_32 inline:" KEY30 "|3000000000|1066:4");
	c.lifetime = 0;
	assert_prints(&c, 0, "4 AES_CM_128_HMAC_SHA1_32 inline:" KEY30 "|1066:4");

	/* a window size hint goes after the key-params */
	c.wsh = 256;
	assert_prints(&c, 0, "4 AES_CM_128_HMAC_SHA1_32 inline:" KEY30 "|1066:4 WSH=256");
	c.wsh = 63;
	assert_int_equal(mr_sdes_print(&c, 0, buf, sizeof(buf), &len), -EINVAL);

	/* the longest line fits MR_SDES_LINE_MAX */
	fill(&c, 999999999, MR_SUITE_AES_256_CM_HMAC_SHA1_80);
	c.lifetime = UINT64_MAX;
	c.mki_len = 8;
	memset(c.mki, 0xff, 8);
	c.wsh = UINT32_MAX;
	assert_int_equal(mr_sdes_print(&c, 0, buf, sizeof(buf), &len), 0);
	assert_true(len < MR_SDES_LINE_MAX);
	for (cut = 0; cut <= len; cut++) {
		size_t got = 4242;

		assert_int_equal(mr_sdes_print(&c, 0, buf, cut, &got), -ENOSPC);
		assert_int_equal(got, 4242);
		assert_null(memchr(buf, 'A', cut)); /* no partial key left behind */
	}

	/* structures that are not a crypto line */
	fill(&c, 0, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(mr_sdes_print(&c, 0, buf, sizeof(buf), &len), -EINVAL);
	fill(&c, MR_SDES_TAG_MAX + 1, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(mr_sdes_print(&c, 0, buf, sizeof(buf), &len), -EINVAL);
	fill(&c, 1, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	c.key_len = 32;
	assert_int_equal(mr_sdes_print(&c, 0, buf, sizeof(buf), &len), -EINVAL);
	fill(&c, 1, MR_SUITE_AES_CM_128_HMAC_SHA1_80);
	c.mki_len = 9;
	assert_int_equal(mr_sdes_print(&c, 0, buf, sizeof(buf), &len), -EINVAL);
	c.mki_len = 0;
	c.suite = MR_SUITE_NONE;
	assert_int_equal(mr_sdes_print(&c, 0, buf, sizeof(buf), &len), -EINVAL);
	c.suite = MR_SUITE_MAX;
	assert_int_equal(mr_sdes_print(&c, 0, buf, sizeof(buf), &len), -EINVAL);
}

/* ---- keys ------------------------------------------------------------- */

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void
test_generate_and_wipe(void **state)
{
	struct mr_sdes_crypto a, b;
	struct mr_key_gen kg;

	(void)state;
	assert_int_equal(mr_sdes_generate(MR_SUITE_AEAD_AES_256_GCM, 12, &a), 0);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AEAD_AES_256_GCM, 12, &b), 0);
	assert_int_equal(a.tag, 12);
	assert_int_equal(a.suite, MR_SUITE_AEAD_AES_256_GCM);
	assert_int_equal(a.key_len, 32);
	assert_int_equal(a.salt_len, 12);
	assert_int_equal(a.mki_len, 0);
	assert_true(a.lifetime == 0);
	assert_memory_not_equal(a.key, b.key, 32);
	assert_memory_not_equal(a.salt, b.salt, 12);
	assert_false(all_zero(a.key, 32));
	/* unused tail of the arrays stays zero */
	assert_true(all_zero(a.salt + 12, MR_SALT_MAX_BYTES - 12));

	mr_sdes_to_key_gen(&a, &kg);
	assert_int_equal(kg.suite, MR_SUITE_AEAD_AES_256_GCM);
	assert_int_equal(kg.key_len, 32);
	assert_int_equal(kg.salt_len, 12);
	assert_int_equal(kg.mki_len, 0);
	assert_int_equal(kg.tag, 12);
	assert_memory_equal(kg.key, a.key, 32);
	assert_memory_equal(kg.salt, a.salt, 12);
	assert_true(all_zero(kg.pad, sizeof(kg.pad)));

	mr_sdes_wipe(&a);
	assert_true(all_zero(&a, sizeof(a)));
	mr_sdes_wipe(NULL);
	mr_sdes_wipe(&b);

	assert_int_equal(mr_sdes_generate(MR_SUITE_NONE, 1, &a), -EINVAL);
	assert_int_equal(mr_sdes_generate(MR_SUITE_MAX, 1, &a), -EINVAL);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AEAD_AES_128_GCM, 0, &a), -EINVAL);
	assert_int_equal(mr_sdes_generate(MR_SUITE_AEAD_AES_128_GCM, MR_SDES_TAG_MAX + 1, &a), -EINVAL);

	/* an MKI reaches the key generation big-endian, as parsed */
	assert_int_equal(parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|66051:3", MR_SDES_F_MKI,
			       &a, NULL, 0), 0);
	mr_sdes_to_key_gen(&a, &kg);
	assert_int_equal(kg.mki_len, 3);
	assert_memory_equal(kg.mki, "\x01\x02\x03", 3);
	assert_memory_equal(kg.key, "\x01\x02\x03\x04", 4);
	assert_int_equal(kg.salt[0], 17);
}

/* ---- negotiation: answering an offer ---------------------------------- */

static void
test_prefs(void **state)
{
	struct mr_sdes_prefs p;

	(void)state;
	mr_sdes_prefs_default(&p);
	assert_int_equal(mr_sdes_prefs_check(&p), 0);
	assert_int_equal(p.n_suites, 6);
	assert_int_equal(p.suites[0], MR_SUITE_AEAD_AES_256_GCM);
	assert_int_equal(p.suites[5], MR_SUITE_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(p.flags, 0);
	p.suites[1] = p.suites[0];
	assert_int_equal(mr_sdes_prefs_check(&p), -EINVAL);
	mr_sdes_prefs_default(&p);
	p.suites[2] = MR_SUITE_NONE;
	assert_int_equal(mr_sdes_prefs_check(&p), -EINVAL);
	p.suites[2] = MR_SUITE_MAX;
	assert_int_equal(mr_sdes_prefs_check(&p), -EINVAL);
	p.n_suites = 0;
	assert_int_equal(mr_sdes_prefs_check(&p), -EINVAL);
	p.n_suites = MR_SUITE_MAX;
	assert_int_equal(mr_sdes_prefs_check(&p), -EINVAL);
	assert_int_equal(mr_sdes_prefs_check(NULL), -EINVAL);
}

static const char *const offer3[] = {
	"1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY_PS1U,
	"2 AES_CM_128_HMAC_SHA1_32 inline:" RFC_KEY_WVNF,
	"7 AEAD_AES_256_GCM inline:" KEY44,
};

/* Answer @lines with @prefs; the chosen index, checking the answer's shape. */
static size_t
answer(const struct mr_sdes_prefs *prefs, const char *const *lines, size_t n)
{
	struct mr_sdes_crypto remote, local, parsed;
	char err[256] = "x", line[MR_SDES_LINE_MAX];
	size_t idx = SIZE_MAX, len;
	int r;

	r = mr_sdes_answer(prefs, lines, n, &idx, &remote, &local, err, sizeof(err));
	if (r != 0)
		fail_msg("answer: %d \"%s\"", r, err);
	assert_string_equal(err, "");
	assert_true(idx < n);
	/* remote is exactly the offered line; local echoes its tag and suite */
	assert_int_equal(mr_sdes_parse(lines[idx], strlen(lines[idx]), prefs->flags, &parsed, NULL, 0), 0);
	assert_memory_equal(&remote, &parsed, sizeof(parsed));
	assert_int_equal(local.tag, remote.tag);
	assert_int_equal(local.suite, remote.suite);
	assert_int_equal(local.key_len, remote.key_len);
	assert_int_equal(local.salt_len, remote.salt_len);
	assert_memory_not_equal(local.key, remote.key, local.key_len);
	assert_int_equal(local.mki_len, 0);
	/* and prints as the answer line */
	assert_int_equal(mr_sdes_print(&local, 0, line, sizeof(line), &len), 0);
	assert_int_equal(strtoul(line, NULL, 10), remote.tag);
	mr_sdes_wipe(&remote);
	mr_sdes_wipe(&local);
	mr_sdes_wipe(&parsed);
	return idx;
}

static void
test_answer_preference(void **state)
{
	struct mr_sdes_prefs p;

	(void)state;
	mr_sdes_prefs_default(&p);
	assert_int_equal(answer(&p, offer3, 3), 2);     /* GCM-256 first in mrelay's order */

	/* the relay's order wins over the offer's */
	p.n_suites = 2;
	p.suites[0] = MR_SUITE_AES_CM_128_HMAC_SHA1_32;
	p.suites[1] = MR_SUITE_AES_CM_128_HMAC_SHA1_80;
	assert_int_equal(answer(&p, offer3, 3), 1);
	/* unless the offerer's order is asked for (prefs still filter) */
	p.flags = MR_SDES_F_OFFERER_ORDER;
	assert_int_equal(answer(&p, offer3, 3), 0);
	p.suites[0] = MR_SUITE_AEAD_AES_256_GCM;
	p.n_suites = 1;
	assert_int_equal(answer(&p, offer3, 3), 2);
	mr_sdes_prefs_default(&p);
	p.flags = MR_SDES_F_OFFERER_ORDER;
	assert_int_equal(answer(&p, offer3, 3), 0);

	/* one suite offered twice: the first line of it */
	{
		static const char *const twice[] = {
			"5 AES_CM_128_HMAC_SHA1_80 inline:" KEY30,
			"6 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY_PS1U,
		};

		mr_sdes_prefs_default(&p);
		assert_int_equal(answer(&p, twice, 2), 0);
	}
}

/* Lines the relay cannot take are skipped; the best remaining one wins. */
static void
test_answer_skips(void **state)
{
	static const char *const lines[] = {
		"1 AEAD_AES_256_GCM inline:" KEY44 "|2^20",                  /* lifetime */
		"2 F8_128_HMAC_SHA1_80 inline:" KEY30,                       /* unsupported */
		"3 AEAD_AES_128_GCM inline:" KEY30,                          /* malformed */
		"4 AES_256_CM_HMAC_SHA1_80 inline:" KEY46 " UNENCRYPTED_SRTP",
		"5 AES_CM_128_HMAC_SHA1_32 inline:" KEY30 " -vendor-thing",
		"6 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 "|1:4",            /* MKI */
	};
	struct mr_sdes_prefs p;

	(void)state;
	mr_sdes_prefs_default(&p);
	assert_int_equal(answer(&p, lines, ARRAY_SIZE(lines)), 4);
	p.flags = MR_SDES_F_MKI;
	assert_int_equal(answer(&p, lines, ARRAY_SIZE(lines)), 5);     /* _80 before _32 */
	p.flags = MR_SDES_F_MKI | MR_SDES_F_OFFERER_ORDER;
	assert_int_equal(answer(&p, lines, ARRAY_SIZE(lines)), 4);
}

static void
test_answer_failures(void **state)
{
	struct mr_sdes_crypto remote, local;
	struct mr_sdes_prefs p;
	char err[256];
	size_t idx = 77;

	(void)state;
	mr_sdes_prefs_default(&p);
	memset(&remote, 0x5c, sizeof(remote));

	assert_int_equal(mr_sdes_answer(&p, offer3, 0, &idx, &remote, &local, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no a=crypto line in the offer");

	/* RFC 4568's example offer: a 2^20 lifetime and a 32-byte MKI on every line */
	{
		static const char *const rfc[] = {
			"1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY_PS1U "|2^20|1:32",
			"2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32",
		};

		assert_int_equal(mr_sdes_answer(&p, rfc, 2, &idx, &remote, &local, err, sizeof(err)),
				 -ENOTSUP);
		assert_string_equal(err, "no acceptable a=crypto line (a=crypto 1: a key lifetime is not "
				    "supported: the relay does not re-key on its own)");
	}

	/* the reason shown is the first line whose suite the relay wanted */
	{
		static const char *const lines[] = {
			"1 F8_128_HMAC_SHA1_80 inline:" KEY30,
			"2 FOO inline:" KEY30,
			"3 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 " KDR=4",
			"4 AES_CM_128_HMAC_SHA1_32 inline:" KEY30 " UNAUTHENTICATED_SRTP",
		};

		assert_int_equal(mr_sdes_answer(&p, lines, 4, &idx, &remote, &local, err, sizeof(err)),
				 -ENOTSUP);
		assert_string_equal(err, "no acceptable a=crypto line (a=crypto 3: a key derivation "
				    "rate (KDR) is not supported)");
		/* nothing wanted at all: the first line's reason */
		assert_int_equal(mr_sdes_answer(&p, lines, 2, &idx, &remote, &local, err, sizeof(err)),
				 -ENOTSUP);
		assert_string_equal(err, "no acceptable a=crypto line (a=crypto 1: crypto-suite "
				    "F8_128_HMAC_SHA1_80 is not supported)");
	}

	/* suites the configuration leaves out */
	p.n_suites = 1;
	p.suites[0] = MR_SUITE_AEAD_AES_128_GCM;
	assert_int_equal(mr_sdes_answer(&p, offer3, 3, &idx, &remote, &local, err, sizeof(err)), -ENOTSUP);
	assert_string_equal(err, "no acceptable a=crypto line (a=crypto 1: crypto-suite "
			    "AES_CM_128_HMAC_SHA1_80 is not enabled)");

	/* two lines with one tag make the answer ambiguous */
	mr_sdes_prefs_default(&p);
	{
		static const char *const dup[] = {
			"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY30,
			"1 AES_CM_128_HMAC_SHA1_32 inline:" KEY30,
		};

		static const char *const dup_refused[] = {
			"3 F8_128_HMAC_SHA1_80 inline:" KEY30,
			"4 AES_CM_128_HMAC_SHA1_80 inline:" KEY30,
			"3\tAES_CM_128_HMAC_SHA1_32 inline:" KEY30 "|2^20",
		};

		assert_int_equal(mr_sdes_answer(&p, dup, 2, &idx, &remote, &local, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "a=crypto tag 1 appears twice");
		/* also when one of them could not be taken anyway */
		assert_int_equal(mr_sdes_answer(&p, dup_refused, 3, &idx, &remote, &local, err,
						sizeof(err)), -EINVAL);
		assert_string_equal(err, "a=crypto tag 3 appears twice");
	}

	/* a NULL line is skipped like a bad one */
	{
		const char *holes[] = { NULL, "2 AES_CM_128_HMAC_SHA1_80 inline:" KEY30 };

		assert_int_equal(answer(&p, holes, 2), 1);
	}

	/* bad preferences */
	p.n_suites = 0;
	assert_int_equal(mr_sdes_answer(&p, offer3, 3, &idx, &remote, &local, err, sizeof(err)), -EINVAL);

	/* nothing written on failure */
	assert_int_equal(idx, 77);
	assert_int_equal(remote.tag, 0x5c5c5c5c);
}

/* Lines past MR_SDES_MAX_LINES are not looked at. */
static void
test_answer_max_lines(void **state)
{
	const char *lines[MR_SDES_MAX_LINES + 1];
	char bad[MR_SDES_MAX_LINES][64];
	struct mr_sdes_crypto remote, local;
	struct mr_sdes_prefs p;
	size_t i, idx;

	(void)state;
	for (i = 0; i < MR_SDES_MAX_LINES; i++) {
		snprintf(bad[i], sizeof(bad[i]), "%zu FOO inline:x", i + 1);
		lines[i] = bad[i];
	}
	lines[MR_SDES_MAX_LINES] = "99 AES_CM_128_HMAC_SHA1_80 inline:" KEY30;
	mr_sdes_prefs_default(&p);
	assert_int_equal(mr_sdes_answer(&p, lines, MR_SDES_MAX_LINES + 1, &idx, &remote, &local, NULL, 0),
			 -ENOTSUP);
	lines[MR_SDES_MAX_LINES - 1] = lines[MR_SDES_MAX_LINES];
	assert_int_equal(answer(&p, lines, MR_SDES_MAX_LINES), MR_SDES_MAX_LINES - 1);
}

/* ---- negotiation: the relay's own offer and its answer ------------------ */

static void
test_offer_and_accept(void **state)
{
	struct mr_sdes_crypto offered[MR_SUITE_MAX], peer, remote;
	struct mr_sdes_prefs p;
	char line[MR_SDES_LINE_MAX], err[200];
	const char *lines[2];
	size_t n = 0, i, len, idx = 99;

	(void)state;
	mr_sdes_prefs_default(&p);
	assert_int_equal(mr_sdes_offer(&p, offered, ARRAY_SIZE(offered), &n), 0);
	assert_int_equal(n, 6);
	for (i = 0; i < n; i++) {
		assert_int_equal(offered[i].tag, i + 1);
		assert_int_equal(offered[i].suite, p.suites[i]);
	}
	/* fewer slots than suites: the most preferred ones */
	assert_int_equal(mr_sdes_offer(&p, offered, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(mr_sdes_offer(&p, offered, ARRAY_SIZE(offered), &n), 0);

	/* the peer picks tag 4 (AES_CM_128_HMAC_SHA1_80) and answers with its own key */
	assert_int_equal(mr_sdes_generate(MR_SUITE_AES_CM_128_HMAC_SHA1_80, 4, &peer), 0);
	assert_int_equal(mr_sdes_print(&peer, 0, line, sizeof(line), &len), 0);
	lines[0] = line;
	assert_int_equal(mr_sdes_accept_answer(offered, n, 0, lines, 1, &idx, &remote, err, sizeof(err)), 0);
	assert_int_equal(idx, 3);
	assert_memory_equal(&remote, &peer, sizeof(peer));

	/* an answer may not carry a suite other than the tag's */
	peer.suite = MR_SUITE_AES_CM_128_HMAC_SHA1_32;
	assert_int_equal(mr_sdes_print(&peer, 0, line, sizeof(line), &len), 0);
	assert_int_equal(mr_sdes_accept_answer(offered, n, 0, lines, 1, &idx, &remote, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "the answer's a=crypto tag 4 has AES_CM_128_HMAC_SHA1_32, "
			    "but AES_CM_128_HMAC_SHA1_80 was offered");
	/* nor a tag never offered */
	peer.tag = 7;
	assert_int_equal(mr_sdes_print(&peer, 0, line, sizeof(line), &len), 0);
	assert_int_equal(mr_sdes_accept_answer(offered, n, 0, lines, 1, &idx, &remote, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "the answer's a=crypto tag 7 was not offered");
	/* one line only, and one there must be */
	lines[1] = line;
	assert_int_equal(mr_sdes_accept_answer(offered, n, 0, lines, 2, &idx, &remote, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "the answer has 2 a=crypto lines; RFC 4568 allows one");
	assert_int_equal(mr_sdes_accept_answer(offered, n, 0, lines, 0, &idx, &remote, err, sizeof(err)),
			 -ENOENT);
	/* policy applies to answers too */
	lines[0] = "1 AEAD_AES_256_GCM inline:" KEY44 "|5:1";
	assert_int_equal(mr_sdes_accept_answer(offered, n, 0, lines, 1, &idx, &remote, err, sizeof(err)),
			 -ENOTSUP);
	assert_string_equal(err, "an MKI is not supported");
	assert_int_equal(mr_sdes_accept_answer(offered, n, MR_SDES_F_MKI, lines, 1, &idx, &remote, err,
					       sizeof(err)), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(remote.mki_len, 1);
	lines[0] = "1 AEAD_AES_256_GCM inline:" KEY30;
	assert_int_equal(mr_sdes_accept_answer(offered, n, 0, lines, 1, &idx, &remote, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "AEAD_AES_256_GCM needs 44 bytes of key and salt, got 30");

	for (i = 0; i < n; i++)
		mr_sdes_wipe(&offered[i]);
	mr_sdes_wipe(&peer);
	mr_sdes_wipe(&remote);

	p.n_suites = 0;
	assert_int_equal(mr_sdes_offer(&p, offered, ARRAY_SIZE(offered), &n), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suites),
		cmocka_unit_test(test_rfc4568_examples),
		cmocka_unit_test(test_every_suite_round_trip),
		cmocka_unit_test(test_good_variants),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_short_err_buffer),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_generate_and_wipe),
		cmocka_unit_test(test_prefs),
		cmocka_unit_test(test_answer_preference),
		cmocka_unit_test(test_answer_skips),
		cmocka_unit_test(test_answer_failures),
		cmocka_unit_test(test_answer_max_lines),
		cmocka_unit_test(test_offer_and_accept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
