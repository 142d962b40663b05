/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_TEST_SRTP_VECTORS_H
#define MR_TEST_SRTP_VECTORS_H
#include <stddef.h>
#include <stdint.h>

#include <mrelay/leg.h>

/*
 * Known answers of the SRTP unit tests, kept as the RFCs print them (hex,
 * spaces allowed) so each can be checked against its source by eye. The
 * wrapper's test and the engine's hold mrelay to the same ones. The
 * functions fail the running cmocka test on malformed hex.
 */

/* RFC 3711 B.3 and RFC 6188 7.2: master key and salt. */
#define MR_TEST_RFC3711_MK "E1F97A0D3E018BE0D64FA32C06DE4139"
#define MR_TEST_RFC3711_MS "0EC675AD498AFEEBB6960B3AABE6"
#define MR_TEST_RFC6188_MK "f0f04914b513f2763a1b1fa130f10e29 98f6f6e43e4309d1e622a0e332b9f1b6"
#define MR_TEST_RFC6188_MS "3b04803de51ee7c96423ab5b78d2"

/* RFC 7714 16-17: session keys and salt, SRTP and SRTCP packets before and after. */
#define MR_TEST_RFC7714_K128 "000102030405060708090a0b0c0d0e0f"
#define MR_TEST_RFC7714_K256 "000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f"
#define MR_TEST_RFC7714_SALT "517569642070726f2071756f"     /* "Quid pro quo" */
#define MR_TEST_RFC7714_RTP "8040f17b 8041f8d3 5501a0b2" \
	"47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573"
#define MR_TEST_RFC7714_RTP_128 "8040f17b 8041f8d3 5501a0b2" \
	"f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833" \
	"899d7f27 beb16a91 52cf765e e4390cce"
#define MR_TEST_RFC7714_RTP_256 "8040f17b 8041f8d3 5501a0b2" \
	"32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b" \
	"7aa3db36 dfffd6b0 f9bb7878 d7a76c13"
#define MR_TEST_RFC7714_RTCP "81c8000d 4d617273" \
	"4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef" \
	"deadbeef"
#define MR_TEST_RFC7714_RTCP_128 "81c8000d 4d617273" \
	"63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1 730d6fda 4ce09b46" \
	"86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4"
#define MR_TEST_RFC7714_RTCP_256 "81c8000d 4d617273" \
	"d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1 110555be 8415f658" \
	"c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4"

/* Hex to at most @cap bytes, whitespace ignored; returns the byte count. */
size_t mr_test_unhex(const char *s, uint8_t *out, size_t cap);

/* Fails the test unless @got[0..len) is @want_hex (at most MR_TEST_HEX_MAX bytes). */
#define MR_TEST_HEX_MAX 1600u
void mr_test_assert_hex(const uint8_t *got, size_t len, const char *want_hex);

/* mr_test_key() with the key and salt given in hex, of the suite's exact lengths. */
struct mr_key_gen mr_test_key_hex(uint8_t suite, uint8_t mki_len, const char *key_hex,
				  const char *salt_hex);

#endif
